"""Plot a day's forecast vs actual offered contacts and the agents it needs, per 15-minute interval.

    python -m local.plot_forecast --input history.json --queue Q --day 2026-11-20 --out forecast.png
    python -m local.plot_forecast --synthetic --queue support --day 2026-11-20 --out forecast.png

The model trains on the history before --day and forecasts --day; actuals for --day are drawn when the
history has them. Input JSON: a list of interval records, or {"tenant_id": …, "timezone": "Europe/Berlin",
"intervals": [...]}; a record is {"queue_id" (or "queue"), "channel", "interval_start" (ISO 8601; with an
offset it is converted to the time zone), "offered", "aht_seconds" (or null), optional "handled" (the
contacts the AHT is the mean of: the AHT is weighted by it; default all offered) and "tenant_id"}.

Errors are one line on stderr (local/cli.py): exit code 2 for a bad argument or a history file that is
missing, not JSON or not as above (the file and the first wrong field named), 1 when the API cannot be
reached or refuses (the URL tried, the status and the server's message); --debug prints the traceback too.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from types import SimpleNamespace
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccaas.domain.forecast import (
    ForecastInterval,
    HistoryPoint,
    PlanInterval,
    fit_forecaster,
    slot_of,
    staffing_plan,
    synthetic_history,
)
from local.cli import Failure, Parser, UsageError, read_json, run

PROG = "python -m local.plot_forecast"
SUBTITLE_WIDTH = 150  # characters a subtitle line wraps at: the 13-inch figure holds ~190 at 11 pt


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(prog=PROG, description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="JSON history file")
    source.add_argument("--synthetic", action="store_true", help="generate a seeded synthetic history instead")
    source.add_argument("--api", help="a running backend's API base URL (make run's, or ApiUrl on AWS): plots "
                        "GET /forecast/staffing, fitted on the tenant's stored history; with --key")
    parser.add_argument("--key", help="the tenant's API key (with --api): the key names the tenant")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--channel", help="needed when the queue has history on several channels (a file); with "
                        "--api, that channel's forecast and actuals (default: the queue's channels summed)")
    parser.add_argument("--tenant", help="keep only records of this tenant_id")
    parser.add_argument("--day", required=True, type=_day, help="day to forecast, YYYY-MM-DD")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write")
    parser.add_argument("--tz", help="tenant time zone, e.g. Europe/Berlin (default: the file's 'timezone')")
    parser.add_argument("--weeks", type=int, default=8, help="weeks of synthetic history before --day")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic history")
    parser.add_argument("--sl", type=float, default=0.8, help="service-level target, e.g. 0.8")
    parser.add_argument("--threshold", type=float, default=20.0, help="service-level threshold in seconds")
    parser.add_argument("--patience", type=float, default=120.0, help="mean patience (s) for Erlang A")
    parser.add_argument("--shrinkage", type=float, default=0.3)
    parser.add_argument("--fallback-aht", type=float, default=300.0, help="AHT (s) where history has none")
    return parser.parse_args(argv)


def _zone(name: str | None, where: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"{where}: unknown time zone {name!r} (an IANA name such as Europe/Berlin)") from None


def _records(path: Path, document: Any) -> list[dict]:
    """The interval records of a history document, each checked; the first wrong field is a UsageError."""
    def bad(where: str, what: str) -> UsageError:
        return UsageError(f"history {path}: invalid {where}: {what}")

    if isinstance(document, dict):
        if "intervals" not in document:
            raise bad("intervals", "field required (a list of interval records)")
        records, prefix = document["intervals"], "intervals"
        if document.get("timezone") is not None and not isinstance(document["timezone"], str):
            raise bad("timezone", "should be a time zone name")
    else:
        records, prefix = document, ""
    if not isinstance(records, list):
        raise bad(prefix or "(the document)", "should be a list of interval records (or an object with 'intervals')")
    for i, r in enumerate(records):
        at = f"{prefix}[{i}]"
        if not isinstance(r, dict):
            raise bad(at, "should be an object")
        if not isinstance(r.get("queue_id") or r.get("queue"), str):
            raise bad(f"{at}.queue_id", "field required (a string; or 'queue')")
        if not isinstance(r.get("channel", "VOICE"), str):
            raise bad(f"{at}.channel", "should be a string")
        try:
            datetime.fromisoformat(r["interval_start"])
        except KeyError:
            raise bad(f"{at}.interval_start", "field required (ISO 8601)") from None
        except (TypeError, ValueError):
            raise bad(f"{at}.interval_start", f"not an ISO 8601 time: {r['interval_start']!r}") from None
        if "offered" not in r:
            raise bad(f"{at}.offered", "field required")
        if isinstance(r["offered"], bool) or not isinstance(r["offered"], (int, float)) or r["offered"] < 0:
            raise bad(f"{at}.offered", f"should be a count of at least 0, got {r['offered']!r}")
        aht = r.get("aht_seconds")
        if aht is not None and (isinstance(aht, bool) or not isinstance(aht, (int, float)) or aht < 0):
            raise bad(f"{at}.aht_seconds", f"should be seconds (or null), got {aht!r}")
        handled = r.get("handled")
        if handled is not None and (isinstance(handled, bool) or not isinstance(handled, (int, float)) or handled < 0):
            raise bad(f"{at}.handled", f"should be a count of at least 0 (or null), got {handled!r}")
    return records


def load_history(path: Path, *, queue: str, channel: str | None, tenant: str | None,
                 tz_name: str | None) -> tuple[list[HistoryPoint], str | None, str, str | None]:
    """Points of one (queue, channel) from a JSON file: (points, time zone name, channel, tenant)."""
    document = read_json(path, "history")
    records = _records(path, document)
    zone = tz_name or (document.get("timezone") if isinstance(document, dict) else None)
    file_tenant = document.get("tenant_id") if isinstance(document, dict) else None
    mine = [r for r in records
            if (r.get("queue_id") or r.get("queue")) == queue
            and (tenant is None or r.get("tenant_id", file_tenant) == tenant)]
    channels = sorted({r.get("channel", "VOICE") for r in mine})
    if not mine:
        raise UsageError(f"no history for queue {queue!r} in {path}")
    if channel is None:
        if len(channels) > 1:
            raise UsageError(f"queue {queue!r} has several channels {channels}: pick one with --channel")
        channel = channels[0]
    points = [HistoryPoint(datetime.fromisoformat(r["interval_start"]), int(r["offered"]), r.get("aht_seconds"),
                           None if r.get("handled") is None else int(r["handled"]))
              for r in mine if r.get("channel", "VOICE") == channel]
    if not points:
        raise UsageError(f"no history for queue {queue!r} on channel {channel}")
    return points, zone, channel, tenant or file_tenant


def _actuals(points: Sequence[HistoryPoint], day: date, tz: ZoneInfo | None) -> dict[tuple[int, int], float]:
    """(slot, fold) → offered on `day`."""
    found: dict[tuple[int, int], float] = {}
    for point in points:
        local = point.interval_start.astimezone(tz) if tz and point.interval_start.tzinfo else point.interval_start
        if local.date() == day:
            key = (slot_of(local), local.fold)
            found[key] = found.get(key, 0.0) + point.offered
    return found


def render(path: Path, *, title: str, forecast: Sequence[ForecastInterval], plan: Sequence[PlanInterval],
           actual: dict[tuple[int, int], float] | None, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = list(range(len(forecast)))
    # The repeated hour when DST ends shows twice; mark its second pass.
    labels = [f.interval_start.strftime("%H:%M") + (" (2nd)" if f.interval_start.fold else "") for f in forecast]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 8), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(positions, [f.offered for f in forecast], drawstyle="steps-post", color="tab:blue", lw=2,
             label="forecast offered")
    if actual is not None:
        values = [actual.get((slot_of(f.interval_start), f.interval_start.fold), 0.0) for f in forecast]
        top.bar(positions, values, width=1.0, align="edge", color="tab:gray", alpha=0.45, label="actual offered")
    top.set_ylabel("contacts per 15 min")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    # Wrapped: one unbroken line wider than the figure is cut off at both edges (the title is centred).
    lines = [wrapped for line in subtitle.split("\n") for wrapped in textwrap.wrap(line, SUBTITLE_WIDTH) or [""]]
    top.set_title("\n".join([title, *lines]), fontsize=11)

    bottom.plot(positions, [p.required_erlang_c for p in plan], drawstyle="steps-post", lw=2, color="tab:red",
                label="required (Erlang C)")
    if plan and plan[0].required_erlang_a is not None:
        bottom.plot(positions, [p.required_erlang_a for p in plan], drawstyle="steps-post", lw=2, color="tab:green",
                    label="required (Erlang A)")
    bottom.plot(positions, [p.scheduled for p in plan], drawstyle="steps-post", lw=1.5, ls="--", color="tab:purple",
                label="scheduled (after shrinkage)")
    bottom.set_ylabel("agents")
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    ticks = positions[::8]
    bottom.set_xticks(ticks, [labels[i] for i in ticks], rotation=45)
    bottom.set_xlabel("interval start (tenant local time)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def from_api(args: argparse.Namespace) -> int:
    """The tenant's own forecast: the backend fits it on the History table; actuals from the KPIs."""
    import urllib.error
    import urllib.parse
    import urllib.request

    def get(path: str, **query: str) -> Any:
        """The JSON answer; an unreachable API or a refusal is one Failure: the URL, the status, the message."""
        url = f"{args.api.rstrip('/')}{path}?{urllib.parse.urlencode(query)}"
        try:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {args.key}"})
        except ValueError as exc:  # not a URL
            raise UsageError(f"--api {args.api!r}: {exc}") from exc
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the user's own API
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise Failure(f"GET {url}: HTTP {exc.code}: {_server_message(exc)}") from exc
        except urllib.error.URLError as exc:
            raise Failure(f"GET {url}: cannot reach the API: {getattr(exc.reason, 'strerror', None) or exc.reason}") \
                from exc
        except (TimeoutError, OSError) as exc:
            raise Failure(f"GET {url}: cannot reach the API: {exc.strerror or exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise Failure(f"GET {url}: the answer is not JSON: {body[:80]!r}") from exc

    query = {"queue": args.queue, "date": args.day.isoformat(), "shrinkage": str(args.shrinkage)}
    if args.channel:
        query["channel"] = args.channel
    staffing = get("/forecast/staffing", **query)
    if not isinstance(staffing, dict) or not staffing.get("intervals"):
        raise Failure(f"{args.api.rstrip('/')}/forecast/staffing answered without intervals: is --api the API base "
                      "URL (ending /v1)?")
    tz = ZoneInfo(staffing["time_zone"])
    rows = staffing["intervals"]
    forecast = [ForecastInterval(datetime.fromisoformat(r["interval_start"]), r["forecast_offered"], r["aht_s"]) for r in rows]
    plan = [SimpleNamespace(required_erlang_c=r["required_erlang_c"], required_erlang_a=r["required_erlang_a"],
                            scheduled=r["scheduled"]) for r in rows]
    start, end = rows[0]["interval_start"], (datetime.fromisoformat(rows[-1]["interval_start"]) + timedelta(minutes=15)).isoformat()
    # The actuals of what was forecast: the queue's channels summed, or only --channel's (as the forecast).
    group_by = "queue" if not args.channel else "queue,channel"
    kpis = get("/metrics/historical", **{"from": start, "to": end, "interval": "15m", "group_by": group_by})
    actual = _api_actuals(kpis, queue=args.queue, channel=args.channel, tz=tz)
    forecast_total = sum(f.offered for f in forecast)
    # The numbers of this plot; the method is the API's `method` text (and README), too long for a subtitle.
    subtitle = (f"forecast {forecast_total:,.0f} contacts, history {staffing['history_from']}..{staffing['history_to']}"
                f", trend {100 * (staffing['trend_per_week'] - 1):+.1f} %/week; peak "
                f"{max(p.required_erlang_c for p in plan)} agents (Erlang C), target {staffing['sl_target']:.0%} in "
                f"{staffing['sl_threshold_s']} s, shrinkage {staffing['shrinkage']:.0%}")
    if staffing.get("patience_s") is not None:
        subtitle += f", patience {staffing['patience_s']:.0f} s"
    if actual:
        subtitle += "\n" + _versus_actual(forecast, actual)
    for warning in staffing.get("warnings") or []:
        subtitle += f"\n{warning}"
    channel = staffing.get("channel") or "all channels"
    render(args.out, title=f"{args.queue} / {channel} / {args.day.isoformat()} ({args.day:%A}) from {args.api}",
           forecast=forecast, plan=plan, actual=actual or None, subtitle=subtitle)
    print(f"wrote {args.out} ({len(forecast)} intervals, forecast {forecast_total:,.0f} contacts)")
    return 0


def _api_actuals(kpis: Any, *, queue: str, channel: str | None, tz: ZoneInfo) -> dict[tuple[int, int], float]:
    """(slot, fold) → offered of /metrics/historical's 15-minute rows for the queue, and the channel when given
    (rows grouped by queue and channel; without one, by queue: all of its channels)."""
    actual: dict[tuple[int, int], float] = {}
    for row in kpis.get("rows", []) if isinstance(kpis, dict) else kpis if isinstance(kpis, list) else []:
        if row.get("queue") != queue or (channel is not None and row.get("channel") != channel):
            continue
        local = datetime.fromisoformat(row["interval_start"]).astimezone(tz)
        key = (slot_of(local), local.fold)
        actual[key] = actual.get(key, 0.0) + float(row.get("offered") or 0)
    return actual


def _versus_actual(forecast: Sequence[ForecastInterval], actual: dict[tuple[int, int], float]) -> str:
    """The day's actual total and the forecast's WAPE against it, for a subtitle."""
    actual_total = sum(actual.values())
    error = sum(abs(f.offered - actual.get((slot_of(f.interval_start), f.interval_start.fold), 0.0)) for f in forecast)
    return f"actual {actual_total:,.0f} contacts" + (f", WAPE {error / actual_total:.1%}" if actual_total > 0 else "")


def _server_message(exc: Any) -> str:
    """The message of an error answer: the API's {"error", "message"} body, API Gateway's {"message"}, or its text."""
    try:
        raw = exc.read()
    except Exception:  # noqa: BLE001 - no body is still an answer
        raw = b""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("Message")
        code = body.get("error") if isinstance(body.get("error"), str) else None
        if message or code:
            return " ".join(str(part) for part in (f"{code}:" if code and message else code, message) if part)
    text = raw.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:200] or (exc.reason or "no message")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    return run(PROG, lambda: _main(args), debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    if args.api:
        if not args.key:
            raise UsageError("--api needs --key (the tenant's API key)")
        return from_api(args)
    if args.synthetic:
        zone_name = args.tz
        tz = _zone(zone_name, "--tz")
        first_day = args.day - timedelta(days=7 * args.weeks)
        points = synthetic_history(first_day, 7 * args.weeks + 1, seed=args.seed, tz=tz)
        channel = args.channel or "VOICE"
        tenant = args.tenant or "synthetic"
    else:
        points, zone_name, channel, file_tenant = load_history(args.input, queue=args.queue, channel=args.channel,
                                                               tenant=args.tenant, tz_name=args.tz)
        tz = _zone(zone_name, "--tz" if args.tz else f"history {args.input}: timezone")
        tenant = file_tenant or "-"

    def local_day(point: HistoryPoint) -> date:
        start = point.interval_start
        return (start.astimezone(tz) if tz and start.tzinfo else start).date()

    train = [p for p in points if local_day(p) < args.day]
    if not train:
        raise UsageError(f"no history before {args.day}")
    model = fit_forecaster(train, tz=tz)
    forecast = model.forecast(args.day, 1)
    plan = staffing_plan(forecast, args.sl, args.threshold, patience_seconds=args.patience, shrinkage=args.shrinkage,
                         fallback_aht_seconds=args.fallback_aht)
    actual = _actuals(points, args.day, tz) if any(local_day(p) == args.day for p in points) else None

    forecast_total = sum(f.offered for f in forecast)
    subtitle = (f"forecast {forecast_total:,.0f} contacts, trend {100 * (model.trend_per_week - 1):+.1f} %/week; "
                f"peak {max(p.required_erlang_c for p in plan)} agents (Erlang C), target {args.sl:.0%} in "
                f"{args.threshold:.0f} s, patience {args.patience:.0f} s, shrinkage {args.shrinkage:.0%}")
    if actual is not None and sum(actual.values()) > 0:
        subtitle += "\n" + _versus_actual(forecast, actual)
    render(args.out, title=f"{tenant} / {args.queue} / {channel} / {args.day.isoformat()} ({args.day:%A})",
           forecast=forecast, plan=plan, actual=actual, subtitle=subtitle)
    print(f"wrote {args.out} ({len(forecast)} intervals, forecast {forecast_total:,.0f} contacts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
