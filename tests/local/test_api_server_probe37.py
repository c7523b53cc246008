"""The local API server's HTTP framing and its own refusals, from an outside probe (#37): a chunked request body
(`Transfer-Encoding: chunked`, which API Gateway takes) was read as no body and its chunks as the next request on the
connection (a chunk holding a whole request was run); a body cut short was run on the part that came (half of a CSV
upload imported, 200); the server's own 4xx (a Content-Length that is not a size, over 10 MB, a request line over
64 KiB, over 100 header fields, a method it does not serve) answered http.server's HTML or a bare {"message"} instead of
the API's gateway-response body; HEAD on an API route answered `Content-Length: 0` where GET has a body."""
from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from local.api_server import MAX_BODY_BYTES, ApiGateway, ApiServer
from local.deployer import ApiMethod, ApiResource, Deployment, RestApiSpec
from tests.local.test_api_server import API_ARN, FakeLambda, build_api, raw_exchange as _exchange

# The template's DEFAULT_4XX body (infra/constructs/api.py: gateway_error_template): the API's error body.
DEFAULT_4XX = '{"error":"$context.error.responseType","message":$context.error.messageString}'
POST = b"POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\nContent-Type: application/json\r\n"


@pytest.fixture
def server():
    deployment = build_api()
    deployment.rest_api.gateway_responses["DEFAULT_4XX"] = {
        "ResponseType": "DEFAULT_4XX", "ResponseTemplates": {"application/json": DEFAULT_4XX}}
    fake = FakeLambda()
    server = ApiServer(ApiGateway(deployment, fake), port=0).start()
    server.fake = fake
    yield server
    server.stop()


def _answers(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP answers in `raw`, in order: (status, headers with lower-case names, body by its Content-Length)."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return out


def _integration_events(server: ApiServer) -> list[dict[str, Any]]:
    return [event for name, event in server.fake.calls if name == API_ARN]


def _chunked(body: bytes, size: int = 7) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)) + b"0\r\n\r\n"


# --- chunked bodies --------------------------------------------------------------------------------------------------
def test_a_chunked_body_is_decoded_and_reaches_the_function_whole(server) -> None:
    body = b'{"channel":"CHAT","queue_id":"sales","reason":"chunked"}'
    raw = _exchange(server, POST + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + _chunked(body),
                    half_close=False)
    [(status, _, answer)] = _answers(raw)
    assert status == 200, raw[:300]
    assert json.loads(answer)["body"] == body.decode()
    assert [e["body"] for e in _integration_events(server)] == [body.decode()]


def test_chunk_extensions_and_trailers_are_read_and_the_connection_serves_the_next_request(server) -> None:
    chunked = b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n"
    second = b"GET /v1/contacts/c-2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\nConnection: close\r\n\r\n"
    answers = _answers(_exchange(server, POST + b"Transfer-Encoding: chunked\r\n\r\n" + chunked + second))
    assert [a[0] for a in answers] == [200, 200]
    assert [(e["httpMethod"], e["path"], e["body"]) for e in _integration_events(server)] == [
        ("POST", "/contacts", "hello world"), ("GET", "/contacts/c-2", None)]


def test_a_request_inside_a_chunked_body_is_never_run(server) -> None:
    """The prober's smuggle: a "chunked" POST whose body is a whole second request. It is not a chunk (400, the
    connection closed): neither the POST nor the inner GET reaches a function."""
    inner = b"GET /v1/contacts/smuggled HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\n\r\n"
    raw = _exchange(server, POST + b"Transfer-Encoding: chunked\r\n\r\n" + inner)
    [(status, headers, body)] = _answers(raw)
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body) == {"error": "DEFAULT_4XX", "message": "A chunk size is not a hexadecimal number"}
    assert _integration_events(server) == [] and server.fake.calls == []


@pytest.mark.parametrize(("framing", "status", "message"), [
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400,
     "Content-Length and Transfer-Encoding are both given: one frames the body"),
    (b"Transfer-Encoding: gzip, chunked\r\n", 501, "The only Transfer-Encoding taken is chunked"),
    (b"Transfer-Encoding: identity\r\n", 501, "The only Transfer-Encoding taken is chunked"),
    (b"Content-Length: 5\r\nContent-Length: 50\r\n", 400, "Content-Length is given twice, with different sizes"),
])
def test_a_framing_that_cannot_be_trusted_is_refused_and_the_connection_closed(server, framing, status, message) -> None:
    raw = _exchange(server, POST + framing + b"\r\n" + _chunked(b'{"a":1}') + b"GET /v1/contacts/x HTTP/1.1\r\n\r\n")
    [(got, headers, body)] = _answers(raw)
    assert (got, headers["connection"]) == (status, "close"), raw[:300]
    assert json.loads(body)["message"] == message
    assert server.fake.calls == []


def test_a_chunked_body_over_the_10_mb_limit_is_a_413_before_it_is_read(server) -> None:
    raw = _exchange(server, POST + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % (MAX_BODY_BYTES + 1) + b"x" * 1000)
    [(status, headers, body)] = _answers(raw)
    assert (status, headers["connection"]) == (413, "close")
    assert json.loads(body) == {"error": "REQUEST_TOO_LARGE", "message": "HTTP content length exceeded 10485760 bytes."}
    assert server.fake.calls == []


@pytest.mark.parametrize("cut", [b"5\r\nhel", b"5\r\nhello\r\n", b"5\r\nhello\r\n0\r\n", b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n"])
def test_a_chunked_body_cut_short_runs_nothing(server, cut) -> None:
    [(status, headers, body)] = _answers(_exchange(server, POST + b"Transfer-Encoding: chunked\r\n\r\n" + cut))
    assert (status, headers["connection"]) == (400, "close")
    assert "ended" in json.loads(body)["message"]
    assert server.fake.calls == []


# --- a body cut short ------------------------------------------------------------------------------------------------
def test_a_body_shorter_than_its_content_length_runs_nothing(server) -> None:
    """The prober's half-closed socket: 1,516 of 3,016 bytes of a CSV upload arrived, and 50 of 100 rows were
    imported (200). The body is refused whole, before the authorizer or the function."""
    body = b'{"channel":"CHAT","queue_id":"sales","reason":"truncated"}'
    raw = _exchange(server, POST + b"Content-Length: %d\r\n\r\n" % (len(body) + 500) + body)
    [(status, headers, answer)] = _answers(raw)
    assert (status, headers["connection"]) == (400, "close")
    assert json.loads(answer) == {"error": "DEFAULT_4XX",
                                  "message": f"The body ended after {len(body)} of the {len(body) + 500} bytes Content-Length announced"}
    assert server.fake.calls == []


# --- the server's own refusals in the API's error body ---------------------------------------------------------------
@pytest.mark.parametrize(("request_bytes", "status", "error", "message"), [
    (POST + b"Content-Length: abc\r\n\r\n{}", 400, "DEFAULT_4XX", "Content-Length is not a size"),
    (POST + b"Content-Length: 20971520\r\n\r\n{}", 413, "REQUEST_TOO_LARGE", "HTTP content length exceeded 10485760 bytes."),
    (POST + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}", 413, "REQUEST_TOO_LARGE",  # int() refuses 4,301 digits
     "HTTP content length exceeded 10485760 bytes."),
    (b"GET /v1/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "DEFAULT_4XX",
     "The request line is longer than 65536 bytes"),
    (b"GET /v1/contacts/c1 HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n", 431, "DEFAULT_4XX",
     "The request has more than 100 header fields, or a header line longer than 65536 bytes"),
    (b"GET /v1/contacts/c1 HTTP/1.1\r\nX-Long: " + b"v" * 70_000 + b"\r\n\r\n", 431, "DEFAULT_4XX",
     "The request has more than 100 header fields, or a header line longer than 65536 bytes"),
    (b"GET /v1/contacts/<secret-in-line> HTTP/9.Z\r\nHost: x\r\n\r\n", 400, "DEFAULT_4XX",
     "The request line or a header field is malformed"),
])
def test_the_servers_own_4xx_take_the_apis_error_body(server, request_bytes, status, error, message) -> None:
    raw = _exchange(server, request_bytes)
    [(got, headers, body)] = _answers(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body) == {"error": error, "message": message}
    assert headers["x-amzn-requestid"] and b"<html" not in raw.lower()
    assert b"abc" not in body and b"secret" not in raw  # the input is never echoed
    assert server.fake.calls == []


@pytest.mark.parametrize("method", [b"TRACE", b"PROPFIND", b"get", b"CONNECT"])
def test_a_method_the_api_does_not_serve_is_answered_by_the_gateways_error_path(server, method) -> None:
    """A 5xx (501 Not Implemented, RFC 9110 9.1) keeps API Gateway's body (the template sets no DEFAULT_5XX), JSON,
    not http.server's HTML; the request's body is not read as a next request."""
    raw = _exchange(server, method + b" /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 52\r\n\r\n"
                                     b"GET /v1/contacts/c1 HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 10)
    [(status, headers, body)] = _answers(raw)
    assert (status, headers["content-type"], headers["connection"]) == (501, "application/json", "close")
    assert json.loads(body) == {"message": "The method is not one this API serves (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"}
    assert server.fake.calls == []


# --- HEAD ------------------------------------------------------------------------------------------------------------
class ServeApi(FakeLambda):
    """The integration is the real API function (functions/serve_api), invoked in process."""

    def invoke(self, FunctionName: str, Payload: bytes, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3 names
        from tests.lambda_harness import context, load_handler

        event = json.loads(Payload)
        self.calls.append((FunctionName, event))
        answer = load_handler("serve_api")(event, context("serve_api"))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


def test_head_on_an_api_route_answers_the_content_length_of_the_get() -> None:
    """RFC 9110 9.3.2 (and 8.6): HEAD's Content-Length, when sent, is the GET's. The API function answered HEAD with its
    body blanked, so the gateway, which sends HEAD no body, could only say `Content-Length: 0`."""
    api = RestApiSpec(id="abc123", logical_id="Api", name="api", root_resource_id="root")
    api.resources["root"] = ApiResource("root", None, "", "/")
    api.resources["proxy"] = ApiResource("proxy", "root", "{proxy+}", "/{proxy+}")
    api.methods.append(ApiMethod("Proxy", "ANY", "proxy", "NONE", None, "AWS_PROXY", API_ARN, {}))
    deployment = Deployment("Ccaas", "us-east-1", "123456789012", {})
    deployment.rest_apis[api.id] = api
    api.stages["v1"] = {}
    server = ApiServer(ApiGateway(deployment, ServeApi()), port=0).start()
    try:
        def ask(method: str) -> bytes:
            return _exchange(server, f"{method} /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

        [(get_status, get_headers, get_body)] = _answers(ask("GET"))
        head = ask("HEAD")
    finally:
        server.stop()
    head_status, _, rest = head.partition(b"\r\n\r\n")
    head_headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head_status.decode().split("\r\n")[1:])}
    assert get_status == 200 and int(get_headers["content-length"]) == len(get_body) > 10_000
    assert head.startswith(b"HTTP/1.1 200 ") and rest == b""  # no body to HEAD
    assert head_headers["content-length"] == get_headers["content-length"]
    assert head_headers["content-type"] == get_headers["content-type"]


def test_the_api_function_answers_head_with_the_gets_answer() -> None:
    """The function's own answer (what API Gateway gets from the integration): GET's status, headers and body; the
    gateway drops the body on the way out."""
    from tests.lambda_harness import context, load_handler

    def event(method: str) -> dict[str, Any]:
        return {"resource": "/{proxy+}", "path": "/openapi.json", "httpMethod": method, "headers": {},
                "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
                "pathParameters": {"proxy": "openapi.json"}, "stageVariables": None,
                "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method,
                                   "path": "/v1/openapi.json", "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"}},
                "body": None, "isBase64Encoded": False}  # fmt: skip

    handler = load_handler("serve_api")
    get, head = (handler(event(m), context("serve_api")) for m in ("GET", "HEAD"))
    assert head["statusCode"] == get["statusCode"] == 200
    assert head["body"] == get["body"] and len(head["body"]) > 10_000
    assert head["multiValueHeaders"]["Content-Type"] == get["multiValueHeaders"]["Content-Type"]
