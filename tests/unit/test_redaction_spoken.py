"""Redaction that holds on speech (issue 18): spoken numbers normalised before the detectors, card
security codes, expiry dates, SSNs in words, bank numbers, the receipt, and the labelled corpus."""
from __future__ import annotations

import json
import random

import pytest

from bench.bench_redaction import GOAL_PRECISION, GOAL_RECALL, load_corpus, score_corpus
from ccaas.domain.analytics import AnalyticsRules, analyze_transcript, parse_segments
from ccaas.domain.analytics.redaction import (
    MAX_RECEIPT,
    PiiType,
    RedactionConfig,
    Redactor,
    aba_valid,
    contains_luhn_valid_card,
    luhn_valid,
    redact_text,
    ssn_plausible,
)
from ccaas.domain.analytics.spoken import digit_stream, number_runs

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# --- the normaliser ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, digits",
    [
        ("four one one one, um, one one one one", "41111111"),
        ("five five double zero", "5500"),
        ("one triple zero five", "10005"),
        ("oh four twenty seven", "0427"),
        ("o four", "04"),
        ("forty one eleven", "4111"),
        ("twenty twenty seven", "2027"),
        ("nineteen ninety nine", "1999"),
        ("4111-1111 1111.1111", "4111111111111111"),
        ("four one, you know, one one, let me see, one one", "411111"),
        ("seven three seven", "737"),
        ("\uff14\uff11\uff11\uff11 1111", "41111111"),  # full-width digits
    ],
)
def test_spoken_numbers_become_one_digit_stream(text: str, digits: str):
    assert digit_stream(text) == digits


@pytest.mark.parametrize(
    "text, streams",
    [
        ("two hundred and fifty dollars", ["200", "50"]),  # "hundred" multiplies, "and" ends the number
        ("I have one of the two", ["1", "2"]),
        ("user838 wrote", []),  # letters and digits in one word are no number
        ("cvv2 737", ["737"]),
        ("four one and one one", ["41", "11"]),  # "and" joins two numbers more often than it pauses one
    ],
)
def test_words_that_end_a_number(text: str, streams: list[str]):
    assert [run.digits for run in number_runs(text)] == streams


def test_runs_map_back_to_the_original_characters():
    text = "it's four one one one, um, one one one one ok"
    (run,) = number_runs(text)
    assert text[run.start : run.end] == "four one one one, um, one one one one"
    assert [item.digits for item in run.items] == list("41111111")
    assert [text[i.start : i.end] for i in run.items[:2]] == ["four", "one"]
    assert run.items[4].pause == 2 and run.items[1].pause == 0  # "um" before the fifth digit


def test_double_and_triple_cover_their_words():
    text = "five double zero triple nine"
    (run,) = number_runs(text)
    assert run.digits == "500999"
    assert [text[i.start : i.end] for i in run.items] == ["five", "double zero", "triple nine"]


# --- cards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kept",
    [
        ("four one one one, um, one one one one, uh, one one one one, you know, one one one one", ""),
        ("it's five five double zero, double zero five five, five five five five, five five five nine ok", "it's  ok"),
        ("three seven eight two, eight two two four six three, one triple zero five", ""),
        ("forty one eleven, eleven eleven, eleven eleven, eleven eleven", ""),
        ("card 6011 one one one one, sorry, 1111 1117", "card "),
    ],
)
def test_spoken_cards_are_replaced_whole(text: str, kept: str):
    result = redact_text(text)
    assert result.counts == {"CARD": 1}, result
    assert result.text.replace("[CARD]", "") == kept
    assert not contains_luhn_valid_card(result.text)


def test_luhn_invalid_spoken_order_number_is_kept():
    order = "1234567890123456"
    assert not luhn_valid(order)
    words = " ".join(_WORDS[int(d)] for d in order)
    text = f"my order number is {words}"
    assert redact_text(text).text == text


def test_order_numbers_said_digit_by_digit_are_not_cut_into_cards():
    # a 13-19 digit window inside a spoken order number is Luhn-valid by chance one time in ten
    rng = random.Random(4)
    redactor = Redactor()
    for _ in range(100):
        body = "".join(rng.choice("0123456789") for _ in range(15))
        order = next(body + d for d in "0123456789" if not luhn_valid(body + d))
        words = " ".join(_WORDS[int(d)] for d in order)
        text = f"the order number is {words}"
        assert redactor.redact(text).text == text


def test_two_cards_one_after_the_other_stay_two_cards():
    result = Redactor().redact_many(["4111 1111 1111 1111", "5500 0055 5555 5559"], ["CUSTOMER", "AGENT"])
    assert result.texts == ["[CARD]", "[CARD]"] and result.counts == {"CARD": 2}


def test_phone_numbers_are_phone_not_card():
    for text in ("call me on (415) 555-0100", "my phone number is four one five, five five five, zero one zero zero"):
        result = redact_text(text)
        assert result.counts == {"PHONE": 1}, (text, result)


# --- security codes and expiry dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("CVV 737", "737"),
        ("the cvv is seven three seven", "seven three seven"),
        ("seven three seven is the code on the back", "seven three seven"),
        ("the three digits on the back are four five six", "four five six"),
        ("security code, um, oh four two", "oh four two"),
        ("cvc2 1234", "1234"),
    ],
)
def test_security_codes_near_their_words(text: str, value: str):
    result = redact_text(text)
    assert result.counts == {"CARD_SECURITY_CODE": 1}, result
    assert result.text == text.replace(value, "[CARD_SECURITY_CODE]")


def test_security_code_right_after_a_card():
    for text, rest in [
        ("4111 1111 1111 1111, 737", "[CARD], [CARD_SECURITY_CODE]"),
        ("4111 1111 1111 1111 and the code is seven three seven", "[CARD] and the code is [CARD_SECURITY_CODE]"),
        ("4111 1111 1111 1111, um, 737", "[CARD], um, [CARD_SECURITY_CODE]"),
    ]:
        assert redact_text(text).text == rest


def test_security_code_answered_in_the_next_segment():
    result = Redactor().redact_many(["what's the security code?", "it's seven three seven"], ["AGENT", "CUSTOMER"])
    assert result.texts == ["what's the security code?", "it's [CARD_SECURITY_CODE]"]


@pytest.mark.parametrize(
    "text, value",
    [
        ("it expires 04/27", "04/27"),
        ("expiry oh four twenty seven", "oh four twenty seven"),
        ("expires April 2027", "April 2027"),
        ("valid thru 11/2028", "11/2028"),
        ("the expiration date is twelve twenty six", "twelve twenty six"),
    ],
)
def test_expiry_dates_near_card_words(text: str, value: str):
    result = redact_text(text)
    assert result.counts == {"CARD_EXPIRY": 1}, result
    assert result.text == text.replace(value, "[CARD_EXPIRY]")


@pytest.mark.parametrize(
    "text",
    [
        "the appointment is 04/27",
        "it was delivered on 12/25/2024",
        "I moved in April 2021",
        "call me at 10:30 about the card",
        "a payment of $250 on the card",
        "the last four digits are 4242",
        "card ending in 1111",
        "it costs 737 dollars",
        "I ordered 3 boxes of 24",
        "that'll be 19.99 plus 4.50 shipping",
        "the tracking number is 9400 1000 0000 0000 0000 00",
        "your order number is 123456789",
        "the total is $1,234.56",
        "room 1204 please",
    ],
)
def test_near_misses_are_kept(text: str):
    assert redact_text(text).text == text


# --- SSN, routing and account numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("my social is zero seven eight zero five one one two zero", "zero seven eight zero five one one two zero"),
        ("SSN 078051120", "078051120"),
        ("it's 078-05-1120", "078-05-1120"),
        ("zero seven eight, zero five, one one two zero", "zero seven eight, zero five, one one two zero"),  # 3-2-4
        ("social security number, um, 219 09 9999", "219 09 9999"),
    ],
)
def test_ssn_with_and_without_separators_and_in_words(text: str, value: str):
    result = redact_text(text)
    assert result.counts == {"SSN": 1}, result
    assert result.text == text.replace(value, "[SSN]")


@pytest.mark.parametrize(
    "text", ["my social is 000 12 3456", "SSN 666123456", "ssn nine one two three four five six seven eight"]
)
def test_never_issued_ssns_are_kept(text: str):
    assert redact_text(text).text == text


def test_routing_numbers_need_the_aba_checksum():
    assert aba_valid("021000021") and not aba_valid("021000022") and not aba_valid("000000000")
    assert redact_text("routing number 021000021").text == "routing number [ROUTING_NUMBER]"
    assert redact_text("the routing is zero two one zero zero zero zero two one").counts == {"ROUTING_NUMBER": 1}
    assert redact_text("routing number 021000022").text == "routing number 021000022"


def test_account_numbers_near_account_words():
    assert redact_text("account number 12345678").text == "account number [BANK_ACCOUNT]"
    assert redact_text("my checking account is one two three four five six seven").counts == {"BANK_ACCOUNT": 1}
    assert redact_text("order number 12345678").text == "order number 12345678"
    assert redact_text("account number 123").text == "account number 123"  # too short


def test_ssn_plausibility():
    assert ssn_plausible("078051120")
    assert not any(ssn_plausible(s) for s in ("000051120", "666051120", "912051120", "078001120", "078050000"))


# --- split across segments and speakers ------------------------------------------------------------


def test_spoken_card_split_across_speakers_is_redacted_in_both():
    # diarization puts the last groups in the agent's segment
    result = Redactor().redact_many(
        ["it's four one one one, one one one one", "one one one one, one one one one"], ["CUSTOMER", "AGENT"]
    )
    assert result.texts == ["it's [CARD]", "[CARD]"]
    assert result.counts == {"CARD": 1}
    marks = result.receipt
    assert [(m.segment, m.kind, m.redaction) for m in marks] == [(0, "CARD", 0), (1, "CARD", 0)]


def test_a_word_starting_the_next_segment_does_not_continue_a_number():
    # "one" as a word at the start of the next segment is no digit of the number before it
    texts = ["the cvv is 737.", "One moment please", "call me back on (990) 355-1381.", "One let me check."]
    result = Redactor().redact_many(texts, ["CUSTOMER", "AGENT", "CUSTOMER", "AGENT"])
    assert result.texts == ["the cvv is [CARD_SECURITY_CODE].", "One moment please", "call me back on [PHONE].",
                            "One let me check."]  # fmt: skip
    # while a number that goes on in the next segment still does
    split = Redactor().redact_many(["cvv seven three", "seven"], ["CUSTOMER", "AGENT"])
    assert split.texts == ["cvv [CARD_SECURITY_CODE]", "[CARD_SECURITY_CODE]"]


def test_agent_reading_the_card_back_is_redacted_too():
    result = Redactor().redact_many(
        ["the card is five five five five, five five five five, five five five five, four four four four",
         "so that's 5555 5555 5555 4444, correct?"],
        ["CUSTOMER", "AGENT"],
    )  # fmt: skip
    assert result.texts == ["the card is [CARD]", "so that's [CARD], correct?"]


# --- the receipt ---------------------------------------------------------------------------------------


def test_receipt_says_what_and_where_never_the_value():
    texts = ["my card is 4111 1111 1111 1111", "hi", "cvv seven three seven and ssn 078-05-1120"]
    result = Redactor().redact_many(texts, ["CUSTOMER", "AGENT", "CUSTOMER"])
    marks = [(m.kind, m.segment, texts[m.segment][m.start : m.end]) for m in result.receipt]
    assert marks == [
        ("CARD", 0, "4111 1111 1111 1111"),
        ("CARD_SECURITY_CODE", 2, "seven three seven"),
        ("SSN", 2, "078-05-1120"),
    ]
    for m in result.receipt:  # the redacted offsets locate the placeholder
        assert result.texts[m.segment][m.redacted_start : m.redacted_end] == f"[{m.kind}]"
    dumped = json.dumps([m.model_dump() for m in result.receipt])
    for secret in ("4111", "1111", "seven", "737", "078", "1120"):
        assert secret not in dumped


def test_receipt_is_bounded():
    texts = [f"cvv {100 + k}" for k in range(MAX_RECEIPT + 20)]
    result = Redactor().redact_many(texts)
    assert result.counts == {"CARD_SECURITY_CODE": MAX_RECEIPT + 20}
    assert len(result.receipt) == MAX_RECEIPT and result.receipt_dropped == 20


def test_receipt_reaches_the_analysis():
    transcript = parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 0, "end_ms": 2000, "text": "and the security code?"},
            {"speaker": "CUSTOMER", "begin_ms": 2500, "end_ms": 5000, "text": "seven three seven"},
        ],
        "r-1",
    )
    analysis = analyze_transcript(transcript, AnalyticsRules.default())
    assert analysis.segments[1].text == "[CARD_SECURITY_CODE]"
    receipt = analysis.redaction.receipt
    assert [(m.kind, m.segment, m.start, m.end) for m in receipt] == [("CARD_SECURITY_CODE", 1, 0, 17)]
    assert analysis.redaction.receipt_dropped == 0
    assert "seven" not in analysis.model_dump_json()


# --- tenant configuration ---------------------------------------------------------------------------


def test_detect_defaults_to_every_kind_and_accepts_the_new_ones():
    assert RedactionConfig().detect == frozenset(PiiType)
    rules = AnalyticsRules.model_validate_json(
        '{"redaction": {"detect": ["CARD", "CARD_SECURITY_CODE", "ROUTING_NUMBER"]}}'
    )
    assert rules.redaction.detect == {PiiType.CARD, PiiType.CARD_SECURITY_CODE, PiiType.ROUTING_NUMBER}
    assert {"CARD", "SSN", "NINO", "EMAIL", "PHONE"} <= {k.value for k in PiiType}  # stable values


def test_detect_subset_switches_kinds_off():
    text = "card 4111 1111 1111 1111, cvv 737, expires 04/27, ssn 078051120, routing 021000021"
    everything = redact_text(text)
    assert everything.counts == {"CARD": 1, "CARD_SECURITY_CODE": 1, "CARD_EXPIRY": 1, "SSN": 1, "ROUTING_NUMBER": 1}
    only_cards = redact_text(text, RedactionConfig(detect=frozenset({PiiType.CARD})))  # + its security code
    assert only_cards.text == "card [CARD], cvv [CARD_SECURITY_CODE], expires 04/27, ssn 078051120, routing 021000021"
    no_ssn = redact_text(text, RedactionConfig(detect=frozenset(PiiType) - {PiiType.SSN}))
    assert "078051120" in no_ssn.text and "SSN" not in no_ssn.counts and no_ssn.counts["CARD"] == 1


# --- the labelled corpus ------------------------------------------------------------------------------


def test_the_corpus_meets_the_goals():
    entries = load_corpus()
    assert len(entries) >= 300
    kinds = {e["kind"] for entry in entries for e in entry["expect"]}
    assert {"CARD", "CARD_SECURITY_CODE", "CARD_EXPIRY", "SSN", "BANK_ACCOUNT", "ROUTING_NUMBER", "PHONE"} <= kinds
    assert sum(1 for entry in entries if not entry["expect"]) >= 100  # near-misses that must be kept
    score = score_corpus(entries)
    assert score.kind("CARD").recall == 1.0, score.misses
    assert score.kind("CARD_SECURITY_CODE").recall == 1.0, score.misses
    assert score.total.recall >= GOAL_RECALL, score.misses
    assert score.total.precision >= GOAL_PRECISION, score.false_positives
    assert score.goals_met()


def test_the_scorer_counts_misses_and_false_positives():
    entries = [
        {"text": "cvv 737", "expect": [{"kind": "CARD", "value": "737"}], "note": "wrong kind"},
        {"text": "order 4111 1111 1111 1111", "expect": [], "note": "a card where none was expected"},
    ]
    score = score_corpus(entries)
    assert score.kind("CARD").recall == 0.0 and score.kind("CARD").false_positives == 1
    assert score.kind("CARD_SECURITY_CODE").false_positives == 0  # it overlaps an expected span
    assert not score.goals_met()


def test_a_tenant_redacting_cards_always_redacts_security_codes_too():
    """PCI DSS: card security codes are never stored, even when a tenant lists only CARD."""
    config = RedactionConfig(detect=frozenset({PiiType.CARD}))
    assert PiiType.CARD_SECURITY_CODE in config.detect
    text = Redactor(config).redact("the card is 4111 1111 1111 1111 and the cvv is 737").text
    assert "737" not in text and "4111" not in text
    assert PiiType.CARD_SECURITY_CODE not in RedactionConfig(detect=frozenset({PiiType.EMAIL})).detect


# --- misses found by the held-out set (bench/data/redaction_holdout.jsonl, issue 18 review) -------------


@pytest.mark.parametrize(
    "text, digits",
    [
        ("fifty-five hundred", "5500"),
        ("oh one hundred", "0100"),
        ("twenty one hundred", "2100"),
        ("nineteen hundred", "1900"),
    ],
)
def test_hundred_multiplies_the_number_before_it(text: str, digits: str):
    assert digit_stream(text) == digits


def test_cards_and_phones_said_with_hundred():
    card = redact_text("fifty-five hundred, zero zero five five, five five five five, five five five nine")
    assert card.text == "[CARD]"
    phone = redact_text("you can reach me at four one five, five five five, oh one hundred")
    assert phone.text == "you can reach me at [PHONE]"
    # an amount said with "hundred" stays an amount
    assert redact_text("the total is four hundred fifty dollars").counts == {}


def test_a_leading_digit_written_as_its_homophone_is_part_of_the_card():
    result = redact_text("it's for one one one, one one one one, one one one one, one one one one")
    assert result.text == "it's [CARD]"
    # only when the homophone makes a valid card number ("2111..." is no card prefix): "to" stays a word
    kept = "thanks to one one one, one one one one, one one one one, one one one one"
    assert redact_text(kept).text == kept


@pytest.mark.parametrize(
    "segments, expected",
    [
        (  # the agent prompts between the halves
            [("CUSTOMER", "five five five five five five five five"), ("AGENT", "okay, go on"),
             ("CUSTOMER", "five five five five four four four four")],
            ["[CARD]", "okay, go on", "[CARD]"],
        ),
        (  # the agent reads the first half back and asks for the rest
            [("CUSTOMER", "6011 1111"), ("AGENT", "sorry you cut out, 6011 1111 and then?"), ("CUSTOMER", "1111 1117")],
            ["[CARD]", "sorry you cut out, [CARD] and then?", "[CARD]"],
        ),
        (  # the agent guesses the second half, the customer corrects it
            [("CUSTOMER", "four one one one one one one one"), ("AGENT", "one one one one one one one one?"),
             ("CUSTOMER", "no, the first part was right, then one one one one one one one one")],
            ["[CARD]", "[CARD]?", "no, the first part was right, then [CARD]"],
        ),
    ],
)  # fmt: skip
def test_card_halves_with_talk_between_them_are_both_redacted(segments, expected):
    result = Redactor().redact_many([t for _, t in segments], [s for s, _ in segments])
    assert result.texts == expected


def test_split_numbers_that_make_no_card_are_kept():
    # Luhn-invalid when joined, or named an order: two halves of something else
    order = [("CUSTOMER", "my order was 4567 8901"), ("AGENT", "and the rest?"), ("CUSTOMER", "2345 6789")]
    result = Redactor().redact_many([t for _, t in order], [s for s, _ in order])
    assert result.counts == {}
    named = [("CUSTOMER", "order number 4111 1111"), ("AGENT", "and then?"), ("CUSTOMER", "1111 1111")]
    assert Redactor().redact_many([t for _, t in named], [s for s, _ in named]).counts == {}


def test_backchannel_between_card_halves_is_not_redacted():
    result = Redactor().redact_many(["it's 4242 4242", "mm-hmm", "4242 4242"], ["CUSTOMER", "AGENT", "CUSTOMER"])
    assert result.texts == ["it's [CARD]", "mm-hmm", "[CARD]"]
    assert result.counts == {"CARD": 1}
    assert [m.segment for m in result.receipt] == [0, 2]


@pytest.mark.parametrize(
    "text, redacted",
    [
        ("security code is triple seven", "security code is [CARD_SECURITY_CODE]"),
        ("verification code, it's double one four", "verification code, it's [CARD_SECURITY_CODE]"),
    ],
)
def test_short_codes_said_with_double_or_triple(text: str, redacted: str):
    assert redact_text(text).text == redacted


def test_security_code_named_before_the_word_card():
    text = "the little number on the back of the card is 902"
    assert redact_text(text).text == "the little number on the back of the card is [CARD_SECURITY_CODE]"
    # "card" alone does not make three digits a code
    assert redact_text("the card was charged 3 times, 902 in total").counts == {}


def test_ssn_typed_in_groups_with_hesitations():
    result = redact_text("social security, um, it's 123, uh, 45, uh, 6789")
    assert result.text == "social security, um, it's [SSN]"


def test_a_group_taken_back_before_the_card_is_redacted_with_it():
    text = ("it's four one one one, not four one one two, so four one one one, one one one one, one one one one, "
            "one one one one")
    result = redact_text(text)
    assert result.text == "it's [CARD]" and result.counts == {"CARD": 1}
    # without a correction word, a number before the card is something else
    press = redact_text("press 7 then, 4111 1111 1111 1111")
    assert press.text.startswith("press 7 then,")


def test_the_holdout_set_meets_the_goals():
    """The held-out set was written without looking at the detectors; its misses were fixed by class
    (the tests above), so this guards those fixes against regressions."""
    from bench.bench_redaction import HOLDOUT

    entries = load_corpus(HOLDOUT)
    assert len(entries) >= 150
    assert sum(1 for entry in entries if not entry["expect"]) >= 40
    score = score_corpus(entries)
    assert score.goals_met(), (score.misses, score.false_positives)


def test_card_groups_said_one_per_segment_with_acknowledgements_between():
    talk = [("CUSTOMER", "4111"), ("AGENT", "yep"), ("CUSTOMER", "1111"), ("AGENT", "okay"), ("CUSTOMER", "1111"),
            ("AGENT", "mhm"), ("CUSTOMER", "1111")]  # fmt: skip
    result = Redactor().redact_many([t for _, t in talk], [s for s, _ in talk])
    assert result.texts == ["[CARD]", "yep", "[CARD]", "okay", "[CARD]", "mhm", "[CARD]"]
    # four room or order numbers in a row that make no card number stay
    rooms = [("CUSTOMER", "room 4111"), ("AGENT", "yep"), ("CUSTOMER", "1111"), ("AGENT", "okay"), ("CUSTOMER", "1111"),
             ("AGENT", "mhm"), ("CUSTOMER", "1112")]  # fmt: skip
    assert Redactor().redact_many([t for _, t in rooms], [s for s, _ in rooms]).counts == {}


@pytest.mark.parametrize(
    "text, redacted",
    [
        ("my social's zero seven eight zero five one one two zero", "my social's [SSN]"),
        ("my routing's 021000021", "my routing's [ROUTING_NUMBER]"),
    ],
)
def test_keywords_with_a_contracted_is(text: str, redacted: str):
    assert redact_text(text).text == redacted
