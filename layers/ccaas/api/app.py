"""The REST API as one Powertools resolver (validation, OpenAPI at /openapi.json, Swagger UI at /swagger).

Routes live in ccaas.api.routes.<concern>, one Router each; the tenant is always the authorizer's.
"""
from __future__ import annotations

import logging

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from ccaas.api.routes import (
    agents, alerts, analytics, configuration, contacts, customers, forecast, history, realtime, routing,
)
from ccaas.domain.models import Conflict, DomainError, NotFound

TITLE = "CCaaS contact-center API"
VERSION = "1.0.0"
SECURITY_SCHEMES = {"apiKey": HTTPBearer(description="the tenant's API key: `Authorization: Bearer ck_...`")}
SECURITY = [{"apiKey": []}]
ROUTERS = (
    contacts.router, agents.router, configuration.router, realtime.router, alerts.router,
    history.router, analytics.router, forecast.router,
    routing.router, customers.router,
)

# Powertools logs every route's arguments (request bodies included) at DEBUG. Transcripts, chat
# messages and survey comments hold card numbers until they are redacted: never below INFO here,
# whatever LOG_LEVEL / POWERTOOLS_DEBUG / the root logger say.
logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)

app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY)
for router in ROUTERS:
    app.include_router(router)


def _error(status: int, error: DomainError) -> Response:
    body = {"error": error.code, "message": str(error), **({"field": error.field} if error.field else {})}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response:
    return _error(404, error)


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    return _error(409, error)


@app.exception_handler(DomainError)
def _invalid(error: DomainError) -> Response:
    return _error(422, error)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # noqa: ANN201 - the raw document, not a validated model
    body = app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)
