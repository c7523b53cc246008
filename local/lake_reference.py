"""LakeReferenceData in a local lake folder (local.lake's Parquet): the twin of the S3 writer
(ccaas.adapters.aws.lake_reference), so ccaas.usecases.lake_reference.ensure_reference_data runs the same
way locally. The calendar's days are partitions `lake_intervals/tenant_id=<t>/day=<d>/`: a day is present
when its folder holds a Parquet file, and only missing days are written (local.lake.write_table, which
replaces exactly the partitions it writes); the settings partition is rewritten each time.

DuckDB keeps Parquet locally (the DuckDB exporter writes these tables as Parquet too); the KPI SQL reads
both alike.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ccaas.domain import lake
from local import lake as local_lake


class LocalLakeReferenceData:
    def __init__(self, lake_dir: Path) -> None:
        self.lake_dir = Path(lake_dir)
        self._lock = threading.Lock()  # one writer at a time (a partition is removed, then written)

    def calendar_days(self, tenant_id: str) -> set[str]:
        folder = self.lake_dir / "lake_intervals" / f"tenant_id={tenant_id}"
        if not folder.is_dir():
            return set()
        return {p.name.removeprefix("day=") for p in folder.iterdir()
                if p.is_dir() and p.name.startswith("day=") and any(p.glob("*.parquet"))}

    def ensure_calendar(self, tenant_id: str, days: Sequence[str],
                        rows_for_day: Callable[[str], list[dict[str, Any]]]) -> int:
        from ccaas.ports_lake import LakeExportFailed

        with self._lock:
            held = self.calendar_days(tenant_id)
            missing = [d for d in dict.fromkeys(days) if d not in held]
            if not missing:
                return 0
            rows = [row for day in missing for row in rows_for_day(day)]
            try:
                self._write("lake_intervals", rows)
            except (duckdb.Error, OSError) as error:
                raise LakeExportFailed(f"could not write the calendar of tenant {tenant_id}: {error}") from error
            return len(missing)

    def put_settings(self, tenant_id: str, row: Mapping[str, Any]) -> None:
        from ccaas.ports_lake import LakeExportFailed

        with self._lock:
            try:
                self._write("tenant_settings", [{**row, "tenant_id": tenant_id}])
            except (duckdb.Error, OSError) as error:
                raise LakeExportFailed(f"could not write the settings of tenant {tenant_id}: {error}") from error

    def _write(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        con = duckdb.connect()
        try:
            local_lake.write_table(con, lake.TABLES[table], rows, self.lake_dir)
        finally:
            con.close()
