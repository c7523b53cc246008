"""local.moto_patches 29: a contact's keys and ids (up to SHARED_TEXT_MAX characters) are one object in all the items
that hold them, across partitions and tables, and shared values are not interned. Guards the memory a busy day's
items take in moto, and that nothing changes for what the API answers."""
from __future__ import annotations

import sys
import uuid

import pytest

from local import moto_patches
from tests.moto_items import fresh as _fresh
from tests.moto_items import keyed_table
from tests.moto_items import patched  # noqa: F401 - the module's autouse fixture
from tests.moto_items import stored as _stored

TENANT = "busy"
BOUND_PER_CONTACT = 5_150  # between the two (5,433 before patch 29, 4,864 after)


def _contact_items(n: int) -> tuple[dict, list[dict], dict]:
    """A contact's CONTACT, DECISION and history ENTRY as the runtime writes them (shapes from a busy day)."""
    cid = str(uuid.UUID(int=n * 7919 + 1))
    nxt = str(uuid.UUID(int=n * 7919 + 2))
    at = 1_796_478_785_509 + n * 337
    pk = f"{TENANT}#CONTACT#{cid}"
    contact = {
        "pk": {"S": pk}, "sk": {"S": "CONTACT"}, "entity": {"S": "contact"}, "tenant_id": {"S": TENANT},
        "contact_id": {"S": cid}, "channel": {"S": "CHAT"}, "initiation_method": {"S": "API"},
        "queue_id": {"S": "support"}, "state": {"S": "COMPLETED"}, "priority": {"N": "5"}, "attributes": {"M": {}},
        "initial_contact_id": {"S": cid}, "agent_id": {"S": f"agent{n % 60:03d}"}, "declined_by": {"L": []},
        "initiated_at": {"N": str(at)}, "enqueued_at": {"N": str(at + 319)}, "offered_at": {"N": str(at + 452)},
        "connected_at": {"N": str(at + 1559)}, "disconnected_at": {"N": str(at + 5736)},
        "acw_ended_at": {"N": str(at + 7087)}, "ended_at": {"N": str(at + 7087)}, "sl_threshold_s": {"N": "20"},
        "routing": {"M": {"queue_id": {"S": "support"}, "planned_at": {"N": str(at)}, "priority": {"N": "5"},
                          "outcome": {"S": "queue"}, "steps": {"L": []}, "segment": {"NULL": True}}},
        "next_contact_id": {"S": nxt}, "segment_number": {"N": "1"}, "hold_ms": {"N": "0"}, "version": {"N": "5"},
    }
    decision = {"pk": {"S": pk}, "sk": {"S": f"DECISION#{at + 452}#{n:08x}"}, "entity": {"S": "decision"},
                "decision": {"S": '{"kind": "select_contact", "outcome": "offer", "winner": "%s", "why": "%s"}'
                                  % (cid, "x" * 900)}}
    entry = {"pk": {"S": pk}, "sk": {"S": "ENTRY"},
             "rec": {"S": '{"tenant_id":"%s","contact_id":"%s","final_state":"COMPLETED"}' % (TENANT, cid)},
             "lu": {"N": str(at + 7087)}, "day_pk": {"S": f"{TENANT}#DAY#2026-12-05"}, "day_sk": {"S": f"{at}#{cid}"}}
    return contact, [decision], entry


def _tables(ddb) -> None:
    for name in ("Contacts", "History"):
        keyed_table(ddb, name)


def _write(ddb, n: int) -> None:
    """As the runtime does: the contact saved whole (PutItem), its decisions put, its ENTRY set by UpdateItem."""
    contact, decisions, entry = _contact_items(n)
    ddb.put_item(TableName="Contacts", Item=contact)
    for decision in decisions:
        ddb.put_item(TableName="Contacts", Item=decision)
    values = {f":v{i}": v for i, v in enumerate(v for k, v in entry.items() if k not in ("pk", "sk"))}
    names = {f"#a{i}": k for i, k in enumerate(k for k in entry if k not in ("pk", "sk"))}
    ddb.update_item(TableName="History", Key={"pk": entry["pk"], "sk": entry["sk"]},
                    UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(names))),
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def _held_bytes(items) -> int:
    """Bytes of every distinct object the items hold (sys.getsizeof: Item, attribute dicts, values, strings)."""
    seen: set[int] = set()
    total = 0
    stack = list(items)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or type(obj) in (bool, int):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if type(obj).__name__ == "Item":
            stack += [obj.hash_key, obj.range_key, obj.attrs]
        elif type(obj).__name__ == "DynamoType":
            stack.append(obj.value)
        elif isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, set)):
            stack += list(obj)
    return total


def test_a_contacts_keys_and_ids_are_one_object_in_every_item_and_table_that_holds_them():
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        _write(ddb, 1)
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        contact_json, (decision_json,), entry_json = _contact_items(1)
        pk = contact_json["pk"]["S"]
        assert len(pk) > 32  # longer than patch 27 shared
        contact = _stored(backend, "Contacts", pk, "CONTACT")
        decision = _stored(backend, "Contacts", pk, decision_json["sk"]["S"])
        entry = _stored(backend, "History", pk, "ENTRY")
        # the partition key: one object as each item's key and attribute, across items and tables
        assert contact.hash_key is contact.attrs["pk"] is decision.hash_key is decision.attrs["pk"]
        assert entry.attrs["pk"] is contact.attrs["pk"] and entry.hash_key is contact.hash_key
        # the contact's id, in two attributes of one item
        assert contact.attrs["contact_id"] is contact.attrs["initial_contact_id"]
        # documents are not shared; each item's JSON stays its own
        assert len(decision.attrs["decision"].value) > moto_patches.SHARED_TEXT_MAX
        # a shared value is not interned (an interned unique value costs a table entry for as long as it lives)
        day_sk = entry.attrs["day_sk"].value
        assert sys.intern(_fresh(day_sk)) is not day_sk


def test_a_busy_days_contact_takes_less_memory_in_moto():
    """Bytes N contacts' items hold (each distinct object once): 5,433 a contact with patch 27's sharing (keys and
    ids each item's own), 4,864 with patch 29's."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    n = 200
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        for i in range(n):
            _write(ddb, i)
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        items = [item for name in ("Contacts", "History")
                 for partition in backend.get_table(name).items.values() for item in partition.values()]
        assert len(items) == 3 * n
        per_contact = _held_bytes(items) / n
    assert per_contact <= BOUND_PER_CONTACT, f"{per_contact:.0f} B a contact's items hold in moto"



def test_items_sharing_keys_across_tables_read_update_and_delete_as_before():
    import boto3
    from moto import mock_aws

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        _write(ddb, 1)
        _write(ddb, 2)
        contact, (decision,), entry = _contact_items(1)
        key = {"pk": contact["pk"], "sk": {"S": "CONTACT"}}
        # a conditional save of the contact (as the runtime's version check) replaces it, its partition intact
        ddb.put_item(TableName="Contacts", Item={**contact, "version": {"N": "6"}, "state": {"S": "ARCHIVED"}},
                     ConditionExpression="#v = :v", ExpressionAttributeNames={"#v": "version"},
                     ExpressionAttributeValues={":v": {"N": "5"}})
        got = ddb.get_item(TableName="Contacts", Key=key, ConsistentRead=True)["Item"]
        assert got == {**contact, "version": {"N": "6"}, "state": {"S": "ARCHIVED"}}
        # the decision in the same partition, found by its key's value
        found = ddb.query(TableName="Contacts", KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
                          ExpressionAttributeValues={":pk": contact["pk"], ":d": {"S": "DECISION#"}})["Items"]
        assert found == [decision]
        # deleting the contact's items in one table leaves the other table's item (same key object) as it was
        ddb.delete_item(TableName="Contacts", Key=key)
        ddb.delete_item(TableName="Contacts", Key={"pk": decision["pk"], "sk": decision["sk"]})
        assert ddb.query(TableName="Contacts", KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues={":pk": contact["pk"]})["Items"] == []
        assert ddb.get_item(TableName="History", Key={"pk": entry["pk"], "sk": entry["sk"]})["Item"] == entry
        # an update of a shared id in one item changes that item only
        ddb.update_item(TableName="History", Key={"pk": entry["pk"], "sk": entry["sk"]},
                        UpdateExpression="SET day_sk = :s", ExpressionAttributeValues={":s": {"S": "moved"}})
        other_contact, _, other_entry = _contact_items(2)
        assert ddb.get_item(TableName="History", Key={"pk": entry["pk"], "sk": entry["sk"]})["Item"]["day_sk"] == {"S": "moved"}
        assert ddb.get_item(TableName="Contacts", Key={"pk": other_contact["pk"], "sk": {"S": "CONTACT"}})["Item"] == other_contact
        # a transaction cancelled on a condition leaves every item as it was (patch 6's undo log)
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "Contacts", "Item": contact}},
                {"ConditionCheck": {"TableName": "History", "Key": {"pk": other_entry["pk"], "sk": other_entry["sk"]},
                                    "ConditionExpression": "attribute_not_exists(pk)"}}])
        assert "Item" not in ddb.get_item(TableName="Contacts", Key=key)
        assert ddb.get_item(TableName="History", Key={"pk": other_entry["pk"], "sk": other_entry["sk"]})["Item"] == other_entry


def test_a_dynamo_type_that_no_longer_compares_by_value_is_a_problem(monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType

    assert moto_patches.problems(include_version=False) == []
    monkeypatch.setattr(DynamoType, "__eq__", lambda self, other: self is other)
    monkeypatch.setattr(DynamoType, "__hash__", lambda self: id(self))
    assert any("patch 29" in p for p in moto_patches.problems(include_version=False))
