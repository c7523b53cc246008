"""A freed agent offered a contact that has waited long, on the real ASL (statemachines/contact_lifecycle.asl.json) run
by the local runtime's engine with the real handlers: the offer is made outside the workflow (the agent's status
change), while the workflow's timer is the long wait's safety net (a tenth of 2 hours: 12 minutes), which cannot move.
The offer wakes the workflow (AwaitAgent fails with OfferMade -> Recheck), so a missed offer is taken back at its
reservation deadline and the contact offered to the next agent; it held the agent RESERVED for the whole 12 minutes."""
from __future__ import annotations

import time
import uuid

import pytest

from ccaas.adapters.aws.dynamodb import DynamoStateStore
from ccaas.domain.models import Conflict
from local.seed import AgentSeed, QueueSeed, TenantSeed
from local.testing import api, entered_states, execution, execution_history, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

RESERVATION_S = 3
TWO_HOURS_MS = 2 * 3600 * 1000


def _store(runtime) -> DynamoStateStore:
    env = runtime.function_environment("route_contact")
    return DynamoStateStore(runtime.client("dynamodb"), env["CONTACTS_TABLE"], env["AGENTS_TABLE"])


def _backdate(store: DynamoStateStore, tenant_id: str, contact_id: str, by_ms: int) -> None:
    """The contact entered its queue `by_ms` earlier (a version-checked write: the workflow writes it too)."""
    for _ in range(20):
        c = store.get_contact(tenant_id, contact_id)
        try:
            store.save(contacts=[c.model_copy(update={"enqueued_at": c.enqueued_at - by_ms, "version": c.version + 1})])
            return
        except Conflict:
            time.sleep(0.05)
    raise AssertionError("could not backdate the contact")


def test_a_missed_offer_on_a_long_wait_frees_the_agent_at_its_reservation_deadline(runtime) -> None:
    tenant_id = f"wf-{uuid.uuid4().hex[:8]}"
    runtime.seed_tenant(TenantSeed(
        tenant_id=tenant_id, name="long wait offer", time_zone="UTC",
        queues=(QueueSeed("mail", "Mail", ("EMAIL",), sl_threshold_s=20, max_wait_s=86_400),),
        agents=(AgentSeed("a0", "Agent 0", {}, (("mail", 1),)), AgentSeed("a1", "Agent 1", {}, (("mail", 1),)))))
    client = api(runtime, tenant_id)
    policy = client.call("GET", "/routing/policy")[1]
    policy["reservation"]["timeout_s"] = RESERVATION_S
    policy["reservation"]["timeout"]["set_not_ready"] = False  # a0 stays AVAILABLE once the offer is taken back
    assert client.call("PUT", "/routing/policy", policy)[0] == 200
    status, body = client.call("POST", "/contacts", {"channel": "EMAIL", "queue_id": "mail"})
    assert status == 201, body
    cid = body["contact_id"]
    wait_until(lambda: client.call("GET", f"/contacts/{cid}")[1]["state"] == "QUEUED", what="the e-mail queued")

    store = _store(runtime)
    _backdate(store, tenant_id, cid, TWO_HOURS_MS)  # it has waited 2 hours: the next Recheck sets a 12-minute net
    wait_until(lambda: (store.get_contact(tenant_id, cid).check_at or 0) > time.time() * 1000 + 600_000, 30,
               what="the workflow waiting on the long wait's safety net")

    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200  # freed: offered it at once
    offered_at = time.monotonic()
    assert cid in client.call("GET", "/agents/a0")[1]["offers"]
    assert client.call("PUT", "/agents/a1/status", {"status": "AVAILABLE"})[0] == 200  # nothing to take yet

    # a0 never answers: within the reservation and a few seconds, a0 is free again and a1 is offered the e-mail.
    a1_offered = wait_until(lambda: cid in (client.call("GET", "/agents/a1")[1].get("offers") or []),
                            RESERVATION_S + 6, what="the missed offer taken back and the e-mail offered to a1")
    assert a1_offered and time.monotonic() - offered_at < RESERVATION_S + 6
    status, a0 = client.call("GET", "/agents/a0")
    assert a0["status"] == "AVAILABLE" and a0["offers"] == [], a0

    history = execution_history(runtime, tenant_id, cid)
    woken = [e for e in history if (e.get("taskFailedEventDetails") or {}).get("error") == "OfferMade"]
    assert len(woken) == 1, entered_states(history)  # one wake: the re-armed wait is the offer's reservation
    status, decisions = client.call("GET", f"/contacts/{cid}/routing")
    assert any(d.get("kind") == "reservation" and d["data"]["failure"] == "timeout" for d in decisions), decisions

    for step in ("accept", "complete", "end-acw"):
        status, body = client.call("POST", f"/agents/a1/contacts/{cid}/{step}")
        assert status == 200, body
    ex = wait_until(lambda: (lambda e: e if e["status"] != "RUNNING" else None)(execution(runtime, tenant_id, cid)),
                    20, what="the lifecycle ended")
    assert ex["status"] == "SUCCEEDED", ex
