"""A customer's recent contacts read through a time window (routing.journey_of's repeat decision: the same reason within
the FCR window, however many newer contacts came since), in memory and on (moto) AWS, for both stores: the Contacts
table's `customer` index (StateStore.recent_contacts) and history's `by_customer` (HistoryStore.recent_customer_entries).
The newest `limit` as before; with `since_ms`, every older one at or after it too, at most max(limit, up_to); one Query
when the window holds no more than the newest `limit` (outside probe, session 37)."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest

from ccaas.domain.models import Channel, Contact
from ccaas.domain.tenants import Tenant
from tests.contract.test_history_store import T0, _record

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
HOUR = 3_600_000
N = 25  # contacts c00 (oldest) .. c24 (newest), an hour apart


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Window"))
    return tenant_id


def _ids(n_from: int, n_to: int) -> list[str]:
    """c<n_from> down to c<n_to>, newest first."""
    return [f"c{n:02d}" for n in range(n_from, n_to - 1, -1)]


def _contacts(deps, tenant):
    for n in range(N):
        deps.store.save(contacts=[Contact(tenant_id=tenant, contact_id=f"c{n:02d}", channel=Channel.VOICE, queue_id="q1",
                                          customer_id="cust-1", reason="sales", initiated_at=T0 + n * HOUR)])
    deps.store.save(contacts=[Contact(tenant_id=tenant, contact_id="other", channel=Channel.VOICE, queue_id="q1",
                                      customer_id="cust-2", initiated_at=T0 + 10 * HOUR)])

    def read(limit, **window):
        return [c.contact_id for c in deps.store.recent_contacts(tenant, "cust-1", limit, **window)]

    return read


def _entries(deps, tenant):
    for n in range(N):
        deps.history.put_record(_record(tenant, f"c{n:02d}", T0 + n * HOUR))
    deps.history.put_record(_record(tenant, "other", T0 + 10 * HOUR, customer="cust-2"))

    def read(limit, **window):
        return [e.contact_id for e in deps.history.recent_customer_entries(tenant, "cust-1", limit, **window)]

    return read


@pytest.mark.parametrize("store", [_contacts, _entries], ids=["contacts", "history"])
def test_the_newest_then_every_one_in_the_window_up_to_the_cap(deps, tenant, store):
    read = store(deps, tenant)
    assert read(3) == _ids(24, 22)  # no window: the newest, as before
    assert read(3, since_ms=T0 + 5 * HOUR, up_to=100) == _ids(24, 5)  # the window's start included
    assert read(3, since_ms=T0 + 5 * HOUR + 1, up_to=100) == _ids(24, 6)
    assert read(3, since_ms=T0 + 5 * HOUR, up_to=12) == _ids(24, 13)  # the cap
    assert read(3, since_ms=T0 - HOUR, up_to=100) == _ids(24, 0)  # the whole journey fits
    assert read(3, since_ms=T0 + 23 * HOUR, up_to=100) == _ids(24, 22)  # the newest, even outside the window
    assert read(30, since_ms=T0 + 20 * HOUR, up_to=10) == _ids(24, 0)  # never fewer than the newest `limit`


@contextmanager
def _queries(deps, *, page: int | None = None):
    """The Queries the AWS stores send (none counted in memory); with `page`, each returns at most that many items."""
    db = getattr(deps.store, "_db", None)
    sent: list[dict] = []
    if db is None:
        yield None
        return

    def hook(params, **_):
        sent.append(dict(params))
        if page is not None:
            params["Limit"] = min(params.get("Limit", page), page)

    db.meta.events.register("provide-client-params.dynamodb.Query", hook)
    try:
        yield sent
    finally:
        db.meta.events.unregister("provide-client-params.dynamodb.Query", hook)


@pytest.mark.parametrize("store", [_contacts, _entries], ids=["contacts", "history"])
def test_a_window_no_larger_than_the_newest_costs_one_query_and_a_larger_one_pages(deps, tenant, store):
    read = store(deps, tenant)
    with _queries(deps) as sent:
        assert read(10, since_ms=T0 + 18 * HOUR, up_to=100) == _ids(24, 15)  # 7 in the window: the newest 10
    assert sent is None or len(sent) == 1
    with _queries(deps, page=4) as sent:  # small pages: the read is continued, bounded by time, up to the cap
        assert read(3, since_ms=T0 + 4 * HOUR, up_to=15) == _ids(24, 10)
        assert read(3, since_ms=T0 + 20 * HOUR, up_to=15) == _ids(24, 20)
    if sent is not None:
        bounded = [q for q in sent if "BETWEEN" in q["KeyConditionExpression"]]
        assert len(bounded) > 2 and all(q.get("ScanIndexForward") is False for q in sent)  # paged, newest first
