"""Session 38's analytics findings through the real API handler on moto: PUT /settings/analytics names the key at
fault (a `max_edits` none of a rule's phrases can take, a duplicated rule or category name) and stores nothing; a
chat uploaded in our segment format is analysed as a chat; a message in superscript digits is stored redacted."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

THREAT = {"kind": "prohibited_phrase", "name": "threat", "phrases": ["we will sue you"]}
CATEGORY = {"name": "billing", "matchers": [{"phrases": ["bill"]}]}


@pytest.mark.parametrize(("settings", "field", "said"), [
    ({"compliance": [{**THREAT, "max_edits": 2}]}, "compliance[0].max_edits", "2 edits need a phrase of at least 5"),
    ({"compliance": [THREAT, {**THREAT, "phrases": ["see you in court"]}]}, "compliance",
     "compliance[1] has the name of compliance[0]"),
    ({"categories": [CATEGORY, CATEGORY]}, "categories", "categories[1] has the name of categories[0]"),
])  # fmt: skip
def test_settings_a_rule_set_cannot_hold_are_refused_naming_the_key(tenant, env, settings, field, said):
    before = api("GET", "/settings/analytics", tenant.id)[1]
    status, body = api("PUT", "/settings/analytics", tenant.id, settings)
    assert status == 422, body
    assert body["field"] == field and said in body["message"], body
    assert "we will sue you" not in body["message"]  # the rule's phrases are not echoed
    assert api("GET", "/settings/analytics", tenant.id)[1] == before
    status, body = api("PUT", "/settings/analytics", tenant.id, {"compliance": [{**THREAT, "max_edits": 1}]})
    assert status == 200 and body["compliance"][0]["max_edits"] == 1


def _chat(tenant) -> str:
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, contact = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})
    assert status == 201, contact
    return contact["contact_id"]


def test_a_chat_uploaded_as_segments_is_analysed_as_a_chat(tenant, env):
    chat = _chat(tenant)
    segments = [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1_000, "text": "Hello, how can I help?"},
                {"speaker": "CUSTOMER", "begin_ms": 1_500, "end_ms": 2_000, "text": "card ⁴¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹"}]
    status, summary = api("POST", f"/contacts/{chat}/transcript", tenant.id, {"segments": segments})
    assert status == 201, summary
    status, analysis = api("GET", f"/contacts/{chat}/analysis", tenant.id, role="supervisor")
    assert status == 200 and analysis["channel"] == "CHAT"
    disclosure = next(c for c in analysis["compliance"] if c["rule"] == "recording_disclosure")
    assert disclosure["status"] == "NOT_APPLICABLE"
    assert analysis["segments"][1]["text"] == "card [CARD]" and analysis["redaction"]["counts"] == {"CARD": 1}
