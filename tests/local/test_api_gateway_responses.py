"""The local gateway answers its own 4xx (authorizer 401/403, an unknown path) through the API's gateway responses as
API Gateway does: the template's body, `$context.error.*` substituted (tests/infra/test_gateway_responses.py checks
the stack's templates give the documented error body)."""
from __future__ import annotations

from local.api_server import ApiGateway
from tests.local.test_api_server import FakeLambda, build_api, call

TEMPLATE = '{"error":"$context.error.responseType","message":$context.error.messageString}'


def _gateway(**responses: str) -> ApiGateway:
    deployment = build_api()
    api = deployment.rest_api
    for response_type, template in responses.items():
        api.gateway_responses[response_type] = {"ResponseType": response_type,
                                                "ResponseTemplates": {"application/json": template}}
    return ApiGateway(deployment, FakeLambda(), host="127.0.0.1:1")


def test_the_authorizers_401_and_403_take_the_apis_body() -> None:
    gw = _gateway(UNAUTHORIZED='{"error":"unauthorized","message":$context.error.messageString}',
                  ACCESS_DENIED='{"error":"forbidden","message":$context.error.messageString}')
    status, headers, body = call(gw, "GET", "/v1/contacts/c1")
    assert (status, body) == (401, {"error": "unauthorized", "message": "Unauthorized"})
    assert headers["x-amzn-ErrorType"] == "UnauthorizedException"
    status, _, body = call(gw, "POST", "/v1/contacts", "Bearer deny", b"{}")
    assert (status, body) == (403, {"error": "forbidden",
                                    "message": "User is not authorized to access this resource with an explicit deny"})


def test_default_4xx_covers_the_other_types_with_their_response_type() -> None:
    gw = _gateway(DEFAULT_4XX=TEMPLATE)
    status, _, body = call(gw, "GET", "/v1/")  # the root has no method
    assert (status, body) == (403, {"error": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"})
    status, _, body = call(gw, "GET", "/v1/contacts/c1", "Bearer wrong")
    assert (status, body) == (401, {"error": "UNAUTHORIZED", "message": "Unauthorized"})
    status, _, body = call(gw, "GET", "/v1/contacts/c1", "Bearer crash")
    assert status == 500 and body == {"message": None}  # a 5xx keeps API Gateway's body (no DEFAULT_5XX here)
