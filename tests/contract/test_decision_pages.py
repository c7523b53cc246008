"""A contact's routing decisions read in pages (L27 finding 2): oldest first, each with a cursor, at most `limit`
after a cursor. In memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Decisions"))
    return tenant_id


def test_decisions_come_oldest_first_in_pages_after_a_cursor(deps, tenant):
    for n, at in enumerate((T0 + 30, T0 + 10, T0 + 20, T0 + 20, T0 + 40)):
        deps.store.record_decision(tenant, "c1", {"kind": "select_agent", "outcome": "wait", "at": at, "n": n})
    deps.store.save(decisions=[(tenant, "c1", {"kind": "reservation", "outcome": "reoffer", "at": T0 + 50, "n": 5})])
    deps.store.record_decision(tenant, "c2", {"kind": "select_agent", "outcome": "wait", "at": T0, "n": 9})

    everything = deps.store.decisions(tenant, "c1")
    assert [d["at"] for _, d in everything] == [T0 + 10, T0 + 20, T0 + 20, T0 + 30, T0 + 40, T0 + 50]
    assert sorted(d["n"] for _, d in everything) == [0, 1, 2, 3, 4, 5]  # another contact's are not among them
    cursors = [cursor for cursor, _ in everything]
    assert cursors == sorted(set(cursors)) and cursors[0].startswith(f"{T0 + 10:013d}#")

    paged, after = [], None
    while True:
        page = deps.store.decisions(tenant, "c1", after=after, limit=2)
        assert len(page) <= 2
        if not page:
            break
        paged += page
        after = page[-1][0]
    assert paged == everything
    assert deps.store.decisions(tenant, "c1", after=cursors[2], limit=10) == everything[3:]
    # a cursor between two kept ones (none has it) starts after the ones before it
    between = f"{T0 + 25:013d}#00000000"
    assert deps.store.decisions(tenant, "c1", after=between, limit=1) == everything[3:4]
    assert deps.store.decisions(tenant, "nobody", limit=3) == []
