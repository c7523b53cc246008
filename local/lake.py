"""The analytics lake on a laptop: History → Parquet (tenant_id=/day= partitions) → KPI views in DuckDB.

    python -m local.lake export --out lake/ --endpoint http://127.0.0.1:PORT --table HISTORY_TABLE \
        [--tenant demo] [--tz UTC] [--from 2026-11-01 --to 2026-12-01]
    python -m local.lake export --out lake/ --embedded [--days 42]     # starts a runtime with history
    python -m local.lake query --lake lake/ "select tenant_id, count(*) from contact_records group by 1"
    python -m local.lake kpis --lake lake/ --tenant demo --from 2026-11-01 --to 2026-12-01 \
        --interval day --group-by queue

Tables and KPI views are declared once in ccaas.domain.lake (lake_sql/*.sql); DuckDB writes and reads the
Parquet itself (no pyarrow). An export rewrites the partitions (tenant, day) it writes, so a late CTR
version or survey is corrected by exporting its day again. Errors are one line (local/cli.py).
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ccaas.domain import lake
from ccaas.domain.history import HistoryEntry, MAX_ACTIVITY_READ_DAYS
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.records import AgentActivity, ContactRecord
from ccaas.domain.kpis.settings import KpiSettings
from local.cli import Failure, Parser, UsageError, run

PROG = "python -m local.lake"
_DAY_MS = 86_400_000


# --- writing ---------------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    raise TypeError(f"not JSON-able in a lake row: {value!r}")


def write_table(
    con: duckdb.DuckDBPyConnection, table: lake.Table, rows: Sequence[Mapping[str, Any]], out: Path
) -> int:
    """Write rows as Parquet under out/<table>/tenant_id=…/day=…/, replacing the partitions they touch
    (so re-exporting a day corrects it). Returns the number of rows written."""
    if not rows:
        return 0
    base = Path(out) / table.name
    partitions = {tuple(str(row[p]) for p in table.partition_by) for row in rows}
    for values in partitions:
        folder = base.joinpath(*(f"{p}={v}" for p, v in zip(table.partition_by, values)))
        if folder.exists():
            shutil.rmtree(folder)
    columns = table.all_columns
    with tempfile.TemporaryDirectory(prefix="lake-") as tmp:
        source = Path(tmp) / "rows.jsonl"
        with source.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps({c.name: row.get(c.name) for c in columns}, default=_json_default))
                f.write("\n")
        spec = ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in columns)
        select = ", ".join(c.name for c in columns)
        base.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT {select} FROM read_json('{_sql_path(source)}', format='newline_delimited', "
            f"columns={{{spec}}})) TO '{_sql_path(base)}' (FORMAT PARQUET, "
            f"PARTITION_BY ({', '.join(table.partition_by)}), OVERWRITE_OR_IGNORE, "
            f"FILENAME_PATTERN 'part_{{uuid}}')"
        )
    return len(rows)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


@dataclass
class ExportReport:
    tenant_id: str
    first_day: str
    last_day: str
    rows: dict[str, int]


def export_tenant(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    tenant_id: str,
    tz: str,
    entries: Iterable[HistoryEntry],
    activities: Iterable[AgentActivity],
    first_day: str,
    last_day: str,
    settings: KpiSettings | None = None,
) -> ExportReport:
    """Export one tenant's history entries (each one's `kpi_record()`: surveys, flags and evaluation
    joined in) and activity spans, with the calendar of [first_day, last_day] and its settings."""
    calendar = TenantCalendar(tz)
    entries = list(entries)
    records = [r for r in (e.kpi_record() for e in entries) if r is not None]
    return export_records(con, out, tenant_id=tenant_id, tz=tz, records=records, activities=activities,
                          first_day=first_day, last_day=last_day, settings=settings, entries=entries,
                          calendar=calendar)


def export_records(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    tenant_id: str,
    tz: str,
    records: Iterable[ContactRecord],
    activities: Iterable[AgentActivity] = (),
    first_day: str,
    last_day: str,
    settings: KpiSettings | None = None,
    entries: Sequence[HistoryEntry] = (),
    calendar: TenantCalendar | None = None,
) -> ExportReport:
    """Export contact records (latest version each) and activity spans of one tenant."""
    calendar = calendar or TenantCalendar(tz)
    records = list(records)
    for rec in records:
        if rec.tenant_id != tenant_id:
            raise ValueError(f"record of tenant {rec.tenant_id!r} exported for tenant {tenant_id!r}")
    lo, hi = lake.day_range_ms(calendar, first_day, last_day)
    counts = {
        "contact_records": write_table(con, lake.TABLES["contact_records"],
                                       lake.contact_record_rows(records, calendar), out),
        "agent_activity": write_table(con, lake.TABLES["agent_activity"],
                                      lake.agent_activity_rows(tenant_id, activities, calendar), out),
        "surveys": write_table(con, lake.TABLES["surveys"], lake.survey_rows(entries, calendar), out),
        "transcript_analyses": write_table(con, lake.TABLES["transcript_analyses"],
                                           lake.analysis_rows(entries, calendar), out),
        "lake_intervals": write_table(con, lake.TABLES["lake_intervals"],
                                      lake.interval_rows(tenant_id, calendar, lo, hi), out),
        "tenant_settings": write_table(con, lake.TABLES["tenant_settings"],
                                       [lake.settings_row(tenant_id, tz, settings or KpiSettings())], out),
    }
    return ExportReport(tenant_id, first_day, last_day, counts)


# --- reading ---------------------------------------------------------------------------------------
def connect(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per lake table over its Parquet files (an empty, typed view
    for a table with no files yet) and the fixed KPI views."""
    con = con or duckdb.connect()
    lake_dir = Path(lake_dir)
    for table in lake.TABLES.values():
        folder = lake_dir / table.name
        if any(folder.rglob("*.parquet")) if folder.exists() else False:
            hive_types = ", ".join(f"'{p}': 'VARCHAR'" for p in table.partition_by)
            select = ", ".join(c.name for c in table.all_columns)
            con.execute(
                f"CREATE OR REPLACE VIEW {table.name} AS SELECT {select} FROM read_parquet("
                f"'{_sql_path(folder)}/**/*.parquet', hive_partitioning = true, hive_types = {{{hive_types}}})"
            )
        else:
            select = ", ".join(f"CAST(NULL AS {c.duckdb_type}) AS {c.name}" for c in table.all_columns)
            con.execute(f"CREATE OR REPLACE VIEW {table.name} AS SELECT {select} WHERE FALSE")
    for view in lake.KPI_VIEWS:
        if view == "kpi_rows":
            continue  # created over kpi_sums by kpi_rows()
        con.execute(lake.view_sql(view))
    return con


def kpi_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    from_ms: int,
    to_ms: int,
    interval: str = "15m",
    group_by: Sequence[str] = (),
    scan_days: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """KPI rows (dicts: interval, dimensions, every counter and KPI) from the lake, ordered as
    KpiLedger.rows() orders them. `scan_days`: see ccaas.domain.lake.kpi_sums_sql."""
    sums = lake.kpi_sums_sql(tenant_id=tenant_id, from_ms=from_ms, to_ms=to_ms, interval=interval,
                             group_by=group_by, scan_days=scan_days)
    # One statement (the kpi_rows view inlined over a kpi_sums CTE): DuckDB binds the Parquet once.
    query = lake.kpi_query_sql(group_by).replace("FROM kpi_rows", f"FROM ({lake.view_select('kpi_rows')}) kpi_rows")
    cursor = con.execute(f"WITH kpi_sums AS ({sums}) {query}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


# --- history sources -------------------------------------------------------------------------------
def history_from_store(store: Any, tenant_id: str, from_ms: int, to_ms: int
                       ) -> tuple[list[HistoryEntry], list[AgentActivity]]:
    """Entries with a contact time in [from_ms, to_ms) and closed spans starting in it, from a
    HistoryStore (activities read in chunks of the store's limit)."""
    entries = list(store.entries_between(tenant_id, from_ms, to_ms))
    activities: list[AgentActivity] = []
    chunk = (MAX_ACTIVITY_READ_DAYS - 1) * _DAY_MS
    start = from_ms
    while start < to_ms:
        end = min(to_ms, start + chunk)
        activities.extend(store.agent_activities(tenant_id, start, end))
        start = end
    return entries, activities


def reexport_days(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    store: Any,
    *,
    tenant_id: str,
    tz: str,
    first_day: str,
    last_day: str,
    settings: KpiSettings | None = None,
) -> ExportReport:
    """Late corrections: read [first_day, last_day] (local days) of the tenant from a HistoryStore again
    and rewrite those days' partitions. A CTR version or a survey that arrived after its day was
    exported is in the store's entry (kpi_record() joins the survey in), so the rewritten day carries it;
    other days are untouched. The local runtime's lake and `export --from D --to D` do exactly this."""
    calendar = TenantCalendar(tz)
    lo, hi = lake.day_range_ms(calendar, first_day, last_day)
    entries, activities = history_from_store(store, tenant_id, lo, hi)
    return export_tenant(con, out, tenant_id=tenant_id, tz=tz, entries=entries, activities=activities,
                         first_day=first_day, last_day=last_day, settings=settings)


# --- command line ----------------------------------------------------------------------------------
def _day(text: str) -> str:
    import argparse

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def _parse_args(argv: Sequence[str] | None) -> Any:
    parser = Parser(prog=PROG, description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    ex = sub.add_parser("export", help="write a tenant's History as Parquet")
    ex.add_argument("--out", required=True, type=Path, help="the lake folder")
    ex.add_argument("--tenant", default="demo")
    ex.add_argument("--tz", help="the tenant's time zone (default: the seeded tenant's, else UTC)")
    ex.add_argument("--from", dest="first", type=_day, help="first local day (default: --days before today)")
    ex.add_argument("--to", dest="last", type=_day, help="last local day, inclusive (default: yesterday)")
    ex.add_argument("--days", type=int, default=42, help="days to export (and, with --embedded, to generate)")
    source = ex.add_mutually_exclusive_group(required=True)
    source.add_argument("--endpoint", help="a running runtime's moto endpoint (AWS_ENDPOINT_URL), with --table")
    source.add_argument("--embedded", action="store_true", help="start a local runtime with --days of history")
    ex.add_argument("--table", help="the History table's name (with --endpoint)")
    q = sub.add_parser("query", help="run SQL over the lake (tables and KPI views defined)")
    q.add_argument("--lake", required=True, type=Path)
    q.add_argument("sql")
    k = sub.add_parser("kpis", help="print the KPI view")
    k.add_argument("--lake", required=True, type=Path)
    k.add_argument("--tenant", required=True)
    k.add_argument("--from", dest="first", required=True, type=_day)
    k.add_argument("--to", dest="last", required=True, type=_day, help="first day NOT included")
    k.add_argument("--interval", default="day", choices=("15m", "hour", "day", "week"))
    k.add_argument("--group-by", default="", help="0-2 of queue, channel, agent, team, skill, reason, segment "
                   "(comma-separated)")
    k.add_argument("--lookback-days", type=int, default=7, help="also read contacts that began up to this many "
                   "days before --from (their handling may complete in the range); -1 reads every day")
    k.add_argument("--columns", default="offered,answered,handled,service_level,asa_s,abandonment_rate,aht_s,"
                   "occupancy,csat,fcr", help="KPI/count columns to print (comma-separated)")
    return parser.parse_args(argv)


def _print_table(names: Sequence[str], rows: Sequence[Sequence[Any]], out: Any) -> None:
    def fmt(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.4f}"
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
    out.write(f"({len(rows)} rows)\n")


def _require_lake(path: Path) -> None:
    if not path.is_dir():
        raise UsageError(f"--lake {path}: no such folder (run `{PROG} export --out {path} …` first)")


def _tenant_timezone(con: duckdb.DuckDBPyConnection, tenant: str) -> str:
    found = con.execute("SELECT timezone FROM tenant_settings WHERE tenant_id = ?", [tenant]).fetchone()
    if found is None:
        raise UsageError(f"--tenant {tenant}: not in the lake (no tenant_settings row)")
    return str(found[0])


def _export(args: Any, out: Any) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tz = args.tz or _seeded_time_zone(args.tenant)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz: unknown time zone {tz!r}") from None
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    last = args.last or (date.today() - timedelta(days=1)).isoformat()
    first = args.first or (date.fromisoformat(last) - timedelta(days=args.days - 1)).isoformat()
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    calendar = TenantCalendar(tz)
    lo, hi = lake.day_range_ms(calendar, first, last)
    runtime = None
    try:
        if args.embedded:
            from local.runtime import LocalRuntime

            runtime = LocalRuntime(history_days=args.days).start()
            store = _dynamo_store(runtime.moto_endpoint, runtime._seed_environment()["HISTORY_TABLE"])
        else:
            if not args.table:
                raise UsageError("--endpoint needs --table (the History table's name)")
            store = _dynamo_store(args.endpoint, args.table)
        try:
            entries, activities = history_from_store(store, args.tenant, lo, hi)
        except Exception as exc:  # botocore's connection and client errors, named in one line
            raise Failure(f"could not read History from {args.endpoint or 'the embedded runtime'}: "
                          f"{type(exc).__name__}: {exc}") from exc
    finally:
        if runtime is not None:
            runtime.stop()
    con = duckdb.connect()
    report = export_tenant(con, args.out, tenant_id=args.tenant, tz=tz, entries=entries, activities=activities,
                           first_day=first, last_day=last)
    written = ", ".join(f"{name} {count}" for name, count in report.rows.items())
    out.write(f"exported tenant {args.tenant} {first}..{last} to {args.out}: {written}\n")
    return 0


def _seeded_time_zone(tenant_id: str) -> str:
    """The time zone local.seed gives the tenant (demo, acme), else UTC."""
    from local.seed import TENANTS

    return next((t.time_zone for t in TENANTS if t.tenant_id == tenant_id), "UTC")


def _dynamo_store(endpoint: str, table: str) -> Any:
    import boto3

    from ccaas.adapters.aws.history import DynamoHistoryStore

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return DynamoHistoryStore(client, table)


def _query(args: Any, out: Any) -> int:
    _require_lake(args.lake)
    con = connect(args.lake)
    try:
        cursor = con.execute(args.sql)
    except duckdb.Error as exc:
        raise UsageError(f"SQL: {str(exc).splitlines()[0]}") from None
    if cursor.description is None:
        out.write("ok\n")
        return 0
    _print_table([d[0] for d in cursor.description], cursor.fetchall(), out)
    return 0


def _kpis(args: Any, out: Any) -> int:
    _require_lake(args.lake)
    con = connect(args.lake)
    tz = _tenant_timezone(con, args.tenant)
    group_by = tuple(d.strip() for d in args.group_by.split(",") if d.strip())
    calendar = TenantCalendar(tz)
    if args.first >= args.last:
        raise UsageError(f"--from {args.first} must be before --to {args.last}")
    from_ms = calendar.day_start(date.fromisoformat(args.first))
    to_ms = calendar.day_start(date.fromisoformat(args.last))
    try:
        scan_days = None if args.lookback_days < 0 else (
            (date.fromisoformat(args.first) - timedelta(days=args.lookback_days)).isoformat(), args.last)
        rows = kpi_rows(con, tenant_id=args.tenant, from_ms=from_ms, to_ms=to_ms, interval=args.interval,
                        group_by=group_by, scan_days=scan_days)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    known = set(rows[0]) if rows else set(lake.KPI_COLUMNS) | set(lake.ACCUMULATOR_FIELDS)
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise UsageError(f"--columns: unknown {unknown}")
    names = ["interval_start", *group_by, *columns]
    _print_table(names, [[row[n] for n in names] for row in rows], out)
    return 0


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    args = _parse_args(argv)
    out = out or sys.stdout
    body = {"export": _export, "query": _query, "kpis": _kpis}[args.command]
    return run(PROG, lambda: body(args, out), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
