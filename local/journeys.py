"""Journey tests as a CI gate: run a suite of journeys against a candidate routing policy, together with the
routing replay of recorded traffic, and fail when a journey breaks or a target regresses.

    python -m local.journeys run --spec journeys/demo.json [--policy candidate-policy.json]
                                 [--baseline base-policy.json] [--day generated|day.json] [--hours H]
                                 [--max-sl-drop PT] [--max-abandon-rise PT] [--no-replay] [--json]
    python -m local.journeys run --spec journeys/demo.json --api URL --key KEY [--agent-key AGENT=KEY ...]
                                 --instance-arn ARN [--flow-function NAME] [--apply-policy]   # a deployed stage
    python -m local.journeys load --rate R --count N --max-seconds S [--spec FILE] [--journey NAME ...]
                                  [--workers W] [--max-error-rate F] [--api URL --key KEY ...]  # load mode

Both take --latency-scale X (every step's latency budget times X: a loaded machine) or
--no-latency-budgets (none checked).

Locally (no --api) it starts the local runtime, seeds a sandbox tenant like the demo (its queues,
agents, customers and a Connect instance) plus a test agent (`journey-bot`, skill `ccaas:test_agent`),
applies the candidate policy (PUT /routing/policy) and runs every journey through the in-process entry
points (RuntimeEntryPoints: the API with the sandbox's keys, the contact-flow Lambda through moto's Lambda
Invoke). With --api it runs against a deployed stage (ccaas.adapters.aws.journeys.HttpEntryPoints); the
candidate policy is PUT to that stage's tenant only with --apply-policy (use a staging tenant).

Then, with a candidate policy, the routing replay (local.replay) compares the baseline policy (--baseline,
default the built-in one) with the candidate on the recorded/generated day and prints SL, ASA and
abandonment per queue; a queue whose SL drops by more than --max-sl-drop points, whose abandonment rises
by more than --max-abandon-rise points, or that answers nothing any more is a regression.

Prints a table of journeys (pass/fail, the failed step and expectation, per-step latency). Exit codes:
0 every journey passed and no target regressed, 1 a journey failed or a target regressed (or the run
failed), 2 a usage error or a bad spec/policy file (the offending key's path named; a spec with no journeys,
which would pass a gate without running anything). Errors are one
line on stderr (local/cli.py).

Load mode (`load`) starts the suite's journeys (round robin, or the --journey ones) at --rate per second
(open loop: a start does not wait for the previous journey) on --workers threads, at most --count of
them and none after --max-seconds (a journey already started runs to its end, bounded by its own
timeout_s). Journeys that act as a test agent run one at a time on a lane of their own (two journeys
answering as the same agent would take each other's offers); the IVR journeys run side by side. It
prints the achieved rate, the latency percentiles (p50/p95/p99/max) per step action and per journey, and
the errors grouped by journey, step and expectation; exit code 1 when the failed share is above
--max-error-rate (default 0: any error). Targets: the local runtime (default: started, sandbox tenant), or
a deployed stage with --api URL --key KEY (the API over HTTPS; flow steps invoke the contact-flow Lambda
with boto3, so they need --flow-function and AWS credentials allowed lambda:InvokeFunction on it; without
them, use --journey to pick API-only journeys). A load run against a stage makes real (synthetic)
contacts: use a staging tenant.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
import time
import zlib
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from local.cli import Parser, UsageError, load_model, read_json, run as run_cli

PROG = "python -m local.journeys"
_ROOT = Path(__file__).resolve().parent.parent
SANDBOX = "sandbox"
TEST_AGENT = "journey-bot"
SANDBOX_INSTANCE_ARN = "arn:aws:connect:us-east-1:123456789012:instance/5a4db0c5-0000-4000-8000-000000000016"


# --------------------------------------------------------------------------------- entry points
class RuntimeEntryPoints:
    """The in-process entry points of a LocalRuntime (ccaas.usecases.journeys.EntryPoints)."""

    def __init__(self, runtime: Any, tenant_id: str, instance_arn: str) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id
        self.instance_arn = instance_arn
        self._function: str | None = None

    def api(self, method: str, path: str, body: Any = None, *, role: str = "integration", agent_id: str | None = None,
            timeout_s: float = 30.0) -> tuple[int, Any]:
        from local.simulation import ApiClient

        key = self.runtime.key(self.tenant_id, role, agent_id if role == "agent" else None)
        return ApiClient(self.runtime.api_url, key, timeout_s=max(0.05, timeout_s)).call(method, path, body)

    def flow(self, event: dict[str, Any], timeout_s: float) -> dict[str, str]:
        from local import flow

        client = self.runtime.client("lambda")
        if self._function is None:
            self._function = flow.function_name(client)
        response = client.invoke(FunctionName=self._function, Payload=json.dumps(event).encode())
        return json.loads(response["Payload"].read())


def sandbox_seed(tenant_id: str = SANDBOX, instance_arn: str = SANDBOX_INSTANCE_ARN) -> Any:
    """A tenant seeded like the demo (queues, agents, customers, transfer settings, a Connect instance of
    its own) plus the test agent `journey-bot` on every queue."""
    from local.seed import DEMO, AgentSeed

    bot = AgentSeed(TEST_AGENT, "Journey test agent",
                    {"ccaas:test_agent": 1, "sales": 5, "support": 5, "billing": 5, "language:en": 5},
                    tuple((q.queue_id, 1) for q in DEMO.queues),
                    capacity={"VOICE": 1, "CHAT": 3, "EMAIL": 5, "SMS": 3})
    return dataclasses.replace(
        DEMO, tenant_id=tenant_id, name="Journey sandbox", agents=(*DEMO.agents, bot), connect_instance_arn=instance_arn,
        connect_queue_arns={q: f"{instance_arn}/queue/{q}" for q in DEMO.connect_queue_arns}, outbound_demo=False,
    )


def prepare_sandbox(runtime: Any, policy: dict[str, Any] | None = None, tenant_id: str = SANDBOX) -> RuntimeEntryPoints:
    """Seed the sandbox tenant into a running LocalRuntime (once), apply `policy`; its entry points.

    A candidate policy goes to a sandbox no function has read yet (`<tenant_id>-2`, ... when `tenant_id`
    was seeded before): seeding publishes no event and reads no routing setting, so no container's config
    cache holds the tenant's policy and the PUT applies at once, without waiting CONFIG_CACHE_S for the
    containers that read the previous one (two gate runs on one runtime each waited 5.5 s)."""
    fresh = tenant_id not in runtime.role_keys
    if policy is not None and not fresh:
        tenant_id, fresh = _unseen_sandbox(runtime, tenant_id), True
    instance_arn = _sandbox_instance_arn(tenant_id)
    if fresh:
        runtime.seed_tenant(sandbox_seed(tenant_id, instance_arn))
    entry = RuntimeEntryPoints(runtime, tenant_id, instance_arn)
    if policy is not None:
        apply_policy(entry, policy, settle_s=0 if fresh else CONFIG_CACHE_S)
    return entry


def _unseen_sandbox(runtime: Any, tenant_id: str) -> str:
    return next(f"{tenant_id}-{n}" for n in itertools.count(2) if f"{tenant_id}-{n}" not in runtime.role_keys)


def _sandbox_instance_arn(tenant_id: str) -> str:
    """The sandbox's own Connect instance; another one per later sandbox (the mapping of an instance to its
    tenant is cached by the flow function, an unknown one too)."""
    if tenant_id == SANDBOX:
        return SANDBOX_INSTANCE_ARN
    return f"{SANDBOX_INSTANCE_ARN[:-12]}{zlib.crc32(tenant_id.encode()):012d}"


CONFIG_CACHE_S = 5.5  # ccaas.adapters.cached_config: other containers see a new policy within 5 s


def apply_policy(entry: Any, policy: dict[str, Any], settle_s: float = CONFIG_CACHE_S) -> None:
    """PUT /routing/policy, then wait until every function container reads it (their config cache)."""
    status, body = entry.api("PUT", "/routing/policy", policy, role="admin")
    if status != 200:
        detail = body.get("message") if isinstance(body, dict) else body
        raise UsageError(f"the candidate policy was refused ({status}): {detail}")
    time.sleep(settle_s)


# ------------------------------------------------------------------------------------- printing
def print_results(results: Sequence[Any], out: Any = None) -> None:
    from bench.table import print_table

    rows = []
    for r in results:
        latencies = " ".join(f"{s.action}={s.latency_ms:.0f}" for s in r.steps)
        failed = next((s for s in r.steps if not s.passed), None)
        expectation = (failed.failures[0].expectation if failed and failed.failures else "") if r.failed_step else ""
        rows.append([r.journey, "pass" if r.passed else "FAIL", r.failed_step or "-", expectation or "-",
                     (r.failure or "-")[:90], f"{r.total_ms:.0f}", latencies])
    print_table("journeys", ["journey", "result", "failed step", "expectation", "why", "total ms", "step ms"], rows)


@dataclasses.dataclass
class Regression:
    queue_id: str
    what: str

    def __str__(self) -> str:
        return f"{self.queue_id}: {self.what}"


def regressions(base: Any, candidate: Any, *, max_sl_drop_pt: float, max_abandon_rise_pt: float) -> list[Regression]:
    """Queues (of two replay results) whose targets regress beyond the thresholds."""
    found = []
    for qa, qb in zip(base.queues, candidate.queues):
        if qa.service_level is not None and qb.service_level is None:
            found.append(Regression(qa.queue_id, "answers nothing any more (no service level)"))
            continue
        if qa.service_level is not None and qb.service_level is not None:
            drop = 100 * (qa.service_level - qb.service_level)
            if drop > max_sl_drop_pt:
                found.append(Regression(qa.queue_id, f"service level drops {drop:.1f} pt (at most {max_sl_drop_pt:g})"))
        if qa.abandonment is not None and qb.abandonment is not None:
            rise = 100 * (qb.abandonment - qa.abandonment)
            if rise > max_abandon_rise_pt:
                found.append(Regression(qa.queue_id, f"abandonment rises {rise:.1f} pt (at most {max_abandon_rise_pt:g})"))
        if qa.answered and not qb.answered:
            found.append(Regression(qa.queue_id, "answers nothing any more"))
    return found


# ------------------------------------------------------------------------------------------ CLI
def _target_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("--journey", action="append", help="run only this journey (repeatable)")
    r.add_argument("--api", "--url", dest="api", help="a deployed stage's API base URL (default: the local runtime)")
    r.add_argument("--key", help="with --api: the API key for every call without a more specific one")
    r.add_argument("--agent-key", action="append", default=[], metavar="AGENT=KEY", help="with --api: an agent's key")
    r.add_argument("--instance-arn", help="with --api: the tenant's Amazon Connect instance ARN (flow events)")
    r.add_argument("--flow-function", help="with --api: the contact-flow Lambda's name or ARN (boto3 Invoke: "
                   "AWS credentials needed for flow steps)")
    budgets = r.add_mutually_exclusive_group()
    budgets.add_argument("--latency-scale", type=float, metavar="X",
                         help="multiply every step's latency budget by X (e.g. 3 on a loaded machine)")
    budgets.add_argument("--no-latency-budgets", action="store_true", help="check no latency budget")
    r.add_argument("--json", action="store_true", help="print the results as JSON")


def main(argv: list[str] | None = None, *, runtime: Any = None) -> int:
    """The CLI; `runtime`: a LocalRuntime already running (tests) instead of starting one."""
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    load = sub.add_parser("load", help="load mode: the suite's journeys at a rate, latency percentiles per step")
    load.add_argument("--spec", default=str(_ROOT / DEMO_SPEC), help="a journey suite JSON file (default: the demo's)")
    load.add_argument("--rate", type=float, required=True, help="journeys started per second")
    load.add_argument("--count", type=int, required=True, help="at most this many journeys")
    load.add_argument("--max-seconds", type=float, required=True, help="no journey starts after this many seconds")
    load.add_argument("--workers", type=int, default=8, help="journeys running at once at most (default 8)")
    load.add_argument("--max-error-rate", type=float, default=0.0,
                      help="exit 1 when more than this share of the journeys failed (default 0)")
    load.add_argument("target", nargs="?", choices=["local"], help="local: the local runtime (the default without --api)")
    _target_arguments(load)
    r = sub.add_parser("run", help="run a journey suite (and the routing replay) as a CI gate")
    r.add_argument("--spec", required=True, help="a journey suite JSON file ({\"journeys\": [...]})")
    r.add_argument("--policy", help="candidate routing policy JSON, applied to the sandbox and replayed")
    r.add_argument("--baseline", help="baseline routing policy JSON for the replay (default: the built-in one)")
    r.add_argument("--day", default="generated", help="replay day: 'generated' or a day JSON file")
    r.add_argument("--hours", type=float, default=2.0, help="length of the generated replay day (default 2)")
    r.add_argument("--max-sl-drop", type=float, default=5.0, help="SL points a queue may lose (default 5)")
    r.add_argument("--max-abandon-rise", type=float, default=5.0, help="abandonment points a queue may gain (default 5)")
    r.add_argument("--no-replay", action="store_true", help="journeys only")
    r.add_argument("--apply-policy", action="store_true",
                   help="with --api: PUT the candidate policy to the stage's tenant first (a staging tenant only!)")
    _target_arguments(r)
    args = p.parse_args(argv)
    if args.command == "load":
        return run_cli(PROG, lambda: _load(args, runtime), debug=args.debug)
    if args.command != "run":
        p.error("a command is required: run or load")
    return run_cli(PROG, lambda: _run(args, runtime), debug=args.debug)


def load_suite(path: str) -> Any:
    from ccaas.domain.journeys import SpecError, parse_suite

    data = read_json(path, "spec")
    try:
        return parse_suite(data)
    except SpecError as exc:
        raise UsageError(f"spec {path}: invalid {exc}") from exc


def _suite_for(args: argparse.Namespace) -> Any:
    """The spec file's suite with the latency budgets as the options say; --journey names checked."""
    from ccaas.domain.journeys import scale_latency_budgets

    suite = load_suite(args.spec)
    if not suite.journeys:
        # A CI gate that runs nothing would pass anything (an emptied or mis-pointed spec): a usage error, not a pass.
        raise UsageError(f"spec {args.spec}: no journeys to run")
    if args.api and not args.key and not args.agent_key:
        raise UsageError("--api needs --key (and --agent-key AGENT=KEY for agents without the default key)")
    if args.journey:
        unknown = sorted(set(args.journey) - {j.name for j in suite.journeys})
        if unknown:
            raise UsageError(f"--journey {unknown[0]}: no such journey in {args.spec}")
    if args.no_latency_budgets:
        return scale_latency_budgets(suite, None)
    if args.latency_scale is not None:
        if not args.latency_scale > 0:
            raise UsageError(f"--latency-scale must be above 0, got {args.latency_scale:g}")
        return scale_latency_budgets(suite, args.latency_scale)
    return suite


def _run(args: argparse.Namespace, runtime: Any = None) -> int:
    from ccaas.domain.routing_engine import RoutingPolicy

    suite = _suite_for(args)
    policy = load_model(RoutingPolicy, args.policy, "policy") if args.policy else None
    baseline = load_model(RoutingPolicy, args.baseline, "policy") if args.baseline else RoutingPolicy()
    results = _journeys(args, suite, policy, runtime)
    failed = [r for r in results if not r.passed]
    found: list[Regression] = []
    replays: list[Any] = []
    if policy is not None and not args.no_replay:
        replays, found = _replay(args, baseline, policy)
    if args.json:
        print(json.dumps({"journeys": [r.model_dump(mode="json") for r in results],
                          "replay": [x.model_dump(mode="json") for x in replays],
                          "regressions": [str(x) for x in found]}, indent=1))
    else:
        print_results(results)
        if replays:
            from local.replay import print_comparison

            print_comparison(*replays)
        for reg in found:
            print(f"regression: {reg}")
        print(f"{len(results) - len(failed)}/{len(results)} journeys passed; {len(found)} target regression(s)")
    if failed or found:
        names = ", ".join(f"{r.journey} at {r.failed_step}" for r in failed)
        print(f"{PROG}: failed: " + "; ".join(filter(None, [names and f"journeys {names}",
                                                              found and f"{len(found)} regression(s)"])), file=sys.stderr)
        return 1
    return 0


def _http_entry(args: argparse.Namespace, needs_flow: bool = True) -> Any:
    from ccaas.adapters.aws.journeys import HttpEntryPoints

    if not args.instance_arn and needs_flow:
        raise UsageError("--api needs --instance-arn (the tenant's Amazon Connect instance)")
    keys = {"default": args.key} if args.key else {}
    for pair in args.agent_key:
        agent, sep, key = pair.partition("=")
        if not sep or not agent or not key:
            raise UsageError(f"--agent-key is AGENT=KEY, got {pair!r}")
        keys[f"agent:{agent}"] = key
    return HttpEntryPoints(args.api, keys, instance_arn=args.instance_arn or "", flow_function=args.flow_function)


def _journeys(args: argparse.Namespace, suite: Any, policy: Any, runtime: Any = None) -> list[Any]:
    from ccaas.usecases.journeys import run_suite

    if args.api:
        entry = _http_entry(args)
        if policy is not None and args.apply_policy:  # never implicitly: the stage's tenant routes real customers
            apply_policy(entry, policy.model_dump(mode="json"))
        return run_suite(entry, suite, names=args.journey)
    policy_json = policy.model_dump(mode="json") if policy is not None else None
    if runtime is not None:
        return run_suite(prepare_sandbox(runtime, policy_json), suite, names=args.journey)
    from local.runtime import LocalRuntime

    print("starting the local runtime (sandbox tenant)...", file=sys.stderr, flush=True)
    with LocalRuntime(capture_handler_output=True) as runtime:
        return run_suite(prepare_sandbox(runtime, policy_json), suite, names=args.journey)


def _replay(args: argparse.Namespace, baseline: Any, policy: Any) -> tuple[list[Any], list[Regression]]:
    from ccaas.domain.replay import Day, example_day, replay

    day = example_day(1, hours=args.hours) if args.day == "generated" else load_model(Day, args.day, "day")
    base, candidate = replay(day, baseline, seed=1), replay(day, policy, seed=1)
    if base.policy == candidate.policy:
        candidate = candidate.model_copy(update={"policy": f"{candidate.policy} (candidate)"})
    return [base, candidate], regressions(base, candidate, max_sl_drop_pt=args.max_sl_drop,
                                          max_abandon_rise_pt=args.max_abandon_rise)


# ------------------------------------------------------------------------------------------- load mode
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclasses.dataclass
class LoadReport:
    started: int
    skipped: int  # not started: the time bound came first
    elapsed_s: float
    results: list[Any]

    @property
    def failed(self) -> list[Any]:
        return [r for r in self.results if not r.passed]

    @property
    def error_rate(self) -> float:
        return len(self.failed) / len(self.results) if self.results else 0.0

    def steps(self) -> dict[str, list[float]]:
        per: dict[str, list[float]] = {}
        for r in self.results:
            for step in r.steps:
                per.setdefault(f"{step.kind}:{step.action}", []).append(step.latency_ms)
        return dict(sorted(per.items()))

    def journeys(self) -> dict[str, list[float]]:
        per: dict[str, list[float]] = {}
        for r in self.results:
            per.setdefault(r.journey, []).append(r.total_ms)
        return per

    def errors(self) -> list[tuple[str, int]]:
        """(journey at step: expectation / error, count), most frequent first."""
        counts: dict[str, int] = {}
        for r in self.failed:
            step = next((s for s in r.steps if not s.passed), None)
            why = (step.failures[0].expectation if step is not None and step.failures else None) or (r.failure or "failed")
            key = f"{r.journey} at {r.failed_step or '?'}: {why[:80]}"
            counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def as_json(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, float]:
            return {"count": len(values), "p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95),
                    "p99_ms": percentile(values, 0.99), "max_ms": max(values) if values else 0.0}

        return {"started": self.started, "skipped": self.skipped, "completed": len(self.results),
                "failed": len(self.failed), "error_rate": round(self.error_rate, 4), "elapsed_s": round(self.elapsed_s, 3),
                "rate_per_s": round(self.started / self.elapsed_s, 2) if self.elapsed_s else 0.0,
                "steps": {k: stats(v) for k, v in self.steps().items()},
                "journeys": {k: stats(v) for k, v in self.journeys().items()},
                "errors": [{"what": what, "count": n} for what, n in self.errors()]}


def run_load(entry: Any, journeys: Sequence[Any], *, rate: float, count: int, max_seconds: float, workers: int = 8,
             clock: Any = time.monotonic, sleep: Any = time.sleep) -> LoadReport:
    """Start journeys[i % len] at `rate` per second, at most `count`, none after `max_seconds` (module
    docstring). The IVR journeys run on `workers` threads; the journeys acting as a test agent run one at
    a time on a lane of their own (so they never hold the IVR journeys' threads while they wait)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from ccaas.usecases.journeys import run_journey

    begin = clock()
    deadline = begin + max_seconds
    skipped = 0
    lock = threading.Lock()

    def one(spec: Any) -> Any:
        nonlocal skipped
        if clock() > deadline:  # queued behind busy threads past the time bound: not started
            with lock:
                skipped += 1
            return None
        return run_journey(entry, spec)

    futures = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="journey-load") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="journey-load-agents") as agents_lane:
        for i in range(count):
            due = begin + i / rate
            now = clock()
            if due > deadline or now > deadline:
                break
            if due > now:
                sleep(due - now)
            spec = journeys[i % len(journeys)]
            futures.append((agents_lane if spec.agents() else pool).submit(one, spec))
        results = [f.result() for f in futures]
    done = [r for r in results if r is not None]
    return LoadReport(started=len(done), skipped=skipped + (count - len(futures)), elapsed_s=clock() - begin,
                      results=done)


def print_load(report: LoadReport) -> None:
    from bench.table import print_table

    print_table(f"load: {report.started} journeys in {report.elapsed_s:.1f} s "
                f"({report.started / report.elapsed_s if report.elapsed_s else 0:.1f}/s), {len(report.failed)} failed, "
                f"{report.skipped} not started (time bound)",
                ["step", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [[k, len(v), round(percentile(v, .5), 1), round(percentile(v, .95), 1), round(percentile(v, .99), 1),
                  round(max(v), 1)] for k, v in [*report.steps().items(),
                                                  *((f"journey {j}", v) for j, v in report.journeys().items())]])
    for what, n in report.errors():
        print(f"error x{n}: {what}")


def _load(args: argparse.Namespace, runtime: Any = None) -> int:
    suite = _suite_for(args)
    if not args.rate > 0:
        raise UsageError(f"--rate must be above 0, got {args.rate:g}")
    if args.count < 1 or args.max_seconds <= 0 or args.workers < 1:
        raise UsageError("--count, --max-seconds and --workers must be at least 1 (seconds: above 0)")
    if not 0 <= args.max_error_rate <= 1:
        raise UsageError("--max-error-rate is a share between 0 and 1")
    journeys = [j for j in suite.journeys if not args.journey or j.name in args.journey]
    if not journeys:
        raise UsageError(f"spec {args.spec}: no journeys to run")

    def go(entry: Any) -> LoadReport:
        return run_load(entry, journeys, rate=args.rate, count=args.count, max_seconds=args.max_seconds,
                        workers=args.workers)

    if args.api and args.target == "local":
        raise UsageError("give either --api URL --key KEY (a deployed stage) or local, not both")
    if args.api:
        report = go(_http_entry(args, needs_flow=any(s.kind == "flow" for j in journeys for s in j.steps)))
    elif runtime is not None:
        report = go(prepare_sandbox(runtime))
    else:
        from local.runtime import LocalRuntime

        print("starting the local runtime (sandbox tenant)...", file=sys.stderr, flush=True)
        with LocalRuntime(capture_handler_output=True) as started:
            report = go(prepare_sandbox(started))
    if args.json:
        print(json.dumps(report.as_json(), indent=1))
    else:
        print_load(report)
    if report.error_rate > args.max_error_rate:
        print(f"{PROG}: failed: {len(report.failed)}/{len(report.results)} journeys failed "
              f"({100 * report.error_rate:.1f} % > {100 * args.max_error_rate:g} %)", file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------------- `make run`: every minute
DEMO_SPEC = "journeys/demo.json"
EVERY_S = 60.0


def schedule_demo_journeys(runtime: Any, every_s: float = EVERY_S) -> Any:
    """`make run`: the demo tenant's IVR journeys (the demo suite's flow-only journeys: they create no
    contact and need no test agent) stored as its journeys (PUT /settings/journeys), and the deployed
    run_journeys function's schedule fired every `every_s` (its template rate is 5 minutes, as on AWS; a
    tick finding the previous run still going is skipped, as the local scheduler does). Returns the
    ticker (`.stop()`; it also ends with the runtime's scheduler), None without the schedule."""
    import threading
    from pathlib import Path

    from ccaas.domain.journeys import parse_suite
    from local.seed import DEMO_CONNECT_INSTANCE_ARN
    from local.simulation import ApiClient

    suite = parse_suite(json.loads((Path(__file__).resolve().parent.parent / DEMO_SPEC).read_text()))
    ivr = [j.model_dump(mode="json", exclude_defaults=True) for j in suite.journeys if all(s.kind == "flow" for s in j.steps)]
    status, body = ApiClient(runtime.api_url, runtime.key("demo", "admin")).call(
        "PUT", "/settings/journeys", {"connect_instance_arn": DEMO_CONNECT_INSTANCE_ARN, "journeys": ivr})
    if status != 200:  # `make run` goes on without them (said once on stderr)
        print(f"{PROG}: warning: the demo journeys were refused ({status}): {body}", file=sys.stderr)
        return None
    scheduler = runtime.scheduler
    names = [n for n in (scheduler.schedules if scheduler else {}) if "RunJourneys" in n]
    if not names:
        return None
    return _Ticker(runtime, scheduler, names[0], every_s).start()


class _Ticker:
    def __init__(self, runtime: Any, scheduler: Any, name: str, every_s: float) -> None:
        import threading

        self.runtime, self.scheduler, self.name, self.every_s = runtime, scheduler, name, every_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="local-journeys", daemon=True)

    def start(self) -> _Ticker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(5)

    def _run(self) -> None:
        while not self.stopped.wait(self.every_s) and self.runtime.scheduler is self.scheduler:
            self.scheduler._fire_in_background(self.name, time.time())  # noqa: SLF001 - the scheduler's own tick


if __name__ == "__main__":
    sys.exit(main())
