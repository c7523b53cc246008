"""The dialing loop's pacing decision against what else is in flight: overlapping ticks (a lease per queue),
campaigns sharing a queue's agents, calls a paused or stopped campaign placed, and calls already answered
(outside review O27, findings 4, 5, 7 and 8)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ccaas.domain.models import Channel
from ccaas.domain.outbound.models import CampaignStatus, Disposition
from ccaas.ports_outbound import RINGING, CarrierOutcome
from ccaas.usecases import outbound
from ccaas.usecases.outbound import TICK_LEASE, CampaignRequest, ListUpload
from tests.outbound_builders import NOW, T, outbound_deps, overlapped_tick


@pytest.fixture
def deps():
    return outbound_deps()


def _campaign(deps, cid="c1", rows=10, start=101, mode="progressive"):
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id=cid, name=cid, mode=mode, queue_id="sales",
                                                      caller_id="+12125550199"))
    outbound.change_status(deps, T, cid, "start")
    lines = "".join(f"r{i},+1212555{start + i:04d},America/New_York,true\n" for i in range(rows))
    outbound.upload_list(deps, T, cid, ListUpload(format="csv", content="row_id,phone,time_zone,consent_automated_voice\n" + lines))


def _dialed(deps) -> list:
    return deps.dialers.dialer.dialed


def _answer_all(deps, at: datetime) -> None:
    for request in _dialed(deps):
        deps.dialers.dialer.outcomes.setdefault(request.attempt_id, CarrierOutcome(disposition=Disposition.ANSWERED, at=at))


def test_a_tick_overlapping_another_of_the_same_queue_does_nothing(deps):
    """Finding 4: a doubled or overlapping dialer invocation ran tick B while tick A had read its free agents and
    calls in flight but not dialed yet; both placed a call per free agent (4 for 2 agents, in progressive mode)."""
    _campaign(deps)
    outer, inner = overlapped_tick(deps, "c1", "c1", NOW)
    assert inner.overlapped and inner.dialed == 0 and inner.outcomes == 0
    assert outer.dialed == 2 and len(_dialed(deps)) == 2  # one call per free agent
    assert outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=5)).overlapped is False  # released at its end


def test_a_lease_left_by_a_crashed_tick_holds_only_until_it_expires(deps):
    _campaign(deps)
    assert deps.outbound.acquire_lease(T, "dial#sales", "crashed", now=NOW, until=NOW + TICK_LEASE)
    assert outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=30)).overlapped
    assert _dialed(deps) == []
    assert outbound.dial_tick(deps, T, "c1", NOW + TICK_LEASE).dialed == 2


def test_campaigns_sharing_a_queue_share_its_free_agents(deps):
    """Finding 5: two progressive campaigns on one queue each counted both free agents as their own: 4 calls."""
    _campaign(deps, "c1", start=101)
    _campaign(deps, "c2", start=201)
    sweep = outbound.dial_sweep(deps, NOW)
    assert sorted(t.dialed for t in sweep.ticks) == [0, 2] and len(_dialed(deps)) == 2
    # a paused campaign's calls still ring for the queue's agents
    outbound.change_status(deps, T, "c1", "pause")
    assert outbound.dial_tick(deps, T, "c2", NOW + timedelta(seconds=5)).dialed == 0
    # ended (no answer): the agents are free for either campaign again
    for request in _dialed(deps):
        deps.dialers.dialer.outcomes[request.attempt_id] = CarrierOutcome(disposition=Disposition.NO_ANSWER, at=NOW)
    assert outbound.dial_sweep(deps, NOW + timedelta(seconds=10)).dialed == 2


@pytest.mark.parametrize("action", ["pause", "stop"])
def test_the_calls_a_paused_or_stopped_campaign_placed_still_report_their_outcomes(deps, action):
    """Finding 7: outcomes were polled only for RUNNING campaigns: a pause lost its answered calls (no contact, no
    drop counted, attempts never disposed). The sweep polls a campaign that left RUNNING until its calls end."""
    _campaign(deps)
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 2
    outbound.change_status(deps, T, "c1", action)
    sweep = outbound.dial_sweep(deps, NOW + timedelta(seconds=5))  # still ringing: nothing known yet
    assert sweep.campaigns == 1 and sweep.ticks[0].in_flight == 2 and sweep.dialed == 0
    _answer_all(deps, NOW + timedelta(seconds=8))
    sweep = outbound.dial_sweep(deps, NOW + timedelta(seconds=10))
    assert sweep.ticks[0].outcomes == 2 and sweep.dialed == 0
    records = outbound.attempts_export(deps, T, "c1")
    assert [r.attempt.disposition for r in records] == [Disposition.ANSWERED] * 2
    assert all(r.contact_id for r in records) and len(deps.workflow.started) == 2
    # nothing in flight any more: the sweep stops polling it
    assert deps.outbound.settling_campaigns() == [] and outbound.dial_sweep(deps, NOW + timedelta(seconds=15)).campaigns == 0
    assert outbound.get_campaign(deps, T, "c1").status is (CampaignStatus.PAUSED if action == "pause" else CampaignStatus.STOPPED)


def test_a_campaign_that_left_running_stays_polled_while_a_call_may_be_in_flight(deps):
    """A call whose outcome comes as an event (Amazon Connect) keeps the campaign polled for IN_FLIGHT; then it leaves."""
    _campaign(deps)
    outbound.dial_tick(deps, T, "c1", NOW)
    outbound.change_status(deps, T, "c1", "pause")
    assert outbound.dial_sweep(deps, NOW + timedelta(minutes=9)).campaigns == 1
    assert outbound.dial_sweep(deps, NOW + timedelta(minutes=11)).campaigns == 1  # finds none in flight: leaves
    assert outbound.dial_sweep(deps, NOW + timedelta(minutes=12)).campaigns == 0
    outbound.change_status(deps, T, "c1", "start")
    assert deps.outbound.running_campaigns() == [(T, "c1")] and deps.outbound.settling_campaigns() == []


def test_a_call_past_its_ringing_window_no_longer_holds_a_free_agent(deps):
    """Finding 8: with Amazon Connect an attempt has no outcome until its contact record, when the call ENDS; a call
    ana is talking on was counted both as her busy agent and as a call ringing for ben, who got no call for up to
    IN_FLIGHT (10 min). A call counts as ringing only while it can: RINGING (Connect's 60 s dialing timeout + AMD)."""
    _campaign(deps, rows=30)
    first, second = (outbound.dial_tick(deps, T, "c1", NOW), _dialed(deps))
    assert first.dialed == 2
    deps.dialers.dialer.outcomes[second[1].attempt_id] = CarrierOutcome(disposition=Disposition.NO_ANSWER,
                                                                         at=NOW + timedelta(seconds=40))
    ana = deps.store.get_agent(T, "ana")  # Connect connected the first call to ana; its record comes at its end
    deps.store.save(agents=[ana.model_copy(update={"active": {Channel.VOICE: 1}, "active_contact_ids": ("connect-k1",),
                                                   "version": ana.version + 1})])
    still_ringing = outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=45))
    assert still_ringing.in_flight == 1 and still_ringing.wanted == 0  # it may still ring for ben
    answered = outbound.dial_tick(deps, T, "c1", NOW + RINGING + timedelta(seconds=1))
    assert answered.in_flight == 1 and answered.wanted == 1 and answered.dialed == 1  # ben gets a call
    # the call stays in flight for the number: its person is never rung twice at once
    assert [r.number for r in _dialed(deps)].count(second[0].number) == 1
