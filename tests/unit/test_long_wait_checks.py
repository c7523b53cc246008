"""A long wait is not a loop every reservation timeout (outside review L27, finding 1): a QUEUED contact's safety-net
check grows with its wait (a tenth of it, at least one reservation timeout, at most 15 minutes), and Recheck routes a
contact whose routing just widened, so an offer it makes is timed by its reservation, not by that safety net."""
from __future__ import annotations

from ccaas.domain.models import Channel, ContactState
from ccaas.domain.routing_engine import RoutingPolicy, next_check_at
from ccaas.domain.routing_engine.outcomes import QUEUED_CHECK_MAX_MS, queued_check_ms
from ccaas.usecases import admin, agents, contacts, routing
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.fixtures.routing.builders import T0, contact, queue, s
from tests.unit.demo import TENANT, add_agent, demo_deps

WEEK_S = 7 * 86_400
POLICY = RoutingPolicy()


def test_a_queued_contacts_check_grows_with_its_wait_up_to_15_minutes():
    q, waiting = queue(max_wait_s=WEEK_S), contact()
    assert next_check_at(waiting, q, POLICY, T0) == s(30)  # just queued: one reservation timeout, as before
    assert next_check_at(waiting, q, POLICY, s(299)) == s(299 + 30)  # a caller's first 5 minutes: unchanged
    assert next_check_at(waiting, q, POLICY, s(3600)) == s(3600 + 360)  # an hour: a tenth of it
    assert next_check_at(waiting, q, POLICY, s(86_400)) == s(86_400 + 900)  # a day: the 15-minute net
    offered = waiting.model_copy(update={"state": ContactState.OFFERED, "offered_at": s(86_400), "agent_id": "a1"})
    assert next_check_at(offered, q, POLICY, s(86_400)) == s(86_400 + 30)  # an outstanding offer: its reservation
    slow = RoutingPolicy.model_validate({"reservation": {"timeout_s": 3600}})
    assert queued_check_ms(86_400_000, slow) == 3_600_000  # never shorter than one reservation timeout


def test_the_longest_wait_the_api_allows_is_hundreds_of_checks_not_twenty_thousand():
    q, waiting = queue(max_wait_s=WEEK_S), contact()
    for timeout_s in (30, 0.001):  # the default, and a reservation timeout as short as the API takes
        policy = RoutingPolicy.model_validate({"reservation": {"timeout_s": timeout_s}})
        now, checks = T0, 0
        while now < s(WEEK_S):
            now = max(now + 1000, next_check_at(waiting, q, policy, now))  # Step Functions waits whole seconds
            checks += 1
        assert checks < 800, (timeout_s, checks)  # was 20,160 at 30 s (and one a second at the shortest)
    assert QUEUED_CHECK_MAX_MS == 15 * 60 * 1000


def test_recheck_routes_a_contact_whose_step_expired_and_times_the_offer_by_its_reservation():
    """An e-mail whose expert step holds for an hour: when it expires bo (no expert) may take it. The offer is made
    by Recheck itself, so the next wait is the offer's 30 s reservation; left to the next AwaitAgent, the wait was
    already set to the QUEUED contact's safety net (6 minutes at an hour) and a missed offer held bo that long."""
    deps = demo_deps()
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"queues": {"sales": {"steps": [{"condition": "sales>=4", "expiry_s": 3600}]}}}))
    sales = deps.config.get_queue(TENANT, "sales")
    admin.put_queue(deps, sales.model_copy(update={"max_wait_s": WEEK_S}))
    add_agent(deps, "bo", skills={"sales": 2})
    add_agent(deps, "cy", skills={"sales": 5})
    agents.set_agent_status(deps, TENANT, "cy", StatusChange(status="NOT_READY"))  # staffed: the step is reachable
    agents.set_agent_status(deps, TENANT, "bo", StatusChange(status="AVAILABLE"))
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    assert contacts.queue_and_route(deps, TENANT, created.contact_id, "t0").state == ContactState.QUEUED

    deps.clock.advance(3600)
    assert contacts.recheck(deps, TENANT, created.contact_id) == ("wait", 30, created.contact_id)
    offered = contacts.get_contact(deps, TENANT, created.contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "bo")
    rearmed = contacts.queue_and_route(deps, TENANT, created.contact_id, "t1")  # the next AwaitAgent re-arms only
    assert (rearmed.state, rearmed.agent_id, rearmed.workflow_token) == (ContactState.OFFERED, "bo", "t1")
