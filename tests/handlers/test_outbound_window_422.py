"""A calling window never open is a 422 naming the field, through the real serve_api handler (O27 finding 10):
stored, it would end every row for good as "never allowed" and complete the campaign."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "renewals", "name": "Renewals", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}
NO_DAYS = {"start": "09:00", "end": "20:00", "weekdays": []}


def test_a_window_without_weekdays_is_a_422_naming_the_field(tenant):
    status, body = api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "window": NO_DAYS})
    assert status == 422 and body["field"] == "window.weekdays", body
    assert api("GET", "/campaigns/renewals", tenant.id)[0] == 404  # nothing stored
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    status, body = api("PATCH", "/campaigns/renewals", tenant.id, {"state_windows": {"TX": NO_DAYS}})
    assert status == 422 and body["field"] == "state_windows.TX.weekdays", body
    status, body = api("PATCH", "/campaigns/renewals", tenant.id, {
        "window": {"start": "09:00", "end": "12:00"}, "state_windows": {"TX": {"start": "13:00", "end": "20:00"}}})
    assert status == 422 and body["field"] == "state_windows" and "TX" in body["message"], body
    status, body = api("GET", "/campaigns/renewals", tenant.id)
    assert status == 200 and body["version"] == 1 and body["window"] is None and body["state_windows"] == {}
