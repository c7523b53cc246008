"""The lifecycle continues a long wait as a new execution of itself (outside review L27, finding 1): the ASL's
self-start is found by infra.asl, and the state machine's role may start exactly its own executions, through a
policy of its own (naming the machine in the role's default policy, which the machine depends on, is a cycle)."""
from __future__ import annotations

import json

import pytest

from infra import asl
from infra.naming import STATEMACHINES_DIR


def _lifecycle() -> dict:
    return json.loads((STATEMACHINES_DIR / "contact_lifecycle.asl.json").read_text())


def test_the_lifecycle_starts_itself_by_name_and_post_contact_does_not():
    assert asl.starts_itself(_lifecycle())
    assert not asl.starts_itself(json.loads((STATEMACHINES_DIR / "post_contact.asl.json").read_text()))
    start = _lifecycle()["States"]["ContinueAsNew"]
    assert start["Resource"] == "arn:aws:states:::aws-sdk:sfn:startExecution" and start["End"] is True
    assert start["Parameters"]["StateMachineArn.$"] == "$$.StateMachine.Id"


def test_an_unnamed_self_start_is_refused():
    definition = _lifecycle()
    del definition["States"]["ContinueAsNew"]["Parameters"]["Name.$"]
    with pytest.raises(asl.AslError, match="ContinueAsNew starts this state machine again without naming"):
        asl.starts_itself(definition, source="lifecycle")


def test_the_lifecycle_may_start_itself_through_its_own_policy(synth):
    machine = synth.logical_id(synth.stack.lifecycle.state_machine)
    role = synth.logical_id(synth.stack.lifecycle.state_machine.role)
    own = [(pid, p["Properties"]) for pid, p in synth.of_type("AWS::IAM::Policy").items()
           if {"Ref": role} in p["Properties"]["Roles"]
           and any(st.get("Resource") == {"Ref": machine} for st in p["Properties"]["PolicyDocument"]["Statement"])]
    assert len(own) == 1, own
    policy_id, props = own[0]
    assert props["PolicyDocument"]["Statement"] == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine}}]
    assert policy_id not in synth.resources[machine].get("DependsOn", [])  # no cycle: the machine needs it not
    post_role = synth.logical_id(synth.stack.post_contact.state_machine.role)
    assert not [p for p in synth.of_type("AWS::IAM::Policy").values()
                if {"Ref": post_role} in p["Properties"]["Roles"]
                and "StartExecution" in json.dumps(p["Properties"]["PolicyDocument"])]
