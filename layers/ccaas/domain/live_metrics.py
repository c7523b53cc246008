"""Real-time queue metrics from the event stream, as additive counters in one item per (tenant, queue).

A stream batch is folded in memory into ONE update per (tenant, queue). The item holds:
- gauges `g_<name>` (in queue, agents by activity — one gauge per events.AgentActivity but OFFLINE, so staffed =
  available + reserved + on contact + ACW + not ready; `#<CHANNEL>` suffix for the per-channel split),
- a ring of DAY_SLOTS day slots `d<k>_<counter>` tagged `d<k>_at` = the tenant-local date they hold,
- a ring of MINUTE_SLOTS one-minute slots `m<k>_<counter>` tagged `m<k>_at` = the epoch minute,
  so "today" and "the last 15 minutes" are sums over slots whose tag is current, and the item never
  grows: a slot whose tag is stale is reset by the first write of its new period,
- the shard watermark `wm_<shard>`: the highest stream sequence applied from that shard, so a
  redelivered batch adds nothing twice (records at or below it are skipped).
Sums commute, so out-of-order events within and across batches give the same totals.

Transfers (DOMAIN "Moving work between people"): queue counters are per segment, in the queue the
segment entered. `contact.transferred` (on the segment its agent left) adds `transferred_out` to that
segment's queue and `transferred_in` to the next segment's queue (`to_queue_id`: the target queue, or
the sender's own queue for a transfer to a named agent; none for an external number). A segment
offered straight to a named agent never waits in the queue (`enqueued_at` null): its connect or
abandon adds no wait, no answer and no abandon, and moves no `in_queue`. A consult leg withdrawn
before it was answered (`contact.abandoned`, reason CONSULT_CANCELLED) leaves the queue but is not an
abandon. Such a segment rejected or missed by its agent enters the queue then (lifecycle.decline):
counted as offered and waiting when its `contact.offer_declined` payload says `entered_queue`.

A cancelled consult leg (it ends with `consult_of` still in its payload: withdrawn, or answered and then
ended without a transfer) is agent-to-agent work, not a customer contact (history's `consult_leg`). It was
queued, and maybe answered, before anyone knew it would be cancelled, so its last event takes back what it
added: offered, and answered / within T / wait when it was answered; it adds no completion or handle time.
A contact whose wait the system ended (abandon reason QUEUE_TIMEOUT or CALLBACK_EXPIRED) is `timed_out`:
offered, not answered, and not abandoned (the customer did not leave); it is a service-level miss.

Short abandons are classified when the view is read, by the tenant's `short_abandon_s` in force then, as history
classifies its records at read time (a change of the setting shows at once, for the whole day): each abandon whose
wait was at most MAX_SHORT_ABANDON_MS (the setting's bound) is kept, its wait and minute, in an item of its own
beside the queue's (`abandon pages`: one per queue, enqueue day and hour, written only by batches with such abandons,
never by the per-event write of the queue's item, whose size every event pays for); the day slot counts them
(`abandons_kept`) so a reader knows whether it has them all. An item written before this kept a `short_abandoned`
counter classified by the setting of the moment it was folded: still added in, for the day it covers.

Which period a count goes in: queue-side counters (offered, answered, abandoned, timed out, kept abandons,
within T, wait) in the day slot of the contact's enqueue time, as history buckets queue metrics; handling
and transfer counters in the day of the event. The one-minute slots take every counter at the event's
minute (the ring holds 16 minutes: an enqueue an hour old has no slot to land in), except a retraction,
which lands in the minute its counts were added (out of the ring by then: dropped with them).
Hold, consult and conference events add nothing (a hold gauge could not be kept: a hold
also ends when the contact is disconnected or transferred, and those events do not say it was held).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from ccaas.domain.events import AgentActivity, Event, EventType, MalformedEvent
from ccaas.domain.routing_engine.estimates import QueueStats, estimate_wait

COUNTERS = (
    "offered",
    "answered",
    "answered_within_sl",
    "abandoned",
    "abandoned_within_sl",
    "abandons_kept",  # day slots only, no channel split: abandons whose wait is in an abandon page
    "timed_out",
    "wait_ms_answered",
    "completed",
    "handle_ms",
    "transferred_out",
    "transferred_in",
)
# No OFFLINE gauge: an agent is first seen when it leaves OFFLINE, so counting offline agents from events
# would go negative; offline = roster - staffed, which the roster (not the stream) knows.
ACTIVITY_GAUGES = {a.value: f"agents_{a.value.lower()}" for a in AgentActivity if a is not AgentActivity.OFFLINE}
GAUGES = ("in_queue", "agents_staffed", *ACTIVITY_GAUGES.values())
DAY_SLOTS = 2
MINUTE_SLOTS = 16  # the sliding 15 minutes plus the minute being filled
WINDOW_MINUTES = 15
# KpiSettings.short_abandon_s's default and bound, in ms, for a view whose tenant settings were not given (the
# consumer does not import the KPI package at cold start; tests pin them to KpiSettings).
DEFAULT_SHORT_ABANDON_MS = 5_000
MAX_SHORT_ABANDON_MS = 600_000  # an abandon that waited longer is short under no setting: its wait is not kept
KEPT_ABANDONS = "abandons_kept"
# Contacts in these states had been counted into `in_queue` (offered contacts still wait for the customer).
_WAITING_STATES = frozenset({"QUEUED", "OFFERED", "CALLBACK_SCHEDULED"})
# ccaas.domain.transfers.CONSULT_CANCELLED (a consult leg withdrawn by its consulting agent) and TRANSFER_WITHDRAWN (a
# segment whose workflow could not start): out of the queue, not abandoned.
_WITHDRAWN = frozenset({"CONSULT_CANCELLED", "TRANSFER_WITHDRAWN"})
# Abandon reasons of a wait the system ended (usecases.contacts.recheck): the customer did not leave.
_TIMED_OUT = frozenset({"QUEUE_TIMEOUT", "CALLBACK_EXPIRED"})


def pad_sequence(sequence: str) -> str:
    """Kinesis sequence numbers are decimal strings of up to 128 digits: compare them padded."""
    return sequence.zfill(128)


def local_day(ms: int, tz: str = "UTC") -> str:
    return datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(tz)).strftime("%Y%m%d")


def day_slot(day: str) -> int:
    return datetime.strptime(day, "%Y%m%d").toordinal() % DAY_SLOTS


def epoch_minute(ms: int) -> int:
    return ms // 60_000


def sliding_minutes(now_ms: int, minutes: int = WINDOW_MINUTES) -> range:
    """The epoch minutes of "the last `minutes` minutes": the one being filled and the `minutes - 1` before it.
    One definition for the live view's `last_15_minutes` and the service-level alert (ccaas.domain.alerts)."""
    now_minute = epoch_minute(now_ms)
    return range(now_minute - minutes + 1, now_minute + 1)


@dataclass(frozen=True)
class Contribution:
    """What one event adds to one queue. `day_ms` (None: the event's time) is the instant whose tenant-local day
    the counters go in; `minute_ms` (None: the event's time) the instant whose minute slot they go in.
    `abandon_wait_ms` is the wait of a customer who left: a short abandon or not by the tenant's
    `short_abandon_s` in force when the view is read (kept in an abandon page when it may be one)."""

    queue_id: str
    channel: str | None
    counters: Mapping[str, int] = field(default_factory=dict)
    gauges: Mapping[str, int] = field(default_factory=dict)
    day_ms: int | None = None
    minute_ms: int | None = None
    abandon_wait_ms: int | None = None


_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: no instant or duration of a contact is larger
_MAX_THRESHOLD_S = 7 * 86_400


def _number(payload: Mapping[str, Any], name: str, maximum: int, what: str, default: int | None = None) -> int:
    """A non-negative number field up to `maximum`, as an int (absent or null: `default`)."""
    value = payload.get(name)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= maximum:
        raise MalformedEvent(f"payload.{name} must be {what}")
    return int(value)


def _ms(payload: Mapping[str, Any], name: str, default: int | None = None) -> int:
    """An epoch-millisecond field."""
    return _number(payload, name, _MAX_MS, "epoch milliseconds", default)


def _text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedEvent(f"payload.{name} must be a string")
    return value


def _within(wait_ms: int, payload: Mapping[str, Any]) -> int:
    return int(wait_ms <= _number(payload, "sl_threshold_s", _MAX_THRESHOLD_S, "seconds", 20) * 1000)


# The contact events whose counts are queue-side (bucketed by enqueue time), and a cancelled leg's completion.
_QUEUE_SIDE = frozenset({EventType.CONTACT_QUEUED, EventType.CONTACT_OFFER_DECLINED, EventType.CONTACT_CONNECTED,
                         EventType.CONTACT_ABANDONED, EventType.CONTACT_COMPLETED})


def _consult_leg(payload: Mapping[str, Any]) -> bool:
    """A consult leg's event: at the leg's last event, a leg that was cancelled (a completed consult or a
    conference clears `consult_of` first)."""
    return payload.get("consult_of") is not None or payload.get("reason") == "CONSULT_CANCELLED"


def contributions(event: Event) -> list[Contribution]:
    """What one event adds to its queue(s); unknown types contribute nothing. MalformedEvent for a payload field
    it reads that has the wrong type or range."""
    p = event.payload
    if p.get("synthetic") or p.get("test_agent"):
        return []  # journey tests: a synthetic contact or a test agent counts in no queue metric
    kind = event.type
    queue_id, channel = _text(p, "queue_id"), _text(p, "channel")
    # Queue-side counts go in the day the contact was enqueued (an event without it: the event's day).
    enqueued_at = _ms(p, "enqueued_at") if kind in _QUEUE_SIDE and p.get("enqueued_at") is not None else None
    if kind == EventType.CONTACT_QUEUED:
        return [Contribution(queue_id, channel, {"offered": 1}, {"in_queue": 1}, day_ms=enqueued_at)]
    if kind == EventType.CONTACT_OFFER_DECLINED and p.get("entered_queue"):
        # A segment offered straight to a named agent, rejected or missed, enters the queue only now
        # (lifecycle.decline). Counted if the event says so: its payload cannot tell otherwise.
        return [Contribution(queue_id, channel, {"offered": 1}, {"in_queue": 1}, day_ms=enqueued_at)]
    if kind == EventType.CONTACT_CONNECTED:
        if enqueued_at is None:
            return []  # offered straight to a named agent: not answered from the queue
        wait_ms = max(0, _ms(p, "connected_at") - enqueued_at)
        counters = {"answered": 1, "answered_within_sl": _within(wait_ms, p), "wait_ms_answered": wait_ms}
        return [Contribution(queue_id, channel, counters, {"in_queue": -1}, day_ms=enqueued_at)]
    if kind == EventType.CONTACT_ABANDONED:
        if p.get("previous_state") not in _WAITING_STATES or enqueued_at is None:
            return []  # never reached the queue: not offered, not abandoned from it
        if _consult_leg(p):  # a consult leg withdrawn before it was answered: it was never a customer offered
            return [Contribution(queue_id, channel, {"offered": -1}, {"in_queue": -1}, day_ms=enqueued_at,
                                 minute_ms=enqueued_at)]
        if p.get("reason") in _WITHDRAWN:
            return [Contribution(queue_id, channel, {}, {"in_queue": -1})]  # withdrawn by its agent, not abandoned
        if p.get("reason") in _TIMED_OUT:  # the system ended the wait: offered, not abandoned, a miss
            return [Contribution(queue_id, channel, {"timed_out": 1}, {"in_queue": -1}, day_ms=enqueued_at)]
        wait_ms = max(0, _ms(p, "disconnected_at") - enqueued_at)
        counters = {"abandoned": 1, "abandoned_within_sl": _within(wait_ms, p)}
        return [Contribution(queue_id, channel, counters, {"in_queue": -1}, day_ms=enqueued_at,
                             abandon_wait_ms=wait_ms)]
    if kind == EventType.CONTACT_COMPLETED and _consult_leg(p):
        # A cancelled leg answered from the queue: take back its offer and its answer, count no handling.
        if enqueued_at is None:
            return []  # offered straight to its agent: it counted nothing
        parts = [Contribution(queue_id, channel, {"offered": -1}, day_ms=enqueued_at, minute_ms=enqueued_at)]
        if p.get("connected_at") is not None:
            connected_at = _ms(p, "connected_at")
            wait_ms = max(0, connected_at - enqueued_at)
            answer = {"answered": -1, "answered_within_sl": -_within(wait_ms, p), "wait_ms_answered": -wait_ms}
            parts.append(Contribution(queue_id, channel, answer, day_ms=enqueued_at, minute_ms=connected_at))
        return parts
    if kind in (EventType.CONTACT_TRANSFERRED, EventType.CONTACT_TRANSFER_UNDONE):
        if kind == EventType.CONTACT_TRANSFER_UNDONE and p.get("mode") == "CONSULT":
            return []  # an undone consult start: its consult_started counted nothing
        sign = 1 if kind == EventType.CONTACT_TRANSFERRED else -1  # an undone transfer takes its counts back
        to_queue_id = _text(p, "to_queue_id")
        if to_queue_id == queue_id:  # to a named agent: the next segment stays in this queue
            return [Contribution(queue_id, channel, {"transferred_out": sign, "transferred_in": sign})]
        parts = [Contribution(queue_id, channel, {"transferred_out": sign})]
        if to_queue_id:
            parts.append(Contribution(to_queue_id, channel, {"transferred_in": sign}))
        return parts
    if kind == EventType.CONTACT_COMPLETED:
        handle_ms = max(0, _ms(p, "acw_ended_at", 0) - _ms(p, "connected_at", 0))
        return [Contribution(queue_id, channel, {"completed": 1, "handle_ms": handle_ms})]
    if kind in (EventType.AGENT_STATUS_CHANGED, EventType.AGENT_ACTIVITY_CHANGED):
        return _agent_moves(p)
    return []


def _queue_ids(payload: Mapping[str, Any], name: str, default: list[str] | None = None) -> list[str]:
    queue_ids = payload.get(name)
    queue_ids = (default or []) if queue_ids is None else queue_ids
    if not isinstance(queue_ids, list) or not all(isinstance(q, str) for q in queue_ids):
        raise MalformedEvent(f"payload.{name} must be a list of strings")
    return queue_ids


def _agent_gauges(activity: Any) -> dict[str, int]:
    """The gauges one agent in `activity` counts in, in each queue it serves."""
    if activity in (None, AgentActivity.OFFLINE):
        return {}
    return {"agents_staffed": 1, **({ACTIVITY_GAUGES[activity]: 1} if activity in ACTIVITY_GAUGES else {})}


def _agent_moves(p: Mapping[str, Any]) -> list[Contribution]:
    """An agent event moves the agent from (previous_activity, previous_queue_ids) to (activity, queue_ids):
    out of the gauges of the queues it served, into those of the queues it serves. `previous_queue_ids` comes
    when PUT /agents changed its queues (absent: they did not change); each event starts where the agent's
    previous one ended (one agent's events share a shard, in order), so an agent's moves sum to what it counts in
    now: a gauge below zero means an event was lost (the consumer logs it: usecases.metrics)."""
    before, after = p.get("previous_activity"), p.get("activity")
    queue_ids = _queue_ids(p, "queue_ids")
    served, serves = set(_queue_ids(p, "previous_queue_ids", queue_ids)), set(queue_ids)
    if before == after and served == serves:
        return []
    left, joined = _agent_gauges(before), _agent_gauges(after)
    parts = []
    for q in dict.fromkeys([*queue_ids, *sorted(served - serves)]):
        gauges: dict[str, int] = defaultdict(int)
        if q in served:
            for name, n in left.items():
                gauges[name] -= n
        if q in serves:
            for name, n in joined.items():
                gauges[name] += n
        if any(gauges.values()):  # else nothing moves here (an offline agent added or removed, a queue kept)
            parts.append(Contribution(q, None, {}, dict(gauges)))
    return parts


class MetricUpdate(BaseModel):
    """Everything one batch adds to one (tenant, queue) item, with the watermark move that guards it."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    queue_id: str
    shard_id: str
    expected_watermark: str | None
    new_watermark: str
    days: dict[str, dict[str, int]] = Field(default_factory=dict, description="tenant-local day -> counter -> delta")
    minutes: dict[int, dict[str, int]] = Field(default_factory=dict, description="epoch minute -> counter -> delta")
    gauges: dict[str, int] = Field(default_factory=dict)
    events: int = 0
    abandons: dict[str, list[str]] = Field(
        default_factory=dict, description="abandon page -> the abandon entries it gains (abandon_entry): written before "
                                          "the item, idempotently (a set), so a batch delivered again adds none twice")


@dataclass(frozen=True)
class SequencedEvent:
    event: Event
    shard_id: str
    sequence: str  # padded

    @cached_property
    def parts(self) -> list[Contribution]:
        """`contributions(event)`, worked out once: the record's check, the dedup filter, the batch's keys and
        every fold of a batch (a write that lost a race is planned again) read it."""
        return contributions(self.event)


def _bump(target: dict[str, int], name: str, channel: str | None, delta: int) -> None:
    target[name] = target.get(name, 0) + delta
    if channel:
        target[f"{name}#{channel}"] = target.get(f"{name}#{channel}", 0) + delta


def fold_batch(
    records: Iterable[SequencedEvent],
    watermarks: Mapping[tuple[str, str], str],
    time_zones: Mapping[str, str] | None = None,
) -> list[MetricUpdate]:
    """One MetricUpdate per (tenant, queue) for the records above that item's watermark.

    A Lambda batch comes from one shard, so `watermarks` are that shard's. An abandon that may be short (waited at
    most MAX_SHORT_ABANDON_MS) goes in the update's abandon pages and its day's `abandons_kept`."""
    zones = time_zones or {}
    abandons: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    days: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    minutes: dict[tuple[str, str], dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    gauges: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    high: dict[tuple[str, str], str] = {}
    shard: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for record in records:
        event = record.event
        for part in record.parts:
            if not part.queue_id:
                continue
            item = (event.tenant_id, part.queue_id)
            if record.sequence <= watermarks.get(item, ""):
                continue  # applied by an earlier delivery of this batch
            at_ms = event.occurred_ms if part.day_ms is None else part.day_ms
            day = local_day(at_ms, zones.get(event.tenant_id, "UTC"))
            minute = epoch_minute(event.occurred_ms if part.minute_ms is None else part.minute_ms)
            for name, delta in part.counters.items():
                _bump(days[item][day], name, part.channel, delta)
                minutes[item][minute][name] = minutes[item][minute].get(name, 0) + delta
            if part.abandon_wait_ms is not None and part.abandon_wait_ms <= MAX_SHORT_ABANDON_MS:
                _bump(days[item][day], KEPT_ABANDONS, None, 1)
                abandons[item][abandon_page(day, minute)].append(abandon_entry(minute, part.abandon_wait_ms, event.event_id))
            for name, delta in part.gauges.items():
                _bump(gauges[item], name, part.channel, delta)
            high[item] = max(high.get(item, ""), record.sequence)
            shard[item] = record.shard_id
            seen[item] += 1
    return [
        MetricUpdate(
            tenant_id=tenant_id,
            queue_id=queue_id,
            shard_id=shard[(tenant_id, queue_id)],
            expected_watermark=watermarks.get((tenant_id, queue_id)),
            new_watermark=high[(tenant_id, queue_id)],
            days={d: dict(c) for d, c in days[(tenant_id, queue_id)].items()},
            minutes={m: dict(c) for m, c in minutes[(tenant_id, queue_id)].items()},
            gauges={g: n for g, n in gauges[(tenant_id, queue_id)].items() if n},
            events=seen[(tenant_id, queue_id)],
            abandons={page: list(entries) for page, entries in abandons[(tenant_id, queue_id)].items()},
        )
        for (tenant_id, queue_id) in high
    ]


@dataclass
class WritePlan:
    """The one conditional write that applies an update to an item as it was read.

    `conditions` maps attribute -> the value it must still have (None: must not exist): the shard
    watermark, and the tag of every slot the write touches. `resets` names the slots (prefixes) the
    write moves to a new period: removing the old period's counters needs an item read just before."""

    adds: dict[str, int] = field(default_factory=dict)
    sets: dict[str, Any] = field(default_factory=dict)
    removes: list[str] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)


def plan_write(update: MetricUpdate, item: Mapping[str, Any]) -> WritePlan:
    """Turn an update into ADDs into current slots, and resets (SET/REMOVE) of slots holding an old
    period. Every slot touched is guarded by its tag: two writers cannot both reset one slot, and an
    ADD planned from an item that is no longer current cannot land in a period the slot left."""
    plan = WritePlan()
    watermark = f"wm_{update.shard_id}"
    plan.conditions[watermark] = update.expected_watermark
    plan.sets[watermark] = update.new_watermark

    def slot(prefix: str, tag: Any, deltas: Mapping[str, int]) -> None:
        tag_name = f"{prefix}_at"
        current = item.get(tag_name)
        if current == tag:
            for name, delta in deltas.items():
                plan.adds[f"{prefix}_{name}"] = plan.adds.get(f"{prefix}_{name}", 0) + delta
            plan.conditions[tag_name] = tag
            return
        if current is not None and _older(current, tag):
            stale = [k for k in item if k.startswith(f"{prefix}_") and k != tag_name]
            plan.removes.extend(k for k in stale if k.removeprefix(f"{prefix}_") not in deltas)
            plan.resets.append(prefix)
        elif current is not None:
            return  # an event for a period older than the slot already holds: out of the window, dropped
        plan.conditions[tag_name] = current
        plan.sets[tag_name] = tag
        for name, delta in deltas.items():
            plan.sets[f"{prefix}_{name}"] = delta

    # A batch spanning more periods than the ring holds keeps the newest ones (the older ones
    # would share slots with them and are outside the window anyway).
    newest_day = max((datetime.strptime(d, "%Y%m%d").toordinal() for d in update.days), default=0)
    for day, deltas in sorted(update.days.items()):
        if datetime.strptime(day, "%Y%m%d").toordinal() > newest_day - DAY_SLOTS:
            slot(f"d{day_slot(day)}", day, deltas)
    newest_minute = max(update.minutes, default=0)
    for minute, deltas in sorted(update.minutes.items()):
        if minute > newest_minute - MINUTE_SLOTS:
            slot(f"m{minute % MINUTE_SLOTS}", minute, deltas)
    for name, delta in update.gauges.items():
        plan.adds[f"g_{name}"] = plan.adds.get(f"g_{name}", 0) + delta
    return plan


def _older(current: Any, tag: Any) -> bool:
    return str(current).zfill(16) < str(tag).zfill(16)


# --- abandon pages: the waits of the abandons that may be short, classified when read ---------------------------
ABANDON_PAGE_TTL_S = 2 * 86_400  # after its hour: a view reads today's pages, and yesterday's while its window does


def abandon_page(day: str, minute: int) -> str:
    """The page of a queue's abandons enqueued on the tenant-local `day` that happened in the hour of epoch `minute`.
    An hour a page bounds what a batch with abandons rewrites (a write is billed by the item's size) and keeps a page
    far under DynamoDB's 400 KB item (~15 bytes an abandon); a view reads a day's pages with one Query."""
    return f"{day}#{minute // 60}"


def page_day(page: str) -> str:
    return page.partition("#")[0]


def page_expiry_s(page: str) -> int:
    """When the page may go (epoch seconds, the store's TTL)."""
    return (int(page.partition("#")[2]) + 1) * 3600 + ABANDON_PAGE_TTL_S


def abandon_entry(minute: int, wait_ms: int, key: str) -> str:
    """One abandon as a member of a number set: `<epoch minute><wait ms, 6 digits>.<12 digits of key's hash>1`. The
    integer part is what a view reads; the fraction (of the event id) makes two abandons of one minute and wait two
    members and a redelivered one the same member, and its final 1 leaves no trailing zero for the store to strip."""
    tag = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=5).digest(), "big") % 10**12
    return f"{minute}{wait_ms:06d}.{tag:012d}1"


def _minute_and_wait(entry: str) -> tuple[int, int]:
    minute, wait_ms = divmod(int(str(entry).partition(".")[0]), 1_000_000)
    return minute, wait_ms


def kept_abandons(item: Mapping[str, Any], day: str) -> int:
    """How many abandons of `day` the item's day slot says its abandon pages hold (0: a slot of another day)."""
    prefix = f"d{day_slot(day)}"
    return int(item.get(f"{prefix}_{KEPT_ABANDONS}", 0)) if item.get(f"{prefix}_at") == day else 0


def abandon_days(item: Mapping[str, Any], now_ms: int, time_zone: str = "UTC") -> list[str]:
    """The days whose abandon pages the view of `item` needs: today, and yesterday while the last 15 minutes can hold
    an abandon enqueued then (within MAX_SHORT_ABANDON_MS before the window); only days the item counts some in."""
    days = dict.fromkeys((local_day(now_ms, time_zone),
                          local_day(now_ms - WINDOW_MINUTES * 60_000 - MAX_SHORT_ABANDON_MS, time_zone)))
    return [day for day in days if kept_abandons(item, day)]


_TIMED_OUT_DESCRIPTION = ("contacts whose wait the system ended (QUEUE_TIMEOUT, CALLBACK_EXPIRED): offered, not "
                          "answered, not abandoned (the customer did not leave); a service-level miss")
_SERVICE_LEVEL_DESCRIPTION = (
    "over resolved contacts (answered + abandoned + timed out), by the tenant's service_level_variant with resolved in "
    "place of offered (default: answered within T / (resolved - abandoned within T)): a contact still waiting has not "
    "met or missed T yet (Amazon Connect's real-time convention); once nothing waits it equals the historical SL")


class ChannelMetrics(BaseModel):
    channel: str
    in_queue: int
    offered: int
    answered: int
    abandoned: int
    service_level: float | None


_SHORT_ABANDONED_DESCRIPTION = ("of `abandoned`, those who left within the tenant's short_abandon_s (classified when read): "
                                "the default abandonment_rate leaves them out of both its counts")


class WindowMetrics(BaseModel):
    minutes: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int = Field(default=0, description=_SHORT_ABANDONED_DESCRIPTION)
    timed_out: int = Field(default=0, description=_TIMED_OUT_DESCRIPTION)
    service_level: float | None
    asa_s: float | None
    abandonment_rate: float | None
    aht_s: float | None
    transferred_out: int = Field(default=0, description="segments this queue's agents transferred away")
    transferred_in: int = Field(default=0, description="segments transferred into this queue")


class RealtimeQueueMetrics(BaseModel):
    queue_id: str
    day: str = Field(description="the tenant-local day the 'today' counters cover (YYYYMMDD)")
    in_queue: int
    oldest_wait_s: float | None
    agents_staffed: int
    agents_available: int
    agents_reserved: int = Field(description="agents whose only contacts are offers ringing, none accepted yet "
                                             "(Amazon Connect: Incoming); not counted in agents_on_contact")
    agents_on_contact: int
    agents_acw: int
    agents_not_ready: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int = Field(default=0, description=_SHORT_ABANDONED_DESCRIPTION)
    completed: int
    answered_within_sl: int
    service_level: float | None = Field(description=f"today: {_SERVICE_LEVEL_DESCRIPTION}")
    service_level_target: float | None = None
    asa_s: float | None = Field(description="average speed of answer today, seconds")
    abandonment_rate: float | None = Field(
        description="today, by the tenant's abandonment_variant (default: (abandoned - short abandons) / (offered - short "
                    "abandons)); timed-out contacts stay in offered and are not abandons")
    aht_s: float | None
    estimated_wait_s: float | None = Field(
        description="for a contact arriving now: max(0, waiting + 1 - available) x AHT / staffed (routing_engine.estimates)")
    last_15_minutes: WindowMetrics
    by_channel: list[ChannelMetrics]
    transferred_out: int = Field(
        default=0, description="today: segments of this queue whose agent transferred them (to a queue, an agent or "
                               "an external number; DOMAIN 'Moving work between people')")
    transferred_in: int = Field(
        default=0, description="today: segments transferred into this queue (to the queue, or from it to a named agent, "
                               "whose segment stays here); `offered` counts the ones that wait in the queue")
    timed_out: int = Field(default=0, description=f"today: {_TIMED_OUT_DESCRIPTION}")


def live_service_level(c: Mapping[str, int], variant: str = "default") -> float | None:
    """Service level of live counters by the tenant's variant, with history's formula (kpis.accumulators). Live SL
    counts resolved contacts only (Amazon Connect's real-time convention): a contact still waiting has not met or
    missed T yet, so resolved = answered + abandoned + timed out stands in for offered in the variant's formula.
    Once nothing waits, resolved = offered and this is history's SL."""
    from ccaas.domain.kpis.accumulators import KpiAccumulator, service_level  # not at cold start

    answered, abandoned = c.get("answered", 0), c.get("abandoned", 0)
    resolved = KpiAccumulator(offered=answered + abandoned + c.get("timed_out", 0), answered=answered,
                              abandoned=abandoned, answered_within_sl=c.get("answered_within_sl", 0),
                              abandoned_within_sl=c.get("abandoned_within_sl", 0))
    return service_level(resolved, variant)  # type: ignore[arg-type]


def _rates(
    c: Mapping[str, int], service_level_variant: str = "default", abandonment_variant: str = "exclude_short_abandons",
) -> tuple[float | None, float | None, float | None, float | None]:
    """(SL, ASA, abandonment rate, AHT) of a slot's counters, SL and abandonment by the tenant's variants with
    history's own formulas (ccaas.domain.kpis.accumulators), fed from the live counters."""
    from ccaas.domain.kpis.accumulators import KpiAccumulator, abandonment_rate  # not at cold start

    answered, abandoned = c.get("answered", 0), c.get("abandoned", 0)
    counts = KpiAccumulator(
        offered=c.get("offered", 0), answered=answered, abandoned=abandoned, short_abandoned=c.get("short_abandoned", 0),
        answered_within_sl=c.get("answered_within_sl", 0), abandoned_within_sl=c.get("abandoned_within_sl", 0),
    )
    return (
        live_service_level(c, service_level_variant),
        c.get("wait_ms_answered", 0) / answered / 1000 if answered else None,
        abandonment_rate(counts, abandonment_variant),  # type: ignore[arg-type]
        c.get("handle_ms", 0) / c["completed"] / 1000 if c.get("completed") else None,
    )


def _arrival_wait(waiting: int, aht_s: float | None, staffed: int, available: int) -> float | None:
    """The routing engine's estimate for a contact arriving now (position = waiting + 1), from the
    observed AHT only (the wait API blends in the queue policy's prior); None without AHT or agents."""
    if not aht_s or not staffed:
        return None
    return estimate_wait(waiting + 1, QueueStats(aht_s=aht_s, agents=staffed, available=available)).ewt_s


def _slot_values(item: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k.removeprefix(f"{prefix}_"): int(v) for k, v in item.items() if k.startswith(f"{prefix}_") and k != f"{prefix}_at"}


def gauge_value(item: Mapping[str, Any], name: str) -> int:
    """A gauge of the live item: 0 when it has none, never below 0 (what realtime_view reports; the consumer logs
    one below zero: negative_gauges)."""
    return max(0, int(item.get(f"g_{name}", 0)))


def negative_gauges(item: Mapping[str, Any]) -> list[str]:
    """The gauges of the live item below zero (with their channel suffix)."""
    return [k.removeprefix("g_") for k, v in item.items() if k.startswith("g_") and int(v) < 0]


def realtime_view(
    queue_id: str,
    item: Mapping[str, Any],
    *,
    now_ms: int,
    time_zone: str = "UTC",
    oldest_enqueued_ms: int | None = None,
    sl_target: float | None = None,
    service_level_variant: str = "default",
    abandonment_variant: str = "exclude_short_abandons",
    short_abandon_ms: float = DEFAULT_SHORT_ABANDON_MS,
    abandons: Mapping[str, Collection[str]] | None = None,
) -> RealtimeQueueMetrics:
    """The queue's live view; `service_level_variant`, `abandonment_variant` and `short_abandon_ms` are the tenant's
    KpiSettings' in force now. `abandons`: the abandon pages' entries of the days abandon_days names (day -> entries),
    classified here, inclusive as history counts them: an abandon that waited at most `short_abandon_ms` is short."""
    day = local_day(now_ms, time_zone)
    today = _slot_values(item, f"d{day_slot(day)}") if item.get(f"d{day_slot(day)}_at") == day else {}
    window: dict[str, int] = defaultdict(int)
    window_minutes = sliding_minutes(now_ms)
    for minute in window_minutes:
        prefix = f"m{minute % MINUTE_SLOTS}"
        if item.get(f"{prefix}_at") == minute:
            for name, value in _slot_values(item, prefix).items():
                window[name] += value
    # `short_abandoned` in a slot: what an item written before the abandon pages counted (see the module docstring).
    kept = {d: [_minute_and_wait(e) for e in entries] for d, entries in (abandons or {}).items()}
    today["short_abandoned"] = today.get("short_abandoned", 0) + sum(w <= short_abandon_ms for _, w in kept.get(day, ()))
    window["short_abandoned"] += sum(m in window_minutes and w <= short_abandon_ms for pairs in kept.values() for m, w in pairs)

    def gauge(name: str) -> int:
        return gauge_value(item, name)

    sl, asa, abandonment, aht = _rates(today, service_level_variant, abandonment_variant)
    w_sl, w_asa, w_abandonment, w_aht = _rates(window, service_level_variant, abandonment_variant)
    channels = sorted({k.split("#", 1)[1] for k in (*today, *(k.removeprefix("g_") for k in item if k.startswith("g_"))) if "#" in k})
    by_channel = []
    for ch in channels:
        c = {k.split("#")[0]: v for k, v in today.items() if k.endswith(f"#{ch}")}
        by_channel.append(
            ChannelMetrics(
                channel=ch, in_queue=gauge(f"in_queue#{ch}"), offered=c.get("offered", 0), answered=c.get("answered", 0),
                abandoned=c.get("abandoned", 0), service_level=_rates(c, service_level_variant, abandonment_variant)[0],
            )
        )
    waiting, staffed = gauge("in_queue"), gauge("agents_staffed")
    handle = w_aht or aht
    return RealtimeQueueMetrics(
        queue_id=queue_id,
        day=day,
        in_queue=waiting,
        oldest_wait_s=None if oldest_enqueued_ms is None else max(0.0, (now_ms - oldest_enqueued_ms) / 1000),
        agents_staffed=staffed,
        agents_available=gauge(ACTIVITY_GAUGES["AVAILABLE"]),
        agents_reserved=gauge(ACTIVITY_GAUGES["RESERVED"]),
        agents_on_contact=gauge(ACTIVITY_GAUGES["ON_CONTACT"]),
        agents_acw=gauge(ACTIVITY_GAUGES["ACW"]),
        agents_not_ready=gauge(ACTIVITY_GAUGES["NOT_READY"]),
        offered=today.get("offered", 0),
        answered=today.get("answered", 0),
        abandoned=today.get("abandoned", 0),
        short_abandoned=today.get("short_abandoned", 0),
        completed=today.get("completed", 0),
        answered_within_sl=today.get("answered_within_sl", 0),
        service_level=sl,
        service_level_target=sl_target,
        asa_s=asa,
        abandonment_rate=abandonment,
        aht_s=aht,
        estimated_wait_s=_arrival_wait(waiting, handle, staffed, gauge(ACTIVITY_GAUGES["AVAILABLE"])),
        last_15_minutes=WindowMetrics(
            minutes=WINDOW_MINUTES, offered=window.get("offered", 0), answered=window.get("answered", 0),
            abandoned=window.get("abandoned", 0), short_abandoned=window.get("short_abandoned", 0),
            timed_out=window.get("timed_out", 0), service_level=w_sl, asa_s=w_asa,
            abandonment_rate=w_abandonment, aht_s=w_aht,
            transferred_out=window.get("transferred_out", 0), transferred_in=window.get("transferred_in", 0),
        ),
        by_channel=by_channel,
        transferred_out=today.get("transferred_out", 0),
        transferred_in=today.get("transferred_in", 0),
        timed_out=today.get("timed_out", 0),
    )
