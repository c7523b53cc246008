"""`make run` (`python -m local`) starts what the README says, through the function its main() calls
(local.__main__.launch) with its own arguments: simulated traffic and, with history, the demo tenant's IVR
journeys stored as its journeys and fired every minute. main() once started the Simulation itself after
`runtime.start(simulate=False)`, which skipped the journeys: ten minutes in, GET /settings/journeys was
empty and GET /journeys/results said "no journeys configured"."""
from __future__ import annotations

import io

import pytest

from local.__main__ import launch, parse_args, shutdown
from local.testing import api, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]


def test_make_run_stores_the_demo_ivr_journeys_and_fires_them_every_minute(tmp_path) -> None:
    out = io.StringIO()
    args = parse_args(["--port", "0", "--history-days", "1", "--rate", "0.2", "--no-outbound",
                       "--log-file", str(tmp_path / "lambda.log")])
    runtime = launch(args, out)
    try:
        ticker = runtime.journey_ticker
        assert runtime.simulation is not None
        assert ticker is not None and ticker.every_s == 60 and ticker.thread.is_alive(), out.getvalue()
        stored = api(runtime, "demo", "supervisor").call("GET", "/settings/journeys")[1]
        names = sorted(j["name"] for j in stored["journeys"])
        assert "sales-gold-caller-ivr" in names and "sales-call-answered" not in names  # IVR ones only
        assert "Journeys: the demo's IVR journeys every 60 s" in out.getvalue()
        # one tick of the ticker (it fires the deployed run_journeys schedule; here now, not in a minute)
        runtime.scheduler.fire(ticker.name)

        def recorded() -> list[str] | None:
            results = api(runtime, "demo", "supervisor").call("GET", "/journeys/results")[1]
            seen = sorted(j["journey"] for j in results.get("journeys", []))
            return seen if seen == names else None

        wait_until(recorded, timeout_s=90, interval_s=0.5, what="the demo journeys' results")
    finally:
        shutdown(runtime, out)
    assert runtime.journey_ticker is None and not ticker.thread.is_alive()  # stopped with the runtime
    assert out.getvalue().rstrip().endswith("Stopped.")


def test_make_run_without_simulation_only_serves(tmp_path) -> None:
    """SIMULATE=0 (`--no-simulate`): only the API, with the timers for typing; no traffic and no journeys,
    so a person following the README's walkthrough has the demo tenant to themself."""
    out = io.StringIO()
    args = parse_args(["--port", "0", "--history-days", "1", "--no-simulate", "--log-file", str(tmp_path / "lambda.log")])
    runtime = launch(args, out)
    try:
        assert runtime.simulation is None and runtime.journey_ticker is None and runtime.typing_timers
        assert api(runtime, "demo", "supervisor").call("GET", "/settings/journeys")[1]["journeys"] == []
        assert "Serving (no simulation)" in out.getvalue() and "Journeys:" not in out.getvalue()
        for _ in range(3):  # waiting contacts: each one's workflow runs
            assert api(runtime, "demo", "integration").call("POST", "/contacts", {"channel": "CHAT", "queue_id": "support"})[0] == 201
        stop_calls = runtime._stop_executions  # noqa: SLF001 - counted: make run's Ctrl-C makes none
        called = []
        runtime._stop_executions = lambda: called.append(stop_calls)  # noqa: SLF001
    finally:
        shutdown(runtime, out, process_exits=True)  # as main() does: the process leaves right after
    assert called == [] and out.getvalue().rstrip().endswith("Stopped.")
