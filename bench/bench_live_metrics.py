"""Live metrics: events per second through the batch fold, and writes per batch (goal: one per
(tenant, queue) per batch). Event-to-API freshness on the local runtime is in bench_local_runtime."""
from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime

from bench.table import print_table
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import SequencedEvent, fold_batch, pad_sequence
from ccaas.domain.models import Queue
from ccaas.domain.tenants import Tenant
from ccaas.usecases import metrics

TENANTS, QUEUES_PER_TENANT = 4, 5


def synthetic_events(n: int, seed: int = 1) -> list[SequencedEvent]:
    """A realistic mix: each contact queues, connects, completes; agents change activity."""
    rng = random.Random(seed)
    start = 1_764_000_000_000
    out = []
    for i in range(n):
        tenant, queue = f"t{rng.randrange(TENANTS)}", f"q{rng.randrange(QUEUES_PER_TENANT)}"
        at = start + i * 50
        kind = rng.choice(["contact.queued", "contact.connected", "contact.completed", "agent.activity_changed"])
        payload = {"queue_id": queue, "channel": rng.choice(["VOICE", "CHAT"]), "sl_threshold_s": 20,
                   "enqueued_at": at - rng.randrange(60_000), "connected_at": at - 1000, "acw_ended_at": at,
                   "queue_ids": [queue], "previous_activity": "AVAILABLE", "activity": "ON_CONTACT"}
        event = Event(event_id=uuid.uuid4().hex, tenant_id=tenant, type=kind, subject=f"contact/{i}", sequence=1,
                      occurred_at=datetime.fromtimestamp(at / 1000, tz=UTC), payload=payload)
        out.append(SequencedEvent(event=event, shard_id="shardId-0", sequence=pad_sequence(str(10**20 + i))))
    return out


def main() -> None:
    records = synthetic_events(50_000)
    rows = []
    for batch_size in (100, 500):
        started = time.perf_counter()
        folded = 0
        for at in range(0, len(records), batch_size):
            folded += len(fold_batch(records[at : at + batch_size], {}))
        fold_s = time.perf_counter() - started

        deps = memory_dependencies()
        for t in range(TENANTS):
            deps.config.put_tenant(Tenant(tenant_id=f"t{t}", name="bench"))
            for q in range(QUEUES_PER_TENANT):
                deps.config.put_queue(Queue(tenant_id=f"t{t}", queue_id=f"q{q}", name="bench"))
        started = time.perf_counter()
        batches = 0
        for at in range(0, len(records), batch_size):
            metrics.apply_batch(deps, "shardId-0", records[at : at + batch_size])
            batches += 1
        apply_s = time.perf_counter() - started
        items = TENANTS * QUEUES_PER_TENANT
        rows.append([batch_size, len(records), f"{len(records) / fold_s:,.0f}", f"{len(records) / apply_s:,.0f}",
                     f"{deps.live.writes / batches:.1f}", items, f"{deps.live.writes / batches / items:.2f}"])
    print_table(
        "Live metrics fold (50,000 events, 4 tenants x 5 queues)",
        ["batch", "events", "fold events/s", "fold+plan+write events/s", "writes/batch", "queues", "writes/batch/queue (goal <= 1)"],
        rows,
    )


if __name__ == "__main__":
    main()
