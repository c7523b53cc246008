"""One error body for every 4xx the API answers, and the OpenAPI document's account of them.

Each route's documented statuses are its success code, the statuses every route can answer (401/403
from the authorizer, 422 validation, 400/413/415 for a body), 404 when its path names an entity, and
what the route declares itself (`responses=errors(409)`). `document_statuses` applies that once for the
whole app, so a new route cannot forget the common ones; a test compares the document with what each
route answers.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from ccaas.domain.models import DomainError
from ccaas.domain.vocabulary import shown_name  # the domain's rule: the contact-flow adapter's errors apply it too

DESCRIPTIONS = {
    400: "The body is not UTF-8 JSON of at most 32 levels that gives each key once in an object "
         "(`invalid_body`, `invalid_json`, `duplicate_key`)",
    401: "No or an unknown API key (answered by the authorizer)",
    403: "The key may not call this route",
    404: "No such entity in the caller's tenant",
    409: "The entity is not in a state that allows this (or a concurrent change won)",
    413: "The body or the item it would store is too large",
    415: "The body is not JSON",
    422: "A field is missing or not allowed; `field` names it and `message` says what is allowed",
}
_BODY_STATUSES = (400, 413, 415)
_ALWAYS = (401, 403, 422)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A 422 lists the first problems only, and cuts the field names it repeats (an unknown key is the client's own text):
# a 1 MiB body of 95,000 unknown keys was an 8.5 MB answer, over Lambda's 6 MB (API Gateway then answers 502).
MAX_PROBLEMS = 10


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="where: body, query, path, header, then the field's path")
    type: str
    msg: str


class ErrorBody(BaseModel):
    """What every 4xx answers."""

    error: str = Field(description="stable code to branch on, e.g. not_found, conflict, validation_error")
    message: str
    field: str | None = Field(default=None, description="the offending field's path as written, e.g. segments[1].end_ms")
    detail: list[FieldProblem] | None = Field(default=None, description=f"the first {MAX_PROBLEMS} validation problems")
    more_problems: int | None = Field(default=None, description="how many validation problems `detail` leaves out")


def errors(*statuses: int) -> dict[int, dict[str, Any]]:
    """`responses=` for a route: the error statuses it answers beyond the common ones."""
    return {status: _error_response(status) for status in statuses}


def _error_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {"application/json": {"model": ErrorBody}}}


def error_response(status: int, code: str, message: str, *, field: str | None = None,
                   detail: list[dict[str, Any]] | None = None, more_problems: int | None = None) -> Response:
    body = ErrorBody(error=code, message=message, field=field, detail=detail, more_problems=more_problems)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump(mode="json", exclude_none=True))


def domain_error_response(status: int, error: DomainError) -> Response:
    return error_response(status, error.code, str(error), field=error.field)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    """The field's path as written in the body, list positions included: `segments[1].end_ms` (loc minus
    its first part, where the field was: body, query, path or header)."""
    return _path_of(loc[1:]) or ("body" if tuple(loc[:1]) == ("body",) else None)  # the whole body (a list where an object goes)


def _path_of(parts: Iterable[Any]) -> str:
    """Names and list positions as written, `segments[1].end_ms`, each name as shown_name shows it."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{shown_name(part)}" if path else shown_name(part)
    return path


# An enum member as Python shows it, `<InitiationMethod.INBOUND: 'INBOUND'>`: pydantic lists a Literal's allowed
# values by their repr, and an enum member's repr is that. A client sends (and reads) the value: `'INBOUND'`.
_ENUM_REPR = re.compile(r"<[A-Za-z_][\w.]*: ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?)>")


def _as_sent(message: str) -> str:
    """A validation message with each enum member shown as the value a client sends."""
    return _ENUM_REPR.sub(r"\1", message)


def _problems(error: dict[str, Any], repeated: dict[str, int]) -> list[dict[str, Any]]:
    """One problem per pydantic error; a validator's error that lists located problems (`problems`, each
    with `loc`, `path` as written, `kind`, `message`: ccaas.domain.journeys.SpecErrors) is one per problem.
    A query parameter sent more than once (`repeated`: name -> times) arrives as a list, which pydantic calls
    the wrong type: said as it is instead."""
    located = getattr((error.get("ctx") or {}).get("error"), "problems", None)
    loc = [p if isinstance(p, int) else shown_name(p) for p in error["loc"]]
    if len(loc) == 2 and loc[0] == "query" and loc[1] in repeated:
        error = {**error, "type": "duplicate_parameter", "msg": f"given {repeated[loc[1]]} times; send it once"}
    if not located:
        return [{"loc": loc, "type": error["type"], "msg": _as_sent(error.get("msg", error["type"])),
                 "field": _field_of(tuple(error["loc"])), "where": ".".join(map(str, loc))}]
    # The path from the locs, its names as shown_name shows them (SpecError.path has the client's keys as written).
    return [{"loc": [*loc, *(q if isinstance(q, int) else shown_name(q) for q in p.loc)], "type": p.kind,
             "msg": _as_sent(p.message),
             "field": _path_of((*error["loc"][1:], *p.loc)), "where": _path_of((*error["loc"][1:], *p.loc))}
            for p in located]


def validation_error_response(error: RequestValidationError, repeated_query: dict[str, int] | None = None) -> Response:
    """422 naming each field and pydantic's reason (which lists an enum's allowed values). The input
    itself is never echoed: it may carry personal data. No body (empty, only whitespace or `null`) where the
    route needs one is a 400 naming `body`, as a body that is not JSON is (ccaas.api.request_body)."""
    if any(e["type"] == "missing" and tuple(e["loc"]) == ("body",) for e in error.errors()):
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_json",
                              "the body is empty (or null); this operation takes a JSON body", field="body")
    problems = [p for e in error.errors() for p in _problems(e, repeated_query or {})]
    shown, more = problems[:MAX_PROBLEMS], max(0, len(problems) - MAX_PROBLEMS)
    message = "; ".join(f"{p['where']}: {p['msg']}" for p in shown) + (f"; and {more:,} more" if more else "")
    field = problems[0]["field"] if problems else None
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", message or "invalid request",
                          field=field, detail=[{k: p[k] for k in ("loc", "type", "msg")} for p in shown],
                          more_problems=more or None)


def document_statuses(routes: list[Any]) -> None:
    """Give every route the statuses it can answer in the OpenAPI document (see the module docstring)."""
    for route in routes:
        declared = dict(route.responses or {})
        success = {route.status_code: declared.pop(route.status_code, {"description": HTTPStatus(route.status_code).phrase})}
        common = list(_ALWAYS)
        if "<" in route.path:
            common.append(404)
        if route.method.upper() in _WRITES:
            common += _BODY_STATUSES  # any write may carry a body (request_body checks it before routing)
            common.append(409)  # a state that does not allow it, or a concurrent writer that won
        responses = {**success, **{s: _error_response(s) for s in common}, **declared}
        roles = (route.openapi_extensions or {}).get("x-roles")
        if roles:
            scoped = " (an agent: only its own agent id and its own contacts)" if "agent" in roles else ""
            responses[403] = {**responses[403], "description": f"The key's role is not {' or '.join(roles)}{scoped}"}
        route.responses = responses
