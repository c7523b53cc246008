"""A command-line tool's `main` called in the test process as `python -m` would run it: the exit status (argparse's
SystemExit too) and the warnings a fresh interpreter would print to stderr (pytest's filters record them instead)."""
from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def exit_code(call: Callable[[], int | None]) -> int:
    """What the interpreter would exit with: `call`'s return, or the code of the SystemExit it raised (argparse)."""
    try:
        code = call()
    except SystemExit as exc:
        code = exc.code
    return int(code or 0)


@contextmanager
def fresh_interpreter_warnings(module: str) -> Iterator[list[str]]:
    """Python's default warning filters (no -W, no PYTHONWARNINGS) with `module` as __main__, recorded: once the
    block is left, the list holds what they would have printed to stderr."""
    printed: list[str] = []
    with warnings.catch_warnings(record=True) as shown:
        warnings.resetwarnings()
        for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("default", category=DeprecationWarning, module=re.escape(module) + r"\Z")
        yield printed
    printed += [warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in shown]
