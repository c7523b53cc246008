"""GET /contacts/{id}/routing answers in pages (L27 finding 2): every decision at once passed Lambda's 6 MB
answer for a contact re-offered without end (reservation.max_declines), a 502 on AWS."""
from __future__ import annotations

import json

import pytest

from ccaas.bootstrap import dependencies
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000


def test_a_contacts_decisions_come_in_pages_that_fit_the_response(tenant):
    cid = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[1]["contact_id"]
    deps = dependencies()
    for n in range(24):  # ~7 MB together, each well under DynamoDB's 400 KB item
        deps.store.record_decision(tenant.id, cid, {"kind": "select_agent", "outcome": "wait", "at": T0 + n,
                                                    "why": f"{n} " + "x" * 300_000})
    status, first, headers = api_response("GET", f"/contacts/{cid}/routing", tenant.id)
    size = len(json.dumps(json.dumps(first)))  # as the proxy response carries the body
    assert status == 200 and size < 4.5 * 2**20, (len(first), size)
    link = headers["Link"][0]
    assert link.startswith(f"</v1/contacts/{cid}/routing?after=") and link.endswith('rel="next"'), link
    after = link[link.index("after=") + 6:link.index("&")].replace("%23", "#")
    status, rest, headers = api_response("GET", f"/contacts/{cid}/routing", tenant.id, query={"after": after})
    assert status == 200 and "Link" not in headers
    assert [d["at_ms"] for d in first + rest] == [T0 + n for n in range(24)]  # oldest first, each once

    status, one, headers = api_response("GET", f"/contacts/{cid}/routing", tenant.id, query={"limit": "1"})
    assert status == 200 and [d["at_ms"] for d in one] == [T0] and "Link" in headers


@pytest.mark.parametrize("query", [{"after": "c1"}, {"after": "1795737000000#zz"}, {"limit": "0"}, {"limit": "1001"}])
def test_a_bad_page_request_is_a_422_naming_the_parameter(tenant, query):
    cid = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[1]["contact_id"]
    status, body = api("GET", f"/contacts/{cid}/routing", tenant.id, query=query)
    assert status == 422 and any(d["loc"][-1] in query for d in body["detail"]), body


def test_the_routing_page_is_documented_with_its_link_header(tenant):
    status, document = api("GET", "/openapi.json", None)
    assert status == 200
    operation = document["paths"]["/contacts/{contact_id}/routing"]["get"]
    ok = operation["responses"]["200"]
    assert "Link" in ok["headers"]
    assert ok["content"]["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/DecisionView"}
    assert {"after", "limit"} <= {p["name"] for p in operation["parameters"]}
