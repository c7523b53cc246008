"""Push over WebSocket: $connect / $disconnect / $default frames, and a stream batch -> messages.

The tenant, role and agent of a connection are the credential's (the authorizer's context); a frame
never names them. Deliveries are looked up by audience ((tenant, agent) or the tenant's watchers), so a
connection id alone (a stale one after a reconnect, another tenant's) never routes anything to anyone.
The push consumer keeps an agent's connections and a tenant's policy for a few seconds (PushCache), and
builds an offer from the offered contact, read once per `contact.offered` event (the event carries no contact:
a record written before that rule, which carries a copy, is built from the copy).
A failed push loses nothing: offers stay readable with GET /agents/{id}/offers, metrics with GET.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccaas.bootstrap import Dependencies
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import RealtimeQueueMetrics
from ccaas.domain.vocabulary import NotFound
from ccaas.domain.push import (
    AgentPush,
    Connection,
    ConnectionGone,
    ConnectionRefused,
    FrameError,
    Identity,
    MessageRefused,
    Ping,
    alert_message,
    alert_queue,
    error_frame,
    fitted,
    iso,
    message,
    open_connection,
    parse_frame,
    plan_pushes,
    receives_alert,
)
from ccaas.ports import ConnectionStore, PushChannel

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # alert pushes get their alerts from the caller, who has the alerts domain loaded
    from ccaas.domain.alerts import Alert, AlertChange
    from ccaas.domain.routing_engine.policy import RoutingPolicy


def connect(deps: Dependencies, identity: Identity, connection_id: str,
            channel: Callable[[], PushChannel | None] | None = None, secret: str | None = None) -> Connection:
    """$connect: store the connection as the credential describes it, or ConnectionRefused (its row deleted).

    The authorizer answered before the connection was stored, and whatever ends a socket (a revoke or rotation of
    its key, another $connect of the same agent or credential evicting it) looks for rows: one that ran in between
    missed this connection, and one that found it could not close it either (API Gateway answers a DeleteConnection
    of a connection still in its $connect with Gone). So once the row is stored:
    - the credential is read again by the `secret` the socket presented, as the authorizer reads it: a key revoked
      or rotated away meanwhile refuses the socket (a revoke or rotation writes the key, then looks for sockets:
      either it finds this row or this read sees the new key). Without a `secret` (a caller that has none) the key
      is read by its id: a revoke is seen, a rotation is not. A person's token: refused when it expired meanwhile;
    - the agent's (or watcher credential's) older sockets over the bound are evicted; a socket that finds as many
      newer ones as the bound allows refuses itself instead (it would be the next one evicted);
    - its own row is read again last: deleted (evicted, or its key's sockets closed) or ended meanwhile, the socket
      is refused rather than opened without a row, where nothing would reach it and nobody could close it.
    Left open: a close in the moment between that last read and API Gateway completing the handshake.

    `channel` closes the sockets `_make_room` evicts (manage_connection's: the management API of the stage the
    socket came in on); asked for only when there is one to close. Without it, `deps.push` when configured."""
    connection = open_connection(identity, connection_id, deps.clock.now_ms())
    deps.connections.put(connection)
    try:
        _credential_still_admits(deps, identity, secret)
        _make_room(deps, connection, _once(channel) if channel is not None else lambda: _channel(deps))
        stored = deps.connections.get(connection.tenant_id, connection_id)
        if stored is None or stored.expired(deps.clock.now_ms()):
            raise ConnectionRefused("the socket was closed while it opened (a newer socket took its place, or its "
                                    "credential was revoked or rotated)")
    except Exception:
        deps.connections.delete(connection.tenant_id, connection_id)  # no row of a socket that never opened
        raise
    return connection


def _credential_still_admits(deps: Dependencies, identity: Identity, secret: str | None) -> None:
    """ConnectionRefused when the credential the socket was opened with no longer admits it (see `connect`)."""
    from ccaas.domain.tenants import USER_KEY_PREFIX, hash_api_key

    if identity.key_id.startswith(USER_KEY_PREFIX) or identity.expires_at:
        # A person's token cannot be revoked here; it may have expired since the authorizer verified it.
        if identity.expires_at and deps.clock.now_ms() // 1000 >= identity.expires_at:
            raise ConnectionRefused("the token has expired", field="authorization")
        return
    if secret:
        found = deps.config.credential_for_key(hash_api_key(secret))
        if found is None or (found.tenant_id, found.key_id, found.role.value, found.agent_id or "") != (
                identity.tenant_id, identity.key_id, identity.role, identity.agent_id):
            raise ConnectionRefused("the key was revoked or rotated", field="authorization")
        return
    if not identity.key_id:
        return  # a context from before sockets knew their key: the authorizer's word stands
    try:
        revoked = deps.config.get_api_key(identity.tenant_id, identity.key_id).revoked_at is not None
    except NotFound:
        return  # a key this store never had (a legacy context): the authorizer's word stands
    if revoked:
        raise ConnectionRefused("the key was revoked", field="authorization")


def _make_room(deps: Dependencies, connection: Connection, channel: Callable[[], PushChannel | None]) -> None:
    """An agent's sockets stay within MAX_SOCKETS_PER_AGENT from $connect on, a watcher credential's within
    MAX_WATCHERS_PER_CREDENTIAL, this one counted: a key opening thousands (a reconnect loop, a leaked key) evicts
    its own oldest here, a few per $connect, instead of leaving the push consumers to close them in the middle of
    every tenant's batch. Only that agent's, or that credential's, rows are read. The evicted rows are deleted
    (nothing more is pushed to them) and their sockets closed through `channel` (DeleteConnection); a close that
    fails leaves the socket open, silent, until API Gateway's idle or 2 h limit. A socket opened with as many
    newer ones already stored (many opened at once) is refused instead: it would be the next one evicted."""
    if connection.agent_id:
        theirs = deps.connections.of_agent(connection.tenant_id, connection.agent_id)
        limit, whose = MAX_SOCKETS_PER_AGENT, "agent"
    elif connection.watches_queues:
        theirs = deps.connections.watchers_of(connection.tenant_id, connection.key_id)
        limit, whose = MAX_WATCHERS_PER_CREDENTIAL, "credential"
    else:
        return
    now = deps.clock.now_ms()
    others = [c for c in theirs if c.connection_id != connection.connection_id]
    # Ties go to the newcomer (the same ms); ended rows are on their way out and count for nothing.
    if sum(1 for c in others if c.connected_at > connection.connected_at and not c.expired(now)) >= limit:
        raise ConnectionRefused(f"{limit} newer sockets of this {whose} are open (at most {limit})")
    _, beyond = _newest(others, limit - 1)
    _evict(deps.connections, channel, beyond)


def _once(channel: Callable[[], PushChannel | None]) -> Callable[[], PushChannel | None]:
    """`channel`, made on first use only, None when it cannot be made (the evicted rows are deleted all the same)."""
    made: list[PushChannel | None] = []

    def get() -> PushChannel | None:
        if not made:
            try:
                made.append(channel())
            except Exception as exc:  # noqa: BLE001 - a $connect never fails for a socket it could not close
                logger.warning("no management API to close sockets with", extra={"error": type(exc).__name__})
                made.append(None)
        return made[0]
    return get


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
    expired: int = 0  # of `gone`: past their credential's expiry, closed and deleted unposted
    audience_reads: int = 0  # connection lookups that went to the store (not the cache)
    refused: int = 0  # messages PostToConnection refused for good (too large, malformed): dropped, not retried
    skipped: int = 0  # queue views not pushed: the consumer's time ran short
    failed_event_ids: set[str] = field(default_factory=set)  # their records are batch item failures


# What an agent's audience and a tenant's policy may be kept for between batches (see PushCache).
AUDIENCE_TTL_MS = 10_000
POLICY_TTL_MS = 30_000
_MAX_CACHED = 10_000  # entries; expired ones are dropped when this many are held


class PushCache:
    """What the push consumer keeps between the batches of one execution environment (the handler
    holds one; nothing is shared between environments): each agent's connections and each tenant's
    routing policy, for a short while. It saves the lookups on the way from a reservation to the
    offer frame (measured in bench/bench_push.py).

    - Connections, keyed by (tenant, agent): only a non-empty list is kept (for `audience_ttl_ms`), so an
      agent without a socket is looked up at every event and a desktop that connects is seen at once.
      A post that answers Gone deletes that connection, drops the entry, and the audience is read again
      in the same delivery: a reconnect (new connection id) still gets the message. What the TTL bounds
      is a SECOND socket of an agent whose first one is cached: it receives from the entry's expiry on
      (a desktop reads GET /agents/{id}/offers when it connects, so nothing is lost). Every connection
      is checked against the (tenant, agent) addressed before a post, cached or not. An offer to a cached audience
      reads its API-key connections again first (`_as_stored`): a key revoked meanwhile gets no offer.
    - The routing policy: the offer's `expires_at` is the only thing it decides here; a change shows
      in pushed offers within `policy_ttl_ms` (the reservation itself is timed by the workflow).
    """

    def __init__(self, audience_ttl_ms: int = AUDIENCE_TTL_MS, policy_ttl_ms: int = POLICY_TTL_MS) -> None:
        self.audience_ttl_ms, self.policy_ttl_ms = audience_ttl_ms, policy_ttl_ms
        self._audiences: dict[tuple[str, str], tuple[int, list[Connection]]] = {}
        self._policies: dict[str, tuple[int, RoutingPolicy]] = {}
        self.hits = self.misses = 0

    def agent_connections(self, deps: Dependencies, tenant_id: str, agent_id: str, report: PushReport) -> list[Connection]:
        now = deps.clock.now_ms()
        held = self._audiences.get((tenant_id, agent_id))
        if held is not None and held[0] > now:
            self.hits += 1
            return held[1]
        self.misses += 1
        report.audience_reads += 1
        found = agent_audience(deps, tenant_id, agent_id)
        self.keep(tenant_id, agent_id, found, now)
        return found

    def keep(self, tenant_id: str, agent_id: str, connections: list[Connection], now_ms: int) -> None:
        if not connections:
            self._audiences.pop((tenant_id, agent_id), None)
            return
        if len(self._audiences) >= _MAX_CACHED:
            self._audiences = {k: v for k, v in self._audiences.items() if v[0] > now_ms}
        self._audiences[(tenant_id, agent_id)] = (now_ms + self.audience_ttl_ms, connections)

    def forget(self, tenant_id: str, agent_id: str) -> None:
        self._audiences.pop((tenant_id, agent_id), None)

    def policy(self, deps: Dependencies, tenant_id: str) -> RoutingPolicy:
        from ccaas.usecases import routing

        now = deps.clock.now_ms()
        held = self._policies.get(tenant_id)
        if held is not None and held[0] > now:
            return held[1]
        policy = routing.policy_of(deps, tenant_id)
        if len(self._policies) >= _MAX_CACHED:
            self._policies.clear()
        self._policies[tenant_id] = (now + self.policy_ttl_ms, policy)
        return policy


SENT, GONE, FAILED, REFUSED = "sent", "gone", "failed", "refused"


def _post(deps: Dependencies, report: PushReport, connection: Connection, body: dict[str, Any]) -> str:
    return post_to(deps.connections, deps.push, report, connection, body, deps.clock.now_ms())


def post_to(connections: ConnectionStore, channel: PushChannel, report: PushReport, connection: Connection,
            body: Mapping[str, Any], now_ms: int) -> str:
    """SENT, GONE (the connection is deleted: nothing to retry) or FAILED (worth retrying). A connection past
    its credential's end (a token's expiry, a revoked key) gets nothing: it is closed and deleted (GONE)."""
    if connection.expired(now_ms):
        end(connections, channel, connection, now_ms)
        report.gone += 1
        report.expired += 1
        return GONE
    try:
        channel.post(connection.connection_id, body)
        report.sent += 1
        return SENT
    except ConnectionGone:
        connections.delete(connection.tenant_id, connection.connection_id)
        report.gone += 1
        return GONE
    except MessageRefused as refusal:  # again would fail again: a retried record only repeats the others' messages
        logger.warning("push refused", extra={"tenant_id": connection.tenant_id, "type": body.get("type"),
                                              "reason": str(refusal)[:200]})
        report.refused += 1
        return REFUSED
    except Exception:  # noqa: BLE001  (any other failure: the record is retried)
        return FAILED


def forget(connections: ConnectionStore, channel: PushChannel | None, connection: Connection) -> bool:
    """Delete the connection (no push finds it from then on), then close its socket; False when the close
    failed, or there is no channel to close it with (the socket stays open until API Gateway's own limits,
    receiving nothing). For sockets evicted by a bound; a credential's end is `end`."""
    connections.delete(connection.tenant_id, connection.connection_id)
    return _close(channel, connection)


def end(connections: ConnectionStore, channel: PushChannel | None, connection: Connection, now_ms: int) -> bool:
    """Close the socket of a credential that ended (revoked, rotated, expired), then delete its row. A close that
    failed (throttled; no channel here) keeps the row, ended (`expires_at` now): nothing is posted to it, and
    whoever meets it next (a delivery, the revoke run again) closes it again. Deleted first, a failed close
    left an open socket nobody could find, fed for a while from the push consumers' cached audiences."""
    if _close(channel, connection):
        connections.delete(connection.tenant_id, connection.connection_id)
        return True
    if not connection.expired(now_ms):
        connections.put(connection.model_copy(update={"expires_at": now_ms // 1000}))
    return False


def _close(channel: PushChannel | None, connection: Connection) -> bool:
    if channel is None:
        return False
    try:
        channel.close(connection.connection_id)
        return True
    except Exception as exc:  # noqa: BLE001 - the caller decides what a socket left open means
        logger.warning("socket not closed", extra={"tenant_id": connection.tenant_id, "error": type(exc).__name__})
        return False


def _channel(deps: Dependencies) -> PushChannel | None:
    try:
        return deps.push
    except Exception:  # noqa: BLE001 - no WebSocket endpoint configured here ($connect; the admin tool against make run)
        return None


# How many sockets one delivery fans out to: the push consumers serve every tenant, so one tenant's thousand sockets
# for an agent (or wallboards) would slow every tenant's offers and metrics in the same batch. The newest ones are
# kept (a desktop that reconnects is the newest); older ones beyond the bound are closed and deleted.
MAX_SOCKETS_PER_AGENT = 5
MAX_WATCHERS_PER_TENANT = 500
# One credential (a supervisor's key or user) watching from this many sockets at most: a wallboard reconnecting in a
# loop, or a leaked key, evicted its own oldest sockets, never the tenant's other supervisors'.
MAX_WATCHERS_PER_CREDENTIAL = 20


# Sockets one delivery (or one $connect) closes at most: the rest beyond a bound get nothing from it and are
# closed by the next ones. Closing 3,000 at once held every tenant's offers in the batch for over a minute.
MAX_EVICTIONS = 5


def _newest(audience: list[Connection], limit: int) -> tuple[list[Connection], list[Connection]]:
    """(the newest `limit`, the older ones beyond them)."""
    newest = sorted(audience, key=lambda c: (c.connected_at, c.connection_id), reverse=True)
    return newest[:limit], newest[limit:]


def _evict(connections: ConnectionStore, channel: Callable[[], PushChannel | None], beyond: list[Connection]) -> None:
    """Close and delete the oldest MAX_EVICTIONS of `beyond`. `channel` is asked for only then: a consumer whose
    audiences are within bounds makes no management client for it."""
    if not beyond:
        return
    oldest = sorted(beyond, key=lambda c: (c.connected_at, c.connection_id))[:MAX_EVICTIONS]
    for connection in oldest:
        forget(connections, channel(), connection)
    logger.warning("sockets over the audience's bound evicted", extra={
        "tenant_id": beyond[0].tenant_id, "closed": len(oldest), "left": len(beyond) - len(oldest)})


def within_quota(connections: ConnectionStore, channel: Callable[[], PushChannel], audience: list[Connection],
                 limit: int) -> list[Connection]:
    """The newest `limit` connections of an audience; the older ones beyond it are closed and deleted, at most
    MAX_EVICTIONS of them at a time."""
    kept, beyond = _newest(audience, limit)
    _evict(connections, channel, beyond)
    return kept


def agent_audience(deps: Dependencies, tenant_id: str, agent_id: str) -> list[Connection]:
    return within_quota(deps.connections, lambda: deps.push, deps.connections.of_agent(tenant_id, agent_id),
                        MAX_SOCKETS_PER_AGENT)


def watching(connections: ConnectionStore, channel: Callable[[], PushChannel], tenant_id: str) -> list[Connection]:
    """The tenant's watching connections: each credential's newest MAX_WATCHERS_PER_CREDENTIAL, then the tenant's
    newest MAX_WATCHERS_PER_TENANT (the others are closed)."""
    by_credential: dict[str, list[Connection]] = {}
    for connection in connections.watchers(tenant_id):
        by_credential.setdefault(connection.key_id, []).append(connection)
    kept: list[Connection] = []
    beyond: list[Connection] = []
    for theirs in by_credential.values():
        newest, older = _newest(theirs, MAX_WATCHERS_PER_CREDENTIAL)
        kept += newest
        beyond += older
    kept, older = _newest(kept, MAX_WATCHERS_PER_TENANT)
    _evict(connections, channel, beyond + older)  # one bound on the closes for the whole tenant
    return kept


@dataclass
class ClosedSockets:
    found: int = 0  # the key's open connections: nothing more is pushed to them
    closed: int = 0  # of which the socket was closed (DeleteConnection) and the row deleted; the others stay, ended


def close_sockets_of_key(deps: Dependencies, tenant_id: str, key_id: str, role: str, agent_id: str | None) -> ClosedSockets:
    """A revoked or rotated key's open WebSockets: closed, and their rows deleted, so no offer, contact or metric
    reaches them any more (`end`: a row whose close failed stays, ended, for the next delivery or this call again).
    (An authorizer's answer only guards the next $connect; a socket lasts up to 2 h.) Looked up by the key's
    audience: an agent key's among the agent's connections, another's among the tenant's watchers."""
    audience = deps.connections.of_agent(tenant_id, agent_id or "") if role == "agent" else deps.connections.watchers(tenant_id)
    theirs = [c for c in audience if c.tenant_id == tenant_id and c.key_id == key_id]
    if not theirs:
        return ClosedSockets()
    channel, now = _channel(deps), deps.clock.now_ms()
    return ClosedSockets(found=len(theirs), closed=sum(end(deps.connections, channel, c, now) for c in theirs))


def _offer_payload(deps: Dependencies, push: AgentPush, cache: PushCache | None = None) -> dict[str, Any] | None:
    """The Offer as GET /agents/{id}/offers shows it; None when it is no longer this agent's offer."""
    from ccaas.api.views import OfferView  # the same view GET /agents/{id}/offers answers with
    from ccaas.usecases import routing
    from ccaas.usecases.agents import offer_for

    contact = _carried_contact(push)
    if contact is None:
        try:
            contact = deps.store.get_contact(push.tenant_id, push.contact_id)
        except NotFound:
            return None
    if contact.agent_id != push.agent_id or contact.offered_at is None:
        return None  # already withdrawn or taken elsewhere: the later event says so
    policy = cache.policy(deps, push.tenant_id) if cache is not None else routing.policy_of(deps, push.tenant_id)
    return OfferView.of(offer_for(deps, contact, policy)).model_dump(mode="json")


def _carried_contact(push: AgentPush) -> Contact | None:
    """The offered contact a record written before events stopped carrying it holds, when it is this tenant's and
    this contact (a snapshot at the reservation: a withdrawal after it is a later event of the same contact, so of
    the same shard); None to read it instead (not carried, as no event written now carries it, or written by
    another version of the model)."""
    from pydantic import ValidationError

    from ccaas.domain.models import Contact  # offers only: the consumers' cold start does not load the contact models

    carried = push.payload.get("contact")
    if not isinstance(carried, dict):
        return None
    try:
        contact = Contact.model_validate(carried)
    except ValidationError:
        return None
    if contact.tenant_id != push.tenant_id or contact.contact_id != push.contact_id:
        return None
    return contact


def _deliver(deps: Dependencies, report: PushReport, push: AgentPush, connections: list[Connection],
             body: dict[str, Any], cache: PushCache | None) -> list[Connection]:
    """Post `body` to the addressed agent's connections; returns the ones to use for the batch's next
    message. With a cache, a gone connection means the list may be stale: it is read again (once) and
    the connections not yet tried get the message too."""
    key = (push.tenant_id, push.agent_id)
    tried: set[str] = set()
    gone: set[str] = set()
    pending, reread = connections, False
    while True:
        for conn in pending:
            # Belt and braces: the lookup is by (tenant, agent); a row of anyone else is never used.
            if conn.tenant_id != push.tenant_id or conn.agent_id != push.agent_id or conn.connection_id in tried:
                continue
            tried.add(conn.connection_id)
            outcome = _post(deps, report, conn, body)
            if outcome == GONE:
                gone.add(conn.connection_id)
            elif outcome == FAILED:
                report.failed_event_ids.add(push.event_id)
        if not gone:
            return connections
        if cache is None:
            return [c for c in connections if c.connection_id not in gone]
        if reread:
            live = [c for c in connections if c.connection_id not in gone]
            cache.keep(*key, live, deps.clock.now_ms())
            return live
        reread = True
        cache.forget(*key)
        report.audience_reads += 1
        # The index may still list a connection just deleted (eventually consistent): drop the gone ones.
        connections = [c for c in agent_audience(deps, *key) if c.connection_id not in gone]
        cache.keep(*key, connections, deps.clock.now_ms())
        pending = connections


def push_events(deps: Dependencies, events: Sequence[Event], cache: PushCache | None = None) -> PushReport:
    """One batch: each agent message to that agent's connections (read once per agent per batch, or
    taken from `cache`, the handler's PushCache, while fresh)."""
    report = PushReport()
    agent_conns: dict[tuple[str, str], list[Connection]] = {}
    current: set[tuple[str, str]] = set()  # audiences read from the store in this batch (not the cache's)
    for push in plan_pushes(events).agent_pushes:
        if report.failed_event_ids and push.event_id not in report.failed_event_ids:
            # The mapping redelivers from the first failed record on: pushing later events now would send each
            # of them again with the retry (to other agents, other tenants) for every retry of the failed one.
            break
        key = (push.tenant_id, push.agent_id)
        if key not in agent_conns:
            reads = report.audience_reads
            if cache is not None:
                agent_conns[key] = cache.agent_connections(deps, *key, report)
            else:
                report.audience_reads += 1
                agent_conns[key] = agent_audience(deps, *key)
            if report.audience_reads > reads:
                current.add(key)
        if push.kind == "offer" and key not in current:
            agent_conns[key] = _as_stored(deps, cache, key, agent_conns[key])
            current.add(key)
        conns = agent_conns[key]
        if not conns:
            continue
        if push.kind == "offer":
            payload = _offer_payload(deps, push, cache)  # one read per offered event, not per connection
            report.offers_read += 1
            if payload is None:
                continue
        else:
            payload = push.payload
        body = fitted(message(push.kind, push.at_ms, payload))  # over 128 KB it would never arrive
        agent_conns[key] = _deliver(deps, report, push, conns, body, cache)
    return report


def _as_stored(deps: Dependencies, cache: PushCache | None, key: tuple[str, str],
               connections: list[Connection]) -> list[Connection]:
    """A cached audience with its API-key connections read again, before an offer (it carries the customer): a key
    revoked or rotated since it was cached either closed the socket (the post answers Gone) or, when that close
    failed, left its row ended, which `post_to` then closes instead of posting to. A token's socket carries its
    end in the row already. One consistent GetItem per such socket; none for an audience read in this batch."""
    if not any(c.key_id.startswith("k_") for c in connections):
        return connections
    rows = [deps.connections.get(c.tenant_id, c.connection_id) if c.key_id.startswith("k_") else c for c in connections]
    stored = [r for r in rows if r is not None]
    if cache is not None and stored != connections:
        cache.keep(*key, stored, deps.clock.now_ms())
    return stored


def push_queue_views(deps: Dependencies, views: Sequence[tuple[str, RealtimeQueueMetrics]],
                     keep_going: Callable[[], bool] = lambda: True) -> PushReport:
    """The live-metrics consumer's fresh (tenant, view) pairs (one per queue its batch touched) as `queue_metrics` to the
    tenant's watchers of each queue; watchers read once per tenant. Pushed by the consumer that wrote them,
    so a frame never shows the previous batch, and agent frames never wait on a metrics read. A failure
    is counted, never raised: the metrics are written and readable by GET. The views left when `keep_going()`
    turns false (the consumer's time: 500 watchers × many queues are thousands of posts) are counted in
    `skipped` and not sent: the next batch's frames carry newer numbers anyway."""
    report = PushReport()
    watchers: dict[str, list[Connection]] = {}
    now = deps.clock.now_ms()
    for tenant_id, view in views:
        if not keep_going():
            report.skipped += 1
            continue
        if tenant_id not in watchers:
            watchers[tenant_id] = watching(deps.connections, lambda: deps.push, tenant_id)
        audience = [c for c in watchers[tenant_id] if c.tenant_id == tenant_id and c.watches(view.queue_id)]
        body = message("queue_metrics", now, view.model_dump(mode="json")) if audience else None
        for conn in audience:
            if _post(deps, report, conn, body) == FAILED:
                report.failed_event_ids.add(view.queue_id)
    return report


def push_alerts(connections: ConnectionStore, channel: PushChannel, changes: Sequence[tuple[AlertChange, Alert]],
                now_ms: int) -> PushReport:
    """Alert changes -> `alert` messages to each alert's tenant's supervisors and admins watching its queue
    (agent and contact alerts: all of them). Watchers are read once per tenant; a gone (or expired) connection
    is deleted; any other failure is counted in `failed_event_ids` (alert ids) and the rest still go."""
    report = PushReport()
    watchers: dict[str, list[Connection]] = {}
    gone: set[tuple[str, str]] = set()
    for change, alert in changes:
        if alert.tenant_id not in watchers:
            watchers[alert.tenant_id] = watching(connections, lambda: channel, alert.tenant_id)
        audience = [c for c in watchers[alert.tenant_id] if receives_alert(c, alert.tenant_id, alert_queue(alert))
                    and (c.tenant_id, c.connection_id) not in gone]
        body = alert_message(change, alert)
        for conn in audience:
            outcome = post_to(connections, channel, report, conn, body, now_ms)
            if outcome == GONE:
                gone.add((conn.tenant_id, conn.connection_id))
            elif outcome == FAILED:  # the alert is on the bus anyway; the caller logs and counts
                report.failed_event_ids.add(alert.alert_id)
    return report
