"""GET /forecast/staffing and POST /forecast/what-if through the real API app on the in-memory dependencies:
the inputs that made a day's plan a 500, a runaway scan or a wrong number (a target of 1, a 0 s handle time,
a tiny occupancy cap, abandons at 0 s wait, a history shorter than `weeks`, Erlang A without an abandon cap)."""
from __future__ import annotations

import json
import time
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

import ccaas.api.common as common
from ccaas.bootstrap import memory_dependencies
from ccaas.domain import forecast as fc
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.models import Queue
from ccaas.domain.tenants import Tenant
from tests.history_data import synthetic_records
from tests.lambda_harness import authorizer_context, context

NY = ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 16)


@pytest.fixture
def deps(monkeypatch):
    """Memory dependencies behind the routes, a tenant `acme` in New York with a `sales` queue (SL 80/20), and
    the clock early on MONDAY (the history ends the day before)."""
    deps = memory_dependencies()
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    deps.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="America/New_York"))
    deps.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20))
    deps.clock.now = int(datetime(2026, 11, 16, 6, 0, tzinfo=NY).timestamp() * 1000)
    return deps


def call(method: str, path: str, *, body: dict | None = None, query: dict | None = None, role: str = "supervisor"):
    from ccaas.api.app import app

    event = {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"content-type": "application/json"}, "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"stage": "v1", "requestId": str(uuid.uuid4()), "httpMethod": method, "path": f"/v1{path}",
                           "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": authorizer_context(method, path, "acme", role)},
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }
    response = app.resolve(event, context("serve_api"))
    return response["statusCode"], json.loads(response["body"] or "null")


def staffing(**query: str):
    return call("GET", "/forecast/staffing", query={"queue": "sales", "date": MONDAY.isoformat(), **query})


def seed(deps, first_day: date, days: int, *, weekday_volume: float = 120.0) -> list[fc.HistoryPoint]:
    shape = fc.SyntheticShape(weekday_volume=weekday_volume, aht_seconds=240.0)
    records, points = synthetic_records("acme", first_day, days, tz=NY, shape=shape)
    for record in records:
        deps.history.put_record(record)
    return points


def _ms(*wall: int) -> int:
    return int(datetime(*wall, tzinfo=NY).timestamp() * 1000)


# --- D1: a service-level target of 1 ----------------------------------------------------------------------
def test_a_target_of_1_is_refused_on_write_and_a_stored_one_still_plans(deps):
    status, body = call("PUT", "/queues/perfect", body={"name": "Perfect", "channels": ["VOICE"], "sl_target": 1},
                        role="admin")
    assert (status, body["field"]) == (422, "sl_target")
    assert call("PUT", "/queues/nearly", body={"name": "Nearly", "sl_target": 0.99}, role="admin")[0] == 200

    seed(deps, date(2026, 10, 19), 28)
    deps.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20, sl_target=1.0))
    status, plan = staffing(weeks="4")
    assert status == 200, plan
    assert plan["sl_target"] == 0.9999
    assert any("sl_target 1" in w and "0.9999" in w for w in plan["warnings"])
    busy = [i for i in plan["intervals"] if i["forecast_offered"] >= 1]
    assert busy and all(i["erlang_c"]["service_level"] >= 0.9999 for i in busy)


def test_a_stored_target_of_1_plans_a_queue_without_history(deps):
    # Every interval has zero load: it used to fail on the target before returning 0 agents.
    deps.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_target=1.0))
    status, plan = staffing()
    assert status == 200, plan
    assert all(i["required_erlang_c"] == 0 for i in plan["intervals"])


# --- D2: a contact handled in 0 ms --------------------------------------------------------------------------
def test_a_contact_connected_and_dropped_in_the_same_second_does_not_fail_the_day(deps):
    seed(deps, date(2026, 10, 19), 28)
    t = _ms(2026, 11, 9, 3, 0, 5)  # a Monday 03:00, the shop closed: one call answered and dropped at once
    deps.history.put_record(ContactRecord(
        tenant_id="acme", contact_id="blip", channel=Channel.VOICE, queue_id="sales", agent_id="agent-1",
        initiated_at=t, enqueued_at=t, connected_at=t + 2000, disconnected_at=t + 2000,
        final_state=FinalState.COMPLETED, last_updated_at=t + 2000))

    status, plan = staffing(weeks="4")
    assert status == 200, plan
    three_am = next(i for i in plan["intervals"] if i["interval_start"].startswith("2026-11-16T03:00"))
    assert three_am["forecast_offered"] > 0 and three_am["aht_s"] > 0 and three_am["required_erlang_c"] >= 1
    status, outcome = call("POST", "/forecast/what-if",
                           body={"queue": "sales", "date": MONDAY.isoformat(), "agents": 5, "weeks": 4})
    assert status == 200, outcome


# --- D3: occupancy cap and shrinkage bounds ----------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [("max_occupancy", "0.000001"), ("max_occupancy", "1e-300"),
                                             ("max_occupancy", "0.4"), ("shrinkage", "0.9999999999"),
                                             ("shrinkage", "0.95")])
def test_occupancy_caps_and_shrinkage_no_plan_can_use_are_a_422_naming_them(deps, name, value):
    seed(deps, date(2026, 11, 2), 14)
    started = time.perf_counter()
    status, body = staffing(weeks="2", **{name: value})
    assert (status, body["field"]) == (422, name)
    assert time.perf_counter() - started < 5


def test_the_sane_ends_of_occupancy_cap_and_shrinkage_still_plan(deps):
    seed(deps, date(2026, 11, 2), 14)
    status, plan = staffing(weeks="2", max_occupancy="0.5", shrinkage="0.9")
    assert status == 200, plan
    busy = [i for i in plan["intervals"] if i["forecast_offered"] >= 1]
    assert all(i["erlang_c"]["occupancy"] <= 0.5 and i["scheduled"] >= 10 * i["required_erlang_c"] - 1e-9
               for i in busy)


# --- D4: abandons at 0 s wait -------------------------------------------------------------------------------
def test_abandons_without_any_queue_wait_leave_the_plan_to_erlang_c(deps):
    n = 0
    for day in range(2, 16):
        for hour in (10, 11, 14):
            t = _ms(2026, 11, day, hour, 5)
            n += 1  # answered the second it queued, 4 minutes handled
            deps.history.put_record(ContactRecord(
                tenant_id="acme", contact_id=f"c{n}", channel=Channel.CHAT, queue_id="sales", agent_id="ana",
                initiated_at=t, enqueued_at=t, connected_at=t, disconnected_at=t + 240_000,
                final_state=FinalState.COMPLETED, last_updated_at=t + 240_000))
    t = _ms(2026, 11, 10, 9, 0)  # one chat closed the second it was queued
    deps.history.put_record(ContactRecord(
        tenant_id="acme", contact_id="gone", channel=Channel.CHAT, queue_id="sales", initiated_at=t, enqueued_at=t,
        disconnected_at=t, final_state=FinalState.ABANDONED, last_updated_at=t))

    status, plan = staffing(weeks="2")
    assert status == 200, plan
    assert plan["patience_s"] is None and all(i["required_erlang_a"] is None for i in plan["intervals"])
    status, body = call("POST", "/forecast/what-if", body={"queue": "sales", "date": MONDAY.isoformat(), "agents": 2,
                                                           "weeks": 2, "model": "erlang_a"})
    assert (status, body["field"]) == (422, "patience_s")


# --- D5: a history shorter than `weeks` ---------------------------------------------------------------------
def test_the_weeks_before_a_new_queues_first_contact_do_not_pull_its_forecast_down(deps):
    points = seed(deps, date(2026, 11, 2), 14)  # Mon 11-02 .. Sun 11-15: two weeks, the default asks for six
    mondays = [sum(p.offered for p in points if p.interval_start.date() == d)
               for d in (date(2026, 11, 2), date(2026, 11, 9))]
    totals = {}
    for weeks in ("2", "6"):
        status, plan = staffing(weeks=weeks)
        assert status == 200, plan
        totals[weeks] = sum(i["forecast_offered"] for i in plan["intervals"])
    assert totals["6"] == pytest.approx(totals["2"], rel=0.02)
    assert min(mondays) * 0.85 <= totals["6"] <= max(mondays) * 1.15  # was ~40 % below both
    assert staffing()[1]["warnings"]  # still says the history is short


# --- D6: Erlang A's required agents with an abandonment cap ------------------------------------------------
def test_required_erlang_a_loses_at_most_max_abandon_of_callers(deps):
    seed(deps, date(2026, 11, 2), 14, weekday_volume=1500.0)
    status, plan = staffing(weeks="2", patience_s="10")
    assert status == 200, plan
    assert plan["max_abandon"] == 0.05
    busy = [i for i in plan["intervals"] if i["forecast_offered"] >= 20]
    assert busy and all(i["erlang_a"]["abandonment"] <= 0.05 for i in busy)

    status, loose = staffing(weeks="2", patience_s="10", max_abandon="0.5")
    assert status == 200, loose
    assert loose["max_abandon"] == 0.5
    assert (sum(i["required_erlang_a"] for i in loose["intervals"])
            < sum(i["required_erlang_a"] for i in plan["intervals"]))
    status, body = staffing(weeks="2", max_abandon="0")
    assert (status, body["field"]) == (422, "max_abandon")
