"""The three changes the local runtime makes to moto, in one place, each checked before it is applied.

1. Lambda: `moto.awslambda.models.LambdaFunction._invoke_lambda(self, event) -> (payload, errored,
   logs)` is the one seam every invocation path goes through (Invoke API, Step Functions tasks, SNS,
   moto's own event source mappings). Without Docker moto would only echo the payload back; the patch
   runs the real handler in-process (local.lambda_runtime) for functions the deployer registered and
   defers to moto for any other function.
2. DynamoDB: moto's backend is not thread-safe (conditional writes under contention lose updates and
   let two writers "win" the same lock). The ThreadedMotoServer serves each request on its own thread,
   so every DynamoDB request is serialised with one lock around
   `moto.dynamodb.responses.DynamoHandler.call_action` (covers handlers, the Step Functions optimized
   DynamoDB integrations and the CLI alike, since all come in over HTTP).
3. Kinesis: moto's `Shard.put_record` says "not safe for concurrency" and it is not: concurrent
   PutRecords from handler threads get the same sequence number and one record silently replaces
   the other (measured: 199 of 200 records kept), and GetRecords iterates the shard's dict while
   puts mutate it. `KinesisResponse.call_action` gets its own lock, like DynamoDB's.
4. Step Functions: `moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`
   switches moto to its ASL interpreter (there is no environment variable for it in server mode).
5. Step Functions service integrations: moto's port of the ASL engine dropped LocalStack's parameter
   normalisation (`StateTaskService._normalise_parameters` is a no-op), so Task parameters reach boto3
   exactly as written in the ASL. AWS maps them to the SDK's member names case-insensitively
   (`StateMachineArn` -> `stateMachineArn`); moto did not, and `aws-sdk:sfn:startExecution` /
   `states:startExecution` failed with `States.Runtime: 'StateMachineArn'` (measured). The patch maps
   parameter names onto the botocore input shape (recursively) for `aws-sdk:*` and `states:*` tasks,
   and gives their responses AWS's PascalCase member names with timestamps as ISO strings (a raw
   datetime in the output made DescribeExecution answer HTTP 500). Services whose members already are
   PascalCase (DynamoDB) are unchanged.

Measured without patch 2 (tests/local/test_moto_guard.py does it with the patch): 16 threads racing
TransactWriteItems with a `version = :v` condition on the same item -> 2-5 of 40 items had two
"winners". With the lock: 0. (Plain conditional PutItem races did not reproduce here; transactions
do, and reservations are transactions.)

moto is pinned (requirements.txt); `problems()` lists what moved, and tests/local/test_moto_guard.py
fails with that list when an upgrade breaks an assumption.
"""
from __future__ import annotations

import functools
import inspect
import re
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DYNAMODB_LOCK = threading.RLock()
KINESIS_LOCK = threading.RLock()
_applied = False
_apply_lock = threading.Lock()
_original_invoke: Any = None
_original_ddb_call_action: Any = None
_original_kinesis_call_action: Any = None
_originals_sfn: dict[str, Any] = {}
_previous_sfn_config: Any = None


def pinned_moto_version(requirements: Path = ROOT / "requirements.txt") -> str | None:
    for line in requirements.read_text().splitlines():
        m = re.match(r"^\s*moto(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if m:
            return m.group(1)
    return None


def problems(include_version: bool = True) -> list[str]:
    """Every moto internal the runtime relies on, checked. Empty list = all good."""
    out: list[str] = []
    try:
        import moto
    except ImportError as exc:  # pragma: no cover
        return [f"moto is not importable: {exc}"]
    pinned = pinned_moto_version()
    if include_version and pinned and moto.__version__ != pinned:
        out.append(f"moto {moto.__version__} is installed, requirements.txt pins {pinned}: re-check these patches")
    try:
        from moto.awslambda.models import LambdaFunction

        target = _original_invoke or LambdaFunction.__dict__.get("_invoke_lambda")
        if target is None:
            out.append("moto.awslambda.models.LambdaFunction._invoke_lambda is gone (the in-process Lambda seam)")
        else:
            params = list(inspect.signature(target).parameters)
            if params[:2] != ["self", "event"]:
                out.append(f"LambdaFunction._invoke_lambda signature changed: {params} (expected self, event)")
        invoke_src = inspect.getsource(LambdaFunction.invoke)
        if "self._invoke_lambda(" not in invoke_src:
            out.append("LambdaFunction.invoke no longer calls self._invoke_lambda")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.awslambda.models.LambdaFunction not usable: {exc!r}")
    try:
        from moto.dynamodb import urls as ddb_urls
        from moto.dynamodb.responses import DynamoHandler

        if "call_action" not in DynamoHandler.__dict__:
            out.append("moto.dynamodb.responses.DynamoHandler.call_action is gone (the DynamoDB request path we lock)")
        routes = list(ddb_urls.url_paths.values())
        if not any(getattr(r, "__self__", None) is DynamoHandler for r in routes):
            out.append("moto.dynamodb.urls no longer routes requests through DynamoHandler.dispatch")
        from moto.core.responses import BaseResponse

        if not callable(getattr(BaseResponse, "call_action", None)):
            out.append("moto.core.responses.BaseResponse.call_action is gone")
        if "self.call_action()" not in inspect.getsource(BaseResponse._dispatch):
            out.append("moto.core.responses.BaseResponse._dispatch no longer calls self.call_action()")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.dynamodb.responses.DynamoHandler not usable: {exc!r}")
    try:
        from moto.kinesis import urls as kinesis_urls
        from moto.kinesis.responses import KinesisResponse

        if not any(getattr(r, "__self__", None) is KinesisResponse for r in kinesis_urls.url_paths.values()):
            out.append("moto.kinesis.urls no longer routes requests through KinesisResponse.dispatch")
        from moto.kinesis.models import Shard

        if "def put_record" not in inspect.getsource(Shard):
            out.append("moto.kinesis.models.Shard.put_record is gone (re-check whether puts are thread-safe now)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.kinesis not usable: {exc!r}")
    try:
        from moto.core.config import default_user_config
        from moto.stepfunctions import responses as sfn_responses

        if "stepfunctions" not in default_user_config or "execute_state_machine" not in default_user_config["stepfunctions"]:
            out.append('moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"] is gone')
        if "execute_state_machine" not in inspect.getsource(sfn_responses.get_backend):
            out.append("moto.stepfunctions.responses.get_backend no longer reads execute_state_machine")
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto Step Functions ASL engine not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service,
            state_task_service_aws_sdk,
            state_task_service_sfn,
        )

        base = state_task_service.StateTaskService
        if "self._normalise_parameters(normalised_parameters)" not in inspect.getsource(base._eval_execution):
            out.append("StateTaskService._eval_execution no longer calls _normalise_parameters")
        if "self._normalise_response(output_value)" not in inspect.getsource(base._eval_execution):
            out.append("StateTaskService._eval_execution no longer calls _normalise_response")
        for cls in (state_task_service_aws_sdk.StateTaskServiceAwsSdk, state_task_service_sfn.StateTaskServiceSfn):
            for name in ("_get_boto_service_name", "_get_boto_service_action", "_normalise_parameters"):
                if not callable(getattr(cls, name, None)):
                    out.append(f"{cls.__name__}.{name} is gone")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto Step Functions service-task classes not usable: {exc!r}")
    try:
        from moto.server import ThreadedMotoServer

        for name in ("start", "stop", "get_host_and_port"):
            if not callable(getattr(ThreadedMotoServer, name, None)):
                out.append(f"moto.server.ThreadedMotoServer.{name} is gone")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.server.ThreadedMotoServer not importable: {exc!r}")
    try:
        from moto.core.base_backend import BackendDict

        if not callable(getattr(BackendDict, "reset", None)):
            out.append("moto.core.base_backend.BackendDict.reset is gone (used to reset state between runtimes)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.core.base_backend not importable: {exc!r}")
    return out


def apply() -> None:
    """Idempotent. Raises RuntimeError listing what moved if a patch target is not as expected."""
    global _applied, _original_invoke, _original_ddb_call_action, _original_kinesis_call_action
    with _apply_lock:
        if _applied:
            enable_step_functions_execution()
            return
        found = problems(include_version=False)
        if found:
            raise RuntimeError("moto internals the local runtime patches have moved:\n- " + "\n- ".join(found))

        from moto.awslambda.models import LambdaFunction
        from moto.dynamodb.responses import DynamoHandler

        from local.lambda_runtime import REGISTRY, invoke_in_process

        _original_invoke = LambdaFunction._invoke_lambda

        @functools.wraps(_original_invoke)
        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            spec = REGISTRY.get(self.function_name)
            if spec is None:
                return _original_invoke(self, event)
            return invoke_in_process(self, spec, event)

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

        _original_ddb_call_action = DynamoHandler.call_action

        @functools.wraps(_original_ddb_call_action)
        def call_action(self: Any) -> Any:
            with DYNAMODB_LOCK:
                return _original_ddb_call_action(self)

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]

        from moto.kinesis.responses import KinesisResponse

        _original_kinesis_call_action = KinesisResponse.call_action  # BaseResponse's, inherited

        @functools.wraps(_original_kinesis_call_action)
        def kinesis_call_action(self: Any) -> Any:
            with KINESIS_LOCK:
                return _original_kinesis_call_action(self)

        KinesisResponse.call_action = kinesis_call_action  # type: ignore[method-assign]
        _patch_service_task_parameters()
        enable_step_functions_execution()
        _applied = True


def _operation_model(task: Any) -> Any:

    service = task._get_boto_service_name()
    action = task.resource.api_action  # e.g. startExecution
    model = _service_model(service)
    name = action[:1].upper() + action[1:]
    return model.operation_model(name) if name in model.operation_names else None


@functools.lru_cache(maxsize=64)
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def to_input_shape(value: Any, shape: Any) -> Any:
    """ASL parameter names -> the SDK's member names (case-insensitive), following the input shape."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {k.lower(): k for k in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = to_input_shape(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [to_input_shape(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: to_input_shape(v, shape.value) for k, v in value.items()}
    return value


def to_pascal_output(value: Any, shape: Any) -> Any:
    """SDK response member names -> PascalCase (what aws-sdk integrations return on AWS); timestamps
    as ISO 8601 strings (the execution's JSON cannot hold a datetime)."""
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            out[key[:1].upper() + key[1:]] = to_pascal_output(item, member)
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [to_pascal_output(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: to_pascal_output(v, shape.value) for k, v in value.items()}
    return value


def _patch_service_task_parameters() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
        state_task_service_sfn,
    )

    def wrap_parameters(cls: Any, key: str) -> None:
        original = cls.__dict__.get("_normalise_parameters") or getattr(cls, "_normalise_parameters")
        _originals_sfn[key] = original

        def _normalise_parameters(self: Any, parameters: dict, boto_service_name: Any = None, service_action_name: Any = None) -> None:
            original(self, parameters, boto_service_name, service_action_name)
            if boto_service_name is None and service_action_name is None:
                op = _operation_model(self)
                if op is not None and op.input_shape is not None:
                    mapped = to_input_shape(dict(parameters), op.input_shape)
                    parameters.clear()
                    parameters.update(mapped)

        cls._normalise_parameters = _normalise_parameters

    wrap_parameters(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "aws_sdk")
    wrap_parameters(state_task_service_sfn.StateTaskServiceSfn, "sfn")

    def wrap_response(cls: Any, key: str, sync_too: bool) -> None:
        original_response = getattr(cls, "_normalise_response")
        _originals_sfn[key] = original_response

        def _normalise_response(self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
            original_response(self, response, boto_service_name, service_action_name)
            if not isinstance(response, dict) or boto_service_name is not None or service_action_name is not None:
                return
            if not sync_too and self.resource.condition is not None:
                return  # .sync / .waitForTaskToken outputs are built by moto itself
            op = _operation_model(self)
            if op is not None and op.output_shape is not None:
                mapped = to_pascal_output(dict(response), op.output_shape)
                response.clear()
                response.update(mapped)

        cls._normalise_response = _normalise_response

    wrap_response(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "aws_sdk_response", sync_too=True)
    wrap_response(state_task_service_sfn.StateTaskServiceSfn, "sfn_response", sync_too=False)


def enable_step_functions_execution() -> None:
    global _previous_sfn_config
    from moto.core.config import default_user_config

    current = default_user_config.setdefault("stepfunctions", {})  # type: ignore[typeddict-item]
    if _previous_sfn_config is None:
        _previous_sfn_config = dict(current)
    current["execute_state_machine"] = True


def restore_step_functions_config() -> None:
    """Put the flag back (other tests in the same process may use mock_aws without it)."""
    global _previous_sfn_config
    from moto.core.config import default_user_config

    if _previous_sfn_config is not None:
        default_user_config["stepfunctions"] = dict(_previous_sfn_config)  # type: ignore[typeddict-item]
        _previous_sfn_config = None


def applied() -> bool:
    return _applied
