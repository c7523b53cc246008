"""What the OpenAPI document says and what the routes do agree: the routing decisions are documented as
DecisionView records (a Decision with its time as ISO 8601 `at` and epoch-ms `at_ms`) yet answered as stored
but for that time (an old record still reads back), POST /keys takes a `name` that
is a string or left out (never null, as its schema says), and GET /customers says it needs exactly one of
phone, email (OpenAPI cannot say it as a schema) and answers 422 otherwise."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import AgentStatus
from ccaas.usecases.contacts import queue_and_route
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def document(tenant):
    status, doc = api("GET", "/openapi.json", tenant.id)
    assert status == 200
    return doc


def test_routing_decisions_are_documented_as_decisions_and_old_records_still_read(tenant, document):
    from ccaas.api.routes.routing import DecisionView

    answer = document["paths"]["/contacts/{contact_id}/routing"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema["type"] == "array" and schema["items"] == {"$ref": "#/components/schemas/DecisionView"}
    shown = document["components"]["schemas"]["DecisionView"]["properties"]
    assert {"kind", "outcome", "winner", "why", "at", "at_ms"} <= set(shown)
    assert shown["at"]["type"] == "string" and shown["at_ms"]["type"] == "integer"  # README "Times in answers"

    deps = dependencies()
    for agent in deps.store.list_agents(tenant.id):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    status, contact = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    assert status == 201, contact
    queue_and_route(deps, tenant.id, contact["contact_id"], "token")  # the workflow's AwaitAgent step
    status, fresh = api("GET", f"/contacts/{contact['contact_id']}/routing", tenant.id)
    assert status == 200 and fresh, fresh
    assert all(DecisionView.model_validate(d) for d in fresh)  # what is recorded now is what the document says
    assert all(d["at"] == datetime.fromtimestamp(d["at_ms"] / 1000, UTC).isoformat(timespec="milliseconds")
               .replace("+00:00", "Z") for d in fresh), fresh

    old = {"kind": "select_agent", "outcome": "wait", "subject": contact["contact_id"], "at": 1,
           "legacy_note": "from before Decision had `ranking`"}  # no winner, an unknown key: stored as is
    deps.store.record_decision(tenant.id, contact["contact_id"], old)
    status, decisions = api("GET", f"/contacts/{contact['contact_id']}/routing", tenant.id)
    assert status == 200, decisions
    assert {**old, "at": "1970-01-01T00:00:00.001Z", "at_ms": 1} in decisions  # as stored, but for its time


def test_a_key_name_is_a_string_or_left_out_never_null(tenant, document):
    name = document["components"]["schemas"]["NewApiKey"]["properties"]["name"]
    assert name["type"] == "string" and "anyOf" not in name and "default" not in name
    status, body = api("POST", "/keys", tenant.id, {"role": "supervisor", "name": None})
    assert status == 422 and body["field"] == "name", body
    status, body = api("POST", "/keys", tenant.id, {"role": "supervisor"})
    assert status == 201 and body["name"] is None, body
    status, body = api("POST", "/keys", tenant.id, {"role": "supervisor", "name": "wallboard"})
    assert status == 201 and body["name"] == "wallboard", body


@pytest.mark.parametrize("query", [None, {"phone": "+14155550101", "email": "a@example.com"}])
def test_customer_lookup_needs_exactly_one_of_phone_and_email(tenant, document, query):
    operation = document["paths"]["/customers"]["get"]
    assert "exactly one of the query parameters `phone` and `email`" in operation["description"]
    assert all("exactly one of phone, email" in p["description"] for p in operation["parameters"]
               if p["name"] in ("phone", "email"))
    status, body = api("GET", "/customers", tenant.id, query=query)
    assert status == 422 and body["field"] == "phone", body
