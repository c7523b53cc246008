"""The expiry and security code typed after a card grouped with other keyboards' marks (full-width hyphen,
ideographic space, middle dot, Arabic separators, ...) and with other slashes ("／", "∕", "⁄"): redacted with the
labels an ASCII-typed card gets (PCI DSS: a card's security code is never stored). A date typed so that follows
no card is left as it was."""
from __future__ import annotations

import unicodedata

import pytest

from ccaas.domain.analytics import Redactor, redact_text
from ccaas.domain.analytics.redaction import redact_attribute

# the marks the card recogniser accepts between groups (tests/unit/test_redaction_card_runs.py)
SEPARATORS = [
    "\u00b7", "\u2022", "\u2027", "\u30fb", "\uff65", "\uff0d", "\u2015", "\ufe58", "\ufe63", "\u2043", "\u02d7",
    "\uff0e", "\u3002", "\uff0c", "\u3001", "\uff0f", "\u2044", "\u2800", "\u3164", "\u115f", "\u180e", "\uff3f",
    "\u2024", "\u2219", "\u22c5", "\u0640", "\u066b", "\u066c", "\u060c", "\u2e31", "\u2028", " \u00b7 ",
    "\u3000", " ", "-",
]  # fmt: skip
SLASHES = ["/", "\uff0f", "\u2215", "\u2044", "-", "\uff0d"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DETAILS = "[CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"


def _names(text: str) -> str:
    return "+".join(unicodedata.name(c, "?") for c in text)


def _card(separator: str, full_width: bool, groups: tuple[str, ...] = ("4111", "1111", "1111", "1111")) -> str:
    card = separator.join(groups)
    return card.translate(FULL_WIDTH) if full_width else card


@pytest.mark.parametrize("separator", SEPARATORS, ids=_names)
@pytest.mark.parametrize("full_width", [False, True], ids=["ascii digits", "full-width digits"])
def test_expiry_and_code_after_a_card_with_other_marks_are_redacted(separator, full_width):
    details = "12/28 123".translate(FULL_WIDTH) if full_width else "12/28 123"
    text = f"my card is {_card(separator, full_width)} {details}"
    assert redact_text(text).text == f"my card is {DETAILS}"
    # an attribute keeps an expiry (not one of its detectors), never the security code
    assert redact_attribute(text) == f"my card is [CARD] {details.split()[0]} [CARD_SECURITY_CODE]"


@pytest.mark.parametrize("slash", SLASHES, ids=_names)
@pytest.mark.parametrize("separator", ["\uff0d", "\u3000", "\u00b7", "\u066c", " "], ids=_names)
@pytest.mark.parametrize("full_width", [False, True], ids=["ascii digits", "full-width digits"])
def test_any_slash_in_the_expiry_after_a_card(slash, separator, full_width):
    expiry, code = (f"12{slash}28", "123") if not full_width else (f"１２{slash}２８", "１２３")
    card = _card(separator, full_width)
    assert redact_text(f"{card} {expiry} {code}").text == DETAILS
    text = f"card {card} expiry {expiry} code {code}"
    assert redact_text(text).text == "card [CARD] expiry [CARD_EXPIRY] code [CARD_SECURITY_CODE]"
    assert redact_attribute(text) == f"card [CARD] expiry {expiry} code [CARD_SECURITY_CODE]"


@pytest.mark.parametrize(
    "text, redacted",
    [
        # the brief's cases
        ("my card is 4111\uff0d1111\uff0d1111\uff0d1111 12/28 123", f"my card is {DETAILS}"),
        ("card 4111\uff0d1111\uff0d1111\uff0d1111 expiry 12\uff0f28 code 123",
         "card [CARD] expiry [CARD_EXPIRY] code [CARD_SECURITY_CODE]"),
        # other keyboards' blanks and pauses between the card and what follows it
        ("4111\uff0d1111\uff0d1111\uff0d1111\u300012\uff0f28\u3000123",
         "[CARD]\u3000[CARD_EXPIRY]\u3000[CARD_SECURITY_CODE]"),
        ("カード4111\uff0d1111\uff0d1111\uff0d1111、１２／２８、１２３。", "カード[CARD]、[CARD_EXPIRY]、[CARD_SECURITY_CODE]。"),
        ("4111\u00b71111\u00b71111\u00b71111\uff0c12\u221528\uff0c123",
         "[CARD]\uff0c[CARD_EXPIRY]\uff0c[CARD_SECURITY_CODE]"),
        # code first, then expiry; an Amex's four-digit code
        ("4111\uff0d1111\uff0d1111\uff0d1111 737 04\uff0f27", "[CARD] [CARD_SECURITY_CODE] [CARD_EXPIRY]"),
        ("3782\uff0d822463\uff0d10005 12\uff0f28 1234", DETAILS),
        # a card glued to a word: no number run reads it, what follows it is read all the same
        ("visa4111111111111111 12/28 123", f"visa{DETAILS}"),
        ("visa4111\uff0d1111\uff0d1111\uff0d1111 12\u204428 123", f"visa{DETAILS}"),
    ],
)  # fmt: skip
def test_what_follows_a_card_typed_so_is_read_as_after_an_ascii_card(text, redacted):
    assert redact_text(text).text == redacted


def test_the_code_after_an_expiry_and_a_pause_is_a_code_not_an_expiry():
    # the "/" of the expiry made "123" a date (M/YY) when a comma or a line parted them: an attribute kept it
    for text in ("4111 1111 1111 1111, 12/28, 123", "4111\uff0d1111\uff0d1111\uff0d1111\u300112\uff0f28\u3001123"):
        result = redact_text(text).text
        assert result.endswith("[CARD_SECURITY_CODE]") and result.count("[CARD_EXPIRY]") == 1, result
        assert redact_attribute(text).endswith("[CARD_SECURITY_CODE]")
    result = Redactor().redact_many(["4111\uff0d1111\uff0d1111\uff0d1111", "12\uff0f28", "123"])
    assert result.texts == ["[CARD]", "[CARD_EXPIRY]", "[CARD_SECURITY_CODE]"]


def test_the_receipt_points_at_the_original_characters():
    text = "card ４１１１－１１１１－１１１１－１１１１　１２／２８　１２３ ok"
    result = Redactor().redact_many([text])
    assert result.texts == ["card [CARD]\u3000[CARD_EXPIRY]\u3000[CARD_SECURITY_CODE] ok"]
    assert [(m.kind, text[m.start : m.end]) for m in result.receipt] == [
        ("CARD", "４１１１－１１１１－１１１１－１１１１"), ("CARD_EXPIRY", "１２／２８"), ("CARD_SECURITY_CODE", "１２３"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        # no card: a date or number typed with these marks is left as before
        "expiry 12\uff0f28",
        "date 12\u221528 code 123",
        "meeting on 12\uff0f28 at 3",
        "order 1234\uff0d5678 and 12\uff0f28 123",
        "４１１１・１１１１・１１１１・１１１２ 12\uff0f28 123",  # Luhn-invalid: no card
        # after a card, but past a word that bridges nothing, or an amount, a time, a zip code
        "card [CARD] then order 12\uff0f28 123",
        "card [CARD] \uff04150",
        "card [CARD] at 10\uff1a30 ok",
        "card [CARD] 90210",
    ],
)
def test_dates_and_numbers_next_to_no_card_are_kept(text):
    text = text.replace("[CARD]", "4111\uff0d1111\uff0d1111\uff0d1111")
    expected = text.replace("4111\uff0d1111\uff0d1111\uff0d1111", "[CARD]")
    assert redact_text(text).text == expected
