"""The demo outbound campaign on the whole local backend: a supervisor starts it, functions/dial_campaign runs
its pacing ticks (invoked through moto's Lambda, as the one-minute schedule does, with a short loop), the
simulated carrier answers some calls, and answered calls reach the demo's agents as OUTBOUND contacts through
the ordinary routing; every attempt carries its checks, and the seeded DNC rows are blocked by rule."""
from __future__ import annotations

import json
import time

import pytest

from local import outbound_demo
from local.testing import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]
CAMPAIGN = outbound_demo.CAMPAIGN_ID


def _dial(runtime, loop_s: float) -> dict:
    """Pacing ticks every 0.5 s (the shortest the function takes) for `loop_s`: short loops, so the test
    stops dialing soon after the first answered call reached an agent."""
    arn = runtime.deployment.function_by_folder("dial_campaign").arn
    answer = runtime.client("lambda").invoke(FunctionName=arn, Payload=json.dumps(
        {"source": "test", "loop_s": loop_s, "tick_s": 0.5}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_the_demo_campaign_dials_with_checks_and_answered_calls_reach_agents(runtime) -> None:
    supervisor = api(runtime, "demo", role="supervisor")
    assert runtime.scheduler is not None and any(
        spec.target_arn == runtime.deployment.function_by_folder("dial_campaign").arn
        for spec in runtime.scheduler.schedules.values())
    status, campaign = supervisor.call("GET", f"/campaigns/{CAMPAIGN}")
    assert status == 200 and campaign["status"] == "draft"
    admin = api(runtime, "demo", role="admin")  # ringing at a twentieth of the carrier's times: the test waits less
    assert admin.call("PUT", "/settings/outbound", {**outbound_demo.DIALER, "ring_time_scale": 0.05})[0] == 200
    for agent_id in ("ana", "ben", "hugo"):  # they serve the campaign's queue (sales)
        assert api(runtime, "demo", agent_id=agent_id).call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})[0] == 200
    assert supervisor.call("POST", f"/campaigns/{CAMPAIGN}/start")[1]["status"] == "running"

    deadline = time.monotonic() + 28
    reached: list[dict] = []
    while time.monotonic() < deadline and not reached:
        _dial(runtime, loop_s=2)
        attempts = supervisor.call("GET", f"/campaigns/{CAMPAIGN}/attempts")[1]
        for a in attempts:
            if a["contact_id"]:
                contact = supervisor.call("GET", f"/contacts/{a['contact_id']}")[1]
                if contact.get("agent_id"):
                    reached.append(contact)
    assert attempts, "no attempt was made"
    for a in attempts:
        checks = {c["name"]: c["passed"] for c in a["attempt"]["checks"]}
        assert all(checks.values()) and {"calling_hours", "suppression", "consent", "reg_f_7_in_7"} <= set(checks)
    assert reached, "no answered call reached an agent"
    assert all(c["initiation_method"] == "OUTBOUND" and c["queue_id"] == "sales" for c in reached)
    assert reached[0]["agent_id"] in ("ana", "ben", "hugo")

    status, metrics = supervisor.call("GET", f"/campaigns/{CAMPAIGN}/metrics")
    assert status == 200 and metrics["attempts"] >= len(attempts) and metrics["connects"] >= 1
    assert metrics["blocks_by_rule"].get("suppression", 0) > 0  # the seeded DNC rows
    dnc = set(outbound_demo.dnc_numbers(outbound_demo.rows()))
    assert not dnc & {a["attempt"]["number"] for a in attempts}
