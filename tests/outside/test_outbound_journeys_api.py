"""Outside tests: stateful and ugly-payload sequences on the outbound and journeys routes, through the real
serve_api handler on the stack deployed into moto (the fuzz tier never reaches an existing campaign: every
campaign path it draws is a 404 or a 422). Never a 5xx; errors name their field; a junk list loads its good
rows and reports the others by index and field; a stopped campaign takes no list, no change and no dial."""
from __future__ import annotations

import json

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import AgentStatus
from ccaas.usecases import outbound
from tests.calling_hours import zone_in_hours
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "junk", "name": "Junk", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199", "policy": {"max_attempts": 3, "min_gap_minutes": 60}}
LONG = "x" * 10_000


@pytest.fixture
def campaign(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated", "seed": 3})[0] == 200
    status, body = api("POST", "/campaigns", tenant.id, CAMPAIGN)
    assert status == 201, body
    return tenant


def _no_5xx(status: int, body) -> None:
    assert status < 500, body


def test_a_junk_json_list_through_the_api_loads_the_good_rows_and_dials_only_them(campaign):
    # the good rows' numbers in a zone where it is daytime now, so they are dialable (g2's JSON number is a
    # North American one: JSON has no "+"; it loads at any hour and is dialed when New York is in hours too)
    t, daytime = campaign.id, zone_in_hours()
    zone = daytime.zone
    good = {"time_zone": zone, "consent_automated_voice": "Y"}
    rows = [
        {"row_id": "g1", "phone": daytime.written(1), **good},
        {"row_id": "b1", "phone": "+1 (555) 010-2030 ext. 7", **good},
        {"row_id": "b2", "phone": "1.55501E+10", **good},
        {"row_id": "b3", "phone": "📞📞📞", "notes": "😀", **good},
        {"row_id": "b4", "phone": None, "email": None, "time_zone": None, "state": None, "postal_code": None},
        {"row_id": "b5", "phone": "+1 212 555 0105", "time_zone": "Mars/Olympus_Mons"},
        {"row_id": "b6", "phone": "+1 212 555 0106", "postal_code": "SW1A 1AA"},
        {"row_id": "b7", "phone": LONG},
        {"row_id": "g2", "phone": 12125550102, **good, "notes": "😀 likes mornings"},
        {"row_id": "g1", "phone": "+1 212 555 0103", **good},  # a duplicated row id
        {"row_id": "b8", "phone": "+1 212 555 0108", "consent_automated_voice": "oui", "time_zone": zone},
        {"row_id": "g3", "phone": daytime.written(4), "consent_automated_voice": 1, "time_zone": zone},
    ]
    status, body = api("POST", "/campaigns/junk/lists", t, {"format": "json", "rows": rows})
    assert status == 200, body
    assert body["accepted"] == 3 and body["total"] == len(rows) and body["rejected"] == len(rows) - 3
    assert {(e["line"], e["field"]) for e in body["errors"]} == {
        (2, "phone"), (3, "phone"), (4, "phone"), (5, "phone"), (6, "time_zone"), (7, "postal_code"), (8, "phone"),
        (10, "row_id"), (11, "consent_automated_voice")}
    assert max(len(e["message"]) for e in body["errors"]) <= 300  # never echoes the 10k characters

    assert api("POST", "/campaigns/junk/start", t, role="supervisor")[0] == 200
    deps = dependencies()
    for agent in deps.store.list_agents(t):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    dialed = set()
    for _ in range(3):  # one free agent: one dial a tick, the outcome frees it again
        outbound.dial_tick(deps, t, "junk")
    status, attempts = api("GET", "/campaigns/junk/attempts", t, role="supervisor")
    assert status == 200
    dialed = {a["attempt"]["number"] for a in attempts}
    assert dialed and dialed <= {daytime.number(1), "+12125550102", daytime.number(4)}


@pytest.mark.parametrize(("body", "field"), [
    ({"format": "json", "rows": "not a list"}, "rows"),
    ({"format": "json", "rows": [{"phone": "+12125550101"}] * 10_001}, "rows"),
    ({"format": "json"}, "rows"),
    ({"format": "csv", "content": None}, "content"),
    ({"format": "xml", "content": "<a/>"}, "format"),
    ({"format": "json", "rows": [], "region": "usa"}, "region"),
    ({"format": "json", "rows": [], "extra": 1}, "extra"),
])
def test_ugly_list_uploads_are_422s_naming_the_field(campaign, body, field):
    status, answer = api("POST", "/campaigns/junk/lists", campaign.id, body)
    assert status == 422, answer
    assert answer["field"] == field


def test_ugly_csv_content_never_5xx_and_reports_lines(campaign):
    text = ("\ufeffRow_ID , Phone ,time_zone\r\n"
            "a,+12125550101,America/New_York\r\n"
            "b,\"+1 212\n555 0102\",America/New_York\r\n"
            "c,+12125550103,America/New_York,extra\r\n"
            "d,😀,America/New_York\r\n"
            "\r\n"
            "e,+12125550105,Etc/Unknown\r\n")
    status, body = api("POST", "/campaigns/junk/lists", campaign.id, {"format": "csv", "content": text})
    assert status == 200, body
    assert {r for r in ("a",)} and body["accepted"] >= 1
    lines = {e["line"] for e in body["errors"]}
    assert {5, 6} <= lines and not lines & {2}
    for junk in ("\x00\x00\x00", "phone\n" + "\"" * 5000, ",,,\n,,,", "\n" * 5000, "phone\n" + "1" * 200_000):
        status, body = api("POST", "/campaigns/junk/lists", campaign.id, {"format": "csv", "content": junk})
        _no_5xx(status, body)
        if status == 200:
            assert body["accepted"] == 0


def test_a_stopped_campaign_takes_no_list_no_change_and_no_start(campaign):
    t = campaign.id
    assert api("POST", "/campaigns/junk/start", t, role="supervisor")[0] == 200
    assert api("POST", "/campaigns/junk/stop", t)[1]["status"] == "stopped"
    for method, path, body in [("POST", "/campaigns/junk/lists", {"format": "json", "rows": [{"phone": "+12125550101"}]}),
                               ("PATCH", "/campaigns/junk", {"name": "again"}),
                               ("POST", "/campaigns/junk/start", None), ("POST", "/campaigns/junk/pause", None)]:
        status, answer = api(method, path, t, body)
        assert status == 409 and answer["field"] == "status", (method, path, answer)
    status, answer = api("POST", "/campaigns/junk/stop", t)
    assert status == 200 and answer["status"] == "stopped"  # idempotent
    status, metrics = api("GET", "/campaigns/junk/metrics", t, role="supervisor")
    assert status == 200 and metrics["attempts"] == 0


@pytest.mark.parametrize("path", ["/campaigns/" + "a" * 65, "/campaigns/%F0%9F%98%80", "/campaigns/..%2F..",
                                  "/campaigns/junk/attempts?limit=-1", "/campaigns/junk/attempts?format=xml",
                                  "/campaigns/junk/attempts?from=9999-01-01T00:00:00Z"])
def test_ugly_campaign_paths_are_4xx(campaign, path):
    path, _, query = path.partition("?")
    status, body = api("GET", path, campaign.id, query=dict(q.split("=", 1) for q in query.split("&")) if query else None,
                       role="supervisor")
    assert 400 <= status < 500, body


def _journey(name: str, steps: list | None = None) -> dict:
    return {"name": name, "inputs": {"phone": "+14155550101", "channel": "VOICE"},
            "steps": steps or [{"action": "hours", "parameters": {"queue_id": "sales"}, "expect": {"open": True}}]}


@pytest.mark.parametrize(("suite", "where"), [
    ({"journeys": [_journey("a", [{"action": "teleport"}])]}, "journeys[0].steps[0].action"),
    ({"journeys": [_journey("😀")]}, "journeys[0].name"),
    ({"journeys": [_journey("x" * 10_000)]}, "journeys[0].name"),
    ({"journeys": [_journey(f"j{i}") for i in range(51)]}, "journeys"),
    ({"journeys": [_journey("long", [{"action": "hours", "parameters": {"queue_id": "sales"}}] * 31)]}, "journeys[0].steps"),
    ({"journeys": [_journey("dup"), _journey("dup")]}, "journeys[1].name"),
    ({"journeys": None}, "journeys"),
    ({"journeys": [None]}, "journeys[0]"),
    ({"journeys": [], "extra": True}, "extra"),
])
def test_ugly_journey_suites_are_422s_and_change_nothing(tenant, suite, where):
    before = api("GET", "/settings/journeys", tenant.id)
    status, body = api("PUT", "/settings/journeys", tenant.id, suite)
    assert status == 422, body
    assert where in body["message"] and len(body["message"]) < 2_000  # never echoes the 10k-char name
    assert api("GET", "/settings/journeys", tenant.id) == before


@pytest.mark.parametrize(("suite", "field"), [
    ({"journeys": [_journey("b", [{"action": "hours", "parameters": {"queue_id": "sales"}, "expect": {"queue_idx": 1}}])]},
     "journeys[0].steps[0].expect.queue_idx"),
    ({"journeys": [_journey("dup"), _journey("dup")]}, "journeys[1].name"),
])
def test_a_journey_spec_error_names_the_key_as_written(tenant, suite, field):
    status, body = api("PUT", "/settings/journeys", tenant.id, suite)
    assert status == 422
    assert body.get("field") == field and "at least 1 item" not in body["message"]


def test_journey_suite_round_trip_and_result_reads_with_ugly_names(tenant):
    from ccaas.bootstrap import dependencies
    from ccaas.usecases import admin

    instance = "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-0000-4000-8000-000000000031"
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=instance)
    suite = {"connect_instance_arn": instance, "journeys": [_journey("open-sales"), _journey("a.b:c-d_e")]}
    status, body = api("PUT", "/settings/journeys", tenant.id, suite)
    assert status == 200, body
    assert [j["name"] for j in api("GET", "/settings/journeys", tenant.id)[1]["journeys"]] == ["open-sales", "a.b:c-d_e"]
    status, results = api("GET", "/journeys/results", tenant.id)
    assert status == 200, results
    for name, expected in [("open-sales", 200), ("a.b:c-d_e", 200), ("nobody", 404), ("😀", 404), ("x" * 65, 422),
                           ("..", 422)]:
        status, body = api("GET", f"/journeys/{name}/results", tenant.id)
        assert status == expected, (name, body)  # 😀: no route matches a path with it (404 "Not found")
    assert api("PUT", "/settings/journeys", tenant.id, {"journeys": []})[0] == 200
    assert api("GET", "/settings/journeys", tenant.id)[1]["journeys"] == []
    assert json.dumps(api("GET", "/journeys/results", tenant.id)[1])  # still readable after the suite is emptied


def test_the_documented_10000_rows_fit_in_one_json_upload(campaign):
    rows = [{"row_id": f"r{i:05d}", "phone": f"+1212555{i % 10_000:04d}", "time_zone": "America/New_York",
             "account_id": f"acct-{i:05d}", "consent_automated_voice": True, "email": f"customer{i}@example.com"}
            for i in range(10_000)]
    assert len(json.dumps({"format": "json", "rows": rows})) > 1_048_576
    status, body = api("POST", "/campaigns/junk/lists", campaign.id, {"format": "json", "rows": rows})
    assert status == 200, body


def test_a_percent_encoded_id_is_the_same_id(campaign):
    t = campaign.id
    assert api("POST", "/campaigns", t, {**CAMPAIGN, "campaign_id": "q4:renewals"})[0] == 201
    assert api("GET", "/campaigns/q4:renewals", t)[0] == 200
    status, body = api("GET", "/campaigns/q4%3Arenewals", t)  # encodeURIComponent("q4:renewals")
    assert status == 200, body
