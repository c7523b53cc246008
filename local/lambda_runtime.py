"""Runs the real `lambda_handler` functions in-process, behind moto's Lambda service.

moto cannot run Python Lambda code without Docker; every way a function gets invoked in moto (the
Invoke API, Step Functions tasks, event source mappings, SNS) ends in
`moto.awslambda.models.LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)`.
`local.moto_patches` replaces that method with `invoke_in_process` below for the functions the
deployer registered here (others keep moto's behaviour).

Each invocation gets:
- its function's environment (template variables + the variables the Lambda runtime sets), applied
  through a context-variable overlay on os.environ (local.env_overlay) so concurrent invocations of
  different functions never see each other's variables;
- a Lambda-like context object (function_name, memory_limit_in_mb, invoked_function_arn,
  aws_request_id, get_remaining_time_in_millis(), ...);
- on an exception, the Lambda Python runtime's error payload {errorMessage, errorType, requestId,
  stackTrace}, flagged as a function error, so Step Functions Retry/Catch by exception class name
  (e.g. `ContactAbandoned`) works as on AWS.

Handler modules are imported from the SOURCE folder (functions/<folder>/), not from the staged copy
in cdk.out, under a unique package name per function (every function has a handler.py), the first
time the function is invoked (a cold start), inside that function's environment.

Concurrency: on AWS an execution environment runs ONE invocation at a time, so handler code may keep
per-invocation state in module globals (Powertools' BatchProcessor, a module-level resolver holding
`current_event`, a list a batch fills). In one shared interpreter, two concurrent invocations of the
same module would share those globals (measured: the stream consumer mixed two shards' records, which
then failed its watermark check). Worse, some state is process-wide whatever the module: Powertools'
event handler keeps the request in a CLASS attribute (`BaseRouter.current_event = ...`), so two
concurrent API invocations in one process can read each other's authorizer context (the tenant).

So each function has a pool of execution environments, by default ONE (`REGISTRY.max_concurrency`;
`LocalRuntime(function_environments=N)` sets it, `python -m local` uses 4):
invocations of a function queue behind each other (the queueing time is in STATS), different
functions run in parallel. A stream consumer gets one environment per shard, as Lambda runs one
invocation per shard (local.runtime sets it): each environment is a separate import of the handler
module (a cold start when created) and runs one invocation at a time. The REST API's function gets
`LocalRuntime(api_environments=4)` environments once local.request_isolation has made Powertools' request
state (the class-level `current_event`, the resolver's `context`) per invocation. Still shared between those
(AWS shares nothing): the layer package and Powertools' process-wide Logger keys, which can put another
invocation's keys on a log line (Powertools' Metrics sets, process-wide too, are made per environment:
_own_metrics_state).
"""
from __future__ import annotations

import decimal
import hashlib
import contextlib
import importlib
import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator
from typing import Any, Callable

from local import call_counter, env_overlay, log_sink

log = logging.getLogger("local.lambda")


@dataclass
class FunctionSpec:
    """How to run one deployed function in-process."""

    function_name: str  # physical name in moto
    folder: str  # functions/<folder>
    source_dir: Path
    handler: str = "handler.lambda_handler"
    logical_id: str = ""
    # Variables the local runtime adds on top of the template's (e.g. to silence X-Ray).
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def package_name(self) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in self.folder)
        # one package per deployed function, even if two functions share a folder
        digest = hashlib.sha1(self.function_name.encode()).hexdigest()[:6]
        return f"_local_fn_{safe}_{digest}"


class ExecutionEnvironment:
    """One imported copy of a function's handler module: what a Lambda execution environment holds."""

    def __init__(self, spec: FunctionSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.handler: Callable[[Any, Any], Any] | None = None
        self.init_ms = 0.0

    @property
    def package_name(self) -> str:
        return self.spec.package_name if self.index == 0 else f"{self.spec.package_name}_env{self.index}"

    def load(self) -> tuple[Callable[[Any, Any], Any], bool, float]:
        """(handler, cold, init_ms). Call inside the function's env overlay (module-level code reads it)."""
        if self.handler is not None:
            return self.handler, False, 0.0
        started = time.perf_counter()
        self.handler = _import_handler(self.spec, self.package_name)
        self.init_ms = (time.perf_counter() - started) * 1000
        return self.handler, True, self.init_ms


class _Pool:
    """A function's execution environments: each runs one invocation at a time; a new one (a cold
    start) is created only when all are busy and fewer than `limit` exist, otherwise callers queue."""

    def __init__(self, spec: FunctionSpec, limit: int) -> None:
        self.spec = spec
        self.limit = max(1, limit)
        self.cv = threading.Condition()
        self.all: list[ExecutionEnvironment] = []
        self.free: list[ExecutionEnvironment] = []

    def acquire(self) -> ExecutionEnvironment:
        with self.cv:
            while True:
                if self.free:
                    return self.free.pop()
                if len(self.all) < self.limit:
                    env = ExecutionEnvironment(self.spec, len(self.all))
                    self.all.append(env)
                    return env
                self.cv.wait()

    def release(self, env: ExecutionEnvironment) -> None:
        with self.cv:
            self.free.append(env)
            self.cv.notify()


class HandlerRegistry:
    """function name -> FunctionSpec, and each function's pool of execution environments (kept warm).

    `max_concurrency` is the default number of environments per function (see the module doc);
    `set_concurrency(name, n)` sets it for one function (1 = strictly one invocation at a time).
    """

    def __init__(self, max_concurrency: int = 1) -> None:
        self._lock = threading.Lock()
        self._specs: dict[str, FunctionSpec] = {}
        self._pools: dict[str, _Pool] = {}
        self._limits: dict[str, int] = {}
        self.max_concurrency = max_concurrency

    def register(self, spec: FunctionSpec) -> None:
        with self._lock:
            self._specs[spec.function_name] = spec

    def clear(self) -> None:
        """Forget the deployment (function names, limits); keep imported modules warm (same source)."""
        with self._lock:
            self._specs.clear()
            self._limits.clear()

    def get(self, function_name: str) -> FunctionSpec | None:
        return self._specs.get(function_name)

    def specs(self) -> list[FunctionSpec]:
        return list(self._specs.values())

    def set_concurrency(self, function_name: str, environments: int) -> None:
        with self._lock:
            self._limits[function_name] = environments
            for pool in self._pools.values():
                if pool.spec.function_name == function_name:
                    with pool.cv:
                        pool.limit = max(1, environments)
                        pool.cv.notify_all()

    def _pool(self, spec: FunctionSpec) -> _Pool:
        key = f"{spec.function_name}::{spec.source_dir}::{spec.handler}"
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _Pool(spec, self._limits.get(spec.function_name, self.max_concurrency))
            else:
                pool.limit = max(1, self._limits.get(spec.function_name, self.max_concurrency))
            return pool

    @contextlib.contextmanager
    def environment(self, spec: FunctionSpec) -> Iterator[tuple[ExecutionEnvironment, float]]:
        """Hold one execution environment of the function; yields it and the ms spent waiting."""
        pool = self._pool(spec)
        started = time.perf_counter()
        env = pool.acquire()
        try:
            yield env, (time.perf_counter() - started) * 1000
        finally:
            pool.release(env)

    def environments(self, function_name: str) -> int:
        with self._lock:
            return sum(len(p.all) for p in self._pools.values() if p.spec.function_name == function_name)


_import_lock = threading.RLock()


def _import_handler(spec: FunctionSpec, pkg: str) -> Callable[[Any, Any], Any]:
    """Import <source_dir>/<module>.py as a submodule of package `pkg` (one package per environment)."""
    module_path, _, attr = spec.handler.rpartition(".")
    if not module_path or not attr:
        raise ValueError(f"{spec.function_name}: bad Handler {spec.handler!r} (want module.function)")
    with _import_lock:  # the import system is shared by every thread
        _own_metrics_state()
        if pkg not in sys.modules:
            pkg_spec = importlib.util.spec_from_loader(pkg, loader=None, is_package=True)
            assert pkg_spec is not None
            module = importlib.util.module_from_spec(pkg_spec)
            module.__path__ = [str(spec.source_dir)]  # type: ignore[attr-defined]
            sys.modules[pkg] = module
        mod = importlib.import_module(f"{pkg}.{module_path}")
    fn = getattr(mod, attr, None)
    if not callable(fn):
        raise AttributeError(f"{spec.source_dir}/{module_path}.py has no callable {attr!r}")
    return fn


def _own_metrics_state() -> None:
    """Fresh Powertools Metrics state for the handler module about to be imported (call under _import_lock).

    Powertools keeps every `Metrics()` instance's metric, dimension and metadata sets in CLASS attributes, so all the
    instances of one process share them: on AWS one process is one execution environment running one invocation at a
    time, but here every function's environments share the process. One handler's `log_metrics` flush then cleared
    the set while another's was between its emptiness check and serialising it: `SchemaValidationError: Must contain
    at least one metric` failed that invocation (seen in evaluate_alerts and consume_contact_events, under the fuzz
    tier). An instance takes the class's dicts when it is made, and handlers make theirs at import: new dicts before
    each import give each environment its own, as its own process would have."""
    from aws_lambda_powertools.metrics.metrics import Metrics

    Metrics._metrics, Metrics._dimensions, Metrics._metadata, Metrics._default_dimensions = {}, {}, {}, {}


REGISTRY = HandlerRegistry()


class LambdaContext:
    """The attributes of the Lambda Python runtime's context object."""

    def __init__(self, fn: Any, request_id: str, timeout_s: float) -> None:
        self.function_name: str = fn.function_name
        self.function_version: str = getattr(fn, "version", "$LATEST") or "$LATEST"
        self.invoked_function_arn: str = fn.function_arn
        self.memory_limit_in_mb: int = int(getattr(fn, "memory_size", 128) or 128)
        self.aws_request_id: str = request_id
        self.log_group_name: str = f"/aws/lambda/{fn.function_name}"
        self.log_stream_name: str = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name}, {self.aws_request_id})"


def _lambda_env(fn: Any, spec: FunctionSpec, endpoint: str | None) -> dict[str, str]:
    """What a function sees on AWS: the runtime's variables, then its own (template) variables."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(getattr(fn, "memory_size", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{getattr(fn, 'run_time', 'python3.13')}",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "_HANDLER": spec.handler,
        # Local only: there is no X-Ray daemon; Powertools Tracer would otherwise try to send.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(spec.extra_env)
    env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
    return env


def _json_default(obj: Any) -> Any:
    # The Lambda Python runtime serialises Decimal (as DynamoDB returns numbers) like this.
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    tb = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(tb),
    }


# Set by the runtime so handlers reach moto even if the process env lacks it.
ENDPOINT: dict[str, str | None] = {"url": None}


def invoke_in_process(fn: Any, spec: FunctionSpec, event: Any) -> tuple[str, bool, str]:
    """Run one invocation. Returns moto's (payload, errored, logs) triple."""
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event or "{}")
        except ValueError:
            pass  # a non-JSON payload is passed as the string, like the runtime does
    request_id = str(uuid.uuid4())
    timeout_s = float(getattr(fn, "timeout", 3) or 3)
    env = _lambda_env(fn, spec, ENDPOINT["url"])
    errored = False
    cold = False
    init_ms = 0.0
    trigger = call_counter.trigger_of(event)
    with REGISTRY.environment(spec) as (environment, queued_ms):
        started = time.perf_counter()
        # This thread's CPU: the handler and, through the in-process transport, moto's work on its AWS calls.
        cpu_started = time.thread_time()
        payload, errored, cold, init_ms = _run(fn, environment, event, env, request_id, timeout_s, trigger)
        cpu_ms = (time.thread_time() - cpu_started) * 1000
    elapsed = time.perf_counter() - started - init_ms / 1000
    if elapsed > timeout_s:
        # On AWS the invocation would have been killed; locally we cannot stop a thread. Say so.
        log.warning("%s ran %.1fs, longer than its %ss timeout", fn.function_name, elapsed, timeout_s)
        log_sink.write_line(f"[WARN] {fn.function_name} {request_id} exceeded timeout ({elapsed:.1f}s)")
    call_counter.COUNTER.record_invocation(fn.function_name, errored, trigger)
    STATS.record(fn.function_name, (time.perf_counter() - started) * 1000, cold, errored, queued_ms, cpu_ms)
    return payload, errored, ""


def invoke_registered_answer(function_arn: str, event: Any) -> tuple[str | None, Any] | None:
    """invoke_registered's answer as the Invoke API gives it: (FunctionError, the payload parsed as JSON when it
    is JSON); None when the function is not registered here (the caller then uses the Invoke API)."""
    direct = invoke_registered(function_arn, event)
    if direct is None:
        return None
    raw_payload, errored = direct
    try:
        payload = json.loads(raw_payload) if raw_payload else None
    except ValueError:
        payload = raw_payload
    # moto's Invoke reports any error of an in-process function as "Handled" (see its invoke)
    return ("Handled" if errored else None), payload


def invoke_registered(function_arn: str, event: Any) -> tuple[str, bool] | None:
    """Invoke a function registered here in-process, exactly as moto's Invoke API would (it ends in
    invoke_in_process, see local.moto_patches) minus its HTTP round trip and JSON re-encoding: the
    runtime's own callers (the Kinesis poller) use it. Returns (payload, errored), or None when the
    function is not registered here or moto does not know it (the caller then uses the Invoke API)."""
    parts = function_arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda":
        return None
    region, account_id, name = parts[3], parts[4], parts[6]
    spec = REGISTRY.get(name)
    if spec is None:
        return None
    try:
        from moto.awslambda.models import lambda_backends

        fn = lambda_backends[account_id][region].get_function(name)
    except Exception:  # noqa: BLE001 - unknown to moto (or moto moved): use the Invoke API
        return None
    payload, errored, _ = invoke_in_process(fn, spec, event)
    return payload, errored


def _run(
    fn: Any, environment: ExecutionEnvironment, event: Any, env: dict[str, str], request_id: str, timeout_s: float,
    trigger: str,
) -> tuple[str, bool, bool, float]:
    errored = False
    cold = False
    init_ms = 0.0
    with env_overlay.overlay(env), call_counter.attribute_to(fn.function_name, trigger), log_sink.capture(
        fn.function_name, request_id
    ):
        try:
            handler, cold, init_ms = environment.load()
            context = LambdaContext(fn, request_id, timeout_s)
            result = handler(event, context)
            try:
                payload = json.dumps(result, default=_json_default)
            except (TypeError, ValueError) as exc:
                errored = True
                payload = json.dumps(
                    {
                        "errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError",
                        "requestId": request_id,
                        "stackTrace": [],
                    }
                )
        except Exception as exc:  # noqa: BLE001 - every handler error becomes a function error
            errored = True
            payload = json.dumps(error_payload(exc, request_id))
            log.info("%s raised %s: %s", fn.function_name, type(exc).__name__, exc)
            log_sink.write_line(
                f"[ERROR] {fn.function_name} {request_id} {type(exc).__name__}: {exc}\n"
                + "".join(traceback.format_exception(exc))
            )
    return payload, errored, cold, init_ms


class InvocationStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cold_starts: dict[str, int] = {}
        self.total_ms: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.queued_ms: dict[str, float] = {}
        self.max_queued_ms: dict[str, float] = {}
        self.cpu_ms: dict[str, float] = {}

    def record(self, name: str, ms: float, cold: bool, errored: bool, queued_ms: float = 0.0,
               cpu_ms: float = 0.0) -> None:
        with self._lock:
            self.count[name] = self.count.get(name, 0) + 1
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + cpu_ms
            self.queued_ms[name] = self.queued_ms.get(name, 0.0) + queued_ms
            self.max_queued_ms[name] = max(self.max_queued_ms.get(name, 0.0), queued_ms)
            self.total_ms[name] = self.total_ms.get(name, 0.0) + ms
            if cold:
                self.cold_starts[name] = self.cold_starts.get(name, 0) + 1
            if errored:
                self.errors[name] = self.errors.get(name, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self.cold_starts.clear()
            self.total_ms.clear()
            self.count.clear()
            self.errors.clear()
            self.queued_ms.clear()
            self.max_queued_ms.clear()
            self.cpu_ms.clear()

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {
                name: {
                    "invocations": n,
                    "avg_ms": round(self.total_ms[name] / n, 1),
                    "avg_queued_ms": round(self.queued_ms.get(name, 0.0) / n, 1),
                    "max_queued_ms": round(self.max_queued_ms.get(name, 0.0), 1),
                    # the invoking thread's CPU (includes moto's handling of the function's AWS calls)
                    "cpu_s": round(self.cpu_ms.get(name, 0.0) / 1000, 2),
                    "avg_cpu_ms": round(self.cpu_ms.get(name, 0.0) / n, 1),
                    "cold_starts": self.cold_starts.get(name, 0),
                    "errors": self.errors.get(name, 0),
                }
                for name, n in self.count.items()
            }


STATS = InvocationStats()
