"""The analytics lake on a laptop: History → Parquet (tenant_id=/day= partitions) → KPI views in DuckDB.

    python -m local.lake export --out lake/ --endpoint http://127.0.0.1:PORT --table HISTORY_TABLE \
        [--tenant demo] [--tz UTC] [--from 2026-11-01 --to 2026-12-01]
    python -m local.lake export --out lake/ --embedded [--days 42]     # starts a runtime with history
    python -m local.lake query --lake lake/ "select tenant_id, count(*) from contact_records group by 1"
    python -m local.lake kpis --lake lake/ --tenant demo --from 2026-11-01 --to 2026-12-01 \
        --interval day --group-by queue

Tables and KPI views are declared once in ccaas.domain.lake (lake_sql/*.sql); DuckDB writes and reads the
Parquet itself (no pyarrow). Each file belongs to the export that wrote it (the export of one local day:
its contacts, their completion copies filed under later days, the agent spans that start that day, its
surveys, analyses and calendar), and exporting a day again replaces exactly that export's files, so a late
CTR version or survey is corrected by exporting its day again and no other day's rows are touched.
Writes are committed in one step and readers read one committed set of files (see LakeWrite). Errors are
one line (local/cli.py).
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import duckdb

from ccaas.domain import lake
from ccaas.domain.history import HistoryEntry, MAX_ACTIVITY_READ_DAYS
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.records import AgentActivity, ContactRecord
from ccaas.domain.kpis.settings import KpiSettings
from local.cli import Failure, Parser, UsageError, run

PROG = "python -m local.lake"
_DAY_MS = 86_400_000


# --- the lake folder: files committed in one step, read as one snapshot ----------------------------------
# A rewrite never removes a partition and then writes it again: a query in between counted the day as empty
# (200, all zeros) or part of the range, or failed on a vanished file and showed its path. New files are
# written under .staging/ first; one commit (one writer at a time: LakeWrite.commit) moves them in and, in the
# manifest MANIFEST (replaced atomically), makes them the live files and retires the files they replace. A
# reader takes the files of one manifest (readable_files): every table as of one commit. A retired file stays
# on disk RETIRED_KEEP_S, so a query that read the manifest before the commit still opens it; a later commit
# deletes it.
MANIFEST = "_files.json"
STAGING = ".staging"
RETIRED_KEEP_S = 600.0
TENANT_OWNER = "tenant"  # the owner of a table partitioned by tenant alone (tenant_settings): one file a tenant
_OWNER = re.compile(r"day-\d{4}-\d{2}-\d{2}|" + TENANT_OWNER)  # whose export wrote a file (day_owner)
_OWNED_FILE = re.compile(rf"^(?P<owner>{_OWNER.pattern})\.[0-9a-f]{{32}}\.parquet$")
_EARLIER_FILE = re.compile(r"^part_[0-9a-f-]{36}\.parquet$")  # written before files had owners: its partition's


def day_owner(day: str) -> str:
    """The owner of the files the export of local day `day` writes."""
    return f"day-{date.fromisoformat(day).isoformat()}"


def _partition_owner(table: lake.Table, values: Mapping[str, str]) -> str:
    return day_owner(values["day"]) if "day" in table.partition_by else TENANT_OWNER


def _json_default(value: Any) -> Any:
    raise TypeError(f"not JSON-able in a lake row: {value!r}")


@dataclass(frozen=True)
class _LakeFile:
    """A Parquet file of the lake, by its path relative to the lake folder."""

    path: str  # "<table>/tenant_id=<t>/day=<d>/<owner>.<hex>.parquet"

    @property
    def table(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def partition(self) -> dict[str, str]:
        parts = self.path.split("/")[1:-1]
        return {k: unquote(v) for k, _, v in (p.partition("=") for p in parts)}

    @property
    def owner(self) -> str | None:
        """Whose export wrote it: a day's export or the tenant's settings; None for a file no export wrote (one
        appended by hand, as Firehose appends on AWS), which no export replaces."""
        name = self.path.rsplit("/", 1)[-1]
        found = _OWNED_FILE.match(name)
        if found:
            return found["owner"]
        table = lake.TABLES.get(self.table)
        if _EARLIER_FILE.match(name) and table is not None:
            return _partition_owner(table, self.partition)
        return None


@dataclass
class _Manifest:
    live: set[str] = field(default_factory=set)
    retired: dict[str, float] = field(default_factory=dict)  # path -> when it was retired (epoch s)

    @classmethod
    def read(cls, out: Path) -> _Manifest | None:
        try:
            data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return cls(set(data["live"]), dict(data["retired"]))

    @classmethod
    def of_earlier_files(cls, out: Path) -> _Manifest:
        """A folder written before the manifest: its files are live, each its partition's (as they were)."""
        return cls({p.relative_to(out).as_posix() for t in lake.TABLES if (out / t).is_dir()
                    for p in (out / t).rglob("*.parquet") if _EARLIER_FILE.match(p.name)})

    def write(self, out: Path) -> None:
        temporary = out / f".{MANIFEST}.{uuid.uuid4().hex}"
        temporary.write_text(json.dumps({"live": sorted(self.live), "retired": self.retired}), encoding="utf-8")
        os.replace(temporary, out / MANIFEST)  # atomic: a reader finds the old manifest or the new one


def readable_files(out: Path) -> dict[str, list[Path]]:
    """Each table's Parquet files as of the last commit: the manifest's live files, and any file no export
    wrote (appended by hand, as Firehose appends on AWS) that it does not know."""
    out = Path(out)
    manifest = _Manifest.read(out) or _Manifest()
    known = manifest.live | manifest.retired.keys()
    found: dict[str, list[Path]] = {t: [] for t in lake.TABLES}
    for path in sorted(manifest.live):
        found.setdefault(_LakeFile(path).table, []).append(out / path)
    for table in lake.TABLES:
        if (out / table).is_dir():
            for p in sorted((out / table).rglob("*.parquet")):
                path = p.relative_to(out).as_posix()
                # an export's file that no commit made live (one a writer is moving in) is not read yet
                if path not in known and not _OWNED_FILE.match(p.name):
                    found[table].append(p)
    return found


def partition_values(file: Path, out: Path) -> dict[str, str]:
    """A lake file's partition (tenant_id, day) as values: {"tenant_id": "demo", "day": "2026-11-20"}."""
    return _LakeFile(Path(file).relative_to(out).as_posix()).partition


@contextmanager
def _writer_lock(out: Path) -> Iterator[None]:
    """One commit at a time in a lake folder, across threads and processes (flock on a file of its own)."""
    with open(out / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # released when the handle closes


class LakeWrite:
    """Rows of one or more tables, staged as Parquet and committed together:

        with LakeWrite(con, out) as write:
            write.put(table, {owner: rows, …}, replacing=[(tenant_id, owner), …])

    Each owner's rows replace every file that owner wrote before in that table for the rows' tenant (in any
    partition: a day's export replaces its completion copies under later days too), and `replacing` names
    owners whose files go even with no rows now. Nothing is visible before the commit at the end of the block;
    an error in it commits nothing."""

    def __init__(self, con: duckdb.DuckDBPyConnection, out: Path) -> None:
        self.con = con
        self.out = Path(out)
        self.staging = self.out / STAGING / uuid.uuid4().hex
        self._moves: list[tuple[Path, str]] = []  # staged file -> its path in the lake
        self._replacing: set[tuple[str, str, str]] = set()  # (table, tenant, owner)

    def __enter__(self) -> LakeWrite:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def put(self, table: lake.Table, rows_by_owner: Mapping[str, Sequence[Mapping[str, Any]]],
            replacing: Iterable[tuple[str, str]] = ()) -> int:
        """Stage each owner's rows of `table`; returns how many rows."""
        replacing = list(replacing)
        for owner in [*rows_by_owner, *(o for _, o in replacing)]:
            if not _OWNER.fullmatch(owner):
                raise ValueError(f"not an owner of lake files: {owner!r} (day_owner(day), or {TENANT_OWNER!r})")
        self._replacing.update((table.name, tenant, owner) for tenant, owner in replacing)
        rows = [(owner, row) for owner, owned in rows_by_owner.items() for row in owned]
        if not rows:
            return 0
        self._replacing.update((table.name, str(row["tenant_id"]), owner) for owner, row in rows)
        batch = f"{table.name}-{uuid.uuid4().hex}"  # each put its own folder: the files it stages and no others
        staged = self.staging / batch
        self.staging.mkdir(parents=True, exist_ok=True)
        source = self.staging / f"{batch}.jsonl"
        columns = table.all_columns
        with source.open("w", encoding="utf-8") as f:
            for owner, row in rows:
                f.write(json.dumps({**{c.name: row.get(c.name) for c in columns}, "_owner": owner},
                                   default=_json_default))
                f.write("\n")
        spec = ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in columns)
        select = ", ".join(c.name for c in columns)
        self.con.execute(
            f"COPY (SELECT {select}, _owner FROM read_json('{_sql_path(source)}', format='newline_delimited', "
            f"columns={{{spec}, '_owner': 'VARCHAR'}})) TO '{_sql_path(staged)}' (FORMAT PARQUET, "
            f"PARTITION_BY ({', '.join(table.partition_by)}, _owner), FILENAME_PATTERN 'part_{{uuid}}')"
        )
        for file in staged.rglob("*.parquet"):
            values = {k: unquote(v) for k, _, v in (p.partition("=") for p in file.relative_to(staged).parts[:-1])}
            folder = "/".join(f"{p}={quote(values[p], safe='')}" for p in table.partition_by)
            self._moves.append((file, f"{table.name}/{folder}/{values['_owner']}.{uuid.uuid4().hex}.parquet"))
        return len(rows)

    def _replaced(self, path: str) -> bool:
        file = _LakeFile(path)
        owner = file.owner
        return owner is not None and (file.table, file.partition.get("tenant_id", ""), owner) in self._replacing

    def commit(self) -> None:
        if not self._moves and not self._replacing:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        with _writer_lock(self.out):
            manifest = _Manifest.read(self.out) or _Manifest.of_earlier_files(self.out)
            now = time.time()
            for path in [p for p in manifest.live if self._replaced(p)]:
                manifest.live.discard(path)
                manifest.retired[path] = now
            for staged, path in self._moves:
                (self.out / path).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, self.out / path)
                manifest.live.add(path)
            for path, retired_at in list(manifest.retired.items()):
                if now - retired_at >= RETIRED_KEEP_S:  # no reader of a manifest this old is still running
                    (self.out / path).unlink(missing_ok=True)
                    del manifest.retired[path]
            manifest.write(self.out)
            for left in (self.out / STAGING).iterdir() if (self.out / STAGING).is_dir() else ():
                if left != self.staging and now - left.stat().st_mtime >= RETIRED_KEEP_S:  # a writer that died
                    shutil.rmtree(left, ignore_errors=True)
        self._moves, self._replacing = [], set()


def write_table(
    con: duckdb.DuckDBPyConnection, table: lake.Table, rows: Sequence[Mapping[str, Any]], out: Path,
    *, owner: Callable[[Mapping[str, Any]], str] | None = None,
) -> int:
    """Write rows as Parquet under out/<table>/tenant_id=…/day=…/, committed at once, each row's file owned by
    `owner(row)` (default: its own partition's day, or the tenant), replacing the files those owners wrote
    before (so writing a day's rows again corrects it). Returns the number of rows written."""
    by_owner: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_owner[owner(row) if owner else _partition_owner(table, row)].append(row)
    with LakeWrite(con, out) as write:
        return write.put(table, by_owner)


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
    """Export contact records (latest version each) and activity spans of one tenant as the exports of the
    local days [first_day, last_day]: each of those days' files is replaced (an empty day's too), with the
    rows of the contacts filed under it (and their completion copies under later days) and of the spans that
    start on it; the other days' files are untouched (a day that only holds a copy row of one of these keeps
    its own contacts). The calendar covers every day written to or counted in, and the settings row is
    the tenant's now. All of it is committed at once."""
    calendar = calendar or TenantCalendar(tz)
    records = lake.latest_versions(records)
    for rec in records:
        if rec.tenant_id != tenant_id:
            raise ValueError(f"record of tenant {rec.tenant_id!r} exported for tenant {tenant_id!r}")
    filed: dict[str, list[ContactRecord]] = defaultdict(list)
    for rec in records:
        filed[day_owner(lake.filing_day(rec, calendar))].append(rec)
    started: dict[str, list[AgentActivity]] = defaultdict(list)
    for span in activities:
        started[day_owner(calendar.local_day(span.start_ms))].append(span)
    rows = {
        "contact_records": {o: lake.contact_record_rows(recs, calendar) for o, recs in filed.items()},
        "agent_activity": {o: lake.agent_activity_rows(tenant_id, spans, calendar) for o, spans in started.items()},
        "surveys": _by_day(lake.survey_rows(entries, calendar)),
        "transcript_analyses": _by_day(lake.analysis_rows(entries, calendar)),
    }
    exported = [(tenant_id, day_owner(d)) for d in _days(first_day, last_day)]
    # The calendar of the exported days and of every day a row is filed or counts in: a contact of 23:50
    # handled at 00:06 counts in the next day, which may have no contacts of its own (no export of its own).
    days = set(_days(first_day, last_day))
    for owned in rows.values():
        for row in (r for table_rows in owned.values() for r in table_rows):
            days.add(row["day"])
            days.update(calendar.local_day(row.get(q)) for q in ("arrival_quarter_ms", "completion_quarter_ms")
                        if row.get(q) is not None)
    intervals = _by_day(row for d in sorted(days) for row in lake.interval_rows(tenant_id, calendar,
                                                                                 *lake.day_range_ms(calendar, d, d)))
    counts = {}
    with LakeWrite(con, out) as write:
        for table, owned in rows.items():
            counts[table] = write.put(lake.TABLES[table], owned, replacing=exported)
        counts["lake_intervals"] = write.put(lake.TABLES["lake_intervals"], intervals)
        counts["tenant_settings"] = write.put(lake.TABLES["tenant_settings"], {TENANT_OWNER: [
            lake.settings_row(tenant_id, tz, settings or KpiSettings())]})
    return ExportReport(tenant_id, first_day, last_day, counts)


def _days(first_day: str, last_day: str) -> list[str]:
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _by_day(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Rows filed under their own day, as that day's export's."""
    owned: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        owned[day_owner(row["day"])].append(row)
    return owned


# --- reading ---------------------------------------------------------------------------------------
def connect(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per lake table over its Parquet files as of the last commit (a
    snapshot: readable_files; an empty, typed view for a table with no files yet) and the fixed KPI views."""
    con = con or duckdb.connect()
    files = readable_files(Path(lake_dir))
    for table in lake.TABLES.values():
        if files[table.name]:
            hive_types = ", ".join(f"'{p}': 'VARCHAR'" for p in table.partition_by)
            select = ", ".join(c.name for c in table.all_columns)
            listed = ", ".join(f"'{_sql_path(f)}'" for f in files[table.name])
            con.execute(
                f"CREATE OR REPLACE VIEW {table.name} AS SELECT {select} FROM read_parquet("
                f"[{listed}], hive_partitioning = true, hive_types = {{{hive_types}}})"
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
    and replace those days' exports (export_records). A CTR version or a survey that arrived after its day
    was exported is in the store's entry (kpi_record() joins the survey in), so the rewritten day carries it;
    other days' exports are untouched, the rows they filed under these days included (a completion copy, a
    span's piece after midnight). The local runtime's lake and `export --from D --to D` do exactly this."""
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
