"""Percent-encoded path ids through serve_api: API Gateway REST passes `path` as the client sent it
(encodeURIComponent("q4:renewals") is "q4%3Arenewals"), and the resolver matches `path`; an id the pattern
allows is the same id encoded or not, for every route and the role check alike (ccaas.api.app decodes the
route's path parameters once). An encoded `/` is still not an id."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def encoded(value: str) -> str:
    """encodeURIComponent's answer, plus the first character encoded too (RFC 3986 allows it)."""
    return f"%{ord(value[0]):02X}" + quote(value[1:], safe="")


def test_queue_agent_and_customer_ids_sent_encoded_are_the_ids(tenant):
    t = tenant.id
    status, queue = api("PUT", f"/queues/{encoded('q4:vip')}", t, {"name": "VIP"})
    assert status == 200 and queue["queue_id"] == "q4:vip", queue
    assert "q4:vip" in [q["queue_id"] for q in api("GET", "/queues", t)[1]]

    status, agent = api("PUT", f"/agents/{encoded('ben.b:1')}", t,
                        {"name": "Ben", "queues": [{"queue_id": "q4:vip"}]})
    assert status == 200 and agent["agent_id"] == "ben.b:1", agent
    assert api("GET", "/agents/ben.b:1", t)[1]["agent_id"] == "ben.b:1"
    # the role check reads the decoded id: the agent itself may read its own record, sent encoded
    status, own = api("GET", f"/agents/{encoded('ben.b:1')}", t, role="agent", agent_id="ben.b:1")
    assert status == 200 and own["agent_id"] == "ben.b:1", own
    assert api("GET", f"/agents/{encoded('ana')}", t, role="agent", agent_id="ben.b:1")[0] == 403

    status, customer = api("PUT", "/customers/ana%40example.com", t, {"name": "Ana", "tier": "gold"})
    assert status == 200 and customer["customer_id"] == "ana@example.com", customer
    assert api("GET", "/customers/ana@example.com", t)[1]["tier"] == "gold"


def test_a_contact_id_sent_encoded_is_the_contact(tenant):
    status, contact = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    assert status in (200, 201), contact
    status, read = api("GET", f"/contacts/{encoded(contact['contact_id'])}", tenant.id)
    assert status == 200 and read["contact_id"] == contact["contact_id"], read


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/agents/a%2Fb", None), ("PUT", "/queues/..%2F..", {"name": "Up"}), ("GET", "/customers/%F0%9F%98%80", None)])
def test_a_decoded_id_the_pattern_refuses_is_a_422_naming_the_path_parameter(tenant, method, path, body):
    status, answer = api(method, path, tenant.id, body, role="admin")
    assert status == 422, answer
    assert answer["detail"][0]["loc"][0] == "path", answer
