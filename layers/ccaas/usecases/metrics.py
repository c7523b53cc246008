"""Live metrics: the stream consumer's fold and the real-time read model."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccaas.bootstrap import Dependencies
from ccaas.domain.live_metrics import (
    MetricUpdate,
    RealtimeQueueMetrics,
    SequencedEvent,
    contributions,
    fold_batch,
    plan_write,
    realtime_view,
)
from ccaas.usecases.tenancy import time_zone_of


@dataclass(frozen=True)
class AppliedUpdate:
    update: MetricUpdate
    item: dict[str, Any]  # the item after the write: what the EMF metrics report


def is_first_delivery(deps: Dependencies, record: SequencedEvent) -> bool:
    """False for a copy of an event published twice (same event id, another stream record)."""
    return deps.dedup.first_sequence(record.event, record.sequence) == record.sequence


def apply_batch(deps: Dependencies, shard_id: str, records: Sequence[SequencedEvent]) -> list[AppliedUpdate]:
    """One conditional write per (tenant, queue) for the whole batch, guarded by the shard watermark."""
    keys = {(r.event.tenant_id, c.queue_id) for r in records for c in contributions(r.event) if c.queue_id}
    items = deps.live.snapshots(keys)
    watermarks = {k: item[f"wm_{shard_id}"] for k, item in items.items() if f"wm_{shard_id}" in item}
    zones = {tenant_id: time_zone_of(deps, tenant_id) for tenant_id, _ in keys}
    applied = []
    for update in fold_batch(records, watermarks, zones):
        plan = plan_write(update, items.get((update.tenant_id, update.queue_id), {}))
        applied.append(AppliedUpdate(update, deps.live.write(update.tenant_id, update.queue_id, plan)))
    return applied


def view_of(deps: Dependencies, tenant_id: str, queue_id: str, item: dict[str, Any], *, with_oldest: bool = True) -> RealtimeQueueMetrics:
    queue = deps.config.get_queue(tenant_id, queue_id)
    oldest = deps.store.waiting_contacts(tenant_id, queue_id, 1) if with_oldest else []
    return realtime_view(
        queue_id,
        item,
        now_ms=deps.clock.now_ms(),
        time_zone=time_zone_of(deps, tenant_id),
        oldest_enqueued_ms=oldest[0].enqueued_at if oldest else None,
        sl_target=queue.sl_target,
    )


def realtime_queue_metrics(deps: Dependencies, tenant_id: str, queue_id: str) -> RealtimeQueueMetrics:
    return view_of(deps, tenant_id, queue_id, deps.live.read(tenant_id, queue_id))


def realtime_all_queues(deps: Dependencies, tenant_id: str) -> list[RealtimeQueueMetrics]:
    queues = deps.config.list_queues(tenant_id)
    items = deps.live.snapshots((tenant_id, q.queue_id) for q in queues)
    return [view_of(deps, tenant_id, q.queue_id, items.get((tenant_id, q.queue_id), {})) for q in queues]

