"""A simulated telephone carrier (pure, seeded): what happens when a number is dialed.

It is the in-memory twin of the dialer port's far side (Amazon Connect StartOutboundVoiceContact on AWS):
given a `random.Random`, `place_call` draws the outcome of one dial from a `CarrierProfile` — a person
answers, an answering machine / voicemail picks up, nobody answers, busy, or the number is invalid (SIT
tone) — with the seconds from dialing until that happens, and what answering-machine detection (AMD)
says. No I/O and no clock: the caller owns time (a discrete-event simulation or the local runtime).

Rules the dialer side enforces with it: an unanswered call rings at least MIN_RING_S (15 s, 47 CFR
64.1200(a)(6)) — `no_answer_timeout_s` below that is rejected; AMD errs both ways (a machine taken for a
person costs an agent a few seconds; a person taken for a machine is hung up on = an abandoned call,
which gets the recorded message).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from ccaas.domain.outbound.models import MIN_RING_S
from ccaas.ports_outbound import outcome_probabilities_fit

__all__ = ["CarrierProfile", "CarrierResult", "SimulatedCarrier"]

Outcome = Literal["human", "machine", "no_answer", "busy", "invalid"]


@dataclass(frozen=True)
class CarrierProfile:
    p_human: float = 0.30          # a person answers
    p_machine: float = 0.20        # voicemail / answering machine picks up
    p_busy: float = 0.05
    p_invalid: float = 0.05        # disconnected / not in service (SIT tone)
    # the rest rings out: no answer
    post_dial_delay_s: tuple[float, float] = (2.0, 4.0)   # dial to first ring (uniform)
    human_ring_median_s: float = 8.0                      # ring until a person answers (lognormal)
    human_ring_sigma: float = 0.5
    machine_ring_s: tuple[float, float] = (18.0, 28.0)    # voicemail picks up after 4-5 rings (uniform)
    no_answer_timeout_s: float = 28.0                     # the dialer gives up after ringing this long
    busy_s: tuple[float, float] = (1.0, 3.0)
    invalid_s: tuple[float, float] = (1.0, 2.5)
    amd_machine_detection: float = 0.92  # P(AMD says machine | machine)
    amd_false_machine: float = 0.005     # P(AMD says machine | person): the person is hung up on

    def __post_init__(self) -> None:
        if self.no_answer_timeout_s < MIN_RING_S:
            raise ValueError(f"ring at least {MIN_RING_S} s before declaring no answer (47 CFR 64.1200(a)(6))")
        # the dialer settings' own rule (DialerSettings refuses such settings with a 422 before they get here)
        if not outcome_probabilities_fit(self.p_human, self.p_machine, self.p_busy, self.p_invalid):
            raise ValueError("outcome probabilities must be in [0, 1] and sum to at most 1")


@dataclass(frozen=True)
class CarrierResult:
    outcome: Outcome
    seconds: float          # from dialing until answered, busy/invalid signalled, or the no-answer timeout
    amd_machine: bool       # what answering-machine detection says on an answered call


class SimulatedCarrier:
    def __init__(self, rng: random.Random, profile: CarrierProfile | None = None):
        self.rng = rng
        self.profile = profile or CarrierProfile()

    def place_call(self, number: str) -> CarrierResult:
        """One dial of `number` (the number itself does not bias the draw)."""
        p, r = self.profile, self.rng
        pdd = r.uniform(*p.post_dial_delay_s)
        u = r.random()
        if u < p.p_human:
            ring = min(r.lognormvariate(math.log(p.human_ring_median_s), p.human_ring_sigma),
                       p.no_answer_timeout_s - 0.5)
            return CarrierResult("human", pdd + ring, r.random() < p.amd_false_machine)
        u -= p.p_human
        if u < p.p_machine:
            ring = min(r.uniform(*p.machine_ring_s), p.no_answer_timeout_s - 0.5)
            return CarrierResult("machine", pdd + ring, r.random() < p.amd_machine_detection)
        u -= p.p_machine
        if u < p.p_busy:
            return CarrierResult("busy", pdd + r.uniform(*p.busy_s), False)
        u -= p.p_busy
        if u < p.p_invalid:
            return CarrierResult("invalid", r.uniform(*p.invalid_s), False)
        return CarrierResult("no_answer", pdd + p.no_answer_timeout_s, False)
