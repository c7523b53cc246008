"""Every KPI and variant against a fixture computed by hand.

The fixture: tenant "acme" in America/New_York on Friday 2026-11-20 (EST, UTC−5), 10:00–10:45 local,
three 15-minute intervals I1 = 10:00, I2 = 10:15, I3 = 10:30. Times below are seconds after 10:00:00.
Queues: q-sales (SL threshold T = 20 s), q-support (T = 30 s). Agents: ann (team east), bob (west).

 id   ch    queue      agent reason  seg  cust enq   conn  disc  acw_end hold(n) surveys            notes
 C1   VOICE q-sales    ann   billing gold c1      0    10   310    340   60(1) csat5 ces2 nps10
 C2   VOICE q-sales    bob   tech    std  c2     60   100   400    420    0    csat3 ces5 nps6
 C3   VOICE q-sales    -     billing std  c3    120     -   123      -    -                       abandoned
 C4   CHAT  q-support  ann   tech    gold c4    200   215   815    875    0    csat4 nps9
 C5   CHAT  q-support  -     billing std  c5    300     -   345      -    -                       abandoned
 C6   VOICE q-sales    ann   billing gold c1    900   915  1215   1245   30(2)                    transferred
 C7   VOICE q-support  bob   billing gold c1   1215  1235  1535   1565    0    csat5 ces1 nps10   TRANSFER leg of C6
 C8   VOICE q-sales    -     tech    std  c2   1000     -  1030      -    -                       abandoned
 C9   CHAT  q-support  bob   tech    gold c6   1100  1150  1750   1830    0    csat2 ces6         ends in I3
 C10  VOICE q-sales    ann   tech    std  c7   1800  1820  2120   2150   45(1) csat4 nps8
 C11  VOICE q-sales    -     billing gold c8   1900     -  1905      -    -                       abandoned
 C12  CHAT  q-support  bob   billing std  c5   2000  2010  2610   2640    0    csat1 nps3

Per contact (seconds): wait = conn − enq (abandoned: disc − enq); talk = disc − conn − hold;
acw = acw_end − disc; handle = talk + hold + acw.
 C1 wait 10 ≤20 met; talk 300−60=240, acw 30, handle 330      C7  wait 20 ≤30 met; talk 300, acw 30, handle 330
 C2 wait 40 >20;      talk 300,       acw 20, handle 320      C8  abandoned after 30 (>20, not short)
 C3 abandoned after 3 (short: ≤5; within T)                   C9  wait 50 >30;     talk 600, acw 80, handle 680
 C4 wait 15 ≤30 met;  talk 600,       acw 60, handle 660      C10 wait 20 =T met; talk 300−45=255, acw 30, handle 330
 C5 abandoned after 45 (>30, not short)                       C11 abandoned after 5 (=5: short; within T)
 C6 wait 15 ≤20 met;  talk 300−30=270, acw 30, handle 330     C12 wait 10 ≤30 met; talk 600, acw 30, handle 630

Queue side counts in the enqueue interval: I1 = C1–C5, I2 = C6–C9, I3 = C10–C12.
Handling side counts in the completion interval (acw_end, else disc): I1 = C1 C2 C3 C4 C5,
I2 = C6 C7 C8, I3 = C9 C10 C11 C12.

Agent activity (seconds, [start, end)):
 ann: ON_CONTACT 0–600 | ACW 600–700 | IDLE 700–1200 | NOT_READY 1200–1500 |
      ON_CONTACT 1500–2400 (1 busy of 3 slots) | NOT_READY 2400–2550 | OFFLINE 2550–2700
 bob: IDLE 0–300 | ON_CONTACT 300–900 (2 busy of 3 slots) | ACW 900–1000 | IDLE 1000–2000 |
      ON_CONTACT 2000–2700
"""
from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from ccaas.domain.kpis import (
    CSV_COLUMNS,
    KPI_NAMES,
    ActivityKind,
    AgentActivity,
    Channel,
    ContactRecord,
    FinalState,
    KpiAccumulator,
    KpiLedger,
    KpiRow,
    KpiSettings,
    busiest_intervals,
    channel_mix,
    contact_type_mix,
    derive_kpis,
    mark_repeat_contacts,
    rollup,
    rows_to_csv,
)
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS, abandonment_rate, fcr, repeat_rate, service_level

TZ = "America/New_York"
TENANT = "acme"
BASE = int(datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc).timestamp()) * 1000  # 10:00 EST
I1, I2, I3 = BASE, BASE + 900_000, BASE + 1_800_000
END = BASE + 2_700_000  # 10:45
SETTINGS = KpiSettings(agent_cost_per_staffed_hour=36.0, infrastructure_cost_per_contact=0.5)
approx = pytest.approx


def at(seconds: float) -> int:
    return BASE + int(seconds * 1000)


QUEUE_T = {"q-sales": 20, "q-support": 30}
TEAM = {"ann": "east", "bob": "west"}


def contact(
    cid: str,
    channel: Channel,
    queue: str,
    agent: str | None,
    reason: str,
    segment: str,
    customer: str,
    enq: float,
    conn: float | None,
    disc: float,
    acw_end: float | None,
    hold: float = 0,
    holds: int = 0,
    **extra,
) -> ContactRecord:
    state = extra.pop("final_state", FinalState.COMPLETED if conn is not None else FinalState.ABANDONED)
    return ContactRecord(
        tenant_id=TENANT,
        contact_id=cid,
        channel=channel,
        initiation_method=extra.pop("initiation_method", "INBOUND"),
        queue_id=queue,
        agent_id=agent,
        team=TEAM.get(agent) if agent else None,
        skill="es" if cid in ("C4", "C9") else "en",
        reason=reason,
        segment=segment,
        customer_id=customer,
        initiated_at=extra.pop("initiated_at", at(enq - 15)),
        enqueued_at=at(enq),
        connected_at=None if conn is None else at(conn),
        disconnected_at=at(disc),
        acw_ended_at=None if acw_end is None else at(acw_end),
        hold_ms=int(hold * 1000),
        hold_count=holds,
        final_state=state,
        sl_threshold_s=QUEUE_T[queue],
        last_updated_at=extra.pop("last_updated_at", at((acw_end or disc) + 60)),
        **extra,
    )


V, C = Channel.VOICE, Channel.CHAT


def fixture_records() -> list[ContactRecord]:
    return [
        contact("C1", V, "q-sales", "ann", "billing", "gold", "c1", 0, 10, 310, 340, hold=60, holds=1,
                csat=5, ces=2, nps=10),
        contact("C2", V, "q-sales", "bob", "tech", "standard", "c2", 60, 100, 400, 420, csat=3, ces=5, nps=6),
        contact("C3", V, "q-sales", None, "billing", "standard", "c3", 120, None, 123, None),
        contact("C4", C, "q-support", "ann", "tech", "gold", "c4", 200, 215, 815, 875, csat=4, nps=9),
        contact("C5", C, "q-support", None, "billing", "standard", "c5", 300, None, 345, None),
        contact("C6", V, "q-sales", "ann", "billing", "gold", "c1", 900, 915, 1215, 1245, hold=30, holds=2,
                transferred=True, final_state=FinalState.TRANSFERRED),
        contact("C7", V, "q-support", "bob", "billing", "gold", "c1", 1215, 1235, 1535, 1565, csat=5, ces=1, nps=10,
                initiation_method="TRANSFER", previous_contact_id="C6", initial_contact_id="C6", initiated_at=at(1215)),
        contact("C8", V, "q-sales", None, "tech", "standard", "c2", 1000, None, 1030, None),
        contact("C9", C, "q-support", "bob", "tech", "gold", "c6", 1100, 1150, 1750, 1830, csat=2, ces=6),
        contact("C10", V, "q-sales", "ann", "tech", "standard", "c7", 1800, 1820, 2120, 2150, hold=45, holds=1,
                csat=4, nps=8),
        contact("C11", V, "q-sales", None, "billing", "gold", "c8", 1900, None, 1905, None),
        contact("C12", C, "q-support", "bob", "billing", "standard", "c5", 2000, 2010, 2610, 2640, csat=1, nps=3),
    ]


def span(agent: str, start: float, end: float, kind: ActivityKind, busy: int | None = None,
         available: int | None = None) -> AgentActivity:
    return AgentActivity(agent_id=agent, team=TEAM[agent], start_ms=at(start), end_ms=at(end), kind=kind,
                         slots_busy=busy, slots_available=available)


K = ActivityKind


def fixture_activities() -> list[AgentActivity]:
    return [
        span("ann", 0, 600, K.ON_CONTACT),
        span("ann", 600, 700, K.ACW),
        span("ann", 700, 1200, K.AVAILABLE_IDLE),
        span("ann", 1200, 1500, K.NOT_READY),
        span("ann", 1500, 2400, K.ON_CONTACT, busy=1, available=3),
        span("ann", 2400, 2550, K.NOT_READY),
        span("ann", 2550, 2700, K.OFFLINE),
        span("bob", 0, 300, K.AVAILABLE_IDLE),
        span("bob", 300, 900, K.ON_CONTACT, busy=2, available=3),
        span("bob", 900, 1000, K.ACW),
        span("bob", 1000, 2000, K.AVAILABLE_IDLE),
        span("bob", 2000, 2700, K.ON_CONTACT),
    ]


def marked_records() -> list[ContactRecord]:
    return mark_repeat_contacts(fixture_records(), window_days=7)


def kpi_rows(interval="15m", group_by=(), settings=SETTINGS, records=None, activities=None) -> list[KpiRow]:
    return rollup(
        marked_records() if records is None else records,
        fixture_activities() if activities is None else activities,
        tz=TZ, interval=interval, group_by=group_by, from_ms=BASE, to_ms=END, settings=settings,
    )


@pytest.fixture(scope="module")
def intervals() -> dict[int, KpiRow]:
    rows = kpi_rows("15m")
    return {row.interval_start_ms: row for row in rows}


@pytest.fixture(scope="module")
def day() -> KpiRow:
    (row,) = kpi_rows("day")
    return row


def by(rows: list[KpiRow], *dims: str) -> dict[tuple, KpiRow]:
    return {tuple(getattr(r, d) for d in dims): r for r in rows}


# --- shape ---------------------------------------------------------------------------------------
def test_rows_cover_each_interval_with_its_labels(intervals):
    assert [r.interval_start for r in intervals.values()] == [
        "2026-11-20T10:00:00-05:00", "2026-11-20T10:15:00-05:00", "2026-11-20T10:30:00-05:00"]
    assert intervals[I3].interval_end == "2026-11-20T10:45:00-05:00"
    assert all(r.tenant_id == TENANT and r.group_by == () and r.queue is None for r in intervals.values())


def test_kpirow_carries_every_kpi_and_every_raw_count():
    fields = list(KpiRow.model_fields)
    # Declared once: the KPIs, the offered mix, then the raw counts, each in its declaration's order.
    kpis_at = fields.index(KPI_NAMES[0])
    assert fields[kpis_at:] == [*KPI_NAMES, "share_of_offered", *ACCUMULATOR_FIELDS]


def test_evaluation_score_and_auto_fail_rate_by_agent_at_completion():
    """C1 (ann) 90, C2 (bob) 70, C4 (ann) auto-failed 0, C10 (ann) 80: C3/C5 (abandoned, never analysed)."""
    scores = {"C1": (90.0, False), "C2": (70.0, False), "C4": (0.0, True), "C10": (80.0, False)}
    records = [r.model_copy(update={"evaluation_score": scores[r.contact_id][0],
                                    "evaluation_auto_failed": scores[r.contact_id][1]})
               if r.contact_id in scores else r for r in marked_records()]
    rows = by(kpi_rows("day", ("agent",), records=records), "agent")
    ann, bob = rows[("ann",)], rows[("bob",)]
    assert (ann.evaluated, ann.auto_failed, bob.evaluated, bob.auto_failed) == (3, 1, 1, 0)
    assert ann.evaluation_score == pytest.approx((90 + 0 + 80) / 3) and bob.evaluation_score == 70
    assert ann.auto_fail_rate == pytest.approx(1 / 3) and bob.auto_fail_rate == 0
    # Nothing analysed: no score rather than a misleading 0.
    assert by(kpi_rows("day", ("agent",)), "agent")[("ann",)].evaluation_score is None


def test_day_hour_and_week_are_sums_of_the_intervals(intervals, day):
    (hour,) = kpi_rows("hour")
    (week,) = kpi_rows("week")
    assert hour.interval_start == "2026-11-20T10:00:00-05:00" and hour.interval_end == "2026-11-20T11:00:00-05:00"
    assert day.interval_start == "2026-11-20T00:00:00-05:00" and day.interval_end == "2026-11-21T00:00:00-05:00"
    # Friday 2026-11-20 → ISO week starting Monday 2026-11-16, local midnight.
    assert week.interval_start == "2026-11-16T00:00:00-05:00" and week.interval_end == "2026-11-23T00:00:00-05:00"
    for name in ACCUMULATOR_FIELDS:
        total = sum(getattr(r, name) for r in intervals.values())
        assert getattr(hour, name) == getattr(day, name) == getattr(week, name) == total, name


# --- queue side counts ---------------------------------------------------------------------------
def test_queue_counts_per_interval(intervals):
    # I1: offered C1–C5 = 5; answered C1 C2 C4 = 3; abandoned C3 C5 = 2; short C3 (3 s) = 1;
    #     met: C1 (10≤20), C4 (15≤30) = 2; abandoned within T: C3 (3≤20) = 1 (C5 45>30).
    # I2: offered C6–C9 = 4; answered C6 C7 C9 = 3; abandoned C8 = 1, short 0;
    #     met: C6 (15≤20), C7 (20≤30) = 2 (C9 50>30); abandoned within T: 0 (C8 30>20).
    # I3: offered C10–C12 = 3; answered C10 C12 = 2; abandoned C11 = 1, short 1 (5≤5);
    #     met: C10 (20≤20), C12 (10≤30) = 2; abandoned within T: C11 (5≤20) = 1.
    expected = {
        I1: (5, 3, 2, 1, 2, 1),
        I2: (4, 3, 1, 0, 2, 0),
        I3: (3, 2, 1, 1, 2, 1),
    }
    for start, counts in expected.items():
        r = intervals[start]
        assert (r.offered, r.answered, r.abandoned, r.short_abandoned, r.answered_within_sl,
                r.abandoned_within_sl) == counts


def test_day_queue_counts(day):
    # offered 5+4+3 = 12; answered 3+3+2 = 8; abandoned 2+1+1 = 4; short 1+0+1 = 2;
    # met 2+2+2 = 6; abandoned within T 1+0+1 = 2; answered wait 65+85+30 = 180 s.
    assert (day.offered, day.answered, day.abandoned, day.short_abandoned) == (12, 8, 4, 2)
    assert (day.answered_within_sl, day.abandoned_within_sl, day.answered_wait_ms) == (6, 2, 180_000)


# --- service level and its variants --------------------------------------------------------------
def test_service_level_default(intervals, day):
    # default: met ÷ (offered − abandoned within T)
    assert intervals[I1].service_level == approx(2 / (5 - 1))  # 0.5
    assert intervals[I2].service_level == approx(2 / (4 - 0))  # 0.5
    assert intervals[I3].service_level == approx(2 / (3 - 1))  # 1.0
    assert day.service_level == approx(6 / (12 - 2))  # 0.6


def test_service_level_answered_over_offered():
    rows = kpi_rows("15m", settings=SETTINGS.model_copy(update={"service_level_variant": "answered_over_offered"}))
    # met ÷ offered: 2/5, 2/4, 2/3
    assert [r.service_level for r in rows] == [approx(0.4), approx(0.5), approx(2 / 3)]
    (day,) = kpi_rows("day", settings=SETTINGS.model_copy(update={"service_level_variant": "answered_over_offered"}))
    assert day.service_level == approx(6 / 12)


def test_service_level_abandons_count_as_met():
    settings = SETTINGS.model_copy(update={"service_level_variant": "abandons_count_as_met"})
    rows = kpi_rows("15m", settings=settings)
    # (met + abandoned within T) ÷ offered: (2+1)/5, (2+0)/4, (2+1)/3
    assert [r.service_level for r in rows] == [approx(0.6), approx(0.5), approx(1.0)]
    (day,) = kpi_rows("day", settings=settings)
    assert day.service_level == approx((6 + 2) / 12)


def test_every_variant_is_reachable_by_name_on_an_accumulator(day):
    acc = KpiAccumulator(**{name: getattr(day, name) for name in ACCUMULATOR_FIELDS})
    assert service_level(acc, "default") == approx(0.6)
    assert service_level(acc, "answered_over_offered") == approx(0.5)
    assert service_level(acc, "abandons_count_as_met") == approx(8 / 12)
    assert abandonment_rate(acc, "exclude_short_abandons") == approx(0.2)
    assert abandonment_rate(acc, "include_short_abandons") == approx(4 / 12)
    assert fcr(acc, "all") == approx(8 / 11) and repeat_rate(acc, "all") == approx(3 / 11)
    assert fcr(acc, "handled_only") == approx(5 / 7) and repeat_rate(acc, "handled_only") == approx(2 / 7)
    with pytest.raises(ValueError):
        service_level(acc, "nonsense")  # type: ignore[arg-type]


# --- ASA, abandonment ----------------------------------------------------------------------------
def test_asa(intervals, day):
    # answered waits: I1 10+40+15 = 65 s / 3; I2 15+20+50 = 85 / 3; I3 20+10 = 30 / 2; day 180 / 8
    assert intervals[I1].asa_s == approx(65 / 3)
    assert intervals[I2].asa_s == approx(85 / 3)
    assert intervals[I3].asa_s == approx(15.0)
    assert day.asa_s == approx(22.5)


def test_abandonment_rate_default_excludes_short_abandons_from_both_sides(intervals, day):
    # (abandoned − short) ÷ (offered − short):
    # I1 (2−1)/(5−1); I2 (1−0)/(4−0); I3 (1−1)/(3−1); day (4−2)/(12−2)
    assert intervals[I1].abandonment_rate == approx(0.25)
    assert intervals[I2].abandonment_rate == approx(0.25)
    assert intervals[I3].abandonment_rate == approx(0.0)
    assert day.abandonment_rate == approx(0.2)


def test_abandonment_rate_including_short_abandons():
    settings = SETTINGS.model_copy(update={"abandonment_variant": "include_short_abandons"})
    rows = kpi_rows("15m", settings=settings)
    # abandoned ÷ offered: 2/5, 1/4, 1/3
    assert [r.abandonment_rate for r in rows] == [approx(0.4), approx(0.25), approx(1 / 3)]


def test_short_abandon_threshold_is_a_tenant_setting():
    # With a 2 s threshold neither C3 (3 s) nor C11 (5 s) is short: day = 4 ÷ 12.
    (day,) = kpi_rows("day", settings=SETTINGS.model_copy(update={"short_abandon_s": 2}))
    assert day.short_abandoned == 0
    assert day.abandonment_rate == approx(4 / 12)


def test_average_time_to_abandon(intervals, day):
    # I1 (3 + 45)/2 = 24; I2 30; I3 5; day (3+45+30+5)/4 = 20.75
    assert [intervals[s].avg_time_to_abandon_s for s in (I1, I2, I3)] == [approx(24), approx(30), approx(5)]
    assert day.avg_time_to_abandon_s == approx(20.75)


def test_a_wait_the_system_ended_is_offered_and_missed_but_no_abandon():
    """Queue timeout / expired callback (ContactRecord.timed_out): the customer did not leave. Offered, not
    answered, not abandoned, counted in `timed_out`; a miss in every SL variant; in no abandon figure. C13's
    3 s wait would have been a short abandon within T, C14's 61 s a long one."""
    timeouts = [contact("C13", V, "q-sales", None, "billing", "gold", "c9", 1000, None, 1003, None, timed_out=True),
                contact("C14", C, "q-support", None, "tech", "gold", "c10", 1010, None, 1071, None, timed_out=True)]
    assert all(r.offered and not r.answered and not r.abandoned for r in timeouts)
    records = marked_records() + timeouts
    (day,) = kpi_rows("day", records=records)
    assert (day.offered, day.answered, day.abandoned, day.timed_out) == (14, 8, 4, 2)
    assert (day.short_abandoned, day.abandoned_within_sl, day.abandoned_wait_ms) == (2, 2, 83_000)
    assert day.service_level == approx(6 / (14 - 2))  # still in offered − abandoned within T: a miss
    assert day.abandonment_rate == approx((4 - 2) / (14 - 2))  # not abandons; still offered
    assert day.avg_time_to_abandon_s == approx(20.75)  # unchanged: not abandons
    assert day.asa_s == approx(22.5)
    for variant, expected in (("answered_over_offered", 6 / 14), ("abandons_count_as_met", (6 + 2) / 14)):
        settings = SETTINGS.model_copy(update={"service_level_variant": variant})
        (row,) = kpi_rows("day", records=records, settings=settings)
        assert row.service_level == approx(expected), variant
    include = SETTINGS.model_copy(update={"abandonment_variant": "include_short_abandons"})
    assert kpi_rows("day", records=records, settings=include)[0].abandonment_rate == approx(4 / 14)
    # A correction from a hang-up to a timeout (or back) moves the contact between the two counts.
    ledger = KpiLedger(tz=TZ, settings=SETTINGS)
    hung_up = timeouts[1].model_copy(update={"timed_out": False})
    ledger.apply(hung_up)
    ledger.apply(timeouts[1].model_copy(update={"last_updated_at": hung_up.last_updated_at + 1}))
    (cell,) = ledger.rows("day", from_ms=BASE, to_ms=END)
    assert (cell.offered, cell.abandoned, cell.timed_out, cell.abandoned_wait_ms) == (1, 0, 1, 0)


# --- handling side -------------------------------------------------------------------------------
def test_handling_counts_in_the_completion_interval(intervals):
    # I1: C1 C2 C4 → handle 330+320+660 = 1310, talk 240+300+600 = 1140, hold 60, acw 30+20+60 = 110
    # I2: C6 C7    → handle 330+330 = 660, talk 270+300 = 570, hold 30, acw 60, transferred C6
    # I3: C9 C10 C12 (C9 was answered in I2 but ended ACW at 10:30:30) → handle 680+330+630 = 1640,
    #     talk 600+255+600 = 1455, hold 45, acw 80+30+30 = 140
    expected = {
        I1: (3, 1_310_000, 1_140_000, 60_000, 110_000, 1, 0),
        I2: (2, 660_000, 570_000, 30_000, 60_000, 2, 1),
        I3: (3, 1_640_000, 1_455_000, 45_000, 140_000, 1, 0),
    }
    for start, counts in expected.items():
        r = intervals[start]
        assert (r.handled, r.handle_ms, r.talk_ms, r.hold_ms, r.acw_ms, r.hold_count, r.transferred) == counts
        assert r.handle_ms == r.talk_ms + r.hold_ms + r.acw_ms


def test_aht(intervals, day):
    # 1310/3, 660/2, 1640/3; day 3610/8
    assert intervals[I1].aht_s == approx(1310 / 3)
    assert intervals[I2].aht_s == approx(330.0)
    assert intervals[I3].aht_s == approx(1640 / 3)
    assert day.aht_s == approx(451.25)


def test_average_acw_hold_and_talk(intervals, day):
    # ACW 110/3, 60/2, 140/3, day 310/8; hold (÷ handled, not ÷ held) 60/3, 30/2, 45/3, day 135/8;
    # talk 1140/3, 570/2, 1455/3, day 3165/8
    assert [intervals[s].avg_acw_s for s in (I1, I2, I3)] == [approx(110 / 3), approx(30), approx(140 / 3)]
    assert [intervals[s].avg_hold_s for s in (I1, I2, I3)] == [approx(20), approx(15), approx(15)]
    assert [intervals[s].avg_talk_s for s in (I1, I2, I3)] == [approx(380), approx(285), approx(485)]
    assert (day.avg_acw_s, day.avg_hold_s, day.avg_talk_s) == (approx(38.75), approx(16.875), approx(395.625))


def test_transfer_rate(intervals, day):
    # transferred ÷ handled: 0/3, 1/2 (C6), 0/3; day 1/8
    assert [intervals[s].transfer_rate for s in (I1, I2, I3)] == [0.0, approx(0.5), 0.0]
    assert day.transfer_rate == approx(0.125)


# --- agent time ----------------------------------------------------------------------------------
def test_agent_time_sums_split_spans_at_interval_boundaries(intervals):
    # I1: busy = ann 600 on + 100 ACW, bob 600 on = 1300; idle = ann 700–900 = 200 + bob 300 = 500;
    #     staffed = 900 + 900 = 1800; busy slots = ann 600×1 + 100×1 + bob 600×2 = 1900;
    #     available slots = ann 600×1 + 100×1 + 200×1 + bob 300×1 + 600×3 = 3000.
    # I2: busy = ann 1500–1800 = 300 + bob ACW 100 = 400; idle = ann 900–1200 = 300 + bob 1000–1800 = 800;
    #     not ready = ann 300; staffed 1800; busy slots 300×1 + 100×1 = 400;
    #     available slots = ann 300×1 (idle) + 300×3 + bob 100×1 + 800×1 = 2100.
    # I3: busy = ann 1800–2400 = 600 + bob 700 = 1300; idle = bob 1800–2000 = 200; not ready ann 150;
    #     offline ann 150 (not staffed) → staffed 750 + 900 = 1650; busy slots 600×1 + 700×1 = 1300;
    #     available slots = ann 600×3 + bob 200×1 + 700×1 = 2700.
    expected = {
        I1: (1_300_000, 500_000, 0, 1_800_000, 1_900_000, 3_000_000),
        I2: (400_000, 1_100_000, 300_000, 1_800_000, 400_000, 2_100_000),
        I3: (1_300_000, 200_000, 150_000, 1_650_000, 1_300_000, 2_700_000),
    }
    for start, sums in expected.items():
        r = intervals[start]
        assert (r.busy_ms, r.idle_ms, r.not_ready_ms, r.staffed_ms, r.busy_slot_ms, r.available_slot_ms) == sums


def test_occupancy(intervals, day):
    # busy ÷ (busy + idle): 1300/1800, 400/1500, 1300/1500; day 3000/4800
    assert intervals[I1].occupancy == approx(1300 / 1800)
    assert intervals[I2].occupancy == approx(400 / 1500)
    assert intervals[I3].occupancy == approx(1300 / 1500)
    assert day.occupancy == approx(0.625)


def test_slot_occupancy(intervals, day):
    # busy slot-s ÷ available slot-s: 1900/3000, 400/2100, 1300/2700; day 3600/7800
    assert intervals[I1].slot_occupancy == approx(1900 / 3000)
    assert intervals[I2].slot_occupancy == approx(400 / 2100)
    assert intervals[I3].slot_occupancy == approx(1300 / 2700)
    assert day.slot_occupancy == approx(3600 / 7800)


def test_utilization(intervals, day):
    # busy ÷ staffed: 1300/1800, 400/1800, 1300/1650; day 3000/5250
    assert intervals[I1].utilization == approx(1300 / 1800)
    assert intervals[I2].utilization == approx(400 / 1800)
    assert intervals[I3].utilization == approx(1300 / 1650)
    assert day.utilization == approx(3000 / 5250)


def test_cost_per_contact(intervals, day):
    # (36/h × staffed h + 0.5 × handled) ÷ handled
    # I1: (36 × 0.5 + 0.5×3) / 3 = 19.5/3 = 6.5;  I2: (18 + 1) / 2 = 9.5;  I3: (36 × 1650/3600 = 16.5 + 1.5)/3 = 6
    # day: (36 × 5250/3600 = 52.5 + 0.5×8 = 4) / 8 = 7.0625
    assert [intervals[s].cost_per_contact for s in (I1, I2, I3)] == [approx(6.5), approx(9.5), approx(6.0)]
    assert day.cost_per_contact == approx(7.0625)


def test_cost_per_contact_with_a_per_minute_infrastructure_rate():
    # agent rate 0, infrastructure 0.06 per handle minute: 0.06 × 3610/60 = 3.61 over 8 handled
    settings = KpiSettings(agent_cost_per_staffed_hour=0.0, infrastructure_cost_per_handle_minute=0.06)
    (day,) = kpi_rows("day", settings=settings)
    assert day.cost_per_contact == approx(3.61 / 8)


def test_cost_per_contact_is_none_without_an_agent_rate():
    (day,) = kpi_rows("day", settings=KpiSettings())
    assert day.cost_per_contact is None


# --- surveys -------------------------------------------------------------------------------------
def test_csat(intervals, day):
    # answers 4–5 ÷ answers, completion interval: I1 C1 5, C2 3, C4 4 → 2/3; I2 C7 5 → 1/1;
    # I3 C9 2, C10 4, C12 1 → 1/3; day 4/7
    assert [(intervals[s].csat_positive, intervals[s].csat_count) for s in (I1, I2, I3)] == [(2, 3), (1, 1), (1, 3)]
    assert [intervals[s].csat for s in (I1, I2, I3)] == [approx(2 / 3), approx(1.0), approx(1 / 3)]
    assert day.csat == approx(4 / 7)


def test_ces(intervals, day):
    # mean: I1 (2+5)/2 = 3.5; I2 1; I3 6 (C9); day (2+5+1+6)/4 = 3.5
    assert [intervals[s].ces for s in (I1, I2, I3)] == [approx(3.5), approx(1.0), approx(6.0)]
    assert day.ces == approx(3.5)


def test_nps(intervals, day):
    # I1: 10 P, 6 D, 9 P → (2−1)/3 = +33.3; I2: 10 P → +100; I3: 8 passive, 3 D → (0−1)/2 = −50
    # day: 3 promoters, 2 detractors of 6 → +16.7
    assert [intervals[s].nps for s in (I1, I2, I3)] == [approx(100 / 3), approx(100.0), approx(-50.0)]
    assert (day.nps_promoters, day.nps_detractors, day.nps_count) == (3, 2, 6)
    assert day.nps == approx(100 / 6)


# --- FCR -----------------------------------------------------------------------------------------
def test_repeat_marking_on_the_fixture():
    flags = {r.contact_id: (r.followed_by_repeat, r.is_repeat) for r in marked_records()}
    # (c1, billing): C1 then C6 → C1 drives a repeat; C7 is C6's transfer leg, not a new contact.
    # (c2, tech): C2 then C8 (an abandon still counts as coming back). (c5, billing): C5 then C12.
    assert flags["C1"] == (True, False) and flags["C6"] == (False, True)
    assert flags["C7"] == (None, None)
    assert flags["C2"] == (True, False) and flags["C8"] == (False, True)
    assert flags["C5"] == (True, False) and flags["C12"] == (False, True)
    assert all(flags[c] == (False, False) for c in ("C3", "C4", "C9", "C10", "C11"))


def test_fcr_and_repeat_rate_all_contacts(intervals, day):
    # completion interval; population = flagged contacts (all but C7).
    # I1: C1 C2 C3 C4 C5, drivers C1 C2 C5 → FCR 2/5; I2: C6 C8 → 2/2; I3: C9 C10 C11 C12 → 4/4
    # day: 11 contacts, 3 drivers → FCR 8/11, repeat 3/11
    counts = [(intervals[s].fcr_contacts, intervals[s].fcr_repeat_drivers) for s in (I1, I2, I3)]
    assert counts == [(5, 3), (2, 0), (4, 0)]
    assert [intervals[s].fcr for s in (I1, I2, I3)] == [approx(0.4), approx(1.0), approx(1.0)]
    assert intervals[I1].repeat_rate == approx(0.6)
    assert day.fcr == approx(8 / 11) and day.repeat_rate == approx(3 / 11)
    # repeat contacts themselves: C6 C8 (I2), C12 (I3)
    assert [intervals[s].repeat_contacts for s in (I1, I2, I3)] == [0, 2, 1]


def test_fcr_handled_only_variant():
    settings = SETTINGS.model_copy(update={"fcr_population": "handled_only"})
    rows = kpi_rows("15m", settings=settings)
    # handled flagged contacts: I1 C1 C2 C4 (drivers C1 C2) → 1/3; I2 C6 → 1; I3 C9 C10 C12 → 1
    assert [r.fcr for r in rows] == [approx(1 / 3), approx(1.0), approx(1.0)]
    (day,) = kpi_rows("day", settings=settings)
    # 7 handled flagged contacts, 2 drivers → 5/7
    assert day.fcr == approx(5 / 7) and day.repeat_rate == approx(2 / 7)


def test_unmarked_records_leave_fcr_undefined():
    (day,) = kpi_rows("day", records=fixture_records())
    assert day.fcr is None and day.repeat_rate is None and day.fcr_contacts == 0


# --- mix and busiest -----------------------------------------------------------------------------
def test_channel_mix():
    rows = kpi_rows("day", group_by=("channel",))
    # VOICE: C1 C2 C3 C6 C7 C8 C10 C11 = 8; CHAT: C4 C5 C9 C12 = 4
    assert channel_mix(rows) == {"VOICE": approx(8 / 12), "CHAT": approx(4 / 12)}
    assert by(rows, "channel")[("VOICE",)].share_of_offered == approx(2 / 3)


def test_contact_type_mix():
    rows = kpi_rows("15m", group_by=("reason",))
    # billing: C1 C3 C5 C6 C7 C11 C12 = 7; tech: C2 C4 C8 C9 C10 = 5 (summed over the 3 intervals)
    assert contact_type_mix(rows) == {"billing": approx(7 / 12), "tech": approx(5 / 12)}
    # within I1: billing C1 C3 C5 = 3 of 5
    assert by([r for r in rows if r.interval_start_ms == I1], "reason")[("billing",)].share_of_offered == approx(0.6)


def test_mix_needs_rows_grouped_by_that_dimension():
    with pytest.raises(ValueError):
        channel_mix(kpi_rows("day"))


def test_busiest_intervals(intervals):
    # offered 5, 4, 3
    assert busiest_intervals(intervals.values(), k=2) == [
        ("2026-11-20T10:00:00-05:00", 5), ("2026-11-20T10:15:00-05:00", 4)]
    # grouped rows are summed per interval first
    assert busiest_intervals(kpi_rows("15m", group_by=("queue",)), k=1) == [("2026-11-20T10:00:00-05:00", 5)]


# --- group by ------------------------------------------------------------------------------------
def test_asa_by_reason_and_channel():
    rows = by(kpi_rows("day", group_by=("reason", "channel")), "reason", "channel")
    # billing×VOICE: C1 10, C6 15, C7 20 → 45/3 = 15 (C3, C11 abandoned); billing×CHAT: C12 10 (C5 abandoned)
    # tech×VOICE: C2 40, C10 20 → 30 (C8 abandoned); tech×CHAT: C4 15, C9 50 → 32.5
    assert {k: r.asa_s for k, r in rows.items()} == {
        ("billing", "VOICE"): approx(15.0),
        ("billing", "CHAT"): approx(10.0),
        ("tech", "VOICE"): approx(30.0),
        ("tech", "CHAT"): approx(32.5),
    }
    # offered 5, 2, 3, 2 of 12
    assert [rows[k].offered for k in sorted(rows)] == [2, 5, 2, 3]
    assert rows[("billing", "VOICE")].share_of_offered == approx(5 / 12)
    assert all(r.group_by == ("reason", "channel") and r.queue is None for r in rows.values())
    # Agent activity cannot be split by reason or channel: time-based KPIs are undefined there.
    assert all(r.occupancy is None and r.utilization is None and r.cost_per_contact is None for r in rows.values())


def test_group_by_queue_and_segment_at_15_minutes():
    rows = by(kpi_rows("15m", group_by=("queue", "segment")), "interval_start_ms", "queue", "segment")
    # I1 q-sales: gold C1 (met), standard C2 (40 s), C3 (short abandon)
    assert rows[(I1, "q-sales", "standard")].offered == 2
    assert rows[(I1, "q-sales", "standard")].service_level == approx(0 / (2 - 1))
    # I3 q-support standard: C12 offered (10 s, met); C9 (gold) completes here too → its own row
    assert rows[(I3, "q-support", "standard")].service_level == approx(1.0)
    assert rows[(I3, "q-support", "gold")].offered == 0 and rows[(I3, "q-support", "gold")].handled == 1
    assert rows[(I3, "q-support", "gold")].service_level is None  # nothing offered: undefined, not 0


def test_group_by_agent():
    rows = by(kpi_rows("day", group_by=("agent",)), "agent")
    ann, bob, nobody = rows[("ann",)], rows[("bob",)], rows[(None,)]
    # ann: C1 330, C4 660, C6 330, C10 330 → 1650/4; bob: C2 320, C7 330, C9 680, C12 630 → 1960/4
    assert ann.aht_s == approx(412.5) and bob.aht_s == approx(490.0)
    # abandoned contacts have no agent
    assert (nobody.offered, nobody.abandoned, nobody.handled, nobody.aht_s) == (4, 4, 0, None)
    # ann busy 700 + 300 + 600 = 1600, idle 200 + 300 = 500, staffed 900 + 900 + 750 = 2550
    assert ann.occupancy == approx(1600 / 2100) and ann.utilization == approx(1600 / 2550)
    # bob busy 600 + 100 + 700 = 1400, idle 300 + 800 + 200 = 1300, staffed 2700
    assert bob.occupancy == approx(1400 / 2700) and bob.utilization == approx(1400 / 2700)
    # slot occupancy: ann (700 + 300 + 600) / (900 + 1200 + 1800); bob (1200 + 100 + 700) / (2100 + 900 + 900)
    assert ann.slot_occupancy == approx(1600 / 3900) and bob.slot_occupancy == approx(2000 / 3900)
    # cost: ann (36 × 2550/3600 = 25.5 + 0.5×4) / 4 = 6.875; bob (36 × 0.75 = 27 + 2) / 4 = 7.25
    assert ann.cost_per_contact == approx(6.875) and bob.cost_per_contact == approx(7.25)
    assert nobody.occupancy is None and nobody.cost_per_contact is None


def test_group_by_team_and_agent_combination():
    rows = by(kpi_rows("day", group_by=("team", "agent")), "team", "agent")
    assert set(rows) == {("east", "ann"), ("west", "bob"), (None, None)}
    assert rows[("east", "ann")].busy_ms == 1_600_000


def test_group_by_is_validated():
    with pytest.raises(ValueError):
        kpi_rows("day", group_by=("queue", "channel", "agent"))
    with pytest.raises(ValueError):
        kpi_rows("day", group_by=("colour",))
    with pytest.raises(ValueError):
        kpi_rows("day", group_by=("queue", "queue"))
    with pytest.raises(ValueError):
        kpi_rows("fortnight")  # type: ignore[arg-type]


# --- None, never a division by zero --------------------------------------------------------------
def test_empty_cell_gives_none_kpis_and_zero_counts():
    kpis = derive_kpis(KpiAccumulator(), SETTINGS)
    assert set(kpis) == set(KPI_NAMES)
    assert all(value is None for value in kpis.values())


def test_ungrouped_rows_fill_empty_intervals():
    rows = rollup([], [], tz=TZ, interval="15m", from_ms=BASE, to_ms=BASE + 3_600_000)
    assert len(rows) == 4 and all(r.offered == 0 and r.service_level is None for r in rows)


# --- late and duplicate records ------------------------------------------------------------------
def stale_versions() -> list[ContactRecord]:
    """Earlier snapshots of some contacts, as an at-least-once stream would also deliver them."""
    finals = {r.contact_id: r for r in marked_records()}
    return [
        # C9 while still in ACW (no acw_end, no survey): would count its handling in I2.
        finals["C9"].model_copy(update={"acw_ended_at": None, "csat": None, "ces": None, "last_updated_at": at(1760)}),
        # C12 while connected (no disconnect yet).
        finals["C12"].model_copy(update={"disconnected_at": None, "acw_ended_at": None, "nps": None,
                                         "csat": None, "last_updated_at": at(2100)}),
        # C1 before its repeat was known, and before the survey.
        finals["C1"].model_copy(update={"followed_by_repeat": False, "csat": None, "last_updated_at": at(345)}),
    ]


def test_any_order_with_duplicates_and_stale_versions_matches_a_clean_feed():
    clean = [r.model_dump() for r in kpi_rows("15m", group_by=("queue",))]
    finals = marked_records()
    for seed in range(5):
        feed = finals + finals[:4] + stale_versions()
        random.Random(seed).shuffle(feed)
        assert [r.model_dump() for r in kpi_rows("15m", group_by=("queue",), records=feed)] == clean


def test_ledger_applies_corrections_incrementally():
    ledger = KpiLedger(tz=TZ, settings=SETTINGS)
    finals = marked_records()
    stale = stale_versions()
    for record in stale + finals:  # stale first, then the finals correct them
        ledger.apply(record)
    for activity in fixture_activities():
        ledger.apply_activity(activity)
    reference = [r.model_dump() for r in kpi_rows("15m")]
    assert [r.model_dump() for r in ledger.rows("15m", from_ms=BASE, to_ms=END)] == reference
    # Re-delivering anything older or equal changes nothing.
    assert not any(ledger.apply(r) for r in stale + finals)
    assert [r.model_dump() for r in ledger.rows("15m", from_ms=BASE, to_ms=END)] == reference
    assert len(ledger) == 12 and ledger.record("C9") == next(r for r in finals if r.contact_id == "C9")


def test_late_survey_moves_csat_of_the_interval_the_contact_completed_in():
    finals = {r.contact_id: r for r in marked_records()}
    without_survey = finals["C9"].model_copy(update={"csat": None, "ces": None})
    ledger = KpiLedger(tz=TZ, settings=SETTINGS)
    ledger.apply_all([r for cid, r in finals.items() if cid != "C9"] + [without_survey])

    def csat_by_interval():
        return {r.interval_start_ms: (r.csat_positive, r.csat_count, r.csat) for r in
                ledger.rows("15m", from_ms=BASE, to_ms=END)}

    before = csat_by_interval()
    # I3 without C9: C10 4, C12 1 → 1/2
    assert before[I3] == (1, 2, approx(0.5))
    # The survey answer arrives the next day; C9 completed at 10:30:30, so it belongs to I3 —
    # not to I2 (where C9 was answered) nor to the day the update arrived.
    survey_update = finals["C9"].model_copy(update={"last_updated_at": finals["C9"].last_updated_at + 86_400_000})
    assert ledger.apply(survey_update)
    after = csat_by_interval()
    assert after[I3] == (1, 3, approx(1 / 3))  # C10 4, C12 1, C9 2
    assert after[I1] == before[I1] and after[I2] == before[I2]
    (i3,) = [r for r in ledger.rows("15m", from_ms=BASE, to_ms=END) if r.interval_start_ms == I3]
    assert i3.ces == approx(6.0) and i3.handled == 3  # the contact itself is still counted once
    # an older copy arriving after the update is ignored
    assert not ledger.apply(without_survey)
    assert csat_by_interval() == after


def test_ledger_replaces_an_activity_span_that_was_extended():
    ledger = KpiLedger(tz=TZ, group_by=("agent",), settings=SETTINGS)
    open_span = span("ann", 0, 300, K.AVAILABLE_IDLE)
    ledger.apply_activity(open_span)
    ledger.apply_activity(span("ann", 0, 1200, K.AVAILABLE_IDLE))  # same start: the span went on
    assert not ledger.apply_activity(span("ann", 0, 1200, K.AVAILABLE_IDLE))  # duplicate
    rows = ledger.rows("15m", from_ms=BASE, to_ms=END)
    # 0–900 in I1, 900–1200 in I2
    assert [(r.agent, r.idle_ms) for r in rows] == [("ann", 900_000), ("ann", 300_000)]


def test_a_ledger_holds_one_tenant():
    ledger = KpiLedger(tz=TZ)
    ledger.apply(marked_records()[0])
    with pytest.raises(ValueError):
        ledger.apply(marked_records()[1].model_copy(update={"tenant_id": "other"}))


# --- CSV -----------------------------------------------------------------------------------------
def test_csv_export_has_a_stable_header_and_empty_cells_for_undefined_kpis():
    rows = kpi_rows("15m", group_by=("reason", "channel"))
    text = rows_to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(parsed[0]) == CSV_COLUMNS
    assert CSV_COLUMNS[:7] == ("tenant_id", "interval", "interval_start", "interval_end", "interval_start_ms",
                               "interval_end_ms", "group_by")
    assert len(parsed) == len(rows) + 1
    lines = [dict(zip(parsed[0], line)) for line in parsed[1:]]
    # rows are ordered by interval, then dimension values: I1 billing×CHAT comes first
    first, second = lines[0], lines[1]
    assert (first["interval_start"], first["reason"], first["channel"], first["group_by"]) == (
        "2026-11-20T10:00:00-05:00", "billing", "CHAT", "reason+channel")
    # I1 billing×CHAT: only C5, abandoned after 45 s → SL 0/(1−0) = 0.0; nothing answered → ASA empty
    assert (first["service_level"], first["asa_s"], first["abandoned"]) == ("0.0", "", "1")
    # I1 billing×VOICE: C1 (met, 10 s) and C3 (short abandon) → SL 1/(2−1) = 1.0, ASA 10
    assert (second["reason"], second["channel"]) == ("billing", "VOICE")
    assert (second["service_level"], second["asa_s"], second["offered"]) == ("1.0", "10.0", "2")
    assert first["queue"] == "" and first["occupancy"] == ""
    assert rows_to_csv(rows) == text  # deterministic


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("short_abandon_s", float("nan")),
        ("short_abandon_s", 601),
        ("default_sl_threshold_s", 3_601),
        ("fcr_window_days", 91),
        ("agent_cost_per_staffed_hour", float("inf")),
        ("agent_cost_per_staffed_hour", 10_001),
        ("infrastructure_cost_per_contact", 1_001),
        ("infrastructure_cost_per_handle_minute", float("-inf")),
        ("infrastructure_cost_per_handle_minute", 101),
    ],
)
def test_kpi_settings_are_finite_and_bounded(field, value):
    with pytest.raises(ValidationError) as err:
        KpiSettings.model_validate({field: value})
    assert err.value.errors()[0]["loc"] == (field,)


def test_maximal_kpi_settings_are_a_small_item():
    settings = KpiSettings(
        short_abandon_s=600, default_sl_threshold_s=3_600, fcr_window_days=90, agent_cost_per_staffed_hour=10_000,
        infrastructure_cost_per_contact=1_000, infrastructure_cost_per_handle_minute=100,
        service_level_variant="abandons_count_as_met", fcr_population="handled_only",
    )  # fmt: skip
    assert len(settings.model_dump_json()) < 1_000
