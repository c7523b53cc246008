"""The live metrics item as DynamoDB stores it (ccaas.adapters.aws.dynamodb): short attribute names and a
binary watermark keep a busy queue's item under 1 KB (one write unit a write instead of two), the
adapter answers in the domain's names, and an item written with the long names is read as it was and
shortened by its next write without losing a count."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from bench.cost_model import item_size, write_units
from ccaas.adapters.aws.dynamodb import DynamoLiveMetricsStore, domain_attribute, live_attribute
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import ACTIVITY_GAUGES, COUNTERS, SequencedEvent, fold_batch, pad_sequence, plan_write
from ccaas.domain.models import Conflict

TABLE = "metrics"
SHARD = "shardId-000000000003"
SEQUENCE = pad_sequence("49657612345678901234567890123456789012345678901234567890")


@pytest.fixture
def store():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        yield DynamoLiveMetricsStore(client, TABLE), client


def _busy_item(minute_counters=("offered", "answered", "answered_within_sl"), channels=("VOICE",),
               days=(("d0", "20261202"),)) -> dict:
    """A queue late in a busy day: every counter of the day and its channel split, contacts offered and
    answered in each of the 16 minute slots, every gauge split by channel, the watermarks of four shards."""
    item: dict = {}
    for slot, day in days:
        item[f"{slot}_at"] = day
        for c in COUNTERS:
            item[f"{slot}_{c}"] = 1234567 if c.endswith("_ms") or c.startswith("wait") else 312
            for ch in channels:
                item[f"{slot}_{c}#{ch}"] = 98765 if c.endswith("_ms") else 156
    for k in range(16):
        item[f"m{k}_at"] = 29_456_000 + k
        for c in minute_counters:
            item[f"m{k}_{c}"] = 45678 if c.endswith("_ms") else 9
    for g in ("in_queue", "agents_staffed", *ACTIVITY_GAUGES.values()):
        item[f"g_{g}"] = 12
        for ch in channels:
            item[f"g_{g}#{ch}"] = 8
    for shard in range(4):
        item[f"wm_shardId-00000000000{shard}"] = SEQUENCE
    return item


def _typed_size(client, key=("t1", "q1")) -> int:
    raw = client.get_item(TableName=TABLE, Key={"pk": {"S": f"{key[0]}#LIVE"}, "sk": {"S": f"QUEUE#{key[1]}"}})["Item"]
    return item_size(raw)


def test_names_round_trip_and_codes_are_never_domain_words():
    item = _busy_item(("offered", "answered", "answered_within_sl", "wait_ms_answered", "completed", "handle_ms"),
                      ("VOICE", "CHAT"), (("d0", "20261202"), ("d1", "20261201")))
    for name in item:
        assert domain_attribute(live_attribute(name)) == name
    assert live_attribute("d0_answered_within_sl#VOICE") == "d0_aw#V"
    assert live_attribute(f"wm_{SHARD}") == "wm_3"
    assert live_attribute("wm_s0") == "wm_s0" and live_attribute("d0_something_new#FAX") == "d0_something_new#FAX"
    stored = {live_attribute(n) for n in item}
    assert len(stored) == len(item)  # no two domain names share a stored name
    # and no stored name is another domain name (so old items read unambiguously); slot tags keep theirs
    assert {n for n in stored & set(item)} == {n for n in item if n.endswith("_at")}


def test_a_busy_queue_item_is_one_write_unit_in_storage_and_the_same_to_callers(store):
    live, client = store
    item = _busy_item()
    long_bytes = item_size({k: ({"S": v} if isinstance(v, str) else {"N": str(v)}) for k, v in item.items()})
    assert write_units(long_bytes) == 3  # the domain's names: 2.3 KB
    sets = {k: v for k, v in item.items()}
    conditions = {k: None for k in item if k.startswith("wm_") or k.endswith("_at")}
    from ccaas.domain.live_metrics import WritePlan

    after = live.write("t1", "q1", WritePlan(sets=sets, conditions=conditions))
    assert after == item == live.read("t1", "q1") == live.snapshots([("t1", "q1")])[("t1", "q1")]
    size = _typed_size(client)
    assert size < 1024 and write_units(size) == 1, size  # keys included


def test_watermark_conditions_compare_the_stored_binary_form(store):
    live, _ = store
    events = [SequencedEvent(Event(event_id=f"event-{i:04d}", tenant_id="t1", type="contact.queued",
                                   occurred_at="2026-12-02T10:00:00Z", subject=f"contact/c{i}", sequence=1,
                                   payload={"contact_id": f"c{i}", "queue_id": "q1", "channel": "VOICE"}),
                             SHARD, pad_sequence(str(100 + i))) for i in range(3)]
    (update,) = fold_batch(events[:2], {})
    first = live.write("t1", "q1", plan_write(update, {}))
    assert first[f"wm_{SHARD}"] == pad_sequence("101") and first["g_in_queue"] == 2
    (update,) = fold_batch(events[2:], {("t1", "q1"): first[f"wm_{SHARD}"]})
    second = live.write("t1", "q1", plan_write(update, first))
    assert second["g_in_queue"] == 3 and second[f"wm_{SHARD}"] == pad_sequence("102")
    with pytest.raises(Conflict):  # planned against the first item again: its watermark moved
        live.write("t1", "q1", plan_write(update, first))


def test_an_item_with_the_long_names_reads_as_it_was_and_its_next_write_shortens_it(store):
    live, client = store
    old = {"g_in_queue": 4, "g_in_queue#VOICE": 4, "d0_at": "20261202", "d0_offered": 10, "d0_offered#VOICE": 10,
           f"wm_{SHARD}": SEQUENCE}
    client.put_item(TableName=TABLE, Item={"pk": {"S": "t1#LIVE"}, "sk": {"S": "QUEUE#q1"},
                                           **{k: ({"S": v} if isinstance(v, str) else {"N": str(v)}) for k, v in old.items()}})
    read = live.snapshots([("t1", "q1")])[("t1", "q1")]
    assert read == old
    newer = pad_sequence(str(int(SEQUENCE) + 7))
    from ccaas.domain.live_metrics import WritePlan

    after = live.write("t1", "q1", WritePlan(adds={"g_in_queue": 1, "d0_offered": 2}, sets={f"wm_{SHARD}": newer},
                                             conditions={f"wm_{SHARD}": SEQUENCE, "d0_at": "20261202"}))
    assert after == {**old, "g_in_queue": 5, "d0_offered": 12, f"wm_{SHARD}": newer}
    raw = client.get_item(TableName=TABLE, Key={"pk": {"S": "t1#LIVE"}, "sk": {"S": "QUEUE#q1"}})["Item"]
    assert set(raw) == {"pk", "sk", "g_q", "g_q#V", "d0_at", "d0_o", "d0_o#V", "wm_3"}
    assert live.read("t1", "q1") == after
