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


def pytest_configure(config: pytest.Config) -> None:
    """pytest's unraisable-exception plugin runs a full garbage collection at unconfigure, to report what
    finalizers raise: in a worker that walks the whole heap (~1 M objects, 0.6-0.9 s of CPU each worker), after
    the worker's last report has gone, so nothing it could find would reach the controller anyway."""
    if not hasattr(config, "workerinput"):
        return
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # another pytest: it collects as it does
        return
    config.stash[gc_collect_iterations_key] = 0


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist: as usual
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)
