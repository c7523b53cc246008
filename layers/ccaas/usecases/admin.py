"""Tenant set-up: tenants, API keys (stored hashed), queues and agents."""
from __future__ import annotations

import re
import secrets

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import PROFILE_FIELDS, Agent, AgentProfile, DomainError, NotFound, Queue, QueueSettings
from ccaas.domain.tenants import Tenant, hash_api_key


def register_tenant(deps: Dependencies, *, tenant_id: str, name: str, time_zone: str = "UTC") -> str:
    """Create (or update) the tenant and return a NEW API key; only its hash is stored."""
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name=name, time_zone=time_zone))
    api_key = f"ck_{tenant_id}_{secrets.token_urlsafe(24)}"
    deps.config.put_api_key(hash_api_key(api_key), tenant_id)
    return api_key


def tenant_for_api_key(deps: Dependencies, api_key: str) -> str | None:
    return deps.config.tenant_for_key(hash_api_key(api_key))


CONNECT_INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[A-Za-z0-9-]{1,64}$")


def register_connect_instance(deps: Dependencies, *, tenant_id: str, instance_arn: str) -> None:
    """Route an Amazon Connect instance's contact records (CTR stream) to a tenant. Admin only, never
    an API route: a tenant that could claim an instance could read another business's contacts."""
    if not CONNECT_INSTANCE_ARN.match(instance_arn):
        raise DomainError("not an Amazon Connect instance ARN", field="instance_arn")
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    deps.config.put_connect_instance(instance_arn, tenant_id)


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
    """Create an agent, or replace its profile (skills, queues, capacity) keeping its live state."""
    try:
        current = deps.store.get_agent(agent.tenant_id, agent.agent_id)
    except NotFound:
        deps.store.save(agents=[agent.model_copy(update={"version": 0})])
        return agent
    # Validated again (not model_copy): the profile's nested models stay models, not the dicts of a dump.
    updated = Agent.model_validate({**current.model_dump(), **agent.model_dump(include=PROFILE_FIELDS),
                                    "version": current.version + 1})
    deps.store.save(agents=[updated])
    return updated
