"""Compile the suite's and the project's modules once, before `make test`'s xdist workers start.

Every worker collects the whole suite: it imports every test module (rewritten by pytest's assertion
rewriter) and what they import. In a fresh clone no bytecode is cached yet, so the three workers compiled
the same ~580 files at the same moment, ~6 s of CPU each beyond a warm collection (first measured in a
fresh-clone `.ci/run`: 11.5-12.6 s of CPU per worker to collect, 5.3-6.0 s when the caches exist). The
controller now has them compiled first, by one process per core, into the caches the workers then read:
pytest's own pyc format for the modules it rewrites (its source-hash pyc, by its own functions) and
CPython's for the rest. When the caches are current this costs ~0.05 s.

Only a speed-up: whatever this cannot do (another pytest without these functions, a file that does not
parse) it leaves to the workers, which compile as they always did. tests/unit/test_precompile.py checks that
pytest accepts the pyc written here and that its code is what pytest's rewriter makes with the suite's config."""
from __future__ import annotations

import compileall
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the children that compile import nothing of pytest's but its rewriter
    import pytest

# The project's packages and the suite: what the workers import.
PACKAGES = ("tests", "layers", "local", "functions", "infra", "bench")
TIMEOUT_S = 120  # a child that takes longer is stopped: the workers compile what it left


def pytest_sessionstart(session: pytest.Session) -> None:
    """In the xdist controller (the workers start after this hook: xdist's own is trylast)."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return  # a worker, or a run in one process: it compiles as it imports, once
    root = config.rootpath
    run(sources(root), config.getini("python_files"), processes=os.cpu_count() or 2, cwd=root)


def sources(root: Path) -> list[Path]:
    return sorted(p for d in PACKAGES if (root / d).is_dir() for p in (root / d).rglob("*.py"))


def rewritten_by_pytest(path: Path, python_files: Iterable[str]) -> bool:
    """pytest rewrites the asserts of test modules (its python_files patterns, matched as its rewrite hook
    matches them) and conftest files."""
    from _pytest.pathlib import fnmatch_ex

    return path.name == "conftest.py" or any(fnmatch_ex(pattern, path) for pattern in python_files)


def run(files: Sequence[Path], python_files: Sequence[str], *, processes: int, cwd: Path) -> None:
    """Compile `files` in `processes` child processes (interleaved slices, so each gets test and package
    modules alike) and wait for them."""
    slices = [files[i::processes] for i in range(processes)]
    children = []
    try:
        for part in slices:
            if part:
                children.append(subprocess.Popen(
                    [sys.executable, "-m", "tests.precompile", ",".join(python_files), *map(str, part)],
                    cwd=cwd, stdin=subprocess.DEVNULL))
    except OSError:
        pass  # no process to be had: the workers compile as they import
    for child in children:
        try:
            child.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def compile_one(path: Path, python_files: Sequence[str]) -> None:
    if not rewritten_by_pytest(path, python_files):
        compileall.compile_file(str(path), quiet=2)  # skips a file whose cached pyc is current
        return
    from _pytest.assertion.rewrite import PYC_TAIL, _rewrite_test, _write_pyc_fp, get_cache_dir

    pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
    source = path.read_bytes()
    try:
        with open(pyc, "rb") as cached:
            header = cached.read(16)
        if header[:4] == importlib.util.MAGIC_NUMBER and header[8:16] == importlib.util.source_hash(source)[:8]:
            return  # current (pytest checks the same two fields)
    except OSError:
        pass
    # config=None: what pytest's rewriter reads from its config is the enable_assertion_pass_hook ini option,
    # which this project leaves off (tests/unit/test_precompile.py compares with the real config's code).
    source_hash, code = _rewrite_test(path, None)  # type: ignore[arg-type]
    pyc.parent.mkdir(exist_ok=True)
    partial = pyc.with_name(f"{pyc.name}.{os.getpid()}")
    with open(partial, "wb") as out:
        _write_pyc_fp(out, source_hash, code)
    os.replace(partial, pyc)  # atomic, as pytest writes its own: a reader sees the old pyc or the new one


def main(argv: Sequence[str]) -> int:
    sys.dont_write_bytecode = False  # PYTHONDONTWRITEBYTECODE, as tests/conftest.py overrides it
    python_files = argv[0].split(",")
    for name in argv[1:]:
        try:
            compile_one(Path(name), python_files)
        except Exception:  # noqa: BLE001 (a file that does not parse: the worker that imports it reports it)
            continue
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
