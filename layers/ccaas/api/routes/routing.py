from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ccaas.api.access import ADMIN, READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import PAGED, next_page
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.decisions import Decision
from ccaas.usecases import routing

router = Router()


DecisionCursor = Annotated[str | None, Query(pattern=r"^[0-9]{13}#[0-9a-f]{8}$", max_length=22,
                                              description="the `after` the previous page's Link header gave")]


# Documented as Decision records; answered as stored (`list[dict]`, not validated against the model): a
# decision recorded by an older version may lack a field added since, and must still read back.
@router.get("/contacts/<contact_id>/routing", roles=READERS, tags=["routing"],
            summary="The routing decisions about the contact, explained, oldest first: a page of at most `limit` "
                    "(and ~4 MB); a `Link` header (rel=\"next\") names the next page while there is one",
            responses={200: {**PAGED[200], "description": "a page of the contact's routing decisions, each explained",
                             "content": {"application/json": {"model": list[Decision]}}}})
def contact_routing(contact_id: Id, after: DecisionCursor = None,
                    limit: Annotated[int, Query(ge=1, le=routing.DECISIONS_PAGE)] = routing.DECISIONS_PAGE,
                    ) -> Response[list[dict[str, Any]]]:
    page, following = routing.decisions_page(deps(), tenant(router), contact_id, after=after, limit=limit)
    headers = next_page(router.current_event, following, limit) if following is not None else {}
    return Response(status_code=200, content_type="application/json", body=page, headers=headers)


@router.get("/routing/policy", roles=READERS, tags=["routing"], summary="The tenant's routing policy (defaults when never set)")
def get_policy() -> RoutingPolicy:
    return routing.policy_of(deps(), tenant(router))


@router.put("/routing/policy", roles=[ADMIN], tags=["routing"], summary="Replace the tenant's routing policy")
def put_policy(body: RoutingPolicy) -> RoutingPolicy:
    return routing.put_policy(deps(), tenant(router), body)
