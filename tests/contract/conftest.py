"""Every contract test runs twice: on the in-memory twins and on the AWS adapters over the synthesized
stack deployed into moto (once per module)."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import memory_dependencies
from tests.aws_stack import deployed_stack, moto_dependencies


@pytest.fixture(scope="module")
def stack():
    with deployed_stack() as deployment:
        yield deployment


@pytest.fixture(params=["memory", "moto"])
def deps(request, stack):
    return memory_dependencies() if request.param == "memory" else moto_dependencies(stack)
