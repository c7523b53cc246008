"""A consult leg has no customer on it, so what only the customer gives is refused on it as the customer-side verbs
are (lifecycle.require_customer_side: a 409 naming the customer's segment, nothing written): a survey (csat=1 on an
answered leg counted in the consulting queue's CSAT) and CUSTOMER speech in its live transcript (it opened the
leg's sentiment alerts and steered its guidance). The consulting agents' own speech on the leg is still taken, and a
leg completed before its answer is the customer's segment and takes both. Found by a reviewer."""
from __future__ import annotations

import pytest

from ccaas.domain.analytics.transcript import Segment, Speaker
from ccaas.domain.models import Channel, Conflict, ContactState
from ccaas.usecases import agents, alerts, contacts, history, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.alerts import LiveTranscriptPost
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.history import SurveyAnswers
from ccaas.usecases.transfers import ConsultDestination, ConsultRequest
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 (the handler tests' fixtures: the API on moto)
from tests.lambda_harness import api, connected_contact
from tests.unit.demo import TENANT, add_agent, ana_consults as _ana_consults, demo_deps

ANGRY = "this is terrible, I am furious, worst service ever, I hate this"




def _post(*speakers: Speaker, text: str = ANGRY) -> LiveTranscriptPost:
    return LiveTranscriptPost(segments=[Segment(speaker=s, begin_ms=i * 1_000, end_ms=i * 1_000 + 900, text=text)
                                        for i, s in enumerate(speakers)])


def _refused_as_a_leg(call, cid: str, verb: str) -> None:
    with pytest.raises(Conflict) as refused:
        call()
    message = str(refused.value)
    assert refused.value.field == "contact_id" and "consult leg" in message and f"cannot be {verb}" in message
    assert f"the customer is on contact {cid}" in message


# --- surveys ------------------------------------------------------------------------------------------------
def test_an_answered_consult_leg_takes_no_survey_and_nothing_is_stored():
    deps, cid, leg_id = _ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    assert deps.store.get_contact(TENANT, leg_id).answered
    _refused_as_a_leg(lambda: history.record_survey(deps, TENANT, leg_id, SurveyAnswers(csat=1)), cid, "surveyed")
    assert deps.history.get_survey(TENANT, leg_id) is None
    # The customer rates their own segment.
    assert history.record_survey(deps, TENANT, cid, SurveyAnswers(csat=5)).csat == 5


def test_a_leg_that_ended_as_a_leg_is_refused_from_its_history_record():
    deps, cid, leg_id = _ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    transfers.cancel_consult(deps, TENANT, "ana", cid)  # ben goes to after-contact work on the leg
    contacts.end_after_contact_work(deps, TENANT, "ben", leg_id)
    history.record_contact(deps, TENANT, leg_id)
    record = deps.history.get_entry(TENANT, leg_id).record
    assert record.consult_leg and record.connected_at is not None  # answered: only the leg check stops it
    _refused_as_a_leg(lambda: history.record_survey(deps, TENANT, leg_id, SurveyAnswers(csat=1)), cid, "surveyed")
    assert deps.history.get_survey(TENANT, leg_id) is None


def test_a_leg_completed_before_its_answer_is_the_customers_segment_and_takes_a_survey():
    deps, cid, leg_id = _ana_consults()
    transfers.complete_consult(deps, TENANT, "ana", cid)  # a blind transfer to the same target
    add_agent(deps, "ben")
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))  # routing offers the waiting leg
    assert deps.store.get_contact(TENANT, leg_id).state == ContactState.OFFERED
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    assert history.record_survey(deps, TENANT, leg_id, SurveyAnswers(csat=2)).csat == 2


def test_a_conferenced_leg_is_the_customers_segment_too():
    deps, cid, leg_id = _ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    transfers.conference(deps, TENANT, "ana", cid)
    assert history.record_survey(deps, TENANT, leg_id, SurveyAnswers(csat=4)).csat == 4


# --- live transcripts ---------------------------------------------------------------------------------------
def test_customer_speech_on_an_answered_leg_is_refused_whole_and_nothing_is_evaluated():
    deps, cid, leg_id = _ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    for post in (_post(Speaker.CUSTOMER, Speaker.CUSTOMER, Speaker.CUSTOMER), _post(Speaker.AGENT, Speaker.CUSTOMER)):
        _refused_as_a_leg(lambda post=post: alerts.post_live_transcript(deps, TENANT, leg_id, post), cid,
                          "given the customer's speech")
    assert deps.alerts.transcript_state(TENANT, leg_id) is None  # no sentiment scores, no guidance state kept
    assert deps.alerts.unresolved(TENANT) == []


def test_the_consulting_agents_own_speech_on_a_leg_is_taken():
    deps, cid, leg_id = _ana_consults("ben")
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    result = alerts.post_live_transcript(deps, TENANT, leg_id, _post(Speaker.AGENT, Speaker.AGENT, text="the refund"))
    assert result.accepted == 2
    assert deps.alerts.transcript_state(TENANT, leg_id).customer_scores == ()


def test_the_customers_segment_and_a_leg_completed_before_its_answer_take_customer_speech():
    deps, cid, leg_id = _ana_consults()
    assert alerts.post_live_transcript(deps, TENANT, cid, _post(Speaker.CUSTOMER)).accepted == 1
    transfers.complete_consult(deps, TENANT, "ana", cid)
    add_agent(deps, "ben")
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))
    contacts.accept_contact(deps, TENANT, "ben", leg_id)
    assert alerts.post_live_transcript(deps, TENANT, leg_id, _post(Speaker.CUSTOMER)).accepted == 1
    assert len(deps.alerts.transcript_state(TENANT, leg_id).customer_scores) == 1



# --- through the API on the moto stack ---------------------------------------------------------------------
def test_the_api_answers_409_for_a_survey_and_customer_speech_on_a_leg(tenant, env):  # noqa: F811
    from ccaas.bootstrap import dependencies
    from ccaas.domain.models import Agent, QueueAssignment
    from ccaas.usecases import admin

    cid = connected_contact(tenant, env)
    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="ben", name="Ben",
                                          queues=(QueueAssignment(queue_id="sales"),)))
    assert api("PUT", "/agents/ben/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, leg = api("POST", f"/agents/ana/contacts/{cid}/consult", tenant.id, {"to": {"agent_id": "ben"}})
    assert status == 200, leg
    leg_id = leg["contact_id"]
    assert api("POST", f"/agents/ben/contacts/{leg_id}/accept", tenant.id)[0] == 200
    status, body = api("POST", f"/contacts/{leg_id}/survey", tenant.id, {"csat": 1})
    assert status == 409 and body["field"] == "contact_id" and f"the customer is on contact {cid}" in body["message"]
    assert api("GET", f"/contacts/{leg_id}/survey", tenant.id)[0] == 404
    speech = {"segments": [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 900, "text": ANGRY}]}
    status, body = api("POST", f"/contacts/{leg_id}/transcript/live", tenant.id, speech)
    assert status == 409 and "consult leg" in body["message"] and ANGRY not in str(body)
    agents_only = {"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 900, "text": "the refund is approved"}]}
    assert api("POST", f"/contacts/{leg_id}/transcript/live", tenant.id, agents_only)[0] == 200
    assert api("POST", f"/contacts/{cid}/transcript/live", tenant.id, speech)[0] == 200  # the customer's segment


# --- chat messages -------------------------------------------------------------------------------------------
def test_a_chat_consult_leg_takes_no_customer_message_and_the_agents_may_still_write():
    from ccaas.domain.history import ParticipantRole
    from ccaas.usecases import analytics
    from ccaas.usecases.analytics import NewMessage

    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "ben")
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    chat = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, chat.contact_id, "tok-chat")
    contacts.accept_contact(deps, TENANT, "ana", chat.contact_id)
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))
    leg = transfers.consult(deps, TENANT, "ana", chat.contact_id, ConsultRequest(to=ConsultDestination(queue_id="sales")))
    contacts.queue_and_route(deps, TENANT, leg.contact_id, "tok-leg")
    contacts.accept_contact(deps, TENANT, "ben", leg.contact_id)

    customer = NewMessage(participant_role=ParticipantRole.CUSTOMER, content="stop")  # an opt-out word, too
    _refused_as_a_leg(lambda: analytics.add_chat_message(deps, TENANT, leg.contact_id, customer), chat.contact_id,
                      "sent the customer's messages")
    assert deps.transcripts.messages(TENANT, leg.contact_id) == []  # nothing written
    agent = NewMessage(participant_role=ParticipantRole.AGENT, content="can you take this one?")
    assert analytics.add_chat_message(deps, TENANT, leg.contact_id, agent).content == "can you take this one?"
    # the customer writes on their own segment as before
    assert analytics.add_chat_message(deps, TENANT, chat.contact_id, customer).participant_role == ParticipantRole.CUSTOMER
