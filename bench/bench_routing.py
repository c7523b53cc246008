"""Routing engine: decision cost vs staff size, simulator vs Erlang C, agent-centric vs per-queue FIFO.

(a) select_agent fed by the AgentIndex for 100 / 1,000 / 10,000 available agents (two queues, skills
    billing/sales/es at random levels 1–5, the contact's step "billing>=3"). Each decision reserves the
    winner (index update) and frees the agent reserved 10 % of the staff ago, so the index churns like
    a live floor. Compared with a full scan (select_agent over every available agent) and checked for
    the same winner. Goal: 10,000 / 100 time ratio ≤ 3.
(b) Single-skill M/M/N replay: N = 20, A = 17 Erlangs, AHT 180 s exponential, T = 20 s, no abandonment,
    24 h days after a 1 h warm-up, 16 seeds pooled, under a FIFO-equivalent policy (SL-risk weight 0,
    so contacts are served in arrival order, which is what Erlang C assumes). Goal: SL within 2 points
    of Erlang C. A plain FCFS M/M/N loop fed with the same random draws is printed too: where it agrees
    with the replay, any gap to Erlang C is the sampling noise of those seeds, not the simulator.
(c) The multi-skill example day (ccaas.domain.replay.example_day: 4 queues, 30 agents with overlapping
    skills, sales and Spanish lightly staffed, patience 180 s), 8 h × 6 seeds, same agents and same
    contacts (common random numbers) under two policies:
      agent-centric  routing profiles with every queue the agent is skilled for (primary priority 1,
                     others priority 2 after a delay), skill steps, scored agent and contact choice;
      per-queue FIFO every agent serves only its primary queue, oldest contact first, longest-idle
                     agent (a queue takes only its own agents — the usual queue-based setup).
    Goal: ASA at least 20 % lower and SL higher for agent-centric.
"""
from __future__ import annotations

import heapq
import random
import statistics
import time

from bench.table import print_table
from ccaas.domain.models import Agent, Channel, Contact, ContactState, QueueAssignment
from ccaas.domain.replay import AgentGroup, ArrivalProfile, Day, SimQueue, example_day, pool_runs, replay
from ccaas.domain.routing_engine import AgentIndex, RoutingPolicy, current_step, select_agent

try:
    from ccaas.domain.staffing import erlang_c_metrics
except ImportError:  # the staffing module is optional for this bench
    erlang_c_metrics = None

T0 = 1_704_067_200_000
# CPU time of this process: the figures stay meaningful when other jobs share the machine.
_clock = time.process_time

# ------------------------------------------------------------------ (a) decision time vs staff size


def _floor(n: int, seed: int = 1) -> list[Agent]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        skills = {"billing": rng.randint(1, 5), "sales": rng.randint(1, 5)}
        if rng.random() < 0.3:
            skills["es"] = rng.randint(1, 5)
        queues = (QueueAssignment(queue_id="billing"), QueueAssignment(queue_id="sales", priority=2))
        out.append(Agent(tenant_id="b", agent_id=f"a{i:05d}", name="a", status="AVAILABLE", skills=skills,
                         queues=queues, status_since=T0 - rng.randint(0, 3_600_000)))
    return out


def _queue():
    from ccaas.domain.models import Queue

    return Queue(tenant_id="b", queue_id="billing", name="billing", channels=frozenset({Channel.VOICE}))


def bench_decisions(n: int, decisions: int = 2000) -> dict[str, float]:
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": "billing>=3"}]}}})
    full_policy = policy.model_copy(update={"agent_scoring": policy.agent_scoring.model_copy(
        update={"candidate_limit": 10**9})})
    queue = _queue()
    agents = _floor(n)
    index = AgentIndex(agents, queue_channels={"billing": (Channel.VOICE,), "sales": (Channel.VOICE,)})
    by_id = {a.agent_id: a for a in agents}
    w = policy.agent_scoring
    busy: list[str] = []
    hold = max(1, n // 10)
    now = T0
    t_index = t_engine = 0.0
    agree = checked = 0
    t_full = 0.0
    for k in range(decisions):
        now += 1000
        c = Contact(tenant_id="b", contact_id=f"c{k}", channel=Channel.VOICE, queue_id="billing",
                    state=ContactState.QUEUED, initiated_at=now, enqueued_at=now)
        t = _clock()
        step = current_step(c, queue, policy, now)
        cands = index.candidates("billing", Channel.VOICE, step.condition, step.preferred,
                                 per_level=max(1, w.candidate_limit // 5), limit=w.candidate_limit)
        t_index += _clock() - t
        t = _clock()
        d = select_agent(c, queue, policy, cands, now)
        t_engine += _clock() - t
        if k % 50 == 0:  # the O(n) alternative, and the same winner?
            t = _clock()
            full = select_agent(c, queue, full_policy, [a for a in by_id.values() if a.agent_id in index
                                                        and not a.active], now)
            t_full += _clock() - t
            checked += 1
            agree += full.winner == d.winner
        if d.winner is None:
            continue
        winner = by_id[d.winner]
        by_id[d.winner] = winner = winner.model_copy(update={"active": {Channel.VOICE: 1}})
        index.upsert(winner)
        busy.append(d.winner)
        if len(busy) > hold:
            freed = busy.pop(0)
            agent = by_id[freed].model_copy(update={"active": {}, "last_contact_ended_at": now})
            by_id[freed] = agent
            index.upsert(agent)
    return {"n": n, "index_us": t_index / decisions * 1e6, "engine_us": t_engine / decisions * 1e6,
            "total_us": (t_index + t_engine) / decisions * 1e6, "full_us": t_full / checked * 1e6,
            "agree": agree / checked}


def part_a() -> None:
    rows, results = [], {}
    for n in (100, 1_000, 10_000):
        r = bench_decisions(n)
        results[n] = r
        rows.append([f"{n:,}", round(r["index_us"], 1), round(r["engine_us"], 1), round(r["total_us"], 1),
                     round(r["full_us"], 1), f"{100 * r['agree']:.0f} %"])
    print_table("(a) select_agent with the AgentIndex: CPU µs per decision (2,000 decisions, index churning)",
                ["agents", "index µs", "engine µs", "total µs", "full scan µs", "same winner"], rows)
    ratio = results[10_000]["total_us"] / results[100]["total_us"]
    full_ratio = results[10_000]["full_us"] / results[100]["full_us"]
    print_table("(a) scaling 10,000 / 100 agents", ["path", "ratio", "goal"],
                [["index + engine", round(ratio, 2), "≤ 3"], ["full scan (O(n))", round(full_ratio, 1), "-"]])


# ------------------------------------------------------------------ (b) M/M/N vs Erlang C


def _erlang_c(n: int, load: float, aht: float, t: float) -> tuple[float, float]:
    if erlang_c_metrics is not None:
        m = erlang_c_metrics(n, arrival_rate=load / aht, aht_seconds=aht, threshold_seconds=t)
        return m.service_level, m.asa_seconds
    b = 1.0
    for k in range(1, n + 1):
        b = load * b / (k + load * b)
    c = n * b / (n - load * (1 - b))
    import math
    return 1 - c * math.exp(-(n - load) * t / aht), c * aht / (n - load)


def _plain_fcfs(seed: int, n: int, load: float, aht: float, t: float, hours: float, warm_s: float) -> tuple:
    """An independent 20-line FCFS M/M/N simulation fed with the replay's own random streams (same
    arrivals, same handle times): separates simulator error from sampling noise of the seeds."""
    arrivals = random.Random(f"{seed}:q:arrivals")
    attributes = random.Random(f"{seed}:q:attributes")
    rate, now, free = load / aht, 0.0, [0.0] * n
    wait_sum = answered = within = 0
    while True:
        boundary = (int(now // 3600) + 1) * 3600  # the replay draws per hourly interval
        gap = arrivals.expovariate(rate)
        if now + gap >= boundary:
            now = boundary
            if now >= hours * 3600:
                break
            continue
        now += gap
        if now >= hours * 3600:
            break
        handle = attributes.expovariate(1 / aht)
        attributes.random()  # the replay's callback draw
        start = max(now, heapq.heappop(free))
        heapq.heappush(free, start + handle)
        if now >= warm_s:
            wait_sum += start - now
            answered += 1
            within += start - now <= t
    return within, answered, wait_sum


def part_b(seeds: int = 16) -> None:
    n, load, aht, t = 20, 17.0, 180.0, 20
    day = Day(name="mmn", duration_s=25 * 3600, warmup_s=3600, drain_s=3600,
              queues=(SimQueue(queue_id="q", sl_threshold_s=t, aht_s=aht,
                               arrivals=ArrivalProfile(rates_per_hour=(load / aht * 3600,))),),
              agents=(AgentGroup(prefix="a", count=n, queues=(QueueAssignment(queue_id="q"),)),))
    fifo_like = RoutingPolicy.model_validate({"name": "FIFO-equivalent", "contact_scoring": {"sl_risk": 0}})
    started = _clock()
    runs = [replay(day, fifo_like, seed=s) for s in range(1, seeds + 1)]
    elapsed = _clock() - started
    pooled = pool_runs(runs).total
    sls = [r.total.service_level for r in runs]
    se = statistics.stdev(sls) / len(sls) ** 0.5
    sl_c, asa_c = _erlang_c(n, load, aht, t)
    contacts = sum(r.total.offered for r in runs)
    plain = [_plain_fcfs(s, n, load, aht, t, 25, 3600) for s in range(1, seeds + 1)]
    p_within, p_answered, p_wait = (sum(x[i] for x in plain) for i in range(3))
    print_table(f"(b) M/M/N replay vs Erlang C: N={n}, A={load:g} E, AHT {aht:g} s, T={t} s, "
                f"{seeds} seeds × 24 h ({contacts:,} contacts, {elapsed:.0f} s CPU, "
                f"{elapsed / contacts * 1e6:.0f} µs per contact)",
                ["", "SL %", "ASA s", "occupancy %", "AHT s"],
                [["Erlang C", round(100 * sl_c, 2), round(asa_c, 1), round(100 * load / n, 1), aht],
                 ["replay (pooled)", round(100 * pooled.service_level, 2), round(pooled.asa_s, 1),
                  round(100 * pooled.occupancy, 1), round(pooled.aht_s, 1)],
                 ["plain FCFS sim, same draws", round(100 * p_within / p_answered, 2), round(p_wait / p_answered, 1),
                  "", ""],
                 ["difference", f"{100 * (pooled.service_level - sl_c):+.2f} pt (s.e. {100 * se:.2f})",
                  f"{pooled.asa_s - asa_c:+.1f}", "", ""]])
    verdict = "within" if abs(pooled.service_level - sl_c) <= 0.02 else "NOT within"
    print(f"SL {verdict} 2 points of Erlang C (goal: within 2 points)")


# ------------------------------------------------------------------ (c) agent-centric vs per-queue FIFO

AGENT_CENTRIC = RoutingPolicy.model_validate({
    "name": "agent-centric",
    "queues": {"spanish": {"steps": [{"name": "native speakers", "condition": "spanish>=4", "expiry_s": 10}]},
               "billing": {"steps": [{"name": "billing experts", "condition": "billing>=3", "expiry_s": 10}]}},
})
PER_QUEUE_FIFO = RoutingPolicy.model_validate({
    "name": "per-queue FIFO",
    "contact_scoring": {"mode": "fifo"},
    "agent_scoring": {"proficiency": 0, "idle": 1, "occupancy": 0, "idle_horizon_s": 86400},
    "segments": {}, "journey": {"prefer_last_agent": False, "repeat_priority_boost": 0},
    "profiles": {p: {"queues": [{"queue_id": q}]} for p, q in (
        ("billing_team", "billing"), ("billing_es", "billing"), ("tech_team", "tech"), ("sales_team", "sales"),
        ("spanish_team", "spanish"))},
})


def part_c(seeds: int = 6) -> None:
    results = {}
    started = _clock()
    for policy in (AGENT_CENTRIC, PER_QUEUE_FIFO):
        results[policy.name] = pool_runs([replay(example_day(s, hours=8), policy) for s in range(1, seeds + 1)])
    elapsed = _clock() - started
    ac, ff = results["agent-centric"], results["per-queue FIFO"]
    rows = []
    for qa, qb in zip((*ac.queues, ac.total), (*ff.queues, ff.total)):
        rows.append([qa.queue_id, round(100 * qa.service_level, 1), round(100 * qb.service_level, 1),
                     round(qa.asa_s, 1), round(qb.asa_s, 1), round(qa.asa_s / qb.asa_s, 2),
                     round(100 * qa.abandonment, 1), round(100 * qb.abandonment, 1),
                     round(100 * qa.occupancy, 1), round(100 * qb.occupancy, 1)])
    print_table(f"(c) multi-skill day, {seeds} seeds × 8 h pooled ({ac.total.offered:,} contacts each, "
                f"{elapsed:.0f} s CPU): "
                "agent-centric (AC) vs per-queue FIFO",
                ["queue", "SL % AC", "SL % FIFO", "ASA s AC", "ASA s FIFO", "ASA AC/FIFO", "aband % AC",
                 "aband % FIFO", "occ % AC", "occ % FIFO"], rows)
    print_table("(c) goal", ["metric", "agent-centric", "per-queue FIFO", "result", "goal"], [
        ["ASA s", round(ac.total.asa_s, 2), round(ff.total.asa_s, 2),
         f"{100 * (1 - ac.total.asa_s / ff.total.asa_s):.0f} % lower", "≥ 20 % lower"],
        ["SL %", round(100 * ac.total.service_level, 1), round(100 * ff.total.service_level, 1),
         f"{100 * (ac.total.service_level - ff.total.service_level):+.1f} pt", "higher"],
    ])


def main() -> None:
    part_a()
    part_b()
    part_c()


if __name__ == "__main__":
    main()
