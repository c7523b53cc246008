"""What the local command-line tools (local.replay, local.flow, local.plot_forecast) share: an error is
one line on stderr naming the problem, `<prog>: error: <what>`, as infra.admin's are.

Exit codes: 0 done, 1 failed while running (an unreachable endpoint, an API that refused, a bug),
2 usage or input error (a bad argument; a file that is missing, not JSON, or fails validation: the file
and the first wrong field are named). `--debug` (or CCAAS_DEBUG=1) prints the traceback before the line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

M = TypeVar("M")


class UsageError(Exception):
    """A bad argument or input file: one line on stderr, exit code 2."""

    status = 2


class Failure(Exception):
    """A run that could not be done (unreachable, refused): one line on stderr, exit code 1."""

    status = 1


class Parser(argparse.ArgumentParser):
    """Usage errors are one line (exit code 2), not argparse's usage block; every tool has --debug."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", help="on an error, print the traceback too "
                          "(or set CCAAS_DEBUG=1)")

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (--help for usage)\n")


def debugging(flag: bool = False) -> bool:
    return flag or os.environ.get("CCAAS_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def run(prog: str, body: Callable[[], int], *, debug: bool = False, err: TextIO | None = None) -> int:
    """body()'s exit code; an exception as one line on stderr (and its code), the traceback only when debugging."""
    err = err or sys.stderr
    try:
        return body()
    except KeyboardInterrupt:
        return 130
    except (UsageError, Failure) as exc:
        caught, line, status = exc, str(exc), exc.status
    except Exception as exc:  # a bug or an error nothing above named: still one line
        caught, line, status = exc, f"{describe(exc)} (--debug for the traceback)", 1
    if debugging(debug):
        traceback.print_exception(caught, file=err)
    err.write(f"{prog}: error: {_one_line(line)}\n")
    err.flush()
    return status


def describe(exc: BaseException) -> str:
    """One line for an exception nobody translated: its type and its first line."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_json(path: str | Path, what: str = "file") -> Any:
    """The JSON document in `path`; a missing, unreadable or non-JSON file is a UsageError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path}: no such file") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{what} {path}: is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path}: not JSON (not UTF-8 text)") from exc
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def validation_message(exc: Any) -> str:
    """`field: message` of the first error of a pydantic ValidationError (and how many more there are)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "(the document)"
    more = f" (and {len(errors) - 1} more error{'s' * (len(errors) > 2)})" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def load_model(model: type[M], path: str | Path, what: str = "file") -> M:
    """`model` validated from the JSON file at `path`; any problem is one UsageError naming file and field."""
    from pydantic import ValidationError

    data = read_json(path, what)
    try:
        return model.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise UsageError(f"{what} {path}: invalid {validation_message(exc)}") from exc
