"""Real-time guidance through serve_api on moto: prompts in the live transcript response, kept with the
contact's live state (DynamoDB) and listed by GET /contacts/{id}/guidance (an agent: its own contact
only), the rules under /settings/guidance (admin writes, supervisors read), two tenants apart."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, QueueAssignment
from ccaas.usecases import admin
from tests.lambda_harness import api, connected_contact

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_prompts_are_returned_kept_and_listed_for_the_contacts_agent_only(tenant, env):
    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="ben", name="Ben", queues=(QueueAssignment(queue_id="sales"),)))
    cid = connected_contact(tenant, env)
    segments = [
        {"speaker": "AGENT", "begin_ms": 0, "end_ms": 4000, "text": "Thanks for calling"},
        {"speaker": "CUSTOMER", "begin_ms": 4000, "end_ms": 16000, "text": "This is ridiculous, I want to speak to a manager"},
    ]
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": segments})
    assert status == 200, body
    assert sorted(p["kind"] for p in body["prompts"]) == ["disclosure_due", "escalation"]
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id,
                       {"segments": [{"speaker": "AGENT", "begin_ms": 16500, "end_ms": 19000, "text": "I understand. This call may be recorded."}]})
    assert status == 200 and body["prompts"] == []

    status, listed = api("GET", f"/contacts/{cid}/guidance", tenant.id, role="agent", agent_id="ana")
    assert status == 200, listed
    assert sorted((p["kind"], p["followed"]) for p in listed) == [("disclosure_due", True), ("escalation", True)]
    assert api("GET", f"/contacts/{cid}/guidance", tenant.id, role="supervisor")[1] == listed
    assert api("GET", f"/contacts/{cid}/guidance", tenant.id, role="admin")[0] == 200
    assert api("GET", f"/contacts/{cid}/guidance", tenant.id, role="agent", agent_id="ben")[0] == 404  # not ben's
    assert api("GET", f"/contacts/{cid}/guidance", tenant.id, role="integration")[0] == 403
    assert api("GET", f"/contacts/{cid}/guidance", f"{tenant.id}z", role="admin")[0] == 404  # another tenant's


def test_guidance_rules_defaults_put_validation_and_roles(tenant, env):
    status, rules = api("GET", "/settings/guidance", tenant.id)
    assert status == 200 and rules["enabled"] and {r["kind"] for r in rules["rules"]} == {
        "disclosure_due", "escalation", "sentiment_drop", "silence"}
    assert api("GET", "/settings/guidance", tenant.id, role="supervisor")[0] == 200
    mine = {"rules": [{"kind": "escalation", "name": "chargeback", "phrases": ["chargeback"], "text": "Offer a refund review."}]}
    assert api("PUT", "/settings/guidance", tenant.id, mine, role="supervisor")[0] == 403
    status, saved = api("PUT", "/settings/guidance", tenant.id, mine)
    assert status == 200 and saved["rules"][0]["name"] == "chargeback"
    assert api("GET", "/settings/guidance", tenant.id)[1] == saved
    assert api("GET", "/settings/guidance", f"{tenant.id}z")[1]["rules"] != saved["rules"]  # defaults elsewhere
    too_long = {"rules": [{"kind": "silence", "name": "s", "text": "x" * 501}]}
    assert api("PUT", "/settings/guidance", tenant.id, too_long)[0] == 422
    assert api("PUT", "/settings/guidance", tenant.id, {"rules": [], "unknown": 1})[0] == 422

    cid = connected_contact(tenant, env)
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id,
                       {"segments": [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 30000, "text": "a chargeback, this is ridiculous"}]})
    assert status == 200 and [(p["rule"], p["text"]) for p in body["prompts"]] == [("chargeback", "Offer a refund review.")]
