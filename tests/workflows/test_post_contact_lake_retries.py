"""statemachines/post_contact.asl.json retries a LakeExportFailed (the analytics lake refused a step's export
after the writer's own retries) instead of failing the execution: in the ASL, for every task whose function
exports to the lake, and in the local runtime's ASL interpreter (moto's), which names a function's error by
the handler's exception class (the Lambda runtime's errorType), as Step Functions does."""
from __future__ import annotations

import json
import time
import types
import uuid

import pytest

from infra.naming import STATEMACHINES_DIR, construct_id, function_arn_placeholder
from infra.function_specs import LAKE_EXPORTS

POST_CONTACT = STATEMACHINES_DIR / "post_contact.asl.json"
LAKE_RETRY = {"ErrorEquals": ["LakeExportFailed"], "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2}


def _tasks_by_function(definition: dict) -> dict[str, tuple[str, dict]]:
    """function folder -> (state name, state) for every Lambda task of the machine."""
    folders = {function_arn_placeholder(f): f for f in LAKE_EXPORTS} | {
        function_arn_placeholder(f): f for f in ("record_history", "analyze_contact")}
    found = {}
    for name, state in definition["States"].items():
        if state.get("Type") != "Task":
            continue
        placeholder = state["Parameters"]["FunctionName"].strip("${}")
        found[folders.get(placeholder, placeholder)] = (name, state)
    return found


def test_every_task_that_exports_to_the_lake_retries_lake_export_failed() -> None:
    definition = json.loads(POST_CONTACT.read_text())
    tasks = _tasks_by_function(definition)
    assert set(tasks) == {"record_history", "analyze_contact"}
    exporting = [folder for folder in tasks if folder in LAKE_EXPORTS]
    assert sorted(exporting) == ["analyze_contact", "record_history"]  # both steps export (infra.stack)
    for folder in exporting:
        name, state = tasks[folder]
        lake = [r for r in state["Retry"] if "LakeExportFailed" in r["ErrorEquals"]]
        assert lake == [LAKE_RETRY], name
        # the Lambda service errors keep their own, shorter policy; nothing catches the lake's failure
        assert any("Lambda.ServiceException" in r["ErrorEquals"] for r in state["Retry"]), name
        assert "Catch" not in state, name
    # 5 + 10 + 20 s of waiting per step at most (the whole budget: infra.asl.check_express_budget)
    waits = sum(LAKE_RETRY["IntervalSeconds"] * LAKE_RETRY["BackoffRate"] ** n for n in range(LAKE_RETRY["MaxAttempts"]))
    assert 2 * waits < 300


# --- the local interpreter ------------------------------------------------------------------------------
# Stand-ins for the two step functions: each raises the real LakeExportFailed as many times as the contact
# id says ("fail<N>-…"), then succeeds (attempts counted per contact in module state).
HANDLER = '''
from ccaas.ports_lake import LakeExportFailed

attempts = {}


def lambda_handler(event, context):
    contact = event["contact_id"]
    attempts[contact] = attempts.get(contact, 0) + 1
    failures = int(contact.split("-")[0].removeprefix("fail")) if contact.startswith("fail") else 0
    if attempts[contact] <= failures:
        raise LakeExportFailed(f"1 contact_records row(s) not accepted (attempt {attempts[contact]})")
    return {"recorded": True, "has_transcript": True, "analyzed": True}
'''


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    import boto3

    from local import call_counter, env_overlay, lambda_runtime, moto_patches, moto_server
    from local.deployer import Deployer

    functions = tmp_path_factory.mktemp("functions")
    folders = ("record_history", "analyze_contact")
    for folder in folders:
        (functions / folder).mkdir()
        (functions / folder / "handler.py").write_text(HANDLER)
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}
    resources: dict = {"Role": role}
    for folder in folders:
        resources[f"Functions{construct_id(folder)}Function0A1B2C3D"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "handler.lambda_handler", "Runtime": "python3.13", "MemorySize": 256,
                           "Timeout": 10, "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": "unused"}},
        }
    resources["PostContact"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineType": "STANDARD",  # the same states; a Standard run's history can be read back
            "DefinitionString": POST_CONTACT.read_text(),
            "DefinitionSubstitutions": {function_arn_placeholder(f): {
                "Fn::GetAtt": [f"Functions{construct_id(f)}Function0A1B2C3D", "Arn"]} for f in folders},
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        },
    }
    env_overlay.install()
    call_counter.install_hook()
    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    lambda_runtime.ENDPOINT["url"] = endpoint
    with pytest.MonkeyPatch.context() as env:  # the interpreter invokes the functions through this server
        env.setenv("MOTO_PORT", str(moto_server.port()))
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        dep = Deployer({"Resources": resources}, endpoint_url=endpoint, stack_name=f"Retry{uuid.uuid4().hex[:6]}",
                       functions_dir=functions).deploy()
        assert {f.folder for f in dep.functions.values()} == set(folders)
        sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t",
                           aws_secret_access_key="t")
        yield sfn, dep.state_machines["PostContact"]
    moto_patches.restore_step_functions_config()


@pytest.fixture
def waits(monkeypatch):
    """The interpreter's retry waits, recorded instead of slept (its retrier calls time.sleep)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    recorded: list[float] = []
    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=recorded.append))
    return recorded


def _run(machine, contact_id: str) -> tuple[dict, list[dict]]:
    sfn, arn = machine
    execution = sfn.start_execution(stateMachineArn=arn, name=contact_id,
                                    input=json.dumps({"tenant_id": "t1", "contact_id": contact_id}))
    deadline = time.monotonic() + 30
    while True:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return described, sfn.get_execution_history(executionArn=execution["executionArn"])["events"]


def _failures(events: list[dict]) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_the_local_interpreter_retries_a_lake_export_failed_with_the_asl_backoff(machine, waits) -> None:
    described, events = _run(machine, f"fail3-{uuid.uuid4().hex[:8]}")
    assert described["status"] == "SUCCEEDED", described
    # RecordHistory failed 3 times, then succeeded; then AnalyzeTranscript failed 3 times and succeeded
    assert _failures(events) == ["LakeExportFailed"] * 6
    assert waits == [5, 10, 20] * 2  # IntervalSeconds 5, BackoffRate 2, per state
    assert json.loads(described["output"])["analysis"] == {"analyzed": True}


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_a_lake_that_keeps_refusing_fails_the_execution_after_three_retries(machine, waits) -> None:
    described, events = _run(machine, f"fail9-{uuid.uuid4().hex[:8]}")
    assert described["status"] == "FAILED"
    assert described.get("error") == "LakeExportFailed"
    assert _failures(events) == ["LakeExportFailed"] * 4  # the first attempt and 3 retries, then the failure
    assert waits == [5, 10, 20]
