"""A customer's recent contacts (routing's journey context) leave journey tests' synthetic contacts out in
the store itself, in memory and on (moto) AWS: they never take a place among the newest few (W27 finding 4)."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.models import Channel, Contact
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_synthetic_contacts_are_not_indexed_under_their_customer(deps):
    tenant = f"t{uuid.uuid4().hex[:10]}"

    def contact(n: int, **attributes: str) -> Contact:
        return Contact(tenant_id=tenant, contact_id=f"c{n}", channel=Channel.VOICE, queue_id="q1",
                       initiated_at=1000 + n, customer_id="cust-1", attributes=attributes)

    real = contact(0)
    deps.store.save(contacts=[real])
    for n in range(1, 13):
        deps.store.save(contacts=[contact(n, **{SYNTHETIC_ATTRIBUTE: "smoke"})])
    assert deps.store.recent_contacts(tenant, "cust-1", 10) == [real]
    assert deps.store.get_contact(tenant, "c12").attributes == {SYNTHETIC_ATTRIBUTE: "smoke"}  # still stored
