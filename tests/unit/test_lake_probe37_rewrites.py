"""Lake reports while the local lake rewrites a day (outside probe 37 of the analytics lake).

A rewrite removed the day's partition folders and only then wrote the new files: a report in between came back
200 with zeros ("no contacts in this range"), with part of the range (offered 11379 of 11713), or as a 422
`lake_query_failed` whose message carried the server's path and DuckDB's text ("IOException: Cannot open file
\"/tmp/ccaas-local/lake-…/tenant_settings/…parquet\""). A reader now takes the files of one commit; one that
still loses its files gets a retryable 503 lake_busy; no error message names a path or the engine's text."""
from __future__ import annotations

import threading
import pytest

from ccaas.domain import lake
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.ports_lake import LakeExportFailed
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from local.lake_reference import LocalLakeReferenceData
from tests.unit.test_kpis import SETTINGS, TENANT, TZ, fixture_activities, marked_records

DAY = "2026-11-20"
FROM_MS, TO_MS = lake.day_range_ms(TenantCalendar(TZ), DAY, DAY)


def _export(con, out) -> None:  # noqa: ANN001
    local_lake.export_records(con, out, tenant_id=TENANT, tz=TZ, records=marked_records(),
                              activities=fixture_activities(), first_day=DAY, last_day=DAY, settings=SETTINGS)


def _outcome(engine: DuckDbLakeQueries) -> tuple:
    try:
        report = lake_history.start_query(engine, TENANT, time_zone=TZ, from_ms=FROM_MS, to_ms=TO_MS, interval="day",
                                          wait_s=30.0)
    except (lake_history.LakeBusy, lake_history.LakeQueryFailed) as error:
        return ("error", type(error).__name__, str(error))
    (row,) = report.rows
    return ("ok", row.offered, row.handled, row.staffed_ms, report.warnings)


def test_reports_during_rewrites_of_their_day_count_the_whole_day_every_time(tmp_path):
    con = local_lake.duckdb.connect()
    _export(con, tmp_path)
    engine = DuckDbLakeQueries(tmp_path, workers=2)
    try:
        whole = _outcome(engine)
        assert whole[0] == "ok" and whole[1] == 12 and whole[3] > 0, whole
        rewrites, stop = [], threading.Event()

        def rewrite() -> None:  # the local runtime's export loop, rewriting the day again and again
            writer = local_lake.duckdb.connect(config={"threads": 1})
            while not stop.wait(0.01):  # a breath between rewrites: the suite's other workers share the cores
                _export(writer, tmp_path)
                rewrites.append(1)

        seen: list[tuple] = []

        def report() -> None:
            for _ in range(4):
                seen.append(_outcome(engine))

        writer = threading.Thread(target=rewrite)
        readers = [threading.Thread(target=report) for _ in range(2)]
        writer.start()
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        stop.set()
        writer.join()
    finally:
        engine.close()
    assert len(rewrites) >= 2 and seen == [whole] * 8, [s for s in seen if s != whole][:3]


def test_a_query_whose_files_are_gone_is_lake_busy_and_no_failure_names_a_path(tmp_path):
    con = local_lake.duckdb.connect()
    _export(con, tmp_path)
    partition = tmp_path / "contact_records" / f"tenant_id={TENANT}" / f"day={DAY}"
    engine = DuckDbLakeQueries(tmp_path)
    try:
        # a file that is no Parquet: the engine fails the query, and the 422 says what kind of failure it was
        broken = partition / "broken.parquet"
        broken.write_text("not parquet", encoding="utf-8")
        kind, name, message = _outcome(engine)
        assert (kind, name) == ("error", "LakeQueryFailed") and "could not run the query" in message, message
        assert str(tmp_path) not in message and "parquet" not in message.lower(), message
        broken.unlink()
        # a file the query read gone under it (a rewrite's old file deleted while the query ran): 503, ask again
        next(partition.glob("*.parquet")).unlink()
        kind, name, message = _outcome(engine)
        assert (kind, name) == ("error", "LakeBusy") and "ask for the report again" in message, message
        assert str(tmp_path) not in message and "IOException" not in message, message
    finally:
        engine.close()


def test_the_local_reference_writer_names_the_kind_of_a_failure_not_its_path(tmp_path):
    not_a_folder = tmp_path / "lake"
    not_a_folder.write_text("a file where the lake folder should be", encoding="utf-8")
    writer = LocalLakeReferenceData(not_a_folder)
    with pytest.raises(LakeExportFailed) as refused:
        writer.put_settings(TENANT, lake.settings_row(TENANT, TZ, KpiSettings()))
    assert str(refused.value).startswith(f"could not write the settings of tenant {TENANT} (")
    assert str(tmp_path) not in str(refused.value), refused.value


def test_a_file_no_export_wrote_is_read_as_found_and_a_replaced_file_no_more(tmp_path):
    """A file appended by hand (as Firehose appends on AWS) is read; a file an export replaced is not, though it
    stays on disk for the queries already reading it."""
    con = local_lake.duckdb.connect()
    _export(con, tmp_path)
    (first,) = local_lake.readable_files(tmp_path)["contact_records"]
    _export(con, tmp_path)
    (second,) = local_lake.readable_files(tmp_path)["contact_records"]
    assert second != first and first.exists()
    appended = second.parent / "firehose-1.parquet"
    appended.write_bytes(second.read_bytes())
    assert sorted(local_lake.readable_files(tmp_path)["contact_records"]) == sorted([second, appended])
