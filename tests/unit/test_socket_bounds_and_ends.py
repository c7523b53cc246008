"""Sockets a key opens by the thousand are bounded at $connect, and a push delivery closes only a few; a revoked
key's socket whose DeleteConnection failed gets no offer, from a cached audience either, and revoking again
closes it (outside review W27, findings 5 and 6)."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.domain.push import Identity
from ccaas.usecases import admin, agents, contacts, push
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact


class CountingChannel:
    """The management API as the push consumer meets it: each post and close is a call (~25 ms on AWS)."""

    def __init__(self, inner) -> None:
        self.inner, self.posts, self.closes = inner, 0, 0
        self.refuse_close = False

    def post(self, connection_id, message):
        self.posts += 1
        return self.inner.post(connection_id, message)

    def close(self, connection_id):
        self.closes += 1
        if self.refuse_close:
            raise RuntimeError("TooManyRequestsException (DeleteConnection)")
        return self.inner.close(connection_id)


def _deps(*tenants):
    deps = memory_dependencies()
    deps.push = CountingChannel(deps.push)
    for t in tenants:
        admin.register_tenant(deps, tenant_id=t, name=t)
        admin.put_queue(deps, Queue(tenant_id=t, queue_id="sales", name="Sales",
                                    channels=frozenset({Channel.VOICE, Channel.CHAT})))
        admin.put_agent(deps, Agent(tenant_id=t, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),),
                                    capacity={Channel.VOICE: 1, Channel.CHAT: 10}))
    return deps


def _offer(deps, tenant_id, channel=Channel.VOICE):
    agents.set_agent_status(deps, tenant_id, "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, tenant_id, NewContact(channel=channel, queue_id="sales"))
    contacts.queue_and_route(deps, tenant_id, contact.contact_id, f"tok-{contact.contact_id}")
    return contact.contact_id


def _offers(deps, connection_id):
    sent = deps.push.inner.sent.get(connection_id, [])
    return [m["payload"]["contact"]["contact_id"] for m in sent if m["type"] == "offer"]


# --- finding 5: the bound at $connect, and a few closes per delivery ------------------------------------

def test_a_socket_storm_is_bounded_at_connect_and_the_push_batch_makes_no_closes():
    deps = _deps("evil", "good")
    storm = Identity(tenant_id="evil", role="agent", agent_id="ana", key_id="k_evilagent01")
    for i in range(300):
        deps.clock.advance(0.01)
        push.connect(deps, storm, f"conn-{i:05d}")
        assert len(deps.connections.of_agent("evil", "ana")) <= push.MAX_SOCKETS_PER_AGENT
        assert deps.push.closes <= i + 1  # one eviction per $connect at the bound, never a backlog
    push.connect(deps, Identity(tenant_id="good", role="agent", agent_id="ana", key_id="k_goodagent01"), "good-conn")
    kept = [c.connection_id for c in deps.connections.of_agent("evil", "ana")]
    assert kept == [f"conn-{i:05d}" for i in range(295, 300)]  # the newest: a reconnected desktop is kept
    n = len(deps.events.events)
    for t in ("evil", "good"):
        _offer(deps, t)
    deps.push.posts = deps.push.closes = 0
    report = push.push_events(deps, deps.events.events[n:], push.PushCache())
    assert (deps.push.posts, deps.push.closes) == (push.MAX_SOCKETS_PER_AGENT + 1, 0)
    assert len(_offers(deps, "good-conn")) == 1 and report.sent == push.MAX_SOCKETS_PER_AGENT + 1


def test_connect_never_evicts_the_socket_it_opens_and_leaves_other_agents_alone():
    deps = _deps("t1")
    same_ms = Identity(tenant_id="t1", role="agent", agent_id="ana", key_id="k_1")
    for cid in ("z-1", "z-2", "z-3", "z-4", "z-5"):
        push.connect(deps, same_ms, cid)  # the same ms: ties are not decided against the newcomer
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob", key_id="k_2"), "bob-1")
    push.connect(deps, same_ms, "a-6")
    ids = {c.connection_id for c in deps.connections.of_agent("t1", "ana")}
    assert "a-6" in ids and len(ids) == push.MAX_SOCKETS_PER_AGENT
    assert deps.connections.get("t1", "bob-1") is not None


def test_connect_without_a_management_endpoint_still_evicts(monkeypatch):
    """A $connect with no management API to reach (no stage in the event, no local endpoint): the evicted rows are
    deleted all the same (they get nothing)."""
    deps = _deps("t1")
    identity = Identity(tenant_id="t1", role="agent", agent_id="ana", key_id="k_1")
    for i in range(push.MAX_SOCKETS_PER_AGENT):
        deps.clock.advance(1)
        push.connect(deps, identity, f"ana-{i}")
    monkeypatch.setattr(type(deps), "push", property(lambda self: (_ for _ in ()).throw(RuntimeError("no endpoint"))),
                        raising=False)
    deps.clock.advance(1)
    push.connect(deps, identity, "ana-new")
    assert deps.connections.get("t1", "ana-0") is None and deps.connections.get("t1", "ana-new") is not None


@pytest.mark.parametrize("watchers", [False, True])
def test_a_delivery_closes_at_most_a_few_of_the_sockets_beyond_a_bound(watchers):
    """Rows stored past the bound (before $connect bounded them, or a race): each delivery closes MAX_EVICTIONS
    of them, oldest first, and still posts to the newest only; the next deliveries close the rest."""
    deps = _deps("t1")
    role = "supervisor" if watchers else "agent"
    limit = push.MAX_WATCHERS_PER_CREDENTIAL if watchers else push.MAX_SOCKETS_PER_AGENT
    for i in range(limit + 40):
        deps.clock.advance(1)
        connection = push.open_connection(Identity(tenant_id="t1", role=role, agent_id="ana", key_id="k_1"),
                                          f"s-{i:03d}", deps.clock.now_ms())
        deps.connections.put(connection)  # as stored before the bound at $connect
    audience = (lambda: push.watching(deps.connections, lambda: deps.push, "t1")) if watchers else \
        (lambda: push.agent_audience(deps, "t1", "ana"))
    first = audience()
    assert [c.connection_id for c in first] == [f"s-{i:03d}" for i in range(limit + 39, 39, -1)]
    assert deps.push.closes == push.MAX_EVICTIONS
    assert deps.push.inner.closed == [f"s-{i:03d}" for i in range(push.MAX_EVICTIONS)]  # oldest first
    for _ in range(7):
        audience()
    assert deps.push.closes == 40 and len(deps.push.inner.closed) == 40
    audience()
    assert deps.push.closes == 40  # within the bound: nothing more to close


# --- finding 6: a revoked key's socket, its close failed ------------------------------------------------

def test_a_revoked_keys_socket_whose_close_failed_gets_no_offer_from_a_cached_audience_and_a_revoke_again_closes_it():
    deps = _deps("acme")
    key = admin.issue_api_key(deps, "acme", role="agent", agent_id="ana", name="ana desk")
    push.connect(deps, Identity(tenant_id="acme", role="agent", agent_id="ana", key_id=key.key_id), "sock-1")
    cache = push.PushCache()

    def batch():
        n = len(deps.events.events)
        _offer(deps, "acme", Channel.CHAT)
        return push.push_events(deps, deps.events.events[n:], cache)

    batch()
    assert len(_offers(deps, "sock-1")) == 1  # the audience is cached from here on
    deps.push.refuse_close = True
    admin.revoke_api_key(deps, "acme", key.key_id)
    row = deps.connections.get("acme", "sock-1")
    assert row is not None and row.expired(deps.clock.now_ms())  # kept, ended: found again by a retry
    deps.clock.advance(3)
    report = batch()
    assert len(_offers(deps, "sock-1")) == 1 and report.sent == 0 and report.expired == 1
    deps.clock.advance(10)
    batch()
    assert len(_offers(deps, "sock-1")) == 1
    deps.push.refuse_close = False
    admin.revoke_api_key(deps, "acme", key.key_id)  # revoking again closes it now
    assert deps.push.inner.closed == ["sock-1"] and deps.connections.get("acme", "sock-1") is None


def test_a_socket_the_admin_tool_could_not_close_is_closed_by_the_push_consumer(monkeypatch):
    """Without a management endpoint (the admin tool against make run) the row stays, ended; the push consumer
    closes it at its next delivery instead of posting to it."""
    deps = _deps("acme")
    key = admin.issue_api_key(deps, "acme", role="agent", agent_id="ana", name="ana desk")
    push.connect(deps, Identity(tenant_id="acme", role="agent", agent_id="ana", key_id=key.key_id), "sock-1")
    channel = deps.push
    monkeypatch.setattr(type(deps), "push", property(lambda self: (_ for _ in ()).throw(RuntimeError("no endpoint"))),
                        raising=False)
    admin.revoke_api_key(deps, "acme", key.key_id)
    monkeypatch.undo()
    deps.push = channel
    assert deps.connections.get("acme", "sock-1").expired(deps.clock.now_ms())
    n = len(deps.events.events)
    _offer(deps, "acme")
    report = push.push_events(deps, deps.events.events[n:], push.PushCache())
    assert report.sent == 0 and _offers(deps, "sock-1") == []
    assert channel.inner.closed == ["sock-1"] and deps.connections.get("acme", "sock-1") is None


def test_a_cached_offer_reads_only_key_sockets_again():
    """The re-read before an offer costs a GetItem per API-key socket of a cached audience; a token's socket
    carries its end in the row it was cached with, and an audience read in the same batch is current."""
    deps = _deps("acme")
    now_s = deps.clock.now_ms() // 1000
    person = Identity(tenant_id="acme", role="agent", agent_id="ana", key_id="jwt:u1", expires_at=now_s + 3600)
    push.connect(deps, person, "tok")
    cache = push.PushCache()
    gets = []
    get = deps.connections.get
    deps.connections.get = lambda *a: gets.append(a) or get(*a)
    for _ in range(2):
        n = len(deps.events.events)
        cid = _offer(deps, "acme", Channel.CHAT)
        push.push_events(deps, deps.events.events[n:], cache)
        assert _offers(deps, "tok")[-1] == cid
    assert gets == []
    push.connect(deps, Identity(tenant_id="acme", role="agent", agent_id="ana", key_id="k_1"), "key")
    gets.clear()  # $connect reads its own row back once; what is counted here is the offers' reads
    deps.clock.advance(11)  # past the audience's TTL: read again, then cached with the key's socket
    for _ in range(2):
        n = len(deps.events.events)
        _offer(deps, "acme", Channel.CHAT)
        push.push_events(deps, deps.events.events[n:], cache)
    assert gets == [("acme", "key")] and len(_offers(deps, "key")) == 2
