"""Journey ports (ccaas.ports_journeys): one suite, in memory and on (moto) AWS — the results store in the
Metrics table (last 20 per journey, TTL), the alarm per journey (put_metric_alarm / delete_alarms) — and a
synthetic contact's stored item carrying the Contacts table's TTL while a real contact's does not."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest

from ccaas.adapters.aws.dynamodb import DynamoStateStore, contact_key
from ccaas.adapters.aws.journeys import RESULTS_TTL_S, CloudWatchJourneyAlarms, DynamoJourneyResults
from ccaas.adapters.memory.journeys import MemoryJourneyAlarms
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.journeys import KEEP_RUNS, JourneyRun, StepTiming
from ccaas.domain.models import Channel, Contact, ContactState
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, SYNTHETIC_TTL_S
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
PREFIX = "ccaas-test-journey-"


@pytest.fixture(params=["memory", "moto"])
def results(request, stack):
    if request.param == "memory":
        return memory_dependencies().journey_results
    return DynamoJourneyResults(boto3.client("dynamodb"), function_environment(stack, "run_journeys")["METRICS_TABLE"])


@pytest.fixture(params=["memory", "moto"])
def alarms(request, stack):
    if request.param == "memory":
        return MemoryJourneyAlarms(PREFIX, "Ccaas")
    return CloudWatchJourneyAlarms(lambda: boto3.client("cloudwatch"), PREFIX, "Ccaas")


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _run(tenant: str, journey: str, at: int, passed: bool = True) -> JourneyRun:
    return JourneyRun(tenant_id=tenant, journey=journey, at=at, passed=passed, total_ms=at % 1000 + 0.5,
                      failed_step=None if passed else "steps[1] route", failure=None if passed else "queue_id: x",
                      steps=(StepTiming(index=0, name="hours", action="hours", kind="flow", latency_ms=3.5, passed=True),
                             StepTiming(index=1, name="route", action="route", kind="flow", latency_ms=4.25,
                                        passed=passed, failures=() if passed else ("queue_id: expected 'a'",))))


def test_the_latest_run_of_each_journey(results, tenant):
    assert results.latest(tenant) == []
    t0 = 1_764_000_000_000
    results.record(_run(tenant, "a", t0, passed=False))
    results.record(_run(tenant, "ab", t0 + 1))
    results.record(_run(tenant, "a", t0 + 300_000))
    latest = sorted(results.latest(tenant), key=lambda r: r.journey)
    assert [(r.journey, r.at, r.passed) for r in latest] == [("a", t0 + 300_000, True), ("ab", t0 + 1, True)]
    assert results.latest(f"{tenant}x") == []  # tenant first


def test_the_last_20_runs_newest_first_with_their_steps(results, tenant):
    t0 = 1_764_000_000_000
    for i in range(KEEP_RUNS + 3):
        results.record(_run(tenant, "a", t0 + i * 300_000, passed=i % 3 != 0))
    results.record(_run(tenant, "ab", t0))  # a journey whose name starts like another's stays apart
    runs = results.recent(tenant, "a", KEEP_RUNS)
    assert [r.at for r in runs] == [t0 + i * 300_000 for i in range(KEEP_RUNS + 2, 2, -1)]
    assert runs[0] == _run(tenant, "a", t0 + (KEEP_RUNS + 2) * 300_000, passed=(KEEP_RUNS + 2) % 3 != 0)
    assert runs[-1].steps[1].latency_ms == 4.25
    assert [r.at for r in results.recent(tenant, "a", 3)] == [r.at for r in runs[:3]]
    assert [r.journey for r in results.recent(tenant, "ab")] == ["ab"]
    assert results.recent(tenant, "nope") == []


def test_the_stored_items_expire(stack, tenant):
    table = function_environment(stack, "run_journeys")["METRICS_TABLE"]
    db = boto3.client("dynamodb")
    store = DynamoJourneyResults(db, table)
    at = 1_764_000_000_000
    store.record(_run(tenant, "a", at))
    items = db.query(TableName=table, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": f"{tenant}#JOURNEYS"}})["Items"]
    assert sorted(i["sk"]["S"] for i in items) == ["LATEST#a", "RUN#a#01"]
    assert {i["expires_at"]["N"] for i in items} == {str(at // 1000 + RESULTS_TTL_S)}
    ttl = db.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def _names(alarms, tenant):
    if isinstance(alarms, MemoryJourneyAlarms):
        return sorted(n for n in alarms.alarms if n.startswith(f"{PREFIX}{tenant}/"))
    found = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{PREFIX}{tenant}/")["MetricAlarms"]
    return sorted(a["AlarmName"] for a in found)


def test_an_alarm_per_journey_is_put_and_deleted(alarms, tenant):
    assert alarms.put(tenant, ["ivr-sales", "sales-call"]) == [f"{PREFIX}{tenant}/ivr-sales", f"{PREFIX}{tenant}/sales-call"]
    assert _names(alarms, tenant) == [f"{PREFIX}{tenant}/ivr-sales", f"{PREFIX}{tenant}/sales-call"]
    alarms.put(tenant, ["ivr-sales"])  # again: updated in place
    assert len(_names(alarms, tenant)) == 2
    alarms.delete(tenant, ["ivr-sales", "never-made"])  # an alarm that does not exist is no error
    assert _names(alarms, tenant) == [f"{PREFIX}{tenant}/sales-call"]


def test_the_alarmed_journeys_are_listed_by_the_tenants_prefix_only(alarms, tenant):
    """What a suite change reconciles against: this tenant's journeys with an alarm, another tenant's (whose id this
    one's starts with) and other alarms never; over 100 (CloudWatch pages describe_alarms) all of them."""
    alarms.put(f"{tenant}x", ["theirs"])
    many = [f"j{i:03d}" for i in range(120)]
    alarms.put(tenant, many)
    assert alarms.alarmed_journeys(tenant) == many
    alarms.delete(tenant, many[:119])
    assert alarms.alarmed_journeys(tenant) == ["j119"]
    assert alarms.alarmed_journeys(f"{tenant}x") == ["theirs"]


def test_the_alarm_watches_the_journeys_success_metric(stack, tenant):
    CloudWatchJourneyAlarms(lambda: boto3.client("cloudwatch"), PREFIX, "Ccaas").put(tenant, ["ivr-sales"])
    [alarm] = boto3.client("cloudwatch").describe_alarms(AlarmNames=[f"{PREFIX}{tenant}/ivr-sales"])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("Ccaas", "JourneySuccess", "Minimum")
    assert sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"]) == [("journey", "ivr-sales"), ("tenant", tenant)]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1.0, "LessThanThreshold")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 2)


def test_the_adapter_needs_its_prefix_setting():
    with pytest.raises(RuntimeError, match="JOURNEY_ALARM_PREFIX"):
        CloudWatchJourneyAlarms.from_environment(lambda: None, {})
    built = CloudWatchJourneyAlarms.from_environment(lambda: None, {"JOURNEY_ALARM_PREFIX": "p-",
                                                                    "POWERTOOLS_METRICS_NAMESPACE": "Ns"})
    assert (built.prefix, built.namespace) == ("p-", "Ns")


# ------------------------------------------------------------------------------ synthetic contacts go
def test_a_synthetic_contacts_item_carries_the_ttl_and_a_real_ones_does_not(stack, tenant):
    env = function_environment(stack, "serve_api")
    db = boto3.client("dynamodb")
    store = DynamoStateStore(db, env["CONTACTS_TABLE"], env["AGENTS_TABLE"])
    began = int(time.time() * 1000)

    def contact(contact_id: str, attributes: dict[str, str]) -> Contact:
        return Contact(tenant_id=tenant, contact_id=contact_id, channel=Channel.CHAT, queue_id="sales",
                       state=ContactState.QUEUED, initiated_at=began, enqueued_at=began, attributes=attributes)

    store.save(contacts=[contact("syn", {SYNTHETIC_ATTRIBUTE: "sales-call"})])
    store.save(contacts=[contact("real", {"Team": "x"})])
    syn = db.get_item(TableName=env["CONTACTS_TABLE"], Key={k: {"S": v} for k, v in contact_key(tenant, "syn").items()})["Item"]
    real = db.get_item(TableName=env["CONTACTS_TABLE"], Key={k: {"S": v} for k, v in contact_key(tenant, "real").items()})["Item"]
    assert syn["expires_at"] == {"N": str(began // 1000 + SYNTHETIC_TTL_S)}
    assert "expires_at" not in real
    ttl = db.describe_time_to_live(TableName=env["CONTACTS_TABLE"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    # the TTL is storage, not the model: the contact reads back as it was written
    assert store.get_contact(tenant, "syn") == contact("syn", {SYNTHETIC_ATTRIBUTE: "sales-call"})
    assert sorted(c.contact_id for c in store.waiting_contacts(tenant, "sales", 10)) == ["real", "syn"]
    # a later save (its next state) keeps the TTL
    moved = store.get_contact(tenant, "syn").model_copy(update={"state": ContactState.ABANDONED, "version": 1})
    store.save(contacts=[moved])
    again = db.get_item(TableName=env["CONTACTS_TABLE"], Key={k: {"S": v} for k, v in contact_key(tenant, "syn").items()})["Item"]
    assert again["expires_at"] == syn["expires_at"]
