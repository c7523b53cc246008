"""What a request body must be before Powertools parses it: UTF-8 JSON of bounded size and depth.

Powertools' validation reads `event.json_body` with `json.loads` and answers what that raises with a
500: a body that is not UTF-8 (UnicodeDecodeError), JSON nested deeply enough to hit the recursion limit
(RecursionError), `NaN`/`Infinity` (accepted by Python, not JSON; DynamoDB refuses them later), a lone
UTF-16 surrogate escape (`"\\ud800"`: parses, then fails wherever the text is encoded), an
integer of over 4,300 digits (ValueError; over 38 is refused here: DynamoDB's precision). This
module checks the body first and answers those with a 400 that says what is wrong, a body over the size
limit with a 413 (1 MiB; 4 MiB for a campaign list upload: `body_limit`). A body that parses as JSON is
read as JSON whatever its content type says (`curl -d` sends form encoding, other clients `text/plain`,
`text/csv` or nothing); one that does not is a 400 when it claims to be JSON (or claims nothing) and a 415 when
it claims another media type. A CSV body (`text/csv`) sent to the route that takes one (`RAW_TEXT_ROUTES`: the
campaign list upload) is checked the same way (size, UTF-8) and passed on as text with its content type, never
read as JSON (a one-column file of numbers is JSON too): the route reads it itself.

Powertools reads a JSON array sent where the operation takes one object as the array's first element, dropping
the rest (its form-data handling: `_normalize_field_value`); `list_where_an_object_goes` finds that body from the
operation's own body model, so the app answers a 422 naming `body` instead. An operation whose body model takes a
list (the transcript upload's segment list) still gets it whole.

An object that gives a key twice (`{"queue_id": "a", "queue_id": "b"}`, anywhere: nested, inside lists, or
spelled differently as `"\\u0071ueue_id"`) is a 400 `duplicate_key` naming the key and where it is
(`rows[3].phone`), never its value. Python keeps the last value silently; a WAF or gateway in front of us may check
the first: two readers that disagree on one body let a value past a check (and hide a client's bug).

A body with several problems is answered with the first of, in this order: not base64 (`invalid_body`), too large
(413), not UTF-8 (`invalid_body`); then what the parser meets first reading the text: not JSON (400, or 415 for
another media type), `NaN`/`Infinity`, an over-long integer, nesting past the recursion limit (`invalid_json`); then
nesting past MAX_DEPTH, a lone surrogate (`invalid_json`); a duplicate key last (`duplicate_key`): it is named only
in a body that is otherwise JSON we can read.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import _is_or_contains_sequence

from ccaas.api.errors import shown_name

MAX_BODY_BYTES = 1_048_576  # the largest transcript upload we take; items are bounded again at write
# Routes that take more: a campaign list upload (10,000 JSON rows are ~2 MB; CSV text up to 4 MB). API
# Gateway REST takes 10 MB, a synchronous Lambda invocation 6 MB for the whole event, in which the body is
# a JSON string (every quote escaped: ~15-30 % more for JSON rows): 4 MiB keeps the event under 6 MB.
LIST_UPLOAD_MAX_BODY_BYTES = 4 * 1_048_576
_LIST_UPLOAD = ("POST", re.compile(r"/campaigns/[^/]+/lists/?"))  # POST /campaigns/{id}/lists: JSON rows or a CSV file
LARGE_BODY_ROUTES: tuple[tuple[str, re.Pattern[str], int], ...] = ((*_LIST_UPLOAD, LIST_UPLOAD_MAX_BODY_BYTES),)
# The routes that read a CSV body themselves (with its content type); to any other a JSON body is JSON.
RAW_TEXT_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (_LIST_UPLOAD,)
MAX_DEPTH = 32  # no model of ours nests deeper than a handful of levels
# DynamoDB keeps 38 significant digits; Python refuses to convert integers of over 4,300 digits (a
# ValueError inside json.loads, once a 502): longer integers are refused before either.
MAX_INTEGER_DIGITS = 38
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_JSON_TYPES = ("application/json",)
_READ_AS_JSON = ("", "text/plain")  # what clients send when nobody set a content type: bad JSON is a 400
_RAW_TEXT_TYPES = ("text/csv", "application/csv")  # UTF-8 text a route reads itself (POST /campaigns/{id}/lists)


@dataclass(frozen=True)
class BodyProblem(Exception):
    """The body cannot be read; `status` is the HTTP answer, `code` the stable error code."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _reject_constant(name: str) -> Any:
    raise BodyProblem(400, "invalid_json", f"the body is not valid JSON: {name} is not a JSON number")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise BodyProblem(400, "invalid_json",
                          f"the body has an integer of {digits} digits; numbers have at most {MAX_INTEGER_DIGITS}")
    return int(text)


def _depth_exceeds(document: Any, limit: int) -> bool:
    """Without recursion (the depth check must not fail the way the parser did), one level at a time: a third of
    the time a stack of (value, depth) took on 10,000 list rows, which pays for the duplicate-key check."""
    level = [document] if type(document) in (dict, list) else []  # json.loads makes exactly these types
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for value in level:
            children = value.values() if type(value) is dict else value
            below += [child for child in children if type(child) is dict or type(child) is list]
        level = below
    return False




class _KeysOnce:
    """json.loads' object_pairs_hook: builds each object as json.loads does and notes the objects that give a key
    twice, without raising (a duplicate is named only once every other check passed: see the module docstring).
    The noted objects are kept alive, so the ids `where` looks for cannot be reused by another object."""

    def __init__(self) -> None:
        self.repeated: dict[int, tuple[dict[str, Any], set[str]]] = {}

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            twice = {key for key, times in Counter(key for key, _ in pairs).items() if times > 1}
            self.repeated[id(obj)] = (obj, twice)
        return obj

    def first(self, document: Any) -> tuple[str, str] | None:
        """(key, its path) of the first repeated key in the document's order (an object dropped as the value of a
        repeated key has a repeated ancestor, which is found first)."""
        return next(self._paths(document, ""), None)

    def _paths(self, value: Any, path: str) -> Iterator[tuple[str, str]]:  # recursion is safe: depth checked already
        if type(value) is dict:
            twice = self.repeated.get(id(value), (None, set()))[1]
            for key, child in value.items():
                at = f"{path}.{shown_name(key)}" if path else shown_name(key)
                if key in twice:
                    yield key, at
                yield from self._paths(child, at)
        elif type(value) is list:
            for index, child in enumerate(value):
                yield from self._paths(child, f"{path}[{index}]")


# json.loads accepts a `\uD800` escape without its pair; the lone surrogate then fails UTF-8 encoding wherever the
# text is written or hashed (a 502 from an Any-typed body; typed str fields refuse it). Only bodies with such an
# escape are checked in full.
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodes(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _media_type(headers: dict[str, Any]) -> tuple[str, str | None]:
    """(lower-cased media type, the header's name as sent) — API Gateway keeps the client's case."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value or "").split(";")[0].strip().lower(), name
    return "", None


def _is_json_type(media_type: str) -> bool:
    return media_type in _JSON_TYPES or (media_type.startswith("application/") and media_type.endswith("+json"))


def _method_and_path(event: dict[str, Any]) -> tuple[str, str]:
    return str(event.get("httpMethod", "")).upper(), str(event.get("path") or "")


def body_limit(event: dict[str, Any]) -> int:
    """The largest body (bytes) the event's route takes: MAX_BODY_BYTES, or more for a LARGE_BODY_ROUTES one."""
    method, path = _method_and_path(event)
    for route_method, pattern, limit in LARGE_BODY_ROUTES:
        if method == route_method and pattern.fullmatch(path):
            return limit
    return MAX_BODY_BYTES


def takes_raw_text(event: dict[str, Any]) -> bool:
    """Whether the event's route reads a CSV body itself (RAW_TEXT_ROUTES)."""
    method, path = _method_and_path(event)
    return any(method == route_method and pattern.fullmatch(path) for route_method, pattern in RAW_TEXT_ROUTES)


def list_where_an_object_goes(route: Any, document: Any) -> list[dict[str, Any]]:
    """The validation errors of a JSON array body (`document`) sent to an operation whose body model does not take
    a list (Powertools would validate its first element alone): the body model's own errors for the whole array,
    located at `body`. Empty for any other body, or an operation whose model takes a list."""
    params = route.dependant.body_params
    if type(document) is not list or len(params) != 1 or getattr(params[0].field_info, "embed", False):
        return []
    field = params[0]
    if _is_or_contains_sequence(field.field_info.annotation):  # Powertools' own test: it passes such a body whole
        return []
    _, errors = field.validate(value=document, loc=("body",))
    # A model that took the array (none does: tests/handlers/test_request_body_shapes.py) is refused all the same.
    return list(errors or []) or [{"type": "model_type", "loc": ("body",), "msg": "Input should be a JSON object",
                                   "input": None}]


def normalise(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of the REST proxy event whose body Powertools can read without failing.

    Raises BodyProblem for a body that no route could take. The returned event carries the body as
    text (never base64) and `Content-Type: application/json` when the body is JSON.
    """
    raw = event.get("body")
    if raw is None or raw == "":
        return event
    if str(event.get("httpMethod", "")).upper() not in BODY_METHODS:
        return {**event, "body": None, "isBase64Encoded": False}  # no route of ours reads a GET's body
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BodyProblem(400, "invalid_body", "the body is marked base64 but is not") from None
    else:
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    limit = body_limit(event)
    if len(data) > limit:
        raise BodyProblem(413, "body_too_large", f"the body is {len(data)} bytes; the limit is {limit}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyProblem(400, "invalid_body", f"the body is not valid UTF-8 (byte {exc.start})") from None

    headers = dict(event.get("headers") or {})
    media_type, header_name = _media_type(headers)
    if media_type in _RAW_TEXT_TYPES and takes_raw_text(event):
        return {**event, "body": text, "isBase64Encoded": False}  # read as text by the route that takes it
    if not text.strip():
        # Only whitespace: no body, as an empty one (a route that needs one answers 400 naming `body`).
        return {**event, "body": None, "isBase64Encoded": False}
    keys_once = _KeysOnce()
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int,
                              object_pairs_hook=keys_once)
    except RecursionError:
        raise BodyProblem(400, "invalid_json", f"the body nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        if media_type in _RAW_TEXT_TYPES:
            # CSV text to a route that reads no CSV: passed on as it is, for the route to refuse (a body model
            # answers 415 naming `body`) or, reading no body, to ignore, as any body it has no use for.
            return {**event, "body": text, "isBase64Encoded": False}
        if not _is_json_type(media_type) and media_type not in _READ_AS_JSON:
            raise BodyProblem(415, "unsupported_media_type",
                              f"content type {media_type!r} is not supported; send JSON (application/json)") from None
        raise BodyProblem(400, "invalid_json",
                          f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if _depth_exceeds(document, MAX_DEPTH):
        raise BodyProblem(400, "invalid_json", f"the body nests deeper than {MAX_DEPTH} levels")
    if _LONE_SURROGATE_ESCAPE.search(text) and not _encodes(document):
        raise BodyProblem(400, "invalid_json",
                          "the body is not valid JSON: a string holds a lone UTF-16 surrogate (\\uD800-\\uDFFF "
                          "escape), which is not UTF-8 text")
    if keys_once.repeated:
        key, where = keys_once.first(document) or ("", "")
        name = json.dumps(shown_name(key), ensure_ascii=False)
        raise BodyProblem(400, "duplicate_key", f"the body gives the key {name} more than once in one object "
                                                f"(at {where or 'the top level'}); send each key once")

    normalised = {**event, "body": text, "isBase64Encoded": False}
    if header_name is not None:
        headers.pop(header_name)
    headers["Content-Type"] = "application/json"
    normalised["headers"] = headers
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
    if event.get("multiValueHeaders") is not None:
        normalised["multiValueHeaders"] = {**multi, "Content-Type": ["application/json"]}
    return normalised
