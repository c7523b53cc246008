"""A typed SSN is redacted whatever one separator joins its 3-2-4 groups: an outside probe of `make run` stored
"ssn 078–05–1120" (en dash), the same with other dashes, `/`, `_`, `~`, `·`, `*`, and "SSN078051120" whole, in
chat messages, reasons, attributes, profiles and transcripts alike (one redactor behind them all)."""
from __future__ import annotations

import pytest

from ccaas.domain.analytics.redaction import redact_attributes, redact_text

SEPARATORS = ["-", " ", ".", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\ufe58", "\ufe63",
              "\uff0d", "\u00a0", "\u2009", "\u202f", "/", "_", "~", "\u00b7", "*"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
def test_a_typed_ssn_is_redacted_whatever_separator_joins_its_groups(sep):
    typed = f"078{sep}05{sep}1120"
    assert redact_text(f"my ssn is {typed} thanks").text == "my ssn is [SSN] thanks"
    assert redact_text(f"it's {typed}").text == "it's [SSN]"  # 3-2-4 typed: an SSN without its words too
    assert redact_attributes({"ssn": typed, "note": f"ssn {typed}"}) == {"ssn": "[SSN]", "note": "ssn [SSN]"}


@pytest.mark.parametrize("text, redacted", [
    ("SSN078051120", "SSN[SSN]"),
    ("ssn078-05-1120", "ssn[SSN]"),
    ("id:ssn078051120.", "id:ssn[SSN]."),
])
def test_an_ssn_typed_against_its_word_is_an_ssn(text, redacted):
    assert redact_text(text).text == redacted


@pytest.mark.parametrize("text", [
    "078–05–1120–7",  # a longer dashed number
    "ref 1–078–05–1120",
    "date 2024/05/1120",
    "ssn 000–05–1120",  # never issued
    "lessn078051120",  # the word is part of another
    "SSN078051",  # too few digits
])
def test_what_is_not_a_typed_ssn_is_kept(text):
    assert redact_text(text).text == text


@pytest.mark.parametrize("text, redacted", [
    ("cust-536-22-1234", "cust-[SSN]"),  # an id that joins a word to the SSN with a dash (stored whole before)
    ("536-22-1234-x", "[SSN]-x"),
    ("id–078–05–1120", "id–[SSN]"),  # an en dash as the joiner, and as the separator
    ("ref-078-05-1120-b", "ref-[SSN]-b"),
])
def test_a_dash_between_an_ssn_and_a_word_only_joins_them(text, redacted):
    assert redact_text(text).text == redacted
    assert redact_attributes({"note": text}) == {"note": redacted}


def test_an_id_that_joins_a_word_to_an_ssn_with_a_dash_is_refused():
    from ccaas.domain.analytics.redaction import check_id
    from ccaas.domain.vocabulary import DomainError

    with pytest.raises(DomainError) as refused:
        check_id("customer_id", "cust-536-22-1234")
    assert refused.value.field == "customer_id" and "536" not in str(refused.value)
    check_id("customer_id", "cust-536-22-12345")  # no SSN: a longer number
