"""Transcript documents whose fields have the wrong types or offsets past a week (outside probe of `make run`):
POST /contacts/{id}/transcript answered 502 on `"alternatives": 5` (an unhandled TypeError / KeyError /
AttributeError in a parser) and stored a 301-digit `begin_ms` from a chat message sent at `1e300`. Every parser
now raises TranscriptFormatError naming the path, and only that; entries it cannot place are dropped and counted;
no offset it produces is past MAX_OFFSET_MS; `true` is no offset."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaas.domain.analytics import Transcript, TranscriptFormatError
from ccaas.domain.analytics.transcript import (
    MAX_OFFSET_MS,
    parse_chat_messages,
    parse_contact_lens,
    parse_segments,
    parse_transcribe_call_analytics,
    parse_transcribe_standard,
    parse_transcript,
)

WORD = {"start_time": "0.1", "end_time": "0.2", "speaker_label": "spk_0"}
GOOD_WORD = {**WORD, "alternatives": [{"content": "hello"}]}
DAY_MS = 86_400_000


def _refused(document, field: str) -> None:
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(document, "c-bad")
    assert error.value.field == field, (error.value.field, str(error.value))
    assert field in str(error.value) and "hello" not in str(error.value)


@pytest.mark.parametrize(("document", "field"), [
    ({"results": {"items": [{**WORD, "alternatives": 5}]}}, "results.items[0].alternatives"),
    ({"results": {"items": [{**WORD, "alternatives": {"a": 1}}]}}, "results.items[0].alternatives"),
    ({"results": {"items": [GOOD_WORD, {**WORD, "alternatives": "hello"}]}}, "results.items[1].alternatives"),
    ({"results": {"items": [{"start_time": "0.1", "alternatives": [{"content": "hello"}]}],
                  "speaker_labels": {"segments": 5}}}, "results.speaker_labels.segments"),
    ({"results": {"items": [GOOD_WORD], "speaker_labels": {"segments": [{"items": 5}]}}},
     "results.speaker_labels.segments[0].items"),
    ({"results": {"items": [GOOD_WORD], "speaker_labels": 5}}, "results.speaker_labels"),
    ({"results": {"channel_labels": {"channels": 5}, "items": []}}, "results.channel_labels.channels"),
    ({"results": {"channel_labels": {"channels": [{"channel_label": "ch_0", "items": 5}]}}},
     "results.channel_labels.channels[0].items"),
    ({"results": {"channel_labels": {"channels": ["ch_0"]}}}, "results.channel_labels.channels[0]"),
    ({"results": {"channel_labels": 5, "items": [GOOD_WORD]}}, "results.channel_labels"),
    ({"results": {"items": 5}}, "results.items"),
    ({"results": 5}, "results"),
    ({"results": {"audio_segments": [5]}}, "results.audio_segments[0]"),
    ({"Transcript": [{"ParticipantId": "AGENT", "BeginOffsetMillis": 0, "EndOffsetMillis": 10, "Content": "hello"}],
      "Participants": 5}, "Participants"),
    ({"Transcript": 5}, "Transcript"),
    ({"segments": 5}, "segments"),
])
def test_a_list_or_object_of_the_wrong_type_is_refused_naming_its_path(document, field):
    _refused(document, field)


def test_entries_the_parser_cannot_place_or_attribute_are_dropped_and_counted():
    listed_label = parse_transcript({"results": {"items": [GOOD_WORD, {**GOOD_WORD, "speaker_label": ["spk_0"]}]}}, "c")
    assert [s.text for s in listed_label.segments] == ["hello"] and listed_label.dropped_segments == 1
    unreadable_label = parse_transcript({"results": {
        "items": [GOOD_WORD, {"start_time": "0.5", "alternatives": [{"content": "there"}]}],
        "speaker_labels": {"segments": [{"items": ["x"]}, "y"]}}}, "c")
    assert [s.text for s in unreadable_label.segments] == ["hello"] and unreadable_label.dropped_segments == 1
    odd_words = parse_transcript({"results": {"items": [GOOD_WORD, 5, {**WORD, "alternatives": [5]}, {**WORD}]}}, "c")
    assert odd_words.dropped_segments == 3
    segments = parse_transcript({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}, 5,
                                              {"speaker": ["AGENT"], "begin_ms": 0, "end_ms": 5, "text": "x"}]}, "c")
    assert len(segments.segments) == 1 and segments.dropped_segments == 2
    lens = parse_contact_lens({"Transcript": [5, {"ParticipantId": "AGENT", "BeginOffsetMillis": 0, "EndOffsetMillis": 1,
                                                  "Content": "hello"}]}, "c")
    assert len(lens.segments) == 1 and lens.dropped_segments == 1
    calls = parse_transcribe_call_analytics({"Transcript": ["x"]}, "c")
    assert calls.segments == [] and calls.dropped_segments == 1
    chat = parse_chat_messages([5, {"participant_role": "CUSTOMER", "content": "hello", "absolute_time": 0}], "c")
    assert len(chat.segments) == 1 and chat.dropped_segments == 1


@pytest.mark.parametrize("document", [
    [{"speaker": "AGENT", "begin_ms": True, "end_ms": 5, "text": "hello"}],
    [{"speaker": "AGENT", "begin_ms": 0, "end_ms": False, "text": "hello"}],  # end is read as the begin then
    {"Transcript": [{"ParticipantId": "AGENT", "BeginOffsetMillis": True, "EndOffsetMillis": 10, "Content": "hello"}]},
    {"Transcript": [{"ParticipantRole": "AGENT", "BeginOffsetMillis": True, "EndOffsetMillis": 10, "Content": "hello"}]},
    {"results": {"items": [{**GOOD_WORD, "start_time": True}]}},
    {"results": {"audio_segments": [{"transcript": "hello", "start_time": True, "speaker_label": "spk_0"}]}},
    [{"participant_role": "CUSTOMER", "content": "hello", "absolute_time": True}],
])
def test_true_is_no_offset(document):
    transcript = parse_transcript(document, "c-bool")
    assert all(s.begin_ms != 1 and s.end_ms != 1 for s in transcript.segments)
    if isinstance(document, list) and "speaker" in document[0] and document[0]["begin_ms"] is True:
        assert transcript.segments == [] and transcript.dropped_segments == 1


@pytest.mark.parametrize(("document", "field"), [
    ([{"participant_role": "CUSTOMER", "content": "hi", "absolute_time": 0},
      {"participant_role": "AGENT", "content": "hello", "absolute_time": 1e300}], "messages[1].absolute_time"),
    ([{"participant_role": "CUSTOMER", "content": "hi", "AbsoluteTime": "2026-01-01T00:00:00Z"},
      {"participant_role": "AGENT", "content": "hello", "AbsoluteTime": "2026-01-09T00:00:00Z"}], "messages[1].AbsoluteTime"),
    ([{"participant_role": "CUSTOMER", "content": "hi", "absolute_time": 0},
      {"participant_role": "AGENT", "content": "hello", "absolute_time": "9" * 400}], "messages[1].absolute_time"),
    ({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}], "connected_at_ms": 8 * DAY_MS},
     "connected_at_ms"),
    ({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}], "connected_at_ms": True},
     "connected_at_ms"),
    ({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}], "connected_at_ms": "5"},
     "connected_at_ms"),
    ({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}], "connected_at_ms": -1},
     "connected_at_ms"),
    ({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 5, "text": "hello"}], "connected_at_ms": 1e400},
     "connected_at_ms"),
    ({"results": {"items": [{**GOOD_WORD, "start_time": str(8 * 86_400)}]}}, "results.items[0].start_time"),
    ({"results": {"items": [GOOD_WORD], "speaker_labels": {"segments": [{"items": [{"start_time": "1e9"}]}]}}},
     "results.speaker_labels.segments[0].items[0].start_time"),
])
def test_an_offset_past_seven_days_is_refused_naming_it(document, field):
    _refused(document, field)


def test_a_week_is_still_an_offset_and_connected_at_ms_null_is_unknown():
    week = parse_transcript({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": MAX_OFFSET_MS, "text": "x"}],
                             "connected_at_ms": MAX_OFFSET_MS}, "c")
    assert week.connected_at_ms == MAX_OFFSET_MS and week.segments[0].end_ms == MAX_OFFSET_MS
    assert parse_transcript({"segments": [], "connected_at_ms": None}, "c").connected_at_ms is None
    assert parse_segments([], "c", connected_at_ms=1500.4).connected_at_ms == 1500


def test_stored_chat_messages_past_a_week_are_kept_in_order_at_the_last_offset():
    """The post-contact analysis reads the chat's own messages (each checked when posted): a chat kept open past a
    week is analysed, not failed on every retry."""
    messages = [{"participant_role": "CUSTOMER", "content": f"m{n}", "absolute_time": at}
                for n, at in enumerate((0, 8 * DAY_MS, 9 * DAY_MS))]
    with pytest.raises(TranscriptFormatError):
        parse_chat_messages(messages, "c")
    kept = parse_chat_messages(messages, "c", clamp_offsets=True)
    assert [(s.text, s.begin_ms, s.source) for s in kept.segments] == [
        ("m0", 0, 0), ("m1", MAX_OFFSET_MS, 1), ("m2", MAX_OFFSET_MS, 2)]


# --- any JSON shape: only TranscriptFormatError, and every offset within a week ---------------------------------
_KEYS = ("segments", "speaker", "begin_ms", "end_ms", "text", "connected_at_ms", "participant_role",
         "ParticipantRole", "content", "Content", "absolute_time", "AbsoluteTime", "timestamp", "type", "Type",
         "Transcript", "ParticipantId", "BeginOffsetMillis", "EndOffsetMillis", "Participants", "CustomerMetadata",
         "ContactId", "JobName", "jobName", "results", "items", "alternatives", "start_time", "end_time",
         "speaker_label", "speaker_labels", "channel_labels", "channels", "channel_label", "audio_segments",
         "transcript")
_WORDS = ("AGENT", "CUSTOMER", "SYSTEM", "spk_0", "spk_1", "ch_0", "ch_1", "0.1", "2.5", "1e300", "inf", "NaN", "-1",
          "punctuation", "pronunciation", "MESSAGE", "hi", "", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00",
          "1796538600000", "9" * 5000)
_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
            | st.sampled_from([10**400, 8 * DAY_MS, MAX_OFFSET_MS, 604_800.5]) | st.floats(allow_nan=True)
            | st.sampled_from(_WORDS) | st.text(max_size=5))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6), max_leaves=30)


def _parsers(document):
    yield lambda: parse_transcript(document, "c-fuzz")
    yield lambda: parse_segments(document, "c-fuzz")
    yield lambda: parse_chat_messages(document, "c-fuzz", connected_at=0)
    yield lambda: parse_contact_lens(document, "c-fuzz")
    yield lambda: parse_transcribe_call_analytics(document, "c-fuzz")
    yield lambda: parse_transcribe_standard(document, "c-fuzz")
    if isinstance(document, dict):  # the formats' own skeletons around the random part, to reach deep
        yield lambda: parse_transcribe_standard({"results": document}, "c-fuzz")
        yield lambda: parse_transcribe_standard({"results": {"items": [document]}}, "c-fuzz")
        yield lambda: parse_transcribe_standard({"results": {"items": [GOOD_WORD], "speaker_labels": document}}, "c-fuzz")
        yield lambda: parse_transcribe_standard({"results": {"channel_labels": document}}, "c-fuzz")
        yield lambda: parse_transcribe_standard({"results": {"channel_labels": {"channels": [document]}}}, "c-fuzz")
        yield lambda: parse_transcribe_standard({"results": {"audio_segments": [document]}}, "c-fuzz")
        yield lambda: parse_transcript({"segments": [document], "connected_at_ms": document.get("connected_at_ms")}, "c")
        yield lambda: parse_transcript([{"participant_role": "CUSTOMER", "content": "x", "absolute_time": 0}, document], "c")
        yield lambda: parse_contact_lens({"Transcript": [document], "Participants": [document]}, "c-fuzz")
        yield lambda: parse_transcribe_call_analytics({"Transcript": [document]}, "c-fuzz")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_any_json_shape_is_a_transcript_or_a_format_error(document):
    for parse in _parsers(document):
        try:
            transcript = parse()
        except TranscriptFormatError as error:
            assert error.field is None or isinstance(error.field, str)
            continue
        assert isinstance(transcript, Transcript)
        offsets = [t for s in transcript.segments for t in (s.begin_ms, s.end_ms)]
        assert all(type(t) is int and 0 <= t <= MAX_OFFSET_MS for t in offsets)
        assert transcript.connected_at_ms is None or 0 <= transcript.connected_at_ms <= MAX_OFFSET_MS
