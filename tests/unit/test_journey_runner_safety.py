"""Journey tests never act as a real agent, stop when their time is up (leaving nothing behind), and never
crowd a real customer's past out of routing's view — on the in-memory twins, through the scheduled
runner's own entry points (the REST resolver) where it matters (outside review W27, findings 1, 2, 4)."""
from __future__ import annotations

import threading
import time

import pytest

from ccaas.adapters.aws.journeys import LambdaEntryPoints
from ccaas.domain.journeys import parse_journey, parse_suite
from ccaas.domain.models import Agent, Channel, ContactState, DomainError, Queue, QueueAssignment
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import admin, agents, contacts, journeys
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import routing_memory_deps

T = "acme"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/5a4db0c5-0000-4000-8000-000000000016"


@pytest.fixture
def deps(monkeypatch):
    deps = routing_memory_deps(monkeypatch)
    admin.register_tenant(deps, tenant_id=T, name=T)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    for agent_id, skills in (("ana", {}), ("bot", {TEST_AGENT_SKILL: 1})):
        admin.put_agent(deps, Agent(tenant_id=T, agent_id=agent_id, name=agent_id, skills=skills,
                                    queues=(QueueAssignment(queue_id="sales"),)))
    return deps


def _answering(agent: str, *, as_step: bool = False) -> dict:
    answer = {"action": "agent_answers", "timeout_s": 0.5, **({"agent_id": agent} if as_step else {})}
    return {"name": "sales-smoke", "timeout_s": 3, **({} if as_step else {"test_agent": agent}),
            "steps": [{"action": "create_contact", "queue_id": "sales"}, answer]}


# ------------------------------------------------------------------------ finding 1: real agents
def test_a_suite_naming_a_real_agent_is_refused_naming_the_key(deps):
    for journey, field in ((_answering("ana"), "journeys[0].test_agent"),
                           (_answering("ana", as_step=True), "journeys[0].steps[1].agent_id")):
        with pytest.raises(DomainError) as refused:
            journeys.put_journeys(deps, T, parse_suite({"journeys": [journey]}))
        assert refused.value.field == field and "not a test agent" in str(refused.value)
    assert journeys.journeys_of(deps, T).journeys == ()  # nothing stored
    status, body = LambdaEntryPoints(T, None).api("PUT", "/settings/journeys", {"journeys": [_answering("ana")]},
                                                  role="admin")
    assert (status, body["field"]) == (422, "journeys[0].test_agent")
    # a test agent, or one not made yet (no one's agent: the runner checks it when it runs), is accepted
    journeys.put_journeys(deps, T, parse_suite({"journeys": [_answering("bot"), {**_answering("new"), "name": "n"}]}))


def test_the_runner_leaves_an_agent_made_real_since_alone(deps):
    """The suite was stored while ana was a test agent; since then she lost the skill, went to lunch, and a
    real customer waits in her queue: the run neither takes her off lunch nor logs her out."""
    admin.put_agent(deps, deps.store.get_agent(T, "ana").model_copy(update={"skills": {TEST_AGENT_SKILL: 1}}))
    journeys.put_journeys(deps, T, parse_suite({"journeys": [_answering("ana")]}))
    admin.put_agent(deps, deps.store.get_agent(T, "ana").model_copy(update={"skills": {}}))
    agents.set_agent_status(deps, T, "ana", StatusChange(status="LUNCH"))
    real = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales"))
    entry = LambdaEntryPoints(T, None)
    changes = []
    calls = entry.api

    def spy(method, path, body=None, **kwargs):
        if method != "GET" and path.startswith("/agents/"):
            changes.append((method, path))
        return calls(method, path, body, **kwargs)

    entry.api = spy
    [run] = journeys.run_scheduled(deps, lambda tenant_id, suite: entry, record=False)
    [result] = run.results
    assert not result.passed and result.failed_step == "steps[1] agent_answers"
    assert "ana is not a test agent" in result.failure
    assert changes == []
    assert deps.store.get_agent(T, "ana").status == "LUNCH"
    assert deps.store.get_contact(T, real.contact_id).state == ContactState.QUEUED
    assert deps.store.get_contact(T, result.contacts[0]).state == ContactState.ABANDONED  # its own, cleaned up


# ------------------------------------------------------------------ finding 2: a journey that timed out
class _Recording:
    """Fake entry points: a slow flow (it ignores its timeout, as the in-process flow does) and an API that
    records each call."""

    instance_arn = INSTANCE

    def __init__(self, flow_s: float = 0.0, create_s: float = 0.0) -> None:
        self.flow_s, self.create_s = flow_s, create_s
        self.calls: list[tuple[float, str, str]] = []
        self.created = 0

    def flow(self, event, timeout_s):
        time.sleep(self.flow_s)
        return {"status": "ok", "outcome": "queue", "queue_id": "sales"}

    def api(self, method, path, body=None, *, role="integration", agent_id=None, timeout_s=30.0):
        self.calls.append((time.monotonic(), method, path))
        if method == "POST" and path == "/contacts":
            time.sleep(self.create_s)
            self.created += 1
            return 201, {"contact_id": f"c{self.created}", "state": "QUEUED", "attributes": body["attributes"]}
        if path.startswith("/contacts/") and method == "GET":
            return 200, {"contact_id": path.split("/")[2], "state": "QUEUED", "attributes": {SYNTHETIC_ATTRIBUTE: "j"}}
        if path == f"/agents/{agent_id}":
            return 200, {"agent_id": agent_id, "skills": {TEST_AGENT_SKILL: 1}}
        if path.endswith("/offers"):
            return 200, [{"contact": {"contact_id": f"c{self.created}"}}]
        return 200, {"contact_id": f"c{self.created}", "state": "CONNECTED", "agent_id": agent_id}


SLOW_FIRST_STEP = {"name": "slow", "test_agent": "bot", "timeout_s": 0.3,
                   "steps": [{"action": "route", "parameters": {"queue_id": "sales"}},
                             {"action": "create_contact", "queue_id": "sales"}, {"action": "agent_answers"}]}


def test_a_timed_out_journey_makes_no_call_after_its_step_in_flight():
    entry = _Recording(flow_s=0.6)
    result = journeys.run_journey(entry, parse_journey(SLOW_FIRST_STEP))
    time.sleep(0.3)
    assert not result.passed and result.failed_step == "steps[0] route"
    assert result.failure.startswith("journey timed out after 0.3 s")
    assert entry.calls == [] and result.contacts == []  # no contact made, the test agent never set AVAILABLE
    assert not any(t.name == "journey-slow" for t in threading.enumerate())  # stopped before run_journey returned


def test_a_call_still_in_flight_past_the_grace_is_cleaned_up_when_it_returns(monkeypatch):
    monkeypatch.setattr(journeys, "STOP_GRACE_S", 0.05)
    entry = _Recording(create_s=0.6)
    spec = parse_journey({**SLOW_FIRST_STEP, "steps": SLOW_FIRST_STEP["steps"][1:]})
    result = journeys.run_journey(entry, spec)
    assert not result.passed and result.failed_step == "steps[0] create_contact"
    time.sleep(0.6)  # the POST returns: the worker abandons the contact it made and makes no other call
    assert [(m, p) for _, m, p in entry.calls] == [
        ("POST", "/contacts"), ("GET", "/contacts/c1"), ("POST", "/contacts/c1/abandon")]


def test_a_timed_out_journey_leaves_the_test_agent_free_for_the_next(deps):
    """A's flow step outlasts A's timeout: its worker used to go on after A was cleaned up, leave the bot
    CONNECTED on a contact nobody tracked, and every later journey on the bot failed."""

    class SlowFlow(LambdaEntryPoints):
        def flow(self, event, timeout_s):
            time.sleep(0.8)
            return {"status": "ok", "outcome": "queue", "queue_id": "sales"}

    entry = SlowFlow(T, INSTANCE)
    a = parse_journey({"name": "a-slow", "test_agent": "bot", "timeout_s": 0.5,
                       "steps": [{"action": "route"}, {"action": "create_contact", "queue_id": "sales"},
                                 {"action": "agent_answers", "timeout_s": 5}]})
    b = parse_journey({"name": "b-healthy", "test_agent": "bot", "timeout_s": 5,
                       "steps": [{"action": "create_contact", "queue_id": "sales"},
                                 {"action": "agent_answers", "timeout_s": 2}, {"action": "complete"}]})
    first = journeys.run_journey(entry, a)
    assert not first.passed and first.failed_step == "steps[0] route"
    time.sleep(0.5)
    bot = deps.store.get_agent(T, "bot")
    assert bot.status == "OFFLINE" and bot.active_contact_ids == () and len(deps.store.contacts) == 0
    second = journeys.run_journey(entry, b)
    assert second.passed, second.failure
    assert deps.store.get_agent(T, "bot").status == "OFFLINE"


# -------------------------------------------------------- finding 4: a real customer's past stays in view
def test_synthetic_contacts_for_a_real_customer_never_crowd_out_their_past(deps):
    agents.set_agent_status(deps, T, "ana", StatusChange(status="AVAILABLE"))
    first = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="cust-1",
                                                        reason="invoice"))
    contacts.accept_contact(deps, T, "ana", first.contact_id)
    contacts.complete_contact(deps, T, "ana", first.contact_id)
    contacts.end_after_contact_work(deps, T, "ana", first.contact_id)
    for _ in range(12):  # an hour of scheduled runs naming the customer
        deps.clock.advance(300)
        contacts.create_contact(deps, T, NewContact(
            channel=Channel.VOICE, queue_id="sales", customer_id="cust-1",
            attributes={SYNTHETIC_ATTRIBUTE: "sales-smoke", TEST_AGENT_ATTRIBUTE: "bot"}))
    assert [c.contact_id for c in deps.store.recent_contacts(T, "cust-1", 10)] == [first.contact_id]
    deps.clock.advance(60)
    again = contacts.create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="cust-1",
                                                        reason="invoice"))
    journey = again.routing.journey
    assert journey.repeat_contact and journey.repeat_of == first.contact_id and journey.last_agent_id == "ana"
