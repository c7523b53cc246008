"""A tiny tenant for use-case tests: two queues, agents with skills."""
from __future__ import annotations

from ccaas.bootstrap import Dependencies, memory_dependencies
from ccaas.domain.models import Agent, Channel, QueueAssignment, Queue, SkillRequirement
from ccaas.usecases import admin

TENANT = "demo"


def demo_deps() -> Dependencies:
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=TENANT, name="Demo")
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE, Channel.CHAT}), sl_threshold_s=20, max_wait_s=60))
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="spanish", name="Spanish", required_skills=(SkillRequirement(skill="lang_es", min_proficiency=3),)))
    return deps


def add_agent(deps: Dependencies, agent_id: str, *, queues=("sales",), skills=None, capacity=None, priority=1) -> Agent:
    agent = Agent(
        tenant_id=TENANT,
        agent_id=agent_id,
        name=agent_id.title(),
        skills=skills or {},
        queues=tuple(QueueAssignment(queue_id=q, priority=priority) for q in queues),
        **({"capacity": capacity} if capacity else {}),
    )
    return admin.put_agent(deps, agent)
