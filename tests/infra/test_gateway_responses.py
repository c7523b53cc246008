"""API Gateway's own 4xx (the authorizer's 401 and 403, throttling, an unknown path) answer the API's documented error
body, {"error", "message"} (ErrorBody), not API Gateway's {"message"} / {"Message"}."""
from __future__ import annotations

import json

import pytest

from ccaas.api.errors import ErrorBody
from local.api_server import _render_gateway_template


@pytest.mark.parametrize("configured, actual, message, code", [
    ("UNAUTHORIZED", "UNAUTHORIZED", "Unauthorized", "unauthorized"),
    ("ACCESS_DENIED", "ACCESS_DENIED", 'User is not authorized with an "explicit" deny', "forbidden"),
    ("DEFAULT_4XX", "THROTTLED", "Too Many Requests", "THROTTLED"),
])
def test_the_gateways_own_4xx_carry_the_documented_error_body(synth, configured, actual, message, code):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()}
    template = responses[configured]["ResponseTemplates"]["application/json"]
    body = json.loads(_render_gateway_template(template, message, actual))  # as API Gateway substitutes it
    assert ErrorBody.model_validate(body).model_dump(exclude_none=True) == {"error": code, "message": message}
