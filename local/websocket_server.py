"""The template's WebSocket API on 127.0.0.1, through the same handlers, and the management API.

Two halves, like API Gateway's:
- the client side: a `websockets` server. A handshake runs the $connect route's REQUEST authorizer
  (authorize_request, identity sources from the template: `?token=`) and the $connect integration; a
  refusal closes the handshake with 401/403. Each text frame goes to $default (its body comes back as a
  frame when the route returns responses); a close runs $disconnect. The authorizer's context is in
  every route's requestContext.authorizer, as on AWS. Only the stage's path (/<stage>) is served: any other
  path is refused with 403 before a route runs, as API Gateway refuses a stage it does not have.
- the management side: POST /@connections/{id} (PostToConnection) and DELETE (DeleteConnection: the socket
  is closed with 1000, as API Gateway does) on a small HTTP server. The push
  consumer's boto3 client reaches it through AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI (boto3's
  per-service endpoint variable); an unknown or closed connection answers 410 GoneException, and so does one
  whose $connect route is still running (as on AWS: a $connect that evicts or a revoke meanwhile closes nothing).
  Once that route has answered, the connection is there: a post waits for the handshake's end, a delete closes
  the socket as soon as it is open.

The deployer records AWS::ApiGatewayV2::* resources here (`record_resource`), like it records the
REST API for local/api_server.py. Handlers are invoked through moto's Lambda Invoke API, so the
in-process seam, environments and call counting are the same as the REST API's.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.api_server import LocalHTTPServer, invoke_function

log = logging.getLogger("local.websocket")

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway WebSocket APIs: "message payload size", 128 KB


# --- what the deployer records ---------------------------------------------------------------------

@dataclass
class WsRoute:
    route_key: str
    authorization_type: str
    authorizer_id: str | None
    integration_id: str | None
    return_response: bool = False


@dataclass
class WebSocketApiSpec:
    id: str
    logical_id: str
    name: str
    integrations: dict[str, str] = field(default_factory=dict)  # integration id -> function arn
    authorizers: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> (function arn, identity sources)
    routes: dict[str, WsRoute] = field(default_factory=dict)  # route key -> route
    route_ids: dict[str, str] = field(default_factory=dict)  # route id -> route key
    stages: list[str] = field(default_factory=list)

    @property
    def stage_name(self) -> str:
        return self.stages[0] if self.stages else "prod"


WEBSOCKET_TYPES = (
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::RouteResponse", "AWS::ApiGatewayV2::Stage",
)


def record_resource(deployer: Any, lid: str, props: dict[str, Any], res: Mapping[str, Any]) -> Any:
    """Record one AWS::ApiGatewayV2::* resource of a WEBSOCKET API into deployment.websocket_apis."""
    from local.deployer import DeployedResource, DeployError, _short_id, lambda_arn_from_uri

    rtype = res["Type"]
    apis: dict[str, WebSocketApiSpec] = deployer._dep.websocket_apis  # noqa: SLF001
    if rtype == "AWS::ApiGatewayV2::Api":
        if str(props.get("ProtocolType", "")).upper() != "WEBSOCKET":
            raise DeployError(f"{lid}: only WEBSOCKET APIs of API Gateway v2 are served locally")
        api_id = _short_id(f"wsapi:{lid}")
        apis[api_id] = WebSocketApiSpec(api_id, lid, props.get("Name", lid))
        endpoint = f"wss://{api_id}.execute-api.{deployer.region}.amazonaws.com"
        return DeployedResource(lid, rtype, "recorded", api_id, {"ApiId": api_id, "ApiEndpoint": endpoint},
                                "served by local/websocket_server.py")
    api = apis.get(props.get("ApiId", ""))
    if api is None:
        raise DeployError(f"{lid}: ApiId {props.get('ApiId')!r} is not a WebSocket API of this template")
    rid = _short_id(f"ws:{lid}", 6)
    if rtype == "AWS::ApiGatewayV2::Integration":
        arn = lambda_arn_from_uri(props.get("IntegrationUri", ""))
        if props.get("IntegrationType") != "AWS_PROXY" or arn is None:
            raise DeployError(f"{lid}: only Lambda proxy (AWS_PROXY) WebSocket integrations are served locally")
        api.integrations[rid] = arn
    elif rtype == "AWS::ApiGatewayV2::Authorizer":
        arn = lambda_arn_from_uri(props.get("AuthorizerUri", ""))
        if props.get("AuthorizerType") != "REQUEST" or arn is None:
            raise DeployError(f"{lid}: only Lambda REQUEST authorizers are served locally")
        api.authorizers[rid] = (arn, list(props.get("IdentitySource") or []))
    elif rtype == "AWS::ApiGatewayV2::Route":
        target = str(props.get("Target", ""))
        api.routes[props["RouteKey"]] = WsRoute(
            route_key=props["RouteKey"],
            authorization_type=str(props.get("AuthorizationType", "NONE")).upper(),
            authorizer_id=props.get("AuthorizerId"),
            integration_id=target.removeprefix("integrations/") or None,
        )
        api.route_ids[rid] = props["RouteKey"]
    elif rtype == "AWS::ApiGatewayV2::RouteResponse":
        key = api.route_ids.get(props.get("RouteId", ""))
        if key is None:
            raise DeployError(f"{lid}: RouteId {props.get('RouteId')!r} is not a route of its API")
        api.routes[key].return_response = True
    elif rtype == "AWS::ApiGatewayV2::Stage":
        api.stages.append(props.get("StageName", "prod"))
    return DeployedResource(lid, rtype, "recorded", rid, {}, "served by local/websocket_server.py")


# --- the server -------------------------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class _Socket:
    connection_id: str
    websocket: Any
    authorizer: dict[str, Any]
    connected_at: int
    closed: bool = False
    # Set once the client's handshake is done. Between the $connect route's answer and then, the connection is API
    # Gateway's already: a post waits for it, a DeleteConnection closes it as soon as it is open. (During the $connect
    # route itself it is not registered: both answer 410, as on AWS.)
    opened: asyncio.Event | None = None
    close_on_open: bool = False


OPEN_WAIT_S = 10.0  # how long a connection whose $connect succeeded may take to finish its handshake


class WebSocketGateway:
    """Route events into the template's functions and sockets out of PostToConnection."""

    def __init__(self, api: WebSocketApiSpec, lambda_client: Any, *, region: str, account_id: str) -> None:
        self.api, self.lambda_client = api, lambda_client
        self.region, self.account_id = region, account_id
        self.sockets: dict[str, _Socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = {"connects": 0, "refused": 0, "frames": 0, "posts": 0, "gone": 0, "closed": 0}

    # -- events ----------------------------------------------------------------------------------
    def _context(self, route_key: str, connection_id: str, event_type: str, authorizer: dict[str, Any] | None) -> dict[str, Any]:
        now = int(time.time() * 1000)
        ctx: dict[str, Any] = {
            "routeKey": route_key, "eventType": event_type, "connectionId": connection_id,
            "messageDirection": "IN", "stage": self.api.stage_name, "apiId": self.api.id,
            "domainName": f"{self.api.id}.execute-api.{self.region}.amazonaws.com",
            "requestId": uuid.uuid4().hex, "extendedRequestId": uuid.uuid4().hex,
            "requestTimeEpoch": now, "connectedAt": now, "identity": {"sourceIp": "127.0.0.1"},
        }
        if authorizer is not None:
            ctx["authorizer"] = authorizer
        return ctx

    def _invoke(self, function_arn: str, event: dict[str, Any]) -> tuple[str | None, Any]:
        return invoke_function(self.lambda_client, function_arn, event)

    def connect(self, connection_id: str, headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
        """$connect: the authorizer, then the integration. Returns the authorizer context; raises _Refused."""
        route = self.api.routes.get("$connect")
        authorizer: dict[str, Any] = {}
        base = {"headers": dict(headers), "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": dict(query) or None,
                "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None}
        if route is not None and route.authorization_type == "CUSTOM":
            arn, sources = self.api.authorizers[route.authorizer_id or ""]
            for source in sources:
                kind, _, name = source.removeprefix("route.request.").partition(".")
                have = {k.lower(): v for k, v in headers.items()} if kind == "header" else dict(query)
                if not have.get(name.lower() if kind == "header" else name):
                    raise _Refused(401, "Unauthorized")  # API Gateway: a missing identity source, no call
            method_arn = f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api.id}/{self.api.stage_name}/$connect"
            event = {"type": "REQUEST", "methodArn": method_arn, **base,
                     "requestContext": self._context("$connect", connection_id, "CONNECT", None)}
            error, payload = self._invoke(arn, event)
            if error:
                message = payload.get("errorMessage") if isinstance(payload, dict) else None
                raise _Refused(401 if message == "Unauthorized" else 500, str(message))
            from local.api_server import evaluate_policy

            if not isinstance(payload, dict) or evaluate_policy(payload.get("policyDocument") or {}, method_arn) != "Allow":
                raise _Refused(403, "Forbidden")
            authorizer = {**(payload.get("context") or {}), "principalId": payload.get("principalId")}
        if route is not None and route.integration_id:
            event = {**base, "requestContext": self._context("$connect", connection_id, "CONNECT", authorizer),
                     "isBase64Encoded": False}
            error, payload = self._invoke(self.api.integrations[route.integration_id], event)
            status = payload.get("statusCode", 200) if isinstance(payload, dict) else 500
            if error or not 200 <= int(status) < 300:
                raise _Refused(403 if not error else 500, "Forbidden")
        return authorizer

    def message(self, sock: _Socket, body: str) -> str | None:
        """A frame: $default (the template's route selection picks $default here: it is the only one)."""
        route = self.api.routes.get("$default")
        if route is None or not route.integration_id:
            return None
        event = {"requestContext": self._context(route.route_key, sock.connection_id, "MESSAGE", sock.authorizer),
                 "body": body, "isBase64Encoded": False}
        error, payload = self._invoke(self.api.integrations[route.integration_id], event)
        if error:
            # As API Gateway answers a message whose integration failed: the client hears of it (a silent socket
            # hid a route that failed on hostile frames), the function's error itself stays in its logs.
            return json.dumps({"message": "Internal server error", "connectionId": sock.connection_id,
                               "requestId": event["requestContext"]["requestId"]})
        if not route.return_response or not isinstance(payload, dict):
            return None
        return payload.get("body")

    def disconnect(self, sock: _Socket) -> None:
        route = self.api.routes.get("$disconnect")
        if route is None or not route.integration_id:
            return
        event = {"requestContext": self._context("$disconnect", sock.connection_id, "DISCONNECT", sock.authorizer),
                 "isBase64Encoded": False}
        self._invoke(self.api.integrations[route.integration_id], event)

    # -- PostToConnection --------------------------------------------------------------------------
    def _open(self, connection_id: str) -> _Socket | None:
        sock = self.sockets.get(connection_id)
        return None if sock is None or sock.closed or self._loop is None else sock

    def post(self, connection_id: str, data: bytes) -> bool:
        sock = self._open(connection_id)
        if sock is None:
            self.stats["gone"] += 1
            return False
        fut = asyncio.run_coroutine_threadsafe(self._send(sock, data.decode()), self._loop)
        try:
            fut.result(timeout=OPEN_WAIT_S + 5)
        except Exception:  # noqa: BLE001 - the socket closed under us (or never opened): gone
            self.stats["gone"] += 1
            return False
        self.stats["posts"] += 1
        return True

    @staticmethod
    async def _send(sock: _Socket, text: str) -> None:
        if sock.opened is not None and not sock.opened.is_set():
            await asyncio.wait_for(sock.opened.wait(), OPEN_WAIT_S)
        if sock.closed:
            raise ConnectionError(f"{sock.connection_id} closed")
        await sock.websocket.send(text)

    # -- DeleteConnection ---------------------------------------------------------------------------
    def close(self, connection_id: str) -> bool:
        """Close the client's socket as API Gateway's DeleteConnection does (close code 1000; $disconnect runs);
        False when it is not open. One whose handshake is still finishing is closed as soon as it is done."""
        sock = self._open(connection_id)
        if sock is None:
            return False
        fut = asyncio.run_coroutine_threadsafe(self._close(sock), self._loop)
        try:
            fut.result(timeout=5)
        except Exception:  # noqa: BLE001 - it closed under us
            pass
        self.stats["closed"] += 1
        return True

    @staticmethod
    async def _close(sock: _Socket) -> None:
        # On the loop, as the handshake's end is: the flag is either seen there or the socket is open here.
        if sock.opened is not None and not sock.opened.is_set():
            sock.close_on_open = True
            return
        await sock.websocket.close(1000)


class _ManagementHandler(BaseHTTPRequestHandler):
    gateway: WebSocketGateway
    # Keep-alive, as API Gateway's endpoint: the push consumer's boto3 client reuses its connection
    # instead of a TCP handshake and a new server thread per PostToConnection (every answer has a length).
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if len(data) > MAX_MESSAGE_BYTES:  # as API Gateway (PostToConnection's Data): it never reaches the client
            self._answer(413, "PayloadTooLargeException", f"{len(data)} bytes: over {MAX_MESSAGE_BYTES}")
            return
        self._on_connection(lambda connection_id: self.gateway.post(connection_id, data), ok=200)

    def do_DELETE(self) -> None:  # noqa: N802 - stdlib name
        self._on_connection(self.gateway.close, ok=204)

    def _on_connection(self, act: Any, *, ok: int) -> None:
        """/@connections/{id}: `act` on the id; `ok` when it was open, 410 GoneException otherwise."""
        path = urlsplit(self.path).path
        marker = "/@connections/"
        if marker not in path:
            self._answer(404, "NotFoundException", "no such route")
            return
        connection_id = unquote(path.split(marker, 1)[1])
        if act(connection_id):
            self._answer(ok, None, None)
        else:
            self._answer(410, "GoneException", f"connection {connection_id} is gone")

    def _answer(self, status: int, error: str | None, message: str | None) -> None:
        body = json.dumps({"message": message}).encode() if error else b""
        self.send_response(status)
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug(format, *args)


class WebSocketServer:
    """`url` (ws://127.0.0.1:<port>/<stage>) for clients, `management_url` for boto3."""

    def __init__(self, gateway: WebSocketGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gateway, self.host, self._port = gateway, host, port
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._server: Any = None
        handler = type("Handler", (_ManagementHandler,), {"gateway": gateway})
        self._http = LocalHTTPServer((host, 0), handler)  # the push consumers' posts come in bursts too
        # polled every 0.1 s (as the API server is): a stop waits that long for serve_forever, not 0.5 s
        self._http_thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.1},
                                             name="ws-management", daemon=True)

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self._port}/{self.gateway.api.stage_name}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self._http.server_address[1]}"

    async def _handle(self, websocket: Any) -> None:
        sock: _Socket = websocket.ccaas_socket
        self.gateway.sockets[sock.connection_id] = sock
        if sock.opened is not None:
            sock.opened.set()
        try:
            if sock.close_on_open or sock.closed:  # a DeleteConnection came while the handshake finished
                await websocket.close(1000)
            async for frame in websocket:
                self.gateway.stats["frames"] += 1
                text = frame if isinstance(frame, str) else frame.decode(errors="replace")
                reply = await asyncio.to_thread(self.gateway.message, sock, text)
                if reply is not None:
                    await websocket.send(reply)
        except Exception:  # noqa: BLE001 - a dropped client is a disconnect
            pass
        finally:
            sock.closed = True
            self.gateway.sockets.pop(sock.connection_id, None)
            await asyncio.to_thread(self.gateway.disconnect, sock)

    async def _process_request(self, connection: Any, request: Any) -> Any:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != f"/{self.gateway.api.stage_name}":
            # As API Gateway: a WebSocket API is reached on its stage (wss://<api>/<stage>), any other path is refused
            # before a route runs.
            self.gateway.stats["refused"] += 1
            return connection.respond(403, "Forbidden\n")
        query = dict(parse_qsl(parts.query))
        headers = {k: v for k, v in request.headers.raw_items()}
        connection_id = uuid.uuid4().hex[:12] + "="
        try:
            authorizer = await asyncio.to_thread(self.gateway.connect, connection_id, headers, query)
        except _Refused as refused:
            self.gateway.stats["refused"] += 1
            return connection.respond(refused.status, f"{refused}\n")
        self.gateway.stats["connects"] += 1
        sock = _Socket(connection_id, connection, authorizer, int(time.time() * 1000), opened=asyncio.Event())
        connection.ccaas_socket = sock
        # The $connect route has answered: from here the connection can be posted to and deleted (see _Socket).
        self.gateway.sockets[connection_id] = sock
        asyncio.get_running_loop().call_later(OPEN_WAIT_S, self._unless_opened, sock)
        return None

    def _unless_opened(self, sock: _Socket) -> None:
        """A handshake that never finished after its $connect succeeded: the connection ends ($disconnect runs)."""
        if sock.opened is None or sock.opened.is_set():
            return
        sock.closed = True
        if self.gateway.sockets.get(sock.connection_id) is sock:
            self.gateway.sockets.pop(sock.connection_id, None)
        asyncio.get_running_loop().create_task(asyncio.to_thread(self.gateway.disconnect, sock))

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self.gateway._loop = asyncio.get_running_loop()  # noqa: SLF001
        self._stop = asyncio.get_running_loop().create_future()
        # open_timeout: a handshake waits for the $connect function (its authorizer, one environment each);
        # 60 agents opening their desktops at once on a loaded machine took longer than websockets' 10 s.
        # compression=None: no permessage-deflate (optional in RFC 7692, so every client copes). Its zlib state
        # per socket, on both ends of the simulation's 60 sockets, was ~8-10 MB of the busy-day bench's growth.
        # max_size: API Gateway's WebSocket message quota (128 KB: a larger message closes the connection with
        # 1009), not websockets' 1 MiB, so no handler is given locally a message AWS would not deliver. (Its 32 KB
        # frame quota is not emulated: websockets hands over messages, the frames already joined.)
        async with serve(self._handle, self.host, self._port, process_request=self._process_request,
                         open_timeout=60, compression=None, max_size=MAX_MESSAGE_BYTES) as server:
            self._server = server
            self._port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    def start(self) -> WebSocketServer:
        self._http_thread.start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="ws-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local WebSocket server did not start")
        return self

    def stop(self) -> None:
        loop = self.gateway._loop  # noqa: SLF001
        if loop is not None and self._stop is not None:
            loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http.shutdown()
        self._http.server_close()
