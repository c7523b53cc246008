"""LakeReferenceData in a local lake folder (local.lake's Parquet): the twin of the S3 writer
(ccaas.adapters.aws.lake_reference), so ccaas.usecases.lake_reference.ensure_reference_data runs the same
way locally (the local runtime installs it with its lake: local.lake_queries.LocalLake). The calendar's days
are partitions `lake_intervals/tenant_id=<t>/day=<d>/`: a day is present when a reader finds its file
(local.lake.readable_files), and only missing days are written, each as its own day's file (the one the
exporter writes for that day: same rows); the settings file is replaced each time. A write is committed at
once (local.lake.LakeWrite): a query never finds a day or the settings missing while they are rewritten.

DuckDB keeps Parquet locally (the DuckDB exporter writes these tables as Parquet too); the KPI SQL reads
both alike.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ccaas.domain import lake
from local import lake as local_lake

logger = logging.getLogger("local")


class LocalLakeReferenceData:
    def __init__(self, lake_dir: Path) -> None:
        self.lake_dir = Path(lake_dir)
        self._lock = threading.Lock()  # one check-then-write at a time (two queries would write the same days)

    def calendar_days(self, tenant_id: str) -> set[str]:
        partitions = (local_lake.partition_values(f, self.lake_dir)
                      for f in local_lake.readable_files(self.lake_dir)["lake_intervals"])
        return {p["day"] for p in partitions if p.get("tenant_id") == tenant_id}

    def ensure_calendar(self, tenant_id: str, days: Sequence[str],
                        rows_for_day: Callable[[str], list[dict[str, Any]]]) -> int:
        with self._lock:
            held = self.calendar_days(tenant_id)
            missing = [d for d in dict.fromkeys(days) if d not in held]
            if not missing:
                return 0
            self._write("lake_intervals", {local_lake.day_owner(d): rows_for_day(d) for d in missing},
                        f"the calendar of tenant {tenant_id}")
            return len(missing)

    def put_settings(self, tenant_id: str, row: Mapping[str, Any]) -> None:
        with self._lock:
            self._write("tenant_settings", {local_lake.TENANT_OWNER: [{**row, "tenant_id": tenant_id}]},
                        f"the settings of tenant {tenant_id}")

    def _write(self, table: str, rows_by_owner: Mapping[str, Sequence[Mapping[str, Any]]], what: str) -> None:
        from ccaas.ports_lake import LakeExportFailed

        con = duckdb.connect()
        try:
            with local_lake.LakeWrite(con, self.lake_dir) as write:
                write.put(lake.TABLES[table], rows_by_owner)
        except (duckdb.Error, OSError) as error:  # the kind only: the error's text names the lake's files
            logger.warning("lake: could not write %s: %s", what, error)
            raise LakeExportFailed(f"could not write {what} ({type(error).__name__})") from error
        finally:
            con.close()
