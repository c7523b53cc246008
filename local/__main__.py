"""`python -m local [--port N] [--no-simulate] [--no-history]`: the whole backend on 127.0.0.1, no Docker, no account.

The demo tenant starts with six weeks of history (local.demo_history): historical KPIs, insights,
contact search and the staffing forecast have something to show on the first run.

Ctrl-C (SIGINT) or SIGTERM stops everything cleanly (threads joined, servers shut) and exits 0.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8080
DEFAULT_HISTORY_DAYS = 42
# A long `make run` keeps the newest finished Step Functions executions of each state machine, not all of
# them (local.moto_patches patch 15): enough to look at the last minute's contacts with the AWS CLI
# (~30 KB each, two state machines: 300 kept held ~12 MB more than 100).
FINISHED_EXECUTIONS_KEPT = 100
# How often free memory is handed back to the OS (local.memory_release): a long run's RSS is what it uses.
RELEASE_MEMORY_EVERY_S = 30.0
# DynamoDB's TTL, emulated (local.ttl): expired items deleted every 30 s. The event de-duplication records live
# 2 minutes here, not the product's two days: locally a copy of an event comes within seconds or not at all.
TTL_SWEEP_EVERY_S = 30.0
EVENT_DEDUP_TTL_S = 120
# Stream consumers read a caught-up shard once a second, Lambda's base rate (local.kinesis_poller).
STREAM_READ_INTERVAL_S = 1.0
# Execution environments per function: Step Functions' route_contact runs for every contact, and with one
# environment its invocations queued for seconds at 3 contacts/s (the customers' wait before the queue).
FUNCTION_ENVIRONMENTS = 4
# ... and the REST API's (60 agents and 3 customers a second: 4 environments queued requests ~1.3 s on average)
API_ENVIRONMENTS = 8


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    p.add_argument("--port", type=int, default=None, help=f"API port (default {DEFAULT_PORT}, or a free one if taken)")
    p.add_argument("--no-simulate", action="store_true", help="only serve the API (no simulated traffic)")
    p.add_argument("--rate", type=float, default=0.5, help="simulated customer arrivals per second (default 0.5)")
    p.add_argument("--duration", type=float, default=None, help="stop the simulation after this many seconds")
    p.add_argument("--patience", type=float, default=20.0, help="mean customer patience in seconds (default 20)")
    p.add_argument("--no-history", action="store_true", help="start the demo tenant without its past (no history)")
    p.add_argument("--history-days", type=int, default=DEFAULT_HISTORY_DAYS,
                   help=f"days of demo history ending yesterday (default {DEFAULT_HISTORY_DAYS})")
    p.add_argument("--static-dir", type=Path, default=None, help="serve this folder's files (e.g. a wallboard)")
    p.add_argument("--synth", action="store_true", help="synthesize even if cdk.out/ looks up to date")
    p.add_argument("--template", type=Path, default=None, help="deploy this synthesized template (skips synth)")
    p.add_argument("--agent-poll", type=float, default=1.5, help="seconds between an agent's polls (default 1.5)")
    p.add_argument("--log-file", type=Path, default=None, help="where handler output goes (default: a temp file)")
    p.add_argument("--no-outbound", action="store_true", help="leave the demo outbound campaign in draft")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    out = sys.stdout
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        runtime = launch(args, out, stop)
    except Exception as exc:  # noqa: BLE001 - one clear line, then the details
        print(f"\nstart-up failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        logging.getLogger("local").debug("start-up failure", exc_info=True)
        return 1
    try:
        while not stop.wait(0.5):
            sim = runtime.simulation
            if sim is not None and sim.finished.is_set():
                break
    finally:
        shutdown(runtime, out, process_exits=True)  # main's caller leaves at once (_exit_now)
    return 0


def launch(args: argparse.Namespace, out: Any, stop: threading.Event | None = None) -> Any:
    """What `make run` (`python -m local`) starts, from its parsed arguments: the runtime with this module's
    settings, then, unless --no-simulate, the demo campaign and the simulated traffic with (with history, the
    default) the demo tenant's IVR journeys fired every minute (LocalRuntime.start_simulation, as
    start(simulate=True) does; main() once started the Simulation itself: no journeys were stored or run). With
    --no-simulate it only serves, with the timers for typing. Returns the started LocalRuntime (stop it with
    shutdown()); raises when start-up failed, with everything it started stopped again."""
    from local.runtime import LocalRuntime

    port = args.port
    if port is None:
        port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else 0
    print("Starting the local backend (synth -> moto -> deploy -> seed"
          f"{'' if args.no_history or args.history_days <= 0 else ' -> history'})...", file=out, flush=True)
    runtime = LocalRuntime(
        template=args.template,
        force_synth=args.synth,
        static_dir=args.static_dir,
        capture_handler_output=True,
        log_file=args.log_file,
        history_days=0 if args.no_history else max(0, args.history_days),
        finished_executions_kept=FINISHED_EXECUTIONS_KEPT,
        release_memory_every_s=RELEASE_MEMORY_EVERY_S,
        ttl_sweep_every_s=TTL_SWEEP_EVERY_S,
        event_dedup_ttl_s=EVENT_DEDUP_TTL_S,
        stream_read_interval_s=STREAM_READ_INTERVAL_S,
        function_environments=FUNCTION_ENVIRONMENTS,
        api_environments=API_ENVIRONMENTS,
        simulation_options={
            "rate_per_s": args.rate,
            "duration_s": args.duration,
            "mean_patience_s": args.patience,
            "agent_poll_s": args.agent_poll,
            "out": out,
        },
    )
    runtime.start(simulate=False, port=port)  # the traffic below starts after the banner
    try:
        if args.no_simulate:
            runtime.timers_for_typing()
        campaign = "draft"  # the demo campaign as seeded, unless started here
        if not args.no_simulate and not args.no_outbound:
            from local import outbound_demo

            campaign = outbound_demo.start(runtime)  # it dials beside the inbound traffic (local.outbound_demo)
        print(banner(runtime, outbound_status=campaign), file=out, flush=True)
        if not args.no_simulate and not (stop is not None and stop.is_set()):
            runtime.start_simulation()
            print(
                f"Simulating customers ({args.rate}/s) and {len(runtime.simulation.agent_ids)} agents "
                "of tenant demo. Ctrl-C to stop.",
                file=out,
                flush=True,
            )
            if runtime.journey_ticker is not None:
                print(f"Journeys: the demo's IVR journeys every {runtime.journey_ticker.every_s:.0f} s "
                      "(GET /journeys/results).", file=out, flush=True)
        else:
            print("Serving (no simulation). Ctrl-C to stop.", file=out, flush=True)
    except BaseException:
        runtime.stop()
        raise
    return runtime


def shutdown(runtime: Any, out: Any, *, process_exits: bool = False) -> None:
    """Stop the simulation (printing its summary), then the runtime (LocalRuntime.stop's `process_exits`)."""
    sim = runtime.simulation
    summary = None
    if sim is not None:
        sim.stop()
        summary = sim.summary()
        summary["pollers"] = [p.stats.as_dict() for p in runtime.pollers]
        runtime.simulation = None
    runtime.stop(process_exits=process_exits)
    if summary is not None:
        print(format_summary(summary), file=out, flush=True)
    print("Stopped.", file=out, flush=True)


def walkthrough_exports(rt: Any) -> str:
    """The shell line the README's walkthrough starts from, with this runtime's URL and keys."""
    keys = rt.role_keys["demo"]
    return (f"export API={rt.api_url} INTEGRATION={keys['integration']} ANA={keys['agent:ana']} "
            f"BEN={keys['agent:ben']} SUPERVISOR={keys['supervisor']}")


def table_names(rt: Any) -> str:
    """The deployed DynamoDB tables, History first (`local.lake export --table` reads it): `History=<name>, ...`."""
    tables = getattr(getattr(rt, "deployment", None), "tables", None) or {}
    named = sorted(((re.sub(r"^Data|Table(?:[0-9A-F]{8})?$", "", lid) or lid, name) for lid, name in tables.items()),
                   key=lambda pair: (pair[0] != "History", pair[0]))
    return ", ".join(f"{label}={name}" for label, name in named)


def banner(rt: Any, *, outbound_status: str = "draft") -> str:
    """What `make run` prints once ready. `outbound_status`: the demo campaign's status (what
    local.outbound_demo.start answered; draft when it was not started: --no-simulate, --no-outbound)."""
    t = rt.timings
    demo = getattr(rt, "role_keys", {}).get("demo", {})
    key = rt.api_keys.get("demo", "<key>")
    intake = demo.get("integration", "<integration key>")
    lines = [
        "",
        f"Ready in {t.ready_s:.1f} s (synth {t.synth_s:.1f} s{'' if t.synthesized else ', cached'}, "
        f"moto {t.moto_s:.1f} s, deploy {t.deploy_s:.1f} s, warm {t.warm_s:.1f} s, seed {t.seed_s:.1f} s"
        + (f", history {t.history_s:.1f} s" if getattr(rt, "history", None) is not None else "") + ")",
        f"  API:          {rt.api_url}",
    ]
    if getattr(rt, "history", None) is not None:
        from local.demo_history import summary_line

        lines.append(f"  History:      demo, {summary_line(rt.history)}")
        lines.append("                (--no-history starts without it)")
    for tenant, k in rt.api_keys.items():
        lines.append(f"  API key {tenant + ':':<6} {k}  (admin)")
    for label, role in (("supervisor", "supervisor"), ("integration", "integration"), ("agent ana", "agent:ana"),
                        ("agent ben", "agent:ben")):
        if role in demo:
            lines.append(f"  demo {label + ':':<13} {demo[role]}")
    lines += [
        f"  Try:          curl -s -H 'Authorization: Bearer {key}' {rt.api_url}/queues",
        f"                curl -s -H 'Authorization: Bearer {intake}' -H 'Content-Type: application/json' -d '{{\"channel\":\"VOICE\",\"queue_id\":\"sales\"}}' {rt.api_url}/contacts",
        f"  Docs:         {rt.api_url}/swagger",
        f"  AWS CLI/boto3: export AWS_ENDPOINT_URL={rt.moto_endpoint} AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1",
        f"  Connect flow: .venv/bin/python -m local.flow --endpoint {rt.moto_endpoint} route queue_id=sales",
    ]
    tables = table_names(rt)
    if tables:
        lines.append(f"  Tables:       {tables}")
    if getattr(rt, "lake", None) is not None:  # the demo history as Parquet, for DuckDB (and long API ranges)
        lake_lines = rt.lake.how_to_query().replace("python -m", ".venv/bin/python -m").splitlines()
        lines.append(f"  Lake:         {lake_lines[0]}")
        lines.extend(f"                {line.strip()}" for line in lake_lines[1:])
    if "supervisor" in demo:
        from local import outbound_demo

        lines.append(outbound_demo.banner_line(rt, outbound_status))
    if getattr(rt, "websocket_url", None):
        lines.append(f"  WebSocket:    {rt.websocket_url}?token=<key>   (push: offers to agents, metrics to supervisors)")
    if rt.static_dir is not None:
        lines.append(f"  Static files: {rt.base_url}/ (from {rt.static_dir})")
        if "supervisor" in demo:
            ws = f"&ws={rt.websocket_url}" if getattr(rt, "websocket_url", None) else ""
            lines.append(f"  Wallboard:    {rt.base_url}/#key={demo['supervisor']}{ws}")
    if getattr(rt, "typing_timers", False) and "agent:ana" in demo:
        from local.seed import TYPING_OFFER_TIMEOUT_S, TYPING_QUEUE_WAIT_S

        lines += [
            f"  Timers:       for typing (SIMULATE=0): offers wait {TYPING_OFFER_TIMEOUT_S // 60} min for an accept, "
            f"contacts {TYPING_QUEUE_WAIT_S // 60} min in a queue",
            "  By hand:      paste this line, then the README's walkthrough (\"Trying the API by hand\"):",
            f"    {walkthrough_exports(rt)}",
        ]
    from local import log_sink

    if log_sink.path() is not None:
        lines.append(f"  Handler logs: {log_sink.path()}")
    lines.append("")
    return "\n".join(lines)


def format_summary(s: dict[str, Any]) -> str:
    calls = s["aws_calls"]
    lines = [
        "",
        f"Contacts: {s['created']} created, {s['completed']} completed, {s['abandoned_by_customer']} abandoned by "
        f"the customer; median wait {s['median_wait_s'] if s['median_wait_s'] is not None else '-'} s; "
        f"API errors {s['api_errors'] + s['create_errors']}"
        + (f"; API requests per completed contact {s['api_requests']['per_contact']:.1f}"
           if (s.get("api_requests") or {}).get("per_contact") is not None else ""),
    ]
    if s.get("transfers") is not None:
        lines.append(
            f"Moves: {s['transfers']} transfers, {s.get('consults', 0)} consults ({s.get('consults_completed', 0)} warm, "
            f"{s.get('conferences', 0)} conferences, {s.get('consults_cancelled', 0)} cancelled), "
            f"{s.get('escalations', 0)} escalations, {s.get('holds', 0)} holds")
    if calls["completed"]:
        if calls.get("calls_by_trigger"):
            lines.append("AWS calls per completed contact by trigger: " + ", ".join(
                f"{t} {n:.1f}" for t, n in sorted(calls["calls_by_trigger"].items(), key=lambda kv: -kv[1])
            ))
        lines.append(
            f"AWS calls per completed contact: {calls['calls_per_contact']:.1f} "
            f"(lifecycle without GET polling/authorizer: {calls['lifecycle_calls_per_contact']:.1f}); "
            f"Lambda invocations {calls['invocations_per_contact']:.1f} "
            f"(lifecycle {calls['lifecycle_invocations_per_contact']:.1f})"
        )
        for op, n in sorted(calls["lifecycle_calls_by_operation"].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {op:<40} {n:6.2f}")
    for p in s.get("pollers", []):
        lines.append(
            f"Stream consumer: {p['invocations']} batches, {p['records_delivered']} records (avg batch {p.get('avg_batch', '-')}), "
            f"lag p50 {p.get('lag_p50_ms', '-')} ms / p95 {p.get('lag_p95_ms', '-')} ms, function errors {p['function_errors']}, "
            f"partial failures {p['partial_failures']}, DLQ records {p['dlq_records']}"
        )
    return "\n".join(lines)


def _exit_now(code: int) -> None:
    """Leave without the interpreter's teardown: by now the runtime and the simulation are stopped and
    their output printed, and tearing down moto's and the servers' leftover threads and objects took ~4 s
    of a Ctrl-C (goal: out within 5 s). Streams and log handlers are flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
