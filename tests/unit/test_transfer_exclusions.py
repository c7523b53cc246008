"""A transferred segment's sender is kept away from it, and that is no refusal: `reservation.max_declines` counts only
the agents who refused it, and clearing the refusals keeps the sender away (blind transfers, escalations and consult
legs alike; segments stored before, cleared the old way, included). README "Transfers" (exclude_transferring_agent)
and "Routing" (max_declines)."""
from __future__ import annotations

from ccaas.domain.models import Channel, Contact, ContactState, Handover, HandoverMode, TransferKind, TransferTarget
from ccaas.domain.routing_engine import after_failed_offer
from ccaas.domain.routing_engine.policy import RoutingPolicy
from ccaas.domain.transfers import TransferSettings
from ccaas.usecases import agents, contacts, routing, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.transfers import ConsultDestination, ConsultRequest, Destination, EscalationRequest, TransferRequest
from tests.unit.demo import TENANT, add_agent, ana_holds_a_contact, demo_deps


def _ana_holds_a_call(max_declines: int, *others: str, channel: Channel = Channel.VOICE):
    """ana holds a connected contact of `sales`; `others` serve sales and are AVAILABLE; reservation.max_declines set."""
    deps = demo_deps()
    policy = routing.policy_of(deps, TENANT)
    routing.put_policy(deps, TENANT, policy.model_copy(update={
        "reservation": policy.reservation.model_copy(update={"max_declines": max_declines})}))
    return deps, ana_holds_a_contact(deps, *others, channel=channel)


def _segment(deps, contact_id) -> Contact:
    return deps.store.get_contact(TENANT, contact_id)


def _reservations(deps, contact_id) -> list[dict]:
    return [d for d in routing.decisions_of(deps, TENANT, contact_id) if d.get("kind") == "reservation"]


def test_a_blind_transfer_into_a_queue_never_comes_back_to_its_sender_after_one_refusal():
    """The probe: max_declines=2, ben rejects the only time; ana's exclusion counted as a second refusal, the
    exclusions were cleared but ben's, and the segment went to ana as soon as her after-contact work ended."""
    deps, cid = _ana_holds_a_call(2, "ben")
    seg = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="sales")))
    offered = contacts.queue_and_route(deps, TENANT, seg.contact_id, "tok-seg")
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ben")
    contacts.reject_contact(deps, TENANT, "ben", seg.contact_id)
    assert _segment(deps, seg.contact_id).declined_by == ("ana", "ben")  # nothing cleared: one refusal of two
    [reservation] = _reservations(deps, seg.contact_id)
    assert reservation["data"]["refusals"] == 1 and "max_declines" not in reservation["why"], reservation
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    waiting = _segment(deps, seg.contact_id)
    assert (waiting.state, waiting.agent_id) == (ContactState.QUEUED, None)  # was: OFFERED to ana
    assert seg.contact_id not in agents.get_agent(deps, TENANT, "ana").offered_contact_ids


def test_when_real_refusals_reach_max_declines_the_sender_stays_excluded():
    deps, cid = _ana_holds_a_call(2, "ben")
    seg = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="sales")))
    contacts.queue_and_route(deps, TENANT, seg.contact_id, "tok-seg")
    contacts.reject_contact(deps, TENANT, "ben", seg.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)  # ana is free and idle from now on
    add_agent(deps, "cy")
    offered = agents.set_agent_status(deps, TENANT, "cy", StatusChange(status="AVAILABLE"))
    assert _segment(deps, seg.contact_id).agent_id == "cy", offered
    # cy's is the second refusal: the refusals are forgotten but cy's, and ana stays away (ben gets it back)
    after = contacts.reject_contact(deps, TENANT, "cy", seg.contact_id)
    assert (after.state, after.agent_id) == (ContactState.OFFERED, "ben")
    assert _segment(deps, seg.contact_id).declined_by == ("ana", "cy")
    reservation = _reservations(deps, seg.contact_id)[-1]
    assert reservation["data"]["refusals"] == 2 and reservation["data"]["excluded_sender"] == "ana"
    assert "2 refusals reached max_declines=2: exclusions cleared but cy and the sender ana" in reservation["why"]
    # ben refuses too: cleared again (cy's and ben's refusals), ana still kept away, cy gets it back
    again = contacts.reject_contact(deps, TENANT, "ben", seg.contact_id)
    assert (again.agent_id, _segment(deps, seg.contact_id).declined_by) == ("cy", ("ana", "ben"))


def test_an_escalation_to_a_named_supervisor_who_rejects_it_never_goes_back_to_its_sender():
    deps, cid = _ana_holds_a_call(2, "ben")
    seg = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="x", supervisor_id="ben"))
    assert (seg.state, seg.agent_id) == (ContactState.OFFERED, "ben")
    contacts.reject_contact(deps, TENANT, "ben", seg.contact_id)
    assert _segment(deps, seg.contact_id).declined_by == ("ana", "ben")
    assert _reservations(deps, seg.contact_id)[-1]["data"]["refusals"] == 1
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    assert _segment(deps, seg.contact_id).state == ContactState.QUEUED  # was: OFFERED to ana


def test_an_escalation_into_the_escalation_queue_counts_only_its_refusals():
    deps, cid = _ana_holds_a_call(1, "ben")
    transfers.put_settings(deps, TENANT, TransferSettings(escalation_queue_id="sales"))
    seg = transfers.escalate(deps, TENANT, "ana", cid, EscalationRequest(reason="x"))
    contacts.queue_and_route(deps, TENANT, seg.contact_id, "tok-seg")
    contacts.reject_contact(deps, TENANT, "ben", seg.contact_id)  # max_declines=1: cleared, ana kept away
    assert _segment(deps, seg.contact_id).declined_by == ("ana", "ben")
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    assert _segment(deps, seg.contact_id).state == ContactState.QUEUED  # was: OFFERED to ana


def test_a_consult_leg_counts_only_real_refusals():
    """The consulting agent was kept away through a clearing before; her exclusion still counted as a refusal."""
    deps, cid = _ana_holds_a_call(2, "ben", channel=Channel.CHAT)  # chat: ana has free slots while she consults
    leg = transfers.consult(deps, TENANT, "ana", cid, ConsultRequest(to=ConsultDestination(queue_id="sales")))
    assert contacts.queue_and_route(deps, TENANT, leg.contact_id, "tok-leg").agent_id == "ben"
    contacts.reject_contact(deps, TENANT, "ben", leg.contact_id)
    assert _segment(deps, leg.contact_id).declined_by == ("ana", "ben")  # was: cleared to ("ben", "ana")
    assert _reservations(deps, leg.contact_id)[-1]["data"]["refusals"] == 1


def test_a_blind_transfer_with_exclusion_off_counts_every_refusal_and_keeps_no_sender():
    deps, cid = _ana_holds_a_call(2, "ben", "cy")
    seg = transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(queue_id="sales"), exclude_me=False))
    assert seg.declined_by == ()
    contacts.queue_and_route(deps, TENANT, seg.contact_id, "tok-seg")
    first = _segment(deps, seg.contact_id).agent_id
    contacts.reject_contact(deps, TENANT, first, seg.contact_id)
    second = _segment(deps, seg.contact_id).agent_id
    assert second not in (first, None, "ana")  # ana is in after-contact work
    contacts.reject_contact(deps, TENANT, second, seg.contact_id)
    assert _segment(deps, seg.contact_id).declined_by == (second,)
    assert _reservations(deps, seg.contact_id)[-1]["data"]["refusals"] == 2


# --- the rule itself, on segments as stored (pure) -------------------------------------------------------------------
def _stored(mode: HandoverMode, declined_by: tuple[str, ...], **fields) -> Contact:
    target = TransferTarget(kind=TransferKind.QUEUE, queue_id="sales")
    return Contact(tenant_id=TENANT, contact_id="seg", channel=Channel.VOICE, queue_id="sales",
                   state=ContactState.OFFERED, agent_id="cy", initiated_at=1, declined_by=declined_by,
                   handover=Handover(mode=mode, from_agent_id="ana", from_contact_id="c1", from_queue_id="sales",
                                     target=target, at=1), **fields)


def _policy(max_declines: int) -> RoutingPolicy:
    policy = RoutingPolicy()
    return policy.model_copy(update={"reservation": policy.reservation.model_copy(update={"max_declines": max_declines})})


def test_a_consult_leg_stored_after_an_old_clearing_still_keeps_its_consulting_agent_away():
    """The old clearing wrote (refuser, consulting agent): the consulting agent is still its sender, no refusal."""
    leg = _stored(HandoverMode.CONSULT, ("ben", "ana"), consult_of="c1")
    follow = after_failed_offer(leg, "cy", "rejected", _policy(2), 10)
    assert follow.reset_declines and follow.decision.data["refusals"] == 2
    assert follow.still_declined == ("ana", "cy")


def test_an_escalation_always_keeps_its_sender_away_and_a_plain_contact_keeps_only_the_last_refuser():
    escalation = _stored(HandoverMode.ESCALATION, ("ana",))
    follow = after_failed_offer(escalation, "cy", "rejected", _policy(1), 10)
    assert follow.decision.data["refusals"] == 1 and follow.still_declined == ("ana", "cy")
    plain = Contact(tenant_id=TENANT, contact_id="c2", channel=Channel.VOICE, queue_id="sales", initiated_at=1,
                    state=ContactState.OFFERED, agent_id="cy", declined_by=("ana",))
    follow = after_failed_offer(plain, "cy", "timeout", _policy(2), 10)
    assert follow.decision.data["refusals"] == 2 and follow.still_declined == ("cy",)
    assert "exclusions cleared but cy" in follow.decision.why and "sender" not in follow.decision.why
