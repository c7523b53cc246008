"""The REST API as one Powertools resolver (validation, OpenAPI at /openapi.json, Swagger UI at /swagger).

Routes live in ccaas.api.routes.<concern>, one Router each (ccaas.api.access.Router: every route declares
the roles it admits, and `ContactCenterApi` enforces them); the tenant is always the authorizer's.
"""
from __future__ import annotations

import json
import logging

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ccaas.api.routes import (
    agents, alerts, analytics, configuration, contacts, customers, forecast, guidance, history, keys, realtime, routing,
    transfers,
)
from ccaas.api import access
from ccaas.api import request_body
from ccaas.api import idempotency
from ccaas.api.idempotency import IdempotencyKeyMiddleware
from ccaas.api.errors import document_statuses, domain_error_response, error_response, validation_error_response
from ccaas.domain.models import Conflict, DomainError, NotFound, TooLarge

TITLE = "CCaaS contact-center API"
VERSION = "1.0.0"
SECURITY_SCHEMES = {"apiKey": HTTPBearer(description="the tenant's API key: `Authorization: Bearer ck_...`")}
SECURITY = [{"apiKey": []}]
ROUTERS = (
    contacts.router, agents.router, configuration.router, realtime.router, alerts.router,
    history.router, analytics.router, forecast.router,
    routing.router, customers.router, keys.router,
    guidance.router, transfers.router,
)

# Powertools logs every route's arguments (request bodies included) at DEBUG. Transcripts, chat
# messages and survey comments hold card numbers until they are redacted: never below INFO here,
# whatever LOG_LEVEL / POWERTOOLS_DEBUG / the root logger say.
logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)



class ContactCenterApi(APIGatewayRestResolver):
    """The resolver, with the request body checked before Powertools reads it (ccaas.api.request_body)."""

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            event = request_body.normalise(event)
        except request_body.BodyProblem as problem:
            response = error_response(problem.status, problem.code, problem.message, field="body")
            return {"statusCode": response.status_code, "multiValueHeaders": {"Content-Type": ["application/json"]},
                    "body": self._serializer(response.body), "isBase64Encoded": False}
        return super().resolve(event, context)

    def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
        # The one place roles are enforced (ccaas.api.access): after the route is matched, before
        # Powertools validates the request, before idempotency and the handler. `_call_route` is Powertools'
        # (private) step between matching and the middleware stack; were it renamed, the route x role test
        # (tests/handlers/test_roles.py) fails: no forbidden call would be a 403 any more.
        try:
            access.enforce(route, self.current_event.request_context.authorizer, route_arguments, _holder_of)
        except Exception as error:  # noqa: BLE001 - mapped by the app's exception handlers, as a route's
            answer = self._call_exception_handler(error, route)
            if answer is None:
                raise
            return answer
        return super()._call_route(route, route_arguments)


def _holder_of(tenant_id: str, contact_id: str) -> str | None:
    from ccaas.bootstrap import dependencies

    return dependencies().store.get_contact(tenant_id, contact_id).agent_id


app = ContactCenterApi(enable_validation=True)
app.use(middlewares=[IdempotencyKeyMiddleware()])  # Idempotency-Key on POSTs (ccaas.api.idempotency)
app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY)
for router in ROUTERS:
    app.include_router(router)
ROUTES = app._static_routes + app._dynamic_routes  # noqa: SLF001 - Powertools keeps no public list
access.check_declarations(ROUTES)  # a route without roles=... fails here, at import
document_statuses(ROUTES)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response:
    return domain_error_response(404, error)


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    return domain_error_response(409, error)


@app.exception_handler(TooLarge)
def _too_large(error: TooLarge) -> Response:
    return domain_error_response(413, error)


@app.exception_handler(DomainError)
def _invalid(error: DomainError) -> Response:
    return domain_error_response(422, error)


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    return validation_error_response(error)


@app.exception_handler(ValidationError)
def _invalid_model(error: ValidationError) -> Response:
    # A use-case that builds a model from validated input plus the path (e.g. a queue and its id).
    return validation_error_response(RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]))


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported(error: RequestUnsupportedContentType) -> Response:
    return error_response(415, "unsupported_media_type", "send the body as application/json", field="body")


@app.exception_handler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
    return error_response(error.status_code, codes.get(error.status_code, "error"), error.msg)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # noqa: ANN201 - the raw document, not a validated model
    body = app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES, security=SECURITY)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=idempotency.document_header(json.loads(body)))
