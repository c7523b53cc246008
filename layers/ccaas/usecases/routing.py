"""Routing decisions with the tenant's policy (ccaas.domain.routing_engine), explained and kept."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import Agent, Contact, NotFound, Queue
from ccaas.domain.paging import fitting_page
from ccaas.domain.routing_engine import (
    Decision,
    JourneyContext,
    PastContact,
    QueuePolicy,
    RoutingPlan,
    RoutingPolicy,
    StaffedAgents,
    next_check_at,
    plan_contact,
    select_agent,
    select_contact,
)
from ccaas.domain.routing_engine.journey import analyse_journey
from ccaas.domain.routing_engine.synthetic import is_synthetic, synthetic_expiry
from ccaas.domain.vocabulary import DEFAULT_TIER
from ccaas.usecases.tenancy import save_settings, settings_of

ROUTING_SETTINGS = "routing"
_JOURNEY_DEPTH = 10  # the newest contacts a journey holds: the last agent, the recent ones an offer shows
# A repeat is the same reason within the FCR window, however many newer contacts the customer had since: with a
# reason, each store is read on through the window, at most this many contacts each (one BatchGetItem of the
# Contacts table). The newest _JOURNEY_DEPTH cost what they did (a Query, a BatchGetItem of <= 10, a Query of history);
# only a customer with more in the window costs one Query more per store and a read of each of them (<= ~100 read
# units at the cap); an older same-reason contact past the cap is not seen.
REPEAT_WINDOW_CAP = 100


def policy_of(deps: Dependencies, tenant_id: str) -> RoutingPolicy:
    # A policy saved before a rule was tightened (hours starting at "24:00") still loads: refusing it would
    # stop all of the tenant's routing, not just the range.
    return settings_of(deps, tenant_id, ROUTING_SETTINGS, RoutingPolicy)


def put_policy(deps: Dependencies, tenant_id: str, policy: RoutingPolicy) -> RoutingPolicy:
    """Saved with every queue's hours in a named zone: hours given without a time_zone are the tenant's."""
    return save_settings(deps, tenant_id, ROUTING_SETTINGS, _hours_zoned(deps, tenant_id, policy))


def _hours_zoned(deps: Dependencies, tenant_id: str, policy: RoutingPolicy) -> RoutingPolicy:
    """The policy with the tenant's time zone in hours that name none (the model alone reads them as UTC),
    validated again: a longer zone name counts against the policy's size."""

    def unzoned(queue_policy: QueuePolicy) -> bool:
        return queue_policy.hours is not None and "time_zone" not in queue_policy.hours.model_fields_set

    queues = [queue_id for queue_id, queue_policy in policy.queues.items() if unzoned(queue_policy)]
    if not queues and not unzoned(policy.queue_defaults):
        return policy
    try:
        zone = deps.config.get_tenant(tenant_id).time_zone  # read, not time_zone_of's cache: it is stored
    except NotFound:
        zone = "UTC"
    document = policy.model_dump(mode="json")
    if unzoned(policy.queue_defaults):
        document["queue_defaults"]["hours"]["time_zone"] = zone
    for queue_id in queues:
        document["queues"][queue_id]["hours"]["time_zone"] = zone
    return RoutingPolicy.model_validate(document)


def journey_of(
    deps: Dependencies, tenant_id: str, customer_id: str | None, reason: str | None, exclude: str, *,
    fcr_window_days: float | None = None,
) -> JourneyContext | None:
    """The customer's _JOURNEY_DEPTH latest contacts, and the one a repeat of `reason` is of (the newest with that
    reason within the FCR window: `fcr_window_days`, else the routing policy's) when newer ones push it past them.
    Without the customer contact `exclude` (an initial contact id: its own segments are not an earlier contact, so a
    transfer is never a repeat of itself). Ours from the Contacts table (open ones too), and history's records by
    customer: an Amazon Connect tenant's contacts exist only there (their CTRs); a contact in both counts once, as
    the Contacts table has it. Each store is read through the window (REPEAT_WINDOW_CAP) only with a reason."""
    if not customer_id:
        return None
    now = deps.clock.now_ms()
    if fcr_window_days is None:
        fcr_window_days = policy_of(deps, tenant_id).journey.fcr_window_days
    since = now - int(fcr_window_days * 86_400_000) if reason is not None else None  # no reason: no repeat to find
    window = {"since_ms": since, "up_to": REPEAT_WINDOW_CAP}
    past = {
        c.contact_id: PastContact(
            contact_id=c.contact_id, started_at=c.initiated_at, ended_at=c.ended_at, agent_id=c.agent_id,
            queue_id=c.queue_id, channel=c.channel.value, reason=c.reason, outcome=c.state.value,
        )
        for c in deps.store.recent_contacts(tenant_id, customer_id, _JOURNEY_DEPTH, **window)
        # a journey test's contacts are not the customer's past (no repeat flag, no priority change); the
        # stores leave them out of the customer's index already (and out of history), so they never take one
        # of the _JOURNEY_DEPTH
        if exclude not in (c.contact_id, c.initial_contact_id) and not is_synthetic(c)
    }
    from ccaas.domain.history import anchor_time  # noqa: PLC0415 - route_contact's cold start never plans a contact

    for entry in deps.history.recent_customer_entries(tenant_id, customer_id, _JOURNEY_DEPTH, **window):
        r = entry.record
        if r is None or r.contact_id in past or exclude in (r.contact_id, r.initial_contact_id) or r.consult_leg:
            continue
        past[r.contact_id] = PastContact(
            contact_id=r.contact_id, started_at=anchor_time(r), ended_at=r.completed_at, agent_id=r.agent_id,
            queue_id=r.queue_id, channel=r.channel.value, reason=r.reason, outcome=r.final_state.value,
        )
    everything = sorted(past.values(), key=lambda p: (p.started_at, p.contact_id), reverse=True)
    newest = everything[:_JOURNEY_DEPTH]
    # the engine's own rule (same reason, within the window) over all that was read, so the repeat it names is kept
    repeat = analyse_journey(JourneyContext(customer_id=customer_id, reason=reason, history=tuple(everything)), now,
                             last_agent_window_s=0, fcr_window_days=fcr_window_days).repeat_of
    kept = newest if repeat is None or repeat in newest else [*newest, repeat]
    return JourneyContext(customer_id=customer_id, reason=reason, history=tuple(kept))


def segment_of(deps: Dependencies, contact: Contact, requested: str | None) -> str | None:
    """The customer's value tier from the tenant's customer directory; the caller's `requested`
    segment only for a customer the directory does not know (or an anonymous contact)."""
    if contact.customer_id:
        customer = deps.customers.get(contact.tenant_id, contact.customer_id)
        if customer is not None:  # known: its tier, or the default one, never what the request claims
            return customer.tier or DEFAULT_TIER
    return requested


def plan_for(
    deps: Dependencies, contact: Contact, queue: Queue, segment: str | None, policy: RoutingPolicy | None = None,
    *, arrival_wait_s: Callable[[], float | None] | None = None,
) -> RoutingPlan:
    """The contact's plan at intake. `arrival_wait_s` estimates the wait of a contact arriving now; it
    is only called when the segment deflects to self-service above a wait (it costs reads)."""
    policy = policy or policy_of(deps, contact.tenant_id)
    journey = journey_of(deps, contact.tenant_id, contact.customer_id, contact.reason,
                         contact.initial_contact_id or contact.contact_id,
                         fcr_window_days=policy.journey.fcr_window_days)
    deflects_on_wait = segment in policy.segments and policy.segments[segment].deflect == "when_wait_exceeds"
    estimated = arrival_wait_s() if deflects_on_wait and arrival_wait_s is not None else None
    return plan_contact(queue, policy, segment, journey, deps.clock.now_ms(), base_priority=contact.priority,
                        estimated_wait_s=estimated)


def staff_of(deps: Dependencies, tenant_id: str, current: Sequence[Agent] = ()) -> StaffedAgents:
    """The tenant's agents as the engine asks about them to pass over a step nobody staffed can satisfy
    (routing_engine.reach). Read lazily: nothing when an available candidate satisfies the step in
    force (the common case); one GetItem per preferred agent for a last-agent step; the roster for a skill
    step, which the AWS store keeps a few seconds per container (StateStore.staffing_roster): an agent who
    logged in or out just now may be counted as before for that long; the next check sees the change.
    `current`: agents the caller has just written, counted as written (the decision their change triggers)."""

    def one(agent_id: str) -> Agent | None:
        try:
            return deps.store.get_agent(tenant_id, agent_id)
        except NotFound:
            return None

    return StaffedAgents(lambda: deps.store.staffing_roster(tenant_id), lookup=one, current=current)


def choose_agent(deps: Dependencies, contact: Contact, queue: Queue, candidates: Sequence[Agent]) -> Decision:
    return select_agent(contact, queue, policy_of(deps, contact.tenant_id), candidates, deps.clock.now_ms(),
                        staffed=staff_of(deps, contact.tenant_id))


def choose_contact(
    deps: Dependencies, agent: Agent, waiting: Mapping[str, Sequence[Contact]], queues: Mapping[str, Queue],
    current: Sequence[Agent] = (),
) -> Decision:
    """`current`: agents just written (staff_of), the chosen-for agent among them."""
    return select_contact(agent, waiting, queues, policy_of(deps, agent.tenant_id), deps.clock.now_ms(),
                          staffed=staff_of(deps, agent.tenant_id, (agent, *current)))


def next_check(deps: Dependencies, contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int) -> int | None:
    """routing_engine.next_check_at with the tenant's agents: the timer is not set for the expiry of a
    step that a decision would pass over (read only when that expiry would set the timer)."""
    return next_check_at(contact, queue, policy, now_ms, staffed=staff_of(deps, contact.tenant_id))


def explained(decision: Decision) -> dict:
    """What is kept of a decision (GET /contacts/{id}/routing)."""
    return decision.model_dump(mode="json", exclude_defaults=True)


def keep(deps: Dependencies, contact: Contact, decision: Decision) -> None:
    """Keep a decision about the contact, going when it does (a journey test's: its TTL)."""
    deps.store.record_decision(contact.tenant_id, contact.contact_id, explained(decision),
                               expires_at=synthetic_expiry(contact))


def decisions_of(deps: Dependencies, tenant_id: str, contact_id: str) -> list[dict]:
    """Every decision about the contact, oldest first (the API answers them in pages: decisions_page)."""
    deps.store.get_contact(tenant_id, contact_id)  # 404 for another tenant's or an unknown contact
    return [decision for _, decision in deps.store.decisions(tenant_id, contact_id)]


DECISIONS_PAGE = 1_000  # GET /contacts/{id}/routing: decisions a page holds at most (and by default); ~4 MB too


def decisions_page(deps: Dependencies, tenant_id: str, contact_id: str, *, after: str | None = None,
                   limit: int = DECISIONS_PAGE) -> tuple[list[dict], str | None]:
    """A page of the contact's decisions, oldest first, after the cursor `after`, and the cursor the next page
    starts after (None: this was the last). At most `limit` and ~4 MB: a contact re-offered without end
    (reservation.max_declines) answered every decision at once, past Lambda's 6 MB (a 502)."""
    deps.store.get_contact(tenant_id, contact_id)  # 404 for another tenant's or an unknown contact
    found = deps.store.decisions(tenant_id, contact_id, after=after, limit=limit + 1)
    page = fitting_page(found, limit, lambda kept: kept[1])
    return [decision for _, decision in page], page[-1][0] if len(page) < len(found) else None
