"""Waiting contacts: position in queue and estimated wait, hours of operation.

EWT follows ccaas.domain.routing_engine.estimates: position among the queue's waiting contacts (in
the order a free agent takes them), agents staffed and available from the live metrics item, and an
AHT blended from today's handled contacts with the queue policy's prior (`expected_aht_s`).

A waiting contact's steps count too (routing_engine.estimates, "Steps still ahead"): while its step in
force is one that none of the available agents satisfies (e.g. a best-agents step while only
generalists are free), its EWT is at least the time until its steps relax to one that an available
agent satisfies, not 0 s because agents are free; a step nobody staffed can satisfy is passed over, as
routing does. This costs the available-agents Query (and, for such a step, the staffed agents) only
for a contact whose step in force restricts who may take it while agents are available.
"""
from __future__ import annotations

import math

from pydantic import BaseModel, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import WAITING_STATES, Contact, NotFound, Queue
from ccaas.domain.routing_engine import (
    QueueStats,
    blended_aht,
    current_step,
    estimate_wait,
    offers_callback,
    position_in_queue,
    ready_in_s,
)
from ccaas.usecases import metrics, routing
from ccaas.usecases.tenancy import time_zone_of

_POSITION_SCAN = 500  # contacts ahead counted exactly up to this; beyond it the live gauge is used
_AGENT_SCAN = 1000  # available agents looked at for a contact whose step restricts who may take it


class WaitInfo(BaseModel):
    queue_id: str
    contact_id: str | None = Field(description="None: for a contact arriving now")
    position: int = Field(description="1 = next to be offered")
    ewt_s: float | None = Field(description="estimated wait from now, seconds; None when nobody is staffed")
    p90_s: float | None = Field(description="90th percentile of the wait, seconds")
    in_queue: int
    agents_staffed: int
    agents_available: int
    aht_s: float = Field(description="the handle time the estimate uses")
    offer_callback: bool = Field(
        default=False, description="the queue's policy offers a callback at this wait (callback.offer_when_wait_exceeds_s)")


class HoursStatus(BaseModel):
    queue_id: str
    open: bool
    next_open_at: int | None = Field(description="epoch ms of the next opening (now when open); None: never")
    next_close_at: int | None = None
    time_zone: str


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 1)


def wait_info(deps: Dependencies, tenant_id: str, queue_id: str, contact_id: str | None = None) -> WaitInfo:
    """Position and EWT of a waiting contact (contact_id), or of a contact that would arrive now in the queue."""
    if contact_id is None:
        return _wait(deps, tenant_id, queue_id, None)
    contact = deps.store.get_contact(tenant_id, contact_id)
    return _wait(deps, tenant_id, contact.queue_id, contact)


def wait_of(deps: Dependencies, contact: Contact) -> WaitInfo:
    """wait_info of a contact the caller has already read."""
    return _wait(deps, contact.tenant_id, contact.queue_id, contact)


def _wait(deps: Dependencies, tenant_id: str, queue_id: str, contact: Contact | None) -> WaitInfo:
    queue = deps.config.get_queue(tenant_id, queue_id)
    # The live counters only: the waiting index is read below anyway (its head is the oldest contact).
    live = metrics.view_of(deps, tenant_id, queue_id, deps.live.read(tenant_id, queue_id), with_oldest=False)
    policy = routing.policy_of(deps, tenant_id)
    aht = blended_aht(live.aht_s, live.completed, policy.for_queue(queue.queue_id).expected_aht_s)
    waiting = deps.store.waiting_contacts(tenant_id, queue.queue_id, _POSITION_SCAN)
    # The index lists every contact still waiting for an agent (offered ones already have theirs); past
    # the scan, the live gauge (which counts offered contacts too) bounds the count from above.
    in_queue = len(waiting) if len(waiting) < _POSITION_SCAN else max(live.in_queue, len(waiting))
    if contact is not None and contact.state in WAITING_STATES:
        position = position_in_queue(contact, waiting)
    elif contact is not None:
        position = 0  # not waiting (offered, answered, ended): nothing ahead of it
    else:
        position = in_queue + 1
    stats = QueueStats(aht_s=aht, agents=live.agents_staffed, available=live.agents_available)
    ready = _ready_in_s(deps, contact, queue, policy) if position and stats.available else 0.0
    estimate = estimate_wait(position, stats, ready_in_s=ready) if position else None
    return WaitInfo(
        queue_id=queue.queue_id,
        contact_id=contact.contact_id if contact is not None else None,
        position=position,
        ewt_s=None if estimate is None else _finite(estimate.ewt_s),
        p90_s=None if estimate is None else _finite(estimate.p90_s),
        in_queue=in_queue,
        agents_staffed=live.agents_staffed,
        agents_available=live.agents_available,
        aht_s=round(aht, 1),
        offer_callback=estimate is not None and offers_callback(policy, queue.queue_id, estimate.ewt_s),
    )


def _ready_in_s(deps: Dependencies, contact: Contact | None, queue: Queue,
                policy: routing.RoutingPolicy) -> float | None:
    """Seconds until the contact's steps let an available agent take it (routing_engine.reach.ready_in_s);
    0 for an arrival or a contact past its last step (any available agent of the queue will do)."""
    if contact is None or contact.state not in WAITING_STATES:
        return 0.0
    now = deps.clock.now_ms()
    if current_step(contact, queue, policy, now).final:
        return 0.0
    available = deps.store.available_agents(contact.tenant_id, _AGENT_SCAN)
    return ready_in_s(contact, queue, policy, now, available, routing.staff_of(deps, contact.tenant_id))


def queue_hours(deps: Dependencies, tenant_id: str, queue_id: str) -> HoursStatus:
    deps.config.get_queue(tenant_id, queue_id)  # NotFound for an unknown queue
    hours = routing.policy_of(deps, tenant_id).for_queue(queue_id).hours
    now = deps.clock.now_ms()
    if hours is None:
        return HoursStatus(queue_id=queue_id, open=True, next_open_at=now, time_zone=time_zone_of(deps, tenant_id))
    return HoursStatus(queue_id=queue_id, open=hours.is_open(now), next_open_at=hours.next_open(now),
                       next_close_at=hours.next_close(now), time_zone=hours.time_zone)


def arrival_wait_s(deps: Dependencies, tenant_id: str, queue_id: str) -> float | None:
    """Estimated wait of a contact arriving now (None when nobody is staffed)."""
    return wait_info(deps, tenant_id, queue_id).ewt_s


__all__ = ["HoursStatus", "NotFound", "WaitInfo", "arrival_wait_s", "queue_hours", "wait_info", "wait_of"]
