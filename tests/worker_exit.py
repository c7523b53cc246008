"""A pytest plugin for `make test`'s xdist workers (tests/conftest.py takes its hook): a worker ends without
freeing its heap object by object.

A worker has sent its last report (xdist's `workerfinished`, at session finish) before pytest unconfigures,
and the controller waits for the worker's process to end before it prints the summary. The interpreter's
finalization of a worker's heap (moto's backends, botocore's models, every module of the suite) took ~5 s at
the end of every `make test`. The exit functions still run (the CDK's jsii kernel stops its Node process,
logging flushes its handlers), then the process ends."""
from __future__ import annotations

import atexit
import os
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist: as usual
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)
