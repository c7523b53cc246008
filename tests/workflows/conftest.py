"""The workflow tiers share one local runtime (package scope) instead of starting one per module: each test
seeds a tenant of its own (new_tenant) and reads only that tenant's contacts, executions and history, so a
module never sees another's state; nothing here reads the runtime's call counters or the demo tenant."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def runtime():
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()
