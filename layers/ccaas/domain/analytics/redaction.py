"""PII redaction, applied to a transcript before anything else touches it.

Card numbers are found as *runs* of digit tokens — digit groups ("4111 1111-1111 1111") or spoken
digits ("four one one one ...") separated only by spaces, dashes, commas, full stops or a segment
boundary — and every window of whole tokens holding 13-19 digits that passes the Luhn check is
replaced. Working on runs rather than one regex per layout catches the odd groupings ASR produces
(Amex 4-6-5, "41111 11111 111111", a number split over two segments) while a Luhn-invalid 16-digit
order number is left alone.

The other detectors are regexes, run only on the segments that can hold a match (those with a digit
or an "@") so that a long transcript costs one scan for digits, not one per pattern. Results carry
counts per type, never the values.

Tenants' own patterns are compiled with RE2 (patterns.py): linear time whatever the pattern, so a
pattern like `(a+)+$` cannot stall redaction. Our fixed patterns below stay on Python's `re`.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .limits import MAX_CUSTOM_PATTERNS, MAX_PATTERN, MAX_PATTERN_NAME
from .patterns import compile_tenant_pattern


class PiiType(StrEnum):
    CARD = "CARD"
    SSN = "SSN"  # US social security number
    NINO = "NINO"  # UK national insurance number
    EMAIL = "EMAIL"
    PHONE = "PHONE"


_CUSTOM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")  # MAX_PATTERN_NAME characters


class RedactionConfig(BaseModel):
    """What to redact; tenants add their own patterns (name -> regex), e.g. account or policy numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    detect: frozenset[PiiType] = Field(default=frozenset(PiiType), max_length=len(PiiType))
    # RE2 syntax, ^ and $ at segment edges (multi-line); replaced by "[NAME]" (upper-cased) and
    # counted under the name.
    custom_patterns: dict[
        Annotated[str, Field(max_length=MAX_PATTERN_NAME)],
        Annotated[str, Field(min_length=1, max_length=MAX_PATTERN)],
    ] = Field(default_factory=dict, max_length=MAX_CUSTOM_PATTERNS)
    # A contact's attribute values that hold a card or social security number are stored redacted.
    contact_attributes: bool = True

    @field_validator("custom_patterns")
    @classmethod
    def _valid_patterns(cls, patterns: dict[str, str]) -> dict[str, str]:
        for name, pattern in patterns.items():
            if not _CUSTOM_NAME.fullmatch(name):
                raise ValueError(f"custom pattern name {name!r}: letters, digits, _ (max 40)")
            if name.upper() in PiiType.__members__:
                raise ValueError(f"custom pattern name {name!r} clashes with a built-in type")
            compiled = compile_tenant_pattern(pattern, what=f"custom pattern {name!r}")
            if compiled.match("") is not None:
                raise ValueError(f"custom pattern {name!r} matches the empty string")
        return patterns


class RedactionResult(BaseModel):
    text: str
    counts: dict[str, int] = Field(default_factory=dict)


class RedactedTexts(BaseModel):
    texts: list[str]
    counts: dict[str, int] = Field(default_factory=dict)
    changed_segments: int = 0


# --- card numbers --------------------------------------------------------------------------------

_DIGIT_GROUP = re.compile(r"\d+")
_ANY_DIGIT = re.compile(r"\d")
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# spaces, dashes (ASCII and Unicode: no-break space, thin spaces, hyphens, en/em dash), comma, full
# stop; "\n" is a segment boundary in joined text
_RUN_SEPARATORS = " \t\n\r,.-\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u2212"
_SPEAKER_CHANGE = "\x1e"  # boundary between segments of different speakers: ends a run
_MAX_GAP = 4  # characters between two tokens of one run ("1111 - 1111" is 3)
_CARD_MIN, _CARD_MAX = 13, 19


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by every card brand."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if position & 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _numeric_tokens(text: str, windows: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, digits) of digit groups, optionally only inside the given (start, end) windows."""
    if windows is None:
        tokens = [(m.start(), m.end(), m.group()) for m in _DIGIT_GROUP.finditer(text)]
    else:
        tokens = [(m.start(), m.end(), m.group()) for s, e in windows for m in _DIGIT_GROUP.finditer(text, s, e)]
    if not text.isascii():  # \d also matches other scripts' digits ("４１１１"): Luhn needs 0-9
        tokens = [(s, e, d if d.isascii() else "".join(str(int(c)) for c in d)) for s, e, d in tokens]
    return tokens


def _spoken_digit_tokens(lowered: str) -> list[tuple[int, int, str]]:
    """(start, end, digit) of spoken digits ("four", "oh"), found with str.find (C speed)."""
    spoken: list[tuple[int, int, str]] = []
    size = len(lowered)
    for word, digit in _DIGIT_WORDS.items():
        at = lowered.find(word)
        while at != -1:
            end = at + len(word)
            # whole words only: "phone" and "money" contain "one"
            if (at == 0 or not lowered[at - 1].isalpha()) and (end == size or not lowered[end].isalpha()):
                spoken.append((at, end, digit))
            at = lowered.find(word, end)
    return spoken


def _runs(text: str, tokens: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    """Group tokens separated only by separator characters; keep runs that can hold a card."""
    runs: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    digits = 0
    for token in tokens:
        if current:
            gap = text[current[-1][1] : token[0]]
            if len(gap) <= _MAX_GAP and not gap.strip(_RUN_SEPARATORS):
                current.append(token)
                digits += len(token[2])
                continue
            if digits >= _CARD_MIN:
                runs.append(current)
        current, digits = [token], len(token[2])
    if current and digits >= _CARD_MIN:
        runs.append(current)
    return runs


def _card_token_ranges(run: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Index ranges [first, last] of the run's tokens covered by Luhn-valid 13-19 digit windows.

    Windows start and end on token boundaries (ASR and people group digits, they do not split a
    group), and all valid windows are unioned so that no part of a card is left behind when other
    digits are spoken next to it.
    """
    covered = [False] * len(run)
    for first in range(len(run)):
        digits = ""
        for last in range(first, len(run)):
            digits += run[last][2]
            if len(digits) > _CARD_MAX:
                break
            if len(digits) >= _CARD_MIN and luhn_valid(digits):
                for k in range(first, last + 1):
                    covered[k] = True
    ranges: list[tuple[int, int]] = []
    k = 0
    while k < len(run):
        if covered[k]:
            start = k
            while k + 1 < len(run) and covered[k + 1]:
                k += 1
            ranges.append((start, k))
        k += 1
    return ranges


def _card_spans(text: str, tokens: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Character spans of card numbers given all digit tokens of `text` in order."""
    spans = []
    for run in _runs(text, tokens):
        for first, last in _card_token_ranges(run):
            spans.append((run[first][0], run[last][1]))
    return spans


def contains_luhn_valid_card(text: str) -> bool:
    """True when `text` still holds something the redactor would replace as a card number."""
    return bool(_card_spans(text, sorted(_numeric_tokens(text) + _spoken_digit_tokens(_lower_same_length(text)))))


def _lower_same_length(text: str) -> str:
    """Lower-cased text with positions unchanged (a few letters, e.g. "\u0130", grow when lowered)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered


# --- other detectors -----------------------------------------------------------------------------

# Patterns for identifiers that contain digits, as named alternatives of one regex so each candidate
# place is scanned once. Leading/trailing assertions keep them from matching inside longer numbers.
_DIGIT_PATTERNS = {
    # SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; dashes or spaces, used consistently
    PiiType.SSN: r"(?<![\d-])(?!000|666|9\d\d)\d{3}(?P<ssn_sep>[- ])(?!00)\d\d(?P=ssn_sep)(?!0000)\d{4}(?![\d-])",
    # UK NINO: allowed prefix letters minus never-issued pairs, six digits, suffix A-D
    PiiType.NINO: r"(?i:(?<![a-z0-9])(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]"
    r" ?\d\d ?\d\d ?\d\d ?[a-d](?![a-z0-9]))",
    PiiType.PHONE: "|".join(
        (
            # E.164 / international: + then 8-15 digits with optional separators
            r"(?<![\w+])\+\d(?:[ .()-]{0,2}\d){7,14}(?!\d)",
            # North American: (555) 123-4567, 555-123-4567, 1 555 123 4567, 5551234567
            r"(?<![\w+])(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?![\w-])",
            # UK national: 020 7946 0018, 07700 900123, 0161-496-0000
            r"(?<![\w+])0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?![\w-])",
        )
    ),
}
# How far an identifier may extend beyond its digits: "+", "(" and NINO letters before, the NINO
# suffix letter and ")" after.
_CLUSTER_LEAD, _CLUSTER_TRAIL, _CLUSTER_GAP = 4, 3, 3
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Spoken form ASR produces: "john dot smith at example dot com".
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?: (?:dot|underscore) [a-z0-9]+)* at [a-z0-9]+(?: dot [a-z0-9]+)* dot "
    r"(?:com|net|org|edu|gov|co|uk|io|info|biz|us|ca|de|fr)\b",
    re.IGNORECASE,
)

# Overlapping matches merge into one placeholder labelled by the earliest type in this order.
_PRIORITY = {PiiType.CARD: 0, PiiType.SSN: 1, PiiType.NINO: 2, PiiType.EMAIL: 3, PiiType.PHONE: 4}


class Redactor:
    """Compiled redaction for one tenant configuration; reuse it across transcripts."""

    def __init__(self, config: RedactionConfig | None = None) -> None:
        self.config = config or RedactionConfig()
        detect = self.config.detect
        self._cards = PiiType.CARD in detect
        enabled = [(kind, pattern) for kind, pattern in _DIGIT_PATTERNS.items() if kind in detect]
        self._digit_kinds = [kind for kind, _ in enabled]
        self._digit_regex = (
            re.compile("|".join(f"(?P<{kind.value}>{pattern})" for kind, pattern in enabled)) if enabled else None
        )
        self._emails = PiiType.EMAIL in detect
        self._custom = [(name, compile_tenant_pattern(p)) for name, p in self.config.custom_patterns.items()]

    def redact(self, text: str) -> RedactionResult:
        result = self.redact_many([text])
        return RedactionResult(text=result.texts[0], counts=result.counts)

    def redact_many(self, texts: Sequence[str], speakers: Sequence[object] | None = None) -> RedactedTexts:
        """Redact consecutive texts together: ASR may split one card number over two segments.

        With `speakers`, a number only continues into the next segment when the same speaker
        says it (digits from the other side of the conversation are a different number).
        """
        joined = lines = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1 or _SPEAKER_CHANGE in joined:  # would look like boundaries
            texts = [t.replace("\n", " ").replace(_SPEAKER_CHANGE, " ") for t in texts]
            joined = lines = "\n".join(texts)
        if speakers is not None and len(texts) > 1:
            pieces = [texts[0]]
            for k in range(1, len(texts)):
                pieces.append("\n" if speakers[k] == speakers[k - 1] else _SPEAKER_CHANGE)
                pieces.append(texts[k])
            joined = "".join(pieces)
        starts = [0] * len(texts)
        offset = 0
        for k, t in enumerate(texts):
            starts[k] = offset
            offset += len(t) + 1
        lowered = _lower_same_length(joined)

        spans: list[tuple[int, int, str]] = []
        # Digits are rare in speech: find the segments holding any with str.find, scan only those.
        if joined.isascii():
            digit_segments = _segments_containing(joined, starts, "0123456789")
        else:  # digits of other scripts too; str.find cannot enumerate those
            digit_segments = sorted({bisect.bisect_right(starts, m.start()) - 1 for m in _ANY_DIGIT.finditer(joined)})
        numeric = _numeric_tokens(joined, [(starts[k], starts[k] + len(texts[k])) for k in digit_segments])
        if self._cards:
            tokens = numeric
            spoken = _spoken_digit_tokens(lowered)
            if spoken:
                tokens = sorted(numeric + spoken)
            spans += [(s, e, PiiType.CARD) for s, e in _card_spans(joined, tokens)]
        if self._digit_regex is not None:
            spans += self._digit_identifiers(joined, numeric)
        if self._emails:
            for k in _segments_containing(joined, starts, "@"):
                base, segment = starts[k], joined[starts[k] : starts[k] + len(texts[k])]
                spans += [(base + m.start(), base + m.end(), PiiType.EMAIL) for m in _EMAIL.finditer(segment)]
            if " dot " in lowered:
                spans += [(m.start(), m.end(), PiiType.EMAIL) for m in _SPOKEN_EMAIL.finditer(joined)]
        for name, rx in self._custom:
            # one segment per line, whoever speaks, so a tenant's ^ and $ anchor at segment edges;
            # RE2: linear in the text whatever the pattern
            spans += [(m.start(), m.end(), name) for m in rx.finditer(lines) if m.end() > m.start()]
        if not spans:
            return RedactedTexts(texts=list(texts))
        return _apply(joined, starts, texts, spans)

    def _digit_identifiers(self, joined: str, numeric: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """SSN / NINO / phone matches, searched only in small windows around clusters of digit groups."""
        assert self._digit_regex is not None
        spans: list[tuple[int, int, str]] = []
        size = len(joined)
        k = 0
        while k < len(numeric):
            first = last = k
            while last + 1 < len(numeric) and numeric[last + 1][0] - numeric[last][1] <= _CLUSTER_GAP:
                last += 1
            k = last + 1
            low = max(0, numeric[first][0] - _CLUSTER_LEAD)
            high = min(size, numeric[last][1] + _CLUSTER_TRAIL)
            # lookbehinds still see the text before `low`; `high` leaves room for the lookaheads
            for m in self._digit_regex.finditer(joined, low, high):
                kind = next(kind for kind in self._digit_kinds if m.group(kind.value) is not None)
                if kind is PiiType.PHONE and m.group()[0] == "0" and not 10 <= _count_digits(m.group()) <= 11:
                    continue  # UK national numbers have 10-11 digits; "0900 5474 9950" is something else
                spans.append((m.start(), m.end(), kind))
        return spans


def _count_digits(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def _segments_containing(joined: str, starts: list[int], needles: Sequence[str]) -> list[int]:
    """Indexes of segments containing any needle, found with str.find (C speed) rather than a regex
    scan of the whole transcript; one hit per segment is enough, so each search resumes at the next
    segment."""
    found: set[int] = set()
    for needle in needles:
        at = joined.find(needle)
        while at != -1:
            k = bisect.bisect_right(starts, at) - 1
            found.add(k)
            at = joined.find(needle, starts[k + 1]) if k + 1 < len(starts) else -1
    return sorted(found)


def _label_rank(label: str) -> int:
    return _PRIORITY.get(label, len(_PRIORITY))  # type: ignore[call-overload]


def _apply(joined: str, starts: list[int], texts: Sequence[str], spans: list[tuple[int, int, str]]) -> RedactedTexts:
    spans.sort()
    merged: list[list] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if _label_rank(label) < _label_rank(last[2]):
                last[2] = label
        else:
            merged.append([start, end, label])
    counts: dict[str, int] = {}
    out = list(texts)
    pieces: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, label in merged:
        counts[str(label)] = counts.get(str(label), 0) + 1
        # A span may cross segment boundaries (card split over two segments): one placeholder each.
        k = bisect.bisect_right(starts, start) - 1
        while k < len(texts) and starts[k] < end:
            seg_start, seg_end = starts[k], starts[k] + len(texts[k])
            lo, hi = max(start, seg_start), min(end, seg_end)
            if hi > lo:
                pieces.setdefault(k, []).append((lo - seg_start, hi - seg_start, f"[{str(label).upper()}]"))
            k += 1
    for k, replacements in pieces.items():
        text = joined[starts[k] : starts[k] + len(texts[k])]
        parts, cursor = [], 0
        for lo, hi, placeholder in replacements:
            parts.append(text[cursor:lo])
            parts.append(placeholder)
            cursor = hi
        parts.append(text[cursor:])
        out[k] = "".join(parts)
    return RedactedTexts(texts=out, counts=counts, changed_segments=len(pieces))


def redact_text(text: str, config: RedactionConfig | None = None) -> RedactionResult:
    """Convenience for one string (builds a Redactor; reuse a Redactor in loops)."""
    return Redactor(config).redact(text)
