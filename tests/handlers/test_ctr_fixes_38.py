"""Outside findings on the CTR stream consumers (fix 38): a batch whose every record fails is still counted and
summarised (and still fails), the records that crashed the consumer are rejections with a reason (counted,
logged without their content), and a store failure is retried without counting as a rejection. Handlers are
called as Lambda does, on the in-memory twins (memory_dependencies), and once on the stack in moto (the AWS
history store, where a surrogate and an overlong key had failed the write)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from ccaas.bootstrap import dependencies, memory_dependencies
from ccaas.domain.tenants import Tenant
from ccaas.usecases import admin
from tests.lambda_harness import context, kinesis_event, load_handler, load_module

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ctr" / "inbound_voice_answered.json"
CARD = "4111111111111111"
PHONE = "+14155550199"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def _ctr(contact_id: str, **changes) -> dict:
    return {**json.loads(FIXTURE.read_text()), "ContactId": contact_id, **changes}


def _bytes(ctr: dict) -> bytes:
    return json.dumps(ctr).encode()  # ensure_ascii: a lone surrogate travels as its "\ud800" escape


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = _ms("2026-12-01T00:00:00")
    d.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="UTC"))
    admin.register_connect_instance(d, tenant_id="acme", instance_arn=_ctr("x")["InstanceARN"])
    return d


@pytest.fixture
def load(monkeypatch, deps):
    def load_function(folder: str):
        for name, value in {"POWERTOOLS_SERVICE_NAME": folder, "POWERTOOLS_METRICS_NAMESPACE": "CcaasTest",
                            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "DEBUG"}.items():
            monkeypatch.setenv(name, value)
        module = load_module(folder, prefix="ctr38")
        monkeypatch.setattr(module, "dependencies", lambda: deps)
        return module

    return load_function


def _emf(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def _summary(logs, message: str):
    (line,) = [r for r in logs.records if r.getMessage() == message]
    return line


# --- #1: an all-failed batch is counted ------------------------------------------------------------------------
def test_a_batch_whose_every_record_is_rejected_is_counted_summarised_and_still_fails(load, logs, capsys):
    handler = load("consume_contact_records")
    stranger = "arn:aws:connect:us-east-1:111122223333:instance/00000000-0000-4000-8000-00000000dead"
    event = kinesis_event([_bytes(_ctr(f"c-{i}", InstanceARN=stranger)) for i in range(3)])
    capsys.readouterr()
    with pytest.raises(BatchProcessingError):  # still failing: retried, bisected, kept by the failure bucket
        handler.lambda_handler(event, context("consume_contact_records"))
    (doc,) = [d for d in _emf(capsys) if "ContactRecordsRejected" in d]
    assert (doc["ContactRecordsRejected"], doc["ContactRecordsStored"]) == ([3.0], [0.0])
    summary = _summary(logs, "contact records applied")
    assert (summary.rejected, summary.stored) == (3, 0)
    assert len([r for r in logs.records if r.getMessage() == "contact record rejected"]) == 3


def test_dial_outcomes_of_an_all_failed_batch_are_still_reported(load, logs, capsys):
    handler = load("record_dial_outcomes")
    capsys.readouterr()
    with pytest.raises(BatchProcessingError):
        handler.lambda_handler(kinesis_event([b"not json", b"[1]"]), context("record_dial_outcomes"))
    (doc,) = [d for d in _emf(capsys) if "DialOutcomesRecorded" in d]
    assert (doc["DialOutcomesRecorded"], doc["HumanAnswered"], doc["Abandoned"]) == ([0.0], [0.0], [0.0])
    assert _summary(logs, "dial outcomes applied").recorded == 0


def test_agent_activity_of_an_all_failed_batch_is_still_summarised(load, logs):
    handler = load("record_agent_activity")
    level = handler.logger.log_level
    handler.logger.setLevel("DEBUG")  # its summary is a DEBUG line (Powertools set the logger up once, at INFO)
    try:
        with pytest.raises(BatchProcessingError):
            handler.lambda_handler(kinesis_event([b"not an event", b"{}"]), context("record_agent_activity"))
    finally:
        handler.logger.setLevel(level)
    summary = _summary(logs, "agent activity applied")
    assert (summary.spans, summary.records) == (0, 2)


# --- #2, #3, #5: crashes become rejections with reasons; a store failure is retried, not a rejection -----------
def test_records_that_crashed_are_rejected_with_a_reason_and_a_throttle_is_retried_uncounted(load, deps, logs, capsys):
    handler = load("consume_contact_records")
    real_ingest = handler.ingest_ctr

    def ingest(d, ctr):
        if ctr.ContactId == "c-throttled":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                         "Message": "Rate exceeded"}}, "PutItem")
        return real_ingest(d, ctr)

    handler.ingest_ctr = ingest
    good = _ctr("c-good")
    batch = [
        good,
        _ctr("c-surrogate", Attributes={"reason": "caf\ud800e"}),  # stored, its text as U+FFFD
        _ctr("c-queue", Queue={**good["Queue"], "Duration": 1e308}),  # OverflowError before
        _ctr("c-hold", Agent={**good["Agent"], "CustomerHoldDuration": 1e308}),
        _ctr("c-" + "L" * 3000),  # DynamoDB's key limit on AWS
        _ctr("c-ts", InitiationTimestamp=f"call me {PHONE} card {CARD}"),
        _ctr("c-future", LastUpdateTimestamp="2099-01-01T00:00:00Z"),  # would freeze the record for good
        _ctr("c-throttled"),
    ]
    event = kinesis_event(_bytes(c) for c in batch)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    response = handler.lambda_handler(event, context("consume_contact_records"))
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == sequences[2:]
    assert deps.history.get_entry("acme", "c-surrogate").record.reason == "caf\ufffde"

    reasons = {r.sequence_number: r.reason for r in logs.records if r.getMessage() == "contact record rejected"}
    assert reasons == {
        sequences[2]: "Queue.Duration: Input should be less than or equal to 1296000",
        sequences[3]: "Agent.CustomerHoldDuration: Input should be less than or equal to 1296000",
        sequences[4]: "ContactId: String should have at most 256 characters",
        sequences[5]: "InitiationTimestamp: not an ISO 8601 timestamp",
        sequences[6]: "LastUpdateTimestamp: more than 5 minutes ahead of now",
    }
    (not_stored,) = [r for r in logs.records if r.getMessage() == "contact record not stored"]
    assert (not_stored.error, not_stored.sequence_number) == ("ClientError", sequences[7])
    summary = _summary(logs, "contact records applied")
    assert (summary.stored, summary.rejected, summary.failed) == (2, 5, 1)
    (doc,) = [d for d in _emf(capsys) if "ContactRecordsRejected" in d]
    assert doc["ContactRecordsRejected"] == [5.0]
    text = logs.text()
    assert CARD not in text and PHONE not in text and "L" * 300 not in text


def test_on_the_aws_store_a_surrogate_is_stored_as_u_fffd_and_an_overlong_id_is_rejected(tenant, env, logs):
    arn = f"arn:aws:connect:us-east-1:111122223333:instance/{uuid.uuid4()}"
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=arn)
    env("consume_contact_records")
    surrogate, overlong = f"c-{uuid.uuid4()}", "c-" + "L" * 3000
    batch = [_ctr(surrogate, InstanceARN=arn, Attributes={"reason": "caf\ud800e"}), _ctr(overlong, InstanceARN=arn)]
    event = kinesis_event(_bytes(c) for c in batch)
    response = load_handler("consume_contact_records")(event, context("consume_contact_records"))
    # before: the first failed its write (PydanticSerializationError), the second DynamoDB's 2,048-byte key limit
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}
    assert dependencies().history.get_entry(tenant.id, surrogate).record.reason == "caf\ufffde"
    (rejection,) = [r for r in logs.records if r.getMessage() == "contact record rejected"]
    assert (rejection.reason, rejection.rejected_contact_id) == ("ContactId: String should have at most 256 characters",
                                                                 None)
