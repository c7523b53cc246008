"""Outbound campaign metrics: live (GET /campaigns/{id}/metrics), historical per interval
(GET /campaigns/{id}/metrics/historical) and the CloudWatch counts the outbound handlers emit.

Definitions are the domain's (ccaas.domain.outbound.metrics); this module reads the ports:

- **Live** (`campaign_metrics`): the day counters of the last 30 UTC days (attempts, carrier outcomes,
  agent dispositions, blocks by rule — written as they happen by ccaas.usecases.outbound), calls in flight,
  rows due now, and the agents' time on the campaign (`occupancy`, `idle_between_calls_s`) over its most
  recent `LIVE_CONTACT_READS` connected calls of the last `LIVE_AGENT_WINDOW` (one contact read each).
- **Historical** (`campaign_history`): the stored attempts of [from, to) bucketed by hour or day in the
  tenant's time zone (ranges as GET /metrics/historical: ISO 8601, a time without offset is the tenant's
  wall clock, `to` defaults to now), with occupancy / idle from the connected calls' contacts, the rolling
  30-day abandonment rate at each interval's end from the day counters, and blocks by rule per UTC day
  (a block stores no attempt: only the day counters hold it, so blocks are not split by hour).
  Bounded: `MAX_DAY_RANGE_DAYS` for days, `MAX_HOUR_RANGE_DAYS` for hours, `MAX_HISTORY_ATTEMPTS` attempts
  (a 422 naming `from` past that), `MAX_HISTORY_CONTACT_READS` contact reads (later intervals then show
  occupancy null and a warning).
- **CloudWatch** (`emit_campaign_counts`; `emit_tick_counts` for the dialing loop's Attempts and blocks,
  functions/record_dial_outcomes for Amazon Connect's outcomes): one EMF document per (tenant, campaign) with dimensions
  service, tenant and campaign, one per blocking rule with `rule` added. Campaign ids are admin-created
  configuration (like queue ids), so the series count is the tenant's campaigns with activity in the
  period — never an attempt, row, number or agent id; rule names are the 13 CheckNames.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain.outbound.metrics import (
    ABANDON_WINDOW_DAYS,
    RIGHT_PARTY,
    AgentTime,
    AttemptFact,
    CampaignCall,
    agent_time,
    agent_time_by,
    figures,
    is_connect,
    rolling_counts,
    tick_metrics,
)
from ccaas.domain.outbound.models import CampaignMode, CampaignStatus, Disposition
from ccaas.domain.vocabulary import DomainError, NotFound
from ccaas.ports_outbound import IN_FLIGHT, AttemptRecord
from ccaas.usecases.outbound import TickResult, abandonment

if TYPE_CHECKING:  # an annotation only
    from ccaas.domain.models import Contact

UTC = timezone.utc
DAY_MS = 86_400_000
LIVE_AGENT_WINDOW = timedelta(minutes=60)
LIVE_ATTEMPT_READS = 5_000
LIVE_CONTACT_READS = 50  # one contact read each, per GET: the live figures are over the latest calls
MAX_DAY_RANGE_DAYS = 93
MAX_HOUR_RANGE_DAYS = 7
MAX_HISTORY_ATTEMPTS = 20_000
MAX_HISTORY_CONTACT_READS = 2_000
PAGE = 1_000
Interval = Literal["day", "hour"]

__all__ = [
    "CampaignHistory", "CampaignInterval", "CampaignMetrics", "campaign_history", "campaign_metrics",
    "emit_campaign_counts", "emit_tick_counts",
]


class CampaignMetrics(BaseModel):
    model_config = ConfigDict(defer_build=True)  # API views: the dialer's functions never build them
    campaign_id: str
    status: CampaignStatus
    mode: CampaignMode
    window_days: int = 30
    attempts: int
    human_answered: int
    connects: int = Field(description="answered calls handed to an agent (an OUTBOUND contact)")
    right_party_contacts: int = Field(description="agent dispositions right_party_contact and callback_requested")
    callbacks_requested: int = Field(description="callback_requested dispositions (part of right_party_contacts)")
    abandoned: int
    abandonment_rate: float = Field(description="abandoned / answered by a person, rolling 30 days")
    max_abandon_rate: float
    opted_out: int
    dial_errors: int
    outcomes: dict[str, int] = Field(description="the carrier's dispositions (an answered call an agent found no "
                                                 "person on counts under the agent's voicemail / machine / invalid)")
    agent_dispositions: dict[str, int]
    blocks_by_rule: dict[str, int] = Field(description="checks that held a row back, by rule")
    calls_in_flight: int
    rows_due_now: int = Field(description="up to 100: rows the due index holds for now")
    occupancy: float | None = Field(
        default=None, ge=0, le=1,
        description="agents' talk+hold+ACW on the campaign's calls / (that + idle between those calls), over the "
                    f"most recent {LIVE_CONTACT_READS} connected calls of the last 60 minutes; null without any")
    idle_between_calls_s: float | None = Field(
        default=None, ge=0, description="mean wait of an agent between two consecutive campaign calls (≤ 15 min apart)")
    agent_calls: int = Field(default=0, description="connected calls the two figures above are measured on")


class CampaignInterval(BaseModel):
    model_config = ConfigDict(defer_build=True)  # API views: the dialer's functions never build them
    start: str = Field(description="interval start, ISO 8601 with the tenant's offset")
    end: str
    attempts: int
    human_answered: int
    connects: int
    right_party_contacts: int = Field(description="agent dispositions right_party_contact and callback_requested")
    callbacks_requested: int = Field(description="callback_requested dispositions (part of right_party_contacts)")
    abandoned: int
    opted_out: int
    dial_errors: int
    outcomes: dict[str, int]
    abandonment_rate: float | None = Field(description="abandoned / human answered in this interval")
    abandonment_rate_30d: float | None = Field(
        description="rolling 30 UTC days ending the interval's last day (the cap's figure), from the day counters")
    occupancy: float | None = Field(ge=0, le=1)
    idle_between_calls_s: float | None = Field(ge=0)
    agent_calls: int


class CampaignHistory(BaseModel):
    model_config = ConfigDict(defer_build=True)  # API views: the dialer's functions never build them
    campaign_id: str
    time_zone: str
    interval: Interval
    start: str = Field(description="the range's start (ISO 8601, tenant offset)")
    end: str = Field(description="the range's end (exclusive)")
    rows: list[CampaignInterval]
    blocks_by_day: dict[str, dict[str, int]] = Field(description="UTC day -> rule -> rows held back")
    blocks_by_rule: dict[str, int] = Field(description="the range's blocks by rule (the UTC days it touches)")
    warnings: list[str] = Field(default_factory=list)


# --- reads -------------------------------------------------------------------------------------------

def _now(deps: Dependencies) -> datetime:
    return datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC)


def _utc_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _attempts(deps: Dependencies, tenant_id: str, campaign_id: str, since: datetime, until: datetime | None,
              cap: int) -> tuple[list[AttemptRecord], bool]:
    """The campaign's attempts started in [since, until), oldest first, page by page; (records, more)."""
    out: list[AttemptRecord] = []
    after: str | None = None
    while (want := min(PAGE, cap - len(out))) > 0:
        page = deps.outbound.campaign_attempts(tenant_id, campaign_id, since=since, until=until, after=after,
                                               limit=want)
        out.extend(page)
        if len(page) < want:
            return out, False
        after = page[-1].attempt_id
    more = bool(deps.outbound.campaign_attempts(tenant_id, campaign_id, since=since, until=until, after=after, limit=1))
    return out, more


def _fact(record: AttemptRecord) -> AttemptFact:
    a = record.attempt
    return AttemptFact(started_ms=_ms(a.started_at), disposition=a.disposition, has_contact=record.contact_id is not None,
                       dial_error=record.dial_error is not None)


def _call(contact: Contact) -> CampaignCall | None:
    """The agent time of one OUTBOUND contact (None: it never reached an agent)."""
    if contact.agent_id is None or contact.connected_at is None:
        return None
    if contact.acw_ended_at is not None:
        ended: int | None = contact.acw_ended_at
    elif contact.state.terminal:
        ended = contact.disconnected_at or contact.ended_at
    else:
        ended = None  # on the call or in ACW: busy until the end of the window measured
    return CampaignCall(agent_id=contact.agent_id, connected_ms=contact.connected_at, work_ended_ms=ended)


def _history_call(deps: Dependencies, tenant_id: str, contact_id: str) -> CampaignCall | None:
    """An Amazon Connect contact (the dialer's ContactId) is not in our store: its contact record is in history."""
    entry = deps.history.get_entry(tenant_id, contact_id)
    record = entry.record if entry is not None else None
    if record is None or record.agent_id is None or record.connected_at is None:
        return None
    return CampaignCall(agent_id=record.agent_id, connected_ms=record.connected_at,
                        work_ended_ms=record.acw_ended_at if record.acw_ended_at is not None else record.disconnected_at)


def _calls(deps: Dependencies, tenant_id: str, records: list[AttemptRecord]) -> list[CampaignCall]:
    """The agent time of the attempts' contacts: one read each (our contact, else its history entry)."""
    out = []
    for r in records:
        contact_id = r.contact_id or ""
        try:
            call = _call(deps.store.get_contact(tenant_id, contact_id))
        except NotFound:
            call = _history_call(deps, tenant_id, contact_id)
        if call is not None:
            out.append(call)
    return out


def _connected(records: list[AttemptRecord]) -> list[AttemptRecord]:
    return [r for r in records if r.contact_id is not None and is_connect(r.attempt.disposition, True)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


# --- live --------------------------------------------------------------------------------------------

def live_agent_time(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime) -> AgentTime:
    records, _ = _attempts(deps, tenant_id, campaign_id, now - LIVE_AGENT_WINDOW, None, LIVE_ATTEMPT_READS)
    latest = _connected(records)[-LIVE_CONTACT_READS:]
    return agent_time(_calls(deps, tenant_id, latest), until_ms=_ms(now))


def campaign_metrics(deps: Dependencies, tenant_id: str, campaign_id: str) -> CampaignMetrics:
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    now = _now(deps)
    days = deps.outbound.day_counts(tenant_id, campaign_id, (now.date() - timedelta(days=ABANDON_WINDOW_DAYS - 1)).isoformat(),
                                    now.date().isoformat())
    counts = rolling_counts(days, now.date())
    stats = abandonment(counts)
    in_flight = sum(1 for r in deps.outbound.campaign_attempts(tenant_id, campaign_id, since=now - IN_FLIGHT)
                    if r.attempt.disposition is None)
    agents = live_agent_time(deps, tenant_id, campaign_id, now)

    def prefixed(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    agent = prefixed("agent.")
    return CampaignMetrics(
        campaign_id=campaign_id, status=campaign.status, mode=campaign.mode, attempts=counts.get("attempts", 0),
        human_answered=stats.answered, connects=counts.get("connects", 0),
        right_party_contacts=sum(agent.get(str(d), 0) for d in RIGHT_PARTY),
        callbacks_requested=agent.get(str(Disposition.CALLBACK_REQUESTED), 0), abandoned=stats.abandoned,
        abandonment_rate=round(stats.rate, 5), max_abandon_rate=campaign.max_abandon_rate,
        opted_out=agent.get(str(Disposition.OPTED_OUT), 0), dial_errors=counts.get("dial_errors", 0),
        outcomes=prefixed("outcome."), agent_dispositions=agent, blocks_by_rule=prefixed("blocked."),
        calls_in_flight=in_flight, rows_due_now=len(deps.outbound.due_rows(tenant_id, campaign_id, now, 100)),
        occupancy=_round(agents.occupancy), idle_between_calls_s=_round(agents.idle_between_calls_s),
        agent_calls=agents.calls,
    )


# --- historical --------------------------------------------------------------------------------------

def campaign_history(deps: Dependencies, tenant_id: str, campaign_id: str, *, start: datetime | None,
                     end: datetime | None, interval: Interval = "day") -> CampaignHistory:
    from ccaas.domain.kpis.intervals import TenantCalendar  # loaded here: the outcome handler needs none of it
    from ccaas.usecases.history import spans_more_days, time_range  # the same range rules as GET /metrics/historical

    if interval not in ("day", "hour"):
        raise DomainError("interval is day or hour", field="interval")
    deps.outbound.get_campaign(tenant_id, campaign_id)  # 404 for an unknown campaign
    time_zone, span = time_range(deps, tenant_id, start, end, default_days=7 if interval == "day" else 1,
                                 max_days=MAX_DAY_RANGE_DAYS)
    if interval == "hour" and spans_more_days(time_zone, span.from_ms, span.to_ms, MAX_HOUR_RANGE_DAYS):
        raise DomainError(f"hourly intervals cover at most {MAX_HOUR_RANGE_DAYS} days", field="interval")
    since = datetime.fromtimestamp(span.from_ms / 1000, tz=UTC)
    until = datetime.fromtimestamp(span.to_ms / 1000, tz=UTC)
    records, more = _attempts(deps, tenant_id, campaign_id, since, until, MAX_HISTORY_ATTEMPTS)
    if more:
        raise DomainError(f"the range holds more than {MAX_HISTORY_ATTEMPTS} attempts: narrow it", field="from")

    calendar = TenantCalendar(time_zone)
    starts = calendar.interval_starts(interval, span.from_ms, span.to_ms)

    def bucket(ms: int) -> int:
        return calendar.interval_start(calendar.quarter_start(ms), interval)

    warnings: list[str] = []
    connected = _connected(records)
    read, unread = connected[:MAX_HISTORY_CONTACT_READS], connected[MAX_HISTORY_CONTACT_READS:]
    incomplete_from = bucket(_ms(unread[0].attempt.started_at)) if unread else None
    if unread:
        warnings.append(f"agent time measured on the first {MAX_HISTORY_CONTACT_READS} connected calls only: "
                        f"occupancy is null from {calendar.iso(incomplete_from)}")  # type: ignore[arg-type]
    until_ms = min(span.to_ms, deps.clock.now_ms())
    times = agent_time_by(_calls(deps, tenant_id, read), until_ms=until_ms, key=bucket)
    by_bucket: dict[int, list[AttemptFact]] = {}
    for r in records:
        fact = _fact(r)
        by_bucket.setdefault(bucket(fact.started_ms), []).append(fact)

    first_day, last_day = _utc_day(span.from_ms), _utc_day(span.to_ms - 1)
    days = deps.outbound.day_counts(tenant_id, campaign_id,
                                    (first_day - timedelta(days=ABANDON_WINDOW_DAYS - 1)).isoformat(), last_day.isoformat())
    rows = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else calendar.next_interval_start(s, interval)
        f = figures(by_bucket.get(s, ()))
        rolling = abandonment(rolling_counts(days, _utc_day(min(e, span.to_ms) - 1)))
        t = times.get(s, AgentTime())
        complete = incomplete_from is None or s < incomplete_from
        rows.append(CampaignInterval(
            start=calendar.iso(s), end=calendar.iso(e), attempts=f.attempts, human_answered=f.human_answered,
            connects=f.connects, right_party_contacts=f.right_party_contacts,
            callbacks_requested=f.callbacks_requested, abandoned=f.abandoned,
            opted_out=f.opted_out, dial_errors=f.dial_errors, outcomes=f.outcomes,
            abandonment_rate=_round(f.abandonment_rate),
            abandonment_rate_30d=_round(rolling.rate) if rolling.answered else None,
            occupancy=_round(t.occupancy) if complete else None,
            idle_between_calls_s=_round(t.idle_between_calls_s) if complete else None,
            agent_calls=t.calls if complete else 0,
        ))
    blocks_by_day: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for day, counts in sorted(days.items()):
        if not first_day.isoformat() <= day <= last_day.isoformat():
            continue
        blocked = {k[len("blocked."):]: n for k, n in sorted(counts.items()) if k.startswith("blocked.") and n}
        if blocked:
            blocks_by_day[day] = blocked
            for rule, n in blocked.items():
                totals[rule] = totals.get(rule, 0) + n
    if not records:
        warnings.append("no attempts in the range")
    return CampaignHistory(campaign_id=campaign_id, time_zone=time_zone, interval=interval,
                           start=calendar.iso(span.from_ms), end=calendar.iso(span.to_ms), rows=rows,
                           blocks_by_day=blocks_by_day, blocks_by_rule=dict(sorted(totals.items())), warnings=warnings)


# --- CloudWatch --------------------------------------------------------------------------------------

def emit_campaign_counts(tenant_id: str, campaign_id: str, counts: Mapping[str, int],
                         blocks: Mapping[str, int] | None = None, *, namespace: str | None = None) -> int:
    """Print the counts as EMF: one document (service, tenant, campaign) for `counts` (Attempts, Connects,
    HumanAnswered, Abandoned, RightPartyContacts, CallbacksRequested, ...), one per rule (service, tenant, campaign,
    rule) for `blocks` (metric Blocked). Zero counts are left out. Returns the documents printed."""
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    printed = 0
    groups: list[tuple[dict[str, str], dict[str, int]]] = [({}, {k: v for k, v in counts.items() if v})]
    groups += [({"rule": rule}, {"Blocked": n}) for rule, n in sorted((blocks or {}).items()) if n]
    for extra, values in groups:
        if not values:
            continue
        doc = EphemeralMetrics(namespace=namespace)
        doc.add_dimension(name="tenant", value=tenant_id)
        doc.add_dimension(name="campaign", value=campaign_id)
        for name, value in extra.items():
            doc.add_dimension(name=name, value=value)
        for name, n in values.items():
            doc.add_metric(name=name, unit=MetricUnit.Count, value=n)
        doc.flush_metrics()
        printed += 1
    return printed


def emit_tick_counts(ticks: Iterable[TickResult], *, namespace: str | None = None) -> dict[str, int]:
    """The dialing loop's counts (functions/dial_campaign: one call per invocation, after its sweeps): per
    campaign, Attempts, DialErrors, the simulated carrier's outcomes (Outcomes, HumanAnswered, Connects,
    Abandoned) and Blocked by rule summed over `ticks`, one EMF document per campaign (and per rule).
    Returns the totals, for the caller's dimensionless metrics."""
    per: dict[tuple[str, str], tuple[dict[str, int], dict[str, int]]] = {}
    for tick in ticks:
        counts, blocks = tick_metrics(tick.dialed, tick.blocks, tick.dial_errors)
        held_counts, held_blocks = per.setdefault((tick.tenant_id, tick.campaign_id), ({}, {}))
        for target, source in ((held_counts, counts), (held_counts, tick.outcome_counts), (held_blocks, blocks)):
            for name, n in source.items():
                target[name] = target.get(name, 0) + n
    totals: dict[str, int] = {}
    for (tenant_id, campaign_id), (counts, blocks) in sorted(per.items()):
        emit_campaign_counts(tenant_id, campaign_id, counts, blocks, namespace=namespace)
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
        totals["Blocked"] = totals.get("Blocked", 0) + sum(blocks.values())
    return totals
