"""The routing engine wired into the lifecycle (memory adapters): rechecks when a step or an offer
expires, offer timeout / reject follow-ups, callbacks in queue, hours at intake, EWT and position,
segments from the customer directory, and the journey on the agent's offer."""
from __future__ import annotations

import pytest

from ccaas.domain.customers import Customer
from ccaas.domain.models import Channel, ContactState, DomainError, InitiationMethod
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import agents, contacts, routing, waiting
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


def _policy(deps, **policy) -> None:
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(policy))


def _new(deps, token="tok-1", **fields):
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales", **fields))
    if contact.state.terminal:
        return contact
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, token)


def _available(deps, agent_id):
    return agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))


# -- the recheck timer ----------------------------------------------------------------------------

def test_first_wait_is_the_soonest_of_queue_timeout_step_expiry_and_one_reservation():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"steps": [{"condition": "sales>=4", "expiry_s": 12}]}})
    add_agent(deps, "cy", skills={"sales": 5})
    agents.set_agent_status(deps, TENANT, "cy", StatusChange(status="NOT_READY"))  # staffed: the step is reachable
    contact = _new(deps)
    assert deps.workflow.started == [(TENANT, contact.contact_id, 12)]  # step (12) < reservation (30) < queue (60)


def test_the_first_wait_ignores_the_expiry_of_a_step_nobody_staffed_can_satisfy():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"steps": [{"condition": "sales>=4", "expiry_s": 12}]}})
    contact = _new(deps)
    assert deps.workflow.started == [(TENANT, contact.contact_id, 30)]  # the skipped step's 12 s is not a timer


def test_recheck_after_a_step_expires_waits_again_and_the_next_wait_routes_with_the_wider_step():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"steps": [{"condition": "sales>=4", "expiry_s": 10}]}})
    add_agent(deps, "bo", skills={"sales": 2})
    add_agent(deps, "cy", skills={"sales": 5})
    agents.set_agent_status(deps, TENANT, "cy", StatusChange(status="NOT_READY"))  # staffed: the step is reachable
    _available(deps, "bo")
    contact = _new(deps)
    assert contact.state == ContactState.QUEUED  # bo is below the first step's proficiency

    deps.clock.advance(10)
    nxt, wait_s, cid = contacts.recheck(deps, TENANT, contact.contact_id)
    assert (nxt, cid) == ("wait", contact.contact_id) and 1 <= wait_s <= 30
    again = contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok-2")  # AwaitAgent, new token
    assert again.state == ContactState.OFFERED and again.agent_id == "bo"
    assert again.workflow_token == "tok-2"


def test_recheck_abandons_on_the_queue_timeout_and_says_ended():
    deps = demo_deps()
    contact = _new(deps)
    deps.clock.advance(30)
    assert contacts.recheck(deps, TENANT, contact.contact_id)[0] == "wait"
    deps.clock.advance(30)
    assert contacts.recheck(deps, TENANT, contact.contact_id) == ("ended", 0, contact.contact_id)
    gone = contacts.get_contact(deps, TENANT, contact.contact_id)
    assert gone.state == ContactState.ABANDONED


def test_recheck_of_a_contact_answered_meanwhile_goes_on_to_track_it():
    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _new(deps)
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    deps.clock.advance(60)  # the queue timeout fired as the agent answered
    assert contacts.recheck(deps, TENANT, contact.contact_id)[0] == "connected"
    assert contacts.get_contact(deps, TENANT, contact.contact_id).state == ContactState.CONNECTED


# -- offers: timeout and reject -------------------------------------------------------------------

def test_an_expired_offer_goes_to_the_next_agent_and_the_first_is_set_missed():
    deps = demo_deps()
    _policy(deps, reservation={"timeout_s": 15})
    add_agent(deps, "ana")
    add_agent(deps, "bo")
    _available(deps, "ana")
    contact = _new(deps)
    assert contact.agent_id == "ana"
    _available(deps, "bo")

    deps.clock.advance(10)
    assert contacts.recheck(deps, TENANT, contact.contact_id)[:2] == ("wait", 5)  # the offer runs 5 s more
    deps.clock.advance(5)
    nxt, wait_s, _ = contacts.recheck(deps, TENANT, contact.contact_id)
    moved = contacts.get_contact(deps, TENANT, contact.contact_id)
    assert moved.state == ContactState.OFFERED and moved.agent_id == "bo" and moved.declined_by == ("ana",)
    assert (nxt, wait_s) == ("wait", 15)  # the new offer's reservation
    ana = agents.get_agent(deps, TENANT, "ana")
    assert ana.status == "MISSED" and ana.offered_contact_ids == () and not ana.busy
    kept = routing.decisions_of(deps, TENANT, contact.contact_id)
    assert any(d["kind"] == "reservation" and d["data"]["failure"] == "timeout" for d in kept)


def test_a_rejected_offer_is_reoffered_and_the_agent_stays_available_by_default():
    deps = demo_deps()
    add_agent(deps, "ana")
    add_agent(deps, "bo")
    _available(deps, "ana")
    _available(deps, "bo")
    contact = _new(deps)
    first = contact.agent_id
    moved = contacts.reject_contact(deps, TENANT, first, contact.contact_id)
    assert moved.state == ContactState.OFFERED and moved.agent_id != first
    assert agents.get_agent(deps, TENANT, first).status == "AVAILABLE"


def test_reject_policy_can_set_the_agent_not_ready():
    deps = demo_deps()
    _policy(deps, reservation={"reject": {"set_not_ready": True, "not_ready_status": "REJECTED"}})
    add_agent(deps, "ana")
    _available(deps, "ana")
    contact = _new(deps)
    back = contacts.reject_contact(deps, TENANT, "ana", contact.contact_id)
    assert back.state == ContactState.QUEUED
    assert agents.get_agent(deps, TENANT, "ana").status == "REJECTED"


# -- callbacks in queue ---------------------------------------------------------------------------

def test_a_callback_keeps_its_place_and_a_callback_contact_is_created_when_reached():
    deps = demo_deps()
    add_agent(deps, "ana")
    first = _new(deps, token="tok-first")
    deps.clock.advance(5)
    second = _new(deps, token="tok-second")
    scheduled = contacts.request_callback(deps, TENANT, first.contact_id, "+14155550177")
    assert scheduled.state == ContactState.CALLBACK_SCHEDULED
    assert waiting.wait_info(deps, TENANT, "sales", first.contact_id).position == 1
    assert waiting.wait_info(deps, TENANT, "sales", second.contact_id).position == 2

    _available(deps, "ana")
    original = contacts.get_contact(deps, TENANT, first.contact_id)
    assert original.state == ContactState.COMPLETED
    callback = contacts.get_contact(deps, TENANT, original.attributes["callback_contact_id"])
    assert callback.initiation_method == InitiationMethod.CALLBACK and callback.state == ContactState.OFFERED
    assert callback.previous_contact_id == first.contact_id and callback.agent_id == "ana"
    assert callback.enqueued_at == first.enqueued_at and callback.callback_number == "+14155550177"
    # The original's workflow hands over to the callback contact.
    assert deps.workflow.answers["tok-first"] == ("failure", {"error": "CallbackReached", "cause": callback.contact_id})
    assert contacts.recheck(deps, TENANT, first.contact_id)[::2] == ("follow", callback.contact_id)
    kinds = [e.type for e in deps.events.events if e.subject in (f"contact/{first.contact_id}", f"contact/{callback.contact_id}")]
    assert "contact.callback_scheduled" in kinds and "contact.callback_reached" in kinds


def test_a_callback_requested_at_intake_waits_as_one_and_expires_as_abandoned():
    deps = demo_deps()
    _policy(deps, queue_defaults={"callback": {"max_wait_s": 3600}})
    contact = contacts.schedule_callback(deps, TENANT, "sales", "+14155550101", customer_id="c-1")
    queued = contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok")
    assert queued.state == ContactState.CALLBACK_SCHEDULED
    assert deps.workflow.started[-1][2] == 3600  # no queue timeout, no reservation cap: nobody holds the line
    deps.clock.advance(3600)
    assert contacts.recheck(deps, TENANT, contact.contact_id)[0] == "ended"
    assert contacts.get_contact(deps, TENANT, contact.contact_id).state == ContactState.ABANDONED


def test_only_a_queued_contact_can_ask_for_a_callback():
    deps = demo_deps()
    add_agent(deps, "ana")
    _available(deps, "ana")
    offered = _new(deps)
    with pytest.raises(DomainError, match="only a QUEUED contact"):
        contacts.request_callback(deps, TENANT, offered.contact_id, "+14155550177")


# -- hours of operation at intake -----------------------------------------------------------------

CLOSED_ALL_WEEK = {"time_zone": "UTC", "weekly": {}}


def test_a_contact_arriving_while_closed_is_turned_away_with_the_closed_outcome():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"hours": {"time_zone": "UTC", "weekly": {"sun": [{"start": "09:00", "end": "10:00"}]}}}})
    contact = _new(deps)
    assert contact.state == ContactState.COMPLETED and contact.routing.outcome == "closed"
    assert contact.routing.next_open_at is not None and deps.workflow.started == []
    status = waiting.queue_hours(deps, TENANT, "sales")
    assert not status.open and status.next_open_at == contact.routing.next_open_at


def test_a_closed_queue_can_queue_anyway_or_take_callbacks_only():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"hours": CLOSED_ALL_WEEK, "when_closed": "callback"}})
    with pytest.raises(DomainError) as error:
        _new(deps)
    assert error.value.field == "callback_number"
    contact = _new(deps, callback_number="+14155550102")
    assert contact.state == ContactState.CALLBACK_SCHEDULED
    _policy(deps, queues={"sales": {"hours": CLOSED_ALL_WEEK, "when_closed": "queue"}})
    assert _new(deps, token="tok-2").state == ContactState.QUEUED


def test_hours_without_a_time_zone_are_saved_in_the_tenants_zone():
    """Not read as UTC: a New York tenant's 09:00-17:00 was open at 08:00 New York and closed at 13:00."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ccaas.usecases import admin

    deps = demo_deps()
    admin.register_tenant(deps, tenant_id=TENANT, name="Demo", time_zone="America/New_York")
    nine_to_five = {"weekly": {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}
    saved = routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"queue_defaults": {"hours": nine_to_five}, "queues": {"spanish": {"hours": {**nine_to_five, "time_zone": "UTC"}},
                                                               "other": {"steps": []}}}))
    assert saved.queue_defaults.hours.time_zone == "America/New_York"
    assert saved.for_queue("other").hours.time_zone == "America/New_York"  # merged from queue_defaults
    assert saved.for_queue("spanish").hours.time_zone == "UTC"  # named: kept
    stored = deps.config.get_settings(TENANT, routing.ROUTING_SETTINGS)
    assert stored["queue_defaults"]["hours"]["time_zone"] == "America/New_York"  # what is stored says which zone
    for hour, is_open in ((8, False), (13, True), (16, True), (17, False)):
        deps.clock.now = int(datetime(2026, 12, 7, hour, tzinfo=ZoneInfo("America/New_York")).timestamp() * 1000)
        status = waiting.queue_hours(deps, TENANT, "sales")
        assert (status.open, status.time_zone) == (is_open, "America/New_York"), hour


def test_a_policy_stored_with_a_range_starting_at_24_00_still_routes():
    """Refused on save now; one saved before loads (the range is the next day's 00:00) rather than failing
    every hours check of the tenant."""
    deps = demo_deps()
    deps.config.put_settings(TENANT, routing.ROUTING_SETTINGS, {"queue_defaults": {"hours": {
        "time_zone": "UTC", "weekly": {"mon": [{"start": "24:00", "end": "02:00"}]}}}})
    status = waiting.queue_hours(deps, TENANT, "sales")
    assert status.next_open_at is not None and status.time_zone == "UTC"


# -- EWT and position -----------------------------------------------------------------------------

def test_wait_info_counts_the_contacts_ahead_and_the_staffed_agents():
    deps = demo_deps()
    ids = []
    for i in range(3):
        ids.append(_new(deps, token=f"t{i}").contact_id)
        deps.clock.advance(1)
    info = waiting.wait_info(deps, TENANT, "sales", ids[2])
    assert info.position == 3 and info.in_queue == 3
    assert info.ewt_s is None  # nobody staffed: no finite estimate
    arriving = waiting.wait_info(deps, TENANT, "sales")
    assert arriving.position == 4 and arriving.contact_id is None


def test_wait_info_says_when_the_queue_policy_offers_a_callback():
    deps = demo_deps()
    _policy(deps, queues={"sales": {"expected_aht_s": 100, "callback": {"offer_when_wait_exceeds_s": 150}}})
    add_agent(deps, "ana")
    _available(deps, "ana")
    _new(deps, token="t0")  # ana takes it
    _fold_published_events(deps)
    first = waiting.wait_info(deps, TENANT, "sales")
    assert first.ewt_s == pytest.approx(100) and not first.offer_callback
    _new(deps, token="t1")  # now one waits ahead of an arrival: 2 x 100 s > 150 s
    second = waiting.wait_info(deps, TENANT, "sales")
    assert second.position == 2 and second.ewt_s == pytest.approx(200) and second.offer_callback
    _policy(deps, queues={"sales": {"expected_aht_s": 100}})  # callbacks not offered by default
    assert not waiting.wait_info(deps, TENANT, "sales").offer_callback


def test_a_priority_contact_is_ahead_in_position():
    deps = demo_deps()
    _policy(deps, segments={"platinum": {"priority": 1}, "standard": {"priority": 5}})
    normal = _new(deps, token="t1", segment="standard")
    deps.clock.advance(1)
    vip = _new(deps, token="t2", segment="platinum")
    assert waiting.wait_info(deps, TENANT, "sales", vip.contact_id).position == 1
    assert waiting.wait_info(deps, TENANT, "sales", normal.contact_id).position == 2


# -- segment from the customer directory; journey on the offer -------------------------------------

def test_the_directory_tier_beats_the_requested_segment():
    deps = demo_deps()
    deps.customers.put(Customer(tenant_id=TENANT, customer_id="c-9", tier="platinum", vip=True))
    contact = _new(deps, customer_id="c-9", segment="standard")
    assert contact.routing.segment == "platinum" and contact.priority == 1
    unknown = _new(deps, token="t2", customer_id="c-404", segment="gold")
    assert unknown.routing.segment == "gold"


def test_a_self_service_customer_is_answered_without_a_queue():
    deps = demo_deps()
    deps.customers.put(Customer(tenant_id=TENANT, customer_id="c-ss", tier="self_service"))
    contact = _new(deps, customer_id="c-ss")
    assert contact.state == ContactState.COMPLETED and contact.routing.outcome == "self_service"
    assert deps.workflow.started == []


def _fold_published_events(deps) -> None:
    """What the stream consumer does with the events published so far: the live metrics EWT reads."""
    from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
    from ccaas.usecases.metrics import apply_records

    batch = [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(i))) for i, e in enumerate(deps.events.events)]
    apply_records(deps, "s0", batch)


def test_a_segment_is_deflected_to_self_service_only_while_its_estimated_wait_is_too_long():
    deps = demo_deps()
    _policy(deps, segments={"standard": {"deflect": "when_wait_exceeds", "deflect_wait_s": 100}},
            queues={"sales": {"expected_aht_s": 300}})
    add_agent(deps, "ana")
    # nobody staffed: the wait is unbounded, above any threshold (the callback offer reads it so too)
    unstaffed = _new(deps, token="t0", segment="standard")
    assert unstaffed.state == ContactState.COMPLETED and unstaffed.routing.outcome == "self_service"
    _available(deps, "ana")
    _fold_published_events(deps)
    assert waiting.arrival_wait_s(deps, TENANT, "sales") == 0.0
    served = _new(deps, token="t1", segment="standard")
    assert served.state == ContactState.OFFERED  # ana was free
    _fold_published_events(deps)
    assert waiting.arrival_wait_s(deps, TENANT, "sales") == pytest.approx(300)  # 1 ahead of nobody, AHT prior, 1 agent
    deflected = _new(deps, token="t2", segment="standard")
    assert deflected.state == ContactState.COMPLETED and deflected.routing.outcome == "self_service"
    assert _new(deps, token="t3", segment="gold").state == ContactState.QUEUED  # other tiers still queue


def test_the_offer_carries_the_customers_journey_and_profile():
    deps = demo_deps()
    add_agent(deps, "ana")
    deps.customers.put(Customer(tenant_id=TENANT, customer_id="c-7", tier="gold", name="Kim", vip=True))
    _available(deps, "ana")
    first = _new(deps, customer_id="c-7", reason="billing")
    for step in (contacts.accept_contact, contacts.complete_contact, contacts.end_after_contact_work):
        step(deps, TENANT, "ana", first.contact_id)
    deps.clock.advance(60)
    repeat = _new(deps, token="t2", customer_id="c-7", reason="billing")
    offers = agents.offers_of(deps, TENANT, "ana")
    assert [o.contact.contact_id for o in offers] == [repeat.contact_id]
    offer = offers[0]
    assert offer.journey.repeat_contact and offer.journey.repeat_of == first.contact_id
    assert offer.journey.last_agent_id == "ana"
    assert [p.contact_id for p in offer.journey.recent] == [first.contact_id]
    assert offer.customer.tier == "gold" and offer.customer.vip
    assert offer.expires_at == repeat.offered_at + 30_000


def test_the_readme_policy_example_is_a_valid_policy():
    import json
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Waiting: timers, offers, callbacks, estimates"):]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    policy = RoutingPolicy.model_validate(example)
    billing = policy.for_queue("billing")
    assert billing.when_closed == "callback" and billing.hours.time_zone == "Europe/London"
    assert policy.segments["self_service"].deflect == "when_wait_exceeds"
