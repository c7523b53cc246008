"""Bounds of the routing policy model: an over-large policy is a validation error naming the field (the
API's 422), never a store error on save; the policies we ship and document still validate."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from ccaas.domain.routing_engine import RoutingPolicy, parse_condition
from ccaas.domain.routing_engine.conditions import Condition
from ccaas.domain.routing_engine.policy import DEFAULT_SEGMENTS, MAX_POLICY_BYTES

ROOT = Path(__file__).resolve().parents[2]
WEEK = 7 * 86_400


def _refused(policy: dict) -> list[tuple[str, str]]:
    """(dotted field path, message) of every problem; fails the test if the policy validates."""
    with pytest.raises(ValidationError) as caught:
        RoutingPolicy.model_validate(policy)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in caught.value.errors()]


def _step(**kw) -> dict:
    return {"queues": {"billing": {"steps": [{"condition": "billing>=2", "expiry_s": 10, **kw}]}}}


@pytest.mark.parametrize("policy, field, says", [
    ({"queues": {f"q{i}": {} for i in range(201)}}, "queues", "200"),
    ({"queues": {"x" * 1_000_000: {}}}, "queues", "pattern"),
    ({"queues": {"bad name": {}}}, "queues", "pattern"),
    ({"segments": {f"s{i}": {} for i in range(51)}}, "segments", "50"),
    ({"profiles": {f"p{i}": {} for i in range(201)}}, "profiles", "200"),
    ({"queues": {"billing": {"steps": [{"expiry_s": 1}] * 21}}}, "queues.billing.steps", "20"),
    (_step(expiry_s=WEEK + 1), "queues.billing.steps.0.expiry_s", "604800"),
    (_step(expiry_s=float("inf")), "queues.billing.steps.0.expiry_s", ""),
    (_step(name="n" * 65), "queues.billing.steps.0.name", "64"),
    (_step(preferred_agents=[f"a{i}" for i in range(21)]), "queues.billing.steps.0.preferred_agents", "20"),
    (_step(preferred_agents=["a" * 65]), "queues.billing.steps.0.preferred_agents.0", "pattern"),
    (_step(condition="a" * 513), "queues.billing.steps.0.condition", "512"),
    (_step(condition="(" * 200 + "a" + ")" * 200), "queues.billing.steps.0.condition", "nested"),
    (_step(condition=" or ".join(f"s{i}" for i in range(65))), "queues.billing.steps.0.condition", "terms"),
    ({"queue_defaults": {"expected_aht_s": WEEK * 2}}, "queue_defaults.expected_aht_s", "604800"),
    ({"queue_defaults": {"callback": {"max_wait_s": 10**12}}}, "queue_defaults.callback.max_wait_s", "604800"),
    ({"queue_defaults": {"hours": {"time_zone": "Z" * 100_000}}}, "queue_defaults.hours.time_zone", "64"),
    ({"queue_defaults": {"hours": {"weekly": {"mon": [{"start": "08:00", "end": "09:00"}] * 13}}}},
     "queue_defaults.hours.weekly.mon", "12"),
    ({"queue_defaults": {"hours": {"holidays": [{"start": "2026-12-25"}] * 101}}}, "queue_defaults.hours.holidays",
     "100"),
    ({"queue_defaults": {"hours": {"holidays": [{"start": "2026-01-01", "end": "2030-01-01"}]}}},
     "queue_defaults.hours.holidays.0", "366"),
    ({"queue_defaults": {"hours": {"holidays": [{"start": "2026-12-25", "name": "x" * 65}]}}},
     "queue_defaults.hours.holidays.0.name", "64"),
    ({"queue_defaults": {"hours": {"horizon_days": 10**9}}}, "queue_defaults.hours.horizon_days", "800"),
    ({"segments": {"gold": {"first_step_expiry_s": 10**9}}}, "segments.gold.first_step_expiry_s", "604800"),
    ({"journey": {"last_agent_window_s": 10**9}}, "journey.last_agent_window_s", "604800"),
    ({"journey": {"fcr_window_days": 10**6}}, "journey.fcr_window_days", "90"),
    ({"agent_scoring": {"proficiency": 1e300}}, "agent_scoring.proficiency", "1000"),
    ({"agent_scoring": {"idle": float("nan")}}, "agent_scoring.idle", ""),
    ({"agent_scoring": {"candidate_limit": 10**9}}, "agent_scoring.candidate_limit", "10000"),
    ({"contact_scoring": {"wait": -1}}, "contact_scoring.wait", "0"),
    ({"reservation": {"timeout_s": 10**9}}, "reservation.timeout_s", "604800"),
    ({"reservation": {"timeout": {"not_ready_status": "AVAILABLE"}}}, "reservation.timeout.not_ready_status",
     "not-ready"),
    ({"reservation": {"timeout": {"not_ready_status": "m" * 10_000}}}, "reservation.timeout.not_ready_status",
     "pattern"),
    ({"profiles": {"p": {"queues": [{"queue_id": f"q{i}"} for i in range(201)]}}}, "profiles.p.queues", "200"),
    ({"profiles": {"p": {"capacity": {"CHAT": 10**9}}}}, "profiles.p.capacity.CHAT", "50"),
    ({"name": "n" * 1_000}, "name", "64"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 60 else None)
def test_a_policy_over_a_bound_is_refused_naming_the_field(policy, field, says):
    problems = _refused(policy)
    assert any(loc.startswith(field) and says in msg for loc, msg in problems), problems


def test_a_policy_too_large_to_store_is_refused_naming_its_largest_part():
    step = {"condition": " or ".join(f"skill.{i:02d}.with.a.longish.name>=3" for i in range(12)), "expiry_s": 5}
    queue = {"steps": [step] * 20}
    over = MAX_POLICY_BYTES // len(json.dumps(queue)) + 5  # just past the document's limit (200 queues: 5x past)
    assert over <= 200
    big = {"queues": {f"queue{i}": queue for i in range(over)}}  # every part within its bounds
    (loc, msg), = _refused(big)
    assert loc == "" and str(MAX_POLICY_BYTES) in msg and "queues is the largest part" in msg


def test_a_deeply_nested_condition_is_a_clean_value_error_not_a_recursion_error():
    for text in ("(" * 5_000 + "a" + ")" * 5_000, "not " * 5_000 + "a", "!" * 400 + "a"):
        with pytest.raises(ValueError, match="longer than|nested deeper"):
            parse_condition(text)
    nested: dict = {"skill": "a"}
    for _ in range(10_000):
        nested = {"not": nested}
    with pytest.raises(ValidationError, match="nested deeper than 10"):
        TypeAdapter(Condition).validate_python(nested)
    wide = {"any": [{"skill": f"s{i}"} for i in range(100_000)]}
    with pytest.raises(ValidationError, match="more than 64 terms"):
        TypeAdapter(Condition).validate_python(wide)
    # text children inside the JSON form count towards the whole tree
    deep_text = "not (a and not (b or not (c and not d)))"  # 8 levels
    assert TypeAdapter(Condition).validate_python({"all": [{"not": deep_text}]})  # 10
    with pytest.raises(ValidationError, match="nested deeper than 10"):
        TypeAdapter(Condition).validate_python({"all": [{"any": [{"not": deep_text}]}]})  # 11
    with pytest.raises(ValueError, match="level is 1-5"):
        parse_condition("billing>=" + "9" * 400)


def test_conditions_within_the_bounds_still_parse():
    ok = "billing>=4 and (language:es>=3 or not vip)"
    assert TypeAdapter(Condition).validate_python(ok) == parse_condition(ok)
    parse_condition(" or ".join(f"s{i}" for i in range(63)))  # 63 leaves and their "or": 64 nodes
    parse_condition("(" * 9 + "a" + ")" * 9)


def _readme_policy() -> dict:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Waiting: timers, offers, callbacks, estimates"):]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


@pytest.mark.parametrize("source", ["default", "policy_default.json", "policy_fifo.json",
                                    "policy_agent_centric.json", "README"])
def test_the_shipped_and_documented_policies_validate_and_survive_a_save(source):
    if source == "default":
        policy = RoutingPolicy()
        assert policy.segments == DEFAULT_SEGMENTS
    elif source == "README":
        policy = RoutingPolicy.model_validate(_readme_policy())
    else:
        policy = RoutingPolicy.load(ROOT / "tests" / "fixtures" / "routing" / source)
    stored = policy.model_dump(mode="json")  # what routing.put_policy stores and policy_of reads back
    assert RoutingPolicy.model_validate(stored) == policy
    assert len(json.dumps(stored, separators=(",", ":"))) < MAX_POLICY_BYTES
