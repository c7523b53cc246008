"""Non-talk time, interruptions, talk time / ratio and talk speed on hand-computed fixtures.

tests/fixtures/transcripts/segments_conversation.json, timeline in ms:

    0 AGENT     0 -  4000  10 words
    1 CUSTOMER  3000 -  8000   8 words   starts inside 0: customer interrupts, overlap 1000
    2 AGENT    10000 - 12000   4 words   gap 8000-10000 (2000)
    3 CUSTOMER 20000 - 26000  12 words   gap 12000-20000 (8000)
    4 AGENT    25000 - 30000   6 words   starts inside 3: agent interrupts, overlap 1000
    5 AGENT    29000 - 31000   2 words   overlaps the agent's own 4: not an interruption
    6 CUSTOMER 37000 - 40000   6 words   gap 31000-37000 (6000)

non-talk 2000 + 8000 + 6000 = 16000, longest 8000; spans >= 5 s: 8000 + 6000 = 14000 of 40000 (0.35)
agent talk 4000 + 2000 + (25000..31000 merged) 6000 = 12000 ms, 22 words -> 110 wpm
customer talk 5000 + 6000 + 3000 = 14000 ms, 26 words -> 111.4 wpm; agent share 12/26 = 0.4615
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaas.domain.analytics import (
    ConversationConfig,
    Speaker,
    conversation_characteristics,
    parse_segments,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts" / "segments_conversation.json"
A, C = Speaker.AGENT, Speaker.CUSTOMER


def fixture_transcript(connected_at_ms: int | None = None):
    doc = json.loads(FIXTURE.read_text())
    return parse_segments(doc["segments"], doc["contact_id"], connected_at_ms=connected_at_ms)


def characteristics(transcript, config: ConversationConfig | None = None, origin_ms: int = 0):
    segments = transcript.segments
    return conversation_characteristics(
        [s.speaker for s in segments],
        [s.begin_ms for s in segments],
        [s.end_ms for s in segments],
        [len(s.text.split()) for s in segments],
        origin_ms=origin_ms,
        config=config,
    )


def test_non_talk_time():
    result = characteristics(fixture_transcript())
    assert result.duration_ms == 40_000
    assert result.non_talk.total_ms == 16_000
    assert result.non_talk.longest_ms == 8_000
    assert [(s.begin_ms, s.end_ms, s.duration_ms) for s in result.non_talk.spans] == [
        (12_000, 20_000, 8_000),
        (31_000, 37_000, 6_000),
    ]
    assert result.non_talk.spans_total_ms == 14_000
    assert result.non_talk.share == 0.35


def test_non_talk_threshold_is_tenant_set():
    result = characteristics(fixture_transcript(), ConversationConfig(non_talk_threshold_ms=7_000))
    assert [s.duration_ms for s in result.non_talk.spans] == [8_000]
    result = characteristics(fixture_transcript(), ConversationConfig(non_talk_threshold_ms=1_000))
    assert [s.duration_ms for s in result.non_talk.spans] == [2_000, 8_000, 6_000]


def test_silence_before_the_first_word_counts_from_connection():
    late_start = parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 9_000, "end_ms": 10_000, "text": "hello"},
            {"speaker": "CUSTOMER", "begin_ms": 10_500, "end_ms": 11_000, "text": "hi"},
        ],
        "late",
    )
    result = characteristics(late_start, origin_ms=2_000)
    assert result.non_talk.total_ms == 7_000 + 500
    assert [(s.begin_ms, s.end_ms) for s in result.non_talk.spans] == [(2_000, 9_000)]
    assert result.duration_ms == 9_000


def test_audio_before_connection_is_neither_non_talk_nor_talk_time():
    # the recording starts with the IVR; the customer is connected at 20 s
    recorded = parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 0, "end_ms": 2_000, "text": "ivr hello"},
            {"speaker": "AGENT", "begin_ms": 30_000, "end_ms": 32_000, "text": "hello"},
            {"speaker": "CUSTOMER", "begin_ms": 40_000, "end_ms": 41_000, "text": "hi"},
        ],
        "ivr",
    )
    result = characteristics(recorded, origin_ms=20_000)
    assert [(s.begin_ms, s.end_ms) for s in result.non_talk.spans] == [(20_000, 30_000), (32_000, 40_000)]
    assert result.non_talk.total_ms == 18_000 and result.duration_ms == 21_000
    assert (result.agent.talk_time_ms, result.agent.words, result.agent.segments) == (2_000, 1, 1)
    # a segment running across the connection counts from it
    across = parse_segments([{"speaker": "AGENT", "begin_ms": 15_000, "end_ms": 25_000, "text": "welcome to acme"}], "x")
    result = characteristics(across, origin_ms=20_000)
    assert result.agent.talk_time_ms == 5_000 and result.non_talk.total_ms == 0 and result.duration_ms == 5_000


def test_interruptions():
    result = characteristics(fixture_transcript())
    assert [(i.by, i.segment_index, i.interrupted_segment_index, i.at_ms, i.overlap_ms) for i in result.interruptions] == [
        (C, 1, 0, 3_000, 1_000),
        (A, 4, 3, 25_000, 1_000),
    ]
    assert result.agent.interruptions == 1
    assert result.customer.interruptions == 1


def test_short_overlaps_can_be_ignored():
    result = characteristics(fixture_transcript(), ConversationConfig(interruption_min_overlap_ms=1_000))
    assert result.interruptions == []


def test_simultaneous_start_is_not_an_interruption():
    both = parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 0, "end_ms": 2_000, "text": "hello"},
            {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1_000, "text": "hi"},
            {"speaker": "CUSTOMER", "begin_ms": 2_000, "end_ms": 3_000, "text": "right when you stopped"},
        ],
        "same",
    )
    assert characteristics(both).interruptions == []


def test_talk_time_ratio_and_speed():
    result = characteristics(fixture_transcript())
    assert (result.agent.talk_time_ms, result.agent.words, result.agent.segments) == (12_000, 22, 4)
    assert (result.customer.talk_time_ms, result.customer.words, result.customer.segments) == (14_000, 26, 3)
    assert result.agent.words_per_minute == 110.0
    assert result.customer.words_per_minute == pytest.approx(111.4)
    assert result.agent_talk_share == pytest.approx(0.4615)


def test_empty_transcript():
    result = conversation_characteristics([], [], [], [])
    assert result.duration_ms == 0 and result.non_talk.total_ms == 0 and result.agent_talk_share is None
    assert result.agent.words_per_minute is None
