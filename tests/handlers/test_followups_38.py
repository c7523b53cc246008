"""Follow-ups of fix 38 through the real handlers on the stack in moto (unit tier: tests/unit/test_followups_38.py):
a campaign's required skill without its value is a 422 naming it, nothing written; its blackout dates are answered
sorted; an e-mail suppression that is no address is a 422 naming its entry (never quoting it, nothing stored) and one in
any form holds back the row with that address on the AWS store; the dial-outcome consumer rejects a record it cannot
read with a reason, counts and logs it (never its content)."""
from __future__ import annotations

import json
import uuid

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from ccaas.bootstrap import dependencies, memory_dependencies
from ccaas.domain.outbound.compliance import Suppression
from ccaas.domain.tenants import Tenant
from tests.lambda_harness import api, context, kinesis_event, load_module

CARD = "4111111111111111"
CAMPAIGN = {"name": "Probe", "mode": "progressive", "queue_id": "sales", "caller_id": "+12125550199"}


def test_a_campaign_requiring_a_skill_without_its_value_is_a_422_and_nothing_is_written(tenant):
    skills = [{"skill": "billing"}, {"skill": "language:"}]
    status, answer = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "campaign_id": "probe", "required_skills": skills})
    assert (status, answer["field"]) == (422, "required_skills[1].skill"), answer
    assert "no value after ':'" in answer["message"]
    assert api("GET", "/campaigns/probe", tenant.id)[0] == 404
    assert api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "campaign_id": "probe"})[0] == 201
    status, answer = api("PATCH", "/campaigns/probe", tenant.id, {"required_skills": skills})
    assert (status, answer["field"]) == (422, "required_skills[1].skill"), answer
    assert api("GET", "/campaigns/probe", tenant.id)[1]["required_skills"] == []


def test_a_campaign_answers_its_blackout_dates_sorted(tenant):
    days = ["2026-12-25", "2026-01-01", "2026-07-04", "2026-11-26", "2026-05-25"]
    status, created = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "campaign_id": "probe", "blackout_dates": days,
                                                            "window": {"weekdays": [5, 1, 3]}})
    assert status == 201, created
    for answer in (created, api("GET", "/campaigns/probe", tenant.id)[1]):
        assert answer["blackout_dates"] == sorted(days) and answer["window"]["weekdays"] == [1, 3, 5], answer


@pytest.mark.parametrize("email", ["<jo@example.com>", "mailto:jo@example.com", f"{CARD}@"])
def test_an_email_suppression_that_is_no_address_is_a_422_naming_it_and_nothing_is_stored(tenant, email):
    body = {"entries": [{"kind": "number", "value": "+12125550123"}, {"kind": "email", "value": email}]}
    status, answer = api("POST", "/suppressions", tenant.id, body)
    assert (status, answer["field"]) == (422, "entries.1.value"), answer
    assert email not in json.dumps(answer) and CARD not in json.dumps(answer)
    assert dependencies().outbound.match_suppression(tenant.id, "+12125550123", None, None) is None


def test_an_email_suppressed_in_any_form_holds_back_the_row_with_that_address_on_the_aws_store(tenant):
    status, answer = api("POST", "/suppressions", tenant.id,
                         {"entries": [{"kind": "email", "value": " JO@ＥＸＡＭＰＬＥ.com "}], "source": "probe"})
    assert status == 200, answer
    hit = dependencies().outbound.match_suppression(tenant.id, "+12125550101", "jo@example.com", None)
    assert hit is not None and hit.source == "probe"
    assert dependencies().outbound.match_suppression(tenant.id, "+12125550101", "ann@example.com", None) is None
    # whoever writes one (an import, not the API): kept under the key rows are matched by
    dependencies().outbound.add_suppressions(tenant.id, [Suppression(kind="email", value="ANN@ＥＸＡＭＰＬＥ.com",
                                                                     source="import")])
    assert dependencies().outbound.match_suppression(tenant.id, "+12125550101", "ann@example.com", None) is not None


# --- the dial-outcome consumer ------------------------------------------------------------------------------------

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"


def _ctr(**changes) -> bytes:
    ctr = {"ContactId": f"connect-{uuid.uuid4()}", "InstanceARN": INSTANCE, "InitiationMethod": "INBOUND",
           "Channel": "VOICE", "InitiationTimestamp": "2025-11-24T15:50:00Z", "DisconnectTimestamp": "2025-11-24T15:55:00Z"}
    return json.dumps({**ctr, **changes}).encode()


@pytest.fixture
def outcomes(monkeypatch):
    deps = memory_dependencies()  # FixedClock: 2025-11-24T16:00:00Z
    deps.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="UTC"))
    deps.config.put_connect_instance(INSTANCE, "acme")
    for name, value in {"POWERTOOLS_SERVICE_NAME": "record_dial_outcomes", "POWERTOOLS_METRICS_NAMESPACE": "CcaasTest",
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "DEBUG"}.items():
        monkeypatch.setenv(name, value)
    handler = load_module("record_dial_outcomes", prefix="followups38")
    monkeypatch.setattr(handler, "dependencies", lambda: deps)
    return handler


def test_the_dial_outcome_consumer_rejects_a_record_it_cannot_read_with_a_reason_and_counts_it(outcomes, logs, capsys):
    ids = {"ccaas_tenant_id": "acme", "ccaas_campaign_id": "c1", "ccaas_attempt_id": "a1"}
    batch = [
        _ctr(),  # an inbound call no agent took: skipped
        b"not json",
        _ctr(InitiationMethod="OUTBOUND", Attributes={**ids, "ccaas_row_id": "r" * 3000}),  # a key no store writes
        _ctr(InitiationTimestamp=f"call me +14155550199 card {CARD}"),
        _ctr(DisconnectTimestamp="2099-01-01T00:00:00Z"),  # ahead of the consumer's clock
    ]
    event = kinesis_event(batch)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    capsys.readouterr()
    response = outcomes.lambda_handler(event, context("record_dial_outcomes"))
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == sequences[1:]  # retried, then the DLQ
    reasons = {r.sequence_number: r.reason for r in logs.records if r.getMessage() == "dial outcome record rejected"}
    assert set(reasons) == set(sequences[1:]), reasons
    assert reasons[sequences[2]] == "Attributes.ccaas_row_id: not an id of ours"
    assert reasons[sequences[3]] == "InitiationTimestamp: not an ISO 8601 timestamp"
    assert reasons[sequences[4]].startswith("DisconnectTimestamp: more than 5 minutes ahead of now")
    (summary,) = [r for r in logs.records if r.getMessage() == "dial outcomes applied"]
    assert (summary.skipped, summary.rejected, summary.failed, summary.recorded) == (1, 4, 0, 0)
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()
              if line.startswith('{"_aws"') and "DialOutcomeRecordsRejected" in line]
    assert doc["DialOutcomeRecordsRejected"] == [4.0]
    assert CARD not in logs.text() and "+14155550199" not in logs.text() and "r" * 300 not in logs.text()


def test_a_batch_of_nothing_but_rejections_is_counted_and_still_fails(outcomes, logs):
    with pytest.raises(BatchProcessingError):
        outcomes.lambda_handler(kinesis_event([b"[1]", b"{}"]), context("record_dial_outcomes"))
    (summary,) = [r for r in logs.records if r.getMessage() == "dial outcomes applied"]
    assert (summary.rejected, summary.recorded) == (2, 0)
