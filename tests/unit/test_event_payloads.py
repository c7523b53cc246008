"""What the contact-events stream carries, as README "Events" documents it: no personal data in any payload (an offer
named the customer's number, attributes and id), each event its own (subject, sequence) (guidance prompts clashed with
their contact's events and with each other), and `occurred_at` to the millisecond ("…02.120Z")."""
from __future__ import annotations

import json
import re

import pytest

from ccaas.domain.events import EventType, guidance_event
from ccaas.domain.models import Channel
from ccaas.usecases import agents, contacts, push
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps
from tests.unit.test_guidance import _connected, _post, _tenant

NUMBER = "+14155550123"


def _status(deps, agent_id, status):
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def _day_with_personal_data(deps):
    """A contact with a customer id and attributes offered and answered; a caller who asks to be called back, reached
    by an agent (its CALLBACK contact, offered, holds the number)."""
    add_agent(deps, "ana")
    _status(deps, "ana", "AVAILABLE")
    request = NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="cust-4217",
                         attributes={"account_note": "private-attribute-value"})
    contact = contacts.create_contact(deps, TENANT, request)
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "t1")
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    waiting = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, waiting.contact_id, "t2")
    contacts.request_callback(deps, TENANT, waiting.contact_id, NUMBER)
    contacts.complete_contact(deps, TENANT, "ana", contact.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", contact.contact_id)  # free: the callback is reached


def test_no_event_carries_the_customers_number_attributes_or_id():
    deps = demo_deps()
    _day_with_personal_data(deps)
    kinds = {e.type for e in deps.events.events}
    assert {EventType.CONTACT_OFFERED, EventType.CONTACT_CALLBACK_SCHEDULED, EventType.CONTACT_CALLBACK_REACHED} <= kinds
    offered = [e for e in deps.events.events if e.type == EventType.CONTACT_OFFERED]
    assert len(offered) == 2 and all("offered_contact" not in e.payload for e in offered)
    stream = "\n".join(e.model_dump_json() for e in deps.events.events)
    for personal in (NUMBER, "4155550123", "private-attribute-value", "cust-4217"):
        assert personal not in stream


def test_the_offers_are_still_pushed_whole_from_the_read_contact():
    """The push consumer, the one reader of the offered contact, reads it: the agent's offer shows what it showed."""
    deps = demo_deps()
    _day_with_personal_data(deps)
    deps.connections.put(push.Connection(connection_id="ana-1", tenant_id=TENANT, role="agent", agent_id="ana",
                                         key_id="k1", connected_at=0, expires_at=10**10))
    push.push_events(deps, deps.events.events)
    offers = [m["payload"]["contact"] for m in deps.push.sent["ana-1"] if m["type"] == "offer"]
    assert [o["customer_id"] for o in offers][:1] == ["cust-4217"]
    assert offers[0]["attributes"] == {"account_note": "private-attribute-value"}


def test_every_event_says_when_to_the_millisecond():
    deps = demo_deps()
    _day_with_personal_data(deps)
    deps.clock.advance(0.0123)  # a time with a fraction of a millisecond's worth of digits
    _status(deps, "ana", "BREAK")
    for event in deps.events.events:
        at = json.loads(event.model_dump_json())["occurred_at"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", at), at
        assert type(event).model_validate_json(event.model_dump_json()).occurred_ms == event.occurred_ms


def _prompted(deps, n=0):
    return [e for e in deps.events.events[n:] if e.type == EventType.AGENT_GUIDANCE_PROMPTED]


def _guidance_events(deps, tenant_id, cid):
    """The events events.guidance_event makes of a contact's prompts, numbered as usecases.guidance.publish is to
    number them: the state's prompts are only ever appended, so a prompt's place is its number."""
    state = deps.alerts.transcript_state(tenant_id, cid)
    contact = deps.store.get_contact(tenant_id, cid)
    return [guidance_event(contact, p, number, f"guidance-{number:04d}", 1_764_000_000_000)
            for number, p in enumerate(state.guidance.prompts, start=1)]


def test_each_guidance_prompt_is_its_own_subject_and_sequence():
    deps = demo_deps()
    _tenant(deps, "t1")
    cid = _connected(deps, "t1", "ana")
    _post(deps, "t1", cid, ("CUSTOMER", 4000, 9000, "I want to speak to a manager"), ("CUSTOMER", 9000, 16000, "now"))
    first = _guidance_events(deps, "t1", cid)
    assert [(e.subject, e.sequence, e.payload["kind"]) for e in first] == [
        (f"guidance/{cid}", 1, "escalation"), (f"guidance/{cid}", 2, "disclosure_due")]  # two prompts of one post
    _post(deps, "t1", cid, ("CUSTOMER", 30000, 34000, "this is a complaint, get me a supervisor"))
    later = _guidance_events(deps, "t1", cid)
    assert [(e.subject, e.sequence) for e in later[:2]] == [(e.subject, e.sequence) for e in first]  # stable
    assert len({(e.subject, e.sequence) for e in later}) == len(later) >= 3
    assert not any(e.subject == f"guidance/{cid}" for e in deps.events.events if e.type != EventType.AGENT_GUIDANCE_PROMPTED)
    assert set(first[0].payload) == {"agent_id", "contact_id", "rule", "kind", "text", "at", "segment_index"}


def test_published_guidance_prompts_never_share_a_subject_and_sequence_with_another_event():
    deps = demo_deps()
    _tenant(deps, "t1")
    cid = _connected(deps, "t1", "ana")
    _post(deps, "t1", cid, ("CUSTOMER", 4000, 9000, "I want to speak to a manager"), ("CUSTOMER", 9000, 16000, "now"))
    keys = [(e.subject, e.sequence) for e in deps.events.events if e.tenant_id == "t1"]
    assert len(set(keys)) == len(keys)
    assert [(e.subject, e.sequence) for e in _prompted(deps)] == [(f"guidance/{cid}", 1), (f"guidance/{cid}", 2)]
