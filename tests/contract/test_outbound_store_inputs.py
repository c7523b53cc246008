"""The outbound store's parts for inputs from outside the dialer, in memory and on (moto) AWS: conversations
(Reg F's quiet period), whether any row is still due (campaign completion), the failed checks kept on a held
row; and the End User Messaging SMS sender against the service's own request model (botocore Stubber)."""
from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from ccaas.adapters.aws.outbound import AwsDialers, EndUserMessagingSms
from ccaas.adapters.memory.outbound import MemorySmsSender
from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import Campaign, CampaignMode, CampaignStatus, CheckName, CheckResult
from ccaas.ports_outbound import DialerSettings, SmsRequest
from tests.contract.test_outbound_store import T0, store, tenant  # noqa: F401 - the store's fixtures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_conversations_by_number_and_account_within_the_window(store, tenant):
    store.add_conversation(tenant, "number", "+12125550101", T0 - timedelta(days=8), "old")
    store.add_conversation(tenant, "number", "+12125550101", T0 - timedelta(hours=2), "v1")
    store.add_conversation(tenant, "number", "+12125550101", T0 - timedelta(hours=2), "v1")  # a repeat: one
    store.add_conversation(tenant, "account", "acct-1", T0 - timedelta(hours=1), "v2")
    since = T0 - timedelta(days=7)
    assert store.conversations(tenant, "number", "+12125550101", since) == [T0 - timedelta(hours=2)]
    assert store.conversations(tenant, "account", "acct-1", since) == [T0 - timedelta(hours=1)]
    assert store.conversations(tenant, "account", "+12125550101", since) == []  # kinds do not mix
    assert store.conversations(f"{tenant}x", "number", "+12125550101", since) == []  # nor tenants


def test_has_due_rows_until_every_row_is_done_and_a_hold_keeps_its_failed_checks(store, tenant):
    campaign = Campaign(campaign_id="c1", name="C", mode=CampaignMode.PROGRESSIVE, queue_id="sales",
                        caller_id="+12125550199", status=CampaignStatus.RUNNING)
    store.put_campaign(tenant, campaign, expected_version=None)
    assert not store.has_due_rows(tenant, "c1")
    parsed = parse_csv("row_id,phone,time_zone\nr1,+12125550101,America/New_York\nr2,+12125550102,America/New_York\n")
    store.put_rows(tenant, "c1", parsed.rows, T0 + timedelta(days=3))  # due later still counts
    assert store.has_due_rows(tenant, "c1")
    block = CheckResult(name=CheckName.SUPPRESSION, passed=False, detail="suppressed by number (sms_stop)",
                        facts={"kind": "number", "source": "sms_stop"})
    for row_id in ("r1", "r2"):
        row = store.get_row(tenant, "c1", row_id)
        done = store.schedule_row(row, next_due_at=None, blocked_by=["suppression"], checks=[block])
        assert done.blocked_checks == (block,)
        assert store.get_row(tenant, "c1", row_id).blocked_checks == (block,)
    assert not store.has_due_rows(tenant, "c1")


def _request() -> SmsRequest:
    return SmsRequest(tenant_id="t1", campaign_id="c1", row_id="r1", attempt_id="at-1", number="+12125550101",
                      origination="+12125550100", text="Hello. Reply STOP to opt out.")


def test_end_user_messaging_gets_one_valid_send_text_message_per_text():
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    settings = DialerSettings(kind="connect", instance_id="i-1", contact_flow_id="f-1", sms_configuration_set="texts")
    with Stubber(client) as stub:
        stub.add_response("send_text_message", {"MessageId": "m-1"}, {
            "DestinationPhoneNumber": "+12125550101", "OriginationIdentity": "+12125550100",
            "MessageBody": "Hello. Reply STOP to opt out.", "MessageType": "PROMOTIONAL", "ConfigurationSetName": "texts",
            "Context": {"ccaas_tenant_id": "t1", "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                        "ccaas_attempt_id": "at-1"}})
        handle = EndUserMessagingSms(client, settings).send(_request())
        stub.assert_no_pending_responses()
    assert handle.provider_id == "m-1"


def test_the_aws_dialers_text_through_end_user_messaging_or_in_memory_when_simulated():
    made = []
    dialers = AwsDialers(lambda: None, sms_client=lambda: made.append(1) or "client")
    simulated = dialers.sms(DialerSettings(kind="simulated"))
    assert isinstance(simulated, MemorySmsSender) and dialers.sms(DialerSettings(kind="simulated")) is simulated
    assert made == []
    real = dialers.sms(DialerSettings(kind="connect", instance_id="i-1", contact_flow_id="f-1"))
    assert isinstance(real, EndUserMessagingSms) and made == [1]
