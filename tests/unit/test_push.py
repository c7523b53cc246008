"""Push over WebSocket (use-case level, in memory): connections, frames, what each event pushes to whom,
and that nothing crosses tenants or agents."""
from __future__ import annotations

import json

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.events import Event
from ccaas.domain.models import Agent, Channel, Queue, QueueAssignment
from ccaas.domain.push import ConnectionRefused, FrameError, Identity, parse_frame, plan_pushes
from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.usecases import admin, agents, contacts, metrics, push
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact


def _tenant(deps, tenant_id):
    admin.register_tenant(deps, tenant_id=tenant_id, name=tenant_id)
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="support", name="Support", channels=frozenset({Channel.VOICE})))
    for agent_id, queue in (("ana", "sales"), ("bob", "support")):
        admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id=agent_id, name=agent_id,
                                    queues=(QueueAssignment(queue_id=queue),)))


def _events_since(deps, n):
    return deps.events.events[n:]


def _offer_to(deps, tenant_id, agent_id="ana", queue_id="sales"):
    agents.set_agent_status(deps, tenant_id, agent_id, StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, tenant_id, NewContact(channel=Channel.VOICE, queue_id=queue_id))
    contacts.queue_and_route(deps, tenant_id, contact.contact_id, "tok")
    return contact.contact_id


def _types(deps, cid):
    return [m["type"] for m in deps.push.sent.get(cid, [])]


# --- domain ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,expected", [
    ('{"action":"ping"}', "ping"),
    ('{"action":"subscribe","queues":["sales","support"]}', "subscribe"),
    ('{"action":"subscribe"}', "subscribe"),
])
def test_valid_frames_parse(body, expected):
    assert parse_frame(body).action == expected


@pytest.mark.parametrize("body", [
    "", "not json", "[]", '{"queues":[]}', '{"action":"dance"}', '{"action":"subscribe","queues":"sales"}',
    '{"action":"subscribe","queues":["bad queue!"]}', '{"action":"ping","tenant_id":"other"}',
    '{"action":"subscribe","queues":[' + ",".join('"q%d"' % i for i in range(101)) + "]}",
    '{"action":"ping","x":"' + "a" * 40000 + '"}',
    "[" * 5000 + "]" * 5000,  # 10 KB, under the frame limit: Python's decoder raises RecursionError
    '{"action":"ping","x":' + "[" * 5000 + "]" * 5000 + "}",
])
def test_malformed_frames_are_frame_errors_that_never_echo_the_input(body):
    with pytest.raises(FrameError) as err:
        parse_frame(body)
    assert "bad queue" not in str(err.value) and "other" not in str(err.value)


@pytest.mark.parametrize(("body", "named"), [
    ('{"action":"ping","action":"subscribe"}', "action"),  # json.loads keeps the last: subscribed to every queue
    ('{"action":"subscribe","queues":["sales"],"queues":[]}', "queues"),  # ... widened to every queue
    ('{"action":"ping","\\u0061ction":"subscribe"}', "action"),  # the same key, escaped
    ('{"action":"ping","ECHO-ME-7731":1,"ECHO-ME-7731":2}', None),  # the sender's key: not echoed
    ('{"action":"subscribe","queues":[{"a":1,"a":2}]}', None),  # nested
])
def test_a_key_given_twice_is_refused_as_the_rest_api_refuses_it(body, named):
    with pytest.raises(FrameError, match="more than once") as err:
        parse_frame(body)
    assert err.value.field == named and "ECHO-ME" not in str(err.value), str(err.value)
    if named:
        assert f'"{named}"' in str(err.value)


@pytest.mark.parametrize("body", [
    '{"action":"ping","ECHO-ME-7731":1}',
    '{"action":"subscribe","queues":["sales"],"ECHO-ME-7731":"x","tenant_id":"t2"}',
    '{"action":"subscribe","queues":"sales","ECHO-ME-7731":1}',
])
def test_a_field_a_frame_should_not_have_is_counted_never_named(body):
    """The sender's own field names are input too: an error frame names only the frame's fields."""
    with pytest.raises(FrameError) as err:
        parse_frame(body)
    message = str(err.value)
    assert "ECHO-ME" not in message and "tenant_id" not in message, message
    assert "unknown field(s): a " in message and "has only action" in message, message
    if '"queues":"sales"' in body:
        assert "check queues" in message and err.value.field == "queues", message


@pytest.mark.parametrize("identity", [
    Identity(tenant_id="t1", role="integration"),
    Identity(tenant_id="t1", role="agent", agent_id=""),
    Identity(tenant_id="t1", role="root"),
])
def test_connect_refuses_integrations_agentless_agent_keys_and_unknown_roles(identity):
    deps = memory_dependencies()
    with pytest.raises(ConnectionRefused):
        push.connect(deps, identity, "c1")
    assert deps.connections.items == {}


def test_a_supervisor_key_naming_an_agent_is_not_addressed_as_that_agent():
    deps = memory_dependencies()
    conn = push.connect(deps, Identity(tenant_id="t1", role="supervisor", agent_id="ana"), "c1")
    assert conn.agent_id == "" and deps.connections.of_agent("t1", "ana") == []
    assert conn.expires_at - conn.connected_at // 1000 == 7200


# --- frames ------------------------------------------------------------------------------------------

def test_ping_pong_subscribe_and_error_frames_keep_the_connection():
    deps = memory_dependencies()
    sup = Identity(tenant_id="t1", role="supervisor")
    push.connect(deps, sup, "s1")
    assert push.handle_frame(deps, sup, "s1", '{"action":"ping"}')["type"] == "pong"
    reply = push.handle_frame(deps, sup, "s1", '{"action":"subscribe","queues":["sales","sales"]}')
    assert reply["type"] == "subscribed" and reply["queues"] == ["sales"]
    assert deps.connections.get("t1", "s1").subscriptions == ("sales",)
    bad = push.handle_frame(deps, sup, "s1", "{nope")
    assert bad["type"] == "error" and bad["message"]
    assert deps.connections.get("t1", "s1") is not None  # still connected


def test_agents_may_not_subscribe_and_a_frame_for_an_unknown_or_other_tenants_connection_is_an_error():
    deps = memory_dependencies()
    agent = Identity(tenant_id="t1", role="agent", agent_id="ana")
    push.connect(deps, agent, "a1")
    assert push.handle_frame(deps, agent, "a1", '{"action":"subscribe","queues":["sales"]}')["type"] == "error"
    push.connect(deps, Identity(tenant_id="t2", role="supervisor"), "s2")
    # t1's credential on t2's connection id: looked up under t1, not found, nothing changed.
    assert push.handle_frame(deps, Identity(tenant_id="t1", role="admin"), "s2", '{"action":"subscribe","queues":["x"]}')["type"] == "error"
    assert deps.connections.get("t2", "s2").subscriptions == ()


def test_disconnect_deletes_only_the_callers_tenants_connection():
    deps = memory_dependencies()
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "c1")
    push.disconnect(deps, Identity(tenant_id="t2", role="agent", agent_id="ana"), "c1")
    assert deps.connections.get("t1", "c1") is not None
    push.disconnect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "c1")
    push.disconnect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "c1")  # idempotent
    assert deps.connections.get("t1", "c1") is None


# --- deliveries --------------------------------------------------------------------------------------

def test_an_offer_reaches_the_agent_with_the_offer_view_then_its_state_changes():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-1")
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n))
    offers = [m for m in deps.push.sent["ana-1"] if m["type"] == "offer"]
    assert len(offers) == 1 and report.offers_read == 1
    offer = offers[0]
    assert set(offer) == {"type", "at", "payload"} and offer["at"].endswith("Z")
    assert offer["payload"]["contact"]["contact_id"] == cid and offer["payload"]["expires_at"]
    assert "tenant_id" not in json.dumps(offer)  # the OfferView, as GET /agents/{id}/offers shows it
    assert offer["payload"] == json.loads(json.dumps(offer["payload"]))

    n = len(deps.events.events)
    contacts.accept_contact(deps, "t1", "ana", cid)
    push.push_events(deps, _events_since(deps, n))
    state = deps.push.sent["ana-1"][-1]
    assert state["type"] == "contact_state" and state["payload"]["state"] == "CONNECTED"
    assert state["payload"]["event"] == "connected"


def test_declined_and_abandoned_offers_are_withdrawn():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-1")
    cid = _offer_to(deps, "t1")
    n = len(deps.events.events)
    contacts.reject_contact(deps, "t1", "ana", cid)
    push.push_events(deps, _events_since(deps, n))
    withdrawn = [m for m in deps.push.sent["ana-1"] if m["type"] == "offer_withdrawn"]
    assert withdrawn[-1]["payload"] == {"contact_id": cid, "reason": "rejected"}

    cid2 = _offer_to(deps, "t1")
    n = len(deps.events.events)
    contacts.abandon_contact(deps, "t1", cid2, reason="customer", from_workflow=False)
    push.push_events(deps, _events_since(deps, n))
    assert deps.push.sent["ana-1"][-1] == {"type": "offer_withdrawn", "at": deps.push.sent["ana-1"][-1]["at"],
                                           "payload": {"contact_id": cid2, "reason": "abandoned"}}


def test_queue_metrics_at_most_one_per_queue_per_batch_to_its_watchers_only():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    sup, adm = Identity(tenant_id="t1", role="supervisor"), Identity(tenant_id="t1", role="admin")
    push.connect(deps, sup, "sup-sales")
    push.handle_frame(deps, sup, "sup-sales", '{"action":"subscribe","queues":["sales"]}')
    push.connect(deps, adm, "adm-all")
    n = len(deps.events.events)
    for _ in range(3):
        contacts.create_contact(deps, "t1", NewContact(channel=Channel.VOICE, queue_id="support"))
    for _ in range(3):
        c = contacts.create_contact(deps, "t1", NewContact(channel=Channel.VOICE, queue_id="sales"))
        contacts.queue_and_route(deps, "t1", c.contact_id, "tok")
    events = _events_since(deps, n)
    # The live-metrics consumer folds the batch and pushes the views it has just written.
    applied = metrics.apply_records(deps, "shard-0", [
        SequencedEvent(event=e, shard_id="shard-0", sequence=pad_sequence(str(i + 1))) for i, e in enumerate(events)])
    views = [(a.update.tenant_id, metrics.view_of(deps, a.update.tenant_id, a.update.queue_id, a.item)) for a in applied]
    report = push.push_queue_views(deps, views)
    sales = [m for m in deps.push.sent["sup-sales"] if m["type"] == "queue_metrics"]
    assert [m["payload"]["queue_id"] for m in sales] == ["sales"]
    assert sales[0]["payload"]["in_queue"] == 3  # the batch's own numbers, never the previous batch's
    all_queues = sorted(m["payload"]["queue_id"] for m in deps.push.sent["adm-all"])
    assert all_queues == sorted({e.payload["queue_id"] for e in events if e.payload.get("queue_id")})
    assert report.sent == 1 + len(all_queues)
    assert push.push_events(deps, events).sent == 0  # the agent consumer sends no metrics (no agent here)


def test_no_watchers_no_metric_reads_and_no_agent_connection_no_offer_reads():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    n = len(deps.events.events)
    _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n))
    assert (report.sent, report.offers_read) == (0, 0)


def test_gone_connections_are_deleted_and_other_failures_fail_their_events_only():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-old")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-new")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob"), "bob-1")
    deps.push.gone.add("ana-old")
    deps.push.failing.add("bob-1")
    n = len(deps.events.events)
    _offer_to(deps, "t1", "ana", "sales")
    _offer_to(deps, "t1", "bob", "support")
    events = _events_since(deps, n)
    report = push.push_events(deps, events)
    assert deps.connections.get("t1", "ana-old") is None and report.gone == 1
    assert _types(deps, "ana-new") == ["offer"]
    bob_offer = next(e for e in events if e.type == "contact.offered" and e.payload["agent_id"] == "bob")
    assert report.failed_event_ids == {bob_offer.event_id}


ROLES = (("agent", "ana"), ("supervisor", ""), ("admin", ""))


@pytest.mark.parametrize("cached", [False, True], ids=["store", "push-cache"])
def test_two_tenants_three_roles_zero_cross_deliveries(cached):
    deps = memory_dependencies()
    cache = push.PushCache() if cached else None
    for t in ("t1", "t2"):
        _tenant(deps, t)
    # Each tenant has agents named ana and bob, a supervisor and an admin: the same agent ids in both
    # tenants, so only the (tenant, agent) lookup keeps them apart.
    owners: dict[tuple[str, str], tuple[str, str, str]] = {}
    for t in ("t1", "t2"):
        for role, agent_id in (*ROLES, ("agent", "bob")):
            cid = f"{t}-{role}-{agent_id}"
            push.connect(deps, Identity(tenant_id=t, role=role, agent_id=agent_id), cid)
            owners[(t, cid)] = (t, role, agent_id)
    n = len(deps.events.events)
    offered = {t: _offer_to(deps, t, "ana", "sales") for t in ("t1", "t2")}
    for t in ("t1", "t2"):
        contacts.accept_contact(deps, t, "ana", offered[t])
    _offer_to(deps, "t2", "bob", "support")
    events = _events_since(deps, n)
    if cache is not None:  # both tenants' ana in the cache first (same agent id), then the batch in two halves
        push.push_events(deps, events[: len(events) // 2], cache)
        push.push_events(deps, events[len(events) // 2 :], cache)
    else:
        push.push_events(deps, events)
    for t in ("t1", "t2"):  # the live-metrics consumer's pushes of the same batch, per shard of a tenant
        mine = [e for e in events if e.tenant_id == t]
        applied = metrics.apply_records(deps, f"shard-{t}", [
            SequencedEvent(event=e, shard_id=f"shard-{t}", sequence=pad_sequence(str(i + 1))) for i, e in enumerate(mine)])
        push.push_queue_views(deps, [(a.update.tenant_id, metrics.view_of(deps, a.update.tenant_id, a.update.queue_id, a.item))
                                     for a in applied])

    # Contact ids are unique across tenants here (one id generator): each names its tenant and agent.
    owner_of = {c.contact_id: (t, c.agent_id) for (t, _), c in deps.store.contacts.items()}
    cross = []
    for (t, cid), (_, role, agent_id) in owners.items():
        for m in deps.push.sent.get(cid, []):
            if m["type"] == "queue_metrics":
                if role == "agent":
                    cross.append((cid, m["type"]))
                continue
            contact_id = m["payload"]["contact"]["contact_id"] if m["type"] == "offer" else m["payload"]["contact_id"]
            if role != "agent" or owner_of[contact_id] != (t, agent_id):
                cross.append((cid, m["type"], contact_id))
    assert cross == []
    assert _types(deps, "t1-agent-ana") == ["offer", "contact_state"]
    assert _types(deps, "t1-agent-bob") == [] and _types(deps, "t2-agent-bob") == ["offer"]
    assert {m["type"] for m in deps.push.sent["t1-supervisor-"]} == {"queue_metrics"}
    assert _types(deps, "t2-agent-ana") == ["offer", "contact_state"]


def test_plan_is_pure_and_ignores_events_without_an_agent():
    e = Event(event_id="e-000001", tenant_id="t1", type="contact.queued", occurred_at="2026-11-25T10:00:00Z",
              subject="contact/c1", sequence=1, payload={"contact_id": "c1", "queue_id": "sales", "agent_id": None})
    plan = plan_pushes([e, e])
    assert plan.agent_pushes == []


def test_a_consult_pushes_the_leg_offer_with_its_handover_and_the_legs_answer_to_the_consulting_agent():
    from ccaas.usecases import transfers
    from ccaas.usecases.transfers import ConsultDestination, ConsultRequest

    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob"), "bob-1")
    cid = _offer_to(deps, "t1")
    contacts.accept_contact(deps, "t1", "ana", cid)
    agents.set_agent_status(deps, "t1", "bob", StatusChange(status="AVAILABLE"))
    n = len(deps.events.events)
    leg = transfers.consult(deps, "t1", "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob"), note="refund"))
    push.push_events(deps, _events_since(deps, n))
    offer = [m for m in deps.push.sent["bob-1"] if m["type"] == "offer"][-1]["payload"]
    assert offer["contact"]["contact_id"] == leg.contact_id and offer["contact"]["handover"]["note"] == "refund"
    assert deps.push.sent["ana-1"][-1]["payload"]["event"] == "consult_started"

    n = len(deps.events.events)
    contacts.accept_contact(deps, "t1", "bob", leg.contact_id)
    transfers.conference(deps, "t1", "ana", cid)
    push.push_events(deps, _events_since(deps, n))
    # ana hears that bob answered her consult leg, then both hear the conference.
    ana = [(m["payload"]["contact_id"], m["payload"]["event"]) for m in deps.push.sent["ana-1"][-2:]]
    assert ana == [(leg.contact_id, "connected"), (cid, "conference_joined")]
    assert deps.push.sent["bob-1"][-1]["payload"] == {
        "event": "conference_joined", "contact_id": leg.contact_id, "queue_id": "sales", "channel": "VOICE",
        "state": "CONNECTED", "conference_with": cid}


# --- the push consumer's cache (connections and policy between batches) ------------------------------

def _ana(deps, connection_id, tenant_id="t1"):
    push.connect(deps, Identity(tenant_id=tenant_id, role="agent", agent_id="ana"), connection_id)


def _offers(deps, connection_id):
    return [m["payload"]["contact"]["contact_id"] for m in deps.push.sent.get(connection_id, []) if m["type"] == "offer"]


def _finish(deps, tenant_id, cid, agent_id="ana"):
    contacts.accept_contact(deps, tenant_id, agent_id, cid)
    contacts.complete_contact(deps, tenant_id, agent_id, cid)
    contacts.end_after_contact_work(deps, tenant_id, agent_id, cid)


def test_the_cache_saves_the_connection_and_policy_reads_until_its_ttl():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _ana(deps, "ana-1")
    cache = push.PushCache(audience_ttl_ms=10_000, policy_ttl_ms=30_000)
    reads = {"of_agent": 0, "settings": 0}
    of_agent, get_settings = deps.connections.of_agent, deps.config.get_settings

    def counting_of_agent(*a):
        reads["of_agent"] += 1
        return of_agent(*a)

    def counting_settings(*a):
        reads["settings"] += 1
        return get_settings(*a)

    deps.connections.of_agent, deps.config.get_settings = counting_of_agent, counting_settings
    n = len(deps.events.events)
    first = _offer_to(deps, "t1")
    reads.update(of_agent=0, settings=0)  # routing's own reads
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-1") == [first] and report.audience_reads == 1 and reads == {"of_agent": 1, "settings": 1}

    _finish(deps, "t1", first)
    deps.clock.advance(5)
    n = len(deps.events.events)
    second = _offer_to(deps, "t1")
    reads.update(of_agent=0, settings=0)
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-1") == [first, second]
    assert report.audience_reads == 0 and reads == {"of_agent": 0, "settings": 0}  # both from the cache

    _finish(deps, "t1", second)
    deps.clock.advance(10)  # past the connections' TTL, not the policy's
    n = len(deps.events.events)
    third = _offer_to(deps, "t1")
    reads.update(of_agent=0, settings=0)
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-1") == [first, second, third] and reads == {"of_agent": 1, "settings": 0}


def test_an_agent_without_a_socket_is_not_cached_so_its_first_socket_gets_the_next_offer():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    cache = push.PushCache()
    n = len(deps.events.events)
    first = _offer_to(deps, "t1")
    assert push.push_events(deps, _events_since(deps, n), cache).sent == 0
    _finish(deps, "t1", first)
    _ana(deps, "ana-1")  # within the TTL of the empty lookup
    n = len(deps.events.events)
    second = _offer_to(deps, "t1")
    push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-1") == [second]


def test_a_reconnect_with_a_new_connection_id_gets_the_message_although_the_old_one_was_cached():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    cache = push.PushCache()
    _ana(deps, "ana-old")
    n = len(deps.events.events)
    first = _offer_to(deps, "t1")
    push.push_events(deps, _events_since(deps, n), cache)
    _finish(deps, "t1", first)
    # The desktop reconnects: the old socket is gone without a $disconnect reaching us, the new one is stored.
    deps.push.gone.add("ana-old")
    _ana(deps, "ana-new")
    n = len(deps.events.events)
    second = _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-new") == [second]  # in the same delivery, not after the TTL
    assert deps.connections.get("t1", "ana-old") is None and report.gone == 1
    assert report.audience_reads == 1 and not report.failed_event_ids
    # The stale id is out of the cache too: the next batch posts to the new connection only.
    _finish(deps, "t1", second)
    n = len(deps.events.events)
    third = _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "ana-new") == [second, third] and report.gone == 0 and report.audience_reads == 0


def test_a_gone_connection_is_never_posted_twice_and_a_failing_one_fails_only_its_event():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    cache = push.PushCache()
    _ana(deps, "ana-gone")
    _ana(deps, "ana-ok")
    deps.push.gone.add("ana-gone")
    posted: list[str] = []
    post = deps.push.post

    def counting_post(connection_id, message):
        posted.append(connection_id)
        return post(connection_id, message)

    deps.push.post = counting_post
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    contacts.accept_contact(deps, "t1", "ana", cid)  # two messages in the batch: offer, contact_state
    report = push.push_events(deps, _events_since(deps, n), cache)
    assert posted.count("ana-gone") == 1 and posted.count("ana-ok") == 2
    assert _types(deps, "ana-ok") == ["offer", "contact_state"] and report.gone == 1

    deps.push.failing.add("ana-ok")
    n = len(deps.events.events)
    contacts.complete_contact(deps, "t1", "ana", cid)
    events = _events_since(deps, n)
    report = push.push_events(deps, events, cache)
    pushed = {p.event_id for p in plan_pushes(events).agent_pushes}
    assert report.failed_event_ids == pushed and report.failed_event_ids  # retried by the mapping
    assert deps.connections.get("t1", "ana-ok") is not None  # a failure is not a gone connection


def test_a_second_socket_of_a_cached_agent_receives_after_the_ttl_and_never_another_agents_data():
    deps = memory_dependencies()
    for t in ("t1", "t2"):
        _tenant(deps, t)
    cache = push.PushCache(audience_ttl_ms=10_000)
    _ana(deps, "t1-ana-1", "t1")
    n = len(deps.events.events)
    first = _offer_to(deps, "t1")
    push.push_events(deps, _events_since(deps, n), cache)
    _finish(deps, "t1", first)
    _ana(deps, "t1-ana-2", "t1")  # a second tab, while the first is cached
    _ana(deps, "t2-ana-1", "t2")  # the same agent id in another tenant: its own entry
    n = len(deps.events.events)
    second, other = _offer_to(deps, "t1"), _offer_to(deps, "t2")
    push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "t1-ana-1") == [first, second] and _offers(deps, "t2-ana-1") == [other]
    assert _offers(deps, "t1-ana-2") == []  # the bounded delay: GET /agents/ana/offers shows it
    _finish(deps, "t1", second)
    deps.clock.advance(10)
    n = len(deps.events.events)
    third = _offer_to(deps, "t1")
    push.push_events(deps, _events_since(deps, n), cache)
    assert _offers(deps, "t1-ana-2") == [third] and _offers(deps, "t1-ana-1") == [first, second, third]
    assert _offers(deps, "t2-ana-1") == [other]


def test_a_policy_change_shows_in_pushed_offers_within_the_policy_ttl():
    from ccaas.domain.routing_engine.policy import ReservationPolicy, RoutingPolicy
    from ccaas.usecases import routing

    deps = memory_dependencies()
    _tenant(deps, "t1")
    cache = push.PushCache(audience_ttl_ms=10_000, policy_ttl_ms=30_000)
    _ana(deps, "ana-1")

    def offer_window_s():
        n = len(deps.events.events)
        cid = _offer_to(deps, "t1")
        push.push_events(deps, _events_since(deps, n), cache)
        offer = next(m for m in deps.push.sent["ana-1"] if m["type"] == "offer" and m["payload"]["contact"]["contact_id"] == cid)
        _finish(deps, "t1", cid)
        payload = offer["payload"]
        from datetime import datetime
        at = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()  # noqa: E731
        return round(at(payload["expires_at"]) - at(payload["contact"]["offered_at"]))

    assert offer_window_s() == 30
    routing.put_policy(deps, "t1", RoutingPolicy(reservation=ReservationPolicy(timeout_s=45)))
    assert offer_window_s() == 30  # cached
    deps.clock.advance(31)
    assert offer_window_s() == 45


# --- an offered event that carries the offered contact ---------------------------------------------

def _carrying(event, contact_dump):
    return event.model_copy(update={"payload": {**event.payload, "offered_contact": contact_dump}})


def test_an_offered_event_carrying_the_contact_is_pushed_without_reading_it_and_shows_the_same_view():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _ana(deps, "ana-read")
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    events = _events_since(deps, n)
    push.push_events(deps, events)
    read_view = deps.push.sent["ana-read"][-1]

    contact = deps.store.get_contact("t1", cid)
    carried = [_carrying(e, contact.model_dump(mode="json", exclude={"workflow_token"}))
               if e.type == "contact.offered" else e for e in events]
    deps.connections.delete("t1", "ana-read")
    _ana(deps, "ana-carried")
    reads = []
    get_contact = deps.store.get_contact
    deps.store.get_contact = lambda *a: reads.append(a) or get_contact(*a)
    push.push_events(deps, carried)
    assert reads == []
    assert deps.push.sent["ana-carried"][-1] == read_view


@pytest.mark.parametrize("tamper", [
    lambda d: {**d, "tenant_id": "t2"},  # another tenant's contact never stands in for this one
    lambda d: {**d, "contact_id": "someone-else"},
    lambda d: {**d, "field_of_a_newer_model": 1},  # another version of the model: read instead
    lambda d: "not a contact",
])
def test_a_carried_contact_that_is_not_this_offers_is_ignored_and_the_contact_is_read(tamper):
    deps = memory_dependencies()
    for t in ("t1", "t2"):
        _tenant(deps, t)
    _ana(deps, "ana-1")
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    events = _events_since(deps, n)
    dump = deps.store.get_contact("t1", cid).model_dump(mode="json", exclude={"workflow_token"})
    dump["attributes"] = {"marker": "from-the-event"}
    reads = []
    get_contact = deps.store.get_contact
    deps.store.get_contact = lambda *a: reads.append(a) or get_contact(*a)
    push.push_events(deps, [_carrying(e, tamper(dump)) if e.type == "contact.offered" else e for e in events])
    (offer,) = [m for m in deps.push.sent["ana-1"] if m["type"] == "offer"]
    assert reads == [("t1", cid)] and offer["payload"]["contact"]["contact_id"] == cid
    assert "from-the-event" not in json.dumps(offer)


def test_a_carried_contact_no_longer_offered_to_this_agent_is_not_pushed():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _ana(deps, "ana-1")
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    events = _events_since(deps, n)
    dump = deps.store.get_contact("t1", cid).model_dump(mode="json", exclude={"workflow_token"})
    push.push_events(deps, [_carrying(e, {**dump, "agent_id": "bob"}) if e.type == "contact.offered" else e for e in events])
    assert _offers(deps, "ana-1") == []


def test_the_offered_event_carries_no_contact_so_the_push_reads_it_once():
    """The event used to carry the contact's dump (its customer's callback number, attributes, customer id) to
    every consumer of the stream and to its failure bucket; the push consumer reads the contact instead (a record
    written before, carrying the dump, is still built from it: the tests above)."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _ana(deps, "ana-1")
    cache = push.PushCache()
    n = len(deps.events.events)
    cid = _offer_to(deps, "t1")
    events = _events_since(deps, n)
    (offered,) = [e for e in events if e.type == "contact.offered"]
    stored = deps.store.get_contact("t1", cid)
    assert stored.workflow_token == "tok" and "tok" not in offered.model_dump_json()
    assert "offered_contact" not in offered.payload
    reads = []
    get_contact = deps.store.get_contact
    deps.store.get_contact = lambda *a: reads.append(a) or get_contact(*a)
    push.push_events(deps, events, cache)
    assert reads == [("t1", cid)] and _offers(deps, "ana-1") == [cid]


# --- a socket lasts as long as its credential ------------------------------------------------------------

def _key(deps, tenant_id, role, agent_id=None):
    issued = admin.issue_api_key(deps, tenant_id, role=role, agent_id=agent_id)
    return issued, Identity(tenant_id=tenant_id, role=role, agent_id=agent_id or "", key_id=issued.key_id)


@pytest.mark.parametrize("replace", ["revoke", "rotate"])
def test_a_revoked_or_rotated_agent_key_closes_its_sockets_and_nothing_more_reaches_them(replace):
    """A socket outlives the authorizer's answer (up to 2 h): revoking (or rotating) the key it was opened with
    deletes and closes it at once; the agent's socket of another key, and other agents', stay."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    lost, lost_identity = _key(deps, "t1", "agent", "ana")
    _, other_identity = _key(deps, "t1", "agent", "ana")
    push.connect(deps, lost_identity, "ana-lost")
    push.connect(deps, other_identity, "ana-desk")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob", key_id=lost.key_id), "bob-1")  # another audience
    {"revoke": admin.revoke_api_key, "rotate": admin.rotate_api_key}[replace](deps, "t1", lost.key_id)
    assert deps.push.closed == ["ana-lost"] and deps.connections.get("t1", "ana-lost") is None
    assert deps.connections.get("t1", "ana-desk") is not None and deps.connections.get("t1", "bob-1") is not None
    n = len(deps.events.events)
    _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n), push.PushCache())
    assert _types(deps, "ana-desk") == ["offer"] and "ana-lost" not in deps.push.sent and report.sent == 1


def test_a_socket_stored_after_its_keys_revoke_looked_for_sockets_is_refused():
    """The authorizer let the key in, then the revoke ran (its search found no socket yet), then $connect stored
    the connection: it lasted API Gateway's 2 h. $connect reads the key again once the connection is stored."""
    from ccaas.domain.push import ConnectionRefused

    deps = memory_dependencies()
    _tenant(deps, "t1")
    issued, identity = _key(deps, "t1", "agent", "ana")
    admin.revoke_api_key(deps, "t1", issued.key_id)  # between the authorizer's answer and $connect
    with pytest.raises(ConnectionRefused, match="revoked"):
        push.connect(deps, identity, "late-1")
    assert deps.connections.get("t1", "late-1") is None
    _, live = _key(deps, "t1", "agent", "ana")
    assert push.connect(deps, live, "desk-1").connection_id == "desk-1"


def test_a_revoked_supervisor_key_closes_its_watching_sockets_only():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _tenant(deps, "t2")
    lost, lost_identity = _key(deps, "t1", "supervisor")
    _, kept_identity = _key(deps, "t1", "admin")
    push.connect(deps, lost_identity, "sup-lost")
    push.connect(deps, kept_identity, "adm-1")
    push.connect(deps, Identity(tenant_id="t2", role="supervisor", key_id=lost.key_id), "t2-sup")  # same id, other tenant
    admin.revoke_api_key(deps, "t1", lost.key_id)
    assert deps.push.closed == ["sup-lost"]
    assert deps.connections.get("t1", "adm-1") is not None and deps.connections.get("t2", "t2-sup") is not None
    admin.revoke_api_key(deps, "t1", lost.key_id)  # idempotent: nothing more closed
    assert deps.push.closed == ["sup-lost"]


def test_a_socket_opened_with_a_user_token_ends_with_the_token():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    now_s = deps.clock.now_ms() // 1000
    person = Identity(tenant_id="t1", role="agent", agent_id="ana", key_id="jwt:sub-1", expires_at=now_s + 600)
    token = push.connect(deps, person, "ana-token")
    keyed = push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana", key_id="k_1"), "ana-key")
    assert token.expires_at == now_s + 600 and keyed.expires_at == now_s + 2 * 3600  # API Gateway's 2 h otherwise
    assert token.key_id == "jwt:sub-1" and not token.expired(deps.clock.now_ms())
    deps.clock.advance(601)  # the token has expired; the table's TTL would delete the item only eventually
    n = len(deps.events.events)
    _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n))
    assert "ana-token" not in deps.push.sent and _types(deps, "ana-key") == ["offer"]
    assert deps.push.closed == ["ana-token"] and deps.connections.get("t1", "ana-token") is None
    assert (report.expired, report.gone, report.failed_event_ids) == (1, 1, set())


def test_a_watcher_whose_token_expired_gets_no_metrics_and_is_closed():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    now_s = deps.clock.now_ms() // 1000
    push.connect(deps, Identity(tenant_id="t1", role="supervisor", key_id="jwt:s", expires_at=now_s + 60), "sup-token")
    push.connect(deps, Identity(tenant_id="t1", role="supervisor", key_id="k_1"), "sup-key")
    deps.clock.advance(60)
    n = len(deps.events.events)
    c = contacts.create_contact(deps, "t1", NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, "t1", c.contact_id, "tok")
    applied = metrics.apply_records(deps, "shard-0", [
        SequencedEvent(event=e, shard_id="shard-0", sequence=pad_sequence(str(i + 1))) for i, e in enumerate(_events_since(deps, n))])
    report = push.push_queue_views(deps, [(a.update.tenant_id, metrics.view_of(deps, a.update.tenant_id, a.update.queue_id, a.item))
                                          for a in applied])
    assert "sup-token" not in deps.push.sent and deps.push.sent["sup-key"] and report.expired == 1
    assert deps.push.closed == ["sup-token"]


def test_a_failed_close_still_stops_the_pushes():
    """DeleteConnection refused (no permission, the endpoint down): the connection stays, ended, so nothing is
    pushed to it and the next delivery (or revoking again) closes it."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    lost, identity = _key(deps, "t1", "agent", "ana")
    push.connect(deps, identity, "ana-1")

    def refuse(connection_id):
        raise RuntimeError("AccessDenied")

    deps.push.close = refuse
    admin.revoke_api_key(deps, "t1", lost.key_id)
    assert deps.connections.get("t1", "ana-1").expired(deps.clock.now_ms())
    n = len(deps.events.events)
    _offer_to(deps, "t1")
    assert push.push_events(deps, _events_since(deps, n)).sent == 0 and "ana-1" not in deps.push.sent


def test_a_revoke_whose_sockets_could_not_be_looked_up_fails_and_its_retry_closes_them():
    """The key is revoked first (it must stop working whatever follows); the sockets are looked up after. A
    failed lookup fails the call, and the retry (a revoked key, revoked again) closes them: none are left open."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    lost, identity = _key(deps, "t1", "agent", "ana")
    push.connect(deps, identity, "ana-1")
    of_agent = deps.connections.of_agent

    def unreadable(*args):
        raise RuntimeError("ProvisionedThroughputExceeded")

    deps.connections.of_agent = unreadable
    with pytest.raises(RuntimeError):
        admin.revoke_api_key(deps, "t1", lost.key_id)
    assert deps.config.get_api_key("t1", lost.key_id).revoked_at is not None and deps.push.closed == []
    deps.connections.of_agent = of_agent
    admin.revoke_api_key(deps, "t1", lost.key_id)
    assert deps.push.closed == ["ana-1"] and deps.connections.get("t1", "ana-1") is None


def test_an_agent_s_offer_goes_to_its_newest_sockets_within_the_bound_and_older_ones_are_closed():
    """The push consumers serve every tenant: one agent's thousand sockets would slow everyone's offers. The newest
    MAX_SOCKETS_PER_AGENT get the offer; the older ones are closed and deleted (a reconnected desktop is the newest)."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    n_sockets = push.MAX_SOCKETS_PER_AGENT + 2
    for i in range(n_sockets):
        push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana", key_id="k_1"), f"ana-{i}")
        deps.clock.advance(1)
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob", key_id="k_2"), "bob-0")
    n = len(deps.events.events)
    _offer_to(deps, "t1")
    report = push.push_events(deps, _events_since(deps, n), push.PushCache())
    newest = {f"ana-{i}" for i in range(2, n_sockets)}
    assert {cid for cid, sent in deps.push.sent.items() if sent} == newest and report.sent == len(newest)
    assert sorted(deps.push.closed) == ["ana-0", "ana-1"]
    assert [c.connection_id for c in deps.connections.of_agent("t1", "ana")] == sorted(newest)
    assert deps.connections.get("t1", "bob-0") is not None  # another agent's audience is its own


def test_a_tenant_s_watchers_beyond_the_bound_are_closed_oldest_first(monkeypatch):
    monkeypatch.setattr(push, "MAX_WATCHERS_PER_TENANT", 2)
    deps = memory_dependencies()
    _tenant(deps, "t1")
    _tenant(deps, "t2")
    for i in range(3):
        push.connect(deps, Identity(tenant_id="t1", role="supervisor", key_id="k_s"), f"sup-{i}")
        deps.clock.advance(1)
    push.connect(deps, Identity(tenant_id="t2", role="supervisor", key_id="k_s"), "t2-sup")
    n = len(deps.events.events)
    for tenant_id in ("t1", "t2"):
        c = contacts.create_contact(deps, tenant_id, NewContact(channel=Channel.VOICE, queue_id="sales"))
        contacts.queue_and_route(deps, tenant_id, c.contact_id, "tok")
    applied = metrics.apply_records(deps, "shard-0", [
        SequencedEvent(event=e, shard_id="shard-0", sequence=pad_sequence(str(i + 1))) for i, e in enumerate(_events_since(deps, n))])
    push.push_queue_views(deps, [(a.update.tenant_id, metrics.view_of(deps, a.update.tenant_id, a.update.queue_id, a.item))
                                 for a in applied])
    assert {cid for cid, sent in deps.push.sent.items() if sent} == {"sup-1", "sup-2", "t2-sup"}
    assert deps.push.closed == ["sup-0"] and deps.connections.get("t1", "sup-0") is None


# --- what API Gateway will not carry --------------------------------------------------------------------------
def test_an_offer_too_large_for_a_websocket_message_is_sent_slim_and_says_so():
    """50 attributes of 1,024 CJK characters (what POST /contacts takes) made a 300 KB offer frame: API Gateway
    refuses PostToConnection's Data over 128 KB, so the desktop never got the offer (outside review, session 25)."""
    from ccaas.domain.push import MAX_MESSAGE_OUT_BYTES, fitted, frame_bytes, message

    contact = {"contact_id": "c1", "state": "OFFERED", "attributes": {f"k{i}": "語" * 1024 for i in range(50)}}
    body = message("offer", 0, {"contact": contact, "expires_at": "2026-12-05T00:00:00Z", "earlier_messages": []})
    slim = fitted(body)
    assert len(frame_bytes(body)) > MAX_MESSAGE_OUT_BYTES >= len(frame_bytes(slim))
    assert slim["payload"]["truncated"] is True and slim["payload"]["contact"]["contact_id"] == "c1"
    assert slim["payload"]["expires_at"] == "2026-12-05T00:00:00Z" and "attributes" not in slim["payload"]["contact"]
    small = message("offer", 0, {"contact": {"contact_id": "c2", "attributes": {"k": "語" * 1024}}})
    assert fitted(small) is small and "語".encode() in frame_bytes(small)  # UTF-8 as is: 3 bytes, not 6
    other = message("contact_state", 0, {"contact_id": "c3", "notes": "x" * 200_000})
    assert fitted(other)["payload"] == {"contact_id": "c3", "truncated": True}


def test_a_message_refused_for_good_is_dropped_and_a_failed_one_stops_the_batch_there():
    """A refusal (too large, malformed) is not retried: a retried record only repeated every later record's
    messages to other agents. A transient failure fails its record, and nothing after it is pushed in this
    invocation (the mapping redelivers from that record on: pushed now, they would arrive twice)."""
    from ccaas.domain.push import MessageRefused

    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob"), "bob-1")
    post, posted = deps.push.post, []

    def refusing_ana(connection_id, body):
        posted.append(connection_id)
        if connection_id == "ana-1":
            raise MessageRefused("PayloadTooLargeException")
        return post(connection_id, body)

    deps.push.post = refusing_ana
    n = len(deps.events.events)
    _offer_to(deps, "t1", "ana", "sales")
    _offer_to(deps, "t1", "bob", "support")
    report = push.push_events(deps, _events_since(deps, n))
    assert report.refused >= 1 and not report.failed_event_ids and _types(deps, "bob-1") == ["offer"]

    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="ana"), "ana-1")
    push.connect(deps, Identity(tenant_id="t1", role="agent", agent_id="bob"), "bob-1")
    deps.push.failing.add("ana-1")
    n, before = len(deps.events.events), 0
    _offer_to(deps, "t1", "ana", "sales")
    _offer_to(deps, "t1", "bob", "support")
    events = _events_since(deps, n)
    report = push.push_events(deps, events)
    ana_offer = next(e for e in events if e.type == "contact.offered" and e.payload["agent_id"] == "ana")
    assert report.failed_event_ids == {ana_offer.event_id}
    assert len(deps.push.sent.get("bob-1", [])) == before  # bob's offer waits for the redelivery


def test_the_api_gateway_channel_sends_utf8_and_names_a_refusal():
    from botocore.exceptions import ClientError

    from ccaas.adapters.aws.push import ApiGatewayPushChannel
    from ccaas.domain.push import MessageRefused

    class Client:
        class exceptions:  # noqa: N801 - botocore's shape
            GoneException = type("GoneException", (Exception,), {})

        def __init__(self):
            self.data = []

        def post_to_connection(self, ConnectionId, Data):  # noqa: N803 - botocore's names
            self.data.append(Data)
            if len(self.data) > 1:
                raise ClientError({"Error": {"Code": "PayloadTooLargeException", "Message": "too big"}}, "PostToConnection")

    client = Client()
    channel = ApiGatewayPushChannel(client)
    channel.post("c1", {"type": "offer", "payload": {"name": "語"}})
    assert "語".encode() in client.data[0]
    with pytest.raises(MessageRefused):
        channel.post("c1", {"type": "offer"})
    with pytest.raises(MessageRefused):  # over the limit: not even sent
        channel.post("c1", {"type": "offer", "payload": "x" * 200_000})
    assert len(client.data) == 2


def test_one_credentials_sockets_never_evict_the_other_supervisors():
    """500 sockets of one key (a wallboard reconnecting in a loop, a leaked key) took the tenant's 500 watcher slots
    and the 20 other supervisors got nothing (outside review, session 25)."""
    deps = memory_dependencies()
    _tenant(deps, "t1")
    for i in range(20):
        deps.clock.advance(1)
        push.connect(deps, Identity(tenant_id="t1", role="supervisor", key_id=f"k_sup{i}"), f"sup-{i}")
    for i in range(500):
        deps.clock.advance(1)
        push.connect(deps, Identity(tenant_id="t1", role="supervisor", key_id="k_wall"), f"wall-{i}")
    audience = push.watching(deps.connections, lambda: deps.push, "t1")
    assert {c.connection_id for c in audience if c.key_id != "k_wall"} == {f"sup-{i}" for i in range(20)}
    assert sorted(c.connection_id for c in audience if c.key_id == "k_wall") == sorted(f"wall-{i}" for i in range(480, 500))
    assert deps.connections.get("t1", "wall-0") is None  # the key's oldest are closed


def test_queue_views_stop_when_the_consumers_time_runs_short():
    deps = memory_dependencies()
    _tenant(deps, "t1")
    push.connect(deps, Identity(tenant_id="t1", role="admin", key_id="k_adm"), "adm")
    views = [("t1", metrics.realtime_queue_metrics(deps, "t1", q)) for q in ("sales", "support")]
    left = iter([True, False])
    report = push.push_queue_views(deps, views, keep_going=lambda: next(left))
    assert (report.sent, report.skipped) == (1, 1)
    assert [m["payload"]["queue_id"] for m in deps.push.sent["adm"]] == ["sales"]
