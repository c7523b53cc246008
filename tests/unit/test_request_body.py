"""The body check before Powertools parses a request: each class of body that used to be a 500."""
from __future__ import annotations

import base64
import json

import pytest

from ccaas.api.request_body import MAX_BODY_BYTES, MAX_DEPTH, BodyProblem, normalise


def event(body, *, content_type: str | None = "application/json", b64: bool = False, method: str = "POST") -> dict:
    headers = {} if content_type is None else {"content-type": content_type}
    return {"httpMethod": method, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "body": body, "isBase64Encoded": b64}


def problem(e: dict) -> BodyProblem:
    with pytest.raises(BodyProblem) as caught:
        normalise(e)
    return caught.value


def test_a_body_that_is_not_utf8_is_a_400_saying_so():
    found = problem(event(base64.b64encode(b'{"a": "\xff\xfe"}').decode(), b64=True))
    assert (found.status, found.code) == (400, "invalid_body") and "UTF-8" in found.message


def test_json_nested_past_the_recursion_limit_is_a_400_not_a_recursion_error():
    assert problem(event("[" * 100_000)).status == 400
    just_too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert "nests deeper" in problem(event(just_too_deep)).message
    deep_enough = '{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    assert normalise(event(deep_enough))["body"] == deep_enough


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_python_would_accept_are_refused(constant):
    found = problem(event(f'{{"sl_target": {constant}}}'))
    assert found.status == 400 and constant.lstrip("-") in found.message


def test_malformed_json_names_line_and_column():
    found = problem(event('{"channel": "VOICE",\n "queue_id": }'))
    assert found.status == 400 and "line 2 column" in found.message


def test_an_oversized_body_is_a_413_before_it_is_parsed():
    found = problem(event(json.dumps({"name": "x" * MAX_BODY_BYTES})))
    assert found.status == 413 and str(MAX_BODY_BYTES) in found.message


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "text/plain; charset=utf-8",
                                          "application/x-www-form-urlencoded"])
def test_a_json_body_without_a_json_content_type_is_read_as_json(content_type):
    read = normalise(event('{"status": "AVAILABLE"}', content_type=content_type))
    assert read["headers"]["Content-Type"] == "application/json"
    assert [k for k in read["headers"] if k.lower() == "content-type"] == ["Content-Type"]
    assert read["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_a_body_that_is_not_json_under_another_media_type_is_a_415_naming_it():
    found = problem(event("<status>AVAILABLE</status>", content_type="application/xml"))
    assert found.status == 415 and "application/xml" in found.message
    assert problem(event("status=AVAILABLE", content_type="application/x-www-form-urlencoded")).status == 415
    assert problem(event("status=AVAILABLE", content_type="text/plain")).status == 400


def test_base64_bodies_are_decoded_and_vendor_json_types_accepted():
    read = normalise(event(base64.b64encode('{"name": "Zoë"}'.encode()).decode(), b64=True,
                           content_type="application/merge-patch+json"))
    assert json.loads(read["body"]) == {"name": "Zoë"} and read["isBase64Encoded"] is False


def test_a_get_request_body_is_ignored():
    assert normalise(event("\udcff not json", method="GET"))["body"] is None
