"""An outside tester's findings on the routing policy's validation, and that policies stored before them still load."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ccaas.domain.connect_flow import expression
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain import events
from ccaas.domain.vocabulary import STORED_DOCUMENT
from ccaas.usecases import agents


def _refused(document: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as err:
        RoutingPolicy.model_validate(document)
    return [(e["loc"], e["msg"]) for e in err.value.errors()]


def test_a_missed_offer_refuses_the_same_activities_the_agent_status_route_refuses():
    # one rule (domain.events: the policy's NotReadyStatus is the alert rules' too): an activity added later is
    # refused by both
    assert events.SHOWN_NOT_SET is agents.SHOWN_NOT_SET
    assert {"RESERVED", "ON_CONTACT", "ACW", "AVAILABLE_IDLE"} <= events.SHOWN_NOT_SET
    for activity in sorted(agents.SHOWN_NOT_SET):
        refused = _refused({"reservation": {"timeout": {"not_ready_status": activity}}})
        assert refused[0][0] == ("reservation", "timeout", "not_ready_status"), refused
    assert RoutingPolicy.model_validate(
        {"reservation": {"reject": {"not_ready_status": "MISSED_OFFER", "set_not_ready": True}}}
    ).reservation.reject.not_ready_status == "MISSED_OFFER"


@pytest.mark.parametrize("start", [1798156800, 1798156800.0, True, "20261225", "2026-12-25T00:00", "1999-12-31"])
def test_a_holiday_start_is_a_date_string_in_the_years_2000_to_2100(start):
    refused = _refused({"queues": {"sales": {"hours": {"holidays": [{"start": start}]}}}})
    assert refused[0][0] == ("queues", "sales", "hours", "holidays", 0, "start"), refused


def test_a_skill_named_with_an_empty_value_is_refused_in_either_form():
    for condition in ("language:>=1", {"skill": "language:"}, {"not": "language:"}):
        refused = _refused({"queues": {"sales": {"steps": [{"condition": condition}]}}})
        assert refused[0][0][:5] == ("queues", "sales", "steps", 0, "condition"), refused
    ok = RoutingPolicy.model_validate({"queues": {"sales": {"steps": [{"condition": "language:es>=2 or billing"}]}}})
    criteria = expression(ok.queues["sales"].steps[0].condition)
    assert all(c["AttributeCondition"]["Value"] for c in criteria["OrExpression"]), criteria


def test_a_policy_stored_before_these_rules_still_loads():
    stored = {
        "queues": {"sales": {"steps": [{"condition": "language:>=1"}],
                             "hours": {"holidays": [{"start": "1999-12-31", "end": "2000-01-01"}]}}},
        "reservation": {"timeout": {"set_not_ready": True, "not_ready_status": "ON_CONTACT"},
                        "reject": {"set_not_ready": True, "not_ready_status": "ACW"}},
    }
    policy = RoutingPolicy.model_validate(stored, context=STORED_DOCUMENT)
    assert policy.reservation.timeout.not_ready_status == "ON_CONTACT"
    assert policy.queues["sales"].hours.holidays[0].start.year == 1999
