"""What a customer contact costs on AWS: the local runtime's counts priced with bench/prices.json.

Runs the simulation (the demo mix: transfers, consults, holds included; push-driven agents) on a
LocalRuntime for COST_S seconds (default 90), lets the streams and workflows drain, then prices what the
run did per completed customer contact (bench.cost_model, pure: counts + prices -> table):

- API Gateway: REST requests of the simulated clients (the gateway's count, without the progress line's
  reads); WebSocket messages (frames received + PostToConnection sent) and connection minutes (sockets
  opened x the run's length);
- Lambda: invocations and GB-s of every function (measured duration x the memory in infra/function_specs.py,
  arm64 as deployed), the scheduled sweep apart (fixed monthly);
- Step Functions: ContactLifecycle (Standard) state transitions, summed over the entered states of every
  execution started in the run; PostContact (Express) executions and their duration in 100 ms steps at
  64 MB (its executions as moto lists them);
- DynamoDB: reads from the items returned (a botocore hook on the handlers' calls; Query/Scan scaled by
  ScannedCount/Count); writes measured in moto (`_Writes`: every put, update and delete, also inside
  BatchWriteItem and transactions, with the item before and after it): the table's units from the
  larger of the two (transactions x2; a failed condition: the item there; ASSUMPTION a transaction's
  condition check costs as a write), each global secondary index's units by DynamoDB's rule for the
  index as deployed (cost_model.index_writes: sparse keys, KEYS_ONLY/INCLUDE/ALL projections; ASSUMPTION
  index writes are not doubled in a transaction), and what the Contacts `customer` index would cost
  had every contact a customer id (the demo's have none);
- Kinesis: records and bytes the handlers put (1 KB rounding per record in, every consumer of the
  contact-events stream reads every record out);
- CloudWatch Logs at the levels the synthesized template deploys (infra/log_levels.py; read from the
  template, bench.cost_model.log_settings): handler output (counted by function as the log sink receives
  it) + ASSUMPTIONS: 400 B of platform lines (START/END/REPORT with X-Ray) per invocation when the system
  log level is INFO (none at WARN), 300 B access log per REST request, 2.5 KB execution log per REST
  request at stage level INFO (uncertain; at ERROR only for 5xx), 380 B access log per WebSocket
  message/connect; state machine logs measured as the JSON size of each execution's history events that
  its level keeps (ALL: every event, ERROR: failures), without inputs/outputs unless execution data is
  logged (Express: as Standard's per transition when its history is not kept);
- X-Ray: trace roots by sampler (the REST stage's requests, the WebSocket function's connects and frames,
  each actively traced stream consumer's invocations: the template says which are); as measured every root
  is recorded, at platform scale each sampler's rate goes through X-Ray's default rule (1 a second, then
  5 %: cost_model.xray_traces);
- EventBridge custom events (PutEvents entries), SQS requests (DLQ sends);
- the analytics lake (issue 19; COST_LAKE=0 leaves it out, as the stack's default synth does): the
  contact-events records the Kinesis-sourced delivery stream reads (their data bytes, each billed at
  5 KB steps), the rows the History writers deliver (a counting LakeExport installed in the process:
  rows per table, each one compact JSON line as FirehoseLakeExport sends it), format conversion and
  dynamic partitioning on them, and S3 storage of the run's contact segments at bench_lake's 57 B of
  Parquet each for a contact's first year (90 days Standard, then Glacier Instant Retrieval); the S3
  objects the streams deliver (one per stream, tenant and 300 s buffer) are a fixed monthly cost; and
  an Athena line for a stated query load (ATHENA_*: long-range queries over a tenant's whole lake).

The consumers' DynamoDB levers are printed as rates that do not depend on the run's mix (the live
metrics item's size and WRU per write, idempotency WRU per stream record, alert evaluation RRU per
invocation). Two tables per 1,000 completed contacts (the lake a service line of its own): as measured
(the local batches), and at platform scale, then the fixed monthly costs of a stated deployment.

Platform scale: what a stream consumer pays per invocation (reads of rules, open alerts and agents, EMF
documents and log lines, the live-metrics UpdateItems per queue, Lambda's per-invocation time) and
per record is MEASURED: a calibration run (a child process, CALIBRATION_S of the same mix) gathers every
consumer's batches but push_updates' for CALIBRATION_WINDOW_S, and each consumer's totals in the two runs
solve cost = per_batch x invocations + per_record x records (cost_model.split_per_batch; batches too alike:
all per record). EXTRAPOLATED: the batch each consumer gets in a stated deployment
(PLATFORM_CONTACTS_PER_MONTH completed contacts a month, COST_PLATFORM_CONTACTS; its stream at
PLATFORM_SHARDS shards; Lambda polls a shard once a second or gathers for the mapping's window:
cost_model.stream_batch), its costs re-priced there (cost_model.at_platform), X-Ray's default rule on
each sampler's rate at that deployment (the first trace a second, then 5 %); the total is also printed at 0.1, 1, 10 and 100 M contacts a month. Results: the printed
tables, and the whole dict as JSON (COST_JSON, default <tmp>/bench-cost.json, with the calibration run;
COST_MEASURED=<that file> prices both runs again without running, e.g. after a change to
bench/prices.json).
"""
from __future__ import annotations

import collections
import json
import math
import os
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import cost_model, cost_pricing
from bench.cost_pricing import (
    LAKE_PARQUET_B_PER_SEGMENT,
    PLATFORM_SHARDS,
    athena_load,
    price,
)
from bench.table import print_table
from local import call_counter, lambda_runtime, log_sink
from local.runtime import LocalRuntime
from local.simulation import Simulation
from local.testing import history_of

COST_S = float(os.environ.get("COST_S", "90"))
# COST_LAKE=0: price the stack without the analytics lake (its default: synthesized without -c lake=true);
# otherwise the History writers export to a counting LakeExport and the lake's lines are priced.
COST_LAKE = os.environ.get("COST_LAKE", "1") not in ("0", "false", "no")
# Platform scale (bench/cost_pricing.py): the stated deployment's completed contacts a month; each
# consumer's costs from the per-batch split of two runs (see CALIBRATION_*).
PLATFORM_CONTACTS_PER_MONTH = float(os.environ.get("COST_PLATFORM_CONTACTS", str(cost_pricing.PLATFORM_CONTACTS_PER_MONTH)))
# The calibration run (a child process, the same mix): every consumer but FRESH_CONSUMERS gathers its
# batches for CALIBRATION_WINDOW_S, so its batches are several times the main run's and each consumer's
# costs split into per-record and per-batch parts (COST_CALIBRATION_S=0: no split, all per record).
CALIBRATION_S = float(os.environ.get("COST_CALIBRATION_S", "60"))
CALIBRATION_WINDOW_S = float(os.environ.get("COST_CALIBRATION_WINDOW_S", "10"))
WINDOW_S = float(os.environ["COST_WINDOW_S"]) if os.environ.get("COST_WINDOW_S") else None  # the child's
# Log assumptions (bytes): see the module docstring.
REST_ACCESS_LOG_B = 300
WS_ACCESS_LOG_B = 380
SCHEDULED = "sweep_alerts"  # the scheduled function: a fixed cost, not a per-contact one
# The consumers the calibration run leaves at their deployed window: push_updates, whose offer frames the
# simulated agents wait for (held-back offers would change the mix being measured).
FRESH_CONSUMERS = ("push_updates",)
EXPRESS_MEMORY_MB = 64
# The lake (issue 19; infra/constructs/lake.py): a Kinesis-sourced delivery stream reads every record of
# the contact-events stream, a Direct PUT one takes the History writers' contact-record rows; both
# convert to Parquet and partition dynamically, buffering 300 s.
LAKE_EVENTS_STREAM = "ContactEvents"


# -- DynamoDB / Kinesis / EventBridge: what the handlers' calls carry ----------------------------------
class _Payloads:
    """botocore before-call/after-call hooks (installed before the runtime creates the handlers' sessions):
    read units of DynamoDB calls (by calling function and table; writes are measured in moto, `_Writes`),
    bytes of Kinesis puts, EventBridge entries."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.on = False
        self.reset()

    def reset(self) -> None:
        self.rru: collections.Counter[tuple[str, str]] = collections.Counter()  # (function, table) -> RRU
        self.kinesis_records = 0
        self.kinesis_billed_kb = 0
        self.kinesis_bytes = 0
        self.events = 0
        self.sqs = 0
        self.lake_stream_records = 0
        self.lake_stream_bytes = 0
        self.lake_stream_billed = 0

    def before(self, model: Any = None, params: Any = None, context: Any = None, **_: Any) -> None:
        if not self.on or model is None or not isinstance(context, dict):
            return
        service = model.service_model.service_name
        if service not in ("dynamodb", "kinesis", "events", "sqs"):
            return
        fn = call_counter.current_function()
        if fn is None and service != "sqs":
            return
        try:
            body = params.get("body") if isinstance(params, dict) else None
            request = json.loads(body) if body else {}
        except (TypeError, ValueError):
            request = {}
        context["cost_bench"] = (fn or call_counter.RUNTIME, service, model.name, request)

    def after(self, model: Any = None, parsed: Any = None, context: Any = None, **_: Any) -> None:
        if not isinstance(context, dict) or "cost_bench" not in context:
            return
        bucket, service, op, req = context.pop("cost_bench")
        try:
            with self.lock:
                self._account(bucket, service, op, req, parsed if isinstance(parsed, dict) else {})
        except Exception:  # noqa: BLE001 - a bench hook must never break a handler
            pass

    def _account(self, bucket: str, service: str, op: str, req: dict[str, Any], resp: dict[str, Any]) -> None:
        if service == "sqs":
            self.sqs += 1
            return
        if service == "events":
            self.events += len(req.get("Entries", [])) if op == "PutEvents" else 0
            return
        if service == "kinesis":
            records = req.get("Records") if op == "PutRecords" else ([req] if op == "PutRecord" else [])
            stream = str(req.get("StreamName") or req.get("StreamARN", "")).rsplit("/", 1)[-1]
            to_lake = LAKE_EVENTS_STREAM in stream
            for r in records:
                data = len(_b64(r.get("Data", "")))
                size = data + len(str(r.get("PartitionKey", "")).encode())
                self.kinesis_records += 1
                self.kinesis_bytes += size
                self.kinesis_billed_kb += max(1, math.ceil(size / 1024))
                if to_lake:  # the contact-events delivery stream reads every record's data
                    self.lake_stream_records += 1
                    self.lake_stream_bytes += data
                    self.lake_stream_billed += cost_model.firehose_billed_bytes(data)
            return
        table = req.get("TableName", "")
        consistent = bool(req.get("ConsistentRead"))
        if op == "GetItem":
            self.rru[(bucket, table)] += cost_model.read_units(_size(resp.get("Item")), consistent)
        elif op in ("Query", "Scan"):
            items = resp.get("Items") or []
            size = sum(_size(i) for i in items)
            count, scanned = resp.get("Count", len(items)), resp.get("ScannedCount", len(items))
            if count and scanned > count:
                size *= scanned / count
            self.rru[(bucket, table)] += cost_model.read_units(size, consistent)
        elif op == "BatchGetItem":
            for t, items in (resp.get("Responses") or {}).items():
                c = bool(req.get("RequestItems", {}).get(t, {}).get("ConsistentRead"))
                for i in items:
                    self.rru[(bucket, t)] += cost_model.read_units(_size(i), c)
        elif op == "TransactGetItems":
            gets = req.get("TransactItems", [])
            for spec, got in zip(gets, resp.get("Responses") or [], strict=False):
                t = spec.get("Get", {}).get("TableName", "")
                self.rru[(bucket, t)] += cost_model.read_units(_size((got or {}).get("Item")), transactional=True)


def _b64(data: str) -> bytes:
    import base64

    try:
        return base64.b64decode(data)
    except (ValueError, TypeError):
        return str(data).encode()


def _size(item: Any) -> int:
    try:
        return cost_model.item_size(item)
    except Exception:  # noqa: BLE001 - an untyped item: its JSON length
        return len(json.dumps(item, default=str)) if item else 0


PAYLOADS = _Payloads()


class _Writes:
    """Every item write in this process's moto, with the item before and after it: hooks around
    DynamoDBBackend's put_item / update_item / delete_item (BatchWriteItem and TransactWriteItems go
    through them too) and transact_write_items (its condition checks; its writes are transactional).
    Prices each write on the table (cost_model.table_write_units) and on each global secondary index of
    the table as deployed (cost_model.index_write_units: sparse keys and projections), by the function
    that made the call (local.call_counter's attribution; the runtime's own calls apart)."""

    WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.on = False
        self._tx = threading.local()
        self._originals: dict[str, Any] = {}
        self._indexes: dict[str, list[cost_model.IndexDesign]] = {}
        self.reset()

    def reset(self) -> None:
        self.table_wru: collections.Counter[tuple[str, str]] = collections.Counter()  # (function, table)
        self.index_wru: collections.Counter[tuple[str, str, str]] = collections.Counter()  # (function, table, index)
        self.index_ops: collections.Counter[tuple[str, str, str]] = collections.Counter()  # (table, index, kind)
        self.writes: collections.Counter[str] = collections.Counter()  # table -> table writes (failed ones too)
        # The Contacts `customer` index as if every contact had a customer id (the demo's have none):
        # projection -> its write units from the same contact writes.
        self.customer_what_if: collections.Counter[str] = collections.Counter()

    def install(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend

        for name in self.WRITES:
            original = DynamoDBBackend.__dict__[name]
            self._originals[name] = original
            setattr(DynamoDBBackend, name, self._wrap(name, original))

    def uninstall(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend

        for name, original in self._originals.items():
            setattr(DynamoDBBackend, name, original)
        self._originals.clear()

    def indexes(self, table: Any) -> list[cost_model.IndexDesign]:
        if table.name not in self._indexes:
            table_keys = tuple(k for k in (table.hash_key_attr, table.range_key_attr) if k)
            self._indexes[table.name] = [{
                "name": gsi.name,
                "keys": tuple(k["AttributeName"] for k in gsi.schema),
                "table_keys": table_keys,
                "projection": gsi.projection.get("ProjectionType", "ALL"),
                "non_key": tuple(gsi.projection.get("NonKeyAttributes") or ()),
            } for gsi in table.global_indexes]
        return self._indexes[table.name]

    def _wrap(self, name: str, original: Any) -> Any:
        recorder = self

        if name == "transact_write_items":
            def transact_write_items(backend: Any, transact_items: list[dict[str, Any]], *a: Any, **kw: Any) -> Any:
                if recorder.on:
                    for action in transact_items:  # ASSUMPTION: a condition check costs as a write of the item there
                        if "ConditionCheck" in action:
                            spec = action["ConditionCheck"]
                            table, old = recorder._item(backend, spec["TableName"], spec["Key"])
                            recorder._record(spec["TableName"], table, old, old, transactional=True, indexes=False)
                recorder._tx.on = True
                try:
                    return original(backend, transact_items, *a, **kw)
                finally:
                    recorder._tx.on = False
            return transact_write_items

        def write(backend: Any, table_name: str, attrs: dict[str, Any], *a: Any, **kw: Any) -> Any:
            if not recorder.on:
                return original(backend, table_name, attrs, *a, **kw)
            table, old = recorder._item(backend, table_name, attrs)
            try:
                result = original(backend, table_name, attrs, *a, **kw)
            except Exception as error:
                if type(error).__name__ == "ConditionalCheckFailed":  # charged: the item there, at least 1 unit
                    recorder._record(table_name, table, old, old, getattr(recorder._tx, "on", False), indexes=False)
                raise
            new = result.to_json()["Attributes"] if name != "delete_item" and result is not None else None
            recorder._record(table_name, table, old, new, getattr(recorder._tx, "on", False))
            return result
        return write

    @staticmethod
    def _item(backend: Any, table_name: str, attrs: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        try:
            table = backend.get_table(table_name)
            key = {k: attrs[k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in attrs}
            hash_value, range_value = backend.get_keys_value(table, key)
            item = table.get_item(hash_value, range_value)
            return table, (item.to_json()["Attributes"] if item is not None else None)
        except Exception:  # noqa: BLE001 - a bench hook must never break a write; moto answers it
            return None, None

    def _record(self, table_name: str, table: Any, old: Any, new: Any, transactional: bool, indexes: bool = True) -> None:
        try:
            fn = call_counter.current_function() or call_counter.RUNTIME
            with self.lock:
                self.writes[table_name] += 1
                self.table_wru[(fn, table_name)] += cost_model.table_write_units(old, new, transactional)
                for index in (self.indexes(table) if indexes and table is not None else ()):
                    for kind, size in cost_model.index_writes(old, new, index):
                        self.index_ops[(table_name, index["name"], kind)] += 1
                        self.index_wru[(fn, table_name, index["name"])] += cost_model.write_units(size)
                    if index["name"] == "customer" and fn != call_counter.RUNTIME:
                        for projection in ("ALL", "KEYS_ONLY"):
                            self.customer_what_if[projection] += cost_model.index_write_units(
                                _with_customer(old), _with_customer(new), {**index, "projection": projection})
        except Exception:  # noqa: BLE001 - a bench hook must never break a write
            pass


def _with_customer(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A contact item as stored had its contact a customer id (the `customer` index's keys; both stable
    over the contact's life, as adapters/aws/dynamodb.py writes them)."""
    if not item or item.get("entity") != {"S": "contact"} or "cust_pk" in item:
        return item
    return {**item, "cust_pk": {"S": "tenant#customer"}, "cust_sk": {"S": "0000000000000#" + str(item["pk"].get("S"))}}


WRITES = _Writes()


class _LakeRows:
    """The LakeExport the run's History writers deliver to (ccaas.ports_lake.install_export): counts the
    rows per table and their bytes as FirehoseLakeExport sends them (one compact JSON line per row, each
    billed at 5 KB steps), and the contact segments they describe; forwards to the runtime's own export
    (the local lake) when there is one."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.on = False
        self.rows: collections.Counter[str] = collections.Counter()
        self.bytes: collections.Counter[str] = collections.Counter()
        self.billed: collections.Counter[str] = collections.Counter()
        self.segments: set[tuple[str, str]] = set()

    def put_rows(self, table: str, rows: Any) -> None:
        if self.on:
            with self.lock:
                for row in rows:
                    size = len((json.dumps(dict(row), separators=(",", ":")) + "\n").encode())
                    self.rows[table] += 1
                    self.bytes[table] += size
                    self.billed[table] += cost_model.firehose_billed_bytes(size)
                    if "contact_id" in row:
                        self.segments.add((str(row.get("tenant_id")), str(row["contact_id"])))
        if self.inner is not None:
            self.inner.put_rows(table, rows)


def _install_payload_hooks() -> None:
    import botocore.handlers

    import boto3

    for entry in (("before-call", PAYLOADS.before), ("after-call", PAYLOADS.after)):
        if entry not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(entry)
    if boto3.DEFAULT_SESSION is not None:  # sessions that exist already (as local.call_counter does)
        boto3.DEFAULT_SESSION.events.register("before-call", PAYLOADS.before, unique_id="cost-bench-before")
        boto3.DEFAULT_SESSION.events.register("after-call", PAYLOADS.after, unique_id="cost-bench-after")


# -- handler output: bytes by function and the EMF metrics ------------------------------------------------
class _LogCounter:
    def __init__(self) -> None:
        self.bytes: collections.Counter[str] = collections.Counter()
        self.metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
        self._original = None

    def install(self) -> None:
        self._original = log_sink._sink  # noqa: SLF001

        def counting(fn: str, text: str) -> None:
            self.bytes[fn] += len(text.encode())
            if '"_aws"' in text:
                for line in text.splitlines():
                    self._emf(line)
            self._original(fn, text)  # type: ignore[misc]

        log_sink._sink = counting  # noqa: SLF001

    def uninstall(self) -> None:
        if self._original is not None:
            log_sink._sink = self._original  # noqa: SLF001

    def _emf(self, line: str) -> None:
        try:
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for dims in directive.get("Dimensions") or [[]]:
                    key = tuple(sorted((d, str(blob.get(d))) for d in dims))
                    for m in directive.get("Metrics", []):
                        self.metrics.add((directive.get("Namespace", ""), m["Name"], key))
        except (ValueError, KeyError, TypeError):
            pass


# -- Step Functions ---------------------------------------------------------------------------------------
def _executions(runtime: LocalRuntime, prefix: str, since: datetime) -> list[dict[str, Any]]:
    sfn = runtime.client("stepfunctions")
    out = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=runtime.state_machine_arn(prefix)):
        out += [e for e in page["executions"] if e["startDate"] >= since]
    return out


def _machine_logging(settings: cost_model.LogSettings, prefix: str) -> dict[str, Any]:
    return next((v for lid, v in settings["state_machines"].items() if lid.startswith(prefix)), {"level": "OFF", "data": False})


def _step_functions(runtime: LocalRuntime, since: datetime, settings: cost_model.LogSettings) -> dict[str, Any]:
    """Transitions and the state machines' log bytes at their deployed levels (their kept histories)."""
    lifecycle_log, post_log = _machine_logging(settings, "ContactLifecycle"), _machine_logging(settings, "AnalyticsPostContact")
    transitions, log_bytes, running, all_bytes = 0, 0, 0, 0
    lifecycle = _executions(runtime, "ContactLifecycle", since)
    for e in lifecycle:
        events = history_of(runtime, e["executionArn"])
        transitions += sum(1 for ev in events if "stateEnteredEventDetails" in ev)
        log_bytes += cost_model.state_machine_log_bytes(events, lifecycle_log["level"], lifecycle_log["data"])
        all_bytes += cost_model.state_machine_log_bytes(events, post_log["level"], post_log["data"])
        running += e["status"] == "RUNNING"
    express = {"executions": 0, "billed_ms": 0.0, "log_bytes": 0, "history": False}
    try:
        posts = _executions(runtime, "AnalyticsPostContact", since)
    except Exception:  # noqa: BLE001 - not listed by this moto
        posts = []
    sfn = runtime.client("stepfunctions")
    for e in posts:
        express["executions"] += 1
        stop = e.get("stopDate") or sfn.describe_execution(executionArn=e["executionArn"]).get("stopDate")
        ms = ((stop - e["startDate"]).total_seconds() * 1000) if stop else 100.0
        express["billed_ms"] += math.ceil(max(ms, 1) / 100) * 100
        try:
            events = history_of(runtime, e["executionArn"])
            express["log_bytes"] += cost_model.state_machine_log_bytes(events, post_log["level"], post_log["data"])
            express["history"] = True
        except Exception:  # noqa: BLE001 - an Express history is not kept
            # ~4 states, entered + exited, at the lifecycle's bytes per transition under the Express's level
            express["log_bytes"] += 4 * (all_bytes / max(transitions, 1)) * 2
    return {"lifecycle_executions": len(lifecycle), "lifecycle_running_at_end": running, "transitions": transitions,
            "log_bytes": log_bytes, "express": express, "levels": {"ContactLifecycle": lifecycle_log, "PostContact": post_log}}


# -- the run ----------------------------------------------------------------------------------------------
def _table_averages(runtime: LocalRuntime, tables: set[str]) -> dict[str, dict[str, float]]:
    ddb = runtime.client("dynamodb")
    out = {}
    for t in tables:
        sizes: list[int] = []
        for page in ddb.get_paginator("scan").paginate(TableName=t):
            sizes += [_size(i) for i in page["Items"]]
        gsis = len(ddb.describe_table(TableName=t)["Table"].get("GlobalSecondaryIndexes") or [])
        out[t] = {"avg_item_bytes": sum(sizes) / len(sizes) if sizes else 1024.0, "items": len(sizes), "gsis": gsis}
    return out


def _capacity(runtime: LocalRuntime, folder_of: dict[str, str]) -> dict[str, Any]:
    p, w = PAYLOADS, WRITES
    tables = {t for _, t in w.table_wru} | {t for _, t in p.rru}
    averages = _table_averages(runtime, {t for t in tables if t})
    wru = w.table_wru
    index: collections.Counter[tuple[str, str]] = collections.Counter()
    by_index: dict[str, dict[str, Any]] = {}
    for (fn, t, name), v in w.index_wru.items():
        index[(fn, t)] += v
        if folder_of.get(fn, fn) != SCHEDULED:
            row = by_index.setdefault(f"{t}/{name}", {"wru": 0.0, "projection": next(
                (i["projection"] for i in w._indexes.get(t, []) if i["name"] == name), "?")})  # noqa: SLF001
            row["wru"] += v
    for (t, name, kind), n in w.index_ops.items():
        by_index.setdefault(f"{t}/{name}", {"wru": 0.0, "projection": "?"})[kind] = n
    by_table: dict[str, dict[str, float]] = {}
    by_function: dict[str, dict[str, float]] = {}
    zero = {"wru": 0.0, "index_wru": 0.0, "rru": 0.0}
    for counter, key in ((wru, "wru"), (index, "index_wru"), (p.rru, "rru")):
        for (fn, t), v in counter.items():
            folder = folder_of.get(fn, fn)
            if folder != SCHEDULED:
                by_table.setdefault(t, dict(zero))[key] += v
            by_function.setdefault(folder, dict(zero))[key] += v
    for t, n in w.writes.items():  # table writes (puts, updates, deletes, condition checks, failed ones)
        if t in by_table:
            by_table[t]["writes"] = n
    scheduled = by_function.get(SCHEDULED, zero)
    return {
        "wru": sum(r["wru"] + r["index_wru"] for r in by_table.values()),
        "rru": sum(r["rru"] for r in by_table.values()),
        "scheduled_wru": scheduled["wru"] + scheduled["index_wru"],
        "scheduled_rru": scheduled["rru"],
        "by_table": by_table,
        "by_function": by_function,
        "by_index": by_index,
        "customer_index_what_if": dict(w.customer_what_if),
        "tables": averages,
    }


def measure(seconds: float = COST_S, window_s: float | None = None) -> dict[str, Any]:
    """Run the simulation on a fresh LocalRuntime; return the raw counts of the run (bench.cost_model.Counts
    plus what the fixed costs need). `window_s`: every stream consumer but FRESH_CONSUMERS gathers its
    batches for that long instead of the template's window (the calibration run of the per-batch split)."""
    _install_payload_hooks()
    logs = _LogCounter()
    runtime = LocalRuntime(log_file=Path(tempfile.gettempdir()) / "bench-cost.log").start(simulate=False)
    logs.install()
    WRITES.install()
    if window_s is not None:
        for p in runtime.pollers:
            fn = runtime.deployment.function_by_name_or_arn(p.mapping.function_name)  # type: ignore[union-attr]
            if fn is not None and fn.folder not in FRESH_CONSUMERS:
                p.mapping.maximum_batching_window_s = window_s
    from ccaas.ports_lake import install_export, installed_export

    lake_rows = _LakeRows(installed_export())
    before_lake = install_export(lake_rows) if COST_LAKE else installed_export()
    try:
        sim = Simulation(runtime, progress=False, seed=17)
        ws0 = dict(runtime.websocket_server.gateway.stats) if runtime.websocket_server else {}
        runtime.wait_for_stream_idle(timeout_s=20)
        call_counter.COUNTER.reset()
        lambda_runtime.STATS.reset()
        for p in runtime.pollers:
            p.stats.invocations, p.stats.records_delivered, p.stats.batch_sizes = 0, 0, []
        PAYLOADS.reset()
        WRITES.reset()
        PAYLOADS.on = WRITES.on = True
        lake_rows.on = COST_LAKE
        logs.bytes.clear()
        logs.metrics.clear()
        ws0 = dict(runtime.websocket_server.gateway.stats) if runtime.websocket_server else {}
        since = datetime.now(timezone.utc)
        started = time.monotonic()
        sim.start()
        time.sleep(seconds)
        sim.stop()
        summary = sim.summary()
        runtime.wait_for_stream_idle(timeout_s=30)
        time.sleep(3)  # the last post-contact workflows
        runtime.wait_for_stream_idle(timeout_s=30)
        elapsed_min = (time.monotonic() - started) / 60
        PAYLOADS.on = WRITES.on = False
        lake_rows.on = False
        ws = runtime.websocket_server.gateway.stats if runtime.websocket_server else {}
        ws_delta = {k: ws.get(k, 0) - ws0.get(k, 0) for k in ("connects", "frames", "posts", "gone", "refused")}
        template = json.loads(Path(runtime.template).read_text())
        settings = cost_model.log_settings(template)
        sfn = _step_functions(runtime, since, settings)
        stats = lambda_runtime.STATS
        dep = runtime.deployment
        assert dep is not None
        from infra.function_specs import SPECS

        folder_of = {f.name: f.folder for f in dep.functions.values()}
        active = cost_model.actively_traced(template)
        traced = {f.name for f in dep.functions.values() if f.logical_id in active}
        capacity = _capacity(runtime, folder_of)
        functions, scheduled = {}, {"invocations": 0, "ms": 0.0, "memory_mb": 512}
        with stats._lock:  # noqa: SLF001
            per_fn = {n: (stats.count[n], stats.total_ms[n]) for n in stats.count}
        consumers = {}
        for p in runtime.pollers:
            fn = dep.function_by_name_or_arn(p.mapping.function_name)
            assert fn is not None
            ddb = capacity["by_function"].get(fn.folder, {})
            consumers[fn.name] = {"stream": p.mapping.event_source_arn.rsplit("/", 1)[-1], "folder": fn.folder,
                                  "avg_batch": (p.stats.records_delivered / p.stats.invocations) if p.stats.invocations else 0.0,
                                  "window_s": p.mapping.maximum_batching_window_s, "batch_size": p.mapping.batch_size,
                                  # its totals (cost_model.ConsumerRun), for the per-batch split
                                  "invocations": p.stats.invocations, "records": p.stats.records_delivered,
                                  "ms": per_fn.get(fn.name, (0, 0.0))[1], "wru": ddb.get("wru", 0.0) + ddb.get("index_wru", 0.0),
                                  "rru": ddb.get("rru", 0.0), "log_bytes": logs.bytes.get(fn.name, 0)}
        for name, (n, ms) in per_fn.items():
            folder = folder_of.get(name, name)
            row = {"invocations": n, "ms": ms, "memory_mb": SPECS[folder].memory_mb if folder in SPECS else 512,
                   "consumer": 1 if name in consumers else 0, "avg_batch": consumers.get(name, {}).get("avg_batch", 0.0),
                   "traced": 1 if name in traced else 0, "folder": folder}
            if folder == SCHEDULED:
                scheduled = row
            else:
                functions[name] = row
        events_stream_consumers = collections.Counter(c["stream"] for c in consumers.values())
        api_requests = summary["api_requests"]["requests"]
        lambda_invocations = sum(f["invocations"] for f in functions.values())
        handler_logs = sum(v for fn, v in logs.bytes.items() if folder_of.get(fn) != SCHEDULED)
        (system_level,) = set(settings["lambda_system_levels"])  # one factory: one level for every function
        rest_level, lifecycle_log, post_log = settings["rest_execution_level"], sfn["levels"]["ContactLifecycle"], sfn["levels"]["PostContact"]
        server_errors = runtime.api_server.gateway.stats["server_errors"] if runtime.api_server else 0
        log_parts = {
            "handlers (measured)": handler_logs,
            f"Lambda platform lines (400 B/invocation at INFO; system level {system_level})":
                cost_model.platform_log_bytes(lambda_invocations, system_level),
            f"ContactLifecycle {lifecycle_log['level']}{'+data' if lifecycle_log['data'] else ''} (measured)": sfn["log_bytes"],
            f"PostContact {post_log['level']}{'+data' if post_log['data'] else ''}": sfn["express"]["log_bytes"],
            "REST access (300 B/request)": REST_ACCESS_LOG_B * api_requests,
            f"REST execution {rest_level} (2.5 KB/logged request, uncertain)":
                cost_model.rest_execution_log_bytes(api_requests, server_errors, rest_level),
            "WebSocket access (380 B/message)": WS_ACCESS_LOG_B * (ws_delta["frames"] + ws_delta["connects"]),
        }
        handler_calls = call_counter.COUNTER.handler_calls()
        counts: cost_model.Counts = {
            "contacts": summary["completed"],
            "api_requests": api_requests,
            "ws_frames_in": ws_delta["frames"],
            "ws_posts_out": ws_delta["posts"],
            "ws_connects": ws_delta["connects"],
            "ws_connection_minutes": ws_delta["connects"] * elapsed_min,
            "lambda_functions": {n: {k: v for k, v in f.items() if k != "folder"} for n, f in functions.items()},
            "sfn_transitions": sfn["transitions"],
            "express_executions": sfn["express"]["executions"],
            "express_billed_ms": sfn["express"]["billed_ms"],
            "express_memory_mb": EXPRESS_MEMORY_MB,
            "dynamodb_wru": capacity["wru"],
            "dynamodb_rru": capacity["rru"],
            "kinesis_records": PAYLOADS.kinesis_records,
            "kinesis_billed_kb": PAYLOADS.kinesis_billed_kb,
            "kinesis_bytes": PAYLOADS.kinesis_bytes,
            "kinesis_consumers": max(events_stream_consumers.values(), default=0),
            "log_bytes": sum(log_parts.values()),
            "sqs_requests": PAYLOADS.sqs,
            "events_published": PAYLOADS.events,
            "xray_rules": cost_model.xray_rules(template),
        }
        delivery = cost_model.lake_delivery(template)
        if not delivery["streams"]:  # synthesized without the lake: its streams as infra/constructs/lake.py makes them
            delivery = {"streams": 1 + len(lake_rows.rows), "buffer_s": 300}
        lake_counts: cost_model.Counts = {
            "lake_stream_records": PAYLOADS.lake_stream_records,
            "lake_stream_bytes": PAYLOADS.lake_stream_bytes,
            "lake_stream_billed_bytes": PAYLOADS.lake_stream_billed,
            "lake_put_records": sum(lake_rows.rows.values()),
            "lake_put_bytes": sum(lake_rows.bytes.values()),
            "lake_put_billed_bytes": sum(lake_rows.billed.values()),
            "lake_parquet_bytes": len(lake_rows.segments) * LAKE_PARQUET_B_PER_SEGMENT,
        }
        if COST_LAKE:
            counts.update(lake_counts)
        per_contact_calls = {k: v / max(summary["completed"], 1) for k, v in sorted(handler_calls.items())}
        return {
            "seconds": seconds,
            "elapsed_min": elapsed_min,
            "simulation": {k: summary[k] for k in ("created", "completed", "abandoned", "transfers", "consults",
                                                   "conferences", "escalations", "holds") if k in summary},
            "counts": counts,
            "calls_per_contact": per_contact_calls,
            "dynamodb": capacity,
            "step_functions": sfn,
            "websocket": ws_delta,
            "consumers": consumers,
            "log_parts": log_parts,
            "log_bytes_by_function": {folder_of.get(k, k): v for k, v in logs.bytes.items()},
            "emf_metrics": sorted([ns, name, list(map(list, dims))] for ns, name, dims in logs.metrics),
            "scheduled": {**scheduled, "wru": capacity["scheduled_wru"], "rru": capacity["scheduled_rru"]},
            "lambda_avg_ms": {f["folder"]: f["ms"] / f["invocations"] for f in functions.values() if f["invocations"]},
            "stack": cost_model.stack_resources(template),
            "lake": {} if not COST_LAKE else {
                "contact_events": {"records": PAYLOADS.lake_stream_records, "bytes": PAYLOADS.lake_stream_bytes,
                                   "billed_bytes": PAYLOADS.lake_stream_billed},
                **{t: {"records": n, "bytes": lake_rows.bytes[t], "billed_bytes": lake_rows.billed[t]}
                   for t, n in lake_rows.rows.items()},
                "segments": len(lake_rows.segments),
                "delivery": delivery,
            },
        }
    finally:
        PAYLOADS.on = WRITES.on = False
        WRITES.uninstall()
        lake_rows.on = False
        install_export(before_lake)
        logs.uninstall()
        runtime.stop()


def _print(measured: dict[str, Any], priced: dict[str, Any]) -> None:
    sim, counts, n = measured["simulation"], measured["counts"], measured["counts"]["contacts"]
    print(f"\nsimulation {measured['seconds']:.0f} s (demo mix, push agents): {sim}")
    uncertain = set(priced["uncertain_prices"])
    for key, title in (("measured", "as measured (local stream batches)"),
                       ("platform", f"platform scale: {PLATFORM_CONTACTS_PER_MONTH:,.0f} contacts a month (consumer "
                                    f"batches from the stream rate and windows), X-Ray's default rule per sampler")):
        t = priced[key]
        print_table(f"$ per 1,000 completed contacts by service, {title}", ["service", "$ / 1k contacts", "share %"],
                    [[s["service"], round(s["usd"], 4), round(s["share_pct"], 1)] for s in t["services"]]
                    + [["total", round(t["total_usd"], 4), 100.0]])
        print_table(f"$ per 1,000 completed contacts by priced unit, {title} (* = price not certain)",
                    ["price line", "quantity / 1k contacts", "unit", "$", "share %"],
                    [[r["id"] + (" *" if r["id"] in uncertain else ""), round(r["quantity"], 3), r["unit"],
                      round(r["usd"], 4), round(100 * r["usd"] / t["total_usd"], 1) if t["total_usd"] else 0.0]
                     for r in sorted(t["lines"], key=lambda r: -r["usd"])])
    per = {pid: q for pid, q in cost_model.usage_per_contact(counts).items()}
    fns = counts["lambda_functions"]
    print_table("Per completed contact (measured)", ["measure", "value"], [
        ["REST API requests", round(per["apigw.rest_requests"], 2)],
        ["WebSocket messages (in + out)", round(per["apigw.ws_messages"], 2)],
        ["Lambda invocations", round(per["lambda.requests"], 2)],
        ["Lambda GB-s", round(per["lambda.arm64_gb_s"], 3)],
        ["ContactLifecycle transitions", round(per["sfn.standard_transitions"], 2)],
        ["PostContact executions", round(per["sfn.express_requests"], 2)],
        ["DynamoDB WRU (incl. index)", round(per["dynamodb.wru"], 2)],
        ["DynamoDB RRU", round(per["dynamodb.rru"], 2)],
        ["Kinesis records", round(counts["kinesis_records"] / n, 2)],
        ["log KB", round(counts["log_bytes"] / n / 1024, 1)],
        ["X-Ray trace roots", round(per["xray.traces_recorded"], 2)],
    ])
    print_table("Lambda by function (measured, per contact)", ["function", "invocations", "avg ms", "GB-s", "avg batch"],
                [[name.split("-")[-1][:40], round(f["invocations"] / n, 2), round(f["ms"] / f["invocations"], 1),
                  round(f["ms"] / 1000 * f["memory_mb"] / 1024 / n, 4), round(f.get("avg_batch") or 0, 2) or "-"]
                 for name, f in sorted(fns.items(), key=lambda kv: -kv[1]["ms"])])
    print_table("DynamoDB request units by table (per contact; index = global secondary index writes, measured)",
                ["table", "WRU", "index WRU", "RRU", "avg item B"],
                [[t.split("-")[-1][:40], round(r["wru"] / n, 2), round(r["index_wru"] / n, 2), round(r["rru"] / n, 2),
                  round(measured["dynamodb"]["tables"].get(t, {}).get("avg_item_bytes", 0))]
                 for t, r in sorted(measured["dynamodb"]["by_table"].items(), key=lambda kv: -kv[1]["wru"])])
    print_table("DynamoDB request units by calling function (per contact)", ["function", "WRU", "index WRU", "RRU"],
                [[f, round(r["wru"] / n, 2), round(r["index_wru"] / n, 2), round(r["rru"] / n, 2)]
                 for f, r in sorted(measured["dynamodb"]["by_function"].items(), key=lambda kv: -kv[1]["wru"] - kv[1]["rru"])
                 if f != SCHEDULED])
    print_table("DynamoDB index writes (per contact; measured from each write's item before and after)",
                ["index", "projection", "WRU", "puts", "deletes", "updates"],
                [[k[:44], r.get("projection", "?"), round(r["wru"] / n, 2), round(r.get("put", 0) / n, 2),
                  round(r.get("delete", 0) / n, 2), round(r.get("update", 0) / n, 2)]
                 for k, r in sorted(measured["dynamodb"].get("by_index", {}).items(), key=lambda kv: -kv[1]["wru"])])
    what_if = measured["dynamodb"].get("customer_index_what_if") or {}
    if what_if:
        print("Contacts' customer index, had every contact a customer id (the demo's have none), from this run's "
              "contact writes: " + ", ".join(f"{k} {v / n:.2f} WRU" for k, v in sorted(what_if.items())) + " per contact")
    print_table("DynamoDB levers, per unit (independent of the run's mix)", ["measure", "value"], _lever_rows(measured))
    _print_consumers(measured, priced)
    print_table("CloudWatch Logs per contact", ["source", "KB / contact"],
                [[k, round(v / n / 1024, 2)] for k, v in sorted(measured["log_parts"].items(), key=lambda kv: -kv[1])]
                + [[f"  handler output of {fn}", round(v / n / 1024, 2)]
                   for fn, v in sorted(measured["log_bytes_by_function"].items(), key=lambda kv: -kv[1])
                   if fn != SCHEDULED and v / n >= 100])
    lake = measured.get("lake")
    if lake:
        lines = {r["id"]: r for r in priced["platform"]["lines"]}
        print_table("Lake export per 1,000 completed contacts (Firehose: each record billed at 5 KB steps)",
                    ["delivered", "records", "KB (JSON)", "KB billed"],
                    [[t, round(v["records"] / n * 1000), round(v["bytes"] / n, 1), round(v["billed_bytes"] / n, 1)]
                     for t, v in lake.items() if isinstance(v, dict) and "records" in v]
                    + [["contact segments", round(lake["segments"] / n * 1000), "-", "-"]])
        print_table("Lake $ per 1,000 completed contacts (* = price not certain; storage: a contact's first year)",
                    ["price line", "quantity / 1k contacts", "unit", "$"],
                    [[pid + (" *" if pid in uncertain else ""), round(r["quantity"], 4), r["unit"], round(r["usd"], 5)]
                     for pid, r in lines.items() if r["service"] == "Lake"]
                    + [["lake total", "", "", round(sum(r["usd"] for r in lines.values() if r["service"] == "Lake"), 5)]])
    a = priced["athena"]
    print_table(f"Athena: {a['queries_per_day']} long-range queries a day over {a['range_months']} months, a tenant of "
                f"{a['tenant_contacts_per_month']:,} contacts a month ({a['bytes_per_query'] / 1e6:,.0f} MB scanned a query)",
                ["price line", "quantity / month", "unit", "$ / month"],
                [[r["id"], round(r["quantity"], 4), r["unit"], round(r["usd"], 4)] for r in a["monthly"]["lines"]]
                + [["total", "", "", round(a["monthly"]["total_usd"], 4)],
                   ["$ per query", "", "", round(a["usd_per_query"], 5)],
                   ["$ per 1,000 of the tenant's contacts", "", "", round(a["usd_per_1000_contacts"], 5)]])
    d, f = priced["deployment"], priced["fixed_monthly"]
    print_table(f"Fixed monthly $ ({d['tenants']} tenant x {d['queues_per_tenant']} queues, {d['streams']} on-demand "
                f"streams, sweep every minute; {priced['custom_metrics']} custom metrics)",
                ["price line", "quantity / month", "unit", "$ / month"],
                [[r["id"], round(r["quantity"], 1), r["unit"], round(r["usd"], 2)] for r in sorted(f["lines"], key=lambda r: -r["usd"])]
                + [["total", "", "", round(f["total_usd"], 2)]])
    if priced["break_even_contacts_per_month"]:
        print(f"\nfixed monthly ${f['total_usd']:.2f} = the platform-scale variable cost of "
              f"{priced['break_even_contacts_per_month']:,.0f} completed contacts a month")
    print(f"\nprices not certain (check before quoting): {', '.join(priced['uncertain_prices'])}")


def _print_consumers(measured: dict[str, Any], priced: dict[str, Any]) -> None:
    at_scale, by_name = priced["platform_consumers"], measured["consumers"]
    rows = []
    for name, c in sorted(at_scale.items(), key=lambda kv: by_name[kv[0]]["folder"]):
        split, m = c["split"], c["measured"]
        rows.append([by_name[name]["folder"], by_name[name]["window_s"], round(m["records"] / m["invocations"], 2),
                     round(c["batch"], 2), "yes" if split["split"] else "no",
                     *(round(split["per_batch"][k], 2) for k in ("ms", "wru", "rru", "log_bytes")),
                     *(round(split["per_record"][k], 2) for k in ("ms", "wru", "rru", "log_bytes"))])
    print_table(f"Stream consumers: per-batch and per-record costs (measured: this run and a calibration run with "
                f"{CALIBRATION_WINDOW_S:.0f} s windows; extrapolated: the batch at {PLATFORM_CONTACTS_PER_MONTH:,.0f} "
                f"contacts a month, {PLATFORM_SHARDS} shards)",
                ["consumer", "window s", "batch here", "batch at scale", "split", "ms/batch", "WRU/batch", "RRU/batch",
                 "log B/batch", "ms/rec", "WRU/rec", "RRU/rec", "log B/rec"], rows)
    print_table("$ per 1,000 completed contacts at platform scale, by contacts a month (the consumers' batches grow "
                "with the rate)", ["contacts a month", "$ / 1k contacts"],
                [[f"{m:,}", round(usd, 4)] for m, usd in priced["platform_by_contacts_per_month"].items()])


def _lever_rows(measured: dict[str, Any]) -> list[list[Any]]:
    """The consumers' DynamoDB levers as rates: the live metrics item's size and write units per write,
    idempotency write units per stream record, alert evaluation read units per invocation."""
    def table(word: str) -> tuple[dict[str, float], dict[str, float]]:
        name = next((t for t in measured["dynamodb"]["by_table"] if word in t), "")
        return measured["dynamodb"]["by_table"].get(name, {}), measured["dynamodb"]["tables"].get(name, {})

    (metrics, metrics_t), (idem, _) = table("Metrics"), table("Idempotency")
    counts = measured["counts"]
    alerts = next((f for n, f in counts["lambda_functions"].items() if "EvaluateAlerts" in n), {"invocations": 0})
    alert_rru = measured["dynamodb"]["by_function"].get("evaluate_alerts", {}).get("rru", 0.0)
    records = counts.get("kinesis_records") or 0
    return [
        ["Metrics item, average bytes at the end", round(metrics_t.get("avg_item_bytes", 0))],
        ["Metrics WRU per write (consumer UpdateItem)", round(metrics.get("wru", 0) / metrics["writes"], 2) if metrics.get("writes") else "-"],
        ["Idempotency WRU per stream record", round(idem.get("wru", 0) / records, 3) if records else "-"],
        ["evaluate_alerts RRU per invocation", round(alert_rru / alerts["invocations"], 2) if alerts["invocations"] else "-"],
    ]


def main() -> dict[str, Any]:
    # COST_MEASURED=<a previous run's JSON>: price that run again (e.g. after changing bench/prices.json).
    previous = json.loads(Path(os.environ["COST_MEASURED"]).read_text()) if os.environ.get("COST_MEASURED") else None
    measured = previous["measured_run"] if previous else measure(COST_S, WINDOW_S)
    path = Path(os.environ.get("COST_JSON", Path(tempfile.gettempdir()) / "bench-cost.json"))
    path.write_text(json.dumps({"measured_run": measured}, indent=1, default=str), encoding="utf-8")
    calibration = previous.get("calibration_run") if previous else _calibration_run()
    priced = price(measured, calibration=calibration, contacts_per_month=PLATFORM_CONTACTS_PER_MONTH)
    _print(measured, priced)
    result = {"measured_run": measured, "calibration_run": calibration, **priced}
    path.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(f"results as JSON: {path}")
    return result


def _calibration_run() -> dict[str, Any] | None:
    """The same mix for CALIBRATION_S in a child process (a fresh runtime), its consumers gathering for
    CALIBRATION_WINDOW_S: its measured run (None when CALIBRATION_S is 0 or it failed)."""
    if CALIBRATION_S <= 0 or WINDOW_S is not None:
        return None
    import subprocess
    import sys

    out = Path(tempfile.gettempdir()) / "bench-cost-calibration.json"
    env = {**os.environ, "COST_S": str(CALIBRATION_S), "COST_WINDOW_S": str(CALIBRATION_WINDOW_S),
           "COST_CALIBRATION_S": "0", "COST_JSON": str(out)}
    env.pop("COST_MEASURED", None)
    with open(Path(tempfile.gettempdir()) / "bench-cost-calibration.txt", "w") as log:
        done = subprocess.run([sys.executable, "-m", "bench.bench_cost"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=Path(__file__).resolve().parent.parent, check=False)
    if done.returncode != 0:
        print(f"calibration run failed (exit {done.returncode}): every consumer cost priced per record")
        return None
    return json.loads(out.read_text())["measured_run"]


if __name__ == "__main__":
    main()
