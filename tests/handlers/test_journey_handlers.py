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
    assert api("GET", "/settings/journeys", tenant.id, role="supervisor") == (200, {"journeys": [], "connect_instance_arn": None})
    assert api("PUT", "/settings/journeys", tenant.id, DEMO, role="supervisor")[0] == 403
    assert api("PUT", "/settings/journeys", tenant.id, DEMO, role="integration")[0] == 403
    status, stored = api("PUT", "/settings/journeys", tenant.id, DEMO)
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
