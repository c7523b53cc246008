"""Outside probe 37, finding 1: the pacer counted as free an agent an answer of the same tick had just been handed
to (routing offers it asynchronously), so a progressive campaign with 2 free agents dialed 2 more calls whose answers
`_hand_out` then dropped as abandoned (attempts 4, connects 2, abandoned 2); an agent rejecting an offer made every
later tick dial one call that was dropped. The pacer and the hand-out now read free agents one way (`_staffing`)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ccaas.domain.models import AgentStatus, ContactState
from ccaas.domain.outbound.models import Disposition
from ccaas.ports_outbound import CarrierOutcome
from ccaas.usecases import contacts, outbound, outbound_metrics
from ccaas.usecases.outbound import CampaignRequest, ListUpload
from tests.outbound_builders import NOW, T, outbound_deps


@pytest.fixture
def deps():
    return outbound_deps()


def _campaign(deps, cid="c1", mode="progressive", rows=20, start=101):
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id=cid, name=cid, mode=mode, queue_id="sales",
                                                      caller_id="+12125550199"))
    outbound.change_status(deps, T, cid, "start")
    lines = "".join(f"r{i},+1212555{start + i:04d},America/New_York,true\n" for i in range(rows))
    outbound.upload_list(deps, T, cid, ListUpload(format="csv",
                                                  content="row_id,phone,time_zone,consent_automated_voice\n" + lines))


def _people_answer(deps, at: datetime) -> None:
    """The simulated carrier with p_human 1: every call placed so far is answered by a person at `at`."""
    for request in deps.dialers.dialer.dialed:
        deps.dialers.dialer.outcomes.setdefault(request.attempt_id, CarrierOutcome(disposition=Disposition.ANSWERED, at=at))


def _tick(deps, seconds: float, cid="c1"):
    return outbound.dial_tick(deps, T, cid, NOW + timedelta(seconds=seconds))


@pytest.mark.parametrize("mode", ["progressive", "predictive"])
def test_a_tick_does_not_dial_for_agents_its_own_answers_were_just_handed_to(deps, mode):
    _campaign(deps, mode=mode)
    assert _tick(deps, 0).dialed == 2  # one per free agent (predictive: no answer rate yet to dial ahead on)
    _people_answer(deps, NOW + timedelta(seconds=3))
    handed = _tick(deps, 5)
    assert handed.outcomes == 2
    assert handed.dialed == 0  # both agents are about to be offered r0's and r1's contacts
    _people_answer(deps, NOW + timedelta(seconds=8))
    assert _tick(deps, 10).dialed == 0
    records = outbound.attempts_export(deps, T, "c1")
    assert [r.attempt.disposition for r in records] == [Disposition.ANSWERED] * 2 and all(r.contact_id for r in records)
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.attempts, m.connects, m.abandoned, m.abandonment_rate) == (2, 2, 0, 0.0)


def _answered_before_the_next_tick(deps) -> list[str]:
    """Two calls placed and answered, their contacts made (outside a tick: no pacing decision after them yet)."""
    _campaign(deps)
    _tick(deps, 0)
    for record in outbound.attempts_export(deps, T, "c1"):
        outbound.record_outcome(deps, T, "c1", record.attempt.row_id, record.attempt_id,
                                CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=3)))
    return [r.contact_id for r in outbound.attempts_export(deps, T, "c1")]


def test_an_agent_rejecting_the_offer_of_an_answer_does_not_make_later_ticks_over_dial(deps):
    first, second = _answered_before_the_next_tick(deps)
    # routing (the contacts' workflows) offers them: one agent accepts, the other rejects (its contact waits again)
    assert {contacts.queue_and_route(deps, T, c, f"token-{c}").agent_id for c in (first, second)} == {"ana", "ben"}
    taker = deps.store.get_contact(T, second).agent_id
    rejecter = "ana" if taker == "ben" else "ben"
    contacts.accept_contact(deps, T, taker, second)
    contacts.reject_contact(deps, T, rejecter, first)
    assert deps.store.get_contact(T, first).state is ContactState.QUEUED
    assert deps.store.get_agent(T, rejecter).status == AgentStatus.AVAILABLE  # free again, by its record
    # every later tick within the hand-out's hold (the carrier answers whatever is dialed): the rejected answer
    # still waits for that agent, so no call is placed whose answer would be dropped
    for seconds in (10, 15, 20, 25):
        assert _tick(deps, seconds).dialed == 0
        _people_answer(deps, NOW + timedelta(seconds=seconds + 1))
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.attempts, m.abandoned) == (2, 0)


def test_a_preview_tick_offers_no_record_to_agents_another_campaigns_answers_were_handed_to(deps):
    """Agents shared with a progressive campaign: its answers hold them for routing's offer as for its own pacer."""
    _campaign(deps, "c1", rows=2)  # nothing more for it to dial: no call of it rings for the agents
    _campaign(deps, "c2", mode="preview", start=301)
    assert _tick(deps, 0, "c1").dialed == 2
    _people_answer(deps, NOW + timedelta(seconds=3))
    assert _tick(deps, 5, "c1").outcomes == 2
    preview = _tick(deps, 6, "c2")
    assert preview.previews == 0
    assert not [c for c in deps.store.contacts.values() if c.attributes.get("preview") == "1"]


def test_the_hold_ends_with_the_offer_or_after_a_minute_for_the_pacer_too(deps):
    first, _ = _answered_before_the_next_tick(deps)
    contacts.queue_and_route(deps, T, first, "token-1")  # offered: that agent is busy by its record, not held
    assert _tick(deps, 10).dialed == 0
    # the other answer's contact was never routed (its workflow failed): after HANDOUT_HOLD it holds no agent
    deps.clock.advance(outbound.HANDOUT_HOLD.total_seconds() + 6)
    assert _tick(deps, outbound.HANDOUT_HOLD.total_seconds() + 6).dialed == 1
