"""Cold start per Lambda: the import of each functions/<folder>/handler.py in a fresh Python process, against
`import boto3` alone in one (goal: every handler <= 1.5x boto3).

Each handler is imported the way the Lambda runtime does (its folder on sys.path, `import handler`) in the
environment its deployment gives it: the settings its spec grants (infra.function_specs, dummy values: they
are validated lazily), the Powertools service and namespace, a region. Tracing is off
(POWERTOOLS_TRACE_DISABLED=true), as in the local runtime and the tests; the `tracing on` column is the same
import with X-Ray active as on AWS (LAMBDA_TASK_ROOT set, Tracer patching boto), for information only.
Timings are the import alone (inside the child), not the interpreter's own start: wall time, and the child's
CPU time (an import is CPU-bound: on a shared, loaded machine its CPU time is the steadier measure, and the
goal column judges both); the medians of RUNS processes, interleaved across handlers, after one discarded
warm-up each (bytecode compiled). BENCH_COLDSTART_TREE=<checkout> measures another tree's functions/ and
layers/ (e.g. `git archive HEAD` unpacked somewhere) with this bench, for a before/after on one machine.
BENCH_COLDSTART_INSTRUCTIONS=1 adds a column that does not move with the machine's load: the instructions each
import executes (valgrind's callgrind, the interpreter's own start subtracted; ~30 s a process, run once each,
PYTHONHASHSEED fixed), against those of `import boto3`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.table import print_table
from infra.function_specs import SPECS
from infra.naming import FUNCTIONS_DIR

RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "7"))
TRACED_RUNS = int(os.environ.get("BENCH_COLDSTART_TRACED_RUNS", "3"))  # 0: skip the tracing-on column
GOAL = 1.5
TREE = Path(os.environ.get("BENCH_COLDSTART_TREE") or FUNCTIONS_DIR.parent)
INSTRUCTIONS = os.environ.get("BENCH_COLDSTART_INSTRUCTIONS") == "1"

_IMPORT = r"""
import sys, time, json
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
__import__(sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
print("BENCH " + json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "modules": len(sys.modules)}))
"""


def lambda_environment(folder: str, *, tracing: bool = False) -> dict[str, str]:
    """The process environment of `folder`'s Lambda (as infra/constructs/function_factory.py builds it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_"))}
    env.pop("PYTHONPATH", None)
    # The warm-up writes the bytecode the measured imports then read (as a deployment package built with its
    # .pyc does): with PYTHONDONTWRITEBYTECODE inherited, every changed module was compiled again in every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if TREE != FUNCTIONS_DIR.parent:
        env["PYTHONPATH"] = str(TREE / "layers")  # ahead of the venv's own path to this checkout's layers
    env.update({name: f"bench-{name.lower().replace('_', '-')}" for name in SPECS[folder].env_names})
    env.update(
        POWERTOOLS_SERVICE_NAME=folder, POWERTOOLS_METRICS_NAMESPACE="Ccaas", LOG_LEVEL="INFO", PYDANTIC_DISABLE_PLUGINS="__all__",
        AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_LAMBDA_FUNCTION_NAME=folder,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(SPECS[folder].memory_mb), AWS_EXECUTION_ENV="AWS_Lambda_python3.13",
    )
    if tracing:
        env.update(LAMBDA_TASK_ROOT=str(FUNCTIONS_DIR / folder), _X_AMZN_TRACE_ID="Root=1-00000000-000000000000000000000000")
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def import_once(module: str, path: str = "", env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _IMPORT, path, module], env=env or lambda_environment("serve_api"),
                         capture_output=True, text=True, timeout=120, check=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH "))
    return json.loads(line[6:])


def instructions_once(module: str, path: str = "", env: dict[str, str] | None = None) -> int:
    """Instructions executed by `python -c <import>` under callgrind (deterministic: hash seed fixed)."""
    code = (f"import sys; sys.path.insert(0, {path!r}); " if path else "") + (f"import {module}" if module else "pass")
    env = {**(env or lambda_environment("serve_api")), "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120, check=True)  # bytecode written
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
                         env=env, capture_output=True, text=True, timeout=900, check=True)
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def measure_instructions() -> dict[str, int]:
    """name -> instructions of the import alone (the interpreter's start subtracted), "boto3" and every handler."""
    folders = handler_folders()
    targets = {"start": ("", "", lambda_environment(folders[0])), "boto3": ("boto3", "", lambda_environment(folders[0]))}
    targets.update({f: ("handler", str(TREE / "functions" / f), lambda_environment(f)) for f in folders})
    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        counts = dict(zip(targets, pool.map(lambda t: instructions_once(*t), targets.values())))
    start = counts.pop("start")
    return {name: n - start for name, n in counts.items()}


def handler_folders() -> list[str]:
    return sorted(p.parent.name for p in (TREE / "functions").glob("*/handler.py"))


def measure(runs: int, *, tracing: bool = False) -> dict[str, dict[str, float]]:
    """name -> {"ms", "cpu_ms": medians, "modules"} for `import boto3` ("boto3") and every handler."""
    folders = handler_folders()
    targets = {"boto3": ("boto3", "", lambda_environment(folders[0], tracing=tracing))}
    targets.update({f: ("handler", str(TREE / "functions" / f), lambda_environment(f, tracing=tracing)) for f in folders})
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    modules: dict[str, float] = {}
    for name, (module, path, env) in targets.items():  # warm-up: bytecode written, page cache warm
        modules[name] = import_once(module, path, env)["modules"]
    for _ in range(runs):  # interleaved, so a slow moment of the machine spreads over every target
        for name, (module, path, env) in targets.items():
            samples[name].append(import_once(module, path, env))
    return {name: {"ms": statistics.median(s["ms"] for s in values), "cpu_ms": statistics.median(s["cpu_ms"] for s in values),
                   "modules": modules[name]} for name, values in samples.items()}


def main() -> None:
    if INSTRUCTIONS and not shutil.which("valgrind"):
        raise SystemExit("BENCH_COLDSTART_INSTRUCTIONS=1 needs valgrind on the PATH")
    result = measure(RUNS)
    traced = measure(TRACED_RUNS, tracing=True) if TRACED_RUNS else None
    counted = measure_instructions() if INSTRUCTIONS else None
    boto3 = result.pop("boto3")
    headers = ["handler", "ms", "x boto3", "cpu ms", "x boto3 (cpu)", "modules", "goal"]
    if traced:
        headers += ["tracing on (ms)", "x boto3 (tracing on)"]
    if counted:
        headers += ["M instructions", "x boto3 (instructions)"]
    rows: list[list[object]] = [["import boto3", round(boto3["ms"], 1), 1.0, round(boto3["cpu_ms"], 1), 1.0, int(boto3["modules"]), ""]
                                + ([round(traced["boto3"]["ms"], 1), 1.0] if traced else [])
                                + ([round(counted["boto3"] / 1e6), 1.0] if counted else [])]
    within = 0
    for folder, r in result.items():
        wall, cpu = r["ms"] / boto3["ms"], r["cpu_ms"] / boto3["cpu_ms"]
        ok = wall <= GOAL and cpu <= GOAL
        within += ok
        row: list[object] = [folder, round(r["ms"], 1), round(wall, 2), round(r["cpu_ms"], 1), round(cpu, 2), int(r["modules"]),
                             "ok" if ok else f"> {GOAL}x"]
        if traced:
            row += [round(traced[folder]["ms"], 1), round(traced[folder]["ms"] / traced["boto3"]["ms"], 2)]
        if counted:
            row += [round(counted[folder] / 1e6), round(counted[folder] / counted["boto3"], 2)]
        rows.append(row)
    print_table(f"Cold start: handler import in a fresh process, median of {RUNS} (tracing off; goal <= {GOAL}x boto3)"
                + ("" if TREE == FUNCTIONS_DIR.parent else f" [{TREE}]"), headers, rows)
    worst = max(result, key=lambda f: result[f]["cpu_ms"])
    print(f"\nslowest (cpu): {worst} x{result[worst]['cpu_ms'] / boto3['cpu_ms']:.2f} boto3 "
          f"({within}/{len(result)} handlers within the goal)")


if __name__ == "__main__":
    main()
