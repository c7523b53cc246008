"""tests/moto_snapshot.py: a stack restored from the snapshot of its first deploy is that deploy's stack, every
restore is a copy of its own (nothing shared with the snapshot or another module's stack, locks included), moto's
and local.moto_patches' behaviour holds on it, and another template is another snapshot."""
from __future__ import annotations

import functools
import hashlib
import json
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_patches
from local.deployer import Deployer, Deployment
from local.memory_release import collector_paused
from tests import moto_snapshot
from tests.moto_snapshot import StackSnapshots

REGION = "us-east-1"
_CLIENTS: dict[str, Any] = {}


@dataclass
class Stack:
    """A deploy's (or restore's) Deployment and moto backends, kept after its mock ended (see `in_mock`)."""

    deployment: Deployment
    backends: dict[tuple[str, str, str, str], Any]  # (service, backend class, account, region) -> backend
    described: dict[str, Any]


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _lid(mapping: dict[str, Any], prefix: str) -> str:
    """The logical id of the stack's resource whose CDK id starts with `prefix` (CDK appends a hash)."""
    (found,) = [lid for lid in mapping if lid.startswith(prefix)]
    return found


@contextmanager
def in_mock() -> Iterator[None]:
    """A fresh mock_aws whose backends are taken out of moto's dicts before it stops: moto resets the backends it
    holds (in place) when a mock stops or starts, and a test compares them with the next stack's."""
    from moto.core.base_backend import BackendDict
    from moto.s3.models import s3_backends

    moto_patches.apply()
    moto_patches.restore_step_functions_config()
    mock = mock_aws()
    mock.start()
    try:
        yield
    finally:
        for backend_dict in list(BackendDict._instances):  # noqa: SLF001
            dict.clear(backend_dict)
        BackendDict._instances.clear()  # noqa: SLF001
        s3_backends.bucket_accounts.clear()  # what S3's reset would have removed
        mock.stop()


def backends_now() -> dict[tuple[str, str, str, str], Any]:
    dicts = moto_snapshot.backend_dicts()
    return {(dicts[i].service_name, type(b).__name__, account, region): b
            for i, account, region, b in moto_snapshot.populated(dicts)}


def deploy(snapshots: StackSnapshots, template: Path, describe: bool = True) -> Stack:
    with in_mock():
        with collector_paused():
            deployment = snapshots.deploy(
                template, functools.partial(Deployer, template, register_functions=False, clients=_CLIENTS), variant="test")
        return Stack(deployment, backends_now(), describe_all() if describe else {})


def _plain(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def describe_all() -> dict[str, Any]:  # noqa: C901 - one read of each kind the deployer creates
    """Everything the deployer can create, as the AWS APIs describe it."""
    out: dict[str, Any] = {}
    ddb = _client("dynamodb")  # (moto answers DynamoDB Streams' API with a 404 here: its stream is read in moto)
    for name in ddb.list_tables()["TableNames"]:
        table = ddb.describe_table(TableName=name)["Table"]
        out[f"dynamodb/{name}"] = {
            "table": table,
            "ttl": ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
            "tags": ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"],
            "backups": _plain(ddb.describe_continuous_backups(TableName=name)),
            "items": ddb.scan(TableName=name)["Items"],
        }
    kinesis = _client("kinesis")
    for name in kinesis.list_streams()["StreamNames"]:
        out[f"kinesis/{name}"] = {"stream": kinesis.describe_stream(StreamName=name)["StreamDescription"],
                                  "tags": kinesis.list_tags_for_stream(StreamName=name)["Tags"]}
    sqs = _client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        out[f"sqs/{url}"] = {"attributes": sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"],
                             "tags": sqs.list_queue_tags(QueueUrl=url).get("Tags", {})}
    sns = _client("sns")
    for topic in sns.list_topics()["Topics"]:
        out[f"sns/{topic['TopicArn']}"] = sns.get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"]
    for sub in sns.list_subscriptions()["Subscriptions"]:
        arn = sub["SubscriptionArn"]
        out[f"sns/{arn}"] = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    iam = _client("iam")
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        out[f"iam/{name}"] = {"role": iam.get_role(RoleName=name)["Role"],
                              "inline": iam.list_role_policies(RoleName=name)["PolicyNames"],
                              "attached": iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
    lam = _client("lambda")
    for fn in lam.list_functions()["Functions"]:
        out[f"lambda/{fn['FunctionName']}"] = _plain(lam.get_function(FunctionName=fn["FunctionName"]))
    for layer in lam.list_layers()["Layers"]:
        for version in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]:
            out[f"lambda/{version['LayerVersionArn']}"] = _plain(lam.get_layer_version(
                LayerName=layer["LayerName"], VersionNumber=version["Version"]))
    sfn = _client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        out[f"states/{machine['name']}"] = _plain(sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"]))
    out["states/activities"] = sfn.list_activities()["activities"]
    events = _client("events")
    for bus in events.list_event_buses()["EventBuses"]:
        rules = events.list_rules(EventBusName=bus["Name"])["Rules"]
        out[f"events/{bus['Name']}"] = {
            "bus": _plain(events.describe_event_bus(Name=bus["Name"])),
            "rules": {r["Name"]: {"rule": _plain(events.describe_rule(Name=r["Name"], EventBusName=bus["Name"])),
                                  "targets": events.list_targets_by_rule(Rule=r["Name"], EventBusName=bus["Name"])["Targets"]}
                      for r in rules},
        }
    s3 = _client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        out[f"s3/{name}"] = {"bucket": bucket, "location": s3.get_bucket_location(Bucket=name)["LocationConstraint"],
                             "notifications": _plain(s3.get_bucket_notification_configuration(Bucket=name)),
                             "objects": s3.list_objects_v2(Bucket=name).get("Contents", [])}
    out["logs"] = _client("logs").describe_log_groups()["logGroups"]
    out["ssm"] = _client("ssm").describe_parameters()["Parameters"]
    return out


def _shared_ids(snapshots: StackSnapshots, template: Path) -> set[int]:
    """What two stacks may have in common: moto's module-level objects, and what the snapshot keeps by
    identity (stateless functions)."""
    key, _ = moto_snapshot.snapshot_key(template, "test")
    snapshot = snapshots.snapshot(key)
    assert snapshot is not None
    return set(moto_snapshot.module_level_objects()) | {id(o) for o in snapshot.shared}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's template, frozen for the module (a synth meanwhile is another template), its assets linked."""
    return moto_snapshot.frozen_template(tmp_path_factory.mktemp("cdk"))


@pytest.fixture(scope="module")
def snapshots() -> StackSnapshots:
    return StackSnapshots()


@pytest.fixture(scope="module")
def first(snapshots: StackSnapshots, template: Path) -> Stack:
    """The deploy the snapshot is taken of (described and kept before anything writes into it)."""
    stack = deploy(snapshots, template)
    assert (snapshots.deploys, snapshots.restores) == (1, 0)
    return stack


def test_every_service_of_the_stack_is_restored_none_deployed_for_real(snapshots, template, first) -> None:
    key, _ = moto_snapshot.snapshot_key(template, "test")
    snapshot = snapshots.snapshot(key)
    assert snapshots.refused(key) is None
    assert snapshot is not None and snapshot.replayed == frozenset(), snapshot.reasons
    services = {service for service, _, _, _ in first.backends}
    assert services == {"dynamodb", "kinesis", "sqs", "sns", "iam", "lambda", "logs", "stepfunctions", "events", "s3"}
    assert {region for service, _, _, region in first.backends if service == "iam"} >= {"aws", "aws-cn", "aws-us-gov"}


def test_a_restored_stack_is_the_deployed_one(snapshots, template, first) -> None:
    restored = deploy(snapshots, template)
    assert snapshots.restores == 1
    assert restored.described == first.described  # every description, its ARNs, ids and creation dates
    assert moto_snapshot._same_deployment(restored.deployment, first.deployment)  # noqa: SLF001 - but elapsed_s
    assert restored.deployment.elapsed_s < first.deployment.elapsed_s  # the restore's own time
    assert restored.deployment.template is not first.deployment.template
    assert restored.backends.keys() == first.backends.keys()
    # Every object, attribute and value of moto's state: equal, and none of the deploy's objects in the restore.
    found = moto_snapshot.differences(first.backends, restored.backends, _shared_ids(snapshots, template))
    assert found == []
    # What the deployer creates, all of it (the template's ten tables, two streams, queues, topics, ...).
    kinds = {name.split("/", 1)[0] for name in restored.described}
    assert {"dynamodb", "kinesis", "sqs", "sns", "iam", "lambda", "states", "events", "s3"} <= kinds
    assert len([n for n in restored.described if n.startswith("dynamodb/")]) == len(first.deployment.tables)
    assert len([n for n in restored.described if n.startswith("states/") and n != "states/activities"]) == len(
        first.deployment.state_machines)


# moto draws these when it creates a resource (ids) or takes the time (creation dates): a deploy of its own draws
# others, a restore has the snapshot's.
_DRAWN = {"RoleId", "CreateDate", "creationDate", "CreationDateTime", "CreatedTimestamp", "LastModifiedTimestamp",
          "LastModified", "RevisionId", "StreamCreationTimestamp", "CreationTime", "creationTime", "CreatedDate",
          "CreationDate", "LastUpdateToPayPerRequestDateTime", "SubscriptionArn", "TableId", "LatestStreamLabel",
          "revisionId", "LastModifiedTime", "Location"}  # Location: a Lambda function's code, under a key with a uuid


def _without_drawn(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<drawn>" if k in _DRAWN else _without_drawn(v) for k, v in value.items()
                if not (isinstance(k, str) and k.startswith("sns/arn:") and k.count(":") > 5)}  # a subscription's ARN
    if isinstance(value, list):
        return [_without_drawn(v) for v in value]
    return value


def test_a_restored_stack_describes_as_a_deploy_of_its_own(snapshots, template, first) -> None:
    restored = deploy(snapshots, template)
    with in_mock():
        replayed = Deployer(template, register_functions=False, clients=_CLIENTS).deploy()
        described = describe_all()
    assert _without_drawn(restored.described) == _without_drawn(described)
    drawn = {r.logical_id for r in replayed.resources.values() if r.type in ("AWS::IAM::Role", "AWS::SNS::Subscription")}
    for lid, resource in replayed.resources.items():
        if lid not in drawn:
            assert restored.deployment.resources[lid] == resource, lid
    assert restored.deployment.functions == replayed.functions
    assert restored.deployment.tables == replayed.tables and restored.deployment.queues == replayed.queues


def test_writes_after_a_restore_reach_neither_the_snapshot_nor_the_next_restore(snapshots, template, first) -> None:
    key, _ = moto_snapshot.snapshot_key(template, "test")
    snapshot = snapshots.snapshot(key)
    kept = hashlib.sha256(snapshot.backends + snapshot.deployment).hexdigest()
    with in_mock():
        deployment = snapshots.deploy(template, functools.partial(Deployer, template, register_functions=False,
                                                                  clients=_CLIENTS), variant="test")
        table = deployment.tables[_lid(deployment.tables, "DataAgentsTable")]
        _client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "t#AGENT"}, "sk": {"S": "ana"}})
        url, _ = deployment.queues[_lid(deployment.queues, "EventsContactEventsDlq")]
        _client("sqs").send_message(QueueUrl=url, MessageBody="kept?")
        stream, _ = next(iter(deployment.streams.values()))
        _client("kinesis").put_record(StreamName=stream, Data=b"kept?", PartitionKey="p")
        bucket = next(iter(deployment.buckets.values()))
        _client("s3").put_object(Bucket=bucket, Key="kept", Body=b"?")
        _client("sqs").create_queue(QueueName="made-by-a-test")
        deployment.tables[_lid(deployment.tables, "DataAgentsTable")] = "changed by a test"
        machine = next(iter(deployment.state_machines.values()))
        _client("stepfunctions").start_execution(stateMachineArn=machine, input="{}")
    assert hashlib.sha256(snapshot.backends + snapshot.deployment).hexdigest() == kept
    after = deploy(snapshots, template)
    assert after.described == first.described
    assert after.deployment.tables[_lid(deployment.tables, "DataAgentsTable")] == table


def test_writes_into_the_deployed_stack_do_not_reach_the_snapshot(tmp_path) -> None:
    """The other way: what the module whose deploy was kept writes into its stack is not in the next restore."""
    snapshots = StackSnapshots()
    template = _tiny_template(tmp_path / "Tiny.template.json")
    with in_mock():
        deployment = snapshots.deploy(
            template, functools.partial(Deployer, template, register_functions=False, clients=_CLIENTS), variant="test")
        assert (snapshots.deploys, snapshots.restores) == (1, 0)
        before = describe_all()
        _client("dynamodb").put_item(TableName="tiny", Item={"pk": {"S": "written"}})
        _client("sqs").send_message(QueueUrl=deployment.queues["Q"][0], MessageBody="written")
        _client("kinesis").put_record(StreamName=deployment.streams["S"][0], Data=b"written", PartitionKey="p")
        _client("s3").put_object(Bucket=deployment.buckets["Bucket"], Key="written", Body=b"!")
        _client("sns").create_topic(Name="written")
        deployment.tables["T"] = "written"
    restored = deploy(snapshots, template)
    assert snapshots.restores == 1
    assert restored.described == before
    assert restored.deployment.tables["T"] == "tiny"
    table = next(b for k, b in restored.backends.items() if k[0] == "dynamodb").tables["tiny"]
    assert table.stream_shard.items == []  # the write's stream record is not there either


def test_two_stacks_share_no_object_and_no_lock(snapshots, template, first) -> None:
    one, two = deploy(snapshots, template, describe=False), deploy(snapshots, template, describe=False)
    assert moto_snapshot.differences(one.backends, two.backends, _shared_ids(snapshots, template)) == []
    shared = _shared_ids(snapshots, template)
    ids_one = {id(o) for o in moto_snapshot.reachable(one.backends, shared)}
    common = [o for o in moto_snapshot.reachable(two.backends, shared) if id(o) in ids_one]
    assert common == []
    ids_first = {id(o) for o in moto_snapshot.reachable(first.backends, shared)}
    assert not [o for o in moto_snapshot.reachable(two.backends, shared) if id(o) in ids_first]
    # SQS queues hold a Condition: each stack's is its own, on a lock of its own.
    queues = [next(b for k, b in s.backends.items() if k[0] == "sqs").queues for s in (first, one, two)]
    conditions = [[q._messages_lock for q in qs.values()] for qs in queues]  # noqa: SLF001
    assert all(isinstance(c, threading.Condition) for cs in conditions for c in cs)
    locks = [c._lock for cs in conditions for c in cs]  # noqa: SLF001
    assert len({id(lock) for lock in locks}) == len(locks)
    with conditions[0][0]:  # the deployed queue's held here; the restored one's free for another thread
        got: list[bool] = []

        def take_the_restored_one() -> None:
            got.append(conditions[1][0].acquire(blocking=False))
            if got[-1]:
                conditions[1][0].release()

        thread = threading.Thread(target=take_the_restored_one)
        thread.start()
        thread.join()
        assert got == [True]


def test_a_restored_stack_works_as_a_deployed_one(snapshots, template, first) -> None:
    """Kinesis puts and reads, SQS sends and receives, S3's EventBridge notifications through a rule to its queue,
    a Lambda function's configuration, a state machine's execution: on a restored stack."""
    from moto.awslambda.models import lambda_backends

    with in_mock():
        deployment = snapshots.deploy(template, functools.partial(Deployer, template, register_functions=False,
                                                                  clients=_CLIENTS), variant="test")
        kinesis = _client("kinesis")
        stream, _ = next(iter(deployment.streams.values()))
        shard = kinesis.put_record(StreamName=stream, Data=b"one", PartitionKey="p")["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]] == [b"one"]
        # a failure kept in the bucket reaches the rule's queue (S3 -> EventBridge's default bus -> SQS)
        bucket = deployment.buckets[_lid(deployment.buckets, "EventsContactEventsFailures")]
        _client("s3").put_object(Bucket=bucket, Key="aws/lambda/failed.json", Body=b"{}")
        url, _ = deployment.queues[_lid(deployment.queues, "EventsContactEventsDlq")]
        messages = _client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [json.loads(m["Body"])["detail"]["object"]["key"] for m in messages] == ["aws/lambda/failed.json"]
        serve = deployment.function_by_folder("serve_api")
        config = _client("lambda").get_function_configuration(FunctionName=serve.name)
        assert config["Environment"]["Variables"] == serve.environment
        function = lambda_backends["123456789012"][REGION].get_function(serve.name)
        assert function._DockerModel__docker_client is None  # noqa: SLF001 - as a new function's
        assert function.logs_backend is backends_now()[("logs", "LogsBackend", "123456789012", REGION)]
        machine = next(iter(deployment.state_machines.values()))
        execution = _client("stepfunctions").start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        assert _client("stepfunctions").describe_execution(executionArn=execution)["stateMachineArn"] == machine


def test_conditional_writes_on_a_restored_table_still_have_one_winner(snapshots, template, first) -> None:
    """local.moto_patches serialises DynamoDB requests (patch 2): racing conditional transactions on a restored
    table have one winner per item, as on a deployed one (tests/local/test_moto_guard.py's race, in-process)."""
    with in_mock():
        deployment = snapshots.deploy(template, functools.partial(Deployer, template, register_functions=False,
                                                                  clients=_CLIENTS), variant="test")
        table = deployment.tables[_lid(deployment.tables, "DataAgentsTable")]
        ddb = _client("dynamodb")
        items, writers = 8, 8
        for k in range(items):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"agent{k}"}, "sk": {"S": "A"}, "version": {"N": "0"}})
        wins: dict[int, int] = {}
        count = threading.Lock()
        barrier = threading.Barrier(writers)
        errors: list[BaseException] = []

        def reserve(i: int) -> None:
            try:
                client = _client("dynamodb")
                for k in range(items):
                    try:
                        barrier.wait(10)
                    except threading.BrokenBarrierError:
                        pass
                    try:
                        client.transact_write_items(TransactItems=[
                            {"Put": {"TableName": table, "Item": {"pk": {"S": f"agent{k}"}, "sk": {"S": "A"},
                                                                   "version": {"N": "1"}, "by": {"N": str(i)}},
                                     "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": "0"}}}},
                            {"Put": {"TableName": table, "Item": {"pk": {"S": f"contact{k}-{i}"}, "sk": {"S": "C"}},
                                     "ConditionExpression": "attribute_not_exists(pk)"}},
                        ])
                        with count:
                            wins[k] = wins.get(k, 0) + 1
                    except ClientError as err:
                        if err.response["Error"]["Code"] != "TransactionCanceledException":
                            raise
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=reserve, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert wins == {k: 1 for k in range(items)}


def test_a_restored_table_is_registered_where_a_deployed_one_is(snapshots, template, first) -> None:
    """moto's instance tracking (patch 7) lists the restored models; patch 25's index map is built for the restored
    table, on its first index Query, and kept up to date by its writes."""
    from moto.dynamodb.models.table import Table

    with in_mock():
        deployment = snapshots.deploy(template, functools.partial(Deployer, template, register_functions=False,
                                                                  clients=_CLIENTS), variant="test")
        name = deployment.tables[_lid(deployment.tables, "DataAgentsTable")]
        restored = next(b for k, b in backends_now().items() if k[0] == "dynamodb").tables[name]
        assert any(t is restored for t in Table.instances_tracked)
        maps = moto_patches._index_maps  # noqa: SLF001 - patch 25's, by table
        assert id(restored) not in maps or maps[id(restored)][0]() is not restored  # none yet, as a deployed table
        ddb = _client("dynamodb")

        def available(pk: str) -> list[str]:
            found = ddb.query(TableName=name, IndexName="available", KeyConditionExpression="avail_pk = :p",
                              ExpressionAttributeValues={":p": {"S": pk}})["Items"]
            return sorted(i["sk"]["S"] for i in found)

        ddb.put_item(TableName=name, Item={"pk": {"S": "t"}, "sk": {"S": "ana"}, "avail_pk": {"S": "q1"},
                                           "avail_sk": {"S": "1"}})
        assert available("q1") == ["ana"]
        entry = maps[id(restored)]
        assert entry[0]() is restored
        ddb.put_item(TableName=name, Item={"pk": {"S": "t"}, "sk": {"S": "bo"}, "avail_pk": {"S": "q1"},
                                           "avail_sk": {"S": "2"}})
        ddb.update_item(TableName=name, Key={"pk": {"S": "t"}, "sk": {"S": "ana"}}, UpdateExpression="SET avail_pk = :q",
                        ExpressionAttributeValues={":q": {"S": "q2"}})
        assert available("q1") == ["bo"] and available("q2") == ["ana"]


def _tiny_template(path: Path, gsi: bool = False) -> Path:
    """A table with a stream, TTL (and a GSI), a Kinesis stream, a queue with its dead-letter queue, a topic and a
    subscription, a role, a state machine, a bus with a rule, a bucket: what the deployer makes, small."""
    table: dict[str, Any] = {
        "TableName": "tiny", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
    }
    if gsi:
        table["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
        table["GlobalSecondaryIndexes"] = [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                            "Projection": {"ProjectionType": "ALL"}}]
    resources = {
        "T": {"Type": "AWS::DynamoDB::Table", "Properties": table},
        "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}},
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30, "RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "sqs",
                                                                 "Endpoint": {"Fn::GetAtt": ["Q", "Arn"]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "DefinitionString": json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "tiny-bus"}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["tiny"]},
                                                             "Targets": [{"Id": "q", "Arn": {"Fn::GetAtt": ["Q", "Arn"]}}]}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }
    path.write_text(json.dumps({"Resources": resources}))
    return path


def test_a_template_change_makes_a_new_snapshot(tmp_path) -> None:
    snapshots = StackSnapshots()
    template = _tiny_template(tmp_path / "Tiny.template.json")
    original = deploy(snapshots, template)
    again = deploy(snapshots, template)
    assert (snapshots.deploys, snapshots.restores) == (1, 1)
    assert again.described == original.described
    key, _ = moto_snapshot.snapshot_key(template, "test")
    _tiny_template(template, gsi=True)
    changed = deploy(snapshots, template)
    assert (snapshots.deploys, snapshots.restores) == (2, 1)
    assert moto_snapshot.snapshot_key(template, "test")[0] != key
    assert [g["IndexName"] for g in changed.described["dynamodb/tiny"]["table"]["GlobalSecondaryIndexes"]] == ["by_g"]
    restored = deploy(snapshots, template)
    assert (snapshots.deploys, snapshots.restores) == (2, 2)
    assert restored.described == changed.described
    _tiny_template(template)  # and back: the first snapshot is still kept
    assert deploy(snapshots, template).described == original.described
    assert (snapshots.deploys, snapshots.restores) == (2, 3)
    # another variant of the same template (the caller's deployer settings) is not the same snapshot
    assert moto_snapshot.snapshot_key(template, "other")[0] != moto_snapshot.snapshot_key(template, "test")[0]


def test_a_restored_table_stream_records_its_writes(tmp_path) -> None:
    snapshots = StackSnapshots()
    template = _tiny_template(tmp_path / "Tiny.template.json")
    deploy(snapshots, template, describe=False)
    with in_mock():
        deployment = snapshots.deploy(
            template, functools.partial(Deployer, template, register_functions=False, clients=_CLIENTS), variant="test")
        assert snapshots.restores == 1
        ddb = _client("dynamodb")
        ddb.put_item(TableName="tiny", Item={"pk": {"S": "a"}})
        ddb.update_item(TableName="tiny", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})
        table = next(b for k, b in backends_now().items() if k[0] == "dynamodb").tables["tiny"]
        shard = table.stream_shard
        assert shard.table is table  # the restored shard belongs to the restored table
        assert [(r.record["eventName"], r.record["dynamodb"]["Keys"]) for r in shard.items] == [
            ("INSERT", {"pk": {"S": "a"}}), ("MODIFY", {"pk": {"S": "a"}})]
        # the topic's subscription delivers to the restored queue, the bus's rule too
        queue, _ = deployment.queues["Q"]
        topic = _client("sns").list_topics()["Topics"][0]["TopicArn"]
        _client("sns").publish(TopicArn=topic, Message="hello")
        _client("events").put_events(Entries=[{"Source": "tiny", "DetailType": "t", "Detail": "{}",
                                               "EventBusName": "tiny-bus"}])
        bodies = [m["Body"] for m in _client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
        assert len(bodies) == 2 and any('"hello"' in b for b in bodies) and any('"tiny"' in b for b in bodies)


def test_a_service_that_does_not_copy_is_deployed_for_real_in_the_restored_mock(template) -> None:
    """Asked to (as when its state does not copy), Lambda and Logs are deployed for real on each restore: their
    resource types are, Lambda's layer with its functions, and the rest comes from the snapshot."""
    snapshots = StackSnapshots(replay=frozenset({"logs"}))
    first = deploy(snapshots, template)
    restored = deploy(snapshots, template)
    key, _ = moto_snapshot.snapshot_key(template, "test")
    snapshot = snapshots.snapshot(key)
    assert snapshot.replayed == {"lambda", "logs"}
    assert snapshot.replayed_types == {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion"}
    assert (snapshots.deploys, snapshots.restores) == (1, 1)
    assert moto_snapshot._same_deployment(restored.deployment, first.deployment)  # noqa: SLF001 - but elapsed_s
    # the Lambda functions and layer are new (their dates and code keys drawn again), the rest the snapshot's
    lambda_names = {n for n in restored.described if n.startswith("lambda/")}
    assert lambda_names and lambda_names == {n for n in first.described if n.startswith("lambda/")}
    assert all(restored.described[n] != first.described[n] for n in lambda_names if "Configuration" in first.described[n])
    assert _without_drawn(restored.described) == _without_drawn(first.described)
    assert {n: d for n, d in restored.described.items() if n not in lambda_names} == {
        n: d for n, d in first.described.items() if n not in lambda_names}


def test_a_service_deployed_for_real_with_other_ids_makes_the_whole_stack_deployed(tmp_path) -> None:
    """IAM draws a role's RoleId, which the Deployment records: deployed for real beside restored services it would
    differ, so the stack is deployed whole and its snapshot dropped."""
    snapshots = StackSnapshots(replay=frozenset({"iam"}))
    template = _tiny_template(tmp_path / "Tiny.template.json")
    deploy(snapshots, template, describe=False)
    stack = deploy(snapshots, template)
    key, _ = moto_snapshot.snapshot_key(template, "test")
    assert (snapshots.deploys, snapshots.restores) == (2, 0)
    assert snapshots.snapshot(key) is None and "gave another Deployment" in snapshots.refused(key)
    assert stack.deployment.resources["Role"].attributes["RoleId"] == stack.described[
        f"iam/{stack.deployment.resources['Role'].physical_id}"]["role"]["RoleId"]
    assert "dynamodb/tiny" in stack.described and "s3/" + stack.deployment.buckets["Bucket"] in stack.described
    deploy(snapshots, template, describe=False)
    assert (snapshots.deploys, snapshots.restores) == (3, 0)  # refused for good: no snapshot taken again


def test_state_it_cannot_copy_makes_its_service_deployed_for_real(tmp_path) -> None:
    template = _tiny_template(tmp_path / "Tiny.template.json")
    with in_mock():
        deployment = Deployer(template, register_functions=False, clients=_CLIENTS).deploy()
        sqs = next(b for k, b in backends_now().items() if k[0] == "sqs")
        sqs.watcher = weakref.ref(sqs)  # a weak reference: copying it would point at the original
        events = next(b for k, b in backends_now().items() if k[0] == "events")
        counter = [0]
        events.callback = lambda: counter  # a closure: its state would be shared
        snapshot = moto_snapshot.take("k", template.read_text(), deployment)
    assert snapshot.replayed == {"sqs", "events"}
    assert "weakref" in snapshot.reasons["sqs"]
    assert "a local function with state" in snapshot.reasons["events"]
    assert snapshot.replayed_types == {"AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::Events::Rule"}


def test_a_copy_that_differs_from_its_original_is_found() -> None:
    class Box:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    shared = [1]
    a = Box(x=[1, 2], y={"k": shared}, z=shared, lock=threading.Lock())
    assert moto_snapshot.differences(a, Box(x=[1, 2], y={"k": [1]}, z=[1], lock=threading.Lock())) != []  # aliasing
    assert moto_snapshot.differences(a, Box(x=[1, 3], y={"k": shared}, z=shared, lock=threading.Lock())) != []
    assert moto_snapshot.differences(a, Box(x=a.x, y={"k": [1]}, z=None, lock=threading.Lock())) != []  # a list kept
    assert moto_snapshot.differences(a, Box(x=[1, 2], y={"k": [1]}, z=None, lock=a.lock)) != []  # the lock kept
    copy = Box(x=[1, 2], y={"k": [1]}, z=None, lock=threading.Lock())
    copy.z = copy.y["k"]
    assert moto_snapshot.differences(a, copy) == []


def test_a_deployer_registering_functions_or_a_mock_with_state_is_deployed_for_real(tmp_path) -> None:
    """What a snapshot cannot hold (local.lambda_runtime's registry of functions) or would take for the stack's (a
    mock that is not fresh): deployed for real each time, nothing kept."""
    snapshots = StackSnapshots()
    template = _tiny_template(tmp_path / "Tiny.template.json")
    for _ in range(2):
        with in_mock():
            snapshots.deploy(template, functools.partial(Deployer, template, register_functions=True, clients=_CLIENTS),
                             variant="registers")
    key, _ = moto_snapshot.snapshot_key(template, "registers")
    assert (snapshots.deploys, snapshots.restores) == (2, 0)
    assert snapshots.snapshot(key) is None and snapshots.refused(key) == "the deployer registers functions"
    for _ in range(2):
        with in_mock():
            _client("sqs").create_queue(QueueName="already-here")
            snapshots.deploy(template, functools.partial(Deployer, template, register_functions=False, clients=_CLIENTS),
                             variant="test")
            assert "already-here" in str(_client("sqs").list_queues()["QueueUrls"])
    assert (snapshots.deploys, snapshots.restores) == (4, 0)
    assert snapshots.snapshot(moto_snapshot.snapshot_key(template, "test")[0]) is None
