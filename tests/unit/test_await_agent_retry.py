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


def test_the_retried_step_publishes_contact_queued_once_more_and_live_metrics_count_it_once(monkeypatch):
    """The first attempt's contact.queued never reached the stream: without it the contact was never offered nor
    waiting in live metrics (and its later connect moved the gauge below zero). A retried step (Step Functions'
    $$.State.RetryCount) publishes it again under the contact's own event id; a copy the consumers already had is
    dropped by their de-duplication, so a retry after a publish that did succeed counts nothing twice."""
    from ccaas.domain.events import EventType, queued_event_id  # noqa: PLC0415
    from ccaas.domain.live_metrics import SequencedEvent, pad_sequence  # noqa: PLC0415
    from ccaas.usecases import metrics  # noqa: PLC0415

    monkeypatch.setattr(services.time, "sleep", lambda s: None)
    deps = demo_deps()
    created = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    stream = StreamRefusingFirstCalls(refusals=4)
    deps.events = services.KinesisEventPublisher(stream, "contact-events")
    with pytest.raises(services.EventsNotAccepted):
        contacts.queue_and_route(deps, TENANT, created.contact_id, "tok-1")
    assert stream.accepted == []
    contacts.queue_and_route(deps, TENANT, created.contact_id, "tok-2", retried=True)
    contacts.queue_and_route(deps, TENANT, created.contact_id, "tok-3", retried=True)  # a retry after a good publish
    contacts.queue_and_route(deps, TENANT, created.contact_id, "tok-4")  # a new wait after a Recheck: nothing
    from ccaas.domain.events import Event  # noqa: PLC0415

    published = [Event.model_validate_json(r["Data"]) for r in stream.accepted]
    queued = [e for e in published if e.type == EventType.CONTACT_QUEUED]
    stored = contacts.get_contact(deps, TENANT, created.contact_id)
    assert [e.event_id for e in queued] == [queued_event_id(stored)] * 2
    batch = [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(n))) for n, e in enumerate(published)]
    for record in batch:  # one batch each, as the stream delivers them apart
        metrics.apply_records(deps, "s0", [record])
    live = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (live.offered, live.in_queue) == (1, 1)
