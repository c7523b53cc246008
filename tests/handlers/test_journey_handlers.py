"""PUT/GET /settings/journeys: the tenant's journey suite (admin writes, readers read; a bad spec is a 422
naming the offending key)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

DEMO = json.loads((Path(__file__).resolve().parents[2] / "journeys" / "demo.json").read_text())


def test_journeys_are_the_admins_and_readers_see_them(tenant, env):
    from ccaas.bootstrap import dependencies
    from ccaas.usecases import admin

    assert api("GET", "/settings/journeys", tenant.id, role="supervisor") == (200, {"journeys": [], "connect_instance_arn": None})
    assert api("PUT", "/settings/journeys", tenant.id, DEMO, role="supervisor")[0] == 403
    assert api("PUT", "/settings/journeys", tenant.id, DEMO, role="integration")[0] == 403
    # the demo file's flow steps run as the tenant's Connect instance (the CI gate's runner names a sandbox one)
    status, body = api("PUT", "/settings/journeys", tenant.id, DEMO)
    assert status == 422 and body["field"] == "connect_instance_arn", body
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=INSTANCE)
    status, stored = api("PUT", "/settings/journeys", tenant.id, {**DEMO, "connect_instance_arn": INSTANCE})
    assert status == 200 and [j["name"] for j in stored["journeys"]] == [j["name"] for j in DEMO["journeys"]]
    status, read = api("GET", "/settings/journeys", tenant.id, role="supervisor")
    assert status == 200 and read == stored


def test_an_unknown_action_or_field_is_a_422_naming_it(tenant, env):
    bad = {"journeys": [{"name": "j", "steps": [{"action": "route", "expect": {"queue": "sales"}}]}]}
    status, body = api("PUT", "/settings/journeys", tenant.id, bad)
    assert status == 422
    assert any(d["loc"][-1] == "queue" and "steps" in d["loc"] for d in body["detail"])
    status, body = api("PUT", "/settings/journeys", tenant.id, {"journeys": [{"name": "j", "steps": [{"action": "fly"}]}]})
    assert status == 422
    assert api("GET", "/settings/journeys", tenant.id)[1]["journeys"] == []


INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-0000-4000-8000-000000000016"


def test_the_scheduled_runner_plays_each_tenants_journeys_and_emits_metrics(tenant, env, capsys):
    from ccaas.bootstrap import dependencies
    from ccaas.usecases import admin
    from tests.lambda_harness import context, load_handler

    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=INSTANCE)
    suite = {"connect_instance_arn": INSTANCE, "journeys": [
        {"name": "sales-open", "inputs": {"phone": "+14155550142"}, "steps": [
            {"action": "hours", "parameters": {"queue_id": "sales"}, "expect": {"open": True}},
            {"action": "route", "parameters": {"queue_id": "sales"}, "expect": {"outcome": "queue", "priority": 5}}]},
        {"name": "sales-intake", "steps": [
            {"action": "create_contact", "queue_id": "sales", "expect": {"outcome": "queue", "queue_id": "sales"}}]},
        {"name": "wrong-queue", "steps": [
            {"action": "route", "parameters": {"queue_id": "sales"}, "expect": {"queue_id": "support"}}]},
    ]}
    assert api("PUT", "/settings/journeys", tenant.id, suite)[0] == 200
    capsys.readouterr()
    env("run_journeys")
    answer = load_handler("run_journeys")({}, context("run_journeys", remaining_ms=300_000))
    assert answer["journeys"] >= 3 and answer["failed"] >= 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    ours = {(m["journey"], name): (m[name][0] if isinstance(m[name], list) else m[name]) for m in lines
            if m.get("tenant") == tenant.id for name in ("JourneySuccess", "JourneyLatency") if name in m}
    assert ours[("sales-open", "JourneySuccess")] == 1
    assert ours[("sales-intake", "JourneySuccess")] == 1
    assert ours[("wrong-queue", "JourneySuccess")] == 0
    assert ours[("sales-open", "JourneyLatency")] > 0
    # the intake's contact is synthetic: marked, and abandoned by the clean-up
    env("serve_api")
    from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE

    contacts = [c for c in dependencies().store.waiting_contacts(tenant.id, "sales", 10)]
    assert all(c.attributes.get(SYNTHETIC_ATTRIBUTE) != "sales-intake" for c in contacts)


def test_results_alerts_and_alarms_through_the_handlers(tenant, env):
    """PUT /settings/journeys makes an alarm per journey (moto CloudWatch, the stage's prefix); the scheduled
    runner stores each run and opens a journey_failed alert once; GET /journeys/results and
    GET /journeys/{name}/results read them (admin, supervisor)."""
    import boto3

    from ccaas.bootstrap import dependencies
    from ccaas.usecases import admin
    from tests.lambda_harness import context, load_handler

    # an instance of its own: the runner's config cache may still hold the other test's registration of INSTANCE
    instance = INSTANCE.replace("000000000016", "000000000017")
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=instance)
    suite = {"connect_instance_arn": instance, "journeys": [
        {"name": "sales-open", "steps": [{"action": "hours", "parameters": {"queue_id": "sales"}, "expect": {"open": True}}]},
        {"name": "wrong-queue", "steps": [
            {"action": "route", "parameters": {"queue_id": "sales"}, "expect": {"queue_id": "support"}}]},
        {"name": "never-run", "steps": [{"action": "hours", "parameters": {"queue_id": "nope"}}]},
    ]}
    assert api("PUT", "/settings/journeys", tenant.id, suite)[0] == 200
    cloudwatch = boto3.client("cloudwatch")
    prefix = f"ccaas-dev-journey-{tenant.id}/"

    def alarm_names():
        found = cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
        return sorted(a["AlarmName"].removeprefix(prefix) for a in found)

    assert alarm_names() == ["never-run", "sales-open", "wrong-queue"]
    status, body = api("GET", "/journeys/results", tenant.id, role="supervisor")
    assert status == 200 and body["journeys"] == [] and len(body["warnings"]) == 3

    only_two = {**suite, "journeys": suite["journeys"][:2]}
    assert api("PUT", "/settings/journeys", tenant.id, only_two)[0] == 200
    assert alarm_names() == ["sales-open", "wrong-queue"]
    for _ in range(2):
        env("run_journeys")
        load_handler("run_journeys")({}, context("run_journeys", remaining_ms=300_000))
    env("serve_api")
    status, body = api("GET", "/journeys/results", tenant.id, role="supervisor")
    assert status == 200 and body["warnings"] == []
    latest = {j["journey"]: j for j in body["journeys"]}
    assert set(latest) == {"sales-open", "wrong-queue"}
    assert set(latest["wrong-queue"]) == {"journey", "passed", "at", "total_ms", "failed_step", "failure"}
    assert latest["sales-open"]["passed"] is True and latest["sales-open"]["failure"] is None
    assert latest["wrong-queue"]["passed"] is False and latest["wrong-queue"]["failed_step"] == "steps[0] route"
    assert "queue_id" in latest["wrong-queue"]["failure"]
    status, history = api("GET", "/journeys/wrong-queue/results", tenant.id)
    assert status == 200 and len(history["runs"]) == 2 and history["runs"][0]["at"] >= history["runs"][1]["at"]
    assert history["runs"][0]["steps"][0]["action"] == "route" and history["runs"][0]["steps"][0]["latency_ms"] > 0
    assert api("GET", "/journeys/nope/results", tenant.id)[0] == 404
    assert api("GET", "/journeys/results", tenant.id, role="integration")[0] == 403
    # one alert for the failing journey (two failing runs), seen by supervisors like the others
    status, open_alerts = api("GET", "/alerts", tenant.id, role="supervisor")
    mine = [a for a in open_alerts if a["rule"] == "journey_failed"]
    assert status == 200 and [a["subject"] for a in mine] == ["journey/wrong-queue"]
    assert mine[0]["details"]["journey"] == "wrong-queue" and mine[0]["details"]["failed_step"] == "steps[0] route"


OTHERS_INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/bbbbbbbb-0000-4000-8000-000000000022"


def test_a_tenants_journeys_never_play_another_tenants_connect_instance(tenant, env):
    """The suite's connect_instance_arn names the instance whose flow events the journeys send; the flow answers
    as that instance's tenant. Another tenant's instance is a 422; and should one be stored anyway (registered to
    this tenant then, moved since), the runner refuses it: nothing reaches the other tenant."""
    from ccaas.bootstrap import dependencies
    from ccaas.usecases import admin
    from ccaas.usecases.journeys import JOURNEYS_SETTINGS
    from tests.handlers.conftest import new_tenant
    from tests.lambda_harness import context, load_handler

    other = new_tenant()
    admin.register_connect_instance(dependencies(), tenant_id=other.id, instance_arn=OTHERS_INSTANCE)
    suite = {"connect_instance_arn": OTHERS_INSTANCE, "journeys": [
        {"name": "probe", "inputs": {"phone": "+14155550142"}, "steps": [
            {"action": "callback", "parameters": {"queue_id": "sales"}, "expect": {"status": "ok"}}]}]}
    status, body = api("PUT", "/settings/journeys", tenant.id, suite)
    assert status == 422 and body["field"] == "connect_instance_arn", body
    assert api("GET", "/settings/journeys", tenant.id)[1]["journeys"] == []

    dependencies().config.put_settings(tenant.id, JOURNEYS_SETTINGS, suite)  # stored before the check existed
    env("run_journeys")
    load_handler("run_journeys")({}, context("run_journeys", remaining_ms=300_000))
    env("serve_api")
    assert dependencies().store.waiting_contacts(other.id, "sales", 10) == []  # no callback made in the other tenant
    status, body = api("GET", "/journeys/probe/results", tenant.id)
    assert status == 200 and body["runs"][0]["passed"] is False and "instance" in body["runs"][0]["failure"], body
