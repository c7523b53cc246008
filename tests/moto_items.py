"""What the tests of moto's stored DynamoDB items share (local.moto_patches 17, 27 and 29): moto patched, a table
keyed by pk and sk, strings as each request decodes them, and the stored item behind a key."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local import moto_patches


@pytest.fixture(scope="module", autouse=True)
def patched():
    moto_patches.apply()
    assert moto_patches.problems(include_version=False) == []


def fresh(text: str) -> str:
    """An equal string that is not the same object (as each request's JSON decodes it)."""
    return "".join(list(text))


def keyed_table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def stored(backend, table: str, pk: str, sk: str | None = None):
    """moto's stored item, looked up by keys that are new objects (a lookup by value, as a request's)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return backend.get_table(table).get_item(DynamoType({"S": fresh(pk)}),
                                             None if sk is None else DynamoType({"S": fresh(sk)}))


@contextmanager
def state_store_tables() -> Iterator[tuple[Any, Any]]:
    """A DynamoDB client on moto with the Contacts and Agents tables, and a DynamoStateStore on them."""
    import boto3
    from moto import mock_aws

    from ccaas.adapters.aws.dynamodb import DynamoStateStore

    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        keyed_table(db, "Contacts")
        keyed_table(db, "Agents")
        yield db, DynamoStateStore(db, "Contacts", "Agents")
