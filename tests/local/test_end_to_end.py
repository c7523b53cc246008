"""The whole local backend: one contact over HTTP from creation to COMPLETED, seen by the live
metrics (through Kinesis and the stream consumer), and invisible to another tenant."""
from __future__ import annotations

import json

import pytest

from local.simulation import ApiClient
from local.testing import api, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]


def test_runtime_surface(runtime) -> None:
    assert runtime.api_url.startswith("http://127.0.0.1:") and runtime.api_url.endswith("/v1")
    assert set(runtime.api_keys) >= {"demo", "acme"} and runtime.api_keys["demo"] != runtime.api_keys["acme"]
    assert runtime.moto_endpoint.startswith("http://127.0.0.1:")
    assert runtime.timings.ready_s > 0


def test_each_seeded_key_acts_in_its_role_through_the_gateway(runtime) -> None:
    assert set(runtime.role_keys["demo"]) >= {"admin", "supervisor", "integration", "agent:ana", "agent:ben"}
    ana, ben = api(runtime, "demo", agent_id="ana"), api(runtime, "demo", agent_id="ben")
    assert ana.call("GET", "/agents/ana")[0] == 200
    status, body = ana.call("PUT", "/agents/ben/status", {"status": "AVAILABLE"})
    assert status == 403 and body["error"] == "forbidden", body
    assert ben.call("GET", "/agents")[0] == 403 and ana.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})[0] == 403
    status, body = api(runtime, "demo", "integration").call("PUT", "/routing/policy", {})
    assert status == 403 and "needs role admin" in body["message"]
    assert api(runtime, "demo", "supervisor").call("GET", "/metrics/realtime")[0] == 200
    # a key issued and revoked through the API stops at the gateway (a new secret: nothing cached yet)
    admin = api(runtime, "demo", "admin")
    status, issued = admin.call("POST", "/keys", {"role": "supervisor", "name": "revoked at once"})
    assert status == 201, issued
    status, _ = admin.call("POST", f"/keys/{issued['key_id']}/revoke")
    assert status == 200
    assert ApiClient(runtime.api_url, issued["api_key"]).call("GET", "/queues")[0] == 401


def test_one_contact_end_to_end(runtime) -> None:
    demo, acme = api(runtime, "demo"), api(runtime, "acme")
    status, agent = demo.call("PUT", "/agents/ana/status", {"status": "AVAILABLE"})
    assert status == 200 and agent["status"] == "AVAILABLE", agent

    status, contact = demo.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})
    assert status == 201, contact
    cid = contact["contact_id"]
    wait_until(lambda: cid in (demo.call("GET", "/agents/ana")[1].get("offers") or []), what="the offer to ana")

    for step, state in (("accept", "CONNECTED"), ("complete", "ACW"), ("end-acw", "COMPLETED")):
        status, body = demo.call("POST", f"/agents/ana/contacts/{cid}/{step}")
        assert status == 200 and body["state"] == state, (step, body)

    status, got = demo.call("GET", f"/contacts/{cid}")
    assert status == 200 and got["state"] == "COMPLETED" and got["agent_id"] == "ana"
    for field in ("initiated_at", "enqueued_at", "connected_at", "disconnected_at"):
        assert got[field] and got[field].endswith("Z"), field
    assert got["enqueued_at"] <= got["connected_at"] <= got["disconnected_at"]

    # live metrics: Kinesis -> local poller -> consume_contact_events -> MetricsTable -> API
    metrics = wait_until(
        lambda: (lambda s, m: m if s == 200 and m["answered"] >= 1 and m["completed"] >= 1 else None)(
            *demo.call("GET", "/queues/sales/metrics/realtime")
        ),
        timeout_s=10,
        what="answered >= 1 in the sales queue's live metrics",
    )
    assert metrics["offered"] >= 1 and metrics["queue_id"] == "sales"

    # tenant isolation: acme's key cannot see demo's contact; a bad key is rejected at the gateway
    status, body = acme.call("GET", f"/contacts/{cid}")
    assert status == 404, body
    status, body = ApiClient(runtime.api_url, "ck_nope").call("GET", f"/contacts/{cid}")
    assert status == 401 and body == {"error": "unauthorized", "message": "Unauthorized"}  # the API's gateway response

    # the runtime counted what the handlers paid for
    per = runtime.calls_per_completed(1)
    assert per["lifecycle_calls_per_contact"] > 0
    assert any(op.startswith("dynamodb.") for op in per["lifecycle_calls_by_operation"])
    assert any(op.startswith("stepfunctions.") for op in per["lifecycle_calls_by_operation"])


def test_static_and_public_docs(runtime) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(runtime.api_url + "/openapi.json", timeout=30) as resp:  # no key: public route
        doc = json.loads(resp.read())
    assert "/contacts" in doc.get("paths", {})


def test_concurrent_requests_of_two_tenants_never_cross(runtime) -> None:
    """The API handler runs in several execution environments at once; its resolver's per-request state
    (current_event -> the authorizer's tenant) must never leak between concurrent requests."""
    from concurrent.futures import ThreadPoolExecutor

    clients = {t: api(runtime, t) for t in ("demo", "acme")}
    queue = {"demo": "sales", "acme": "support"}
    own: dict[str, str] = {}
    for tenant, client in clients.items():
        status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": queue[tenant]})
        assert status == 201, contact
        own[tenant] = contact["contact_id"]

    def probe(i: int) -> tuple[str, str, int, object]:
        tenant = ("demo", "acme")[i % 2]
        target = own[tenant] if i % 4 < 2 else own["acme" if tenant == "demo" else "demo"]
        status, body = clients[tenant].call("GET", f"/contacts/{target}")
        return tenant, target, status, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(probe, range(48)))
    for tenant, target, status, body in results:
        if target == own[tenant]:
            assert status == 200 and body["contact_id"] == target, (tenant, status, body)
        else:
            assert status == 404, f"{tenant} saw another tenant's contact: {status} {body}"


def test_a_poison_record_is_kept_with_its_data_and_redriven_once_readable(runtime) -> None:
    """On the real stream, mapping and consumer: a record nobody can read is reported as a batch item failure,
    retried (bounded) and kept in the stream's failure bucket *with the record itself* (an SQS destination kept
    a pointer into a stream that trims it after 24 h), announced on the alarmed DLQ; the valid event put beside
    it (same shard, same batch) is applied once. The admin tool's redrive hands a batch that fails again back
    to the bucket (and its notice to the DLQ); once the record is readable it is applied and both are gone."""
    import base64
    import io
    import uuid
    from datetime import UTC, datetime

    from ccaas.domain.events import Event
    from infra import admin

    consumer = runtime.deployment.function_by_folder("consume_contact_events")
    (mapping,) = [m for m in runtime.deployment.event_source_mappings if m.function_name in (consumer.name, consumer.arn)]
    stream_name = next(name for name, arn in runtime.deployment.streams.values() if arn == mapping.event_source_arn)
    assert mapping.on_failure_destination.startswith("arn:aws:s3:::")
    bucket = mapping.on_failure_destination.removeprefix("arn:aws:s3:::")
    (dlq_url,) = [url for lid, (url, _) in runtime.deployment.queues.items() if lid.startswith("EventsContactEventsDlq")]
    acme = api(runtime, "acme")
    offered = lambda: acme.call("GET", "/queues/support/metrics/realtime")[1]["offered"]  # noqa: E731
    before = offered()

    def queued_event() -> Event:
        contact_id = uuid.uuid4().hex
        return Event(event_id=uuid.uuid4().hex, tenant_id="acme", type="contact.queued", occurred_at=datetime.now(tz=UTC),
                     subject=f"contact/{contact_id}", sequence=1, payload={"queue_id": "support", "channel": "CHAT"})

    mate = queued_event()
    key = f"acme#{mate.subject}"
    poison = b'{"version": "1", "type": "contact.queued", "tenant_id"'  # cut short
    put = runtime.client("kinesis").put_records(StreamName=stream_name, Records=[
        {"Data": poison, "PartitionKey": key}, {"Data": mate.model_dump_json().encode(), "PartitionKey": key},
    ])
    poison_sequence = put["Records"][0]["SequenceNumber"]
    # Every consumer delivers the two now, retries and keeps them (the alert evaluator and the activity recorder
    # would gather for 5 s first, their pollers reading the shard every 50 ms): the waits below still decide.
    runtime.wait_for_stream_idle(timeout_s=30, flush=True)
    s3, sqs = runtime.client("s3"), runtime.client("sqs")

    def kept(of: str = consumer.name) -> dict[str, dict]:  # one consumer's kept batches (push_updates fails it too)
        found = {}
        for item in s3.list_objects_v2(Bucket=bucket, Prefix="aws/lambda/").get("Contents", []):
            body = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            if body["requestContext"]["functionArn"].endswith(of):
                found[item["Key"]] = body
        return found

    ((object_key, body),) = wait_until(lambda: list(kept().items()), timeout_s=30, interval_s=0.2,
                                       what="the poison batch in the failure bucket")
    assert object_key.startswith(f"aws/lambda/{mapping.uuid}/")
    info = body["KinesisBatchInfo"]
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["startSequenceNumber"] == poison_sequence and info["streamArn"] == mapping.event_source_arn
    assert body["requestContext"]["approximateInvokeCount"] == mapping.maximum_retry_attempts + 1
    # the records themselves, as the function was invoked with them: from the failed one on (its batch-mate too)
    records = body["payload"]["Records"]
    assert [base64.b64decode(r["kinesis"]["data"]) for r in records] == [poison, mate.model_dump_json().encode()]

    def notices() -> list[str]:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        return [json.loads(m["Body"])["detail"]["object"]["key"] for m in messages]

    wait_until(lambda: object_key in notices(), timeout_s=10, what="the DLQ's notice")
    wait_until(lambda: offered() == before + 1, timeout_s=10, what="the batch-mate applied")
    assert offered() == before + 1  # redelivered with every retry of the batch: counted once

    def redrive() -> tuple[int, dict]:
        out = io.StringIO()
        code = admin.main(["--endpoint", runtime.moto_endpoint, "--json", "redrive-stream-failures",
                           "--stream", "ContactEvents"], out=out, err=io.StringIO())
        return code, json.loads(out.getvalue())["ContactEvents"]

    # Every consumer of the stream fails the record and keeps its batch here, each in its own time (without the
    # flush above, the alert evaluator and the activity recorder gather for 5 s first): the redrive runs once all
    # are kept (it ran before the two slower ones had theirs, unless the machine was slow: then it found two more
    # than it expected).
    pusher = runtime.deployment.function_by_folder("push_updates").name
    consumers = {runtime.deployment.function_by_name_or_arn(m.function_name).name
                 for m in runtime.deployment.event_source_mappings
                 if m.event_source_arn == mapping.event_source_arn and m.on_failure_destination == mapping.on_failure_destination}
    assert {consumer.name, pusher} < consumers

    def every_consumer_kept() -> dict[str, list[str]] | None:
        found = {name: list(kept(name)) for name in consumers}
        return found if all(found.values()) else None

    by_consumer = wait_until(every_consumer_kept, timeout_s=60, interval_s=0.2, what="every consumer's kept batch")
    assert all(len(keys) == 1 for keys in by_consumer.values()), by_consumer
    (push_key,) = by_consumer.pop(pusher)
    still_failing = {keys[0] for keys in by_consumer.values()}
    assert object_key in still_failing
    code, done = redrive()  # still unreadable: kept, and so are their notices; push frames of then are dropped
    assert code == 1 and set(done["kept"]) == still_failing and done["handed_back"] == []
    assert list(done["discarded"]) == [push_key] and kept(pusher) == {}
    assert list(kept()) == [object_key] and object_key in notices()

    # The cause fixed: the record now reads (here: replaced in each kept batch; each put announces it again)
    readable = queued_event().model_dump_json().encode()
    records_kept = 0
    for key in still_failing:
        kept_body = body if key == object_key else json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        batch = kept_body["payload"]["Records"]
        assert base64.b64decode(batch[0]["kinesis"]["data"]) == poison  # each kept batch begins at the failed record
        batch[0]["kinesis"]["data"] = base64.b64encode(readable).decode()
        records_kept += len(batch)
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(kept_body).encode())
    code, done = redrive()
    assert set(done["handed_back"]) == still_failing and done["records"] == records_kept
    assert done["notices_deleted"] == 2 * len(still_failing)  # each batch's notice and the one its fix sent
    assert code == 0 and done["kept"] == {}
    assert kept() == {} and object_key not in notices()
    # handed to the consumer it failed in, which skipped it: live metrics count what happens now (records at or
    # below the shard's watermark are not applied again; infra/stream_failures.py); the batch-mate, counted once
    assert offered() == before + 1


def test_the_connect_flow_lambda_answers_a_flow_through_the_invoke_api(runtime) -> None:
    """`python -m local.flow` plays Amazon Connect: the demo instance's flow event through Lambda Invoke."""
    import io

    from local import flow

    def ask(*args: str) -> tuple[int, dict]:
        out = io.StringIO()
        code = flow.main(["--endpoint", runtime.moto_endpoint, *args], out=out)
        return code, json.loads(out.getvalue())

    code, identified = ask("identify")
    assert code == 0 and identified["found"] == "true" and identified["tier"] == "gold"
    assert identified["lookup_by"] == "phone" and identified["customer_id"] == "cust-gold"
    code, routed = ask("route", "queue_id=sales")
    assert code == 0 and routed["outcome"] == "queue" and routed["segment"] == "gold" and int(routed["priority"]) <= 3
    assert json.loads(routed["routing_criteria"])["Steps"]
    assert ask("route")[1]["queue_id"] == "sales"  # the contact's Queue names it
    code, failed = ask("log_event")
    assert code == 1 and failed["status"] == "error" and failed["error_code"] == "missing_parameter"


def test_an_event_python_cannot_decode_is_the_runtime_s_unmarshal_error_not_a_500(runtime) -> None:
    """A flow event with an integer of 5,000 digits (over Python's int-conversion limit): AWS's Python runtime
    answers a function error, Runtime.UnmarshalError; the local Invoke API did answer HTTP 500."""
    import boto3
    from botocore.config import Config

    from local.flow import function_name

    lam = boto3.client("lambda", endpoint_url=runtime.moto_endpoint, region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}))
    raw = b'{"Details": {"Parameters": {"action": "identify", "phone": ' + b"1" * 5000 + b"}}}"
    answer = lam.invoke(FunctionName=function_name(lam), Payload=raw)
    error = json.loads(answer["Payload"].read())
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.UnmarshalError" and "4300" in error["errorMessage"]
