"""GET /queues/{id}/wait?contact_id= answers for that queue only: an unknown queue is a 404 naming queue_id (as
without contact_id), a contact of another queue a 404 naming contact_id; the flow's wait_info, which names the
contact only, still answers in the contact's own queue."""
from __future__ import annotations

import pytest

from ccaas.domain.models import Channel, NotFound
from ccaas.usecases import contacts, waiting
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, demo_deps


def _queued(deps, queue_id, token):
    c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id=queue_id))
    return contacts.queue_and_route(deps, TENANT, c.contact_id, token)


def test_an_unknown_queue_is_a_404_naming_queue_id_with_or_without_a_contact():
    deps = demo_deps()
    mine = _queued(deps, "sales", "t1")
    for contact_id in (None, mine.contact_id, "no-such-contact"):
        with pytest.raises(NotFound) as raised:
            waiting.wait_info(deps, TENANT, "no-such-queue", contact_id)
        assert raised.value.field == "queue_id"


def test_a_contact_of_another_queue_is_a_404_naming_contact_id_and_says_nothing_of_it():
    deps = demo_deps()
    in_sales = _queued(deps, "sales", "t1")
    with pytest.raises(NotFound) as raised:
        waiting.wait_info(deps, TENANT, "spanish", in_sales.contact_id)
    assert raised.value.field == "contact_id" and "sales" not in str(raised.value)
    with pytest.raises(NotFound) as unknown:
        waiting.wait_info(deps, TENANT, "spanish", "no-such-contact")
    assert unknown.value.field == "contact_id"


def test_the_contacts_own_queue_answers_and_the_flow_may_name_the_contact_only():
    deps = demo_deps()
    in_sales = _queued(deps, "sales", "t1")
    info = waiting.wait_info(deps, TENANT, "sales", in_sales.contact_id)
    assert (info.queue_id, info.contact_id, info.position) == ("sales", in_sales.contact_id, 1)
    for unnamed in (None, ""):
        assert waiting.wait_info(deps, TENANT, unnamed, in_sales.contact_id) == info
