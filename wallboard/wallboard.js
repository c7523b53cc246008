// The wallboard: live queue metrics and open alerts of one tenant, refreshed every 2 s.
// No build step, no dependencies. The API is on this page's origin (local runtime: same server;
// AWS: the CloudFront distribution routes /v1/* to API Gateway). The tenant's API key is kept in
// sessionStorage only (gone when the tab closes); `#key=<key>` in the URL is taken once and removed
// from the address bar, for kiosk screens.
"use strict";

(() => {
  const API = (document.querySelector('meta[name="api-base"]')?.content || "/v1").replace(/\/$/, "");
  const KEY_STORAGE = "ccaas.wallboard.apiKey";
  const REFRESH_MS = 2000;
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let inFlight = false;

  // --- the key -------------------------------------------------------------------------------------
  function takeKeyFromFragment() {
    const match = /(?:^#|&)key=([^&]+)/.exec(location.hash);
    if (!match) return;
    sessionStorage.setItem(KEY_STORAGE, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";

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
    el.textContent = text;
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
  ];

  function renderQueues(queues) {
    const body = $("queues").tBodies[0];
    const seen = new Set();
    for (const q of queues) {
      seen.add(q.queue_id);
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
    for (const row of [...body.rows]) if (!seen.has(row.dataset.queue)) row.remove();
  }

  function renderAlerts(alerts) {
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

  // --- the loop ------------------------------------------------------------------------------------
  async function refresh() {
    if (inFlight) return;
    if (!apiKey()) {
      setStatus("idle", "Enter the tenant's API key.");
      return;
    }
    inFlight = true;
    try {
      const [queues, alerts] = await Promise.all([call("GET", "/metrics/realtime"), call("GET", "/alerts?status=open")]);
      renderQueues(queues);
      renderAlerts(alerts);
      setStatus("ok", "Live");
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      setStatus("error", error.message);
    } finally {
      inFlight = false;
    }
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      await refresh();
      schedule(REFRESH_MS);
    }, delay);
  }

  function start() {
    takeKeyFromFragment();
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("api-key").value.trim();
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
      $("api-key").value = "";
      schedule(0);
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      renderQueues([]);
      renderAlerts([]);
      schedule(0);
    });
    schedule(0);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
