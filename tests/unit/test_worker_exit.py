"""tests/worker_exit.py: an xdist worker runs its exit functions, then ends without finalizing its heap or
running pytest's last full garbage collection, and the run's results are as they were (no worker reported
crashed)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = '''
import atexit, gc, os, pathlib

MARKS = pathlib.Path(os.environ["WORKER_EXIT_MARKS"])
atexit.register(lambda: (MARKS / "atexit").write_text(os.environ.get("PYTEST_XDIST_WORKER", "none")))


class FreedAtFinalization:
    def __del__(self, path=str(MARKS / "finalized"), _open=open):  # what it needs, bound before finalization
        with _open(path, "w") as marked:
            marked.write("freed")


KEPT = FreedAtFinalization()  # a module global: freed only when the interpreter finalizes


def test_passes():
    assert KEPT is not None


def test_fails():
    assert False, "a failure still reaches the controller"


class Collected:
    def __del__(self, path=str(MARKS / "collected"), _open=open):
        with _open(path, "w") as marked:
            marked.write("collected")


def test_leaves_a_cycle():
    gc.disable()  # only an explicit collection (pytest's at unconfigure) or the interpreter's finalization finds it
    cycle = Collected()
    cycle.me = cycle
'''


# Plugins the sample does not need (each ~0.04-0.45 s of imports in the controller and the worker).
UNUSED_PLUGINS = ("cacheprovider", "schemathesis", "hypothesispytest", "anyio", "typeguard")


def _run(tmp_path: Path, *plugin: str) -> tuple[subprocess.CompletedProcess, Path]:
    marks = tmp_path / "marks"  # each test has a tmp_path of its own
    marks.mkdir()
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {**os.environ, "WORKER_EXIT_MARKS": str(marks), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "1", *(f"-pno:{name}" for name in UNUSED_PLUGINS), *plugin,
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_sample.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result, marks


def test_a_worker_runs_its_exit_functions_and_skips_finalization(tmp_path: Path) -> None:
    result, marks = _run(tmp_path, "-p", "tests.worker_exit")
    assert result.returncode == 1, result.stdout + result.stderr  # one test failed: the run says so
    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert "crashed" not in result.stdout + result.stderr and "replacing" not in result.stdout
    assert (marks / "atexit").read_text() == "gw0"  # the worker's exit functions ran
    assert not (marks / "finalized").exists()  # its heap was not freed object by object
    assert not (marks / "collected").exists()  # nor walked by pytest's full collection at unconfigure


def test_without_the_plugin_the_worker_finalizes_its_heap(tmp_path: Path) -> None:
    """The check above can fail: a worker without the plugin frees the module global on its way out."""
    result, marks = _run(tmp_path)
    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert (marks / "atexit").read_text() == "gw0" and (marks / "finalized").read_text() == "freed"
    assert (marks / "collected").read_text() == "collected"
