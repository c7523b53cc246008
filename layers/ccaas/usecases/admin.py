"""Tenant set-up: tenants, API keys (stored hashed, each with a role), queues and agents."""
from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain import vocabulary
from ccaas.domain.events import AgentActivity, agent_activity
from ccaas.domain.models import PROFILE_FIELDS, Agent, AgentProfile, Conflict, DomainError, NotFound, Queue, QueueSettings
from ccaas.domain.routing_engine.synthetic import TEST_AGENT_SKILL, is_test_agent
from ccaas.domain.tenants import (
    ID_PATTERN, ApiKeyInfo, ApiKeyRecord, Credential, Role, Tenant, check_key_role, credential_from_claims, hash_api_key,
)

if TYPE_CHECKING:
    from ccaas.adapters.aws.jwks import TokenVerifier

logger = logging.getLogger(__name__)


class IssuedKey(BaseModel):
    """A key just issued or rotated: `api_key` is the secret, shown this once (only its hash is kept)."""

    key_id: str
    role: Role
    agent_id: str | None
    name: str | None
    created_at: int = Field(description="epoch ms")
    api_key: str


class NewApiKey(BaseModel):
    """POST /keys: the role of the new key; an agent key names the agent it acts as."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    agent_id: str | None = Field(default=None, pattern=ID_PATTERN, description="required for (only for) role agent")
    # printable: the admin tool lists every tenant's keys as lines, and a name with a line break forged a row there
    name: vocabulary.DisplayName | None = Field(default=None, description="what the key is for")


class NewTenant(BaseModel):
    """A tenant as the admin tool creates it: a name people read in `list-tenants` (bounded, printable)."""

    model_config = ConfigDict(extra="forbid")

    name: vocabulary.DisplayName


def register_tenant(deps: Dependencies, *, tenant_id: str, name: str, time_zone: str = "UTC") -> str:
    """Create (or update) the tenant and return a NEW admin API key; only its hash is stored. The name is held to
    NewTenant's rules (a ValidationError naming `name`); a tenant stored before them still loads."""
    name = NewTenant(name=name).name
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name=name, time_zone=time_zone))
    return issue_api_key(deps, tenant_id, role=Role.ADMIN, name="admin").api_key


def _secret(tenant_id: str) -> str:
    return f"ck_{tenant_id}_{secrets.token_urlsafe(24)}"


def issue_api_key(deps: Dependencies, tenant_id: str, *, role: Role | str, agent_id: str | None = None,
                  name: str | None = None) -> IssuedKey:
    """A new key of `role` for the tenant; an agent key acts as `agent_id` (which need not exist yet:
    an agent created later with that id is the one it acts as). The values are held to POST /keys' rules
    (NewApiKey: a ValidationError naming the field) whoever calls: the admin tool stored a name "" the API refuses."""
    request = NewApiKey(role=role, agent_id=agent_id, name=name)
    role, agent_id, name = request.role, request.agent_id, request.name
    check_key_role(role, agent_id)
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    for _ in range(3):  # a clash of 10 random characters is all but impossible; still, never overwrite
        api_key = _secret(tenant_id)
        record = ApiKeyRecord(key_id="k_" + secrets.token_urlsafe(8)[:10], tenant_id=tenant_id, role=role,
                              agent_id=agent_id, name=name, created_at=deps.clock.now_ms(), key_hash=hash_api_key(api_key))
        try:
            deps.config.add_api_key(record)
        except Conflict:
            continue
        return _issued(record, api_key)
    raise Conflict("could not pick an unused key id; retry")


def _issued(record: ApiKeyRecord, api_key: str) -> IssuedKey:
    return IssuedKey(key_id=record.key_id, role=record.role, agent_id=record.agent_id, name=record.name,
                     created_at=record.created_at, api_key=api_key)


def list_api_keys(deps: Dependencies, tenant_id: str) -> list[ApiKeyInfo]:
    """The tenant's keys, revoked ones included, oldest first: never a secret or a hash. NotFound for an unknown
    tenant (which has no keys, but an empty list would say it exists)."""
    deps.config.get_tenant(tenant_id)
    records = sorted(deps.config.list_api_keys(tenant_id), key=lambda r: (r.created_at, r.key_id))
    return [r.info() for r in records]


def rotate_api_key(deps: Dependencies, tenant_id: str, key_id: str) -> IssuedKey:
    """A new secret for the key (same id, role and agent); the old secret stops working at once
    (behind API Gateway, once the authorizer's cached answer for it expires)."""
    current = deps.config.get_api_key(tenant_id, key_id)
    if current.revoked_at is not None:
        raise Conflict(f"key {key_id} is revoked", field="key_id")
    api_key = _secret(tenant_id)
    deps.config.replace_api_key(current, current.model_copy(update={"key_hash": hash_api_key(api_key)}))
    _close_sockets(deps, current)  # opened with the old secret
    return _issued(current, api_key)


def revoke_api_key(deps: Dependencies, tenant_id: str, key_id: str) -> ApiKeyInfo:
    """The key stops working (idempotent: revoking a revoked key returns it as it is), and so do the WebSockets
    it opened. A revoke that failed closing them (the connections unreadable, a DeleteConnection refused) is
    retried as it was: a socket not closed keeps its row, ended, until it is."""
    current = deps.config.get_api_key(tenant_id, key_id)
    if current.revoked_at is not None:
        _close_sockets(deps, current)  # a retry after a failed close (none left otherwise: one Query)
        return current.info()
    revoked = current.model_copy(update={"revoked_at": deps.clock.now_ms()})
    deps.config.replace_api_key(current, revoked)
    _close_sockets(deps, current)
    return revoked.info()


def _close_sockets(deps: Dependencies, key: ApiKeyInfo) -> None:
    """The key's open WebSockets get nothing more and are closed (ccaas.usecases.push.close_sockets_of_key)."""
    from ccaas.usecases.push import close_sockets_of_key

    closed = close_sockets_of_key(deps, key.tenant_id, key.key_id, key.role.value, key.agent_id)
    if closed.found:
        # Not all closed: they get nothing more; the push consumer (or revoking again) closes them.
        (logger.info if closed.closed == closed.found else logger.warning)(
            "sockets of a replaced key closed", extra={"tenant_id": key.tenant_id, "key_id": key.key_id,
                                                       "found": closed.found, "closed": closed.closed})


def credential_for_api_key(deps: Dependencies, api_key: str) -> Credential | None:
    """Who a key stands for; None for an unknown or revoked key."""
    return deps.config.credential_for_key(hash_api_key(api_key)) if api_key else None


def credential_for_user_token(verifier: TokenVerifier | None, token: str) -> Credential | None:
    """Who a person's user-pool token stands for; None when no pool is configured (`verifier` None),
    or the token is invalid, expired, another pool's or app client's, or its claims make no credential
    (no tenant, not exactly one role group, an agent without its agent id)."""
    from ccaas.adapters.aws.jwks import InvalidToken

    if verifier is None or not token:
        return None
    try:
        return credential_from_claims(verifier.claims(token))
    except (InvalidToken, DomainError):
        return None


def tenant_for_api_key(deps: Dependencies, api_key: str) -> str | None:
    credential = credential_for_api_key(deps, api_key)
    return None if credential is None else credential.tenant_id


CONNECT_INSTANCE_ARN = re.compile(vocabulary.CONNECT_INSTANCE_ARN)


def register_connect_instance(deps: Dependencies, *, tenant_id: str, instance_arn: str) -> None:
    """Route an Amazon Connect instance's contact records (CTR stream) to a tenant. Admin only, never
    an API route: a tenant that could claim an instance could read another business's contacts."""
    if not CONNECT_INSTANCE_ARN.fullmatch(instance_arn):  # fullmatch: `$` also matches before a final newline
        raise DomainError("not an Amazon Connect instance ARN", field="instance_arn")
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    deps.config.put_connect_instance(instance_arn, tenant_id)


def register_sms_sender(deps: Dependencies, *, tenant_id: str, kind: str, name: str) -> None:
    """Let a tenant send texts through an AWS End User Messaging SMS origination identity (`kind` "origination":
    a phone number, pool or sender id, or its ARN) or configuration set (`kind` "configuration-set"). Admin only,
    never an API route: the dialer's grant covers the account's identities, so a tenant that could claim one
    would text as another business (its number, its sender id) or send its events to another's destinations."""
    pattern = vocabulary.SMS_SENDER_KINDS.get(kind)
    if pattern is None:
        raise DomainError(f"kind is one of {', '.join(vocabulary.SMS_SENDER_KINDS)}", field="kind")
    if not re.fullmatch(pattern, name):
        raise DomainError(f"not an End User Messaging SMS {kind}", field="name")
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    deps.config.put_sms_sender(kind, name, tenant_id)


def put_queue(deps: Dependencies, queue: Queue) -> Queue:
    deps.config.put_queue(queue)
    return queue


def configure_queue(deps: Dependencies, tenant_id: str, queue_id: str, settings: QueueSettings) -> Queue:
    """PUT /queues/{id}: the tenant and the id come from the caller, never from the body."""
    return put_queue(deps, Queue(**settings.model_dump(), tenant_id=tenant_id, queue_id=queue_id))


def configure_agent(deps: Dependencies, tenant_id: str, agent_id: str, profile: AgentProfile) -> Agent:
    """PUT /agents/{id}: a new agent starts OFFLINE with nothing in hand; an existing one keeps its live
    state. Only the profile is client input (status, contacts and counters are the lifecycle's)."""
    return put_agent(deps, Agent(**profile.model_dump(), tenant_id=tenant_id, agent_id=agent_id))


def put_agent(deps: Dependencies, agent: Agent) -> Agent:
    """Create an agent, or replace its profile (skills, queues, capacity) keeping its live state. A change that
    moves the agent in the live metrics (its queues, its slots) is published (_publish_profile_change)."""
    try:
        current = deps.store.get_agent(agent.tenant_id, agent.agent_id)
    except NotFound:
        created = agent.model_copy(update={"version": 0})
        deps.store.save(agents=[created])
        _publish_profile_change(deps, None, created)
        return agent
    # Validated again (not model_copy): the profile's nested models stay models, not the dicts of a dump.
    updated = Agent.model_validate({**current.model_dump(), **agent.model_dump(include=PROFILE_FIELDS),
                                    "version": current.version + 1})
    if is_test_agent(updated) != is_test_agent(current) and agent_activity(current) != AgentActivity.OFFLINE:
        # A test agent's events count in no live gauge and open no activity span: switched while staffed, the
        # gauges and the span its earlier events opened would never be closed.
        raise Conflict(f"agent {agent.agent_id} must be OFFLINE (nothing in hand) to add or remove the skill "
                       f"{TEST_AGENT_SKILL}", field="skills")
    deps.store.save(agents=[updated])  # conditional on the version read: the event below is this change's
    _publish_profile_change(deps, current, updated)
    from ccaas.usecases.agents import routing_profile_changed  # noqa: PLC0415 - routing: only a saved profile needs it

    routing_profile_changed(deps, current, updated)  # a queue or skill gained serves now, not at the next timer
    return updated


def _publish_profile_change(deps: Dependencies, before: Agent | None, after: Agent) -> None:
    """An `agent.activity_changed` event when the saved profile changed the queues or slots (capacity) of an agent
    that is not OFFLINE, or made an agent that is not OFFLINE (`before` None: seeds, benches). The live metrics
    move the agent's counts out of the queues it left and into those it joined at once (payload
    `previous_queue_ids`), instead of taking the next status event's queues for the ones it counted in (a gauge
    left up for good in a queue it left, one taken below zero in a queue it joined); the activity spans cut where
    the slots changed. Its sequence is the agent's new version: consumers order and deduplicate it as any other
    of the agent's events."""
    from ccaas.domain.events import EventType, agent_event

    if agent_activity(after) == AgentActivity.OFFLINE:
        return  # counted nowhere: its next event (logging in) names the queues it serves then
    previous_queue_ids = [] if before is None else [q.queue_id for q in before.queues]
    if before is not None and set(previous_queue_ids) == {q.queue_id for q in after.queues} and before.slots() == after.slots():
        return  # nothing the stream's consumers count moved (a name, skills, a queue's priority)
    previous_activity = AgentActivity.OFFLINE if before is None else agent_activity(before)
    deps.events.publish([agent_event(EventType.AGENT_ACTIVITY_CHANGED, after, deps.ids.new_id(), deps.clock.now_ms(),
                                     previous_activity=previous_activity, previous_queue_ids=previous_queue_ids)])


def index_resolved_alerts(deps: Dependencies, tenant_id: str) -> int:
    """Alerts resolved before `GET /alerts?status=resolved` read its index show under `status=all` only (until
    their 30-day expiry): index them. An upgrade's one-off, safe to run again; returns how many it indexed."""
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    return deps.alerts.index_resolved(tenant_id)
