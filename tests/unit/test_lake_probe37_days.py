"""A day's export rewrites that day's export only (outside probe 37 of the analytics lake).

A contact beginning Oct 30 and handled Nov 1 has a completion copy filed under Nov 1; an agent span from Oct 31
23:30 to Nov 1 00:30 has a piece there. Re-exporting Oct 30 used to replace Nov 1's whole partition with that
one copy row (the lake's Nov 1: offered 0, handled 2, where History said 106 and 85), and re-exporting Nov 1
dropped the copy. Each export now owns the files it writes: its copy rows survive the other day's export and
are replaced by its own day's. Also here: the calendar of a day no contact began on (a call of 23:50 handled
at 00:06 counted in no day), and on AWS, where snapshots are appended, an older snapshot's copy left in a
day the contact no longer completes on."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ccaas.domain import lake
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.records import AgentActivity, ContactRecord
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.vocabulary import ActivityKind
from local import lake as local_lake

TZ = "America/New_York"
TENANT = "nyc"
CALENDAR = TenantCalendar(TZ)
MINUTE = 60_000


def _ms(day: str, hh: int, mm: int = 0) -> int:
    local = datetime.fromisoformat(day).replace(hour=hh, minute=mm, tzinfo=ZoneInfo(TZ))
    return int(local.timestamp() * 1000)


def _call(contact_id: str, start: int, handled_at: int) -> ContactRecord:
    """Answered after a minute, in ACW for a minute before `handled_at` (its completion)."""
    return ContactRecord(tenant_id=TENANT, contact_id=contact_id, channel="EMAIL", queue_id="mail", agent_id="bob",
                         initiated_at=start, enqueued_at=start + 10_000, connected_at=start + MINUTE,
                         disconnected_at=handled_at - MINUTE, acw_ended_at=handled_at, final_state="COMPLETED",
                         last_updated_at=handled_at + MINUTE)


def _span(start: int, end: int) -> AgentActivity:
    return AgentActivity(agent_id="bob", tenant_id=TENANT, start_ms=start, end_ms=end, kind=ActivityKind.AVAILABLE_IDLE)


def _export(out, day: str, records=(), activities=()) -> None:  # noqa: ANN001
    """What the local runtime's lake does when `day` is marked: the day's contacts and spans written again."""
    local_lake.export_records(local_lake.duckdb.connect(), out, tenant_id=TENANT, tz=TZ, records=records,
                              activities=activities, first_day=day, last_day=day)


def _day(out, day: str) -> dict[str, int]:  # noqa: ANN001
    """The lake's figures of one local day, read as the API reads a range (its day and the one before)."""
    scan = ((date.fromisoformat(day) - timedelta(days=1)).isoformat(), day)
    con = local_lake.connect(out)
    lo, hi = lake.day_range_ms(CALENDAR, day, day)
    (row,) = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=lo, to_ms=hi, interval="day", scan_days=scan)
    return {k: int(row[k]) for k in ("offered", "handled", "staffed_ms")}


def test_re_exporting_a_day_keeps_a_later_days_contacts_and_its_own_copies_move_with_it(tmp_path):
    long_one = _call("long", _ms("2026-10-30", 11), _ms("2026-11-01", 10))  # a copy filed under Nov 1
    late_span = _span(_ms("2026-10-31", 23, 30), _ms("2026-11-01", 0, 30))  # 30 minutes of it on Nov 1
    nov_1 = [_call(f"n{i}", _ms("2026-11-01", 9 + i), _ms("2026-11-01", 9 + i, 20)) for i in range(3)]
    nov_1_span = _span(_ms("2026-11-01", 9), _ms("2026-11-01", 12))
    _export(tmp_path, "2026-11-01", nov_1, [nov_1_span])
    _export(tmp_path, "2026-10-31", activities=[late_span])
    _export(tmp_path, "2026-10-30", [long_one])
    whole = {"offered": 3, "handled": 4, "staffed_ms": 3 * 60 * MINUTE + 30 * MINUTE}
    assert _day(tmp_path, "2026-11-01") == whole

    # Oct 30 and Oct 31 exported again (a new contact on Oct 30, a late survey…): Nov 1 keeps its own rows.
    _export(tmp_path, "2026-10-30", [long_one, _call("new", _ms("2026-10-30", 15), _ms("2026-10-30", 15, 30))])
    _export(tmp_path, "2026-10-31", activities=[late_span])
    assert _day(tmp_path, "2026-11-01") == whole
    # Nov 1 exported again: the copy and the span's piece Oct 30 and Oct 31 wrote there stay.
    _export(tmp_path, "2026-11-01", nov_1, [nov_1_span])
    assert _day(tmp_path, "2026-11-01") == whole

    # A newer version of the long contact (handled on Nov 2): its own day's export moves its copy there.
    moved = _call("long", _ms("2026-10-30", 11), _ms("2026-11-02", 10))
    _export(tmp_path, "2026-10-30", [moved, _call("new", _ms("2026-10-30", 15), _ms("2026-10-30", 15, 30))])
    assert _day(tmp_path, "2026-11-01") == {**whole, "handled": 3}
    assert _day(tmp_path, "2026-11-02")["handled"] == 1


def test_a_contact_handled_past_midnight_counts_on_a_day_no_contact_began_on(tmp_path):
    """23:50 to 00:06: exported with its own day (the calendar of the next day written with it), it counts in
    the next day's handled, as in History."""
    midnight = _call("midnight", _ms("2026-11-05", 23, 50), _ms("2026-11-06", 0, 7))
    _export(tmp_path, "2026-11-05", [midnight])
    assert _day(tmp_path, "2026-11-06") == {"offered": 0, "handled": 1, "staffed_ms": 0}


def _append_like_firehose(con, rows, lake_dir) -> None:  # noqa: ANN001
    """Rows added to their partitions beside what is there, as Firehose appends them on AWS."""
    staged = lake_dir.parent / f"{lake_dir.name}-appended"
    local_lake.write_table(con, lake.TABLES["contact_records"], rows, staged)
    for file in (staged / "contact_records").rglob("*.parquet"):
        target = lake_dir / file.relative_to(staged).parent
        target.mkdir(parents=True, exist_ok=True)
        file.rename(target / f"firehose-{file.name}")


def test_an_older_snapshots_copy_in_another_day_counts_nowhere_on_aws(tmp_path):
    """On AWS snapshots are appended (Firehose): a snapshot that said the contact completed on Nov 1 left a copy
    there; a newer one (completed Nov 2) has its copy on Nov 2. The API's query keeps each contact's latest
    snapshot across the days it reads, so the stale copy is not counted (it was, as a second handled)."""
    first = _call("long", _ms("2026-10-30", 11), _ms("2026-11-01", 10))
    newer = _call("long", _ms("2026-10-30", 11), _ms("2026-11-02", 10))
    out = tmp_path / "lake"
    con = local_lake.duckdb.connect()
    _append_like_firehose(con, lake.contact_record_rows([first], CALENDAR, exported_at=1), out)
    _append_like_firehose(con, lake.contact_record_rows([newer], CALENDAR, exported_at=2), out)
    lo, hi = lake.day_range_ms(CALENDAR, "2026-10-30", "2026-11-02")
    local_lake.write_table(con, lake.TABLES["lake_intervals"], lake.interval_rows(TENANT, CALENDAR, lo, hi), out)
    local_lake.write_table(con, lake.TABLES["tenant_settings"], [lake.settings_row(TENANT, TZ, KpiSettings())], out)
    local_lake.connect(out, con)
    query = lake.kpi_query(tenant_id=TENANT, from_ms=lo, to_ms=hi, interval="day",
                           scan_days=("2026-10-29", "2026-11-02"))
    cursor = con.execute(query.sql, list(query.parameters))
    rows = [dict(zip([d[0] for d in cursor.description], r)) for r in cursor.fetchall()]
    assert {r["interval_start"][:10]: int(r["handled"]) for r in rows} == {
        "2026-10-30": 0, "2026-10-31": 0, "2026-11-01": 0, "2026-11-02": 1}
