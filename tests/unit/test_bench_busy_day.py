"""The busy-day bench's service level on the customers' clock (issue 17 item 4: say when the runtime falls
behind): the simulation times each first segment from POST /contacts answered to the agent's accept
answered, and forgets the contact once it is answered or abandoned."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bench.bench_busy_day import _service_level
from local.simulation import Simulation


class FakeClient:
    def __init__(self, answers: dict[tuple[str, str], tuple[int, Any]]) -> None:
        self.answers = answers

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.answers[(method, path)]


def _simulation() -> Simulation:
    runtime = SimpleNamespace(api_url="http://127.0.0.1:1/v1", api_keys={"t": "k"}, role_keys={})
    return Simulation(runtime, tenant="t", agents=["a1"], progress=False, seed=1, hold_share=0.0)


def test_service_level_counts_abandoned_customers_in_the_base() -> None:
    assert _service_level([1.0, 19.9, 20.0, 25.0], abandoned=1) == 3 / 5
    assert _service_level([], abandoned=2) == 0.0


def test_the_wait_customers_saw_runs_from_creation_to_the_accept(monkeypatch) -> None:
    sim = _simulation()
    clock = iter([100.0, 107.5, 200.0, 203.25])
    monkeypatch.setattr("local.simulation.time.monotonic", lambda: next(clock))
    sim.client = FakeClient({("POST", "/contacts"): (201, {"contact_id": "c1"})})
    sim._arrive("sales", "VOICE", patience=None)  # created at 100.0
    agent = FakeClient({("POST", "/agents/a1/contacts/c1/accept"): (
        200, {"queue_id": "sales", "channel": "VOICE", "initiation_method": "API", "queue_wait_s": 0.5})})
    sim._accept(agent, "a1", "c1", {})  # accepted at 107.5
    assert sim.stats.answer_waits_s == [7.5] and sim.stats.waits_s == [0.5]
    assert "c1" not in sim._created_at  # answered: forgotten
    sim.client = FakeClient({("POST", "/contacts"): (201, {"contact_id": "c2"}),
                             ("POST", "/contacts/c2/abandon"): (200, None)})
    sim._arrive("sales", "VOICE", patience=None)  # created at 200.0
    sim._hang_up("c2")  # abandoned at 203.25
    assert sim.stats.abandoned == 1 and "c2" not in sim._created_at
    assert sim.stats.abandon_waits_s == [3.25]  # how long the abandoned customer waited (DOMAIN's SL needs it)
    assert sim.stats.answer_waits_s == [7.5]  # an abandoned customer adds no answer wait
