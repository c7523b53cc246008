"""Use-cases over in-memory adapters: the whole lifecycle, routing rules, atomic reservations."""
from __future__ import annotations

import threading

import pytest

from ccaas.domain.models import Channel, Conflict, ContactState, DomainError
from ccaas.usecases import agents, contacts, routing
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


def _queued(deps, channel=Channel.VOICE, queue_id="sales", token="tok-1"):
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=channel, queue_id=queue_id))
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, token)


def _available(deps, agent_id):
    return agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))


def test_contact_waits_then_is_offered_when_an_agent_becomes_available_and_runs_to_completion():
    deps = demo_deps()
    add_agent(deps, "ana")
    contact = _queued(deps)
    assert contact.state == ContactState.QUEUED and contact.workflow_token == "tok-1"
    # The first wait: the queue timeout (60 s) capped at one reservation timeout (30 s, see next_check_at).
    assert deps.workflow.started == [(TENANT, contact.contact_id, 30)]

    deps.clock.advance(7)
    agent = _available(deps, "ana")
    assert agent.offered_contact_ids == (contact.contact_id,)
    assert deps.store.get_contact(TENANT, contact.contact_id).state == ContactState.OFFERED

    connected = contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    assert connected.state == ContactState.CONNECTED
    assert connected.queue_wait_ms() == 7000
    assert deps.workflow.answers["tok-1"] == ("success", {"state": "CONNECTED", "agent_id": "ana"})

    deps.clock.advance(30)
    assert contacts.complete_contact(deps, TENANT, "ana", contact.contact_id).state == ContactState.ACW
    assert agents.get_agent(deps, TENANT, "ana").acw_contact_ids == (contact.contact_id,)
    deps.clock.advance(5)
    done = contacts.end_after_contact_work(deps, TENANT, "ana", contact.contact_id)
    assert done.state == ContactState.COMPLETED
    assert (done.disconnected_at - done.connected_at, done.acw_ended_at - done.disconnected_at) == (30000, 5000)
    # The lifecycle ended at the answer: the contact's end starts its post-contact workflow, once.
    assert deps.workflow.post_contact == [(TENANT, contact.contact_id)]
    assert set(deps.workflow.answers) == {"tok-1"}
    ana = agents.get_agent(deps, TENANT, "ana")
    assert ana.active_contact_ids == () and not ana.busy
    assert (ana.handled_today, ana.handled_day) == (1, agents.tenant_today(deps, TENANT))
    assert ana.activity_since == deps.clock.now_ms()  # became AVAILABLE (idle) when ACW ended

    types = [e.type for e in deps.events.events]
    assert types.count("contact.queued") == 1 and types.count("contact.completed") == 1
    sequences = [e.sequence for e in deps.events.events if e.subject == f"contact/{contact.contact_id}"]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


def test_contact_is_routed_at_once_to_the_longest_idle_agent():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _available(deps, "bob")
    deps.clock.advance(1)
    _available(deps, "ana")  # bob has been idle longer
    assert _queued(deps).agent_id == "bob"


def test_skills_are_required_and_an_agent_without_them_is_not_offered():
    deps = demo_deps()
    add_agent(deps, "ana", queues=("spanish",), skills={"lang_es": 2})
    add_agent(deps, "eva", queues=("spanish",), skills={"lang_es": 4})
    _available(deps, "ana")
    deps.clock.advance(1)
    _available(deps, "eva")
    assert _queued(deps, queue_id="spanish").agent_id == "eva"


def test_chat_capacity_is_filled_up_to_the_limit_and_voice_blocks_chat():
    deps = demo_deps()
    add_agent(deps, "ana", capacity={"VOICE": 1, "CHAT": 2})
    chats = [_queued(deps, Channel.CHAT, token=f"t{i}") for i in range(3)]
    agent = _available(deps, "ana")
    assert len(agent.offered_contact_ids) == 2  # capacity 2, the third keeps waiting
    assert deps.store.get_contact(TENANT, chats[2].contact_id).state == ContactState.QUEUED

    deps2 = demo_deps()
    add_agent(deps2, "ana", capacity={"VOICE": 1, "CHAT": 2})
    _available(deps2, "ana")
    _queued(deps2, Channel.VOICE, token="v")
    assert _queued(deps2, Channel.CHAT, token="c").state == ContactState.QUEUED


def test_rejected_offer_goes_to_the_next_agent_and_never_back_to_the_one_who_rejected():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _available(deps, "ana")
    contact = _queued(deps)
    assert contact.agent_id == "ana"
    rerouted = contacts.reject_contact(deps, TENANT, "ana", contact.contact_id)
    assert rerouted.state == ContactState.QUEUED and rerouted.declined_by == ("ana",)
    assert agents.get_agent(deps, TENANT, "ana").offered_contact_ids == ()
    assert _available(deps, "bob").offered_contact_ids == (contact.contact_id,)


def test_customer_abandon_fails_the_wait_and_releases_the_offered_agent():
    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _queued(deps)
    gone = contacts.abandon_contact(deps, TENANT, contact.contact_id, reason="CUSTOMER_LEFT", from_workflow=False)
    assert gone.state == ContactState.ABANDONED
    assert deps.workflow.answers["tok-1"][0] == "failure"
    assert deps.workflow.answers["tok-1"][1]["error"] == "ContactAbandoned"
    assert agents.get_agent(deps, TENANT, "ana").active_contact_ids == ()
    abandoned = [e for e in deps.events.events if e.type == "contact.abandoned"]
    assert abandoned[0].payload["previous_state"] == "OFFERED"


def test_queue_timeout_leaves_an_answered_contact_alone():
    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _queued(deps)
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    after = contacts.abandon_contact(deps, TENANT, contact.contact_id, reason="QUEUE_TIMEOUT", from_workflow=True)
    assert after.state == ContactState.CONNECTED
    with pytest.raises(Conflict):
        contacts.abandon_contact(deps, TENANT, contact.contact_id, reason="CUSTOMER_LEFT", from_workflow=False)


def test_a_recheck_of_an_answered_contact_ends_the_workflow_without_a_second_post_contact_start():
    """An accept racing the wait's timeout: Recheck finds the contact answered (live or already ended) and
    sends the workflow to its end (Connected), not to StartPostContact: the contact's end starts that."""
    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _queued(deps)
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    assert contacts.recheck(deps, TENANT, contact.contact_id)[0] == "connected"
    contacts.complete_contact(deps, TENANT, "ana", contact.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", contact.contact_id)
    assert contacts.recheck(deps, TENANT, contact.contact_id)[0] == "connected"
    assert deps.workflow.post_contact == [(TENANT, contact.contact_id)]


def test_a_token_parked_by_the_earlier_lifecycle_is_answered_instead_of_a_second_start():
    """Executions started before the lifecycle ended at the answer park a completion token (AwaitCompletion)
    and start the post-contact step themselves when it is answered; such a contact's end answers it."""
    from ccaas.domain import lifecycle

    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _queued(deps)
    connected = contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    deps.store.save(contacts=[lifecycle.arm_token(connected, "legacy-completion")])
    contacts.complete_contact(deps, TENANT, "ana", contact.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", contact.contact_id)
    assert deps.workflow.answers["legacy-completion"] == ("success", {"state": "COMPLETED"})
    assert deps.workflow.post_contact == []


def test_bad_requests_name_the_field():
    deps = demo_deps()
    with pytest.raises(DomainError) as unknown_queue:
        contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="nope"))
    assert unknown_queue.value.field == "queue_id"
    with pytest.raises(DomainError) as wrong_channel:
        contacts.create_contact(deps, TENANT, NewContact(channel=Channel.EMAIL, queue_id="sales"))
    assert wrong_channel.value.field == "channel"
    assert deps.store.contacts == {}  # nothing half-written


def test_accepting_a_contact_offered_to_someone_else_is_a_conflict():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _available(deps, "ana")
    contact = _queued(deps)
    with pytest.raises(Conflict):
        contacts.accept_contact(deps, TENANT, "bob", contact.contact_id)


def test_racing_routers_never_exceed_capacity_or_double_assign():
    deps = demo_deps()
    for i in range(3):
        add_agent(deps, f"agent{i}", capacity={"CHAT": 2, "VOICE": 1})
    waiting = [_queued(deps, Channel.CHAT, token=f"t{i}") for i in range(20)]
    barrier = threading.Barrier(9)

    def free(agent_id):
        barrier.wait()
        _available(deps, agent_id)

    def route(contact):
        barrier.wait()
        contacts.route_contact(deps, deps.store.get_contact(TENANT, contact.contact_id))

    threads = [threading.Thread(target=free, args=(f"agent{i}",)) for i in range(3)]
    threads += [threading.Thread(target=route, args=(c,)) for c in waiting[:6]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    offered = [c for c in deps.store.contacts.values() if c.state == ContactState.OFFERED]
    assert len(offered) == 6  # 3 agents x 2 chat slots, all used
    for i in range(3):
        agent = deps.store.get_agent(TENANT, f"agent{i}")
        assert agent.active[Channel.CHAT] == 2 == len(agent.active_contact_ids)
    holders = [cid for a in deps.store.list_agents(TENANT) for cid in a.active_contact_ids]
    assert len(holders) == len(set(holders))
    assert {c.contact_id for c in offered} == set(holders)


def test_every_offer_keeps_its_explained_decision():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _available(deps, "ana")
    deps.clock.advance(1)
    _available(deps, "bob")
    contact = _queued(deps)
    [decision] = routing.decisions_of(deps, TENANT, contact.contact_id)
    assert decision["kind"] == "select_agent" and decision["winner"] == "ana"
    assert set(decision["considered"]) == {"ana", "bob"} and decision["why"]
    assert {s["id"] for s in decision["scores"]} == {"ana", "bob"}

    waiting = _queued(deps, token="t2")  # nobody free: it waits, and the freed agent picks it
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    contacts.complete_contact(deps, TENANT, "ana", contact.contact_id)
    assert routing.decisions_of(deps, TENANT, waiting.contact_id)[0]["winner"] == "bob"


def test_segment_sets_priority_and_self_service_tier_is_deflected():
    deps = demo_deps()
    gold = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", segment="platinum"))
    plain = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    assert gold.priority < plain.priority and gold.routing.segment == "platinum"
    deflected = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", segment="self_service"))
    assert routing.policy_of(deps, TENANT).segments["self_service"].deflect == "always"  # the default policy
    assert deflected.routing.outcome == "self_service" and deflected.state == ContactState.COMPLETED
    assert len(deps.workflow.started) == 2  # no workflow for the deflected contact


def test_repeat_contact_from_the_same_customer_is_flagged_and_prefers_the_last_agent():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _available(deps, "ana")
    first = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="cu1", reason="billing"))
    contacts.queue_and_route(deps, TENANT, first.contact_id, "t1")
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    contacts.complete_contact(deps, TENANT, "ana", first.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", first.contact_id)
    deps.clock.advance(60)
    _available(deps, "bob")  # bob has been idle for less time, but ana was this customer's agent
    again = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="cu1", reason="billing"))
    assert again.routing.repeat_contact and again.routing.repeat_of == first.contact_id
    assert again.routing.journey.last_agent_id == "ana"
    assert contacts.queue_and_route(deps, TENANT, again.contact_id, "t2").agent_id == "ana"
