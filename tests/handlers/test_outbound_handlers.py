"""Outbound routes through the real serve_api handler on the stack deployed into moto: roles, the CSV upload,
errors that name their field, the dialing tick's attempts in the audit export (JSON and CSV), metrics, opt-outs
and an agent's disposition of its own outbound call."""
from __future__ import annotations

import csv
import io
import uuid

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import AgentStatus, ContactState, InitiationMethod
from ccaas.usecases import admin, outbound
from tests.aws_stack import function_environment
from tests.calling_hours import DaytimeZone, zone_in_hours
from tests.handlers.conftest import new_tenant
from tests.lambda_harness import api, api_response
from tests.outbound_on_stack import all_agents_available, answered_outbound_call

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "renewals", "name": "Renewals", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199", "policy": {"max_attempts": 3, "min_gap_minutes": 60}}


def _csv(daytime: DaytimeZone) -> str:
    zone, number = daytime.zone, daytime.number
    return ("row_id,phone,time_zone,account_id,consent_automated_voice\n"
            f"r1,{number(1)},{zone},acct-1,true\n"
            f"r2,{number(2)},{zone},acct-2,false\n"
            f"r3,{number(3)},{zone},acct-3,true\n"
            "r4,12,America/New_York,acct-4,true\n"
            f"r5,{number(5)},Nowhere/Zone,acct-5,true\n")


@pytest.fixture
def campaign(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated", "seed": 3})[0] == 200
    status, body = api("POST", "/campaigns", tenant.id, CAMPAIGN)
    assert status == 201 and body["status"] == "draft" and body["version"] == 1
    return tenant


def test_campaign_lifecycle_and_roles(campaign):
    t = campaign.id
    assert api("POST", "/campaigns", t, {**CAMPAIGN, "campaign_id": "other"}, role="supervisor")[0] == 403
    assert api("POST", "/campaigns", t, {**CAMPAIGN, "campaign_id": "other"}, role="integration")[0] == 403
    status, body = api("POST", "/campaigns", t, CAMPAIGN)
    assert status == 409 and body["field"] == "campaign_id"
    assert [c["campaign_id"] for c in api("GET", "/campaigns", t, role="supervisor")[1]] == ["renewals"]
    status, started = api("POST", "/campaigns/renewals/start", t, role="supervisor")
    assert status == 200 and started["status"] == "running" and started["version"] == 2
    status, patched = api("PATCH", "/campaigns/renewals", t, {"window": {"start": "09:00", "end": "20:00"}})
    assert status == 200 and patched["version"] == 3 and patched["window"]["start"] == "09:00"
    assert patched["status"] == "running" and patched["policy"]["max_attempts"] == 3  # the rest stays
    assert api("PATCH", "/campaigns/renewals", t, {"name": "x"}, role="supervisor")[0] == 403
    assert api("POST", "/campaigns/renewals/pause", t, role="supervisor")[1]["status"] == "paused"
    assert api("POST", "/campaigns/renewals/stop", t)[1]["status"] == "stopped"
    status, body = api("POST", "/campaigns/renewals/start", t, role="supervisor")
    assert status == 409 and body["error"] == "conflict" and body["field"] == "status"
    assert api("GET", "/campaigns/nope", t)[0] == 404
    assert api("GET", "/campaigns/renewals", f"{t}x")[0] == 404  # tenant first


def test_bad_campaigns_are_422s_naming_the_field(tenant):
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "caller_id": "555"})
    assert status == 422 and body["field"] == "caller_id"
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "queue_id": "nope"})
    assert status == 422 and body["field"] == "queue_id"
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "window": {"start": "07:00", "end": "21:00"}})
    assert status == 422 and body["field"].startswith("window")
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "mode": "agentless"})
    assert status == 422 and body["error"] == "validation_error"
    status, body = api("POST", "/campaigns/renewals/start", tenant.id, role="supervisor")
    assert status == 404 and body["field"] == "campaign_id"


def test_csv_upload_reports_rows_by_line_and_field_and_the_tick_dials_only_allowed_rows(campaign):
    t = campaign.id
    daytime = zone_in_hours()  # every zone of rows r1-r3 in hours: only consent and suppression block
    status, body = api("POST", "/campaigns/renewals/lists", t, {"format": "csv", "content": _csv(daytime)})
    assert status == 200 and body["accepted"] == 3 and body["rejected"] == 2
    assert {(e["line"], e["field"]) for e in body["errors"]} == {(5, "phone"), (6, "time_zone")}
    status, body = api("POST", "/campaigns/renewals/lists", t, {"format": "csv"})
    assert status == 422 and body["field"] == "content"
    assert api("POST", "/campaigns/renewals/lists", t, {"format": "json", "rows": []}, role="supervisor")[0] == 403
    assert api("POST", "/suppressions", t, {"entries": [{"kind": "number", "value": daytime.written(3)}]},
               role="integration")[1] == {"stored": 1, "numbers": [daytime.number(3)]}
    status, body = api("POST", "/suppressions", t, {"entries": [{"kind": "number", "value": "12"}]}, role="integration")
    assert status == 422 and body["field"] == "entries.0.value"
    assert api("POST", "/campaigns/renewals/start", t, role="supervisor")[0] == 200

    deps = dependencies()
    all_agents_available(deps, t)
    tick = outbound.dial_tick(deps, t, "renewals")  # two free agents: two dials wanted, one row allowed
    assert tick.dialed == 1 and tick.blocks == {"consent": 1, "suppression": 1}

    status, attempts = api("GET", "/campaigns/renewals/attempts", t, role="supervisor")
    assert status == 200 and [a["attempt"]["row_id"] for a in attempts] == ["r1"]
    checks = {c["name"]: c["passed"] for c in attempts[0]["attempt"]["checks"]}
    assert checks["calling_hours"] and checks["suppression"] and checks["consent"] and checks["reg_f_7_in_7"]
    status, text, headers = api_response("GET", "/campaigns/renewals/attempts", t, query={"format": "csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv; charset=utf-8"]
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert line["row_id"] == "r1" and "calling_hours=pass" in line["checks"] and line["campaign_version"] == "2"
    status, metrics = api("GET", "/campaigns/renewals/metrics", t, role="supervisor")
    assert status == 200 and metrics["attempts"] == 1 and metrics["calls_in_flight"] == 1
    assert metrics["blocks_by_rule"] == {"consent": 1, "suppression": 1}
    assert api("GET", "/campaigns/renewals/metrics", t, role="integration")[0] == 403


def test_an_agent_disposes_its_own_outbound_call_and_opting_out_suppresses_at_once(campaign):
    t = campaign.id
    daytime = zone_in_hours()
    deps, record, contact_id = answered_outbound_call(t, daytime)
    status, body = api("POST", f"/contacts/{contact_id}/disposition", t, {"disposition": "opted_out"},
                       role="agent", agent_id="ben")
    assert status == 404 and body["field"] == "contact_id"  # not ben's call
    status, body = api("POST", f"/contacts/{contact_id}/disposition", t, {"disposition": "busy"},
                       role="agent", agent_id="ana")
    assert status == 422 and body["field"] == "disposition"
    status, body = api("POST", f"/contacts/{contact_id}/disposition", t, {"disposition": "opted_out"},
                       role="agent", agent_id="ana")
    assert status == 200 and body == {"contact_id": contact_id, "attempt_id": record.attempt_id, "disposition": "opted_out",
                                      "callback_at": None}
    assert deps.outbound.match_suppression(t, daytime.number(1), None, None).source == "agent"
    status, body = api("POST", f"/contacts/{contact_id}/disposition", t, {"disposition": "right_party_contact"},
                       role="agent", agent_id="ana")
    assert status == 409 and body["field"] == "disposition"
    status, metrics = api("GET", "/campaigns/renewals/metrics", t)
    assert metrics["opted_out"] == 1 and metrics["agent_dispositions"] == {"opted_out": 1}


def test_dialer_settings(tenant):
    status, body = api("GET", "/settings/outbound", tenant.id, role="supervisor")
    assert status == 404 and body["field"] == "kind"
    status, body = api("PUT", "/settings/outbound", tenant.id, {"kind": "connect"})
    assert status == 422 and body["field"] == "instance_arn"
    arn = f"arn:aws:connect:us-east-1:123456789012:instance/{tenant.id}-0000-4000-8000-000000000001"
    good = {"kind": "connect", "instance_arn": arn, "contact_flow_id": "f1", "queues": {"sales": "q-123"}}
    # the dialer may reach every instance the deployment configures: only one registered to the tenant is taken
    status, body = api("PUT", "/settings/outbound", tenant.id, good)
    assert status == 422 and body["field"] == "instance_arn" and "this tenant" in body["message"], body
    other = new_tenant()
    admin.register_connect_instance(dependencies(), tenant_id=other.id, instance_arn=arn)
    assert api("PUT", "/settings/outbound", tenant.id, good)[0] == 422  # another tenant's
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=arn)
    assert api("PUT", "/settings/outbound", tenant.id, good)[0] == 200
    stored = api("GET", "/settings/outbound", tenant.id, role="supervisor")[1]
    assert stored["instance_arn"] == arn and stored["instance_id"] == f"{tenant.id}-0000-4000-8000-000000000001"
    # so may every End User Messaging SMS identity and configuration set of the account: only the tenant's
    texting = {**good, "sms_origination": "+12065550100", "sms_configuration_set": "texts"}
    status, body = api("PUT", "/settings/outbound", tenant.id, texting)
    assert status == 422 and body["field"] == "sms_origination" and "register it with the admin tool" in body["message"]
    admin.register_sms_sender(dependencies(), tenant_id=tenant.id, kind="origination", name="+12065550100")
    admin.register_sms_sender(dependencies(), tenant_id=tenant.id, kind="configuration-set", name="texts")
    assert api("PUT", "/settings/outbound", tenant.id, texting)[0] == 200
    assert api("GET", "/settings/outbound", tenant.id, role="supervisor")[1]["sms_configuration_set"] == "texts"


def test_a_consent_revocation_stops_automated_dialing_at_the_next_check(campaign):
    t = campaign.id
    daytime = zone_in_hours()  # in hours: consent is the one block
    api("POST", "/campaigns/renewals/lists", t, {"format": "json", "rows": [
        {"row_id": "r1", "phone": daytime.number(1), "time_zone": daytime.zone, "consent_automated_voice": True}]})
    status, body = api("POST", "/consents", t, {"number": daytime.written(1), "granted": False, "source": "sms_stop"},
                       role="integration")
    assert status == 200 and body == {"number": daytime.number(1), "kind": "voice", "granted": False}
    status, body = api("POST", "/consents", t, {"number": "12", "granted": True}, role="integration")
    assert status == 422 and body["field"] == "number"
    status, body = api("POST", "/consents", t, {"number": "+12125550101", "granted": True, "at": "2025-01-01T00:00:00"})
    assert status == 422 and body["field"] == "at"
    assert api("POST", "/consents", t, {"number": "+12125550101", "granted": True}, role="agent", agent_id="ana")[0] == 403
    api("POST", "/campaigns/renewals/start", t, role="supervisor")
    deps = dependencies()
    for agent in deps.store.list_agents(t):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    tick = outbound.dial_tick(deps, t, "renewals")
    assert tick.dialed == 0 and tick.blocks == {"consent": 1}


def test_a_preview_record_is_dialed_by_its_agent_through_the_api(tenant, stack):
    t = tenant.id
    assert api("PUT", "/settings/outbound", t, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", t, {**CAMPAIGN, "mode": "preview"})[0] == 201
    daytime = zone_in_hours()
    api("POST", "/campaigns/renewals/lists", t, {"format": "json", "rows": [
        {"row_id": "r1", "phone": daytime.number(1), "time_zone": daytime.zone, "first_name": "Alex"}]})
    api("POST", "/campaigns/renewals/start", t, role="supervisor")
    deps = dependencies()
    for agent in deps.store.list_agents(t):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    assert outbound.dial_tick(deps, t, "renewals").previews == 1
    assert api("GET", "/campaigns/renewals/attempts", t)[1] == []  # offered, not dialed
    # the workflow is not run in this tier: find the record's contact in the table (a test may scan)
    table = function_environment(stack, "serve_api")["CONTACTS_TABLE"]
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    (contact_id,) = [i["contact_id"]["S"] for i in items if i.get("tenant_id", {}).get("S") == t
                     and i.get("initiation_method", {}).get("S") == "OUTBOUND"]
    contact = deps.store.get_contact(t, contact_id)
    assert contact.attributes["first_name"] == "Alex" and contact.initiation_method is InitiationMethod.OUTBOUND
    deps.store.save(contacts=[contact.model_copy(update={"state": ContactState.CONNECTED, "agent_id": "ana",
                                                         "version": contact.version + 1})])
    status, body = api("POST", f"/contacts/{contact_id}/dial", t, {}, role="agent", agent_id="ana")
    assert status == 200 and body["number"] == daytime.number(1) and body["attempt_id"]
    status, body = api("POST", f"/contacts/{contact_id}/dial", t, {}, role="agent", agent_id="ana")
    assert status == 409 and body["field"] == "contact_id"
    (attempt,) = api("GET", "/campaigns/renewals/attempts", t)[1]
    assert attempt["dial_mode"] == "preview" and attempt["contact_id"] == contact_id


def test_a_stop_reply_on_the_inbound_texts_topic_suppresses_the_sender_and_a_bad_message_fails_the_delivery(tenant, env):
    """End User Messaging publishes each text to a tenant's number to the inbound-texts topic; the subscriber
    (receive_texts, its template environment) suppresses a STOP's sender for the tenant the number is registered
    to. A message it cannot read fails the invocation (Lambda's async retries, then the dead-letter queue)."""
    import json

    from tests.lambda_harness import context, load_handler

    admin.register_sms_sender(dependencies(), tenant_id=tenant.id, kind="origination", name="+12125550199")
    env("receive_texts")
    handler = load_handler("receive_texts")

    def sns(*messages: str) -> dict:
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:x",
                             "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": "arn:aws:sns:x",
                                     "Subject": None, "Message": m, "Timestamp": "2026-12-04T10:00:00.000Z",
                                     "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "", "UnsubscribeUrl": "",
                                     "MessageAttributes": {}}} for m in messages]}

    stop = json.dumps({"originationNumber": "+12125550101", "destinationNumber": "+12125550199", "messageKeyword": "K",
                       "messageBody": "STOP", "inboundMessageId": "in-1"})
    assert handler(sns(stop), context("receive_texts")) == {"opted_out": 1}
    env("serve_api")
    hit = dependencies().outbound.match_suppression(tenant.id, "+12125550101", None, None)
    assert hit is not None and hit.source == "sms_stop"
    env("receive_texts")
    with pytest.raises(ValueError):
        handler(sns("{not json"), context("receive_texts"))
