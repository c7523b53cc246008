"""Alerts read from the live state as a supervisor means it (outside review A27, findings 3, 4, 6 and 8): journey
tests' contacts and agents neither count nor hide real ones, a not-ready period is one period whatever its reasons,
and dead air still going on is alerted while it lasts."""
from __future__ import annotations

from ccaas.domain.alerts import AlertRule, AlertRules
from ccaas.usecases import alerts, contacts, metrics
from tests.alert_builders import JOURNEY, on_a_call, queued, say, set_status, spoke_on_a_call
from tests.unit.demo import TENANT, add_agent, demo_deps


def _open(deps):
    return {(a.rule, a.subject): a for a in alerts.list_alerts(deps, TENANT)}


# --- 3. journey contacts at the head of a queue -------------------------------------------------------


def test_a_journey_contact_at_the_head_of_a_queue_hides_no_real_customers_wait():
    """Only the oldest waiting contact was read with the depth rule off: a synthetic one there was filtered out,
    and the real customer behind it never alerted; the live views showed the synthetic contact's wait."""
    deps = demo_deps()
    alerts.put_rules(deps, TENANT, AlertRules.model_validate({"queue_depth": {"enabled": False}}))
    queued(deps, 1, JOURNEY)
    deps.clock.advance(5)
    (real,) = queued(deps, 1)
    deps.clock.advance(600)
    alerts.sweep(deps)
    wait = _open(deps)[(AlertRule.LONG_WAIT, "queue/sales")]
    assert wait.details["contact_id"] == real and wait.details["oldest_wait_s"] == 600
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").oldest_wait_s == 600
    assert {v.queue_id: v.oldest_wait_s for v in metrics.realtime_all_queues(deps, TENANT)}["sales"] == 600
    assert metrics.view_of(deps, TENANT, "sales", {}).oldest_wait_s == 600


def test_journey_contacts_filling_the_depth_probe_are_read_past():
    deps = demo_deps()  # queue_depth threshold 10: 11 contacts read
    queued(deps, 11, JOURNEY)
    deps.clock.advance(5)
    (real,) = queued(deps, 1)
    deps.clock.advance(300)
    [snapshot] = alerts.queue_snapshots(deps, TENANT, alerts.get_rules(deps, TENANT), ["sales"])
    assert (snapshot.oldest_contact_id, snapshot.in_queue) == (real, 1)
    alerts.sweep(deps)
    assert set(_open(deps)) == {(AlertRule.LONG_WAIT, "queue/sales")}  # and no depth alert for journey contacts


def test_a_queue_of_only_journey_contacts_has_no_oldest_wait():
    deps = demo_deps()
    queued(deps, 2, JOURNEY)
    deps.clock.advance(600)
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").oldest_wait_s in (None, 0)
    assert alerts.sweep(deps).opened == 0


# --- 4. one not-ready period, whatever its reasons ----------------------------------------------------


def test_a_switch_of_not_ready_reason_keeps_the_clock_running():
    deps = demo_deps()
    add_agent(deps, "ana")
    set_status(deps, "ana", "AVAILABLE")
    set_status(deps, "ana", "BREAK")
    deps.clock.advance(16 * 60)
    assert [a.rule for a in alerts.sweep_tenant(deps, TENANT).opened] == [AlertRule.AGENT_NOT_READY]
    set_status(deps, "ana", "PERSONAL")
    deps.clock.advance(30)
    assert not alerts.sweep_tenant(deps, TENANT).resolved  # still not ready: the alert stands
    set_status(deps, "ana", "AVAILABLE")
    assert [a.rule for a in alerts.sweep_tenant(deps, TENANT).resolved] == [AlertRule.AGENT_NOT_READY]

    opened = 0
    for i in range(3):  # 14 minutes per reason: not ready for 42 minutes
        set_status(deps, "ana", ("BREAK", "PERSONAL")[i % 2])
        for _ in range(14):
            deps.clock.advance(60)
            opened += len(alerts.sweep_tenant(deps, TENANT).opened)
    assert opened == 1
    assert "not ready (PERSONAL) for 15m" in _open(deps)[(AlertRule.AGENT_NOT_READY, "agent/ana")].message


def test_the_not_ready_clock_starts_when_work_stops():
    deps = demo_deps()
    add_agent(deps, "ana")
    set_status(deps, "ana", "AVAILABLE")
    (cid,) = queued(deps, 1)
    contacts.accept_contact(deps, TENANT, "ana", cid)
    set_status(deps, "ana", "BREAK")  # asked for a break during the call
    deps.clock.advance(20 * 60)
    contacts.complete_contact(deps, TENANT, "ana", cid)
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    deps.clock.advance(14 * 60)
    assert not alerts.sweep_tenant(deps, TENANT).opened
    deps.clock.advance(60)
    assert [a.rule for a in alerts.sweep_tenant(deps, TENANT).opened] == [AlertRule.AGENT_NOT_READY]


def test_with_planned_reasons_ignored_a_planned_reason_is_never_counted_and_an_open_alert_holds():
    deps = demo_deps()
    alerts.put_rules(deps, TENANT, AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": ["LUNCH"]}}))
    add_agent(deps, "ana")
    set_status(deps, "ana", "AVAILABLE")
    set_status(deps, "ana", "LUNCH")
    deps.clock.advance(60 * 60)
    set_status(deps, "ana", "BREAK")  # straight from lunch: the break's own clock
    deps.clock.advance(14 * 60)
    assert not alerts.sweep_tenant(deps, TENANT).opened
    deps.clock.advance(60)
    (alert,) = alerts.sweep_tenant(deps, TENANT).opened
    set_status(deps, "ana", "PERSONAL")
    deps.clock.advance(60)
    assert not alerts.sweep_tenant(deps, TENANT).resolved
    assert not alerts.evaluate_touched(deps, TENANT, alerts.Touched(agents={"ana"})).resolved
    set_status(deps, "ana", "LUNCH")
    assert [a.alert_id for a in alerts.sweep_tenant(deps, TENANT).resolved] == [alert.alert_id]


# --- 6. dead air still going on ----------------------------------------------------------------------


def test_the_sweep_alerts_a_silence_while_it_lasts():
    """The customer spoke 0-3 s, then nobody for 3 minutes: the alert opened only when someone spoke again."""
    deps = demo_deps()
    cid = spoke_on_a_call(deps)
    deps.clock.advance(10)
    assert not alerts.sweep_tenant(deps, TENANT).opened  # 10 s: below the 15 s threshold
    deps.clock.advance(50)
    (alert,) = alerts.sweep_tenant(deps, TENANT).opened
    assert (alert.rule, alert.subject, alert.queue_id) == (AlertRule.SILENCE, f"contact/{cid}", "sales")
    assert alert.details["silence_s"] == 60 and alert.details["at_ms"] == 3000
    deps.clock.advance(120)
    assert not alerts.sweep_tenant(deps, TENANT).opened
    assert not say(deps, cid, 183, 185, "AGENT").opened  # the same silence: one alert
    contacts.complete_contact(deps, TENANT, "ana", cid)
    assert [a.rule for a in alerts.sweep_tenant(deps, TENANT).resolved] == [AlertRule.SILENCE]


def test_speech_not_posted_yet_and_calls_without_live_transcript_are_no_silence():
    deps = demo_deps()
    talking = on_a_call(deps)
    untranscribed = on_a_call(deps, "bob")
    deps.clock.advance(30)
    say(deps, talking, 0, 10)  # a post that came late: it ended 20 s ago, but was posted just now
    read = []
    state_of = deps.alerts.transcript_state
    deps.alerts.transcript_state = lambda tenant, contact: read.append(contact) or state_of(tenant, contact)
    assert not alerts.sweep_tenant(deps, TENANT).opened
    assert sorted(read) == sorted([talking, untranscribed])
    deps.clock.advance(15)
    assert [a.subject for a in alerts.sweep_tenant(deps, TENANT).opened] == [f"contact/{talking}"]


def test_the_silence_sweep_reads_a_bounded_number_of_transcripts_and_none_of_test_agents(monkeypatch):
    deps = demo_deps()
    calls = [on_a_call(deps, name) for name in ("ana", "bob", "cy")]
    journey = on_a_call(deps, "bot", skills={"ccaas:test_agent": 1, "sales": 5})
    deps.clock.advance(1)
    for cid in (*calls, journey):
        say(deps, cid, 0, 1)
    deps.clock.advance(60)
    read = []
    state_of = deps.alerts.transcript_state
    deps.alerts.transcript_state = lambda tenant, contact: read.append(contact) or state_of(tenant, contact)
    monkeypatch.setattr(alerts, "MAX_SILENCE_CHECKS", 2)
    assert len(alerts.sweep_tenant(deps, TENANT).opened) == 2 and len(read) == 2
    deps.clock.advance(60)
    assert len(alerts.sweep_tenant(deps, TENANT).opened) == 1  # the next minute: the one left
    assert journey not in read and {a.subject for a in alerts.list_alerts(deps, TENANT)} == {f"contact/{c}" for c in calls}


# --- 8. journey test agents ---------------------------------------------------------------------------


def test_a_journey_test_agent_left_not_ready_raises_no_alert():
    deps = demo_deps()
    add_agent(deps, "journey-bot", skills={"ccaas:test_agent": 1, "sales": 5})
    set_status(deps, "journey-bot", "AVAILABLE")
    set_status(deps, "journey-bot", "MISSED")
    deps.clock.advance(16 * 60)
    assert not alerts.evaluate_touched(deps, TENANT, alerts.Touched(agents={"journey-bot"})).opened
    assert alerts.sweep(deps).opened == 0 and not alerts.list_alerts(deps, TENANT)
