"""Erlang B / C / A and required agents against published tables and independent exact computations."""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import pytest

from ccaas.domain.staffing import (
    erlang_a_metrics,
    erlang_b,
    erlang_b_sequence,
    erlang_c,
    erlang_c_metrics,
    required_agents,
    scheduled_agents,
    staffing_metrics,
)

# ------------------------------------------------------------------ independent references


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """Textbook M/M/N formula in exact rationals (Gross & Harris §2.3):
    C = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))."""
    terms = [load**k / math.factorial(k) for k in range(agents + 1)]
    queued = terms[agents] * agents / (agents - load)
    return queued / (sum(terms[:agents]) + queued)


def mp_erlang_c(agents: int, load: float, dps: int = 50) -> mpmath.mpf:
    """Same formula summed term by term in 50-digit floats (mpf exponents do not overflow)."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(load)
        term, below = mpmath.mpf(1), mpmath.mpf(0)
        for k in range(agents):
            below += term
            term = term * a / (k + 1)
        queued = term * agents / (agents - a)
        return queued / (below + queued)


def mp_erlang_a(agents: int, rate: float, aht: float, patience: float, threshold: float, dps: int = 60) -> dict:
    """Erlang A from scratch: the birth–death chain solved numerically (truncated where a state's
    probability < 1e-40 of the total), and for service level / ASA each arriving customer's FCFS
    offered wait is summed as the hypoexponential Σ_{m=0..i} Exp(Nμ + mγ) (i = customers ahead of it),
    integrated against its Exp(γ) patience with the closed-form partial-fraction density.
    Nothing here shares code or formulas with the series in staffing.py."""
    with mpmath.workdps(dps):
        lam, mu, gamma = mpmath.mpf(rate), 1 / mpmath.mpf(aht), 1 / mpmath.mpf(patience)
        t = mpmath.mpf(threshold)
        weights = [mpmath.mpf(1)]
        k = 0
        while True:
            k += 1
            death = min(k, agents) * mu + max(0, k - agents) * gamma
            weights.append(weights[-1] * lam / death)
            if k > agents + 5 and weights[-1] < mpmath.mpf(10) ** -40 * mpmath.fsum(weights):
                break
        total = sum(weights)
        pi = [w / total for w in weights]
        p_wait = sum(pi[agents:])
        queue = sum((k - agents) * pi[k] for k in range(agents + 1, len(pi)))
        p_abandon = gamma * queue / lam
        answered_within = sum(pi[:agents])  # answered at once
        abandoned_within = mpmath.mpf(0)
        answered_wait = mpmath.mpf(0)
        for ahead, p in enumerate(pi[agents:]):
            rates = [agents * mu + m * gamma for m in range(ahead + 1)]
            for j, r in enumerate(rates):
                c = mpmath.fprod(rm / (rm - r) for m, rm in enumerate(rates) if m != j)
                within = 1 - mpmath.exp(-(r + gamma) * t)
                answered_within += p * c * r * within / (r + gamma)
                abandoned_within += p * c * gamma * within / (r + gamma)
                answered_wait += p * c * r / (r + gamma) ** 2
        return {
            "p_wait": p_wait, "p_abandon": p_abandon, "mean_wait": queue / lam,
            "answered_within": answered_within, "abandoned_within": abandoned_within,
            "service_level": answered_within / (1 - abandoned_within), "asa": answered_wait / (1 - p_abandon),
        }


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# ------------------------------------------------------------------ Erlang B / C against published values


@pytest.mark.parametrize(
    ("agents", "load_1pct", "load_2pct", "load_5pct"),
    [
        (5, 1.36, 1.66, 2.22),
        (10, 4.46, 5.08, 6.22),
        (20, 12.03, 13.18, 15.25),
        (50, 37.90, 40.26, 44.53),
        (100, 84.06, 87.97, 95.24),
    ],
)
def test_erlang_b_reproduces_the_published_erlang_b_table(agents, load_1pct, load_2pct, load_5pct):
    # The standard Erlang B table (e.g. ITU-D / Iversen, "Teletraffic Engineering and Network Planning",
    # DTU, table of Erlang's B-formula): traffic in Erlangs that N circuits carry at 1 %, 2 %, 5 %
    # blocking, printed to 2 decimals. Invert our B by bisection and round the same way.
    for load_printed, blocking in ((load_1pct, 0.01), (load_2pct, 0.02), (load_5pct, 0.05)):
        low, high = 0.0, 2.0 * agents
        for _ in range(100):
            middle = (low + high) / 2
            low, high = (middle, high) if erlang_b(agents, middle) < blocking else (low, middle)
        assert round(low, 2) == pytest.approx(load_printed, abs=0.0051)


def test_erlang_c_classic_ten_erlang_example():
    # Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls in
    # 30 minutes, AHT 180 s → A = 10 Erlangs, target 80 % in 20 s. P(wait) with 11 agents = 68.21 %,
    # ASA 122.8 s; stepping up, 13 agents just miss 80/20 and 14 meet it.
    rate, aht = 100 / 1800, 180.0
    published_p_wait = {11: 0.6821, 12: 0.4494, 13: 0.2853, 14: 0.1741}
    for agents, p_wait in published_p_wait.items():
        assert erlang_c(agents, 10.0) == pytest.approx(p_wait, abs=5e-5)
    r11 = erlang_c_metrics(11, arrival_rate=rate, aht_seconds=aht, threshold_seconds=20)
    assert r11.asa_seconds == pytest.approx(122.8, abs=0.05)
    assert r11.occupancy == pytest.approx(10 / 11)
    assert erlang_c_metrics(13, arrival_rate=rate, aht_seconds=aht, threshold_seconds=20).service_level < 0.80
    assert erlang_c_metrics(14, arrival_rate=rate, aht_seconds=aht, threshold_seconds=20).service_level > 0.80
    assert required_agents(volume=100, interval_seconds=1800, aht_seconds=aht, sl_target=0.8,
                           threshold_seconds=20) == 14


def test_erlang_c_closed_forms_for_one_and_two_agents():
    # M/M/1: P(wait) = ρ = A; M/M/2: P(wait) = 2ρ²/(1+ρ) with ρ = A/2, i.e. A²/(2+A) (Gross & Harris).
    for load in (0.1, 0.5, 0.9, 0.999):
        assert erlang_c(1, load) == pytest.approx(load, rel=1e-14)
    for load in (0.2, 1.0, 1.7, 1.99):
        assert erlang_c(2, load) == pytest.approx(load**2 / (2 + load), rel=1e-14)


@pytest.mark.parametrize("agents", [1, 2, 3, 7, 11, 25, 60, 100, 149, 150])
@pytest.mark.parametrize("utilisation", [Fraction(1, 10), Fraction(1, 2), Fraction(9, 10), Fraction(99, 100)])
def test_erlang_c_matches_exact_rational_arithmetic(agents, utilisation):
    load = utilisation * agents
    exact = exact_erlang_c(agents, load)
    assert erlang_c(agents, float(load)) == pytest.approx(float(exact), rel=1e-9)
    # And the derived numbers, exactly: SL = 1 − C·e^(−(N−A)T/h), ASA = C·h/(N−A).
    aht, threshold = 240.0, 20.0
    result = erlang_c_metrics(agents, arrival_rate=float(load) / aht, aht_seconds=aht, threshold_seconds=threshold)
    spare = agents - float(load)
    assert result.asa_seconds == pytest.approx(float(exact) * aht / spare, rel=1e-9)
    assert result.service_level == pytest.approx(1 - float(exact) * math.exp(-spare * threshold / aht), rel=1e-9)


@pytest.mark.parametrize(("agents", "load"), [(1050, 1000.0), (1200, 1150.5), (2500, 2480.0), (8400, 8333.3333)])
def test_erlang_c_beyond_a_thousand_agents_matches_high_precision(agents, load):
    assert erlang_c(agents, load) == pytest.approx(float(mp_erlang_c(agents, load)), rel=1e-9)


def test_fifty_thousand_agents_without_overflow_and_accurate():
    load = 49_800.0
    result = erlang_c_metrics(50_000, arrival_rate=load / 300, aht_seconds=300, threshold_seconds=20)
    assert result.p_wait == pytest.approx(float(mp_erlang_c(50_000, load, dps=40)), rel=1e-9)
    assert 0 < result.p_wait < 1 and 0 < result.service_level < 1 and math.isfinite(result.asa_seconds)
    # Required agents at 50,000 Erlangs (300,000 contacts per 30 min at AHT 300 s), 80/20.
    need = required_agents(volume=300_000, interval_seconds=1800, aht_seconds=300, sl_target=0.8,
                           threshold_seconds=20)
    assert 50_000 < need < 50_300

    def sl(agents):
        return erlang_c_metrics(agents, arrival_rate=300_000 / 1800, aht_seconds=300,
                                threshold_seconds=20).service_level

    assert sl(need) >= 0.8 > sl(need - 1)


@pytest.mark.parametrize("load", [150.0, 1_000.0, 8_333.33, 50_000.0, 1e6])
def test_warm_started_recursion_equals_the_full_recursion(load):
    # Reference: the plain recursion from B₀ = 1 (no warm start), in floats. Agents above A (Erlang C)
    # and below it (overloaded Erlang A probes).
    for agents in (math.floor(load) + 1, math.ceil(load + math.sqrt(load)), math.ceil(load + 4 * math.sqrt(load)),
                   math.floor(load) - 1, math.floor(load - 2 * math.sqrt(load)), math.floor(0.8 * load),
                   math.floor(load / 3)):
        b = 1.0
        for k in range(1, agents + 1):
            b = load * b / (k + load * b)
        assert erlang_b(agents, load) == pytest.approx(b, rel=1e-11)


def test_erlang_b_sequence_yields_successive_agent_counts():
    sequence = erlang_b_sequence(25.0, 20)
    values = [next(sequence) for _ in range(10)]
    assert [n for n, _ in values] == list(range(20, 30))
    for n, b in values:
        assert b == pytest.approx(erlang_b(n, 25.0), rel=1e-13)
    # Warm-started below A and carried on past it: still the single-N values (which start elsewhere).
    sequence = erlang_b_sequence(5_000.0, 4_800)
    for n, b in (next(sequence) for _ in range(400)):
        assert b == pytest.approx(erlang_b(n, 5_000.0), rel=1e-11)


def test_unstable_and_empty_erlang_c():
    unstable = erlang_c_metrics(10, arrival_rate=10 / 180, aht_seconds=180, threshold_seconds=20)
    assert (unstable.p_wait, unstable.service_level, unstable.asa_seconds) == (1.0, 0.0, math.inf)
    assert not unstable.stable
    idle = erlang_c_metrics(3, arrival_rate=0.0, aht_seconds=180, threshold_seconds=20)
    assert (idle.p_wait, idle.service_level, idle.asa_seconds, idle.occupancy) == (0.0, 1.0, 0.0, 0.0)


# ------------------------------------------------------------------ Erlang A


@pytest.mark.parametrize(
    ("agents", "load", "aht", "patience", "threshold"),
    [
        (10, 9.0, 180.0, 90.0, 20.0),  # busy but stable
        (6, 8.0, 180.0, 120.0, 30.0),  # overloaded: N < A, only abandonment keeps it stable
        (3, 2.0, 100.0, 300.0, 15.0),  # small team, patient customers
        (1, 0.7, 60.0, 45.0, 10.0),  # a single agent
    ],
)
def test_erlang_a_matches_the_birth_death_chain_solved_independently(agents, load, aht, patience, threshold):
    rate = load / aht
    ours = erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                            threshold_seconds=threshold)
    ref = mp_erlang_a(agents, rate, aht, patience, threshold)
    assert ours.p_wait == pytest.approx(float(ref["p_wait"]), rel=1e-9)
    assert ours.p_abandon == pytest.approx(float(ref["p_abandon"]), rel=1e-9)
    assert ours.mean_wait_seconds == pytest.approx(float(ref["mean_wait"]), rel=1e-9)
    assert ours.answered_within_threshold == pytest.approx(float(ref["answered_within"]), rel=1e-9)
    assert ours.abandoned_within_threshold == pytest.approx(float(ref["abandoned_within"]), rel=1e-9)
    assert ours.service_level == pytest.approx(float(ref["service_level"]), rel=1e-9)
    assert ours.asa_seconds == pytest.approx(float(ref["asa"]), rel=1e-9)
    # Flow balance: answered work = A(1 − P(abandon)) ≤ N.
    assert ours.occupancy == pytest.approx(load * (1 - float(ref["p_abandon"])) / agents, rel=1e-9)


def _matches_the_chain(ours, agents: int, rate: float, aht: float, patience: float) -> None:
    """P(wait), P(abandon) and mean wait against the chain's stationary distribution in 40-digit arithmetic."""
    with mpmath.workdps(40):
        lam, mu, gamma = mpmath.mpf(rate), 1 / mpmath.mpf(aht), 1 / mpmath.mpf(patience)
        weights, k, total, negligible = [mpmath.mpf(1)], 0, mpmath.mpf(1), mpmath.mpf(10) ** -30
        while True:
            k += 1
            weights.append(weights[-1] * lam / (min(k, agents) * mu + max(0, k - agents) * gamma))
            total += weights[-1]
            if k > agents and weights[-1] < negligible * total:
                break
        p_wait = mpmath.fsum(weights[agents:]) / total
        queue = mpmath.fsum((j - agents) * weights[j] for j in range(agents, len(weights))) / total
    assert ours.p_wait == pytest.approx(float(p_wait), rel=1e-9)
    assert ours.p_abandon == pytest.approx(float(gamma * queue / lam), rel=1e-9)
    assert ours.mean_wait_seconds == pytest.approx(float(queue / lam), rel=1e-9)


@pytest.mark.parametrize(("agents", "load", "patience"), [(1100, 1000.0, 120.0), (8400, 8333.33, 60.0),
                                                          (7000, 8333.33, 300.0)])
def test_erlang_a_stationary_numbers_at_scale_match_the_chain(agents, load, patience):
    # Thousands of agents (the last case overloaded by 16 %): P(wait), P(abandon) and mean wait from the
    # chain's stationary distribution in 40-digit arithmetic.
    aht = 300.0
    rate = load / aht
    ours = erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                            threshold_seconds=20)
    _matches_the_chain(ours, agents, rate, aht, patience)


@pytest.mark.parametrize(("agents", "rate", "patience"), [(1, 0.2, 20_000.0), (2, 1.0, 8_000.0), (40, 0.5, 40_000.0)])
def test_erlang_a_deep_in_overload_starts_its_series_near_the_peak_and_agrees(agents, rate, patience, monkeypatch):
    """Few agents and long patience: ~λθ − Nθ/h growing terms (a what-if of one agent on a busy queue with a
    day's patience: 10^5-10^8 of them, minutes of CPU). The series start a few √(λθ) below their peak; the
    stationary numbers still match the chain in 40 digits, and every number the full series from term 0."""
    import ccaas.domain.staffing as staffing

    aht, threshold = 300.0, 20.0
    assert rate * patience - agents * patience / aht - 15 * math.sqrt(rate * patience) > staffing._SKIP_FROM_TERMS  # noqa: SLF001
    ours = erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience, threshold_seconds=threshold)
    _matches_the_chain(ours, agents, rate, aht, patience)
    monkeypatch.setattr(staffing, "_SKIP_FROM_TERMS", 10**18)  # the full series
    full = erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience, threshold_seconds=threshold)
    assert ours.asa_seconds == pytest.approx(full.asa_seconds, rel=1e-9)
    # within the threshold: a difference of two near-equal sums (cancellation amplifies the last digits)
    assert ours.abandoned_within_threshold == pytest.approx(full.abandoned_within_threshold, rel=1e-5)
    assert ours.service_level == pytest.approx(full.service_level, abs=1e-9)


def test_erlang_a_converges_to_erlang_c_as_patience_grows():
    rate, aht, threshold = 10 / 180, 180.0, 20.0
    c = erlang_c_metrics(11, arrival_rate=rate, aht_seconds=aht, threshold_seconds=threshold)
    errors = []
    for patience in (1e4, 1e5, 1e6, 1e7, 1e8):
        a = erlang_a_metrics(11, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                             threshold_seconds=threshold)
        errors.append((rel(a.p_wait, c.p_wait), rel(a.service_level, c.service_level),
                       rel(a.asa_seconds, c.asa_seconds)))
    for (w0, s0, q0), (w1, s1, q1) in zip(errors, errors[1:]):
        # The gap is O(1/θ) once θ dwarfs the waits: each tenfold patience cuts it about tenfold.
        assert w1 < w0 / 5 and s1 < s0 / 5 and q1 < q0 / 5
    assert max(errors[-1]) < 1e-4
    # Infinite patience is Erlang C exactly.
    for patience in (None, math.inf):
        a = erlang_a_metrics(11, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                             threshold_seconds=threshold)
        assert (a.p_wait, a.service_level, a.asa_seconds) == (c.p_wait, c.service_level, c.asa_seconds)


def test_erlang_a_probabilities_add_up_and_edge_cases():
    for agents in (0, 1, 5, 9, 12):
        r = erlang_a_metrics(agents, arrival_rate=10 / 180, aht_seconds=180, patience_seconds=60, threshold_seconds=20)
        waiting_beyond = 1 - r.answered_within_threshold - r.abandoned_within_threshold
        assert -1e-12 <= waiting_beyond <= r.p_wait + 1e-12
        assert 0 <= r.p_abandon <= r.p_wait <= 1 and 0 <= r.occupancy <= 1
        assert r.mean_wait_seconds == pytest.approx(60 * r.p_abandon)
    nobody = erlang_a_metrics(0, arrival_rate=0.1, aht_seconds=180, patience_seconds=60, threshold_seconds=20)
    assert (nobody.p_abandon, nobody.service_level) == (1.0, 0.0)
    assert nobody.abandoned_within_threshold == pytest.approx(1 - math.exp(-20 / 60))
    heavily_overloaded = erlang_a_metrics(500, arrival_rate=50_000 / 1800, aht_seconds=300, patience_seconds=3600,
                                          threshold_seconds=20)
    assert heavily_overloaded.p_abandon == pytest.approx(1 - 500 / 8333.33, rel=1e-3)  # agents saturate
    assert math.isfinite(heavily_overloaded.asa_seconds) and heavily_overloaded.occupancy == pytest.approx(1.0)


# ------------------------------------------------------------------ required / scheduled agents

CASES = [
    # volume per 30 min, AHT, SL target, T, max ASA, max occupancy
    (100, 180.0, 0.8, 20.0, None, None),
    (37, 420.0, 0.9, 30.0, None, None),
    (1_000, 300.0, 0.8, 20.0, 15.0, None),
    (400, 240.0, 0.7, 60.0, None, 0.85),
    (5_000, 300.0, 0.95, 10.0, None, None),
    (3, 600.0, 0.8, 20.0, None, None),
]


def _met(result, sl_target, max_asa, max_occupancy):
    return (result.service_level >= sl_target
            and (max_asa is None or result.asa_seconds <= max_asa)
            and (max_occupancy is None or result.occupancy <= max_occupancy))


@pytest.mark.parametrize(("volume", "aht", "sl_target", "threshold", "max_asa", "max_occupancy"), CASES)
@pytest.mark.parametrize(("model", "patience"), [("erlang_c", None), ("erlang_a", 90.0), ("erlang_a", 600.0)])
def test_required_agents_meet_targets_and_one_fewer_does_not(volume, aht, sl_target, threshold, max_asa,
                                                             max_occupancy, model, patience):
    need = required_agents(volume=volume, interval_seconds=1800, aht_seconds=aht, sl_target=sl_target,
                           threshold_seconds=threshold, max_asa_seconds=max_asa, max_occupancy=max_occupancy,
                           model=model, patience_seconds=patience)

    def at(agents):
        return staffing_metrics(agents, arrival_rate=volume / 1800, aht_seconds=aht, threshold_seconds=threshold,
                                model=model, patience_seconds=patience)

    assert _met(at(need), sl_target, max_asa, max_occupancy)
    assert not _met(at(need - 1), sl_target, max_asa, max_occupancy)


def test_abandonment_cap_binds_in_a_large_overloaded_erlang_a_queue():
    # 50,000 calls / 30 min, AHT 300 s (8,333 Erlangs), patience 2 min: Erlang A meets 80/20 with fewer
    # agents than the load, because 14 % of callers hang up and the rest wait ~18 s (efficiency-driven
    # regime). A 3 % abandonment cap lifts it to about A·(1 − 3 %): in this many-server regime nearly
    # all of the shortfall below A turns into abandonment.
    rate, aht = 50_000 / 1800, 300.0
    c = required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=0.8, threshold_seconds=20)
    sl_only = required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=0.8, threshold_seconds=20,
                              model="erlang_a", patience_seconds=120)
    capped = required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=0.8, threshold_seconds=20,
                             model="erlang_a", patience_seconds=120, max_abandon=0.03)
    assert sl_only < capped < 8333 < c
    assert capped == pytest.approx(8333 * 0.97, rel=0.002)
    lost = erlang_a_metrics(sl_only, arrival_rate=rate, aht_seconds=aht, patience_seconds=120, threshold_seconds=20)
    assert lost.p_abandon > 0.10 and lost.service_level >= 0.8

    def abandon(agents):
        return erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht, patience_seconds=120,
                                threshold_seconds=20).p_abandon

    assert abandon(capped) <= 0.03 < abandon(capped - 1)
    # Erlang C never abandons, so the cap changes nothing there.
    assert required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=0.8, threshold_seconds=20,
                           max_abandon=0.001) == c


@pytest.mark.parametrize(("volume", "aht", "patience"), [(60, 300.0, 45.0), (200, 180.0, 120.0), (9, 900.0, 30.0)])
def test_erlang_a_search_equals_a_linear_scan(volume, aht, patience):
    rate = volume / 1800
    for sl_target in (0.5, 0.8, 0.9, 0.99):
        scan = next(n for n in range(0, 1000)
                    if erlang_a_metrics(n, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                                        threshold_seconds=20).service_level >= sl_target)
        assert required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=sl_target, threshold_seconds=20,
                               model="erlang_a", patience_seconds=patience) == scan


def test_required_agents_monotonic():
    def need(volume=500, sl=0.8, threshold=20.0, model="erlang_c", patience=None):
        return required_agents(volume=volume, interval_seconds=1800, aht_seconds=300, sl_target=sl,
                               threshold_seconds=threshold, model=model, patience_seconds=patience)

    for model, patience in (("erlang_c", None), ("erlang_a", 120.0)):
        by_volume = [need(v, model=model, patience=patience) for v in range(0, 3001, 50)]
        assert by_volume == sorted(by_volume) and by_volume[0] == 0 and by_volume[-1] > by_volume[1]
        by_target = [need(sl=s, model=model, patience=patience) for s in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)]
        assert by_target == sorted(by_target) and by_target[-1] > by_target[0]
        by_threshold = [need(threshold=t, model=model, patience=patience) for t in (0, 5, 10, 20, 30, 60, 120)]
        assert by_threshold == sorted(by_threshold, reverse=True) and by_threshold[0] > by_threshold[-1]
    by_patience = [need(model="erlang_a", patience=p) for p in (10, 30, 60, 120, 300, 900, 3600, 1e5)]
    assert by_patience == sorted(by_patience) and by_patience[-1] <= need()


def test_erlang_a_never_needs_more_agents_than_erlang_c():
    for volume in (5, 20, 100, 400, 2_000, 10_000):
        for aht in (120.0, 300.0, 600.0):
            for sl, threshold in ((0.8, 20.0), (0.9, 10.0), (0.6, 60.0)):
                rate = volume / 1800
                c = required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=sl, threshold_seconds=threshold)
                for patience in (30.0, 180.0, 900.0):
                    a = required_agents(arrival_rate=rate, aht_seconds=aht, sl_target=sl, threshold_seconds=threshold,
                                        model="erlang_a", patience_seconds=patience)
                    assert a <= c
                    # The reason, checked directly: at Erlang C's staffing Erlang A's SL is at least C's.
                    sl_a = erlang_a_metrics(c, arrival_rate=rate, aht_seconds=aht, patience_seconds=patience,
                                            threshold_seconds=threshold).service_level
                    sl_c = erlang_c_metrics(c, arrival_rate=rate, aht_seconds=aht,
                                            threshold_seconds=threshold).service_level
                    assert sl_a >= sl_c - 1e-12
    # And strictly fewer in a realistic case: 1,000 calls / 30 min, AHT 300 s, patience 2 min, 80/20.
    rate = 1000 / 1800
    c = required_agents(arrival_rate=rate, aht_seconds=300, sl_target=0.8, threshold_seconds=20)
    a = required_agents(arrival_rate=rate, aht_seconds=300, sl_target=0.8, threshold_seconds=20,
                        model="erlang_a", patience_seconds=120)
    assert a < c


def test_rate_and_volume_inputs_agree_and_bad_inputs_are_refused():
    by_rate = required_agents(arrival_rate=250 / 900, aht_seconds=200, sl_target=0.8, threshold_seconds=20)
    by_volume = required_agents(volume=250, interval_seconds=900, aht_seconds=200, sl_target=0.8, threshold_seconds=20)
    assert by_rate == by_volume
    with pytest.raises(ValueError):
        required_agents(arrival_rate=1.0, volume=5, interval_seconds=900, aht_seconds=200, sl_target=0.8,
                        threshold_seconds=20)
    with pytest.raises(ValueError):
        required_agents(arrival_rate=1.0, aht_seconds=200, sl_target=1.0, threshold_seconds=20)
    with pytest.raises(ValueError):
        required_agents(arrival_rate=1.0, aht_seconds=0, sl_target=0.8, threshold_seconds=20)


def test_scheduled_agents_grosses_up_for_shrinkage():
    assert scheduled_agents(8, 0.2) == 10  # 8 / 0.8 is 10.000000000000002 in floats
    assert scheduled_agents(14, 0.3) == 20
    assert scheduled_agents(100, 0.35) == 154
    assert scheduled_agents(0, 0.5) == 0
    assert scheduled_agents(7, 0.0) == 7
    with pytest.raises(ValueError):
        scheduled_agents(10, 1.0)


# Speed is measured by bench/bench_staffing.py (make bench), not asserted here.


def test_service_level_variants_order_and_drive_required_agents():
    # DOMAIN.md: default = answered within T ÷ (offered − abandoned within T); answered_over_offered counts
    # early abandons as misses, abandons_count_as_met as hits. So aoo ≤ default ≤ acm, staffing the reverse.
    r = erlang_a_metrics(9, arrival_rate=10 / 180, aht_seconds=180, patience_seconds=30, threshold_seconds=20)
    aoo, default, acm = (r.service_level_as(v) for v in ("answered_over_offered", "default", "abandons_count_as_met"))
    assert aoo < default < acm
    assert default == r.service_level
    assert acm == pytest.approx(r.answered_within_threshold + r.abandoned_within_threshold)
    need = {v: required_agents(arrival_rate=10 / 180, aht_seconds=180, sl_target=0.8, threshold_seconds=20,
                               model="erlang_a", patience_seconds=30, sl_variant=v)
            for v in ("answered_over_offered", "default", "abandons_count_as_met")}
    assert need["answered_over_offered"] >= need["default"] >= need["abandons_count_as_met"]
    assert need["answered_over_offered"] > need["abandons_count_as_met"]
    with pytest.raises(ValueError):
        r.service_level_as("nope")  # type: ignore[arg-type]
