"""The offline replay: determinism, conservation, the engine's rules visible end to end, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaas.domain.models import QueueAssignment
from ccaas.domain.replay import AgentGroup, ArrivalProfile, Day, SimQueue, example_day, pool_runs, replay
from ccaas.domain.routing_engine import RoutingPolicy
from local.replay import main as replay_cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "routing"
POLICY = RoutingPolicy.load(FIXTURES / "policy_default.json")
FIFO = RoutingPolicy.load(FIXTURES / "policy_fifo.json")
SMALL = Day.model_validate(json.loads((FIXTURES / "day_small.json").read_text()))


def test_replay_is_deterministic_for_a_seed():
    a = replay(SMALL, POLICY, seed=11)
    b = replay(SMALL, POLICY, seed=11)
    assert a == b
    c = replay(SMALL, POLICY, seed=12)
    assert c.total != a.total
    assert replay(SMALL, POLICY) == replay(SMALL, POLICY, seed=SMALL.seed)


def test_counts_are_conserved_and_metrics_in_range():
    r = replay(SMALL, POLICY, seed=5)
    for q in (*r.queues, r.total):
        assert q.offered == q.answered + q.abandoned + q.unanswered_at_end
        assert 0 <= q.answered_within_t <= q.answered
        assert q.service_level is None or 0 <= q.service_level <= 1
        assert q.occupancy is None or 0 <= q.occupancy <= 1
    billing = r.queues[0]
    assert billing.deflected > 0 and billing.callbacks > 0  # self_service segment and callback offers
    assert sum(q.offered for q in r.queues) == r.total.offered
    assert r.decisions > r.total.offered


def test_policies_see_the_same_day():
    a = replay(SMALL, POLICY, seed=4)
    b = replay(SMALL, FIFO, seed=4)
    # common random numbers: FIFO has no segments so nothing is deflected; the arrivals are the same
    assert a.total.offered + a.total.deflected == b.total.offered + b.total.deflected


def test_recorded_day_follows_the_steps():
    day = Day.model_validate(json.loads((FIXTURES / "day_recorded.json").read_text()))
    r = replay(day, POLICY)
    q = r.queues[0]
    # r1 → a0001 at once; r2 waits the 15 s "experts" step, then a0002 (billing 2) takes it;
    # r3 leaves after 30 s; r4 (platinum: billing ≥ 4 first) waits for a0001 (free at 100 s); r5 self-service
    assert (q.offered, q.answered, q.abandoned, q.deflected) == (4, 3, 1, 1)
    assert q.wait_s == pytest.approx(0 + 15 + 70)


def test_single_queue_fifo_matches_erlang_c_roughly():
    from ccaas.domain.staffing import erlang_c_metrics

    n, load, aht = 10, 7.0, 120.0
    day = Day(duration_s=6 * 3600, warmup_s=1800, queues=(SimQueue(queue_id="q", aht_s=aht, arrivals=ArrivalProfile(
        rates_per_hour=(load / aht * 3600,))),), agents=(AgentGroup(prefix="a", count=n,
                                                                   queues=(QueueAssignment(queue_id="q"),)),))
    fifo_like = RoutingPolicy.model_validate({"contact_scoring": {"sl_risk": 0}})
    pooled = pool_runs([replay(day, fifo_like, seed=k) for k in range(1, 4)])
    expected = erlang_c_metrics(n, arrival_rate=load / aht, aht_seconds=aht, threshold_seconds=20)
    assert pooled.total.service_level == pytest.approx(expected.service_level, abs=0.05)
    # occupancy is the realised load: answered × AHT / (agents × measured time)
    realised = pooled.total.handle_s / (n * 3 * (day.duration_s - day.warmup_s))
    assert pooled.total.occupancy == pytest.approx(realised, abs=0.01)
    assert pooled.total.occupancy == pytest.approx(0.7, abs=0.05)


def test_agent_centric_beats_per_queue_fifo_on_the_example_day():
    ac = RoutingPolicy.load(FIXTURES / "policy_agent_centric.json")
    a = replay(example_day(1, hours=4), ac)
    b = replay(example_day(1, hours=4), FIFO)
    assert a.total.asa_s < b.total.asa_s and a.total.service_level > b.total.service_level


def test_cli_prints_tables_and_comparison(capsys):
    assert replay_cli(["--policy", str(FIXTURES / "policy_default.json"), "--day", str(FIXTURES / "day_small.json"),
                       "--compare", str(FIXTURES / "policy_fifo.json"), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "## default-with-steps on small-two-queues" in out
    assert "## A = default-with-steps  vs  B = per-queue FIFO" in out
    assert "SL %" in out and "ASA B/A" in out and "billing" in out and "support" in out
    assert replay_cli(["--policy", str(FIXTURES / "policy_fifo.json"), "--hours", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["policy"] == "per-queue FIFO" and len(data[0]["queues"]) == 4
