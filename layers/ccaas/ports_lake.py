"""Ports of the analytics lake (issue 19): deliver rows to the lake (`LakeExport`), and run a KPI query
on the lake's engine and fetch its result (`LakeQueries`).

A module of its own (like ports_outbound): only the functions that read the lake import it. Two engines
implement `LakeQueries`: Amazon Athena over the Glue catalog (ccaas.adapters.aws.lake) and DuckDB over
the exported Parquet files (local/lake_queries.py, for the local runtime and tests; DuckDB is not in
the Lambda layer).

Where the engine comes from: `deps.lake` when the wiring provides one, else the engine this process
installed (`install_engine`: the local runtime and tests), else Athena when the function's environment
names a lake workgroup (`ccaas.adapters.aws.lake.from_environment`); None: no lake, long ranges refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from ccaas.domain.lake import LakeQuery

__all__ = ["LakeExport", "LakeExportFailed", "LakeQueries", "LakeQueryStatus", "LakeReferenceData", "QueryState",
           "install_engine", "install_export", "install_reference", "installed_engine", "installed_export",
           "installed_reference"]

QueryState = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
DONE: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


@dataclass(frozen=True)
class LakeQueryStatus:
    state: QueryState
    # The tenant the query was started for: the first bound parameter, as the engine reports it back
    # (so a query id alone never opens another tenant's result).
    tenant_id: str
    # Why it failed, as a kind of failure (never the engine's own text: it may hold file paths or SQL).
    error: str | None = None
    # A failure that may pass when the report is asked for again (the engine says so, or the files were
    # rewritten under the query): the API answers 503 lake_busy with Retry-After, not a 422.
    retryable: bool = False

    @property
    def done(self) -> bool:
        return self.state in DONE


class LakeQueries(Protocol):
    def start(self, query: LakeQuery) -> str:
        """Start the query; returns the engine's query id at once."""
        ...

    def status(self, query_id: str, wait_s: float = 0.0) -> LakeQueryStatus | None:
        """The query's state, waiting up to `wait_s` for it to finish; None when this engine (its
        workgroup, its process) knows no such query."""
        ...

    def results(self, query_id: str) -> list[dict[str, Any]]:
        """The rows of a SUCCEEDED query, as dicts of Python scalars (int, float, str, bool, None)."""
        ...


class LakeExportFailed(Exception):
    """Rows the lake's delivery did not accept after retries: the caller fails (its event is retried,
    then dead-lettered and alarmed), never drops them."""


class LakeExport(Protocol):
    def put_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Deliver rows of one lake table (ccaas.domain.lake.TABLES, partition columns included).
        Raises LakeExportFailed for rows that could not be delivered."""
        ...


class LakeReferenceData(Protocol):
    """The two small tables the KPI query joins that no writer function delivers: the tenant's calendar
    (`lake_intervals`, one row per local quarter-hour, a partition per local day) and its KPI settings
    (`tenant_settings`, one row per tenant). Written before a query starts (ccaas.usecases.lake_reference):
    S3 JSON objects on AWS (ccaas.adapters.aws.lake_reference), Parquet in the local lake folder
    (local/lake_reference.py)."""

    def ensure_calendar(self, tenant_id: str, days: Sequence[str],
                        rows_for_day: Callable[[str], list[dict[str, Any]]]) -> int:
        """Make sure the tenant's calendar holds each of `days` (ISO local days): the days not written yet
        get `rows_for_day(day)` (lake_intervals rows of that day); days already there are left alone (their
        rows are a pure function of the tenant's time zone and the day). Returns how many days were written.
        Raises LakeExportFailed when a day could not be written."""
        ...

    def put_settings(self, tenant_id: str, row: Mapping[str, Any]) -> None:
        """Replace the tenant's tenant_settings row (ccaas.domain.lake.settings_row). Raises LakeExportFailed."""
        ...


_installed: LakeQueries | None = None
_installed_export: LakeExport | None = None
_installed_reference: LakeReferenceData | None = None


def install_engine(engine: LakeQueries | None) -> LakeQueries | None:
    """Make `engine` the lake of this process (None removes it); returns the one it replaces."""
    global _installed
    previous, _installed = _installed, engine
    return previous


def installed_engine() -> LakeQueries | None:
    return _installed


def install_export(export: LakeExport | None) -> LakeExport | None:
    """Make `export` where this process delivers lake rows (None removes it); returns the one it replaces."""
    global _installed_export
    previous, _installed_export = _installed_export, export
    return previous


def installed_export() -> LakeExport | None:
    return _installed_export


def install_reference(reference: LakeReferenceData | None) -> LakeReferenceData | None:
    """Make `reference` where this process writes the lake's reference tables (None removes it); returns the
    one it replaces."""
    global _installed_reference
    previous, _installed_reference = _installed_reference, reference
    return previous


def installed_reference() -> LakeReferenceData | None:
    return _installed_reference
