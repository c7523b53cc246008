"""Push over WebSocket on the local runtime: reservation -> `offer` frame at the agent's socket (goal p95
<= 250 ms), a live metric change -> the supervisor's `queue_metrics` frame (goal p95 <= 1 s), and API
requests per completed contact of the simulation with push-driven agents against polling ones (goal <= 6,
from ~12). Latencies are frame arrival (stamped by the client's reader thread) minus the event's own
time from the API: the offer's `offered_at`, the contact's `enqueued_at` (as bench_local_runtime's freshness).
The offer's latency is also split at the frame's `at` (the offered event's time, stamped after the
reservation's write): reservation write, then event -> frame (stream, push consumer, PostToConnection).

    BENCH_PUSH_CONTACTS=200 BENCH_PUSH_ONLY=offers python -m bench push   # the offer latency alone, 200 offers
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.table import print_table
from local.runtime import LocalRuntime
from local.simulation import Simulation
from local.testing import api
from local.ws_client import PushSocket

CONTACTS = int(os.environ.get("BENCH_PUSH_CONTACTS", "50"))
ONLY = os.environ.get("BENCH_PUSH_ONLY", "")  # "offers": the unwatched offer latency only
SIMULATION_S = 60.0


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _wait_frame(sock: PushSocket, match: Any, timeout_s: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = sock.get(deadline - time.monotonic())
        if frame is not None and match(frame):
            return frame
    raise AssertionError("timed out waiting for a frame")


def _latencies(runtime: LocalRuntime, watched: bool, split: list[tuple[float, float]] | None = None) -> tuple[list[float], list[float]]:
    """(reservation -> offer frame, queued -> queue_metrics frame showing it), seconds, per contact; with
    `watched`, a supervisor's socket subscribed to the queue (the push consumer then also reads its view).
    `split` gets (reservation -> offered event, offered event -> frame) per offer."""
    intake, agent = api(runtime, "demo", "integration"), api(runtime, "demo", agent_id="ana")
    desktop = PushSocket(runtime.websocket_url, runtime.key("demo", agent_id="ana"))
    board = PushSocket(runtime.websocket_url, runtime.key("demo", "supervisor")) if watched else None
    if board is not None:
        board.send({"action": "subscribe", "queues": ["sales"]})
        _wait_frame(board, lambda f: f.get("type") == "subscribed")
    offered = api(runtime, "demo", "supervisor").call("GET", "/queues/sales/metrics/realtime")[1]["offered"]
    agent.call("PUT", "/agents/ana/status", {"status": "AVAILABLE"})
    to_offer, to_metrics = [], []
    try:
        for _ in range(CONTACTS):
            cid = intake.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})[1]["contact_id"]
            offered += 1
            frame = _wait_frame(desktop, lambda f: f.get("type") == "offer" and f["payload"]["contact"]["contact_id"] == cid)
            offered_at = _epoch(frame["payload"]["contact"].get("offered_at") or frame["at"])
            to_offer.append(frame["received"] - offered_at)
            if split is not None:
                split.append((_epoch(frame["at"]) - offered_at, frame["received"] - _epoch(frame["at"])))
            if board is not None:
                metrics = _wait_frame(board, lambda f, n=offered: f.get("type") == "queue_metrics"
                                      and f["payload"]["queue_id"] == "sales" and f["payload"]["offered"] >= n)
                enqueued = agent.call("GET", f"/contacts/{cid}")[1]["enqueued_at"]
                to_metrics.append(metrics["received"] - _epoch(enqueued))
            for step in ("accept", "complete", "end-acw"):
                agent.call("POST", f"/agents/ana/contacts/{cid}/{step}")
    finally:
        agent.call("PUT", "/agents/ana/status", {"status": "OFFLINE"})
        desktop.close()
        if board is not None:
            board.close()
    return to_offer, to_metrics


def _simulate(runtime: LocalRuntime, push: bool) -> dict[str, Any]:
    runtime.call_counts.reset()
    # Plain traffic (no transfers, consults or holds): the figure compares push with polling, not the mix.
    sim = Simulation(runtime, push=push, progress=False, seed=12, transfer_share=0, consult_share=0, escalate_share=0,
                     hold_share=0)
    sim.start()
    time.sleep(SIMULATION_S)
    sim.stop()
    summary = sim.summary()
    return {**summary["api_requests"], "aws": summary["aws_calls"]["calls_per_contact"],
            "lifecycle": summary["aws_calls"]["lifecycle_calls_per_contact"],
            "agents_push": summary["agents_push"], "created": summary["created"]}


def _fresh_runtime() -> LocalRuntime:
    # Handler output goes to a file: the tables below stay readable.
    return LocalRuntime(log_file=Path(tempfile.gettempdir()) / "bench-push.log").start(simulate=False)


def _ms(values: list[float], q: int) -> float:
    return round(1000 * (statistics.median(values) if q == 50 else statistics.quantiles(values, n=20)[18]), 1)


def _push_hop(runtime: LocalRuntime) -> dict[str, Any]:
    """The push consumer's poller: stream arrival -> invocation (ms) and its batches."""
    for poller in runtime.pollers:
        if "push" in poller.function_arn.lower().replace("_", ""):
            return poller.stats.as_dict()
    return {}


def _offers_only() -> None:
    runtime = _fresh_runtime()
    split: list[tuple[float, float]] = []
    try:
        alone, _ = _latencies(runtime, watched=False, split=split)
        hop = _push_hop(runtime)
    finally:
        runtime.stop()
    write, rest = [w for w, _ in split], [r for _, r in split]
    print_table(f"Push latency ({CONTACTS} offers, local runtime)", ["measure", "p50 (ms)", "p95 (ms)", "goal p95"], [
        ["reservation -> offer frame at the agent", _ms(alone, 50), _ms(alone, 95), "<= 250 ms"],
        ["  reservation -> offered event (the write)", _ms(write, 50), _ms(write, 95), ""],
        ["  offered event -> frame (stream, push, post)", _ms(rest, 50), _ms(rest, 95), ""],
        ["  of which stream arrival -> push invocation", hop.get("lag_p50_ms", "-"), hop.get("lag_p95_ms", "-"), ""],
    ])


def main() -> None:
    if ONLY == "offers":
        _offers_only()
        return
    # One runtime per simulation: contacts a run leaves queued or connected would carry over to the next.
    runtime = _fresh_runtime()
    try:
        alone, _ = _latencies(runtime, watched=False)
        to_offer, to_metrics = _latencies(runtime, watched=True)
        push = _simulate(runtime, push=True)
    finally:
        runtime.stop()
    runtime = _fresh_runtime()
    try:
        poll = _simulate(runtime, push=False)
    finally:
        runtime.stop()

    print_table(f"Push latency ({CONTACTS} contacts each, local runtime)", ["measure", "p50 (ms)", "p95 (ms)", "goal p95"], [
        ["reservation -> offer frame at the agent", _ms(alone, 50), _ms(alone, 95), "<= 250 ms"],
        ["  the same, a supervisor watching the queue", _ms(to_offer, 50), _ms(to_offer, 95), "<= 250 ms"],
        ["queued -> supervisor queue_metrics frame", _ms(to_metrics, 50), _ms(to_metrics, 95), "<= 1000 ms"],
    ])
    rows = []
    for name, r in (("polling GET /agents/{id}", poll), ("push (offer frames)", push)):
        rows.append([name, r["agents_push"], r["created"], r["completed"], r["requests"],
                     round(r["per_contact"], 1) if r["per_contact"] else "-", round(r["aws"], 1) if r["aws"] else "-",
                     round(r["lifecycle"], 1) if r["lifecycle"] else "-"])
    print_table(f"Simulation, {SIMULATION_S:.0f} s at 0.5 contacts/s: API requests per completed contact (goal <= 6)",
                ["agents", "on push", "created", "completed", "API requests", "per contact", "AWS calls/contact",
                 "of which lifecycle"], rows)
    if poll["per_contact"] and push["per_contact"]:
        print(f"\npush / polling: API requests per contact x{push['per_contact'] / poll['per_contact']:.2f}, "
              f"AWS calls per contact x{push['aws'] / poll['aws']:.2f}")


if __name__ == "__main__":
    main()
