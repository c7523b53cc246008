"""The wallboard in a real browser: headless Chromium loads it from the local runtime (page and API on
one origin), driven over the DevTools protocol.

- Polling (the runtime's API port serves no WebSocket): every figure says its period and target (the
  queue's SL settings), the agents panel lists the staffed agents with their state, not-ready reason,
  since when and contacts handled today, the sparklines gain points as the page reads, and an alert keeps
  its opening text while "now: …" follows the live value (tests/artifacts/wallboard.png).
- Pushed, with no polling at all (`#poll=0`): a queue's figures and an alert's current value move from
  `queue_metrics` frames alone, with no REST read after the first (tests/artifacts/wallboard-push.png).

Chromium is a system prerequisite (Debian: `apt-get install -y chromium`; .ci/run installs it): when
it is missing this test FAILS, it does not skip.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
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
WINDOW = (1920, 1080)  # a wallboard screen (a TV); the screenshots stay ~100-200 KB
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


class DevTools:
    """Headless Chromium driven over the DevTools protocol (one page), for tests that act while it runs."""

    def __init__(self, profile: str) -> None:
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"],
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

    def board(self) -> dict | None:
        """What the page shows (BOARD); None while the wallboard is not loaded yet."""
        shown = self.eval(BOARD)
        return json.loads(shown) if isinstance(shown, str) else None

    def screenshot(self, name: str) -> bytes:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=WINDOW[1], deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)  # a frame at the new size
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        (ARTIFACTS / name).write_bytes(png)
        return png

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)


# What the page shows, as the tests read it: the status line, each queue card's figures (label, value,
# the small "today" line, colour level, sparkline points and path), the agents table and the alerts.
BOARD = """JSON.stringify((() => {
  const text = (root, sel) => (root.querySelector(sel)?.textContent ?? null);
  const status = document.getElementById('status');
  if (!status) return null;
  return {
    status: {state: status.dataset.state, mode: status.dataset.mode || '', text: status.textContent},
    queues: Object.fromEntries([...document.querySelectorAll('article[data-queue]')].map((card) => [card.dataset.queue, {
      figures: Object.fromEntries([...card.querySelectorAll('.figure')].map((f) => [f.dataset.field, {
        label: text(f, '.label'), value: text(f, '.value'), today: text(f, '.today'), level: f.dataset.level,
        points: Number(f.querySelector('svg.spark').dataset.points), path: f.querySelector('svg.spark path.line').getAttribute('d'),
      }])),
      counts: Object.fromEntries([...card.querySelectorAll('.staff [data-field]')].map((c) => [c.dataset.field, text(c, 'b')])),
    }])),
    agents: [...document.querySelectorAll('#agents tbody tr')].map((r) => ({
      agent_id: r.dataset.agent, activity: r.dataset.activity, status: r.dataset.status, level: r.dataset.level,
      name: text(r, 'th'), state: text(r, '[data-field="state"]'), since: text(r, '[data-field="since"]'),
      today: text(r, '[data-field="today"]'), queues: text(r, '[data-field="queues"]'),
    })),
    offline: document.getElementById('agents-offline').textContent,
    summary: document.getElementById('agent-summary').textContent,
    alerts: [...document.querySelectorAll('#alerts li')].map((li) => ({
      alert_id: li.dataset.alertId, rule: li.dataset.rule, queue_id: li.dataset.queue, status: li.dataset.status,
      message: text(li, '.message'), current: text(li, '.current'),
    })),
  };
})())"""


@pytest.fixture(scope="module")
def runtime():
    chromium()  # fail before paying for the runtime
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()


def _handle_one_sales_call(runtime, customer: str, *, finish: bool) -> str:
    """A voice call to sales, offered to hugo (the only available agent) and accepted; finished (ended and
    its after-contact work done) when `finish`."""
    demo, hugo = api(runtime, "demo"), api(runtime, "demo", agent_id="hugo")
    status, contact = demo.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales", "customer_id": customer})
    assert status == 201, contact
    cid = contact["contact_id"]
    wait_until(lambda: cid in demo.call("GET", "/agents/hugo")[1]["offers"], timeout_s=20, what=f"{cid} offered to hugo")
    for step in ("accept", *(("complete", "end-acw") if finish else ())):
        status, body = hugo.call("POST", f"/agents/hugo/contacts/{cid}/{step}")
        assert status == 200, (step, body)
    return cid


def test_wallboard_labels_agents_trends_and_live_alert_values(runtime) -> None:
    assert runtime.static_dir is not None and runtime.static_dir.resolve() == (ROOT / "wallboard").resolve()
    demo = api(runtime, "demo")
    status, _ = demo.call("PUT", "/alerts/rules", {"queue_depth": {"threshold": 1}})
    assert status == 200
    # The floor: hugo takes sales calls (one handled, one in hand); dev is on a break; farid missed an
    # offer (the reservation policy's not-ready status); the others stay offline.
    for agent_id, agent_status in (("hugo", "AVAILABLE"), ("dev", "BREAK"), ("farid", "MISSED")):
        status, body = demo.call("PUT", f"/agents/{agent_id}/status", {"status": agent_status})
        assert status == 200, body
    _handle_one_sales_call(runtime, "wall-sales-1", finish=True)
    _handle_one_sales_call(runtime, "wall-sales-2", finish=False)
    # Billing takes e-mail and waits up to 120 s; its agents are not available: it stays queued.
    status, contact = demo.call("POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-1"})
    assert status == 201, contact
    wait_until(
        lambda: next((q for q in demo.call("GET", "/metrics/realtime")[1] if q["queue_id"] == "billing" and q["in_queue"] >= 1), None),
        timeout_s=20, what="the contact counted in billing's live metrics",
    )  # fmt: skip
    wait_until(
        lambda: [a for a in demo.call("GET", "/alerts")[1] if a["rule"] == "queue_depth" and a["queue_id"] == "billing"],
        timeout_s=20, what="the queue-depth alert raised by the stream consumer",
    )  # fmt: skip

    supervisor = runtime.key("demo", "supervisor")  # a wallboard is a supervisor's screen (it acknowledges)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = DevTools(profile)
        try:
            browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}")  # the page moves the key to sessionStorage
            # The runtime's API port serves no WebSocket: the page polls, every 2 s; the trend gains a point each time.
            board = wait_until(
                lambda: (b := browser.board()) and b["status"]["mode"] == "poll" and b["status"]["state"] == "ok"
                and b["queues"].get("billing", {}).get("figures", {}).get("in_queue", {}).get("points", 0) >= 3 and b,
                timeout_s=40, what="the wallboard polling, with three points in billing's in-queue trend",
            )  # fmt: skip
            assert board["status"]["text"] == "Live · polling every 2 s (no WebSocket)"
            assert {"sales", "support", "billing"} <= set(board["queues"])  # every queue of the demo tenant

            # Periods and targets: from the queue's settings (billing: 80 % within 60 s; sales: within 20 s).
            billing, sales = board["queues"]["billing"]["figures"], board["queues"]["sales"]["figures"]
            assert billing["service_level"]["label"] == "SL 80/60 · last 15 min · target 80 %"
            assert sales["service_level"]["label"] == "SL 80/20 · last 15 min · target 80 %"
            assert billing["abandonment"]["label"].startswith("Abandoned · last 15 min")
            assert billing["asa"]["label"] == "ASA · last 15 min · within 60 s"
            assert billing["in_queue"]["label"] == "In queue · now · alert at 1"  # the tenant's queue-depth rule
            assert billing["estimated_wait"]["label"] == "Est. wait · new contact · answer in 60 s"
            assert sales["service_level"]["today"] == "today 100 %"  # one call, answered at once
            assert int(billing["in_queue"]["value"]) >= 1 and billing["in_queue"]["level"] == "bad"  # at the alert's depth
            assert billing["oldest_wait"]["value"] not in ("", "–")
            # The estimated wait is the API's (none for billing: nobody staffed serves it; sales: hugo busy).
            live = {q["queue_id"]: q for q in demo.call("GET", "/metrics/realtime")[1]}
            assert live["billing"]["estimated_wait_s"] is None and billing["estimated_wait"]["value"] == "–"
            assert live["sales"]["estimated_wait_s"] is not None
            assert re.fullmatch(r"\d+:\d\d", sales["estimated_wait"]["value"]), sales["estimated_wait"]
            # The sparkline: an SVG path through the sampled values (M x y L x y …).
            path = billing["in_queue"]["path"]
            assert path.startswith("M") and len(re.findall(r"[ML]", path)) >= 3, path
            assert board["queues"]["sales"]["counts"]["agents_on_contact"] == "1"

            # Agents: the staffed ones, with state, reason, since when and contacts today; offline summed up.
            agents = {a["agent_id"]: a for a in board["agents"]}
            assert set(agents) == {"hugo", "dev", "farid"}, board["agents"]
            assert agents["hugo"]["activity"] == "ON_CONTACT" and agents["hugo"]["state"] == "On contact"
            assert agents["hugo"]["today"] == "1" and agents["hugo"]["queues"] == "sales, support"
            assert agents["dev"]["state"] == "Not ready · BREAK" and agents["dev"]["level"] == "warn"
            assert agents["farid"]["state"] == "Not ready · missed an offer" and agents["farid"]["level"] == "bad"
            assert all(re.fullmatch(r"\d+ s|\d+ min", a["since"]) for a in agents.values()), board["agents"]
            assert [a["agent_id"] for a in board["agents"]][:2] in (["dev", "farid"], ["farid", "dev"])  # not ready first
            assert board["offline"].startswith("Offline (6): ") and "Ana Alves" in board["offline"]
            assert board["summary"] == "0 available · 1 busy · 2 not ready · 6 offline"

            # The alert keeps its opening text; "now" follows the live metrics.
            # (sales may have one too: its calls wait a moment before hugo is offered them.)
            alert = next(a for a in board["alerts"] if a["rule"] == "queue_depth" and a["queue_id"] == "billing")
            opened_with = alert["message"]
            assert opened_with == "Queue billing: 1 contact in queue (threshold 1)"
            assert alert["current"] == f"now {billing['in_queue']['value']} in queue"
            status, contact = demo.call("POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-2"})
            assert status == 201, contact
            after = wait_until(
                lambda: next((a for a in browser.board()["alerts"] if a["rule"] == "queue_depth" and a["queue_id"] == "billing"
                              and a["current"] == "now 2 in queue"), None),
                timeout_s=20, what="the alert's current value moved to 2",
            )  # fmt: skip
            assert after["message"] == opened_with  # the text of the opening, unchanged
            assert supervisor not in browser.eval("document.documentElement.outerHTML")  # the key never lands in the page
            png = browser.screenshot("wallboard.png")
            assert len(png) > 10_000
        finally:
            browser.close()


def test_wallboard_without_a_key_asks_for_one(runtime) -> None:
    result = run_chromium(f"{runtime.base_url}/", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'id="status" role="status" data-state="idle"' in result.stdout
    assert "data-queue=" not in result.stdout and "data-agent=" not in result.stdout and "data-alert-id=" not in result.stdout


BILLING_IN_QUEUE = """(() => { const c = document.querySelector('article[data-queue="billing"] .figure[data-field="in_queue"] .value');
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
                                     "document.querySelectorAll('article[data-queue]').length >= 3"),
                timeout_s=30, what="the wallboard subscribed over the socket and its first read shown",
            )  # fmt: skip
            assert browser.eval("document.getElementById('status').textContent") == "Live · pushed over WebSocket"
            before = browser.eval(BILLING_IN_QUEUE)
            loaded = len(seen)

            status, contact = api(runtime, "demo", "integration").call(
                "POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-push"})
            assert status == 201, contact
            shown = wait_until(lambda: (browser.eval(BILLING_IN_QUEUE) or 0) > before and browser.eval(BILLING_IN_QUEUE),
                               timeout_s=20, what="billing's figures updated from a queue_metrics frame")
            assert shown == before + 1
            # The trend samples the pushed value again every 5 s (no read): a line, not a dot. (An alert's
            # current value following the live figures is checked by the polling test above.)
            wait_until(lambda: browser.board()["queues"]["billing"]["figures"]["in_queue"]["points"] >= 2,
                       timeout_s=15, what="a second point in billing's in-queue trend")
            after = seen[loaded:]
            assert [r for r in after if "/metrics" in r[1]] == [], after  # no metrics read: the frame did it
            assert [r for r in after if r[0] == "GET" and "/v1/" in r[1]] == [], after  # #poll=0: no REST read at all

            png = browser.screenshot("wallboard-push.png")
            assert len(png) > 10_000
        finally:
            browser.close()
