"""CSV export of KPI rows (stdlib csv; the column order is KpiRow's field order and never shuffles)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

from ccaas.domain.kpis.rollup import KpiRow

__all__ = ["CSV_COLUMNS", "rows_to_csv", "write_csv"]

CSV_COLUMNS: tuple[str, ...] = tuple(KpiRow.model_fields)


def _cell(value: object) -> str:
    if value is None:
        return ""  # undefined KPI: empty, never "None" or 0
    if isinstance(value, float):
        return repr(round(value, 6))  # 6 decimals: stable across platforms, enough for any rate
    if isinstance(value, tuple):
        return "+".join(value)  # group_by, e.g. "reason+channel"
    return str(value)


def write_csv(rows: Iterable[KpiRow], out: TextIO) -> int:
    """Writes a header and one line per row; returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
        count += 1
    return count


def rows_to_csv(rows: Iterable[KpiRow]) -> str:
    buffer = io.StringIO()
    write_csv(rows, buffer)
    return buffer.getvalue()
