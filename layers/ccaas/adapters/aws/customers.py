"""The customer directory on DynamoDB (the Customers table), tenant first.

    pk = <tenant>#CUSTOMER#<customer id>, sk = CUSTOMER     `doc` (the Customer JSON), `rev` (a counter)
    pk = <tenant>#ALIAS#<kind>#<sha256 of the value>, sk = ALIAS
                                                            `customer_id` and a copy of `doc`

An alias item per phone number (E.164) and e-mail address (lower-cased) makes a lookup one GetItem.
Its key holds a SHA-256 of the value, not the value: keys surface in places item contents do not
(error messages, metrics, traces), and phone numbers and addresses are personal data.

`put` is one TransactWriteItems: the customer item (conditioned on the `rev` it read, so two writers
never interleave their alias sets), every current alias item (conditioned on being free or already
this customer's; each carries the new `doc`, so a lookup never returns an old version) and a delete
of every alias the customer no longer has. A cancelled transaction is re-read: an alias held by
another customer is a Conflict naming the field; a concurrent write of the same customer is retried.
"""
from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from ccaas.domain.customers import Customer, lookup
from ccaas.domain.models import Conflict

_ATTEMPTS = 4
CUSTOMER = "CUSTOMER"
ALIAS = "ALIAS"


def customer_key(tenant_id: str, customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{tenant_id}#CUSTOMER#{customer_id}"}, "sk": {"S": CUSTOMER}}


def alias_key(tenant_id: str, kind: str, value: str) -> dict[str, Any]:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return {"pk": {"S": f"{tenant_id}#ALIAS#{kind}#{digest}"}, "sk": {"S": ALIAS}}


class DynamoCustomerStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        item = self._db.get_item(TableName=self._table, Key=customer_key(tenant_id, customer_id), ConsistentRead=True).get("Item")
        return None if item is None else Customer.model_validate_json(item["doc"]["S"])

    def find(self, tenant_id: str, *, phone: str | None = None, email: str | None = None) -> Customer | None:
        kind, value = lookup(phone, email)
        item = self._db.get_item(TableName=self._table, Key=alias_key(tenant_id, kind, value)).get("Item")
        return None if item is None else Customer.model_validate_json(item["doc"]["S"])

    def put(self, customer: Customer) -> Customer:
        tenant, me = customer.tenant_id, customer.customer_id
        doc = {"S": customer.model_dump_json()}
        mine = {":me": {"S": me}}
        for _ in range(_ATTEMPTS):
            held_item = self._db.get_item(TableName=self._table, Key=customer_key(tenant, me), ConsistentRead=True).get("Item")
            held = None if held_item is None else Customer.model_validate_json(held_item["doc"]["S"])
            rev = 0 if held_item is None else int(held_item["rev"]["N"])
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"} if held_item is None
                else {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": {"N": str(rev)}}}
            )
            items: list[dict[str, Any]] = [{"Put": {
                "TableName": self._table,
                "Item": {**customer_key(tenant, me), "doc": doc, "rev": {"N": str(rev + 1)}, "customer_id": {"S": me}},
                **condition,
            }}]
            free_or_mine = "attribute_not_exists(pk) OR customer_id = :me"
            for kind, value in sorted(customer.aliases()):
                items.append({"Put": {
                    "TableName": self._table,
                    "Item": {**alias_key(tenant, kind, value), "customer_id": {"S": me}, "doc": doc},
                    "ConditionExpression": free_or_mine, "ExpressionAttributeValues": mine,
                }})
            for kind, value in sorted((held.aliases() if held else set()) - customer.aliases()):
                items.append({"Delete": {
                    "TableName": self._table, "Key": alias_key(tenant, kind, value),
                    "ConditionExpression": free_or_mine, "ExpressionAttributeValues": mine,
                }})
            try:
                self._db.transact_write_items(TransactItems=items)
                return customer
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
            self._raise_if_taken(customer)
        raise Conflict(f"customer {me} changed concurrently; retry", field="customer_id")

    def _raise_if_taken(self, customer: Customer) -> None:
        for kind, value in sorted(customer.aliases()):
            item = self._db.get_item(
                TableName=self._table, Key=alias_key(customer.tenant_id, kind, value), ConsistentRead=True
            ).get("Item")
            if item is not None and item["customer_id"]["S"] != customer.customer_id:
                raise Conflict(f"a {kind} of this customer belongs to another customer", field=f"{kind}s")
