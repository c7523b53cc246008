"""Who gets what (pure). Minimal policy: skill match, longest-idle agent, then for a freed agent the
best waiting contact across its routing profile (queue priority, delay, contact priority, longest wait)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ccaas.domain.models import Agent, Contact, Queue


def can_take(agent: Agent, contact: Contact, queue: Queue, now_ms: int) -> bool:
    assignment = agent.serves(contact.queue_id)
    if assignment is None or agent.free_slots(contact.channel) < 1:
        return False
    if agent.agent_id in contact.declined_by or not agent.has_skills(queue.required_skills):
        return False
    waited_ms = now_ms - (contact.enqueued_at or now_ms)
    return waited_ms >= assignment.delay_s * 1000


def rank_agents(contact: Contact, queue: Queue, agents: Iterable[Agent], now_ms: int) -> list[Agent]:
    """Agents that can take the contact, longest idle first (ties: agent id, for determinism)."""
    fit = [a for a in agents if can_take(a, contact, queue, now_ms)]
    return sorted(fit, key=lambda a: (a.idle_since(), a.agent_id))


def rank_contacts(
    agent: Agent, waiting: Mapping[str, Sequence[Contact]], queues: Mapping[str, Queue], now_ms: int
) -> list[Contact]:
    """Waiting contacts this agent may take, best first: the profile's queue priority, then the
    contact's priority (1 = most urgent), then the longest waiting."""
    candidates: list[tuple[int, int, int, str, Contact]] = []
    for queue_id, contacts in waiting.items():
        assignment = agent.serves(queue_id)
        queue = queues.get(queue_id)
        if assignment is None or queue is None:
            continue
        for contact in contacts:
            if can_take(agent, contact, queue, now_ms):
                key = (assignment.priority, contact.priority, contact.enqueued_at or 0, contact.contact_id)
                candidates.append((*key, contact))
    candidates.sort(key=lambda c: c[:4])
    return [c[-1] for c in candidates]
