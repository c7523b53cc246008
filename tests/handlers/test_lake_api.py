"""GET /metrics/historical beyond 93 days and GET /metrics/historical/queries/{id} through the real
serve_api handler (moto), with the lake's DuckDB engine installed over a lake exported from the same
records: 200 with the same shape and CSV, 202 then the report, 404 for another tenant's id, 422 past
13 months."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import dependencies
from ccaas.ports_lake import install_engine
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from tests.lambda_harness import api_response as api
from tests.unit.test_kpis import BASE, END, SETTINGS, TZ, fixture_activities, marked_records

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
DAY_MS = 86_400_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


@pytest.fixture
def lake_tenant(tenant, tmp_path):
    """The fixture day's records under the handler tests' fresh tenant, in History and in the lake."""
    deps = dependencies()
    deps.config.put_tenant(deps.config.get_tenant(tenant.id).model_copy(update={"time_zone": TZ}))
    history.put_kpi_settings(deps, tenant.id, SETTINGS)
    records = [r.model_copy(update={"tenant_id": tenant.id}) for r in marked_records()]
    for record in records:
        deps.history.put_record(record)
    con = local_lake.duckdb.connect()
    local_lake.export_records(con, tmp_path, tenant_id=tenant.id, tz=TZ, records=records,
                              activities=fixture_activities(), first_day="2026-11-20", last_day="2026-11-20",
                              settings=SETTINGS)
    return tenant


# The engine's waits run this many times faster than the API asks (QuickLakeQueries). 2, not 4: a 1-s wait
# answered 202 to an undelayed query once, on a 2-core machine with both workers and 4 more processes busy.
CLOCK = 2


class QuickLakeQueries(DuckDbLakeQueries):
    """The local engine with its waits for a result cut to 1/CLOCK: a request waits WAIT_S / CLOCK (2 s, not
    4 s) before answering 202, so a query delayed past that is slow without the test sitting out the API's
    real seconds; a fetch by id waits 1/CLOCK of its second likewise."""

    def status(self, query_id: str, wait_s: float = 0.0):  # noqa: ANN201 (the engine's LakeQueryStatus)
        return super().status(query_id, wait_s / CLOCK)


@pytest.fixture
def engine(tmp_path):
    def use(**options):  # noqa: ANN202
        found = QuickLakeQueries(tmp_path, **options)
        previous = install_engine(found)
        engines.append((found, previous))
        return found

    engines: list = []
    yield use
    for found, previous in reversed(engines):
        install_engine(previous)
        found.close()


LONG = {"from": _iso(BASE - 120 * DAY_MS), "to": _iso(END + 10 * DAY_MS), "interval": "day"}
STAGE = "/v1"  # the harness's requestContext: the API as the client calls it, behind its stage


def _route(location: str) -> str:
    """A Location (the path the client calls: the stage first) as the handler's event path (the harness adds the stage)."""
    assert location.startswith(f"{STAGE}/metrics/historical/queries/"), location
    return location.removeprefix(STAGE)


def test_a_long_range_answers_from_the_lake_in_the_same_shape_and_as_csv(lake_tenant, engine):
    engine()
    status, report, _ = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    assert status == 200, report
    assert set(report) == {"time_zone", "interval", "group_by", "service_level_variant", "rows", "warnings"}
    busy = [r for r in report["rows"] if r["offered"]]
    assert len(busy) == 1 and busy[0]["offered"] == 12 and busy[0]["interval_start"] == "2026-11-20T00:00:00-05:00"
    assert len(report["rows"]) >= 130 and report["time_zone"] == TZ
    status, text, headers = api("GET", "/metrics/historical", lake_tenant.id, query={**LONG, "format": "csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv; charset=utf-8"]
    assert text.splitlines()[0].startswith("tenant_id,") or "interval_start" in text.splitlines()[0]
    assert len(text.splitlines()) == len(report["rows"]) + 1
    status, compact, _ = api("GET", "/metrics/historical", lake_tenant.id,
                             query={**LONG, "group_by": "queue", "fields": "offered,service_level"})
    assert status == 200 and compact["fields"] == ["offered", "service_level"]
    assert sum(r["offered"] for r in compact["rows"]) == 12


def test_a_slow_lake_query_is_202_then_fetched_by_its_id_by_its_tenant_only(lake_tenant, engine):
    engine(delay_s=(lake_history.WAIT_S + 1.0) / CLOCK)  # longer than a request waits
    status, accepted, headers = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    assert status == 202, accepted
    assert headers["Location"] == [accepted["location"]] and accepted["state"] in ("QUEUED", "RUNNING")
    path = _route(accepted["location"])
    status, missing, _ = api("GET", path, "some-other-tenant")
    assert status == 404, missing
    body = None
    for _ in range(10 * CLOCK):
        status, body, _ = api("GET", path, lake_tenant.id)
        if status == 200:
            break
        assert status == 202
    assert status == 200 and sum(r["offered"] for r in body["rows"]) == 12
    status, text, _ = api("GET", path, lake_tenant.id, query={"format": "csv"})
    assert status == 200 and len(text.splitlines()) == len(body["rows"]) + 1
    assert api("GET", "/metrics/historical/queries/nope.e30", lake_tenant.id)[0] == 404


def _slow_query_id(lake_tenant, engine) -> tuple[dict, dict]:  # noqa: ANN001
    """A long-range query answered 202 (its engine delayed past the request's wait): its Location and headers."""
    engine(delay_s=(lake_history.WAIT_S + 1.0) / CLOCK)
    status, accepted, headers = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    assert status == 202, accepted
    return accepted, headers


def test_a_202s_location_is_the_path_the_client_calls_with_the_stage_as_link_headers_are(lake_tenant, engine):
    """Behind API Gateway the route alone (`/metrics/historical/queries/…`) is no URL of the API: the Location (and the
    body's `location`) repeat the stage the request came through, as a list's Link does (paging.api_path), both
    when the query starts and while it is fetched."""
    accepted, headers = _slow_query_id(lake_tenant, engine)
    location = f"{STAGE}/metrics/historical/queries/{accepted['query_id']}"
    assert accepted["location"] == location and headers["Location"] == [location], (accepted, headers)
    status, again, headers = api("GET", location.removeprefix(STAGE), lake_tenant.id)
    if status == 202:  # still computing (the engine's delay): fetched where it was
        assert again["location"] == location and headers["Location"] == [location], (again, headers)
    else:
        assert status == 200, again


def _edited(query_id: str, **change: object) -> str:
    engine_id, _, encoded = query_id.partition(".")
    context = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**context, **change}).encode()).decode().rstrip("=")
    return f"{engine_id}.{forged}"


def test_an_edited_query_id_is_404_naming_query_id_never_trusted(lake_tenant, engine):
    """The id's context (interval, grouping, variant, range, row cap) is the caller's to change: an edit is no query
    of theirs. Before: `"v":"bogus"` was a 422 naming `body.service_level_variant` (a GET has no body), `"n":-5` said
    "at most -5 fit", and `"i":"week"` labelled the day rows of the query that ran as weeks."""
    accepted, _ = _slow_query_id(lake_tenant, engine)
    path = _route(accepted["location"])
    for _ in range(10 * CLOCK):
        status, body, _ = api("GET", path, lake_tenant.id)
        if status != 202:
            break
    assert status == 200 and body["interval"] == "day", body
    query_id = accepted["query_id"]
    for change in ({"v": "bogus"}, {"n": -5}, {"n": 0}, {"n": "2000"}, {"i": "week"}, {"i": "hour"},
                   {"g": ["queue"]}, {"f": 1}, {"extra": 1}):
        status, body, _ = api("GET", f"/metrics/historical/queries/{_edited(query_id, **change)}", lake_tenant.id)
        assert status == 404 and body["field"] == "query_id", (change, status, body)


def test_ranges_beyond_13_months_or_without_a_lake_are_422_naming_the_field(lake_tenant, engine):
    status, body, _ = api("GET", "/metrics/historical", lake_tenant.id,
                          query={"from": _iso(BASE - 400 * DAY_MS), "to": _iso(BASE), "interval": "day"})
    assert status == 422 and body["field"] == "to" and "397" in body["message"]
    previous = install_engine(None)
    try:
        status, body, _ = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
        assert status == 422 and body["field"] == "to" and "93" in body["message"]
    finally:
        install_engine(previous)


# --- bounded answers: a report too large for one response is a 422 with the numbers -----------------
def test_an_hourly_long_range_is_422_naming_interval_as_json_and_answered_as_csv(lake_tenant, engine):
    engine()
    hourly = {**LONG, "interval": "hour"}
    status, body, _ = api("GET", "/metrics/historical", lake_tenant.id, query=hourly)
    assert status == 422 and body["error"] == "too_many_rows" and body["field"] == "interval", body
    assert "at most 2,000 fit in one JSON answer" in body["message"] and "format=csv" in body["message"]
    rows = int(body["message"].split(" rows")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert 130 * 24 < rows <= 5_000
    status, text, headers = api("GET", "/metrics/historical", lake_tenant.id, query={**hourly, "format": "csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv; charset=utf-8"] and len(text.splitlines()) == rows + 1
    status, body, _ = api("GET", "/metrics/historical", lake_tenant.id,
                          query={"from": _iso(BASE - 396 * DAY_MS), "to": _iso(BASE), "interval": "hour",
                                 "format": "csv"})
    assert status == 422 and body["field"] == "interval" and "at most 5,000 fit in one CSV answer" in body["message"]


def test_a_grouped_report_over_the_cap_is_422_naming_group_by_now_and_when_fetched_later(lake_tenant, engine,
                                                                                        monkeypatch):
    monkeypatch.setitem(lake_history.MAX_ROWS, "json", 1)
    grouped = {**LONG, "group_by": "queue,channel"}
    engine()
    status, body, _ = api("GET", "/metrics/historical", lake_tenant.id, query=grouped)
    assert status == 422 and body["error"] == "too_many_rows" and body["field"] == "group_by", body
    assert body["message"].startswith("this report has ") and "at most 1 fit in one JSON answer" in body["message"]
    assert "fewer group_by" in body["message"]
    status, report, _ = api("GET", "/metrics/historical", lake_tenant.id, query={**grouped, "format": "csv"})
    assert status == 200 and len(report.splitlines()) >= 3  # header and ≥ 2 rows: over the JSON cap, under CSV's
    engine(delay_s=(lake_history.WAIT_S + 1.0) / CLOCK)
    status, accepted, _ = api("GET", "/metrics/historical", lake_tenant.id, query=grouped)
    assert status == 202, accepted
    for _ in range(10 * CLOCK):
        status, body, _ = api("GET", _route(accepted["location"]), lake_tenant.id)
        if status != 202:
            break
    assert status == 422 and body["field"] == "group_by" and body["error"] == "too_many_rows", body


def test_athena_failures_answer_by_their_nature_422_naming_the_reason_or_503_with_retry_after(lake_tenant):
    """Athena (botocore's client with its Stubber) behind the real handler: a FAILED query is a 422
    `lake_query_failed` naming the kind of failure; StartQueryExecution throttled through every retry is a
    503 with Retry-After (nothing ran)."""
    import boto3
    from botocore.stub import ANY, Stubber

    from ccaas.adapters.aws.lake import AthenaLakeQueries

    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    slept: list[float] = []
    engine = AthenaLakeQueries(client, workgroup="wg", database="ccaas_lake", sleep=slept.append)
    previous = install_engine(engine)
    try:
        with Stubber(client) as stub:
            stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                              {"QueryString": ANY, "QueryExecutionContext": {"Database": "ccaas_lake"},
                               "WorkGroup": "wg", "ExecutionParameters": ANY, "ResultReuseConfiguration": ANY})
            stub.add_response("get_query_execution", {"QueryExecution": {
                "QueryExecutionId": "q-1", "WorkGroup": "wg", "ExecutionParameters": [f"'{lake_tenant.id}'"],
                "Status": {"State": "FAILED", "StateChangeReason": "HIVE_BAD_DATA: not a Parquet file"}}})
            status, body, _ = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
            assert status == 422 and body["error"] == "lake_query_failed", body
            # the kind of failure, not Athena's text (which may quote the statement or name S3 objects)
            assert "HIVE_BAD_DATA" in body["message"] and "not a Parquet file" not in body["message"]
            for _ in range(4):
                stub.add_client_error("start_query_execution", service_error_code="TooManyRequestsException",
                                      service_message="Rate exceeded", http_status_code=400)
            status, body, headers = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
            assert status == 503 and body["error"] == "lake_busy" and headers["Retry-After"] == ["5"], (status, body)
            assert slept == [0.25, 0.5, 1.0]
            stub.assert_no_pending_responses()
    finally:
        install_engine(previous)


def test_a_calendar_the_lake_refuses_is_503_with_retry_after_and_no_query_runs(lake_tenant, engine):
    """The KPI views join the calendar: without it the report would count nothing, so it is not asked."""
    from ccaas.ports_lake import LakeExportFailed, install_reference  # noqa: PLC0415

    class Refusing:
        calls = 0

        def put_settings(self, tenant_id, row):  # noqa: ANN001, ANN202
            Refusing.calls += 1
            raise LakeExportFailed("1 tenant_settings row not accepted")

        def ensure_calendar(self, tenant_id, days, rows_for_day):  # noqa: ANN001, ANN202
            raise AssertionError("not reached")

    started = engine()
    starts: list = []
    original = started.start
    started.start = lambda query: starts.append(query) or original(query)  # type: ignore[method-assign]
    previous = install_reference(Refusing())
    try:
        status, body, headers = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    finally:
        install_reference(previous)
    assert status == 503 and body["error"] == "lake_busy" and headers["Retry-After"] == ["5"], (status, body)
    assert Refusing.calls == 1 and starts == []


# --- outside probe 37 ---------------------------------------------------------------------------------
def test_a_range_in_the_last_year_a_request_may_name_is_answered_not_a_422_naming_body(lake_tenant, engine):
    """`from=2099-12-01&to=2100-12-31` was a 422 naming `body` on a GET: the query id's range check ran as request
    validation, with a last year (2099) the request's own check (2100) did not have."""
    engine()
    status, report, _ = api("GET", "/metrics/historical", lake_tenant.id,
                            query={"from": "2099-12-01", "to": "2100-12-31", "interval": "week"})
    assert status == 200 and len(report["rows"]) == 57, (status, report)


def test_kpi_settings_put_through_the_api_reach_the_runtimes_lake_before_its_next_long_report(lake_tenant, tmp_path):
    """The local runtime's lake (local.lake_queries.LocalLake, as `make run` starts it) writes the tenant's settings
    before each long query, as the API does on AWS: a PUT /settings/kpis changes the next long report's figures.
    Before, nothing wrote them until some History write re-exported a day: the new variant's label over the
    old settings' figures (short abandons, service level)."""
    import os
    from types import SimpleNamespace

    from local.lake_queries import LocalLake

    runtime = SimpleNamespace(_seed_environment=lambda: dict(os.environ), moto_endpoint=None)
    running = LocalLake.start(runtime, days=1, tenant_id=lake_tenant.id, lake_dir=tmp_path)
    fields = ("short_abandoned", "abandoned", "answered_within_sl", "service_level", "abandonment_rate")
    try:
        assert running.exported.wait(60)
        changed = {**SETTINGS.model_dump(), "short_abandon_s": 600.0, "default_sl_threshold_s": 3_600,
                   "service_level_variant": "abandons_count_as_met"}
        assert api("PUT", "/settings/kpis", lake_tenant.id, body=changed)[0] == 200

        def the_day(query: dict) -> dict:
            status, report, _ = api("GET", "/metrics/historical", lake_tenant.id, query=query)
            assert status == 200, report
            (row,) = [r for r in report["rows"] if r["interval_start"].startswith("2026-11-20")]
            return {"variant": report["service_level_variant"], **{f: row[f] for f in fields}}

        fast = the_day({"from": "2026-11-20", "to": "2026-11-21", "interval": "day"})
        assert fast["variant"] == "abandons_count_as_met" and fast["short_abandoned"] == fast["abandoned"] > 0
        assert the_day(LONG) == fast
        # and the calendar of every day the long report read, where no export wrote one (it would count nothing)
        assert {"2026-08-01", "2026-11-21"} <= running.reference.calendar_days(lake_tenant.id)
    finally:
        running.stop()
