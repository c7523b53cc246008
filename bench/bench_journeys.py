"""Journey tests at volume on the local runtime: 1,000 journeys of the demo suite (journeys/demo.json)
through the in-process entry points (local.journeys.RuntimeEntryPoints: the real API and the real
contact-flow Lambda) on the sandbox tenant.

The IVR journeys (flow actions only: identify, hours, route, wait_info) run on WORKERS threads, as many
callers reaching the flow at once; the journeys that create contacts and have the test agent answer them
share one test agent, so they run one after the other (API_JOURNEYS of them, included in the 1,000).
Prints the total time, journeys per second, failures, and the p50 / p95 / p99 / max latency per step action
(nearest rank, as `python -m local.journeys load` prints them).
JOURNEYS=N overrides the count.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.table import print_table
from ccaas.domain.journeys import parse_suite
from ccaas.usecases.journeys import run_journey
from local.journeys import percentile, prepare_sandbox
from local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = int(os.environ.get("JOURNEYS", "1000"))
API_JOURNEYS = 30
WORKERS = 8


_pct = percentile


def main() -> None:
    suite = parse_suite(json.loads((ROOT / "journeys" / "demo.json").read_text()))
    ivr = [j for j in suite.journeys if all(s.kind == "flow" for s in j.steps)]
    api = [j for j in suite.journeys if any(s.kind == "api" for s in j.steps)]
    n_api = min(API_JOURNEYS, JOURNEYS // 10)
    plan_ivr = [ivr[i % len(ivr)] for i in range(JOURNEYS - n_api)]
    plan_api = [api[i % len(api)] for i in range(n_api)]
    with LocalRuntime(capture_handler_output=True) as runtime:
        entry = prepare_sandbox(runtime)
        run_journey(entry, ivr[0])  # warm the flow path once (not counted)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            ivr_future = pool.map(lambda spec: run_journey(entry, spec), plan_ivr)
            api_results = [run_journey(entry, spec) for spec in plan_api]
            results = [*ivr_future, *api_results]
        total_s = time.perf_counter() - started
    failed = [r for r in results if not r.passed]
    per_action: dict[str, list[float]] = {}
    for r in results:
        for s in r.steps:
            per_action.setdefault(f"{s.kind}:{s.action}", []).append(s.latency_ms)
    print_table(f"{len(results)} journeys on the local runtime ({len(plan_ivr)} IVR on {WORKERS} threads, "
                f"{len(plan_api)} with contacts one at a time)",
                ["journeys", "failed", "total s", "journeys/s", "IVR journey p50 ms", "API journey p50 ms"],
                [[len(results), len(failed), round(total_s, 1), round(len(results) / total_s, 1),
                  round(_pct([r.total_ms for r in results if r.journey in {j.name for j in ivr}], 0.5), 1),
                  round(_pct([r.total_ms for r in api_results], 0.5), 1)]])
    print_table("latency per step", ["step", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [[k, len(v), round(_pct(v, 0.5), 1), round(_pct(v, 0.95), 1), round(_pct(v, 0.99), 1), round(max(v), 1)]
                 for k, v in sorted(per_action.items())])
    if failed:
        print("failed:", "; ".join(f"{r.journey} at {r.failed_step}: {r.failure}" for r in failed[:5]))


if __name__ == "__main__":
    main()
