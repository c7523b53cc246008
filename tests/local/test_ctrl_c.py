"""`make run`'s Ctrl-C (local.__main__.main): the process leaves at once after the runtime stops (_exit_now), so the
runtime is told the process exits (LocalRuntime.stop(process_exits=True)) and leaves its running workflows to end
with it: one StopExecution per waiting contact took 7.5-8.3 s with 800 waiting (the goal is out within 5 s)."""
from __future__ import annotations

from types import SimpleNamespace

import local.__main__ as cli


class _Runtime:
    def __init__(self) -> None:
        self.simulation = None
        self.pollers: list = []
        self.stopped_with: list[dict] = []

    def stop(self, **kwargs) -> None:
        self.stopped_with.append(kwargs)


def test_main_stops_the_runtime_as_the_process_exits(monkeypatch):
    runtime = _Runtime()

    def launch(args, out, stop):  # noqa: ANN001, ANN202 (launch's signature)
        stop.set()  # Ctrl-C as soon as it serves
        return runtime

    monkeypatch.setattr(cli, "launch", launch)
    monkeypatch.setattr(cli.signal, "signal", lambda *a: None)  # leave the test process's handlers alone
    assert cli.main(["--port", "0", "--no-simulate"]) == 0
    assert runtime.stopped_with == [{"process_exits": True}]


def test_a_runtime_that_outlives_its_stop_stops_its_workflows():
    """The tests' runtimes live in a process that goes on: shutdown() without process_exits stops each workflow."""
    runtime = _Runtime()
    cli.shutdown(runtime, SimpleNamespace(write=lambda s: None, flush=lambda: None))
    assert runtime.stopped_with == [{"process_exits": False}]
