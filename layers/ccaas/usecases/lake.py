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
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain import lake
from ccaas.domain.history import DAY_MS
from ccaas.domain.kpis.intervals import GRANULARITIES, Granularity, TenantCalendar
from ccaas.domain.kpis.rollup import ACTIVITY_DIMENSIONS, validate_group_by
from ccaas.domain.kpis.settings import KpiSettings, ServiceLevelVariant
from ccaas.domain.models import DomainError, NotFound
from ccaas.ports_lake import LakeExport, LakeQueries, LakeQueryStatus, installed_engine, installed_export
from ccaas.usecases import history

# 13 calendar months are at most 397 days (July to July: eight 31-day months, four of 30, a 29-day February).
MAX_LAKE_RANGE_DAYS = 397
WAIT_S = 4.0  # what a request waits for the engine (API Gateway allows 29 s; keep the function's budget small)
# The lake's day partitions a range reads: its own local days and the day before (a contact that
# completes in the range began at most history.HANDLING_LOOKBACK_MS before it).
LOOKBACK_DAYS = 1
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}\.[A-Za-z0-9_=-]{1,512}$")


def lake_queries(deps: Dependencies) -> LakeQueries | None:
    """The lake's engine for this function (see ccaas.ports_lake), None when there is no lake."""
    found = getattr(deps, "lake", None) or installed_engine()
    if found is not None:
        return found
    from ccaas.adapters.aws.lake import from_environment

    return from_environment()


class LakeQueryAccepted(BaseModel):
    """202: the lake is still computing; GET `location` (until it answers 200) for the report."""

    query_id: str
    state: Literal["QUEUED", "RUNNING"]
    location: str
    time_zone: str
    interval: Granularity
    group_by: tuple[str, ...]
    retry_after_s: int = Field(default=2, description="a polite delay before asking again")


class LakeQueryFailed(Exception):
    """The engine ran the query and it failed (or was cancelled): a server-side error, not the caller's."""


def _encode(context: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(context, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(text: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def scan_days(calendar: TenantCalendar, from_ms: int, to_ms: int) -> tuple[str, str]:
    """The day partitions [from, to) needs: its local days and LOOKBACK_DAYS before."""
    first = calendar.local(from_ms).date() - timedelta(days=LOOKBACK_DAYS)
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
) -> history.HistoricalReport | LakeQueryAccepted:
    """GET /metrics/historical: the fast path up to 93 days; beyond, the lake (up to 13 months)."""
    time_zone, span = history.time_range(deps, tenant_id, start, end, max_days=MAX_LAKE_RANGE_DAYS)
    settings = history.kpi_settings(deps, tenant_id)
    if span.to_ms - span.from_ms <= history.MAX_RANGE_DAYS * DAY_MS:
        return history.historical_metrics(deps, tenant_id, start=start, end=end, interval=interval,
                                          group_by=group_by, service_level_variant=service_level_variant)
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
    return start_query(engine, tenant_id, time_zone=time_zone, from_ms=span.from_ms, to_ms=span.to_ms,
                       interval=interval, group_by=dims, service_level_variant=service_level_variant, wait_s=wait_s,
                       tenant_variant=settings.service_level_variant)


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
) -> history.HistoricalReport | LakeQueryAccepted:
    """Start the lake's KPI query and wait up to `wait_s` for its report (`tenant_variant`: the variant the
    tenant's settings name, reported when the request names none)."""
    calendar = TenantCalendar(time_zone)
    query = lake.kpi_query(tenant_id=tenant_id, from_ms=from_ms, to_ms=to_ms, interval=interval, group_by=group_by,
                           names=names, scan_days=scan_days(calendar, from_ms, to_ms),
                           service_level_variant=service_level_variant)
    engine_id = engine.start(query)
    context = {"i": interval, "g": list(group_by), "v": service_level_variant, "f": from_ms, "t": to_ms}
    query_id = f"{engine_id}.{_encode(context)}"
    return _answer(engine, tenant_id, time_zone, query_id, engine_id, context, wait_s, tenant_variant)


def query_result(
    deps: Dependencies, engine: LakeQueries | None, tenant_id: str, query_id: str, *, wait_s: float = 0.0
) -> history.HistoricalReport | LakeQueryAccepted:
    """GET /metrics/historical/queries/{id}: the report, or 202 again while the engine is still busy.
    NotFound for an id this tenant did not start (another tenant's id included) or no lake at all."""
    if engine is None or not _ID.match(query_id):
        raise NotFound(f"no lake query {query_id}", field="query_id")
    engine_id, _, encoded = query_id.partition(".")
    try:
        context = _decode(encoded)
        interval, group_by = context["i"], validate_group_by(context["g"])
        if interval not in GRANULARITIES:
            raise ValueError(interval)
        context["g"] = list(group_by)
    except (ValueError, KeyError, TypeError):
        raise NotFound(f"no lake query {query_id}", field="query_id") from None
    time_zone, settings = history.tenant_context(deps, tenant_id)
    return _answer(engine, tenant_id, time_zone, query_id, engine_id, context, wait_s, settings.service_level_variant)


def _answer(engine: LakeQueries, tenant_id: str, time_zone: str, query_id: str, engine_id: str,
            context: dict[str, Any], wait_s: float, tenant_variant: ServiceLevelVariant,
            ) -> history.HistoricalReport | LakeQueryAccepted:
    status: LakeQueryStatus | None = engine.status(engine_id, wait_s)
    if status is None or status.tenant_id != tenant_id:
        raise NotFound(f"no lake query {query_id}", field="query_id")
    if status.state in ("FAILED", "CANCELLED"):
        raise LakeQueryFailed(f"the lake query {status.state.lower()}: {status.error or 'no reason given'}")
    if status.state != "SUCCEEDED":
        return LakeQueryAccepted(query_id=query_id, state=status.state, location=f"/metrics/historical/queries/{query_id}",
                                 time_zone=time_zone, interval=context["i"], group_by=tuple(context["g"]))
    rows = [lake.kpi_row(r) for r in engine.results(engine_id)]
    group_by = tuple(context["g"])
    if not group_by:  # ungrouped: every interval in range, as the fast path (days never exported are zeros)
        rows = fill_intervals(rows, TenantCalendar(time_zone), context["i"], int(context["f"]), int(context["t"]),
                              tenant_id)
    return history.HistoricalReport(
        time_zone=time_zone, interval=context["i"], group_by=group_by,
        service_level_variant=context.get("v") or tenant_variant, rows=rows, warnings=lake_warnings(rows, group_by),
    )


def lake_warnings(rows: Sequence[Any], group_by: Sequence[str] = ()) -> list[str]:
    """history.range_warnings' words, from the summed counts (the lake returns no records; agent time
    is only in rows grouped by nothing, agent or team)."""
    warnings = []
    if not any(r.offered or r.handled or r.consults_cancelled for r in rows):
        warnings.append(history.NO_CONTACTS)
    if all(d in ACTIVITY_DIMENSIONS for d in group_by) and not any(r.staffed_ms for r in rows):
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


# --- export: every stored version of a contact (and late survey) to the lake --------------------------
def lake_export(deps: Dependencies) -> LakeExport | None:
    """Where this function delivers lake rows (see ccaas.ports_lake), None when there is no lake."""
    found = getattr(deps, "lake_export", None) or installed_export()
    if found is not None:
        return found
    from ccaas.adapters.aws.lake import export_from_environment

    return export_from_environment()


def export_contacts(deps: Dependencies, tenant_id: str, contact_ids: Sequence[str]) -> int:
    """A snapshot of each contact's history entry (its latest record with survey answers, repeat flags and
    evaluation joined in: HistoryEntry.kpi_record) as contact_records rows, stamped with the time of
    export. Called whenever an entry changes (a CTR version stored, a survey, flags refreshed), even for
    an already-exported day: the lake keeps every snapshot and queries read the latest (lake.kpi_query),
    so a late correction changes its day. Returns the rows delivered (0 without a lake). Raises
    LakeExportFailed: the caller's event is retried, never silently skipped."""
    export = lake_export(deps)
    if export is None or not contact_ids:
        return 0
    calendar = TenantCalendar(history.tenant_context(deps, tenant_id)[0])
    records = []
    for contact_id in dict.fromkeys(contact_ids):
        entry = deps.history.get_entry(tenant_id, contact_id)
        record = None if entry is None else entry.kpi_record()
        if record is not None:
            records.append(record)
    rows = lake.contact_record_rows(records, calendar, exported_at=deps.clock.now_ms())
    for row in rows:
        row["tenant_id"] = tenant_id
    if rows:
        export.put_rows("contact_records", rows)
    return len(rows)
