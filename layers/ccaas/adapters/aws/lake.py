"""LakeQueries on Amazon Athena: the lake's KPI query in the lake's workgroup over the Glue catalog.

- start: StartQueryExecution in the workgroup (its enforced configuration puts the KMS-encrypted results
  under the lake bucket's athena-results/), the Glue database as context, and the query's parameters as
  ExecutionParameters: Athena substitutes them as literals, so a string goes quoted (quotes doubled)
  and a number as digits. Nothing of the caller's is ever formatted into the SQL text.
  Throttled (TooManyRequestsException / ThrottlingException), it is tried again after 0.25, 0.5 and 1 s
  (within the API's 4 s budget), then LakeBusy: nothing ran, the API answers 503 with Retry-After.
- status: GetQueryExecution; the tenant is read back from the execution's first parameter, and a query
  of another workgroup is unknown (None), as is an id Athena does not know. A failed query's error is
  the kind of failure (AthenaError's ErrorType as Athena's error catalog names it, else the error name that
  leads StateChangeReason), never Athena's message, which may quote the statement or name the S3 objects it
  read (logged instead); AthenaError's Retryable makes it a retryable failure (503, not 422). A throttled poll
  is polled again while the wait lasts; throttled all along, LakeBusy (the caller asks again later).
- results: GetQueryResults, page by page over NextToken (1,000 rows each; the KPI query returns at most
  its row cap + 1), typed by the result set's column types.

The function's environment names the workgroup and database (LAKE_WORKGROUP, LAKE_DATABASE: the
infra's Lake construct sets them on the API function with `-c lake=true`).
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from ccaas.domain.lake import TABLES, LakeBusy, LakeQuery
from ccaas.ports_lake import LakeQueryStatus

WORKGROUP_ENV = "LAKE_WORKGROUP"
DATABASE_ENV = "LAKE_DATABASE"
_POLL_S = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # GetQueryExecution back-off while waiting
_START_BACKOFF_S = (0.25, 0.5, 1.0)  # StartQueryExecution throttled: the waits before trying again
RESULT_REUSE_MINUTES = 15  # an identical query within this long reads the stored result (Athena engine 3)
_THROTTLED = frozenset({"TooManyRequestsException", "ThrottlingException"})
logger = logging.getLogger(__name__)


def _throttled(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return (response.get("Error") or {}).get("Code") in _THROTTLED


def literal(value: str | int | float | bool) -> str:
    """An Athena execution parameter: the literal Athena parses (strings single-quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


_CASTS: dict[str, Callable[[str], Any]] = {
    "bigint": int, "integer": int, "int": int, "smallint": int, "tinyint": int,
    "double": float, "float": float, "real": float, "decimal": float,
    "boolean": lambda v: v.lower() == "true",
}


class AthenaLakeQueries:
    def __init__(self, client: Any, *, workgroup: str, database: str,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.workgroup = workgroup
        self.database = database
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def table_names(self) -> dict[str, str]:
        """The lake's tables as this engine names them (kpi_query's `names`)."""
        return {t: f"{self.database}.{t}" for t in TABLES}

    def start(self, query: LakeQuery) -> str:
        """StartQueryExecution (throttling retried with back-off, then LakeBusy), reusing a result up to
        RESULT_REUSE_MINUTES old."""
        for attempt in range(len(_START_BACKOFF_S) + 1):
            try:
                response = self.client.start_query_execution(
                    QueryString=query.sql,
                    QueryExecutionContext={"Database": self.database},
                    WorkGroup=self.workgroup,
                    ExecutionParameters=[literal(p) for p in query.parameters],
                    # The same report asked again within minutes (a refresh, a retry loop, a dashboard on many
                    # screens) is the stored result, not another scan of up to 200 GB: historical data changes
                    # little in minutes, and the workgroup's concurrency is every tenant's.
                    ResultReuseConfiguration={"ResultReuseByAgeConfiguration": {
                        "Enabled": True, "MaxAgeInMinutes": RESULT_REUSE_MINUTES}},
                )
                return response["QueryExecutionId"]
            except Exception as error:
                if not _throttled(error):
                    raise
                if attempt == len(_START_BACKOFF_S):
                    raise LakeBusy(f"Athena is busy (workgroup {self.workgroup}: {type(error).__name__} after "
                                   f"{attempt + 1} attempts)", retry_after_s=5) from error
                self._sleep(_START_BACKOFF_S[attempt])
        raise AssertionError("unreachable")

    def _execution(self, query_id: str) -> Mapping[str, Any] | None:
        """The execution; None for a query that is not ours; {} when Athena throttled the call."""
        try:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        except self.client.exceptions.InvalidRequestException:
            return None  # not an id Athena knows (malformed, expired, another account's)
        except Exception as error:
            if _throttled(error):
                return {}
            raise
        if execution.get("WorkGroup") != self.workgroup or not execution.get("ExecutionParameters"):
            return None
        return execution

    def status(self, query_id: str, wait_s: float = 0.0) -> LakeQueryStatus | None:
        deadline = self._monotonic() + wait_s
        attempt = 0
        last: Mapping[str, Any] = {}
        while True:
            execution = self._execution(query_id)
            if execution is None:
                return None
            if execution:
                last = execution
            state = last["Status"]["State"] if last else None
            if state in ("SUCCEEDED", "FAILED", "CANCELLED") or self._monotonic() >= deadline:
                if not last:  # throttled all along: nothing known yet, ask again later
                    raise LakeBusy(f"Athena is busy (workgroup {self.workgroup}: GetQueryExecution throttled)",
                                   retry_after_s=2)
                tenant_id = _unquote(last["ExecutionParameters"][0])
                if state not in ("FAILED", "CANCELLED"):
                    return LakeQueryStatus(state=state, tenant_id=tenant_id)
                error = last["Status"].get("AthenaError") or {}
                logger.warning("lake query %s %s: %s", query_id, state, last["Status"].get("StateChangeReason")
                               or error.get("ErrorMessage"))
                return LakeQueryStatus(state=state, tenant_id=tenant_id, error=_reason(last["Status"]),
                                       retryable=bool(error.get("Retryable")))
            self._sleep(min(_POLL_S[min(attempt, len(_POLL_S) - 1)], max(0.0, deadline - self._monotonic())))
            attempt += 1

    def results(self, query_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: list[tuple[str, Callable[[str], Any]]] = []
        first_page = True
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            result = page["ResultSet"]
            if not columns:
                columns = [(c["Name"], _CASTS.get(c["Type"].lower(), str))
                           for c in result["ResultSetMetadata"]["ColumnInfo"]]
            data = result["Rows"]
            if first_page:
                data = data[1:]  # the header row
                first_page = False
            for row in data:
                values = row["Data"]
                rows.append({name: (None if "VarCharValue" not in cell else cast(cell["VarCharValue"]))
                             for (name, cast), cell in zip(columns, values)})
        return rows


# Athena's error catalog (AthenaError.ErrorType), by kind:
# https://docs.aws.amazon.com/athena/latest/ug/error-reference.html
_ERROR_KINDS: tuple[tuple[range, str], ...] = (
    (range(0, 100), "the query exhausted Athena's resources at this scale"),
    (range(206, 207), "the query timed out"),
    (range(210, 211), "the query timed out"),
    (range(200, 300), "Athena's query engine had an internal error"),
    (range(401, 403), "Athena could not write the query's result"),
    (range(100, 1000), "Athena had an internal service error"),
    (range(1000, 10_000), "Athena could not run the query as asked (a user error: the statement, its data or "
                          "its permissions)"),
)
_ERROR_NAME = re.compile(r"^([A-Z][A-Z0-9_]{2,})(?=:|$)")  # HIVE_BAD_DATA: …, EXCEEDED_TIME_LIMIT: …


def _reason(status: Mapping[str, Any]) -> str | None:
    """Why a query failed, as a kind of failure: AthenaError's ErrorType as the error catalog names it, else
    the error name StateChangeReason starts with; None when Athena says neither. Never the message itself:
    it may quote the statement or name the S3 objects the query read."""
    error_type = (status.get("AthenaError") or {}).get("ErrorType")
    if isinstance(error_type, int):
        kind = next((k for types, k in _ERROR_KINDS if error_type in types), "Athena failed the query")
        return f"{kind} (Athena error type {error_type})"
    named = _ERROR_NAME.match(status.get("StateChangeReason") or "")
    return f"Athena's {named.group(1)} error" if named else None


def client_of(session: Any, service: str) -> Any:
    """A client on the function's session (ccaas.bootstrap), or on boto3's default one without it."""
    if session is None:
        import boto3

        return boto3.client(service)
    return session.client(service)


@cache
def _from(workgroup: str, database: str, endpoint: str | None, session: Any) -> AthenaLakeQueries:
    return AthenaLakeQueries(client_of(session, "athena"), workgroup=workgroup, database=database)


def from_environment(env: Mapping[str, str] | None = None, session: Any = None) -> AthenaLakeQueries | None:
    """The Athena engine the function's environment names (built once per cold start, on `session`), else None."""
    env = os.environ if env is None else env
    workgroup, database = env.get(WORKGROUP_ENV), env.get(DATABASE_ENV)
    if not workgroup or not database:
        return None
    return _from(workgroup, database, env.get("AWS_ENDPOINT_URL"), session)


# --- export: rows to Kinesis Data Firehose (record format conversion writes the Parquet) ---------------
# One Direct PUT delivery stream per lake table a function writes (infra: Lake.grant_export sets the
# variables of the tables that function writes, and only those); contact_events arrive from the events
# stream, and lake_intervals / tenant_settings are not delivered by a writer function.
STREAMS_ENV = {
    "contact_records": "LAKE_CONTACT_RECORDS_STREAM",
    "agent_activity": "LAKE_AGENT_ACTIVITY_STREAM",
    "surveys": "LAKE_SURVEYS_STREAM",
    "transcript_analyses": "LAKE_TRANSCRIPT_ANALYSES_STREAM",
}
_BATCH = 500  # PutRecordBatch: at most 500 records (and 4 MiB) a call
_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024


class FirehoseLakeExport:
    """LakeExport on Firehose: one JSON line per row to the table's delivery stream, which converts it to
    Parquet with the Glue table's schema and partitions it by the row's tenant_id and day. Records the
    service refuses (FailedPutCount) are sent again, `attempts` times in all; what is still refused raises
    LakeExportFailed (the caller's event is retried, then dead-lettered)."""

    def __init__(self, client: Any, streams: Mapping[str, str], *, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.streams = dict(streams)
        self.attempts = attempts
        self._sleep = sleep

    def put_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        import json

        from ccaas.ports_lake import LakeExportFailed

        stream = self.streams.get(table)
        if stream is None:
            raise LakeExportFailed(f"no delivery stream for lake table {table!r}")
        records = [{"Data": (json.dumps(dict(row), separators=(",", ":")) + "\n").encode()} for row in rows]
        for batch in _batches(records):
            pending = batch
            for attempt in range(self.attempts):
                response = self.client.put_record_batch(DeliveryStreamName=stream, Records=pending)
                if not response.get("FailedPutCount"):
                    break
                pending = [r for r, result in zip(pending, response["RequestResponses"]) if result.get("ErrorCode")]
                if attempt + 1 < self.attempts:
                    self._sleep(0.1 * 2 ** attempt)
            else:
                raise LakeExportFailed(f"{len(pending)} {table} row(s) not accepted by {stream} after "
                                       f"{self.attempts} attempts")


def _batches(records: Sequence[dict[str, bytes]]) -> list[list[dict[str, bytes]]]:
    out: list[list[dict[str, bytes]]] = []
    size = 0
    for record in records:
        if not out or len(out[-1]) >= _BATCH or size + len(record["Data"]) > _BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(record)
        size += len(record["Data"])
    return out


@cache
def _export_from(streams: tuple[tuple[str, str], ...], endpoint: str | None, session: Any) -> FirehoseLakeExport:
    return FirehoseLakeExport(client_of(session, "firehose"), dict(streams))


def export_from_environment(env: Mapping[str, str] | None = None, session: Any = None) -> FirehoseLakeExport | None:
    """The Firehose export of the streams the function's environment names (STREAMS_ENV: a table whose
    variable is unset has no stream here, and putting its rows raises LakeExportFailed), else None."""
    env = os.environ if env is None else env
    streams = tuple((table, env[name]) for table, name in STREAMS_ENV.items() if env.get(name))
    if not streams:
        return None
    return _export_from(streams, env.get("AWS_ENDPOINT_URL"), session)
