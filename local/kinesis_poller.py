"""Kinesis -> Lambda event source mapping, emulated with the mapping's real settings.

moto's own mappings deliver one record per invocation, synchronously, at write time: batch size,
batching window, partial batch responses, bisection, retries, max record age and the on-failure
destination are not emulated. This poller reads each shard (GetShardIterator/GetRecords) and
delivers batches in the real Kinesis event shape through the seam every invocation ends in
(local.lambda_runtime.invoke_in_process: the same execution environments, environment overlay and
call counting), called directly for functions registered in this process (moto's Invoke API would
only add an HTTP round trip) and through moto's Lambda Invoke otherwise, honouring:

- StartingPosition (TRIM_HORIZON, LATEST, AT_TIMESTAMP), BatchSize, MaximumBatchingWindowInSeconds;
- FunctionResponseTypes ReportBatchItemFailures: the checkpoint moves to the lowest failed sequence
  number and the batch is retried from there (an unknown/empty itemIdentifier fails the whole batch);
- BisectBatchOnFunctionError: a batch whose invocation errors is split in two and each half is
  retried on its own (splitting does not count as a retry, as on AWS);
- MaximumRetryAttempts (-1 = until the record expires) and MaximumRecordAgeInSeconds (-1 = never):
  then the batch's description goes to the on-failure destination (SQS or SNS) in the shape Lambda
  uses ({requestContext, responseContext, version, timestamp, KinesisBatchInfo}) and the shard moves on;
- per-shard ordering: one batch in flight per shard (ParallelizationFactor 1), shards in parallel;
- retention (a deviation): once every poller of a stream has delivered a shard's records, they are
  dropped from moto but the newest few hundred (local.moto_patches.trim_kinesis_shard), so a long run's
  memory does not grow with the stream; AWS keeps them 24 h;
- pace (`min_read_interval_s`, 0 unless asked; `python -m local` asks for Lambda's 1 s): a shard is read
  at most once per interval, so what a busy stream carries meanwhile is one batch, as on AWS;
- reading: a shard is read when a put made through any botocore client of this process (handlers,
  the Step Functions engine, tests) wakes the shards it wrote to (as an enhanced fan-out subscription
  pushes records), and otherwise every 2 s (puts from other processes, e.g. the AWS CLI). So an idle
  shard costs little CPU and a record is delivered as soon as its shard's previous batch is done;
- flush (a deviation, only when asked: `flush()`, e.g. LocalRuntime.wait_for_stream_idle(flush=True)):
  every shard reads now and delivers what it holds without waiting out the batching window, so a test
  waiting for a consumer's effect does not wait the window's seconds; what is put after a flush is
  batched as configured again.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from local import lambda_runtime, moto_patches
from local.deployer import EventSourceMappingSpec

log = logging.getLogger("local.kinesis")


@dataclass
class InvokeResult:
    """What the poller needs from one invocation."""

    function_error: str | None = None  # "Unhandled" / "Handled" when the function raised
    payload: Any = None
    status_code: int = 200


@dataclass
class StreamRecord:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: float  # epoch seconds

    def event_record(self, stream_arn: str, region: str, identity_arn: str) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": self.partition_key,
                "sequenceNumber": self.sequence_number,
                "data": base64.b64encode(self.data).decode("ascii"),
                "approximateArrivalTimestamp": self.arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.shard_id}:{self.sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": identity_arn,
            "awsRegion": region,
            "eventSourceARN": stream_arn,
        }


@dataclass
class PollerStats:
    invocations: int = 0
    records_delivered: int = 0
    records_succeeded: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    bisections: int = 0
    dlq_batches: int = 0
    dlq_records: int = 0
    # errorType and errorMessage of the latest function error: a retried error otherwise leaves only a count
    last_function_error: str | None = None
    batch_sizes: list[int] = field(default_factory=list)
    # arrival -> invocation, first record of each batch (machine doubles: 8 bytes a batch, not 32)
    lag_ms: array[float] = field(default_factory=lambda: array("d"))

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if not isinstance(v, (list, array))}
        if self.lag_ms:
            xs = sorted(self.lag_ms)
            d["lag_p50_ms"] = round(xs[len(xs) // 2], 1)
            d["lag_p95_ms"] = round(xs[int(len(xs) * 0.95)], 1)
            d["max_lag_ms"] = round(xs[-1], 1)
        if self.batch_sizes:
            d["avg_batch"] = round(sum(self.batch_sizes) / len(self.batch_sizes), 2)
        return d


def _error_summary(result: InvokeResult) -> str:
    payload = result.payload
    if isinstance(payload, dict):
        return f"{payload.get('errorType', result.function_error)}: {payload.get('errorMessage', '')}"[:500]
    return f"{result.function_error}: {payload!r}"[:500]


GET_RECORDS_LIMIT = 10_000  # Kinesis' most records a GetRecords call returns


# -- wake on put ---------------------------------------------------------------------------------
# A botocore hook on every client of this process (registered in botocore's built-in handler list, so
# sessions created later get it, and on boto3's default session): after a successful PutRecord(s) it
# wakes the pollers of that stream, on the shards the records went to. Handlers build their sessions
# after this module is imported (local.runtime imports it); a client that lacks the hook is served by
# the idle polling.
_pollers_lock = threading.Lock()
_pollers: dict[str, list[KinesisPoller]] = {}  # stream name -> running pollers
_hook_installed = False
_STREAM_KEY = "local_kinesis_stream"


def _stream_name(ident: str) -> str:
    return ident.split(":stream/", 1)[1] if ":stream/" in ident else ident


def _remember_stream(params: Any = None, context: Any = None, **_: Any) -> None:
    if isinstance(params, dict) and isinstance(context, dict):
        ident = params.get("StreamName") or params.get("StreamARN")
        if ident:
            context[_STREAM_KEY] = _stream_name(str(ident))


def _after_put(parsed: Any = None, context: Any = None, **_: Any) -> None:
    if not isinstance(context, dict) or not isinstance(parsed, dict) or _STREAM_KEY not in context:
        return
    shard_ids = {r["ShardId"] for r in parsed.get("Records", ()) if isinstance(r, dict) and "ShardId" in r}
    if "ShardId" in parsed:
        shard_ids.add(parsed["ShardId"])
    if not shard_ids:
        return
    with _pollers_lock:
        listeners = list(_pollers.get(context[_STREAM_KEY], ()))
    for poller in listeners:
        poller.wake(shard_ids)


def install_put_hook() -> None:
    """Idempotent: wake pollers on puts made by every botocore client, present and future."""
    global _hook_installed
    with _pollers_lock:
        if _hook_installed:
            return
        import boto3
        import botocore.handlers

        hooks = [
            (f"before-parameter-build.kinesis.{op}", _remember_stream) for op in ("PutRecords", "PutRecord")
        ] + [(f"after-call.kinesis.{op}", _after_put) for op in ("PutRecords", "PutRecord")]
        botocore.handlers.BUILTIN_HANDLERS.extend(hooks)
        if boto3.DEFAULT_SESSION is not None:
            for i, (event, handler) in enumerate(hooks):
                boto3.DEFAULT_SESSION.events.register(event, handler, unique_id=f"local-kinesis-wake-{i}")
        _hook_installed = True


install_put_hook()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class KinesisPoller:
    def __init__(
        self,
        mapping: EventSourceMappingSpec,
        *,
        kinesis: Any,
        function_arn: str,
        identity_arn: str,
        region: str = "us-east-1",
        lambda_client: Any = None,
        sqs: Any = None,
        sns: Any = None,
        s3: Any = None,
        invoke: Callable[[dict[str, Any]], InvokeResult] | None = None,
        poll_interval_s: float = 0.05,
        max_idle_interval_s: float = 2.0,
        retry_backoff_s: float = 0.05,
        clock: Callable[[], float] = time.time,
        min_read_interval_s: float = 0.0,
    ) -> None:
        self.mapping = mapping
        self.kinesis = kinesis
        self.lambda_client = lambda_client
        self.sqs = sqs
        self.sns = sns
        self.s3 = s3
        self.function_arn = function_arn
        self.identity_arn = identity_arn
        self.region = region
        self._invoke_fn = invoke
        self.poll_interval_s = poll_interval_s
        # How long an empty shard waits for a wake-up (see install_put_hook) before it reads again: every
        # GetRecords is an HTTP round trip to moto, which scans the shard, and 4 consumers x 4 shards
        # polling on a timer burn CPU that every other call then waits for on a 2-core machine (measured:
        # polling idle shards every 50 ms backing off to 250 ms kept 40% of a core busy and made an idle
        # DynamoDB call 3x slower). In-process puts wake their shards, so this only bounds how late a put
        # from another process is seen.
        self.max_idle_interval_s = max(poll_interval_s, max_idle_interval_s)
        self.retry_backoff_s = retry_backoff_s
        # Lambda reads a caught-up shard at most once a second (its documented base rate): 1.0 batches what a
        # busy stream carries in that second into one invocation. 0 (the default): read as soon as woken, the
        # quickest delivery (tests). Measured at the busy-day bench's load with 0: the 5 consumers' GetRecords
        # after every put and their one-record batches were ~1/5 of the process's CPU.
        self.min_read_interval_s = max(0.0, min_read_interval_s)
        self.clock = clock
        self.stream_arn = mapping.event_source_arn
        self.stream_name = self.stream_arn.split("/", 1)[1]
        self.stats = PollerStats()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._idle: dict[str, bool] = {}
        self._wakes: dict[str, threading.Event] = {}
        self._flushes: dict[str, threading.Event] = {}  # shard -> flush() asked, not yet seen by a read
        self._delivered: dict[str, int] = {}  # shard -> the last sequence number delivered (or sent to the DLQ)
        self._started_at = self.clock()
        self._errors: list[BaseException] = []

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> KinesisPoller:
        if not self.mapping.enabled:
            log.info("mapping %s is disabled", self.mapping.logical_id)
            return self
        self._started_at = self.clock()
        with _pollers_lock:
            _pollers.setdefault(self.stream_name, []).append(self)
        for shard_id in self._shard_ids():
            self._spawn(shard_id)
        watcher = threading.Thread(target=self._watch_shards, name="kinesis-shards", daemon=True)
        self._threads["<watch>"] = watcher
        watcher.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        with _pollers_lock:
            mine = _pollers.get(self.stream_name, [])
            if self in mine:
                mine.remove(self)
            if not mine:
                _pollers.pop(self.stream_name, None)
        for event in (*self._wakes.values(), *self._flushes.values()):
            event.set()
        deadline = time.monotonic() + timeout_s
        for t in list(self._threads.values()):
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def wake(self, shard_ids: Any = None) -> None:
        """Records were put on these shards (all shards when None): poll them now."""
        for shard_id, event in list(self._wakes.items()):
            if shard_ids is None or shard_id in shard_ids:
                event.set()

    def flush(self) -> None:
        """Read every shard now and deliver what is pending (and what that read finds) without waiting out
        the batching window; later records are batched as configured. For callers waiting on the stream
        (tests, benches): the mapping's batching window is kept otherwise."""
        for shard_id, event in list(self._flushes.items()):
            event.set()
            self._wakes[shard_id].set()

    def idle(self) -> bool:
        """Every shard has nothing fetched and undelivered, and has read since the last flush() (for tests
        waiting on quiescence: after a flush, idle means what was put before it is delivered)."""
        # The flush flag first: a shard clears it only after marking itself busy (_shard_loop).
        return all(
            not self._flushes[s].is_set() and self._idle.get(s, False) for s in self._threads if s != "<watch>"
        )

    def _shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.stream_name}
        while True:
            out = self.kinesis.list_shards(**kwargs)
            shards.extend(s["ShardId"] for s in out["Shards"])
            if not out.get("NextToken"):
                return shards
            kwargs = {"NextToken": out["NextToken"]}

    def _spawn(self, shard_id: str) -> None:
        t = threading.Thread(target=self._run_shard, args=(shard_id,), name=f"kinesis-{shard_id}", daemon=True)
        self._idle[shard_id] = False
        self._wakes[shard_id] = threading.Event()
        self._flushes[shard_id] = threading.Event()
        self._threads[shard_id] = t  # last: idle() reads the shard's flags once its thread is listed
        t.start()

    def _watch_shards(self) -> None:
        while not self._stop.wait(10.0):
            try:
                for shard_id in self._shard_ids():
                    if shard_id not in self._threads:
                        self._spawn(shard_id)
            except Exception as exc:  # noqa: BLE001 - keep watching
                log.debug("list_shards failed: %s", exc)

    # -- one shard ------------------------------------------------------------------------------
    def _iterator(self, shard_id: str, after: str | None) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": shard_id}
        if after is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        elif self.mapping.starting_position == "AT_TIMESTAMP":
            kwargs.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=self.mapping.starting_position_timestamp or 0)
        else:
            kwargs["ShardIteratorType"] = self.mapping.starting_position
        return self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]

    def _run_shard(self, shard_id: str) -> None:
        try:
            self._shard_loop(shard_id)
        except Exception as exc:  # noqa: BLE001 - surface in logs and stats, never kill the runtime
            if self.running:
                log.exception("shard %s poller crashed", shard_id)
                self._errors.append(exc)

    def _shard_loop(self, shard_id: str) -> None:
        m = self.mapping
        iterator: str | None = self._iterator(shard_id, None)
        last_fetched: str | None = None
        pending: list[StreamRecord] = []
        first_pending_at = 0.0
        wake, flush = self._wakes[shard_id], self._flushes[shard_id]
        flushing = False  # a flush was asked before the last read: deliver what is pending, window or not
        last_read = -float("inf")
        more_in_shard = False  # the last read stopped at its limit
        while self.running:
            # With records held in an open batching window, the shard is read again only when a put woke it (or a
            # flush asks), when the last read left records behind, or once as the window ends (for puts no hook
            # announced: another process's client). It used to be read every poll interval for the whole window:
            # 16 shard threads of the 5 s windows, ~8 % of a traffic test's CPU.
            read_due = (not pending or wake.is_set() or flush.is_set() or more_in_shard
                        or not self._window_open(first_pending_at))
            if iterator is not None and len(pending) < m.batch_size and read_due:
                if self.min_read_interval_s and not flush.is_set() and self._stop.wait(
                    last_read + self.min_read_interval_s - time.monotonic()
                ):
                    return
                last_read = time.monotonic()
                wake.clear()  # before the read: a put after this point wakes the next wait
                if flush.is_set():  # before the read too: what this read finds was put before the flush
                    self._idle[shard_id] = False  # busy until the flushed records are delivered
                    flush.clear()
                    flushing = True
                try:
                    out = self.kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
                except Exception as exc:  # noqa: BLE001 - expired iterator or a moto restart
                    if not self.running:
                        return
                    log.debug("get_records on %s failed (%s); re-acquiring the iterator", shard_id, exc)
                    time.sleep(self.poll_interval_s)
                    iterator = self._iterator(shard_id, last_fetched)
                    continue
                iterator = out.get("NextShardIterator")
                more_in_shard = len(out.get("Records", [])) >= GET_RECORDS_LIMIT
                for r in out.get("Records", []):
                    arrival = r["ApproximateArrivalTimestamp"]
                    arrival = arrival.timestamp() if hasattr(arrival, "timestamp") else float(arrival)
                    if not pending:
                        first_pending_at = self.clock()
                    pending.append(StreamRecord(shard_id, r["SequenceNumber"], r["PartitionKey"], r["Data"], arrival))
                    last_fetched = r["SequenceNumber"]
            if not pending:
                flushing = False
                self._idle[shard_id] = True
                if iterator is None:
                    return  # closed shard, fully read
                wake.wait(self.max_idle_interval_s)  # set by a put on this shard, or by stop()
                continue
            self._idle[shard_id] = False
            full = len(pending) >= m.batch_size
            if not full and not flushing and self._window_open(first_pending_at):
                flush.wait(min(self.poll_interval_s, m.maximum_batching_window_s))  # or stop(), which sets it
                continue
            batch, pending = pending[: m.batch_size], pending[m.batch_size :]
            if pending:
                first_pending_at = self.clock()
            self._deliver(shard_id, batch)
            self._delivered_up_to(shard_id, batch[-1].sequence_number)
            flushing = flushing and bool(pending)
            if not pending and iterator is not None:
                # Everything fetched is delivered: read again when a put wakes this shard (a put made
                # during the delivery already has), not on the off chance.
                self._idle[shard_id] = True
                wake.wait(self.max_idle_interval_s)

    def _window_open(self, first_pending_at: float) -> bool:
        window_s = self.mapping.maximum_batching_window_s
        return window_s > 0 and self.clock() - first_pending_at < window_s

    def _delivered_up_to(self, shard_id: str, sequence_number: str) -> None:
        """Remember the checkpoint; drop from moto what every poller of the stream has delivered."""
        try:
            self._delivered[shard_id] = int(sequence_number)
        except ValueError:
            return
        with _pollers_lock:
            pollers = list(_pollers.get(self.stream_name, ()))
        marks = [p._delivered.get(shard_id) for p in pollers]  # noqa: SLF001 - pollers of one stream
        if self in pollers and None not in marks and moto_patches.applied():
            moto_patches.trim_kinesis_shard(self.stream_name, shard_id, min(marks))  # type: ignore[type-var]

    # -- delivery semantics ---------------------------------------------------------------------
    def _deliver(self, shard_id: str, records: Sequence[StreamRecord]) -> None:
        """Deliver a contiguous run of records until each one succeeded or went to the DLQ."""
        m = self.mapping
        records = list(records)
        attempts = 0  # invocations of the current (checkpointed) batch
        while records and self.running:
            if m.maximum_record_age_s >= 0:
                now = self.clock()
                expired = 0
                while expired < len(records) and now - records[expired].arrival > m.maximum_record_age_s:
                    expired += 1
                if expired:
                    self._send_to_destination(shard_id, records[:expired], "RecordAgeExceeded", attempts, None)
                    records = records[expired:]
                    attempts = 0
                    continue
            result = self._invoke(records)
            attempts += 1
            if result.function_error is None:
                failed_at = self._lowest_failure(records, result.payload)
                if failed_at is None:
                    with self._stats_lock:
                        self.stats.records_succeeded += len(records)
                    return
                with self._stats_lock:
                    self.stats.partial_failures += 1
                if failed_at > 0:
                    # Checkpoint: everything before the lowest failed record is done.
                    with self._stats_lock:
                        self.stats.records_succeeded += failed_at
                    records = records[failed_at:]
                    attempts = 1 if m.maximum_retry_attempts >= 0 else attempts
            else:
                with self._stats_lock:
                    self.stats.function_errors += 1
                    self.stats.last_function_error = _error_summary(result)
                if m.bisect_batch_on_function_error and len(records) > 1:
                    with self._stats_lock:
                        self.stats.bisections += 1
                    half = len(records) // 2
                    self._deliver(shard_id, records[:half])
                    self._deliver(shard_id, records[half:])
                    return
            retries_done = attempts - 1
            if m.maximum_retry_attempts >= 0 and retries_done >= m.maximum_retry_attempts:
                self._send_to_destination(shard_id, records, "RetryAttemptsExhausted", attempts, result)
                return
            self._stop.wait(min(self.retry_backoff_s * (2 ** min(retries_done, 5)), 2.0))

    def _lowest_failure(self, records: Sequence[StreamRecord], payload: Any) -> int | None:
        """Index of the first record to retry, or None when the batch succeeded."""
        if not self.mapping.report_batch_item_failures:
            return None
        if not isinstance(payload, dict):
            return None  # null / non-object response: success
        failures = payload.get("batchItemFailures")
        if not failures:
            return None
        index = {r.sequence_number: i for i, r in enumerate(records)}
        lowest: int | None = None
        for item in failures:
            ident = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not ident or str(ident) not in index:
                return 0  # an invalid identifier fails the whole batch (as on AWS)
            i = index[str(ident)]
            lowest = i if lowest is None else min(lowest, i)
        return lowest

    def _event(self, records: Sequence[StreamRecord]) -> dict[str, Any]:
        """The Kinesis event Lambda invokes the function with."""
        return {"Records": [r.event_record(self.stream_arn, self.region, self.identity_arn) for r in records]}

    def _invoke(self, records: Sequence[StreamRecord]) -> InvokeResult:
        event = self._event(records)
        with self._stats_lock:
            self.stats.invocations += 1
            self.stats.records_delivered += len(records)
            self.stats.batch_sizes.append(len(records))
            self.stats.lag_ms.append((self.clock() - records[0].arrival) * 1000)
            if len(self.stats.lag_ms) > 10000:
                del self.stats.lag_ms[:5000]
                del self.stats.batch_sizes[:5000]
        if self._invoke_fn is not None:
            try:
                return self._invoke_fn(event)
            except Exception as exc:  # noqa: BLE001 - a raising fake behaves like a function error
                return InvokeResult(function_error="Unhandled", payload={"errorMessage": str(exc), "errorType": type(exc).__name__})
        direct = lambda_runtime.invoke_registered_answer(self.function_arn, event)
        if direct is not None:
            return InvokeResult(function_error=direct[0], payload=direct[1])
        try:
            out = self.lambda_client.invoke(
                FunctionName=self.function_arn, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        except Exception as exc:  # noqa: BLE001 - throttles and service errors are retried like errors
            return InvokeResult(function_error="ServiceException", payload={"errorMessage": str(exc)}, status_code=500)
        raw = out["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return InvokeResult(function_error=out.get("FunctionError"), payload=payload, status_code=out.get("StatusCode", 200))

    def _send_to_destination(
        self,
        shard_id: str,
        records: Sequence[StreamRecord],
        condition: str,
        invoke_count: int,
        result: InvokeResult | None,
    ) -> None:
        message: dict[str, Any] = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "version": "1.0",
            "timestamp": _iso(self.clock()),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0].sequence_number,
                "endSequenceNumber": records[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso(records[0].arrival),
                "approximateArrivalOfLastRecord": _iso(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        if result is not None:
            message["responseContext"] = {
                "statusCode": result.status_code,
                "executedVersion": "$LATEST",
                "functionError": result.function_error or "",
            }
        with self._stats_lock:
            self.stats.dlq_batches += 1
            self.stats.dlq_records += len(records)
        dest = self.mapping.on_failure_destination
        log.warning(
            "%s: %d record(s) of %s discarded (%s)%s",
            self.mapping.logical_id, len(records), shard_id, condition, f" -> {dest}" if dest else " (no destination)",
        )
        if not dest:
            return
        body = json.dumps(message)
        if ":sqs:" in dest:
            _, _, _, _, account, name = dest.split(":", 5)
            url = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            self.sqs.send_message(QueueUrl=url, MessageBody=body)
        elif ":sns:" in dest:
            self.sns.publish(TopicArn=dest, Message=body)
        elif dest.startswith("arn:aws:s3:::"):
            # An S3 destination also gets the whole invocation record (the records themselves), under
            # aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID> (Lambda's naming).
            at = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
            key = (f"aws/lambda/{self.mapping.uuid}/{shard_id}/{at:%Y/%m/%d}/{at:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}")
            self.s3.put_object(Bucket=dest.removeprefix("arn:aws:s3:::"), Key=key,
                               Body=json.dumps({**message, "payload": self._event(records)}).encode())
        else:
            log.error("unsupported on-failure destination %s", dest)
