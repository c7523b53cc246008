from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ccaas.api.access import AGENT, READERS, SUPERVISOR, Router, credential
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import LIST_PAGE, PAGED, After, Limit, page_answer
from ccaas.api.views import AgentView, ContactView, OfferView
from ccaas.usecases import agents, contacts

router = Router()


@router.get("/agents", roles=READERS, tags=["agents"],
            summary="Every agent: status, activity and since when, handled today; in agent id order, a page of at most "
                    "`limit` (and ~4 MB) with a `Link` header (rel=\"next\") while there is more",
            responses=PAGED)
def list_agents(after: After = None, limit: Limit = LIST_PAGE) -> Response[list[AgentView]]:
    tenant_id = tenant(router)
    today = agents.tenant_today(deps(), tenant_id)
    views = [AgentView.of(a, today) for a in agents.list_agents(deps(), tenant_id)]
    return page_answer(views, key=lambda v: v.agent_id, after=after, limit=limit, event=router.current_event,
                       document=lambda v: v.model_dump(mode="json"))


@router.get("/agents/<agent_id>", roles=[*READERS, AGENT], tags=["agents"], summary="An agent with its status, activity and offers")
def get_agent(agent_id: Id) -> AgentView:
    tenant_id = tenant(router)
    return AgentView.of(agents.get_agent(deps(), tenant_id, agent_id), agents.tenant_today(deps(), tenant_id))


@router.get("/agents/<agent_id>/offers", roles=[*READERS, AGENT], tags=["agents"],
            summary="The contacts reserved for the agent, with the customer's journey and profile")
def get_offers(agent_id: Id) -> list[OfferView]:
    return [OfferView.of(o) for o in agents.offers_of(deps(), tenant(router), agent_id)]


@router.put("/agents/<agent_id>/status", roles=[SUPERVISOR, AGENT], tags=["agents"],
            summary="Set the agent's status. A supervisor's also clears what the agent holds: ringing offers go back "
                    "to their queue (unless AVAILABLE), after-contact work ends; OFFLINE with a conversation in "
                    "progress is the agent's `next_status` until it ends (the agent's own is a 409)")
def set_agent_status(agent_id: Id, body: agents.StatusChange) -> AgentView:
    tenant_id = tenant(router)
    by_supervisor = credential(router.current_event.request_context.authorizer).role != AGENT
    agent = agents.set_agent_status(deps(), tenant_id, agent_id, body, by_supervisor=by_supervisor)
    return AgentView.of(agent, agents.tenant_today(deps(), tenant_id))


@router.post("/agents/<agent_id>/contacts/<contact_id>/accept", roles=[AGENT], tags=["agents"])
def accept_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.accept_contact(deps(), tenant(router), agent_id, contact_id))


@router.post("/agents/<agent_id>/contacts/<contact_id>/reject", roles=[AGENT], tags=["agents"])
def reject_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.reject_contact(deps(), tenant(router), agent_id, contact_id))


@router.post("/agents/<agent_id>/contacts/<contact_id>/complete", roles=[AGENT], tags=["agents"], summary="End the conversation; ACW starts")
def complete_contact(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.complete_contact(deps(), tenant(router), agent_id, contact_id))


@router.post("/agents/<agent_id>/contacts/<contact_id>/end-acw", roles=[AGENT, SUPERVISOR], tags=["agents"],
             summary="End after-contact work (a supervisor's: an agent who cannot, e.g. its desktop gone)")
def end_acw(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(contacts.end_after_contact_work(deps(), tenant(router), agent_id, contact_id))
