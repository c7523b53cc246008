"""Follow-ups of the disposition callback_requested: a callback request is a right-party conversation and the campaign
metrics count it so (live, day counters, history, EMF) with its own callbacks_requested figure; a callback requested
on a row of a campaign that completed meanwhile reopens the campaign so the dialer places it; the disposition's
answer echoes callback_at."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from ccaas import bootstrap
from ccaas.api import common
from ccaas.domain.outbound.metrics import AttemptFact, agent_disposition_metrics, figures
from ccaas.domain.outbound.models import CampaignStatus, Disposition
from ccaas.ports_outbound import CarrierOutcome
from ccaas.usecases import outbound, outbound_metrics
from ccaas.usecases.outbound import CampaignRequest, DispositionRequest, ListUpload
from tests.lambda_harness import api
from tests.outbound_builders import NOW, T, outbound_deps

CALLBACK_AT = NOW + timedelta(days=2)  # Wednesday 11:00 in New York


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def test_a_callback_request_is_a_right_party_contact_in_the_figures_and_the_emf():
    facts = [AttemptFact(started_ms=0, disposition=Disposition.CALLBACK_REQUESTED, has_contact=True),
             AttemptFact(started_ms=1, disposition=Disposition.RIGHT_PARTY_CONTACT, has_contact=True),
             AttemptFact(started_ms=2, disposition=Disposition.WRONG_PARTY, has_contact=True)]
    f = figures(facts)
    assert (f.right_party_contacts, f.callbacks_requested, f.connects) == (2, 1, 3)
    assert agent_disposition_metrics(Disposition.CALLBACK_REQUESTED) == {"RightPartyContacts": 1,
                                                                         "CallbacksRequested": 1}
    assert agent_disposition_metrics(Disposition.RIGHT_PARTY_CONTACT) == {"RightPartyContacts": 1}


@pytest.fixture
def answered():
    """Campaign c1 (collecting a debt, one attempt per row) with one row r1, dialed at NOW and answered: the OUTBOUND
    contact made for it is ana's or ben's. (deps, the contact's id, the attempt's id)."""
    deps = outbound_deps(time_zone="America/New_York")
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="c1", name="Collections", mode="progressive",
                                                      queue_id="sales", caller_id="+12125550199", debt_collection=True,
                                                      policy={"max_attempts": 1}))
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,account_id,consent_automated_voice\nr1,+12125550101,America/New_York,A1,true\n")))
    outbound.change_status(deps, T, "c1", "start")
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 1
    (record,) = outbound.attempts_export(deps, T, "c1")
    done = outbound.record_outcome(deps, T, "c1", "r1", record.attempt_id,
                                   CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=5)))
    assert done.contact_id is not None
    return deps, done.contact_id, record.attempt_id


def _dispose_callback(deps, contact_id: str, at: datetime = NOW + timedelta(minutes=3)):
    deps.clock.now = _ms(at)
    return outbound.dispose_contact(deps, T, contact_id, DispositionRequest(disposition="callback_requested",
                                                                            callback_at=CALLBACK_AT))


def test_live_and_historical_metrics_count_the_callback_as_a_right_party_contact(answered):
    deps, contact_id, _ = answered
    _dispose_callback(deps, contact_id)
    live = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert live.agent_dispositions == {"callback_requested": 1}  # the day counter
    assert (live.right_party_contacts, live.callbacks_requested) == (1, 1)
    history = outbound_metrics.campaign_history(deps, T, "c1", start=NOW - timedelta(hours=1),
                                                end=NOW + timedelta(hours=1), interval="hour")
    assert [(r.right_party_contacts, r.callbacks_requested) for r in history.rows if r.attempts] == [(1, 1)]
    assert sum(r.callbacks_requested for r in history.rows) == 1
    body = outbound_metrics.CampaignMetrics.model_validate(live.model_dump()).model_dump(mode="json")
    assert body["callbacks_requested"] == 1 and body["right_party_contacts"] == 1


def test_a_callback_requested_after_the_campaign_completed_reopens_it_and_is_placed(answered):
    deps, contact_id, attempt_id = answered
    ended = outbound.dial_tick(deps, T, "c1", NOW + timedelta(minutes=1))  # max_attempts reached: the row ends
    assert ended.ended == 1 and ended.completed
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.COMPLETED

    _dispose_callback(deps, contact_id)
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.RUNNING
    assert ("t1", "c1") in deps.outbound.running_campaigns()  # the sweep ticks it again

    assert outbound.dial_tick(deps, T, "c1", CALLBACK_AT - timedelta(minutes=1)).dialed == 0  # not before its time
    assert outbound.dial_tick(deps, T, "c1", CALLBACK_AT).dialed == 1
    placed = deps.outbound.record_attempts(T, "c1", "r1")[-1]
    assert placed.callback_of == attempt_id and placed.direct_consent

    # its outcome in, no row left: the campaign completes again by itself
    outbound.record_outcome(deps, T, "c1", "r1", placed.attempt_id,
                            CarrierOutcome(disposition=Disposition.NO_ANSWER, at=CALLBACK_AT + timedelta(seconds=30)))
    again = outbound.dial_tick(deps, T, "c1", CALLBACK_AT + timedelta(minutes=1))
    assert again.completed and outbound.get_campaign(deps, T, "c1").status is CampaignStatus.COMPLETED


def test_a_stopped_campaign_is_not_reopened_by_a_callback(answered):
    deps, contact_id, _ = answered
    outbound.change_status(deps, T, "c1", "stop")
    _dispose_callback(deps, contact_id)
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.STOPPED


def test_the_disposition_answer_echoes_callback_at_and_emits_both_counts(answered, monkeypatch, capsys):
    deps, contact_id, attempt_id = answered
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    monkeypatch.setattr(bootstrap, "dependencies", lambda: deps)
    deps.clock.now = _ms(NOW + timedelta(minutes=3))
    contact = deps.store.get_contact(T, contact_id)
    status, body = api("POST", f"/contacts/{contact_id}/disposition", T,
                       {"disposition": "callback_requested", "callback_at": CALLBACK_AT.isoformat()},
                       role="agent", agent_id=contact.agent_id)
    assert status == 200, body
    assert body == {"contact_id": contact_id, "attempt_id": attempt_id, "disposition": "callback_requested",
                    "callback_at": body["callback_at"]}
    assert datetime.fromisoformat(body["callback_at"]) == CALLBACK_AT
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (emf,) = [d for d in docs if "RightPartyContacts" in d]
    assert (emf["RightPartyContacts"], emf["CallbacksRequested"], emf["campaign"]) == ([1.0], [1.0], "c1")


def test_a_callback_requested_while_a_tick_completes_the_campaign_is_not_lost(answered, monkeypatch):
    """The tick reads "no row due", the agent's callback disposition makes the row due and reads the campaign still
    RUNNING (no reopen), then the tick writes COMPLETED: it reads the due rows again after its write and puts the
    campaign back, so the callback is placed."""
    deps, contact_id, attempt_id = answered
    real = deps.outbound.has_due_rows
    calls = []

    def racing(tenant_id, campaign_id):
        found = real(tenant_id, campaign_id)
        calls.append(found)
        if len(calls) == 1:  # between the tick's read and its write
            _dispose_callback(deps, contact_id, at=NOW + timedelta(minutes=1))
            assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.RUNNING  # nothing to reopen yet
        return found

    monkeypatch.setattr(deps.outbound, "has_due_rows", racing)
    ended = outbound.dial_tick(deps, T, "c1", NOW + timedelta(minutes=1))
    assert ended.ended == 1 and calls[:2] == [False, True] and not ended.completed
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.RUNNING
    monkeypatch.setattr(deps.outbound, "has_due_rows", real)
    assert outbound.dial_tick(deps, T, "c1", CALLBACK_AT).dialed == 1
    assert deps.outbound.record_attempts(T, "c1", "r1")[-1].callback_of == attempt_id
