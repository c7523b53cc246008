"""`python -m local.lake export` against a running local runtime's History table (moto), then the KPI
views over the Parquet it wrote agree with the Python roll-up of the same History."""
from __future__ import annotations

import io

import pytest

from ccaas.domain import lake
from ccaas.domain.kpis import rollup
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.intervals import TenantCalendar
from local import lake as local_lake
from local.runtime import LocalRuntime

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

DAYS = 3


@pytest.fixture(scope="module")
def runtime():
    rt = LocalRuntime(history_days=DAYS)
    rt.start()
    lake_dir = rt.lake.lake_dir
    yield rt
    rt.stop()
    assert not lake_dir.exists()  # the runtime's own lake folder goes with it (no later runtime finds its days)


def test_export_from_the_runtime_and_query_the_kpis(runtime, tmp_path) -> None:
    report = runtime.history
    first, last = report.first_day.isoformat(), report.last_day.isoformat()
    table = runtime.function_environment(_folder_with_history(runtime))["HISTORY_TABLE"]
    out = io.StringIO()
    code = local_lake.main(["export", "--out", str(tmp_path), "--endpoint", runtime.moto_endpoint, "--table", table,
                            "--tenant", "demo", "--from", first, "--to", last], out=out)
    assert code == 0, out.getvalue()
    assert out.getvalue().startswith(f"exported tenant demo {first}..{last}")

    con = local_lake.connect(tmp_path)
    (n,) = con.execute("select count(*) from contact_records where tenant_id = 'demo'").fetchone()
    assert n == report.counts["contacts"]

    calendar = TenantCalendar("UTC")
    lo, hi = lake.day_range_ms(calendar, first, last)
    store = local_lake._dynamo_store(runtime.moto_endpoint, table)
    entries, activities = local_lake.history_from_store(store, "demo", lo, hi)
    records = [e.kpi_record() for e in entries if e.record is not None]
    python = rollup(records, activities, tz="UTC", interval="day", group_by=("queue",), from_ms=lo, to_ms=hi)
    sql = local_lake.kpi_rows(con, tenant_id="demo", from_ms=lo, to_ms=hi, interval="day", group_by=("queue",))
    assert [(r.interval_start, r.queue) for r in python] == [(r["interval_start"], r["queue"]) for r in sql]
    for want, got in zip(python, sql):
        assert {f: getattr(want, f) for f in ACCUMULATOR_FIELDS} == {f: int(got[f]) for f in ACCUMULATOR_FIELDS}
        assert got["aht_s"] == (None if want.aht_s is None else pytest.approx(want.aht_s, rel=1e-9))

    printed = io.StringIO()
    assert local_lake.main(["kpis", "--lake", str(tmp_path), "--tenant", "demo", "--from", first, "--to", last,
                            "--interval", "day"], out=printed) == 0
    assert f"({DAYS - 1} rows)" in printed.getvalue()


def _folder_with_history(rt: LocalRuntime) -> str:
    """A deployed function whose environment names the History table."""
    for fn in rt.deployment.functions.values():
        if "HISTORY_TABLE" in fn.environment:
            return fn.folder
    raise AssertionError("no function has HISTORY_TABLE")


def test_the_runtime_answers_a_long_range_from_its_lake_and_a_late_survey_corrects_its_day(runtime) -> None:
    """make run's lake: the loaded days exported in the background, GET /metrics/historical beyond 93 days
    answered by DuckDB with the fast path's figures; a survey for an exported day rewrites that day."""
    from datetime import timedelta
    from urllib.parse import urlencode

    from local.simulation import ApiClient

    assert runtime.lake is not None and runtime.lake.exported.wait(180)
    first, last = runtime.history.first_day, runtime.history.last_day
    # The lake holds this runtime's loaded days and nothing else: its folder is its own, not one shared by
    # every runtime of the process (a 9-day runtime of an earlier module once left 6 more days in it, and
    # the long range counted them: offered 2627 instead of 786).
    lake_days = local_lake.connect(runtime.lake.lake_dir).execute(
        "select distinct day from contact_records union select distinct day from lake_intervals order by 1").fetchall()
    assert [d for (d,) in lake_days] == [(first + timedelta(days=i)).isoformat() for i in range(DAYS)]
    reader = ApiClient(runtime.api_url, runtime.api_keys["demo"])

    def offered_and_csat(start, end) -> tuple[int, int]:  # noqa: ANN001
        query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "interval": "day"})
        status, body = reader.call("GET", f"/metrics/historical?{query}")
        for _ in range(30):
            if status != 202:
                break
            status, body = reader.call("GET", body["location"])
        assert status == 200, body
        return sum(r["offered"] for r in body["rows"]), sum(r["csat_count"] for r in body["rows"])

    long_range = (last - timedelta(days=150), last + timedelta(days=1))
    fast = offered_and_csat(first, last + timedelta(days=1))
    from_lake = offered_and_csat(*long_range)
    assert from_lake == fast and fast[0] > 0

    con = local_lake.connect(runtime.lake.lake_dir)
    (contact_id,) = con.execute("select contact_id from contact_records where tenant_id = 'demo' and csat is null "
                                "and connected_at is not null and day > ? order by contact_id limit 1",
                                [first.isoformat()]).fetchone()
    integration = ApiClient(runtime.api_url, runtime.role_keys["demo"]["integration"])
    status, _ = integration.call("POST", f"/contacts/{contact_id}/survey", {"csat": 5})
    assert status == 201
    assert runtime.lake.export.flush() >= 1  # the day is rewritten (the loop does it every 30 s)
    assert offered_and_csat(*long_range) == (from_lake[0], from_lake[1] + 1)
