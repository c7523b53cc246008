"""One definition of each KPI, two engines: the Python roll-up and the lake's SQL views must agree.

Each synthetic day goes through the Python roll-up (a KpiLedger fed once per grouping and read per interval,
which is what `rollup()` is) and, exported as Parquet by local.lake (DuckDB), through the
SQL views in ccaas/domain/lake_sql; every raw count must be equal and every KPI equal to 1e-9, per
15-minute interval, hour and day, ungrouped and grouped by queue, agent, channel and two dimensions.

Days: the hand-checked fixture of test_kpis.py (its builders imported), and seeded random days of a
few thousand contact segments (transfers, queue transfers, consults and cancelled consult legs,
conferences, holds, abandons and waits the system ended (timed out), surveys, evaluations, repeats,
stale versions and duplicates, open contacts, clocks out of order, concurrency slots) on a DST-free day
and both DST change days.
"""
from __future__ import annotations

import math
import operator
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ccaas.domain.kpis import (
    KPI_NAMES,
    ActivityKind,
    AgentActivity,
    Channel,
    ContactRecord,
    FinalState,
    KpiSettings,
    mark_repeat_contacts,
    rollup,
)
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS
from ccaas.domain.kpis.ledger import DIMENSIONS, KpiLedger
from local import lake as local_lake
from tests.unit.test_kpis import BASE, END, SETTINGS, TENANT, TZ, fixture_activities, marked_records

FLOATS = (*KPI_NAMES, "share_of_offered")
LABELS = ("interval_start", "interval_end", "interval_end_ms", *DIMENSIONS)
# A row's labels, counts and KPIs in one tuple: where SQL and Python agree exactly (nearly every row), one
# comparison in C instead of ~90 in Python; the checks below then find nothing and run only where they differ.
_EVERY_VALUE = operator.itemgetter(*LABELS, *ACCUMULATOR_FIELDS, *FLOATS)
GROUPINGS = ((), ("queue",), ("agent",), ("channel",), ("team",), ("reason", "channel"), ("queue", "agent"))


# --- comparing ---------------------------------------------------------------------------------------
def _key(row: dict, group_by: tuple[str, ...]) -> tuple:
    return (row["interval_start_ms"], *(row[d] for d in group_by))


def _fed_ledger(records, activities, *, tz, group_by, settings) -> KpiLedger:
    """rollup()'s ledger before it is read: fed once, it gives every interval's rows (rows() only reads it)."""
    ledger = KpiLedger(tz=tz, group_by=group_by, settings=settings)
    for record in records:
        ledger.apply(record)
    for activity in activities:
        ledger.apply_activity(activity)
    return ledger


def _python(ledger: KpiLedger, *, interval, from_ms, to_ms) -> dict[tuple, dict]:
    # A row's field dict, read only: the values model_dump() copies out (flat fields, no serializers), at a
    # tenth of its cost (~50,000 rows in this file).
    rows = (r.__dict__ for r in ledger.rows(interval, from_ms=from_ms, to_ms=to_ms))
    return {_key(row, ledger.group_by): row for row in rows}


def _sql(con, *, tenant, interval, group_by, from_ms, to_ms, kept=None) -> dict[tuple, dict]:
    rows = local_lake.kpi_rows(con, tenant_id=tenant, from_ms=from_ms, to_ms=to_ms, interval=interval,
                               group_by=group_by)
    if kept is not None and (interval, tuple(group_by)) in kept:
        kept[interval, tuple(group_by)] = rows
    return {_key(r, group_by): r for r in rows}


def assert_same(python: dict[tuple, dict], sql: dict[tuple, dict]) -> int:
    """Equal row keys, labels, counts; KPIs equal to 1e-9 (None only where None). Returns rows compared."""
    assert sorted(python, key=repr) == sorted(sql, key=repr)
    for key, want in python.items():
        got = sql[key]
        if _EVERY_VALUE(got) == _EVERY_VALUE(want):
            continue  # equal labels and counts, KPIs equal (None where None): what the checks below hold
        for label in LABELS:
            assert got[label] == want[label], (key, label)
        for name in ACCUMULATOR_FIELDS:
            assert int(got[name]) == want[name], (key, name, got[name], want[name])
        for name in FLOATS:
            a, b = got[name], want[name]
            if b is None:
                assert a is None, (key, name, a)
            else:
                assert a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (key, name, a, b)
    return len(python)


def check_all(con, records, activities, *, tenant, tz, from_ms, to_ms, settings, intervals=("15m", "hour", "day"),
              groupings=GROUPINGS, kept=None) -> int:
    """`kept`: {(interval, grouping): None, …}, filled with the SQL side's rows of those, for a test to read again."""
    compared = 0
    for group_by in groupings:
        # Feeding is about half of the Python side's time, and the same for every interval: once per grouping.
        ledger = _fed_ledger(records, activities, tz=tz, group_by=group_by, settings=settings)
        for interval in intervals:
            python = _python(ledger, interval=interval, from_ms=from_ms, to_ms=to_ms)
            sql = _sql(con, tenant=tenant, interval=interval, group_by=group_by, from_ms=from_ms, to_ms=to_ms,
                       kept=kept)
            compared += assert_same(python, sql)
    # rollup() itself gives those rows (it is that ledger, fed and read): checked once, on the last grouping.
    rows = rollup(records, activities, tz=tz, interval=intervals[-1], group_by=groupings[-1], from_ms=from_ms,
                  to_ms=to_ms, settings=settings)
    assert [r.model_dump() for r in rows] == list(python.values())
    return compared


def in_memory_duckdb():  # noqa: ANN201 (a DuckDB connection)
    """One thread: these days are small, and `make test` runs two workers on two cores (DuckDB's own threads
    only fought the other worker for them: ~12 % more CPU for the same queries)."""
    return local_lake.duckdb.connect(config={"threads": 1})


def export(tmp: Path, records, activities, *, tenant, tz, first_day, last_day, settings):
    con = in_memory_duckdb()
    local_lake.export_records(con, tmp, tenant_id=tenant, tz=tz, records=records, activities=activities,
                              first_day=first_day, last_day=last_day, settings=settings)
    return local_lake.connect(tmp, con)


# --- the hand-checked fixture ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory):
    return export(tmp_path_factory.mktemp("lake"), marked_records(), fixture_activities(), tenant=TENANT, tz=TZ,
                  first_day="2026-11-20", last_day="2026-11-20", settings=SETTINGS)


def test_fixture_day_agrees_in_every_count_and_kpi(fixture_lake):
    compared = check_all(fixture_lake, marked_records(), fixture_activities(), tenant=TENANT, tz=TZ,
                         from_ms=BASE, to_ms=END, settings=SETTINGS, intervals=("15m", "hour", "day", "week"))
    assert compared > 50


def test_fixture_hand_checked_figures_come_out_of_sql(fixture_lake):
    """A few of test_kpis' hand-computed figures, read from the SQL side directly."""
    (day,) = local_lake.kpi_rows(fixture_lake, tenant_id=TENANT, from_ms=BASE, to_ms=END, interval="day")
    assert (day["offered"], day["answered"], day["abandoned"], day["short_abandoned"]) == (12, 8, 4, 2)
    assert day["handled"] == 8 and day["transferred"] == 1
    assert day["aht_s"] == pytest.approx((330 + 320 + 660 + 330 + 330 + 680 + 330 + 630) / 8)
    assert day["interval_start"] == "2026-11-20T00:00:00-05:00"


def _with_timeouts() -> list[ContactRecord]:
    """The fixture day plus two waits the system ended (queue timeout, expired callback), one short, one long."""
    extra = [r.model_copy(update={"contact_id": f"{r.contact_id}-T", "customer_id": None, "timed_out": True})
             for r in marked_records() if r.contact_id in ("C3", "C5")]
    return marked_records() + extra


def test_a_timed_out_contact_is_offered_and_no_abandon_in_both_engines(tmp_path):
    records = _with_timeouts()
    con = export(tmp_path, records, fixture_activities(), tenant=TENANT, tz=TZ, first_day="2026-11-20",
                 last_day="2026-11-20", settings=SETTINGS)
    (day,) = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=BASE, to_ms=END, interval="day")
    assert (day["offered"], day["answered"], day["abandoned"], day["timed_out"]) == (14, 8, 4, 2)
    assert (day["short_abandoned"], day["abandoned_within_sl"]) == (2, 2)
    check_all(con, records, fixture_activities(), tenant=TENANT, tz=TZ, from_ms=BASE, to_ms=END, settings=SETTINGS,
              intervals=("15m", "day"), groupings=((), ("queue",)))


def test_rows_stored_before_timed_out_existed_count_as_they_did(tmp_path):
    """Parquet written without the column reads it as NULL (Athena, by name): an abandon, as it was counted."""
    records = _with_timeouts()
    con = export(tmp_path, records, fixture_activities(), tenant=TENANT, tz=TZ, first_day="2026-11-20",
                 last_day="2026-11-20", settings=SETTINGS)
    con.execute("CREATE OR REPLACE TABLE old_contact_records AS SELECT * REPLACE (CAST(NULL AS BOOLEAN) AS timed_out) "
                "FROM contact_records")
    con.execute("CREATE OR REPLACE VIEW contact_records AS SELECT * FROM old_contact_records")
    (day,) = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=BASE, to_ms=END, interval="day")
    as_abandons = [r.model_copy(update={"timed_out": False}) for r in records]
    (python,) = rollup(as_abandons, fixture_activities(), tz=TZ, interval="day", from_ms=BASE, to_ms=END,
                       settings=SETTINGS)
    assert (day["abandoned"], day["timed_out"]) == (python.abandoned, python.timed_out) == (6, 0)


@pytest.mark.parametrize("variant", [
    {"service_level_variant": "answered_over_offered"},
    {"service_level_variant": "abandons_count_as_met"},
    {"abandonment_variant": "include_short_abandons"},
    {"fcr_population": "handled_only"},
    {"short_abandon_s": 3.0, "default_sl_threshold_s": 15},
    {"agent_cost_per_staffed_hour": None},
    {"agent_cost_per_staffed_hour": 30.0, "infrastructure_cost_per_handle_minute": 0.02},
])
def test_every_settings_variant_agrees(tmp_path, variant):
    settings = SETTINGS.model_copy(update=variant)
    con = export(tmp_path, marked_records(), fixture_activities(), tenant=TENANT, tz=TZ, first_day="2026-11-20",
                 last_day="2026-11-20", settings=settings)
    check_all(con, marked_records(), fixture_activities(), tenant=TENANT, tz=TZ, from_ms=BASE, to_ms=END,
              settings=settings, intervals=("15m", "day"), groupings=((), ("queue",), ("agent",)))


# --- seeded random days ------------------------------------------------------------------------------
QUEUES = {"q-sales": 20, "q-support": 30, "q-billing": None, "q-vip": 10}
AGENTS = {f"a{i:02d}": f"team-{i % 4}" for i in range(24)}
REASONS = ("billing", "tech", "sales", "cancel", None)
CHANNELS = (Channel.VOICE, Channel.VOICE, Channel.CHAT, Channel.EMAIL)


def random_day(seed: int, tenant: str, tz: str, day: date, n: int = 2500):
    """(all versions fed, latest versions marked for FCR, activity spans) of one local day."""
    rng = random.Random(seed)
    timeouts = random.Random(seed + 1000)  # its own stream: the other draws stay those of the seed
    zone = ZoneInfo(tz)
    start = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)
    end = int(datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).timestamp() * 1000)
    records: list[ContactRecord] = []
    for i in range(n):
        cid = f"{tenant}-{day}-{i}"
        queue = rng.choice(list(QUEUES))
        agent = rng.choice(list(AGENTS))
        channel = rng.choice(CHANNELS)
        init = start + rng.randrange(0, end - start - 60_000)
        enq = init + rng.randrange(0, 20_000) if rng.random() < 0.93 else None  # some outbound, never queued
        wait = int(rng.expovariate(1 / 25_000))
        kind = rng.random()
        connected = disconnected = acw_end = None
        state = FinalState.COMPLETED
        hold = holds = 0
        timed_out = False
        if kind < 0.2 and enq is not None:  # abandon (some exactly at the 5 s / threshold boundaries)
            wait = rng.choice([wait, 5_000, 20_000, 30_000, 10_000, 0])
            disconnected = enq + wait if rng.random() < 0.95 else None
            state = FinalState.ABANDONED
            timed_out = timeouts.random() < 0.2  # the queue ended the wait: not an abandon
        elif kind < 0.23:
            state = rng.choice([FinalState.FAILED, FinalState.CALLBACK_SCHEDULED])
            disconnected = (enq or init) + wait
        else:
            base = enq if enq is not None else init
            if rng.random() < 0.05:
                wait = rng.choice([20_000, 30_000, 10_000])  # exactly T
            connected = base + wait
            talk = int(rng.expovariate(1 / 240_000))
            if rng.random() < 0.3:
                holds = rng.randint(1, 3)
                hold = rng.randrange(0, 90_000)
            disconnected = connected + talk + hold if rng.random() < 0.97 else None  # a few still open
            if rng.random() < 0.02 and disconnected is not None:
                disconnected = connected - 1_000  # clocks out of order: talk clamps to 0
            if disconnected is not None and rng.random() < 0.8:
                acw_end = disconnected + rng.choice([0, int(rng.expovariate(1 / 30_000))])
                if rng.random() < 0.02:
                    acw_end = disconnected - 500  # ACW out of order: 0
        transferred = state is FinalState.COMPLETED and connected is not None and rng.random() < 0.12
        if transferred:
            state = FinalState.TRANSFERRED
        consult_leg = rng.random() < 0.02
        handover = rng.choice([None, None, None, "BLIND", "CONSULT", "ESCALATION"])
        if consult_leg:
            handover = "CONSULT"
        initiation = rng.choice(["INBOUND"] * 6 + ["TRANSFER", "TRANSFER", "OUTBOUND", "CALLBACK", "API"])
        evaluated = connected is not None and rng.random() < 0.25
        score = rng.choice([0.0, 55.55, 72.25, 80.0, 99.95, 100.0, 63.4]) if evaluated else None
        record = ContactRecord(
            tenant_id=tenant, contact_id=cid, channel=channel, initiation_method=initiation,
            queue_id=queue if enq is not None or rng.random() < 0.5 else None,
            agent_id=agent if connected is not None or rng.random() < 0.1 else None,
            team=AGENTS[agent] if connected is not None else None,
            skill=rng.choice(["en", "es", None]), reason=rng.choice(REASONS),
            segment=rng.choice(["gold", "std", None]), customer_id=f"cust-{rng.randrange(400)}"
            if rng.random() < 0.9 else None,
            previous_contact_id=f"{tenant}-{day}-{i - 1}" if initiation == "TRANSFER" and i else None,
            initiated_at=init, enqueued_at=enq, connected_at=connected, disconnected_at=disconnected,
            acw_ended_at=acw_end, hold_ms=hold, hold_count=holds, transferred=transferred,
            transferred_to_kind=rng.choice(["QUEUE", "AGENT", "EXTERNAL"]) if transferred else None,
            handover_mode=handover, queue_transfer=initiation == "TRANSFER" and rng.random() < 0.3,
            consult_ms=rng.choice([0, 0, 0, rng.randrange(1, 120_000)]),
            conference_ms=rng.choice([0, 0, 0, rng.randrange(1, 200_000)]) if connected else 0,
            consult_leg=consult_leg, timed_out=timed_out, final_state=state,
            sl_threshold_s=QUEUES[queue] if rng.random() < 0.9 else None,
            last_updated_at=(acw_end or disconnected or init) + 60_000,
            csat=rng.randint(1, 5) if rng.random() < 0.3 else None,
            ces=rng.randint(1, 7) if rng.random() < 0.2 else None,
            nps=rng.randint(0, 10) if rng.random() < 0.25 else None,
            evaluation_score=score, evaluation_auto_failed=(score == 0.0) if evaluated else None,
        )
        records.append(record)
    marked = mark_repeat_contacts(records, window_days=7)
    # Stale versions and duplicates: the roll-up and the exporter must both count the latest once.
    fed = list(marked)
    for rec in rng.sample(marked, n // 10):
        fed.append(rec.model_copy(update={"last_updated_at": rec.last_updated_at - 1_000, "csat": 1,
                                          "hold_ms": rec.hold_ms + 7_000}))
        fed.append(rec)
    rng.shuffle(fed)
    activities: list[AgentActivity] = []
    for agent, team in AGENTS.items():
        t = start - rng.randrange(0, 3_600_000)  # the first span starts before the day
        while t < end + 1_800_000:
            kind = rng.choice(list(ActivityKind))
            length = rng.randrange(1, 2_400_000)
            busy = available = None
            if kind is ActivityKind.ON_CONTACT and rng.random() < 0.3:
                busy, available = rng.randint(1, 3), 3
            activities.append(AgentActivity(agent_id=agent, team=team, tenant_id=tenant, start_ms=t, end_ms=t + length,
                                            kind=kind, slots_busy=busy, slots_available=available))
            t += length
    return fed, marked, activities, start, end


DAYS = [
    ("flat", "Europe/Berlin", date(2026, 6, 17), 11),
    ("spring-forward", "America/New_York", date(2026, 3, 8), 12),
    ("fall-back", "America/New_York", date(2026, 11, 1), 13),
    ("half-hour-zone", "Asia/Kolkata", date(2026, 2, 2), 14),
]


@pytest.mark.parametrize(("label", "tz", "day", "seed"), DAYS, ids=[d[0] for d in DAYS])
def test_random_day_agrees_in_every_count_and_kpi(tmp_path, label, tz, day, seed):
    tenant = f"t-{label}"
    fed, _, activities, start, end = random_day(seed, tenant, tz, day)
    settings = KpiSettings(agent_cost_per_staffed_hour=28.0, infrastructure_cost_per_contact=0.05,
                           infrastructure_cost_per_handle_minute=0.01)
    # The day before and after are exported too (no data there): the query range binds the day.
    con = export(tmp_path, fed, activities, tenant=tenant, tz=tz, first_day=(day - timedelta(days=1)).isoformat(),
                 last_day=(day + timedelta(days=1)).isoformat(), settings=settings)
    kept: dict = {("15m", ()): None}
    compared = check_all(con, fed, activities, tenant=tenant, tz=tz, from_ms=start, to_ms=end, settings=settings,
                         kept=kept)
    assert compared > 1000
    quarters = kept["15m", ()]  # the ungrouped quarter-hours just compared (the same kpi_rows call)
    hours = {"spring-forward": 23, "fall-back": 25}.get(label, 24)
    assert len(quarters) == hours * 4  # DST days have 92 / 100 quarter-hours, in both engines
    # Reading only the day's partitions gives the same figures (spans are cut at local midnight).
    pruned = local_lake.kpi_rows(con, tenant_id=tenant, from_ms=start, to_ms=end, interval="15m",
                                 scan_days=(day.isoformat(), day.isoformat()))
    assert pruned == quarters


def test_a_sub_range_and_two_tenants_in_one_lake_stay_apart(tmp_path):
    """A query binds its tenant: two tenants exported into one lake never mix; a range within the day
    (not on quarter boundaries) agrees too."""
    con = in_memory_duckdb()
    data = {}
    for tenant, seed in (("alpha", 1), ("beta", 2)):
        fed, _, activities, start, end = random_day(seed, tenant, "Europe/Berlin", date(2026, 6, 17), n=600)
        local_lake.export_records(con, tmp_path, tenant_id=tenant, tz="Europe/Berlin", records=fed,
                                  activities=activities, first_day="2026-06-17", last_day="2026-06-17",
                                  settings=SETTINGS)
        data[tenant] = (fed, activities, start, end)
    local_lake.connect(tmp_path, con)
    for tenant, (fed, activities, start, end) in data.items():
        lo, hi = start + 3 * 3_600_000 + 7 * 60_000, start + 9 * 3_600_000 + 1
        check_all(con, fed, activities, tenant=tenant, tz="Europe/Berlin", from_ms=lo, to_ms=hi, settings=SETTINGS,
                  intervals=("15m", "hour", "day"), groupings=((), ("queue",), ("agent",)))
    (alpha,) = local_lake.kpi_rows(con, tenant_id="alpha", from_ms=data["alpha"][2], to_ms=data["alpha"][3],
                                   interval="day")
    assert alpha["tenant_id"] == "alpha" and alpha["offered"] < 600


def test_reexporting_a_day_replaces_its_partition(tmp_path):
    """A late survey re-exported with its day corrects the lake instead of adding a second copy."""
    records = marked_records()
    con = export(tmp_path, records, fixture_activities(), tenant=TENANT, tz=TZ, first_day="2026-11-20",
                 last_day="2026-11-20", settings=SETTINGS)
    (before,) = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=BASE, to_ms=END, interval="day")
    late = [r.model_copy(update={"csat": 5, "last_updated_at": r.last_updated_at + 1}) if r.contact_id == "C3" else r
            for r in records]
    con = export(tmp_path, late, fixture_activities(), tenant=TENANT, tz=TZ, first_day="2026-11-20",
                 last_day="2026-11-20", settings=SETTINGS)
    kept: dict = {("day", ()): None}
    check_all(con, late, fixture_activities(), tenant=TENANT, tz=TZ, from_ms=BASE, to_ms=END, settings=SETTINGS,
              intervals=("day",), groupings=((),), kept=kept)
    (after,) = kept["day", ()]  # the day's row check_all just read (the same kpi_rows call)
    assert after["offered"] == before["offered"] == 12
    assert after["csat_count"] == before["csat_count"] + 1


def test_a_contact_open_for_days_counts_its_handling_where_it_completed(tmp_path):
    """An e-mail enqueued on the 20th and completed on the 23rd: a report of the 23rd reads the 22nd and 23rd
    only, so the contact's own row (filed under the 20th) was never scanned there — handled 0 while history said 1
    (outside review, session 25). Its handling side is in a copy under the 23rd; nothing counts twice."""
    from ccaas.domain.kpis.intervals import TenantCalendar  # noqa: PLC0415
    from ccaas.usecases import lake as ulake  # noqa: PLC0415

    day = 86_400_000
    email = ContactRecord(tenant_id=TENANT, contact_id="E1", channel=Channel.EMAIL, queue_id="q1", agent_id="a1",
                          initiated_at=BASE, enqueued_at=BASE, connected_at=BASE + 300_000,
                          disconnected_at=BASE + 3 * day, acw_ended_at=BASE + 3 * day + 120_000,
                          final_state=FinalState.COMPLETED, sl_threshold_s=20, last_updated_at=BASE + 3 * day + 120_000)
    quick = email.model_copy(update={"contact_id": "E2", "disconnected_at": BASE + 600_000,
                                     "acw_ended_at": BASE + 660_000, "last_updated_at": BASE + 660_000})
    records = [email, quick]
    con = export(tmp_path, records, [], tenant=TENANT, tz=TZ, first_day="2026-11-20", last_day="2026-11-23",
                 settings=SETTINGS)
    calendar = TenantCalendar(TZ)
    assert con.execute("SELECT count(*) FROM contact_records WHERE NOT COALESCE(completion_copy, FALSE)").fetchone()[0] == 2
    for first, last in (("2026-11-20", "2026-11-20"), ("2026-11-23", "2026-11-23"), ("2026-11-20", "2026-11-23")):
        lo, hi = calendar.day_start(date.fromisoformat(first)), calendar.day_start(date.fromisoformat(last) + timedelta(days=1))
        sql = local_lake.kpi_rows(con, tenant_id=TENANT, from_ms=lo, to_ms=hi, interval="day",
                                  scan_days=ulake.scan_days(calendar, lo, hi))
        python = rollup(records, [], tz=TZ, interval="day", from_ms=lo, to_ms=hi, settings=SETTINGS)
        assert [(r["offered"], r["handled"], r["handle_ms"]) for r in sql if r["offered"] or r["handled"]] == \
               [(r.offered, r.handled, r.handle_ms) for r in python if r.offered or r.handled], (first, last)
    (day_23,) = [r for r in python if r.handled and r.interval_start.startswith("2026-11-23")]
    assert day_23.handled == 1 and day_23.offered == 0
