"""functions/connect_flow and the customer directory API through the real handlers with their template
environment, on moto: realistic contact-flow events (tests/fixtures/connect) for every action, replies
that are flat string maps under 32 KB, and no phone number or e-mail address in any log line."""
from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.connect_flow import MAX_REPLY_BYTES, reply_size
from ccaas.domain.models import Agent, AgentStatus, QueueAssignment
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import admin, agents, connect_flow, contacts, routing
from tests.calling_hours import backend_now
from tests.connect_tenant import BILLING_HOURS, add_flow_queues
from tests.lambda_harness import api, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"
PII = ("+14155550100", "4155550100", "+447700900123", "gold.customer@example.com", "Gold.Customer@Example.com")


def _billing_closed_now() -> dict:
    """BILLING_HOURS moved to the day after tomorrow (London): this tier runs on the wall clock, and the
    hours test wants billing closed whatever the day and hour (its fixed Saturday morning is open 3 h a week)."""
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(backend_now() + timedelta(days=2)).astimezone(
        ZoneInfo(BILLING_HOURS["time_zone"])).weekday()]
    return {**BILLING_HOURS, "weekly": {day: BILLING_HOURS["weekly"]["sat"]}}


@pytest.fixture
def flow_tenant(env):
    """A tenant with its own Connect instance, three queues, an available agent and three customers (via the API)."""
    tenant_id = f"t{uuid.uuid4().hex[:8]}"
    instance = f"arn:aws:connect:us-east-1:123456789012:instance/{uuid.uuid4()}"
    deps = dependencies()
    admin.register_tenant(deps, tenant_id=tenant_id, name="Flows")
    admin.register_connect_instance(deps, tenant_id=tenant_id, instance_arn=instance)
    add_flow_queues(deps, tenant_id, {"billing": {"hours": _billing_closed_now()}})
    connect_flow.put_flow_settings(deps, tenant_id, connect_flow.FlowSettings(queues={"sales": f"{instance}/queue/q-sales"}))
    admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", skills={"sales": 5},
                                queues=(QueueAssignment(queue_id="sales"),), status=AgentStatus.AVAILABLE))
    for cid, body in {
        "c-plat": {"tier": "platinum", "vip": True, "preferred_language": "en-US", "phones": ["+1 (415) 555-0100"]},
        "c-gold": {"tier": "gold", "emails": ["Gold.Customer@Example.com"]},
        "c-self": {"tier": "self_service", "phones": ["+447700900123"]},
    }.items():
        status, _ = api("PUT", f"/customers/{cid}", tenant_id, body)
        assert status == 200
    return SimpleNamespace(id=tenant_id, instance=instance)


def flow_event(tenant, name: str, parameters: dict | None = None) -> dict:
    event = json.loads((FIXTURES / f"{name}.json").read_text())
    event["Details"]["ContactData"]["InstanceARN"] = tenant.instance
    if parameters is not None:
        event["Details"]["Parameters"] = parameters
    return event


@pytest.fixture
def invoke(env):
    env("connect_flow")
    handler = load_handler("connect_flow")

    def call(event: dict) -> dict[str, str]:
        started = time.perf_counter()
        reply = handler(event, context("connect_flow", remaining_ms=8_000))
        assert time.perf_counter() - started < 8
        assert isinstance(reply, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in reply.items())
        assert reply_size(reply) <= MAX_REPLY_BYTES and reply["status"] in ("ok", "error")
        return reply

    return call


# --- the customer directory API -----------------------------------------------------------------------
def test_customer_directory_api(flow_tenant):
    t = flow_tenant.id
    status, body = api("GET", "/customers/c-plat", t)
    assert status == 200 and body["phones"] == ["+14155550100"] and body["tier"] == "platinum" and body["vip"] is True
    assert "tenant_id" not in body and body["updated_at"].endswith("Z")
    assert api("GET", "/customers", t, query={"phone": "+14155550100"})[1]["customer_id"] == "c-plat"
    assert api("GET", "/customers", t, query={"phone": " 14155550100"})[1]["customer_id"] == "c-plat"  # unencoded "+"
    assert api("GET", "/customers", t, query={"email": "GOLD.customer@example.com"})[1]["customer_id"] == "c-gold"
    status, body = api("GET", "/customers", t, query={"phone": "+14155550199"})
    assert status == 404 and body["field"] == "phone"
    status, body = api("GET", "/customers", t)
    assert status == 422
    status, body = api("PUT", "/customers/c-new", t, {"phones": ["+14155550100"]})
    assert status == 409 and body["field"] == "phones"
    status, body = api("PUT", "/customers/c-new", t, {"phones": ["555-0100"]})
    assert status == 422 and body["field"] == "phones[0]" and "555" not in body["message"]
    assert api("GET", "/customers/c-plat", f"{t}x")[0] == 404  # another tenant's directory
    assert api("GET", "/customers", f"{t}x", query={"phone": "+14155550100"})[0] == 404


# --- every action through the real handler ------------------------------------------------------------
def test_every_action_with_realistic_events(flow_tenant, invoke):
    t = flow_tenant
    identified = invoke(flow_event(t, "voice_inbound"))
    assert (identified["customer_id"], identified["tier"], identified["vip"]) == ("c-plat", "platinum", "true")
    assert invoke(flow_event(t, "email_inbound"))["customer_id"] == "c-gold"
    assert invoke(flow_event(t, "unknown_values", {"action": "identify"}))["found"] == "false"

    routed = invoke(flow_event(t, "voice_inbound", {"action": "route"}))  # Queue.ARN -> sales via the settings
    assert (routed["queue_id"], routed["priority"], routed["queue_arn"]) == ("sales", "1", f"{t.instance}/queue/q-sales")
    assert json.loads(routed["routing_criteria"])["Steps"][0]["Expression"]["AttributeCondition"]["ProficiencyLevel"] == 4.0
    assert invoke(flow_event(t, "chat_sms"))["outcome"] == "self_service"  # route support, a self_service customer

    waited = invoke(flow_event(t, "voice_inbound", {"action": "wait_info", "queue_id": "support"}))
    assert waited["queue_id"] == "support" and waited["position"] == "1"
    assert invoke(flow_event(t, "unknown_values"))["open"] == "true"  # hours of sales
    closed = invoke(flow_event(t, "task_null_sections", {"action": "hours", "queue_id": "billing"}))
    assert closed["open"] == "false" and closed["time_zone"] == "Europe/London" and closed["next_open_at"].endswith("Z")
    staffed = invoke(flow_event(t, "task_null_sections", {"action": "staffing", "queue_id": "sales"}))
    assert staffed["queue_id"] == "sales" and "agents_staffed" in staffed

    called = invoke(flow_event(t, "voice_inbound", {"action": "callback", "queue_id": "support"}))
    assert called["scheduled"] == "true" and called["repeated"] == "false"
    assert invoke(flow_event(t, "voice_inbound", {"action": "callback", "queue_id": "support"}))["repeated"] == "true"
    contact = dependencies().store.get_contact(t.id, called["callback_contact_id"])
    assert contact.callback_number == "+14155550100" and contact.customer_id == "c-plat"
    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    lifecycle = next(m["stateMachineArn"] for m in machines if "ContactLifecycle" in m["name"])
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=lifecycle)["executions"]
    assert f"{t.id}-{contact.contact_id}"[:80] in {e["name"] for e in executions}

    logged = invoke(flow_event(t, "chat_sms", {"action": "log_event", "milestone": "self_service_success", "value": "balance"}))
    assert logged["recorded"] == "true" and logged["self_service"] == "true"
    connect_id = json.loads((FIXTURES / "chat_sms.json").read_text())["Details"]["ContactData"]["ContactId"]
    entry = dependencies().history.get_entry(t.id, connect_id)
    assert entry.flow is not None and entry.flow.self_service and entry.flow.milestones == 1


@pytest.mark.parametrize("policy", [
    {"queues": {"support": {"steps": [{"name": "experts", "condition": "support>=4", "expiry_s": 30}]}}},
    {"journey": {"last_agent_step_s": 20}},
], ids=["a skill step", "a last-agent step"])
def test_a_callback_whose_routing_step_asks_about_agents_is_scheduled(flow_tenant, invoke, env, policy):
    """Scheduling a callback plans its routing steps and asks who could satisfy the one in force (routing
    reach: the agents Query for a skill step, the last agent's item for a journey step): the function reads
    the Agents table for that (outside testing found `internal_error` replies when its template gave it none)."""
    t = flow_tenant
    env("serve_api")  # the set-up, as the API would make it
    deps = dependencies()
    routing.put_policy(deps, t.id, RoutingPolicy.model_validate(policy))
    admin.put_agent(deps, Agent(tenant_id=t.id, agent_id="bo", name="Bo", skills={"support": 5},
                                queues=(QueueAssignment(queue_id="support"),)))
    if "journey" in policy:  # bo served c-plat a minute ago: bo leads the callback's plan, then logs off
        agents.set_agent_status(deps, t.id, "bo", agents.StatusChange(status="AVAILABLE"))
        served = contacts.create_contact(deps, t.id, contacts.NewContact(channel="VOICE", queue_id="support",
                                                                          customer_id="c-plat"))
        served = contacts.queue_and_route(deps, t.id, served.contact_id, "token")
        assert served.agent_id == "bo", served
        for step in (contacts.accept_contact, contacts.complete_contact, contacts.end_after_contact_work):
            step(deps, t.id, "bo", served.contact_id)
        agents.set_agent_status(deps, t.id, "bo", agents.StatusChange(status="OFFLINE"))
    env("connect_flow")
    called = invoke(flow_event(t, "voice_inbound", {"action": "callback", "queue_id": "support"}))
    assert (called["status"], called.get("scheduled")) == ("ok", "true"), called


@pytest.mark.parametrize("parameters, code", [
    ({}, "missing_parameter"), ({"action": "warp"}, "unknown_action"), ({"action": "route"}, "missing_parameter"),
    ({"action": "hours", "queue_id": "nope"}, "not_found"), ({"action": "identify", "phone": "12"}, "invalid_parameter"),
    ({"action": "log_event"}, "missing_parameter"),
])
def test_errors_are_values_the_flow_branches_on(flow_tenant, invoke, parameters, code):
    reply = invoke(flow_event(flow_tenant, "task_null_sections", parameters))
    assert (reply["status"], reply["error_code"]) == ("error", code) and reply["error_message"]


def test_an_unregistered_instance_and_a_non_event(flow_tenant, invoke):
    event = flow_event(flow_tenant, "voice_inbound")
    event["Details"]["ContactData"]["InstanceARN"] = f"arn:aws:connect:us-east-1:123456789012:instance/{uuid.uuid4()}"
    assert invoke(event)["error_code"] == "unknown_instance"
    assert invoke({"hello": "world"})["error_code"] == "bad_event"


def _contacts(tenant_id: str) -> int:
    """The tenant's contact items in the Contacts table (what was written)."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(
        TableName=os.environ["CONTACTS_TABLE"], FilterExpression="begins_with(pk, :p) AND sk = :s",
        ExpressionAttributeValues={":p": {"S": f"{tenant_id}#CONTACT#"}, ":s": {"S": "CONTACT"}},
    )
    return sum(page["Count"] for page in pages)


def test_an_oversize_contact_id_is_a_bad_event_before_any_callback(flow_tenant, invoke):
    """A 3,000-character ContactId: the callback was created, then the milestone's history key (over DynamoDB's
    2,048 bytes) failed and the flow was told internal_error, "try again", after the side effect (outside review)."""
    before = _contacts(flow_tenant.id)
    for parameters in ({"action": "callback", "queue_id": "support"}, {"action": "log_event", "milestone": "menu_choice"}):
        event = flow_event(flow_tenant, "voice_inbound", parameters)
        event["Details"]["ContactData"]["ContactId"] = "c" * 3_000
        reply = invoke(event)
        assert (reply["status"], reply["error_code"]) == ("error", "bad_event"), reply
        assert "ContactData.ContactId" in reply["error_message"] and "ccc" not in reply["error_message"]
    assert _contacts(flow_tenant.id) == before
    event = flow_event(flow_tenant, "voice_inbound", {"action": "callback", "queue_id": "support"})
    event["Details"]["ContactData"]["ContactId"] = str(uuid.uuid4())  # what Connect sends: a 36-character UUID
    reply = invoke(event)
    assert (reply["status"], reply["scheduled"]) == ("ok", "true"), reply
    assert _contacts(flow_tenant.id) == before + 1


def test_an_instance_arn_no_tenant_could_register_is_unknown_instance(flow_tenant, invoke):
    """An ARN over DynamoDB's 2,048-byte key limit, or of no instance, is not registered: unknown_instance, never an
    internal_error (a guard: a helper had seen one for a 3,000-character ARN; on moto it answers as it should)."""
    for arn in ("arn:aws:connect:us-east-1:123456789012:instance/" + "a" * 3_000, "x" * 3_000,
                "arn:aws:connect:us-east-1:123456789012:instance/abc/"):
        event = flow_event(flow_tenant, "voice_inbound", {"action": "route", "queue_id": "sales"})
        event["Details"]["ContactData"]["InstanceARN"] = arn
        reply = invoke(event)
        assert (reply["status"], reply["error_code"]) == ("error", "unknown_instance"), reply


def test_oversize_attributes_and_no_personal_data_in_logs(flow_tenant, invoke, logs):
    event = flow_event(flow_tenant, "voice_inbound", {"action": "route", "queue_id": "sales"})
    event["Details"]["ContactData"]["Attributes"] = {f"a{i:05d}": "+14155550100" for i in range(3_000)}
    assert invoke(event)["customer_id"] == "c-plat"
    for name in ("email_inbound", "chat_sms", "unknown_values", "task_null_sections"):
        invoke(flow_event(flow_tenant, name))
    invoke(flow_event(flow_tenant, "voice_inbound", {"action": "identify", "phone": "+1415555010"}))  # an error path
    text = logs.text()
    assert "flow action answered" in text
    for value in PII:
        assert value not in text


def test_a_repeat_past_ten_newer_contacts_through_the_handler(flow_tenant, invoke, env):
    """Outside probe, session 37 (/tmp/probe-flows/repro_depth.sh): a billing contact, then 10 newer with another
    reason (POST /contacts): identify, route and POST /contacts saw only the newest 10 and missed the repeat. The
    stores on moto read on through the FCR window (StateStore.recent_contacts, HistoryStore.recent_customer_entries)."""
    t = flow_tenant.id

    def intake(reason: str) -> dict:
        env("serve_api")
        status, body = api("POST", "/contacts", t, {"channel": "VOICE", "queue_id": "sales", "customer_id": "c-gold",
                                                    "reason": reason})
        assert status == 201, body
        return body

    billing = intake("billing")
    for _ in range(10):
        intake("sales")
    env("connect_flow")
    asked = {"customer_id": "c-gold", "reason": "billing"}
    identified = invoke(flow_event(flow_tenant, "voice_inbound", {"action": "identify", **asked}))
    assert (identified["open_repeat_contact"], identified["repeat_contact_id"]) == ("true", billing["contact_id"])
    routed = invoke(flow_event(flow_tenant, "voice_inbound", {"action": "route", "queue_id": "sales", **asked}))
    assert (routed["repeat_contact"], routed["repeat_of"], routed["priority"]) == ("true", billing["contact_id"], "2")
    again = intake("billing")
    assert "repeat_contact" in again["flags"] and again["priority"] == 2, again  # gold's 3, raised
