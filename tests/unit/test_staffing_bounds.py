"""required_agents / scheduled_agents on the edges of their inputs: a target of 1 where nobody calls, an occupancy
cap no sane staffing meets, shrinkage that leaves nobody on the phones."""
from __future__ import annotations

import time

import pytest

from ccaas.domain.models import DomainError
from ccaas.domain.staffing import required_agents, scheduled_agents


def test_an_interval_nobody_calls_in_needs_nobody_whatever_the_target():
    # A queue stored with sl_target 1 failed its whole day on the night's empty intervals.
    assert required_agents(arrival_rate=0.0, aht_seconds=300, sl_target=1.0, threshold_seconds=20) == 0
    assert required_agents(arrival_rate=0.0, aht_seconds=300, sl_target=1.0, threshold_seconds=20,
                           model="erlang_a", patience_seconds=60) == 0
    with pytest.raises(ValueError):
        required_agents(arrival_rate=0.1, aht_seconds=300, sl_target=1.0, threshold_seconds=20)
    assert required_agents(arrival_rate=0.1, aht_seconds=300, sl_target=0.9999, threshold_seconds=20) > 30


@pytest.mark.parametrize("cap", [1e-4, 1e-6, 1e-300])
def test_an_occupancy_cap_no_sane_staffing_meets_is_refused_before_scanning(cap):
    # Load 10 Erlangs: a cap of 1e-6 scanned 2.6 M agents (8 s) for one interval, 1e-300 never ended.
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        required_agents(arrival_rate=10 / 300, aht_seconds=300, sl_target=0.8, threshold_seconds=20, max_occupancy=cap)
    assert refused.value.field == "max_occupancy"
    assert time.perf_counter() - started < 0.5


def test_an_occupancy_cap_within_the_search_still_binds():
    assert required_agents(arrival_rate=10 / 300, aht_seconds=300, sl_target=0.8, threshold_seconds=20,
                           max_occupancy=0.01) == 1000


def test_shrinkage_beyond_the_maximum_is_refused():
    assert scheduled_agents(10, 0.9) == 100  # the most shrinkage a plan takes (staffing.MAX_SHRINKAGE)
    for shrinkage in (0.95, 0.9999999999):  # 0.9999999999 scheduled 5e10 agents
        with pytest.raises(ValueError):
            scheduled_agents(10, shrinkage)
