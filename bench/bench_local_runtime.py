"""The local runtime end to end: time to ready, event-to-API freshness of live metrics (goal <= 1 s),
and AWS calls per completed contact (counted at the boto3 layer of the real handlers)."""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.table import print_table
from local.runtime import LocalRuntime
from local.testing import api, wait_until

CONTACTS = 30


def main() -> None:
    started = time.perf_counter()
    # Handler output goes to a file: the tables below stay readable.
    runtime = LocalRuntime(log_file=Path(tempfile.gettempdir()) / "bench-local-runtime.log").start(simulate=False)
    ready_s = time.perf_counter() - started
    try:
        demo = api(runtime, "demo")
        demo.call("PUT", "/agents/ana/status", {"status": "AVAILABLE"})
        runtime.call_counts.reset()
        freshness = []
        for _ in range(CONTACTS):
            before = demo.call("GET", "/queues/sales/metrics/realtime")[1]["offered"]
            cid = demo.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})[1]["contact_id"]
            wait_until(lambda: demo.call("GET", "/queues/sales/metrics/realtime")[1]["offered"] > before,
                       what="the queued contact in live metrics", timeout_s=10, interval_s=0.01)
            seen = time.time()
            # Freshness: from the event (the contact.queued moment, its enqueued_at) to the API showing it.
            enqueued = demo.call("GET", f"/contacts/{cid}")[1]["enqueued_at"]
            freshness.append(seen - datetime.fromisoformat(enqueued.replace("Z", "+00:00")).timestamp())
            wait_until(lambda: cid in (demo.call("GET", "/agents/ana")[1].get("offers") or []), what="the offer")
            for step in ("accept", "complete", "end-acw"):
                demo.call("POST", f"/agents/ana/contacts/{cid}/{step}")
        time.sleep(2)  # let the stream consumers finish the last events
        per = runtime.call_counts.per_completed(CONTACTS)
    finally:
        runtime.stop()
    q = statistics.quantiles(freshness, n=20)
    print_table("Local runtime", ["measure", "value", "goal"], [
        ["time to ready (s)", round(ready_s, 1), "-"],
        ["event -> API freshness p50 (s)", round(statistics.median(freshness), 3), "<= 1"],
        ["event -> API freshness p95 (s)", round(q[18], 3), "<= 1"],
        ["AWS calls per completed contact (all handlers)", round(per["calls_per_contact"], 1), "-"],
        ["  of which lifecycle (no GET polling/authorizer)", round(per["lifecycle_calls_per_contact"], 1), "-"],
        ["Lambda invocations per contact", round(per["invocations_per_contact"], 1), "-"],
    ])
    print_table("AWS calls per completed contact by operation (lifecycle)", ["operation", "calls"],
                [[k, round(v, 2)] for k, v in sorted(per["lifecycle_calls_by_operation"].items(), key=lambda kv: -kv[1])])


if __name__ == "__main__":
    main()
