"""Offline replay: a discrete-event simulation of a day of contacts against a routing policy, using
the very engine functions the use-cases call (plan_contact, select_agent, select_contact,
estimate_wait, decide_callback, AgentIndex). Pure: no I/O, no clock; deterministic for a seed.

Model
- Arrivals: Poisson per queue with a piecewise-constant rate (contacts per hour per interval, the
  list cycling over the day), or an explicit list of contacts (a recorded day).
- Handle time: exponential or lognormal (mean aht_s, coefficient of variation handle_cv), optionally
  scaled by the agent's proficiency on the queue's skill (handle_factor_by_proficiency).
- Patience: exponential with mean patience_s (None = nobody abandons); a contact still waiting when
  its patience runs out abandons.
- Agents: groups with skills (a list of levels is cycled over the group), a routing profile (the
  policy's `profiles` override the day's, so a policy can change who serves what), channel capacity
  and a shift. A reservation is accepted at once (no reject/timeout in the simulator).
- Callbacks: when the policy offers a callback (estimated wait above its limit), the customer takes
  it with probability callback_accept; a callback keeps its place and never abandons.
- Common random numbers: each queue draws its arrivals and each contact's handle time, patience,
  segment and customer from streams seeded by (seed, queue), so two policies replay the same day.
- Transfers (DOMAIN "Moving work between people"): a queue's `transfer_share` of handled contacts is
  transferred, at the end of handling, into its `transfer_to` queue as a new segment (initiation
  TRANSFER, same initial contact, not offered back to its sender, priority kept or raised by the
  target's plan, a handle time and patience drawn from the target queue's distributions); a target
  queue closed by its hours refuses it, and a customer contact has at most `max_segments` segments.
  Whether a contact is transferred, and its new segment's draws, come from the sender queue's own
  stream seeded by (seed, queue, "transfers"), drawn only when its share is above 0: a day without
  transfers replays exactly as before. Queue counters are per segment, in the queue it entered; a
  segment counts (offered, transferred in) when it arrives after warmup_s, so one sent on from a
  contact that arrived during the warmup counts in its new queue but not out of the old one.
Events (heapq, ties in insertion order): arrival, abandon, end of handling, step/delay recheck (a
contact's step relaxes or a profile delay elapses: it is offered again), shift start/end.
Statistics cover contacts arriving after warmup_s (DOMAIN.md definitions: SL = answered within T ÷
(offered − abandoned within T); ASA over answered; abandonment = abandoned ÷ offered, short abandons
(< 5 s) excluded from both; transfer rate = segments handled there that were transferred ÷ handled
there; occupancy = busy ÷ staffed time of the agents serving the queue, measured
from warmup_s to the end of the day). Contacts still waiting when the run stops (day end + drain_s)
count as offered, not answered.

Watching a run: replay(..., observer=ReplayObserver subclass) is told each counted event as it happens
(a contact queued, answered, abandoned; an agent's busy and staffed spans within the measured window),
e.g. to count per interval (local.day_report). An observer only sees: the result is the same with or
without one.
"""
from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Mapping
from itertools import islice
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccaas.domain.models import (
    DEFAULT_CAPACITY,
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    InitiationMethod,
    Queue,
    QueueAssignment,
    SkillRequirement,
)
from ccaas.domain.routing_engine import (
    AgentIndex,
    JourneyContext,
    PastContact,
    QueueStats,
    RoutingPlan,
    RoutingPolicy,
    current_step,
    decide_callback,
    estimate_wait,
    plan_contact,
    position_in_queue,
    select_agent,
    select_contact,
    waiting_order,
)

__all__ = ["AgentGroup", "ArrivalProfile", "Day", "QueueResult", "RecordedContact", "ReplayObserver", "ReplayResult",
           "SimQueue", "example_day", "metrics_from_counts", "pool", "pool_runs", "replay"]

_TENANT = "replay"
SHORT_ABANDON_S = 5.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArrivalProfile(_Frozen):
    rates_per_hour: tuple[float, ...] = Field(min_length=1, description="one rate per interval, cycled")
    interval_s: int = Field(default=3600, gt=0)


class SimQueue(_Frozen):
    queue_id: str
    channel: Channel = Channel.VOICE
    sl_threshold_s: int = 20
    sl_target: float = 0.8
    required_skills: tuple[SkillRequirement, ...] = ()
    skill: str | None = Field(default=None, description="skill whose level scales handle time")
    arrivals: ArrivalProfile | None = None
    aht_s: float = Field(default=180, gt=0)
    handle: Literal["exponential", "lognormal"] = "exponential"
    handle_cv: float = Field(default=1.0, gt=0, description="lognormal only")
    patience_s: float | None = Field(default=None, gt=0)
    segments: dict[str, float] = Field(default_factory=dict, description="segment → probability")
    callback_accept: float = Field(default=0.0, ge=0, le=1)
    reasons: tuple[str, ...] = ()
    transfer_share: float = Field(default=0.0, ge=0, le=1,
                                  description="share of handled contacts transferred to `transfer_to` at the end of handling")
    transfer_to: str | None = Field(default=None, description="the queue transferred contacts go to (same channel)")


class AgentGroup(_Frozen):
    prefix: str
    count: int = Field(ge=0)
    skills: dict[str, int | tuple[int, ...]] = Field(default_factory=dict)
    profile: str | None = None
    queues: tuple[QueueAssignment, ...] = ()
    capacity: dict[Channel, int] | None = None
    shift_start_s: float = 0
    shift_end_s: float | None = None


class RecordedContact(_Frozen):
    contact_id: str
    arrival_s: float
    queue_id: str
    handle_s: float
    patience_s: float | None = None
    segment: str | None = None
    customer_id: str | None = None
    reason: str | None = None
    priority: int = 5


class Day(_Frozen):
    name: str = "day"
    start_ms: int = Field(default=1_704_067_200_000, description="epoch ms of t = 0 (for hours of operation)")
    duration_s: float = Field(default=86_400, gt=0)
    warmup_s: float = Field(default=0, ge=0)
    drain_s: float = Field(default=7_200, ge=0)
    seed: int = 1
    queues: tuple[SimQueue, ...]
    agents: tuple[AgentGroup, ...]
    profiles: dict[str, tuple[QueueAssignment, ...]] = Field(default_factory=dict)
    contacts: tuple[RecordedContact, ...] = ()
    customers: int = Field(default=0, ge=0, description="customer pool size (0 = anonymous contacts)")
    handle_factor_by_proficiency: dict[int, float] = Field(default_factory=dict)
    waiting_scan: int = Field(default=30, ge=1, description="waiting contacts per queue shown to a free agent")
    max_segments: int = Field(default=10, ge=2, description="segments one customer contact may have (stops loops)")

    @model_validator(mode="after")
    def _known_queues(self) -> Day:
        known = {q.queue_id for q in self.queues}
        if len(known) != len(self.queues):
            raise ValueError("queue ids must be unique")
        unknown = {c.queue_id for c in self.contacts} - known
        if unknown:
            raise ValueError(f"recorded contacts name unknown queues {sorted(unknown)}")
        channels = {q.queue_id: q.channel for q in self.queues}
        for q in self.queues:
            if q.transfer_share > 0 and q.transfer_to not in known:
                raise ValueError(f"queue {q.queue_id}: transfer_share needs transfer_to naming a known queue")
            if q.transfer_share > 0 and channels[q.transfer_to] != q.channel:  # type: ignore[index]
                raise ValueError(f"queue {q.queue_id}: transfer_to {q.transfer_to} takes no {q.channel} contacts")
        prefixes = [g.prefix for g in self.agents]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("agent group prefixes must be unique")
        return self


class QueueResult(_Frozen):
    queue_id: str
    offered: int
    answered: int
    abandoned: int
    answered_within_t: int
    abandoned_within_t: int
    short_abandoned: int
    wait_s: float
    handle_s: float
    handled: int
    busy_s: float
    staffed_s: float
    deflected: int
    closed: int
    callbacks: int
    unanswered_at_end: int
    service_level: float | None
    asa_s: float | None
    abandonment: float | None
    occupancy: float | None
    aht_s: float | None
    transferred_out: int = Field(default=0, description="segments handled here and transferred at the end")
    transferred_in: int = Field(default=0, description="segments transferred into this queue (each also offered here)")
    transfer_rate: float | None = Field(default=None, description="transferred_out ÷ handled")


def metrics_from_counts(qid: str, c: Mapping[str, float]) -> QueueResult:
    """A QueueResult from summed counts (the keys of _COUNTS), by the definitions of the module docstring:
    what a replay reports for a queue, and what an observer's counts per interval give (local.day_report)."""
    return _metrics(qid, c)


def _metrics(qid: str, c: Mapping[str, float]) -> QueueResult:
    denom = c["offered"] - c["abandoned_within_t"]
    ab_denom = c["offered"] - c["short_abandoned"]
    return QueueResult(
        queue_id=qid, **{k: c[k] for k in _COUNTS},
        unanswered_at_end=int(c["offered"] - c["answered"] - c["abandoned"]),
        service_level=c["answered_within_t"] / denom if denom > 0 else None,
        asa_s=c["wait_s"] / c["answered"] if c["answered"] else None,
        abandonment=(c["abandoned"] - c["short_abandoned"]) / ab_denom if ab_denom > 0 else None,
        occupancy=c["busy_s"] / c["staffed_s"] if c["staffed_s"] else None,
        aht_s=c["handle_s"] / c["handled"] if c["handled"] else None,
        transfer_rate=c["transferred_out"] / c["handled"] if c["handled"] else None,
    )


_COUNTS = ("offered", "answered", "abandoned", "answered_within_t", "abandoned_within_t", "short_abandoned",
           "wait_s", "handle_s", "handled", "busy_s", "staffed_s", "deflected", "closed", "callbacks",
           "transferred_out", "transferred_in")


def pool(results: list[QueueResult], queue_id: str | None = None) -> QueueResult:
    """Metrics of several results together (e.g. seeds or days), from their summed counts."""
    sums = {k: sum(getattr(r, k) for r in results) for k in _COUNTS}
    return _metrics(queue_id or results[0].queue_id, sums)


class ReplayResult(_Frozen):
    day: str
    policy: str
    seed: int
    queues: tuple[QueueResult, ...]
    total: QueueResult
    decisions: int
    events: int


class SimContact(Contact):
    routing: RoutingPlan | None = None


class SimAgent(Agent):
    routing_profile_id: str | None = None


class _Tally:
    __slots__ = ("offered", "answered", "abandoned", "short", "ans_t", "aban_t", "wait_ms", "deflected", "closed",
                 "callbacks", "handle_ms", "handled", "open", "xfer_out", "xfer_in")

    def __init__(self) -> None:
        for k in self.__slots__:
            setattr(self, k, 0)


class _Meta:
    __slots__ = ("handle_ms", "patience_ms", "callback_u", "counted", "callback", "queue_idx", "reason")

    def __init__(self, handle_ms: int, patience_ms: int | None, callback_u: float, counted: bool, queue_idx: int,
                 reason: str | None):
        self.handle_ms, self.patience_ms, self.callback_u = handle_ms, patience_ms, callback_u
        self.counted, self.callback, self.queue_idx, self.reason = counted, False, queue_idx, reason


def _draw_handle(rng: random.Random, q: SimQueue) -> float:
    if q.handle == "exponential":
        return rng.expovariate(1.0 / q.aht_s)
    sigma2 = math.log(1 + q.handle_cv**2)
    return rng.lognormvariate(math.log(q.aht_s) - sigma2 / 2, math.sqrt(sigma2))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str | None:
    if not weights:
        return None
    u, acc = rng.random() * sum(weights.values()), 0.0
    for k, w in weights.items():
        acc += w
        if u < acc:
            return k
    return next(reversed(weights))


class ReplayObserver:
    """What a replay tells its observer as the simulated day goes (module docstring). Every method is a
    no-op here: override the ones you need. Times are the simulation's epoch ms; `counted` is whether
    the contact (segment) arrived after the warmup, i.e. counts in the statistics; the spans are those
    the replay adds to its own busy and staffed totals (clipped to [warmup, day end))."""

    def contact_queued(self, contact_id: str, queue_id: str, at_ms: int, counted: bool) -> None:
        """A contact (or a transferred segment) entered its queue: offered there."""

    def contact_answered(self, contact_id: str, queue_id: str, enqueued_at_ms: int, at_ms: int,
                         sl_threshold_s: float, counted: bool) -> None:
        """An agent connected to a waiting contact after at_ms - enqueued_at_ms of wait."""

    def contact_abandoned(self, contact_id: str, queue_id: str, enqueued_at_ms: int, at_ms: int,
                          sl_threshold_s: float, counted: bool) -> None:
        """A waiting contact's patience ran out (a contact holding a callback never abandons)."""

    def agent_busy(self, agent_id: str, from_ms: int, to_ms: int) -> None:
        """A span of the measured window in which the agent had at least one contact."""

    def agent_staffed(self, agent_id: str, from_ms: int, to_ms: int) -> None:
        """A span of the measured window in which the agent was staffed (its shift, up to going offline)."""


class _Sim:
    def __init__(self, day: Day, policy: RoutingPolicy, seed: int, use_stats: bool,
                 observer: ReplayObserver | None = None):
        self.day, self.policy, self.seed, self.use_stats = day, policy, seed, use_stats
        self.observer = observer
        self.t0 = day.start_ms
        self.end_ms = self.t0 + int(day.duration_s * 1000)
        self.warm_ms = self.t0 + int(day.warmup_s * 1000)
        self.stop_ms = self.end_ms + int(day.drain_s * 1000)
        self.events: list[tuple[int, int, str, object]] = []
        self.seq = 0
        self.decisions = 0
        self.n_events = 0
        self.sq = {q.queue_id: q for q in day.queues}
        self.qidx = {q.queue_id: i for i, q in enumerate(day.queues)}
        self.queues = {
            q.queue_id: Queue(tenant_id=_TENANT, queue_id=q.queue_id, name=q.queue_id, channels=frozenset({q.channel}),
                              required_skills=q.required_skills, sl_threshold_s=q.sl_threshold_s, sl_target=q.sl_target)
            for q in day.queues
        }
        self.waiting: dict[str, dict[str, SimContact]] = {q.queue_id: {} for q in day.queues}
        self.meta: dict[str, _Meta] = {}
        self.tally = {q.queue_id: _Tally() for q in day.queues}
        self.recent_handle: dict[str, deque[float]] = {q.queue_id: deque(maxlen=50) for q in day.queues}
        self.history: dict[str, list[PastContact]] = {}
        self.initial_of: dict[str, str] = {}  # a transferred segment's initial contact id
        self.arr_rng = [random.Random(f"{seed}:{q.queue_id}:arrivals") for q in day.queues]
        self.attr_rng = [random.Random(f"{seed}:{q.queue_id}:attributes") for q in day.queues]
        self.xfer_rng = [random.Random(f"{seed}:{q.queue_id}:transfers") for q in day.queues]
        self.counter = 0
        self.index = AgentIndex(queue_channels={q.queue_id: (q.channel,) for q in day.queues})
        self.agents: dict[str, SimAgent] = {}
        self.busy_since: dict[str, int | None] = {}
        self.busy_ms: dict[str, int] = {}
        self.staffed_ms: dict[str, int] = {}
        self.shift: dict[str, tuple[int, int]] = {}
        self.delays: dict[str, list[int]] = {q.queue_id: [] for q in day.queues}
        self.stats: dict[str, QueueStats] | None = None
        self.stats_at = -1
        self._build_agents()

    # ------------------------------------------------------------------ setup

    def _profile_queues(self, group: AgentGroup) -> tuple[QueueAssignment, ...]:
        if group.profile and group.profile in self.policy.profiles and self.policy.profiles[group.profile].queues:
            return self.policy.profiles[group.profile].queues
        if group.profile and group.profile in self.day.profiles:
            return self.day.profiles[group.profile]
        return group.queues

    def _build_agents(self) -> None:
        delays: dict[str, set[int]] = {q: set() for q in self.queues}
        for group in self.day.agents:
            queues = tuple(a for a in self._profile_queues(group) if a.queue_id in self.queues)
            prof = self.policy.profiles.get(group.profile) if group.profile else None
            capacity = dict(prof.capacity) if prof and prof.capacity else dict(group.capacity or DEFAULT_CAPACITY)
            for a in queues:
                if a.delay_s:
                    delays[a.queue_id].add(a.delay_s * 1000)
            start = self.t0 + int(group.shift_start_s * 1000)
            end = self.t0 + int((group.shift_end_s if group.shift_end_s is not None else self.day.duration_s) * 1000)
            for i in range(group.count):
                skills = {k: (v if isinstance(v, int) else v[i % len(v)]) for k, v in group.skills.items()}
                aid = f"{group.prefix}{i + 1:04d}"
                agent = SimAgent(tenant_id=_TENANT, agent_id=aid, name=aid, status=AgentStatus.OFFLINE, skills=skills,
                                 queues=queues, capacity=capacity, routing_profile_id=group.profile,
                                 status_since=self.t0)
                self.agents[aid] = agent
                self.busy_ms[aid] = 0
                self.staffed_ms[aid] = 0
                self.busy_since[aid] = None
                self.shift[aid] = (start, end)
                self._push(start, "shift_on", aid)
                self._push(end, "shift_off", aid)
        self.delays = {q: sorted(d) for q, d in delays.items()}

    def _push(self, at: int, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))

    # ------------------------------------------------------------------ arrivals

    def _next_arrival(self, i: int, after: int) -> int | None:
        q = self.day.queues[i]
        prof = q.arrivals
        if prof is None:
            return None
        rng = self.arr_rng[i]
        t = (after - self.t0) / 1000.0
        step = prof.interval_s
        while t < self.day.duration_s:
            k = int(t // step)
            rate = prof.rates_per_hour[k % len(prof.rates_per_hour)] / 3600.0
            boundary = (k + 1) * step
            if rate <= 0:
                t = boundary
                continue
            gap = rng.expovariate(rate)
            if t + gap < boundary:
                t += gap
                return self.t0 + int(t * 1000)
            t = boundary
        return None

    def _schedule_arrivals(self) -> None:
        if self.day.contacts:
            for rc in self.day.contacts:
                self._push(self.t0 + int(rc.arrival_s * 1000), "recorded", rc)
            return
        for i in range(len(self.day.queues)):
            nxt = self._next_arrival(i, self.t0)
            if nxt is not None:
                self._push(nxt, "arrival", i)

    def _intake(self, now: int, i: int, rc: RecordedContact | None) -> None:
        q = self.day.queues[i]
        rng = self.attr_rng[i]
        self.counter += 1
        if rc is None:
            handle_s = _draw_handle(rng, q)
            patience_s = rng.expovariate(1.0 / q.patience_s) if q.patience_s else None
            segment = _pick(rng, q.segments)
            customer = f"cust{rng.randrange(self.day.customers)}" if self.day.customers else None
            reason = (q.reasons[rng.randrange(len(q.reasons))] if q.reasons else q.queue_id) if customer else None
            priority, cid = 5, f"{q.queue_id}-{self.counter:07d}"
        else:
            handle_s, patience_s, segment = rc.handle_s, rc.patience_s, rc.segment
            customer, reason, priority, cid = rc.customer_id, rc.reason, rc.priority, rc.contact_id
        callback_u = rng.random()
        queue = self.queues[q.queue_id]
        journey = None
        if customer is not None:
            journey = JourneyContext(customer_id=customer, reason=reason, history=tuple(self.history.get(customer, ())))
        plan = plan_contact(queue, self.policy, segment, journey, now, base_priority=priority)
        self.decisions += 1
        tally = self.tally[q.queue_id]
        counted = now >= self.warm_ms
        if plan.outcome == "self_service":
            tally.deflected += counted
            return
        if plan.outcome == "closed":
            tally.closed += counted
            return
        contact = SimContact(tenant_id=_TENANT, contact_id=cid, channel=q.channel, queue_id=q.queue_id,
                             state=ContactState.QUEUED, priority=plan.priority, customer_id=customer, reason=reason,
                             initiated_at=now, enqueued_at=now, sl_threshold_s=q.sl_threshold_s, routing=plan)
        meta = _Meta(int(handle_s * 1000), int(patience_s * 1000) if patience_s is not None else None, callback_u,
                     counted, i, reason)
        self._enqueue(contact, meta, now)

    def _enqueue(self, contact: SimContact, meta: _Meta, now: int) -> None:
        """A contact (or a transferred segment) waits in its queue: offered there, routed at once if an
        agent is free, else its abandon, step and delay rechecks and callback offer are scheduled."""
        cid, qid = contact.contact_id, contact.queue_id
        tally = self.tally[qid]
        self.meta[cid] = meta
        tally.offered += meta.counted
        tally.open += 1
        if self.observer is not None:
            self.observer.contact_queued(cid, qid, now, meta.counted)
        self.waiting[qid][cid] = contact
        if self._route_contact(contact, now):
            return
        if meta.patience_ms is not None:
            self._push(now + meta.patience_ms, "abandon", cid)
        for step in contact.routing.steps if contact.routing else ():
            if step.expires_at is not None:
                self._push(step.expires_at, "recheck", cid)
        for d in self.delays[qid]:
            self._push(now + d, "recheck", cid)
        self._maybe_callback(contact, now)

    def _transfer(self, contact: SimContact, meta: _Meta, sender: str, now: int) -> bool:
        """At the end of handling, maybe transfer `contact` into its queue's transfer_to queue as a new
        segment (like usecases.transfers: TRANSFER initiation, same initial contact, the sender excluded,
        priority kept or raised, a closed target refuses). Draws from the sender queue's transfer stream
        only when its share is above 0. True when transferred."""
        source_q = self.sq[contact.queue_id]
        if source_q.transfer_share <= 0 or contact.segment_number >= self.day.max_segments:
            return False
        rng = self.xfer_rng[meta.queue_idx]
        if rng.random() >= source_q.transfer_share:
            return False
        target = self.sq[source_q.transfer_to]  # type: ignore[index]
        handle_s = _draw_handle(rng, target)
        patience_s = rng.expovariate(1.0 / target.patience_s) if target.patience_s else None
        callback_u = rng.random()
        initial = contact.initial_contact_id or contact.contact_id
        journey = None
        if contact.customer_id is not None:
            # The customer's own segments are not an earlier contact (usecases.routing.journey_of).
            earlier = tuple(p for p in self.history.get(contact.customer_id, ())
                            if self.initial_of.get(p.contact_id, p.contact_id) != initial)
            journey = JourneyContext(customer_id=contact.customer_id, reason=meta.reason, history=earlier)
        segment = contact.routing.segment if contact.routing else None
        plan = plan_contact(self.queues[target.queue_id], self.policy, segment, journey, now,
                            base_priority=contact.priority)
        self.decisions += 1
        if plan.outcome == "closed":
            return False
        number = contact.segment_number + 1
        cid = f"{initial}/{number}"
        self.initial_of[cid] = initial
        priority = min(plan.priority, contact.priority)
        nxt = SimContact(tenant_id=_TENANT, contact_id=cid, channel=target.channel, queue_id=target.queue_id,
                         state=ContactState.QUEUED, priority=priority, customer_id=contact.customer_id,
                         reason=contact.reason, initiated_at=now, enqueued_at=now, sl_threshold_s=target.sl_threshold_s,
                         routing=plan.model_copy(update={"priority": priority}), initiation_method=InitiationMethod.TRANSFER,
                         previous_contact_id=contact.contact_id, initial_contact_id=initial, segment_number=number,
                         declined_by=(sender,))
        counted = now >= self.warm_ms
        self.tally[contact.queue_id].xfer_out += meta.counted
        self.tally[target.queue_id].xfer_in += counted
        self._enqueue(nxt, _Meta(int(handle_s * 1000), int(patience_s * 1000) if patience_s is not None else None,
                                 callback_u, counted, self.qidx[target.queue_id], meta.reason), now)
        return True

    def _maybe_callback(self, contact: SimContact, now: int) -> None:
        q = self.sq[contact.queue_id]
        cb = self.policy.for_queue(q.queue_id).callback
        if cb.offer_when_wait_exceeds_s is None or q.callback_accept <= 0:
            return
        stats = self._stats(now)[q.queue_id]
        # the position a free agent's pick gives it (the router's order), as the API's wait estimate counts it
        order = waiting_order(self.queues[q.queue_id], self.policy.contact_scoring, now, stats if self.use_stats else None)
        est = estimate_wait(position_in_queue(contact, self.waiting[q.queue_id].values(), order), stats)
        decision = decide_callback(contact, self.policy, est, now)
        self.decisions += 1
        meta = self.meta[contact.contact_id]
        if decision.outcome == "callback" and meta.callback_u < q.callback_accept:
            meta.callback = True
            self.tally[q.queue_id].callbacks += meta.counted

    # ------------------------------------------------------------------ stats for scoring and EWT

    def _stats(self, now: int) -> dict[str, QueueStats]:
        if self.stats is not None and now - self.stats_at < 60_000:
            return self.stats
        out = {}
        staffed = [a for a in self.agents.values() if a.is_staffed]
        for qid, q in self.sq.items():
            recent = self.recent_handle[qid]
            aht = (sum(recent) + q.aht_s * 10) / (len(recent) + 10)
            eff = 0.0
            for a in staffed:
                mine = a.serves(qid)
                if mine is not None:
                    eff += 1.0 / sum(1 for x in a.queues if x.priority <= mine.priority)
            t = self.tally[qid]
            denom = t.offered - t.aban_t
            sl = t.ans_t / denom if denom > 0 and t.answered else None
            out[qid] = QueueStats(aht_s=aht, agents=eff, available=0, service_level=sl)
        self.stats, self.stats_at = out, now
        return out

    # ------------------------------------------------------------------ routing

    def _route_contact(self, contact: SimContact, now: int) -> bool:
        queue = self.queues[contact.queue_id]
        step = current_step(contact, queue, self.policy, now)
        w = self.policy.agent_scoring
        cands = self.index.candidates(contact.queue_id, contact.channel, step.condition, step.preferred,
                                      per_level=max(1, w.candidate_limit // 5), limit=w.candidate_limit)
        if not cands:
            return False
        decision = select_agent(contact, queue, self.policy, cands, now)
        self.decisions += 1
        if decision.winner is None:
            return False
        self._connect(contact, self.agents[decision.winner], now)
        return True

    def _offer_work(self, agent: SimAgent, now: int) -> None:
        scan = self.day.waiting_scan
        while agent.is_available:
            waiting = {}
            for a in agent.queues:
                w = self.waiting.get(a.queue_id)
                if w:
                    waiting[a.queue_id] = list(islice(w.values(), scan))
            if not waiting:
                return
            stats = self._stats(now) if self.use_stats else None
            decision = select_contact(agent, waiting, self.queues, self.policy, now, stats=stats)
            self.decisions += 1
            if decision.winner is None:
                return
            cid = decision.winner
            qid = self.day.queues[self.meta[cid].queue_idx].queue_id
            self._connect(self.waiting[qid][cid], agent, now)

    def _connect(self, contact: SimContact, agent: SimAgent, now: int) -> None:
        qid = contact.queue_id
        del self.waiting[qid][contact.contact_id]
        meta = self.meta[contact.contact_id]
        wait = now - (contact.enqueued_at or now)
        tally = self.tally[qid]
        tally.open -= 1
        if meta.counted:
            tally.answered += 1
            tally.wait_ms += wait
            tally.ans_t += wait <= contact.sl_threshold_s * 1000
        if self.observer is not None:
            self.observer.contact_answered(contact.contact_id, qid, contact.enqueued_at or now, now,
                                           contact.sl_threshold_s, meta.counted)
        handle = meta.handle_ms
        factors = self.day.handle_factor_by_proficiency
        skill = self.sq[qid].skill
        if factors and skill:
            level = agent.skills.get(skill, 0)
            handle = int(handle * factors.get(level, max(factors.values()) if level == 0 else 1.0))
        active = dict(agent.active)
        active[contact.channel] = active.get(contact.channel, 0) + 1
        agent.active = active
        agent.active_contact_ids = (*agent.active_contact_ids, contact.contact_id)
        if self.busy_since[agent.agent_id] is None:
            self.busy_since[agent.agent_id] = now
        self.index.upsert(agent)
        self._push(now + handle, "done", (agent.agent_id, contact, now, handle))

    def _done(self, now: int, payload: tuple) -> None:
        aid, contact, connected, handle = payload
        agent = self.agents[aid]
        active = dict(agent.active)
        active[contact.channel] -= 1
        agent.active = {c: n for c, n in active.items() if n}
        agent.active_contact_ids = tuple(c for c in agent.active_contact_ids if c != contact.contact_id)
        agent.last_contact_ended_at = now
        if not agent.active:
            self._account_busy(aid, now)
            self.busy_since[aid] = None
        meta = self.meta.pop(contact.contact_id)
        qid = contact.queue_id
        self.recent_handle[qid].append(handle / 1000.0)
        if meta.counted:
            t = self.tally[qid]
            t.handle_ms += handle
            t.handled += 1
        transferred = self._transfer(contact, meta, aid, now)
        if contact.customer_id:
            hist = self.history.setdefault(contact.customer_id, [])
            hist.append(PastContact(contact_id=contact.contact_id, started_at=contact.initiated_at, ended_at=now,
                                    agent_id=aid, queue_id=qid, channel=contact.channel.value, reason=meta.reason,
                                    outcome="TRANSFERRED" if transferred else "COMPLETED"))
            del hist[:-10]
        if now >= self.shift[aid][1] and not agent.active:
            self._go_offline(agent, now)
            return
        self.index.upsert(agent)
        self._offer_work(agent, now)

    def _account_busy(self, aid: str, now: int) -> None:
        since = self.busy_since[aid]
        if since is None:
            return
        lo, hi = max(since, self.warm_ms), min(now, self.end_ms)
        if hi > lo:
            self.busy_ms[aid] += hi - lo
            if self.observer is not None:
                self.observer.agent_busy(aid, lo, hi)

    def _go_offline(self, agent: SimAgent, now: int) -> None:
        start = max(self.shift[agent.agent_id][0], self.warm_ms)
        end = min(now, self.end_ms)
        if end > start:
            self.staffed_ms[agent.agent_id] += end - start
            if self.observer is not None:
                self.observer.agent_staffed(agent.agent_id, start, end)
        agent.status = AgentStatus.OFFLINE
        agent.status_since = now
        self.index.upsert(agent)
        self.stats = None

    def _abandon(self, now: int, cid: str) -> None:
        meta = self.meta.get(cid)
        if meta is None or meta.callback:
            return
        qid = self.day.queues[meta.queue_idx].queue_id
        contact = self.waiting[qid].pop(cid, None)
        if contact is None:
            return
        del self.meta[cid]
        tally = self.tally[qid]
        tally.open -= 1
        if meta.counted:
            wait = now - (contact.enqueued_at or now)
            tally.abandoned += 1
            tally.short += wait < SHORT_ABANDON_S * 1000
            tally.aban_t += wait <= contact.sl_threshold_s * 1000
        if self.observer is not None:
            self.observer.contact_abandoned(cid, qid, contact.enqueued_at or now, now, contact.sl_threshold_s,
                                            meta.counted)

    # ------------------------------------------------------------------ main loop

    def run(self) -> ReplayResult:
        self._schedule_arrivals()
        events = self.events
        now = self.t0
        while events:
            now, _, kind, payload = heapq.heappop(events)
            if now > self.stop_ms:
                break
            self.n_events += 1
            if kind == "arrival":
                i = payload
                self._intake(now, i, None)
                nxt = self._next_arrival(i, now)
                if nxt is not None:
                    self._push(nxt, "arrival", i)
            elif kind == "recorded":
                self._intake(now, self.qidx[payload.queue_id], payload)
            elif kind == "done":
                self._done(now, payload)
            elif kind == "abandon":
                self._abandon(now, payload)
            elif kind == "recheck":
                meta = self.meta.get(payload)
                if meta is not None:
                    contact = self.waiting[self.day.queues[meta.queue_idx].queue_id].get(payload)
                    if contact is not None:
                        self._route_contact(contact, now)
            elif kind == "shift_on":
                agent = self.agents[payload]
                agent.status = AgentStatus.AVAILABLE
                agent.status_since = now
                self.index.upsert(agent)
                self.stats = None
                self._offer_work(agent, now)
            elif kind == "shift_off":
                agent = self.agents[payload]
                if agent.is_staffed and not agent.active:
                    self._go_offline(agent, now)
                elif agent.is_staffed:
                    agent.status = "SHIFT_ENDING"  # finishes its contacts, takes no new one
                    self.index.upsert(agent)
        final = min(self.stop_ms, max(self.end_ms, now if events else self.end_ms))
        for aid, agent in self.agents.items():
            if agent.is_staffed:
                self._account_busy(aid, final)
                self.busy_since[aid] = None
                start = max(self.shift[aid][0], self.warm_ms)
                end = min(final, self.end_ms)
                if end > start:
                    self.staffed_ms[aid] += end - start
                    if self.observer is not None:
                        self.observer.agent_staffed(aid, start, end)
        return self._result()

    def _result(self) -> ReplayResult:
        rows = []
        for q in self.day.queues:
            serving = [a for a in self.agents.values() if a.serves(q.queue_id)]
            rows.append(self._row(q.queue_id, [self.tally[q.queue_id]], serving))
        total = self._row("ALL", list(self.tally.values()), list(self.agents.values()))
        return ReplayResult(day=self.day.name, policy=self.policy.name, seed=self.seed, queues=tuple(rows), total=total,
                            decisions=self.decisions, events=self.n_events)

    def _row(self, qid: str, tallies: list[_Tally], agents: list[SimAgent]) -> QueueResult:
        s = {k: sum(getattr(t, k) for t in tallies) for k in _Tally.__slots__}
        return _metrics(qid, {
            "offered": s["offered"], "answered": s["answered"], "abandoned": s["abandoned"],
            "answered_within_t": s["ans_t"], "abandoned_within_t": s["aban_t"], "short_abandoned": s["short"],
            "wait_s": s["wait_ms"] / 1000, "handle_s": s["handle_ms"] / 1000, "handled": s["handled"],
            "busy_s": sum(self.busy_ms[a.agent_id] for a in agents) / 1000,
            "staffed_s": sum(self.staffed_ms[a.agent_id] for a in agents) / 1000,
            "deflected": s["deflected"], "closed": s["closed"], "callbacks": s["callbacks"],
            "transferred_out": s["xfer_out"], "transferred_in": s["xfer_in"],
        })


def pool_runs(runs: list[ReplayResult]) -> ReplayResult:
    """Several runs of the same day (seeds) as one result, queue by queue, from summed counts."""
    first = runs[0]
    queues = tuple(pool([r.queues[i] for r in runs]) for i in range(len(first.queues)))
    return first.model_copy(update={"queues": queues, "total": pool([r.total for r in runs]),
                                    "decisions": sum(r.decisions for r in runs), "events": sum(r.events for r in runs)})


def replay(day: Day, policy: RoutingPolicy, *, seed: int | None = None, use_stats: bool = True,
           observer: ReplayObserver | None = None) -> ReplayResult:
    """Replay `day` under `policy` (deterministic for a seed; default the day's); `observer` is told the
    counted events as they happen (ReplayObserver), the result is the same with or without it."""
    return _Sim(day, policy, day.seed if seed is None else seed, use_stats, observer).run()


def example_day(seed: int = 1, *, hours: float = 8.0) -> Day:
    """A multi-skill voice day: four queues with overlapping skills, two of them lightly staffed.

    Load (Erlangs = rate × AHT): billing 120/h × 300 s = 10, tech 80/h × 360 s = 8, sales 50/h × 240 s
    = 3.3, spanish 24/h × 300 s = 2; mean patience 180 s; T = 20 s. 30 agents grouped by primary queue:
    billing 10 + 3 who also speak Spanish, tech 10, sales 4 (lightly staffed), Spanish 3 (small).
    The day's `profiles` are agent-centric: primary queue at priority 1, the queues the agent is also
    skilled for at priority 2 after a delay (10 s; tech and Spanish agents lend themselves to billing
    only after 60 s, sales after 30 s; the bilingual billing agents serve Spanish at priority 1). A
    policy's `profiles` replace these by name (the FIFO baseline keeps every agent on its primary queue).
    """
    def q(qid: str, rate: float, aht: float) -> SimQueue:
        return SimQueue(queue_id=qid, skill=qid, sl_threshold_s=20, aht_s=aht, patience_s=180,
                        arrivals=ArrivalProfile(rates_per_hour=(rate,)))

    A = QueueAssignment
    profiles = {
        "billing_team": (A(queue_id="billing", priority=1), A(queue_id="sales", priority=2, delay_s=10),
                         A(queue_id="tech", priority=2, delay_s=10)),
        "billing_es": (A(queue_id="billing", priority=1), A(queue_id="spanish", priority=1)),
        "tech_team": (A(queue_id="tech", priority=1), A(queue_id="billing", priority=2, delay_s=60)),
        "sales_team": (A(queue_id="sales", priority=1), A(queue_id="billing", priority=2, delay_s=30)),
        "spanish_team": (A(queue_id="spanish", priority=1), A(queue_id="billing", priority=2, delay_s=60)),
    }
    return Day(
        name="example-multiskill", seed=seed, duration_s=hours * 3600, warmup_s=900, drain_s=3600,
        queues=(q("billing", 120, 300), q("tech", 80, 360), q("sales", 50, 240), q("spanish", 24, 300)),
        agents=(
            AgentGroup(prefix="bil", count=10, skills={"billing": (5, 4, 3), "sales": (2, 3), "tech": 2},
                       profile="billing_team"),
            AgentGroup(prefix="bes", count=3, skills={"billing": (4, 3), "spanish": 3}, profile="billing_es"),
            AgentGroup(prefix="tec", count=10, skills={"tech": (5, 4, 3), "billing": (2, 3, 1)}, profile="tech_team"),
            AgentGroup(prefix="sal", count=4, skills={"sales": (5, 4), "billing": 2}, profile="sales_team"),
            AgentGroup(prefix="esp", count=3, skills={"spanish": 5, "billing": 3}, profile="spanish_team"),
        ),
        profiles=profiles,
    )
