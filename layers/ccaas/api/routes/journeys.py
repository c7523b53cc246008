"""The tenant's journey tests (ccaas.domain.journeys): the suite the scheduled runner plays."""
from __future__ import annotations

from ccaas.api.access import ADMIN, READERS, Router
from ccaas.api.common import deps, tenant
from ccaas.domain.journeys import JourneySuite
from ccaas.usecases import journeys

router = Router()


@router.get("/settings/journeys", roles=READERS, tags=["journeys"],
            summary="The tenant's journey tests: synthetic customers through the flow and the API, with expectations")
def get_journeys() -> JourneySuite:
    return journeys.journeys_of(deps(), tenant(router))


@router.put("/settings/journeys", roles=[ADMIN], tags=["journeys"],
            summary="Replace the tenant's journey tests (at most 50; an unknown action or field is a 422 naming it)")
def put_journeys(body: JourneySuite) -> JourneySuite:
    return journeys.put_journeys(deps(), tenant(router), body)
