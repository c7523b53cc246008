"""A JSON body that gives a key twice in one object is a 400 `duplicate_key` naming the key and where it is, never
its value, through the real serve_api handler (ccaas.api.request_body). Python's json keeps the last value; a
gateway or WAF in front may check the first: one body read two ways lets a value past a check."""
from __future__ import annotations

import json

import pytest

from ccaas.api import request_body
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

SECRET = "4111 1111 1111 1111"  # a value that must never come back in the answer
CAMPAIGN = {"campaign_id": "dup", "name": "Dup", "mode": "progressive", "queue_id": "sales", "caller_id": "+12125550199"}
NY = "America/New_York"


def _row(i: int) -> str:
    return json.dumps({"row_id": f"r{i:05d}", "phone": f"+1212555{i:04d}", "time_zone": NY})


def _assert_duplicate(status: int, body: dict, headers: dict, key: str, where: str) -> None:
    """The documented error body (ErrorBody), as every other body problem is answered."""
    assert status == 400, body
    assert headers["Content-Type"] == ["application/json"]
    assert set(body) == {"error", "message", "field"} and body["error"] == "duplicate_key", body
    assert body["field"] == "body" and f'"{key}"' in body["message"] and f"(at {where})" in body["message"], body
    assert SECRET not in body["message"] and "4111" not in json.dumps(body), body


@pytest.fixture
def campaign(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    return tenant


@pytest.mark.parametrize(("raw", "key", "where"), [
    (f'{{"name": "Q", "channels": ["VOICE"], "name": "{SECRET}"}}', "name", "name"),
    # the same key spelled with an escape: what a gateway matching the raw text would miss
    (f'{{"name": "Q", "channels": ["VOICE"], "\\u006eame": "{SECRET}"}}', "name", "name"),
    (f'{{"name": "{SECRET}", "channels": ["VOICE"], "name": "{SECRET}"}}', "name", "name"),  # same value twice too
])
def test_a_top_level_key_given_twice_is_a_400_and_nothing_is_written(tenant, raw, key, where):
    _assert_duplicate(*api_response("PUT", "/queues/twice", tenant.id, raw_body=raw), key=key, where=where)
    assert "twice" not in [q["queue_id"] for q in api("GET", "/queues", tenant.id)[1]]
    status, body = api("PUT", "/queues/twice", tenant.id, {"name": "Q", "channels": ["VOICE"]})
    assert status == 200, body  # the same body with each key once


def test_a_key_given_twice_in_a_nested_object_is_named_by_its_path(tenant):
    raw = f'{{"channel": "VOICE", "queue_id": "sales", "attributes": {{"tier": "gold", "tier": "{SECRET}"}}}}'
    _assert_duplicate(*api_response("POST", "/contacts", tenant.id, raw_body=raw), key="tier", where="attributes.tier")


def test_a_json_list_upload_names_the_row_and_stores_none_of_it(campaign):
    """10,000 rows (the documented maximum, ~1 MB here): the one row that gives `phone` twice is named by its index,
    and no row of the upload is stored; the same rows with each key once load."""
    rows = [_row(i) for i in range(10_000)]
    rows[9_998] = f'{{"row_id": "r09998", "phone": "+12125559998", "time_zone": "{NY}", "phone": "{SECRET}"}}'
    raw = '{"format": "json", "rows": [' + ", ".join(rows) + "]}"
    assert len(raw) > request_body.MAX_BODY_BYTES // 2
    _assert_duplicate(*api_response("POST", "/campaigns/dup/lists", campaign.id, raw_body=raw),
                      key="phone", where="rows[9998].phone")
    assert api("GET", "/campaigns/dup/rows/r00000", campaign.id)[0] == 404
    status, body, _ = api_response("POST", "/campaigns/dup/lists", campaign.id,
                                   raw_body='{"format": "json", "rows": [' + ", ".join(rows[:3]) + "]}")
    assert status == 200 and body["accepted"] == 3, body  # the same keys in different objects are no duplicate


@pytest.mark.parametrize(("raw", "code"), [
    ('{"name": "Q", "name": "R", "priority": NaN}', "invalid_json"),         # a constant JSON has not
    ('{"name": "Q", "name": "R", "priority": 1' + "0" * 40 + "}", "invalid_json"),  # more digits than we store
    ('{"name": "Q", "name": "R"} trailing', "invalid_json"),                # not JSON at all
    ('{"name": "Q", "name": "R", "x": ' + "[" * 40 + "]" * 40 + "}", "invalid_json"),  # deeper than 32 levels
    ('{"name": "Q", "name": "\\ud800"}', "invalid_json"),                   # a lone surrogate
])
def test_a_duplicate_key_is_named_only_in_a_body_with_no_other_problem(tenant, raw, code):
    """The documented precedence (ccaas.api.request_body): every other problem is answered first."""
    status, body, _ = api_response("PUT", "/queues/both", tenant.id, raw_body=raw)
    assert status == 400 and body["error"] == code, body
    status, body, _ = api_response("PUT", "/queues/both", tenant.id, raw_body=raw, content_type="application/xml")
    assert status == (415 if "trailing" in raw else 400), body  # JSON is JSON whatever its type; non-JSON a 415


def test_a_duplicate_key_in_an_oversized_body_is_a_413():
    raw = '{"name": "Q", "name": "' + "q" * request_body.MAX_BODY_BYTES + '"}'
    event = {"httpMethod": "PUT", "path": "/queues/big", "body": raw, "isBase64Encoded": False, "headers": {}}
    with pytest.raises(request_body.BodyProblem) as info:
        request_body.normalise(event)
    assert info.value.status == 413


def test_the_openapi_document_lists_duplicate_key_with_the_other_body_codes(tenant):
    status, document = api("GET", "/openapi.json", tenant.id)
    assert status == 200
    description = document["paths"]["/queues/{queue_id}"]["put"]["responses"]["400"]["description"]
    assert all(code in description for code in ("invalid_body", "invalid_json", "duplicate_key")), description
