// The wallboard: live queue metrics, agents and open alerts of one tenant, pushed over WebSocket, or
// polled every 2 s when no socket can be opened. No build step, no dependencies. The API is on this page's
// origin (local runtime: same server; AWS: the CloudFront distribution routes /v1/* to API Gateway).
// The tenant's API key is kept in sessionStorage only (gone when the tab closes); `#key=<key>` in the
// URL is taken once and removed from the address bar, for kiosk screens.
//
// What it shows, per queue: every big figure says its period ("now", "last 15 min") and, where the queue
// has one, its target (SL 80/20 · target 80 %: the queue's sl_target and sl_threshold_s from GET /queues);
// the small line under it is today's figure; the sparkline is the last 15 minutes of that figure, kept in
// this page from the values it was pushed or polled (sampled again every 5 s, so a steady value still
// draws a line; a fresh page starts with an empty trend). Colours follow the thresholds: the queue's SL
// target, its SL threshold T (estimated wait, ASA), and the tenant's alert rules (GET /alerts/rules: queue
// depth, long wait, not-ready time). Agents (GET /agents): state and not-ready reason (a missed offer
// sets the reservation policy's not-ready status, MISSED by default), since when, contacts handled today.
// Alerts keep the text of their opening; next to it, "now: …" is the current value from the live
// metrics (or the agent's current state). Every open alert is read (each page of GET /alerts) and counted;
// the newest ALERTS_DRAWN are drawn, and a line under them says how many older ones are not. Today's
// abandonment shows the counts its rate is of: short abandons left out, and said ("· 1 short not counted").
//
// Push: the page opens ws(s)://<this origin>/v1?token=<key> (or the URL given once as `#ws=<url>`: the
// local runtime serves its WebSocket API on another port), subscribes to every queue, reads metrics,
// agents, alerts and settings once, then updates a queue from each `queue_metrics` frame and an alert from
// each `alert` frame (unknown frame types are ignored; an alert copy with a lower `sequence` than one already
// seen is stale and dropped). Metrics, agents and open alerts are re-read every 10 s all the same: a queue
// where nothing happens gets no frame, but its last-15-min window slides and its "today" resets (agents
// are not pushed to supervisors; a failed push is not retried). Between reads the oldest wait of a queue
// with contacts waiting ages on the page's clock from when its figures came. When the socket
// cannot open or closes, the page polls the REST API every 2 s and tries the socket again later; the status
// line says which mode it is in. `#poll=0` turns every timed REST read off (the browser test proves the
// tiles move from the socket alone). The periods below are the defaults; `#every=refresh:0.5,journeys:0.5`
// (seconds, any of refresh, resync, campaigns, journeys, sample) sets some for this tab, so that a browser
// test sees the next read within a second rather than waiting out a 30-s period (campaigns and journeys
// ride on the timed reads: no oftener than those).
//
// Campaigns (not on the socket): every running or paused campaign (GET /campaigns) with its metrics (GET
// /campaigns/{id}/metrics, all over its rolling 30 days but calls in flight): status, mode, attempts,
// connects, right-party contacts, abandonment against the campaign's max_abandon_rate (red when over),
// calls in flight, the rules that blocked rows most; agent occupancy and idle time between calls when the
// response has them. Read every 10 s; the panel is hidden while no campaign runs or is paused.
// Journey tests (GET /journeys/results, the latest result of each journey the scheduled runner plays):
// a row per journey, failing first (pass/fail, how long ago, its duration; the failed step and why).
// Read every 30 s; hidden when the endpoint answers 404 (or 403: a key that may not read it) or lists
// none. Both reads ride on the REST reads above (so `#poll=0` reads them once), and a failed read keeps
// what was shown, marked stale, without touching the status line.
"use strict";

(() => {
  const API = (document.querySelector('meta[name="api-base"]')?.content || "/v1").replace(/\/$/, "");
  const KEY_STORAGE = "ccaas.wallboard.apiKey";
  const WS_STORAGE = "ccaas.wallboard.wsUrl";
  const POLL_STORAGE = "ccaas.wallboard.poll";
  const PERIODS_STORAGE = "ccaas.wallboard.periods";
  // The timed reads and samples (ms); `#every=` overrides them (takeSettingsFromFragment).
  const period = {
    refresh: 2000, // without the socket: metrics, agents and alerts every 2 s
    resync: 10000, // with the socket: metrics (quiet queues get no frame), agents and alerts every 10 s
    campaigns: 10000, // campaign metrics (not pushed): every 10 s
    journeys: 30000, // journey results: every 30 s
    sample: 5000, // a trend point every 5 s even when nothing was pushed
  };
  const CONFIG_MS = 5 * 60 * 1000; // queue settings and alert rules: read again every 5 minutes
  const PING_MS = 5 * 60 * 1000; // API Gateway closes a connection after 10 minutes without a frame
  const RETRY_MS = [5000, 15000, 60000]; // trying the socket again after it failed or closed
  const OPEN_MS = 5000; // a socket not subscribed by then counts as failed
  const TREND_MS = 15 * 60 * 1000; // the sparklines' window
  // Abandonment has no target in the queue settings: the wallboard colours it at these shares.
  const ABANDON_WARN = 0.05;
  const ABANDON_BAD = 0.1;
  const MISSED_STATUS = "MISSED"; // the reservation policy's default not-ready status after a missed offer
  const TOP_BLOCKS = 3; // the rules that blocked most rows, by name; the rest summed up
  const JOURNEY_STALE_S = 15 * 60; // a journey result older than this is shown amber (the runner plays every 1-5 min)
  const MAX_PAGES = 1000; // a paged list is read this far (GET /alerts: 200 a page); the page says when there was more
  const ALERTS_DRAWN = 500; // open alerts drawn at most, the newest (all are counted; the page says how many are not)
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let inFlight = false;
  let socket = null;
  let mode = "connecting"; // "push" | "poll" | "connecting"
  let retries = 0;
  let retryTimer = null;
  let pingTimer = null;
  let openTimer = null;

  // What the page knows: queue settings and alert rules (read rarely), the last metrics of each queue,
  // the trends, the agents and the open alerts.
  let settings = {}; // queue id -> Queue (GET /queues)
  let rules = null; // GET /alerts/rules
  let configReadAt = 0;
  const latest = new Map(); // queue id -> RealtimeQueueMetrics
  const receivedAt = new Map(); // queue id -> when its figures came (this page's clock: it may differ from the API's)
  const trends = new Map(); // queue id -> Map(field -> [[epoch ms, value or null], ...])
  let agents = [];
  let shownAlerts = []; // every open alert known, newest first (the first ALERTS_DRAWN drawn)
  let alertsById = new Map();
  let alertsCut = false; // the last read stopped at MAX_PAGES with a next page named: the count is a floor
  const sequences = new Map(); // alert id -> [highest `sequence` seen, when (epoch ms)]
  let campaignsReadAt = 0; // when campaigns and journeys were last asked for (0: at the next read)
  let journeysReadAt = 0;

  // --- the key and the settings from the fragment --------------------------------------------------
  function takeSettingsFromFragment() {
    const given = Object.fromEntries(
      location.hash.replace(/^#/, "").split("&").filter(Boolean).map((part) => {
        const [name, ...value] = part.split("=");
        return [name, decodeURIComponent(value.join("="))];
      })
    );
    if (given.key) sessionStorage.setItem(KEY_STORAGE, given.key);
    if (given.ws && /^wss?:\/\//.test(given.ws)) sessionStorage.setItem(WS_STORAGE, given.ws);
    if (given.poll !== undefined) sessionStorage.setItem(POLL_STORAGE, given.poll === "0" ? "0" : "1");
    if (given.every !== undefined) sessionStorage.setItem(PERIODS_STORAGE, given.every);
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    // "refresh:0.5,journeys:1": each known name with a positive number of seconds; anything else is ignored.
    for (const part of (sessionStorage.getItem(PERIODS_STORAGE) || "").split(",")) {
      const [name, seconds] = part.split(":");
      const ms = Number(seconds) * 1000;
      if (Object.hasOwn(period, name) && Number.isFinite(ms) && ms > 0) period[name] = ms;
    }
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
  const missing = (v) => v === null || v === undefined || Number.isNaN(v);
  function duration(seconds) {
    if (missing(seconds)) return dash;
    if (!Number.isFinite(seconds)) return "∞";
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}:${String(s % 60).padStart(2, "0")}`;
  }
  // "45 s", "12 min", "1 h 05 min": how long ago, for people reading from across the room.
  function elapsed(seconds) {
    if (missing(seconds)) return dash;
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }
  const percent = (v) => (missing(v) ? dash : `${Math.round(v * 100)} %`);
  const count = (v) => (missing(v) ? dash : String(v));
  const secondsSince = (iso) => {
    const ms = Date.now() - Date.parse(iso);
    return Number.isFinite(ms) ? ms / 1000 : null;
  };
  const ago = (iso) => {
    const s = secondsSince(iso);
    return s === null ? "" : `${elapsed(s)} ago`;
  };

  function setStatus(state, text) {
    const el = $("status");
    el.dataset.state = state;
    el.dataset.mode = mode;
    el.textContent = text;
  }
  const every = (ms) => `every ${ms / 1000} s`;
  const MODE_TEXT = {
    push: "Live · pushed over WebSocket",
    get poll() {
      return `Live · polling ${every(period.refresh)} (no WebSocket)`;
    },
    connecting: "Connecting…",
  };
  function showMode() {
    $("mode").textContent = mode === "push" ? "pushed as it changes" : mode === "poll" ? `refreshes ${every(period.refresh)}` : "connecting";
  }
  const stamp = () => {
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  // --- API -----------------------------------------------------------------------------------------
  const fetchUrl = (method, url) => fetch(url, {
    method,
    headers: { Authorization: `Bearer ${apiKey()}`, Accept: "application/json" },
    cache: "no-store",
    credentials: "omit",
  });
  const request = (method, path) => fetchUrl(method, API + path);
  function checked(response, what) {
    if (response.status === 401 || response.status === 403) throw new Error("the API key was rejected");
    if (!response.ok) throw new Error(`${what}: HTTP ${response.status}`);
    return response;
  }
  async function call(method, path) {
    return checked(await request(method, path), `${method} ${path}`).json();
  }
  // A list the API answers in pages (GET /agents, GET /queues: ~4 MB each; GET /alerts: 200 alerts): every page,
  // following the `Link: <…>; rel="next"` header (the next page's path, resolved against the page's own URL) while
  // there is one, up to MAX_PAGES (`cut` on the answer: a next page was still named).
  async function callAll(path) {
    const items = [];
    let url = API + path;
    for (let pages = 0; url && pages < MAX_PAGES; pages++) {
      const response = checked(await fetchUrl("GET", url), `GET ${path}`);
      items.push(...(await response.json()));
      const next = /<([^>]*)>\s*;\s*rel="next"/.exec(response.headers.get("Link") || "");
      url = next ? new URL(next[1], response.url || new URL(url, location.href)).href : null;
    }
    items.cut = Boolean(url);
    return items;
  }
  // A read this page can do without: null when the API has no such route (404) or the key may not read
  // it (403); an Error for anything else.
  async function readOptional(path) {
    const response = await request("GET", path);
    if (response.status === 404 || response.status === 403) return null;
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return response.json();
  }

  // --- thresholds ----------------------------------------------------------------------------------
  const rule = (name) => (rules && rules[name] && rules[name].enabled !== false ? rules[name] : null);
  const slThreshold = (q) => settings[q.queue_id]?.sl_threshold_s ?? null;
  const slTarget = (q) => q.service_level_target ?? settings[q.queue_id]?.sl_target ?? null;
  // "ok" below `warn`, "warn" from it, "bad" from `bad` (either may be null: that step is skipped).
  function above(value, warn, bad) {
    if (missing(value)) return "none";
    if (!missing(bad) && value >= bad) return "bad";
    if (!missing(warn) && value >= warn) return "warn";
    return "ok";
  }
  const pct = (x) => `${Math.round(x * 100)} %`;
  // The oldest wait now: as the figures said, plus the time since they came (no frame comes while a queue
  // is quiet, and its customer keeps waiting).
  function oldestWait(q, now = Date.now()) {
    const at = receivedAt.get(q.queue_id);
    if (missing(q.oldest_wait_s) || !(q.in_queue > 0) || at === undefined) return q.oldest_wait_s;
    return q.oldest_wait_s + Math.max(0, now - at) / 1000;
  }

  // The big figures of a queue: what, over which period, against which target, and the coloured level.
  const FIGURES = [
    {
      field: "in_queue", scale: "count",
      title: () => "In queue", period: () => "now",
      target: () => (rule("queue_depth") ? `alert at ${rule("queue_depth").threshold}` : ""),
      value: (q) => q.in_queue, format: count,
      level: (v) => above(v, 1, rule("queue_depth")?.threshold), // anyone waiting: warn; the alert's depth: bad
      today: (q) => `${count(q.offered)} offered today`,
    },
    {
      field: "oldest_wait", scale: "seconds",
      title: () => "Oldest wait", period: () => "now",
      target: () => (rule("long_wait") ? `alert at ${duration(rule("long_wait").threshold_s)}` : ""),
      value: (q, now) => oldestWait(q, now), format: duration, ticks: true,
      level: (v, q) => above(v ?? 0, slThreshold(q), rule("long_wait")?.threshold_s),
      today: (q) => `SL threshold ${count(slThreshold(q))} s`,
    },
    {
      field: "estimated_wait", scale: "seconds",
      title: () => "Est. wait", period: () => "new contact",
      target: (q) => (slThreshold(q) ? `answer in ${slThreshold(q)} s` : ""),
      value: (q) => q.estimated_wait_s, format: duration,
      level: (v, q) => above(v, slThreshold(q), rule("long_wait")?.threshold_s ?? (slThreshold(q) ? 3 * slThreshold(q) : null)),
      today: (q) => `${count(q.agents_staffed)} agents staffed`,
    },
    {
      field: "service_level", scale: "share",
      title: (q) => {
        const t = slTarget(q), s = slThreshold(q);
        return t !== null && s !== null ? `SL ${Math.round(t * 100)}/${s}` : "Service level";
      },
      period: () => "last 15 min",
      target: (q) => (slTarget(q) !== null ? `target ${pct(slTarget(q))}` : ""),
      value: (q) => q.last_15_minutes?.service_level, format: percent,
      level: (v, q) => {
        const t = slTarget(q);
        if (missing(v) || t === null) return "none";
        return v >= t ? "ok" : v >= t - 0.1 ? "warn" : "bad";
      },
      today: (q) => `today ${percent(q.service_level)}`,
    },
    {
      field: "asa", scale: "seconds",
      title: () => "ASA", period: () => "last 15 min",
      target: (q) => (slThreshold(q) ? `within ${slThreshold(q)} s` : ""),
      value: (q) => q.last_15_minutes?.asa_s, format: duration,
      level: (v, q) => above(v, slThreshold(q), slThreshold(q) ? 2 * slThreshold(q) : null),
      today: (q) => `today ${duration(q.asa_s)}`,
    },
    {
      field: "abandonment", scale: "share",
      title: () => "Abandoned", period: () => "last 15 min",
      target: () => `under ${pct(ABANDON_WARN)}`,
      value: (q) => q.last_15_minutes?.abandonment_rate, format: percent,
      level: (v) => above(v, ABANDON_WARN, ABANDON_BAD),
      today: (q) => `today ${percent(q.abandonment_rate)} · ${abandonsCounted(q)}`,
    },
  ];
  // The short abandons of today (a customer who hung up within the tenant's short_abandon_s): the metrics'
  // `short_abandoned`. The rate leaves them out of both sides by default ((abandoned − short) ÷ (offered − short),
  // DOMAIN.md; the tenant's abandonment_variant) while the raw counts hold them: "0 % · 1 of 2" contradicted itself.
  function shortAbandons(q) {
    return Number.isInteger(q.short_abandoned) ? q.short_abandoned : 0;
  }
  // "3 of 40", or "2 of 39 · 1 short not counted": the counts the rate is of.
  function abandonsCounted(q) {
    const short = shortAbandons(q);
    if (!short) return `${count(q.abandoned)} of ${count(q.offered)}`;
    return `${q.abandoned - short} of ${q.offered - short} · ${short} short not counted`;
  }
  const AGENT_COUNTS = [
    ["agents_available", "available"],
    ["agents_reserved", "offer ringing"],
    ["agents_on_contact", "on contact"],
    ["agents_acw", "after work"],
    ["agents_not_ready", "not ready"],
  ];

  // --- trends (client-side, the last 15 minutes) ---------------------------------------------------
  function sample(q, now = Date.now()) {
    let series = trends.get(q.queue_id);
    if (!series) trends.set(q.queue_id, (series = new Map()));
    for (const f of FIGURES) {
      const v = f.value(q, now);
      const points = series.get(f.field) || [];
      const point = [now, missing(v) || !Number.isFinite(v) ? null : v];
      if (points.length && now - points[points.length - 1][0] < 1000) points[points.length - 1] = point;
      else points.push(point);
      while (points.length && points[0][0] < now - TREND_MS) points.shift();
      series.set(f.field, points);
    }
  }

  const SVG = "http://www.w3.org/2000/svg";
  const W = 120, H = 32;
  function drawSpark(svg, points, f, q, now = Date.now()) {
    const values = points.map((p) => p[1]).filter((v) => v !== null);
    let top = f.scale === "share" ? 1 : Math.max(1, ...values);
    const target = f.field === "service_level" ? slTarget(q) : null;
    const x = (t) => ((t - (now - TREND_MS)) / TREND_MS) * W;
    const y = (v) => H - 2 - (Math.min(v, top) / top) * (H - 4);
    let d = "";
    let pen = false;
    for (const [t, v] of points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(t).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    }
    const line = svg.querySelector("path.line");
    line.setAttribute("d", d.trim() || "M0 0");
    line.classList.toggle("empty", !d);
    const last = [...points].reverse().find((p) => p[1] !== null);
    const dot = svg.querySelector("circle");
    dot.setAttribute("visibility", last ? "visible" : "hidden");
    dot.setAttribute("cx", last ? x(last[0]).toFixed(1) : "0");
    dot.setAttribute("cy", last ? y(last[1]).toFixed(1) : "0");
    const goal = svg.querySelector("line.target"); // the SL target, dashed
    goal.setAttribute("visibility", target !== null ? "visible" : "hidden");
    goal.setAttribute("y1", target !== null ? y(target).toFixed(1) : "0");
    goal.setAttribute("y2", target !== null ? y(target).toFixed(1) : "0");
    svg.dataset.points = String(values.length);
  }

  function sparkline() {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    svg.dataset.points = "0";
    const axis = document.createElementNS(SVG, "line"); // the window's floor: 15 minutes wide
    axis.setAttribute("class", "axis");
    axis.setAttribute("x1", "0");
    axis.setAttribute("x2", String(W));
    axis.setAttribute("y1", String(H - 1));
    axis.setAttribute("y2", String(H - 1));
    const goal = document.createElementNS(SVG, "line");
    goal.setAttribute("class", "target");
    goal.setAttribute("x1", "0");
    goal.setAttribute("x2", String(W));
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("class", "line");
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("r", "2.5");
    svg.append(axis, goal, line, dot);
    return svg;
  }

  // --- queues (textContent only: nothing from the API is parsed as HTML) ---------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function queueCard(queueId) {
    const card = el("article", "queue");
    card.dataset.queue = queueId;
    const head = el("h3");
    head.append(el("span", "queue-id", queueId), el("span", "queue-name"));
    const figures = el("div", "figures");
    for (const f of FIGURES) {
      const box = el("div", "figure");
      box.dataset.field = f.field;
      // Two lines on screen ("SL 80/20" over "last 15 min · target 80 %"), one phrase as text.
      const label = el("div", "label");
      const sub = el("span", "sub");
      sub.append(el("span", "period"), el("span", "sep"), el("span", "target"));
      label.append(el("span", "title"), el("span", "sep", " · "), sub);
      box.append(label, el("div", "value"), el("div", "today"), sparkline());
      figures.append(box);
    }
    const staff = el("p", "staff");
    for (const [field, words] of AGENT_COUNTS) {
      const item = el("span", "count");
      item.dataset.field = field;
      item.append(el("b"), document.createTextNode(` ${words}`));
      staff.append(item);
    }
    const transfers = el("span", "count");
    transfers.dataset.field = "transfers";
    transfers.title = "today: segments transferred out of the queue / into it";
    transfers.append(el("b"), document.createTextNode(" transfers out / in today"));
    staff.append(transfers);
    card.append(head, figures, staff);
    return card;
  }

  // `fresh`: figures just read or pushed (false: the last known ones drawn again).
  function renderQueue(q, now = Date.now(), fresh = true) {
    latest.set(q.queue_id, q);
    if (fresh) receivedAt.set(q.queue_id, now);
    sample(q, now);
    const list = $("queues");
    let card = list.querySelector(`article[data-queue="${CSS.escape(q.queue_id)}"]`);
    if (!card) {
      card = queueCard(q.queue_id);
      list.append(card);
    }
    const name = settings[q.queue_id]?.name;
    card.querySelector(".queue-name").textContent = name && name !== q.queue_id ? name : "";
    const series = trends.get(q.queue_id);
    for (const f of FIGURES) {
      const box = card.querySelector(`.figure[data-field="${f.field}"]`);
      const v = f.value(q, now);
      box.querySelector(".title").textContent = f.title(q);
      box.querySelector(".period").textContent = f.period(q);
      const target = f.target(q);
      box.querySelector(".sub .sep").textContent = target ? " · " : "";
      box.querySelector(".target").textContent = target;
      box.querySelector(".value").textContent = f.format(v);
      box.querySelector(".today").textContent = f.today(q);
      box.dataset.level = f.level(v, q);
      drawSpark(box.querySelector("svg.spark"), series.get(f.field), f, q, now);
    }
    for (const [field] of AGENT_COUNTS) card.querySelector(`[data-field="${field}"] b`).textContent = count(q[field]);
    card.querySelector('[data-field="transfers"] b').textContent = `${count(q.transferred_out)} / ${count(q.transferred_in)}`;
    cardLevel(card);
    renderAlertValues();
  }
  const cardLevel = (card) => {
    card.dataset.level = levelOf(card, "service_level") === "bad" || levelOf(card, "oldest_wait") === "bad" ? "bad" : "ok";
  };
  const levelOf = (card, field) => card.querySelector(`.figure[data-field="${field}"]`).dataset.level;

  // A read's queues. `startedAt`: when the read was asked for; a queue pushed since keeps the frame's newer figures.
  function renderQueues(queues, startedAt = Infinity) {
    const seen = new Set();
    const now = Date.now();
    for (const q of queues) {
      seen.add(q.queue_id);
      if (!(receivedAt.get(q.queue_id) > startedAt)) renderQueue(q, now);
    }
    for (const card of [...$("queues").children]) {
      if (!seen.has(card.dataset.queue)) {
        latest.delete(card.dataset.queue);
        receivedAt.delete(card.dataset.queue);
        trends.delete(card.dataset.queue);
        card.remove();
      }
    }
  }

  // Every 5 s: the last known value of each queue again, so a steady value draws a line.
  function resample() {
    const now = Date.now();
    for (const q of latest.values()) renderQueue(q, now, false);
  }

  // Every second: the figures that move with the clock alone (the oldest wait), value and colour.
  function tickQueues() {
    const now = Date.now();
    for (const card of $("queues").children) {
      const q = latest.get(card.dataset.queue);
      if (!q) continue;
      for (const f of FIGURES.filter((x) => x.ticks)) {
        const box = card.querySelector(`.figure[data-field="${f.field}"]`);
        const v = f.value(q, now);
        box.querySelector(".value").textContent = f.format(v);
        box.dataset.level = f.level(v, q);
      }
      cardLevel(card);
    }
  }

  // --- agents --------------------------------------------------------------------------------------
  const ACTIVITY_ORDER = { NOT_READY: 0, RESERVED: 1, ACW: 2, ON_CONTACT: 3, AVAILABLE: 4, OFFLINE: 5 };
  const ACTIVITY_TEXT = { AVAILABLE: "Available", RESERVED: "Offer ringing", ON_CONTACT: "On contact", ACW: "After work" };
  // Not ready: since the status was set (the reason); otherwise since the activity began.
  const agentSince = (a) => (a.activity === "NOT_READY" ? a.status_since : a.activity_since) || a.status_since;
  function agentState(a) {
    if (a.activity !== "NOT_READY") return ACTIVITY_TEXT[a.activity] || a.activity;
    if (a.status === MISSED_STATUS) return "Not ready · missed an offer";
    return a.status === "NOT_READY" ? "Not ready" : `Not ready · ${a.status}`;
  }
  function agentLevel(a) {
    if (a.activity !== "NOT_READY") return a.activity === "AVAILABLE" ? "ok" : "busy";
    if (a.status === MISSED_STATUS) return "bad";
    const r = rule("agent_not_ready");
    if (!r || (r.ignore_statuses || []).includes(a.status)) return "warn";
    return (secondsSince(agentSince(a)) ?? 0) >= r.threshold_s ? "bad" : "warn";
  }

  function renderAgents(list) {
    agents = list;
    const body = $("agents").tBodies[0];
    const shown = list.filter((a) => a.activity !== "OFFLINE");
    const waited = (a) => -(secondsSince(agentSince(a)) ?? 0);
    shown.sort((a, b) => (ACTIVITY_ORDER[a.activity] ?? 9) - (ACTIVITY_ORDER[b.activity] ?? 9) || waited(a) - waited(b)
      || a.agent_id.localeCompare(b.agent_id));
    body.replaceChildren(
      ...shown.map((a) => {
        const row = document.createElement("tr");
        row.dataset.agent = a.agent_id;
        row.dataset.activity = a.activity;
        row.dataset.status = a.status;
        row.dataset.level = agentLevel(a);
        const name = el("th", "", a.name || a.agent_id);
        name.scope = "row";
        row.append(name);
        const cells = {
          state: agentState(a),
          since: elapsed(secondsSince(agentSince(a))),
          today: count(a.handled_today),
          queues: (a.queues || []).slice().sort((x, y) => (x.priority ?? 1) - (y.priority ?? 1)).map((q) => q.queue_id).join(", "),
        };
        for (const [field, text] of Object.entries(cells)) {
          const cell = row.insertCell();
          cell.dataset.field = field;
          cell.textContent = text;
          if (field === "since") cell.dataset.since = agentSince(a) || "";
        }
        return row;
      })
    );
    const offline = list.filter((a) => a.activity === "OFFLINE");
    $("agents-offline").textContent = offline.length
      ? `Offline (${offline.length}): ${offline.map((a) => a.name || a.agent_id).join(", ")}` : "";
    const by = (activity) => list.filter((a) => a.activity === activity).length;
    $("agent-summary").textContent =
      `${by("AVAILABLE")} available · ${by("ON_CONTACT") + by("RESERVED") + by("ACW")} busy · ${by("NOT_READY")} not ready · ${by("OFFLINE")} offline`;
    renderAlertValues();
  }

  // Every second: the "since" column moves on without a read.
  function tickAgents() {
    for (const cell of $("agents").querySelectorAll('td[data-field="since"]')) {
      cell.textContent = elapsed(secondsSince(cell.dataset.since));
    }
    for (const row of $("agents").tBodies[0].rows) {
      const a = agents.find((x) => x.agent_id === row.dataset.agent);
      if (a) row.dataset.level = agentLevel(a);
    }
  }

  // --- alerts --------------------------------------------------------------------------------------
  // The current value behind an alert (its message keeps the value at opening): {text, level} or null.
  function currentOf(a) {
    const d = a.details || {};
    if (a.queue_id && ["service_level", "long_wait", "queue_depth"].includes(a.rule)) {
      const q = latest.get(a.queue_id);
      if (!q) return null;
      if (a.rule === "queue_depth") {
        return { text: `now ${q.in_queue} in queue`, level: above(q.in_queue, null, d.threshold ?? rule("queue_depth")?.threshold) };
      }
      if (a.rule === "long_wait") {
        const waited = oldestWait(q);
        if (missing(waited)) return { text: "now nobody waiting", level: "ok" };
        return { text: `now oldest waiting ${duration(waited)}`, level: above(waited, null, d.threshold_s) };
      }
      const level = q.last_15_minutes?.service_level;
      const window = d.window_minutes && d.window_minutes !== 15 ? " (last 15 min)" : "";
      const target = d.target ?? slTarget(q);
      return { text: `now SL ${percent(level)}${window}`, level: missing(level) || target === null ? "none" : level >= target ? "ok" : "bad" };
    }
    if (a.rule === "agent_not_ready" && a.agent_id) {
      const agent = agents.find((x) => x.agent_id === a.agent_id);
      if (!agent) return null;
      if (agent.activity !== "NOT_READY") return { text: `now ${agentState(agent).toLowerCase()}`, level: "ok" };
      return { text: `now not ready (${agent.status}) for ${elapsed(secondsSince(agent.status_since))}`, level: "bad" };
    }
    return null;
  }

  function renderAlertValues() {
    for (const item of $("alerts").children) {
      const a = alertsById.get(item.dataset.alertId);
      if (!a) continue;
      const now = currentOf(a);
      const current = item.querySelector(".current");
      current.textContent = now ? now.text : "";
      current.dataset.level = now ? now.level : "none";
      item.querySelector(".when").textContent = a.status === "ACKNOWLEDGED"
        ? `acknowledged · opened ${ago(a.opened_at)}` : `opened ${ago(a.opened_at)}`;
    }
  }

  // Whether this copy of an alert is as new as any seen: `sequence` is its place in its one-way life (OPEN 1,
  // ACKNOWLEDGED 2, RESOLVED 3) and pushes or reads can overtake one another (an acknowledgement pushed after
  // the resolution). The highest is kept, for a while after it was last seen.
  function isCurrent(alert, now = Date.now()) {
    const sequence = Number(alert.sequence);
    if (!Number.isFinite(sequence)) return true; // an API without it
    const seen = sequences.get(alert.alert_id);
    if (seen && sequence < seen[0]) return false;
    sequences.set(alert.alert_id, [sequence, now]);
    return true;
  }
  const SEQUENCE_KEEP_MS = 10 * 60 * 1000; // far longer than a push or a read can be late

  // `read`: the open alerts as read, or as a frame left them. A copy older than one seen gives way to the
  // shown one (none when that one was resolved).
  function renderAlerts(read) {
    const now = Date.now();
    const alerts = read.map((a) => (isCurrent(a, now) ? a : shownAlerts.find((x) => x.alert_id === a.alert_id))).filter(Boolean);
    for (const [id, [, at]] of sequences) {
      if (at < now - SEQUENCE_KEEP_MS && !alerts.some((a) => a.alert_id === id)) sequences.delete(id);
    }
    shownAlerts = alerts;
    alertsById = new Map(alerts.map((a) => [a.alert_id, a]));
    const drawn = alerts.slice(0, ALERTS_DRAWN);
    const list = $("alerts");
    list.replaceChildren(
      ...drawn.map((a) => {
        const item = document.createElement("li");
        item.dataset.alertId = a.alert_id;
        item.dataset.rule = a.rule;
        item.dataset.queue = a.queue_id || "";
        item.dataset.severity = a.severity;
        item.dataset.status = a.status;
        const message = el("span", "message", a.message);
        message.title = "as it was when the alert opened";
        item.append(el("span", "severity", a.severity), message, el("span", "current"), el("span", "when"));
        if (a.status === "OPEN") {
          const ack = el("button", "", "Acknowledge");
          ack.type = "button";
          ack.addEventListener("click", () => acknowledge(a.alert_id, ack));
          item.append(ack);
        }
        return item;
      })
    );
    const total = `${alerts.length}${alertsCut ? "+" : ""}`;
    $("alert-count").textContent = total;
    $("alert-count").dataset.count = String(alerts.length);
    const older = `${alerts.length - drawn.length}${alertsCut ? "+" : ""}`;
    $("alerts-more").textContent = drawn.length < alerts.length || alertsCut
      ? `The newest ${drawn.length} of ${total} open alerts are shown; the ${older} older are not.` : "";
    renderAlertValues();
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
    if (!alert || !alert.alert_id || !isCurrent(alert)) return;
    const others = shownAlerts.filter((a) => a.alert_id !== alert.alert_id);
    renderAlerts(alert.status === "RESOLVED" ? others : [alert, ...others]);
  }

  // --- campaigns (GET /campaigns, GET /campaigns/{id}/metrics: read, never pushed) ------------------
  const SHOWN_CAMPAIGNS = ["running", "paused"];
  const campaignStatus = (c) => String(c?.status ?? "").toLowerCase();
  const abandonLevel = (m) => {
    if (missing(m.abandonment_rate) || missing(m.max_abandon_rate)) return "none";
    if (m.abandonment_rate > m.max_abandon_rate) return "bad";
    return m.abandonment_rate >= 0.8 * m.max_abandon_rate ? "warn" : "ok";
  };
  const percent1 = (v) => (missing(v) ? dash : `${(v * 100).toFixed(1)} %`); // the cap is 3 %: tenths matter
  const share = (part, whole) => (missing(part) || missing(whole) || whole <= 0 ? null : part / whole);
  // The big figures of a campaign. `optional` ones are shown only when the metrics carry a value (fields
  // that newer APIs add: an older API, or a null, leaves them out). `level` "plain": no target, white.
  const CAMPAIGN_FIGURES = [
    {
      field: "attempts", title: "Attempts", period: "30 days", value: (m) => m.attempts, format: count,
      note: (m) => (missing(m.rows_due_now) ? "" : `${m.rows_due_now}${m.rows_due_now >= 100 ? "+" : ""} rows due now`),
    },
    {
      field: "connects", title: "Connects", period: "30 days", value: (m) => m.connects, format: count,
      note: (m) => (missing(m.human_answered) ? "" : `of ${m.human_answered} answered`),
    },
    {
      field: "right_party_contacts", title: "Right party", period: "30 days", value: (m) => m.right_party_contacts, format: count,
      note: (m) => (share(m.right_party_contacts, m.connects) === null ? "" : `${percent(share(m.right_party_contacts, m.connects))} of connects`),
    },
    {
      field: "abandonment", title: "Abandoned", period: "rolling 30 days",
      target: (m) => (missing(m.max_abandon_rate) ? "" : `max ${percent1(m.max_abandon_rate)}`),
      value: (m) => m.abandonment_rate, format: percent1, level: abandonLevel,
      note: (m) => (missing(m.abandoned) ? "" : `${m.abandoned} of ${count(m.human_answered)} answered`),
    },
    {
      field: "calls_in_flight", title: "In flight", period: "now", value: (m) => m.calls_in_flight, format: count,
      note: (m) => (m.dial_errors ? `${m.dial_errors} dial error${m.dial_errors > 1 ? "s" : ""}` : ""),
    },
    {
      field: "occupancy", title: "Occupancy", period: "agents", optional: true, value: (m) => m.occupancy, format: percent,
      note: () => "time on calls",
    },
    {
      field: "idle_between_calls", title: "Idle", period: "between calls", optional: true,
      value: (m) => m.idle_between_calls_s, format: duration, note: () => "average",
    },
  ];
  const ruleName = (name) => name.replace(/[_.]+/g, " ");

  // Running and paused campaigns with their metrics (null metrics: that campaign's read failed); null
  // when the key may not list campaigns (or the API has none).
  async function readCampaigns() {
    const list = await readOptional("/campaigns");
    if (!Array.isArray(list)) return null;
    const shown = list.filter((c) => SHOWN_CAMPAIGNS.includes(campaignStatus(c)));
    const metrics = await Promise.all(
      shown.map((c) => call("GET", `/campaigns/${encodeURIComponent(c.campaign_id)}/metrics`).catch(() => null))
    );
    return shown.map((campaign, i) => ({ campaign, metrics: metrics[i] }));
  }

  function campaignFigure(f, m) {
    const box = el("div", "figure");
    box.dataset.field = f.field;
    const label = el("div", "label");
    const sub = el("span", "sub");
    const target = f.target ? f.target(m) : "";
    sub.append(el("span", "period", f.period), el("span", "sep", target ? " · " : ""), el("span", "target", target));
    label.append(el("span", "title", f.title), el("span", "sep", " · "), sub);
    const v = f.value(m);
    box.append(label, el("div", "value", f.format(v)), el("div", "today", f.note(m)));
    box.dataset.level = f.level ? f.level(m) : missing(v) ? "none" : "plain";
    return box;
  }

  function campaignCard({ campaign, metrics }) {
    const m = metrics || {};
    const status = campaignStatus(metrics || campaign);
    const card = el("article", "campaign");
    card.dataset.campaign = campaign.campaign_id;
    card.dataset.status = status;
    const head = el("h3");
    const badge = el("span", "badge", status.toUpperCase());
    badge.dataset.status = status;
    head.append(el("span", "campaign-name", campaign.name || campaign.campaign_id), badge,
      el("span", "campaign-mode", `${m.mode || campaign.mode || ""} · ${campaign.queue_id || ""}`.replace(/^ · | · $/g, "")));
    if (campaign.name && campaign.name !== campaign.campaign_id) head.append(el("span", "campaign-id", campaign.campaign_id));
    const figures = el("div", "figures");
    if (metrics) {
      for (const f of CAMPAIGN_FIGURES) {
        if (f.optional && missing(f.value(m))) continue;
        figures.append(campaignFigure(f, m));
      }
    } else {
      figures.append(el("p", "unread", "metrics could not be read"));
    }
    const blocks = el("p", "blocks");
    const ranked = Object.entries(m.blocks_by_rule || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    blocks.append(el("span", "blocks-title", "Blocked by rule · 30 days"));
    if (!metrics) blocks.append(el("span", "none", dash));
    else if (!ranked.length) blocks.append(el("span", "none", "no row blocked"));
    for (const [rule, n] of ranked.slice(0, TOP_BLOCKS)) {
      const item = el("span", "block");
      item.dataset.rule = rule;
      item.append(el("b", "", String(n)), document.createTextNode(` ${ruleName(rule)}`));
      blocks.append(item);
    }
    if (ranked.length > TOP_BLOCKS) {
      const rest = ranked.slice(TOP_BLOCKS);
      const more = el("span", "more", `+${rest.reduce((t, [, n]) => t + n, 0)} by ${rest.length} other rule${rest.length > 1 ? "s" : ""}`);
      more.title = rest.map(([r, n]) => `${ruleName(r)}: ${n}`).join(", ");
      blocks.append(more);
    }
    card.dataset.level = !metrics ? "none" : abandonLevel(m) === "bad" ? "bad" : status === "paused" ? "warn" : "ok";
    card.append(head, figures, blocks);
    return card;
  }

  // `shown`: readCampaigns()'s answer; undefined = the read failed (what was shown stays, marked stale).
  function renderCampaigns(shown) {
    const panel = $("campaigns-panel");
    if (shown === undefined) {
      panel.dataset.stale = "true";
      return;
    }
    panel.dataset.stale = "false";
    const list = (shown || []).slice().sort((a, b) =>
      SHOWN_CAMPAIGNS.indexOf(campaignStatus(a.metrics || a.campaign)) - SHOWN_CAMPAIGNS.indexOf(campaignStatus(b.metrics || b.campaign))
      || (a.campaign.name || a.campaign.campaign_id).localeCompare(b.campaign.name || b.campaign.campaign_id));
    $("campaigns").replaceChildren(...list.map(campaignCard));
    panel.hidden = list.length === 0;
    const running = list.filter((c) => campaignStatus(c.metrics || c.campaign) === "running").length;
    $("campaign-summary").textContent = list.length ? `${running} running · ${list.length - running} paused` : "";
  }

  // --- journey tests (GET /journeys/results: the latest result of each journey) -------------------
  const took = (ms) => (missing(ms) ? "" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
  function journeyRow(j) {
    const item = el("li");
    item.dataset.journey = j.journey;
    item.dataset.passed = String(Boolean(j.passed));
    const mark = el("span", "mark", j.passed ? "PASS" : "FAIL");
    const age = el("span", "age");
    age.dataset.at = j.at || "";
    item.append(mark, el("span", "name", j.journey), age, el("span", "took", took(j.total_ms)));
    if (!j.passed) {
      const failure = el("span", "failure");
      if (j.failed_step) failure.append(el("b", "", j.failed_step), document.createTextNode(j.failure ? `: ${j.failure}` : ""));
      else failure.textContent = j.failure || "failed";
      item.append(failure);
    }
    return item;
  }

  function tickJourneys() {
    for (const item of $("journeys").children) {
      const age = item.querySelector(".age");
      const s = secondsSince(age.dataset.at);
      age.textContent = s === null ? dash : `${elapsed(s)} ago`;
      item.dataset.level = item.dataset.passed !== "true" ? "bad" : s === null || s >= JOURNEY_STALE_S ? "warn" : "ok";
    }
  }

  // `body`: the endpoint's answer; null = no such endpoint (404) or not for this key (403): hidden;
  // undefined = the read failed (what was shown stays, marked stale).
  function renderJourneys(body) {
    const panel = $("journeys-panel");
    if (body === undefined) {
      panel.dataset.stale = "true";
      return;
    }
    panel.dataset.stale = "false";
    const list = Array.isArray(body?.journeys) ? body.journeys.filter((j) => j && j.journey) : [];
    const journeys = list.slice().sort((a, b) => Number(Boolean(a.passed)) - Number(Boolean(b.passed)) || a.journey.localeCompare(b.journey));
    $("journeys").replaceChildren(...journeys.map(journeyRow));
    const warnings = Array.isArray(body?.warnings) ? body.warnings.filter((w) => typeof w === "string" && w) : [];
    $("journey-warnings").replaceChildren(...warnings.map((w) => el("li", "", w)));
    const failing = journeys.filter((j) => !j.passed).length;
    const summary = $("journey-summary");
    summary.textContent = failing ? `${failing} failing · ${journeys.length - failing} passing` : `all ${journeys.length} passing`;
    summary.dataset.failing = String(failing);
    panel.hidden = journeys.length === 0;
    tickJourneys();
  }

  function clearExtras() {
    campaignsReadAt = journeysReadAt = 0;
    renderCampaigns([]);
    renderJourneys(null);
  }

  // --- REST reads ----------------------------------------------------------------------------------
  async function refresh() {
    if (inFlight) return;
    if (!apiKey()) {
      setStatus("idle", "Enter the tenant's API key.");
      return;
    }
    inFlight = true;
    const withConfig = Date.now() - configReadAt > CONFIG_MS;
    // Campaigns and journeys ride on these reads, when due (half a read's period early rather than a
    // whole period late); their failure is theirs alone.
    const due = (readAt, ms) => Date.now() - readAt >= ms - period.refresh / 2;
    const withCampaigns = due(campaignsReadAt, period.campaigns);
    const withJourneys = due(journeysReadAt, period.journeys);
    if (withCampaigns) campaignsReadAt = Date.now();
    if (withJourneys) journeysReadAt = Date.now();
    const startedAt = Date.now();
    try {
      // Settings and rules only label and colour: a key that may not read them still sees the figures.
      const [queues, alerts, staff, queueSettings, alertRules, campaigns, journeyResults] = await Promise.all([
        call("GET", "/metrics/realtime"),
        callAll("/alerts?status=open&limit=200"), // every page: the oldest open alerts were left out
        callAll("/agents"),
        withConfig ? callAll("/queues").catch(() => null) : null,
        withConfig ? call("GET", "/alerts/rules").catch(() => null) : null,
        withCampaigns ? readCampaigns().catch(() => undefined) : undefined,
        withJourneys ? readOptional("/journeys/results").catch(() => undefined) : undefined,
      ]);
      if (withConfig) configReadAt = Date.now();
      if (queueSettings) settings = Object.fromEntries(queueSettings.map((q) => [q.queue_id, q]));
      if (alertRules) rules = alertRules;
      renderAgents(staff);
      renderQueues(queues, startedAt);
      alertsCut = alerts.cut;
      renderAlerts(alerts);
      if (withCampaigns) renderCampaigns(campaigns);
      if (withJourneys) renderJourneys(journeyResults);
      setStatus("ok", MODE_TEXT[mode]);
      stamp();
    } catch (error) {
      setStatus("error", error.message);
    } finally {
      inFlight = false;
    }
  }

  // Polling: metrics, agents and alerts every 2 s without a socket; with one, every 10 s (frames come only
  // when something happens: a quiet queue's windows slide and its day ends all the same); nothing timed with #poll=0.
  const nextRead = () => (mode === "push" ? period.resync : period.refresh);
  function schedule(delay) {
    clearTimeout(timer);
    if (!pollingAllowed() && delay > 0) return;
    timer = setTimeout(async () => {
      await refresh();
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
        await refresh(); // once, for what happened before the subscription
        schedule(nextRead());
      } else if (frame.type === "queue_metrics" && frame.payload && frame.payload.queue_id) {
        renderQueue(frame.payload);
        stamp();
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
    configReadAt = 0;
    campaignsReadAt = journeysReadAt = 0;
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
      renderAgents([]);
      alertsCut = false;
      renderAlerts([]);
      clearExtras();
      begin();
    });
    setInterval(() => {
      tickQueues();
      tickAgents();
      renderAlertValues();
      tickJourneys();
    }, 1000);
    setInterval(resample, period.sample);
    begin();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
