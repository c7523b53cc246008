"""The journey spec language (ccaas.domain.journeys): what it accepts, what it refuses and where, and the
evaluator that says which expectation a step missed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaas.domain import connect_flow
from ccaas.domain.journeys import (
    FLOW_ACTIONS,
    JourneySuite,
    Observation,
    SpecError,
    closed_message,
    contact_values,
    evaluate,
    flow_values,
    loc_path,
    parse_journey,
    parse_suite,
    synthetic_attributes,
)
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE

ROOT = Path(__file__).resolve().parents[2]


def journey(*steps: dict, **extra: object) -> dict:
    return {"name": "j1", "inputs": {"phone": "+14155550101"}, "steps": list(steps), **extra}


ROUTE = {"action": "route", "parameters": {"queue_id": "sales"}, "expect": {"outcome": "queue", "queue_id": "sales"}}


def test_the_demo_suite_parses_and_covers_the_demo_queues() -> None:
    suite = parse_suite(json.loads((ROOT / "journeys" / "demo.json").read_text()))
    assert len(suite.journeys) >= 5
    queues = set()
    for j in suite.journeys:
        for s in j.steps:
            queues.add(getattr(s, "queue_id", None) or (getattr(s, "parameters", None) or {}).get("queue_id"))
    assert {"sales", "support", "billing", "supervisors"} <= queues
    kinds = {s.action for j in suite.journeys for s in j.steps}
    assert {"identify", "route", "hours", "wait_info", "create_contact", "agent_answers", "transfer", "complete"} <= kinds


def test_flow_actions_are_the_flow_adapters_own() -> None:
    assert set(FLOW_ACTIONS) <= set(connect_flow.ACTIONS)


def test_a_full_journey_parses_with_every_step_kind() -> None:
    spec = parse_journey(journey(
        {"action": "identify", "expect": {"found": True, "tier": "gold"}},
        {"action": "hours", "parameters": {"queue_id": "sales"}, "expect": {"open": True}},
        ROUTE,
        {"action": "wait_info", "parameters": {"queue_id": "sales"}, "expect": {"ewt_min_s": 0, "ewt_max_s": 60}},
        {"action": "callback", "parameters": {"queue_id": "sales"}},
        {"action": "create_contact", "queue_id": "sales", "expect": {"priority": 3, "latency_ms": 500}},
        {"action": "agent_answers", "agent_id": "bot"},
        {"action": "transfer", "queue_id": "support"},
        {"action": "agent_answers", "agent_id": "bot"},
        {"action": "complete"},
        {"action": "survey", "csat": 5},
        {"action": "wait_for", "state": "COMPLETED"},
    ))
    assert [s.kind for s in spec.steps][:6] == ["flow"] * 5 + ["api"]
    assert spec.agents() == ("bot",)


@pytest.mark.parametrize(("document", "path"), [
    (journey({**ROUTE, "expect": {"queue_idx": "sales"}}), "steps[0].expect.queue_idx"),
    (journey(ROUTE, ROUTE, {"action": "teleport"}), "steps[2].action"),
    (journey({"parameters": {}}), "steps[0].action"),
    (journey(ROUTE, {"action": "create_contact", "queue_id": "sales", "colour": "red"}), "steps[1].colour"),
    (journey({**ROUTE, "expect": {"priority": 11}}), "steps[0].expect.priority"),
    (journey({**ROUTE, "expect": {"priority": True}}), "steps[0].expect.priority"),
    (journey(ROUTE, extra_field=1), "extra_field"),
    (journey(ROUTE, inputs={"channel": "PIGEON"}), "inputs.channel"),
    (journey(ROUTE, inputs={"attributes": {"ccaas:synthetic": "x"}}), "inputs.attributes"),
    (journey(), "steps"),
    (journey(*[ROUTE] * 31), "steps"),
    (journey({**ROUTE, "expect": {"ewt_min_s": 60, "ewt_max_s": 10}}), "steps[0].expect"),
    (journey({**ROUTE, "parameters": {"action": "hours"}}), "steps[0].parameters"),
    (journey({"action": "survey"}), "steps[0]"),
    # a segment in the shape POST /contacts takes it: "Gold" was stored and failed only when the suite ran
    (journey({"action": "create_contact", "queue_id": "sales", "segment": "Gold"}), "steps[0].segment"),
])
def test_a_bad_spec_is_refused_with_the_path_of_the_offending_key(document: dict, path: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_journey(document)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


def test_refusals_inside_a_suite_name_the_journey_too() -> None:
    with pytest.raises(SpecError) as caught:
        parse_suite({"journeys": [journey(ROUTE), journey({**ROUTE, "expect": {"segmnt": "gold"}}, name="j2")]})
    assert caught.value.path == "journeys[1].steps[0].expect.segmnt"
    assert "unknown field" in str(caught.value)
    with pytest.raises(SpecError) as caught:
        parse_suite({"journeys": [journey(ROUTE), journey(ROUTE)]})
    assert "used twice" in str(caught.value)
    with pytest.raises(SpecError) as caught:
        parse_suite({"journeys": [journey({"action": "nope"})]})
    assert caught.value.path == "journeys[0].steps[0].action" and "unknown action" in caught.value.message


def test_api_steps_need_a_contact_and_an_agent_before_them() -> None:
    with pytest.raises(SpecError, match="needs a create_contact step"):
        parse_journey(journey({"action": "agent_answers", "agent_id": "bot"}))
    with pytest.raises(SpecError, match="needs an agent_id or the journey's test_agent"):
        parse_journey(journey({"action": "create_contact", "queue_id": "sales"}, {"action": "agent_answers"}))
    spec = parse_journey(journey({"action": "create_contact", "queue_id": "sales"}, {"action": "agent_answers"},
                                 test_agent="bot"))
    assert spec.agents() == ("bot",)


def test_a_suite_is_bounded_to_fifty_journeys() -> None:
    many = [journey(ROUTE, name=f"j{i}") for i in range(51)]
    with pytest.raises(SpecError) as caught:
        parse_suite(many)
    assert caught.value.path == "journeys"
    assert len(parse_suite(many[:50]).journeys) == 50


def test_loc_path_writes_indexes_in_brackets_and_drops_the_union_tag() -> None:
    assert loc_path(("steps", 2, "route", "expect", "queue_id")) == "steps[2].expect.queue_id"
    assert loc_path(("journeys", 0, "steps", 1), "union_tag_invalid") == "journeys[0].steps[1].action"
    assert loc_path(("name",)) == "name"


def test_synthetic_marks_name_the_journey_and_its_agent() -> None:
    spec = parse_journey(journey(ROUTE, test_agent="bot", inputs={"attributes": {"topic": "x"}}))
    assert synthetic_attributes(spec) == {"topic": "x", SYNTHETIC_ATTRIBUTE: "j1", TEST_AGENT_ATTRIBUTE: "bot"}
    assert synthetic_attributes(parse_journey(journey(ROUTE))) == {SYNTHETIC_ATTRIBUTE: "j1"}


# ----------------------------------------------------------------------------------- evaluation
def step_of(step: dict):
    return parse_journey(journey(step)).steps[0]


ROUTE_REPLY = {"status": "ok", "action": "route", "outcome": "queue", "queue_id": "sales", "priority": "3",
               "segment": "gold", "routing_steps": "2",
               "routing_criteria": json.dumps({"Steps": [{"Expression": {"AttributeCondition": {"Name": "sales"}},
                                                          "Expiry": {"DurationInSeconds": 15}}, {"Expression": {}}]})}


def test_a_step_meeting_every_expectation_passes() -> None:
    step = step_of({"action": "route", "expect": {
        "outcome": "queue", "queue_id": "sales", "segment": "gold", "priority": 3, "routing_steps": 2,
        "routing_criteria": {"Steps": [{"Expiry": {"DurationInSeconds": 15}}]}, "reply": {"priority": "3"},
        "latency_ms": 100}})
    observed = Observation(values=flow_values("route", ROUTE_REPLY), reply=ROUTE_REPLY, latency_ms=42)
    assert evaluate(step, observed) == []


def test_the_evaluator_names_each_failed_expectation() -> None:
    step = step_of({"action": "route", "expect": {
        "queue_id": "support", "priority": 3, "segment": "platinum",
        "routing_criteria": {"Steps": [{"Expiry": {"DurationInSeconds": 30}}]}, "latency_ms": 10}})
    failures = evaluate(step, Observation(values=flow_values("route", ROUTE_REPLY), reply=ROUTE_REPLY, latency_ms=42))
    assert [f.expectation for f in failures] == ["queue_id", "segment", "routing_criteria", "latency_ms"]
    assert failures[0].expected == "support" and failures[0].observed == "sales"
    assert "latency_ms: expected 10, observed 42" in str(failures[-1])


def test_estimated_wait_bounds() -> None:
    step = step_of({"action": "wait_info", "expect": {"ewt_min_s": 10, "ewt_max_s": 60}})
    def ewt(value: str | None) -> list[str]:
        reply = {"status": "ok", **({"ewt_s": value} if value is not None else {})}
        return [f.expectation for f in evaluate(step, Observation(values=flow_values("wait_info", reply), reply=reply))]
    assert ewt("30") == []
    assert ewt("5") == ["ewt_min_s"]
    assert ewt("61") == ["ewt_max_s"]
    assert ewt(None) == ["ewt_min_s", "ewt_max_s"]  # an unknown wait meets no bound


def test_an_error_reply_fails_unless_expected() -> None:
    reply = {"status": "error", "action": "route", "error_code": "unsupported_channel"}
    plain = step_of({"action": "route"})
    assert [f.expectation for f in evaluate(plain, Observation(values=flow_values("route", reply), reply=reply))] == ["status"]
    wanted = step_of({"action": "route", "expect": {"status": "error", "error_code": "unsupported_channel"}})
    assert evaluate(wanted, Observation(values=flow_values("route", reply), reply=reply)) == []


def test_closed_queue_and_closed_message() -> None:
    reply = {"status": "ok", "outcome": "closed", "queue_id": "sales", "next_open_local": "2026-12-07T09:00"}
    step = step_of({"action": "route", "expect": {"closed": True, "closed_message": "open again at 2026-12-07T09:00"}})
    assert evaluate(step, Observation(values=flow_values("route", reply), reply=reply)) == []
    hours = {"status": "ok", "open": "false", "queue_id": "sales", "time_zone": "UTC", "next_open_local": None}
    values = flow_values("hours", {k: v for k, v in hours.items() if v is not None})
    assert values["open"] is False and values["closed"] is True
    assert values["closed_message"] == closed_message("sales", None, "UTC") == "sales is closed"
    assert [f.expectation for f in evaluate(step_of({"action": "hours", "expect": {"open": True}}),
                                            Observation(values=values, reply=hours))] == ["open"]


def test_a_step_that_could_not_run_fails_as_not_completed() -> None:
    failures = evaluate(step_of({"action": "identify"}), Observation(error="timeout: no answer"))
    assert [(f.expectation, f.observed) for f in failures] == [("completed", "timeout: no answer")]


def test_contact_views_are_read_into_the_same_values() -> None:
    view = {"contact_id": "c1", "queue_id": "sales", "state": "QUEUED", "priority": 3, "segment": "gold",
            "routing_outcome": "queue", "agent_id": None, "wait": {"position": 1, "ewt_s": 12.2}}
    values = contact_values(view)
    assert values | {} == {**values, "state": "QUEUED", "outcome": "queue", "priority": 3, "ewt_s": 13, "closed": False}
    step = step_of({"action": "create_contact", "queue_id": "sales", "expect": {"state": "QUEUED", "ewt_max_s": 13}})
    assert evaluate(step, Observation(values=values, reply=view)) == []


def test_an_empty_suite_is_the_default_settings() -> None:
    assert JourneySuite().journeys == ()


def test_the_ci_gates_replay_thresholds() -> None:
    from types import SimpleNamespace as Q

    from local.journeys import regressions

    def result(*queues):
        return Q(queues=queues)

    base = result(Q(queue_id="sales", service_level=0.9, abandonment=0.02, answered=100),
                  Q(queue_id="support", service_level=0.8, abandonment=0.05, answered=80))
    same = result(Q(queue_id="sales", service_level=0.86, abandonment=0.06, answered=100),
                  Q(queue_id="support", service_level=0.8, abandonment=0.05, answered=80))
    assert regressions(base, same, max_sl_drop_pt=5, max_abandon_rise_pt=5) == []
    worse = result(Q(queue_id="sales", service_level=0.80, abandonment=0.02, answered=100),
                   Q(queue_id="support", service_level=None, abandonment=None, answered=0))
    found = [str(r) for r in regressions(base, worse, max_sl_drop_pt=5, max_abandon_rise_pt=5)]
    assert found == ["sales: service level drops 10.0 pt (at most 5)",
                     "support: answers nothing any more (no service level)"]
    assert [str(r) for r in regressions(base, same, max_sl_drop_pt=3, max_abandon_rise_pt=3)] == [
        "sales: service level drops 4.0 pt (at most 3)", "sales: abandonment rises 4.0 pt (at most 3)"]
