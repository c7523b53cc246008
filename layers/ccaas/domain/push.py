"""Push over WebSocket: who a connection is, the frames it may send, and what each event pushes to whom.

Pure: no boto3, no clock reads. The connection's tenant, role and agent come from the authorizer's
context at $connect (the credential), never from a frame; a delivery is addressed to an audience
(a tenant's agent, a tenant's supervisors of a queue), and the connections are looked up by it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ccaas.domain.events import Event, EventType
from ccaas.domain.presented import presented_secret  # noqa: F401 - $connect's SocketEvent reads by it
from ccaas.domain.vocabulary import DomainError

if TYPE_CHECKING:  # an alert's push: the caller has the alerts domain already, a queue or offer push never needs it
    from ccaas.domain.alerts import Alert, AlertChange

CONNECTION_TTL_S = 2 * 3600  # API Gateway closes a WebSocket after 2 h at most
# What a client may send: API Gateway's WebSocket frame size (32 KB). A message of several frames, up to its 128 KB
# message limit, reaches $default whole; one over 32 KB is answered with an error frame.
MAX_FRAME_IN_BYTES = 32 * 1024
MAX_SUBSCRIPTIONS = 100
QUEUE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"

AGENT = "agent"
SUPERVISOR = "supervisor"
ADMIN = "admin"
INTEGRATION = "integration"
# The roles that may open a socket (integrations call the REST API; they have nobody to push to).
SOCKET_ROLES = frozenset({AGENT, SUPERVISOR, ADMIN})
# The roles that watch queues (queue_metrics, alerts) and may send `subscribe`.
WATCHER_ROLES = frozenset({SUPERVISOR, ADMIN})


class Identity(BaseModel):
    """What the authorizer says about the caller (requestContext.authorizer)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant_id: str = Field(min_length=1)
    role: str = Field(min_length=1)
    agent_id: str = ""
    key_id: str = ""  # the API key (or "jwt:<sub>") the socket was opened with: revoking it closes the socket
    expires_at: int = 0  # epoch seconds a user token expires at (0: an API key, valid until revoked)


class ConnectionRefused(DomainError):
    """The credential may not open a socket (its role, or an agent role without an agent), or no longer may: its key
    was revoked or rotated, or the socket was closed (evicted by a newer one) while it opened."""


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    connection_id: str
    role: str
    agent_id: str = ""
    key_id: str = ""  # the credential it was opened with (revoked or rotated: the connection is closed)
    subscriptions: tuple[str, ...] = ()  # queues a supervisor watches; empty: every queue
    connected_at: int  # ms
    # epoch seconds: API Gateway's 2 h, or the user token's expiry when sooner, or when its key was revoked and the
    # socket could not be closed (kept, ended, for the next close; the table's TTL too)
    expires_at: int

    def expired(self, now_ms: int) -> bool:
        """Past its credential's (or API Gateway's) end: nothing more is pushed to it, it is closed. The table's
        TTL deletes such items only eventually (days), so a delivery checks."""
        return now_ms // 1000 >= self.expires_at

    @property
    def watches_queues(self) -> bool:
        return self.role in WATCHER_ROLES

    def watches(self, queue_id: str) -> bool:
        return self.watches_queues and (not self.subscriptions or queue_id in self.subscriptions)


def open_connection(identity: Identity, connection_id: str, now_ms: int) -> Connection:
    if identity.role not in SOCKET_ROLES:
        raise ConnectionRefused(f"role {identity.role!r} may not open a socket; allowed: {sorted(SOCKET_ROLES)}", field="role")
    if identity.role == AGENT and not identity.agent_id:
        raise ConnectionRefused("an agent credential without an agent id may not open a socket", field="agent_id")
    return Connection(
        tenant_id=identity.tenant_id,
        connection_id=connection_id,
        role=identity.role,
        # Only agents are addressed by agent id: a supervisor's key naming an agent gets no offers.
        agent_id=identity.agent_id if identity.role == AGENT else "",
        key_id=identity.key_id,
        connected_at=now_ms,
        # A person's socket lasts no longer than the token it was opened with (a disabled user's token is not
        # renewed; API Gateway would otherwise keep the socket for its 2 h).
        expires_at=min(now_ms // 1000 + CONNECTION_TTL_S, identity.expires_at or 2**62),
    )


# --- frames in ---------------------------------------------------------------------------------------

class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["subscribe"]
    # Empty: every queue.
    queues: tuple[Annotated[str, Field(pattern=QUEUE_ID)], ...] = Field(default=(), max_length=MAX_SUBSCRIPTIONS)


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["ping"]


class FrameError(DomainError):
    """A frame the server cannot act on: answered with an error frame, the connection stays."""


_FRAME_FIELDS = frozenset({*Subscribe.model_fields, *Ping.model_fields})


def _keys_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object_pairs_hook: a key given twice in one object is refused, as the REST API's duplicate_key
    is (json.loads would keep the last: {"action": "ping", "action": "subscribe"} subscribed to every queue). Our
    fields are named; any other key is the sender's input, so it is not echoed."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        name = f'"{twice}"' if twice in _FRAME_FIELDS else "a key"
        raise FrameError(f"the frame gives {name} more than once in one object; send each key once",
                         field=twice if twice in _FRAME_FIELDS else None)
    return obj


def parse_frame(body: str | bytes | None) -> Subscribe | Ping:
    raw = body.encode() if isinstance(body, str) else (body or b"")
    if len(raw) > MAX_FRAME_IN_BYTES:
        raise FrameError(f"a frame is at most {MAX_FRAME_IN_BYTES} bytes (32 KB)")
    try:
        data = json.loads(raw, object_pairs_hook=_keys_once)
    except (ValueError, UnicodeDecodeError):
        raise FrameError('not JSON; send {"action": "ping"} or {"action": "subscribe", "queues": [...]}') from None
    except RecursionError:  # ~1,000 nested brackets fit in a frame: Python's decoder gives up (not a ValueError)
        raise FrameError('nested too deeply; a frame is {"action": "ping"} or {"action": "subscribe", "queues": [...]}') from None
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise FrameError('a frame is a JSON object with an "action": "ping" or "subscribe"', field="action")
    model = {"subscribe": Subscribe, "ping": Ping}.get(data["action"])
    if model is None:
        raise FrameError('unknown action; allowed: "ping", "subscribe"', field="action")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Never echo the input: name our fields only (a list item by its position); a field the frame should not
        # have is input too (its name is the sender's), so it is counted, not named.
        errors = exc.errors()
        fields = sorted({".".join(map(str, e["loc"])) for e in errors if e["type"] != "extra_forbidden"})
        extra = sum(1 for e in errors if e["type"] == "extra_forbidden")
        problems = [f"check {', '.join(fields)}"] if fields else []
        if extra:
            problems.append(f"{extra} unknown field(s): a {data['action']} frame has only {', '.join(model.model_fields)}")
        raise FrameError(f"invalid {data['action']} frame: {'; '.join(problems)}", field=fields[0] if fields else None) from None


# --- messages out ------------------------------------------------------------------------------------

def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message(kind: str, at_ms: int, payload: Any) -> dict[str, Any]:
    """{"type", "at", "payload"}: never the tenant (the client knows whose it is)."""
    return {"type": kind, "at": iso(at_ms), "payload": payload}


# What is pushed: API Gateway refuses a WebSocket message over 128 KB (PostToConnection's Data), so one past it never
# arrives. (Frames in have their own, smaller bound: MAX_FRAME_IN_BYTES.)
MAX_MESSAGE_OUT_BYTES = 128 * 1024


def frame_bytes(body: Mapping[str, Any]) -> bytes:
    """The frame as sent: compact UTF-8 JSON (escaped to ASCII, a CJK character was 6 bytes instead of 3)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def fitted(body: dict[str, Any]) -> dict[str, Any]:
    """`body`, or when its frame would be over MAX_MESSAGE_OUT_BYTES a smaller one saying `truncated`: an offer keeps
    the contact's ids, state and times, and leaves out what made it large (a transferred chat's earlier messages,
    the contact's attributes, the customer); any other message keeps its type and time only. The client reads the
    whole of it from the API (GET /agents/{id}/offers, GET /contacts/{id})."""
    if len(frame_bytes(body)) <= MAX_MESSAGE_OUT_BYTES:
        return body
    payload = body.get("payload")
    if body.get("type") == "offer" and isinstance(payload, Mapping) and isinstance(payload.get("contact"), Mapping):
        contact = {k: v for k, v in payload["contact"].items() if k not in ("attributes", "reason")}
        slim = {**body, "payload": {"contact": contact, "expires_at": payload.get("expires_at"), "truncated": True}}
        if len(frame_bytes(slim)) <= MAX_MESSAGE_OUT_BYTES:
            return slim
    ids = {k: v for k, v in (payload or {}).items() if k.endswith("_id") and isinstance(v, str)} \
        if isinstance(payload, Mapping) else {}
    return {"type": body.get("type"), "at": body.get("at"), "payload": {**ids, "truncated": True}}


def error_frame(text: str) -> dict[str, Any]:
    return {"type": "error", "message": text}


# --- alerts to supervisors -----------------------------------------------------------------------------

def receives_alert(connection: Connection, tenant_id: str, queue_id: str | None) -> bool:
    """A queue's alert goes to the tenant's supervisors/admins watching that queue (or every queue);
    an agent's or a contact's alert (`queue_id` None) to all of them. Agents never get alerts."""
    if connection.tenant_id != tenant_id or not connection.watches_queues:
        return False
    return queue_id is None or connection.watches(queue_id)


def alert_message(change: AlertChange, alert: Alert) -> dict[str, Any]:
    """{"type": "alert", "at": when it opened / was acknowledged / resolved, "payload": the alert as
    GET /alerts/{id} shows it (the bus's detail without its version and tenant)}."""
    from ccaas.domain.alerts import AlertChange, event_detail

    at = {AlertChange.OPENED: alert.opened_at, AlertChange.ACKNOWLEDGED: alert.acknowledged_at,
          AlertChange.RESOLVED: alert.resolved_at}[change] or alert.opened_at
    payload = {k: v for k, v in event_detail(alert).items() if k not in ("version", "tenant_id")}
    return message("alert", at, payload)


def alert_queue(alert: Alert) -> str | None:
    """The queue whose watchers get the alert: a queue alert's own; None (every watcher) otherwise."""
    return alert.subject_id if alert.subject_kind == "queue" else None


# --- what a batch of events pushes ---------------------------------------------------------------------

WITHDRAWN_ON_ABANDON = "OFFERED"
CONTACT_STATE_EVENTS = frozenset({
    EventType.CONTACT_CONNECTED, EventType.CONTACT_ACW_STARTED, EventType.CONTACT_COMPLETED,
    EventType.CONTACT_ABANDONED, EventType.CONTACT_TRANSFERRED, EventType.CONTACT_TRANSFER_UNDONE,
    EventType.CONTACT_HELD, EventType.CONTACT_RESUMED,
    EventType.CONTACT_CONSULT_STARTED, EventType.CONTACT_CONSULT_CANCELLED, EventType.CONTACT_CONFERENCE_JOINED,
    EventType.CONTACT_CONFERENCE_LEFT,
})


# The offered contact as a `contact.offered` record written by an earlier version carries it
# (Contact.model_dump(mode="json") without its workflow token): the push consumer builds that offer from it
# instead of reading the contact. Events no longer carry it (personal data on a stream every consumer and the
# failure bucket read: ccaas.domain.events.contact_event); the contact is read instead.
OFFERED_CONTACT = "offered_contact"


@dataclass(frozen=True)
class AgentPush:
    """To the connections of (tenant, agent). kind "offer" carries the contact id, and the offered
    contact when an older record has it ({"contact": ...}); the use-case builds the Offer (journey, profile)
    once per offered event, reading the contact unless such a record carries it."""

    tenant_id: str
    agent_id: str
    kind: Literal["offer", "offer_withdrawn", "contact_state", "guidance"]
    at_ms: int
    contact_id: str
    payload: dict[str, Any]
    event_id: str


@dataclass
class PushPlan:
    agent_pushes: list[AgentPush] = field(default_factory=list)


def _contact_state_payload(p: dict[str, Any], kind: str) -> dict[str, Any]:
    keep = ("contact_id", "queue_id", "channel", "state", "previous_state", "reason", "mode", "next_contact_id",
            "consult_of", "conference_with", "hold_count")
    return {"event": kind.removeprefix("contact."), **{k: p[k] for k in keep if p.get(k) is not None}}


def guidance_push(e: Event) -> AgentPush | None:
    """A guidance prompt to the contact's agent named by the event (published by the live transcript
    use-case from the contact's own agent_id): {contact_id, rule, kind, text}."""
    p = e.payload
    if e.type != EventType.AGENT_GUIDANCE_PROMPTED or not p.get("agent_id") or not p.get("contact_id"):
        return None
    payload = {k: p.get(k) for k in ("contact_id", "rule", "kind", "text")}
    return AgentPush(e.tenant_id, p["agent_id"], "guidance", e.occurred_ms, p["contact_id"], payload, e.event_id)


def plan_pushes(events: Iterable[Event]) -> PushPlan:
    """What a batch pushes to agents, in stream order. (Queue metrics are pushed by the live-metrics
    consumer, from the views it has just written: see usecases.push.push_queue_views.)"""
    plan = PushPlan()
    for e in events:
        p, at = e.payload, e.occurred_ms
        contact_id = p.get("contact_id") or ""
        if e.type == EventType.CONTACT_OFFERED and p.get("agent_id"):
            carried = p.get(OFFERED_CONTACT)
            payload = {"contact": carried} if isinstance(carried, dict) else {}
            plan.agent_pushes.append(AgentPush(e.tenant_id, p["agent_id"], "offer", at, contact_id, payload, e.event_id))
        elif e.type == EventType.CONTACT_OFFER_DECLINED and p.get("declined_by"):
            payload = {"contact_id": contact_id, "reason": p.get("failure") or "declined"}
            plan.agent_pushes.append(AgentPush(e.tenant_id, p["declined_by"], "offer_withdrawn", at, contact_id, payload, e.event_id))
        elif e.type == EventType.CONTACT_ABANDONED and p.get("agent_id") and p.get("previous_state") == WITHDRAWN_ON_ABANDON:
            payload = {"contact_id": contact_id, "reason": "abandoned"}
            plan.agent_pushes.append(AgentPush(e.tenant_id, p["agent_id"], "offer_withdrawn", at, contact_id, payload, e.event_id))
        elif e.type in CONTACT_STATE_EVENTS and (p.get("agent_id") or p.get("consulting_agent_id")):
            payload = _contact_state_payload(p, e.type)
            # The contact's agent, and for a consult leg the consulting agent (who waits to conference or complete).
            for agent_id in dict.fromkeys(filter(None, (p.get("agent_id"), p.get("consulting_agent_id")))):
                plan.agent_pushes.append(AgentPush(e.tenant_id, agent_id, "contact_state", at, contact_id, payload, e.event_id))
        elif (guidance := guidance_push(e)) is not None:
            plan.agent_pushes.append(guidance)
    return plan


class ConnectionGone(Exception):
    """PostToConnection answered 410 Gone: the client left without a $disconnect reaching us."""


class MessageRefused(Exception):
    """PostToConnection refused this message for good (too large, malformed, forbidden): sending it again would
    fail again, so it is counted and dropped, never a reason to retry the stream record."""


class SocketRequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    route_key: str = Field(alias="routeKey")
    connection_id: str = Field(alias="connectionId", min_length=1)
    # API Gateway passes the $connect authorizer's context to every route of the connection.
    authorizer: Identity
    # The stage the socket came in on: manage_connection closes the sockets it evicts through it.
    domain_name: str = Field(default="", alias="domainName")
    stage: str = ""
    api_id: str = Field(default="", alias="apiId")

    def management_endpoint(self, region: str) -> str | None:
        """The management API (DeleteConnection) of this socket's stage: https://{domainName}/{stage} on the API's
        own execute-api domain. A custom domain maps a base path the event does not carry to the stage, so the
        execute-api domain is built from the API id instead (what the stage's callback URL is). None without a stage."""
        if not self.stage:
            return None
        if ".execute-api." in self.domain_name:
            return f"https://{self.domain_name}/{self.stage}"
        if not (self.api_id and region):
            return None
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"https://{self.api_id}.execute-api.{region}.{suffix}/{self.stage}"


class SocketEvent(BaseModel):
    """An API Gateway WebSocket route event ($connect, $disconnect, $default), as the handler needs it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    request_context: SocketRequestContext = Field(alias="requestContext")
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    # $connect's request: where its key or token is (`presented_secret`); later routes carry neither.
    headers: dict[str, str] | None = None
    query: dict[str, str] | None = Field(default=None, alias="queryStringParameters")

    def secret(self) -> str:
        return presented_secret(self.headers, self.query)

    def frame(self) -> bytes:
        import base64

        raw = self.body or ""
        return base64.b64decode(raw) if self.is_base64_encoded else raw.encode()
