"""Journey tests' (synthetic) contacts waiting in a queue change nothing a real caller or a supervisor is told: the
position, in_queue and estimated wait of a caller arriving now (GET /queues/{id}/wait, the flow's wait_info, the
callback offer, a segment's deflection, the flow's staffing) and of a real contact already waiting; a synthetic
contact is placed among the real ones (outside probe 37, journeys finding 1: six synthetic chats made the next real
caller 7th with 21 minutes to wait while /metrics/realtime said in_queue 0)."""
from __future__ import annotations

from ccaas.domain.live_metrics import SequencedEvent, pad_sequence
from ccaas.domain.models import Channel
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE
from ccaas.usecases import contacts, metrics, waiting
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, ana_holds_a_contact, demo_deps

SYNTHETIC = {SYNTHETIC_ATTRIBUTE: "support-chat", TEST_AGENT_ATTRIBUTE: "bot"}


def _fold(deps) -> None:
    """What the stream consumer does with the events so far: the live counters the estimate reads."""
    batch = [SequencedEvent(event=e, shard_id="s0", sequence=pad_sequence(str(i)))
             for i, e in enumerate(deps.events.events)]
    metrics.apply_records(deps, "s0", batch)


def _queued(deps, token: str, **attributes: str):
    c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales", attributes=attributes))
    return contacts.queue_and_route(deps, TENANT, c.contact_id, token)


def test_synthetic_contacts_waiting_change_no_real_callers_position_count_or_wait():
    deps = demo_deps()
    ana_holds_a_contact(deps)  # one agent staffed, busy: a finite wait of AHT per contact ahead
    _fold(deps)
    arriving = waiting.wait_info(deps, TENANT, "sales")
    assert (arriving.position, arriving.in_queue) == (1, 0) and arriving.ewt_s is not None and arriving.ewt_s > 0
    synthetic = [_queued(deps, f"tok-syn-{i}", **SYNTHETIC) for i in range(6)]
    deps.clock.advance(5)
    _fold(deps)
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").in_queue == 0  # live metrics add nothing for them

    assert waiting.wait_info(deps, TENANT, "sales") == arriving  # position 1, in_queue 0, the same EWT and offer
    assert waiting.arrival_wait_s(deps, TENANT, "sales") == arriving.ewt_s  # deflection and the callback offer
    assert waiting.queue_now(deps, deps.config.get_queue(TENANT, "sales")).in_queue == 0  # the flow's staffing

    real = _queued(deps, "tok-real")
    mine = waiting.wait_info(deps, TENANT, "sales", real.contact_id)
    assert (mine.position, mine.in_queue, mine.ewt_s) == (1, 1, arriving.ewt_s)
    # A synthetic contact is told what a real caller in its place would hear: 1 + the real contacts ahead of it
    # (the real one came later: none), never the other journeys' contacts.
    own = waiting.wait_info(deps, TENANT, None, synthetic[-1].contact_id)
    assert (own.position, own.in_queue) == (1, 1)
    later = _queued(deps, "tok-syn-late", **SYNTHETIC)
    assert waiting.wait_info(deps, TENANT, "sales", later.contact_id).position == 2  # behind the real one only
