"""Push over WebSocket on the whole local backend: the template's WebSocket API served on 127.0.0.1
through the same handlers ($connect with authorize_request, $default, $disconnect), the push consumer
fed by the Kinesis poller, PostToConnection answered by the local management API. Two tenants × three
roles, and nothing crosses."""
from __future__ import annotations

import json
import threading
from urllib.parse import quote

import pytest

from local.testing import api, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]


class Socket:
    """A client connection that keeps every frame it receives."""

    def __init__(self, url: str, key: str | None) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url if key is None else f"{url}?token={quote(key)}", open_timeout=20, legacy=True)
        self.frames: list[dict] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.frames.append(json.loads(raw))
        except Exception:  # noqa: BLE001 - closed
            pass

    def send(self, frame: str) -> None:
        self.ws.send(frame)

    def of(self, kind: str) -> list[dict]:
        return [f for f in self.frames if f.get("type") == kind]

    def close(self) -> None:
        self.ws.close()


def _refused(url: str, key: str | None) -> int:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        Socket(url, key)
    return refused.value.response.status_code


def test_two_tenants_three_roles_offers_metrics_and_zero_cross_deliveries(runtime) -> None:
    url = runtime.websocket_url
    assert url and url.startswith("ws://127.0.0.1:")
    assert _refused(url, None) == 401
    assert _refused(url, "ck_nobody_nothing") == 401
    assert _refused(url, runtime.key("demo", "integration")) == 403  # integrations call the REST API

    agents = {"demo": "ana", "acme": "wile"}
    queues = {"demo": "sales", "acme": "support"}
    sockets: dict[tuple[str, str], Socket] = {}
    for tenant, agent in agents.items():
        sockets[(tenant, "agent")] = Socket(url, runtime.key(tenant, agent_id=agent))
        sockets[(tenant, "supervisor")] = Socket(url, runtime.key(tenant, "supervisor"))
        sockets[(tenant, "admin")] = Socket(url, runtime.key(tenant, "admin"))
    try:
        sup = sockets[("demo", "supervisor")]
        sup.send('{"action":"ping"}')
        sup.send("{not json")
        sup.send('{"action":"subscribe","queues":["sales"]}')
        wait_until(lambda: sup.of("pong") and sup.of("error") and sup.of("subscribed"), what="replies to frames")
        assert sup.of("subscribed")[0]["queues"] == ["sales"]
        sockets[("demo", "agent")].send('{"action":"subscribe","queues":["sales"]}')
        wait_until(lambda: sockets[("demo", "agent")].of("error"), what="an agent may not subscribe")

        contacts = {}
        for tenant, agent in agents.items():
            assert api(runtime, tenant, agent_id=agent).call("PUT", f"/agents/{agent}/status", {"status": "AVAILABLE"})[0] == 200
            status, contact = api(runtime, tenant, "integration").call(
                "POST", "/contacts", {"channel": "VOICE", "queue_id": queues[tenant]})
            assert status == 201
            contacts[tenant] = contact["contact_id"]
        for tenant in agents:
            s = sockets[(tenant, "agent")]
            wait_until(lambda s=s, t=tenant: any(f["payload"]["contact"]["contact_id"] == contacts[t] for f in s.of("offer")),
                       what=f"{tenant}'s offer pushed", timeout_s=20)
        for tenant, agent in agents.items():
            a = api(runtime, tenant, agent_id=agent)
            assert a.call("POST", f"/agents/{agent}/contacts/{contacts[tenant]}/accept")[0] == 200
        for tenant in agents:
            s = sockets[(tenant, "agent")]
            wait_until(lambda s=s: any(f["payload"].get("state") == "CONNECTED" for f in s.of("contact_state")),
                       what="contact state pushed", timeout_s=20)
            wait_until(lambda t=tenant: sockets[(t, "admin")].of("queue_metrics"), what="metrics to the admin", timeout_s=20)
        wait_until(lambda: sup.of("queue_metrics"), what="metrics to the subscribed supervisor", timeout_s=20)
        # Frames are pushed by the stream consumers: once they have delivered what the traffic put (their
        # batching windows flushed), anything stray has been sent.
        assert runtime.wait_for_stream_idle(flush=True)

        # What the offer shows: the GET view (no tenant id anywhere), with an ISO time.
        offer = sockets[("demo", "agent")].of("offer")[0]
        assert set(offer) == {"type", "at", "payload"} and offer["at"].endswith("Z")
        assert "tenant_id" not in json.dumps(offer)

        cross = []
        for (tenant, role), s in sockets.items():
            other = "acme" if tenant == "demo" else "demo"
            for f in s.frames:
                text = json.dumps(f)
                if contacts[other] in text:
                    cross.append((tenant, role, f["type"]))
                if role != "agent" and f["type"] in ("offer", "offer_withdrawn", "contact_state"):
                    cross.append((tenant, role, f["type"]))
                if role == "agent" and f["type"] == "queue_metrics":
                    cross.append((tenant, role, f["type"]))
                if f["type"] == "queue_metrics" and tenant == "acme" and f["payload"]["queue_id"] == "sales":
                    cross.append((tenant, role, "demo's sales metrics"))
        assert cross == []
        assert {f["payload"]["queue_id"] for f in sup.of("queue_metrics")} == {"sales"}  # its subscription only
    finally:
        for s in sockets.values():
            s.close()

    # $disconnect removed every connection of both tenants.
    table = runtime.function_environment("manage_connection")["CONNECTIONS_TABLE"]
    ddb = runtime.client("dynamodb")
    wait_until(lambda: ddb.scan(TableName=table, Select="COUNT")["Count"] == 0, what="connections deleted on close")


def test_the_endpoint_declines_permessage_deflate_and_a_socket_works_without_it(runtime) -> None:
    """The client offers compression (websockets' default); the local endpoint answers without the
    extension, so neither side keeps deflate state per connection (~2x 64 KB a socket, and the CPU of
    compressing every push). RFC 7692 makes it optional: every client must work without it."""
    socket = Socket(runtime.websocket_url, runtime.key("demo", "supervisor"))
    try:
        offered = socket.ws.request.headers.get("Sec-WebSocket-Extensions") or ""
        assert "permessage-deflate" in offered
        assert socket.ws.response.headers.get("Sec-WebSocket-Extensions") is None
        socket.send(json.dumps({"action": "ping"}))
        assert wait_until(lambda: socket.of("pong"), timeout_s=10, what="a pong over the uncompressed socket")
    finally:
        socket.close()


def test_push_sockets_share_one_event_loop_thread_and_each_gets_its_frames(runtime) -> None:
    """local.ws_client: every PushSocket is read on one loop (the simulation's 60 agents held two threads a
    socket before); each still gets its own frames, and a closed socket says so."""
    from local.ws_client import PushSocket

    first = PushSocket(runtime.websocket_url, runtime.key("demo", "supervisor"))
    before = set(threading.enumerate())
    sockets = [PushSocket(runtime.websocket_url, runtime.key("demo", "supervisor")) for _ in range(5)]
    try:
        # No thread per socket. The runtime's own threads come and go meanwhile (an active_count() equality
        # failed in CI when one of them ended), so count only the threads started here, and the loop threads.
        started = set(threading.enumerate()) - before
        assert len(started) < len(sockets), sorted(thread.name for thread in started)
        assert [thread.name for thread in threading.enumerate()].count("push-sockets") == 1
        assert {id(sock._loop) for sock in [first, *sockets]} == {id(first._loop)}
        for n, sock in enumerate([first, *sockets]):
            sock.send({"action": "ping"})
            frame = sock.get(timeout_s=10)
            assert frame is not None and frame["type"] == "pong" and frame["received"] > 0, (n, frame)
            assert sock.get(timeout_s=0.05) is None  # one answer per ping: no frame crossed sockets
    finally:
        for sock in [first, *sockets]:
            sock.close()
    assert all(sock.closed.is_set() for sock in [first, *sockets])


def test_a_message_over_api_gateway_s_128_kb_closes_the_socket_with_1009_and_one_at_it_is_answered(runtime) -> None:
    """API Gateway closes a WebSocket whose message exceeds 128 KB ("Message too big", 1009) and never
    invokes $default with it; the local server does the same, not websockets' 1 MiB."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from local.websocket_server import MAX_MESSAGE_BYTES

    url = f"{runtime.websocket_url}?token={quote(runtime.key('demo', 'supervisor'))}"
    with connect(url, open_timeout=20, max_size=None) as ws:
        ws.send("x" * MAX_MESSAGE_BYTES)  # at the limit: delivered to $default, which answers it is not JSON
        assert json.loads(ws.recv(timeout=20))["type"] == "error"
        frames_before = runtime.websocket_server.gateway.stats["frames"]
        ws.send("x" * (MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
    assert runtime.websocket_server.gateway.stats["frames"] == frames_before  # $default never saw it


def test_revoking_a_key_closes_the_sockets_it_opened_at_once(runtime) -> None:
    """A socket outlives the authorizer's answer (API Gateway keeps it up to 2 h): POST /keys/{id}/revoke closes
    the key's sockets (DeleteConnection: 1000, $disconnect runs); the agent's socket of another key stays."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    admin_ = api(runtime, "demo", "admin")
    status, issued = admin_.call("POST", "/keys", {"role": "agent", "agent_id": "ben", "name": "a lost laptop"})
    assert status == 201, issued
    kept = Socket(runtime.websocket_url, runtime.key("demo", agent_id="ben"))
    try:
        with connect(f"{runtime.websocket_url}?token={quote(issued['api_key'])}", open_timeout=20) as lost:
            lost.send('{"action":"ping"}')
            assert json.loads(lost.recv(timeout=20))["type"] == "pong"
            closed_before = runtime.websocket_server.gateway.stats["closed"]
            assert admin_.call("POST", f"/keys/{issued['key_id']}/revoke")[0] == 200
            with pytest.raises(ConnectionClosed) as closed:
                lost.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000, closed.value
        assert runtime.websocket_server.gateway.stats["closed"] == closed_before + 1
        kept.send('{"action":"ping"}')
        wait_until(lambda: kept.of("pong"), what="the agent's other socket still answered")
    finally:
        kept.close()


def test_a_message_whose_route_fails_is_answered_internal_server_error_as_api_gateway_does() -> None:
    """local.websocket_server: a $default invocation that fails answers the client (API Gateway's message, the
    connection and request ids), never silence; one that succeeds answers the route's body."""
    from local.websocket_server import WebSocketApiSpec, WebSocketGateway, WsRoute, _Socket

    api_spec = WebSocketApiSpec(id="ws1", logical_id="Ws", name="push", integrations={"i1": "arn:fn"},
                                routes={"$default": WsRoute("$default", "NONE", None, "i1", return_response=True)})
    gateway = WebSocketGateway(api_spec, lambda_client=None, region="us-east-1", account_id="123456789012")
    sock = _Socket("conn-1=", websocket=None, authorizer={"tenant_id": "t1"}, connected_at=0)
    answers = iter([("Unhandled", {"errorMessage": "boom", "errorType": "RecursionError"}),
                    (None, {"statusCode": 200, "body": '{"type": "pong"}'})])
    seen: list[dict] = []
    gateway._invoke = lambda arn, event: (seen.append(event), next(answers))[1]  # noqa: SLF001

    failed = json.loads(gateway.message(sock, "[[["))
    assert failed == {"message": "Internal server error", "connectionId": "conn-1=",
                      "requestId": seen[0]["requestContext"]["requestId"]}
    assert "boom" not in json.dumps(failed)  # the function's error is not the client's to read
    assert json.loads(gateway.message(sock, '{"action": "ping"}')) == {"type": "pong"}
