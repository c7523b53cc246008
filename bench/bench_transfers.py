"""Transfers on the local runtime: what moving a customer to another agent costs, per customer contact,
against a plain contact served by one agent (goal: at most +3 Step Functions state transitions per transfer).

Three runs of CONTACTS customer contacts each, one after the other, on a tenant of its own (agent a0
serves q1, a1 serves q2), through the HTTP API with each agent's key:
- plain: a0 accepts, completes, ends after-contact work;
- blind: a0 accepts and transfers to q2; a1 accepts the new segment and serves it; a0 ends its ACW
  (the first segment ends TRANSFERRED);
- consult -> conference -> leave: a0 consults q2 (customer on hold), a1 accepts the leg, a0 conferences,
  then leaves (its segment ends TRANSFERRED) and a1 serves the customer to the end.

Per customer contact: state transitions summed over every segment's lifecycle execution (and its
post-contact execution when its history can be read), AWS calls made by the handlers without read-only
GET polling and authorizer checks (local.call_counter, as bench_local_runtime), Lambda invocations, and
the API writes the clients sent. Offers are found with GET /agents/{id} (not counted: read-only).
"""
from __future__ import annotations

import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.table import print_table
from local.call_counter import READ_ONLY_TRIGGERS
from local.runtime import LocalRuntime
from local.seed import AgentSeed, QueueSeed, TenantSeed
from local.simulation import ApiClient
from local.testing import entered_states, execution, execution_history, recorded_requests, wait_until

CONTACTS = 20


class _Bench:
    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.tenant = f"bench-xfer-{uuid.uuid4().hex[:6]}"
        runtime.seed_tenant(TenantSeed(
            tenant_id=self.tenant, name="transfer bench", time_zone="UTC",
            queues=(QueueSeed("q1", "First", ("VOICE",), max_wait_s=120),
                    QueueSeed("q2", "Second", ("VOICE",), max_wait_s=120)),
            agents=(AgentSeed("a0", "Agent 0", {}, (("q1", 1),)), AgentSeed("a1", "Agent 1", {}, (("q2", 1),))),
        ))
        self.intake = ApiClient(runtime.api_url, runtime.key(self.tenant, "integration"))
        self.agents = {a: ApiClient(runtime.api_url, runtime.key(self.tenant, agent_id=a)) for a in ("a0", "a1")}
        for agent_id, client in self.agents.items():
            self.ok(client.call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"}))

    @staticmethod
    def ok(answer: tuple[int, Any], state: str | None = None) -> dict[str, Any]:
        status, body = answer
        if status not in (200, 201) or (state is not None and body.get("state") != state):
            raise AssertionError(f"unexpected answer {status}: {body}")
        return body

    def act(self, agent_id: str, contact_id: str, step: str, body: Any = None, state: str | None = None) -> dict[str, Any]:
        return self.ok(self.agents[agent_id].call("POST", f"/agents/{agent_id}/contacts/{contact_id}/{step}", body), state)

    def offered(self, agent_id: str, contact_id: str) -> None:
        client = self.agents[agent_id]
        wait_until(lambda: contact_id in (client.call("GET", f"/agents/{agent_id}")[1].get("offers") or []),
                   timeout_s=20, interval_s=0.05, what=f"{contact_id} offered to {agent_id}")

    def arrive(self) -> str:
        cid = self.ok(self.intake.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "q1"}))["contact_id"]
        self.offered("a0", cid)
        self.act("a0", cid, "accept", state="CONNECTED")
        return cid

    # -- the three ways a customer is served: each returns its segments' contact ids -----------------
    def plain(self) -> list[str]:
        cid = self.arrive()
        self.act("a0", cid, "complete", state="ACW")
        self.act("a0", cid, "end-acw", state="COMPLETED")
        return [cid]

    def blind(self) -> list[str]:
        cid = self.arrive()
        nid = self.act("a0", cid, "transfer", {"to": {"queue_id": "q2"}, "reason": "billing", "note": "bench"})["contact_id"]
        self.offered("a1", nid)
        self.act("a1", nid, "accept", state="CONNECTED")
        self.act("a0", cid, "end-acw", state="TRANSFERRED")
        self.act("a1", nid, "complete", state="ACW")
        self.act("a1", nid, "end-acw", state="COMPLETED")
        return [cid, nid]

    def conference(self) -> list[str]:
        cid = self.arrive()
        lid = self.act("a0", cid, "consult", {"to": {"queue_id": "q2"}, "reason": "second opinion"})["contact_id"]
        self.offered("a1", lid)
        self.act("a1", lid, "accept", state="CONNECTED")
        self.act("a0", cid, "consult/conference")
        self.act("a0", cid, "complete", state="ACW")  # a0 leaves the conference
        self.act("a0", cid, "end-acw", state="TRANSFERRED")
        self.act("a1", lid, "complete", state="ACW")
        self.act("a1", lid, "end-acw", state="COMPLETED")
        return [cid, lid]

    # -- measuring ------------------------------------------------------------------------------------
    def finished(self, contact_id: str) -> None:
        wait_until(lambda: execution(self.runtime, self.tenant, contact_id)["status"] != "RUNNING",
                   timeout_s=20, what=f"the lifecycle of {contact_id} to end")

    def transitions(self, contact_id: str) -> tuple[int, int | None]:
        """(lifecycle, post-contact or None when its history cannot be read) state transitions."""
        lifecycle = len(entered_states(execution_history(self.runtime, self.tenant, contact_id)))
        try:
            post = self._post_contact_history(contact_id)
        except Exception:  # noqa: BLE001 - an Express workflow's history may not be kept
            post = None
        return lifecycle, post

    def _post_contact_history(self, contact_id: str) -> int:
        from local.testing import execution_arn

        sfn = self.runtime.client("stepfunctions")
        arn = execution_arn(self.runtime, self.tenant, contact_id, "AnalyticsPostContact")
        return len(entered_states(sfn.get_execution_history(executionArn=arn)["events"]))

    def run(self, name: str, serve: Callable[[], list[str]]) -> dict[str, Any]:
        self.runtime.wait_for_stream_idle(timeout_s=20)
        counts = self.runtime.call_counts
        counts.reset()
        chains: list[list[str]] = []
        started = time.perf_counter()
        with recorded_requests(self.runtime) as seen:
            for _ in range(CONTACTS):
                chains.append(serve())
            for chain in chains:
                for contact_id in chain:
                    self.finished(contact_id)
            self.runtime.wait_for_stream_idle(timeout_s=20)
        elapsed = time.perf_counter() - started
        life = sum(entered for chain in chains for entered, _ in map(self.transitions, chain))
        posts = [post for chain in chains for _, post in map(self.transitions, chain)]
        per = counts.per_completed(CONTACTS)
        errors = sum(counts.invocation_errors().values())
        return {
            "name": name,
            "segments": sum(len(c) for c in chains) / CONTACTS,
            "transitions": life / CONTACTS,
            "post_transitions": None if any(p is None for p in posts) else sum(posts) / CONTACTS,  # type: ignore[arg-type]
            "calls": per["lifecycle_calls_per_contact"],
            "by_operation": per["lifecycle_calls_by_operation"],
            "by_trigger": {t: n for t, n in per["calls_by_trigger"].items() if t not in READ_ONLY_TRIGGERS},
            "invocations": per["lifecycle_invocations_per_contact"],
            "writes": sum(1 for method, _ in seen if method != "GET") / CONTACTS,
            "function_errors": errors,
            "seconds": elapsed,
        }


def _fresh_runtime() -> LocalRuntime:
    # Handler output goes to a file: the tables below stay readable.
    return LocalRuntime(log_file=Path(tempfile.gettempdir()) / "bench-transfers.log").start(simulate=False)


def main() -> None:
    runtime = _fresh_runtime()
    try:
        bench = _Bench(runtime)
        results = [bench.run("plain (one agent)", bench.plain),
                   bench.run("blind transfer", bench.blind),
                   bench.run("consult -> conference -> leave", bench.conference)]
    finally:
        runtime.stop()
    plain = results[0]
    rows = []
    for r in results:
        rows.append([
            r["name"], round(r["segments"], 2), round(r["transitions"], 2),
            f"{r['transitions'] - plain['transitions']:+.2f}",
            "-" if r["post_transitions"] is None else round(r["post_transitions"], 2),
            round(r["calls"], 1), f"x{r['calls'] / plain['calls']:.2f}",
            round(r["invocations"], 1), f"x{r['invocations'] / plain['invocations']:.2f}",
            round(r["writes"], 1), r["function_errors"], round(r["seconds"], 1),
        ])
    print_table(
        f"Per customer contact ({CONTACTS} each, local runtime): a transfer's cost against a plain contact "
        "(goal: <= +3 lifecycle transitions)",
        ["served", "segments", "SFN transitions", "vs plain", "post-contact transitions", "AWS calls",
         "vs plain", "Lambda invocations", "vs plain", "API writes", "function errors", "seconds"],
        rows,
    )
    triggers = Counter[str]()
    for r in results:
        triggers.update(r["by_trigger"])
    print_table(
        "AWS calls per customer contact by trigger (aws:kinesis = the stream consumers, invoke = the lifecycle's steps)",
        ["trigger", *(r["name"] for r in results), "blind / plain"],
        [[t, *(round(r["by_trigger"].get(t, 0.0), 1) for r in results),
          f"x{results[1]['by_trigger'].get(t, 0.0) / plain['by_trigger'][t]:.2f}" if plain["by_trigger"].get(t) else "-"]
         for t, _ in sorted(triggers.items(), key=lambda kv: -kv[1])],
    )
    ops = Counter[str]()
    for r in results:
        ops.update(r["by_operation"])
    print_table(
        "AWS calls per customer contact by operation (handlers, without GET polling and authorizer)",
        ["operation", *(r["name"] for r in results), "blind - plain"],
        [[op, *(round(r["by_operation"].get(op, 0.0), 2) for r in results),
          f"{results[1]['by_operation'].get(op, 0.0) - plain['by_operation'].get(op, 0.0):+.2f}"]
         for op, _ in sorted(ops.items(), key=lambda kv: -kv[1])],
    )
    if any(r["function_errors"] for r in results):
        print(f"\nfunction errors (invocations that raised): see {tempfile.gettempdir()}/bench-transfers.log")


if __name__ == "__main__":
    main()
