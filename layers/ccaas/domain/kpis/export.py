"""KPI rows for people: CSV (stdlib csv; the column order is KpiRow's field order and never shuffles; no
cell a spreadsheet runs as a formula: ccaas.domain.spreadsheet) and the compact form (rows with activity
only, chosen fields, figures rounded as people read them)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TextIO

from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS, KPI_NAMES
from ccaas.domain.kpis.ledger import DIMENSIONS, KpiRow
from ccaas.domain.spreadsheet import safe_cell

__all__ = ["COMPACT_FIELDS", "CSV_COLUMNS", "compact_rows", "dicts_to_csv", "rounded", "rows_to_csv", "write_csv"]

CSV_COLUMNS: tuple[str, ...] = tuple(KpiRow.model_fields)
# What a person reads first; `fields=` chooses others (any KPI or raw count).
COMPACT_FIELDS: tuple[str, ...] = (
    "offered", "answered", "abandoned", "handled", "service_level", "asa_s", "abandonment_rate", "aht_s",
    "occupancy", "transfer_rate", "fcr", "csat", "evaluation_score",
)
CHOOSABLE_FIELDS: frozenset[str] = frozenset((*KPI_NAMES, "share_of_offered", *ACCUMULATOR_FIELDS))
# Decimals by what a figure is: seconds to a tenth, money to the cent, 1–7 and point scales to a tenth
# or hundredth, shares (0–1) to a hundredth of a percent.
_DECIMALS = {"cost_per_contact": 2, "ces": 2, "nps": 1, "evaluation_score": 1, "segments_per_contact": 2}


def rounded(name: str, value: object) -> object:
    if not isinstance(value, float):
        return value
    if name in _DECIMALS:
        return round(value, _DECIMALS[name])
    return round(value, 1 if name.endswith("_s") else 4)


def compact_rows(rows: Iterable[KpiRow], fields: Sequence[str] = COMPACT_FIELDS) -> list[dict[str, object]]:
    """Rows that hold anything (a quiet night's empty intervals are left out), each with its interval,
    its grouped dimensions and `fields`, rounded. Unknown field names raise ValueError."""
    unknown = [f for f in fields if f not in CHOOSABLE_FIELDS]
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; choose KPIs or raw counts of the KPI rows")
    out = []
    for row in rows:
        if not any(getattr(row, name) for name in ACCUMULATOR_FIELDS):
            continue
        item: dict[str, object] = {"interval_start": row.interval_start, "interval_end": row.interval_end}
        item.update({d: getattr(row, d) for d in row.group_by if d in DIMENSIONS})
        item.update({name: rounded(name, getattr(row, name)) for name in fields})
        out.append(item)
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""  # undefined KPI: empty, never "None" or 0
    if isinstance(value, float):
        return repr(round(value, 6))  # 6 decimals: stable across platforms, enough for any rate
    if isinstance(value, tuple):
        return "+".join(value)  # group_by, e.g. "reason+channel"
    return safe_cell(str(value))  # a free-text dimension (a contact's reason) never runs as a formula


def write_csv(rows: Iterable[KpiRow], out: TextIO) -> int:
    """Writes a header and one line per row; returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
        count += 1
    return count


def dicts_to_csv(rows: Sequence[dict[str, object]]) -> str:
    """Compact rows (compact_rows) as CSV: their own keys as the header, in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(rows[0]) if rows else []
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def rows_to_csv(rows: Iterable[KpiRow]) -> str:
    buffer = io.StringIO()
    write_csv(rows, buffer)
    return buffer.getvalue()
