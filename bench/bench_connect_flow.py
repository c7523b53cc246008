"""The Amazon Connect flow Lambda on the local runtime: latency per action, cold and warm, and the AWS
calls each action makes (DynamoDB on the embedded moto, so every call is an HTTP round trip in-process).

- cold: a fresh Python process per action (nothing imported, no clients): the handler module's import,
  then its first invocation (clients built, tenant mapping and settings read) against the runtime's moto;
- warm: the same execution environment again and again, through the Lambda Invoke API of the runtime
  (`lambda.invoke` -> moto -> the in-process handler) and in-process (the handler called directly).
The demo tenant's seeded Connect instance and customers are used (local/seed.py).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.table import print_table
from local import call_counter, env_overlay, log_sink
from local.runtime import LocalRuntime
from local.flow import flow_event

ROOT = Path(__file__).resolve().parent.parent
WARM_RUNS = 25
ACTIONS: dict[str, dict[str, str]] = {
    "identify": {"action": "identify"},
    "route": {"action": "route", "queue_id": "sales"},
    "wait_info": {"action": "wait_info", "queue_id": "support"},
    "hours": {"action": "hours", "queue_id": "billing"},
    "staffing": {"action": "staffing", "queue_id": "support"},
    "log_event": {"action": "log_event", "milestone": "menu_choice", "value": "2"},
    # last: each callback starts a contact lifecycle (Step Functions), stopped after each measurement: on
    # AWS it runs elsewhere, here its task-token waits would share the process (and moto) with the next call
    "callback": {"action": "callback", "queue_id": "support"},
}
STARTS_LIFECYCLES = {"callback"}


_COLD = r"""
import importlib.util, json, sys, time
from types import SimpleNamespace
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("cold_handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter()
context = SimpleNamespace(function_name="connect_flow", memory_limit_in_mb=1024, aws_request_id="cold",
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:connect_flow",
                          get_remaining_time_in_millis=lambda: 8000)
reply = module.lambda_handler(json.loads(sys.argv[2]), context)
first = time.perf_counter()
reply2 = module.lambda_handler(json.loads(sys.argv[3]), context)
second = time.perf_counter()
print("BENCH " + json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (first - imported) * 1000,
                             "second_ms": (second - first) * 1000, "status": reply.get("status"),
                             "error": reply.get("error_code")}))
"""


def _cold(environment: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **environment,
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING",
           "POWERTOOLS_METRICS_DISABLED": "true"}
    out = subprocess.run(
        [sys.executable, "-c", _COLD, str(ROOT / "functions" / "connect_flow" / "handler.py"),
         json.dumps(flow_event(parameters)), json.dumps(flow_event(parameters))],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH "))
    return json.loads(line[6:])


def _stop_lifecycles(runtime: LocalRuntime) -> None:
    sfn = runtime.client("stepfunctions")
    for arn in runtime.deployment.state_machines.values():
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING"):
            for execution in page["executions"]:
                _stop(sfn, execution["executionArn"])


def _stop(sfn: object, arn: str) -> None:
    """Stop one execution. moto's StopExecution answers 500 for an execution whose worker has not set up its
    environment yet (just started: a callback's lifecycle) or has just finished: tried again for a few seconds,
    done once it is no longer RUNNING."""
    from botocore.exceptions import ClientError

    for _ in range(50):
        try:
            sfn.stop_execution(executionArn=arn, cause="bench: measured the flow call only")  # type: ignore[attr-defined]
            return
        except ClientError:
            if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":  # type: ignore[attr-defined]
                return
            time.sleep(0.1)
    raise RuntimeError(f"could not stop {arn}")


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    runtime = LocalRuntime(log_file=Path(tempfile.gettempdir()) / "bench-connect-flow.log").start(simulate=False)
    try:
        deployed = runtime.deployment.function_by_folder("connect_flow")
        environment = {**runtime.function_environment("connect_flow"), "AWS_ENDPOINT_URL": runtime.moto_endpoint}
        lam = runtime.client("lambda")

        def invoke(parameters: dict[str, str]) -> tuple[float, dict[str, str]]:
            started = time.perf_counter()
            response = lam.invoke(FunctionName=deployed.name, Payload=json.dumps(flow_event(parameters)).encode())
            elapsed = (time.perf_counter() - started) * 1000
            return elapsed, json.loads(response["Payload"].read())

        # In-process: the handler as the runtime imported it, called directly in the function's environment.
        from tests.lambda_harness import load_module

        with env_overlay.overlay({**environment, "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING"}):
            handler = load_module("connect_flow", prefix="bench").lambda_handler
        context = SimpleNamespace(function_name=deployed.name, memory_limit_in_mb=1024, aws_request_id="bench",
                                  invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
                                  get_remaining_time_in_millis=lambda: 8000)

        def direct(parameters: dict[str, str]) -> tuple[float, dict[str, str], int]:
            before = sum(call_counter.COUNTER.by_function().get("bench-connect-flow", {}).values())
            with env_overlay.overlay({**environment, "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING"}), \
                    call_counter.attribute_to("bench-connect-flow"), log_sink.capture("bench-connect-flow", "direct"):
                started = time.perf_counter()
                reply = handler(flow_event(parameters), context)
                elapsed = (time.perf_counter() - started) * 1000
            return elapsed, reply, sum(call_counter.COUNTER.by_function().get("bench-connect-flow", {}).values()) - before

        rows = []
        for action, parameters in ACTIONS.items():
            cold = _cold(environment, parameters)
            isolate = _stop_lifecycles if action in STARTS_LIFECYCLES else (lambda _: None)
            invoke(parameters)  # the runtime's environment: warm from here on
            invoked, called = [], []
            for _ in range(WARM_RUNS):
                isolate(runtime)
                invoked.append(invoke(parameters))
            for _ in range(WARM_RUNS):
                isolate(runtime)
                called.append(direct(parameters))
            isolate(runtime)
            statuses = {r["status"] for _, r in invoked} | {r["status"] for _, r, _ in called} | {cold["status"]}
            rows.append([
                action, round(cold["import_ms"]), round(cold["first_ms"]), round(cold["second_ms"], 1),
                round(statistics.median(t for t, _ in invoked), 1), round(_p([t for t, _ in invoked], 0.95), 1),
                round(statistics.median(t for t, _, _ in called), 1), round(_p([t for t, _, _ in called], 0.95), 1),
                round(statistics.median(n for _, _, n in called), 1), ",".join(sorted(statuses)),
            ])
    finally:
        runtime.stop()
    print_table(
        "Amazon Connect flow Lambda per action (local runtime, DynamoDB on embedded moto)",
        ["action", "cold import ms", "cold 1st call ms", "2nd call ms", "invoke p50 ms", "invoke p95 ms",
         "handler p50 ms", "handler p95 ms", "AWS calls", "status"],
        rows,
    )
    print("cold = a fresh Python process: importing the handler, then its first invocation (clients built, the "
          "instance->tenant mapping and settings read); invoke = lambda.invoke through the runtime; handler = the "
          "warm handler called in-process; AWS calls = the warm handler's own boto3 calls (configuration is cached "
          "for a few seconds per container). Amazon Connect allows 8 s; moto costs ~10-15 ms per DynamoDB call.")


if __name__ == "__main__":
    main()
