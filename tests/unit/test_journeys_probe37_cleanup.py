"""A journey leaves nothing behind, whatever step made its contacts (outside probe 37, journeys finding 2): the flow's
`callback` step's contact was never tracked, so cleanup never abandoned it; the scheduled callbacks were then
offered to the test agent, which cleanup could not put OFFLINE ("agent bot has contacts in progress"), and every
later contact journey failed with "timeout: no offer ... to bot". On the in-memory twins, through the scheduled
runner's own entry points (the REST resolver and the flow use-case)."""
from __future__ import annotations

import pytest

from ccaas.adapters.aws.journeys import LambdaEntryPoints
from ccaas.domain.journeys import parse_journey
from ccaas.domain.models import Agent, Channel, ContactState, Queue, QueueAssignment
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import admin, contacts, journeys
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import routing_memory_deps

T = "acme"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/5a4db0c5-0000-4000-8000-000000000037"


@pytest.fixture
def deps(monkeypatch):
    deps = routing_memory_deps(monkeypatch)
    admin.register_tenant(deps, tenant_id=T, name=T)
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    admin.put_agent(deps, Agent(tenant_id=T, agent_id="bot", name="bot", skills={TEST_AGENT_SKILL: 1},
                                queues=(QueueAssignment(queue_id="sales"),)))
    return deps


CALLBACK = {"name": "ivr-callback", "inputs": {"phone": "+14155550101"}, "steps": [
    {"action": "identify"},
    {"action": "callback", "parameters": {"queue_id": "sales"}, "expect": {"state": "CALLBACK_SCHEDULED"}}]}
ANSWERED = {"name": "sales-call-answered", "test_agent": "bot", "timeout_s": 5, "steps": [
    {"action": "create_contact", "queue_id": "sales"},
    {"action": "agent_answers", "timeout_s": 2, "expect": {"state": "CONNECTED", "agent_id": "bot"}},
    {"action": "complete", "expect": {"state": "COMPLETED"}}]}


def _left_behind(deps) -> list[tuple[str, ContactState]]:
    return [(c.contact_id, c.state) for c in deps.store.contacts.values() if not c.state.terminal]


def _bot_is_free(deps) -> bool:
    bot = deps.store.get_agent(T, "bot")
    return bot.status == "OFFLINE" and not (bot.active_contact_ids or bot.offered_contact_ids or bot.acw_contact_ids)


def test_a_callback_journey_then_a_contact_journey_both_pass_and_leave_nothing_behind(deps):
    entry = LambdaEntryPoints(T, INSTANCE)
    results = [journeys.run_journey(entry, parse_journey(spec)) for spec in (CALLBACK, ANSWERED) * 3]
    assert [(r.journey, r.passed, r.failure) for r in results] == [(r.journey, True, None) for r in results]
    assert _left_behind(deps) == [] and _bot_is_free(deps)
    for called_back in results[::2]:
        [callback_id] = called_back.contacts  # the flow's callback is the journey's contact, abandoned after it
        assert deps.store.get_contact(T, callback_id).state == ContactState.ABANDONED


def test_the_callback_contact_a_scheduled_callback_became_is_cleared_too(deps):
    """A journey's scheduled callback (create_contact with a callback number) reached for the test agent becomes a
    CALLBACK contact offered to it, which no step named: the clean-up follows the original to it."""
    spec = parse_journey({"name": "callback-offered", "test_agent": "bot", "timeout_s": 3, "steps": [
        {"action": "create_contact", "queue_id": "sales", "callback_number": "+14155550123"},
        {"action": "wait_for", "state": "COMPLETED", "timeout_s": 0.2}]})
    entry = LambdaEntryPoints(T, INSTANCE)
    # online outside the journey (not one of its agents): only the contact trail leads to the CALLBACK contact
    assert entry.api("PUT", "/agents/bot/status", {"status": "AVAILABLE"}, role="agent", agent_id="bot")[0] == 200
    result = journeys.run_journey(entry, spec)
    assert result.passed, result.failure  # reached at once: the original ends COMPLETED, a CALLBACK contact offered
    [original] = result.contacts
    follow = deps.store.get_contact(T, original).attributes["callback_contact_id"]
    assert deps.store.get_contact(T, follow).state == ContactState.ABANDONED
    assert _left_behind(deps) == []


def test_a_leftover_offered_to_the_test_agent_is_cleared_so_it_goes_offline_and_the_next_journey_passes(deps):
    """A synthetic contact no running journey tracks (made before this fix, or by a journey whose clean-up could
    not reach the API) holds the bot's only voice slot: the journey fails, but its clean-up clears what the bot
    holds, the bot goes OFFLINE, and the next run passes."""
    leftover = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", attributes={
        SYNTHETIC_ATTRIBUTE: "an-earlier-run", TEST_AGENT_ATTRIBUTE: "bot"}))
    blocked = journeys.run_journey(LambdaEntryPoints(T, INSTANCE), parse_journey(ANSWERED))
    assert not blocked.passed and "no offer" in blocked.failure
    assert deps.store.get_contact(T, leftover.contact_id).state == ContactState.ABANDONED
    assert _left_behind(deps) == [] and _bot_is_free(deps)
    again = journeys.run_journey(LambdaEntryPoints(T, INSTANCE), parse_journey(ANSWERED))
    assert again.passed, again.failure
    assert _left_behind(deps) == [] and _bot_is_free(deps)
