"""A chat's analysis carries what was redacted when its messages were posted (outside probe of `make run`: a chat
whose messages held a card, an e-mail and an SSN, stored as [CARD], [EMAIL], [SSN], had `redaction.counts == {}`
and `redactions: 0`: the analysis read the already-redacted messages). And chat messages answer times as the
README's one convention has them (`absolute_time` ISO 8601, `absolute_time_ms` epoch ms), taking only an ISO
8601 time with a UTC offset as input."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ccaas.domain.history import ChatMessage, ParticipantRole
from ccaas.usecases import analytics, contacts, history
from tests.unit.demo import TENANT, connected_chat, post_chat

C, A = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
CARD, SSN, EMAIL = "4111 1111 1111 1111", "078-05-1120", "ana.lopez@example.com"
SENT_AT = 1_796_538_600_000  # 2026-12-06T06:30:00Z


def _chat():
    return connected_chat()


_post = post_chat


def _end_and_analyse(deps, cid):
    contacts.complete_contact(deps, TENANT, "ana", cid)
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    assert history.record_contact(deps, TENANT, cid).has_transcript
    summary = analytics.analyze_contact(deps, TENANT, cid)
    return summary, analytics.get_analysis(deps, TENANT, cid)


def _placeholders(analysis):
    texts = {s["index"]: s["text"] for s in analysis["segments"]}
    return [(m["kind"], texts[m["segment"]][m["redacted_start"]:m["redacted_end"]]) for m in analysis["redaction"]["receipt"]]


def test_the_analysis_of_a_chat_carries_what_was_redacted_when_its_messages_were_posted():
    deps, cid = _chat()
    _post(deps, cid, [(A, "how can I help?"), (C, f"my card is {CARD} please"), (A, "and your e-mail and ssn?"),
                      (C, f"it is {EMAIL}\n  and   my ssn {SSN}")])
    summary, analysis = _end_and_analyse(deps, cid)
    redaction = analysis["redaction"]
    assert redaction["counts"] == {"CARD": 1, "EMAIL": 1, "SSN": 1}, redaction
    assert redaction["segments_redacted"] == 2 and redaction["receipt_dropped"] == 0
    assert summary.redactions == 3 and deps.history.get_entry(TENANT, cid).analysis.redactions == 3
    # kind, segment (which message) and offsets in its text: each mark is on its placeholder, never the value
    assert sorted(_placeholders(analysis)) == [("CARD", "[CARD]"), ("EMAIL", "[EMAIL]"), ("SSN", "[SSN]")]
    assert {m["segment"] for m in redaction["receipt"]} == {1, 3}
    assert len({m["redaction"] for m in redaction["receipt"]}) == 3
    text = json.dumps(analysis)
    assert "4111" not in text and "ana.lopez" not in text and "078-05" not in text


def test_a_card_split_over_two_messages_is_one_redaction_in_both():
    """The later message re-redacts the end of the earlier one: both pieces are in the receipt, counted once."""
    deps, cid = _chat()
    _post(deps, cid, [(A, "what is the card number?"), (C, "5555 5555"), (C, "5555 4444"),
                      (A, "and the expiry and the code on the back?"), (C, "12/28"), (C, "123"), (C, "thanks")])
    assert [m.content for m in deps.transcripts.messages(TENANT, cid)][1:3] == ["[CARD]", "[CARD]"]
    _, analysis = _end_and_analyse(deps, cid)
    redaction = analysis["redaction"]
    assert redaction["counts"] == {"CARD": 1, "CARD_EXPIRY": 1, "CARD_SECURITY_CODE": 1}, redaction
    cards = [m for m in redaction["receipt"] if m["kind"] == "CARD"]
    assert [m["segment"] for m in cards] == [1, 2] and cards[0]["redaction"] == cards[1]["redaction"]
    assert all(placeholder == f"[{kind}]" for kind, placeholder in _placeholders(analysis))


def test_a_card_read_again_in_later_windows_is_still_one_redaction():
    deps, cid = _chat()
    _post(deps, cid, [(C, f"card {CARD}"), (C, "exp 12/28"), (C, "cvv 123")] + [(A, f"noted {n}") for n in range(3)])
    [first, *_] = deps.transcripts.messages(TENANT, cid)
    assert first.content == "card [CARD]" and [r.kind for r in first.redactions] == ["CARD"]
    _, analysis = _end_and_analyse(deps, cid)
    assert analysis["redaction"]["counts"] == {"CARD": 1, "CARD_EXPIRY": 1, "CARD_SECURITY_CODE": 1}


def test_messages_stored_before_receipts_still_load_and_count_their_placeholders():
    deps, cid = _chat()
    legacy = ChatMessage(message_id="old-1", participant_role=C, content="card [CARD] and [EMAIL]",
                         absolute_time=deps.clock.now_ms())
    assert legacy.redactions is None and legacy.stored_json() == (
        '{"message_id":"old-1","participant_role":"CUSTOMER","content":"card [CARD] and [EMAIL]",'
        f'"absolute_time":{legacy.absolute_time}}}')  # as written before receipts: a rewrite's condition compares it
    assert ChatMessage.from_stored(legacy.stored_json()) == legacy
    deps.transcripts.add_message(TENANT, cid, legacy)
    deps.clock.advance(5)
    _post(deps, cid, [(C, "exp 12/28")])  # read with the legacy message in its window
    _, analysis = _end_and_analyse(deps, cid)
    assert analysis["redaction"]["counts"] == {"CARD": 1, "EMAIL": 1, "CARD_EXPIRY": 1}, analysis["redaction"]


def test_a_rule_added_after_posting_is_applied_by_the_analysis_and_both_are_in_the_receipt():
    deps, cid = _chat()
    _post(deps, cid, [(C, f"card {CARD} policy PX-123456 ok")])
    rules = analytics.analytics_rules(deps, TENANT).model_dump(mode="json")
    rules["redaction"]["custom_patterns"] = {"policy": r"PX-\d{6}"}
    analytics.put_analytics_rules(deps, TENANT, analytics.AnalyticsRules.model_validate(rules))
    _, analysis = _end_and_analyse(deps, cid)
    assert analysis["redaction"]["counts"] == {"CARD": 1, "policy": 1}
    assert sorted(_placeholders(analysis)) == [("CARD", "[CARD]"), ("policy", "[POLICY]")]


def test_the_receipt_follows_a_stored_message_through_rewrites():
    deps, cid = _chat()
    _post(deps, cid, [(C, f"mail {EMAIL} and card 4111 1111"), (C, "1111 1111 thanks")])
    first, second = deps.transcripts.messages(TENANT, cid)
    assert first.content == "mail [EMAIL] and card [CARD]" and second.content == "[CARD] thanks"
    for message in (first, second):
        assert [message.content[r.start:r.end] for r in message.redactions] == [f"[{r.kind}]" for r in message.redactions]
    assert first.redactions[-1].redaction == second.redactions[0].redaction  # one card, two pieces


# --- times in answers and in the input -------------------------------------------------------------------------
def test_a_message_answers_its_time_as_iso_and_epoch_ms_without_its_receipt():
    from ccaas.domain.history import MessageRedaction  # noqa: PLC0415

    message = ChatMessage(message_id="m1", participant_role=C, content="[CARD]", absolute_time=SENT_AT,
                          redactions=(MessageRedaction(kind="CARD", start=0, end=6, redaction="r"),))
    assert message.model_dump(mode="json") == {"message_id": "m1", "participant_role": "CUSTOMER", "content": "[CARD]",
                                               "absolute_time": "2026-12-06T06:30:00.000Z", "absolute_time_ms": SENT_AT}
    schema = ChatMessage.model_json_schema(mode="serialization")["properties"]
    assert schema["absolute_time"] == {**schema["absolute_time"], "type": "string", "format": "date-time"}
    assert schema["absolute_time_ms"]["type"] == "integer" and "redactions" not in schema


def test_posted_and_listed_messages_carry_both_forms_of_their_time():
    deps, cid = _chat()
    [posted] = _post(deps, cid, [(C, "hello")])
    page, _ = analytics.chat_messages(deps, TENANT, cid)
    for answer in (posted.model_dump(mode="json"), page[0].model_dump(mode="json")):
        at = datetime.fromisoformat(answer["absolute_time"].replace("Z", "+00:00"))
        assert int(at.timestamp() * 1000) == answer["absolute_time_ms"] == posted.absolute_time


@pytest.mark.parametrize("lax", ["1796538600000", 1796538600000, 1796538600.5, "1796538600.5", True,
                                 "2026-12-06T06:30:00", "2026-12-06", "", "+1796538600"])
def test_a_send_time_is_only_an_iso_8601_time_with_an_offset(lax):
    with pytest.raises(ValidationError) as error:
        analytics.NewMessage.model_validate({"participant_role": "CUSTOMER", "content": "hi", "absolute_time": lax})
    assert error.value.errors()[0]["loc"] == ("absolute_time",)
    assert "1796538600" not in str(error.value)


@pytest.mark.parametrize(("sent", "ms"), [("2026-12-06T06:30:00Z", SENT_AT), ("2026-12-06T07:30:00+01:00", SENT_AT),
                                          ("2026-12-06T06:30:00.250Z", SENT_AT + 250), (None, None)])
def test_an_iso_send_time_with_an_offset_is_taken(sent, ms):
    message = analytics.NewMessage.model_validate({"participant_role": "CUSTOMER", "content": "hi", "absolute_time": sent})
    assert (None if message.absolute_time is None else int(message.absolute_time.timestamp() * 1000)) == ms
    assert analytics.NewMessage(participant_role=C, content="hi", absolute_time=datetime(2026, 12, 6, tzinfo=UTC))


_FRAGMENTS = ("4111 1111", "1111 1111", "4111 1111 1111 1111", "exp 12/28", "cvv 123", "123", "ssn 078-05", "1120",
              EMAIL, "[CARD]", "[EMAIL]", "order 7781", "thanks", "my card is", "\n", "  ", "5555 5555", "5555 4444")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([C, A]), st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=4)),
                min_size=1, max_size=6))
def test_every_receipt_entry_is_on_its_placeholder_however_messages_are_rewritten(chat):
    deps, cid = _chat()
    _post(deps, cid, [(role, " ".join(parts)) for role, parts in chat], seconds=2)
    for message in deps.transcripts.messages(TENANT, cid):
        assert [message.content[r.start:r.end] for r in message.redactions] == [f"[{r.kind}]" for r in message.redactions]
    _, analysis = _end_and_analyse(deps, cid)
    assert all(placeholder == f"[{kind}]" for kind, placeholder in _placeholders(analysis))
    redaction = analysis["redaction"]
    assert sum(redaction["counts"].values()) == len({m["redaction"] for m in redaction["receipt"]})
