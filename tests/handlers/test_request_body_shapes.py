"""The body's shape and content type, through the real serve_api handler (an outside probe of `make run`):

- A JSON array sent where the operation takes one object was read as its first element, the rest dropped without a
  word (`POST /contacts` with two contacts made one; `PUT /settings/transfers` with two settings stored the first):
  Powertools' form-data handling (`_normalize_field_value`) takes a list's first element for a field that is not a
  list. Now a 422 naming `body`, found from each operation's body model; the transcript upload, whose model takes a
  segment list, still takes one.
- A JSON body sent as `text/csv` (or `application/csv`) was a 415 on the JSON routes, against README "a JSON body is
  read as JSON whatever its content type says"; raw CSV text is for the route that reads CSV (the list upload)."""
from __future__ import annotations

import json
import os

import boto3
import pytest

from ccaas.api.app import ROUTES
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "shapes", "name": "Shapes", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}


def _contacts_of(tenant_id: str) -> int:
    """Items of the tenant in the Contacts table (whatever their kind): a refused request writes none."""
    table = os.environ["CONTACTS_TABLE"]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(
        TableName=table, FilterExpression="begins_with(pk, :t)", ExpressionAttributeValues={":t": {"S": tenant_id}})
    return sum(page["Count"] for page in pages)


def _refused_naming_body(status: int, body: dict) -> None:
    assert status == 422 and body["error"] == "validation_error" and body["field"] == "body", body
    assert body["detail"][0]["loc"] == ["body"] and "dictionary" in body["message"], body


# ---- a JSON array where the operation takes an object --------------------------------------------------------
def test_every_operation_whose_body_model_is_an_object_refuses_an_array_and_only_a_list_model_takes_one():
    """From the routes' own models, not a hand list: every operation with a body is refused an array, but those whose
    model takes a list (today the transcript upload: `{"segments": [...]}` or the segment list itself)."""
    from ccaas.api.request_body import list_where_an_object_goes

    with_body = [r for r in ROUTES if r.dependant.body_params]
    takes_a_list = {f"{r.method} {r.path}" for r in with_body if not list_where_an_object_goes(r, [{}, {}])}
    assert takes_a_list == {"POST /contacts/<contact_id>/transcript"}
    assert len(with_body) > 25
    for route in with_body:
        for array in ([{}, {}], [], [1, "x"]):
            refused = list_where_an_object_goes(route, array)
            assert not refused or all(tuple(e["loc"]) == ("body",) for e in refused), (route.path, refused)
        assert list_where_an_object_goes(route, {"a": 1}) == []  # an object is left to the model


def test_two_contacts_in_an_array_are_a_422_and_no_contact_is_made(tenant):
    before = _contacts_of(tenant.id)
    status, body = api("POST", "/contacts", tenant.id,
                       [{"channel": "VOICE", "queue_id": "sales"}, {"channel": "CHAT", "queue_id": "sales"}])
    _refused_naming_body(status, body)
    assert _contacts_of(tenant.id) == before
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    assert status == 201, body  # one contact as an object


def test_settings_given_as_an_array_are_a_422_and_nothing_is_stored(tenant):
    status, before = api("GET", "/settings/transfers", tenant.id)
    assert status == 200
    _refused_naming_body(*api("PUT", "/settings/transfers", tenant.id, [{"max_segments": 3}, {"max_segments": 7}]))
    _refused_naming_body(*api("PUT", "/settings/transfers", tenant.id, [{"max_segments": 3}]))  # one element too
    assert api("GET", "/settings/transfers", tenant.id) == (200, before)
    assert api("PUT", "/settings/transfers", tenant.id, {"max_segments": 3})[1]["max_segments"] == 3


@pytest.mark.parametrize(("method", "path", "element"), [
    ("PUT", "/customers/c1", {"tier": "gold"}),
    ("PUT", "/queues/billing", {"name": "Billing", "channels": ["VOICE"]}),
    ("PUT", "/agents/bo", {"name": "Bo"}),
    ("PUT", "/routing/policy", {}),
    ("PUT", "/alerts/rules", {}),
    ("PUT", "/settings/kpis", {}),
    ("PUT", "/settings/analytics", {}),
    ("POST", "/keys", {"role": "supervisor"}),
    ("POST", "/forecast/what-if", {"queue": "sales", "date": "2026-12-01", "agents": 3}),
])
def test_an_array_is_a_422_naming_body_wherever_the_body_is_an_object(tenant, method, path, element):
    _refused_naming_body(*api(method, path, tenant.id, [element, element]))


def test_a_campaign_patch_given_as_an_array_changes_nothing(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    status, created = api("POST", "/campaigns", tenant.id, CAMPAIGN)
    assert status == 201, created
    _refused_naming_body(*api("PATCH", "/campaigns/shapes", tenant.id, [{"name": "Renamed"}, {"name": "Other"}]))
    assert api("GET", "/campaigns/shapes", tenant.id)[1]["name"] == "Shapes"


def test_the_transcript_upload_still_takes_a_segment_list(tenant):
    segments = [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1000, "text": "Hello, how can I help?"},
                {"speaker": "CUSTOMER", "begin_ms": 1200, "end_ms": 2500, "text": "My invoice is wrong."}]
    cid = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})[1]["contact_id"]
    status, summary = api("POST", f"/contacts/{cid}/transcript", tenant.id, segments)
    assert status == 201, summary
    status, analysis = api("GET", f"/contacts/{cid}/analysis", tenant.id)
    assert status == 200 and len(analysis["segments"]) == 2, analysis  # both segments, not the first alone


# ---- a JSON body under a CSV content type ---------------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/csv", "application/csv", "text/csv; charset=utf-8"])
def test_a_json_body_sent_as_csv_is_read_as_json_on_a_json_route(tenant, content_type):
    status, contact, _ = api_response("POST", "/contacts", tenant.id, raw_body=json.dumps(
        {"channel": "VOICE", "queue_id": "sales"}), content_type=content_type)
    assert status == 201 and contact["queue_id"] == "sales", contact
    status, customer, _ = api_response("PUT", "/customers/csv-typed", tenant.id, raw_body=json.dumps(
        {"tier": "gold", "emails": ["a@example.com"]}), content_type=content_type)
    assert status == 200 and customer["tier"] == "gold", customer


def test_csv_text_on_a_json_route_is_a_415_naming_body_and_nothing_is_made(tenant):
    before = _contacts_of(tenant.id)
    status, body, _ = api_response("POST", "/contacts", tenant.id, raw_body="channel,queue_id\nVOICE,sales\n",
                                   content_type="text/csv")
    assert status == 415 and body["error"] == "unsupported_media_type" and body["field"] == "body", body
    assert _contacts_of(tenant.id) == before


def test_the_list_upload_still_reads_a_csv_body_as_csv_even_when_it_is_also_json(tenant):
    """`"phone"` alone is a JSON string and a one-column CSV file with a header and no rows: the route that takes CSV
    reads it as CSV (a file without rows), never as JSON (a string where the JSON upload's object goes)."""
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    status, body, _ = api_response("POST", "/campaigns/shapes/lists", tenant.id, raw_body='"phone"',
                                   content_type="text/csv")
    assert status == 422 and body["field"] == "body" and "dictionary" not in body["message"], body
    csv = "row_id,phone,time_zone\nr1,+12125550101,America/New_York\n"
    status, loaded, _ = api_response("POST", "/campaigns/shapes/lists", tenant.id, raw_body=csv,
                                     content_type="text/csv")
    assert status == 200 and loaded["accepted"] == 1, loaded
