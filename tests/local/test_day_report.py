"""`python -m local.day_report`: a short simulated day becomes one self-contained HTML report whose
numbers agree with the simulation's own totals and with its inputs (the day's agents, its forecast, a
hand-priced cost file), rendered in headless Chromium (tests/artifacts/day_report.png).

Chromium is a system prerequisite (Debian: `apt-get install -y chromium`; .ci/run installs it): when
it is missing this test FAILS, it does not skip.
"""
from __future__ import annotations

import base64
import json
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ccaas.domain.replay import replay
from local import day_report
from tests.browser import CHROMIUM_FLAGS
from tests.browser import chromium as find_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
HOURS = 2  # eight 15-minute intervals: a couple of seconds for both policies


def chromium() -> str:
    return find_chromium("the day report's browser test")


def report_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert found, "the report embeds its data"
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def cost_file(tmp_path_factory) -> Path:
    """A `python -m bench cost` result with counts simple enough to price by hand: per completed contact
    2 REST requests (2,000 per 1,000 contacts: $3.50/M -> $0.007) and as many trace roots (every one
    recorded as measured: $5/M -> $0.010; at platform scale too: 0.76 requests a second at 1 M contacts a
    month are within X-Ray's reservoir of 1 a second)."""
    path = tmp_path_factory.mktemp("cost") / "bench-cost.json"
    path.write_text(json.dumps({"measured_run": {"counts": {"contacts": 50, "api_requests": 100}, **NO_CONSUMERS}}))
    return path


NO_CONSUMERS = {"consumers": {}, "emf_metrics": [],
                "scheduled": {"invocations": 0, "ms": 0.0, "memory_mb": 512, "wru": 0.0, "rru": 0.0}}


def test_the_platform_column_is_the_bench_s_own_pricing_of_the_run(tmp_path) -> None:
    """A stream consumer priced at platform scale the bench's way: its per-batch costs (from the
    calibration run's larger batches) amortised over the batch its stream's rate gives, so the report's
    platform total is the one `python -m bench cost` wrote for the same run (one pricing, not two)."""
    from bench import cost_pricing

    def consumer_run(invocations: int, records: int, ms: float, wru: float) -> dict:
        return {"folder": "consume_contact_events", "window_s": 0.0, "batch_size": 100, "invocations": invocations,
                "records": records, "ms": ms, "wru": wru, "rru": 0.0, "log_bytes": 400.0 * invocations}

    counts = {"contacts": 50, "api_requests": 100, "dynamodb_wru": 400.0, "log_bytes": 40_000.0,
              "lambda_functions": {"events": {"invocations": 100, "ms": 2_000.0, "memory_mb": 512, "consumer": 1,
                                              "avg_batch": 1.0}}}
    measured = {"counts": counts, **NO_CONSUMERS, "consumers": {"events": consumer_run(100, 100, 2_000.0, 400.0)}}
    # the calibration run: batches of 10 cost 11 units a batch (10 per record + 1 per batch), not 40
    calibration = {**NO_CONSUMERS, "counts": {"contacts": 50},
                   "consumers": {"events": consumer_run(10, 100, 1_100.0, 220.0)}}
    document = {"measured_run": measured, "calibration_run": calibration}
    priced = cost_pricing.price(measured, calibration=calibration)
    path = tmp_path / "bench-cost.json"
    path.write_text(json.dumps({**document, **priced}, default=str))

    cost = day_report.platform_cost(str(path))
    assert cost["platform"]["total_usd"] == pytest.approx(priced["platform"]["total_usd"])
    assert cost["measured"]["total_usd"] == pytest.approx(priced["measured"]["total_usd"])
    # the split matters: without the calibration run every cost is per record, and dearer
    path.write_text(json.dumps({"measured_run": measured}))
    assert day_report.platform_cost(str(path))["platform"]["total_usd"] > cost["platform"]["total_usd"]


@pytest.fixture(scope="module")
def report(tmp_path_factory, cost_file) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    data_out = out.with_name("data.json")
    done = subprocess.run(
        [sys.executable, "-m", "local.day_report", "--out", str(out), "--hours", str(HOURS), "--seed", "3",
         "--cost-json", str(cost_file), "--agent-hourly-usd", "30", "--data-out", str(data_out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return out, out.read_text(encoding="utf-8"), done.stdout


def test_the_report_has_its_sections_and_consistent_numbers(report) -> None:
    out, page, stdout = report
    assert stdout.startswith(f"{out}: ") and "intervals below target" in stdout
    for section in ("summary", "intervals", "comparison", "cost"):
        assert f'<section id="{section}">' in page
    assert "agent-centric" in page and "per-queue FIFO" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page  # self-contained
    png = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert png and base64.b64decode(png.group(1)).startswith(b"\x89PNG\r\n\x1a\n")

    data = report_data(page)
    assert data["policies"] == ["agent-centric", "per-queue FIFO"]
    assert data["sl_target"] == 0.8 and data["sl_threshold_s"] == 20
    assert len(data["intervals"]) == HOURS * 4
    assert [r["start"] for r in data["intervals"][:3]] == ["08:00", "08:15", "08:30"]
    day = day_report.report_day(3, hours=HOURS, load=0.8)
    for name in data["policies"]:
        total = data["results"][name]["total"]
        rows = [r[name] for r in data["intervals"]]
        # Every contact counted once, in the interval it arrived in: the intervals add up to the replay's totals.
        assert sum(r["offered"] for r in rows) == total["offered"] > 0
        assert sum(r["answered"] for r in rows) == total["answered"]
        assert sum(r["abandoned"] for r in rows) == total["abandoned"]
        for r in rows:
            assert r["service_level"] is None or 0 <= r["service_level"] <= 1
            assert r["abandonment"] is None or 0 <= r["abandonment"] <= 1
            assert 0 <= r["occupancy"] <= 1
            assert r["staffed_agents"] == pytest.approx(30)  # the example day's 30 agents, all day
        assert 0 < total["service_level"] <= 1
        assert f"{100 * total['service_level']:.1f} %" in page
    # The forecast is the day's profile; the Erlang prediction is for it and the agents staffed.
    forecast = sum(r["erlang"]["forecast"] for r in data["intervals"])
    expected = sum(sum(q.arrivals.rates_per_hour) / 4 for q in day.queues)
    assert forecast == pytest.approx(expected, rel=1e-6)
    offered = data["results"]["agent-centric"]["total"]["offered"]
    assert abs(offered - forecast) < 5 * math.sqrt(forecast)  # Poisson arrivals around the forecast
    for r in data["intervals"]:
        e = r["erlang"]
        assert e["agents"] == 30 and 0 <= e["service_level"] <= 1 and 0 <= e["occupancy"] <= 1
    # The replay of the same day (same seed) gives the same totals: the interval counting changes nothing.
    policies = day_report.policies(day)
    assert replay(day, policies[0], seed=3).total.model_dump(mode="json") == data["results"]["agent-centric"]["total"]


def test_the_cost_section_prices_the_inputs(report) -> None:
    _, page, _ = report
    data = report_data(page)
    cost = data["cost"]
    assert cost["measured"]["total_usd"] == pytest.approx(0.007 + 0.010)
    assert cost["platform"]["total_usd"] == pytest.approx(0.007 + 0.010)
    # Agent time: 30 agents x 2 h staffed over the contacts handled, at $30 an hour.
    for name, work in data["labour"].items():
        handled = data["results"][name]["total"]["handled"]
        assert work["agent_hours"] == pytest.approx(30 * HOURS)
        assert work["agent_hours_per_1000"] == pytest.approx(30 * HOURS / handled * 1000)
        assert work["usd_per_1000"] == pytest.approx(30 * work["agent_hours_per_1000"])
    assert "Platform cost per 1,000 contacts" in page and "Agents&#x27; cost per 1,000 contacts" in page


def test_the_report_data_renders_again_without_simulating(report, tmp_path) -> None:
    out, page, _ = report
    again = tmp_path / "again.html"
    assert day_report.main(["--from-file", str(out.with_name("data.json")), "--out", str(again)]) == 0
    first, second = report_data(page), report_data(again.read_text(encoding="utf-8"))
    assert second["results"] == first["results"] and second["intervals"] == first["intervals"]
    assert second["cost"] is None  # not given this time
    assert "not priced" in again.read_text(encoding="utf-8")


def test_a_day_file_is_simulated(tmp_path) -> None:
    day = day_report.report_day(5, hours=1, load=0.5)
    path = tmp_path / "day.json"
    path.write_text(day.model_dump_json())
    out = tmp_path / "day.html"
    assert day_report.main(["--from-file", str(path), "--out", str(out)]) == 0
    data = report_data(out.read_text(encoding="utf-8"))
    assert data["day"]["name"] == day.name and data["day"]["seed"] == 5 and len(data["intervals"]) == 4


@pytest.mark.parametrize(("args", "message"), [
    (["--from-file", "nowhere.json"], "day file nowhere.json: no such file"),
    (["--hours", "-1"], "argument --hours: must be above 0, got -1"),
    (["--from-file", "{bad_day}"], "day file {bad_day}: invalid queues: Field required"),
    (["--cost-json", "{bad_day}"], "cost file {bad_day}: not a `python -m bench cost` result"),
    (["--data-out", "/no/such/folder/data.json"], "/no/such/folder/data.json: its folder does not exist"),
])  # fmt: skip
def test_errors_are_one_line(args, message, tmp_path, capsys) -> None:
    bad_day = tmp_path / "bad.json"
    bad_day.write_text(json.dumps({"name": "no queues", "agents": []}))
    args = [a.format(bad_day=bad_day) for a in args]
    try:
        status = day_report.main([*args, "--out", str(tmp_path / "x.html")])
    except SystemExit as exc:  # argparse's usage errors (local.cli.Parser: one line too)
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("python -m local.day_report: error: ") and message.format(bad_day=bad_day) in err
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_the_report_renders_in_chromium(tmp_path) -> None:
    # The screenshot's report: the default day (10 hours, a few seconds), without the hand-made cost file
    # (its platform cost would read as measured), agents at $30 an hour.
    out = tmp_path / "shown.html"
    assert day_report.main(["--out", str(out), "--agent-hourly-usd", "30"]) == 0
    assert len(report_data(out.read_text(encoding="utf-8"))["intervals"]) == 40
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "day_report.png"
    shot.unlink(missing_ok=True)
    # One Chromium draws the screenshot and dumps the DOM (headless runs both commands on the page it loaded):
    # a second browser cost ~0.6 s of CPU.
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1700", f"--screenshot={shot}", "--dump-dom", out.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert 30_000 < shot.stat().st_size < 1_000_000  # the charts drawn; small enough to keep
    assert '<section id="summary">' in done.stdout and "data:image/png;base64," in done.stdout
