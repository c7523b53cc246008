"""The local deployer: intrinsic resolution (pure), loud failures, and the real synthesized template
deployed into moto."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.deployer import DeployError, Deployer, check_asl_graph, lambda_arn_from_uri, substitute_definition
from local.intrinsics import IntrinsicError, Resolver, dependencies

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "LayerArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/some/ssm/path"},
    },
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": ["a", "a"]}]},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
    "Resources": {},
}


def resolver(**kw) -> Resolver:
    attrs = {("Table", "Arn"): "arn:aws:dynamodb:us-east-1:123456789012:table/T", ("Fn", "Arn"): "arn:aws:lambda:us-east-1:123456789012:function:F"}
    return Resolver(
        TEMPLATE,
        region="us-east-1",
        account_id="123456789012",
        stack_name="Ccaas",
        parameters={"Stage": "dev", "LayerArn": "dummy"},
        refs={"Table": "T", "Queue": "https://q"},
        get_att=lambda lid, attr: attrs[(lid, attr)],
        **kw,
    )


def test_ref_parameters_pseudo_and_resources() -> None:
    r = resolver()
    assert r.resolve({"Ref": "Table"}) == "T"
    assert r.resolve({"Ref": "Stage"}) == "dev"
    assert r.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert r.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert r.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert r.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert r.resolve({"Ref": "AWS::StackName"}) == "Ccaas"
    with pytest.raises(IntrinsicError):
        r.resolve({"Ref": "Nope"})


def test_join_getatt_and_nesting() -> None:
    r = resolver()
    uri = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
                          ":lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["Fn", "Arn"]}, "/invocations"]]
    }
    out = r.resolve(uri)
    assert out == "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:F/invocations"
    assert lambda_arn_from_uri(out) == "arn:aws:lambda:us-east-1:123456789012:function:F"
    assert r.resolve({"Fn::GetAtt": "Table.Arn"}) == "arn:aws:dynamodb:us-east-1:123456789012:table/T"
    assert r.resolve({"Fn::Join": [",", [1, True, "x"]]}) == "1,true,x"


def test_sub_string_map_getatt_and_literal() -> None:
    r = resolver()
    assert r.resolve({"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}) == "cdk-assets-123456789012-us-east-1"
    assert r.resolve({"Fn::Sub": "${Table}|${Table.Arn}|${!Literal}"}) == "T|arn:aws:dynamodb:us-east-1:123456789012:table/T|${Literal}"
    assert r.resolve({"Fn::Sub": ["${A}-${B}-${Stage}", {"A": "x", "B": {"Ref": "Table"}}]}) == "x-T-dev"


def test_select_and_split() -> None:
    r = resolver()
    arn = {"Fn::GetAtt": ["Fn", "Arn"]}
    assert r.resolve({"Fn::Select": [3, {"Fn::Split": [":", arn]}]}) == "us-east-1"
    assert r.resolve({"Fn::Select": ["1", ["a", "b"]]}) == "b"
    with pytest.raises(IntrinsicError):
        r.resolve({"Fn::Select": [5, ["a"]]})


def test_if_conditions_and_no_value() -> None:
    r = resolver()
    assert r.condition("IsProd") is False and r.condition("NotProd") is True and r.condition("Both") is True
    props = {"A": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "B": {"Fn::If": ["NotProd", "yes", "no"]}}
    assert r.resolve(props) == {"B": "yes"}
    assert r.resolve([{"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "y"]) == ["y"]
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256


def test_unsupported_intrinsic_fails_loudly() -> None:
    with pytest.raises(IntrinsicError, match="Fn::Cidr"):
        resolver().resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]})


def test_dependencies_of_a_value() -> None:
    value = {"a": {"Ref": "Table"}, "b": {"Fn::GetAtt": ["Fn", "Arn"]}, "c": {"Fn::Sub": "${Queue}-${AWS::Region}-${!x}"}, "d": {"Ref": "AWS::Region"}}
    assert dependencies(value) == {"Table", "Fn", "Queue"}


def test_unknown_resource_type_raises() -> None:
    template = {"Resources": {"Thing": {"Type": "AWS::Foo::Bar", "Properties": {}}}}
    with pytest.raises(DeployError, match="AWS::Foo::Bar is not supported"):
        Deployer(template, endpoint_url="http://127.0.0.1:1").deploy()


def test_cycles_and_bad_refs_raise() -> None:
    cyc = {"Resources": {
        "A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "B"}}},
        "B": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "A"}}},
    }}
    with pytest.raises(DeployError, match="circular"):
        Deployer(cyc, endpoint_url="http://127.0.0.1:1").deploy()


def test_ssm_parameters_get_a_dummy_and_overrides_win() -> None:
    d = Deployer(TEMPLATE, parameter_overrides={"Stage": "prod"})
    params = d.parameters()
    assert params["Stage"] == "prod"
    assert params["LayerArn"].startswith("local-ssm-dummy:")


def test_definition_substitutions_and_graph_check() -> None:
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${FnArn}", "End": True}}})
    assert "${" not in substitute_definition(text, {"FnArn": "arn:x"}, source="t")
    with pytest.raises(DeployError):
        substitute_definition(text, {}, source="t")  # a placeholder left behind
    with pytest.raises(DeployError, match="Nowhere"):
        check_asl_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}, source="t")


# -- the real template ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runtime():
    from local.runtime import LocalRuntime

    rt = LocalRuntime(seed=False, warm=False, event_dedup_ttl_s=120, ttl_sweep_every_s=3600)  # as `make run` (its TTLs)
    rt.start()
    yield rt
    rt.stop()


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_real_template_deploys_every_resource(runtime) -> None:
    dep = runtime.deployment
    template = dep.template["Resources"]
    by_type: dict[str, list[str]] = {}
    for lid, res in template.items():
        by_type.setdefault(res["Type"], []).append(lid)

    tables = runtime.client("dynamodb").list_tables()["TableNames"]
    assert len(by_type["AWS::DynamoDB::Table"]) >= 5
    for lid in by_type["AWS::DynamoDB::Table"]:
        name = dep.tables[lid]
        assert name in tables
        desc = runtime.client("dynamodb").describe_table(TableName=name)["Table"]
        gsis = template[lid]["Properties"].get("GlobalSecondaryIndexes", [])
        assert {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])} == {g["IndexName"] for g in gsis}
        ttl = template[lid]["Properties"].get("TimeToLiveSpecification")
        if ttl:
            got = runtime.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert got.get("AttributeName") == ttl["AttributeName"]

    streams = runtime.client("kinesis").list_streams()["StreamNames"]
    assert [dep.streams[lid][0] for lid in by_type["AWS::Kinesis::Stream"]] and all(
        dep.streams[lid][0] in streams for lid in by_type["AWS::Kinesis::Stream"]
    )
    for lid in by_type.get("AWS::SQS::Queue", []):
        assert dep.queues[lid][0] in runtime.client("sqs").list_queues().get("QueueUrls", [])

    names = {f["FunctionName"] for f in runtime.client("lambda").list_functions()["Functions"]}
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/handler.py")}
    assert {f.folder for f in dep.functions.values()} == folders
    for lid in by_type["AWS::Lambda::Function"]:
        fn = dep.functions[lid]
        assert fn.name in names
        assert (fn.source_dir / "handler.py").is_file()
        # same environment as the template (resolved): every resource variable points at a real resource
        for key, value in fn.environment.items():
            if key.endswith("_TABLE"):
                assert value in tables, key

    machines = runtime.client("stepfunctions").list_state_machines()["stateMachines"]
    assert {m["stateMachineArn"] for m in machines} == set(dep.state_machines.values())
    for arn in dep.state_machines.values():
        definition = runtime.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
        assert "${" not in definition, "DefinitionSubstitutions not applied"
        for fn in dep.functions.values():
            if f'"{fn.arn}"' in definition:
                break
        else:
            pytest.fail("the state machine calls none of the stack's functions")

    assert dep.event_source_mappings, "the Kinesis -> consumer mapping was not recorded"
    esm = dep.event_source_mappings[0]
    assert esm.report_batch_item_failures and esm.bisect_batch_on_function_error
    # a deployed failure bucket (S3 destination: the records are kept) and the rule announcing its objects (the notice
    # reaching the DLQ: tests/local/test_end_to_end.py)
    assert esm.on_failure_destination in {f"arn:aws:s3:::{name}" for name in dep.buckets.values()}
    bucket = esm.on_failure_destination.removeprefix("arn:aws:s3:::")
    rules = runtime.client("events").list_rules()["Rules"]
    assert any(bucket in r.get("EventPattern", "") for r in rules)
    # recorded for the local poller, NOT created in moto (it would deliver one record per call)
    assert runtime.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []

    for lid in by_type.get("AWS::Scheduler::Schedule", []):
        assert any(s.logical_id == lid for s in dep.schedules), f"schedule {lid} not recorded"
    for lid in by_type.get("AWS::Events::EventBus", []):
        buses = [b["Name"] for b in runtime.client("events").list_event_buses()["EventBuses"]]
        assert dep.event_buses[lid] in buses
    for lid in by_type.get("AWS::S3::Bucket", []):
        assert dep.buckets[lid] in [b["Name"] for b in runtime.client("s3").list_buckets()["Buckets"]]

    api = dep.rest_api
    assert api is not None and api.authorizers and api.methods
    assert all(r.status in ("created", "recorded", "skipped") for r in dep.resources.values())
    assert set(dep.resources) == set(template)


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_function_folder_mapping_falls_back_to_the_construct_path(runtime) -> None:
    dep = runtime.deployment
    d = Deployer(dep.template, cdk_out=Path(runtime.template).parent, stack_name=dep.stack_name, register_functions=False)
    for lid, fn in dep.functions.items():
        props = dict(dep.template["Resources"][lid]["Properties"])
        props["Code"] = {"S3Bucket": "b", "S3Key": "unknown.zip"}  # no asset to compare
        folder, how = d.map_function_folder(lid, props)
        assert folder == fn.folder
        assert how != "code asset contents"


def test_scheduler_rate_parsing_and_input_rendering() -> None:
    import io

    from local.deployer import ScheduleSpec
    from local.scheduler import LocalScheduler, interval_s

    assert interval_s("rate(1 minute)") == 60 and interval_s("rate(2 hours)") == 7200
    assert interval_s("cron(0 * * * ? *)") is None
    sent: list[dict] = []

    class FakeLambda:
        def invoke(self, **kw):  # noqa: ANN003
            sent.append(kw)
            return {"StatusCode": 202, "Payload": io.BytesIO(b"")}

    spec = ScheduleSpec("S", "sweep", "rate(1 minute)", "arn:aws:lambda:us-east-1:123456789012:function:f",
                        input='{"t": "<aws.scheduler.scheduled-time>", "s": "sweep"}')
    sched = LocalScheduler([spec], FakeLambda(), clock=lambda: 0.0)
    payload = json.loads(sched.fire("sweep", scheduled=60.0))
    assert payload == {"t": "1970-01-01T00:01:00Z", "s": "sweep"}
    assert sent[0]["InvocationType"] == "Event" and sent[0]["FunctionName"] == spec.target_arn


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_the_runtime_s_event_dedup_records_live_its_ttl_and_its_sweeper_runs(runtime) -> None:
    """`make run`'s settings (local/__main__.py): consume_contact_events keeps its de-duplication records
    EVENT_DEDUP_TTL_S (not two days), and the TTL sweeper deletes them once expired (local.ttl)."""
    import time
    import uuid
    from datetime import UTC, datetime

    from ccaas.domain.events import Event
    from tests.lambda_harness import kinesis_event

    from local.seed import DEMO

    runtime.seed_tenant(DEMO)  # a queue the event counts in (only those events are de-duplicated)
    queued = Event(event_id=uuid.uuid4().hex, tenant_id=DEMO.tenant_id, type="contact.queued", occurred_at=datetime.now(UTC),
                   subject="contact/c1", sequence=1, payload={"queue_id": "sales", "channel": "VOICE"})
    fn = runtime.deployment.function_by_folder("consume_contact_events")
    answer = runtime.client("lambda").invoke(FunctionName=fn.name, Payload=json.dumps(kinesis_event([queued.model_dump_json().encode()])))
    assert json.loads(answer["Payload"].read()) == {"batchItemFailures": []}
    table = runtime.function_environment("consume_contact_events")["IDEMPOTENCY_TABLE"]
    (record,) = [i for i in runtime.client("dynamodb").scan(TableName=table)["Items"] if queued.event_id in i["id"]["S"]]
    assert abs(int(record["expiration"]["N"]) - (time.time() + 120)) < 30
    sweeper = runtime.ttl_sweeper
    assert sweeper is not None and sweeper.every_s == 3600
    sweeper._clock = lambda: time.time() + 121  # noqa: SLF001 - two minutes on
    assert sweeper.sweep_once() >= 1
    assert not [i for i in runtime.client("dynamodb").scan(TableName=table)["Items"] if queued.event_id in i["id"]["S"]]


def test_without_a_session_every_client_comes_from_one_it_makes(monkeypatch) -> None:
    """A new boto3 session sets botocore up again (~0.1 s of CPU, the deploys of the contract and handler
    tiers made one per service); one made per deployer serves every client of the deploy."""
    import boto3
    from moto import mock_aws

    made = []
    real = boto3.session.Session

    class CountingSession(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", CountingSession)
    template = {"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "one"}},
        "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "two"}},
        "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "three", "ShardCount": 1}},
    }}
    with mock_aws():
        deployer = Deployer(template, register_functions=False)
        deployer.deploy()
    assert {"sqs", "sns", "kinesis"} <= set(deployer._clients)  # noqa: SLF001
    assert len(made) == 1, made


def test_deploys_into_fresh_mocks_make_the_clients_of_a_given_dict_once() -> None:
    """The test tiers deploy the stack into a new mock_aws per module: a dict of clients passed to each deployer
    is filled by the first deploy and used by the next, which still creates every resource in its own empty moto
    (a client holds no AWS state)."""
    from moto import mock_aws

    template = {"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "one"}},
        "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "three", "ShardCount": 1}},
    }}
    clients: dict = {}
    with mock_aws():
        Deployer(template, register_functions=False, clients=clients).deploy()
    made = dict(clients)
    assert {"sqs", "kinesis"} <= set(made)
    with mock_aws():
        deployer = Deployer(template, register_functions=False, clients=clients)
        deployer.deploy()
        assert deployer.client("sqs").list_queues()["QueueUrls"][0].endswith("/one")
        assert deployer.client("kinesis").list_streams()["StreamNames"] == ["three"]
    assert clients == made and all(clients[s] is c for s, c in made.items())  # the same objects, none new
    with mock_aws():  # and without the dict, a deployer keeps its own
        assert Deployer(template, register_functions=False).client("sqs") is not made["sqs"]
