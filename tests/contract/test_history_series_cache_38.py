"""The forecast's day cache in the History store, in memory and on (moto) AWS: a record written for a cached day
drops it (the CTR stream may be replayed for 7 days, tasks span up to 14), and a day dropped while a read computed
it is not cached without the record."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.models import Queue
from ccaas.domain.planning import OFFERED
from ccaas.domain.tenants import Tenant
from ccaas.usecases import forecasting, history

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
NOW = int(datetime(2026, 11, 17, 12, tzinfo=UTC).timestamp() * 1000)  # a Tuesday
FIRST = date(2026, 11, 2)


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.clock.now = NOW
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Series", time_zone="UTC"))
    deps.config.put_queue(Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", sl_threshold_s=20))
    return tenant_id


def test_a_dropped_day_reads_as_uncached_and_a_read_older_than_the_drop_does_not_cache_it(deps, tenant):
    series = {"version": 2, "time_zone": "UTC", "series": {"sales|VOICE": {"1": [3, 2, 240000, 1, 9000]}}}
    assert deps.history.put_series(tenant, "2026-11-09", series) is True
    deps.history.drop_series(tenant, "2026-11-09", 5_000)
    assert deps.history.get_series(tenant, "2026-11-09") is None
    # a read that began before the drop (or too shortly after it): not cached
    assert deps.history.put_series(tenant, "2026-11-09", series, unless_dropped_since=5_000) is False
    assert deps.history.put_series(tenant, "2026-11-09", series, unless_dropped_since=4_000) is False
    assert deps.history.get_series(tenant, "2026-11-09") is None
    assert deps.history.put_series(tenant, "2026-11-09", series, unless_dropped_since=5_001) is True
    assert deps.history.get_series(tenant, "2026-11-09") == series
    # a day nobody cached yet is marked too: a read computing it now must not cache it without the record
    deps.history.drop_series(tenant, "2026-11-10", 7_000)
    assert deps.history.get_series(tenant, "2026-11-10") is None
    assert deps.history.put_series(tenant, "2026-11-10", series, unless_dropped_since=6_000) is False
    assert deps.history.put_series(tenant, "2026-11-10", series) is True  # unconditioned, as before
    assert deps.history.get_series(tenant, "2026-11-09") == deps.history.get_series(tenant, "2026-11-10") == series


def _contact(tenant_id: str, day: date, n: int, hour: int = 10) -> ContactRecord:
    enqueued = int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000) + n * 20_000
    end = enqueued + 250_000
    return ContactRecord(tenant_id=tenant_id, contact_id=f"c-{day}-{hour}-{n}", channel=Channel.VOICE, queue_id="sales",
                         initiated_at=enqueued, enqueued_at=enqueued, connected_at=enqueued + 10_000,
                         disconnected_at=end, acw_ended_at=end, final_state=FinalState.COMPLETED, last_updated_at=end)


def _offered(cached: dict) -> int:
    return sum(cell[OFFERED] for cells in cached["series"].values() for cell in cells.values())


def test_a_late_record_written_through_the_history_writer_reaches_the_forecast(deps, tenant):
    for d in range(14):
        for n in range(3):
            deps.history.put_record(_contact(tenant, FIRST + timedelta(days=d), n))
    query = forecasting.ForecastQuery(queue_id="sales", day=date(2026, 11, 23), weeks=2)
    before = forecasting.staffing_forecast(deps, tenant, query)
    late_day = date(2026, 11, 9)
    assert _offered(deps.history.get_series(tenant, late_day.isoformat())) == 3
    for n in range(8):  # eight contacts of the day arrive a week late (a replayed stream)
        history.store_record(deps, _contact(tenant, late_day, n, hour=11))
    assert deps.history.get_series(tenant, late_day.isoformat()) is None
    assert deps.history.get_series(tenant, "2026-11-08") is not None  # the other days stay cached
    deps.clock.advance(forecasting.RECACHE_AFTER_DROP_MS / 1000 + 1)
    after = forecasting.staffing_forecast(deps, tenant, query)
    assert _offered(deps.history.get_series(tenant, late_day.isoformat())) == 3 + 8
    assert before.intervals[44].forecast_offered == 0 < after.intervals[44].forecast_offered
