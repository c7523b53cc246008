"""Long-range reports are bounded (issue 19): a report travels whole in one Lambda response (6 MB), so
ccaas.usecases.lake caps its rows (measured here from a row's JSON and CSV bytes) and refuses a bigger one
with a 422 that names `interval` or `group_by` and the numbers — before the query when the row count is
known (ungrouped: one row per interval), else from the query's own count (LIMIT cap + 1 with
COUNT(*) OVER ()) — on the synchronous answer and on the asynchronous fetch alike."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain import lake
from ccaas.domain.kpis import KpiRow, rows_to_csv
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.ledger import DIMENSIONS
from ccaas.domain.tenants import Tenant
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from tests.unit.test_kpis import BASE, END, SETTINGS, TENANT, TZ, fixture_activities, marked_records

DAY = "2026-11-20"
DAY_MS = 86_400_000
LONG = {"start": datetime.fromtimestamp((BASE - 120 * DAY_MS) / 1000, UTC),
        "end": datetime.fromtimestamp((END + 10 * DAY_MS) / 1000, UTC)}  # 130 days: the lake's range


# --- the cap, from bytes ---------------------------------------------------------------------------
def worst_case_row() -> Any:
    """A row as large as they come: every dimension a UUID, every KPI a 17-digit float, counters of 10 digits."""
    start = 1_780_000_000_000 // 3_600_000 * 3_600_000
    values: dict[str, Any] = {
        "tenant_id": "t" * 40, "interval": "hour", "group_by": ("queue", "channel"),
        "interval_start": "2026-05-28T17:00:00-03:00", "interval_end": "2026-05-28T18:00:00-03:00",
        "interval_start_ms": start, "interval_end_ms": start + 3_600_000,
        **{d: str(uuid.UUID(int=2**128 - 1 - i)) for i, d in enumerate(DIMENSIONS)},
        **{k: -0.12345678901234567 for k in lake.KPI_COLUMNS},
        **{f: 9_999_999_999 for f in ACCUMULATOR_FIELDS},
    }
    return KpiRow.model_validate(values)


def in_lambda_envelope(body: str) -> int:
    """Bytes the body takes in the proxy response Lambda returns (a JSON string: quotes escaped)."""
    return len(json.dumps(body).encode()) - 2


def test_the_caps_come_from_a_rows_measured_bytes_and_fit_one_lambda_response():
    row = worst_case_row()
    json_row = in_lambda_envelope(row.model_dump_json()) + 1  # and its comma
    csv_lines = rows_to_csv([row, row]).splitlines(keepends=True)
    csv_header, csv_row = in_lambda_envelope(csv_lines[0]), in_lambda_envelope(csv_lines[1])
    assert 2_000 < json_row <= lake_history.ROW_BYTES["json"]  # ~2,930 bytes: 86 fields
    assert 700 < csv_row <= lake_history.ROW_BYTES["csv"]  # ~1,170 bytes
    for representation, measured in (("json", json_row), ("csv", csv_row)):
        cap = lake_history.row_cap(representation)
        assert cap * lake_history.ROW_BYTES[representation] + 256 * 1024 <= lake_history.RESPONSE_LIMIT_BYTES
        assert cap * measured >= 0.75 * lake_history.RESPONSE_LIMIT_BYTES  # not needlessly small
    # The whole answer at the cap, as the API sends it, fits (report fields, warnings and header included).
    cap = lake_history.row_cap("json")
    report = history.HistoricalReport(time_zone=TZ, interval="hour", group_by=("queue", "channel"),
                                      service_level_variant="default", rows=[row] * cap, warnings=["x" * 200])
    assert in_lambda_envelope(report.model_dump_json()) < lake_history.RESPONSE_LIMIT_BYTES
    csv = rows_to_csv([row] * lake_history.row_cap("csv"))
    assert in_lambda_envelope(csv) + csv_header < lake_history.RESPONSE_LIMIT_BYTES
    assert in_lambda_envelope(rows_to_csv([row] * int(lake_history.row_cap("csv") * 1.1))) > 6_000_000


# --- the use-case ----------------------------------------------------------------------------------
def fixture_deps():  # noqa: ANN201
    d = memory_dependencies()
    d.clock.now = BASE + 30 * DAY_MS
    d.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    history.put_kpi_settings(d, TENANT, SETTINGS)
    for record in marked_records():
        d.history.put_record(record)
    return d


@pytest.fixture
def deps():
    return fixture_deps()


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """The fixture day's lake, exported once: the tests only query it."""
    out = tmp_path_factory.mktemp("lake")
    con = local_lake.duckdb.connect()
    local_lake.export_records(con, out, tenant_id=TENANT, tz=TZ, records=marked_records(),
                              activities=fixture_activities(), first_day=DAY, last_day=DAY, settings=SETTINGS)
    return out


class Counting(DuckDbLakeQueries):
    """The DuckDB engine, remembering the statements it ran and how many rows each result had."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[lake.LakeQuery] = []
        self.returned: list[int] = []

    def start(self, query: lake.LakeQuery) -> str:
        self.started.append(query)
        return super().start(query)

    def results(self, query_id: str) -> list[dict[str, Any]]:
        rows = super().results(query_id)
        self.returned.append(len(rows))
        return rows


@pytest.fixture
def engine(lake_dir):
    found = Counting(lake_dir)
    yield found
    found.close()


def _grouped_rows(deps, engine) -> int:  # noqa: ANN001
    """How many rows the fixture's long range has by hour × queue × agent (under the real cap)."""
    report = lake_history.historical(deps, engine, TENANT, interval="hour", group_by=("queue", "agent"), **LONG)
    assert isinstance(report, history.HistoricalReport)
    return len(report.rows)


@pytest.fixture(scope="module")
def grouped_total(lake_dir) -> int:
    """_grouped_rows, read once for the tests that need the number (the lake and the store never change)."""
    engine = DuckDbLakeQueries(lake_dir)
    try:
        return _grouped_rows(fixture_deps(), engine)
    finally:
        engine.close()


def test_thirteen_months_by_hour_is_refused_before_the_query_runs_naming_interval_and_the_numbers(deps):
    class Refusing:
        def start(self, query):  # noqa: ANN001, ANN201
            raise AssertionError("a report known to be too large must not reach the lake")

    deps.clock.now = BASE + 200 * DAY_MS
    start, end = datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)  # 365 days
    with pytest.raises(lake_history.ReportTooLarge) as refused:
        lake_history.historical(deps, Refusing(), TENANT, start=start, end=end, interval="hour")
    error = refused.value
    assert error.field == "interval" and error.code == "too_many_rows"
    assert error.rows == 365 * 24 and error.cap == 2_000
    assert str(error) == ("this report has 8,760 rows (interval=hour); at most 2,000 fit in one JSON answer: use "
                          "interval=day or a shorter range")
    with pytest.raises(lake_history.ReportTooLarge) as as_csv:  # 8,760 > 5,000 as CSV too
        lake_history.historical(deps, Refusing(), TENANT, start=start, end=end, interval="hour", representation="csv")
    assert as_csv.value.cap == 5_000 and "at most 5,000 fit in one CSV answer" in str(as_csv.value)
    # By day the same year is 365 rows: it runs.
    with pytest.raises(AssertionError, match="must not reach the lake"):
        lake_history.historical(deps, Refusing(), TENANT, start=start, end=end, interval="day")


def test_an_hourly_range_too_long_for_json_fits_as_csv(deps, engine):
    with pytest.raises(lake_history.ReportTooLarge) as refused:
        lake_history.historical(deps, engine, TENANT, interval="hour", **LONG)
    hours = len(TenantCalendar(TZ).interval_starts("hour", BASE - 120 * DAY_MS, END + 10 * DAY_MS))
    assert 130 * 24 < hours <= 130 * 24 + 2  # the fall-back day's extra hour, and the range's partial hours
    assert refused.value.rows == hours and "or format=csv" in str(refused.value)
    assert engine.started == []
    report = lake_history.historical(deps, engine, TENANT, interval="hour", representation="csv", wait_s=30.0, **LONG)
    assert isinstance(report, history.HistoricalReport) and len(report.rows) == hours
    assert sum(r.offered for r in report.rows) == 12
    assert engine.started[0].sql.endswith(f"LIMIT {lake_history.row_cap('csv') + 1}")


def test_a_grouped_report_over_the_cap_is_refused_with_its_exact_size_and_never_read_whole(deps, engine, monkeypatch,
                                                                                           grouped_total):
    total = grouped_total
    assert total > 4
    monkeypatch.setitem(lake_history.MAX_ROWS, "json", 3)
    engine.returned.clear()
    with pytest.raises(lake_history.ReportTooLarge) as refused:
        lake_history.historical(deps, engine, TENANT, interval="hour", group_by=("queue", "agent"), wait_s=30.0, **LONG)
    error = refused.value
    assert error.field == "group_by" and error.rows == total and error.cap == 3
    assert str(error).startswith(f"this report has {total:,} rows (interval=hour by queue × agent); at most 3 fit in "
                                 f"one JSON answer: use interval=day, fewer group_by, a shorter range or format=csv")
    assert engine.returned == [4]  # LIMIT cap + 1: the engine never hands over the whole answer
    monkeypatch.setitem(lake_history.MAX_ROWS, "json", total)  # exactly at the cap: answered
    report = lake_history.historical(deps, engine, TENANT, interval="hour", group_by=("queue", "agent"), wait_s=30.0,
                                     **LONG)
    assert len(report.rows) == total


def test_the_asynchronous_fetch_refuses_the_same_report_the_same_way(deps, lake_dir, monkeypatch, grouped_total):
    total = grouped_total
    monkeypatch.setitem(lake_history.MAX_ROWS, "json", 3)
    monkeypatch.setitem(lake_history.MAX_ROWS, "csv", total)
    slow = DuckDbLakeQueries(lake_dir, delay_s=0.3)
    try:
        for representation, refused_at in (("json", 3), ("csv", None)):
            accepted = lake_history.historical(deps, slow, TENANT, interval="hour", group_by=("queue", "agent"),
                                               wait_s=0.0, representation=representation, **LONG)
            assert isinstance(accepted, lake_history.LakeQueryAccepted)
            if refused_at is not None:
                with pytest.raises(lake_history.ReportTooLarge) as refused:
                    lake_history.query_result(deps, slow, TENANT, accepted.query_id, wait_s=10.0,
                                              representation=representation)
                assert refused.value.field == "group_by" and refused.value.rows == total and refused.value.cap == 3
            else:  # started for CSV: fetched as CSV it is answered, as JSON it is too large for one answer
                report = lake_history.query_result(deps, slow, TENANT, accepted.query_id, wait_s=10.0,
                                                   representation="csv")
                assert len(report.rows) == total
                with pytest.raises(lake_history.ReportTooLarge, match="at most 3 fit in one JSON answer"):
                    lake_history.query_result(deps, slow, TENANT, accepted.query_id, representation="json")
    finally:
        slow.close()


def test_the_query_limit_counts_the_whole_answer():
    query = lake.kpi_query(tenant_id="t", from_ms=0, to_ms=DAY_MS, interval="day", limit=11)
    assert query.sql.endswith(" LIMIT 11") and "COUNT(kpi_rows.granularity) OVER () AS result_rows" in query.sql
    assert "LIMIT" not in lake.kpi_query(tenant_id="t", from_ms=0, to_ms=DAY_MS).sql
    for bad in (0, -1, True, 2.5, "10"):
        with pytest.raises(ValueError, match="row limit"):
            lake.kpi_query(tenant_id="t", from_ms=0, to_ms=DAY_MS, limit=bad)  # type: ignore[arg-type]


def test_the_fast_path_refuses_a_report_one_answer_cannot_carry_and_keeps_one_it_can():
    """Up to 93 days the report is computed in the request (no lake): 93 days by hour and agent × reason came to
    12.5 MB, and Lambda's 6 MB limit made it API Gateway's 502, the roll-up redone on every retry. Past the row
    cap the report is measured as the envelope carries it: refused (422 naming group_by) when it does not fit,
    answered when plainer rows do (93 days by hour, ungrouped, ~4 MB)."""
    big = worst_case_row()
    too_big = history.HistoricalReport(time_zone="UTC", interval="hour", group_by=("queue", "channel"),
                                       service_level_variant="default", rows=[big] * 2_500)
    with pytest.raises(lake_history.ReportTooLarge) as refused:
        lake_history._fitting(too_big, "json")  # noqa: SLF001
    assert refused.value.field == "group_by" and refused.value.rows == 2_500 and "format=csv" in str(refused.value)
    plain = KpiRow.model_validate({k: v for k, v in big.model_dump().items()
                                   if k not in lake.KPI_COLUMNS and k not in ACCUMULATOR_FIELDS and k not in DIMENSIONS}
                                  | {"group_by": ()})
    fits = history.HistoricalReport(time_zone="UTC", interval="hour", group_by=(), service_level_variant="default",
                                    rows=[plain] * 2_232)
    assert lake_history._fitting(fits, "json") is fits  # noqa: SLF001
    with pytest.raises(lake_history.ReportTooLarge):  # CSV: the row cap (its measured worst case)
        lake_history._fitting(history.HistoricalReport(**{**fits.__dict__, "rows": [plain] * 5_001}), "csv")  # noqa: SLF001
