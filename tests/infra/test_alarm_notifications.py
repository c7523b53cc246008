"""Every alarm notifies someone: one SNS topic (customer managed key, TLS only, CloudWatch of this account may
publish), ALARM and OK actions on every alarm of the template, the journey alarms' setting, e-mail subscribers."""
from __future__ import annotations

import pytest

from infra.config import alarm_emails
from infra.function_specs import ALARM_TOPIC_ARN_ENV, SPECS


def _topic_ref(synth) -> dict:
    return {"Ref": synth.logical_id(synth.stack.notifications.topic)}


def test_every_alarm_of_the_template_notifies_the_topic_when_it_fires_and_when_it_recovers(synth):
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 5  # DLQs, iterator ages, service level, oldest contact, campaign abandonment...
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        assert props.get("AlarmActions") == [_topic_ref(synth)], logical_id
        assert props.get("OKActions") == [_topic_ref(synth)], logical_id


def test_the_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use_and_takes_tls_only(synth):
    topic = synth.resources[synth.logical_id(synth.stack.notifications.topic)]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = synth.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                 if _topic_ref(synth) in p["Properties"]["Topics"]]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    publish = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in publish] == [{"Service": "cloudwatch.amazonaws.com"}]
    assert publish[0]["Action"] == "sns:Publish" and "aws:SourceAccount" in publish[0]["Condition"]["StringEquals"]


def test_the_functions_that_create_journey_alarms_know_the_topic_and_nothing_else_does(synth):
    for folder, spec in SPECS.items():
        env = synth.resources[synth.logical_id(synth.stack.factory.functions[folder])]["Properties"]["Environment"]["Variables"]
        assert (ALARM_TOPIC_ARN_ENV in env) == spec.journey_alarms, folder
        if spec.journey_alarms:
            assert env[ALARM_TOPIC_ARN_ENV] == _topic_ref(synth)


def test_journey_alarms_carry_the_topic_as_their_actions():
    from ccaas.adapters.aws.journeys import alarm_parameters

    with_topic = alarm_parameters("ccaas-dev-journey-", "Ccaas", "acme", "balance", "arn:aws:sns:us-east-1:1:t")
    assert with_topic["AlarmActions"] == with_topic["OKActions"] == ["arn:aws:sns:us-east-1:1:t"]
    assert "AlarmActions" not in alarm_parameters("ccaas-dev-journey-", "Ccaas", "acme", "balance")


def test_email_subscribers_from_context(tmp_path):
    from infra.app import build_app

    app, stack = build_app(context={"alarmEmails": "ops@example.com, oncall@example.org"}, outdir=str(tmp_path))
    resources = app.synth().get_stack_by_name(stack.stack_name).template["Resources"]
    subs = [r["Properties"] for r in resources.values()
            if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "email"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == [("email", "oncall@example.org"), ("email", "ops@example.com")]


@pytest.mark.parametrize("bad", ["ops", "ops@", "a b@x.com", "ops@localhost"])
def test_a_context_value_that_is_not_an_address_is_refused(bad):
    with pytest.raises(ValueError, match="alarmEmails"):
        alarm_emails(bad)
