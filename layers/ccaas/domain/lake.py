"""The analytics lake (pure): table schemas, domain objects as flat rows, and the KPI SQL (issue 19).

One declaration of each table (`TABLES`): the local exporter (local/lake.py, DuckDB → Parquet) and the
Glue catalog (infra) both derive their columns from it. Rows are plain dicts of JSON-able scalars:
times are epoch ms (BIGINT), enums their string values, booleans booleans.

The KPI definitions are plain SQL views in `lake_sql/` (one named view per file, parameterised only by
table names, written in the SQL subset both DuckDB and Athena/Trino accept; kpi_cells writes its
projection once and view_sql repeats it for each CELL_SOURCES entry): they re-state
`kpis.accumulators` and must match it; tests/unit/test_lake_conformance.py holds them equal.

Design note, time zones: the SQL never converts time zones. The exporter, which already knows the
tenant's calendar (`kpis.intervals.TenantCalendar`), writes
- on each contact record the tenant-local quarter-hour its queue side counts in (`arrival_quarter_ms`,
  from enqueued_at) and its handling side counts in (`completion_quarter_ms`, from ACW end, else
  disconnect) — a contact that completed more than LOOKBACK_DAYS after its day (an e-mail handled days
  later) counts its handling side in a copy of its row filed under its completion day (`completion_copy`),
  which a report of that day scans, and its own row holds the queue side only — and
- a calendar table `lake_intervals`: one row per tenant-local quarter-hour with the start/end (ms) and
  ISO labels of its hour, day and ISO week.
Hours, days and weeks are then an equality join, DST days included (a fall-back day has 100 quarters,
its repeated hour two distinct starts), identical in both engines and to the Python roll-up, with no
`AT TIME ZONE` dialect differences. Agent activity spans are split across quarters by an overlap join
on the same calendar. A range that starts or ends inside a quarter-hour counts only what happened in it, as
the Python roll-up does: each kpi_cells row keeps when its counts happened (a contact side's instant, an
agent-time piece), and kpi_sums keeps the rows inside the range and clips agent time to it. Tenant settings that change what is counted (short abandon, default SL threshold)
or how KPIs are derived (variants, cost rates) are a small `tenant_settings` table joined by tenant.

`kpi_query()` is what the API runs for long ranges (ccaas.usecases.lake): every view inlined as a CTE in
one statement, each table read through a tenant-bound CTE, contacts as their latest snapshot (the merge
step for late corrections appended on AWS), and the tenant, range and days as bound parameters.

`kpi_query_sql()` builds the only query text that is not a fixed view: the sums of the quarter cells by
interval and 0–2 dimensions for one tenant and range (all literals validated here), after which the
fixed view `kpi_rows` derives the KPIs.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any, get_args

from ccaas.domain.history import AnalysisSummary, HistoryEntry
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS, AGENT_TIME_KPIS, KPI_NAMES
from ccaas.domain.kpis.intervals import GRANULARITIES, QUARTER_MS, TenantCalendar
from ccaas.domain.kpis.records import AgentActivity, ContactRecord
from ccaas.domain.kpis.ledger import ACTIVITY_DIMENSIONS, DIMENSIONS
from ccaas.domain.kpis.settings import KpiSettings

__all__ = [
    "CELL_SOURCES",
    "KPI_VIEWS",
    "LakeBusy",
    "LakeQuery",
    "RangeFacts",
    "TABLES",
    "Column",
    "Table",
    "agent_activity_rows",
    "analysis_rows",
    "contact_record_rows",
    "filing_day",
    "interval_rows",
    "kpi_answer",
    "kpi_query",
    "kpi_query_sql",
    "kpi_row",
    "kpi_sums_sql",
    "latest_versions",
    "settings_row",
    "settings_version",
    "survey_rows",
    "view_select",
    "view_sql",
]

PARTITION_COLUMNS = ("tenant_id", "day")

# Column types: a small neutral vocabulary, mapped per engine.
_DUCKDB_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE",
                 "boolean": "BOOLEAN", "array<string>": "VARCHAR[]"}
_GLUE_TYPES = {"string": "string", "bigint": "bigint", "int": "int", "double": "double",
               "boolean": "boolean", "array<string>": "array<string>"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of _DUCKDB_TYPES' keys
    comment: str = ""

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.type]

    @property
    def glue_type(self) -> str:
        return _GLUE_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """A lake table: data columns, then the Hive partition columns (tenant_id=…/day=YYYY-MM-DD/)."""

    name: str
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...] = PARTITION_COLUMNS
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Data columns then partition columns (both strings: tenant id and ISO local day)."""
        return self.columns + tuple(Column(p, "string") for p in self.partition_by)


def _cols(spec: str) -> tuple[Column, ...]:
    """'name type, name type, …' → columns (a compact, readable declaration)."""
    out = []
    for item in spec.split(","):
        name, kind = item.split()
        out.append(Column(name, kind))
    return tuple(out)


_CONTACT_RECORD_COLUMNS = _cols(
    "contact_id string, channel string, initiation_method string, queue_id string, agent_id string, "
    "team string, skill string, reason string, segment string, customer_id string, "
    "previous_contact_id string, initial_contact_id string, "
    "initiated_at bigint, enqueued_at bigint, connected_at bigint, disconnected_at bigint, "
    "acw_ended_at bigint, hold_ms bigint, hold_count bigint, transferred boolean, next_contact_id string, "
    "transferred_to_kind string, handover_mode string, queue_transfer boolean, consult_ms bigint, "
    "conference_ms bigint, consult_leg boolean, timed_out boolean, final_state string, sl_threshold_s bigint, "
    "last_updated_at bigint, csat bigint, ces bigint, nps bigint, followed_by_repeat boolean, "
    "is_repeat boolean, evaluation_score double, evaluation_auto_failed boolean, "
    # Derived by the exporter (see the module doc): engine-neutral and equal to the Python roll-up's.
    "evaluation_tenths bigint, arrival_quarter_ms bigint, completion_quarter_ms bigint, "
    # True on the copy of a long contact's row in its completion day (contact_record_rows): one row per
    # contact is `NOT COALESCE(completion_copy, FALSE)`.
    "completion_copy boolean, "
    # When this row was written: on AWS rows are appended (a late CTR version or survey adds a newer
    # snapshot of the contact to its day), and queries keep the latest (kpi_query's contact_records).
    "exported_at bigint"
)
# The day partitions a range reads: its own local days and this many before (a contact's row is filed under
# the day of its contact time; one that completes later than this counts its handling side in a copy).
LOOKBACK_DAYS = 1

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("contact_records", _CONTACT_RECORD_COLUMNS,
              description="Latest version of each contact (segment), survey answers, repeat flags and the "
                          "evaluation joined in; day = tenant-local day of the contact time (a contact "
                          "completed more than a day later has a completion_copy row in its completion day)"),
        Table("agent_activity", _cols(
            "agent_id string, team string, start_ms bigint, end_ms bigint, kind string, "
            "slots_busy bigint, slots_available bigint"),
            description="Closed agent activity spans [start_ms, end_ms), slots with defaults applied; "
                        "day = tenant-local day of start_ms"),
        Table("surveys", _cols("contact_id string, csat bigint, ces bigint, nps bigint, answered_at bigint"),
              description="Post-contact survey answers (no free text); day = the contact's day"),
        Table("transcript_analyses", _cols(
            "contact_id string, qa_score double, auto_failed boolean, categories array<string>, "
            "compliance_failed array<string>, customer_sentiment double, agent_sentiment double, "
            "reason string, segments bigint, redactions bigint, analyzed_at bigint, guidance_followed bigint"),
            description="Redacted transcript analysis summaries (never transcript text); day = the contact's day"),
        Table("contact_events", _cols(
            "event_id string, type string, subject string, sequence bigint, occurred_at string, version string"),
            description="Contact and agent events (ccaas.domain.events.Event, without payload) delivered by "
                        "Firehose from the events stream; day = the UTC day of occurred_at (Firehose's "
                        "dynamic partitioning knows no tenant time zone)"),
        Table("lake_intervals", _cols(
            "quarter_start_ms bigint, quarter_end_ms bigint, quarter_start_label string, quarter_end_label string, "
            "hour_start_ms bigint, hour_end_ms bigint, hour_start_label string, hour_end_label string, "
            "day_start_ms bigint, day_end_ms bigint, day_start_label string, day_end_label string, "
            "week_start_ms bigint, week_end_ms bigint, week_start_label string, week_end_label string"),
            description="The tenant's calendar: one row per local quarter-hour and the hour/day/week it is in"),
        Table("tenant_settings", _cols(
            "timezone string, short_abandon_ms double, default_sl_threshold_ms bigint, "
            "service_level_variant string, abandonment_variant string, fcr_population string, "
            "agent_cost_per_staffed_hour double, infrastructure_cost_per_contact double, "
            "infrastructure_cost_per_handle_minute double"),
            partition_by=("tenant_id",),
            description="KPI settings per tenant (kpis.settings.KpiSettings)"),
    )
}

# The fixed views, in creation order (each file lake_sql/<name>.sql defines the view <name>).
KPI_VIEWS: tuple[str, ...] = ("kpi_arrivals", "kpi_completions", "kpi_agent_time", "kpi_cells", "kpi_rows")

# Activity rows carry only these dimensions: grouped by anything else, agent-time KPIs are None.
DIMENSION_COLUMNS: dict[str, str] = {name: attr for name, attr in DIMENSIONS.items()}


@dataclass(frozen=True)
class CellSource:
    """One source view of kpi_cells: the counters it produces (the rest are 0 in its rows) and the
    dimension columns it carries (the rest are NULL)."""

    view: str
    from_activity: bool
    counters: tuple[str, ...]
    dimensions: tuple[str, ...]


_ARRIVAL_COUNTERS = ("offered", "answered", "abandoned", "timed_out", "short_abandoned", "answered_within_sl",
                     "abandoned_within_sl", "answered_wait_ms", "abandoned_wait_ms")
_AGENT_TIME_COUNTERS = ("busy_ms", "idle_ms", "not_ready_ms", "staffed_ms", "busy_slot_ms", "available_slot_ms")
# kpi_cells' sources, in UNION ALL order: contacts' queue side, their handling side, agent time. Every
# accumulator field is produced by exactly one of them (tests/unit/test_lake_tables.py checks this
# against the views' real columns).
CELL_SOURCES: tuple[CellSource, ...] = (
    CellSource("kpi_arrivals", False, _ARRIVAL_COUNTERS, tuple(DIMENSIONS.values())),
    CellSource("kpi_completions", False,
               tuple(f for f in ACCUMULATOR_FIELDS if f not in _ARRIVAL_COUNTERS + _AGENT_TIME_COUNTERS),
               tuple(DIMENSIONS.values())),
    CellSource("kpi_agent_time", True, _AGENT_TIME_COUNTERS, tuple(ACTIVITY_DIMENSIONS.values())),
)


def _cells_select(template: str) -> str:
    """kpi_cells' one projection (`template`, with <from_activity>, <dimensions>, <counters> and <source>
    markers) repeated for each CELL_SOURCES entry, joined by UNION ALL."""
    blocks = []
    for src in CELL_SOURCES:
        dims = ", ".join(d if d in src.dimensions else f"CAST(NULL AS VARCHAR) AS {d}" for d in DIMENSIONS.values())
        counters = ",\n    ".join(f if f in src.counters else f"0 AS {f}" for f in ACCUMULATOR_FIELDS)
        blocks.append(template.replace("<from_activity>", "TRUE" if src.from_activity else "FALSE")
                      .replace("<dimensions>", dims).replace("<counters>", counters)
                      .replace("<source>", "{" + src.view + "}").rstrip())
    return "\nUNION ALL\n".join(blocks) + "\n"


_TENANT_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\"]*$")


# --- rows ------------------------------------------------------------------------------------------
def latest_versions(records: Iterable[ContactRecord]) -> list[ContactRecord]:
    """One record per contact_id, the latest last_updated_at (ties keep the first seen), as KpiLedger."""
    latest: dict[str, ContactRecord] = {}
    for rec in records:
        held = latest.get(rec.contact_id)
        if held is None or rec.last_updated_at > held.last_updated_at:
            latest[rec.contact_id] = rec
    return list(latest.values())


def _anchor(rec: ContactRecord) -> int:
    t = rec.contact_time
    return t if t is not None else rec.last_updated_at


def filing_day(rec: ContactRecord, calendar: TenantCalendar) -> str:
    """The local day a contact is filed under: its own row's day, and the day whose export writes its rows
    (its completion copy's too: History is read by days of this instant)."""
    return calendar.local_day(_anchor(rec))


def contact_record_rows(records: Iterable[ContactRecord], calendar: TenantCalendar,
                        exported_at: int | None = None) -> list[dict[str, Any]]:
    """contact_records rows: the latest version of each contact, flat, with the quarter-hours its queue
    and handling sides count in, in this row (None when it was never enqueued / has not completed, or counts
    elsewhere). A contact that completed more than LOOKBACK_DAYS after its day gets a second row, filed under
    its completion day with its handling side (`completion_copy`): a report of that day reads its own days and
    LOOKBACK_DAYS before, never back to where the contact began; its own row keeps the queue side only."""
    rows = []
    for rec in latest_versions(records):
        row = rec.model_dump(mode="json", include=set(ContactRecord.model_fields))
        completed = rec.completed_at
        row["evaluation_tenths"] = None if rec.evaluation_score is None else round(rec.evaluation_score * 10)
        row["arrival_quarter_ms"] = None if rec.enqueued_at is None else calendar.quarter_start(rec.enqueued_at)
        row["completion_quarter_ms"] = None if completed is None else calendar.quarter_start(completed)
        row["day"] = day = filing_day(rec, calendar)
        row["completion_copy"] = False
        row["exported_at"] = exported_at
        rows.append(row)
        completion_day = None if completed is None else calendar.local_day(completed)
        if completion_day is not None and date.fromisoformat(completion_day) > date.fromisoformat(day) + timedelta(days=LOOKBACK_DAYS):
            rows.append({**row, "arrival_quarter_ms": None, "day": completion_day, "completion_copy": True})
            row["completion_quarter_ms"] = None
    return rows


def agent_activity_rows(
    tenant_id: str, activities: Iterable[AgentActivity], calendar: TenantCalendar
) -> list[dict[str, Any]]:
    """agent_activity rows, one per (agent, start) — the last span given wins, as KpiLedger — with the
    slot defaults of AgentActivity.slots() applied (so the SQL holds no second copy of them). A span
    crossing local midnight is cut there (midnight is a quarter-hour boundary, so no KPI changes): each
    day's partition holds that day's time, and the SQL splits spans into quarter-hours with an
    equality join on the day instead of a range join over the whole calendar."""
    latest: dict[tuple[str, int], AgentActivity] = {}
    for activity in activities:
        if activity.tenant_id is not None and activity.tenant_id != tenant_id:
            raise ValueError(f"activity of tenant {activity.tenant_id!r} exported for tenant {tenant_id!r}")
        latest[(activity.agent_id, activity.start_ms)] = activity
    rows = []
    for a in latest.values():
        busy, available = a.slots()
        start = a.start_ms
        while True:  # one row per local day the span covers (a day's partition holds its own time)
            local_day = calendar.local(start).date()
            end = min(a.end_ms, calendar.day_start(local_day + timedelta(days=1)))
            rows.append({
                "tenant_id": tenant_id, "agent_id": a.agent_id, "team": a.team, "start_ms": start,
                "end_ms": end, "kind": a.kind.value, "slots_busy": busy, "slots_available": available,
                "day": local_day.isoformat(),
            })
            if end >= a.end_ms:
                break
            start = end
    return rows


def survey_rows(entries: Iterable[HistoryEntry], calendar: TenantCalendar,
                answered_at: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """surveys rows: the answers kept on each history entry (no comment text), in the contact's day;
    none until the contact's record has arrived (its day is the record's). `answered_at`: when each
    contact's survey was submitted, where the caller read it (None otherwise)."""
    rows = []
    for e in entries:
        if e.record is None or (e.csat is None and e.ces is None and e.nps is None):
            continue
        rows.append({"tenant_id": e.tenant_id, "contact_id": e.contact_id, "csat": e.csat, "ces": e.ces,
                     "nps": e.nps, "answered_at": (answered_at or {}).get(e.contact_id),
                     "day": calendar.local_day(_anchor(e.record))})
    return rows


def analysis_rows(entries: Iterable[HistoryEntry], calendar: TenantCalendar) -> list[dict[str, Any]]:
    """transcript_analyses rows: AnalysisSummary fields only (it holds no text: only scores, names, counts)."""
    rows = []
    for e in entries:
        summary: AnalysisSummary | None = e.analysis
        if e.record is None or summary is None:
            continue
        rows.append({
            "tenant_id": e.tenant_id, "contact_id": e.contact_id, "qa_score": summary.qa_score,
            "auto_failed": summary.auto_failed, "categories": list(summary.categories),
            "compliance_failed": list(summary.compliance_failed),
            "customer_sentiment": summary.customer_sentiment, "agent_sentiment": summary.agent_sentiment,
            "reason": summary.reason, "segments": summary.segments, "redactions": summary.redactions,
            "analyzed_at": summary.analyzed_at, "guidance_followed": summary.guidance_followed,
            "day": calendar.local_day(_anchor(e.record)),
        })
    return rows


def interval_rows(tenant_id: str, calendar: TenantCalendar, from_ms: int, to_ms: int) -> list[dict[str, Any]]:
    """lake_intervals rows: every local quarter-hour overlapping [from_ms, to_ms) (whole local days are
    the usual range) with its hour, day and week."""
    rows = []
    # A day's 96 quarters share their hour, day and week: each interval's end and each instant's label
    # is computed once (13 months of calendar for a long lake query: ~38,000 rows).
    ends: dict[tuple[str, int], int] = {}
    labels: dict[int, str] = {}

    def label(ms: int) -> str:
        text = labels.get(ms)
        if text is None:
            text = labels[ms] = calendar.iso(ms)
        return text

    for quarter in calendar.interval_starts("15m", from_ms, to_ms):
        row: dict[str, Any] = {"tenant_id": tenant_id, "day": ""}
        for prefix, granularity in (("quarter", "15m"), ("hour", "hour"), ("day", "day"), ("week", "week")):
            start = calendar.interval_start(quarter, granularity)  # type: ignore[arg-type]
            end = ends.get((granularity, start))
            if end is None:
                end = ends[(granularity, start)] = calendar.next_interval_start(start, granularity)  # type: ignore[arg-type]
            row[f"{prefix}_start_ms"] = start
            row[f"{prefix}_end_ms"] = end
            row[f"{prefix}_start_label"] = label(start)
            row[f"{prefix}_end_label"] = label(end)
        row["day"] = row["day_start_label"][:10]  # the local date of the quarter's day
        rows.append(row)
    return rows


def day_range_ms(calendar: TenantCalendar, first_day: str, last_day: str) -> tuple[int, int]:
    """[local midnight of first_day, local midnight after last_day) for ISO dates."""
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    return calendar.day_start(first), calendar.day_start(last + timedelta(days=1))


def settings_version(row: Mapping[str, Any]) -> str:
    """A short digest of a tenant_settings row (settings_row): equal rows, equal versions."""
    return hashlib.sha256(json.dumps(dict(row), sort_keys=True).encode()).hexdigest()[:16]


def settings_row(tenant_id: str, tz: str, settings: KpiSettings) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "timezone": tz,
        "short_abandon_ms": settings.short_abandon_s * 1000,  # a float, compared as KpiLedger does
        "default_sl_threshold_ms": settings.default_sl_threshold_s * 1000,
        "service_level_variant": settings.service_level_variant,
        "abandonment_variant": settings.abandonment_variant,
        "fcr_population": settings.fcr_population,
        "agent_cost_per_staffed_hour": settings.agent_cost_per_staffed_hour,
        "infrastructure_cost_per_contact": settings.infrastructure_cost_per_contact,
        "infrastructure_cost_per_handle_minute": settings.infrastructure_cost_per_handle_minute,
    }


# --- SQL -------------------------------------------------------------------------------------------
def _relation(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


def view_sql(view: str, names: Mapping[str, str] | None = None) -> str:
    """The CREATE VIEW statement of one KPI view, with table/view names substituted (default: their
    own names). `names` maps a logical name (contact_records, kpi_cells, …) to the engine's relation,
    e.g. {"contact_records": "ccaas_lake.contact_records"} on Athena."""
    if view not in KPI_VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {KPI_VIEWS}")
    text = resources.files("ccaas.domain").joinpath("lake_sql", f"{view}.sql").read_text(encoding="utf-8")
    if view == "kpi_cells":
        head, _, template = text.partition("AS\n")
        text = head + "AS\n" + _cells_select(template)
    mapping = {name: name for name in (*TABLES, *KPI_VIEWS, "kpi_sums")}
    mapping.update({k: _relation(v) for k, v in (names or {}).items()})
    return text.format(**mapping)


def view_select(view: str, names: Mapping[str, str] | None = None) -> str:
    """The SELECT body of a view (its CREATE … AS removed), to inline it as a query or CTE."""
    text = view_sql(view, names)
    head = re.search(r"CREATE OR REPLACE VIEW \S+ AS\s", text)
    assert head is not None, view
    return text[head.end():]


def _check_tenant(tenant_id: str) -> str:
    if not _TENANT_RE.fullmatch(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return tenant_id


# Athena binds execution parameters only in WHERE clauses (no `SELECT ?`), yet agent time at a range's edges is
# clipped to the range's bounds in the SELECT: each bound is lifted into a column by summing the powers of two a
# WHERE finds set in it (2^0 … 2^42: every epoch ms to the year 2109), in both engines alike.
_POWERS_OF_TWO = ", ".join(f"({1 << n})" for n in range(43))


def _bound_column(marker: str) -> str:
    """A one-row relation whose `ms` is the value of `marker` (a literal or a $name$ parameter), which appears
    in its WHERE only."""
    return (f"(SELECT CAST(COALESCE(SUM(b.v), 0) AS BIGINT) AS ms FROM (VALUES {_POWERS_OF_TWO}) AS b (v) "
            f"WHERE {marker} % (2 * b.v) >= b.v)")


def _clipped_sum(field: str) -> str:
    """SUM of a kpi_cells counter over [from, to) (the relation `r`): an agent-time piece partly outside it counts
    only its part inside, pro rata (its counters are whole multiples of its length: ms x slots, so exact); every
    other row lies inside or was left out by the WHERE."""
    if field not in _AGENT_TIME_COUNTERS:
        return f"SUM(c.{field})"
    return (f"SUM(CASE WHEN c.span_start_ms >= r.from_ms AND c.span_end_ms <= r.to_ms THEN c.{field} "
            f"ELSE CAST(CAST(c.{field} AS DOUBLE) / (c.span_end_ms - c.span_start_ms) "
            f"* (LEAST(c.span_end_ms, r.to_ms) - GREATEST(c.span_start_ms, r.from_ms)) AS BIGINT) END)")


def kpi_sums_sql(
    *,
    tenant_id: str,
    from_ms: int,
    to_ms: int,
    interval: str = "15m",
    group_by: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    scan_days: tuple[str, str] | None = None,
    bind: bool = False,
) -> str:
    """SELECT of the summed counters per (interval, dimension values) of one tenant over [from_ms, to_ms):
    the `kpi_sums` relation that the `kpi_rows` view derives KPIs from. Same rows as KpiLedger.rows():
    ungrouped, every interval in range (zeros when empty); grouped, only non-empty combinations; an interval
    the range starts or ends inside keeps its label and counts only what happened in the range (each contact
    side at its instant, agent time clipped). The tenant is always bound (a query can never read another
    tenant's rows). With `bind`, the tenant, range and scan days are $name$ markers that kpi_query binds as
    parameters, not validated literals."""
    from ccaas.domain.kpis.ledger import validate_group_by

    dims = validate_group_by(group_by)
    if interval not in GRANULARITIES:
        raise ValueError(f"unknown interval {interval!r}; expected one of {GRANULARITIES}")
    tenant = _check_tenant(tenant_id)
    lo, hi = int(from_ms) - QUARTER_MS, int(to_ms)  # quarters overlapping [from, to)
    n = {name: _relation((names or {}).get(name, name)) for name in ("kpi_cells", "lake_intervals")}
    prefix = {"15m": "quarter", "hour": "hour", "day": "day", "week": "week"}[interval]
    agent_time = all(d in ACTIVITY_DIMENSIONS for d in dims)
    interval_cols = (f"i.{prefix}_start_ms AS interval_start_ms, i.{prefix}_end_ms AS interval_end_ms, "
                     f"i.{prefix}_start_label AS interval_start, i.{prefix}_end_label AS interval_end")
    dim_cols = ", ".join(
        f"c.{DIMENSION_COLUMNS[d]} AS {d}" if d in dims else f"CAST(NULL AS VARCHAR) AS {d}" for d in DIMENSIONS
    )
    group_cols = ", ".join(["c.tenant_id", f"i.{prefix}_start_ms", f"i.{prefix}_end_ms", f"i.{prefix}_start_label",
                            f"i.{prefix}_end_label", *(f"c.{DIMENSION_COLUMNS[d]}" for d in dims)])
    # BIGINT like Trino's SUM(bigint) (DuckDB would widen to a slower 128-bit integer).
    sums = ", ".join(f"CAST({_clipped_sum(f)} AS BIGINT) AS {f}" for f in ACCUMULATOR_FIELDS)
    t_, lo_, hi_ = ("$tenant$", "$lo$", "$hi$") if bind else (f"'{tenant}'", str(lo), str(hi))
    from_, to_ = ("$from$", "$to$") if bind else (str(int(from_ms)), str(int(to_ms)))
    # The quarters overlapping [from, to), and in them what happened in it: a contact side at its instant
    # (a one-ms span), agent time overlapping it (clipped in the sums).
    where = (f"c.tenant_id = {t_} AND i.tenant_id = {t_} AND c.quarter_start_ms > {lo_} "
             f"AND c.quarter_start_ms < {hi_} AND c.span_end_ms > {from_} AND c.span_start_ms < {to_}")
    if not agent_time:
        where += " AND NOT c.from_activity"
    if scan_days is not None:
        first, last = (date.fromisoformat(d).isoformat() for d in scan_days)  # validated literals
        where += (" AND c.day >= $first_day$ AND c.day <= $last_day$" if bind
                  else f" AND c.day >= '{first}' AND c.day <= '{last}'")
    cells = (
        f"SELECT c.tenant_id, {interval_cols}, {dim_cols}, {sums} "
        f"FROM {n['kpi_cells']} c JOIN {n['lake_intervals']} i "
        f"ON i.tenant_id = c.tenant_id AND i.quarter_start_ms = c.quarter_start_ms "
        f"CROSS JOIN (SELECT f.ms AS from_ms, t.ms AS to_ms FROM {_bound_column(from_)} f "
        f"CROSS JOIN {_bound_column(to_)} t) r "
        f"WHERE {where} GROUP BY {group_cols}"
    )
    flag = "TRUE" if agent_time else "FALSE"
    group_label = "+".join(dims)
    if dims:
        nonzero = " OR ".join(f"{f} <> 0" for f in ACCUMULATOR_FIELDS)
        return (f"SELECT s.*, '{interval}' AS granularity, '{group_label}' AS group_by, {flag} AS agent_time "
                f"FROM ({cells}) s WHERE {nonzero}")
    filled = ", ".join(f"COALESCE(s.{f}, 0) AS {f}" for f in ACCUMULATOR_FIELDS)
    dim_nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {d}" for d in DIMENSIONS)
    return (
        f"SELECT i.tenant_id, i.interval_start_ms, i.interval_end_ms, i.interval_start, i.interval_end, "
        f"{dim_nulls}, {filled}, '{interval}' AS granularity, '' AS group_by, TRUE AS agent_time "
        f"FROM (SELECT DISTINCT tenant_id, {prefix}_start_ms AS interval_start_ms, {prefix}_end_ms AS interval_end_ms, "
        f"{prefix}_start_label AS interval_start, {prefix}_end_label AS interval_end FROM {n['lake_intervals']} "
        f"WHERE tenant_id = {t_} AND quarter_start_ms > {lo_} AND quarter_start_ms < {hi_}) i "
        f"LEFT JOIN ({cells}) s ON s.interval_start_ms = i.interval_start_ms"
    )


def kpi_query_sql(dimension_order: Sequence[str] = ()) -> str:
    """The SELECT reading kpi_rows in KpiLedger.rows()' order (interval, then dimension values, None last)."""
    order = ["interval_start_ms"]
    for d in dimension_order:
        order += [f"CASE WHEN {d} IS NULL THEN 1 ELSE 0 END", d]
    return f"SELECT * FROM kpi_rows ORDER BY {', '.join(order)}"


KPI_COLUMNS: tuple[str, ...] = (*KPI_NAMES, "share_of_offered")
AGENT_TIME_KPI_NAMES = AGENT_TIME_KPIS


# --- one self-contained, parameterised KPI query (the API's long ranges) ------------------------------
@dataclass(frozen=True)
class LakeQuery:
    """A query for an engine: SQL with `?` placeholders and their values in order. The first value is
    always the tenant (kpi_query's guarantee): an engine that reports a query's parameters back tells
    whose query it is."""

    sql: str
    parameters: tuple[str | int, ...]

    @property
    def tenant_id(self) -> str:
        return str(self.parameters[0])


class LakeBusy(Exception):
    """The lake's engine turned the query away for load (Athena: TooManyRequestsException, after the
    adapter's retries): nothing ran; asking again after `retry_after_s` may succeed (the API: 503 with
    Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


_MARKER = re.compile(r"\$([a-z_]+)\$")


def _positional(sql: str, values: Mapping[str, str | int]) -> LakeQuery:
    params: list[str | int] = []

    def one(match: re.Match[str]) -> str:
        params.append(values[match.group(1)])
        return "?"

    return LakeQuery(_MARKER.sub(one, sql), tuple(params))


def kpi_query(
    *,
    tenant_id: str,
    from_ms: int,
    to_ms: int,
    interval: str = "15m",
    group_by: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    scan_days: tuple[str, str] | None = None,
    service_level_variant: str | None = None,
    limit: int | None = None,
    settings_version: str | None = None,
) -> LakeQuery:
    """kpi_rows over one tenant and range as ONE statement (every KPI view inlined as a CTE, so an engine
    needs only the tables: `names` maps them, e.g. {"contact_records": "ccaas_lake.contact_records"}),
    ordered as KpiLedger.rows(). The tenant, range bounds, scan days and a service-level variant are
    bound parameters, never formatted into the text (DuckDB binds `?`; Athena's ExecutionParameters).
    Contacts are read as their latest snapshot (last_updated_at, then exported_at): the merge step that
    makes appended late corrections (a newer CTR version, a late survey) win over older rows, in their day
    and in another (a long contact's completion copy). Each row also carries what the range holds for the
    fast path's warnings (contacts enqueued or completed in it, agent activity overlapping it); with no KPI
    rows, that is the one row (kpi_answer splits them).

    Athena binds execution parameters only in WHERE clauses (its "parameterized queries" limits: no
    `SELECT ?`), so every `?` here is in one: the variant is chosen from a VALUES list of the named
    variants by a WHERE, not selected as a parameter. tests/unit/test_lake_sql_dialect.py checks it, and
    parses every variant as Trino.

    With `limit`, at most that many rows come back, each with `result_rows`: how many KPI rows the whole
    answer has (a window COUNT), so a caller that capped the answer knows by how much it was exceeded.

    `settings_version` (settings_version of the tenant_settings row the caller wrote for this query) is bound
    too: Athena reuses the result of the same statement with the same parameters for minutes, and the settings
    are read from a table, so without it a query after a settings change got the old settings' figures."""
    from ccaas.domain.kpis.settings import KpiSettings, ServiceLevelVariant

    source = {t: _relation((names or {}).get(t, t)) for t in TABLES}
    # Every table is read through a CTE bound to the tenant (and to the scanned days): each scan prunes
    # to the tenant's partitions itself (Athena's injected projection needs the tenant on the table).
    ctes, tables = [], dict(source)
    for name in ("contact_records", "agent_activity", "lake_intervals", "tenant_settings"):
        where = "tenant_id = $tenant$"
        if scan_days and "day" in TABLES[name].partition_by:
            where += " AND day >= $first_day$ AND day <= $last_day$"
        if name == "tenant_settings" and settings_version is not None:
            where += " AND $settings_version$ = $settings_version$"  # always true: new settings, a new statement
        ctes.append(f"tenant_{name} AS (SELECT * FROM {source[name]} WHERE {where})")
        tables[name] = f"tenant_{name}"
    # Each activity span once: on AWS spans are appended, and a redelivered agent event exports its
    # span again (a span is keyed by agent and start, and never changes once closed).
    ctes.append("unique_agent_activity AS (SELECT * FROM (SELECT a.*, ROW_NUMBER() OVER (PARTITION BY a.tenant_id, "
                "a.day, a.agent_id, a.start_ms ORDER BY a.end_ms DESC) AS span_rank FROM tenant_agent_activity a) s "
                "WHERE s.span_rank = 1)")
    tables["agent_activity"] = "unique_agent_activity"
    # The latest snapshot of each contact: a day's partition may hold several (appended on AWS), one row a
    # day is kept, and only the rows of the contact's latest snapshot among the days read. A long contact's
    # snapshot is a row in its day and a completion copy in a later one: an older snapshot's copy left in
    # another day (the contact completed later than that snapshot said) is not the latest and counts nowhere.
    latest = "ORDER BY r.last_updated_at DESC, r.exported_at DESC NULLS LAST"
    ctes.append(f"latest_contact_records AS (SELECT * FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.tenant_id, "
                f"r.day, r.contact_id {latest}) AS snapshot_rank, RANK() OVER (PARTITION BY r.tenant_id, r.contact_id "
                f"{latest}) AS contact_snapshot_rank FROM tenant_contact_records r) s "
                f"WHERE s.snapshot_rank = 1 AND s.contact_snapshot_rank = 1)")
    tables["contact_records"] = "latest_contact_records"
    sums = kpi_sums_sql(tenant_id=tenant_id, from_ms=from_ms, to_ms=to_ms, interval=interval, group_by=group_by,
                        names={"lake_intervals": tables["lake_intervals"]}, scan_days=scan_days, bind=True)
    ctes += [f"{v} AS ({view_select(v, tables)})" for v in KPI_VIEWS if v != "kpi_rows"]
    ctes.append(f"kpi_sums AS ({sums})")
    settings_relation = tables["tenant_settings"]  # the tenant's row only
    values: dict[str, str | int] = {"tenant": _check_tenant(tenant_id), "lo": int(from_ms) - QUARTER_MS,
                                    "hi": int(to_ms), "from": int(from_ms), "to": int(to_ms)}
    if scan_days is not None:
        values["first_day"], values["last_day"] = (date.fromisoformat(d).isoformat() for d in scan_days)
    if settings_version is not None:
        if not re.fullmatch(r"[0-9a-f]{16}", settings_version):
            raise ValueError(f"not a settings version: {settings_version!r}")
        values["settings_version"] = settings_version
    if service_level_variant is not None:
        KpiSettings(service_level_variant=service_level_variant)  # type: ignore[arg-type]  # validates the name
        columns = ", ".join(f"v.{c.name}" if c.name == "service_level_variant" else f"s.{c.name}"
                            for c in TABLES["tenant_settings"].all_columns)
        named = ", ".join(f"('{v}')" for v in get_args(ServiceLevelVariant))
        ctes.append(f"query_settings AS (SELECT {columns} FROM {settings_relation} s CROSS JOIN "
                    f"(VALUES {named}) AS v (service_level_variant) WHERE v.service_level_variant = $variant$)")
        settings_relation = "query_settings"
        values["variant"] = service_level_variant
    # What the fast path's warnings ask of the range (history.range_warnings), whatever the grouping: was any
    # contact enqueued or completed in it (one enqueued before it and abandoned in it is in no KPI row's
    # offered or handled), and does any agent activity overlap it (rows by a contact dimension carry no agent time).
    ctes.append("range_facts AS (SELECT c.n AS range_contacts, a.n AS range_activity_spans FROM "
                "(SELECT COUNT(*) AS n FROM tenant_contact_records r WHERE (r.enqueued_at >= $from$ AND "
                "r.enqueued_at < $to$) OR (COALESCE(r.acw_ended_at, r.disconnected_at) >= $from$ AND "
                "COALESCE(r.acw_ended_at, r.disconnected_at) < $to$)) c CROSS JOIN "
                "(SELECT COUNT(*) AS n FROM tenant_agent_activity s WHERE s.start_ms < $to$ AND s.end_ms > $from$) a)")
    rows = view_select("kpi_rows", {**tables, "tenant_settings": settings_relation})
    order = kpi_query_sql(group_by).replace("SELECT * FROM kpi_rows", "")
    # Every row carries those two counts; an answer with no KPI rows is one row of them alone (the KPI columns
    # NULL; kpi_answer splits them), so a grouped report of no contacts still says whether agents worked.
    select = "SELECT kpi_rows.*, range_facts.range_contacts, range_facts.range_activity_spans"
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"not a row limit: {limit!r}")
        select, order = f"{select}, COUNT(kpi_rows.granularity) OVER () AS result_rows", f"{order} LIMIT {limit}"
    query = _positional(f"WITH {', '.join(ctes)} {select} FROM range_facts LEFT JOIN ({rows}) kpi_rows ON TRUE "
                        f"{order}", values)
    assert query.parameters and query.parameters[0] == tenant_id, "the tenant must be the first parameter"
    return query


@dataclass(frozen=True)
class RangeFacts:
    """What kpi_query found in its range besides the KPI rows (history.range_warnings' questions)."""

    contacts: bool  # a contact was enqueued or completed in it
    agent_activity: bool  # an agent activity span overlaps it


_RANGE_COLUMNS = ("range_contacts", "range_activity_spans")


def kpi_answer(rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], RangeFacts | None]:
    """kpi_query's rows as (the KPI rows, the range's facts): the row of an answer with no KPI rows left out,
    and the range's counts taken off each row. None for rows without them (a query started before they were)."""
    if not rows or any(c not in rows[0] for c in _RANGE_COLUMNS):
        return [dict(r) for r in rows], None
    found = [{k: v for k, v in r.items() if k not in _RANGE_COLUMNS}
             for r in rows if r.get("granularity") is not None]
    facts = RangeFacts(contacts=bool(rows[0]["range_contacts"]), agent_activity=bool(rows[0]["range_activity_spans"]))
    return found, facts


def kpi_row(row: Mapping[str, Any]) -> Any:
    """One kpi_rows result (a dict, as an engine returns it) as the API's KpiRow."""
    from ccaas.domain.kpis.ledger import KpiRow

    group_by = str(row.get("group_by") or "")
    values: dict[str, Any] = {
        "tenant_id": row.get("tenant_id"),
        "interval": row["granularity"],
        "group_by": tuple(group_by.split("+")) if group_by else (),
        **{k: row[k] for k in ("interval_start", "interval_end")},
        **{k: int(row[k]) for k in ("interval_start_ms", "interval_end_ms")},
        **{d: row.get(d) for d in DIMENSIONS},
        **{k: (None if row.get(k) is None else float(row[k])) for k in KPI_COLUMNS},
        **{k: int(row.get(k) or 0) for k in ACCUMULATOR_FIELDS},
    }
    return KpiRow.model_validate(values)
