"""A watcher's sockets (supervisor, admin) are bounded per credential from $connect on, as an agent's are, reading only
that credential's rows; and manage_connection closes the sockets it evicts (DeleteConnection on the socket's own stage,
built from the $connect event), where it used to only delete their rows and leave them open, silent, for up to 2 h."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.push import Identity, SocketRequestContext
from ccaas.usecases import push
from tests.lambda_harness import context, load_module


class CountingStore:
    """The connection store, counting which lookups a $connect makes."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("watchers", "watchers_of", "of_agent"):
            def counted(*args):
                self.calls.append(name)
                return attr(*args)
            return counted
        return attr


def _watcher(key_id: str, tenant_id: str = "t1", role: str = "supervisor") -> Identity:
    return Identity(tenant_id=tenant_id, role=role, key_id=key_id)


def test_a_watcher_key_opening_30_sockets_keeps_its_newest_20_and_the_oldest_are_closed():
    deps = memory_dependencies()
    push.connect(deps, _watcher("k_other"), "other-1")  # another supervisor of the tenant: never evicted for this key
    push.connect(deps, _watcher("k_leaked", tenant_id="t2"), "t2-1")  # the same key id in another tenant: untouched
    leaked = _watcher("k_leaked")
    for i in range(30):
        deps.clock.advance(1)
        push.connect(deps, leaked, f"w-{i:02d}")
        theirs = [c for c in deps.connections.watchers("t1") if c.key_id == "k_leaked"]
        assert len(theirs) <= push.MAX_WATCHERS_PER_CREDENTIAL  # after every $connect, not at the next push
    kept = sorted(c.connection_id for c in deps.connections.watchers("t1") if c.key_id == "k_leaked")
    assert kept == [f"w-{i:02d}" for i in range(10, 30)]  # the newest: a reconnected wallboard is kept
    assert deps.push.closed == [f"w-{i:02d}" for i in range(10)]  # DeleteConnection, oldest first
    assert deps.connections.get("t1", "other-1") is not None and deps.connections.get("t2", "t2-1") is not None


def test_a_watcher_connect_reads_that_credentials_rows_only_and_evicts_a_few_at_most():
    deps = memory_dependencies()
    for i in range(push.MAX_WATCHERS_PER_CREDENTIAL + 40):  # stored before $connect bounded them
        deps.connections.put(push.open_connection(_watcher("k_1", role="admin"), f"old-{i:03d}", i))
    for i in range(300):
        deps.connections.put(push.open_connection(_watcher(f"k_s{i}"), f"s-{i:03d}", i))  # the tenant's other watchers
    deps.clock.advance(1)
    deps.connections = CountingStore(deps.connections)
    push.connect(deps, _watcher("k_1", role="admin"), "new")
    assert deps.connections.calls == ["watchers_of"]  # never the tenant's every watcher
    assert deps.push.closed == [f"old-{i:03d}" for i in range(push.MAX_EVICTIONS)]  # a few per $connect, oldest first
    assert len(deps.connections.watchers_of("t1", "k_1")) == push.MAX_WATCHERS_PER_CREDENTIAL + 41 - push.MAX_EVICTIONS


def test_a_watcher_connect_within_the_bound_closes_nothing():
    deps = memory_dependencies()
    for i in range(push.MAX_WATCHERS_PER_CREDENTIAL):
        deps.clock.advance(1)
        push.connect(deps, _watcher("jwt:sub-1"), f"w-{i}")
    assert deps.push.closed == [] and len(deps.connections.watchers("t1")) == push.MAX_WATCHERS_PER_CREDENTIAL


@pytest.mark.parametrize(("domain", "stage", "expected"), [
    ("abc123.execute-api.eu-west-1.amazonaws.com", "v1", "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"),
    # A custom domain maps a base path (unknown here) to the stage: the API's own domain reaches the stage.
    ("push.example.com", "v1", "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"),
    ("abc123.execute-api.cn-north-1.amazonaws.com.cn", "v1", "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/v1"),
])
def test_the_management_endpoint_is_the_sockets_own_stage(domain, stage, expected):
    ctx = SocketRequestContext.model_validate({
        "routeKey": "$connect", "connectionId": "c1=", "domainName": domain, "stage": stage, "apiId": "abc123",
        "authorizer": {"tenant_id": "t1", "role": "supervisor"}})
    region = domain.split(".")[2] if ".execute-api." in domain else "eu-west-1"
    assert ctx.management_endpoint(region) == expected


def test_a_route_event_without_its_stage_has_no_management_endpoint():
    ctx = SocketRequestContext.model_validate({
        "routeKey": "$connect", "connectionId": "c1=", "authorizer": {"tenant_id": "t1", "role": "supervisor"}})
    assert ctx.management_endpoint("eu-west-1") is None


def _connect_event(cid: str, key_id: str, role: str = "supervisor", agent_id: str = "") -> dict:
    return {"requestContext": {
        "routeKey": "$connect", "eventType": "CONNECT", "connectionId": cid, "stage": "v1", "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "authorizer": {"tenant_id": "t1", "role": role, "agent_id": agent_id, "key_id": key_id, "principalId": "t1"}},
        "isBase64Encoded": False}


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_manage_connection_closes_the_sockets_it_evicts_on_the_events_stage(monkeypatch, role):
    """On AWS the function has no WEBSOCKET_ENDPOINT: the evicted sockets are closed through the stage the $connect
    came in on, not left open (their rows deleted, nothing pushed to them) until API Gateway's 2 h."""
    handler = load_module("manage_connection")
    deps = memory_dependencies()
    monkeypatch.setattr(deps, "push", None)  # no configured endpoint (deps.push is unusable in this function)
    monkeypatch.setattr(handler, "dependencies", lambda: deps)
    endpoints: list[str] = []
    closes = memory_dependencies().push
    monkeypatch.setattr(handler, "_management_api", lambda endpoint: endpoints.append(endpoint) or closes)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    limit = push.MAX_SOCKETS_PER_AGENT if role == "agent" else push.MAX_WATCHERS_PER_CREDENTIAL
    for i in range(limit + 3):
        deps.clock.advance(1)
        event = _connect_event(f"c-{i:02d}", "k_1", role, "ana" if role == "agent" else "")
        assert handler.lambda_handler(event, context("manage_connection")) == {"statusCode": 200}
    assert closes.closed == ["c-00", "c-01", "c-02"]
    assert set(endpoints) == {"https://abc123.execute-api.us-east-1.amazonaws.com/v1"}  # asked for only to evict
    assert len(endpoints) == 3


def test_the_management_client_goes_to_the_local_emulation_when_it_is_set(monkeypatch):
    """make run's WebSocket server serves DeleteConnection (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, as for the push
    consumer): a socket evicted locally is closed there, not at the execute-api address of the event."""
    handler = load_module("manage_connection")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://127.0.0.1:7")
    local = handler._management_api("https://abc123.execute-api.us-east-1.amazonaws.com/v1")
    assert local._client.meta.endpoint_url == "http://127.0.0.1:7"
    monkeypatch.delenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI")
    aws = handler._management_api("https://abc123.execute-api.us-east-1.amazonaws.com/v1")
    assert aws._client.meta.endpoint_url == "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
