"""The lake's reference tables, written before a KPI query runs on them (issue 19).

The KPI query (ccaas.domain.lake.kpi_query) joins two tables no writer function delivers: the tenant's
calendar `lake_intervals` (every local quarter-hour of a day with its hour, day and ISO week: the SQL never
converts time zones) and `tenant_settings` (the KPI settings that change what is counted and how). Without
them a query on Athena returns no KPI rows at all. So before the API starts a lake query it calls
`ensure_reference_data`: the tenant's current settings row is written (replacing the previous one), and the
calendar of each day the query scans that the lake does not hold yet. Both come from the pure row-shaping
the local exporter uses (lake.interval_rows, lake.settings_row), so the two engines read the same rows.

Where the writer comes from: `deps.lake_reference` when the wiring provides one, else the one this process
installed (ccaas.ports_lake.install_reference: the local runtime and tests), else S3 when the function's
environment names the lake bucket (ccaas.adapters.aws.lake_reference.from_environment); None: nothing to
write (no lake, or a lake the exporter fills itself).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ccaas.bootstrap import Dependencies
from ccaas.domain import lake
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.ports_lake import LakeReferenceData, installed_reference

__all__ = ["MAX_DAYS", "calendar_rows", "days_between", "ensure_reference_data", "lake_reference"]

# The most days one call writes: a 13-month range (397 days) and its lookback day, with room to spare.
MAX_DAYS = 400


def lake_reference(deps: Dependencies) -> LakeReferenceData | None:
    """Where this function writes the lake's reference tables (see the module doc), None for nowhere."""
    found = getattr(deps, "lake_reference", None) or installed_reference()
    if found is not None:
        return found
    from ccaas.adapters.aws.lake_reference import from_environment

    return from_environment(session=getattr(deps, "session", None))  # the function's session (bootstrap)


def days_between(first_day: str, last_day: str) -> list[str]:
    """Every ISO day of [first_day, last_day], inclusive. ValueError for a reversed or too long range."""
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    count = (last - first).days + 1
    if count < 1:
        raise ValueError(f"the first day {first_day} is after the last day {last_day}")
    if count > MAX_DAYS:
        raise ValueError(f"{count} days of calendar at once; at most {MAX_DAYS}")
    return [(first + timedelta(days=n)).isoformat() for n in range(count)]


def calendar_rows(tenant_id: str, calendar: TenantCalendar) -> Callable[[str], list[dict[str, Any]]]:
    """The lake_intervals rows of one local day of the tenant (what the local exporter writes for it)."""

    def rows_for_day(day: str) -> list[dict[str, Any]]:
        return lake.interval_rows(tenant_id, calendar, *lake.day_range_ms(calendar, day, day))

    return rows_for_day


def ensure_reference_data(
    deps: Dependencies,
    tenant_id: str,
    calendar: TenantCalendar,
    days: tuple[str, str],
    settings: KpiSettings,
) -> int:
    """Before a lake query of `tenant_id` over the local days `days` (first, last: inclusive, as
    ccaas.usecases.lake.scan_days returns them): the tenant's settings row as it is now (its time zone is
    the calendar's), and the calendar of every one of those days the lake lacks. Returns how many days of
    calendar were written (0 without a writer). Raises LakeExportFailed when the lake refused a write:
    the query would count nothing for the missing days, so the request fails rather than answer wrong."""
    reference = lake_reference(deps)
    if reference is None:
        return 0
    first, last = days
    wanted = days_between(first, last)
    reference.put_settings(tenant_id, lake.settings_row(tenant_id, calendar.tz.key, settings))
    return reference.ensure_calendar(tenant_id, wanted, calendar_rows(tenant_id, calendar))
