"""The real lambda_handler functions with their template environment, on moto."""
from __future__ import annotations

import json
import uuid
from urllib.parse import urljoin
from datetime import UTC, datetime

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.usecases.metrics import realtime_queue_metrics
from tests.lambda_harness import api, context, kinesis_event, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_api_creates_a_contact_and_starts_its_workflow(tenant, stack):
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "customer_id": "c-1"})
    assert status == 201 and body["state"] == "INITIATED" and body["initiated_at"].endswith("Z")
    status, fetched = api("GET", f"/contacts/{body['contact_id']}", tenant.id)
    assert status == 200 and fetched["contact_id"] == body["contact_id"]
    lifecycle = next(arn for lid, arn in stack.state_machines.items() if lid.startswith("ContactLifecycle"))
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=lifecycle)["executions"]
    assert f"{tenant.id}-{body['contact_id']}"[:80] in {e["name"] for e in executions}


def test_api_rejects_bad_input_naming_the_field(tenant):
    status, body = api("POST", "/contacts", tenant.id, {"channel": "PIGEON", "queue_id": "sales"})
    assert status == 422 and any(d["loc"][-1] == "channel" for d in body["detail"])
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "nowhere"})
    assert status == 422 and body["field"] == "queue_id"
    status, body = api("PUT", "/agents/ana/status", tenant.id, {"status": "dancing"})
    assert status == 422 and any(d["loc"][-1] == "status" for d in body["detail"])


def test_api_scopes_everything_to_the_authorizers_tenant(tenant):
    _, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    status, body = api("GET", f"/contacts/{created['contact_id']}", f"{tenant.id}z")
    assert status == 404 and body["field"] == "contact_id"
    status, _ = api("GET", f"/contacts/{created['contact_id']}", None)
    assert status == 401


def test_openapi_document_lists_the_routes(tenant):
    status, spec = api("GET", "/openapi.json", None)
    assert status == 200 and "/contacts" in spec["paths"] and "/agents/{agent_id}/contacts/{contact_id}/accept" in spec["paths"]


def test_the_openapi_document_is_built_once_and_served_alike(tenant, monkeypatch):
    """Powertools builds the document anew on each call (~0.5-1 s of CPU): the route keeps what it built."""
    from ccaas.api import app as api_app

    built = []
    real = api_app.app.get_openapi_json_schema
    monkeypatch.setattr(api_app.app, "get_openapi_json_schema", lambda **kw: built.append(kw) or real(**kw))
    monkeypatch.setattr(api_app, "_documents", {})
    first = api("GET", "/openapi.json", None)
    second = api("GET", "/openapi.json", None)
    assert first == second and first[0] == 200 and len(built) == 1
    # the Idempotency-Key header is still documented on every POST of the kept document
    assert all(any(p["name"] == "Idempotency-Key" for p in op["parameters"])
               for ops in first[1]["paths"].values() for method, op in ops.items() if method == "post")


def test_authorizer_maps_the_key_to_its_tenant_and_refuses_others(tenant, env):
    env("authorize_request")
    handler = load_handler("authorize_request")
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/contacts/x"
    policy = handler({"type": "TOKEN", "authorizationToken": f"Bearer {tenant.key}", "methodArn": arn}, context())
    assert policy["context"]["tenant_id"] == tenant.id
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    with pytest.raises(Exception, match="Unauthorized"):
        handler({"type": "TOKEN", "authorizationToken": "Bearer ck_nope", "methodArn": arn}, context())


def test_route_contact_step_queues_and_offers_to_an_available_agent(tenant, env):
    api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})
    _, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    env("route_contact")
    result = load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": created["contact_id"], "task_token": "tok"}, context())
    assert result == {"state": "OFFERED", "agent_id": "ana"}
    _, agent = api("GET", "/agents/ana", tenant.id)
    assert agent["offers"] == [created["contact_id"]] and agent["activity"] == "RESERVED"


def test_consumer_reports_a_poison_record_and_applies_its_batch_mates_once(tenant, env, capsys, caplog):
    import logging

    caplog.set_level(logging.INFO)
    env("consume_contact_events")
    now = datetime.now(tz=UTC)
    queued = Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="contact.queued", occurred_at=now,
                   subject="contact/c1", sequence=1, payload={"queue_id": "sales", "channel": "VOICE"})
    event = kinesis_event([queued.model_dump_json().encode(), b"{not json", queued.model_dump_json().encode()])
    handler = load_handler("consume_contact_events")
    response = handler(event, context("consume"))
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}
    handler(event, context("consume"))  # the mapping retries the batch: nothing is counted twice
    view = realtime_queue_metrics(dependencies(), tenant.id, "sales")
    assert view.offered == 1 and view.in_queue == 1 and view.by_channel[0].channel == "VOICE"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    dimensions = {d for doc in emf for m in doc["_aws"]["CloudWatchMetrics"] for dims in m["Dimensions"] for d in dims}
    assert dimensions <= {"tenant", "queue", "service"} and "tenant" in dimensions
    # One document per queue and invocation carries every gauge (not one document per gauge).
    gauges = [doc for doc in emf if "InQueue" in doc]
    assert len(gauges) == 1 and gauges[0]["queue"] == "sales"  # the retried batch applied nothing new
    names = {m["Name"] for m in gauges[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"InQueue", "AgentsAvailable", "AgentsNotReady", "OldestContactAge"} <= names and gauges[0]["InQueue"] == [1.0]
    # The batch's counts are a metric, not an INFO line a batch (log ingestion: bench cost).
    assert [doc["EventsApplied"] for doc in emf if "EventsApplied" in doc][0] in (1, 1.0, [1.0])
    assert "batch applied" not in caplog.messages


def test_the_consumer_reports_each_poison_event_alone_and_applies_the_rest_of_its_batch(tenant, env, caplog):
    """Parseable events its fold or write cannot take (a payload field of the wrong type, a time far ahead, a
    queue the tenant does not have) are batch item failures with a reason, like a record that is not JSON: before,
    each failed the whole invocation (found by putting hostile records on the local runtime's stream)."""
    import logging

    caplog.set_level(logging.WARNING)
    env("consume_contact_events")
    now = datetime.now(tz=UTC)

    def queued(occurred_at=now, **payload):
        return Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="contact.queued", occurred_at=occurred_at,
                     subject=f"contact/{uuid.uuid4().hex}", sequence=1,
                     payload={"queue_id": "sales", "channel": "VOICE", **payload}).model_dump_json().encode()

    poison = [queued(queue_id=5), queued(occurred_at=datetime(9999, 12, 30, tzinfo=UTC)), queued(queue_id="no-such-queue"),
              Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="contact.connected", occurred_at=now,
                    subject="contact/x", sequence=2, payload={"queue_id": "sales", "enqueued_at": 1, "connected_at": "soon"}
                    ).model_dump_json().encode()]
    event = kinesis_event([queued(), *poison, queued()])
    response = load_handler("consume_contact_events")(event, context("consume"))
    assert response == {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"][1:5]]}
    view = realtime_queue_metrics(dependencies(), tenant.id, "sales")
    assert view.offered == 2 and view.day == now.strftime("%Y%m%d")  # today's slot is today's
    reasons = [r.reason for r in caplog.records if r.getMessage() == "event record rejected"]
    assert reasons == ["payload.queue_id must be a string", "occurred_at is more than 5 minutes ahead of now",
                       "payload names a queue its tenant does not have", "payload.connected_at must be epoch milliseconds"]


def test_an_agent_assigned_a_queue_that_does_not_exist_yet_counts_in_the_queues_that_do(tenant, env):
    """PUT /agents accepts a queue before it is made; the agent's status events name it. The consumer counts the
    agent in the queues that exist (before, reading the unknown queue for its gauges failed the whole batch)."""
    assert api("PUT", "/agents/ana", tenant.id, {"name": "Ana", "queues": [{"queue_id": "sales"}, {"queue_id": "later"}]})[0] == 200
    env("consume_contact_events")
    now = datetime.now(tz=UTC)
    status = Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="agent.status_changed", occurred_at=now,
                   subject="agent/ana", sequence=7, payload={"agent_id": "ana", "queue_ids": ["sales", "later"],
                                                            "previous_activity": "OFFLINE", "activity": "AVAILABLE"})
    event = kinesis_event([status.model_dump_json().encode()])
    assert load_handler("consume_contact_events")(event, context("consume")) == {"batchItemFailures": []}
    view = realtime_queue_metrics(dependencies(), tenant.id, "sales")
    assert (view.agents_staffed, view.agents_available) == (1, 1)


def test_agents_list_shows_activity_since_and_handled_today(tenant):
    api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})
    status, listed = api("GET", "/agents", tenant.id)
    assert status == 200 and [a["agent_id"] for a in listed] == ["ana"]
    assert listed[0]["activity"] == "AVAILABLE" and listed[0]["activity_since"].endswith("Z")
    assert listed[0]["handled_today"] == 0


def test_every_agent_view_counts_handled_today_in_the_tenants_today(tenant):
    """A count stored on a past day is not today's on any route that shows an agent (only GET /agents
    compared the stored day with today; the others showed the past day's count)."""
    from ccaas.domain.models import Agent, QueueAssignment
    from ccaas.usecases import admin

    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="bo", name="Bo", handled_day="20201101",
                                          handled_today=7, queues=(QueueAssignment(queue_id="sales"),)))
    assert {a["agent_id"]: a["handled_today"] for a in api("GET", "/agents", tenant.id)[1]}["bo"] == 0
    assert api("GET", "/agents/bo", tenant.id)[1]["handled_today"] == 0
    status, body = api("PUT", "/agents/bo/status", tenant.id, {"status": "AVAILABLE"}, role="supervisor")
    assert status == 200 and body["handled_today"] == 0
    status, body = api("PUT", "/agents/bo", tenant.id, {"name": "Bo", "queues": [{"queue_id": "sales"}]})
    assert status == 200 and body["handled_today"] == 0


def test_agents_and_queues_come_in_pages_that_fit_the_response(tenant):
    """A large tenant's GET /agents (360 agents at the largest profile) was over Lambda's 6 MB answer: a 502 on every
    read. The list comes in id order, in pages of at most `limit` and ~4 MB, a Link header naming the next."""
    from tests.lambda_harness import api_response

    for queue_id in ("q-a", "q-b", "q-c"):
        assert api("PUT", f"/queues/{queue_id}", tenant.id, {"name": queue_id})[0] == 200
    status, first, headers = api_response("GET", "/queues", tenant.id, query={"limit": "2"})
    assert status == 200 and len(first) == 2 and "Link" in headers, headers
    link = headers["Link"][0]
    assert link.startswith(f"</v1/queues?after={first[1]['queue_id']}&limit=2>") and link.endswith('rel="next"')
    # the requested path (requestContext.path), so it keeps the stage the API is served under
    assert urljoin("https://api.example.com/v1/queues/?limit=2", link[1:link.index(">")]).startswith(
        "https://api.example.com/v1/queues?after=")
    status, rest, headers = api_response("GET", "/queues", tenant.id, query={"after": first[1]["queue_id"], "limit": "2"})
    everyone = [q["queue_id"] for q in api("GET", "/queues", tenant.id)[1]]
    assert [q["queue_id"] for q in first + rest] == sorted(everyone)
    assert api("PUT", "/agents/zed", tenant.id, {"name": "Zed"})[0] == 200
    status, agents_page, headers = api_response("GET", "/agents", tenant.id, query={"limit": "1"})
    assert status == 200 and len(agents_page) == 1 and "Link" in headers


def test_a_page_holds_what_fits_and_at_least_one_item():
    from ccaas.domain.paging import PAGE_BYTES, fitting_page

    big = ["語" * (PAGE_BYTES // 20)] * 5  # each "\\u8a9e" in the envelope: 7 bytes a character, ~0.35 of a page
    assert len(fitting_page(big, 100, lambda text: text)) == 2
    assert fitting_page(["x" * (PAGE_BYTES * 2)], 10, lambda text: text) == ["x" * (PAGE_BYTES * 2)]
    assert fitting_page(list(range(10)), 3, lambda n: n) == [0, 1, 2]
