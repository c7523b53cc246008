"""The customer directory on DynamoDB (the Customers table), tenant first.

    pk = <tenant>#CUSTOMER#<customer id>, sk = CUSTOMER     `doc` (the Customer JSON), `rev` (a counter),
                                                            `aliases` = "id-only" (its alias items' layout)
    pk = <tenant>#ALIAS#<kind>#<sha256 of the value>, sk = ALIAS
                                                            `customer_id`

An alias item per phone number (E.164) and e-mail address (lower-cased) names the customer who holds
it; a lookup reads it, then the customer item. Its key holds a SHA-256 of the value, not the value:
keys surface in places item contents do not (error messages, metrics, traces), and phone numbers and
addresses are personal data. Alias items hold no copy of the profile: a profile is up to ~135 KB, and
copying it into 20 alias items made every PUT ~21 times the writes (and left stale copies of a name).

`put` is one TransactWriteItems: the customer item (conditioned on the `rev` it read, so two writers
never interleave their alias sets), an alias item for each number or address the customer did not
hold yet (conditioned on being free or already this customer's) and a delete of every alias it no
longer has. A PUT that keeps the alias set writes the customer item alone; the aliases it keeps are
its own already, and a concurrent change to them moves `rev`, so it cannot be lost. A cancelled
transaction is re-read: an alias held by another customer is a Conflict naming the field; a
concurrent write of the same customer is retried.

Items written before alias items were slimmed (`aliases` missing on the customer item; its alias
items carry a `doc` copy) still resolve — a lookup reads only their `customer_id` — and the
customer's next PUT rewrites them slim.
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
ID_ONLY = "id-only"  # the customer item's `aliases`: its alias items hold the customer id, no profile copy


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
        return self._read(tenant_id, customer_id, consistent=True)

    def find(self, tenant_id: str, *, phone: str | None = None, email: str | None = None) -> Customer | None:
        """The alias item, then the customer it names (two GetItems; the alias item is at most ~300 bytes, half a
        read unit). Eventually consistent reads, as a lookup always was; the customer must still hold the
        alias, and when the two reads disagree (the alias moved between them, or one read was behind)
        both are repeated consistently."""
        kind, value = lookup(phone, email)
        for consistent in (False, True):
            alias = self._db.get_item(
                TableName=self._table, Key=alias_key(tenant_id, kind, value), ConsistentRead=consistent
            ).get("Item")
            if alias is None:
                return None
            customer = self._read(tenant_id, alias["customer_id"]["S"], consistent=consistent)
            if customer is not None and (kind, value) in customer.aliases():
                return customer
        return None

    def _read(self, tenant_id: str, customer_id: str, *, consistent: bool) -> Customer | None:
        item = self._db.get_item(
            TableName=self._table, Key=customer_key(tenant_id, customer_id), ConsistentRead=consistent
        ).get("Item")
        return None if item is None else Customer.model_validate_json(item["doc"]["S"])

    def put(self, customer: Customer) -> Customer:
        tenant, me = customer.tenant_id, customer.customer_id
        doc = {"S": customer.model_dump_json()}
        mine = {":me": {"S": me}}
        free_or_mine = "attribute_not_exists(pk) OR customer_id = :me"
        for _ in range(_ATTEMPTS):
            held_item = self._db.get_item(TableName=self._table, Key=customer_key(tenant, me), ConsistentRead=True).get("Item")
            held = set() if held_item is None else Customer.model_validate_json(held_item["doc"]["S"]).aliases()
            rev = 0 if held_item is None else int(held_item["rev"]["N"])
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"} if held_item is None
                else {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": {"N": str(rev)}}}
            )
            items: list[dict[str, Any]] = [{"Put": {
                "TableName": self._table,
                "Item": {**customer_key(tenant, me), "doc": doc, "rev": {"N": str(rev + 1)}, "customer_id": {"S": me},
                         "aliases": {"S": ID_ONLY}},
                **condition,
            }}]
            # Alias items written before the id-only layout hold a copy of an old profile: rewritten once.
            slim = held_item is not None and held_item.get("aliases", {}).get("S") == ID_ONLY
            for kind, value in sorted(customer.aliases() - held if slim else customer.aliases()):
                items.append({"Put": {
                    "TableName": self._table,
                    "Item": {**alias_key(tenant, kind, value), "customer_id": {"S": me}},
                    "ConditionExpression": free_or_mine, "ExpressionAttributeValues": mine,
                }})
            for kind, value in sorted(held - customer.aliases()):
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
