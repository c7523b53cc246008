"""moto patches 10, 11 and 28 (local.moto_patches): a response class's method names listed once, an ASL
definition parsed once (fresh evaluation components per execution); both pinned to moto's source."""
from __future__ import annotations

import json

import subprocess
import sys
import textwrap

import pytest
from moto.core import responses as core_responses
from moto.dynamodb.responses import DynamoHandler

from local import moto_patches
from local.moto_patches import ROOT

moto_patches.import_step_functions_parser()  # patch 28: before the parser's modules are imported below
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException  # noqa: E402

DEFINITION = json.dumps({
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.first", "Next": "Choose"},
        "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.first.x", "NumericEquals": 1, "Next": "Done"}],
                   "Default": "Fail"},
        "Fail": {"Type": "Fail", "Error": "Nope"},
        "Done": {"Type": "Succeed"},
    },
})


@pytest.fixture(autouse=True)
def patched():
    moto_patches.apply()


def test_pins_hold():
    assert not [p for p in moto_patches.problems(include_version=False)
                if "patch 10" in p or "patch 11" in p or "ASL parser" in p or "moto.core.responses" in p]


def test_method_names_are_moto_s_and_listed_once():
    original = moto_patches._original_method_names  # noqa: SLF001
    memo = core_responses.method_names_from_class
    assert memo is not original
    first = memo(DynamoHandler)
    assert first == original(DynamoHandler)
    assert "query" in first and "transact_write_items" in first and "call_action" in first
    assert memo(DynamoHandler) is first  # the kept list


def test_a_definition_is_parsed_once_and_each_execution_gets_its_own_components():
    program_a, tree_a = AmazonStateLanguageParser.parse(DEFINITION)
    program_b, tree_b = AmazonStateLanguageParser.parse(DEFINITION)
    assert tree_b is tree_a  # the ANTLR tree is kept
    assert program_b is not program_a  # the evaluation components are not
    assert type(program_b) is type(program_a)
    original_program, _ = moto_patches._original_asl_parse(DEFINITION)  # noqa: SLF001
    assert type(original_program) is type(program_a)
    assert [type(s).__name__ for s in program_b.states.states.values()] == \
        [type(s).__name__ for s in original_program.states.states.values()]


def test_syntax_errors_are_raised_every_time_and_not_kept():
    bad = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": tru'
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse(bad)
    assert bad not in AmazonStateLanguageParser.parse.trees


def test_the_parser_is_imported_without_batch_and_ec2_models_and_batch_stays_moto_s():
    # a fresh process: in this one another test may have imported moto.batch already. Its cyclic collector
    # is off: it ran over moto's module objects again and again while they were imported (~25 % of the
    # probe's CPU), and it frees nothing the probe looks at (which modules the imports bring in).
    probe = textwrap.dedent("""
        import gc
        gc.disable()
        import sys
        from local import moto_patches
        moto_patches.apply()
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_batch)
        loaded = sorted(m for m in sys.modules if m.startswith(("moto.ec2", "moto.batch.models")))
        print("loaded:", loaded)
        import moto.batch
        import moto.batch.utils
        print("batch backends:", type(moto.batch.batch_backends).__name__, moto.batch.utils.JobStatus.FAILED.value)
        print("job status:", state_task_service_batch.JobStatus.SUCCEEDED.value)
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: []" in done.stdout
    assert "batch backends: BackendDict FAILED" in done.stdout
    assert "job status: SUCCEEDED" in done.stdout
