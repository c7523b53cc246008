"""Moving work between people: hold, transfer, consult, conference, escalation (ccaas.domain.transfers).

Every operation is one optimistic, all-or-nothing save of the contacts and agents it changes (the old
segment ends and the new one exists together, or neither), then its events. A new segment is a
contact like any other: its own lifecycle workflow routes it and waits for its agent (AwaitAgent),
started after the save; should that start fail, the transfer is undone in one more write (the sender
has the customer back, the segment ends FAILED) and the caller gets the error.
"""
from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccaas.bootstrap import Dependencies
from ccaas.domain import lifecycle, transfers
from ccaas.domain.events import EventType
from ccaas.domain.models import (
    NAME_PATTERN,
    Agent,
    Channel,
    Conflict,
    Contact,
    ContactState,
    DomainError,
    Handover,
    HandoverMode,
    Int,
    NotFound,
    Queue,
    TransferKind,
    TransferTarget,
)
from ccaas.domain.transfers import MAX_SEGMENTS, TRANSFER_WITHDRAWN, TransferSettings
from ccaas.domain.vocabulary import Bool, shown_value
from ccaas.usecases import routing
from ccaas.usecases.analytics import redact
from ccaas.usecases.contacts import _answer, _wait_s, commit, earlier_segments, offer_work_to, retrying
from ccaas.usecases.tenancy import save_settings, settings_of

logger = logging.getLogger(__name__)
SETTINGS = "transfers"
_Name = Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
_Reason = Annotated[str, Field(min_length=1, max_length=64, description="why (free text: redacted like transcripts)")]
_Note = Annotated[str, Field(min_length=1, max_length=2000, description="for the receiving agent (redacted)")]


class Destination(BaseModel):
    """Exactly one of: a queue, a named agent, a quick connect (an external number)."""

    model_config = ConfigDict(extra="forbid")

    queue_id: _Name | None = None
    agent_id: _Name | None = None
    quick_connect_id: _Name | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Destination:
        named = [n for n in ("queue_id", "agent_id", "quick_connect_id") if getattr(self, n) is not None]
        if len(named) != 1:
            raise ValueError("name exactly one of queue_id, agent_id, quick_connect_id")
        return self


class ConsultDestination(Destination):
    @model_validator(mode="after")
    def _not_external(self) -> ConsultDestination:
        if self.quick_connect_id is not None:
            raise ValueError("a consult reaches a queue or an agent; transfer to a quick connect instead")
        return self


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Destination
    reason: _Reason | None = None
    note: _Note | None = None
    priority: Int | None = Field(default=None, ge=1, le=10, description=(
        "the new segment's priority (1 = most urgent); a transfer keeps or raises the contact's priority, never lowers it"))
    exclude_me: Bool | None = Field(default=None, description=(
        "not offered back to me from the queue (default: the tenant's exclude_transferring_agent)"))


class ConsultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ConsultDestination
    reason: _Reason | None = None
    note: _Note | None = None
    priority: Int | None = Field(default=None, ge=1, le=10, description=(
        "the consult leg's priority (1 = most urgent): a customer on hold and an agent wait on it; "
        "keeps or raises the contact's priority, never lowers it"))


class EscalationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supervisor_id: _Name | None = Field(default=None, description="a named supervisor (an agent id); else the escalation queue")
    reason: _Reason
    note: _Note | None = None


# --- settings --------------------------------------------------------------------------------------
def get_settings(deps: Dependencies, tenant_id: str) -> TransferSettings:
    return settings_of(deps, tenant_id, SETTINGS, TransferSettings)


def put_settings(deps: Dependencies, tenant_id: str, settings: TransferSettings) -> TransferSettings:
    if settings.escalation_queue_id is not None:
        _queue(deps, tenant_id, settings.escalation_queue_id, "escalation_queue_id")
    for name, quick in settings.quick_connects.items():
        _check_destination(quick.phone_number, f"quick_connects.{name}.phone_number")
    return save_settings(deps, tenant_id, SETTINGS, settings)


def _check_destination(number: str, field: str) -> None:
    """A quick connect is where agents send customers: a number the business may not dial on its account
    (`ccaas.domain.destinations`: none a carrier routes, premium-rate, personal, satellite) is refused when
    it is saved (checked on the write only: settings stored before still load)."""
    from ccaas.domain.destinations import require_destination  # noqa: PLC0415 - phonenumbers: only saving settings

    # Named by its field, never quoted: an error never shows a value of 13 or more digits (README "Errors, limits
    # and retries"), and a phone number is up to 15.
    require_destination(number, field, "quick connect phone_number")


# --- hold ------------------------------------------------------------------------------------------
def hold(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    return _on_own_contact(deps, tenant_id, agent_id, contact_id, transfers.hold, EventType.CONTACT_HELD)


def resume(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    return _on_own_contact(deps, tenant_id, agent_id, contact_id, transfers.resume, EventType.CONTACT_RESUMED)


def _on_own_contact(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, change: Any,
                    event: EventType) -> Contact:
    def attempt() -> Contact:
        agent, contact = _load(deps, tenant_id, agent_id, contact_id)
        changed = change(contact, agent, deps.clock.now_ms())
        commit(deps, contacts=[(changed, event, {"hold_count": changed.hold_count, "hold_ms": changed.hold_ms})])
        return changed

    return retrying(attempt)


# --- transfer, consult, escalation ----------------------------------------------------------------
def transfer(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, request: TransferRequest) -> Contact:
    """Blind transfer. Returns the new segment; for an external number, the sender's segment (the
    customer leaves the contact center: no next segment)."""
    return _send(deps, tenant_id, agent_id, contact_id, request.to, HandoverMode.BLIND, request.reason, request.note,
                 priority=request.priority, exclude_me=request.exclude_me)


def escalate(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, request: EscalationRequest) -> Contact:
    """A transfer to a supervisor (named, or the tenant's escalation queue) with raised priority and a reason."""
    settings = get_settings(deps, tenant_id)
    if request.supervisor_id is not None:
        to = Destination(agent_id=request.supervisor_id)
    elif settings.escalation_queue_id is not None:
        to = Destination(queue_id=settings.escalation_queue_id)
    else:
        raise DomainError("name a supervisor_id: this tenant has no escalation_queue_id (PUT /settings/transfers)",
                          field="supervisor_id")
    return _send(deps, tenant_id, agent_id, contact_id, to, HandoverMode.ESCALATION, request.reason, request.note,
                 priority=settings.escalation_priority, exclude_me=True, settings=settings, agent_field="supervisor_id")


def consult(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, request: ConsultRequest) -> Contact:
    """The customer goes on hold; the consult leg is routed to the target. Returns the leg."""
    return _send(deps, tenant_id, agent_id, contact_id, request.to, HandoverMode.CONSULT, request.reason, request.note,
                 priority=request.priority, exclude_me=True)


def _send(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, to: Destination, mode: HandoverMode,
          reason: str | None, note: str | None, *, priority: int | None, exclude_me: bool | None,
          settings: TransferSettings | None = None, agent_field: str = "agent_id") -> Contact:
    """`agent_field`: the request's field that names a target agent, which its errors name."""
    settings = settings or get_settings(deps, tenant_id)
    reason = redact(deps, tenant_id, reason) if reason else None
    note = redact(deps, tenant_id, note) if note else None
    exclude = settings.exclude_transferring_agent if exclude_me is None else exclude_me

    def attempt() -> tuple[Contact, Contact | None, Queue | None]:
        agent, source = _load(deps, tenant_id, agent_id, contact_id)
        transfers.check_can_transfer(source, agent, settings)
        now = deps.clock.now_ms()
        target, queue, target_agent = _resolve(deps, source, agent, to, settings, agent_field)
        if target.kind == TransferKind.EXTERNAL:
            sent, released = transfers.hand_off(source, agent, target, None, now)
            commit(deps, contacts=[(sent, EventType.CONTACT_TRANSFERRED, _transferred(sent, mode, target, None))],
                   agents=[(agent, released)])
            return sent, None, None
        handover = Handover(mode=mode, from_agent_id=agent.agent_id, from_contact_id=source.contact_id,
                            from_queue_id=source.queue_id, target=target, reason=reason or source.reason, note=note, at=now)
        segment = transfers.next_segment(source, deps.ids.new_id(), queue, handover,
                                         priority=_priority(source, priority), exclude_sender=exclude, now_ms=now)
        segment = _planned(deps, segment, queue)
        agents: list[tuple[Agent | None, Agent | None]] = []
        changes: list[tuple[Contact, EventType | None, dict]] = []
        if target_agent is not None:
            segment, reserved = transfers.offer_to(segment, target_agent, now)
            agents.append((target_agent, reserved))
        if mode == HandoverMode.CONSULT:
            sender = transfers.start_consult(source, agent, segment, now)
            changes.append((sender, EventType.CONTACT_CONSULT_STARTED, _transferred(sender, mode, target, segment)))
        else:
            sender, released = transfers.hand_off(source, agent, target, segment.contact_id, now)
            agents.append((agent, released))
            changes.append((sender, EventType.CONTACT_TRANSFERRED, _transferred(sender, mode, target, segment)))
        changes.append((segment, EventType.CONTACT_OFFERED if target_agent is not None else None, {}))
        commit(deps, contacts=changes, agents=agents)
        return sender, segment, queue

    sender, segment, queue = retrying(attempt)
    if segment is None or queue is None:
        return sender  # an external transfer: the customer left the contact center
    _start(deps, sender, segment, queue)
    return segment


def _start(deps: Dependencies, sender: Contact, segment: Contact, queue: Queue) -> None:
    """The new segment's own lifecycle (its first wait from the queue the transfer resolved); undone whole
    if it cannot start."""
    policy = routing.policy_of(deps, segment.tenant_id)
    now = deps.clock.now_ms()
    try:
        deps.workflow.start_contact(segment, _wait_s(routing.next_check(deps, segment, queue, policy, now), now))
    except Exception:
        logger.exception("the transferred segment's workflow did not start: transfer undone")
        try:
            _undo(deps, sender, segment)
        except Exception:  # noqa: BLE001 - the caller learns why the transfer failed, not why its undo did
            logger.exception("the transfer could not be undone")
        raise


def _undo(deps: Dependencies, sender: Contact, segment: Contact) -> None:
    """The new segment is withdrawn (it has no workflow: nothing would ever route or end it) and, when the
    sender still points at it, the sender has the customer back. The sender may have moved on in the meantime
    (its agent ended ACW: its segment ended TRANSFERRED): it is left as it is, the segment withdrawn all the same."""

    def attempt() -> Agent | None:
        now = deps.clock.now_ms()
        current = deps.store.get_contact(sender.tenant_id, sender.contact_id)
        leg = deps.store.get_contact(segment.tenant_id, segment.contact_id)
        contacts: list[tuple[Contact, EventType | None, dict]] = []
        agents: list[tuple[Agent | None, Agent | None]] = []
        if current.consult_contact_id == leg.contact_id or (
                current.state == ContactState.ACW and current.next_contact_id == leg.contact_id):
            agent = deps.store.get_agent(sender.tenant_id, sender.agent_id or "")
            restored, restored_agent = transfers.undo_send(current, agent, now)
            # The transfer's (or consult's) event is out already: the undo is an event too, so live counts, the
            # agent's desktop and the lake see the customer back with the sender.
            mode = leg.handover.mode if leg.handover else HandoverMode.BLIND
            undone = _transferred(sender, mode, leg.handover.target if leg.handover else None, leg)
            contacts.append((restored, EventType.CONTACT_TRANSFER_UNDONE, undone))
            agents.append((agent, restored_agent))
        released: Agent | None = None
        if not leg.state.terminal:
            leg_agent = deps.store.get_agent(leg.tenant_id, leg.agent_id) if leg.agent_id else None
            failed, released = lifecycle.fail(leg, leg_agent, now)
            # Withdrawn, not abandoned: a leg a named agent declined was counted waiting in its queue (live metrics
            # take it out again; one never queued counts nothing).
            contacts.append((failed, EventType.CONTACT_ABANDONED, {"previous_state": leg.state.value,
                                                                   "reason": TRANSFER_WITHDRAWN,
                                                                   "sl_threshold_s": leg.sl_threshold_s}))
            agents.append((leg_agent, released))
        if contacts:
            commit(deps, contacts=contacts, agents=agents)
        return released

    released = retrying(attempt)
    if released is not None:  # the named agent the segment was offered to is free: waiting work goes to them now
        offer_work_to(deps, released.tenant_id, released.agent_id)


def complete_consult(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    """Warm transfer: returns the customer's new segment (the consult leg)."""

    def attempt() -> Contact:
        agent, source, leg = _consult_of(deps, tenant_id, agent_id, contact_id)
        now = deps.clock.now_ms()
        sent, released, transferred = transfers.complete_consult(source, agent, leg, now)
        target = transferred.handover.target if transferred.handover else None
        commit(deps, contacts=[(sent, EventType.CONTACT_TRANSFERRED, _transferred(sent, HandoverMode.CONSULT, target, transferred)),
                               (transferred, None, {})],
               agents=[(agent, released)])
        return transferred

    return retrying(attempt)


def conference(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    """Customer and both agents together. Returns the consulting agent's segment."""

    def attempt() -> Contact:
        agent, source, leg = _consult_of(deps, tenant_id, agent_id, contact_id)
        joined, leg_joined = transfers.conference(source, agent, leg, deps.clock.now_ms())
        extra = {"conference_with": leg.contact_id}
        commit(deps, contacts=[(joined, EventType.CONTACT_CONFERENCE_JOINED, extra),
                               (leg_joined, EventType.CONTACT_CONFERENCE_JOINED, {"conference_with": source.contact_id})])
        return joined

    return retrying(attempt)


def cancel_consult(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    """The consult ends without a transfer and the customer comes off hold. Returns the sender's segment."""

    def attempt() -> tuple[Contact, Contact, Contact]:
        agent, source, leg = _consult_of(deps, tenant_id, agent_id, contact_id)
        if source.agent_id != agent.agent_id or source.state != ContactState.CONNECTED:
            raise Conflict(f"contact {contact_id} is not CONNECTED to agent {agent_id}", field="contact_id")
        leg_agent = deps.store.get_agent(tenant_id, leg.agent_id) if leg.agent_id else None
        back, ended, released = transfers.cancel_consult(source, leg, leg_agent, deps.clock.now_ms())
        commit(deps, contacts=[(back, EventType.CONTACT_CONSULT_CANCELLED, {"consult_contact_id": leg.contact_id}),
                               *_changed_leg(leg, ended)],
               agents=[(leg_agent, released)])
        return leg, ended, back

    leg, ended, back = retrying(attempt)
    _after_leg_ended(deps, leg, ended)
    return back


def end_conversation(deps: Dependencies, tenant_id: str, agent: Agent, contact: Contact) -> Contact | None:
    """The agent ends a conversation that involves another segment (usecases.contacts.complete_contact
    asks first): leaving a conference, or the consulted agent hanging up on a consult. None when the
    contact is an ordinary one."""
    now = deps.clock.now_ms()
    if contact.consult_contact_id:
        raise Conflict(f"contact {contact.contact_id} has a consult in progress: complete, conference or cancel it first",
                       field="contact_id")
    if contact.conference_with:
        other = deps.store.get_contact(tenant_id, contact.conference_with)
        left, released, stays = transfers.leave_conference(contact, agent, other, now)
        event = EventType.CONTACT_TRANSFERRED if left.transferred_to is not None else EventType.CONTACT_ACW_STARTED
        extra = (_transferred(left, HandoverMode.CONSULT, left.transferred_to, stays) if left.transferred_to is not None else {})
        commit(deps, contacts=[(left, event, extra),
                               (stays, EventType.CONTACT_CONFERENCE_LEFT, {"left": contact.contact_id})],
               agents=[(agent, released)])
        return left
    if contact.consult_of:
        source = deps.store.get_contact(tenant_id, contact.consult_of)
        # The consulted agent hangs up: the consult is over, the customer stays on hold with the sender.
        back, ended, released = transfers.cancel_consult(source, contact, agent, now, resume_customer=False)
        commit(deps, contacts=[(back, EventType.CONTACT_CONSULT_CANCELLED, {"consult_contact_id": contact.contact_id}),
                               (ended, EventType.CONTACT_ACW_STARTED, {})],
               agents=[(agent, released)])
        return ended
    return None


def disconnect_customer(deps: Dependencies, tenant_id: str, contact_id: str) -> Contact:
    """The customer hung up on a connected contact: its agent goes to after-contact work, and so does
    every other agent on it (a consult leg is withdrawn or ended, a conference ends for both)."""

    def attempt() -> tuple[Contact, list[tuple[Contact, Contact]]]:
        contact = deps.store.get_contact(tenant_id, contact_id)
        lifecycle.require_customer_side(contact, "disconnected")
        if contact.state != ContactState.CONNECTED:
            raise Conflict(f"contact {contact_id} is {contact.state}: only a connected customer contact can be "
                           "disconnected (a waiting one is abandoned)", field="contact_id")
        now = deps.clock.now_ms()
        agent = deps.store.get_agent(tenant_id, contact.agent_id or "")
        partner = deps.store.get_contact(tenant_id, contact.conference_with) if contact.conference_with else None
        if partner is not None:
            ended, released = transfers.customer_left_conference(contact, agent, partner, now)
        else:
            ended, released = lifecycle.disconnect(contact, agent, now, consult_contact_id=None)
        changes: list[tuple[Contact, EventType | None, dict]] = [_hung_up(ended, partner, {"reason": "CUSTOMER_LEFT"})]
        agents: list[tuple[Agent | None, Agent | None]] = [(agent, released)]
        others: list[tuple[Contact, Contact]] = []
        for other_id in filter(None, (contact.consult_contact_id, contact.conference_with)):
            other = deps.store.get_contact(tenant_id, other_id)
            other_agent = deps.store.get_agent(tenant_id, other.agent_id) if other.agent_id else None
            if other.conference_with:
                other_ended, other_released = transfers.customer_left_conference(
                    other, other_agent, contact, now)  # type: ignore[arg-type]
                changes.append(_hung_up(other_ended, contact, {}))
            else:
                other_ended, other_released = transfers.end_leg(other, other_agent, now)
                changes.extend(_changed_leg(other, other_ended))
            agents.append((other_agent, other_released))
            others.append((other, other_ended))
        commit(deps, contacts=changes, agents=agents)
        return ended, others

    ended, others = retrying(attempt)
    for before, after in others:
        _after_leg_ended(deps, before, after)
    return ended


def take_escalation(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    """A supervisor takes a waiting escalation (reserved and connected at once)."""

    def attempt() -> tuple[Contact, str | None]:
        agent, segment = _load(deps, tenant_id, agent_id, contact_id)
        connected, updated = transfers.take_escalation(segment, agent, deps.clock.now_ms())
        commit(deps, contacts=[(connected, EventType.CONTACT_CONNECTED, {"sl_threshold_s": segment.sl_threshold_s})],
               agents=[(agent, updated)])
        return connected, segment.workflow_token

    connected, token = retrying(attempt)
    if token:
        _answer(lambda: deps.workflow.succeed(token, {"state": "CONNECTED", "agent_id": agent_id}))
    return connected


def segments(deps: Dependencies, tenant_id: str, contact_id: str) -> list[Contact]:
    """Every segment of the customer contact `contact_id` belongs to, first to last, whatever the tenant's
    `max_segments` is now (lowered, it only refuses further transfers: the chains made under the old limit are
    whole). Bounded by the most that setting can ever allow (MAX_SEGMENTS): each link adds one to segment_number
    and no transfer starts from a segment at the limit, so no chain is longer; the bound also ends a walk
    through links that loop."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    limit = MAX_SEGMENTS
    # Walked forward from the first segment, so every segment of the customer's chain answers the same list (walked
    # from the segment asked, a cancelled consult leg stopped at itself and hid the segments after it).
    chain = [*earlier_segments(deps, contact, limit - 1), contact][:1]
    while len(chain) < limit:
        following = chain[-1].next_contact_id or chain[-1].consult_contact_id or chain[-1].conference_with
        if not following or any(c.contact_id == following for c in chain):
            break
        chain.append(deps.store.get_contact(tenant_id, following))
    if all(c.contact_id != contact.contact_id for c in chain):
        # A cancelled consult leg: no segment links forward to it any more; listed after the segment it consulted
        # for (consult_of), before what followed (it started first).
        at = next((i + 1 for i, c in enumerate(chain) if c.contact_id == contact.consult_of), len(chain))
        chain.insert(at, contact)
    return chain


# --- helpers -----------------------------------------------------------------------------------------
def _load(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> tuple[Agent, Contact]:
    return deps.store.get_agent(tenant_id, agent_id), deps.store.get_contact(tenant_id, contact_id)


def _consult_of(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> tuple[Agent, Contact, Contact]:
    agent, source = _load(deps, tenant_id, agent_id, contact_id)
    if source.agent_id != agent_id:
        raise Conflict(f"contact {contact_id} is not assigned to agent {agent_id}", field="contact_id")
    if not source.consult_contact_id:
        raise Conflict(f"contact {contact_id} has no consult in progress", field="contact_id")
    return agent, source, deps.store.get_contact(tenant_id, source.consult_contact_id)


def _queue(deps: Dependencies, tenant_id: str, queue_id: str, field: str) -> Queue:
    try:
        return deps.config.get_queue(tenant_id, queue_id)
    except NotFound:
        raise DomainError(f"queue {shown_value(queue_id)} does not exist", field=field) from None


def _resolve(deps: Dependencies, source: Contact, sender: Agent, to: Destination, settings: TransferSettings,
             agent_field: str) -> tuple[TransferTarget, Queue | None, Agent | None]:
    """The target, the new segment's queue and, for a named agent, that agent (checked available)."""
    tenant_id = source.tenant_id
    if to.quick_connect_id is not None:
        quick = settings.quick_connects.get(to.quick_connect_id)
        if quick is None:
            raise DomainError(f"quick connect {shown_value(to.quick_connect_id)} does not exist", field="quick_connect_id")
        if source.channel != Channel.VOICE:
            # A quick connect is a phone number: a chat, text or email cannot be put through to it.
            raise DomainError(f"a {source.channel.value} contact cannot go to a quick connect (an external phone "
                              "number): only a VOICE contact can", field="channel")
        return (TransferTarget(kind=TransferKind.EXTERNAL, quick_connect_id=to.quick_connect_id,
                               phone_number=quick.phone_number), None, None)
    if to.agent_id is not None:
        try:
            target = deps.store.get_agent(tenant_id, to.agent_id)
        except NotFound:
            raise DomainError(f"agent {shown_value(to.agent_id)} does not exist", field=agent_field) from None
        transfers.check_target_agent(source, sender, target, agent_field)
        # The segment stays in the sender's queue: if the named agent rejects or misses it, it waits there.
        queue = _queue(deps, tenant_id, source.queue_id, "queue_id")
        return TransferTarget(kind=TransferKind.AGENT, agent_id=target.agent_id), queue, target
    queue = _queue(deps, tenant_id, to.queue_id or "", "queue_id")
    queue.require_channel(source.channel)
    return TransferTarget(kind=TransferKind.QUEUE, queue_id=queue.queue_id), queue, None


def _priority(source: Contact, requested: int | None) -> int:
    return source.priority if requested is None else min(source.priority, requested)


def _planned(deps: Dependencies, segment: Contact, queue: Queue) -> Contact:
    """The new segment's routing plan in its queue; the transfer's priority wins if more urgent.
    A queue closed by its hours refuses the transfer (the sender keeps the customer) unless it queues
    arrivals while closed. Hours govern arrivals that wait in the queue: a segment for a named agent is
    offered to that agent at once, so it is never refused (declined, it waits there like a queued one)."""
    policy = routing.policy_of(deps, segment.tenant_id)
    customer_segment = routing.segment_of(deps, segment, None)
    plan = routing.plan_for(deps, segment, queue, customer_segment, policy)
    named = segment.handover is not None and segment.handover.target.kind == TransferKind.AGENT
    when_closed = policy.for_queue(queue.queue_id).when_closed
    if plan.outcome == "closed" and not named and when_closed != "queue":
        # A closed callback-only queue takes callbacks, and a live transfer has no callback number.
        why = " and takes callbacks only" if when_closed == "callback" else ""
        raise Conflict(f"queue {queue.queue_id} is closed now{why}", field="queue_id")
    priority = min(plan.priority, segment.priority)
    return segment.model_copy(update={"routing": plan.model_copy(update={"priority": priority}), "priority": priority})


def _transferred(sender: Contact, mode: HandoverMode, target: TransferTarget | None, segment: Contact | None) -> dict:
    return {"mode": mode.value, "to_kind": target.kind.value if target else None,
            "to_queue_id": segment.queue_id if segment is not None else None,
            "to_agent_id": target.agent_id if target else None,
            "next_contact_id": segment.contact_id if segment is not None else None,
            "segment_number": sender.segment_number}


def _hung_up(ended: Contact, partner: Contact | None, extra: dict) -> tuple[Contact, EventType | None, dict]:
    """The save-and-event entry of a segment the customer hung up on: the consulting side of a conference ends
    as the transfer to its leg (transfers.customer_left_conference), any other goes to after-contact work."""
    if ended.transferred_to is not None:
        return ended, EventType.CONTACT_TRANSFERRED, _transferred(ended, HandoverMode.CONSULT, ended.transferred_to, partner)
    return ended, EventType.CONTACT_ACW_STARTED, extra


def _changed_leg(before: Contact, after: Contact) -> list[tuple[Contact, EventType | None, dict]]:
    """The save-and-event entry of a leg that was ended (none when it had ended already)."""
    if after is before:
        return []
    if after.state == ContactState.ABANDONED:
        return [(after, EventType.CONTACT_ABANDONED, {"previous_state": before.state.value, "reason": after.abandon_reason,
                                                       "sl_threshold_s": before.sl_threshold_s})]
    return [(after, EventType.CONTACT_ACW_STARTED, {})]


def _after_leg_ended(deps: Dependencies, before: Contact, after: Contact) -> None:
    """A withdrawn leg's waiting workflow ends now; an agent it was offered to gets other work."""
    if after.state != ContactState.ABANDONED:
        return
    if before.workflow_token:
        token = before.workflow_token
        _answer(lambda: deps.workflow.fail(token, "ContactAbandoned", after.abandon_reason or "withdrawn"))
    if before.agent_id:
        offer_work_to(deps, before.tenant_id, before.agent_id)
