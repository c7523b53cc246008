"""Transfers, consults, conferences, hold and escalation over in-memory adapters (ccaas.usecases.transfers)."""
from __future__ import annotations

import threading

import pytest

from ccaas.domain.models import Channel, Conflict, ContactState, DomainError, NotFound, Queue
from ccaas.domain.transfers import CONSULT_CANCELLED, QuickConnect, TransferSettings
from ccaas.domain.history import ParticipantRole
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import admin, agents, analytics, contacts, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.transfers import ConsultDestination, ConsultRequest, Destination, EscalationRequest, TransferRequest
from tests.unit.demo import TENANT, add_agent, demo_deps


def _setup(*agent_ids: str, channel: Channel = Channel.VOICE):
    """ana holds a connected contact from `sales`; the other agents are AVAILABLE and idle."""
    deps = demo_deps()
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="billing", name="Billing",
                                channels=frozenset({Channel.VOICE, Channel.CHAT}), max_wait_s=600))
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="supervisors", name="Supervisors", max_wait_s=600))
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="mail", name="Mail", channels=frozenset({Channel.EMAIL})))
    add_agent(deps, "ana", queues=("sales", "billing"))
    for agent_id in agent_ids:
        add_agent(deps, agent_id, queues=("sales", "billing", "supervisors"))
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=channel, queue_id="sales", customer_id="c-1",
                                                               reason="billing_question", priority=5))
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-await")
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    for agent_id in agent_ids:
        agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))
    return deps, contact.contact_id


def _contact(deps, contact_id):
    return deps.store.get_contact(TENANT, contact_id)


def _route(deps, segment_id, token="tok-seg"):
    """The new segment's workflow: its first step, AwaitAgent."""
    return contacts.queue_and_route(deps, TENANT, segment_id, token)


def _types(deps):
    return [e.type for e in deps.events.events]


# --- hold ------------------------------------------------------------------------------------------
def test_hold_and_resume_count_hold_time_and_holds():
    deps, cid = _setup()
    deps.clock.advance(10)
    held = transfers.hold(deps, TENANT, "ana", cid)
    assert held.on_hold and held.hold_count == 1
    with pytest.raises(Conflict, match="already on hold"):
        transfers.hold(deps, TENANT, "ana", cid)
    deps.clock.advance(7)
    resumed = transfers.resume(deps, TENANT, "ana", cid)
    assert not resumed.on_hold and resumed.hold_ms == 7000
    with pytest.raises(Conflict, match="not on hold"):
        transfers.resume(deps, TENANT, "ana", cid)
    transfers.hold(deps, TENANT, "ana", cid)
    deps.clock.advance(3)
    # Hanging up while on hold ends the hold: hold counts up to the disconnect, inside handle time.
    ended = contacts.complete_contact(deps, TENANT, "ana", cid)
    assert (ended.state, ended.hold_ms, ended.hold_count, ended.held_since) == (ContactState.ACW, 10_000, 2, None)
    assert _types(deps).count("contact.held") == 2 and _types(deps).count("contact.resumed") == 1


def test_only_the_agent_on_a_connected_contact_may_hold_it():
    deps, cid = _setup("bob")
    with pytest.raises(Conflict, match="not assigned to agent bob"):
        transfers.hold(deps, TENANT, "bob", cid)


# --- blind transfer --------------------------------------------------------------------------------
def test_blind_transfer_to_a_queue_ends_the_segment_and_routes_the_next_one_to_someone_else():
    deps, cid = _setup("bob")
    deps.clock.advance(20)
    note = "customer disputes card 4111 1111 1111 1111 charge"
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(
        to=Destination(queue_id="billing"), reason="dispute", note=note))
    old = _contact(deps, cid)
    # The old segment: ana's after-contact work, ending TRANSFERRED, linked forward.
    assert old.state == ContactState.ACW and old.next_contact_id == segment.contact_id
    assert old.transferred_to.kind == "QUEUE" and old.transferred_to.queue_id == "billing"
    # The new segment: linked back, same initial contact, context travels, its own workflow started.
    assert segment.state == ContactState.INITIATED and segment.initiation_method == "TRANSFER"
    assert (segment.previous_contact_id, segment.initial_contact_id, segment.segment_number) == (cid, cid, 2)
    assert (segment.customer_id, segment.reason, segment.queue_id, segment.priority) == ("c-1", "billing_question", "billing", 5)
    assert segment.handover.mode == "BLIND" and segment.handover.from_agent_id == "ana" and segment.handover.reason == "dispute"
    assert "4111" not in segment.handover.note and "dispute" in segment.handover.note
    assert deps.workflow.started[-1][1] == segment.contact_id
    assert segment.declined_by == ("ana",)
    # Routed like any contact: ana (who also serves billing and is free after ACW) is excluded.
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    routed = _route(deps, segment.contact_id)
    assert routed.state == ContactState.OFFERED and routed.agent_id == "bob"
    assert _contact(deps, cid).state == ContactState.TRANSFERRED
    assert (TENANT, cid) in deps.workflow.post_contact  # the sender's segment ended: its post-contact step starts
    transferred = [e for e in deps.events.events if e.type == "contact.transferred"]
    assert len(transferred) == 1 and transferred[0].payload["to_queue_id"] == "billing"
    assert transferred[0].payload["next_contact_id"] == segment.contact_id and transferred[0].payload["mode"] == "BLIND"


def test_a_transfer_keeps_or_raises_priority_never_lowers_it():
    deps, cid = _setup()
    lowered = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing"), priority=9))
    assert lowered.priority == 5 and lowered.routing.priority == 5
    deps, cid = _setup()
    raised = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing"), priority=2))
    assert raised.priority == 2 and raised.routing.priority == 2


def test_transfer_to_a_named_agent_offers_it_at_once_and_a_miss_puts_it_in_the_queue():
    deps, cid = _setup("bob", "cy")
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    assert segment.state == ContactState.OFFERED and segment.agent_id == "bob" and segment.enqueued_at is None
    assert agents.get_agent(deps, TENANT, "bob").offered_contact_ids == (segment.contact_id,)
    offer = agents.offers_of(deps, TENANT, "bob")[0]
    assert offer.contact.handover.from_agent_id == "ana"
    _route(deps, segment.contact_id)  # the workflow parks its token on the offered segment
    deps.clock.advance(4)
    back = contacts.reject_contact(deps, TENANT, "bob", segment.contact_id)
    # Rejected: it entered the sender's queue only now and goes to the next agent (cy; ana is in ACW).
    assert back.agent_id == "cy" and _contact(deps, segment.contact_id).enqueued_at == deps.clock.now_ms()


@pytest.mark.parametrize("status", ["OFFLINE", "BREAK"])
def test_transfer_to_an_agent_who_is_not_available_is_refused_and_nothing_changes(status):
    deps, cid = _setup("bob")
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status=status))
    before = _contact(deps, cid)
    with pytest.raises(Conflict, match="not AVAILABLE"):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    assert _contact(deps, cid) == before and len(deps.store.contacts) == 1


def test_transfer_to_an_agent_at_capacity_is_refused():
    deps, cid = _setup("bob")
    other = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, other.contact_id, "t-other")  # bob takes the only voice slot
    assert _contact(deps, other.contact_id).agent_id == "bob"
    with pytest.raises(Conflict, match="at capacity"):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))


@pytest.mark.parametrize("to, field, message", [
    (Destination(agent_id="ana"), "agent_id", "agent who holds it"),
    (Destination(agent_id="nobody"), "agent_id", "does not exist"),
    (Destination(queue_id="nowhere"), "queue_id", "does not exist"),
    (Destination(queue_id="mail"), "channel", "does not take VOICE"),
    (Destination(quick_connect_id="legal"), "quick_connect_id", "does not exist"),
])
def test_bad_targets_are_refused_naming_the_field(to, field, message):
    deps, cid = _setup()
    with pytest.raises(DomainError, match=message) as refused:
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=to))
    assert refused.value.field == field and _contact(deps, cid).state == ContactState.CONNECTED


def test_a_named_transfer_keeps_journey_tests_apart_as_routing_does():
    """Routing never offers a real customer to a test agent nor a journey's contact to a real agent; a transfer
    to a named agent is a third way to offer, and keeps the same rule."""
    deps, cid = _setup("bob")
    add_agent(deps, "bot", queues=("sales",), skills={TEST_AGENT_SKILL: 1})
    agents.set_agent_status(deps, TENANT, "bot", StatusChange(status="AVAILABLE"))
    before = _contact(deps, cid)
    with pytest.raises(DomainError, match="test agent") as refused:
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bot")))
    assert refused.value.field == "agent_id" and _contact(deps, cid) == before and len(deps.store.contacts) == 1
    deps.store.save(contacts=[before.model_copy(update={"attributes": {SYNTHETIC_ATTRIBUTE: "smoke"},
                                                        "version": before.version + 1})])
    with pytest.raises(DomainError, match="journey test"):
        transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bot")))
    assert segment.agent_id == "bot" and segment.state == ContactState.OFFERED



def test_a_test_agent_takes_no_real_escalation():
    deps, cid = _setup()
    add_agent(deps, "bot", queues=("supervisors",), skills={TEST_AGENT_SKILL: 1})
    transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="supervisors"))
    segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="manager"))
    _route(deps, segment.contact_id, token="tok-esc")  # nobody available: it waits
    agents.set_agent_status(deps, TENANT, "bot", StatusChange(status="AVAILABLE"))
    with pytest.raises(DomainError, match="test agent") as refused:
        transfers.take_escalation(deps, TENANT, "bot", segment.contact_id)
    assert refused.value.field == "agent_id" and _contact(deps, segment.contact_id).state == ContactState.QUEUED


def test_another_tenants_queue_and_agent_do_not_exist_for_the_caller():
    deps, cid = _setup()
    admin.register_tenant(deps, tenant_id="other", name="Other")
    admin.put_queue(deps, Queue(tenant_id="other", queue_id="vault", name="Vault"))
    with pytest.raises(DomainError, match="queue vault does not exist"):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="vault")))


def test_only_a_connected_contact_can_be_transferred():
    deps, cid = _setup()
    contacts.complete_contact(deps, TENANT, "ana", cid)
    with pytest.raises(Conflict, match="not CONNECTED"):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))


def test_transfer_to_a_quick_connect_leaves_the_contact_center():
    deps, cid = _setup()
    transfers.put_settings(deps, TENANT, TransferSettings(
        quick_connects={"legal": QuickConnect(name="Legal dept", phone_number="+14155550100")}))
    sent = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(quick_connect_id="legal")))
    assert sent.contact_id == cid and sent.next_contact_id is None and sent.state == ContactState.ACW
    assert sent.transferred_to.kind == "EXTERNAL" and sent.transferred_to.phone_number == "+14155550100"
    assert len(deps.store.contacts) == 1
    assert contacts.end_after_contact_work(deps, TENANT, "ana", cid).state == ContactState.TRANSFERRED


def test_a_chain_stops_at_the_tenants_segment_limit():
    deps, cid = _setup("bob")
    transfers.put_settings(deps, TENANT, TransferSettings(max_segments=2, exclude_transferring_agent=False))
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", segment.contact_id)
    with pytest.raises(Conflict, match="max_segments"):
        transfers.transfer(deps, TENANT, "bob", segment.contact_id, TransferRequest(to=Destination(queue_id="sales")))


def test_a_workflow_that_cannot_start_undoes_the_transfer_whole():
    deps, cid = _setup("bob")

    def refuse(contact, wait_s):
        raise RuntimeError("states unavailable")

    deps.workflow.start_contact = refuse
    with pytest.raises(RuntimeError):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    restored = _contact(deps, cid)
    assert restored.state == ContactState.CONNECTED and restored.next_contact_id is None and restored.transferred_to is None
    failed = [c for c in deps.store.contacts.values() if c.contact_id != cid]
    assert [c.state for c in failed] == [ContactState.FAILED]
    assert agents.get_agent(deps, TENANT, "ana").acw_contact_ids == ()
    bob = agents.get_agent(deps, TENANT, "bob")
    assert bob.active_contact_ids == () and bob.offered_contact_ids == ()
    # The transfer's event was out already: the undo is published too, and live counts take it back.
    (sent,) = [e for e in deps.events.events if e.type == "contact.transferred"]
    (undone,) = [e for e in deps.events.events if e.type == "contact.transfer_undone"]
    assert undone.payload["state"] == "CONNECTED" and undone.payload["agent_id"] == "ana"
    assert {k: undone.payload[k] for k in ("mode", "to_queue_id", "next_contact_id")} == \
        {k: sent.payload[k] for k in ("mode", "to_queue_id", "next_contact_id")}
    from ccaas.domain.live_metrics import contributions

    def net(counter):
        return sum(part.counters.get(counter, 0) for e in (sent, undone) for part in contributions(e))

    assert (net("transferred_out"), net("transferred_in")) == (0, 0)
    # And the agent can go on: the contact ends normally.
    assert contacts.complete_contact(deps, TENANT, "ana", cid).state == ContactState.ACW


def test_a_segment_whose_workflow_cannot_start_is_withdrawn_even_when_its_sender_moved_on_meanwhile():
    """The transfer's events are out before its segment's workflow starts: in that window the sender's agent may
    end ACW (its segment ends TRANSFERRED). The undo then found "nothing to undo", gave up with a 409 hiding the
    real error, and left the segment INITIATED for good (no workflow: never routed, never ended)."""
    deps, cid = _setup()

    def refuse_after_the_sender_ends_acw(contact, wait_s):
        contacts.end_after_contact_work(deps, TENANT, "ana", cid)
        raise RuntimeError("states throttled")

    deps.workflow.start_contact = refuse_after_the_sender_ends_acw
    with pytest.raises(RuntimeError, match="throttled"):  # the caller learns why
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
    assert _contact(deps, cid).state == ContactState.TRANSFERRED
    [leg] = [c for c in deps.store.contacts.values() if c.contact_id != cid]
    assert leg.state == ContactState.FAILED


def test_a_withdrawn_segment_a_named_agent_had_declined_leaves_its_queue_in_the_live_counts():
    """In the same window the named agent rejects: the segment enters the queue (counted waiting), then the undo
    failed it with no event, and the wallboard kept a phantom caller in the queue."""
    from ccaas.domain.live_metrics import contributions

    deps, cid = _setup("bob")

    def refuse_after_bob_rejects(contact, wait_s):
        contacts.reject_contact(deps, TENANT, "bob", contact.contact_id)
        raise RuntimeError("states throttled")

    deps.workflow.start_contact = refuse_after_bob_rejects
    with pytest.raises(RuntimeError):
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    [leg] = [c for c in deps.store.contacts.values() if c.contact_id != cid]
    assert leg.state == ContactState.FAILED and _contact(deps, cid).state == ContactState.CONNECTED
    waiting = sum(part.gauges.get("in_queue", 0) for e in deps.events.events
                  if e.subject == f"contact/{leg.contact_id}" for part in contributions(e))
    assert waiting == 0
    assert agents.get_agent(deps, TENANT, "bob").offered_contact_ids == ()


def test_a_consult_leg_is_never_offered_to_the_agent_consulting_even_after_declines_reset_exclusions():
    """With max_declines, enough refusals clear a contact's exclusions: a consult leg then went back to the
    consulting agent, who could accept it and sit in a conference with herself."""
    from ccaas.usecases import routing as routing_usecases

    deps, cid = _setup("bob", channel=Channel.CHAT)  # chat: ana has free slots while she consults
    policy = routing_usecases.policy_of(deps, TENANT)
    routing_usecases.put_policy(deps, TENANT, policy.model_copy(update={
        "reservation": policy.reservation.model_copy(update={"max_declines": 1})}))
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing")))
    _route(deps, leg.contact_id, token="tok-leg")
    offered = _contact(deps, leg.contact_id)
    assert offered.agent_id == "bob"
    contacts.reject_contact(deps, TENANT, "bob", leg.contact_id)
    after = _contact(deps, leg.contact_id)
    assert "ana" in after.declined_by and after.agent_id != "ana"
    assert leg.contact_id not in agents.get_agent(deps, TENANT, "ana").offered_contact_ids


# --- consult, conference -----------------------------------------------------------------------------
def test_consult_then_conference_then_the_consulting_agent_leaves():
    deps, cid = _setup("bob")
    deps.clock.advance(30)
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob"), note="needs a refund"))
    source = _contact(deps, cid)
    assert source.on_hold and source.consult_contact_id == leg.contact_id and source.state == ContactState.CONNECTED
    assert leg.consult_of == cid and leg.state == ContactState.OFFERED and leg.handover.mode == "CONSULT"
    with pytest.raises(Conflict, match="consult in progress"):
        contacts.complete_contact(deps, TENANT, "ana", cid)
    with pytest.raises(Conflict, match="not answered yet"):
        transfers.conference(deps, TENANT, "ana", cid)
    deps.clock.advance(2)
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    deps.clock.advance(40)  # ana and bob talk; the customer waits on hold
    joined = transfers.conference(deps, TENANT, "ana", cid)
    assert joined.conference_with == leg.contact_id and not joined.on_hold and joined.hold_ms == 42_000
    assert _contact(deps, leg.contact_id).consult_ms == 40_000
    deps.clock.advance(60)
    left = contacts.complete_contact(deps, TENANT, "ana", cid)  # ana leaves the conference
    assert left.state == ContactState.ACW and left.next_contact_id == leg.contact_id and left.conference_ms == 60_000
    assert left.transferred_to.kind == "AGENT" and left.transferred_to.agent_id == "bob"
    stays = _contact(deps, leg.contact_id)
    assert stays.state == ContactState.CONNECTED and stays.conference_with is None and stays.conference_ms == 60_000
    assert contacts.end_after_contact_work(deps, TENANT, "ana", cid).state == ContactState.TRANSFERRED
    types = _types(deps)
    assert types.count("contact.consult_started") == 1 and types.count("contact.conference_joined") == 2
    assert types.count("contact.transferred") == 1 and types.count("contact.conference_left") == 1


def test_the_consulted_agent_leaving_a_conference_leaves_the_customer_with_the_first():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    transfers.conference(deps, TENANT, "ana", cid)
    deps.clock.advance(15)
    gone = contacts.complete_contact(deps, TENANT, "bob", leg.contact_id)
    assert gone.state == ContactState.ACW and gone.transferred_to is None and gone.consult_of == cid
    source = _contact(deps, cid)
    assert source.state == ContactState.CONNECTED and source.conference_with is None and source.next_contact_id is None
    done = contacts.end_after_contact_work(deps, TENANT, "bob", leg.contact_id)
    assert done.state == ContactState.COMPLETED
    # In the KPIs it is a consult (with its conference time), not a contact transferred in to bob.
    from ccaas.domain.history import record_from_contact

    record = record_from_contact(done)
    assert record.consult_leg and not record.transferred_in and record.conference_ms == 15_000


def test_warm_transfer_via_a_queue_completes_after_the_consulted_agent_answers():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing")))
    assert leg.state == ContactState.INITIATED and _contact(deps, cid).on_hold
    routed = _route(deps, leg.contact_id)
    assert routed.agent_id == "bob"  # not ana: she is consulting
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    deps.clock.advance(25)
    customer_segment = transfers.complete_consult(deps, TENANT, "ana", cid)
    assert customer_segment.contact_id == leg.contact_id and customer_segment.consult_of is None
    assert customer_segment.consult_ms == 25_000 and customer_segment.state == ContactState.CONNECTED
    sent = _contact(deps, cid)
    assert sent.state == ContactState.ACW and sent.next_contact_id == leg.contact_id and not sent.on_hold
    assert sent.hold_ms == 25_000 and sent.transferred_to.queue_id == "billing"


def test_a_consult_leg_can_be_raised_in_priority_never_lowered():
    deps, cid = _setup()
    lowered = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing"), priority=9))
    assert lowered.priority == 5 and lowered.routing.priority == 5
    transfers.cancel_consult(deps, TENANT, "ana", cid)
    urgent = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing"), priority=1))
    assert urgent.priority == 1 and urgent.routing.priority == 1


def test_completing_before_the_target_answers_is_a_blind_transfer_to_the_same_target():
    deps, cid = _setup()
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="billing")))
    segment = transfers.complete_consult(deps, TENANT, "ana", cid)
    assert segment.contact_id == leg.contact_id and segment.state == ContactState.INITIATED and segment.consult_of is None
    assert _contact(deps, cid).state == ContactState.ACW


def test_cancelling_a_consult_withdraws_the_leg_and_resumes_the_customer():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    _route(deps, leg.contact_id, token="tok-leg")
    deps.clock.advance(9)
    back = transfers.cancel_consult(deps, TENANT, "ana", cid)
    assert back.consult_contact_id is None and not back.on_hold and back.hold_ms == 9000
    withdrawn = _contact(deps, leg.contact_id)
    assert withdrawn.state == ContactState.ABANDONED and withdrawn.abandon_reason == CONSULT_CANCELLED
    bob = agents.get_agent(deps, TENANT, "bob")
    assert bob.active_contact_ids == () and bob.offered_contact_ids == ()
    assert deps.workflow.answers["tok-leg"][0] == "failure"  # the leg's workflow ends
    with pytest.raises(Conflict, match="no consult in progress"):
        transfers.cancel_consult(deps, TENANT, "ana", cid)


def test_cancelling_an_answered_consult_sends_the_consulted_agent_to_acw():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    deps.clock.advance(12)
    transfers.cancel_consult(deps, TENANT, "ana", cid)
    ended = _contact(deps, leg.contact_id)
    assert ended.state == ContactState.ACW and ended.consult_ms == 12_000 and ended.consult_of == cid
    assert contacts.end_after_contact_work(deps, TENANT, "bob", leg.contact_id).state == ContactState.COMPLETED


def test_the_customer_hanging_up_during_a_consult_ends_every_leg():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    deps.clock.advance(5)
    ended = transfers.disconnect_customer(deps, TENANT, cid)
    assert ended.state == ContactState.ACW and ended.consult_contact_id is None and ended.hold_ms == 5000
    assert _contact(deps, leg.contact_id).state == ContactState.ACW
    with pytest.raises(Conflict):
        transfers.complete_consult(deps, TENANT, "ana", cid)


def test_the_customer_hanging_up_in_a_conference_ends_it_for_both_agents():
    deps, cid = _setup("bob")
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
    transfers.conference(deps, TENANT, "ana", cid)
    deps.clock.advance(8)
    transfers.disconnect_customer(deps, TENANT, cid)
    a, b = _contact(deps, cid), _contact(deps, leg.contact_id)
    assert (a.state, b.state) == (ContactState.ACW, ContactState.ACW)
    assert (a.conference_ms, b.conference_ms, a.conference_with, b.conference_with) == (8000, 8000, None, None)


def test_race_customer_hangs_up_while_the_agent_completes_the_consult():
    for _ in range(30):
        deps, cid = _setup("bob")
        leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
        contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)
        outcomes: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def run(name, call):
            barrier.wait()
            try:
                outcomes[name] = call()
            except Conflict as refused:
                outcomes[name] = refused

        threads = [threading.Thread(target=run, args=("complete", lambda: transfers.complete_consult(deps, TENANT, "ana", cid))),
                   threading.Thread(target=run, args=("hangup", lambda: transfers.disconnect_customer(deps, TENANT, cid)))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        source, leg_now = _contact(deps, cid), _contact(deps, leg.contact_id)
        assert source.state == ContactState.ACW and source.consult_contact_id is None
        if isinstance(outcomes["hangup"], Conflict):  # the transfer won: the customer is bob's
            assert source.next_contact_id == leg.contact_id and leg_now.state == ContactState.CONNECTED
            assert leg_now.consult_of is None
        else:  # the hang-up won: both agents in ACW, nothing transferred
            assert isinstance(outcomes["complete"], Conflict)
            assert source.next_contact_id is None and leg_now.state == ContactState.ACW


# --- escalation ------------------------------------------------------------------------------------
def test_escalation_goes_to_the_escalation_queue_with_raised_priority_and_reason():
    deps, cid = _setup()
    with pytest.raises(DomainError, match="supervisor_id") as refused:
        transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="angry"))
    assert refused.value.field == "supervisor_id"
    transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="supervisors", escalation_priority=2))
    segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="asks for a manager"))
    assert segment.queue_id == "supervisors" and segment.priority == 2 and segment.handover.mode == "ESCALATION"
    assert segment.handover.reason == "asks for a manager"
    with pytest.raises(DomainError, match="queue nowhere does not exist"):
        transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="nowhere"))


def test_an_escalation_to_a_named_supervisor_names_supervisor_id_in_its_errors():
    """The escalate body names its target `supervisor_id` (it has no `agent_id`): a refusal names that field."""
    deps, cid = _setup("bob")
    add_agent(deps, "sam", queues=("supervisors",))  # OFFLINE
    for supervisor, refusal, wording in (("nobody", DomainError, "agent nobody does not exist"),
                                         ("ana", DomainError, "the agent who holds it"),
                                         ("sam", Conflict, "sam is OFFLINE, not AVAILABLE")):
        with pytest.raises(refusal, match=wording) as refused:
            transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(supervisor_id=supervisor, reason="manager"))
        assert refused.value.field == "supervisor_id", (supervisor, refused.value)
    assert _contact(deps, cid).state == ContactState.CONNECTED  # nothing moved
    # a transfer's body names the agent `agent_id` (under `to`), as before
    with pytest.raises(DomainError) as refused:
        transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="nobody")))
    assert refused.value.field == "agent_id"


def test_a_supervisor_who_is_not_available_is_told_so_when_taking():
    """sam is OFFLINE with every slot free: the refusal names the status, not a slot."""
    deps, cid = _setup()
    add_agent(deps, "sam", queues=("supervisors",))
    transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="supervisors"))
    segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="manager"))
    _route(deps, segment.contact_id, token="tok-esc")
    with pytest.raises(Conflict, match="agent sam is OFFLINE, not AVAILABLE"):
        transfers.take_escalation(deps, TENANT, "sam", segment.contact_id)
    assert _contact(deps, segment.contact_id).state == ContactState.QUEUED


def test_two_supervisors_take_the_same_escalation_and_one_wins():
    for _ in range(30):
        deps, cid = _setup()
        add_agent(deps, "sup1", queues=("supervisors",))
        add_agent(deps, "sup2", queues=("supervisors",))
        transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="supervisors"))
        segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="manager"))
        _route(deps, segment.contact_id, token="tok-esc")  # nobody available: it waits
        for sup in ("sup1", "sup2"):
            deps.store.save(agents=[deps.store.get_agent(TENANT, sup).model_copy(
                update={"status": "AVAILABLE", "version": deps.store.get_agent(TENANT, sup).version + 1})])
        results: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def take(sup):
            barrier.wait()
            try:
                results[sup] = transfers.take_escalation(deps, TENANT, sup, segment.contact_id)
            except Conflict as refused:
                results[sup] = refused

        threads = [threading.Thread(target=take, args=(s,)) for s in ("sup1", "sup2")]
        [t.start() for t in threads]
        [t.join() for t in threads]
        winners = [s for s, r in results.items() if not isinstance(r, Conflict)]
        assert len(winners) == 1
        taken = _contact(deps, segment.contact_id)
        assert taken.state == ContactState.CONNECTED and taken.agent_id == winners[0]
        loser = "sup2" if winners[0] == "sup1" else "sup1"
        assert agents.get_agent(deps, TENANT, loser).active_contact_ids == ()
        assert deps.workflow.answers["tok-esc"][0] == "success"


def test_only_an_agent_of_the_escalations_queue_or_the_supervisor_it_names_takes_it():
    """An escalation waits in the supervisors' queue: a sales agent's desktop cannot take it (it is not
    there for it, as routing would never offer it); the agents of that queue can, and so can the supervisor
    an escalation named after it was missed and went to the queue."""
    deps, cid = _setup()
    add_agent(deps, "ben", queues=("sales",))
    add_agent(deps, "sup", queues=("supervisors",))
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))
    transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="supervisors"))
    segment = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="manager"))
    _route(deps, segment.contact_id, token="tok-esc")  # nobody available: it waits
    with pytest.raises(NotFound) as refused:
        transfers.take_escalation(deps, TENANT, "ben", segment.contact_id)
    assert refused.value.field == "contact_id" and _contact(deps, segment.contact_id).state == ContactState.QUEUED
    # worded as for an unknown id: ben learns nothing, not even that the escalation exists
    with pytest.raises(NotFound) as unknown:
        transfers.take_escalation(deps, TENANT, "ben", "c0123456789")
    assert str(refused.value).replace(segment.contact_id, "c0123456789") == str(unknown.value)
    assert agents.get_agent(deps, TENANT, "ben").active_contact_ids == ()
    agents.set_agent_status(deps, TENANT, "sup", StatusChange(status="AVAILABLE"))
    taken = transfers.take_escalation(deps, TENANT, "sup", segment.contact_id)
    assert taken.state == ContactState.CONNECTED and taken.agent_id == "sup"


def test_only_an_escalation_can_be_taken():
    deps, cid = _setup("bob")
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="supervisors")))
    with pytest.raises(DomainError, match="not an escalation"):
        transfers.take_escalation(deps, TENANT, "bob", segment.contact_id)


# --- context and segments ----------------------------------------------------------------------------
def test_a_contact_linked_by_an_integration_carries_no_earlier_conversation():
    """POST /contacts takes a previous_contact_id (any contact of the tenant): that link is not a transfer, so the
    new contact's agent is not handed the linked conversation's messages (another queue's, another customer's)."""
    deps, cid = _setup("bob", channel=Channel.CHAT)
    analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role=ParticipantRole.CUSTOMER,
                                                                        content="my account was hacked, the answer is Smith"))
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="AVAILABLE"))
    linked = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="billing", previous_contact_id=cid))
    contacts.queue_and_route(deps, TENANT, linked.contact_id, "tok-linked")
    [offer] = agents.offers_of(deps, TENANT, "bob")
    assert offer.contact.contact_id == linked.contact_id and offer.earlier_messages == []
    assert [c.contact_id for c in transfers.segments(deps, TENANT, linked.contact_id)] == [linked.contact_id]


def test_the_receiving_agents_offer_carries_earlier_messages_and_the_handover():
    deps, cid = _setup("bob", channel=Channel.CHAT)
    analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role=ParticipantRole.CUSTOMER,
                                                                        content="my card 4111 1111 1111 1111 was charged twice"))
    analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role=ParticipantRole.AGENT,
                                                                        content="let me get billing"))
    segment = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob"), note="double charge"))
    offer = agents.offers_of(deps, TENANT, "bob")[0]
    assert offer.contact.contact_id == segment.contact_id and offer.contact.handover.note == "double charge"
    assert [m.content for m in offer.earlier_messages][1] == "let me get billing"
    assert "4111" not in offer.earlier_messages[0].content
    chain = transfers.segments(deps, TENANT, segment.contact_id)
    assert [c.contact_id for c in chain] == [cid, segment.contact_id]
    assert [c.contact_id for c in transfers.segments(deps, TENANT, cid)] == [cid, segment.contact_id]
