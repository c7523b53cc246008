"""At-least-once delivery: a step retried after a partial failure still applies what the first try could not.

Each stream record, workflow step and tick here writes something that is not undone and then what follows
from it (repeat flags, lake snapshots, campaign counters). A retry finds the first write done; what follows
must not depend on that write having been new, or it is lost for good (outside review, session 25)."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.ports_lake import LakeExportFailed
from ccaas.usecases import admin
from ccaas.usecases.history import store_record
from tests.faults import FailingOnce, Throttled
from tests.lake_twin import installed_export

DAY = 86_400_000
T0 = 1_795_186_800_000


def _record(contact_id: str, t: int) -> ContactRecord:
    return ContactRecord(tenant_id="t1", contact_id=contact_id, channel=Channel.VOICE, customer_id="cust1",
                         reason="billing", initiated_at=t, enqueued_at=t, connected_at=t + 5_000,
                         disconnected_at=t + 60_000, final_state=FinalState.COMPLETED, last_updated_at=t + 61_000)


@pytest.fixture
def lake():
    with installed_export() as twin:
        yield twin


def _latest(lake, contact_id: str) -> dict:
    return [r for r in lake.of("contact_records") if r["contact_id"] == contact_id][-1]


@pytest.fixture
def deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id="t1", name="T")
    return deps


def test_repeat_flags_a_failed_write_missed_are_stored_when_the_record_comes_again(deps):
    store_record(deps, _record("a", T0))
    deps.history.update_flags = FailingOnce(deps.history.update_flags)
    with pytest.raises(Throttled):
        store_record(deps, _record("b", T0 + DAY))  # stored, then the flags' write is throttled
    assert store_record(deps, _record("b", T0 + DAY)) is False  # the retry: the same version, nothing new
    assert deps.history.get_entry("t1", "a").followed_by_repeat is True
    assert deps.history.get_entry("t1", "b").is_repeat is True


def test_a_neighbour_whose_flag_moved_reaches_the_lake_when_the_export_is_retried(deps, lake):
    store_record(deps, _record("a", T0))
    lake.fail = 1
    with pytest.raises(LakeExportFailed):
        store_record(deps, _record("b", T0 + DAY))  # b stored and a's flag moved in History; the lake refused
    store_record(deps, _record("b", T0 + DAY))
    assert deps.history.get_entry("t1", "a").followed_by_repeat is True
    assert _latest(lake, "a")["followed_by_repeat"] is True and _latest(lake, "b")["is_repeat"] is True


def test_a_throttled_read_fails_the_live_metrics_batch_and_its_retry_counts_every_event(deps, monkeypatch):
    """As a batch item failure, the record after it was applied and the shard's watermark passed the throttled
    one: its redelivery was skipped as applied (the queue's gauge one short for good)."""
    import json
    from datetime import UTC, datetime

    from ccaas.domain.models import Queue
    from ccaas.usecases.metrics import realtime_queue_metrics
    from tests.lambda_harness import context, kinesis_event, load_module

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ccaas")
    admin.put_queue(deps, Queue(tenant_id="t1", queue_id="sales", name="Sales"))
    now = deps.clock.now_ms()
    at = datetime.fromtimestamp(now / 1000, tz=UTC).isoformat()
    batch = kinesis_event([json.dumps({
        "event_id": f"evt-0000{i}", "tenant_id": "t1", "type": "contact.queued", "occurred_at": at, "subject": f"contact#c{i}",
        "sequence": 1, "payload": {"contact_id": f"c{i}", "queue_id": "sales", "channel": "VOICE", "enqueued_at": now},
    }).encode() for i in (1, 2)])
    deps.config.get_queue = FailingOnce(deps.config.get_queue)
    consumer = load_module("consume_contact_events")
    consumer.dependencies = lambda: deps
    with pytest.raises(Throttled):
        consumer.lambda_handler(batch, context())
    assert realtime_queue_metrics(deps, "t1", "sales").in_queue == 0  # nothing applied
    assert consumer.lambda_handler(batch, context()) == {"batchItemFailures": []}  # the mapping's retry
    assert realtime_queue_metrics(deps, "t1", "sales").in_queue == 2
