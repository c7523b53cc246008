"""Every path of statemachines/contact_lifecycle.asl.json, run by the local runtime's ASL engine with the
real handlers, driven through the HTTP API like a real client.

    AwaitAgent --(agent accepts)--> end                                        routed at once / after a wait
                                                                               (the contact's end starts post-contact)
    AwaitAgent --States.Timeout--> Recheck --wait--> AwaitAgent ...            a routing step / offer expired
    AwaitAgent --States.Timeout--> Recheck --ended--> end                      nobody answered in max_wait_s
    AwaitAgent --ContactAbandoned--> end                                       the customer hung up
    AwaitAgent --CallbackReached--> Recheck --follow--> RecordOriginal -> FollowCallback -> AwaitAgent

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
    assert states == ["AwaitAgent"], f"{states}: the happy path is one Standard transition"
    assert post_contact_started(runtime, tenant_id, cid)  # by the end of after-contact work, not by the lifecycle


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
    assert entered_states(execution_history(runtime, tenant_id, cid)) == ["AwaitAgent"]
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
    assert states == path("AwaitAgent", "Recheck", "AfterRecheck", "StartPostContact")
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
    assert entered_states(history) == path("AwaitAgent", "StartPostContact")
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
    assert entered_states(execution_history(runtime, tenant_id, cid)) == path("AwaitAgent", "StartPostContact")
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
    assert entered_states(execution_history(runtime, tenant_id, cid)) == path("AwaitAgent", "StartPostContact")
    status, agent = client.call("GET", "/agents/a0")
    assert agent["offers"] == [] and agent["activity"] == "AVAILABLE", agent


def put_policy(client, policy: dict) -> None:
    status, body = client.call("PUT", "/routing/policy", policy)
    assert status == 200, body


def test_a_routing_step_that_expires_with_no_event_widens_the_pool(runtime) -> None:
    """a0 (no billing skill) is available; the first step asks billing >= 4 for 2 s, which a1 (billing 5)
    could meet, but a1 is staffed on a break: the step is reachable, so it holds until it expires. No
    event happens then: the wait's timeout (the step's expiry) sends the workflow to Recheck, and the
    next AwaitAgent offers the contact under the wider step."""
    tenant_id, client = new_tenant(runtime, agents=2)
    put_policy(client, {"queues": {"q": {"steps": [{"condition": "billing>=4", "expiry_s": 2}]}}})
    expert = {"name": "Agent 1", "skills": {"billing": 5}, "queues": [{"queue_id": "q", "priority": 1}]}
    assert client.call("PUT", "/agents/a1", expert)[0] == 200
    assert client.call("PUT", "/agents/a1/status", {"status": "BREAK"})[0] == 200
    status, agent = client.call("GET", "/agents/a0")
    assert agent["skills"] == {}, agent  # no billing skill at all: only the expired step lets it take the contact
    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    cid = contact["contact_id"]
    wait_until(lambda: contact_state(client, cid) == "QUEUED", what="queued under the strict step")
    offered_to(client, "a0", cid)  # after ~2 s, with no event in between
    serve(client, "a0", cid)
    assert_succeeded(finished(runtime, tenant_id, cid))
    states = entered_states(execution_history(runtime, tenant_id, cid))
    assert states[:4] == ["AwaitAgent", "Recheck", "AfterRecheck", "AwaitAgent"], states
    assert states[-1] == "AwaitAgent", states  # answered under the wider step: the end


def test_an_offer_nobody_answers_is_reoffered_and_the_agent_set_missed(runtime) -> None:
    tenant_id, client = new_tenant(runtime, agents=2)
    put_policy(client, {"reservation": {"timeout_s": 3}})  # long enough for this test to accept a1's offer
    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    cid = contact["contact_id"]
    offered_to(client, "a0", cid)
    assert client.call("PUT", "/agents/a1/status", {"status": "AVAILABLE"})[0] == 200
    # a0 never answers: after the 3 s reservation the offer moves to a1 and a0 is set MISSED.
    offered_to(client, "a1", cid)
    status, a0 = client.call("GET", "/agents/a0")
    assert a0["status"] == "MISSED" and a0["offers"] == [], a0
    status, decisions = client.call("GET", f"/contacts/{cid}/routing")
    timeouts = [d for d in decisions if d.get("kind") == "reservation"]
    assert timeouts and timeouts[0]["data"]["failure"] == "timeout", decisions
    serve(client, "a1", cid)
    assert_succeeded(finished(runtime, tenant_id, cid))


def test_a_callback_keeps_its_place_and_becomes_a_callback_contact_when_reached(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    # One after the other: two contacts created back to back are queued in whichever order their workflows
    # reach the queue (seen once in CI: the second first), and this caller must be the one ahead.
    status, first = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    cid = first["contact_id"]
    wait_until(lambda: contact_state(client, cid) == "QUEUED", what="the first caller waiting")
    status, second = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    later = second["contact_id"]
    wait_until(lambda: contact_state(client, later) == "QUEUED", what="both waiting")
    status, body = client.call("POST", f"/contacts/{cid}/callback", {"phone_number": "+14155550177"})
    assert status == 200 and body["state"] == "CALLBACK_SCHEDULED" and body["callback"], body
    status, body = client.call("GET", f"/contacts/{cid}")
    assert body["wait"]["position"] == 1, body  # ahead of the later caller still on the line

    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    wait_until(lambda: contact_state(client, cid) == "COMPLETED", what="the callback reached")
    status, original = client.call("GET", f"/contacts/{cid}")
    callback_id = original["attributes"]["callback_contact_id"]
    status, callback = client.call("GET", f"/contacts/{callback_id}")
    assert callback["initiation_method"] == "CALLBACK" and callback["previous_contact_id"] == cid, callback
    assert callback["enqueued_at"] == original["enqueued_at"]  # kept its place
    offered_to(client, "a0", callback_id)
    serve(client, "a0", callback_id)

    ex = finished(runtime, tenant_id, cid)
    assert_succeeded(ex)
    states = entered_states(execution_history(runtime, tenant_id, cid))
    assert states[:5] == ["AwaitAgent", "Recheck", "AfterRecheck", "RecordOriginal", "FollowCallback"], states
    assert states[-2:] == ["FollowCallback", "AwaitAgent"], states  # the CALLBACK contact answered: the end
    assert post_contact_started(runtime, tenant_id, callback_id)
    # the later caller is next
    offered_to(client, "a0", later)


# --- transfers: each segment is a contact with its own lifecycle -------------------------------------
def two_queue_tenant(runtime):
    """a0 serves q, a1 serves q2."""
    tenant_id = f"wf-{uuid.uuid4().hex[:8]}"
    runtime.seed_tenant(TenantSeed(
        tenant_id=tenant_id, name="transfer test", time_zone="UTC",
        queues=(QueueSeed("q", "Queue", ("VOICE", "CHAT"), sl_threshold_s=20, max_wait_s=60),
                QueueSeed("q2", "Second", ("VOICE", "CHAT"), sl_threshold_s=20, max_wait_s=60)),
        agents=(AgentSeed("a0", "Agent 0", {}, (("q", 1),)), AgentSeed("a1", "Agent 1", {}, (("q2", 1),))),
    ))
    client = api(runtime, tenant_id)
    for agent_id in ("a0", "a1"):
        assert client.call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    offered_to(client, "a0", cid)
    assert client.call("POST", f"/agents/a0/contacts/{cid}/accept")[0] == 200
    return tenant_id, client, cid


def post_contact_started(runtime, tenant_id: str, contact_id: str) -> bool:
    """The contact's post-contact execution exists (named as the lifecycle's StartPostContact names it)."""
    sfn = runtime.client("stepfunctions")
    arn = runtime.state_machine_arn("AnalyticsPostContact").replace(":stateMachine:", ":execution:")
    arn += f":{tenant_id}-{contact_id}"[:81]

    def status() -> str | None:
        try:
            return sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            return None

    return wait_until(status, 20.0, what=f"the post-contact execution of {contact_id}") in ("RUNNING", "SUCCEEDED")


def transitions(runtime, tenant_id: str, *contact_ids: str) -> int:
    return sum(len(entered_states(execution_history(runtime, tenant_id, c))) for c in contact_ids)


def test_a_blind_transfer_starts_the_next_segments_lifecycle_and_costs_one_transition(runtime) -> None:
    tenant_id, client, cid = two_queue_tenant(runtime)
    status, segment = client.call("POST", f"/agents/a0/contacts/{cid}/transfer", {"to": {"queue_id": "q2"}, "note": "billing"})
    assert status == 200, segment
    nid = segment["contact_id"]
    offered_to(client, "a1", nid)  # routed by its own AwaitAgent, without polling
    serve(client, "a1", nid)
    status, old = client.call("POST", f"/agents/a0/contacts/{cid}/end-acw")
    assert status == 200 and old["state"] == "TRANSFERRED", old

    for contact_id in (cid, nid):
        assert_succeeded(finished(runtime, tenant_id, contact_id))
        assert entered_states(execution_history(runtime, tenant_id, contact_id)) == ["AwaitAgent"]
        assert post_contact_started(runtime, tenant_id, contact_id)
    # A plain contact takes 1 transition (test_routed_at_once); the transfer adds the segment's 1.
    assert transitions(runtime, tenant_id, cid, nid) == 1 + 1


def test_a_consult_that_becomes_a_conference_ends_both_lifecycles(runtime) -> None:
    tenant_id, client, cid = two_queue_tenant(runtime)
    status, leg = client.call("POST", f"/agents/a0/contacts/{cid}/consult", {"to": {"agent_id": "a1"}})
    assert status == 200 and leg["consult_of"] == cid, leg
    lid = leg["contact_id"]
    offered_to(client, "a1", lid)
    assert client.call("POST", f"/agents/a1/contacts/{lid}/accept")[0] == 200
    assert client.call("POST", f"/agents/a0/contacts/{cid}/consult/conference")[1]["conference_with"] == lid
    assert client.call("POST", f"/agents/a0/contacts/{cid}/complete")[1]["next_contact_id"] == lid  # a0 leaves
    assert client.call("POST", f"/agents/a0/contacts/{cid}/end-acw")[1]["state"] == "TRANSFERRED"
    assert client.call("POST", f"/agents/a1/contacts/{lid}/complete")[1]["state"] == "ACW"
    assert client.call("POST", f"/agents/a1/contacts/{lid}/end-acw")[1]["state"] == "COMPLETED"
    for contact_id in (cid, lid):
        assert_succeeded(finished(runtime, tenant_id, contact_id))
    assert transitions(runtime, tenant_id, cid, lid) == 1 + 1


def test_a_cancelled_consult_ends_the_legs_lifecycle(runtime) -> None:
    tenant_id, client, cid = two_queue_tenant(runtime)
    assert client.call("PUT", "/agents/a1/status", {"status": "BREAK"})[0] == 200
    status, leg = client.call("POST", f"/agents/a0/contacts/{cid}/consult", {"to": {"queue_id": "q2"}})
    assert status == 200, leg
    lid = leg["contact_id"]
    wait_until(lambda: contact_state(client, lid) == "QUEUED", what="the consult leg waiting in q2")
    back = client.call("POST", f"/agents/a0/contacts/{cid}/consult/cancel")[1]
    assert back["on_hold"] is False and back["consult_contact_id"] is None
    assert contact_state(client, lid) == "ABANDONED"
    assert_succeeded(finished(runtime, tenant_id, lid))
    serve_rest = client.call("POST", f"/agents/a0/contacts/{cid}/complete")
    assert serve_rest[1]["state"] == "ACW"
    assert client.call("POST", f"/agents/a0/contacts/{cid}/end-acw")[1]["state"] == "COMPLETED"
    assert_succeeded(finished(runtime, tenant_id, cid))
