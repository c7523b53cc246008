"""Free-form attributes never store a card or social security number: a contact's, a customer's profile (name,
keys, values), a campaign list row's extra columns (CSV cells and headers, JSON `attributes`). The tenant's
`redaction.contact_attributes` setting is never off (PCI DSS): `false` is refused, and a stored `false` (from before
that rule) loads as `true`."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.analytics.redaction import redact_attributes
from ccaas.domain.models import Channel, DomainError, Queue
from ccaas.domain.tenants import Tenant
from ccaas.usecases import customers, outbound
from ccaas.usecases.analytics import AnalyticsRules
from ccaas.usecases.contacts import NewContact, create_contact
from ccaas.usecases.customers import CustomerProfile
from ccaas.usecases.outbound import CampaignRequest, ListUpload
from local.testing import examples

T = "t1"
CARD, OTHER_CARD, SSN = "4111 1111 1111 1111", "5555555555554444", "123-45-6789"


def test_keys_and_values_are_redacted_and_numbers_people_are_reached_by_are_kept():
    redacted = redact_attributes({"note": f"card {CARD} ok", CARD.replace(" ", ""): "x", "ssn": SSN,
                                  "phone": "+14155550100", "email": "pat@example.com", "account_id": "acct-77"})
    assert redacted == {"note": "card [CARD] ok", "[CARD]": "x", "ssn": "[SSN]", "phone": "+14155550100",
                        "email": "pat@example.com", "account_id": "acct-77"}


def test_keys_that_redact_alike_are_all_kept():
    redacted = redact_attributes({CARD: "first", OTHER_CARD: "second", "[CARD]": "third"})
    assert redacted == {"[CARD]": "first", "[CARD] (2)": "second", "[CARD] (3)": "third"}


def test_a_number_never_runs_on_from_one_value_into_the_next():
    # "4111 1111" then "1111 1111" would be a card read together; each value is its own text
    assert redact_attributes({"a": "4111 1111", "b": "1111 1111"}) == {"a": "4111 1111", "b": "1111 1111"}


def _deps(stored_off: bool = False):
    deps = memory_dependencies()
    deps.config.put_tenant(Tenant(tenant_id=T, name="Cards"))
    deps.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    if stored_off:  # as stored before the rule: attributes and cards not redacted
        deps.config.put_settings(T, "analytics", {"redaction": {"contact_attributes": False, "detect": ["EMAIL"]}})
    return deps


def _stored(deps) -> dict:
    customer = customers.put_customer(deps, T, "c-1", CustomerProfile(
        name=f"Pat {CARD}", attributes={"card_on_file": CARD, OTHER_CARD: "x"}))
    contact = create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", attributes={OTHER_CARD: SSN}))
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="k1", name="K", mode="preview", queue_id="sales",
                                                      caller_id="+12125550199"))
    outbound.upload_list(deps, T, "k1", ListUpload(format="csv", content=f"phone,notes,{OTHER_CARD}\n+12125550143,\"{CARD}\",y\n"))
    (row,) = [r.row for r in deps.outbound.rows.values()]
    stored = deps.customers.get(T, "c-1")
    assert stored == customer
    return {"name": stored.name, "customer": stored.attributes, "contact": deps.store.get_contact(T, contact.contact_id).attributes,
            "row": row.attributes}


@pytest.mark.parametrize("stored_off", [False, True], ids=["default", "stored off before the rule"])
def test_profiles_contacts_and_list_rows_are_always_redacted(stored_off):
    stored = _stored(_deps(stored_off))
    assert stored == {"name": "Pat [CARD]", "customer": {"card_on_file": "[CARD]", "[CARD]": "x"},
                      "contact": {"[CARD]": "[SSN]"}, "row": {"notes": "[CARD]", "[CARD]": "y"}}


@pytest.mark.parametrize(("redaction", "field"), [({"contact_attributes": False}, "contact_attributes"),
                                                   ({"detect": ["EMAIL", "SSN"]}, "detect"), ({"detect": []}, "detect")])
def test_card_redaction_cannot_be_turned_off(redaction, field):
    """An outside probe sent `detect: ["EMAIL"]`, then stored a card number and its code in plain: PCI DSS."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        AnalyticsRules.model_validate({"redaction": redaction})
    assert field in str(refused.value) and "PCI DSS" in str(refused.value)
    kept = AnalyticsRules.model_validate({"redaction": {"detect": ["CARD"]}}).redaction.detect
    assert {"CARD", "CARD_SECURITY_CODE"} <= kept


_PIECES = st.sampled_from(["4", "1", "9", "12", "4111", "123", "45", "6789", "-", " ", ", ", "four", "one", "oh", "double",
                           "triple", "nine", "twenty", "for", "to", "ate", "won", "card", "ssn", "social", "number", "is",
                           "my", "cvv", "exp", "expiry", "\n", "x", "hundred", "thousand", "treble", "eleven", "thirty",
                           "security", "code", "pin", "too", "ssn:", "account",
                           # ids and references under an SSN's 9 digits skip the redactor unless a code's word is there
                           "acct-00017", "r00042", "line-7", "7", "00", "555", "CVV", "cvv:", "Cvv2", "cvc", "csc", "cid",
                           "cvn", "the", "back", "front", "three", "digits", "3", "verification", "value", "sec", "visa",
                           "amex", "master", "american", "express", "credit", "debit", "ｃｖｖ", "ＣＶＶ", "１２３",
                           "x1111cvv123", "feedback", "ending", "last", "valid", "thru", "/", "12/29", "\u00a0", "#", "expires",
                           "exp:", "date", "end", "april", "ss", "s.s.n", "taxpayer", "id", "１２", "0412",
                           # a phrase's short last word counts as a whole word only ("s n", "taxpayer id", "... no")
                           "s", "n", "no", "n.", "(n)", "id:", "ｉｄ", "no's", "row_id", "account_id", "\t"])


@given(st.lists(_PIECES, max_size=30).map(" ".join) | st.lists(_PIECES, max_size=8).map("".join))
@settings(max_examples=examples(600), deadline=None)
def test_what_skips_the_redactor_is_what_the_redactor_would_keep(text):
    from ccaas.domain.analytics.redaction import _attribute_redactor, _may_spell_a_number

    if not _may_spell_a_number(text):
        assert _attribute_redactor().redact(text).text == text


@pytest.mark.parametrize(("text", "may"), [
    ("acct-00017", False), ("r00042", False), ("line-7.u1", False), ("order 12345678", False),
    ("cvv 123", True), ("ＣＶＶ １２３", True), ("x1111cvv123", True), ("the back 123", True), ("123 exp 123", True),
    ("123-45-6789", True), ("four one one one two two two three three", True),
    # the key a list upload checks an id with (redact_attributes reads "row_id\nr00042"): "id" and "n" inside words
    # are no SSN phrase's last word ("taxpayer id", "s n"), whole words are
    ("row_id\nr00042", False), ("account_id\nacct-00017", False), ("taxpayer id 123", True), ("s n: 123", True),
    ("social security no. 123", True)])
def test_ids_under_an_ssn_s_digits_skip_the_redactor_unless_a_code_s_word_is_there(text, may):
    """A list upload checks each row's ids (row_id, account_id) with the redactor: half of its parse went there."""
    from ccaas.domain.analytics.redaction import _may_spell_a_number

    assert _may_spell_a_number(text) is may


CODES = "cvv 123 " * 128  # 1,024 characters that redaction makes longer ("[CARD_SECURITY_CODE]" for each code)


def test_the_bounds_hold_for_what_is_stored_placeholders_included():
    deps = _deps()
    # what the API documents is kept: values up to 1,024 characters (the directory took only 256 before)
    stored = customers.put_customer(deps, T, "c-1", CustomerProfile(attributes={"history": "x" * 1024}))
    assert stored.attributes == {"history": "x" * 1024}
    # a value that only redaction pushes past the bound is refused, naming the field, and nothing is stored
    with pytest.raises(DomainError) as refused:
        customers.put_customer(deps, T, "c-2", CustomerProfile(attributes={"codes": CODES}))
    assert refused.value.field == "attributes" and "[CARD_SECURITY_CODE]" in str(refused.value)
    assert deps.customers.get(T, "c-2") is None
    # a list row the same way: an error at its line and column, the other rows load
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="k1", name="K", mode="preview", queue_id="sales",
                                                      caller_id="+12125550199"))
    upload = outbound.upload_list(deps, T, "k1", ListUpload(format="csv", content=(
        f"phone,notes\n+12125550143,\"{CODES[:256]}\"\n+12125550144,\"cvv 123\"\n")))
    assert upload.accepted == 1 and [(e.line, e.field) for e in upload.errors] == [(2, "notes")]
    (row,) = [r.row for r in deps.outbound.rows.values()]
    assert row.attributes == {"notes": "cvv [CARD_SECURITY_CODE]"}


@pytest.mark.parametrize("text", [
    "visa4111111111111111", "card:4111111111111111x", "my card is visa4111111111111111 exp 09/29",
    "4111111111111111exp0929", "5500-0055-5555-5559cvv123", "A4111111111111111B",
    "4111_1111_1111_1111", "4111|1111|1111|1111", "4111~1111~1111~1111", "**4111** **1111** **1111** **1111**",
    "#4111 #1111 #1111 #1111", "'4111' '1111' '1111' '1111'", '["4111","1111","1111","1111"]',
    "4111\u00ad1111\u00ad1111\u00ad1111", "4\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1",
    "4\ufe0f\u20e3111 1111 1111 1111",
    # text that went through a web form, an HTML page or a mail encoder; an IME's blanks and digits
    "card 4111%201111%201111%201111 thanks", "4111&nbsp;1111&nbsp;1111&nbsp;1111", "4111&#160;1111&#160;1111&#160;1111",
    "4111=C2=A01111=C2=A01111=C2=A01111", "4111+1111+1111+1111", "pay 4111%2D1111%2D1111%2D1111",
    "4111\u30001111\u30001111\u30001111", "\uff14\uff11\uff11\uff11\u3000\uff11\uff11\uff11\uff11\u3000\uff11\uff11\uff11\uff11\u3000\uff11\uff11\uff11\uff11",
])
def test_a_card_glued_to_letters_or_split_by_marks_is_redacted(text):
    """Digits glued to a word, and groups split by marks no one says (markdown, pipes, quotes, invisible
    characters): the number runs keep a number that is part of a word, so these were stored as typed."""
    from ccaas.domain.analytics.redaction import redact_attribute, redact_text

    for redacted in (redact_text(text).text, redact_attribute(text)):
        assert "[CARD]" in redacted and sum(c.isdigit() for c in redacted) < 8, redacted


@pytest.mark.parametrize(("text", "kept"), [
    ("user838 wrote", "user838"), ("ticket INC4111111111111112 is open", "INC4111111111111112"),  # not Luhn-valid
    ("order_1234_5678", "order_1234_5678"), ("due 2026-11-20, 10:15", "2026-11-20, 10:15"),
    ("call 555%20123%204567", "555%20123%204567"), ("order 12345+67890", "12345+67890"), ("a&nbsp;b 1&nbsp;2", "1&nbsp;2"),
])
def test_numbers_in_words_that_are_no_card_are_kept(text, kept):
    from ccaas.domain.analytics.redaction import redact_attribute, redact_text

    assert kept in redact_text(text).text and kept in redact_attribute(text)


def test_a_value_is_read_after_its_key_as_after_the_words_before_it():
    """{"cvv": "123"} stored the code: the value was read alone, and "123" alone is no code (outside probe)."""
    assert redact_attributes({"cvv": "123", "ssn": "078051120", "ＣＶＶ": "１２３", "security code": "4821"}) == {
        "cvv": "[CARD_SECURITY_CODE]", "ssn": "[SSN]", "ＣＶＶ": "[CARD_SECURITY_CODE]",
        "security code": "[CARD_SECURITY_CODE]"}
    # a key that names something else keeps its number, as in text; ids skip the redactor as before
    assert redact_attributes({"order": "123", "row_id": "r00042", "account_id": "acct-00017"}) == {
        "order": "123", "row_id": "r00042", "account_id": "acct-00017"}


def test_a_values_line_breaks_are_kept_when_it_is_read_after_its_key():
    assert redact_attributes({"note": "call back\ncvv 123\nthanks", "cvv\n(back)": "123\nok"}) == {
        "note": "call back\ncvv [CARD_SECURITY_CODE]\nthanks", "cvv\n(back)": "[CARD_SECURITY_CODE]\nok"}
