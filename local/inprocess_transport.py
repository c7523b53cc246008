"""The runtime's own AWS calls reach the embedded moto server without HTTP: same app, no socket.

Every botocore client in this process that targets the embedded moto server (the handlers' clients, the
runtime's, the Kinesis pollers', the API gateway emulation's Invoke calls, the Step Functions engine's
task clients) used to send each call over a loopback TCP connection to `ThreadedMotoServer`: a socket
per new connection, a server thread per connection, HTTP written and parsed on both sides. Profiled at
load (the busy-day bench), that machinery cost more CPU than moto's own handling of the calls.

`install(endpoints, app)` registers a botocore `before-send` handler (on every session, present and
future, as local.call_counter does). For a request whose URL starts with one of `endpoints` it builds the
WSGI environ the server's request handler would have built (werkzeug's `make_environ`, moto's
`MotoRequestHandler` header rules) and calls the server's own WSGI application
(`DomainDispatcherApplication`) on the caller's thread; the answer goes back to botocore as the HTTP
response would have. Everything else (another endpoint, real AWS, moto's own `mock_aws` stubber) is
untouched: the handler returns None and botocore sends as usual. Out-of-process clients (the AWS CLI,
`python -m local.cli` in another shell) still use the server over HTTP.

DynamoDB item answers are parsed as the JSON they are (`install_fast_parse`): botocore walks a response's
output shape member by member to turn JSON into Python (~25 % of a handler's DynamoDB call here: every
attribute of every item of a Query), yet for an item operation's answer that walk changes nothing but blobs
(base64), JSON nulls (dropped) and members the model does not know (dropped). For answers of the embedded
moto (marked by a header of this transport) to Query, Scan, GetItem, PutItem, UpdateItem, DeleteItem,
BatchGetItem, TransactGetItems, TransactWriteItems and BatchWriteItem whose body has none of those (no
`"B":`/`"BS":`/`null` in the text, only item members at the top, nothing unprocessed), the parse is
`json.loads`; anything else goes botocore's way. Checked equal to botocore's parse in
tests/local/test_busy_day_cpu.py.

DynamoDB and Kinesis requests skip Flask (`DIRECT_TARGETS`): both are JSON protocols with one URL ("/") and
the action in X-Amz-Target, so the server's app always ends in the same response class's `dispatch` (its
one URL rule); the transport calls that `dispatch` with the request moto's server would have built (its
`BackendRequest` flavour: `from_wsgi_server`) and turns an HTTPException into its answer as Flask does. Flask's
part (the app's lock and backend lookup, request context, URL map, CORS, the Response object) was ~20 % of a
small call's CPU. Checked equal to the Flask path in tests/local/test_inprocess_transport.py.

Requests to the embedded moto are not really signed (`install_cheap_signing`): moto reads the Authorization
header's credential scope (service, region) and access key (the account), never the signature (its IAM
auth is off here), and SigV4's canonical request, hashes and HMACs were ~14 % of a small call's CPU. The
header keeps that shape with a fixed signature; any other endpoint is signed as before.

What stays the same: moto's routing (by Host, Authorization credential scope, X-Amz-Target), its locks
(local.moto_patches wraps `call_action`, which this path still goes through), botocore's serialising,
signing, parsing and hooks (the call counter counts the same calls), the handlers' code. What differs:
the request runs on the calling thread rather than a server thread (the caller waited for it anyway);
contextvars of the caller (the per-invocation environment overlay) are visible to moto's code while it
handles the call, which reads no variable a function sets.
"""
from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

_log = logging.getLogger(__name__)

_lock = threading.Lock()
_hooked = False
# endpoint prefixes ("http://127.0.0.1:PORT", "http://localhost:PORT") -> the WSGI app serving them
_routes: dict[str, Callable[..., Iterable[bytes]]] = {}
STATS = {"requests": 0, "direct": 0}  # all requests served here; of them, those dispatched without Flask


class _RawBody(io.BytesIO):
    """What botocore reads a response body from (read(), stream())."""

    def stream(self, **_: Any) -> Any:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def _encoding_dance(s: str) -> str:
    return s.encode().decode("latin1")


def wsgi_environ(method: str, url: str, headers: Iterable[tuple[str, Any]], body: bytes) -> dict[str, Any]:
    """The environ werkzeug's dev server (with moto's request handler) builds for this request."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )

    parts = urlsplit(url)
    raw_uri = parts.path + (f"?{parts.query}" if parts.query else "")
    host, _, port = parts.netloc.partition(":")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "local-inprocess",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _encoding_dance(unquote(parts.path)),
        "QUERY_STRING": _encoding_dance(parts.query),
        "REQUEST_URI": _encoding_dance(raw_uri),
        "RAW_URI": _encoding_dance(raw_uri),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": host,
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc,
    }
    pairs = [(k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers]
    dashed = {environ_key_for_header(k) for k, _ in pairs if "_" not in k}
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        value = value.replace("\r\n", "")
        if "_" not in key:
            wsgi_key = key.upper().replace("-", "_")
            if wsgi_key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                wsgi_key = f"HTTP_{wsgi_key}"
                if wsgi_key in environ and wsgi_key != "HTTP_HOST":
                    value = f"{environ[wsgi_key]},{value}"
            environ[wsgi_key] = value
        if should_preserve_original_header_name(key):
            env_key = environ_key_for_header(key)
            if env_key in dashed:
                continue
            names.setdefault(env_key, key)
            values.setdefault(env_key, []).append(value)
    for env_key, key_values in values.items():
        environ[env_key] = ",".join(key_values)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    read = getattr(body, "read", None)
    if read is None:  # an iterable of chunks
        return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in body)
    start = body.tell() if hasattr(body, "tell") else None
    data = read()
    if start is not None and hasattr(body, "seek"):
        body.seek(start)  # botocore may send a body again (a retry): leave it where it was
    return data.encode() if isinstance(data, str) else data


def call_app(app: Callable[..., Iterable[bytes]], method: str, url: str, headers: Iterable[tuple[str, Any]],
             body: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of `app`'s answer to the request."""
    environ = wsgi_environ(method, url, headers, _body_bytes(body))
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), response_headers
        return lambda data: answer.setdefault("written", []).append(data)

    try:
        chunks = app(environ, start_response)
    except Exception:  # noqa: BLE001 - what moto's HTTP server answers for a bug of its own: a 500
        _log.exception("the embedded AWS emulation failed on %s %s", method, url.split("?", 1)[0])
        return 500, [("Content-Type", "text/html; charset=utf-8")], b"<h1>Internal Server Error</h1>"
    try:
        data = b"".join(answer.get("written", [])) + b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], data


# X-Amz-Target prefix -> (module, response class) whose `dispatch` the server's Flask route for it calls
DIRECT_TARGETS = {
    "DynamoDB_20120810.": ("moto.dynamodb.responses", "DynamoHandler"),
    "Kinesis_20131202.": ("moto.kinesis.responses", "KinesisResponse"),
}
_direct_dispatch: dict[str, Callable[..., Any]] = {}


def _dispatcher(target: str) -> Callable[..., Any] | None:
    for prefix, (module, name) in DIRECT_TARGETS.items():
        if target.startswith(prefix):
            found = _direct_dispatch.get(prefix)
            if found is None:
                import importlib

                found = _direct_dispatch[prefix] = getattr(importlib.import_module(module), name).dispatch
            return found
    return None


def _direct_request_class() -> Any:
    global _DirectRequest
    if _DirectRequest is None:
        from moto.core.request import Request

        class DirectRequest(Request):
            from_wsgi_server = True  # as moto's server builds it (moto then adds no Date header of its own)

        _DirectRequest = DirectRequest
    return _DirectRequest


_DirectRequest: Any = None


def call_direct(dispatch: Callable[..., Any], method: str, url: str, headers: Iterable[tuple[str, Any]],
                body: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """What the server's app answers, for a request its Flask route would hand to `dispatch`."""
    from botocore.exceptions import ClientError
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    environ = wsgi_environ(method, url, headers, _body_bytes(body))
    request = _direct_request_class()(environ)
    try:
        try:
            recorder._record_request(request)  # noqa: SLF001 - as moto's convert_to_flask_response does
            result = dispatch(request, request.raw_url, dict(request.headers))
        except ClientError as exc:  # moto's convert_to_flask_response's answer to one
            result = 400, {}, exc.response["Error"]["Message"]
    except HTTPException as exc:  # what Flask answers for one (moto's errors are HTTPExceptions)
        answer = exc.get_response(environ)
        return answer.status_code, list(answer.headers.items()), answer.get_data()
    except Exception:  # noqa: BLE001 - as call_app: a bug of the emulation is a 500
        _log.exception("the embedded AWS emulation failed on %s %s", method, url.split("?", 1)[0])
        return 500, [("Content-Type", "text/html; charset=utf-8")], b"<h1>Internal Server Error</h1>"
    status, response_headers, content = result if len(result) == 3 else (200, {}, result)
    data = content.encode() if isinstance(content, str) else bytes(content or b"")
    pairs = [(k, str(v)) for k, v in response_headers.items()]
    if not any(k.lower() == "content-type" for k, _ in pairs):
        pairs.append(("Content-Type", "text/html; charset=utf-8"))  # Flask's default, as before
    return int(status), pairs, data


def _before_send(request: Any = None, **_: Any) -> Any:
    if request is None or not _routes:
        return None
    url = request.url
    found = _route(url)
    if found is None:
        return None
    prefix, app = found
    from botocore.awsrequest import AWSResponse

    target = request.headers.get("X-Amz-Target")
    dispatch = _dispatcher(target.decode() if isinstance(target, bytes) else target) if target else None
    if dispatch is not None and request.method == "POST" and url[len(prefix):] in ("", "/"):
        status, headers, body = call_direct(dispatch, request.method, url, request.headers.items(), request.body)
        STATS["direct"] += 1
    else:
        status, headers, body = call_app(app, request.method, url, request.headers.items(), request.body)
    STATS["requests"] += 1  # approximate under threads: a figure for reports, not a check
    merged: dict[str, str] = {}
    for key, value in headers:
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    merged[INPROCESS_HEADER] = "1"  # the answer of the embedded moto (install_fast_parse reads it)
    return AWSResponse(url, status, merged, _RawBody(body))


# -- DynamoDB item answers parsed as the JSON they are --------------------------------------------------

INPROCESS_HEADER = "x-local-inprocess"
# Output shapes whose members are items (attribute maps), counts and keys: json.loads is botocore's parse
# for them when the body holds no blob, no null and no member outside ITEM_MEMBERS.
FAST_PARSE_SHAPES = frozenset({
    "QueryOutput", "ScanOutput", "GetItemOutput", "PutItemOutput", "UpdateItemOutput", "DeleteItemOutput",
    "BatchGetItemOutput", "TransactGetItemsOutput", "TransactWriteItemsOutput", "BatchWriteItemOutput",
})
ITEM_MEMBERS = frozenset({"Items", "Count", "ScannedCount", "LastEvaluatedKey", "Item", "Attributes", "Responses",
                          "UnprocessedKeys", "UnprocessedItems"})
_NOT_PLAIN = (b'"B":', b'"BS":', b"null")
_original_json_do_parse: Any = None


def plain_item_answer(body: bytes) -> dict[str, Any] | None:
    """The parsed answer when json.loads is botocore's parse for it, else None."""
    if any(marker in body for marker in _NOT_PLAIN):
        return None
    parsed = json.loads(body) if body else {}
    if not isinstance(parsed, dict) or not parsed.keys() <= ITEM_MEMBERS:
        return None
    if parsed.get("UnprocessedKeys") or parsed.get("UnprocessedItems"):
        return None  # their KeysAndAttributes / WriteRequest structures: botocore's way
    return parsed


def install_fast_parse() -> None:
    """Botocore's JSON parser answers the embedded moto's item operations with json.loads (idempotent)."""
    global _original_json_do_parse
    from botocore.parsers import JSONParser

    with _lock:
        if _original_json_do_parse is not None:
            return
        original = _original_json_do_parse = JSONParser._do_parse

        def _do_parse(self: Any, response: dict[str, Any], shape: Any) -> Any:
            if shape is not None and shape.name in FAST_PARSE_SHAPES and response["headers"].get(INPROCESS_HEADER):
                parsed = plain_item_answer(response["body"])
                if parsed is not None:
                    self._inject_response_metadata(parsed, response["headers"])
                    return parsed
            return original(self, response, shape)

        _do_parse.__wrapped__ = original  # type: ignore[attr-defined]
        JSONParser._do_parse = _do_parse  # type: ignore[method-assign]


_original_add_auth: Any = None
_FIXED_SIGNATURE = "0" * 64


def _route(url: str) -> tuple[str, Callable[..., Iterable[bytes]]] | None:
    """(endpoint prefix, app) of the embedded moto `url` goes to, or None."""
    for prefix, app in list(_routes.items()):
        if url.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?"):
            return prefix, app
    return None


def routed(url: str) -> bool:
    """Whether `url` goes to an embedded moto this transport serves."""
    return _route(url) is not None


def install_cheap_signing() -> None:
    """SigV4 requests to the embedded moto carry the Authorization header's shape without computing a
    signature (moto reads the credential scope and access key, not the signature); idempotent."""
    global _original_add_auth
    import datetime

    from botocore.auth import SigV4Auth

    with _lock:
        if _original_add_auth is not None:
            return
        original = _original_add_auth = SigV4Auth.add_auth

        def add_auth(self: Any, request: Any) -> None:
            if type(self) is not SigV4Auth or self.credentials is None or not routed(request.url):
                return original(self, request)  # S3's and other variants, and every other endpoint: as before
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
                if name in request.headers:
                    del request.headers[name]
            request.headers["X-Amz-Date"] = stamp
            if self.credentials.token:
                request.headers["X-Amz-Security-Token"] = self.credentials.token
            scope = f"{self.credentials.access_key}/{stamp[:8]}/{self._region_name}/{self._service_name}/aws4_request"
            request.headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, Signature={_FIXED_SIGNATURE}")

        add_auth.__wrapped__ = original  # type: ignore[attr-defined]
        SigV4Auth.add_auth = add_auth  # type: ignore[method-assign]


def install(endpoint: str, app: Callable[..., Iterable[bytes]]) -> None:
    """Route this process's botocore requests to `endpoint` (and its localhost spelling) into `app`."""
    global _hooked
    parts = urlsplit(endpoint)
    port = parts.port
    with _lock:
        _routes.clear()
        _routes[f"{parts.scheme}://{parts.netloc}"] = app
        for host in ("127.0.0.1", "localhost"):
            _routes[f"{parts.scheme}://{host}:{port}"] = app
        if _hooked:
            return
    install_fast_parse()
    install_cheap_signing()
    with _lock:
        if _hooked:
            return
        import boto3
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register("before-send", _before_send, unique_id="local-inprocess")
        _hooked = True


def uninstall() -> None:
    """Requests go over HTTP again (the hook stays registered and does nothing)."""
    with _lock:
        _routes.clear()


def installed() -> bool:
    return bool(_routes)
