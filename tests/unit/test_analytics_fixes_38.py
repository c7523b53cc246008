"""Outside findings on transcripts and redaction (session 38), each fixed by class:

1. a transcript is analysed as its contact's channel, not as the upload's format guesses it (a chat uploaded as our
   segments owed no recording notice; a call uploaded as chat messages was never checked for one);
2. digits NFKC reads as digits (superscript, subscript, circled: "card ⁴¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹") are digits to every
   detector, and the original characters are what is replaced;
3. a card spoken over two chat messages right after another card is redacted in every piece (the second piece went
   into a placeholder with the first card, the third could not be joined with it any more);
4. a `max_edits` none of a rule's phrases can take is refused naming `compliance[i].max_edits` (it was cut silently);
5. duplicate category or compliance rule names are refused naming `categories` / `compliance`, not the body;
6. an SSN joined to its word by `_`, `@`, `+` (any separator an SSN's groups or an id take) is an SSN: in ids
   (check_id refuses them), attributes and text.
"""
from __future__ import annotations

import sys
import unicodedata

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import AnalyticsRules, parse_chat_messages, parse_transcript
from ccaas.domain.analytics.redaction import (
    Redactor,
    check_id,
    luhn_valid,
    redact_attribute,
    redact_attributes,
    redact_text,
)
from ccaas.domain.analytics.rules import ComplianceStatus
from ccaas.domain.analytics.transcript import Channel as AnalysedChannel
from ccaas.domain.history import ParticipantRole
from ccaas.domain.kpis.records import ContactRecord, FinalState
from ccaas.domain.models import Channel
from ccaas.domain.vocabulary import STORED_DOCUMENT, DomainError
from ccaas.usecases import analytics
from tests.unit.demo import TENANT, ana_holds_a_contact, connected_chat, demo_deps, post_chat

C = ParticipantRole.CUSTOMER


# --- 1. the contact's channel, not the format's guess -----------------------------------------------------------
NO_NOTICE = [  # no recording notice: a call fails recording_disclosure, a chat owes none
    {"speaker": "AGENT", "begin_ms": 0, "end_ms": 2_000, "text": "Hello, how can I help you today?"},
    {"speaker": "CUSTOMER", "begin_ms": 2_500, "end_ms": 5_000, "text": "I have a question about my bill."},
]
NO_NOTICE_AS_MESSAGES = [
    {"participant_role": "AGENT", "content": "Hello, how can I help you today?", "absolute_time": 1_800_000_000_000},
    {"participant_role": "CUSTOMER", "content": "I have a question about my bill.", "absolute_time": 1_800_000_003_000},
]


def _disclosure(deps, contact_id: str) -> str:
    analysis = deps.transcripts.get_analysis(TENANT, contact_id)
    return next(c["status"] for c in analysis["compliance"] if c["rule"] == "recording_disclosure")


def test_a_chat_uploaded_in_our_segment_format_is_analysed_as_a_chat():
    deps, chat = connected_chat()
    analytics.upload_transcript(deps, TENANT, chat, {"segments": NO_NOTICE})
    assert deps.transcripts.get_analysis(TENANT, chat)["channel"] == "CHAT"
    assert _disclosure(deps, chat) == ComplianceStatus.NOT_APPLICABLE  # was FAILED: read as a call


def test_a_call_uploaded_as_chat_messages_is_analysed_as_a_call():
    deps = demo_deps()
    call = ana_holds_a_contact(deps, channel=Channel.VOICE)
    analytics.upload_transcript(deps, TENANT, call, NO_NOTICE_AS_MESSAGES)
    assert deps.transcripts.get_analysis(TENANT, call)["channel"] == "VOICE"
    assert _disclosure(deps, call) == ComplianceStatus.FAILED  # was NOT_APPLICABLE: read as a chat


def test_an_amazon_connect_contact_is_analysed_as_its_record_says():
    """A contact Connect made is not in our store: its history record (from the contact record stream) holds its
    channel."""
    deps = demo_deps()
    at = deps.clock.now_ms() - 600_000
    deps.history.put_record(ContactRecord(
        tenant_id=TENANT, contact_id="connect-chat", channel=Channel.CHAT, queue_id="sales", agent_id="ana",
        initiated_at=at, connected_at=at + 5_000, disconnected_at=at + 65_000, final_state=FinalState.COMPLETED,
        last_updated_at=at + 65_000))  # fmt: skip
    analytics.upload_transcript(deps, TENANT, "connect-chat", NO_NOTICE)
    assert deps.transcripts.get_analysis(TENANT, "connect-chat")["channel"] == "CHAT"
    assert _disclosure(deps, "connect-chat") == ComplianceStatus.NOT_APPLICABLE


@pytest.mark.parametrize(("contact", "analysed"), [
    (Channel.VOICE, "VOICE"), (Channel.VIDEO, "VOICE"), (Channel.CHAT, "CHAT"), (Channel.SMS, "CHAT"),
    (Channel.SOCIAL, "CHAT"), (Channel.EMAIL, "CHAT")])
def test_every_format_is_analysed_as_the_contact_s_channel(contact, analysed):
    assert parse_transcript(NO_NOTICE, "c", contact_channel=contact).channel == analysed
    assert parse_transcript(NO_NOTICE_AS_MESSAGES, "c", contact_channel=contact).channel == analysed
    assert parse_chat_messages(NO_NOTICE_AS_MESSAGES, "c", contact_channel=contact).channel == analysed


def test_a_task_or_an_unknown_channel_keeps_the_format_s_guess():
    for channel in (Channel.TASK, None):
        assert parse_transcript(NO_NOTICE, "c", contact_channel=channel).channel == AnalysedChannel.VOICE
        assert parse_transcript(NO_NOTICE_AS_MESSAGES, "c", contact_channel=channel).channel == AnalysedChannel.CHAT


# --- 2. superscript, subscript and circled digits -----------------------------------------------------------------
def _lookalikes() -> dict[str, str]:
    """Every character NFKC reads as one decimal digit that is none itself, with its digit."""
    found = {}
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if not char.isdecimal() and len(folded) == 1 and folded.isdecimal():
            found[char] = str(unicodedata.decimal(folded))
    return found


LOOKALIKES = _lookalikes()
SUPER, SUB = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"), str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")


def test_the_lookalikes_are_superscripts_subscripts_and_circled_digits():
    assert len(LOOKALIKES) == 30 and set("⁴₄④⓪²³¹") <= set(LOOKALIKES)


@pytest.mark.parametrize("text", [
    "card ⁴¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹", "card ④①①① ①①①① ①①①① ①①①①", "card ₄₁₁₁ ₁₁₁₁ ₁₁₁₁ ₁₁₁₁", "card ⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹",
    "card 4¹¹¹ ¹¹¹¹ 1111 ₁₁₁₁",  # mixed
    "card ⒋⒈⒈⒈ ⒈⒈⒈⒈ ⒈⒈⒈⒈ ⒈⒈⒈⒈",  # "digit full stop": NFKC "4.", read by the NFKC pass for cards
])  # fmt: skip
def test_a_card_in_lookalike_digits_is_redacted_and_the_original_characters_replaced(text):
    result = Redactor().redact_many([text])
    assert result.texts == ["card [CARD]"] and result.counts == {"CARD": 1}
    [mark] = result.receipt
    assert (mark.start, mark.end) == (5, len(text))  # the characters as typed
    assert redact_attribute(text) == "card [CARD]"


@pytest.mark.parametrize("char", sorted(LOOKALIKES), ids=lambda c: f"U+{ord(c):04X}")
def test_every_lookalike_digit_is_read_as_its_digit(char):
    """A card holding the character's digit, typed all in the character's kind of digits (no ASCII digit left)."""
    kind = next(table for table in (SUPER, SUB, CIRCLED) if chr(table[ord(LOOKALIKES[char])]) == char)
    body = "4" + LOOKALIKES[char] * 14
    card = next(body + check for check in "0123456789" if luhn_valid(body + check))
    typed = f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}".translate(kind)
    assert char in typed and redact_text(f"my card is {typed}").text == "my card is [CARD]", typed
    assert redact_text(f"ssn {'078-05-1120'.translate(kind)}").text == "ssn [SSN]"


@pytest.mark.parametrize(("text", "redacted"), [
    ("ssn ⁰⁷⁸-⁰⁵-¹¹²⁰", "ssn [SSN]"),
    ("my social is ⓪⑦⑧⓪⑤①①②⓪", "my social is [SSN]"),
    ("the cvv is ⁷³⁷", "the cvv is [CARD_SECURITY_CODE]"),
    ("expiry ¹²/²⁸", "expiry [CARD_EXPIRY]"),
    ("card 4111 1111 1111 1111 exp ₁₂/₂₈ cvv ₇₃₇", "card [CARD] exp [CARD_EXPIRY] cvv [CARD_SECURITY_CODE]"),
    ("call me on +¹ ⁵⁵⁵ ¹²³ ⁴⁵⁶⁷", "call me on [PHONE]"),
    ("routing ⁰²¹⁰⁰⁰⁰²¹", "routing [ROUTING_NUMBER]"),
])  # fmt: skip
def test_every_detector_reads_lookalike_digits(text, redacted):
    assert redact_text(text).text == redacted


def test_a_card_split_over_segments_hides_the_lookalike_part_in_between():
    """A segment inside a card's span is kept only when it says no digit (an "mm-hmm"): "¹¹¹¹" says four."""
    result = Redactor().redact_many(["4111 1111", "¹¹¹¹", "1111"], ["C", "C", "C"])
    assert result.texts == ["[CARD]", "[CARD]", "[CARD]"]


def test_attributes_and_ids_refuse_lookalike_cards_and_ssns():
    assert redact_attributes({"note": "ssn ⁰⁷⁸-⁰⁵-¹¹²⁰", "card": "④①①①①①①①①①①①①①①①"}) == {
        "note": "ssn [SSN]", "card": "[CARD]"}
    with pytest.raises(DomainError) as refused:
        check_id("customer_id", "x⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹")
    assert refused.value.field == "customer_id"


@pytest.mark.parametrize("text", ["card ⁴¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹", "card ④①①① ①①①① ①①①① ①①①①", "ssn ⁰⁷⁸-⁰⁵-¹¹²⁰"])
def test_a_chat_message_and_an_upload_in_lookalike_digits_are_stored_redacted(text):
    deps, chat = connected_chat()
    [posted] = post_chat(deps, chat, [(C, text)])
    stored = [m.content for m in deps.transcripts.messages(TENANT, chat)]
    assert stored == [posted.content] and "[" in posted.content and not any(c in LOOKALIKES for c in posted.content)
    deps2 = demo_deps()
    call = ana_holds_a_contact(deps2, channel=Channel.VOICE)
    summary = analytics.upload_transcript(deps2, TENANT, call, [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1_000,
                                                                 "text": text}])
    analysis = deps2.transcripts.get_analysis(TENANT, call)
    assert not any(c in LOOKALIKES for c in analysis["segments"][0]["text"])
    assert sum(analysis["redaction"]["counts"].values()) == 1 and summary.segments == 1


def test_text_in_nfkc_skips_the_lookalike_pass():
    """Nearly every text is already in NFKC: it is read as it is (the pass costs one C-speed check there)."""
    from ccaas.domain.analytics.redaction import _reading

    assert _reading("Café 4111") == ("Café 4111", "café 4111", [])
    assert _reading("ＣＶＶ ⁷³⁷ ⑩") == ("ＣＶＶ 737 ⑩", "cvv 737 ⑩", ["⑩"])  # the same length: every offset holds


# --- 3. a card spoken over chat messages after another card ---------------------------------------------------------
def _stored(messages: list[str]) -> list[str]:
    deps, chat = connected_chat()
    post_chat(deps, chat, [(C, m) for m in messages])
    return [m.content for m in deps.transcripts.messages(TENANT, chat)]


@pytest.mark.parametrize("messages", [
    ["my card is 4111 1111 1111 1111", "four one one one one one one one", "one one one one one one one one"],
    ["4111 1111 1111 1111", "four one one one one one one one", "one one one one one one one one"],
    ["my card is 5555 5555 5555 4444", "three seven eight two eight two two four", "six three one zero zero zero five"],
    ["my card is 5555 5555 5555 4444", "41111111", "11111111"],
])  # fmt: skip
def test_a_card_said_over_two_messages_after_a_card_is_redacted_in_every_piece(messages):
    assert _stored(messages) == [messages[0].replace(messages[0].removeprefix("my card is "), "[CARD]"), "[CARD]",
                                 "[CARD]"]


@pytest.mark.parametrize("messages", [
    ["4111 1111 1111 1111", "4111 1111", "1111 1111"],
    ["my card is 4111 1111 1111 1111", "4111 1111", "1111 1111"],
    ["my card is 4111 1111 1111 1111", "41111111", "11111111"],
])
def test_a_card_typed_over_two_messages_after_a_card_keeps_no_digit(messages):
    stored = _stored(messages)
    assert not any(c.isdigit() for text in stored for c in text), stored


def test_what_follows_the_rest_of_such_a_card_is_read_as_what_follows_a_card():
    assert _stored(["my card is 4111 1111 1111 1111", "four one one one one one one one",
                    "one one one one one one one one and the code is seven three seven"])[2] == (
        "[CARD] and the code is [CARD_SECURITY_CODE]")


@pytest.mark.parametrize("later", ["my order number is 12345678", "the last four are 1111", "it's 1500 dollars right?",
                                   "thanks, that's all"])
def test_numbers_named_otherwise_after_a_stored_card_are_kept(later):
    assert _stored(["my card is 4111 1111 1111 1111", later]) == ["my card is [CARD]", later]


def test_the_redactor_reads_digits_after_a_hidden_card_as_its_rest_only_across_a_message():
    redactor = Redactor()
    stand_in = "4111111111111111"
    texts = ["my card is " + stand_in, "one one one one one one one one"]
    hidden = [(0, 11, 11 + len(stand_in))]
    assert redactor.redact_many(texts, ["C", "C"]).texts[1] == texts[1]  # a card's digits said on: no card alone
    assert redactor.redact_many(texts, ["C", "C"], hidden_cards=hidden).texts == ["my card is [CARD]", "[CARD]"]


# --- 4. max_edits a phrase cannot take -------------------------------------------------------------------------------
def _rules(*compliance: dict, context: dict | None = None) -> AnalyticsRules:
    return AnalyticsRules.model_validate({"compliance": list(compliance)}, context=context)


def _refused(*compliance: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as error:
        _rules(*compliance)
    return [(e["loc"], *(p.path for p in getattr(e["ctx"]["error"], "problems", ()))) for e in error.value.errors()]


def test_max_edits_a_phrase_cannot_take_is_refused_naming_it():
    four = {"kind": "prohibited_phrase", "name": "threat", "phrases": ["we will sue you"], "max_edits": 2}
    assert _refused(four) == [(("compliance",), "compliance[0].max_edits")]
    disclosure = {"kind": "required_disclosure", "name": "notice", "phrases": ["recorded line"], "max_edits": 1}
    assert _refused({**four, "max_edits": 1}, disclosure) == [(("compliance",), "compliance[1].max_edits")]


def test_max_edits_some_phrase_of_the_rule_can_take_is_accepted_and_stored_rules_load():
    five = {"kind": "prohibited_phrase", "name": "threat", "phrases": ["we will sue you", "we are going to sue you"],
            "max_edits": 2}
    assert _rules(five).compliance[0].max_edits == 2
    stored = {"kind": "prohibited_phrase", "name": "rude", "phrases": ["shut up"], "max_edits": 2}
    assert _rules(stored, context=STORED_DOCUMENT).compliance[0].max_edits == 2  # written before the check


# --- 5. duplicate names ----------------------------------------------------------------------------------------------
def test_duplicate_names_are_refused_naming_their_list():
    rule = {"kind": "prohibited_phrase", "name": "rude", "phrases": ["shut up"]}
    with pytest.raises(ValidationError) as error:
        _rules(rule, {**rule, "phrases": ["go away"]})
    assert [e["loc"] for e in error.value.errors()] == [("compliance",)]
    assert "compliance[1] has the name of compliance[0]" in str(error.value)
    category = {"name": "billing", "matchers": [{"phrases": ["bill"]}]}
    with pytest.raises(ValidationError) as error:
        AnalyticsRules.model_validate({"categories": [category, category]})
    assert [e["loc"] for e in error.value.errors()] == [("categories",)]


def test_a_qa_item_naming_no_rule_is_refused_by_its_path():
    with pytest.raises(ValidationError) as error:
        AnalyticsRules.model_validate({"qa": {"items": [
            {"name": "c", "kind": "compliance", "target": "nope", "weight": 1}]}})
    [problem] = error.value.errors()
    assert problem["loc"] == ("qa",) and [p.path for p in problem["ctx"]["error"].problems] == ["qa.items[0].target"]


# --- 6. an SSN joined to its word ------------------------------------------------------------------------------------
JOINED = ["ssn_219099999", "SSN_078051120", "ssn@219099999", "ssn+219099999", "ssn:078051120", "ssn~219099999",
          "ssn/219099999", "ssn\u00b7219099999", "ssn\u2013219099999", "ssn*219099999", "cust_ssn_219099999",
          "ＳＳＮ＿219099999", "social_078051120", "cust.ssn.219099999", "s.s.n_078051120"]


@pytest.mark.parametrize("value", JOINED)
def test_an_id_holding_an_ssn_joined_to_its_word_is_refused(value):
    with pytest.raises(DomainError) as refused:
        check_id("customer_id", value)
    assert refused.value.field == "customer_id" and value not in str(refused.value)


@pytest.mark.parametrize("value", JOINED)
def test_an_ssn_joined_to_its_word_is_redacted_in_text_and_attributes(value):
    assert "[SSN]" in redact_text(f"my id is {value} thanks").text
    assert "[SSN]" in redact_attribute(value)
    assert redact_attributes({"tax": value})["tax"].endswith("[SSN]")


@pytest.mark.parametrize("value", ["cust_219099999", "ssn_12345", "order_078051120", "acct-00017", "ssn_000051120"])
def test_ids_that_hold_no_ssn_are_kept(value):
    check_id("customer_id", value)
    assert redact_attribute(value) == value


_DETECT_DUMPS = """
import sys
sys.path.insert(0, sys.argv[1])
from ccaas.domain.analytics.redaction import RedactionConfig
print(RedactionConfig.model_validate({"detect": ["SSN", "EMAIL", "CARD", "PHONE", "CARD_EXPIRY"]}).model_dump_json())
"""


def test_the_redaction_detect_list_is_answered_sorted_whatever_the_process_hash_seed():
    """A frozenset's JSON order follows string hashing, which differs per process: one stored document answered two
    ways by two Lambda environments."""
    import json

    from tests.unit.hash_seeds import answers_per_hash_seed

    (answer,) = answers_per_hash_seed(_DETECT_DUMPS, seeds=("0", "1", "2", "3"))
    detect = json.loads(answer)["detect"]
    assert detect == sorted(detect) and "CARD_SECURITY_CODE" in detect
