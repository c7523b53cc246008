"""Journey tests in the synthesized template: only the function serving PUT /settings/journeys may put and
delete CloudWatch alarms, and only those of this stage's journey prefix; it is told the prefix; the
scheduled runner keeps its results in the Metrics table (TTL) and may publish alerts."""
from __future__ import annotations

import json

from infra.function_specs import SPECS


def _statements(synth, folder: str) -> list[dict]:
    role = {"Ref": synth.logical_id(synth.stack.factory.functions[folder].role)}
    return [st for policy in synth.of_type("AWS::IAM::Policy").values() if role in policy["Properties"].get("Roles", [])
            for st in policy["Properties"]["PolicyDocument"]["Statement"]]


def _env(synth, folder: str) -> dict:
    lid = synth.logical_id(synth.stack.factory.functions[folder])
    return synth.resources[lid]["Properties"]["Environment"]["Variables"]


def test_only_the_api_may_touch_alarms_and_only_the_journey_prefix(synth):
    from infra.constructs.journeys import ALARM_ACTIONS, journey_alarm_prefix

    prefix = journey_alarm_prefix("dev")
    assert prefix == "ccaas-dev-journey-"
    assert {f for f, s in SPECS.items() if s.journey_alarms} == {"serve_api"}
    for folder in SPECS:
        alarm_statements = [st for st in _statements(synth, folder) if "cloudwatch:" in json.dumps(st["Action"])]
        if folder != "serve_api":
            assert alarm_statements == [] and "JOURNEY_ALARM_PREFIX" not in _env(synth, folder), folder
            continue
        [statement] = alarm_statements
        assert statement["Effect"] == "Allow" and sorted(statement["Action"]) == sorted(ALARM_ACTIONS)
        assert statement["Resource"] == {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
            f":alarm:{prefix}*"]]}
        assert _env(synth, folder)["JOURNEY_ALARM_PREFIX"] == prefix


def test_the_runner_publishes_alerts_and_keeps_results_in_the_metrics_table(synth):
    spec = SPECS["run_journeys"]
    assert spec.publish_alerts and "Metrics" in spec.read_write
    assert "ALERTS_BUS_NAME" in _env(synth, "run_journeys") and "METRICS_TABLE" in _env(synth, "run_journeys")
    props = synth.resources[synth.logical_id(synth.stack.data.tables["Metrics"])]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    contacts = synth.resources[synth.logical_id(synth.stack.data.tables["Contacts"])]["Properties"]
    assert contacts["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}  # synthetic contacts go
