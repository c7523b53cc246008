"""Transfers against queue hours, hold on a consult leg, the customer hanging up in a conference (history and
live counts agree) and the undo of a transfer whose workflow could not start (outside review X27)."""
from __future__ import annotations

from collections import Counter

import pytest

from ccaas.domain import transfers as domain_transfers
from ccaas.domain.history import record_from_contact
from ccaas.domain.live_metrics import contributions
from ccaas.domain.models import Channel, Conflict, ContactState, Queue
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import admin, agents, contacts, routing, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.transfers import (
    ConsultDestination,
    ConsultRequest,
    Destination,
    EscalationRequest,
    TransferRequest,
)
from tests.unit.demo import TENANT, add_agent, demo_deps


def _setup(*agent_ids: str):
    """ana holds a connected voice contact from `sales`; the other agents are AVAILABLE and idle."""
    deps = demo_deps()
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="billing", name="Billing",
                                channels=frozenset({Channel.VOICE, Channel.CHAT}), max_wait_s=600))
    add_agent(deps, "ana", queues=("sales", "billing"))
    for agent_id in agent_ids:
        add_agent(deps, agent_id, queues=("sales", "billing"))
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="c-1"))
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-await")
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    for agent_id in agent_ids:
        agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))
    return deps, contact.contact_id


def _close(deps, queue_id: str, when_closed: str = "reject") -> None:
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"queues": {queue_id: {"hours": {"time_zone": "UTC", "weekly": {}}, "when_closed": when_closed}}}))


def _contact(deps, contact_id):
    return deps.store.get_contact(TENANT, contact_id)


# --- 1. hours govern arrivals that wait in a queue, not a hand-over to a named person ----------------------------
@pytest.mark.parametrize("move", ["consult", "transfer", "escalate"])
def test_a_named_agent_is_reached_after_the_senders_queue_closed(move):
    deps, cid = _setup("bob")
    _close(deps, "sales")
    if move == "consult":
        segment = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    elif move == "transfer":
        segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    else:
        segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(supervisor_id="bob", reason="angry"))
    assert segment.state == ContactState.OFFERED and segment.agent_id == "bob" and segment.queue_id == "sales"
    contacts.queue_and_route(deps, TENANT, segment.contact_id, "tok-seg")
    # Declined, it waits in the closed queue like a contact queued there while closed.
    back = contacts.reject_contact(deps, TENANT, "bob", segment.contact_id)
    assert back.state == ContactState.QUEUED and back.queue_id == "sales"


def test_a_transfer_into_a_closed_queue_is_still_refused():
    deps, cid = _setup("bob")
    _close(deps, "billing")
    with pytest.raises(Conflict, match="queue billing is closed now"):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
    assert _contact(deps, cid).state == ContactState.CONNECTED


# --- 2. a queue closed for callbacks only takes no live transfer --------------------------------------------------
@pytest.mark.parametrize("move", ["transfer", "consult"])
def test_a_closed_callback_only_queue_refuses_a_transfer_naming_why(move):
    deps, cid = _setup("bob")
    _close(deps, "billing", when_closed="callback")
    before = set(deps.store.contacts)
    with pytest.raises(Conflict, match="queue billing is closed now and takes callbacks only") as refused:
        if move == "transfer":
            transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
        else:
            transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing")))
    assert refused.value.field == "queue_id"
    assert set(deps.store.contacts) == before  # nothing written: the sender keeps the customer
    source = _contact(deps, cid)
    assert source.state == ContactState.CONNECTED and not source.on_hold


def test_a_queue_that_queues_while_closed_takes_a_transfer():
    deps, cid = _setup("bob")
    _close(deps, "billing", when_closed="queue")
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
    assert segment.queue_id == "billing" and _contact(deps, cid).state == ContactState.ACW


# --- 3. no hold on a consult leg; a conference puts everyone on the line ----------------------------------------
def test_a_consult_leg_cannot_be_held_and_its_time_in_the_conference_is_talk():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    with pytest.raises(Conflict, match="consult leg"):
        transfers.hold(deps, TENANT, "bob", leg.contact_id)
    deps.clock.advance(5)
    transfers.conference(deps, TENANT, "ana", cid)
    deps.clock.advance(60)
    contacts.complete_contact(deps, TENANT, "ana", cid)  # ana leaves: bob has the customer
    deps.clock.advance(30)
    contacts.complete_contact(deps, TENANT, "bob", leg.contact_id)
    record = record_from_contact(contacts.end_after_contact_work(deps, TENANT, "bob", leg.contact_id))
    assert (record.hold_ms, record.hold_count, record.talk_ms, record.conference_ms) == (0, 0, 95_000, 60_000)


def test_a_conference_ends_a_hold_left_open_on_the_leg():
    """A leg held before hold was refused on legs: its hold must not run on through the conference."""
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    source, ana = _contact(deps, cid), agents.get_agent(deps, TENANT, "ana")
    now = deps.clock.now_ms()
    held_leg = _contact(deps, leg.contact_id).model_copy(update={"held_since": now, "hold_count": 1})
    _, joined_leg = domain_transfers.conference(source, ana, held_leg, now + 5_000)
    assert not joined_leg.on_hold and joined_leg.hold_ms == 5_000


# --- 4. the customer hangs up in a conference: one transfer out, one in, in history and live alike ------------------
def _history_and_live(deps, cid, leg_id):
    records = [record_from_contact(contacts.end_after_contact_work(deps, TENANT, agent_id, contact_id))
               for agent_id, contact_id in (("ana", cid), ("bob", leg_id))]
    history = Counter()
    for r in records:
        history[(r.queue_id, "transferred_out")] += r.transferred
        history[(r.queue_id, "transferred_in")] += r.transferred_in
    live = Counter()
    for event in deps.events.events:
        for part in contributions(event):
            for name in ("transferred_out", "transferred_in"):
                live[(part.queue_id, name)] += part.counters.get(name, 0)
    return records, +history, +live


@pytest.mark.parametrize("hung_up_on", ["source", "leg"])
@pytest.mark.parametrize("to", [ConsultDestination(queue_id="billing"), ConsultDestination(agent_id="bob")])
def test_the_customer_hanging_up_in_a_conference_counts_the_same_transfer_in_history_and_live(to, hung_up_on):
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=to))
    contacts.queue_and_route(deps, TENANT, leg.contact_id, "tok-leg")
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    transfers.conference(deps, TENANT, "ana", cid)
    deps.clock.advance(10)
    transfers.disconnect_customer(deps, TENANT, cid if hung_up_on == "source" else leg.contact_id)
    source, ended_leg = _contact(deps, cid), _contact(deps, leg.contact_id)
    assert (source.state, ended_leg.state) == (ContactState.ACW, ContactState.ACW)
    assert source.next_contact_id == leg.contact_id and source.conference_ms == ended_leg.conference_ms == 10_000
    (first, second), history, live = _history_and_live(deps, cid, leg.contact_id)
    assert first.final_state == "TRANSFERRED" and first.transferred and first.starts_handling
    assert second.transferred_in and not second.consult_leg and not second.starts_handling
    assert history == live == Counter({("sales", "transferred_out"): 1, (leg.queue_id, "transferred_in"): 1})


# --- 5. the undo of a transfer offers the freed named agent waiting work -----------------------------------------
def test_undoing_a_named_transfer_offers_the_released_agent_the_waiting_work():
    deps, cid = _setup("bob")
    waiting = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="c-2"))

    def refuse_after_a_customer_queued(contact, wait_s):
        contacts.queue_and_route(deps, TENANT, waiting.contact_id, "tok-other")  # bob is reserved: it waits
        raise RuntimeError("states unavailable")

    deps.workflow.start_contact = refuse_after_a_customer_queued
    with pytest.raises(RuntimeError):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    assert _contact(deps, cid).state == ContactState.CONNECTED
    offered = _contact(deps, waiting.contact_id)
    assert offered.state == ContactState.OFFERED and offered.agent_id == "bob"
    assert agents.get_agent(deps, TENANT, "bob").offered_contact_ids == (waiting.contact_id,)
