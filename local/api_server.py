"""API Gateway (REST API, Lambda proxy) emulation on 127.0.0.1, from the template's API resources.

Each HTTP request becomes the REST API v1 proxy event the integration function gets on AWS
(resource, path, httpMethod, headers, multiValueHeaders, queryStringParameters,
multiValueQueryStringParameters, pathParameters, stageVariables, requestContext, body,
isBase64Encoded). Routing follows API Gateway: literal path parts beat {param}, which beats {proxy+};
a method beats ANY; no match is 403 {"message":"Missing Authentication Token"}.

CUSTOM methods run the Lambda authorizer first (TOKEN: {type, authorizationToken, methodArn};
REQUEST: the request's headers/query/path), with API Gateway's answers: missing identity or the
authorizer raising "Unauthorized" -> 401 {"message":"Unauthorized"}; a policy that does not allow
the method ARN -> 403; an explicit Deny -> 403 "...with an explicit deny"; any other authorizer
failure -> 500. The API's gateway responses (AWS::ApiGateway::GatewayResponse) apply to these as on AWS: status,
headers and the body template ($context.error.message / messageString / responseType substituted). Policies are
cached per identity for AuthorizerResultTtlInSeconds and evaluated against each request's method ARN. The
authorizer's `context` map (plus principalId) becomes requestContext.authorizer.

Functions are invoked through moto's Lambda Invoke API, so the in-process seam, the per-function
environment and the call counting are the same as for every other invocation.

Requests under /<stage>/ go to the API; other paths are served from the static folder when one is
configured and the file exists (the wallboard), else to the API without the stage prefix.

A request body is framed by Content-Length or `Transfer-Encoding: chunked` (decoded), at most 10 MB, and runs only
when it arrived whole. What the server refuses itself (a body cut short or over the limit, a framing that is not to
be trusted, http.server's 400/414/431/501) is answered through the gateway responses as API Gateway's own errors
are, never with the input echoed, and ends the connection: the rest of that request is never read as the next one.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import logging
import mimetypes
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.deployer import ApiAuthorizer, ApiMethod, ApiResource, Deployment, RestApiSpec

log = logging.getLogger("local.api")

MISSING_TOKEN = (403, {"message": "Missing Authentication Token"}, "MISSING_AUTHENTICATION_TOKEN")
UNAUTHORIZED = (401, {"message": "Unauthorized"}, "UNAUTHORIZED")
ACCESS_DENIED = (403, {"Message": "User is not authorized to access this resource"}, "ACCESS_DENIED")
EXPLICIT_DENY = (403, {"Message": "User is not authorized to access this resource with an explicit deny"}, "ACCESS_DENIED")
AUTHORIZER_ERROR = (500, {"message": None}, "AUTHORIZER_CONFIGURATION_ERROR")
BAD_GATEWAY = (502, {"message": "Internal server error"}, "DEFAULT_5XX")
NOT_A_PATH = (400, {"message": "The request target is not a path"}, "DEFAULT_4XX")


def invoke_function(lambda_client: Any, function_arn: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    """A function invoked as the Lambda Invoke API would (FunctionError, payload): straight into its in-process
    execution environment when it is registered here (as the Kinesis pollers do: no botocore request, no moto
    Invoke, ~1.5 ms of CPU a request at load), otherwise through `lambda_client`."""
    from local import lambda_runtime

    # The event as the function would get it from JSON (a copy: the handler may change what it is given).
    direct = lambda_runtime.invoke_registered_answer(function_arn, json.loads(json.dumps(event)))
    if direct is not None:
        return direct
    out = lambda_client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
    raw = out["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return out.get("FunctionError"), payload


@dataclass
class Route:
    resource: ApiResource
    segments: list[str]

    def match(self, parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        params: dict[str, str] = {}
        literal = 0
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):
                    return None
                params[seg[1:-2]] = "/".join(parts[i:])
                return (literal, i, 0), params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                params[seg[1:-1]] = parts[i]
            elif seg != parts[i]:
                return None
            else:
                literal += 1
        if len(parts) != len(self.segments):
            return None
        return (literal, len(self.segments), 1), params


@dataclass
class _CachedPolicy:
    expires: float
    principal_id: str
    policy: dict[str, Any]
    context: dict[str, Any]


class ApiGateway:
    """The request -> response logic, independent of the HTTP server (unit-testable)."""

    def __init__(
        self,
        deployment: Deployment,
        lambda_client: Any,
        api: RestApiSpec | None = None,
        *,
        static_dir: Path | None = None,
        host: str = "127.0.0.1:0",
    ) -> None:
        api = api or deployment.rest_api
        if api is None:
            raise ValueError("the deployment has no REST API")
        self.deployment = deployment
        self.api = api
        self.stage = api.stage_name
        self.lambda_client = lambda_client
        self.static_dir = static_dir
        self.host = host
        self.routes = [Route(r, [s for s in r.path.split("/") if s]) for r in api.resources.values()]
        self.methods: dict[str, dict[str, ApiMethod]] = {}
        for m in api.methods:
            self.methods.setdefault(m.resource_id, {})[m.http_method] = m
        self._cache: dict[tuple[str, str], _CachedPolicy] = {}
        self._cache_lock = threading.Lock()
        self.stats = {"requests": 0, "server_errors": 0, "authorizer_invocations": 0, "authorizer_cache_hits": 0}
        self._stats_lock = threading.Lock()

    # -- entry point ------------------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str = "127.0.0.1"
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._stats_lock:
            self.stats["requests"] += 1
        request_id = str(uuid.uuid4())
        # Everything a request leads to is answered here: an exception let out dropped the client's connection with
        # no answer at all (a NUL in a static path; a target whose host urlsplit refuses).
        try:
            split = urlsplit(raw_path)
        except ValueError:
            return self._gateway_error(NOT_A_PATH, request_id)
        path = split.path or "/"
        stage_prefix = f"/{self.stage}"
        try:
            if path == stage_prefix or path.startswith(stage_prefix + "/"):
                api_path = path[len(stage_prefix):] or "/"
            else:
                static = self._static(method, path)
                if static is not None:
                    return static
                api_path = path
            answer = self._api(method.upper(), api_path, split.query, headers, body, source_ip, request_id)
        except Exception:  # noqa: BLE001 - never crash the server thread
            log.exception("API request failed")
            answer = self._gateway_error(BAD_GATEWAY, request_id)
        if answer[0] >= 500:  # what a stage's ERROR-level execution log would hold
            with self._stats_lock:
                self.stats["server_errors"] += 1
        return answer

    # -- static files ---------------------------------------------------------------------------
    def _static(self, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The static folder's file at `path`; None (the API answers it) when there is none. A path that cannot name
        a file (a NUL: ValueError; a name too long; a file that cannot be read: OSError) has none either."""
        if self.static_dir is None or method.upper() not in ("GET", "HEAD"):
            return None
        rel = unquote(path).lstrip("/") or "index.html"
        root = self.static_dir.resolve()
        try:
            target = (root / rel).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents and target != root or not target.is_file():
                return None
            data = target.read_bytes()
        except (OSError, ValueError):
            return None
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, [("Content-Type", ctype), ("Cache-Control", "no-store")], data

    # -- API ------------------------------------------------------------------------------------
    def _route(self, path: str) -> tuple[ApiResource, dict[str, str]] | None:
        parts = [unquote(p) for p in path.split("/") if p]
        best: tuple[tuple[int, ...], ApiResource, dict[str, str]] | None = None
        for route in self.routes:
            got = route.match(parts)
            if got is None:
                continue
            score, params = got
            if best is None or score > best[0]:
                best = (score, route.resource, params)
        return None if best is None else (best[1], best[2])

    def _api(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes, source_ip: str, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        routed = self._route(path)
        if routed is None:
            return self._gateway_error(MISSING_TOKEN, request_id)
        resource, path_params = routed
        methods = self.methods.get(resource.id, {})
        m = methods.get(method) or methods.get("ANY")
        if m is None:
            return self._gateway_error(MISSING_TOKEN, request_id)

        single_h: dict[str, str] = {}
        multi_h: dict[str, list[str]] = {}
        for k, v in headers:
            single_h[k] = v
            multi_h.setdefault(k, []).append(v)
        pairs = parse_qsl(query, keep_blank_values=True)
        single_q: dict[str, str] = {}
        multi_q: dict[str, list[str]] = {}
        for k, v in pairs:
            single_q[k] = v
            multi_q.setdefault(k, []).append(v)
        now = time.time()
        method_arn = (
            f"arn:aws:execute-api:{self.deployment.region}:{self.deployment.account_id}:{self.api.id}/"
            f"{self.stage}/{method}/{path.lstrip('/')}"
        )
        request_context: dict[str, Any] = {
            "resourceId": resource.id,
            "resourcePath": resource.path,
            "httpMethod": method,
            "extendedRequestId": request_id.replace("-", "")[:16] + "=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{self.stage}{path}",
            "accountId": self.deployment.account_id,
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainPrefix": self.api.id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": _header(single_h, "User-Agent"),
                "user": None,
            },
            "domainName": self.host,
            "apiId": self.api.id,
        }
        event: dict[str, Any] = {
            "resource": resource.path,
            "path": path,
            "httpMethod": method,
            "headers": single_h or None,
            "multiValueHeaders": multi_h or None,
            "queryStringParameters": single_q or None,
            "multiValueQueryStringParameters": multi_q or None,
            "pathParameters": path_params or None,
            "stageVariables": self.api.stages.get(self.stage) or None,
            "requestContext": request_context,
            "body": None,
            "isBase64Encoded": False,
        }
        if body:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True

        if m.authorization_type == "CUSTOM":
            authorizer = self.api.authorizers[m.authorizer_id or ""]
            outcome = self._authorize(authorizer, method_arn, event)
            if isinstance(outcome, tuple):
                return self._gateway_error(outcome, request_id)
            request_context["authorizer"] = outcome
        elif m.authorization_type not in ("NONE", ""):
            log.warning("%s: authorization type %s is not emulated; request let through", m.logical_id, m.authorization_type)

        if m.integration_type == "MOCK":
            return self._mock(m, request_id)
        return self._proxy(m, event, request_id)

    # -- authorizer -----------------------------------------------------------------------------
    def _identity(self, authorizer: ApiAuthorizer, event: dict[str, Any]) -> str | None:
        values = []
        for source in [s.strip() for s in authorizer.identity_source.split(",") if s.strip()]:
            kind, _, name = source.partition("method.request.")[2].partition(".")
            if kind == "header":
                value = _header(event["headers"] or {}, name.partition(".")[2] if name.startswith("header.") else name)
            elif kind == "querystring":
                value = (event["queryStringParameters"] or {}).get(name)
            elif kind == "path":
                value = (event["pathParameters"] or {}).get(name)
            else:
                value = None
            if not value:
                return None
            values.append(value)
        return ",".join(values)

    def _authorize(self, authorizer: ApiAuthorizer, method_arn: str, event: dict[str, Any]) -> dict[str, Any] | tuple:
        identity = self._identity(authorizer, event)
        if identity is None:
            return UNAUTHORIZED
        if authorizer.type == "TOKEN" and authorizer.identity_validation_expression:
            if not re.fullmatch(authorizer.identity_validation_expression, identity):
                return UNAUTHORIZED
        key = (authorizer.id, identity)
        now = time.monotonic()
        cached = None
        if authorizer.ttl_s > 0:
            with self._cache_lock:
                cached = self._cache.get(key)
                if cached is not None and cached.expires < now:
                    del self._cache[key]
                    cached = None
        if cached is None:
            if authorizer.type == "TOKEN":
                auth_event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": identity, "methodArn": method_arn}
            elif authorizer.type == "REQUEST":
                auth_event = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
                auth_event.update(type="REQUEST", methodArn=method_arn)
            else:
                log.error("authorizer type %s is not emulated", authorizer.type)
                return AUTHORIZER_ERROR
            with self._stats_lock:
                self.stats["authorizer_invocations"] += 1
            started = time.perf_counter()
            error, payload = self._invoke(authorizer.function_arn or "", auth_event)
            latency = int((time.perf_counter() - started) * 1000)
            if error:
                message = payload.get("errorMessage") if isinstance(payload, dict) else None
                if message == "Unauthorized":
                    return UNAUTHORIZED
                log.warning("authorizer %s failed: %s", authorizer.name, payload)
                return AUTHORIZER_ERROR
            if not isinstance(payload, dict) or "policyDocument" not in payload or "principalId" not in payload:
                log.warning("authorizer %s returned no principalId/policyDocument: %r", authorizer.name, payload)
                return AUTHORIZER_ERROR
            context = payload.get("context") or {}
            if not isinstance(context, dict) or any(
                not isinstance(v, (str, int, float, bool)) for v in context.values()
            ):
                log.warning("authorizer %s context values must be strings, numbers or booleans", authorizer.name)
                return AUTHORIZER_ERROR
            cached = _CachedPolicy(now + authorizer.ttl_s, str(payload["principalId"]), payload["policyDocument"], context)
            cached.context = {**context, "integrationLatency": latency}
            if authorizer.ttl_s > 0:
                with self._cache_lock:
                    self._cache[key] = cached
        else:
            with self._stats_lock:
                self.stats["authorizer_cache_hits"] += 1
        verdict = evaluate_policy(cached.policy, method_arn)
        if verdict == "Deny":
            return EXPLICIT_DENY
        if verdict != "Allow":
            return ACCESS_DENIED
        return {**cached.context, "principalId": cached.principal_id}

    # -- integrations ---------------------------------------------------------------------------
    def _invoke(self, function_arn: str, event: dict[str, Any]) -> tuple[str | None, Any]:
        return invoke_function(self.lambda_client, function_arn, event)

    def _proxy(self, m: ApiMethod, event: dict[str, Any], request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        error, payload = self._invoke(m.integration_function_arn or "", event)
        if error or not isinstance(payload, dict) or "statusCode" not in payload:
            log.warning("integration %s: malformed Lambda proxy response or error: %r", m.logical_id, payload)
            return self._gateway_error(BAD_GATEWAY, request_id)
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            return self._gateway_error(BAD_GATEWAY, request_id)
        out_headers: list[tuple[str, str]] = []
        multi = payload.get("multiValueHeaders") or {}
        single = payload.get("headers") or {}
        for k, values in multi.items():
            for v in values if isinstance(values, list) else [values]:
                out_headers.append((k, str(v)))
        for k, v in single.items():
            if k not in multi:
                out_headers.append((k, str(v)))
        body = payload.get("body")
        if body is None:
            data = b""
        elif payload.get("isBase64Encoded"):
            data = base64.b64decode(body)
        else:
            data = str(body).encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in out_headers):
            out_headers.append(("Content-Type", "application/json"))
        out_headers += [("x-amzn-RequestId", request_id), ("X-Amzn-Trace-Id", f"Root=1-{request_id[:8]}")]
        return status, out_headers, data

    def _mock(self, m: ApiMethod, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        responses = m.integration.get("IntegrationResponses") or [{"StatusCode": "200"}]
        chosen = next((r for r in responses if not r.get("SelectionPattern")), responses[0])
        headers = []
        for k, v in (chosen.get("ResponseParameters") or {}).items():
            if k.startswith("method.response.header."):
                headers.append((k.split(".", 3)[3], str(v).strip("'")))
        body = (chosen.get("ResponseTemplates") or {}).get("application/json", "")
        headers.append(("x-amzn-RequestId", request_id))
        return int(chosen.get("StatusCode", 200)), headers, body.encode()

    def _gateway_error(self, error: tuple, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        status, body, response_type = error
        headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", _error_type(status, response_type))]
        custom = self.api.gateway_responses.get(response_type) or self.api.gateway_responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        )
        data = json.dumps(body).encode()
        if custom:
            status = int(custom.get("StatusCode", status))
            for k, v in (custom.get("ResponseParameters") or {}).items():
                if k.startswith("gatewayresponse.header."):
                    headers.append((k.split(".", 2)[2], str(v).strip("'")))
            template = (custom.get("ResponseTemplates") or {}).get("application/json")
            if template is not None:
                message = body.get("message", body.get("Message"))
                data = _render_gateway_template(template, message, response_type).encode()
        return status, headers, data


def _render_gateway_template(template: str, message: str | None, response_type: str) -> str:
    """A gateway response's body template as API Gateway fills it: plain substitution of $context variables, no VTL
    (`messageString` is the message as a quoted JSON string)."""
    values = {"messageString": json.dumps(message or ""), "message": message or "", "responseType": response_type}
    return re.sub(r"\$context\.error\.(messageString|message|responseType)\b", lambda m: values[m.group(1)], template)


def _error_type(status: int, response_type: str) -> str:
    return {
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    }.get(response_type, "InternalServerErrorException" if status >= 500 else "BadRequestException")


def _header(headers: dict[str, str], name: str) -> str | None:
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


def _arn_matches(pattern: str, arn: str) -> bool:
    # IAM-style wildcards: * any run of characters (including '/'), ? one character.
    return fnmatch.fnmatchcase(arn, pattern)


def evaluate_policy(policy: dict[str, Any], method_arn: str) -> str:
    """'Allow', 'Deny' (explicit) or 'None' for an execute-api:Invoke on method_arn."""
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        actions = st.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(_arn_matches(a.lower(), "execute-api:invoke") for a in actions):
            continue
        resources = st.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_arn_matches(r, method_arn) for r in resources):
            continue
        if str(st.get("Effect", "")).lower() == "deny":
            return "Deny"
        if str(st.get("Effect", "")).lower() == "allow":
            allowed = True
    return "Allow" if allowed else "None"


# API Gateway's REST payload limit: a bigger request is refused with 413 before any function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_CHUNK_LINE_BYTES = 4096  # a chunk's size line (extensions included) or a trailer field line
MAX_TRAILER_FIELDS = 100  # as http.server bounds the header fields
# The methods API Gateway serves (its ANY); http.server answers any other with its 501.
SERVED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

# http.server's own refusals, worded here: its messages quote the request line, and an answer never echoes input.
SERVER_REFUSALS = {
    400: "The request line or a header field is malformed",
    414: "The request line is longer than 65536 bytes",
    431: "The request has more than 100 header fields, or a header line longer than 65536 bytes",
    501: f"The method is not one this API serves ({SERVED_METHODS})",
    505: "The HTTP version is not supported",
}


class RequestRefused(Exception):
    """A request the server answers itself, before any function runs, and whose connection then ends: what is left of
    its body cannot be told from a next request."""

    def __init__(self, status: int, message: str, response_type: str = "") -> None:
        super().__init__(message)
        self.error = (status, {"message": message}, response_type or ("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"))


def _too_large() -> RequestRefused:
    return RequestRefused(413, f"HTTP content length exceeded {MAX_BODY_BYTES} bytes.", "REQUEST_TOO_LARGE")


class _Handler(BaseHTTPRequestHandler):
    server_version = "local-apigateway"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm each response waited ~40 ms for the
    # client's delayed ACK (measured: 2,147 requests took 132 s, 32 s without).
    disable_nagle_algorithm = True
    gateway: ApiGateway  # set on the subclass

    def _serve(self) -> None:
        try:
            try:
                body = self._body()
            except RequestRefused as refused:
                self._refuse(refused.error)
                return
            self._answer(*self.gateway.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            ))
        except (BrokenPipeError, ConnectionResetError) as gone:  # the client left: nobody to answer, no traceback
            self.close_connection = True
            log.debug("%s left before its answer: %s", self.address_string(), gone)

    # -- the request's body, whole or not at all ---------------------------------------------------
    def _body(self) -> bytes:
        """The body as the request frames it: `Transfer-Encoding: chunked` (decoded, as API Gateway takes it) or
        `Content-Length` (none: no body). RequestRefused when the framing is not one to trust or the body does not
        arrive whole: a body cut short ran the request on part of it (half of a CSV upload imported)."""
        codings = self.headers.get_all("Transfer-Encoding") or []
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if codings:
            # Both framings, or chunks under HTTP/1.0, is how a request is smuggled past a proxy (RFC 9112 6.1, 6.3).
            if lengths:
                raise RequestRefused(400, "Content-Length and Transfer-Encoding are both given: one frames the body")
            if self.request_version == "HTTP/1.0":
                raise RequestRefused(400, "Transfer-Encoding is not HTTP/1.0")
            if ",".join(codings).strip().lower() != "chunked":
                raise RequestRefused(501, "The only Transfer-Encoding taken is chunked")  # RFC 9112 6.1
            return self._chunked_body()
        if len(lengths) > 1:
            raise RequestRefused(400, "Content-Length is given twice, with different sizes")
        raw = lengths.pop() if lengths else "0"
        if not (raw.isascii() and raw.isdigit()):
            raise RequestRefused(400, "Content-Length is not a size")
        digits = raw.lstrip("0") or "0"
        # (int() refuses over 4,300 digits: a size that long is too large anyway)
        length = int(digits) if len(digits) <= len(str(MAX_BODY_BYTES)) else MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            raise _too_large()
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise RequestRefused(
                400, f"The body ended after {len(body)} of the {length} bytes Content-Length announced")
        return body

    def _chunked_body(self) -> bytes:
        """The chunks' data joined (RFC 9112 7.1): extensions ignored, trailer fields read and dropped (API Gateway
        passes none on); bounded by MAX_BODY_BYTES as a Content-Length is."""
        body = bytearray()
        while True:
            size_text = self._chunk_line().split(b";", 1)[0].rstrip(b" \t")
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise RequestRefused(400, "A chunk size is not a hexadecimal number")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise _too_large()
            data = self.rfile.read(size)
            if len(data) < size:
                raise RequestRefused(400, "The chunked body ended inside a chunk")
            end = self.rfile.read(2)
            if end != b"\r\n":
                raise RequestRefused(400, "The chunked body ended inside a chunk" if len(end) < 2 else
                                     "A chunk is longer than its size says")
            body += data
        for _ in range(MAX_TRAILER_FIELDS + 1):
            if not self._chunk_line():
                return bytes(body)
        raise RequestRefused(431, f"The chunked body has more than {MAX_TRAILER_FIELDS} trailer fields")

    def _chunk_line(self) -> bytes:
        line = self.rfile.readline(MAX_CHUNK_LINE_BYTES + 1)
        if line.endswith(b"\r\n"):
            return line[:-2]
        if len(line) > MAX_CHUNK_LINE_BYTES:
            raise RequestRefused(400, f"A chunk size or trailer line is longer than {MAX_CHUNK_LINE_BYTES} bytes")
        raise RequestRefused(400, "The chunked body ended before its last chunk" if not line.endswith(b"\n") else
                             "A chunk size or trailer line does not end with CRLF")

    # -- answers ------------------------------------------------------------------------------------
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line over 64 KiB: 414; over 100 header fields or a header line over
        64 KiB: 431; a malformed request line or header: 400; a method API Gateway does not serve, `get` included:
        501) answered as the gateway's other errors are, in the API's gateway-response body, not http.server's HTML;
        its `message` is not used (it quotes the request line)."""
        # A request line it could not read leaves the version at HTTP/0.9, whose answer is a bare body: this one has
        # a status line and headers (API Gateway speaks no HTTP/0.9).
        if self.request_version == "HTTP/0.9":
            self.request_version = self.protocol_version
        try:
            self._refuse(RequestRefused(code, SERVER_REFUSALS.get(code) or HTTPStatus(code).phrase).error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _refuse(self, error: tuple) -> None:
        """`error` answered by the gateway's error path, then the connection ends (the rest of the request unread)."""
        self.close_connection = True
        self._answer(*self.gateway._gateway_error(error, str(uuid.uuid4())))

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
        for k, v in headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        # To HEAD, the length of the body a GET gets (RFC 9110 9.3.2), the body not sent.
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)


class LocalHTTPServer(ThreadingHTTPServer):
    """A thread per request, and a listen backlog a burst fits in. socketserver's default backlog is 5: while
    handlers hold the GIL the accept loop falls behind, and a burst of 20 concurrent POSTs had 2 connections
    reset before any answer (40: 15), where API Gateway answers every request (outside review)."""

    request_queue_size = 128
    daemon_threads = True


class ApiServer:
    """LocalHTTPServer around an ApiGateway. port=0 picks a free port."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"gateway": gateway})
        self.httpd = LocalHTTPServer((host, port), handler)
        self.gateway = gateway
        self.host, self.port = self.httpd.server_address[:2]
        gateway.host = f"{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/{self.gateway.stage}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="api-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
