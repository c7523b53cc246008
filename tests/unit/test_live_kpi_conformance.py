"""The live engine and the history engine agree on one day's queue KPIs once nothing waits.

One small scenario runs through the use-cases (their events folded by the live-metrics consumer) and, as
ContactRecords with the same times, through the history engine's accumulator: a short abandon, a long
abandon, a queue timeout, a contact answered within T and one after it, and two cancelled consult legs
(one answered, one withdrawn while queued). Offered, answered, abandoned, timed out, every service-level
variant and every abandonment variant must be equal (DOMAIN.md "Metrics"; the lead's shared rule for a
wait the system ended: offered, not answered, not abandoned, a service-level miss)."""
from __future__ import annotations

import pytest

from ccaas.domain.kpis.accumulators import KpiAccumulator, abandonment_rate, service_level
from ccaas.domain.kpis.records import ContactRecord, FinalState
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Channel
from ccaas.usecases import agents, contacts, history, metrics, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps

T_S = 20  # the demo sales queue's sl_threshold_s (max_wait_s 60)


def _new(deps, token):
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, token)


def _status(deps, agent_id, status):
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def _scenario():
    """Runs the day; returns (deps, the ContactRecords history would hold for it, built by hand from the times)."""
    deps = demo_deps()
    t0 = deps.clock.now_ms()
    at = lambda s: t0 + int(s * 1000)  # noqa: E731 - seconds since t0, in epoch ms
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _status(deps, "ana", "AVAILABLE")
    a = _new(deps, "ta")  # offered to ana at once
    b, c, d = _new(deps, "tb"), _new(deps, "tc"), _new(deps, "td")  # wait: ana is reserved for a
    deps.clock.advance(1)
    e = _new(deps, "te")
    deps.clock.advance(2)  # t=3
    contacts.abandon_contact(deps, TENANT, c.contact_id, reason="CUSTOMER_LEFT", from_workflow=False)  # short
    deps.clock.advance(7)  # t=10
    contacts.accept_contact(deps, TENANT, "ana", a.contact_id)  # waited 10 s: within T
    deps.clock.advance(20)  # t=30
    contacts.abandon_contact(deps, TENANT, d.contact_id, reason="CUSTOMER_LEFT", from_workflow=False)  # 30 s: long
    deps.clock.advance(3)  # t=33
    contacts.complete_contact(deps, TENANT, "ana", a.contact_id)
    deps.clock.advance(2)  # t=35: b is offered to ana when her ACW ends
    contacts.end_after_contact_work(deps, TENANT, "ana", a.contact_id)
    deps.clock.advance(5)  # t=40
    contacts.accept_contact(deps, TENANT, "ana", b.contact_id)  # waited 40 s: after T
    deps.clock.advance(22)  # t=62: e waited 61 s, past the queue's max wait
    assert contacts.recheck(deps, TENANT, e.contact_id)[0] == "ended"
    assert contacts.get_contact(deps, TENANT, e.contact_id).abandon_reason == "QUEUE_TIMEOUT"
    # A consult leg into sales, answered by bob after 5 s, then ended by bob without a transfer.
    leg1 = transfers.consult(deps, TENANT, "ana", b.contact_id,
                             transfers.ConsultRequest.model_validate({"to": {"queue_id": "sales"}}))
    leg1 = contacts.queue_and_route(deps, TENANT, leg1.contact_id, "tl1")
    deps.clock.advance(5)  # t=67
    _status(deps, "bob", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "bob", leg1.contact_id)
    deps.clock.advance(3)  # t=70
    contacts.complete_contact(deps, TENANT, "bob", leg1.contact_id)
    deps.clock.advance(2)  # t=72
    contacts.end_after_contact_work(deps, TENANT, "bob", leg1.contact_id)
    _status(deps, "bob", "BREAK")
    transfers.resume(deps, TENANT, "ana", b.contact_id)
    # A second consult leg into sales, nobody free: withdrawn by ana while it waits.
    deps.clock.advance(3)  # t=75
    leg2 = transfers.consult(deps, TENANT, "ana", b.contact_id,
                             transfers.ConsultRequest.model_validate({"to": {"queue_id": "sales"}}))
    leg2 = contacts.queue_and_route(deps, TENANT, leg2.contact_id, "tl2")
    deps.clock.advance(5)  # t=80
    transfers.cancel_consult(deps, TENANT, "ana", b.contact_id)
    deps.clock.advance(5)  # t=85
    contacts.complete_contact(deps, TENANT, "ana", b.contact_id)
    deps.clock.advance(5)  # t=90
    contacts.end_after_contact_work(deps, TENANT, "ana", b.contact_id)

    def record(contact, enqueued_s, final_state, connected_s=None, disconnected_s=None, **flags):
        return ContactRecord(
            tenant_id=TENANT, contact_id=contact.contact_id, channel=Channel.VOICE, queue_id="sales",
            enqueued_at=at(enqueued_s), connected_at=None if connected_s is None else at(connected_s),
            disconnected_at=None if disconnected_s is None else at(disconnected_s), final_state=final_state,
            sl_threshold_s=T_S, **flags,
        )

    records = [
        record(a, 0, FinalState.COMPLETED, 10, 33),
        record(b, 0, FinalState.COMPLETED, 40, 85),
        record(c, 0, FinalState.ABANDONED, disconnected_s=3),
        record(d, 0, FinalState.ABANDONED, disconnected_s=30),
        record(e, 1, FinalState.ABANDONED, disconnected_s=62, timed_out=True),
        record(leg1, 62, FinalState.COMPLETED, 67, 70, consult_leg=True),
        record(leg2, 75, FinalState.ABANDONED, disconnected_s=80, consult_leg=True),
    ]
    return deps, records


@pytest.fixture(scope="module")
def day():
    deps, records = _scenario()
    events = list(deps.events.events)
    batch = [SequencedEvent(event=ev, shard_id="shardId-0", sequence=pad_sequence(str(i))) for i, ev in enumerate(events)]
    metrics.apply_records(deps, "shardId-0", batch)
    settings = KpiSettings()
    acc = KpiAccumulator()
    for rec in records:
        acc.add_arrival(rec, 1, settings.short_abandon_s * 1000, settings.default_sl_threshold_s * 1000)
    return deps, acc


def test_the_counts_agree(day):
    deps, acc = day
    live = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert live.in_queue == 0  # all resolved: live SL's base (resolved contacts) is offered now
    assert (acc.offered, acc.answered, acc.abandoned, acc.short_abandoned, acc.answered_within_sl) == (5, 2, 2, 1, 1)
    assert acc.timed_out == 1  # history counts the queue timeout as timed_out too
    assert (live.offered, live.answered, live.abandoned, live.timed_out, live.answered_within_sl) == (
        acc.offered, acc.answered, acc.abandoned, acc.timed_out, acc.answered_within_sl)
    assert live.last_15_minutes.timed_out == 1
    assert live.asa_s == (10 + 40) / 2  # the answered consult leg's 5 s wait was taken back
    assert live.completed == 2  # a and b; the answered leg's completion is not a customer contact's


@pytest.mark.parametrize("variant, expected", [
    ("default", 1 / (5 - 1)), ("answered_over_offered", 1 / 5), ("abandons_count_as_met", (1 + 1) / 5)])
def test_every_service_level_variant_agrees(day, variant, expected):
    deps, acc = day
    history.put_kpi_settings(deps, TENANT, KpiSettings(service_level_variant=variant))
    live = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert service_level(acc, variant) == pytest.approx(expected)
    assert live.service_level == pytest.approx(expected)
    assert live.last_15_minutes.service_level == pytest.approx(expected)


@pytest.mark.parametrize("variant, expected", [
    ("exclude_short_abandons", (2 - 1) / (5 - 1)), ("include_short_abandons", 2 / 5)])
def test_every_abandonment_variant_agrees(day, variant, expected):
    deps, acc = day
    history.put_kpi_settings(deps, TENANT, KpiSettings(abandonment_variant=variant))
    live = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert abandonment_rate(acc, variant) == pytest.approx(expected)
    assert live.abandonment_rate == pytest.approx(expected)
    assert live.last_15_minutes.abandonment_rate == pytest.approx(expected)


def test_the_history_engine_records_the_same_queue_counts_for_these_contacts(day):
    """What history itself records for these contacts rolls up like the hand-built records: both sides saw one day."""
    deps, acc = day
    contact_ids = {ev.payload["contact_id"] for ev in deps.events.events if ev.payload.get("contact_id")}
    for contact_id in contact_ids:
        history.record_contact(deps, TENANT, contact_id)
    now = deps.clock.now_ms()
    recorded = KpiAccumulator()
    for rec in history.kpi_records(deps, TENANT, now - 3_600_000, now + 3_600_000):
        recorded.add_arrival(rec, 1, 5_000, 20_000)
    assert recorded.as_dict() == acc.as_dict()


def test_the_live_default_short_abandon_is_the_kpi_settings_default():
    from ccaas.domain.live_metrics import DEFAULT_SHORT_ABANDON_MS

    assert DEFAULT_SHORT_ABANDON_MS == KpiSettings().short_abandon_s * 1000
