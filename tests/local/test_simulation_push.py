"""The simulation's agents on push: one socket per agent key, offers accepted from `offer` frames, no
GET /agents/{id} polling; without a socket they poll, and say so once."""
from __future__ import annotations

import io

import pytest

from local.testing import recorded_requests, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime-traffic")]

FAST = {"rate_per_s": 1.0, "talk_s": (0.3, 0.6), "acw_s": (0.1, 0.2), "mean_patience_s": 0, "progress": False, "seed": 7,
        "agent_poll_s": 0.5}  # agents log in within 0.5 s (and poll that often without a socket)


def test_agents_accept_from_offer_frames_without_polling(runtime) -> None:
    from local.simulation import Simulation

    out = io.StringIO()
    with recorded_requests(runtime) as seen:
        sim = Simulation(runtime, out=out, **FAST).start()
        try:
            wait_until(lambda: sim.stats.completed >= 6, timeout_s=60, what="six contacts completed")
        finally:
            sim.stop()
    summary = sim.summary()
    assert summary["agents_push"] == len(sim.agent_ids) and summary["agents_polling"] == 0, summary
    assert "polling" not in out.getvalue()
    # Offers came as frames: no GET at all, only the lifecycle's writes (the bench measures per contact).
    lifecycle = ("/status", "/contacts", "/accept", "/complete", "/end-acw", "/abandon",
                 "/transfer", "/hold", "/resume", "/consult", "/conference", "/cancel", "/escalate")
    assert [r for r in seen if r[0] == "GET" or not r[1].split("?")[0].endswith(lifecycle)] == []
    assert summary["api_requests"]["requests"] == len(seen)


def test_without_a_socket_agents_poll_and_say_so_once(runtime) -> None:
    from local.simulation import Simulation

    out = io.StringIO()
    server, runtime.websocket_server = runtime.websocket_server, None  # as if the template had no WebSocket API
    try:
        sim = Simulation(runtime, out=out, **FAST).start()
        try:
            # Two customers and no more: seven more arrived while polling agents served the first two.
            wait_until(lambda: sim.stats.created >= 2, timeout_s=60, interval_s=0.05, what="two contacts created")
            sim.stop_arrivals()
            wait_until(lambda: sim.stats.completed >= 2, timeout_s=60, what="contacts completed by polling agents")
        finally:
            sim.stop()
    finally:
        runtime.websocket_server = server
    summary = sim.summary()
    assert summary["agents_polling"] == len(sim.agent_ids) and summary["agents_push"] == 0, summary
    assert out.getvalue().count("no push socket") == 1, out.getvalue()
