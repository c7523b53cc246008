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

A number an earlier release stored with its trunk prefix after the country code ("+44 020 …" kept as
+44020…, `legacy_phone_keys`: only a spelling that normalises to the number) has its alias item under that key:
a lookup that misses the E.164 key reads it too, a PUT that claims the number refuses it while another customer
holds it there, and the holder's next PUT moves it (its stored `doc` says which keys its alias items have).

Values come normalised (domain.customers: by the use-case, once) and are keyed as they are; a customer item's
`doc` is read as it was written (vocabulary.STORED_DOCUMENT), never normalised again: a second pass could read
a number as another one, or refuse it, and the customer would no longer load.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from ccaas.domain.customers import Customer, legacy_phone_keys, lookup
from ccaas.domain.models import Conflict
from ccaas.domain.vocabulary import STORED_DOCUMENT

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
        keys = (value, *legacy_phone_keys(value)) if kind == "phone" else (value,)
        for consistent in (False, True):
            found = next(((key, item) for key, item in ((key, self._db.get_item(
                TableName=self._table, Key=alias_key(tenant_id, kind, key), ConsistentRead=consistent
            ).get("Item")) for key in keys) if item is not None), None)
            if found is None:
                return None
            key, alias = found
            customer = self._read(tenant_id, alias["customer_id"]["S"], consistent=consistent)
            # under the key it was found by: a legacy key's holder still has its number as that release wrote it
            if customer is not None and (kind, key) in customer.aliases():
                return customer
        return None

    def _read(self, tenant_id: str, customer_id: str, *, consistent: bool) -> Customer | None:
        item = self._db.get_item(
            TableName=self._table, Key=customer_key(tenant_id, customer_id), ConsistentRead=consistent
        ).get("Item")
        return None if item is None else Customer.model_validate_json(item["doc"]["S"], context=STORED_DOCUMENT)

    def put(self, customer: Customer) -> Customer:
        tenant, me = customer.tenant_id, customer.customer_id
        doc = {"S": customer.model_dump_json()}
        mine = {":me": {"S": me}}
        free_or_mine = "attribute_not_exists(pk) OR customer_id = :me"
        for _ in range(_ATTEMPTS):
            held_item = self._db.get_item(TableName=self._table, Key=customer_key(tenant, me), ConsistentRead=True).get("Item")
            held = set() if held_item is None else _stored_aliases(held_item["doc"]["S"])
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
            self._raise_if_held_under_legacy_key(tenant, me, customer.aliases() - held)
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

    def _raise_if_held_under_legacy_key(self, tenant_id: str, me: str, claimed: set[tuple[str, str]]) -> None:
        # No condition in the transaction: nothing writes a legacy key any more, they are only ever deleted.
        for kind, value in sorted(claimed):
            for key in legacy_phone_keys(value) if kind == "phone" else ():
                item = self._db.get_item(
                    TableName=self._table, Key=alias_key(tenant_id, kind, key), ConsistentRead=True
                ).get("Item")
                if item is not None and item["customer_id"]["S"] != me:
                    raise Conflict(f"a {kind} of this customer belongs to another customer", field=f"{kind}s")


def _stored_aliases(doc: str) -> set[tuple[str, str]]:
    """The keys the customer's alias items were written under: its stored values as they are (a document of the
    layout before alias items were slimmed may not read as a Customer of today)."""
    stored = json.loads(doc)
    return {("phone", p) for p in stored.get("phones", ())} | {("email", e) for e in stored.get("emails", ())}
