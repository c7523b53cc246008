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
    yield rt
    rt.stop()


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
