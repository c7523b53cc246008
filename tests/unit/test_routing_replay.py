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


# --- transfers: a share of handled contacts moves on as new segments -------------------------------
def _with_transfers(day: Day, **shares: tuple[float, str]) -> Day:
    queues = tuple(q.model_copy(update={"transfer_share": shares[q.queue_id][0], "transfer_to": shares[q.queue_id][1]})
                   if q.queue_id in shares else q for q in day.queues)
    return Day.model_validate({**day.model_dump(), "queues": [q.model_dump() for q in queues]})


def _two_desks(max_segments: int = 10, back_share: float = 0.0) -> Day:
    """Three recorded contacts for `front` (one agent there, one on `back`), nobody abandons; every
    contact `front` handles is transferred to `back`."""
    from ccaas.domain.replay import RecordedContact

    return Day.model_validate({
        "duration_s": 3600, "drain_s": 36_000, "max_segments": max_segments,
        "queues": [{"queue_id": "front", "aht_s": 60, "transfer_share": 1.0, "transfer_to": "back"},
                   {"queue_id": "back", "aht_s": 90, "transfer_share": back_share, "transfer_to": "front"}],
        "agents": [{"prefix": "f", "count": 1, "queues": [{"queue_id": "front"}]},
                   {"prefix": "b", "count": 1, "queues": [{"queue_id": "back"}]}],
        "contacts": [RecordedContact(contact_id=f"r{i}", arrival_s=10 * i, queue_id="front", handle_s=30).model_dump()
                     for i in range(3)],
    })


def test_transferred_contacts_are_new_segments_counted_in_the_queue_they_enter():
    front, back = replay(_two_desks(), FIFO).queues
    assert (front.offered, front.answered, front.handled, front.transferred_out, front.transferred_in) == (3, 3, 3, 3, 0)
    assert front.transfer_rate == 1.0 and front.handle_s == 90  # the recorded handle times
    assert (back.offered, back.answered, back.handled, back.transferred_out, back.transferred_in) == (3, 3, 3, 0, 3)
    assert back.transfer_rate == 0.0
    # back transfers everything back to front too: the chain stops at max_segments (3: front, back, front).
    r = replay(_two_desks(max_segments=3, back_share=1.0), FIFO)
    front, back = r.queues
    assert (front.offered, front.handled, front.transferred_out, front.transferred_in) == (6, 6, 3, 3)
    assert front.transfer_rate == 0.5
    assert (back.offered, back.handled, back.transferred_out, back.transferred_in) == (3, 3, 3, 3)
    assert r.total.transferred_out == r.total.transferred_in == 6 and r.total.transfer_rate == 6 / 9


def test_transfers_are_deterministic_and_leave_the_other_queues_arrivals_alone():
    ac = RoutingPolicy.load(FIXTURES / "policy_agent_centric.json")
    # No warmup: a segment counts where it arrives, so one sent from a contact that arrived during the
    # warmup would count in but not out.
    base_day = example_day(1, hours=2).model_copy(update={"warmup_s": 0})
    day = _with_transfers(base_day, billing=(0.15, "tech"), tech=(0.1, "billing"))
    a, b = replay(day, ac, seed=3), replay(day, ac, seed=3)
    assert a == b
    assert replay(day, ac, seed=4).total != a.total
    base = replay(base_day, ac, seed=3)
    billing, tech = a.queues[0], a.queues[1]
    assert billing.transferred_out > 0 and tech.transferred_out > 0 and billing.transferred_in == tech.transferred_out > 0
    assert 0.05 < billing.transfer_rate < 0.25 and 0.03 < tech.transfer_rate < 0.2
    for q, q0 in zip(a.queues, base.queues, strict=True):
        # Arrivals come from their own streams: a queue offers its arrivals plus the segments sent to it.
        assert q.offered == q0.offered + q.transferred_in
        assert q.offered == q.answered + q.abandoned + q.unanswered_at_end
        assert q.transferred_out <= q.handled
    assert (a.queues[2].transferred_in, a.queues[2].transferred_out, a.queues[2].transfer_rate) == (0, 0, 0.0)


def test_a_zero_transfer_share_replays_the_day_exactly_as_before():
    day = SMALL.model_copy(update={"queues": tuple(q.model_copy(update={"transfer_to": SMALL.queues[0].queue_id})
                                                   for q in SMALL.queues)})
    assert replay(day, POLICY, seed=7) == replay(SMALL, POLICY, seed=7)
    r = replay(SMALL, POLICY, seed=7)
    assert all(q.transferred_out == q.transferred_in == 0 for q in (*r.queues, r.total))


@pytest.mark.parametrize("update, message", [
    ({"transfer_share": 0.1}, "needs transfer_to naming a known queue"),
    ({"transfer_share": 0.1, "transfer_to": "nowhere"}, "needs transfer_to naming a known queue"),
    ({"transfer_share": 0.1, "transfer_to": "support"}, "takes no VOICE contacts"),  # support is CHAT
])
def test_a_transfer_share_needs_a_known_target_of_the_same_channel(update, message):
    raw = SMALL.model_dump()
    raw["queues"][0].update(update)
    with pytest.raises(ValueError, match=message):
        Day.model_validate(raw)


def test_cli_shows_transfer_columns_only_when_there_were_transfers(capsys, tmp_path):
    path = tmp_path / "day.json"
    path.write_text(_two_desks().model_dump_json())
    assert replay_cli(["--policy", str(FIXTURES / "policy_fifo.json"), "--day", str(path)]) == 0
    out = capsys.readouterr().out
    assert "xfer out" in out and "xfer %" in out and "100.0" in out
    assert replay_cli(["--policy", str(FIXTURES / "policy_fifo.json"), "--day", str(FIXTURES / "day_small.json")]) == 0
    assert "xfer" not in capsys.readouterr().out
