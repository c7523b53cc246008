"""The stack deployed into moto once per module, and each function's template environment."""
from __future__ import annotations

import pytest

from tests.aws_stack import deployed_stack, function_environment


@pytest.fixture(scope="module")
def stack():
    with deployed_stack() as deployment:
        yield deployment


@pytest.fixture
def env(stack, monkeypatch):
    """env("folder") switches the process environment to that function's (serve_api's to start)."""

    def use(folder: str) -> None:
        for key, value in function_environment(stack, folder).items():
            monkeypatch.setenv(key, value)

    use("serve_api")
    return use
