"""The customer directory's inputs (outside testers of `make run`, session 38):

1. a number was normalised again by the store's lookup and again on every read, and phonenumbers drops one trunk
   prefix per pass: `+490085200` was a 502 (internal_error in the flow), `+82088023009` was stored as +82023009
   and then no read of the customer (GET, POST /contacts, an agent's offers) worked; normalisation is idempotent,
   done once, where a caller gives the value, and a number it would read differently again is a 422;
2. what a PUT answers, what is stored, what a GET answers and the key a lookup uses are one string;
3. a "legacy key" is only a spelling that normalises to the number (Colombia's +57 0… is another number);
4. an e-mail address is an address (`<a@b.com>`, `mailto:`, `a@..com`, `a@b.12` refused);
5. POST /contacts takes a segment in the shape PUT /customers takes a tier in;
6. separators are any dash, white space, brackets, dots, slashes, after NFKC (a full-width ＋);
7. a 422 never names a caller's key that holds a number or an address.
The AWS adapter's side (a stored document reads back as written; legacy keys) is in
tests/contract/test_customers_fixes_38.py."""
from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ccaas.api import errors
from ccaas.bootstrap import memory_dependencies
from ccaas.domain import customers as directory
from ccaas.domain.customers import Customer, legacy_phone_keys, normalise_email, normalise_phone
from ccaas.domain.journeys import SpecError, SpecErrors
from ccaas.domain.models import Channel, DomainError
from ccaas.usecases import admin, connect_flow, customers
from ccaas.usecases.connect_flow import FlowSettings
from ccaas.usecases.contacts import ContactRequest
from ccaas.usecases.customers import CustomerProfile
from local.testing import examples
from tests.connect_tenant import add_flow_queues
from tests.unit.test_connect_flow import INSTANCE, SALES_ARN, TENANT, fixture

UGLY_NUMBERS = [
    # the testers' numbers: a trunk prefix phonenumbers drops once per pass
    "+490085200", "+43 000 2229", "+61 0000 215", "+82 088 0230 77", "+82088023009", "+82023009",
    "+1 1 1 415 555 0183", "+44 (0) 020 7946 0951", "+57 0321 123 4517", "+7 8 7 700 123 4517", "+7 7 700 123 4517",
    # ordinary spellings, and ones phonenumbers reads once
    "+1 415 555 0183", "+44 (0)20 7946 0958", "0044 20 7946 0958", "+4402079460958", "+114155550183",
    "+39 06 1234 5678", "+57 321 123 4517", "+7 700 123 4517", "+999 123 4567", "+1415555010",
    "+1–415–555–0101", "+1‑415‑555‑0101", "＋１４１５５５５０１０１", "+１４１５５５５０１０１", "+١٤١٥٥٥٥٠١٠٠",
]


def _normalised(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except ValueError:
        return None


def _assert_idempotent(raw: str) -> None:
    once = _normalised(raw)
    if once is not None:
        assert normalise_phone(once) == once, raw  # never raises on its own answer, never reads it as another


# --- 1. idempotent, once --------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", UGLY_NUMBERS)
def test_normalising_a_normalised_number_changes_nothing(raw):
    _assert_idempotent(raw)


_SEPARATOR = st.sampled_from(["", "", "", "", " ", " ", "-", "–", "‑", ".", "/", "\u3000", "\u00a0"])
_DIGIT = st.sampled_from("0123456789")


@st.composite
def _spellings(draw) -> str:
    """`+` or `00` (or a full-width ＋), a country code, trunk prefixes (0, 1, 8, 00, 088, ...: phonenumbers drops
    one per pass) and digits (sometimes full-width), separated, in brackets or not."""
    lead = draw(st.sampled_from(["+", "+", "00", "＋"]))
    country = draw(st.sampled_from(["1", "7", "33", "39", "43", "44", "49", "52", "55", "57", "61", "82", "86", "998"]))
    trunk = draw(st.sampled_from(["", "0", "00", "000", "(0)", "(0) 0", "1", "1 1", "8", "8 8", "088", "0 88"]))
    digits = "".join(draw(st.lists(_DIGIT, min_size=5, max_size=11)))
    separator = draw(_SEPARATOR)
    body = separator.join((digits[:3], digits[3:6], digits[6:])) if draw(st.booleans()) else digits
    if draw(st.integers(0, 4)) == 0:
        body = body.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return f"{lead}{country}{draw(_SEPARATOR)}{trunk}{draw(_SEPARATOR)}{body}"


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_spellings())
@example("+4300１０４００")  # what this strategy found against the release before (one 0 dropped per pass)
@example("+61\xa0(0) 0\xa011188")
def test_normalisation_is_idempotent_for_generated_spellings(raw):
    _assert_idempotent(raw)


@pytest.mark.parametrize("raw", ["+490085200", "+43 000 2229", "+61 0000 215", "+82 088 0230 77", "+1415555010"])
def test_a_number_normalisation_cannot_settle_is_a_422_naming_phone_not_an_error_of_the_store(raw):
    with pytest.raises(DomainError) as refused:
        customers.lookup_customer(memory_dependencies(), "t1", phone=raw)
    assert refused.value.field == "phone" and raw not in str(refused.value)


def test_a_put_of_such_a_number_names_its_position_and_stores_nothing():
    deps = memory_dependencies()
    with pytest.raises(DomainError) as refused:
        customers.put_customer(deps, "t1", "kr9", CustomerProfile(tier="gold", phones=["+14155550100", "+82088023009"]))
    assert refused.value.field == "phones[1]" and "82088023009" not in str(refused.value)
    assert deps.customers.get("t1", "kr9") is None


def test_a_stored_customer_is_read_as_written_never_normalised_again():
    """A document the earlier release wrote (+82023009, which a second pass refuses) still loads."""
    doc = '{"tenant_id": "t1", "customer_id": "kr9", "tier": "gold", "phones": ["+82023009"], "emails": ["<a@b.12>"]}'
    stored = Customer.model_validate_json(doc, context={"stored": True})
    assert stored.phones == ("+82023009",) and stored.emails == ("<a@b.12>",)
    with pytest.raises(ValidationError):
        Customer.model_validate_json(doc)  # as input it is refused


# --- 2. one string --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["+1 415 555 0183", "+44 (0)20 7946 0951", "0044 20 7946 0951", "+4402079460951",
                                      "+114155550183", "+39 06 1234 5678", "+1–415–555–0101", "＋１ ４１５ ５５５ ０１８３"])
def test_the_put_answer_the_stored_number_the_get_and_the_lookup_key_are_one_string(spelling):
    deps = memory_dependencies()
    answered = customers.put_customer(deps, "t1", "p3", CustomerProfile(phones=[spelling]))
    (number,) = answered.phones
    assert normalise_phone(number) == number == normalise_phone(spelling)
    assert customers.get_customer(deps, "t1", "p3") == answered
    assert customers.find_customer(deps, "t1", phone=spelling) == answered
    assert customers.find_customer(deps, "t1", phone=number) == answered
    # a client that reads the customer and sends it back changes nothing (the tester's 409)
    again = customers.put_customer(deps, "t1", "p3", CustomerProfile(phones=list(answered.phones)))
    assert again.phones == answered.phones


@pytest.mark.parametrize("spelling", ["+1 1 1 415 555 0183", "+44 (0) 020 7946 0951"])
def test_a_trunk_prefix_given_twice_is_refused_not_stored_as_a_second_spelling_of_another_customer_s_number(spelling):
    deps = memory_dependencies()
    customers.put_customer(deps, "t1", "q3", CustomerProfile(phones=["+1 415 555 0183", "+44 20 7946 0951"]))
    with pytest.raises(DomainError) as refused:
        customers.put_customer(deps, "t1", "p3", CustomerProfile(phones=[spelling]))
    assert refused.value.field == "phones[0]"
    assert deps.customers.get("t1", "p3") is None


# --- 3. legacy keys -------------------------------------------------------------------------------------------
def test_only_a_spelling_that_normalises_to_the_number_is_its_legacy_key():
    assert legacy_phone_keys("+442079460958") == ("+4402079460958",)  # "+44 020 …" is the same number
    assert legacy_phone_keys("+14155550183") == ("+114155550183",)
    assert legacy_phone_keys("+573211234517") == ()  # phonenumbers keeps Colombia's 0: +5703211234517 is another
    assert normalise_phone("+57 0321 123 4517") == "+5703211234517" != normalise_phone("+57 321 123 4517")


# --- 4. e-mail addresses --------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["<jo1@example.com>", "mailto:jo1@example.com", "jo1@example.com>", "a@..com",
                                 ".a@b.com", "a.@b.com", "a..b@c.com", "a@b.12", "a@b", "a@b.c", "a@-b.com", "a@b-.com",
                                 "a b@c.com", "a@b@c.com", '"a"@b.com', "a@[10.0.0.1]", "@b.com", "a@", "a@b..com"])
def test_what_is_not_an_e_mail_address_is_refused(raw):
    with pytest.raises(ValueError) as refused:
        normalise_email(raw)
    assert raw not in str(refused.value)


@pytest.mark.parametrize(("raw", "stored"), [
    ("Jo1@Example.com", "jo1@example.com"), (" a.b+tag@sub.example.co.uk ", "a.b+tag@sub.example.co.uk"),
    ("o'brien@example.ie", "o'brien@example.ie"), ("josé@exämple.de", "josé@exämple.de"),
    ("ｊｏｓｅ@Ｅｘａｍｐｌｅ.com", "jose@example.com"), ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ("x@mail.example.museum", "x@mail.example.museum"), ("a@b.co", "a@b.co"),
    ("e" * 64 + "@" + "d" * 63 + ".com", "e" * 64 + "@" + "d" * 63 + ".com"),
])
def test_addresses_are_taken_as_before(raw, stored):
    assert normalise_email(raw) == stored == normalise_email(stored)


def test_a_lookup_or_a_put_of_a_non_address_is_a_422_naming_the_field():
    deps = memory_dependencies()
    customers.put_customer(deps, "t1", "jo-a1", CustomerProfile(emails=["jo1@example.com"]))
    with pytest.raises(DomainError) as lookup:
        customers.find_customer(deps, "t1", email="<jo1@example.com>")
    assert lookup.value.field == "email"
    with pytest.raises(DomainError) as put:
        customers.put_customer(deps, "t1", "jo-b1", CustomerProfile(emails=["b@example.com", "mailto:jo1@example.com"]))
    assert put.value.field == "emails[1]" and "jo1" not in str(put.value)
    assert deps.customers.get("t1", "jo-b1") is None


# --- 5. a contact's segment -----------------------------------------------------------------------------------
@pytest.mark.parametrize("segment", ["PLATINUM", "Gold", "1gold", "gold.vip", "gold:vip"])
def test_a_contact_s_segment_has_the_shape_put_customers_takes_a_tier_in(segment):
    with pytest.raises(ValidationError) as refused:
        ContactRequest(channel=Channel.VOICE, queue_id="sales", segment=segment)
    assert [e["loc"] for e in refused.value.errors()] == [("segment",)]
    assert ContactRequest(channel=Channel.VOICE, queue_id="sales", segment="platinum").segment == "platinum"
    assert customers.Customer(tenant_id="t1", customer_id="c", tier="self_service").tier == "self_service"


# --- 6. separators --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["+1–415–555–0101", "+1‑415‑555‑0101", "+1—415—555—0101", "+1−415−555−0101",
                                      "＋１４１５５５５０１０１", "+１４１５５５５０１０１", "＋１（４１５）５５５－０１０１",
                                      "+1\u3000415\u3000555\u30000101", "+1\u00a0415\u00a0555\u00a00101",
                                      "+1 [415] 555.0101", "+1/415/555/0101"])
def test_common_separators_and_full_width_input_are_the_number(spelling):
    assert normalise_phone(spelling) == "+14155550101"


@pytest.fixture
def flow_deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=TENANT, name="Acme")
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=INSTANCE)
    add_flow_queues(deps, TENANT)
    connect_flow.put_flow_settings(deps, TENANT, FlowSettings(queues={"sales": SALES_ARN}))
    customers.put_customer(deps, TENANT, "c-gold", CustomerProfile(tier="gold", phones=["+14155550101"]))
    return deps


def _identify(deps, phone: str) -> dict[str, str]:
    reply, _ = connect_flow.answer(lambda: deps, fixture("task_null_sections", action="identify", phone=phone))
    return reply


@pytest.mark.parametrize("spelling", ["+1–415–555–0101", "+1‑415‑555‑0101", "＋１４１５５５５０１０１", "+１４１５５５５０１０１"])
def test_the_flow_identifies_a_caller_whatever_the_separators(flow_deps, spelling):
    reply = _identify(flow_deps, spelling)
    assert (reply["status"], reply["found"], reply["customer_id"]) == ("ok", "true", "c-gold")


@pytest.mark.parametrize("raw", ["+490085200", "+82 088 0230 77", "+1" + " " * 64 + "4155550101"])
def test_the_flow_answers_a_number_it_cannot_read_as_an_invalid_parameter_not_an_internal_error(flow_deps, raw):
    reply = _identify(flow_deps, raw)
    assert (reply["status"], reply["error_code"]) == ("error", "invalid_parameter")
    assert reply["error_message"].startswith("phone:") and raw.strip() not in reply["error_message"]


def test_one_length_bound_for_a_number_everywhere():
    bound = directory.MAX_PHONE_CHARS
    padded = "+1 415 555 0101" + " " * (bound - 15)  # separators count: 64 characters are taken
    assert normalise_phone(padded) == "+14155550101"
    with pytest.raises(ValueError):
        normalise_phone(padded + " ")
    assert CustomerProfile.model_json_schema()["properties"]["phones"]["items"]["maxLength"] == bound


# --- 7. keys in 422s ------------------------------------------------------------------------------------------
def _body(response) -> dict:
    return response.body if isinstance(response.body, dict) else json.loads(response.body)


PERSONAL_KEYS = ["ssn 219-09-9999", "jo.doe@example.com +1 415 555 0101", "dob 1985", "ｊｏ＠ｅｘａｍｐｌｅ", "4111111111111111"]


@pytest.mark.parametrize("key", PERSONAL_KEYS)
def test_a_422_never_names_a_key_that_holds_a_number_or_an_address(key):
    problem = {"type": "string_too_long", "loc": ("body", "attributes", key), "msg": "String should have at most 1024 characters"}
    response = errors.validation_error_response(RequestValidationError([problem]))
    body = _body(response)
    assert response.status_code == 422 and body["field"].startswith("attributes.<not shown")
    text = json.dumps(body, ensure_ascii=False)
    for piece in (key, "219", "example", "4155550101", "1985", "ｊｏ", "4111"):
        if piece in key:
            assert piece not in text, text  # not in message, field nor detail.loc


@pytest.mark.parametrize("name", ["tier", "line2", "u0", "abandonment_rate_30d", "segments"])
def test_names_without_a_number_or_an_address_are_still_named(name):
    assert errors.shown_name(name) == name


def test_a_located_problem_s_path_masks_the_same_keys():
    """Journeys and analytics rules name problems by their path (SpecErrors): built from the loc, names masked."""
    located = SpecErrors([SpecError.at(("journeys", 0, "inputs", "attributes", "ssn 219-09-9999"), "too long")])
    problem = {"type": "value_error", "loc": ("body",), "msg": "Value error", "ctx": {"error": located}}
    body = _body(errors.validation_error_response(RequestValidationError([problem])))
    assert "219" not in json.dumps(body) and body["field"] == "journeys[0].inputs.attributes.<not shown: digits or @>"
    rules = SpecErrors([SpecError("form.sections[1].questions[0]", "unknown rule", loc=("sections", 1, "questions", 0))])
    body = _body(errors.validation_error_response(RequestValidationError(
        [{"type": "value_error", "loc": ("body", "form"), "msg": "Value error", "ctx": {"error": rules}}])))
    assert body["field"] == "form.sections[1].questions[0]"  # the path as the domain writes it


def test_a_put_names_the_profile_field_never_an_attribute_key():
    deps = memory_dependencies()
    with pytest.raises(DomainError) as refused:
        customers.put_customer(deps, "t1", "lim3", CustomerProfile(attributes={"ssn 219-09-9999": "cvv 123 " * 128}))
    assert refused.value.field == "attributes" and "219" not in str(refused.value)
