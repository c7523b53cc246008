from __future__ import annotations

from typing import Any

from ccaas.api.access import ADMIN, READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.decisions import Decision
from ccaas.usecases import routing

router = Router()


# Documented as Decision records; answered as stored (`list[dict]`, not validated against the model): a
# decision recorded by an older version may lack a field added since, and must still read back.
@router.get("/contacts/<contact_id>/routing", roles=READERS, tags=["routing"],
            summary="Every routing decision about the contact, explained",
            responses={200: {"description": "the contact's routing decisions, each explained",
                             "content": {"application/json": {"model": list[Decision]}}}})
def contact_routing(contact_id: Id) -> list[dict[str, Any]]:
    return routing.decisions_of(deps(), tenant(router), contact_id)


@router.get("/routing/policy", roles=READERS, tags=["routing"], summary="The tenant's routing policy (defaults when never set)")
def get_policy() -> RoutingPolicy:
    return routing.policy_of(deps(), tenant(router))


@router.put("/routing/policy", roles=[ADMIN], tags=["routing"], summary="Replace the tenant's routing policy")
def put_policy(body: RoutingPolicy) -> RoutingPolicy:
    return routing.put_policy(deps(), tenant(router), body)
