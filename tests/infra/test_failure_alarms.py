"""Failures page someone: every function's errors and throttles, both state machines' failed and timed-out
executions, the API stage's 5XX answers and the schedules' target errors each have an alarm (outside review,
session 26: an Express execution keeps no history, so a failed RecordHistory was silent). Scheduled functions
are invoked once per tick: no Lambda async retries behind the schedule's own "no retry"."""
from __future__ import annotations

from infra.function_specs import SPECS


def _alarms(synth, namespace: str, metric: str) -> list[dict]:
    return [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("Namespace") == namespace and a["Properties"].get("MetricName") == metric]


def _dimension(alarm: dict, name: str):
    return next((d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name), None)


def _fires_on_the_first_failure_in_five_minutes(alarm: dict) -> None:
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), alarm
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold"), alarm
    assert alarm["TreatMissingData"] == "notBreaching", alarm  # no invocation, no failure


def test_every_function_alarms_on_its_errors_and_its_throttles(synth):
    for metric in ("Errors", "Throttles"):
        alarms = _alarms(synth, "AWS/Lambda", metric)
        by_function = {str(_dimension(a, "FunctionName")): a for a in alarms}
        for folder, fn in synth.stack.factory.functions.items():
            ref = str({"Ref": synth.logical_id(fn)})
            assert ref in by_function, (metric, folder)
            _fires_on_the_first_failure_in_five_minutes(by_function[ref])
        assert len(alarms) == len(synth.stack.factory.functions), metric  # one each, no duplicates


def test_both_state_machines_alarm_on_failed_and_timed_out_executions(synth):
    machines = {"ContactLifecycle": synth.stack.lifecycle.state_machine,
                "PostContact": synth.stack.post_contact.state_machine}
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        alarmed = {str(_dimension(a, "StateMachineArn")): a for a in _alarms(synth, "AWS/States", metric)}
        for name, machine in machines.items():
            ref = str({"Ref": synth.logical_id(machine)})
            assert ref in alarmed, (metric, name)
            _fires_on_the_first_failure_in_five_minutes(alarmed[ref])


def test_the_api_stage_alarms_on_server_errors(synth):
    (alarm,) = _alarms(synth, "AWS/ApiGateway", "5XXError")
    assert _dimension(alarm, "Stage") is not None and _dimension(alarm, "ApiName") is not None
    _fires_on_the_first_failure_in_five_minutes(alarm)


def test_the_schedules_alarm_when_their_target_cannot_be_invoked(synth):
    (alarm,) = _alarms(synth, "AWS/Scheduler", "TargetErrorCount")
    groups = {s["Properties"].get("GroupName", "default") for s in synth.of_type("AWS::Scheduler::Schedule").values()}
    assert groups == {_dimension(alarm, "ScheduleGroup")}
    _fires_on_the_first_failure_in_five_minutes(alarm)


def test_a_scheduled_function_runs_once_per_tick_without_lambda_s_async_retries(synth):
    """Scheduler invokes asynchronously: its retry policy covers the invoke, Lambda's own (2 retries over up to 6 h)
    would run a failed sweep three times a tick and keep old ticks queued under throttling."""
    scheduled = [folder for folder, spec in SPECS.items() if spec.schedule]
    assert sorted(scheduled) == ["dial_campaign", "run_journeys", "sweep_alerts"]
    configs = {str(c["Properties"]["FunctionName"]): c["Properties"]
               for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()}
    for folder in scheduled:
        config = configs.get(str({"Ref": synth.logical_id(synth.stack.factory.functions[folder])}))
        assert config is not None, folder
        assert (config["Qualifier"], config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (
            "$LATEST", 0, 60), folder
