"""The lake's tables, rows and SQL text (ccaas.domain.lake) and the local CLI over a lake (local.lake)."""
from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest

from ccaas.domain import lake
from ccaas.domain.history import AnalysisSummary, HistoryEntry
from ccaas.domain.kpis import ActivityKind, AgentActivity, ContactRecord, KpiSettings
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.intervals import TenantCalendar
from local import lake as local_lake
from tests.unit.test_kpis import SETTINGS, TENANT, TZ, fixture_activities, fixture_records, marked_records

CAL = TenantCalendar(TZ)


# --- tables ----------------------------------------------------------------------------------------
def test_contact_records_carry_every_record_field_a_kpi_reads():
    columns = set(lake.TABLES["contact_records"].column_names)
    assert set(ContactRecord.model_fields) - {"tenant_id"} <= columns
    assert {"arrival_quarter_ms", "completion_quarter_ms", "evaluation_tenths"} <= columns
    assert lake.TABLES["contact_records"].partition_by == ("tenant_id", "day")


def test_every_table_maps_to_both_engines_and_is_partitioned_by_tenant():
    for table in lake.TABLES.values():
        assert table.partition_by[0] == "tenant_id"
        names = [c.name for c in table.all_columns]
        assert len(names) == len(set(names)), table.name
        for column in table.all_columns:
            assert column.duckdb_type and column.glue_type


def test_transcript_analyses_hold_summary_fields_only_never_text():
    columns = set(lake.TABLES["transcript_analyses"].column_names)
    assert columns <= set(AnalysisSummary.model_fields) | {"contact_id"}
    assert not {"text", "transcript", "comment", "messages"} & columns
    assert "comment" not in lake.TABLES["surveys"].column_names


def test_contact_record_rows_are_flat_latest_and_bucketed_in_the_tenant_calendar():
    records = fixture_records()
    old = records[0].model_copy(update={"last_updated_at": records[0].last_updated_at - 1, "csat": 1})
    rows = lake.contact_record_rows([old, *records, records[0]], CAL)
    assert len(rows) == len(records)
    c1 = next(r for r in rows if r["contact_id"] == "C1")
    assert c1["csat"] == 5 and c1["channel"] == "VOICE" and c1["final_state"] == "COMPLETED"
    assert c1["arrival_quarter_ms"] == CAL.quarter_start(records[0].enqueued_at)
    assert c1["completion_quarter_ms"] == CAL.quarter_start(records[0].acw_ended_at)
    assert c1["day"] == "2026-11-20" and c1["tenant_id"] == TENANT
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in c1.values())


def test_evaluation_tenths_round_as_the_python_accumulator_does():
    rec = fixture_records()[0].model_copy(update={"evaluation_score": 72.25})
    (row,) = lake.contact_record_rows([rec], CAL)
    assert row["evaluation_tenths"] == round(72.25 * 10) == 722  # half to even, not SQL's half up


def test_activity_rows_apply_slot_defaults_and_bind_the_tenant():
    rows = lake.agent_activity_rows(TENANT, fixture_activities(), CAL)
    idle = next(r for r in rows if r["kind"] == "AVAILABLE_IDLE")
    assert (idle["slots_busy"], idle["slots_available"]) == (0, 1)
    with pytest.raises(ValueError, match="tenant"):
        lake.agent_activity_rows("other", [AgentActivity(agent_id="x", tenant_id=TENANT, start_ms=0, end_ms=1,
                                                         kind=ActivityKind.ACW)], CAL)


def test_interval_rows_cover_a_dst_day_with_100_quarters_and_two_1am_hours():
    lo, hi = lake.day_range_ms(CAL, "2026-11-01", "2026-11-01")
    rows = lake.interval_rows("t", CAL, lo, hi)
    assert len(rows) == 100
    hours = sorted({r["hour_start_label"] for r in rows})
    assert "2026-11-01T01:00:00-04:00" in hours and "2026-11-01T01:00:00-05:00" in hours
    assert {r["day_start_label"] for r in rows} == {"2026-11-01T00:00:00-04:00"}


def test_survey_and_analysis_rows_come_from_history_entries():
    rec = fixture_records()[0]
    summary = AnalysisSummary(qa_score=80.0, categories=("billing",), reason="billing", analyzed_at=5)
    entries = [HistoryEntry(tenant_id=TENANT, contact_id="C1", record=rec, csat=4, analysis=summary),
               HistoryEntry(tenant_id=TENANT, contact_id="C2", csat=3)]  # no record yet: not exported
    (survey,) = lake.survey_rows(entries, CAL)
    assert survey["csat"] == 4 and survey["day"] == "2026-11-20"
    (analysis,) = lake.analysis_rows(entries, CAL)
    assert analysis["qa_score"] == 80.0 and analysis["categories"] == ["billing"]


# --- SQL text --------------------------------------------------------------------------------------
def test_every_view_file_defines_its_own_view_and_only_table_names_are_parameters():
    for view in lake.KPI_VIEWS:
        sql = lake.view_sql(view)
        assert re.search(rf"CREATE OR REPLACE VIEW {view} AS", sql)
        renamed = lake.view_sql(view, {"contact_records": "ccaas_lake.contact_records"})
        if "contact_records" in sql:
            assert "ccaas_lake.contact_records" in renamed


def test_view_sql_avoids_engine_specific_syntax():
    for view in lake.KPI_VIEWS:
        sql = lake.view_sql(view)  # keywords are upper case, names lower case
        for duckdb_only in ("::", "EXCLUDE", "BY NAME", "QUALIFY", "epoch_ms", "time_bucket", " // ", " IF(",
                            "AT TIME ZONE", "strftime", "date_trunc"):
            assert duckdb_only not in sql, (view, duckdb_only)


def test_kpi_sums_sql_binds_the_tenant_and_validates_its_inputs():
    sql = lake.kpi_sums_sql(tenant_id="demo", from_ms=0, to_ms=10, group_by=("queue",))
    assert sql.count("'demo'") >= 2
    with pytest.raises(ValueError):
        lake.kpi_sums_sql(tenant_id="x' OR '1'='1", from_ms=0, to_ms=1)
    with pytest.raises(ValueError):  # a pattern's `$` under re.match took a line break after the id
        lake.kpi_sums_sql(tenant_id="demo\n", from_ms=0, to_ms=1)
    with pytest.raises(ValueError):
        lake.kpi_sums_sql(tenant_id="demo", from_ms=0, to_ms=1, group_by=("nope",))
    with pytest.raises(ValueError):
        lake.kpi_sums_sql(tenant_id="demo", from_ms=0, to_ms=1, interval="month")
    with pytest.raises(ValueError):
        lake.view_sql("kpi_rows", {"kpi_sums": "x; DROP TABLE y"})


def test_kpi_cells_columns_are_the_accumulator_fields_in_order(tmp_path):
    con = local_lake.connect(tmp_path)  # an empty lake: typed empty views
    names = [row[0] for row in con.execute("DESCRIBE kpi_cells").fetchall()]
    assert names[:6] == ["tenant_id", "quarter_start_ms", "day", "from_activity", "span_start_ms", "span_end_ms"]
    assert names[13:] == list(ACCUMULATOR_FIELDS)


def test_kpi_cells_projection_is_written_once_and_each_counter_has_exactly_one_source(tmp_path):
    text = (Path(lake.__file__).parent / "lake_sql" / "kpi_cells.sql").read_text()
    assert text.count("SELECT") == 1 and "UNION" not in text.split("CREATE")[1]
    produced = [c for src in lake.CELL_SOURCES for c in src.counters]
    assert sorted(produced) == sorted(ACCUMULATOR_FIELDS)  # every counter, none twice
    con = local_lake.connect(tmp_path)
    for src in lake.CELL_SOURCES:  # the declaration matches the source view's real columns
        columns = {row[0] for row in con.execute(f"DESCRIBE {src.view}").fetchall()}
        assert set(src.counters) <= columns, src.view
        assert not (set(ACCUMULATOR_FIELDS) - set(src.counters)) & columns, src.view
        assert set(src.dimensions) <= columns, src.view
    sql = lake.view_sql("kpi_cells").split("CREATE OR REPLACE VIEW")[1]
    assert sql.count("UNION ALL") == len(lake.CELL_SOURCES) - 1 and "<" not in sql


# --- CLI -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lake")
    con = local_lake.duckdb.connect()
    local_lake.export_records(con, out, tenant_id=TENANT, tz=TZ, records=marked_records(),
                              activities=fixture_activities(), first_day="2026-11-20", last_day="2026-11-20",
                              settings=SETTINGS)
    return out


def test_export_writes_hive_partitions(lake_dir):
    files = sorted(p.relative_to(lake_dir).parts[:3] for p in lake_dir.rglob("*.parquet"))
    assert ("contact_records", f"tenant_id={TENANT}", "day=2026-11-20") in files
    assert ("tenant_settings", f"tenant_id={TENANT}") in {f[:2] for f in files}


def test_cli_query_prints_a_table(lake_dir):
    out = io.StringIO()
    code = local_lake.main(["query", "--lake", str(lake_dir),
                            "select tenant_id, day, count(*) as n from contact_records group by 1, 2"], out=out)
    assert code == 0
    text = out.getvalue()
    assert "tenant_id" in text and "2026-11-20" in text and " 12" in text and "(1 rows)" in text


def test_cli_kpis_by_queue(lake_dir):
    out = io.StringIO()
    code = local_lake.main(["kpis", "--lake", str(lake_dir), "--tenant", TENANT, "--from", "2026-11-20",
                            "--to", "2026-11-21", "--interval", "day", "--group-by", "queue"], out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["interval_start", "queue", "offered"]
    assert any(line.split()[1:3] == ["q-sales", "7"] for line in lines[2:-1])
    assert lines[-1] == "(2 rows)"


@pytest.mark.parametrize(("argv", "message"), [
    (["kpis", "--lake", "/nonexistent/lake", "--tenant", "x", "--from", "2026-01-01", "--to", "2026-01-02"],
     "no such folder"),
    (["query", "--lake", "{lake}", "select nope from nowhere"], "SQL:"),
    (["kpis", "--lake", "{lake}", "--tenant", "ghost", "--from", "2026-11-20", "--to", "2026-11-21"], "not in the lake"),
    (["kpis", "--lake", "{lake}", "--tenant", TENANT, "--from", "2026-11-20", "--to", "2026-11-21",
      "--group-by", "planet"], "unknown dimension"),
    (["kpis", "--lake", "{lake}", "--tenant", TENANT, "--from", "2026-11-21", "--to", "2026-11-20"], "before"),
    (["export", "--out", "{lake}", "--endpoint", "http://127.0.0.1:9"], "needs --table"),
])
def test_cli_errors_are_one_line_with_exit_code_2(lake_dir, capsys, argv, message):
    argv = [a.replace("{lake}", str(lake_dir)) for a in argv]
    code = local_lake.main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("python -m local.lake: error:") and message in err


def test_cli_unreachable_endpoint_is_a_one_line_failure(tmp_path, capsys):
    code = local_lake.main(["export", "--out", str(tmp_path), "--endpoint", "http://127.0.0.1:9", "--table", "h",
                            "--from", "2026-11-01", "--to", "2026-11-02"], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "could not read History" in err


def test_export_from_a_memory_history_store_matches_the_records(tmp_path):
    from ccaas.adapters.memory.history import MemoryHistoryStore, MemoryHistoryTable

    store = MemoryHistoryStore(MemoryHistoryTable())
    for rec in fixture_records():
        store.put_record(rec)
    lo, hi = lake.day_range_ms(CAL, "2026-11-20", "2026-11-20")
    entries, activities = local_lake.history_from_store(store, TENANT, lo, hi)
    assert len(entries) == 12
    con = local_lake.duckdb.connect()
    report = local_lake.export_tenant(con, tmp_path, tenant_id=TENANT, tz=TZ, entries=entries,
                                      activities=activities, first_day="2026-11-20", last_day="2026-11-20")
    assert report.rows["contact_records"] == 12 and report.rows["lake_intervals"] == 96
    local_lake.connect(tmp_path, con)
    (row,) = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=lo, to_ms=hi, interval="day")
    assert row["offered"] == 12 and row["handled"] == 8
    assert date.fromisoformat(row["interval_start"][:10]) == date(2026, 11, 20)
    assert KpiSettings().short_abandon_s * 1000 == con.execute(
        "select short_abandon_ms from tenant_settings").fetchone()[0]
