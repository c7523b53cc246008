"""The tenant's journey tests (ccaas.domain.journeys): the suite the scheduled runner plays, and its results."""
from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from ccaas.api.access import ADMIN, READERS, Router
from ccaas.api.common import deps, tenant
from ccaas.domain.journeys import JourneySuite, SpecErrors, spec_errors
from ccaas.usecases import journeys

router = Router()
RESULT_READERS = READERS  # admin, supervisor
JourneyName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


def _as_written(value: Any, handler: ValidatorFunctionWrapHandler) -> JourneySuite:
    """The suite's refusals named as the domain writes them (`journeys[0].steps[2].expect.queue_idx`), one
    per problem: ccaas.api.errors lists a SpecErrors' problems in the 422."""
    try:
        return handler(value)
    except ValidationError as exc:
        raise SpecErrors(spec_errors(exc)) from None


SuiteBody = Annotated[JourneySuite, WrapValidator(_as_written), Body()]  # the OpenAPI schema stays JourneySuite's


@router.get("/settings/journeys", roles=READERS, tags=["journeys"],
            summary="The tenant's journey tests: synthetic customers through the flow and the API, with expectations")
def get_journeys() -> JourneySuite:
    return journeys.journeys_of(deps(), tenant(router))


@router.put("/settings/journeys", roles=[ADMIN], tags=["journeys"],
            summary="Replace the tenant's journey tests (at most 50; an unknown action or field is a 422 naming it); "
                    "a CloudWatch alarm is created for each journey added and deleted for each removed")
def put_journeys(body: SuiteBody) -> JourneySuite:
    return journeys.put_journeys(deps(), tenant(router), body)


@router.get("/journeys/results", roles=RESULT_READERS, tags=["journeys"],
            summary="The latest run of each journey (pass/fail, when, total time, the failed step and why); "
                    "a warning for each journey that has not run yet")
def get_results() -> journeys.JourneyResults:
    return journeys.latest_results(deps(), tenant(router))


@router.get("/journeys/<name>/results", roles=RESULT_READERS, tags=["journeys"],
            summary="A journey's last 20 runs, newest first, with per-step timings")
def get_journey_results(name: JourneyName) -> journeys.JourneyHistory:
    return journeys.journey_history(deps(), tenant(router), name)
