"""Waiting contacts: position in queue and estimated wait, hours of operation.

EWT follows ccaas.domain.routing_engine.estimates: position among the queue's waiting contacts (in
the order a free agent takes them now: select_contact's order, scoring.waiting_order), agents staffed
and available from the live metrics item, and an AHT blended from today's handled contacts with the
queue policy's prior (`expected_aht_s`).

Journey tests' (synthetic) contacts are no one's queue: every count and estimate a caller or supervisor is given
(position, in_queue, EWT, the callback offer, a segment's deflection, the flow's staffing) reads the queue's real
contacts only (metrics.real_waiting, the definition the live view and the alert sweep use), as live metrics add
nothing for them. A synthetic contact asking for its own wait is placed among the real contacts (1 + the real ones
ahead of it): a journey sees what a real caller in its place would hear, and never counts another journey's contact.

The available agents count only as far as they may take the contact (routing_engine.reach.readiness,
estimates "Steps still ahead"): one whose skills its step in force excludes (a best-agents step while
only generalists are free), who lacks the queue's required skills (they bound every step, the last one
too), or whose routing profile delays the queue (`delay_s`) longer than the contact has waited, is not
free for it now. Its EWT is then at least the time until one of them may take it, and when none ever
may, the available agents are not counted at all: never 0 s because agents who cannot take it are free.
A contact arriving now is asked about with the queue's own steps from now, on the most favourable of
the queue's channels (its channel is not known). This costs the available-agents Query whenever the
live counters say an agent is available (and, for a step none of them satisfies, the staffed agents).

With nobody staffed the wait is unbounded: `ewt_s` None in the answer, and above any threshold for
whoever compares it (the callback offer; a segment's deflection: arrival_wait_s answers math.inf).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain.live_metrics import RealtimeQueueMetrics
from ccaas.domain.models import WAITING_STATES, Contact, ContactState, NotFound, Queue
from ccaas.domain.routing_engine import (
    QueueStats,
    Readiness,
    blended_aht,
    estimate_wait,
    offers_callback,
    position_in_queue,
    readiness,
    waiting_order,
)
from ccaas.usecases import metrics, routing
from ccaas.usecases.tenancy import time_zone_of

_POSITION_SCAN = 500  # contacts ahead counted exactly up to this; beyond it the live gauge is used
_AGENT_SCAN = 1000  # available agents looked at: who of them may take the contact, and when


class WaitInfo(BaseModel):
    queue_id: str
    contact_id: str | None = Field(description="None: for a contact arriving now")
    position: int = Field(description="1 = next to be offered")
    ewt_s: float | None = Field(description="estimated wait from now, seconds; None when unbounded (nobody is staffed)")
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


def wait_info(deps: Dependencies, tenant_id: str, queue_id: str | None, contact_id: str | None = None) -> WaitInfo:
    """Position and EWT of a contact that would arrive now in the queue, or of the queue's contact `contact_id`.
    An unknown queue is NotFound (queue_id) either way; a contact of another queue is NotFound (contact_id), so
    a queue never answers for another queue's contact. Without a queue (None, or "": the flow's wait_info
    names the contact only) the contact's own queue answers."""
    queue = deps.config.get_queue(tenant_id, queue_id or "") if queue_id or contact_id is None else None
    if contact_id is None:
        return _wait(deps, queue, None)
    contact = deps.store.get_contact(tenant_id, contact_id)
    if queue is None:
        queue = deps.config.get_queue(tenant_id, contact.queue_id)
    elif contact.queue_id != queue.queue_id:
        raise NotFound(f"contact {contact_id} is not in queue {queue.queue_id}", field="contact_id")
    return _wait(deps, queue, contact)


def wait_of(deps: Dependencies, contact: Contact) -> WaitInfo:
    """wait_info of a contact the caller has already read."""
    return _wait(deps, deps.config.get_queue(contact.tenant_id, contact.queue_id), contact)


@dataclass(frozen=True)
class QueueNow:
    """What a queue holds now: its live counters and the real contacts waiting in it (the head of its index, journey
    tests' contacts left out: module docstring)."""

    live: RealtimeQueueMetrics
    waiting: list[Contact]
    in_queue: int


def queue_now(deps: Dependencies, queue: Queue) -> QueueNow:
    """The queue's live counters and waiting contacts, without an estimate (the flow's `staffing` asks only this: no
    read of the agents who may take a contact)."""
    tenant_id = queue.tenant_id
    # The live counters only: the waiting index is read below anyway (its head is the oldest contact), and an
    # estimate reads no abandonment rate, so not the abandon pages either (a Query per caller asking for its wait).
    live = metrics.view_of(deps, tenant_id, queue.queue_id, deps.live.read(tenant_id, queue.queue_id),
                           with_oldest=False, abandons={})
    waiting = metrics.real_waiting(deps, tenant_id, queue.queue_id, _POSITION_SCAN)
    # The index lists every contact still waiting for an agent (offered ones already have theirs); past
    # the scan, the live gauge (real contacts only, offered ones too) bounds the count from above.
    in_queue = len(waiting) if len(waiting) < _POSITION_SCAN else max(live.in_queue, len(waiting))
    return QueueNow(live=live, waiting=waiting, in_queue=in_queue)


def _wait(deps: Dependencies, queue: Queue, contact: Contact | None) -> WaitInfo:
    tenant_id = queue.tenant_id
    held = queue_now(deps, queue)
    live, waiting, in_queue = held.live, held.waiting, held.in_queue
    policy = routing.policy_of(deps, tenant_id)
    aht = blended_aht(live.aht_s, live.completed, policy.for_queue(queue.queue_id).expected_aht_s)
    now = deps.clock.now_ms()
    if contact is not None and contact.state in WAITING_STATES:
        # the order a freed agent takes them in now: routing.choose_contact's (the policy's contact scoring,
        # no queue stats)
        position = position_in_queue(contact, waiting, waiting_order(queue, policy.contact_scoring, now))
    elif contact is not None:
        position = 0  # not waiting (offered, answered, ended): nothing ahead of it
    else:
        position = in_queue + 1  # behind every waiting contact: its priority is not known yet
    stats = QueueStats(aht_s=aht, agents=live.agents_staffed, available=live.agents_available)
    ready: float | None = 0.0
    if position and stats.available:
        ready, free = _readiness(deps, contact, queue, policy, now)
        stats = stats.model_copy(update={"available": free})  # only those who may take it count
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


def _readiness(deps: Dependencies, contact: Contact | None, queue: Queue, policy: routing.RoutingPolicy,
               now: int) -> Readiness:
    """routing_engine.reach.readiness over the available agents (module docstring)."""
    available = deps.store.available_agents(queue.tenant_id, _AGENT_SCAN)
    staff = routing.staff_of(deps, queue.tenant_id)
    if contact is not None:
        return readiness(contact, queue, policy, now, available, staff)
    best = Readiness(None, 0)
    for channel in sorted(queue.channels):
        arriving = Contact(tenant_id=queue.tenant_id, contact_id="arriving", channel=channel, queue_id=queue.queue_id,
                           state=ContactState.QUEUED, initiated_at=now, enqueued_at=now)
        found = readiness(arriving, queue, policy, now, available, staff)
        if found.in_s is not None and (best.in_s is None or (found.in_s, -found.agents) < (best.in_s, -best.agents)):
            best = found
    return best


def queue_hours(deps: Dependencies, tenant_id: str, queue_id: str) -> HoursStatus:
    deps.config.get_queue(tenant_id, queue_id)  # NotFound for an unknown queue
    hours = routing.policy_of(deps, tenant_id).for_queue(queue_id).hours
    now = deps.clock.now_ms()
    if hours is None:
        return HoursStatus(queue_id=queue_id, open=True, next_open_at=now, time_zone=time_zone_of(deps, tenant_id))
    return HoursStatus(queue_id=queue_id, open=hours.is_open(now), next_open_at=hours.next_open(now),
                       next_close_at=hours.next_close(now), time_zone=hours.time_zone)


def arrival_wait_s(deps: Dependencies, tenant_id: str, queue_id: str) -> float:
    """Estimated wait of a contact arriving now, seconds: math.inf when unbounded (nobody staffed), so that a
    segment deflecting above a wait deflects it, as the callback offer reads the same wait (module docstring)."""
    ewt = wait_info(deps, tenant_id, queue_id).ewt_s
    return math.inf if ewt is None else ewt


__all__ = ["HoursStatus", "NotFound", "WaitInfo", "arrival_wait_s", "queue_hours", "wait_info", "wait_of"]
