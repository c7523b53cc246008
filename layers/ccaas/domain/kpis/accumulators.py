"""Additive accumulators and the KPIs derived from them (DOMAIN.md "Metrics").

Every field is a plain sum, so:
- a late or corrected record is applied as minus its old contribution plus its new one;
- an hour, day or week is the field-by-field sum of its 15-minute cells;
- a KPI is only ever computed at the end, from sums (an average of averages would be wrong).

Which interval a contact counts in:
- queue side (offered, answered, abandoned, within-threshold counts, queue wait): the interval it was
  *enqueued* in, as Amazon Connect does for queue metrics;
- handling side (handled, talk/hold/ACW/handle time, transfers) and its outcomes (surveys, FCR): the
  interval it *completed* in, i.e. when ACW ended (when the contact disconnected if there was no ACW).
  A contact still open has no handling contribution yet.

"Answered" is a queued contact connected to an agent; "handled" is any contact connected to an agent
(outbound included), the base of AHT and transfer rate.

Transfers make segments (DOMAIN.md "Moving work between people"): queue and handling counts are per
segment, in the queue / by the agent of that segment, as Amazon Connect counts them. Transfer rate is
segments handled here that ended TRANSFERRED ÷ segments handled here. `handled_initial_contacts` counts
each customer contact once, at its first handled segment, so handled ÷ it is segments per contact
(ungrouped or by channel it is the exact count of distinct initial contacts handled; by queue or agent
it is the customer contacts whose handling *started* there). A cancelled consult leg is agent-to-agent
work, not a customer contact: it counts in `consults` / `consults_cancelled` (and its consult time)
and in nothing else. Agent time comes from activity spans, split
at interval boundaries. "Within T" and "short abandon" are inclusive: a wait of exactly T seconds is
within T.

A contact whose wait the system ended (queue timeout, expired callback: `ContactRecord.timed_out`) did
not abandon, the customer did not leave: it counts in `timed_out` and stays offered and unanswered, so
it is a miss in every service-level variant (default: it stays in offered − abandoned within T) and in
no abandon count (abandonment rate, short abandons, time to abandon, abandoned within T).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, fields

from ccaas.domain.kpis.records import ActivityKind, ContactRecord, FinalState
from ccaas.domain.kpis.settings import AbandonmentVariant, FcrPopulation, KpiSettings, ServiceLevelVariant

__all__ = [
    "ACCUMULATOR_FIELDS",
    "KPI_NAMES",
    "KpiAccumulator",
    "abandonment_rate",
    "aht_s",
    "asa_s",
    "avg_acw_s",
    "avg_conference_s",
    "avg_consult_s",
    "avg_hold_s",
    "avg_hold_when_held_s",
    "avg_talk_s",
    "avg_time_to_abandon_s",
    "auto_fail_rate",
    "ces",
    "cost_per_contact",
    "csat",
    "evaluation_score",
    "derive_kpis",
    "fcr",
    "hold_rate",
    "nps",
    "occupancy",
    "repeat_rate",
    "segments_per_contact",
    "service_level",
    "slot_occupancy",
    "transfer_rate",
    "utilization",
]


@dataclass(slots=True)
class KpiAccumulator:
    # Queue side, bucketed by enqueue time.
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    timed_out: int = 0  # the system ended the wait (queue timeout, callback expired): offered, not an abandon
    short_abandoned: int = 0
    answered_within_sl: int = 0
    abandoned_within_sl: int = 0
    answered_wait_ms: int = 0
    abandoned_wait_ms: int = 0
    # Handling side, bucketed by completion time.
    handled: int = 0
    handle_ms: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    acw_ms: int = 0
    hold_count: int = 0
    transferred: int = 0  # transferred out: handled segments that ended TRANSFERRED
    # Transfers, holds, consults and conferences (completion time, handled segments unless noted).
    transferred_in: int = 0  # handled segments created by a transfer (initiation TRANSFER)
    transferred_external: int = 0  # of `transferred`, those sent to an external number
    handled_initial_contacts: int = 0  # customer contacts handled, each once (at its first handled segment)
    contacts_held: int = 0  # handled segments put on hold at least once
    consults: int = 0  # consult legs ended (answered or not, completed, conferenced or cancelled)
    consults_cancelled: int = 0  # of `consults`, the cancelled legs (not customer contacts)
    consulted: int = 0  # segments with consult time (cancelled legs included)
    consult_ms: int = 0
    conferenced: int = 0  # handled segments with conference time
    conference_ms: int = 0
    # Surveys (completion time).
    csat_count: int = 0
    csat_positive: int = 0
    ces_count: int = 0
    ces_sum: int = 0
    nps_count: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    # First-contact resolution (completion time); both populations are kept so the tenant's choice
    # is a derivation setting.
    fcr_contacts: int = 0
    fcr_repeat_drivers: int = 0
    fcr_handled_contacts: int = 0
    fcr_handled_repeat_drivers: int = 0
    repeat_contacts: int = 0
    # Agent time from activity spans (split across the intervals they overlap).
    busy_ms: int = 0
    idle_ms: int = 0
    not_ready_ms: int = 0
    staffed_ms: int = 0
    busy_slot_ms: int = 0
    available_slot_ms: int = 0
    # Evaluation (QA) of analysed contacts (completion time): the score in tenths of a point, summed.
    evaluated: int = 0
    evaluation_tenths: int = 0
    auto_failed: int = 0

    # --- contributions --------------------------------------------------------------------------
    # These run once per record and read each field once: the same definitions as ContactRecord's
    # properties (queue_wait_ms, talk_ms, acw_ms, abandoned), inlined because they are the hot path.
    def add_arrival(self, rec: ContactRecord, sign: int, short_abandon_ms: float, default_sl_ms: int) -> None:
        """Queue-side contribution of an enqueued contact (sign −1 retracts it)."""
        if rec.consult_leg:
            return  # a cancelled consult leg was never a customer in the queue
        self.offered += sign
        enqueued, connected = rec.enqueued_at, rec.connected_at
        threshold_s = rec.sl_threshold_s
        sl_ms = default_sl_ms if threshold_s is None else threshold_s * 1000
        if connected is not None:
            wait = connected - enqueued if connected > enqueued else 0  # type: ignore[operator]
            self.answered += sign
            self.answered_wait_ms += sign * wait
            if wait <= sl_ms:
                self.answered_within_sl += sign
        elif rec.final_state is FinalState.ABANDONED:
            if rec.timed_out:
                self.timed_out += sign  # the customer did not leave: a miss of T, not an abandon
                return
            self.abandoned += sign
            disconnected = rec.disconnected_at
            if disconnected is not None:  # without a disconnect time the wait is unknown
                wait = disconnected - enqueued if disconnected > enqueued else 0  # type: ignore[operator]
                self.abandoned_wait_ms += sign * wait
                if wait <= short_abandon_ms:
                    self.short_abandoned += sign
                if wait <= sl_ms:
                    self.abandoned_within_sl += sign

    def add_completion(self, rec: ContactRecord, sign: int) -> None:
        """Handling-side and outcome contribution of an ended contact."""
        if rec.handover_mode == "CONSULT" and rec.final_state is not FinalState.FAILED:
            self.consults += sign  # a leg that failed to start was never a consult
        if rec.consult_ms > 0:
            self.consulted += sign
            self.consult_ms += sign * rec.consult_ms
        if rec.consult_leg:
            self.consults_cancelled += sign
            return  # agent-to-agent work: no handling, no outcome of a customer contact
        connected = rec.connected_at
        handled = connected is not None
        if handled:
            disconnected, hold, acw_end = rec.disconnected_at, rec.hold_ms, rec.acw_ended_at
            if disconnected is None:
                talk = acw = 0
            else:
                talk = disconnected - connected - hold  # type: ignore[operator]
                talk = talk if talk > 0 else 0
                acw = acw_end - disconnected if acw_end is not None and acw_end > disconnected else 0
            self.handled += sign
            self.talk_ms += sign * talk
            self.hold_ms += sign * hold
            self.acw_ms += sign * acw
            self.handle_ms += sign * (talk + hold + acw)
            self.hold_count += sign * rec.hold_count
            if hold > 0 or rec.hold_count > 0:
                self.contacts_held += sign
            if rec.transferred:
                self.transferred += sign
                if rec.transferred_to_kind == "EXTERNAL":
                    self.transferred_external += sign
            if rec.initiation_method == "TRANSFER":  # rec.transferred_in / starts_handling, inlined
                self.transferred_in += sign
                if rec.queue_transfer:
                    self.handled_initial_contacts += sign
            else:
                self.handled_initial_contacts += sign
            if rec.conference_ms > 0:
                self.conferenced += sign
                self.conference_ms += sign * rec.conference_ms
        csat_answer, ces_answer, nps_answer = rec.csat, rec.ces, rec.nps
        if csat_answer is not None:
            self.csat_count += sign
            if csat_answer >= 4:
                self.csat_positive += sign
        if ces_answer is not None:
            self.ces_count += sign
            self.ces_sum += sign * ces_answer
        if nps_answer is not None:
            self.nps_count += sign
            if nps_answer >= 9:
                self.nps_promoters += sign
            elif nps_answer <= 6:
                self.nps_detractors += sign
        followed_by_repeat = rec.followed_by_repeat
        if followed_by_repeat is not None:
            driver = sign if followed_by_repeat else 0
            self.fcr_contacts += sign
            self.fcr_repeat_drivers += driver
            if handled:
                self.fcr_handled_contacts += sign
                self.fcr_handled_repeat_drivers += driver
        if rec.is_repeat:
            self.repeat_contacts += sign
        evaluation = rec.evaluation_score
        if evaluation is not None:
            self.evaluated += sign
            self.evaluation_tenths += sign * round(evaluation * 10)
            if rec.evaluation_auto_failed:
                self.auto_failed += sign

    def add_activity(
        self, kind: ActivityKind, duration_ms: int, slots_busy: int, slots_available: int, sign: int
    ) -> None:
        """Part of an agent activity span that falls in this cell."""
        d = sign * duration_ms
        if kind is ActivityKind.OFFLINE:
            return
        self.staffed_ms += d
        if kind is ActivityKind.ON_CONTACT or kind is ActivityKind.ACW:
            self.busy_ms += d
        elif kind is ActivityKind.AVAILABLE_IDLE:
            self.idle_ms += d
        else:
            self.not_ready_ms += d
        self.busy_slot_ms += d * slots_busy
        self.available_slot_ms += d * slots_available

    # --- algebra --------------------------------------------------------------------------------
    def values(self) -> tuple[int, ...]:
        """All fields in ACCUMULATOR_FIELDS order (one C-level call: the fast way to sum many cells)."""
        return _all_fields(self)

    @classmethod
    def summed(cls, many: list[tuple[int, ...]]) -> KpiAccumulator:
        """The field-by-field sum of several `values()` tuples."""
        if len(many) == 1:
            return cls(*many[0])
        return cls(*map(sum, zip(*many)))

    def merge(self, other: KpiAccumulator, sign: int = 1) -> None:
        for name, mine, theirs in zip(ACCUMULATOR_FIELDS, _all_fields(self), _all_fields(other)):
            setattr(self, name, mine + sign * theirs)

    def is_empty(self) -> bool:
        return not any(_all_fields(self))

    def as_dict(self) -> dict[str, int]:
        return dict(zip(ACCUMULATOR_FIELDS, _all_fields(self)))


ACCUMULATOR_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(KpiAccumulator))
_all_fields = operator.attrgetter(*ACCUMULATOR_FIELDS)


# --- derived KPIs (None where the denominator is zero, never a division by zero) ----------------
def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _seconds(total_ms: int, count: int) -> float | None:
    return total_ms / 1000 / count if count > 0 else None


def service_level(acc: KpiAccumulator, variant: ServiceLevelVariant = "default") -> float | None:
    """default: answered within T ÷ (offered − abandoned within T);
    answered_over_offered: answered within T ÷ offered;
    abandons_count_as_met: (answered within T + abandoned within T) ÷ offered (Amazon Connect)."""
    if variant == "default":
        return _ratio(acc.answered_within_sl, acc.offered - acc.abandoned_within_sl)
    if variant == "answered_over_offered":
        return _ratio(acc.answered_within_sl, acc.offered)
    if variant == "abandons_count_as_met":
        return _ratio(acc.answered_within_sl + acc.abandoned_within_sl, acc.offered)
    raise ValueError(f"unknown service level variant {variant!r}")


def asa_s(acc: KpiAccumulator) -> float | None:
    """Total queue wait of answered contacts ÷ answered, in seconds."""
    return _seconds(acc.answered_wait_ms, acc.answered)


def abandonment_rate(acc: KpiAccumulator, variant: AbandonmentVariant = "exclude_short_abandons") -> float | None:
    """Default removes short abandons from both sides: (abandoned − short) ÷ (offered − short)."""
    if variant == "exclude_short_abandons":
        return _ratio(acc.abandoned - acc.short_abandoned, acc.offered - acc.short_abandoned)
    if variant == "include_short_abandons":
        return _ratio(acc.abandoned, acc.offered)
    raise ValueError(f"unknown abandonment variant {variant!r}")


def avg_time_to_abandon_s(acc: KpiAccumulator) -> float | None:
    return _seconds(acc.abandoned_wait_ms, acc.abandoned)


def aht_s(acc: KpiAccumulator) -> float | None:
    """Total handle time (talk + hold + ACW) ÷ handled contacts, in seconds."""
    return _seconds(acc.handle_ms, acc.handled)


def avg_acw_s(acc: KpiAccumulator) -> float | None:
    return _seconds(acc.acw_ms, acc.handled)


def avg_hold_s(acc: KpiAccumulator) -> float | None:
    """Total hold ÷ handled contacts (not ÷ contacts that were held)."""
    return _seconds(acc.hold_ms, acc.handled)


def avg_hold_when_held_s(acc: KpiAccumulator) -> float | None:
    """Total hold ÷ segments put on hold (Amazon Connect's "average customer hold time"; avg_hold_s is
    its "… all contacts" variant)."""
    return _seconds(acc.hold_ms, acc.contacts_held)


def hold_rate(acc: KpiAccumulator) -> float | None:
    """Handled segments put on hold at least once ÷ handled segments."""
    return _ratio(acc.contacts_held, acc.handled)


def avg_talk_s(acc: KpiAccumulator) -> float | None:
    return _seconds(acc.talk_ms, acc.handled)


def transfer_rate(acc: KpiAccumulator) -> float | None:
    """Segments handled here that ended TRANSFERRED ÷ segments handled here (DOMAIN.md)."""
    return _ratio(acc.transferred, acc.handled)


def segments_per_contact(acc: KpiAccumulator) -> float | None:
    """Handled segments ÷ customer contacts handled (1.0 when nothing was transferred)."""
    return _ratio(acc.handled, acc.handled_initial_contacts)


def avg_consult_s(acc: KpiAccumulator) -> float | None:
    """Consult time ÷ segments that had some (the consulted agent's side)."""
    return _seconds(acc.consult_ms, acc.consulted)


def avg_conference_s(acc: KpiAccumulator) -> float | None:
    """Conference time ÷ segments that had some (each agent's segment counts its own)."""
    return _seconds(acc.conference_ms, acc.conferenced)


def occupancy(acc: KpiAccumulator) -> float | None:
    """Time on contacts or in ACW ÷ (that time + available idle time)."""
    return _ratio(acc.busy_ms, acc.busy_ms + acc.idle_ms)


def slot_occupancy(acc: KpiAccumulator) -> float | None:
    """Busy slot-seconds ÷ available slot-seconds (meaningful with chat/email concurrency)."""
    return _ratio(acc.busy_slot_ms, acc.available_slot_ms)


def utilization(acc: KpiAccumulator) -> float | None:
    """Time on contacts or in ACW ÷ staffed (logged in, not offline) time."""
    return _ratio(acc.busy_ms, acc.staffed_ms)


def _fcr_counts(acc: KpiAccumulator, population: FcrPopulation) -> tuple[int, int]:
    if population == "all":
        return acc.fcr_contacts, acc.fcr_repeat_drivers
    if population == "handled_only":
        return acc.fcr_handled_contacts, acc.fcr_handled_repeat_drivers
    raise ValueError(f"unknown FCR population {population!r}")


def fcr(acc: KpiAccumulator, population: FcrPopulation = "all") -> float | None:
    """Share of contacts NOT followed by a repeat (same customer, same reason, within W days)."""
    contacts, drivers = _fcr_counts(acc, population)
    return _ratio(contacts - drivers, contacts)


def repeat_rate(acc: KpiAccumulator, population: FcrPopulation = "all") -> float | None:
    """1 − FCR, computed from the counts (not by subtracting a rounded FCR)."""
    contacts, drivers = _fcr_counts(acc, population)
    return _ratio(drivers, contacts)


def csat(acc: KpiAccumulator) -> float | None:
    """Share (0–1) of 1–5 answers that are 4 or 5."""
    return _ratio(acc.csat_positive, acc.csat_count)


def ces(acc: KpiAccumulator) -> float | None:
    """Mean of 1–7 answers."""
    return _ratio(acc.ces_sum, acc.ces_count)


def nps(acc: KpiAccumulator) -> float | None:
    """% promoters (9–10) − % detractors (0–6), in points from −100 to +100."""
    return _ratio(100 * (acc.nps_promoters - acc.nps_detractors), acc.nps_count)


def evaluation_score(acc: KpiAccumulator) -> float | None:
    """Mean evaluation-form score (0–100) of the analysed contacts; an auto-failed contact counts 0."""
    return _ratio(acc.evaluation_tenths / 10, acc.evaluated)


def auto_fail_rate(acc: KpiAccumulator) -> float | None:
    """Share (0–1) of analysed contacts whose evaluation failed an automatic-fail question."""
    return _ratio(acc.auto_failed, acc.evaluated)


def cost_per_contact(acc: KpiAccumulator, settings: KpiSettings) -> float | None:
    """(agent cost per staffed hour × staffed hours + infrastructure cost) ÷ handled.

    Infrastructure cost = per-contact rate × handled + per-minute rate × handle minutes.
    None when no agent rate is configured or nothing was handled.
    """
    if settings.agent_cost_per_staffed_hour is None:
        return None
    agent_cost = settings.agent_cost_per_staffed_hour * acc.staffed_ms / 3_600_000
    infrastructure = (
        settings.infrastructure_cost_per_contact * acc.handled
        + settings.infrastructure_cost_per_handle_minute * acc.handle_ms / 60_000
    )
    return _ratio(agent_cost + infrastructure, acc.handled)


# Which KPIs read agent activity: they are undefined (None) for groupings activity can't be split by.
AGENT_TIME_KPIS = frozenset({"occupancy", "slot_occupancy", "utilization", "cost_per_contact"})

KPI_NAMES: tuple[str, ...] = (
    "service_level",
    "asa_s",
    "abandonment_rate",
    "avg_time_to_abandon_s",
    "aht_s",
    "avg_talk_s",
    "avg_hold_s",
    "avg_acw_s",
    "transfer_rate",
    "avg_hold_when_held_s",
    "hold_rate",
    "segments_per_contact",
    "avg_consult_s",
    "avg_conference_s",
    "occupancy",
    "slot_occupancy",
    "utilization",
    "fcr",
    "repeat_rate",
    "csat",
    "ces",
    "nps",
    "cost_per_contact",
    "evaluation_score",
    "auto_fail_rate",
)


def derive_kpis(acc: KpiAccumulator, settings: KpiSettings, *, agent_time: bool = True) -> dict[str, float | None]:
    """All KPIs of one cell, variants as the tenant chose them. `agent_time=False` blanks the KPIs
    that need agent activity (e.g. when grouped by queue, which activity spans don't carry)."""
    kpis: dict[str, float | None] = {
        "service_level": service_level(acc, settings.service_level_variant),
        "asa_s": asa_s(acc),
        "abandonment_rate": abandonment_rate(acc, settings.abandonment_variant),
        "avg_time_to_abandon_s": avg_time_to_abandon_s(acc),
        "aht_s": aht_s(acc),
        "avg_talk_s": avg_talk_s(acc),
        "avg_hold_s": avg_hold_s(acc),
        "avg_acw_s": avg_acw_s(acc),
        "transfer_rate": transfer_rate(acc),
        "avg_hold_when_held_s": avg_hold_when_held_s(acc),
        "hold_rate": hold_rate(acc),
        "segments_per_contact": segments_per_contact(acc),
        "avg_consult_s": avg_consult_s(acc),
        "avg_conference_s": avg_conference_s(acc),
        "occupancy": occupancy(acc),
        "slot_occupancy": slot_occupancy(acc),
        "utilization": utilization(acc),
        "fcr": fcr(acc, settings.fcr_population),
        "repeat_rate": repeat_rate(acc, settings.fcr_population),
        "csat": csat(acc),
        "ces": ces(acc),
        "nps": nps(acc),
        "cost_per_contact": cost_per_contact(acc, settings),
        "evaluation_score": evaluation_score(acc),
        "auto_fail_rate": auto_fail_rate(acc),
    }
    if not agent_time:
        for name in AGENT_TIME_KPIS:
            kpis[name] = None
    return kpis
