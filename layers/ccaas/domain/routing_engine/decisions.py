"""Explainable decisions: every routing decision returns one compact, JSON-serialisable record (pure).

    {"kind": "select_agent", "outcome": "offer", "winner": "a17", "subject": "c42", "at": 1700000000000,
     "step": {"index": 1, "of": 2, "label": "queue step 2", "condition": "billing>=2", ...},
     "considered": ["a17", "a03", ...], "considered_count": 12,
     "scores": [{"id": "a17", "score": 2.31, "parts": {"proficiency": 0.8, "idle": 1.0, "occupancy": 0.5}}, ...],
     "skipped": {"step": 3, "no_capacity": 1},
     "skipped_steps": [{"index": 0, "label": "last agent a9", "reason": "agent_offline", "detail": "a9 is OFFLINE"}],
     "why": "a17 scored 2.31 vs a03 2.11: proficiency +0.20"}

`considered` lists the eligible candidates (best first, at most 50), `scores` the top few with their
score breakdown (each part already multiplied by its weight; exact in the model, rounded to 4 places
when serialised), `skipped` counts the ineligible ones by reason. `skipped_steps` lists the steps passed
over at decision time because no staffed agent could satisfy them (reach.py): `step` is then the first
step one can, although the earlier ones have not expired.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

__all__ = ["Decision", "ScoreLine", "SkippedStep", "StepInForce"]

Kind = Literal["select_agent", "select_contact", "callback", "reservation"]
Outcome = Literal["offer", "wait", "callback", "queue", "reoffer", "drop"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepInForce(_Record):
    index: int
    of: int
    label: str
    condition: str
    preferred_agents: tuple[str, ...] = ()
    expires_at: int | None = None


class SkippedStep(_Record):
    """A step passed over because no staffed agent serving the queue can satisfy it (reach.py)."""

    index: int
    label: str
    reason: str = Field(description="agent_unknown, agent_offline, agent_not_in_queue, agent_lacks_skills, "
                        "agent_no_channel, agent_declined or preferred_agents_unreachable (a preferred-agent step), "
                        "no_staffed_agent (a skill step)")
    detail: str = ""
    expires_at: int | None = None


class ScoreLine(_Record):
    id: str
    score: float
    parts: dict[str, float]
    step: int | None = None  # select_contact: the index of that contact's step in force

    @field_serializer("score")
    def _round_score(self, v: float) -> float:
        return round(v, 4)

    @field_serializer("parts")
    def _round_parts(self, v: dict[str, float]) -> dict[str, float]:
        return {k: round(x, 4) for k, x in v.items()}


class Decision(_Record):
    kind: Kind
    outcome: Outcome
    winner: str | None
    subject: str
    at: int
    step: StepInForce | None = None
    considered: tuple[str, ...] = ()
    considered_count: int = 0
    scores: tuple[ScoreLine, ...] = ()
    skipped: dict[str, int] = {}
    skipped_steps: tuple[SkippedStep, ...] = ()
    why: str = ""
    data: dict[str, float | int | str | None] = {}

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)
