"""Agent-centric selection (select_contact), agent scoring (select_agent), explanations, the index."""
from __future__ import annotations

import json
import math
import random

import pytest

from ccaas.domain.models import Channel, QueueAssignment
from ccaas.domain.routing_engine import (
    AgentIndex,
    Decision,
    QueueStats,
    RoutingPolicy,
    parse_condition,
    select_agent,
    select_contact,
)
from tests.fixtures.routing.builders import T0, agent, contact, queue, s

A = QueueAssignment
QUEUES = {"tight": queue("tight", sl_threshold_s=20), "lax": queue("lax", sl_threshold_s=300),
          "billing": queue("billing"), "sales": queue("sales")}


def _waiting(*contacts):
    out: dict[str, list] = {}
    for c in contacts:
        out.setdefault(c.queue_id, []).append(c)
    return out


# ------------------------------------------------------------------ select_contact: across the profile's queues


def test_queue_priority_is_strict_across_the_profile():
    ag = agent("a1", queues=(A(queue_id="billing", priority=1), A(queue_id="sales", priority=2)))
    old_sales = contact("old", "sales", enqueued_at=s(-300))
    new_billing = contact("new", "billing", enqueued_at=s(-1))
    d = select_contact(ag, _waiting(old_sales, new_billing), QUEUES, RoutingPolicy(), T0)
    assert d.winner == "new" and "priority 1" in d.why
    assert d.considered == ("new", "old")
    only_sales = select_contact(ag, _waiting(old_sales), QUEUES, RoutingPolicy(), T0)
    assert only_sales.winner == "old"
    # weighted mode: a much older contact of the lower-priority queue can win
    weighted = RoutingPolicy.model_validate({"contact_scoring": {"queue_priority": "weighted",
                                                                 "queue_priority_weight": 1.0}})
    d = select_contact(ag, _waiting(old_sales, new_billing), QUEUES, weighted, T0)
    assert d.winner == "old"
    old_line = next(x for x in d.scores if x.id == "old")
    assert old_line.parts["queue_priority"] == -1.0 and old_line.parts["profile_priority"] == 2


def test_profile_delay_holds_contacts_back():
    ag = agent("a1", queues=(A(queue_id="billing", priority=1), A(queue_id="sales", priority=1, delay_s=30)))
    young = contact("young", "sales", enqueued_at=s(-29.999))
    d = select_contact(ag, _waiting(young), QUEUES, RoutingPolicy(), T0)
    assert d.winner is None and d.skipped == {"delay": 1}
    assert select_contact(ag, _waiting(young), QUEUES, RoutingPolicy(), s(0.001)).winner == "young"


def test_contact_priority_beats_wait_within_threshold():
    ag = agent("a1")
    vip = contact("vip", enqueued_at=s(-5), priority=1)
    regular = contact("regular", enqueued_at=s(-10), priority=5)
    assert select_contact(ag, _waiting(vip, regular), QUEUES, RoutingPolicy(), T0).winner == "vip"
    fifo = RoutingPolicy.model_validate({"contact_scoring": {"mode": "fifo"}})
    assert select_contact(ag, _waiting(vip, regular), QUEUES, fifo, T0).winner == "vip"  # priority, then age
    no_prio = RoutingPolicy.model_validate({"contact_scoring": {"contact_priority": 0}})
    assert select_contact(ag, _waiting(vip, regular), QUEUES, no_prio, T0).winner == "regular"


def test_older_contact_first_within_a_queue():
    ag = agent("a1")
    a, b = contact("a", enqueued_at=s(-12)), contact("b", enqueued_at=s(-3))
    assert select_contact(ag, _waiting(b, a), QUEUES, RoutingPolicy(), T0).winner == "a"


def test_sl_risk_beats_older_contact_in_lax_queue():
    """Documented example (scoring.py): T = 20 s and 18 s waited → 0.9 + e^(−2/5) ≈ 1.57 beats a
    contact of a T = 300 s queue that waited 60 s → 0.2 + e^(−240/75) ≈ 0.24."""
    ag = agent("a1", queues=("tight", "lax"))
    about_to_miss = contact("tight-18s", "tight", enqueued_at=s(-18))
    older = contact("lax-60s", "lax", enqueued_at=s(-60))
    d = select_contact(ag, _waiting(about_to_miss, older), QUEUES, RoutingPolicy(), T0)
    assert d.winner == "tight-18s"
    top, second = d.scores[0], d.scores[1]
    assert top.parts["sl_risk"] == pytest.approx(0.6703, abs=1e-3) and top.parts["wait"] == pytest.approx(0.9)
    assert second.parts["sl_risk"] < 0.05 and top.score > second.score
    # FIFO (the baseline) serves the older one
    fifo = RoutingPolicy.model_validate({"contact_scoring": {"mode": "fifo"}})
    assert select_contact(ag, _waiting(about_to_miss, older), QUEUES, fifo, T0).winner == "lax-60s"


def test_sl_risk_uses_queue_stats_and_a_missed_contact_is_not_starved():
    ag = agent("a1", queues=("tight",))
    missed = contact("missed", "tight", enqueued_at=s(-40))  # 2 T: wait term 2.0, risk 0
    nearly = contact("nearly", "tight", enqueued_at=s(-15))  # 0.75 + e^(-5/5) = 1.12
    assert select_contact(ag, _waiting(missed, nearly), QUEUES, RoutingPolicy(), T0).winner == "missed"
    # a queue behind its target pulls harder: with stats, the risk term grows by (target − SL)/target
    ag2 = agent("a2", queues=("tight", "lax"))
    t_c = contact("t", "tight", enqueued_at=s(-10))
    l_c = contact("l", "lax", enqueued_at=s(-200))
    d0 = select_contact(ag2, _waiting(t_c, l_c), QUEUES, RoutingPolicy(), T0)
    stats = {"tight": QueueStats(aht_s=200, agents=10, service_level=0.4), "lax": QueueStats(aht_s=200, agents=10)}
    d1 = select_contact(ag2, _waiting(t_c, l_c), QUEUES, RoutingPolicy(), T0, stats=stats)
    r0 = next(x for x in d0.scores if x.id == "t").parts["sl_risk"]
    r1 = next(x for x in d1.scores if x.id == "t").parts["sl_risk"]
    # Δ = AHT / agents = 20 s, gap = (0.8 − 0.4) / 0.8 = 0.5: e^(−10/20) × 1.5
    assert r1 == pytest.approx(1.5 * math.exp(-0.5), abs=1e-3)
    assert r1 > r0


def test_select_contact_respects_steps_declines_capacity_and_availability():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": "billing>=4",
                                                                             "expiry_s": 60}]}}})
    weak = agent("weak", {"billing": 2})
    c = contact("c", enqueued_at=s(-10))
    d = select_contact(weak, _waiting(c), QUEUES, policy, T0)
    assert d.winner is None and d.skipped == {"step": 1}
    assert select_contact(weak, _waiting(c), QUEUES, policy, s(50)).winner == "c"
    declined = contact("d", enqueued_at=s(-10), declined_by=("weak",))
    assert select_contact(weak, _waiting(declined), QUEUES, RoutingPolicy(), T0).skipped == {"declined": 1}
    busy = agent("busy", active={Channel.VOICE: 1})
    assert select_contact(busy, _waiting(c), QUEUES, RoutingPolicy(), T0).skipped == {"no_capacity": 1}
    chat = contact("chat", channel=Channel.CHAT, enqueued_at=s(-1))
    assert select_contact(agent("x", active={Channel.CHAT: 2}), _waiting(chat), QUEUES, RoutingPolicy(),
                          T0).winner == "chat"
    away = agent("away").model_copy(update={"status": "BREAK"})
    assert select_contact(away, _waiting(c), QUEUES, RoutingPolicy(), T0).winner is None
    assert select_contact(agent("other", queues=("sales",)), _waiting(c), QUEUES, RoutingPolicy(),
                          T0).skipped == {"not_in_profile": 1}


def test_policies_per_queue_mapping():
    ag = agent("a1", queues=("billing", "sales"))
    strict = RoutingPolicy.model_validate({"queues": {"sales": {"steps": [{"condition": "sales>=5"}]}}})
    d = select_contact(ag, _waiting(contact("b", enqueued_at=s(-1)), contact("s", "sales", enqueued_at=s(-9))),
                       QUEUES, {"billing": RoutingPolicy(), "sales": strict}, T0)
    assert d.winner == "b" and d.skipped == {"step": 1}


# ------------------------------------------------------------------ select_agent scoring


def test_scoring_weights_change_the_winner():
    q, c = queue(), contact(enqueued_at=s(-1))
    expert = agent("expert", {"billing": 5}, idle_since=s(-10))
    idle = agent("idle", {"billing": 2}, idle_since=s(-600))
    steps = {"queues": {"billing": {"steps": [{"condition": "billing"}]}}}
    # default weights: 1.0 + 10/300 + 0.5 = 1.53 vs 0.4 + 1.0 + 0.5 = 1.9
    d = select_agent(c, q, RoutingPolicy.model_validate(steps), [expert, idle], T0)
    assert d.winner == "idle" and "idle +0.97" in d.why
    # proficiency weight 3: 3.0 + 0.03 + 0.5 = 3.53 vs 1.2 + 1.0 + 0.5 = 2.7
    prof = RoutingPolicy.model_validate({**steps, "agent_scoring": {"proficiency": 3}})
    d = select_agent(c, q, prof, [expert, idle], T0)
    assert d.winner == "expert" and d.scores[0].parts["proficiency"] == pytest.approx(3.0)
    # occupancy balance: the agent with fewer chats wins when that weight dominates
    chat = contact(channel=Channel.CHAT, enqueued_at=s(-1))
    loaded = agent("loaded", {"billing": 5}, idle_since=s(-600), active={Channel.CHAT: 2})
    light = agent("light", {"billing": 3}, idle_since=s(-600))
    occ = RoutingPolicy.model_validate({**steps, "agent_scoring": {"occupancy": 5}})
    # default: 1.0 + 1.0 + 0.5 × (1 − 2/3) = 2.17 vs 0.6 + 1.0 + 0.5 = 2.1
    assert select_agent(chat, q, RoutingPolicy.model_validate(steps), [loaded, light], T0).winner == "loaded"
    assert select_agent(chat, q, occ, [loaded, light], T0).winner == "light"
    # the caller's recent occupancy figure overrides the channel load
    d = select_agent(chat, q, occ, [loaded, light], T0, occupancy={"loaded": 0.1, "light": 0.95})
    assert d.winner == "loaded"


def test_ties_go_to_the_longest_idle_then_id():
    q, c = queue(), contact()
    p = RoutingPolicy.model_validate({"agent_scoring": {"idle_horizon_s": 1}})
    d = select_agent(c, q, p, [agent("b", idle_since=s(-50)), agent("a", idle_since=s(-60))], T0)
    assert d.winner == "a" and "tie" in d.why
    d = select_agent(c, q, p, [agent("b", idle_since=s(-60)), agent("a", idle_since=s(-60))], T0)
    assert d.winner == "a"


def test_select_agent_consumes_candidates_lazily():
    q, c = queue(), contact()
    policy = RoutingPolicy.model_validate({"agent_scoring": {"candidate_limit": 3}})
    pulled = []

    def stream():
        for i in range(1000):
            pulled.append(i)
            yield agent(f"a{i:04d}", idle_since=s(-1000 + i))

    d = select_agent(c, q, policy, stream(), T0)
    assert d.winner == "a0000" and len(pulled) == 3 and d.considered_count == 3


def test_cross_channel_rule_from_the_profile():
    q = queue()
    email_busy = agent("a1", active={Channel.EMAIL: 1}).model_copy(update={"voice_blocks_other_channels": False})
    chat = contact(channel=Channel.CHAT)
    assert select_agent(chat, q, RoutingPolicy(), [email_busy], T0).winner == "a1"

    class ProfiledAgent(type(email_busy)):
        routing_profile_id: str | None = None

    profiled = ProfiledAgent(**{**email_busy.model_dump(), "routing_profile_id": "focus"})
    policy = RoutingPolicy.model_validate({"profiles": {"focus": {
        "cross_channel": {"blocks": {"EMAIL": ["CHAT"]}, "max_contacts": 3}}}})
    d = select_agent(chat, q, policy, [profiled], T0)
    assert d.winner is None and d.skipped == {"no_capacity": 1}
    capped = ProfiledAgent(**{**agent("a2", active={Channel.CHAT: 1}).model_dump(), "routing_profile_id": "cap"})
    cap = RoutingPolicy.model_validate({"profiles": {"cap": {"cross_channel": {"max_contacts": 1}}}})
    assert select_agent(chat, q, cap, [capped], T0).winner is None
    assert select_agent(chat, q, RoutingPolicy(), [capped], T0).winner == "a2"


# ------------------------------------------------------------------ explanations


def test_explanation_lists_candidates_with_scores_and_is_json():
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": "billing>=3",
                                                                             "expiry_s": 30}]}}})
    agents = [agent("a5", {"billing": 5}, idle_since=s(-30)), agent("a4", {"billing": 4}, idle_since=s(-300)),
              agent("a2", {"billing": 2}), agent("off", {"billing": 5}).model_copy(update={"status": "OFFLINE"})]
    d = select_agent(contact(), queue(), policy, agents, T0)
    assert d.kind == "select_agent" and d.outcome == "offer" and d.subject == "c1"
    assert d.winner == "a4" and d.considered == ("a4", "a5") and d.considered_count == 2
    assert d.skipped == {"step": 1, "not_available": 1}
    assert d.step.index == 0 and d.step.condition == "billing>=3" and d.step.expires_at == s(30)
    line = {x.id: x for x in d.scores}
    assert line["a4"].parts == {"proficiency": 0.8, "idle": 1.0, "occupancy": 0.5}
    assert line["a4"].score == pytest.approx(2.3) and line["a5"].score == pytest.approx(1.6)
    assert d.why.startswith("a4 scored 2.300 vs a5 1.600: idle +0.90")
    text = d.to_json()
    assert Decision.model_validate_json(text).to_json() == text
    assert len(text) < 1200 and json.loads(text)["winner"] == "a4"
    none = select_agent(contact(), queue(), policy, agents[2:3], T0)
    assert none.winner is None and none.outcome == "wait" and "billing>=3" in none.why


def test_select_contact_explanation_records_each_step():
    ag = agent("a1", {"billing": 5}, queues=("billing", "sales"))
    d = select_contact(ag, _waiting(contact("b", enqueued_at=s(-5)), contact("s", "sales", enqueued_at=s(-15))),
                       QUEUES, RoutingPolicy(), T0)
    assert d.kind == "select_contact" and d.subject == "a1" and d.winner == "s"
    assert [x.id for x in d.scores] == ["s", "b"] and all(x.step == 0 for x in d.scores)
    assert set(d.scores[0].parts) == {"priority", "wait", "sl_risk", "profile_priority"}
    assert Decision.model_validate_json(d.to_json()).to_json() == d.to_json()
    assert '"wait":0.75' in d.to_json()  # 15 s of 20: rounded to 4 places when serialised


# ------------------------------------------------------------------ AgentIndex


def _population(n: int, seed: int = 7):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        skills = {k: rng.randint(1, 5) for k in ("billing", "sales", "es") if rng.random() < 0.7}
        queues = tuple(q for q in ("billing", "sales") if rng.random() < 0.8) or ("billing",)
        active = {Channel.VOICE: 1} if rng.random() < 0.3 else {}
        out.append(agent(f"a{i:04d}", skills, queues, idle_since=s(-rng.randint(0, 3000)), active=active))
    return out


@pytest.mark.parametrize("cond", [None, "billing>=3", "billing>=2 and es>=4", "sales>=4 or es>=5", "not es"])
def test_index_finds_the_same_winner_as_a_full_scan(cond):
    population = _population(400)
    index = AgentIndex(population)
    q = queue()
    policy = RoutingPolicy.model_validate({"queues": {"billing": {"steps": [{"condition": cond}]}}} if cond else {})
    condition = parse_condition(cond) if cond else None
    full = select_agent(contact(), q, RoutingPolicy.model_validate(
        {**policy.model_dump(mode="json"), "agent_scoring": {"candidate_limit": 10_000}}), population, T0)
    cands = index.candidates("billing", Channel.VOICE, condition, per_level=10, limit=50)
    assert all(a.is_available and a.free_slots(Channel.VOICE) and a.serves("billing") for a in cands)
    assert [a.idle_since() for a in cands] == sorted(a.idle_since() for a in cands)
    assert select_agent(contact(), q, policy, cands, T0).winner == full.winner


def test_index_follows_updates_and_removals():
    population = _population(50)
    index = AgentIndex(population)
    first = index.candidates("billing", Channel.VOICE, limit=1)[0]
    busy = first.model_copy(update={"active": {Channel.VOICE: 1}})
    index.upsert(busy)
    after = index.candidates("billing", Channel.VOICE, limit=100)
    assert first.agent_id not in {a.agent_id for a in after}
    index.upsert(first)
    assert index.candidates("billing", Channel.VOICE, limit=1)[0].agent_id == first.agent_id
    index.remove(first.agent_id)
    assert first.agent_id not in {a.agent_id for a in index.candidates("billing", Channel.VOICE, limit=100)}
    for _ in range(200):  # churn: stale entries are compacted away, answers stay right
        for a in population[:10]:
            index.upsert(a)
    expected = sorted((a for a in population if a.is_available and a.free_slots(Channel.VOICE)
                       and a.serves("billing") and a.agent_id != first.agent_id),
                      key=lambda a: (a.idle_since(), a.agent_id))
    got = index.candidates("billing", Channel.VOICE, limit=1000, max_scan=10_000)
    assert [a.agent_id for a in got] == [a.agent_id for a in expected if a.agent_id in {g.agent_id for g in got}]
    assert {a.agent_id for a in got} == {a.agent_id for a in expected}
    assert index.candidates("billing", Channel.VOICE, preferred=("a0003",))[0].agent_id == "a0003"
