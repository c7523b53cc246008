"""Moving work between people: hold, transfer, consult, conference, escalation (README "Transfers")."""
from __future__ import annotations

from ccaas.api.access import ADMIN, AGENT, INTEGRATION, READERS, SUPERVISOR, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.api.views import ContactView
from ccaas.domain.transfers import TransferSettings
from ccaas.usecases import transfers

router = Router()
_ON_CONTACT = "/agents/<agent_id>/contacts/<contact_id>"


@router.post(f"{_ON_CONTACT}/hold", roles=[AGENT], tags=["transfers"], summary="Put the customer on hold")
def hold(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.hold(deps(), tenant(router), agent_id, contact_id))


@router.post(f"{_ON_CONTACT}/resume", roles=[AGENT], tags=["transfers"], summary="Take the customer off hold")
def resume(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.resume(deps(), tenant(router), agent_id, contact_id))


@router.post(f"{_ON_CONTACT}/transfer", roles=[AGENT], tags=["transfers"],
             summary="Blind transfer to a queue, an agent or a quick connect: answers the new segment "
                     "(for a quick connect, this segment)")
def transfer(agent_id: Id, contact_id: Id, body: transfers.TransferRequest) -> ContactView:
    return ContactView.of(transfers.transfer(deps(), tenant(router), agent_id, contact_id, body))


@router.post(f"{_ON_CONTACT}/consult", roles=[AGENT], tags=["transfers"],
             summary="Consult a queue or an agent while the customer waits on hold: answers the consult leg")
def consult(agent_id: Id, contact_id: Id, body: transfers.ConsultRequest) -> ContactView:
    return ContactView.of(transfers.consult(deps(), tenant(router), agent_id, contact_id, body))


@router.post(f"{_ON_CONTACT}/consult/complete", roles=[AGENT], tags=["transfers"],
             summary="Complete the consult as a transfer (warm transfer): answers the customer's new segment")
def complete_consult(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.complete_consult(deps(), tenant(router), agent_id, contact_id))


@router.post(f"{_ON_CONTACT}/consult/conference", roles=[AGENT], tags=["transfers"],
             summary="Join the customer and the consulted agent in a conference")
def conference(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.conference(deps(), tenant(router), agent_id, contact_id))


@router.post(f"{_ON_CONTACT}/consult/cancel", roles=[AGENT], tags=["transfers"],
             summary="Cancel the consult and take the customer off hold")
def cancel_consult(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.cancel_consult(deps(), tenant(router), agent_id, contact_id))


@router.post(f"{_ON_CONTACT}/escalate", roles=[AGENT], tags=["transfers"],
             summary="Escalate to a supervisor (named, or the escalation queue) with raised priority and a reason")
def escalate(agent_id: Id, contact_id: Id, body: transfers.EscalationRequest) -> ContactView:
    return ContactView.of(transfers.escalate(deps(), tenant(router), agent_id, contact_id, body))


@router.post(f"{_ON_CONTACT}/take", roles=[SUPERVISOR, AGENT], tags=["transfers"],
             summary="Take a waiting escalation: reserved and connected at once (one taker wins)")
def take(agent_id: Id, contact_id: Id) -> ContactView:
    return ContactView.of(transfers.take_escalation(deps(), tenant(router), agent_id, contact_id))


@router.post("/contacts/<contact_id>/disconnect", roles=[INTEGRATION], tags=["transfers"],
             summary="The customer hung up on a connected contact: every agent on it goes to after-contact work")
def disconnect(contact_id: Id) -> ContactView:
    return ContactView.of(transfers.disconnect_customer(deps(), tenant(router), contact_id))


@router.get("/contacts/<contact_id>/segments", roles=[*READERS, INTEGRATION], tags=["transfers"],
            summary="Every segment of the customer contact, first to last (transfers, consults, conferences)")
def list_segments(contact_id: Id) -> list[ContactView]:
    return [ContactView.of(c) for c in transfers.segments(deps(), tenant(router), contact_id)]


@router.get("/settings/transfers", roles=READERS, tags=["transfers"], summary="Quick connects, escalation queue, exclusion, segment limit")
def get_settings() -> TransferSettings:
    return transfers.get_settings(deps(), tenant(router))


@router.put("/settings/transfers", roles=[ADMIN], tags=["transfers"], summary="Replace the tenant's transfer settings")
def put_settings(body: TransferSettings) -> TransferSettings:
    return transfers.put_settings(deps(), tenant(router), body)
