"""Explainable decisions: every routing decision returns one compact, JSON-serialisable record (pure).

    {"kind": "select_agent", "outcome": "offer", "winner": "a17", "subject": "c42", "at": 1700000000000,
     "step": {"index": 1, "of": 2, "number": 2, "final": false, "after_s": 30.0,
              "text": "step 2 of 2 (after 30 s): billing>=2", "label": "queue step 2", "condition": "billing>=2", ...},
     "ranked_on": "billing>=2", "ranking": "ranked on billing>=2 (proficiency), then idle time and free capacity",
     "considered": ["a17", "a03", ...], "considered_count": 12,
     "scores": [{"id": "a17", "score": 2.31, "parts": {"proficiency": 0.8, "idle": 1.0, "occupancy": 0.5},
                 "skills": {"billing": 4}}, ...],
     "skipped": {"step": 3, "no_capacity": 1},
     "skipped_steps": [{"index": 0, "label": "last agent a9", "reason": "agent_offline", "detail": "a9 is OFFLINE"}],
     "why": "ranked on billing>=2 ...; a17 scored 2.31 vs a03 2.11: proficiency +0.20"}

`considered` lists the eligible candidates (best first, at most 50), `scores` the top few with their
score breakdown (each part already multiplied by its weight; exact in the model, rounded to 4 places
when serialised), `skipped` counts the ineligible ones by reason. `skipped_steps` lists the steps passed
over at decision time because no staffed agent could satisfy them (reach.py): `step` is then the first
step one can, although the earlier ones have not expired.

The step in force reads as a supervisor says it: `text` is "step 2 of 3 (after 30 s): billing>=2",
"no relaxation steps configured: any agent of the queue", or "all 3 steps expired (after 90 s): any
agent of the queue"; `index`/`of` stay the 0-based machine form (index == of: after the last step).
When the step names no skill and the queue has none either there is nothing to rank proficiency on:
`ranked_on` is absent, `ranking` says "no skills required: ranked by idle time …" and every score
line's `parts.proficiency` is null (not 0.0, which would read as an unskilled agent).
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
    """The routing step the decision was taken under."""

    index: int = Field(description="0-based index of the step in the contact's plan; equal to `of` after the last "
                       "step has expired (any agent of the queue)")
    of: int = Field(description="how many relaxation steps the plan has (0: none configured)")
    label: str = Field(description="the step's name")
    condition: str = Field(description="the step's skill condition, e.g. billing>=3, or 'any agent'")
    preferred_agents: tuple[str, ...] = Field(default=(), description="agents the step is reserved for, if any")
    expires_at: int | None = Field(default=None, description="epoch ms when the step relaxes; absent: never")
    number: int | None = Field(default=None, description="1-based step number as shown to people; null (absent) "
                               "after the last step (or when there are no steps)")
    final: bool | None = Field(default=None, description="true when no step is in force any more (none configured, "
                               "or all expired): any agent serving the queue may take the contact")
    after_s: float | None = Field(default=None, description="seconds after the contact was queued (or planned) at "
                                  "which this step took effect by the clock; null when unknown or reached early "
                                  "by skipping steps")
    text: str = Field(default="", description="the step in words, e.g. 'step 1 of 3 (after 30 s): billing>=3' or "
                      "'no relaxation steps configured: any agent of the queue'")


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
    """One candidate's score, each part already multiplied by its weight."""

    id: str = Field(description="the agent (select_agent) or contact (select_contact) scored")
    score: float = Field(description="the sum of the parts; higher wins")
    parts: dict[str, float | None] = Field(description="weighted parts of the score; `proficiency` is null when "
                                           "nothing was ranked on (no skill required)")
    step: int | None = Field(default=None, description="select_contact: the index of that contact's step in force")
    skills: dict[str, int] = Field(default={}, description="select_agent: the agent's proficiency (0-5, 0 = lacks "
                                   "it) in each skill proficiency was ranked on")

    @field_serializer("score")
    def _round_score(self, v: float) -> float:
        return round(v, 4)

    @field_serializer("parts")
    def _round_parts(self, v: dict[str, float | None]) -> dict[str, float | None]:
        return {k: None if x is None else round(x, 4) for k, x in v.items()}


class Decision(_Record):
    """One routing decision, explained (module docstring)."""

    kind: Kind = Field(description="select_agent: an agent for a waiting contact; select_contact: a contact for a "
                       "free agent; callback, reservation: their follow-ups")
    outcome: Outcome = Field(description="offer: `winner` is offered; wait: nobody eligible yet; the others: the "
                             "contact's follow-up")
    winner: str | None = Field(description="the agent (select_agent) or contact (select_contact) chosen; null: none")
    subject: str = Field(description="the contact (select_agent) or agent (select_contact) the decision is for")
    at: int = Field(description="epoch ms of the decision")
    step: StepInForce | None = Field(default=None, description="the routing step in force")
    considered: tuple[str, ...] = Field(default=(), description="eligible candidates, best first (at most 50)")
    considered_count: int = Field(default=0, description="how many candidates were eligible")
    scores: tuple[ScoreLine, ...] = Field(default=(), description="the best few candidates with their score parts")
    skipped: dict[str, int] = Field(default={}, description="ineligible candidates counted by reason (step, "
                                    "not_available, no_capacity, declined, queue_skills, delay, ...)")
    skipped_steps: tuple[SkippedStep, ...] = Field(default=(), description="steps passed over: nobody staffed can "
                                                   "satisfy them")
    why: str = Field(default="", description="why the winner won (or why nobody did), in words")
    ranked_on: str | None = Field(default=None, description="select_agent: the skill condition agents' proficiency "
                                  "was ranked on; absent when no skill is required")
    ranking: str = Field(default="", description="select_agent: how the candidates were ranked, in words, e.g. "
                         "'no skills required: ranked by idle time and free capacity'")
    data: dict[str, float | int | str | None] = {}

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)
