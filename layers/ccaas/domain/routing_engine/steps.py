"""Routing plans: the steps a contact carries, derived at intake from the queue's policy, the
customer's segment and journey (pure).

Order of steps in a plan (each with an absolute expiry; a step's expiry_s is its own duration, so
step i expires at planned_at + Σ_{j≤i} expiry_s_j):
  1. last agent (journey): only the customer's last agent, if their contact ended within the window;
  2. segment first step: the queue's skill condition with every skill raised to the tier's minimum
     proficiency (best agents first), or the tier's explicit first step;
  3. the queue's own steps.
After the last step has expired any agent serving the queue may take the contact (the queue's
required_skills still apply: they define who serves the queue).

A contact without a plan (Contact.routing absent or for another queue) follows the queue's default
steps counted from its enqueued_at, at its own Contact.priority.

current_step is the step in force by the clock alone. At decision time reach.resolve_step passes over
the steps no staffed agent can satisfy (e.g. a last agent who is offline): steps_ahead lists the
candidates, the step in force by the clock first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ccaas.domain.models import Contact, Queue
from ccaas.domain.routing_engine.conditions import AllOf, SkillAtLeast, positive_leaves, raise_floor, render
from ccaas.domain.routing_engine.journey import JourneyContext, analyse_journey
from ccaas.domain.routing_engine.plan import Outcome, PlannedStep, RoutingPlan
from ccaas.domain.routing_engine.policy import QueuePolicy, RoutingPolicy, StepSpec
from ccaas.domain.vocabulary import STORED_DOCUMENT

__all__ = ["PlannedStep", "RoutingPlan", "StepView", "current_step", "plan_contact", "plan_priority", "queue_condition",
           "required_condition", "steps_ahead"]

FINAL_LABEL = "any agent of the queue"


@dataclass(frozen=True, slots=True)
class StepView:
    """The step in force for one contact at one instant, plan or queue default alike."""

    index: int
    total: int
    label: str
    condition: object | None
    preferred: tuple[str, ...]
    expires_at: int | None
    # the skill condition proficiency is ranked on when the step names none: the first step naming skills,
    # else the queue's required skills (they bound every step, the last one too)
    focus: object | None
    priority: int
    skipped: tuple = field(default=())  # decisions.SkippedStep: earlier steps passed over (reach.resolve_step)
    # seconds after the contact's routing started (planned_at, else enqueued_at) at which this step took
    # effect: 0 for the first step; None when unknown (a later step after one that never expires)
    after_s: float | None = None

    @property
    def final(self) -> bool:
        """After the last step: any agent serving the queue (never skipped)."""
        return self.index >= self.total


def queue_condition(queue: Queue, queue_policy: QueuePolicy):
    """The queue's skill condition: its first step naming skills, else its required skills, else None."""
    return _focus([step.condition for step in queue_policy.steps], required_condition(queue))


def required_condition(queue: Queue):
    """The queue's required skills as a condition (None when it requires none)."""
    return _as_condition(queue.required_skills) if queue.required_skills else None


@lru_cache(maxsize=256)  # asked for every waiting contact a freed agent looks at: built once per requirement
def _as_condition(required: tuple) -> object:
    leaves = tuple(SkillAtLeast(skill=r.skill, min=r.min_proficiency) for r in required)
    return leaves[0] if len(leaves) == 1 else AllOf(all=leaves)


def _focus(conditions: Sequence[object | None], fallback: object | None) -> object | None:
    for c in conditions:
        if c is not None and next(positive_leaves(c), None) is not None:
            return c
    return fallback


def _plan_of(contact: Contact) -> RoutingPlan | None:
    """The contact's plan when it was made for the contact's queue (a plan for another queue is ignored)."""
    d = getattr(contact, "__dict__", None)
    plan = d.get("routing") if d is not None else getattr(contact, "routing", None)
    return plan if isinstance(plan, RoutingPlan) and plan.queue_id == contact.queue_id else None


def plan_priority(contact: Contact) -> int:
    """The priority the contact is routed at (StepView.priority): its plan's, else its own."""
    plan = _plan_of(contact)
    return plan.priority if plan is not None else contact.priority


def current_step(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int) -> StepView:
    plan = _plan_of(contact)
    if plan is not None:
        i = plan.step_index(now_ms)
        focus = _focus([s.condition for s in plan.steps], required_condition(queue))
        after = _after_s(plan.planned_at, plan.steps[i - 1].expires_at if i else plan.planned_at)
        if i < len(plan.steps):
            s = plan.steps[i]
            return StepView(i, len(plan.steps), s.label, s.condition, s.preferred_agents, s.expires_at, focus,
                            plan.priority, after_s=after)
        return StepView(i, len(plan.steps), FINAL_LABEL, None, (), None, focus, plan.priority, after_s=after)
    qp = policy.for_queue(queue.queue_id)
    start = contact.enqueued_at if contact.enqueued_at is not None else contact.initiated_at
    focus = queue_condition(queue, qp)
    priority = contact.priority
    at = start
    for i, s in enumerate(qp.steps):
        after = _after_s(start, at)
        if s.expiry_s is None:
            return StepView(i, len(qp.steps), s.name or f"step {i + 1}", s.condition, s.preferred_agents, None,
                            focus, priority, after_s=after)
        at += int(s.expiry_s * 1000)
        if now_ms < at:
            return StepView(i, len(qp.steps), s.name or f"step {i + 1}", s.condition, s.preferred_agents, at,
                            focus, priority, after_s=after)
    return StepView(len(qp.steps), len(qp.steps), FINAL_LABEL, None, (), None, focus, priority,
                    after_s=_after_s(start, at))


def _after_s(start: int | None, at: int | None) -> float | None:
    """Seconds from the start of routing to a step's start (StepView.after_s)."""
    return None if start is None or at is None else max(0.0, (at - start) / 1000.0)


def steps_ahead(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int) -> list[StepView]:
    """The step in force by the clock (current_step) and every later one, ending with the final "any
    agent of the queue" view. Steps after one that never expires are left out, as plan_contact does."""
    plan = _plan_of(contact)
    if plan is not None:
        n, priority = len(plan.steps), plan.priority
        focus = _focus([s.condition for s in plan.steps], required_condition(queue))
        raw = [(s.label, s.condition, s.preferred_agents, s.expires_at) for s in plan.steps]
        start: int | None = plan.planned_at
    else:
        qp = policy.for_queue(queue.queue_id)
        n, focus, priority = len(qp.steps), queue_condition(queue, qp), contact.priority
        at: int | None = contact.enqueued_at if contact.enqueued_at is not None else contact.initiated_at
        start = at
        raw = []
        for i, s in enumerate(qp.steps):
            at = None if at is None or s.expiry_s is None else at + int(s.expiry_s * 1000)
            raw.append((s.name or f"step {i + 1}", s.condition, s.preferred_agents, at))
    views = []
    began: int | None = start  # when step i took effect
    for i, (label, cond, preferred, expires_at) in enumerate(raw):
        after, began = _after_s(start, began), expires_at
        if expires_at is not None and now_ms >= expires_at:
            continue
        views.append(StepView(i, n, label, cond, preferred, expires_at, focus, priority, after_s=after))
        if expires_at is None:
            break
    views.append(StepView(n, n, FINAL_LABEL, None, (), None, focus, priority, after_s=_after_s(start, began)))
    return views


def plan_contact(
    queue: Queue,
    policy: RoutingPolicy,
    segment: str | None,
    journey: JourneyContext | None,
    now_ms: int,
    *,
    base_priority: int | None = None,
    estimated_wait_s: float | None = None,
) -> RoutingPlan:
    """Plan a contact at intake (module docstring for the step order).

    Priority: the segment's, else the queue policy's, else base_priority (the contact's own), else 5;
    a repeat contact then lowers the number by journey.repeat_priority_boost (never below 1).
    Outcome: "self_service" when the segment deflects (always, or when estimated_wait_s exceeds its
    threshold), "closed" when the queue's hours say closed now (next_open_at set; the steps are still
    planned so the caller may queue it anyway), else "queue".
    """
    qp = policy.for_queue(queue.queue_id)
    notes: list[str] = []
    flags: list[str] = []
    seg = policy.segments.get(segment) if segment else None
    if segment and seg is None:
        notes.append(f"segment {segment!r} has no policy: treated as standard")
    priority = (seg.priority if seg and seg.priority else None) or qp.priority or base_priority or 5
    if seg and seg.priority:
        notes.append(f"segment {segment}: priority {seg.priority}")

    insight = None
    if journey is not None:
        jp = policy.journey
        insight = analyse_journey(journey, now_ms, last_agent_window_s=jp.last_agent_window_s,
                                  fcr_window_days=jp.fcr_window_days, recent_limit=jp.recent_limit)
        if insight.repeat_of is not None:
            flags.append("repeat_contact")
            if jp.repeat_priority_boost:
                priority = max(1, priority - jp.repeat_priority_boost)
            notes.append(f"repeat of {insight.repeat_of.contact_id} (same reason within "
                         f"{jp.fcr_window_days:g} d): priority {priority}")

    common = dict(queue_id=queue.queue_id, planned_at=now_ms, priority=priority, segment=segment,
                  repeat_of=insight.repeat_of.contact_id if insight and insight.repeat_of else None,
                  journey=insight.summary if insight else None)

    if seg is not None and (seg.deflect == "always" or (
            seg.deflect == "when_wait_exceeds" and estimated_wait_s is not None
            and estimated_wait_s > seg.deflect_wait_s)):
        notes.append(f"segment {segment}: self-service ({seg.deflect})")
        return RoutingPlan(outcome="self_service", flags=(*flags, "self_service"), notes=tuple(notes), **common)

    specs: list[tuple[StepSpec, str]] = []
    if insight is not None and insight.last_agent_id and policy.journey.prefer_last_agent:
        flags.append("last_agent_preferred")
        specs.append((StepSpec(preferred_agents=(insight.last_agent_id,), expiry_s=policy.journey.last_agent_step_s),
                      f"last agent {insight.last_agent_id}"))
        notes.append(f"last agent {insight.last_agent_id} preferred for {policy.journey.last_agent_step_s:g} s")
    if seg is not None:
        if seg.first_step is not None:
            specs.append((seg.first_step, seg.first_step.name or f"segment {segment}"))
            flags.append("segment_first_step")
        elif seg.first_step_min_proficiency:
            base = queue_condition(queue, qp)
            if base is None:
                notes.append(f"segment {segment}: queue names no skill, no best-agents step")
            else:
                cond = raise_floor(base, seg.first_step_min_proficiency)
                # Made from the stored queue's skills, not written by a client: a queue stored before a rule on
                # what a client writes (a "name:value" skill's value) is planned, not refused at every arrival.
                spec = StepSpec.model_validate({"condition": cond, "expiry_s": seg.first_step_expiry_s},
                                               context=STORED_DOCUMENT)
                specs.append((spec, f"segment {segment}: {render(cond)}"))
                flags.append("segment_first_step")
    specs.extend((s, s.name or f"queue step {i + 1}") for i, s in enumerate(qp.steps))

    steps: list[PlannedStep] = []
    at: int | None = now_ms
    for spec, label in specs:
        if at is None:
            notes.append(f"step {label!r} unreachable: an earlier step never expires")
            break
        at = None if spec.expiry_s is None else at + int(spec.expiry_s * 1000)
        steps.append(PlannedStep(label=label, condition=spec.condition, preferred_agents=spec.preferred_agents,
                                 expires_at=at))

    outcome: Outcome = "queue"
    next_open = None
    if qp.hours is not None and not qp.hours.is_open(now_ms):
        outcome, next_open = "closed", qp.hours.next_open(now_ms)
        flags.append("closed")
        notes.append("queue closed" + (f", opens at {next_open}" if next_open is not None else ", no opening ahead"))
    return RoutingPlan(outcome=outcome, steps=tuple(steps), flags=tuple(flags), next_open_at=next_open,
                       notes=tuple(notes), **common)
