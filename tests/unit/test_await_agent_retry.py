"""AwaitAgent retried after the stream kept refusing contact.queued (statemachines/contact_lifecycle.asl.json
retries EventsNotAccepted): the first attempt saved the contact QUEUED with its token, then raised; Step Functions
runs the step again with a new token, which re-arms it and routes, so the contact is not left with a dead token."""
from __future__ import annotations

import pytest

from ccaas.adapters.aws import services
from ccaas.domain.models import ContactState
from ccaas.usecases import agents, contacts
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


class StreamRefusingFirstCalls:
    """PutRecords that refuses every record for the first `refusals` calls (a shard throttled for a while)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.accepted: list[dict] = []

    def put_records(self, StreamName, Records):  # noqa: N803 (boto3's parameter names)
        if self.refusals:
            self.refusals -= 1
            return {"FailedRecordCount": len(Records),
                    "Records": [{"ErrorCode": "ProvisionedThroughputExceededException"} for _ in Records]}
        self.accepted.extend(Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1"} for _ in Records]}


def test_a_retried_await_agent_after_the_stream_refused_its_events_re_arms_the_new_token_and_routes(monkeypatch):
    monkeypatch.setattr(services.time, "sleep", lambda s: None)
    deps = demo_deps()
    contact = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    deps.events = services.KinesisEventPublisher(StreamRefusingFirstCalls(refusals=4), "contact-events")

    with pytest.raises(services.EventsNotAccepted):  # the name the ASL retries
        contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-1")
    saved = contacts.get_contact(deps, TENANT, contact.contact_id)
    assert (saved.state, saved.workflow_token) == (ContactState.QUEUED, "tok-1")  # saved before publishing

    add_agent(deps, "ana")
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    offered = contacts.get_contact(deps, TENANT, contact.contact_id)
    assert offered.state == ContactState.OFFERED  # the agent's availability routed it meanwhile
    retried = contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-2")
    assert retried.state == ContactState.OFFERED and retried.workflow_token == "tok-2"
    assert contacts.get_contact(deps, TENANT, contact.contact_id).workflow_token == "tok-2"


def test_a_retried_await_agent_with_nobody_free_keeps_waiting_on_the_new_token(monkeypatch):
    monkeypatch.setattr(services.time, "sleep", lambda s: None)
    deps = demo_deps()
    contact = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    deps.events = services.KinesisEventPublisher(StreamRefusingFirstCalls(refusals=4), "contact-events")
    with pytest.raises(services.EventsNotAccepted):
        contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-1")

    retried = contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-2")
    assert (retried.state, retried.workflow_token) == (ContactState.QUEUED, "tok-2")
    assert retried.enqueued_at == contacts.get_contact(deps, TENANT, contact.contact_id).enqueued_at  # same place
