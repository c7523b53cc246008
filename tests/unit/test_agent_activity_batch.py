"""A stream batch's agent events applied together (HistoryStore.agent_activity_batch, usecases.history
.record_agent_activities): one consistent read of the agents' open items, one conditional put an event, the
spans written together a round; the crash protocol of the per-event path kept (the open item carries the span it
closes until that span is written; the redelivered batch writes what a crash left unwritten). On the in-memory
twin and on moto; the call counts on moto."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ccaas.adapters.aws import history as aws_history
from ccaas.adapters.aws import batch_get as batches
from ccaas.adapters.aws.history import ActivityBatchIncomplete, DynamoHistoryStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.events import Event
from ccaas.domain.history import OpenActivity
from ccaas.domain.kpis.records import ActivityKind
from ccaas.domain.tenants import Tenant
from ccaas.usecases import history
from tests.lake_twin import installed_export
from tests.lambda_harness import context, kinesis_event, load_module

# 2026-11-26 23:40 UTC: a span open across midnight is copied into the next UTC day (a CROSS# item)
T0 = int(datetime(2026, 11, 26, 23, 40, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000
DAY = 86_400_000
KINDS = ("AVAILABLE", "ON_CONTACT", "ACW", "NOT_READY")


class Counting:
    """The History table's client, counting calls by operation; `unprocessed[operation]` makes that many of its
    calls hand back all but the first request (a lone write request: handed back unwritten)."""

    def __init__(self, db):
        self.db, self.calls, self.unprocessed = db, Counter(), Counter()

    def __getattr__(self, name):
        return getattr(self.db, name)

    def _call(self, operation, method, **kwargs):
        self.calls[operation] += 1
        return method(**kwargs)

    def get_item(self, **kwargs):
        return self._call("GetItem", self.db.get_item, **kwargs)

    def put_item(self, **kwargs):
        return self._call("PutItem", self.db.put_item, **kwargs)

    def batch_get_item(self, RequestItems):  # noqa: N803 - the SDK's name
        ((table, asked),) = RequestItems.items()
        if not self.unprocessed["BatchGetItem"]:
            return self._call("BatchGetItem", self.db.batch_get_item, RequestItems=RequestItems)
        self.unprocessed["BatchGetItem"] -= 1
        first, rest = asked["Keys"][:1], asked["Keys"][1:]
        page = self._call("BatchGetItem", self.db.batch_get_item, RequestItems={table: {**asked, "Keys": first}})
        return {**page, "UnprocessedKeys": {table: {**asked, "Keys": rest}} if rest else {}}

    def batch_write_item(self, RequestItems):  # noqa: N803
        ((table, requests),) = RequestItems.items()
        if not self.unprocessed["BatchWriteItem"]:
            return self._call("BatchWriteItem", self.db.batch_write_item, RequestItems=RequestItems)
        self.unprocessed["BatchWriteItem"] -= 1
        self.calls["BatchWriteItem"] += 1
        if len(requests) > 1:  # the first one written, the rest handed back; a last one handed back unwritten
            self.db.batch_write_item(RequestItems={table: requests[:1]})
        return {"UnprocessedItems": {table: requests[1:] if len(requests) > 1 else requests}}


@pytest.fixture
def table():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="History", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield Counting(client)


@pytest.fixture
def no_backoff(monkeypatch):
    rounds: list[int] = []
    monkeypatch.setattr(batches, "backoff", rounds.append)
    return rounds


@pytest.fixture(params=["memory", "moto"])
def store(request):
    if request.param == "memory":
        yield memory_dependencies().history
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="History", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield DynamoHistoryStore(client, "History")


def _deps(history_store, tenants=()):
    deps = memory_dependencies()
    deps.clock.now = T0 + DAY  # after every event the tests feed
    for tenant in tenants:
        deps.config.put_tenant(Tenant(tenant_id=tenant, name=tenant, time_zone="UTC"))
    deps.history = history_store
    return deps


def _event(tenant: str, agent: str, sequence: int, at_ms: int, activity: str | None = None) -> Event:
    return Event(event_id=uuid.uuid4().hex, tenant_id=tenant, type="agent.activity_changed",
                 occurred_at=datetime.fromtimestamp(at_ms / 1000, UTC), subject=f"agent/{agent}", sequence=sequence,
                 payload={"agent_id": agent, "activity": activity or KINDS[sequence % len(KINDS)]})


def _opened(agent: str, sequence: int, at_ms: int) -> OpenActivity:
    return OpenActivity(agent_id=agent, kind=ActivityKind.AVAILABLE_IDLE if sequence % 2 else ActivityKind.ON_CONTACT,
                        since=at_ms, sequence=sequence)


def _spans(store, tenant):
    return [(a.agent_id, a.kind, a.start_ms - T0, a.end_ms - T0) for a in store.agent_activities(tenant, T0 - DAY, T0 + DAY)]


def _span_items(db, tenant):
    """Every span item of the tenant as stored (crossing-day copies included), keys without the tenant."""
    items = db.scan(TableName="History")["Items"]
    return sorted((i["pk"]["S"].removeprefix(tenant), i["sk"]["S"], i["span"]["S"]) for i in items
                  if i["pk"]["S"].startswith(f"{tenant}#ACTIVITY#"))


def _ten_agents_twice(tenant):
    """Ten agents logged in before the batch (one open item each), then two events each, agents interleaved; the
    second of each agent's spans crosses UTC midnight."""
    seeds = [_event(tenant, f"a{n}", 1, T0 - 30 * MINUTE + n) for n in range(10)]
    batch = [_event(tenant, f"a{n}", 2, T0 + n * MINUTE) for n in range(10)]
    batch += [_event(tenant, f"a{n}", 3, T0 + 30 * MINUTE + n * MINUTE) for n in range(9, -1, -1)]
    return seeds, batch


# --- calls ------------------------------------------------------------------------------------------------
def test_a_batch_costs_one_read_one_put_an_event_and_one_span_write_a_round(table):
    """20 events of 10 agents, each closing a span: 60 calls one event at a time (GetItem, PutItem of the open
    item, PutItem of the span), 23 as a batch (BatchGetItem, 20 conditional PutItem, a BatchWriteItem a round:
    each agent's first events, then its second), and the same items stored."""
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["one", "batch"])
    per_event, batched = {}, {}
    for tenant, counts in (("one", per_event), ("batch", batched)):
        seeds, events = _ten_agents_twice(tenant)
        assert history.record_agent_activities(deps, seeds) == [True] * 10
        table.calls.clear()
        if tenant == "one":
            assert [history.record_agent_activity(deps, e) for e in events] == [True] * 20
        else:
            assert history.record_agent_activities(deps, events) == [True] * 20
        counts.update(table.calls)
    crossing_copies = 10  # each agent's second span (00:00 UTC crossed): one PutItem more one at a time
    assert per_event == {"GetItem": 20, "PutItem": 20 + 20 + crossing_copies}
    assert batched == {"BatchGetItem": 1, "PutItem": 20, "BatchWriteItem": 2}
    assert sum(per_event.values()) / 20 == 3.5 and sum(batched.values()) / 20 == 1.15  # calls an event
    assert _span_items(table, "batch") == _span_items(table, "one") and len(_span_items(table, "one")) == 30


def test_reads_of_more_than_100_agents_and_writes_of_more_than_25_spans_are_split(table):
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["acme"])
    history.record_agent_activities(deps, [_event("acme", f"a{n:03d}", 1, T0 - 10 * MINUTE) for n in range(130)])
    table.calls.clear()
    assert history.record_agent_activities(deps, [_event("acme", f"a{n:03d}", 2, T0) for n in range(130)]) == [True] * 130
    assert table.calls == {"BatchGetItem": 2, "PutItem": 130, "BatchWriteItem": 6}  # 100 + 30 keys; 5 x 25 + 5 spans
    assert len(_spans(store, "acme")) == 130


def test_unprocessed_keys_and_items_are_asked_again_and_a_throttled_table_fails_the_batch(table, no_backoff):
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["acme"])
    history.record_agent_activities(deps, [_event("acme", f"a{n}", 1, T0 - 10 * MINUTE) for n in range(3)])
    table.calls.clear()
    table.unprocessed.update(BatchGetItem=1, BatchWriteItem=1)  # the read hands back 2 of 3 keys, the write 2 of 3 spans
    assert history.record_agent_activities(deps, [_event("acme", f"a{n}", 2, T0) for n in range(3)]) == [True] * 3
    assert table.calls == {"BatchGetItem": 2, "PutItem": 3, "BatchWriteItem": 2} and no_backoff == [0, 0]
    assert len(_spans(store, "acme")) == 3
    # DynamoDB keeps handing spans back: after 8 rounds the batch fails (the caller fails the invocation)
    table.unprocessed.update(BatchWriteItem=100)
    with pytest.raises(ActivityBatchIncomplete):
        history.record_agent_activities(deps, [_event("acme", f"a{n}", 3, T0 + MINUTE) for n in range(3)])
    assert no_backoff[2:] == list(range(8))


# --- the protocol, on both stores ---------------------------------------------------------------------------
def test_two_events_of_one_agent_in_one_batch_give_both_spans(store):
    batch = store.agent_activity_batch([("acme", "ana"), ("acme", "bob")])
    assert batch.apply("acme", _opened("ana", 1, T0)) == (True, None)
    applied, closed = batch.apply("acme", _opened("ana", 2, T0 + MINUTE))
    assert applied and (closed.start_ms, closed.end_ms) == (T0, T0 + MINUTE)
    assert batch.apply("acme", _opened("ana", 3, T0 + 5 * MINUTE))[0]  # replaces the open item carrying span 1
    assert batch.apply("acme", _opened("ana", 3, T0 + 5 * MINUTE)) == (False, None)  # repeated in the batch
    assert batch.apply("acme", _opened("bob", 7, T0)) == (True, None)
    batch.write_spans()
    assert _spans(store, "acme") == [("ana", ActivityKind.AVAILABLE_IDLE, 0, MINUTE),
                                  ("ana", ActivityKind.ON_CONTACT, MINUTE, 5 * MINUTE)]
    assert [(o.agent_id, o.sequence) for o in store.open_activities("acme")] == [("ana", 3), ("bob", 7)]


def test_a_batch_that_never_wrote_its_spans_is_completed_by_its_redelivery(store):
    """A crash after the open items, before the spans (write_spans never called): the same events again leave
    exactly what one clean pass leaves."""
    def events(tenant):
        return [(tenant, _opened(agent, n, T0 + n * 7 * MINUTE + i)) for n in (1, 2, 3) for i, agent in enumerate(("ana", "bob"))]

    clean = store.agent_activity_batch([("clean", "ana"), ("clean", "bob")])
    for tenant, opened in events("clean"):
        clean.apply(tenant, opened)
    clean.write_spans()

    crashed = store.agent_activity_batch([("acme", "ana"), ("acme", "bob")])
    for tenant, opened in events("acme"):
        crashed.apply(tenant, opened)
    assert len(_spans(store, "acme")) < len(_spans(store, "clean"))  # the last spans are only carried
    redelivered = store.agent_activity_batch([("acme", "ana"), ("acme", "bob")])
    assert [redelivered.apply(tenant, opened) for tenant, opened in events("acme")] == [(False, None)] * 6
    redelivered.write_spans()
    assert _spans(store, "acme") == _spans(store, "clean") and len(_spans(store, "acme")) == 4
    assert store.open_activities("acme") == store.open_activities("clean")


def test_a_conflicting_writer_makes_the_batch_read_the_open_item_fresh(store):
    store.apply_agent_activity("acme", _opened("ana", 1, T0))
    batch = store.agent_activity_batch([("acme", "ana")])  # reads sequence 1
    assert store.apply_agent_activity("acme", _opened("ana", 2, T0 + MINUTE))  # another writer, after the read
    applied, closed = batch.apply("acme", _opened("ana", 3, T0 + 2 * MINUTE))  # conditioned on 1: fails, reads 2
    assert applied and (closed.start_ms, closed.end_ms) == (T0 + MINUTE, T0 + 2 * MINUTE)
    assert batch.apply("acme", _opened("ana", 2, T0 + MINUTE)) == (False, None)  # older than what the batch wrote
    batch.write_spans()
    assert [(s[2], s[3]) for s in _spans(store, "acme")] == [(0, MINUTE), (MINUTE, 2 * MINUTE)]
    assert [o.sequence for o in store.open_activities("acme")] == [3]


def test_on_dynamodb_the_retry_after_a_conflict_costs_one_fresh_read_and_writes_the_other_writer_s_span(table):
    store = DynamoHistoryStore(table, "History")
    store.apply_agent_activity("acme", _opened("ana", 1, T0))
    batch = store.agent_activity_batch([("acme", "ana")])
    store.apply_agent_activity("acme", _opened("ana", 2, T0 + MINUTE))
    table.calls.clear()
    assert batch.apply("acme", _opened("ana", 3, T0 + 2 * MINUTE))[0]
    # the put over sequence 1 refused, the fresh read, the other writer's span (it may not have written it yet:
    # written before its item is replaced), the put over sequence 2
    assert table.calls == {"PutItem": 2, "GetItem": 1, "BatchWriteItem": 1}


# --- the consumer: a crash between the open items and the span write, then the redelivered batch -----------------
@pytest.mark.parametrize("failing_write", [1, 2], ids=["between-rounds", "final"])
def test_a_failed_span_write_fails_the_invocation_and_the_redelivered_batch_stores_exactly_the_clean_spans(
        table, monkeypatch, failing_write):
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["clean", "acme"])
    module = load_module("record_agent_activity", prefix="activity_batch")
    monkeypatch.setattr(module, "dependencies", lambda: deps)
    for tenant in ("clean", "acme"):
        seeds, _ = _ten_agents_twice(tenant)
        assert history.record_agent_activities(deps, seeds) == [True] * 10
    _, clean_events = _ten_agents_twice("clean")
    _, events = _ten_agents_twice("acme")
    clean = kinesis_event([e.model_dump_json().encode() for e in clean_events])
    assert module.lambda_handler(clean, context("record_agent_activity")) == {"batchItemFailures": []}

    batch = kinesis_event([e.model_dump_json().encode() for e in events])
    real_write, writes = table.batch_write_item, []

    def write_fails(RequestItems):  # noqa: N803
        writes.append(RequestItems)
        if len(writes) == failing_write:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "BatchWriteItem")
        return real_write(RequestItems=RequestItems)

    monkeypatch.setattr(table, "batch_write_item", write_fails, raising=False)
    with pytest.raises(ClientError):  # the invocation fails: Kinesis redelivers the whole batch
        module.lambda_handler(batch, context("record_agent_activity"))
    assert len(_span_items(table, "acme")) < len(_span_items(table, "clean"))
    monkeypatch.setattr(table, "batch_write_item", real_write, raising=False)
    assert module.lambda_handler(batch, context("record_agent_activity")) == {"batchItemFailures": []}
    assert _span_items(table, "acme") == _span_items(table, "clean") and len(_span_items(table, "acme")) == 30
    assert store.open_activities("acme") == store.open_activities("clean")


# --- the per-record rules and the lake ---------------------------------------------------------------------------
def test_an_agent_s_events_after_a_failed_one_fail_unapplied_and_other_agents_apply(table):
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["acme"])
    ahead = _event("acme", "ana", 2, T0 + 3 * DAY)  # further ahead of now than a clock drifts: a poison record
    events = [_event("acme", "ana", 1, T0), ahead, _event("acme", "bob", 1, T0), _event("acme", "ana", 3, T0 + MINUTE)]
    outcomes = history.record_agent_activities(deps, events)
    assert outcomes[0] is True and outcomes[2] is True
    assert type(outcomes[1]).__name__ == "MalformedEvent" and isinstance(outcomes[3], history.EarlierEventFailed)
    assert [(o.agent_id, o.sequence) for o in store.open_activities("acme")] == [("ana", 1), ("bob", 1)]


def test_an_agent_s_order_follows_its_agent_id_even_when_the_records_subjects_differ(table):
    """The agent whose open item an event replaces is the payload's agent_id: records naming her under another
    subject (another shard's key) still wait for her earlier ones, and still come a round after them."""
    store = DynamoHistoryStore(table, "History")
    deps = _deps(store, ["acme"])
    ahead = _event("acme", "ana", 2, T0 + 3 * DAY).model_copy(update={"subject": "agent/ana-elsewhere"})
    later = _event("acme", "ana", 3, T0 + MINUTE).model_copy(update={"subject": "agent/ana-again"})
    outcomes = history.record_agent_activities(deps, [_event("acme", "ana", 1, T0), ahead, later])
    assert outcomes[0] is True and type(outcomes[1]).__name__ == "MalformedEvent"
    assert isinstance(outcomes[2], history.EarlierEventFailed)
    assert [(o.agent_id, o.sequence) for o in store.open_activities("acme")] == [("ana", 1)]
    # in rounds by agent: her second event's span is written before her third replaces the item carrying it
    events = [_event("acme", "bob", 1, T0), _event("acme", "bob", 2, T0 + MINUTE).model_copy(update={"subject": "x"}),
              _event("acme", "bob", 3, T0 + 2 * MINUTE).model_copy(update={"subject": "y"})]
    assert history._rounds(history._agent_keys(events, [history._opened_activity(e) for e in events])) == [[0], [1], [2]]
    assert history.record_agent_activities(deps, events) == [True] * 3
    assert [(s[0], s[2], s[3]) for s in _spans(store, "acme") if s[0] == "bob"] == [("bob", 0, MINUTE), ("bob", MINUTE, 2 * MINUTE)]


def test_each_span_is_exported_after_the_table_has_it_and_a_refused_export_fails_the_agent_s_later_events():
    deps = _deps(memory_dependencies().history, ["acme"])
    store = deps.history
    with installed_export() as export:
        put_rows = export.put_rows
        in_table_when_exported: list[bool] = []

        def checking(table_name, rows):
            stored = {(a.agent_id, a.start_ms) for a in store.agent_activities("acme", T0 - DAY, T0 + DAY)}
            in_table_when_exported.extend((r["agent_id"], r["start_ms"]) in stored for r in rows)
            return put_rows(table_name, rows)

        export.put_rows = checking
        history.record_agent_activities(deps, [_event("acme", a, 1, T0) for a in ("ana", "bob")])
        events = [_event("acme", "ana", 2, T0 + MINUTE), _event("acme", "bob", 2, T0 + MINUTE),
                  _event("acme", "ana", 3, T0 + 2 * MINUTE)]
        export.fail = 1  # ana's first span refused
        outcomes = history.record_agent_activities(deps, events)
        assert outcomes[1] is True and isinstance(outcomes[2], history.EarlierEventFailed)
        assert [r["agent_id"] for r in export.of("agent_activity")] == ["bob"]
        # Kinesis redelivers from ana's failed event: applied already, their spans are exported now
        assert history.record_agent_activities(deps, [events[0], events[2]]) == [False, False]
        assert sorted((r["agent_id"], r["start_ms"] - T0) for r in export.of("agent_activity")) == [
            ("ana", 0), ("ana", MINUTE), ("bob", 0)]
        assert in_table_when_exported and all(in_table_when_exported)
