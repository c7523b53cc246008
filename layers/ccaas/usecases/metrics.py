"""Live metrics: the stream consumer's fold and the real-time read model."""
from __future__ import annotations

from collections.abc import Sequence

from ccaas.bootstrap import Dependencies
from ccaas.domain.live_metrics import (
    GAUGES,
    MetricUpdate,
    RealtimeQueueMetrics,
    SequencedEvent,
    contributions,
    day_of,
    fold_batch,
    realtime_view,
)


def is_first_delivery(deps: Dependencies, record: SequencedEvent) -> bool:
    """False for a copy of an event published twice (same event id, another stream record)."""
    return deps.dedup.first_sequence(record.event, record.sequence) == record.sequence


def apply_batch(deps: Dependencies, shard_id: str, records: Sequence[SequencedEvent]) -> list[MetricUpdate]:
    """One conditional write per (tenant, queue) for the whole batch, guarded by the shard watermark."""
    keys = {(r.event.tenant_id, q) for r in records for q, _, _ in contributions(r.event) if q}
    watermarks = deps.live.watermarks(keys, shard_id)
    updates = fold_batch(records, watermarks)
    for update in updates:
        deps.live.apply(update)
    return updates


def realtime_queue_metrics(deps: Dependencies, tenant_id: str, queue_id: str) -> RealtimeQueueMetrics:
    deps.config.get_queue(tenant_id, queue_id)  # 404 for a queue the tenant does not have
    now = deps.clock.now_ms()
    day = day_of(now)
    item = deps.live.read(tenant_id, queue_id)
    counters = {k.removeprefix(f"c_{day}_"): v for k, v in item.items() if k.startswith(f"c_{day}_")}
    gauges = {g: item.get(f"g_{g}", 0) for g in GAUGES}
    oldest = deps.store.waiting_contacts(tenant_id, queue_id, 1)
    oldest_ms = oldest[0].enqueued_at if oldest else None
    return realtime_view(queue_id, day, counters, gauges, oldest_ms, now)


def realtime_all_queues(deps: Dependencies, tenant_id: str) -> list[RealtimeQueueMetrics]:
    return [realtime_queue_metrics(deps, tenant_id, q.queue_id) for q in deps.config.list_queues(tenant_id)]
