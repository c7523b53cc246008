"""Counts the AWS API calls our Lambda handlers make, per service and operation.

A botocore `before-call` hook sees every API call of every client (it fires once per logical call,
not per HTTP retry). It is registered on every botocore session: appended to botocore's built-in
handler list (sessions created later pick it up) and registered on the sessions that already exist
(boto3's default session). A call is attributed to a handler when it is made inside an in-process
Lambda invocation (a context variable set by local.lambda_runtime); calls made by the runtime itself
(deployer, Kinesis poller, API gateway emulation, the Step Functions engine) are counted apart, so
"AWS calls per completed contact" measures what our code pays for.

Lambda invocations (by any caller) and Step Functions state transitions are counted too: they are
billed per request like API calls.
"""
from __future__ import annotations

import collections
import contextvars
import threading
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_current_function: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "local_current_function", default=None
)

RUNTIME = "<runtime>"


# What triggered an invocation (from the event's shape): lets reports separate the per-contact
# lifecycle from read-only polling (GET requests) and authorizer calls.
TRIGGER_API_READ = "api:GET"
TRIGGER_AUTHORIZER = "authorizer"
READ_ONLY_TRIGGERS = frozenset({TRIGGER_API_READ, "api:HEAD", "api:OPTIONS", TRIGGER_AUTHORIZER})


def trigger_of(event: Any) -> str:
    if isinstance(event, dict):
        if "httpMethod" in event and "requestContext" in event:
            return f"api:{event['httpMethod']}"
        if event.get("type") in ("TOKEN", "REQUEST") and "methodArn" in event:
            return TRIGGER_AUTHORIZER
        records = event.get("Records")
        if isinstance(records, list) and records and isinstance(records[0], dict):
            return str(records[0].get("eventSource") or records[0].get("EventSource") or "records")
    return "invoke"


@dataclass(frozen=True)
class CallKey:
    origin: str  # function name, or RUNTIME
    service: str  # botocore service name: dynamodb, kinesis, stepfunctions, ...
    operation: str  # PutItem, TransactWriteItems, ...
    trigger: str = ""  # api:POST, api:GET, authorizer, aws:kinesis, invoke (Step Functions, CLI)

    @property
    def api(self) -> str:
        return f"{self.service}.{self.operation}"


class CallCounter:
    """Thread-safe counters; cheap enough to leave on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: collections.Counter[CallKey] = collections.Counter()
        self._invocations: collections.Counter[str] = collections.Counter()
        self._invocations_by_trigger: collections.Counter[tuple[str, str]] = collections.Counter()
        self._errors: collections.Counter[str] = collections.Counter()
        # machine doubles, not float objects: 8 bytes a sample, not 32 (up to 5,000 per operation; a busy day
        # calls ~40 operations, ~6 MB of its RSS growth as lists)
        self._latency_ms: dict[str, array[float]] = collections.defaultdict(lambda: array("d"))

    # -- recording ------------------------------------------------------------------------
    def record_call(self, service: str, operation: str) -> None:
        origin, trigger = _current_function.get() or (RUNTIME, "")
        with self._lock:
            self._calls[CallKey(origin, service, operation, trigger)] += 1

    def record_invocation(self, function_name: str, errored: bool, trigger: str = "invoke") -> None:
        with self._lock:
            self._invocations[function_name] += 1
            self._invocations_by_trigger[(function_name, trigger)] += 1
            if errored:
                self._errors[function_name] += 1

    def record_latency(self, api: str, ms: float) -> None:
        with self._lock:
            samples = self._latency_ms[api]
            samples.append(ms)
            if len(samples) > 5000:
                del samples[:2500]

    def latency(self) -> dict[str, dict[str, float]]:
        """service.Operation -> {n, p50_ms, p95_ms} over recent calls (every caller, not only handlers)."""
        with self._lock:
            out = {}
            for api, samples in self._latency_ms.items():
                if samples:
                    xs = sorted(samples)
                    out[api] = {"n": len(xs), "p50_ms": round(xs[len(xs) // 2], 1), "p95_ms": round(xs[int(len(xs) * 0.95)], 1)}
            return out

    def reset(self) -> None:
        with self._lock:
            self._latency_ms.clear()
            self._calls.clear()
            self._invocations.clear()
            self._invocations_by_trigger.clear()
            self._errors.clear()

    # -- reading --------------------------------------------------------------------------
    def handler_calls(self, *, exclude_triggers: frozenset[str] = frozenset()) -> collections.Counter[str]:
        """service.Operation -> calls made by handlers (optionally leaving out some triggers)."""
        out: collections.Counter[str] = collections.Counter()
        with self._lock:
            for key, n in self._calls.items():
                if key.origin != RUNTIME and key.trigger not in exclude_triggers:
                    out[key.api] += n
        return out

    def lifecycle_calls(self) -> collections.Counter[str]:
        """Handler calls without read-only polling (API GETs) and authorizer checks."""
        return self.handler_calls(exclude_triggers=READ_ONLY_TRIGGERS)

    def calls_by_trigger(self) -> dict[str, collections.Counter[str]]:
        out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        with self._lock:
            for key, n in self._calls.items():
                if key.origin != RUNTIME:
                    out[key.trigger][key.api] += n
        return dict(out)

    def invocations_by_trigger(self, *, exclude_triggers: frozenset[str] = frozenset()) -> collections.Counter[str]:
        out: collections.Counter[str] = collections.Counter()
        with self._lock:
            for (fn, trigger), n in self._invocations_by_trigger.items():
                if trigger not in exclude_triggers:
                    out[f"{fn} <- {trigger}"] += n
        return out

    def runtime_calls(self) -> collections.Counter[str]:
        out: collections.Counter[str] = collections.Counter()
        with self._lock:
            for key, n in self._calls.items():
                if key.origin == RUNTIME:
                    out[key.api] += n
        return out

    def by_function(self) -> dict[str, collections.Counter[str]]:
        out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        with self._lock:
            for key, n in self._calls.items():
                if key.origin != RUNTIME:
                    out[key.origin][key.api] += n
        return dict(out)

    def invocations(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self._invocations)

    def invocation_errors(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self._errors)

    def total_handler_calls(self) -> int:
        return sum(self.handler_calls().values())

    def total_invocations(self) -> int:
        return sum(self.invocations().values())

    def per_completed(self, completed: int) -> dict[str, Any]:
        """AWS calls per completed contact: every handler call, and the lifecycle only (without
        read-only API polling and authorizer checks), by operation; plus Lambda invocations."""
        calls = self.handler_calls()
        life = self.lifecycle_calls()
        inv = self.invocations()
        life_inv = self.invocations_by_trigger(exclude_triggers=READ_ONLY_TRIGGERS)
        if not completed:
            return {"completed": 0, "calls_per_contact": None, "lifecycle_calls_per_contact": None,
                    "invocations_per_contact": None, "lifecycle_invocations_per_contact": None,
                    "calls_by_operation": {}, "lifecycle_calls_by_operation": {}, "lifecycle_invocations": {}}
        d = completed
        return {
            "completed": completed,
            "calls_per_contact": sum(calls.values()) / d,
            "lifecycle_calls_per_contact": sum(life.values()) / d,
            "invocations_per_contact": sum(inv.values()) / d,
            "lifecycle_invocations_per_contact": sum(life_inv.values()) / d,
            "calls_by_operation": {k: v / d for k, v in sorted(calls.items())},
            "lifecycle_calls_by_operation": {k: v / d for k, v in sorted(life.items())},
            "lifecycle_invocations": {k: v / d for k, v in sorted(life_inv.items())},
            "calls_by_trigger": {t: sum(c.values()) / d for t, c in self.calls_by_trigger().items()},
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "handler_calls": dict(self.handler_calls()),
            "runtime_calls": dict(self.runtime_calls()),
            "invocations": dict(self.invocations()),
            "invocation_errors": dict(self.invocation_errors()),
        }

    # Mapping-like convenience: runtime.call_counts["dynamodb.PutItem"]
    def __getitem__(self, api: str) -> int:
        return self.handler_calls()[api]

    def __iter__(self) -> Iterator[str]:
        return iter(self.handler_calls())


COUNTER = CallCounter()


@contextmanager
def attribute_to(function_name: str, trigger: str = "invoke") -> Iterator[None]:
    token = _current_function.set((function_name, trigger))
    try:
        yield
    finally:
        _current_function.reset(token)


def current_function() -> str | None:
    current = _current_function.get()
    return None if current is None else current[0]


def _before_call(model: Any = None, context: Any = None, **_: Any) -> None:
    if model is None:
        return
    try:
        service = model.service_model.service_name
        operation = model.name
    except AttributeError:
        return
    COUNTER.record_call(service, operation)
    if isinstance(context, dict):
        context["local_call_started"] = time.perf_counter()


def _after_call(model: Any = None, context: Any = None, **_: Any) -> None:
    if model is None or not isinstance(context, dict) or "local_call_started" not in context:
        return
    try:
        api = f"{model.service_model.service_name}.{model.name}"
    except AttributeError:
        return
    COUNTER.record_latency(api, (time.perf_counter() - context["local_call_started"]) * 1000)


_hook_lock = threading.Lock()
_hooked = False


def install_hook() -> None:
    """Idempotent: count calls of every botocore client, present and future."""
    global _hooked
    with _hook_lock:
        if _hooked:
            return
        import boto3
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _before_call))
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call", _after_call))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register("before-call", _before_call, unique_id="local-call-counter")
            boto3.DEFAULT_SESSION.events.register("after-call", _after_call, unique_id="local-call-latency")
        _hooked = True
