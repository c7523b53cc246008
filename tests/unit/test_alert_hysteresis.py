"""Alerts that must not flap or contradict the wallboard (outside review A27): the service-level alert holds on thin
data and clears above target + a margin, over the live view's own "last 15 minutes"; the sentiment alert clears only
above `clear_above`; a planned not-ready reason no agent can have is refused."""
from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from ccaas.domain import alerts as A
from ccaas.domain.alerts import (
    AlertRule,
    AlertRules,
    Decisions,
    LiveSegment,
    LiveTranscriptState,
    QueueSnapshot,
    Resolution,
    SentimentRule,
    evaluate,
    evaluate_transcript,
    iso,
    transcript_decisions,
    window_counts,
)
from ccaas.domain.analytics.transcript import Speaker
from ccaas.domain.live_metrics import SequencedEvent, pad_sequence, sliding_minutes
from ccaas.domain.routing_engine.policy import NotReadyStatus
from ccaas.domain import events
from ccaas.domain.vocabulary import NOT_READY_REASON, STORED_DOCUMENT
from ccaas.usecases import agents, alerts, contacts, metrics
from ccaas.usecases.agents import STATUS_PATTERN, StatusChange
from ccaas.usecases.contacts import NewContact
from tests.alert_builders import answered_after
from tests.unit.demo import TENANT, add_agent, demo_deps

NOW = 1_764_000_000_000 + 30_000  # half a minute into a minute
MINUTE = NOW // 60_000


def _item(answered: int, within: int, minute: int = MINUTE) -> dict:
    """A live metrics item (ccaas.domain.live_metrics layout) with `answered` answers in one minute slot."""
    k = minute % 16
    return {f"m{k}_at": minute, f"m{k}_answered": answered, f"m{k}_answered_within_sl": within}


def _queue(item: dict) -> QueueSnapshot:
    return QueueSnapshot(queue_id="sales", sl_target=0.8, in_queue=0, live_item=item)


def _apply(decisions: Decisions, active: list, now_ms: int) -> tuple[int, int]:
    for alert, _ in decisions.resolve:
        active.remove(alert)
    for i, finding in enumerate(decisions.open):
        active.append(finding.alert(TENANT, f"{now_ms:013d}-{i}", now_ms))
    return len(decisions.open), len(decisions.resolve)


# --- finding 2: thin data is no recovery; hysteresis ---------------------------------------------------


def test_an_open_sl_alert_holds_on_thin_data_and_clears_only_above_target_plus_margin():
    rules = AlertRules()  # min_contacts 5, clear_margin 0.05
    (opened,) = evaluate(rules, queues=[_queue(_item(6, 0))], now_ms=NOW).open
    held = opened.alert(TENANT, "a1", NOW)
    # 4 contacts, all missed: too few to judge, and nothing says SL recovered
    assert not evaluate(rules, queues=[_queue(_item(4, 0))], active=[held], now_ms=NOW)
    assert not evaluate(rules, queues=[_queue({})], active=[held], now_ms=NOW)  # an empty window
    # back at target (80 %) but not above it by the margin: still held
    assert not evaluate(rules, queues=[_queue(_item(10, 8))], active=[held], now_ms=NOW)
    cleared = evaluate(rules, queues=[_queue(_item(20, 17))], active=[held], now_ms=NOW)  # 85 %
    assert cleared.resolve == [(held, Resolution.CONDITION_CLEARED)]
    # thin data opens nothing either
    assert not evaluate(rules, queues=[_queue(_item(4, 0))], now_ms=NOW)
    assert AlertRules.model_validate({"service_level": {"target": 0.98}}).service_level.clear_at(0.98) == 1.0
    with pytest.raises(ValidationError):
        AlertRules.model_validate({"service_level": {"clear_margin": -0.1}})


def test_a_queue_whose_every_answer_misses_keeps_one_sl_alert():
    """Every contact answered after T, one each 3.5 minutes, swept each minute: 22 alerts opened and 21 resolved as
    condition_cleared in 90 minutes while SL read 0 %, because the window fell below min_contacts between answers."""
    deps = demo_deps()
    add_agent(deps, "ana")
    start = (deps.clock.now_ms() // 60_000 + 1) * 60_000
    applied, sequence, opened, resolved = 0, 0, 0, 0
    for step in range(120):  # an hour, evaluated every 30 s (the sweep and stream batches)
        deps.clock.now = start + step * 30_000
        if step % 7 == 0:  # a contact every 3.5 minutes
            c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
            contacts.queue_and_route(deps, TENANT, c.contact_id, "tok")
            deps.clock.advance(30)  # T is 20 s
            agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
            contacts.accept_contact(deps, TENANT, "ana", c.contact_id)
            contacts.complete_contact(deps, TENANT, "ana", c.contact_id)
            contacts.end_after_contact_work(deps, TENANT, "ana", c.contact_id)
            agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="BREAK"))
            deps.clock.now = start + step * 30_000
        records = []
        for event in deps.events.events[applied:]:
            sequence += 1
            records.append(SequencedEvent(event, "shardId-0", pad_sequence(str(sequence))))
        applied = len(deps.events.events)
        if records:
            metrics.apply_batch(deps, "shardId-0", records)
        result = alerts.sweep_tenant(deps, TENANT)
        opened += sum(a.rule is AlertRule.SERVICE_LEVEL for a in result.opened)
        resolved += sum(a.rule is AlertRule.SERVICE_LEVEL for a in result.resolved)
    assert (opened, resolved) == (1, 0)


# --- finding 5: one "last 15 minutes" -----------------------------------------------------------------


def test_the_sl_alert_judges_the_window_the_live_view_shows_and_names_it():
    """Two late answers in the minute that began 15 minutes ago, four within T now: the view's last 15 minutes hold
    the four (SL 100 %), and so does the alert's window (it summed 16 slots: 67 %, CRITICAL beside a green 100 %)."""
    deps = demo_deps()
    add_agent(deps, "ana")
    start = (deps.clock.now_ms() // 60_000 + 1) * 60_000 + 1_000
    deps.clock.now = start

    for wait in (21, 21):
        answered_after(deps, wait)
    deps.clock.now = start + 15 * 60_000
    for wait in (2, 2, 2, 2):
        answered_after(deps, wait)
    metrics.apply_batch(deps, "shardId-0", [
        SequencedEvent(e, "shardId-0", pad_sequence(str(i + 1))) for i, e in enumerate(deps.events.events)
    ])  # fmt: skip
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales").last_15_minutes
    window = window_counts(deps.live.read(TENANT, "sales"), deps.clock.now_ms(), 15)
    assert (window.answered, window.service_level()) == (view.answered, view.service_level) == (4, 1.0)
    rules = AlertRules.model_validate({"service_level": {"min_contacts": 1}})
    alerts.put_rules(deps, TENANT, rules)
    assert not [a for a in alerts.sweep_tenant(deps, TENANT).opened if a.rule is AlertRule.SERVICE_LEVEL]

    # The message says which period it computed: from the first minute of the window (UTC) to now.
    late = _item(6, 0, MINUTE - 14)
    (finding,) = evaluate(AlertRules(), queues=[_queue(late)], now_ms=NOW).open
    since = sliding_minutes(NOW, 15).start * 60_000
    assert finding.details["window_start"] == iso(since) == iso((MINUTE - 14) * 60_000)
    stamp = iso(since)[11:16]
    assert re.search(rf"over the last 15 min \(since {stamp} UTC;", finding.message), finding.message
    assert not evaluate(AlertRules(), queues=[_queue(_item(6, 0, MINUTE - 15))], now_ms=NOW)  # the view's 16th minute


# --- finding 7: sentiment hysteresis -----------------------------------------------------------------


def _said(begin_ms: int, score: float) -> LiveSegment:
    return LiveSegment(speaker=Speaker.CUSTOMER, begin_ms=begin_ms, end_ms=begin_ms + 1_000, text="x", sentiment=score)


def _converse(rules: AlertRules, scores: list[float]) -> tuple[int, int, list]:
    state, active, opened, resolved = LiveTranscriptState(tenant_id=TENANT, contact_id="c1"), [], 0, 0
    for i, score in enumerate(scores):
        evaluation = evaluate_transcript(rules, state, [_said(i * 1_000, score)], now_ms=NOW + i)
        state = evaluation.state
        decisions = transcript_decisions(evaluation, active)
        decisions.open = [f for f in decisions.open if f.rule is AlertRule.NEGATIVE_SENTIMENT]
        o, r = _apply(decisions, active, NOW + i)
        opened, resolved = opened + o, resolved + r
    return opened, resolved, active


def test_the_sentiment_alert_does_not_flap_around_its_threshold():
    """A mean of 3 alternating between -2.03 and -1.97 (threshold -2.0) opened and resolved 4 times in one call."""
    opened, resolved, active = _converse(AlertRules(), [-2.1, -1.9] * 6)
    assert (opened, resolved, len(active)) == (1, 0, 1)
    calmer = _converse(AlertRules(), [-2.1, -2.1, -2.1, -1.0, -1.0, -1.0])  # mean -1.0 > -1.5: cleared
    assert calmer[:2] == (1, 1)
    assert SentimentRule().clear_at == -1.5 and SentimentRule(threshold=4.8).clear_at == 5.0
    same = AlertRules.model_validate({"negative_sentiment": {"clear_above": -2.0}})  # no band: as before
    assert _converse(same, [-2.1, -1.9] * 3)[:2] == (2, 2)
    with pytest.raises(ValidationError):
        SentimentRule(threshold=-2.0, clear_above=-2.5)


# --- finding 10: planned not-ready reasons are agent statuses ------------------------------------------


@pytest.mark.parametrize("status", ["Lunch", "lunch break", "LUNCH BREAK", "L", "_LUNCH", "1LUNCH"])
def test_an_ignored_status_no_agent_can_have_is_refused_naming_the_field(status):
    with pytest.raises(ValidationError) as raised:
        AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": [status]}})
    # the status's place in the list (the shared not-ready status type checks each one: events.NotReadyStatus)
    assert raised.value.errors()[0]["loc"] == ("agent_not_ready", "ignore_statuses", 0)
    with pytest.raises(ValidationError):
        StatusChange(status=status)  # the agents API refuses it too
    stored = AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": [status]}}, context=STORED_DOCUMENT)
    assert stored.agent_not_ready.ignore_statuses == {status}  # rules stored before the check still load


def test_ignored_statuses_follow_the_agent_status_pattern():
    for status in ("LUNCH", "BREAK_2", "MISSED", "AB", "X" * 32):
        assert AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": [status]}})
        assert StatusChange(status=status).status == status
    # one definition: the routing policy's missed-offer status is the alert rule's status type, with its pattern
    # (the agents API's reasons) in the schema
    metadata = [constraint for m in NotReadyStatus.__metadata__ for constraint in getattr(m, "metadata", [m])]
    (policy_pattern,) = [m.pattern for m in metadata if getattr(m, "pattern", None)]
    assert any(getattr(m, "func", None) is events.settable_not_ready_status for m in metadata)
    assert policy_pattern == f"^{NOT_READY_REASON}$" and NOT_READY_REASON in STATUS_PATTERN
