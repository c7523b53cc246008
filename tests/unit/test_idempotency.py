"""The Idempotency-Key middleware on a small resolver with the in-memory persistence twin."""
from __future__ import annotations

import json
import time
import uuid
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from pydantic import BaseModel

from ccaas.adapters.memory.idempotency import MemoryIdempotencyStore
from ccaas.api.idempotency import (
    EXPIRES_AFTER_S, HEADER, KEY_PREFIX, REPLAYED_HEADER, IdempotencyKeyHeader, IdempotencyKeyMiddleware,
)
from ccaas.domain.models import DomainError


class Thing(BaseModel):
    name: str


class Api:
    """A resolver with the middleware, a creating route that counts its runs, and a way to call it."""

    def __init__(self) -> None:
        self.store = MemoryIdempotencyStore()
        self.created: list[str] = []
        self.remaining_ms = 5_000
        self.seen_in_progress: list[DataRecord] = []
        app = self.app = APIGatewayRestResolver(enable_validation=True)
        app.use(middlewares=[IdempotencyKeyMiddleware(lambda: self.store)])

        @app.exception_handler(DomainError)
        def _invalid(error: DomainError) -> Response:
            return Response(422, "application/json", {"error": error.code, "message": str(error)})

        @app.post("/things")
        def create(body: Thing) -> tuple[dict, int]:
            self.seen_in_progress.extend(self.store.records.values())
            if body.name == "bad":
                raise DomainError("bad name", field="name")
            if body.name == "teapot":
                return Response(418, "application/json", {"error": "teapot"})  # type: ignore[return-value]
            self.created.append(body.name)
            return {"id": len(self.created), "name": body.name}, 201

        @app.post("/things/<thing_id>/copy")
        def copy(thing_id: str) -> dict:
            self.created.append(f"copy of {thing_id}")
            return {"id": len(self.created)}

        @app.post("/documented")
        def documented(idempotency_key: IdempotencyKeyHeader = None) -> dict:
            self.created.append(f"documented {idempotency_key}")
            return {"id": len(self.created)}

    def call(self, path: str, body: Any = None, *, key: str | None = None, tenant: str | None = "t1", key_id: str = "k_1",
             method: str = "POST", headers: dict[str, str] | None = None, multi: dict[str, list[str]] | None = None,
             raw_body: str | None = None, context: Any = "default") -> tuple[int, Any, dict]:
        headers = {"content-type": "application/json", **({HEADER: key} if key is not None else {}), **(headers or {})}
        event = {
            "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": multi or {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
            "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method, "path": path,
                               "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                               "authorizer": {"tenant_id": tenant, "key_id": key_id, "principalId": tenant}
                               if tenant else None},
            "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
        }  # fmt: skip
        if context == "default":
            context = SimpleNamespace(get_remaining_time_in_millis=lambda: self.remaining_ms)
        response = self.app.resolve(event, context)
        out_headers = {k: v[0] if isinstance(v, list) else v for k, v in (response.get("multiValueHeaders") or response.get("headers") or {}).items()}
        return response["statusCode"], json.loads(response["body"]) if response["body"] else None, out_headers


@pytest.fixture
def api() -> Api:
    return Api()


def test_the_same_key_returns_the_first_response_and_creates_nothing(api):
    first = api.call("/things", {"name": "a"}, key="k-1")
    again = api.call("/things", {"name": "a"}, key="k-1")
    assert api.created == ["a"]
    assert first[0] == again[0] == 201 and first[1] == again[1] == {"id": 1, "name": "a"}
    assert REPLAYED_HEADER not in first[2] and again[2][REPLAYED_HEADER] == "true"
    assert again[2]["Content-Type"] == "application/json"
    [record] = api.store.records.values()
    assert record.idempotency_key.startswith(f"{KEY_PREFIX}#") and record.status == "COMPLETED"


def test_a_formatting_difference_is_not_a_different_body(api):
    api.call("/things", raw_body='{"name": "a"}', key="k-1")
    status, body, headers = api.call("/things", raw_body='{ "name":"a" }', key="k-1")
    assert status == 201 and headers[REPLAYED_HEADER] == "true" and api.created == ["a"]


def test_the_same_key_with_a_different_body_is_refused(api):
    api.call("/things", {"name": "a"}, key="k-1")
    status, body, _ = api.call("/things", {"name": "b"}, key="k-1")
    assert status == 422 and body["error"] == "idempotency_key_reused" and body["field"] == HEADER
    assert api.created == ["a"]


def test_keys_are_per_tenant_and_per_operation(api):
    api.call("/things", {"name": "a"}, key="k-1", tenant="t1")
    api.call("/things", {"name": "a"}, key="k-1", tenant="t2")
    api.call("/things/x/copy", key="k-1")
    api.call("/things/y/copy", key="k-1")
    assert api.created == ["a", "a", "copy of x", "copy of y"] and len(api.store.records) == 4


def test_two_credentials_of_one_tenant_never_share_an_answer(api):
    api.call("/things", {"name": "a"}, key="k-1", key_id="k_desk1")
    status, _, headers = api.call("/things", {"name": "a"}, key="k-1", key_id="k_desk2")
    assert status == 201 and REPLAYED_HEADER not in headers and api.created == ["a", "a"]


def test_without_the_header_or_outside_post_nothing_changes(api):
    api.call("/things", {"name": "a"})
    api.call("/things", {"name": "a"})
    assert api.created == ["a", "a"] and not api.store.records
    status, _, _ = api.call("/things", method="GET", key="k-1")
    assert status == 404 and not api.store.records  # no GET route; the key is ignored, not stored


def test_without_a_tenant_the_request_is_passed_on(api):
    status, body, _ = api.call("/things", {"name": "a"}, key="k-1", tenant=None)
    assert status == 201 and not api.store.records


@pytest.mark.parametrize("key", ["", " ", "x" * 129, "clé", "tab\there", "line\nbreak"])
def test_a_malformed_key_is_refused_naming_the_header(api, key):
    status, body, _ = api.call("/things", {"name": "a"}, key=key)
    assert status == 422 and body["error"] == "invalid_idempotency_key" and body["field"] == HEADER
    assert not api.created and not api.store.records


def test_the_longest_key_and_printable_punctuation_are_accepted(api):
    assert api.call("/things", {"name": "a"}, key="x" * 128)[0] == 201
    assert api.call("/things", {"name": "b"}, key="order 42 / retry: {#1}")[0] == 201


def test_two_different_values_of_the_header_are_refused(api):
    status, body, _ = api.call("/things", {"name": "a"}, key="k-2", multi={HEADER: ["k-1", "k-2"]})
    assert status == 422 and body["error"] == "invalid_idempotency_key" and not api.created
    status, _, _ = api.call("/things", {"name": "a"}, key="k-1", multi={HEADER.lower(): ["k-1"]})
    assert status == 201


def test_an_error_answer_is_not_kept_so_the_client_can_fix_and_retry(api):
    status, body, _ = api.call("/things", {"name": "bad"}, key="k-1")
    assert status == 422 and body["message"] == "bad name" and not api.store.records
    status, _, _ = api.call("/things", {"name": "teapot"}, key="k-1")
    assert status == 418 and not api.store.records
    status, body, headers = api.call("/things", {"name": "good"}, key="k-1")
    assert status == 201 and REPLAYED_HEADER not in headers and api.created == ["good"]


def test_a_body_failing_its_model_is_refused_before_the_key_is_used(api):
    status, body, _ = api.call("/things", {"nom": "a"}, key="k-1")
    assert status == 422 and not api.store.records
    assert api.call("/things", {"name": "a"}, key="k-1")[0] == 201


def test_the_record_is_kept_for_24_hours(api):
    api.call("/things", {"name": "a"}, key="k-1")
    [record] = api.store.records.values()
    assert abs(record.expiry_timestamp - (time.time() + EXPIRES_AFTER_S)) < 5
    api.store.age(EXPIRES_AFTER_S - 60)
    assert api.call("/things", {"name": "a"}, key="k-1")[2][REPLAYED_HEADER] == "true"
    api.store.age(120)
    status, body, headers = api.call("/things", {"name": "a"}, key="k-1")
    assert status == 201 and REPLAYED_HEADER not in headers and api.created == ["a", "a"]


def test_a_repeat_while_the_first_runs_is_a_409_until_its_invocation_ends(api):
    api.remaining_ms = 7_000
    api.call("/things", {"name": "a"}, key="k-1")
    [running] = api.seen_in_progress  # what a concurrent repeat would have found
    assert running.status == "INPROGRESS"
    # The in-progress lock ends when the first invocation's time does (the Lambda context's remaining time).
    assert abs(running.in_progress_expiry_timestamp - (time.time() * 1000 + 7_000)) < 2_000
    api.store.records[running.idempotency_key] = running
    status, body, headers = api.call("/things", {"name": "a"}, key="k-1")
    assert status == 409 and body["error"] == "idempotency_request_in_progress" and headers["Retry-After"] == "1"
    api.store.age(8)  # the first invocation timed out without an answer: the key is free again
    status, _, headers = api.call("/things", {"name": "a"}, key="k-1")
    assert status == 201 and REPLAYED_HEADER not in headers and api.created == ["a", "a"]


def test_without_a_lambda_context_the_lock_still_ends(api):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Powertools warns when it cannot bound the in-progress record
        api.call("/things", {"name": "a"}, key="k-1", context=None)
    [running] = api.seen_in_progress
    assert running.in_progress_expiry_timestamp is not None
    assert running.in_progress_expiry_timestamp < time.time() * 1000 + 60_000


def test_a_route_may_document_the_header(api):
    spec = api.app.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
    [param] = spec["paths"]["/documented"]["post"]["parameters"]
    assert param["in"] == "header" and param["name"].lower() == HEADER.lower() and "24 h" in param["description"]
    assert api.call("/documented", key="k-1")[1] == api.call("/documented", key="k-1")[1] == {"id": 1}
    status, body, _ = api.call("/documented", key="x" * 129)
    assert status == 422  # Powertools validates the declared header before the middleware runs
