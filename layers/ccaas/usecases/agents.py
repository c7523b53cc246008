"""Agent use-cases: status changes free the agent for work, which is offered at once."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccaas.bootstrap import Dependencies
from ccaas.domain import lifecycle
from ccaas.domain.events import SHOWN_NOT_SET, EventType, agent_activity, agent_event
from ccaas.domain.live_metrics import local_day
from ccaas.domain.customers import Customer
from ccaas.domain.history import ChatMessage
from ccaas.domain.models import Agent, Conflict, Contact, NotFound
from ccaas.domain.routing_engine import JourneySummary, reservation_deadline
from ccaas.usecases import routing
from ccaas.domain.vocabulary import NOT_READY_REASON
from ccaas.usecases.tenancy import time_zone_of
from ccaas.usecases.contacts import (
    earlier_segments,
    end_after_contact_work,
    offer_waiting_work,
    offer_work_to,
    retrying,
    withdraw_offer,
)

# Named not-ready reasons are free text in the same field; these are the states an agent sets.
STATUS_PATTERN = f"^(OFFLINE|AVAILABLE|NOT_READY|{NOT_READY_REASON})$"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern=STATUS_PATTERN, description=(
        "OFFLINE, AVAILABLE or a not-ready reason such as BREAK (not one of the activities the product shows: "
        "RESERVED, ON_CONTACT, ACW, AVAILABLE_IDLE)"))

    @field_validator("status")
    @classmethod
    def _not_an_activity(cls, status: str) -> str:
        # A reason is shown as the agent's status: "ON_CONTACT" as a break would read as work on a wallboard.
        if status in SHOWN_NOT_SET:
            raise ValueError(f"{status} is an activity the product shows, not a status an agent sets")
        return status




def set_agent_status(deps: Dependencies, tenant_id: str, agent_id: str, change: StatusChange, *,
                     by_supervisor: bool = False) -> Agent:
    """The agent's own status change, or (`by_supervisor`) a supervisor's, which also clears what the agent holds
    (lifecycle.set_status): its ringing offers are withdrawn and routed again (unless it is set AVAILABLE: they are
    its work then), its after-contact work ends as end-acw ends it; a conversation in progress stays until it
    ends, OFFLINE pending meanwhile (next_status). The status is written first, so nothing new is offered to the
    agent while this runs. An agent leaving the staff (OFFLINE, or going) lets the available agents of its queues
    take what only it could (a step passed over at once); an AVAILABLE one is offered work."""
    def attempt() -> tuple[Agent, Agent]:
        agent = deps.store.get_agent(tenant_id, agent_id)
        updated = lifecycle.set_status(agent, change.status, deps.clock.now_ms(), by_supervisor=by_supervisor)
        if updated is agent:
            return agent, agent
        deps.store.save(agents=[updated])
        pending = {"next_status": updated.next_status} if updated.next_status else {}
        deps.events.publish(
            [
                agent_event(
                    EventType.AGENT_STATUS_CHANGED, updated, deps.ids.new_id(), deps.clock.now_ms(),
                    previous_status=agent.status, previous_activity=agent_activity(agent), **pending,
                )
            ]
        )
        return agent, updated

    before, updated = retrying(attempt)
    if by_supervisor:
        updated = _clear_held_work(deps, tenant_id, updated)
    if before.is_staffed and not updated.is_staffed:
        offer_waiting_work(deps, tenant_id, [q.queue_id for q in updated.queues], updated)
    if updated.is_available and offer_work_to(deps, tenant_id, agent_id, updated):
        updated = deps.store.get_agent(tenant_id, agent_id)
    return updated


def _clear_held_work(deps: Dependencies, tenant_id: str, agent: Agent) -> Agent:
    """A supervisor's status: the agent's ringing offers withdrawn (not when it is set AVAILABLE) and its
    after-contact work ended, each in its own write as the agent's own reject and end-acw are. One answered or
    ended meanwhile (a Conflict) is left as it is now."""
    why = f"a supervisor set the agent {agent.next_status or agent.status}"
    offers = () if agent.is_available else agent.offered_contact_ids
    for contact_id in offers:
        try:
            withdraw_offer(deps, tenant_id, agent.agent_id, contact_id, why)
        except (Conflict, NotFound):
            pass
    for contact_id in agent.acw_contact_ids:
        try:
            end_after_contact_work(deps, tenant_id, agent.agent_id, contact_id)
        except (Conflict, NotFound):
            pass
    if not offers and not agent.acw_contact_ids:
        return agent
    return deps.store.get_agent(tenant_id, agent.agent_id)


def routing_profile_changed(deps: Dependencies, before: Agent, after: Agent) -> None:
    """PUT /agents/{id} saved a staffed agent's profile: the contacts of the queues it served or serves now are
    decided again as when an agent turns AVAILABLE (a queue or skill it gained serves at once; one it lost may
    leave a step nobody can satisfy, passed over at once)."""
    if not (before.is_staffed or after.is_staffed):
        return
    offer_waiting_work(deps, after.tenant_id, [q.queue_id for q in (*before.queues, *after.queues)], after)


def get_agent(deps: Dependencies, tenant_id: str, agent_id: str) -> Agent:
    return deps.store.get_agent(tenant_id, agent_id)


def list_agents(deps: Dependencies, tenant_id: str) -> list[Agent]:
    return deps.store.list_agents(tenant_id)


def tenant_today(deps: Dependencies, tenant_id: str) -> str:
    return local_day(deps.clock.now_ms(), time_zone_of(deps, tenant_id))


# How much of a transferred contact's past an offer carries (earlier segments' chat messages).
_EARLIER_SEGMENTS = 10
_EARLIER_MESSAGES = 200


class Offer(BaseModel):
    """What the agent's client shows for a reserved contact: the contact, when the offer lapses,
    the customer's journey (repeat flag, last agent, recent contacts) and directory profile; for a
    transferred segment, the context travels: the handover (on the contact: who sent it, how, why,
    the note) and the earlier segments' messages (redacted, oldest first)."""

    contact: Contact
    expires_at: int
    journey: JourneySummary | None
    customer: Customer | None
    earlier_messages: list[ChatMessage] = []


def offer_for(deps: Dependencies, contact: Contact, policy: routing.RoutingPolicy) -> Offer:
    """One offer as the agent's client shows it (GET /agents/{id}/offers and the pushed `offer`)."""
    customer = deps.customers.get(contact.tenant_id, contact.customer_id) if contact.customer_id else None
    return Offer(
        contact=contact,
        expires_at=reservation_deadline(contact.offered_at or 0, policy),
        journey=contact.routing.journey if contact.routing else None,
        customer=customer,
        earlier_messages=_earlier_messages(deps, contact),
    )


def _earlier_messages(deps: Dependencies, contact: Contact) -> list[ChatMessage]:
    """The messages of the segments before this one (a transfer's context), newest _EARLIER_MESSAGES."""
    earlier = earlier_segments(deps, contact, _EARLIER_SEGMENTS)
    return [m for segment in earlier for m in deps.transcripts.messages(contact.tenant_id, segment.contact_id)][-_EARLIER_MESSAGES:]


def offers_of(deps: Dependencies, tenant_id: str, agent_id: str) -> list[Offer]:
    agent = deps.store.get_agent(tenant_id, agent_id)
    policy = routing.policy_of(deps, tenant_id)
    offers = []
    for contact_id in agent.offered_contact_ids:
        try:
            contact = deps.store.get_contact(tenant_id, contact_id)
        except NotFound:
            continue
        offers.append(offer_for(deps, contact, policy))
    return offers
