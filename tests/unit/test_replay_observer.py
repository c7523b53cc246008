"""ccaas.domain.replay's public extension point: an observer sees every counted event of a replay
(what local.day_report counts per interval) and changes nothing about its result."""
from __future__ import annotations

from collections import Counter

import pytest

from ccaas.domain.replay import ReplayObserver, example_day, metrics_from_counts, replay
from ccaas.domain.routing_engine import RoutingPolicy


class Tally(ReplayObserver):
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.spans: list[tuple[str, str, int, int]] = []

    def contact_queued(self, contact_id, queue_id, at_ms, counted):
        self.counts["offered"] += counted
        self.counts["queued_all"] += 1

    def contact_answered(self, contact_id, queue_id, enqueued_at_ms, at_ms, sl_threshold_s, counted):
        assert at_ms >= enqueued_at_ms
        if counted:
            self.counts["answered"] += 1
            self.counts["answered_within_t"] += at_ms - enqueued_at_ms <= sl_threshold_s * 1000
            self.counts["wait_ms"] += at_ms - enqueued_at_ms

    def contact_abandoned(self, contact_id, queue_id, enqueued_at_ms, at_ms, sl_threshold_s, counted):
        if counted:
            self.counts["abandoned"] += 1

    def agent_busy(self, agent_id, from_ms, to_ms):
        self.spans.append(("busy", agent_id, from_ms, to_ms))

    def agent_staffed(self, agent_id, from_ms, to_ms):
        self.spans.append(("staffed", agent_id, from_ms, to_ms))


@pytest.fixture(scope="module")
def day():
    return example_day(seed=5, hours=1.0)


def test_an_observer_sees_the_counted_events_and_spans_the_totals_are_made_of(day):
    seen = Tally()
    result = replay(day, RoutingPolicy(), seed=5, observer=seen)
    total = result.total
    assert seen.counts["offered"] == total.offered > 0
    assert seen.counts["answered"] == total.answered and seen.counts["abandoned"] == total.abandoned
    assert seen.counts["queued_all"] >= total.offered  # the warmup's contacts are seen, not counted
    assert seen.counts["wait_ms"] / 1000 / total.answered == pytest.approx(total.asa_s, abs=0.01)
    busy = sum(hi - lo for kind, _, lo, hi in seen.spans if kind == "busy")
    staffed = sum(hi - lo for kind, _, lo, hi in seen.spans if kind == "staffed")
    assert all(lo < hi and day.start_ms + day.warmup_s * 1000 <= lo for _, _, lo, hi in seen.spans)
    assert busy / staffed == pytest.approx(total.occupancy, abs=1e-3)


def test_the_result_is_the_same_with_or_without_an_observer(day):
    watched = replay(day, RoutingPolicy(), seed=5, observer=ReplayObserver())
    assert watched == replay(day, RoutingPolicy(), seed=5)


def test_metrics_from_counts_uses_the_replays_definitions():
    m = metrics_from_counts("q", {"offered": 10, "answered": 8, "abandoned": 2, "answered_within_t": 6,
                                  "abandoned_within_t": 1, "short_abandoned": 1, "wait_s": 80, "handle_s": 0,
                                  "handled": 0, "busy_s": 50, "staffed_s": 100, "deflected": 0, "closed": 0,
                                  "callbacks": 0, "transferred_out": 0, "transferred_in": 0})
    assert m.answered == 8 and m.asa_s == pytest.approx(10.0) and m.occupancy == pytest.approx(0.5)
