"""Transcript model and lenient parsers for the formats we receive.

A transcript is an ordered list of segments `{speaker, begin_ms, end_ms, text}` on one timeline whose
origin (0) is the start of the recording / chat; `connected_at_ms` says where on that timeline the
customer was connected to the agent (timing rules count from it; 0 when unknown).

Raw segment text may hold card numbers and other PII until it has been redacted, so the models hide
it from `repr()` and from validation error messages: a stray log line must not leak it.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Int

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


class Speaker(StrEnum):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"


class Channel(StrEnum):
    VOICE = "VOICE"
    CHAT = "CHAT"


class TranscriptFormatError(ValueError):
    """The document is not a transcript in a format we understand (never echoes its content); `field` names
    the entry at fault where one is (`segments[3].begin_ms`)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# Errors must never echo a segment's text (it may be unredacted), hence hide_input_in_errors.
_RAW_TEXT_CONFIG = ConfigDict(hide_input_in_errors=True, extra="ignore")


class Segment(BaseModel):
    model_config = _RAW_TEXT_CONFIG

    speaker: Speaker
    begin_ms: Int = Field(ge=0)
    end_ms: Int = Field(ge=0)
    text: str = Field(repr=False)
    # Start time of each word of `text`, where the parser had them (Transcribe's items): rules time a phrase
    # by its own words. Set by parsers only: a private attribute is no input (a field hidden from the API's
    # schema was still accepted: an uploader could have set when a disclosure was said), not in the stored analysis.
    _word_begins_ms: tuple[int, ...] | None = PrivateAttr(default=None)

    @property
    def word_begins_ms(self) -> tuple[int, ...] | None:
        return self._word_begins_ms

    @field_validator("text")
    @classmethod
    def _collapse_whitespace(cls, text: str) -> str:
        # One space between words keeps phrase matching and word counts simple and cheap later on.
        return " ".join(text.split())

    @model_validator(mode="after")
    def _end_not_before_begin(self) -> Segment:
        if self.end_ms < self.begin_ms:
            raise ValueError("end_ms before begin_ms")
        return self


class Transcript(BaseModel):
    model_config = _RAW_TEXT_CONFIG

    contact_id: str = Field(min_length=1)
    channel: Channel = Channel.VOICE
    segments: list[Segment] = Field(default_factory=list, repr=False)
    # Offset (ms on the segment timeline) at which the customer was connected to the agent.
    connected_at_ms: int | None = Field(default=None, ge=0)
    # Entries the parser skipped (unknown speaker, missing offsets); counted so loss is visible.
    dropped_segments: int = Field(default=0, ge=0)

    @field_validator("segments")
    @classmethod
    def _ordered(cls, segments: list[Segment]) -> list[Segment]:
        # Sorted by start (stable) so every later pass can sweep once instead of searching.
        if any(a.begin_ms > b.begin_ms for a, b in zip(segments, segments[1:])):
            return sorted(segments, key=lambda s: s.begin_ms)
        return segments


# ---------------------------------------------------------------------------------------------------
# Parsers. All accept plain JSON-decoded data, ignore unknown fields, and skip (and count) entries that
# cannot be placed on the timeline or attributed to AGENT / CUSTOMER. A vendor entry ending before it
# begins is read as instantaneous; in our own segment format it is an error (ValueError).

_SPEAKER_ALIASES = {
    "AGENT": Speaker.AGENT,
    "CUSTOMER": Speaker.CUSTOMER,
    "CALLER": Speaker.CUSTOMER,
    "CONTACT": Speaker.CUSTOMER,
}


def _speaker(value: Any) -> Speaker | None:
    return _SPEAKER_ALIASES.get(str(value).strip().upper()) if value is not None else None


# No recording runs a week: an offset past it is a broken document, refused (the analysis would size its
# timeline from it), like an infinite one, which Python cannot even turn into an int (a 5xx before).
MAX_OFFSET_MS = 7 * 24 * 3600 * 1000


def _int_ms(value: Any, where: str, *, unit_ms: int = 1) -> int | None:
    """An offset in ms from a number of `unit_ms` (1000: seconds); None when missing, not a number or negative
    (the entry is skipped and counted). Infinite, NaN or beyond MAX_OFFSET_MS is refused naming `where`."""
    try:
        ms = float(value) * unit_ms
    except (TypeError, ValueError):
        return None
    except OverflowError:  # an integer too large for a float
        ms = math.inf
    if not math.isfinite(ms) or ms > MAX_OFFSET_MS:
        raise TranscriptFormatError(f"{where} is not an offset within {MAX_OFFSET_MS} ms (7 days)", field=where)
    ms = int(round(ms))
    return ms if ms >= 0 else None


def _first(entry: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in entry and entry[key] is not None:
            return entry[key]
    return None


def _build(
    contact_id: str | None,
    rows: Iterable[tuple[Any, ...]],
    *,
    channel: Channel = Channel.VOICE,
    connected_at_ms: int | None = None,
    strict_times: bool = False,
) -> Transcript:
    """Rows are (speaker, begin, end, text[, word begins]). `strict_times`: a segment ending before it begins
    is refused (the Segment model raises) instead of being read as instantaneous."""
    if not contact_id:
        raise TranscriptFormatError("contact id missing: pass contact_id=")
    segments: list[Segment] = []
    dropped = 0
    for speaker, begin, end, text, *word_begins in rows:
        if speaker is None or begin is None or not isinstance(text, str):
            dropped += 1
            continue
        end = begin if end is None else end if strict_times else max(begin, end)
        segment = Segment(speaker=speaker, begin_ms=begin, end_ms=end, text=text)
        segment._word_begins_ms = word_begins[0] if word_begins else None  # noqa: SLF001 - the parsers' own
        segments.append(segment)
    return Transcript(
        contact_id=contact_id,
        channel=channel,
        segments=segments,
        connected_at_ms=connected_at_ms,
        dropped_segments=dropped,
    )


def _require_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TranscriptFormatError(f"{what} must be a list")
    return value


def parse_segments(
    items: list[Mapping[str, Any]], contact_id: str, *, connected_at_ms: int | None = None
) -> Transcript:
    """Our own format: `[{speaker, begin_ms, end_ms, text}]`; a segment whose end_ms is before its
    begin_ms is refused naming it (`segments[i].end_ms`, times only: the text is never echoed)."""
    rows = []
    for index, item in enumerate(_require_list(items, "segments")):
        if not isinstance(item, Mapping):
            continue
        begin = _int_ms(item.get("begin_ms"), f"segments[{index}].begin_ms")
        end = _int_ms(item.get("end_ms"), f"segments[{index}].end_ms")
        if begin is not None and end is not None and end < begin:
            raise TranscriptFormatError(f"segments[{index}].end_ms ({end}) is before its begin_ms ({begin})")
        rows.append((_speaker(item.get("speaker")), begin, end, item.get("text")))
    return _build(contact_id, rows, connected_at_ms=connected_at_ms, strict_times=True)


def _epoch_ms(value: Any, where: str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON's 1e400 / Infinity: int() would raise
        raise TranscriptFormatError(f"{where} is not a finite time", field=where)
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None  # a wall-clock time without zone cannot be placed on the UTC timeline
        return int(moment.timestamp() * 1000)
    return None


def parse_chat_messages(
    messages: list[Mapping[str, Any]],
    contact_id: str,
    *,
    connected_at: str | int | None = None,
) -> Transcript:
    """Chat messages `[{participant_role, content, absolute_time}]` (Amazon Connect's PascalCase keys too).

    SYSTEM (and bot / unknown) messages and non-text items are ignored. Each message becomes an
    instantaneous segment at its offset from `connected_at` (ISO or epoch ms), or from the earliest
    message (system messages included) when not given. A message sent before `connected_at` (what the
    customer typed while queued) is kept at offset 0: its words count, chat has no timing rules to skew.
    """
    parsed: list[tuple[Speaker | None, int | None, Any]] = []
    times: list[int] = []
    for index, entry in enumerate(_require_list(messages, "messages")):
        if not isinstance(entry, Mapping):
            continue
        when = _epoch_ms(_first(entry, "absolute_time", "AbsoluteTime", "timestamp"), f"messages[{index}].absolute_time")
        if when is not None:
            times.append(when)
        role = str(_first(entry, "participant_role", "ParticipantRole") or "").upper()
        kind = str(_first(entry, "type", "Type") or "MESSAGE").upper()
        if role == "SYSTEM" or kind not in ("MESSAGE", "TEXT"):
            continue
        parsed.append((_speaker(role), when, _first(entry, "content", "Content")))
    origin = _epoch_ms(connected_at, "connected_at") if connected_at is not None else (min(times) if times else 0)
    if origin is None:
        raise TranscriptFormatError("connected_at is not an ISO time with zone or epoch ms")
    rows = []
    for speaker, when, content in parsed:
        offset = None if when is None else max(0, when - origin)
        rows.append((speaker, offset, offset, content))
    # Chat timestamps may arrive unordered; Transcript sorts by begin.
    return _build(contact_id, rows, channel=Channel.CHAT, connected_at_ms=0)


def parse_contact_lens(doc: Mapping[str, Any], contact_id: str | None = None) -> Transcript:
    """Contact Lens output: `Transcript: [{ParticipantId, BeginOffsetMillis, EndOffsetMillis, Content}]`.

    ParticipantId is AGENT / CUSTOMER, or an id resolved through `Participants[{ParticipantId,
    ParticipantRole}]`. Per-segment Sentiment from Contact Lens is ignored (we score our own).
    """
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("document must be an object")
    roles = {
        str(p.get("ParticipantId")): _speaker(p.get("ParticipantRole"))
        for p in doc.get("Participants") or []
        if isinstance(p, Mapping)
    }
    metadata = doc.get("CustomerMetadata") if isinstance(doc.get("CustomerMetadata"), Mapping) else {}
    rows = []
    for index, entry in enumerate(_require_list(doc.get("Transcript"), "Transcript")):
        if not isinstance(entry, Mapping):
            continue
        participant = entry.get("ParticipantId")
        speaker = _speaker(participant) or roles.get(str(participant)) or _speaker(entry.get("ParticipantRole"))
        rows.append((
            speaker,
            _int_ms(entry.get("BeginOffsetMillis"), f"Transcript[{index}].BeginOffsetMillis"),
            _int_ms(entry.get("EndOffsetMillis"), f"Transcript[{index}].EndOffsetMillis"),
            entry.get("Content"),
        ))  # fmt: skip
    return _build(contact_id or metadata.get("ContactId"), rows)


def parse_transcribe_call_analytics(doc: Mapping[str, Any], contact_id: str | None = None) -> Transcript:
    """Transcribe call analytics: `Transcript: [{ParticipantRole, BeginOffsetMillis, EndOffsetMillis, Content}]`."""
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("document must be an object")
    rows = [
        (
            _speaker(entry.get("ParticipantRole")),
            _int_ms(entry.get("BeginOffsetMillis"), f"Transcript[{index}].BeginOffsetMillis"),
            _int_ms(entry.get("EndOffsetMillis"), f"Transcript[{index}].EndOffsetMillis"),
            entry.get("Content"),
        )
        for index, entry in enumerate(_require_list(doc.get("Transcript"), "Transcript"))
        if isinstance(entry, Mapping)
    ]
    return _build(contact_id or doc.get("JobName"), rows)


# Which Transcribe label is whom is a property of the recording set-up, not of the file; this is
# only the default (agent first) and callers should pass their own mapping.
DEFAULT_TRANSCRIBE_ROLES: Mapping[str, Speaker] = {
    "spk_0": Speaker.AGENT,
    "spk_1": Speaker.CUSTOMER,
    "ch_0": Speaker.AGENT,
    "ch_1": Speaker.CUSTOMER,
}


def _seconds_ms(value: Any, where: str) -> int | None:
    return _int_ms(value, where, unit_ms=1000)


def parse_transcribe_standard(
    doc: Mapping[str, Any],
    contact_id: str | None = None,
    *,
    roles: Mapping[str, Speaker] = DEFAULT_TRANSCRIBE_ROLES,
    pause_split_ms: int = 1000,
) -> Transcript:
    """Transcribe standard output: word `results.items` with speaker or channel labels.

    Words are grouped into segments on speaker change or on a pause of `pause_split_ms`, so that
    silence inside one speaker's turn still shows up as non-talk time.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), Mapping):
        raise TranscriptFormatError("results missing")
    results = doc["results"]
    if not results.get("items") and isinstance(results.get("audio_segments"), list) and results["audio_segments"]:
        return _from_audio_segments(results["audio_segments"], contact_id or doc.get("jobName"), roles)
    # (label, begin, end, content, is_punctuation) in spoken order
    words: list[tuple[str | None, int | None, int | None, str, bool]] = []

    def collect(items: list[Any], fixed_label: str | None, label_at: Mapping[int, str], path: str) -> None:
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            alternatives = item.get("alternatives") or [{}]
            content = alternatives[0].get("content") if isinstance(alternatives[0], Mapping) else None
            if not isinstance(content, str):
                continue
            begin = _seconds_ms(item.get("start_time"), f"{path}[{index}].start_time")
            end = _seconds_ms(item.get("end_time"), f"{path}[{index}].end_time")
            label = fixed_label or item.get("speaker_label") or (label_at.get(begin) if begin is not None else None)
            words.append((label, begin, end, content, item.get("type") == "punctuation"))

    channels = results.get("channel_labels")
    if isinstance(channels, Mapping) and channels.get("channels"):
        for number, channel in enumerate(channels["channels"]):
            if isinstance(channel, Mapping):
                collect(channel.get("items") or [], str(channel.get("channel_label")), {},
                        f"results.channel_labels.channels[{number}].items")
        # Punctuation has no time: keep it right after the word it followed within its channel.
        timed: list[tuple[int, int, tuple[str | None, int | None, int | None, str, bool]]] = []
        last_time = 0
        for order, word in enumerate(words):
            last_time = word[1] if word[1] is not None else last_time
            timed.append((last_time, order, word))
        words = [w for _, _, w in sorted(timed, key=lambda t: (t[0], t[1]))]
    else:
        label_at: dict[int, str] = {}
        speaker_labels = results.get("speaker_labels")
        if isinstance(speaker_labels, Mapping):
            for number, seg in enumerate(speaker_labels.get("segments") or []):
                for index, item in enumerate((seg.get("items") or []) if isinstance(seg, Mapping) else []):
                    where = f"results.speaker_labels.segments[{number}].items[{index}].start_time"
                    begin = _seconds_ms(item.get("start_time"), where)
                    if begin is not None and item.get("speaker_label"):
                        label_at[begin] = item["speaker_label"]
        collect(_require_list(results.get("items"), "results.items"), None, label_at, "results.items")

    rows: list[tuple[Speaker | None, int | None, int | None, str, tuple[int, ...]]] = []
    current: list[Any] | None = None  # [speaker, begin, end, parts, word begins]
    dropped_words = 0
    for label, begin, end, content, is_punctuation in words:
        if is_punctuation:
            if current is not None and current[3]:
                current[3][-1] += content
            continue
        speaker = roles.get(label) if label else None
        if speaker is None or begin is None:
            dropped_words += 1
            continue
        end = begin if end is None else end
        if current is None or current[0] != speaker or begin - current[2] >= pause_split_ms:
            if current is not None:
                rows.append((current[0], current[1], current[2], " ".join(current[3]), tuple(current[4])))
            current = [speaker, begin, end, [content], [begin]]
        else:
            current[2] = max(current[2], end)
            current[3].append(content)
            current[4].append(begin)
    if current is not None:
        rows.append((current[0], current[1], current[2], " ".join(current[3]), tuple(current[4])))
    transcript = _build(contact_id or doc.get("jobName"), rows)
    if dropped_words:
        transcript = transcript.model_copy(update={"dropped_segments": dropped_words})
    return transcript


def _from_audio_segments(
    segments: list[Any], contact_id: str | None, roles: Mapping[str, Speaker]
) -> Transcript:
    """Transcribe's `results.audio_segments` (one per speaker turn: `transcript`, `start_time`, `end_time`,
    `speaker_label` or `channel_label`), for documents trimmed to them without the word `items`."""
    rows: list[tuple[Speaker | None, int | None, int | None, str]] = []
    for index, seg in enumerate(segments):
        if not isinstance(seg, Mapping):
            raise TranscriptFormatError(f"results.audio_segments[{index}] is not an object")
        label = seg.get("speaker_label") or seg.get("channel_label")
        rows.append((roles.get(label) if isinstance(label, str) else None,
                     _seconds_ms(seg.get("start_time"), f"results.audio_segments[{index}].start_time"),
                     _seconds_ms(seg.get("end_time"), f"results.audio_segments[{index}].end_time"), seg.get("transcript")))
    return _build(contact_id, rows)


TranscriptFormat = Literal["segments", "chat", "contact_lens", "transcribe_call_analytics", "transcribe"]


def detect_format(doc: Any) -> TranscriptFormat:
    if isinstance(doc, list):
        first = next((d for d in doc if isinstance(d, Mapping)), {})
        if "speaker" in first:
            return "segments"
        if {"participant_role", "ParticipantRole"} & set(first):
            return "chat"
        raise TranscriptFormatError("unrecognised list transcript")
    if isinstance(doc, Mapping):
        if isinstance(doc.get("Transcript"), list):
            first = next((d for d in doc["Transcript"] if isinstance(d, Mapping)), {})
            if "ParticipantId" in first:
                return "contact_lens"
            return "transcribe_call_analytics"
        if isinstance(doc.get("results"), Mapping):
            return "transcribe"
    raise TranscriptFormatError("unrecognised transcript document")


def parse_transcript(doc: Any, contact_id: str | None = None) -> Transcript:
    """Detect the format and parse with default options."""
    fmt = detect_format(doc)
    if fmt == "segments":
        return parse_segments(doc, contact_id or "")
    if fmt == "chat":
        return parse_chat_messages(doc, contact_id or "")
    if fmt == "contact_lens":
        return parse_contact_lens(doc, contact_id)
    if fmt == "transcribe_call_analytics":
        return parse_transcribe_call_analytics(doc, contact_id)
    return parse_transcribe_standard(doc, contact_id)
