"""The wallboard in a real browser: headless Chromium loads it from the local runtime (page and API on
one origin), and it shows a queued contact and the alert it raised, polling when it has no socket
(tests/artifacts/wallboard.png); given the runtime's WebSocket URL and no polling at all (`#poll=0`), its
tiles move from `queue_metrics` frames alone, with no request to a metrics route after the first read
(driven over the DevTools protocol; tests/artifacts/wallboard-push.png).

Chromium is a system prerequisite (Debian: `apt-get install -y chromium`; .ci/run installs it): when
it is missing this test FAILS, it does not skip.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from local.testing import api, recorded_requests, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]

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
            self.status = {"state": a.get("data-state", ""), "mode": a.get("data-mode", ""), "text": ""}
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
    # The runtime's API port serves no WebSocket: the page says it polls.
    assert dom.status == {"state": "ok", "mode": "poll", "text": "Live · polling every 2 s (no WebSocket)"}, (
        dom.status, result.stderr[-1000:])
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


class DevTools:
    """Headless Chromium driven over the DevTools protocol (one page), for tests that act while it runs."""

    def __init__(self, profile: str) -> None:
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1400,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and self.proc.poll() is None, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:  # noqa: S310 - loopback
            page = next(t for t in json.loads(resp.read()) if t["type"] == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], proxy=None, max_size=None, open_timeout=20, legacy=True)
        self._id = 0

    def call(self, method: str, **params: object) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]

    def eval(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)


BILLING_IN_QUEUE = """(() => { const c = document.querySelector('tr[data-queue="billing"] td[data-field="in_queue"]');
  return c ? Number(c.textContent) : null; })()"""


def test_wallboard_updates_from_the_socket_without_polling(runtime) -> None:
    supervisor = runtime.key("demo", "supervisor")
    url = f"{runtime.base_url}/#key={supervisor}&ws={quote(runtime.websocket_url, safe='')}&poll=0"
    # Every request the local API server answers, in order (the page's and this test's).
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile, recorded_requests(runtime) as seen:
        browser = DevTools(profile)
        try:
            browser.call("Page.navigate", url=url)
            wait_until(
                lambda: browser.eval("document.getElementById('status').dataset.mode === 'push' && "
                                     "document.getElementById('status').dataset.state === 'ok' && "
                                     "document.querySelectorAll('tr[data-queue]').length >= 3"),
                timeout_s=30, what="the wallboard subscribed over the socket and its first read shown",
            )  # fmt: skip
            assert browser.eval("document.getElementById('status').textContent") == "Live · pushed over WebSocket"
            before = browser.eval(BILLING_IN_QUEUE)
            loaded = len(seen)

            status, contact = api(runtime, "demo", "integration").call(
                "POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-push"})
            assert status == 201, contact
            shown = wait_until(lambda: (browser.eval(BILLING_IN_QUEUE) or 0) > before and browser.eval(BILLING_IN_QUEUE),
                               timeout_s=20, what="billing's row updated from a queue_metrics frame")
            assert shown == before + 1
            after = seen[loaded:]
            assert [r for r in after if "/metrics" in r[1]] == [], after  # no metrics read: the frame did it
            assert [r for r in after if r[0] == "GET" and "/v1/" in r[1]] == [], after  # #poll=0: no REST read at all

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
            (ARTIFACTS / "wallboard-push.png").write_bytes(png)
            assert len(png) > 10_000
        finally:
            browser.close()
