"""Redaction: card numbers (Luhn-validated, in every layout ASR produces), national ids, emails,
phones and tenant patterns; and end to end, no card survives anywhere in an analysis result."""
from __future__ import annotations

import json
import random
import re

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import (
    AnalyticsRules,
    PiiType,
    RedactionConfig,
    Redactor,
    Speaker,
    analyze_transcript,
    contains_luhn_valid_card,
    luhn_valid,
    parse_segments,
    redact_text,
)

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def luhn_complete(body: str) -> str:
    """`body` plus the check digit that makes it Luhn-valid."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def luhn_invalid(body: str) -> str:
    return next(body + d for d in "0123456789" if not luhn_valid(body + d))


# (brand, prefixes, lengths, grouping) — groupings as printed on cards / read out
_BRANDS = [
    ("visa", ["4"], [13, 16, 19], None),
    ("mastercard", ["51", "52", "53", "54", "55", "2221", "2720"], [16], None),
    ("amex", ["34", "37"], [15], (4, 6, 5)),
    ("discover", ["6011", "65"], [16, 19], None),
    ("diners", ["36", "300", "305"], [14], (4, 6, 4)),
    ("jcb", ["3528", "3589"], [16], None),
    ("maestro", ["6759", "5018"], [13, 19], None),
]


def random_card(rng: random.Random) -> tuple[str, tuple[int, ...] | None]:
    _, prefixes, lengths, grouping = rng.choice(_BRANDS)
    prefix, length = rng.choice(prefixes), rng.choice(lengths)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(body), grouping


def layouts(card: str, grouping: tuple[int, ...] | None, rng: random.Random) -> list[str]:
    groups = []
    at = 0
    for size in grouping or [4] * ((len(card) + 3) // 4):
        groups.append(card[at : at + size])
        at += size
    odd = [card[:5], card[5:10], card[10:]]  # ASR grouping that matches no brand
    return [
        card,
        " ".join(groups),
        "-".join(groups),
        " - ".join(groups),
        ", ".join(groups),
        " ".join(odd),
        " ".join(_WORDS[int(d)] for d in card),  # read out digit by digit
        " ".join(groups[:2]) + " " + " ".join(_WORDS[int(d)] for d in "".join(groups[2:])),  # mixed
    ]


_SENTENCES = [
    "my card number is {} thanks",
    "It's {}.",
    "card:{} expiry next year",
    "({}) is the one on file",
    "the number is {}, and the code is on the back",
    "{}",
]


def card_corpus(seed: int = 7, cards: int = 60) -> tuple[list[str], list[str]]:
    """Sentences each holding one Luhn-valid card, plus the cards' digits."""
    rng = random.Random(seed)
    sentences, numbers = [], []
    for _ in range(cards):
        card, grouping = random_card(rng)
        for layout in layouts(card, grouping, rng):
            sentences.append(rng.choice(_SENTENCES).format(layout))
            numbers.append(card)
    return sentences, numbers


def test_generated_cards_are_luhn_valid_and_near_misses_are_not():
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    rng = random.Random(1)
    for _ in range(200):
        card, _ = random_card(rng)
        assert luhn_valid(card) and 13 <= len(card) <= 19


def test_every_card_layout_is_redacted_and_counted_once():
    sentences, _ = card_corpus()
    redactor = Redactor()
    for sentence in sentences:
        result = redactor.redact(sentence)
        assert result.counts == {"CARD": 1}, sentence
        assert "[CARD]" in result.text
        assert not contains_luhn_valid_card(result.text), sentence
        assert not re.search(r"\d{4}", result.text), sentence  # no group of the card left behind


def test_guard_sees_the_cards_in_the_raw_corpus():
    sentences, _ = card_corpus(seed=11, cards=10)
    assert all(contains_luhn_valid_card(s) for s in sentences)


def test_luhn_invalid_numbers_are_not_cards():
    rng = random.Random(3)
    redactor = Redactor()
    for _ in range(300):
        order = luhn_invalid(str(rng.randrange(1, 10)) + "".join(rng.choice("0123456789") for _ in range(14)))
        grouped = " ".join(order[i : i + 4] for i in range(0, 16, 4))
        for text in (f"your order number is {order} today", f"reference {grouped} on the invoice"):
            result = redactor.redact(text)
            assert "CARD" not in result.counts, text
            assert result.text == text
            assert not contains_luhn_valid_card(text)


def test_too_short_or_too_long_luhn_valid_numbers_are_not_cards():
    twelve = luhn_complete("41111111111")  # 12 digits
    twenty = luhn_complete("4" + "1" * 18)  # 20 digits in one group
    for text in (f"ticket {twelve}", f"tracking {twenty}"):
        assert Redactor().redact(text).counts.get("CARD") is None


def test_card_split_across_two_segments_is_redacted_in_both():
    result = Redactor().redact_many(["my card is 4111 1111", "1111 1111 and that's it"])
    assert result.texts == ["my card is [CARD]", "[CARD] and that's it"]
    assert result.counts == {"CARD": 1}
    assert result.changed_segments == 2


def test_no_partial_card_left_when_other_digits_are_spoken_next_to_it():
    # "7 4111 ..." — a window starting at the 7 may also be valid; the union covers the whole card
    text = "press 7 4111 1111 1111 1111 now"
    result = Redactor().redact(text)
    assert "1111" not in result.text and not contains_luhn_valid_card(result.text)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("my ssn is 078-05-1120 ok", "SSN"),
        ("social 219 09 9999 thanks", "SSN"),
        ("national insurance AB 12 34 56 C", "NINO"),
        ("nino ab123456c please", "NINO"),
        ("write to jane.doe+billing@example.co.uk today", "EMAIL"),
        ("it's john dot smith at gmail dot com", "EMAIL"),
        ("call +1 415 555 0100 anytime", "PHONE"),
        ("call +447700900123", "PHONE"),
        ("my number is (415) 555-0100", "PHONE"),
        ("my number is 415-555-0100", "PHONE"),
        ("ring 020 7946 0018 after six", "PHONE"),
        ("mobile 07700 900123", "PHONE"),
    ],
)
def test_identifiers_are_redacted_and_counted(text: str, kind: str):
    result = redact_text(text)
    assert result.counts == {kind: 1}, result
    assert f"[{kind}]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "area 000-12-3456 is never issued",
        "area 666-12-3456 is never issued",
        "area 912-12-3456 is never issued",
        "group 123-00-4567 is never issued",
        "serial 123-45-0000 is never issued",
        "prefix QQ 12 34 56 C is not a NINO",
        "it costs 12.50 and takes 3 days",
    ],
)
def test_invalid_ids_and_ordinary_numbers_are_left_alone(text: str):
    assert redact_text(text).text == text


def test_tenant_patterns_and_disabled_types():
    config = RedactionConfig(
        custom_patterns={"policy_number": r"\bPOL-\d{6}\b", "member_id": r"(?i)\bmem\d{5}\b"},
        detect=frozenset({PiiType.CARD}),
    )
    result = redact_text("policy POL-123456, member MEM12345, mail a@b.com, card 4111111111111111", config)
    assert result.text == "policy [POLICY_NUMBER], member [MEMBER_ID], mail a@b.com, card [CARD]"
    assert result.counts == {"policy_number": 1, "member_id": 1, "CARD": 1}


def test_bad_tenant_patterns_are_rejected_when_loaded():
    with pytest.raises(ValidationError):
        RedactionConfig(custom_patterns={"x": "("})
    with pytest.raises(ValidationError):
        RedactionConfig(custom_patterns={"x": r"\d*"})  # would match everywhere
    with pytest.raises(ValidationError):
        RedactionConfig(custom_patterns={"CARD": r"\d+"})
    rules = AnalyticsRules.model_validate_json('{"redaction": {"custom_patterns": {"claim": "CLM\\\\d{4}"}}}')
    assert rules.redaction.custom_patterns == {"claim": r"CLM\d{4}"}


def test_counts_never_carry_values():
    result = redact_text("card 4111 1111 1111 1111 and 078-05-1120")
    assert json.dumps(result.counts) == '{"CARD": 1, "SSN": 1}'


def _corpus_transcript():
    sentences, numbers = card_corpus(seed=5, cards=40)
    rng = random.Random(9)
    near_misses = []
    items = []
    clock = 0
    for i, sentence in enumerate(sentences):
        if i % 3 == 0:
            order = luhn_invalid(str(rng.randrange(1, 10)) + "".join(rng.choice("0123456789") for _ in range(14)))
            near_misses.append(order)
            sentence += f" and my order is {order}"
        if i % 7 == 0:
            sentence += " email me at pat@example.org or ring 415-555-0100, ssn 078-05-1120"
        items.append(
            {"speaker": "CUSTOMER" if i % 2 else "AGENT", "begin_ms": clock, "end_ms": clock + 3000, "text": sentence}
        )
        clock += 3500
    return parse_segments(items, "corpus"), numbers, near_misses


def test_no_luhn_valid_card_survives_anywhere_in_the_analysis_json():
    transcript, cards, near_misses = _corpus_transcript()
    raw_json = transcript.model_dump_json()
    assert contains_luhn_valid_card(raw_json)  # the corpus does hold cards

    analysis = analyze_transcript(transcript, AnalyticsRules.default())
    dumped = analysis.model_dump_json()
    assert not contains_luhn_valid_card(dumped)
    digits_only = re.sub(r"\D", "", " ".join(s.text for s in analysis.segments))
    for card in cards:
        assert card not in digits_only
    for order in near_misses:  # Luhn-invalid order numbers are kept verbatim
        assert order in dumped
    assert "pat@example.org" not in dumped and "078-05-1120" not in dumped and "415-555-0100" not in dumped
    assert analysis.redaction.counts["CARD"] == len(cards)
    assert analysis.redaction.counts["EMAIL"] == analysis.redaction.counts["SSN"] == analysis.redaction.counts["PHONE"]
    # Every string in the result, one by one, passes the guard too.
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    assert not any(contains_luhn_valid_card(s) for s in strings(json.loads(dumped)))


def test_analysis_speaker_talk_counts_words_of_the_original_text():
    transcript = parse_segments(
        [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 60_000, "text": "card 4111 1111 1111 1111"}], "w"
    )
    analysis = analyze_transcript(transcript, AnalyticsRules.default())
    assert analysis.segments[0].text == "card [CARD]"
    assert analysis.conversation is not None and analysis.conversation.customer.words == 5
    assert analysis.segments[0].speaker is Speaker.CUSTOMER


@pytest.mark.parametrize(
    "text",
    [
        "card 4111\u20111111\u20111111\u20111111 ok",  # non-breaking hyphens
        "card 4111\u00a01111\u00a01111\u00a01111 ok",  # no-break spaces
        "card 4111 \u2013 1111 \u2013 1111 \u2013 1111 ok",  # en dashes
        "card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 ok",  # full-width
        "caf\u00e9 card 4111 1111 1111 1111",
    ],
)
def test_unicode_separators_and_digits(text: str):
    result = redact_text(text)
    assert result.counts == {"CARD": 1}, result
    assert contains_luhn_valid_card(text) and not contains_luhn_valid_card(result.text)


def test_tenant_anchors_work_per_segment_whoever_speaks():
    config = RedactionConfig(custom_patterns={"member": r"^M\d{5}$"})
    result = Redactor(config).redact_many(["M12345", "M23456", "not M34567 here"], speakers=["AGENT", "CUSTOMER", "AGENT"])
    assert result.texts == ["[MEMBER]", "[MEMBER]", "not M34567 here"]
