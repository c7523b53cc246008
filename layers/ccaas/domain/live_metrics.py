"""Real-time queue metrics from the event stream, as additive counters (pure).

Each event contributes deltas to one or more (tenant, queue) items. A stream batch is folded in
memory into ONE update per (tenant, queue); each update carries the shard's sequence watermark, so a
redelivered batch adds nothing twice (records at or below the stored watermark are skipped).
Counters are per day (UTC day of the event); gauges (in queue, agents by activity) are not.
Sums commute, so out-of-order events within and across batches give the same totals.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from ccaas.domain.events import AgentActivity, Event, EventType

COUNTERS = (
    "offered",
    "answered",
    "answered_within_sl",
    "abandoned",
    "abandoned_within_sl",
    "wait_ms_answered",
    "completed",
    "handle_ms",
)
ACTIVITY_GAUGES = {a.value: f"agents_{a.value.lower()}" for a in AgentActivity}
GAUGES = ("in_queue", "agents_staffed", *ACTIVITY_GAUGES.values())
# Contacts in these states had been counted into `in_queue` (offered contacts still wait for the customer).
_WAITING_STATES = frozenset({"QUEUED", "OFFERED"})


def pad_sequence(sequence: str) -> str:
    """Kinesis sequence numbers are decimal strings of up to 128 digits: compare them padded."""
    return sequence.zfill(128)


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y%m%d")


def contributions(event: Event) -> list[tuple[str, dict[str, int], dict[str, int]]]:
    """(queue_id, counter deltas, gauge deltas) for one event; unknown types contribute nothing."""
    p = event.payload
    kind = event.type
    queue_id = p.get("queue_id")
    if kind == EventType.CONTACT_QUEUED:
        return [(queue_id, {"offered": 1}, {"in_queue": 1})]
    if kind == EventType.CONTACT_CONNECTED:
        wait_ms = max(0, int(p["connected_at"]) - int(p["enqueued_at"]))
        within = int(wait_ms <= int(p.get("sl_threshold_s", 20)) * 1000)
        counters = {"answered": 1, "answered_within_sl": within, "wait_ms_answered": wait_ms}
        return [(queue_id, counters, {"in_queue": -1})]
    if kind == EventType.CONTACT_ABANDONED:
        if p.get("previous_state") not in _WAITING_STATES:
            return []  # never reached the queue: not offered, not abandoned from it
        wait_ms = max(0, int(p["disconnected_at"]) - int(p["enqueued_at"]))
        within = int(wait_ms <= int(p.get("sl_threshold_s", 20)) * 1000)
        return [(queue_id, {"abandoned": 1, "abandoned_within_sl": within}, {"in_queue": -1})]
    if kind == EventType.CONTACT_COMPLETED:
        handle_ms = max(0, int(p.get("acw_ended_at") or 0) - int(p.get("connected_at") or 0))
        return [(queue_id, {"completed": 1, "handle_ms": handle_ms}, {})]
    if kind in (EventType.AGENT_STATUS_CHANGED, EventType.AGENT_ACTIVITY_CHANGED):
        before, after = p.get("previous_activity"), p.get("activity")
        if before == after:
            return []
        gauges: dict[str, int] = defaultdict(int)
        if before in ACTIVITY_GAUGES:
            gauges[ACTIVITY_GAUGES[before]] -= 1
        if after in ACTIVITY_GAUGES:
            gauges[ACTIVITY_GAUGES[after]] += 1
        staffed_before = before not in (None, AgentActivity.OFFLINE)
        staffed_after = after not in (None, AgentActivity.OFFLINE)
        gauges["agents_staffed"] += int(staffed_after) - int(staffed_before)
        return [(q, {}, dict(gauges)) for q in p.get("queue_ids", [])]
    return []


class MetricUpdate(BaseModel):
    """Everything one batch adds to one (tenant, queue) item, with the watermark move that guards it."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    queue_id: str
    shard_id: str
    expected_watermark: str | None
    new_watermark: str
    counters: dict[str, dict[str, int]] = Field(default_factory=dict, description="day -> counter -> delta")
    gauges: dict[str, int] = Field(default_factory=dict)
    events: int = 0


@dataclass(frozen=True)
class SequencedEvent:
    event: Event
    shard_id: str
    sequence: str  # padded


def fold_batch(
    records: Iterable[SequencedEvent], watermarks: Mapping[tuple[str, str], str]
) -> list[MetricUpdate]:
    """One MetricUpdate per (tenant, queue, shard) for the records above that item's watermark."""
    counters: dict[tuple[str, str, str], dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    gauges: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    high: dict[tuple[str, str, str], str] = {}
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for record in records:
        event = record.event
        for queue_id, counter_deltas, gauge_deltas in contributions(event):
            if not queue_id:
                continue
            item = (event.tenant_id, queue_id)
            if record.sequence <= watermarks.get(item, ""):
                continue  # applied by an earlier delivery of this batch
            key = (event.tenant_id, queue_id, record.shard_id)
            day = day_of(event.occurred_ms)
            for name, delta in counter_deltas.items():
                counters[key][day][name] += delta
            for name, delta in gauge_deltas.items():
                gauges[key][name] += delta
            high[key] = max(high.get(key, ""), record.sequence)
            seen[key] += 1
    return [
        MetricUpdate(
            tenant_id=tenant_id,
            queue_id=queue_id,
            shard_id=shard_id,
            expected_watermark=watermarks.get((tenant_id, queue_id)),
            new_watermark=high[(tenant_id, queue_id, shard_id)],
            counters={d: dict(c) for d, c in counters[(tenant_id, queue_id, shard_id)].items()},
            gauges={g: n for g, n in gauges[(tenant_id, queue_id, shard_id)].items() if n},
            events=seen[(tenant_id, queue_id, shard_id)],
        )
        for (tenant_id, queue_id, shard_id) in high
    ]


class RealtimeQueueMetrics(BaseModel):
    queue_id: str
    day: str
    in_queue: int
    oldest_wait_s: float | None
    agents_staffed: int
    agents_available: int
    agents_on_contact: int
    agents_acw: int
    agents_not_ready: int
    offered: int
    answered: int
    abandoned: int
    completed: int
    answered_within_sl: int
    service_level: float | None = Field(description="answered within T / (answered + abandoned after T), today")
    asa_s: float | None = Field(description="average speed of answer today, seconds")
    abandonment_rate: float | None
    aht_s: float | None


def realtime_view(
    queue_id: str, day: str, counters: Mapping[str, int], gauges: Mapping[str, int], oldest_enqueued_ms: int | None,
    now_ms: int,
) -> RealtimeQueueMetrics:
    def c(name: str) -> int:
        return int(counters.get(name, 0))

    def g(name: str) -> int:
        return max(0, int(gauges.get(name, 0)))

    answered, abandoned = c("answered"), c("abandoned")
    # Live SL counts resolved contacts only: a contact still waiting has not met or missed T yet.
    sl_base = answered + abandoned - c("abandoned_within_sl")
    return RealtimeQueueMetrics(
        queue_id=queue_id,
        day=day,
        in_queue=g("in_queue"),
        oldest_wait_s=None if oldest_enqueued_ms is None else max(0.0, (now_ms - oldest_enqueued_ms) / 1000),
        agents_staffed=g("agents_staffed"),
        agents_available=g(ACTIVITY_GAUGES["AVAILABLE"]),
        agents_on_contact=g(ACTIVITY_GAUGES["ON_CONTACT"]),
        agents_acw=g(ACTIVITY_GAUGES["ACW"]),
        agents_not_ready=g(ACTIVITY_GAUGES["NOT_READY"]),
        offered=c("offered"),
        answered=answered,
        abandoned=abandoned,
        completed=c("completed"),
        answered_within_sl=c("answered_within_sl"),
        service_level=c("answered_within_sl") / sl_base if sl_base else None,
        asa_s=c("wait_ms_answered") / answered / 1000 if answered else None,
        abandonment_rate=abandoned / c("offered") if c("offered") else None,
        aht_s=c("handle_ms") / c("completed") / 1000 if c("completed") else None,
    )
