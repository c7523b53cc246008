"""Tenant rules through the real API handler on moto: a pattern RE2 cannot compile and rules past their
size limits are answered 422 naming what is wrong; a backtracking-prone pattern is accepted and a chat
message that would take Python's re seconds is redacted at once."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_a_pattern_re2_cannot_compile_is_a_422_naming_it(tenant, env):
    before = api("GET", "/settings/analytics", tenant.id)[1]
    status, body = api("PUT", "/settings/analytics", tenant.id, {"redaction": {"custom_patterns": {"claim_ref": r"(CLM)-\1"}}})
    assert status == 422, body
    assert "claim_ref" in body["message"] and "does not compile with RE2" in body["message"]
    assert body["field"].startswith("redaction")
    assert api("GET", "/settings/analytics", tenant.id)[1] == before


@pytest.mark.parametrize(
    ("path", "rules", "field"),
    [
        ("/settings/analytics", {"categories": [{"name": f"c{i}", "matchers": [{"phrases": ["x"]}]} for i in range(101)]}, "categories"),
        ("/settings/analytics", {"redaction": {"custom_patterns": {"p": "x" * 501}}}, "redaction"),
        ("/alerts/rules", {"long_wait": {"threshold_s": 86_401}}, "long_wait"),
        ("/settings/kpis", {"fcr_window_days": 91}, "fcr_window_days"),
    ],
)
def test_rules_past_their_limits_are_422(tenant, env, path, rules, field):
    status, body = api("PUT", path, tenant.id, rules)
    assert status == 422, body
    assert body["field"].startswith(field)


def test_a_backtracking_pattern_redacts_chat_messages_at_once(tenant, env):
    status, body = api("PUT", "/settings/analytics", tenant.id, {"redaction": {"custom_patterns": {"burst": "(a+)+$"}}})
    assert status == 200, body
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, contact = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales", "customer_id": "cust-1"})
    assert status == 201, contact
    cid = contact["contact_id"]
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": cid, "task_token": "tok"}, context())
    env("serve_api")
    assert api("POST", f"/agents/ana/contacts/{cid}/accept", tenant.id)[0] == 200
    for text in ("a" * 28 + "!", "my code is aaaa"):  # the first one: ~15 s in Python's re
        status, stored = api("POST", f"/contacts/{cid}/messages", tenant.id, {"participant_role": "CUSTOMER", "content": text})
        assert status == 201, stored
    messages = api("GET", f"/contacts/{cid}/messages", tenant.id)[1]
    assert [m["content"] for m in messages] == ["a" * 28 + "!", "my code is [BURST]"]
