"""In-process Lambda execution: per-invocation environments, one execution environment per function,
the Lambda context, and errors in the runtime's shape (what Step Functions Catch matches on)."""
from __future__ import annotations

import json
import sys
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local import env_overlay

HANDLER = '''
import os, time

seen = []  # module state, as handlers keep it (one invocation at a time per environment on AWS)


class ContactAbandoned(Exception):
    pass


def lambda_handler(event, context):
    if event.get("raise"):
        raise ContactAbandoned("the customer left")
    seen.append(event["i"])
    time.sleep(0.01)
    mine = list(seen)
    seen.clear()
    os.environ["SCRATCH"] = str(event["i"])  # a write inside one invocation...
    return {
        "who": os.environ["WHO"],
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
        "scratch": os.environ["SCRATCH"],
        "state": mine,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "region": os.environ["AWS_REGION"],
    }
'''


def test_overlay_is_per_context_and_writes_stay_inside() -> None:
    env_overlay.install()
    assert "LOCAL_TEST_X" not in os.environ
    results: dict[str, list[str | None]] = {}
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        with env_overlay.overlay({"LOCAL_TEST_X": str(n)}):
            barrier.wait()
            got = []
            for _ in range(200):
                got.append(os.environ.get("LOCAL_TEST_X"))
                os.environ["LOCAL_TEST_Y"] = str(n)
                got.append(os.getenv("LOCAL_TEST_Y"))
            results[str(n)] = got

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n, got in results.items():
        assert set(got) == {n}, f"cross-talk in context {n}: {set(got)}"
    assert "LOCAL_TEST_X" not in os.environ and "LOCAL_TEST_Y" not in os.environ
    with env_overlay.overlay({"A": "1"}):
        with env_overlay.overlay({"A": "2"}):
            assert os.environ["A"] == "2"
        assert os.environ["A"] == "1" and "A" in dict(os.environ)
        del os.environ["A"]
        assert "A" not in os.environ
    assert "A" not in os.environ


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    import boto3

    from local import call_counter, lambda_runtime, moto_patches, moto_server
    from local.deployer import Deployer

    functions = tmp_path_factory.mktemp("functions")
    for folder in ("alpha", "beta"):
        (functions / folder).mkdir()
        (functions / folder / "handler.py").write_text(HANDLER)
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}

    def fn(folder: str) -> dict:
        return {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "handler.lambda_handler", "Runtime": "python3.13", "MemorySize": 256, "Timeout": 7,
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": "unused"},
                "Environment": {"Variables": {"WHO": folder, "POWERTOOLS_SERVICE_NAME": f"svc-{folder}"}},
            },
        }

    template = {"Resources": {"Role": role, "FunctionsAlphaFunction0A1B2C3D": fn("alpha"), "FunctionsBetaFunction4E5F6A7B": fn("beta")}}
    env_overlay.install()
    call_counter.install_hook()
    moto_patches.apply()
    endpoint = moto_server.ensure_started()
    lambda_runtime.ENDPOINT["url"] = endpoint
    dep = Deployer(template, endpoint_url=endpoint, stack_name="Isolation", functions_dir=functions).deploy()
    client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    yield dep, client
    moto_patches.restore_step_functions_config()


def invoke(client, name: str, event: dict) -> tuple[str | None, dict]:
    out = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return out.get("FunctionError"), json.loads(out["Payload"].read())


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_functions_map_to_their_folders(deployed) -> None:
    dep, _ = deployed
    assert {f.folder for f in dep.functions.values()} == {"alpha", "beta"}
    assert all(f.mapped_by == "logical id" for f in dep.functions.values())


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_concurrent_invocations_are_isolated(deployed) -> None:
    dep, client = deployed
    names = {f.folder: f for f in dep.functions.values()}
    jobs = [("alpha" if i % 2 else "beta", i) for i in range(40)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda j: (j, invoke(client, names[j[0]].name, {"i": j[1]})), jobs))
    for (folder, i), (error, body) in results:
        assert error is None, body
        assert body["who"] == folder and body["service"] == f"svc-{folder}"
        assert body["scratch"] == str(i), "an environment write leaked between invocations"
        assert body["state"] == [i], f"module state shared by concurrent invocations: {body['state']}"
        assert body["function_name"] == names[folder].name and body["arn"] == names[folder].arn
        assert body["memory"] == 256 and 0 < body["remaining"] <= 7000 and body["region"] == "us-east-1"
    assert len({b["request_id"] for _, (_, b) in results}) == len(jobs)
    assert "WHO" not in os.environ and "SCRATCH" not in os.environ


@pytest.mark.slow
@pytest.mark.xdist_group("runtime")
def test_errors_come_back_in_the_lambda_runtime_shape(deployed) -> None:
    dep, client = deployed
    name = next(f.name for f in dep.functions.values() if f.folder == "beta")
    error, body = invoke(client, name, {"raise": True})
    assert error  # X-Amz-Function-Error is set
    assert body["errorType"] == "ContactAbandoned" and body["errorMessage"] == "the customer left"
    assert isinstance(body["stackTrace"], list) and any("handler.py" in line for line in body["stackTrace"])
    assert body["requestId"]


def test_source_is_imported_from_the_folder_not_a_copy() -> None:
    from local.lambda_runtime import FunctionSpec

    a = FunctionSpec("Stack-A", "route_contact", Path("functions/route_contact"))
    b = FunctionSpec("Stack-B", "route_contact", Path("functions/route_contact"))
    assert a.package_name != b.package_name  # two functions, two module instances


def test_each_environment_has_its_own_metrics_state() -> None:
    """Powertools shares Metrics state between all instances of a process (class attributes); here a process holds
    every function's environments, and one handler's flush emptied another's set mid-flush ("Must contain at least one
    metric", a failed stream batch). Each imported environment gets its own sets, as its own process would."""
    from local.lambda_runtime import ExecutionEnvironment, FunctionSpec

    consumer = FunctionSpec("Stack-Metrics-A", "consume_contact_events", Path("functions/consume_contact_events"))
    alerts = FunctionSpec("Stack-Metrics-B", "evaluate_alerts", Path("functions/evaluate_alerts"))
    first, second, again = (ExecutionEnvironment(consumer, 0), ExecutionEnvironment(alerts, 0),
                            ExecutionEnvironment(consumer, 1))
    modules = []
    for env in (first, second, again):
        handler, cold, _ = env.load()
        assert cold
        modules.append(sys.modules[handler.__module__])
    sets = [m.metrics.provider.metric_set for m in modules]
    assert len({id(s) for s in sets}) == 3
    modules[0].metrics.add_metric(name="EventsApplied", unit="Count", value=1)
    assert not sets[1] and not sets[2]  # another function's, and another environment of the same function
    modules[0].metrics.provider.clear_metrics()
