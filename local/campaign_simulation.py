"""A campaign day, simulated (discrete events, seeded): agents, dials through the simulated carrier,
answers, drops, talk and wrap-up — with every dial decided by `compliance.check_attempt` and paced by
`pacing.dials_to_place`. Used by bench/bench_campaigns.py; the local runtime can reuse `simulate_day`.

Mechanics
- Records wait in a heap keyed by the instant they may next be tried. The pacer asks for n dials; the
  dialer pops due records and runs the compliance check: allowed → dial; blocked with `next_allowed_at`
  → back in the heap for then (a record outside its hours waits); blocked for good → dropped. Each block
  is counted under its first failing rule (in CheckName order).
- A person answering is connected to a free agent, or waits at most 2 s for one; then the call is dropped
  (ABANDONED) and the recorded message is played (`abandon_message_played=True`). An AMD "machine" on a
  person is a drop too. A machine AMD misses costs an agent a few seconds (disposition voicemail).
- Connected calls: right-party contact (60 %), answered / call back later (28 %), wrong party (10 %),
  opted out (2 % — added to the suppression list at once, so the row's later attempts are blocked).
- Predictive pacing gets sharp estimates a real dialer has: per busy agent, P(free within the horizon)
  from its elapsed wrap-up; per call in flight, P(a person still answers | unanswered after e seconds),
  learned from a sample of the carrier's ring times.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
import time as _time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ccaas.adapters.memory.carrier import CarrierProfile, SimulatedCarrier
from ccaas.domain.outbound.compliance import (
    AbandonmentStats,
    InMemoryHistory,
    Suppression,
    SuppressionSet,
    check_attempt,
    pacing_mode,
)
from ccaas.domain.outbound.models import (
    ABANDON_MESSAGE_WITHIN_S,
    Attempt,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    ConsentFlag,
    ContactListRow,
    Disposition,
    PhoneEntry,
)
from ccaas.domain.outbound.pacing import PacingState, dials_to_place

__all__ = ["DayConfig", "DayReport", "make_rows", "simulate_day"]

UTC = timezone.utc
# (zone, share of the US population, area codes used for fake numbers)
ZONE_MIX = (
    ("America/New_York", 0.47, "212 305 404 617 704"), ("America/Chicago", 0.29, "312 214 615 504 612"),
    ("America/Denver", 0.05, "303 801 505"), ("America/Phoenix", 0.02, "602 480"),
    ("America/Los_Angeles", 0.155, "213 415 206 503"), ("America/Anchorage", 0.005, "907"),
    ("Pacific/Honolulu", 0.01, "808"),
)
MULTI_ZONE_STATES = {"FL": ("America/New_York", "America/Chicago"), "TX": ("America/Chicago", "America/Denver"),
                     "IN": ("America/Indiana/Indianapolis", "America/Chicago"),
                     "ID": ("America/Boise", "America/Los_Angeles")}
_CHECK_ORDER = list(CheckName)


@dataclass
class DayConfig:
    mode: CampaignMode = CampaignMode.PREDICTIVE
    agents: int = 20
    hours: float = 8.0
    records: int = 20_000
    start: datetime = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 EDT, a Tuesday after the DST change
    seed: int = 7
    profile: CarrierProfile = field(default_factory=CarrierProfile)
    talk_median_s: float = 195.0   # lognormal, sigma 0.6 → mean ≈ 233 s (wrong party / opt-out 15-45 s) + 20-40 s wrap-up → AHT ≈ 4 min
    talk_sigma: float = 0.6
    wrap_s: tuple[float, float] = (20.0, 40.0)
    tick_s: float = 2.0
    dnc_share: float = 0.015
    no_consent_share: float = 0.04
    prior_history_share: float = 0.08   # accounts with attempts in the 6 days before (another campaign)
    prior_conversation_share: float = 0.02
    opt_out_share: float = 0.02         # of connected calls
    prior_answered: int = 0             # the campaign's earlier days within 30 days (0 = its first day)
    prior_abandoned: int = 0

    def __post_init__(self) -> None:
        if self.mode not in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE):
            raise ValueError("the campaign day simulates the agent-attended dialing modes: progressive, predictive")


@dataclass
class DayReport:
    mode: str
    agents: int
    hours: float
    dials: int = 0
    human_answered: int = 0
    connects: int = 0
    right_party: int = 0
    abandoned: int = 0
    messages_played: int = 0
    machines: int = 0
    busy_agent_s: float = 0.0
    blocks: Counter = field(default_factory=Counter)
    dropped_records: int = 0
    checks: int = 0
    check_s: float = 0.0
    fallbacks: int = 0
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def abandonment_rate(self) -> float:
        return self.abandoned / self.human_answered if self.human_answered else 0.0

    @property
    def connects_per_agent_hour(self) -> float:
        return self.connects / (self.agents * self.hours)

    @property
    def occupancy(self) -> float:
        return self.busy_agent_s / (self.agents * self.hours * 3600)


def make_rows(config: DayConfig, rng: random.Random) -> list[ContactListRow]:
    rows = []
    weights = [w for _, w, _ in ZONE_MIX]
    for i in range(config.records):
        zone, _, codes = rng.choices(ZONE_MIX, weights)[0]
        area = rng.choice(codes.split())
        number = f"+1{area}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
        if rng.random() < 0.08:
            state, zones = rng.choice(sorted(MULTI_ZONE_STATES.items()))
            phone = PhoneEntry(number=number, zones=zones, zone_source="state")
        else:
            state, phone = None, PhoneEntry(number=number, zones=(zone,), zone_source="row")
        consent = ConsentFlag(granted=rng.random() >= config.no_consent_share, source="web_form",
                              at=config.start - timedelta(days=30))
        rows.append(ContactListRow(row_id=f"r{i}", line=i + 2, phones=(phone,), state=state,
                                   time_zone=zone if phone.zone_source == "row" else None,
                                   account_id=f"acct{i}", consent_automated_voice=consent))
    return rows


def _uniform_free_within(elapsed: float, horizon: float, low: float, high: float) -> float:
    """P(W ≤ elapsed + horizon | W > elapsed) for W ~ U(low, high)."""
    if elapsed >= high:
        return 1.0
    lo = max(low, elapsed)
    return max(0.0, min(1.0, (min(high, elapsed + horizon) - lo) / (high - lo)))


def _answer_table(profile: CarrierProfile, rng: random.Random, samples: int = 20_000) -> list[float]:
    """P(a person still answers | no answer after e s), e = 0..60 (learned from a sample of ring times)."""
    carrier = SimulatedCarrier(rng, profile)
    draws = [carrier.place_call("+10000000000") for _ in range(samples)]
    table = []
    for e in range(61):
        alive = [d for d in draws if d.seconds > e]
        table.append(sum(d.outcome == "human" for d in alive) / len(alive) if alive else 0.0)
    return table


def simulate_day(config: DayConfig) -> DayReport:  # noqa: C901 - one event loop, read top to bottom
    rng = random.Random(config.seed)
    rows = make_rows(config, rng)
    campaign = Campaign(campaign_id="bench", name="Bench campaign", mode=config.mode, queue_id="outbound",
                        caller_id="+12125550100", status=CampaignStatus.RUNNING, debt_collection=True)
    history = InMemoryHistory()
    suppression = SuppressionSet()
    for row in rows:  # the world before today: DNC entries, other campaigns' attempts, conversations
        if rng.random() < config.dnc_share:
            suppression.add(Suppression(kind="number", value=row.numbers[0], source="internal_dnc"))
        if rng.random() < config.prior_history_share:
            for k in range(rng.randint(3, 8)):
                history.record(Attempt(attempt_id=f"p-{row.row_id}-{k}", campaign_id="prior", row_id=row.row_id,
                                       account_id=row.account_id, number=row.numbers[0],
                                       started_at=config.start - timedelta(seconds=rng.uniform(3600, 6 * 86400)),
                                       disposition=Disposition.NO_ANSWER))
        if rng.random() < config.prior_conversation_share:
            history.add_conversation(row.account_id or "", config.start - timedelta(days=rng.uniform(0.5, 6.5)))
    sim_rng = random.Random(config.seed + 1)
    carrier = SimulatedCarrier(sim_rng, config.profile)
    answer_after = _answer_table(config.profile, random.Random(config.seed + 2))
    report = DayReport(mode=str(config.mode), agents=config.agents, hours=config.hours)
    end_s = config.hours * 3600
    seq = itertools.count()
    ready: list[tuple[float, int, int]] = [(0.0, next(seq), i) for i in range(len(rows))]
    rng.shuffle(ready)
    heapq.heapify(ready)
    events: list[tuple[float, int, str, object]] = []
    agents_free: list[int] = list(range(config.agents))
    agent_phase: dict[int, tuple[str, float, float]] = {}  # agent -> (talk|wrap, started_s, ends_s)
    in_flight: dict[int, float] = {}   # call id -> dialed at (s)
    waiting: list[tuple[float, int]] = []  # answered persons waiting for an agent: (deadline, call)
    calls: dict[int, tuple[ContactListRow, str, float, Attempt | None]] = {}
    answered_today, abandoned_today = config.prior_answered, config.prior_abandoned  # rolling 30 days
    rolling_answer = [0.3, 12.0]  # answer rate estimate, mean answer delay

    def at(t: float) -> datetime:
        return config.start + timedelta(seconds=t)

    def start_talk(agent: int, t: float, call: int, kind: str) -> None:
        talk = 5.0 if kind == "machine" else sim_rng.lognormvariate(math.log(config.talk_median_s), config.talk_sigma)
        if kind == "wrong":
            talk = sim_rng.uniform(15, 45)
        wrap = sim_rng.uniform(*config.wrap_s)
        agent_phase[agent] = ("talk", t, t + talk)
        heapq.heappush(events, (t + talk, next(seq), "talk_end", (agent, wrap)))
        report.busy_agent_s += min(talk + wrap, max(0.0, end_s - t))

    def finish(call: int, disposition: Disposition, t: float, played: bool | None = None) -> None:
        row, number, dialed, _ = calls[call]
        attempt = Attempt(attempt_id=f"a{call}", campaign_id=campaign.campaign_id, row_id=row.row_id,
                          account_id=row.account_id, number=number, started_at=at(dialed), disposition=disposition,
                          ring_seconds=round(t - dialed, 2), abandon_message_played=played,
                          checks=calls[call][3].checks if calls[call][3] else ())
        report.attempts.append(attempt)
        history.record(attempt)
        if disposition is Disposition.OPTED_OUT:
            suppression.add(Suppression(kind="number", value=number, source="agent", at=at(t)))
        heapq.heappush(ready, (t, next(seq), int(row.row_id[1:])))  # back in line: the checks decide when

    def connect(agent: int, call: int, t: float) -> None:
        nonlocal answered_today
        u = sim_rng.random()
        if u < config.opt_out_share:
            disposition, kind = Disposition.OPTED_OUT, "wrong"
        elif u < config.opt_out_share + 0.10:
            disposition, kind = Disposition.WRONG_PARTY, "wrong"
        elif u < config.opt_out_share + 0.38:
            disposition, kind = Disposition.ANSWERED, "talk"
        else:
            disposition, kind = Disposition.RIGHT_PARTY_CONTACT, "talk"
        report.connects += 1
        report.right_party += disposition is Disposition.RIGHT_PARTY_CONTACT
        start_talk(agent, t, call, kind)
        finish(call, disposition, t)

    def dial(t: float, wanted: int, mode: CampaignMode, stats: AbandonmentStats) -> None:
        placed = 0
        while placed < wanted and ready and ready[0][0] <= t:
            _, _, index = heapq.heappop(ready)
            row = rows[index]
            number = row.numbers[0]
            started = _time.perf_counter()
            decision = check_attempt(campaign, row, number, at(t), history, suppression, dial_mode=mode,
                                     abandonment=stats)
            report.check_s += _time.perf_counter() - started
            report.checks += 1
            if not decision.allowed:
                first = min(decision.failed, key=_CHECK_ORDER.index)
                report.blocks[str(first)] += 1
                if decision.next_allowed_at is not None:
                    wait = (decision.next_allowed_at - config.start).total_seconds()
                    if wait < end_s:
                        heapq.heappush(ready, (wait, next(seq), index))
                else:
                    report.dropped_records += 1
                continue
            call = next(seq)
            result = carrier.place_call(number)
            calls[call] = (row, number, t, Attempt(attempt_id=f"a{call}", campaign_id=campaign.campaign_id,
                                                     row_id=row.row_id, number=number, started_at=at(t),
                                                     checks=decision.checks))
            in_flight[call] = t
            report.dials += 1
            placed += 1
            heapq.heappush(events, (t + result.seconds, next(seq), "resolve", (call, result)))

    def pace(t: float) -> None:
        if t >= end_s or not ready or ready[0][0] > t or (config.mode is not CampaignMode.PREDICTIVE
                                            and len(agents_free) <= len(in_flight)):
            return  # nothing due to dial, or (not predictive) no agent without a call ringing for it
        stats = AbandonmentStats(answered=answered_today, abandoned=abandoned_today)
        mode = pacing_mode(campaign, stats)
        if config.mode is CampaignMode.PREDICTIVE and mode is not CampaignMode.PREDICTIVE:
            report.fallbacks += 1
        h = rolling_answer[1] + ABANDON_MESSAGE_WITHIN_S  # the pacer's horizon: dial → answer, + the 2 s grace
        busy_p = []
        for agent, (phase, started, _ends) in agent_phase.items():
            if phase == "wrap":
                busy_p.append(_uniform_free_within(t - started, h, *config.wrap_s))
            else:
                busy_p.append(0.0)
        state = PacingState(
            agents_free=max(0, len(agents_free) - len(waiting)), agents_on_call=len(agent_phase), calls_in_flight=len(in_flight),
            answer_rate=rolling_answer[0], mean_answer_delay_s=rolling_answer[1],
            answered_30d=answered_today, abandoned_30d=abandoned_today, max_dials=60,
            busy_free_p=tuple(busy_p),
            in_flight_answer_p=tuple(answer_after[min(60, int(t - d))] for d in in_flight.values()))
        wanted = dials_to_place(mode, state)
        if wanted:
            dial(t, wanted, mode, stats)

    heapq.heappush(events, (0.0, next(seq), "tick", None))
    answers_seen = dials_resolved = 0
    while events:
        t, _, kind, payload = heapq.heappop(events)
        if t > end_s and kind == "tick":
            continue
        if kind == "tick":
            pace(t)
            heapq.heappush(events, (t + config.tick_s, next(seq), "tick", None))
            continue
        if kind == "resolve":
            call, result = payload  # type: ignore[misc]
            in_flight.pop(call, None)
            dials_resolved += 1
            if result.outcome == "human":
                answers_seen += 1
                rolling_answer[1] += 0.02 * (result.seconds - rolling_answer[1])
                report.human_answered += 1
                answered_today += 1
                if result.amd_machine:  # a person taken for a machine: dropped, message played
                    report.abandoned += 1
                    abandoned_today += 1
                    report.messages_played += 1
                    finish(call, Disposition.ABANDONED, t, played=True)
                elif agents_free:
                    connect(agents_free.pop(0), call, t)
                else:
                    waiting.append((t + ABANDON_MESSAGE_WITHIN_S, call))
                    heapq.heappush(events, (t + ABANDON_MESSAGE_WITHIN_S, next(seq), "drop", call))
            elif result.outcome == "machine":
                report.machines += 1
                if result.amd_machine or not agents_free:
                    finish(call, Disposition.ANSWERING_MACHINE, t)
                else:  # AMD missed it: an agent hears the greeting and leaves a voicemail
                    connect_agent = agents_free.pop(0)
                    start_talk(connect_agent, t, call, "machine")
                    finish(call, Disposition.VOICEMAIL, t)
            else:
                finish(call, {"busy": Disposition.BUSY, "invalid": Disposition.INVALID_NUMBER,
                              "no_answer": Disposition.NO_ANSWER}[result.outcome], t)
            rolling_answer[0] += 0.01 * ((result.outcome == "human") - rolling_answer[0])
            pace(t)
        elif kind == "drop":
            call = payload  # type: ignore[assignment]
            if any(c == call for _, c in waiting):
                waiting[:] = [(d, c) for d, c in waiting if c != call]
                report.abandoned += 1
                abandoned_today += 1
                report.messages_played += 1
                finish(call, Disposition.ABANDONED, t, played=True)
        elif kind == "talk_end":
            agent, wrap = payload  # type: ignore[misc]
            agent_phase[agent] = ("wrap", t, t + wrap)
            heapq.heappush(events, (t + wrap, next(seq), "free", agent))
        elif kind == "free":
            agent = payload  # type: ignore[assignment]
            agent_phase.pop(agent, None)
            if t >= end_s:
                continue  # the shift is over
            if waiting:
                _, call = waiting.pop(0)
                connect(agent, call, t)
            else:
                agents_free.append(agent)
                pace(t)
    report.attempts.sort(key=lambda a: a.started_at)
    return report
