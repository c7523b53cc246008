"""Moving work between people (pure): hold and resume, blind transfer, consult (then complete,
conference or cancel), escalation, leaving a conference, and the customer hanging up on a live contact.

Segments follow Amazon Connect: a transfer ends the transferring agent's segment (it goes to
after-contact work and ends TRANSFERRED, `transferred_to` naming the target) and creates the next
segment (initiation TRANSFER, `previous_contact_id` / `next_contact_id`, the same `initial_contact_id`)
carrying a `Handover`: mode, sender, reason and note. The next segment is routed and waited for like
any contact; a segment for a named agent is offered to that agent at once.

A consult creates the next segment while the customer waits on hold: the consult leg names the
consulting segment (`consult_of`) and the consulting segment names the leg (`consult_contact_id`).
Completing turns the leg into the customer's segment (a warm transfer); conferencing keeps both
segments connected (`conference_with`) until one agent leaves; cancelling ends the leg and resumes.

Every function returns the changed copies with versions bumped; the use-case saves each operation's
copies in one transaction, so a transfer is whole or absent.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ccaas.domain import lifecycle
from ccaas.domain.routing_engine.synthetic import synthetic_refusal
from ccaas.domain.vocabulary import Bool
from ccaas.domain.models import (
    E164_PATTERN,
    NAME_PATTERN,
    Agent,
    Conflict,
    Contact,
    ContactState,
    DomainError,
    Frozen,
    Handover,
    HandoverMode,
    InitiationMethod,
    Int,
    NotFound,
    Queue,
    TransferKind,
    TransferTarget,
)

CONSULT_CANCELLED = "CONSULT_CANCELLED"  # abandon reason of a consult leg that was never answered
# The reason on the event of a segment withdrawn because its workflow could not start (the transfer undone).
TRANSFER_WITHDRAWN = "TRANSFER_WITHDRAWN"
_Name = Annotated[str, Field(pattern=NAME_PATTERN)]
# The most segments one customer contact can ever have: the highest max_segments a tenant may set (a chain made
# under it stays whole in GET /contacts/{id}/segments after the setting is lowered).
MAX_SEGMENTS = 50


class QuickConnect(Frozen):
    """An external destination agents may transfer to (Amazon Connect: a phone-number quick connect)."""

    name: str = Field(min_length=1, max_length=128)
    phone_number: str = Field(pattern=E164_PATTERN, description="E.164")


class TransferSettings(Frozen):
    """The tenant's transfer settings (PUT /settings/transfers)."""

    quick_connects: dict[_Name, QuickConnect] = Field(default_factory=dict, max_length=200)
    escalation_queue_id: _Name | None = Field(
        default=None, description="where an escalation goes when it names no supervisor")
    escalation_priority: Int = Field(default=1, ge=1, le=10, description="the escalated segment's priority at most (1 = most urgent)")
    exclude_transferring_agent: Bool = Field(
        default=True, description="a segment transferred into a queue is not offered back to its sender")
    max_segments: Int = Field(default=10, ge=2, le=MAX_SEGMENTS,
                              description="segments one customer contact may have (stops loops)")


def _require_connected(contact: Contact, agent: Agent) -> None:
    if contact.state != ContactState.CONNECTED:
        raise Conflict(f"contact {contact.contact_id} is {contact.state}, not CONNECTED", field="contact_id")
    if contact.agent_id != agent.agent_id:
        raise Conflict(f"contact {contact.contact_id} is not assigned to agent {agent.agent_id}", field="contact_id")


def _bump(contact: Contact, **changes: object) -> Contact:
    return contact.model_copy(update={"version": contact.version + 1, **changes})


# --- hold ------------------------------------------------------------------------------------------
def hold(contact: Contact, agent: Agent, now_ms: int) -> Contact:
    _require_connected(contact, agent)
    if contact.consult_of:
        # No customer is on a consult leg: its "hold" would run on as customer hold once it joins a conference.
        raise Conflict(f"contact {contact.contact_id} is a consult leg: only the customer's segment goes on hold",
                       field="contact_id")
    if contact.on_hold:
        raise Conflict(f"contact {contact.contact_id} is already on hold", field="contact_id")
    return _bump(contact, held_since=now_ms, hold_count=contact.hold_count + 1)


def resume(contact: Contact, agent: Agent, now_ms: int) -> Contact:
    _require_connected(contact, agent)
    if not contact.on_hold:
        raise Conflict(f"contact {contact.contact_id} is not on hold", field="contact_id")
    return _bump(contact, **lifecycle.hold_closed(contact, now_ms))


# --- the next segment ------------------------------------------------------------------------------
def check_can_transfer(contact: Contact, agent: Agent, settings: TransferSettings) -> None:
    """A transfer or consult starts only from a connected contact with no consult or conference going on."""
    _require_connected(contact, agent)
    if contact.consult_contact_id:
        raise Conflict(f"contact {contact.contact_id} has a consult in progress: complete, conference or cancel it first",
                       field="contact_id")
    if contact.conference_with:
        raise Conflict(f"contact {contact.contact_id} is in a conference: leave it instead", field="contact_id")
    if contact.consult_of:
        raise Conflict(f"contact {contact.contact_id} is a consult leg: the consulting agent completes or cancels it",
                       field="contact_id")
    if contact.segment_number >= settings.max_segments:
        raise Conflict(f"contact {contact.initial_contact_id or contact.contact_id} has {contact.segment_number} segments, "
                       f"the most this tenant allows (max_segments)", field="contact_id")


def check_journey_isolation(contact: Contact, agent: Agent, field: str = "agent_id") -> None:
    """What routing keeps apart (routing_engine.synthetic), for the moves that name the agent themselves: a real
    customer never reaches a test agent, a journey test's contact never a real one. `field`: the request's field
    that names the agent."""
    refused = synthetic_refusal(agent, contact)
    if refused is not None:
        raise DomainError(f"agent {agent.agent_id} is a test agent: it takes only journey tests' contacts"
                          if refused == "test_agent" else
                          "a journey test's contact goes only to a test agent", field=field)


def check_target_agent(source: Contact, sender: Agent, target: Agent, field: str = "agent_id") -> None:
    """A named agent must be someone else, one routing could offer the contact to as far as journey tests go
    (a real customer never reaches a test agent, a journey's contact never a real one), staffed and with a free
    slot of the contact's channel. `field`: the request's field that names it (`supervisor_id` for an escalation)."""
    if target.agent_id == sender.agent_id:
        raise DomainError("a contact cannot be transferred to the agent who holds it", field=field)
    check_journey_isolation(source, target, field)
    if not target.is_available:
        raise Conflict(f"agent {target.agent_id} is {target.status}, not AVAILABLE", field=field)
    if target.free_slots(source.channel) < 1:
        raise Conflict(f"agent {target.agent_id} is at capacity for {source.channel} contacts", field=field)


def next_segment(source: Contact, segment_id: str, queue: Queue, handover: Handover, *, priority: int,
                 exclude_sender: bool, now_ms: int) -> Contact:
    """The segment a transfer creates, in `queue` (INITIATED: its workflow queues it). Context travels:
    customer, reason, attributes; the handover says who sent it and why."""
    queue.require_channel(source.channel)
    return Contact(
        tenant_id=source.tenant_id,
        contact_id=segment_id,
        channel=source.channel,
        initiation_method=InitiationMethod.TRANSFER,
        queue_id=queue.queue_id,
        priority=priority,
        customer_id=source.customer_id,
        reason=source.reason,
        attributes=source.attributes,
        previous_contact_id=source.contact_id,
        initial_contact_id=source.initial_contact_id or source.contact_id,
        segment_number=source.segment_number + 1,
        declined_by=(handover.from_agent_id,) if exclude_sender else (),
        initiated_at=now_ms,
        sl_threshold_s=queue.sl_threshold_s,
        callback_number=None,
        handover=handover,
        consult_of=source.contact_id if handover.mode == HandoverMode.CONSULT else None,
    )


def offer_to(segment: Contact, target: Agent, now_ms: int) -> tuple[Contact, Agent]:
    """A segment for a named agent skips the queue: it is offered to that agent in the same write
    (enqueued only if the agent rejects or misses it; lifecycle.decline)."""
    waiting = segment.model_copy(update={"state": ContactState.QUEUED, "version": segment.version - 1})
    return lifecycle.reserve(waiting, target, now_ms)


def hand_off(source: Contact, agent: Agent, target: TransferTarget, next_contact_id: str | None,
             now_ms: int) -> tuple[Contact, Agent]:
    """The sender leaves: its segment goes to after-contact work and will end TRANSFERRED."""
    return lifecycle.disconnect(source, agent, now_ms, transferred_to=target, next_contact_id=next_contact_id,
                                consult_contact_id=None, **conference_closed(source, now_ms))


# --- consult ---------------------------------------------------------------------------------------
def start_consult(source: Contact, agent: Agent, leg: Contact, now_ms: int) -> Contact:
    """The customer goes on hold (unless already) while the agent reaches the target on `leg`."""
    held = {} if source.on_hold else {"held_since": now_ms, "hold_count": source.hold_count + 1}
    return _bump(source, consult_contact_id=leg.contact_id, **held)


def _require_consult(source: Contact, leg: Contact) -> None:
    if source.consult_contact_id != leg.contact_id or leg.consult_of != source.contact_id:
        raise Conflict(f"contact {source.contact_id} has no consult in progress", field="contact_id")


def _consulted_ms(leg: Contact, now_ms: int) -> int:
    return leg.consult_ms + (max(0, now_ms - leg.connected_at) if leg.connected_at is not None else 0)


def complete_consult(source: Contact, agent: Agent, leg: Contact, now_ms: int) -> tuple[Contact, Agent, Contact]:
    """Warm transfer: the leg becomes the customer's segment, the sender leaves. Allowed before the
    target answered too (it becomes a blind transfer to the same target)."""
    _require_connected(source, agent)
    _require_consult(source, leg)
    if leg.state.terminal:
        raise Conflict(f"consult leg {leg.contact_id} already ended ({leg.state})", field="contact_id")
    sent, released = hand_off(source, agent, _target_of(leg), leg.contact_id, now_ms)
    return sent, released, _bump(leg, consult_of=None, consult_ms=_consulted_ms(leg, now_ms))


def conference(source: Contact, agent: Agent, leg: Contact, now_ms: int) -> tuple[Contact, Contact]:
    """Customer and both agents together: the hold ends, both segments stay connected."""
    _require_connected(source, agent)
    _require_consult(source, leg)
    if leg.state != ContactState.CONNECTED:
        raise Conflict(f"consult leg {leg.contact_id} is {leg.state}: the target has not answered yet", field="contact_id")
    joined = _bump(source, consult_contact_id=None, conference_with=leg.contact_id, conference_since=now_ms,
                   **lifecycle.hold_closed(source, now_ms))
    # A leg held before hold was refused on legs: everyone is on the line now, so its hold ends too.
    return joined, _bump(leg, consult_of=None, consult_ms=_consulted_ms(leg, now_ms), conference_with=source.contact_id,
                         conference_since=now_ms, **lifecycle.hold_closed(leg, now_ms))


def cancel_consult(source: Contact, leg: Contact, leg_agent: Agent | None, now_ms: int,
                   *, resume_customer: bool = True) -> tuple[Contact, Contact, Agent | None]:
    """The consult ends without a transfer: the leg ends (after-contact work for an agent who answered
    it, otherwise withdrawn as CONSULT_CANCELLED) and the customer comes off hold."""
    _require_consult(source, leg)
    back = _consult_over(source, now_ms, resume_customer=resume_customer)
    ended, released = end_leg(leg, leg_agent, now_ms)
    return back, ended, released


def _consult_over(source: Contact, now_ms: int, *, resume_customer: bool = True) -> Contact:
    return _bump(source, consult_contact_id=None, **(lifecycle.hold_closed(source, now_ms) if resume_customer else {}))


def leg_ended_alone(source: Contact, leg: Contact, now_ms: int) -> Contact | None:
    """The consulting segment once its leg ended without a transfer by something other than its agents (timed
    out in its queue, withdrawn by the system): the consult is over as a cancel ends it, the customer off hold
    and the sender free to complete, transfer or consult again. None when `source` no longer consults `leg`
    (completed, conferenced, cancelled or ended meanwhile): nothing to change."""
    if source.consult_contact_id != leg.contact_id:
        return None
    return _consult_over(source, now_ms)


def end_leg(leg: Contact, leg_agent: Agent | None, now_ms: int) -> tuple[Contact, Agent | None]:
    """End a consult leg whatever its state: ACW once answered, withdrawn before."""
    if leg.state == ContactState.CONNECTED:
        if leg_agent is None:
            raise Conflict(f"consult leg {leg.contact_id} has no agent", field="contact_id")
        return lifecycle.disconnect(leg, leg_agent, now_ms, consult_ms=_consulted_ms(leg, now_ms))
    if leg.state in (ContactState.INITIATED, ContactState.QUEUED, ContactState.OFFERED, ContactState.CALLBACK_SCHEDULED):
        return lifecycle.abandon(leg, leg_agent, now_ms, CONSULT_CANCELLED)
    return leg, None  # already in ACW or ended: nothing to undo


# --- conference ------------------------------------------------------------------------------------
def conference_closed(contact: Contact, now_ms: int) -> dict[str, object]:
    if contact.conference_since is None:
        return {}
    return {"conference_with": None, "conference_since": None,
            "conference_ms": contact.conference_ms + max(0, now_ms - contact.conference_since)}


def leave_conference(leaving: Contact, agent: Agent, other: Contact, now_ms: int) -> tuple[Contact, Agent, Contact]:
    """One agent leaves; the customer stays with the other. The consulting agent leaving is the
    completed transfer (its segment ends TRANSFERRED); the consulted agent leaving ends its segment."""
    _require_connected(leaving, agent)
    if leaving.conference_with != other.contact_id or other.conference_with != leaving.contact_id:
        raise Conflict(f"contact {leaving.contact_id} is not in a conference", field="contact_id")
    if other.previous_contact_id == leaving.contact_id:
        left, released = hand_off(leaving, agent, _target_of(other), other.contact_id, now_ms)
    else:
        # The consulted agent leaves: its segment never became the customer's, so it stays marked as the
        # consult leg it was (KPIs count it as a consult, not as a contact transferred in).
        leg = {"consult_of": other.contact_id} if leaving.previous_contact_id == other.contact_id else {}
        left, released = lifecycle.disconnect(leaving, agent, now_ms, **conference_closed(leaving, now_ms), **leg)
    return left, released, _bump(other, **conference_closed(other, now_ms))


def customer_left_conference(segment: Contact, agent: Agent, other: Contact, now_ms: int) -> tuple[Contact, Agent]:
    """The customer hangs up in a conference: `segment` (either side) goes to after-contact work. Conferencing
    made the leg the customer's segment (`consult_of` cleared: history counts it transferred in), so the
    consulting segment ends handed over to it, as when its agent leaves first: one transfer out and one in,
    in history and in live counts alike (DOMAIN "Segments")."""
    if other.previous_contact_id == segment.contact_id:
        return hand_off(segment, agent, _target_of(other), other.contact_id, now_ms)
    return lifecycle.disconnect(segment, agent, now_ms, **conference_closed(segment, now_ms))


def _target_of(leg: Contact) -> TransferTarget:
    return leg.handover.target if leg.handover else TransferTarget(kind=TransferKind.QUEUE, queue_id=leg.queue_id)


# --- escalation ------------------------------------------------------------------------------------
def take_escalation(segment: Contact, agent: Agent, now_ms: int) -> tuple[Contact, Agent]:
    """A supervisor takes a waiting escalation: reserved and connected in one write. Two supervisors
    racing for it: the optimistic write lets one win; the other finds it taken (409). The taker serves the
    escalation's queue or is the supervisor it names (as routing would offer it). Whoever could have taken it
    (those, and an agent it was offered to) loses a race with that same 409, from an agent's key as from a
    supervisor's; for anyone else it is not there: NotFound, worded as for an unknown id (an agent's key learns
    nothing of contacts it could not be offered, not even that one exists)."""
    if not _may_take(segment, agent) and not _refused_by(segment, agent):
        raise NotFound(f"contact {segment.contact_id} not found", field="contact_id")
    if segment.handover is None or segment.handover.mode != HandoverMode.ESCALATION:
        raise DomainError(f"contact {segment.contact_id} is not an escalation", field="contact_id")
    check_journey_isolation(segment, agent)
    if segment.state == ContactState.OFFERED and segment.agent_id == agent.agent_id:
        return lifecycle.accept(segment, agent, now_ms)
    if segment.state != ContactState.QUEUED:
        holder = f" by agent {segment.agent_id}" if segment.agent_id else ""
        raise Conflict(f"escalation {segment.contact_id} is {segment.state}{holder}: already taken", field="contact_id")
    if agent.agent_id in segment.declined_by:  # routing keeps it away from them too (lifecycle.reserve)
        why = ("sent it" if agent.agent_id == lifecycle.excluded_sender(segment) else "refused it")
        raise Conflict(f"escalation {segment.contact_id} waits for another taker: agent {agent.agent_id} {why}",
                       field="contact_id")
    offered, reserved = lifecycle.reserve(segment, agent, now_ms)
    connected, taken = lifecycle.accept(offered, reserved, now_ms)
    # Two transitions, one write: each entity's version moves by one.
    return (connected.model_copy(update={"version": segment.version + 1}),
            taken.model_copy(update={"version": agent.version + 1}))


def _may_take(segment: Contact, agent: Agent) -> bool:
    named = segment.handover.target if segment.handover else None
    return (agent.serves(segment.queue_id) is not None or segment.agent_id == agent.agent_id
            or (named is not None and named.kind == TransferKind.AGENT and named.agent_id == agent.agent_id))


def _refused_by(segment: Contact, agent: Agent) -> bool:
    """It was offered to this agent, who missed or rejected it (its sender is in declined_by without an offer)."""
    return agent.agent_id in segment.declined_by and agent.agent_id != lifecycle.excluded_sender(segment)


# --- undo ------------------------------------------------------------------------------------------
def undo_send(sender: Contact, agent: Agent, now_ms: int) -> tuple[Contact, Agent]:
    """Take back a transfer or consult whose new segment could not start: the sender has the customer
    again (a consult's hold ends; a handed-off segment is connected again, its ACW slot returned)."""
    if sender.consult_contact_id:
        return _bump(sender, consult_contact_id=None, **lifecycle.hold_closed(sender, now_ms)), agent
    if sender.state != ContactState.ACW or sender.transferred_to is None:
        raise Conflict(f"contact {sender.contact_id} is {sender.state}: nothing to undo", field="contact_id")
    # Not a lifecycle transition (ACW -> CONNECTED is never allowed otherwise): the write that made it never stood.
    restored = _bump(sender, state=ContactState.CONNECTED, disconnected_at=None, transferred_to=None, next_contact_id=None)
    return restored, agent.model_copy(update={"version": agent.version + 1,
                                              "acw_contact_ids": tuple(c for c in agent.acw_contact_ids if c != sender.contact_id)})

