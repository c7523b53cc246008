"""Percent-encoded path ids through the local runtime's API Gateway emulation (local/api_server.py) and the
real serve_api: the server passes `path` encoded and `pathParameters` decoded, as API Gateway REST does, and
the id sent encoded is the id (ccaas.api.app decodes the resolver's path parameters)."""
from __future__ import annotations

import pytest

from local.api_server import ApiGateway
from local.testing import api
from tests.local.test_api_server import FakeLambda, build_api, call


def test_the_event_has_path_encoded_and_path_parameters_decoded_as_api_gateway_rest() -> None:
    gw = ApiGateway(build_api(), FakeLambda(), host="127.0.0.1:1")
    _, _, event = call(gw, "GET", "/v1/contacts/q4%3Arenewals", "Bearer allow-demo")
    assert event["path"] == "/contacts/q4%3Arenewals" and event["requestContext"]["path"] == "/v1/contacts/q4%3Arenewals"
    assert event["pathParameters"] == {"contact_id": "q4:renewals"}
    _, _, event = call(gw, "GET", "/v1/customers/ana%40example.com", "Bearer allow-demo")
    assert event["path"] == "/customers/ana%40example.com" and event["pathParameters"] == {"proxy": "customers/ana@example.com"}


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_an_encoded_id_over_http_is_the_same_id(runtime) -> None:
    admin = api(runtime, "demo", role="admin")
    status, queue = admin.call("PUT", "/queues/q4%3Alocal", {"name": "Q4 local"})
    assert status == 200 and queue["queue_id"] == "q4:local", queue
    integration = api(runtime, "demo", role="integration")  # PUT /customers/{id} is the integration's
    status, customer = integration.call("PUT", "/customers/ana%40example.com", {"name": "Ana"})
    assert status == 200 and customer["customer_id"] == "ana@example.com", customer
    status, read = api(runtime, "demo", role="supervisor").call("GET", "/customers/ana%40example.com")
    assert status == 200 and read["name"] == "Ana", read
    status, refused = admin.call("PUT", "/queues/a%2Fb", {"name": "slash"})
    assert status == 422 and refused["field"] == "queue_id", refused
