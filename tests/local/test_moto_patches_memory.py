"""local.moto_patches 17 (stored items share their attribute names and short string values): the same
items, less memory per item."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local import moto_patches


@pytest.fixture(scope="module", autouse=True)
def patched():
    moto_patches.apply()
    assert moto_patches.problems(include_version=False) == []


def _stored(backend, table: str, pk: str):
    from moto.dynamodb.models.dynamo_type import DynamoType

    return backend.get_table(table).get_item(DynamoType({"S": pk}), None)


def _fresh(text: str) -> str:
    """An equal string that is not the interned object (as a request's JSON decodes it)."""
    return "".join(list(text))


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


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_text.filter(bool), _values, min_size=1, max_size=6))
def test_a_shared_item_reads_back_as_written(attrs):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    written = {_fresh(k): v for k, v in {"pk": {"S": "h"}, **attrs}.items()}
    item = Item(DynamoType({"S": "h"}), None, attrs=written)
    assert item.to_json()["Attributes"] == written
    moto_patches._share_item_texts(item)  # noqa: SLF001 - what an update does after it: idempotent
    assert item.to_json()["Attributes"] == written
