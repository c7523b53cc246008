"""API Gateway emulation: routing, the TOKEN authorizer's answers (401/403/500), its cache, and the
proxy event the integration gets. Uses a fake Lambda client (no moto), and the real HTTP server."""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from local.api_server import ApiGateway, ApiServer, evaluate_policy
from local.deployer import ApiAuthorizer, ApiMethod, ApiResource, Deployment, RestApiSpec

AUTH_ARN = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
API_ARN = "arn:aws:lambda:us-east-1:123456789012:function:api"


def build_api() -> Deployment:
    api = RestApiSpec(id="abc123", logical_id="Api", name="api", root_resource_id="root")
    for r in (
        ApiResource("root", None, "", "/"),
        ApiResource("docs", "root", "openapi.json", "/openapi.json"),
        ApiResource("proxy", "root", "{proxy+}", "/{proxy+}"),
        ApiResource("contacts", "root", "contacts", "/contacts"),
        ApiResource("contact", "contacts", "{contact_id}", "/contacts/{contact_id}"),
    ):
        api.resources[r.id] = r
    api.authorizers["auth1"] = ApiAuthorizer("auth1", "Authorizer", "TOKEN", AUTH_ARN, "method.request.header.Authorization", ttl_s=300)

    def method(lid: str, verb: str, rid: str, auth: bool) -> ApiMethod:
        return ApiMethod(lid, verb, rid, "CUSTOM" if auth else "NONE", "auth1" if auth else None, "AWS_PROXY", API_ARN, {})

    api.methods += [
        method("Docs", "GET", "docs", False),
        method("Proxy", "ANY", "proxy", True),
        method("GetContact", "GET", "contact", True),
        method("PostContacts", "POST", "contacts", True),
    ]
    api.stages["v1"] = {"flavour": "local"}
    dep = Deployment("Ccaas", "us-east-1", "123456789012", {})
    dep.rest_apis[api.id] = api
    return dep


class FakeLambda:
    """Authorizer: token 'allow-<tenant>' allows all, 'deny' denies, 'narrow' allows only GET, anything
    else raises Unauthorized; 'crash' raises another error. Integration: echoes the event it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, FunctionName: str, Payload: bytes, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3 names
        event = json.loads(Payload)
        self.calls.append((FunctionName, event))
        if FunctionName == AUTH_ARN:
            token = event["authorizationToken"]
            base = event["methodArn"].split("/", 1)[0]
            if token.startswith("Bearer allow-"):
                return self._ok(policy("Allow", f"{base}/*/*", principal=token[13:], context={"tenant_id": token[13:], "tier": 2}))
            if token == "Bearer deny":
                return self._ok(policy("Deny", f"{base}/*/*"))
            if token == "Bearer narrow":
                return self._ok(policy("Allow", f"{base}/v1/GET/*"))
            if token == "Bearer crash":
                return self._error("KeyError", "'x'")
            return self._error("Exception", "Unauthorized")
        if event["path"] == "/broken":
            return self._ok({"no": "statusCode"})
        return self._ok({"statusCode": 200, "headers": {"X-Echo": "1"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                         "body": json.dumps(event)})

    @staticmethod
    def _ok(payload: Any) -> dict[str, Any]:
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(payload).encode())}

    @staticmethod
    def _error(kind: str, message: str) -> dict[str, Any]:
        body = {"errorType": kind, "errorMessage": message, "stackTrace": []}
        return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}

    def authorizer_calls(self) -> int:
        return sum(1 for name, _ in self.calls if name == AUTH_ARN)


def policy(effect: str, resource: str, principal: str = "user", context: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}]},
    }
    if context is not None:
        out["context"] = context
    return out


@pytest.fixture()
def gateway() -> tuple[ApiGateway, FakeLambda]:
    fake = FakeLambda()
    return ApiGateway(build_api(), fake, host="127.0.0.1:1"), fake


def call(gw: ApiGateway, method: str, path: str, token: str | None = None, body: bytes = b"") -> tuple[int, dict[str, str], Any]:
    headers = [("Authorization", token)] if token else []
    headers.append(("User-Agent", "pytest"))
    status, out_headers, data = gw.handle(method, path, headers, body)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data
    return status, dict(out_headers), parsed


def test_missing_token_is_401_without_calling_the_authorizer(gateway) -> None:
    gw, fake = gateway
    status, _, body = call(gw, "GET", "/v1/contacts/c1")
    assert (status, body) == (401, {"message": "Unauthorized"})
    assert fake.authorizer_calls() == 0


def test_authorizer_unauthorized_is_401(gateway) -> None:
    gw, _ = gateway
    status, headers, body = call(gw, "GET", "/v1/contacts/c1", "Bearer wrong")
    assert (status, body) == (401, {"message": "Unauthorized"})
    assert headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_deny_policy_is_403(gateway) -> None:
    gw, _ = gateway
    status, _, body = call(gw, "POST", "/v1/contacts", "Bearer deny", b"{}")
    assert status == 403
    assert body == {"Message": "User is not authorized to access this resource with an explicit deny"}


def test_policy_not_covering_the_method_is_403_and_cached_policy_is_re_evaluated(gateway) -> None:
    gw, fake = gateway
    assert call(gw, "GET", "/v1/contacts/c1", "Bearer narrow")[0] == 200
    status, _, body = call(gw, "POST", "/v1/contacts", "Bearer narrow", b"{}")
    assert status == 403 and body == {"Message": "User is not authorized to access this resource"}
    assert fake.authorizer_calls() == 1  # the second request used the cached policy


def test_authorizer_crash_is_500(gateway) -> None:
    gw, _ = gateway
    status, _, body = call(gw, "GET", "/v1/contacts/c1", "Bearer crash")
    assert status == 500 and body == {"message": None}


def test_context_and_principal_reach_request_context_and_results_are_cached(gateway) -> None:
    gw, fake = gateway
    status, headers, event = call(gw, "GET", "/v1/contacts/c-42?x=1&x=2&y=3", "Bearer allow-demo")
    assert status == 200 and headers["X-Echo"] == "1"
    auth = event["requestContext"]["authorizer"]
    assert auth["tenant_id"] == "demo" and auth["tier"] == 2 and auth["principalId"] == "demo"
    # the TOKEN authorizer event API Gateway sends
    (name, auth_event), = [(n, e) for n, e in fake.calls if n == AUTH_ARN]
    assert auth_event == {
        "type": "TOKEN",
        "authorizationToken": "Bearer allow-demo",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/contacts/c-42",
    }
    # the REST (v1) proxy event
    assert event["resource"] == "/contacts/{contact_id}" and event["path"] == "/contacts/c-42"
    assert event["httpMethod"] == "GET" and event["pathParameters"] == {"contact_id": "c-42"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["headers"]["Authorization"] == "Bearer allow-demo"
    assert event["multiValueHeaders"]["User-Agent"] == ["pytest"]
    assert event["stageVariables"] == {"flavour": "local"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    rc = event["requestContext"]
    assert rc["stage"] == "v1" and rc["resourcePath"] == "/contacts/{contact_id}" and rc["httpMethod"] == "GET"
    assert rc["path"] == "/v1/contacts/c-42" and rc["identity"]["sourceIp"] == "127.0.0.1" and rc["requestId"]
    assert rc["apiId"] == "abc123" and rc["accountId"] == "123456789012"
    # same token again: no second authorizer call
    call(gw, "POST", "/v1/contacts", "Bearer allow-demo", b'{"a":1}')
    assert fake.authorizer_calls() == 1


def test_routing_literal_beats_param_beats_proxy(gateway) -> None:
    gw, _ = gateway
    _, _, e = call(gw, "GET", "/v1/openapi.json")  # public: no authorizer
    assert e["resource"] == "/openapi.json" and "authorizer" not in e["requestContext"]
    _, _, e = call(gw, "DELETE", "/v1/agents/a1/contacts/c1/accept", "Bearer allow-demo")
    assert e["resource"] == "/{proxy+}" and e["pathParameters"] == {"proxy": "agents/a1/contacts/c1/accept"}
    # the most specific RESOURCE is chosen first; /contacts/{contact_id} has no POST: 403, no fall-back to the proxy
    status, _, e = call(gw, "POST", "/v1/contacts/c1", "Bearer allow-demo", b"{}")
    assert (status, e) == (403, {"message": "Missing Authentication Token"})


def test_unknown_route_and_bad_integration_response(gateway) -> None:
    gw, _ = gateway
    assert call(gw, "GET", "/v1/")[:3:2] == (403, {"message": "Missing Authentication Token"})
    status, _, body = call(gw, "GET", "/v1/broken", "Bearer allow-demo")
    assert (status, body) == (502, {"message": "Internal server error"})


def test_policy_evaluation_wildcards() -> None:
    arn = "arn:aws:execute-api:us-east-1:1:api/v1/GET/contacts/1"
    assert evaluate_policy({"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:aws:execute-api:us-east-1:1:api/*"}]}, arn) == "Allow"
    assert evaluate_policy({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:1:api/v1/POST/*"}]}, arn) == "None"
    both = {"Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:api/v1/GET/contacts/*"},
    ]}
    assert evaluate_policy(both, arn) == "Deny"


def test_over_http(tmp_path) -> None:
    (tmp_path / "index.html").write_text("<h1>wallboard</h1>")
    fake = FakeLambda()
    server = ApiServer(ApiGateway(build_api(), fake, static_dir=tmp_path), port=0).start()
    try:
        req = urllib.request.Request(server.api_url + "/contacts", method="POST", data=b'{"x":1}',
                                     headers={"Authorization": "Bearer allow-acme", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            event = json.loads(resp.read())
            assert resp.status == 200
            assert resp.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert event["body"] == '{"x":1}' and event["requestContext"]["authorizer"]["tenant_id"] == "acme"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.api_url + "/contacts/1", timeout=10)
        assert err.value.code == 401 and json.loads(err.value.read()) == {"message": "Unauthorized"}
        with urllib.request.urlopen(server.base_url + "/", timeout=10) as resp:
            assert resp.read() == b"<h1>wallboard</h1>" and resp.headers["Content-Type"] == "text/html"
    finally:
        server.stop()


def raw_exchange(server: ApiServer, request: bytes, *, half_close: bool = True) -> bytes:
    """`request` sent on one connection (then half-closed: the client sends nothing more), everything the server
    answers until it closes the connection."""
    import socket

    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(("length", "status", "says"), [
    (b"abc", 400, b"Content-Length"), (b"-5", 400, b"Content-Length"), (b"1e3", 400, b"Content-Length"),
    (b"\xc2\xb2", 400, b"Content-Length"),  # a superscript two: a digit to str.isdigit, not a size
    (b"99999999999999999999999", 413, b"content length exceeded 10485760 bytes"),  # API Gateway's 10 MB
])
def test_a_content_length_that_is_not_a_size_is_refused_and_nothing_reaches_the_function(
        length: bytes, status: int, says: bytes, capfd) -> None:
    fake = FakeLambda()
    server = ApiServer(ApiGateway(build_api(), fake), port=0).start()
    try:
        answer = raw_exchange(server, b"POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\n"
                              b"Content-Length: " + length + b"\r\n\r\n{}")
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    assert says in answer.split(b"\r\n\r\n", 1)[1]  # the message names the header or the limit
    assert fake.calls == []
    assert "Traceback" not in capfd.readouterr().err


def test_a_client_that_leaves_before_its_answer_costs_no_traceback(capfd) -> None:
    import socket
    import struct
    import time

    class Slow(FakeLambda):
        def invoke(self, FunctionName: str, Payload: bytes, **kw: Any) -> dict[str, Any]:  # noqa: N803
            if FunctionName == API_ARN:
                time.sleep(0.5)  # the client resets the connection meanwhile
            return super().invoke(FunctionName=FunctionName, Payload=Payload, **kw)

    fake = Slow()
    server = ApiServer(ApiGateway(build_api(), fake), port=0).start()
    try:
        sock = socket.create_connection((server.host, server.port), timeout=10)
        sock.sendall(b"POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\n"
                     b"Content-Length: 2\r\n\r\n{}")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        sock.close()
        deadline = time.monotonic() + 10
        while len(fake.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the answer's write fails after the integration returns
        # the server still serves the next client
        req = urllib.request.Request(server.api_url + "/contacts", method="POST", data=b"{}",
                                     headers={"Authorization": "Bearer allow-acme"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
    finally:
        server.stop()
    assert len(fake.calls) >= 2  # the left client's request did reach the function
    assert "Traceback" not in capfd.readouterr().err


def test_a_burst_of_connections_is_queued_whole_and_answered() -> None:
    """40 clients connect before the server accepts any (as when handlers hold the GIL and the accept loop falls
    behind): the kernel queues every connection, and each gets its answer. With socketserver's backlog of 5 the
    7th and later connects were left hanging or reset (outside review: 15 of 40 concurrent POSTs)."""
    import socket

    fake = FakeLambda()
    server = ApiServer(ApiGateway(build_api(), fake), port=0)  # listening, not accepting yet
    clients, queued = [], []
    try:
        for _ in range(40):
            try:
                clients.append(socket.create_connection((server.host, server.port), timeout=0.5))
            except OSError:  # not queued: the SYN was dropped
                pass
        listener = server.httpd.socket
        listener.setblocking(False)
        try:
            while True:
                queued.append(listener.accept()[0])
        except BlockingIOError:
            pass
        finally:
            listener.setblocking(True)
        assert len(clients) == len(queued) == 40
        for conn in queued:  # handed back to the server, as its accept loop would have taken them
            server.httpd.process_request(conn, conn.getpeername())
        for sock in clients:
            sock.settimeout(10)
            sock.sendall(b"POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer allow-acme\r\n"
                         b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        answers = []
        for sock in clients:
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            answers.append(b"".join(chunks))
    finally:
        for sock in clients:
            sock.close()
        server.httpd.server_close()
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers), {a[:20] for a in answers}
