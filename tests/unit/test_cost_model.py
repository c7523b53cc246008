"""bench.cost_model: the pricing arithmetic of bench_cost (counts -> $), checked by hand, and the price table."""
from __future__ import annotations

import math

import pytest

from bench import cost_model
from bench.cost_model import (
    cost_table,
    custom_metric_count,
    fixed_monthly_usage,
    item_size,
    load_prices,
    price_problems,
    read_units,
    usage_per_contact,
    write_units,
    xray_roots,
)


def _line(pid: str, service: str, usd: float, per: float) -> dict:
    return {"id": pid, "service": service, "item": pid, "unit": "u", "unit_quantity": per, "usd": usd,
            "region": "us-east-1", "date": "2026-12", "source": "https://aws.amazon.com/x/pricing/", "certain": True}


# Round prices so the expected dollars below can be checked by hand.
PRICES = {p["id"]: p for p in (
    _line("apigw.rest_requests", "API Gateway", 4.0, 1_000_000),
    _line("apigw.ws_messages", "API Gateway", 1.0, 1_000_000),
    _line("apigw.ws_connection_minutes", "API Gateway", 0.25, 1_000_000),
    _line("lambda.requests", "Lambda", 0.20, 1_000_000),
    _line("lambda.arm64_gb_s", "Lambda", 0.00001, 1),
    _line("sfn.standard_transitions", "Step Functions", 0.025, 1000),
    _line("sfn.express_requests", "Step Functions", 1.0, 1_000_000),
    _line("sfn.express_gb_s", "Step Functions", 0.00002, 1),
    _line("dynamodb.wru", "DynamoDB", 1.0, 1_000_000),
    _line("dynamodb.rru", "DynamoDB", 0.25, 1_000_000),
    _line("kinesis.ondemand_gb_in", "Kinesis", 0.08, 1),
    _line("kinesis.ondemand_gb_out", "Kinesis", 0.04, 1),
    _line("kinesis.ondemand_stream_hours", "Kinesis", 0.04, 1),
    _line("logs.ingestion_gb", "CloudWatch", 0.50, 1),
    _line("cloudwatch.custom_metrics", "CloudWatch", 0.30, 1),
    _line("sqs.requests", "SQS", 0.40, 1_000_000),
    _line("events.custom_events", "EventBridge", 1.0, 1_000_000),
    _line("scheduler.invocations", "EventBridge", 1.0, 1_000_000),
    _line("xray.traces_recorded", "X-Ray", 5.0, 1_000_000),
)}

GIB = 1024**3

COUNTS: cost_model.Counts = {
    "contacts": 10,
    "api_requests": 100,  # 10 per contact -> 10,000 per 1k contacts -> $0.04
    "ws_frames_in": 20, "ws_posts_out": 30, "ws_connects": 5,  # 5 messages per contact -> 5,000 -> $0.005
    "ws_connection_minutes": 40.0,  # 4 per contact -> 4,000 -> $0.001
    "lambda_functions": {
        # 200 s at 1 GB = 200 GB-s; 20 invocations
        "api": {"invocations": 20, "ms": 200_000, "memory_mb": 1024, "consumer": 0, "avg_batch": 0},
        # 50 s at 512 MB = 25 GB-s; 100 invocations of 2 records each
        "consumer": {"invocations": 100, "ms": 50_000, "memory_mb": 512, "consumer": 1, "avg_batch": 2.0},
    },
    "sfn_transitions": 50,  # 5 per contact -> 5,000 -> $0.125
    "express_executions": 10,  # 1 per contact -> 1,000 -> $0.001
    "express_billed_ms": 3000, "express_memory_mb": 64,  # 3 s x 1/16 GB = 0.1875 GB-s -> 18.75 per 1k -> $0.000375
    "dynamodb_wru": 300.0,  # 30 per contact -> 30,000 -> $0.03
    "dynamodb_rru": 400.0,  # 40 per contact -> 40,000 -> $0.01
    "kinesis_records": 100,
    "kinesis_billed_kb": 1024 * 1024 / 100,  # 0.01 GiB in the run -> 0.001 GiB per contact
    "kinesis_bytes": GIB / 1000, "kinesis_consumers": 4,
    "log_bytes": GIB / 100,  # 0.001 GiB per contact -> 1 GiB per 1k -> $0.50
    "sqs_requests": 0,
    "events_published": 10,  # 1 per contact -> 1,000 -> $0.001
}


def test_every_price_line_says_what_where_when_and_from_where() -> None:
    prices = load_prices()
    assert price_problems(prices) == []
    for line in prices.values():
        assert line["region"] == "us-east-1"
        assert line["date"] == "2026-12"
        assert line["source"].startswith("https://aws.amazon.com/") and "pricing" in line["source"]
        assert isinstance(line["certain"], bool)


def test_the_price_table_prices_everything_the_model_uses() -> None:
    prices = load_prices()
    used = set(usage_per_contact(COUNTS))
    used |= set(fixed_monthly_usage({"tenants": 1, "queues_per_tenant": 1, "streams": 1, "schedules_per_minute": 1,
                                     "scheduled_gb_s": 0, "scheduled_wru": 0, "scheduled_rru": 0,
                                     "metrics_per_queue": 0, "metrics_per_tenant": 0, "metrics_fixed": 0,
                                     "kms_keys": 1, "alarms": 1, "dashboards": 1}))
    assert used <= set(prices)


def test_the_template_s_keys_alarms_and_dashboards_are_fixed_monthly_costs() -> None:
    template = {"Resources": {"K": {"Type": "AWS::KMS::Key"}, "T": {"Type": "AWS::SNS::Topic"},
                              **{f"A{i}": {"Type": "AWS::CloudWatch::Alarm"} for i in range(11)},
                              "D": {"Type": "AWS::CloudWatch::Dashboard"}}}
    stack = cost_model.stack_resources(template)
    assert stack == {"kms_keys": 1, "alarms": 11, "dashboards": 1}
    d: cost_model.Deployment = {"tenants": 1, "queues_per_tenant": 1, "streams": 0, "schedules_per_minute": 0.0,
                                "scheduled_gb_s": 0.0, "scheduled_wru": 0.0, "scheduled_rru": 0.0,
                                "metrics_per_queue": 0, "metrics_per_tenant": 0, "metrics_fixed": 0, **stack}  # type: ignore[typeddict-item]
    by_id = {r["id"]: r["usd"] for r in cost_table(fixed_monthly_usage(d), load_prices(), 1)["lines"]}
    assert by_id["kms.keys"] == pytest.approx(1.00)
    assert by_id["cloudwatch.alarms"] == pytest.approx(1.10)  # 11 x $0.10
    assert by_id["cloudwatch.dashboards"] == pytest.approx(3.00)


def test_a_line_without_a_source_or_a_date_is_a_problem() -> None:
    line = dict(PRICES["sqs.requests"])
    del line["date"]
    line["source"] = "somewhere"
    problems = price_problems({"sqs.requests": line})
    assert any("date" in p for p in problems) and any("source" in p for p in problems)


def test_request_units_from_item_sizes() -> None:
    assert write_units(0) == 1 and write_units(1024) == 1 and write_units(1025) == 2
    assert write_units(1500, transactional=True) == 4
    assert read_units(100) == 0.5  # eventually consistent: half of 1 RRU
    assert read_units(5000) == 1.0 and read_units(5000, consistent=True) == 2.0
    assert read_units(5000, transactional=True) == 4.0


def test_item_size_counts_names_and_values() -> None:
    # "pk" (2) + "abc" (3) + "n" (1) + 123 (2 digits pairs -> 2 + 1) + "ok" (2) + true (1)
    assert item_size({"pk": {"S": "abc"}, "n": {"N": "123"}, "ok": {"BOOL": True}}) == 2 + 3 + 1 + 3 + 2 + 1
    # a map: 3 + per entry name + value + 1
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 2 + 1)


def test_usage_per_contact_by_hand() -> None:
    u = usage_per_contact(COUNTS)
    assert u["apigw.rest_requests"] == 10
    assert u["apigw.ws_messages"] == 5
    assert u["apigw.ws_connection_minutes"] == 4
    assert u["lambda.requests"] == 12  # (20 + 100) / 10
    assert u["lambda.arm64_gb_s"] == pytest.approx(22.5)  # (200 + 25) / 10
    assert u["sfn.standard_transitions"] == 5
    assert u["sfn.express_requests"] == 1
    assert u["sfn.express_gb_s"] == pytest.approx(0.01875)
    assert u["dynamodb.wru"] == 30 and u["dynamodb.rru"] == 40
    assert u["kinesis.ondemand_gb_in"] == pytest.approx(1024 * 1024 / 100 * 1024 / GIB / 10)
    assert u["kinesis.ondemand_gb_out"] == pytest.approx(4 / 1000 / 10)
    assert u["logs.ingestion_gb"] == pytest.approx(0.001)
    assert u["events.custom_events"] == 1
    # trace roots: 100 requests + 20 frames + 5 connects + 100 consumer invocations
    assert xray_roots(COUNTS) == 225
    assert u["xray.traces_recorded"] == pytest.approx(22.5)


def test_cost_table_per_thousand_contacts_by_hand() -> None:
    t = cost_table(usage_per_contact(COUNTS), PRICES, 1000)
    by_id = {r["id"]: r["usd"] for r in t["lines"]}
    assert by_id["apigw.rest_requests"] == pytest.approx(0.04)  # 10,000 x $4/M
    assert by_id["lambda.arm64_gb_s"] == pytest.approx(0.225)  # 22,500 GB-s x $0.00001
    assert by_id["lambda.requests"] == pytest.approx(0.0024)  # 12,000 x $0.20/M
    assert by_id["sfn.standard_transitions"] == pytest.approx(0.125)  # 5,000 x $0.025/1k
    assert by_id["sfn.express_gb_s"] == pytest.approx(0.000375)
    assert by_id["dynamodb.wru"] == pytest.approx(0.03)
    assert by_id["dynamodb.rru"] == pytest.approx(0.01)
    assert by_id["logs.ingestion_gb"] == pytest.approx(0.5)
    assert by_id["xray.traces_recorded"] == pytest.approx(0.1125)  # 22,500 x $5/M
    services = {s["service"]: s for s in t["services"]}
    assert services["Lambda"]["usd"] == pytest.approx(0.2274)
    assert services["DynamoDB"]["usd"] == pytest.approx(0.04)
    assert services["API Gateway"]["usd"] == pytest.approx(0.04 + 0.005 + 0.001)
    assert t["total_usd"] == pytest.approx(sum(by_id.values()))
    assert sum(s["share_pct"] for s in t["services"]) == pytest.approx(100)
    assert t["services"][0]["service"] == "CloudWatch"  # $0.50: the largest first
    assert services["CloudWatch"]["share_pct"] == pytest.approx(100 * 0.5 / t["total_usd"])


def test_fixed_monthly_by_hand() -> None:
    d: cost_model.Deployment = {"tenants": 1, "queues_per_tenant": 10, "streams": 2, "schedules_per_minute": 1.0,
                                "scheduled_gb_s": 0.1, "scheduled_wru": 2.0, "scheduled_rru": 4.0,
                                "metrics_per_queue": 10, "metrics_per_tenant": 1, "metrics_fixed": 26}
    assert custom_metric_count(d) == 10 * 10 + 1 + 26
    usage = fixed_monthly_usage(d)
    assert usage["kinesis.ondemand_stream_hours"] == 2 * 730
    assert usage["scheduler.invocations"] == 43_800
    t = cost_table(usage, PRICES, 1)
    by_id = {r["id"]: r["usd"] for r in t["lines"]}
    assert by_id["kinesis.ondemand_stream_hours"] == pytest.approx(58.40)
    assert by_id["cloudwatch.custom_metrics"] == pytest.approx(38.10)  # 127 x $0.30
    assert by_id["scheduler.invocations"] == pytest.approx(0.0438)
    assert by_id["lambda.arm64_gb_s"] == pytest.approx(0.0438)  # 4,380 GB-s x $0.00001
    assert by_id["dynamodb.wru"] == pytest.approx(0.0876)  # 87,600 x $1/M
    assert by_id["dynamodb.rru"] == pytest.approx(0.0438)  # 175,200 x $0.25/M
    assert by_id["xray.traces_recorded"] == pytest.approx(0.219)  # a sweep a minute, each a trace: 43,800 x $5/M


# -- X-Ray: the default rule, per sampler ----------------------------------------------------------------
def test_the_default_rule_records_the_first_root_a_second_then_five_percent() -> None:
    assert cost_model.xray_recorded_per_s(0.4) == pytest.approx(0.4)  # under the reservoir: every root
    assert cost_model.xray_recorded_per_s(1.0) == pytest.approx(1.0)
    assert cost_model.xray_recorded_per_s(21.0) == pytest.approx(1.0 + 0.05 * 20)
    assert cost_model.xray_recorded_per_s(0.0) == 0.0


def test_platform_traces_go_through_each_sampler_s_reservoir_by_hand() -> None:
    # COUNTS per contact: 10 REST requests, 2.5 WebSocket roots (2 frames + 0.5 connects), 10 consumer batches.
    at = {**COUNTS, "xray_contacts_per_s": 0.2}  # 2 requests/s, 0.5 WebSocket roots/s, 2 batches/s
    per_s = (1 + 0.05 * 1) + 0.5 + (1 + 0.05 * 1)  # REST 1.05, WebSocket 0.5 (all), the consumer 1.05
    assert usage_per_contact(at)["xray.traces_recorded"] == pytest.approx(per_s / 0.2)  # 13 of 22.5 roots a contact
    # Much busier: the reservoirs matter less (roots/s 2,000, 500, 2,000 -> ~5 % of each beyond the first).
    busy = usage_per_contact({**COUNTS, "xray_contacts_per_s": 200.0})["xray.traces_recorded"]
    assert busy == pytest.approx((3 + 0.05 * (1999 + 499 + 1999)) / 200)
    # As measured (no rate): every root.
    assert usage_per_contact(COUNTS)["xray.traces_recorded"] == pytest.approx(22.5)


def test_the_stage_s_own_rule_decides_its_requests() -> None:
    ruled = {**COUNTS, "xray_contacts_per_s": 0.2, "xray_rules": {"rest_api": [0.0, 0.05]}}  # no reservoir, 5 %
    per_s = 0.05 * 2 + 0.5 + (1 + 0.05 * 1)  # REST 0.1 of its 2 requests a second; WebSocket and consumer as before
    assert usage_per_contact(ruled)["xray.traces_recorded"] == pytest.approx(per_s / 0.2)
    template = {"Resources": {"Rule": {"Type": "AWS::XRay::SamplingRule", "Properties": {"SamplingRule": {
        "ServiceType": "AWS::ApiGateway::Stage", "ReservoirSize": 0, "FixedRate": 0.05}}}}}
    assert cost_model.xray_rules(template) == {"rest_api": [0.0, 0.05]}
    assert cost_model.xray_rules({"Resources": {}}) == {}


def test_an_untraced_consumer_starts_no_trace() -> None:
    functions = {**COUNTS["lambda_functions"], "consumer": {**COUNTS["lambda_functions"]["consumer"], "traced": 0}}
    untraced = {**COUNTS, "lambda_functions": functions}
    assert cost_model.xray_samplers(untraced) == {"rest_api": 100, "websocket": 25}
    assert usage_per_contact(untraced)["xray.traces_recorded"] == pytest.approx(12.5)
    at = usage_per_contact({**untraced, "xray_contacts_per_s": 0.2})["xray.traces_recorded"]
    assert at == pytest.approx((1.05 + 0.5) / 0.2)


def test_actively_traced_functions_are_read_from_the_template() -> None:
    template = {"Resources": {
        "Api": {"Type": "AWS::Lambda::Function", "Properties": {"TracingConfig": {"Mode": "Active"}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Passing": {"Type": "AWS::Lambda::Function", "Properties": {"TracingConfig": {"Mode": "PassThrough"}}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"TracingConfiguration": {"Enabled": True}}},
    }}
    assert cost_model.actively_traced(template) == {"Api"}


def test_no_contact_no_price() -> None:
    with pytest.raises(ValueError):
        usage_per_contact({**COUNTS, "contacts": 0})


# -- logging levels as deployed ----------------------------------------------------------------------
def _template(system_level=None, rest_level="INFO", machines=(("ContactLifecycleSM", "ALL", True),)):
    fn_props = {"LoggingConfig": {"SystemLogLevel": system_level}} if system_level else {}
    resources = {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": fn_props},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"MethodSettings": [{"LoggingLevel": rest_level}]}},
    }
    for lid, level, data in machines:
        resources[lid] = {"Type": "AWS::StepFunctions::StateMachine",
                          "Properties": {"LoggingConfiguration": {"Level": level, "IncludeExecutionData": data}}}
    return {"Resources": resources}


def test_log_settings_read_what_the_template_deploys():
    settings = cost_model.log_settings(_template("WARN", "ERROR", (("ContactLifecycleSM", "ERROR", False),)))
    assert settings == {"lambda_system_levels": ["WARN"], "rest_execution_level": "ERROR",
                        "state_machines": {"ContactLifecycleSM": {"level": "ERROR", "data": False}}}
    # Nothing set: Lambda's default system level (INFO), no stage execution logging.
    bare = cost_model.log_settings({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}})
    assert bare["lambda_system_levels"] == ["INFO"] and bare["rest_execution_level"] == "OFF"


def test_platform_lines_only_at_system_info_and_rest_execution_logs_by_level():
    assert cost_model.platform_log_bytes(10, "INFO") == 4000
    assert cost_model.platform_log_bytes(10, "WARN") == 0
    assert cost_model.rest_execution_log_bytes(100, 2, "INFO") == 250_000
    assert cost_model.rest_execution_log_bytes(100, 2, "ERROR") == 5_000
    assert cost_model.rest_execution_log_bytes(100, 2, "OFF") == 0


_HISTORY = [
    {"type": "ExecutionStarted", "executionStartedEventDetails": {"input": '{"attributes": {"x": "' + "a" * 500 + '"}}'}},
    {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Route", "input": "b" * 300}},
    {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "Boom", "cause": "c"}},
    {"type": "ExecutionFailed", "executionFailedEventDetails": {"error": "Boom"}},
]


def test_state_machine_log_bytes_by_level_and_execution_data():
    all_with_data = cost_model.state_machine_log_bytes(_HISTORY, "ALL", True)
    all_without = cost_model.state_machine_log_bytes(_HISTORY, "ALL", False)
    errors = cost_model.state_machine_log_bytes(_HISTORY, "ERROR", False)
    fatal = cost_model.state_machine_log_bytes(_HISTORY, "FATAL", False)
    assert all_with_data > all_without + 800  # the 500- and 300-character inputs are gone
    assert 0 < fatal < errors < all_without  # ERROR: the two failures; FATAL: the execution's own
    assert cost_model.state_machine_log_bytes(_HISTORY, "OFF", True) == 0
    assert cost_model.state_machine_log_bytes(_HISTORY[:2], "ERROR", True) == 0  # a run without failures


# -- the lake ------------------------------------------------------------------------------------------
LAKE_PRICES = {**PRICES, **{p["id"]: p for p in (
    _line("firehose.kinesis_source_gb", "Lake", 0.03, 1),
    _line("firehose.direct_put_gb", "Lake", 0.03, 1),
    _line("firehose.format_conversion_gb", "Lake", 0.02, 1),
    _line("firehose.dynamic_partitioning_gb", "Lake", 0.02, 1),
    _line("firehose.dynamic_partitioning_objects", "Lake", 0.005, 1000),
    _line("s3.put_requests", "Lake", 0.005, 1000),
    _line("s3.standard_gb_month", "Lake", 0.025, 1),
    _line("s3.glacier_ir_gb_month", "Lake", 0.004, 1),
    _line("glue.requests", "Lake (queries)", 1.0, 1_000_000),
    _line("athena.tb_scanned", "Lake (queries)", 5.0, 1),
)}}

KB = 1024
LAKE_COUNTS: cost_model.Counts = {
    **COUNTS,  # 10 contacts
    # 100 events of 1 KB: each billed as 5 KB -> 500 KB billed, 100 KB actual
    "lake_stream_records": 100, "lake_stream_bytes": 100 * KB,
    "lake_stream_billed_bytes": 100 * cost_model.firehose_billed_bytes(1 * KB),
    # 20 rows of 6 KB: each billed as 10 KB -> 200 KB billed, 120 KB actual
    "lake_put_records": 20, "lake_put_bytes": 20 * 6 * KB,
    "lake_put_billed_bytes": 20 * cost_model.firehose_billed_bytes(6 * KB),
    "lake_parquet_bytes": 10 * 57,  # one segment per contact
}


def test_firehose_bills_each_record_in_5_kb_steps():
    assert cost_model.firehose_billed_bytes(1) == 5 * KB
    assert cost_model.firehose_billed_bytes(3 * KB) == 5 * KB
    assert cost_model.firehose_billed_bytes(5 * KB) == 5 * KB
    assert cost_model.firehose_billed_bytes(12 * KB) == 15 * KB  # the pricing page's example
    assert cost_model.firehose_billed_bytes(0) == 5 * KB


def test_the_lake_per_thousand_contacts_by_hand():
    assert cost_model.lake_usage(COUNTS) == {}  # a run that did not count the export prices no lake
    u = usage_per_contact(LAKE_COUNTS)
    # per contact: 50 KB billed from the stream, 20 KB from the rows, 22 KB actual
    assert u["firehose.kinesis_source_gb"] == pytest.approx(50 * KB / GIB)
    assert u["firehose.direct_put_gb"] == pytest.approx(20 * KB / GIB)
    assert u["firehose.format_conversion_gb"] == pytest.approx(70 * KB / GIB)
    assert u["firehose.dynamic_partitioning_gb"] == pytest.approx(22 * KB / GIB)
    assert u["s3.standard_gb_month"] == pytest.approx(57 * 3 / GIB)  # 90 days in Standard
    assert u["s3.glacier_ir_gb_month"] == pytest.approx(57 * 9 / GIB)  # the rest of the first year
    t = cost_table(u, LAKE_PRICES, 1000)
    by_id = {r["id"]: r["usd"] for r in t["lines"]}
    # 1,000 contacts: 50,000 KB = 0.047684 GiB x $0.03 = $0.00143051
    assert by_id["firehose.kinesis_source_gb"] == pytest.approx(50_000 * KB / GIB * 0.03)
    assert by_id["firehose.kinesis_source_gb"] == pytest.approx(0.00143051, rel=1e-5)
    assert by_id["firehose.format_conversion_gb"] == pytest.approx(70_000 * KB / GIB * 0.02)
    assert by_id["s3.standard_gb_month"] == pytest.approx(57_000 * 3 / GIB * 0.025)
    lake = next(s for s in t["services"] if s["service"] == "Lake")
    expected = (70_000 * KB * 0.03 + 70_000 * KB * 0.02 + 22_000 * KB * 0.02 + 57_000 * 3 * 0.025
                + 57_000 * 9 * 0.004) / GIB
    assert lake["usd"] == pytest.approx(expected)


def test_athena_bills_at_least_10_mb_a_query_rounded_to_the_megabyte():
    mb = 1024**2
    assert cost_model.athena_per_query(0) == 10 * mb
    assert cost_model.athena_per_query(9.5 * mb) == 10 * mb
    assert cost_model.athena_per_query(10 * mb + 1) == 11 * mb
    # 600 queries a month of 741 MB (13 months x 1 M contacts x 57 B): ceil(741e6 / 1 MiB) = 707 MiB each
    usage = cost_model.athena_usage(600, 13 * 1_000_000 * 57, glue_requests_per_query=2)
    assert usage["athena.tb_scanned"] == pytest.approx(600 * 707 * mb / 1024**4)
    assert usage["glue.requests"] == 1200
    t = cost_table(usage, LAKE_PRICES, 1)
    assert t["total_usd"] == pytest.approx(600 * 707 / 1024**2 * 5.0 + 1200 / 1e6)  # $2.0227 + $0.0012
    assert t["total_usd"] == pytest.approx(2.0239, abs=1e-4)
    small = cost_table(cost_model.athena_usage(100, 1000), LAKE_PRICES, 1)  # tiny queries: 10 MB each
    assert small["total_usd"] == pytest.approx(100 * 10 / 1024**2 * 5.0 + 200 / 1e6)


def test_the_lake_s_objects_are_a_fixed_monthly_cost_per_stream_and_tenant():
    d: cost_model.Deployment = {"tenants": 3, "queues_per_tenant": 1, "streams": 2, "schedules_per_minute": 1.0,
                                "scheduled_gb_s": 0, "scheduled_wru": 0, "scheduled_rru": 0,
                                "metrics_per_queue": 0, "metrics_per_tenant": 0, "metrics_fixed": 0,
                                "lake_streams": 2, "lake_buffer_s": 300}
    usage = fixed_monthly_usage(d)
    # 2 streams x 3 tenants x 12 flushes an hour x 730 hours
    assert usage["firehose.dynamic_partitioning_objects"] == usage["s3.put_requests"] == 2 * 3 * 12 * 730
    by_id = {r["id"]: r["usd"] for r in cost_table(usage, LAKE_PRICES, 1)["lines"]}
    assert by_id["firehose.dynamic_partitioning_objects"] == pytest.approx(52_560 / 1000 * 0.005)  # $0.2628
    no_lake = {k: v for k, v in d.items() if not k.startswith("lake_")}
    assert "s3.put_requests" not in fixed_monthly_usage(no_lake)  # type: ignore[arg-type]


def test_the_price_table_prices_the_lake():
    prices = load_prices()
    used = set(usage_per_contact(LAKE_COUNTS)) | set(cost_model.athena_usage(1, 1))
    assert used <= set(prices)
    assert {prices[p]["service"] for p in cost_model.lake_usage(LAKE_COUNTS)} == {"Lake"}


def test_the_lake_delivery_streams_and_their_buffer_come_from_the_template():
    def stream(interval=None):
        s3 = {"BufferingHints": {"IntervalInSeconds": interval}} if interval else {}
        return {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {"ExtendedS3DestinationConfiguration": s3}}

    template = {"Resources": {"A": stream(300), "B": stream(120), "C": stream(), "Fn": {"Type": "AWS::Lambda::Function"}}}
    assert cost_model.lake_delivery(template) == {"streams": 3, "buffer_s": 120}
    assert cost_model.lake_delivery({"Resources": {}}) == {"streams": 0, "buffer_s": 300}


# -- global secondary index writes: DynamoDB's rule, by hand ------------------------------------------------
def _index(projection: str = "ALL", non_key: tuple[str, ...] = ()) -> cost_model.IndexDesign:
    return {"name": "waiting", "keys": ("wait_pk", "wait_sk"), "table_keys": ("pk", "sk"),
            "projection": projection, "non_key": non_key}


BASE = {"pk": {"S": "t#C"}, "sk": {"S": "c1"}, "state": {"S": "ROUTING"}}
WAITING = {**BASE, "queue_id": {"S": "q1"}, "wait_pk": {"S": "t#q1"}, "wait_sk": {"S": "0001"}}


def test_a_write_that_leaves_the_sparse_index_keys_absent_writes_no_index() -> None:
    assert cost_model.index_writes(None, BASE, _index()) == []
    assert cost_model.index_writes(BASE, {**BASE, "state": {"S": "ENDED"}}, _index()) == []
    assert cost_model.index_write_units(BASE, {**BASE, "state": {"S": "ENDED"}}, _index()) == 0


def test_keys_added_put_keys_removed_delete_keys_changed_delete_and_put() -> None:
    # pk 2+3, sk 2+2, state 5+7, queue_id 8+2, wait_pk 7+4, wait_sk 7+4 = 53 bytes
    assert item_size(WAITING) == 53
    assert cost_model.index_writes(BASE, WAITING, _index()) == [("put", 53)]
    assert cost_model.index_writes(WAITING, BASE, _index()) == [("delete", 53)]
    moved = {**WAITING, "wait_pk": {"S": "t#q22"}}  # another queue: one byte longer
    assert cost_model.index_writes(WAITING, moved, _index()) == [("delete", 53), ("put", 54)]
    assert cost_model.index_write_units(WAITING, moved, _index()) == 2
    assert cost_model.index_writes(WAITING, None, _index()) == [("delete", 53)]  # the item deleted


def test_keys_unchanged_an_index_write_only_when_a_projected_attribute_changes() -> None:
    changed = {**WAITING, "state": {"S": "ENDED"}}  # 2 bytes shorter: the larger entry, before, is written
    assert cost_model.index_writes(WAITING, changed, _index("ALL")) == [("update", 53)]
    assert cost_model.index_writes(WAITING, changed, _index("KEYS_ONLY")) == []
    assert cost_model.index_writes(WAITING, changed, _index("INCLUDE", ("state",))) == [("update", 43)]  # no queue_id
    assert cost_model.index_writes(WAITING, changed, _index("INCLUDE", ("queue_id",))) == []
    assert cost_model.index_writes(WAITING, dict(WAITING), _index("ALL")) == []  # nothing changed


def test_the_projection_sizes_the_index_entry() -> None:
    big = {**WAITING, "payload": {"S": "x" * 1500}}  # 1,560 bytes: 2 units on the table and in an ALL index
    assert cost_model.table_write_units(None, big) == 2
    assert cost_model.index_write_units(None, big, _index("ALL")) == 2
    keys_only = cost_model.index_entry(big, _index("KEYS_ONLY"))
    assert keys_only == {k: big[k] for k in ("pk", "sk", "wait_pk", "wait_sk")}
    assert cost_model.index_write_units(None, big, _index("KEYS_ONLY")) == 1
    assert cost_model.index_entry(BASE, _index("KEYS_ONLY")) is None


def test_a_table_write_is_priced_at_the_larger_of_the_item_before_and_after() -> None:
    big = {**BASE, "payload": {"S": "x" * 1500}}
    assert cost_model.table_write_units(big, BASE) == 2  # shrinking a 1.5 KB item: 2 units
    assert cost_model.table_write_units(big, None) == 2  # deleting it
    assert cost_model.table_write_units(None, BASE) == 1
    assert cost_model.table_write_units(BASE, BASE, transactional=True) == 2


# -- stream consumers: per-batch and per-record costs ----------------------------------------------------
def _run(invocations: float, records: float, per_batch: float, per_record: float) -> cost_model.ConsumerRun:
    cost = per_batch * invocations + per_record * records
    return {"invocations": invocations, "records": records, "ms": cost, "wru": 2 * cost, "rru": cost / 2, "log_bytes": 10 * cost}


def test_two_runs_with_different_batches_split_each_cost_into_per_batch_and_per_record() -> None:
    # 100 invocations of 1.2 records and 20 of 10: 3 units a batch, 0.5 a record
    split = cost_model.split_per_batch(_run(100, 120, 3, 0.5), _run(20, 200, 3, 0.5))
    assert split["split"]
    assert split["per_batch"]["ms"] == pytest.approx(3)
    assert split["per_record"]["ms"] == pytest.approx(0.5)
    assert split["per_batch"]["wru"] == pytest.approx(6)
    assert split["per_record"]["log_bytes"] == pytest.approx(5)


def test_a_negative_part_is_zero_and_batches_too_alike_price_everything_per_record() -> None:
    first, second = _run(100, 120, 0, 1), _run(20, 200, 0, 1)
    second["ms"] = 300  # noise: more per record in the bigger batches (the exact solution: a negative per batch)
    split = cost_model.split_per_batch(first, second)
    assert split["per_batch"]["ms"] == 0
    assert split["per_record"]["ms"] == pytest.approx((120 + 300) / 320)
    assert split["per_record"]["wru"] == pytest.approx(2) and split["per_batch"]["wru"] == pytest.approx(0)
    alike = cost_model.split_per_batch(_run(100, 120, 3, 0.5), _run(90, 120, 3, 0.5))  # 1.2 vs 1.33 records a batch
    assert not alike["split"]
    assert alike["per_batch"]["ms"] == 0
    assert alike["per_record"]["ms"] == pytest.approx((360 + 330) / 240)  # both runs' totals over their records


def test_a_consumer_s_batch_follows_the_rate_per_shard_and_its_window() -> None:
    assert cost_model.stream_batch(0.001, 0, 100) == pytest.approx(1.0, abs=1e-3)  # a record now and then: alone
    assert cost_model.stream_batch(2, 0, 100) == pytest.approx(2 / (1 - math.exp(-2)))  # polled once a second
    assert cost_model.stream_batch(2, 10, 100) == pytest.approx(20 / (1 - math.exp(-20)))  # gathered for 10 s
    assert cost_model.stream_batch(50, 10, 100) == 100  # the mapping's BatchSize
    assert cost_model.stream_batch(0, 0, 100) == 1.0


def test_at_platform_reprices_a_consumer_at_its_batch_by_hand() -> None:
    consumer: cost_model.ConsumerAtScale = {
        # COUNTS' consumer: 100 invocations x 2 records, 50 s; say 40 WRU, 60 RRU, 20 KB of logs of it
        "measured": {"invocations": 100, "records": 200, "ms": 50_000, "wru": 40, "rru": 60, "log_bytes": 20_000},
        "split": {"split": True, "per_batch": {"ms": 300, "wru": 0, "rru": 0.5, "log_bytes": 150},
                  "per_record": {"ms": 100, "wru": 0.2, "rru": 0.05, "log_bytes": 25}},
        "batch": 10,
    }
    scaled = cost_model.at_platform(COUNTS, {"consumer": consumer})
    f = scaled["lambda_functions"]["consumer"]
    assert f["invocations"] == 20 and f["avg_batch"] == 10
    assert f["ms"] == pytest.approx(100 * 200 + 300 * 20)  # 26 s instead of 50
    assert scaled["dynamodb_wru"] == pytest.approx(COUNTS["dynamodb_wru"] + 40 - 40)  # all per record: kept
    assert scaled["dynamodb_rru"] == pytest.approx(COUNTS["dynamodb_rru"] + (10 + 10) - 60)
    assert scaled["log_bytes"] == pytest.approx(COUNTS["log_bytes"] + (5000 + 3000) - 20_000)
    assert scaled["lambda_functions"]["api"] == COUNTS["lambda_functions"]["api"]
    assert xray_roots(scaled) == pytest.approx(xray_roots(COUNTS) - 80)  # one trace per consumer invocation
    assert COUNTS["lambda_functions"]["consumer"]["invocations"] == 100  # the input is not changed
