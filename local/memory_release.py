"""Hands memory the interpreter has freed back to the operating system, now and then, during a long run.

Why: CPython returns freed objects to glibc's malloc, which keeps the pages of its heaps (one per thread
that allocated, up to 8 per core) for later allocations instead of unmapping them. The local runtime runs
hundreds of short-lived threads (a Step Functions execution each, a request each on the API server), whose
peaks leave free but resident memory behind: at the end of a busy-day bench run glibc's `malloc_trim(0)`
returned ~12 MB of the process's RSS at once (local/README.md "Under load"). `MemoryReleaser` calls it
every `interval_s` seconds on a thread of its own (ctypes releases the GIL while it runs; no forced garbage
collection: a full one walks the millions of objects moto and the handlers keep). Nothing changes for the
program: only pages malloc holds free are given back.

Only where the C library is glibc (`malloc_trim` is a GNU extension); elsewhere `release()` answers False
and the releaser does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from functools import cache
from typing import Any

log = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None (another C library, or none found)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def available() -> bool:
    return _malloc_trim() is not None


def release() -> bool:
    """Gives malloc's free pages back to the OS. False where unsupported."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class MemoryReleaser:
    """`release()` every `interval_s` seconds until stopped (a daemon thread; stop() returns at once)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.releases = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> MemoryReleaser:
        if available() and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="local-memory-release", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if release():
                    self.releases += 1
            except Exception as exc:  # noqa: BLE001 - never take the runtime down for this
                log.debug("releasing memory failed: %s", exc)
