"""PUT /alerts/rules through the real API handler on moto: a planned not-ready reason no agent can have (agents'
statuses are upper case, [A-Z][A-Z0-9_]{1,31}) is a 422 naming `ignore_statuses`, and nothing is written."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_an_ignored_status_no_agent_can_have_is_a_422_naming_the_field(tenant, env):
    before = api("GET", "/alerts/rules", tenant.id)[1]
    rules = {"agent_not_ready": {"ignore_statuses": ["Lunch", "lunch break"]}}
    status, body = api("PUT", "/alerts/rules", tenant.id, rules)
    assert status == 422, body
    # the status's place (each is checked by the one not-ready status definition, events.NotReadyStatus)
    assert body["field"] == "agent_not_ready.ignore_statuses[0]" and "Lunch" in body["message"], body
    assert api("GET", "/alerts/rules", tenant.id)[1] == before
    status, body = api("PUT", "/alerts/rules", tenant.id, {"agent_not_ready": {"ignore_statuses": ["LUNCH"]}})
    assert status == 200 and body["agent_not_ready"]["ignore_statuses"] == ["LUNCH"], body
