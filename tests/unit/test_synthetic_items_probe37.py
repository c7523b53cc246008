"""Probe 37: a journey test's (synthetic) contact writes nothing to history (the History table has no TTL and README
says it never becomes history): the flow's milestones of its call (log_event, callback_scheduled), its chat messages
and its transcript analysis are answered as for any contact and not kept; a real contact's are. Its routing decisions
carry its TTL (adapters/aws/dynamodb.py, on moto). CSAT and the other historical KPIs count none of it. In memory."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from ccaas.adapters.aws.dynamodb import CONTACT_TTL_ATTRIBUTE, contact_key
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.history import HistoryEntry
from ccaas.domain.kpis import ContactRecord
from ccaas.domain.models import Agent, Channel, Contact, QueueAssignment
from ccaas.domain.routing_engine.synthetic import (
    SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL, marked_synthetic, synthetic_expiry,
)
from ccaas.usecases import admin, agents, analytics, connect_flow, contacts, history
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.journeys import flow_event
from tests.connect_tenant import add_flow_queues
from tests.moto_items import patched, state_store_tables  # noqa: F401 - the moto module's autouse fixture

TENANT = "acme"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa"
MARKS = {SYNTHETIC_ATTRIBUTE: "probe-37", TEST_AGENT_ATTRIBUTE: "bot"}
START = int(datetime(2026, 11, 20, 15, 3, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = START
    admin.register_tenant(d, tenant_id=TENANT, name="Acme")
    admin.register_connect_instance(d, tenant_id=TENANT, instance_arn=INSTANCE)
    add_flow_queues(d, TENANT)
    for agent_id, skills in (("bot", {TEST_AGENT_SKILL: 1}), ("ana", {})):
        admin.put_agent(d, Agent(tenant_id=TENANT, agent_id=agent_id, name=agent_id, skills=skills,
                                 queues=(QueueAssignment(queue_id="support"),), capacity={Channel.CHAT: 1}))
    return d


def _flow(deps, action: str, attributes: dict[str, str], **parameters: str) -> tuple[str, dict[str, str]]:
    connect_id = f"connect-{uuid.uuid4()}"
    event = flow_event(INSTANCE, action, parameters, contact_id=connect_id, phone="+14155550177", channel="VOICE",
                       queue=None, attributes=attributes)
    reply, _ = connect_flow.answer(lambda: deps, event)
    assert reply["status"] == "ok", reply
    return connect_id, reply


def _connected_chat(deps, agent_id: str, attributes: dict[str, str]) -> str:
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="support",
                                                               attributes=attributes))
    contacts.queue_and_route(deps, TENANT, contact.contact_id, f"tok-{contact.contact_id}")
    contacts.accept_contact(deps, TENANT, agent_id, contact.contact_id)
    return contact.contact_id


def _served(deps, agent_id: str, attributes: dict[str, str]) -> str:
    cid = _connected_chat(deps, agent_id, attributes)
    deps.clock.advance(60)
    contacts.complete_contact(deps, TENANT, agent_id, cid)
    contacts.end_after_contact_work(deps, TENANT, agent_id, cid)
    history.record_contact(deps, TENANT, cid)
    return cid


# ------------------------------------------------------------------------------ flow milestones
def test_a_journeys_log_event_is_answered_and_not_kept(deps):
    connect_id, reply = _flow(deps, "log_event", MARKS, milestone="self_service_success", value="card 4111111111111111")
    assert (reply["recorded"], reply["milestone"], reply["self_service"]) == ("false", "self_service_success", "true")
    assert deps.history.flow_events(TENANT, connect_id) == []
    assert deps.history.get_entry(TENANT, connect_id) is None  # no fl_n/fl_ss on an entry that never goes
    # a bad milestone is refused as for any call, naming the parameter
    refused, _ = connect_flow.answer(lambda: deps, flow_event(INSTANCE, "log_event", {"milestone": "bad name!"},
                                                             contact_id="c-bad", phone=None, channel="VOICE",
                                                             queue=None, attributes=MARKS))
    assert refused["status"] == "error" and refused["error_message"].startswith("milestone:")
    # a real caller's milestone is kept
    real_id, real = _flow(deps, "log_event", {"Team": "x"}, milestone="menu_choice", value="2")
    assert real["recorded"] == "true" and [e.name for e in deps.history.flow_events(TENANT, real_id)] == ["menu_choice"]


def test_a_journeys_callback_logs_no_callback_scheduled_milestone(deps):
    connect_id, reply = _flow(deps, "callback", MARKS, queue_id="support")
    assert reply["scheduled"] == "true"
    assert deps.history.flow_events(TENANT, connect_id) == [] and deps.history.get_entry(TENANT, connect_id) is None
    real_id, real = _flow(deps, "callback", {}, queue_id="support")
    assert real["scheduled"] == "true"
    assert [e.name for e in deps.history.flow_events(TENANT, real_id)] == [connect_flow.CALLBACK_MILESTONE]


# ------------------------------------------------------------------------------ chat messages
def test_a_synthetic_chats_messages_are_answered_redacted_and_not_kept(deps):
    cid = _connected_chat(deps, "bot", MARKS)
    sent = analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(
        participant_role="CUSTOMER", content="my card is 4111 1111 1111 1111"))
    assert "4111" not in sent.content and sent.redactions  # what would be stored, with its receipt
    analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role="AGENT", content="thanks"))
    assert deps.transcripts.messages(TENANT, cid) == []
    assert analytics.chat_messages(deps, TENANT, cid) == ([], None)
    # nothing for the analysis step: the history step says there is no transcript
    contacts.complete_contact(deps, TENANT, "bot", cid)
    contacts.end_after_contact_work(deps, TENANT, "bot", cid)
    assert history.record_contact(deps, TENANT, cid).has_transcript is False
    assert analytics.analyze_contact(deps, TENANT, cid) is None
    assert deps.history.get_entry(TENANT, cid) is None

    real = _connected_chat(deps, "ana", {})
    analytics.add_chat_message(deps, TENANT, real, analytics.NewMessage(participant_role="CUSTOMER", content="hi"))
    assert [m.content for m in deps.transcripts.messages(TENANT, real)] == ["hi"]


# ------------------------------------------------------------------------------ transcript analysis
TRANSCRIPT = [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "I need help with my bill"},
              {"speaker": "AGENT", "begin_ms": 1000, "end_ms": 2000, "text": "Happy to help"}]


def test_a_synthetic_contacts_transcript_is_analysed_and_not_kept(deps):
    cid = _served(deps, "bot", MARKS)
    summary = analytics.upload_transcript(deps, TENANT, cid, TRANSCRIPT)
    assert summary.segments == 2  # analysed and answered as for any contact
    assert deps.transcripts.get_analysis(TENANT, cid) is None and deps.history.get_entry(TENANT, cid) is None
    with pytest.raises(Exception, match="no transcript analysis"):
        analytics.get_analysis(deps, TENANT, cid)

    real = _served(deps, "ana", {})
    analytics.upload_transcript(deps, TENANT, real, TRANSCRIPT)
    assert deps.transcripts.get_analysis(TENANT, real) is not None
    assert deps.history.get_entry(TENANT, real).analysis is not None


def test_only_a_contact_without_a_record_is_read_to_tell_whether_it_is_a_journeys(deps):
    record = ContactRecord(tenant_id=TENANT, contact_id="in-history", channel=Channel.VOICE, queue_id="support", final_state="COMPLETED",
                           initiated_at=START, last_updated_at=START)
    recorded = HistoryEntry(tenant_id=TENANT, contact_id="in-history", record=record)
    reads = []
    deps.store.get_contact = lambda *a: reads.append(a)  # type: ignore[method-assign]
    assert analytics.is_synthetic_contact(deps, TENANT, "in-history", recorded) is False and reads == []


def test_an_amazon_connect_contact_is_not_a_journeys(deps):
    assert analytics.is_synthetic_contact(deps, TENANT, "connect-only", None) is False  # not in our store


# ------------------------------------------------------------------------------ KPIs and CSAT
def test_csat_and_historical_kpis_count_no_synthetic_contact(deps):
    """A guard (true before the fix too): KPIs read records only, and a synthetic contact never has one."""
    real = _served(deps, "ana", {})
    synthetic = _served(deps, "bot", MARKS)
    history.record_survey(deps, TENANT, real, history.SurveyAnswers(csat=1))
    try:
        history.record_survey(deps, TENANT, synthetic, history.SurveyAnswers(csat=5))
    except Exception:  # noqa: BLE001 - a refusal is as good as not counting it
        pass
    report = history.historical_metrics(deps, TENANT, start=datetime(2026, 11, 20), end=datetime(2026, 11, 21))
    assert sum(r.offered for r in report.rows) == 1
    assert [(r.csat_count, r.csat) for r in report.rows if r.csat_count] == [(1, 0.0)]


# ------------------------------------------------------------------------------ the domain's mark
def test_the_mark_is_read_from_ours_or_a_connect_contacts_attributes():
    assert marked_synthetic(MARKS) and not marked_synthetic({"Team": "x"}) and not marked_synthetic(None)
    assert not marked_synthetic({SYNTHETIC_ATTRIBUTE: ""})


# ------------------------------------------------------------------------------ decision items on moto
def test_decision_items_carry_the_contacts_ttl_on_dynamodb():
    with state_store_tables() as (db, store):
        synthetic = Contact(tenant_id=TENANT, contact_id="syn", channel=Channel.CHAT, queue_id="q", initiated_at=START,
                            attributes=MARKS)
        real = synthetic.model_copy(update={"contact_id": "real", "attributes": {}})
        for c in (synthetic, real):
            store.save(contacts=[c], decisions=[(TENANT, c.contact_id, {"kind": "select_agent", "at": START})])
            store.record_decision(TENANT, c.contact_id, {"kind": "reservation", "at": START + 1},
                                  expires_at=synthetic_expiry(c))  # as routing.keep passes it

        def ttls(contact_id: str) -> list[int | None]:
            items = db.query(TableName="Contacts", KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": contact_key(TENANT, contact_id)["pk"]}})["Items"]
            return [int(i[CONTACT_TTL_ATTRIBUTE]["N"]) if CONTACT_TTL_ATTRIBUTE in i else None for i in items]

        assert ttls("syn") == [synthetic_expiry(synthetic)] * 3  # CONTACT and both DECISION# items
        assert ttls("real") == [None] * 3


# ----------------------------------------------------------------- alerts and Reg F: no real-world effect
def test_a_journeys_live_transcript_guides_its_test_agent_and_opens_no_alert(deps):
    """A supervisor is paged by real customers' words only; a real contact's same words open the alert."""
    from ccaas.domain.alerts import AlertRule
    from ccaas.usecases.alerts import LiveTranscriptPost, post_live_transcript

    words = LiveTranscriptPost.model_validate({"segments": [
        {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "I will call my lawyer"}]})
    synthetic = _connected_chat(deps, "bot", MARKS)
    assert post_live_transcript(deps, TENANT, synthetic, words).opened == []
    assert deps.alerts.unresolved(TENANT) == []
    real = _connected_chat(deps, "ana", {})
    assert [a.rule for a in post_live_transcript(deps, TENANT, real, words).opened] == [AlertRule.ESCALATION_PHRASE]


def test_a_journeys_voice_call_starts_no_reg_f_quiet_period_for_its_number(deps):
    """A journey's call (a callback to a test number that may be a customer's) talked to no one: Reg F's 7-in-7 counts
    telephone conversations with the person, so it notes none; a real call to the same number does."""
    from ccaas.usecases.outbound import note_conversation

    ended = START + 60_000
    call = Contact(tenant_id=TENANT, contact_id="v1", channel=Channel.VOICE, queue_id="support", initiated_at=START,
                   connected_at=START + 1_000, ended_at=ended, callback_number="+14155550177", attributes=MARKS)
    assert note_conversation(deps, TENANT, call) == 0
    real = call.model_copy(update={"contact_id": "v2", "attributes": {}})
    assert note_conversation(deps, TENANT, real) >= 1
