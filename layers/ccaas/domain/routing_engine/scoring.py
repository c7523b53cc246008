"""Scores (pure). Higher is better; every part is reported already multiplied by its weight.

Agent for a contact (select_agent), over eligible agents only:
    score = w_prof · p  +  w_idle · i  +  w_occ · (1 − o)
  p  proficiency fit of the agent for the step in force, in [0, 1]: skill level / 5, averaged over
     an `all`, best matching branch of an `any` (conditions.fit). When the step names no skill
     (a preferred-agent step, or "any agent" after the last step) the queue's own skill condition
     (its first skill-naming step, else its required skills: steps.StepView.focus) is used, so the best
     remaining agent still wins; none when the queue names no skill at all (no proficiency term).
  i  idle time since the agent's last contact ended (or status change), / idle_horizon_s, capped at 1.
  o  occupancy in [0, 1]: the caller's figure (recent occupancy) when given, else the agent's load
     on the contact's channel, active / capacity (balances chats across agents).
  Ties: longest idle, then agent id.

Contact for a free agent (select_contact), over eligible contacts across the agent's queues:
    order = (profile queue priority,  −score,  enqueued_at,  contact id)   with queue_priority "strict"
    order = (−(score − w_q · (queue priority − 1)),  enqueued_at,  id)     with "weighted"
    score = w_prio · (10 − priority) / 9  +  w_wait · w / T  +  w_sl · risk · (1 + gap)
  priority   the contact's (plan's) priority, 1 = most urgent … 10.
  w / T      time waited over the queue's service-level threshold T: waits are compared as the share
             of their own queue's threshold used up, and the term keeps growing past T, so a late
             contact is never starved.
  risk       chance the contact misses T if it is not taken now: exp(−(T − w) / Δ) for w < T, and 1 (its
             maximum) once missed: a contact past T never falls behind one of the same priority and queue
             that waited less (at 0 past T, as it was, a caller at T + 2 s lost to the one behind it at
             T − 2 s, and positions flipped back with nobody arriving). The score then never decreases with
             the wait, so, with equal priorities, one queue's order is arrival order at every moment. Δ is
             the mean time until another agent of the queue frees up: AHT / agents from QueueStats, else
             sl_risk_horizon × T.
  gap        how far the queue's service level so far is below its target, (target − SL)/target ≥ 0
             (0 without stats): a queue behind target pulls harder.
  Delay (Amazon Connect): a queue's contacts are eligible for this agent only after waiting its
  profile delay. Mode "fifo" orders by (queue priority, contact priority, enqueued_at) only.
  Within one queue the order is contact_rank's key; position_in_queue counts by it (waiting_order), so
  position 1 is the contact a free agent takes next.
  Example: T = 20 s and 18 s waited → 0.9 + e^(−2/5) = 1.57; a lax queue T = 300 s and 60 s waited →
  0.2 + e^(−240/75) ≈ 0.24: the contact about to miss wins although the other waited longer.
"""
from __future__ import annotations

import math

from ccaas.domain.models import Agent, Channel, Contact, Queue
from ccaas.domain.routing_engine.conditions import fit, positive_leaves
from ccaas.domain.routing_engine.estimates import QueueStats
from ccaas.domain.routing_engine.policy import AgentScoring, ContactScoring
from ccaas.domain.routing_engine.steps import StepView, plan_priority

__all__ = ["agent_parts", "agent_score", "agent_terms", "contact_rank", "contact_score", "ranking_condition", "sl_risk",
           "waiting_order"]


def ranking_condition(step: StepView):
    """The condition proficiency is ranked on: the step's own if it names a skill, else the focus."""
    if step.condition is not None and next(positive_leaves(step.condition), None) is not None:
        return step.condition
    return step.focus


def agent_terms(agent: Agent, rank_on, channel: Channel, now_ms: int, idle_horizon_s: float,
                occupancy: float | None = None) -> tuple[float, float, float, int]:
    """(p, i, o, idle_since) of the formula above, unweighted."""
    p = fit(rank_on, agent.skills)
    idle_since = agent.idle_since()
    i = (now_ms - idle_since) / 1000.0 / idle_horizon_s
    i = 0.0 if i < 0 else (1.0 if i > 1 else i)
    if occupancy is None:
        cap = agent.capacity.get(channel, 0)
        occupancy = agent.active.get(channel, 0) / cap if cap else 1.0
    o = 0.0 if occupancy < 0 else (1.0 if occupancy > 1 else occupancy)
    return (0.0 if p is None else p), i, o, idle_since


def agent_parts(terms: tuple[float, float, float, int], w: AgentScoring) -> dict[str, float]:
    p, i, o, _ = terms
    return {"proficiency": w.proficiency * p, "idle": w.idle * i, "occupancy": w.occupancy * (1.0 - o)}


def agent_score(agent: Agent, step: StepView, channel: Channel, now_ms: int, w: AgentScoring,
                occupancy: float | None = None) -> tuple[float, dict[str, float]]:
    parts = agent_parts(agent_terms(agent, ranking_condition(step), channel, now_ms, w.idle_horizon_s, occupancy), w)
    return parts["proficiency"] + parts["idle"] + parts["occupancy"], parts


def sl_risk(waited_s: float, threshold_s: float, horizon_s: float) -> float:
    """exp(−(T − w) / Δ) below T, saturated at its maximum 1 from T on (module docstring: never decreasing)."""
    if waited_s >= threshold_s:
        return 1.0
    return math.exp(-(threshold_s - waited_s) / horizon_s)


def contact_score(contact: Contact, queue: Queue, priority: int, now_ms: int, w: ContactScoring,
                  stats: QueueStats | None = None) -> tuple[float, dict[str, float]]:
    waited_s = max(0.0, (now_ms - (contact.enqueued_at if contact.enqueued_at is not None else now_ms)) / 1000.0)
    t = float(queue.sl_threshold_s)
    if stats is not None and stats.agents > 0:
        horizon = stats.aht_s / stats.agents
    else:
        horizon = w.sl_risk_horizon * t
    gap = 0.0
    if stats is not None and stats.service_level is not None:
        gap = max(0.0, queue.sl_target - stats.service_level) / queue.sl_target
    parts = {
        "priority": w.contact_priority * (10 - min(10, max(1, priority))) / 9.0,
        "wait": w.wait * waited_s / t,
        "sl_risk": w.sl_risk * sl_risk(waited_s, t, horizon) * (1.0 + gap),
    }
    return parts["priority"] + parts["wait"] + parts["sl_risk"], parts


def contact_rank(contact: Contact, queue: Queue, priority: int, now_ms: int, w: ContactScoring,
                 stats: QueueStats | None = None) -> tuple[tuple, float, dict[str, float]]:
    """(key, score, parts): the key orders one queue's waiting contacts as a free agent takes them (ascending;
    select_contact puts the queue's profile priority in front of it): −score, then the earlier enqueued, then
    the contact id; mode "fifo": priority, then the earlier enqueued (score 0)."""
    enqueued = contact.enqueued_at if contact.enqueued_at is not None else now_ms
    if w.mode == "fifo":
        return (priority, enqueued, contact.contact_id), 0.0, {}
    score, parts = contact_score(contact, queue, priority, now_ms, w, stats)
    return (-score, enqueued, contact.contact_id), score, parts


def waiting_order(queue: Queue, w: ContactScoring, now_ms: int, stats: QueueStats | None = None):
    """The key a free agent takes the queue's waiting contacts by, now (contact_rank; for position_in_queue)."""
    return lambda contact: contact_rank(contact, queue, plan_priority(contact), now_ms, w, stats)[0]
