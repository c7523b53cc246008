"""KPIs of transfers, consults, conferences and holds (DOMAIN.md "Moving work between people").

Every number is worked out by hand in the comments. Times are seconds after T0 = 2026-11-20 16:00:00 UTC
(11:00 in the America/New_York tenant), all inside one tenant day. Per segment (s):
talk = disconnected − connected − hold; handle = talk + hold + acw; wait = connected − enqueued.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest import approx

from ccaas.domain.history import record_from_contact
from ccaas.domain.kpis import (
    ContactRecord,
    CtrMapping,
    FinalState,
    KpiAccumulator,
    contact_records_from_ctrs,
    derive_kpis,
    mark_repeat_contacts,
    rollup,
)
from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS, KPI_NAMES
from ccaas.domain.kpis.ledger import KpiRow
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.models import (
    Channel,
    Contact,
    ContactState,
    Handover,
    HandoverMode,
    InitiationMethod,
    TransferKind,
    TransferTarget,
)

TENANT = "t-acme"
TZ = "America/New_York"
T0 = int(datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc).timestamp() * 1000)
DAY_FROM = int(datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc).timestamp() * 1000)  # local midnight
DAY_TO = DAY_FROM + 86_400_000
CTR_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"


def s(seconds: float) -> int:
    return T0 + int(seconds * 1000)


def contact(cid: str, queue: str, agent: str | None, state: ContactState, *, enq: float | None, conn: float | None,
            disc: float | None, acw_end: float | None, init: float | None = None, **fields) -> Contact:
    """An ended contact as the lifecycle leaves it (times in seconds after T0)."""
    ended = acw_end if acw_end is not None else disc
    return Contact(
        tenant_id=TENANT, contact_id=cid, channel=Channel.VOICE, queue_id=queue, state=state,
        customer_id=fields.pop("customer_id", "c1"), reason=fields.pop("reason", "billing"), agent_id=agent,
        initiated_at=s(init if init is not None else (enq if enq is not None else 0)),
        enqueued_at=None if enq is None else s(enq), connected_at=None if conn is None else s(conn),
        disconnected_at=None if disc is None else s(disc), acw_ended_at=None if acw_end is None else s(acw_end),
        ended_at=None if ended is None else s(ended), sl_threshold_s=20,
        initiation_method=fields.pop("initiation_method", InitiationMethod.INBOUND), **fields,
    )


def handover(mode: HandoverMode, sender: Contact, target: TransferTarget, at: float) -> Handover:
    return Handover(mode=mode, from_agent_id=sender.agent_id, from_contact_id=sender.contact_id,
                    from_queue_id=sender.queue_id, target=target, at=s(at))


def segment_fields(previous: Contact, initial: str, mode: HandoverMode, target: TransferTarget, at: float) -> dict:
    return dict(initiation_method=InitiationMethod.TRANSFER, previous_contact_id=previous.contact_id,
                initial_contact_id=initial, handover=handover(mode, previous, target, at))


def records(*contacts: Contact) -> list[ContactRecord]:
    out = [record_from_contact(c) for c in contacts]
    assert all(r is not None for r in out)
    return out  # type: ignore[return-value]


def day_rows(recs, group_by=()) -> dict[tuple, KpiRow]:
    rows = rollup(recs, tz=TZ, interval="day", group_by=group_by, from_ms=DAY_FROM, to_ms=DAY_TO)
    return {tuple(getattr(r, d) for d in group_by): r for r in rows}


def accumulator(row: KpiRow) -> dict[str, int]:
    return {name: getattr(row, name) for name in ACCUMULATOR_FIELDS}


TO_BILLING = TransferTarget(kind=TransferKind.QUEUE, queue_id="billing")
TO_BOB = TransferTarget(kind=TransferKind.AGENT, agent_id="bob")


# --- blind transfer: 2 segments in 2 queues ---------------------------------------------------------
# S1 sales/ann: enq 10, conn 30 (wait 20), one hold of 20 s, disc 330 (transfer), ACW to 350, TRANSFERRED.
#    talk = 300 − 20 = 280, hold 20, acw 20 → handle 320.
# S2 billing/bob: TRANSFER from S1, enq 330, conn 390 (wait 60), disc 690, ACW to 720, COMPLETED.
#    talk 300, hold 0, acw 30 → handle 330.
def blind_chain() -> tuple[Contact, Contact]:
    s1 = contact("S1", "sales", "ann", ContactState.TRANSFERRED, enq=10, conn=30, disc=330, acw_end=350, init=0,
                 hold_ms=20_000, hold_count=1, transferred_to=TO_BILLING, next_contact_id="S2")
    s2 = contact("S2", "billing", "bob", ContactState.COMPLETED, enq=330, conn=390, disc=690, acw_end=720,
                 **segment_fields(s1, "S1", HandoverMode.BLIND, TO_BILLING, 330))
    return s1, s2


def test_a_transferred_segment_records_its_successor_hold_and_how_it_was_made():
    r1, r2 = records(*blind_chain())
    assert (r1.final_state, r1.transferred, r1.next_contact_id, r1.transferred_to_kind) == (
        FinalState.TRANSFERRED, True, "S2", "QUEUE")
    assert (r1.hold_ms, r1.hold_count, r1.talk_ms, r1.handle_ms) == (20_000, 1, 280_000, 320_000)
    assert (r2.initiation_method, r2.previous_contact_id, r2.initial_contact_id, r2.handover_mode) == (
        "TRANSFER", "S1", "S1", "BLIND")
    assert (r2.final_state, r2.transferred, r2.next_contact_id, r2.consult_leg) == (FinalState.COMPLETED, False, None, False)


def test_blind_transfer_chain_counts_per_segment_and_per_customer_contact():
    (day,) = day_rows(records(*blind_chain())).values()
    # Queue side per segment: offered 2, answered 2, ASA (20 + 60) / 2 = 40; within 20 s: S1 only → SL 1/2.
    assert (day.offered, day.answered, day.abandoned, day.answered_within_sl) == (2, 2, 0, 1)
    assert day.asa_s == approx(40) and day.service_level == approx(0.5)
    # Handling per segment: 2 handled, AHT (320 + 330) / 2 = 325; transfer rate 1 out of 2 handled.
    assert (day.handled, day.handle_ms, day.talk_ms, day.hold_ms, day.acw_ms) == (2, 650_000, 580_000, 20_000, 50_000)
    assert day.aht_s == approx(325) and day.transfer_rate == approx(0.5)
    assert (day.transferred, day.transferred_in, day.transferred_external) == (1, 1, 0)
    # One customer contact in two handled segments.
    assert day.handled_initial_contacts == 1 and day.segments_per_contact == approx(2.0)
    # FCR counts the customer's issue once (S1), not each segment.
    assert day.fcr_contacts == 0  # flags not marked yet: no population at all
    (marked,) = day_rows(mark_repeat_contacts(records(*blind_chain()))).values()
    assert (marked.fcr_contacts, marked.fcr_repeat_drivers, marked.fcr) == (1, 0, 1.0)


def test_blind_transfer_rate_is_per_queue_and_agent_where_the_segment_was_handled():
    by_queue = day_rows(records(*blind_chain()), ("queue",))
    sales, billing = by_queue[("sales",)], by_queue[("billing",)]
    # sales handled S1, which ended TRANSFERRED → 1/1; billing handled S2 (transferred in), which did not → 0/1.
    assert (sales.offered, sales.handled, sales.transferred, sales.transferred_in) == (1, 1, 1, 0)
    assert (billing.offered, billing.handled, billing.transferred, billing.transferred_in) == (1, 1, 0, 1)
    assert sales.transfer_rate == 1.0 and billing.transfer_rate == 0.0
    assert sales.aht_s == approx(320) and billing.aht_s == approx(330)
    # The customer contact's handling started in sales; billing only continued it.
    assert (sales.handled_initial_contacts, billing.handled_initial_contacts) == (1, 0)
    assert sales.segments_per_contact == approx(1.0) and billing.segments_per_contact is None
    by_agent = day_rows(records(*blind_chain()), ("agent",))
    assert by_agent[("ann",)].transfer_rate == 1.0 and by_agent[("bob",)].transfer_rate == 0.0


# --- FCR and repeats over chains -------------------------------------------------------------------
def test_a_later_repeat_marks_the_initial_contacts_only():
    s1, s2 = blind_chain()
    two_days = 2 * 86_400
    # Two days later c1 calls about billing again (R1) and is transferred too (R2).
    r1 = contact("R1", "sales", "ann", ContactState.TRANSFERRED, enq=two_days + 5, conn=two_days + 15,
                 disc=two_days + 115, acw_end=two_days + 125, init=two_days, transferred_to=TO_BILLING,
                 next_contact_id="R2")
    r2 = contact("R2", "billing", "bob", ContactState.COMPLETED, enq=two_days + 115, conn=two_days + 135,
                 disc=two_days + 235, acw_end=two_days + 245, **segment_fields(r1, "R1", HandoverMode.BLIND, TO_BILLING,
                                                                              two_days + 115))
    marked = {r.contact_id: r for r in mark_repeat_contacts(records(s1, s2, r1, r2))}
    flags = {cid: (r.followed_by_repeat, r.is_repeat) for cid, r in marked.items()}
    # S1 drove a repeat (R1); transfer segments are outside the population (None, None).
    assert flags == {"S1": (True, False), "S2": (None, None), "R1": (False, True), "R2": (None, None)}
    rows = rollup(marked.values(), tz=TZ, interval="week", from_ms=DAY_FROM, to_ms=DAY_FROM + 7 * 86_400_000)
    week = next(r for r in rows if r.handled)
    # 2 customer contacts (not 4 segments): 1 of them followed by a repeat → FCR 1/2, repeat rate 1/2.
    assert (week.fcr_contacts, week.fcr_repeat_drivers, week.repeat_contacts) == (2, 1, 1)
    assert week.fcr == approx(0.5) and week.repeat_rate == approx(0.5)
    assert (week.handled, week.handled_initial_contacts, week.segments_per_contact) == (4, 2, approx(2.0))


# --- consult that became a conference --------------------------------------------------------------
# S1 sales/ann: enq 10, conn 30. At 100 ann consults bob (customer on hold); bob answers the leg L at 110;
#    at 160 conference (hold closed: 60 s, 1 hold); at 280 ann leaves → S1 disconnects, TRANSFERRED to bob,
#    conference 280 − 160 = 120 s; ACW to 300. talk = 250 − 60 = 190, hold 60, acw 20 → handle 270.
# L (bob): offered straight to bob (never enqueued), conn 110, consult 160 − 110 = 50 s, conference 120 s,
#    disc 400, ACW to 430. talk 290, acw 30 → handle 320.
def conference_chain() -> tuple[Contact, Contact]:
    s1 = contact("S1", "sales", "ann", ContactState.TRANSFERRED, enq=10, conn=30, disc=280, acw_end=300, init=0,
                 hold_ms=60_000, hold_count=1, conference_ms=120_000, transferred_to=TO_BOB, next_contact_id="L")
    leg = contact("L", "sales", "bob", ContactState.COMPLETED, enq=None, conn=110, disc=400, acw_end=430, init=100,
                  consult_ms=50_000, conference_ms=120_000, **segment_fields(s1, "S1", HandoverMode.CONSULT, TO_BOB, 100))
    return s1, leg


def test_consult_then_conference():
    r1, rl = records(*conference_chain())
    assert (rl.consult_ms, rl.conference_ms, rl.handover_mode, rl.consult_leg) == (50_000, 120_000, "CONSULT", False)
    assert r1.transferred_to_kind == "AGENT" and r1.conference_ms == 120_000
    (day,) = day_rows([r1, rl]).values()
    # Only S1 was ever in a queue.
    assert (day.offered, day.answered) == (1, 1)
    # Both segments were handled: AHT (270 + 320) / 2 = 295; S1 transferred → 1/2.
    assert (day.handled, day.handle_ms) == (2, 590_000) and day.aht_s == approx(295)
    assert day.transfer_rate == approx(0.5) and day.transferred_in == 1
    # Consult: 1 (the leg), 50 s over 1 segment; conference: 120 s on each of the 2 segments → 120 s average.
    assert (day.consults, day.consults_cancelled, day.consulted, day.consult_ms) == (1, 0, 1, 50_000)
    assert day.avg_consult_s == approx(50)
    assert (day.conferenced, day.conference_ms) == (2, 240_000) and day.avg_conference_s == approx(120)
    # The consult hold is S1's only hold: hold rate 1/2, 60 s per held segment, 30 s per handled one.
    assert (day.contacts_held, day.hold_count) == (1, 1)
    assert day.hold_rate == approx(0.5) and day.avg_hold_when_held_s == approx(60) and day.avg_hold_s == approx(30)
    assert day.handled_initial_contacts == 1 and day.segments_per_contact == approx(2.0)


# --- cancelled consults ----------------------------------------------------------------------------
# S1 sales/ann: enq 10, conn 30 (wait 20).
#  - consult 1 at 100 to the billing queue: leg L1 enq 100, bob answers at 115, cancelled at 145 →
#    L1 consult 30 s, disc 145, ACW to 155, COMPLETED with consult_of = S1. S1's hold 100–145 = 45 s.
#  - consult 2 at 200 to billing: leg L2 enq 200, cancelled unanswered at 210 → ABANDONED
#    (CONSULT_CANCELLED) with consult_of = S1. S1's hold 200–210 = 10 s.
# S1 disc 400, ACW to 420, COMPLETED: hold 55 (2 holds), talk 370 − 55 = 315, acw 20 → handle 390.
def cancelled_consults() -> tuple[Contact, Contact, Contact]:
    s1 = contact("S1", "sales", "ann", ContactState.COMPLETED, enq=10, conn=30, disc=400, acw_end=420, init=0,
                 hold_ms=55_000, hold_count=2)
    l1 = contact("L1", "billing", "bob", ContactState.COMPLETED, enq=100, conn=115, disc=145, acw_end=155,
                 consult_of="S1", consult_ms=30_000, **segment_fields(s1, "S1", HandoverMode.CONSULT, TO_BILLING, 100))
    l2 = contact("L2", "billing", None, ContactState.ABANDONED, enq=200, conn=None, disc=210, acw_end=None,
                 consult_of="S1", abandon_reason="CONSULT_CANCELLED",
                 **segment_fields(s1, "S1", HandoverMode.CONSULT, TO_BILLING, 200))
    return s1, l1, l2


def test_a_cancelled_consult_leg_is_flagged_and_is_no_customer_contact():
    r1, rl1, rl2 = records(*cancelled_consults())
    assert (r1.consult_leg, rl1.consult_leg, rl2.consult_leg) == (False, True, True)
    assert [(rl.offered, rl.answered, rl.handled, rl.abandoned) for rl in (rl1, rl2)] == [(False,) * 4] * 2
    # The same records without the flag would count: L1 offered/answered/handled, L2 offered/abandoned.
    plain = [rl.model_copy(update={"consult_leg": False}) for rl in (rl1, rl2)]
    assert [(rl.offered, rl.answered, rl.handled, rl.abandoned) for rl in plain] == [
        (True, True, True, False), (True, False, False, True)]
    assert rl2.final_state is FinalState.ABANDONED and rl1.final_state is FinalState.COMPLETED


def test_cancelled_consults_count_as_consults_only():
    recs = records(*cancelled_consults())
    (day,) = day_rows(recs).values()
    # Without the exclusion this would be offered 3, answered 2, abandoned 1, handled 2.
    assert (day.offered, day.answered, day.abandoned, day.handled) == (1, 1, 0, 1)
    assert day.aht_s == approx(390) and day.abandonment_rate == 0.0 and day.asa_s == approx(20)
    assert day.transfer_rate == 0.0 and day.transferred_in == 0
    assert (day.consults, day.consults_cancelled, day.consulted) == (2, 2, 1) and day.avg_consult_s == approx(30)
    assert (day.hold_ms, day.hold_count, day.contacts_held) == (55_000, 2, 1)
    assert day.handled_initial_contacts == 1 and day.segments_per_contact == approx(1.0)
    billing = day_rows(recs, ("queue",))[("billing",)]
    assert (billing.offered, billing.abandoned, billing.handled, billing.consults) == (0, 0, 0, 2)
    assert billing.abandonment_rate is None and billing.aht_s is None
    # No FCR unit either: legs have a previous contact.
    (marked,) = day_rows(mark_repeat_contacts(recs)).values()
    assert marked.fcr_contacts == 1


def test_a_consult_leg_that_failed_to_start_is_not_a_consult():
    s1, _, _ = cancelled_consults()
    failed = contact("L9", "billing", None, ContactState.FAILED, enq=None, conn=None, disc=None, acw_end=None, init=300,
                     **segment_fields(s1, "S1", HandoverMode.CONSULT, TO_BILLING, 300))
    (day,) = day_rows(records(s1, failed)).values()
    assert day.consults == 0 and day.handled == 1


# --- holds ---------------------------------------------------------------------------------------
def test_hold_is_inside_handle_time_not_talk_time():
    # H1: conn 0, disc 300, holds 2 totalling 90 s, ACW to 330 → talk 210, hold 90, acw 30, handle 330.
    # H2: conn 400, disc 500, never held, no ACW → talk 100, handle 100.
    h1 = contact("H1", "sales", "ann", ContactState.COMPLETED, enq=0, conn=0, disc=300, acw_end=330,
                 hold_ms=90_000, hold_count=2)
    h2 = contact("H2", "sales", "ann", ContactState.COMPLETED, enq=400, conn=400, disc=500, acw_end=None,
                 customer_id="c2")
    (day,) = day_rows(records(h1, h2)).values()
    assert (day.talk_ms, day.hold_ms, day.acw_ms, day.handle_ms) == (310_000, 90_000, 30_000, 430_000)
    assert day.aht_s == approx(215)  # (330 + 100) / 2
    assert day.avg_talk_s == approx(155)  # (210 + 100) / 2: hold is not talk
    assert day.avg_hold_s == approx(45)  # 90 / 2 handled (Connect's "all contacts")
    assert day.avg_hold_when_held_s == approx(90)  # 90 / 1 held (Connect's "average customer hold time")
    assert (day.hold_count, day.contacts_held, day.hold_rate) == (2, 1, approx(0.5))


def test_a_hold_and_a_conference_still_open_at_the_end_count_up_to_the_disconnect():
    # Connected at 0; an earlier hold of 10 s; on hold again since 50 and in a conference since 20 when the
    # segment ended at 80 (CONNECTED → TRANSFERRED): hold 10 + 30 = 40, conference 60, talk 80 − 40 = 40.
    held = contact("O1", "sales", "ann", ContactState.TRANSFERRED, enq=0, conn=0, disc=80, acw_end=None,
                   hold_ms=10_000, hold_count=2, held_since=s(50), conference_with="O2", conference_since=s(20),
                   transferred_to=TO_BILLING, next_contact_id="O2")
    (rec,) = records(held)
    assert (rec.hold_ms, rec.hold_count, rec.conference_ms, rec.talk_ms, rec.handle_ms) == (
        40_000, 2, 60_000, 40_000, 80_000)


def test_an_open_hold_with_clocks_out_of_order_adds_nothing():
    held = contact("O1", "sales", "ann", ContactState.COMPLETED, enq=0, conn=0, disc=80, acw_end=90,
                   hold_ms=10_000, hold_count=1, held_since=s(95))
    (rec,) = records(held)
    assert rec.hold_ms == 10_000


# --- Amazon Connect: a chain of 3 CTRs -------------------------------------------------------------
# voice_transfer_chain.json (seconds after 16:00:00Z):
#  A INBOUND  Sales/ann: enq 5, conn 20 (Queue.Duration 15), interaction 200, hold 40 (2), ACW 20 →
#    disc 260, ACW end 280; handle 200 + 40 + 20 = 260. NextContactId B.
#  B TRANSFER Billing/bob: enq 260, conn 300 (40), interaction 300, hold 30 (1), ACW 30 → disc 630,
#    ACW end 660; handle 360. Previous A, Initial A, NextContactId C.
#  C TRANSFER Retention/cy: enq 630, conn 650 (20), interaction 180, no hold, ACW 40 → disc 830,
#    ACW end 870; handle 220. Previous B, Initial A.
MAPPING = CtrMapping(known_queue_ids=frozenset({"sales", "billing", "retention"}),
                     sl_threshold_s_by_queue={"sales": 20, "billing": 20, "retention": 20})
A, B, C = ("0c1c2c3c-0101-4c6e-9a52-3f1d2b7e0101", "0c1c2c3c-0202-4c6e-9a52-3f1d2b7e0202",
           "0c1c2c3c-0303-4c6e-9a52-3f1d2b7e0303")


def ctr_chain() -> list[ContactRecord]:
    raw = json.loads((CTR_DIR / "voice_transfer_chain.json").read_text())
    recs, errors = contact_records_from_ctrs(raw, tenant_id=TENANT, mapping=MAPPING)
    assert errors == []
    return recs


def native_chain() -> list[ContactRecord]:
    """The same customer contact made by our own lifecycle."""
    common = dict(customer_id="cust-0099", reason="refund")
    a = contact(A, "sales", "ann", ContactState.TRANSFERRED, enq=5, conn=20, disc=260, acw_end=280, init=0,
                hold_ms=40_000, hold_count=2, transferred_to=TransferTarget(kind=TransferKind.QUEUE, queue_id="billing"),
                next_contact_id=B, **common)
    b = contact(B, "billing", "bob", ContactState.TRANSFERRED, enq=260, conn=300, disc=630, acw_end=660,
                hold_ms=30_000, hold_count=1, transferred_to=TransferTarget(kind=TransferKind.QUEUE, queue_id="retention"),
                next_contact_id=C, **segment_fields(a, A, HandoverMode.BLIND, TO_BILLING, 260), **common)
    c = contact(C, "retention", "cy", ContactState.COMPLETED, enq=630, conn=650, disc=830, acw_end=870,
                **segment_fields(b, A, HandoverMode.BLIND, TO_BILLING, 630), **common)
    return records(a, b, c)


def test_ctr_chain_maps_links_holds_and_transfers():
    a, b, c = ctr_chain()
    assert [(r.contact_id, r.initiation_method, r.previous_contact_id, r.initial_contact_id, r.next_contact_id)
            for r in (a, b, c)] == [(A, "INBOUND", None, None, B), (B, "TRANSFER", A, A, C), (C, "TRANSFER", B, A, None)]
    assert [(r.final_state, r.transferred) for r in (a, b, c)] == [
        (FinalState.TRANSFERRED, True), (FinalState.TRANSFERRED, True), (FinalState.COMPLETED, False)]
    assert [(r.hold_ms, r.hold_count, r.handle_ms) for r in (a, b, c)] == [
        (40_000, 2, 260_000), (30_000, 1, 360_000), (0, 0, 220_000)]
    assert [r.queue_id for r in (a, b, c)] == ["sales", "billing", "retention"]
    assert not any(r.queue_transfer for r in (a, b, c))


def test_ctr_chain_yields_the_kpis_of_the_same_native_chain():
    (ctr_day,) = day_rows(mark_repeat_contacts(ctr_chain())).values()
    (native_day,) = day_rows(mark_repeat_contacts(native_chain())).values()
    assert accumulator(ctr_day) == accumulator(native_day)
    assert {k: getattr(ctr_day, k) for k in KPI_NAMES} == {k: getattr(native_day, k) for k in KPI_NAMES}
    # And those numbers, by hand: 3 segments offered/answered/handled; within 20 s: A (15), C (20) → SL 2/3;
    # ASA (15 + 40 + 20) / 3 = 25; AHT (260 + 360 + 220) / 3 = 280; 2 of 3 transferred out, 2 in.
    assert (ctr_day.offered, ctr_day.answered, ctr_day.handled, ctr_day.answered_within_sl) == (3, 3, 3, 2)
    assert ctr_day.service_level == approx(2 / 3) and ctr_day.asa_s == approx(25) and ctr_day.aht_s == approx(280)
    assert (ctr_day.talk_ms, ctr_day.hold_ms, ctr_day.acw_ms) == (680_000, 70_000, 90_000)
    assert (ctr_day.transferred, ctr_day.transferred_in, ctr_day.transfer_rate) == (2, 2, approx(2 / 3))
    # Holds: 3 holds on 2 segments: 70 / 2 = 35 s per held segment, hold rate 2/3.
    assert (ctr_day.hold_count, ctr_day.contacts_held) == (3, 2)
    assert ctr_day.avg_hold_when_held_s == approx(35) and ctr_day.hold_rate == approx(2 / 3)
    # One customer contact, 3 segments; one FCR unit.
    assert (ctr_day.handled_initial_contacts, ctr_day.segments_per_contact, ctr_day.fcr_contacts) == (1, approx(3.0), 1)


def test_ctr_chain_per_queue_transfer_rate():
    by_queue = day_rows(ctr_chain(), ("queue",))
    assert {q: r.transfer_rate for (q,), r in by_queue.items()} == {"sales": 1.0, "billing": 1.0, "retention": 0.0}
    assert {q: r.transferred_in for (q,), r in by_queue.items()} == {"sales": 0, "billing": 1, "retention": 1}


def test_ctr_transfer_to_an_outside_number_counts_as_external():
    raw = json.loads((CTR_DIR / "voice_transfer_external.json").read_text())
    (rec,), _ = contact_records_from_ctrs([raw], tenant_id=TENANT)
    assert (rec.transferred, rec.transferred_to_kind, rec.next_contact_id) == (True, "EXTERNAL", None)
    acc = KpiAccumulator()
    acc.add_completion(rec, 1)
    assert (acc.transferred, acc.transferred_external, acc.hold_count, acc.contacts_held) == (1, 1, 2, 1)


def test_ctr_queue_transfer_starts_the_handling_of_its_customer_contact():
    # A flow moved the contact from Sales to Billing before any agent (QUEUE_TRANSFER): the Sales segment
    # was offered, not handled; the Billing one is the customer contact's first handled segment.
    raw = json.loads((CTR_DIR / "voice_transfer_chain.json").read_text())
    first = {**raw[0], "Agent": None, "TransferCompletedTimestamp": None}
    second = {**raw[1], "InitiationMethod": "QUEUE_TRANSFER", "NextContactId": None,
              "TransferCompletedTimestamp": None}
    recs, errors = contact_records_from_ctrs([first, second], tenant_id=TENANT, mapping=MAPPING)
    assert errors == []
    assert [(r.initiation_method, r.queue_transfer, r.final_state) for r in recs] == [
        ("INBOUND", False, FinalState.TRANSFERRED), ("TRANSFER", True, FinalState.COMPLETED)]
    (day,) = day_rows(recs).values()
    # Offered twice (per segment), neither abandoned; handled once, and that is one customer contact.
    assert (day.offered, day.answered, day.abandoned, day.handled) == (2, 1, 0, 1)
    assert (day.transferred_in, day.handled_initial_contacts, day.segments_per_contact) == (1, 1, approx(1.0))


# --- compatibility ---------------------------------------------------------------------------------
def test_records_stored_before_transfers_still_read_and_unknown_fields_are_still_refused():
    stored = {"tenant_id": TENANT, "contact_id": "old", "channel": "VOICE", "connected_at": s(0),
              "disconnected_at": s(60), "final_state": "COMPLETED"}
    old = ContactRecord.model_validate(stored)
    assert (old.next_contact_id, old.consult_ms, old.conference_ms, old.consult_leg, old.queue_transfer) == (
        None, 0, 0, False, False)
    with pytest.raises(ValueError):
        ContactRecord.model_validate({**stored, "no_such_field": 1})


def test_new_kpis_are_none_on_an_empty_cell_and_every_kpi_is_a_row_field():
    kpis = derive_kpis(KpiAccumulator(), KpiSettings())
    for name in ("avg_hold_when_held_s", "hold_rate", "segments_per_contact", "avg_consult_s", "avg_conference_s"):
        assert name in KPI_NAMES and kpis[name] is None and name in KpiRow.model_fields


def test_a_corrected_record_replaces_its_transfer_contribution():
    # A segment first recorded COMPLETED, then corrected to TRANSFERRED (newer version): counted once.
    s1, _ = blind_chain()
    first = record_from_contact(s1.model_copy(update={"state": ContactState.COMPLETED, "transferred_to": None,
                                                      "next_contact_id": None, "ended_at": s(340)}))
    corrected = record_from_contact(s1)
    assert first is not None and corrected is not None and corrected.last_updated_at > first.last_updated_at
    (day,) = day_rows([first, corrected]).values()
    assert (day.handled, day.transferred, day.transfer_rate) == (1, 1, 1.0)


# --- end to end through the use cases (the contract with the lifecycle) ----------------------------
def test_records_of_a_consult_cancelled_then_a_blind_transfer_made_by_the_use_cases():
    from ccaas.domain.models import Queue
    from ccaas.usecases import admin, agents, contacts, transfers
    from ccaas.usecases.agents import StatusChange
    from ccaas.usecases.contacts import NewContact
    from ccaas.usecases.transfers import ConsultDestination, ConsultRequest, Destination, TransferRequest
    from tests.unit.demo import TENANT as DEMO, add_agent, demo_deps

    deps = demo_deps()
    admin.put_queue(deps, Queue(tenant_id=DEMO, queue_id="billing", name="Billing", max_wait_s=600))
    add_agent(deps, "ana", queues=("sales",))
    add_agent(deps, "bob", queues=("billing",))
    for agent_id in ("ana", "bob"):
        agents.set_agent_status(deps, DEMO, agent_id, StatusChange(status="AVAILABLE"))
    new = contacts.create_contact(deps, DEMO, NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="c-1",
                                                         reason="billing_question", priority=5))
    cid = new.contact_id
    contacts.queue_and_route(deps, DEMO, cid, "tok-await")
    contacts.accept_contact(deps, DEMO, "ana", cid)
    # ana consults bob (customer on hold), bob answers, they talk 12 s, ana cancels: 12 s hold, 12 s consult.
    leg = transfers.consult(deps, DEMO, "ana", cid, ConsultRequest(to=ConsultDestination(agent_id="bob")))
    contacts.accept_contact(deps, DEMO, "bob", leg.contact_id)
    deps.clock.advance(12)
    transfers.cancel_consult(deps, DEMO, "ana", cid)
    contacts.end_after_contact_work(deps, DEMO, "bob", leg.contact_id)
    # 30 s later ana transfers the customer blind to billing; bob takes the new segment, 60 s, no ACW wait.
    deps.clock.advance(30)
    segment = transfers.transfer(deps, DEMO, "ana", cid, TransferRequest(to=Destination(queue_id="billing")))
    contacts.end_after_contact_work(deps, DEMO, "ana", cid)
    contacts.queue_and_route(deps, DEMO, segment.contact_id, "tok-seg")
    contacts.accept_contact(deps, DEMO, "bob", segment.contact_id)
    deps.clock.advance(60)
    contacts.complete_contact(deps, DEMO, "bob", segment.contact_id)
    contacts.end_after_contact_work(deps, DEMO, "bob", segment.contact_id)

    by_id = {c: record_from_contact(deps.store.get_contact(DEMO, c)) for c in (cid, leg.contact_id, segment.contact_id)}
    first, cancelled, second = by_id[cid], by_id[leg.contact_id], by_id[segment.contact_id]
    assert (first.final_state, first.next_contact_id, first.hold_ms, first.hold_count) == (
        FinalState.TRANSFERRED, segment.contact_id, 12_000, 1)
    assert (cancelled.consult_leg, cancelled.consult_ms, cancelled.handled) == (True, 12_000, False)
    assert (second.previous_contact_id, second.initial_contact_id, second.handover_mode, second.consult_leg) == (
        cid, cid, "BLIND", False)
    acc = KpiAccumulator()
    for rec in by_id.values():
        if rec.enqueued_at is not None:
            acc.add_arrival(rec, 1, 5_000, 20_000)
        acc.add_completion(rec, 1)
    # 2 customer segments (the consult leg is neither offered nor handled), 1 customer contact, 1 of 2 transferred.
    assert (acc.handled, acc.handled_initial_contacts, acc.transferred, acc.transferred_in) == (2, 1, 1, 1)
    assert (acc.consults, acc.consults_cancelled, acc.consult_ms, acc.contacts_held) == (1, 1, 12_000, 1)


def test_reason_volumes_count_customer_contacts_not_their_segments():
    from ccaas.domain.history import HistoryEntry
    from ccaas.domain.insights import top_reasons
    from ccaas.domain.kpis.settings import KpiSettings

    def entry(cid, method="INBOUND", consult_leg=False, previous=None):
        record = ContactRecord(tenant_id="t", contact_id=cid, channel="VOICE", initiation_method=method, queue_id="q",
                               reason="billing", previous_contact_id=previous, initial_contact_id=previous or cid,
                               initiated_at=1_000, enqueued_at=1_000, connected_at=2_000, disconnected_at=3_000,
                               final_state="COMPLETED", consult_leg=consult_leg)
        return HistoryEntry(tenant_id="t", contact_id=cid, record=record)

    entries = [entry("a"), entry("a2", "TRANSFER", previous="a"), entry("a3", "TRANSFER", consult_leg=True, previous="a"),
               entry("b")]
    [stat] = top_reasons(entries, from_ms=0, to_ms=10_000, settings=KpiSettings())
    assert (stat.contacts, stat.handled, stat.share) == (2, 3, 1.0)  # a and b; a's transfer segment is handled work

