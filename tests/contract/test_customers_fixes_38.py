"""The customer stores take normalised values and read documents as they were written (outside testers, session 38;
the use-case side is tests/unit/test_customers_fixes_38.py): a customer an earlier release stored with a number a
second normalisation refuses (+82023009) or reads as another customer's (+114155550183) still loads and is found
by its key, and only a spelling that normalises to a number is its legacy key (Colombia keeps its 0)."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest
from pydantic import ValidationError

from ccaas.adapters.aws.customers import DynamoCustomerStore, alias_key, customer_key
from ccaas.domain.customers import Customer, normalise_phone
from ccaas.domain.models import Conflict
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _stored_by_an_earlier_release(stack, tenant: str, customer_id: str, phones: list[str]) -> DynamoCustomerStore:
    """The customer item and alias items as the release before this fix wrote them (the doc as its PUT answered)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = function_environment(stack, "serve_api")["CUSTOMERS_TABLE"]
    doc = {"tenant_id": tenant, "customer_id": customer_id, "tier": "gold", "phones": phones, "emails": [],
           "updated_at": 1}
    client.put_item(TableName=table, Item={**customer_key(tenant, customer_id), "doc": {"S": json.dumps(doc)},
                                           "rev": {"N": "1"}, "customer_id": {"S": customer_id}, "aliases": {"S": "id-only"}})
    for phone in phones:
        client.put_item(TableName=table, Item={**alias_key(tenant, "phone", phone), "customer_id": {"S": customer_id}})
    return DynamoCustomerStore(client, table)


def test_a_stored_number_a_second_pass_refuses_still_reads_back_and_is_found_by_its_key(stack, tenant):
    store = _stored_by_an_earlier_release(stack, tenant, "kr9", ["+82023009"])
    read = store.get(tenant, "kr9")  # was a ValidationError: GET, POST /contacts and an agent's offers all failed
    assert read is not None and read.phones == ("+82023009",) and read.tier == "gold"
    assert store.find(tenant, phone="+82023009") == read
    store.put(Customer(**{**read.model_dump(exclude={"phones"}), "phones": ["+82 2 123 4567"]}))  # fixed by its holder
    assert store.get(tenant, "kr9").phones == ("+8221234567",) and store.find(tenant, phone="+82023009") is None


def test_a_stored_number_is_shown_as_stored_not_as_another_customer_s(stack, tenant):
    store = _stored_by_an_earlier_release(stack, tenant, "p3", ["+114155550183"])
    assert store.get(tenant, "p3").phones == ("+114155550183",)  # was +14155550183, q3's number


def test_a_number_phonenumbers_keeps_its_prefix_in_is_not_the_legacy_key_of_another(deps, tenant):
    deps.customers.put(Customer(tenant_id=tenant, customer_id="co-a1", phones=["+57 0321 123 4517"]))
    assert deps.customers.get(tenant, "co-a1").phones == ("+5703211234517",)
    assert deps.customers.find(tenant, phone=normalise_phone("+573211234517")) is None
    # the directory says nobody holds +573211234517: it is free (was a 409 through the "legacy" key +5703211234517)
    deps.customers.put(Customer(tenant_id=tenant, customer_id="co-b1", phones=["+57 321 123 4517"]))
    assert deps.customers.find(tenant, phone="+573211234517").customer_id == "co-b1"
    assert deps.customers.find(tenant, phone="+5703211234517").customer_id == "co-a1"


def test_a_real_legacy_spelling_of_a_number_is_still_guarded(stack, tenant):
    """Kazakhstan's trunk prefix is 8: "+7 8 700 …" was kept as +78700… and is +7700… today; the tester's
    "+7 8 7 700 …" / "+7 7 700 …" have a digit too many (a 422 now, never a 409)."""
    store = _stored_by_an_earlier_release(stack, tenant, "kz-a1", ["+787001234517"])
    assert store.find(tenant, phone=normalise_phone("+7 700 123 4517")).customer_id == "kz-a1"
    with pytest.raises(Conflict):
        store.put(Customer(tenant_id=tenant, customer_id="kz-b1", phones=["+7 700 123 4517"]))
    for spelling in ("+7 8 7 700 123 4517", "+7 7 700 123 4517"):
        with pytest.raises(ValidationError):
            Customer(tenant_id=tenant, customer_id="kz-b1", phones=[spelling])
