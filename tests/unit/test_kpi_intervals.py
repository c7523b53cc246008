"""Intervals in the tenant's time zone: DST days, boundaries, hours, days and ISO weeks."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from ccaas.domain.kpis import Channel, ContactRecord, FinalState, KpiLedger, TenantCalendar, rollup

NY = "America/New_York"


def utc_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def abandoned(cid: str, enqueued_at: int, tenant: str = "t1") -> ContactRecord:
    return ContactRecord(tenant_id=tenant, contact_id=cid, channel=Channel.VOICE, queue_id="q",
                         enqueued_at=enqueued_at, disconnected_at=enqueued_at + 30_000,
                         final_state=FinalState.ABANDONED)


def local_day(tz: str, day: date) -> tuple[int, int]:
    calendar = TenantCalendar(tz)
    start = calendar.day_start(day)
    return start, calendar.next_interval_start(start, "day")


@pytest.mark.parametrize(
    ("day", "quarters", "hours"),
    [
        (date(2026, 3, 8), 92, 23),  # spring forward: 02:00–03:00 does not exist
        (date(2026, 11, 1), 100, 25),  # fall back: 01:00–02:00 happens twice
        (date(2026, 11, 20), 96, 24),
    ],
)
def test_dst_days_have_92_or_100_quarter_hours(day, quarters, hours):
    start, end = local_day(NY, day)
    assert (end - start) // 900_000 == quarters
    assert len(rollup([], tz=NY, interval="15m", from_ms=start, to_ms=end)) == quarters
    assert len(rollup([], tz=NY, interval="hour", from_ms=start, to_ms=end)) == hours
    assert len(rollup([], tz=NY, interval="day", from_ms=start, to_ms=end)) == 1


def test_spring_forward_labels_skip_the_missing_hour():
    start, end = local_day(NY, date(2026, 3, 8))
    labels = [r.interval_start for r in rollup([], tz=NY, interval="hour", from_ms=start, to_ms=end)]
    assert labels[:3] == ["2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]


def test_fall_back_repeated_hour_is_two_intervals():
    # 01:30 EDT = 05:30Z and 01:30 EST = 06:30Z: same wall clock, different intervals.
    records = [abandoned("first", utc_ms(2026, 11, 1, 5, 30)), abandoned("second", utc_ms(2026, 11, 1, 6, 30))]
    start, end = local_day(NY, date(2026, 11, 1))
    hours = {r.interval_start: r.offered for r in rollup(records, tz=NY, interval="hour", from_ms=start, to_ms=end)}
    assert hours["2026-11-01T01:00:00-04:00"] == 1
    assert hours["2026-11-01T01:00:00-05:00"] == 1
    quarters = rollup(records, tz=NY, interval="15m", from_ms=start, to_ms=end)
    assert [r.interval_start for r in quarters if r.offered] == [
        "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"]
    (day,) = rollup(records, tz=NY, interval="day", from_ms=start, to_ms=end)
    assert day.offered == 2 and day.interval_end == "2026-11-02T00:00:00-05:00"


def test_enqueued_one_ms_before_the_boundary_counts_in_the_earlier_interval():
    ten_fifteen = utc_ms(2026, 11, 20, 15, 15)  # 10:15:00.000 EST
    records = [abandoned("early", ten_fifteen - 1), abandoned("on_time", ten_fifteen)]
    rows = rollup(records, tz=NY, interval="15m", from_ms=ten_fifteen - 900_000, to_ms=ten_fifteen + 900_000)
    assert [(r.interval_start, r.offered) for r in rows] == [
        ("2026-11-20T10:00:00-05:00", 1),  # 10:14:59.999
        ("2026-11-20T10:15:00-05:00", 1),  # 10:15:00.000
    ]


def test_day_follows_the_tenant_clock_not_utc():
    # 2026-11-21T03:00Z is 22:00 on the 20th in New York.
    late_evening = abandoned("c", utc_ms(2026, 11, 21, 3, 0))
    start, _ = local_day(NY, date(2026, 11, 20))
    (row,) = rollup([late_evening], tz=NY, interval="day", from_ms=start, to_ms=start + 86_400_000)
    assert row.interval_start == "2026-11-20T00:00:00-05:00" and row.offered == 1


def test_week_starts_monday_in_the_tenant_time_zone():
    # Sunday 2026-11-22 23:30 EST = Monday 04:30Z: still the week of Monday 2026-11-16 locally.
    sunday_night = abandoned("c", utc_ms(2026, 11, 23, 4, 30))
    (row,) = rollup([sunday_night], tz=NY, interval="week",
                    from_ms=utc_ms(2026, 11, 23, 4), to_ms=utc_ms(2026, 11, 23, 5))
    assert row.interval_start == "2026-11-16T00:00:00-05:00" and row.interval_end == "2026-11-23T00:00:00-05:00"


def test_week_across_the_fall_back_change():
    calendar = TenantCalendar(NY)
    week = calendar.interval_start(calendar.quarter_start(utc_ms(2026, 11, 1, 12)), "week")
    assert calendar.iso(week) == "2026-10-26T00:00:00-04:00"
    assert calendar.iso(calendar.next_interval_start(week, "week")) == "2026-11-02T00:00:00-05:00"
    # 7 × 24 h + the repeated hour
    assert calendar.next_interval_start(week, "week") - week == (7 * 24 + 1) * 3_600_000


@pytest.mark.parametrize(
    ("tz", "utc", "quarter", "hour"),
    [
        # +05:30: local hours start at :30 UTC
        ("Asia/Kolkata", (2026, 11, 20, 5, 10), "2026-11-20T10:30:00+05:30", "2026-11-20T10:00:00+05:30"),
        # +05:45: quarter-hours are still whole quarters of UTC
        ("Asia/Kathmandu", (2026, 11, 20, 4, 29), "2026-11-20T10:00:00+05:45", "2026-11-20T10:00:00+05:45"),
        ("UTC", (2026, 11, 20, 10, 59), "2026-11-20T10:45:00+00:00", "2026-11-20T10:00:00+00:00"),
    ],
)
def test_offsets_that_are_not_whole_hours(tz, utc, quarter, hour):
    calendar = TenantCalendar(tz)
    q = calendar.quarter_start(utc_ms(*utc))
    assert calendar.iso(q) == quarter
    assert calendar.iso(calendar.interval_start(q, "hour")) == hour


def test_range_is_widened_to_whole_quarter_hours_and_intervals_keep_their_start():
    ledger = KpiLedger(tz=NY)
    ledger.apply(abandoned("c", utc_ms(2026, 11, 20, 15, 7)))  # 10:07 local
    # from 10:05: the 10:00 quarter overlaps the range, so the contact is in.
    (row,) = ledger.rows("hour", from_ms=utc_ms(2026, 11, 20, 15, 5), to_ms=utc_ms(2026, 11, 20, 15, 30))
    assert row.interval_start == "2026-11-20T10:00:00-05:00" and row.offered == 1
    # from 10:15 on, it is out.
    (row,) = ledger.rows("hour", from_ms=utc_ms(2026, 11, 20, 15, 15), to_ms=utc_ms(2026, 11, 20, 16))
    assert row.offered == 0


def _transitions(tz: str, year: int) -> list[datetime]:
    """The instants the zone's offset changes in `year` (offsets change on quarter-hours)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone, at = ZoneInfo(tz), datetime(year, 1, 1, tzinfo=timezone.utc)
    found, before = [], at.astimezone(zone).utcoffset()
    while at.year == year:
        at += timedelta(minutes=15)
        now = at.astimezone(zone).utcoffset()
        if now != before:
            found.append(at)
        before = now
    return found


@pytest.mark.parametrize("tz", ["Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu",
                                "Europe/Dublin", "America/Santiago", "Antarctica/Troll", "America/New_York"])
def test_every_quarter_lands_in_a_listed_interval_that_starts_at_itself_across_every_change(tz):
    """Lord Howe moves its clock by 30 minutes: an hour's start was computed as "the last HH:00 under the offset
    in force now", an instant before the change under the other offset: rows overlapped ("01:30-01:45") and
    quarters fell in starts no interval list named (a campaign's hourly metrics dropped 2 of 16 attempts)."""
    from datetime import timedelta

    calendar = TenantCalendar(tz)
    for change in _transitions(tz, 2026):
        day = change.astimezone(calendar.tz).date()
        from_ms, to_ms = calendar.day_start(day - timedelta(days=1)), calendar.day_start(day + timedelta(days=2))
        for granularity in ("15m", "hour", "day", "week"):
            starts = calendar.interval_starts(granularity, from_ms, to_ms)
            assert starts == sorted(set(starts)), (tz, day, granularity)
            listed = set(starts)
            for start in starts:
                assert calendar.interval_start(calendar.quarter_start(start), granularity) == start, (tz, day, granularity)
            for quarter in range(calendar.quarter_start(from_ms), to_ms, 900_000):
                assert calendar.interval_start(quarter, granularity) in listed, (tz, day, granularity, calendar.iso(quarter))
