"""Live metrics: the stream consumer's fold and the real-time read model."""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ccaas.bootstrap import Dependencies
from ccaas.domain.events import Event, EventType, MalformedEvent, check_time
from ccaas.domain.live_metrics import (
    MetricUpdate,
    RealtimeQueueMetrics,
    SequencedEvent,
    WritePlan,
    abandon_days,
    fold_batch,
    gauge_value,
    kept_abandons,
    negative_gauges,
    page_day,
    page_expiry_s,
    pad_sequence,
    plan_write,
    realtime_view,
)
from ccaas.domain.vocabulary import Conflict, NotFound
from ccaas.usecases.tenancy import kpi_settings_of, time_zone_of

if TYPE_CHECKING:  # the live-metrics consumer never builds a contact or a queue: it reads them from the read side
    from ccaas.domain.kpis.settings import KpiSettings
    from ccaas.domain.models import Contact, Queue

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (tenant_id, queue_id)

# The item each (tenant, queue) had after the last write this process made or saw, per live-metrics
# store (weakly, like the time-zone cache). Planning against it saves the read before the write; the
# write's conditions (shard watermark, tags of the slots it touches) catch an item that moved since.
_MAX_CACHED_ITEMS = 10_000
# Writes of one queue's item per batch before the batch fails: a write another shard's consumer beat is read
# again and planned on (two shards' first batches for a new queue item, a minute slot reset by both at once).
WRITE_ATTEMPTS = 3
_items: weakref.WeakKeyDictionary[object, dict[Key, dict[str, Any]]] = weakref.WeakKeyDictionary()
_items_lock = threading.Lock()
# When the consumer last read each (tenant, queue)'s oldest waiting contact, per live-metrics store (view_after_write).
OLDEST_REREAD_MS = 30_000
_oldest_reads: weakref.WeakKeyDictionary[object, dict[Key, int]] = weakref.WeakKeyDictionary()
# The abandon pages' entries of each (tenant, queue, day) this process wrote or read, per live-metrics store: the
# views it reports after a write classify them without a read while they are all the queue's item counts
# (live_metrics.kept_abandons); a day with more (written by another shard's consumer) is read again.
_MAX_CACHED_DAYS = 1_000
_abandons: weakref.WeakKeyDictionary[object, dict[tuple[str, str, str], set[str]]] = weakref.WeakKeyDictionary()
# The gauges last logged below zero per (tenant, queue), per live-metrics store (_warn_below_zero).
_below_zero: weakref.WeakKeyDictionary[object, dict[Key, tuple[str, ...]]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class AppliedUpdate:
    update: MetricUpdate
    item: dict[str, Any]  # the item after the write: what the EMF metrics report


def is_first_delivery(deps: Dependencies, record: SequencedEvent) -> bool:
    """False for a copy of an event published twice (same event id, another stream record)."""
    return deps.dedup.first_sequence(record.event, record.sequence) == record.sequence


# The events whose payload names the queues an agent serves (queue_ids, previous_queue_ids).
AGENT_EVENTS = frozenset({EventType.AGENT_STATUS_CHANGED, EventType.AGENT_ACTIVITY_CHANGED})


def accept_record(deps: Dependencies, data: bytes, shard_id: str, sequence: str) -> SequencedEvent:
    """One stream record as the batch will apply it, or MalformedEvent (a poison record, reported as a batch item
    failure) when it is not an event, a payload field the fold reads has the wrong type or range, it happened
    further ahead of now than a clock can drift, or a contact event names a queue its tenant does not have (an agent
    event's queues need not exist yet). Checked here, per record: found in the batch's fold or write, any of
    these failed every record of the batch."""
    try:
        event = Event.model_validate_json(data)
    except ValidationError as error:
        fields = sorted({".".join(map(str, e["loc"])) or "(record)" for e in error.errors()})
        raise MalformedEvent(f"not an event: {', '.join(fields)[:200]}") from None
    check_time(event, deps.clock.now_ms())
    record = SequencedEvent(event=event, shard_id=shard_id, sequence=pad_sequence(sequence))
    queue_ids = {c.queue_id for c in record.parts if c.queue_id}  # MalformedEvent for a payload the fold cannot read
    if event.type in AGENT_EVENTS:
        # An agent may be assigned a queue before it is made (PUT /agents does not require it): it counts there
        # too, so the queue made later shows it at once, and the agent's next event, which takes it out of the
        # queue's gauges, finds it in them (left out, that event took the new queue's gauges below zero).
        return record
    if any(not _queue_exists(deps, event.tenant_id, q) for q in queue_ids):
        raise MalformedEvent("payload names a queue its tenant does not have")
    return record


def _queue_exists(deps: Dependencies, tenant_id: str, queue_id: str) -> bool:
    try:
        deps.config.get_queue(tenant_id, queue_id)  # cached for a few seconds per container
    except NotFound:
        return False
    return True


def apply_records(deps: Dependencies, shard_id: str, records: Sequence[SequencedEvent]) -> list[AppliedUpdate]:
    """A stream batch into live metrics: re-published copies dropped, the rest applied with one
    conditional write per (tenant, queue), then the batch's first sightings stored.

    One read of the batch's event ids before the writes and one write of the new ones after (instead
    of a conditional write per record before): a batch that fails in between is delivered again and
    the watermark skips what it had applied. Only events that count in a queue are deduplicated: a
    copy of one that adds nothing (a hold, an offer, a consult, an agent event that moves no gauge)
    would add nothing either, so it needs no idempotency record (a write unit each)."""
    records = [r for r in records if any(c.queue_id for c in r.parts)]
    if not records:
        return []
    dedup = deps.dedup
    first_in_batch: dict[str, str] = {}
    for r in records:
        event_id = r.event.event_id
        first_in_batch[event_id] = min(first_in_batch.get(event_id, r.sequence), r.sequence)
    stored = dedup.seen(list(first_in_batch))
    first = {**first_in_batch, **stored}
    applied = apply_batch(deps, shard_id, [r for r in records if first[r.event.event_id] == r.sequence])
    new = {e: s for e, s in first_in_batch.items() if e not in stored}
    if new:
        dedup.remember(new)
    # A queue an agent serves before it is made has its gauges, and no view to report or push yet.
    return [a for a in applied if _queue_exists(deps, a.update.tenant_id, a.update.queue_id)]


def apply_batch(deps: Dependencies, shard_id: str, records: Sequence[SequencedEvent]) -> list[AppliedUpdate]:
    """One conditional write per (tenant, queue) for the whole batch, guarded by the shard watermark.

    Items this process wrote (or read) before are planned against as they were then, without a read:
    only the watermark and the slot tags matter to a plan, and the write's conditions check exactly
    those, so an item another writer moved fails the write, and is then read and planned again (up to
    WRITE_ATTEMPTS writes, then the batch fails and the stream delivers it again). A plan that resets a slot
    (a new minute or day) reads the item first: the reset removes the old period's counters, and only a
    fresh item lists them all."""
    keys = list(dict.fromkeys((r.event.tenant_id, c.queue_id) for r in records for c in r.parts if c.queue_id))
    if not keys:
        return []
    with _items_lock:
        cache = _items.setdefault(deps.live, {})
    items: dict[Key, dict[str, Any]] = {k: cache[k] for k in keys if k in cache}
    fresh = {k for k in keys if k not in items}
    if fresh:
        items.update(deps.live.snapshots(fresh))
    zones = {tenant_id: time_zone_of(deps, tenant_id) for tenant_id in dict.fromkeys(t for t, _ in keys)}

    def plans(for_keys: set[Key] | None = None) -> dict[Key, tuple[MetricUpdate, WritePlan]]:
        watermarks = {k: item[f"wm_{shard_id}"] for k, item in items.items() if f"wm_{shard_id}" in item}
        out = {}
        for update in fold_batch(records, watermarks, zones):
            key = (update.tenant_id, update.queue_id)
            if for_keys is None or key in for_keys:
                out[key] = (update, plan_write(update, items.get(key, {})))
        return out

    planned = plans()
    stale = {k for k, (_, plan) in planned.items() if plan.resets and k not in fresh}
    if stale:
        items.update(_reread(deps, stale))
        for key in stale:
            del planned[key]
        planned.update(plans(stale))
    applied = []
    for key, (update, plan) in planned.items():
        _add_abandons(deps, update)  # first: the item's `abandons_kept` never counts entries that are not there
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                after = deps.live.write(key[0], key[1], plan)
                break
            except Conflict:
                # Another writer moved the item since it was read (another shard's consumer reset a slot, or
                # made the item first): read it again and plan on it; a few times, then the batch fails and
                # comes again (the shard watermark keeps the queues it did write from counting twice).
                cache.pop(key, None)
                if attempt == WRITE_ATTEMPTS:
                    raise
                items.update(_reread(deps, {key}))
                retry = plans({key}).get(key)
                if retry is None:
                    after = None  # another delivery of this shard applied these records already
                    break
                update, plan = retry
        if after is None:
            continue
        _remember(cache, key, after)
        _warn_below_zero(deps, key, after)
        applied.append(AppliedUpdate(update, after))
    return applied


def _warn_below_zero(deps: Dependencies, key: Key, item: dict[str, Any]) -> None:
    """A gauge below zero is shown as 0 (live_metrics.gauge_value) but never silently: each agent's and contact's
    moves sum to what it counts in now, so one below zero means an event was lost or taken twice (an event whose
    publish failed for good, an item written before a fix). Logged with the queue and the gauges' names only, once
    per process while the same gauges stay below zero (not at every batch: log ingestion is billed)."""
    below = tuple(sorted(negative_gauges(item)))
    with _items_lock:
        logged = _below_zero.setdefault(deps.live, {})
        if logged.get(key, ()) == below:
            return
        if len(logged) >= _MAX_CACHED_ITEMS:
            logged.clear()
        logged[key] = below
    if below:
        logger.warning("live gauge below zero", extra={"tenant_id": key[0], "queue_id": key[1], "gauges": list(below)})


def _add_abandons(deps: Dependencies, update: MetricUpdate) -> None:
    """The update's abandon pages, each one idempotent write (a set), remembered for the views after the write."""
    if not update.abandons:
        return
    cache = _abandon_cache(deps)
    for page, entries in update.abandons.items():
        stored = deps.live.add_abandons(update.tenant_id, update.queue_id, page, entries, page_expiry_s(page))
        with _items_lock:
            cache.setdefault((update.tenant_id, update.queue_id, page_day(page)), set()).update(stored)


def _abandon_cache(deps: Dependencies) -> dict[tuple[str, str, str], set[str]]:
    with _items_lock:
        cache = _abandons.setdefault(deps.live, {})
        if len(cache) > _MAX_CACHED_DAYS:
            cache.clear()  # a process seeing more queue-days than that reads each again once
        return cache


def _reread(deps: Dependencies, keys: set[Key]) -> dict[Key, dict[str, Any]]:
    found = deps.live.snapshots(keys)
    return {k: found.get(k, {}) for k in keys}


def _remember(cache: dict[Key, dict[str, Any]], key: Key, item: dict[str, Any]) -> None:
    with _items_lock:
        if key not in cache and len(cache) >= _MAX_CACHED_ITEMS:
            cache.pop(next(iter(cache)), None)
        cache[key] = item


# Journey-test contacts read past at most, at the head of a queue, for the real contacts behind them.
MAX_SYNTHETIC_AHEAD = 100


def real_waiting(deps: Dependencies, tenant_id: str, queue_id: str, limit: int,
                 first: Sequence[Contact] | None = None) -> list[Contact]:
    """The queue's `limit` longest-waiting real contacts. A journey test's (synthetic) contacts count in no metric
    or alert, and must not hide the real ones behind them either: when they took part of a full first page
    (`first`, if already read), the queue is read again, up to MAX_SYNTHETIC_AHEAD contacts further."""
    from ccaas.domain.routing_engine.synthetic import is_synthetic  # noqa: PLC0415 - a tiny module, on first use

    read = deps.store.waiting_contacts(tenant_id, queue_id, limit) if first is None else first
    real = [c for c in read if not is_synthetic(c)]
    if len(real) < len(read) >= limit:
        read = deps.store.waiting_contacts(tenant_id, queue_id, limit + MAX_SYNTHETIC_AHEAD)
        real = [c for c in read if not is_synthetic(c)]
    return real[:limit]


def view_of(deps: Dependencies, tenant_id: str, queue_id: str, item: dict[str, Any], *, with_oldest: bool = True,
            abandons: Mapping[str, Collection[str]] | None = None) -> RealtimeQueueMetrics:
    """The queue's view of its live item. `abandons`: its abandon pages' entries (live_metrics.abandon_days), read
    when not given (a Query a day, only for days the item counts some in)."""
    queue = deps.config.get_queue(tenant_id, queue_id)
    oldest = real_waiting(deps, tenant_id, queue_id, 1) if with_oldest else []
    if abandons is None:
        abandons = _read_abandons(deps, tenant_id, queue_id, item)
    return _view(deps, queue, item, oldest, time_zone_of(deps, tenant_id), kpi_settings_of(deps, tenant_id), abandons)


def view_after_write(deps: Dependencies, applied: AppliedUpdate) -> RealtimeQueueMetrics:
    """The view the stream consumer reports (EMF gauges) and pushes to watchers after its write. The queue's oldest
    waiting contact is read when the written item's in-queue gauge counts one, and otherwise at least every
    OLDEST_REREAD_MS: a gauge can count fewer than wait (another shard's events not applied yet, an event whose
    publish failed for good), and the oldest wait, which the OldestContactTooOld alarm watches, must show such a
    contact within that bound. Reading each queue's oldest after every write was 5.3 Queries per completed contact
    on the busy-day bench, most of them of queues nobody waited in."""
    update = applied.update
    key = (update.tenant_id, update.queue_id)
    now = deps.clock.now_ms()
    with _items_lock:
        last_reads = _oldest_reads.setdefault(deps.live, {})
        last = last_reads.get(key)
        read = gauge_value(applied.item, "in_queue") > 0 or last is None or now - last >= OLDEST_REREAD_MS
        if read:
            if key not in last_reads and len(last_reads) >= _MAX_CACHED_ITEMS:
                last_reads.clear()  # a process seeing more queues than that reads each again once
            last_reads[key] = now
    return view_of(deps, update.tenant_id, update.queue_id, applied.item, with_oldest=read,
                   abandons=_cached_abandons(deps, key, applied.item))


def _cached_abandons(deps: Dependencies, key: Key, item: dict[str, Any]) -> dict[str, set[str]]:
    """The abandon pages' entries the view of the item just written needs, from this process's cache, each day read
    again when the item counts more than the cache holds (another shard's consumer added some)."""
    cache = _abandon_cache(deps)
    days = abandon_days(item, deps.clock.now_ms(), time_zone_of(deps, key[0]))
    stale = [d for d in days if len(cache.get((*key, d), ())) < kept_abandons(item, d)]
    if stale:
        fresh = deps.live.abandons(key[0], key[1], stale)
        with _items_lock:
            for day, entries in fresh.items():
                cache.setdefault((*key, day), set()).update(entries)
    return {d: cache.get((*key, d), set()) for d in days}


def _read_abandons(deps: Dependencies, tenant_id: str, queue_id: str, item: Mapping[str, Any]) -> dict[str, set[str]]:
    """The abandon pages the view of `item` needs (none read when the item counts no abandon kept for them)."""
    days = abandon_days(item, deps.clock.now_ms(), time_zone_of(deps, tenant_id))
    return deps.live.abandons(tenant_id, queue_id, days) if days else {}


def _view(deps: Dependencies, queue: Queue, item: dict[str, Any], oldest: Sequence[Contact], time_zone: str,
          settings: KpiSettings, abandons: Mapping[str, Collection[str]]) -> RealtimeQueueMetrics:
    return realtime_view(
        queue.queue_id,
        item,
        now_ms=deps.clock.now_ms(),
        time_zone=time_zone,
        oldest_enqueued_ms=oldest[0].enqueued_at if oldest else None,
        sl_target=queue.sl_target,
        service_level_variant=settings.service_level_variant,
        abandonment_variant=settings.abandonment_variant,
        short_abandon_ms=settings.short_abandon_s * 1000,  # in force now, as history classifies at read time
        abandons=abandons,
    )


# The reads below take the live item LAST: configuration and the waiting list change rarely or are
# read only for the oldest wait, while the counters change with every stream batch, so reading them
# last makes the response as fresh as it can be.


def realtime_queue_metrics(deps: Dependencies, tenant_id: str, queue_id: str) -> RealtimeQueueMetrics:
    queue = deps.config.get_queue(tenant_id, queue_id)
    oldest = real_waiting(deps, tenant_id, queue_id, 1)
    time_zone, settings = time_zone_of(deps, tenant_id), kpi_settings_of(deps, tenant_id)
    item = deps.live.read(tenant_id, queue_id)
    return _view(deps, queue, item, oldest, time_zone, settings, _read_abandons(deps, tenant_id, queue_id, item))


def realtime_all_queues(deps: Dependencies, tenant_id: str) -> list[RealtimeQueueMetrics]:
    queues = deps.config.list_queues(tenant_id)  # the queues themselves: no get_queue per queue
    oldest = deps.store.waiting_in_queues(tenant_id, [q.queue_id for q in queues], 1)
    time_zone, settings = time_zone_of(deps, tenant_id), kpi_settings_of(deps, tenant_id)
    items = deps.live.snapshots((tenant_id, q.queue_id) for q in queues)
    views = []
    for q in queues:
        item = items.get((tenant_id, q.queue_id), {})
        views.append(_view(deps, q, item, real_waiting(deps, tenant_id, q.queue_id, 1, oldest[q.queue_id]), time_zone,
                           settings, _read_abandons(deps, tenant_id, q.queue_id, item)))
    return views
