"""Contact and agent transitions (pure). Each returns new copies with the version bumped, so the
store can write them with an optimistic check on the previous version."""
from __future__ import annotations

from ccaas.domain.events import agent_activity
from ccaas.domain.models import (
    Agent,
    AgentStatus,
    Conflict,
    Contact,
    ContactState,
    HandoverMode,
    InitiationMethod,
    Queue,
    check_transition,
)


def _contact(contact: Contact, state: ContactState, **changes: object) -> Contact:
    check_transition(contact.state, state)
    return contact.model_copy(update={"state": state, "version": contact.version + 1, **changes})


def _agent(agent: Agent, now_ms: int, **changes: object) -> Agent:
    changed = agent.model_copy(update={"version": agent.version + 1, **changes})
    if agent_activity(changed) != agent_activity(agent):
        changed = changed.model_copy(update={"activity_since": now_ms})
    return changed


def _without(ids: tuple[str, ...], contact_id: str) -> tuple[str, ...]:
    return tuple(i for i in ids if i != contact_id)


def enqueue(contact: Contact, queue: Queue, token: str, now_ms: int, check_at: int | None = None) -> Contact:
    """A contact created with a callback number (a callback requested at intake) waits as one. `check_at`: when
    the step that parks `token` times out (Contact.check_at)."""
    return _contact(
        contact,
        ContactState.CALLBACK_SCHEDULED if contact.callback_number else ContactState.QUEUED,
        enqueued_at=now_ms,
        workflow_token=token,
        check_at=check_at,
        sl_threshold_s=queue.sl_threshold_s,
    )


def concerns_agent(contact: Contact, agent_id: str, *, taking: bool = False) -> bool:
    """Whether an agent's key may learn anything of `contact` on its own contact paths, beyond "not found": the
    contact is offered or assigned to it; or nobody holds it and it was offered to this agent before (missed,
    rejected, or sent on by it: the 409s tell the agent what became of it); or, `taking` it, it is an escalation,
    whoever holds it now (the take use-case decides: an agent who could have taken it, as a supervisor could, loses
    a race with the same 409 "already taken"; anyone else gets "not found"; the other verbs' 409s would say it
    exists). Any other contact, such as one waiting in a queue, is not found, as an unknown id is: an agent cannot
    probe the tenant's contacts."""
    if taking and contact.handover is not None and contact.handover.mode == HandoverMode.ESCALATION:
        return True
    if contact.agent_id is not None:
        return contact.agent_id == agent_id
    return agent_id in contact.declined_by


def excluded_sender(contact: Contact) -> str | None:
    """The agent a transferred segment is kept away from for having sent it, not for refusing it (None: nobody).
    A consult leg's and an escalation's sender always (usecases.transfers excludes them), a blind transfer's when
    the transfer excluded them (`exclude_transferring_agent`, `exclude_me`): transfers.next_segment puts the sender
    first in `declined_by`, and clearing the refusals keeps them first. The sender's place there is no refusal: it
    does not count toward `reservation.max_declines`, and the clearing keeps it (routing_engine.outcomes).
    Read from what every stored segment has (`handover`, `declined_by`). A blind transfer with exclusion off whose
    sender was offered it and refused it first reads the same (nothing stored tells the two apart): that sender
    stays away from it, as their refusal asked."""
    handover = contact.handover
    if handover is None:
        return None
    sender = handover.from_agent_id
    always = handover.mode in (HandoverMode.CONSULT, HandoverMode.ESCALATION)
    return sender if always or contact.declined_by[:1] == (sender,) else None


def require_customer_side(contact: Contact, verb: str) -> None:
    """What only a customer does (leave the queue, ask for a callback, hang up) is refused on a consult leg (409
    naming why, the customer's segment and `verb`): no customer is on it. It is agent-to-agent work the consulting
    agent completes, conferences or cancels, while the customer waits on hold on the consulting segment
    (`consult_of`): that is the contact a customer-side call names."""
    if contact.consult_of:
        raise Conflict(f"contact {contact.contact_id} is a consult leg, agent-to-agent work with no customer on it, "
                       f"so it cannot be {verb}: the customer is on contact {contact.consult_of}; the consulting agent "
                       f"completes, conferences or cancels the leg", field="contact_id")


def reserve(contact: Contact, agent: Agent, now_ms: int) -> tuple[Contact, Agent]:
    """Offer the contact to the agent: takes one slot of the contact's channel."""
    if not agent.is_available:
        raise Conflict(f"agent {agent.agent_id} is {agent.status}, not AVAILABLE")
    if agent.free_slots(contact.channel) < 1:
        raise Conflict(f"agent {agent.agent_id} has no free {contact.channel} slot")
    if agent.agent_id in contact.declined_by:
        raise Conflict(f"agent {agent.agent_id} already declined contact {contact.contact_id}")
    active = dict(agent.active)
    active[contact.channel] = active.get(contact.channel, 0) + 1
    return (
        _contact(contact, ContactState.OFFERED, agent_id=agent.agent_id, offered_at=now_ms),
        _agent(
            agent,
            now_ms,
            active=active,
            active_contact_ids=(*agent.active_contact_ids, contact.contact_id),
            offered_contact_ids=(*agent.offered_contact_ids, contact.contact_id),
        ),
    )


def _require_offer(contact: Contact, agent: Agent) -> None:
    if contact.agent_id != agent.agent_id or contact.contact_id not in agent.active_contact_ids:
        raise Conflict(f"contact {contact.contact_id} is not assigned to agent {agent.agent_id}", field="contact_id")


def accept(contact: Contact, agent: Agent, now_ms: int) -> tuple[Contact, Agent]:
    _require_offer(contact, agent)
    return (
        _contact(contact, ContactState.CONNECTED, connected_at=now_ms, workflow_token=None),
        _agent(agent, now_ms, offered_contact_ids=_without(agent.offered_contact_ids, contact.contact_id)),
    )


def _release(agent: Agent, contact: Contact, now_ms: int) -> Agent:
    """The contact's slot is freed; with the agent's last contact gone, its pending status (next_status) applies
    in the same write."""
    active = dict(agent.active)
    active[contact.channel] = max(0, active.get(contact.channel, 0) - 1)
    active = {c: n for c, n in active.items() if n}
    pending = {"status": agent.next_status, "status_since": now_ms, "next_status": None} if agent.next_status and not active else {}
    return _agent(
        agent,
        now_ms,
        active=active,
        active_contact_ids=_without(agent.active_contact_ids, contact.contact_id),
        offered_contact_ids=_without(agent.offered_contact_ids, contact.contact_id),
        acw_contact_ids=_without(agent.acw_contact_ids, contact.contact_id),
        last_contact_ended_at=now_ms,
        **pending,
    )


def decline(contact: Contact, agent: Agent, now_ms: int, *, agent_status: str | None = None,
            refused: bool = True) -> tuple[Contact, Agent]:
    """The agent rejected (or missed) the offer: the contact goes back to the queue, keeping its place;
    with `agent_status` the agent is set to that (not-ready) status in the same write, unless a supervisor's
    status is pending for it (next_status: that one stands). `refused` False: the offer was withdrawn from the
    agent (withdraw_offer), no refusal of its own: it is not added to the contact's declined_by."""
    _require_offer(contact, agent)
    if contact.state != ContactState.OFFERED:
        raise Conflict(f"contact {contact.contact_id} is {contact.state}, not OFFERED", field="contact_id")
    back = _contact(
        contact,
        ContactState.QUEUED,
        agent_id=None,
        offered_at=None,
        # A segment offered straight to a named agent (a transfer) enters the queue only now.
        enqueued_at=contact.enqueued_at if contact.enqueued_at is not None else now_ms,
        declined_by=(*contact.declined_by, agent.agent_id) if refused else contact.declined_by,
    )
    released = _release(agent, contact, now_ms).model_copy(update={"last_contact_ended_at": agent.last_contact_ended_at})
    if agent_status and agent.next_status is None and agent_status != released.status:
        released = _agent(released, now_ms, status=agent_status, status_since=now_ms, version=released.version)
    return back, released


def withdraw_offer(contact: Contact, agent: Agent, now_ms: int) -> tuple[Contact, Agent]:
    """A supervisor took the agent out of work (set_status by a supervisor) while the offer rang: the contact goes
    back to the queue keeping its place, as after a refusal, but the agent refused nothing (it may be offered the
    contact again once it is back)."""
    return decline(contact, agent, now_ms, refused=False)


def hold_closed(contact: Contact, now_ms: int) -> dict[str, object]:
    """The changes that end a hold in progress (none when the customer is not on hold)."""
    if contact.held_since is None:
        return {}
    return {"held_since": None, "hold_ms": contact.hold_ms + max(0, now_ms - contact.held_since)}


def disconnect(contact: Contact, agent: Agent, now_ms: int, **changes: object) -> tuple[Contact, Agent]:
    """The conversation ended: after-contact work starts; the slot stays taken until ACW ends. A hold
    in progress ends with it (hold time counts up to the disconnect)."""
    _require_offer(contact, agent)
    return (
        _contact(contact, ContactState.ACW, disconnected_at=now_ms, **hold_closed(contact, now_ms), **changes),
        _agent(agent, now_ms, acw_contact_ids=(*agent.acw_contact_ids, contact.contact_id)),
    )


def end_acw(contact: Contact, agent: Agent, now_ms: int, day: str) -> tuple[Contact, Agent]:
    """`day` is the tenant-local day of `now_ms`: the agent's handled-today count restarts with it."""
    _require_offer(contact, agent)
    # A segment its agent transferred ends TRANSFERRED (its successor lives on), any other COMPLETED.
    final = ContactState.TRANSFERRED if contact.transferred_to is not None else ContactState.COMPLETED
    done = _contact(contact, final, acw_ended_at=now_ms, ended_at=now_ms, workflow_token=None)
    released = _release(agent, contact, now_ms)
    # History's rule, not a copy of it: a cancelled consult leg (a consulted agent who hung up, or left a
    # conference) is agent-to-agent work that history does not count handled, so neither does the live count.
    from ccaas.domain.history import record_from_contact  # noqa: PLC0415 - history's models: not at every handler's start

    record = record_from_contact(done)
    handled = 1 if record is not None and record.handled else 0
    today = agent.handled_today if agent.handled_day == day else 0
    return done, released.model_copy(update={"handled_day": day, "handled_today": today + handled})


def abandon(contact: Contact, agent: Agent | None, now_ms: int, reason: str) -> tuple[Contact, Agent | None]:
    """The customer left before an agent answered (or the queue gave up: `reason` says which); an
    outstanding offer is withdrawn."""
    gone = _contact(contact, ContactState.ABANDONED, disconnected_at=now_ms, ended_at=now_ms, workflow_token=None,
                    abandon_reason=reason)
    if agent is None or contact.contact_id not in agent.active_contact_ids:
        return gone, None
    return gone, _release(agent, contact, now_ms).model_copy(update={"last_contact_ended_at": agent.last_contact_ended_at})


def fail(contact: Contact, agent: Agent | None, now_ms: int) -> tuple[Contact, Agent | None]:
    """The contact cannot go on (its workflow never started): it ends FAILED, an offer is withdrawn."""
    failed = _contact(contact, ContactState.FAILED, ended_at=now_ms, workflow_token=None)
    if agent is None or contact.contact_id not in agent.active_contact_ids:
        return failed, None
    return failed, _release(agent, contact, now_ms).model_copy(update={"last_contact_ended_at": agent.last_contact_ended_at})


def set_status(agent: Agent, status: str, now_ms: int, *, by_supervisor: bool = False) -> Agent:
    """The agent's status set by itself or, `by_supervisor`, forced by a supervisor. Any new status replaces a
    pending one (next_status). OFFLINE with contacts in hand: the agent's own is a 409 (its desktop is there to
    finish them: end its after-contact work, answer or refuse its offers); a supervisor's becomes the agent's
    next_status: it takes no new work from now on and goes OFFLINE in the write that releases its last contact (the
    use-case withdraws its offers and ends its after-contact work at once; a conversation in progress runs to its
    end). Any other status applies at once, contacts in hand or not."""
    if agent.status == status and agent.next_status is None:
        return agent
    if status == AgentStatus.OFFLINE and agent.busy:
        if not by_supervisor:
            raise Conflict(f"agent {agent.agent_id} has contacts in progress; finish them before going OFFLINE",
                           field="status")
        return agent if agent.next_status == status else _agent(agent, now_ms, next_status=status)
    since = agent.status_since if agent.status == status else now_ms
    return _agent(agent, now_ms, status=status, status_since=since, next_status=None)


def arm_token(contact: Contact, token: str, check_at: int | None = None) -> Contact:
    return contact.model_copy(update={"workflow_token": token, "check_at": check_at, "version": contact.version + 1})


def schedule_callback(contact: Contact, number: str) -> Contact:
    """The customer leaves the line and is called back when reached; the contact keeps its place."""
    require_customer_side(contact, "called back")
    if contact.state != ContactState.QUEUED:
        raise Conflict(f"contact {contact.contact_id} is {contact.state}; only a QUEUED contact can ask for a callback",
                       field="contact_id")
    return _contact(contact, ContactState.CALLBACK_SCHEDULED, callback_number=number)


def reach_callback(scheduled: Contact, agent: Agent, callback_id: str, now_ms: int) -> tuple[Contact, Contact, Agent]:
    """A scheduled callback reached the head for this agent: the CALLBACK contact is created, offered
    to the agent, and takes over the original's place (enqueued_at, priority, routing plan); the
    original ends COMPLETED, pointing at it."""
    if scheduled.state != ContactState.CALLBACK_SCHEDULED:
        raise Conflict(f"contact {scheduled.contact_id} is {scheduled.state}, not CALLBACK_SCHEDULED", field="contact_id")
    callback = Contact(
        tenant_id=scheduled.tenant_id,
        contact_id=callback_id,
        channel=scheduled.channel,
        initiation_method=InitiationMethod.CALLBACK,
        queue_id=scheduled.queue_id,
        state=ContactState.QUEUED,
        priority=scheduled.priority,
        customer_id=scheduled.customer_id,
        reason=scheduled.reason,
        attributes=scheduled.attributes,
        previous_contact_id=scheduled.contact_id,
        initial_contact_id=scheduled.initial_contact_id or scheduled.contact_id,
        initiated_at=now_ms,
        enqueued_at=scheduled.enqueued_at,
        callback_number=scheduled.callback_number,
        sl_threshold_s=scheduled.sl_threshold_s,
        routing=scheduled.routing,
        version=-1,  # reserve() bumps it to 0: a new item, written only if absent
    )
    offered, reserved = reserve(callback, agent, now_ms)
    done = _contact(scheduled, ContactState.COMPLETED, ended_at=now_ms, workflow_token=None,
                    attributes={**scheduled.attributes, "callback_contact_id": callback_id})
    return done, offered, reserved


def offer_expired(contact: Contact, deadline_ms: int, now_ms: int) -> bool:
    return contact.state == ContactState.OFFERED and now_ms >= deadline_ms
