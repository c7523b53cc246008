"""Demo data: two tenants ("demo" and "acme"), their queues and agents, through the admin use-cases.

Seeding goes through `ccaas.usecases.admin` (the same code the API's configuration routes use) with
the AWS adapters pointed at moto, so what is seeded is exactly what the handlers read. It runs in
the runtime's own process with a function's environment (table names) as an overlay.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local import env_overlay


@dataclass(frozen=True)
class QueueSeed:
    queue_id: str
    name: str
    channels: tuple[str, ...]
    sl_threshold_s: int = 20
    sl_target: float = 0.8
    max_wait_s: int = 60
    required_skills: tuple[tuple[str, int], ...] = ()
    priority: int = 5


@dataclass(frozen=True)
class AgentSeed:
    agent_id: str
    name: str
    skills: Mapping[str, int]
    queues: tuple[tuple[str, int], ...]  # (queue id, priority); 1 = served first
    capacity: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TenantSeed:
    tenant_id: str
    name: str
    time_zone: str
    queues: tuple[QueueSeed, ...]
    agents: tuple[AgentSeed, ...]


DEMO = TenantSeed(
    tenant_id="demo",
    name="Demo Contact Center",
    time_zone="UTC",
    queues=(
        QueueSeed("sales", "Sales", ("VOICE",), sl_threshold_s=20, max_wait_s=45),
        QueueSeed("support", "Support", ("VOICE", "CHAT"), sl_threshold_s=20, max_wait_s=60,
                  required_skills=(("support", 1),)),
        QueueSeed("billing", "Billing", ("EMAIL",), sl_threshold_s=60, sl_target=0.8, max_wait_s=120,
                  required_skills=(("billing", 2),)),
    ),
    agents=(
        AgentSeed("ana", "Ana Alves", {"sales": 5, "language:en": 5}, (("sales", 1), ("support", 2))),
        AgentSeed("ben", "Ben Brook", {"sales": 4, "support": 2, "language:en": 5}, (("sales", 1), ("support", 2))),
        AgentSeed("chloe", "Chloe Chen", {"support": 5, "language:en": 4}, (("support", 1),)),
        AgentSeed("dev", "Dev Desai", {"support": 4, "billing": 3}, (("support", 1), ("billing", 2))),
        AgentSeed("emma", "Emma Evans", {"support": 3, "sales": 3}, (("support", 1), ("sales", 2))),
        AgentSeed("farid", "Farid Fayed", {"billing": 5}, (("billing", 1),)),
        AgentSeed("gita", "Gita Gupta", {"billing": 4, "support": 2}, (("billing", 1), ("support", 2))),
        AgentSeed("hugo", "Hugo Hale", {"sales": 4, "support": 4}, (("sales", 1), ("support", 1))),
    ),
)

ACME = TenantSeed(
    tenant_id="acme",
    name="ACME Corp",
    time_zone="UTC",
    queues=(QueueSeed("support", "ACME Support", ("VOICE", "CHAT"), sl_threshold_s=30, max_wait_s=60),),
    agents=(
        AgentSeed("wile", "Wile E.", {"support": 3}, (("support", 1),)),
        AgentSeed("road", "Road Runner", {"support": 5}, (("support", 1),)),
    ),
)

TENANTS: tuple[TenantSeed, ...] = (DEMO, ACME)


def _models(t: TenantSeed) -> tuple[list[Any], list[Any]]:
    from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment, SkillRequirement

    queues = [
        Queue(
            tenant_id=t.tenant_id,
            queue_id=q.queue_id,
            name=q.name,
            channels=frozenset(Channel(c) for c in q.channels),
            required_skills=tuple(SkillRequirement(skill=s, min_proficiency=p) for s, p in q.required_skills),
            sl_threshold_s=q.sl_threshold_s,
            sl_target=q.sl_target,
            max_wait_s=q.max_wait_s,
            priority=q.priority,
        )
        for q in t.queues
    ]
    agents = []
    for a in t.agents:
        kwargs: dict[str, Any] = {
            "tenant_id": t.tenant_id,
            "agent_id": a.agent_id,
            "name": a.name,
            "skills": dict(a.skills),
            "queues": tuple(QueueAssignment(queue_id=q, priority=p) for q, p in a.queues),
        }
        if a.capacity:
            kwargs["capacity"] = {Channel(c): n for c, n in a.capacity.items()}
        agents.append(Agent(**kwargs))
    return queues, agents


def seed(environment: Mapping[str, str], tenants: tuple[TenantSeed, ...] = TENANTS) -> dict[str, str]:
    """Create the tenants, queues and agents; returns {tenant id: a new API key}.

    `environment` is a function's environment (the table names the adapters need)."""
    with env_overlay.overlay(environment):
        from ccaas.bootstrap import dependencies
        from ccaas.usecases import admin

        deps = dependencies()
        keys: dict[str, str] = {}
        for t in tenants:
            keys[t.tenant_id] = admin.register_tenant(deps, tenant_id=t.tenant_id, name=t.name, time_zone=t.time_zone)
            queues, agents = _models(t)
            for q in queues:
                admin.put_queue(deps, q)
            for a in agents:
                admin.put_agent(deps, a)
        return keys
