"""The cost model of bench_cost: pure functions from measured counts and a price table to dollars.

Nothing here touches AWS or the local runtime (bench/bench_cost.py measures; tests/unit/test_cost_model.py
checks the arithmetic by hand):

- `load_prices()` reads bench/prices.json (one line per priced unit: service, unit, USD, region, date,
  source URL, and whether the price is certain); `price_problems()` says which lines lack a field.
- `item_size()`, `write_units()`, `read_units()`: DynamoDB request units from item sizes (the on-demand
  rules: a write is 1 WRU per started 1 KB, a read 1 RRU per started 4 KB strongly consistent and half
  that eventually consistent, transactions twice).
- `usage_per_contact(counts)`: the measured totals of a run (see `Counts`) -> quantity per price line
  for one completed customer contact.
- `table_write_units()` and `index_write_units()` (with `index_entry()`, `index_writes()`): the write
  units of one table write from the item before and after it, on the table and on each global secondary
  index by DynamoDB's rule (sparse indexes: only items with the index's keys; projections: KEYS_ONLY and
  INCLUDE entries are smaller and are not rewritten when only an unprojected attribute changes).
- `split_per_batch(first, second)`: a stream consumer's costs split into per-record and per-batch parts
  from two runs with different batch sizes; `stream_batch()` the batch a consumer gets at a stated
  stream rate and batching window; `at_platform(counts, consumers)` the run re-priced at those batches
  (the platform-scale table; bench/cost_pricing.py prices a run with them).
- `cost_table(usage, prices, contacts)`: quantities -> $ by price line and by service, with shares.
- `fixed_monthly_usage(deployment)`: what a deployment pays per month whatever its traffic.
- The lake (issue 19): `firehose_billed_bytes()` (each record rounded up to 5 KB), the lake's lines in
  `usage_per_contact` when the run counted what it exports (`lake_*` counts: the contact-events records
  Firehose reads from the stream, the contact-record rows the History writers put, the Parquet bytes
  kept for LAKE_STANDARD_MONTHS in S3 Standard then LAKE_GLACIER_MONTHS in Glacier Instant Retrieval),
  the objects dynamic partitioning delivers in `fixed_monthly_usage` (one per stream, tenant and
  buffer interval), and `athena_usage()` / `athena_per_query()` for a stated query load.
"""
from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

PRICES = Path(__file__).with_name("prices.json")
REQUIRED_FIELDS = ("id", "service", "item", "unit", "unit_quantity", "usd", "region", "date", "source", "certain")
GB = 1024**3
HOURS_PER_MONTH = 730
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60


def per_second(per_month: float) -> float:
    return per_month / (MINUTES_PER_MONTH * 60)


# -- prices ---------------------------------------------------------------------------------------
def load_prices(path: Path = PRICES) -> dict[str, dict[str, Any]]:
    lines = json.loads(path.read_text(encoding="utf-8"))["lines"]
    return {line["id"]: line for line in lines}


def price_problems(prices: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every line must say what, how much, where, when and from where (source: the AWS pricing page)."""
    problems = []
    for pid, line in prices.items():
        missing = [f for f in REQUIRED_FIELDS if line.get(f) in (None, "")]
        if missing:
            problems.append(f"{pid}: missing {missing}")
        if not str(line.get("source", "")).startswith("https://aws.amazon.com/"):
            problems.append(f"{pid}: source is not an AWS pricing page")
        if not isinstance(line.get("usd"), (int, float)) or line["usd"] < 0:
            problems.append(f"{pid}: usd must be a non-negative number")
        if not isinstance(line.get("unit_quantity"), (int, float)) or line["unit_quantity"] <= 0:
            problems.append(f"{pid}: unit_quantity must be positive")
    return problems


def line_cost(quantity: float, line: Mapping[str, Any]) -> float:
    return quantity / line["unit_quantity"] * line["usd"]


# -- DynamoDB request units -----------------------------------------------------------------------
def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _value_size(value: Mapping[str, Any]) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(s) for s in v)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) if isinstance(b, str) else len(b) for b in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    """Bytes of an item in DynamoDB JSON ({"name": {"S": "..."}}): attribute names plus values, the
    documented approximation (nested maps/lists count 3 bytes plus 1 per element)."""
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


def write_units(size_bytes: float, transactional: bool = False) -> float:
    return max(1, math.ceil(size_bytes / 1024)) * (2 if transactional else 1)


def table_write_units(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, transactional: bool = False) -> float:
    """One PutItem/UpdateItem/DeleteItem on the table itself: the larger of the item before and after
    (a delete: the item deleted; a failed condition: the item there, at least 1 unit)."""
    return write_units(max(item_size(old), item_size(new)), transactional)


# -- global secondary indexes: which table writes also write an index --------------------------------
class IndexDesign(TypedDict):
    name: str
    keys: tuple[str, ...]  # the index's key attributes (partition, sort)
    table_keys: tuple[str, ...]  # the table's key attributes: every projection carries them
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: tuple[str, ...]  # INCLUDE's projected attributes


def index_entry(item: Mapping[str, Any] | None, index: IndexDesign) -> dict[str, Any] | None:
    """The item as `index` holds it; None when the item is not in it (sparse: an index key missing)."""
    if not item or any(k not in item for k in index["keys"]):
        return None
    if index["projection"] == "ALL":
        return dict(item)
    kept = {*index["table_keys"], *index["keys"], *(index["non_key"] if index["projection"] == "INCLUDE" else ())}
    return {k: v for k, v in item.items() if k in kept}


def index_writes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, index: IndexDesign) -> list[tuple[str, int]]:
    """The index writes one table write causes, as (kind, bytes of the index entry), by DynamoDB's rule:
    the item enters the index (put), leaves it (delete), changes an index key (delete + put), or keeps its
    keys and changes a projected attribute (one update, the larger entry); otherwise nothing."""
    before, after = index_entry(old, index), index_entry(new, index)
    if before is None and after is None:
        return []
    if before is None:
        return [("put", item_size(after))]
    if after is None:
        return [("delete", item_size(before))]
    if any(before[k] != after[k] for k in index["keys"]):
        return [("delete", item_size(before)), ("put", item_size(after))]
    if before == after:
        return []
    return [("update", max(item_size(before), item_size(after)))]


def index_write_units(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, index: IndexDesign) -> float:
    """Write units one table write costs in `index` (1 per started KB of each index entry written;
    ASSUMPTION: not doubled inside a transaction, which doubles the table's own writes)."""
    return float(sum(write_units(size) for _, size in index_writes(old, new, index)))


def read_units(size_bytes: float, consistent: bool = False, transactional: bool = False) -> float:
    units = max(1, math.ceil(size_bytes / 4096))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


# -- measured totals -> quantities per contact ------------------------------------------------------
class Counts(TypedDict, total=False):
    contacts: int  # completed customer contacts (the divisor)
    api_requests: int  # REST API requests (client traffic)
    ws_frames_in: int  # WebSocket messages received from clients
    ws_posts_out: int  # WebSocket messages sent (PostToConnection)
    ws_connects: int
    ws_connection_minutes: float
    # name -> {invocations, ms (total billed duration), memory_mb, consumer (1: a stream consumer), avg_batch}
    lambda_functions: dict[str, dict[str, float]]
    sfn_transitions: int  # Standard (ContactLifecycle) state transitions
    express_executions: int
    express_billed_ms: float  # sum over executions of the duration rounded up to 100 ms
    express_memory_mb: float  # billed in 64 MB steps
    dynamodb_wru: float
    dynamodb_rru: float
    kinesis_records: int
    kinesis_billed_kb: float  # each record rounded up to 1 KB
    kinesis_bytes: float
    kinesis_consumers: int  # functions reading every record of the stream (shared throughput)
    log_bytes: float  # CloudWatch Logs ingested (handlers, platform lines, state machines, access logs)
    sqs_requests: int
    events_published: int  # EventBridge PutEvents entries
    # Completed contacts a second of the deployment priced (platform scale): each sampler's trace roots a
    # second, through X-Ray's default rule (`xray_traces`). Absent: every trace root recorded (as measured).
    xray_contacts_per_s: NotRequired[float]
    # Samplers the stack gives a rule of its own (`xray_rules`): sampler -> [reservoir a second, fixed rate].
    xray_rules: NotRequired[dict[str, list[float]]]
    # The lake (present when the run counted its export; see `lake_usage`):
    lake_stream_records: int  # contact-events records the Kinesis-sourced delivery stream reads
    lake_stream_bytes: float  # their data bytes
    lake_put_records: int  # contact-record rows the History writers put (Direct PUT), one JSON line each
    lake_put_bytes: float
    lake_parquet_bytes: float  # what the run's contacts keep in S3 as Parquet (bench_lake's bytes per segment)
    # each record rounded up to 5 KB (Firehose ingestion and format conversion are billed so)
    lake_stream_billed_bytes: float
    lake_put_billed_bytes: float


# X-Ray's default sampling rule: the first request each second, then 5 % of the others. API Gateway applies it
# to the stage's requests; a request reaching Lambda without a trace header (a stream batch, a WebSocket
# message) is sampled by Lambda at this rule, which cannot be configured (AWS Lambda developer guide,
# "Visualize Lambda function invocations using AWS X-Ray"). ASSUMPTION: Lambda keeps the reservoir per
# function; X-Ray's centralized rules share it between services, which would record fewer.
XRAY_RESERVOIR_PER_S = 1.0
XRAY_FIXED_RATE = 0.05


def xray_recorded_per_s(roots_per_s: float, reservoir: float = XRAY_RESERVOIR_PER_S, rate: float = XRAY_FIXED_RATE) -> float:
    """Traces a second one sampler records out of `roots_per_s` trace roots a second (by default at the default
    rule): the reservoir's first ones each second, then `rate` of the others."""
    return min(roots_per_s, reservoir) + rate * max(roots_per_s - reservoir, 0.0)


def xray_rules(template: Mapping[str, Any]) -> dict[str, list[float]]:
    """The template's own sampling rules by the sampler they decide (the REST stage's: `rest_api`)."""
    rules = {}
    for r in template.get("Resources", {}).values():
        rule = r.get("Properties", {}).get("SamplingRule", {}) if r.get("Type") == "AWS::XRay::SamplingRule" else {}
        if rule.get("ServiceType") == "AWS::ApiGateway::Stage":
            rules["rest_api"] = [float(rule["ReservoirSize"]), float(rule["FixedRate"])]
    return rules


def xray_samplers(counts: Counts) -> dict[str, float]:
    """The run's trace roots by the sampler deciding them: the REST stage's requests (the authorizer, lifecycle
    and post-contact executions join the caller's trace), the WebSocket function's connects and frames
    (WebSocket APIs do not trace: its active tracing starts one), and each traced stream consumer's
    invocations (one batch, one trace; an untraced one, `traced` 0, starts none)."""
    samplers = {"rest_api": float(counts.get("api_requests", 0)),
                "websocket": float(counts.get("ws_frames_in", 0) + counts.get("ws_connects", 0))}
    for name, f in counts.get("lambda_functions", {}).items():
        if f.get("consumer") and f.get("traced", 1):
            samplers[name] = float(f["invocations"])
    return samplers


def xray_roots(counts: Counts) -> float:
    return sum(xray_samplers(counts).values())


def xray_traces(counts: Counts) -> float:
    """Traces recorded in the run: every root as measured; at a deployment's rate (`xray_contacts_per_s`) what
    each sampler keeps at that rate through its rule (`xray_rules`, else the default rule: at 1 M contacts a
    month a consumer's ~1 batch a second is nearly all recorded, the reservoir deciding most of the bill)."""
    rate = counts.get("xray_contacts_per_s")
    if not rate:
        return xray_roots(counts)
    n, rules = counts["contacts"], counts.get("xray_rules", {})
    return sum(xray_recorded_per_s(roots / n * rate, *rules.get(sampler, ())) for sampler, roots in xray_samplers(counts).items()) * n / rate


def usage_per_contact(counts: Counts) -> dict[str, float]:
    """Quantity of each price line (in its unit) for one completed customer contact."""
    n = counts["contacts"]
    if not n:
        raise ValueError("no completed contact: nothing to divide by")
    fns = counts.get("lambda_functions", {})
    gb_s = sum(f["ms"] / 1000 * f["memory_mb"] / 1024 for f in fns.values())
    express_gb = math.ceil(counts.get("express_memory_mb", 64) / 64) * 64 / 1024
    totals = {
        "apigw.rest_requests": counts.get("api_requests", 0),
        "apigw.ws_messages": counts.get("ws_frames_in", 0) + counts.get("ws_posts_out", 0),
        "apigw.ws_connection_minutes": counts.get("ws_connection_minutes", 0.0),
        "lambda.requests": sum(f["invocations"] for f in fns.values()),
        "lambda.arm64_gb_s": gb_s,
        "sfn.standard_transitions": counts.get("sfn_transitions", 0),
        "sfn.express_requests": counts.get("express_executions", 0),
        "sfn.express_gb_s": counts.get("express_billed_ms", 0.0) / 1000 * express_gb,
        "dynamodb.wru": counts.get("dynamodb_wru", 0.0),
        "dynamodb.rru": counts.get("dynamodb_rru", 0.0),
        "kinesis.ondemand_gb_in": counts.get("kinesis_billed_kb", 0.0) * 1024 / GB,
        "kinesis.ondemand_gb_out": counts.get("kinesis_bytes", 0.0) * counts.get("kinesis_consumers", 0) / GB,
        "logs.ingestion_gb": counts.get("log_bytes", 0.0) / GB,
        "sqs.requests": counts.get("sqs_requests", 0),
        "events.custom_events": counts.get("events_published", 0),
        "xray.traces_recorded": xray_traces(counts),
    }
    totals.update(lake_usage(counts))
    return {pid: q / n for pid, q in totals.items()}


# -- the lake ----------------------------------------------------------------------------------------
FIREHOSE_RECORD_ROUNDING = 5 * 1024  # each record is billed rounded up to the next 5 KB
LAKE_STANDARD_MONTHS = 3  # the bucket moves objects to Glacier Instant Retrieval after 90 days
LAKE_GLACIER_MONTHS = 9  # priced: the rest of a contact's first year (the bucket keeps data indefinitely)
ATHENA_MIN_BYTES = 10 * 1024**2  # per query, scanned bytes rounded up to the MB, at least 10 MB
TB = 1024**4


def firehose_billed_bytes(size: float) -> int:
    """Bytes Firehose bills for one record of `size` bytes: rounded up to 5 KB (a 1 KB record is 5 KB,
    a 12 KB one 15 KB); per record, not per PutRecordBatch call."""
    return max(1, math.ceil(size / FIREHOSE_RECORD_ROUNDING)) * FIREHOSE_RECORD_ROUNDING


def lake_usage(counts: Counts) -> dict[str, float]:
    """The lake's price lines for the whole run (empty when the run did not count its export):
    ingestion (Kinesis source and Direct PUT, each record at 5 KB steps), format conversion to Parquet
    (ASSUMPTION: on the same billed volume), dynamic partitioning (ASSUMPTION: on the records' actual
    bytes), and S3 storage of the Parquet for a contact's first year (Standard, then Glacier IR)."""
    if "lake_stream_records" not in counts and "lake_put_records" not in counts:
        return {}
    stream_billed = counts.get("lake_stream_billed_bytes", 0.0)
    put_billed = counts.get("lake_put_billed_bytes", 0.0)
    actual = counts.get("lake_stream_bytes", 0.0) + counts.get("lake_put_bytes", 0.0)
    parquet_gb = counts.get("lake_parquet_bytes", 0.0) / GB
    return {
        "firehose.kinesis_source_gb": stream_billed / GB,
        "firehose.direct_put_gb": put_billed / GB,
        "firehose.format_conversion_gb": (stream_billed + put_billed) / GB,
        "firehose.dynamic_partitioning_gb": actual / GB,
        "s3.standard_gb_month": parquet_gb * LAKE_STANDARD_MONTHS,
        "s3.glacier_ir_gb_month": parquet_gb * LAKE_GLACIER_MONTHS,
    }


def athena_per_query(bytes_scanned: float) -> float:
    """Bytes Athena bills for one query: rounded up to the megabyte, at least 10 MB."""
    return max(ATHENA_MIN_BYTES, math.ceil(bytes_scanned / 1024**2) * 1024**2)


def athena_usage(queries_per_month: float, bytes_per_query: float, glue_requests_per_query: float = 2) -> dict[str, float]:
    """A month of a stated query load: TB scanned (each query billed at least 10 MB) and the Glue
    catalog requests its planning makes (GetTable for the tables read; partition projection: no
    GetPartitions). Priced without the free tier (1M Glue requests a month are free)."""
    return {
        "athena.tb_scanned": queries_per_month * athena_per_query(bytes_per_query) / TB,
        "glue.requests": queries_per_month * glue_requests_per_query,
    }



# -- stream consumers: per-record and per-batch costs, priced at a stated stream rate ------------------
BATCH_COSTS = ("ms", "wru", "rru", "log_bytes")  # what a consumer spends, split by split_per_batch
SPLIT_MIN_RATIO = 1.5  # two runs whose batches differ less than this cannot tell the two parts apart


class ConsumerRun(TypedDict):
    """One stream consumer in one run: invocations, records delivered, and its totals of BATCH_COSTS."""

    invocations: float
    records: float
    ms: float
    wru: float
    rru: float
    log_bytes: float


class BatchSplit(TypedDict):
    per_batch: dict[str, float]  # cost per invocation whatever its size (reads of rules, EMF documents ...)
    per_record: dict[str, float]
    split: bool  # False: the runs' batches were too alike; everything priced per record (conservative)


def split_per_batch(first: ConsumerRun, second: ConsumerRun) -> BatchSplit:
    """Solve cost = per_batch x invocations + per_record x records from two runs with different batch
    sizes (e.g. one at the deployed batching window, one at a longer one), for each of BATCH_COSTS. A
    negative part (noise between runs) is set to 0 and the other fitted to both runs' totals."""
    i1, r1, i2, r2 = first["invocations"], first["records"], second["invocations"], second["records"]
    b1, b2 = (r1 / i1 if i1 else 0.0), (r2 / i2 if i2 else 0.0)
    det = i1 * r2 - i2 * r1
    can_split = bool(b1 and b2) and max(b1, b2) / min(b1, b2) >= SPLIT_MIN_RATIO and det != 0
    per_batch, per_record = {}, {}
    for key in BATCH_COSTS:
        c1, c2 = first[key], second[key]  # type: ignore[literal-required]
        if not can_split:
            a, b = 0.0, (c1 + c2) / (r1 + r2) if r1 + r2 else 0.0
        else:
            a, b = (c1 * r2 - c2 * r1) / det, (i1 * c2 - i2 * c1) / det
            if a < 0:
                a, b = 0.0, (c1 + c2) / (r1 + r2)
            elif b < 0:
                a, b = (c1 + c2) / (i1 + i2), 0.0
        per_batch[key], per_record[key] = a, b
    return {"per_batch": per_batch, "per_record": per_record, "split": can_split}


def stream_batch(records_per_shard_s: float, window_s: float, batch_size: int) -> float:
    """Records per invocation of a Kinesis consumer (standard iterator): Lambda polls each shard once a
    second, or gathers for the batching window when it is longer, and invokes only for a non-empty
    batch. With Poisson arrivals at rate r per shard over that time t: E[n | n >= 1] = r t / (1 - e^-rt),
    capped at the mapping's BatchSize (ASSUMPTION: invocations shorter than the poll interval)."""
    lam = records_per_shard_s * max(window_s, 1.0)
    if lam <= 0:
        return 1.0
    return min(float(batch_size), lam / -math.expm1(-lam))


class ConsumerAtScale(TypedDict):
    measured: ConsumerRun  # the consumer in the run being priced
    split: BatchSplit
    batch: float  # records per invocation at the stated rate (stream_batch)


def at_platform(counts: Counts, consumers: Mapping[str, ConsumerAtScale]) -> Counts:
    """The run with each consumer in `consumers` (by Lambda function name) invoked with its stated batch:
    the same records, records / batch invocations, and each of BATCH_COSTS re-priced from its split
    (per_record x records + per_batch x invocations), the run's totals moved by the difference."""
    out: Counts = json.loads(json.dumps(counts))
    fns = out.get("lambda_functions", {})
    for name, c in consumers.items():
        f, m, split = fns.get(name), c["measured"], c["split"]
        if f is None or not m["records"]:
            continue
        invocations = m["records"] / c["batch"]
        new = {k: split["per_record"][k] * m["records"] + split["per_batch"][k] * invocations for k in BATCH_COSTS}
        f["invocations"], f["avg_batch"] = invocations, c["batch"]
        f["ms"] = max(0.0, f["ms"] + new["ms"] - m["ms"])
        out["dynamodb_wru"] = out.get("dynamodb_wru", 0.0) + new["wru"] - m["wru"]
        out["dynamodb_rru"] = out.get("dynamodb_rru", 0.0) + new["rru"] - m["rru"]
        out["log_bytes"] = out.get("log_bytes", 0.0) + new["log_bytes"] - m["log_bytes"]
    return out

# -- what the deployed template logs ---------------------------------------------------------------------
PLATFORM_LOG_B_PER_INVOCATION = 400  # START/END/REPORT lines with X-Ray: logged at system level INFO
REST_EXECUTION_LOG_B = 2500  # uncertain: stage LoggingLevel INFO writes ~10-20 lines per request


class LogSettings(TypedDict):
    lambda_system_levels: list[str]  # each function's SystemLogLevel (INFO when not set)
    rest_execution_level: str  # the stage's MethodSettings LoggingLevel (OFF when not set)
    state_machines: dict[str, dict[str, Any]]  # logical id -> {"level": ..., "data": bool}


def log_settings(template: Mapping[str, Any]) -> LogSettings:
    """The logging levels a synthesized template deploys (so the bench prices what would run)."""
    resources = template.get("Resources", {})
    systems, rest, machines = [], "OFF", {}
    for logical_id, r in resources.items():
        props = r.get("Properties", {})
        if r.get("Type") == "AWS::Lambda::Function":
            systems.append(props.get("LoggingConfig", {}).get("SystemLogLevel", "INFO"))
        elif r.get("Type") == "AWS::ApiGateway::Stage":
            for m in props.get("MethodSettings", []):
                rest = m.get("LoggingLevel", rest)
        elif r.get("Type") == "AWS::StepFunctions::StateMachine":
            cfg = props.get("LoggingConfiguration", {})
            machines[logical_id] = {"level": cfg.get("Level", "OFF"), "data": bool(cfg.get("IncludeExecutionData"))}
    return {"lambda_system_levels": systems, "rest_execution_level": rest, "state_machines": machines}


def lake_delivery(template: Mapping[str, Any]) -> dict[str, int]:
    """The lake's Firehose delivery streams a synthesized template deploys and their (shortest) buffering
    interval: each writes one S3 object per tenant and day partition per interval."""
    streams, intervals = 0, []
    for r in template.get("Resources", {}).values():
        if r.get("Type") == "AWS::KinesisFirehose::DeliveryStream":
            streams += 1
            s3 = r.get("Properties", {}).get("ExtendedS3DestinationConfiguration", {})
            intervals.append(int(s3.get("BufferingHints", {}).get("IntervalInSeconds", 300)))
    return {"streams": streams, "buffer_s": min(intervals, default=300)}


# Resource type -> (its Deployment key, its price line).
STACK_RESOURCES = {"AWS::KMS::Key": ("kms_keys", "kms.keys"), "AWS::CloudWatch::Alarm": ("alarms", "cloudwatch.alarms"),
                   "AWS::CloudWatch::Dashboard": ("dashboards", "cloudwatch.dashboards")}


def stack_resources(template: Mapping[str, Any]) -> dict[str, int]:
    """The resources of a synthesized template that cost a fixed amount a month whatever the traffic
    (customer-managed keys, alarms, dashboards), counted by their Deployment key."""
    counts = {key: 0 for key, _ in STACK_RESOURCES.values()}
    for r in template.get("Resources", {}).values():
        if r.get("Type") in STACK_RESOURCES:
            counts[STACK_RESOURCES[r["Type"]][0]] += 1
    return counts


def actively_traced(template: Mapping[str, Any]) -> set[str]:
    """Logical ids of the template's functions with X-Ray active tracing (the others start no trace)."""
    return {lid for lid, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::Lambda::Function"
            and r.get("Properties", {}).get("TracingConfig", {}).get("Mode") == "Active"}


def platform_log_bytes(invocations: float, system_level: str) -> float:
    """Lambda's own lines: START/END/REPORT are INFO-level system logs, dropped at WARN."""
    return PLATFORM_LOG_B_PER_INVOCATION * invocations if system_level in ("INFO", "DEBUG") else 0.0


def rest_execution_log_bytes(requests: float, server_errors: float, level: str) -> float:
    """INFO logs every request; ERROR only the failed ones; OFF nothing."""
    if level == "INFO":
        return REST_EXECUTION_LOG_B * requests
    return REST_EXECUTION_LOG_B * server_errors if level == "ERROR" else 0.0


_DATA_FIELDS = ("input", "output", "inputDetails", "outputDetails")
_ERROR_WORDS = ("Failed", "TimedOut", "Aborted")


def state_machine_log_bytes(events: Sequence[Mapping[str, Any]], level: str, include_data: bool) -> int:
    """Bytes one execution's history costs in its log group at `level` (ALL / ERROR / FATAL / OFF):
    every event at ALL, failure events at ERROR, the execution's own failure at FATAL; without
    execution data, inputs and outputs are left out (the service logs them only when asked)."""
    if level == "OFF":
        return 0

    def kept(event: Mapping[str, Any]) -> bool:
        kind = str(event.get("type", ""))
        if level == "ALL":
            return True
        if level == "ERROR":
            return any(w in kind for w in _ERROR_WORDS)
        return kind.startswith("Execution") and any(w in kind for w in _ERROR_WORDS)

    total = 0
    for event in events:
        if not kept(event):
            continue
        if not include_data:
            event = {k: ({f: v for f, v in d.items() if f not in _DATA_FIELDS} if isinstance(d, dict) else d)
                     for k, d in event.items()}
        total += len(json.dumps(event, default=str))
    return total


# -- quantities -> dollars ------------------------------------------------------------------------
def cost_table(usage: Mapping[str, float], prices: Mapping[str, Mapping[str, Any]], scale: float = 1000) -> dict[str, Any]:
    """$ for `scale` times `usage` (e.g. usage per contact, scale 1000: $ per 1,000 contacts), by price
    line and by service (with its share of the total, %). Unknown price ids raise KeyError."""
    lines = []
    for pid, q in usage.items():
        line = prices[pid]
        lines.append({"id": pid, "service": line["service"], "quantity": q * scale, "unit": line["unit"],
                      "usd": line_cost(q * scale, line), "certain": bool(line.get("certain"))})
    total = sum(r["usd"] for r in lines)
    by_service: dict[str, float] = {}
    for r in lines:
        by_service[r["service"]] = by_service.get(r["service"], 0.0) + r["usd"]
    services = [{"service": s, "usd": usd, "share_pct": 100 * usd / total if total else 0.0}
                for s, usd in sorted(by_service.items(), key=lambda kv: -kv[1])]
    return {"scale": scale, "lines": lines, "services": services, "total_usd": total}


class Deployment(TypedDict):
    tenants: int
    queues_per_tenant: int
    streams: int  # Kinesis on-demand streams
    schedules_per_minute: float  # EventBridge Scheduler invocations per minute
    scheduled_gb_s: float  # Lambda GB-s per scheduled invocation (measured)
    scheduled_wru: float  # per scheduled invocation
    scheduled_rru: float
    metrics_per_queue: int  # distinct EMF metric names with tenant+queue dimensions
    metrics_per_tenant: int  # with a tenant dimension only
    metrics_fixed: int  # without tenant/queue dimensions (service, action, or none)
    lake_streams: NotRequired[int]  # Firehose delivery streams with dynamic partitioning (absent: no lake)
    lake_buffer_s: NotRequired[int]  # their buffering interval: one S3 object per stream, tenant and interval
    kms_keys: NotRequired[int]  # customer-managed KMS keys the template deploys (stack_resources)
    alarms: NotRequired[int]  # CloudWatch alarms the template deploys
    dashboards: NotRequired[int]  # CloudWatch dashboards the template deploys


def custom_metric_count(d: Deployment) -> int:
    return (d["metrics_per_queue"] * d["tenants"] * d["queues_per_tenant"]
            + d["metrics_per_tenant"] * d["tenants"] + d["metrics_fixed"])


def fixed_monthly_usage(d: Deployment) -> dict[str, float]:
    """Per month, whatever the traffic: stream hours, custom metrics, the scheduled sweep, the template's
    keys, alarms and dashboards."""
    sweeps = d["schedules_per_minute"] * MINUTES_PER_MONTH
    return {
        "kinesis.ondemand_stream_hours": d["streams"] * HOURS_PER_MONTH,
        "cloudwatch.custom_metrics": custom_metric_count(d),
        "scheduler.invocations": sweeps,
        "lambda.requests": sweeps,
        "lambda.arm64_gb_s": sweeps * d["scheduled_gb_s"],
        "dynamodb.wru": sweeps * d["scheduled_wru"],
        "dynamodb.rru": sweeps * d["scheduled_rru"],
        "xray.traces_recorded": sweeps,  # each sweep starts a trace; one a minute is within the 1/s reservoir
        **{line: d[key] for key, line in STACK_RESOURCES.values() if d.get(key)},  # type: ignore[literal-required]
        **lake_objects_usage(d),
    }


def lake_objects_usage(d: Deployment) -> dict[str, float]:
    """S3 objects the lake's delivery streams write a month when every tenant has traffic all the time:
    one per stream, tenant and buffer interval (one day partition each; two around midnight are
    ignored), each priced by dynamic partitioning and as an S3 PUT."""
    if not d.get("lake_streams"):
        return {}
    objects = d["lake_streams"] * d["tenants"] * MINUTES_PER_MONTH * 60 / d["lake_buffer_s"]
    return {"firehose.dynamic_partitioning_objects": objects, "s3.put_requests": objects}
