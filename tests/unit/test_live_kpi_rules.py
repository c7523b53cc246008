"""Live queue KPIs follow DOMAIN.md "Metrics" and the tenant's KpiSettings as history does: short abandons and the
abandonment variant, the service-level variant, a wait the system ended (timed out, not abandoned), cancelled
consult legs (not customer contacts) and the enqueue day of queue-side counts."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.domain.events import Event, EventType
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.live_metrics import (
    MINUTE_SLOTS,
    SequencedEvent,
    contributions,
    fold_batch,
    local_day,
    pad_sequence,
    plan_write,
    realtime_view,
)
from ccaas.domain.models import Channel
from ccaas.usecases import agents, contacts, history, metrics, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.tenancy import time_zone_of
from tests.unit.demo import TENANT, add_agent, demo_deps


def _new(deps, token):
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, token)


def _status(deps, agent_id, status):
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def _leave(deps, contact, reason="CUSTOMER_LEFT"):
    contacts.abandon_contact(deps, TENANT, contact.contact_id, reason=reason, from_workflow=False)


def _fold(deps):
    batch = [SequencedEvent(event=e, shard_id="shardId-0", sequence=pad_sequence(str(i)))
             for i, e in enumerate(deps.events.events)]
    metrics.apply_records(deps, "shardId-0", batch)
    return metrics.realtime_queue_metrics(deps, TENANT, "sales")


def _event(kind, at_ms, **payload):
    base = {"queue_id": "sales", "channel": "VOICE", "sl_threshold_s": 20, **payload}
    return Event(event_id=f"e{at_ms}{kind}", tenant_id=TENANT, type=kind, subject="contact/x", sequence=1,
                 occurred_at=datetime.fromtimestamp(at_ms / 1000, tz=UTC), payload=base)


# --- short abandons and the abandonment variant (p1) ---------------------------------------------------------------
def _abandons(settings: KpiSettings | None = None):
    """4 offered: one answered at once, one left after 3 s (short by default), one after 30 s, one answered later."""
    deps = demo_deps()
    if settings is not None:
        history.put_kpi_settings(deps, TENANT, settings)
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    first = _new(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    _status(deps, "ana", "BREAK")
    short, long, late = _new(deps, "t2"), _new(deps, "t3"), _new(deps, "t4")
    deps.clock.advance(3)
    _leave(deps, short)
    deps.clock.advance(27)
    _leave(deps, long)
    _status(deps, "ana", "AVAILABLE")
    contacts.complete_contact(deps, TENANT, "ana", first.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", first.contact_id)
    contacts.accept_contact(deps, TENANT, "ana", late.contact_id)
    return deps


def test_short_abandons_leave_the_default_abandonment_rate():
    view = _fold(_abandons())
    assert (view.offered, view.abandoned) == (4, 2)
    assert view.abandonment_rate == pytest.approx((2 - 1) / (4 - 1))  # DOMAIN default: short ones on neither side
    assert view.last_15_minutes.abandonment_rate == pytest.approx((2 - 1) / (4 - 1))
    # the counts the rate is of, for a reader (the wallboard) to show beside it: "1 of 3 · 1 short not counted"
    assert view.short_abandoned == view.last_15_minutes.short_abandoned == 1
    deps = _abandons(KpiSettings(short_abandon_s=30))  # classified when read, by the setting in force
    assert _fold(deps).short_abandoned == 2


def test_the_tenants_abandonment_variant_and_short_abandon_threshold_are_applied():
    deps = _abandons(KpiSettings(abandonment_variant="include_short_abandons"))
    assert _fold(deps).abandonment_rate == pytest.approx(2 / 4)
    # A threshold of 2 s makes the 3 s abandon a real one: counted when folded (the consumer's cached settings).
    deps = _abandons(KpiSettings(short_abandon_s=2))
    assert _fold(deps).abandonment_rate == pytest.approx(2 / 4)
    deps = _abandons(KpiSettings(short_abandon_s=30))  # inclusive, as history: the 30 s one is short too
    assert _fold(deps).abandonment_rate == 0.0  # (2 - 2) / (4 - 2)


# --- the service-level variant (p5) --------------------------------------------------------------------------------
@pytest.mark.parametrize("variant, expected", [
    ("default", 1 / (3 - 1)), ("answered_over_offered", 1 / 3), ("abandons_count_as_met", (1 + 1) / 3)])
def test_live_service_level_uses_the_tenants_variant_over_resolved_contacts(variant, expected):
    """Answered after 5 s, abandoned after 10 s (within T) and after 30 s; a fourth still waits (not resolved)."""
    deps = demo_deps()
    add_agent(deps, "ana")
    answered, within, after = _new(deps, "t1"), _new(deps, "t2"), _new(deps, "t3")
    deps.clock.advance(5)
    _status(deps, "ana", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "ana", answered.contact_id)
    deps.clock.advance(5)
    _leave(deps, within)
    deps.clock.advance(20)
    _leave(deps, after)
    _new(deps, "t4")  # waiting: neither met nor missed T yet
    history.put_kpi_settings(deps, TENANT, KpiSettings(service_level_variant=variant))
    view = _fold(deps)
    assert (view.offered, view.in_queue) == (4, 1)
    assert view.service_level == pytest.approx(expected)
    assert view.last_15_minutes.service_level == pytest.approx(expected)
    assert view.by_channel[0].service_level == pytest.approx(expected)


# --- a wait the system ended (p3) ----------------------------------------------------------------------------------
def test_a_queue_timeout_is_timed_out_not_abandoned_and_a_service_level_miss():
    deps = demo_deps()  # sales: max_wait_s 60
    add_agent(deps, "ana")
    waiting = _new(deps, "t1")
    deps.clock.advance(61)
    assert contacts.recheck(deps, TENANT, waiting.contact_id)[0] == "ended"
    _status(deps, "ana", "AVAILABLE")
    answered = _new(deps, "t2")
    contacts.accept_contact(deps, TENANT, "ana", answered.contact_id)
    view = _fold(deps)
    assert (view.offered, view.answered, view.abandoned, view.timed_out, view.in_queue) == (2, 1, 0, 1, 0)
    assert view.last_15_minutes.timed_out == 1
    assert view.abandonment_rate == 0.0  # not an abandon, still offered
    assert view.service_level == pytest.approx(1 / 2)  # resolved 2, the timeout a miss


@pytest.mark.parametrize("reason", ["QUEUE_TIMEOUT", "CALLBACK_EXPIRED"])
def test_a_wait_the_system_ended_counts_timed_out(reason):
    event = _event(EventType.CONTACT_ABANDONED, 61_000, previous_state="QUEUED", reason=reason, enqueued_at=0,
                   disconnected_at=61_000)
    (part,) = contributions(event)
    assert (dict(part.counters), dict(part.gauges)) == ({"timed_out": 1}, {"in_queue": -1})
    assert part.abandon_wait_ms is None  # never a short abandon either


def test_items_written_before_timed_out_existed_read_as_none_timed_out():
    view = realtime_view("sales", {"d1_at": "20251124", "d1_offered": 2, "d1_answered": 1, "d1_abandoned": 1},
                         now_ms=int(datetime(2025, 11, 24, 12, tzinfo=UTC).timestamp() * 1000))
    assert (view.timed_out, view.last_15_minutes.timed_out, view.abandoned) == (0, 0, 1)


def test_alert_windows_count_a_timeout_as_a_miss():
    from ccaas.domain.alerts import window_counts

    deps = demo_deps()
    add_agent(deps, "ana")
    waiting = _new(deps, "t1")
    deps.clock.advance(61)
    contacts.recheck(deps, TENANT, waiting.contact_id)
    _status(deps, "ana", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "ana", _new(deps, "t2").contact_id)
    _fold(deps)
    window = window_counts(deps.live.read(TENANT, "sales"), deps.clock.now_ms(), 15)
    assert (window.abandoned, window.timed_out, window.service_level()) == (0, 1, 1 / 2)


@pytest.mark.parametrize("variant", ["default", "answered_over_offered", "abandons_count_as_met"])
def test_a_service_level_alert_fires_on_the_sl_the_live_view_shows(variant):
    """One answered within T, one abandoned within T: the live view shows 1.0 (default: the early abandon is out
    of the base), 0.5 or 1.0 by the tenant's variant, and the SL alert judges that same figure (it read the
    default formula whatever the tenant chose)."""
    from ccaas.domain.alerts import AlertRule, AlertRules  # noqa: PLC0415
    from ccaas.usecases import alerts  # noqa: PLC0415

    deps = demo_deps()
    history.put_kpi_settings(deps, TENANT, KpiSettings(service_level_variant=variant))
    add_agent(deps, "ana")
    gone = _new(deps, "t1")
    deps.clock.advance(10)
    _leave(deps, gone)
    _status(deps, "ana", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "ana", _new(deps, "t2").contact_id)
    _fold(deps)
    shown = metrics.realtime_queue_metrics(deps, TENANT, "sales").last_15_minutes.service_level
    rules = AlertRules.model_validate({"service_level": {"target": 0.75, "min_contacts": 1, "window_minutes": 15}})
    (snapshot,) = alerts.queue_snapshots(deps, TENANT, rules, ["sales"])
    from ccaas.domain.alerts import queue_findings  # noqa: PLC0415

    fired = [f for f in queue_findings(rules, snapshot, deps.clock.now_ms()) if f.rule is AlertRule.SERVICE_LEVEL]
    assert shown == {"default": 1.0, "answered_over_offered": 0.5, "abandons_count_as_met": 1.0}[variant]
    assert bool(fired) == (shown < 0.75)
    assert not fired or fired[0].details["service_level"] == shown


# --- cancelled consult legs (p6, p6b) ------------------------------------------------------------------------------
def _consult(deps, source_id, token):
    leg = transfers.consult(deps, TENANT, "ana", source_id,
                            transfers.ConsultRequest.model_validate({"to": {"queue_id": "sales"}}))
    return contacts.queue_and_route(deps, TENANT, leg.contact_id, token)


def test_an_answered_then_cancelled_consult_leg_is_taken_back():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bob")
    _status(deps, "ana", "AVAILABLE")
    customer = _new(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ana", customer.contact_id)
    deps.clock.advance(60)
    leg = _consult(deps, customer.contact_id, "leg")
    deps.clock.advance(30)
    _status(deps, "bob", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "bob", leg.contact_id)  # waited 30 s: after T
    deps.clock.advance(30)
    contacts.complete_contact(deps, TENANT, "bob", leg.contact_id)  # bob hangs up: no transfer
    deps.clock.advance(5)
    contacts.end_after_contact_work(deps, TENANT, "bob", leg.contact_id)
    transfers.resume(deps, TENANT, "ana", customer.contact_id)
    deps.clock.advance(30)
    contacts.complete_contact(deps, TENANT, "ana", customer.contact_id)
    deps.clock.advance(10)
    contacts.end_after_contact_work(deps, TENANT, "ana", customer.contact_id)
    (leg_done,) = [e.payload for e in deps.events.events if e.type == EventType.CONTACT_COMPLETED and e.payload.get("consult_of")]
    assert leg_done["sl_threshold_s"] == 20  # what the retraction of its answer needs (within T or not)
    view = _fold(deps)
    assert (view.offered, view.answered, view.answered_within_sl, view.completed) == (1, 1, 1, 1)
    assert (view.asa_s, view.service_level, view.aht_s) == (0.0, 1.0, 165.0)  # 60 + 65 held + 30 + 10 ACW
    window = view.last_15_minutes
    assert (window.offered, window.answered, window.service_level, window.asa_s) == (1, 1, 1.0, 0.0)


def test_a_consult_leg_withdrawn_while_queued_is_not_offered():
    deps = demo_deps()
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    customer = _new(deps, "t1")
    contacts.accept_contact(deps, TENANT, "ana", customer.contact_id)
    deps.clock.advance(30)
    _consult(deps, customer.contact_id, "leg")
    deps.clock.advance(25)
    transfers.cancel_consult(deps, TENANT, "ana", customer.contact_id)
    view = _fold(deps)
    assert (view.offered, view.answered, view.abandoned, view.in_queue, view.abandonment_rate) == (1, 1, 0, 0, 0.0)
    assert view.last_15_minutes.offered == 1


def test_a_legs_retraction_lands_in_the_minute_its_counts_were_added():
    """Queued at minute 0, answered at minute 1, cancelled at minute 20: the minute slots it was counted in are out
    of the ring by then, so the retraction is dropped with them instead of leaving -1 in the current window."""
    leg = {"consult_of": "customer", "enqueued_at": 0, "connected_at": 60_000}
    records = [SequencedEvent(event=_event(EventType.CONTACT_COMPLETED, 20 * 60_000, acw_ended_at=20 * 60_000, **leg),
                              shard_id="s0", sequence=pad_sequence("1"))]
    (update,) = fold_batch(records, {})
    assert update.minutes == {0: {"offered": -1}, 1: {"answered": -1, "answered_within_sl": 0, "wait_ms_answered": -60_000}}
    current = {f"m{20 % MINUTE_SLOTS}_at": 20, f"m{0 % MINUTE_SLOTS}_at": 16, f"m{1 % MINUTE_SLOTS}_at": 17}
    plan = plan_write(update, current)
    assert not any(k.startswith("m") for k in (*plan.adds, *plan.sets))


# --- the enqueue day of queue-side counts (p10) --------------------------------------------------------------------
def test_queue_side_counts_go_in_the_day_the_contact_was_enqueued():
    """Enqueued 23:59:50 and answered 00:00:25, enqueued 23:59:58 and gone at 00:00:05: yesterday's, as history
    buckets them; the handling (completed at 00:00:55) is today's."""
    from datetime import timedelta

    from ccaas.domain.kpis.intervals import TenantCalendar

    deps = demo_deps()
    time_zone = time_zone_of(deps, TENANT)
    calendar = TenantCalendar(time_zone)
    day2 = calendar.local(deps.clock.now_ms()).date() + timedelta(days=2)
    deps.clock.advance((calendar.day_start(day2) - 10_000 - deps.clock.now_ms()) / 1000)
    add_agent(deps, "ana")
    answered = _new(deps, "t1")
    deps.clock.advance(8)
    gone = _new(deps, "t2")
    deps.clock.advance(7)
    _leave(deps, gone)
    deps.clock.advance(20)
    _status(deps, "ana", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "ana", answered.contact_id)
    deps.clock.advance(30)
    contacts.complete_contact(deps, TENANT, "ana", answered.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", answered.contact_id)
    today = _fold(deps)
    assert (today.offered, today.answered, today.abandoned, today.service_level, today.completed) == (0, 0, 0, None, 1)
    assert today.last_15_minutes.answered == 1  # the window counts by event time
    item = deps.live.read(TENANT, "sales")
    yesterday = local_day(calendar.day_start(day2) - 1, time_zone)
    slot = next(k.removesuffix("_at") for k, v in item.items() if k.startswith("d") and k.endswith("_at") and v == yesterday)
    assert (item[f"{slot}_offered"], item[f"{slot}_answered"], item[f"{slot}_abandoned"]) == (2, 1, 1)


# --- the settings the consumer reads --------------------------------------------------------------------------------
class _CountingSettings:
    def __init__(self, inner) -> None:
        self.inner, self.kpi_reads = inner, 0

    def get_settings(self, tenant_id, name):  # noqa: ANN001, ANN201
        self.kpi_reads += name == "kpis"
        return self.inner.get_settings(tenant_id, name)

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return getattr(self.inner, name)


def test_the_consumer_reads_a_tenants_kpi_settings_through_the_containers_config_cache():
    """No cache of its own (a second one answered stale settings before): the Lambdas' CachedConfigStore keeps them
    a few seconds, so batches and their pushed views read them once, and a change made through the store shows."""
    from ccaas.adapters.cached_config import CachedConfigStore  # noqa: PLC0415
    from ccaas.domain.kpis.settings import KpiSettings  # noqa: PLC0415
    from ccaas.usecases import history  # noqa: PLC0415

    deps = demo_deps()
    counting = _CountingSettings(deps.config)
    deps.config = CachedConfigStore(counting, max_age_s=60)
    records = []
    for i in range(3):
        _new(deps, f"t{i}")
        batch = [SequencedEvent(event=e, shard_id="shardId-0", sequence=pad_sequence(str(len(records) + j)))
                 for j, e in enumerate(deps.events.events[len(records):])]
        records += batch
        for applied in metrics.apply_records(deps, "shardId-0", batch):  # one batch per contact
            metrics.view_of(deps, TENANT, applied.update.queue_id, applied.item)  # what the consumer pushes
    assert counting.kpi_reads == 1
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").offered == 3 and counting.kpi_reads == 1
    history.put_kpi_settings(deps, TENANT, KpiSettings(service_level_variant="answered_over_offered"))
    assert metrics.kpi_settings_of(deps, TENANT).service_level_variant == "answered_over_offered"
