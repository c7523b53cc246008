"""Assertions on the synthesized Ccaas template (one synthesis per session, see conftest.py)."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import asl
from infra.function_specs import SPECS
from infra.naming import (
    TABLE_IDS,
    construct_id,
    function_arn_placeholder,
    function_folders,
    table_name_placeholder,
)

# What the local runtime must be able to deploy. A new type here is a change for local/ too.
EXPECTED_RESOURCE_TYPES = {
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::GatewayResponse",  # the API's error body on the gateway's own 4xx (infra/constructs/api.py)
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::DynamoDB::Table",
    "AWS::Events::Rule",
    "AWS::Events::EventBus",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Kinesis::Stream",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Permission",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic",  # the alarm topic (infra/constructs/notifications.py) and its policy and key
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",  # receive_texts on the inbound-texts topic (infra/constructs/outbound.py)
    "AWS::KMS::Key",
    "AWS::StepFunctions::StateMachine",
    "AWS::Scheduler::Schedule",
    # Push over WebSocket (infra/constructs/websocket.py; recorded locally by local/websocket_server.py)
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::ApiGatewayV2::Stage",
    # People signing in (infra/constructs/identity.py; skipped locally, where only API keys work)
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    # The API stage's trace sampling (infra/constructs/api.py; skipped locally: no X-Ray)
    "AWS::XRay::SamplingRule",
}


def _ref(logical_id: str) -> dict:
    return {"Ref": logical_id}


def _arn(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _mentions(value: Any, logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(value)


# --- inventory ---------------------------------------------------------------------------------


def test_resource_types_are_the_ones_the_local_runtime_deploys(synth):
    assert {r["Type"] for r in synth.resources.values()} == EXPECTED_RESOURCE_TYPES


def test_one_function_per_discovered_folder(synth):
    assert sorted(synth.stack.factory.functions) == function_folders() == sorted(SPECS)
    assert len(synth.of_type("AWS::Lambda::Function")) == len(SPECS)


def test_outputs(template):
    alerts = ["AlertsBusName", "WallboardUrl", "WallboardBucketName", "WallboardDistributionId"]
    analytics = ["ContactRecordsStreamName", "PostContactStateMachineArn"]
    connect = ["ConnectFlowFunctionArn"]
    websocket = ["WebSocketUrl", "WebSocketCallbackUrl"]
    identity = ["UserPoolId", "UserPoolClientId"]
    alarms = ["AlarmTopicArn"]
    texts = ["InboundTextsTopicArn"]
    failures = [f"{stream}{what}" for stream in ("ContactEvents", "ContactRecords") for what in ("FailureBucket", "DeadLetterQueueUrl")]
    for name in ["ApiUrl", "StateMachineArn", "EventsStreamName", *map(table_name_placeholder, TABLE_IDS), *alerts, *analytics,
                 *connect, *websocket, *identity, *alarms, *texts, *failures]:
        template.has_output(name, {})
    # no stray RestApi "Endpoint" output
    assert len(template.find_outputs("*")) == (3 + len(TABLE_IDS) + len(alerts) + len(analytics) + len(connect) + len(websocket)
                                               + len(identity) + len(alarms) + len(texts) + len(failures))


# --- data --------------------------------------------------------------------------------------


def _table(synth, table_id: str) -> dict:
    return synth.resources[synth.logical_id(synth.stack.data.tables[table_id])]


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_tables_common_settings(synth, table_id):
    table = _table(synth, table_id)
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table"  # not GlobalTable (moto cannot deploy TableV2)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True  # AWS managed key (aws/dynamodb)
    assert table["DeletionPolicy"] == "Delete"  # stage "dev"; prod is RETAIN (test_specs.py)


def _keys(props: dict) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}


def _gsis(props: dict) -> dict[str, tuple[dict, str]]:
    return {g["IndexName"]: (_keys(g), g["Projection"]["ProjectionType"]) for g in props.get("GlobalSecondaryIndexes", [])}


def test_contacts_table(synth):
    props = _table(synth, "Contacts")["Properties"]
    assert _keys(props) == {"HASH": "pk", "RANGE": "sk"}
    assert _gsis(props) == {
        "waiting": ({"HASH": "wait_pk", "RANGE": "wait_sk"}, "ALL"),
        "waiting_tenant": ({"HASH": "twait_pk", "RANGE": "wait_sk"}, "ALL"),
        "customer": ({"HASH": "cust_pk", "RANGE": "cust_sk"}, "KEYS_ONLY"),  # its reader gets contacts by key
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == dict.fromkeys(
        ["pk", "sk", "wait_pk", "twait_pk", "wait_sk", "cust_pk", "cust_sk"], "S"
    )


def test_agents_config_metrics_idempotency_tables(synth):
    agents = _table(synth, "Agents")["Properties"]
    assert _keys(agents) == {"HASH": "pk", "RANGE": "sk"}
    assert _gsis(agents) == {"available": ({"HASH": "avail_pk", "RANGE": "avail_sk"}, "ALL")}
    assert "TimeToLiveSpecification" not in agents

    config = _table(synth, "Config")["Properties"]
    assert _keys(config) == {"HASH": "pk", "RANGE": "sk"} and not _gsis(config)

    metrics = _table(synth, "Metrics")["Properties"]
    assert _keys(metrics) == {"HASH": "pk", "RANGE": "sk"}
    assert metrics["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}

    idem = _table(synth, "Idempotency")["Properties"]  # Powertools idempotency default schema
    assert _keys(idem) == {"HASH": "id"}
    assert idem["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert idem["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


# --- events ------------------------------------------------------------------------------------


def test_stream_is_on_demand_encrypted_24h(template):
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            "RetentionPeriodHours": 24,
        },
    )


def test_dlq_encrypted_14_days_ssl_only(synth, template):
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("folder", sorted(f for f, spec in SPECS.items() if spec.consumes_events))
def test_consumer_event_source_mapping(synth, folder):
    fn_id = synth.logical_id(synth.stack.factory.functions[folder])
    (props,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values() if m["Properties"]["FunctionName"] == _ref(fn_id)]
    stream = _arn(synth.logical_id(synth.stack.events.stream))
    on_stream = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values() if m["Properties"]["EventSourceArn"] == stream]
    assert len(on_stream) == sum(s.consumes_events for s in SPECS.values())
    assert props["EventSourceArn"] == _arn(synth.logical_id(synth.stack.events.stream))
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == 100
    # no freshness goal: alerts and agent activity gather for 5 s (infra/constructs/events.py); live metrics and push: 0
    assert props["MaximumBatchingWindowInSeconds"] == (5 if folder in ("evaluate_alerts", "record_agent_activity") else 0)
    assert props["ParallelizationFactor"] == 1
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 5
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": _arn(synth.logical_id(synth.stack.events.failures))}}


def test_history_table(synth):
    props = _table(synth, "History")["Properties"]
    assert _keys(props) == {"HASH": "pk", "RANGE": "sk"}
    assert _gsis(props) == {
        "by_day": ({"HASH": "day_pk", "RANGE": "day_sk"}, "ALL"),
        "by_customer": ({"HASH": "cust_pk", "RANGE": "cust_sk"}, "ALL"),
    }


def test_contact_records_stream_and_its_consumer_mapping(synth):
    records = synth.stack.analytics.records
    stream = synth.resources[synth.logical_id(records.stream)]["Properties"]
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"} and stream["RetentionPeriodHours"] == 7 * 24
    assert stream["StreamEncryption"]["EncryptionType"] == "KMS"
    consumers = [f for f, spec in SPECS.items() if spec.consumes_contact_records]
    assert consumers == ["consume_contact_records", "record_dial_outcomes"] and sorted(records.consumers) == consumers
    arn = _arn(synth.logical_id(records.stream))
    mappings = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                if m["Properties"]["EventSourceArn"] == arn
                and m["Properties"]["FunctionName"] == _ref(synth.logical_id(synth.stack.factory.functions["consume_contact_records"]))]
    (props,) = mappings
    assert props["FunctionName"] == _ref(synth.logical_id(synth.stack.factory.functions["consume_contact_records"]))
    assert props["StartingPosition"] == "TRIM_HORIZON" and props["BatchSize"] == 100
    assert props["MaximumBatchingWindowInSeconds"] == 5
    assert props["BisectBatchOnFunctionError"] is True and props["MaximumRetryAttempts"] == 5
    assert props["MaximumRecordAgeInSeconds"] == 24 * 3600
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": _arn(synth.logical_id(records.failures))}}
    assert records.dlq is not synth.stack.events.dlq and records.failures is not synth.stack.events.failures


@pytest.mark.parametrize("which", ["events", "records"])
def test_a_discarded_batch_is_kept_with_its_records_and_announced_on_the_alarmed_dlq(synth, which):
    """The mappings' on-failure destination is a bucket (an S3 destination gets the records too; an SQS one only
    a pointer into a stream that trims them after 24 h): private, TLS only, kept 14 days and when the stack goes,
    announcing each object to EventBridge, whose rule puts the notice on the stream's DLQ."""
    stream = synth.stack.events if which == "events" else synth.stack.analytics.records
    bucket_id, dlq_id = synth.logical_id(stream.failures), synth.logical_id(stream.dlq)
    bucket = synth.resources[bucket_id]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True)
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert [(r["ExpirationInDays"], r["Status"]) for r in props["LifecycleConfiguration"]["Rules"]] == [(14, "Enabled")]
    (policy,) = [r for r in synth.of_type("AWS::S3::BucketPolicy").values() if r["Properties"]["Bucket"] == _ref(bucket_id)]
    assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for st in policy["Properties"]["PolicyDocument"]["Statement"])
    (rule,) = [r["Properties"] for r in synth.of_type("AWS::Events::Rule").values() if _mentions(r, bucket_id)]
    assert rule["EventPattern"] == {"source": ["aws.s3"], "detail-type": ["Object Created"],
                                    "detail": {"bucket": {"name": [_ref(bucket_id)]},
                                               "object": {"key": [{"prefix": "aws/lambda/"}]}}}
    assert [t["Arn"] for t in rule["Targets"]] == [_arn(dlq_id)]
    # the consumers may put objects there and list the bucket, nothing else (no read, no delete)
    for folder in stream.consumers:
        role = _ref(synth.logical_id(synth.stack.factory.functions[folder].role))
        on_bucket = [(st["Action"], st["Resource"]) for p in synth.of_type("AWS::IAM::Policy").values()
                     if role in p["Properties"]["Roles"] for st in p["Properties"]["PolicyDocument"]["Statement"]
                     if _mentions(st["Resource"], bucket_id)]
        assert sorted(on_bucket, key=str) == sorted([
            ("s3:PutObject", {"Fn::Join": ["", [_arn(bucket_id), "/*"]]}), ("s3:ListBucket", _arn(bucket_id))], key=str), folder
    # each mapping waits for its grant (Lambda checks the role can write to the destination when it makes one)
    for folder, fn in stream.consumers.items():
        role = _ref(synth.logical_id(fn.role))
        (grant,) = [pid for pid, p in synth.of_type("AWS::IAM::Policy").items()
                    if role in p["Properties"]["Roles"] and _mentions(p["Properties"]["PolicyDocument"], bucket_id)]
        (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                      if m["Properties"]["FunctionName"] == _ref(synth.logical_id(fn))
                      and _mentions(m["Properties"].get("DestinationConfig"), bucket_id)]
        assert grant in mapping.get("DependsOn", []), folder


# --- workflows ---------------------------------------------------------------------------------

LIFECYCLE_FUNCTIONS = ("route_contact", "recheck_contact")


POST_CONTACT_FUNCTIONS = ("record_history", "analyze_contact")


def _state_machine(synth, machine=None) -> dict:
    machine = machine or synth.stack.lifecycle
    return synth.resources[synth.logical_id(machine.state_machine)]["Properties"]


def test_two_state_machines(synth):
    assert len(synth.of_type("AWS::StepFunctions::StateMachine")) == 2


def test_state_machine_is_standard_logged_traced(synth):
    props = _state_machine(synth)
    assert props.get("StateMachineType", "STANDARD") == "STANDARD"
    # ERROR without data: the service keeps a Standard execution's history; inputs carry attributes.
    assert props["LoggingConfiguration"]["Level"] == "ERROR"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_definition_has_no_placeholder_left_once_substituted(synth):
    """DefinitionString is the ASL file verbatim; CloudFormation applies DefinitionSubstitutions.
    After that substitution (done here as CloudFormation does) no ${...} may be left, and each
    placeholder must resolve to the function it names."""
    props = _state_machine(synth)
    definition, subs = props["DefinitionString"], props["DefinitionSubstitutions"]
    assert isinstance(definition, str)  # inlined, not an S3 asset: visible to cfn-lint and local/
    rendered = asl.substitute(definition, {k: f"<{json.dumps(v)}>" for k, v in subs.items()})
    assert "${" not in rendered
    for folder in LIFECYCLE_FUNCTIONS:
        fn_id = synth.logical_id(synth.stack.factory.functions[folder])
        assert subs[function_arn_placeholder(folder)] == _arn(fn_id)
        assert f"${{{function_arn_placeholder(folder)}}}" in definition
    post_contact = synth.logical_id(synth.stack.post_contact.state_machine)
    assert subs["PostContactStateMachineArn"] == _ref(post_contact)
    assert set(subs) == {function_arn_placeholder(f) for f in LIFECYCLE_FUNCTIONS} | {"PostContactStateMachineArn"}


def test_post_contact_is_express_logged_traced_and_invokes_its_two_functions(synth):
    props = _state_machine(synth, synth.stack.post_contact)
    assert props["StateMachineType"] == "EXPRESS"
    # ALL (Express keeps no history of its own), without execution data (inputs carry attributes).
    assert props["LoggingConfiguration"]["Level"] == "ALL" and props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    subs = props["DefinitionSubstitutions"]
    assert subs == {function_arn_placeholder(f): _arn(synth.logical_id(synth.stack.factory.functions[f]))
                    for f in POST_CONTACT_FUNCTIONS}
    assert "${" not in asl.substitute(props["DefinitionString"], {k: "x" for k in subs})
    role_id = synth.logical_id(synth.stack.post_contact.state_machine.role)
    invokes = [r for a, r in _role_permissions(synth, role_id) if a == "lambda:InvokeFunction"]
    expected = [_arn(synth.logical_id(synth.stack.factory.functions[f])) for f in POST_CONTACT_FUNCTIONS]
    assert sorted(map(json.dumps, invokes)) == sorted(map(json.dumps, expected))
    assert not [a for a, _ in _role_permissions(synth, role_id) if a.startswith("states:")]


def test_the_post_contact_workflow_is_started_by_the_lifecycle_and_what_ends_answered_contacts_only(synth):
    post_contact = _ref(synth.logical_id(synth.stack.post_contact.state_machine))
    lifecycle_role = synth.logical_id(synth.stack.lifecycle.state_machine.role)
    starts = [r for a, r in _role_permissions(synth, lifecycle_role) if a == "states:StartExecution"]
    lifecycle = _ref(synth.logical_id(synth.stack.lifecycle.state_machine))
    assert sorted(map(json.dumps, starts)) == sorted(map(json.dumps, [post_contact, lifecycle]))  # unanswered ends
    # (abandoned, timed out); and itself: a long wait continues as a new execution
    for folder, spec in SPECS.items():
        granted = post_contact in [r for a, r in _function_permissions(synth, folder) if a == "states:StartExecution"]
        assert granted == spec.start_post_contact, folder  # answered ends (after-contact work done)
        assert post_contact not in [r for a, r in _function_permissions(synth, folder) if a != "states:StartExecution"]


def test_state_machine_may_invoke_exactly_its_functions(synth):
    role_id = synth.logical_id(synth.stack.lifecycle.state_machine.role)
    invokes = [
        resource
        for action, resource in _role_permissions(synth, role_id)
        if action == "lambda:InvokeFunction"
    ]
    expected = [_arn(synth.logical_id(synth.stack.factory.functions[f])) for f in LIFECYCLE_FUNCTIONS]
    assert sorted(map(json.dumps, invokes)) == sorted(map(json.dumps, expected))  # unqualified ARNs only, no ":*"


# --- api ---------------------------------------------------------------------------------------


def _methods(synth) -> dict[tuple[str, str], dict]:
    paths = {k: v["Properties"]["PathPart"] for k, v in synth.of_type("AWS::ApiGateway::Resource").items()}
    out = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = "/" + paths[resource["Ref"]] if "Ref" in resource else "/"
        out[(props["HttpMethod"], path)] = props
    return out


def test_api_methods_and_authorizer(synth):
    methods = _methods(synth)
    assert set(methods) == {("GET", "/openapi.json"), ("GET", "/swagger"), ("ANY", "/{proxy+}")}  # no root method
    (authorizer_id,) = synth.of_type("AWS::ApiGateway::Authorizer")
    assert methods[("GET", "/openapi.json")]["AuthorizationType"] == "NONE"
    assert methods[("GET", "/swagger")]["AuthorizationType"] == "NONE"
    proxy = methods[("ANY", "/{proxy+}")]
    assert proxy["AuthorizationType"] == "CUSTOM"
    assert proxy["AuthorizerId"] == _ref(authorizer_id)
    serve_api = synth.logical_id(synth.stack.factory.functions["serve_api"])
    for props in methods.values():
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert _mentions(props["Integration"]["Uri"], serve_api)


def test_token_authorizer(synth):
    (authorizer,) = synth.of_type("AWS::ApiGateway::Authorizer").values()
    props = authorizer["Properties"]
    assert props["Type"] == "TOKEN"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["AuthorizerResultTtlInSeconds"] == 300
    assert _mentions(props["AuthorizerUri"], synth.logical_id(synth.stack.factory.functions["authorize_request"]))


def test_stage_v1_logging_tracing_throttling(synth):
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["TracingEnabled"] is True
    assert _mentions(props["AccessLogSetting"]["DestinationArn"], synth.logical_id(synth.stack.api.node.find_child("AccessLogs")))
    (settings,) = props["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"  # execution logs for failures; the access log has every request
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


def test_the_stage_s_requests_are_traced_at_five_percent_without_a_reservoir(synth):
    """X-Ray's default rule would record the first request each second (most of them at a contact center's
    rates); the stage's own rule matches this stage only and records 5 %."""
    (rule,) = synth.of_type("AWS::XRay::SamplingRule").values()
    props = rule["Properties"]["SamplingRule"]
    assert props["RuleName"] == "ccaas-api-dev" and len(props["RuleName"]) <= 32
    assert (props["ReservoirSize"], props["FixedRate"]) == (0, 0.05)
    assert props["ServiceType"] == "AWS::ApiGateway::Stage" and 1 <= props["Priority"] < 10000
    assert _mentions(props["ResourceARN"], synth.logical_id(synth.stack.api.rest_api.deployment_stage))
    assert all(props[k] == "*" for k in ("ServiceName", "Host", "HTTPMethod", "URLPath"))


# --- functions ---------------------------------------------------------------------------------


def _function(synth, folder: str) -> dict:
    return synth.resources[synth.logical_id(synth.stack.factory.functions[folder])]["Properties"]


@pytest.mark.parametrize("folder", sorted(SPECS))
def test_function_settings(synth, folder):
    props = _function(synth, folder)
    spec = SPECS[folder]
    assert props["Handler"] == "handler.lambda_handler"
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    # The Connect flow function gets more memory (more CPU: a shorter cold start inside the flow's 8 s).
    assert props["MemorySize"] == spec.memory_mb == (1024 if folder == "connect_flow" else 512)
    assert props["Timeout"] == spec.timeout_s
    # Stream consumers untraced by default (their batches carry no trace: Lambda would record nearly every one),
    # and their Tracer off, so they never import the X-Ray SDK; every other function traced actively.
    assert props.get("TracingConfig") == (None if spec.stream_consumer else {"Mode": "Active"})
    log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup" and log_group["Properties"]["RetentionInDays"] > 0
    # JSON logs, platform START/END/REPORT lines dropped (system WARN), the handlers' own lines at INFO.
    assert {k: v for k, v in props["LoggingConfig"].items() if k != "LogGroup"} == {
        "LogFormat": "JSON", "SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO"}
    env = props["Environment"]["Variables"]
    assert set(env) == set(spec.env_names) | {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL",
                                              "PYDANTIC_DISABLE_PLUGINS", "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
                                              "POWERTOOLS_TRACER_CAPTURE_ERROR"} | ({"POWERTOOLS_TRACE_DISABLED"} if spec.stream_consumer else set())
    # no answer (a customer profile, a transcript) or exception text in X-Ray's metadata: personal data
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    if spec.stream_consumer:
        assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # no plugin scan at the first model build
    assert env["POWERTOOLS_SERVICE_NAME"] == folder
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Ccaas"
    assert env["LOG_LEVEL"] == "INFO"


@pytest.mark.parametrize("folder", sorted(SPECS))
def test_function_has_the_two_layers(synth, folder):
    from infra.constructs.layer import POWERTOOLS_LAYER_PARAMETER

    (shared_layer_id,) = synth.of_type("AWS::Lambda::LayerVersion")
    layers = _function(synth, folder)["Layers"]
    assert len(layers) == 2 and layers[0] == _ref(shared_layer_id)
    parameter = synth.json["Parameters"][layers[1]["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == POWERTOOLS_LAYER_PARAMETER == "/aws/service/powertools/python/arm64/python3.13/3.37.0"


def test_shared_layer_bundles_the_package_under_python(synth):
    (layer,) = synth.of_type("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assets = json.loads((synth.outdir / "Ccaas.assets.json").read_text())["files"]
    key = layer["Properties"]["Content"]["S3Key"].split(".")[0]
    staged = synth.outdir / assets[key]["source"]["path"]
    assert (staged / "python" / "ccaas" / "__init__.py").is_file()
    assert [p.name for p in staged.iterdir()] == ["python"]
    assert not list(staged.rglob("__pycache__")) and not list(staged.rglob("*.pyc"))


def test_only_the_functions_that_start_contacts_know_the_state_machine(synth):
    """The API and the Connect flow function (callbacks) start lifecycles; route/track/recheck are
    invoked BY the state machine: they must not reference it (cycle)."""
    machine_id = synth.logical_id(synth.stack.lifecycle.state_machine)
    starters = {folder for folder, spec in SPECS.items() if spec.start_lifecycle}
    # dial_campaign: answered campaign calls; run_journeys: synthetic contacts through the API resolver
    assert starters == {"serve_api", "connect_flow", "dial_campaign", "run_journeys"}
    assert not starters & set(LIFECYCLE_FUNCTIONS)
    for folder in SPECS:
        env = _function(synth, folder)["Environment"]["Variables"]
        assert ("CONTACT_LIFECYCLE_STATE_MACHINE_ARN" in env) == (folder in starters)
        if folder not in starters:
            assert not _mentions(env, machine_id)


# --- IAM least privilege -----------------------------------------------------------------------


def _role_permissions(synth, role_logical_id: str) -> list[tuple[str, Any]]:
    """(action, resource) for every Allow statement of every policy attached to the role."""
    out = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        props = policy["Properties"]
        if _ref(role_logical_id) not in props.get("Roles", []):
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            out += [(a, r) for a in actions for r in resources]
    return out


def _function_permissions(synth, folder: str) -> list[tuple[str, Any]]:
    return _role_permissions(synth, synth.logical_id(synth.stack.factory.functions[folder].role))


def _table_permissions(synth, folder: str, table_id: str) -> set[str]:
    table_id_ = synth.logical_id(synth.stack.data.tables[table_id])
    return {a for a, r in _function_permissions(synth, folder) if _mentions(r, table_id_)}


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_table_permissions_follow_the_specs(synth):
    for folder, spec in SPECS.items():
        for table_id in TABLE_IDS:
            actions = _table_permissions(synth, folder, table_id)
            if table_id in spec.read_write:
                assert WRITES <= actions, (folder, table_id)
            elif table_id in spec.read:
                assert actions and not actions & WRITES, (folder, table_id)
            else:
                assert not actions, (folder, table_id, actions)
            assert "dynamodb:Scan" not in actions


def test_consumer_only_reads_contacts(synth):
    # It reads the oldest waiting contact per queue (the `waiting` index) for the OldestContactAge metric.
    actions = _table_permissions(synth, "consume_contact_events", "Contacts")
    assert actions and not actions & WRITES


def test_authorizer_only_reads_config(synth):
    permissions = _function_permissions(synth, "authorize_request")
    config = synth.logical_id(synth.stack.data.tables["Config"])
    dynamo = [(a, r) for a, r in permissions if a.startswith("dynamodb:")]
    assert dynamo and all(r == _arn(config) for _, r in dynamo)
    assert not {a for a, _ in dynamo} & WRITES
    assert {a.split(":")[0] for a, _ in permissions} == {"logs", "xray", "dynamodb"}


def test_index_grants_name_each_index(synth):
    """Query on indexes is granted per GSI name, never <table>/index/*."""
    for folder in SPECS:
        for _, resource in _function_permissions(synth, folder):
            assert "/index/*" not in json.dumps(resource)


def test_wildcard_resources_only_where_iam_allows_nothing_else(synth):
    allowed_on_star = {
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
        "states:SendTaskSuccess", "states:SendTaskFailure",
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    }  # fmt: skip
    for role_id in synth.of_type("AWS::IAM::Role"):
        for action, resource in _role_permissions(synth, role_id):
            if resource == "*":
                assert action in allowed_on_star, (role_id, action)


def test_task_token_and_start_execution_permissions(synth):
    machine = _ref(synth.logical_id(synth.stack.lifecycle.state_machine))
    post_contact = _ref(synth.logical_id(synth.stack.post_contact.state_machine))
    for folder, spec in SPECS.items():
        permissions = _function_permissions(synth, folder)
        send = {a for a, r in permissions if a.startswith("states:SendTask")}
        assert send == ({"states:SendTaskSuccess", "states:SendTaskFailure"} if spec.answer_tasks else set())
        starts = [r for a, r in permissions if a == "states:StartExecution"]
        assert starts == [machine] * spec.start_lifecycle + [post_contact] * spec.start_post_contact, folder


def test_events_permissions(synth):
    stream = _arn(synth.logical_id(synth.stack.events.stream))
    records = _arn(synth.logical_id(synth.stack.analytics.records.stream))
    for folder, spec in SPECS.items():
        puts = {a for a, r in _function_permissions(synth, folder) if a.startswith("kinesis:Put")}
        assert puts == ({"kinesis:PutRecord", "kinesis:PutRecords"} if spec.put_events else set()), folder
        kinesis = {json.dumps(r) for a, r in _function_permissions(synth, folder) if a.startswith("kinesis:")}
        # consumers read only their own stream; nobody of ours writes Connect's CTR stream
        assert kinesis <= {json.dumps(records if spec.consumes_contact_records else stream)}, folder


def test_function_logs_only_to_their_own_log_group(synth):
    for folder in SPECS:
        log_group = _function(synth, folder)["LoggingConfig"]["LogGroup"]["Ref"]
        for action, resource in _function_permissions(synth, folder):
            if action.startswith("logs:"):
                assert resource == _arn(log_group)
    for role in synth.of_type("AWS::IAM::Role").values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "AWSLambdaBasicExecutionRole" not in json.dumps(arn)


# --- observability -----------------------------------------------------------------------------


def test_dashboard_and_alarms(synth, template):
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "Ccaas-dev"})
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    dlq = [a for a in alarms if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    age = [a for a in alarms if a.get("MetricName") == "IteratorAge"]
    assert len(dlq) == 3 and all(a["Threshold"] == 0 for a in dlq)  # contact events, contact records, inbound texts
    assert all(a["ComparisonOperator"] == "GreaterThanThreshold" for a in dlq)
    consumers = [f for f, spec in SPECS.items() if spec.consumes_events or spec.consumes_contact_records]
    assert len(age) == len(consumers) and all(a["Threshold"] == 60_000 for a in age)  # IteratorAge is in ms: 60 s
    for folder in consumers:
        assert any(_mentions(a["Dimensions"], synth.logical_id(synth.stack.factory.functions[folder])) for a in age)
    body = json.dumps(synth.of_type("AWS::CloudWatch::Dashboard"))
    for metric in ("IteratorAge", "ApproximateNumberOfMessagesVisible", "Errors"):
        assert metric in body


def test_construct_ids_follow_naming(synth):
    for folder, fn in synth.stack.factory.functions.items():
        assert re.search(rf"/Functions/{construct_id(folder)}/Function$", fn.node.path)


def test_function_assets_hold_only_source(synth):
    """Code.from_asset(functions/<folder>) without Docker, caches excluded (stable asset hashes)."""
    assets = json.loads((synth.outdir / "Ccaas.assets.json").read_text())["files"]
    for folder in SPECS:
        key = _function(synth, folder)["Code"]["S3Key"].split(".")[0]
        staged = synth.outdir / assets[key]["source"]["path"]
        assert (staged / "handler.py").is_file()
        assert not list(staged.rglob("__pycache__")) and not list(staged.rglob("*.pyc"))


def test_only_the_dialer_sends_sms_and_only_from_this_accounts_identities(synth):
    for folder in SPECS:
        sends = [r for a, r in _function_permissions(synth, folder) if a == "sms-voice:SendTextMessage"]
        if folder != "dial_campaign":
            assert not sends, folder
            continue
        text = json.dumps(sends)
        assert sends and '"*"' not in text  # never every resource
        for kind in ("phone-number", "pool", "sender-id", "configuration-set", "opt-out-list"):
            assert f":{kind}/*" in text, kind
        assert "AWS::AccountId" in text and "AWS::Region" in text
