"""Who gets what: the two routing decisions (pure; formulas in scoring.py).

select_agent(contact, …, candidates, now)  a contact arrived (or its step relaxed): best agent.
select_contact(agent, waiting, …, now)     an agent has room: best waiting contact across all the
                                           queues of its routing profile.

An agent is eligible for a contact when it is AVAILABLE, serves the contact's queue (its routing
profile), the contact has waited at least that profile entry's delay, it has a free slot on the
contact's channel (Agent.free_slots, further limited by the profile's cross-channel rule if the
policy has one), it did not already refuse the contact, it has the queue's required skills, and it
satisfies the contact's step in force (its condition and, if the step names preferred agents, is
one of them). Given the staffed agents, a step in force that none of them can satisfy is passed over
at decision time (reach.py), from either side: a new contact is offered to an idle agent the next
reachable step allows, and a freed agent is not refused a contact for an unreachable step; the
Decision lists the skipped steps.

select_agent scores at most agent_scoring.candidate_limit eligible agents, consuming `candidates`
lazily in the order given: pass them longest idle first (AgentIndex.candidates does, per proficiency
level, as the DynamoDB GSI query does) and the decision costs O(limit), whatever the staff size.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from ccaas.domain.models import Agent, Channel, Contact, Queue
from ccaas.domain.routing_engine.conditions import matches, positive_leaves, render
from ccaas.domain.routing_engine.decisions import Decision, StepInForce
from ccaas.domain.routing_engine.estimates import QueueStats
from ccaas.domain.routing_engine.policy import CrossChannelRule, RoutingPolicy, RoutingProfile
from ccaas.domain.routing_engine.reach import StaffedAgents, as_staff, resolve_step, skipped_note
from ccaas.domain.routing_engine.scoring import agent_parts, agent_terms, contact_rank, ranking_condition
from ccaas.domain.routing_engine.steps import StepView, current_step
from ccaas.domain.routing_engine.synthetic import synthetic_refusal

__all__ = ["eligibility", "free_slots", "profile_of", "ranking_text", "select_agent", "select_contact", "step_in_force",
           "step_text"]

EXPLAIN_IDS = 50


def field_of(obj: object, name: str) -> object | None:
    """An optional field that a model may not have yet (no pydantic __getattr__ slow path)."""
    d = getattr(obj, "__dict__", None)
    return d.get(name) if d is not None else getattr(obj, name, None)


def profile_of(agent: Agent, policy: RoutingPolicy) -> RoutingProfile | None:
    pid = field_of(agent, "routing_profile_id")
    return policy.profiles.get(pid) if pid else None


def free_slots(agent: Agent, channel: Channel, rule: CrossChannelRule | None = None) -> int:
    """Agent.free_slots, further limited by the profile's cross-channel rule when there is one."""
    if not agent.active and agent.is_available:
        slots = agent.capacity.get(channel, 0)  # fast path: nothing in progress (= Agent.free_slots)
    else:
        slots = agent.free_slots(channel)
    if rule is None or slots < 1:
        return max(0, slots)
    for busy_channel, n in agent.active.items():
        if n and channel in rule.blocks.get(busy_channel, ()):
            return 0
    if rule.max_contacts is not None:
        slots = min(slots, rule.max_contacts - sum(agent.active.values()))
    return max(0, slots)


def step_in_force(view: StepView) -> StepInForce:
    return StepInForce(**_step_dict(view))


def _seconds(x: float) -> str:
    if x >= 120 and x % 60 == 0:
        return f"{int(x // 60)} min"
    return f"{int(x)} s" if float(x).is_integer() else f"{x:.1f} s"


def step_text(view: StepView) -> str:
    """The step in force in words (decisions.StepInForce.text)."""
    early = ""
    if view.skipped:
        n = len(view.skipped)
        early = f" (reached early: {n} earlier step{'s' if n > 1 else ''} skipped, nobody staffed can satisfy them)"
    if view.final:
        if view.total == 0:
            return f"no relaxation steps configured: {view.label}"
        if early:
            return f"after the steps{early}: {view.label}"
        since = "" if view.after_s is None else f" (after {_seconds(view.after_s)})"
        return f"{'the step' if view.total == 1 else f'all {view.total} steps'} expired{since}: {view.label}"
    if early:
        since = early
    elif view.after_s is None:
        since = ""
    else:
        since = " (from the start)" if view.after_s == 0 else f" (after {_seconds(view.after_s)})"
    what: list[str] = [] if view.label in (f"step {view.index + 1}", f"queue step {view.index + 1}") else [view.label]
    if view.preferred:
        what.append("reserved for " + ", ".join(view.preferred))
    if view.condition is not None and render(view.condition) not in view.label:
        what.append(render(view.condition))
    return f"step {view.index + 1} of {view.total}{since}" + (": " + ", ".join(what) if what else "")


def _step_dict(view: StepView) -> dict:
    return {"index": view.index, "of": view.total, "label": view.label, "condition": render(view.condition),
            "preferred_agents": view.preferred, "expires_at": view.expires_at,
            "number": None if view.final else view.index + 1, "final": view.final,
            "after_s": None if view.skipped else view.after_s,  # reached early: not by the clock
            "text": step_text(view)}


def ranking_text(step: StepView, rank_on: object | None, w) -> str:
    """How select_agent ranked its candidates, in words (decisions.Decision.ranking)."""
    others = [name for name, weight in (("idle time", w.idle), ("free capacity", w.occupancy)) if weight > 0]
    tail = " and ".join(others) if others else "agent id"
    if rank_on is None:
        return f"no skills required: ranked by {tail}"
    if w.proficiency <= 0:
        return f"ranked by {tail} (proficiency weight 0)"
    head = f"ranked by proficiency in {render(rank_on)}"
    if rank_on is not step.condition:
        head = f"the step names no skill; {head} (the queue's skill)"
    return head + (", " + ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1] if others else "")


def eligibility(agent: Agent, contact: Contact, queue: Queue, step: StepView, now_ms: int,
                rule: CrossChannelRule | None = None) -> str | None:
    """None when eligible, else the reason (the keys of Decision.skipped)."""
    if not agent.is_available:  # not AVAILABLE, or going OFFLINE once its contacts end
        return "not_available"
    qid = queue.queue_id
    for assignment in agent.queues:
        if assignment.queue_id == qid:
            break
    else:
        return "not_in_profile"
    if assignment.delay_s:
        waited = now_ms - (contact.enqueued_at if contact.enqueued_at is not None else now_ms)
        if waited < assignment.delay_s * 1000:
            return "delay"
    if free_slots(agent, contact.channel, rule) < 1:
        return "no_capacity"
    if contact.declined_by and agent.agent_id in contact.declined_by:
        return "declined"
    refusal = synthetic_refusal(agent, contact)  # journey tests: synthetic contacts and test agents
    if refusal is not None:
        return refusal
    if queue.required_skills and not agent.has_skills(queue.required_skills):
        return "queue_skills"
    if step.preferred and agent.agent_id not in step.preferred:
        return "not_preferred"
    if step.condition is not None and not matches(step.condition, agent.skills):
        return "step"
    return None


def _step_refuses(agent: Agent, step: StepView) -> str | None:
    if step.preferred and agent.agent_id not in step.preferred:
        return "not_preferred"
    if step.condition is not None and not matches(step.condition, agent.skills):
        return "step"
    return None


def _why(lines: list[tuple[float, dict[str, float | None], str]], tie_rule: str) -> str:
    (s1, p1, id1) = lines[0]
    if len(lines) == 1:
        return f"{id1} is the only eligible candidate (score {s1:.3f})"
    (s2, p2, id2) = lines[1]
    if abs(s1 - s2) < 1e-9:
        return f"{id1} and {id2} tie at {s1:.3f}; {tie_rule}"
    gains = sorted(((v - (p2.get(k) or 0.0), k) for k, v in p1.items() if v is not None), reverse=True)
    lead = ", ".join(f"{k} {d:+.2f}" for d, k in gains if d > 1e-9) or "no single part"
    return f"{id1} scored {s1:.3f} vs {id2} {s2:.3f}: {lead}"


def select_agent(
    contact: Contact,
    queue: Queue,
    policy: RoutingPolicy,
    candidates: Iterable[Agent],
    now_ms: int,
    *,
    occupancy: Mapping[str, float] | None = None,
    staffed: StaffedAgents | Iterable[Agent] | Callable[[], Iterable[Agent]] | None = None,
) -> Decision:
    """The best agent for the contact among `candidates` (module docstring); winner None = keep waiting.

    `staffed` (the tenant's agents, or a callable loading them) lets the decision pass over a step in
    force that no staffed agent can satisfy (reach.resolve_step): it is consulted only when no
    candidate is eligible under the step in force, and the candidates are then scored again under the
    first reachable step. Without it the steps are followed as planned."""
    nominal = current_step(contact, queue, policy, now_ms)
    seen: list[Agent] | None = [] if staffed is not None and not nominal.final else None
    decision = _scan_agents(contact, queue, policy, candidates, now_ms, nominal, occupancy, seen)
    if decision.winner is not None or seen is None:
        return decision
    step = resolve_step(contact, queue, policy, now_ms, as_staff(staffed).know(seen), nominal)
    if not step.skipped:
        return decision
    return _scan_agents(contact, queue, policy, seen, now_ms, step, occupancy, None)


def _scan_agents(contact: Contact, queue: Queue, policy: RoutingPolicy, candidates: Iterable[Agent], now_ms: int,
                 step: StepView, occupancy: Mapping[str, float] | None, seen: list[Agent] | None) -> Decision:
    w = policy.agent_scoring
    rank_on = ranking_condition(step)
    wp, wi, wo, horizon, limit = w.proficiency, w.idle, w.occupancy, w.idle_horizon_s, w.candidate_limit
    channel = contact.channel
    skipped: dict[str, int] = {}
    # (score, idle_since, agent id, terms, agent)
    scored: list[tuple[float, int, str, tuple, Agent]] = []
    profiles = policy.profiles
    for agent in candidates:
        if seen is not None:
            seen.append(agent)
        rule = None
        if profiles:
            prof = profile_of(agent, policy)
            rule = prof.cross_channel if prof else None
        reason = eligibility(agent, contact, queue, step, now_ms, rule)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        occ = occupancy.get(agent.agent_id) if occupancy is not None else field_of(agent, "occupancy")
        terms = agent_terms(agent, rank_on, channel, now_ms, horizon, occ)
        scored.append((wp * terms[0] + wi * terms[1] + wo * (1.0 - terms[2]), terms[3], agent.agent_id, terms, agent))
        if len(scored) >= limit:
            skipped["not_scanned_limit"] = 1
            break
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    view = _step_dict(step)
    note = skipped_note(step)
    if not scored:
        return Decision(kind="select_agent", outcome="wait", winner=None, subject=contact.contact_id, at=now_ms,
                        step=view, skipped=skipped, skipped_steps=step.skipped,
                        why=f"{note}no eligible agent for {step.label!r} ({view['condition']})")
    skills = [leaf.skill for leaf in positive_leaves(rank_on)] if rank_on is not None else []
    top = []
    for sc, _, aid, terms, agent in scored[: max(2, w.explain_top)]:
        parts: dict[str, float | None] = agent_parts(terms, w)
        if rank_on is None:
            parts["proficiency"] = None  # nothing to rank on: not an unskilled agent
        top.append((sc, parts, aid, {k: agent.skills.get(k, 0) for k in dict.fromkeys(skills)}))
    ranking = ranking_text(step, rank_on, w)
    why = note + _why([t[:3] for t in top[:2]], "the longer idle wins") + f" ({ranking})"
    return Decision(
        kind="select_agent", outcome="offer", winner=scored[0][2], subject=contact.contact_id, at=now_ms, step=view,
        considered=tuple(t[2] for t in scored[:EXPLAIN_IDS]), considered_count=len(scored),
        scores=tuple({"id": i, "score": sc, "parts": p, "skills": k} for sc, p, i, k in top[: w.explain_top]),
        skipped=skipped, skipped_steps=step.skipped, why=why,
        ranked_on=None if rank_on is None else render(rank_on), ranking=ranking,
    )


def _policy_for(policies: RoutingPolicy | Mapping[str, RoutingPolicy], queue_id: str) -> RoutingPolicy | None:
    if isinstance(policies, RoutingPolicy):
        return policies
    return policies.get(queue_id)


def select_contact(
    agent: Agent,
    waiting: Mapping[str, Sequence[Contact]],
    queues: Mapping[str, Queue],
    policies: RoutingPolicy | Mapping[str, RoutingPolicy],
    now_ms: int,
    *,
    stats: Mapping[str, QueueStats] | None = None,
    staffed: StaffedAgents | Iterable[Agent] | Callable[[], Iterable[Agent]] | None = None,
) -> Decision:
    """The best waiting contact for the agent across its profile's queues (order in scoring.py).

    `policies` is the tenant's RoutingPolicy, or one per queue id. `stats` (optional, per queue id)
    sharpens the SL-risk term; without it the policy's horizon is used. `staffed` (the tenant's
    agents, or a callable loading them) lets a contact whose step in force excludes this agent be
    taken when no staffed agent can satisfy that step (reach.resolve_step): consulted only for such a
    contact, once per decision. Without it the steps are followed as planned.
    """
    skipped: dict[str, int] = {}
    # (sort key, score, parts, contact id, step index, step view)
    ranked: list[tuple[tuple, float, dict[str, float], str, int, StepView]] = []
    mode_note = ""
    explain_top = 5
    slots: dict[Channel, int] = {}
    staff = as_staff(staffed)
    if staff is not None:
        staff.know((agent,))
    if not agent.is_available:
        return Decision(kind="select_contact", outcome="wait", winner=None, subject=agent.agent_id,
                        at=now_ms, skipped={"not_available": 1}, why=f"agent {agent.agent_id} is {agent.status}"
                        + (f", going {agent.next_status} once its contacts end" if agent.next_status else ""))
    for queue_id, contacts in waiting.items():
        if not contacts:
            continue
        assignment = agent.serves(queue_id)
        queue = queues.get(queue_id)
        policy = _policy_for(policies, queue_id)
        if assignment is None or queue is None or policy is None:
            skipped["not_in_profile"] = skipped.get("not_in_profile", 0) + len(contacts)
            continue
        if queue.required_skills and not agent.has_skills(queue.required_skills):
            skipped["queue_skills"] = skipped.get("queue_skills", 0) + len(contacts)
            continue
        cw = policy.contact_scoring
        explain_top = cw.explain_top
        prof = profile_of(agent, policy) if policy.profiles else None
        rule = prof.cross_channel if prof else None
        qstats = stats.get(queue_id) if stats else None
        delay_ms = assignment.delay_s * 1000
        for contact in contacts:
            enq = contact.enqueued_at if contact.enqueued_at is not None else now_ms
            if now_ms - enq < delay_ms:
                skipped["delay"] = skipped.get("delay", 0) + 1
                continue
            ch = contact.channel
            if ch not in slots:
                slots[ch] = free_slots(agent, ch, rule)
            if slots[ch] < 1:
                skipped["no_capacity"] = skipped.get("no_capacity", 0) + 1
                continue
            if agent.agent_id in contact.declined_by:
                skipped["declined"] = skipped.get("declined", 0) + 1
                continue
            synthetic = synthetic_refusal(agent, contact)  # journey tests: synthetic contacts and test agents
            if synthetic is not None:
                skipped[synthetic] = skipped.get(synthetic, 0) + 1
                continue
            step = current_step(contact, queue, policy, now_ms)
            refusal = _step_refuses(agent, step)
            if refusal is not None and staff is not None and not step.final:
                step = resolve_step(contact, queue, policy, now_ms, staff, step)
                refusal = _step_refuses(agent, step) if step.skipped else refusal
            if refusal is not None:
                skipped[refusal] = skipped.get(refusal, 0) + 1
                continue
            # Within one queue the order is contact_rank's (position_in_queue counts by the same key).
            order, score, parts = contact_rank(contact, queue, step.priority, now_ms, cw, qstats)
            if cw.mode == "fifo":
                key = (assignment.priority, *order)
                mode_note = "fifo: queue priority, contact priority, then oldest"
            elif cw.queue_priority == "strict":
                key = (assignment.priority, *order)
            else:
                penalty = cw.queue_priority_weight * (assignment.priority - 1)
                parts["queue_priority"] = -penalty
                score -= penalty
                key = (0, -score, enq, contact.contact_id)
            parts["_profile_priority"] = assignment.priority
            ranked.append((key, score, parts, contact.contact_id, step.index, step))
    if not ranked:
        return Decision(kind="select_contact", outcome="wait", winner=None, subject=agent.agent_id,
                        at=now_ms, skipped=skipped, why="no waiting contact this agent may take")
    ranked.sort(key=lambda t: t[0])
    best = ranked[0]
    if len(ranked) > 1 and ranked[1][2]["_profile_priority"] > best[2]["_profile_priority"] and best[0][0] != 0:
        why = (f"{best[3]}: its queue has profile priority {best[2]['_profile_priority']}, "
               f"ahead of {ranked[1][3]} at priority {ranked[1][2]['_profile_priority']}")
    elif mode_note:
        why = f"{best[3]} first by {mode_note}"
    else:
        why = _why([(t[1], {k: v for k, v in t[2].items() if not k.startswith("_")}, t[3]) for t in ranked[:2]],
                   "the earlier enqueued wins")
    lines = tuple(
        {"id": t[3], "score": t[1], "step": t[4], "parts": {k.lstrip("_"): v for k, v in t[2].items()}}
        for t in ranked[:explain_top]
    )
    return Decision(
        kind="select_contact", outcome="offer", winner=best[3], subject=agent.agent_id, at=now_ms,
        step=_step_dict(best[5]), considered=tuple(t[3] for t in ranked[:EXPLAIN_IDS]),
        considered_count=len(ranked), scores=lines, skipped=skipped, skipped_steps=best[5].skipped,
        why=skipped_note(best[5]) + why,
    )
