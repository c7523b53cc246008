"""Contact lifecycle use-cases: every state change is one atomic save, then its events."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain import lifecycle
from ccaas.domain.events import Event, EventType, agent_activity, agent_event, contact_event, queued_event_id
from ccaas.domain.models import (
    E164_PATTERN,
    NAME_PATTERN,
    WAITING_STATES,
    Agent,
    Channel,
    Conflict,
    Contact,
    ContactState,
    DomainError,
    InitiationMethod,
    Int,
    NotFound,
)
from ccaas.domain.customers import TIER_PATTERN
from ccaas.domain.live_metrics import local_day
from ccaas.domain.vocabulary import CUSTOMER_ID_PATTERN
from ccaas.domain.routing_engine import Decision, after_failed_offer, reservation_deadline
from ccaas.domain.routing_engine.outcomes import offer_wakes_workflow, wait_deadline
from ccaas.usecases import routing, waiting
from ccaas.usecases.tenancy import time_zone_of

logger = logging.getLogger(__name__)
T = TypeVar("T")

_ATTEMPTS = 5  # optimistic-concurrency retries: each attempt reloads state
_AGENT_SCAN = 1000
_WAITING_SCAN = 50
# A wait's timer starts when its state is entered, a little before the Lambda stamps enqueued_at or
# offered_at: a deadline this close is treated as reached instead of waiting one more second.
_TIMER_SLACK_MS = 500


class ContactAbandoned(Exception):
    """Raised to the workflow when the customer left before the contact was queued."""


class CallbackReached(Exception):
    """Sent to a scheduled callback's workflow when its CALLBACK contact took over (the workflow ends)."""


class OfferMade(Exception):
    """Sent to a contact's workflow when an offer's reservation ends well before the workflow's timer: Recheck
    times the offer by its reservation (routing_engine.outcomes.offer_wakes_workflow)."""


AttributeKey = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
AttributeValue = Annotated[str, Field(max_length=1024)]


class NewContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    queue_id: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    initiation_method: InitiationMethod = InitiationMethod.API
    customer_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=CUSTOMER_ID_PATTERN,
                                    description="the customer directory's id (as GET /customers/{customer_id} takes "
                                                "it); a card or social security number is refused (422): it keys the customer")
    reason: str | None = Field(default=None, min_length=1, max_length=64,
                               description="why the customer contacts (free text: redacted like transcripts)")
    priority: Int = Field(default=5, ge=1, le=10)
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict, max_length=50,
        description="at most 50; a value that holds a card or social security number is stored redacted")
    previous_contact_id: str | None = Field(default=None, max_length=64, pattern=NAME_PATTERN,
                                            description="a contact of the same tenant this one follows")
    # The shape PUT /customers takes a tier in (and the flow's route): "PLATINUM" was taken, routed at no tier's
    # priority and reported as a segment of its own.
    segment: str | None = Field(
        default=None, max_length=32, pattern=TIER_PATTERN,
        description="customer value tier (platinum, gold, standard, self_service: lower case, as PUT /customers takes "
                    "it); the customer directory's tier wins; a card or social security number is refused (422)")
    callback_number: str | None = Field(
        default=None, pattern=E164_PATTERN,
        description="E.164 number: the contact waits as a scheduled callback instead of holding the line")


class ContactRequest(NewContact):
    """POST /contacts: what a client may declare. Transfers, callbacks and outbound contacts are made by
    the system, so a client names only an inbound or API contact."""

    initiation_method: Literal[InitiationMethod.INBOUND, InitiationMethod.API] = InitiationMethod.API


def retrying(operation: Callable[[], T]) -> T:
    for attempt in range(_ATTEMPTS):
        try:
            return operation()
        except Conflict:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def commit(
    deps: Dependencies,
    *,
    contacts: Sequence[tuple[Contact, EventType | None, dict]] = (),
    agents: Sequence[tuple[Agent | None, Agent | None]] = (),
    decisions: Sequence[tuple[str, str, dict]] = (),
) -> None:
    """Save contacts and agents atomically, then publish one event per change.

    `contacts` holds (new contact, event type, extra payload); `agents` holds (before, after) pairs.
    An agent whose derived activity or contact slots held changed gets an `agent.activity_changed` event (a
    chat agent taking a second chat stays ON_CONTACT: its activity span is cut where the slots changed, for
    slot occupancy; a one-slot agent's slots change only with its activity).
    """
    changed_agents = [after for before, after in agents if after is not None and after is not before]
    deps.store.save(contacts=[c for c, _, _ in contacts], agents=changed_agents, decisions=decisions)
    now = deps.clock.now_ms()
    events: list[Event] = [
        # contact.queued's id is the contact's own (events.queued_event_id): a retried AwaitAgent publishes it again
        # and the consumers, which de-duplicate by event id, keep one.
        contact_event(kind, c, queued_event_id(c) if kind == EventType.CONTACT_QUEUED else deps.ids.new_id(), now, **extra)
        for c, kind, extra in contacts if kind is not None
    ]
    for before, after in agents:
        if after is None or before is None:
            continue
        if agent_activity(before) != agent_activity(after) or before.slots() != after.slots():
            # A status the same write set (a missed offer's not-ready status, a supervisor's pending OFFLINE
            # applied as the last contact ends) is said as such.
            status_moved = {"previous_status": before.status} if before.status != after.status else {}
            events.append(
                agent_event(
                    EventType.AGENT_ACTIVITY_CHANGED, after, deps.ids.new_id(), now,
                    previous_activity=agent_activity(before), **status_moved,
                )
            )
    if events:
        deps.events.publish(events)


def create_contact(deps: Dependencies, tenant_id: str, request: NewContact, *, contact_id: str | None = None) -> Contact:
    """`contact_id`: one the caller derived (a flow's callback per Connect contact): when it exists already, saving
    is a Conflict and nothing was written."""
    try:
        queue = deps.config.get_queue(tenant_id, request.queue_id)
    except NotFound:
        raise DomainError("no queue of the tenant has this id", field="queue_id") from None  # never the value
    queue.require_channel(request.channel)
    if request.callback_number is not None:
        require_phone_channel(request.channel, "channel")
        check_callback_number(request.callback_number, "callback_number")
    initial_contact_id = None
    if request.previous_contact_id:
        try:  # a link to a contact the tenant does not have is forged state
            initial_contact_id = deps.store.get_contact(tenant_id, request.previous_contact_id).initial_contact_id
        except NotFound:
            raise DomainError("no contact of the tenant has this id", field="previous_contact_id") from None
    contact_id = contact_id or deps.ids.new_id()
    contact = Contact(
        tenant_id=tenant_id,
        contact_id=contact_id,
        initiated_at=deps.clock.now_ms(),
        sl_threshold_s=queue.sl_threshold_s,
        initial_contact_id=initial_contact_id or contact_id,
        **{**request.model_dump(exclude={"segment"}), **_redacted_free_text(deps, tenant_id, request)},
    )
    from ccaas.usecases.outbound import inbound_contact  # noqa: PLC0415 - outbound campaigns: an opt-out text (STOP)
    inbound_contact(deps, tenant_id, contact)
    policy = routing.policy_of(deps, tenant_id)
    plan = routing.plan_for(deps, contact, queue, routing.segment_of(deps, contact, request.segment), policy,
                            arrival_wait_s=lambda: waiting.arrival_wait_s(deps, tenant_id, queue.queue_id))
    contact = contact.model_copy(update={"routing": plan, "priority": plan.priority})
    if plan.outcome == "self_service" or (plan.outcome == "closed" and not _queue_when_closed(contact, policy)):
        # Answered without a queue (the caller, e.g. a flow, serves it or plays its closed message):
        # kept for containment and closed-hours analytics; plan.outcome says which.
        done = contact.model_copy(update={"state": ContactState.COMPLETED, "ended_at": contact.initiated_at})
        deps.store.save(contacts=[done])
        return done
    deps.store.save(contacts=[contact])
    wait_s = _wait_s(routing.next_check(deps, contact, queue, policy, contact.initiated_at), contact.initiated_at)
    try:
        deps.workflow.start_contact(contact, wait_s)
    except Exception:
        # Nothing will ever route it: end it visibly rather than leave it INITIATED forever.
        failed = contact.model_copy(update={"state": ContactState.FAILED, "version": 1, "ended_at": deps.clock.now_ms()})
        deps.store.save(contacts=[failed])
        raise
    return contact


def _redacted_free_text(deps: Dependencies, tenant_id: str, request: NewContact) -> dict:
    """`reason` through the tenant's redactor, attribute keys and values through the card/SSN detectors
    (tenant setting `redaction.contact_attributes`, on by default): stored text never holds a card number.
    A `customer_id` or `segment` those detectors would change is refused (DomainError naming the field, never
    the value): an id is not redacted silently, as it keys the customer index (every such customer one)."""
    # Imported here: only a new contact's free text needs the analytics rules and redactors (the workflow
    # steps that import this module never do).
    from ccaas.domain.analytics.redaction import check_id, redact_attributes
    from ccaas.usecases.analytics import redact

    values: dict = {}
    if request.reason:
        values["reason"] = redact(deps, tenant_id, request.reason)
    if request.attributes or request.customer_id or request.segment:  # always: redaction.contact_attributes is never off
        for name in ("customer_id", "segment"):
            check_id(name, getattr(request, name))
        if request.attributes:
            values["attributes"] = redact_attributes(request.attributes)
    return values


def check_callback_number(number: str, field: str) -> None:
    """A callback is a call the business pays for to a number the caller typed: one no carrier routes, a
    premium-rate, personal or satellite line (the revenue-share fraud of callback features) is a DomainError
    naming `field` and the reason, never the number (`ccaas.domain.destinations`)."""
    from ccaas.domain.destinations import require_destination  # noqa: PLC0415 - phonenumbers: only callbacks need it

    require_destination(number, field, "callback number")


def require_phone_channel(channel: Channel, field: str, contact_id: str | None = None) -> None:
    """A callback is a phone call the business dials: only a VOICE contact waits as one (in its queue, which takes
    VOICE). A chat's or an email's callback was routed on that channel's capacity (an agent got several phone
    calls at once) and counted as that channel: refused, naming `field`; a 409 for an existing contact."""
    if channel == Channel.VOICE:
        return
    message = (f"a callback is a phone call: only a VOICE contact can wait as one, not a {channel.value} contact; "
               "start a VOICE contact with a callback_number in a queue that takes VOICE")
    if contact_id is not None:
        raise Conflict(f"contact {contact_id}: {message}", field=field)
    raise DomainError(message, field=field)


def _queue_when_closed(contact: Contact, policy: routing.RoutingPolicy) -> bool:
    behaviour = policy.for_queue(contact.queue_id).when_closed
    if behaviour == "callback" and not contact.callback_number:
        raise DomainError(
            f"queue {contact.queue_id} is closed and takes callbacks only: give a callback_number", field="callback_number")
    return behaviour in ("queue", "callback")


def _wait_s(at_ms: int | None, now_ms: int) -> int:
    """Seconds for the workflow's next wait (Step Functions timeouts are whole seconds, at least 1)."""
    if at_ms is None:
        return 1
    return max(1, -(-(at_ms - now_ms) // 1000))


def get_contact(deps: Dependencies, tenant_id: str, contact_id: str) -> Contact:
    return deps.store.get_contact(tenant_id, contact_id)


def earlier_segments(deps: Dependencies, contact: Contact, limit: int) -> list[Contact]:
    """The contacts before `contact` along previous_contact_id (a transfer's earlier segments), oldest
    first, at most `limit`; a link to a contact no longer stored ends the walk. Only a segment a transfer
    made (initiation TRANSFER) is followed back: an integration may link a new contact to any contact of the
    tenant (`POST /contacts` previous_contact_id), and that link must not hand the new contact's agent
    another conversation's messages."""
    chain: list[Contact] = []
    current = contact
    while current.initiation_method == InitiationMethod.TRANSFER and current.previous_contact_id and len(chain) < limit:
        try:
            current = deps.store.get_contact(contact.tenant_id, current.previous_contact_id)
        except NotFound:
            break
        chain.insert(0, current)
    return chain


def queue_and_route(deps: Dependencies, tenant_id: str, contact_id: str, task_token: str, *, retried: bool = False,
                    wait_s: int | None = None) -> Contact:
    """Workflow step AwaitAgent: queue the contact with the step's token, then try an agent at once. `retried`: the
    workflow runs the step again after a failure (its first attempt may have saved the contact QUEUED and then
    failed to publish `contact.queued`: published again, under the same event id). `wait_s`: the step's timeout,
    recorded on the contact as when its timer ends (check_at)."""

    def attempt() -> Contact:
        contact = deps.store.get_contact(tenant_id, contact_id)
        now = deps.clock.now_ms()
        # The timer started a moment before this: a little late, which only ever wakes the workflow a bit sooner.
        check_at = None if wait_s is None else now + wait_s * 1000
        if contact.state == ContactState.INITIATED:
            queue = deps.config.get_queue(tenant_id, contact.queue_id)
            queued = lifecycle.enqueue(contact, queue, task_token, now, check_at)
            commit(deps, contacts=[(queued, EventType.CONTACT_QUEUED, {"sl_threshold_s": queue.sl_threshold_s})])
            return queued
        if contact.state == ContactState.ABANDONED:
            deps.workflow.fail(task_token, "ContactAbandoned", "the customer left before the contact was queued")
            return contact
        if contact.state in (ContactState.QUEUED, ContactState.OFFERED, ContactState.CALLBACK_SCHEDULED):
            # A retried step or a new wait after a recheck: the previous token is dead, park the new one.
            rearmed = lifecycle.arm_token(contact, task_token, check_at)
            if retried and contact.enqueued_at is not None:  # contact.queued once more: a copy already had is dropped
                queue = deps.config.get_queue(tenant_id, contact.queue_id)
                commit(deps, contacts=[(rearmed, EventType.CONTACT_QUEUED, {"sl_threshold_s": queue.sl_threshold_s})])
            else:
                deps.store.save(contacts=[rearmed])
            return rearmed
        deps.workflow.succeed(task_token, {"state": contact.state.value, "agent_id": contact.agent_id})
        return contact

    contact = retrying(attempt)
    if contact.state in WAITING_STATES:
        contact = route_contact(deps, contact)
    elif contact.state == ContactState.OFFERED:  # offered after the last Recheck timed this wait
        _wake_for_offer(deps, contact)
    return contact


def _reserve(deps: Dependencies, contact: Contact, agent: Agent, decision: routing.Decision) -> tuple[Contact, Agent] | None:
    """Offer `contact` to `agent` in one atomic write with the decision that explains it (None: a
    concurrent writer won, reload and retry). Returns the offered contact and the reserved agent.

    A scheduled callback is reached here: the CALLBACK contact is created and offered in the same
    write, the original ends (its place was kept until now) and its workflow follows the new contact."""
    now = deps.clock.now_ms()
    try:
        if contact.state == ContactState.CALLBACK_SCHEDULED:
            done, offered, reserved = lifecycle.reach_callback(contact, agent, deps.ids.new_id(), now)
            changes = [(done, EventType.CONTACT_CALLBACK_REACHED, {"callback_contact_id": offered.contact_id}),
                       (offered, EventType.CONTACT_OFFERED, {})]
        else:
            offered, reserved = lifecycle.reserve(contact, agent, now)
            changes = [(offered, EventType.CONTACT_OFFERED, {})]
        commit(deps, contacts=changes, agents=[(agent, reserved)],
               decisions=[(contact.tenant_id, offered.contact_id, routing.explained(decision))])
    except Conflict:
        return None
    if offered.contact_id != contact.contact_id and contact.workflow_token:
        # The original's workflow goes on with the CALLBACK contact (Recheck answers "follow").
        token = contact.workflow_token
        _answer(lambda: deps.workflow.fail(token, CallbackReached.__name__, offered.contact_id))
    else:
        _wake_for_offer(deps, offered)
    return offered, reserved


def _wake_for_offer(deps: Dependencies, offered: Contact) -> None:
    """The workflow's timer cannot move: an offer whose reservation ends well before it (made during a long wait,
    mostly to a freed agent, outside the workflow) ends the wait, and Recheck times the offer by its reservation.
    Left alone, a missed offer held its agent until the timer, up to 15 minutes."""
    if offered.check_at is None or not offered.workflow_token:
        return
    if offer_wakes_workflow(offered, routing.policy_of(deps, offered.tenant_id)):
        token = offered.workflow_token
        _answer(lambda: deps.workflow.fail(token, OfferMade.__name__, f"offered to {offered.agent_id}"))


def route_contact(deps: Dependencies, contact: Contact) -> Contact:
    """Offer a waiting contact to the best free agent, if any (the contact keeps waiting otherwise)."""
    queue = deps.config.get_queue(contact.tenant_id, contact.queue_id)
    for _ in range(_ATTEMPTS):
        candidates = deps.store.available_agents(contact.tenant_id, _AGENT_SCAN)
        decision = routing.choose_agent(deps, contact, queue, candidates)
        if decision.winner is None:
            return contact
        agent = next(a for a in candidates if a.agent_id == decision.winner)
        reserved = _reserve(deps, contact, agent, decision)
        if reserved is not None:
            return reserved[0]
        # Another router took the agent or the contact: reload the contact and look again.
        contact = deps.store.get_contact(contact.tenant_id, contact.contact_id)
        if contact.state not in WAITING_STATES:
            return contact
    return contact


def offer_work_to(deps: Dependencies, tenant_id: str, agent_id: str, agent: Agent | None = None, *,
                  current: Sequence[Agent] = ()) -> list[Contact]:
    """The agent has room: reserve the best waiting contacts across its routing profile. `agent` is
    its state as the caller just wrote it (saves a read); it is reloaded after a lost race. `current`: other
    agents the caller just wrote (one who went OFFLINE): the decision counts them as written (routing.staff_of)."""
    offered: list[Contact] = []
    queues = {q.queue_id: q for q in deps.config.list_queues(tenant_id)}
    for _ in range(_ATTEMPTS * 4):
        agent = agent or deps.store.get_agent(tenant_id, agent_id)
        if not agent.is_available or not any(agent.free_slots(c) for c in agent.capacity):
            return offered
        waiting = deps.store.waiting_in_queues(tenant_id, [a.queue_id for a in agent.queues], _WAITING_SCAN)
        decision = routing.choose_contact(deps, agent, waiting, queues, current)
        if decision.winner is None:
            return offered
        best = next(c for contacts in waiting.values() for c in contacts if c.contact_id == decision.winner)
        reserved = _reserve(deps, best, agent, decision)
        if reserved is None:
            agent = None  # lost a race for that contact or this agent changed: reload both
            continue
        offered.append(reserved[0])
        agent = reserved[1]
    return offered


def offer_waiting_work(deps: Dependencies, tenant_id: str, queue_ids: Sequence[str], changed: Agent) -> list[Contact]:
    """Who may take the contacts waiting in `queue_ids` changed with `changed` (an agent gone OFFLINE or going,
    a routing profile saved): each available agent serving one of them is offered work as an agent turning
    AVAILABLE is (offer_work_to), `changed` counted as just written: a step only it could satisfy is passed over
    at once, a queue or skill it gained serves at once (both waited for a timer: a step's expiry, the safety net).
    Nothing waiting there: one Query."""
    queue_ids = list(dict.fromkeys(queue_ids))
    if not queue_ids or not any(deps.store.waiting_in_queues(tenant_id, queue_ids, 1).values()):
        return []
    offered: list[Contact] = []
    candidates = [changed] if changed.is_available else []
    candidates += [a for a in deps.store.available_agents(tenant_id, _AGENT_SCAN)
                   if a.agent_id != changed.agent_id and any(a.serves(q) for q in queue_ids)]
    for agent in candidates:
        offered += offer_work_to(deps, tenant_id, agent.agent_id, agent, current=(changed,))
    return offered


def withdraw_offer(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, why: str) -> Contact:
    """A supervisor took the agent out of work while this offer rang (`why` says how): the contact goes back to
    the queue keeping its place, as a refused or missed offer does, the decision kept, and it is routed again at
    once. Conflict when the offer is no longer ringing for the agent (answered or ended meanwhile)."""

    def attempt() -> Contact:
        agent, contact = _agent_and_contact(deps, tenant_id, agent_id, contact_id)
        back, released = lifecycle.withdraw_offer(contact, agent, deps.clock.now_ms())
        entered = {"entered_queue": True} if contact.enqueued_at is None else {}
        commit(deps, contacts=[(back, EventType.CONTACT_OFFER_DECLINED, {"declined_by": agent_id, "failure": "withdrawn",
                                                                          **entered})],
               agents=[(agent, released)])
        return back

    back = retrying(attempt)
    routing.keep(deps, back, Decision(kind="reservation", outcome="reoffer", winner=None, subject=contact_id,
                                      at=deps.clock.now_ms(), why=f"offer withdrawn from {agent_id}: {why}; "
                                      "re-offer to the next best agent", data={"failure": "withdrawn", "agent_id": agent_id}))
    return route_contact(deps, back)


def _agent_and_contact(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> tuple[Agent, Contact]:
    return deps.store.get_agent(tenant_id, agent_id), deps.store.get_contact(tenant_id, contact_id)


def accept_contact(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    def attempt() -> tuple[Contact, str | None]:
        agent, contact = _agent_and_contact(deps, tenant_id, agent_id, contact_id)
        if contact.state != ContactState.OFFERED:
            raise Conflict(f"contact {contact_id} is {contact.state}, not OFFERED to agent {agent_id}", field="contact_id")
        connected, updated = lifecycle.accept(contact, agent, deps.clock.now_ms())
        commit(deps, contacts=[(connected, EventType.CONTACT_CONNECTED, {"sl_threshold_s": contact.sl_threshold_s})], agents=[(agent, updated)])
        return connected, contact.workflow_token

    connected, token = retrying(attempt)
    if token:
        _answer(lambda: deps.workflow.succeed(token, {"state": "CONNECTED", "agent_id": agent_id}))
    return connected


def reject_contact(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    return _failed_offer(deps, tenant_id, agent_id, contact_id, "rejected")


def _failed_offer(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str, failure: str) -> Contact:
    """The agent rejected the offer or let it time out: back to the queue keeping its place, the agent
    optionally set not-ready (reservation policy), and re-offered to the next best agent."""
    policy = routing.policy_of(deps, tenant_id)

    def attempt() -> tuple[Contact, routing.Decision, bool]:
        agent, contact = _agent_and_contact(deps, tenant_id, agent_id, contact_id)
        now = deps.clock.now_ms()
        follow = after_failed_offer(contact, agent_id, failure, policy, now)  # type: ignore[arg-type]
        back, released = lifecycle.decline(contact, agent, now, agent_status=follow.agent_status)
        if follow.reset_declines:
            # Forgotten but the agent who refused just now (offered straight back, the contact bounced on it while
            # another agent stood free), and a transferred segment's excluded sender: a blind transfer or an
            # escalation would come back to who sent it on, a consult leg to the agent consulting (who would join
            # a conference with itself; the two holds of one agent, written in one commit, lost its contact).
            back = back.model_copy(update={"declined_by": follow.still_declined})
        # A segment offered straight to a named agent (a transfer) enters its queue only now: say so, so
        # live metrics count it offered and waiting as a contact.queued would have.
        entered = {"entered_queue": True} if contact.enqueued_at is None else {}
        commit(deps, contacts=[(back, EventType.CONTACT_OFFER_DECLINED, {"declined_by": agent_id, "failure": failure, **entered})],
               agents=[(agent, released)])
        return back, follow.decision, follow.reoffer

    back, decision, reoffer = retrying(attempt)
    routing.keep(deps, back, decision)
    routed = route_contact(deps, back) if reoffer else back
    offer_work_to(deps, tenant_id, agent_id)
    return routed


def recheck(deps: Dependencies, tenant_id: str, contact_id: str) -> tuple[str, int, str]:
    """Workflow step Recheck, after a wait ended with no event: act on what expired, then say what the
    workflow does next, for which contact: ("wait", seconds) to wait again, ("connected", 0) when an agent
    answered it (the workflow ends; the contact's end starts its post-contact workflow), ("follow", seconds)
    to go on with the CALLBACK contact a scheduled callback became, ("ended", 0) when it ended unanswered."""
    queue = policy = None
    for _ in range(_ATTEMPTS):
        contact = deps.store.get_contact(tenant_id, contact_id)
        if contact.answered:
            return "connected", 0, contact_id
        queue = queue or deps.config.get_queue(tenant_id, contact.queue_id)
        policy = policy or routing.policy_of(deps, tenant_id)
        now = deps.clock.now_ms()
        follow = contact.attributes.get("callback_contact_id") if contact.state == ContactState.COMPLETED else None
        if follow:
            callback = deps.store.get_contact(tenant_id, follow)
            return "follow", _wait_s(routing.next_check(deps, callback, queue, policy, now), now), follow
        if contact.state.terminal:
            return "ended", 0, contact_id
        if contact.state == ContactState.OFFERED and contact.agent_id:
            if now + _TIMER_SLACK_MS < reservation_deadline(contact.offered_at or now, policy):
                return "wait", _wait_s(routing.next_check(deps, contact, queue, policy, now), now), contact_id
            try:
                _failed_offer(deps, tenant_id, contact.agent_id, contact_id, "timeout")
            except Conflict:
                pass  # accepted, or withdrawn, just now: look again
            continue
        # A CALLBACK contact back in the queue after a failed offer still waits as the callback it is.
        deadline, reason = wait_deadline(contact, queue, policy, contact.initiated_at)
        if now + _TIMER_SLACK_MS >= deadline:
            abandon_contact(deps, tenant_id, contact_id, reason=reason, from_workflow=True)
            continue
        # A routing step expired, a queue delay ended or the safety net came: route now, so an offer made under the
        # wider step sets the next timer to its reservation deadline, not to the (longer) safety net of a QUEUED
        # contact (the next AwaitAgent only re-arms its token).
        if contact.state == ContactState.QUEUED:
            contact = route_contact(deps, contact)
        return "wait", _wait_s(routing.next_check(deps, contact, queue, policy, now), now), contact_id
    return "wait", 1, contact_id  # contended: look again in a second


def schedule_callback(
    deps: Dependencies,
    tenant_id: str,
    queue_id: str,
    phone_number: str,
    *,
    customer_id: str | None = None,
    previous_contact_id: str | None = None,
    reason: str | None = None,
    attributes: Mapping[str, str] | None = None,
    contact_id: str | None = None,
) -> Contact:
    """A callback requested before queueing (e.g. from a flow): it enters the queue as a scheduled
    callback now, so it keeps the place of a caller arriving now; a CALLBACK contact is created and
    offered to an agent when it is reached (with these attributes: a journey test's marks go along)."""
    request = NewContact(
        channel=Channel.VOICE, queue_id=queue_id, initiation_method=InitiationMethod.INBOUND, customer_id=customer_id,
        previous_contact_id=previous_contact_id, reason=reason, callback_number=phone_number,
        attributes=dict(attributes or {}),
    )
    return create_contact(deps, tenant_id, request, contact_id=contact_id)


def request_callback(deps: Dependencies, tenant_id: str, contact_id: str, number: str) -> Contact:
    """The waiting customer asks to be called back: they leave the line and keep their place."""
    check_callback_number(number, "phone_number")

    def attempt() -> Contact:
        contact = deps.store.get_contact(tenant_id, contact_id)
        require_phone_channel(contact.channel, "channel", contact_id)
        scheduled = lifecycle.schedule_callback(contact, number)
        commit(deps, contacts=[(scheduled, EventType.CONTACT_CALLBACK_SCHEDULED, {})])
        return scheduled

    return retrying(attempt)


def complete_contact(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    """The conversation ended (either side hung up): after-contact work starts."""

    def attempt() -> Contact:
        agent, contact = _agent_and_contact(deps, tenant_id, agent_id, contact_id)
        if contact.state != ContactState.CONNECTED:
            raise Conflict(f"contact {contact_id} is {contact.state}, not CONNECTED", field="contact_id")
        if contact.consult_contact_id or contact.conference_with or contact.consult_of:
            from ccaas.usecases import transfers  # builds on this module: imported when a second segment is involved

            return transfers.end_conversation(deps, tenant_id, agent, contact) or contact
        in_acw, updated = lifecycle.disconnect(contact, agent, deps.clock.now_ms())
        commit(deps, contacts=[(in_acw, EventType.CONTACT_ACW_STARTED, {})], agents=[(agent, updated)])
        return in_acw

    return retrying(attempt)


def end_after_contact_work(deps: Dependencies, tenant_id: str, agent_id: str, contact_id: str) -> Contact:
    def attempt() -> tuple[Contact, Agent, str | None]:
        agent, contact = _agent_and_contact(deps, tenant_id, agent_id, contact_id)
        if contact.state != ContactState.ACW:
            raise Conflict(f"contact {contact_id} is {contact.state}, not in after-contact work", field="contact_id")
        now = deps.clock.now_ms()
        done, released = lifecycle.end_acw(contact, agent, now, local_day(now, time_zone_of(deps, tenant_id)))
        # sl_threshold_s: live metrics take a cancelled consult leg's answer back at its completion (within T or not).
        extra = {"acw_ended_at": done.acw_ended_at, "sl_threshold_s": done.sl_threshold_s}
        commit(deps, contacts=[(done, EventType.CONTACT_COMPLETED, extra)], agents=[(agent, released)])
        return done, released, contact.workflow_token

    done, released, token = retrying(attempt)
    if token:  # parked by an execution of the earlier lifecycle (AwaitCompletion): it starts the post-contact step
        _answer(lambda: deps.workflow.succeed(token, {"state": done.state.value}))
    else:  # the lifecycle ended when the agent answered: nothing after it has a timer (contact_lifecycle.asl.json)
        deps.workflow.start_post_contact(done)
    offer_work_to(deps, tenant_id, agent_id, released)
    return done


def abandon_contact(deps: Dependencies, tenant_id: str, contact_id: str, *, reason: str, from_workflow: bool) -> Contact:
    """The customer left (API) or the queue timed out (workflow). A contact already answered is left alone."""

    def attempt() -> tuple[Contact, Contact, str | None]:
        contact = deps.store.get_contact(tenant_id, contact_id)
        if not from_workflow:  # the customer leaving: a consult leg has none (its queue timing out is the workflow's)
            lifecycle.require_customer_side(contact, "abandoned")
        if contact.state not in (ContactState.INITIATED, ContactState.OFFERED, *WAITING_STATES):
            if from_workflow:
                return contact, contact, None
            raise Conflict(f"contact {contact_id} is {contact.state}; only a waiting contact can be abandoned", field="contact_id")
        agent = deps.store.get_agent(tenant_id, contact.agent_id) if contact.agent_id else None
        now = deps.clock.now_ms()
        gone, released = lifecycle.abandon(contact, agent, now, reason)
        extra = {"previous_state": contact.state.value, "reason": reason, "sl_threshold_s": contact.sl_threshold_s}
        changes = [(gone, EventType.CONTACT_ABANDONED, extra), *_consult_ended_with(deps, gone, now)]
        commit(deps, contacts=changes, agents=[(agent, released)])
        return contact, gone, contact.workflow_token

    before, after, token = retrying(attempt)
    if token and not from_workflow:
        _answer(lambda: deps.workflow.fail(token, ContactAbandoned.__name__, reason))
    if before.agent_id and after.state == ContactState.ABANDONED:
        offer_work_to(deps, tenant_id, before.agent_id)
    return after


def _consult_ended_with(deps: Dependencies, leg: Contact, now_ms: int) -> list[tuple[Contact, EventType | None, dict]]:
    """A consult leg the system ended (its queue timed out) ends its consult in the same write, as a cancel does:
    left alone, the customer stayed on hold behind a consult that no longer existed and the sender could
    neither complete nor end the contact. Nothing for any other contact."""
    if not leg.consult_of:
        return []
    from ccaas.domain.transfers import leg_ended_alone  # noqa: PLC0415 - only a consult leg needs the transfer rules

    try:
        source = deps.store.get_contact(leg.tenant_id, leg.consult_of)
    except NotFound:
        return []
    back = leg_ended_alone(source, leg, now_ms)
    if back is None:
        return []
    return [(back, EventType.CONTACT_CONSULT_CANCELLED, {"consult_contact_id": leg.contact_id,
                                                         "reason": leg.abandon_reason})]


def _answer(call: Callable[[], None]) -> None:
    try:
        call()
    except Conflict:
        # The step already ended (e.g. the queue timeout fired first); the contact's state is the truth.
        logger.warning("workflow step already ended; contact state kept")
