"""A busy day on the local runtime: the simulation at ~3 contacts/s with 60 agents for BUSY_DAY_S seconds
(default 600), one process. Prints completed contacts per minute, the process RSS at start/end (and per
completed contact), the service level achieved next to Erlang C's (and Erlang A's) prediction for the same
staffing, and whether the simulation fell behind.

`.venv/bin/python -m bench busy_day`; BUSY_DAY_S=120 for a short run. Also BUSY_DAY_RATE (arrivals/s,
default 3) and BUSY_DAY_AGENTS (default 60). The runtime runs as `python -m local` does: stream consumers
read a shard once a second as Lambda does (BUSY_DAY_STREAM_READ_S=0: as soon as a put lands), the oldest
finished Step Functions executions past 100 per state machine are forgotten, free memory is handed back to
the OS every 30 s (BUSY_DAY_RELEASE_S; local/README.md), 4 execution environments per function and 8 for
the API (BUSY_DAY_ENVIRONMENTS, BUSY_DAY_API_ENVIRONMENTS). The last table splits the process's CPU by
function (each invocation's thread CPU: the handler and moto's work on its AWS calls); the rest is the
runtime (API server, stream pollers, Step Functions' engine, the simulated people).

Staffing: a tenant "busy" with the demo tenant's queues and BUSY_DAY_AGENTS agents that all serve every
queue with every skill (one pool: what Erlang C models). The simulation's own defaults do the rest: talk
U(3, 8) s, ACW U(1, 2) s, 10 % holds of U(1, 3) s, patience Exp(20 s), 15 % blind transfers, 5 %
consults, 3 % escalations. Erlang's arrival rate is the *segments* agents accepted per second (moves add
segments), AHT the simulation's mean handle time per segment: talk + ACW + the hold share's hold. Erlang C
treats each agent as one server (chat and email agents may hold several contacts at once here), so its
service level is a lower bound.

Service level (DOMAIN.md's default, the definition `erlang_a_metrics` predicts): first segments answered
within 20 s ÷ (answered + abandoned after 20 s), as customers waited (POST /contacts answered -> the accept
answered: what patience runs against); also a stricter figure that counts every abandon (within 20 s too)
against it, on that clock and by the product's queue wait; the live metrics' own figure is printed next to
them. "Fell behind" includes the customers' service level more than 5 points under Erlang
A's (lag before the queue: starting the workflow, routing, the offer reaching its agent).
"""
from __future__ import annotations

import dataclasses
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.table import print_table

THRESHOLD_S = 20.0  # the demo queues' SL threshold (billing: 60 s; the whole pool is judged at 20 s)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def busy_tenant(agents: int) -> Any:
    from local.seed import DEMO, AgentSeed

    queues = tuple((q.queue_id, 1) for q in DEMO.queues)
    skills = {"sales": 5, "support": 5, "billing": 5, "language:en": 5}
    return dataclasses.replace(
        DEMO,
        tenant_id="busy",
        name="Busy Day",
        agents=tuple(AgentSeed(f"agent{i:03d}", f"Agent {i:03d}", skills, queues) for i in range(agents)),
        customers=(),
        connect_instance_arn=None,
        connect_queue_arns={},
    )


def main() -> None:
    from ccaas.domain.staffing import erlang_a_metrics, erlang_c_metrics
    from local.runtime import LocalRuntime
    from local.simulation import Simulation

    duration_s = _env_float("BUSY_DAY_S", 600.0)
    rate = _env_float("BUSY_DAY_RATE", 3.0)
    n_agents = int(_env_float("BUSY_DAY_AGENTS", 60))
    log = Path(tempfile.gettempdir()) / "bench-busy-day.log"
    started = time.perf_counter()
    inprocess = os.environ.get("BUSY_DAY_INPROCESS", "1") != "0"  # 0: the runtime's AWS calls over HTTP
    from local.__main__ import (
        API_ENVIRONMENTS,
        EVENT_DEDUP_TTL_S,
        FINISHED_EXECUTIONS_KEPT,
        FUNCTION_ENVIRONMENTS,
        RELEASE_MEMORY_EVERY_S,
        STREAM_READ_INTERVAL_S,
        TTL_SWEEP_EVERY_S,
    )

    # As `make run` runs: finished Step Functions executions past a bound are forgotten (moto patch 15), stream
    # consumers read a shard once a second as Lambda does (BUSY_DAY_STREAM_READ_S=0: as soon as a put lands).
    read_s = _env_float("BUSY_DAY_STREAM_READ_S", STREAM_READ_INTERVAL_S)
    environments = int(_env_float("BUSY_DAY_ENVIRONMENTS", FUNCTION_ENVIRONMENTS))  # per function (1: as before)
    runtime = LocalRuntime(log_file=log, inprocess_aws=inprocess, finished_executions_kept=FINISHED_EXECUTIONS_KEPT,
                           stream_read_interval_s=read_s, function_environments=environments,
                           api_environments=int(_env_float("BUSY_DAY_API_ENVIRONMENTS", API_ENVIRONMENTS)),
                           # free memory handed back to the OS as `make run` does (BUSY_DAY_RELEASE_S=0: never)
                           release_memory_every_s=_env_float("BUSY_DAY_RELEASE_S", RELEASE_MEMORY_EVERY_S) or None,
                           # DynamoDB's TTL as `make run` emulates it (BUSY_DAY_TTL_SWEEP_S=0: never)
                           ttl_sweep_every_s=_env_float("BUSY_DAY_TTL_SWEEP_S", TTL_SWEEP_EVERY_S) or None,
                           event_dedup_ttl_s=EVENT_DEDUP_TTL_S,
                           ).start(simulate=False)
    rows: list[list[Any]] = []
    try:
        tenant = busy_tenant(n_agents)
        runtime.seed_tenant(tenant)
        ready_s = time.perf_counter() - started
        # agents= : the simulation looks agents up in local.seed.TENANTS, where "busy" is not.
        sim = Simulation(runtime, tenant="busy", rate_per_s=rate, agents=[a.agent_id for a in tenant.agents],
                         progress=False, seed=17)
        gc.collect()
        rss_start = rss_mb()
        from local import lambda_runtime

        lambda_runtime.STATS.reset()  # the run's invocations, not the seed's and warm-up's
        t0 = time.monotonic()
        cpu0 = time.process_time()  # every thread's CPU: the robust figure on a shared machine
        cpu_last = cpu0
        sim.start()
        last = {"completed": 0, "created": 0, "abandoned": 0}
        minute = 0
        while True:
            elapsed = time.monotonic() - t0
            if elapsed >= duration_s:
                break
            time.sleep(min(60.0 * (minute + 1), duration_s) - elapsed)
            minute += 1
            with sim._lock:  # noqa: SLF001 - a consistent snapshot of the counters
                now = {"completed": sim.stats.completed, "created": sim.stats.created, "abandoned": sim.stats.abandoned}
            live = _live(sim)
            cpu_now = time.process_time()
            span = min(60.0 * minute, duration_s) - 60.0 * (minute - 1)
            row = [minute, round(span), now["created"] - last["created"], now["completed"] - last["completed"],
                   round((now["completed"] - last["completed"]) * 60.0 / span, 1), now["abandoned"] - last["abandoned"],
                   live.get("in_queue", "?"), _backlog(sim), round(rss_mb()),
                   round((cpu_now - cpu_last) / span, 2),
                   round((cpu_now - cpu_last) / (now["completed"] - last["completed"]), 3)
                   if now["completed"] > last["completed"] else "-"]
            cpu_last = cpu_now
            rows.append(row)
            print("  ".join(str(v) for v in row), flush=True)
            last = now
        arrivals_s = time.monotonic() - t0
        backlog_at_end = _backlog(sim)
        live_at_end = _live(sim)
        # Agents finish what is there (at most 30 s), then the numbers are taken.
        sim.stop_arrivals()
        drain_deadline = time.monotonic() + 30
        while time.monotonic() < drain_deadline and sim.stats.connected_now > 0:
            time.sleep(0.5)
        sim.stop()
        cpu_s = time.process_time() - cpu0
        gc.collect()
        rss_end = rss_mb()
        try:
            summary = sim.summary()
        except Exception as exc:  # noqa: BLE001 - an overloaded API times out: keep the counters
            print(f"summary's live reads failed ({exc!r}): counters only", flush=True)
            summary = {"completed": sim.stats.completed, "created": sim.stats.created,
                       "abandoned_by_customer": sim.stats.abandoned, "create_errors": sim.stats.create_errors,
                       "api_errors": sim.stats.api_errors, "median_wait_s": None, "median_answer_wait_s": None,
                       "aws_calls": {}}
        functions = lambda_runtime.STATS.snapshot()
        releaser = runtime.memory_releaser
        collections = (releaser.collections, releaser.collect_s, releaser.longest_collect_s) if releaser else None
        expired = runtime.ttl_sweeper.deleted if runtime.ttl_sweeper else "off"
        with sim._lock:  # noqa: SLF001
            waits = list(sim.stats.waits_s)
            answer_waits = list(sim.stats.answer_waits_s)
            abandon_waits = list(sim.stats.abandon_waits_s)
            accepted = sim.stats.accepted
    finally:
        runtime.stop()

    print_table("Completed contacts per minute", ["minute", "span s", "arrived", "completed", "completed/min",
                                                  "abandoned", "in queue (live)", "arrivals backlog", "RSS MB",
                                                  "CPU cores busy", "CPU s / completed"], rows)

    completed = summary["completed"]
    created = summary["created"]
    abandoned = summary["abandoned_by_customer"]
    expected_arrivals = rate * arrivals_s
    growth = rss_end - rss_start
    print_table("Memory (process RSS)", ["measure", "value"], [
        ["RSS at start (MB, after deploy + seed)", round(rss_start, 1)],
        ["RSS at end (MB, after drain + gc)", round(rss_end, 1)],
        ["growth (MB)", round(growth, 1)],
        ["completed contacts", completed],
        ["growth per completed contact (MB)", round(growth / completed, 3) if completed else "-"],
        # the first minute's one-off (first use: imports, clients, sockets, threads) apart from what each minute adds
        ["growth in the first minute (MB)", round(rows[0][8] - rss_start, 1) if rows else "-"],
        ["growth a minute after the first (MB/min)",
         round((rows[-1][8] - rows[0][8]) * 60.0 / sum(r[1] for r in rows[1:]), 1) if len(rows) > 1 else "-"],
        # local.ttl: DynamoDB's TTL, emulated (the event de-duplication records live EVENT_DEDUP_TTL_S here)
        ["items deleted by the TTL sweep", expired],
        # local.memory_release: a full collection before each trim (cycles freed, e.g. finished executions)
        ["releaser's full collections / their CPU s / longest pause s",
         f"{collections[0]} / {collections[1]:.2f} / {collections[2]:.3f}" if collections else "-"],
    ])

    # Service level achieved (_service_level), on two clocks: the product's queue wait (queued -> accepted) and the customer's (POST /contacts answered ->
    # accepted: what patience runs against, so what Erlang A predicts). A gap between them is lag before the
    # queue (starting the workflow, routing, the offer reaching the agent): the runtime falling behind.
    sl_achieved = _service_level(waits, abandoned)
    sl_customers = _service_level(answer_waits, abandoned)
    # DOMAIN.md's default: abandons within the threshold leave the denominator (Erlang A's figure is that)
    abandoned_late = sum(1 for w in abandon_waits if w > THRESHOLD_S) + max(0, abandoned - len(abandon_waits))
    sl_domain = _service_level(answer_waits, abandoned_late)
    aht = _mean_handle_s(sim)
    seg_rate = accepted / arrivals_s
    c = erlang_c_metrics(n_agents, arrival_rate=seg_rate, aht_seconds=aht, threshold_seconds=THRESHOLD_S)
    a = erlang_a_metrics(n_agents, arrival_rate=seg_rate, aht_seconds=aht, patience_seconds=sim.mean_patience_s,
                         threshold_seconds=THRESHOLD_S)
    # The same staffing at the rate asked for (segments per customer as measured): what the runtime owed.
    asked_rate = rate * (accepted / created if created else 1.0)
    c_asked = erlang_c_metrics(n_agents, arrival_rate=asked_rate, aht_seconds=aht, threshold_seconds=THRESHOLD_S)
    live_sl = live_at_end.get("service_level")
    print_table(f"Service level ({THRESHOLD_S:.0f} s) achieved vs predicted for {n_agents} agents", ["measure", "value"], [
        ["segments accepted / s (Erlang's arrival rate)", round(seg_rate, 2)],
        ["AHT per segment (s, simulation's means)", round(aht, 2)],
        ["offered load (Erlangs)", round(c.offered_load, 1)],
        ["Erlang C: P(wait)", round(c.p_wait, 4)],
        ["Erlang C: service level", round(c.service_level, 4)],
        ["Erlang A (patience %.0f s): service level" % sim.mean_patience_s, round(a.service_level, 4)],
        [f"Erlang C at the asked {rate:g}/s ({c_asked.offered_load:.1f} Erlangs): service level",
         round(c_asked.service_level, 4)],
        ["achieved, DOMAIN.md's default, as customers waited (Erlang A's definition)", round(sl_domain, 4)],
        ["stricter: every abandon counted against it, as customers waited", round(sl_customers, 4)],
        ["stricter, by the product's queue wait (queued -> accepted)", round(sl_achieved, 4)],
        ["achieved (live metrics, all queues)", "-" if live_sl is None else round(live_sl, 4)],
        ["median wait as customers waited (s)", _round(summary.get("median_answer_wait_s"))],
        ["median queue wait (s)", _round(summary["median_wait_s"])],
        ["abandoned by customers (of them within 20 s)", f"{abandoned} ({abandoned - abandoned_late})"],
    ])

    # Where invocations waited for a free execution environment (local.lambda_runtime): lag before the queue.
    busiest = sorted(functions.items(), key=lambda kv: -kv[1]["invocations"] * kv[1]["avg_queued_ms"])[:6]
    print_table("Invocations waiting for an execution environment (the run)",
                ["function", "invocations", "avg ms", "avg queued ms", "max queued ms"],
                [[name.removeprefix("Ccaas-")[:40], f["invocations"], f["avg_ms"], f["avg_queued_ms"], f["max_queued_ms"]]
                 for name, f in busiest])

    last_rate = rows[-1][4] / 60.0 if rows else 0.0
    behind = []
    if created + summary["create_errors"] < 0.9 * expected_arrivals:
        behind.append(f"arrivals: {created} created of ~{expected_arrivals:.0f} expected")
    if backlog_at_end > rate * 5:
        behind.append(f"{backlog_at_end} arrivals waiting for a customer thread at the end")
    if isinstance(live_at_end.get("in_queue"), int) and live_at_end["in_queue"] > max(10, n_agents * 0.5):
        behind.append(f"{live_at_end['in_queue']} contacts in queue at the end")
    if sl_domain < a.service_level - 0.05:
        behind.append(f"service level {sl_domain:.0%} as customers waited, Erlang A predicts {a.service_level:.0%} "
                      f"(median wait {_round(summary.get('median_answer_wait_s'))} s from creation, "
                      f"{_round(summary['median_wait_s'])} s in the queue)")
    if rows and len(rows) > 1 and last_rate < 0.8 * rate * (1 - abandoned / max(created, 1)):
        behind.append(f"last minute completed {last_rate:.2f}/s for {rate:g}/s arriving")
    print_table("Did the simulation keep up?", ["measure", "value"], [
        ["run (s) / time to ready (s)", f"{arrivals_s:.0f} / {ready_s:.1f}"],
        ["arrival rate asked / achieved (/s)", f"{rate:g} / {created / arrivals_s:.2f}"],
        ["completed / s (whole run)", round(completed / arrivals_s, 2)],
        ["process CPU s (run + drain) / per completed contact",
         f"{cpu_s:.0f} / {cpu_s / completed:.3f}" if completed else f"{cpu_s:.0f} / -"],
        # abandoned contacts cost CPU too: per arrival is the figure that does not grow when the runtime lags
        ["process CPU s per created contact", round(cpu_s / created, 3) if created else "-"],
        ["create errors / API errors", f"{summary['create_errors']} / {summary['api_errors']}"],
        ["arrivals backlog at end (customer pool queue)", backlog_at_end],
        ["in queue at end (live)", live_at_end.get("in_queue", "?")],
        ["AWS calls per completed contact", _round(summary["aws_calls"].get("calls_per_contact"))],
        ["fell behind", "yes: " + "; ".join(behind) if behind else "no"],
    ])
    # Where the CPU went: each function's invocations on their own threads (the handler and moto's work on
    # its AWS calls, cold starts included); the rest is the runtime (API server, pollers, Step Functions'
    # engine, the simulated people).
    by_cpu = sorted(functions.items(), key=lambda kv: -kv[1].get("cpu_s", 0.0))
    in_functions = sum(f.get("cpu_s", 0.0) for f in functions.values())
    print_table("CPU by function (the run, cold starts included)", ["function", "invocations", "CPU s", "avg CPU ms",
                                                             "CPU s / completed"],
                [[name.removeprefix("Ccaas-")[:40], f["invocations"], f.get("cpu_s"), f.get("avg_cpu_ms"),
                  round(f.get("cpu_s", 0.0) / completed, 3) if completed else "-"] for name, f in by_cpu[:10]]
                + [["(all functions)", sum(f["invocations"] for f in functions.values()), round(in_functions, 1), "-",
                    round(in_functions / completed, 3) if completed else "-"]])
    print(f"(handler output: {log})")


def _live(sim: Any) -> dict[str, Any]:
    """The live metrics, or {} when the API does not answer in time (an overloaded runtime)."""
    try:
        return sim.live_metrics()
    except Exception:  # noqa: BLE001
        return {}


def _backlog(sim: Any) -> int:
    """Customer arrivals submitted but not yet started (the simulation's pool of 8 customer threads)."""
    try:
        return sim._pool._work_queue.qsize()  # noqa: SLF001 - no public knob; see the report
    except AttributeError:
        return -1


def _mean_handle_s(sim: Any) -> float:
    talk = sum(sim.talk_s) / 2
    acw = sum(sim.acw_s) / 2
    hold = sim.hold_share * sum(sim.hold_s) / 2
    return talk + acw + hold


def _service_level(waits: list[float], abandoned: int) -> float:
    """First segments answered within THRESHOLD_S over answered + `abandoned` (the abandons the caller counts
    against it: those after the threshold for DOMAIN.md's default, all of them for the stricter figure)."""
    within = sum(1 for w in waits if w <= THRESHOLD_S)
    return within / (len(waits) + abandoned) if waits or abandoned else float("nan")


def _round(v: Any) -> Any:
    return round(v, 1) if isinstance(v, float) else v


if __name__ == "__main__":
    sys.exit(main())
