"""Journey tests against a local runtime: the in-process runner on a sandbox tenant seeded like the demo,
synthetic contacts kept out of metrics, KPIs and alerts and away from real agents, a journey that
times out, and the CI gate catching a deliberately broken policy."""
from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccaas.domain.journeys import parse_journey, parse_suite
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE
from ccaas.usecases.journeys import run_journey, run_suite
from local import journeys as cli
from local.journeys import SANDBOX, TEST_AGENT, apply_policy, prepare_sandbox
from local.testing import wait_for_contacts_recorded

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ROOT = Path(__file__).resolve().parents[2]
DEMO_SPEC = ROOT / "journeys" / "demo.json"
QUEUES = ("sales", "support", "billing", "supervisors")


@pytest.fixture(scope="module")
def entry(runtime):
    return prepare_sandbox(runtime)


def demo_suite():
    return parse_suite(json.loads(DEMO_SPEC.read_text()))


def _observable(entry) -> dict:
    day = datetime.now(UTC).date()
    window = f"from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}&interval=day&group_by=queue"
    seen = {q: entry.api("GET", f"/queues/{q}/metrics/realtime", role="supervisor")[1] for q in QUEUES}
    seen["historical"] = entry.api("GET", f"/metrics/historical?{window}", role="supervisor")[1]["rows"]
    seen["alerts"] = entry.api("GET", "/alerts?status=all", role="supervisor")[1]
    return seen


# The stream waits flush the consumers' batching windows (up to 5 s: history, alerts, agent activity): what
# the contacts put is delivered, not waited out.
def test_synthetic_contacts_change_no_metric_kpi_or_alert(entry, runtime) -> None:
    assert runtime.wait_for_stream_idle(flush=True)
    before = _observable(entry)
    suite = demo_suite()
    api_journeys = [j for j in suite.journeys if any(s.kind == "api" for s in j.steps)]
    results = [run_journey(entry, j) for j in api_journeys * 2]  # N = 6 journeys, 8 synthetic segments
    assert all(r.passed for r in results), [(r.journey, r.failed_step, r.failure) for r in results if not r.passed]
    contacts = [c for r in results for c in r.contacts]
    assert len(contacts) >= 6
    wait_for_contacts_recorded(runtime, entry.tenant_id, contacts)  # their history written (post-contact workflow)
    assert runtime.wait_for_stream_idle(timeout_s=15, flush=True)
    after = _observable(entry)
    assert after == before


def test_the_demo_suite_passes_on_the_sandbox_with_per_step_timings(entry) -> None:
    results = run_suite(entry, demo_suite())
    assert [r.journey for r in results] == [j.name for j in demo_suite().journeys]
    assert all(r.passed for r in results), [(r.journey, r.failed_step, r.failure) for r in results if not r.passed]
    for r in results:
        assert r.steps and all(s.latency_ms > 0 for s in r.steps) and r.total_ms >= sum(s.latency_ms for s in r.steps)
    answered = next(r for r in results if r.journey == "sales-call-answered")
    assert [s.kind for s in answered.steps] == ["api"] * 4 and len(answered.contacts) == 1
    # the contact is marked with its journey; the test agent is OFFLINE again
    status, view = entry.api("GET", f"/contacts/{answered.contacts[0]}", role="supervisor")
    assert status == 200 and view["attributes"][SYNTHETIC_ATTRIBUTE] == "sales-call-answered"
    assert view["agent_id"] == TEST_AGENT and view["state"] == "COMPLETED"
    status, bot = entry.api("GET", f"/agents/{TEST_AGENT}", role="supervisor")
    assert bot["status"] == "OFFLINE"


def test_a_callback_journey_leaves_nothing_for_the_next_contact_journey(entry) -> None:
    """The flow's callback step made a scheduled callback nobody tracked: it was offered to the test agent, whose
    clean-up could not go OFFLINE, and every later contact journey timed out waiting for its offer (outside probe
    37, journeys finding 2)."""
    callback = parse_journey({"name": "ivr-callback", "inputs": {"phone": "+14155550101"}, "steps": [
        {"action": "identify"},
        {"action": "callback", "parameters": {"queue_id": "sales"}, "expect": {"state": "CALLBACK_SCHEDULED"}}]})
    answered = next(j for j in demo_suite().journeys if j.name == "sales-call-answered")
    results = [run_journey(entry, j) for j in (callback, answered, callback, answered)]
    assert all(r.passed for r in results), [(r.journey, r.failed_step, r.failure) for r in results if not r.passed]
    for called_back in results[::2]:
        [callback_id] = called_back.contacts
        assert entry.api("GET", f"/contacts/{callback_id}", role="supervisor")[1]["state"] == "ABANDONED"
    bot = entry.api("GET", f"/agents/{TEST_AGENT}", role="supervisor")[1]
    assert (bot["status"], bot["offers"], bot["active_contact_ids"]) == ("OFFLINE", [], [])


def test_a_synthetic_contact_never_reaches_a_real_agent(entry) -> None:
    status, _ = entry.api("PUT", "/agents/ana/status", {"status": "AVAILABLE"}, role="agent", agent_id="ana")
    assert status == 200
    try:
        spec = parse_journey({"name": "nobody-but-the-bot", "timeout_s": 10, "steps": [
            {"action": "create_contact", "queue_id": "sales", "expect": {"outcome": "queue"}},
            {"action": "wait_for", "state": "OFFERED", "timeout_s": 2},
        ]})
        result = run_journey(entry, spec)
        assert not result.passed and result.failed_step == "steps[1] wait_for"
        assert "not OFFERED" in result.failure
        assert entry.api("GET", "/agents/ana/offers", role="agent", agent_id="ana")[1] == []
        # cleaned up: the waiting synthetic contact was abandoned
        assert entry.api("GET", f"/contacts/{result.contacts[0]}", role="supervisor")[1]["state"] == "ABANDONED"
    finally:
        entry.api("PUT", "/agents/ana/status", {"status": "OFFLINE"}, role="agent", agent_id="ana")


def test_a_journey_that_times_out_fails_naming_its_step_and_never_hangs(entry) -> None:
    spec = parse_journey({"name": "too-slow", "timeout_s": 1.5, "steps": [
        {"action": "hours", "parameters": {"queue_id": "sales"}},
        {"action": "create_contact", "queue_id": "billing", "channel": "EMAIL", "expect": {"outcome": "queue"}},
        {"action": "wait_for", "state": "CONNECTED", "timeout_s": 300},
    ]})
    started = time.monotonic()
    result = run_journey(entry, spec)
    assert time.monotonic() - started < 10
    assert not result.passed and result.failed_step == "steps[2] wait_for"
    assert "timed out" in result.failure or "timeout" in result.failure


def test_the_ci_gate_catches_a_broken_policy(runtime, entry, tmp_path) -> None:
    broken = tmp_path / "closes-sales.json"
    broken.write_text(json.dumps({"name": "closes-sales",
                                  "queues": {"sales": {"hours": {"time_zone": "UTC", "weekly": {}}}}}))
    out, err = io.StringIO(), io.StringIO()
    policy_before = entry.api("GET", "/routing/policy", role="admin")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(["run", "--spec", str(DEMO_SPEC), "--policy", str(broken), "--hours", "1",
                             "--journey", "sales-gold-caller-ivr", "--journey", "unknown-caller-support"], runtime=runtime)
        # The candidate went to a sandbox of its own (applied at once, no function had read it): the
        # module's sandbox keeps its policy for the tests after this one.
        assert entry.api("GET", "/routing/policy", role="admin") == policy_before
    finally:
        apply_policy(entry, RoutingPolicy().model_dump(mode="json"), settle_s=0)
    printed = out.getvalue()
    assert code == 1, printed + err.getvalue()
    assert "sales-gold-caller-ivr" in printed and "FAIL" in printed and "steps[1] hours" in printed
    assert "unknown-caller-support" in printed and "pass" in printed  # support is untouched
    assert "regression: sales" in printed and "ΔSL" in printed
    assert "failed: journeys sales-gold-caller-ivr at steps[1] hours" in err.getvalue()


def test_the_ci_gate_passes_an_unchanged_policy(runtime, entry, tmp_path) -> None:
    same = tmp_path / "same.json"
    same.write_text(json.dumps({"name": "candidate"}))
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["run", "--spec", str(DEMO_SPEC), "--policy", str(same), "--hours", "1",
                         "--journey", "sales-gold-caller-ivr", "--journey", "billing-email-handled"], runtime=runtime)
    assert code == 0, out.getvalue()
    assert "2/2 journeys passed; 0 target regression(s)" in out.getvalue()


def test_a_bad_spec_is_one_line_naming_the_key(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"journeys": [{"name": "j", "steps": [{"action": "route", "expect": {"queue": "x"}}]}]}))
    assert cli.main(["run", "--spec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"python -m local.journeys: error: spec {bad}: invalid journeys[0].steps[0].expect.queue: unknown field")


def test_sandbox_is_its_own_tenant(runtime) -> None:
    assert SANDBOX in runtime.role_keys and f"agent:{TEST_AGENT}" in runtime.role_keys[SANDBOX]


def test_the_http_entry_points_run_a_stage_by_url_keys_and_lambda_invoke(runtime, entry, tmp_path) -> None:
    """--api mode against the local runtime as if it were a deployed stage: its URL, one integration key,
    the test agent's key, and the flow function invoked through boto3 (the runtime's AWS endpoint)."""
    from local import flow

    # The entry points are what is tested here, not the machine's speed: the demo's 5 s step budgets are off.
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main([
            "run", "--spec", str(DEMO_SPEC), "--no-latency-budgets", "--api", runtime.api_url, "--key", runtime.key(SANDBOX, "integration"),
            "--agent-key", f"{TEST_AGENT}={runtime.key(SANDBOX, agent_id=TEST_AGENT)}",
            "--instance-arn", cli.SANDBOX_INSTANCE_ARN, "--flow-function", flow.function_name(runtime.client("lambda")),
            "--journey", "sales-gold-caller-ivr", "--journey", "sales-call-answered", "--json"])
    report = json.loads(out.getvalue()[out.getvalue().index('{\n'):])
    assert code == 0, report
    assert [(r["journey"], r["passed"]) for r in report["journeys"]] == [("sales-gold-caller-ivr", True),
                                                                         ("sales-call-answered", True)]
    assert report["replay"] == [] and report["regressions"] == []


def test_make_run_stores_the_demo_ivr_journeys_and_fires_the_runner(runtime) -> None:
    from local.journeys import schedule_demo_journeys
    from local.testing import api, wait_until

    ticker = schedule_demo_journeys(runtime, every_s=0.5)
    try:
        assert ticker is not None
        stored = api(runtime, "demo", "supervisor").call("GET", "/settings/journeys")[1]
        names = [j["name"] for j in stored["journeys"]]
        assert names and "sales-gold-caller-ivr" in names and "sales-call-answered" not in names  # no contacts on demo
        assert stored["connect_instance_arn"]
        wait_until(lambda: runtime.scheduler.fired[ticker.name] >= 1, timeout_s=10, what="a run_journeys tick")
        # the deployed function itself, invoked as the schedule does (synchronously here, to read its answer)
        arn = runtime.scheduler.schedules[ticker.name].target_arn
        answer = runtime.client("lambda").invoke(FunctionName=arn, Payload=b"{}")
        summary = json.loads(answer["Payload"].read())
        assert summary["failed"] == 0 and summary["journeys"] >= len(names), summary
        # the runs are kept: the wallboard's journey panel reads the latest of each
        results = api(runtime, "demo", "supervisor").call("GET", "/journeys/results")[1]
        assert sorted(j["journey"] for j in results["journeys"]) == sorted(names) and results["warnings"] == []
        assert all(j["passed"] for j in results["journeys"]), results
        history = api(runtime, "demo", "supervisor").call("GET", f"/journeys/{names[0]}/results")[1]
        assert history["runs"] and history["runs"][0]["steps"][0]["latency_ms"] > 0
    finally:
        if ticker is not None:
            ticker.stop()


def test_load_mode_on_the_local_runtime_prints_percentiles_per_step(runtime, entry) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["load", "local", "--rate", "20", "--count", "12", "--max-seconds", "20", "--workers", "4",
                         "--journey", "sales-gold-caller-ivr", "--journey", "sales-call-answered",
                         "--latency-scale", "3", "--json"], runtime=runtime)
    printed = out.getvalue()  # the runtime's handlers log to stdout too
    report, _ = json.JSONDecoder().raw_decode(printed[printed.index('{\n "started"'):])
    # the errors first: the whole report (every step's percentiles) once truncated the one that failed
    assert code == 0, (report["errors"], {k: report[k] for k in ("started", "completed", "failed", "skipped")},
                       err.getvalue()[-2000:])
    assert report["started"] == 12 and report["completed"] == 12 and report["failed"] == 0 and report["errors"] == []
    assert set(report["journeys"]) == {"sales-gold-caller-ivr", "sales-call-answered"}
    for step in ("flow:identify", "flow:hours", "flow:route", "flow:wait_info", "api:create_contact", "api:agent_answers"):
        stats = report["steps"][step]
        assert stats["count"] == 6 and 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"], step
    # a table without --json; an error rate above the threshold exits 1 (a journey broken on purpose)
    broken = json.loads(DEMO_SPEC.read_text())
    broken["journeys"][0]["steps"][1]["expect"]["open"] = False
    spec = _write(broken)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["load", "--spec", spec, "--rate", "50", "--count", "4", "--max-seconds", "10",
                         "--journey", "sales-gold-caller-ivr", "--no-latency-budgets"], runtime=runtime)
    assert code == 1
    assert "p95 ms" in out.getvalue() and "flow:hours" in out.getvalue()
    assert "error x4: sales-gold-caller-ivr at steps[1] hours: open" in out.getvalue()
    assert "4/4 journeys failed" in err.getvalue()


def _write(document) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(document, f)
        return f.name


def test_load_mode_refuses_bad_bounds(capsys) -> None:
    assert cli.main(["load", "--rate", "0", "--count", "5", "--max-seconds", "5"]) == 2
    assert "--rate must be above 0" in capsys.readouterr().err
    assert cli.main(["load", "--rate", "1", "--count", "0", "--max-seconds", "5"]) == 2
    assert cli.main(["load", "local", "--api", "http://127.0.0.1:1", "--key", "k", "--rate", "1", "--count", "1",
                     "--max-seconds", "1"]) == 2
    assert "either --api" in capsys.readouterr().err
