"""Conversation characteristics of a voice contact: non-talk time, interruptions, talk time, talk speed.

All computed in one or two sweeps over segments sorted by begin time (O(n log n) at worst).
Overlapping speech counts as talk for each speaker; a speaker's own overlapping segments are merged
so their talk time is not double counted.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Int

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from .transcript import Speaker


class ConversationConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Silences at least this long are listed (and raise the live silence alert elsewhere).
    non_talk_threshold_ms: Int = Field(default=5_000, ge=0, le=3_600_000)
    # Overlaps no longer than this (back-channel "mm-hm") are not interruptions. 0 = any overlap.
    interruption_min_overlap_ms: Int = Field(default=0, ge=0, le=60_000)


class NonTalkSpan(BaseModel):
    begin_ms: int
    end_ms: int
    duration_ms: int


class NonTalk(BaseModel):
    """Time nobody speaks between connection (timeline origin) and the last speech."""

    total_ms: int
    longest_ms: int
    threshold_ms: int
    spans: list[NonTalkSpan]  # only those >= threshold
    spans_total_ms: int
    share: float  # spans_total_ms / contact duration (0 when no duration)


class Interruption(BaseModel):
    by: Speaker
    segment_index: int
    interrupted_segment_index: int
    at_ms: int
    overlap_ms: int


class SpeakerTalk(BaseModel):
    talk_time_ms: int
    words: int
    words_per_minute: float | None  # None without talk time
    segments: int
    interruptions: int  # times this speaker started while the other was still talking


class ConversationCharacteristics(BaseModel):
    duration_ms: int
    agent: SpeakerTalk
    customer: SpeakerTalk
    # agent talk time / (agent + customer talk time); None when nobody talked
    agent_talk_share: float | None
    non_talk: NonTalk
    interruptions: list[Interruption]


def _merged_total(begins: Sequence[int], ends: Sequence[int]) -> int:
    """Length of the union of intervals already sorted by begin."""
    total = 0
    cur_begin = cur_end = None
    for begin, end in zip(begins, ends):
        if cur_end is None or begin > cur_end:
            if cur_end is not None:
                total += cur_end - cur_begin
            cur_begin, cur_end = begin, end
        elif end > cur_end:
            cur_end = end
    if cur_end is not None:
        total += cur_end - cur_begin
    return total


def conversation_characteristics(
    speakers: Sequence[Speaker],
    begins: Sequence[int],
    ends: Sequence[int],
    word_counts: Sequence[int],
    *,
    origin_ms: int = 0,
    config: ConversationConfig | None = None,
) -> ConversationCharacteristics:
    """Segments must be sorted by begin (Transcript guarantees it). `origin_ms` is the connection
    offset: the contact is measured from it, so silence before the first word counts as non-talk, and what
    was recorded before it (an IVR, hold music) is clipped to it: not dead air, not anyone's talk time."""
    config = config or ConversationConfig()
    threshold, min_overlap = config.non_talk_threshold_ms, config.interruption_min_overlap_ms
    n = len(speakers)
    before: list[bool] | None = None  # per segment: over before connection (not counted as the speaker's)
    if n and begins[0] < origin_ms:
        # Clipped, a segment before connection becomes an instant at it (still sorted by begin); only the part
        # after connection is talk.
        before = [end <= origin_ms for end in ends]
        begins = [max(begin, origin_ms) for begin in begins]
        ends = [max(end, origin_ms) for end in ends]
    duration = max((max(ends) if n else origin_ms) - origin_ms, 0)

    # Speakers as 0 (agent) / 1 (customer): enum hashing is a Python-level call, list indexing is not.
    slots = [0 if s == Speaker.AGENT else 1 for s in speakers]
    # plain dicts below: validated once, in bulk, by pydantic-core at the end
    gaps: list[dict[str, int]] = []
    interruptions: list[dict] = []
    total_gap = longest = 0
    spoken_until = origin_ms  # end of everyone's speech so far (non-talk)
    latest: list[tuple[int, int, int] | None] = [None, None]  # per slot: (begin, end, index) ending last
    for index, begin, end, slot in zip(range(n), begins, ends, slots):
        if begin > spoken_until:
            gap = begin - spoken_until
            total_gap += gap
            if gap > longest:
                longest = gap
            if gap >= threshold:
                gaps.append({"begin_ms": spoken_until, "end_ms": begin, "duration_ms": gap})
        if end > spoken_until:
            spoken_until = end
        # interruption: starting strictly inside the other speaker's latest-ending segment
        held = latest[1 - slot]
        if held is not None and held[0] < begin < held[1]:
            overlap = (held[1] if held[1] < end else end) - begin
            if overlap > min_overlap:
                interruptions.append(
                    {
                        "by": speakers[index],
                        "segment_index": index,
                        "interrupted_segment_index": held[2],
                        "at_ms": begin,
                        "overlap_ms": overlap,
                    }
                )
        mine = latest[slot]
        if mine is None or end > mine[1]:
            latest[slot] = (begin, end, index)

    def speaker_talk(slot: int) -> dict:
        mine = [k for k in range(n) if slots[k] == slot and not (before and before[k])]
        talk = _merged_total([begins[k] for k in mine], [ends[k] for k in mine])
        words = sum(word_counts[k] for k in mine)
        by = Speaker.AGENT if slot == 0 else Speaker.CUSTOMER
        return {
            "talk_time_ms": talk,
            "words": words,
            "words_per_minute": round(words * 60_000 / talk, 1) if talk > 0 else None,
            "segments": len(mine),
            "interruptions": sum(1 for i in interruptions if i["by"] == by),
        }

    agent, customer = speaker_talk(0), speaker_talk(1)
    both = agent["talk_time_ms"] + customer["talk_time_ms"]
    spans_total = sum(g["duration_ms"] for g in gaps)
    return ConversationCharacteristics.model_validate(
        {
            "duration_ms": duration,
            "agent": agent,
            "customer": customer,
            "agent_talk_share": round(agent["talk_time_ms"] / both, 4) if both else None,
            "non_talk": {
                "total_ms": total_gap,
                "longest_ms": longest,
                "threshold_ms": threshold,
                "spans": gaps,
                "spans_total_ms": spans_total,
                "share": round(spans_total / duration, 4) if duration else 0.0,
            },
            "interruptions": interruptions,
        }
    )
