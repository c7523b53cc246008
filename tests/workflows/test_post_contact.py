"""statemachines/post_contact.asl.json end to end on the local runtime: the lifecycle's StartPostContact
starts the Express workflow, which records history (and analyses a chat) with the real handlers; the
result is read back through the HTTP API like a client would, KPIs included.

    RecordHistory --> HasTranscript --(chat messages)--> AnalyzeTranscript --> Done
                                    \\-----------------------------------------> Done
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from local.seed import AgentSeed, QueueSeed, TenantSeed
from local.testing import api, entered_states, execution, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]
POST_CONTACT = "AnalyticsPostContact"  # logical id prefix of the PostContact state machine


def new_tenant(runtime, *, max_wait_s: int = 60):
    tenant_id = f"pc-{uuid.uuid4().hex[:8]}"
    runtime.seed_tenant(
        TenantSeed(
            tenant_id=tenant_id, name="post-contact test", time_zone="UTC",
            queues=(QueueSeed("q", "Queue", ("VOICE", "CHAT"), sl_threshold_s=20, max_wait_s=max_wait_s),),
            agents=(AgentSeed("a0", "Agent 0", {}, (("q", 1),)),),
        )
    )  # fmt: skip
    return tenant_id, api(runtime, tenant_id)


def history_of(client, contact_id: str, *, analysed: bool = False) -> dict:
    def probe():
        status, body = client.call("GET", f"/contacts/{contact_id}/history")
        ready = status == 200 and body.get("record") and (body.get("analysis") or not analysed)
        return body if ready else None

    return wait_until(probe, 20.0, what=f"post-contact history of {contact_id}")


def post_contact_states(runtime, tenant_id: str, contact_id: str) -> list[str]:
    """The states the contact's post-contact execution entered, once it has ended (the history entry
    is written by its first state, so it can be read while the execution still runs)."""
    sfn = runtime.client("stepfunctions")
    arn = runtime.state_machine_arn(POST_CONTACT).replace(":stateMachine:", ":execution:") + f":{tenant_id}-{contact_id}"[:81]
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 20.0,
               what=f"the post-contact execution of {contact_id} to end")
    events = sfn.get_execution_history(executionArn=arn)["events"]
    return entered_states(events)


def test_a_chat_is_recorded_analysed_and_counted(runtime) -> None:
    tenant_id, client = new_tenant(runtime)
    assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
    status, contact = client.call("POST", "/contacts", {"channel": "CHAT", "queue_id": "q", "customer_id": "c-1"})
    assert status == 201, contact
    cid = contact["contact_id"]
    wait_until(lambda: cid in (client.call("GET", "/agents/a0")[1].get("offers") or []), what="the offer")
    assert client.call("POST", f"/agents/a0/contacts/{cid}/accept")[0] == 200
    for role, text in (("CUSTOMER", "my parcel never arrived and the tracking is stuck, card 4111 1111 1111 1111"),
                       ("AGENT", "I am sorry, I will check the delivery with the courier")):
        status, message = client.call("POST", f"/contacts/{cid}/messages", {"participant_role": role, "content": text})
        assert status == 201 and "4111" not in message["content"], message
    assert client.call("POST", f"/agents/a0/contacts/{cid}/complete")[0] == 200
    status, done = client.call("POST", f"/agents/a0/contacts/{cid}/end-acw")
    assert status == 200 and done["state"] == "COMPLETED"

    entry = history_of(client, cid, analysed=True)
    assert entry["record"]["final_state"] == "COMPLETED" and entry["record"]["agent_id"] == "a0"
    assert entry["analysis"]["segments"] == 2 and entry["analysis"]["reason"] == "delivery"  # classified from the chat
    status, analysis = client.call("GET", f"/contacts/{cid}/analysis")
    assert status == 200 and "[CARD]" in analysis["segments"][0]["text"]
    assert execution(runtime, tenant_id, cid)["status"] == "SUCCEEDED"
    assert post_contact_states(runtime, tenant_id, cid) == ["RecordHistory", "HasTranscript", "AnalyzeTranscript", "Done"]

    now = datetime.now(UTC)
    window = f"from={(now - timedelta(hours=1)).isoformat()}&to={(now + timedelta(hours=1)).isoformat()}"
    status, report = client.call("GET", f"/metrics/historical?{window.replace('+', '%2B')}&interval=day&group_by=channel")
    assert status == 200, report
    (row,) = report["rows"]
    assert (row["channel"], row["offered"], row["answered"], row["handled"]) == ("CHAT", 1, 1, 1)
    status, found = client.call("GET", f"/contacts?{window.replace('+', '%2B')}&reason=delivery")
    assert status == 200 and [c["contact_id"] for c in found] == [cid]


def test_an_abandoned_contact_is_recorded_without_analysis(runtime) -> None:
    tenant_id, client = new_tenant(runtime, max_wait_s=1)
    status, contact = client.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q"})
    assert status == 201, contact
    cid = contact["contact_id"]
    entry = history_of(client, cid)
    assert entry["record"]["final_state"] == "ABANDONED" and entry["analysis"] is None
    assert post_contact_states(runtime, tenant_id, cid) == ["RecordHistory", "HasTranscript", "Done"]
