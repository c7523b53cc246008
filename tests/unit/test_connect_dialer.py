"""The Amazon Connect dialer (StartOutboundVoiceContact, checked with botocore's Stubber) and the outcome of a
campaign call read back from its contact record."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from ccaas.adapters.aws.outbound import AwsDialers, ConnectDialer
from ccaas.adapters.memory.outbound import SimulatedDialer
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.kpis.ctr import MalformedContactRecord
from ccaas.domain.models import DomainError
from ccaas.domain.outbound.models import Attempt, CampaignMode, Disposition
from ccaas.ports_outbound import AttemptRecord, DialerSettings, DialRequest
from ccaas.usecases import outbound

SETTINGS = DialerSettings(kind="connect", instance_id="1b2c3d4e-0000-4000-8000-000000000001", contact_flow_id="flow-1",
                          queues={"sales": "queue-9"})
REQUEST = DialRequest(tenant_id="t1", campaign_id="c1", row_id="r1", attempt_id="atabcdefghij-klmnopqrstuvwx",
                      number="+12125550101", caller_id="+12125550199", queue_id="sales", mode=CampaignMode.PREDICTIVE)
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"


def test_connect_dialer_starts_an_outbound_voice_contact_carrying_our_ids():
    client = boto3.client("connect", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("start_outbound_voice_contact", {"ContactId": "connect-contact-1"}, {
            "DestinationPhoneNumber": "+12125550101", "ContactFlowId": "flow-1", "InstanceId": SETTINGS.instance_id,
            "ClientToken": REQUEST.attempt_id, "SourcePhoneNumber": "+12125550199", "QueueId": "queue-9",
            "Attributes": {"ccaas_tenant_id": "t1", "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                           "ccaas_attempt_id": REQUEST.attempt_id, "ccaas_mode": "predictive"},
            "AnswerMachineDetectionConfig": {"EnableAnswerMachineDetection": True, "AwaitAnswerMachinePrompt": True},
        })
        handle = ConnectDialer(client, SETTINGS).dial(REQUEST)
        stub.assert_no_pending_responses()
    assert handle.provider_id == "connect-contact-1"


def test_a_refused_dial_raises_and_outcomes_are_not_polled():
    client = boto3.client("connect", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("start_outbound_voice_contact", "LimitExceededException", http_status_code=429)
        with pytest.raises(Exception, match="LimitExceeded"):
            ConnectDialer(client, SETTINGS).dial(REQUEST)
    record = AttemptRecord(tenant_id="t1", dial_mode=CampaignMode.PREDICTIVE, campaign_version=1, attempt=Attempt(
        attempt_id=REQUEST.attempt_id, campaign_id="c1", row_id="r1", number="+12125550101",
        started_at=datetime(2025, 1, 1, tzinfo=timezone.utc)))
    assert ConnectDialer(client, SETTINGS).poll(record, datetime(2026, 1, 1, tzinfo=timezone.utc)) is None
    with pytest.raises(ValueError):
        ConnectDialer(client, DialerSettings(kind="connect"))


def test_the_factory_picks_the_tenants_dialer():
    made = []
    dialers = AwsDialers(lambda: made.append(1) or boto3.client("connect", region_name="us-east-1"))
    assert isinstance(dialers(DialerSettings(kind="simulated")), SimulatedDialer) and made == []
    assert isinstance(dialers(SETTINGS), ConnectDialer) and isinstance(dialers(SETTINGS), ConnectDialer) and made == [1]


def _ctr(**kw):
    base = {"ContactId": "connect-contact-1", "InstanceARN": INSTANCE, "InitiationMethod": "OUTBOUND", "Channel": "VOICE",
            "InitiationTimestamp": "2025-11-24T16:00:00Z", "DisconnectTimestamp": "2025-11-24T16:03:00Z",
            "Attributes": {"ccaas_tenant_id": "t1", "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                           "ccaas_attempt_id": REQUEST.attempt_id}}
    return {**base, **kw}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"AnsweringMachineDetectionStatus": "VOICEMAIL_BEEP", "ConnectedToSystemTimestamp": "2025-11-24T16:00:20Z"}, Disposition.VOICEMAIL),
    ({"AnsweringMachineDetectionStatus": "SIT_TONE_BUSY"}, Disposition.BUSY),
    ({"AnsweringMachineDetectionStatus": "SIT_TONE_INVALID_NUMBER"}, Disposition.INVALID_NUMBER),
    ({"AnsweringMachineDetectionStatus": "HUMAN_ANSWERED", "ConnectedToSystemTimestamp": "2025-11-24T16:00:08Z",
      "Agent": {"ConnectedToAgentTimestamp": "2025-11-24T16:00:09Z"}}, Disposition.ANSWERED),
    ({"AnsweringMachineDetectionStatus": "HUMAN_ANSWERED", "ConnectedToSystemTimestamp": "2025-11-24T16:00:08Z"}, Disposition.ABANDONED),
    ({"DisconnectReason": "OUTBOUND_DESTINATION_ENDPOINT_ERROR"}, Disposition.INVALID_NUMBER),
    ({}, Disposition.NO_ANSWER),
])
def test_contact_records_map_to_dispositions(changes, expected):
    ids, outcome = outbound.outcome_from_ctr(_ctr(**changes))
    assert ids == {"tenant_id": "t1", "campaign_id": "c1", "row_id": "r1", "attempt_id": REQUEST.attempt_id}
    assert outcome.disposition is expected and outcome.at == datetime(2025, 11, 24, 16, 3, tzinfo=timezone.utc)


def test_other_contact_records_are_not_campaign_calls():
    assert outbound.outcome_from_ctr(_ctr(InitiationMethod="INBOUND")) is None
    assert outbound.outcome_from_ctr(_ctr(Attributes={"lang": "en"})) is None
    assert outbound.outcome_from_ctr(_ctr(Attributes=None)) is None


def test_a_record_applies_to_its_attempt_only_under_the_instances_tenant():
    deps = memory_dependencies()
    deps.config.put_connect_instance(INSTANCE, "t2")
    with pytest.raises(DomainError) as wrong:
        outbound.record_ctr_outcome(deps, _ctr(AnsweringMachineDetectionStatus="SIT_TONE_BUSY"))
    assert wrong.value.field == "InstanceARN"
    assert outbound.record_ctr_outcome(deps, _ctr(InitiationMethod="INBOUND")) is None


def test_an_answered_campaign_call_without_its_contact_id_is_refused_naming_the_field():
    """Connect's contact took the call: a record without its ContactId is a batch item failure with a reason (the
    outcome consumer never routes a contact of its own instead, nor fails on a table it has no access to). Read by
    the CTR reader (as the history consumer reads it), which refuses any record without one."""
    deps = memory_dependencies()
    deps.config.put_connect_instance(INSTANCE, "t1")
    answered = _ctr(AnsweringMachineDetectionStatus="HUMAN_ANSWERED", ConnectedToSystemTimestamp="2025-11-24T16:00:08Z",
                    Agent={"ConnectedToAgentTimestamp": "2025-11-24T16:00:09Z"})
    del answered["ContactId"]
    with pytest.raises(MalformedContactRecord) as refused:
        outbound.record_ctr_outcome(deps, answered)
    assert refused.value.reason == "missing ContactId"


def test_the_simulated_carrier_compresses_its_delays_by_the_ring_time_scale_and_reports_the_real_ring():
    """A demo or a test may ring at a fraction of the carrier's times; the outcome and the ring seconds
    reported (what the 15 s abandonment rule reads) are the carrier's own."""
    started = datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)
    outcomes = {}
    for scale in (1.0, 0.2):
        dialer = SimulatedDialer(DialerSettings(kind="simulated", seed=5, ring_time_scale=scale))
        for i in range(20):
            record = AttemptRecord(tenant_id="t1", dial_mode=CampaignMode.PREDICTIVE, campaign_version=1, attempt=Attempt(
                attempt_id=f"at{i:026d}", campaign_id="c1", row_id="r1", number="+12125550101", started_at=started))
            far = dialer.poll(record, started + timedelta(hours=1))
            assert far is not None
            scaled_s = (far.at - started).total_seconds()
            assert scaled_s == pytest.approx(far.ring_seconds * scale, abs=0.05 * scale + 1e-6)  # reported: 0.1 s steps
            assert dialer.poll(record, far.at - timedelta(milliseconds=1)) is None  # not before its (scaled) time
            outcomes.setdefault(scale, []).append((far.disposition, far.ring_seconds))
    assert outcomes[1.0] == outcomes[0.2]
    with pytest.raises(ValueError):
        DialerSettings(kind="simulated", ring_time_scale=0)
