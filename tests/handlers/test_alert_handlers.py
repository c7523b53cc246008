"""The alert handlers with their template environment, on moto: the stream consumer (poison record,
redelivery, a failing tenant), the minute sweep, and the alert/transcript API routes."""
from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.alerts import EVENT_SOURCE
from ccaas.domain.events import Event
from ccaas.domain.models import Channel, Contact, ContactState
from ccaas.usecases import admin
from tests.aws_stack import function_environment
from tests.lambda_harness import api, connected_contact, context, kinesis_event, load_handler, load_module

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def bus(stack):
    """What reaches the alerts bus: a test-only rule with an SQS target (the stack has no rules)."""
    name = function_environment(stack, "serve_api")["ALERTS_BUS_NAME"]
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"bus-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"test-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule=rule, EventBusName=name, Targets=[{"Id": "q", "Arn": arn}])

    def received(tenant_id: str) -> list[dict]:
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            out += [json.loads(m["Body"]) for m in got]
            sqs.delete_message_batch(QueueUrl=queue, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in got])
        return [b for b in out if b["detail"]["tenant_id"] == tenant_id]

    yield received
    events.remove_targets(Rule=rule, EventBusName=name, Ids=["q"])
    events.delete_rule(Name=rule, EventBusName=name)


def _old_queued_contact(tenant_id: str, waited_s: int) -> Contact:
    now = int(time.time() * 1000)
    contact = Contact(
        tenant_id=tenant_id, contact_id=str(uuid.uuid4()), channel=Channel.VOICE, queue_id="sales",
        state=ContactState.QUEUED, initiated_at=now - waited_s * 1000, enqueued_at=now - waited_s * 1000,
    )  # fmt: skip
    dependencies().store.save(contacts=[contact])
    return contact


def _backdate_status(tenant_id: str, agent_id: str, by_s: int) -> None:
    """The agent's current status as if set `by_s` seconds earlier (a new version, as the API writes it)."""
    store = dependencies().store
    agent = store.get_agent(tenant_id, agent_id)
    store.save(agents=[agent.model_copy(update={"status_since": agent.status_since - by_s * 1000, "version": agent.version + 1})])


def _queued_event(contact: Contact) -> bytes:
    return Event(
        event_id=uuid.uuid4().hex, tenant_id=contact.tenant_id, type="contact.queued", occurred_at="2026-11-25T10:00:00Z",
        subject=f"contact/{contact.contact_id}", sequence=1,
        payload={"contact_id": contact.contact_id, "queue_id": "sales", "channel": "VOICE", "enqueued_at": contact.enqueued_at},
    ).model_dump_json().encode()  # fmt: skip


# --- the stream consumer -----------------------------------------------------------------------------


def test_consumer_reports_a_poison_record_opens_one_alert_and_publishes_it_once(tenant, env, bus, capsys, caplog):
    import logging

    caplog.set_level(logging.INFO)
    contact = _old_queued_contact(tenant.id, waited_s=300)
    env("evaluate_alerts")
    # not JSON, and an event whose ids are not text (they key the batch's sets: it raised for the whole batch)
    unhashable = json.loads(_queued_event(contact))
    unhashable["payload"]["queue_id"] = {"a": 1}
    event = kinesis_event([_queued_event(contact), b"{not json", json.dumps(unhashable).encode(), _queued_event(contact)])
    handler = load_handler("evaluate_alerts")
    capsys.readouterr(), caplog.clear()
    response = handler(event, context("evaluate_alerts"))
    assert response == {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"][1:3]]}
    assert "batch evaluated" in caplog.messages
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert emf["AlertsOpened"] in (1, 1.0, [1.0]) and "AlertsResolved" not in emf, emf
    caplog.clear()
    handler(event, context("evaluate_alerts"))  # the mapping redelivers: nothing new, so no line and no document of zeros
    assert "batch evaluated" not in caplog.messages
    assert not [line for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    env("serve_api")
    status, listed = api("GET", "/alerts", tenant.id, query={"status": "open"})
    assert status == 200 and [(a["rule"], a["subject"]) for a in listed] == [("long_wait", "queue/sales")]
    assert listed[0]["details"]["contact_id"] == contact.contact_id and listed[0]["details"]["oldest_wait_s"] >= 300
    published = bus(tenant.id)
    assert [(b["detail-type"], b["detail"]["alert_id"]) for b in published] == [("Alert Opened", listed[0]["alert_id"])]


def test_consumer_fails_only_the_records_of_a_tenant_whose_evaluation_failed(tenant, env):
    other = f"{tenant.id}b"
    admin.register_tenant(dependencies(), tenant_id=other, name="Other")
    mine, theirs = _old_queued_contact(tenant.id, 10), _old_queued_contact(other, 10)
    env("evaluate_alerts")
    module = load_module("evaluate_alerts")
    real = module.evaluate_touched
    seen = []

    def flaky(deps, tenant_id, touched):
        seen.append(tenant_id)
        if tenant_id == other:
            raise RuntimeError("DynamoDB throttled (test)")
        return real(deps, tenant_id, touched)

    module.evaluate_touched = flaky
    event = kinesis_event([_queued_event(mine), _queued_event(theirs)])
    response = module.lambda_handler(event, context("evaluate_alerts"))
    assert sorted(seen) == sorted([tenant.id, other])
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}


# --- the sweep ---------------------------------------------------------------------------------------


def test_sweep_fires_time_based_rules_without_any_event(tenant, env, bus):
    api("PUT", "/alerts/rules", tenant.id, {"long_wait": {"threshold_s": 60}, "agent_not_ready": {"threshold_s": 1}})
    _old_queued_contact(tenant.id, waited_s=90)
    status, _ = api("PUT", "/agents/ana/status", tenant.id, {"status": "BREAK"})
    assert status == 200
    _backdate_status(tenant.id, "ana", by_s=5)  # on her break for longer than the 1-s threshold, not waited for
    env("sweep_alerts")
    scheduled = {"source": "ccaas.schedule", "schedule": "sweep_alerts", "scheduled_time": "2026-11-25T10:00:00Z"}
    summary = load_handler("sweep_alerts")(scheduled, context("sweep_alerts"))
    assert summary["tenants"] >= 1 and summary["opened"] >= 2
    env("serve_api")
    _, listed = api("GET", "/alerts", tenant.id)
    assert sorted((a["rule"], a["subject"]) for a in listed) == [("agent_not_ready", "agent/ana"), ("long_wait", "queue/sales")]
    assert {b["detail"]["rule"] for b in bus(tenant.id)} == {"agent_not_ready", "long_wait"}
    env("sweep_alerts")
    load_handler("sweep_alerts")(scheduled, context("sweep_alerts"))
    assert bus(tenant.id) == []  # nothing new: the same two alerts stay open


# --- the API -----------------------------------------------------------------------------------------


def test_api_lists_acknowledges_and_resolves(tenant, env, bus):
    _old_queued_contact(tenant.id, waited_s=600)
    env("sweep_alerts")
    load_handler("sweep_alerts")({}, context("sweep_alerts"))
    env("serve_api")
    _, (alert,) = api("GET", "/alerts", tenant.id)
    alert_id = alert["alert_id"]
    status, acked = api("POST", f"/alerts/{alert_id}/acknowledge", tenant.id)
    assert status == 200 and acked["status"] == "ACKNOWLEDGED" and acked["acknowledged_at"].endswith("Z")
    assert api("POST", f"/alerts/{alert_id}/acknowledge", tenant.id)[1]["acknowledged_at"] == acked["acknowledged_at"]
    assert api("GET", "/alerts", tenant.id, query={"status": "unacknowledged"}) == (200, [])
    assert [a["alert_id"] for a in api("GET", "/alerts", tenant.id, query={"status": "acknowledged"})[1]] == [alert_id]
    assert api("GET", f"/alerts/{alert_id}", f"{tenant.id}z")[0] == 404  # another tenant's
    assert api("POST", f"/alerts/{alert_id}/acknowledge", f"{tenant.id}z")[0] == 404
    status, done = api("POST", f"/alerts/{alert_id}/resolve", tenant.id)
    assert status == 200 and (done["status"], done["resolution"]) == ("RESOLVED", "manual")
    status, body = api("POST", f"/alerts/{alert_id}/acknowledge", tenant.id)
    assert status == 409 and body["field"] == "alert_id"
    assert api("GET", "/alerts", tenant.id) == (200, [])
    assert [a["alert_id"] for a in api("GET", "/alerts", tenant.id, query={"status": "resolved"})[1]] == [alert_id]
    status, body = api("GET", "/alerts", tenant.id, query={"status": "closed"})
    assert status == 422 and body["detail"][0]["loc"][-1] == "status"
    assert [b["detail-type"] for b in bus(tenant.id)] == ["Alert Opened", "Alert Acknowledged", "Alert Acknowledged", "Alert Resolved"]


def test_api_pages_resolved_alerts_with_a_link_that_keeps_the_status(tenant, env):
    from ccaas.domain.alerts import Alert, Resolution
    from tests.lambda_harness import api_response

    store, now = dependencies().alerts, int(time.time() * 1000)
    for n in range(3):
        alert = Alert(tenant_id=tenant.id, alert_id=f"{now + n:013d}-{n:012d}", rule="queue_depth", subject=f"queue/q{n}",
                      severity="WARNING", message="m", opened_at=now + n)
        store.open(alert)
        store.resolve(alert.resolved(now + 10, Resolution.MANUAL))
    store.open(Alert(tenant_id=tenant.id, alert_id=f"{now + 9:013d}-{9:012d}", rule="long_wait", subject="queue/q9",
                     severity="WARNING", message="m", opened_at=now + 9))  # newer, open
    env("serve_api")
    status, page, headers = api_response("GET", "/alerts", tenant.id, query={"status": "resolved", "limit": "2"})
    assert status == 200 and [(a["alert_id"][-1], a["status"], a["sequence"]) for a in page] == [("2", "RESOLVED", 3), ("1", "RESOLVED", 3)]
    assert headers["Link"] == [f'</v1/alerts?status=resolved&after={page[-1]["alert_id"]}&limit=2>; rel="next"']
    status, rest, headers = api_response("GET", "/alerts", tenant.id, query={"status": "resolved", "after": page[-1]["alert_id"], "limit": "2"})
    assert status == 200 and [a["alert_id"][-1] for a in rest] == ["0"] and "Link" not in headers
    status, body = api("GET", "/alerts", tenant.id, query={"status": "resolved", "after": "no/slash"})
    assert status == 422 and body["detail"][0]["loc"][-1] == "after"


def test_api_rules_round_trip_and_validate(tenant, env):
    assert api("GET", "/alerts/rules", tenant.id)[1]["long_wait"]["threshold_s"] == 120  # defaults
    status, body = api("PUT", "/alerts/rules", tenant.id, {"queue_depth": {"threshold": 5, "clear_below": 9}})
    assert status == 422
    status, body = api("PUT", "/alerts/rules", tenant.id, {"escalation_phrase": {"phrases": ["chargeback"]}})
    assert status == 200 and body["escalation_phrase"]["phrases"] == ["chargeback"]
    assert api("GET", "/alerts/rules", tenant.id)[1]["escalation_phrase"]["phrases"] == ["chargeback"]
    assert api("GET", "/alerts/rules", f"{tenant.id}z")[1]["escalation_phrase"]["phrases"] != ["chargeback"]
    _, spec = api("GET", "/openapi.json", None)
    assert {"/alerts", "/alerts/rules", "/alerts/{alert_id}/acknowledge", "/contacts/{contact_id}/transcript/live"} <= set(spec["paths"])


def test_live_transcript_is_redacted_scored_and_alerts(tenant, env, capsys):
    cid = connected_contact(tenant, env)
    card = "4111 1111 1111 1111"
    segments = [
        {"speaker": "AGENT", "begin_ms": 0, "end_ms": 2000, "text": "Thanks for calling, how can I help?"},
        {"speaker": "CUSTOMER", "begin_ms": 2500, "end_ms": 6000, "text": f"you charged my card {card} twice, I'll call my lawyer"},
    ]
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": segments})
    assert status == 200, body
    assert body["accepted"] == 2 and body["redactions"] == {"CARD": 1}
    assert card not in json.dumps(body) and "[CARD]" in body["segments"][1]["text"]
    assert [a["rule"] for a in body["opened"]] == ["escalation_phrase"] and body["opened"][0]["contact_id"] == cid
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": [{**segments[0], "begin_ms": 40_000, "end_ms": 41_000}]})
    assert [a["rule"] for a in body["opened"]] == ["silence"]  # 34 s after the customer stopped
    assert card not in capsys.readouterr().out  # nor in any log line
    assert api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": []})[0] == 422
    # ana's desktop may post her own speech, never the customer's: calm customer words from it would close the
    # sentiment alert a supervisor acts on, and an escalation phrase would open one
    calm = {"speaker": "CUSTOMER", "begin_ms": 42_000, "end_ms": 43_000, "text": "wonderful, thank you so much"}
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": [segments[0], calm]},
                       role="agent", agent_id="ana")
    assert status == 403 and "speaker AGENT" in body["message"], body
    own = {**segments[0], "begin_ms": 44_000, "end_ms": 45_000}
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": [own]}, role="agent", agent_id="ana")
    assert status == 200 and body["accepted"] == 1, body
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": [{"speaker": "CUSTOMER", "begin_ms": 5, "end_ms": 1, "text": card}]})
    assert status == 422 and card not in json.dumps(body)
    api("POST", f"/agents/ana/contacts/{cid}/complete", tenant.id)
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id, {"segments": segments})
    assert status == 409 and body["field"] == "contact_id"
