"""`Idempotency-Key` on the API's POSTs: a retried request gets the first answer and changes nothing.

Why
---
A client whose `POST /contacts` timed out cannot tell whether the contact exists; retrying blindly
makes two contacts (two lifecycle workflows, a customer queued twice). With an `Idempotency-Key`
header (any 1-128 printable ASCII characters, e.g. a UUID the client made for this one operation) the
retry is safe: within 24 hours, the same key on the same operation returns the first response and
creates nothing.

How
---
`IdempotencyKeyMiddleware` is one Powertools event-handler middleware registered for the whole app
(ccaas.api.app). For a POST that carries the header, it runs the rest of the chain (the route and its
response validation) inside Powertools idempotency (`idempotent_function`), with
- the idempotency key = the authorizer's tenant and key id + method + the route matched and its decoded path
  parameters + the header value (sha256), so two tenants, or two contacts' `/callback`, never share a record,
  and `/contacts/` is the same operation as `/contacts`;
- payload validation on the request body (parsed JSON, so key order and spacing do not matter) and
  query string, so the same key with a different request is refused;
- the Lambda context registered per request (`IdempotencyConfig(lambda_context=...)`): an in-progress
  record holds the key only until the first invocation's time runs out, so a crashed attempt does not
  lock its key for 24 hours.

Answers:
- first request: what the route answers; a 2xx is stored (status, headers, body) for 24 hours;
- a repeat (same tenant, operation, key and request): the stored status, headers and body again, plus
  `Idempotent-Replayed: true`; the route does not run;
- the same key with a different request: 422 `idempotency_key_reused` (field `Idempotency-Key`);
- a repeat while the first is still running: 409 `idempotency_request_in_progress`, `Retry-After: 1`;
- a 4xx/5xx or an exception is not stored (the record is deleted): the client may fix the request and
  retry with the same key;
- a malformed key (empty, over 128 characters, not printable ASCII, two different values): 422
  `invalid_idempotency_key`;
- no header, another method, or no tenant (the route answers 401): untouched; so are `POST /keys` and
  `POST /keys/{id}/rotate`, whose answers hold a secret that is never stored.
Powertools validates the request against the route's models before any app middleware, so a body that
fails its model is a 422 before the key is looked at (and is never stored).

Records live in the Idempotency table in Powertools' schema (`id` = `api#idempotency-key#<sha256>`,
`expiration` is the TTL attribute; an expired record TTL has not removed yet is simply overwritten),
through the persistence layer bootstrap builds once per cold start (`Dependencies.idempotency`); unit
tests pass the in-memory twin (ccaas.adapters.memory.idempotency).

OpenAPI: Powertools has no global (app-wide) parameters, so the header is not in every operation by
itself; a route can declare it with `IdempotencyKeyHeader` (documented and validated by Powertools).
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.data_classes.common import CaseInsensitiveDict

from ccaas.api.errors import error_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
EXPIRES_AFTER_S = 24 * 3600
KEY_PREFIX = "api#idempotency-key"  # not the function's name: a renamed function keeps its records
METHODS = frozenset({"POST"})
# Answers that carry a secret (an API key issued or rotated) are never stored: the header is ignored there. By the
# route matched, not the path requested: the resolver also routes "/keys/" and "/keys/k_1/rotate//" there.
SECRET_ROUTES = frozenset({"/keys", "/keys/{key_id}/rotate"})
MAX_KEY_LENGTH = 128
KEY_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"  # printable ASCII, not only spaces
# Without a Lambda context (a direct app.resolve), an in-progress record holds its key this long.
_FALLBACK_REMAINING_MS = 30_000

_KEY = re.compile(KEY_PATTERN)
_PARAMETER = re.compile(r"{(\w+)}")


def __getattr__(name: str) -> Any:
    """`IdempotencyKeyHeader`, built on first use: Powertools' OpenAPI params come with its OpenAPI models,
    which a request that declares no such header does not need at cold start."""
    if name != "IdempotencyKeyHeader":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from aws_lambda_powertools.event_handler.openapi.params import Header

    header = Annotated[
        str | None,
        Header(
            alias=HEADER, pattern=KEY_PATTERN, max_length=MAX_KEY_LENGTH,
            description="Makes the request safe to retry: within 24 h the same key returns the first (2xx) "
                        "response, marked `Idempotent-Replayed: true`, and changes nothing; the same key with a "
                        "different body is a 422 `idempotency_key_reused`, a repeat still in progress a 409.",
        ),
    ]
    globals()[name] = header
    return header


class IdempotencyKeyMiddleware(BaseMiddlewareHandler):
    """See the module docstring. `store` returns the persistence layer (called per request, so it is
    built on first use); by default the one bootstrap builds for this function."""

    def __init__(self, store: Callable[[], BasePersistenceLayer] | None = None, *,
                 expires_after_s: int = EXPIRES_AFTER_S) -> None:
        super().__init__()
        self._store = store or _bootstrapped_store
        self._expires_after_s = expires_after_s

    def handler(self, app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        stored = event.http_method.upper() in METHODS and app.request.route not in SECRET_ROUTES
        keys = _header_values(event) if stored else set()
        authorizer = (event.request_context.authorizer or {}) if keys else {}
        tenant_id = authorizer.get("tenant_id")
        if not tenant_id:
            return next_middleware(app)
        problem = _key_problem(keys)
        if problem:
            return _error(422, "invalid_idempotency_key", problem)
        data = {
            # Per credential too: two callers of one tenant who pick the same key never share an answer.
            "operation": [tenant_id, authorizer.get("key_id") or "", event.http_method.upper(), *_operation(app),
                          next(iter(keys))],
            "request": {"body": _body(event), "query": event.resolved_query_string_parameters},
        }
        # Powertools idempotency imports boto3 (its DynamoDB layer): loaded by the first POST that needs it,
        # not by the cold start of every request.
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        # A config per request: it carries this invocation's Lambda context. The persistence layer keeps
        # the settings of the first config it sees, which are the same every time.
        config = IdempotencyConfig(
            event_key_jmespath="operation",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._expires_after_s,
            hash_function="sha256",
            lambda_context=_remaining_time_source(app),
            response_hook=_mark_replayed,
        )
        run = idempotent_function(
            _run_chain, data_keyword_argument="request", persistence_store=self._store(), config=config,
            output_serializer=_response_serializer()(), key_prefix=KEY_PREFIX,
        )
        try:
            return run(request=data, app=app, next_middleware=next_middleware)
        except _NotStored as answered:
            return answered.response
        except IdempotencyValidationError:
            return _error(422, "idempotency_key_reused",
                          f"this {HEADER} was already used for a different request; use a new key")
        except IdempotencyAlreadyInProgressError:
            return _error(409, "idempotency_request_in_progress",
                          f"a request with this {HEADER} is still being processed; retry shortly",
                          headers={"Retry-After": "1"})


class _NotStored(Exception):
    """The chain's answer is not kept (not 2xx): raised through Powertools, which deletes the record."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


# What an answer may weigh to be kept: the record is one DynamoDB item (400 KB) holding the answer's JSON text and
# the request's hash. A larger answer (a list upload's report of 1,000 errors and 1,000 warnings) failed the
# record's write after the request was done, and every retry of the key was then a 409 for good.
MAX_KEPT_ANSWER_BYTES = 350_000


def _run_chain(*, request: dict[str, Any], app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response:
    response = next_middleware(app)
    if not 200 <= response.status_code < 300 or isinstance(response.body, bytes):
        raise _NotStored(response)
    body = response.body if isinstance(response.body, str) else json.dumps(response.body, separators=(",", ":"), default=str)
    if len(body.encode()) > MAX_KEPT_ANSWER_BYTES:
        raise _NotStored(response)  # answered, not kept: a retry with the key runs the request again
    return response


@cache
def _response_serializer() -> type:
    """The serializer class, built on first use (its Powertools base class comes with boto3)."""
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer

    class _ResponseSerializer(BaseIdempotencySerializer):
        """What is stored of a response: status, the route's headers and the (already JSON-able) body.
        Headers the resolver adds when it builds the answer (CORS, compression) are added again on replay."""

        def to_dict(self, data: Response) -> dict:
            # The body as its JSON text: Powertools stores the record with sorted keys, and a replay should
            # be the first answer byte for byte, not the same object reordered.
            body = data.body if isinstance(data.body, str) else json.dumps(data.body, separators=(",", ":"), default=str)
            return {"status_code": data.status_code, "headers": data.headers, "body": body}

        def from_dict(self, data: dict) -> Response:
            return Response(status_code=data["status_code"], headers=data["headers"], body=data["body"])

    return _ResponseSerializer


def _mark_replayed(response: Response, record: DataRecord) -> Response:
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _bootstrapped_store() -> BasePersistenceLayer:
    from ccaas.bootstrap import dependencies

    return dependencies().idempotency


def _operation(app: ApiGatewayResolver) -> list[Any]:
    """The route matched and its path parameters, decoded: `/contacts/`, `/contacts` and `/contacts/c%2D1/end` vs
    `/contacts/c-1/end` are one operation each (keyed on the raw path, a trailing slash made a second contact).
    Only the route's own names: app.request.path_parameters also holds the validated body."""
    route, arguments = app.request.route, app.request.path_parameters
    return [route, [[name, str(arguments.get(name))] for name in _PARAMETER.findall(route)]]


def _header_values(event: Any) -> set[str]:
    """Every value the request sent for the header (REST events carry the last in `headers`, all in
    `multiValueHeaders`)."""
    values = set(CaseInsensitiveDict(event.get("multiValueHeaders") or {}).get(HEADER) or ())
    single = event.headers.get(HEADER)
    if single is not None:
        values.add(single)
    return values


def _key_problem(keys: set[str]) -> str | None:
    if len(keys) > 1:
        return f"send one {HEADER} header, not {len(keys)} different values"
    key = next(iter(keys))
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        return f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID, for instance)"
    return None


def _body(event: Any) -> Any:
    """The body as JSON when it is JSON (so formatting does not make it "different"), else as sent."""
    try:
        return event.json_body
    except Exception:  # not JSON, not UTF-8: compared as the raw string
        return event.body


class _Deadline:
    def __init__(self, remaining_ms: int) -> None:
        self._at = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._at - time.monotonic()) * 1000))


def _remaining_time_source(app: ApiGatewayResolver) -> Any:
    """The invocation's Lambda context (Powertools reads its remaining time to bound the in-progress
    lock), or a fixed deadline when there is none."""
    context = getattr(app, "lambda_context", None)
    if callable(getattr(context, "get_remaining_time_in_millis", None)):
        return context
    return _Deadline(_FALLBACK_REMAINING_MS)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    response = error_response(status, code, message, field=HEADER)
    response.headers.update(headers or {})
    return response


def document_header(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the optional header to every POST of an OpenAPI document (Powertools has no app-wide
    parameters; the middleware is app-wide, so its documentation is too)."""
    parameter = {
        "name": HEADER, "in": "header", "required": False,
        "description": "a retry with the same key within 24 h returns the first 2xx answer and changes nothing",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    }
    for operations in openapi.get("paths", {}).values():
        for method, operation in operations.items():
            if method.upper() in METHODS:
                operation.setdefault("parameters", []).append(dict(parameter))
    return openapi
