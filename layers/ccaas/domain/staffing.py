"""Agents needed for one interval: Erlang C (M/M/N) and Erlang A (M/M/N+M). Pure stdlib math (and the
vocabulary's DomainError for an occupancy cap no sane staffing meets).

Notation (one interval, treated as stationary): λ arrivals per second, h average handle time (s),
μ = 1/h, A = λ·h offered load in Erlangs, N agents, T service-level threshold (s), θ mean patience (s),
γ = 1/θ abandonment rate. "Wait" is queue wait (DOMAIN.md: connected_at − enqueued_at).

Erlang C: customers never abandon. Valid for N > A.
    Erlang B by the recursion  B₀ = 1,  B_k = A·B_{k−1} / (k + A·B_{k−1})
    P(wait)  C = N·B_N / (N − A·(1 − B_N))
    SL(T)    = P(W ≤ T) = 1 − C·exp(−(N − A)·T / h)
    ASA      = E[W] = C·h / (N − A);   occupancy = A / N
  For N ≤ A the queue grows without bound: P(wait) = 1, SL = 0, ASA = ∞, occupancy = 1.
  Sources: Gross, Shortle, Thompson & Harris, "Fundamentals of Queueing Theory" 4th ed. (2008) §2.3;
  Cooper, "Introduction to Queueing Theory" 2nd ed. (1981) §3.4 (the B recursion, eq. 4.27);
  Koole, "Call Center Optimization" (2013) ch. 5.
  The recursion only ever multiplies numbers ≤ 1, so it cannot overflow (factorial forms do past
  ~170 agents) and it is forward-stable.

Erlang A (Palm 1943): each waiting customer abandons after an Exp(γ) patience. Stable for every N ≥ 0.
  Birth–death chain: π_k ∝ A^k / k! for k ≤ N; π_{N+i} = π_N·w_i,  w_i = ∏_{j=1..i} λ / (Nμ + jγ).
  With a = Nμ/γ = N·θ/h and b = λ/γ = λ·θ:  w_i = b^i / ((a+1)(a+2)…(a+i)), and
    S(a, b) = Σ_i w_i = a·e^b·b^(−a)·γ_inc(a, b)     (γ_inc: lower incomplete gamma; this is the
                                                    A(x, y) of Garnett, Mandelbaum & Reiman 2002)
    1/π_N = 1/B(N, A) + S(a, b) − 1,      P(wait) = π_N·S(a, b).
  A customer who finds i others waiting reaches an agent after the offered wait
  V = Σ_{j=0..i} Exp(Nμ + jγ) (FCFS: its position moves on each service completion and each
  abandonment ahead of it), so e^(−γV) ~ Beta(a, i+1). It is answered iff V ≤ its patience, so
  P(answered | i) = E[e^(−γV)] = a/(a+i+1). Summing over i (each sum is an incomplete-gamma closed
  form of Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call centers", 2007):
    P(abandon)                  = π_N·Σ w_i·(i+1)/(a+i+1)                 (= γ·E[queue]/λ)
    E[W] over all contacts      = θ·P(abandon)                            (Little's law)
    E[W; answered]              = π_N·θ·Σ w_i·a/(a+i+1)·Σ_{j=1..i+1} 1/(a+j)
    ASA (answered contacts)     = E[W; answered] / (1 − P(abandon))
  With x = e^(−γT) and w'_i the w_i with b replaced by b·x, and F = x^(a+1)·e^(b(1−x)):
    P(W > T, still waiting)     = π_N·F·Σ w'_i
    P(answered within T)        = 1 − P(wait) + π_N·(Σ w_i·a/(a+i+1) − F·Σ w'_i·a/(a+i+1))
    P(abandoned within T)       = π_N·(Σ w_i·(i+1)/(a+i+1) − F·Σ w'_i·(i+1)/(a+i+1))
  (the three add up to 1). As θ → ∞ this is Erlang C.
  Sources: Palm (1943); Garnett, Mandelbaum & Reiman, "Designing a call center with impatient
  customers", MSOM 4(3) 2002; Zeltyn & Mandelbaum, Queueing Systems 51 (2005).
  Numerics: the sums are the chain's tail probabilities, summed term by term with a running rescale
  (terms kept below 1e200, the scale carried as a logarithm) until past the peak the remaining tail
  is < 1e−17 of every sum, so overloaded systems (b ≫ a, terms like e^b) neither overflow nor lose
  digits; everything is combined in log space.

Service level (DOMAIN.md "Metrics"): `default` = answered within T ÷ (offered − abandoned within T);
`answered_over_offered` = answered within T ÷ offered; `abandons_count_as_met` = (answered within T
+ abandoned within T) ÷ offered. Under Erlang C the three coincide.

Required agents: the smallest N whose service level, ASA (answered contacts), occupancy and (Erlang A)
abandonment meet the targets. Erlang C scans N upward in one recursion pass (each step gives B for
the next N). Erlang A starts from the Erlang C answer (abandonment only shortens waits, so for SL /
ASA / occupancy it never needs more; an abandonment cap can ask for more, then it steps up), gallops
down until the targets fail and bisects: every quantity above is monotone in N.

Warm start: for N ≥ A the recursion is started at k₀ = A − 10·√A − 10 with 1/B ≈ A/(A − k₀) instead
of at 0. In 1/B_k = 1 + (k/A)·(1/B_{k−1}) an error in 1/B_{k₀} (at most its value, A/(A − k₀)) is
multiplied by ∏_{k₀<j≤A} j/A ≤ exp(−(A−k₀)²/(2A)) ≤ e^−50 relative to the result, so B(N, A) is as
exact as from 0 but costs O(√A) steps instead of O(A) (8,300 Erlangs: ~920 steps instead of ~8,300).
For N < A (overloaded Erlang A) the same damping over the last m steps, exp(−m(2(A−N) + m − 1)/(2A)),
picks k₀ = N − m.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ccaas.domain.vocabulary import DomainError

Model = Literal["erlang_c", "erlang_a"]
SlVariant = Literal["default", "answered_over_offered", "abandons_count_as_met"]
SL_VARIANTS: tuple[str, ...] = ("default", "answered_over_offered", "abandons_count_as_met")

_WARM_START_SIGMAS = 10.0
_SERIES_TOLERANCE = 1e-17
_RESCALE_ABOVE = 1e200
_LOG_RESCALE = math.log(_RESCALE_ABOVE)
# Erlang A's series start this many standard deviations (√y) below their peak once that skips this many terms:
# what they leave out is < e^(−112) of the sums.
_PEAK_SIGMAS = 15.0
_SKIP_FROM_TERMS = 1024
# No finite staffing answers 100 % within T: a queue's target of 1 (stored before writes were bounded) is planned
# as this instead.
SL_TARGET_OF_ONE_PLANNED_AS = 0.9999
# Beyond this, scheduled = required ÷ (1 − shrinkage) is ten times the agents on the phones and more: an input
# error, not a plan (0.9999999999 once answered 5e10 agents).
MAX_SHRINKAGE = 0.9


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """Expected steady-state numbers for one interval staffed with `agents`.

    Probabilities are fractions of offered contacts; times are seconds. `service_level` is DOMAIN.md's
    default definition; `service_level_as()` gives the named variants.
    """

    model: Model
    agents: int
    arrival_rate: float  # contacts per second
    aht_seconds: float
    threshold_seconds: float
    patience_seconds: float | None  # None: infinitely patient (Erlang C)
    offered_load: float  # Erlangs, λ·h
    p_wait: float  # an arriving contact finds every agent busy
    p_abandon: float
    answered_within_threshold: float  # P(answered and queue wait ≤ T)
    abandoned_within_threshold: float  # P(abandoned and queue wait ≤ T)
    service_level: float  # answered within T ÷ (offered − abandoned within T)
    asa_seconds: float  # mean queue wait of answered contacts (∞ if unstable / nobody answered)
    mean_wait_seconds: float  # mean queue wait over all contacts, abandoned ones included
    occupancy: float  # busy agent time ÷ staffed agent time

    @property
    def stable(self) -> bool:
        """Erlang C needs N > A; Erlang A is always stable."""
        return (self.model == "erlang_a" and self.patience_seconds is not None) or self.agents > self.offered_load

    def service_level_as(self, variant: SlVariant) -> float:
        if variant == "default":
            return self.service_level
        if variant == "answered_over_offered":
            return self.answered_within_threshold
        if variant == "abandons_count_as_met":
            return self.answered_within_threshold + self.abandoned_within_threshold
        raise ValueError(f"unknown service-level variant {variant!r}; one of {SL_VARIANTS}")


# ---------------------------------------------------------------- Erlang B / C


def offered_load(arrival_rate: float, aht_seconds: float) -> float:
    """A = λ·h in Erlangs."""
    return arrival_rate * aht_seconds


def arrival_rate_from_volume(volume: float, interval_seconds: float) -> float:
    """Contacts per interval → λ per second (Erlang models assume arrivals spread evenly over it)."""
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be > 0")
    return volume / interval_seconds


def erlang_b_sequence(offered_load: float, first_agents: int) -> Iterator[tuple[int, float]]:
    """(N, B(N, A)) for N = first_agents, first_agents + 1, … from a single recursion pass."""
    a = offered_load
    if first_agents < 0 or a < 0:
        raise ValueError("agents and offered load must be >= 0")
    k, b = 0, 1.0
    warm_start = _warm_start(first_agents, a)
    if warm_start > 0:
        # 1/B ≈ A/(A − k₀) is the fixed point of 1/B_k = 1 + (k/A)/B_{k−1} below A; its error is
        # damped below e^−50 relative by the time k reaches first_agents (module docstring).
        k, b = warm_start, (a - warm_start) / a
    while k < first_agents:
        k += 1
        b = a * b / (k + a * b)
    while True:
        yield k, b
        k += 1
        b = a * b / (k + a * b)


def _warm_start(agents: int, load: float) -> int:
    """Where to start the recursion for B(agents, load) without losing accuracy (0: from B₀)."""
    if load <= 0 or agents <= 0:
        return 0
    if agents >= load:
        return max(0, math.floor(load - _WARM_START_SIGMAS * math.sqrt(load) - 10.0))
    # Below A every step multiplies the error by j/A < 1: m steps back from N (gap d = A − N) damp
    # it by ≤ exp(−m(2d + m − 1)/(2A)); ask for e^−50 beyond the ≤ A/(A − k₀) ≤ A initial error.
    gap, damping = load - agents, 50.0 + math.log(max(load, 1.0))
    steps = math.ceil((-(2 * gap - 1) + math.sqrt((2 * gap - 1) ** 2 + 8 * load * damping)) / 2)
    return max(0, agents - steps)


def erlang_b(agents: int, offered_load: float) -> float:
    """Blocking probability of M/M/N/N (lost calls)."""
    return next(erlang_b_sequence(offered_load, agents))[1]


def _erlang_c_from_b(agents: int, offered_load: float, b: float) -> float:
    return agents * b / (agents - offered_load * (1.0 - b))


def erlang_c(agents: int, offered_load: float) -> float:
    """P(wait) for M/M/N; 1.0 when N ≤ A (unstable: everybody waits)."""
    if offered_load <= 0:
        return 0.0
    if agents <= offered_load:
        return 1.0
    return _erlang_c_from_b(agents, offered_load, erlang_b(agents, offered_load))


def _erlang_c_result(agents: int, arrival_rate: float, aht_seconds: float, threshold_seconds: float,
                     p_wait: float, model: Model = "erlang_c") -> StaffingResult:
    load = arrival_rate * aht_seconds
    if load <= 0:
        return _idle_result(model, agents, arrival_rate, aht_seconds, threshold_seconds, None)
    if agents <= load:
        sl, asa, occupancy = 0.0, math.inf, (1.0 if agents > 0 else 0.0)
    else:
        spare = agents - load
        sl = 1.0 - p_wait * math.exp(-spare * threshold_seconds / aht_seconds)
        asa, occupancy = p_wait * aht_seconds / spare, load / agents
    return StaffingResult(
        model=model, agents=agents, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
        threshold_seconds=threshold_seconds, patience_seconds=None, offered_load=load,
        p_wait=p_wait, p_abandon=0.0, answered_within_threshold=sl, abandoned_within_threshold=0.0,
        service_level=sl, asa_seconds=asa, mean_wait_seconds=asa, occupancy=occupancy,
    )


def _idle_result(model: Model, agents: int, arrival_rate: float, aht_seconds: float,
                 threshold_seconds: float, patience_seconds: float | None) -> StaffingResult:
    # Nobody arrives: nobody waits, the target is met by convention.
    return StaffingResult(
        model=model, agents=agents, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
        threshold_seconds=threshold_seconds, patience_seconds=patience_seconds, offered_load=0.0,
        p_wait=0.0, p_abandon=0.0, answered_within_threshold=1.0, abandoned_within_threshold=0.0,
        service_level=1.0, asa_seconds=0.0, mean_wait_seconds=0.0, occupancy=0.0,
    )


def _check_inputs(agents: int, arrival_rate: float, aht_seconds: float, threshold_seconds: float) -> None:
    if agents < 0:
        raise ValueError("agents must be >= 0")
    if arrival_rate < 0 or threshold_seconds < 0:
        raise ValueError("arrival_rate and threshold_seconds must be >= 0")
    if arrival_rate > 0 and not aht_seconds > 0:
        raise ValueError("aht_seconds must be > 0 when contacts arrive")


def erlang_c_metrics(agents: int, *, arrival_rate: float, aht_seconds: float,
                     threshold_seconds: float) -> StaffingResult:
    """Erlang C numbers for one interval (module docstring for the formulas)."""
    _check_inputs(agents, arrival_rate, aht_seconds, threshold_seconds)
    load = arrival_rate * aht_seconds
    return _erlang_c_result(agents, arrival_rate, aht_seconds, threshold_seconds, erlang_c(agents, load))


# ---------------------------------------------------------------- Erlang A


@dataclass(frozen=True, slots=True)
class _TailSums:
    """Σ_i u_i·weight for u_i = y^i / ((a+1)…(a+i)); true sums are exp(log_scale)·field."""

    log_scale: float
    total: float  # weight 1
    answered: float  # a/(a+i+1)
    abandoned: float  # (i+1)/(a+i+1)
    answered_wait: float  # a/(a+i+1) · Σ_{j=1..i+1} 1/(a+j)   (times θ: E[W; answered | i])


def _tail_sums(a: float, y: float, *, with_wait: bool) -> _TailSums:
    # Hot loop of Erlang A (hundreds of terms per call): one division per term; the `a·` factors and
    # the total (= answered + abandoned, both positive) are applied after the loop.
    log_scale, term = 0.0, 1.0
    over_d = abandoned = wait = harmonic = 0.0
    a_plus_1 = a + 1.0
    i = 0
    # The terms grow while y > a+1+i: deep in overload (b = λθ far above a = Nθ/h, e.g. one agent and a day's
    # patience) that is ~b−a terms, 10^5-10^8 of them, seconds to minutes of CPU for one interval. Their mass
    # lies within a few √y of the peak (below it, term_i ≤ peak·e^(−d²/2y) at distance d), so the sums start
    # _PEAK_SIGMAS·√y below it: term_i from lgamma (as the scale), the harmonic sum from digamma.
    start = int(y - a_plus_1 - _PEAK_SIGMAS * math.sqrt(y))
    if start > _SKIP_FROM_TERMS:
        i = start
        log_scale = i * math.log(y) - (math.lgamma(a_plus_1 + i) - math.lgamma(a_plus_1))
        if with_wait:
            harmonic = _digamma(a_plus_1 + i) - _digamma(a_plus_1)
    while True:
        inverse = 1.0 / (a_plus_1 + i)
        over_d += term * inverse
        abandoned += term * (i + 1) * inverse
        if with_wait:
            harmonic += inverse
            wait += term * inverse * harmonic
        ratio = y * inverse
        term *= ratio
        i += 1
        if ratio < 1.0:
            # Past the peak the terms shrink geometrically (ratio keeps falling), so the tail is at most
            # term/(1 − ratio); weights are ≤ 1 (≤ harmonic for the wait sum). Checked every 8 terms.
            if not i & 7:
                smallest = min(a * over_d, abandoned, a * wait) if with_wait else min(a * over_d, abandoned)
                if term * max(1.0, harmonic) <= _SERIES_TOLERANCE * smallest * (1.0 - ratio):
                    break
        elif term > _RESCALE_ABOVE:
            term /= _RESCALE_ABOVE
            over_d /= _RESCALE_ABOVE
            abandoned /= _RESCALE_ABOVE
            wait /= _RESCALE_ABOVE
            log_scale += _LOG_RESCALE
    answered = a * over_d
    return _TailSums(log_scale, answered + abandoned, answered, abandoned, a * wait)


def _digamma(x: float) -> float:
    """ψ(x) for x > 0: the recurrence up to 6, then the asymptotic series (error < 1e-13)."""
    shift = 0.0
    while x < 6.0:
        shift -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return shift + math.log(x) - 0.5 / x - series


def _log_add_exp(x: float, y: float) -> float:
    if x == -math.inf:
        return y
    if y == -math.inf:
        return x
    high, low = (x, y) if x >= y else (y, x)
    return high + math.log1p(math.exp(low - high))


def _safe_exp(x: float) -> float:
    return 0.0 if x < -745.0 else math.exp(min(x, 709.0))


def erlang_a_metrics(agents: int, *, arrival_rate: float, aht_seconds: float, patience_seconds: float | None,
                     threshold_seconds: float) -> StaffingResult:
    """Erlang A numbers for one interval; patience_seconds None or ∞ gives Erlang C."""
    _check_inputs(agents, arrival_rate, aht_seconds, threshold_seconds)
    if patience_seconds is None or math.isinf(patience_seconds):
        return _erlang_c_result(agents, arrival_rate, aht_seconds, threshold_seconds,
                                erlang_c(agents, arrival_rate * aht_seconds), model="erlang_a")
    if not patience_seconds > 0:
        raise ValueError("patience_seconds must be > 0")
    theta, load = patience_seconds, arrival_rate * aht_seconds
    if load <= 0:
        return _idle_result("erlang_a", agents, arrival_rate, aht_seconds, threshold_seconds, theta)
    if agents == 0:
        # Everybody waits until their patience runs out.
        abandoned_within = -math.expm1(-threshold_seconds / theta)
        return StaffingResult(
            model="erlang_a", agents=0, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
            threshold_seconds=threshold_seconds, patience_seconds=theta, offered_load=load, p_wait=1.0,
            p_abandon=1.0, answered_within_threshold=0.0, abandoned_within_threshold=abandoned_within,
            service_level=0.0, asa_seconds=math.inf, mean_wait_seconds=theta, occupancy=0.0,
        )

    a = agents * theta / aht_seconds
    b = arrival_rate * theta
    at_b = _tail_sums(a, b, with_wait=True)
    x_complement = -math.expm1(-threshold_seconds / theta)  # 1 − x, x = e^(−γT), without cancellation
    at_bx = _tail_sums(a, b * (1.0 - x_complement), with_wait=False)

    # q = π_N·exp(log_scale): 1/q = exp(−log_scale)·(1/B − 1) + total.
    blocking = erlang_b(agents, load)
    if blocking <= 0.0:
        q = 0.0
    else:
        log_inverse_b_minus_1 = -math.inf if blocking >= 1.0 else math.log1p(-blocking) - math.log(blocking)
        q = _safe_exp(-_log_add_exp(log_inverse_b_minus_1 - at_b.log_scale, math.log(at_b.total)))
    # F = x^(a+1)·e^(b(1−x)), joined with the two series' scales.
    log_f = (at_bx.log_scale - at_b.log_scale - (a + 1.0) * threshold_seconds / theta + b * x_complement)
    f = _safe_exp(log_f)

    p_wait = min(1.0, q * at_b.total)
    p_abandon = min(1.0, q * at_b.abandoned)
    answered_within = max(0.0, 1.0 - p_wait + q * (at_b.answered - f * at_bx.answered))
    abandoned_within = max(0.0, q * (at_b.abandoned - f * at_bx.abandoned))
    answered = 1.0 - p_abandon
    asa = q * at_b.answered_wait * theta / answered if answered > 0 else math.inf
    not_abandoned_early = 1.0 - abandoned_within
    return StaffingResult(
        model="erlang_a", agents=agents, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
        threshold_seconds=threshold_seconds, patience_seconds=theta, offered_load=load,
        p_wait=p_wait, p_abandon=p_abandon, answered_within_threshold=answered_within,
        abandoned_within_threshold=abandoned_within,
        service_level=answered_within / not_abandoned_early if not_abandoned_early > 0 else 0.0,
        asa_seconds=asa, mean_wait_seconds=theta * p_abandon,
        occupancy=min(1.0, load * answered / agents),
    )


def staffing_metrics(agents: int, *, arrival_rate: float, aht_seconds: float, threshold_seconds: float,
                     model: Model = "erlang_c", patience_seconds: float | None = None) -> StaffingResult:
    """One entry point for both models (Erlang A needs patience_seconds)."""
    if model == "erlang_c":
        return erlang_c_metrics(agents, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
                                threshold_seconds=threshold_seconds)
    if model == "erlang_a":
        if patience_seconds is None:
            raise ValueError("model 'erlang_a' needs patience_seconds")
        return erlang_a_metrics(agents, arrival_rate=arrival_rate, aht_seconds=aht_seconds,
                                patience_seconds=patience_seconds, threshold_seconds=threshold_seconds)
    raise ValueError(f"unknown model {model!r}")


# ---------------------------------------------------------------- required / scheduled agents


@dataclass(frozen=True, slots=True)
class _Targets:
    sl_target: float
    max_asa_seconds: float | None
    max_occupancy: float | None
    max_abandon: float | None
    sl_variant: SlVariant

    def met(self, result: StaffingResult) -> bool:
        if result.service_level_as(self.sl_variant) < self.sl_target:
            return False
        if self.max_asa_seconds is not None and result.asa_seconds > self.max_asa_seconds:
            return False
        if self.max_abandon is not None and result.p_abandon > self.max_abandon:
            return False
        return self.max_occupancy is None or result.occupancy <= self.max_occupancy


def _resolve_rate(arrival_rate: float | None, volume: float | None, interval_seconds: float | None) -> float:
    if (arrival_rate is None) == (volume is None):
        raise ValueError("give exactly one of arrival_rate or volume (with interval_seconds)")
    if arrival_rate is not None:
        return arrival_rate
    if interval_seconds is None:
        raise ValueError("volume needs interval_seconds")
    return arrival_rate_from_volume(volume, interval_seconds)  # type: ignore[arg-type]


def required_agents(
    *,
    aht_seconds: float,
    sl_target: float,
    threshold_seconds: float,
    arrival_rate: float | None = None,
    volume: float | None = None,
    interval_seconds: float | None = None,
    max_asa_seconds: float | None = None,
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    model: Model = "erlang_c",
    patience_seconds: float | None = None,
    sl_variant: SlVariant = "default",
) -> int:
    """Smallest N meeting the service level (SL ≥ sl_target within threshold_seconds) and, if given,
    ASA ≤ max_asa_seconds, occupancy ≤ max_occupancy and abandonment ≤ max_abandon (Erlang A; a
    large overloaded Erlang A queue can meet 80/20 while losing 10 %+ of callers, so set it there).
    Load as arrival_rate (per second) or as volume per interval of interval_seconds. 0 when nothing
    arrives."""
    rate = _resolve_rate(arrival_rate, volume, interval_seconds)
    _check_inputs(0, rate, aht_seconds, threshold_seconds)
    if max_occupancy is not None and not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max_occupancy must be in (0, 1]")
    if max_asa_seconds is not None and max_asa_seconds < 0:
        raise ValueError("max_asa_seconds must be >= 0")
    if max_abandon is not None and not 0.0 < max_abandon <= 1.0:
        raise ValueError("max_abandon must be in (0, 1]")
    if sl_variant not in SL_VARIANTS:
        raise ValueError(f"unknown service-level variant {sl_variant!r}")
    if rate == 0:
        return 0  # before the target check: an interval nobody calls in needs nobody, whatever the target
    if not 0.0 < sl_target < 1.0:
        raise ValueError("sl_target must be in (0, 1): no finite staffing reaches 100 %")
    targets = _Targets(sl_target, max_asa_seconds, max_occupancy, max_abandon, sl_variant)
    erlang_c_agents = _required_erlang_c(rate, aht_seconds, threshold_seconds, targets)
    if model == "erlang_c":
        return erlang_c_agents
    if model != "erlang_a":
        raise ValueError(f"unknown model {model!r}")
    if patience_seconds is None or math.isinf(patience_seconds):
        return erlang_c_agents
    return _required_erlang_a(rate, aht_seconds, threshold_seconds, patience_seconds, targets, erlang_c_agents)


def _search_limit(load: float) -> int:
    # Far beyond any sane target (SL 1 − 1e-12 needs ~A + 7√A); stops a runaway scan on bad input.
    return math.ceil(load + 100.0 * math.sqrt(load) + 1000.0)


def _required_erlang_c(rate: float, aht: float, threshold: float, targets: _Targets) -> int:
    load = rate * aht
    first = math.floor(load) + 1
    limit = _search_limit(load)
    if targets.max_occupancy is not None:
        # occupancy = A/N ≤ cap. Only a tiny cap starts the scan past the limit: refuse it before scanning, as the
        # scan grows as load/cap (a cap of 1e-300 never ended).
        if load / targets.max_occupancy > limit:
            raise DomainError(f"max_occupancy {targets.max_occupancy} needs more than {limit} agents for "
                              f"{load:.3f} Erlangs", field="max_occupancy")
        first = max(first, math.ceil(load / targets.max_occupancy))
    for agents, b in erlang_b_sequence(load, first):
        p_wait = _erlang_c_from_b(agents, load, b)
        if targets.met(_erlang_c_result(agents, rate, aht, threshold, p_wait)):
            return agents
        if agents > limit:
            raise ValueError("targets not reachable within a sane number of agents")
    raise AssertionError("unreachable")


def _required_erlang_a(rate: float, aht: float, threshold: float, patience: float, targets: _Targets,
                       upper_hint: int) -> int:
    def met(agents: int) -> bool:
        return targets.met(erlang_a_metrics(agents, arrival_rate=rate, aht_seconds=aht,
                                            patience_seconds=patience, threshold_seconds=threshold))

    # Feasible upper end: the Erlang C answer, unless an abandonment cap asks for more: then walk up.
    high, step, limit = upper_hint, 1, _search_limit(rate * aht)
    while not met(high):
        high += step
        step *= 2
        if high > limit:
            raise ValueError("targets not reachable within a sane number of agents")
    # Gallop down until infeasible (the answer is usually a few % below Erlang C's), then bisect.
    step, low = 1, high - 1
    while low > 0 and met(low):
        high, low = low, max(0, low - step)
        step *= 2
    if low == 0 and met(0):
        return 0
    while high - low > 1:
        middle = (low + high) // 2
        if met(middle):
            high = middle
        else:
            low = middle
    return high


def scheduled_agents(required: int, shrinkage: float) -> int:
    """Agents to schedule so that `required` remain after shrinkage (breaks, training, absence):
    ceil(required / (1 − shrinkage))."""
    if not 0.0 <= shrinkage <= MAX_SHRINKAGE:
        raise ValueError(f"shrinkage must be in [0, {MAX_SHRINKAGE}]")
    # The tolerance stops float noise (8 / 0.8 = 10.000000000000002) from adding an agent.
    return math.ceil(required / (1.0 - shrinkage) - 1e-9)
