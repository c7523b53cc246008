"""Historical KPIs over long ranges from the analytics lake (issue 19).

`GET /metrics/historical` keeps its fast path (the History table rolled up in the function) for ranges
up to history.MAX_RANGE_DAYS (93 days). A longer range, up to 13 months, runs the lake's KPI query
(ccaas.domain.lake.kpi_query: one parameterised statement, the tenant bound) on the lake's engine:
Athena on AWS, DuckDB locally. The answer is returned when the engine finishes within the API's budget
(`WAIT_S`); otherwise the caller gets a query id and fetches the result later from
`GET /metrics/historical/queries/{id}` (same response shape, CSV included).

The public query id is `<engine id>.<context>`: the context (interval, grouping, variant, range; base64
JSON) only shapes the response. Whose query it is comes from the engine (the tenant is the query's
first bound parameter), never from the id: another tenant's id is a 404.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ccaas.bootstrap import Dependencies
from ccaas.domain import lake
from ccaas.domain.history import DAY_MS, MAX_ACTIVITY_READ_DAYS, OpenActivity
from ccaas.domain.kpis.intervals import Granularity, TenantCalendar
from ccaas.domain.kpis.records import AgentActivity
from ccaas.domain.kpis.ledger import ACTIVITY_DIMENSIONS, validate_group_by
from ccaas.domain.kpis.settings import KpiSettings, ServiceLevelVariant
from ccaas.domain.vocabulary import FIRST_YEAR, LAST_YEAR, DomainError, NotFound
from ccaas.ports_lake import LakeExport, LakeQueries, LakeQueryStatus, installed_engine, installed_export
from ccaas.usecases import history

# 13 calendar months are at most 397 days (July to July: eight 31-day months, four of 30, a 29-day February).
MAX_LAKE_RANGE_DAYS = 397
# The instants a request may name: the years FIRST_YEAR-LAST_YEAR on any tenant's wall clock (UTC offsets are
# within a day), so a range history.time_range accepts is always one a lake query (and its id) may carry.
_EARLIEST_MS = int(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp() * 1000) - DAY_MS
_LATEST_MS = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp() * 1000) + DAY_MS
WAIT_S = 4.0  # what a request waits for the engine (API Gateway allows 29 s; keep the function's budget small)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}\.[A-Za-z0-9_=-]{1,512}$")

# --- how many rows one answer carries ---------------------------------------------------------------
# A report goes back whole in ONE Lambda response: 6 MB for a synchronous invocation (API Gateway would
# carry 10 MB; Lambda's limit is the binding one), the body escaped inside the proxy envelope. A KpiRow
# (86 fields) measures at most ~2,930 bytes as JSON in the envelope (UUID dimensions, 20-character floats,
# 10-digit counters) and ~1,170 bytes as CSV (tests/unit/test_lake_query_cap.py measures both and holds
# the caps under the limit). 13 months by hour is 9,528 rows ungrouped, and by queue × channel can be
# hundreds of thousands: such a report is refused with a 422 that names the numbers, never cut short.
Representation = Literal["json", "csv"]
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
ROW_BYTES: dict[str, int] = {"json": 3_000, "csv": 1_200}  # the measured worst case, rounded up
MAX_ROWS: dict[str, int] = {"json": 2_000, "csv": 5_000}  # × ROW_BYTES leaves ≥ 256 KB for the rest
_COARSER = {"15m": "hour", "hour": "day", "day": "week"}
_ENVELOPE_ROOM = 256 * 1024  # the proxy response's headers and fields around the body


def row_cap(representation: Representation = "json") -> int:
    """The most rows one answer in this representation carries (compact JSON counts as JSON: `fields`
    may name every column)."""
    return MAX_ROWS[representation]


class ReportTooLarge(DomainError):
    """The report has more rows than one answer carries (422: the request asks for too much, by the
    numbers; a coarser interval, fewer dimensions, a shorter range or CSV makes it fit)."""

    code = "too_many_rows"

    def __init__(self, rows: int, cap: int, *, interval: str, group_by: Sequence[str],
                 representation: Representation, field: str) -> None:
        grouping = f" by {' × '.join(group_by)}" if group_by else ""
        ways = [f"interval={_COARSER[interval]}"] if interval in _COARSER else []
        if group_by:
            ways.append("fewer group_by")
        ways.append("a shorter range")
        if representation == "json" and rows <= MAX_ROWS["csv"]:
            ways.append("format=csv")
        super().__init__(f"this report has {rows:,} rows (interval={interval}{grouping}); at most {cap:,} fit in one "
                         f"{representation.upper()} answer: use {', '.join(ways[:-1])}{' or ' if len(ways) > 1 else ''}"
                         f"{ways[-1]}", field=field)
        self.rows, self.cap = rows, cap


def _fitting(report: history.HistoricalReport, representation: Representation) -> history.HistoricalReport:
    """The fast path's report if one answer carries it, else ReportTooLarge: 93 days by hour and agent × reason
    came to 12.5 MB, over Lambda's 6 MB (API Gateway's 502, the roll-up done again on every retry). Past the
    row cap (the measured worst case) the JSON is measured, as the proxy envelope carries it (escaped), so a
    report of plainer rows that does fit (93 days by hour, ungrouped: ~4 MB) still goes back."""
    cap = row_cap(representation)
    if len(report.rows) <= cap:
        return report
    if representation == "json" and len(json.dumps(report.model_dump_json())) <= RESPONSE_LIMIT_BYTES - _ENVELOPE_ROOM:
        return report
    raise ReportTooLarge(len(report.rows), cap, interval=report.interval, group_by=report.group_by,
                         representation=representation, field="group_by" if report.group_by else "interval")


def lake_queries(deps: Dependencies) -> LakeQueries | None:
    """The lake's engine for this function (see ccaas.ports_lake), None when there is no lake."""
    found = getattr(deps, "lake", None) or installed_engine()
    if found is not None:
        return found
    from ccaas.adapters.aws.lake import from_environment

    return from_environment(session=getattr(deps, "session", None))  # the function's session (bootstrap)


class LakeQueryAccepted(BaseModel):
    """202: the lake is still computing; GET `location` (until it answers 200) for the report."""

    query_id: str
    state: Literal["QUEUED", "RUNNING"]
    location: str
    time_zone: str
    interval: Granularity
    group_by: tuple[str, ...]
    retry_after_s: int = Field(default=2, description="a polite delay before asking again")


class LakeQueryFailed(DomainError):
    """The engine ran the query and it failed (or was cancelled). Answered as a 422 naming the engine's
    reason, not a 5xx: the request was understood and the report cannot be made as asked (Athena's
    failures for a valid statement are mostly limits the request's size meets: resources exhausted, too
    many partitions, time out); asking again starts the query anew."""

    code = "lake_query_failed"


LakeBusy = lake.LakeBusy  # the engine turned the query away for load: 503 with Retry-After


class QueryContext(BaseModel):
    """What a query id carries besides the engine's id: how start_query shaped the query, so the report can be
    labelled and filled. The id is the caller's to change, so it is read strictly (JSON types as written: no
    "5" for 5, no true for 1; no unknown keys) and must be one start_query could have made: a known interval,
    a valid grouping, a named variant, a range of the API's years and at most 13 months, the row cap of a
    representation. Anything else is no query (404 naming query_id), never trusted. (What the engine returns is
    checked against it too: _answer.)"""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    i: Granularity  # interval
    g: tuple[str, ...]  # group_by
    v: ServiceLevelVariant | None  # the variant the query ran with (None in older ids: the tenant's)
    f: int  # from_ms
    t: int  # to_ms
    n: int | None = Field(default=None, ge=1)  # the row cap it was started with (ids from before it: none)

    @field_validator("g")
    @classmethod
    def _grouping(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return validate_group_by(value)

    @model_validator(mode="after")
    def _made_by_start_query(self) -> QueryContext:
        # Its range is what the answer's empty intervals are filled over: never a CPU-eating or overflowing span.
        if lake_range_problem(self.f, self.t) is not None:
            raise ValueError("not a range of a lake query")
        if self.n is not None and self.n > max(MAX_ROWS.values()):
            raise ValueError("not a row cap of a lake query")
        return self

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json().encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> QueryContext:
        """The context of a query id's second part; ValueError when it is not one start_query made."""
        try:
            return cls.model_validate_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except ValidationError as error:  # a ValueError, named for what it is
            raise ValueError(f"not a lake query context ({error.error_count()} errors)") from None


def lake_range_problem(from_ms: int, to_ms: int) -> tuple[str, str] | None:
    """(field, why) when [from_ms, to_ms) is no range of a lake query, else None."""
    if not _EARLIEST_MS <= from_ms <= _LATEST_MS:
        return "from", f"`from` must be in the years {FIRST_YEAR}-{LAST_YEAR}"
    if not _EARLIEST_MS <= to_ms <= _LATEST_MS:
        return "to", f"`to` must be in the years {FIRST_YEAR}-{LAST_YEAR}"
    if to_ms <= from_ms:
        return "to", "`to` must be after `from`"
    if to_ms - from_ms > (MAX_LAKE_RANGE_DAYS + 2) * DAY_MS:
        return "to", f"the range may span at most {MAX_LAKE_RANGE_DAYS} days"
    return None


def scan_days(calendar: TenantCalendar, from_ms: int, to_ms: int) -> tuple[str, str]:
    """The day partitions [from, to) needs: its local days and lake.LOOKBACK_DAYS before."""
    first = calendar.local(from_ms).date() - timedelta(days=lake.LOOKBACK_DAYS)
    last = calendar.local(to_ms - 1).date()
    return first.isoformat(), last.isoformat()


def historical(
    deps: Dependencies,
    engine: LakeQueries | None,
    tenant_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    interval: Granularity = "hour",
    group_by: Sequence[str] = (),
    service_level_variant: ServiceLevelVariant | None = None,
    wait_s: float = WAIT_S,
    representation: Representation = "json",
) -> history.HistoricalReport | LakeQueryAccepted:
    """GET /metrics/historical: the fast path up to 93 days; beyond, the lake (up to 13 months), in at most
    row_cap(representation) rows (else ReportTooLarge)."""
    time_zone, span = history.time_range(deps, tenant_id, start, end, max_days=MAX_LAKE_RANGE_DAYS)
    settings = history.kpi_settings(deps, tenant_id)
    if not history.spans_more_days(time_zone, span.from_ms, span.to_ms, history.MAX_RANGE_DAYS):
        report = history.historical_metrics(deps, tenant_id, start=start, end=end, interval=interval,
                                            group_by=group_by, service_level_variant=service_level_variant)
        return _fitting(report, representation)
    if engine is None:
        raise DomainError(f"the range may span at most {history.MAX_RANGE_DAYS} days (this deployment has no "
                          f"analytics lake for longer ranges)", field="to")
    if interval == "15m":
        raise DomainError(f"15-minute intervals cover at most {history.MAX_QUARTER_HOUR_RANGE_DAYS} days",
                          field="interval")
    try:
        dims = validate_group_by(group_by)
    except ValueError as error:
        raise DomainError(str(error), field="group_by") from None
    from ccaas.usecases.lake_reference import ensure_reference_data  # noqa: PLC0415 - only for lake queries

    # The calendar and settings rows the KPI views join, written where the lake lacks them (on AWS: JSON
    # objects; nothing else writes them there). A refused write raises LakeExportFailed: no wrong answer.
    calendar = TenantCalendar(time_zone)
    ensure_reference_data(deps, tenant_id, calendar, scan_days(calendar, span.from_ms, span.to_ms), settings)
    return start_query(engine, tenant_id, time_zone=time_zone, from_ms=span.from_ms, to_ms=span.to_ms,
                       interval=interval, group_by=dims, service_level_variant=service_level_variant, wait_s=wait_s,
                       tenant_variant=settings.service_level_variant, representation=representation,
                       settings_version=lake.settings_version(lake.settings_row(tenant_id, time_zone, settings)))


def start_query(
    engine: LakeQueries,
    tenant_id: str,
    *,
    time_zone: str,
    from_ms: int,
    to_ms: int,
    interval: Granularity,
    group_by: tuple[str, ...] = (),
    service_level_variant: ServiceLevelVariant | None = None,
    wait_s: float = WAIT_S,
    names: dict[str, str] | None = None,
    tenant_variant: ServiceLevelVariant = KpiSettings().service_level_variant,
    representation: Representation = "json",
    settings_version: str | None = None,
) -> history.HistoricalReport | LakeQueryAccepted:
    """Start the lake's KPI query and wait up to `wait_s` for its report (`tenant_variant`: the variant the
    tenant's settings name, reported when the request names none; `settings_version`: of the settings row
    written for it, so an engine that reuses recent results never answers with an older settings' figures).

    At most row_cap(representation) rows: an ungrouped report has one row per interval, so one with more
    intervals is refused before anything runs (ReportTooLarge naming `interval`); a grouped report's
    size is known only when it has run (its non-empty combinations), so the query returns at most
    cap + 1 rows with the whole answer's count, and _answer refuses one that has more (naming `group_by`)."""
    # A range the request validation let through is a lake query's (the same years): checked as the request's
    # fields all the same, never left to the query id's model (a pydantic error there was a 422 naming `body`).
    problem = lake_range_problem(from_ms, to_ms)
    if problem is not None:
        raise DomainError(problem[1], field=problem[0])
    calendar = TenantCalendar(time_zone)
    cap = row_cap(representation)
    if not group_by:
        intervals = len(calendar.interval_starts(interval, from_ms, to_ms))
        if intervals > cap:
            raise ReportTooLarge(intervals, cap, interval=interval, group_by=(), representation=representation,
                                 field="interval")
    # The variant is fixed when the query starts (the one asked for, else the tenant's now) and its id carries
    # it: a report fetched later by id is labelled with the variant its figures were computed with, even if
    # the tenant's settings changed in between.
    variant = service_level_variant or tenant_variant
    context = QueryContext(i=interval, g=tuple(group_by), v=variant, f=from_ms, t=to_ms, n=cap)
    query = lake.kpi_query(tenant_id=tenant_id, from_ms=from_ms, to_ms=to_ms, interval=interval, group_by=group_by,
                           names=names, scan_days=scan_days(calendar, from_ms, to_ms), service_level_variant=variant,
                           limit=cap + 1, settings_version=settings_version)
    engine_id = engine.start(query)
    query_id = f"{engine_id}.{context.encode()}"
    try:
        status = engine.status(engine_id, wait_s)
    except LakeBusy:  # it started, but the engine would not say how it goes: the caller asks again by id
        return LakeQueryAccepted(query_id=query_id, state="QUEUED", location=query_location(query_id),
                                 time_zone=time_zone, interval=interval, group_by=tuple(group_by), retry_after_s=5)
    return _answer(engine, tenant_id, time_zone, query_id, engine_id, context, status, tenant_variant, representation)


def query_result(
    deps: Dependencies, engine: LakeQueries | None, tenant_id: str, query_id: str, *, wait_s: float = 0.0,
    representation: Representation = "json",
) -> history.HistoricalReport | LakeQueryAccepted:
    """GET /metrics/historical/queries/{id}: the report, or 202 again while the engine is still busy.
    NotFound for an id this tenant did not start (another tenant's id included) or no lake at all;
    ReportTooLarge for a report with more rows than the query returned or this representation carries."""
    if engine is None or not _ID.fullmatch(query_id):
        raise NotFound(f"no lake query {query_id}", field="query_id")
    engine_id, _, encoded = query_id.partition(".")
    try:
        context = QueryContext.decode(encoded)
    except ValueError:  # binascii.Error and ValidationError are ValueErrors
        raise NotFound(f"no lake query {query_id}", field="query_id") from None
    time_zone, settings = history.tenant_context(deps, tenant_id)
    status = engine.status(engine_id, wait_s)
    return _answer(engine, tenant_id, time_zone, query_id, engine_id, context, status, settings.service_level_variant,
                   representation)


def _answer(engine: LakeQueries, tenant_id: str, time_zone: str, query_id: str, engine_id: str,
            context: QueryContext, status: LakeQueryStatus | None, tenant_variant: ServiceLevelVariant,
            representation: Representation = "json") -> history.HistoricalReport | LakeQueryAccepted:
    if status is None or status.tenant_id != tenant_id:
        raise NotFound(f"no lake query {query_id}", field="query_id")
    if status.state in ("FAILED", "CANCELLED"):
        reason = status.error or "no reason given"
        if status.retryable:  # a passing failure (the engine's, or files rewritten under the query): never a 422
            raise LakeBusy(f"the lake query {status.state.lower()} for a passing reason ({reason}); ask for the report "
                           f"again (GET /metrics/historical)", retry_after_s=2)
        raise LakeQueryFailed(f"the lake query {status.state.lower()}: {reason}; asking again starts it anew (a "
                              f"coarser interval, fewer group_by or a shorter range asks less)")
    if status.state != "SUCCEEDED":
        return LakeQueryAccepted(query_id=query_id, state=status.state, location=query_location(query_id),
                                 time_zone=time_zone, interval=context.i, group_by=context.g)
    found, facts = lake.kpi_answer(engine.results(engine_id))
    group_by = context.g
    # The rows say how the engine grouped them: an id whose context says otherwise (an edited interval or
    # grouping) is not the query that ran, and its rows must not be labelled as asked (day rows as weeks).
    if any(r.get("granularity") != context.i or (r.get("group_by") or "") != "+".join(group_by) for r in found):
        raise NotFound(f"no lake query {query_id}", field="query_id")
    # The query returned at most its cap + 1 rows ("n": the cap it was started with; ids of queries started
    # without one have none), each with the whole answer's count; this answer carries at most row_cap.
    cap = row_cap(representation) if context.n is None else min(context.n, row_cap(representation))
    total = max(len(found), int(found[0].get("result_rows") or 0) if found else 0)
    if total > cap:
        raise ReportTooLarge(total, cap, interval=context.i, group_by=group_by, representation=representation,
                             field="group_by" if group_by else "interval")
    rows = [lake.kpi_row(r) for r in found]
    if not group_by:  # ungrouped: every interval in range, as the fast path (days never exported are zeros)
        rows = fill_intervals(rows, TenantCalendar(time_zone), context.i, context.f, context.t, tenant_id)
        if len(rows) > cap:  # started for CSV, fetched as JSON
            raise ReportTooLarge(len(rows), cap, interval=context.i, group_by=(), representation=representation,
                                 field="interval")
    return history.HistoricalReport(
        time_zone=time_zone, interval=context.i, group_by=group_by,
        service_level_variant=context.v or tenant_variant, rows=rows,
        warnings=[*lake_warnings(rows, group_by, facts),
                  *history.partial_interval_warnings(TenantCalendar(time_zone), context.i, context.f, context.t)],
    )


def query_location(query_id: str) -> str:
    """Where a query's report is fetched, as a route of this API (the route prefixes the stage it was called through)."""
    return f"/metrics/historical/queries/{query_id}"


def lake_warnings(rows: Sequence[Any], group_by: Sequence[str] = (), facts: lake.RangeFacts | None = None) -> list[str]:
    """history.range_warnings' words, from what the query found in the range (`facts`: whatever the grouping,
    as the fast path judges it); without them (a query started before they were), from the summed counts,
    whose agent time only rows grouped by nothing, agent or team carry."""
    if facts is None:
        facts = lake.RangeFacts(
            contacts=any(r.offered or r.handled or r.consults_cancelled for r in rows),
            agent_activity=not all(d in ACTIVITY_DIMENSIONS for d in group_by) or any(r.staffed_ms for r in rows))
    warnings = []
    if not facts.contacts:
        warnings.append(history.NO_CONTACTS)
    if not facts.agent_activity:
        warnings.append(history.NO_AGENT_ACTIVITY)
    return warnings


def fill_intervals(rows: Sequence[Any], calendar: TenantCalendar, interval: Granularity, from_ms: int, to_ms: int,
                   tenant_id: str) -> list[Any]:
    """Ungrouped rows with a zero row for each interval of [from, to) the lake has no calendar for (days
    before the lake existed), in interval order, as KpiLedger.rows() lists them."""
    from ccaas.domain.kpis import KpiRow

    held = {r.interval_start_ms: r for r in rows}
    out = []
    for start in calendar.interval_starts(interval, from_ms, to_ms):
        found = held.pop(start, None)
        if found is None:
            end = calendar.next_interval_start(start, interval)
            found = KpiRow(tenant_id=tenant_id, interval=interval, interval_start=calendar.iso(start),
                           interval_end=calendar.iso(end), interval_start_ms=start, interval_end_ms=end, group_by=())
        out.append(found)
    return sorted([*out, *held.values()], key=lambda r: r.interval_start_ms)


# --- export: the History writers' rows to the lake ------------------------------------------------------
# Every writer calls these AFTER its DynamoDB write succeeded, with rows shaped by ccaas.domain.lake (the
# functions the local exporter calls). A delivery failure raises LakeExportFailed: the writer's event is
# retried (then dead-lettered), never silently skipped; a repeated event exports its rows again, and the
# queries keep one row per contact (latest snapshot) and per activity span (lake.kpi_query).
def lake_export(deps: Dependencies) -> LakeExport | None:
    """Where this function delivers lake rows (see ccaas.ports_lake), None when there is no lake."""
    found = getattr(deps, "lake_export", None) or installed_export()
    if found is not None:
        return found
    from ccaas.adapters.aws.lake import export_from_environment

    return export_from_environment(session=getattr(deps, "session", None))


def _calendar(deps: Dependencies, tenant_id: str) -> TenantCalendar:
    return TenantCalendar(deps.config.get_tenant(tenant_id).time_zone)


def export_contacts(deps: Dependencies, tenant_id: str, contact_ids: Sequence[str]) -> int:
    """A snapshot of each contact's history entry (its latest record with survey answers, repeat flags and
    evaluation joined in: HistoryEntry.kpi_record) as contact_records rows, stamped with the time of
    export. Called whenever an entry changes (a CTR version stored, a survey, flags refreshed, an
    evaluation re-scored), even for an already-exported day: the lake keeps every snapshot and queries
    read the latest (lake.kpi_query), so a late correction changes its day. Returns the rows delivered
    (0 without a lake). Raises LakeExportFailed: the caller's event is retried, never silently skipped."""
    export = lake_export(deps)
    if export is None or not contact_ids:
        return 0
    records = []
    for contact_id in dict.fromkeys(contact_ids):
        entry = deps.history.get_entry(tenant_id, contact_id)
        record = None if entry is None else entry.kpi_record()
        if record is not None:
            records.append(record)
    rows = lake.contact_record_rows(records, _calendar(deps, tenant_id), exported_at=deps.clock.now_ms())
    for row in rows:
        row["tenant_id"] = tenant_id
    if rows:
        export.put_rows("contact_records", rows)
    return len(rows)


def export_surveys(deps: Dependencies, tenant_id: str, contact_ids: Sequence[str],
                   answered_at: Mapping[str, int] | None = None) -> int:
    """surveys rows (the answers, never the comment) of contacts whose survey was just stored, in the
    contact's day; a contact whose record has not arrived yet has no day and no row (its answers still
    reach contact_records when the record does). Returns the rows delivered; raises LakeExportFailed."""
    export = lake_export(deps)
    if export is None or not contact_ids:
        return 0
    entries = [e for e in (deps.history.get_entry(tenant_id, c) for c in dict.fromkeys(contact_ids)) if e is not None]
    rows = lake.survey_rows(entries, _calendar(deps, tenant_id), answered_at)
    if rows:
        export.put_rows("surveys", rows)
    return len(rows)


def export_analysis(deps: Dependencies, tenant_id: str, contact_id: str, also: Sequence[str] = ()) -> int:
    """After a (re-)analysis or a supervisor's override is stored: the contact's transcript_analyses row
    (AnalysisSummary fields only, never text) and contact_records snapshots of it (its evaluation score
    is joined into the record) and of `also` (contacts whose repeat flags the new reason moved). Queries
    keep the latest snapshot per contact. Returns the rows delivered; raises LakeExportFailed."""
    export = lake_export(deps)
    if export is None:
        return 0
    entry = deps.history.get_entry(tenant_id, contact_id)
    rows = [] if entry is None else lake.analysis_rows([entry], _calendar(deps, tenant_id))
    if rows:
        export.put_rows("transcript_analyses", rows)
    return len(rows) + export_contacts(deps, tenant_id, [contact_id, *also])


# Where a repeated agent event looks for the span it closed: the last day, then the last week (a span
# longer than a week is an agent offline that long: offline time is in no KPI).
_SPAN_SEARCH_MS = (DAY_MS, 7 * DAY_MS)


def _span_ending(deps: Dependencies, tenant_id: str, agent_id: str, end_ms: int, from_ms: int,
                 to_ms: int) -> AgentActivity | None:
    """The agent's stored span that starts in [from_ms, to_ms) and ends at end_ms."""
    from_ms = max(from_ms, to_ms - (MAX_ACTIVITY_READ_DAYS - 1) * DAY_MS)
    if to_ms <= from_ms:
        return None
    return next((a for a in deps.history.agent_activities(tenant_id, from_ms, to_ms)
                 if a.agent_id == agent_id and a.end_ms == end_ms), None)


def closed_span(deps: Dependencies, tenant_id: str, opened: OpenActivity) -> AgentActivity | None:
    """For a repeated agent event (the store applied it before; its first export may be what failed): the
    agent's stored span ending where `opened` begins, within the last day, then week; None when the event
    closed none (the agent's first event, or an older event that lost to a newer one). An applied event's
    span comes back from the store's write itself (export_closed_span)."""
    agent, end = opened.agent_id, opened.since
    searched = end
    for window in _SPAN_SEARCH_MS:
        found = _span_ending(deps, tenant_id, agent, end, end - window, searched)
        if found is not None:
            return found
        searched = end - window
    return None


def export_agent_activity(deps: Dependencies, tenant_id: str, opened: OpenActivity) -> int:
    """A repeated agent event's span, found again (closed_span), to the lake. Returns the rows delivered
    (0 without a lake or span); raises LakeExportFailed."""
    if lake_export(deps) is None:
        return 0
    return export_closed_span(deps, tenant_id, closed_span(deps, tenant_id, opened))


def export_closed_span(deps: Dependencies, tenant_id: str, span: AgentActivity | None) -> int:
    """The span an applied agent event closed, as the store returned it (HistoryStore.apply_agent_activity_span),
    to the lake: no read at all (export_agent_activity's open-span read before the write and span read after
    it are only needed for a repeated event, whose span the store does not return). None (the agent's first
    event) and a zero-length span count in no KPI: nothing is delivered. Returns the rows delivered;
    raises LakeExportFailed."""
    export = lake_export(deps)
    if export is None or span is None or span.end_ms <= span.start_ms:
        return 0
    rows = lake.agent_activity_rows(tenant_id, [span], _calendar(deps, tenant_id))
    export.put_rows("agent_activity", rows)
    return len(rows)
