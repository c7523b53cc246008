"""Builders the alert and guidance tests share on the demo tenant (tests/unit/demo.py): contacts waiting in
sales, an agent on a call, and the live transcript posted for it (the live state the silence sweep reads)."""
from __future__ import annotations

from ccaas.domain.analytics import Segment
from ccaas.usecases import agents, alerts, contacts
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.alerts import LiveTranscriptPost
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent

JOURNEY = {"ccaas:synthetic": "ivr-check"}  # a journey test's contact


def queued(deps, n=1, attributes=None) -> list[str]:
    """`n` voice contacts queued in sales (routed if an agent is free): their ids."""
    ids = []
    for _ in range(n):
        c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales", attributes=attributes or {}))
        contacts.queue_and_route(deps, TENANT, c.contact_id, f"t{c.contact_id}")
        ids.append(c.contact_id)
    return ids


def set_status(deps, agent_id, status) -> None:
    agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status=status))


def on_a_call(deps, agent_id="ana", skills=None) -> str:
    """A new agent `agent_id` (a journey's test agent with `skills`) on a call it accepted: the contact's id."""
    add_agent(deps, agent_id, skills=skills)
    (cid,) = queued(deps, 1, JOURNEY if skills else None)
    set_status(deps, agent_id, "AVAILABLE")
    contacts.accept_contact(deps, TENANT, agent_id, cid)
    return cid


def say(deps, cid, begin_s, end_s, speaker="CUSTOMER"):
    """A live transcript post of one segment, `begin_s` to `end_s` into the call: the post's result."""
    post = LiveTranscriptPost(segments=[Segment(speaker=speaker, begin_ms=begin_s * 1000, end_ms=end_s * 1000, text="hello there")])
    return alerts.post_live_transcript(deps, TENANT, cid, post)


def spoke_on_a_call(deps, seconds: int = 3) -> str:
    """ana on a call whose customer spoke for its first `seconds`, posted as they ended (the clock then): the
    contact's id. The silence the sweep measures starts there."""
    cid = on_a_call(deps)
    deps.clock.advance(seconds)
    say(deps, cid, 0, seconds)
    return cid


def answered_after(deps, wait_s: int) -> None:
    """A voice contact in sales that ana (on a break until then) answered after `wait_s` seconds, her work on it
    done: she is on a break again."""
    c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, c.contact_id, "tok")
    deps.clock.advance(wait_s)
    set_status(deps, "ana", "AVAILABLE")
    contacts.accept_contact(deps, TENANT, "ana", c.contact_id)
    contacts.complete_contact(deps, TENANT, "ana", c.contact_id)
    contacts.end_after_contact_work(deps, TENANT, "ana", c.contact_id)
    set_status(deps, "ana", "BREAK")
