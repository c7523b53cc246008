"""Frames in are at most 32 KB (README "Frames in"); what is pushed out may be up to API Gateway's 128 KB message.
An outside probe had frames up to 128 KB accepted: the module defined one name for both limits, and the later
(outgoing) value was the one parse_frame read."""
from __future__ import annotations

import json

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain import push as domain
from ccaas.domain.push import FrameError, Identity, parse_frame
from ccaas.usecases import push


def _subscribe_of(size: int) -> str:
    """A subscribe frame of exactly `size` bytes (queue ids padded with spaces inside the JSON)."""
    frame = '{"action":"subscribe","queues":["sales"]}'
    return frame[:-1] + " " * (size - len(frame)) + "}"


def test_the_two_limits_have_their_own_names_and_values():
    assert domain.MAX_FRAME_IN_BYTES == 32 * 1024
    assert domain.MAX_MESSAGE_OUT_BYTES == 128 * 1024
    assert not hasattr(domain, "MAX_FRAME_BYTES")  # one name for two limits was the defect


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_frame_at_32_kb_is_read_and_one_byte_more_is_the_size_error(as_bytes):
    at_limit = _subscribe_of(32 * 1024)
    over = _subscribe_of(32 * 1024 + 1)
    assert len(at_limit.encode()) == 32 * 1024 and len(over.encode()) == 32_769
    assert parse_frame(at_limit.encode() if as_bytes else at_limit).queues == ("sales",)
    with pytest.raises(FrameError, match="at most 32768 bytes"):
        parse_frame(over.encode() if as_bytes else over)
    with pytest.raises(FrameError, match="at most 32768 bytes"):
        parse_frame("x" * (100 * 1024))  # within the 128 KB message API Gateway hands $default


def test_the_route_answers_an_oversized_frame_with_an_error_frame_and_keeps_the_subscription():
    deps = memory_dependencies()
    sup = Identity(tenant_id="t1", role="supervisor", key_id="k_1")
    push.connect(deps, sup, "s1")
    assert push.handle_frame(deps, sup, "s1", '{"action":"subscribe","queues":["sales"]}')["type"] == "subscribed"
    reply = push.handle_frame(deps, sup, "s1", json.dumps({"action": "subscribe", "queues": ["support"]}) + " " * 40_000)
    assert reply["type"] == "error" and "32768" in reply["message"] and "support" not in reply["message"]
    assert deps.connections.get("t1", "s1").subscriptions == ("sales",)


def test_the_outgoing_limit_is_unchanged():
    """A pushed message up to 128 KB goes as it is; `fitted` slims only what is over it."""
    body = domain.message("queue_metrics", 0, {"queue_id": "q", "pad": "x" * (100 * 1024)})
    assert len(domain.frame_bytes(body)) > domain.MAX_FRAME_IN_BYTES
    assert domain.fitted(body) is body
    big = domain.message("queue_metrics", 0, {"queue_id": "q", "pad": "x" * (129 * 1024)})
    assert domain.fitted(big)["payload"] == {"queue_id": "q", "truncated": True}
