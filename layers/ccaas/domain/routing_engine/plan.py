"""RoutingPlan: the routing state a contact carries (Contact.routing), built by steps.plan_contact.

This module imports nothing from ccaas.domain.models, so models.py can import RoutingPlan from here
without an import cycle.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ccaas.domain.routing_engine.conditions import Condition
from ccaas.domain.routing_engine.journey import JourneySummary

__all__ = ["Outcome", "PlannedStep", "RoutingPlan"]

Outcome = Literal["queue", "self_service", "closed"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlannedStep(_Frozen):
    label: str
    condition: Condition | None = None
    preferred_agents: tuple[str, ...] = ()
    expires_at: int | None = Field(default=None, description="epoch ms; None = never expires")


class RoutingPlan(_Frozen):
    """The routing state a contact carries (Contact.routing)."""

    queue_id: str
    planned_at: int
    priority: int = Field(ge=1, le=10)
    outcome: Outcome = "queue"
    steps: tuple[PlannedStep, ...] = ()
    segment: str | None = None
    flags: tuple[str, ...] = ()
    repeat_of: str | None = None
    next_open_at: int | None = None
    journey: JourneySummary | None = None
    notes: tuple[str, ...] = ()

    @property
    def repeat_contact(self) -> bool:
        return "repeat_contact" in self.flags

    def step_index(self, now_ms: int) -> int:
        """Index of the step in force; len(steps) once all have expired (any agent of the queue)."""
        for i, step in enumerate(self.steps):
            if step.expires_at is None or now_ms < step.expires_at:
                return i
        return len(self.steps)
