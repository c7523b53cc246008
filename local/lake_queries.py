"""LakeQueries on DuckDB over a local lake folder (local.lake's Parquet): the engine of the local
runtime and the tests. Queries run on a small thread pool, each on its own connection, so a request can
wait for one within its budget and a slow one is fetched later by id, as on Athena.

`delay_s` holds every query back that long before it runs (tests of the asynchronous path).

A query reads the lake's files as of one commit (local.lake.connect), so a rewrite running beside it never
shows it a day missing or half-written. A failed query's status names the kind of failure, never DuckDB's
text (it names the lake's files and quotes the SQL): the full error goes to the log.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.lake import LakeQuery
from ccaas.ports_lake import LakeQueryStatus
from local import lake as local_lake
from local.lake_reference import LocalLakeReferenceData

_MAX_KEPT = 1000  # finished queries remembered (oldest forgotten first)
logger = logging.getLogger("local")


def failure_kind(error: BaseException) -> tuple[str, bool]:
    """(what kind of failure a query met, whether asking again may succeed), in words for an API answer."""
    if isinstance(error, duckdb.IOException | OSError):
        return "the lake's files could not be read (changed while the query ran)", True
    if isinstance(error, duckdb.InterruptException):
        return "the query was interrupted", True
    if isinstance(error, duckdb.OutOfMemoryException):
        return "the query needed more memory than the local engine has", False
    if isinstance(error, duckdb.Error):
        return f"the local lake's engine could not run the query ({type(error).__name__})", False
    return f"the query failed ({type(error).__name__})", False


@dataclass
class _Held:
    tenant_id: str
    future: Future
    started: threading.Event


class DuckDbLakeQueries:
    def __init__(self, lake_dir: Path, *, workers: int = 2, delay_s: float = 0.0) -> None:
        self.lake_dir = Path(lake_dir)
        self.delay_s = delay_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lake-query")
        self._queries: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def _run(self, query: LakeQuery, started: threading.Event) -> list[dict[str, Any]]:
        started.set()
        if self.delay_s:
            time.sleep(self.delay_s)
        for attempt in range(2):
            con = duckdb.connect()
            try:
                local_lake.connect(self.lake_dir, con)
                cursor = con.execute(query.sql, list(query.parameters))
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row)) for row in cursor.fetchall()]
            except duckdb.IOException:
                # A file of the commit it read was deleted (retired longer than local.lake.RETIRED_KEEP_S ago):
                # read the current commit once more, then let the status say so (retryable: 503, not 422).
                if attempt:
                    logger.exception("lake query: the lake's files could not be read")
                    raise
            except Exception:
                logger.exception("lake query failed")  # the whole error here; its status names only its kind
                raise
            finally:
                con.close()
        raise AssertionError("unreachable")

    def start(self, query: LakeQuery) -> str:
        query_id = uuid.uuid4().hex
        started = threading.Event()
        held = _Held(query.tenant_id, self._pool.submit(self._run, query, started), started)
        with self._lock:
            if len(self._queries) >= _MAX_KEPT:
                self._queries.pop(next(iter(self._queries)))
            self._queries[query_id] = held
        return query_id

    def status(self, query_id: str, wait_s: float = 0.0) -> LakeQueryStatus | None:
        with self._lock:
            held = self._queries.get(query_id)
        if held is None:
            return None
        try:
            held.future.exception(timeout=wait_s)
        except FutureTimeout:
            return LakeQueryStatus(state="RUNNING" if held.started.is_set() else "QUEUED", tenant_id=held.tenant_id)
        error = held.future.exception()
        if error is not None:
            kind, retryable = failure_kind(error)
            return LakeQueryStatus(state="FAILED", tenant_id=held.tenant_id, error=kind, retryable=retryable)
        return LakeQueryStatus(state="SUCCEEDED", tenant_id=held.tenant_id)

    def results(self, query_id: str) -> list[dict[str, Any]]:
        with self._lock:
            held = self._queries[query_id]
        return held.future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# --- the local runtime's lake --------------------------------------------------------------------------
def tenant_context_reader(environment: Mapping[str, str]) -> Callable[[str], tuple[str, KpiSettings]]:
    """tenant id -> (time zone, KPI settings) as the deployed writers and the API read them
    (ccaas.usecases.history.tenant_context over the Config table), in `environment` (a function's: the
    table names, the runtime's endpoint). Every tenant, the seeded ones and those made later with the admin
    tool, exports by its own calendar: a day re-exported by another time zone's calendar read the wrong
    24 hours (none of a New York evening's contacts) and wrote a calendar the tenant's queries never match."""
    from local import env_overlay

    environment = dict(environment)

    def read(tenant_id: str) -> tuple[str, KpiSettings]:
        with env_overlay.overlay(environment):
            from ccaas.bootstrap import dependencies
            from ccaas.usecases.history import tenant_context

            return tenant_context(dependencies(), tenant_id)

    return read


class LocalLakeExport:
    """LakeExport for the local runtime: a contact-record snapshot marks its (tenant, day) dirty, and a
    background thread rewrites each dirty day's export from the History table every `interval_s`
    (local.lake.reexport_days: that day's files replaced in one commit, other days' untouched), by the
    tenant's own time zone and KPI settings (`tenant_context_of`: tenant id -> (time zone, KpiSettings), read
    when its days are rewritten). So a late CTR version or survey for an exported day corrects that day, as
    the appended snapshots do on AWS, with the day's files rewritten instead of appended to."""

    def __init__(self, lake_dir: Path, store: Any, tenant_context_of: Callable[[str], tuple[str, KpiSettings]], *,
                 interval_s: float = 30.0) -> None:
        self.lake_dir = Path(lake_dir)
        self.store = store
        self.tenant_context_of = tenant_context_of
        self.interval_s = interval_s
        self.rewritten: list[tuple[str, str]] = []  # (tenant, day) in the order they were rewritten
        self._dirty: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lake-export", daemon=True)

    def start(self) -> LocalLakeExport:
        self._thread.start()
        return self

    def put_rows(self, table: str, rows: Any) -> None:
        with self._lock:
            self._dirty.update((str(r["tenant_id"]), str(r["day"])) for r in rows)

    def flush(self) -> int:
        """Rewrite every dirty day now; returns how many were rewritten."""
        with self._flush_lock:  # one rewriter at a time (the loop, or a caller that wants it now)
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
        if not dirty:
            return 0
        contexts: dict[str, tuple[str, KpiSettings]] = {}  # one read of each tenant's settings per round
        done = 0
        con = duckdb.connect()
        try:
            for tenant_id, day in dirty:
                if tenant_id not in contexts:
                    contexts[tenant_id] = self.tenant_context_of(tenant_id)
                tz, settings = contexts[tenant_id]
                local_lake.reexport_days(con, self.lake_dir, self.store, tenant_id=tenant_id, tz=tz,
                                         first_day=day, last_day=day, settings=settings)
                self.rewritten.append((tenant_id, day))
                done += 1
        finally:
            con.close()
            if done < len(dirty):  # a failed round keeps the days it did not rewrite for the next one
                with self._lock:
                    self._dirty.update(dirty[done:])
        return len(dirty)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.flush()
            except Exception:  # a failed rewrite is logged and the days retried next round
                import logging

                logging.getLogger("local").exception("lake: re-export failed; retrying next round")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


@dataclass
class LocalLake:
    """The lake of `python -m local` (make run): the demo tenant's History (the days the runtime loaded)
    exported to `lake_dir` in the background, and this process's three lake ports over it: the DuckDB engine
    for GET /metrics/historical's long ranges, the export that keeps exported days correct, and the writer of
    the reference tables a long query joins (the tenant's settings as they are now and the calendar of every
    day it reads, written before it runs: ccaas.usecases.lake_reference, as the API does on AWS). `stop()`
    uninstalls them (and removes the folder when start() made it: each lake a new folder of its own)."""

    lake_dir: Path
    tenant_id: str
    first_day: str
    last_day: str
    engine: DuckDbLakeQueries
    export: LocalLakeExport
    reference: LocalLakeReferenceData
    exported: threading.Event
    # True when start() made lake_dir (the default): stop() removes it. The folder was once named by the
    # process id alone, so a second runtime of the same process (a test module after another, with
    # more history days) exported its days into the first one's folder and its long ranges also counted
    # the first one's older days (offered 2627 instead of 786).
    owned: bool = False
    _previous: tuple[Any, Any, Any] = (None, None, None)

    @classmethod
    def start(cls, runtime: Any, *, days: int, tenant_id: str = "demo", lake_dir: Path | None = None) -> LocalLake:
        from datetime import timedelta

        from ccaas.ports_lake import install_engine, install_export, install_reference
        from local.demo_history import yesterday

        owned = lake_dir is None
        if owned:  # a new, empty folder for each lake: never another runtime's days (see `owned`)
            base = Path(tempfile.gettempdir()) / "ccaas-local"
            base.mkdir(parents=True, exist_ok=True)
            lake_dir = Path(tempfile.mkdtemp(prefix=f"lake-{os.getpid()}-", dir=base))
        else:
            lake_dir = Path(lake_dir)
        environment = runtime._seed_environment()
        tenant_context_of = tenant_context_reader(environment)
        tz, settings = tenant_context_of(tenant_id)
        last = yesterday(tz)
        first = last - timedelta(days=days - 1)
        store = local_lake._dynamo_store(runtime.moto_endpoint, environment["HISTORY_TABLE"])
        engine = DuckDbLakeQueries(lake_dir)
        export = LocalLakeExport(lake_dir, store, tenant_context_of)
        # Without the reference writer a settings change (PUT /settings/kpis) reached no long query until some
        # History write re-exported a day (the new variant's label over the old figures), and a day no contact
        # began on had no calendar: a call of 23:50 handled past midnight counted in no day.
        reference = LocalLakeReferenceData(lake_dir)
        lake = cls(lake_dir, tenant_id, first.isoformat(), last.isoformat(), engine, export, reference,
                   threading.Event(), owned=owned)
        lake._previous = (install_engine(engine), install_export(export), install_reference(reference))

        def initial() -> None:  # the loaded days, then the rewrite loop for late corrections
            con = duckdb.connect()
            try:
                local_lake.reexport_days(con, lake_dir, store, tenant_id=tenant_id, tz=tz, first_day=lake.first_day,
                                         last_day=lake.last_day, settings=settings)
            except Exception:  # noqa: BLE001 - the runtime runs on; the long ranges then show zeros
                import logging

                logging.getLogger("local").exception("lake: the initial export failed")
            finally:
                con.close()
                lake.exported.set()
                if not export._stop.is_set():
                    export.start()

        threading.Thread(target=initial, name="lake-initial-export", daemon=True).start()
        return lake

    def stop(self) -> None:
        from ccaas.ports_lake import install_engine, install_export, install_reference

        self.export.stop()
        install_engine(self._previous[0])
        install_export(self._previous[1])
        install_reference(self._previous[2])
        self.engine.close()
        if self.owned:
            shutil.rmtree(self.lake_dir, ignore_errors=True)

    def how_to_query(self) -> str:
        return (f"lake: {self.lake_dir} (Parquet, tenant_id=/day= partitions; {self.first_day}..{self.last_day}, "
                f"exported in the background). Query it with DuckDB:\n"
                f"  python -m local.lake query --lake {self.lake_dir} \"select day, count(*) from contact_records "
                f"group by 1 order by 1\"\n"
                f"  python -m local.lake kpis --lake {self.lake_dir} --tenant {self.tenant_id} "
                f"--from {self.first_day} --to {self.last_day} --interval week --group-by queue")
