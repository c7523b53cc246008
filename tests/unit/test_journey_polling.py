"""A journey step that waits (an offer for its test agent, a contact's state) polls the API quickly at first and
then every 0.25 s: on a deployed stage each poll is an API Gateway request and a Lambda invocation, and a
journey suite runs every few minutes. Its timeout still holds to the poll."""
from __future__ import annotations

import itertools
import math
import time
from types import SimpleNamespace

from ccaas.domain.journeys import parse_journey
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_SKILL
from ccaas.usecases import journeys

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/5a4db0c5-0000-4000-8000-000000000016"


class _Delayed:
    """Fake entry points: the offer to the test agent (and the contact's CONNECTED state) appear `after_s`
    seconds after the contact is made. Counts the polls."""

    instance_arn = INSTANCE

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self.made_at = float("inf")
        self.polls = 0

    def flow(self, event, timeout_s):  # noqa: ANN001, ANN201
        return {"status": "ok"}

    def api(self, method, path, body=None, *, role="integration", agent_id=None, timeout_s=30.0):  # noqa: ANN001, ANN201
        ready = time.monotonic() - self.made_at >= self.after_s
        if method == "POST" and path == "/contacts":
            self.made_at = time.monotonic()
            return 201, {"contact_id": "c1", "state": "QUEUED", "attributes": body["attributes"]}
        if path.endswith("/offers"):
            self.polls += 1
            return 200, [{"contact": {"contact_id": "c1"}}] if ready else []
        if method == "GET" and path == "/contacts/c1":
            self.polls += 1
            return 200, {"contact_id": "c1", "state": "CONNECTED" if ready else "QUEUED",
                         "attributes": {SYNTHETIC_ATTRIBUTE: "j"}}
        if path == f"/agents/{agent_id}":
            return 200, {"agent_id": agent_id, "skills": {TEST_AGENT_SKILL: 1}}
        return 200, {"contact_id": "c1", "state": "CONNECTED", "agent_id": agent_id}


def _journey(step: dict, timeout_s: float = 5) -> object:
    return parse_journey({"name": "waits", "test_agent": "bot", "timeout_s": timeout_s,
                          "steps": [{"action": "create_contact", "queue_id": "sales"}, step]})


def test_the_waits_between_polls_grow_from_50_ms_to_a_quarter_second():
    waits = list(itertools.islice(journeys.poll_waits(), 12))
    assert waits[0] == 0.05
    assert all(b >= a for a, b in zip(waits, waits[1:]))
    assert max(waits) == waits[-1] == 0.25
    assert sum(waits[:4]) < 0.5  # a short wait is still seen within ~50 % of its length


def test_an_offer_after_1_5_s_is_seen_within_a_quarter_second_with_a_third_of_the_polls():
    entry = _Delayed(after_s=1.5)
    result = journeys.run_journey(entry, _journey({"action": "agent_answers", "timeout_s": 4}))
    assert result.passed, result.failure
    step = result.steps[1]
    assert 1500 <= step.latency_ms <= 1500 + 250 + 500, step.latency_ms  # a wait late at most (+ a loaded machine)
    assert entry.polls <= 12, entry.polls  # at a fixed 50 ms: ~31


def test_a_state_that_never_comes_fails_at_its_timeout_not_a_wait_later():
    entry = _Delayed(after_s=60)
    started = time.monotonic()
    result = journeys.run_journey(entry, _journey({"action": "wait_for", "state": "CONNECTED", "timeout_s": 0.6}))
    took = time.monotonic() - started
    assert not result.passed and "not CONNECTED within 0.6 s (is QUEUED)" in result.failure
    assert 0.6 <= took < 0.6 + 0.5, took  # not a whole wait of a fixed schedule beyond it (+ a loaded machine)
    assert entry.polls <= 8, entry.polls  # 0, 0.05, 0.125, 0.24, 0.41, 0.6 (the last at the limit)


def test_the_last_pause_ends_at_the_limit(monkeypatch):
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(journeys, "time", SimpleNamespace(monotonic=lambda: now[0], sleep=sleep))
    waits = journeys.poll_waits()
    pauses = 0
    while journeys._pause(waits, 100.6):
        pauses += 1
    assert [round(s, 6) for s in slept[:4]] == [0.05, 0.075, 0.1125, 0.16875]
    assert slept[-1] < 0.25 and math.isclose(sum(slept), 0.6)  # cut short: the last poll is at the limit
    assert pauses == len(slept) == 5
