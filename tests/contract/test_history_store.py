"""The History and Transcript stores and the new Config methods: one suite, in memory and on (moto) AWS."""
from __future__ import annotations

import threading
import uuid

import pytest

from ccaas.domain.history import DAY_MS, AnalysisSummary, ChatMessage, Survey
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
# 2026-11-26 23:50 UTC: ten minutes before a UTC day boundary (by_day partitions are UTC days)
T0 = 1_795_737_000_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="History"))
    return tenant_id


def _record(tenant, cid, at, *, version=0, customer="cust-1", **kw) -> ContactRecord:
    values = dict(tenant_id=tenant, contact_id=cid, channel=Channel.VOICE, queue_id="q1", customer_id=customer,
                  reason="billing", initiated_at=at, enqueued_at=at + 1_000, connected_at=at + 5_000,
                  disconnected_at=at + 65_000, final_state=FinalState.COMPLETED, last_updated_at=at + 65_000 + version)
    values.update(kw)
    return ContactRecord(**values)


def test_a_record_is_replaced_only_by_a_strictly_newer_version(deps, tenant):
    first = _record(tenant, "c1", T0)
    assert deps.history.put_record(first) is True
    assert deps.history.put_record(first) is False  # duplicate
    assert deps.history.put_record(_record(tenant, "c1", T0, version=-5, agent_id="old")) is False  # older
    tie = _record(tenant, "c1", T0, agent_id="tie")
    assert deps.history.put_record(tie) is False  # same last_updated_at: the first one stays
    newer = _record(tenant, "c1", T0, version=10, agent_id="ana", csat=4)
    assert deps.history.put_record(newer) is True
    assert deps.history.get_entry(tenant, "c1").record == newer
    assert deps.history.get_entry(tenant, "nope") is None


def test_concurrent_versions_leave_the_newest(deps, tenant):
    versions = [_record(tenant, "c1", T0, version=v, agent_id=f"a{v}") for v in range(12)]
    barrier = threading.Barrier(len(versions))

    def put(record):
        barrier.wait()
        deps.history.put_record(record)

    threads = [threading.Thread(target=put, args=(r,)) for r in reversed(versions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert deps.history.get_entry(tenant, "c1").record.agent_id == "a11"


def test_entry_parts_are_written_independently_in_any_order(deps, tenant):
    deps.history.put_survey(tenant, "c1", Survey(csat=5, nps=9, comment="great", submitted_at=T0))  # before the record
    early = deps.history.get_entry(tenant, "c1")
    assert early.record is None and (early.csat, early.nps) == (5, 9)
    assert list(deps.history.entries_between(tenant, T0 - DAY_MS, T0 + DAY_MS)) == []  # no record: not in ranges
    deps.history.update_flags(tenant, {"c1": {"followed_by_repeat": True, "is_repeat": False}})
    summary = AnalysisSummary(qa_score=81.5, categories=("complaint",), customer_sentiment=-1.25, reason="billing")
    deps.transcripts.put_analysis(tenant, "c1", {"segments": [{"text": "[CARD] please"}], "qa": {"score": 81.5}}, summary)
    deps.history.put_record(_record(tenant, "c1", T0))
    deps.history.put_record(_record(tenant, "c1", T0, version=1, agent_id="bob"))  # a correction keeps the other parts
    entry = deps.history.get_entry(tenant, "c1")
    assert entry.record.agent_id == "bob" and (entry.csat, entry.ces, entry.nps) == (5, None, 9)
    assert (entry.followed_by_repeat, entry.is_repeat, entry.analysis) == (True, False, summary)
    assert deps.history.get_survey(tenant, "c1") == Survey(csat=5, nps=9, comment="great", submitted_at=T0)
    assert deps.transcripts.get_analysis(tenant, "c1")["segments"][0]["text"] == "[CARD] please"
    deps.history.put_survey(tenant, "c1", Survey(ces=3, submitted_at=T0 + 1))  # a new survey replaces the old one
    deps.history.update_flags(tenant, {"c1": {"followed_by_repeat": None}})
    entry = deps.history.get_entry(tenant, "c1")
    assert (entry.csat, entry.ces, entry.nps, entry.followed_by_repeat, entry.is_repeat) == (None, 3, None, None, False)


def test_ranges_follow_the_anchor_time_across_utc_days_and_tenants(deps, tenant):
    times = {"a": T0 - 2 * DAY_MS, "b": T0, "c": T0 + 9 * 60_000, "d": T0 + 11 * 60_000, "e": T0 + DAY_MS}
    for cid, at in times.items():
        deps.history.put_record(_record(tenant, cid, at))
    deps.history.put_record(_record(f"{tenant}x", "z", T0))
    got = [e.contact_id for e in deps.history.entries_between(tenant, T0, T0 + DAY_MS)]
    assert got == ["b", "c", "d"]  # half-open, spans the UTC midnight at T0 + 10 min, ordered by time
    assert [e.contact_id for e in deps.history.entries_between(tenant, T0 + 9 * 60_000, T0 + 9 * 60_000 + 1)] == ["c"]
    assert list(deps.history.entries_between(tenant, T0, T0)) == []
    assert [e.contact_id for e in deps.history.entries_between(f"{tenant}x", T0 - DAY_MS, T0 + DAY_MS)] == ["z"]


def test_customer_entries_are_inclusive_and_per_customer(deps, tenant):
    for cid, at, customer in (("a", T0, "cust-1"), ("b", T0 + DAY_MS, "cust-1"), ("c", T0, "cust-2"), ("d", T0, None)):
        deps.history.put_record(_record(tenant, cid, at, customer=customer))
    assert sorted(e.contact_id for e in deps.history.customer_entries(tenant, "cust-1", T0, T0 + DAY_MS)) == ["a", "b"]
    assert [e.contact_id for e in deps.history.customer_entries(tenant, "cust-1", T0 + 1, T0 + DAY_MS)] == ["b"]
    assert [e.contact_id for e in deps.history.customer_entries(tenant, "cust-2", 0, T0 + DAY_MS)] == ["c"]
    # a corrected record that loses its customer leaves the customer index
    deps.history.put_record(_record(tenant, "c", T0, version=1, customer=None))
    assert deps.history.customer_entries(tenant, "cust-2", 0, T0 + DAY_MS) == []


def test_chat_messages_come_back_in_time_order(deps, tenant):
    for n, at in ((1, T0 + 30), (2, T0 + 10), (3, T0 + 20)):
        deps.transcripts.add_message(tenant, "c1", ChatMessage(message_id=f"m{n}", participant_role="CUSTOMER",
                                                               content=f"message {n}", absolute_time=at))
    assert [m.message_id for m in deps.transcripts.messages(tenant, "c1")] == ["m2", "m3", "m1"]
    assert deps.transcripts.messages(tenant, "c2") == [] and deps.transcripts.messages(f"{tenant}x", "c1") == []
    assert deps.transcripts.get_analysis(tenant, "c1") is None
    # pages: after a message's cursor, at most `limit` (two messages at one instant are ordered by id)
    deps.transcripts.add_message(tenant, "c1", ChatMessage(message_id="m0", participant_role="AGENT", content="same time",
                                                           absolute_time=T0 + 20))
    order = [m.message_id for m in deps.transcripts.messages(tenant, "c1")]
    assert order == ["m2", "m0", "m3", "m1"]
    first = deps.transcripts.messages(tenant, "c1", limit=2)
    assert [m.message_id for m in first] == order[:2]
    rest = deps.transcripts.messages(tenant, "c1", after=first[-1].cursor)
    assert [m.message_id for m in rest] == order[2:]
    assert deps.transcripts.messages(tenant, "c1", after=rest[-1].cursor) == []
    deps.history.put_survey(tenant, "c1", Survey(csat=5, submitted_at=T0))  # another item of the contact: not a message
    assert [m.message_id for m in deps.transcripts.messages(tenant, "c1", after=first[0].cursor, limit=5)] == order[1:]


def test_series_cache_round_trips(deps, tenant):
    series = {"q1|VOICE": {str(T0): [3, 2, 240000, 1, 9000]}}
    assert deps.history.get_series(tenant, "2026-11-20") is None
    deps.history.put_series(tenant, "2026-11-20", series)
    assert deps.history.get_series(tenant, "2026-11-20") == series


def test_connect_instances_and_settings_documents(deps, tenant):
    arn = f"arn:aws:connect:us-east-1:111122223333:instance/{uuid.uuid4()}"
    assert deps.config.tenant_for_connect_instance(arn) is None
    deps.config.put_connect_instance(arn, tenant)
    assert deps.config.tenant_for_connect_instance(arn) == tenant
    assert deps.config.get_settings(tenant, "kpis") is None
    document = {"short_abandon_s": 7.5, "nested": {"list": [1, 2.25, None, "x"]}}
    deps.config.put_settings(tenant, "kpis", document)
    assert deps.config.get_settings(tenant, "kpis") == document
    assert deps.config.get_settings(f"{tenant}x", "kpis") is None


def test_sms_senders_belong_to_a_tenant_each_kind_apart(deps, tenant):
    name = f"acme-{uuid.uuid4().hex[:8]}"
    assert deps.config.tenant_for_sms_sender("origination", name) is None
    deps.config.put_sms_sender("configuration-set", name, tenant)
    assert deps.config.tenant_for_sms_sender("configuration-set", name) == tenant
    assert deps.config.tenant_for_sms_sender("origination", name) is None  # a sender id of that name is not lent
    deps.config.put_sms_sender("configuration-set", name, f"{tenant}x")  # the admin moves it
    assert deps.config.tenant_for_sms_sender("configuration-set", name) == f"{tenant}x"


def test_agent_activity_spans_close_in_order_and_ignore_repeats(deps, tenant):
    from ccaas.domain.history import OpenActivity
    from ccaas.domain.kpis import ActivityKind

    def opened(kind, since, sequence, agent="ana"):
        return OpenActivity(agent_id=agent, kind=kind, since=since, sequence=sequence)

    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.AVAILABLE_IDLE, T0, 1)) is True
    assert deps.history.agent_activities(tenant, T0 - DAY_MS, T0 + DAY_MS) == []  # nothing closed yet
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.ON_CONTACT, T0 + 60_000, 2)) is True
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.ON_CONTACT, T0 + 60_000, 2)) is False  # redelivered
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.OFFLINE, T0 + 90_000, 1)) is False  # older
    # the next span starts after the UTC midnight at T0 + 10 min: closed spans are filed by their start
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.ACW, T0 + 700_000, 3)) is True
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.AVAILABLE_IDLE, T0 + 730_000, 4)) is True
    assert deps.history.apply_agent_activity(tenant, opened(ActivityKind.NOT_READY, T0, 1, agent="bob")) is True
    spans = deps.history.agent_activities(tenant, T0 - DAY_MS, T0 + DAY_MS)
    assert [(a.agent_id, a.kind, a.start_ms - T0, a.end_ms - T0) for a in spans] == [
        ("ana", ActivityKind.AVAILABLE_IDLE, 0, 60_000),
        ("ana", ActivityKind.ON_CONTACT, 60_000, 700_000),
        ("ana", ActivityKind.ACW, 700_000, 730_000),
    ]
    assert [a.start_ms - T0 for a in deps.history.agent_activities(tenant, T0 + 60_000, T0 + 700_000)] == [60_000]
    assert [(o.agent_id, o.kind, o.since - T0, o.sequence) for o in deps.history.open_activities(tenant)] == [
        ("ana", ActivityKind.AVAILABLE_IDLE, 730_000, 4), ("bob", ActivityKind.NOT_READY, 0, 1)
    ]
    assert deps.history.open_activities(f"{tenant}x") == [] and deps.history.agent_activities(f"{tenant}x", T0 - DAY_MS, T0 + DAY_MS) == []


def test_agent_activity_reads_are_bounded(deps, tenant):
    """One Query per UTC day partition: a range beyond MAX_ACTIVITY_READ_DAYS (e.g. from epoch 0, ~20,000
    queries) is refused, naming the field, before any query."""
    from ccaas.domain.history import MAX_ACTIVITY_READ_DAYS
    from ccaas.domain.models import DomainError

    longest = MAX_ACTIVITY_READ_DAYS * DAY_MS
    assert deps.history.agent_activities(tenant, T0 - longest, T0) == []
    for from_ms in (0, T0 - longest - 1):
        with pytest.raises(DomainError) as refused:
            deps.history.agent_activities(tenant, from_ms, T0)
        assert refused.value.field == "from"


def test_a_long_span_is_found_from_every_day_it_overlaps(deps, tenant):
    """A span open for days is found by a read of any day it covers (the store files it again in each later UTC
    day it crosses), once; a read of the spans starting in a range never sees those copies. An OFFLINE span is
    in no KPI: it is not filed again, found only from its first day and the day after."""
    from ccaas.domain.history import OpenActivity
    from ccaas.domain.kpis import ActivityKind

    midnight = T0 + 10 * 60_000  # 2026-11-27 00:00 UTC
    events = (
        ("ana", ActivityKind.AVAILABLE_IDLE, T0 - 2 * DAY_MS, 1), ("bob", ActivityKind.OFFLINE, T0 - 3 * DAY_MS, 1),
        ("ana", ActivityKind.ON_CONTACT, midnight + 3_600_000, 2), ("bob", ActivityKind.AVAILABLE_IDLE, midnight + 3_600_000, 2),
        ("ana", ActivityKind.ACW, midnight + 3_660_000, 3),
    )
    for agent, kind, since, seq in events:
        assert deps.history.apply_agent_activity(tenant, OpenActivity(agent_id=agent, kind=kind, since=since, sequence=seq))

    def overlapping(from_ms, to_ms):
        return [(a.agent_id, a.kind, a.start_ms - T0) for a in deps.history.agent_activities_overlapping(tenant, from_ms, to_ms)]

    long_idle = ("ana", ActivityKind.AVAILABLE_IDLE, -2 * DAY_MS)
    assert overlapping(midnight - DAY_MS + 3_600_000, midnight - DAY_MS + 7_200_000) == [long_idle]  # an hour of the day before
    on_contact = ("ana", ActivityKind.ON_CONTACT, 3_600_000 + 10 * 60_000)
    assert overlapping(midnight, midnight + DAY_MS) == [long_idle, on_contact]
    assert overlapping(midnight + 3_600_000, midnight + DAY_MS) == [on_contact]  # the long one ended at 01:00
    assert ("bob", ActivityKind.OFFLINE, -3 * DAY_MS) not in overlapping(midnight, midnight + DAY_MS)
    starting = [(a.agent_id, a.start_ms - T0) for a in deps.history.agent_activities(tenant, T0 - 4 * DAY_MS, T0 + DAY_MS)]
    assert sorted(starting) == [("ana", -2 * DAY_MS), ("ana", 3_600_000 + 10 * 60_000), ("bob", -3 * DAY_MS)]  # each once


def test_a_long_contact_is_found_by_the_day_it_completed(deps, tenant):
    """A contact completed more than a day after its anchor time is read back by its completion time, with its
    survey; an older version arriving late does not move it, and a newer one that is no long contact drops it."""
    done = T0 + 20 * 60_000  # 2026-11-27 00:10 UTC
    assert deps.history.put_record(_record(tenant, "long", T0 - 3 * DAY_MS, disconnected_at=done, last_updated_at=done))
    assert deps.history.put_record(_record(tenant, "short", T0 - DAY_MS + 60_000, disconnected_at=T0, last_updated_at=T0))
    deps.history.put_survey(tenant, "long", Survey(csat=5, submitted_at=done + 1))

    def completed(from_ms, to_ms):
        return [(e.contact_id, e.csat) for e in deps.history.entries_completed_between(tenant, from_ms, to_ms)]

    assert completed(T0, T0 + DAY_MS) == [("long", 5)]
    assert completed(done + 1, T0 + DAY_MS) == [] and completed(T0 - DAY_MS, done) == []
    assert completed(T0, T0 + DAY_MS) == completed(done, done + 1)
    assert list(deps.history.entries_completed_between(f"{tenant}x", T0, T0 + DAY_MS)) == []
    older = _record(tenant, "long", T0 - 3 * DAY_MS, disconnected_at=T0 - 5 * 3_600_000, last_updated_at=done - 1)
    assert deps.history.put_record(older) is False
    assert completed(T0, T0 + DAY_MS) == [("long", 5)]  # still found where the record held completed
    newer = _record(tenant, "long", T0 - 3 * DAY_MS, initiated_at=T0 - 60_000, disconnected_at=done, last_updated_at=done + 1)
    assert deps.history.put_record(newer) is True
    assert completed(T0 - DAY_MS, T0 + DAY_MS) == []  # anchored 11 minutes before it completed: entries_between has it


def _chain(deps, tenant, agent="ana") -> list[tuple[int, int]]:
    spans = [(a.start_ms, a.end_ms) for a in deps.history.agent_activities(tenant, T0 - DAY_MS, T0 + DAY_MS) if a.agent_id == agent]
    (held,) = [o for o in deps.history.open_activities(tenant) if o.agent_id == agent]
    return [*spans, (held.since, None)]


def test_racing_events_of_one_agent_leave_one_unbroken_chain_of_spans(deps, tenant):
    """Events of one agent applied at once from 8 threads, in a shuffled order: the ones applied (each newer
    than the open span it found) close spans end to end, none overlapping, the newest still open."""
    import random

    from ccaas.domain.history import OpenActivity
    from ccaas.domain.kpis import ActivityKind

    kinds = list(ActivityKind)
    events = [OpenActivity(agent_id="ana", kind=kinds[n % len(kinds)], since=T0 + n * 1_000, sequence=n) for n in range(1, 41)]
    random.Random(7).shuffle(events)
    barrier = threading.Barrier(8)
    applied: list[int] = []

    def apply(part):
        barrier.wait()
        for opened in part:
            if deps.history.apply_agent_activity(tenant, opened):
                applied.append(opened.sequence)

    threads = [threading.Thread(target=apply, args=(events[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = _chain(deps, tenant)
    assert len(chain) == len(applied) and chain[-1][0] == T0 + max(applied) * 1_000
    assert all(end == nxt for (_, end), (nxt, _) in zip(chain, chain[1:], strict=False))  # end to end, no gap, no overlap
    assert [start for start, _ in chain] == sorted(T0 + n * 1_000 for n in applied)


def test_a_failure_between_the_dynamodb_store_s_two_writes_is_completed_by_the_same_event_again(stack):
    """The DynamoDB store writes the open item (carrying the span it closes) and then the span, without a
    transaction. The span's write failing leaves the open item ahead and the span missing; the event again
    (Kinesis redelivers it: its sequence is now the open one's) writes the carried span, and nothing else."""
    import boto3
    from botocore.exceptions import ClientError

    from ccaas.adapters.aws.history import DynamoHistoryStore
    from ccaas.domain.history import OpenActivity
    from ccaas.domain.kpis import ActivityKind
    from tests.aws_stack import function_environment

    class SpanWriteFails:
        """The History table's client with the next span write throttled (after the SDK's retries)."""

        def __init__(self, db):
            self.db, self.armed, self.writes = db, False, []

        def __getattr__(self, name):
            return getattr(self.db, name)

        def put_item(self, **kwargs):
            self.writes.append(kwargs["Item"]["pk"]["S"].split("#")[1])
            if self.armed and "#ACTIVITY#" in kwargs["Item"]["pk"]["S"]:
                self.armed = False
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem")
            return self.db.put_item(**kwargs)

    db = SpanWriteFails(boto3.client("dynamodb"))
    store = DynamoHistoryStore(db, function_environment(stack, "serve_api")["HISTORY_TABLE"])
    tenant = f"t{uuid.uuid4().hex[:10]}"

    def spans():
        return [(a.kind, a.start_ms - T0, a.end_ms - T0) for a in store.agent_activities(tenant, T0 - DAY_MS, T0 + DAY_MS)]

    first = OpenActivity(agent_id="ana", kind=ActivityKind.AVAILABLE_IDLE, since=T0, sequence=1)
    second = OpenActivity(agent_id="ana", kind=ActivityKind.ON_CONTACT, since=T0 + 60_000, sequence=2)
    assert store.apply_agent_activity(tenant, first) is True
    db.armed = True
    with pytest.raises(ClientError):
        store.apply_agent_activity(tenant, second)
    assert spans() == [] and store.open_activities(tenant)[0].sequence == 2  # the open item is ahead
    db.writes.clear()
    assert store.apply_agent_activity(tenant, second) is False  # the redelivery: not applied again ...
    assert db.writes == ["ACTIVITY"]  # ... but the carried span written, and only that
    assert spans() == [(ActivityKind.AVAILABLE_IDLE, 0, 60_000)]
    db.writes.clear()
    assert store.apply_agent_activity(tenant, second) is False and spans() == [(ActivityKind.AVAILABLE_IDLE, 0, 60_000)]
    db.writes.clear()
    assert store.apply_agent_activity(tenant, first) is False and db.writes == []  # older: no write
    third = OpenActivity(agent_id="ana", kind=ActivityKind.ACW, since=T0 + 90_000, sequence=3)
    db.writes.clear()
    assert store.apply_agent_activity(tenant, third) is True and db.writes == ["OPEN_ACTIVITY", "ACTIVITY"]  # two puts
    assert spans() == [(ActivityKind.AVAILABLE_IDLE, 0, 60_000), (ActivityKind.ON_CONTACT, 60_000, 90_000)]


def test_a_span_keeps_the_slot_counts_it_was_opened_with(deps, tenant):
    """Slot occupancy needs each span's busy / available contact slots (a chat agent holding 1 of 3): the store
    keeps them from the open activity to the closed span, and a span without them reads back without them."""
    from ccaas.domain.history import OpenActivity
    from ccaas.domain.kpis import ActivityKind

    chats = OpenActivity(agent_id="ana", kind=ActivityKind.ON_CONTACT, since=T0, sequence=1, slots_busy=1, slots_available=3)
    assert deps.history.apply_agent_activity(tenant, chats)
    assert deps.history.apply_agent_activity(tenant, OpenActivity(agent_id="ana", kind=ActivityKind.ON_CONTACT,
                                                                  since=T0 + 60_000, sequence=2))
    applied, closed = deps.history.apply_agent_activity_span(
        tenant, OpenActivity(agent_id="ana", kind=ActivityKind.AVAILABLE_IDLE, since=T0 + 90_000, sequence=3))
    assert applied and (closed.slots_busy, closed.slots_available) == (None, None)
    spans = deps.history.agent_activities(tenant, T0 - DAY_MS, T0 + DAY_MS)
    assert [(a.slots_busy, a.slots_available, a.slots()) for a in spans] == [(1, 3, (1, 3)), (None, None, (1, 1))]
