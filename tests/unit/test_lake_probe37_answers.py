"""What a long-range report says, as the fast path says it (outside probe 37 of the analytics lake).

- `from=2099-12-01&to=2100-12-31&interval=week` was a 422 naming `body` ("not a range of a lake query"): the
  query id's range check ran as request validation and disagreed with the years a request may name.
- Grouped by a contact dimension, the lake never said "no agent activity" (the fast path does); and it said "no
  contacts" for a range whose only contact was enqueued before it and abandoned in it (the fast path does not).
- After PUT /settings/kpis, Athena's result reuse (the same statement and parameters within 15 minutes) answered
  with the old settings' figures under the new variant's label; a query fetched later by id was labelled with
  the tenant's variant at the time of the fetch.
- A failure the engine says may pass (Athena's Retryable, the local lake's files rewritten under the query) was a
  422 lake_query_failed; it is a 503 lake_busy.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import DomainError
from ccaas.domain.tenants import Tenant
from ccaas.ports_lake import LakeQueryStatus
from ccaas.usecases import history
from ccaas.usecases import lake as lake_history
from local import lake as local_lake
from local.lake_queries import DuckDbLakeQueries
from tests.unit.test_kpis import BASE, SETTINGS, TENANT, TZ, marked_records
from tests.unit.test_lake_api import fixture_deps

DAY = "2026-11-20"
DAY_MS = 86_400_000


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@pytest.fixture
def empty_engine(tmp_path):
    found = DuckDbLakeQueries(tmp_path)
    yield found
    found.close()


def test_a_range_in_the_last_year_a_request_may_name_is_a_lake_report(empty_engine):
    deps = memory_dependencies()
    deps.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    report = lake_history.historical(deps, empty_engine, TENANT, start=datetime(2099, 12, 1),
                                     end=datetime(2100, 12, 31), interval="week")
    assert isinstance(report, history.HistoricalReport) and len(report.rows) == 57
    assert report.rows[-1].interval_start.startswith("2100-12-27") and history.NO_CONTACTS in report.warnings


def test_a_range_no_request_could_name_is_refused_naming_from_or_to(empty_engine):
    late = int(datetime(2101, 3, 1, tzinfo=UTC).timestamp() * 1000)
    for from_ms, to_ms, field in ((late - 200 * DAY_MS, late, "to"), (-DAY_MS, 100 * DAY_MS, "from"),
                                  (BASE, BASE + 500 * DAY_MS, "to")):
        with pytest.raises(DomainError) as refused:
            lake_history.start_query(empty_engine, TENANT, time_zone=TZ, from_ms=from_ms, to_ms=to_ms, interval="week")
        assert refused.value.field == field, (from_ms, to_ms, refused.value)


def _deps_without_agent_activity():  # noqa: ANN202
    deps = memory_dependencies()
    deps.clock.now = BASE + 30 * DAY_MS
    deps.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    history.put_kpi_settings(deps, TENANT, SETTINGS)
    for record in marked_records():
        deps.history.put_record(record)
    return deps


@pytest.mark.parametrize("with_activity", [False, True])
def test_the_lake_warns_of_no_agent_activity_whatever_the_grouping_as_the_fast_path(tmp_path, with_activity):
    deps = fixture_deps() if with_activity else _deps_without_agent_activity()
    local_lake.reexport_days(local_lake.duckdb.connect(), tmp_path, deps.history, tenant_id=TENANT, tz=TZ,
                             first_day=DAY, last_day=DAY, settings=SETTINGS)
    engine = DuckDbLakeQueries(tmp_path)
    try:
        for group_by in (("queue",), ("reason", "agent"), ()):
            lake = lake_history.historical(deps, engine, TENANT, start=_at(BASE - 100 * DAY_MS), end=_at(BASE + DAY_MS),
                                           interval="day", group_by=group_by)
            fast = history.historical_metrics(deps, TENANT, start=_at(BASE - DAY_MS), end=_at(BASE + DAY_MS),
                                              interval="day", group_by=group_by)
            said = [w for w in lake.warnings if w == history.NO_AGENT_ACTIVITY]
            assert said == [w for w in fast.warnings if w == history.NO_AGENT_ACTIVITY] == (
                [] if with_activity else [history.NO_AGENT_ACTIVITY]), group_by
    finally:
        engine.close()


def test_a_settings_change_is_a_new_statement_for_an_engine_that_reuses_recent_results(tmp_path):
    deps = _deps_without_agent_activity()
    started = []

    class Recording(DuckDbLakeQueries):
        def start(self, query):  # noqa: ANN001, ANN202
            started.append(query)
            return super().start(query)

    engine = Recording(tmp_path, delay_s=0.2)  # every report a 202 first (waiting 0 s), fetched by its id
    long_range = {"start": _at(BASE - 100 * DAY_MS), "end": _at(BASE + DAY_MS), "interval": "week", "wait_s": 0.0}
    try:
        lake_history.historical(deps, engine, TENANT, **long_range)
        lake_history.historical(deps, engine, TENANT, **long_range)
        changed = {"short_abandon_s": 60.0, "service_level_variant": "abandons_count_as_met"}
        history.put_kpi_settings(deps, TENANT, SETTINGS.model_copy(update=changed))
        accepted = lake_history.historical(deps, engine, TENANT, **long_range)
        assert isinstance(accepted, lake_history.LakeQueryAccepted)
        # the tenant's variant changes again before the report is fetched: it keeps the label of its figures
        history.put_kpi_settings(deps, TENANT, SETTINGS)
        report = lake_history.query_result(deps, engine, TENANT, accepted.query_id, wait_s=10.0)
    finally:
        engine.close()
    assert started[0] == started[1]  # the same report again: the same statement (a stored result may answer it)
    assert started[2].sql == started[1].sql and started[2].parameters != started[1].parameters
    assert report.service_level_variant == "abandons_count_as_met"


class _Failing:
    """An engine whose every query fails for a passing reason."""

    def start(self, query):  # noqa: ANN001, ANN202
        return "q1"

    def status(self, query_id, wait_s=0.0):  # noqa: ANN001, ANN202
        return LakeQueryStatus("FAILED", TENANT, "Athena had an internal service error (Athena error type 100)",
                               retryable=True)


def test_a_failure_that_may_pass_is_lake_busy_not_a_422():
    deps = _deps_without_agent_activity()
    with pytest.raises(lake_history.LakeBusy, match="ask for the report again"):
        lake_history.historical(deps, _Failing(), TENANT, start=_at(BASE - 100 * DAY_MS), end=_at(BASE), interval="day")
    context = lake_history.QueryContext(i="day", g=(), v=None, f=BASE - 100 * DAY_MS, t=BASE, n=2000)
    with pytest.raises(lake_history.LakeBusy):
        lake_history.query_result(deps, _Failing(), TENANT, f"q1.{context.encode()}")


def test_a_range_whose_only_contact_was_abandoned_in_it_is_no_empty_range_on_either_path(tmp_path):
    """Enqueued at 23:58 and abandoned at 00:01: the new day's report counts it nowhere (its offer is the day
    before), yet the fast path does not say "no contacts in this range" (it completed in it): nor does the lake."""
    from ccaas.domain.kpis.intervals import TenantCalendar
    from ccaas.domain.kpis.records import ContactRecord

    calendar = TenantCalendar(TZ)
    midnight = calendar.day_start(datetime(2026, 11, 21).date())
    abandoned = ContactRecord(tenant_id=TENANT, contact_id="late-abandon", channel="VOICE", queue_id="q1",
                              initiated_at=midnight - 3 * 60_000, enqueued_at=midnight - 2 * 60_000,
                              disconnected_at=midnight + 60_000, final_state="ABANDONED",
                              last_updated_at=midnight + 120_000)
    deps = memory_dependencies()
    deps.clock.now = BASE + 30 * DAY_MS
    deps.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=TZ))
    deps.history.put_record(abandoned)
    local_lake.reexport_days(local_lake.duckdb.connect(), tmp_path, deps.history, tenant_id=TENANT, tz=TZ,
                             first_day="2026-11-20", last_day="2026-11-20")
    engine = DuckDbLakeQueries(tmp_path)
    try:
        lake = lake_history.historical(deps, engine, TENANT, start=_at(midnight), end=_at(midnight + 100 * DAY_MS),
                                       interval="week", group_by=("queue",))
    finally:
        engine.close()
    fast = history.historical_metrics(deps, TENANT, start=_at(midnight), end=_at(midnight + DAY_MS), interval="day",
                                      group_by=("queue",))
    assert history.NO_CONTACTS not in fast.warnings and history.NO_CONTACTS not in lake.warnings, lake.warnings
    assert history.NO_AGENT_ACTIVITY in fast.warnings and history.NO_AGENT_ACTIVITY in lake.warnings
