"""HistoryStore.recent_customer_entries (a customer's journey from history: routing.journey_of), in memory and on
(moto) AWS: the newest `limit` of the customer's entries, newest first, one Query."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.tenants import Tenant
from tests.contract.test_history_store import T0, _record

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="History"))
    return tenant_id


def test_the_customers_latest_entries_newest_first_and_bounded(deps, tenant):
    for n in range(5):  # one a day, across UTC days (the by_customer index is one partition per customer)
        deps.history.put_record(_record(tenant, f"c{n}", T0 + n * 86_400_000))
    deps.history.put_record(_record(tenant, "other", T0 + 9 * 86_400_000, customer="cust-2"))
    deps.history.put_record(_record(tenant, "anonymous", T0 + 9 * 86_400_000, customer=None))
    deps.history.put_record(_record(f"{tenant}x", "elsewhere", T0 + 9 * 86_400_000))
    assert [e.contact_id for e in deps.history.recent_customer_entries(tenant, "cust-1", 3)] == ["c4", "c3", "c2"]
    assert [e.contact_id for e in deps.history.recent_customer_entries(tenant, "cust-1", 10)] == [
        "c4", "c3", "c2", "c1", "c0"]
    entry = deps.history.recent_customer_entries(tenant, "cust-2", 10)[0]
    assert entry.record is not None and entry.record.reason == "billing"  # the whole entry (the index projects ALL)
    assert deps.history.recent_customer_entries(tenant, "cust-9", 10) == []
    assert deps.history.recent_customer_entries(tenant, "cust-1", 0) == []
