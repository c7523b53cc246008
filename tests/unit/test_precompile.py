"""tests/precompile.py: what the xdist controller compiles before its workers start is what they would have
compiled themselves, in the caches they read."""
from __future__ import annotations

import importlib.util
import marshal
from pathlib import Path
from types import SimpleNamespace

import pytest
from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, get_cache_dir

from tests import precompile

PYTHON_FILES = ["test_*.py", "*_test.py"]
TEST_SOURCE = "def test_sum():\n    total = sum([1, 2])\n    assert total == 3, 'adds up'\n"
PLAIN_SOURCE = "def double(x):\n    assert x is not None\n    return 2 * x\n"


def _pytest_pyc(path: Path) -> Path:
    return get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)


def test_a_test_module_gets_the_rewritten_pyc_pytest_reads_with_this_suites_config(tmp_path, request) -> None:
    module = tmp_path / "test_sample.py"
    module.write_text(TEST_SOURCE)

    assert precompile.main([",".join(PYTHON_FILES), str(module)]) == 0

    cached = _read_pyc(module, _pytest_pyc(module))
    assert cached is not None, "pytest does not accept the pyc"
    # what pytest's rewriter makes of the file with this run's real config (code objects compare their
    # bytecode, constants, names and nested code; marshal's bytes also depend on reference counts)
    _, own = _rewrite_test(module, request.config)
    assert cached == own and cached.co_filename == own.co_filename
    assert b"@py_assert" in marshal.dumps(cached), "asserts not rewritten"


def test_a_conftest_is_rewritten_and_other_modules_get_cpythons_pyc(tmp_path) -> None:
    conftest = tmp_path / "conftest.py"
    conftest.write_text(PLAIN_SOURCE)
    plain = tmp_path / "helpers.py"
    plain.write_text(PLAIN_SOURCE)

    precompile.main([",".join(PYTHON_FILES), str(conftest), str(plain)])

    assert _read_pyc(conftest, _pytest_pyc(conftest)) is not None
    assert not Path(importlib.util.cache_from_source(str(conftest))).exists()
    data = Path(importlib.util.cache_from_source(str(plain))).read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    code = marshal.loads(data[16:])
    assert code == compile(PLAIN_SOURCE, str(plain), "exec", dont_inherit=True)
    assert not _pytest_pyc(plain).exists(), "a plain module's asserts are not rewritten"


def test_a_current_pyc_is_left_and_a_changed_source_compiled_again(tmp_path, request) -> None:
    module = tmp_path / "test_sample.py"
    module.write_text(TEST_SOURCE)
    precompile.main([",".join(PYTHON_FILES), str(module)])
    pyc = _pytest_pyc(module)
    written = pyc.stat().st_mtime_ns

    precompile.main([",".join(PYTHON_FILES), str(module)])
    assert pyc.stat().st_mtime_ns == written

    module.write_text(TEST_SOURCE.replace("3", "4").replace("2]", "3]"))
    precompile.main([",".join(PYTHON_FILES), str(module)])
    cached = _read_pyc(module, pyc)
    assert cached is not None
    assert cached == _rewrite_test(module, request.config)[1]


def test_a_file_that_does_not_parse_is_left_to_the_worker_that_imports_it(tmp_path) -> None:
    broken = tmp_path / "test_broken.py"
    broken.write_text("def test_(:\n")
    fine = tmp_path / "test_fine.py"
    fine.write_text(TEST_SOURCE)

    assert precompile.main([",".join(PYTHON_FILES), str(broken), str(fine)]) == 0

    assert not _pytest_pyc(broken).exists()
    assert _read_pyc(fine, _pytest_pyc(fine)) is not None


def test_the_controller_compiles_in_child_processes_and_waits_for_them(tmp_path) -> None:
    files = []
    for i in range(5):
        files.append(tmp_path / f"test_m{i}.py")
        files[-1].write_text(TEST_SOURCE)
        files.append(tmp_path / f"m{i}.py")
        files[-1].write_text(PLAIN_SOURCE)

    precompile.run(files, PYTHON_FILES, processes=2, cwd=Path(__file__).resolve().parents[2])

    for path in files:
        if path.name.startswith("test_"):
            assert _read_pyc(path, _pytest_pyc(path)) is not None, path
        else:
            assert Path(importlib.util.cache_from_source(str(path))).exists(), path


@pytest.mark.parametrize("option, worker", [(SimpleNamespace(numprocesses=None), False),
                                            (SimpleNamespace(numprocesses=3), True)])
def test_only_the_xdist_controller_compiles_ahead(monkeypatch, option, worker) -> None:
    calls = []
    monkeypatch.setattr(precompile, "run", lambda *args, **kwargs: calls.append(args))
    config = SimpleNamespace(option=option, rootpath=Path(__file__).resolve().parents[2])
    if worker:
        config.workerinput = {}
    precompile.pytest_sessionstart(SimpleNamespace(config=config))
    assert calls == []

    controller = SimpleNamespace(option=SimpleNamespace(numprocesses=3), rootpath=config.rootpath,
                                 getini=lambda name: PYTHON_FILES)
    precompile.pytest_sessionstart(SimpleNamespace(config=controller))
    (files, patterns), = calls
    assert patterns == PYTHON_FILES
    assert Path(__file__).resolve() in files and any(p.parts[-3:-1] == ("layers", "ccaas") for p in files)


def test_without_children_or_with_one_stuck_the_controller_goes_on(monkeypatch, tmp_path):
    def no_process(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(precompile.subprocess, "Popen", no_process)
    precompile.run([tmp_path / "test_a.py"], PYTHON_FILES, processes=2, cwd=tmp_path)  # returns

    class Stuck:
        killed = False

        def __init__(self, *args, **kwargs) -> None:
            self.waits = 0

        def wait(self, timeout=None):  # noqa: ANN001, ANN202
            self.waits += 1
            if not Stuck.killed:
                raise precompile.subprocess.TimeoutExpired("precompile", timeout)

        def kill(self) -> None:
            Stuck.killed = True

    monkeypatch.setattr(precompile.subprocess, "Popen", Stuck)
    precompile.run([tmp_path / "test_a.py"], PYTHON_FILES, processes=1, cwd=tmp_path)
    assert Stuck.killed
