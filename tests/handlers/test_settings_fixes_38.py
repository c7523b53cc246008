"""Outside probe 38 of the settings routes, through the real API handler: each refused setting is a 422 naming its
field without quoting the value, and nothing is written; what is written reads back as answered (unit tier:
tests/unit/test_settings_fixes_38.py)."""
from __future__ import annotations

import json

import pytest

from tests.lambda_harness import api


def _refused(tenant, path: str, body: dict, field: str, *, never: tuple[str, ...] = ()) -> dict:
    before = api("GET", path, tenant.id)
    status, answer = api("PUT", path, tenant.id, body)
    assert status == 422, answer
    assert answer["field"] == field, answer
    assert not any(value in json.dumps(answer) for value in never), answer
    assert api("GET", path, tenant.id) == before  # nothing written
    return answer


def test_outcome_probabilities_over_one_are_a_422_naming_them(tenant):
    body = {"kind": "simulated", "seed": 7, "p_human": 0.6, "p_machine": 0.6, "ring_time_scale": 0.1}
    answer = _refused(tenant, "/settings/outbound", body, "p_human", never=("0.6",))
    assert [d["loc"] for d in answer["detail"]] == [["body", "p_human"], ["body", "p_machine"]], answer
    assert "sum to at most 1" in answer["message"]
    assert api("PUT", "/settings/outbound", tenant.id, {**body, "p_machine": 0.3})[0] == 200  # 1 with the defaults


def test_a_required_skill_without_its_value_is_a_422(tenant):
    body = {"name": "Probe", "channels": ["VOICE"], "required_skills": [{"skill": "language:"}]}
    status, answer = api("PUT", "/queues/probe-q", tenant.id, body)
    assert (status, answer["field"]) == (422, "required_skills[0].skill"), answer
    assert "no value after ':'" in answer["message"]
    assert "probe-q" not in [q["queue_id"] for q in api("GET", "/queues", tenant.id)[1]]


def test_an_agent_skill_without_its_value_is_a_422(tenant):
    status, answer = api("PUT", "/agents/probe-a", tenant.id, {"name": "Probe", "skills": {"language:": 3}})
    assert status == 422 and answer["field"].startswith("skills.language:"), answer
    assert api("GET", "/agents/probe-a", tenant.id)[0] == 404


def test_an_agent_answers_and_reads_back_its_whole_profile(tenant):
    body = {"name": "Probe", "skills": {"language:es": 3}, "queues": [{"queue_id": "sales"}],
            "voice_blocks_other_channels": False, "routing_profile_id": "chat_first"}
    status, put = api("PUT", "/agents/probe-a", tenant.id, body)
    assert status == 200, put
    (listed,) = [a for a in api("GET", "/agents", tenant.id)[1] if a["agent_id"] == "probe-a"]
    for answer in (put, api("GET", "/agents/probe-a", tenant.id)[1], listed):
        assert (answer["voice_blocks_other_channels"], answer["routing_profile_id"]) == (False, "chat_first"), answer
    ana = api("GET", "/agents/ana", tenant.id)[1]
    assert (ana["voice_blocks_other_channels"], ana["routing_profile_id"]) == (True, None)


def test_a_quick_connect_number_refused_is_not_quoted(tenant):
    body = {"quick_connects": {"legal": {"name": "Legal", "phone_number": "+378282246310005"}}}
    _refused(tenant, "/settings/transfers", body, "quick_connects.legal.phone_number", never=("378282246310005",))


@pytest.mark.parametrize("status", ["RESERVED", "ON_CONTACT", "ACW", "AVAILABLE_IDLE", "AVAILABLE", "OFFLINE"])
def test_an_ignored_status_no_not_ready_agent_can_have_is_a_422(tenant, status):
    body = {"agent_not_ready": {"ignore_statuses": ["LUNCH", status]}}
    _refused(tenant, "/alerts/rules", body, "agent_not_ready.ignore_statuses[1]")


def test_sets_read_back_sorted(tenant):
    status, put = api("PUT", "/queues/probe-q", tenant.id, {"name": "Probe", "channels": ["VOICE", "CHAT", "EMAIL"]})
    assert status == 200 and put["channels"] == ["CHAT", "EMAIL", "VOICE"], put
    (queue,) = [q for q in api("GET", "/queues", tenant.id)[1] if q["queue_id"] == "probe-q"]
    assert queue["channels"] == ["CHAT", "EMAIL", "VOICE"]
    rules = {"agent_not_ready": {"ignore_statuses": ["TRAINING", "LUNCH", "BREAK"]},
             "escalation_phrase": {"speakers": ["CUSTOMER", "AGENT"]}}
    assert api("PUT", "/alerts/rules", tenant.id, rules)[0] == 200
    read = api("GET", "/alerts/rules", tenant.id)[1]
    assert read["agent_not_ready"]["ignore_statuses"] == ["BREAK", "LUNCH", "TRAINING"]
    assert read["escalation_phrase"]["speakers"] == ["AGENT", "CUSTOMER"]


@pytest.mark.parametrize("threshold", [0, 3_601])
def test_the_kpi_default_sl_threshold_has_the_queues_bounds(tenant, threshold):
    _refused(tenant, "/settings/kpis", {"default_sl_threshold_s": threshold}, "default_sl_threshold_s")
