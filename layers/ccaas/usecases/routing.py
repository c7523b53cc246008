"""Routing decisions with the tenant's policy (ccaas.domain.routing_engine), explained and kept."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import Agent, Contact, Queue
from ccaas.domain.routing_engine import (
    Decision,
    JourneyContext,
    PastContact,
    RoutingPlan,
    RoutingPolicy,
    plan_contact,
    select_agent,
    select_contact,
)

ROUTING_SETTINGS = "routing"
_JOURNEY_DEPTH = 10


def policy_of(deps: Dependencies, tenant_id: str) -> RoutingPolicy:
    stored = deps.config.get_settings(tenant_id, ROUTING_SETTINGS)
    return RoutingPolicy() if stored is None else RoutingPolicy.model_validate(stored)


def put_policy(deps: Dependencies, tenant_id: str, policy: RoutingPolicy) -> RoutingPolicy:
    deps.config.put_settings(tenant_id, ROUTING_SETTINGS, policy.model_dump(mode="json"))
    return policy


def journey_of(deps: Dependencies, tenant_id: str, customer_id: str | None, reason: str | None, exclude: str) -> JourneyContext | None:
    if not customer_id:
        return None
    history = [
        PastContact(
            contact_id=c.contact_id, started_at=c.initiated_at, ended_at=c.ended_at, agent_id=c.agent_id,
            queue_id=c.queue_id, channel=c.channel.value, reason=c.reason, outcome=c.state.value,
        )
        for c in deps.store.recent_contacts(tenant_id, customer_id, _JOURNEY_DEPTH)
        if c.contact_id != exclude
    ]
    return JourneyContext(customer_id=customer_id, reason=reason, history=tuple(history))


def plan_for(deps: Dependencies, contact: Contact, queue: Queue, segment: str | None) -> RoutingPlan:
    journey = journey_of(deps, contact.tenant_id, contact.customer_id, contact.reason, contact.contact_id)
    policy = policy_of(deps, contact.tenant_id)
    return plan_contact(queue, policy, segment, journey, deps.clock.now_ms(), base_priority=contact.priority)


def choose_agent(deps: Dependencies, contact: Contact, queue: Queue, candidates: Sequence[Agent]) -> Decision:
    return select_agent(contact, queue, policy_of(deps, contact.tenant_id), candidates, deps.clock.now_ms())


def choose_contact(
    deps: Dependencies, agent: Agent, waiting: Mapping[str, Sequence[Contact]], queues: Mapping[str, Queue]
) -> Decision:
    return select_contact(agent, waiting, queues, policy_of(deps, agent.tenant_id), deps.clock.now_ms())


def keep(deps: Dependencies, tenant_id: str, contact_id: str, decision: Decision) -> None:
    deps.store.record_decision(tenant_id, contact_id, decision.model_dump(mode="json", exclude_defaults=True))


def decisions_of(deps: Dependencies, tenant_id: str, contact_id: str) -> list[dict]:
    deps.store.get_contact(tenant_id, contact_id)  # 404 for another tenant's or an unknown contact
    return deps.store.decisions(tenant_id, contact_id)
