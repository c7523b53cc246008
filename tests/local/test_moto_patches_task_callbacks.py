"""moto patch 12 (local.moto_patches): SendTaskSuccess/Failure/Heartbeat skip an execution that is starting
or ending (no worker yet or any more) instead of failing with an AttributeError — seen when an agent
accepted as the customer's execution ended; pinned to moto's source."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from moto.stepfunctions.parser.api import InvalidToken
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local import moto_patches


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
    return SimpleNamespace(_get_executions=lambda status=None: list(executions))


def _with_worker(pool: Pool) -> SimpleNamespace:
    return SimpleNamespace(exec_worker=SimpleNamespace(env=SimpleNamespace(callback_pool_manager=pool)))


@pytest.fixture(autouse=True)
def patched():
    moto_patches.apply()


def test_a_starting_execution_before_the_tokens_one_no_longer_hides_it():
    pool = Pool("tok")
    backend = _backend(SimpleNamespace(exec_worker=None), _with_worker(pool))
    original = moto_patches._originals_task_callbacks["send_task_success"]
    with pytest.raises(AttributeError):  # moto's own: the reason for the patch
        original(backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")
    StepFunctionsParserBackend.send_task_failure(backend, "tok", "Err", "cause")
    StepFunctionsParserBackend.send_task_heartbeat(backend, "tok")
    assert len(pool.notified) == 2 and pool.beats == 1


def test_a_token_no_running_execution_holds_is_invalid_as_on_aws():
    backend = _backend(SimpleNamespace(exec_worker=None), _with_worker(Pool("other")))
    with pytest.raises(InvalidToken):
        StepFunctionsParserBackend.send_task_success(backend, "tok", "{}")


def test_patch_12_is_pinned_to_motos_source():
    assert not [p for p in moto_patches.problems(include_version=False) if "patch 12" in p or "task callbacks" in p]
