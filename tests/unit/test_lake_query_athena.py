"""AthenaLakeQueries against botocore's own Athena client with its Stubber (no network, every request
checked against the API model): a throttled StartQueryExecution is tried again with back-off and then
refused as LakeBusy (503 + Retry-After); a FAILED query's kind of failure reaches the answer (a 422
`lake_query_failed`, not a 5xx; a 503 when Athena says it may pass), never Athena's message; results are read page by page over NextToken; a throttled poll is polled
again."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ccaas.adapters.aws.lake import AthenaLakeQueries, literal
from ccaas.bootstrap import memory_dependencies
from ccaas.domain import lake
from ccaas.domain.tenants import Tenant
from ccaas.ports_lake import LakeQueryStatus
from ccaas.usecases import lake as lake_history

TENANT, TZ = "acme", "America/New_York"
QUERY = lake.kpi_query(tenant_id=TENANT, from_ms=0, to_ms=86_400_000, interval="day")
START = {"QueryString": QUERY.sql, "QueryExecutionContext": {"Database": "ccaas_lake"}, "WorkGroup": "wg",
         "ExecutionParameters": [literal(p) for p in QUERY.parameters],
         # the same report asked again within 15 minutes reads the stored result (outside review: 20 identical
         # requests were 20 scans, and the workgroup's concurrency is every tenant's)
         "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 15}}}


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def athena():
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    clock = Clock()
    with Stubber(client) as stub:
        engine = AthenaLakeQueries(client, workgroup="wg", database="ccaas_lake", sleep=clock.sleep,
                                   monotonic=lambda: clock.now)
        yield engine, stub, clock
        stub.assert_no_pending_responses()


def _throttle(stub: Stubber, operation: str, expected: dict[str, Any] | None = None) -> None:
    stub.add_client_error(operation, service_error_code="TooManyRequestsException", service_message="Rate exceeded",
                          http_status_code=400, expected_params=expected)


def _execution(state: str, *, reason: str | None = None, error: dict | None = None,
               tenant: str = TENANT) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    if error:
        status["AthenaError"] = error
    return {"QueryExecution": {"QueryExecutionId": "q-1", "WorkGroup": "wg", "Status": status,
                               "ExecutionParameters": [literal(tenant), *START["ExecutionParameters"][1:]]}}


# --- StartQueryExecution throttled ------------------------------------------------------------------
def test_a_throttled_start_is_tried_again_with_back_off(athena):
    engine, stub, clock = athena
    _throttle(stub, "start_query_execution", START)
    _throttle(stub, "start_query_execution", START)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, START)
    assert engine.start(QUERY) == "q-1"
    assert clock.slept == [0.25, 0.5]


def test_a_start_throttled_four_times_is_lake_busy_with_a_retry_delay(athena):
    engine, stub, clock = athena
    for _ in range(4):
        _throttle(stub, "start_query_execution", START)
    with pytest.raises(lake.LakeBusy, match="TooManyRequestsException after 4 attempts") as busy:
        engine.start(QUERY)
    assert busy.value.retry_after_s == 5 and clock.slept == [0.25, 0.5, 1.0]  # 1.75 s: within the API's 4 s


def test_other_start_errors_are_not_retried(athena):
    engine, stub, clock = athena
    stub.add_client_error("start_query_execution", service_error_code="InvalidRequestException",
                          service_message="line 1:8: mismatched input", http_status_code=400)
    with pytest.raises(ClientError, match="mismatched input"):
        engine.start(QUERY)
    assert clock.slept == []


# --- a failed query names the kind of failure ----------------------------------------------------------
def test_a_failed_query_reports_the_kind_of_failure_never_athenas_message(athena):
    """Athena's message may quote the statement or name the S3 objects the query read: the status names the
    kind (the error catalog's ErrorType, else the error name that leads the reason), and a failure Athena marks
    Retryable is retryable (503 lake_busy, not 422). Before: the reason verbatim, S3 paths and all."""
    engine, stub, _ = athena
    stub.add_response("get_query_execution", _execution(
        "FAILED", error={"ErrorCategory": 2, "ErrorType": 1001, "Retryable": False,
                         "ErrorMessage": "Query exhausted resources at this scale factor"}))
    stub.add_response("get_query_execution", _execution("FAILED", reason="HIVE_BAD_DATA: not a Parquet file"))
    split = "s3://ccaas-lake/contact_records/tenant_id=acme/day=2026-11-20/part-0.parquet"
    stub.add_response("get_query_execution", _execution(
        "FAILED", reason=f"HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split {split}",
        error={"ErrorCategory": 1, "ErrorType": 1, "Retryable": True, "ErrorMessage": f"Error opening {split}"}))
    stub.add_response("get_query_execution", _execution("FAILED", reason="line 1:9: Column 'x' cannot be resolved"))
    status = engine.status("q-1", wait_s=5.0)
    assert status == LakeQueryStatus("FAILED", TENANT, "Athena could not run the query as asked (a user error: "
                                                       "the statement, its data or its permissions) (Athena error "
                                                       "type 1001)")
    assert engine.status("q-1").error == "Athena's HIVE_BAD_DATA error"
    assert engine.status("q-1") == LakeQueryStatus(
        "FAILED", TENANT, "the query exhausted Athena's resources at this scale (Athena error type 1)", retryable=True)
    assert engine.status("q-1") == LakeQueryStatus("FAILED", TENANT, None)  # no kind said: no text of Athena's


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp() * 1000)
    d.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    return d


LONG = {"start": datetime(2026, 6, 1, tzinfo=UTC), "end": datetime(2026, 11, 1, tzinfo=UTC), "interval": "week"}


def test_the_use_case_answers_a_failed_athena_query_with_a_422_naming_it_not_a_5xx(athena, deps):
    engine, stub, _ = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("FAILED", reason="HIVE_BAD_DATA: not a Parquet file"))
    with pytest.raises(lake_history.LakeQueryFailed) as failed:
        lake_history.historical(deps, engine, TENANT, **LONG)
    assert failed.value.code == "lake_query_failed" and isinstance(failed.value, lake_history.DomainError)
    assert str(failed.value).startswith("the lake query failed: Athena's HIVE_BAD_DATA error; asking again")


def test_a_throttled_start_reaches_the_use_case_as_lake_busy(athena, deps):
    engine, stub, _ = athena
    for _ in range(4):
        _throttle(stub, "start_query_execution")
    with pytest.raises(lake_history.LakeBusy):
        lake_history.historical(deps, engine, TENANT, **LONG)


def test_a_started_query_whose_polls_are_throttled_is_answered_202_with_its_id(athena, deps):
    engine, stub, _ = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    _throttle(stub, "get_query_execution", {"QueryExecutionId": "q-1"})
    accepted = lake_history.historical(deps, engine, TENANT, wait_s=0.0, **LONG)
    assert isinstance(accepted, lake_history.LakeQueryAccepted)  # not a 503: the query runs, its id is kept
    assert accepted.state == "QUEUED" and accepted.query_id.startswith("q-1.") and accepted.retry_after_s == 5
    stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    again = lake_history.query_result(deps, engine, TENANT, accepted.query_id)
    assert isinstance(again, lake_history.LakeQueryAccepted) and again.state == "RUNNING"


# --- polling --------------------------------------------------------------------------------------
def test_a_throttled_poll_is_polled_again_and_throttled_all_along_is_busy(athena):
    engine, stub, clock = athena
    _throttle(stub, "get_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    assert engine.status("q-1", wait_s=5.0) == LakeQueryStatus("SUCCEEDED", TENANT)
    assert clock.slept == [0.1, 0.2]
    _throttle(stub, "get_query_execution")
    with pytest.raises(lake.LakeBusy, match="GetQueryExecution throttled"):
        engine.status("q-1", wait_s=0.0)
    stub.add_client_error("get_query_execution", service_error_code="InvalidRequestException",
                          service_message="QueryExecution q-2 was not found", http_status_code=400)
    assert engine.status("q-2") is None


def test_another_workgroups_or_an_unparameterised_query_is_unknown(athena):
    engine, stub, _ = athena
    other = _execution("SUCCEEDED")
    other["QueryExecution"]["WorkGroup"] = "primary"
    stub.add_response("get_query_execution", other)
    bare = _execution("SUCCEEDED")
    del bare["QueryExecution"]["ExecutionParameters"]
    stub.add_response("get_query_execution", bare)
    assert engine.status("q-1") is None and engine.status("q-1") is None


# --- results over NextToken -------------------------------------------------------------------------
def _page(rows: list[list[str | None]], *, header: bool, token: str | None) -> dict[str, Any]:
    columns = [("queue", "varchar"), ("offered", "bigint"), ("csat", "double"), ("agent_time", "boolean"),
               ("result_rows", "bigint")]
    data = [{"Data": [{"VarCharValue": n} for n, _ in columns]}] if header else []
    data += [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    page: dict[str, Any] = {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": [
        {"CatalogName": "hive", "Name": n, "Type": t} for n, t in columns]}}, "UpdateCount": 0}
    if token:
        page["NextToken"] = token
    return page


def test_results_are_read_page_by_page_over_next_token_header_once(athena):
    engine, stub, _ = athena
    stub.add_response("get_query_results", _page([["q1", "12", "0.5", "true", "3"], ["q2", "0", None, "false", "3"]],
                                                  header=True, token="t-2"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_results", _page([["q3", "7", "1.0", "true", "3"]], header=False, token=None),
                      {"QueryExecutionId": "q-1", "NextToken": "t-2"})
    assert engine.results("q-1") == [
        {"queue": "q1", "offered": 12, "csat": 0.5, "agent_time": True, "result_rows": 3},
        {"queue": "q2", "offered": 0, "csat": None, "agent_time": False, "result_rows": 3},
        {"queue": "q3", "offered": 7, "csat": 1.0, "agent_time": True, "result_rows": 3},
    ]

