"""The analytics lake counts a range that starts or ends inside a quarter-hour exactly, as the fast path does.

The lake's SQL summed whole quarter-hour cells (every cell of a quarter overlapping [from, to)), as the Python
roll-up did (tests/unit/test_history_range_start.py: an outside probe's from=06:29:59Z&to=06:30:00Z counted the
whole 06:15 quarter). Now each kpi_cells row says when its counts happened ([span_start_ms, span_end_ms): a contact
side's instant, an agent-time piece), and kpi_sums counts the rows inside the range and clips agent time to it,
with the bounds bound as parameters in WHERE clauses only (Athena's rule): both engines, the same figures.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ccaas.domain import lake
from ccaas.domain.kpis import KpiSettings
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from tests.unit.test_history_range_start import COUNTS, RANGES, RECORDS, SPANS, TENANT, ZONES, _deps, at, oracle
from tests.unit.test_lake_conformance import _fed_ledger, _key, _python, _sql, assert_same, export, random_day

SETTINGS = KpiSettings()
# Ungrouped rows are checked against the oracle by the test above; a grouping is what this one adds (the probe's
# contacts are all of one queue, so grouping by it adds nothing to by agent). A day row is its hours' sum.
GROUPINGS = (("agent",),)


# UTC, and a zone whose hours start at :30 UTC; New York's December offset adds nothing the lake reads differently
# (its fall-back day is the random day's below), and every zone's fast path is checked in test_history_range_start.
LAKE_ZONES = ("UTC", "Asia/Kolkata")


@pytest.fixture(scope="module", params=LAKE_ZONES)
def probe_lake(request, tmp_path_factory):
    """The probe's contacts and spans exported in each zone (their days and one either side)."""
    time_zone = request.param
    con = export(tmp_path_factory.mktemp("lake"), RECORDS, SPANS, tenant=TENANT, tz=time_zone,
                 first_day="2026-12-05", last_day="2026-12-07", settings=SETTINGS)
    return time_zone, con


def _api_rows(con, *, tz, from_ms, to_ms, interval, group_by=()):  # noqa: ANN001, ANN202
    """The statement the API sends (every value bound, the bounds in WHERE clauses only), run on DuckDB."""
    calendar = TenantCalendar(tz)
    query = lake.kpi_query(tenant_id=TENANT, from_ms=from_ms, to_ms=to_ms, interval=interval, group_by=group_by,
                           scan_days=lake_history.scan_days(calendar, from_ms, to_ms))
    cursor = con.execute(query.sql, list(query.parameters))
    names = [d[0] for d in cursor.description]
    return lake.kpi_answer([dict(zip(names, values)) for values in cursor.fetchall()])[0]


@pytest.mark.parametrize("interval", ["15m", "hour", "day"])
@pytest.mark.parametrize(("start", "end"), RANGES)
def test_each_lake_row_counts_exactly_its_intervals_part_of_the_range(probe_lake, interval, start, end):
    time_zone, con = probe_lake
    rows = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=start, to_ms=end, interval=interval)
    api = _api_rows(con, tz=time_zone, from_ms=start, to_ms=end, interval=interval)
    for found in (rows, api):
        assert [r["interval_start_ms"] for r in found] == TenantCalendar(time_zone).interval_starts(interval, start, end)
        for row in found:
            part = (max(start, row["interval_start_ms"]), min(end, row["interval_end_ms"]))
            assert {name: row[name] for name in COUNTS} == oracle(*part), (row["interval_start"], part)
        assert {name: sum(r[name] for r in found) for name in COUNTS} == oracle(start, end)


@pytest.mark.parametrize(("start", "end"), RANGES)
def test_the_lake_and_the_roll_up_agree_on_partial_ranges_in_every_grouping(probe_lake, start, end):
    time_zone, con = probe_lake
    for group_by in GROUPINGS:
        ledger = _fed_ledger(RECORDS, SPANS, tz=time_zone, group_by=group_by, settings=SETTINGS)
        for interval in ("15m", "hour"):
            python = _python(ledger, interval=interval, from_ms=start, to_ms=end)
            assert_same(python, _sql(con, tenant=TENANT, interval=interval, group_by=group_by, from_ms=start, to_ms=end))
            api = _api_rows(con, tz=time_zone, from_ms=start, to_ms=end, interval=interval, group_by=group_by)
            assert_same(python, {_key(r, group_by): r for r in api})


@pytest.mark.parametrize("time_zone", ZONES)
def test_the_lake_answer_and_the_fast_path_say_the_same(tmp_path, time_zone):
    """The use-case on both paths, for a range inside hours and quarters: the same rows and the same warnings."""
    con = export(tmp_path, RECORDS, SPANS, tenant=TENANT, tz=time_zone, first_day="2026-12-05",
                 last_day="2026-12-07", settings=SETTINGS)
    con.close()
    deps = _deps(time_zone)
    engine = DuckDbLakeQueries(tmp_path)
    try:
        for start, end in ((at(26, 50), at(27, 16)), (at(10), at(50)), (at(29, 59), at(30))):
            for interval in ("15m", "hour"):
                answer = lake_history.start_query(engine, TENANT, time_zone=time_zone, from_ms=start, to_ms=end,
                                                  interval=interval, wait_s=60)
                fast = history.historical_metrics(deps, TENANT, start=datetime.fromtimestamp(start / 1000, UTC),
                                                  end=datetime.fromtimestamp(end / 1000, UTC), interval=interval)
                assert isinstance(answer, history.HistoricalReport)
                assert [[getattr(r, f) for f in ("interval_start", *ACCUMULATOR_FIELDS)] for r in answer.rows] == \
                       [[getattr(r, f) for f in ("interval_start", *ACCUMULATOR_FIELDS)] for r in fast.rows]
                assert answer.warnings == fast.warnings, (start, end, interval)
    finally:
        engine.close()


DAYS = [
    ("half-hour-zone", "Asia/Kolkata", date(2026, 2, 2), 21),
    ("fall-back", "America/New_York", date(2026, 11, 1), 22),
]


@pytest.mark.parametrize(("label", "tz", "day", "seed"), DAYS, ids=[d[0] for d in DAYS])
def test_a_random_day_read_from_inside_quarters_agrees(tmp_path, label, tz, day, seed):
    """Hundreds of segments (transfers, consults, slots, stale versions…) and spans crossing every edge: ranges
    starting and ending inside quarters and hours (the fall-back day's repeated hour included) agree in every
    count and KPI, on the local statement and on the API's bound one."""
    tenant = f"t-{label}"
    fed, _, activities, start, end = random_day(seed, tenant, tz, day, n=600)
    con = export(tmp_path, fed, activities, tenant=tenant, tz=tz, first_day=day.isoformat(),
                 last_day=day.isoformat(), settings=SETTINGS)
    hour = 3_600_000
    ranges = [(start + 1 * hour + 7 * 60_000 + 123, start + 2 * hour + 31 * 60_000 + 45_001),
              (start + 5 * hour + 50 * 60_000 + 1, start + 5 * hour + 51 * 60_000),
              (start + 9 * hour + 14 * 60_000 + 59_999, end - 13 * 60_000)]
    calendar = TenantCalendar(tz)
    for group_by in ((), ("queue", "channel")):  # by agent: the probe's contacts above
        ledger = _fed_ledger(fed, activities, tz=tz, group_by=group_by, settings=SETTINGS)
        for lo, hi in ranges:
            for interval in ("15m", "hour"):
                python = _python(ledger, interval=interval, from_ms=lo, to_ms=hi)
                assert_same(python, _sql(con, tenant=tenant, interval=interval, group_by=group_by, from_ms=lo, to_ms=hi))
                query = lake.kpi_query(tenant_id=tenant, from_ms=lo, to_ms=hi, interval=interval, group_by=group_by,
                                       scan_days=lake_history.scan_days(calendar, lo, hi))
                cursor = con.execute(query.sql, list(query.parameters))
                names = [d[0] for d in cursor.description]
                api, _ = lake.kpi_answer([dict(zip(names, values)) for values in cursor.fetchall()])
                assert_same(python, {_key(r, group_by): r for r in api})
