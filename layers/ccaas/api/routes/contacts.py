from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from ccaas.api.common import Id, deps, tenant
from ccaas.api.views import ContactView
from ccaas.usecases import contacts

router = Router()


@router.post("/contacts", tags=["contacts"], summary="Create a contact and start its lifecycle workflow")
def create_contact(body: contacts.NewContact) -> tuple[ContactView, int]:
    return ContactView.of(contacts.create_contact(deps(), tenant(router), body)), 201


@router.get("/contacts/<contact_id>", tags=["contacts"])
def get_contact(contact_id: Id) -> ContactView:
    return ContactView.of(contacts.get_contact(deps(), tenant(router), contact_id))


@router.post("/contacts/<contact_id>/abandon", tags=["contacts"], summary="The customer left while waiting")
def abandon_contact(contact_id: Id) -> ContactView:
    gone = contacts.abandon_contact(deps(), tenant(router), contact_id, reason="CUSTOMER_LEFT", from_workflow=False)
    return ContactView.of(gone)
