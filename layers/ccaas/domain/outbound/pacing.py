"""Dial pacing (pure): how many calls to place now, per mode, from the live state of the campaign.

- preview: 0 — the agent dials the record they were offered (agent-initiated).
- progressive: free agents − calls already ringing for them (× LINES_PER_AGENT = 1): every call answered
  has an agent waiting, so nothing is ever dropped, and agents wait through every ring. "Ringing for them":
  every campaign's calls to the agents' queue with no answer yet (an answered call's agent is busy, not free;
  one answered but not yet offered to its agent holds that agent: the caller leaves it out of agents_free).
- predictive: dials ahead of free agents. Over the horizon h = mean time from dial to a person answering
  + the 2 s grace, let
      Y = free + Bin(on_call, k·p_call) + Bin(wrap_up, k·p_wrap)   agents able to take a call by then
      X = Bin(in_flight + n, a)                                     persons answering (a = rolling answer rate)
  where p_wrap = 1 − e^(−h/w) (wrap-up remaining ~ Exp(w)) and p_call = P(Exp(t) + Exp(w) ≤ h)
  = 1 − (t·e^(−h/t) − w·e^(−h/w)) / (t − w) (talk then wrap-up). k is a timing correction: an agent
  freeing *within* the horizon serves an answer only if it frees before that answer + the grace g = 2 s.
  With its freeing instant U and the answer's T both ~ Uniform(0, h), k = P(U ≤ T + g) = 1 − (h − g)²/2h²
  (0.63 at h = 14 s; `soon_free_weight` overrides it). (Counted whole, as if already free, the model aimed
  at < 1 % predicted drops while the campaign-day simulation measured ~2 % from pacing on top of AMD's
  ~0.4 %.) Expected drops E[(X − Y)⁺] over expected answers E[X] is the predicted abandonment ratio; n is
  the largest count (≤ max_dials) that keeps it ≤ the TARGET, and never less than the progressive count
  (those calls have an agent each). E[(X − y)⁺] comes from the tail sums of X's pmf, and X's pmf grows one
  dial at a time (pmf'(x) = (1−a)·pmf(x) + a·pmf(x−1)), so a decision costs O(n·(N + agents)).
  A caller that knows more (elapsed talk / wrap-up time per agent, ring time per call in flight) passes
  `busy_free_p` and `in_flight_answer_p`; Y and X become Poisson-binomial over those probabilities (the
  busy agents' still weighted by k).
  The abandonment controller (`abandon_target`) works on the campaign's measured rolling rate m, the only
  feedback that counts for the cap; it absorbs what the model misses (AMD's drops, which happen whatever
  the pacing, and the timing the model simplifies): with r = m / limit,
      TARGET = limit × MAX_TARGET_SHARE (1.0)   for r ≤ RELAX_BELOW (0.5)
             = limit × MIN_TARGET_SHARE (0.07)  for r ≥ TIGHTEN_AT (0.9)
             linear in between,
  so the pacer spends the budget while the campaign is well under its cap and all but stops over-dialing
  as the rate nears it; the measured rate settles between 50 % and 90 % of the cap instead of touching
  it. At or over the limit the pacer dials progressively (the same fallback `compliance.pacing_mode`
  gives from the 30-day counts), and the pacer never dials fewer calls than progressive would.
  Small-count guard (the 30-day counts `answered_30d` / `abandoned_30d`, when the caller passes them):
  on a campaign's first day one drop in 20 answers is a 5 % ratio, yet the rule measures the whole
  30-day period. While the window holds fewer than N_min = MIN_WINDOW_ANSWERS (200) answers the controller
  works from a drop budget instead of the raw ratio:
      budget = floor(limit × max(answered, N_min)) − abandoned          (`drop_budget`)
  the pacer dials ahead only while budget > 0 (so never when abandoned ≥ limit × max(answered, N_min):
  it never plans to end the window above the cap given what it knows), and the ramp above runs on the
  share of the budget used, r = abandoned / (limit × max(answered, N_min)); from N_min answers on that is
  m / limit, the ratio ramp unchanged. Why 200: the budget is then 6 drops; AMD alone (~0.4 % of answers)
  exceeds it with probability < 10⁻⁵, and a pacer dropping 1.5 % of answers (the controller's settling
  point) spends it before 200 answers with probability ~3 %, when it dials progressively until the
  answers catch up. The guard assumes the window reaches N_min answers (≈ 45 min for 20 agents): a
  campaign stopped for good earlier, with its budget spent, could close its 30 days above the cap.
  The counts win over `measured_abandon_rate`, which stays for callers that only know the rate. (The
  compliance gate, `compliance.abandonment_gate`, still checks the raw ratio: below N_min it may force
  progressive dialing where the budget would not; `may_dial_ahead` is the test it can share.)
- agentless: rate-limited: min(calls_per_second × tick_s, max_lines − in_flight), tick_s the time until the next
  decision (the dialing loop's tick), so the campaign dials calls_per_second whatever the loop's cadence.

Carrier-side rules the dialer enforces (constants, see models): ring at least MIN_RING_S = 15 s before
declaring no answer; a person answering with no free agent within 2 s is dropped with a recorded message.
"""
from __future__ import annotations

import math

from pydantic import Field, model_validator

from ccaas.domain.vocabulary import Frozen, Int
from ccaas.domain.outbound.models import ABANDON_MESSAGE_WITHIN_S, MAX_ABANDON_RATE, CampaignMode

__all__ = ["LINES_PER_AGENT", "MAX_TARGET_SHARE", "MIN_TARGET_SHARE", "MIN_WINDOW_ANSWERS", "RELAX_BELOW", "TIGHTEN_AT",
           "TICK_S", "PacingPlan", "PacingState", "abandon_target", "budget_share_used", "dials_to_place", "drop_budget",
           "may_dial_ahead", "predictive_plan", "soon_free_weight"]

LINES_PER_AGENT = 1
RELAX_BELOW = 0.5        # measured / limit at or under which the target is MAX_TARGET_SHARE of the limit
MAX_TARGET_SHARE = 1.0
TIGHTEN_AT = 0.9         # measured / limit at or over which the target is MIN_TARGET_SHARE of the limit
MIN_TARGET_SHARE = 0.07
MIN_WINDOW_ANSWERS = 200  # N_min: below it the controller works from the drop budget (see the module docstring)
TICK_S = 5.0  # the dialing loop's tick (functions/dial_campaign): one pacing decision covers this long


class PacingState(Frozen):
    agents_free: Int = Field(ge=0, le=10_000, description="ready now, no call, none offered, and not held by an "
                                                          "answered call waiting for routing to offer it")
    agents_on_call: Int = Field(default=0, ge=0, le=10_000)
    agents_in_wrap_up: Int = Field(default=0, ge=0, le=10_000)
    calls_in_flight: Int = Field(default=0, ge=0, le=100_000,
                                 description="dialed for these agents (by any campaign), not yet answered or failed")
    answer_rate: float = Field(default=0.3, ge=0, le=1, description="rolling share of dials a person answers")
    mean_talk_s: float = Field(default=210.0, gt=0, le=86_400)
    mean_wrap_s: float = Field(default=30.0, gt=0, le=86_400)
    mean_answer_delay_s: float = Field(default=10.0, ge=0, le=600, description="dial to a person's answer")
    measured_abandon_rate: float = Field(default=0.0, ge=0, le=1,
                                         description="the campaign's rolling rate (ignored when the counts are given)")
    answered_30d: Int | None = Field(default=None, ge=0, le=1_000_000_000,
                                     description="calls answered by a person in the campaign's 30-day window")
    abandoned_30d: Int | None = Field(default=None, ge=0, le=1_000_000_000,
                                      description="of those, dropped (abandoned)")
    min_window_answers: Int = Field(default=MIN_WINDOW_ANSWERS, ge=1, le=1_000_000,
                                    description="N_min: below it the controller works from the drop budget")
    max_abandon_rate: float = Field(default=MAX_ABANDON_RATE, gt=0, le=MAX_ABANDON_RATE)
    max_dials: Int = Field(default=200, ge=0, le=10_000, description="per decision")
    # agentless
    max_lines: Int = Field(default=50, ge=0, le=10_000)
    calls_per_second: float = Field(default=5.0, ge=0, le=1_000)
    tick_s: float = Field(default=TICK_S, gt=0, le=3_600,
                          description="seconds until the next decision: agentless dials calls_per_second × tick_s")
    # optional sharper estimates the caller may know from elapsed times (see predictive_plan)
    busy_free_p: tuple[float, ...] | None = Field(
        default=None, max_length=10_000,
        description="per busy agent (on call or wrap-up): P(free within the horizon); replaces the Exp model")
    in_flight_answer_p: tuple[float, ...] | None = Field(
        default=None, max_length=100_000,
        description="per call in flight: P(a person answers within the horizon); replaces Bin(in_flight, a)")
    soon_free_weight: float | None = Field(
        default=None, ge=0, le=1,
        description="weight of a busy agent's P(free within the horizon): it must free before the answer; "
                    "None = from the horizon (see soon_free_weight())")

    @model_validator(mode="after")
    def _counts_together(self) -> PacingState:
        if (self.answered_30d is None) != (self.abandoned_30d is None):
            raise ValueError("answered_30d and abandoned_30d come together")
        return self


class PacingPlan(Frozen):
    dials: Int
    target: float
    expected_answers: float
    expected_drops: float

    @property
    def predicted_abandon_rate(self) -> float:
        return self.expected_drops / self.expected_answers if self.expected_answers else 0.0


def drop_budget(answered: int, abandoned: int, limit: float, min_answers: int = MIN_WINDOW_ANSWERS) -> int:
    """Drops the 30-day window can still take: floor(limit × max(answered, min_answers)) − abandoned (≤ 0: none)."""
    return math.floor(limit * max(answered, min_answers)) - abandoned


def may_dial_ahead(answered: int, abandoned: int, limit: float, min_answers: int = MIN_WINDOW_ANSWERS) -> bool:
    """May a predictive pacer dial ahead of free agents with these 30-day counts? Only with a drop left in
    the budget; never when abandoned ≥ limit × max(answered, min_answers)."""
    return drop_budget(answered, abandoned, limit, min_answers) > 0


def budget_share_used(state: PacingState) -> float:
    """r, the controller's input: abandoned / (limit × max(answered, N_min)) from the counts (the measured
    rate / limit from N_min answers on), else measured_abandon_rate / limit."""
    limit = state.max_abandon_rate
    if state.answered_30d is None or state.abandoned_30d is None:
        return state.measured_abandon_rate / limit
    return state.abandoned_30d / (limit * max(state.answered_30d, state.min_window_answers))


def _dials_ahead_allowed(state: PacingState) -> bool:
    if state.answered_30d is None or state.abandoned_30d is None:
        return state.measured_abandon_rate < state.max_abandon_rate
    return may_dial_ahead(state.answered_30d, state.abandoned_30d, state.max_abandon_rate, state.min_window_answers)


def abandon_target(state: PacingState) -> float:
    """The predicted-abandonment target for this decision, from the share of the budget used (non-increasing)."""
    limit = state.max_abandon_rate
    r = budget_share_used(state)
    if r <= RELAX_BELOW:
        share = MAX_TARGET_SHARE
    elif r >= TIGHTEN_AT:
        share = MIN_TARGET_SHARE
    else:
        ramp = (r - RELAX_BELOW) / (TIGHTEN_AT - RELAX_BELOW)
        share = MAX_TARGET_SHARE + (MIN_TARGET_SHARE - MAX_TARGET_SHARE) * ramp
    return limit * share


def soon_free_weight(state: PacingState) -> float:
    """P(an agent freeing within the horizon frees before a person answering within it, + the grace):
    both instants ~ Uniform(0, h), h = mean answer delay + grace g: 1 − (h − g)² / 2h²."""
    if state.soon_free_weight is not None:
        return state.soon_free_weight
    g = ABANDON_MESSAGE_WITHIN_S
    h = state.mean_answer_delay_s + g
    return 1 - (h - g) ** 2 / (2 * h * h)


def _binomial(n: int, p: float) -> list[float]:
    pmf = [1.0]
    for _ in range(n):
        pmf = _grow(pmf, p)
    return pmf


def _poisson_binomial(probabilities: tuple[float, ...]) -> list[float]:
    certain = sum(1 for p in probabilities if p >= 1.0)
    pmf = [0.0] * certain + [1.0]
    for p in probabilities:
        if 0.0 < p < 1.0:  # p = 0 changes nothing; p = 1 is a shift (above)
            pmf = _grow(pmf, p)
    return pmf


def _grow(pmf: list[float], p: float) -> list[float]:
    """The pmf of X + Bernoulli(p) from the pmf of X."""
    q = 1.0 - p
    return [a * q + b * p for a, b in zip([*pmf, 0.0], [0.0, *pmf])]


def _convolve(a: list[float], b: list[float]) -> list[float]:
    out = [0.0] * (len(a) + len(b) - 1)
    for i, u in enumerate(a):
        if u:
            for j, v in enumerate(b):
                out[i + j] += u * v
    return out


def _free_probabilities(state: PacingState) -> tuple[float, float]:
    h = state.mean_answer_delay_s + ABANDON_MESSAGE_WITHIN_S
    t, w = state.mean_talk_s, state.mean_wrap_s
    p_wrap = 1 - math.exp(-h / w)
    if abs(t - w) < 1e-9:
        p_call = 1 - math.exp(-h / t) * (1 + h / t)  # Erlang-2
    else:
        p_call = 1 - (t * math.exp(-h / t) - w * math.exp(-h / w)) / (t - w)
    return max(0.0, min(1.0, p_call)), max(0.0, min(1.0, p_wrap))


def _expected_excess(pmf_x: list[float], pmf_y: list[float]) -> float:
    """E[(X − Y)⁺] for independent X, Y with the given pmfs (index = value)."""
    n = len(pmf_x)
    tail0, tail1 = [0.0] * (n + 1), [0.0] * (n + 1)  # tailK[y] = Σ_{x>y} x^K pmf(x)
    for x in range(n - 1, -1, -1):
        tail0[x] = tail0[x + 1] + (pmf_x[x + 1] if x + 1 < n else 0.0)
        tail1[x] = tail1[x + 1] + ((x + 1) * pmf_x[x + 1] if x + 1 < n else 0.0)
    total = 0.0
    for y, q in enumerate(pmf_y):
        if q and y < n:
            total += q * (tail1[y] - y * tail0[y])
    return total


def predictive_plan(state: PacingState) -> PacingPlan:
    """The predictive dial count with the predicted answers and drops it implies (see module docstring)."""
    target = abandon_target(state)
    floor = _progressive(state)
    if not _dials_ahead_allowed(state):
        return PacingPlan(dials=floor, target=target, expected_answers=0.0, expected_drops=0.0)
    p_call, p_wrap = _free_probabilities(state)
    k = soon_free_weight(state)
    if state.busy_free_p is not None:
        busy = _poisson_binomial(tuple(k * p for p in state.busy_free_p))
    else:
        busy = _convolve(_binomial(state.agents_on_call, k * p_call),
                         _binomial(state.agents_in_wrap_up, k * p_wrap))
    pmf_y = [0.0] * state.agents_free + busy
    a = state.answer_rate
    if state.in_flight_answer_p is not None:
        pmf_x, flying = _poisson_binomial(state.in_flight_answer_p), sum(state.in_flight_answer_p)
    else:
        pmf_x, flying = _binomial(state.calls_in_flight, a), state.calls_in_flight * a
    for _ in range(floor):
        pmf_x = _grow(pmf_x, a)
    best = PacingPlan(dials=floor, target=target, expected_answers=flying + floor * a,
                      expected_drops=_expected_excess(pmf_x, pmf_y))
    if a <= 0:
        return best
    for n in range(floor + 1, state.max_dials + 1):
        pmf_x = _grow(pmf_x, a)
        answers = flying + n * a
        drops = _expected_excess(pmf_x, pmf_y)
        if drops > target * answers:
            break
        best = PacingPlan(dials=n, target=target, expected_answers=answers, expected_drops=drops)
    return best


def _progressive(state: PacingState) -> int:
    return min(state.max_dials, max(0, state.agents_free * LINES_PER_AGENT - state.calls_in_flight))


def dials_to_place(mode: CampaignMode, state: PacingState) -> int:
    """Calls to place now (see the module docstring for each mode's math)."""
    if mode is CampaignMode.PREVIEW:
        return 0
    if mode is CampaignMode.PROGRESSIVE:
        return _progressive(state)
    if mode is CampaignMode.PREDICTIVE:
        return predictive_plan(state).dials
    return max(0, min(int(state.calls_per_second * state.tick_s), state.max_lines - state.calls_in_flight,
                      state.max_dials))
