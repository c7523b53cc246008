"""A silence alert a supervisor resolved by hand stays resolved for the silence it was about.

How it reopened: the silence alert is a moment rule keyed by (rule, contact) with nothing remembering which silence
it was about. Once resolved, that key was free: the minute sweep (ongoing_silences) still measured the same dead air
(same `at_ms`: the live state's last_end_ms) and opened it again, and the post that ended the silence measured the
same gap (evaluate_transcript) and opened it again. A new silence later in the call alerts again."""
from __future__ import annotations

from ccaas.domain.alerts import AlertRule
from ccaas.domain.analytics import Segment
from ccaas.usecases import alerts
from ccaas.usecases.alerts import LiveTranscriptPost
from tests.alert_builders import say, spoke_on_a_call
from tests.unit.demo import TENANT, demo_deps


def _silences(deps):
    return [a for a in alerts.list_alerts(deps, TENANT) if a.rule == AlertRule.SILENCE]


def _alerted_and_resolved(deps):
    cid = spoke_on_a_call(deps)
    deps.clock.advance(60)
    (alert,) = alerts.sweep_tenant(deps, TENANT).opened
    assert alert.details["at_ms"] == 3000
    resolved = alerts.resolve(deps, TENANT, alert.alert_id)
    assert resolved.status == "RESOLVED" and not _silences(deps)
    return cid


def test_the_sweep_does_not_reopen_a_hand_resolved_silence_while_it_lasts():
    deps = demo_deps()
    cid = _alerted_and_resolved(deps)
    for _ in range(3):
        deps.clock.advance(60)
        assert not alerts.sweep_tenant(deps, TENANT).opened
    assert not _silences(deps)
    # a new silence later in the call alerts again
    assert not say(deps, cid, 240, 242, "AGENT").opened  # ends the resolved silence: not alerted
    deps.clock.advance(60)
    (again,) = alerts.sweep_tenant(deps, TENANT).opened
    assert (again.rule, again.details["at_ms"]) == (AlertRule.SILENCE, 242_000)


def test_the_post_ending_a_hand_resolved_silence_does_not_reopen_it_but_a_new_gap_in_it_alerts():
    deps = demo_deps()
    cid = _alerted_and_resolved(deps)
    deps.clock.advance(60)
    assert not say(deps, cid, 120, 122, "AGENT").opened  # the same silence (3 s -> 120 s)
    assert not _silences(deps)
    deps.clock.advance(40)
    post = LiveTranscriptPost(segments=[Segment(speaker="CUSTOMER", begin_ms=140_000, end_ms=141_000, text="yes")])
    (opened,) = alerts.post_live_transcript(deps, TENANT, cid, post).opened  # 122 s -> 140 s: a new silence
    assert opened.details["at_ms"] == 122_000


def test_a_post_holding_the_resolved_gap_and_a_shorter_new_one_alerts_the_new_one():
    deps = demo_deps()
    cid = _alerted_and_resolved(deps)
    deps.clock.advance(100)  # 163 s after connect
    post = LiveTranscriptPost(segments=[
        Segment(speaker="AGENT", begin_ms=120_000, end_ms=122_000, text="sorry"),  # ends the resolved silence
        Segment(speaker="CUSTOMER", begin_ms=140_000, end_ms=141_000, text="yes"),  # 18 s: a new one
    ])
    (opened,) = alerts.post_live_transcript(deps, TENANT, cid, post).opened
    assert (opened.details["at_ms"], opened.details["silence_s"]) == (122_000, 18)

