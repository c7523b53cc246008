"""Upgrade: a number an earlier release stored with its trunk prefix ("+44 020 …" kept as +44020…, an alias item
under that key) is still found by the E.164 Connect reports, is not claimable by a second customer, and moves
to its E.164 key at the holder's next PUT (moto only: the twin holds no earlier release's items)."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from ccaas.adapters.aws.customers import DynamoCustomerStore, alias_key, customer_key
from ccaas.domain.customers import Customer
from ccaas.domain.models import Conflict
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
OLD, E164 = "+4402079460958", "+442079460958"


def test_a_number_kept_under_its_trunk_prefix_key_is_found_guarded_and_rekeyed(stack):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = function_environment(stack, "serve_api")["CUSTOMERS_TABLE"]
    store, tenant = DynamoCustomerStore(client, table), f"t{uuid.uuid4().hex[:10]}"
    doc = {"tenant_id": tenant, "customer_id": "c-uk", "tier": "platinum", "phones": [OLD], "emails": []}
    client.put_item(TableName=table, Item={**customer_key(tenant, "c-uk"), "doc": {"S": json.dumps(doc)}, "rev": {"N": "1"},
                                           "customer_id": {"S": "c-uk"}, "aliases": {"S": "id-only"}})
    client.put_item(TableName=table, Item={**alias_key(tenant, "phone", OLD), "customer_id": {"S": "c-uk"}})

    found = store.find(tenant, phone=E164)  # what Connect reports
    # read as it was written (never normalised again on a read): its number under the key its alias item has
    assert found is not None and found.customer_id == "c-uk" and found.phones == (OLD,)
    with pytest.raises(Conflict) as taken:
        store.put(Customer(tenant_id=tenant, customer_id="c-dup", phones=["+44 20 7946 0958"]))
    assert taken.value.field == "phones"
    assert store.get(tenant, "c-dup") is None

    # the holder's next PUT (what a client read, sent back: normalised on input) moves the alias item
    store.put(Customer(**{**found.model_dump(), "vip": True}))
    assert "Item" not in client.get_item(TableName=table, Key=alias_key(tenant, "phone", OLD), ConsistentRead=True)
    moved = client.get_item(TableName=table, Key=alias_key(tenant, "phone", E164), ConsistentRead=True)["Item"]
    assert moved["customer_id"]["S"] == "c-uk"
    assert store.find(tenant, phone=E164).vip is True and store.get(tenant, "c-uk").phones == (E164,)
