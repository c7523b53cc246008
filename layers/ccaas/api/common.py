"""What every route module shares: the tenant from the authorizer, path id validation, dependencies."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ccaas.bootstrap import Dependencies, dependencies
from ccaas.domain.models import within_calendar  # noqa: F401  (the routes' date check)

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
OptionalId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


def deps() -> Dependencies:
    return dependencies()


def tenant(router: Router) -> str:
    """The caller's tenant, as the authorizer resolved it; the request body never names it."""
    authorizer = router.current_event.request_context.authorizer or {}
    tenant_id = authorizer.get("tenant_id")
    if not tenant_id:
        raise UnauthorizedError("no tenant in the request's authorization")
    return tenant_id


# Every CSV answer's media type (historical KPIs, campaign attempts), in its Content-Type and in the OpenAPI
# document alike. The body is UTF-8 and says so: without a charset a client may take text/csv as US-ASCII or
# Latin-1 ("Montréal" read as "MontrÃ©al"). No
# byte-order mark: the header names the encoding, and a BOM would be part of the first column's name for a
# program reading the CSV as plain UTF-8 ("\ufefftenant_id").
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
