"""A journey test's (synthetic) contact leaves nothing behind for good (probe 37): every item written for it is in
the Contacts table with the contact's TTL (`synthetic_expiry`), or is not written at all (the History table has no
TTL, and a synthetic contact never becomes history). In memory and on (moto) AWS; on AWS the tables are scanned
for any item of the contact without its table's TTL."""
from __future__ import annotations

import uuid

import boto3
import pytest

from ccaas.adapters.aws.dynamodb import CONTACT_TTL_ATTRIBUTE, DynamoStateStore
from ccaas.domain.models import Agent, Channel, Contact, ContactState, QueueAssignment
from ccaas.domain.routing_engine.synthetic import (
    SYNTHETIC_ATTRIBUTE, SYNTHETIC_TTL_S, TEST_AGENT_ATTRIBUTE, TEST_AGENT_SKILL, synthetic_expiry,
)
from ccaas.usecases import admin, agents, analytics, connect_flow, contacts, history, routing
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.alerts import LiveTranscriptPost, post_live_transcript
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.journeys import flow_event
from tests.aws_stack import moto_dependencies
from tests.connect_tenant import add_flow_queues

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000
MARKS = {SYNTHETIC_ATTRIBUTE: "ttl-life", TEST_AGENT_ATTRIBUTE: "bot"}
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/5e1f0c3a-7a5b-4c55-9a39-3b0f6f0e4a11"


def _raw_decisions(db, table: str, tenant_id: str, contact_id: str) -> list[dict]:
    return db.query(TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
                    ExpressionAttributeValues={":p": {"S": f"{tenant_id}#CONTACT#{contact_id}"},
                                               ":d": {"S": "DECISION#"}})["Items"]


def _contact(tenant_id: str, contact_id: str, **attributes: str) -> Contact:
    return Contact(tenant_id=tenant_id, contact_id=contact_id, channel=Channel.CHAT, queue_id="q1",
                   initiated_at=T0, attributes=attributes)


# ------------------------------------------------------------------------------------- decision items
def test_a_synthetic_contacts_decisions_carry_its_ttl_and_a_real_ones_none(stack):
    """DECISION# items beside the contact: written with the contact (a reservation) or alone (a declined offer's)."""
    deps = moto_dependencies(stack)
    store: DynamoStateStore = deps.store
    tenant = f"t{uuid.uuid4().hex[:10]}"
    synthetic, real = _contact(tenant, "syn", **MARKS), _contact(tenant, "real")
    decision = {"kind": "select_agent", "outcome": "offer", "at": T0 + 10}
    store.save(contacts=[synthetic], decisions=[(tenant, "syn", decision)])
    store.save(contacts=[real], decisions=[(tenant, "real", decision)])
    # alone: a declined offer's (routing.keep passes the contact's TTL: synthetic_expiry, None for a real contact)
    routing.keep(deps, synthetic, routing.Decision(kind="reservation", outcome="reoffer", subject="syn", winner=None, at=T0 + 20))
    routing.keep(deps, real, routing.Decision(kind="reservation", outcome="reoffer", subject="real", winner=None, at=T0 + 20))

    db, table = boto3.client("dynamodb"), store._contacts
    expiry = synthetic_expiry(synthetic)
    assert expiry == T0 // 1000 + SYNTHETIC_TTL_S
    assert [int(i[CONTACT_TTL_ATTRIBUTE]["N"]) for i in _raw_decisions(db, table, tenant, "syn")] == [expiry, expiry]
    assert [CONTACT_TTL_ATTRIBUTE in i for i in _raw_decisions(db, table, tenant, "real")] == [False, False]
    # the decisions read back as they were written (the TTL is storage, not the decision)
    assert [d["outcome"] for _, d in store.decisions(tenant, "syn")] == ["offer", "reoffer"]
    assert all(CONTACT_TTL_ATTRIBUTE not in d for _, d in store.decisions(tenant, "syn"))


def test_a_decision_about_a_contact_not_stored_is_kept_as_before(stack):
    store = moto_dependencies(stack).store
    tenant = f"t{uuid.uuid4().hex[:10]}"
    store.record_decision(tenant, "nobody", {"kind": "select_agent", "outcome": "wait", "at": T0})
    [item] = _raw_decisions(boto3.client("dynamodb"), store._contacts, tenant, "nobody")
    assert CONTACT_TTL_ATTRIBUTE not in item


# ------------------------------------------------------------------------------- a whole synthetic life
def _untimed_items(db, tenant: str, ids: set[str]) -> list[tuple[str, str, str]]:
    """(table, pk, sk) of every item, in every table of the stack, that names the tenant and one of `ids` and lacks its
    table's TTL attribute (in a table without TTL: any such item)."""
    found = []
    for table in db.list_tables()["TableNames"]:
        ttl = db.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        attribute = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None
        for page in db.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                text = repr(item)
                if tenant in text and any(i in text for i in ids) and (attribute is None or attribute not in item):
                    keys = [str(next(iter(item[k].values()))) for k in ("pk", "sk", "id") if k in item]
                    found.append((table, *keys))
    return found


def _live_synthetic_chat(deps, tenant: str) -> tuple[str, str, str]:
    """A synthetic chat through its life (decisions, a declined offer, messages, live transcript, a transcript
    upload, the flow's log_event and callback for the call it came from, completion, the history step, the analysis
    step); returns (its id, the Connect contact id of its call, the callback contact's id)."""
    admin.register_tenant(deps, tenant_id=tenant, name="Synthetic")
    admin.register_connect_instance(deps, tenant_id=tenant, instance_arn=INSTANCE)
    add_flow_queues(deps, tenant)
    for bot in ("bot", "bot2"):
        admin.put_agent(deps, Agent(tenant_id=tenant, agent_id=bot, name=bot, skills={TEST_AGENT_SKILL: 1},
                                    queues=(QueueAssignment(queue_id="support"),),
                                    capacity={Channel.CHAT: 1, Channel.VOICE: 1}))
        agents.set_agent_status(deps, tenant, bot, StatusChange(status="AVAILABLE"))

    created = contacts.create_contact(deps, tenant, NewContact(channel=Channel.CHAT, queue_id="support",
                                                               attributes={SYNTHETIC_ATTRIBUTE: "ttl-life"}))
    cid = created.contact_id
    contacts.queue_and_route(deps, tenant, cid, "tok")  # offered: a decision written with the contact
    first = deps.store.get_contact(tenant, cid).agent_id
    contacts.reject_contact(deps, tenant, first, cid)  # a decision written alone, then offered to the other bot
    offered = deps.store.get_contact(tenant, cid)
    assert offered.state == ContactState.OFFERED and offered.agent_id not in (None, first)
    bot = offered.agent_id
    contacts.accept_contact(deps, tenant, bot, cid)

    analytics.add_chat_message(deps, tenant, cid, analytics.NewMessage(participant_role="CUSTOMER",
                                                                      content="my card is 4111 1111 1111 1111"))
    analytics.add_chat_message(deps, tenant, cid, analytics.NewMessage(participant_role="AGENT", content="thanks"))
    post_live_transcript(deps, tenant, cid, LiveTranscriptPost.model_validate(
        {"segments": [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1, "text": "hello there"}]}))
    analytics.upload_transcript(deps, tenant, cid, [
        {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "I need help with my bill"},
        {"speaker": "AGENT", "begin_ms": 1000, "end_ms": 2000, "text": "Happy to help"}])

    # the call the journey made: its flow's milestones and callback carry the journey's marks
    connect_id = f"journey-{uuid.uuid4()}"

    def flow(action: str, **parameters: str) -> dict[str, str]:
        event = flow_event(INSTANCE, action, parameters, contact_id=connect_id, phone="+14155550177",
                           channel="VOICE", queue=None, attributes=dict(MARKS))
        reply, _ = connect_flow.answer(lambda: deps, event)
        assert reply["status"] == "ok", reply
        return reply

    logged = flow("log_event", milestone="self_service_success", value="menu 2")
    assert (logged["recorded"], logged["milestone"], logged["self_service"]) == ("false", "self_service_success", "true")
    callback = flow("callback", queue_id="support")
    assert callback["scheduled"] == "true"

    contacts.complete_contact(deps, tenant, bot, cid)
    contacts.end_after_contact_work(deps, tenant, bot, cid)
    outcome = history.record_contact(deps, tenant, cid)
    assert not outcome.recorded and not outcome.has_transcript
    assert analytics.analyze_contact(deps, tenant, cid) is None
    return cid, connect_id, callback["callback_contact_id"]


def _assert_nothing_in_history(deps, tenant: str, ids: tuple[str, ...]) -> None:
    for contact_id in ids:
        assert deps.history.get_entry(tenant, contact_id) is None, contact_id
        assert deps.history.get_survey(tenant, contact_id) is None, contact_id
        assert deps.history.flow_events(tenant, contact_id) == [], contact_id
        assert deps.transcripts.messages(tenant, contact_id) == [], contact_id
        assert deps.transcripts.get_analysis(tenant, contact_id) is None, contact_id


def test_a_synthetic_contact_through_its_life_leaves_no_item_without_a_ttl(deps):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    ids = _live_synthetic_chat(deps, tenant)
    _assert_nothing_in_history(deps, tenant, ids)
    if isinstance(deps.store, DynamoStateStore):
        assert _untimed_items(boto3.client("dynamodb"), tenant, {*ids}) == []
        # ... and the Contacts table's items of the chat are there, with its TTL: the contact and its decisions
        db, table = boto3.client("dynamodb"), deps.store._contacts
        assert len(_raw_decisions(db, table, tenant, ids[0])) >= 3


def test_a_synthetic_contacts_survey_is_not_kept(deps):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    ids = _live_synthetic_chat(deps, tenant)
    history.record_survey(deps, tenant, ids[0], history.SurveyAnswers(csat=5, comment="fine"))
    _assert_nothing_in_history(deps, tenant, ids)
    if isinstance(deps.store, DynamoStateStore):
        assert _untimed_items(boto3.client("dynamodb"), tenant, {*ids}) == []
