"""The local runtime's own statistics stay small over a long run: per-call latency samples (up to 5,000 per
AWS operation, ~40 operations in a busy day) and the stream pollers' per-batch lags are machine doubles,
8 bytes a sample, not float objects (32): ~6 MB of a busy day's RSS growth as lists. Their readings are the same."""
from __future__ import annotations

import json
import tracemalloc

from local.call_counter import CallCounter
from local.kinesis_poller import PollerStats


def _held_bytes(fill) -> int:
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = fill()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert kept is not None
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def test_latency_samples_cost_about_8_bytes_each_and_read_the_same() -> None:
    counter = CallCounter()

    def fill() -> CallCounter:
        for i in range(5000):
            counter.record_latency("dynamodb.Query", i * 0.001 + 0.5)  # each a distinct float
        return counter

    held = _held_bytes(fill)
    assert held < 5000 * 12, f"{held} bytes for 5,000 samples"  # a list of floats: ~160 KB
    assert counter.latency() == {"dynamodb.Query": {"n": 5000, "p50_ms": 3.0, "p95_ms": 5.2}}
    for i in range(10):
        counter.record_latency("dynamodb.Query", 100.0)
    assert counter.latency()["dynamodb.Query"]["n"] == 2510  # past 5,000 the oldest half goes, as before
    counter.reset()
    assert counter.latency() == {}


def test_poller_lags_cost_about_8_bytes_each_and_stats_stay_json() -> None:
    stats = PollerStats()

    def fill() -> PollerStats:
        for i in range(5000):
            stats.lag_ms.append(i * 0.01 + 0.5)
            stats.batch_sizes.append(1 + i % 3)
        return stats

    held = _held_bytes(fill)
    assert held < 5000 * 20, f"{held} bytes for 5,000 batches"  # lists of floats and ints: ~200 KB
    d = stats.as_dict()
    json.dumps(d)  # what the runtime's status endpoint and the benches print
    assert (d["lag_p50_ms"], d["max_lag_ms"], d["avg_batch"]) == (25.5, 50.5, 2.0)
    assert "lag_ms" not in d and "batch_sizes" not in d
