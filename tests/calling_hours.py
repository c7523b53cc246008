"""Numbers a test can dial now, whatever the hour the test runs.

The dialer allows a call only while it is 08:00-21:00 local in EVERY zone of the called party: the row's
`time_zone` AND the zones `phonenumbers` gives the number itself (ccaas.domain.outbound.lists.number_zones).
A test that needs a row dialed must therefore pick a zone where it is daytime now *and* numbers whose own
zones are that zone alone: a New York number with a Honolulu `time_zone` is blocked whenever it is night in
New York. `zone_in_hours()` gives such a pair for the instant the backend's clock reads.

Run a test file as if it were another hour (the backend's clock and `backend_now()` shifted together, so
what the test chooses and what the dialer checks agree):
    CCAAS_TEST_UTC_HOUR=22 .venv/bin/python -m pytest -p tests.calling_hours tests/handlers/...
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers

from ccaas.adapters.aws.services import SystemClock

# Local hours a chosen zone is in: an hour after the window opens, two before it closes (a slow test run or
# a campaign tick a minute later still falls inside 08:00-21:00).
FIRST_HOUR, LAST_HOUR = 9, 19
UTC_HOUR_ENV = "CCAAS_TEST_UTC_HOUR"


@dataclass(frozen=True)
class DaytimeZone:
    """A zone and a range of valid geographic numbers whose phonenumbers zones are exactly that zone."""

    zone: str
    prefix: str  # E.164 digits before the last two; fictional or drama ranges where the country has one

    def number(self, i: int) -> str:
        """The i-th number (0-99), E.164."""
        if not 0 <= i < 100:
            raise ValueError("0 <= i < 100")
        return f"{self.prefix}{i:02d}"

    def written(self, i: int) -> str:
        """The i-th number as a person writes it in a list read with region US: national for a North
        American number, international otherwise."""
        parsed = phonenumbers.parse(self.number(i))
        style = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 1
                 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return phonenumbers.format_number(parsed, style)


# In order of preference (North American numbers first: most tests were written with them). Their offsets
# cover every hour of the year with FIRST_HOUR-LAST_HOUR local (tests/unit/test_calling_hours.py).
CANDIDATES = (
    DaytimeZone("Pacific/Honolulu", "+180855501"),    # (808) 555-01xx
    DaytimeZone("America/Los_Angeles", "+121355501"),  # (213) 555-01xx
    DaytimeZone("America/New_York", "+121255501"),     # (212) 555-01xx
    DaytimeZone("Pacific/Guam", "+167155501"),         # (671) 555-01xx
    DaytimeZone("Europe/London", "+4420794601"),       # 020 7946 01xx (Ofcom's drama range)
    DaytimeZone("Europe/Berlin", "+4930123456"),       # 030 123456xx
    DaytimeZone("Asia/Tokyo", "+813123456"),           # 03-1234-56xx
    DaytimeZone("Australia/Sydney", "+612555001"),     # (02) 5550 01xx (ACMA's drama range)
)


def backend_now() -> datetime:
    """The instant the backend's clock reads (the dialer's checks use it): the wall clock, or the hour
    CCAAS_TEST_UTC_HOUR asks for when this module runs as a pytest plugin."""
    return datetime.fromtimestamp(SystemClock().now_ms() / 1000, tz=UTC)


def zone_in_hours(now: datetime | None = None) -> DaytimeZone:
    """The first candidate where it is FIRST_HOUR-LAST_HOUR local at `now` (default: `backend_now()`)."""
    at = now or backend_now()
    for candidate in CANDIDATES:
        if FIRST_HOUR <= at.astimezone(ZoneInfo(candidate.zone)).hour < LAST_HOUR:
            return candidate
    raise AssertionError(f"no candidate zone in hours at {at.isoformat()}")


def pytest_configure(config) -> None:  # noqa: ARG001 - a pytest hook: only with `-p tests.calling_hours`
    """With CCAAS_TEST_UTC_HOUR=H, the backend's clock reads today's H:00 UTC (then moves on with the wall
    clock): the whole run behaves as if it had started at that hour."""
    hour = os.environ.get(UTC_HOUR_ENV)
    if hour is None:
        return
    real = SystemClock.now_ms
    wall_ms = real(SystemClock())
    target = datetime.fromtimestamp(wall_ms / 1000, tz=UTC).replace(hour=int(hour), minute=0, second=0, microsecond=0)
    shift_ms = int(target.timestamp() * 1000) - wall_ms
    SystemClock.now_ms = lambda self: real(self) + shift_ms  # type: ignore[method-assign]
