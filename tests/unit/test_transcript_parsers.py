"""Parsers for every transcript format we accept, against fixtures in tests/fixtures/transcripts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import (
    Channel,
    Segment,
    Speaker,
    Transcript,
    TranscriptFormatError,
    detect_format,
    parse_chat_messages,
    parse_contact_lens,
    parse_segments,
    parse_transcribe_call_analytics,
    parse_transcribe_standard,
    parse_transcript,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"
A, C = Speaker.AGENT, Speaker.CUSTOMER


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def rows(transcript: Transcript) -> list[tuple[Speaker, int, int, str]]:
    return [(s.speaker, s.begin_ms, s.end_ms, s.text) for s in transcript.segments]


def test_our_segment_format_ignores_unknown_fields():
    doc = load("segments_conversation.json")
    transcript = parse_segments(doc["segments"], doc["contact_id"])
    assert transcript.contact_id == "conv-1"
    assert transcript.channel is Channel.VOICE
    assert len(transcript.segments) == 7
    assert rows(transcript)[6] == (C, 37000, 40000, "I am not happy at all.")
    assert detect_format(doc["segments"]) == "segments"


def test_segments_are_sorted_and_whitespace_collapsed():
    transcript = parse_segments(
        [
            {"speaker": "customer", "begin_ms": 5000, "end_ms": 6000, "text": "second\n  line"},
            {"speaker": "AGENT", "begin_ms": 1000, "end_ms": 2000, "text": "first"},
            {"speaker": "SYSTEM", "begin_ms": 1500, "end_ms": 1600, "text": "beep"},
            {"speaker": "AGENT", "text": "no offsets"},
        ],
        "c-sort",
    )
    assert rows(transcript) == [(A, 1000, 2000, "first"), (C, 5000, 6000, "second line")]
    assert transcript.dropped_segments == 2


def test_chat_messages_skip_system_and_attachments_and_use_offsets_from_first_message():
    transcript = parse_chat_messages(load("chat_messages.json"), "chat-1")
    assert transcript.channel is Channel.CHAT
    assert rows(transcript) == [
        (A, 5000, 5000, "Hi, thanks for contacting us. How can I help?"),
        (C, 20500, 20500, "My package never arrived and the tracking has not moved."),
        (A, 40000, 40000, "I am sorry about that, let me check the delivery."),
        (C, 60000, 60000, "Thank you so much!"),  # epoch-ms timestamp
    ]
    assert detect_format(load("chat_messages.json")) == "chat"


def test_chat_offsets_from_given_connection_time():
    transcript = parse_chat_messages(
        load("chat_messages.json"), "chat-1", connected_at="2024-05-01T10:00:05+00:00"
    )
    assert [s.begin_ms for s in transcript.segments] == [0, 15500, 35000, 55000]


def test_contact_lens_output():
    transcript = parse_contact_lens(load("contact_lens.json"))
    assert transcript.contact_id == "cl-0001"
    assert rows(transcript)[:2] == [
        (A, 1200, 5400, "Thanks for calling. This call may be recorded for quality and training."),
        (C, 6000, 11000, "My internet is still not working and this is ridiculous."),
    ]
    assert [s.speaker for s in transcript.segments] == [A, C, A, C]
    assert detect_format(load("contact_lens.json")) == "contact_lens"


def test_contact_lens_participant_ids_resolved_through_participants():
    doc = {
        "CustomerMetadata": {"ContactId": "cl-2"},
        "Participants": [
            {"ParticipantId": "p-9", "ParticipantRole": "CUSTOMER"},
            {"ParticipantId": "p-1", "ParticipantRole": "AGENT"},
        ],
        "Transcript": [
            {"ParticipantId": "p-1", "BeginOffsetMillis": 0, "EndOffsetMillis": 900, "Content": "Hello"},
            {"ParticipantId": "p-9", "BeginOffsetMillis": 1000, "EndOffsetMillis": 1500, "Content": "Hi"},
        ],
    }
    assert [s.speaker for s in parse_contact_lens(doc).segments] == [A, C]


def test_transcribe_call_analytics_output():
    doc = load("transcribe_call_analytics.json")
    transcript = parse_transcribe_call_analytics(doc)
    assert transcript.contact_id == "tca-job-42"
    assert rows(transcript) == [
        (A, 500, 3500, "This call is being recorded. How can I help?"),
        (C, 4000, 9000, "I forgot my password and I am locked out of my account."),
        (A, 9500, 12000, "No problem, I can send a reset link."),
    ]
    assert transcript.dropped_segments == 1  # the UNKNOWN participant
    assert detect_format(doc) == "transcribe_call_analytics"


def test_transcribe_standard_with_speaker_labels_groups_words_into_turns():
    transcript = parse_transcribe_standard(load("transcribe_speaker_labels.json"))
    assert transcript.contact_id == "std-speakers-1"
    assert rows(transcript) == [
        (A, 500, 1900, "Hello, how can I help?"),
        (C, 2500, 4000, "I want to cancel my account."),
    ]


def test_transcribe_standard_with_channel_labels_interleaves_channels_and_splits_on_pauses():
    transcript = parse_transcribe_standard(load("transcribe_channel_labels.json"))
    assert rows(transcript) == [
        (A, 200, 1300, "Thanks for holding."),
        (C, 1500, 2800, "My card was declined."),
        (A, 5000, 6000, "Let me check"),
    ]


def test_transcribe_standard_role_mapping_is_configurable():
    transcript = parse_transcribe_standard(
        load("transcribe_speaker_labels.json"), roles={"spk_0": C, "spk_1": A}
    )
    assert [s.speaker for s in transcript.segments] == [C, A]


@pytest.mark.parametrize(
    "name, contact_id",
    [
        ("contact_lens.json", "cl-0001"),
        ("transcribe_call_analytics.json", "tca-job-42"),
        ("transcribe_speaker_labels.json", "std-speakers-1"),
        ("transcribe_channel_labels.json", "std-channels-1"),
    ],
)
def test_parse_transcript_detects_the_format(name: str, contact_id: str):
    assert parse_transcript(load(name)).contact_id == contact_id


def test_parse_transcript_needs_a_contact_id_for_lists():
    with pytest.raises(TranscriptFormatError):
        parse_transcript(load("chat_messages.json"))
    assert parse_transcript(load("chat_messages.json"), "chat-9").contact_id == "chat-9"


def test_unrecognised_documents_are_rejected_without_echoing_content():
    with pytest.raises(TranscriptFormatError) as err:
        parse_transcript({"something": "4111 1111 1111 1111"})
    assert "4111" not in str(err.value)


def test_raw_text_never_appears_in_repr_or_validation_errors():
    segment = Segment(speaker=A, begin_ms=0, end_ms=1, text="card 4111 1111 1111 1111")
    assert "4111" not in repr(segment)
    assert "4111" not in repr(Transcript(contact_id="c", segments=[segment]))
    with pytest.raises(ValidationError) as err:
        Segment(speaker=A, begin_ms=5, end_ms=1, text="card 4111 1111 1111 1111")
    assert "4111" not in str(err.value)


def test_segments_ending_before_they_begin_are_refused():
    with pytest.raises(ValidationError, match="end_ms before begin_ms") as err:
        Segment(speaker=A, begin_ms=5_000, end_ms=4_999, text="card 4111 1111 1111 1111")
    assert err.value.errors()[0]["type"] == "value_error" and "4111" not in str(err.value)
    items = [
        {"speaker": "AGENT", "begin_ms": 1000, "end_ms": 2000, "text": "fine"},
        {"speaker": "CUSTOMER", "begin_ms": 9000, "end_ms": 3000, "text": "card 4111 1111 1111 1111"},
    ]
    # our own format: an error naming the segment and its times (never its text)
    with pytest.raises(ValueError, match=r"segments\[1\]\.end_ms \(3000\) is before its begin_ms \(9000\)") as err:
        parse_segments(items, "c-backwards")
    assert "4111" not in str(err.value)
    assert parse_segments(items[:1] + [{**items[1], "end_ms": 9000}], "c-ok").segments[1].end_ms == 9000
    # vendor formats stay lenient: a backwards entry is read as instantaneous
    doc = {"Transcript": [{"ParticipantRole": "CUSTOMER", "BeginOffsetMillis": 9000, "EndOffsetMillis": 3000, "Content": "hi"}]}
    assert rows(parse_transcribe_call_analytics(doc, "c-vendor")) == [(C, 9000, 9000, "hi")]


def test_transcribe_standard_trimmed_to_audio_segments_is_read_from_them():
    """A Transcribe document kept with only `results.audio_segments` (the word items dropped to save
    space) is one segment per turn, speaker or channel labelled; unlabelled turns are counted dropped."""
    doc = {"jobName": "trimmed-1", "results": {"transcripts": [{"transcript": "..."}], "audio_segments": [
        {"id": 0, "transcript": "Hello, how can I help?", "start_time": "0.5", "end_time": "1.9",
         "speaker_label": "spk_0", "items": [0, 1, 2, 3, 4]},
        {"id": 1, "transcript": "My card was declined.", "start_time": "2.5", "end_time": "4.0",
         "channel_label": "ch_1", "items": [5, 6, 7, 8]},
        {"id": 2, "transcript": "(crosstalk)", "start_time": "4.1", "end_time": "4.4", "items": []},
    ]}}
    transcript = parse_transcript(doc)
    assert rows(transcript) == [(A, 500, 1900, "Hello, how can I help?"), (C, 2500, 4000, "My card was declined.")]
    assert transcript.contact_id == "trimmed-1" and transcript.dropped_segments == 1
    with pytest.raises(TranscriptFormatError, match=r"audio_segments\[0\]"):
        parse_transcribe_standard({"results": {"audio_segments": ["not an object"]}}, "c1")
    with pytest.raises(TranscriptFormatError, match="results.items"):  # neither words nor turns
        parse_transcribe_standard({"results": {"audio_segments": []}}, "c1")


_TRANSCRIBE_WORD = {"speaker_label": "spk_0", "alternatives": [{"content": "zebra"}], "type": "pronunciation"}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([{"speaker": "AGENT", "begin_ms": "inf", "end_ms": 5, "text": "zebra"}], "segments[0].begin_ms"),
        ([{"speaker": "AGENT", "begin_ms": 0, "end_ms": float("nan"), "text": "zebra"}], "segments[0].end_ms"),
        ([{"speaker": "AGENT", "begin_ms": 0, "end_ms": 10**400, "text": "zebra"}], "segments[0].end_ms"),
        ([{"speaker": "AGENT", "begin_ms": 0, "end_ms": 8 * 24 * 3600 * 1000, "text": "zebra"}], "segments[0].end_ms"),
        ({"Transcript": [{"ParticipantId": "AGENT", "BeginOffsetMillis": float("1e400"), "EndOffsetMillis": 1,
                          "Content": "zebra"}]}, "Transcript[0].BeginOffsetMillis"),
        ({"Transcript": [{"ParticipantRole": "AGENT", "BeginOffsetMillis": 0, "EndOffsetMillis": "-Infinity",
                          "Content": "zebra"}]}, "Transcript[0].EndOffsetMillis"),
        ({"results": {"items": [{**_TRANSCRIBE_WORD, "start_time": "inf", "end_time": "1"}]}},
         "results.items[0].start_time"),
        ({"results": {"items": [{**_TRANSCRIBE_WORD, "start_time": "0", "end_time": "1e300"}]}},
         "results.items[0].end_time"),
        ({"results": {"audio_segments": [{"transcript": "zebra", "start_time": "0", "end_time": "Infinity",
                                          "speaker_label": "spk_0"}]}}, "results.audio_segments[0].end_time"),
        ([{"participant_role": "CUSTOMER", "content": "zebra", "absolute_time": float("inf")}], "messages[0].absolute_time"),
    ],
)
def test_infinite_or_overflowing_offsets_are_refused_naming_the_field(document, field: str):
    # an OverflowError escaped before (int(inf)): the upload answered 500, not a 422
    with pytest.raises(TranscriptFormatError) as err:
        parse_transcript(document, "c-inf")
    assert err.value.field == field and field in str(err.value)
    assert "zebra" not in str(err.value)  # the text is never echoed


def test_the_live_segment_model_refuses_infinite_offsets_too():
    with pytest.raises(ValidationError, match="begin_ms"):
        Segment.model_validate({"speaker": "AGENT", "begin_ms": float("inf"), "end_ms": 5, "text": "hi"})


def test_chat_messages_sent_before_connection_are_kept_at_offset_zero():
    # what the customer typed while queued (the chat service delivers it) is part of the conversation
    transcript = parse_chat_messages(
        load("chat_messages.json"), "chat-1", connected_at="2024-05-01T10:00:30+00:00"
    )
    assert rows(transcript)[:2] == [
        (A, 0, 0, "Hi, thanks for contacting us. How can I help?"),
        (C, 0, 0, "My package never arrived and the tracking has not moved."),
    ]
    assert [s.begin_ms for s in transcript.segments] == [0, 0, 10000, 30000]
    assert transcript.dropped_segments == 0


def test_word_timings_are_the_parsers_own_never_an_uploaders():
    """Rules time a phrase by its words' start times where a parser kept them; a segment sent with such timings
    must not set them (an uploader could otherwise say a disclosure came at second 0)."""
    from ccaas.domain.analytics.transcript import Segment  # noqa: PLC0415

    sent = Segment.model_validate({"speaker": "AGENT", "begin_ms": 0, "end_ms": 74_000, "text": "this call is recorded",
                                   "word_begins_ms": [0, 1, 2, 3]})
    assert sent.word_begins_ms is None and "word_begins_ms" not in sent.model_dump()
    assert "word_begins_ms" not in Segment.model_json_schema()["properties"]
