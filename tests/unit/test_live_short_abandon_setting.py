"""Live short abandons are classified by the KPI setting in force when the view is read, as history classifies its
records at read time: a change of `short_abandon_s` shows at once, for the whole day, in live and history alike.

Found by an outside probe: the live consumer classified an abandon when it folded the event, with the setting of that
moment, into a counter. Before a change both showed 0.111; after setting 60 s history showed 0.0 and live 0.111; after
restoring 5 s history 0.2 and live 0.111. The waits of the abandons that may be short (at most the setting's 600 s
bound) are now kept in abandon pages beside the queue's item, which the per-event write never touches."""
from __future__ import annotations

import dataclasses

import boto3
import pytest
from moto import mock_aws

from ccaas.adapters.aws.dynamodb import DynamoLiveMetricsStore
from ccaas.domain.events import Event, EventType
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.live_metrics import (
    DEFAULT_SHORT_ABANDON_MS,
    MAX_SHORT_ABANDON_MS,
    SequencedEvent,
    abandon_entry,
    abandon_page,
    day_slot,
    epoch_minute,
    fold_batch,
    pad_sequence,
    realtime_view,
)
from ccaas.usecases import contacts, history, metrics
from tests.unit.demo import TENANT, add_agent, demo_deps
from tests.unit.test_live_kpi_rules import _leave, _new, _status

SHARD = "shardId-000000000000"


def _records(events, first=1):
    return [SequencedEvent(event=e, shard_id=SHARD, sequence=pad_sequence(str(first + i))) for i, e in enumerate(events)]


def _day(deps, waits_s=(3, 30), answered=8):
    """`answered` contacts answered and ended, then one abandon after each of `waits_s` (seconds in queue)."""
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    for i in range(answered):
        c = _new(deps, f"a{i}")
        contacts.accept_contact(deps, TENANT, "ana", c.contact_id)
        contacts.complete_contact(deps, TENANT, "ana", c.contact_id)
        contacts.end_after_contact_work(deps, TENANT, "ana", c.contact_id)
    _status(deps, "ana", "BREAK")
    leaving = [_new(deps, f"b{i}") for i in range(len(waits_s))]
    waited = 0
    for contact, wait in sorted(zip(leaving, waits_s, strict=True), key=lambda p: p[1]):
        deps.clock.advance(wait - waited)
        waited = wait
        _leave(deps, contact)
    return deps


def _history_rate(deps) -> float | None:
    for contact in deps.store.contacts.values():
        history.record_contact(deps, TENANT, contact.contact_id)
    (row,) = [r for r in history.historical_metrics(deps, TENANT, start=None, end=None, interval="day").rows if r.offered]
    return row.abandonment_rate


class _SameStore:
    """The live-metrics store as another process sees it (the consumer caches per store object)."""

    def __init__(self, live) -> None:
        self._live = live

    def __getattr__(self, name):
        return getattr(self._live, name)


def _set(deps, short_abandon_s):
    history.put_kpi_settings(deps, TENANT, KpiSettings(short_abandon_s=short_abandon_s))


def test_the_probe_a_changed_setting_shows_in_live_as_in_history_at_once():
    deps = _day(demo_deps())
    metrics.apply_records(deps, SHARD, _records(deps.events.events))
    for setting, expected in ((5, (2 - 1) / (10 - 1)), (60, 0.0), (2, 2 / 10), (5, (2 - 1) / (10 - 1))):
        _set(deps, setting)  # after the abandons were folded
        live = metrics.realtime_queue_metrics(deps, TENANT, "sales")
        assert live.abandonment_rate == pytest.approx(expected) == _history_rate(deps), setting
        assert live.last_15_minutes.abandonment_rate == pytest.approx(expected)
        assert metrics.realtime_all_queues(deps, TENANT)[0].abandonment_rate == pytest.approx(expected)


def test_the_view_the_consumer_pushes_after_a_write_uses_the_setting_in_force_too():
    deps = _day(demo_deps(), waits_s=(3,), answered=1)
    events = list(deps.events.events)
    metrics.apply_records(deps, SHARD, _records(events))
    _set(deps, 2)  # the 3 s abandon is a real one now
    _new(deps, "later")  # the next batch: a contact queued in the same queue
    (applied,) = metrics.apply_records(deps, SHARD, _records(deps.events.events[len(events):], first=len(events) + 1))
    assert metrics.view_after_write(deps, applied).abandonment_rate == pytest.approx(1 / 3)
    _set(deps, 5)
    assert metrics.view_after_write(deps, applied).abandonment_rate == 0.0  # (1 - 1) / (3 - 1)


@pytest.mark.parametrize("setting_s, short", [(5.0, 1), (4.999, 0), (5.5, 2), (5.6, 3), (0, 0), (600, 4)])
def test_short_is_inclusive_to_the_millisecond_as_history_counts_it(setting_s, short):
    waits_ms = [5_000, 5_400, 5_600, 600_000, 600_001]
    minute = epoch_minute(1_764_000_000_000)
    day = "20251124"
    entries = {day: {abandon_entry(minute, w, f"e{i}") for i, w in enumerate(waits_ms)}}
    slot = f"d{day_slot(day)}"
    item = {f"{slot}_at": day, f"{slot}_offered": 10, f"{slot}_abandoned": 5, f"{slot}_abandons_kept": 4}
    view = realtime_view("sales", item, now_ms=1_764_000_000_000, short_abandon_ms=setting_s * 1000, abandons=entries)
    assert view.abandonment_rate == pytest.approx((5 - short) / (10 - short))


def test_an_abandon_that_waited_past_the_settings_bound_is_not_kept():
    (bound,) = [m.le for m in KpiSettings.model_fields["short_abandon_s"].metadata if getattr(m, "le", None) is not None]
    assert MAX_SHORT_ABANDON_MS == bound * 1000
    assert DEFAULT_SHORT_ABANDON_MS == KpiSettings().short_abandon_s * 1000
    deps = _day(demo_deps(), waits_s=(3, 601), answered=0)
    (update,) = fold_batch(_records(deps.events.events), {})
    (entries,) = update.abandons.values()
    assert len(entries) == 1 and update.days[next(iter(update.days))]["abandons_kept"] == 1


def test_the_queues_item_does_not_grow_with_abandons():
    """The queue's item is rewritten on every event and billed by its size: abandons add a counter to the day slot,
    their waits go in pages written only by batches with abandons."""
    def item_after(abandons: int) -> dict:
        deps = _day(demo_deps(), waits_s=tuple(range(1, abandons + 1)), answered=0)
        metrics.apply_records(deps, SHARD, _records(deps.events.events))
        return deps.live.items[(TENANT, "sales")]

    def day_and_gauges(item: dict) -> set[str]:
        return {k for k in item if not k.startswith("m")}  # minute slots: as many as the minutes the abandons span

    one, many = item_after(1), item_after(40)
    assert day_and_gauges(one) == day_and_gauges(many)
    assert [v for k, v in many.items() if k.endswith("_abandons_kept")] == [40]


def test_a_redelivered_batch_keeps_each_abandon_once():
    deps = _day(demo_deps(), waits_s=(3, 30), answered=0)
    records = _records(deps.events.events)
    metrics.apply_records(deps, SHARD, records)
    deps.live.items[(TENANT, "sales")].pop(f"wm_{SHARD}")  # as if the item write failed after the pages were written
    metrics.apply_records(deps, SHARD, records)  # delivered again: the pages are sets
    (page,) = [v for k, v in deps.live.abandon_pages.items() if k[:2] == (TENANT, "sales")]
    assert len(page) == 2


def test_the_consumer_reads_the_pages_again_only_when_another_shard_added_abandons():
    deps = _day(demo_deps(), waits_s=(3,), answered=1)
    (applied,) = metrics.apply_records(deps, SHARD, _records(deps.events.events))
    reads = deps.live.abandon_reads
    assert metrics.view_after_write(deps, applied).abandonment_rate == 0.0  # (1 - 1) / (2 - 1)
    assert deps.live.abandon_reads == reads  # what it wrote is all the item counts: no read
    # Another shard's consumer: a contact queued and gone after 1 s (a short abandon this process never wrote).
    now, other_shard = deps.clock.now_ms(), "shardId-000000000001"
    payload = {"contact_id": "x2", "queue_id": "sales", "channel": "VOICE", "enqueued_at": now - 1_000}
    queued = Event(event_id="e-other-queued", tenant_id=TENANT, type=EventType.CONTACT_QUEUED, subject="contact/x2",
                   occurred_at=deps.events.events[-1].occurred_at, sequence=1, payload=payload)
    left = queued.model_copy(update={"event_id": "e-other-left", "type": EventType.CONTACT_ABANDONED, "sequence": 2,
                                     "payload": {**payload, "previous_state": "QUEUED", "reason": "CUSTOMER_LEFT",
                                                 "disconnected_at": now}})
    other_process = dataclasses.replace(deps, live=_SameStore(deps.live))  # its own cache of the pages
    metrics.apply_batch(other_process, other_shard, [SequencedEvent(event=e, shard_id=other_shard, sequence=pad_sequence(str(i)))
                                            for i, e in enumerate((queued, left), start=1)])
    view = metrics.view_after_write(deps, metrics.AppliedUpdate(applied.update, deps.live.read(TENANT, "sales")))
    assert deps.live.abandon_reads == reads + 1 and (view.offered, view.abandoned) == (3, 2)
    assert view.abandonment_rate == 0.0  # both short: (2 - 2) / (3 - 2), not (2 - 1) / (3 - 1) from a stale cache


def test_an_item_written_before_the_pages_still_counts_its_short_abandons():
    day, slot = "20251124", f"d{day_slot('20251124')}"
    item = {f"{slot}_at": day, f"{slot}_offered": 4, f"{slot}_abandoned": 2, f"{slot}_short_abandoned": 1}
    assert realtime_view("sales", item, now_ms=1_764_000_000_000).abandonment_rate == pytest.approx(1 / 3)


@pytest.fixture
def dynamo():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="metrics", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        yield DynamoLiveMetricsStore(client, "metrics"), client


def test_dynamo_pages_are_idempotent_sets_read_by_day(dynamo):
    store, client = dynamo
    minute = epoch_minute(1_764_000_000_000)
    first = abandon_entry(minute, 3_000, "event-1")
    second = abandon_entry(minute, 3_000, "event-2")  # same minute, same wait: another abandon
    page = abandon_page("20251124", minute)
    assert store.add_abandons("t1", "q1", page, [first], 1) == {first}
    assert store.add_abandons("t1", "q1", page, [first, second], 1) == {first, second}
    later = abandon_page("20251124", minute + 60)
    store.add_abandons("t1", "q1", later, [abandon_entry(minute + 60, 9, "event-3")], 1)
    store.add_abandons("t1", "q10", page, [abandon_entry(minute, 1, "event-4")], 1)  # another queue: not read
    found = store.abandons("t1", "q1", ["20251124", "20251123"])
    assert found == {"20251124": {first, second, abandon_entry(minute + 60, 9, "event-3")}, "20251123": set()}
    raw = client.get_item(TableName="metrics", Key={"pk": {"S": "t1#LIVE"}, "sk": {"S": f"ABANDONS#q1#{page}"}})["Item"]
    assert set(raw) == {"pk", "sk", "w", "expires_at"}


def test_a_wait_estimate_reads_no_abandon_pages():
    """A caller's wait (GET /contacts/{id}, /queues/{id}/wait, the flow's wait_info) uses no abandonment rate: the
    pages kept for it are read by the metrics views only, not once per caller asking."""
    from ccaas.usecases import waiting

    deps = _day(demo_deps())
    metrics.apply_records(deps, SHARD, _records(deps.events.events))
    reads = []
    real = deps.live.abandons
    deps.live.abandons = lambda *a, **k: reads.append(a) or real(*a, **k)
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").abandonment_rate is not None and reads  # kept ones
    reads.clear()
    waiting.wait_info(deps, TENANT, "sales")
    assert reads == []
