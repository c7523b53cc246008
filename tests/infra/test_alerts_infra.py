"""Supervisor alerts and the wallboard in the synthesized template: the bus, the schedule, who may
publish, the Alerts table, and the static hosting that serves the page and the API on one origin."""
from __future__ import annotations

import json

from infra.function_specs import SPECS

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy ids
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # managed origin request policy


def _statements(synth, role_ref: dict) -> list[dict]:
    return [
        st
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"].get("Roles", [])
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _function(synth, folder: str) -> tuple[str, dict]:
    lid = synth.logical_id(synth.stack.factory.functions[folder])
    return lid, synth.resources[lid]["Properties"]


def test_alerts_table_is_tenant_first_with_ttl_and_an_index_of_resolved_alerts(synth):
    props = synth.resources[synth.logical_id(synth.stack.data.tables["Alerts"])]["Properties"]
    assert {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]} == {"HASH": "pk", "RANGE": "sk"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # status=resolved reads the sparse `resolved` index (resolved_pk is written as an alert resolves), newest first
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "resolved" and index["Projection"] == {"ProjectionType": "ALL"}
    assert {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]} == {"HASH": "resolved_pk", "RANGE": "sk"}
    assert {"AttributeName": "resolved_pk", "AttributeType": "S"} in props["AttributeDefinitions"]


def test_alerts_bus_has_no_rules_and_only_publishers_may_put_events(synth):
    (bus_id,) = synth.of_type("AWS::Events::EventBus")
    assert synth.resources[bus_id]["Properties"]["Name"] == "ccaas-alerts-dev"
    # consumers attach their own (moto: no Lambda/SFN targets); the stack's rules are on the default bus (S3's events)
    assert all("EventBusName" not in rule["Properties"] for rule in synth.of_type("AWS::Events::Rule").values())
    bus_arn = {"Fn::GetAtt": [bus_id, "Arn"]}
    for folder, spec in SPECS.items():
        lid, props = _function(synth, folder)
        role = {"Ref": synth.logical_id(synth.stack.factory.functions[folder].role)}
        puts = [st for st in _statements(synth, role) if "events:PutEvents" in json.dumps(st["Action"])]
        if spec.publish_alerts:
            assert [(st["Action"], st["Resource"]) for st in puts] == [("events:PutEvents", bus_arn)], folder
            assert props["Environment"]["Variables"]["ALERTS_BUS_NAME"] == {"Ref": bus_id}
        else:
            assert not puts and "ALERTS_BUS_NAME" not in props["Environment"]["Variables"], folder
    # run_journeys: journey_failed alerts (ccaas.usecases.journeys.record_runs)
    assert {f for f, s in SPECS.items() if s.publish_alerts} == {"serve_api", "evaluate_alerts", "sweep_alerts", "run_journeys"}


def test_sweep_schedule_invokes_exactly_the_sweep_every_minute(synth):
    sweep_id, sweep = _function(synth, "sweep_alerts")
    # One schedule per scheduled function (the dialer and the journey runner have their own).
    schedules = [s for s in synth.of_type("AWS::Scheduler::Schedule").values()
                 if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [sweep_id, "Arn"]}]
    assert len(synth.of_type("AWS::Scheduler::Schedule")) == sum(1 for spec in SPECS.values() if spec.schedule)
    (schedule,) = schedules
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)" and props["State"] == "ENABLED"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [sweep_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    assert json.loads(target["Input"]) == {
        "source": "ccaas.schedule", "schedule": "sweep_alerts", "scheduled_time": "<aws.scheduler.scheduled-time>",
    }  # fmt: skip
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    trust = synth.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(st["Principal"], st["Condition"]) for st in trust] == [
        ({"Service": "scheduler.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    ]
    granted = [(st["Action"], st["Resource"]) for st in _statements(synth, {"Ref": role_id})]
    assert granted == [("lambda:InvokeFunction", {"Fn::GetAtt": [sweep_id, "Arn"]})]  # no ":*", no other function
    assert sweep["Timeout"] < 60  # shorter than the period


def test_alert_consumer_has_its_own_mapping_with_the_shared_delivery_settings(synth):
    evaluate_id, _ = _function(synth, "evaluate_alerts")
    metrics_id, _ = _function(synth, "consume_contact_events")
    by_fn = {m["Properties"]["FunctionName"]["Ref"]: m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()}
    ours, theirs = dict(by_fn[evaluate_id]), dict(by_fn[metrics_id])
    ours.pop("FunctionName"), theirs.pop("FunctionName")
    # its own batching window: alerts need no 1 s freshness (infra/constructs/events.py SLOWER_CONSUMER_WINDOW)
    assert (ours.pop("MaximumBatchingWindowInSeconds"), theirs.pop("MaximumBatchingWindowInSeconds")) == (5, 0)
    assert ours == theirs  # one add_consumer: bisect, retries, age, partial failures, the same DLQ


def test_wallboard_bucket_is_private_ssl_only_and_readable_by_its_distribution_only(synth):
    bucket_id = synth.logical_id(synth.stack.wallboard.bucket)
    (distribution_id,) = synth.of_type("AWS::CloudFront::Distribution")
    props = synth.resources[bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    (policy,) = [p for p in synth.of_type("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny, allow = (
        [s for s in statements if s["Effect"] == "Deny"],
        [s for s in statements if s["Effect"] == "Allow"],
    )
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (read,) = allow
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert json.dumps({"Ref": distribution_id}) in json.dumps(read["Condition"])


def test_wallboard_and_api_share_one_origin(synth):
    from infra.constructs.api import STAGE_NAME

    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "OriginAccessControlId" in origins[default["TargetOriginId"]]
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == f"/{STAGE_NAME}/*" and api["ViewerProtocolPolicy"] == "https-only"
    assert api["CachePolicyId"] == CACHING_DISABLED  # tenant data is never cached...
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER  # ...and Authorization reaches the API
    assert {"POST", "PUT", "DELETE"} <= set(api["AllowedMethods"])
    origin = origins[api["TargetOriginId"]]
    rest_api = synth.logical_id(synth.stack.api.rest_api)
    assert json.dumps({"Ref": rest_api}) in json.dumps(origin["DomainName"])
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
