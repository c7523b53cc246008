"""The in-memory LakeExport twin the lake tests share, and installing it for one test."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ccaas.ports_lake import LakeExportFailed, install_export


class RecordingExport:
    """What each table received, in order; `fail` makes the next `fail` calls raise as FirehoseLakeExport does
    when the service keeps refusing."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, dict[str, Any]]] = []
        self.fail = 0

    def put_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if self.fail:
            self.fail -= 1
            raise LakeExportFailed(f"{len(rows)} {table} row(s) not accepted")
        self.rows.extend((table, dict(r)) for r in rows)

    def of(self, table: str) -> list[dict[str, Any]]:
        return [r for t, r in self.rows if t == table]


@contextmanager
def installed_export() -> Iterator[RecordingExport]:
    """A fresh twin as the process's lake export for the block (the one before is put back)."""
    twin = RecordingExport()
    previous = install_export(twin)
    try:
        yield twin
    finally:
        install_export(previous)
