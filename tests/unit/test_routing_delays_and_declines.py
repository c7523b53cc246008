"""Two routing defects an outside review reproduced (session 26): a contact waiting on an agent's queue delay was
never looked at again when the delay ended (no event: the agent sat idle), and a contact whose refusals reached
max_declines went straight back to the agent who had just refused it."""
from __future__ import annotations

import pytest

from ccaas.domain.models import Agent, Channel, QueueAssignment
from ccaas.usecases import admin, agents, contacts, routing
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, demo_deps


def _reservation(deps, **changes) -> None:
    policy = routing.policy_of(deps, TENANT)
    routing.put_policy(deps, TENANT, policy.model_copy(
        update={"reservation": policy.reservation.model_copy(update=changes)}))


def _follow_the_workflow(deps, contact_id: str, first_wait_s: int, limit_s: int = 90_000) -> tuple[int, object]:
    """Sleep each timer, Recheck, AwaitAgent again, as the lifecycle does; (seconds waited, contact) once offered
    or ended."""
    waited, wait = 0, first_wait_s
    while waited < limit_s:
        deps.clock.advance(wait)
        waited += wait
        what, wait, cid = contacts.recheck(deps, TENANT, contact_id)
        if what != "wait":
            return waited, deps.store.get_contact(TENANT, cid)
        contact = contacts.queue_and_route(deps, TENANT, cid, f"t{waited}")
        if contact.state.value != "QUEUED" and contact.state.value != "CALLBACK_SCHEDULED":
            return waited, contact
    raise AssertionError("still waiting")


@pytest.mark.parametrize("timeout_s", [30, 120])
def test_a_contact_is_offered_when_an_idle_agents_queue_delay_ends(timeout_s):
    """ana takes sales contacts after 20 s of wait. With a 120 s reservation timeout the first timer was the 60 s
    queue timeout: the contact ended ABANDONED and was never offered; with 30 s it waited 10 s too long."""
    deps = demo_deps()
    _reservation(deps, timeout_s=timeout_s)
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="ana", name="Ana",
                                queues=(QueueAssignment(queue_id="sales", delay_s=20),)))
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    queued = contacts.queue_and_route(deps, TENANT, created.contact_id, "t0")
    first_wait = deps.workflow.started[-1][2]
    assert queued.state.value == "QUEUED" and first_wait == 20  # the delay's end, not the next other timer
    waited, offered = _follow_the_workflow(deps, created.contact_id, first_wait)
    assert (waited, offered.state.value, offered.agent_id) == (20, "OFFERED", "ana")


def test_a_refusal_that_reaches_max_declines_does_not_go_back_to_the_refusing_agent():
    deps = demo_deps()
    _reservation(deps, max_declines=1)
    for agent_id in ("ana", "bob"):
        admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id=agent_id, name=agent_id,
                                    queues=(QueueAssignment(queue_id="sales"),)))
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    deps.clock.advance(5)
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="AVAILABLE"))  # ana is the longest idle
    created = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    offered = contacts.queue_and_route(deps, TENANT, created.contact_id, "t0")
    assert offered.agent_id == "ana"
    after = contacts.reject_contact(deps, TENANT, "ana", created.contact_id)
    assert (after.state.value, after.agent_id) == ("OFFERED", "bob")  # was: straight back to ana, bob idle
    decisions = routing.decisions_of(deps, TENANT, created.contact_id)
    assert any("exclusions cleared but ana" in d.get("why", "") for d in decisions)
