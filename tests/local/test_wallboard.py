"""The wallboard in a real browser: headless Chromium loads it from the local runtime (page and API on
one origin), and it shows a queued contact and the alert it raised. Saves tests/artifacts/wallboard.png.

Chromium is a system prerequisite (Debian: `apt-get install -y chromium`; .ci/run installs it): when
it is missing this test FAILS, it does not skip.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from local.testing import api, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Virtual time runs ahead of the wall clock but waits for pending fetches, so this is enough for the
# page's first refreshes (each a pair of API calls) however slow the machine is.
VIRTUAL_TIME_MS = 6000


def chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        "Chromium is not installed: the wallboard browser test needs it (Debian/Ubuntu: "
        "`apt-get install -y chromium`; .ci/run installs it). Set CHROMIUM=/path/to/chromium to use another.",
        pytrace=False,
    )


def run_chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}", *args, url],
            capture_output=True,
            text=True,
            timeout=120,
        )


class Dom(HTMLParser):
    """Just enough of the DOM: queue rows (tr[data-queue]) with their cells, alert items, the status."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.queues: dict[str, dict[str, str]] = {}
        self.alerts: list[dict[str, str]] = []
        self.status: dict[str, str] = {}
        self._queue: str | None = None
        self._field: str | None = None
        self._in_status = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-queue" in a:
            self._queue = a["data-queue"]
            self.queues[self._queue] = {}
        elif tag == "td" and self._queue and "data-field" in a:
            self._field = a["data-field"]
            self.queues[self._queue][self._field] = ""
        elif tag == "li" and "data-alert-id" in a:
            self.alerts.append({k.removeprefix("data-"): v for k, v in a.items()})
        elif tag == "p" and a.get("id") == "status":
            self.status = {"state": a.get("data-state", ""), "text": ""}
            self._in_status = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._field = None
        elif tag == "tr":
            self._queue = None
        elif tag == "p":
            self._in_status = False

    def handle_data(self, data: str) -> None:
        if self._queue and self._field:
            self.queues[self._queue][self._field] += data.strip()
        elif self._in_status:
            self.status["text"] += data.strip()


@pytest.fixture(scope="module")
def runtime():
    chromium()  # fail before paying for the runtime
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()


def test_wallboard_shows_the_queued_contact_and_its_alert(runtime) -> None:
    assert runtime.static_dir is not None and runtime.static_dir.resolve() == (ROOT / "wallboard").resolve()
    demo = api(runtime, "demo")
    status, _ = demo.call("PUT", "/alerts/rules", {"queue_depth": {"threshold": 1}})
    assert status == 200
    # Billing takes e-mail and waits up to 120 s; the seeded agents are offline: it stays queued.
    status, contact = demo.call("POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-1"})
    assert status == 201, contact
    billing = wait_until(
        lambda: next((q for q in demo.call("GET", "/metrics/realtime")[1] if q["queue_id"] == "billing" and q["in_queue"] >= 1), None),
        timeout_s=20, what="the contact counted in billing's live metrics",
    )  # fmt: skip
    assert billing["oldest_wait_s"] is not None
    wait_until(
        lambda: [a for a in demo.call("GET", "/alerts")[1] if a["rule"] == "queue_depth" and a["queue_id"] == "billing"],
        timeout_s=20, what="the queue-depth alert raised by the stream consumer",
    )  # fmt: skip

    supervisor = runtime.key("demo", "supervisor")  # a wallboard is a supervisor's screen (it acknowledges)
    url = f"{runtime.base_url}/#key={supervisor}"  # the page moves the key to sessionStorage
    result = run_chromium(url, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = Dom(result.stdout)
    assert dom.status == {"state": "ok", "text": "Live"}, (dom.status, result.stderr[-1000:])
    assert {"sales", "support", "billing"} <= set(dom.queues)  # every queue of the demo tenant
    row = dom.queues["billing"]
    assert int(row["in_queue"]) >= 1
    assert row["oldest_wait"] not in ("", "–")
    assert any(a["rule"] == "queue_depth" and a["status"] == "OPEN" for a in dom.alerts), dom.alerts
    assert supervisor not in result.stdout  # the key never lands in the page

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "wallboard.png"
    screenshot.unlink(missing_ok=True)
    shot = run_chromium(url, f"--screenshot={screenshot}", "--window-size=1400,900")
    assert shot.returncode == 0 and screenshot.is_file() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]


def test_wallboard_without_a_key_asks_for_one(runtime) -> None:
    result = run_chromium(f"{runtime.base_url}/", "--dump-dom")
    dom = Dom(result.stdout)
    assert dom.status["state"] == "idle" and not dom.queues and not dom.alerts
