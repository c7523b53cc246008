"""The HTTP API against its own contract, from an outside review (C27): what a body, a path spelling or a query
string the client chose did that the OpenAPI document and README do not say."""
from __future__ import annotations

import json
import os
import uuid
from urllib.parse import urljoin

import boto3
import pytest

from tests.lambda_harness import api, api_response, authorizer_context, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _contacts(tenant_id: str) -> int:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(
        TableName=os.environ["CONTACTS_TABLE"], FilterExpression="begins_with(pk, :p) AND sk = :s",
        ExpressionAttributeValues={":p": {"S": f"{tenant_id}#CONTACT#"}, ":s": {"S": "CONTACT"}},
    )
    return sum(page["Count"] for page in pages)


def _with_query(method: str, path: str, tenant_id: str, query: list[tuple[str, str]]) -> tuple[int, dict]:
    """serve_api with a query string that repeats names (the harness sends each name once): the event API Gateway
    builds, the last value in queryStringParameters, all of them in multiValueQueryStringParameters."""
    multi: dict[str, list[str]] = {}
    for name, value in query:
        multi.setdefault(name, []).append(value)
    event = {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()}, "multiValueQueryStringParameters": multi,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method, "path": f"/v1{path}",
                           "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": authorizer_context(method, path, tenant_id)},
        "body": None, "isBase64Encoded": False,
    }  # fmt: skip
    response = load_handler("serve_api")(event, context("serve_api"))
    return response["statusCode"], json.loads(response["body"])


# -- 1. a lone surrogate ------------------------------------------------------------------------------
@pytest.mark.parametrize("document", [
    '{"segments":[{"speaker":"CUSTOMER","text":"my card \\ud800 please","begin_ms":0,"end_ms":1000}]}',
    '[{"participant_role":"CUSTOMER","content":"hi \\udfff","absolute_time":"2026-12-05T05:00:00Z"}]',
    '{"segments":[{"speaker":"CUSTOMER","text":"ok","begin_ms":0,"end_ms":1000,"\\udc00":1}]}',
])
def test_a_lone_utf16_surrogate_in_any_typed_body_is_a_400_not_a_5xx(tenant, document):
    """`json.loads` takes `"\\ud800"`; the transcript body is typed Any, so nothing refused it until the
    analysis encoded the text: a 502. It cannot be UTF-8 (RFC 8259 8.2): 400 invalid_json naming the body."""
    cid = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[1]["contact_id"]
    status, body, _ = api_response("POST", f"/contacts/{cid}/transcript", tenant.id, raw_body=document)
    assert status == 400 and body["error"] == "invalid_json" and body["field"] == "body", body
    assert "surrogate" in body["message"]
    paired = '{"segments":[{"speaker":"CUSTOMER","text":"ok \\ud83d\\ude00","begin_ms":0,"end_ms":1000}]}'
    status, body, _ = api_response("POST", f"/contacts/{cid}/transcript", tenant.id, raw_body=paired)
    assert status == 201, body  # a pair is one character (an emoji): still taken


# -- 2. a 422 of bounded size -------------------------------------------------------------------------
def test_a_body_of_unknown_fields_answers_a_small_422_that_counts_the_rest(tenant):
    """95,000 unknown keys in a 1 MiB body were an 8.5 MB 422, over Lambda's 6 MB answer (a 502 on AWS)."""
    payload = {"status": "AVAILABLE", **{f"u{i}": 0 for i in range(80_000)}}
    status, body, _ = api_response("PUT", "/agents/ana/status", tenant.id, payload, role="supervisor")
    assert status == 422 and body["error"] == "validation_error", str(body)[:300]
    assert len(body["detail"]) == 10 and body["more_problems"] == 79_990
    assert body["message"].endswith("; and 79,990 more") and body["field"] == "u0"
    assert len(json.dumps(body)) < 5_000


def test_a_long_unknown_field_name_is_cut_in_the_422(tenant):
    """A field name is the client's own text, repeated in `message`, `field` and `loc`: 300,000 characters that
    JSON escapes to 6 bytes each made one name ~5 MB of answer."""
    raw = json.dumps({"status": "AVAILABLE", "é" * 300_000: 0}, ensure_ascii=False)  # 600 KB of UTF-8
    status, body, _ = api_response("PUT", "/agents/ana/status", tenant.id, raw_body=raw, role="supervisor")
    assert status == 422 and len(json.dumps(body)) < 2_000, str(body)[:300]
    assert body["field"] == "é" * 64 + "…" and body["detail"][0]["loc"] == ["body", "é" * 64 + "…"]


# -- 3. Idempotency-Key across spellings of one path -----------------------------------------------------
@pytest.mark.parametrize("retry_path", ["/contacts/", "/contacts//"])
def test_a_retry_with_a_trailing_slash_replays_instead_of_creating_a_second_contact(tenant, retry_path):
    key, payload = str(uuid.uuid4()), {"channel": "VOICE", "queue_id": "sales"}
    status, first, _ = api_response("POST", "/contacts", tenant.id, payload, headers={"Idempotency-Key": key})
    assert status == 201
    status, again, headers = api_response("POST", retry_path, tenant.id, payload, headers={"Idempotency-Key": key})
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == ["true"]
    assert _contacts(tenant.id) == 1


def test_a_percent_encoded_id_is_the_same_operation_and_another_id_is_not(tenant):
    key = str(uuid.uuid4())
    one, two = (api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})[1]["contact_id"]
                for _ in range(2))
    status, first, _ = api_response("POST", f"/contacts/{one}/abandon", tenant.id, headers={"Idempotency-Key": key})
    assert status == 200, first
    encoded = one.replace("-", "%2D", 1)
    status, again, headers = api_response("POST", f"/contacts/{encoded}/abandon", tenant.id,
                                          headers={"Idempotency-Key": key})
    assert (status, again, headers.get("Idempotent-Replayed")) == (200, first, ["true"])
    status, other, headers = api_response("POST", f"/contacts/{two}/abandon", tenant.id,
                                          headers={"Idempotency-Key": key})
    assert status == 200 and other["contact_id"] == two and "Idempotent-Replayed" not in headers


# -- 4. paging links ------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["/queues", "/queues/", "/queues//"])
def test_the_next_page_link_resolves_to_the_same_list_however_the_path_was_written(tenant, spelling):
    """A relative `<queues?after=…>` from `/v1/queues/` resolved to `/v1/queues/queues?…` (a 404): the client got
    only the first page. The link is the requested path (stage included) without its trailing slashes."""
    for queue_id in ("q-a", "q-b"):
        assert api("PUT", f"/queues/{queue_id}", tenant.id, {"name": queue_id})[0] == 200
    status, page, headers = api_response("GET", spelling, tenant.id, query={"limit": "1"})
    assert status == 200 and len(page) == 1
    link = headers["Link"][0]
    assert link == f'</v1/queues?after={page[0]["queue_id"]}&limit=1>; rel="next"'
    target = urljoin(f"https://api.example.com/v1{spelling}?limit=1", link[1:link.index(">")])
    assert target.startswith("https://api.example.com/v1/queues?after=")


def test_a_chats_next_page_link_keeps_the_contact_path(tenant):
    cid = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[1]["contact_id"]
    for n in range(2):
        message = {"participant_role": "CUSTOMER", "content": f"m{n}"}
        assert api("POST", f"/contacts/{cid}/messages", tenant.id, message)[0] == 201
    status, _, headers = api_response("GET", f"/contacts/{cid}/messages/", tenant.id, query={"limit": "1"})
    assert status == 200 and headers["Link"][0].startswith(f"</v1/contacts/{cid}/messages?after="), headers


def test_the_paged_operations_document_their_link_header(tenant):
    status, document = api("GET", "/openapi.json", None)
    assert status == 200
    for path in ("/agents", "/queues", "/alerts", "/contacts/{contact_id}/messages"):
        ok = document["paths"][path]["get"]["responses"]["200"]
        assert "Link" in ok.get("headers", {}), path
        assert "application/json" in ok["content"], path  # the list's schema is kept beside the header


# -- 6. which field ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "null"])
def test_no_body_where_one_is_needed_is_a_400_naming_body(tenant, raw):
    status, body, _ = api_response("POST", "/contacts", tenant.id, raw_body=raw)
    assert status == 400 and body["error"] == "invalid_json" and body["field"] == "body", body
    assert _contacts(tenant.id) == 0


@pytest.mark.parametrize("raw", ["[]", "1", '"contact"'])
def test_a_body_of_the_wrong_kind_is_a_422_naming_body(tenant, raw):
    status, body, _ = api_response("POST", "/contacts", tenant.id, raw_body=raw)
    assert status == 422 and body["field"] == "body", body


def test_a_blank_body_where_none_is_needed_is_no_body(tenant):
    cid = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})[1]["contact_id"]
    status, body, _ = api_response("POST", f"/contacts/{cid}/abandon", tenant.id, raw_body="  \n")
    assert status != 400 and status < 500, body


@pytest.mark.parametrize("path, query, field", [
    ("/queues", [("limit", "1"), ("limit", "2")], "limit"),
    ("/queues", [("limit", "1"), ("limit", "1")], "limit"),
    ("/alerts", [("status", "all"), ("status", "bogus")], "status"),
])
def test_a_query_parameter_given_twice_is_a_422_saying_so(tenant, path, query, field):
    status, body = _with_query("GET", path, tenant.id, query)
    assert status == 422 and body["field"] == field, body
    assert body["detail"][0]["type"] == "duplicate_parameter" and "given 2 times" in body["message"], body


# -- 7. methods ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/queues/sales", "PUT"),
    ("PATCH", "/agents/ana", "GET, HEAD, PUT"),
    ("POST", "/queues", "GET, HEAD"),
])
def test_a_known_path_with_a_method_it_does_not_take_is_a_405_with_allow(tenant, method, path, allow):
    status, body, headers = api_response(method, path, tenant.id, {} if method != "DELETE" else None, role="admin")
    assert status == 405 and body["error"] == "method_not_allowed" and headers["Allow"] == [allow], (body, headers)
    assert api_response("GET", "/nothing-here", tenant.id, role="admin")[0] == 404


def test_head_answers_as_get(tenant):
    """HEAD gets GET's answer whole: API Gateway sends HEAD no body and the Content-Length of this one."""
    get_status, get_body, get_headers = api_response("GET", "/queues", tenant.id, query={"limit": "1"}, role="supervisor")
    event_status, body, headers = api_response("HEAD", "/queues", tenant.id, query={"limit": "1"}, role="supervisor")
    assert event_status == get_status == 200 and body == get_body, body
    assert headers["Content-Type"] == get_headers["Content-Type"]
