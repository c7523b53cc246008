"""domain/planning.py: the inputs the forecast and Erlang models take from stored interval series."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ccaas.domain.forecast import HistoryPoint
from ccaas.domain.planning import (
    ABANDONED,
    HANDLE_MS,
    HANDLED,
    MAX_PATIENCE_S,
    MIN_PATIENCE_S,
    OFFERED,
    WAIT_MS,
    from_first_contact,
    history_points,
    patience_estimate,
    series_key,
)

NY = ZoneInfo("America/New_York")
DAY = date(2026, 11, 9)


def _cell(offered=0, handled=0, handle_ms=0, abandoned=0, wait_ms=0) -> list[int]:
    cell = [0] * 5
    cell[OFFERED], cell[HANDLED], cell[HANDLE_MS], cell[ABANDONED], cell[WAIT_MS] = (offered, handled, handle_ms,
                                                                                     abandoned, wait_ms)
    return cell


def _days(**cells_at_hour: list[int]) -> dict:
    quarters = {str(int(datetime(DAY.year, DAY.month, DAY.day, int(h[1:]), tzinfo=NY).timestamp() * 1000)): cell
                for h, cell in cells_at_hour.items()}
    return {DAY: {series_key("sales", "VOICE"): quarters}}


def test_an_interval_handled_in_0_ms_has_no_aht_not_an_aht_of_0():
    days = _days(h3=_cell(offered=1, handled=1, handle_ms=0), h10=_cell(offered=4, handled=4, handle_ms=960_000))
    points = {p.interval_start.hour: p for p in history_points(days, queue_id="sales", channel=None, tz=NY)
              if p.interval_start.minute == 0}
    assert points[3] == HistoryPoint(points[3].interval_start, 1, None)
    assert points[10].aht_seconds == 240.0


def test_patience_is_none_without_any_queue_wait_and_within_the_what_ifs_bounds_otherwise():
    # Abandons at 0 s wait (CTR times have 1 s resolution): an estimate of 0 made every Erlang A plan fail.
    assert patience_estimate(_days(h9=_cell(offered=3, handled=2, abandoned=1)), queue_id="sales", channel=None) is None
    assert patience_estimate(_days(h9=_cell(offered=1)), queue_id="sales", channel=None) is None
    tiny = _days(h9=_cell(offered=100, abandoned=100, wait_ms=1))
    assert patience_estimate(tiny, queue_id="sales", channel=None) == MIN_PATIENCE_S
    wild = _days(h9=_cell(offered=1, abandoned=1, wait_ms=10 * 86_400_000))
    assert patience_estimate(wild, queue_id="sales", channel=None) == MAX_PATIENCE_S
    usual = _days(h9=_cell(offered=10, handled=8, handle_ms=1, abandoned=2, wait_ms=90_000))
    assert patience_estimate(usual, queue_id="sales", channel=None) == 45.0


def test_history_starts_at_the_first_day_with_a_contact():
    start = datetime(2026, 11, 2, tzinfo=NY)
    points = [HistoryPoint(start + timedelta(days=d, hours=h), 5 if d >= 3 and h == 10 else 0, None)
              for d in range(7) for h in range(24)]
    kept = from_first_contact(points)
    assert kept[0].interval_start == start + timedelta(days=3) and kept == points[3 * 24:]
    silent = [p._replace(offered=0) for p in points]
    assert from_first_contact(silent) == silent
