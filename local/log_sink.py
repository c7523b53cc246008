"""Where handler output goes locally: what CloudWatch Logs would hold on AWS.

Handlers print (Powertools Logger JSON lines, EMF metric blobs) to stdout. In one shared process that
would flood the console of `make run` and interleave with the progress line. `install()` swaps
sys.stdout for a proxy: text written inside an invocation (see `capture`) goes to the sink (a file,
and a small in-memory tail per function for tests); everything else goes to the real stdout.
"""
from __future__ import annotations

import collections
import contextlib
import contextvars
import io
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

_in_invocation: contextvars.ContextVar[str | None] = contextvars.ContextVar("local_log_fn", default=None)
_lock = threading.Lock()
_file: TextIO | None = None
_path: Path | None = None
_tails: dict[str, collections.deque[str]] = collections.defaultdict(lambda: collections.deque(maxlen=200))


class _StdoutProxy(io.TextIOBase):
    def __init__(self, real: TextIO) -> None:
        self._real = real

    def write(self, s: str) -> int:  # type: ignore[override]
        fn = _in_invocation.get()
        if fn is None:
            return self._real.write(s)
        _sink(fn, s)
        return len(s)

    def flush(self) -> None:
        if _in_invocation.get() is None:
            self._real.flush()
        elif _file is not None:
            with _lock:
                _file.flush()

    def isatty(self) -> bool:
        return self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def __getattr__(self, name: str):  # buffer, errors, ... of the real stream
        return getattr(self._real, name)


def _sink(fn: str, text: str) -> None:
    with _lock:
        if _file is not None:
            _file.write(text)
        tail = _tails[fn]
        for line in text.splitlines():
            if line.strip():
                tail.append(line)


def install(path: Path | None) -> None:
    """Idempotent; (re)opens the sink file when a path is given."""
    global _file, _path
    with _lock:
        if not isinstance(sys.stdout, _StdoutProxy):
            sys.stdout = _StdoutProxy(sys.stdout)  # type: ignore[assignment]
        if path is not None and path != _path:
            if _file is not None:
                _file.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            _file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            _path = path


class SinkHandler(logging.Handler):
    """A logging handler that writes to the sink file (for noisy libraries such as moto's ASL engine)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def route_logger(name: str) -> None:
    """Send a library's log records to the sink instead of the console."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, SinkHandler) for h in logger.handlers):
        handler = SinkHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False


def path() -> Path | None:
    return _path


def tail(function_name: str) -> list[str]:
    with _lock:
        return list(_tails.get(function_name, ()))


def write_line(text: str) -> None:
    with _lock:
        if _file is not None:
            _file.write(text if text.endswith("\n") else text + "\n")


@contextlib.contextmanager
def capture(function_name: str, request_id: str) -> Iterator[None]:
    token = _in_invocation.set(function_name)
    try:
        yield
    finally:
        _in_invocation.reset(token)
