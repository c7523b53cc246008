"""Helpers for tests and benchmarks that drive a LocalRuntime (no pytest import here)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from local.simulation import ApiClient

T = TypeVar("T")


def api(runtime: Any, tenant: str) -> ApiClient:
    return ApiClient(runtime.api_url, runtime.api_keys[tenant])


def wait_until(
    probe: Callable[[], T | None], timeout_s: float = 15.0, interval_s: float = 0.1, what: str = "condition"
) -> T:
    """Call `probe` until it returns something truthy; raise AssertionError with `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")
        time.sleep(interval_s)


def execution_arn(runtime: Any, tenant_id: str, contact_id: str, machine_prefix: str = "ContactLifecycle") -> str:
    """The lifecycle execution of a contact (named <tenant>-<contact id>, see the Step Functions adapter)."""
    sm = runtime.state_machine_arn(machine_prefix)
    name = f"{tenant_id}-{contact_id}"[:80]
    return sm.replace(":stateMachine:", ":execution:") + f":{name}"


def execution(runtime: Any, tenant_id: str, contact_id: str) -> dict[str, Any]:
    return runtime.client("stepfunctions").describe_execution(executionArn=execution_arn(runtime, tenant_id, contact_id))


def execution_history(runtime: Any, tenant_id: str, contact_id: str) -> list[dict[str, Any]]:
    sfn = runtime.client("stepfunctions")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn(runtime, tenant_id, contact_id)}
    while True:
        out = sfn.get_execution_history(**kwargs)
        events += out["events"]
        if not out.get("nextToken"):
            return events
        kwargs["nextToken"] = out["nextToken"]


def entered_states(history: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
