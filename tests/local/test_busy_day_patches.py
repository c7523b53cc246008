"""What the local runtime changed so a busy day fits in one process (issue 17 item 4), each against moto:

- patch 12, its second case: an execution whose worker has no evaluation environment yet (starting) is
  skipped by SendTaskSuccess instead of failing with an AttributeError (seen in the busy-day bench);
- patch 13: the ASL engine's boto3 clients are made once per service, not per task;
- patch 14: Kinesis shards read from their ends (same records, iterators and lag as moto's walk), and the
  retention that drops what every local consumer delivered, keeping the newest few;
- patch 15: past a bound, finished Step Functions executions are forgotten (off by default);
- local.botocore_data: botocore sessions share one data loader, their aliased event names and their handlers' kwargs checks.
"""
from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local import botocore_data, moto_patches, moto_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]


@pytest.fixture(scope="module")
def endpoint():
    moto_patches.apply()
    yield moto_server.ensure_started()
    moto_patches.FINISHED_EXECUTIONS_KEPT = None
    moto_patches.restore_step_functions_config()


def _client(endpoint: str, service: str):  # noqa: ANN202
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="t", aws_secret_access_key="t")


def test_the_pins_hold() -> None:
    assert moto_patches.problems(include_version=False) == []
    assert botocore_data.problems() == []


# -- patch 13 ------------------------------------------------------------------------------------------

def test_the_asl_engine_makes_one_client_per_service() -> None:
    moto_patches.apply()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
    from moto.stepfunctions.parser.asl.utils import boto_client

    first = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda", state_credentials=None)
    again = state_task_service_aws_sdk.boto_client_for(region="us-east-1", service="lambda", state_credentials=object())
    other = boto_client.boto_client_for(region="us-east-1", service="sqs")
    assert first is again and other is not first
    assert first.meta.service_model.service_name == "lambda" and other.meta.service_model.service_name == "sqs"
    assert boto_client.boto_client_for is lambda_eval_utils.boto_client_for is not moto_patches._original_boto_client_for


# -- patch 14 ------------------------------------------------------------------------------------------

def _stream(endpoint: str, name: str, records: int):  # noqa: ANN202
    kinesis = _client(endpoint, "kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    for i in range(records):
        kinesis.put_record(StreamName=name, PartitionKey="pk", Data=json.dumps({"i": i}).encode())
    shard_id = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    from moto.kinesis.models import kinesis_backends

    shard = kinesis_backends["123456789012"]["us-east-1"].streams[name].shards[shard_id]
    return kinesis, shard_id, shard


def _read_all(kinesis, name: str, shard_id: str, limit: int) -> list[int]:  # noqa: ANN001
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out: list[int] = []
    while True:
        page = kinesis.get_records(ShardIterator=it, Limit=limit)
        out += [json.loads(r["Data"])["i"] for r in page["Records"]]
        if not page["Records"]:
            return out
        it = page["NextShardIterator"]


def test_shards_answer_as_moto_s_walk(endpoint) -> None:  # noqa: ANN001
    kinesis, shard_id, shard = _stream(endpoint, "walk", 40)
    walk = moto_patches._originals_kinesis_shard["get_records"]
    for after, limit in [("0", 7), ("5", None), ("39", 3), ("40", 5), ("12", 100), ("0", 40)]:
        records, last, behind = shard.get_records(after, limit)
        m_records, m_last, m_behind = walk(shard, after, limit)
        assert [r.sequence_number for r in records] == [r.sequence_number for r in m_records]
        assert (last, behind) == (m_last, m_behind)
    assert shard.get_max_sequence_number() == 40 and shard.get_min_sequence_number() == 1
    assert _read_all(kinesis, "walk", shard_id, limit=6) == list(range(40))


def test_retention_drops_what_was_delivered_but_the_newest(endpoint) -> None:  # noqa: ANN001
    kinesis, shard_id, shard = _stream(endpoint, "kept", 60)
    assert moto_patches.trim_kinesis_shard("kept", shard_id, delivered_up_to=50, keep=10) == 40
    assert _read_all(kinesis, "kept", shard_id, limit=7) == list(range(40, 60))  # sequence numbers 41..60
    assert moto_patches.trim_kinesis_shard("kept", shard_id, delivered_up_to=45, keep=10) == 0  # behind: nothing
    kinesis.put_record(StreamName="kept", PartitionKey="pk", Data=b'{"i": 60}')  # numbering goes on
    assert shard.get_max_sequence_number() == 61 and _read_all(kinesis, "kept", shard_id, limit=100)[-1] == 60
    # never past what was put, even if a checkpoint said so
    assert moto_patches.trim_kinesis_shard("kept", shard_id, delivered_up_to=10**6, keep=5) == 16
    assert len(shard.records) == 5


def test_pollers_trim_only_what_every_poller_of_the_stream_delivered(endpoint, monkeypatch) -> None:  # noqa: ANN001
    from local import kinesis_poller

    calls = []
    monkeypatch.setattr(moto_patches, "trim_kinesis_shard", lambda *a, **k: calls.append(a) or 0)
    fast, slow = (SimpleNamespace(_delivered={}, stream_name="s") for _ in range(2))
    monkeypatch.setitem(kinesis_poller._pollers, "s", [fast, slow])
    deliver = kinesis_poller.KinesisPoller._delivered_up_to
    deliver(fast, "shardId-000000000000", "30")
    assert calls == []  # the other poller has delivered nothing on that shard yet
    deliver(slow, "shardId-000000000000", "12")
    deliver(fast, "shardId-000000000000", "40")
    assert calls == [("s", "shardId-000000000000", 12), ("s", "shardId-000000000000", 12)]


# -- patch 15 ------------------------------------------------------------------------------------------

def _machine(endpoint: str, name: str):  # noqa: ANN202
    sfn = _client(endpoint, "stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    return sfn, arn


def _run(sfn, arn: str, n: int) -> list[str]:  # noqa: ANN001
    runs = [sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps({"n": i}))["executionArn"]
            for i in range(n)]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = sfn.list_executions(stateMachineArn=arn)["executions"]
        if not any(e["status"] == "RUNNING" for e in listed):
            return runs
        time.sleep(0.05)
    raise AssertionError("executions still running")


def test_every_execution_is_kept_unless_asked(endpoint) -> None:  # noqa: ANN001
    moto_patches.FINISHED_EXECUTIONS_KEPT = None
    sfn, arn = _machine(endpoint, "keep-all")
    runs = _run(sfn, arn, 6)
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 6
    assert sfn.describe_execution(executionArn=runs[0])["status"] == "SUCCEEDED"


def test_past_the_bound_the_oldest_finished_executions_are_forgotten(endpoint) -> None:  # noqa: ANN001
    moto_patches.FINISHED_EXECUTIONS_KEPT = 3
    try:
        sfn, arn = _machine(endpoint, "keep-three")
        runs = []
        for _ in range(3):  # in waves: which ones finish first within a wave is up to the threads
            runs += _run(sfn, arn, 3)
        # An execution shows SUCCEEDED a moment before its worker's terminated() (where the bound is applied)
        # runs: wait for the last ones' while the bound is still set.
        deadline = time.monotonic() + 10
        while True:
            kept = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]}
            if len(kept) <= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        moto_patches.FINISHED_EXECUTIONS_KEPT = None
    assert kept == set(runs[-3:])
    assert sfn.describe_execution(executionArn=runs[-1])["status"] == "SUCCEEDED"
    assert sfn.get_execution_history(executionArn=runs[-1])["events"]  # kept ones keep their history
    with pytest.raises(ClientError) as err:
        sfn.describe_execution(executionArn=runs[0])
    assert err.value.response["Error"]["Code"] == "ExecutionDoesNotExist"


# -- local.botocore_data -------------------------------------------------------------------------------

def test_sessions_share_one_loader_and_its_search_path_stays_short() -> None:
    import botocore.session

    was_installed = botocore_data.installed()
    before = botocore.session.create_loader  # botocore's, or tests/conftest.py's own sharing
    botocore_data.install()
    try:
        sessions = [boto3.session.Session() for _ in range(3)]
        loaders = {id(s._session.get_component("data_loader")) for s in sessions}
        assert len(loaders) == 1
        paths = sessions[0]._session.get_component("data_loader").search_paths
        assert len(paths) == len(set(paths))
        client = sessions[1].client("dynamodb", region_name="us-east-1")
        assert "PutItem" in client.meta.service_model.operation_names
    finally:
        if not was_installed:
            botocore_data.uninstall()
            assert botocore.session.create_loader is before


def _aliaser(session: Any) -> Any:
    return session._session.get_component("event_emitter")  # noqa: SLF001 (botocore's EventAliaser)


def test_sessions_share_aliased_event_names_and_answer_as_botocore() -> None:
    import botocore.hooks

    was_installed = botocore_data.installed()
    botocore_data.install()
    try:
        first, second = boto3.session.Session(), boto3.session.Session()
        first.client("dynamodb", region_name="us-east-1")
        known = dict(_aliaser(first)._alias_name_cache)  # noqa: SLF001
        assert _aliaser(second)._alias_name_cache is _aliaser(first)._alias_name_cache  # noqa: SLF001
        second.client("dynamodb", region_name="us-east-1")
        assert dict(_aliaser(second)._alias_name_cache) == known  # nothing new to alias for the second  # noqa: SLF001
        # Every alias of botocore's table, and names it leaves alone, as an unshared aliaser answers them.
        own = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter(), dict(botocore.hooks.EVENT_ALIASES))
        names = [f"before-call.{old}.Op" for old in botocore.hooks.EVENT_ALIASES]
        names += [f"{kind}.{old}" for kind in ("creating-client-class", "service-data-loaded")
                  for old in botocore.hooks.EVENT_ALIASES]
        names += ["before-call.dynamodb.PutItem", "needs-retry.kinesis.GetRecords", "request-created"]
        shared = _aliaser(boto3.session.Session())
        assert [shared._alias_event_name(n) for n in names] == [own._alias_event_name(n) for n in names]  # noqa: SLF001
        assert any(own._alias_event_name(n) != n for n in names)  # noqa: SLF001 (the table did rename some)
    finally:
        if not was_installed:
            botocore_data.uninstall()


def test_a_handlers_kwargs_check_is_remembered_and_answers_as_botocore(monkeypatch) -> None:  # noqa: ANN001
    import functools
    import inspect

    import botocore.compat
    import botocore.hooks

    was_installed = botocore_data.installed()
    botocore_data.install()
    try:
        class Handlers:
            def with_kwargs(self, **kwargs: Any) -> None: ...
            def without(self, a: int) -> None: ...

        def plain(**kwargs: Any) -> None: ...

        handlers = Handlers()
        cases = [plain, lambda x: x, handlers.with_kwargs, handlers.without, functools.partial(plain),
                 functools.partial(lambda a, b: a, 1)]
        for handler in cases * 2:  # the second round from memory
            assert botocore.hooks.accepts_kwargs(handler) == botocore.compat.accepts_kwargs(handler), handler
        emitter = botocore.hooks.HierarchicalEmitter()
        with pytest.raises(ValueError, match="kwargs"):
            emitter.register("before-call", handlers.without)  # still refused after the answer is remembered
        # Most of a session's handlers are the same functions in every session: after the first, a session
        # inspects only the few closures botocore makes for it (lazy_call).
        inspected: list[Any] = []
        real = inspect.getfullargspec
        monkeypatch.setattr(inspect, "getfullargspec", lambda f: inspected.append(f) or real(f))
        botocore_data._accepts_kwargs.clear()  # noqa: SLF001 (as in a new process)
        boto3.session.Session().client("kinesis", region_name="us-east-1")
        first = len(inspected)
        boto3.session.Session().client("kinesis", region_name="us-east-1")
        # a few (8-9: it depends on what earlier tests of the worker registered) against ~90 without the memory
        assert 0 < first and (len(inspected) - first) * 5 <= first, (first, len(inspected) - first)
    finally:
        if not was_installed:
            botocore_data.uninstall()


# -- local.kinesis_poller: Lambda's read pace -------------------------------------------------------------

def test_a_paced_poller_batches_what_arrives_within_its_interval(endpoint) -> None:  # noqa: ANN001
    from tests.local.test_kinesis_poller import FakeConsumer, make_stream, poller, put

    aws = {s: _client(endpoint, s) for s in ("kinesis", "sqs")}
    results = {}
    for interval in (0.0, 1.0):
        stream, arn, _, _ = make_stream(aws)
        consumer = FakeConsumer()
        p = poller(aws, arn, consumer, BatchSize=100)
        p.min_read_interval_s = interval
        p.start()
        try:
            for i in range(8):  # a put every 0.1 s: each wakes the shard
                put(aws, stream, [f"r{i}"])
                time.sleep(0.1)
            deadline = time.monotonic() + 5
            while len(consumer.delivered()) < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            p.stop()
        assert consumer.delivered() == [f"r{i}" for i in range(8)]  # each once, in order, either way
        results[interval] = len(consumer.batches)
    # as soon as woken: about a batch a put; once a second: the first put, then the rest together (maybe 2)
    assert results[1.0] <= 3 < results[0.0]
