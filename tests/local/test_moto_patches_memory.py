"""local.moto_patches 17 (stored items share their attribute names and short string values): the same
items, less memory per item."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local import moto_patches
from local.testing import examples
from tests.moto_items import fresh as _fresh
from tests.moto_items import keyed_table
from tests.moto_items import patched  # noqa: F401 - the module's autouse fixture
from tests.moto_items import stored as _stored


def test_items_written_by_separate_requests_share_names_and_short_values_not_long_ones():
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    long_value = "x" * (moto_patches.SHARED_TEXT_MAX + 1)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        for pk in ("a", "b"):
            ddb.put_item(TableName="t", Item={
                "pk": {"S": pk}, "state": {"S": "COMPLETED"}, "doc": {"S": long_value},
                "nested": {"M": {"channel": {"S": "VOICE"}, "tags": {"L": [{"S": "gold"}]}}}})
        # an update adds a name and a value the requests decode afresh each time
        for pk in ("a", "b"):
            ddb.update_item(TableName="t", Key={"pk": {"S": pk}}, UpdateExpression="SET #s = :v",
                            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":v": {"S": "OPEN"}})
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        a, b = _stored(backend, "t", "a"), _stored(backend, "t", "b")
        names_a = {k: k for k in a.attrs}
        for name in b.attrs:
            assert name is names_a[name], name
        assert a.attrs["state"].value is b.attrs["state"].value
        assert a.attrs["status"].value is b.attrs["status"].value == "OPEN"
        assert a.attrs["nested"].value["channel"].value is b.attrs["nested"].value["channel"].value
        assert a.attrs["nested"].value["tags"].value[0].value is b.attrs["nested"].value["tags"].value[0].value
        assert a.attrs["doc"].value == b.attrs["doc"].value and a.attrs["doc"].value is not b.attrs["doc"].value
        # what a reader gets is unchanged
        got = ddb.get_item(TableName="t", Key={"pk": {"S": "b"}})["Item"]
    assert got == {"pk": {"S": "b"}, "state": {"S": "COMPLETED"}, "doc": {"S": long_value}, "status": {"S": "OPEN"},
                   "nested": {"M": {"channel": {"S": "VOICE"}, "tags": {"L": [{"S": "gold"}]}}}}


_text = st.text(alphabet=string.ascii_letters + "é€#", max_size=40)
_values = st.recursive(
    st.one_of(st.builds(lambda s: {"S": s}, _text), st.builds(lambda n: {"N": str(n)}, st.integers()),
              st.builds(lambda b: {"BOOL": b}, st.booleans()), st.builds(lambda s: {"SS": s}, st.lists(_text, min_size=1, max_size=3, unique=True))),
    lambda inner: st.one_of(st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
                            st.builds(lambda m: {"M": m}, st.dictionaries(_text, inner, max_size=3))), max_leaves=10)


@settings(max_examples=examples(200), deadline=None)
@given(st.dictionaries(_text.filter(bool), _values, min_size=1, max_size=6))
def test_a_shared_item_reads_back_as_written(attrs):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    written = {_fresh(k): v for k, v in {"pk": {"S": "h"}, **attrs}.items()}
    item = Item(DynamoType({"S": "h"}), None, attrs=written)
    assert item.to_json()["Attributes"] == written
    moto_patches._share_item_texts(item)  # noqa: SLF001 - what an update does after it: idempotent
    assert item.to_json()["Attributes"] == written


# -- patch 27 (values in two slots) and patch 17's shared scalar values -----------------------------------

def _table_with_items(ddb, items: list[dict]) -> None:
    keyed_table(ddb, "t")
    for item in items:
        ddb.put_item(TableName="t", Item=item)


def test_every_moto_module_builds_attribute_values_without_an_instance_dict():
    import sys
    import tracemalloc

    from moto.dynamodb.models import dynamo_type

    original = moto_patches._original_dynamo_type  # noqa: SLF001
    slotted = dynamo_type.DynamoType
    assert original is not None and slotted is not original and slotted.__slots__ == ("type", "value")
    holders = [name for name, module in list(sys.modules.items()) if getattr(module, "DynamoType", None) is original]
    assert holders == [], f"modules still building moto's DynamoType with an instance dict: {holders}"
    value = slotted({"M": {"a": {"L": [{"S": "x"}]}}})
    assert not hasattr(value, "__dict__") and not hasattr(value.value["a"].value[0], "__dict__")
    assert value == slotted({"M": {"a": {"L": [{"S": "x"}]}}}) != slotted({"M": {"a": {"L": [{"S": "y"}]}}})

    def size_of(cls: type) -> int:
        tracemalloc.start()
        try:
            kept = [cls({"N": "1"}) for _ in range(5_000)]
            return tracemalloc.get_traced_memory()[0] // len(kept)
        finally:
            tracemalloc.stop()

    plain, slim = size_of(original), size_of(slotted)
    assert slim <= 0.6 * plain, f"a value takes {slim} B, moto's class {plain} B"


def test_items_share_one_value_object_per_short_scalar_not_sets_lists_or_long_values():
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    long_value = "x" * (moto_patches.SHARED_TEXT_MAX + 1)

    def contact(pk: str) -> dict:
        return {"pk": {"S": pk}, "sk": {"S": "CONTACT"}, "state": {"S": "COMPLETED"}, "n": {"N": "1"},
                "flag": {"BOOL": True}, "none": {"NULL": True}, "doc": {"S": long_value}, "tags": {"SS": ["a", "b"]},
                "route": {"M": {"queue": {"S": "sales"}, "steps": {"L": [{"N": "1"}, {"S": "sales"}]}}}}

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _table_with_items(ddb, [contact("a"), contact("b")])
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        a, b = _stored(backend, "t", "a", "CONTACT"), _stored(backend, "t", "b", "CONTACT")
        for name in ("state", "n", "flag", "none"):
            assert a.attrs[name] is b.attrs[name], name
        assert a.range_key is b.range_key and a.attrs["sk"] is a.range_key
        route = a.attrs["route"].value
        assert route["queue"] is b.attrs["route"].value["queue"] is route["steps"].value[1]
        assert a.attrs["route"].value["steps"].value[0] is a.attrs["n"]  # N "1" everywhere is one object
        assert a.attrs["flag"] is not a.attrs["n"] and a.attrs["flag"] is not a.attrs["none"]  # True == 1, types apart
        for name in ("doc", "tags", "route"):
            assert a.attrs[name] is not b.attrs[name], name
        assert a.attrs["tags"].value is not b.attrs["tags"].value
        assert a.attrs["route"].value["steps"].value is not b.attrs["route"].value["steps"].value


UPDATES = [
    ("SET n = n + :one", {":one": {"N": "1"}}),
    ("ADD n :one", {":one": {"N": "1"}}),
    ("SET #s = :v", {":v": {"S": "OPEN"}}),
    ("SET route.queue = :v", {":v": {"S": "support"}}),
    ("SET route.steps = list_append(route.steps, :more)", {":more": {"L": [{"S": "COMPLETED"}]}}),
    ("SET route.steps[1] = :v", {":v": {"S": "billing"}}),
    ("ADD tags :more", {":more": {"SS": ["c"]}}),
    ("DELETE tags :less", {":less": {"SS": ["a"]}}),
    ("REMOVE #s, route.queue", {}),
]


@pytest.mark.parametrize(("expression", "values"), UPDATES, ids=[u[0] for u in UPDATES])
def test_an_update_of_one_item_leaves_every_item_sharing_its_values_as_it_was(expression, values):
    import boto3
    from moto import mock_aws

    def contact(pk: str) -> dict:
        return {"pk": {"S": pk}, "sk": {"S": "CONTACT"}, "state": {"S": "COMPLETED"}, "n": {"N": "1"},
                "tags": {"SS": ["a", "b"]},
                "route": {"M": {"queue": {"S": "sales"}, "steps": {"L": [{"N": "1"}, {"S": "sales"}]}}}}

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _table_with_items(ddb, [contact("a"), contact("b")])
        extra = {"ExpressionAttributeNames": {"#s": "state"}} if "#s" in expression else {}
        ddb.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "CONTACT"}}, UpdateExpression=expression,
                        **({"ExpressionAttributeValues": values} if values else {}), **extra)
        key_b = {"pk": {"S": "b"}, "sk": {"S": "CONTACT"}}
        assert ddb.get_item(TableName="t", Key=key_b, ConsistentRead=True)["Item"] == contact("b")
        changed = ddb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "CONTACT"}})["Item"]
        assert changed != contact("a")
        # a third item written afterwards gets the values as written, not the changed item's
        ddb.put_item(TableName="t", Item=contact("c"))
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "c"}, "sk": {"S": "CONTACT"}})["Item"] == contact("c")


def test_the_shared_values_are_forgotten_at_their_bound_and_sharing_goes_on(monkeypatch):
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    monkeypatch.setattr(moto_patches, "SHARED_LEAVES_MAX", 8)
    # Empty tables: with what earlier tests of this process left in them, the clears would fall elsewhere.
    monkeypatch.setattr(moto_patches, "_shared_leaves", {kind: {} for kind in moto_patches._shared_leaves})  # noqa: SLF001
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _table_with_items(ddb, [{"pk": {"S": f"p{i}"}, "sk": {"S": "CONTACT"}, "v": {"N": str(i)}} for i in range(20)])
        known = sum(len(t) for t in moto_patches._shared_leaves.values())  # noqa: SLF001
        assert known <= 8
        # the items written before a clear still read back as written
        for i in range(20):
            got = ddb.get_item(TableName="t", Key={"pk": {"S": f"p{i}"}, "sk": {"S": "CONTACT"}})["Item"]
            assert got == {"pk": {"S": f"p{i}"}, "sk": {"S": "CONTACT"}, "v": {"N": str(i)}}
        ddb.put_item(TableName="t", Item={"pk": {"S": "q"}, "sk": {"S": "CONTACT"}, "v": {"N": "19"}})
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        q, p19 = _stored(backend, "t", "q", "CONTACT"), _stored(backend, "t", "p19", "CONTACT")
        assert q.attrs["v"] is p19.attrs["v"]


def test_a_new_place_that_sets_a_value_is_a_problem(monkeypatch):
    assert moto_patches.problems(include_version=False) == []
    found = moto_patches.value_assignments()
    monkeypatch.setattr(moto_patches, "value_assignments", lambda: [*found, ("dynamodb/x.py", "leaf.value = 2")])
    found_problems = moto_patches.problems(include_version=False)
    assert any("re-check that a scalar DynamoType never changes" in p for p in found_problems)
