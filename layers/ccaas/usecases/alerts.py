"""Supervisor alerts: evaluation after stream batches and on the minute sweep, live transcripts, the API.

Every evaluation reads the stored live state (live metrics item, waiting index, agents) rather than
folding events itself, so the stream consumer and the sweep agree, and replays change nothing.
Publishing follows two orders so that no change is lost and duplicates carry the same alert id:
- an opening is written first (the conditional write is the deduplication), then published, then
  marked published; an alert still unpublished is published by the next evaluation of its tenant;
- a resolution is published first, then written: if the write fails the alert stays unresolved and
  the next evaluation resolves (and publishes) it again.
One alert's opening goes out before its resolution: the resolver publishes an opening not yet on the bus
ahead of the resolution, and an opener re-reads its openings before publishing (another evaluation may
have resolved one since its write). EventBridge keeps no order all the same: each event's `sequence`
(ccaas.domain.alerts.Alert.sequence) lets a consumer drop a stale one.
"""
from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccaas.bootstrap import Dependencies
from ccaas.domain.alerts import (
    AgentSnapshot,
    Alert,
    AlertChange,
    AlertRule,
    AlertRules,
    AlertStatus,
    Decisions,
    Finding,
    LiveSegment,
    LiveTranscriptState,
    QueueSnapshot,
    Resolution,
    contacts_ended,
    evaluate,
    evaluate_transcript,
    new_alert_id,
    redact_and_score,
    transcript_decisions,
)
from ccaas.domain.analytics.transcript import Segment, Speaker
from ccaas.domain.events import Event, EventType, agent_activity
from ccaas.domain.guidance import Prompt
from ccaas.domain.routing_engine.synthetic import is_synthetic
from ccaas.domain.vocabulary import Conflict, ContactState, DomainError, NotFound, shown_value
from ccaas.usecases import guidance

if TYPE_CHECKING:
    from ccaas.domain.models import Agent, Contact  # annotations only (the entities and their routing plan stay unbuilt)
    from ccaas.domain.analytics.sentiment import LocalLexiconSentiment
    from ccaas.ports import AlertPublisher, Clock, ConnectionStore, PushChannel

# A contact's conversation is over once one of these happened: its alerts are resolved.
CONVERSATION_ENDED = frozenset({EventType.CONTACT_ACW_STARTED, EventType.CONTACT_COMPLETED, EventType.CONTACT_ABANDONED,
                                EventType.CONTACT_TRANSFERRED})
# Contact events that change nothing a queue rule reads (depth, oldest wait, service level, abandonment):
# they touch no queue, so a hold or a conference costs no queue evaluation (its reads).
NO_QUEUE_CHANGE = frozenset({
    EventType.CONTACT_HELD, EventType.CONTACT_RESUMED, EventType.CONTACT_CONSULT_STARTED,
    EventType.CONTACT_CONSULT_CANCELLED, EventType.CONTACT_CONFERENCE_JOINED, EventType.CONTACT_CONFERENCE_LEFT,
})
logger = logging.getLogger(__name__)


@dataclass
class Applied:
    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    published: int = 0


# --- rules ------------------------------------------------------------------------------------------


def get_rules(deps: Dependencies, tenant_id: str) -> AlertRules:
    return deps.config.get_alert_rules(tenant_id)


def put_rules(deps: Dependencies, tenant_id: str, rules: AlertRules) -> AlertRules:
    deps.config.put_alert_rules(tenant_id, rules)
    return rules


# --- applying decisions -----------------------------------------------------------------------------


def apply_decisions(deps: Dependencies, tenant_id: str, decisions: Decisions, unresolved: Sequence[Alert]) -> Applied:
    now = deps.clock.now_ms()
    applied = Applied()
    if decisions.resolve:
        # An opening not yet on the bus goes out first: its opener may be between its write and its publish,
        # and a consumer must not see the resolution of an alert it never saw open.
        unpublished = [alert for alert, _ in decisions.resolve if not alert.published]
        resolved = [alert.resolved(now, why) for alert, why in decisions.resolve]
        deps.alert_events.publish([*((AlertChange.OPENED, a) for a in unpublished), *((AlertChange.RESOLVED, a) for a in resolved)])
        if unpublished:
            deps.alerts.mark_published(unpublished)
        applied.published += len(unpublished) + len(resolved)
        applied.resolved = [a for a in resolved if deps.alerts.resolve(a)]
    resolving = {alert.alert_id for alert, _ in decisions.resolve}
    pending = {a.alert_id: a for a in unresolved if not a.published and a.alert_id not in resolving}
    for finding in decisions.open:
        candidate = finding.alert(tenant_id, new_alert_id(now, deps.ids.new_id()), now)
        stored = deps.alerts.open(candidate)
        if stored.alert_id == candidate.alert_id:
            applied.opened.append(stored)
        if not stored.published:
            pending[stored.alert_id] = stored
    openings = _still_unpublished(deps, tenant_id, pending)
    if openings:
        deps.alert_events.publish([(AlertChange.OPENED, a) for a in openings])
        deps.alerts.mark_published(openings)
        applied.published += len(openings)
    return applied


def _still_unpublished(deps: Dependencies, tenant_id: str, alert_ids: Iterable[str]) -> list[Alert]:
    """The alerts as stored now, of those still unresolved and unpublished: one resolved since it was read (or
    written) had its opening published by its resolver, ahead of the resolution; published now, it would follow it."""
    fresh = []
    for alert_id in alert_ids:
        try:
            alert = deps.alerts.get(tenant_id, alert_id)
        except NotFound:
            continue
        if alert.unresolved and not alert.published:
            fresh.append(alert)
    return fresh


# --- snapshots of the stored live state -------------------------------------------------------------


MAX_DEPTH_PROBE = 101  # waiting contacts read per queue for the depth rule at most (the oldest is the first)


def _sl_variant(deps: Dependencies, tenant_id: str) -> str:
    """The tenant's service-level variant, so an SL alert fires on the SL its live view shows (read through the
    configuration cache)."""
    from ccaas.usecases.tenancy import kpi_settings_of  # noqa: PLC0415 - the KPI settings model, on first use

    return kpi_settings_of(deps, tenant_id).service_level_variant


def queue_snapshots(
    deps: Dependencies, tenant_id: str, rules: AlertRules, queue_ids: Iterable[str] | None = None
) -> list[QueueSnapshot]:
    """The tenant's queues (or those of `queue_ids` that exist): live item, oldest waiting contact.

    Depth is the larger of the live gauge (QUEUED + OFFERED) and the waiting index read up to the
    rule's threshold: the index is written before the event is published, while the gauge is written
    by the other stream consumer, maybe after this one reads it. The index is read for at most
    MAX_DEPTH_PROBE contacts: a threshold of 100,000 read a 1 MB page per touched queue on every evaluation
    (and every queue on every sweep); above the probe the gauge decides (it lags by one batch at most). A journey
    test's contacts raise no queue alert (they wait for their test agent only), and are read past: one at the head
    hid the real customers' long wait behind it (metrics.real_waiting)."""
    from ccaas.usecases.metrics import real_waiting  # noqa: PLC0415 - the live view's read, on first use

    queues = {q.queue_id: q for q in deps.config.list_queues(tenant_id)}
    wanted = sorted(queues if queue_ids is None else set(queue_ids) & set(queues))
    items = deps.live.snapshots((tenant_id, q) for q in wanted)
    probe = min(rules.queue_depth.threshold + 1, MAX_DEPTH_PROBE) if rules.queue_depth.enabled else 1
    sl_variant = _sl_variant(deps, tenant_id) if rules.service_level.enabled else "default"
    snapshots = []
    for queue_id in wanted:
        item = items.get((tenant_id, queue_id), {})
        oldest = real_waiting(deps, tenant_id, queue_id, probe)
        snapshots.append(
            QueueSnapshot(
                queue_id=queue_id,
                sl_target=queues[queue_id].sl_target,
                in_queue=max(0, int(item.get("g_in_queue", 0)), len(oldest)),
                oldest_enqueued_at=oldest[0].enqueued_at if oldest else None,
                oldest_contact_id=oldest[0].contact_id if oldest else None,
                live_item=item,
                sl_variant=sl_variant,
            )
        )
    return snapshots


def not_ready_since(agent: Agent, ignored: Container[str] = (), counted_from: int | None = None) -> int:
    """When the agent's not-ready period began: when its activity became NOT_READY (Agent.activity_since: it left
    AVAILABLE), or its reason was set, if earlier, but never before its last contact ended. A switch of reason
    (BREAK -> PERSONAL) does not restart the clock. Where the tenant ignores planned reasons, a switch within the
    period may have come from one (LUNCH -> BREAK), which the agent item does not tell: the current reason's start
    then, or, earlier, the start an unresolved alert of the agent counts from (`counted_from`: its condition held
    since, the stream evaluation resolves it on a planned reason, work or AVAILABLE)."""
    began = min(agent.activity_since, agent.status_since) if agent.activity_since else agent.status_since
    period = max(began, agent.last_contact_ended_at)
    if not ignored or agent.status_since <= period:
        return period
    reason = agent.idle_since()
    return min(reason, counted_from) if counted_from is not None and counted_from >= period else reason


def agent_snapshot(agent: Agent, ignored: Container[str] = (), counted_from: int | None = None) -> AgentSnapshot:
    return AgentSnapshot(
        agent_id=agent.agent_id, status=agent.status, activity=agent_activity(agent),
        not_ready_since=not_ready_since(agent, ignored, counted_from),
    )


def agent_snapshots(agents: Iterable[Agent], rules: AlertRules, unresolved: Iterable[Alert]) -> list[AgentSnapshot]:
    """The agents alerts are evaluated on: a journey test's agents are left out (their time is no workforce's)."""
    from ccaas.domain.routing_engine.synthetic import is_test_agent  # noqa: PLC0415 - a tiny module, on first use

    counted = {}  # agent id -> the start its unresolved not-ready alert counted from
    for a in unresolved:
        not_ready_s = a.details.get("not_ready_s") if a.rule == AlertRule.AGENT_NOT_READY else None
        if isinstance(not_ready_s, int | float):
            counted[a.subject_id] = a.opened_at - int(not_ready_s * 1000)
    ignored = rules.agent_not_ready.ignore_statuses
    return [agent_snapshot(a, ignored, counted.get(a.agent_id)) for a in agents if not is_test_agent(a)]


# --- the stream consumer ----------------------------------------------------------------------------


@dataclass
class Touched:
    queues: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    ended_contacts: set[str] = field(default_factory=set)


def touched_by(events: Iterable[Event]) -> dict[str, Touched]:
    """Per tenant: the queues and agents whose state the events changed, and conversations that ended."""
    touched: dict[str, Touched] = defaultdict(Touched)
    for event in events:
        t = touched[event.tenant_id]
        p = event.payload
        if event.type.startswith("contact.") and p.get("queue_id"):
            if event.type not in NO_QUEUE_CHANGE:
                t.queues.add(p["queue_id"])
            if event.type in CONVERSATION_ENDED and p.get("contact_id"):
                t.ended_contacts.add(p["contact_id"])
        elif event.type.startswith("agent.") and p.get("agent_id"):
            t.agents.add(p["agent_id"])
    return dict(touched)


def evaluate_touched(deps: Dependencies, tenant_id: str, touched: Touched) -> Applied:
    """The batch's queues, agents and ended conversations against the tenant's rules (kept a few seconds
    per container by the config store: adapters.cached_config) and open alerts. A batch that touched
    none of them (holds, consults, conferences only) reads nothing: its evaluation could open or resolve
    nothing (an alert left unpublished is published by the next evaluation that reads, or by the minute
    sweep)."""
    if not (touched.queues or touched.agents or touched.ended_contacts):
        return Applied()
    rules = deps.config.get_alert_rules(tenant_id)
    unresolved = deps.alerts.unresolved(tenant_id)
    queues = queue_snapshots(deps, tenant_id, rules, touched.queues) if touched.queues else []
    found = deps.store.get_agents(tenant_id, sorted(touched.agents))  # one read for the batch's agents
    agents = agent_snapshots(found, rules, unresolved)
    decisions = evaluate(rules, queues=queues, agents=agents, active=unresolved, now_ms=deps.clock.now_ms())
    # An ending event is read against the contact: a transfer undone (its new segment's workflow did not start)
    # leaves the conversation CONNECTED with the same agent, and its alerts (moment rules: never reopened) stay.
    with_alerts = {a.subject_id for a in unresolved if a.subject_kind == "contact"} & touched.ended_contacts
    decisions.resolve += contacts_ended(unresolved, _over(deps, tenant_id, with_alerts))
    return apply_decisions(deps, tenant_id, decisions, unresolved)


def _over(deps: Dependencies, tenant_id: str, contact_ids: Iterable[str]) -> set[str]:
    """Of these contacts, the ones whose conversation is over (no longer CONNECTED, or gone)."""
    over = set()
    for contact_id in contact_ids:
        try:
            if deps.store.get_contact(tenant_id, contact_id).state != ContactState.CONNECTED:
                over.add(contact_id)
        except NotFound:
            over.add(contact_id)
    return over


# --- the minute sweep -------------------------------------------------------------------------------


# Connected contacts whose live transcript one tenant's sweep reads at most (which ones rotates by the minute).
MAX_SILENCE_CHECKS = 200


def sweep_tenant(deps: Dependencies, tenant_id: str) -> Applied:
    """Every queue and agent of the tenant (time-based rules fire without events), silence still going on in
    live-transcribed conversations (alerted, and prompted to the agent), and the contact alerts whose conversation
    ended without us seeing the event."""
    rules = deps.config.get_alert_rules(tenant_id)
    unresolved = deps.alerts.unresolved(tenant_id)
    queues = queue_snapshots(deps, tenant_id, rules)
    listed = deps.store.list_agents(tenant_id)
    agents = agent_snapshots(listed, rules, unresolved)
    now = deps.clock.now_ms()
    decisions = evaluate(rules, queues=queues, agents=agents, active=unresolved, now_ms=now, whole_tenant=True)
    decisions.open += ongoing_silences(deps, tenant_id, rules, listed, unresolved, now)
    ended = _over(deps, tenant_id, {a.subject_id for a in unresolved if a.subject_kind == "contact"})
    decisions.resolve += contacts_ended(unresolved, ended)
    return apply_decisions(deps, tenant_id, decisions, unresolved)


def ongoing_silences(
    deps: Dependencies, tenant_id: str, rules: AlertRules, agents: Sequence[Agent], unresolved: Sequence[Alert], now_ms: int
) -> list[Finding]:
    """Dead air still going on: a post measures only the gaps it ends, so a silence was alerted (and prompted) once
    someone spoke again, and never when the call ended during it. The supervisors' silence alert, and the agent's
    silence prompt (guidance rules of kind silence: once per silence, past the rule's cooldown, saved in the live
    state the posts use, so the post ending the silence does not prompt again). Read for connected contacts (of real
    agents) with a live transcript, at most MAX_SILENCE_CHECKS per sweep; a contact with an open silence alert only
    while a guidance silence rule is on (its prompt may still be due). Per contact: its live state and the contact;
    a write only with a new prompt, pushed right after it (as a post does: left for the sweep's end, a failure
    before it left the prompt stored, seen as given by later sweeps, never pushed). The silence alerts to open."""
    from ccaas.domain.guidance import SilenceRule as GuidanceSilence  # noqa: PLC0415 - with the guidance rules only
    from ccaas.domain.routing_engine.synthetic import is_test_agent  # noqa: PLC0415 - a tiny module, on first use

    found: list[Finding] = []
    connected = {
        c for a in agents if not is_test_agent(a)
        for c in a.active_contact_ids if c not in a.offered_contact_ids and c not in a.acw_contact_ids
    }  # fmt: skip
    if not connected:
        return found
    rule = rules.silence
    guidance_rules = guidance.get_rules(deps, tenant_id)  # the settings document, through deps.config's cache
    prompting = guidance_rules.enabled and any(isinstance(r, GuidanceSilence) and r.enabled for r in guidance_rules.rules)
    alerted = {a.subject_id for a in unresolved if a.rule == AlertRule.SILENCE and a.unresolved}
    if not prompting:
        if not rule.enabled:
            return found
        connected -= alerted
    candidates = sorted(connected)
    if len(candidates) > MAX_SILENCE_CHECKS:
        start = (now_ms // 60_000 * MAX_SILENCE_CHECKS) % len(candidates)
        candidates = [*candidates[start:], *candidates[:start]][:MAX_SILENCE_CHECKS]
    for contact_id in candidates:
        state = deps.alerts.transcript_state(tenant_id, contact_id)
        if state is None:
            continue  # not transcribed live: nothing is known of its silences
        try:
            contact = deps.store.get_contact(tenant_id, contact_id)
        except NotFound:
            continue
        if contact.state != ContactState.CONNECTED or contact.connected_at is None:
            continue
        at_ms = now_ms - contact.connected_at  # offsets from connection, as the posts' segments
        if prompting:
            saved, prompts = guidance.evaluate_ongoing(guidance_rules, state, at_ms, now_ms)
            if prompts:
                try:
                    deps.alerts.save_transcript_state(saved)
                except Conflict:
                    pass  # a post meanwhile: speech, or the gap measured by it; the next sweep looks again
                else:  # before anything else of the sweep can fail (another contact's read, the alerts' publish)
                    guidance.publish(deps, contact, saved, prompts)
        spoken_until = state.last_end_ms or 0
        silent_ms = at_ms - spoken_until
        # and no post for as long: speech not posted yet (a post's delay, a desktop's clock behind) is no silence
        if (rule.enabled and contact_id not in alerted and state.silence_alertable(spoken_until)
                and min(silent_ms, now_ms - state.updated_at) >= rule.threshold_s * 1000):
            found.append(Finding(
                AlertRule.SILENCE, f"contact/{contact_id}", rule.severity,
                f"Contact {contact_id}: {silent_ms / 1000:.0f} s of silence so far (threshold {rule.threshold_s:g} s)",
                {"silence_s": round(silent_ms / 1000, 1), "threshold_s": rule.threshold_s, "at_ms": spoken_until},
                contact.queue_id,
            ))  # fmt: skip
    return found


@dataclass
class SweepResult:
    tenants: int = 0
    opened: int = 0
    resolved: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # not reached before `keep_going` said stop (the next sweep starts over)


def sweep(
    deps: Dependencies,
    on_error: Callable[[str, Exception], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> SweepResult:
    """One tenant failing does not stop the others; the failures are returned (the handler raises). Each minute
    starts at another tenant (the list rotated by the minute): a sweep out of time before the end of the list left
    the same tenants unswept every minute, their long waits never alerted."""
    result = SweepResult()
    tenants = deps.config.list_tenants()
    if tenants:
        start = (deps.clock.now_ms() // 60_000) % len(tenants)
        tenants = [*tenants[start:], *tenants[:start]]
    for n, tenant_id in enumerate(tenants):
        if not keep_going():
            result.skipped = len(tenants) - n
            break
        result.tenants += 1
        try:
            applied = sweep_tenant(deps, tenant_id)
        except Exception as error:  # noqa: BLE001 - reported per tenant by the caller
            result.failed.append(tenant_id)
            if on_error is not None:
                on_error(tenant_id, error)
            continue
        result.opened += len(applied.opened)
        result.resolved += len(applied.resolved)
    return result


# --- live transcripts -------------------------------------------------------------------------------


class LiveTranscriptPost(BaseModel):
    """Segments of a live conversation; begin_ms/end_ms are offsets from when the contact was connected."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    segments: list[Segment] = Field(min_length=1, max_length=500)

    @field_validator("segments")
    @classmethod
    def _bounded_text(cls, segments: list[Segment]) -> list[Segment]:
        if sum(len(s.text) for s in segments) > 200_000:
            raise ValueError("at most 200,000 characters of text per post")
        return segments


class LiveTranscriptResult(BaseModel):
    contact_id: str
    accepted: int
    redactions: dict[str, int] = Field(description="PII type -> how many were replaced")
    segments: list[LiveSegment] = Field(description="as redacted, with each segment's sentiment (-5..+5)")
    opened: list[Alert]
    prompts: list[Prompt] = Field(default_factory=list, description="new guidance prompts for the agent")


@cache
def _sentiment() -> LocalLexiconSentiment:
    from ccaas.domain.analytics.sentiment import LocalLexiconSentiment

    return LocalLexiconSentiment()


# How far a live segment's end may run ahead of the time since the contact was connected (clocks, buffering).
LIVE_CLOCK_SKEW_MS = 60_000


def _spoken_by_now(contact: Contact, post: LiveTranscriptPost, now_ms: int) -> None:
    """A live segment ends before now (ms since connect): one ending in the future (an agent desktop posting
    end_ms 10^15) moved the silence clock past every later gap, silencing the contact's silence alerts."""
    elapsed = now_ms - (contact.connected_at or now_ms)
    for i, segment in enumerate(post.segments):
        if segment.end_ms > elapsed + LIVE_CLOCK_SKEW_MS:
            # the value is the caller's (10^15 was one): quoted only with fewer than 13 digits (README "Errors")
            raise DomainError(f"segments[{i}].end_ms is {shown_value(segment.end_ms)} ms after connect, but the "
                              f"contact was connected {max(0, elapsed)} ms ago: live segments end by now",
                              field=f"segments[{i}].end_ms")


def _customer_speaks_on_the_customers_side(contact: Contact, post: LiveTranscriptPost) -> None:
    """A consult leg has no customer on it (lifecycle.require_customer_side): CUSTOMER speech posted to it is
    refused, the whole post (409, nothing evaluated nor stored): it would open the leg's sentiment alerts and steer
    its guidance (sentiment-drop and escalation prompts read only the customer's segments). The agents' own
    segments are taken: on a leg they feed only what is theirs (silence, escalation phrases set to AGENT, the
    followed prompts)."""
    if any(s.speaker == Speaker.CUSTOMER for s in post.segments):
        from ccaas.domain import lifecycle  # noqa: PLC0415 - the contact entities: only the live-transcript route

        lifecycle.require_customer_side(contact, "given the customer's speech")


def post_live_transcript(deps: Dependencies, tenant_id: str, contact_id: str, post: LiveTranscriptPost) -> LiveTranscriptResult:
    # Imported here: only the API's live-transcript route needs the tenant's analytics rules and the
    # contact retry loop; the alert consumers and the sweep that import this module never do.
    from ccaas.usecases.analytics import analytics_rules
    from ccaas.usecases.contacts import retrying

    contact = deps.store.get_contact(tenant_id, contact_id)
    if contact.state != ContactState.CONNECTED:
        raise Conflict(f"contact {shown_value(contact_id)} is {contact.state}: live transcripts are for CONNECTED "
                       "contacts", field="contact_id")
    _customer_speaks_on_the_customers_side(contact, post)
    _spoken_by_now(contact, post, deps.clock.now_ms())
    redactor = analytics_rules(deps, tenant_id).compiled().redactor  # the tenant's patterns, as for uploads
    redacted = redact_and_score(post.segments, redactor, _sentiment())  # the raw text is not used after this
    rules = deps.config.get_alert_rules(tenant_id)
    guidance_rules = guidance.get_rules(deps, tenant_id)

    def attempt():  # noqa: ANN202
        state = deps.alerts.transcript_state(tenant_id, contact_id) or LiveTranscriptState(tenant_id=tenant_id, contact_id=contact_id)
        evaluation = evaluate_transcript(rules, state, redacted.segments, now_ms=deps.clock.now_ms(), queue_id=contact.queue_id)
        saved, prompts = guidance.evaluate(guidance_rules, evaluation.state, redacted.segments)  # same write
        deps.alerts.save_transcript_state(saved)
        return evaluation, saved, prompts

    evaluation, saved, prompts = retrying(attempt)
    guidance.publish(deps, contact, saved, prompts)
    opened: list = []
    if not is_synthetic(contact):  # a journey test's words page no supervisor (its test agent still gets guidance)
        unresolved = deps.alerts.unresolved(tenant_id)
        opened = apply_decisions(deps, tenant_id, transcript_decisions(evaluation, unresolved), unresolved).opened
    return LiveTranscriptResult(
        contact_id=contact_id,
        accepted=len(redacted.segments),
        redactions=redacted.redaction_counts,
        segments=redacted.segments,
        opened=opened,
        prompts=prompts,
    )


# --- the API ----------------------------------------------------------------------------------------


class StatusFilter(StrEnum):
    OPEN = "open"  # not resolved: OPEN or ACKNOWLEDGED
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ALL = "all"


def list_alerts(deps: Dependencies, tenant_id: str, status: StatusFilter = StatusFilter.OPEN, limit: int = 100) -> list[Alert]:
    """Newest first."""
    return alerts_page(deps, tenant_id, status, limit)[0]


def alerts_page(
    deps: Dependencies, tenant_id: str, status: StatusFilter = StatusFilter.OPEN, limit: int = 100, after: str | None = None
) -> tuple[list[Alert], str | None]:
    """Newest first (by opening): at most `limit` alerts older than the alert id `after`, and the id the next
    page starts after (None: this was the last). Resolved alerts are read from their own index: picked out of
    the newest alerts of every status, they were hidden by as many newer open ones (a centre's agents at lunch)."""
    if status == StatusFilter.ALL:
        found = deps.alerts.recent(tenant_id, limit + 1, after=after)
    elif status == StatusFilter.RESOLVED:
        found = deps.alerts.resolved(tenant_id, limit + 1, after=after)
    else:
        wanted = {
            StatusFilter.OPEN: {AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED},
            StatusFilter.UNACKNOWLEDGED: {AlertStatus.OPEN},
            StatusFilter.ACKNOWLEDGED: {AlertStatus.ACKNOWLEDGED},
        }[status]
        alerts = [a for a in deps.alerts.unresolved(tenant_id) if a.status in wanted and (after is None or a.alert_id < after)]
        found = sorted(alerts, key=lambda a: a.alert_id, reverse=True)[: limit + 1]
    page = found[:limit]
    return page, page[-1].alert_id if len(found) > limit else None


def get_alert(deps: Dependencies, tenant_id: str, alert_id: str) -> Alert:
    return deps.alerts.get(tenant_id, alert_id)


def acknowledge(deps: Dependencies, tenant_id: str, alert_id: str) -> Alert:
    """Idempotent; every call publishes the acknowledgement (at least once, same alert id)."""
    alert = deps.alerts.acknowledge(tenant_id, alert_id, deps.clock.now_ms())
    deps.alert_events.publish([(AlertChange.ACKNOWLEDGED, alert)])
    return alert


def resolve(deps: Dependencies, tenant_id: str, alert_id: str) -> Alert:
    """A supervisor closes the alert. If a condition rule's condition still holds, the next evaluation opens a new
    one; a silence alert is not opened again for the silence it was about (a new silence alerts again)."""
    alert = deps.alerts.get(tenant_id, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        return alert
    if alert.rule == AlertRule.SILENCE:
        _dismiss_silence(deps, alert)  # before the resolution frees its slot: no evaluation in between reopens it
    # as an evaluation resolves: its opening first if that is not on the bus yet
    applied = apply_decisions(deps, tenant_id, Decisions(resolve=[(alert, Resolution.MANUAL)]), unresolved=[])
    if not applied.resolved:
        return deps.alerts.get(tenant_id, alert_id)  # resolved concurrently: that resolution stands
    return applied.resolved[0]


def _dismiss_silence(deps: Dependencies, alert: Alert) -> None:
    """Mark the alert's silence (`at_ms`, where it began) in the contact's live state: the sweep, measuring it while
    it lasts, and the post ending it skip it (the alert's (rule, contact) slot is free once it is resolved)."""
    from ccaas.usecases.contacts import retrying  # noqa: PLC0415 - the API's resolve only

    at_ms = alert.details.get("at_ms")
    if not isinstance(at_ms, int | float):
        return

    def attempt() -> None:
        state = deps.alerts.transcript_state(alert.tenant_id, alert.subject_id)
        if state is None or state.silence_dismissed_at_ms == int(at_ms):
            return
        deps.alerts.save_transcript_state(
            state.model_copy(update={"silence_dismissed_at_ms": int(at_ms), "version": state.version + 1})
        )

    retrying(attempt)


# --- alerts pushed to supervisors' sockets ----------------------------------------------------------


class PushingAlertPublisher:
    """The alerts bus, then an `alert` message to the watching supervisors and admins of the alert's
    tenant (ccaas.usecases.push.push_alerts). The bus decides: its failure raises as before; a failed
    push is logged and counted, never raised (the alert is on the bus, and GET /alerts shows it)."""

    def __init__(self, bus: AlertPublisher, connections: ConnectionStore, channel: PushChannel, clock: Clock) -> None:
        self.bus = bus
        self._connections = connections
        self._channel = channel
        self._clock = clock  # a socket past its credential's expiry is closed, not posted to
        self.pushed = 0
        self.push_failures = 0

    def publish(self, changes: Sequence[tuple[AlertChange, Alert]]) -> None:
        from ccaas.usecases.push import push_alerts

        self.bus.publish(changes)
        try:
            report = push_alerts(self._connections, self._channel, changes, self._clock.now_ms())
        except Exception:  # noqa: BLE001 - e.g. the connections table unreadable: the alerts stand
            logger.warning("alert push failed", exc_info=True, extra={"alerts": len(changes)})
            self._count_failures(len(changes))
            return
        self.pushed += report.sent
        if report.failed_event_ids:
            logger.warning("alert push failed for some connections", extra={"alert_ids": sorted(report.failed_event_ids)})
            self._count_failures(len(report.failed_event_ids))

    def _count_failures(self, n: int) -> None:
        self.push_failures += n
        try:
            from aws_lambda_powertools.metrics import MetricUnit, single_metric

            with single_metric(name="AlertPushFailures", unit=MetricUnit.Count, value=n,
                               namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ccaas")):
                pass
        except Exception:  # noqa: BLE001 - a metric is never worth failing an alert for
            logger.debug("metric not emitted", exc_info=True)
