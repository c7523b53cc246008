"""Shared text normalisation and multi-phrase search over a whole transcript in one pass.

Speed matters (1,000-segment transcripts, hundreds per second) and CPython's regex engine costs about
10 ns per character per pattern, so nothing here runs one regex per phrase. All segments are joined,
lower-cased and stripped of punctuation with C-level string methods in one go, then split into word
lists; a C-level set test skips every segment holding no word that can start a phrase, and only the
rest are walked word by word.

Two indexes share that normalisation. `PhraseIndex` matches exact words inside one segment
(categories, contact reasons, live guidance and alerts). `ConversationIndex` (compliance rules)
matches canonical tokens (contractions expanded, light inflection stripped) over each speaker's
segments joined in time order, with an optional bounded word-edit tolerance: see "tolerant matching
over the conversation" below for the design and its bounds.
"""
from __future__ import annotations

import string
import unicodedata
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import sub

from .patterns import lazy_regex

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


# Format characters some scripts need inside a word (zero-width non-joiner and joiner: Persian, Indic, emoji).
_JOINERS = frozenset("\u200c\u200d")
# Letters and symbols that show nothing (Hangul fillers, the blank Braille pattern).
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNPS" and char not in _BLANKS


def unseen_characters(phrase: str) -> str | None:
    """Why a phrase a tenant wrote cannot be read and said, or None when it can. Normalising blanks a control
    character (a NUL or a tab split or glued its words silently) and keeps an invisible one (a zero-width space, a
    soft hyphen, a direction mark) as part of a word: a phrase of only those passed as a word, and one inside a
    word never matches what was said. Every word must show something (a letter, digit, punctuation or symbol: a
    word of punctuation only is then no word at all, normalize_phrase). The reason names neither the phrase nor
    the character."""
    if any(unicodedata.category(c) == "Cc" for c in phrase):
        return "a phrase holds no control characters"
    if any(unicodedata.category(c) == "Cf" and c not in _JOINERS for c in phrase):
        return "a phrase holds no invisible characters (zero-width spaces, soft hyphens, direction marks)"
    if not all(any(map(_shows, word)) for word in phrase.split()):
        return "phrase has a word with no visible character"
    return None


def segment_words(texts: Sequence[str], *, clause_breaks: bool = False, placeholders: bool = False) -> list[list[str]]:
    """Each text as a list of normalised words, normalised all at once (one C call per step for the
    whole transcript, not per segment).

    With `clause_breaks`, clause punctuation becomes a CLAUSE_BREAK word, so that sentiment does not
    read "No, happy to help" as "no happy".

    With `placeholders`, a redaction placeholder ("[CARD]") becomes one word marked with
    PLACEHOLDER_MARK (see `placeholder_token`) instead of the plain word "card", so that a rule can
    tell a card number read out from the word "card".
    """
    if not texts:
        return []
    joined = SEGMENT_MARK.join(texts)
    if joined.count(SEGMENT_MARK) != max(len(texts) - 1, 0):
        joined = SEGMENT_MARK.join(t.replace(SEGMENT_MARK, " ") for t in texts)
    if placeholders and "[" in joined:
        joined = _PLACEHOLDER.sub(lambda m: f" {PLACEHOLDER_MARK}{m.group(1)} ", joined)
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

    The search is Aho-Corasick over words (`_WordAutomaton`): each word of a segment is read once and
    every phrase ending there is reported, so a post costs its words plus its matches whatever the
    phrases. Comparing each phrase at each position instead cost words x phrases x phrase length: a
    tenant's rules of many long phrases sharing their first words ("a a ... a z1", "a a ... a z2")
    made one post of the repeated word take minutes.
    """

    def __init__(self, phrases: Iterable[tuple[str, ...]]) -> None:
        self.phrases: list[tuple[str, ...]] = []
        self._ids: dict[tuple[str, ...], int] = {}
        for phrase in phrases:
            if phrase not in self._ids:
                self._ids[phrase] = len(self.phrases)
                self.phrases.append(phrase)
        self._exact = _WordAutomaton([(phrase, pid) for pid, phrase in enumerate(self.phrases)])
        self._firsts = self._exact.firsts
        # Across clause breaks a phrase is read on the segment's spoken words (breaks dropped): one whose
        # later words hold a break word cannot match there, and one starting with a break word (payload
        # ~pid) matches on each break of the run just before the rest of its words.
        if any(CLAUSE_BREAK in phrase for phrase in self.phrases):
            self._across = _WordAutomaton(
                (phrase[1:], ~pid) if phrase[0] == CLAUSE_BREAK else (phrase, pid)
                for pid, phrase in enumerate(self.phrases)
                if CLAUSE_BREAK not in phrase[1:] and phrase != (CLAUSE_BREAK,)
            )
        else:
            self._across = self._exact

    def id_of(self, phrase: tuple[str, ...]) -> int:
        return self._ids[phrase]

    def find(self, segments: Sequence[list[str]]) -> dict[int, list[tuple[int, int]]]:
        """phrase id -> [(segment index, word position)], in transcript order.

        Clause-break words (from `segment_words(..., clause_breaks=True)`) are skipped inside a
        phrase, so rules match across punctuation as they would on punctuation-free text.
        """
        exact, across, firsts = self._exact, self._across, self._firsts
        found: dict[int, list[tuple[int, int]]] = {}
        for segment, words in enumerate(segments):
            if firsts.isdisjoint(words):
                continue
            if CLAUSE_BREAK not in words:
                hits = exact.scan(words)
            elif across is exact:
                # no phrase holds a break word, so each match of the words as they are is also one of
                # the spoken words: one scan of those finds them all
                spoken = [i for i, word in enumerate(words) if word != CLAUSE_BREAK]
                found_spoken = exact.scan([words[i] for i in spoken])
                hits = {pid: [spoken[s] for s in starts] for pid, starts in found_spoken.items()}
            else:
                spoken = [i for i, word in enumerate(words) if word != CLAUSE_BREAK]
                positions = {pid: set(starts) for pid, starts in exact.scan(words).items()}
                for payload, starts in across.scan([words[i] for i in spoken]).items():
                    if payload >= 0:
                        positions.setdefault(payload, set()).update(spoken[s] for s in starts)
                    else:
                        runs = (range(spoken[s - 1] + 1 if s else 0, spoken[s]) for s in starts)
                        positions.setdefault(~payload, set()).update(chain.from_iterable(runs))
                hits = {pid: sorted(starts) for pid, starts in positions.items() if starts}
            for pid, starts in hits.items():
                found.setdefault(pid, []).extend([(segment, start) for start in starts])
        # phrase ids in the order they are first met (then by id), as a scan phrase by phrase gives them
        return {pid: found[pid] for pid in sorted(found, key=lambda pid: (found[pid][0], pid))}


class _WordAutomaton:
    """Aho-Corasick over words: a trie of the patterns with, per node, the longest proper suffix of its
    path that is also a trie path (`fail`) and the nearest such suffix where a pattern ends (`output`).

    `scan` reads each word once (a failed word only climbs `fail` links, at most as many as it went
    down) and jumps straight to the next word that starts a pattern whenever it is back at the root,
    so ordinary text costs about the C-level scan for first words.
    """

    def __init__(self, patterns: Iterable[tuple[tuple[str, ...], Hashable]]) -> None:
        children: list[dict[str, int]] = [{}]
        ends: list[list[tuple[int, Hashable]]] = [[]]  # (pattern length, payload) of the patterns ending at a node
        for words, payload in patterns:
            node = 0
            for word in words:
                child = children[node].get(word)
                if child is None:
                    child = children[node][word] = len(children)
                    children.append({})
                    ends.append([])
                node = child
            ends[node].append((len(words), payload))
        fail = [0] * len(children)
        output = [0] * len(children)
        level = list(children[0].values())  # breadth first: a node's fail link is shallower, so already set
        while level:
            deeper: list[int] = []
            for node in level:
                for word, child in children[node].items():
                    link = fail[node]
                    while link and word not in children[link]:
                        link = fail[link]
                    fail[child] = target = children[link].get(word, 0)
                    output[child] = target if ends[target] else output[target]
                    deeper.append(child)
            level = deeper
        self._children, self._ends, self._fail, self._output = children, ends, fail, output
        self.firsts = frozenset(children[0])

    def scan(self, words: Sequence[str]) -> dict[Hashable, list[int]]:
        """payload -> where its pattern starts in `words`, each time, in order."""
        children, ends, fail, output, firsts = self._children, self._ends, self._fail, self._output, self.firsts
        found: dict[Hashable, list[int]] = {}
        count = len(words)
        position = 0
        for first in [i for i, word in enumerate(words) if word in firsts]:
            if first < position:
                continue  # read already, inside a partial match
            node, position = 0, first
            while position < count:
                word = words[position]
                while node and word not in children[node]:
                    node = fail[node]
                node = children[node].get(word, 0)
                position += 1
                if not node:
                    break  # back at the root: the next word to read is the next first word
                match = node if ends[node] else output[node]
                while match:
                    for length, payload in ends[match]:
                        starts = found.get(payload)
                        if starts is None:
                            found[payload] = [position - length]
                        else:
                            starts.append(position - length)
                    match = output[match]
        return found


# --- tolerant matching over the conversation -------------------------------------------------------
#
# Compliance rules match on *canonical* tokens. Every transcript word maps to exactly one token
# through `canonical()` (cached, so once per distinct word): a contraction becomes its expansion as
# one token ("we'll" -> "we will", "can't" and "cannot" -> "can not", "won't" -> "will not", "gonna"
# -> "going to"), every word is stripped of light inflection by `stem()` (attempting / attempted /
# attempts -> attempt, arrested -> arrest, charges / charged / charge -> charg), a clause break
# becomes "" and is dropped. A rule phrase goes through the same functions word by word and is
# indexed under each of its `contraction_variants` (the plain words, and adjacent pairs a
# contraction expands to merged: "we", "will" and "we will"), so "we'll" and "we will" in the
# transcript both match "we will", and matching stays an exact comparison of cached strings.
# `stem()` aims at consistency, not linguistics: unrelated words may share a stem ("speed", "sped"
# stay apart but "wages" and "wag" meet), which can only widen a phrase by such a word.
#
# `ConversationIndex` scans each speaker's words as one stream, in time order, so a phrase may start
# in one segment and end in the speaker's next one(s) (what the other party says in between, a
# backchannel "mhm", is in the other stream and does not break it). Every match reports the segments
# where it starts and ends and the largest silence it crossed, so each rule decides which gap is too
# long. Exact phrases are probed by their first two tokens (one dict look-up per candidate position).
# A phrase may also tolerate up to two word edits (an extra, a missing or a replaced word), never at
# its first or last word and at most one per two words after the first, searched by a bounded
# backtrack: at most 3^edits paths of at most phrase-length steps per candidate start, so the scan
# stays linear in the transcript.

PLACEHOLDER_MARK = "\x7f"  # DEL: neither whitespace, punctuation nor a control character we blank
_PLACEHOLDER = lazy_regex(r"\[([A-Za-z][A-Za-z0-9_]{0,39})\]")

_CONTRACTIONS: dict[str, str] = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not", "ain't": "is not",
    "let's": "let us", "gonna": "going to", "wanna": "want to", "gotta": "got to", "y'all": "you all",
    "it's": "it is", "that's": "that is", "there's": "there is", "here's": "here is", "what's": "what is",
    "who's": "who is", "where's": "where is", "how's": "how is", "he's": "he is", "she's": "she is",
    "i'm": "i am",
}  # fmt: skip
_SUFFIXES = (("n't", " not"), ("'ll", " will"), ("'re", " are"), ("'ve", " have"), ("'d", " would"), ("'m", " am"))
_MAX_CANON_CACHE = 200_000


def stem(word: str) -> str:
    """Light suffix stripping (ing, ed, s, es, ies, a final e) for words of 4+ letters."""
    if len(word) < 4 or not word.isalpha():
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # stopped -> stop, but called -> call
            return _drop_e(base)
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return _drop_e(word[:-1])
    return _drop_e(word)


def _drop_e(base: str) -> str:
    return base[:-1] if len(base) > 3 and base.endswith("e") else base


def _canonical(word: str) -> str:
    if word == CLAUSE_BREAK:
        return ""
    if "'" in word:
        expanded = _CONTRACTIONS.get(word)
        if expanded is None:
            for suffix, replacement in _SUFFIXES:
                if word.endswith(suffix) and len(word) > len(suffix):
                    expanded = word[: -len(suffix)] + replacement
                    break
            else:
                # a possessive or a stray apostrophe: the customer's -> customer
                expanded = word[:-2] if word.endswith("'s") and len(word) > 2 else word.replace("'", "")
        return " ".join(stem(w) for w in expanded.split()) or word  # one token per word, never ""
    return _CONTRACTIONS.get(word) or stem(word)


class _CanonCache(dict):
    def __missing__(self, word: str) -> str:
        value = self[word] = _canonical(word)
        return value


_CANON = _CanonCache()


def canonical(word: str) -> str:
    """The canonical tokens of one normalised word, space-separated ("" for a clause break)."""
    return _CANON[word]


def canonical_phrase(phrase: str) -> tuple[str, ...]:
    """A phrase as canonical tokens, one per word ("we'll" gives "we", "will"; raises ValueError on a
    phrase with no words). `contraction_variants` gives the forms it is indexed under."""
    words = " ".join(_CANON[w] for w in normalize_phrase(phrase)).split()
    if not words:
        raise ValueError("phrase has no words")
    return tuple(words)


# A contraction in the transcript is ONE canonical token ("we'll" -> "we will", a cached string whose
# hash is computed once), so the stream is built without splitting strings again; the phrase side
# therefore also lists the variants in which a pair of its words is such a token.
_PAIR_SECONDS = frozenset(stem(replacement.split()[0]) for _, replacement in _SUFFIXES)
_PAIR_TABLE = frozenset(
    " ".join(stem(w) for w in expanded.split()) for expanded in _CONTRACTIONS.values() if " " in expanded
)


def contraction_variants(tokens: tuple[str, ...], limit: int = 16) -> list[tuple[str, ...]]:
    """`tokens` and its forms with adjacent pairs a contraction expands to merged into one token
    ("we", "will" -> "we will"), the plain form first; at most `limit` forms."""
    # tilings of the sequence into words and mergeable pairs, built left to right
    pending: list[tuple[tuple[str, ...], int]] = [((), 0)]
    done: list[tuple[str, ...]] = []
    while pending and len(done) < limit:
        prefix, i = pending.pop()
        if i == len(tokens):
            done.append(prefix)
            continue
        pending.append((prefix + (tokens[i],), i + 1))
        if i + 1 < len(tokens):
            pair = f"{tokens[i]} {tokens[i + 1]}"
            if tokens[i + 1] in _PAIR_SECONDS or pair in _PAIR_TABLE:
                pending.insert(0, (prefix + (pair,), i + 2))
    return done


def placeholder_token(kind: str) -> str:
    """The word a redaction placeholder f"[{kind}]" becomes in `segment_words(..., placeholders=True)`."""
    return segment_words([f"[{kind}]"], placeholders=True)[0][0]


@dataclass(frozen=True, slots=True)
class StreamMatch:
    """One occurrence of a phrase in a speaker's stream: where it starts and ends (segment index and
    canonical-token position in that segment) and the largest silence (ms) between two of its
    segments (0 inside one segment)."""

    segment: int
    position: int
    end_segment: int
    gap_ms: int


MAX_MATCHES_PER_PHRASE = 256  # per speaker's stream of one conversation: the earliest ones


def edits_taken(length: int, max_edits: int) -> int:
    """The word edits a phrase of `length` canonical words takes of a rule's `max_edits`: never at its first or last
    word and at most one per two words after the first (3-4 words: 1, 5 or more: 2, shorter: none), so most of the
    words between its first and last are still said. Two edits on four words would leave only the first and last to
    match ("we will sue you" in "we can help you", "we will call you")."""
    return min(max_edits, (length - 1) // 2)


class ConversationIndex:
    """Canonical phrases (with their tolerated edits) found across each speaker's consecutive segments."""

    def __init__(self, phrases: Iterable[tuple[tuple[str, ...], int]]) -> None:
        self.phrases: list[tuple[tuple[str, ...], int]] = []
        self._ids: dict[tuple[tuple[str, ...], int], int] = {}
        # Most candidates fail at the second word: exact phrases are looked up by their first two
        # tokens (one dict probe per candidate), one-token phrases by their token; phrases with
        # tolerated edits, whose second word may be missing, by their first token.
        singles: dict[str, list[int]] = {}
        by_pair: dict[tuple[str, str], list[tuple[list[str], int, int]]] = {}
        fuzzy: dict[str, list[tuple[tuple[str, ...], int, int]]] = {}
        for tokens, max_edits in phrases:
            key = (tokens, max_edits)
            if key in self._ids:
                continue
            pid = self._ids[key] = len(self.phrases)
            self.phrases.append(key)
            edits = edits_taken(len(tokens), max_edits)  # short phrases stay (nearly) exact
            if len(tokens) == 1:
                singles.setdefault(tokens[0], []).append(pid)
            elif edits:
                fuzzy.setdefault(tokens[0], []).append((tokens, edits, pid))
            else:
                by_pair.setdefault((tokens[0], tokens[1]), []).append((list(tokens[2:]), len(tokens), pid))
        # first token -> (one-token phrase ids, second token -> exact phrases, phrases with edits by (length,
        # edits) and last word: the last word is exact and within `edits` of its place, so a candidate looks up the
        # few words there instead of trying every phrase of its first word)
        entries: dict[str, tuple[list[int], dict[str, list[tuple[list[str], int, int]]], list]] = {}
        for first in [*singles, *(first for first, _ in by_pair), *fuzzy]:
            entries.setdefault(first, (singles.get(first, []), {}, _by_length_and_last(fuzzy.get(first, []))))
        for (first, second), exact in by_pair.items():
            entries[first][1][second] = exact
        self._entries = entries
        self._firsts = frozenset(entries)

    def id_of(self, tokens: tuple[str, ...], max_edits: int = 0) -> int:
        return self._ids[(tokens, max_edits)]

    def find(
        self,
        segments: Sequence[list[str]],
        speakers: Sequence[Hashable],
        begins: Sequence[int],
        ends: Sequence[int] | None = None,
    ) -> dict[int, list[StreamMatch]]:
        """phrase id -> matches, each speaker's segments read in time order (begin, then index).

        Per speaker, its words are mapped to canonical tokens through a cache at C level (map, filter,
        accumulate); Python-level work is one pass over the tokens plus the candidate positions.
        """
        if not self._firsts or not segments:
            return {}
        if len(_CANON) > _MAX_CANON_CACHE:
            _CANON.clear()
        ends = begins if ends is None else ends
        order: Sequence[int] = range(len(segments))
        if any(a > b for a, b in zip(begins, begins[1:])):
            order = sorted(order, key=begins.__getitem__)  # stable: ties keep transcript order
        distinct = dict.fromkeys(speakers)
        if len(distinct) == 1:
            by_speaker = {speaker: list(order) for speaker in distinct}
        else:
            by_speaker = {speaker: [s for s in order if speakers[s] == speaker] for speaker in distinct}
        found: dict[int, list[StreamMatch]] = {}
        entries, firsts = self._entries, self._firsts
        canon = _CANON.__getitem__
        for ids in by_speaker.values():
            # Canonical tokens are the cache's own strings (hashes computed once); every word gives
            # exactly one token but a clause break, which gives "" and is filtered out (a phrase runs
            # across punctuation as before), so segment offsets are word counts minus clause breaks.
            lists = list(map(segments.__getitem__, ids))
            tokens = list(filter(None, map(canon, chain.from_iterable(lists))))
            if firsts.isdisjoint(tokens):
                continue
            n = len(tokens)
            offsets = [0, *accumulate(map(sub, map(len, lists), map(list.count, lists, repeat(CLAUSE_BREAK))))]
            candidates = [k for k, token in enumerate(tokens) if token in firsts]
            matches: list[tuple[int, int, int]] = []  # (pid, start, end)
            # Bounds on one speaker's scan, whatever the rules: a phrase found MAX_MATCHES_PER_PHRASE times is not
            # looked for again (its earliest matches are what rules and evidence read: a rule set of "zz" phrases on
            # a transcript of "zz" took 17 s and 70 MB), a phrase with edits is kept for this speaker only if it says
            # enough of its words (len − edits) at all, and is tried only where its last word is (7,920 synonym
            # variants of "you … now" cost 15 s on 1,000 words, each tried at every "you").
            said = frozenset(tokens)
            counts: dict[int, int] = {}
            open_exact: dict[tuple[str, str], list[tuple[list[str], int, int]]] = {}  # without the phrases found enough
            open_fuzzy: dict[str, list[tuple[int, int, dict[str, list[tuple[tuple[str, ...], int]]]]]] = {}
            for k in candidates:
                first = tokens[k]
                singles, seconds, fuzzy = entries[first]
                if singles:
                    matches.extend((pid, k, k + 1) for pid in singles if _room(counts, pid))
                if seconds and k + 1 < n:
                    pair = (first, tokens[k + 1])
                    exact = open_exact.get(pair)
                    if exact is None:
                        exact = open_exact[pair] = list(seconds.get(pair[1], ()))
                    full = False
                    for rest, length, pid in exact:
                        if tokens[k + 2 : k + length] == rest:
                            counts[pid] = counts.get(pid, 0) + 1
                            matches.append((pid, k, k + length))
                            full = full or counts[pid] >= MAX_MATCHES_PER_PHRASE
                    if full:
                        exact[:] = [e for e in exact if counts.get(e[2], 0) < MAX_MATCHES_PER_PHRASE]
                if not fuzzy:
                    continue
                groups = open_fuzzy.get(first)
                if groups is None:  # the word's phrases this speaker says enough words of, grouped once
                    groups = open_fuzzy[first] = [
                        (length, edits, live) for length, edits, by_last in fuzzy
                        if (live := {w: kept for w, ps in by_last.items()
                                     if (kept := [x for x in ps if sum(t in said for t in x[0]) >= length - edits])})]
                for length, edits, by_last in groups:
                    last = k + length - 1
                    for word in set(tokens[last - edits : last + edits + 1]):
                        for phrase, pid in by_last.get(word, ()):
                            if counts.get(pid, 0) >= MAX_MATCHES_PER_PHRASE:
                                continue
                            end = _fuzzy_end(tokens, k + 1, phrase, 1, edits)
                            if end >= 0:
                                counts[pid] = counts.get(pid, 0) + 1
                                matches.append((pid, k, end))
            for pid, k, end in matches:
                first_seg = bisect_right(offsets, k) - 1
                last_seg = bisect_right(offsets, end - 1) - 1
                gap = 0
                for j in range(first_seg + 1, last_seg + 1):  # silences crossed: begin after the speaker's last end
                    gap = max(gap, begins[ids[j]] - max(ends[i] for i in ids[max(0, j - 4) : j]))
                found.setdefault(pid, []).append(
                    StreamMatch(ids[first_seg], k - offsets[first_seg], ids[last_seg], gap)
                )
        return found


def _by_length_and_last(
    fuzzy: list[tuple[tuple[str, ...], int, int]],
) -> list[tuple[int, int, dict[str, list[tuple[tuple[str, ...], int]]]]]:
    """Phrases with edits (one first word) as [(length, edits, last word -> [(phrase, id)])]."""
    groups: dict[tuple[int, int], dict[str, list[tuple[tuple[str, ...], int]]]] = {}
    for phrase, edits, pid in fuzzy:
        groups.setdefault((len(phrase), edits), {}).setdefault(phrase[-1], []).append((phrase, pid))
    return [(length, edits, by_last) for (length, edits), by_last in groups.items()]


def _room(counts: dict[int, int], pid: int) -> bool:
    """Whether phrase `pid` may take one more match (counted as taken)."""
    taken = counts.get(pid, 0)
    if taken >= MAX_MATCHES_PER_PHRASE:
        return False
    counts[pid] = taken + 1
    return True


def _fuzzy_end(tokens: list[str], i: int, phrase: tuple[str, ...], j: int, edits: int) -> int:
    """End (exclusive) of `phrase[j:]` matched from `tokens[i]` with at most `edits` extra, missing or
    replaced words, the last phrase word matched exactly; -1 if none. Greedy on exact runs, bounded."""
    n, m = len(tokens), len(phrase)
    while j < m and i < n and tokens[i] == phrase[j]:
        i += 1
        j += 1
    if j == m:
        return i
    if edits == 0:
        return -1
    if j < m - 1:  # a phrase word missing
        end = _fuzzy_end(tokens, i, phrase, j + 1, edits - 1)
        if end >= 0:
            return end
    if i < n:
        end = _fuzzy_end(tokens, i + 1, phrase, j, edits - 1)  # an extra word
        if end >= 0:
            return end
        if j < m - 1:  # a replaced word
            return _fuzzy_end(tokens, i + 1, phrase, j + 1, edits - 1)
    return -1
