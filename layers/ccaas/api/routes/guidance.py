"""Real-time guidance: a contact's prompts, and the tenant's guidance rules."""
from __future__ import annotations

from ccaas.api.access import ADMIN, AGENT, READERS, SUPERVISOR, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.domain.guidance import GuidanceRules, Prompt
from ccaas.usecases import guidance

router = Router()


@router.get(
    "/contacts/<contact_id>/guidance", roles=[ADMIN, SUPERVISOR, AGENT], tags=["guidance"],
    summary="The prompts the contact's agent was given, with followed flags (an agent: its own contacts only)",
)
def contact_guidance(contact_id: Id) -> list[Prompt]:
    return guidance.contact_guidance(deps(), tenant(router), contact_id)


@router.get("/settings/guidance", roles=READERS, tags=["guidance"], summary="The tenant's guidance rules (defaults until set)")
def get_rules() -> GuidanceRules:
    return guidance.get_rules(deps(), tenant(router))


@router.put("/settings/guidance", roles=[ADMIN], tags=["guidance"], summary="Replace the tenant's guidance rules")
def put_rules(body: GuidanceRules) -> GuidanceRules:
    return guidance.put_rules(deps(), tenant(router), body)
