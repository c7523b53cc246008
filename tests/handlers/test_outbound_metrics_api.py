"""GET /campaigns/{id}/metrics (live, with occupancy and idle between calls) and
GET /campaigns/{id}/metrics/historical through the real serve_api handler on the stack deployed into moto:
figures from the stored attempts, roles, and 422s that name the field."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ccaas.bootstrap import dependencies
from ccaas.usecases import outbound
from tests.calling_hours import backend_now, zone_in_hours
from tests.lambda_harness import api
from tests.outbound_on_stack import all_agents_available

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "renewals", "name": "Renewals", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}
PATH = "/campaigns/renewals/metrics/historical"


@pytest.fixture
def dialed(tenant):
    t = tenant.id
    assert api("PUT", "/settings/outbound", t, {"kind": "simulated", "seed": 3})[0] == 200
    assert api("POST", "/campaigns", t, CAMPAIGN)[0] == 201
    daytime = zone_in_hours()  # in hours: consent is the one block
    api("POST", "/campaigns/renewals/lists", t, {"format": "json", "rows": [
        {"row_id": f"r{i}", "phone": daytime.number(i), "time_zone": daytime.zone, "consent_automated_voice": i != 1}
        for i in (1, 2, 3)]})
    assert api("POST", "/campaigns/renewals/start", t, role="supervisor")[0] == 200
    deps = dependencies()
    all_agents_available(deps, t)
    tick = outbound.dial_tick(deps, t, "renewals")
    assert tick.dialed == 2 and tick.blocks == {"consent": 1}
    return tenant


def test_historical_metrics_per_hour_from_the_stored_attempts(dialed):
    t = dialed.id
    now = backend_now()  # the clock the API's reports use
    status, report = api("GET", PATH, t, query={"interval": "hour"}, role="supervisor")
    assert status == 200 and report["time_zone"] == "UTC" and report["interval"] == "hour"
    assert len(report["rows"]) in (24, 25)  # the last day by default, a part hour at each end
    assert sum(r["attempts"] for r in report["rows"]) == 2
    (busy,) = [r for r in report["rows"] if r["attempts"]]
    hour = now.replace(minute=0, second=0, microsecond=0)
    assert busy["start"] in {hour.isoformat(), (hour - timedelta(hours=1)).isoformat()}  # dialed within the hour
    assert busy["occupancy"] is None and busy["connects"] == 0  # the calls are still ringing
    assert report["blocks_by_rule"] == {"consent": 1}
    assert report["blocks_by_day"] == {now.date().isoformat(): {"consent": 1}}

    start = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: the tenant's wall clock (UTC)
    status, days = api("GET", PATH, t, query={"interval": "day", "from": start}, role="admin")
    assert status == 200 and len(days["rows"]) == 4 and sum(r["attempts"] for r in days["rows"]) == 2
    assert days["rows"][0]["start"] == f"{(now - timedelta(days=3)).date().isoformat()}T00:00:00+00:00"
    assert days["start"] == f"{start}+00:00"

    status, live = api("GET", "/campaigns/renewals/metrics", t, role="supervisor")
    assert status == 200 and live["attempts"] == 2 and live["calls_in_flight"] == 2
    assert live["occupancy"] is None and live["idle_between_calls_s"] is None and live["agent_calls"] == 0


def test_historical_metrics_bad_input_names_the_field(dialed):
    t = dialed.id
    now = backend_now()  # the clock the API's reports use
    cases = [
        ({"interval": "week"}, "interval"),
        ({"from": "yesterday"}, "from"),
        ({"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}, "to"),
        ({"from": (now - timedelta(days=100)).isoformat()}, "to"),
        ({"interval": "hour", "from": (now - timedelta(days=8)).isoformat()}, "interval"),
    ]
    for query, field in cases:
        status, body = api("GET", PATH, t, query=query)
        assert (status, body.get("field")) == (422, field), query
    assert api("GET", "/campaigns/nope/metrics/historical", t)[0] == 404
    assert api("GET", PATH, t, role="integration")[0] == 403
    assert api("GET", PATH, f"{t}x")[0] == 404  # tenant first
