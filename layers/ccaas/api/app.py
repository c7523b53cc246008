"""The REST API as one Powertools resolver (validation, OpenAPI at /openapi.json, Swagger UI at /swagger).

Routes live in ccaas.api.routes.<concern>, one Router each (ccaas.api.access.Router: every route declares
the roles it admits, and `ContactCenterApi` enforces them); the tenant is always the authorizer's.

Cold start: a route module brings its use-cases, their domain models and Powertools' OpenAPI models, so
none is imported with this module. A request includes the routers with routes under its first path
segment (`ROUTE_MODULES`) before it is matched; any other path (/openapi.json, /swagger, an unknown one)
and `ROUTES` include them all. Routes keep the order of `ROUTERS` whatever the order they were included
in, so matching and the OpenAPI document are what one eager build gives.
"""
from __future__ import annotations

import importlib
import json
import logging
import threading
from re import Match
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ccaas.adapters import prefetched_contact
from ccaas.api import access
from ccaas.api import request_body
from ccaas.api import idempotency
from ccaas.api.idempotency import IdempotencyKeyMiddleware
from ccaas.api.errors import document_statuses, domain_error_response, error_response, validation_error_response
from ccaas.domain.models import Conflict, Contact, DomainError, NotFound, TooLarge

TITLE = "CCaaS contact-center API"
VERSION = "1.0.0"
SECURITY = [{"apiKey": []}]
# ccaas.api.routes.<module>, in the order their routes are matched and documented.
ROUTERS = (
    "contacts", "agents", "configuration", "realtime", "alerts",
    "history", "analytics", "forecast",
    "routing", "customers", "keys",
    "guidance", "transfers", "outbound", "journeys",
)
# First path segment -> the route modules with a route under it (tests/unit/test_cold_start.py checks it
# against the routes themselves).
ROUTE_MODULES: dict[str, tuple[str, ...]] = {
    "contacts": ("contacts", "alerts", "history", "analytics", "routing", "guidance", "transfers", "outbound"),
    "queues": ("contacts", "configuration", "realtime"),
    "agents": ("agents", "configuration", "transfers"),
    "metrics": ("realtime", "history"),
    "alerts": ("alerts",),
    "settings": ("history", "analytics", "guidance", "transfers", "outbound", "journeys"),
    "insights": ("analytics",),
    "forecast": ("forecast",),
    "routing": ("routing",),
    "customers": ("customers",),
    "keys": ("keys",),
    "campaigns": ("outbound",),
    "suppressions": ("outbound",),
    "consents": ("outbound",),
    "journeys": ("journeys",),
}


def security_schemes() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"apiKey": HTTPBearer(description="the tenant's API key: `Authorization: Bearer ck_...`")}


# Powertools logs every route's arguments (request bodies included) at DEBUG. Transcripts, chat
# messages and survey comments hold card numbers until they are redacted: never below INFO here,
# whatever LOG_LEVEL / POWERTOOLS_DEBUG / the root logger say.
logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)


class ContactCenterApi(APIGatewayRestResolver):
    """The resolver, with the request body checked before Powertools reads it (ccaas.api.request_body)."""

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        _include_routes_for(str(event.get("path") or ""))
        try:
            event = request_body.normalise(event)
        except request_body.BodyProblem as problem:
            response = error_response(problem.status, problem.code, problem.message, field="body")
            return {"statusCode": response.status_code, "multiValueHeaders": {"Content-Type": ["application/json"]},
                    "body": self._serializer(response.body), "isBase64Encoded": False}
        if str(event.get("httpMethod", "")).upper() == "HEAD":
            # RFC 9110 9.3.2: wherever GET works, GET's answer. The body goes back whole: API Gateway (and the local
            # server) sends HEAD no body, and the Content-Length of this one. A blanked body answered Content-Length: 0
            # (a function cannot set it: API Gateway remaps an integration's Content-Length header).
            return super().resolve({**event, "httpMethod": "GET"}, context)
        return super().resolve(event, context)

    def _convert_matches_into_route_keys(self, match: Match) -> dict[str, str]:
        # API Gateway REST passes `path` as the client sent it, percent-encoded (its pathParameters are
        # decoded, but the resolver matches `path`), and so does the local API server: the one place the
        # resolver reads path parameters decodes them, so `q4%3Arenewals` is the id `q4:renewals` for every
        # route, the role check and validation alike (a decoded `/` still fails the id pattern).
        return {name: unquote(value) for name, value in super()._convert_matches_into_route_keys(match).items()}

    def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
        # The one place roles are enforced (ccaas.api.access): after the route is matched, before
        # Powertools validates the request, before idempotency and the handler. `_call_route` is Powertools'
        # (private) step between matching and the middleware stack; were it renamed, the route x role test
        # (tests/handlers/test_roles.py) fails: no forbidden call would be a 403 any more.
        # The contact an agent's check reads is served to this request's use-case, to no later request (the
        # environment, and its store, serve many): the scope ends with the handler.
        with prefetched_contact.request_scope():
            try:
                access.enforce(route, self.current_event.request_context.authorizer, route_arguments, _contact_of)
                # Before Powertools validates the body: it would take a JSON array's first element for an object.
                if route.dependant.body_params and self.current_event.body:
                    misplaced = request_body.list_where_an_object_goes(route, _json_document(self.current_event))
                    if misplaced:
                        raise RequestValidationError(misplaced)
            except Exception as error:  # noqa: BLE001 - mapped by the app's exception handlers, as a route's
                answer = self._call_exception_handler(error, route)
                if answer is None:
                    raise
                return answer
            return super()._call_route(route, route_arguments)


def _json_document(event: Any) -> Any:
    """The request's JSON body as Powertools reads it (parsed once: Powertools keeps it), None when it is CSV text
    (request_body passes that on unparsed)."""
    try:
        return event.json_body
    except ValueError:  # json.JSONDecodeError
        return None


def _contact_of(tenant_id: str, contact_id: str) -> Contact:
    from ccaas.bootstrap import dependencies

    contact = dependencies().store.get_contact(tenant_id, contact_id)
    # A consistent read the use-case would repeat milliseconds later: its first read of this contact takes this one
    # (ccaas.adapters.prefetched_contact; 4.7 GetItems per completed contact, ~5.5 % of the busy day's AWS calls).
    prefetched_contact.serve_once(contact)
    return contact


app = ContactCenterApi(enable_validation=True)
app.use(middlewares=[IdempotencyKeyMiddleware()])  # Idempotency-Key on POSTs (ccaas.api.idempotency)
_included: set[str] = set()  # "swagger" and the route modules included so far
_rank: dict[int, tuple[int, int]] = {}  # id(route) -> its place in the eager order (swagger, ROUTERS, the rest)
_including = threading.Lock()  # the local runtime may serve requests from several threads


def _include(name: str) -> None:
    before = {id(r) for r in app._static_routes + app._dynamic_routes}  # noqa: SLF001 - Powertools keeps no public list
    if name == "swagger":
        schemes = security_schemes()
        app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, security_schemes=schemes, security=SECURITY)
        place = -1
    else:
        router = importlib.import_module(f"ccaas.api.routes.{name}").router
        app.include_router(router)
        place = ROUTERS.index(name)
    added = [r for r in app._static_routes + app._dynamic_routes if id(r) not in before]  # noqa: SLF001
    access.check_declarations(added)  # a route without roles=... fails here, as it did at import
    document_statuses(added)
    _rank.update({id(r): (place, i) for i, r in enumerate(added)})
    for routes in (app._static_routes, app._dynamic_routes):  # noqa: SLF001
        routes.sort(key=lambda r: _rank.get(id(r), (len(ROUTERS), 0)))  # stable: /openapi.json stays last
    _included.add(name)


def _include_routes_for(path: str) -> None:
    """Include the routers a request to `path` may match (every router for a path none of them serves)."""
    segment = path.split("/")[1] if path.startswith("/") else ""
    needed = ("swagger", *ROUTE_MODULES.get(segment, ROUTERS))
    if _included.issuperset(needed):
        return
    with _including:
        for name in needed:
            if name not in _included:
                _include(name)


def all_routes() -> list[Any]:
    """Every route of the API (Swagger UI's and the routers'), every router included."""
    _include_routes_for("")
    return [r for r in app._static_routes + app._dynamic_routes if id(r) in _rank]  # noqa: SLF001


def __getattr__(name: str) -> Any:
    if name == "ROUTES":  # what tests and the local runtime match requests against
        return all_routes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    given = app.current_event.multi_value_query_string_parameters or {}
    return validation_error_response(error, {name: len(values) for name, values in given.items() if len(values) > 1})


@app.exception_handler(ValidationError)
def _invalid_model(error: ValidationError) -> Response:
    # A use-case that builds a model from validated input plus the path (e.g. a queue and its id).
    return validation_error_response(RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]))


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported(error: RequestUnsupportedContentType) -> Response:
    return error_response(415, "unsupported_media_type", "send the body as application/json", field="body")


@app.not_found
def _no_route(error: NotFoundError) -> Response:
    """No route takes this method and path: a 405 with `Allow` when routes take the path with other methods (RFC 9110
    15.5.6), else a 404."""
    path = app.current_event.path
    allowed = {r.method for r in app._static_routes + app._dynamic_routes if r.rule.match(path)}  # noqa: SLF001
    if not allowed or app.current_event.http_method.upper() in allowed:  # no such path (or a route's own 404)
        return error_response(404, "not_found", error.msg)
    allowed |= {"HEAD"} if "GET" in allowed else set()
    methods = ", ".join(sorted(allowed))
    response = error_response(405, "method_not_allowed", f"this path takes {methods}")
    response.headers["Allow"] = methods
    return response


@app.exception_handler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
    return error_response(error.status_code, codes.get(error.status_code, "error"), error.msg)


# The document by the routers included when it was built: Powertools builds it anew on every call (~0.5-1 s of CPU,
# 660 KB), and once every router is included (as this route does) the routes, and so the document, no longer change.
_documents: dict[frozenset[str], str] = {}
# Powertools' schema generation is not thread-safe: the local runtime's API environments share this app, and 8
# concurrent first fetches answered 7 502s (KeyError in its field mapping). One build at a time.
_documenting = threading.Lock()


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # noqa: ANN201 - the raw document, not a validated model
    included = frozenset(_included)
    with _documenting:
        body = _documents.get(included)
        if body is None:
            schema = app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=security_schemes(),
                                                 security=SECURITY)
            body = _documents[included] = json.dumps(idempotency.document_header(json.loads(schema)),
                                                     separators=(",", ":"))
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)
