from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from ccaas.api.access import ADMIN, READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import PAGED, next_page
from ccaas.api.views import iso
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.decisions import Decision
from ccaas.usecases import routing

router = Router()


DecisionCursor = Annotated[str | None, Query(pattern=r"^[0-9]{13}#[0-9a-f]{8}$", max_length=22,
                                              description="the `after` the previous page's Link header gave")]


_EPOCH = "1970-01-01T00:00:00.000Z"  # `iso` answers None for 0 ("no time"); a stored 0 is still an instant


class DecisionView(Decision):
    """A routing decision as the API shows it: its time as every answer shows one (README "Times in answers")."""

    at: str = Field(description="when the decision was taken, ISO 8601 UTC")  # type: ignore[assignment]
    at_ms: int = Field(description="the same instant in epoch ms")


def _shown(decision: dict[str, Any]) -> dict[str, Any]:
    """A stored decision (its `at` in epoch ms) with `at` in ISO 8601 and `at_ms` beside it; the rest as stored."""
    at = decision.get("at")
    if not isinstance(at, int) or isinstance(at, bool):
        return decision  # no time recorded (or already text): nothing to convert
    return {**decision, "at": iso(at) or _EPOCH, "at_ms": at}


# Documented as DecisionView records; answered as stored (`list[dict]`, not validated against the model) but for
# the time: a decision recorded by an older version may lack a field added since, and must still read back.
@router.get("/contacts/<contact_id>/routing", roles=READERS, tags=["routing"],
            summary="The routing decisions about the contact, explained, oldest first: a page of at most `limit` "
                    "(and ~4 MB); a `Link` header (rel=\"next\") names the next page while there is one",
            responses={200: {**PAGED[200], "description": "a page of the contact's routing decisions, each explained",
                             "content": {"application/json": {"model": list[DecisionView]}}}})
def contact_routing(contact_id: Id, after: DecisionCursor = None,
                    limit: Annotated[int, Query(ge=1, le=routing.DECISIONS_PAGE)] = routing.DECISIONS_PAGE,
                    ) -> Response[list[dict[str, Any]]]:
    page, following = routing.decisions_page(deps(), tenant(router), contact_id, after=after, limit=limit)
    headers = next_page(router.current_event, following, limit) if following is not None else {}
    return Response(status_code=200, content_type="application/json", body=[_shown(d) for d in page],
                    headers=headers)


@router.get("/routing/policy", roles=READERS, tags=["routing"], summary="The tenant's routing policy (defaults when never set)")
def get_policy() -> RoutingPolicy:
    return routing.policy_of(deps(), tenant(router))


@router.put("/routing/policy", roles=[ADMIN], tags=["routing"], summary="Replace the tenant's routing policy")
def put_policy(body: RoutingPolicy) -> RoutingPolicy:
    return routing.put_policy(deps(), tenant(router), body)
