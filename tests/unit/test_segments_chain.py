"""GET /contacts/{id}/segments lists the whole chain whatever the tenant's max_segments is now: lowered, it only
refuses further transfers. It cut the chain to max_segments + 1 each way (five segments, max_segments 2: from the
first or the third [1, 2, 3], the live fifth missing; from the fifth [3, 4, 5]). README "Transfers"."""
from __future__ import annotations

from ccaas.domain.models import Channel
from ccaas.domain.transfers import MAX_SEGMENTS, TransferSettings
from ccaas.usecases import agents, contacts, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from ccaas.usecases.transfers import Destination, TransferRequest
from tests.unit.demo import TENANT, add_agent, demo_deps


def _chain(length: int, max_segments: int = 10) -> tuple[object, list[str]]:
    """ana and ben hand one customer back and forth by name: `length` segments, the last one live."""
    deps = demo_deps()
    transfers.put_settings(deps, TENANT, TransferSettings(max_segments=max_segments))
    for agent_id in ("ana", "ben"):
        add_agent(deps, agent_id)
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    first = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, first.contact_id, "tok")
    contacts.accept_contact(deps, TENANT, "ana", first.contact_id)
    agents.set_agent_status(deps, TENANT, "ben", StatusChange(status="AVAILABLE"))
    ids, holder, other = [first.contact_id], "ana", "ben"
    for _ in range(length - 1):
        segment = transfers.transfer(deps, TENANT, holder, ids[-1], TransferRequest(to=Destination(agent_id=other)))
        contacts.accept_contact(deps, TENANT, other, segment.contact_id)
        contacts.end_after_contact_work(deps, TENANT, holder, ids[-1])
        ids.append(segment.contact_id)
        holder, other = other, holder
    return deps, ids


def _listed(deps, contact_id: str) -> list[str]:
    return [c.contact_id for c in transfers.segments(deps, TENANT, contact_id)]


def test_lowering_max_segments_keeps_every_chain_whole():
    deps, ids = _chain(5)
    transfers.put_settings(deps, TENANT, TransferSettings(max_segments=2))
    for contact_id in ids:  # from any segment, first to last, the live fifth included
        assert _listed(deps, contact_id) == ids, contact_id


def test_the_longest_chain_a_tenant_can_make_is_listed_whole():
    deps, ids = _chain(MAX_SEGMENTS, max_segments=MAX_SEGMENTS)
    assert len(ids) == MAX_SEGMENTS
    transfers.put_settings(deps, TENANT, TransferSettings(max_segments=2))
    for contact_id in (ids[0], ids[MAX_SEGMENTS // 2], ids[-1]):
        assert _listed(deps, contact_id) == ids


def test_the_setting_cannot_go_past_the_bound_the_listing_relies_on():
    assert TransferSettings.model_json_schema()["properties"]["max_segments"]["maximum"] == MAX_SEGMENTS
