"""A day report: one simulated contact-center day as one self-contained HTML file, the picture a
contact-center manager looks at first.

    python -m local.day_report [--out report.html] [--from-file day.json] [--hours H] [--seed N]
                               [--load F] [--cost-json bench-cost.json] [--agent-hourly-usd X]
                               [--data-out data.json]

It replays a day with the production routing engine (ccaas.domain.replay, no runtime: a 10-hour day
takes a few seconds) twice, agent-centric and per-queue FIFO (bench/bench_routing.py's two policies), on
the same contacts and agents, and writes:

- a headline: the day's service level against its target, ASA, abandonment, occupancy, contacts, the
  cost per 1,000 contacts, and the intervals that missed the target;
- per 15-minute interval: SL, ASA, abandonment and occupancy of both policies against the Erlang A
  prediction (Erlang C when nobody abandons) for that interval's forecast arrivals, handle time and
  staffed agents, all queues taken as one pool (what a staffing plan assumes; skills-based routing can
  only come close to it), with the offered contacts;
- the agent-centric vs FIFO comparison, queue by queue;
- the cost per 1,000 handled contacts: agent time (staffed agent-hours, and dollars at
  --agent-hourly-usd), and the platform's AWS cost when given a `python -m bench cost` result
  (--cost-json: priced with bench/prices.json as the bench prices it, bench.cost_pricing: as measured
  and at platform scale).

The day: --from-file a ccaas.domain.replay.Day in JSON (as local.replay's --day), or, by default, the
example multi-skill day (ccaas.domain.replay.example_day: four voice queues, 30 agents, T = 20 s, patience
180 s) with an intraday curve (a morning and an afternoon peak, per 15-minute interval, its mean --load
times the example's rates) from 08:00, no warm-up. --from-file also reads a report's own data (written by
--data-out) and only renders it. Interval figures count contacts by the interval they arrived in
(DOMAIN.md definitions, as the replay's totals: SL = answered within T / (offered - abandoned within T);
abandonment without the short abandons under 5 s); occupancy = agent time with a contact / staffed agent
time in the interval.

Errors are one line on stderr (local/cli.py): exit code 2 for a bad argument or input file, 1 for a
failed run; --debug prints the traceback too.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ccaas.domain.replay import (
    SHORT_ABANDON_S,
    ArrivalProfile,
    Day,
    ReplayObserver,
    ReplayResult,
    example_day,
    metrics_from_counts,
    replay,
)
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.staffing import erlang_a_metrics
from local.cli import Parser, UsageError, read_json, run as run_cli, validation_message

PROG = "python -m local.day_report"
INTERVAL_S = 900
REPORT_KIND = "day_report"
OPENS_AT_MS = 1_704_096_000_000  # 2024-01-01 08:00 UTC: the default day's opening (labels only)
COLORS = {"agent-centric": "#1f77b4", "per-queue FIFO": "#ff7f0e", "Erlang": "#555555"}


# --- the day -----------------------------------------------------------------------------------------


def intraday_shape(hours: float) -> list[float]:
    """One factor per 15-minute interval, mean 1: a morning peak (~2 h after opening), a lunch dip and a
    lower afternoon peak (~6 h), on a base of about half the mean."""
    n = max(1, math.ceil(hours * 3600 / INTERVAL_S))
    raw = []
    for k in range(n):
        x = (k + 0.5) * INTERVAL_S / 3600
        raw.append(0.5 + 0.75 * math.exp(-(((x - 2.0) / 1.1) ** 2)) + 0.55 * math.exp(-(((x - 6.0) / 1.4) ** 2)))
    mean = sum(raw) / len(raw)
    return [r / mean for r in raw]


def report_day(seed: int = 1, *, hours: float = 10.0, load: float = 0.8) -> Day:
    """The example multi-skill day (its queues, agents and profiles) with arrivals that follow
    intraday_shape: each queue's rate per interval = its example rate x load x the shape."""
    base = example_day(seed, hours=hours)
    shape = intraday_shape(hours)
    queues = tuple(
        q.model_copy(update={"arrivals": ArrivalProfile(
            rates_per_hour=tuple(round(q.arrivals.rates_per_hour[0] * load * f, 3) for f in shape),  # type: ignore[union-attr]
            interval_s=INTERVAL_S)})
        for q in base.queues
    )  # fmt: skip
    return base.model_copy(update={"name": f"example day, {hours:g} h, load x{load:g}", "queues": queues,
                                   "warmup_s": 0, "start_ms": OPENS_AT_MS})


def fifo_policy(day: Day) -> RoutingPolicy:
    """Per-queue FIFO for `day`: bench_routing's policy (oldest contact first, longest-idle agent), every
    profile of the day cut down to its first-priority queues (a queue takes only its own agents)."""
    from bench.bench_routing import PER_QUEUE_FIFO

    profiles = {}
    for name, queues in day.profiles.items():
        first = min((a.priority for a in queues), default=1)
        profiles[name] = {"queues": [a.model_dump(mode="json") for a in queues if a.priority == first]}
    return RoutingPolicy.model_validate({**PER_QUEUE_FIFO.model_dump(mode="json"), "profiles": profiles})


def policies(day: Day) -> list[RoutingPolicy]:
    from bench.bench_routing import AGENT_CENTRIC

    return [AGENT_CENTRIC, fifo_policy(day)]


# --- the replay, counted per interval ------------------------------------------------------------------


class IntervalCounter(ReplayObserver):
    """Watches a replay (ccaas.domain.replay.ReplayObserver) and counts per interval: contacts by the
    interval they entered their queue in (offered, answered within T, abandoned, wait), agent time with
    a contact and staffed time by the interval it was spent in. The spans are the replay's own, so the
    intervals add up to its totals."""

    def __init__(self, day: Day) -> None:
        self.t0 = day.start_ms
        self.slots: dict[int, Counter[str]] = defaultdict(Counter)

    def _slot(self, at_ms: int) -> int:
        return int((at_ms - self.t0) // (INTERVAL_S * 1000))

    def _spread(self, key: str, lo: int, hi: int) -> None:
        while hi > lo:
            slot = self._slot(lo)
            edge = min(hi, self.t0 + (slot + 1) * INTERVAL_S * 1000)
            self.slots[slot][key] += edge - lo
            lo = edge

    def contact_queued(self, contact_id: str, queue_id: str, at_ms: int, counted: bool) -> None:
        if counted:
            self.slots[self._slot(at_ms)]["offered"] += 1

    def contact_answered(self, contact_id: str, queue_id: str, enqueued_at_ms: int, at_ms: int,
                         sl_threshold_s: float, counted: bool) -> None:
        if counted:
            c = self.slots[self._slot(enqueued_at_ms)]
            c["answered"] += 1
            c["wait_ms"] += at_ms - enqueued_at_ms
            c["answered_within_t"] += at_ms - enqueued_at_ms <= sl_threshold_s * 1000

    def contact_abandoned(self, contact_id: str, queue_id: str, enqueued_at_ms: int, at_ms: int,
                          sl_threshold_s: float, counted: bool) -> None:
        if counted:
            c = self.slots[self._slot(enqueued_at_ms)]
            c["abandoned"] += 1
            c["abandoned_within_t"] += at_ms - enqueued_at_ms <= sl_threshold_s * 1000
            c["short_abandoned"] += at_ms - enqueued_at_ms < SHORT_ABANDON_S * 1000

    def agent_busy(self, agent_id: str, from_ms: int, to_ms: int) -> None:
        self._spread("busy_ms", from_ms, to_ms)

    def agent_staffed(self, agent_id: str, from_ms: int, to_ms: int) -> None:
        self._spread("staffed_ms", from_ms, to_ms)


def interval_metrics(c: Mapping[str, float]) -> dict[str, float | int | None]:
    """One interval's figures from its counts, by the replay's own definitions (ccaas.domain.replay)."""
    m = metrics_from_counts("interval", {
        "offered": c.get("offered", 0), "answered": c.get("answered", 0), "abandoned": c.get("abandoned", 0),
        "answered_within_t": c.get("answered_within_t", 0), "abandoned_within_t": c.get("abandoned_within_t", 0),
        "short_abandoned": c.get("short_abandoned", 0), "wait_s": c.get("wait_ms", 0) / 1000, "handle_s": 0,
        "handled": 0, "busy_s": c.get("busy_ms", 0) / 1000, "staffed_s": c.get("staffed_ms", 0) / 1000,
        "deflected": 0, "closed": 0, "callbacks": 0, "transferred_out": 0, "transferred_in": 0,
    })  # fmt: skip
    return {"offered": m.offered, "answered": m.answered, "abandoned": m.abandoned, "service_level": m.service_level,
            "asa_s": m.asa_s, "abandonment": m.abandonment, "occupancy": m.occupancy,
            "staffed_agents": c.get("staffed_ms", 0) / (INTERVAL_S * 1000)}


# --- Erlang, per interval ------------------------------------------------------------------------------


def _rate_per_hour(profile: ArrivalProfile, lo_s: float, hi_s: float) -> float:
    """The profile's mean rate over [lo_s, hi_s) (its steps may be longer or shorter than an interval)."""
    step, total, t = profile.interval_s, 0.0, lo_s
    while t < hi_s:
        k = int(t // step)
        edge = min(hi_s, (k + 1) * step)
        total += profile.rates_per_hour[k % len(profile.rates_per_hour)] * (edge - t)
        t = edge
    return total / (hi_s - lo_s)


def erlang_prediction(day: Day, slot: int, agents: float, observed_offered: int) -> dict[str, float | None]:
    """Erlang A (C without patience) for one interval, all queues as one pool: the forecast arrivals
    (the queues' profiles; a recorded day: what arrived), their rate-weighted handle time, patience and
    SL threshold, and the agents staffed in the interval (rounded)."""
    lo, hi = slot * INTERVAL_S, (slot + 1) * INTERVAL_S
    rates = [(q, _rate_per_hour(q.arrivals, lo, hi) if q.arrivals else 0.0) for q in day.queues]
    per_hour = sum(r for _, r in rates)
    if day.contacts or not per_hour:
        per_hour = observed_offered * 3600 / INTERVAL_S
        rates = [(q, per_hour / len(day.queues)) for q in day.queues]
    n = int(round(agents))
    if per_hour <= 0 or n <= 0:
        return {"forecast": per_hour * INTERVAL_S / 3600, "agents": n, "load": 0.0, "service_level": None,
                "asa_s": None, "abandonment": None, "occupancy": None}
    weight = {q.queue_id: r / per_hour for q, r in rates}
    aht = sum(q.aht_s * weight[q.queue_id] for q in day.queues)
    patient = [q.patience_s for q in day.queues if weight[q.queue_id] > 0]
    patience = None if any(p is None for p in patient) else sum(
        q.patience_s * weight[q.queue_id] for q in day.queues if q.patience_s)  # type: ignore[operator]
    threshold = sum(q.sl_threshold_s * weight[q.queue_id] for q in day.queues)
    r = erlang_a_metrics(n, arrival_rate=per_hour / 3600, aht_seconds=aht, patience_seconds=patience,
                         threshold_seconds=threshold)
    finite = lambda v: v if v is not None and math.isfinite(v) else None  # noqa: E731
    return {"forecast": per_hour * INTERVAL_S / 3600, "agents": n, "load": r.offered_load,
            "service_level": finite(r.service_level), "asa_s": finite(r.asa_seconds),
            "abandonment": finite(r.p_abandon), "occupancy": finite(min(1.0, r.occupancy))}


# --- the report's data ---------------------------------------------------------------------------------


def clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M")


def simulate(day: Day, seed: int | None = None) -> dict[str, Any]:
    """Both policies over `day` (same seed: the same contacts and agents), counted per interval, with the
    Erlang prediction per interval: the report's data (JSON-ready)."""
    seed = day.seed if seed is None else seed
    started = time.perf_counter()
    runs = []
    for policy in policies(day):
        counter = IntervalCounter(day)
        runs.append((policy.name, replay(day, policy, seed=seed, observer=counter), counter.slots))
    first = int(day.warmup_s // INTERVAL_S)
    last = math.ceil(day.duration_s / INTERVAL_S)
    intervals = []
    for slot in range(first, last):
        row: dict[str, Any] = {"start": clock(day.start_ms + slot * INTERVAL_S * 1000)}
        for name, _, slots in runs:
            row[name] = interval_metrics(slots.get(slot, Counter()))
        staffed = row[runs[0][0]]["staffed_agents"]
        row["erlang"] = erlang_prediction(day, slot, staffed, row[runs[0][0]]["offered"])
        intervals.append(row)
    thresholds = sorted({q.sl_threshold_s for q in day.queues})
    targets = sorted({q.sl_target for q in day.queues})
    return {
        "report": REPORT_KIND,
        "day": {"name": day.name, "seed": seed, "opens": clock(day.start_ms),
                "closes": clock(day.start_ms + int(day.duration_s * 1000)), "hours": day.duration_s / 3600,
                "queues": [q.queue_id for q in day.queues], "agents": sum(g.count for g in day.agents)},
        "sl_target": targets[0] if len(targets) == 1 else None,
        "sl_threshold_s": thresholds[0] if len(thresholds) == 1 else None,
        "policies": [name for name, _, _ in runs],
        "results": {name: result.model_dump(mode="json") for name, result, _ in runs},
        "intervals": intervals,
        "simulated_s": round(time.perf_counter() - started, 2),
    }


def labour(data: Mapping[str, Any], hourly_usd: float | None) -> dict[str, dict[str, float | None]]:
    """Agent time per 1,000 handled contacts (staffed agent-hours), and its dollars at `hourly_usd`."""
    out = {}
    for name in data["policies"]:
        total = data["results"][name]["total"]
        hours = total["staffed_s"] / 3600
        per_1000 = hours / total["handled"] * 1000 if total["handled"] else None
        out[name] = {"agent_hours": hours, "handled": total["handled"], "agent_hours_per_1000": per_1000,
                     "usd_per_1000": None if per_1000 is None or hourly_usd is None else per_1000 * hourly_usd}
    return out


def platform_cost(path: str) -> dict[str, Any]:
    """A `python -m bench cost` result priced again with bench/prices.json the bench's own way
    (bench.cost_pricing.price: its measured run, and its calibration run's per-batch split of each stream
    consumer): $ per 1,000 completed contacts as measured and at platform scale, by service."""
    document = read_json(path, "cost file")
    measured = document.get("measured_run") if isinstance(document, dict) else None
    if not isinstance(measured, dict) or not isinstance(measured.get("counts"), dict):
        raise UsageError(f"cost file {path}: not a `python -m bench cost` result (no measured_run.counts)")
    try:
        from bench.cost_pricing import PLATFORM_CONTACTS_PER_MONTH, price

        priced = price(measured, calibration=document.get("calibration_run"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"cost file {path}: cannot price it: {exc!r}") from exc
    return {"file": Path(path).name, "contacts": measured["counts"].get("contacts"),
            "contacts_per_month": PLATFORM_CONTACTS_PER_MONTH,
            **{k: {"total_usd": priced[k]["total_usd"], "services": priced[k]["services"]} for k in ("measured", "platform")}}


# --- rendering -------------------------------------------------------------------------------------------


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def _sec(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f} s" if x < 120 else f"{x / 60:.1f} min"


def _usd(x: float | None) -> str:
    if x is None:
        return "–"
    return f"${x:,.0f}" if x >= 100 else f"${x:,.2f}" if x >= 0.1 else f"${x:,.3f}"


def charts_png(data: Mapping[str, Any]) -> bytes:
    """The four interval charts (SL, ASA, abandonment, occupancy: both policies and Erlang) as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["intervals"]
    x = list(range(len(rows)))
    names = data["policies"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 7.2), sharex=True)
    panels = [("service_level", "Service level per interval", 100, "%"), ("asa_s", "ASA (answered contacts)", 1, "s"),
              ("abandonment", "Abandonment", 100, "%"), ("occupancy", "Occupancy", 100, "%")]
    for ax, (key, title, scale, unit) in zip(axes.flat, panels):
        def series(values: Sequence[float | None]) -> list[float]:
            return [math.nan if v is None else v * scale for v in values]

        if key == "service_level":
            bars = ax.twinx()
            bars.bar(x, [r[names[0]]["offered"] for r in rows], color="#dddddd", width=0.8, zorder=0)
            bars.set_ylabel("contacts offered", color="#888888")
            bars.tick_params(axis="y", colors="#888888")
            ax.set_zorder(bars.get_zorder() + 1)
            ax.patch.set_visible(False)
            if data.get("sl_target"):
                target = 100 * data["sl_target"]
                ax.axhline(target, color="#d62728", ls=":", lw=1.5, label=f"target {target:.0f} %")
            ax.set_ylim(0, 105)
        for name in names:
            ax.plot(x, series([r[name][key] for r in rows]), color=COLORS.get(name), lw=2, label=name, marker=".", ms=4)
        ax.plot(x, series([r["erlang"][key] for r in rows]), color=COLORS["Erlang"], lw=1.5, ls="--",
                label="Erlang A (one pool)")
        ax.set_title(title, loc="left", fontsize=11)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if key != "service_level":
            ax.set_ylim(bottom=0)
    step = max(1, len(rows) // 10)
    for ax in axes[1]:
        ax.set_xticks(x[::step], [r["start"] for r in rows][::step])
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def headline(data: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers of the summary: the first policy's day, the second's, intervals below target."""
    a, b = data["policies"][:2]
    ta, tb = data["results"][a]["total"], data["results"][b]["total"]
    target = data.get("sl_target")
    rated = [(r["start"], r[a]["service_level"]) for r in data["intervals"] if r[a]["service_level"] is not None]
    below = [(s, v) for s, v in rated if target is not None and v < target]
    worst = min(rated, key=lambda sv: sv[1]) if rated else None
    # Erlang's day: the intervals' predictions weighted by their forecast contacts.
    weights = [(r["erlang"]["forecast"], r["erlang"]["service_level"]) for r in data["intervals"]
               if r["erlang"]["service_level"] is not None]
    forecast = sum(w for w, _ in weights)
    predicted = sum(w * v for w, v in weights) / forecast if forecast else None
    return {"policy": a, "other": b, "total": ta, "other_total": tb, "intervals": len(rated), "below": below,
            "worst": worst, "erlang_sl": predicted}


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2733; background: #f4f6f8; }
header { background: #14202c; color: #fff; padding: 1rem 2rem; }
header h1 { margin: 0; font-size: 1.5rem; }
header p { margin: .25rem 0 0; color: #b8c4cf; }
main { padding: 1rem 2rem 2rem; max-width: 1250px; }
section { background: #fff; border: 1px solid #dde3e8; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; }
.tile { border: 1px solid #dde3e8; border-radius: 6px; padding: .6rem .8rem; border-top: 4px solid #3fb950; }
.tile.bad { border-top-color: #d62728; } .tile.warn { border-top-color: #d29922; } .tile.info { border-top-color: #1f77b4; }
.tile .label { font-size: .8rem; color: #5b6b7a; }
.tile .value { font-size: 1.75rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.tile .note { font-size: .75rem; color: #5b6b7a; }
ul.points { margin: .75rem 0 0; padding-left: 1.2rem; } ul.points li { margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .85rem; }
th, td { border-bottom: 1px solid #e6eaee; padding: .25rem .5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f3f6; font-weight: 600; }
td.below { color: #d62728; font-weight: 600; }
img.charts { width: 100%; height: auto; }
.muted { color: #5b6b7a; font-size: .85rem; }
details summary { cursor: pointer; margin: .5rem 0; }
"""


def _cells(values: Sequence[Any], tag: str = "td") -> str:
    out = []
    for v in values:
        cls = ""
        if isinstance(v, tuple):
            v, cls = v
        out.append(f"<{tag}{f' class={cls!r}' if cls else ''}>{html.escape(str(v))}</{tag}>")
    return "".join(out)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str) -> str:
    return (f'<table id="{table_id}"><thead><tr>{_cells(head, "th")}</tr></thead><tbody>'
            + "".join(f"<tr>{_cells(r)}</tr>" for r in rows) + "</tbody></table>")


def _short(name: str) -> str:
    return "AC" if name == "agent-centric" else "FIFO" if "FIFO" in name else name


def _sl_name(data: Mapping[str, Any]) -> str:
    target, threshold = data.get("sl_target"), data.get("sl_threshold_s")
    return f"SL {100 * target:.0f}/{threshold}" if target and threshold else "Service level"


def _tile(label: str, value: str, note: str, level: str = "") -> str:
    return (f'<div class="tile {level}"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div><div class="note">{html.escape(note)}</div></div>')


def _summary(data: Mapping[str, Any], work: Mapping[str, Any], cost: Mapping[str, Any] | None,
             hourly_usd: float | None) -> str:
    """The headline: tiles for the day (first policy, the other's figure under it) and three sentences."""
    h = headline(data)
    a, b, ta, tb = h["policy"], h["other"], h["total"], h["other_total"]
    target, threshold = data.get("sl_target"), data.get("sl_threshold_s")
    sl, abandoned = ta["service_level"], ta["abandonment"] or 0
    hours = work[a]["agent_hours_per_1000"]
    hours_text = "–" if hours is None else f"{hours:.0f} agent-hours"
    tiles = [
        _tile(f"{_sl_name(data)} · whole day", _pct(sl), f"target {_pct(target, 0)} · {b}: {_pct(tb['service_level'])}",
              "bad" if target is not None and sl is not None and sl < target else ""),
        _tile("ASA · whole day", _sec(ta["asa_s"]), f"{b}: {_sec(tb['asa_s'])}", "info"),
        _tile("Abandoned · whole day", _pct(ta["abandonment"]), f"{b}: {_pct(tb['abandonment'])}",
              "bad" if abandoned > 0.1 else "warn" if abandoned > 0.05 else ""),
        _tile("Occupancy · whole day", _pct(ta["occupancy"]), f"{b}: {_pct(tb['occupancy'])}", "info"),
        _tile("Contacts offered", f"{ta['offered']:,}", f"{ta['answered']:,} answered · {ta['abandoned']:,} abandoned",
              "info"),
    ]
    if hourly_usd:
        tiles.append(_tile("Agents' cost per 1,000 contacts", _usd(work[a]["usd_per_1000"]),
                           f"{hours_text} at ${hourly_usd:g}/h", "info"))
    if cost:
        tiles.append(_tile("Platform cost per 1,000 contacts", _usd(cost["platform"]["total_usd"]),
                           f"AWS at platform scale · {_usd(cost['measured']['total_usd'])} as measured", "info"))
    if not hourly_usd and not cost:
        tiles.append(_tile("Agent time per 1,000 contacts", hours_text.replace(" agent-hours", " h"),
                           "staffed agent-hours (no prices given)", "info"))
    points = []
    if sl is not None and tb["service_level"] is not None:
        asa = "" if ta["asa_s"] is None or tb["asa_s"] is None else f"; ASA {_sec(ta['asa_s'])} against {_sec(tb['asa_s'])}"
        points.append(f"{a} routing answered {_pct(sl)} within {threshold} s against {_pct(tb['service_level'])} "
                      f"under {b} ({100 * (sl - tb['service_level']):+.1f} pt){asa}.")
    if target is not None:
        worst = f" (worst {h['worst'][0]}: {_pct(h['worst'][1])})" if h["worst"] else ""
        which = ", ".join(s for s, _ in h["below"][:12]) + (" …" if len(h["below"]) > 12 else "")
        points.append(f"{len(h['below'])} of {h['intervals']} intervals below the {_pct(target, 0)} target{worst}"
                      + (f": {which}" if which else "") + ".")
    if h["erlang_sl"] is not None:
        points.append(f"Erlang A for the same forecast and staffing, all {data['day']['agents']} agents as one pool, "
                      f"predicts {_pct(h['erlang_sl'])} for the day: the gap is what skills and routing cost.")
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    return f'<div class="tiles">{"".join(tiles)}</div>\n<ul class="points">{items}</ul>'


def _interval_table(data: Mapping[str, Any]) -> str:
    """Interval by interval: forecast, offered, agents, then SL, ASA, abandonment and occupancy of each
    policy and Erlang (an SL below target in red)."""
    names, target = data["policies"], data.get("sl_target")
    metrics = (("SL", "service_level", _pct), ("ASA", "asa_s", _sec), ("aband.", "abandonment", _pct),
               ("occ.", "occupancy", _pct))
    head = ["interval", "forecast", "offered", "agents"] + [
        f"{label} {_short(n)}" for label, _, _ in metrics for n in (*names, "Erlang")]
    rows = []
    for r in data["intervals"]:
        e, first = r["erlang"], r[names[0]]
        row: list[Any] = [r["start"], f"{e['forecast']:.0f}", first["offered"], f"{first['staffed_agents']:.0f}"]
        for _, key, fmt in metrics:
            for name in names:
                v = r[name][key]
                below = key == "service_level" and target is not None and v is not None and v < target
                row.append((fmt(v), "below") if below else fmt(v))
            row.append(fmt(e[key]))
        rows.append(row)
    return _table(head, rows, "interval-table")


def _comparison_table(data: Mapping[str, Any]) -> str:
    """The two policies queue by queue, and all queues together."""
    a, b = data["policies"][:2]
    ra, rb = data["results"][a], data["results"][b]
    head = ["queue", "offered", f"SL {_short(a)}", f"SL {_short(b)}", "Δ SL pt"] + [
        f"{label} {_short(n)}" for label in ("ASA", "aband.", "occ.", "AHT") for n in (a, b)]
    rows = []
    for qa, qb in zip((*ra["queues"], ra["total"]), (*rb["queues"], rb["total"])):
        both = qa["service_level"] is not None and qb["service_level"] is not None
        rows.append([
            "all queues" if qa["queue_id"] == "ALL" else qa["queue_id"], f"{qa['offered']:,}",
            _pct(qa["service_level"]), _pct(qb["service_level"]),
            f"{100 * (qa['service_level'] - qb['service_level']):+.1f}" if both else "–",
            _sec(qa["asa_s"]), _sec(qb["asa_s"]), _pct(qa["abandonment"]), _pct(qb["abandonment"]),
            _pct(qa["occupancy"]), _pct(qb["occupancy"]), _sec(qa["aht_s"]), _sec(qb["aht_s"]),
        ])  # fmt: skip
    return _table(head, rows, "comparison-table")


def _cost_section(work: Mapping[str, Any], cost: Mapping[str, Any] | None, hourly_usd: float | None) -> str:
    """Agent time (and its dollars) per 1,000 handled contacts; the platform's AWS cost when priced."""
    rate = f" at ${hourly_usd:g}/h" if hourly_usd else ""
    rows = [[name, f"{w['handled']:,}", f"{w['agent_hours']:.1f}",
             "–" if w["agent_hours_per_1000"] is None else f"{w['agent_hours_per_1000']:.1f}",
             _usd(w["usd_per_1000"]) if hourly_usd else "–"] for name, w in work.items()]
    out = _table(["policy", "handled contacts", "staffed agent-hours", "agent-hours per 1,000",
                  f"agents' $ per 1,000{rate}"], rows, "labour")
    if not cost:
        return out + ('<p class="muted">AWS platform cost: not priced (run <code>python -m bench cost</code> and '
                      "pass its JSON with <code>--cost-json</code>).</p>")
    platform = {s["service"]: s["usd"] for s in cost["platform"]["services"]}
    measured = {s["service"]: s["usd"] for s in cost["measured"]["services"]}
    out += (f'<p class="muted">AWS platform, priced from {html.escape(cost["file"])} ({cost.get("contacts") or "?"} '
            "completed contacts counted by <code>python -m bench cost</code>) with bench/prices.json: as measured, and "
            f"at platform scale ({cost['contacts_per_month']:,.0f} contacts a month: each stream consumer at the batch "
            "its stream's rate gives, X-Ray traces through its default rule of 1 a second then 5 %).</p>")
    rows = [[service, _usd(measured.get(service)), _usd(usd)] for service, usd in platform.items()]
    rows.append(["total", _usd(cost["measured"]["total_usd"]), _usd(cost["platform"]["total_usd"])])
    return out + _table(["service", "$ per 1,000 as measured", "$ per 1,000 at platform scale"], rows, "platform-cost")


def render_html(data: Mapping[str, Any], cost: Mapping[str, Any] | None, hourly_usd: float | None) -> str:
    """The whole report: one HTML file, its charts embedded (PNG as a data: URL), its data as JSON."""
    a, b = (html.escape(n) for n in data["policies"][:2])
    day = data["day"]
    work = labour(data, hourly_usd)
    png = base64.b64encode(charts_png(data)).decode("ascii")
    payload = json.dumps({**data, "cost": cost, "labour": work}, separators=(",", ":")).replace("</", "<\\/")
    name = html.escape(day["name"])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Day report · {name}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Day report · {name}</h1>
<p>{html.escape(day['opens'])}–{html.escape(day['closes'])} · {len(day['queues'])} queues
({html.escape(', '.join(day['queues']))}) · {day['agents']} agents · seed {day['seed']} · {a} vs {b} on the same contacts</p>
</header>
<main>
<section id="summary"><h2>The day at a glance</h2>
{_summary(data, work, cost, hourly_usd)}
</section>
<section id="intervals"><h2>Per 15-minute interval: {html.escape(_sl_name(data))}, ASA, abandonment, occupancy against Erlang</h2>
<img class="charts" src="data:image/png;base64,{png}"
 alt="service level, ASA, abandonment and occupancy per 15-minute interval, both policies and the Erlang A prediction">
<p class="muted">Contacts counted in the interval they arrived in. Erlang A: the interval's forecast arrivals,
rate-weighted handle time and patience, the agents staffed, all queues as one pool (a plan's assumption: the
lower the gap, the better routing pools the skills).</p>
<details><summary>The numbers, interval by interval</summary>
{_interval_table(data)}
</details>
</section>
<section id="comparison"><h2>{a} vs {b}, queue by queue</h2>
{_comparison_table(data)}
<p class="muted">Same day, same contacts and agents (common random numbers). {a}: every agent serves every queue
it is skilled for (its primary first, the others after a delay), skill steps, scored choice; {b}: every agent
serves its primary queue only, oldest contact first.</p>
</section>
<section id="cost"><h2>Cost per 1,000 contacts</h2>
{_cost_section(work, cost, hourly_usd)}
</section>
<p class="muted">Simulated in {data['simulated_s']:.1f} s by <code>{PROG}</code> (the routing engine's
offline replay, ccaas.domain.replay).</p>
</main>
<script type="application/json" id="report-data">{payload}</script>
</body>
</html>
"""


# --- command line ----------------------------------------------------------------------------------------


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def load_input(path: str, seed: int | None, hours: float | None) -> tuple[Day | None, dict[str, Any] | None]:
    """A Day to simulate, or a report's data to render (written by --data-out)."""
    document = read_json(path, "day file")
    if isinstance(document, dict) and document.get("report") == REPORT_KIND:
        if not isinstance(document.get("intervals"), list) or not isinstance(document.get("results"), dict):
            raise UsageError(f"day file {path}: a day report's data without its intervals or results")
        return None, document
    from pydantic import ValidationError

    try:
        day = Day.model_validate(document)
    except ValidationError as exc:
        raise UsageError(f"day file {path}: invalid {validation_message(exc)}") from exc
    if hours is not None:
        day = day.model_copy(update={"duration_s": hours * 3600})
    if seed is not None:
        day = day.model_copy(update={"seed": seed})
    return day, None


def main(argv: list[str] | None = None) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="day-report.html", help="the HTML file to write (default day-report.html)")
    ap.add_argument("--from-file", dest="from_file",
                    help="a day JSON (ccaas.domain.replay.Day) to simulate, or a report's data (--data-out) to render")
    ap.add_argument("--hours", type=_positive, help="length of the day (default 10; a short day for a quick look)")
    ap.add_argument("--seed", type=int, help="random seed (default 1, or the day file's)")
    ap.add_argument("--load", type=_positive, default=0.8,
                    help="the default day's mean arrivals, times the example day's rates (default 0.8)")
    ap.add_argument("--cost-json", dest="cost_json", help="a `python -m bench cost` result to price the platform from")
    ap.add_argument("--agent-hourly-usd", dest="hourly", type=_positive, help="an agent's loaded cost per hour, $")
    ap.add_argument("--data-out", dest="data_out",
                    help="also write the report's data as JSON (render it again with --from-file)")
    args = ap.parse_args(argv)
    return run_cli(PROG, lambda: _main(args), debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    for target in filter(None, (args.out, args.data_out)):
        if not Path(target).resolve().parent.is_dir():
            raise UsageError(f"{target}: its folder does not exist")
    cost = platform_cost(args.cost_json) if args.cost_json else None  # inputs first: a bad file fails fast
    data = None
    if args.from_file:
        day, data = load_input(args.from_file, args.seed, args.hours)
    else:
        day = report_day(1 if args.seed is None else args.seed, hours=args.hours or 10.0, load=args.load)
    if data is None:
        assert day is not None
        data = simulate(day)
    page = render_html(data, cost, args.hourly)
    out = Path(args.out)
    out.write_text(page, encoding="utf-8")
    if args.data_out:
        Path(args.data_out).write_text(json.dumps(data, indent=1), encoding="utf-8")
    h = headline(data)
    t = h["total"]
    print(f"{out}: {data['day']['name']}, {t['offered']:,} contacts, {h['policy']} SL {_pct(t['service_level'])} "
          f"(target {_pct(data.get('sl_target'), 0)}; {h['other']} {_pct(h['other_total']['service_level'])}), "
          f"{len(h['below'])} of {h['intervals']} intervals below target, simulated in {data['simulated_s']:.1f} s, "
          f"{out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
