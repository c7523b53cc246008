"""The outside tester's outbound findings through the real serve_api handler on moto: each is a 4xx naming the field
(an account suppression holding a card number, a premium-rate caller id, a retry after a right-party contact, a
blackout date in year 1), and a CSV body under the list route's 4 MiB is parsed, not refused for its length."""
from __future__ import annotations

import pytest

from ccaas.api import request_body
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "found", "name": "Found", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}


@pytest.mark.parametrize(("change", "field"), [
    ({"caller_id": "+19005550143"}, "caller_id"),
    ({"policy": {"retry": {"right_party_contact": {"after_minutes": 0}}}}, "policy.retry.right_party_contact"),
    ({"policy": {"retry": {"opted_out": {"after_minutes": 60}}}}, "policy.retry.opted_out"),
    ({"blackout_dates": ["0001-01-01", "9999-12-31"]}, "blackout_dates"),
])
def test_a_campaign_rule_the_readme_forbids_is_a_422_naming_its_field(tenant, change, field):
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, **change})
    assert status == 422 and body["field"] == field, body
    assert api("GET", "/campaigns/found", tenant.id)[0] == 404
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    status, body = api("PATCH", "/campaigns/found", tenant.id, change)
    assert status == 422 and body["field"] == field, body


@pytest.mark.parametrize("value", ["4111111111111111", "078-05-1120"])
def test_an_account_suppression_holding_a_card_or_ssn_is_a_422_and_stores_nothing(tenant, value):
    status, body = api("POST", "/suppressions", tenant.id, {"entries": [{"kind": "account", "value": value}]})
    assert status == 422 and body["field"] == "entries.0.value" and "surrogate id" in body["message"], body
    assert value not in str(body)


def test_a_csv_body_under_4_mib_is_parsed_not_refused_for_its_length(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    # 4,140,012 bytes: over 4,000,000 characters, under 4 MiB (a cell past the csv module's limit ends the rows)
    text = "phone,notes\n+12125550143,ok\n+12125550144,"
    text += "x" * (4_140_012 - len(text) - 1) + "\n"
    assert len(text.encode()) == 4_140_012 < request_body.LIST_UPLOAD_MAX_BODY_BYTES
    status, body, _ = api_response("POST", "/campaigns/found/lists", tenant.id, raw_body=text, content_type="text/csv")
    assert status == 200 and body["accepted"] == 1, body
