"""DynamoDB adapters. Keys are tenant-first; sparse GSIs hold only what routing looks up:
`waiting` (QUEUED and CALLBACK_SCHEDULED contacts per queue, oldest first), `waiting_tenant` (the same
contacts per tenant, oldest first: a routing profile's queues in one Query) and `available` (AVAILABLE
agents, longest idle first)."""
from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ccaas.adapters.aws.customer_window import newest_through_window
from ccaas.adapters.aws.batch_get import batch_get
from ccaas.adapters.item_size import check_item_size
from ccaas.domain.alerts import AlertRules
from ccaas.domain.live_metrics import WritePlan
from ccaas.domain.models import WAITING_STATES, Agent, Conflict, Contact, DomainError, NotFound, Queue
from ccaas.domain.routing_engine.synthetic import is_synthetic, synthetic_expiry
from ccaas.domain.tenants import ApiKeyRecord, Credential, Role, Tenant, legacy_key_id
from ccaas.domain.vocabulary import STORED_DOCUMENT

TENANT_REGISTRY_PK = "TENANTS"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_MAX_IN_OPERANDS = 100  # DynamoDB's limit for an IN list in a filter expression
# The fewest of a tenant's waiting contacts one routing-profile read asks for: below it a read is one Query
# whatever the profile (a live view wants one contact a queue), above it the read stops at what it can use.
_WAITING_READ_FLOOR = 100
CONTACT_TTL_ATTRIBUTE = "expires_at"  # the Contacts table's TTL (infra/constructs/data.py)
_ENTITY_KEYS = ("pk", "sk", "wait_pk", "twait_pk", "wait_sk", "avail_pk", "avail_sk", "cust_pk", "cust_sk")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB takes no floats: a JSON round trip turns them (and only them) into Decimals.
    text = json.dumps(values, ensure_ascii=False)
    check_item_size(values, str(values.get("entity") or values.get("sk") or "item").split("#")[0].lower(),
                    size=len(text.encode("utf-8")))
    exact = json.loads(text, parse_float=_dynamo_number)
    return {k: _serializer.serialize(v) for k, v in exact.items() if v is not None}


_SMALLEST, _LARGEST = Decimal("1e-100"), Decimal("9.9e125")  # DynamoDB: 1E-130 to 9.9999E+125


def _dynamo_number(text: str) -> Decimal:
    """A float as DynamoDB can store it: one closer to 0 than 1e-100 (a float may be 5e-324) is 0."""
    number = Decimal(text)
    if abs(number) >= _LARGEST:
        raise DomainError(f"the number {text} is beyond what can be stored (|x| < 9.9e125)")
    return Decimal(0) if abs(number) < _SMALLEST else number


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _entity(values: dict[str, Any]) -> dict[str, Any]:
    ttl = CONTACT_TTL_ATTRIBUTE if values.get("entity") == {"S": "contact"} else None  # storage, not the model
    data = {k: v for k, v in from_item(values).items() if k not in _ENTITY_KEYS and k != "entity" and k != ttl}
    return _deep_plain(data)


def _deep_plain(value: Any) -> Any:
    # DynamoDB numbers come back as Decimal; our models and counters hold ints only.
    if isinstance(value, dict):
        return {k: _deep_plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_deep_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def contact_key(tenant_id: str, contact_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_id}#CONTACT#{contact_id}", "sk": "CONTACT"}


def agent_key(tenant_id: str, agent_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_id}#AGENT", "sk": f"AGENT#{agent_id}"}


def _contact_item(contact: Contact) -> dict[str, Any]:
    values: dict[str, Any] = {**contact_key(contact.tenant_id, contact.contact_id), "entity": "contact"}
    values.update(contact.model_dump(mode="json"))
    if contact.state in WAITING_STATES:
        values["wait_pk"] = f"{contact.tenant_id}#{contact.queue_id}"
        values["twait_pk"] = contact.tenant_id
        values["wait_sk"] = f"{contact.enqueued_at or 0:013d}#{contact.contact_id}"
    # Sparse: a journey test's contacts are no customer's past, and routing reads only the newest few.
    if contact.customer_id and not is_synthetic(contact):
        values["cust_pk"] = f"{contact.tenant_id}#{contact.customer_id}"
        values["cust_sk"] = f"{contact.initiated_at:013d}#{contact.contact_id}"
    values[CONTACT_TTL_ATTRIBUTE] = synthetic_expiry(contact)  # a journey test's contact goes (None: kept)
    return to_item(values)


def _agent_item(agent: Agent) -> dict[str, Any]:
    values: dict[str, Any] = {**agent_key(agent.tenant_id, agent.agent_id), "entity": "agent"}
    values.update(agent.model_dump(mode="json"))
    if agent.is_available and any(agent.free_slots(c) for c in agent.capacity):
        values["avail_pk"] = agent.tenant_id
        values["avail_sk"] = f"{agent.idle_since():013d}#{agent.agent_id}"
    return to_item(values)


def _version_condition(version: int) -> dict[str, Any]:
    if version == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":v": {"N": str(version - 1)}},
    }


class DynamoStateStore:
    def __init__(self, client: Any, contacts_table: str, agents_table: str, *, roster_max_age_s: int | None = 0) -> None:
        self._db = client
        self._contacts_name = contacts_table
        self._agents_name = agents_table
        self._roster_max_age_s = roster_max_age_s
        self._rosters: Any = None

    @property
    def _contacts(self) -> str:
        return self._configured(self._contacts_name, "CONTACTS_TABLE")

    @property
    def _agents(self) -> str:
        return self._configured(self._agents_name, "AGENTS_TABLE")

    @staticmethod
    def _configured(name: str, setting: str) -> str:
        if not name:
            raise RuntimeError(f"setting {setting} is not configured for this function")
        return name

    def get_contact(self, tenant_id: str, contact_id: str) -> Contact:
        item = self._db.get_item(TableName=self._contacts, Key=to_item(contact_key(tenant_id, contact_id)), ConsistentRead=True).get("Item")
        if not item:
            raise NotFound(f"contact {contact_id} not found", field="contact_id")
        return Contact.model_validate(_entity(item))

    def get_agent(self, tenant_id: str, agent_id: str) -> Agent:
        item = self._db.get_item(TableName=self._agents, Key=to_item(agent_key(tenant_id, agent_id)), ConsistentRead=True).get("Item")
        if not item:
            raise NotFound(f"agent {agent_id} not found", field="agent_id")
        return Agent.model_validate(_entity(item))

    def get_agents(self, tenant_id: str, agent_ids: Sequence[str]) -> list[Agent]:
        wanted = list(dict.fromkeys(agent_ids))
        keys = [to_item(agent_key(tenant_id, a)) for a in wanted]
        found = {item["sk"]["S"]: item for item in batch_get(self._db, self._agents, keys, consistent=True)}
        return [Agent.model_validate(_entity(found[sk])) for a in wanted if (sk := agent_key(tenant_id, a)["sk"]) in found]

    def list_agents(self, tenant_id: str) -> list[Agent]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._agents,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{tenant_id}#AGENT"}},
        )
        return [Agent.model_validate(_entity(i)) for page in pages for i in page["Items"]]

    def staffing_roster(self, tenant_id: str) -> list[Agent]:
        """The roster kept `roster_max_age_s` in this container (0: read each time; None: as long as the
        configuration cache), as the port allows: at a peak every decision that finds no free candidate asks it,
        and a Query of every agent per contact was the routing path's largest read (200 agents: 400 items a
        contact; 2,000 at the largest profile ~45 MB)."""
        if self._roster_max_age_s == 0:
            return self.list_agents(tenant_id)
        if self._rosters is None:
            # Powertools Parameters' cache: imported by the functions that route only, on their first question.
            from ccaas.adapters.cached_config import TimedReads, configured_max_age_s  # noqa: PLC0415

            if self._roster_max_age_s is None:
                self._roster_max_age_s = configured_max_age_s()
            self._rosters = TimedReads()
            self._rosters.loaders["roster"] = self.list_agents
        # One roster at a time, dropped before another is read: the container's peak stays what one decision held
        # before the cache (2,000 agents at the largest profile are ~150 MB of objects; three tenants' kept together
        # would not fit a 512 MB function). A peak is usually one tenant's decisions back to back.
        self._rosters.keep_only("roster", tenant_id)
        return self._rosters.read("roster", tenant_id, max_age=self._roster_max_age_s)

    def _first(self, limit: int, **query: Any) -> list[dict[str, Any]]:
        """The first `limit` items of an index Query, page after page: one page ends at 1 MB whatever `Limit`
        says (~45 agents at the largest profile), and the ones past it are the ones waiting or idle the
        shortest, never looked at otherwise."""
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            out = self._db.query(Limit=limit - len(items), **query)
            items += out["Items"]
            if "LastEvaluatedKey" not in out:
                break
            query["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return items

    def available_agents(self, tenant_id: str, limit: int) -> list[Agent]:
        items = self._first(limit, TableName=self._agents, IndexName="available",
                            KeyConditionExpression="avail_pk = :t", ExpressionAttributeValues={":t": {"S": tenant_id}})
        return [Agent.model_validate(_entity(i)) for i in items]

    def waiting_contacts(self, tenant_id: str, queue_id: str, limit: int) -> list[Contact]:
        items = self._first(limit, TableName=self._contacts, IndexName="waiting", KeyConditionExpression="wait_pk = :q",
                            ExpressionAttributeValues={":q": {"S": f"{tenant_id}#{queue_id}"}})
        return [Contact.model_validate(_entity(i)) for i in items]

    def waiting_in_queues(self, tenant_id: str, queue_ids: Sequence[str], limit: int) -> dict[str, list[Contact]]:
        wanted = list(dict.fromkeys(queue_ids))
        if len(wanted) <= 1 or len(wanted) > _MAX_IN_OPERANDS:
            return {q: self.waiting_contacts(tenant_id, q, limit) for q in wanted}
        # One Query of the tenant's oldest waiting contacts, filtered to these queues. `Limit` bounds what is
        # read (DynamoDB applies it before the filter): with hundreds waiting, every next offer and live view
        # read them all (700 waiting: 700 items read to keep 3, ~280 ms in the local emulation).
        operands = {f":q{i}": {"S": q} for i, q in enumerate(wanted)}
        out = self._db.query(
            TableName=self._contacts,
            IndexName="waiting_tenant",
            KeyConditionExpression="twait_pk = :t",
            FilterExpression=f"#queue IN ({', '.join(operands)})",
            ExpressionAttributeNames={"#queue": "queue_id"},
            ExpressionAttributeValues={":t": {"S": tenant_id}, **operands},
            Limit=max(limit * len(wanted), _WAITING_READ_FLOOR),
        )
        found: dict[str, list[Contact]] = {q: [] for q in wanted}
        for item in out["Items"]:
            kept = found[item["queue_id"]["S"]]
            if len(kept) < limit:
                kept.append(Contact.model_validate(_entity(item)))
        if "LastEvaluatedKey" in out:
            # More are waiting than were read (the Limit, or a 1 MB page): the oldest of each queue read to
            # `limit` are its oldest overall (the read is oldest first); any other queue is read on its own.
            for q in wanted:
                if len(found[q]) < limit:
                    found[q] = self.waiting_contacts(tenant_id, q, limit)
        return found

    def save(
        self, *, contacts: Sequence[Contact] = (), agents: Sequence[Agent] = (),
        decisions: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    ) -> None:
        puts = [{"TableName": self._contacts, "Item": _contact_item(c), **_version_condition(c.version)} for c in contacts]
        puts += [{"TableName": self._agents, "Item": _agent_item(a), **_version_condition(a.version)} for a in agents]
        # A decision goes when its contact does (a journey test's): the contact written with it says when.
        written = {(c.tenant_id, c.contact_id): synthetic_expiry(c) for c in contacts}
        puts += [{"TableName": self._contacts,
                  "Item": self._decision_item(t, cid, d, written.get((t, cid)))} for t, cid, d in decisions]
        try:
            if len(puts) == 1:
                self._db.put_item(**puts[0])
            elif puts:
                self._db.transact_write_items(TransactItems=[{"Put": p} for p in puts])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict("contact or agent changed concurrently; retry") from error
            raise


    def recent_contacts(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                        up_to: int = 0) -> list[Contact]:
        # The `customer` index keeps keys only (a contact item is rewritten ~8 times in its life; an index
        # of whole items was rewritten each time): the newest keys, then the contacts themselves.
        keys = newest_through_window(self._db, table=self._contacts, index="customer",
                                     partition=f"{tenant_id}#{customer_id}", limit=limit, since_ms=since_ms, up_to=up_to)
        wanted = [{"pk": k["pk"], "sk": k["sk"]} for k in keys]
        found = {item["pk"]["S"]: item for item in batch_get(self._db, self._contacts, wanted)}
        # newest first, as the index returned them; a contact gone since (its TTL) is left out
        return [Contact.model_validate(_entity(found[k["pk"]["S"]])) for k in wanted if k["pk"]["S"] in found]

    @staticmethod
    def _decision_item(tenant_id: str, contact_id: str, decision: Mapping[str, Any],
                       expires_at: int | None) -> dict[str, Any]:
        # Beside the contact item, in the contact's own partition: one query returns them in order.
        # The decision as zlib-compressed JSON (`decision_z`): a busy day's (50 candidates considered, 5 scored) is
        # ~1.4 KB of JSON, ~0.5 KB compressed: 1 write unit instead of 2, each twice in the routing transaction.
        check_item_size(dict(decision), "decision")  # its JSON against the limit, as the in-memory store checks it
        key = contact_key(tenant_id, contact_id)
        at = int(decision.get("at", 0))
        sk = f"DECISION#{at:013d}#{uuid.uuid4().hex[:8]}"
        compact = json.dumps(decision, separators=(",", ":")).encode("utf-8")
        item: dict[str, Any] = {"pk": {"S": key["pk"]}, "sk": {"S": sk}, "entity": {"S": "decision"},
                                "decision_z": {"B": zlib.compress(compact)}}
        if expires_at is not None:  # the contact's TTL: a journey test's decisions go with it (None: kept)
            item[CONTACT_TTL_ATTRIBUTE] = {"N": str(expires_at)}
        return item

    def record_decision(self, tenant_id: str, contact_id: str, decision: Mapping[str, Any], *,
                        expires_at: int | None = None) -> None:
        item = self._decision_item(tenant_id, contact_id, decision, expires_at)
        self._db.put_item(TableName=self._contacts, Item=item)

    def decisions(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                  limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        # sk = DECISION#<cursor>: `after` starts a range on the sort key (itself dropped below), "DECISION$" sorts
        # past the last DECISION# item
        query = {"TableName": self._contacts, "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
                 "ExpressionAttributeValues": {":pk": {"S": contact_key(tenant_id, contact_id)["pk"]},
                                               ":from": {"S": f"DECISION#{after or ''}"}, ":to": {"S": "DECISION$"}}}
        if limit is None:
            items = [i for page in self._db.get_paginator("query").paginate(**query) for i in page["Items"]]
        else:
            items = self._first(limit + 1 if after else limit, **query)  # `after` itself comes back first
        found = [(i["sk"]["S"].removeprefix("DECISION#"), _stored_decision(i)) for i in items]
        found = [(cursor, d) for cursor, d in found if after is None or cursor > after]
        return found if limit is None else found[:limit]


def _stored_decision(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DECISION item's decision: `decision_z` (zlib-compressed JSON) as written now, or `decision` (the JSON as
    text) as written before it; the table keeps those, so both stay readable."""
    if "decision_z" in item:
        return json.loads(zlib.decompress(item["decision_z"]["B"]))
    return json.loads(item["decision"]["S"])


class DynamoConfigStore:
    """Tenant settings, queues and API-key hashes. API keys are keyed by hash (the authorizer's lookup)."""

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def _get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key=to_item({"pk": pk, "sk": sk}),
                                 ConsistentRead=consistent).get("Item")
        return None if item is None else _entity(item)

    def _put(self, pk: str, sk: str, values: dict[str, Any]) -> None:
        self._db.put_item(TableName=self._table, Item=to_item({"pk": pk, "sk": sk, **values}))

    def get_tenant(self, tenant_id: str) -> Tenant:
        values = self._get(f"{tenant_id}#CONFIG", "TENANT")
        if values is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return Tenant.model_validate(values)

    def put_tenant(self, tenant: Tenant) -> None:
        self._put(f"{tenant.tenant_id}#CONFIG", "TENANT", tenant.model_dump(mode="json"))
        # The registry the alert sweep walks (a Query, no Scan); written on every put, so it heals.
        self._put(TENANT_REGISTRY_PK, f"TENANT#{tenant.tenant_id}", {"tenant_id": tenant.tenant_id})

    def list_tenants(self) -> list[str]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": TENANT_REGISTRY_PK}},
            ProjectionExpression="tenant_id",
        )
        return sorted(i["tenant_id"]["S"] for page in pages for i in page["Items"])

    def get_alert_rules(self, tenant_id: str) -> AlertRules:
        values = self._get(f"{tenant_id}#CONFIG", "ALERT_RULES")
        return AlertRules() if values is None else AlertRules.model_validate(values, context=STORED_DOCUMENT)

    def put_alert_rules(self, tenant_id: str, rules: AlertRules) -> None:
        self._put(f"{tenant_id}#CONFIG", "ALERT_RULES", rules.model_dump(mode="json"))

    # API keys: an item per live secret, keyed by its hash (the authorizer's one GetItem), and an item
    # per key in the tenant's config partition (list, rotate, revoke without a Scan), kept in step by
    # one transaction. Items written before roles hold only the tenant: they read as admin keys.
    def tenant_for_key(self, key_hash: str) -> str | None:
        credential = self.credential_for_key(key_hash)
        return None if credential is None else credential.tenant_id

    def put_api_key(self, key_hash: str, tenant_id: str) -> None:
        self._put(f"APIKEY#{key_hash}", "APIKEY", {"tenant_id": tenant_id})  # the shape before roles

    def credential_for_key(self, key_hash: str) -> Credential | None:
        # Consistent: $connect reads it again after storing its connection to refuse a secret revoked or rotated away
        # meanwhile; an eventually consistent read could still return the old item.
        values = self._get(f"APIKEY#{key_hash}", "APIKEY", consistent=True)
        if values is None:
            return None
        if "role" not in values:
            return Credential(tenant_id=values["tenant_id"], role=Role.ADMIN, key_id=legacy_key_id(key_hash))
        return Credential.model_validate(values)

    @staticmethod
    def _by_hash(record: ApiKeyRecord) -> dict[str, Any]:
        return {"pk": f"APIKEY#{record.key_hash}", "sk": "APIKEY", "entity": "apikey",
                **record.credential().model_dump(mode="json")}

    @staticmethod
    def _by_id(record: ApiKeyRecord) -> dict[str, Any]:
        return {"pk": f"{record.tenant_id}#CONFIG", "sk": f"APIKEY#{record.key_id}", "entity": "apikey",
                **record.model_dump(mode="json")}

    def _transact(self, items: list[dict[str, Any]], what: str) -> None:
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict(what) from error
            raise

    def add_api_key(self, record: ApiKeyRecord) -> None:
        new = {"ConditionExpression": "attribute_not_exists(pk)"}
        items = [{"Put": {"TableName": self._table, "Item": to_item(self._by_id(record)), **new}}]
        if record.revoked_at is None:
            items.append({"Put": {"TableName": self._table, "Item": to_item(self._by_hash(record)), **new}})
        self._transact(items, f"key {record.key_id} exists")

    def get_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        values = self._get(f"{tenant_id}#CONFIG", f"APIKEY#{key_id}", consistent=True)  # as credential_for_key
        if values is None:
            raise NotFound(f"key {key_id} not found", field="key_id")
        return ApiKeyRecord.model_validate(values)

    def _config_items(self, tenant_id: str, kind: str) -> list[dict[str, Any]]:
        """Every config item of one kind of the tenant (sk `<kind>#…`), all pages."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :k)",
            ExpressionAttributeValues={":pk": {"S": f"{tenant_id}#CONFIG"}, ":k": {"S": f"{kind}#"}},
        )
        return [_entity(i) for page in pages for i in page["Items"]]

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.model_validate(values) for values in self._config_items(tenant_id, "APIKEY")]

    def replace_api_key(self, current: ApiKeyRecord, updated: ApiKeyRecord) -> None:
        if (updated.tenant_id, updated.key_id) != (current.tenant_id, current.key_id):
            raise Conflict("a key keeps its tenant and id")
        unchanged = "key_hash = :h AND " + ("attribute_not_exists(revoked_at)" if current.revoked_at is None
                                             else "revoked_at = :r")
        values = {":h": current.key_hash, **({} if current.revoked_at is None else {":r": current.revoked_at})}
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._table, "Item": to_item(self._by_id(updated)), "ConditionExpression": unchanged,
            "ExpressionAttributeValues": {k: _serializer.serialize(v) for k, v in values.items()},
        }}]
        same_hash = updated.key_hash == current.key_hash
        if not same_hash or updated.revoked_at is not None:
            items.append({"Delete": {"TableName": self._table, "Key": to_item({"pk": f"APIKEY#{current.key_hash}", "sk": "APIKEY"})}})
        if updated.revoked_at is None:
            fresh = {} if same_hash else {"ConditionExpression": "attribute_not_exists(pk)"}
            if same_hash and current.revoked_at is None:
                items = [i for i in items if "Delete" not in i]
            items.append({"Put": {"TableName": self._table, "Item": to_item(self._by_hash(updated)), **fresh}})
        self._transact(items, f"key {current.key_id} changed meanwhile")

    def get_queue(self, tenant_id: str, queue_id: str) -> Queue:
        values = self._get(f"{tenant_id}#CONFIG", f"QUEUE#{queue_id}")
        if values is None:
            raise NotFound(f"queue {queue_id} not found", field="queue_id")
        return Queue.model_validate(values)

    def list_queues(self, tenant_id: str) -> list[Queue]:
        return [Queue.model_validate(values) for values in self._config_items(tenant_id, "QUEUE")]

    def put_queue(self, queue: Queue) -> None:
        self._put(f"{queue.tenant_id}#CONFIG", f"QUEUE#{queue.queue_id}", queue.model_dump(mode="json"))

    def put_connect_instance(self, instance_arn: str, tenant_id: str) -> None:
        self._put(f"CONNECT#{instance_arn}", "CONNECT", {"tenant_id": tenant_id})

    def tenant_for_connect_instance(self, instance_arn: str) -> str | None:
        values = self._get(f"CONNECT#{instance_arn}", "CONNECT")
        return None if values is None else values["tenant_id"]

    def put_sms_sender(self, kind: str, name: str, tenant_id: str) -> None:
        self._put(f"SMS#{kind}#{name}", "SMS", {"tenant_id": tenant_id})

    def tenant_for_sms_sender(self, kind: str, name: str) -> str | None:
        values = self._get(f"SMS#{kind}#{name}", "SMS")
        return None if values is None else values["tenant_id"]

    def get_settings(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        values = self._get(f"{tenant_id}#CONFIG", f"SETTINGS#{name}")
        return None if values is None else json.loads(values["document"])

    def put_settings(self, tenant_id: str, name: str, values: Mapping[str, Any]) -> None:
        # One JSON string: nested settings (analytics rules) keep their exact numbers and shapes.
        self._put(f"{tenant_id}#CONFIG", f"SETTINGS#{name}", {"document": json.dumps(values, separators=(",", ":"))})


# --- the live metrics item in storage: short attribute names, compact watermarks ---------------------------
# The domain's names (ccaas.domain.live_metrics: `d0_answered_within_sl#VOICE`, `wm_shardId-000000000003`
# holding a 128-digit sequence) made a busy queue's item ~1.1-1.4 KB: two write units per write. Stored,
# each word of a name is a code (`d0_aw#V`), a shard's watermark is `wm_<shard number>` and its value the
# sequence as a big-endian binary integer (~24 bytes); the adapter speaks the domain's names to its
# callers. Codes are never domain words, and a name or value it has no code for is stored as it is.
_LIVE_WORDS = {
    "offered": "o", "answered": "a", "answered_within_sl": "aw", "abandoned": "b", "abandoned_within_sl": "bw",
    "wait_ms_answered": "w", "completed": "c", "handle_ms": "h", "transferred_out": "xo", "transferred_in": "xi",
    "short_abandoned": "bs", "timed_out": "to", "abandons_kept": "bk",
    "in_queue": "q", "agents_staffed": "s", "agents_offline": "af",  # af: items written before the gauge was dropped
    "agents_not_ready": "an",
    "agents_available": "av", "agents_reserved": "ar", "agents_on_contact": "ao", "agents_acw": "ac",
}
_LIVE_CHANNELS = {"VOICE": "V", "CHAT": "C", "EMAIL": "E", "SMS": "S", "SOCIAL": "O", "VIDEO": "D", "TASK": "T"}
_LIVE_WORDS_BACK = {v: k for k, v in _LIVE_WORDS.items()}
_LIVE_CHANNELS_BACK = {v: k for k, v in _LIVE_CHANNELS.items()}
_SHARD_PREFIX, _SHARD_DIGITS, _SEQUENCE_DIGITS = "shardId-", 12, 128


def live_attribute(name: str) -> str:
    """The stored name of a live metrics attribute (the domain's name -> its short form)."""
    prefix, sep, rest = name.partition("_")
    if not sep:
        return name
    if prefix == "wm":
        number = rest.removeprefix(_SHARD_PREFIX)
        if rest.startswith(_SHARD_PREFIX) and len(number) == _SHARD_DIGITS and number.isdigit():
            return f"wm_{int(number)}"
        return name
    word, hashed, channel = rest.partition("#")
    stored = f"{prefix}_{_LIVE_WORDS.get(word, word)}"
    return f"{stored}#{_LIVE_CHANNELS.get(channel, channel)}" if hashed else stored


def domain_attribute(stored: str) -> str:
    """The domain's name of a stored live metrics attribute (either form: items written before the short
    names read as they were)."""
    prefix, sep, rest = stored.partition("_")
    if not sep:
        return stored
    if prefix == "wm":
        return f"wm_{_SHARD_PREFIX}{rest.zfill(_SHARD_DIGITS)}" if rest.isdigit() else stored
    word, hashed, channel = rest.partition("#")
    name = f"{prefix}_{_LIVE_WORDS_BACK.get(word, word)}"
    return f"{name}#{_LIVE_CHANNELS_BACK.get(channel, channel)}" if hashed else name


def _live_value(name: str, value: Any) -> dict[str, Any]:
    """A watermark (128 padded digits) as a binary integer; anything else as DynamoDB types it."""
    if name.startswith("wm_") and isinstance(value, str) and len(value) == _SEQUENCE_DIGITS and value.isdigit():
        number = int(value)
        return {"B": number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")}
    return _serializer.serialize(value)


def _live_item(raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """A stored item (without its keys) in the domain's names, and whether it still has long names."""
    item: dict[str, Any] = {}
    legacy = False
    for stored, typed in raw.items():
        if stored in ("pk", "sk"):
            continue
        name = domain_attribute(stored)
        legacy = legacy or live_attribute(name) != stored
        if "B" in typed:
            blob = typed["B"]
            blob = blob.value if hasattr(blob, "value") else blob
            item[name] = str(int.from_bytes(bytes(blob), "big")).zfill(_SEQUENCE_DIGITS)
        else:
            item[name] = _deep_plain(_deserializer.deserialize(typed))
    return item, legacy


class DynamoLiveMetricsStore:
    """One item per (tenant, queue) (layout: ccaas.domain.live_metrics, stored under short names: see
    `live_attribute`); one UpdateItem per batch.

    An item written before the short names (long names, a 128-digit string watermark) reads as it is;
    the first write after such a read rewrites it whole in the short form (a Put conditional on its
    watermarks, so a concurrent writer makes it fail and the item is read again), then applies the plan."""

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table
        self._legacy: dict[tuple[str, str], dict[str, Any]] = {}  # key -> the long-named item last read

    @staticmethod
    def _key(tenant_id: str, queue_id: str) -> dict[str, Any]:
        return to_item({"pk": f"{tenant_id}#LIVE", "sk": f"QUEUE#{queue_id}"})

    def _decoded(self, key: tuple[str, str], raw: Mapping[str, Any]) -> dict[str, Any]:
        item, legacy = _live_item(raw)
        if legacy:
            self._legacy[key] = item
        else:
            self._legacy.pop(key, None)
        return item

    def snapshots(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in batch_get(self._db, self._table, [self._key(t, q) for t, q in wanted], consistent=True):
            key = (raw["pk"]["S"].removesuffix("#LIVE"), raw["sk"]["S"].removeprefix("QUEUE#"))
            found[key] = self._decoded(key, raw)
        return found

    def _shorten(self, tenant_id: str, queue_id: str, item: Mapping[str, Any]) -> None:
        """Rewrite a long-named item in the short form, if it is still as it was read."""
        legacy_watermarks = [k for k in item if k.startswith("wm_")]
        names = {f"#w{i}": k for i, k in enumerate(legacy_watermarks)}
        values = {f":w{i}": _serializer.serialize(item[k]) for i, k in enumerate(legacy_watermarks)}
        condition = " AND ".join(f"#w{i} = :w{i}" for i in range(len(legacy_watermarks))) or "attribute_exists(pk)"
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**self._key(tenant_id, queue_id), **{live_attribute(k): _live_value(k, v) for k, v in item.items()}},
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": names, "ExpressionAttributeValues": values} if names else {}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # another writer moved it (or shortened it) first: the plan's own conditions decide below

    def write(self, tenant_id: str, queue_id: str, plan: WritePlan) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        legacy = self._legacy.pop((tenant_id, queue_id), None)
        if legacy is not None:
            self._shorten(tenant_id, queue_id, legacy)

        def name(attribute: str) -> str:
            alias = f"#n{len(names)}"
            names[alias] = live_attribute(attribute)
            return alias

        def value(v: Any, attribute: str = "") -> str:
            alias = f":v{len(values)}"
            values[alias] = _live_value(attribute, v)
            return alias

        clauses = []
        if plan.sets:
            clauses.append("SET " + ", ".join(f"{name(k)} = {value(v, k)}" for k, v in plan.sets.items()))
        if plan.adds:
            clauses.append("ADD " + ", ".join(f"{name(k)} {value(v, k)}" for k, v in plan.adds.items()))
        if plan.removes:
            clauses.append("REMOVE " + ", ".join(name(k) for k in plan.removes))
        conditions = [
            f"attribute_not_exists({name(k)})" if expected is None else f"{name(k)} = {value(expected, k)}"
            for k, expected in plan.conditions.items()
        ]
        # Every plan carries at least the watermark condition.
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=self._key(tenant_id, queue_id),
                UpdateExpression=" ".join(clauses),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"live metrics item {tenant_id}/{queue_id} changed concurrently") from error
            raise
        return self._decoded((tenant_id, queue_id), response["Attributes"])

    def read(self, tenant_id: str, queue_id: str) -> dict[str, Any]:
        raw = self._db.get_item(TableName=self._table, Key=self._key(tenant_id, queue_id)).get("Item")
        return {} if raw is None else _live_item(raw)[0]

    # Abandon pages (ccaas.domain.live_metrics.abandon_page): items `ABANDONS#<queue>#<day>#<hour>` beside the queue's,
    # a number set `w` of entries and the TTL `expires_at`.
    @staticmethod
    def _page_key(tenant_id: str, queue_id: str, page: str) -> dict[str, Any]:
        return to_item({"pk": f"{tenant_id}#LIVE", "sk": f"ABANDONS#{queue_id}#{page}"})

    def add_abandons(self, tenant_id: str, queue_id: str, page: str, entries: Sequence[str], expires_at_s: int) -> set[str]:
        """Add the entries to the page (a set: adding one again changes nothing, so no condition is needed) and
        return all of the page's entries."""
        response = self._db.update_item(
            TableName=self._table, Key=self._page_key(tenant_id, queue_id, page),
            UpdateExpression="ADD w :w SET expires_at = :e",
            ExpressionAttributeValues={":w": {"NS": sorted(set(entries))}, ":e": {"N": str(expires_at_s)}},
            ReturnValues="UPDATED_NEW",
        )
        return set(response["Attributes"]["w"]["NS"])

    def abandons(self, tenant_id: str, queue_id: str, days: Sequence[str]) -> dict[str, set[str]]:
        """Day -> the entries of its pages (one Query a day, eventually consistent: a reader that finds fewer than the
        queue's item counts reads again later)."""
        found: dict[str, set[str]] = {}
        for day in days:
            entries: set[str] = set()
            request: dict[str, Any] = {
                "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": f"{tenant_id}#LIVE"}, ":s": {"S": f"ABANDONS#{queue_id}#{day}#"}},
                "ProjectionExpression": "w",
            }
            while True:
                response = self._db.query(**request)
                for raw in response.get("Items", []):
                    entries.update(raw.get("w", {}).get("NS", ()))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            found[day] = entries
        return found
