"""Journey results kept per journey, the journey_failed alert (opened once, resolved by a passing run), the
alarm per journey following PUT /settings/journeys, latency budgets scaled for a loaded machine, a flow's
callback of a journey marked synthetic end to end, and load mode's arithmetic — on the in-memory twins."""
from __future__ import annotations

import threading
import time

import pytest

from ccaas.adapters.memory.journeys import MemoryJourneyAlarms
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import AlertChange, AlertRule, AlertStatus
from ccaas.domain.history import record_from_contact
from ccaas.domain.journeys import (
    KEEP_RUNS,
    ExpectationFailure,
    JourneyResult,
    StepResult,
    parse_suite,
    scale_latency_budgets,
)
from ccaas.domain.models import ContactState, DomainError
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, is_synthetic
from ccaas.usecases import admin, alerts, journeys
from local.journeys import LoadReport, percentile, run_load

TENANT = "acme"


INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-0000-4000-8000-000000000027"


def _suite(*names: str, **extra):
    # flow steps: stored only with the tenant's Connect instance (put_journeys)
    return parse_suite({"connect_instance_arn": INSTANCE, **extra, "journeys": [
        {"name": n, "steps": [{"action": "hours", "parameters": {"queue_id": "sales"},
                               "expect": {"open": True, "latency_ms": 500}}]} for n in names]})


def _result(name: str, passed: bool, total_ms: float = 12.5, why: str = "open: expected True, observed False"):
    step = StepResult(index=0, name="hours", action="hours", kind="flow", latency_ms=7.25, passed=passed,
                      failures=[] if passed else [ExpectationFailure(expectation="open", expected=True, observed=False)])
    return JourneyResult(journey=name, passed=passed, steps=[step], total_ms=total_ms,
                         failed_step=None if passed else "steps[0] hours", failure=None if passed else why)


@pytest.fixture
def deps():
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=TENANT, name="Acme")
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=INSTANCE)
    return deps


def _tick(deps, suite, *results):
    deps.clock.advance(300)  # the runner's 5 minutes
    return journeys.record_runs(deps, TENANT, suite, list(results))


# ------------------------------------------------------------------------------------------- results
def test_latest_results_follow_the_contract_with_a_warning_for_a_journey_not_run(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("ivr-sales", "ivr-support"))
    empty = journeys.latest_results(deps, TENANT).model_dump(mode="json")
    assert empty == {"journeys": [], "warnings": ["journey ivr-sales has not run yet", "journey ivr-support has not run yet"]}
    _tick(deps, suite, _result("ivr-sales", False, total_ms=40.0))
    body = journeys.latest_results(deps, TENANT).model_dump(mode="json")
    assert set(body) == {"journeys", "warnings"}
    [latest] = body["journeys"]
    assert set(latest) == {"journey", "passed", "at", "total_ms", "failed_step", "failure"}
    assert latest["journey"] == "ivr-sales" and latest["passed"] is False and latest["total_ms"] == 40.0
    assert latest["failed_step"] == "steps[0] hours" and latest["failure"].startswith("open: expected True")
    assert latest["at"].endswith("Z") and latest["at"][:4].isdigit() and "T" in latest["at"]
    assert body["warnings"] == ["journey ivr-support has not run yet"]
    _tick(deps, suite, _result("ivr-sales", True, total_ms=9.0), _result("ivr-support", True))
    latest = {j["journey"]: j for j in journeys.latest_results(deps, TENANT).model_dump(mode="json")["journeys"]}
    assert latest["ivr-sales"]["passed"] is True and latest["ivr-sales"]["failure"] is None
    assert latest["ivr-sales"]["failed_step"] is None and latest["ivr-sales"]["total_ms"] == 9.0
    assert journeys.latest_results(deps, TENANT).warnings == []


def test_a_journey_keeps_its_last_20_runs_newest_first_with_step_timings(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("ivr-sales"))
    for i in range(KEEP_RUNS + 5):
        _tick(deps, suite, _result("ivr-sales", i % 2 == 0, total_ms=float(i)))
    history = journeys.journey_history(deps, TENANT, "ivr-sales").model_dump(mode="json")
    assert history["journey"] == "ivr-sales" and len(history["runs"]) == KEEP_RUNS
    assert [r["total_ms"] for r in history["runs"]] == [float(i) for i in range(KEEP_RUNS + 4, 4, -1)]
    assert history["runs"][0]["steps"][0] == {"index": 0, "name": "hours", "action": "hours", "kind": "flow",
                                              "latency_ms": 7.25, "passed": True, "error": None, "failures": []}
    assert history["runs"][1]["steps"][0]["failures"] == ["open: expected True, observed False"]
    with pytest.raises(Exception, match="no journey nope"):
        journeys.journey_history(deps, TENANT, "nope")
    assert journeys.journey_history(deps, TENANT, "ivr-sales").runs  # a journey of the suite


def test_a_removed_journey_leaves_the_summary(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("a", "b"))
    _tick(deps, suite, _result("a", True), _result("b", True))
    journeys.put_journeys(deps, TENANT, _suite("b"))
    assert [j.journey for j in journeys.latest_results(deps, TENANT).journeys] == ["b"]
    empty = journeys.put_journeys(deps, TENANT, _suite())
    assert journeys.latest_results(deps, TENANT).warnings == ["no journeys configured (PUT /settings/journeys)"]
    assert empty.journeys == ()


def test_a_long_failure_is_clipped_in_storage(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("a"))
    _tick(deps, suite, _result("a", False, why="x" * 5000))
    stored = deps.journey_results.latest(TENANT)[0]
    assert len(stored.failure) == 500 and stored.failure.endswith("…")


# -------------------------------------------------------------------------------------------- alerts
def test_a_failing_journey_opens_one_alert_and_the_next_pass_resolves_it(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("ivr-sales", "ivr-support"))
    _tick(deps, suite, _result("ivr-sales", False), _result("ivr-support", True))
    [alert] = alerts.list_alerts(deps, TENANT)
    assert alert.rule == AlertRule.JOURNEY_FAILED and alert.subject == "journey/ivr-sales"
    assert alert.details == {"journey": "ivr-sales", "failed_step": "steps[0] hours",
                             "failure": "open: expected True, observed False"}
    assert "ivr-sales" in alert.message and "steps[0] hours" in alert.message and alert.published
    published = deps.alert_events.published
    assert [(c, a.subject) for c, a in published] == [(AlertChange.OPENED, "journey/ivr-sales")]
    # still failing: no second alert, nothing published again
    for _ in range(3):
        _tick(deps, suite, _result("ivr-sales", False), _result("ivr-support", True))
    assert [a.alert_id for a in alerts.list_alerts(deps, TENANT)] == [alert.alert_id]
    assert len(deps.alert_events.published) == 1
    # a run of another journey only does not resolve it
    _tick(deps, suite, _result("ivr-support", True))
    assert alerts.list_alerts(deps, TENANT)[0].status == AlertStatus.OPEN
    # the next passing run resolves it, and says so on the bus
    _tick(deps, suite, _result("ivr-sales", True), _result("ivr-support", True))
    assert alerts.list_alerts(deps, TENANT) == []
    resolved = alerts.list_alerts(deps, TENANT, alerts.StatusFilter.RESOLVED)
    assert [a.alert_id for a in resolved] == [alert.alert_id] and resolved[0].resolution.value == "condition_cleared"
    assert [(c, a.subject) for c, a in deps.alert_events.published][-1] == (AlertChange.RESOLVED, "journey/ivr-sales")
    # failing again: a new alert
    _tick(deps, suite, _result("ivr-sales", False))
    [again] = alerts.list_alerts(deps, TENANT)
    assert again.alert_id != alert.alert_id


def test_a_journey_leaving_the_suite_resolves_its_alert_and_other_alerts_are_untouched(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("gone", "kept"))
    _tick(deps, suite, _result("gone", False), _result("kept", False))
    assert len(alerts.list_alerts(deps, TENANT)) == 2
    smaller = journeys.put_journeys(deps, TENANT, _suite("kept"))
    _tick(deps, smaller, _result("kept", False))
    assert [a.subject for a in alerts.list_alerts(deps, TENANT)] == ["journey/kept"]


def test_the_sweep_leaves_journey_alerts_alone(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("ivr-sales"))
    _tick(deps, suite, _result("ivr-sales", False))
    alerts.sweep_tenant(deps, TENANT)
    assert [a.subject for a in alerts.list_alerts(deps, TENANT)] == ["journey/ivr-sales"]


def test_the_scheduled_runner_records_each_tenants_runs(deps):
    suite = journeys.put_journeys(deps, TENANT, _suite("ivr-sales"))

    class Entry:
        instance_arn = "arn:aws:connect:us-east-1:123456789012:instance/x"

        def flow(self, event, timeout_s):
            return {"status": "ok", "queue_id": "sales", "open": "false"}

        def api(self, *args, **kwargs):
            raise AssertionError("no API step here")

    runs = journeys.run_scheduled(deps, lambda tenant_id, s: Entry())
    assert [r.tenant_id for r in runs] == [TENANT] and not runs[0].results[0].passed
    [latest] = journeys.latest_results(deps, TENANT).journeys
    assert latest.journey == "ivr-sales" and latest.failed_step == "steps[0] hours"
    assert [a.subject for a in alerts.list_alerts(deps, TENANT)] == ["journey/ivr-sales"]
    assert suite.journeys[0].name == "ivr-sales"


class _Outage:
    """Every flow step answers closed (the suite fails), and each journey takes its whole timeout of the tick."""

    instance_arn = "arn:aws:connect:us-east-1:123456789012:instance/x"

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock

    def flow(self, event, timeout_s):
        self.clock[0] += 30
        return {"status": "ok", "queue_id": "sales", "open": "false"}

    def api(self, *args, **kwargs):
        raise AssertionError("no API step here")


def test_the_scheduled_runner_stops_at_its_time_and_the_next_tick_goes_on_where_it_stopped(deps):
    """A tenant whose 50 journeys all time out ran past the Lambda's timeout: nobody's results were recorded,
    and the tenants after it never ran (outside review, session 25)."""
    admin.register_tenant(deps, tenant_id="zeta", name="Zeta")
    zetas = INSTANCE.replace("0027", "0028")
    admin.register_connect_instance(deps, tenant_id="zeta", instance_arn=zetas)
    journeys.put_journeys(deps, TENANT, _suite(*[f"j{i}" for i in range(10)]))
    journeys.put_journeys(deps, "zeta", _suite("z1", connect_instance_arn=zetas))
    used = [0.0]

    def tick():
        used[0] = 0.0
        deps.clock.advance(300)
        return journeys.run_scheduled(deps, lambda tenant_id, s: _Outage(used),
                                      time_left_s=lambda: 240 - used[0])

    first = tick()
    assert [(r.tenant_id, len(r.results)) for r in first] == [(TENANT, 8)]  # 8 × 30 s fit in 240 s; recorded
    assert len(journeys.latest_results(deps, TENANT).journeys) == 8
    second = tick()  # the never-run ones first: zeta's, then acme's last two
    assert [(r.tenant_id, [x.journey for x in r.results]) for r in second][:2] == [("zeta", ["z1"]), (TENANT, ["j8", "j9", "j0", "j1", "j2", "j3", "j4"])]
    assert {a.subject for a in alerts.list_alerts(deps, "zeta")} == {"journey/z1"}


def test_a_flow_step_without_the_tenants_connect_instance_is_refused(deps):
    """Stored, it failed every scheduled run ("names no connect_instance_arn") and opened a journey_failed alert:
    an outside probe of make run. An API-only journey needs no instance."""
    api_only = parse_suite({"journeys": [{"name": "intake", "steps": [{"action": "create_contact", "queue_id": "sales"}]}]})
    assert journeys.put_journeys(deps, TENANT, api_only).connect_instance_arn is None
    with pytest.raises(DomainError, match=r"journeys\[0\]\.steps\[0\] is a flow step \(hours\)") as refused:
        journeys.put_journeys(deps, TENANT, _suite("ivr", connect_instance_arn=None))
    assert refused.value.field == "connect_instance_arn"
    assert [j.name for j in journeys.journeys_of(deps, TENANT).journeys] == ["intake"]  # nothing changed


def test_a_journey_longer_than_the_scheduled_runner_can_give_is_refused(deps):
    hours = [{"action": "hours", "parameters": {"queue_id": "sales"}}]
    suite = parse_suite({"journeys": [{"name": "ok", "timeout_s": 180, "steps": hours},
                                      {"name": "slow", "timeout_s": 181, "steps": hours}]})
    with pytest.raises(DomainError) as refused:
        journeys.put_journeys(deps, TENANT, suite)
    assert refused.value.field == "journeys[1].timeout_s"


# -------------------------------------------------------------------------------------------- alarms
def test_put_journeys_creates_and_deletes_an_alarm_per_journey(deps):
    alarms = deps.journey_alarms
    journeys.put_journeys(deps, TENANT, _suite("a", "b"))
    assert sorted(alarms.alarms) == ["ccaas-journey-acme/a", "ccaas-journey-acme/b"]
    params = alarms.alarms["ccaas-journey-acme/a"]
    assert params["MetricName"] == "JourneySuccess" and params["Namespace"] == "Ccaas"
    assert params["Dimensions"] == [{"Name": "tenant", "Value": "acme"}, {"Name": "journey", "Value": "a"}]
    assert (params["Threshold"], params["ComparisonOperator"]) == (1.0, "LessThanThreshold")
    assert (params["EvaluationPeriods"], params["DatapointsToAlarm"], params["Period"]) == (3, 2, 300)
    journeys.put_journeys(deps, TENANT, _suite("b", "c"))
    assert sorted(alarms.alarms) == ["ccaas-journey-acme/b", "ccaas-journey-acme/c"]
    journeys.put_journeys(deps, TENANT, _suite())
    assert alarms.alarms == {}


def test_an_unchanged_suite_touches_no_alarm(deps):
    calls = []

    class Counting(MemoryJourneyAlarms):
        def put(self, tenant_id, names):
            calls.append(("put", tuple(names)))
            return super().put(tenant_id, names)

        def delete(self, tenant_id, names):
            calls.append(("delete", tuple(names)))
            return super().delete(tenant_id, names)

    deps.journey_alarms = Counting()
    journeys.put_journeys(deps, TENANT, _suite("a"))
    journeys.put_journeys(deps, TENANT, _suite("a"))
    assert calls == [("put", ("a",))]


# ---------------------------------------------------------------------------------- latency budgets
def test_latency_budgets_scale_or_go():
    suite = parse_suite({"journeys": [{"name": "j", "steps": [
        {"action": "hours", "expect": {"open": True, "latency_ms": 500}},
        {"action": "route", "expect": {"outcome": "queue"}}]}]})
    tripled = scale_latency_budgets(suite, 3)
    assert [s.expect.latency_ms for s in tripled.journeys[0].steps] == [1500, None]
    assert tripled.journeys[0].steps[0].expect.open is True  # the other expectations stay
    assert [s.expect.latency_ms for s in scale_latency_budgets(suite, None).journeys[0].steps] == [None, None]
    assert [s.expect.latency_ms for s in suite.journeys[0].steps] == [500, None]  # the original is unchanged
    with pytest.raises(ValueError):
        scale_latency_budgets(suite, 0)


# ------------------------------------------------------------------------------ callback is synthetic
def test_a_journeys_callback_is_synthetic_end_to_end():
    """The flow's `callback` action of a journey's call creates the scheduled callback (and, when it is
    reached, the CALLBACK contact) with the journey's marks: kept out of KPIs, offered to test agents only."""
    from ccaas.domain import lifecycle
    from ccaas.domain.models import Agent, AgentStatus, Channel, QueueAssignment
    from ccaas.usecases.journeys import flow_event
    from tests.connect_tenant import add_flow_queues
    from tests.unit import test_connect_flow as flow_tests

    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=flow_tests.TENANT, name="Acme")
    admin.register_connect_instance(deps, tenant_id=flow_tests.TENANT, instance_arn=flow_tests.INSTANCE)
    add_flow_queues(deps, flow_tests.TENANT)
    event = flow_event(flow_tests.INSTANCE, "callback", {"queue_id": "support"}, contact_id="journey-c1",
                       phone="+14155550177", channel="VOICE", queue=None,
                       attributes={"Team": "x", SYNTHETIC_ATTRIBUTE: "callback-journey", TEST_AGENT_ATTRIBUTE: "bot"})
    reply = flow_tests.ask(deps, event)
    assert reply["status"] == "ok" and reply["scheduled"] == "true", reply
    scheduled = deps.store.get_contact(flow_tests.TENANT, reply["callback_contact_id"])
    assert scheduled.attributes == {SYNTHETIC_ATTRIBUTE: "callback-journey", TEST_AGENT_ATTRIBUTE: "bot"}
    assert is_synthetic(scheduled)
    # reached: the CALLBACK contact carries the marks too, and never becomes a KPI record
    bot = Agent(tenant_id=flow_tests.TENANT, agent_id="bot", name="Bot", queues=(QueueAssignment(queue_id="support"),),
                capacity={Channel.VOICE: 1}, status=AgentStatus.AVAILABLE)
    queued = scheduled.model_copy(update={"state": ContactState.CALLBACK_SCHEDULED})
    original, callback, _ = lifecycle.reach_callback(queued, bot, "cb-1", scheduled.initiated_at + 1000)
    assert is_synthetic(callback) and callback.attributes[TEST_AGENT_ATTRIBUTE] == "bot"
    done = callback.model_copy(update={"state": ContactState.COMPLETED, "connected_at": callback.initiated_at + 1,
                                       "acw_ended_at": callback.initiated_at + 2, "ended_at": callback.initiated_at + 2})
    assert record_from_contact(done) is None and record_from_contact(original) is None
    assert Channel.VOICE == callback.channel
    # a real caller's callback carries no marks (its other attributes stay the flow's business)
    real = flow_event(flow_tests.INSTANCE, "callback", {"queue_id": "support"}, contact_id="real-c1",
                      phone="+14155550178", channel="VOICE", queue=None, attributes={"Team": "x"})
    real_reply = flow_tests.ask(deps, real)
    assert not is_synthetic(deps.store.get_contact(flow_tests.TENANT, real_reply["callback_contact_id"]))


# --------------------------------------------------------------------------------------- load mode
def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) == 0.0 and percentile([7.0], 0.99) == 7.0


class _FakeEntry:
    """Flow replies after a short delay; every fifth `hours` says closed (a failure)."""

    instance_arn = "arn:aws:connect:us-east-1:123456789012:instance/x"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def flow(self, event, timeout_s):
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(0.002)
        return {"status": "ok", "queue_id": "sales", "open": "false" if n % 5 == 0 else "true"}

    def api(self, *args, **kwargs):
        raise AssertionError("no API step")


def test_load_runs_at_most_count_and_reports_errors():
    suite = _suite("a", "b")
    report = run_load(_FakeEntry(), suite.journeys, rate=500, count=20, max_seconds=10, workers=4)
    assert report.started == 20 and report.skipped == 0 and len(report.results) == 20
    assert len(report.failed) == 4 and report.error_rate == 0.2
    body = report.as_json()
    assert body["steps"]["flow:hours"]["count"] == 20 and body["steps"]["flow:hours"]["p99_ms"] >= body["steps"]["flow:hours"]["p50_ms"] > 0
    assert set(body["journeys"]) == {"a", "b"}
    assert sum(e["count"] for e in body["errors"]) == 4 and "at steps[0] hours: open" in body["errors"][0]["what"]


def test_load_stops_at_its_time_bound():
    suite = _suite("a")
    started = time.monotonic()
    report = run_load(_FakeEntry(), suite.journeys, rate=10, count=1000, max_seconds=0.35, workers=2)
    assert time.monotonic() - started < 3
    assert 3 <= report.started <= 5 and report.started + report.skipped == 1000
    assert isinstance(report, LoadReport)
