"""A consult leg has no customer on it: what only a customer does (leave the queue, ask for a callback, hang up) is a
409 naming why on a leg, and nothing is written. The integration key's abandon turned a leg CUSTOMER_LEFT while the
customer waited on hold with the consulting agent; its callback made a CALLBACK contact to the number given and
offered it to another agent. README "Transfers" (the consult leg) and "Contacts" (callback)."""
from __future__ import annotations

import pytest

from ccaas.domain import lifecycle
from ccaas.domain.models import Conflict, ContactState
from ccaas.usecases import contacts, transfers
from tests.unit.demo import TENANT, ana_consults as _ana_consults

NUMBER = "+14155550123"




def _snapshot(deps, *contact_ids):
    return [deps.store.get_contact(TENANT, c) for c in contact_ids], len(deps.events.events)


def test_a_waiting_consult_leg_cannot_be_abandoned_nor_turned_into_a_callback():
    deps, cid, leg_id = _ana_consults()  # nobody free: the leg waits in sales
    before = _snapshot(deps, cid, leg_id)
    assert before[0][1].state == ContactState.QUEUED
    for verb, call in (("abandoned", lambda: contacts.abandon_contact(deps, TENANT, leg_id, reason="CUSTOMER_LEFT",
                                                                      from_workflow=False)),
                       ("called back", lambda: contacts.request_callback(deps, TENANT, leg_id, NUMBER))):
        with pytest.raises(Conflict) as refused:
            call()
        message = str(refused.value)
        assert refused.value.field == "contact_id" and "consult leg" in message and f"cannot be {verb}" in message
        assert f"the customer is on contact {cid}" in message and NUMBER not in message
        assert _snapshot(deps, cid, leg_id) == before  # nothing written, no event
    assert "tok-leg" not in deps.workflow.answers  # the leg's wait goes on
    # ana is still the one who ends it
    assert transfers.cancel_consult(deps, TENANT, "ana", cid).consult_contact_id is None


def test_an_offered_or_answered_leg_is_refused_too_and_disconnect_says_why():
    deps, cid, leg_id = _ana_consults("ben")
    assert deps.store.get_contact(TENANT, leg_id).state == ContactState.OFFERED
    with pytest.raises(Conflict, match="consult leg"):
        contacts.abandon_contact(deps, TENANT, leg_id, reason="CUSTOMER_LEFT", from_workflow=False)
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    for call in (lambda: transfers.disconnect_customer(deps, TENANT, leg_id),
                 lambda: contacts.request_callback(deps, TENANT, leg_id, NUMBER),
                 lambda: contacts.abandon_contact(deps, TENANT, leg_id, reason="CUSTOMER_LEFT", from_workflow=False)):
        with pytest.raises(Conflict, match=f"consult leg.*the customer is on contact {cid}"):
            call()
    # the customer's own segment is where the customer hangs up: every leg ends with it
    assert transfers.disconnect_customer(deps, TENANT, cid).state == ContactState.ACW
    assert deps.store.get_contact(TENANT, leg_id).state == ContactState.ACW


def test_a_leg_completed_before_its_answer_is_the_customers_segment_and_takes_the_customers_verbs():
    deps, cid, leg_id = _ana_consults()
    segment = transfers.complete_consult(deps, TENANT, "ana", cid)  # a blind transfer to the same target
    assert segment.contact_id == leg_id and segment.consult_of is None
    assert contacts.request_callback(deps, TENANT, leg_id, NUMBER).state == ContactState.CALLBACK_SCHEDULED
    gone = contacts.abandon_contact(deps, TENANT, leg_id, reason="CUSTOMER_LEFT", from_workflow=False)
    assert gone.state == ContactState.ABANDONED


def test_a_legs_queue_timeout_still_ends_it():
    """The workflow's own abandon (QUEUE_TIMEOUT) is no customer's: a leg nobody answers in time ends as before."""
    deps, cid, leg_id = _ana_consults()
    timed_out = contacts.abandon_contact(deps, TENANT, leg_id, reason="QUEUE_TIMEOUT", from_workflow=True)
    assert (timed_out.state, timed_out.abandon_reason) == (ContactState.ABANDONED, "QUEUE_TIMEOUT")


def test_the_domain_refuses_a_callback_on_a_leg_before_its_state():
    deps, _, leg_id = _ana_consults()
    leg = deps.store.get_contact(TENANT, leg_id)
    with pytest.raises(Conflict, match="consult leg"):
        lifecycle.schedule_callback(leg, NUMBER)
    with pytest.raises(Conflict, match="consult leg"):
        lifecycle.require_customer_side(leg, "abandoned")
