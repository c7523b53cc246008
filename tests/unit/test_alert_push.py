"""Alerts pushed to supervisors (in memory): the alerts bus first, then an `alert` message to the alert's
tenant's supervisors and admins watching its queue (agent and contact alerts: all of them). Two tenants:
nothing crosses; agent connections never get an alert; a failed push never fails the alert."""
from __future__ import annotations

import pytest

from ccaas.adapters.memory import FixedClock, MemoryAlertPublisher
from ccaas.adapters.memory.push import MemoryConnectionStore, MemoryPushChannel
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import Alert, AlertChange, AlertRule, Severity, event_detail
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.domain.push import Identity
from ccaas.usecases import admin, agents, alerts, push
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.alerts import PushingAlertPublisher

TENANTS = ("acme", "globex")


@pytest.fixture
def deps():
    connections, channel, clock = MemoryConnectionStore(), MemoryPushChannel(), FixedClock()
    publisher = PushingAlertPublisher(MemoryAlertPublisher(), connections, channel, clock)
    deps = memory_dependencies(connections=connections, push=channel, alert_events=publisher, clock=clock)
    for tenant_id in TENANTS:
        admin.register_tenant(deps, tenant_id=tenant_id, name=tenant_id)
        for queue_id in ("sales", "support"):
            admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id=queue_id, name=queue_id, channels=frozenset({Channel.VOICE})))
        admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
        push.connect(deps, Identity(tenant_id=tenant_id, role="supervisor"), f"{tenant_id}-sup-all")
        push.connect(deps, Identity(tenant_id=tenant_id, role="admin"), f"{tenant_id}-admin")
        push.connect(deps, Identity(tenant_id=tenant_id, role="supervisor"), f"{tenant_id}-sup-support")
        push.handle_frame(deps, Identity(tenant_id=tenant_id, role="supervisor"), f"{tenant_id}-sup-support",
                          '{"action": "subscribe", "queues": ["support"]}')
        push.connect(deps, Identity(tenant_id=tenant_id, role="agent", agent_id="ana"), f"{tenant_id}-agent-ana")
        push.connect(deps, Identity(tenant_id=tenant_id, role="supervisor", agent_id="ana"), f"{tenant_id}-sup-named-ana")
    return deps


def _alert(tenant_id: str, subject: str, queue_id: str | None, n: int = 1) -> Alert:
    return Alert(tenant_id=tenant_id, alert_id=f"1764000000000-{n:012d}", rule=AlertRule.QUEUE_DEPTH if subject.startswith("queue") else AlertRule.SILENCE,
                 subject=subject, severity=Severity.WARNING, message="m", queue_id=queue_id, opened_at=1_764_000_000_000)


def _received(deps) -> dict[str, list[dict]]:
    return {cid: [m for m in msgs if m["type"] == "alert"] for cid, msgs in deps.push.sent.items()}


def _no_crossing(deps) -> None:
    for cid, messages in _received(deps).items():
        tenant_id = cid.split("-", 1)[0]
        for m in messages:
            assert deps.alerts.get(tenant_id, m["payload"]["alert_id"])  # NotFound if another tenant's
        assert not ("agent" in cid and messages), f"an agent connection got an alert: {cid}"


def test_a_queue_alert_reaches_the_watchers_of_that_queue_of_its_tenant_only(deps):
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    deps.alert_events.publish([(AlertChange.OPENED, alert)])
    got = {cid for cid, msgs in _received(deps).items() if msgs}
    assert got == {"acme-sup-all", "acme-admin", "acme-sup-named-ana"}  # not the support-only watcher
    (message,) = _received(deps)["acme-sup-all"]
    expected = {k: v for k, v in event_detail(alert).items() if k not in ("version", "tenant_id")}
    assert message == {"type": "alert", "at": "2025-11-24T16:00:00.000Z", "payload": expected}
    assert "acme" not in str({k: v for k, v in message.items() if k != "payload"})
    assert deps.alert_events.bus.published == [(AlertChange.OPENED, alert)]  # and on the bus
    _no_crossing(deps)


def test_the_payload_is_the_alert_as_get_alerts_id_shows_it(deps):
    from ccaas.api.routes.alerts import AlertView

    alert = deps.alerts.open(_alert("acme", "queue/support", "support"))
    deps.alert_events.publish([(AlertChange.OPENED, alert)])
    (message,) = _received(deps)["acme-sup-support"]
    assert message["payload"] == AlertView.of(alert).model_dump(mode="json")


def test_contact_and_agent_alerts_go_to_every_watcher_of_the_tenant(deps):
    contact = deps.alerts.open(_alert("globex", "contact/c1", "sales", 1))
    agent = deps.alerts.open(_alert("globex", "agent/ana", None, 2).model_copy(update={"rule": AlertRule.AGENT_NOT_READY}))
    deps.alert_events.publish([(AlertChange.OPENED, contact), (AlertChange.OPENED, agent)])
    got = {cid: len(msgs) for cid, msgs in _received(deps).items() if msgs}
    assert got == {"globex-sup-all": 2, "globex-admin": 2, "globex-sup-support": 2, "globex-sup-named-ana": 2}
    _no_crossing(deps)


def test_acknowledge_and_resolve_push_the_changed_alert_at_their_time(deps):
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    deps.alerts.mark_published([alert])  # its opening went out (one never published would go out before the resolution)
    deps.clock.advance(60)
    alerts.acknowledge(deps, "acme", alert.alert_id)
    deps.clock.advance(60)
    alerts.resolve(deps, "acme", alert.alert_id)
    messages = _received(deps)["acme-admin"]
    assert [(m["payload"]["status"], m["at"]) for m in messages] == [
        ("ACKNOWLEDGED", "2025-11-24T16:01:00.000Z"), ("RESOLVED", "2025-11-24T16:02:00.000Z")]
    assert messages[1]["payload"]["resolution"] == "manual"
    _no_crossing(deps)


def test_an_evaluation_that_opens_alerts_in_both_tenants_pushes_each_to_its_own(deps):
    for tenant_id in TENANTS:
        agents.set_agent_status(deps, tenant_id, "ana", StatusChange(status="BREAK"))
    deps.clock.advance(3600)
    for tenant_id in TENANTS:
        assert [a.rule for a in alerts.sweep_tenant(deps, tenant_id).opened] == [AlertRule.AGENT_NOT_READY]
    for tenant_id in TENANTS:
        (message,) = _received(deps)[f"{tenant_id}-sup-support"]  # an agent alert: every watcher
        assert message["payload"]["agent_id"] == "ana" and message["payload"]["status"] == "OPEN"
    _no_crossing(deps)
    assert deps.alert_events.pushed == 8  # 4 watchers x 2 tenants


def test_a_failed_push_is_counted_not_raised_and_gone_connections_are_deleted(deps, monkeypatch):
    tried: list[str] = []
    post = deps.push.post
    monkeypatch.setattr(deps.push, "post", lambda cid, body: tried.append(cid) or post(cid, body))
    deps.push.failing.add("acme-admin")
    deps.push.gone.add("acme-sup-all")
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    other = deps.alerts.open(_alert("acme", "contact/c9", "sales", 2))
    deps.alert_events.publish([(AlertChange.OPENED, alert), (AlertChange.OPENED, other)])  # does not raise
    assert deps.alert_events.bus.published == [(AlertChange.OPENED, alert), (AlertChange.OPENED, other)]
    assert deps.alert_events.push_failures == 2  # one per alert that a connection failed to get
    assert deps.connections.get("acme", "acme-sup-all") is None  # gone: deleted
    assert len(_received(deps)["acme-sup-named-ana"]) == 2  # the others still got both
    assert tried.count("acme-sup-all") == 1  # gone once, not tried again in the same publish


def test_an_unreadable_connections_table_does_not_fail_the_alert(deps, monkeypatch):
    def broken(tenant_id):
        raise RuntimeError("connections table unavailable")

    monkeypatch.setattr(deps.connections, "watchers", broken)
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    alerts.acknowledge(deps, "acme", alert.alert_id)  # does not raise
    assert deps.alert_events.push_failures == 1
    assert [c for c, _ in deps.alert_events.bus.published] == [AlertChange.ACKNOWLEDGED]


def test_a_failing_bus_still_fails_the_publish_and_pushes_nothing(deps):
    deps.alert_events.bus.fail_next = 1
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    with pytest.raises(RuntimeError):
        deps.alert_events.publish([(AlertChange.OPENED, alert)])
    assert not any(_received(deps).values())


def test_an_alert_is_not_pushed_to_a_watcher_whose_token_expired_and_its_socket_is_closed(deps):
    now_s = deps.clock.now_ms() // 1000
    push.connect(deps, Identity(tenant_id="acme", role="supervisor", key_id="jwt:s", expires_at=now_s + 30), "acme-sup-token")
    deps.clock.advance(31)
    alert = deps.alerts.open(_alert("acme", "queue/sales", "sales"))
    deps.alert_events.publish([(AlertChange.OPENED, alert)])
    received = _received(deps)
    assert "acme-sup-token" not in received and received["acme-sup-all"]
    assert deps.push.closed == ["acme-sup-token"] and deps.connections.get("acme", "acme-sup-token") is None
    assert deps.alert_events.push_failures == 0
