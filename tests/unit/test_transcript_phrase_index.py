"""`PhraseIndex.find` (categories, contact reasons, live guidance and alerts) reads each word once:
the same matches as comparing every phrase at every position, without its cost on long phrases that
share their first words."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaas.domain.analytics.text import CLAUSE_BREAK, PhraseIndex, segment_words
from local.testing import examples


def reference_find(phrases: list[tuple[str, ...]], segments: list[list[str]]) -> dict[int, list[tuple[int, int]]]:
    """The scan PhraseIndex used to run, phrase by phrase at each position: the specification."""
    ids: dict[tuple[str, ...], int] = {}
    by_first: dict[str, list[tuple[list[str], int, int]]] = {}
    for phrase in phrases:
        if phrase not in ids:
            ids[phrase] = len(ids)
            by_first.setdefault(phrase[0], []).append((list(phrase[1:]), len(phrase), ids[phrase]))

    def across_breaks(words: list[str], start: int, rest: list[str]) -> bool:
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

    found: dict[int, list[tuple[int, int]]] = {}
    for segment, words in enumerate(segments):
        has_breaks = CLAUSE_BREAK in words
        for i, word in enumerate(words):
            for rest, length, pid in by_first.get(word, ()):
                following = words[i + 1 : i + length]
                if length == 1 or following == rest or (
                    has_breaks and CLAUSE_BREAK in following and across_breaks(words, i + 1, rest)
                ):
                    found.setdefault(pid, []).append((segment, i))
    return found


# A small alphabet with the clause-break word, so phrases overlap, nest, repeat and straddle breaks.
# Phrases may hold the break word themselves (normalize_phrase keeps "|"), or not: two paths of `find`.
spoken_word = st.sampled_from(["a", "b", "c", "d"])
word = st.one_of(spoken_word, st.just(CLAUSE_BREAK))
phrase_sets = st.one_of(
    st.lists(st.lists(word, min_size=1, max_size=6).map(tuple), min_size=1, max_size=25),
    st.lists(st.lists(spoken_word, min_size=1, max_size=6).map(tuple), min_size=1, max_size=25),
)
segment_st = st.lists(word, max_size=40)


@settings(max_examples=examples(800), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phrases=phrase_sets, segments=st.lists(segment_st, max_size=6))
def test_find_reports_exactly_what_the_phrase_by_phrase_scan_reports(phrases, segments):
    index = PhraseIndex(phrases)
    expected = reference_find(phrases, segments)
    found = index.find(segments)
    assert found == expected
    assert list(found) == list(expected)  # same first-seen order of phrase ids too
    assert [index.phrases[pid] for pid in found] == [list(dict.fromkeys(phrases))[pid] for pid in expected]


def test_find_on_real_text_with_clause_breaks():
    phrases = [("cancel",), ("cancel", "my", "account"), ("my", "account"), ("no", "thanks"), ("account",)]
    segments = segment_words(["I want to cancel, my account. No: thanks!", "account"], clause_breaks=True)
    assert PhraseIndex(phrases).find(segments) == reference_find(phrases, segments)
    assert PhraseIndex(phrases).find(segments)[1] == [(0, 3)]  # "cancel, my account" across the commas


def test_long_phrases_sharing_their_first_words_match_across_breaks():
    """1,800 phrases of 100 words ("a a ... a z<k>", the largest guidance rules a tenant could store before
    session 25) over 20,000 words of "a": only the one whose last word is said matches, across the clause
    breaks (the phrase-by-phrase scan took ~17 s here; `make bench` transcripts times it)."""
    phrases = [("a",) * 99 + (f"z{k}",) for k in range(1_800)]
    index = PhraseIndex(phrases)
    segments = [["a"] * 20_000, ["a", "|"] * 5_000 + ["z7"]]
    found = index.find(segments)
    assert found == {7: [(1, 2 * (5_000 - 99))]}  # across the breaks: the 99th "a" from the end
