"""Long ranges of GET /metrics/historical from the analytics lake (ccaas.usecases.lake), on the DuckDB
engine over a real exported lake (local.lake_queries) and on Athena through a stubbed client; late
corrections rewriting a day's partition."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ccaas.adapters.aws.lake import AthenaLakeQueries, from_environment, literal
from ccaas.bootstrap import memory_dependencies
from ccaas.domain import lake
from ccaas.domain.history import Survey
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.models import DomainError, NotFound
from ccaas.domain.tenants import Tenant
from ccaas.ports_lake import LakeQueryStatus, install_engine, installed_engine
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from tests.lake_twin import RecordingExport
from tests.unit.test_kpis import BASE, END, SETTINGS, TENANT, TZ, fixture_activities, marked_records

DAY = "2026-11-20"


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def fixture_deps():  # noqa: ANN201
    d = memory_dependencies()
    d.clock.now = BASE + 30 * 86_400_000
    for tenant in (TENANT, "other"):
        d.config.put_tenant(Tenant(tenant_id=tenant, name=tenant, time_zone=TZ))
    history.put_kpi_settings(d, TENANT, SETTINGS)
    for record in marked_records():
        d.history.put_record(record)
    for activity in fixture_activities():  # closed spans, as the store keeps them
        d.history._t.spans[(TENANT, activity.agent_id, activity.start_ms)] = activity.model_copy(
            update={"tenant_id": TENANT})
    return d


@pytest.fixture
def deps():
    return fixture_deps()


def export_day(out, deps):  # noqa: ANN001, ANN201
    con = local_lake.duckdb.connect()
    local_lake.reexport_days(con, out, deps.history, tenant_id=TENANT, tz=TZ, first_day=DAY, last_day=DAY,
                             settings=SETTINGS)
    return out


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """The fixture day's lake, exported once: the tests that take it only read it (it is what a test's own
    `deps` exports; a test that rewrites a day exports its own, own_lake_dir)."""
    return export_day(tmp_path_factory.mktemp("lake"), fixture_deps())


@pytest.fixture
def own_lake_dir(tmp_path, deps):
    return export_day(tmp_path, deps)


@pytest.fixture
def engine(lake_dir):
    found = DuckDbLakeQueries(lake_dir)
    yield found
    found.close()


@pytest.fixture
def own_engine(own_lake_dir):
    found = DuckDbLakeQueries(own_lake_dir)
    yield found
    found.close()


# --- the use-case ------------------------------------------------------------------------------------
def test_a_long_range_is_answered_from_the_lake_with_the_fast_paths_figures(deps, engine):
    start, end = _at(BASE - 100 * 86_400_000), _at(END + 20 * 86_400_000)  # 120 days: beyond the fast path
    report = lake_history.historical(deps, engine, TENANT, start=start, end=end, interval="day")
    assert isinstance(report, history.HistoricalReport)
    assert report.time_zone == TZ and report.interval == "day" and len(report.rows) >= 120
    (busy,) = [r for r in report.rows if r.offered]
    fast = history.historical_metrics(deps, TENANT, start=_at(busy.interval_start_ms), end=_at(busy.interval_end_ms),
                                      interval="day")
    (want,) = fast.rows
    for name in ACCUMULATOR_FIELDS:
        assert getattr(busy, name) == getattr(want, name), name
    assert busy.interval_start == want.interval_start == "2026-11-20T00:00:00-05:00"
    assert busy.service_level == pytest.approx(want.service_level) and busy.aht_s == pytest.approx(want.aht_s)
    assert busy.occupancy == pytest.approx(want.occupancy) and busy.csat == pytest.approx(want.csat)
    # the range starts and ends inside a day: said so, nothing else missing
    assert [w.split(' row ')[0] for w in report.warnings] == ['the first day', 'the last day'], report.warnings


def test_grouped_long_range_with_a_variant_matches_the_fast_path(deps, engine):
    start, end = _at(BASE - 100 * 86_400_000), _at(END + 5 * 86_400_000)
    report = lake_history.historical(deps, engine, TENANT, start=start, end=end, interval="week",
                                     group_by=("queue",), service_level_variant="answered_over_offered")
    assert report.service_level_variant == "answered_over_offered" and report.group_by == ("queue",)
    day_lo = [r for r in report.rows][0].interval_start_ms
    fast = history.historical_metrics(deps, TENANT, start=_at(day_lo), end=_at(day_lo + 7 * 86_400_000 - 1),
                                      interval="week", group_by=("queue",),
                                      service_level_variant="answered_over_offered")
    by_queue = {r.queue: r for r in fast.rows}
    assert {r.queue for r in report.rows} == set(by_queue)
    for row in report.rows:
        assert row.offered == by_queue[row.queue].offered
        assert row.service_level == pytest.approx(by_queue[row.queue].service_level)


def test_short_ranges_keep_the_fast_path(deps):
    class Refusing:
        def start(self, query):  # noqa: ANN001, ANN201
            raise AssertionError("a short range must not reach the lake")

    report = lake_history.historical(deps, Refusing(), TENANT, start=_at(BASE), end=_at(END), interval="15m")
    assert sum(r.offered for r in report.rows) == 12


def test_range_limits_name_the_field(deps, engine):
    with pytest.raises(DomainError) as beyond:
        lake_history.historical(deps, engine, TENANT, start=_at(BASE - 400 * 86_400_000), end=_at(BASE))
    assert beyond.value.field == "to" and "397" in str(beyond.value)
    with pytest.raises(DomainError) as no_lake:
        lake_history.historical(deps, None, TENANT, start=_at(BASE - 100 * 86_400_000), end=_at(BASE))
    assert no_lake.value.field == "to" and "93" in str(no_lake.value)
    with pytest.raises(DomainError) as quarters:
        lake_history.historical(deps, engine, TENANT, start=_at(BASE - 100 * 86_400_000), end=_at(BASE),
                                interval="15m")
    assert quarters.value.field == "interval"


def test_93_calendar_days_over_a_fall_back_keep_the_fast_path(deps):
    """93 local days with a 25-hour day among them: within the fast path's limit, not a 422 for want of a lake."""
    report = lake_history.historical(deps, None, TENANT, start=datetime(2026, 8, 2), end=datetime(2026, 11, 3),
                                     interval="hour")
    assert len(report.rows) == 93 * 24 + 1
    with pytest.raises(DomainError) as no_lake:
        lake_history.historical(deps, None, TENANT, start=datetime(2026, 8, 2), end=datetime(2026, 11, 3, 1),
                                interval="hour")
    assert no_lake.value.field == "to"


def test_a_slow_query_answers_202_then_its_id_fetches_the_report_for_its_tenant_only(deps, lake_dir):
    slow = DuckDbLakeQueries(lake_dir, delay_s=0.5)
    try:
        start, end = _at(BASE - 100 * 86_400_000), _at(END + 1 * 86_400_000)
        accepted = lake_history.historical(deps, slow, TENANT, start=start, end=end, interval="day", wait_s=0.0)
        assert isinstance(accepted, lake_history.LakeQueryAccepted)
        assert accepted.state in ("QUEUED", "RUNNING") and accepted.location.endswith(accepted.query_id)
        with pytest.raises(NotFound):
            lake_history.query_result(deps, slow, "other", accepted.query_id, wait_s=5.0)
        report = lake_history.query_result(deps, slow, TENANT, accepted.query_id, wait_s=5.0)
        assert isinstance(report, history.HistoricalReport) and sum(r.offered for r in report.rows) == 12
        for bad in ("nope", accepted.query_id.split(".")[0] + ".e30", "0" * 32 + "." + accepted.query_id.split(".")[1]):
            with pytest.raises(NotFound):
                lake_history.query_result(deps, slow, TENANT, bad)
        # The caller may rewrite the id's context: a range start_query could not have made is no query of
        # theirs (before: a span of centuries filled interval by interval, or an overflow as a 500).
        engine_id, _, encoded = accepted.query_id.partition(".")
        context = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        for start_ms, end_ms in ((0, 10**17), (context["f"], context["f"] + 3_000 * 86_400_000), ("1", "2"),
                                 (context["t"], context["f"]), (True, context["t"])):
            forged = base64.urlsafe_b64encode(json.dumps({**context, "f": start_ms, "t": end_ms}).encode()).decode().rstrip("=")
            with pytest.raises(NotFound):
                lake_history.query_result(deps, slow, TENANT, f"{engine_id}.{forged}")
    finally:
        slow.close()


def _forged(query_id: str, **change: Any) -> str:
    engine_id, _, encoded = query_id.partition(".")
    context = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return f"{engine_id}." + base64.urlsafe_b64encode(json.dumps({**context, **change}).encode()).decode().rstrip("=")


def test_an_edited_query_context_is_no_query_its_rows_are_never_relabelled(deps, lake_dir):
    """The id's context is read strictly, as start_query wrote it (QueryContext), and must agree with the rows the
    engine returns. Before: `"v":"bogus"` failed building the report (a 422 naming `body.service_level_variant`),
    `"n":-5` answered "at most -5 fit", `"i":"week"` labelled day rows as weeks, `"g":["queue"]` a grouped report of
    ungrouped rows."""
    slow = DuckDbLakeQueries(lake_dir, delay_s=0.3)
    try:
        accepted = lake_history.historical(deps, slow, TENANT, start=_at(BASE - 100 * 86_400_000),
                                           end=_at(END + 86_400_000), interval="day", wait_s=0.0)
        assert isinstance(accepted, lake_history.LakeQueryAccepted)
        report = lake_history.query_result(deps, slow, TENANT, accepted.query_id, wait_s=5.0)
        assert isinstance(report, history.HistoricalReport) and report.interval == "day"
        # what start_query writes reads back as it was (an id of a query started before "n" existed: without it)
        assert isinstance(lake_history.query_result(deps, slow, TENANT, _forged(accepted.query_id, n=2000)),
                          history.HistoricalReport)
        encoded = accepted.query_id.partition(".")[2]
        context = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        without_cap = {k: v for k, v in context.items() if k != "n"}
        engine_id = accepted.query_id.partition(".")[0]
        old = f"{engine_id}." + base64.urlsafe_b64encode(json.dumps(without_cap).encode()).decode().rstrip("=")
        assert isinstance(lake_history.query_result(deps, slow, TENANT, old), history.HistoricalReport)
        for change in ({"v": "bogus"}, {"v": 1}, {"n": -5}, {"n": 0}, {"n": True}, {"n": 2000.0}, {"n": 10**9},
                       {"i": "week"}, {"i": "hour"}, {"i": "month"}, {"g": ["queue"]}, {"g": "queue"},
                       {"f": str(context["f"])}, {"extra": 1}):
            with pytest.raises(NotFound) as refused:
                lake_history.query_result(deps, slow, TENANT, _forged(accepted.query_id, **change))
            assert refused.value.field == "query_id", change
        with pytest.raises(NotFound):  # a context that is not JSON at all
            lake_history.query_result(deps, slow, TENANT, f"{engine_id}.bm90LWpzb24")
    finally:
        slow.close()


def test_a_failed_engine_query_is_an_error_naming_its_reason_not_a_result(deps, tmp_path):
    class Failing:
        def start(self, query):  # noqa: ANN001, ANN201
            return "q1"

        def status(self, query_id, wait_s=0.0):  # noqa: ANN001, ANN201
            return LakeQueryStatus("FAILED", TENANT, "HIVE_BAD_DATA")

    with pytest.raises(lake_history.LakeQueryFailed, match="HIVE_BAD_DATA"):
        lake_history.historical(deps, Failing(), TENANT, start=_at(BASE - 100 * 86_400_000), end=_at(BASE),
                                interval="day")
    # a DomainError (422 `lake_query_failed`): the report cannot be made as asked; asking again starts anew
    assert issubclass(lake_history.LakeQueryFailed, DomainError) and lake_history.LakeQueryFailed.code == "lake_query_failed"


def test_the_engine_is_the_installed_one_then_the_environment_s(deps, engine, monkeypatch):
    monkeypatch.delenv("LAKE_WORKGROUP", raising=False)
    previous = install_engine(None)
    try:
        assert lake_history.lake_queries(deps) is None
        install_engine(engine)
        assert lake_history.lake_queries(deps) is engine and installed_engine() is engine
    finally:
        install_engine(previous)
    assert from_environment({"LAKE_WORKGROUP": "wg"}) is None  # no database: no engine


# --- the query: the tenant is a parameter, never text --------------------------------------------------
def test_the_kpi_query_binds_the_tenant_range_and_variant_as_parameters():
    query = lake.kpi_query(tenant_id="tenant-zq9", from_ms=0, to_ms=86_400_000, interval="day", group_by=("queue",),
                           scan_days=("2026-01-01", "2026-01-02"), service_level_variant="answered_over_offered")
    assert "zq9" not in query.sql and "2026-01-01" not in query.sql and "86400000" not in query.sql
    assert "WHERE v.service_level_variant = ?)" in query.sql and "? AS" not in query.sql  # Athena: WHERE only
    assert query.parameters[0] == query.tenant_id == "tenant-zq9"
    assert query.sql.count("?") == len(query.parameters)
    assert {"tenant-zq9", "2026-01-01", "2026-01-02", "answered_over_offered", 86_400_000} <= set(query.parameters)
    named = lake.kpi_query(tenant_id="t", from_ms=0, to_ms=1, names={t: f"ccaas_lake.{t}" for t in lake.TABLES},
                           scan_days=("2026-01-01", "2026-01-02"))
    for table in ("contact_records", "agent_activity", "lake_intervals"):  # each scan bound to tenant and days
        assert f"FROM ccaas_lake.{table} WHERE tenant_id = ? AND day >= ? AND day <= ?)" in named.sql
    assert "FROM ccaas_lake.tenant_settings WHERE tenant_id = ?)" in named.sql
    assert named.sql.count("FROM ccaas_lake.") == 4  # no table is read any other way
    with pytest.raises(ValueError):
        lake.kpi_query(tenant_id="x' OR '1'='1", from_ms=0, to_ms=1)
    with pytest.raises(ValueError):
        lake.kpi_query(tenant_id="demo", from_ms=0, to_ms=1, service_level_variant="made_up")


class StubAthena:
    """The calls AthenaLakeQueries makes, answered as Athena documents them."""

    class exceptions:  # noqa: N801
        class InvalidRequestException(Exception):
            pass

    def __init__(self, states: list[str], rows: list[list[str | None]], columns: list[tuple[str, str]]):
        self.states, self.rows, self.columns, self.started = states, rows, columns, []

    def start_query_execution(self, **kwargs: Any) -> dict:
        self.started.append(kwargs)
        return {"QueryExecutionId": "abc-123"}

    def get_query_execution(self, QueryExecutionId: str) -> dict:  # noqa: N803
        if QueryExecutionId != "abc-123":
            raise self.exceptions.InvalidRequestException("unknown")
        start = self.started[-1]
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "WorkGroup": start["WorkGroup"],
                                   "ExecutionParameters": start["ExecutionParameters"],
                                   "Status": {"State": state}}}

    def get_paginator(self, name: str) -> Any:
        assert name == "get_query_results"
        header = {"Data": [{"VarCharValue": n} for n, _ in self.columns]}
        meta = {"ColumnInfo": [{"Name": n, "Type": t} for n, t in self.columns]}

        def cell(v):  # noqa: ANN001, ANN202
            return {} if v is None else {"VarCharValue": v}

        pages = [[header, *[{"Data": [cell(v) for v in r]} for r in self.rows[:1]]],
                 [{"Data": [cell(v) for v in r]} for r in self.rows[1:]]]

        class Paginator:
            def paginate(self, QueryExecutionId: str):  # noqa: N803, ANN202
                return [{"ResultSet": {"ResultSetMetadata": meta, "Rows": rows}} for rows in pages]

        return Paginator()


def test_athena_binds_the_tenant_as_an_execution_parameter_and_reads_it_back():
    client = StubAthena(["QUEUED", "RUNNING", "SUCCEEDED"], [["q1", "12", "0.5", "true"], ["q2", None, None, "false"]],
                        [("queue", "varchar"), ("offered", "bigint"), ("csat", "double"), ("agent_time", "boolean")])
    clock = [0.0]
    engine = AthenaLakeQueries(client, workgroup="wg", database="ccaas_lake",
                               sleep=lambda s: clock.__setitem__(0, clock[0] + s), monotonic=lambda: clock[0])
    query = lake.kpi_query(tenant_id="demo", from_ms=0, to_ms=86_400_000, interval="day")
    query_id = engine.start(query)
    call = client.started[0]
    assert call["WorkGroup"] == "wg" and call["QueryExecutionContext"] == {"Database": "ccaas_lake"}
    assert call["ExecutionParameters"][0] == "'demo'" and "demo" not in call["QueryString"]
    assert call["ExecutionParameters"] == [literal(p) for p in query.parameters]
    assert {str(-900_000), str(86_400_000)} <= set(call["ExecutionParameters"])
    status = engine.status(query_id, wait_s=5.0)
    assert status == LakeQueryStatus("SUCCEEDED", "demo") and 0 < clock[0] < 5.0
    assert engine.results(query_id) == [{"queue": "q1", "offered": 12, "csat": 0.5, "agent_time": True},
                                        {"queue": "q2", "offered": None, "csat": None, "agent_time": False}]
    assert engine.status("not-a-query") is None
    other = AthenaLakeQueries(client, workgroup="another", database="ccaas_lake")
    assert other.status(query_id) is None  # a query of another workgroup is not ours to show


def test_athena_literals_quote_strings_and_double_quotes():
    assert literal("o'brien") == "'o''brien'" and literal(5) == "5" and literal(True) == "TRUE"


# --- late corrections ------------------------------------------------------------------------------
def test_a_late_survey_rewrites_its_day_and_changes_the_days_csat_in_sql(deps, own_lake_dir, own_engine):
    lake_dir, engine = own_lake_dir, own_engine  # this test rewrites its day: a lake of its own

    def day_csat() -> tuple[int, int, float | None]:
        report = lake_history.start_query(engine, TENANT, time_zone=TZ, from_ms=BASE - 10 * 3_600_000,
                                          to_ms=BASE + 14 * 3_600_000, interval="day", wait_s=10.0)
        (row,) = report.rows
        return row.csat_count, row.csat_positive, row.csat

    before = day_csat()
    unsurveyed = next(r for r in marked_records() if r.csat is None and r.connected_at is not None
                      and deps.history.get_entry(TENANT, r.contact_id).csat is None)
    deps.history.put_survey(TENANT, unsurveyed.contact_id, Survey(csat=1, submitted_at=END + 86_400_000))
    assert day_csat() == before  # the lake does not know yet
    con = local_lake.duckdb.connect()
    local_lake.reexport_days(con, lake_dir, deps.history, tenant_id=TENANT, tz=TZ, first_day=DAY, last_day=DAY,
                             settings=SETTINGS)
    after = day_csat()
    assert after[0] == before[0] + 1 and after[1] == before[1]
    assert after[2] == pytest.approx(before[1] / (before[0] + 1)) and after[2] < before[2]
    fast = history.historical_metrics(deps, TENANT, start=_at(BASE - 10 * 3_600_000), end=_at(BASE + 14 * 3_600_000),
                                      interval="day")
    assert fast.rows[0].csat_count == after[0] and fast.rows[0].csat == pytest.approx(after[2])
    partitions = list((lake_dir / "contact_records").glob("tenant_id=*/day=*"))
    assert [p.name for p in partitions] == [f"day={DAY}"]  # rewritten in place, not a second copy
    # one file read: the one it replaced stays on disk a while for queries already reading it (RETIRED_KEEP_S)
    assert [f.parent.name for f in local_lake.readable_files(lake_dir)["contact_records"]] == [f"day={DAY}"]


def test_appended_snapshots_of_a_contact_count_once_the_latest_winning(tmp_path):
    """AWS appends (Firehose): a late survey adds a second row of the contact to its day; the query keeps
    the latest snapshot, so the day's CSAT changes and nothing is counted twice."""
    from ccaas.domain.kpis.intervals import TenantCalendar

    calendar = TenantCalendar(TZ)
    records = marked_records()
    target = next(r for r in records if r.csat is None and r.connected_at is not None)
    con = local_lake.duckdb.connect()
    local_lake.export_records(con, tmp_path, tenant_id=TENANT, tz=TZ, records=records, first_day=DAY, last_day=DAY,
                              settings=SETTINGS)
    engine = DuckDbLakeQueries(tmp_path)
    try:
        def day() -> Any:
            report = lake_history.start_query(engine, TENANT, time_zone=TZ, from_ms=BASE - 10 * 3_600_000,
                                              to_ms=BASE + 14 * 3_600_000, interval="day", wait_s=10.0)
            return report.rows[0]

        before = day()
        late = lake.contact_record_rows([target.model_copy(update={"csat": 1})], calendar, exported_at=END + 1)
        local_lake.write_table(con, lake.TABLES["contact_records"], late, tmp_path / "appended")
        appended = tmp_path / "contact_records" / f"tenant_id={TENANT}" / f"day={DAY}"
        for part in (tmp_path / "appended" / "contact_records").rglob("*.parquet"):
            part.rename(appended / f"late-{part.name}")  # a second file in the same partition, as Firehose adds
        assert len(list(appended.glob("*.parquet"))) == 2
        after = day()
        assert after.offered == before.offered and after.handled == before.handled
        assert after.csat_count == before.csat_count + 1 and after.csat_positive == before.csat_positive
    finally:
        engine.close()


# --- export to the lake ------------------------------------------------------------------------------
def test_stored_versions_and_late_surveys_are_exported_as_snapshots(deps):
    from ccaas.ports_lake import install_export

    export = RecordingExport()
    previous = install_export(export)
    try:
        record = marked_records()[0]
        newer = record.model_copy(update={"contact_id": "late-1", "last_updated_at": record.last_updated_at + 1})
        assert history.store_record(deps, newer) is True
        first = [(t, r["contact_id"], r["day"], r["tenant_id"]) for t, r in export.rows]
        assert first[0] == ("contact_records", "late-1", DAY, TENANT)
        assert len(first) > 1 and all(t == "contact_records" for t, *_ in first)  # its repeat flags moved others'
        n = len(first)
        assert export.rows[0][1]["exported_at"] == deps.clock.now_ms()
        assert set(export.rows[0][1]) == {c.name for c in lake.TABLES["contact_records"].all_columns}
        deps.clock.now += 1000
        deps.history.put_survey(TENANT, "late-1", Survey(csat=5, submitted_at=deps.clock.now))
        assert lake_history.export_contacts(deps, TENANT, ["late-1", "unknown"]) == 1
        assert export.rows[-1][1]["csat"] == 5 and export.rows[-1][1]["exported_at"] > export.rows[0][1]["exported_at"]
        assert history.store_record(deps, newer) is False  # a repeated delivery: exported again, deduplicated by queries
        # with the customer's FCR window: the first delivery's export of the neighbours it moved may be what failed
        again = [r["contact_id"] for _, r in export.rows[n + 1:]]
        assert again[0] == "late-1" and set(again) >= {c for _, c, *_ in first} and len(again) == len(set(again))
    finally:
        install_export(previous)
    assert lake_history.export_contacts(deps, TENANT, ["late-1"]) == 0  # no lake: nothing to do


class StubFirehose:
    def __init__(self, refuse: list[int]) -> None:
        self.refuse, self.calls = refuse, []

    def put_record_batch(self, DeliveryStreamName: str, Records: list) -> dict:  # noqa: N803
        self.calls.append((DeliveryStreamName, len(Records)))
        refused = self.refuse.pop(0) if self.refuse else 0
        return {"FailedPutCount": refused,
                "RequestResponses": [{"ErrorCode": "ServiceUnavailableException"} if i < refused else {"RecordId": "r"}
                                     for i in range(len(Records))]}


def test_firehose_export_batches_retries_refused_records_and_raises_when_they_stay_refused():
    from ccaas.adapters.aws.lake import FirehoseLakeExport, export_from_environment
    from ccaas.ports_lake import LakeExportFailed

    rows = [{"tenant_id": "t", "day": DAY, "contact_id": f"c{i}"} for i in range(1200)]
    client = StubFirehose(refuse=[0, 7, 0, 0])
    FirehoseLakeExport(client, {"contact_records": "s"}, sleep=lambda s: None).put_rows("contact_records", rows)
    assert client.calls == [("s", 500), ("s", 500), ("s", 7), ("s", 200)]  # 7 refused, sent again
    stuck = StubFirehose(refuse=[3, 3, 3])
    with pytest.raises(LakeExportFailed, match="3 contact_records row"):
        FirehoseLakeExport(stuck, {"contact_records": "s"}, sleep=lambda s: None).put_rows("contact_records", rows[:10])
    with pytest.raises(LakeExportFailed):
        FirehoseLakeExport(client, {}).put_rows("contact_records", rows[:1])
    assert export_from_environment({}) is None
    assert export_from_environment({"LAKE_CONTACT_RECORDS_STREAM": "s1"}).streams == {"contact_records": "s1"}


@pytest.fixture(scope="module")
def lake_con(lake_dir):
    """One connection over the shared lake for the tests that only query it (a connection is ~50 ms of CPU)."""
    con = local_lake.connect(lake_dir, local_lake.duckdb.connect(config={"threads": 1}))
    yield con
    con.close()


@pytest.mark.parametrize("interval", ["15m", "hour", "day", "week"])
@pytest.mark.parametrize("group_by", [(), ("queue",), ("agent",), ("reason", "channel")])
def test_the_api_query_returns_exactly_the_conformance_checked_view_rows(lake_con, interval, group_by):
    """kpi_query (one statement, tenant-bound scans, latest snapshots, parameters) = local.lake.kpi_rows (the
    views the conformance suite holds equal to the Python roll-up), row for row."""
    con = lake_con
    want = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=BASE, to_ms=END, interval=interval, group_by=group_by)
    query = lake.kpi_query(tenant_id=TENANT, from_ms=BASE, to_ms=END, interval=interval, group_by=group_by,
                           scan_days=("2026-11-19", DAY))
    cursor = con.execute(query.sql, list(query.parameters))
    names = [d[0] for d in cursor.description]
    got, facts = lake.kpi_answer([dict(zip(names, row)) for row in cursor.fetchall()])
    assert got == want and len(got) > 0 and facts == lake.RangeFacts(contacts=True, agent_activity=True)
