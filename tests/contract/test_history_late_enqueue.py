"""The History stores' enqueue index (review R2): a contact enqueued more than a day after its anchor time (a
Connect scheduled task) is read back by the day it was enqueued, in memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.history import DAY_MS, Survey
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000  # 2026-11-26 23:50 UTC: ten minutes before a UTC day boundary
H = 3_600_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="History"))
    return tenant_id


def _task(tenant, cid, *, initiated, enqueued, last_updated_at) -> ContactRecord:
    return ContactRecord(tenant_id=tenant, contact_id=cid, channel=Channel.TASK, queue_id="q1", initiated_at=initiated,
                         enqueued_at=enqueued, connected_at=enqueued + 60_000, disconnected_at=enqueued + 2 * H,
                         final_state=FinalState.COMPLETED, last_updated_at=last_updated_at)


def test_a_contact_enqueued_days_after_it_began_is_found_by_the_day_it_was_enqueued(deps, tenant):
    """Read back by its enqueue time with its survey (across a UTC day boundary); an older version arriving late
    does not move it, a newer one enqueued within a day of its start drops it (entries_between has that one)."""
    enqueued = T0 + 20 * 60_000  # 00:10 UTC the next day
    assert deps.history.put_record(_task(tenant, "late", initiated=T0 - 3 * DAY_MS, enqueued=enqueued, last_updated_at=T0 + 3 * H))
    # enqueued 23 h after it began: within the look-back, not indexed again
    assert deps.history.put_record(_task(tenant, "soon", initiated=T0 - 23 * H, enqueued=T0, last_updated_at=T0 + 3 * H))
    deps.history.put_survey(tenant, "late", Survey(csat=4, submitted_at=T0 + 4 * H))

    def enqueued_in(from_ms, to_ms):
        return [(e.contact_id, e.csat) for e in deps.history.entries_enqueued_between(tenant, from_ms, to_ms)]

    assert enqueued_in(T0 - DAY_MS, T0 + DAY_MS) == [("late", 4)]
    assert enqueued_in(enqueued, enqueued + 1) == [("late", 4)] and enqueued_in(T0 - DAY_MS, enqueued) == []
    assert list(deps.history.entries_enqueued_between(f"{tenant}x", T0, T0 + DAY_MS)) == []
    older = _task(tenant, "late", initiated=T0 - 3 * DAY_MS, enqueued=T0 - 2 * DAY_MS, last_updated_at=T0 + 2 * H)
    assert deps.history.put_record(older) is False
    assert enqueued_in(T0 - 3 * DAY_MS, T0 - DAY_MS) == [] and enqueued_in(T0, T0 + DAY_MS) == [("late", 4)]
    newer = _task(tenant, "late", initiated=enqueued - H, enqueued=enqueued, last_updated_at=T0 + 4 * H)
    assert deps.history.put_record(newer) is True
    assert enqueued_in(T0 - DAY_MS, T0 + DAY_MS) == []
