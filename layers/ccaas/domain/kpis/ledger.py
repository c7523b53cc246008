"""Roll contact records and agent activity up into KPI rows per interval and dimension.

`KpiLedger` keeps one accumulator per (15-minute interval, dimension values) cell and the latest
record per contact, so a corrected record (same contact_id, newer last_updated_at) replaces its old
contribution and a stale or duplicate one is ignored: any order of at-least-once deliveries gives the
same cells as a clean feed. Hours, days and weeks are sums of their 15-minute cells. A range that starts
or ends inside a quarter-hour counts that quarter again from the held records and spans, with only what
happened inside the range (`_edge_cells`): a read of [from, to) counts exactly [from, to), whatever the interval.

`rollup()` is the one-shot form: a fresh ledger fed once, then read.
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS, KPI_NAMES, KpiAccumulator, derive_kpis
from ccaas.domain.kpis.intervals import GRANULARITIES, QUARTER_MS, Granularity, TenantCalendar
from ccaas.domain.kpis.records import ActivityKind, AgentActivity, ContactRecord
from ccaas.domain.kpis.settings import KpiSettings

__all__ = [
    "DIMENSIONS",
    "KpiLedger",
    "KpiRow",
    "busiest_intervals",
    "channel_mix",
    "contact_type_mix",
    "offered_mix",
    "rollup",
]

# Dimension name (as used in group_by and on KpiRow) → ContactRecord attribute.
DIMENSIONS: dict[str, str] = {
    "queue": "queue_id",
    "channel": "channel",
    "agent": "agent_id",
    "team": "team",
    "skill": "skill",
    "reason": "reason",
    "segment": "segment",
}
# Agent activity only knows the agent and their team; grouped by anything else, time-based KPIs
# (occupancy, utilization, cost per contact) are None rather than a misleading share.
ACTIVITY_DIMENSIONS: dict[str, str] = {"agent": "agent_id", "team": "team"}


class _KpiRowDimensions(BaseModel):
    """One interval × one combination of dimension values: every KPI plus the raw counts behind it.

    Rates are fractions 0–1 (service level, abandonment, occupancy, utilization, transfer, hold, FCR,
    repeat, CSAT, auto-fail, share of offered); evaluation_score is the mean evaluation-form score 0–100 of
    the analysed contacts; segments_per_contact is handled segments per customer contact; NPS is in points (−100…+100); CES is a 1–7 mean; times are
    seconds; raw `*_ms` sums are milliseconds. A KPI is None when its denominator is zero. Dimension
    fields not in `group_by` are None (a grouped dimension can be None too: e.g. agent of abandons).
    """

    # Built by the first roll-up (defer_build): the stream consumers that import the history use-cases never
    # make a row, and this ~90-field schema was most of their import.
    model_config = ConfigDict(frozen=True, defer_build=True)

    tenant_id: str | None
    interval: Granularity | Literal["range"]  # "range": a whole range summed (the historical summary)
    interval_start: str
    interval_end: str
    interval_start_ms: int
    interval_end_ms: int
    group_by: tuple[str, ...]
    queue: str | None = None
    channel: str | None = None
    agent: str | None = None
    team: str | None = None
    skill: str | None = None
    reason: str | None = None
    segment: str | None = None


# The KPIs and the raw counts are declared once (accumulators.KPI_NAMES and the KpiAccumulator fields):
# the row's fields follow them in that order (the CSV export's column order), then the offered mix.
KpiRow = create_model(
    "KpiRow",
    __base__=_KpiRowDimensions,
    __doc__=_KpiRowDimensions.__doc__,
    **{name: (float | None, None) for name in KPI_NAMES},
    share_of_offered=(float | None, None),
    **{name: (int, 0) for name in ACCUMULATOR_FIELDS},
)


def validate_group_by(group_by: Sequence[str]) -> tuple[str, ...]:
    dims = tuple(group_by)
    if len(dims) > 2:
        raise ValueError(f"group_by takes at most 2 dimensions, got {dims}")
    if len(set(dims)) != len(dims):
        raise ValueError(f"group_by repeats a dimension: {dims}")
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; expected some of {sorted(DIMENSIONS)}")
    return dims


def _key_function(attributes: Sequence[str]) -> Callable[[Any], tuple]:
    if not attributes:
        return lambda _: ()
    if len(attributes) == 1:
        get = operator.attrgetter(attributes[0])
        return lambda obj: (get(obj),)
    return operator.attrgetter(*attributes)


class KpiLedger:
    """In-memory, pure: accumulators per (15-minute interval, dimension values) of one tenant."""

    def __init__(
        self,
        *,
        tz: str,
        group_by: Sequence[str] = (),
        settings: KpiSettings | None = None,
        tenant_id: str | None = None,
    ):
        self.group_by = validate_group_by(group_by)
        self.settings = settings or KpiSettings()
        self.tenant_id = tenant_id
        self.calendar = TenantCalendar(tz)
        self._cells: dict[tuple[int, tuple], KpiAccumulator] = {}
        self._records: dict[str, ContactRecord] = {}
        self._activities: dict[tuple[str, int], AgentActivity] = {}
        self._record_dims = _key_function([DIMENSIONS[d] for d in self.group_by])
        self._activity_applies = all(d in ACTIVITY_DIMENSIONS for d in self.group_by)
        self._activity_dims = (
            _key_function([ACTIVITY_DIMENSIONS[d] for d in self.group_by]) if self._activity_applies else None
        )
        self._short_abandon_ms = self.settings.short_abandon_s * 1000
        self._default_sl_ms = self.settings.default_sl_threshold_s * 1000

    # --- feeding --------------------------------------------------------------------------------
    def apply(self, record: ContactRecord) -> bool:
        """Add a record, or replace the one held for its contact if this one is newer.

        Returns False (and changes nothing) for a duplicate or an older version: equal
        last_updated_at keeps the first seen, as `ctr.dedupe_latest` does.
        """
        self._check_tenant(record.tenant_id)
        held = self._records.get(record.contact_id)
        if held is not None:
            if record.last_updated_at <= held.last_updated_at:
                return False
            self._contribute(held, -1)
        self._records[record.contact_id] = record
        self._contribute(record, 1)
        return True

    def apply_all(self, records: Iterable[ContactRecord]) -> int:
        """Apply each record; returns how many changed the ledger."""
        return sum(self.apply(r) for r in records)

    def apply_activity(self, activity: AgentActivity) -> bool:
        """Add a span, or replace the span held for the same (agent, start) — e.g. one that was still
        open and has now ended. Activity has no version stamp: the last one applied wins."""
        if activity.tenant_id is not None:
            self._check_tenant(activity.tenant_id)
        key = (activity.agent_id, activity.start_ms)
        held = self._activities.get(key)
        if held is not None:
            if held == activity:  # compared only when one is held: a model's == is a Python call, even with None
                return False
            self._contribute_activity(held, -1)
        self._activities[key] = activity
        self._contribute_activity(activity, 1)
        return True

    def record(self, contact_id: str) -> ContactRecord | None:
        """The version of a contact the ledger currently counts."""
        return self._records.get(contact_id)

    def __len__(self) -> int:
        return len(self._records)

    def _check_tenant(self, tenant_id: str) -> None:
        if self.tenant_id is None:
            self.tenant_id = tenant_id
        elif tenant_id != self.tenant_id:
            # Nothing crosses tenants: mixing them here would silently blend two businesses' KPIs.
            raise ValueError(f"record of tenant {tenant_id!r} fed to the ledger of tenant {self.tenant_id!r}")

    def _cell(self, quarter_ms: int, dims: tuple) -> KpiAccumulator:
        key = (quarter_ms, dims)
        acc = self._cells.get(key)
        if acc is None:
            acc = self._cells[key] = KpiAccumulator()
        return acc

    def _contribute(self, rec: ContactRecord, sign: int) -> None:
        dims = self._record_dims(rec)
        enqueued_at = rec.enqueued_at
        if enqueued_at is not None:  # queue side: the interval it was enqueued in
            cell = self._cell(self.calendar.quarter_start(enqueued_at), dims)
            cell.add_arrival(rec, sign, self._short_abandon_ms, self._default_sl_ms)
        completed_at = rec.acw_ended_at if rec.acw_ended_at is not None else rec.disconnected_at
        if completed_at is not None:  # handling side: the interval it completed in (rec.completed_at)
            self._cell(self.calendar.quarter_start(completed_at), dims).add_completion(rec, sign)

    def _contribute_activity(self, activity: AgentActivity, sign: int) -> None:
        if self._activity_dims is None or activity.kind is ActivityKind.OFFLINE:
            return  # offline time is in no KPI (not staffed), so it needs no cells
        dims = self._activity_dims(activity)
        busy_slots, available_slots = activity.slots()
        start, end = activity.start_ms, activity.end_ms
        # Split the span at quarter-hour boundaries so each interval gets exactly its share.
        while start < end:
            quarter = self.calendar.quarter_start(start)
            piece_end = min(end, quarter + QUARTER_MS)
            self._cell(quarter, dims).add_activity(activity.kind, piece_end - start, busy_slots, available_slots, sign)
            start = piece_end

    # --- reading --------------------------------------------------------------------------------
    def accumulators(
        self, interval: Granularity, *, from_ms: int, to_ms: int
    ) -> dict[tuple[int, tuple], KpiAccumulator]:
        """Summed accumulators per (interval start, dimension values) of what happened in [from_ms, to_ms).
        An interval the range covers only in part keeps its true start (its label) and counts only the
        range's part of it."""
        return self._summed(interval, from_ms, to_ms, copies=True)

    def _summed(
        self, interval: Granularity, from_ms: int, to_ms: int, *, copies: bool
    ) -> dict[tuple[int, tuple], KpiAccumulator]:
        """The cells summed per (interval start, dimension values). Without `copies`, an interval of one cell (every
        15-minute row) is the ledger's own cell: for a caller that only reads it."""
        if interval not in GRANULARITIES:
            raise ValueError(f"unknown interval {interval!r}; expected one of {GRANULARITIES}")
        first_quarter = self.calendar.quarter_start(from_ms)
        last_quarter = self.calendar.quarter_start(to_ms - 1)
        # A cell holds its whole quarter: the quarters the range starts or ends inside are counted again.
        partial = {quarter for quarter, whole in ((first_quarter, first_quarter == from_ms),
                                                  (last_quarter, last_quarter + QUARTER_MS == to_ms)) if not whole}
        start_of: dict[int, int | None] = {}  # quarter → interval start, None when out of range
        parts: dict[tuple[int, tuple], list[KpiAccumulator]] = {}
        whole_cells = ((key, acc) for key, acc in self._cells.items() if key[0] not in partial)
        edge_cells = self._edge_cells(partial, from_ms, to_ms).items() if partial else ()
        for (quarter, dims), acc in itertools.chain(whole_cells, edge_cells):
            if quarter in start_of:
                start = start_of[quarter]
            else:
                in_range = first_quarter <= quarter < to_ms
                start = start_of[quarter] = self.calendar.interval_start(quarter, interval) if in_range else None
            if start is None:
                continue
            key = (start, dims)
            cells = parts.get(key)
            if cells is None:
                parts[key] = [acc]
            else:
                cells.append(acc)
        return {
            key: cells[0] if len(cells) == 1 and not copies else KpiAccumulator.summed([c.values() for c in cells])
            for key, cells in parts.items()
        }

    def _edge_cells(self, quarters: set[int], from_ms: int, to_ms: int) -> dict[tuple[int, tuple], KpiAccumulator]:
        """The cells of `quarters` (those [from, to) starts or ends inside) counted again from the held records
        and spans with only what happened in [from, to): a contact's queue side when it was enqueued in it, its
        handling side (surveys, flags, evaluation) when it completed in it, agent time clipped to it. One pass
        over the held records, only for a range that starts or ends inside a quarter-hour."""
        windows = [(quarter, max(quarter, from_ms), min(quarter + QUARTER_MS, to_ms)) for quarter in sorted(quarters)]
        cells: dict[tuple[int, tuple], KpiAccumulator] = {}

        def cell(quarter: int, dims: tuple) -> KpiAccumulator:
            acc = cells.get((quarter, dims))
            if acc is None:
                acc = cells[quarter, dims] = KpiAccumulator()
            return acc

        for rec in self._records.values():
            enqueued_at, completed_at = rec.enqueued_at, rec.completed_at
            for quarter, lo, hi in windows:
                if enqueued_at is not None and lo <= enqueued_at < hi:
                    cell(quarter, self._record_dims(rec)).add_arrival(rec, 1, self._short_abandon_ms, self._default_sl_ms)
                if completed_at is not None and lo <= completed_at < hi:
                    cell(quarter, self._record_dims(rec)).add_completion(rec, 1)
        if self._activity_dims is not None:
            for activity in self._activities.values():
                if activity.kind is ActivityKind.OFFLINE:
                    continue
                for quarter, lo, hi in windows:
                    piece_ms = min(activity.end_ms, hi) - max(activity.start_ms, lo)
                    if piece_ms > 0:
                        cell(quarter, self._activity_dims(activity)).add_activity(activity.kind, piece_ms,
                                                                                  *activity.slots(), 1)
        return cells

    def rows(self, interval: Granularity = "15m", *, from_ms: int, to_ms: int) -> list[KpiRow]:
        """KPI rows ordered by interval then dimension values. Ungrouped, every interval in the range
        gets a row (zero counts, None KPIs when empty) so a series has no holes; grouped, only
        combinations with data appear."""
        summed = self._summed(interval, from_ms, to_ms, copies=False)  # only read below
        if self.group_by:
            summed = {key: acc for key, acc in summed.items() if not acc.is_empty()}
        else:
            for start in self.calendar.interval_starts(interval, from_ms, to_ms):
                summed.setdefault((start, ()), KpiAccumulator())

        offered_per_interval: dict[int, int] = {}
        for (start, _), acc in summed.items():
            offered_per_interval[start] = offered_per_interval.get(start, 0) + acc.offered

        interval_fields: dict[int, dict[str, Any]] = {}  # labels are computed once per interval
        no_dimensions = dict.fromkeys(DIMENSIONS)
        rows: list[KpiRow] = []
        for key in sorted(summed, key=_row_order):
            start, dims = key
            acc = summed[key]
            shared = interval_fields.get(start)
            if shared is None:
                end = self.calendar.next_interval_start(start, interval)
                shared = interval_fields[start] = {
                    "tenant_id": self.tenant_id,
                    "interval": interval,
                    "interval_start": self.calendar.iso(start),
                    "interval_end": self.calendar.iso(end),
                    "interval_start_ms": start,
                    "interval_end_ms": end,
                    "group_by": self.group_by,
                    **no_dimensions,
                }
            values = dict(shared)
            for dim, value in zip(self.group_by, dims):
                values[dim] = None if value is None else str(value)
            values.update(derive_kpis(acc, self.settings, agent_time=self._activity_applies))
            total_offered = offered_per_interval[start]
            values["share_of_offered"] = acc.offered / total_offered if total_offered else None
            values.update(zip(ACCUMULATOR_FIELDS, acc.values()))
            rows.append(KpiRow.model_validate(values))
        return rows


def _row_order(key: tuple[int, tuple]) -> tuple:
    start, dims = key
    return (start, tuple((value is None, "" if value is None else str(value)) for value in dims))


def rollup(
    records: Iterable[ContactRecord],
    activities: Iterable[AgentActivity] = (),
    *,
    tz: str,
    interval: Granularity = "15m",
    group_by: Sequence[str] = (),
    from_ms: int,
    to_ms: int,
    settings: KpiSettings | None = None,
    tenant_id: str | None = None,
) -> list[KpiRow]:
    """KPI rows for [from_ms, to_ms) in the tenant's time zone, by `interval` and 0–2 dimensions of
    queue, channel, agent, team, skill, reason, segment. Duplicate and superseded records (same
    contact_id) count once, in their latest version. Repeat flags are taken as set on the records
    (see repeats.mark_repeat_contacts). `tenant_id`: the tenant every row names, also an interval
    without records (else learnt from the records)."""
    ledger = KpiLedger(tz=tz, group_by=group_by, settings=settings, tenant_id=tenant_id)
    for record in records:
        ledger.apply(record)
    for activity in activities:
        ledger.apply_activity(activity)
    return ledger.rows(interval, from_ms=from_ms, to_ms=to_ms)


# --- views over rows ------------------------------------------------------------------------------
def busiest_intervals(rows: Iterable[KpiRow], k: int = 5) -> list[tuple[str, int]]:
    """Top-k (interval_start, offered), busiest first, earlier first on ties. Rows of any grouping
    are summed per interval first."""
    offered: dict[int, list] = {}
    for row in rows:
        entry = offered.setdefault(row.interval_start_ms, [row.interval_start, 0])
        entry[1] += row.offered
    ranked = sorted(offered.items(), key=lambda item: (-item[1][1], item[0]))
    return [(label, count) for _, (label, count) in ranked[:k]]


def offered_mix(rows: Iterable[KpiRow], dimension: str) -> dict[str | None, float]:
    """Each value's share of offered contacts over all the rows (which must be grouped by `dimension`)."""
    totals: dict[str | None, int] = {}
    for row in rows:
        if dimension not in row.group_by:
            raise ValueError(f"rows are grouped by {row.group_by}, not by {dimension!r}")
        value = getattr(row, dimension)
        totals[value] = totals.get(value, 0) + row.offered
    grand_total = sum(totals.values())
    if not grand_total:
        return {}
    return {value: count / grand_total for value, count in totals.items() if count}


def channel_mix(rows: Iterable[KpiRow]) -> dict[str | None, float]:
    return offered_mix(rows, "channel")


def contact_type_mix(rows: Iterable[KpiRow]) -> dict[str | None, float]:
    return offered_mix(rows, "reason")
