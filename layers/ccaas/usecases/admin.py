"""Tenant set-up: tenants, API keys (stored hashed), queues and agents."""
from __future__ import annotations

import re
import secrets

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import Agent, DomainError, NotFound, Queue
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


def put_agent(deps: Dependencies, agent: Agent) -> Agent:
    """Create an agent, or replace its profile (skills, queues, capacity) keeping its live state."""
    try:
        current = deps.store.get_agent(agent.tenant_id, agent.agent_id)
    except NotFound:
        deps.store.save(agents=[agent.model_copy(update={"version": 0})])
        return agent
    profile = agent.model_dump(include={"name", "skills", "queues", "capacity", "voice_blocks_other_channels"})
    updated = current.model_copy(update={**profile, "version": current.version + 1})
    deps.store.save(agents=[updated])
    return updated
