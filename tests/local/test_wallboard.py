"""The wallboard in a real browser: headless Chromium loads it from the local runtime (page and API on
one origin), driven over the DevTools protocol.

- Polling (the runtime's API port serves no WebSocket): every figure says its period and target (the
  queue's SL settings), the agents panel lists the staffed agents with their state, not-ready reason,
  since when and contacts handled today, the sparklines gain points as the page reads, and an alert keeps
  its opening text while "now: …" follows the live value (tests/artifacts/wallboard.png).
- Pushed, with no polling at all (`#poll=0`): a queue's figures and an alert's current value move from
  `queue_metrics` frames alone, with no REST read after the first (tests/artifacts/wallboard-push.png); a
  quiet queue's oldest wait ages on the page's clock between frames; metrics are read again at the resync
  period; an alert copy with a lower `sequence` than one seen (a late push, a lagging read) is dropped.
- Campaigns: the demo campaign, hidden in draft, appears once started, and its card shows what GET
  /campaigns/{id}/metrics says after real dialing (tests/artifacts/wallboard-campaigns.png); the panel's
  rules on answers the runtime cannot produce on demand (over the abandonment cap, occupancy and idle time
  present or missing, a failing metrics read) come from a fetch stub in the page
  (tests/artifacts/wallboard-panels-stubbed.png).
- Journey tests: the demo's IVR journeys and a broken one, played once by functions/run_journeys; the
  panel, hidden while none has run, shows GET /journeys/results row by row, failing first
  (tests/artifacts/wallboard-journeys.png); a 404 from that endpoint hides it (fetch stub).

Chromium is a system prerequisite (Debian: `apt-get install -y chromium`; .ci/run installs it): when
it is missing this test FAILS, it does not skip.
"""
from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from local import outbound_demo
from local.testing import api, recorded_requests, wait_until
from tests.browser import CHROMIUM_FLAGS
from tests.browser import chromium as find_chromium

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
WINDOW = (1920, 1080)  # a wallboard screen (a TV); the screenshots stay ~200-350 KB
# Virtual time runs ahead of the wall clock but waits for pending fetches, so this is enough for the
# page's first refreshes (each a pair of API calls) however slow the machine is.
VIRTUAL_TIME_MS = 6000


def chromium() -> str:
    return find_chromium("the wallboard browser test")


class _Protocol:
    """A DevTools protocol connection (a browser's or a page's): a command and its answer."""

    ws: Any
    _id = 0
    events: set[str]  # the events that came (by name), for wait_event

    def _next(self) -> dict:
        message = json.loads(self.ws.recv(timeout=30))
        if "method" in message:
            self.events.add(message["method"])
        return message

    def call(self, method: str, **params: object) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = self._next()
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]

    def wait_event(self, method: str) -> None:
        """Until the event `method` has come (it may have, while a command waited for its answer)."""
        while method not in self.events:
            self._next()


class Chromium(_Protocol):
    """One headless Chromium for the module, driven over the DevTools protocol: starting it costs ~0.8 s and
    a core, once instead of once a test. Each test's page lives in a browser context of its own (its own
    storage and cache, as a fresh profile gave it), closed with the page."""

    def __init__(self, profile: str) -> None:
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and len(port_file.read_text().split()) == 2):
            assert time.monotonic() < deadline and self.proc.poll() is None, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        self.port, path = port_file.read_text().split()  # the port, and the browser's own endpoint
        self.events = set()
        self.ws = connect(f"ws://127.0.0.1:{self.port}{path}", proxy=None, max_size=None, open_timeout=20, legacy=True)

    @contextlib.contextmanager
    def page(self) -> Iterator[DevTools]:
        context = self.call("Target.createBrowserContext")["browserContextId"]
        target = self.call("Target.createTarget", url="about:blank", browserContextId=context)["targetId"]
        page = DevTools(self.port, target)
        try:
            yield page
        finally:
            page.ws.close()
            self.call("Target.disposeBrowserContext", browserContextId=context)  # its page with it

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        # Chromium's helper processes may still write to the profile after the browser exits (a fresh clone
        # once failed removing it: "Directory not empty"): the profile is removed best effort.


class DevTools(_Protocol):
    """A page of the module's Chromium, for tests that act while it runs."""

    def __init__(self, port: str, target: str) -> None:
        from websockets.sync.client import connect

        self.events = set()
        self.ws = connect(f"ws://127.0.0.1:{port}/devtools/page/{target}", proxy=None, max_size=None, open_timeout=20, legacy=True)
        # The screenshots' size from the start: a page laid out at it needs no new frame before a capture.
        self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=WINDOW[1], deviceScaleFactor=1, mobile=False)

    def eval(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def board(self) -> dict | None:
        """What the page shows (BOARD); None while the wallboard is not loaded yet."""
        shown = self.eval(BOARD)
        return json.loads(shown) if isinstance(shown, str) else None

    def settled_dom(self, url: str) -> str:
        """The page at `url` once loaded and VIRTUAL_TIME_MS of its timers have run (fast-forwarded on virtual
        time, which waits for pending fetches): what `--virtual-time-budget` with `--dump-dom` prints, without
        a browser of its own (~1 s of CPU)."""
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.call("Emulation.setVirtualTimePolicy", policy="pauseIfNetworkFetchesPending", budget=VIRTUAL_TIME_MS)
        self.wait_event("Emulation.virtualTimeBudgetExpired")
        return self.eval("document.documentElement.outerHTML")

    def screenshot(self, name: str) -> bytes:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # Encoded for speed (zlib's faster level): ~0.05 s less of the browser's CPU a shot, ~20 % larger.
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png", optimizeForSpeed=True)["data"])
        (ARTIFACTS / name).write_bytes(png)
        return png


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


@pytest.fixture(scope="module")
def browser_process() -> Iterator[Chromium]:
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        browser = Chromium(profile)
        try:
            yield browser
        finally:
            browser.close()


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


def test_wallboard_labels_agents_trends_and_live_alert_values(runtime, browser_process: Chromium) -> None:
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
    # The alert consumer batches the stream for 5 s: its pending records delivered now, not waited out.
    assert runtime.wait_for_stream_idle(flush=True)
    wait_until(
        lambda: [a for a in demo.call("GET", "/alerts")[1] if a["rule"] == "queue_depth" and a["queue_id"] == "billing"],
        timeout_s=20, what="the queue-depth alert raised by the stream consumer",
    )  # fmt: skip

    supervisor = runtime.key("demo", "supervisor")  # a wallboard is a supervisor's screen (it acknowledges)
    with browser_process.page() as browser:
        # The page moves the key (and the periods) to sessionStorage. The runtime's API port serves no
        # WebSocket: the page polls, here every 1 s (2 s by default); the trend gains a point each time
        # (points keep at least a second apart).
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}&every=refresh:1")
        board = wait_until(
            lambda: (b := browser.board()) and b["status"]["mode"] == "poll" and b["status"]["state"] == "ok"
            and b["queues"].get("billing", {}).get("figures", {}).get("in_queue", {}).get("points", 0) >= 3 and b,
            timeout_s=40, what="the wallboard polling, with three points in billing's in-queue trend",
        )  # fmt: skip
        assert board["status"]["text"] == "Live · polling every 1 s (no WebSocket)"
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


def test_wallboard_without_a_key_asks_for_one(runtime, browser_process: Chromium) -> None:
    with browser_process.page() as browser:
        dom = browser.settled_dom(f"{runtime.base_url}/")
    assert 'id="status" role="status" data-state="idle"' in dom
    assert "data-queue=" not in dom and "data-agent=" not in dom and "data-alert-id=" not in dom


BILLING_IN_QUEUE = """(() => { const c = document.querySelector('article[data-queue="billing"] .figure[data-field="in_queue"] .value');
  return c ? Number(c.textContent) : null; })()"""


def _push_mode(browser: DevTools) -> None:
    wait_until(
        lambda: browser.eval("document.getElementById('status').dataset.mode === 'push' && "
                             "document.getElementById('status').dataset.state === 'ok' && "
                             "document.querySelectorAll('article[data-queue]').length >= 3"),
        timeout_s=30, what="the wallboard subscribed over the socket and its first read shown",
    )  # fmt: skip


def test_wallboard_updates_from_the_socket_without_polling(runtime, browser_process: Chromium) -> None:
    supervisor = runtime.key("demo", "supervisor")
    # The trend samples the shown figures every 1.5 s here (5 s by default); no REST read is timed (#poll=0).
    url = f"{runtime.base_url}/#key={supervisor}&ws={quote(runtime.websocket_url, safe='')}&poll=0&every=sample:1.5"
    # Every request the local API server answers, in order (the page's and this test's).
    with browser_process.page() as browser, recorded_requests(runtime) as seen:
        browser.call("Page.navigate", url=url)
        _push_mode(browser)
        assert browser.eval("document.getElementById('status').textContent") == "Live · pushed over WebSocket"
        before = browser.eval(BILLING_IN_QUEUE)
        loaded = len(seen)

        status, contact = api(runtime, "demo", "integration").call(
            "POST", "/contacts", {"channel": "EMAIL", "queue_id": "billing", "customer_id": "wall-push"})
        assert status == 201, contact
        shown = wait_until(lambda: (browser.eval(BILLING_IN_QUEUE) or 0) > before and browser.eval(BILLING_IN_QUEUE),
                           timeout_s=20, what="billing's figures updated from a queue_metrics frame")
        assert shown == before + 1
        # The trend samples the pushed value again every 1.5 s (no read): a line, not a dot. (An alert's
        # current value following the live figures is checked by the polling test above.)
        wait_until(lambda: browser.board()["queues"]["billing"]["figures"]["in_queue"]["points"] >= 2,
                   timeout_s=10, what="a second point in billing's in-queue trend")
        after = seen[loaded:]
        assert [r for r in after if "/metrics" in r[1]] == [], after  # no metrics read: the frame did it
        assert [r for r in after if r[0] == "GET" and "/v1/" in r[1]] == [], after  # #poll=0: no REST read at all

        png = browser.screenshot("wallboard-push.png")
        assert len(png) > 10_000


def _wait_s(shown: str) -> int:
    """A duration as the page shows it ("1:05") in seconds."""
    minutes, seconds = shown.split(":")
    return int(minutes) * 60 + int(seconds)


def test_wallboard_pushed_ages_a_quiet_queues_oldest_wait(runtime, browser_process: Chromium) -> None:
    """Pushed, with no REST read after the first (`#poll=0`): a customer waits in a queue where nothing else
    happens (supervisors: sam is offline), so no `queue_metrics` frame comes after the enqueue's. The oldest
    wait still moves on with the clock from that frame, turns red past the long-wait rule, and the long_wait
    alert the sweep opens shows the same "now" next to it (it stayed at 0:00, green: outside review A27)."""
    demo = api(runtime, "demo")
    rules = demo.call("GET", "/alerts/rules")[1]
    assert demo.call("PUT", "/alerts/rules", {"long_wait": {"threshold_s": 3}})[0] == 200
    supervisor = runtime.key("demo", "supervisor")
    url = f"{runtime.base_url}/#key={supervisor}&ws={quote(runtime.websocket_url, safe='')}&poll=0"
    contact_id = None
    try:
        with browser_process.page() as browser, recorded_requests(runtime) as seen:
            browser.call("Page.navigate", url=url)
            _push_mode(browser)
            loaded = len(seen)
            status, contact = api(runtime, "demo", "integration").call(
                "POST", "/contacts", {"channel": "VOICE", "queue_id": "supervisors", "customer_id": "wall-quiet"})
            assert status == 201, contact
            contact_id = contact["contact_id"]

            def oldest() -> dict:
                return browser.board()["queues"]["supervisors"]["figures"]["oldest_wait"]

            wait_until(lambda: browser.board()["queues"]["supervisors"]["figures"]["in_queue"]["value"] == "1",
                       timeout_s=20, what="the enqueue's queue_metrics frame")
            shown = wait_until(lambda: (o := oldest()) and _wait_s(o["value"]) >= 4 and o, timeout_s=15,
                               what="the oldest wait moving on without a frame")
            assert shown["level"] == "bad"  # past the rule's 3 s
            api_s = demo.call("GET", "/queues/supervisors/metrics/realtime")[1]["oldest_wait_s"]
            assert abs(_wait_s(oldest()["value"]) - api_s) <= 2, (oldest(), api_s)
            card_level = browser.eval("document.querySelector('article[data-queue=\"supervisors\"]').dataset.level")
            assert card_level == "bad"

            sweep_arn = runtime.deployment.function_by_folder("sweep_alerts").arn
            (sweep,) = [n for n, spec in runtime.scheduler.schedules.items() if spec.target_arn == sweep_arn]

            def swept() -> dict | None:
                # Fired again until it shows: a sweep container that read the rules in the 5 s before this test's
                # PUT keeps the old threshold for the rest of them (CachedConfigStore), and opens nothing.
                runtime.scheduler.fire(sweep)
                return next((a for a in browser.board()["alerts"] if a["rule"] == "long_wait" and a["queue_id"] == "supervisors"), None)

            alert = wait_until(swept, timeout_s=20, interval_s=1.0, what="the sweep's long_wait alert pushed to the page")
            now = re.fullmatch(r"now oldest waiting (\d+:\d\d)", alert["current"] or "")
            assert now and _wait_s(now[1]) >= 4, alert
            page_reads = [r for r in seen[loaded:] if r[0] == "GET" and "/v1/" in r[1] and "/queues/supervisors/" not in r[1]]
            assert page_reads == []  # the clock did it: no read (but this test's own)
    finally:
        if contact_id:
            demo.call("POST", f"/contacts/{contact_id}/abandon")
        demo.call("PUT", "/alerts/rules", {"long_wait": rules["long_wait"]})


def _override_metrics(browser: DevTools) -> None:
    """Before the page's script: GET /v1/metrics/realtime answers the runtime's body with `window.__override`
    ({queue id: {field: value}}) laid over it, so a test can tell whether (and when) the page reads it again."""
    source = """(() => {
      const real = window.fetch.bind(window);
      window.__override = {};
      window.fetch = async (input, init) => {
        const response = await real(input, init);
        const url = new URL(typeof input === 'string' ? input : input.url, location.href);
        if (url.pathname !== '/v1/metrics/realtime' || !response.ok) return response;
        const body = (await response.json()).map((q) => ({...q, ...(window.__override[q.queue_id] || {})}));
        return new Response(JSON.stringify(body), {status: 200, headers: {'Content-Type': 'application/json'}});
      };
    })();"""
    browser.call("Page.enable")
    browser.call("Page.addScriptToEvaluateOnNewDocument", source=source)


def test_wallboard_pushed_reads_the_metrics_again_at_its_resync_period(runtime, browser_process: Chromium) -> None:
    """Pushed: a frame comes only when a queue's figures are written, so a quiet queue's last-15-min window
    would never slide nor its "today" reset. The page reads GET /metrics/realtime again at its resync
    period (here every 1 s, `#every=resync:1`; 10 s by default) and shows what it says, still pushed."""
    supervisor = runtime.key("demo", "supervisor")
    url = f"{runtime.base_url}/#key={supervisor}&ws={quote(runtime.websocket_url, safe='')}&every=resync:1"
    window = {"offered": 0, "answered": 0, "abandoned": 0, "answered_within_sl": 0, "service_level": 0.25,
              "asa_s": 75.0, "abandonment_rate": 0.5}
    with browser_process.page() as browser:
        _override_metrics(browser)
        browser.call("Page.navigate", url=url)
        _push_mode(browser)
        browser.eval(f"window.__override = {{supervisors: {{offered: 4242, last_15_minutes: {json.dumps(window)}}}}}")
        figures = wait_until(
            lambda: (f := browser.board()["queues"]["supervisors"]["figures"])["in_queue"]["today"] == "4242 offered today" and f,
            timeout_s=15, what="the figures of a read made in push mode",
        )  # fmt: skip
        assert (figures["service_level"]["value"], figures["asa"]["value"], figures["abandonment"]["value"]) == ("25 %", "1:15", "50 %")
        assert browser.board()["status"]["text"] == "Live · pushed over WebSocket"


def _capture_socket(browser: DevTools) -> None:
    """Before the page's script: the page's WebSocket is kept in window.__socket, so that a test can hand the
    page frames in an order the backend produces only in a race."""
    browser.call("Page.enable")
    browser.call("Page.addScriptToEvaluateOnNewDocument", source="""(() => {
      const Real = window.WebSocket;
      window.WebSocket = class extends Real { constructor(...args) { super(...args); window.__socket = this; } };
    })();""")


def test_wallboard_drops_an_alert_copy_older_than_one_it_has_seen(runtime, browser_process: Chromium) -> None:
    """An alert's `sequence` (OPEN 1, ACKNOWLEDGED 2, RESOLVED 3) orders its copies: an acknowledgement pushed
    after the resolution (acknowledge racing the sweep, outside review A27) or a read that lags a frame does not
    bring back an alert the page saw resolved, nor an opening undo an acknowledgement. Frames are handed to
    the page's socket handler; GET /alerts?status=open&limit=200 is a stub that still lists the alert as open, read
    every 0.5 s (`#every=resync:0.5`: the two reads waited for twice come in 1 s, not 2)."""
    alert = {"alert_id": "al-late-ack", "sequence": 1, "rule": "long_wait", "severity": "WARNING", "status": "OPEN",
             "subject": "queue/supervisors", "queue_id": "supervisors", "agent_id": None, "contact_id": None,
             "message": "Queue supervisors: oldest contact waiting 40s (threshold 30s)", "details": {"threshold_s": 30},
             "opened_at": _iso_ago(40), "acknowledged_at": None, "resolved_at": None, "resolution": None}
    acked = {**alert, "sequence": 2, "status": "ACKNOWLEDGED", "acknowledged_at": _iso_ago(2)}
    resolved = {**acked, "sequence": 3, "status": "RESOLVED", "resolved_at": _iso_ago(1), "resolution": "condition_cleared"}
    supervisor = runtime.key("demo", "supervisor")
    url = f"{runtime.base_url}/#key={supervisor}&ws={quote(runtime.websocket_url, safe='')}&every=resync:0.5"
    with browser_process.page() as browser:
        _capture_socket(browser)
        _stub_fetch(browser, {"/v1/alerts?status=open&limit=200": (200, [alert])})
        browser.call("Page.navigate", url=url)
        _push_mode(browser)

        def push(copy: dict) -> None:
            browser.eval(f"window.__socket.onmessage({{data: {json.dumps(json.dumps({'type': 'alert', 'at': _iso_ago(0), 'payload': copy}))}}})")

        def shown() -> str | None:
            return next((a["status"] for a in browser.board()["alerts"] if a["alert_id"] == "al-late-ack"), None)

        assert wait_until(shown, what="the alert as read") == "OPEN"
        push(acked)
        assert shown() == "ACKNOWLEDGED"
        reads = len(browser.eval("window.__stubbed"))
        wait_until(lambda: len(browser.eval("window.__stubbed")) >= reads + 2, timeout_s=10, what="two more reads")
        assert shown() == "ACKNOWLEDGED"  # the reads' OPEN copy is older
        push(alert)
        assert shown() == "ACKNOWLEDGED"  # so is a late opening frame
        push(resolved)
        assert shown() is None
        push(acked)  # the acknowledgement pushed after the resolution
        assert shown() is None
        reads = len(browser.eval("window.__stubbed"))
        wait_until(lambda: len(browser.eval("window.__stubbed")) >= reads + 2, timeout_s=10, what="two more reads")
        assert shown() is None and browser.board()["status"]["state"] == "ok"


# --- campaigns and journey tests --------------------------------------------------------------------------
CAMPAIGN = "demo-outbound"  # local.outbound_demo: seeded in draft, predictive, on sales
# The campaigns and journeys panels as the tests read them.
PANELS = """JSON.stringify((() => {
  const text = (root, sel) => (root.querySelector(sel)?.textContent ?? null);
  const status = document.getElementById('status');
  const campaigns = document.getElementById('campaigns-panel'), journeys = document.getElementById('journeys-panel');
  if (!status || !campaigns || !journeys) return null;
  return {
    status: {state: status.dataset.state, mode: status.dataset.mode || ''},
    campaigns_hidden: campaigns.hidden, campaigns_stale: campaigns.dataset.stale, campaign_summary: text(document, '#campaign-summary'),
    campaigns: Object.fromEntries([...document.querySelectorAll('article[data-campaign]')].map((card) => [card.dataset.campaign, {
      status: card.dataset.status, level: card.dataset.level, badge: text(card, '.badge'), name: text(card, '.campaign-name'),
      mode: text(card, '.campaign-mode'), unread: text(card, '.unread'),
      figures: Object.fromEntries([...card.querySelectorAll('.figure')].map((f) => [f.dataset.field, {
        label: text(f, '.label'), value: text(f, '.value'), note: text(f, '.today'), level: f.dataset.level,
        color: getComputedStyle(f.querySelector('.value')).color,
      }])),
      blocks: [...card.querySelectorAll('.blocks .block')].map((b) => [b.dataset.rule, Number(text(b, 'b'))]),
      blocks_text: text(card, '.blocks'),
    }])),
    journeys_hidden: journeys.hidden, journey_summary: text(document, '#journey-summary'),
    journeys: [...document.querySelectorAll('#journeys li')].map((li) => ({
      journey: li.dataset.journey, passed: li.dataset.passed, level: li.dataset.level, mark: text(li, '.mark'),
      name: text(li, '.name'), age: text(li, '.age'), took: text(li, '.took'), failure: text(li, '.failure'),
    })),
    warnings: [...document.querySelectorAll('#journey-warnings li')].map((li) => li.textContent),
  };
})())"""
RED = "rgb(248, 81, 73)"  # --bad


def _panels(browser: DevTools) -> dict | None:
    shown = browser.eval(PANELS)
    return json.loads(shown) if isinstance(shown, str) else None


def _stub_fetch(browser: DevTools, canned: dict[str, tuple[int, object]]) -> None:
    """Before the page's own script: fetch() of these API paths (a path with its query first, then the path
    alone) answers the canned (status, body[, headers]) in the page itself (every other request goes to the
    runtime); each stubbed path asked is kept in window.__stubbed."""
    source = """(() => {
      const canned = %s, real = window.fetch.bind(window);
      window.__stubbed = [];
      window.fetch = (input, init) => {
        const url = new URL(typeof input === 'string' ? input : input.url, location.href);
        const path = (url.pathname + url.search) in canned ? url.pathname + url.search : url.pathname;
        if (!(path in canned)) return real(input, init);
        window.__stubbed.push(path);
        const [status, body, headers] = canned[path];
        return Promise.resolve(new Response(JSON.stringify(body),
          {status, headers: {'Content-Type': 'application/json', ...(headers || {})}}));
      };
    })();""" % json.dumps({path: list(answer) for path, answer in canned.items()})
    browser.call("Page.enable")  # (scripts to evaluate on new documents need the Page domain on)
    browser.call("Page.addScriptToEvaluateOnNewDocument", source=source)


def _iso_ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


def _metrics(**fields: object) -> dict:
    base = {"campaign_id": "x", "status": "running", "mode": "predictive", "window_days": 30, "attempts": 0,
            "human_answered": 0, "connects": 0, "right_party_contacts": 0, "abandoned": 0, "abandonment_rate": 0.0,
            "max_abandon_rate": 0.03, "opted_out": 0, "dial_errors": 0, "outcomes": {}, "agent_dispositions": {},
            "blocks_by_rule": {}, "calls_in_flight": 0, "rows_due_now": 0}
    return {**base, **fields}


def test_wallboard_campaign_and_journey_panels_render_what_they_are_given(runtime, browser_process: Chromium) -> None:
    """The panels' rules on answers this runtime cannot produce on demand, served by a fetch stub in the page
    (GET /campaigns and the metrics of each campaign, GET /journeys/results; every other read is the
    runtime's): a campaign over its abandonment cap is red, occupancy and idle time are shown when the
    metrics carry them and left out when absent or null, the top three blocking rules are named and the rest
    summed, draft/stopped campaigns and a campaign whose metrics fail do not break the panel; journeys list
    failing first with their failed step and failure, and their age; a 404 hides the journeys panel."""
    campaigns = [
        {"campaign_id": "winback", "name": "Win-back", "mode": "predictive", "queue_id": "sales", "status": "running"},
        {"campaign_id": "renewals", "name": "Renewals", "mode": "progressive", "queue_id": "support", "status": "paused"},
        {"campaign_id": "broken", "name": "Broken metrics", "mode": "preview", "queue_id": "sales", "status": "running"},
        {"campaign_id": "old", "name": "Old", "mode": "predictive", "queue_id": "sales", "status": "stopped"},
        {"campaign_id": "next", "name": "Next", "mode": "predictive", "queue_id": "sales", "status": "draft"},
    ]
    winback = _metrics(campaign_id="winback", attempts=412, human_answered=150, connects=140, right_party_contacts=35,
                       abandoned=7, abandonment_rate=7 / 150, calls_in_flight=6, rows_due_now=100, dial_errors=2,
                       occupancy=0.82, idle_between_calls_s=14.4,
                       blocks_by_rule={"suppression": 30, "calling_hours": 12, "consent": 25, "reg_f_7_in_7": 3, "blackout": 1})
    renewals = _metrics(campaign_id="renewals", status="paused", mode="progressive", attempts=50, human_answered=20,
                        connects=20, right_party_contacts=5, abandoned=0, occupancy=None)  # no idle field at all
    results = {"journeys": [
        {"journey": "ivr-hours", "passed": True, "at": _iso_ago(75), "total_ms": 412.0, "failed_step": None, "failure": None},
        {"journey": "ivr-vip", "passed": False, "at": _iso_ago(20), "total_ms": 1830.5, "failed_step": "route",
         "failure": "queue_id: expected 'vip', observed 'sales'"},
        {"journey": "ivr-stale", "passed": True, "at": _iso_ago(20 * 60), "total_ms": 300.0, "failed_step": None, "failure": None},
    ], "warnings": ["journey ivr-old: no result for 3 runs"]}
    canned = {"/v1/campaigns": (200, campaigns), "/v1/campaigns/winback/metrics": (200, winback),
              "/v1/campaigns/renewals/metrics": (200, renewals), "/v1/campaigns/broken/metrics": (500, {"message": "boom"}),
              "/v1/journeys/results": (200, results)}
    supervisor = runtime.key("demo", "supervisor")
    with browser_process.page() as browser:
        _stub_fetch(browser, canned)
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}")
        shown = wait_until(
            lambda: (p := _panels(browser)) and p["status"]["state"] == "ok" and not p["campaigns_hidden"]
            and not p["journeys_hidden"] and p,
            timeout_s=40, what="both panels shown from the stubbed reads",
        )  # fmt: skip
        assert set(browser.eval("window.__stubbed")) == set(canned)  # every stubbed read was asked for
        # Running first, then paused, by name; draft and stopped campaigns are not shown.
        assert list(shown["campaigns"]) == ["broken", "winback", "renewals"], shown["campaigns"]
        assert shown["campaign_summary"] == "2 running · 1 paused"
        assert shown["campaigns_stale"] == "false"

        win = shown["campaigns"]["winback"]
        assert (win["name"], win["badge"], win["mode"], win["status"]) == ("Win-back", "RUNNING", "predictive · sales", "running")
        figures = win["figures"]
        assert list(figures) == ["attempts", "connects", "right_party_contacts", "abandonment", "calls_in_flight",
                                 "occupancy", "idle_between_calls"]
        assert figures["attempts"]["value"] == "412" and figures["attempts"]["note"] == "100+ rows due now"
        assert figures["attempts"]["label"] == "Attempts · 30 days"
        assert figures["connects"]["value"] == "140" and figures["connects"]["note"] == "of 150 answered"
        assert figures["right_party_contacts"]["value"] == "35" and figures["right_party_contacts"]["note"] == "25 % of connects"
        # 7 of 150 = 4.7 %, over the 3 % cap: red, and so is the card's top border.
        abandon = figures["abandonment"]
        assert abandon["label"] == "Abandoned · rolling 30 days · max 3.0 %"
        assert abandon["value"] == "4.7 %" and abandon["level"] == "bad" and abandon["color"] == RED
        assert abandon["note"] == "7 of 150 answered"
        assert win["level"] == "bad"
        assert figures["calls_in_flight"]["value"] == "6" and figures["calls_in_flight"]["label"] == "In flight · now"
        assert figures["calls_in_flight"]["note"] == "2 dial errors"
        assert figures["occupancy"]["value"] == "82 %"
        assert figures["idle_between_calls"]["value"] == "0:14"
        # The three rules that blocked most, then the rest summed (reg_f_7_in_7: 3, blackout: 1).
        assert win["blocks"] == [["suppression", 30], ["consent", 25], ["calling_hours", 12]]
        assert win["blocks_text"].endswith("+4 by 2 other rules")

        ren = shown["campaigns"]["renewals"]
        assert (ren["badge"], ren["level"]) == ("PAUSED", "warn")
        # occupancy null, idle absent: both left out, the rest as usual; 0 % abandoned is green.
        assert list(ren["figures"]) == ["attempts", "connects", "right_party_contacts", "abandonment", "calls_in_flight"]
        assert ren["figures"]["abandonment"]["value"] == "0.0 %" and ren["figures"]["abandonment"]["level"] == "ok"
        assert ren["blocks_text"].endswith("no row blocked") and ren["blocks"] == []

        broken = shown["campaigns"]["broken"]
        assert broken["unread"] == "metrics could not be read" and broken["figures"] == {} and broken["badge"] == "RUNNING"

        # Journeys: failing first, then by name; the failed step and why; how long ago; a stale one amber.
        assert shown["journey_summary"] == "1 failing · 2 passing"
        rows = {j["journey"]: j for j in shown["journeys"]}
        assert [j["journey"] for j in shown["journeys"]] == ["ivr-vip", "ivr-hours", "ivr-stale"]
        vip = rows["ivr-vip"]
        assert (vip["mark"], vip["passed"], vip["level"], vip["took"]) == ("FAIL", "false", "bad", "1.8 s")
        assert vip["failure"] == "route: queue_id: expected 'vip', observed 'sales'"
        assert re.fullmatch(r"\d+ s ago", vip["age"]), vip
        hours = rows["ivr-hours"]
        assert (hours["mark"], hours["level"], hours["took"], hours["failure"]) == ("PASS", "ok", "412 ms", None)
        assert hours["age"] == "1 min ago"
        assert rows["ivr-stale"]["level"] == "warn" and rows["ivr-stale"]["age"] == "20 min ago"
        assert shown["warnings"] == ["journey ivr-old: no result for 3 runs"]
        png = browser.screenshot("wallboard-panels-stubbed.png")
        assert len(png) > 10_000

    # No such endpoint (an API without the journey results), and no campaign: both panels hidden, the rest
    # of the board as usual.
    with browser_process.page() as browser:
        _stub_fetch(browser, {"/v1/journeys/results": (404, {"message": "Not found"}), "/v1/campaigns": (200, campaigns[3:])})
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}")
        hidden = wait_until(
            lambda: (p := _panels(browser)) and p["status"]["state"] == "ok"
            and len(browser.eval("window.__stubbed")) >= 2 and p,
            timeout_s=40, what="the page's first reads",
        )  # fmt: skip
        assert hidden["campaigns_hidden"] and hidden["journeys_hidden"], hidden
        assert hidden["campaigns"] == {} and hidden["journeys"] == []
        assert browser.eval("document.querySelectorAll('article[data-queue]').length") >= 3


def _dial(runtime, loop_s: float) -> dict:
    """The demo campaign's pacing ticks for `loop_s`, as its one-minute schedule runs them (functions/dial_campaign),
    a tick every 0.5 s (the shortest the function takes) so that a call's outcome is seen as soon as it is due."""
    arn = runtime.deployment.function_by_folder("dial_campaign").arn
    answer = runtime.client("lambda").invoke(FunctionName=arn, Payload=json.dumps(
        {"source": "test", "loop_s": loop_s, "tick_s": 0.5}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def _shows(card: dict | None, m: dict) -> bool:
    """Whether a campaign card shows exactly the metrics `m` (GET /campaigns/{id}/metrics)."""
    if not card or card["status"] != m["status"] or not card["figures"]:
        return False
    f = card["figures"]
    shown = {k: f[k]["value"] for k in ("attempts", "connects", "right_party_contacts", "calls_in_flight")}
    abandon = f["abandonment"]["value"]
    return (shown == {k: str(m[k]) for k in shown} and abandon.endswith(" %")
            and abs(float(abandon[:-2]) - m["abandonment_rate"] * 100) <= 0.05 + 1e-9)


def test_wallboard_shows_the_running_demo_campaign_from_its_metrics(runtime, browser_process: Chromium) -> None:
    """The demo campaign on the local runtime, read by the page with its polls every 0.5 s here (every 10 s
    by default, `#every=refresh:0.5,campaigns:0.5`) and dialed by a carrier where everybody answers (the demo's answer 45 % of the time; a
    connect is what the test waits for, ~10 s of the carrier's ringing, compressed 20 times): hidden in draft, shown once a
    supervisor starts it, its figures those of GET /campaigns/{id}/metrics (after dialing: attempts, connects,
    a right-party contact, the DNC rows blocked by rule), paused and running again
    (tests/artifacts/wallboard-campaigns.png). No journey has run on this runtime: that panel stays hidden."""
    supervisor = api(runtime, "demo", role="supervisor")
    assert supervisor.call("GET", f"/campaigns/{CAMPAIGN}")[1]["status"] == "draft"
    key = runtime.key("demo", "supervisor")
    with browser_process.page() as browser:
        try:
            browser.call("Page.navigate", url=f"{runtime.base_url}/#key={key}&every=refresh:0.5,campaigns:0.5")
            first = wait_until(lambda: (p := _panels(browser)) and p["status"]["state"] == "ok" and p,
                               timeout_s=40, what="the wallboard's first reads")
            assert first["campaigns_hidden"] and first["campaigns"] == {}  # the demo campaign is a draft
            dialer = {**outbound_demo.DIALER, "p_human": 1.0, "p_machine": 0.0, "p_busy": 0.0, "p_invalid": 0.0,
                      "ring_time_scale": 0.05}  # the carrier's ringing at a twentieth: a connect within the first tick or two
            status, body = api(runtime, "demo", "admin").call("PUT", "/settings/outbound", dialer)
            assert status == 200, body
            assert first["journeys_hidden"] and first["journeys"] == []

            for agent_id in ("ana", "ben"):  # they serve the campaign's queue (sales)
                status, body = api(runtime, "demo", agent_id=agent_id).call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})
                assert status == 200, body
            # The list's first due row is put on the do-not-call list: the first tick blocks it by rule whatever
            # the hour (the demo's own DNC rows come every 10th, reached only as the pacing gets to them).
            status, body = api(runtime, "demo", "admin").call(
                "POST", "/suppressions", {"entries": [{"kind": "number", "value": outbound_demo.rows()[0]["phone"]}]})
            assert status in (200, 201), body
            started = time.monotonic()
            assert supervisor.call("POST", f"/campaigns/{CAMPAIGN}/start")[1]["status"] == "running"
            card = wait_until(lambda: (_panels(browser) or {}).get("campaigns", {}).get(CAMPAIGN),
                              timeout_s=30, interval_s=0.25, what="the started campaign on the wallboard")
            assert time.monotonic() - started < 8  # the next 0.5-s read (give or take a read on a loaded machine)
            assert (card["badge"], card["name"], card["mode"]) == ("RUNNING", "Demo renewals (outbound)", "predictive · sales")

            # Dialing: attempts, answered calls reaching sales' agents, DNC rows blocked by rule.
            deadline = time.monotonic() + 60
            metrics: dict = {}
            while time.monotonic() < deadline and not (metrics.get("connects") and metrics.get("blocks_by_rule")):
                _dial(runtime, loop_s=2)
                metrics = supervisor.call("GET", f"/campaigns/{CAMPAIGN}/metrics")[1]
            assert metrics["connects"] >= 1 and metrics["blocks_by_rule"].get("suppression", 0) > 0, metrics
            reached = next(a["contact_id"] for a in supervisor.call("GET", f"/campaigns/{CAMPAIGN}/attempts")[1] if a["contact_id"])
            status, body = supervisor.call("POST", f"/contacts/{reached}/disposition", {"disposition": "right_party_contact"})
            assert status == 200, body

            # Paused (no more dialing): the card settles on exactly what the API says.
            assert supervisor.call("POST", f"/campaigns/{CAMPAIGN}/pause")[1]["status"] == "paused"

            def settled() -> tuple[dict, dict] | None:
                m = supervisor.call("GET", f"/campaigns/{CAMPAIGN}/metrics")[1]
                c = (_panels(browser) or {}).get("campaigns", {}).get(CAMPAIGN)
                return (c, m) if _shows(c, m) else None

            card, m = wait_until(settled, timeout_s=20, interval_s=0.25, what="the paused campaign's figures as the API gives them")
            assert m["right_party_contacts"] >= 1 and int(card["figures"]["right_party_contacts"]["value"]) >= 1
            assert card["badge"] == "PAUSED"
            abandon = card["figures"]["abandonment"]
            assert abandon["label"] == f"Abandoned · rolling 30 days · max {m['max_abandon_rate'] * 100:.1f} %"
            over = m["abandonment_rate"] > m["max_abandon_rate"]
            assert abandon["level"] == ("bad" if over else "warn" if m["abandonment_rate"] >= 0.8 * m["max_abandon_rate"] else "ok")
            assert (abandon["color"] == RED) == over and (card["level"] == "bad") == over
            assert abandon["note"] == f"{m['abandoned']} of {m['human_answered']} answered"
            top = sorted(((r, n) for r, n in m["blocks_by_rule"].items() if n), key=lambda rn: (-rn[1], rn[0]))[:3]
            assert card["blocks"] == [list(rn) for rn in top], (card["blocks"], m["blocks_by_rule"])
            # Occupancy and idle time between calls: shown exactly when the metrics carry them.
            assert ("occupancy" in card["figures"]) == (m.get("occupancy") is not None)
            assert ("idle_between_calls" in card["figures"]) == (m.get("idle_between_calls_s") is not None)

            # Running again: the badge follows; the screenshot shows the running campaign.
            assert supervisor.call("POST", f"/campaigns/{CAMPAIGN}/start")[1]["status"] == "running"
            card = wait_until(lambda: (c := (_panels(browser) or {}).get("campaigns", {}).get(CAMPAIGN)) and c["badge"] == "RUNNING" and c,
                              timeout_s=15, interval_s=0.25, what="the resumed campaign on the wallboard")
            assert int(card["figures"]["attempts"]["value"]) >= m["attempts"]
            shown = _panels(browser)
            assert shown["campaign_summary"] == "1 running · 0 paused" and shown["journeys_hidden"]
            png = browser.screenshot("wallboard-campaigns.png")
            assert len(png) > 10_000
        finally:
            supervisor.call("POST", f"/campaigns/{CAMPAIGN}/pause")  # no dialing left for what runs on this runtime


def _demo_ivr_journeys_and_a_broken_one() -> dict:
    """The demo suite's IVR journeys (flow steps only, as `make run` stores them: local.journeys
    schedule_demo_journeys) without their latency budgets (this machine may be loaded), and one that must
    fail: the gold caller expected as platinum."""
    from ccaas.domain.journeys import parse_suite
    from local.journeys import DEMO_SPEC
    from local.seed import DEMO_CONNECT_INSTANCE_ARN

    suite = parse_suite(json.loads((ROOT / DEMO_SPEC).read_text()))
    ivr = [j.model_dump(mode="json", exclude_defaults=True) for j in suite.journeys if all(s.kind == "flow" for s in j.steps)]
    for journey in ivr:
        for step in journey["steps"]:
            step.get("expect", {}).pop("latency_ms", None)
    broken = json.loads(json.dumps(next(j for j in ivr if j["name"] == "sales-gold-caller-ivr")))
    broken["name"] = "wallboard-broken-ivr"
    broken["steps"][0]["expect"]["tier"] = "platinum"
    return {"connect_instance_arn": DEMO_CONNECT_INSTANCE_ARN, "journeys": [*ivr, broken]}


def test_wallboard_shows_the_journey_results_of_the_scheduled_runner(runtime, browser_process: Chromium) -> None:
    """The journey tests on the local runtime: the demo's IVR journeys stored (PUT /settings/journeys) and
    one that fails; before any run GET /journeys/results lists none (each "has not run yet") and the panel is
    hidden; the scheduled runner (functions/run_journeys, invoked as its schedule does) plays them once and
    the page's next read (every 0.5 s here, `#every=refresh:0.5,journeys:0.5`; 30 s by default) shows a row
    per journey as the endpoint gives it, the failing one first with its failed step and failure
    (tests/artifacts/wallboard-journeys.png)."""
    admin, supervisor = api(runtime, "demo", role="admin"), api(runtime, "demo", role="supervisor")
    status, body = admin.call("PUT", "/settings/journeys", _demo_ivr_journeys_and_a_broken_one())
    assert status == 200, body
    status, before = supervisor.call("GET", "/journeys/results")
    assert status == 200 and before["journeys"] == [] and before["warnings"], before
    key = runtime.key("demo", "supervisor")
    with browser_process.page() as browser:
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={key}&every=refresh:0.5,journeys:0.5")
        first = wait_until(lambda: (p := _panels(browser)) and p["status"]["state"] == "ok" and p,
                           timeout_s=40, what="the wallboard's first reads")
        assert first["journeys_hidden"] and first["journeys"] == []  # none has run yet

        arn = runtime.deployment.function_by_folder("run_journeys").arn
        answer = runtime.client("lambda").invoke(FunctionName=arn, Payload=b"{}")
        assert "FunctionError" not in answer, answer["Payload"].read()
        ran = json.loads(answer["Payload"].read())
        assert ran["journeys"] >= 4 and ran["failed"] >= 1, ran
        status, results = supervisor.call("GET", "/journeys/results")
        assert status == 200 and len(results["journeys"]) >= 4, results
        expected = sorted(results["journeys"], key=lambda j: (j["passed"], j["journey"]))

        shown = wait_until(lambda: (p := _panels(browser)) and len(p["journeys"]) == len(expected) and p,
                           timeout_s=20, interval_s=0.25, what="the journey results on the wallboard (read every 0.5 s)")
        assert not shown["journeys_hidden"]
        assert [(j["journey"], j["passed"]) for j in shown["journeys"]] == [
            (j["journey"], "true" if j["passed"] else "false") for j in expected]
        failing = [j for j in expected if not j["passed"]]
        assert shown["journey_summary"] == f"{len(failing)} failing · {len(expected) - len(failing)} passing"
        rows = {j["journey"]: j for j in shown["journeys"]}
        broken = next(j for j in results["journeys"] if j["journey"] == "wallboard-broken-ivr")
        assert not broken["passed"] and broken["failed_step"] and "platinum" in (broken["failure"] or ""), broken
        row = rows["wallboard-broken-ivr"]
        assert (row["mark"], row["level"]) == ("FAIL", "bad")
        assert row["failure"] == f"{broken['failed_step']}: {broken['failure']}"
        assert re.fullmatch(r"\d+ s ago", row["age"]), row
        for j in expected:
            took = re.fullmatch(r"(\d+(?:\.\d)?) (ms|s)", rows[j["journey"]]["took"])
            assert took, rows[j["journey"]]
            shown_ms = float(took[1]) * (1 if took[2] == "ms" else 1000)
            assert abs(shown_ms - j["total_ms"]) <= (0.5 if j["total_ms"] < 1000 else 50) + 1e-6, (rows[j["journey"]], j)
            if j["passed"]:
                assert rows[j["journey"]]["failure"] is None and rows[j["journey"]]["level"] == "ok"
        assert shown["warnings"] == results["warnings"]
        png = browser.screenshot("wallboard-journeys.png")
        assert len(png) > 10_000


def test_wallboard_reads_every_page_of_the_agents(runtime, browser_process: Chromium) -> None:
    """GET /agents answers a large tenant in pages with a Link to the next (relative to the page's URL): the board
    follows it and shows the agents of every page (it read only the first)."""
    demo = api(runtime, "demo")
    for agent_id in ("emma", "gita", "hugo"):
        assert demo.call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})[0] == 200
    views = {a["agent_id"]: a for a in demo.call("GET", "/agents")[1]}
    canned = {"/v1/agents": (200, [views["emma"], views["gita"]], {"Link": '<agents?after=gita&limit=2>; rel="next"'}),
              "/v1/agents?after=gita&limit=2": (200, [views["hugo"]])}
    supervisor = runtime.key("demo", "supervisor")
    with browser_process.page() as browser:
        _stub_fetch(browser, canned)
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}")
        board = wait_until(lambda: (b := browser.board()) and b["status"]["state"] == "ok" and b["agents"] and b,
                           timeout_s=40, what="the agents table")
        assert {a["agent_id"] for a in board["agents"]} == {"emma", "gita", "hugo"}, board["agents"]
        assert "/v1/agents?after=gita&limit=2" in browser.eval("window.__stubbed")


def test_wallboard_shows_every_open_alert_and_abandons_as_the_rate_counts_them(runtime, browser_process: Chromium) -> None:
    """Outside probe #37, on stubbed reads (GET /alerts, GET /metrics/realtime; the rest is the runtime's):
    - GET /alerts answers a page of at most 200 with a Link to the next: the page read the first page only (100 then),
      and the oldest open alerts were missing from the board and its count. It follows every page, counts all 550,
      draws the newest 500 and says that the 50 older are not drawn.
    - Today's abandonment rate leaves short abandons out of both sides (DOMAIN.md), the counts beside it held them:
      "today 0 % · 1 of 2". The counts are now those of the rate, the short ones said apart, from the metrics'
      `short_abandoned` when given, else from what the rate implies."""
    demo = api(runtime, "demo")
    template = demo.call("GET", "/metrics/realtime")[1][0]

    def queue(queue_id: str, **today: object) -> dict:
        return {**template, "queue_id": queue_id, **today}

    queues = [
        queue("ab-short", offered=2, abandoned=1, short_abandoned=1, abandonment_rate=0.0),  # the probe's
        queue("ab-none", offered=40, abandoned=3, short_abandoned=0, abandonment_rate=3 / 40),
        queue("ab-given", offered=12, abandoned=4, short_abandoned=2, abandonment_rate=2 / 10),
        queue("ab-all-short", offered=1, abandoned=1, short_abandoned=1, abandonment_rate=None),  # nothing to divide by
    ]
    alerts = [{"alert_id": f"al-{n:04d}", "sequence": 1, "rule": "queue_depth", "severity": "WARNING", "status": "OPEN",
               "subject": "queue/nowhere", "queue_id": "nowhere", "agent_id": None, "contact_id": None,
               "message": f"alert {n}", "details": {"threshold": 5}, "opened_at": _iso_ago(n), "acknowledged_at": None,
               "resolved_at": None, "resolution": None} for n in range(550)]  # newest first, as the API lists them
    first = "/v1/alerts?status=open&limit=200"

    def page(after: int) -> str:
        return f"/v1/alerts?status=open&after=al-{after:04d}&limit=200"

    canned = {
        first: (200, alerts[:200], {"Link": f'<{page(199)}>; rel="next"'}),
        page(199): (200, alerts[200:400], {"Link": f'<{page(399)}>; rel="next"'}),
        page(399): (200, alerts[400:]),
        "/v1/alerts?status=open": (200, alerts[:100], {"Link": f'<{page(99)}>; rel="next"'}),  # what was asked before
        "/v1/metrics/realtime": (200, queues),
    }
    supervisor = runtime.key("demo", "supervisor")
    with browser_process.page() as browser:
        _stub_fetch(browser, canned)
        browser.call("Page.navigate", url=f"{runtime.base_url}/#key={supervisor}")
        # One read renders queues and alerts together: once the stubbed queues show, so do the alerts.
        board = wait_until(lambda: (b := browser.board()) and b["status"]["state"] == "ok" and "ab-short" in b["queues"] and b,
                           timeout_s=40, what="the queues from the stubbed reads")
        shown = {
            "alerts": [a["alert_id"] for a in board["alerts"]],
            "count": browser.eval("document.getElementById('alert-count').textContent"),
            "more": browser.eval("document.getElementById('alerts-more')?.textContent"),
            "today": {q: board["queues"][q]["figures"]["abandonment"]["today"] for q in (x["queue_id"] for x in queues)},
        }
        assert shown == {
            "alerts": [a["alert_id"] for a in alerts[:500]],
            "count": "550",
            "more": "The newest 500 of 550 open alerts are shown; the 50 older are not.",
            "today": {
                "ab-short": "today 0 % · 0 of 1 · 1 short not counted",
                "ab-none": "today 8 % · 3 of 40",
                "ab-given": "today 20 % · 2 of 10 · 2 short not counted",
                "ab-all-short": "today – · 0 of 0 · 1 short not counted",
            },
        }, {k: v if k != "alerts" else (len(v), v[:2], v[-2:]) for k, v in shown.items()}
        assert {first, page(199), page(399)} <= set(browser.eval("window.__stubbed"))
