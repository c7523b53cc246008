"""ccaas.domain.journeys.spec_errors: every problem of a refused suite once, named as written (what the
API's 422 for PUT /settings/journeys lists): no union tag in the path, no "too short" echo for a list whose
items failed, and a model validator's refusal keeps the key it blames, under the journey it is in."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ccaas.domain.journeys import JourneySuite, SpecError, parse_suite, spec_errors

HOURS = {"action": "hours", "parameters": {"queue_id": "sales"}}


def _problems(document: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        JourneySuite.model_validate(document)
    return [(p.path, p.message) for p in spec_errors(caught.value)]


def test_each_problem_once_as_written_without_the_echo() -> None:
    document = {"journeys": [
        {"name": "a", "steps": [{**HOURS, "expect": {"queue_idx": 1}}]},
        {"name": "b", "steps": [{"action": "teleport"}, {**HOURS, "labl": "x"}]},
    ]}
    problems = _problems(document)
    assert [path for path, _ in problems] == ["journeys[0].steps[0].expect.queue_idx", "journeys[1].steps[0].action",
                                              "journeys[1].steps[1].labl"]
    assert problems[0][1] == "unknown field" and problems[1][1].startswith("unknown action; use one of identify")


def test_a_validators_refusal_names_its_key_inside_the_suite() -> None:
    assert _problems({"journeys": [{"name": "d", "steps": [HOURS]}, {"name": "d", "steps": [HOURS]}]}) == [
        ("journeys[1].name", "'d' is used twice")]
    assert _problems({"journeys": [{"name": "e", "steps": [HOURS, {"action": "complete"}]}]}) == [
        ("journeys[0].steps[1]", "complete needs a create_contact step before it")]


def test_parse_suite_raises_the_first_problem_with_its_key_and_loc() -> None:
    with pytest.raises(SpecError) as caught:
        parse_suite({"journeys": [{"name": "d", "steps": [HOURS]}, {"name": "d", "steps": [HOURS]}]})
    assert (caught.value.path, caught.value.loc, str(caught.value)) == (
        "journeys[1].name", ("journeys", 1, "name"), "journeys[1].name: 'd' is used twice")


def test_an_empty_step_list_is_still_a_problem_of_its_own() -> None:
    assert [p for p, _ in _problems({"journeys": [{"name": "f", "steps": []}]})] == ["journeys[0].steps"]
