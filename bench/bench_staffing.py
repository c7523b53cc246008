"""Staffing math speed: required agents for a day of large intervals, Erlang C vs Erlang A, and scaling.

A day = 96 intervals at 50,000 contacts per 30 minutes, AHT 300 s (8,333 Erlangs), target 80 % in 20 s.
Baselines (written here, not in the domain code) show what the single warm-started recursion pass buys.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

from bench.table import print_table
from ccaas.domain import staffing
from ccaas.domain.staffing import required_agents

INTERVAL_SECONDS = 1800
AHT = 300.0
SL_TARGET, THRESHOLD = 0.8, 20.0
PATIENCE = 120.0
DAY = 96


def _cold_single_pass(volume: float) -> int:
    """Erlang C from B₀ = 1 every time (no warm start), still one pass over N."""
    load = volume / INTERVAL_SECONDS * AHT
    b, n = 1.0, 0
    while True:
        n += 1
        b = load * b / (n + load * b)
        if n > load:
            c = n * b / (n - load * (1 - b))
            if 1 - c * math.exp(-(n - load) * THRESHOLD / AHT) >= SL_TARGET:
                return n


def _naive_per_candidate(volume: float) -> int:
    """Erlang C recomputing the recursion from 0 for each candidate N (the usual textbook loop)."""
    load = volume / INTERVAL_SECONDS * AHT
    n = math.floor(load) + 1
    while True:
        b = 1.0
        for k in range(1, n + 1):
            b = load * b / (k + load * b)
        c = n * b / (n - load * (1 - b))
        if 1 - c * math.exp(-(n - load) * THRESHOLD / AHT) >= SL_TARGET:
            return n
        n += 1


def _ours(model: str, **extra: float) -> Callable[[float], int]:
    def solve(volume: float) -> int:
        return required_agents(volume=volume, interval_seconds=INTERVAL_SECONDS, aht_seconds=AHT, sl_target=SL_TARGET,
                               threshold_seconds=THRESHOLD, model=model,  # type: ignore[arg-type]
                               patience_seconds=PATIENCE if model == "erlang_a" else None, **extra)
    return solve


def _time(solve: Callable[[float], int], volumes: list[float]) -> tuple[float, int]:
    started = time.perf_counter()
    agents = [solve(v) for v in volumes]
    return time.perf_counter() - started, agents[-1]


def main() -> None:
    day = [50_000.0] * DAY  # no caching anywhere: each interval is solved from scratch
    methods = [
        ("Erlang C, warm-started single pass", _ours("erlang_c")),
        ("Erlang C, single pass from B0 (baseline)", _cold_single_pass),
        ("Erlang C, recursion from 0 per candidate N (baseline)", _naive_per_candidate),
        (f"Erlang A, patience {PATIENCE:.0f} s", _ours("erlang_a")),
        (f"Erlang A, patience {PATIENCE:.0f} s, abandon <= 3 %", _ours("erlang_a", max_abandon=0.03)),
    ]
    timings = [(name, *_time(solve, day)) for name, solve in methods]
    fastest = min(seconds for _, seconds, _ in timings)
    print_table(
        f"Required agents for {DAY} intervals of 50,000 contacts / 30 min (AHT {AHT:.0f} s, 80/20, "
        f"{50_000 / INTERVAL_SECONDS * AHT:,.0f} Erlangs)",
        ["method", "agents", "total s", "ms / interval", "x fastest"],
        [[name, agents, round(seconds, 3), round(seconds / DAY * 1000, 2), round(seconds / fastest, 1)]
         for name, seconds, agents in timings],
    )

    rows = []
    base_c = base_a = None
    repeats = 10
    for volume in (1_000.0, 10_000.0, 50_000.0):
        seconds_c, agents_c = _time(_ours("erlang_c"), [volume] * repeats)
        seconds_a, agents_a = _time(_ours("erlang_a"), [volume] * repeats)
        ms_c, ms_a = seconds_c / repeats * 1000, seconds_a / repeats * 1000
        base_c, base_a = base_c or ms_c, base_a or ms_a
        rows.append([f"{volume:,.0f}", round(volume / INTERVAL_SECONDS * AHT, 1), agents_c, agents_a,
                     round(ms_c, 3), round(ms_a, 2), round(ms_a / ms_c, 1), round(ms_c / base_c, 1),
                     round(ms_a / base_a, 1)])
    print_table(
        "Scaling: one interval, contacts per 30 min (AHT 300 s, 80/20, patience 120 s)",
        ["contacts", "Erlangs", "agents C", "agents A", "C ms", "A ms", "A / C", "C vs 1k", "A vs 1k"],
        rows,
    )

    _overload()


def _overload() -> None:
    """A what-if's interval deep in overload (few agents, long patience): Erlang A's series has ~b−a = λθ − Nθ/h
    growing terms; the sums start a few √(λθ) below their peak instead of at term 0."""
    rows = []
    for agents, rate, patience in ((1, 1.0, 86_400.0), (5, 10.0, 86_400.0), (1, 100.0, 86_400.0)):
        def one() -> staffing.StaffingResult:
            return staffing.erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=AHT, patience_seconds=patience,
                                             threshold_seconds=THRESHOLD)
        started = time.process_time()
        fast = one()
        fast_s = time.process_time() - started
        skip, staffing._SKIP_FROM_TERMS = staffing._SKIP_FROM_TERMS, 10**18  # noqa: SLF001 - the full series, for the ratio
        try:
            started = time.process_time()
            full = one()
            full_s = time.process_time() - started
        finally:
            staffing._SKIP_FROM_TERMS = skip  # noqa: SLF001
        rows.append([agents, rate, f"{rate * patience:,.0f}", round(full_s * 1000, 1), round(fast_s * 1000, 2),
                     round(full_s / fast_s, 1), f"{abs(fast.p_abandon - full.p_abandon):.1e}",
                     f"{abs(fast.asa_seconds - full.asa_seconds) / full.asa_seconds:.1e}"])
    print_table(
        f"Erlang A deep in overload: one interval (AHT {AHT:.0f} s), the full series vs from near its peak",
        ["agents", "arrivals / s", "terms to the peak ~", "full ms", "from the peak ms", "x", "|Δ P(abandon)|", "rel Δ ASA"],
        rows,
    )


if __name__ == "__main__":
    main()
