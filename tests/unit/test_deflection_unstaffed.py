"""An unstaffed queue's wait is unbounded, and read so everywhere: the callback offer and a segment that deflects
above a wait (`when_wait_exceeds`) both take it as above any threshold (usecases.waiting.arrival_wait_s)."""
from __future__ import annotations

import math

from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Channel, ContactState
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.usecases import agents, contacts, metrics, routing, waiting
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps

POLICY = {"segments": {"self_service": {"deflect": "when_wait_exceeds", "deflect_wait_s": 120},
                       "standard": {"priority": 5}},
          "queues": {"sales": {"callback": {"offer_when_wait_exceeds_s": 120}}}}


def _deps():
    deps = demo_deps()
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(POLICY))
    add_agent(deps, "ana")  # OFFLINE: nobody staffed
    return deps


def _fold(deps) -> None:
    """What the stream consumer does with the events so far: the live counters the estimate reads."""
    metrics.apply_records(deps, "s0", [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(i)))
                                       for i, e in enumerate(deps.events.events)])


def _new(deps, segment):
    return contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales", segment=segment))


def test_nobody_staffed_the_wait_is_unbounded_for_the_callback_offer_and_the_deflection_alike():
    deps = _deps()
    info = waiting.wait_info(deps, TENANT, "sales")
    assert info.ewt_s is None and info.agents_staffed == 0 and info.offer_callback  # unbounded, shown as null
    assert math.isinf(waiting.arrival_wait_s(deps, TENANT, "sales"))
    deflected = _new(deps, "self_service")
    assert deflected.state == ContactState.COMPLETED and deflected.routing.outcome == "self_service"
    assert _new(deps, "standard").state == ContactState.INITIATED  # a segment that never deflects still queues


def test_a_deflection_threshold_however_high_is_below_an_unbounded_wait():
    deps = _deps()
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {**POLICY, "segments": {"self_service": {"deflect": "when_wait_exceeds", "deflect_wait_s": 7 * 86_400}}}))
    assert _new(deps, "self_service").routing.outcome == "self_service"


def test_once_an_agent_is_free_the_segment_queues_again():
    deps = _deps()
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    _fold(deps)
    assert waiting.arrival_wait_s(deps, TENANT, "sales") == 0.0
    assert _new(deps, "self_service").routing.outcome == "queue"

