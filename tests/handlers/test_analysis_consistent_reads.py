"""The evaluation's read-merge-write asks DynamoDB for a consistent read, first and after a conflict: an
eventually consistent re-read may return the same stale version on every retry, and three retries would
all lose (409). moto's reads are always consistent, so a spy on the adapter's client checks what is asked;
a concurrent override lands between the first read and the write, so the retry path really runs."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ccaas.adapters.aws.history import DynamoTranscriptStore, _key
from ccaas.bootstrap import dependencies
from tests.handlers.test_evaluation_handlers import scored  # noqa: F401 - fixture
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


class RacingClient:
    """The adapter's DynamoDB client, recording get_item calls; the first transaction of the analysis
    item is preceded by another writer's change (the stored version goes up by one)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.reads: list[dict[str, Any]] = []
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["Key"]["sk"]["S"].endswith("ANALYSIS"):
            self.reads.append(kwargs)
        return self._client.get_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        put = next((i["Put"] for i in kwargs["TransactItems"] if "Put" in i), None)
        if put is not None and not self.raced:
            self.raced = True
            key = {k: put["Item"][k] for k in ("pk", "sk")}
            held = self._client.get_item(TableName=put["TableName"], Key=key, ConsistentRead=True)["Item"]
            document = json.loads(held["analysis"]["S"])
            document["version"] = int(held["ver"]["N"]) + 1
            self._client.put_item(TableName=put["TableName"], Item={
                **held, "analysis": {"S": json.dumps(document)}, "ver": {"N": str(document["version"])}})
        return self._client.transact_write_items(**kwargs)


def test_an_override_that_loses_a_race_re_reads_consistently_and_lands(tenant, scored, monkeypatch):
    store = dependencies().transcripts
    assert isinstance(store, DynamoTranscriptStore)
    spy = RacingClient(store._db)  # noqa: SLF001 - the adapter's client, spied on
    monkeypatch.setattr(store, "_db", spy)
    before = api("GET", "/contacts/e1/evaluation", tenant.id, role="supervisor")[1]["version"]

    status, body = api("PUT", "/contacts/e1/evaluation/answers/no_prohibited_language", tenant.id,
                       {"answer": "yes", "comment": "banter"}, role="supervisor")
    assert status == 200, body
    assert spy.raced and body["version"] == before + 2  # the other writer's version, then this one
    assert len(spy.reads) >= 3  # GET above, the first read, the read after the conflict
    assert all(r.get("ConsistentRead") is True for r in spy.reads), spy.reads


def test_the_adapter_reads_consistently_unless_told_otherwise():
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    store = DynamoTranscriptStore(client, "History")
    key = {"TableName": "History", "Key": _key("t1", "c1", "ANALYSIS")}
    with Stubber(client) as stub:
        stub.add_response("get_item", {}, {**key, "ConsistentRead": True})
        stub.add_response("get_item", {}, {**key, "ConsistentRead": False})
        assert store.get_analysis("t1", "c1") is None
        assert store.get_analysis("t1", "c1", consistent=False) is None
        stub.assert_no_pending_responses()
