"""Which routing steps can be satisfied now, by whom (pure: the agents are passed in).

A step is *reachable* when at least one staffed agent (Agent.is_staffed: available, busy, on a
break…; not OFFLINE nor going OFFLINE once its contacts end) could take the contact under it: the agent
serves the contact's queue, has the queue's required skills, has capacity on the contact's channel at all, has not refused the contact, and meets
the step (is one of its preferred agents, matches its condition). A busy agent counts: the contact
waits for them while the step is in force, as planned. An unreachable step holds a contact for nothing
(a last agent who logged off, who no longer serves the queue or never existed; a skill level nobody
on shift has), so at decision time

    resolve_step(contact, queue, policy, now, staff)  the step in force, unreachable ones passed over

moves on to the first reachable step at once. The skipped steps are listed on the returned view (and on
the Decision, so GET /contacts/{id}/routing says why); the steps keep their planned absolute expiries.
Nothing is stored: the next decision looks again, so a step becomes the one in force again if its
agent logs back on before it expires. The final "any agent of the queue" step is never skipped.

    readiness(contact, queue, policy, now, available, staff)
        seconds until one of the `available` agents may take the contact (a step it satisfies is in
        force, its queue delay waited; 0: now; None: none of them ever may), and how many may then;
        the wait estimate uses it (estimates.estimate_wait).

StaffedAgents holds the agents these questions are asked of. It may load them lazily (a callable), so
a caller that reads them from a store pays the read only when a decision needs it, i.e. when no
available candidate satisfies the step in force; the agents already at hand (`know`: the candidates
just scanned) are asked first, and `lookup` answers a preferred-agent step with one agent read
instead of all of them. `current`: agents the caller has just written (a status or profile change): they stand
for the stored ones whatever the load returns (a roster kept a few seconds still has them as they were).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import NamedTuple

from ccaas.domain.lifecycle import excluded_sender
from ccaas.domain.models import Agent, Contact, HandoverMode, Queue
from ccaas.domain.routing_engine.conditions import matches, render
from ccaas.domain.routing_engine.decisions import SkippedStep
from ccaas.domain.routing_engine.policy import RoutingPolicy
from ccaas.domain.routing_engine.steps import StepView, current_step, steps_ahead

__all__ = ["Readiness", "StaffedAgents", "as_staff", "readiness", "ready_in_s", "resolve_step", "skipped_note",
           "unreachable"]


class StaffedAgents:
    """The tenant's agents (any status; only staffed ones count), loaded at most once and only if asked."""

    def __init__(self, agents: Iterable[Agent] | Callable[[], Iterable[Agent]],
                 *, lookup: Callable[[str], Agent | None] | None = None, current: Iterable[Agent] = ()) -> None:
        self._current = {a.agent_id: a for a in current}
        self._load = agents if callable(agents) else None
        self._all: dict[str, Agent] | None = None if callable(agents) else self._overlaid(agents)
        self._lookup = lookup
        self._known: dict[str, Agent] = dict(self._current)
        self._one: dict[str, Agent | None] = {}
        self._serving: dict[str, tuple[Agent, ...]] = {}
        self._able: dict[tuple, tuple[str, ...]] = {}

    @property
    def loaded(self) -> bool:
        return self._all is not None

    def _overlaid(self, agents: Iterable[Agent]) -> dict[str, Agent]:
        return {**{a.agent_id: a for a in agents}, **self._current}

    def _agents(self) -> dict[str, Agent]:
        if self._all is None:
            self._all = self._overlaid(self._load())  # type: ignore[misc]
        return self._all

    def know(self, agents: Iterable[Agent]) -> StaffedAgents:
        """Agents the caller has at hand (the candidates just read): asked first, before any load."""
        for a in agents:
            self._known.setdefault(a.agent_id, a)
        return self

    def known(self) -> Iterable[Agent]:
        return self._known.values()

    def get(self, agent_id: str) -> Agent | None:
        if agent_id in self._known:
            return self._known[agent_id]
        if self._all is None and self._lookup is not None:
            if agent_id not in self._one:
                self._one[agent_id] = self._lookup(agent_id)
            return self._one[agent_id]
        return self._agents().get(agent_id)

    def serving(self, queue: Queue) -> tuple[Agent, ...]:
        """Staffed agents serving the queue with its required skills."""
        found = self._serving.get(queue.queue_id)
        if found is None:
            found = tuple(a for a in self._agents().values()
                          if a.is_staffed and a.serves(queue.queue_id) is not None
                          and (not queue.required_skills or a.has_skills(queue.required_skills)))
            self._serving[queue.queue_id] = found
        return found

    def delays_ms(self, queue: Queue) -> tuple[int, ...]:
        """The queue delays (ms, ascending) of the staffed agents serving the queue: an agent takes the queue's
        contacts only once they have waited that long (QueueAssignment.delay_s)."""
        return tuple(sorted({a.serves(queue.queue_id).delay_s * 1000 for a in self.serving(queue)  # type: ignore[union-attr]
                             if a.serves(queue.queue_id).delay_s}))  # type: ignore[union-attr]

    def able(self, queue: Queue, contact: Contact, condition) -> tuple[str, ...]:
        """Ids of the staffed agents of the queue with capacity on the contact's channel meeting `condition`."""
        key = (queue.queue_id, contact.channel, render(condition))
        found = self._able.get(key)
        if found is None:
            found = tuple(a.agent_id for a in self.serving(queue)
                          if a.capacity.get(contact.channel, 0) > 0 and matches(condition, a.skills))
            self._able[key] = found
        return found


def as_staff(staff: StaffedAgents | Iterable[Agent] | Callable[[], Iterable[Agent]] | None) -> StaffedAgents | None:
    """A StaffedAgents from what a caller passes (None stays None: steps are taken as planned)."""
    if staff is None or isinstance(staff, StaffedAgents):
        return staff
    return StaffedAgents(staff)


def _agent_problem(agent: Agent | None, contact: Contact, queue: Queue, condition) -> str | None:
    """Why this agent could never take the contact under a step with `condition` (None: it could)."""
    if agent is None:
        return "agent_unknown"
    if not agent.is_staffed:  # OFFLINE, or going OFFLINE once its contacts end (Agent.next_status)
        return "agent_offline"
    if agent.serves(queue.queue_id) is None:
        return "agent_not_in_queue"
    if (queue.required_skills and not agent.has_skills(queue.required_skills)) or not matches(condition, agent.skills):
        return "agent_lacks_skills"
    if agent.capacity.get(contact.channel, 0) < 1:
        return "agent_no_channel"
    if agent.agent_id in contact.declined_by:
        return "agent_declined"
    return None


_PROBLEM_TEXT = {"agent_unknown": "is not an agent of the tenant", "agent_offline": "is OFFLINE",
                 "agent_not_in_queue": "does not serve the queue", "agent_lacks_skills": "lacks the skills",
                 "agent_no_channel": "takes no contact of this channel", "agent_declined": "refused the contact"}


_SENT_TEXT = {HandoverMode.BLIND: "transferred the contact", HandoverMode.CONSULT: "consulted on the contact",
              HandoverMode.ESCALATION: "escalated the contact"}


def _problem_text(agent_id: str, problem: str, contact: Contact) -> str:
    """The sender kept away from a segment it sent on is in declined_by for having sent it, not for a refusal
    (lifecycle.excluded_sender): said as what it did (the reason code stays agent_declined)."""
    if problem == "agent_declined" and contact.handover is not None and agent_id == excluded_sender(contact):
        return _SENT_TEXT.get(contact.handover.mode, "sent the contact on")
    return _PROBLEM_TEXT[problem]


def unreachable(step: StepView, contact: Contact, queue: Queue, staff: StaffedAgents) -> tuple[str, str] | None:
    """(reason, detail) when no staffed agent can satisfy the step (module docstring), else None."""
    if step.final:
        return None
    if step.preferred:
        problems = []
        for agent_id in step.preferred:
            problem = _agent_problem(staff.get(agent_id), contact, queue, step.condition)
            if problem is None:
                return None
            problems.append((agent_id, problem))
        reasons = {p for _, p in problems}
        reason = reasons.pop() if len(reasons) == 1 else "preferred_agents_unreachable"
        return reason, "; ".join(f"{a} {_problem_text(a, p, contact)}" for a, p in problems)
    if any(_agent_problem(a, contact, queue, step.condition) is None for a in staff.known()):
        return None
    able = staff.able(queue, contact, step.condition)
    if any(a not in contact.declined_by for a in able):
        return None
    return "no_staffed_agent", (f"no staffed agent of {queue.queue_id} meets {render(step.condition)}"
                                + (" (those who do refused it)" if able else ""))


def resolve_step(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int, staff: StaffedAgents,
                 nominal: StepView | None = None) -> StepView:
    """The step in force with the unreachable ones passed over (module docstring); `nominal` is
    current_step's answer when the caller has it. Returns `nominal` itself when it is reachable."""
    view = nominal if nominal is not None else current_step(contact, queue, policy, now_ms)
    if view.final or unreachable(view, contact, queue, staff) is None:
        return view
    skipped: list[SkippedStep] = []
    for ahead in steps_ahead(contact, queue, policy, now_ms):
        why = unreachable(ahead, contact, queue, staff)
        if why is None:
            return replace(ahead, skipped=tuple(skipped))
        skipped.append(SkippedStep(index=ahead.index, label=ahead.label, reason=why[0], detail=why[1],
                                   expires_at=ahead.expires_at))
    raise AssertionError("the final step is never unreachable")  # pragma: no cover


def skipped_note(step: StepView) -> str:
    """The `why` prefix of a decision taken under a step reached by skipping earlier ones."""
    if not step.skipped:
        return ""
    return "; ".join(f"skipped {s.label!r} ({s.detail or s.reason})" for s in step.skipped) + "; "


class Readiness(NamedTuple):
    """When the contact's steps first let an available agent take it, and how many of them then."""

    in_s: float | None  # seconds from now (0: now); None when none of them ever may
    agents: int  # the available agents that may take it at that time


def readiness(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int, available: Iterable[Agent],
              staff: StaffedAgents) -> Readiness:
    """When one of the `available` agents (free now, with a slot on the contact's channel) may first take the
    contact, as a decision would decide it: under a step in force (unreachable steps ahead are skipped when
    their turn comes, so they do not hold the contact; the final "any agent of the queue" step included, with
    the queue's required skills), and once the contact has waited the agent's queue delay (QueueAssignment.
    delay_s, counted from enqueued_at). `agents`: how many of them may take it then."""
    free = [a for a in available if a.is_available and a.free_slots(contact.channel) > 0]
    enqueued = contact.enqueued_at if contact.enqueued_at is not None else now_ms
    earliest: dict[str, int] = {}  # agent id -> when it may first take the contact
    begin = now_ms  # when the step looked at comes into force
    for ahead in (steps_ahead(contact, queue, policy, now_ms) if free else ()):
        able = [a for a in free if (not ahead.preferred or a.agent_id in ahead.preferred)
                and _agent_problem(a, contact, queue, ahead.condition) is None]
        if not able and unreachable(ahead, contact, queue, staff) is not None:
            continue  # passed over at once when its turn comes
        end = ahead.expires_at
        for agent in able:
            at = max(begin, enqueued + agent.serves(queue.queue_id).delay_s * 1000)  # type: ignore[union-attr]
            if end is None or at < end:
                earliest[agent.agent_id] = at
        if end is None or earliest:
            break  # an agent found here may take it before this step ends, so before any later step starts
        begin = max(begin, end)
    if not earliest:
        return Readiness(None, 0)
    first = min(earliest.values())
    return Readiness(max(0, first - now_ms) / 1000.0, sum(1 for at in earliest.values() if at == first))


def ready_in_s(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int, available: Iterable[Agent],
               staff: StaffedAgents) -> float | None:
    """Seconds until one of the `available` agents may take the contact (readiness): 0 now; None: never."""
    return readiness(contact, queue, policy, now_ms, available, staff).in_s
