"""The alert store and the alerts-bus publisher: one suite, in memory and on (moto) AWS."""
from __future__ import annotations

import json
import threading
import uuid

import boto3
import pytest

from ccaas.domain.alerts import (
    EVENT_SOURCE,
    Alert,
    AlertChange,
    AlertRule,
    AlertRules,
    AlertStatus,
    LiveTranscriptState,
    Resolution,
    Severity,
)
from ccaas.domain.models import Conflict, NotFound
from ccaas.domain.tenants import Tenant
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_764_000_000_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Alerts"))
    return tenant_id


def _alert(tenant, n, subject="queue/q1", rule=AlertRule.QUEUE_DEPTH, **kw):
    return Alert(
        tenant_id=tenant, alert_id=f"{T0 + n:013d}-{n:012x}", rule=rule, subject=subject, severity=Severity.WARNING,
        message=f"alert {n}", details={"in_queue": 12, "ratio": 0.25, "contact_id": None}, queue_id="q1",
        opened_at=T0 + n, **kw,
    )  # fmt: skip


def test_one_unresolved_alert_per_rule_and_subject(deps, tenant):
    first = _alert(tenant, 1)
    assert deps.alerts.open(first) == first
    assert deps.alerts.open(_alert(tenant, 2)) == first  # same (rule, subject): the stored one comes back
    other_rule = deps.alerts.open(_alert(tenant, 3, rule=AlertRule.LONG_WAIT))
    other_subject = deps.alerts.open(_alert(tenant, 4, subject="queue/q2"))
    assert {a.alert_id for a in deps.alerts.unresolved(tenant)} == {first.alert_id, other_rule.alert_id, other_subject.alert_id}
    assert deps.alerts.get(tenant, first.alert_id) == first  # details (None, floats) round-trip
    with pytest.raises(NotFound):
        deps.alerts.get(tenant, _alert(tenant, 2).alert_id)
    with pytest.raises(NotFound):
        deps.alerts.get(f"{tenant}x", first.alert_id)  # tenant-first keys
    assert deps.alerts.unresolved(f"{tenant}x") == []


def test_racing_openers_store_exactly_one(deps, tenant):
    barrier = threading.Barrier(8)
    winners = []

    def open_(n):
        barrier.wait()
        winners.append(deps.alerts.open(_alert(tenant, n)).alert_id)

    threads = [threading.Thread(target=open_, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(winners)) == 1 and len(winners) == 8
    assert [a.alert_id for a in deps.alerts.unresolved(tenant)] == winners[:1]


def test_resolving_frees_the_slot_and_keeps_the_history(deps, tenant):
    first = deps.alerts.open(_alert(tenant, 1))
    done = first.resolved(T0 + 50, Resolution.CONDITION_CLEARED)
    assert deps.alerts.resolve(done) is True
    assert deps.alerts.resolve(done) is False  # already resolved
    assert deps.alerts.unresolved(tenant) == []
    second = deps.alerts.open(_alert(tenant, 60))
    assert second.alert_id != first.alert_id
    stored = deps.alerts.get(tenant, first.alert_id)
    assert (stored.status, stored.resolved_at, stored.resolution) == (AlertStatus.RESOLVED, T0 + 50, Resolution.CONDITION_CLEARED)
    assert [a.alert_id for a in deps.alerts.recent(tenant, 10)] == [second.alert_id, first.alert_id]  # newest first
    assert [a.alert_id for a in deps.alerts.recent(tenant, 1)] == [second.alert_id]


def test_resolved_alerts_page_newest_first_past_any_number_of_open_ones(deps, tenant):
    """status=resolved reads its own index (a sparse GSI on AWS): picked out of the newest alerts of every status,
    resolved ones were hidden by as many newer open ones (outside review, p8)."""
    for n in (1, 2, 3):
        deps.alerts.open(_alert(tenant, n, subject=f"queue/r{n}"))
        deps.alerts.resolve(_alert(tenant, n, subject=f"queue/r{n}").resolved(T0 + 100 + n, Resolution.CONDITION_CLEARED))
    newer = [deps.alerts.open(_alert(tenant, n, subject=f"queue/o{n}")) for n in range(10, 16)]
    ids = [_alert(tenant, n).alert_id for n in (3, 2, 1)]
    assert [a.alert_id for a in deps.alerts.resolved(tenant, 10)] == ids
    assert [a.status for a in deps.alerts.resolved(tenant, 10)] == [AlertStatus.RESOLVED] * 3  # read back whole
    assert [a.alert_id for a in deps.alerts.resolved(tenant, 2)] == ids[:2]
    assert [a.alert_id for a in deps.alerts.resolved(tenant, 2, after=ids[1])] == ids[2:]
    assert deps.alerts.resolved(tenant, 2, after=ids[2]) == []
    assert deps.alerts.resolved(f"{tenant}x", 10) == []
    assert [a.alert_id for a in deps.alerts.recent(tenant, 2, after=newer[1].alert_id)] == [newer[0].alert_id, ids[0]]
    assert deps.alerts.get(tenant, ids[0]).resolution == Resolution.CONDITION_CLEARED  # storage keys stay out of the model


def test_acknowledge_is_conditional_and_idempotent(deps, tenant):
    alert = deps.alerts.open(_alert(tenant, 1))
    acked = deps.alerts.acknowledge(tenant, alert.alert_id, T0 + 5)
    assert (acked.status, acked.acknowledged_at) == (AlertStatus.ACKNOWLEDGED, T0 + 5)
    assert deps.alerts.acknowledge(tenant, alert.alert_id, T0 + 9).acknowledged_at == T0 + 5
    assert deps.alerts.unresolved(tenant) == [acked]  # acknowledged still holds its slot
    assert deps.alerts.open(_alert(tenant, 2)).alert_id == alert.alert_id
    deps.alerts.resolve(acked.resolved(T0 + 10, Resolution.MANUAL))
    with pytest.raises(Conflict):
        deps.alerts.acknowledge(tenant, alert.alert_id, T0 + 11)
    with pytest.raises(NotFound):
        deps.alerts.acknowledge(tenant, "0000000000000-nope", T0)


def test_published_flag(deps, tenant):
    alert = deps.alerts.open(_alert(tenant, 1))
    assert not alert.published
    deps.alerts.mark_published([alert])
    assert deps.alerts.get(tenant, alert.alert_id).published
    assert deps.alerts.unresolved(tenant)[0].published


def test_transcript_state_is_optimistic(deps, tenant):
    assert deps.alerts.transcript_state(tenant, "c1") is None
    v1 = LiveTranscriptState(tenant_id=tenant, contact_id="c1", last_end_ms=900, customer_scores=(-1.5, 0.25), segments=2, updated_at=T0, version=1)
    deps.alerts.save_transcript_state(v1)
    with pytest.raises(Conflict):
        deps.alerts.save_transcript_state(v1)
    v2 = v1.model_copy(update={"last_end_ms": 1800, "version": 2})
    deps.alerts.save_transcript_state(v2)
    assert deps.alerts.transcript_state(tenant, "c1") == v2
    with pytest.raises(Conflict):
        deps.alerts.save_transcript_state(v1.model_copy(update={"version": 5}))


def test_rules_live_in_the_config_store_and_tenants_are_listed(deps, tenant):
    assert deps.config.get_alert_rules(tenant) == AlertRules()
    rules = AlertRules.model_validate({"long_wait": {"threshold_s": 45}, "agent_not_ready": {"ignore_statuses": ["LUNCH"]}})
    deps.config.put_alert_rules(tenant, rules)
    assert deps.config.get_alert_rules(tenant) == rules
    assert deps.config.get_alert_rules(f"{tenant}x") == AlertRules()
    assert tenant in deps.config.list_tenants()


def test_publisher_puts_each_change_on_the_alerts_bus(deps, tenant, stack):
    alert = _alert(tenant, 1)
    changes = [(AlertChange.OPENED, alert)] + [(AlertChange.ACKNOWLEDGED, _alert(tenant, n)) for n in range(2, 14)]
    if hasattr(deps.alert_events, "published"):
        deps.alert_events.publish(changes)
        assert deps.alert_events.published == changes
        return
    bus = function_environment(stack, "serve_api")["ALERTS_BUS_NAME"]
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"alerts-{tenant}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"test-{tenant}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail": {"tenant_id": [tenant]}}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    try:
        deps.alert_events.publish(changes)  # 13 changes: two PutEvents calls (10 entries max each)
        bodies = []
        while len(bodies) < len(changes):
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            assert got, f"only {len(bodies)} of {len(changes)} alert events arrived"
            bodies += [json.loads(m["Body"]) for m in got]
    finally:
        events.remove_targets(Rule=rule, EventBusName=bus, Ids=["q"])
        events.delete_rule(Name=rule, EventBusName=bus)
    first = next(b for b in bodies if b["detail"]["alert_id"] == alert.alert_id)
    assert first["source"] == EVENT_SOURCE and first["detail-type"] == "Alert Opened"
    assert first["detail"]["queue_id"] == "q1" and first["detail"]["details"]["ratio"] == 0.25
    assert sorted(b["detail-type"] for b in bodies).count("Alert Acknowledged") == 12


def test_alerts_resolved_before_the_index_are_indexed_once_by_the_upgrade_step(deps, tenant):
    """An alert resolved before `status=resolved` read its own index has no `resolved_pk` on AWS: it showed under
    `all` only (today's review). `index_resolved` (the admin tool's index-resolved-alerts) puts it there, once."""
    from ccaas.adapters.aws.alerts import DynamoAlertStore  # noqa: PLC0415
    from ccaas.usecases import admin  # noqa: PLC0415

    for n in (1, 2):
        deps.alerts.open(_alert(tenant, n, subject=f"queue/r{n}"))
        deps.alerts.resolve(_alert(tenant, n, subject=f"queue/r{n}").resolved(T0 + 100 + n, Resolution.MANUAL))
    deps.alerts.open(_alert(tenant, 5, subject="queue/open"))
    old = _alert(tenant, 1).alert_id
    if isinstance(deps.alerts, DynamoAlertStore):  # as the previous version stored it
        deps.alerts._db.update_item(TableName=deps.alerts._table, Key=deps.alerts._record_key(tenant, old),
                                    UpdateExpression="REMOVE resolved_pk")
        assert [a.alert_id for a in deps.alerts.resolved(tenant, 10)] == [_alert(tenant, 2).alert_id]
        assert admin.index_resolved_alerts(deps, tenant) == 1
    else:
        assert admin.index_resolved_alerts(deps, tenant) == 0  # the twin reads the status: nothing left out
    assert [a.alert_id for a in deps.alerts.resolved(tenant, 10)] == [_alert(tenant, 2).alert_id, old]
    assert admin.index_resolved_alerts(deps, tenant) == 0  # run again: nothing
    with pytest.raises(NotFound):
        admin.index_resolved_alerts(deps, f"{tenant}x")
