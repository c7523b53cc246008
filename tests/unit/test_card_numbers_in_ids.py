"""Ids and routing values never hold a card (or social security) number, and errors never quote one (outside
review P27, findings 5-7): `POST /contacts` refuses a `customer_id` / `segment` that holds one (an id keys the
customer index: not redacted silently); every route into history (ours, a Connect CTR, a contact stored before)
passes segment, skill and customer id through the card/SSN detectors, and the lake's contact_records follow
history; an outbound list row whose row_id / account_id / debt_id is one is a row error naming the column; list
and contact errors name the field, never a value of 13 or more digits."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Channel, ContactState, DomainError, Queue
from ccaas.domain.tenants import Tenant
from ccaas.usecases import admin, customers, history, outbound
from ccaas.usecases.contacts import ContactRequest, create_contact
from ccaas.usecases.customers import CustomerProfile
from ccaas.usecases.outbound import CampaignRequest, ListUpload
from tests.history_data import card_leaks
from tests.lake_twin import installed_export

T = "t1"
PAN, OTHER_PAN, AMEX, SSN = "4111111111111111", "5555555555554444", "378282246310005", "123-45-6789"
CARDS = (PAN, OTHER_PAN, AMEX, "6011000990139424")
CTR_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/p27"


def _deps(stored_off: bool = False):
    """`stored_off`: the tenant's analytics rules as stored before attribute redaction could no longer be turned off
    (`contact_attributes: false`, cards not detected): they load with both on."""
    deps = memory_dependencies()
    deps.config.put_tenant(Tenant(tenant_id=T, name="Cards"))
    deps.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    if stored_off:
        deps.config.put_settings(T, "analytics", {"redaction": {"contact_attributes": False, "detect": ["EMAIL"]}})
    return deps


def _stored_contacts(deps) -> list:
    return list(deps.store.contacts.values())


# --- finding 5: POST /contacts ------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [("customer_id", PAN), ("customer_id", f"cust-{OTHER_PAN}"),
                                              ("customer_id", SSN), ("segment", "card-6011000990139424")])
def test_a_contact_whose_customer_id_or_segment_holds_a_card_or_ssn_is_refused_naming_the_field(field, value):
    deps = _deps()
    with pytest.raises(DomainError) as refused:
        create_contact(deps, T, ContactRequest(channel=Channel.VOICE, queue_id="sales", **{field: value}))
    assert refused.value.field == field and value not in str(refused.value) and not card_leaks(str(refused.value), CARDS)
    assert not _stored_contacts(deps)  # nothing written, no workflow started


def test_ordinary_ids_are_taken_and_a_tenant_without_attribute_redaction_takes_any():
    deps = _deps()
    for customer_id in ("c-1", "123456789", "4155550100", "1234567890123456"):  # the last fails Luhn: no card
        assert create_contact(deps, T, ContactRequest(channel=Channel.VOICE, queue_id="sales",
                                                      customer_id=customer_id)).customer_id == customer_id
    # attribute redaction is never off: a tenant whose stored rules said so refuses a card as an id too
    with pytest.raises(DomainError) as refused:
        create_contact(_deps(stored_off=True), T, ContactRequest(channel=Channel.VOICE, queue_id="sales", customer_id=PAN))
    assert refused.value.field == "customer_id" and PAN not in str(refused.value)


def test_an_unknown_queue_or_previous_contact_is_named_by_field_never_by_value():
    deps = _deps()
    for request, field in ((ContactRequest(channel=Channel.VOICE, queue_id=PAN), "queue_id"),
                           (ContactRequest(channel=Channel.VOICE, queue_id="sales", previous_contact_id=OTHER_PAN),
                            "previous_contact_id")):
        with pytest.raises(DomainError) as refused:
            create_contact(deps, T, request)
        assert refused.value.field == field and not card_leaks(str(refused.value), CARDS), str(refused.value)


# --- finding 5, defence in depth: every route into history, and the lake after it -----------------------------
def _ended(deps, contact, **update):
    done = contact.model_copy(update={"state": ContactState.ABANDONED, "ended_at": contact.initiated_at + 5_000,
                                      "version": contact.version + 1, **update})
    deps.store.save(contacts=[done])
    return done


def test_history_and_the_lake_never_hold_a_card_in_customer_id_segment_or_skill():
    """A contact stored before POST /contacts refused such ids, and a segment from the customer directory's tier
    (customers' own route): the record drops the card customer id (a "[CARD]" customer would make every such
    contact a repeat of the others) and redacts segment and skill."""
    deps = _deps()
    customers.put_customer(deps, T, "c-1", CustomerProfile(tier=f"x{OTHER_PAN}"))
    legacy = create_contact(deps, T, ContactRequest(channel=Channel.VOICE, queue_id="sales"))
    tiered = create_contact(deps, T, ContactRequest(channel=Channel.VOICE, queue_id="sales", customer_id="c-1"))
    assert tiered.routing.segment == f"x{OTHER_PAN}"  # the directory's tier, stored as given by its own route
    _ended(deps, legacy, customer_id=PAN, attributes={"skill": AMEX})
    _ended(deps, tiered)
    with installed_export() as lake:
        for contact in (legacy, tiered):
            assert history.record_contact(deps, T, contact.contact_id).recorded
    old = deps.history.get_entry(T, legacy.contact_id).record
    new = deps.history.get_entry(T, tiered.contact_id).record
    assert old.customer_id is None and old.skill == "[CARD]"
    assert new.customer_id == "c-1" and new.segment == "x[CARD]"
    rows = lake.of("contact_records")
    assert {r["contact_id"] for r in rows} == {legacy.contact_id, tiered.contact_id}
    assert not card_leaks(json.dumps(rows), CARDS)
    assert not deps.history.customer_entries(T, "[CARD]", 0, 2**62)  # no customer made of every card holder


def test_a_connect_records_card_customer_id_is_dropped_and_its_dimensions_redacted():
    deps = _deps()
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    ctr = json.loads((CTR_DIR / "inbound_voice_answered.json").read_text())
    ctr["InstanceARN"] = INSTANCE
    ctr["Attributes"] = {"reason": f"card {PAN} declined", "segment": OTHER_PAN, "customer_id": AMEX, "skill": "billing"}
    with installed_export() as lake:
        history.ingest_ctr(deps, json.dumps(ctr).encode())
    record = deps.history.get_entry(T, ctr["ContactId"]).record
    assert record.customer_id is None and record.segment == "[CARD]" and record.skill == "billing"
    assert "[CARD]" in record.reason and not card_leaks(json.dumps(record.model_dump()) + json.dumps(lake.rows), CARDS)


# --- findings 6 and 7: outbound lists ---------------------------------------------------------------------------
def _upload(deps, content: str):
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="debt", name="Card debt", mode="preview",
                                                      queue_id="sales", caller_id="+12125550199"))
    return outbound.upload_list(deps, T, "debt", ListUpload(format="csv", content=content))


def test_a_list_row_keyed_by_a_card_number_is_a_row_error_naming_the_column_and_never_stored():
    deps = _deps()
    result = _upload(deps, "row_id,phone,account_id,debt_id\n"
                           f"r1,+12125550101,{PAN},\n"
                           f"{OTHER_PAN},+12125550102,acct-2,\n"
                           f"r3,+12125550103,,{AMEX}\n"
                           f"r4,+12125550104,{SSN},\n"
                           "r5,+12125550105,acct-5,\n")
    assert result.accepted == 1 and result.rejected == 4
    assert {(e.line, e.field) for e in result.errors} == {(2, "account_id"), (3, "row_id"), (4, "debt_id"),
                                                          (5, "account_id")}
    assert all("surrogate id" in e.message for e in result.errors)
    stored = json.dumps([r.model_dump(mode="json") for r in deps.outbound.rows.values()], default=str)
    assert [r.row.row_id for r in deps.outbound.rows.values()] == ["r5"] and not card_leaks(stored, CARDS)
    assert not card_leaks(json.dumps(result.model_dump(mode="json")), CARDS)


def test_a_tenant_whose_stored_rules_turned_attribute_redaction_off_keys_no_row_by_a_card():
    result = _upload(_deps(stored_off=True), f"row_id,phone,account_id\nr1,+12125550101,{PAN}\n")
    assert result.accepted == 0 and [e.field for e in result.errors] == ["account_id"]


def test_list_errors_name_the_field_and_never_quote_a_value_of_13_or_more_digits():
    deps = _deps()
    result = _upload(deps, "row_id,phone,state,postal_code,time_zone\n"
                           f"r1,+12125550101,{PAN},,\n"                 # state
                           f"r2,{OTHER_PAN},,,\n"                       # phone
                           f"r3,+12125550103,,,{AMEX}\n"                # time_zone
                           "r4,+12125550104,,,x4111 1111 1111 1111\n"   # time_zone, grouped
                           "1234567890123,+12125550105,,,\n"
                           "1234567890123,+12125550106,,,\n"            # duplicate row_id of 13 digits
                           "r7,+12125550107,ZZ,,Mars/Olympus\n")        # short values: still quoted
    by_field = {(e.line, e.field): e.message for e in result.errors}
    assert set(by_field) == {(2, "state"), (3, "phone"), (4, "time_zone"), (5, "time_zone"), (7, "row_id"),
                             (8, "state"), (8, "time_zone")}
    for message in [m for (line, _), m in by_field.items() if line < 8]:
        assert sum(c.isdigit() for c in message) < 13 and not card_leaks(message, CARDS), message
    assert "'ZZ'" in by_field[(8, "state")] and "'Mars/Olympus'" in by_field[(8, "time_zone")]


@pytest.mark.parametrize("customer_id", [PAN, "4012888888881881", "078-05-1120"])
def test_a_customer_profile_keyed_by_a_card_or_ssn_is_refused_and_nothing_is_stored(customer_id):
    """An outside probe stored PUT /customers/4111111111111111 in clear: a profile POST /contacts could never name."""
    deps = _deps()
    with pytest.raises(DomainError) as refused:
        customers.put_customer(deps, T, customer_id, CustomerProfile(name="x"))
    assert refused.value.field == "customer_id" and customer_id not in str(refused.value)
    assert deps.customers.get(T, customer_id) is None
    assert customers.put_customer(deps, T, "cust-77", CustomerProfile(name="x")).customer_id == "cust-77"
