"""Helpers for tests and benchmarks that drive a LocalRuntime (no pytest import here)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from local.simulation import ApiClient

T = TypeVar("T")


def api(runtime: Any, tenant: str, role: str | None = None, agent_id: str | None = None) -> ApiClient:
    """A client of `tenant` with its seeded key of `role` (or agent `agent_id`'s). Without either, each
    call uses the key of the role the route naturally serves (RoleClient): tests of behaviour call every
    route as its own caller; tests of access name the role."""
    keys = getattr(runtime, "role_keys", {}).get(tenant)
    if role is None and agent_id is None:
        return RoleClient(runtime.api_url, keys or {"admin": runtime.api_keys[tenant]})
    return ApiClient(runtime.api_url, runtime.key(tenant, role or "agent", agent_id))


class RoleClient(ApiClient):
    """Picks, per call, the key the route admits: admin wherever admin may, else supervisor, integration,
    then the agent named in the path (ccaas.api.access.natural_role)."""

    def __init__(self, api_url: str, keys: dict[str, str], timeout_s: float = 30.0) -> None:
        super().__init__(api_url, keys["admin"], timeout_s)
        self.keys = keys

    def key_for(self, method: str, path: str) -> str:
        from ccaas.api import access
        from ccaas.api.app import ROUTES

        found = access.matching(ROUTES, method, path.split("?")[0])
        roles = access.roles_of(found[0]) if found else None
        if not roles:
            return self.keys["admin"]
        role = access.natural_role(roles).value
        name = f"agent:{found[1].get('agent_id')}" if role == "agent" else role
        return self.keys.get(name, self.keys["admin"])

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return ApiClient(self.api_url, self.key_for(method, path), self.timeout_s).call(method, path, body)


def examples(thorough: int) -> int:
    """A property test's `max_examples`, given as the number a thorough run draws: scaled by the loaded
    Hypothesis profile (tests/conftest.py: "quick", the default of `make test`, draws 30 % of them;
    HYPOTHESIS_PROFILE=thorough all), at least 10. The property is the same; only how many cases try it."""
    from hypothesis import settings

    return max(10, round(thorough * settings.default.max_examples / 100))


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


def seed_history_records(table_name: str, records: Iterable[Any], *, account_id: str = "123456789012",
                         region: str = "us-east-1") -> int:
    """Bulk-seed contact records into the History table of the process's own moto (in-process mock_aws
    or the local runtime's server): the items `DynamoHistoryStore.put_record` would write, in its layout
    (local.demo_history.history_items), put straight into moto's table in one pass instead of one
    conditional UpdateItem round trip each. For tests whose subject is what reads history, not the write
    (that is tests/contract/test_history_store.py's). Returns the number of items written."""
    from ccaas.domain.history import HistoryEntry
    from local import demo_history

    records = list(records)
    if not records:
        return 0
    tenants = {r.tenant_id for r in records}
    if len(tenants) != 1:
        raise ValueError(f"one tenant per call, got {sorted(tenants)}")
    days = sorted({r.initiated_at for r in records})
    history = demo_history.GeneratedHistory(
        tenant_id=records[0].tenant_id, first_day=date.fromtimestamp(days[0] / 1000),
        last_day=date.fromtimestamp(days[-1] / 1000),
        entries=[HistoryEntry(tenant_id=r.tenant_id, contact_id=r.contact_id, record=r) for r in records],
        surveys={}, analyses={}, activities=[],
    )
    return demo_history.load_into_moto(table_name, history, account_id=account_id, region=region).items


def execution_arn(runtime: Any, tenant_id: str, contact_id: str, machine_prefix: str = "ContactLifecycle") -> str:
    """The lifecycle execution of a contact (named <tenant>-<contact id>, see the Step Functions adapter)."""
    sm = runtime.state_machine_arn(machine_prefix)
    name = f"{tenant_id}-{contact_id}"[:80]
    return sm.replace(":stateMachine:", ":execution:") + f":{name}"


def execution(runtime: Any, tenant_id: str, contact_id: str) -> dict[str, Any]:
    return runtime.client("stepfunctions").describe_execution(executionArn=execution_arn(runtime, tenant_id, contact_id))


def execution_history(runtime: Any, tenant_id: str, contact_id: str) -> list[dict[str, Any]]:
    return history_of(runtime, execution_arn(runtime, tenant_id, contact_id))


def wait_for_contacts_recorded(runtime: Any, tenant_id: str, contact_ids: Iterable[str], timeout_s: float = 30.0) -> None:
    """Until each contact's lifecycle execution and the post-contact workflow it starts last (named like it)
    have ended: what they write (history, the transcript's analysis) is then in place. A test asserting
    what a finished contact changed, or that it changed nothing, waits for this instead of a fixed sleep."""
    from botocore.exceptions import ClientError

    sfn = runtime.client("stepfunctions")

    def ended(machine_prefix: str, contact_id: str) -> bool:
        arn = execution_arn(runtime, tenant_id, contact_id, machine_prefix)
        try:
            return sfn.describe_execution(executionArn=arn)["status"] != "RUNNING"
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return False  # not started yet
            raise

    for contact_id in contact_ids:
        for machine in ("ContactLifecycle", "AnalyticsPostContact"):
            wait_until(lambda: ended(machine, contact_id), timeout_s, interval_s=0.05,
                       what=f"the {machine} execution of {contact_id} ended")


def history_of(runtime: Any, arn: str) -> list[dict[str, Any]]:
    """Every event of one execution, all pages."""
    sfn = runtime.client("stepfunctions")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn}
    while True:
        out = sfn.get_execution_history(**kwargs)
        events += out["events"]
        if not out.get("nextToken"):
            return events
        kwargs["nextToken"] = out["nextToken"]


def entered_states(history: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


@contextmanager
def recorded_requests(runtime: Any) -> Iterator[list[tuple[str, str]]]:
    """Every (method, raw path) the runtime's API server answers while inside, in order."""
    gateway = runtime.api_server.gateway
    seen: list[tuple[str, str]] = []
    handle = gateway.handle

    def recording(method: str, raw_path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((method, raw_path))
        return handle(method, raw_path, *args, **kwargs)

    gateway.handle = recording
    try:
        yield seen
    finally:
        gateway.handle = handle
