"""Hours of operation: weekly schedule in the queue's zone, holidays, overnight ranges, DST."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ccaas.domain.routing_engine import Holiday, HoursOfOperation, RoutingPolicy, TimeRange, plan_contact
from tests.fixtures.routing.builders import queue

NY = ZoneInfo("America/New_York")


def ms(*args, tz=NY) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)


def utc(*args) -> int:
    return ms(*args, tz=timezone.utc)


def r(a: str, b: str) -> TimeRange:
    return TimeRange(start=a, end=b)


WEEKDAYS_9_17 = {d: (r("09:00", "17:00"),) for d in ("mon", "tue", "wed", "thu", "fri")}


def test_weekly_schedule_in_the_queue_time_zone():
    h = HoursOfOperation(time_zone="America/New_York", weekly=WEEKDAYS_9_17)
    assert h.is_open(ms(2024, 6, 3, 9, 0))  # Monday 09:00 local
    assert not h.is_open(ms(2024, 6, 3, 8, 59, 59))
    assert h.is_open(ms(2024, 6, 3, 16, 59, 59)) and not h.is_open(ms(2024, 6, 3, 17, 0))
    assert not h.is_open(utc(2024, 6, 3, 9, 0))  # 05:00 in New York
    # Friday evening → Monday 09:00
    assert h.next_open(ms(2024, 6, 7, 18, 0)) == ms(2024, 6, 10, 9, 0)
    assert h.next_open(ms(2024, 6, 3, 10, 0)) == ms(2024, 6, 3, 10, 0)  # open now
    assert h.next_close(ms(2024, 6, 3, 10, 0)) == ms(2024, 6, 3, 17, 0)
    assert h.next_close(ms(2024, 6, 3, 18, 0)) is None


def test_overnight_ranges_belong_to_their_start_day():
    h = HoursOfOperation(time_zone="America/New_York", weekly={"fri": (r("22:00", "02:00"),),
                                                               "sat": (r("00:00", "00:00"),)})
    assert h.is_open(ms(2024, 6, 7, 23, 30))  # Friday night
    assert h.is_open(ms(2024, 6, 8, 1, 59))  # spill into Saturday, and Saturday is open all day anyway
    only_fri = HoursOfOperation(time_zone="America/New_York", weekly={"fri": (r("22:00", "02:00"),)})
    assert only_fri.is_open(ms(2024, 6, 8, 1, 59)) and not only_fri.is_open(ms(2024, 6, 8, 2, 0))
    assert not only_fri.is_open(ms(2024, 6, 7, 1, 0))  # Friday 01:00 is Thursday night: closed
    assert only_fri.next_open(ms(2024, 6, 8, 3, 0)) == ms(2024, 6, 14, 22, 0)
    assert only_fri.next_close(ms(2024, 6, 7, 23, 0)) == ms(2024, 6, 8, 2, 0)
    # a whole day merges with the next day's range when they touch
    assert h.next_close(ms(2024, 6, 7, 23, 0)) == ms(2024, 6, 9, 0, 0)
    full = HoursOfOperation.always()
    assert full.is_open(utc(2024, 1, 1, 0, 0)) and full.next_open(utc(2024, 1, 1)) == utc(2024, 1, 1)


def test_holidays_close_or_replace_the_day():
    h = HoursOfOperation(time_zone="America/New_York", weekly={d: (r("09:00", "17:00"),) for d in
                                                               ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                         holidays=(Holiday(start=date(2024, 12, 25), name="Christmas"),
                                   Holiday(start=date(2024, 12, 31), end=date(2025, 1, 1), name="New Year"),
                                   Holiday(start=date(2024, 12, 24), hours=(r("09:00", "12:00"),))))
    assert not h.is_open(ms(2024, 12, 25, 10, 0))
    assert h.next_open(ms(2024, 12, 24, 13, 0)) == ms(2024, 12, 26, 9, 0)
    assert h.is_open(ms(2024, 12, 24, 11, 59)) and not h.is_open(ms(2024, 12, 24, 12, 0))  # short day
    assert not h.is_open(ms(2024, 12, 31, 10)) and not h.is_open(ms(2025, 1, 1, 10))
    assert h.next_open(ms(2024, 12, 30, 18, 0)) == ms(2025, 1, 2, 9, 0)
    # an overnight range started the evening before a holiday still runs into it
    night = HoursOfOperation(time_zone="UTC", weekly={"tue": (r("20:00", "04:00"),), "wed": (r("20:00", "04:00"),)},
                             holidays=(Holiday(start=date(2024, 12, 25)),))
    assert night.is_open(utc(2024, 12, 25, 3, 0)) and not night.is_open(utc(2024, 12, 25, 21, 0))
    with pytest.raises(ValidationError):
        Holiday(start=date(2024, 1, 2), end=date(2024, 1, 1))


def test_dst_keeps_local_wall_clock_times():
    h = HoursOfOperation(time_zone="America/New_York", weekly={d: (r("08:00", "20:00"),) for d in
                                                               ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    # spring forward (Sun 2024-03-10): 08:00 EDT = 12:00 UTC; the day before 08:00 EST = 13:00 UTC
    assert h.next_open(utc(2024, 3, 10, 2, 0)) == utc(2024, 3, 10, 12, 0)
    assert h.next_open(utc(2024, 3, 9, 2, 0)) == utc(2024, 3, 9, 13, 0)
    assert h.is_open(utc(2024, 3, 10, 12, 0)) and not h.is_open(utc(2024, 3, 10, 11, 59))
    # fall back (Sun 2024-11-03): 08:00 EST = 13:00 UTC; 20:00 EST = 01:00 UTC next day
    assert h.next_open(utc(2024, 11, 3, 5, 0)) == utc(2024, 11, 3, 13, 0)
    assert h.is_open(utc(2024, 11, 4, 0, 59)) and not h.is_open(utc(2024, 11, 4, 1, 0))
    # a wall time skipped by spring-forward opens after the gap (02:30 → 03:30 EDT = 07:30 UTC)
    gap = HoursOfOperation(time_zone="America/New_York", weekly={"sun": (r("02:30", "05:00"),)})
    assert gap.next_open(utc(2024, 3, 10, 0, 0)) == utc(2024, 3, 10, 7, 30)
    # an overnight range across spring-forward is one hour shorter: Sat 22:00 EST → Sun 06:00 EDT
    night = HoursOfOperation(time_zone="America/New_York", weekly={"sat": (r("22:00", "06:00"),)})
    assert night.is_open(utc(2024, 3, 10, 3, 0)) and night.is_open(utc(2024, 3, 10, 9, 59))
    assert not night.is_open(utc(2024, 3, 10, 10, 0))
    assert night.next_close(utc(2024, 3, 10, 3, 0)) - utc(2024, 3, 10, 3, 0) == 7 * 3_600_000


def test_schedule_validation_and_never_open():
    with pytest.raises(ValidationError):
        TimeRange(start="25:00", end="10:00")
    with pytest.raises(ValidationError):
        HoursOfOperation(weekly={"monday": ()})
    with pytest.raises(ValidationError):
        HoursOfOperation(time_zone="Mars/Olympus")
    assert HoursOfOperation().next_open(utc(2024, 1, 1)) is None
    assert HoursOfOperation(weekly={"mon": (r("09:00", "24:00"),)}).is_open(utc(2024, 1, 1, 23, 59))


def test_closed_queue_plan_carries_next_open():
    policy = RoutingPolicy.model_validate({"queue_defaults": {"hours": {
        "time_zone": "America/New_York", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}}})
    plan = plan_contact(queue(), policy, None, None, ms(2024, 6, 3, 8, 0))
    assert plan.outcome == "closed" and plan.next_open_at == ms(2024, 6, 3, 9, 0) and "closed" in plan.flags
    assert plan_contact(queue(), policy, None, None, ms(2024, 6, 3, 9, 0)).outcome == "queue"


def test_a_range_cannot_start_at_24_00_and_the_error_names_start():
    """"24:00" is only an end: a start there made every later hours check raise (a 5xx per contact)."""
    with pytest.raises(ValidationError) as raised:
        RoutingPolicy.model_validate({"queue_defaults": {"hours": {"weekly": {"mon": [{"start": "24:00", "end": "02:00"}]}}}})
    assert [e["loc"] for e in raised.value.errors()] == [("queue_defaults", "hours", "weekly", "mon", 0, "start")]
    with pytest.raises(ValidationError) as raised:
        HoursOfOperation(holidays=[{"start": "2026-12-25", "hours": [{"start": "24:00", "end": "24:00"}]}])
    assert raised.value.errors()[0]["loc"][-1] == "start"
    assert r("00:00", "24:00").minutes() == (0, 1440)


def test_a_stored_range_starting_at_24_00_still_loads_as_the_next_days_midnight():
    from ccaas.domain.routing_engine.hours import STORED_DOCUMENT

    stored = {"time_zone": "UTC", "weekly": {"mon": [{"start": "24:00", "end": "02:00"}]}}
    h = HoursOfOperation.model_validate(stored, context=STORED_DOCUMENT)
    assert h.is_open(utc(2024, 1, 2, 1, 0)) and not h.is_open(utc(2024, 1, 2, 2, 0))  # Tuesday 00:00-02:00
    assert not h.is_open(utc(2024, 1, 1, 23, 0))
    assert h.next_open(utc(2024, 1, 1, 12, 0)) == utc(2024, 1, 2, 0, 0)
    assert h.next_close(utc(2024, 1, 2, 1, 0)) == utc(2024, 1, 2, 2, 0)


@pytest.mark.parametrize("hours", [
    HoursOfOperation.always(),
    HoursOfOperation(time_zone="America/New_York", horizon_days=30,
                     weekly={d: (r("00:00", "24:00"),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
])
def test_a_queue_open_around_the_clock_never_closes(hours):
    """Not the horizon's end (400 days ahead by default), which read as a real closing time."""
    now = utc(2026, 12, 7, 15, 0)
    assert hours.is_open(now) and hours.next_close(now) is None


def test_an_open_period_that_ends_before_the_horizon_has_its_closing_time():
    every_day_but_sunday = {d: (r("00:00", "24:00"),) for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    h = HoursOfOperation(time_zone="America/New_York", horizon_days=30, weekly=every_day_but_sunday)
    assert h.next_close(ms(2026, 12, 7, 10, 0)) == ms(2026, 12, 13, 0, 0)  # Monday -> Sunday 00:00
