"""Cards typed among other numbers (review P27, findings 2-4): the expiry and code typed after a card with
only blanks between them, a card inside a longer run of numbers or after "order/zip/ticket/case N", and cards
grouped with the marks of other keyboards and web pages."""
from __future__ import annotations

import random
import unicodedata

import pytest

from ccaas.domain.analytics import Redactor, contains_luhn_valid_card, luhn_valid, redact_text
from ccaas.domain.analytics.redaction import redact_attribute

CARD = "4111111111111111"


# --- finding 2: what follows a card, item by item ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, redacted",
    [
        ("4111111111111111 1227 737", "[CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"),
        ("my other card is 6011000990139424 0427 642", "my other card is [CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"),
        ("5555555555554444 1228 123", "[CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"),
        ("Card: 4111 1111 1111 1111 12 27 737", "Card: [CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"),
        ("4111 1111 1111 1111 12/27 737", "[CARD] [CARD_EXPIRY] [CARD_SECURITY_CODE]"),
        ("4111111111111111 737 0427", "[CARD] [CARD_SECURITY_CODE] [CARD_EXPIRY]"),
    ],
)
def test_expiry_and_code_typed_after_a_card_with_blanks_only_are_redacted(text, redacted):
    assert redact_text(text).text == redacted


def test_attributes_lose_the_code_typed_after_a_card():
    # an attribute keeps an expiry (not a detector there), never the security code
    assert redact_attribute("4111111111111111 1227 737") == "[CARD] 1227 [CARD_SECURITY_CODE]"


def test_what_follows_a_card_and_is_no_expiry_or_code_is_kept():
    assert redact_text("4111111111111111 90210").text == "[CARD] 90210"


# --- finding 3: a card wherever it sits in a run of numbers ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "order 7781 4111 1111 1111 1111",
        "zip 90210 4111111111111111",
        "ticket 99 - 4111 1111 1111 1111",
        "case 55 4111 1111 1111 1111 thanks",
        "123 4111111111111111 999",
        "ref 123 4111111111111111 999",
        "qty 2 4111111111111111 2",
        "90210 4111111111111111 0427",
        "ids: 17 4111111111111111 23",
    ],
)
def test_a_card_inside_a_longer_run_or_after_a_keep_word_is_redacted(text):
    for redacted in (redact_text(text).text, redact_attribute(text)):
        assert "[CARD]" in redacted and "4111" not in redacted and "1111" not in redacted, (text, redacted)
    assert contains_luhn_valid_card(text)


def test_the_numbers_around_a_card_are_kept():
    assert redact_text("+1 555 123 4567 4111 1111 1111 1111").text == "+1 555 123 4567 [CARD]"
    assert redact_text("x 1 4111111111111111 1 x").text == "x 1 [CARD] 1 x"
    assert redact_text("zip 90210 4111111111111111").text == "zip 90210 [CARD]"


def test_order_numbers_that_hold_no_card_are_kept():
    rng = random.Random(27)
    redactor = Redactor()
    for _ in range(200):
        body = "".join(rng.choice("0123456789") for _ in range(15))
        number = next(body + d for d in "0123456789" if not luhn_valid(body + d))
        grouped = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        texts = [f"order 7781 {grouped}", f"zip 90210 {number}"]
        if not luhn_valid("99" + number):  # 18 digits, the whole run: a card since before
            texts.append(f"ticket 99 - {grouped} thanks")
        for text in texts:
            assert redactor.redact(text).text == text
            assert redact_attribute(text) == text


# --- finding 4: any marks between the groups ---------------------------------------------------------------

SEPARATORS = [
    "\u00b7", "\u2022", "\u2027", "\u30fb", "\uff65", "\uff0d", "\u2015", "\ufe58", "\ufe63", "\u2043", "\u02d7",
    "\uff0e", "\u3002", "\uff0c", "\u3001", "\uff0f", "\u2044", "\u2800", "\u3164", "\u115f", "\u180e", "\uff3f",
    "\u2024", "\u2219", "\u22c5", "\u0640", "\u066b", "\u066c", "\u060c", "\u2e31", "\u2028", " \u00b7 ",
]  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("separator", SEPARATORS, ids=lambda s: "+".join(unicodedata.name(c, "?") for c in s))
@pytest.mark.parametrize("full_width", [False, True], ids=["ascii digits", "full-width digits"])
def test_cards_grouped_with_other_keyboards_marks_are_redacted(separator, full_width):
    digits = separator.join(["4111", "1111", "1111", "1111"])
    text = f"card {digits.translate(FULL_WIDTH) if full_width else digits} ok"
    assert redact_text(text).text == "card [CARD] ok"
    assert redact_attribute(text) == "card [CARD] ok"


def test_a_card_after_text_that_nfkc_grows_or_shrinks_keeps_its_offsets():
    # "\u3371" is "hPa" in NFKC, "\ufb01" "fi": the redaction lands on the card in the original text
    text = "\ufb01le \u3371 ４１１１－１１１１－１１１１－１１１１ \ufb01n"
    result = Redactor().redact_many([text])
    assert result.texts == ["\ufb01le \u3371 [CARD] \ufb01n"]
    mark = result.receipt[0]
    assert text[mark.start : mark.end] == "４１１１－１１１１－１１１１－１１１１"


def test_luhn_invalid_numbers_and_sums_with_such_marks_are_kept():
    for text in ("ref ４１１１・１１１１・１１１１・１１１２", "4111\u00b71111\u00b71111\u00b71112",
                 "4111 + 1111 + 1111 + 1111 = 7444"):
        assert redact_text(text).text == text
        assert redact_attribute(text) == text
