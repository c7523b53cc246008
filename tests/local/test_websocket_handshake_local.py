"""local/websocket_server.py around the handshake, with stub routes (no runtime): only the stage's path is served,
and a connection whose $connect route has answered can be deleted and posted to before the client's handshake is
done (closed / delivered once it is open), while during the route itself both answer Gone, as on AWS.

Outside probe of `make run`: of 20 sockets one agent key opened at once, 6-9 stayed open with 5 rows (a
DeleteConnection in the handshake's last moment answered 410 and the socket opened anyway); any path (/prod, not
only the stage /v1) was accepted."""
from __future__ import annotations

import asyncio
import json
import threading
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.websocket_server import WebSocketApiSpec, WebSocketGateway, WebSocketServer, WsRoute


def _gateway(on_connect=None) -> WebSocketGateway:
    spec = WebSocketApiSpec(id="ws1", logical_id="Ws", name="push", integrations={"i1": "arn:fn"}, stages=["v1"],
                            routes={key: WsRoute(key, "NONE", None, "i1", return_response=key == "$default")
                                    for key in ("$connect", "$disconnect", "$default")})
    gateway = WebSocketGateway(spec, lambda_client=None, region="us-east-1", account_id="123456789012")
    gateway.events = []

    def invoke(arn, event):
        ctx = event["requestContext"]
        gateway.events.append((ctx["routeKey"], ctx["connectionId"]))
        if ctx["routeKey"] == "$connect" and on_connect is not None:
            on_connect(gateway, ctx["connectionId"])
        if ctx["routeKey"] == "$default":
            return None, {"statusCode": 200, "body": json.dumps({"type": "pong"})}
        return None, {"statusCode": 200}

    gateway._invoke = invoke  # noqa: SLF001
    return gateway


class HookedServer(WebSocketServer):
    """`after_connect(gateway, connection_id)` runs once the $connect route has answered, before the client's
    handshake is done (in a thread, as the push consumer's or another $connect's management calls would)."""

    after_connect = None

    async def _process_request(self, connection, request):
        answer = await super()._process_request(connection, request)
        sock = getattr(connection, "ccaas_socket", None)
        if answer is None and sock is not None and self.after_connect is not None:
            threading.Thread(target=self.after_connect, args=(self.gateway, sock.connection_id), daemon=True).start()
            await asyncio.sleep(0.05)  # the call is in flight (a post waits on the handshake) before the 101 goes
        return answer


@pytest.fixture
def serve():
    servers = []

    def start(gateway, after_connect=None):
        server = HookedServer(gateway)
        server.after_connect = after_connect
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("path", ["/prod", "/", "/v2", "/v1x", "/v1/extra", "/V1"])
def test_a_path_other_than_the_stage_is_refused_before_any_route(serve, path):
    gateway = _gateway()
    server = serve(gateway)
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{server.host}:{server.port}{path}?token={quote('ck_x')}", open_timeout=10)
    assert refused.value.response.status_code == 403 and gateway.events == []


@pytest.mark.parametrize("path", ["/v1", "/v1/"])
def test_the_stage_path_opens(serve, path):
    gateway = _gateway()
    server = serve(gateway)
    with connect(f"ws://{server.host}:{server.port}{path}", open_timeout=10) as ws:
        ws.send('{"action":"ping"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    assert server.url.endswith("/v1")


def test_a_delete_while_the_handshake_finishes_closes_the_socket_once_open(serve):
    gateway = _gateway()
    answers = []
    server = serve(gateway, after_connect=lambda gw, cid: answers.append(gw.close(cid)))
    with connect(server.url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert answers == [True]  # not 410: the connection existed, API Gateway's $connect route had answered
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    cid = next(c for key, c in gateway.events if key == "$connect")
    for _ in range(100):
        if ("$disconnect", cid) in gateway.events:
            break
        threading.Event().wait(0.05)
    assert ("$disconnect", cid) in gateway.events and cid not in gateway.sockets


def test_a_post_while_the_handshake_finishes_is_delivered_once_open(serve):
    gateway = _gateway()
    answers = []
    server = serve(gateway, after_connect=lambda gw, cid: answers.append(gw.post(cid, b'{"type":"offer"}')))
    with connect(server.url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "offer"}
    assert answers == [True]


def test_during_the_connect_route_itself_a_delete_and_a_post_answer_gone_as_on_aws(serve):
    """API Gateway: a connection still in its $connect cannot be posted to or deleted (410). The use-case copes
    (it reads its own row back last); the local endpoint does not hide it."""
    seen = []
    gateway = _gateway(on_connect=lambda gw, cid: seen.extend([gw.close(cid), gw.post(cid, b"{}")]))
    server = serve(gateway)
    with connect(server.url, open_timeout=10) as ws:
        ws.send('{"action":"ping"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    assert seen == [False, False]
