"""moto patch 12 (local.moto_patches): SendTaskSuccess/Failure/Heartbeat skip an execution that is starting
or ending (no worker yet or any more) instead of failing with an AttributeError — seen when an agent
accepted as the customer's execution ended; pinned to moto's source."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from local import moto_patches

moto_patches.import_step_functions_parser()  # patch 28: before the parser's modules are imported below
from moto.stepfunctions.parser.api import ExecutionStatus, InvalidToken  # noqa: E402
from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: E402


class Pool:
    def __init__(self, token: str) -> None:
        self.token, self.notified, self.beats = token, [], 0

    def notify(self, callback_id: str, outcome: object) -> bool:
        if callback_id != self.token:
            return False
        self.notified.append(outcome)
        return True

    def heartbeat(self, callback_id: str) -> bool:
        self.beats += callback_id == self.token
        return callback_id == self.token


def _backend(*executions: object) -> SimpleNamespace:
    """A backend with one state machine holding `executions` (moto's `_get_executions` over it, as moto's)."""
    def get_executions(status=None):  # noqa: ANN001, ANN202 - moto's, for its own functions
        return [e for e in executions if status is None or status == e.status]

    return SimpleNamespace(state_machines=[SimpleNamespace(executions=list(executions))],
                           _get_executions=get_executions)


def _execution(worker: object, status: ExecutionStatus | None = ExecutionStatus.RUNNING) -> SimpleNamespace:
    def read_status(self: SimpleNamespace) -> str:
        return self.exec_status.value  # moto's Execution.status: an AttributeError while exec_status is None

    execution_class = type("Execution", (SimpleNamespace,), {"status": property(read_status)})
    return execution_class(exec_worker=worker, exec_status=status)


def _with_worker(pool: Pool) -> SimpleNamespace:
    return _execution(SimpleNamespace(env=SimpleNamespace(callback_pool_manager=pool)))


@pytest.fixture(autouse=True)
def patched():
    moto_patches.apply()


def test_a_starting_execution_before_the_tokens_one_no_longer_hides_it():
    pool = Pool("tok")
    backend = _backend(_execution(None), _with_worker(pool))
    original = moto_patches._originals_task_callbacks["send_task_success"]
    with pytest.raises(AttributeError):  # moto's own: the reason for the patch
        original(backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_failure(backend, "tok", "Err", "cause")
    StepFunctionsParserBackend.send_task_heartbeat(backend, "tok")
    assert len(pool.notified) == 2 and pool.beats == 1


def test_an_execution_whose_worker_has_no_environment_yet_does_not_hide_the_tokens_one():
    pool = Pool("tok")
    backend = _backend(_execution(SimpleNamespace(env=None)), _with_worker(pool))
    with pytest.raises(AttributeError):  # moto's own
        moto_patches._originals_task_callbacks["send_task_success"](backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")
    assert len(pool.notified) == 1


def test_a_token_no_running_execution_holds_is_invalid_as_on_aws():
    backend = _backend(_execution(None), _with_worker(Pool("other")))
    with pytest.raises(InvalidToken):
        StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")


def test_an_execution_without_a_status_yet_is_not_running_and_hides_nothing():
    """moto appends a new execution to its state machine before setting its status: listing the running
    executions read that None status (two 500s of SendTaskSuccess in a 10-minute busy day)."""
    pool = Pool("tok")
    finished = _execution(None, status=ExecutionStatus.SUCCEEDED)
    backend = _backend(_execution(None, status=None), _with_worker(pool), finished)
    with pytest.raises(AttributeError):  # moto's own listing
        moto_patches._originals_task_callbacks["send_task_success"](backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_heartbeat(backend, "tok")
    assert len(pool.notified) == 1 and pool.beats == 1
    assert moto_patches.running_executions(backend) == [backend.state_machines[0].executions[1]]


def test_patch_12_is_pinned_to_motos_source():
    assert not [p for p in moto_patches.problems(include_version=False) if "patch 12" in p or "task callbacks" in p]
