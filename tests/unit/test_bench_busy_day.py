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


def test_a_kept_alive_client_reuses_its_connection_and_reconnects_when_the_server_closed_it() -> None:
    """The simulated people's clients keep one HTTP/1.1 connection per thread (issue 17: a connection and a
    server thread per call were ~10 % of the busy day's CPU); a connection the server closed is reopened."""
    import http.server
    import threading

    from local.simulation import ApiClient

    peers: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            peers.append(self.client_address[1])
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = body if self.path != "/v1/bad" else b"not json"
            self.send_response(200 if self.path != "/v1/bad" else 502)
            self.send_header("Content-Length", str(len(answer)))
            if self.path == "/v1/last":
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ApiClient(f"http://127.0.0.1:{server.server_address[1]}/v1", "k", keep_alive=True)
        assert client.call("POST", "/echo", {"n": 1}) == (200, {"n": 1})
        assert client.call("POST", "/echo?x=1", {"n": 2}) == (200, {"n": 2})
        assert client.call("POST", "/bad", {}) == (502, "not json")
        assert len(set(peers)) == 1  # one connection for the three calls
        assert client.call("POST", "/last", {"n": 3}) == (200, {"n": 3})  # the server closes after this one
        assert client.call("POST", "/echo", {"n": 4}) == (200, {"n": 4})
        assert len(set(peers)) == 2
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_arrivals_keep_the_asked_rate_whatever_each_arrival_costs(monkeypatch) -> None:
    """Arrival times are drawn on the clock: the time spent submitting an arrival does not stretch the next
    gap (it did: the bench's 3/s ran at ~2.9/s)."""
    import random

    sim = _simulation()
    sim.rate, sim.duration_s = 3.0, None
    replay = random.Random()
    replay.setstate(sim.customers_rng.getstate())
    clock = [1000.0]
    monkeypatch.setattr("local.simulation.time.monotonic", lambda: clock[0])

    def sleep(seconds: float) -> bool:
        clock[0] += max(0.0, seconds)
        return True

    submitted: list[float] = []

    def submit(_work: Any) -> None:
        submitted.append(clock[0])
        clock[0] += 0.05  # what handing an arrival to a customer thread costs
        if len(submitted) == 200:
            sim._no_arrivals.set()

    monkeypatch.setattr(sim, "_sleep", sleep)
    monkeypatch.setattr(sim._pool, "submit", submit)
    sim._arrivals()
    due, expected = 1000.0, []
    for _ in range(200):  # the same draws, in the same order: gap, queue and channel, patience
        due += replay.expovariate(3.0)
        expected.append(due)
        replay.choices(sim.mix, [w for _, _, w in sim.mix])
        replay.expovariate(1 / sim.mean_patience_s)
    # each arrival at its due time, or right after the previous one's cost when that ran past it
    assert [round(t, 6) for t in submitted] == [
        round(max(due_at, submitted[k - 1] + 0.05 if k else due_at), 6) for k, due_at in enumerate(expected)]
    assert submitted[-1] - 1000.0 < expected[-1] - 1000.0 + 0.05  # no drift: 200 arrivals in their time
