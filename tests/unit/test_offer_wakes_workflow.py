"""An offer made while a long wait's timer runs wakes the workflow (regression of the growing safety net, 236dbbb): a
QUEUED contact's timer grows with its wait (up to 15 minutes) and cannot move once started, so an offer made outside
the workflow (a freed agent offered waiting work) was timed by nobody until that timer: a missed offer held its agent
RESERVED up to 15 minutes. The workflow records when its timer ends (Contact.check_at); an offer whose reservation
ends well before fails the step's token with OfferMade, and Recheck times the offer by its reservation."""
from __future__ import annotations

from ccaas.domain.models import Channel, ContactState
from ccaas.domain.routing_engine import RoutingPolicy, next_check_at
from ccaas.domain.routing_engine.outcomes import OFFER_WAKE_SLACK_MS, offer_wakes_workflow
from ccaas.usecases import admin, agents, contacts
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact, OfferMade
from tests.fixtures.routing.builders import T0, contact, queue, s
from tests.unit.demo import TENANT, add_agent, demo_deps

WEEK_S = 7 * 86_400
POLICY = RoutingPolicy()


def _offered(offered_at: int, check_at: int | None, token: str | None = "tok"):
    return contact().model_copy(update={"state": ContactState.OFFERED, "agent_id": "a1", "offered_at": offered_at,
                                        "check_at": check_at, "workflow_token": token})


def test_an_offer_wakes_the_workflow_only_when_its_timer_ends_well_after_the_reservation():
    deadline = s(3600 + 30)  # offered an hour in, 30 s reservation
    assert offer_wakes_workflow(_offered(s(3600), s(3600 + 360)), POLICY)  # the 6-minute safety net
    assert not offer_wakes_workflow(_offered(s(3600), deadline + OFFER_WAKE_SLACK_MS), POLICY)  # near enough
    assert not offer_wakes_workflow(_offered(s(3600), deadline), POLICY)  # Recheck timed it (the re-armed wait)
    assert not offer_wakes_workflow(_offered(s(3600), None), POLICY)  # an execution started before check_at
    assert not offer_wakes_workflow(_offered(s(3600), s(3600 + 360), token=None), POLICY)  # no step waits
    queued = contact().model_copy(update={"check_at": s(3600 + 360), "workflow_token": "tok"})
    assert not offer_wakes_workflow(queued, POLICY)


def test_never_in_a_callers_first_5_minutes():
    """The safety net is then one reservation timeout from the timer's start: any offer made while it runs has a
    reservation ending after it, so the busy center's usual offers cost no extra transitions."""
    q, waiting = queue(max_wait_s=WEEK_S), contact()
    start = T0
    while start < s(300):
        check_at = next_check_at(waiting, q, POLICY, start)
        for offered_at in range(start, check_at + 1, 1000):
            assert not offer_wakes_workflow(_offered(offered_at, check_at), POLICY), (start, offered_at)
        start = check_at


def _long_wait(deps):
    """A chat waiting 2 hours with nobody to take it; its workflow parked token t1 for the safety net's 12 minutes."""
    sales = deps.config.get_queue(TENANT, "sales")
    admin.put_queue(deps, sales.model_copy(update={"max_wait_s": WEEK_S}))
    add_agent(deps, "bo")
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    assert contacts.queue_and_route(deps, TENANT, created.contact_id, "t0", wait_s=30).state == ContactState.QUEUED
    deps.clock.advance(7200)
    next_step, wait_s, _ = contacts.recheck(deps, TENANT, created.contact_id)
    assert (next_step, wait_s) == ("wait", 720)
    waiting = contacts.queue_and_route(deps, TENANT, created.contact_id, "t1", wait_s=wait_s)
    assert waiting.check_at == deps.clock.now_ms() + 720_000
    return created.contact_id


def test_a_freed_agent_offered_a_long_wait_wakes_its_workflow_and_recheck_takes_the_missed_offer_back():
    deps = demo_deps()
    cid = _long_wait(deps)
    deps.clock.advance(60)
    agents.set_agent_status(deps, TENANT, "bo", StatusChange(status="AVAILABLE"))  # offered outside the workflow
    assert contacts.get_contact(deps, TENANT, cid).state == ContactState.OFFERED
    assert deps.workflow.answers["t1"] == ("failure", {"error": OfferMade.__name__, "cause": "offered to bo"})

    # The woken workflow: Recheck times the offer by its reservation, the next AwaitAgent re-arms (no second wake).
    assert contacts.recheck(deps, TENANT, cid) == ("wait", 30, cid)
    assert contacts.queue_and_route(deps, TENANT, cid, "t2", wait_s=30).state == ContactState.OFFERED
    assert "t2" not in deps.workflow.answers
    deps.clock.advance(30)  # bo misses it: taken back at the reservation deadline, not 11 minutes later
    next_step, _, _ = contacts.recheck(deps, TENANT, cid)
    missed = contacts.get_contact(deps, TENANT, cid)
    assert next_step == "wait" and missed.state == ContactState.QUEUED and "bo" in missed.declined_by
    bo = deps.store.get_agent(TENANT, "bo")
    assert bo.status == "MISSED" and not bo.active_contact_ids


def test_an_offer_made_as_the_step_re_arms_a_long_timer_wakes_it_too():
    """An agent freed between Recheck (nobody free: the safety net) and the next AwaitAgent: the offer's wake found
    no live token, and the step re-arming finds the contact offered under its long timer."""
    deps = demo_deps()
    cid = _long_wait(deps)
    deps.clock.advance(720)
    assert contacts.recheck(deps, TENANT, cid) == ("wait", 792, cid)  # nobody: the next safety net (a tenth of 2h12)
    agents.set_agent_status(deps, TENANT, "bo", StatusChange(status="AVAILABLE"))  # t1's timer has ended: no wake
    assert contacts.queue_and_route(deps, TENANT, cid, "t2", wait_s=792).state == ContactState.OFFERED
    assert deps.workflow.answers["t2"][1]["error"] == OfferMade.__name__


def test_an_offer_in_a_short_wait_leaves_the_workflow_alone():
    deps = demo_deps()
    add_agent(deps, "bo")
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, created.contact_id, "t0", wait_s=30)
    deps.clock.advance(20)
    agents.set_agent_status(deps, TENANT, "bo", StatusChange(status="AVAILABLE"))
    assert contacts.get_contact(deps, TENANT, created.contact_id).state == ContactState.OFFERED
    assert deps.workflow.answers == {}
