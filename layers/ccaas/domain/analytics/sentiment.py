"""Sentiment: a pluggable per-text analyzer, a local lexicon implementation, and per-speaker summaries.

Scores use Contact Lens's range, -5 (very negative) .. +5 (very positive). The local analyzer is a
small VADER-style lexicon scorer that reads a contact center:

- word and phrase valences (phrases win over their words), intensifiers and downtoners that scale the
  next scored word, clause punctuation and "but" ending every scope below;
- negation flips (and damps) the next few scored words ("not bad" is mildly positive, "not happy"
  negative); "no problem", "never arrived", "didn't help" are phrases of their own;
- empathy and apology are not complaints: after "sorry", "apologize", "understand", "imagine",
  "know how", "see why", "must be" (not negated), negative words up to EMPATHY_SCOPE words later in
  the same clause count 0 ("I'm so sorry for the delay", "I understand how frustrating that is"); a
  cue that ends its clause reaches into the next one for mild words ("Apologies, our system is slow
  today", while "Sorry, this is ridiculous" stays a complaint), and a
  cue right after a clause with a negative word takes it back too ("That's terrible, I'm sorry").
  This applies to every speaker: the scorer sees texts, not speakers, and a customer's "sorry, can
  you repeat that" is politeness too; "sorry, but this is unacceptable" still counts the complaint;
- "the issue" / "this problem" refer to a problem being handled and count 0; "a problem with my
  bill" is a report and counts;
- sarcasm, as far as a lexicon can: an exclamatory positive ("great", "wonderful", "perfect", ...)
  within SARCASM_WINDOW words of an ordeal cue ("again", "another", "still", "third time", "hold",
  "as usual") counts as its negative ("oh wonderful, another hold"); phrases such as "thanks again"
  and "working again" cover their cue, so they stay sincere.

It needs no network and no model files; Amazon Comprehend (adapters/aws/comprehend.py) or anything
else can stand behind the same `SentimentAnalyzer` protocol. bench/bench_sentiment.py measures sign
agreement on a labelled contact-center set (bench/data/sentiment_corpus.jsonl).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from .text import CLAUSE_BREAK, normalize_phrase, segment_words
from .transcript import Speaker


@runtime_checkable
class SentimentAnalyzer(Protocol):
    """Scores each text in -5..+5 (0 neutral); returns one score per input, in order."""

    def analyze(self, texts: list[str]) -> list[float]: ...


# Valence of words and contact-center phrases, AFINN-like integers. Phrases win over their words
# ("thank you so much" is scored once, not as "thank you" + "so much").
DEFAULT_LEXICON: Mapping[str, float] = {
    # positive
    "thank you so much": 4, "thanks so much": 4, "thank you very much": 4, "really appreciate": 3,
    "thank you": 2, "thanks": 2, "appreciate": 2, "appreciate it": 2, "grateful": 3,
    "thanks again": 2, "thank you again": 2, "thanks a lot": 2,
    "great": 3, "excellent": 4, "perfect": 3, "awesome": 4, "amazing": 4, "fantastic": 4,
    "wonderful": 4, "brilliant": 3, "outstanding": 4, "love": 3, "lovely": 3, "happy": 3, "glad": 2,
    "pleased": 3, "delighted": 4, "satisfied": 2, "good": 2, "nice": 2, "fine": 1, "helpful": 3,
    "resolved": 2, "fixed": 2, "solved": 2, "works now": 3, "working now": 3, "easy": 1,
    "works again": 3, "working again": 3, "exactly what i needed": 3, "impressed": 2, "fair": 1,
    "quick": 1, "fast": 1, "kind": 2, "friendly": 2, "patient": 2, "best": 3, "recommend": 2,
    "no problem": 1, "not a problem": 1, "no worries": 1, "you're welcome": 1, "my pleasure": 2,
    "pleasure": 2, "of course": 1, "sure thing": 1, "welcome": 1, "well done": 3, "relieved": 2,
    "right away": 1, "straight away": 1,
    # polite refusals are not negated thanks
    "no thank you": 0, "no thanks": 0,
    "right now": 0, "not right now": 0,
    # negative
    "ridiculous": -3, "unacceptable": -4, "terrible": -3, "horrible": -3, "awful": -3,
    "worst": -4, "useless": -3, "pathetic": -3, "disgusting": -4, "incompetent": -4,
    "bad": -2, "poor": -2, "wrong": -2, "broken": -2, "angry": -3, "furious": -4, "upset": -2,
    "annoyed": -2, "annoying": -2, "frustrated": -3, "frustrating": -3, "frustration": -3,
    "disappointed": -2, "disappointing": -2, "unhappy": -2, "hate": -3, "stupid": -3,
    "scam": -4, "rip off": -4, "ripped off": -4, "fraud": -3, "lied": -3, "lying": -3,
    "problem": -1, "problems": -1, "issue": -1, "issues": -1, "complaint": -2, "complaints": -2,
    "complain": -2, "confused": -1, "confusing": -2, "difficult": -2, "slow": -1,
    "waiting": -1, "delay": -1, "delayed": -2, "late": -1, "fail": -2, "failed": -2,
    "error": -1, "declined": -1, "rejected": -2, "denied": -2, "suspended": -2, "shouting": -2,
    "crash": -2, "crashes": -2, "crashed": -2, "crashing": -2, "damaged": -2, "lost": -1,
    "overcharged": -3, "charged twice": -3, "double charged": -3,
    "not working": -2, "doesn't work": -2, "does not work": -2, "still not working": -3,
    "stopped working": -2, "waste of time": -3, "waste of money": -3, "fed up": -3,
    "sick of": -3, "sick and tired": -4, "on hold forever": -3, "nobody helps": -3, "been on hold": -2,
    "never again": -3, "cancel my account": -3, "cancel my subscription": -3,
    "cancel my service": -3, "close my account": -2, "this is a joke": -3, "a joke": -2,
    "speak to a manager": -2, "speak to your manager": -2, "speak to a supervisor": -2,
    "lawyer": -2, "sue": -3, "legal action": -3, "hung up": -2, "cut off": -1,
    "thanks for nothing": -3, "thanks a lot for nothing": -3, "yeah right": -2,
    "third time": -2, "fourth time": -2, "fifth time": -2, "keeps dropping": -2, "keep happening": -2,
    "keeps happening": -2, "repeat myself": -2, "straight answer": -2, "take my business elsewhere": -3,
    "nothing works": -3, "nothing but problems": -3, "not right": -1, "not paying": -2,
    "never arrived": -2, "never came": -2, "never received": -2, "never got": -2, "never showed up": -2,
    "didn't show up": -2, "nobody called": -2, "no one called": -2, "never called": -2,
    "nightmare": -3, "worried": -2, "worrying": -2, "stolen": -2, "money back": -2, "never happened": -2,
    "not my problem": -3, "not my fault": -2, "not my job": -3,
    # an agent sharing the customer's feeling ("I'd be upset too") is empathy, not a complaint
    "i'd be upset too": 0, "i would be upset too": 0, "i'd be frustrated too": 0, "i would be frustrated too": 0,
    "didn't help": -2, "did not help": -2, "doesn't help": -2, "didn't fix": -2, "didn't resolve": -2,
    "don't like": -2, "do not like": -2, "didn't like": -2, "can't log in": -2, "cannot log in": -2,
    "not what i ordered": -2, "isn't what i ordered": -2, "wait any longer": -2,
}  # fmt: skip

NEGATIONS = frozenset(
    "not no never nobody nothing neither nor none cannot can't cant don't dont doesn't doesnt didn't "
    "didnt isn't isnt wasn't wasnt aren't arent weren't werent won't wont wouldn't wouldnt shouldn't "
    "shouldnt couldn't couldnt haven't havent hasn't hasnt hadn't hadnt ain't without".split()
)
INTENSIFIERS: Mapping[str, float] = {
    "very": 1.5, "really": 1.5, "so": 1.4, "extremely": 1.8, "absolutely": 1.6, "totally": 1.5,
    "completely": 1.5, "incredibly": 1.7, "super": 1.5, "truly": 1.4, "highly": 1.4, "too": 1.3,
    "utterly": 1.7, "most": 1.3, "slightly": 0.5, "somewhat": 0.6, "barely": 0.5, "little": 0.7,
    "bit": 0.6,
}  # fmt: skip

# Apology and empathy: a cue word, or a cue word followed by one of the given words ("know how").
EMPATHY_CUES: Mapping[str, frozenset[str] | None] = {
    "sorry": None, "apologize": None, "apologise": None, "apologies": None, "apology": None,
    "understand": None, "imagine": None, "know": frozenset({"how"}), "see": frozenset({"why"}),
    "must": frozenset({"be", "have"}),
}  # fmt: skip
# "the issue", "this problem": the problem being handled, not one being reported.
REFERRING_NOUNS = frozenset({"issue", "problem"})
REFERRING_WORDS = frozenset({"the", "this", "that"})
# Sarcasm: exclamatory positives read as their negative next to an ordeal cue.
SARCASTIC_POSITIVES = frozenset(
    "great wonderful perfect fantastic awesome amazing brilliant lovely nice love excellent".split()
)
SARCASM_CUES = frozenset({"again", "another", "still", "usual", "third", "fourth", "fifth", "hold"})

NEGATION_SCOPE = 3  # a negator affects scored words up to this many words later
NEGATION_FACTOR = -0.74  # VADER's: "not good" is less negative than "bad" is
EMPATHY_SCOPE = 5  # an apology or empathy cue neutralises negative words up to this many words later
MILD = -2  # carried into the next clause, empathy softens words at least this valence ("slow", "delay"), not outrage
SARCASM_WINDOW = 6  # a sarcastic positive and its cue are at most this many words apart
_NORMALISE_ALPHA = 15.0  # raw sums s map to 5*s/sqrt(s^2 + alpha): smooth, bounded by +-5


def normalise_score(raw: float) -> float:
    return 5.0 * raw / math.sqrt(raw * raw + _NORMALISE_ALPHA) if raw else 0.0


class LocalLexiconSentiment:
    """Lexicon scorer; tenants may add or override entries (`extra_lexicon`, phrase -> -5..+5)."""

    def __init__(self, extra_lexicon: Mapping[str, float] | None = None) -> None:
        lexicon = {normalize_phrase(p): float(v) for p, v in DEFAULT_LEXICON.items()}
        for phrase, value in (extra_lexicon or {}).items():
            if not -5 <= value <= 5:
                raise ValueError("lexicon values must be within -5..+5")
            lexicon[normalize_phrase(phrase)] = float(value)
        by_first: dict[str, list[tuple[list[str], int, float]]] = {}
        for words, value in lexicon.items():
            by_first.setdefault(words[0], []).append((list(words[1:]), len(words), value))
        for entries in by_first.values():
            entries.sort(key=lambda e: -e[1])  # longest phrase first
        self._by_first = by_first
        self._lexicon_firsts = frozenset(by_first)
        self._keys = (
            self._lexicon_firsts
            | NEGATIONS
            | frozenset(INTENSIFIERS)
            | frozenset(EMPATHY_CUES)
            | SARCASM_CUES
            | {CLAUSE_BREAK, "but"}
        )

    def analyze(self, texts: list[str]) -> list[float]:
        return self.score_words(segment_words(texts, clause_breaks=True))

    def score_words(self, segments: Sequence[list[str]]) -> list[float]:
        """Scores for texts already split by `segment_words(..., clause_breaks=True)`; lets the
        analyzer share one normalisation pass with the rules."""
        lexicon_firsts = self._lexicon_firsts
        return [
            # most segments carry no sentiment word at all: one C-level set test settles them
            0.0 if lexicon_firsts.isdisjoint(words) else round(normalise_score(self._raw(words)), 3)
            for words in segments
        ]

    def _raw(self, words: list[str]) -> float:
        """Sum of valences in one segment, with negation, intensifiers, empathy and sarcasm applied."""
        by_first, keys = self._by_first, self._keys
        raw = 0.0
        negated_at = boosted_at = empathy_at = -99
        boost = 1.0
        covered_until = -1  # end of the last matched phrase: its words are not scored again
        cues: list[int] = []  # positions of sarcasm cues
        sarcastic: list[tuple[int, float]] = []  # (position, contribution) of exclamatory positives
        negatives: list[tuple[int, float]] = []  # (position, contribution) since the last "but"
        mild_only = False  # empathy carried over a comma softens mild words only ("Sorry, this is ridiculous")
        for i in [i for i, word in enumerate(words) if word in keys]:
            if i < covered_until:
                continue
            word = words[i]
            if word == CLAUSE_BREAK or word == "but":
                # "Sorry, ...": a cue ending its clause reaches into the next one, not past a "but"
                carried = word == CLAUSE_BREAK and empathy_at == i - 1
                negated_at = boosted_at = -99
                empathy_at = i if carried else -99
                mild_only = carried
                if word == "but":
                    negatives = []
                continue
            if word in SARCASM_CUES:
                cues.append(i)
            entries = by_first.get(word)
            if entries:
                for rest, length, value in entries:  # longest phrase first
                    if length == 1 or words[i + 1 : i + length] == rest:
                        if length == 1 and word in REFERRING_NOUNS and i and words[i - 1] in REFERRING_WORDS:
                            value = 0.0
                        if boosted_at == i - 1:
                            value *= boost
                        if i - negated_at <= NEGATION_SCOPE:
                            value *= NEGATION_FACTOR
                        if value < 0 and i - empathy_at <= EMPATHY_SCOPE and (not mild_only or value >= MILD):
                            value = 0.0
                        if value > 0 and length == 1 and word in SARCASTIC_POSITIVES:
                            sarcastic.append((i, value))
                        if value < 0:
                            negatives.append((i, value))
                        raw += value
                        covered_until = i + length
                        break
                else:
                    entries = None
                if entries:
                    continue
            if word in NEGATIONS:
                negated_at = i
            elif word in INTENSIFIERS:
                # "really very good" compounds; an intensifier only reaches the very next word
                boost = boost * INTENSIFIERS[word] if boosted_at == i - 1 else INTENSIFIERS[word]
                boosted_at = i
            elif word in EMPATHY_CUES and i - negated_at > NEGATION_SCOPE:  # "I don't understand why" is no empathy
                follow = EMPATHY_CUES[word]
                if follow is None or (i + 1 < len(words) and words[i + 1] in follow):
                    empathy_at, mild_only = i, False
                    # "That's terrible, I'm sorry that happened": the clause just before is taken back
                    while negatives and i - negatives[-1][0] <= EMPATHY_SCOPE:
                        raw -= negatives.pop()[1]
        if cues and sarcastic:
            for at, value in sarcastic:
                if any(abs(at - cue) <= SARCASM_WINDOW for cue in cues):
                    raw -= 2 * value  # read as its negative
        return raw


# --- summaries ------------------------------------------------------------------------------------


class SpeakerSentiment(BaseModel):
    """One speaker's sentiment: overall (word-weighted mean of segment scores), first and last
    quarter of the contact by time, and trend = last - first (None when the speaker says nothing
    in one of those quarters)."""

    overall: float | None = None
    first_quarter: float | None = None
    last_quarter: float | None = None
    trend: float | None = None
    segments: int = 0


class SentimentSummary(BaseModel):
    agent: SpeakerSentiment
    customer: SpeakerSentiment


def _weighted_mean(pairs: list[tuple[float, int]]) -> float | None:
    weight = sum(w for _, w in pairs)
    if not pairs:
        return None
    if weight == 0:
        return round(sum(s for s, _ in pairs) / len(pairs), 3)
    return round(sum(s * w for s, w in pairs) / weight, 3)


def summarise_sentiment(
    speakers: Sequence[Speaker],
    begins: Sequence[int],
    ends: Sequence[int],
    word_counts: Sequence[int],
    scores: Sequence[float],
) -> SentimentSummary:
    """Quarters split the contact's span (first begin .. last end) by time; a segment counts in a
    quarter it overlaps (an answer running across the 25 % mark still says how the contact started).
    Longer utterances weigh more (by word count)."""
    if not speakers:
        return SentimentSummary(agent=SpeakerSentiment(), customer=SpeakerSentiment())
    start, end = min(begins), max(ends)
    quarter = (end - start) / 4
    first_edge, last_edge = start + quarter, end - quarter

    def summary(speaker: Speaker) -> SpeakerSentiment:
        mine = [k for k, s in enumerate(speakers) if s == speaker]
        first = [(scores[k], word_counts[k]) for k in mine if begins[k] <= first_edge]
        last = [(scores[k], word_counts[k]) for k in mine if ends[k] >= last_edge]
        first_score, last_score = _weighted_mean(first), _weighted_mean(last)
        trend = None if first_score is None or last_score is None else round(last_score - first_score, 3)
        return SpeakerSentiment(
            overall=_weighted_mean([(scores[k], word_counts[k]) for k in mine]),
            first_quarter=first_score,
            last_quarter=last_score,
            trend=trend,
            segments=len(mine),
        )

    return SentimentSummary(agent=summary(Speaker.AGENT), customer=summary(Speaker.CUSTOMER))
