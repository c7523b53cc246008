"""Fixes of round 38 (transfers and callbacks): a reached callback keeps its callback deadline after a failed
offer (#6); a callback is a phone call (#7); a consult leg that ends without a transfer takes the customer off
hold (#2); an agent's handled-today count follows history's definition (#1); only voice goes to an external
number (#4); the segment chain is the same from every segment (#3); the sender's wording (#5)."""
from __future__ import annotations

import pytest

from ccaas.domain.models import Channel, ContactState, DomainError, InitiationMethod
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import agents, contacts, routing
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases import transfers
from ccaas.usecases.transfers import ConsultDestination, ConsultRequest
from tests.unit.demo import TENANT, add_agent, ana_consults, ana_holds_a_contact, demo_deps


def _policy(deps, **policy) -> None:
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(policy))


def _available(deps, agent_id):
    return agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))


def _queued(deps, channel=Channel.VOICE, token="tok-1", **fields):
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=channel, queue_id="sales", **fields))
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, token)


def _reached_callback(deps, *, failure: str):
    """A callback scheduled past the queue's max_wait_s (60 s), reached by ana, who rejects or misses it."""
    add_agent(deps, "ana")
    first = _queued(deps)
    contacts.request_callback(deps, TENANT, first.contact_id, "+14155550177")
    deps.clock.advance(66)
    assert contacts.recheck(deps, TENANT, first.contact_id)[0] == "wait"  # still scheduled: callback.max_wait_s
    _available(deps, "ana")
    callback_id = contacts.get_contact(deps, TENANT, first.contact_id).attributes["callback_contact_id"]
    if failure == "rejected":
        contacts.reject_contact(deps, TENANT, "ana", callback_id)
    else:
        deps.clock.advance(30)  # the reservation runs out
        assert contacts.recheck(deps, TENANT, callback_id)[0] == "wait"
    back = contacts.get_contact(deps, TENANT, callback_id)
    assert back.state == ContactState.QUEUED and back.initiation_method == InitiationMethod.CALLBACK
    return first, back


# -- #6 a reached callback waits on as a callback ----------------------------------------------------

@pytest.mark.parametrize("failure", ["rejected", "missed"])
def test_a_reached_callback_back_in_the_queue_is_not_timed_out_by_the_queue_max_wait(failure):
    deps = demo_deps()
    _policy(deps, queue_defaults={"callback": {"max_wait_s": 3600}})
    first, back = _reached_callback(deps, failure=failure)
    deps.clock.advance(35)
    verdict, wait_s, _ = contacts.recheck(deps, TENANT, back.contact_id)
    assert verdict == "wait" and contacts.get_contact(deps, TENANT, back.contact_id).state == ContactState.QUEUED
    assert wait_s >= 30  # the safety net of a QUEUED contact, not "the queue timed out a second ago"


def test_a_reached_callback_expires_at_the_scheduled_callbacks_own_deadline_as_callback_expired():
    deps = demo_deps()
    _policy(deps, queue_defaults={"callback": {"max_wait_s": 3600}})
    first, back = _reached_callback(deps, failure="rejected")
    scheduled_deadline = first.enqueued_at + 3600 * 1000
    queue = deps.config.get_queue(TENANT, "sales")
    policy = routing.policy_of(deps, TENANT)
    assert routing.next_check(deps, back, queue, policy, deps.clock.now_ms()) <= scheduled_deadline
    deps.clock.advance((scheduled_deadline - deps.clock.now_ms()) / 1000)
    assert contacts.recheck(deps, TENANT, back.contact_id)[0] == "ended"
    ended = contacts.get_contact(deps, TENANT, back.contact_id)
    assert ended.state == ContactState.ABANDONED and ended.abandon_reason == "CALLBACK_EXPIRED"


# -- #7 a callback is a phone call -------------------------------------------------------------------

def test_a_chat_contact_cannot_ask_for_a_callback():
    deps = demo_deps()
    chat = _queued(deps, channel=Channel.CHAT)
    with pytest.raises(DomainError) as refused:
        contacts.request_callback(deps, TENANT, chat.contact_id, "+14155550177")
    assert refused.value.field == "channel" and "+1415" not in str(refused.value)
    assert contacts.get_contact(deps, TENANT, chat.contact_id).state == ContactState.QUEUED  # nothing written


@pytest.mark.parametrize("channel", [Channel.CHAT])
def test_a_new_non_voice_contact_with_a_callback_number_is_refused_naming_channel(channel):
    deps = demo_deps()
    with pytest.raises(DomainError) as refused:
        contacts.create_contact(deps, TENANT, NewContact(channel=channel, queue_id="sales",
                                                         callback_number="+14155550177"))
    assert refused.value.field == "channel" and "+1415" not in str(refused.value)
    assert deps.workflow.started == []


def test_a_voice_callback_is_still_taken_and_its_callback_contact_is_voice():
    deps = demo_deps()
    add_agent(deps, "ana")
    contact = contacts.schedule_callback(deps, TENANT, "sales", "+14155550101")
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok")
    _available(deps, "ana")
    callback_id = contacts.get_contact(deps, TENANT, contact.contact_id).attributes["callback_contact_id"]
    assert contacts.get_contact(deps, TENANT, callback_id).channel == Channel.VOICE


# -- #2 a consult leg the system ended ends its consult --------------------------------------------

def _assert_consult_over(deps, customer_id, leg_id, held_ms):
    leg = contacts.get_contact(deps, TENANT, leg_id)
    assert leg.state == ContactState.ABANDONED and leg.abandon_reason == "QUEUE_TIMEOUT"
    customer = contacts.get_contact(deps, TENANT, customer_id)
    assert customer.state == ContactState.CONNECTED and customer.consult_contact_id is None
    assert not customer.on_hold and customer.hold_ms == held_ms  # the hold closed when the leg ended
    kinds = [e.type for e in deps.events.events if e.subject == f"contact/{customer_id}"]
    assert kinds[-1] == "contact.consult_cancelled"
    # The sender is free to act: ending the customer's conversation is no longer refused.
    assert contacts.complete_contact(deps, TENANT, "ana", customer_id).state == ContactState.ACW


def test_a_consult_leg_timed_out_in_its_queue_takes_the_customer_off_hold():
    deps, customer_id, leg_id = ana_consults()  # nobody else: the leg waits in sales (max_wait_s 60)
    assert contacts.get_contact(deps, TENANT, leg_id).state == ContactState.QUEUED
    deps.clock.advance(61)
    assert contacts.recheck(deps, TENANT, leg_id)[0] == "ended"
    _assert_consult_over(deps, customer_id, leg_id, 61_000)


def test_a_consult_leg_its_agent_rejected_and_nobody_else_took_times_out_and_ends_the_consult():
    deps = demo_deps()
    customer_id = ana_holds_a_contact(deps, "ben")
    leg = transfers.consult(deps, TENANT, "ana", customer_id, ConsultRequest(to=ConsultDestination(agent_id="ben")))
    contacts.queue_and_route(deps, TENANT, leg.contact_id, "tok-leg")
    contacts.reject_contact(deps, TENANT, "ben", leg.contact_id)  # nobody else can take it: it waits in sales
    assert contacts.get_contact(deps, TENANT, leg.contact_id).state == ContactState.QUEUED
    deps.clock.advance(61)
    assert contacts.recheck(deps, TENANT, leg.contact_id)[0] == "ended"
    _assert_consult_over(deps, customer_id, leg.contact_id, 61_000)


def test_a_leg_timing_out_after_its_consult_was_cancelled_changes_nothing_on_the_customer():
    deps, customer_id, leg_id = ana_consults()
    # A stale timer: the leg already ended; the customer's segment is left as the cancel wrote it.
    back = transfers.cancel_consult(deps, TENANT, "ana", customer_id)
    deps.clock.advance(61)
    assert contacts.recheck(deps, TENANT, leg_id)[0] == "ended"
    assert contacts.get_contact(deps, TENANT, customer_id).version == back.version


# -- #1 handled today follows history's rule ---------------------------------------------------------

def _handled_today(deps, agent_id):
    return deps.store.get_agent(TENANT, agent_id).handled_today


def _history_handled(deps, contact_id):
    from ccaas.domain.history import record_from_contact
    return record_from_contact(contacts.get_contact(deps, TENANT, contact_id)).handled


def test_a_consulted_agent_ending_a_cancelled_consult_leg_has_handled_nothing_as_history_says():
    deps, customer_id, leg_id = ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    transfers.cancel_consult(deps, TENANT, "ana", customer_id)
    contacts.end_after_contact_work(deps, TENANT, "ben", leg_id)
    assert _history_handled(deps, leg_id) is False
    assert _handled_today(deps, "ben") == 0
    contacts.complete_contact(deps, TENANT, "ana", customer_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", customer_id)
    assert _history_handled(deps, customer_id) is True and _handled_today(deps, "ana") == 1


def test_a_consulted_agent_leaving_a_conference_counts_as_history_counts_it():
    deps, customer_id, leg_id = ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    transfers.conference(deps, TENANT, "ana", customer_id)
    contacts.complete_contact(deps, TENANT, "ben", leg_id)  # ben leaves: his leg stays the consult it was
    contacts.end_after_contact_work(deps, TENANT, "ben", leg_id)
    assert _handled_today(deps, "ben") == int(_history_handled(deps, leg_id)) == 0


def test_a_warm_transfer_counts_handled_for_both_agents_as_history_does():
    deps, customer_id, leg_id = ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    transfers.complete_consult(deps, TENANT, "ana", customer_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", customer_id)
    contacts.complete_contact(deps, TENANT, "ben", leg_id)
    contacts.end_after_contact_work(deps, TENANT, "ben", leg_id)
    assert _handled_today(deps, "ana") == int(_history_handled(deps, customer_id)) == 1
    assert _handled_today(deps, "ben") == int(_history_handled(deps, leg_id)) == 1


# -- #4 only voice goes to an external number ----------------------------------------------------------

def test_a_chat_cannot_be_transferred_to_a_quick_connect_and_nothing_is_written():
    from ccaas.domain.transfers import QuickConnect, TransferSettings
    from ccaas.usecases.transfers import Destination, TransferRequest
    from tests.unit.demo import connected_chat

    deps, chat_id = connected_chat()
    transfers.put_settings(deps, TENANT, TransferSettings(
        quick_connects={"legal": QuickConnect(name="Legal dept", phone_number="+14155550100")}))
    before = contacts.get_contact(deps, TENANT, chat_id)
    with pytest.raises(DomainError) as refused:
        transfers.transfer(deps, TENANT, "ana", chat_id, TransferRequest(to=Destination(quick_connect_id="legal")))
    assert refused.value.field == "channel" and "+1415" not in str(refused.value)
    assert contacts.get_contact(deps, TENANT, chat_id) == before


def test_a_consult_to_a_quick_connect_stays_refused():
    from pydantic import ValidationError

    from ccaas.usecases.transfers import ConsultDestination
    with pytest.raises(ValidationError):
        ConsultDestination(quick_connect_id="legal")


# -- #5 the sender kept away from a segment is no refusal in the wording ------------------------------

def test_a_skipped_last_agent_step_of_the_sender_says_it_sent_the_contact_not_refused_it():
    from ccaas.domain.models import Handover, HandoverMode, TransferKind, TransferTarget
    from ccaas.domain.routing_engine import StaffedAgents, resolve_step
    from tests.unit.test_routing_reach import POLICY, _returning, agent

    handover = Handover(mode=HandoverMode.BLIND, from_agent_id="a9", from_contact_id="c0", from_queue_id="billing",
                        target=TransferTarget(kind=TransferKind.QUEUE, queue_id="billing"), at=0)
    from tests.fixtures.routing.builders import T0, queue
    sent = _returning("a9").model_copy(update={"handover": handover, "declined_by": ("a9",)})
    refused = _returning("a9").model_copy(update={"declined_by": ("a9",)})
    staff = StaffedAgents([agent("a9", {"billing": 5})])
    sent_note = resolve_step(sent, queue(), POLICY, T0, staff).skipped[0].detail
    assert sent_note == "a9 transferred the contact" and "refused" not in sent_note
    assert resolve_step(refused, queue(), POLICY, T0, staff).skipped[0].detail == "a9 refused the contact"


# -- #3 the chain from every segment ---------------------------------------------------------------------

def test_the_chain_from_a_cancelled_consult_leg_lists_the_segments_after_it_too():
    from ccaas.usecases.transfers import Destination, TransferRequest

    deps, customer_id, leg_id = ana_consults("ben")
    transfers.cancel_consult(deps, TENANT, "ana", customer_id)
    add_agent(deps, "cy")
    second = transfers.transfer(deps, TENANT, "ana", customer_id, TransferRequest(to=Destination(queue_id="sales")))
    from_leg = [c.contact_id for c in transfers.segments(deps, TENANT, leg_id)]
    assert from_leg == [customer_id, leg_id, second.contact_id]  # ordered by start, the leg marked by consult_of
    # Walked from the first segment: the main chain is the same from every segment of it.
    assert [c.contact_id for c in transfers.segments(deps, TENANT, second.contact_id)][:1] == [customer_id]
