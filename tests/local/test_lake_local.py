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

    from local.simulation import ApiClient

    assert runtime.lake is not None and runtime.lake.exported.wait(180)
    first, last = runtime.history.first_day, runtime.history.last_day
    # The lake holds this runtime's loaded days and nothing else: its folder is its own, not one shared by
    # every runtime of the process (a 9-day runtime of an earlier module once left 6 more days in it, and
    # the long range counted them: offered 2627 instead of 786).
    con = local_lake.connect(runtime.lake.lake_dir)
    loaded = [(first + timedelta(days=i)).isoformat() for i in range(DAYS)]
    lake_days = con.execute("select distinct day from contact_records order by 1").fetchall()
    assert [d for (d,) in lake_days] == loaded
    # the calendar of those days, and of the day after where the last day's contacts handled after midnight count
    calendar_days = {d for (d,) in con.execute("select distinct day from lake_intervals").fetchall()}
    assert set(loaded) <= calendar_days <= {*loaded, (last + timedelta(days=1)).isoformat()}

    def offered_and_csat(start, end) -> tuple[int, int]:  # noqa: ANN001
        rows = _historical_rows(runtime, "demo", start, end)
        return sum(r["offered"] for r in rows), sum(r["csat_count"] for r in rows)

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


def _historical_rows(runtime: LocalRuntime, tenant_id: str, start, end) -> list[dict]:  # noqa: ANN001
    """GET /metrics/historical by day as the tenant's supervisor (a lake query's 202 followed to its answer)."""
    from urllib.parse import urlencode

    from local.simulation import ApiClient

    reader = ApiClient(runtime.api_url, runtime.key(tenant_id, "supervisor"))
    status, body = reader.call("GET", f"/metrics/historical?{urlencode({'from': start.isoformat(), 'to': end.isoformat(), 'interval': 'day'})}")
    for _ in range(30):
        if status != 202:
            break
        status, body = reader.call("GET", body["location"])
    assert status == 200, body
    return body["rows"]


def test_a_tenant_the_seed_does_not_know_reaches_the_lake_by_its_own_time_zone(runtime) -> None:
    """A tenant made later (as with the admin tool) in America/New_York: a writer's export marks its local day,
    and the runtime's lake rewrites that day by the tenant's own calendar, read from its settings as the
    deployed writers read it. The rewrite once took every unseeded tenant for UTC: it read the UTC day's
    24 hours and wrote a UTC calendar, so the tenant had no contact_records at all (a New York evening's
    contacts are the next UTC day) and the long range showed offered 0 where the fast path showed 21."""
    import dataclasses
    from datetime import timedelta

    from local.demo_history import yesterday
    from local.seed import ACME
    from local.simulation import ApiClient

    tenant = dataclasses.replace(ACME, tenant_id="nyc", name="New York Contact Center", time_zone="America/New_York")
    runtime.seed_tenant(tenant)
    # its last weekday before today, in New York: the seed's queues are closed at weekends (a Saturday's history
    # answers nobody, and the test needs an answered contact to survey)
    day = yesterday(tenant.time_zone)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    day = runtime.load_history(tenant, days=2, end_day=day).last_day
    assert runtime.lake is not None and runtime.lake.exported.wait(180)
    calendar = TenantCalendar(tenant.time_zone)
    store = local_lake._dynamo_store(runtime.moto_endpoint, runtime.function_environment(_folder_with_history(runtime))["HISTORY_TABLE"])
    entries, _ = local_lake.history_from_store(store, "nyc", *lake.day_range_ms(calendar, day.isoformat(), day.isoformat()))
    answered = sorted(e.contact_id for e in entries if e.record is not None and e.record.connected_at is not None
                      and e.csat is None)
    assert answered, "the generated day has answered contacts"
    # The API is one of the History writers: a survey exports the contact's snapshot, marking its day.
    status, body = ApiClient(runtime.api_url, runtime.key("nyc", "integration")).call(
        "POST", f"/contacts/{answered[0]}/survey", {"csat": 4})
    assert status == 201, body
    assert runtime.lake.export.flush() >= 1
    assert ("nyc", day.isoformat()) in runtime.lake.export.rewritten

    con = local_lake.connect(runtime.lake.lake_dir)
    (tz,) = con.execute("select distinct timezone from tenant_settings where tenant_id = 'nyc'").fetchone()
    assert tz == "America/New_York"
    (exported,) = con.execute("select count(*) from contact_records where tenant_id = 'nyc' and day = ? "
                              "and not coalesce(completion_copy, false)", [day.isoformat()]).fetchone()
    assert exported == len([e for e in entries if e.record is not None])

    def the_day(rows: list[dict]) -> dict:
        (row,) = [r for r in rows if r["interval_start"].startswith(day.isoformat())]
        return {k: row[k] for k in ("interval_start", "offered", "handled", "abandoned", "csat_count")}

    fast = the_day(_historical_rows(runtime, "nyc", day, day + timedelta(days=1)))
    from_lake = the_day(_historical_rows(runtime, "nyc", day - timedelta(days=150), day + timedelta(days=1)))
    assert fast["interval_start"].endswith("-05:00") and fast["offered"] > 0 and fast["csat_count"] >= 1
    assert from_lake == fast
