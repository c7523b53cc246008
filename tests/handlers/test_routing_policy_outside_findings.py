"""An outside tester's findings on PUT /routing/policy: each is a 422 naming the field, and nothing is written."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api


@pytest.mark.parametrize("activity", ["RESERVED", "ON_CONTACT", "ACW", "AVAILABLE_IDLE"])
@pytest.mark.parametrize("failure", ["timeout", "reject"])
def test_an_activity_the_product_shows_is_no_not_ready_status_of_a_missed_offer(tenant, activity, failure):
    before = api("GET", "/routing/policy", tenant.id)[1]
    policy = {"reservation": {failure: {"not_ready_status": activity, "set_not_ready": True}}}
    status, body = api("PUT", "/routing/policy", tenant.id, policy)
    assert status == 422, body
    assert body["field"] == f"reservation.{failure}.not_ready_status", body
    assert "activity the product shows" in body["message"], body
    assert api("GET", "/routing/policy", tenant.id)[1] == before


@pytest.mark.parametrize("holiday, field", [
    ({"start": 1798156800}, "start"),  # once stored as "2026-12-25" (seconds since 1970)
    ({"start": "2026-12-24", "end": 1798156800}, "end"),
    ({"start": "2026-12-25T00:00:00"}, "start"),
    ({"start": "1999-12-25"}, "start"),
    ({"start": "2100-12-25", "end": "2101-01-01"}, "end"),
])
def test_a_holiday_date_is_an_iso_date_string_within_the_years_bodies_take(tenant, holiday, field):
    before = api("GET", "/routing/policy", tenant.id)[1]
    policy = {"queues": {"sales": {"hours": {"holidays": [holiday]}}}}
    status, body = api("PUT", "/routing/policy", tenant.id, policy)
    assert status == 422, body
    assert body["field"] == f"queues.sales.hours.holidays[0].{field}", body
    assert api("GET", "/routing/policy", tenant.id)[1] == before


def test_a_holiday_written_as_a_date_string_is_still_taken(tenant):
    policy = {"queues": {"sales": {"hours": {"holidays": [{"start": "2026-12-24", "end": "2026-12-26"}]}}}}
    status, body = api("PUT", "/routing/policy", tenant.id, policy)
    assert status == 200, body
    assert api("GET", "/routing/policy", tenant.id)[1]["queues"]["sales"]["hours"]["holidays"][0]["start"] == "2026-12-24"


@pytest.mark.parametrize("condition", ["language:>=1", "language:", "billing>=2 and not language:",
                                       {"any": [{"skill": "billing"}, {"skill": "language:", "min": 3}]}])
def test_a_skill_without_its_value_after_the_colon_is_a_422_naming_the_condition(tenant, condition):
    policy = {"queues": {"sales": {"steps": [{"condition": condition}]}}}
    status, body = api("PUT", "/routing/policy", tenant.id, policy)
    assert status == 422, body
    assert body["field"].startswith("queues.sales.steps[0].condition"), body
    assert "no value after ':'" in body["message"], body
