from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ccaas.api.access import AGENT, INTEGRATION, READERS, Router
from ccaas.api.common import Id, OptionalId, deps, tenant
from ccaas.api.views import ContactView, HoursView
from ccaas.domain.models import E164_PATTERN, WAITING_STATES
from ccaas.usecases import contacts, waiting

router = Router()


@router.post("/contacts", roles=[INTEGRATION], tags=["contacts"], summary="Create a contact and start its lifecycle workflow", status_code=201)
def create_contact(body: contacts.ContactRequest) -> ContactView:
    return ContactView.of(contacts.create_contact(deps(), tenant(router), body))


@router.get("/contacts/<contact_id>", roles=[*READERS, INTEGRATION, AGENT], tags=["contacts"], summary="A contact; while it waits, its position and estimated wait")
def get_contact(contact_id: Id) -> ContactView:
    contact = contacts.get_contact(deps(), tenant(router), contact_id)
    wait = waiting.wait_of(deps(), contact) if contact.state in WAITING_STATES else None
    return ContactView.of(contact, wait)


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(pattern=E164_PATTERN, description="E.164 number to call back")


@router.post("/contacts/<contact_id>/callback", roles=[INTEGRATION], tags=["contacts"],
             summary="The waiting customer leaves the line and is called back, keeping their place in queue")
def request_callback(contact_id: Id, body: CallbackRequest) -> ContactView:
    return ContactView.of(contacts.request_callback(deps(), tenant(router), contact_id, body.phone_number))


@router.get("/queues/<queue_id>/wait", roles=[*READERS, INTEGRATION], tags=["contacts"],
            summary="Position and estimated wait for a contact arriving now (or for ?contact_id=)")
def queue_wait(queue_id: Id, contact_id: OptionalId = None) -> waiting.WaitInfo:
    return waiting.wait_info(deps(), tenant(router), queue_id, contact_id)


@router.get("/queues/<queue_id>/hours", roles=[*READERS, INTEGRATION], tags=["contacts"], summary="Open or closed now, and the next opening")
def queue_hours(queue_id: Id) -> HoursView:
    return HoursView.of(waiting.queue_hours(deps(), tenant(router), queue_id))


@router.post("/contacts/<contact_id>/abandon", roles=[INTEGRATION], tags=["contacts"], summary="The customer left while waiting")
def abandon_contact(contact_id: Id) -> ContactView:
    gone = contacts.abandon_contact(deps(), tenant(router), contact_id, reason="CUSTOMER_LEFT", from_workflow=False)
    return ContactView.of(gone)
