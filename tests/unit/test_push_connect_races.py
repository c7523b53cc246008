"""$connect against what ends sockets meanwhile, with the in-memory twins and hooks that run another request at a
chosen point of a $connect: between storing its row and reading anything back, or just before it reads its own
row back. The management API twin answers as API Gateway for a connection still in its $connect (a post or a
DeleteConnection answers Gone: nothing is closed). The invariant: every socket that ends up open has its row, or
was closed after it opened; a refused one leaves no row.

Outside probe of `make run`: sockets opened with a key's old secret while it was rotated stayed open and kept
receiving the tenant's frames (the re-read after storing looked at `revoked_at` only, which a rotation never
sets); 20 sockets opened at once by one agent key left 6-9 open but 5 rows (the evictions of sockets still in
their handshake closed nothing, deleted their rows, and the handshakes then completed)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.domain.push import ConnectionRefused, Identity, SocketEvent, presented_secret
from ccaas.usecases import admin, push


class Hooked:
    """The connections table, with a hook run once at a chosen point of one connection's $connect."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.after_put: dict[str, Callable[[], None]] = {}  # right after the row is stored
        self.before_get: dict[str, Callable[[], None]] = {}  # just before the $connect reads its own row back

    def put(self, connection) -> None:
        self.inner.put(connection)
        hook = self.after_put.pop(connection.connection_id, None)
        if hook is not None:
            hook()

    def get(self, tenant_id, connection_id):
        hook = self.before_get.pop(connection_id, None)
        if hook is not None:
            hook()
        return self.inner.get(tenant_id, connection_id)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Sockets:
    """Handshakes as API Gateway runs them: in `connecting` while the $connect runs, open when it returns."""

    def __init__(self, deps) -> None:
        self.deps = deps
        self.opened: list[str] = []
        self.refused: list[str] = []

    def open(self, identity: Identity, connection_id: str, secret: str | None = None) -> bool:
        channel = self.deps.push
        channel.connecting.add(connection_id)
        try:
            push.connect(self.deps, identity, connection_id, **({} if secret is None else {"secret": secret}))
        except ConnectionRefused:
            self.refused.append(connection_id)
            return False
        finally:
            channel.connecting.discard(connection_id)
        self.opened.append(connection_id)
        return True

    def rows(self, tenant_id: str) -> set[str]:
        return {cid for (t, cid) in self.deps.connections.inner.items if t == tenant_id}

    def deaf(self, tenant_id: str) -> set[str]:
        """Open, never closed, and without a row: nothing reaches it and nobody can find it to close it."""
        return set(self.opened) - set(self.deps.push.closed) - self.rows(tenant_id)

    def live(self) -> set[str]:
        return set(self.opened) - set(self.deps.push.closed)


def _deps():
    deps = memory_dependencies()
    deps.connections = Hooked(deps.connections)
    admin.register_tenant(deps, tenant_id="t1", name="t1")
    admin.put_queue(deps, Queue(tenant_id="t1", queue_id="sales", name="Sales"))
    admin.put_agent(deps, Agent(tenant_id="t1", agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    return deps


def _authorized(deps, secret: str) -> Identity:
    """The authorizer's context for `secret` (what API Gateway hands $connect)."""
    credential = admin.credential_for_api_key(deps, secret)
    assert credential is not None
    return Identity(tenant_id=credential.tenant_id, role=credential.role.value, agent_id=credential.agent_id or "",
                    key_id=credential.key_id, expires_at=credential.expires_at or 0)


ROLES = [("agent", "ana"), ("supervisor", None), ("admin", None)]


# --- a key rotated or revoked while its socket opens -------------------------------------------------------

@pytest.mark.parametrize("role,agent_id", ROLES)
@pytest.mark.parametrize("replace", ["rotate", "revoke"])
@pytest.mark.parametrize("when", ["before the row is stored", "between storing and reading back"])
def test_a_socket_opened_with_a_secret_rotated_or_revoked_meanwhile_is_refused(role, agent_id, replace, when):
    """The authorizer admitted the old secret; the rotation (or revoke) then ran before the row was stored (its
    search for the key's sockets found none) or right after (it found the row, but could not close a socket still
    in its handshake). Either way the socket is refused and leaves no row. A rotation never sets `revoked_at`: the
    re-read goes by the secret, as the authorizer's does."""
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role=role, agent_id=agent_id)
    identity = _authorized(deps, issued.api_key)
    replaced = lambda: getattr(admin, f"{replace}_api_key")(deps, "t1", issued.key_id)  # noqa: E731
    sockets = Sockets(deps)
    if when == "before the row is stored":
        replaced()
    else:
        deps.connections.after_put["old-1"] = replaced
    assert not sockets.open(identity, "old-1", secret=issued.api_key)
    assert sockets.rows("t1") == set() and sockets.deaf("t1") == set()
    if replace == "rotate":  # the new secret opens one
        rotated = deps.config.get_api_key("t1", issued.key_id)
        assert rotated.revoked_at is None
        fresh = admin.rotate_api_key(deps, "t1", issued.key_id).api_key
        assert sockets.open(_authorized(deps, fresh), "new-1", secret=fresh)
        assert sockets.rows("t1") == {"new-1"}


@pytest.mark.parametrize("role,agent_id", ROLES)
def test_a_rotation_that_finds_the_row_after_the_key_was_read_back_still_refuses_the_socket(role, agent_id):
    """Rotated after $connect read the key back but before it read its own row back: the rotation deleted the row
    (its DeleteConnection answered Gone, the handshake not done), so $connect refuses the socket."""
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role=role, agent_id=agent_id)
    identity = _authorized(deps, issued.api_key)
    deps.connections.before_get["old-1"] = lambda: admin.rotate_api_key(deps, "t1", issued.key_id)
    sockets = Sockets(deps)
    assert not sockets.open(identity, "old-1", secret=issued.api_key)
    assert deps.push.missed_closes == ["old-1"]  # what API Gateway answers a DeleteConnection in a handshake
    assert sockets.rows("t1") == set() and sockets.deaf("t1") == set()


def test_the_probe_rotating_a_supervisor_key_while_sockets_open_leaves_none_with_the_old_secret():
    """The probe's loop: sockets opened with the secret of the moment while the key is rotated, each rotation
    landing at another point of a $connect (or just after it). None of them stays open; a socket opened with the
    live secret is the only one the tenant's metrics go to."""
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role="supervisor")
    current = {"secret": issued.api_key}

    def rotate() -> None:
        current["secret"] = admin.rotate_api_key(deps, "t1", issued.key_id).api_key

    sockets = Sockets(deps)
    for i in range(6):
        cid, secret, point = f"s-{i}", current["secret"], ("after_put", "before_get", "after_open")[i % 3]
        if point != "after_open":
            getattr(deps.connections, point)[cid] = rotate
        sockets.open(_authorized(deps, secret), cid, secret=secret)
        if point == "after_open":
            rotate()  # found and closed: the socket was open
        deps.clock.advance(1)
    assert sockets.live() == set() and sockets.deaf("t1") == set() and sockets.rows("t1") == set()
    assert sockets.refused == ["s-0", "s-1", "s-3", "s-4"] and deps.push.closed == ["s-2", "s-5"]
    secret = current["secret"]
    assert sockets.open(_authorized(deps, secret), "s-live", secret=secret)
    assert [c.connection_id for c in push.watching(deps.connections, lambda: deps.push, "t1")] == ["s-live"]


def test_an_agent_key_revoked_meanwhile_is_refused_and_another_key_of_the_agent_is_not():
    deps = _deps()
    lost = admin.issue_api_key(deps, "t1", role="agent", agent_id="ana")
    kept = admin.issue_api_key(deps, "t1", role="agent", agent_id="ana")
    sockets = Sockets(deps)
    deps.connections.after_put["lost-1"] = lambda: admin.revoke_api_key(deps, "t1", lost.key_id)
    assert not sockets.open(_authorized(deps, lost.api_key), "lost-1", secret=lost.api_key)
    assert sockets.open(_authorized(deps, kept.api_key), "kept-1", secret=kept.api_key)
    assert sockets.rows("t1") == {"kept-1"}


def test_a_secret_that_names_another_key_than_the_context_is_refused():
    """The secret read back must be the credential the authorizer answered for (same tenant, key, role, agent)."""
    deps = _deps()
    agent = admin.issue_api_key(deps, "t1", role="agent", agent_id="ana")
    supervisor = admin.issue_api_key(deps, "t1", role="supervisor")
    with pytest.raises(ConnectionRefused, match="revoked or rotated"):
        push.connect(deps, _authorized(deps, agent.api_key), "x-1", secret=supervisor.api_key)
    with pytest.raises(ConnectionRefused):
        push.connect(deps, _authorized(deps, agent.api_key), "x-2", secret="ck_t1_not-a-key")
    assert deps.connections.inner.items == {}


def test_a_person_s_token_that_expired_before_its_row_was_stored_is_refused():
    deps = _deps()
    now_s = deps.clock.now_ms() // 1000
    person = Identity(tenant_id="t1", role="supervisor", key_id="jwt:sub-1", expires_at=now_s + 5)
    deps.clock.advance(5)
    with pytest.raises(ConnectionRefused, match="expired"):
        push.connect(deps, person, "p-1", secret="eyJ.a.b")
    assert deps.connections.inner.items == {}
    fresh = Identity(tenant_id="t1", role="supervisor", key_id="jwt:sub-1", expires_at=now_s + 3600)
    assert push.connect(deps, fresh, "p-2", secret="eyJ.a.b").connection_id == "p-2"


# --- sockets evicted while their handshake runs ----------------------------------------------------------

def _burst(deps, sockets: Sockets, identity: Identity, n: int, at: str) -> None:
    """`n` $connects of one credential at once: each one's next starts at `at` of it ("put": every row is stored
    before anyone evicts; "get": every one has evicted before anyone reads its own row back)."""
    hooks = deps.connections.after_put if at == "put" else deps.connections.before_get

    def start(i: int) -> None:
        if i + 1 < n:
            hooks[f"c-{i:02d}"] = lambda: start(i + 1)
        deps.clock.advance(0.001)
        sockets.open(identity, f"c-{i:02d}", secret=None)

    start(0)


@pytest.mark.parametrize("at", ["put", "get"])
@pytest.mark.parametrize("role,agent_id,limit", [("agent", "ana", push.MAX_SOCKETS_PER_AGENT),
                                                 ("supervisor", None, push.MAX_WATCHERS_PER_CREDENTIAL)])
def test_sockets_opened_at_once_never_leave_one_open_without_its_row(at, role, agent_id, limit):
    """20 sockets of one agent key (30 of a supervisor key) opened at once: the ones evicted while their handshake
    ran are refused (their own row is read back last), so every open socket has its row, and no more than the
    bound stay open."""
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role=role, agent_id=agent_id)
    sockets = Sockets(deps)
    _burst(deps, sockets, _authorized(deps, issued.api_key), limit + 15, at)
    assert sockets.deaf("t1") == set()
    assert sockets.rows("t1") == sockets.live() and len(sockets.live()) <= limit
    assert set(sockets.refused) | set(sockets.opened) == {f"c-{i:02d}" for i in range(limit + 15)}
    newest = {f"c-{i:02d}" for i in range(15, limit + 15)}
    assert sockets.live() == newest  # the newest are the ones kept, as one at a time


def test_one_at_a_time_the_oldest_are_closed_and_the_newcomer_always_opens():
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role="agent", agent_id="ana")
    identity, sockets = _authorized(deps, issued.api_key), Sockets(deps)
    for i in range(8):
        deps.clock.advance(1)
        assert sockets.open(identity, f"c-{i}", secret=issued.api_key)
    assert deps.push.closed == ["c-0", "c-1", "c-2"] and sockets.live() == {f"c-{i}" for i in range(3, 8)}
    assert sockets.rows("t1") == sockets.live()


def test_a_delivery_posting_to_a_socket_in_its_handshake_refuses_it_instead_of_leaving_it_deaf():
    """API Gateway answers Gone to a post for a connection still in its $connect: the push consumer deletes the
    row. Read back last, $connect refuses that socket (the client reconnects) rather than opening one that
    nothing reaches."""
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role="supervisor")
    report = push.PushReport()

    def post_during_handshake() -> None:
        (row,) = deps.connections.watchers("t1")
        assert push.post_to(deps.connections, deps.push, report, row, {"type": "queue_metrics"}, deps.clock.now_ms()) == push.GONE

    deps.connections.before_get["s-1"] = post_during_handshake
    sockets = Sockets(deps)
    assert not sockets.open(_authorized(deps, issued.api_key), "s-1", secret=issued.api_key)
    assert sockets.deaf("t1") == set() and sockets.rows("t1") == set()


def test_a_connect_that_fails_midway_leaves_no_row():
    deps = _deps()
    issued = admin.issue_api_key(deps, "t1", role="agent", agent_id="ana")

    def unreadable(*args):
        raise RuntimeError("ProvisionedThroughputExceededException")

    deps.connections.inner.of_agent = unreadable
    with pytest.raises(RuntimeError):
        push.connect(deps, _authorized(deps, issued.api_key), "c-1", secret=issued.api_key)
    assert deps.connections.inner.items == {}


# --- which secret $connect reads back ------------------------------------------------------------------------

@pytest.mark.parametrize("headers,query,expected", [
    ({"Authorization": "Bearer ck_a"}, {"token": "ck_b"}, "ck_a"),  # both: the header, as the authorizer reads it
    ({"authorization": "ck_a"}, None, "ck_a"),
    ({}, {"token": "ck_b"}, "ck_b"),
    ({"Authorization": "  "}, {"token": " ck_b "}, "ck_b"),
    (None, None, ""),
])
def test_the_secret_read_back_is_the_one_the_authorizer_read(headers, query, expected):
    from tests.lambda_harness import load_module

    authorizer = load_module("authorize_request")
    event = {"type": "REQUEST", "headers": headers, "queryStringParameters": query}
    assert presented_secret(headers, query) == authorizer.api_key_of(event) == expected
    socket_event = SocketEvent.model_validate({
        "requestContext": {"routeKey": "$connect", "connectionId": "c1=", "authorizer": {"tenant_id": "t1", "role": "agent"}},
        "headers": headers, "queryStringParameters": query})
    assert socket_event.secret() == expected
