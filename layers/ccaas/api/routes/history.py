"""Historical KPIs (JSON or CSV), surveys, a contact's history entry, and the tenant's KPI settings."""
from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ccaas.api.access import ADMIN, INTEGRATION, READERS, Router
from ccaas.api.common import CSV_MEDIA_TYPE, Id, deps, tenant
from ccaas.api.errors import ErrorBody, error_response
from ccaas.api.paging import api_path
from ccaas.domain.history import HistoryEntry, Survey
from ccaas.domain.kpis import KpiSettings, rows_to_csv
from ccaas.domain.kpis.export import dicts_to_csv as rows_to_csv_columns
from ccaas.domain.kpis.intervals import Granularity
from ccaas.domain.kpis.settings import ServiceLevelVariant
from ccaas.domain.vocabulary import IsoDateTime, QueryBool
from ccaas.ports_lake import LakeExportFailed
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history

router = Router()

_DIMENSION = "(queue|channel|agent|team|skill|reason|segment)"
# ISO 8601 text only (vocabulary.IsoDateTime): an epoch number was read as seconds or milliseconds by its size.
From = Annotated[
    IsoDateTime | None,
    Query(alias="from", description="start, ISO 8601 extended form (2026-12-01 or 2026-12-01T09:30:00Z; years "
                                    "2000-2100); a date or a time without offset is the tenant's wall clock"),
]
To = Annotated[IsoDateTime | None, Query(alias="to", description="end (exclusive), as `from`; default now")]
GroupBy = Annotated[
    str | None,
    Query(pattern=rf"^{_DIMENSION}(,{_DIMENSION})?$", description="up to two of queue, channel, agent, team, skill, reason, segment, comma-separated"),
]



_BUSY = {"description": "the analytics lake's engine is busy, or the query failed for a passing reason: ask again after Retry-After seconds",
         "content": {"application/json": {"model": ErrorBody}}}


def _wants_csv(format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    accept = (router.current_event.headers or {}).get("accept") or (router.current_event.headers or {}).get("Accept") or ""
    return "text/csv" in accept


@router.get(
    "/metrics/historical", roles=READERS,
    tags=["history"],
    summary="KPIs per interval (15m, hour, day, week) in the tenant's time zone, by up to two dimensions; CSV with format=csv or Accept: text/csv; `warnings` says what the range lacks (JSON only). Ranges up to 93 days are computed at once; longer ones (up to 13 months) run on the analytics lake: 200 when it answers within a few seconds, else 202 with a query id to GET from /metrics/historical/queries/{query_id}; a long-range report of more rows than one answer carries (2,000 as JSON, 5,000 as CSV) is a 422 `too_many_rows` naming `interval` or `group_by` with the numbers; a query the engine failed is a 422 `lake_query_failed` naming the kind of failure",
    responses={
        200: {
            "description": "KPI rows (JSON), or the same rows as CSV",
            "content": {"application/json": {"model": history.HistoricalReport | history.CompactHistoricalReport},
                        CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        202: {
            "description": "a long range still computing on the lake: fetch `location` later",
            "content": {"application/json": {"model": lake_history.LakeQueryAccepted}},
        },
        503: _BUSY,
    },
)
def historical_metrics(  # noqa: ANN201 - JSON report or CSV text (documented in `responses`)
    from_: From = None,
    to: To = None,
    group_by: GroupBy = None,
    interval: Annotated[Granularity, Query()] = "hour",
    service_level: Annotated[ServiceLevelVariant | None, Query(description="a named service-level variant")] = None,
    format_: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    compact: Annotated[QueryBool, Query(description="only rows with activity, a few headline fields, rounded")] = False,
    fields: Annotated[str | None, Query(max_length=2000, pattern=r"^[a-z_]+(,[a-z_]+)*$",
                                        description="comma-separated KPIs or raw counts to show (implies compact)")] = None,
):
    dims = tuple(group_by.split(",")) if group_by else ()
    dependencies = deps()
    try:
        report = lake_history.historical(
            dependencies, lake_history.lake_queries(dependencies), tenant(router), start=from_, end=to,
            interval=interval, group_by=dims, service_level_variant=service_level,
            representation="csv" if _wants_csv(format_) else "json",
        )
    except (lake_history.LakeBusy, LakeExportFailed) as error:  # busy, or the calendar could not be written
        return _busy(error)
    return _report(report, format_, compact, fields)


QueryId = Annotated[str, Path(min_length=3, max_length=641, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_=-]+$")]


@router.get(
    "/metrics/historical/queries/<query_id>", roles=READERS,
    tags=["history"],
    summary="The report of a long-range lake query that GET /metrics/historical answered with 202: 200 (JSON or CSV, as there), 202 while still computing, 404 for an id this tenant did not start, 422 `too_many_rows` or `lake_query_failed` as there, 503 while the engine is busy",
    responses={
        200: {
            "description": "KPI rows (JSON), or the same rows as CSV",
            "content": {"application/json": {"model": history.HistoricalReport | history.CompactHistoricalReport},
                        CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        202: {"description": "still computing", "content": {"application/json": {"model": lake_history.LakeQueryAccepted}}},
        503: _BUSY,
    },
)
def historical_query(  # noqa: ANN201 - JSON report, 202 or CSV text (documented in `responses`)
    query_id: QueryId,
    format_: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    compact: Annotated[QueryBool, Query(description="only rows with activity, a few headline fields, rounded")] = False,
    fields: Annotated[str | None, Query(max_length=2000, pattern=r"^[a-z_]+(,[a-z_]+)*$",
                                        description="comma-separated KPIs or raw counts to show (implies compact)")] = None,
):
    dependencies = deps()
    try:
        report = lake_history.query_result(dependencies, lake_history.lake_queries(dependencies), tenant(router),
                                           query_id, wait_s=1.0, representation="csv" if _wants_csv(format_) else "json")
    except lake_history.LakeBusy as error:
        return _busy(error)
    return _report(report, format_, compact, fields)


def _busy(error: Exception) -> Response:
    """The lake's engine turned the query away for load (nothing ran): 503 with Retry-After. (A query that
    ran and failed is a 422 `lake_query_failed` naming the engine's reason: a DomainError.)"""
    response = error_response(503, "lake_busy", str(error))
    response.headers["Retry-After"] = str(getattr(error, "retry_after_s", 5))
    return response


def _report(report: history.HistoricalReport | lake_history.LakeQueryAccepted, format_: str | None, compact: bool,
            fields: str | None):  # noqa: ANN202
    if isinstance(report, lake_history.LakeQueryAccepted):
        # The use-case names the route; the client reaches it behind the stage (`/v1`) it called through.
        report = report.model_copy(update={"location": api_path(router.current_event, report.location)})
        return Response(status_code=202, content_type="application/json", body=report.model_dump_json(),
                        headers={"Location": report.location, "Retry-After": str(report.retry_after_s)})
    if compact or fields:
        shown = history.compact_report(report, fields.split(",") if fields else None)
        if _wants_csv(format_):
            return _csv(rows_to_csv_columns(shown.rows))
        return shown
    if _wants_csv(format_):
        return _csv(rows_to_csv(report.rows))
    return report


def _csv(body: str) -> Response:
    return Response(status_code=200, content_type=CSV_MEDIA_TYPE, body=body,
                    headers={"Content-Disposition": 'attachment; filename="kpis.csv"'})


@router.get(
    "/metrics/historical/summary", roles=READERS,
    tags=["history"],
    summary="Totals over a range (at most 14 days), channel mix, contact-type mix and the busiest 15-minute intervals; `warnings` says what the range lacks",
)
def historical_summary(from_: From = None, to: To = None,
                       top: Annotated[int, Query(ge=1, le=96)] = 5) -> history.HistoricalSummary:
    return history.historical_summary(deps(), tenant(router), start=from_, end=to, top=top)


@router.post("/contacts/<contact_id>/survey", roles=[INTEGRATION], tags=["history"], status_code=201,
             summary="Record CSAT (1-5), CES (1-7) and/or NPS (0-10) with an optional comment (redacted)")
def record_survey(contact_id: Id, body: history.SurveyAnswers) -> Survey:
    return history.record_survey(deps(), tenant(router), contact_id, body)


@router.get("/contacts/<contact_id>/survey", roles=[*READERS, INTEGRATION], tags=["history"])
def get_survey(contact_id: Id) -> Survey:
    return history.get_survey(deps(), tenant(router), contact_id)


@router.get("/contacts/<contact_id>/history", roles=READERS, tags=["history"], summary="The contact's history entry: record, survey answers, repeat flags, analysis summary")
def get_history(contact_id: Id) -> HistoryEntry:
    return history.get_entry(deps(), tenant(router), contact_id)


@router.get("/settings/kpis", roles=READERS, tags=["history"], summary="The tenant's KPI settings (variants, short abandon, FCR window, cost rates)")
def get_kpi_settings() -> KpiSettings:
    return history.kpi_settings(deps(), tenant(router))


@router.put("/settings/kpis", roles=[ADMIN], tags=["history"])
def put_kpi_settings(body: KpiSettings) -> KpiSettings:
    return history.put_kpi_settings(deps(), tenant(router), body)
