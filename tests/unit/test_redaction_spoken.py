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
    with pytest.raises(ValueError, match="CARD is always detected"):  # cards are never off (a ValidationError)
        RedactionConfig(detect=frozenset({PiiType.EMAIL}))


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


# --- misses found by the blind set (bench/data/redaction_blind.jsonl, issue 18, third round) ----------


def _redact_talk(talk: list[tuple[str, str]]) -> list[str]:
    return Redactor().redact_many([t for _, t in talk], [s for s, _ in talk]).texts


@pytest.mark.parametrize(
    "text",
    [
        "card four to four to four to four to four to four to four to four to",  # "to" for 2
        "the visa is four oh one two ate ate ate ate ate ate ate ate one ate ate one",  # "ate" for 8
        "my card number is for one one one one one one one one won one one one one one one",  # "won" for 1
        "card number four five three niner one four eight eight zero three four three six four six seven",
    ],
)
def test_digits_written_as_homophones_inside_a_card(text: str):
    result = redact_text(text)
    assert result.counts == {"CARD": 1} and not any(w in result.text for w in (" to", " ate", " won", "niner"))


def test_homophones_are_digits_only_for_a_valid_card():
    for kept in ("I want to pay for two tickets for four people to go to one show at eight",
                 "he won one for one two three four five six seven eight nine one two three four"):  # Luhn-invalid
        assert redact_text(kept).text == kept


@pytest.mark.parametrize(
    "text, digits",
    [
        ("four thousand one hundred eleven one thousand one hundred eleven", "41111111"),
        ("april two thousand twenty seven", "2027"),
        ("one thousand one hundred and eleven", "1111"),
        ("five thousand five", "5005"),
    ],
)
def test_thousand_reads_the_whole_compound(text: str, digits: str):
    assert digit_stream(text) == digits


def test_cards_and_expiry_said_in_thousands():
    card = "four thousand one hundred eleven one thousand one hundred eleven one thousand one hundred eleven " \
           "one thousand one hundred eleven"
    assert redact_text(f"the number is {card}").text == "the number is [CARD]"
    assert redact_text("the card expires in april two thousand twenty seven").counts == {"CARD_EXPIRY": 1}
    assert redact_text("that comes to four thousand one hundred eleven dollars").counts == {}


def test_a_group_corrected_inside_the_card_is_redacted_with_it():
    text = ("the card is four five three nine, one four eight eight, oh three four six — no wait, "
            "oh three four three, six four six seven")
    result = redact_text(text)
    assert result.text == "the card is [CARD]" and result.counts == {"CARD": 1}


def test_the_agent_reading_back_each_group_as_it_comes():
    talk = [("AGENT", "go ahead with the card number"), ("CUSTOMER", "five five five five"),
            ("AGENT", "five five five five"), ("CUSTOMER", "five five five five"),
            ("AGENT", "five five five five, yep"),
            ("CUSTOMER", "five five five five"), ("AGENT", "okay"), ("CUSTOMER", "four four four four")]
    assert _redact_talk(talk) == ["go ahead with the card number", "[CARD]", "[CARD]", "[CARD]", "[CARD], yep",
                                  "[CARD]", "okay", "[CARD]"]
    amex = [("CUSTOMER", "three seven eight two"), ("AGENT", "three seven eight two"),
            ("CUSTOMER", "eight two two four six three"), ("AGENT", "eight two two four six three"),
            ("CUSTOMER", "one zero zero zero five"), ("AGENT", "one zero zero zero five, thank you")]
    assert _redact_talk(amex) == ["[CARD]"] * 5 + ["[CARD], thank you"]
    # the customer saying a group twice, with the agent's "yes" between, is no read-back
    same = [("CUSTOMER", "four two four two"), ("AGENT", "got it"), ("CUSTOMER", "four two four two"),
            ("AGENT", "yes"), ("CUSTOMER", "four two four two four two four two")]
    assert _redact_talk(same) == ["[CARD]", "got it", "[CARD]", "yes", "[CARD]"]


def test_the_last_four_is_a_count_and_does_not_veto_the_card():
    assert digit_stream("and the last four six four five seven") == "6457"
    talk = [("AGENT", "what's the card number"), ("CUSTOMER", "um its four one four seven"), ("AGENT", "okay"),
            ("CUSTOMER", "two oh nine one"), ("AGENT", "yep"), ("CUSTOMER", "eight two seven three"),
            ("AGENT", "and the last four"), ("CUSTOMER", "six four five seven")]
    assert _redact_talk(talk) == ["what's the card number", "um its [CARD]", "okay", "[CARD]", "yep", "[CARD]",
                                  "and the last four", "[CARD]"]
    # the agent naming the card by its last four (PCI DSS lets it be shown) keeps it
    readback = [("CUSTOMER", "my visa is four oh one two"), ("AGENT", "okay"),
                ("CUSTOMER", "eight eight eight eight eight eight eight eight"), ("AGENT", "alright"),
                ("CUSTOMER", "one eight eight one"), ("AGENT", "ending in one eight eight one, got it")]
    assert _redact_talk(readback)[-1] == "ending in one eight eight one, got it"
    assert _redact_talk(readback)[:5] == ["my visa is [CARD]", "okay", "[CARD]", "alright", "[CARD]"]


def test_the_start_of_a_card_said_again_around_it():
    talk = [("CUSTOMER", "the card number is six oh one one"), ("AGENT", "sorry you cut out, six oh one one and then?"),
            ("CUSTOMER", "six oh one one, oh oh oh nine, nine oh one three, nine four two four")]
    assert _redact_talk(talk) == ["the card number is [CARD]", "sorry you cut out, [CARD] and then?", "[CARD]"]
    # a number named as something else stays, even when the card starts with it
    kept = [("CUSTOMER", "my order was 6011"), ("AGENT", "okay"), ("CUSTOMER", "card 6011 0009 9013 9424")]
    assert _redact_talk(kept)[0] == "my order was 6011"


def test_card_halves_parted_by_an_aside_in_one_segment():
    text = ("four five three two zero one five five let me just grab my glasses "
            "six six seven seven eight eight nine seven")
    assert redact_text(text).text == "[CARD] let me just grab my glasses [CARD]"
    kept = "my zip is 46032 and my member id is 52137788"
    assert redact_text(kept).text == kept


def test_ssn_and_routing_said_in_groups_over_segments():
    ssn = [("AGENT", "can I get your social security number"), ("CUSTOMER", "sure it's two eight seven"),
           ("AGENT", "okay"), ("CUSTOMER", "six five"), ("AGENT", "mhm"), ("CUSTOMER", "four four three one")]
    assert _redact_talk(ssn)[1:] == ["sure it's [SSN]", "okay", "[SSN]", "mhm", "[SSN]"]
    routing = [("CUSTOMER", "the routing number is oh one one"), ("AGENT", "okay"),
               ("CUSTOMER", "oh oh oh oh one five")]
    assert _redact_talk(routing) == ["the routing number is [ROUTING_NUMBER]", "okay", "[ROUTING_NUMBER]"]
    # groups that fail the ABA checksum stay
    bad = [("CUSTOMER", "the routing number is oh one one"), ("AGENT", "okay"), ("CUSTOMER", "oh oh oh oh one six")]
    assert _redact_talk(bad) == [t for _, t in bad]


def test_ssn_typed_digit_by_digit():
    assert redact_text("my tax id, my social, is 6 0 4 1 2 9 9 8 7").text == "my tax id, my social, is [SSN]"


def test_answers_read_the_agents_question():
    # a digression longer than the context window between the question and the code
    code = [("AGENT", "and the code on the back"),
            ("CUSTOMER", "hang on sorry my dog is going crazy, hold on one second, okay here it is, "
                         "it's five six eight")]
    assert _redact_talk(code)[1].endswith("it's [CARD_SECURITY_CODE]")
    # "expiration date on the card?": the nearer word names the card, the question its date
    expiry = [("AGENT", "and the expiration date on the card?"), ("CUSTOMER", "ten twenty six")]
    assert _redact_talk(expiry)[1] == "[CARD_EXPIRY]"
    # an answer that is no code stays
    kept = [("AGENT", "and the code on the back?"), ("CUSTOMER", "sorry I have to go, I will call back in 30 minutes")]
    assert _redact_talk(kept) == [t for _, t in kept]


@pytest.mark.parametrize(
    "text, redacted",
    [
        ("the little code on the back, it's six double one", "the little code on the back, it's [CARD_SECURITY_CODE]"),
        ("and the three digits are eight six oh", "and the three digits are [CARD_SECURITY_CODE]"),
        ("routing 021000021 account 000123456789", "routing [ROUTING_NUMBER] account [BANK_ACCOUNT]"),
        ("you can text me on seven one eight, five five five, twenty one forty", "you can text me on [PHONE]"),
    ],
)
def test_codes_accounts_and_phones_named_in_other_words(text: str, redacted: str):
    assert redact_text(text).text == redacted


@pytest.mark.parametrize(
    "text, redacted",
    [
        ("its j o h n underscore d o e at yahoo dot com", "its [EMAIL]"),
        ("you can reach me at kate seventy two at hotmail dot co dot uk", "you can reach me at [EMAIL]"),
        ("my e-mail is sarah hyphen lee at icloud dot com", "my e-mail is [EMAIL]"),
        ("it is maria point garcia at outlook point com", "it is [EMAIL]"),
        ("I was at home dot com all day", "I was at home dot com all day"),
    ],
)
def test_spoken_emails_with_spelled_letters_numbers_and_hyphens(text: str, redacted: str):
    assert redact_text(text).text == redacted


def test_the_blind_set_holds_its_fixes():
    """The blind set was written by someone who had read neither the detectors nor the other sets;
    its misses were fixed by class (the tests above). "the code is triple seven", said with no card
    word at all, is still missed (README), so this guards cards, overall recall and precision."""
    from bench.bench_redaction import BLIND

    entries = load_corpus(BLIND)
    assert len(entries) >= 150 and sum(1 for entry in entries if not entry["expect"]) >= 60
    score = score_corpus(entries)
    assert score.kind("CARD").recall == 1.0, score.misses
    assert score.total.recall >= 0.98 and score.total.precision >= GOAL_PRECISION, (score.misses, score.false_positives)


def test_a_national_insurance_number_spelled_out():
    assert redact_text("national insurance number a b one two three four five six c").text == \
        "national insurance number [NINO]"
    # only when named so, and only with letters a NINO can have
    for kept in ("my insurance policy is a b one two three four five six c",
                 "national insurance is q q one two three four five six c"):
        assert redact_text(kept).text == kept


def test_a_security_code_said_with_homophones_after_the_question():
    talk = [("AGENT", "can you read me the CVV please"), ("CUSTOMER", "yeah its to for six")]
    assert _redact_talk(talk) == ["can you read me the CVV please", "yeah its [CARD_SECURITY_CODE]"]
    # homophones alone, or words that only sound like digits, are no code
    for kept in ("I need to go for six minutes, sorry", "I want to talk to two people for one day"):
        assert _redact_talk([("AGENT", "and the security code?"), ("CUSTOMER", kept)])[1] == kept
