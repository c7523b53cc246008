"""The Amazon Connect flow tests' tenant shape, shared by the unit and handler tiers."""
from __future__ import annotations

from typing import Any

from ccaas.domain.models import Channel, Queue, SkillRequirement
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import admin, routing

# Open on Saturdays 09:00-12:00 London time only: "closed" on a weekday for the hours and route tests.
BILLING_HOURS = {"time_zone": "Europe/London", "weekly": {"sat": [{"start": "09:00", "end": "12:00"}]}}


def add_flow_queues(deps: Any, tenant_id: str, queue_policies: dict[str, Any] | None = None) -> None:
    """sales (VOICE, sales>=2), support (VOICE, CHAT, SMS), billing (EMAIL, TASK, VOICE; BILLING_HOURS),
    with `queue_policies` merged into the routing policy's queues."""
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE}),
                                required_skills=(SkillRequirement(skill="sales", min_proficiency=2),)))
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="support", name="Support",
                                channels=frozenset({Channel.VOICE, Channel.CHAT, Channel.SMS})))
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="billing", name="Billing",
                                channels=frozenset({Channel.EMAIL, Channel.TASK, Channel.VOICE})))
    routing.put_policy(deps, tenant_id, RoutingPolicy.model_validate(
        {"queues": {"billing": {"hours": BILLING_HOURS}, **(queue_policies or {})}}))
