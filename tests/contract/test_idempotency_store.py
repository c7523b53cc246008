"""One suite, two implementations: Powertools idempotency behaves the same on the in-memory twin
(ccaas.adapters.memory.idempotency) as on DynamoDBPersistenceLayer over the Idempotency table (moto)."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from ccaas.adapters.memory.idempotency import MemoryIdempotencyStore
from tests.aws_stack import function_environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture(params=["memory", "moto"])
def make_store(request, stack):
    """A fresh persistence layer per call (Powertools freezes one's configuration at first use)."""
    if request.param == "memory":
        return MemoryIdempotencyStore
    table = function_environment(stack, "serve_api")["IDEMPOTENCY_TABLE"]
    return lambda: DynamoDBPersistenceLayer(table_name=table, boto3_client=boto3.client("dynamodb"))


class Operation:
    """An idempotent function keyed by `key`, validated on `body`, counting its runs."""

    def __init__(self, store, *, expires_after_s: int = 3600) -> None:
        self.store, self.prefix, self.runs = store, f"contract-{uuid.uuid4().hex}", 0
        self.config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body",
                                        expires_after_seconds=expires_after_s, hash_function="sha256",
                                        lambda_context=SimpleNamespace(get_remaining_time_in_millis=lambda: 10_000))
        self.store.configure(self.config, key_prefix=self.prefix)

        def run(request: dict) -> dict:
            self.runs += 1
            if request["body"] == "boom":
                raise RuntimeError("boom")
            return {"run": self.runs}

        self._call = idempotent_function(run, data_keyword_argument="request", persistence_store=store,
                                         config=self.config, key_prefix=self.prefix)

    def __call__(self, key: str, body: str = "b") -> dict:
        return self._call(request={"key": key, "body": body})


def test_a_completed_record_is_replayed(make_store):
    op = Operation(make_store())
    assert op("k") == op("k") == {"run": 1} and op.runs == 1
    assert op("other") == {"run": 2}


def test_the_same_key_with_another_payload_is_refused(make_store):
    op = Operation(make_store())
    op("k", "first")
    with pytest.raises(IdempotencyValidationError):
        op("k", "second")
    assert op.runs == 1 and op("k", "first") == {"run": 1}


def test_a_failed_run_leaves_no_record(make_store):
    op = Operation(make_store())
    with pytest.raises(RuntimeError):
        op("k", "boom")
    with pytest.raises(RuntimeError):
        op("k", "boom")
    assert op.runs == 2 and op("k") == {"run": 3}


def test_an_in_progress_record_holds_its_key_until_its_invocation_times_out(make_store):
    op = Operation(make_store())
    op.store.save_inprogress({"key": "k", "body": "b"}, remaining_time_in_millis=60_000)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        op("k")
    op.store.save_inprogress({"key": "late", "body": "b"}, remaining_time_in_millis=-1_000)  # timed out
    assert op("late") == {"run": 1}


def test_an_expired_record_is_overwritten(make_store):
    op = Operation(make_store(), expires_after_s=-5)  # every record is stored already expired
    assert op("k") == {"run": 1} and op("k") == {"run": 2}
