"""Idempotency-Key on the real serve_api handler, its template environment and the Idempotency table, on moto."""
from __future__ import annotations

import os
import time
import uuid

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Queue
from ccaas.usecases import admin
from tests.lambda_harness import api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

NEW_CONTACT = {"channel": "VOICE", "queue_id": "sales", "customer_id": "c-1"}


def _create(tenant_id: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api_response("POST", "/contacts", tenant_id, body or NEW_CONTACT, headers=headers)


def _contacts(tenant_id: str) -> int:
    """The tenant's contact items in the Contacts table (not what the API says: what was written)."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(
        TableName=os.environ["CONTACTS_TABLE"],
        FilterExpression="begins_with(pk, :p) AND sk = :s",
        ExpressionAttributeValues={":p": {"S": f"{tenant_id}#CONTACT#"}, ":s": {"S": "CONTACT"}},
    )
    return sum(page["Count"] for page in pages)


def _other_tenant() -> str:
    tenant_id = f"t{uuid.uuid4().hex[:8]}"
    deps = dependencies()
    admin.register_tenant(deps, tenant_id=tenant_id, name="Other")
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales"))
    return tenant_id


def test_the_same_key_twice_creates_one_contact_and_replays_the_first_answer(tenant):
    key = str(uuid.uuid4())
    status, first, headers = _create(tenant.id, key=key)
    assert status == 201 and "Idempotent-Replayed" not in headers
    status, again, headers = _create(tenant.id, key=key)
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == ["true"]
    assert list(again) == list(first)  # the first answer as it was sent, not the same object reordered
    assert _contacts(tenant.id) == 1


def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(tenant):
    key = str(uuid.uuid4())
    _create(tenant.id, key=key)
    status, body, _ = _create(tenant.id, {**NEW_CONTACT, "customer_id": "c-2"}, key=key)
    assert status == 422 and body["error"] == "idempotency_key_reused" and body["field"] == "Idempotency-Key"
    assert _contacts(tenant.id) == 1


def test_the_same_key_in_two_tenants_creates_a_contact_in_each(tenant):
    other = _other_tenant()
    mine, theirs = _create(tenant.id, key="shared-key"), _create(other, key="shared-key")
    assert mine[0] == theirs[0] == 201 and mine[1]["contact_id"] != theirs[1]["contact_id"]
    assert "Idempotent-Replayed" not in theirs[2]
    assert _contacts(tenant.id) == _contacts(other) == 1


def test_without_the_header_every_post_creates(tenant):
    assert _create(tenant.id)[0] == _create(tenant.id)[0] == 201
    assert _contacts(tenant.id) == 2


def test_after_the_24_hours_the_key_creates_again(tenant):
    key = str(uuid.uuid4())
    _, first, _ = _create(tenant.id, key=key)
    db, table = boto3.client("dynamodb"), os.environ["IDEMPOTENCY_TABLE"]
    [item] = [i for i in db.scan(TableName=table)["Items"] if first["contact_id"] in i.get("data", {}).get("S", "")]
    assert item["id"]["S"].startswith("api#idempotency-key#") and item["status"]["S"] == "COMPLETED"
    assert abs(int(item["expiration"]["N"]) - (time.time() + 24 * 3600)) < 60
    # A day later: TTL deletes lazily, so the record may still be there, expired.
    db.update_item(TableName=table, Key={"id": item["id"]}, UpdateExpression="SET expiration = :past",
                   ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
    status, second, headers = _create(tenant.id, key=key)
    assert status == 201 and second["contact_id"] != first["contact_id"] and "Idempotent-Replayed" not in headers
    assert _contacts(tenant.id) == 2


def test_a_refused_request_is_not_kept_so_the_client_can_fix_it_and_retry(tenant):
    key = str(uuid.uuid4())
    status, body, _ = _create(tenant.id, {**NEW_CONTACT, "queue_id": "nowhere"}, key=key)
    assert status == 422 and body["field"] == "queue_id"
    status, body, _ = _create(tenant.id, {**NEW_CONTACT, "queue_id": "nowhere"}, key=key)
    assert status == 422 and body["field"] == "queue_id"  # the route ran again: nothing was stored
    status, _, headers = _create(tenant.id, key=key)
    assert status == 201 and "Idempotent-Replayed" not in headers
    assert _contacts(tenant.id) == 1


def test_a_malformed_key_is_refused_naming_the_header(tenant):
    status, body, _ = _create(tenant.id, key="x" * 129)
    assert status == 422 and body["error"] == "invalid_idempotency_key" and body["field"] == "Idempotency-Key"
    assert _contacts(tenant.id) == 0


@pytest.mark.parametrize("issue", ["/keys", "/keys/", "/keys//"])
def test_an_answer_that_carries_a_secret_is_never_stored_however_the_path_is_written(tenant, issue):
    """POST /keys and /keys/{id}/rotate answer an API key's secret once: with an Idempotency-Key the header is
    ignored there. The resolver routes "/keys/" (and a rotate path with trailing slashes) to the same route; the
    check read the path as written, so those forms stored the plaintext secret in the Idempotency table and
    replayed it to whoever repeated the key."""
    def idempotency_items() -> list[dict]:
        pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=os.environ["IDEMPOTENCY_TABLE"])
        return [item for page in pages for item in page["Items"]]

    before = len(idempotency_items())
    key = str(uuid.uuid4())
    first = api_response("POST", issue, tenant.id, {"role": "supervisor"}, headers={"Idempotency-Key": key})
    again = api_response("POST", issue, tenant.id, {"role": "supervisor"}, headers={"Idempotency-Key": key})
    assert first[0] == again[0] == 201 and first[1]["api_key"] != again[1]["api_key"]  # two keys: nothing replayed
    rotated = api_response("POST", f"/keys/{first[1]['key_id']}/rotate//", tenant.id, None, headers={"Idempotency-Key": key + "r"})
    assert rotated[0] == 200, rotated
    stored = idempotency_items()
    assert len(stored) == before
    assert not any(secret in str(stored) for secret in (first[1]["api_key"], again[1]["api_key"], rotated[1]["api_key"]))
