"""Outside tests (issue 18, reviewed from outside): what a compliance officer checks, through the API of the
stack deployed into moto — the split FDCPA disclosure, paraphrases and contractions, a combined "within 30 s
AND before the payment request" rule, an automatic-fail form and a supervisor's override, empathy read as
empathy, search by `reason=unclassified` and by a category in another case, rules and forms refused by the
path of the offending key, overlapping and out-of-order segments, and a spoken card number that must not
survive anywhere (GET answers, the receipt, chat messages, every table).

The same checks were run by hand against `python -m local --port 8111 --no-simulate` (a script with
urllib); these tests keep them."""
from __future__ import annotations

import json
import re
import uuid

import boto3
import pytest

from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.handlers.test_history_handlers import serve_chat
from tests.history_data import record_handled_contact
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _seg(speaker: str, begin: int, end: int, text: str) -> dict:
    return {"speaker": speaker, "begin_ms": begin, "end_ms": end, "text": text}


def _contact(tenant_id: str) -> str:
    """A completed contact of ana's in the history (as the post-contact workflow would record it)."""
    contact_id = f"c{uuid.uuid4().hex[:10]}"
    record_handled_contact(tenant_id, contact_id)
    return contact_id


def _analysed(tenant_id: str, segments: list[dict]) -> tuple[str, dict]:
    contact_id = _contact(tenant_id)
    status, summary = api("POST", f"/contacts/{contact_id}/transcript", tenant_id, {"segments": segments})
    assert status == 201, summary
    status, analysis = api("GET", f"/contacts/{contact_id}/analysis", tenant_id)
    assert status == 200, analysis
    return contact_id, analysis


def _rule(analysis: dict, name: str) -> dict:
    return next(r for r in analysis["compliance"] if r["rule"] == name)


def _settings(tenant_id: str, **changes) -> dict:
    status, current = api("GET", "/settings/analytics", tenant_id)
    assert status == 200
    return {**current, **changes}


# --- rules over the conversation -------------------------------------------------------------------------


def test_a_disclosure_split_over_two_agent_segments_with_the_customer_between_is_said(tenant):
    _, analysis = _analysed(tenant.id, [
        _seg("AGENT", 0, 2_000, "Hi, this is Ana from Acme collections. This is an attempt to collect"),
        _seg("CUSTOMER", 2_100, 2_500, "mhm"),
        _seg("AGENT", 2_600, 5_000, "a debt and any information obtained will be used for that purpose."),
        _seg("AGENT", 9_000, 11_000, "Can you pay today?"),
    ])  # fmt: skip
    rule = _rule(analysis, "mini_miranda")
    assert rule["status"] == "PASSED", rule
    assert (rule["evidence"][0]["segment_index"], rule["evidence"][0]["end_segment_index"]) == (0, 2)


def test_a_paraphrased_disclosure_is_said(tenant):
    _, analysis = _analysed(tenant.id, [
        _seg("AGENT", 0, 3_000, "We are attempting to collect a debt, and any information will be used for that "
                                "purpose."),
        _seg("AGENT", 4_000, 6_000, "How would you like to pay the balance due?"),
    ])  # fmt: skip
    assert _rule(analysis, "mini_miranda")["status"] == "PASSED"


@pytest.mark.parametrize("threat", ["We'll have you arrested if you don't pay this debt.",
                                    "You could get arrested over this debt, you know."])
def test_threats_with_and_without_contractions_fail_and_auto_fail_the_default_form(tenant, threat):
    _, analysis = _analysed(tenant.id, [_seg("AGENT", 0, 3_000, "This is an attempt to collect a debt."),
                                        _seg("AGENT", 3_500, 6_000, threat)])
    rule = _rule(analysis, "fdcpa_threats")
    assert rule["status"] == "FAILED" and rule["evidence"][0]["segment_index"] == 1, rule
    assert analysis["evaluation"]["auto_failed"] and analysis["evaluation"]["score"] == 0


COMBINED = {"kind": "required_disclosure", "name": "disclosure_30s_before_payment", "speaker": "AGENT",
            "phrases": ["this is an attempt to collect a debt"], "within_ms": 30_000,
            "before_phrases": ["make a payment"]}  # fmt: skip


@pytest.mark.parametrize(
    "segments, status, details",
    [
        ([_seg("AGENT", 0, 2_000, "Hello."), _seg("AGENT", 45_000, 47_000, "This is an attempt to collect a debt.")],
         "FAILED", ["30"]),  # the trigger is never said: the time limit still holds
        ([_seg("AGENT", 0, 2_000, "Would you like to make a payment?"),
          _seg("AGENT", 10_000, 12_000, "This is an attempt to collect a debt.")], "FAILED", ["trigger"]),
        ([_seg("AGENT", 0, 2_000, "Would you like to make a payment?"),
          _seg("AGENT", 40_000, 42_000, "This is an attempt to collect a debt.")], "FAILED", ["30", "trigger"]),
        ([_seg("AGENT", 0, 2_000, "This is an attempt to collect a debt."),
          _seg("AGENT", 10_000, 12_000, "Would you like to make a payment?")], "PASSED", []),
    ],
    ids=["trigger-never-said-too-late", "in-time-after-trigger", "both-fail", "both-hold"],
)  # fmt: skip
def test_within_30_s_and_before_the_payment_request_either_condition_fails_the_rule(tenant, segments, status, details):
    assert api("PUT", "/settings/analytics", tenant.id, _settings(tenant.id, compliance=[COMBINED]))[0] == 200
    _, analysis = _analysed(tenant.id, segments)
    rule = _rule(analysis, COMBINED["name"])
    assert rule["status"] == status, rule
    assert all(word in rule["detail"] for word in details), rule["detail"]


# --- evaluation forms --------------------------------------------------------------------------------------

FORM = {"name": "Collections QA", "sections": [
    {"title": "Compliance", "weight": 2, "questions": [
        {"id": "no_threats", "text": "No threats?", "auto_fail": True,
         "automation": {"source": "rule", "rule": "fdcpa_threats"}}]},
    {"title": "Soft skills", "weight": 1, "questions": [
        {"id": "tone", "text": "Tone", "type": "scale", "min": 1, "max": 5},
        {"id": "close", "text": "Closing", "type": "choice",
         "options": [{"value": "good", "points": 2}, {"value": "bad", "points": 0}]}]}]}  # fmt: skip


def _question(evaluation: dict, question_id: str) -> dict:
    return next(q for s in evaluation["sections"] for q in s["questions"] if q["id"] == question_id)


def test_an_auto_fail_item_zeroes_the_score_and_an_override_is_kept_beside_it_and_rescores(tenant):
    assert api("PUT", "/settings/analytics", tenant.id, _settings(tenant.id, form=FORM))[0] == 200
    contact_id, _ = _analysed(tenant.id, [_seg("AGENT", 0, 3_000, "This is an attempt to collect a debt."),
                                          _seg("AGENT", 3_500, 6_000, "We'll have you arrested.")])
    status, body = api("GET", f"/contacts/{contact_id}/evaluation", tenant.id)
    assert status == 200
    evaluation = body["evaluation"]
    assert evaluation["score"] == 0 and evaluation["auto_failed"]
    automatic = _question(evaluation, "no_threats")["automatic"]
    assert automatic["value"] == "no" and automatic["evidence"][0]["segment_index"] == 1
    assert automatic["evidence"][0]["begin_ms"] == 3_500  # cites where in the transcript

    status, body = api("PUT", f"/contacts/{contact_id}/evaluation/answers/no_threats", tenant.id,
                       {"answer": "yes", "comment": "quoting a letter the customer received"}, role="supervisor")
    assert status == 200, body
    overridden = body["evaluation"]
    question = _question(overridden, "no_threats")
    assert question["automatic"]["value"] == "no"  # kept beside the override
    assert question["override"]["value"] == "yes" and question["override"]["by"].startswith("supervisor:")
    assert question["answer"] == "yes" and not overridden["auto_failed"] and overridden["score"] > 0

    status, body = api("PUT", f"/contacts/{contact_id}/evaluation/answers/tone", tenant.id, {"answer": 2},
                       role="supervisor")
    assert status == 200 and body["evaluation"]["score"] < overridden["score"]
    status, found = api("GET", "/contacts", tenant.id, query={"qa_below": "100"})
    [mine] = [c for c in found if c["contact_id"] == contact_id]
    assert mine["qa_score"] == pytest.approx(body["evaluation"]["score"], abs=0.01)  # search sees the rescore


# --- sentiment, search -------------------------------------------------------------------------------------


def test_apology_and_empathy_from_the_agent_are_not_negative(tenant):
    _, analysis = _analysed(tenant.id, [
        _seg("CUSTOMER", 0, 3_000, "This is so annoying."),
        _seg("AGENT", 3_500, 6_000, "I'm sorry for the trouble, I'll refund you right away."),
        _seg("AGENT", 6_500, 9_000, "I apologize, I understand how frustrating this must be."),
    ])  # fmt: skip
    assert [s["sentiment"] >= 0 for s in analysis["segments"][1:]] == [True, True]


def test_search_finds_unclassified_and_filters_in_any_case(tenant):
    unclassified, _ = _analysed(tenant.id, [_seg("CUSTOMER", 0, 3_000, "Hello there."),
                                            _seg("AGENT", 3_500, 5_000, "Hi, how can I help?")])
    cancelling, analysis = _analysed(tenant.id, [_seg("CUSTOMER", 0, 3_000, "I want to cancel my account today."),
                                                 _seg("AGENT", 3_500, 5_000, "Let me help.")])
    assert "cancellation_risk" in [c["name"] for c in analysis["categories"]]
    for reason in ("unclassified", "UNCLASSIFIED"):
        status, found = api("GET", "/contacts", tenant.id, query={"reason": reason})
        assert status == 200 and unclassified in {c["contact_id"] for c in found}
    status, found = api("GET", "/contacts", tenant.id, query={"category": "Cancellation_RISK"})
    assert status == 200 and [c["contact_id"] for c in found] == [cancelling]


# --- bad input -----------------------------------------------------------------------------------------------


def test_a_rule_that_cannot_be_evaluated_is_refused_naming_the_key(tenant):
    before = api("GET", "/settings/analytics", tenant.id)[1]
    bad = {"kind": "prohibited_phrase", "name": "rude", "phrases": ["shut up"], "max_edits": 9}
    status, body = api("PUT", "/settings/analytics", tenant.id, _settings(tenant.id, compliance=[bad]))
    assert status == 422
    assert "compliance.0.prohibited_phrase.max_edits" in body["message"]
    assert body["detail"][0]["loc"] == ["body", "compliance", 0, "prohibited_phrase", "max_edits"]
    assert api("GET", "/settings/analytics", tenant.id)[1] == before


def test_a_form_that_cannot_be_evaluated_is_refused_with_the_key_as_field(tenant):
    form = {"sections": [{"title": "a", "questions": [{"id": "q", "text": "t"}]},
                         {"title": "b", "questions": [{"id": "q2", "text": "t",
                                                       "automation": {"source": "rule", "rule": "no_such_rule"}}]}]}
    status, body = api("PUT", "/settings/analytics", tenant.id, _settings(tenant.id, form=form))
    assert status == 422
    assert body["field"] == "form.sections[1].questions[0].automation.rule"
    assert "unknown compliance rule 'no_such_rule'" in body["message"]


def test_overlapping_and_out_of_order_segments_are_analysed_in_time_order(tenant):
    _, analysis = _analysed(tenant.id, [
        _seg("CUSTOMER", 5_000, 8_000, "third, the customer talks"),
        _seg("AGENT", 0, 3_000, "first, this call may be recorded"),
        _seg("CUSTOMER", 2_000, 6_000, "second, overlapping the agent"),
        _seg("AGENT", 7_000, 7_000, "zero length"),
    ])  # fmt: skip
    begins = [s["begin_ms"] for s in analysis["segments"]]
    assert begins == sorted(begins) and len(begins) == 4
    assert _rule(analysis, "recording_disclosure")["status"] == "PASSED"


# --- a spoken card number is nowhere ---------------------------------------------------------------------------

CARD_TALK = [
    _seg("AGENT", 0, 3_000, "This call may be recorded. Can I take the card number?"),
    _seg("CUSTOMER", 3_500, 12_000, "my card is four one one one, um, sorry, one one one one, one one one one, one one "
         "one one, expiry oh nine twenty seven, and the three digits on the back are seven three seven"),
    _seg("AGENT", 12_500, 15_000, "thanks, and your social?"),
    _seg("CUSTOMER", 15_500, 19_000, "my social is zero seven eight, zero five, one one two zero"),
    _seg("CUSTOMER", 19_500, 21_000, "the other card is 4242 4242"),
    _seg("AGENT", 21_100, 21_500, "mm-hmm"),
    _seg("CUSTOMER", 21_600, 23_000, "4242 4242"),
]  # fmt: skip
# The values as said or typed; whole words only (ids and timestamps hold digit runs by chance).
SECRETS = ["four one one one", "one one one one", "seven three seven", "oh nine twenty seven", "zero seven eight",
           "one one two zero", "4242", "737", "078"]  # fmt: skip
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _leaks(text: str) -> list[str]:
    text = _UUID.sub("", text)
    return [s for s in SECRETS if re.search(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])", text, re.IGNORECASE)]


def test_a_spoken_card_number_is_in_no_answer_no_receipt_and_no_table(tenant, env, stack):
    contact_id, analysis = _analysed(tenant.id, CARD_TALK)
    assert [s["text"] for s in analysis["segments"]] == [
        "This call may be recorded. Can I take the card number?",
        "my card is [CARD], expiry [CARD_EXPIRY], and the three digits on the back are [CARD_SECURITY_CODE]",
        "thanks, and your social?",
        "my social is [SSN]",
        "the other card is [CARD]",
        "mm-hmm",  # the agent's backchannel between the halves is no part of the card
        "[CARD]",
    ]
    redaction = analysis["redaction"]
    assert redaction["counts"] == {"CARD": 2, "CARD_EXPIRY": 1, "CARD_SECURITY_CODE": 1, "SSN": 1}
    for mark in redaction["receipt"]:  # kind and where, never the value
        assert set(mark) == {"kind", "segment", "start", "end", "redacted_start", "redacted_end", "redaction"}
        text = analysis["segments"][mark["segment"]]["text"]
        assert text[mark["redacted_start"] : mark["redacted_end"]] == f"[{mark['kind']}]"
    answers = {path: json.dumps(api("GET", path, tenant.id)[1]) for path in
               (f"/contacts/{contact_id}/analysis", f"/contacts/{contact_id}/evaluation")}
    found = api("GET", "/contacts", tenant.id)[1]
    answers["/contacts"] = json.dumps([c for c in found if c["contact_id"] == contact_id])
    assert answers["/contacts"] != "[]"
    assert {path: _leaks(text) for path, text in answers.items() if _leaks(text)} == {}

    # the same said in a chat, through the real handlers and the post-contact steps
    chat = serve_chat(tenant, env, messages=[("CUSTOMER", CARD_TALK[1]["text"]), ("CUSTOMER", CARD_TALK[3]["text"])])
    chat = chat["contact_id"]
    for path in (f"/contacts/{chat}/messages", f"/contacts/{chat}/analysis"):
        status, body = api("GET", path, tenant.id)
        assert status == 200 and "[CARD]" in json.dumps(body) and not _leaks(json.dumps(body)), path

    db = boto3.client("dynamodb")
    for table in stack.tables.values():
        for page in db.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                blob = json.dumps(item, default=str)
                if contact_id in blob or chat in blob:
                    assert not _leaks(blob), (table, _leaks(blob))
