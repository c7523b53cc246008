"""The fuzz tier's engine: schemathesis cases for every operation of a running API, each sent once and its
response checked; failures are collected, never raised mid-run (so Hypothesis never shrinks or replays,
and one bad operation does not hide the next), then summarised.

Bounded and deterministic: every case is drawn before anything is sent, by Hypothesis with a fixed seed
per operation and batch, no example database and none of the constants it would otherwise pick up from
whatever modules the process has loaded, so one seed is one list of requests, in `make test` as alone;
they are sent one at a time, in that order. Only the server's state (ids it makes, clocks) varies.
"""
from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import logging
import os
import re
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity
from schemathesis import GenerationMode
from schemathesis.checks import max_response_time, not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

# What fails the tier: a 5xx, an undocumented status, a body or content type its status does not
# document, a response slower than the limit. Advisory checks are reported, never failed on.
FAILING_CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    max_response_time,
)
ADVISORY_CHECKS = (positive_data_acceptance, negative_data_rejection)
EXCERPT = 300


@dataclass(frozen=True)
class Budget:
    """Examples drawn per operation: schema-valid, schema-invalid, and schema-valid with path ids that
    exist (so the fuzzing reaches past the 404s), the last only where every path id is known."""

    positive: int = 30
    negative: int = 30
    known_ids: int = 12


@dataclass
class Planned:
    operation: Any  # schemathesis APIOperation
    batch: str
    case: Any  # schemathesis Case


@dataclass
class Finding:
    seq: int  # which request of the run (0-based, in sending order)
    operation: str
    check: str
    status: int | None
    title: str
    cause: str  # what the grouping keys on: the failed rule, or where the handler raised
    detail: str  # the failure's message, or the handler's exception message
    request: str  # METHOD /path?query
    request_body: str
    response_body: str
    curl: str
    batch: str
    elapsed_s: float


@dataclass
class FuzzResult:
    seed: int
    budget: Budget
    requests: int = 0
    duration_s: float = 0.0
    generation_s: float = 0.0
    planned: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    per_operation: dict[str, collections.Counter] = field(default_factory=lambda: collections.defaultdict(collections.Counter))
    findings: list[Finding] = field(default_factory=list)
    advisories: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    slowest: tuple[float, str, str] = (0.0, "", "")  # seconds, operation, request

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if isinstance(status, int) and status >= 500)

    def responses_failing(self, check: str) -> int:
        return len({f.seq for f in self.findings if f.check == check})

    def numbers(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "planned": self.planned,
            "duration_s": round(self.duration_s, 1),
            "generation_s": round(self.generation_s, 1),
            "server_errors": self.server_errors,
            "schema_violations": self.responses_failing("response_schema_conformance"),
            "undocumented_status": self.responses_failing("status_code_conformance"),
            "undocumented_content_type": self.responses_failing("content_type_conformance"),
            "slow_requests": self.responses_failing("max_response_time"),
            "slowest": {"seconds": round(self.slowest[0], 3), "operation": self.slowest[1], "request": self.slowest[2]},
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "budget": asdict(self.budget),
            **self.numbers(),
            "status_counts": {str(k): v for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))},
            "per_operation": {op: {str(k): v for k, v in sorted(c.items(), key=lambda kv: str(kv[0]))}
                              for op, c in self.per_operation.items()},
            "failures": grouped(self.findings),
            "advisories": grouped(self.advisories),
            "notes": self.notes,
        }

    def summary(self, max_rows: int = 200) -> str:
        n = self.numbers()
        groups = grouped(self.findings)
        lines = [
            f"fuzz: {n['requests']} requests ({n['planned']} planned) in {n['duration_s']} s "
            f"(+{n['generation_s']} s drawing), seed {self.seed}",
            f"  5xx responses: {n['server_errors']}; schema violations: {n['schema_violations']}; "
            f"undocumented status: {n['undocumented_status']}; undocumented content type: "
            f"{n['undocumented_content_type']}; slower than the limit: {n['slow_requests']}",
            f"  slowest: {n['slowest']['seconds']} s {n['slowest']['operation']} ({n['slowest']['request'][:120]})",
            f"  statuses: {dict(sorted((str(k), v) for k, v in self.statuses.items()))}",
        ]
        if groups:
            lines.append(f"  {len(self.findings)} failures in {len(groups)} groups:")
            lines.append(table(groups[:max_rows]))
            if len(groups) > max_rows:
                lines.append(f"  ... {len(groups) - max_rows} more groups (see FUZZ_REPORT)")
        if self.advisories:
            lines.append(f"  advisory (not failed on): {len(self.advisories)} in {len(grouped(self.advisories))} groups")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def grouped(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """One row per (operation, check, status, cause): its count and the first request that showed it."""
    groups: dict[tuple, dict[str, Any]] = {}
    for f in findings:
        key = (f.operation, f.check, f.status, f.cause)
        if key not in groups:
            groups[key] = {"operation": f.operation, "check": f.check, "status": f.status, "title": f.title,
                           "cause": f.cause, "count": 0, "batches": collections.Counter(), "sample": asdict(f)}
        groups[key]["count"] += 1
        groups[key]["batches"][f.batch] += 1
    rows = sorted(groups.values(), key=lambda g: (g["check"], g["operation"], str(g["status"]), g["cause"]))
    for g in rows:
        g["batches"] = dict(g["batches"])
    return rows


def table(groups: list[dict[str, Any]]) -> str:
    header = ("operation", "check", "status", "n", "cause", "reproduction")
    rows = [header] + [
        (g["operation"], g["check"], str(g["status"]), str(g["count"]), g["cause"][:90], g["sample"]["curl"][:200])
        for g in groups
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  " + "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows
    )


# -- schema and cases ---------------------------------------------------------------------------------
def load_schema(api_url: str, api_key: str, *, slow_s: float) -> Any:
    """The API's own OpenAPI document (served under the stage, /v1/openapi.json), every request with the
    tenant's bearer key (schemathesis' `headers` setting), no generated credentials, and the response-time
    limit as schemathesis' `max_response_time`."""
    config = schemathesis.Config.from_dict({
        "headers": {"Authorization": f"Bearer {api_key}"},
        "generation": {"with-security-parameters": False},
        "checks": {"max_response_time": slow_s},
        "output": {"sanitization": {"enabled": True}},
    })
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json", config=config, timeout=30)


@contextlib.contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis (6.13x+) also draws constants it finds in every loaded module of this project, so what
    a seed draws would depend on which tests ran first in the process (`make test` loads them all, a
    lone `pytest tests/fuzz` few). Off while drawing, so a seed draws the same cases everywhere."""
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):  # another Hypothesis: nothing to pin
        yield
        return
    real, empty = providers._get_local_constants, providers.Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = real
        providers.CONSTANTS_CACHE.cache.clear()


def draw(strategy: Any, examples: int, seed: int) -> list[Any]:
    """Up to `examples` cases from a schemathesis strategy, the same ones for the same seed (fewer when the
    operation has fewer distinct inputs)."""
    drawn: list[Any] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,  # the explicit seed decides
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @hypothesis.given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    collect()
    return drawn


def operations_of(schema: Any, role: str | None = None) -> list[Any]:
    """The schema's operations, or only those whose `x-roles` admit `role`."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if role is None or role in (op.definition.raw.get("x-roles") or [])]


def shard(labels: list[str], index: int, shards: int) -> list[str]:
    """The `index`-th of `shards` interleaved slices of the operations (schema order): each a test of its
    own, together every operation once; an operation's cases do not depend on the slice it is in."""
    if not 0 <= index < shards:
        raise ValueError(f"shard {index} of {shards}")
    return labels[index::shards]


def plan(schema: Any, budget: Budget, seed: int, known_ids: Mapping[str, str], min_requests: int,
         notes: list[str], role: str | None = None, only: Collection[str] | None = None) -> list[Planned]:
    """Every operation's batches (or those of the operations labelled in `only`), in schema order; when
    they come to fewer than `min_requests` (an operation has fewer distinct inputs than its budget), the
    batches that filled their budget draw the rest, with another seed, so the tier's size does not shrink
    with the schema."""
    batches: list[tuple[Any, str, Any, int]] = []  # operation, batch, strategy, examples
    for operation in operations_of(schema, role):
        if only is not None and operation.label not in only:
            continue
        path_ids = [p.name for p in operation.path_parameters]
        for batch, mode, examples in (("positive", GenerationMode.POSITIVE, budget.positive),
                                      ("negative", GenerationMode.NEGATIVE, budget.negative)):
            batches.append((operation, batch, operation.as_strategy(generation_mode=mode), examples))
        if path_ids and all(name in known_ids for name in path_ids):
            fixed = {name: known_ids[name] for name in path_ids}
            strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=fixed)
            batches.append((operation, "known-ids", strategy, budget.known_ids))

    drawn: list[list[Any]] = []
    with without_local_constants():
        for operation, batch, strategy, examples in batches:
            cases = _draw_batch(strategy, examples, _seed(seed, operation, batch))
            if not cases:
                notes.append(f"{operation.label} {batch}: nothing to draw")
            drawn.append(cases)
        short = min_requests - sum(map(len, drawn))
        full = [i for i, (_, _, _, examples) in enumerate(batches) if examples and len(drawn[i]) >= examples]
        if short > 0 and full:
            extra = -(-short // len(full))
            for i in full:
                operation, batch, strategy, _ = batches[i]
                drawn[i] += _draw_batch(strategy, extra, _seed(seed + 1, operation, batch))
            notes.append(f"{short} requests short of {min_requests}: {extra} more drawn for each of {len(full)} batches")
    return [Planned(batches[i][0], batches[i][1], case) for i, cases in enumerate(drawn) for case in cases]


def _seed(seed: int, operation: Any, batch: str) -> int:
    return (seed + zlib.crc32(f"{operation.label} {batch}".encode())) % 2**32


def _draw_batch(strategy: Any, examples: int, seed: int) -> list[Any]:
    if examples <= 0:
        return []
    try:
        return draw(strategy, examples, seed)
    except hypothesis.errors.Unsatisfiable:
        return []


# -- sending and checking -----------------------------------------------------------------------------
class GatewayLog(logging.Handler):
    """The local API gateway's warnings (a Lambda error with its traceback behind a 502), while installed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        out, self.records = self.records, []
        return out

    @classmethod
    @contextlib.contextmanager
    def installed(cls) -> Iterator[GatewayLog]:
        log, logger = cls(), logging.getLogger("local.api")
        logger.addHandler(log)
        try:
            yield log
        finally:
            logger.removeHandler(log)


def handler_error(records: list[logging.LogRecord]) -> tuple[str, str] | None:
    """(`ErrorType @ where`, its message) of the handler exception behind a gateway 502; `where` is the
    innermost frame of our code (functions/, layers/) and, when the error came from deeper, the library's."""
    for record in records:
        payload = record.args[-1] if isinstance(record.args, tuple) and record.args else None
        if not isinstance(payload, dict) or "errorType" not in payload:
            continue
        frames = [m for frame in payload.get("stackTrace") or []
                  if (m := re.search(r'File "([^"]+)", line (\d+), in (\S+)', frame))]
        ours = [m for m in frames if re.search(r"/(layers/ccaas|functions)/", m.group(1))]
        where = [f"{_short(m.group(1))}:{m.group(2)} {m.group(3)}" for m in (ours[-1:] + frames[-1:])]
        at = f" @ {where[0]}" + (f" (in {where[1]})" if len(where) > 1 and where[1] != where[0] else "") if where else ""
        return f"{payload['errorType']}{at}", str(payload.get("errorMessage", ""))[:EXCERPT]
    return None


def _short(path: str) -> str:
    """ccaas/adapters/aws/history.py for our files (several share a name), the file name for a library's."""
    m = re.search(r"/(?:layers/)?((?:ccaas|functions)/.*)$", path)
    return m.group(1) if m else path.rsplit("/", 1)[-1]


def excerpt(data: Any, limit: int = EXCERPT) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = repr(data)
    else:
        text = str(data)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def cause_of(failure: Failure, check: str, response: Any, server_error: tuple[str, str] | None) -> tuple[str, str]:
    """(what findings are grouped by, the particulars of this one)."""
    message = failure.message or ""
    if check == "not_a_server_error":
        if server_error is not None:
            return server_error
        return f"{response.status_code} without a handler exception", excerpt(response.content, 200)
    if check == "response_schema_conformance":
        rule = getattr(failure, "validation_message", "") or message.splitlines()[0]
        path = "/".join("*" if isinstance(p, int) else str(p) for p in getattr(failure, "instance_path", None) or [])
        return f"{failure.title}: {rule[:100]}" + (f" at /{path}" if path else ""), message[:EXCERPT]
    if check == "status_code_conformance":
        return message.replace("\n", "; "), message
    if check == "max_response_time":
        return "slower than the limit", message.replace("\n", "; ")
    return f"{failure.title}: {message.splitlines()[0][:100] if message else ''}", message[:EXCERPT]


def run_checks(case: Any, response: Any, checks: Iterable[Callable], headers: Mapping[str, str]) -> list[tuple[str, Failure]]:
    """Each check on its own, so every failure keeps the name of the check that raised it."""
    out: list[tuple[str, Failure]] = []
    for check in checks:
        try:
            case.validate_response(response, checks=[check], headers=dict(headers))
        except FailureGroup as group:
            out += [(check.__name__, f) for f in group.exceptions]
        except Failure as failure:
            out.append((check.__name__, failure))
    return out


def fuzz(
    schema: Any,
    api_url: str,
    api_key: str,
    *,
    budget: Budget,
    seed: int,
    known_ids: Mapping[str, str],
    min_requests: int,
    timeout_s: float = 30.0,
    max_seconds: float = 600.0,
    slow_s: float | None = None,
    progress: Callable[[str], None] | None = None,
    role: str | None = None,
    only: Collection[str] | None = None,
) -> FuzzResult:
    """`role`: only the operations that admit it (the key is that role's); `only`: only the operations with
    these labels (a shard of the tier)."""
    result = FuzzResult(seed=seed, budget=budget)
    t0 = time.perf_counter()
    planned = plan(schema, budget, seed, known_ids, min_requests, result.notes, role, only)
    result.generation_s = time.perf_counter() - t0
    result.planned = len(planned)
    headers = {"Authorization": f"Bearer {api_key}"}
    started = time.perf_counter()
    with GatewayLog.installed() as gateway_log, local_session() as session:
        for i, item in enumerate(planned):
            if time.perf_counter() - started > max_seconds:
                result.notes.append(f"stopped after {max_seconds:.0f} s: {len(planned) - i} planned requests not sent")
                break
            if progress is not None and i % 250 == 0:
                progress(f"{i}/{len(planned)} sent, {time.perf_counter() - started:.0f} s")
            _send(item, api_url, session, headers, timeout_s, gateway_log, result, slow_s)
    result.duration_s = time.perf_counter() - started
    return result


def local_session() -> requests.Session:
    """A session for the local API: no proxies or .netrc from the environment (requests would read the whole
    environment for them on every request: ~2 % of the tier's CPU)."""
    session = requests.Session()
    session.trust_env = False
    return session


def _slow_only_once(case: Any, api_url: str, session: requests.Session, headers: Mapping[str, str],
                    timeout_s: float, slow_s: float) -> float | None:
    """A request over the limit is sent once more: the seconds of the repeat when it is within the limit
    (the first was a scheduling hiccup of a loaded 2-core machine, not the server), else None."""
    try:
        repeat = case.call(base_url=api_url, session=session, headers=dict(headers), timeout=timeout_s)
    except Exception:  # noqa: BLE001 - the first answer stands
        return None
    return repeat.elapsed if repeat.elapsed <= slow_s else None


def _send(item: Planned, api_url: str, session: requests.Session, headers: Mapping[str, str],
          timeout_s: float, gateway_log: GatewayLog, result: FuzzResult, slow_s: float | None = None) -> None:
    case, label = item.case, item.operation.label
    gateway_log.take()
    try:
        response = case.call(base_url=api_url, session=session, headers=dict(headers), timeout=timeout_s)
    except requests.RequestException as exc:
        result.requests += 1
        result.statuses["transport error"] += 1
        result.per_operation[label]["transport error"] += 1
        result.findings.append(Finding(
            seq=result.requests - 1, operation=label, check="transport", status=None, title=type(exc).__name__,
            cause=type(exc).__name__, detail=str(exc)[:EXCERPT], request=f"{case.method} {case.formatted_path}",
            request_body=excerpt(case.body), response_body="", curl=_curl(case, api_url, headers),
            batch=item.batch, elapsed_s=timeout_s,
        ))
        return
    except Exception as exc:  # noqa: BLE001 - a case the client cannot send (e.g. a header requests refuses)
        result.notes.append(f"{label} {item.batch}: not sent ({type(exc).__name__}: {str(exc)[:100]})")
        return
    result.requests += 1
    result.statuses[response.status_code] += 1
    result.per_operation[label][response.status_code] += 1
    sent = response.request
    request_line = f"{sent.method} {sent.path_url}"
    if response.elapsed > result.slowest[0]:
        result.slowest = (response.elapsed, label, request_line)
    server_error = handler_error(gateway_log.take()) if response.status_code >= 500 else None
    repeat_s = (_slow_only_once(case, api_url, session, headers, timeout_s, slow_s)
                if slow_s is not None and response.elapsed > slow_s else None)
    for checks, bucket in ((FAILING_CHECKS, result.findings), (ADVISORY_CHECKS, result.advisories)):
        for check, failure in run_checks(case, response, checks, headers):
            if check == "max_response_time" and repeat_s is not None:
                result.notes.append(f"{label}: {response.elapsed:.2f} s once, {repeat_s:.2f} s repeated (not counted)")
                continue
            cause, detail = cause_of(failure, check, response, server_error)
            bucket.append(Finding(
                seq=result.requests - 1, operation=label, check=check, status=response.status_code,
                title=failure.title, cause=cause, detail=detail, request=request_line,
                request_body=excerpt(sent.body), response_body=excerpt(response.content),
                curl=_curl(case, api_url, headers), batch=item.batch, elapsed_s=round(response.elapsed, 3),
            ))


def _curl(case: Any, api_url: str, headers: Mapping[str, str]) -> str:
    try:
        return case.as_curl_command(headers=dict(headers), base_url=api_url)
    except Exception:  # noqa: BLE001 - a reproduction is a nicety
        return f"{case.method} {api_url}{case.formatted_path}"


def update_report(path: str, section: str, content: Mapping[str, Any]) -> None:
    """Replace one section of the JSON report at `path`, keeping the others: the tier's tests may run in
    different worker processes, each writing its own section (under a lock, replaced atomically)."""
    target = Path(path)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            sections = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            sections = {}
        sections[section] = {**content, "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_text(json.dumps(sections, indent=2, default=str), encoding="utf-8")
        tmp.replace(target)
