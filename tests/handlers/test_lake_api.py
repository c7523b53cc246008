"""GET /metrics/historical beyond 93 days and GET /metrics/historical/queries/{id} through the real
serve_api handler (moto), with the lake's DuckDB engine installed over a lake exported from the same
records: 200 with the same shape and CSV, 202 then the report, 404 for another tenant's id, 422 past
13 months."""
from __future__ import annotations

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


@pytest.fixture
def engine(tmp_path):
    def use(**options):  # noqa: ANN202
        found = DuckDbLakeQueries(tmp_path, **options)
        previous = install_engine(found)
        engines.append((found, previous))
        return found

    engines: list = []
    yield use
    for found, previous in reversed(engines):
        install_engine(previous)
        found.close()


LONG = {"from": _iso(BASE - 120 * DAY_MS), "to": _iso(END + 10 * DAY_MS), "interval": "day"}


def test_a_long_range_answers_from_the_lake_in_the_same_shape_and_as_csv(lake_tenant, engine):
    engine()
    status, report, _ = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    assert status == 200, report
    assert set(report) == {"time_zone", "interval", "group_by", "service_level_variant", "rows", "warnings"}
    busy = [r for r in report["rows"] if r["offered"]]
    assert len(busy) == 1 and busy[0]["offered"] == 12 and busy[0]["interval_start"] == "2026-11-20T00:00:00-05:00"
    assert len(report["rows"]) >= 130 and report["time_zone"] == TZ
    status, text, headers = api("GET", "/metrics/historical", lake_tenant.id, query={**LONG, "format": "csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv"]
    assert text.splitlines()[0].startswith("tenant_id,") or "interval_start" in text.splitlines()[0]
    assert len(text.splitlines()) == len(report["rows"]) + 1
    status, compact, _ = api("GET", "/metrics/historical", lake_tenant.id,
                             query={**LONG, "group_by": "queue", "fields": "offered,service_level"})
    assert status == 200 and compact["fields"] == ["offered", "service_level"]
    assert sum(r["offered"] for r in compact["rows"]) == 12


def test_a_slow_lake_query_is_202_then_fetched_by_its_id_by_its_tenant_only(lake_tenant, engine):
    engine(delay_s=lake_history.WAIT_S + 1.0)  # longer than a request waits
    status, accepted, headers = api("GET", "/metrics/historical", lake_tenant.id, query=LONG)
    assert status == 202, accepted
    assert headers["Location"] == [accepted["location"]] and accepted["state"] in ("QUEUED", "RUNNING")
    path = accepted["location"]
    status, missing, _ = api("GET", path, "some-other-tenant")
    assert status == 404, missing
    body = None
    for _ in range(10):
        status, body, _ = api("GET", path, lake_tenant.id)
        if status == 200:
            break
        assert status == 202
    assert status == 200 and sum(r["offered"] for r in body["rows"]) == 12
    status, text, _ = api("GET", path, lake_tenant.id, query={"format": "csv"})
    assert status == 200 and len(text.splitlines()) == len(body["rows"]) + 1
    assert api("GET", "/metrics/historical/queries/nope.e30", lake_tenant.id)[0] == 404


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
