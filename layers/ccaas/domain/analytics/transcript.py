"""Transcript model and lenient parsers for the formats we receive.

A transcript is an ordered list of segments `{speaker, begin_ms, end_ms, text}` on one timeline whose
origin (0) is the start of the recording / chat; `connected_at_ms` says where on that timeline the
customer was connected to the agent (timing rules count from it; 0 when unknown).

Raw segment text may hold card numbers and other PII until it has been redacted, so the models hide
it from `repr()` and from validation error messages: a stray log line must not leak it.

The parsers read untrusted JSON. They raise TranscriptFormatError, and nothing else, for a document they
cannot read: a list or object of the format that is something else (`results.items[0].alternatives` a
number), or an offset that is infinite, NaN or past MAX_OFFSET_MS, naming its path. An entry they cannot
place on the timeline or attribute (not an object, no speaker, no offset, no text, an offset that is no
number: `true` is not 1) is skipped and counted in `dropped_segments`.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Channel as ContactChannel, Int

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


# How a contact's transcript is analysed, by the contact's own channel: spoken (conversation timing, the voice-only
# rules such as the recording notice) or written. The upload's format only guesses it (a chat may be uploaded as our
# segments, a call as chat messages); a task has no conversation of its own, so for one the format's guess stands.
ANALYSED_AS: Mapping[ContactChannel, Channel] = {
    ContactChannel.VOICE: Channel.VOICE,
    ContactChannel.VIDEO: Channel.VOICE,
    ContactChannel.CHAT: Channel.CHAT,
    ContactChannel.SMS: Channel.CHAT,
    ContactChannel.SOCIAL: Channel.CHAT,
    ContactChannel.EMAIL: Channel.CHAT,
}


def analysed_channel(contact_channel: ContactChannel | None, guess: Channel) -> Channel:
    """The channel a transcript is analysed as: its contact's (ANALYSED_AS), else the format's `guess` (a contact
    whose channel is not known, or a task)."""
    return ANALYSED_AS.get(contact_channel, guess) if contact_channel is not None else guess


class TranscriptFormatError(ValueError):
    """The document is not a transcript in a format we understand (never echoes its content); `field` names
    the entry at fault where one is (`segments[3].begin_ms`)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# Errors must never echo a segment's text (it may be unredacted), hence hide_input_in_errors.
_RAW_TEXT_CONFIG = ConfigDict(hide_input_in_errors=True, extra="ignore")


# No recording runs a week: an offset past it is a broken document, refused (the analysis would size its
# timeline from it), like an infinite one, which Python cannot even turn into an int (a 5xx before).
MAX_OFFSET_MS = 7 * 24 * 3600 * 1000


class Segment(BaseModel):
    model_config = _RAW_TEXT_CONFIG

    speaker: Speaker
    # Not bounded by MAX_OFFSET_MS here: the parsers refuse what is past it naming the entry, and the live route
    # its own way (a segment ending after now), with its own error.
    begin_ms: Int = Field(ge=0)
    end_ms: Int = Field(ge=0)
    text: str = Field(repr=False)
    # Start time of each word of `text`, where the parser had them (Transcribe's items): rules time a phrase
    # by its own words. Set by parsers only: a private attribute is no input (a field hidden from the API's
    # schema was still accepted: an uploader could have set when a disclosure was said), not in the stored analysis.
    _word_begins_ms: tuple[int, ...] | None = PrivateAttr(default=None)
    # The index of the entry it was read from (chat messages): the analysis of a stored chat joins each message's
    # redaction receipt to its segment. The parsers' own, like the word times.
    _source: int | None = PrivateAttr(default=None)

    @property
    def word_begins_ms(self) -> tuple[int, ...] | None:
        return self._word_begins_ms

    @property
    def source(self) -> int | None:
        return self._source

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
    connected_at_ms: Int | None = Field(default=None, ge=0, le=MAX_OFFSET_MS)
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
# begins is read as instantaneous; in our own segment format it is an error. A list or object the format
# defines that is something else is refused naming its path (see the module's docstring).

_SPEAKER_ALIASES = {
    "AGENT": Speaker.AGENT,
    "CUSTOMER": Speaker.CUSTOMER,
    "CALLER": Speaker.CUSTOMER,
    "CONTACT": Speaker.CUSTOMER,
}


def _speaker(value: Any) -> Speaker | None:
    return _SPEAKER_ALIASES.get(value.strip().upper()) if isinstance(value, str) else None


def _label(value: Any) -> str | None:
    """A Transcribe speaker or channel label: a non-empty string, else none (the words are not attributed)."""
    return value if isinstance(value, str) and value else None


def _beyond(where: str) -> TranscriptFormatError:
    return TranscriptFormatError(f"{where} is not an offset within {MAX_OFFSET_MS} ms (7 days) of the start", field=where)


def _int_ms(value: Any, where: str, *, unit_ms: int = 1) -> int | None:
    """An offset in ms from a number of `unit_ms` (1000: seconds); None when missing, not a number or negative
    (the entry is skipped and counted). Infinite, NaN or beyond MAX_OFFSET_MS is refused naming `where`."""
    if isinstance(value, bool):  # JSON true is no offset (the API's rule: true is not 1), float(True) would be 1
        return None
    try:
        ms = float(value) * unit_ms
    except (TypeError, ValueError):
        return None
    except OverflowError:  # an integer too large for a float
        ms = math.inf
    if not math.isfinite(ms) or ms > MAX_OFFSET_MS:
        raise _beyond(where)
    ms = int(round(ms))
    return ms if ms >= 0 else None


def _document_offset(value: Any, where: str) -> int | None:
    """An offset the document gives for the whole transcript (`connected_at_ms`): a JSON number of ms within
    MAX_OFFSET_MS, or null. Anything else is refused naming it: every timing rule counts from it, so there is no
    entry to drop and no default to guess."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptFormatError(f"{where} must be a number of ms (0 to {MAX_OFFSET_MS})", field=where)
    ms = _int_ms(value, where)
    if ms is None:
        raise TranscriptFormatError(f"{where} must be a number of ms (0 to {MAX_OFFSET_MS})", field=where)
    return ms


def _first_key(entry: Mapping[str, Any], *keys: str) -> tuple[str | None, Any]:
    for key in keys:
        if entry.get(key) is not None:
            return key, entry[key]
    return None, None


def _first(entry: Mapping[str, Any], *keys: str) -> Any:
    return _first_key(entry, *keys)[1]


def _list(value: Any, where: str, *, optional: bool = False) -> list[Any]:
    """The list the format has at `where` (null or missing: none, where it may be left out); else refused."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise TranscriptFormatError(f"{where} must be a list", field=where)
    return value


def _object(value: Any, where: str, *, optional: bool = False) -> Mapping[str, Any]:
    """The object the format has at `where` (null or missing: an empty one, where it may be left out); else refused."""
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise TranscriptFormatError(f"{where} must be an object", field=where)
    return value


def _build(
    contact_id: Any,
    rows: Iterable[tuple[Any, ...]],
    *,
    channel: Channel = Channel.VOICE,
    connected_at_ms: int | None = None,
    strict_times: bool = False,
    dropped: int = 0,
) -> Transcript:
    """Rows are (speaker, begin, end, text[, word begins[, source index]]); `dropped` counts entries the parser
    skipped already. `strict_times`: a segment ending before it begins is refused (the parser checked it) instead
    of being read as instantaneous."""
    if not isinstance(contact_id, str) or not contact_id:
        raise TranscriptFormatError("contact id missing: pass contact_id=")
    segments: list[Segment] = []
    for speaker, begin, end, text, *extra in rows:
        if speaker is None or begin is None or not isinstance(text, str):
            dropped += 1
            continue
        end = begin if end is None else end if strict_times else max(begin, end)
        segment = Segment(speaker=speaker, begin_ms=begin, end_ms=end, text=text)
        segment._word_begins_ms = extra[0] if extra else None  # noqa: SLF001 - the parsers' own
        segment._source = extra[1] if len(extra) > 1 else None  # noqa: SLF001
        segments.append(segment)
    return Transcript(
        contact_id=contact_id,
        channel=channel,
        segments=segments,
        connected_at_ms=connected_at_ms,
        dropped_segments=dropped,
    )


def parse_segments(items: Any, contact_id: str, *, connected_at_ms: Any = None) -> Transcript:
    """Our own format: `[{speaker, begin_ms, end_ms, text}]`; a segment whose end_ms is before its
    begin_ms is refused naming it (`segments[i].end_ms`, times only: the text is never echoed).
    `connected_at_ms` is the document's (a number of ms or null, else refused naming it)."""
    connected = _document_offset(connected_at_ms, "connected_at_ms")
    rows = []
    dropped = 0
    for index, item in enumerate(_list(items, "segments")):
        if not isinstance(item, Mapping):
            dropped += 1
            continue
        begin = _int_ms(item.get("begin_ms"), f"segments[{index}].begin_ms")
        end = _int_ms(item.get("end_ms"), f"segments[{index}].end_ms")
        if begin is not None and end is not None and end < begin:
            raise TranscriptFormatError(f"segments[{index}].end_ms ({end}) is before its begin_ms ({begin})",
                                        field=f"segments[{index}].end_ms")
        rows.append((_speaker(item.get("speaker")), begin, end, item.get("text")))
    return _build(contact_id, rows, connected_at_ms=connected, strict_times=True, dropped=dropped)


def _epoch_ms(value: Any, where: str) -> int | None:
    """Epoch ms from a number, a digit string or an ISO time with zone; None when it is none of them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON's 1e400 / Infinity: int() would raise
        raise TranscriptFormatError(f"{where} is not a finite time", field=where)
    if isinstance(value, int | float):
        return int(value)  # a far one is refused by its offset (parse_chat_messages)
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.lstrip("-").isdigit():
                return int(text)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                return None  # a wall-clock time without zone cannot be placed on the UTC timeline
            return int(moment.timestamp() * 1000)
        except (ValueError, OverflowError):  # not a time, or more digits than int() reads
            return None
    return None


def parse_chat_messages(
    messages: Any,
    contact_id: str,
    *,
    connected_at: str | int | None = None,
    clamp_offsets: bool = False,
    contact_channel: ContactChannel | None = None,
) -> Transcript:
    """Chat messages `[{participant_role, content, absolute_time}]` (Amazon Connect's PascalCase keys too).

    SYSTEM (and bot / unknown) messages and non-text items are ignored. Each message becomes an
    instantaneous segment at its offset from `connected_at` (ISO or epoch ms), or from the earliest
    message (system messages included) when not given. A message sent before `connected_at` (what the
    customer typed while queued) is kept at offset 0: its words count, chat has no timing rules to skew.
    A message more than MAX_OFFSET_MS after it is refused naming its time, unless `clamp_offsets` (the
    chat's own stored messages, each checked when posted: a chat kept open past a week keeps its later
    messages, in their order, at the last offset). Each segment's `source` is its message's index. It is analysed
    as CHAT unless `contact_channel` says otherwise (analysed_channel: a call's words uploaded as chat messages).
    """
    parsed: list[tuple[int, str, Speaker | None, int | None, Any]] = []
    times: list[int] = []
    dropped = 0
    for index, entry in enumerate(_list(messages, "messages")):
        if not isinstance(entry, Mapping):
            dropped += 1
            continue
        key, sent = _first_key(entry, "absolute_time", "AbsoluteTime", "timestamp")
        where = f"messages[{index}].{key or 'absolute_time'}"
        when = _epoch_ms(sent, where)
        if when is not None:
            times.append(when)
        role = _first(entry, "participant_role", "ParticipantRole")
        kind = _first(entry, "type", "Type")
        kind = "MESSAGE" if kind is None else kind.upper() if isinstance(kind, str) else None
        if (isinstance(role, str) and role.upper() == "SYSTEM") or kind not in ("MESSAGE", "TEXT"):
            continue
        parsed.append((index, where, _speaker(role), when, _first(entry, "content", "Content")))
    if connected_at is not None:
        origin = _epoch_ms(connected_at, "connected_at")
        if origin is None:
            raise TranscriptFormatError("connected_at is not an ISO time with zone or epoch ms", field="connected_at")
    else:
        origin = min(times) if times else 0
    rows = []
    for index, where, speaker, when, content in parsed:
        offset = None if when is None else max(0, when - origin)
        if offset is not None and offset > MAX_OFFSET_MS:
            if not clamp_offsets:
                raise _beyond(where)
            offset = MAX_OFFSET_MS
        rows.append((speaker, offset, offset, content, None, index))
    # Chat timestamps may arrive unordered; Transcript sorts by begin (stably: clamped ones keep their order).
    return _build(contact_id, rows, channel=analysed_channel(contact_channel, Channel.CHAT), connected_at_ms=0,
                  dropped=dropped)


def parse_contact_lens(doc: Any, contact_id: str | None = None) -> Transcript:
    """Contact Lens output: `Transcript: [{ParticipantId, BeginOffsetMillis, EndOffsetMillis, Content}]`.

    ParticipantId is AGENT / CUSTOMER, or an id resolved through `Participants[{ParticipantId,
    ParticipantRole}]`. Per-segment Sentiment from Contact Lens is ignored (we score our own).
    """
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("document must be an object")
    roles = {
        str(p.get("ParticipantId")): _speaker(p.get("ParticipantRole"))
        for p in _list(doc.get("Participants"), "Participants", optional=True)
        if isinstance(p, Mapping)
    }
    metadata = doc.get("CustomerMetadata") if isinstance(doc.get("CustomerMetadata"), Mapping) else {}

    def speaker_of(entry: Mapping[str, Any]) -> Speaker | None:
        participant = entry.get("ParticipantId")
        return _speaker(participant) or roles.get(str(participant)) or _speaker(entry.get("ParticipantRole"))

    rows, dropped = _offset_rows(doc, speaker_of)
    return _build(contact_id or metadata.get("ContactId"), rows, dropped=dropped)


def parse_transcribe_call_analytics(doc: Any, contact_id: str | None = None) -> Transcript:
    """Transcribe call analytics: `Transcript: [{ParticipantRole, BeginOffsetMillis, EndOffsetMillis, Content}]`."""
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("document must be an object")
    rows, dropped = _offset_rows(doc, lambda entry: _speaker(entry.get("ParticipantRole")))
    return _build(contact_id or doc.get("JobName"), rows, dropped=dropped)


def _offset_rows(doc: Mapping[str, Any], speaker_of: Any) -> tuple[list[tuple[Any, ...]], int]:
    """The rows of a `Transcript: [{…, BeginOffsetMillis, EndOffsetMillis, Content}]` list (Contact Lens, Transcribe
    call analytics), and how many of its entries were no object (dropped, counted)."""
    rows = []
    dropped = 0
    for index, entry in enumerate(_list(doc.get("Transcript"), "Transcript")):
        if not isinstance(entry, Mapping):
            dropped += 1
            continue
        rows.append((
            speaker_of(entry),
            _int_ms(entry.get("BeginOffsetMillis"), f"Transcript[{index}].BeginOffsetMillis"),
            _int_ms(entry.get("EndOffsetMillis"), f"Transcript[{index}].EndOffsetMillis"),
            entry.get("Content"),
        ))  # fmt: skip
    return rows, dropped


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


# A Transcribe word as collected: (label, begin, end, content, is_punctuation), in spoken order.
_Word = tuple[str | None, int | None, int | None, str, bool]


def parse_transcribe_standard(
    doc: Any,
    contact_id: str | None = None,
    *,
    roles: Mapping[str, Speaker] = DEFAULT_TRANSCRIBE_ROLES,
    pause_split_ms: int = 1000,
) -> Transcript:
    """Transcribe standard output: word `results.items` with speaker or channel labels.

    Words are grouped into segments on speaker change or on a pause of `pause_split_ms`, so that
    silence inside one speaker's turn still shows up as non-talk time. A word that is no object, has no
    content, no start time or no label its `roles` know is dropped and counted (`dropped_segments` counts
    words here); a speaker-label entry that cannot be read labels nothing, so its words are counted so.
    """
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("document must be an object")
    results = _object(doc.get("results"), "results")
    contact_id = contact_id or doc.get("jobName")
    if not results.get("items") and isinstance(results.get("audio_segments"), list) and results["audio_segments"]:
        return _from_audio_segments(results["audio_segments"], contact_id, roles)
    words: list[_Word] = []
    dropped = 0

    def collect(items: list[Any], path: str, label_of: Any) -> None:
        """`label_of(item, begin)`: the word's label (the channel's, or its speaker's)."""
        nonlocal dropped
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                dropped += 1
                continue
            alternatives = _list(item.get("alternatives"), f"{where}.alternatives", optional=True)
            best = alternatives[0] if alternatives else None
            content = best.get("content") if isinstance(best, Mapping) else None
            if not isinstance(content, str):
                dropped += 1
                continue
            begin = _seconds_ms(item.get("start_time"), f"{where}.start_time")
            end = _seconds_ms(item.get("end_time"), f"{where}.end_time")
            words.append((label_of(item, begin), begin, end, content, item.get("type") == "punctuation"))

    channel_labels = _object(results.get("channel_labels"), "results.channel_labels", optional=True)
    channels = _list(channel_labels.get("channels"), "results.channel_labels.channels", optional=True)
    if channels:
        for number, channel in enumerate(channels):
            where = f"results.channel_labels.channels[{number}]"
            channel = _object(channel, where)  # its words could not even be counted
            label = _label(channel.get("channel_label"))
            collect(_list(channel.get("items"), f"{where}.items", optional=True), f"{where}.items",
                    lambda item, begin, label=label: label)
        # Punctuation has no time: keep it right after the word it followed within its channel.
        timed: list[tuple[int, int, _Word]] = []
        last_time = 0
        for order, word in enumerate(words):
            last_time = word[1] if word[1] is not None else last_time
            timed.append((last_time, order, word))
        words = [w for _, _, w in sorted(timed, key=lambda t: (t[0], t[1]))]
    else:
        label_at: dict[int, str] = {}
        speaker_labels = _object(results.get("speaker_labels"), "results.speaker_labels", optional=True)
        segments = _list(speaker_labels.get("segments"), "results.speaker_labels.segments", optional=True)
        for number, seg in enumerate(segments):
            if not isinstance(seg, Mapping):
                continue  # labels nothing: the words it would have labelled are dropped and counted
            path = f"results.speaker_labels.segments[{number}].items"
            for index, item in enumerate(_list(seg.get("items"), path, optional=True)):
                if not isinstance(item, Mapping):
                    continue
                begin = _seconds_ms(item.get("start_time"), f"{path}[{index}].start_time")
                label = _label(item.get("speaker_label"))
                if begin is not None and label:
                    label_at[begin] = label
        collect(_list(results.get("items"), "results.items"), "results.items",
                lambda item, begin: _label(item.get("speaker_label")) or (label_at.get(begin) if begin is not None else None))

    rows: list[tuple[Speaker | None, int | None, int | None, str, tuple[int, ...]]] = []
    current: list[Any] | None = None  # [speaker, begin, end, parts, word begins]
    for label, begin, end, content, is_punctuation in words:
        if is_punctuation:
            if current is not None and current[3]:
                current[3][-1] += content
            continue
        speaker = roles.get(label) if label else None
        if speaker is None or begin is None:
            dropped += 1
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
    return _build(contact_id, rows, dropped=dropped)


def _from_audio_segments(
    segments: list[Any], contact_id: Any, roles: Mapping[str, Speaker]
) -> Transcript:
    """Transcribe's `results.audio_segments` (one per speaker turn: `transcript`, `start_time`, `end_time`,
    `speaker_label` or `channel_label`), for documents trimmed to them without the word `items`."""
    rows: list[tuple[Speaker | None, int | None, int | None, Any]] = []
    for index, seg in enumerate(segments):
        where = f"results.audio_segments[{index}]"
        seg = _object(seg, where)
        label = _label(seg.get("speaker_label")) or _label(seg.get("channel_label"))
        rows.append((roles.get(label) if label else None,
                     _seconds_ms(seg.get("start_time"), f"{where}.start_time"),
                     _seconds_ms(seg.get("end_time"), f"{where}.end_time"), seg.get("transcript")))
    return _build(contact_id, rows)


TranscriptFormat = Literal["segments", "chat", "contact_lens", "transcribe_call_analytics", "transcribe"]


def detect_format(doc: Any) -> TranscriptFormat:
    """By the keys the formats are known by (not by their values' types: a known key holding the wrong
    type is then refused by its parser, naming it)."""
    if isinstance(doc, list):
        first = next((d for d in doc if isinstance(d, Mapping)), {})
        if "speaker" in first:
            return "segments"
        if {"participant_role", "ParticipantRole"} & set(first):
            return "chat"
        raise TranscriptFormatError("unrecognised list transcript")
    if isinstance(doc, Mapping):
        if "segments" in doc:  # ours: {"segments": [...], "connected_at_ms": n}
            return "segments"
        if "Transcript" in doc:
            entries = doc["Transcript"]
            first = next((d for d in entries if isinstance(d, Mapping)), {}) if isinstance(entries, list) else {}
            if "ParticipantId" in first:
                return "contact_lens"
            return "transcribe_call_analytics"
        if "results" in doc:
            return "transcribe"
    raise TranscriptFormatError("unrecognised transcript document")


def parse_transcript(doc: Any, contact_id: str | None = None, *,
                     contact_channel: ContactChannel | None = None) -> Transcript:
    """Detect the format and parse with default options. The contact's channel, where the caller knows it, says
    how the transcript is analysed, not the format (analysed_channel: a chat uploaded as our segments is a chat)."""
    fmt = detect_format(doc)
    if fmt == "segments":
        if isinstance(doc, Mapping):
            transcript = parse_segments(doc.get("segments"), contact_id or "", connected_at_ms=doc.get("connected_at_ms"))
        else:
            transcript = parse_segments(doc, contact_id or "")
    elif fmt == "chat":
        transcript = parse_chat_messages(doc, contact_id or "")
    elif fmt == "contact_lens":
        transcript = parse_contact_lens(doc, contact_id)
    elif fmt == "transcribe_call_analytics":
        transcript = parse_transcribe_call_analytics(doc, contact_id)
    else:
        transcript = parse_transcribe_standard(doc, contact_id)
    channel = analysed_channel(contact_channel, transcript.channel)
    return transcript if channel == transcript.channel else transcript.model_copy(update={"channel": channel})
