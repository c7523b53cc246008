"""The outbound campaigns' row on the CDK dashboard and the abandonment-rate alarm (metric math over the
dimensionless roll-ups the outcome handlers emit); cdk-nag runs on the same session synthesis."""
from __future__ import annotations

import json


def _alarm(synth) -> dict:
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
              if "outbound" in a["Properties"].get("AlarmDescription", "")]
    assert len(alarms) == 1
    return alarms[0]


def test_abandonment_alarm_is_metric_math_over_abandoned_and_answered(synth):
    from infra.constructs.function_factory import METRICS_NAMESPACE
    from infra.constructs.observability import CAMPAIGN_ALARM_MIN_ANSWERED, CAMPAIGN_OUTCOME_SERVICES

    alarm = _alarm(synth)
    assert alarm["Threshold"] == 3 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1 and alarm["TreatMissingData"] == "notBreaching"
    assert "MetricName" not in alarm  # a math alarm: its metrics are listed under Metrics
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    expression = next(q for q in queries.values() if "Expression" in q)
    assert expression["ReturnData"] is True
    text = expression["Expression"]
    assert f">= {CAMPAIGN_ALARM_MIN_ANSWERED}" in text and "100 * (" in text
    stats = [q["MetricStat"] for q in queries.values() if "MetricStat" in q]
    assert all(s["Period"] == 86_400 and s["Stat"] == "Sum" for s in stats)
    series = {(s["Metric"]["MetricName"], d["Value"]) for s in stats for d in s["Metric"]["Dimensions"]}
    assert series == {(m, svc) for m in ("Abandoned", "HumanAnswered") for svc in CAMPAIGN_OUTCOME_SERVICES}
    assert all(s["Metric"]["Namespace"] == METRICS_NAMESPACE for s in stats)
    # abandoned over answered: the a* ids are the numerator, the h* ids the denominator
    numerator, denominator = text.split("100 * (")[1].split(") / (")
    ids = {q["Id"]: q["MetricStat"]["Metric"]["MetricName"] for q in queries.values() if "MetricStat" in q}
    assert all(ids[i] == "Abandoned" for i in ids if f"FILL({i}, 0)" in numerator)
    assert all(ids[i] == "HumanAnswered" for i in ids if f"FILL({i}, 0)" in denominator)


def _dashboard(synth) -> str:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def _search(schema: str, metric: str) -> str:
    """A SEARCH expression as it appears in the JSON-dumped dashboard body (its quotes escaped twice)."""
    inner = json.dumps(json.dumps(f"SEARCH('{schema} MetricName=\"{metric}\"', 'Sum', 300)"))
    return inner[3:-3]


def test_dashboard_has_a_campaign_row_per_tenant_and_campaign(synth):
    from infra.constructs.function_factory import METRICS_NAMESPACE
    from infra.constructs.observability import CAMPAIGN_DIMENSIONS, CAMPAIGN_RULE_DIMENSIONS

    body = _dashboard(synth)
    assert "Outbound campaigns" in body
    dims = CAMPAIGN_DIMENSIONS % METRICS_NAMESPACE
    for metric in ("Attempts", "Connects", "RightPartyContacts", "CallbacksRequested", "HumanAnswered", "Abandoned"):
        assert _search(dims, metric) in body, metric
    rules = CAMPAIGN_RULE_DIMENSIONS % METRICS_NAMESPACE
    assert _search(rules, "Blocked") in body
    assert "Outbound abandonment rate, last day (%)" in body


def test_campaign_dimensions_are_bounded(synth):
    """tenant and campaign (and the rule of a block), never an attempt, row, number or agent id."""
    body = _dashboard(synth)
    for high_cardinality in ("attempt", "row_id", "number", "agent"):
        assert f",{high_cardinality}," not in body and f",{high_cardinality}}}" not in body
