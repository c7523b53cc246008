"""The outbound store's operations for the dialing loop itself (OutboundStore): the lease that keeps two ticks of
one queue from deciding at once, and the campaigns that left RUNNING while their calls may still end. One suite,
in memory and on (moto) AWS."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from ccaas.domain.outbound.models import Campaign, CampaignMode, CampaignStatus
from tests.outbound_on_stack import outbound_store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "moto"])
def store(request, stack):
    return outbound_store(request.param, stack, "dial_campaign")


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _put(store, tenant, status, version, cid="c1") -> Campaign:
    campaign = Campaign(campaign_id=cid, name="C", mode=CampaignMode.PROGRESSIVE, queue_id="sales",
                        caller_id="+12125550199", status=status, version=version)
    store.put_campaign(tenant, campaign, expected_version=None if version == 1 else version - 1)
    return campaign


def _settling(store, tenant) -> list[str]:
    return [c for t, c in store.settling_campaigns() if t == tenant]


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store, tenant):
    until = T0 + timedelta(seconds=60)
    assert store.acquire_lease(tenant, "dial#sales", "a", now=T0, until=until)
    assert not store.acquire_lease(tenant, "dial#sales", "b", now=T0 + timedelta(seconds=59), until=until)
    assert store.acquire_lease(tenant, "dial#other", "b", now=T0, until=until)  # another name is another lease
    assert store.acquire_lease(f"{tenant}x", "dial#sales", "b", now=T0, until=until)  # and another tenant's
    assert store.acquire_lease(tenant, "dial#sales", "a", now=T0, until=until)  # its holder may take it again
    store.release_lease(tenant, "dial#sales", "b")  # not b's: nothing happens
    assert not store.acquire_lease(tenant, "dial#sales", "b", now=T0, until=until)
    store.release_lease(tenant, "dial#sales", "a")
    assert store.acquire_lease(tenant, "dial#sales", "b", now=T0, until=until)
    # expired (a holder that crashed): the next one takes it, and the late holder's release leaves it be
    assert store.acquire_lease(tenant, "dial#sales", "c", now=until, until=until + timedelta(seconds=60))
    store.release_lease(tenant, "dial#sales", "b")
    assert not store.acquire_lease(tenant, "dial#sales", "d", now=until, until=until + timedelta(seconds=60))


def test_a_campaign_that_leaves_running_is_settling_until_settled_at_its_version(store, tenant):
    _put(store, tenant, CampaignStatus.DRAFT, 1)
    assert _settling(store, tenant) == []
    _put(store, tenant, CampaignStatus.RUNNING, 2)
    assert _settling(store, tenant) == [] and (tenant, "c1") in store.running_campaigns()
    _put(store, tenant, CampaignStatus.PAUSED, 3)
    assert _settling(store, tenant) == ["c1"] and (tenant, "c1") not in store.running_campaigns()
    store.settled(tenant, "c1", 2)  # an older version: it may have dialed since, it stays
    assert _settling(store, tenant) == ["c1"]
    store.settled(tenant, "c1", 3)
    assert _settling(store, tenant) == []
    store.settled(tenant, "c1", 3)  # again: nothing to do
    _put(store, tenant, CampaignStatus.RUNNING, 4)
    store.settled(tenant, "c1", 4)  # a running campaign is not settling: it stays running
    assert (tenant, "c1") in store.running_campaigns() and _settling(store, tenant) == []
    _put(store, tenant, CampaignStatus.COMPLETED, 5)
    assert _settling(store, tenant) == ["c1"] and store.get_campaign(tenant, "c1").status is CampaignStatus.COMPLETED
    store.settled(f"{tenant}x", "c1", 5)  # another tenant's campaign of that id: nothing of ours changes
    assert _settling(store, tenant) == ["c1"]
