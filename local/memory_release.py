"""Hands memory the interpreter has freed back to the operating system, now and then, during a long run.

Why: CPython returns freed objects to glibc's malloc, which keeps the pages of its heaps (one per thread
that allocated, up to 8 per core) for later allocations instead of unmapping them. The local runtime runs
hundreds of short-lived threads (a Step Functions execution each, a request each on the API server), whose
peaks leave free but resident memory behind: at the end of a busy-day bench run glibc's `malloc_trim(0)`
returned ~12 MB of the process's RSS at once (local/README.md "Under load"). `MemoryReleaser` calls it
every `interval_s` seconds on a thread of its own (ctypes releases the GIL while it runs). Nothing changes
for the program: only pages malloc holds free are given back.

Before each trim the releaser runs a full garbage collection. What only cycles hold waits for one: a finished
Step Functions execution and its worker refer to each other (moto's parser), and with the thresholds below
full collections came every few minutes, so forgotten executions (patch 15) piled up by the hundred, each with
its copy of the state machine and its event history (a census of a busy-day run: +340 Execution objects a
minute). So that a collection does not walk what the runtime holds from its start (the deployed stack, the
seeded tenants and their history, modules, botocore's models: millions of objects), `start()` collects once
and `gc.freeze()`s them out of every later collection (`stop()` unfreezes). Measured on the busy-day bench
(4 minutes, 3 contacts/s, 60 agents): RSS growth 105.8 -> 88.1 MB, 14.7 -> 8.7 MB a minute after the first;
a collection took 0.59 s on average before the freeze (longest 0.70), 0.20 s after it (longest 0.27; 0.53 after
10 minutes, as what the run wrote is walked too). A collection holds the GIL, so after a long one the next waits
longer (`next_wait_s`: at most 2 % of the time in them).

Trimming only where the C library is glibc (`malloc_trim` is a GNU extension); elsewhere `release()` answers
False and the releaser only collects.

While it runs, the releaser also makes the cyclic garbage collector's youngest generation hold
`YOUNG_GENERATION_THRESHOLD` objects instead of CPython's 700 (`gc.set_threshold`; put back on stop). A
long run allocates and frees objects at a high rate (every AWS call builds requests, responses, items),
and with 700 the collector ran ~70 times a second, promoting short-lived objects that then made the
full collections (each a walk of every object moto and the handlers keep: ~0.4 s) come sooner. Measured
on the busy-day bench (60 s, 3 contacts/s, gc callbacks timing each collection): 8.8 s of the run's ~78
CPU seconds in the collector (14 full collections) -> 3.9 s (one). Cycles are still collected, only in
larger batches: 20,000 young objects are a few MB at most.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

log = logging.getLogger(__name__)
YOUNG_GENERATION_THRESHOLD = 20_000
# At most 1/COLLECT_DUTY_SHARE of the time in the releaser's full collections: a pause that grew with what a long
# run wrote (items written after the start are not frozen) spaces the next one out.
COLLECT_DUTY_SHARE = 50


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while a burst of long-lived, acyclic objects is made (a runtime's start, a deploy
    into moto, a demo history's load): each full collection walks every object of the process, and during such
    bursts they ran dozens of times, 25-35 % of a start's CPU and 2-5x a history load's. Restored as it was,
    then one young collection for the cycles made meanwhile."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
            gc.collect(0)


def next_wait_s(interval_s: float, last_pause_s: float) -> float:
    """Seconds until the next collection and trim: the interval, or longer after a long collection."""
    return max(interval_s, COLLECT_DUTY_SHARE * last_pause_s)


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
        self.collections = 0
        self.collect_s = 0.0  # the full collections' time (each holds the GIL)
        self.longest_collect_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thresholds: tuple[int, ...] | None = None  # the collector's, while this releaser runs

    def start(self) -> MemoryReleaser:
        if self._thresholds is None:
            # What the runtime holds when it starts (moto's deployed stack and seeded tenants, imported modules,
            # botocore's models) stays for the run: out of every collection's walk from now on.
            gc.collect()
            gc.freeze()
            self._thresholds = gc.get_threshold()
            gc.set_threshold(max(self._thresholds[0], YOUNG_GENERATION_THRESHOLD), *self._thresholds[1:])
        if self._thread is None:  # collecting is worth it where there is no malloc_trim too
            self._thread = threading.Thread(target=self._run, name="local-memory-release", daemon=True)
            self._thread.start()
        return self

    def _collect(self) -> float:
        """A full collection, so what cycles hold is freed before the trim (see the module doc). Its pause (s)."""
        started = time.perf_counter()
        gc.collect()
        pause_s = time.perf_counter() - started
        self.collections += 1
        self.collect_s += pause_s
        self.longest_collect_s = max(self.longest_collect_s, pause_s)
        return pause_s

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._thresholds is not None:
            gc.unfreeze()
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def _run(self) -> None:
        last_pause_s = 0.0
        while not self._stop.wait(next_wait_s(self.interval_s, last_pause_s)):
            try:
                last_pause_s = self._collect()
                if release():
                    self.releases += 1
            except Exception as exc:  # noqa: BLE001 - never take the runtime down for this
                log.debug("releasing memory failed: %s", exc)
