"""Weeks of history for the demo tenant, generated in bulk and loaded at start (issue 14, item 3).

    history = generate(DEMO, end_day=yesterday)            # pure: no moto, no clock, seeded
    report = load_into_moto(table_name, history)            # History table items, straight into moto
    prepared = prepare(DEMO, end_day=yesterday)             # generate + items, cached per inputs and code

What is generated, per day of [end_day - days + 1, end_day] (tenant wall clock):
- arrivals: Poisson per 15-minute slot with the forecast's own synthetic shape
  (`ccaas.domain.forecast.SyntheticShape`: weekday factors, two intraday humps, one at weekends, weekly
  growth), split over the simulation's queue/channel mix (`local.simulation.DEFAULT_MIX`) plus SMS;
- a queue per contact: first come first served over the queue's seeded agents who are on shift (the
  agents' shifts and breaks are below), each customer with an exponential patience (none for email):
  who waits longer than their patience abandons. Service level, ASA and abandonment are what this
  M/G/N+M queue gives at the staffing it has, not numbers drawn from a hat;
- handling: talk (gamma), hold (some voice contacts), after-contact work; a share of first segments is
  transferred to another queue of its channel or escalated to the supervisors' queue, as the transfer
  feature records them (the segment ends TRANSFERRED with `next_contact_id`; the next one is
  initiation TRANSFER with `previous_contact_id`, the same `initial_contact_id`, `handover_mode`);
- outbound: sales calls on weekdays, placed by a sales agent free within two minutes (initiation
  OUTBOUND, never queued: handled, not offered; outside the FCR population);
- customers from a pool, a share of them coming back about the same reason within days (repeat
  contacts; the FCR flags are `ccaas.domain.kpis.repeats.repeat_flags` over the whole span, which is
  what the record-time refresh converges to);
- surveys (CSAT, CES, NPS) for a share of handled contacts, lower after long waits and transfers;
- transcripts for a share of voice and chat contacts, built from templates per reason with the
  phrases the default analytics rules know (complaints, escalation requests, legal threats, payment
  issues, cancellation risk, the recording disclosure, prohibited language) and run through the real
  analyzer (`ccaas.domain.analytics.analyze_transcript`); one analysis per distinct template variant,
  reused for every contact of that variant (its contact id and connection time swapped in);
- agent activity: per agent and hour of a shift, the time on contacts, in after-contact work and idle
  (occupancy and utilization read these), and breaks as NOT_READY.

Items are written in the layout of `ccaas.adapters.aws.history` (ENTRY with its GSI keys, SURVEY,
ANALYSIS, closed ACTIVITY spans); tests/local/test_demo_history.py reads them back through
`DynamoHistoryStore` and compares. Loading goes straight into moto's table objects (under the lock
the runtime's moto patch serialises DynamoDB requests with): through boto3 each item would be an HTTP
request and a botocore round trip (see `load_with_batch_writes`, kept for the measurement).

Measured (2-core machine shared with other work, 42 days: 11,860 contacts, 25,642 items): generate ~2 s,
write ~1.5-2 s straight into moto (~85 µs an item) against ~60 s through BatchWriteItem (2.4 ms an item);
`python -m local` ready in 11.0 s with the history against 7.4 s without (load average ~3). moto holds
~2 KB an item (~50 MB, tracemalloc); the process RSS grows ~165 MB (generation included).

Start-up (issue 14, "ready within 30 s"): the cyclic garbage collector is paused while the items are
generated and built (it walked the whole heap dozens of times: 2-5x the work itself); `prepare` keeps
the items of a start in .build/demo-history/ keyed by the inputs and the source code (cache_key), so
the next start of the day unpickles them (~0.2 s) instead of generating (~3 s); moto Items are built
with their scalar attribute values set directly.

With that many items moto's Query sorted the whole table and walked each returned attribute through its
generic serializer: local.moto_patches (patch 8, always applied) reads one partition instead and
writes a Query's JSON as is. GET /metrics/historical for a week: 26 s before, ~1.3 s after.
"""
from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import math
import os
import pickle
import random
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from local.memory_release import collector_paused
from local.seed import TenantSeed

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SLOT_MS = 900_000

# (queue id, channel, weight): the simulation's mix (local.simulation.DEFAULT_MIX) with SMS beside chat.
HISTORY_MIX: tuple[tuple[str, str, float], ...] = (
    ("sales", "VOICE", 0.38),
    ("support", "VOICE", 0.24),
    ("support", "CHAT", 0.18),
    ("support", "SMS", 0.05),
    ("billing", "EMAIL", 0.15),
)
# Reasons a queue's customers come with (the default analytics rules' reasons), weights.
QUEUE_REASONS: Mapping[str, tuple[tuple[str, float], ...]] = {
    "sales": (("sales", 0.75), ("cancellation", 0.15), ("billing", 0.10)),
    "support": (("technical_support", 0.45), ("account_access", 0.25), ("delivery", 0.20), ("cancellation", 0.10)),
    "billing": (("billing", 0.85), ("cancellation", 0.15)),
}
# History ends yesterday; the forecast use-case caches a day's series once it ended 2 days ago
# (usecases.forecasting.SETTLED_AFTER_MS), so the days up to end_day - 2 are cached at load.
SETTLED_DAYS = 2
OUTBOUND_WAIT_MS = 120_000  # an outbound call is placed by an agent free within this, else not at all


@dataclass(frozen=True)
class Shift:
    """An agent's working day: [start, end) local hours with a break (NOT_READY) of `break_min` at `break_at`."""

    start_h: float
    end_h: float
    break_at_h: float
    break_min: int = 30


EARLY = Shift(8.0, 16.5, 12.0)
MID = Shift(9.5, 18.0, 13.5)
LATE = Shift(11.5, 20.0, 15.5)
# agent -> (weekday shift, weekend shift or None): the demo's agents (local.seed.DEMO) cover 08:00-20:00,
# most of them around the morning peak.
SHIFTS: Mapping[str, tuple[Shift, Shift | None]] = {
    "ana": (EARLY, None), "ben": (MID, Shift(8.0, 16.0, 12.0)), "chloe": (EARLY, Shift(9.0, 17.0, 13.0)),
    "dev": (MID, None), "emma": (EARLY, None), "farid": (EARLY, None), "gita": (LATE, Shift(10.0, 18.0, 14.0)),
    "hugo": (LATE, Shift(12.0, 20.0, 16.0)), "sam": (MID, None),
}


@dataclass(frozen=True)
class HistoryPlan:
    """The knobs of the generator (defaults: a plausible small contact center, tuned to the demo's nine agents)."""

    days: int = 42
    seed: int = 14
    weekday_volume: float = 300.0  # contacts on a factor-1.0 weekday in the first week
    weekly_growth: float = 0.01
    open_hour: int = 8
    close_hour: int = 20
    mix: tuple[tuple[str, str, float], ...] = HISTORY_MIX
    talk_s: Mapping[str, float] = field(default_factory=lambda: {"VOICE": 270.0, "CHAT": 420.0, "SMS": 300.0, "EMAIL": 330.0})
    acw_s: Mapping[str, float] = field(default_factory=lambda: {"VOICE": 45.0, "CHAT": 30.0, "SMS": 20.0, "EMAIL": 60.0})
    patience_s: Mapping[str, float | None] = field(default_factory=lambda: {"VOICE": 100.0, "CHAT": 180.0, "SMS": 900.0, "EMAIL": None})
    hold_share: float = 0.12  # voice contacts put on hold once
    transfer_share: float = 0.06  # handled first segments transferred to another queue of the channel
    escalate_share: float = 0.02  # ... or escalated to the escalation queue
    repeat_share: float = 0.12  # arrivals that are a recent customer coming back about the same reason
    survey_share: float = 0.25  # handled contacts with a survey
    transcript_share: float = 0.35  # handled voice/chat contacts with an analysed transcript
    customers: int = 3000
    outbound_per_weekday: float = 12.0  # sales calls agents place between 10:00 and 17:00 (weekdays)


@dataclass
class GeneratedHistory:
    """What `generate` made: entries (record + survey answers + repeat flags + analysis summary), the
    surveys and full analyses stored beside them, and the agents' closed activity spans."""

    tenant_id: str
    first_day: date
    last_day: date
    entries: list[Any]  # ccaas.domain.history.HistoryEntry
    surveys: dict[str, Any]  # contact id -> ccaas.domain.history.Survey
    analyses: dict[str, str]  # contact id -> the full analysis as stored (JSON)
    activities: list[Any]  # ccaas.domain.kpis.records.AgentActivity
    # Per-day interval series of the settled days (ccaas.domain.planning.day_series), as the forecast
    # use-case caches them (usecases/forecasting.py: a day is settled SETTLED_AFTER_MS after its end).
    series: dict[date, Any] = field(default_factory=dict)
    time_zone: str = "UTC"  # the zone the series' days were cut in
    distinct_analyses: int = 0
    generate_s: float = 0.0

    def counts(self) -> dict[str, int]:
        records = [e.record for e in self.entries]
        return {
            "days": (self.last_day - self.first_day).days + 1,
            "contacts": len(records),
            "abandoned": sum(1 for r in records if r.abandoned),
            "transferred": sum(1 for r in records if r.transferred),
            "surveys": len(self.surveys),
            "analyses": len(self.analyses),
            "repeats": sum(1 for e in self.entries if e.is_repeat),
            "activity_spans": len(self.activities),
        }


# --- the queue model --------------------------------------------------------------------------------
@dataclass
class _Arrival:
    at: int
    seq: int
    queue_id: str
    channel: str
    reason: str
    customer_id: str
    patience_ms: int | None
    contact_id: str
    previous: str | None = None  # a transferred segment: the segment it came from
    initial: str | None = None
    handover_mode: str | None = None
    exclude_agent: str | None = None
    outbound: bool = False  # an agent's call: placed by the first free agent of the queue, never queued

    def __lt__(self, other: _Arrival) -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


@dataclass
class _Agent:
    agent_id: str
    queues: dict[str, int]  # queue id -> priority (1 first)
    windows: list[tuple[int, int]]  # on-shift windows (epoch ms), sorted
    free_at: int = 0
    busy: list[tuple[int, int, int]] = field(default_factory=list)  # (connected, disconnected, acw end)

    def start_at(self, t: int) -> int | None:
        """The first moment at or after t (and after its current work) this agent can take a contact."""
        t = max(t, self.free_at)
        for start, end in self.windows:
            if t < end:
                return max(t, start)
        return None


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _gamma_ms(rng: random.Random, mean_s: float, shape: float = 2.0) -> int:
    return max(1000, int(rng.gammavariate(shape, mean_s / shape) * 1000))


def _local_ms(day: date, hour: float, tz: ZoneInfo) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=hour)
    return int(moment.timestamp() * 1000)


def _agents(tenant: TenantSeed, days: Sequence[date], tz: ZoneInfo) -> tuple[list[_Agent], list[tuple[str, int, int]]]:
    """The tenant's agents with their shift windows, and the breaks (agent, start, end)."""
    agents, breaks = [], []
    for seed in tenant.agents:
        weekday_shift, weekend_shift = SHIFTS.get(seed.agent_id, (EARLY, None))
        windows = []
        for day in days:
            s = weekend_shift if day.weekday() >= 5 else weekday_shift
            if s is None:
                continue
            start, end = _local_ms(day, s.start_h, tz), _local_ms(day, s.end_h, tz)
            pause = _local_ms(day, s.break_at_h, tz)
            resume = pause + s.break_min * 60_000
            windows += [(start, pause), (resume, end)]
            breaks.append((seed.agent_id, pause, resume))
        agents.append(_Agent(seed.agent_id, {q: p for q, p in seed.queues}, windows))
    return agents, breaks


def generate(tenant: TenantSeed, *, end_day: date, plan: HistoryPlan = HistoryPlan()) -> GeneratedHistory:
    """`plan.days` days of history ending with `end_day` (a tenant-local date), deterministic for a seed."""
    with collector_paused():
        return _generate(tenant, end_day=end_day, plan=plan)


def _generate(tenant: TenantSeed, *, end_day: date, plan: HistoryPlan) -> GeneratedHistory:
    from ccaas.domain.history import HistoryEntry
    from ccaas.domain.kpis.repeats import repeat_flags
    from ccaas.domain.planning import day_series

    started = time.perf_counter()
    tz = ZoneInfo(tenant.time_zone)
    rng = random.Random(plan.seed)
    first_day = end_day - timedelta(days=plan.days - 1)
    days = [first_day + timedelta(days=i) for i in range(plan.days)]
    agents, breaks = _agents(tenant, days, tz)
    floor = _Floor(tenant, plan, rng, agents)
    records, waits = floor.serve(_arrivals(tenant, plan, rng, days, tz) + _outbound(tenant, plan, days, tz))
    analysed = _Analyses()
    summaries, analyses = _transcripts(records, plan, rng, analysed)
    surveys = _surveys(records, waits, plan, rng)

    # Repeat flags over the effective reasons (an analysed contact's is what its analysis classified,
    # HistoryEntry.kpi_record); its stored record has no reason of its own: the analysis classifies it.
    effective = [r if r.contact_id not in summaries else r.model_copy(update={"reason": summaries[r.contact_id].reason})
                 for r in records]
    flags = repeat_flags(effective, window_days=fcr_window_days())
    entries = []
    for r in records:
        cid = r.contact_id
        summary = summaries.get(cid)
        followed, repeat = flags.get(cid, (None, None))
        survey = surveys.get(cid)
        entries.append(HistoryEntry.model_construct(
            tenant_id=tenant.tenant_id, contact_id=cid,
            record=r if summary is None else r.model_copy(update={"reason": None}),
            csat=None if survey is None else survey.csat, ces=None if survey is None else survey.ces,
            nps=None if survey is None else survey.nps, followed_by_repeat=followed, is_repeat=repeat,
            analysis=summary, flow=None,
        ))
    by_day: dict[date, list[Any]] = defaultdict(list)
    for r in records:
        if r.enqueued_at is not None:
            by_day[datetime.fromtimestamp(r.enqueued_at / 1000, tz).date()].append(r)
    settled = end_day - timedelta(days=SETTLED_DAYS)
    return GeneratedHistory(
        tenant_id=tenant.tenant_id, first_day=first_day, last_day=end_day, entries=entries, surveys=surveys,
        analyses=analyses, activities=_activities(tenant.tenant_id, agents, breaks),
        series={day: day_series(by_day.get(day, ()), day=day, tz=tz) for day in days if day <= settled},
        time_zone=tz.key, distinct_analyses=len(analysed.cache), generate_s=time.perf_counter() - started,
    )


def _arrivals(tenant: TenantSeed, plan: HistoryPlan, rng: random.Random, days: Sequence[date], tz: ZoneInfo,
              ) -> list[_Arrival]:
    """Poisson arrivals per 15-minute slot of the forecast's synthetic shape, over the plan's mix; a share
    of them a recent customer of the queue coming back about the same reason."""
    from ccaas.domain.forecast import SyntheticShape, day_intervals

    queues = {q.queue_id for q in tenant.queues}
    mix = [(q, c, w) for q, c, w in plan.mix if q in queues]
    weights = [w for _, _, w in mix]
    shape = SyntheticShape(weekday_volume=plan.weekday_volume, weekly_growth=plan.weekly_growth,
                           open_hour=plan.open_hour, close_hour=plan.close_hour)
    pool = [f"hcust-{i:05d}" for i in range(plan.customers)] + [c.customer_id for c in tenant.customers]
    recent: dict[str, deque[tuple[int, str, str]]] = defaultdict(deque)  # queue -> (at, customer, reason)
    arrivals: list[_Arrival] = []
    for day in days:
        n_day = 0
        for local_start in day_intervals(day, tz):
            mean = shape.expected_offered(local_start, days[0])
            slot_ms = int(local_start.timestamp() * 1000)
            for _ in range(_poisson(rng, mean)):
                at = slot_ms + rng.randrange(SLOT_MS)
                queue_id, channel, _ = rng.choices(mix, weights)[0]
                reasons = QUEUE_REASONS.get(queue_id, (("other", 1.0),))
                seen = recent[queue_id]
                while seen and at - seen[0][0] > 6 * DAY_MS:
                    seen.popleft()
                if seen and rng.random() < plan.repeat_share:
                    _, customer, reason = seen[rng.randrange(len(seen))]
                else:
                    customer = rng.choice(pool)
                    reason = rng.choices([r for r, _ in reasons], [w for _, w in reasons])[0]
                seen.append((at, customer, reason))
                patience = plan.patience_s.get(channel)
                n_day += 1
                arrivals.append(_Arrival(
                    at=at, seq=len(arrivals), queue_id=queue_id, channel=channel, reason=reason, customer_id=customer,
                    patience_ms=None if patience is None else max(1000, int(rng.expovariate(1 / patience) * 1000)),
                    contact_id=f"hist-{day:%Y%m%d}-{n_day:04d}",
                ))
    return arrivals


def _outbound(tenant: TenantSeed, plan: HistoryPlan, days: Sequence[date], tz: ZoneInfo) -> list[_Arrival]:
    """Outbound sales calls on weekdays (their own random stream: the inbound history stays as it is)."""
    if "sales" not in {q.queue_id for q in tenant.queues}:
        return []
    rng = random.Random(plan.seed + 1)
    calls = []
    for day in days:
        if day.weekday() >= 5:
            continue
        for n in range(_poisson(rng, plan.outbound_per_weekday)):
            at = _local_ms(day, 10.0, tz) + rng.randrange(7 * HOUR_MS)
            calls.append(_Arrival(at=at, seq=-1 - len(calls), queue_id="sales", channel="VOICE", reason="sales",
                                  customer_id=f"hcust-{rng.randrange(plan.customers):05d}", patience_ms=None,
                                  contact_id=f"hist-{day:%Y%m%d}-o{n + 1:03d}", outbound=True))
    return calls


class _Floor:
    """The queues and the agents on shift: first come first served, each arrival to the queue's agent
    free first (then by the agent's priority for the queue); an arrival whose wait would exceed its
    patience abandons; a handled first segment may be transferred or escalated (a new arrival)."""

    def __init__(self, tenant: TenantSeed, plan: HistoryPlan, rng: random.Random, agents: list[_Agent]) -> None:
        self.tenant_id = tenant.tenant_id
        self.plan, self.rng, self.agents = plan, rng, agents
        self.queues = {q.queue_id: q for q in tenant.queues}
        self.escalation = (tenant.transfer_settings or {}).get("escalation_queue_id")
        self.by_channel: dict[str, list[str]] = defaultdict(list)
        for q in tenant.queues:
            if q.queue_id != self.escalation:
                for c in q.channels:
                    self.by_channel[c].append(q.queue_id)

    def serve(self, arrivals: list[_Arrival]) -> tuple[list[Any], dict[str, int]]:
        """(records in the order they were decided, queue wait of each answered contact)."""
        heap = list(arrivals)
        heapq.heapify(heap)
        seq = len(heap)
        records: list[Any] = []
        waits: dict[str, int] = {}
        while heap:
            a = heapq.heappop(heap)
            common = _record_fields(self.tenant_id, a, self.queues[a.queue_id].sl_threshold_s)
            chosen, connected = self._agent_for(a)
            if a.outbound:
                if chosen is not None and connected is not None and connected - a.at <= OUTBOUND_WAIT_MS:
                    records.append(self._outbound_call(common, chosen, connected))
                continue  # nobody free in time: the call was not placed
            if chosen is None or connected is None or (a.patience_ms is not None and connected - a.at > a.patience_ms):
                gave_up = a.at + (a.patience_ms if a.patience_ms is not None else DAY_MS)
                records.append(_record(common, final_state="ABANDONED", disconnected_at=gave_up, last_updated_at=gave_up))
                continue
            waits[a.contact_id] = connected - a.at
            plan, rng = self.plan, self.rng
            talk = _gamma_ms(rng, plan.talk_s[a.channel])
            hold = _gamma_ms(rng, 45.0, 3.0) if a.channel == "VOICE" and rng.random() < plan.hold_share else 0
            disconnected = connected + talk + hold
            acw_end = disconnected + _gamma_ms(rng, plan.acw_s[a.channel], 4.0)
            chosen.free_at = acw_end
            chosen.busy.append((connected, disconnected, acw_end))
            extra: dict[str, Any] = {}
            following = self._moved(a, disconnected, chosen.agent_id, seq + 1)
            if following is not None:
                seq += 1
                heapq.heappush(heap, following)
                extra = {"transferred": True, "next_contact_id": following.contact_id, "transferred_to_kind": "QUEUE"}
            records.append(_record(
                common, agent_id=chosen.agent_id, connected_at=connected, disconnected_at=disconnected,
                acw_ended_at=acw_end, hold_ms=hold, hold_count=1 if hold else 0,
                final_state="TRANSFERRED" if following is not None else "COMPLETED", last_updated_at=acw_end, **extra,
            ))
        return records, waits

    def _outbound_call(self, common: Mapping[str, Any], agent: _Agent, dialled: int) -> Any:
        connected = dialled + int(self.rng.uniform(8_000, 25_000))  # it rings
        disconnected = connected + _gamma_ms(self.rng, self.plan.talk_s["VOICE"] * 0.8)
        acw_end = disconnected + _gamma_ms(self.rng, self.plan.acw_s["VOICE"], 4.0)
        agent.free_at = acw_end
        agent.busy.append((dialled, disconnected, acw_end))
        return _record({**common, "initiated_at": dialled}, agent_id=agent.agent_id, connected_at=connected,
                       disconnected_at=disconnected, acw_ended_at=acw_end, final_state="COMPLETED",
                       last_updated_at=acw_end)

    def _agent_for(self, a: _Arrival) -> tuple[_Agent | None, int | None]:
        best: tuple[int, int, str] | None = None
        chosen: _Agent | None = None
        for agent in self.agents:
            priority = agent.queues.get(a.queue_id)
            if priority is None or agent.agent_id == a.exclude_agent:
                continue
            start = agent.start_at(a.at)
            if start is None:
                continue
            key = (start, priority, agent.agent_id)
            if best is None or key < best:
                best, chosen = key, agent
        return chosen, None if best is None else best[0]

    def _moved(self, a: _Arrival, at: int, agent_id: str, seq: int) -> _Arrival | None:
        """The next segment when the agent moves this first voice/chat segment on (else None)."""
        if a.previous is not None or a.channel not in ("VOICE", "CHAT"):
            return None
        draw = self.rng.random()
        if draw < self.plan.transfer_share:
            mode = "BLIND"
            others = [q for q in self.by_channel.get(a.channel, []) if q != a.queue_id] or [a.queue_id]
            target = self.rng.choice(others)
        elif draw < self.plan.transfer_share + self.plan.escalate_share and self.escalation in self.queues:
            mode, target = "ESCALATION", self.escalation
        else:
            return None
        return _Arrival(
            at=at, seq=seq, queue_id=target, channel=a.channel, reason=a.reason, customer_id=a.customer_id,
            patience_ms=None if a.patience_ms is None else a.patience_ms * 3, contact_id=f"{a.contact_id}-t",
            previous=a.contact_id, initial=a.initial or a.contact_id, handover_mode=mode, exclude_agent=agent_id,
        )


def _transcripts(records: Sequence[Any], plan: HistoryPlan, rng: random.Random, analysed: _Analyses,
                 ) -> tuple[dict[str, Any], dict[str, str]]:
    """(contact id -> analysis summary, contact id -> full analysis JSON) for a share of the handled voice
    and chat contacts, one real analysis per distinct transcript variant."""
    summaries: dict[str, Any] = {}
    analyses: dict[str, str] = {}
    for record in records:
        if (record.connected_at is None or record.channel.value not in ("VOICE", "CHAT")
                or rng.random() >= plan.transcript_share):
            continue
        summary, document = analysed.of(_variant(rng, record))
        analyses[record.contact_id] = document(record.contact_id, record.connected_at)
        summaries[record.contact_id] = summary.model_copy(update={"analyzed_at": (record.acw_ended_at or 0) + 60_000})
    return summaries, analyses


def _surveys(records: Sequence[Any], waits: Mapping[str, int], plan: HistoryPlan, rng: random.Random) -> dict[str, Any]:
    """Surveys of a share of the handled contacts (not the segments moved on): lower after a long wait,
    a transfer or a hold."""
    from ccaas.domain.history import Survey

    surveys: dict[str, Any] = {}
    for record in records:
        if record.connected_at is None or record.customer_id is None or record.transferred:
            continue
        if rng.random() >= plan.survey_share:
            continue
        mood = -min(1.5, waits.get(record.contact_id, 0) / 120_000)
        mood -= 0.8 if record.initiation_method == "TRANSFER" else 0.0
        mood -= 0.5 * bool(record.hold_ms)
        csat = _clamp(round(rng.gauss(4.2 + mood, 0.9)), 1, 5)
        ces = _clamp(round(rng.gauss(2.4 - mood, 1.1)), 1, 7)
        nps = _clamp(round(rng.gauss(8.0 + 1.5 * mood, 1.8)), 0, 10)
        surveys[record.contact_id] = Survey(csat=csat, ces=ces, nps=nps,
                                            submitted_at=(record.acw_ended_at or 0) + rng.randrange(60_000, 3_600_000))
    return surveys


def fcr_window_days() -> int:
    """The FCR window the flags are computed with: the KPI settings' default (the demo sets none)."""
    from ccaas.domain.kpis.settings import KpiSettings

    return KpiSettings().fcr_window_days


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _record_fields(tenant_id: str, a: _Arrival, sl_threshold_s: int) -> dict[str, Any]:
    method = "OUTBOUND" if a.outbound else "TRANSFER" if a.previous else "INBOUND"
    return {
        "tenant_id": tenant_id, "contact_id": a.contact_id, "channel": a.channel, "initiation_method": method,
        "queue_id": a.queue_id, "reason": a.reason, "customer_id": a.customer_id, "previous_contact_id": a.previous,
        "initial_contact_id": a.initial, "handover_mode": a.handover_mode, "initiated_at": a.at,
        "enqueued_at": None if a.outbound else a.at, "sl_threshold_s": sl_threshold_s,
    }


def _record(common: Mapping[str, Any], **values: Any) -> Any:
    from ccaas.domain.kpis.records import ContactRecord

    return ContactRecord.model_validate({**common, **values})


# --- transcripts ---------------------------------------------------------------------------------------
_OPENERS = {
    "sales": "i'd like a quote for the new plan, what is the price if i upgrade",
    "cancellation": "i want to cancel my subscription, please close my account",
    "billing": "there is a charge on my bill i don't understand, the invoice looks wrong",
    "technical_support": "my internet is not working, the router shows an error and keeps crashing",
    "account_access": "i'm locked out, my password and login don't work",
    "delivery": "my package hasn't arrived, where is my order, the tracking shows nothing",
}
_CLOSERS = {
    "sales": "great, please sign up and add a line too",
    "cancellation": "yes, terminate it at the end of the month",
    "billing": "so the refund goes on the next statement",
    "technical_support": "a reboot fixed the connection, thanks",
    "account_access": "the verification code worked, i can access my account",
    "delivery": "the courier will bring the parcel tomorrow",
}


@dataclass(frozen=True)
class _Variant:
    channel: str
    reason: str
    disclosure: bool  # the agent says the recording disclosure in the first 30 s (voice)
    complaint: bool
    escalation: bool
    legal: bool
    payment: bool
    prohibited: bool
    debt: bool  # a past-due balance is mentioned (mini miranda applies)
    warm: bool  # a friendlier conversation (sentiment)


def _variant(rng: random.Random, record: Any) -> _Variant:
    reason = record.reason or "other"
    escalated = record.handover_mode == "ESCALATION" or record.queue_id == "supervisors"
    return _Variant(
        channel=record.channel.value, reason=reason,
        disclosure=record.channel.value == "VOICE" and rng.random() < 0.92,
        complaint=rng.random() < (0.35 if record.initiation_method == "TRANSFER" else 0.12),
        escalation=escalated or rng.random() < 0.04,
        legal=rng.random() < 0.02,
        payment=reason == "billing" and rng.random() < 0.5,
        prohibited=rng.random() < 0.01,
        debt=reason == "billing" and rng.random() < 0.1,
        warm=rng.random() < 0.6,
    )


def transcript_turns(v: _Variant) -> list[tuple[str, str]]:
    """(speaker, text) turns of a variant's conversation."""
    turns: list[tuple[str, str]] = []
    if v.disclosure:
        turns.append(("AGENT", "thank you for calling, this call may be recorded for quality and training"))
    else:
        turns.append(("AGENT", "thank you for contacting us, how can i help you today"))
    turns.append(("CUSTOMER", _OPENERS.get(v.reason, "i have a question about my account")))
    if v.payment:
        turns.append(("CUSTOMER", "i was charged twice and there is a late fee"))
    if v.complaint:
        turns.append(("CUSTOMER", "this is unacceptable, i'm not happy and i want to make a complaint"))
    if v.escalation:
        turns.append(("CUSTOMER", "i want to speak to a supervisor about this"))
    if v.legal:
        turns.append(("CUSTOMER", "if this is not fixed my lawyer will take legal action"))
    if v.debt:
        turns.append(("AGENT", "i see a past due balance on the account"))
    agent = "i understand, let me look into that for you" if v.warm else "ok, one moment"
    turns.append(("AGENT", agent))
    if v.prohibited:
        turns.append(("AGENT", "honestly that is not my problem"))
    turns.append(("CUSTOMER", _CLOSERS.get(v.reason, "ok")))
    turns.append(("AGENT", "thank you, have a great day" if v.warm else "anything else"))
    turns.append(("CUSTOMER", "thanks, that was really helpful" if v.warm else "no, bye"))
    return turns


_CID = "@@contact-id@@"
_CONNECTED = 987_654_321_987_654  # placeholder, swapped for the contact's connection time


class _Analyses:
    """One real analysis per variant; each contact of the variant gets it with its own id and time."""

    def __init__(self) -> None:
        from ccaas.domain.analytics import AnalyticsRules

        self.rules = AnalyticsRules.default()
        self.cache: dict[_Variant, tuple[Any, Any]] = {}

    def of(self, v: _Variant) -> tuple[Any, Any]:
        hit = self.cache.get(v)
        if hit is None:
            hit = self.cache[v] = self._analyse(v)
        return hit

    def _analyse(self, v: _Variant) -> tuple[Any, Any]:
        from ccaas.domain.analytics import analyze_transcript, parse_chat_messages, parse_segments
        from ccaas.domain.history import AnalysisSummary

        turns = transcript_turns(v)
        if v.channel == "VOICE":
            items, t = [], 0
            for speaker, text in turns:
                length = 1200 + 60 * len(text)
                items.append({"speaker": speaker, "begin_ms": t, "end_ms": t + length, "text": text})
                t += length + 400
            transcript = parse_segments(items, "template", connected_at_ms=0)
        else:
            messages = [{"participant_role": s, "content": text, "absolute_time": 1_000 + 20_000 * i}
                        for i, (s, text) in enumerate(turns)]
            transcript = parse_chat_messages(messages, "template", connected_at=0)
        analysis = analyze_transcript(transcript, self.rules)
        summary = AnalysisSummary.of(analysis, analyzed_at=0, fallback_reason=self.rules.reasons.fallback)
        document = analysis.model_dump(mode="json")
        document["segment_texts_dropped"] = 0  # as usecases.analytics._bounded stores it
        document.update(contact_id=_CID, connected_at_ms=_CONNECTED)
        text = json.dumps(document, separators=(",", ":"))

        def stored(contact_id: str, connected_at: int) -> str:
            return text.replace(f'"{_CID}"', json.dumps(contact_id)).replace(str(_CONNECTED), str(connected_at))

        return summary, stored


# --- agent activity ------------------------------------------------------------------------------------
def _activities(tenant_id: str, agents: Sequence[_Agent], breaks: Sequence[tuple[str, int, int]]) -> list[Any]:
    """Per agent and hour of its shift: ON_CONTACT, then ACW, then AVAILABLE_IDLE spans holding that
    hour's totals (exact per hour, contiguous for the reader); breaks are NOT_READY."""
    from ccaas.domain.kpis.records import ActivityKind, AgentActivity

    spans: list[Any] = []
    for agent in agents:
        by_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # hour start -> [on contact ms, acw ms]
        for connected, disconnected, acw_end in agent.busy:
            for start, end, index in ((connected, disconnected, 0), (disconnected, acw_end, 1)):
                t = start
                while t < end:
                    hour = t - t % HOUR_MS
                    stop = min(end, hour + HOUR_MS)
                    by_hour[hour][index] += stop - t
                    t = stop
        for start, end in agent.windows:
            hour = start - start % HOUR_MS
            while hour < end:
                lo, hi = max(start, hour), min(end, hour + HOUR_MS)
                on, acw = by_hour.get(hour, (0, 0))
                # a window shares its hour with another (a break in the middle): split the hour's work
                share = (hi - lo) / HOUR_MS if (lo, hi) != (hour, hour + HOUR_MS) else 1.0
                on, acw = int(on * share), int(acw * share)
                on = min(on, hi - lo)
                acw = min(acw, hi - lo - on)
                t = lo
                for kind, length in ((ActivityKind.ON_CONTACT, on), (ActivityKind.ACW, acw),
                                     (ActivityKind.AVAILABLE_IDLE, hi - lo - on - acw)):
                    if length > 0:
                        spans.append(AgentActivity(agent_id=agent.agent_id, tenant_id=tenant_id, start_ms=t,
                                                   end_ms=t + length, kind=kind))
                        t += length
                hour += HOUR_MS
    for agent_id, start, end in breaks:
        spans.append(AgentActivity(agent_id=agent_id, tenant_id=tenant_id, start_ms=start, end_ms=end,
                                   kind=ActivityKind.NOT_READY))
    spans.sort(key=lambda s: (s.start_ms, s.agent_id))
    return spans


# --- the History table's items -------------------------------------------------------------------------
def _utc_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def history_items(history: GeneratedHistory) -> Iterator[dict[str, Any]]:
    """The History table items of `history`, in ccaas.adapters.aws.history's layout."""
    from ccaas.adapters.aws.history import contact_pk, day_pk
    from ccaas.domain.history import anchor_time

    tenant = history.tenant_id
    for entry in history.entries:
        record = entry.record
        cid = entry.contact_id
        pk = {"S": contact_pk(tenant, cid)}
        anchor = anchor_time(record)
        item: dict[str, Any] = {
            "pk": pk, "sk": {"S": "ENTRY"},
            "rec": {"S": record.model_dump_json(exclude_defaults=True)}, "lu": {"N": str(record.last_updated_at)},
            "day_pk": {"S": day_pk(tenant, anchor)}, "day_sk": {"S": f"{anchor:013d}#{cid}"},
        }
        if record.customer_id:
            item["cust_pk"] = {"S": f"{tenant}#CUST#{record.customer_id}"}
            item["cust_sk"] = {"S": f"{anchor:013d}#{cid}"}
        for name in ("csat", "ces", "nps"):
            value = getattr(entry, name)
            if value is not None:
                item[f"s_{name}"] = {"N": str(value)}
        if entry.followed_by_repeat is not None:
            item["fbr"] = {"BOOL": entry.followed_by_repeat}
        if entry.is_repeat is not None:
            item["rpt"] = {"BOOL": entry.is_repeat}
        if entry.analysis is not None:
            item["an"] = {"S": entry.analysis.model_dump_json()}
        yield item
        survey = history.surveys.get(cid)
        if survey is not None:
            yield {"pk": pk, "sk": {"S": "SURVEY"}, "survey": {"S": survey.model_dump_json()}}
        analysis = history.analyses.get(cid)
        if analysis is not None:
            yield {"pk": pk, "sk": {"S": "ANALYSIS"}, "analysis": {"S": analysis}}
    from ccaas.usecases.forecasting import series_cache_item

    for day, series in history.series.items():  # as the forecast caches them: a first forecast reads, never computes
        yield {"pk": {"S": f"{tenant}#SERIES"}, "sk": {"S": day.isoformat()},
               "series": {"S": json.dumps(series_cache_item(history.time_zone, series), separators=(",", ":"))}}
    for span in history.activities:
        yield {
            "pk": {"S": f"{tenant}#ACTIVITY#{_utc_date(span.start_ms)}"},
            "sk": {"S": f"{span.start_ms:013d}#{span.agent_id}"},
            "span": {"S": json.dumps({"agent_id": span.agent_id, "start_ms": span.start_ms, "end_ms": span.end_ms,
                                      "kind": span.kind.value}, separators=(",", ":"))},
        }


@dataclass
class LoadReport:
    items: int = 0
    generate_s: float = 0.0
    write_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    method: str = ""
    first_day: date | None = None
    last_day: date | None = None

    @property
    def total_s(self) -> float:
        return self.generate_s + self.write_s


_MAX_DIRECT_ITEM_BYTES = 350_000  # below DynamoDB's 400 KB item limit, which moto's own put checks


def _moto_item(item: Mapping[str, Any]) -> Any:
    """A moto Item built the way moto's own `Item.__deepcopy__` builds one: without LimitedSizeDict's
    per-attribute re-measuring of the whole item (quadratic in attributes, ~0.3 ms an item here), and
    each scalar attribute (S, N, BOOL: all a history item has) set as DynamoType.__init__ sets it."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    new = object.__new__

    def value(typed: Mapping[str, Any]) -> Any:
        for kind, raw in typed.items():
            if kind in ("L", "M"):
                return DynamoType(typed)  # nested: moto's own recursion
            built = new(DynamoType)
            built.type, built.value = kind, raw
            return built
        return DynamoType(typed)  # pragma: no cover - an empty attribute value: moto's error

    built = new(Item)
    built.hash_key = value(item["pk"])
    built.range_key = value(item["sk"])
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, {name: value(v) for name, v in item.items()})
    built.attrs = attrs
    return built


def _size(item: Mapping[str, Any]) -> int:
    return sum(len(k) + len(next(iter(v.values())).__str__()) for k, v in item.items())


@dataclass
class PreparedHistory:
    """The History table items of a GeneratedHistory with what its LoadReport says: plain data (dicts
    of strings), quick to pickle, so a start on the same day with the same code reuses them (prepare)."""

    tenant_id: str
    first_day: date
    last_day: date
    items: list[dict[str, Any]]
    counts: dict[str, int]
    generate_s: float = 0.0
    cached: bool = False

    @classmethod
    def of(cls, history: GeneratedHistory) -> PreparedHistory:
        return cls(tenant_id=history.tenant_id, first_day=history.first_day, last_day=history.last_day,
                   items=list(history_items(history)), counts=history.counts(), generate_s=history.generate_s)


CACHE_DIR = Path(__file__).resolve().parent.parent / ".build" / "demo-history"
CACHE_FILES = 3
_CACHE_FORMAT = 1
# What the items depend on: this generator, the seeded tenants, and the ccaas package (records, analyzer,
# rules, repeat flags, interval series, the History table's layout).
_CACHE_SOURCES = (Path(__file__).resolve(), Path(__file__).resolve().parent / "seed.py")
_CCAAS = Path(__file__).resolve().parent.parent / "layers" / "ccaas"


def cache_key(tenant: TenantSeed, end_day: date, plan: HistoryPlan, *, ccaas_dir: Path = _CCAAS) -> str:
    """A digest of everything the items depend on: the inputs and the content of every source file
    they are made by (a code change, a pulled commit, another tenant or plan: another key)."""
    digest = hashlib.sha256(repr((_CACHE_FORMAT, tenant, end_day.isoformat(), plan)).encode())
    files = [*_CACHE_SOURCES, *sorted(ccaas_dir.rglob("*.py")), *sorted(ccaas_dir.rglob("*.json"))]
    for path in files:
        digest.update(str(path.relative_to(path.parent.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def prepare(tenant: TenantSeed, *, end_day: date, plan: HistoryPlan = HistoryPlan(),
            cache_dir: Path | None = CACHE_DIR) -> PreparedHistory:
    """generate + history_items, reusing the items of an earlier start with the same cache_key (the
    second `make run` of a day skips the ~3 s of generation); cache_dir None: no cache. The cache keeps
    the CACHE_FILES latest keys (parallel test workers ask for different plans): 42 days are ~50 MB."""
    if cache_dir is None:
        return PreparedHistory.of(generate(tenant, end_day=end_day, plan=plan))
    path = cache_dir / f"history-{cache_key(tenant, end_day, plan)}.pickle"
    if path.is_file():
        started = time.perf_counter()
        try:
            with collector_paused(), path.open("rb") as f:
                prepared = pickle.load(f)  # our own file, under the repository's .build/ (never fetched)
            if isinstance(prepared, PreparedHistory):
                prepared.cached = True
                prepared.generate_s = time.perf_counter() - started  # what this start spent on it
                return prepared
        except Exception:  # noqa: BLE001 - a torn or older file: generate again
            pass
    prepared = PreparedHistory.of(generate(tenant, end_day=end_day, plan=plan))
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(prepared, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        kept = sorted(cache_dir.glob("history-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[CACHE_FILES:]:
            if old != path:
                old.unlink(missing_ok=True)
    return prepared


def load_into_moto(table_name: str, history: GeneratedHistory | PreparedHistory, *, account_id: str = "123456789012",
                   region: str = "us-east-1", chunk: int = 2000, progress: Any = None) -> LoadReport:
    """Put every item straight into moto's table (the process's own moto), `chunk` items per hold of
    the DynamoDB lock (local.moto_patches) so requests being served interleave. Nothing reaches the
    table's stream: history is not news for the stream consumers."""
    from moto.dynamodb.models import dynamodb_backends

    from local.moto_patches import DYNAMODB_LOCK, forget_index_maps

    table = dynamodb_backends[account_id][region].get_table(table_name)
    if table.hash_key_attr != "pk" or table.range_key_attr != "sk":
        raise RuntimeError(f"{table_name} is not keyed (pk, sk) as ccaas.adapters.aws.history expects")
    prepared = history if isinstance(history, PreparedHistory) else PreparedHistory.of(history)
    items = prepared.items
    started = time.perf_counter()
    with collector_paused():
        for i in range(0, len(items), chunk):
            with DYNAMODB_LOCK:
                for item in items[i:i + chunk]:
                    if _size(item) > _MAX_DIRECT_ITEM_BYTES:
                        table.put_item(item)  # moto measures it (and refuses it when too large)
                        continue
                    built = _moto_item(item)
                    table.items[built.hash_key][built.range_key] = built
                forget_index_maps(table)  # written beside the requests: index Queries build their maps again
            if progress is not None:
                progress(min(len(items), i + chunk), len(items))
    return LoadReport(items=len(items), generate_s=prepared.generate_s, write_s=time.perf_counter() - started,
                      counts=prepared.counts, method="moto backend" + (", cached items" if prepared.cached else ""),
                      first_day=prepared.first_day, last_day=prepared.last_day)


def load_with_batch_writes(client: Any, table_name: str, history: GeneratedHistory) -> LoadReport:
    """The same items through boto3's BatchWriteItem, 25 per call (kept to measure against load_into_moto)."""
    items = list(history_items(history))
    started = time.perf_counter()
    for i in range(0, len(items), 25):
        requests: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in items[i:i + 25]]
        while requests:
            unprocessed = client.batch_write_item(RequestItems={table_name: requests}).get("UnprocessedItems", {})
            requests = unprocessed.get(table_name, [])
    return LoadReport(items=len(items), generate_s=history.generate_s, write_s=time.perf_counter() - started,
                      counts=history.counts(), method="BatchWriteItem", first_day=history.first_day,
                      last_day=history.last_day)


def yesterday(time_zone: str, now_ms: int | None = None) -> date:
    """The tenant-local day before today (history ends there: today belongs to the live traffic)."""
    now = time.time() * 1000 if now_ms is None else now_ms
    return datetime.fromtimestamp(now / 1000, ZoneInfo(time_zone)).date() - timedelta(days=1)


def summary_line(report: LoadReport) -> str:
    c = report.counts
    return (f"{c.get('days', 0)} days ({report.first_day} .. {report.last_day}): {c.get('contacts', 0)} contacts, "
            f"{c.get('abandoned', 0)} abandoned, {c.get('transferred', 0)} transferred, {c.get('repeats', 0)} repeats, "
            f"{c.get('surveys', 0)} surveys, {c.get('analyses', 0)} transcripts, {c.get('activity_spans', 0)} activity spans "
            f"({report.items} items in {report.total_s:.1f} s)")
