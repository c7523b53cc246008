"""Replay a day of contacts against a routing policy, offline, with the production routing engine.

    python -m local.replay --policy policy.json [--day generated|day.json] [--compare other.json]
                           [--seed N] [--seeds K] [--hours H] [--json]

--day generated (default) is ccaas.domain.replay.example_day (four voice queues, overlapping skills);
a file is a ccaas.domain.replay.Day in JSON (Poisson arrival profiles and agent groups, or a list of
recorded contacts; a queue's transfer_share / transfer_to transfer handled contacts as new segments).
--seeds K replays seeds N … N+K−1 and pools their counts. Prints SL, ASA, abandonment and occupancy
per queue (and transfers out / in / rate when there were any), and with --compare a side-by-side
table of both policies, labelled by their names (by their file names when the names are the same).

Errors are one line on stderr (local/cli.py): exit code 2 for a bad argument or a policy or day file that
is missing, not JSON or invalid (the file and the first wrong field named), 1 for a failed run; --debug
prints the traceback too.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.table import print_table
from ccaas.domain.replay import Day, ReplayResult, example_day, pool_runs, replay
from ccaas.domain.routing_engine import RoutingPolicy
from local.cli import Parser, load_model, run as run_cli

PROG = "python -m local.replay"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _num(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _load_day(spec: str, seed: int, hours: float | None) -> Day:
    if spec == "generated":
        return example_day(seed, hours=hours or 8.0)
    day = load_model(Day, spec, "day")
    if hours is not None:
        day = day.model_copy(update={"duration_s": hours * 3600})
    return day


def labels(names: list[str], paths: list[str]) -> list[str] | None:
    """Labels for compared policies whose names collide: their file stems (their paths if those collide
    too), so the two columns of a comparison are never both `default`. None when the names differ."""
    if len(set(names)) == len(names):
        return None
    for candidate in ([Path(p).stem for p in paths], list(paths)):
        if len(set(candidate)) == len(candidate):
            return candidate
    return [f"{p} ({ab})" for p, ab in zip(paths, "AB")]  # one file compared with itself


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def run(policy: RoutingPolicy, day: Day, seed: int, seeds: int) -> ReplayResult:
    return pool_runs([replay(day, policy, seed=seed + k) for k in range(seeds)])


def print_result(result: ReplayResult) -> None:
    """One row per queue; transfer columns (out, in, rate) only when the day transferred anything."""
    transfers = any(q.transferred_out or q.transferred_in for q in result.queues)
    rows = []
    for q in (*result.queues, result.total):
        rows.append([q.queue_id, q.offered, q.answered, q.abandoned, _pct(q.service_level), _num(q.asa_s),
                     _pct(q.abandonment), _pct(q.occupancy), _num(q.aht_s, 0), q.deflected, q.callbacks,
                     *([q.transferred_out, q.transferred_in, _pct(q.transfer_rate)] if transfers else [])])
    print_table(f"{result.policy} on {result.day} (seed {result.seed})",
                ["queue", "offered", "answered", "abandoned", "SL %", "ASA s", "aband %", "occ %", "AHT s",
                 "deflected", "callbacks", *(["xfer out", "xfer in", "xfer %"] if transfers else [])], rows)


def print_comparison(a: ReplayResult, b: ReplayResult, note: str = "") -> None:
    rows = []
    for qa, qb in zip((*a.queues, a.total), (*b.queues, b.total)):
        ratio = "-" if not qa.asa_s or qb.asa_s is None else f"{qb.asa_s / qa.asa_s:.2f}"
        d_sl = "-" if qa.service_level is None or qb.service_level is None else \
            f"{100 * (qb.service_level - qa.service_level):+.1f}"
        rows.append([qa.queue_id, _pct(qa.service_level), _pct(qb.service_level), d_sl, _num(qa.asa_s),
                     _num(qb.asa_s), ratio, _pct(qa.abandonment), _pct(qb.abandonment), _pct(qa.occupancy),
                     _pct(qb.occupancy)])
    # signed differences ("+6.8") are not numbers to bench.table (it would left-align them): right-align
    # the column here, every cell padded to the column's width
    width = max(len("ΔSL pt"), *(len(r[3]) for r in rows))
    for r in rows:
        r[3] = r[3].rjust(width)
    print_table(f"A = {a.policy}  vs  B = {b.policy}{note}",
                ["queue", "SL A", "SL B", "ΔSL pt", "ASA A", "ASA B", "ASA B/A", "aband A", "aband B", "occ A",
                 "occ B"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", required=True, help="routing policy JSON (ccaas.domain.routing_engine.RoutingPolicy)")
    ap.add_argument("--day", default="generated", help="'generated' or a day JSON file")
    ap.add_argument("--compare", help="a second policy JSON to compare against")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1, help="replay this many seeds and pool them")
    ap.add_argument("--hours", type=_positive, help="length of the day (generated day: default 8)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = ap.parse_args(argv)
    return run_cli(PROG, lambda: _main(args), debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    paths = [args.policy] + ([args.compare] if args.compare else [])
    policies = [load_model(RoutingPolicy, p, "policy") for p in paths]  # files first: a bad one fails fast
    day = _load_day(args.day, args.seed, args.hours)
    results = [run(p, day, args.seed, max(1, args.seeds)) for p in policies]
    relabel, note = labels([p.name for p in policies], paths), ""
    if relabel:
        results = [r.model_copy(update={"policy": label}) for r, label in zip(results, relabel)]
        note = f"  (labelled by file name: both policies are named {policies[0].name!r})"
        print(f"{PROG}: note: both policies are named {policies[0].name!r}: labelled by file name "
              f"({', '.join(relabel)})", file=sys.stderr)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in results], indent=1))
        return 0
    for r in results:
        print_result(r)
    if len(results) == 2:
        print_comparison(*results, note=note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
