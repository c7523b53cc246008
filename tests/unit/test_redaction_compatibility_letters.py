"""The words that say what a number is ("cvv", "security code", "social security", "expiry", "order") read in
full-width and other compatibility letters as in ASCII ones: "ＣＶＶ １２３" is a security code, as "cvv １２３"
was already (the digits were read in NFKC, the words were not). Offsets stay the original text's."""
from __future__ import annotations

import string
import unicodedata

import pytest

from ccaas.domain.analytics import redact_text
from ccaas.domain.analytics.redaction import redact_attribute

FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in string.ascii_letters + string.digits})


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def bold(text: str) -> str:
    """Mathematical bold letters (U+1D400...), as pasted from styled-text generators."""
    return "".join(chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in text)


@pytest.mark.parametrize("words, digits, placeholder", [
    ("cvv", "123", "[CARD_SECURITY_CODE]"),
    ("CVV", "123", "[CARD_SECURITY_CODE]"),
    ("security code", "4821", "[CARD_SECURITY_CODE]"),
    ("social security number", "078 05 1120", "[SSN]"),
    ("routing number", "021000021", "[ROUTING_NUMBER]"),
])
@pytest.mark.parametrize("form", [full_width, bold], ids=["full-width", "mathematical bold"])
def test_a_keyword_in_compatibility_letters_names_the_number_as_in_ascii(words, digits, placeholder, form):
    ascii_text = f"my {words} is {digits}"
    assert redact_text(ascii_text).text == f"my {words} is {placeholder}"  # the reference
    for text in (f"my {form(words)} is {digits}", f"my {form(words)} is {full_width(digits)}"):
        if form is bold and not words.islower():
            continue  # bold() styles lower-case letters only
        assert redact_text(text).text == f"my {form(words)} is {placeholder}", text


def test_the_full_width_cvv_of_an_attribute_is_redacted_and_the_words_kept_as_typed():
    assert redact_attribute("ＣＶＶ １２３") == "ＣＶＶ [CARD_SECURITY_CODE]"
    assert redact_attribute("ｃｖｖ：１２３") == "ｃｖｖ：[CARD_SECURITY_CODE]"  # a full-width colon, as "cvv:123"
    assert redact_attribute("note: ＣＶＶ is １２３４") == "note: ＣＶＶ is [CARD_SECURITY_CODE]"


@pytest.mark.parametrize("text", ["cvv? no, my ｏｒｄｅｒ 123", "cvv? no, my ＯＲＤＥＲ ＮＵＭＢＥＲ 123", "cvv and ＲＯＯＭ 123"])
def test_a_keeping_word_in_full_width_is_the_nearer_context_as_in_ascii(text):
    ascii_text = unicodedata.normalize("NFKC", text)
    assert redact_text(ascii_text).text == ascii_text  # the nearest word says it is no security code
    assert redact_text(text).text == text


def test_the_receipt_points_at_the_original_characters():
    text = "ＣＶＶ： １２３"
    result = redact_text(text)
    assert result.text == "ＣＶＶ： [CARD_SECURITY_CODE]"
    assert result.counts == {"CARD_SECURITY_CODE": 1}


@pytest.mark.parametrize("text, redacted", [
    ("cvv#123", "cvv#[CARD_SECURITY_CODE]"),
    ("cvv=123", "cvv=[CARD_SECURITY_CODE]"),
    ("ｃｖｖ＝１２３", "ｃｖｖ＝[CARD_SECURITY_CODE]"),
    ("card=4111111111111111 cvv*123", "card=[CARD] cvv*[CARD_SECURITY_CODE]"),
    ("order#123456789", "order#123456789"),
    ("ref=1234", "ref=1234"),
])
def test_a_keyword_typed_against_a_mark_of_notes_still_names_its_number(text, redacted):
    assert redact_text(text).text == redacted


@pytest.mark.parametrize("text, redacted", [
    ("cvv123", "cvv[CARD_SECURITY_CODE]"),
    ("card 4111111111111111 cvv123", "card [CARD] cvv[CARD_SECURITY_CODE]"),
    ("4111111111111111cvc0421", "[CARD]cvc[CARD_SECURITY_CODE]"),
    ("ＣＶＶ１２３", "ＣＶＶ[CARD_SECURITY_CODE]"),
    # identifiers: another word glued, too many or too few digits, "cid" (a customer id as often)
    ("abccvv123", "abccvv123"), ("cvv12345", "cvv12345"), ("cvv12", "cvv12"), ("cid123", "cid123"),
    ("user838", "user838"),
])
def test_a_security_code_glued_to_its_keyword_is_redacted(text, redacted):
    assert redact_text(text).text == redacted
    assert redact_attribute(text) == redacted
