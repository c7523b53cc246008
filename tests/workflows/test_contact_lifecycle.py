"""Every path of statemachines/contact_lifecycle.asl.json, run by the local runtime's ASL engine with the
real handlers, driven through the HTTP API like a real client.

    AwaitAgent --(agent accepts)--> AwaitCompletion --(ACW ends)--> end        routed at once / after a wait
    AwaitAgent --States.Timeout--> AbandonOnQueueTimeout --> end               nobody answered in max_wait_s
    AwaitAgent --ContactAbandoned--> Abandoned (Succeed)                       the customer hung up

Each path ends where the ASL sends it next (e.g. a post-contact step): `path()` follows the file's
`Next` edges from the last state named here, so the tests check the graph as written.
Each test has its own tenant, so tests never see each other's agents or contacts.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from local.seed import AgentSeed, QueueSeed, TenantSeed
from local.testing import api, entered_states, execution, execution_history, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ASL = json.loads((Path(__file__).resolve().parents[2] / "statemachines" / "contact_lifecycle.asl.json").read_text())


def path(*states: str) -> list[str]:
    """The states named, then whatever the ASL's Next chain visits after the last one until the end."""
    out = list(states)
    for name in states:
        assert name in ASL["States"], f"{name} is not a state of contact_lifecycle.asl.json"
    state = ASL["States"][out[-1]]
    while "Next" in state and state.get("Type") != "Choice":
        out.append(state["Next"])
        state = ASL["States"][state["Next"]]
    return out


@pytest.fixture(scope="module")
def runtime():
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()


def new_tenant(runtime, *, max_wait_s: int = 60, agents: int = 1):
    tenant_id = f"wf-{uuid.uuid4().hex[:8]}"
    runtime.seed_tenant(
        TenantSeed(
            tenant_id=tenant_id,
            name="workflow test",
            time_zone="UTC",
            queues=(QueueSeed("q", "Queue", ("VOICE", "CHAT"), sl_threshold_s=20, max_wait_s=max_wait_s),),
            agents=tuple(AgentSeed(f"a{i}", f"Agent {i}", {}, (("q", 1),)) for i in range(agents)),
        )
    )
    return tenant_id, api(runtime, tenant_id)


def contact_state(client, contact_id: str) -> str:
    status, body = client.call("GET", f"/contacts/{contact_id}")
    assert status == 200, body
    return body["state"]


def finished(runtime, tenant_id: str, contact_id: str, timeout_s: float = 20.0) -> dict:
    def probe():
        ex = execution(runtime, tenant_id, contact_id)
        return ex if ex["status"] != "RUNNING" else None

    return wait_until(probe, timeout_s, what=f"execution of {contact_id} to finish")


def assert_succeeded(ex: dict) -> None:
    assert ex["status"] == "SUCCEEDED", f"{ex['status']}: {ex.get('error')}: {str(ex.get('cause'))[:600]}"


def serve(client, agent_id: str, contact_id: str) -> dict:
    """Accept, talk, complete, end ACW: the agent's side of a contact."""
    status, body = client.call("POST", f"/agents/{agent_id}/contacts/{contact_id}/accept")
    assert status == 200 and body["state"] == "CONNECTED", body
    status, body = client.call("POST", f"/agents/{agent_id}/contacts/{contact_id}/complete")
    assert status == 200 and body["state"] == "ACW", body
    status, body = client.call("POST", f"/agents/{agent_id}/contacts/{contact_id}/end-acw")
    assert status == 200 and body["state"] == "COMPLETED", body
    return body


def offered_to(client, agent_id: str, contact_id: str) -> None:
    wait_until(
        lambda: contact_id in (client.call("GET", f"/agents/{agent_id}")[1].get("offers") or []),
        what=f"{contact_id} offered to {agent_id}",
    )


def test_routed_at_once(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    offered_to(client, "a0", cid)

    done = serve(client, "a0", cid)
    assert done["connected_at"] and done["disconnected_at"] and done["acw_ended_at"]

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    states = entered_states(execution_history(runtime, tenant_id, cid))
    assert states == path("AwaitAgent", "AwaitCompletion")
    assert len(states) <= 4, f"{len(states)} state transitions on the happy path (Standard workflow target: <= 4)"


def test_waited_then_routed(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    status, contact = client.call("POST", "/contacts", {"channel": "CHAT", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    wait_until(lambda: contact_state(client, cid) == "QUEUED", what="the contact waiting in the queue")
    assert execution(runtime, tenant_id, cid)["status"] == "RUNNING"

    # The agent logs in: the waiting contact is offered at once (no polling by the workflow).
    status, agent = client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})
    assert status == 200
    offered_to(client, "a0", cid)
    serve(client, "a0", cid)

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    assert entered_states(execution_history(runtime, tenant_id, cid)) == path("AwaitAgent", "AwaitCompletion")
    status, body = client.call("GET", f"/contacts/{cid}")
    assert body["queue_wait_s"] is not None and body["queue_wait_s"] > 0


def test_abandoned_on_queue_timeout(runtime) -> None:
    tenant_id, client = new_tenant(runtime, max_wait_s=1)
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    states = entered_states(execution_history(runtime, tenant_id, cid))
    assert states == path("AwaitAgent", "AbandonOnQueueTimeout")
    assert contact_state(client, cid) == "ABANDONED"
    # a late agent finds nothing to take
    status, agent = client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})
    assert status == 200 and agent["offers"] == []


def test_customer_abandons_via_the_api(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    wait_until(lambda: contact_state(client, cid) == "QUEUED", what="the contact waiting in the queue")

    status, body = client.call("POST", f"/contacts/{cid}/abandon")
    assert status == 200 and body["state"] == "ABANDONED", body

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    history = execution_history(runtime, tenant_id, cid)
    assert entered_states(history) == path("AwaitAgent", "Abandoned")
    failed = [e for e in history if e["type"] == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "ContactAbandoned"


def test_customer_abandons_before_the_contact_is_queued(runtime) -> None:
    """The hang-up can beat the workflow's first step: the step then fails the token itself."""
    tenant_id, client = new_tenant(runtime)
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    status, body = client.call("POST", f"/contacts/{cid}/abandon")
    assert status == 200 and body["state"] == "ABANDONED", body

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    assert entered_states(execution_history(runtime, tenant_id, cid)) == path("AwaitAgent", "Abandoned")
    assert contact_state(client, cid) == "ABANDONED"


def test_offered_contact_abandoned_frees_the_agent(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    cid = contact["contact_id"]
    offered_to(client, "a0", cid)
    status, body = client.call("POST", f"/contacts/{cid}/abandon")
    assert status == 200 and body["state"] == "ABANDONED", body
    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    assert entered_states(execution_history(runtime, tenant_id, cid)) == path("AwaitAgent", "Abandoned")
    status, agent = client.call("GET", "/agents/a0")
    assert agent["offers"] == [] and agent["activity"] == "AVAILABLE", agent
