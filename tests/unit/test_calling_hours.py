"""tests/calling_hours.py: its numbers are valid and belong to their zone alone (as the list parser reads
them), and at every hour of the year some candidate is inside the calling window with a margin."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import timezone as pn_timezone

from ccaas.domain.outbound.lists import parse_json
from tests.calling_hours import CANDIDATES, FIRST_HOUR, LAST_HOUR, DaytimeZone, zone_in_hours


@pytest.mark.parametrize("candidate", CANDIDATES, ids=lambda c: c.zone)
def test_every_number_is_valid_and_in_its_zone_alone(candidate: DaytimeZone) -> None:
    for i in range(100):
        parsed = phonenumbers.parse(candidate.number(i))
        assert phonenumbers.is_valid_number(parsed), candidate.number(i)
        assert pn_timezone.time_zones_for_number(parsed) == (candidate.zone,), candidate.number(i)


@pytest.mark.parametrize("candidate", CANDIDATES, ids=lambda c: c.zone)
def test_the_list_parser_gives_a_row_of_the_zone_only_that_zone(candidate: DaytimeZone) -> None:
    """What the dialer checks: the row's zones, after the parser adds the number's own."""
    parsed = parse_json([{"phone": candidate.written(i), "time_zone": candidate.zone} for i in (0, 1, 99)])
    assert not parsed.errors
    assert [r.numbers for r in parsed.rows] == [(candidate.number(i),) for i in (0, 1, 99)]
    assert {r.phones[0].zones for r in parsed.rows} == {(candidate.zone,)}


def test_numbers_are_distinct_and_bounded() -> None:
    numbers = [c.number(i) for c in CANDIDATES for i in range(100)]
    assert len(set(numbers)) == len(numbers)
    with pytest.raises(ValueError):
        CANDIDATES[0].number(100)


def test_at_every_half_hour_of_a_year_some_zone_is_in_hours_with_a_margin() -> None:
    """Both hemispheres' DST changes included: the chosen zone is FIRST_HOUR-LAST_HOUR local, so the
    statutory 08:00-21:00 holds from an hour before to two hours after."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at < datetime(2027, 1, 1, tzinfo=UTC):
        chosen = zone_in_hours(at)
        local = at.astimezone(ZoneInfo(chosen.zone))
        assert FIRST_HOUR <= local.hour < LAST_HOUR, at
        for moved in (at - timedelta(minutes=59), at + timedelta(minutes=119)):
            assert 8 <= moved.astimezone(ZoneInfo(chosen.zone)).hour < 21, (at, chosen.zone)
        at += timedelta(minutes=30)


def test_the_choice_follows_the_instant() -> None:
    # 03:58 UTC in winter: night in New York (22:58), afternoon in Honolulu (17:58)
    assert zone_in_hours(datetime(2026, 12, 3, 3, 58, tzinfo=UTC)).zone == "Pacific/Honolulu"
    # 10:30 UTC: night across North America, morning in London
    assert zone_in_hours(datetime(2026, 12, 3, 10, 30, tzinfo=UTC)).zone == "Europe/London"
    # 07:00 UTC: night in the Americas, before 09:00 in Europe, 17:00 in Guam
    assert zone_in_hours(datetime(2026, 12, 3, 7, 0, tzinfo=UTC)).zone == "Pacific/Guam"
