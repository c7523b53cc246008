// The wallboard: live queue metrics and open alerts of one tenant, pushed over WebSocket, or polled
// every 2 s when no socket can be opened. No build step, no dependencies. The API is on this page's
// origin (local runtime: same server; AWS: the CloudFront distribution routes /v1/* to API Gateway).
// The tenant's API key is kept in sessionStorage only (gone when the tab closes); `#key=<key>` in the
// URL is taken once and removed from the address bar, for kiosk screens.
//
// Push: the page opens ws(s)://<this origin>/v1?token=<key> (or the URL given once as `#ws=<url>`: the
// local runtime serves its WebSocket API on another port), subscribes to every queue, reads metrics and
// alerts once, then updates a queue's row from each `queue_metrics` frame and an alert from each `alert`
// frame (unknown frame types are ignored); open alerts are re-read every 30 s all the same (a failed alert
// push is not retried). When the socket cannot open or closes, the page polls the REST API every 2 s and
// tries the socket again later; the status line says which mode it is in. `#poll=0` turns every timed
// REST read off (the browser test proves the tiles move from the socket alone).
"use strict";

(() => {
  const API = (document.querySelector('meta[name="api-base"]')?.content || "/v1").replace(/\/$/, "");
  const KEY_STORAGE = "ccaas.wallboard.apiKey";
  const WS_STORAGE = "ccaas.wallboard.wsUrl";
  const POLL_STORAGE = "ccaas.wallboard.poll";
  const REFRESH_MS = 2000;
  const ALERTS_RESYNC_MS = 30000; // with the socket: alerts come as frames; a failed alert push is not retried
  const PING_MS = 5 * 60 * 1000; // API Gateway closes a connection after 10 minutes without a frame
  const RETRY_MS = [5000, 15000, 60000]; // trying the socket again after it failed or closed
  const OPEN_MS = 5000; // a socket not subscribed by then counts as failed
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let inFlight = false;
  let socket = null;
  let mode = "connecting"; // "push" | "poll" | "connecting"
  let retries = 0;
  let retryTimer = null;
  let pingTimer = null;
  let openTimer = null;

  // --- the key and the settings from the fragment --------------------------------------------------
  function takeSettingsFromFragment() {
    const settings = Object.fromEntries(
      location.hash.replace(/^#/, "").split("&").filter(Boolean).map((part) => {
        const [name, ...value] = part.split("=");
        return [name, decodeURIComponent(value.join("="))];
      })
    );
    if (settings.key) sessionStorage.setItem(KEY_STORAGE, settings.key);
    if (settings.ws && /^wss?:\/\//.test(settings.ws)) sessionStorage.setItem(WS_STORAGE, settings.ws);
    if (settings.poll !== undefined) sessionStorage.setItem(POLL_STORAGE, settings.poll === "0" ? "0" : "1");
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }
  const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";
  const pollingAllowed = () => sessionStorage.getItem(POLL_STORAGE) !== "0";
  function socketUrl() {
    const given = sessionStorage.getItem(WS_STORAGE);
    if (given) return given.replace(/\/$/, "");
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${API}`;
  }

  // --- formatting ----------------------------------------------------------------------------------
  const dash = "–";
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return dash;
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}:${String(s % 60).padStart(2, "0")}`;
  }
  const percent = (v) => (v === null || v === undefined ? dash : `${Math.round(v * 100)}%`);
  const count = (v) => (v === null || v === undefined ? dash : String(v));
  function ago(iso) {
    const ms = Date.now() - Date.parse(iso);
    return Number.isFinite(ms) ? `${duration(ms / 1000)} ago` : "";
  }

  function setStatus(state, text) {
    const el = $("status");
    el.dataset.state = state;
    el.dataset.mode = mode;
    el.textContent = text;
  }
  const MODE_TEXT = {
    push: "Live · pushed over WebSocket",
    poll: "Live · polling every 2 s (no WebSocket)",
    connecting: "Connecting…",
  };
  function showMode() {
    $("mode").textContent = mode === "push" ? "pushed as it changes" : mode === "poll" ? "refreshes every 2 s" : "connecting";
  }

  // --- API -----------------------------------------------------------------------------------------
  async function call(method, path) {
    const response = await fetch(API + path, {
      method,
      headers: { Authorization: `Bearer ${apiKey()}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
    if (response.status === 401 || response.status === 403) throw new Error("the API key was rejected");
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
    return response.json();
  }

  // --- rendering (textContent only: nothing from the API is parsed as HTML) ------------------------
  const QUEUE_FIELDS = [
    ["in_queue", (q) => count(q.in_queue)],
    ["oldest_wait", (q) => duration(q.oldest_wait_s)],
    ["agents_available", (q) => count(q.agents_available)],
    ["agents_reserved", (q) => count(q.agents_reserved)],
    ["agents_on_contact", (q) => count(q.agents_on_contact)],
    ["agents_acw", (q) => count(q.agents_acw)],
    ["agents_not_ready", (q) => count(q.agents_not_ready)],
    ["service_level", (q) => percent(q.service_level)],
    ["asa", (q) => duration(q.asa_s)],
    ["abandonment", (q) => percent(q.abandonment_rate)],
    ["transfers", (q) => `${count(q.transferred_out)} / ${count(q.transferred_in)}`],
  ];

  function renderQueue(q) {
    const body = $("queues").tBodies[0];
    let row = body.querySelector(`tr[data-queue="${CSS.escape(q.queue_id)}"]`);
    if (!row) {
      row = body.insertRow();
      row.dataset.queue = q.queue_id;
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = q.queue_id;
      row.appendChild(name);
      for (const [field] of QUEUE_FIELDS) row.insertCell().dataset.field = field;
    }
    for (const [field, format] of QUEUE_FIELDS) row.querySelector(`td[data-field="${field}"]`).textContent = format(q);
    const below = q.service_level !== null && q.service_level_target !== null && q.service_level < q.service_level_target;
    row.classList.toggle("below-target", Boolean(below));
    row.classList.toggle("waiting", q.in_queue > 0);
  }

  function renderQueues(queues) {
    const seen = new Set();
    for (const q of queues) {
      seen.add(q.queue_id);
      renderQueue(q);
    }
    for (const row of [...$("queues").tBodies[0].rows]) if (!seen.has(row.dataset.queue)) row.remove();
  }

  let shownAlerts = [];
  function renderAlerts(alerts) {
    shownAlerts = alerts;
    const list = $("alerts");
    list.replaceChildren(
      ...alerts.map((a) => {
        const item = document.createElement("li");
        item.dataset.alertId = a.alert_id;
        item.dataset.rule = a.rule;
        item.dataset.severity = a.severity;
        item.dataset.status = a.status;
        const severity = document.createElement("span");
        severity.className = "severity";
        severity.textContent = a.severity;
        const message = document.createElement("span");
        message.className = "message";
        message.textContent = a.message;
        const when = document.createElement("span");
        when.className = "when";
        when.textContent = a.status === "ACKNOWLEDGED" ? `acknowledged · opened ${ago(a.opened_at)}` : `opened ${ago(a.opened_at)}`;
        item.append(severity, message, when);
        if (a.status === "OPEN") {
          const ack = document.createElement("button");
          ack.type = "button";
          ack.textContent = "Acknowledge";
          ack.addEventListener("click", () => acknowledge(a.alert_id, ack));
          item.append(ack);
        }
        return item;
      })
    );
    $("alert-count").textContent = String(alerts.length);
    $("alert-count").dataset.count = String(alerts.length);
  }

  async function acknowledge(alertId, button) {
    button.disabled = true;
    try {
      await call("POST", `/alerts/${encodeURIComponent(alertId)}/acknowledge`);
      schedule(0);
    } catch (error) {
      setStatus("error", `Acknowledging failed: ${error.message}`);
      button.disabled = false;
    }
  }

  // An `alert` frame: the alert as GET /alerts/{id} shows it; a resolved one leaves the list.
  function applyAlert(alert) {
    if (!alert || !alert.alert_id) return;
    const others = shownAlerts.filter((a) => a.alert_id !== alert.alert_id);
    renderAlerts(alert.status === "RESOLVED" ? others : [alert, ...others]);
  }

  // --- REST reads ----------------------------------------------------------------------------------
  async function refresh(withMetrics) {
    if (inFlight) return;
    if (!apiKey()) {
      setStatus("idle", "Enter the tenant's API key.");
      return;
    }
    inFlight = true;
    try {
      const [queues, alerts] = await Promise.all([
        withMetrics ? call("GET", "/metrics/realtime") : null,
        call("GET", "/alerts?status=open"),
      ]);
      if (queues) renderQueues(queues);
      renderAlerts(alerts);
      setStatus("ok", MODE_TEXT[mode]);
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      setStatus("error", error.message);
    } finally {
      inFlight = false;
    }
  }

  // Polling: metrics and alerts every 2 s without a socket; with one, alerts only, every 30 s (they come
  // as frames); nothing timed with #poll=0.
  const nextRead = () => (mode === "push" ? ALERTS_RESYNC_MS : REFRESH_MS);
  function schedule(delay) {
    clearTimeout(timer);
    if (!pollingAllowed() && delay > 0) return;
    timer = setTimeout(async () => {
      await refresh(mode !== "push");
      schedule(nextRead());
    }, delay);
  }

  // --- the socket ----------------------------------------------------------------------------------
  function closeSocket() {
    clearTimeout(retryTimer);
    clearTimeout(openTimer);
    clearInterval(pingTimer);
    if (socket) {
      const old = socket;
      socket = null;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      old.close();
    }
  }

  function fallBack() {
    closeSocket();
    mode = "poll";
    showMode();
    schedule(0); // at once: what changed while the socket was going away (once only with #poll=0)
    retryTimer = setTimeout(connect, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  }

  function connect() {
    closeSocket();
    if (!apiKey()) return;
    let ws;
    try {
      ws = new WebSocket(`${socketUrl()}?token=${encodeURIComponent(apiKey())}`);
    } catch (error) {
      fallBack(); // a URL the browser (or the CSP) refuses
      return;
    }
    socket = ws;
    openTimer = setTimeout(fallBack, OPEN_MS);
    ws.onopen = () => ws.send(JSON.stringify({ action: "subscribe", queues: [] }));
    ws.onmessage = async (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "subscribed") {
        clearTimeout(openTimer);
        retries = 0;
        mode = "push";
        showMode();
        pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"action":"ping"}'), PING_MS);
        clearTimeout(timer);
        await refresh(true); // once, for what happened before the subscription
        schedule(nextRead());
      } else if (frame.type === "queue_metrics" && frame.payload && frame.payload.queue_id) {
        renderQueue(frame.payload);
        $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      } else if (frame.type === "alert") {
        applyAlert(frame.payload);
      } else if (frame.type === "error" && mode !== "push") {
        fallBack(); // the subscription was refused (a key that may not watch queues)
      } // pong, a later error, and any type this page does not know: nothing to show
    };
    ws.onerror = () => {}; // onclose follows
    ws.onclose = () => fallBack();
  }

  function begin() {
    mode = "connecting";
    showMode();
    retries = 0;
    clearTimeout(timer);
    if (!apiKey()) {
      closeSocket();
      setStatus("idle", "Enter the tenant's API key.");
      return;
    }
    setStatus("idle", MODE_TEXT[mode]);
    connect();
  }

  function start() {
    takeSettingsFromFragment();
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("api-key").value.trim();
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
      $("api-key").value = "";
      begin();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      renderQueues([]);
      renderAlerts([]);
      begin();
    });
    begin();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
