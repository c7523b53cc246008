"""Shared text normalisation and multi-phrase search over a whole transcript in one pass.

Speed matters (1,000-segment transcripts, hundreds per second) and CPython's regex engine costs about
10 ns per character per pattern, so nothing here runs one regex per phrase. All segments are joined,
lower-cased and stripped of punctuation with C-level string methods in one go, then split into word
lists; a C-level set test skips every segment holding no word that can start a phrase, and only the
rest are walked word by word.
"""
from __future__ import annotations

import string
from collections.abc import Iterable, Sequence

# Separator between segments while normalising a whole transcript at once: NUL is neither whitespace
# nor punctuation, so it survives; any NUL already in the text is blanked first.
SEGMENT_MARK = "\x00"
# Token standing in for . , ! ? ; : when a caller needs clause boundaries (sentiment negation scope).
CLAUSE_BREAK = "|"

_APOSTROPHES = "\u2019\u2018\u02bc\u00b4`"
_UNICODE_PUNCT = "\u201c\u201d\u00ab\u00bb\u2026\u2013\u2014\u00a1\u00bf"
_CLAUSE_PUNCT = ".,!?;:"

# Punctuation is deleted rather than spaced, so "e-mail" reads as "email" and "thank you, so much" as
# "thank you so much"; the apostrophe stays ("don't"); control characters other than NUL become
# spaces. The translation runs on UTF-8 bytes: bytes.translate is a C table lookup whatever the text,
# while str.translate leaves its fast path as soon as one non-ASCII character (an emoji, an accent)
# appears and is then ~100x slower.
_DELETE_BYTES = "".join(c for c in string.punctuation if c not in ("'", CLAUSE_BREAK)).encode()
_BYTE_TABLE = bytes.maketrans(bytes(range(1, 32)), b" " * 31)
def _clean(lowered: str) -> str:
    if lowered.isascii():  # O(1) in CPython
        return lowered.encode().translate(_BYTE_TABLE, _DELETE_BYTES).decode()
    for apostrophe in _APOSTROPHES:
        if apostrophe in lowered:
            lowered = lowered.replace(apostrophe, "'")
    for mark in _UNICODE_PUNCT:
        if mark in lowered:
            lowered = lowered.replace(mark, "")
    return lowered.encode().translate(_BYTE_TABLE, _DELETE_BYTES).decode()


def normalize(text: str) -> str:
    """Lower-case, drop punctuation (apostrophes kept), control characters to spaces."""
    return _clean(text.replace(SEGMENT_MARK, " ").lower())


def normalize_phrase(phrase: str) -> tuple[str, ...]:
    words = tuple(normalize(phrase).split())
    if not words:
        raise ValueError("phrase has no words")
    return words


def segment_words(texts: Sequence[str], *, clause_breaks: bool = False) -> list[list[str]]:
    """Each text as a list of normalised words, normalised all at once (one C call per step for the
    whole transcript, not per segment).

    With `clause_breaks`, clause punctuation becomes a CLAUSE_BREAK word, so that sentiment does not
    read "No, happy to help" as "no happy".
    """
    if not texts:
        return []
    joined = SEGMENT_MARK.join(texts)
    if joined.count(SEGMENT_MARK) != max(len(texts) - 1, 0):
        joined = SEGMENT_MARK.join(t.replace(SEGMENT_MARK, " ") for t in texts)
    joined = joined.lower()
    if clause_breaks:
        for mark in _CLAUSE_PUNCT:
            if mark in joined:
                joined = joined.replace(mark, " | ")
    return [segment.split() for segment in _clean(joined).split(SEGMENT_MARK)]


class PhraseIndex:
    """Finds every occurrence of a fixed set of phrases (word sequences) in segment word lists.

    Phrases overlapping or nested in each other are all reported ("cancel" and "cancel my account"
    at the same position), because different rules may use either. A segment sharing no word with
    any phrase's first word is skipped with one C-level set test.
    """

    def __init__(self, phrases: Iterable[tuple[str, ...]]) -> None:
        self.phrases: list[tuple[str, ...]] = []
        self._ids: dict[tuple[str, ...], int] = {}
        by_first: dict[str, list[tuple[list[str], int, int]]] = {}
        for phrase in phrases:
            if phrase in self._ids:
                continue
            pid = self._ids[phrase] = len(self.phrases)
            self.phrases.append(phrase)
            by_first.setdefault(phrase[0], []).append((list(phrase[1:]), len(phrase), pid))
        self._by_first = by_first
        self._firsts = frozenset(by_first)

    def id_of(self, phrase: tuple[str, ...]) -> int:
        return self._ids[phrase]

    def find(self, segments: Sequence[list[str]]) -> dict[int, list[tuple[int, int]]]:
        """phrase id -> [(segment index, word position)], in transcript order.

        Clause-break words (from `segment_words(..., clause_breaks=True)`) are skipped inside a
        phrase, so rules match across punctuation as they would on punctuation-free text.
        """
        by_first, firsts = self._by_first, self._firsts
        found: dict[int, list[tuple[int, int]]] = {}
        for segment, words in enumerate(segments):
            if firsts.isdisjoint(words):
                continue
            has_breaks = CLAUSE_BREAK in words
            for i in [i for i, word in enumerate(words) if word in firsts]:
                for rest, length, pid in by_first[words[i]]:
                    if length == 1:
                        found.setdefault(pid, []).append((segment, i))
                        continue
                    following = words[i + 1 : i + length]
                    if following == rest or (
                        has_breaks and CLAUSE_BREAK in following and _matches_across_breaks(words, i + 1, rest)
                    ):
                        found.setdefault(pid, []).append((segment, i))
        return found


def _matches_across_breaks(words: list[str], start: int, rest: list[str]) -> bool:
    k = 0
    for word in words[start:]:
        if word == CLAUSE_BREAK:
            continue
        if word != rest[k]:
            return False
        k += 1
        if k == len(rest):
            return True
    return False
