"""The routing engine (pure domain code: no I/O, no environment, no clock reads — now_ms is passed in).

    plan_contact(queue, policy, segment, journey, now_ms) -> RoutingPlan     at intake
    select_agent(contact, queue, policy, candidates, now_ms) -> Decision     a contact needs an agent
    select_contact(agent, waiting, queues, policies, now_ms) -> Decision     an agent has room
    resolve_step(contact, queue, policy, now_ms, staff) -> StepView          the step in force, unreachable ones skipped
    estimate_wait(position_in_queue(contact, waiting, waiting_order(queue, …)), stats) -> WaitEstimate
    decide_callback(contact, policy, estimate, now_ms) -> Decision
    after_failed_offer(contact, agent_id, "rejected" | "timeout", policy, now_ms) -> OfferFollowUp
    AgentIndex                                                               available agents by (queue, channel)

Modules: conditions (skill and/or/not), policy (tenant JSON), plan (RoutingPlan), steps (planning),
reach (which steps staffed/available agents can satisfy), journey, scoring (formulas), selection,
estimates (EWT), hours, outcomes (reservation, callback), decisions, index.

Names are imported lazily (PEP 562): `from ccaas.domain.models import …` may import
`ccaas.domain.routing_engine.plan` (which imports nothing from models) without an import cycle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ccaas.domain.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "Condition": "conditions",
    "fit": "conditions",
    "matches": "conditions",
    "parse_condition": "conditions",
    "render": "conditions",
    "Decision": "decisions",
    "ScoreLine": "decisions",
    "SkippedStep": "decisions",
    "StepInForce": "decisions",
    "QueueStats": "estimates",
    "WaitEstimate": "estimates",
    "blended_aht": "estimates",
    "effective_agents": "estimates",
    "estimate_wait": "estimates",
    "position_in_queue": "estimates",
    "Holiday": "hours",
    "HoursOfOperation": "hours",
    "TimeRange": "hours",
    "AgentIndex": "index",
    "JourneyContext": "journey",
    "JourneySummary": "journey",
    "PastContact": "journey",
    "OfferFollowUp": "outcomes",
    "after_failed_offer": "outcomes",
    "decide_callback": "outcomes",
    "next_check_at": "outcomes",
    "offers_callback": "outcomes",
    "reservation_deadline": "outcomes",
    "PlannedStep": "plan",
    "RoutingPlan": "plan",
    "AgentScoring": "policy",
    "CallbackPolicy": "policy",
    "ContactScoring": "policy",
    "CrossChannelRule": "policy",
    "JourneyPolicy": "policy",
    "QueuePolicy": "policy",
    "ReservationPolicy": "policy",
    "RoutingPolicy": "policy",
    "RoutingProfile": "policy",
    "SegmentPolicy": "policy",
    "StepSpec": "policy",
    "Readiness": "reach",
    "StaffedAgents": "reach",
    "readiness": "reach",
    "ready_in_s": "reach",
    "resolve_step": "reach",
    "waiting_order": "scoring",
    "eligibility": "selection",
    "free_slots": "selection",
    "select_agent": "selection",
    "select_contact": "selection",
    "current_step": "steps",
    "plan_contact": "steps",
    "steps_ahead": "steps",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # static tools see the eager imports
    from ccaas.domain.routing_engine.conditions import (  # noqa: F401
        Condition,
        fit,
        matches,
        parse_condition,
        render,
    )
    from ccaas.domain.routing_engine.decisions import (  # noqa: F401
        Decision,
        ScoreLine,
        SkippedStep,
        StepInForce,
    )
    from ccaas.domain.routing_engine.estimates import (  # noqa: F401
        QueueStats,
        WaitEstimate,
        blended_aht,
        effective_agents,
        estimate_wait,
        position_in_queue,
    )
    from ccaas.domain.routing_engine.hours import (  # noqa: F401
        Holiday,
        HoursOfOperation,
        TimeRange,
    )
    from ccaas.domain.routing_engine.index import (  # noqa: F401
        AgentIndex,
    )
    from ccaas.domain.routing_engine.journey import (  # noqa: F401
        JourneyContext,
        JourneySummary,
        PastContact,
    )
    from ccaas.domain.routing_engine.outcomes import (  # noqa: F401
        OfferFollowUp,
        after_failed_offer,
        decide_callback,
        next_check_at,
        offers_callback,
        reservation_deadline,
    )
    from ccaas.domain.routing_engine.plan import (  # noqa: F401
        PlannedStep,
        RoutingPlan,
    )
    from ccaas.domain.routing_engine.policy import (  # noqa: F401
        AgentScoring,
        CallbackPolicy,
        ContactScoring,
        CrossChannelRule,
        JourneyPolicy,
        QueuePolicy,
        ReservationPolicy,
        RoutingPolicy,
        RoutingProfile,
        SegmentPolicy,
        StepSpec,
    )
    from ccaas.domain.routing_engine.reach import (  # noqa: F401
        Readiness,
        StaffedAgents,
        readiness,
        ready_in_s,
        resolve_step,
    )
    from ccaas.domain.routing_engine.scoring import (  # noqa: F401
        waiting_order,
    )
    from ccaas.domain.routing_engine.selection import (  # noqa: F401
        eligibility,
        free_slots,
        select_agent,
        select_contact,
    )
    from ccaas.domain.routing_engine.steps import (  # noqa: F401
        current_step,
        plan_contact,
        steps_ahead,
    )
