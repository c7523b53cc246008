"""Item sizes are checked before any write, by both store implementations' shared rule."""
from __future__ import annotations

import pytest

from ccaas.adapters.aws.dynamodb import to_item
from ccaas.adapters.item_size import MAX_ITEM_BYTES, check_item_size
from ccaas.adapters.memory import MemoryConfigStore, MemoryStateStore
from ccaas.domain.models import Channel, Contact, DomainError, Queue, TooLarge


def huge_contact() -> Contact:
    return Contact(tenant_id="t", contact_id="c1", channel=Channel.CHAT, queue_id="sales", initiated_at=1,
                   attributes={"notes": "x" * (MAX_ITEM_BYTES + 1)})


def test_an_item_over_the_limit_is_too_large_naming_its_largest_field():
    with pytest.raises(TooLarge) as caught:
        check_item_size({"pk": "t#1", "small": "a", "big": "é" * (MAX_ITEM_BYTES // 2 + 1)})
    assert caught.value.field == "big" and "400000" in str(caught.value)
    check_item_size({"pk": "t#1", "fits": "x" * (MAX_ITEM_BYTES - 100)})


def test_the_dynamodb_serialiser_refuses_before_the_call():
    with pytest.raises(TooLarge):
        to_item({"pk": "t#CONTACT#c1", "sk": "CONTACT", **huge_contact().model_dump(mode="json")})


def test_the_memory_twin_refuses_the_same_items():
    with pytest.raises(TooLarge) as caught:
        MemoryStateStore().save(contacts=[huge_contact()])
    assert caught.value.field == "attributes"
    with pytest.raises(TooLarge):
        MemoryConfigStore().put_settings("t", "routing", {"queues": {"q": "x" * MAX_ITEM_BYTES}})
    MemoryConfigStore().put_queue(Queue(tenant_id="t", queue_id="q", name="Q"))


def test_numbers_dynamodb_cannot_hold_never_reach_it():
    """A float may be 5e-324 or 1e300; DynamoDB holds 1e-130..9.99e125 (found by the fuzz tier as a 502)."""
    item = to_item({"pk": "t", "tiny": 5e-324, "small": 1e-131, "fine": 0.8, "negative": -2.5e-7})
    assert (item["tiny"], item["small"], item["fine"], item["negative"]) == (
        {"N": "0"}, {"N": "0"}, {"N": "0.8"}, {"N": "-2.5E-7"})
    with pytest.raises(DomainError):
        to_item({"pk": "t", "huge": 1e300})
