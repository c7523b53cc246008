"""Push over WebSocket: $connect / $disconnect / $default frames, and a stream batch -> messages.

The tenant, role and agent of a connection are the credential's (the authorizer's context); a frame
never names them. Deliveries are looked up by audience ((tenant, agent) or the tenant's watchers), so a
connection id alone (a stale one after a reconnect, another tenant's) never routes anything to anyone.
A failed push loses nothing: offers stay readable with GET /agents/{id}/offers, metrics with GET.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccaas.bootstrap import Dependencies
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import RealtimeQueueMetrics
from ccaas.domain.models import NotFound
from ccaas.domain.push import (
    AgentPush,
    Connection,
    ConnectionGone,
    FrameError,
    Identity,
    Ping,
    alert_message,
    alert_queue,
    error_frame,
    iso,
    message,
    open_connection,
    parse_frame,
    plan_pushes,
    receives_alert,
)
from ccaas.ports import ConnectionStore, PushChannel

if TYPE_CHECKING:  # alert pushes get their alerts from the caller, who has the alerts domain loaded
    from ccaas.domain.alerts import Alert, AlertChange


def connect(deps: Dependencies, identity: Identity, connection_id: str) -> Connection:
    """$connect: store the connection as the credential describes it (ConnectionRefused otherwise)."""
    connection = open_connection(identity, connection_id, deps.clock.now_ms())
    deps.connections.put(connection)
    return connection


def disconnect(deps: Dependencies, identity: Identity, connection_id: str) -> None:
    deps.connections.delete(identity.tenant_id, connection_id)


def handle_frame(deps: Dependencies, identity: Identity, connection_id: str, body: str | bytes | None) -> dict[str, Any]:
    """$default: the reply frame (pong, subscribed, or an error frame; the connection stays)."""
    now = deps.clock.now_ms()
    try:
        frame = parse_frame(body)
        if isinstance(frame, Ping):
            return {"type": "pong", "at": iso(now)}
        connection = deps.connections.get(identity.tenant_id, connection_id)
        if connection is None:
            raise FrameError("this connection is not registered; reconnect")
        if not connection.watches_queues:
            raise FrameError(f"role {connection.role!r} may not subscribe to queues; agents receive their own contacts",
                             field="action")
        updated = deps.connections.subscribe(identity.tenant_id, connection_id, frame.queues)
        return {"type": "subscribed", "at": iso(now), "queues": list(updated.subscriptions)}
    except FrameError as exc:
        return error_frame(str(exc))
    except NotFound:
        return error_frame("this connection is not registered; reconnect")


@dataclass
class PushReport:
    sent: int = 0
    gone: int = 0  # stale connections deleted
    offers_read: int = 0
    failed_event_ids: set[str] = field(default_factory=set)  # their records are batch item failures


def _post(deps: Dependencies, report: PushReport, connection: Connection, body: dict[str, Any]) -> bool:
    """True when delivered or gone (nothing to retry); False on a failure worth retrying."""
    try:
        deps.push.post(connection.connection_id, body)
        report.sent += 1
        return True
    except ConnectionGone:
        deps.connections.delete(connection.tenant_id, connection.connection_id)
        report.gone += 1
        return True
    except Exception:  # noqa: BLE001  (any other failure: the record is retried)
        return False


def _offer_payload(deps: Dependencies, push: AgentPush) -> dict[str, Any] | None:
    """The Offer as GET /agents/{id}/offers shows it; None when it is no longer this agent's offer."""
    from ccaas.api.views import OfferView  # the same view GET /agents/{id}/offers answers with
    from ccaas.usecases import routing
    from ccaas.usecases.agents import offer_for

    try:
        contact = deps.store.get_contact(push.tenant_id, push.contact_id)
    except NotFound:
        return None
    if contact.agent_id != push.agent_id or contact.offered_at is None:
        return None  # already withdrawn or taken elsewhere: the later event says so
    return OfferView.of(offer_for(deps, contact, routing.policy_of(deps, push.tenant_id))).model_dump(mode="json")


def push_events(deps: Dependencies, events: Sequence[Event]) -> PushReport:
    """One batch: each agent message to that agent's connections (read once per agent per batch)."""
    report = PushReport()
    agent_conns: dict[tuple[str, str], list[Connection]] = {}
    for push in plan_pushes(events).agent_pushes:
        key = (push.tenant_id, push.agent_id)
        if key not in agent_conns:
            agent_conns[key] = deps.connections.of_agent(*key)
        conns = agent_conns[key]
        if not conns:
            continue
        if push.kind == "offer":
            payload = _offer_payload(deps, push)  # one read per offered event, not per connection
            report.offers_read += 1
            if payload is None:
                continue
        else:
            payload = push.payload
        body = message(push.kind, push.at_ms, payload)
        for conn in conns:
            # Belt and braces: the lookup is by (tenant, agent); a row of anyone else is never used.
            if conn.tenant_id != push.tenant_id or conn.agent_id != push.agent_id:
                continue
            if not _post(deps, report, conn, body):
                report.failed_event_ids.add(push.event_id)
    return report


def push_queue_views(deps: Dependencies, views: Sequence[tuple[str, RealtimeQueueMetrics]]) -> PushReport:
    """The live-metrics consumer's fresh (tenant, view) pairs (one per queue its batch touched) as `queue_metrics` to the
    tenant's watchers of each queue; watchers read once per tenant. Pushed by the consumer that wrote them,
    so a frame never shows the previous batch, and agent frames never wait on a metrics read. A failure
    is counted, never raised: the metrics are written and readable by GET."""
    report = PushReport()
    watchers: dict[str, list[Connection]] = {}
    now = deps.clock.now_ms()
    for tenant_id, view in views:
        if tenant_id not in watchers:
            watchers[tenant_id] = deps.connections.watchers(tenant_id)
        audience = [c for c in watchers[tenant_id] if c.tenant_id == tenant_id and c.watches(view.queue_id)]
        body = message("queue_metrics", now, view.model_dump(mode="json")) if audience else None
        for conn in audience:
            if not _post(deps, report, conn, body):
                report.failed_event_ids.add(view.queue_id)
    return report


def push_alerts(connections: ConnectionStore, channel: PushChannel, changes: Sequence[tuple[AlertChange, Alert]]) -> PushReport:
    """Alert changes -> `alert` messages to each alert's tenant's supervisors and admins watching its queue
    (agent and contact alerts: all of them). Watchers are read once per tenant; a gone connection is
    deleted; any other failure is counted in `failed_event_ids` (alert ids) and the rest still go."""
    report = PushReport()
    watchers: dict[str, list[Connection]] = {}
    gone: set[tuple[str, str]] = set()
    for change, alert in changes:
        if alert.tenant_id not in watchers:
            watchers[alert.tenant_id] = connections.watchers(alert.tenant_id)
        audience = [c for c in watchers[alert.tenant_id] if receives_alert(c, alert.tenant_id, alert_queue(alert))
                    and (c.tenant_id, c.connection_id) not in gone]
        body = alert_message(change, alert)
        for conn in audience:
            try:
                channel.post(conn.connection_id, body)
                report.sent += 1
            except ConnectionGone:
                connections.delete(conn.tenant_id, conn.connection_id)
                gone.add((conn.tenant_id, conn.connection_id))
                report.gone += 1
            except Exception:  # noqa: BLE001 - the alert is on the bus anyway; the caller logs and counts
                report.failed_event_ids.add(alert.alert_id)
    return report
