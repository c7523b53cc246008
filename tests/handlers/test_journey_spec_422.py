"""PUT /settings/journeys refuses a bad suite with the README's words: each problem once, its key as
written (`journeys[0].steps[2].expect.queue_idx: unknown field`), `field` the first one's; `detail` keeps
the structured loc (under `body`, without the step's union tag)."""
from __future__ import annotations

import pytest

from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

HOURS = {"action": "hours", "parameters": {"queue_id": "sales"}}


def test_every_problem_once_named_as_written(tenant):
    suite = {"journeys": [
        {"name": "a", "steps": [HOURS, HOURS, {**HOURS, "expect": {"queue_idx": 1}}]},
        {"name": "b", "steps": [{"action": "teleport"}]},
        {"name": "a", "steps": [HOURS]},
    ]}
    status, body = api("PUT", "/settings/journeys", tenant.id, suite)
    assert status == 422, body
    assert body["field"] == "journeys[0].steps[2].expect.queue_idx"
    assert body["message"].startswith("journeys[0].steps[2].expect.queue_idx: unknown field; "
                                      "journeys[1].steps[0].action: unknown action; use one of ")
    assert [d["loc"] for d in body["detail"]] == [
        ["body", "journeys", 0, "steps", 2, "expect", "queue_idx"], ["body", "journeys", 1, "steps", 0, "action"]]
    assert "at least 1 item" not in body["message"]
    # the duplicate is the suite's own check: reported once the journeys themselves are valid
    status, body = api("PUT", "/settings/journeys", tenant.id, {"journeys": [suite["journeys"][2]] * 2})
    assert (status, body["field"], body["message"]) == (422, "journeys[1].name", "journeys[1].name: 'a' is used twice")
    assert body["detail"] == [{"loc": ["body", "journeys", 1, "name"], "type": "value_error", "msg": "'a' is used twice"}]
