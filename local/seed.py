"""Demo data: two tenants ("demo" and "acme"), their queues and agents, through the admin use-cases.
The demo tenant also has an escalation queue ("supervisors", served by sam) and transfer settings.

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
class CustomerSeed:
    customer_id: str
    tier: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    vip: bool = False
    preferred_language: str | None = None
    # (queue, agent, reason, hours ago it ended): a handled contact, the journey routing and identify read
    last_contact: tuple[str, str, str, float] | None = None


@dataclass(frozen=True)
class TenantSeed:
    tenant_id: str
    name: str
    time_zone: str
    queues: tuple[QueueSeed, ...]
    agents: tuple[AgentSeed, ...]
    customers: tuple[CustomerSeed, ...] = ()
    connect_instance_arn: str | None = None  # flows of this Amazon Connect instance belong to the tenant
    connect_queue_arns: Mapping[str, str] = field(default_factory=dict)  # our queue id -> Connect queue ARN
    # PUT /settings/transfers (ccaas.domain.transfers.TransferSettings as JSON): quick connects, escalation queue
    transfer_settings: Mapping[str, Any] | None = None
    outbound_demo: bool = False  # a running outbound campaign with a list and the simulated carrier (local.outbound_demo)


# A made-up Amazon Connect instance of the demo tenant: the local runtime's flows (bench, tests) use it.
DEMO_CONNECT_INSTANCE_ARN = "arn:aws:connect:us-east-1:123456789012:instance/d3m0d3m0-0000-4000-8000-000000000001"

DEMO = TenantSeed(
    tenant_id="demo",
    name="Demo Contact Center",
    time_zone="UTC",
    queues=(
        QueueSeed("sales", "Sales", ("VOICE",), sl_threshold_s=20, max_wait_s=45),
        QueueSeed("support", "Support", ("VOICE", "CHAT", "SMS"), sl_threshold_s=20, max_wait_s=60,
                  required_skills=(("support", 1),)),
        QueueSeed("billing", "Billing", ("EMAIL",), sl_threshold_s=60, sl_target=0.8, max_wait_s=120,
                  required_skills=(("billing", 2),)),
        # Where escalations go (transfer_settings below): served by the supervisor on the floor.
        QueueSeed("supervisors", "Supervisors", ("VOICE", "CHAT", "EMAIL"), sl_threshold_s=30, max_wait_s=180),
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
        AgentSeed("sam", "Sam Stone (supervisor)", {"sales": 5, "support": 5, "billing": 5, "language:en": 5},
                  (("supervisors", 1),)),
    ),
    # Numbers and addresses reserved for fiction (+1 415 555 01xx, +44 7700 900xxx, example.com).
    customers=(
        CustomerSeed("cust-platinum", "platinum", phones=("+14155550100",), emails=("pat.platinum@example.com",),
                     vip=True, preferred_language="en-US"),
        CustomerSeed("cust-gold", "gold", phones=("+14155550101",), emails=("gold.customer@example.com",),
                     preferred_language="es-ES", last_contact=("support", "chloe", "billing", 2.0)),
        CustomerSeed("cust-self", "self_service", phones=("+447700900123",)),
    ),
    connect_instance_arn=DEMO_CONNECT_INSTANCE_ARN,
    connect_queue_arns={q: f"{DEMO_CONNECT_INSTANCE_ARN}/queue/{q}" for q in ("sales", "support", "billing")},
    outbound_demo=True,
    transfer_settings={
        "escalation_queue_id": "supervisors",
        "escalation_priority": 1,
        "exclude_transferring_agent": True,
        "max_segments": 10,
        "quick_connects": {"legal": {"name": "Legal (external)", "phone_number": "+14155550199"}},
    },
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


ROLES = ("admin", "supervisor", "integration")  # plus one agent key per seeded agent: "agent:<id>"


def seed(environment: Mapping[str, str], tenants: tuple[TenantSeed, ...] = TENANTS) -> dict[str, dict[str, str]]:
    """Create the tenants, queues and agents, and their API keys: {tenant id: {"admin": key,
    "supervisor": key, "integration": key, "agent:<agent id>": key for each agent}}.

    `environment` is a function's environment (the table names the adapters need)."""
    with env_overlay.overlay(environment):
        from ccaas.bootstrap import dependencies
        from ccaas.usecases import admin

        deps = dependencies()
        keys: dict[str, dict[str, str]] = {}
        for t in tenants:
            held = keys[t.tenant_id] = {
                "admin": admin.register_tenant(deps, tenant_id=t.tenant_id, name=t.name, time_zone=t.time_zone),
            }
            for role in ROLES[1:]:
                held[role] = admin.issue_api_key(deps, t.tenant_id, role=role, name=f"demo {role}").api_key
            queues, agents = _models(t)
            for q in queues:
                admin.put_queue(deps, q)
            for a in agents:
                admin.put_agent(deps, a)
                held[f"agent:{a.agent_id}"] = admin.issue_api_key(
                    deps, t.tenant_id, role="agent", agent_id=a.agent_id, name=f"{a.name}'s desk").api_key
            _seed_customers(deps, t)
            if t.transfer_settings is not None:
                _seed_transfer_settings(deps, t)
            if t.outbound_demo:
                from local import outbound_demo

                outbound_demo.seed(deps, t.tenant_id)
        return keys


def _seed_transfer_settings(deps: Any, t: TenantSeed) -> None:
    from ccaas.domain.transfers import TransferSettings
    from ccaas.usecases import transfers

    transfers.put_settings(deps, t.tenant_id, TransferSettings.model_validate(dict(t.transfer_settings or {})))


def _seed_customers(deps: Any, t: TenantSeed) -> None:
    from ccaas.domain.models import Channel, Contact, ContactState
    from ccaas.usecases import admin, connect_flow, customers

    if t.connect_instance_arn:
        admin.register_connect_instance(deps, tenant_id=t.tenant_id, instance_arn=t.connect_instance_arn)
        connect_flow.put_flow_settings(deps, t.tenant_id, connect_flow.FlowSettings(queues=dict(t.connect_queue_arns)))
    now = deps.clock.now_ms()
    for c in t.customers:
        profile = customers.CustomerProfile(tier=c.tier, vip=c.vip, preferred_language=c.preferred_language,
                                            phones=list(c.phones), emails=list(c.emails))
        customers.put_customer(deps, t.tenant_id, c.customer_id, profile)
        if c.last_contact is not None:
            queue_id, agent_id, reason, hours_ago = c.last_contact
            ended = now - int(hours_ago * 3_600_000)
            contact = Contact(
                tenant_id=t.tenant_id, contact_id=f"seed-{c.customer_id}-last", channel=Channel.VOICE, queue_id=queue_id,
                state=ContactState.COMPLETED, customer_id=c.customer_id, reason=reason, agent_id=agent_id,
                initiated_at=ended - 600_000, connected_at=ended - 540_000, ended_at=ended,
            )
            if deps.store.recent_contacts(t.tenant_id, c.customer_id, 1) == []:
                deps.store.save(contacts=[contact])


# SIMULATE=0 (`python -m local --no-simulate`): a person types the README's walkthrough between calls.
TYPING_OFFER_TIMEOUT_S = 600
TYPING_QUEUE_WAIT_S = 1800


def timers_for_typing(environment: Mapping[str, str], tenant_id: str = "demo") -> None:
    """Offers wait 10 minutes for an accept and contacts 30 minutes in a queue, instead of the demo's
    30 s and 45-120 s that simulated agents and customers live by (a person would lose every race)."""
    with env_overlay.overlay(environment):
        from ccaas.bootstrap import dependencies
        from ccaas.usecases import admin, routing

        deps = dependencies()
        policy = routing.policy_of(deps, tenant_id)
        reservation = policy.reservation.model_copy(update={"timeout_s": TYPING_OFFER_TIMEOUT_S})
        routing.put_policy(deps, tenant_id, policy.model_copy(update={"reservation": reservation}))
        for queue in deps.config.list_queues(tenant_id):
            admin.put_queue(deps, queue.model_copy(update={"max_wait_s": max(queue.max_wait_s, TYPING_QUEUE_WAIT_S)}))
