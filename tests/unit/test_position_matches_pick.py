"""Position 1 is the contact a free agent takes next: position_in_queue counts in select_contact's order (the
policy's contact scoring as of now: score in "scored" mode, priority then oldest in "fifo" mode)."""
from __future__ import annotations

import random

import pytest

from ccaas.domain.models import Channel, ContactState
from ccaas.domain.routing_engine import RoutingPolicy, position_in_queue, select_contact, waiting_order
from ccaas.usecases import agents, contacts, routing, waiting
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.fixtures.routing.builders import agent, contact, queue, s
from tests.unit.demo import TENANT, add_agent, demo_deps

MODES = {
    "scored": {},
    "weighted": {"queue_priority": "weighted"},
    "fifo": {"mode": "fifo"},
    "wait-heavy": {"wait": 5.0, "contact_priority": 0.5, "sl_risk": 0.0},
}


def _positions(waiting, policy, now):
    order = waiting_order(queue(), policy.contact_scoring, now)
    return {c.contact_id: position_in_queue(c, waiting, order) for c in waiting}


def test_a_long_wait_at_a_poor_priority_is_position_1_when_the_agent_takes_it_first():
    now = s(45)
    a = contact("A", enqueued_at=s(0), priority=9)  # 45 s waited, T = 20 s: 2.25 + 0.11
    b = contact("B", enqueued_at=s(45), priority=1)  # just arrived: 1.0 + SL risk 0.02
    policy = RoutingPolicy()
    assert select_contact(agent("ben"), {"billing": [a, b]}, {"billing": queue()}, policy, now).winner == "A"
    assert _positions([a, b], policy, now) == {"A": 1, "B": 2}
    fifo = RoutingPolicy.model_validate({"contact_scoring": {"mode": "fifo"}})
    assert select_contact(agent("ben"), {"billing": [a, b]}, {"billing": queue()}, fifo, now).winner == "B"
    assert _positions([a, b], fifo, now) == {"A": 2, "B": 1}


@pytest.mark.parametrize("mode", MODES)
def test_position_1_is_always_the_contact_a_free_agent_takes(mode):
    policy = RoutingPolicy.model_validate({"contact_scoring": MODES[mode]})
    rng = random.Random(mode)
    for trial in range(200):
        now = s(300)
        waiting = [contact(f"c{i}", enqueued_at=s(rng.uniform(0, 300)), priority=rng.randint(1, 10))
                   for i in range(rng.randint(1, 12))]
        positions = _positions(waiting, policy, now)
        assert sorted(positions.values()) == list(range(1, len(waiting) + 1)), trial  # a strict order
        taken = select_contact(agent("ben"), {"billing": waiting}, {"billing": queue()}, policy, now).winner
        assert positions[taken] == 1, (trial, positions, taken)
        rest = [c for c in waiting if c.contact_id != taken]  # and the next one after that, and so on
        if rest:
            following = select_contact(agent("ben"), {"billing": rest}, {"billing": queue()}, policy, now).winner
            assert positions[following] == 2, trial


def test_wait_info_position_1_is_the_contact_ben_is_offered():
    deps = demo_deps()
    add_agent(deps, "ben")
    first = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", priority=9))
    first = contacts.queue_and_route(deps, TENANT, first.contact_id, "t1")
    deps.clock.advance(45)
    second = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", priority=1))
    second = contacts.queue_and_route(deps, TENANT, second.contact_id, "t2")
    assert second.priority == 1 and first.priority == 9
    assert waiting.wait_info(deps, TENANT, "sales", first.contact_id).position == 1
    assert waiting.wait_info(deps, TENANT, "sales", second.contact_id).position == 2
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))
    offered = contacts.get_contact(deps, TENANT, first.contact_id)
    assert offered.state == ContactState.OFFERED and offered.agent_id == "ben"
    assert waiting.wait_info(deps, TENANT, "sales", second.contact_id).position == 1
    assert routing.policy_of(deps, TENANT).contact_scoring.mode == "scored"  # the default this is about
