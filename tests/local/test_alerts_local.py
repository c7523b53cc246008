"""Supervisor alerts on the whole local backend: the template's one-minute schedule (ticked by the local
scheduler) runs the sweep, which raises the time-based alert; acknowledging and the contact leaving the
queue take it through its life; the alerts bus exists (PutEvents succeeds)."""
from __future__ import annotations

import pytest

from local.testing import api, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]


def _sweep_schedule(runtime) -> str:
    sweep_arn = runtime.deployment.function_by_folder("sweep_alerts").arn
    (name,) = [n for n, spec in runtime.scheduler.schedules.items() if spec.target_arn == sweep_arn]
    assert runtime.scheduler.schedules[name].expression == "rate(1 minute)"
    return name


def test_the_scheduled_sweep_raises_and_resolves_a_long_wait_alert(runtime) -> None:
    acme = api(runtime, "acme")
    assert acme.call("PUT", "/alerts/rules", {"long_wait": {"threshold_s": 1}})[0] == 200
    status, contact = acme.call("POST", "/contacts", {"channel": "CHAT", "queue_id": "support"})
    assert status == 201
    wait_until(lambda: acme.call("GET", f"/contacts/{contact['contact_id']}")[1]["state"] == "QUEUED", what="queued")

    schedule = _sweep_schedule(runtime)

    def tick_then_look() -> list[dict]:
        runtime.scheduler.fire(schedule)  # what EventBridge Scheduler does every minute (asynchronous invoke)
        return [a for a in acme.call("GET", "/alerts")[1] if a["rule"] == "long_wait"]

    wait_until(tick_then_look, timeout_s=20, interval_s=0.5, what="the sweep's long_wait alert")
    (alert,) = [a for a in acme.call("GET", "/alerts")[1] if a["rule"] == "long_wait"]
    assert alert["queue_id"] == "support" and alert["details"]["contact_id"] == contact["contact_id"]
    assert api(runtime, "demo").call("GET", f"/alerts/{alert['alert_id']}")[0] == 404  # tenant-first

    status, acked = acme.call("POST", f"/alerts/{alert['alert_id']}/acknowledge")
    assert status == 200 and acked["status"] == "ACKNOWLEDGED"
    assert acme.call("POST", f"/contacts/{contact['contact_id']}/abandon")[0] == 200
    runtime.scheduler.fire(schedule)  # the stream consumer may already have resolved it; either way:
    resolved = wait_until(
        lambda: [a for a in acme.call("GET", "/alerts")[1] if a["alert_id"] == alert["alert_id"]] == []
        and acme.call("GET", f"/alerts/{alert['alert_id']}")[1],
        timeout_s=20, what="the alert resolved once nobody waits",
    )  # fmt: skip
    assert resolved["status"] == "RESOLVED" and resolved["resolution"] == "condition_cleared"
