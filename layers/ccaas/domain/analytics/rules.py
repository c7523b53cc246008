"""Tenant rules over a (redacted) transcript: categories, compliance checks, contact reason.

Rules are pydantic models so a tenant's set loads from JSON. Every phrase from every rule is compiled
into one of two indexes, so a transcript is scanned once per index however many rules there are;
each rule then only looks at the occurrences of its own phrases.

Categories and contact reasons match whole words inside one segment, case- and punctuation-
insensitively ("Amount owed." matches "amount owed") through `text.PhraseIndex`.

Compliance rules are read over the conversation, not the segment (`text.ConversationIndex`):
- a phrase may start in one segment and continue in the next one(s) of the same speaker, in time
  order; what the other party says in between (a backchannel "mhm", an overlap) does not break it,
  a silence of more than `max_gap_ms` (default 5 s) between the speaker's two segments does, and
  `max_gap_ms: null` keeps a phrase inside one segment. Evidence names the segment where the phrase
  starts (`segment_index`) and where it ends (`end_segment_index`);
- contractions and light inflection are normalised on both sides ("we'll have you arrested" ~ "we
  will have you arrest"; "we are attempting to collect a debt" ~ "attempt to collect a debt");
- `synonyms` (word -> equivalent words or phrases, both ways) expand a rule's phrases into bounded
  variants at compile time (MAX_VARIANTS per rule), so matching stays exact and single-scan;
- `max_edits` (0-2) lets a phrase of several words be off by extra, missing or replaced words,
  never its first or last word, and at most one edit per two words after the first.

A RequiredDisclosure combines independent conditions, each of which can fail it: said at all,
within `within_ms` of connection, before the first `before_phrases` trigger. `applies_if_phrases`
scopes the whole rule (NOT_APPLICABLE when none is said, e.g. the FDCPA mini-Miranda only on
debt-collection contacts); without it, triggers that are never said make the rule NOT_APPLICABLE
only when there is no `within_ms` (the time limit applies whether or not the trigger comes up).

`NoReadBack` fails when a speaker's segment holds a redaction placeholder of given kinds (the agent
reading a card number back: the redactor wrote "[CARD]" in its place).

Times in rules are milliseconds from connection (the transcript's `connected_at_ms`, else 0),
compared with when the phrase's first word was said: its own start time where the parser kept word
timings (Transcribe's items), else interpolated by its position between its segment's begin and end.
Segments are read in time order whatever order they arrive in.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Float, Int

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import product
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .limits import (
    MAX_COMPLIANCE_RULES,
    MAX_EDITS,
    MAX_GAP_MS,
    MAX_KEYWORDS,
    MAX_MATCHERS,
    MAX_PHRASES,
    MAX_PLACEHOLDER_KINDS,
    MAX_REASONS,
    MAX_SCORE,
    MAX_SYNONYM_KEYS,
    MAX_SYNONYMS,
    MAX_VARIANTS,
    MAX_WEIGHT,
    MappedPhrase,
    MappedWord,
    Name,
    OffsetMs,
    Phrase,
    check_visible_in_map,
)
from .text import (
    ConversationIndex,
    PhraseIndex,
    StreamMatch,
    canonical_phrase,
    contraction_variants,
    normalize_phrase,
    placeholder_token,
)
from .transcript import Channel, Speaker

MAX_EVIDENCE = 10  # per rule; enough to review, bounded for 1,000-segment contacts
DEFAULT_MAX_GAP_MS = 5_000

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _check_phrases(phrases: list[str]) -> list[str]:
    for phrase in phrases:
        normalize_phrase(phrase)  # raises on phrases with no words
    return phrases


class PhraseMatcher(BaseModel):
    """Matches when any of `phrases` is said, by `speaker` (None: anyone), in [from_ms, to_ms]."""

    model_config = _FROZEN

    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = None
    from_ms: OffsetMs | None = None
    to_ms: OffsetMs | None = None

    _check = field_validator("phrases")(_check_phrases)

    @model_validator(mode="after")
    def _window_order(self) -> PhraseMatcher:
        if self.from_ms is not None and self.to_ms is not None and self.to_ms < self.from_ms:
            raise ValueError("to_ms before from_ms")
        return self


class CategoryRule(BaseModel):
    """Tags the contact when its matchers match (`all` of them, or `any`) and none of `absent` does."""

    model_config = _FROZEN

    name: Name
    match: Literal["all", "any"] = "any"
    matchers: list[PhraseMatcher] = Field(min_length=1, max_length=MAX_MATCHERS)
    absent: list[PhraseMatcher] = Field(default_factory=list, max_length=MAX_MATCHERS)

    def phrase_count(self) -> int:
        return sum(len(m.phrases) for m in (*self.matchers, *self.absent))


# Checked by the map (_check_synonyms): an error located in it would be located by its word, echoing it.
Synonyms = dict[MappedWord, Annotated[list[MappedPhrase], Field(min_length=1, max_length=MAX_SYNONYMS)]]


def _synonym_classes(synonyms: Mapping[str, Sequence[str]]) -> dict[str, list[tuple[str, ...]]]:
    """canonical word -> its equivalents (canonical token tuples, itself first); symmetric, so a
    phrase holding an equivalent also matches the key and the other equivalents."""
    classes: dict[str, list[tuple[str, ...]]] = {}
    for key, equivalents in synonyms.items():
        group = [canonical_phrase(key), *(canonical_phrase(e) for e in equivalents)]
        group = list(dict.fromkeys(group))
        for member in group:
            if len(member) == 1:
                merged = classes.setdefault(member[0], [member])
                merged.extend(g for g in group if g not in merged)
    return classes


def _variants(phrase: str, classes: Mapping[str, list[tuple[str, ...]]], limit: int) -> list[tuple[str, ...]]:
    """The phrase's canonical tokens with every synonym combination (raises past `limit`)."""
    tokens = canonical_phrase(phrase)
    options = [classes.get(t, [(t,)]) for t in tokens]
    count = 1
    for choice in options:
        count *= len(choice)
        if count > limit:
            raise ValueError(f"synonyms expand it to more than {limit} variants")
    out: list[tuple[str, ...]] = []
    for combo in product(*options):
        out.extend(contraction_variants(tuple(t for part in combo for t in part)))
        if len(out) > limit:
            raise ValueError(f"synonyms and contractions expand it to more than {limit} variants")
    return out


def _check_synonyms(cls: type, synonyms: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
    """Words and their equivalents are named by position, never echoed (limits.check_visible_in_map)."""
    check_visible_in_map(((f"synonym word {k}", key) for k, key in enumerate(synonyms)), info)
    check_visible_in_map(((f"synonym {e} of word {k}", equivalent) for k, equivalents in enumerate(synonyms.values())
                          for e, equivalent in enumerate(equivalents)), info)
    for k, (key, equivalents) in enumerate(synonyms.items()):
        if len(canonical_phrase(key)) != 1:
            raise ValueError(f"synonym word {k} (counting from 0, in the order written) must be one word")
        _check_phrases(equivalents)
    # The rule's phrase lists are declared (so validated) before `synonyms`: check the expansion.
    classes = _synonym_classes(synonyms)
    total = 0
    for field in cls._phrase_fields():  # type: ignore[attr-defined]
        for position, phrase in enumerate(info.data.get(field) or ()):
            try:
                total += len(_variants(phrase, classes, MAX_VARIANTS))
            except ValueError as error:
                raise ValueError(f"{field}.{position}: {error}") from None
    if total > MAX_VARIANTS:
        raise ValueError(f"synonyms expand the rule's phrases to {total} variants (at most {MAX_VARIANTS})")
    return synonyms


def _check_scope_speaker(cls: type, value: Speaker | None, info: ValidationInfo) -> Speaker | None:
    if value is not None and not info.data.get("applies_if_phrases"):
        raise ValueError("applies_if_speaker without applies_if_phrases")
    return value


def _synonyms_field() -> dict:
    return Field(default_factory=dict, max_length=MAX_SYNONYM_KEYS)


class _ConversationRule(BaseModel):
    """What phrase-based compliance rules share (fields are declared per rule, to keep their order):
    `synonyms`, `max_edits` (0-2 words) and `max_gap_ms` (None: the phrase stays in one segment)."""

    model_config = _FROZEN

    @classmethod
    def _phrase_fields(cls) -> tuple[str, ...]:
        return ("phrases",)

    def phrase_count(self) -> int:
        lists = sum(len(getattr(self, f)) for f in self._phrase_fields())
        return lists + sum(1 + len(e) for e in self.synonyms.values())  # type: ignore[attr-defined]


MaxEdits = Annotated[Int, Field(ge=0, le=MAX_EDITS)]
MaxGapMs = Annotated[Int, Field(ge=0, le=MAX_GAP_MS)] | None


class RequiredDisclosure(_ConversationRule):
    """A phrase that must be said by `speaker`; each condition set can fail it on its own: within
    `within_ms` of connection, before the first `before_phrases` trigger (by `before_speaker`).
    With `applies_if_phrases`, it is checked only on contacts where one of them (or the disclosure)
    is said. Triggers never said and no `within_ms`: not applicable (owed once the debt comes up)."""

    kind: Literal["required_disclosure"] = "required_disclosure"
    name: Name
    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = Speaker.AGENT
    within_ms: OffsetMs | None = None
    before_phrases: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    before_speaker: Speaker | None = None
    applies_if_phrases: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    applies_if_speaker: Speaker | None = None
    # None: every channel (a recording notice is VOICE only)
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))
    synonyms: Synonyms = _synonyms_field()
    max_edits: MaxEdits = 0
    max_gap_ms: MaxGapMs = DEFAULT_MAX_GAP_MS

    _check = field_validator("phrases", "before_phrases", "applies_if_phrases")(_check_phrases)
    _check_synonyms = field_validator("synonyms")(classmethod(_check_synonyms))

    @field_validator("before_speaker")
    @classmethod
    def _trigger_speaker_needs_triggers(cls, value: Speaker | None, info: ValidationInfo) -> Speaker | None:
        if value is not None and not info.data.get("before_phrases"):
            raise ValueError("before_speaker without before_phrases: there is no trigger to attribute")
        return value

    _check_scope_speaker = field_validator("applies_if_speaker")(classmethod(_check_scope_speaker))

    @classmethod
    def _phrase_fields(cls) -> tuple[str, ...]:
        return ("phrases", "before_phrases", "applies_if_phrases")


class ProhibitedPhrase(_ConversationRule):
    """Phrases `speaker` (default the agent) must never say. Said, the rule fails; not said, it passes.
    With `applies_if_phrases` it is NOT_APPLICABLE where none of them is said, whatever else was: an FDCPA
    rule does not hold a fraud desk's "law enforcement" against a contact that is not about a debt."""

    kind: Literal["prohibited_phrase"] = "prohibited_phrase"
    name: Name
    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = Speaker.AGENT
    applies_if_phrases: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    applies_if_speaker: Speaker | None = None
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))  # None: every channel
    synonyms: Synonyms = _synonyms_field()
    max_edits: MaxEdits = 0
    max_gap_ms: MaxGapMs = DEFAULT_MAX_GAP_MS

    _check = field_validator("phrases", "applies_if_phrases")(_check_phrases)
    _check_synonyms = field_validator("synonyms")(classmethod(_check_synonyms))
    _check_scope_speaker = field_validator("applies_if_speaker")(classmethod(_check_scope_speaker))

    @classmethod
    def _phrase_fields(cls) -> tuple[str, ...]:
        return ("phrases", "applies_if_phrases")


PlaceholderKind = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]


class NoReadBack(BaseModel):
    """`speaker` (default the agent) must never say data of these redaction kinds: a segment of theirs
    holding the placeholder f"[{kind}]" fails it (PCI: card data is not read back)."""

    model_config = _FROZEN

    kind: Literal["no_read_back"] = "no_read_back"
    name: Name
    kinds: list[PlaceholderKind] = Field(min_length=1, max_length=MAX_PLACEHOLDER_KINDS)
    speaker: Speaker | None = Speaker.AGENT
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))

    def phrase_count(self) -> int:
        return len(self.kinds)


ComplianceRule = Annotated[RequiredDisclosure | ProhibitedPhrase | NoReadBack, Field(discriminator="kind")]
AnyComplianceRule = RequiredDisclosure | ProhibitedPhrase | NoReadBack


class ReasonRule(BaseModel):
    """Keyword (phrase) -> weight for one contact reason; `speaker` limits whose words count."""

    model_config = _FROZEN

    reason: Name
    keywords: dict[
        MappedPhrase,  # checked below: an error located by the keyword would echo it
        Annotated[Float, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)],
    ] = Field(min_length=1, max_length=MAX_KEYWORDS)
    speaker: Speaker | None = None

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, keywords: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        check_visible_in_map(((f"keyword {k}", keyword) for k, keyword in enumerate(keywords)), info)
        _check_phrases(list(keywords))
        return keywords


class ReasonConfig(BaseModel):
    """Score per reason = sum of keyword weight x occurrences (capped per keyword), agent words
    weighted by `agent_weight` (the customer states the reason); the best score wins if it reaches
    `min_score`, else `fallback`. Ties go to the rule listed first."""

    model_config = _FROZEN

    rules: list[ReasonRule] = Field(default_factory=list, max_length=MAX_REASONS)
    min_score: Float = Field(default=2.0, ge=0, le=MAX_SCORE, allow_inf_nan=False)
    fallback: Name = "other"
    agent_weight: Float = Field(default=0.5, ge=0, le=10, allow_inf_nan=False)
    max_hits_per_keyword: Int = Field(default=3, ge=1, le=100)

    def phrase_count(self) -> int:
        return sum(len(r.keywords) for r in self.rules)


# --- results --------------------------------------------------------------------------------------


class Evidence(BaseModel):
    segment_index: int  # where the phrase starts
    speaker: Speaker
    begin_ms: int
    phrase: str  # the rule phrase that matched (normalised), never transcript text
    end_segment_index: int | None = None  # compliance phrases: where it ends (a later segment of the speaker)


class CategoryMatch(BaseModel):
    name: str
    evidence: list[Evidence]


class ComplianceStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class ComplianceResult(BaseModel):
    rule: str
    kind: str
    status: ComplianceStatus
    passed: bool  # False only when FAILED
    detail: str
    evidence: list[Evidence]


class ContactReason(BaseModel):
    reason: str
    score: float
    scores: dict[str, float]  # reasons with a non-zero score
    keywords: list[str]  # rule keywords that counted for the winning reason


# --- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentTimes:
    """What rules may know of segments: speaker, begin and end time (timeline ms) by index; no text.
    Without `ends`, a segment is taken to end where it begins (gaps are measured begin to begin)."""

    speakers: Sequence[Speaker]
    begins: Sequence[int]
    origin_ms: int = 0
    channel: Channel = Channel.VOICE
    ends: Sequence[int] | None = None
    # Per segment, its canonical-token count (what match positions count) and, where the parser kept them,
    # its words' start times: a phrase is timed when it was said, not when its segment (a 74 s turn) began.
    token_counts: Sequence[int] | None = None
    word_begins: Sequence[Sequence[int] | None] | None = None

    def said_at(self, segment: int, position: int) -> int:
        """When token `position` of `segment` was said: its word's own start time where the parser kept word
        timings, else interpolated by position between the segment's begin and end."""
        begin = self.begins[segment]
        if position <= 0 or self.token_counts is None:
            return begin
        share = min(position / max(self.token_counts[segment], 1), 1.0)
        timings = self.word_begins[segment] if self.word_begins is not None else None
        if timings:  # redaction and normalisation may change the word count a little: mapped by share
            return max(begin, timings[min(int(share * len(timings)), len(timings) - 1)])
        end = self.ends[segment] if self.ends is not None else begin
        return begin + int((max(end, begin) - begin) * share)


class Occurrences(dict):
    """phrase id -> [(segment index, word position)] of the exact (per-segment) phrases, plus the
    segment words they were found in, which compliance rules read again as per-speaker streams."""

    __slots__ = ("words", "_streams")

    def __init__(self, found: dict[int, list[tuple[int, int]]], words: Sequence[list[str]]) -> None:
        super().__init__(found)
        self.words = words
        self._streams: tuple[SegmentTimes, dict[int, list[StreamMatch]]] | None = None


class RuleIndex:
    """Both indexes of a compiled rule set; `find(words)` scans the exact one, the conversation one
    runs (once) when compliance is evaluated, since it needs the segments' speakers and times."""

    def __init__(self, exact: PhraseIndex, conversation: ConversationIndex) -> None:
        self.exact = exact
        self.conversation = conversation

    def find(self, segments: Sequence[list[str]]) -> Occurrences:
        return Occurrences(self.exact.find(segments), segments)

    def streams(self, occurrences: Occurrences, times: SegmentTimes) -> dict[int, list[StreamMatch]]:
        """The conversation index's matches for these words and times (computed once per pair)."""
        cached = occurrences._streams
        if cached is None or cached[0] is not times:
            found = self.conversation.find(occurrences.words, times.speakers, times.begins, times.ends)
            occurrences._streams = cached = (times, found)
        return cached[1]


class _Phrases:
    """Collects phrases while compiling, so that rules refer to phrase ids."""

    def __init__(self) -> None:
        self.normalised: list[tuple[str, ...]] = []
        self._seen: dict[tuple[str, ...], int] = {}

    def ids(self, phrases: Iterable[str]) -> tuple[int, ...]:
        out = []
        for phrase in phrases:
            words = normalize_phrase(phrase)
            out.append(self.add(words))
        return tuple(dict.fromkeys(out))

    def add(self, words: tuple[str, ...]) -> int:
        if words not in self._seen:
            self._seen[words] = len(self.normalised)
            self.normalised.append(words)
        return self._seen[words]


@dataclass(frozen=True)
class _Matcher:
    phrase_ids: tuple[int, ...]
    speaker: Speaker | None
    from_ms: int | None
    to_ms: int | None

    def hits(self, occurrences: Occurrences, times: SegmentTimes) -> list[tuple[int, int, int]]:
        """(segment index, word position, phrase id) of qualifying occurrences, in spoken order."""
        found = []
        for pid in self.phrase_ids:
            for segment, position in occurrences.get(pid, ()):
                if self.speaker is not None and times.speakers[segment] != self.speaker:
                    continue
                offset = times.begins[segment] - times.origin_ms
                if self.from_ms is not None and offset < self.from_ms:
                    continue
                if self.to_ms is not None and offset > self.to_ms:
                    continue
                found.append((segment, position, pid))
        found.sort()
        return found


def _matcher(phrases: _Phrases, m: PhraseMatcher) -> _Matcher:
    return _Matcher(phrases.ids(m.phrases), m.speaker, m.from_ms, m.to_ms)


# A compliance hit: (begin ms, segment, position, end segment, label id), ordered as spoken.
_Hit = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class _StreamMatcher:
    """Conversation-index phrase ids (variants) -> the label id of the rule phrase they stand for."""

    labels: dict[int, int]
    speaker: Speaker | None
    max_gap_ms: int | None

    def hits(self, streams: dict[int, list[StreamMatch]], times: SegmentTimes) -> list[_Hit]:
        found: set[_Hit] = set()
        for pid, label in self.labels.items():
            for m in streams.get(pid, ()):
                if self.speaker is not None and times.speakers[m.segment] != self.speaker:
                    continue
                if m.end_segment != m.segment and (self.max_gap_ms is None or m.gap_ms > self.max_gap_ms):
                    continue
                found.add((times.said_at(m.segment, m.position), m.segment, m.position, m.end_segment, label))
        return sorted(found)


class _ConversationPhrases:
    """Collects canonical phrase variants while compiling, each labelled by its rule phrase."""

    def __init__(self, labels: _Phrases) -> None:
        self.keys: list[tuple[tuple[str, ...], int]] = []
        self._labels = labels

    def matcher(
        self,
        phrases: Sequence[str],
        speaker: Speaker | None,
        rule: ProhibitedPhrase | RequiredDisclosure,
    ) -> _StreamMatcher:
        classes = _synonym_classes(rule.synonyms)
        keys: dict[tuple[tuple[str, ...], int], int] = {}
        for phrase in phrases:
            label = self._labels.add(normalize_phrase(phrase))
            for variant in _variants(phrase, classes, MAX_VARIANTS):
                keys.setdefault((variant, rule.max_edits), label)
        self.keys.extend(keys)
        return _StreamMatcher(labels=keys, speaker=speaker, max_gap_ms=rule.max_gap_ms)  # type: ignore[arg-type]

    def resolve(self, index: ConversationIndex, matcher: _StreamMatcher) -> _StreamMatcher:
        labels = {index.id_of(*key): label for key, label in matcher.labels.items()}  # type: ignore[misc]
        return _StreamMatcher(labels=labels, speaker=matcher.speaker, max_gap_ms=matcher.max_gap_ms)


@dataclass(frozen=True)
class _Compliance:
    rule: AnyComplianceRule
    said: _StreamMatcher | _Matcher
    trigger: _StreamMatcher | None = None
    scope: _StreamMatcher | None = None


class CompiledRules:
    """Categories, compliance and reason rules ready to run; build once per tenant rule set."""

    def __init__(
        self,
        categories: Sequence[CategoryRule],
        compliance: Sequence[AnyComplianceRule],
        reasons: ReasonConfig,
    ) -> None:
        phrases = _Phrases()
        self._categories = [
            (rule, [_matcher(phrases, m) for m in rule.matchers], [_matcher(phrases, m) for m in rule.absent])
            for rule in categories
        ]
        self._reasons = reasons
        self._reason_keywords = [
            (rule, [(phrases.ids([k])[0], w) for k, w in rule.keywords.items()]) for rule in reasons.rules
        ]
        # Placeholder words (NoReadBack) are exact single-word phrases; evidence names the placeholder.
        placeholder_names: dict[int, str] = {}
        labels = _Phrases()
        stream = _ConversationPhrases(labels)
        pending: list[_Compliance] = []
        for rule in compliance:
            if isinstance(rule, NoReadBack):
                ids = []
                for kind in dict.fromkeys(rule.kinds):
                    pid = phrases.add((placeholder_token(kind),))
                    placeholder_names[pid] = f"[{kind.upper()}]"
                    ids.append(pid)
                pending.append(_Compliance(rule, _Matcher(tuple(ids), rule.speaker, None, None)))
                continue
            said = stream.matcher(rule.phrases, rule.speaker, rule)
            trigger = scope = None
            if isinstance(rule, RequiredDisclosure) and rule.before_phrases:
                trigger = stream.matcher(rule.before_phrases, rule.before_speaker, rule)
            if rule.applies_if_phrases:
                scope = stream.matcher(rule.applies_if_phrases, rule.applies_if_speaker, rule)
            pending.append(_Compliance(rule, said, trigger, scope))
        conversation = ConversationIndex(stream.keys)
        self._compliance = [
            _Compliance(
                c.rule,
                stream.resolve(conversation, c.said) if isinstance(c.said, _StreamMatcher) else c.said,
                c.trigger and stream.resolve(conversation, c.trigger),
                c.scope and stream.resolve(conversation, c.scope),
            )
            for c in pending
        ]
        self._phrases = phrases.normalised
        self._placeholder_names = placeholder_names
        self._labels = labels.normalised
        self.index = RuleIndex(PhraseIndex(phrases.normalised), conversation)

    def _evidence(self, hits: Iterable[tuple[int, int, int]], times: SegmentTimes) -> list[Evidence]:
        out = []
        for segment, _, pid in hits:
            out.append(
                Evidence(
                    segment_index=segment,
                    speaker=times.speakers[segment],
                    begin_ms=times.begins[segment],
                    phrase=self._placeholder_names.get(pid) or " ".join(self._phrases[pid]),
                )
            )
            if len(out) >= MAX_EVIDENCE:
                break
        return out

    def _stream_evidence(self, hits: Iterable[_Hit], times: SegmentTimes) -> list[Evidence]:
        out = []
        for _, segment, _, end_segment, label in hits:
            out.append(
                Evidence(
                    segment_index=segment,
                    speaker=times.speakers[segment],
                    begin_ms=times.begins[segment],  # where it is in the transcript; the rule's detail says when
                    phrase=" ".join(self._labels[label]),
                    end_segment_index=end_segment,
                )
            )
            if len(out) >= MAX_EVIDENCE:
                break
        return out

    def categories(self, occurrences: Occurrences, times: SegmentTimes) -> list[CategoryMatch]:
        matched = []
        for rule, matchers, absent in self._categories:
            hits = [m.hits(occurrences, times) for m in matchers]
            ok = all(hits) if rule.match == "all" else any(hits)
            if not ok or any(a.hits(occurrences, times) for a in absent):
                continue
            # evidence: the first hit of each matcher that matched, in spoken order
            firsts = sorted(h[0] for h in hits if h)
            matched.append(CategoryMatch(name=rule.name, evidence=self._evidence(firsts, times)))
        return matched

    def compliance(self, occurrences: Occurrences, times: SegmentTimes) -> list[ComplianceResult]:
        streams = self.index.streams(occurrences, times) if self.index.conversation.phrases else {}
        results = []
        for c in self._compliance:
            rule = c.rule

            def result(status: ComplianceStatus, detail: str, evidence: list[Evidence] | None = None) -> None:
                results.append(ComplianceResult(rule=rule.name, kind=rule.kind, status=status,
                                                passed=status is not ComplianceStatus.FAILED, detail=detail,
                                                evidence=evidence or []))

            if rule.channels is not None and times.channel not in rule.channels:
                result(ComplianceStatus.NOT_APPLICABLE, f"not checked on {times.channel.value}")
            elif isinstance(c.said, _Matcher):  # NoReadBack
                said = c.said.hits(occurrences, times)
                if not said and not any(pid in occurrences for pid in c.said.phrase_ids):
                    result(ComplianceStatus.NOT_APPLICABLE, "no such data in the contact")
                elif said:
                    result(ComplianceStatus.FAILED, f"read back in {len({h[0] for h in said})} segment(s)",
                           self._evidence(said, times))
                else:
                    result(ComplianceStatus.PASSED, "not read back")
            else:
                said_hits = c.said.hits(streams, times)
                if not isinstance(rule, ProhibitedPhrase):
                    results.append(self._disclosure(rule, c, said_hits, streams, times))  # type: ignore[arg-type]
                elif c.scope is not None and not c.scope.hits(streams, times):
                    result(ComplianceStatus.NOT_APPLICABLE, "none of the applies_if phrases said")
                elif said_hits:
                    result(ComplianceStatus.FAILED, f"said {len(said_hits)} time(s)",
                           self._stream_evidence(said_hits, times))
                else:
                    result(ComplianceStatus.PASSED, "not said")
        return results

    def _disclosure(
        self,
        rule: RequiredDisclosure,
        c: _Compliance,
        said_hits: list[_Hit],
        streams: dict[int, list[StreamMatch]],
        times: SegmentTimes,
    ) -> ComplianceResult:
        def result(status: ComplianceStatus, detail: str, hits: list[_Hit]) -> ComplianceResult:
            return ComplianceResult(
                rule=rule.name,
                kind=rule.kind,
                status=status,
                passed=status is not ComplianceStatus.FAILED,
                detail=detail,
                evidence=self._stream_evidence(sorted(set(hits)), times),
            )

        if c.scope is not None and not said_hits and not c.scope.hits(streams, times):
            return result(ComplianceStatus.NOT_APPLICABLE, "none of the applies_if phrases said", [])
        trigger_hits = c.trigger.hits(streams, times) if c.trigger else []
        if c.trigger is not None and not trigger_hits and rule.within_ms is None:
            return result(ComplianceStatus.NOT_APPLICABLE, "trigger never said", [])
        if not said_hits:
            return result(ComplianceStatus.FAILED, "disclosure not said", trigger_hits[:1])
        first = said_hits[0]
        failed: list[str] = []
        evidence = [first]
        if trigger_hits and trigger_hits[0][:3] < first[:3]:
            failed.append("disclosure came after the trigger")
            evidence.append(trigger_hits[0])
        if rule.within_ms is not None:
            offset = first[0] - times.origin_ms
            if offset > rule.within_ms:
                failed.append(f"disclosure at {offset / 1000:g} s, required within {rule.within_ms / 1000:g} s")
        if failed:
            return result(ComplianceStatus.FAILED, "; ".join(failed), evidence)
        return result(ComplianceStatus.PASSED, "disclosure said in time", [first] + trigger_hits[:1])

    def reason(self, occurrences: Occurrences, times: SegmentTimes) -> ContactReason:
        config = self._reasons
        scores: dict[str, float] = {}
        keywords: dict[str, list[str]] = {}
        for rule, weighted in self._reason_keywords:
            total = 0.0
            for pid, weight in weighted:
                counted = 0.0
                hits = 0
                for segment, _ in occurrences.get(pid, ()):
                    speaker = times.speakers[segment]
                    if rule.speaker is not None and speaker != rule.speaker:
                        continue
                    counted += config.agent_weight if speaker == Speaker.AGENT else 1.0
                    hits += 1
                    if hits >= config.max_hits_per_keyword:
                        break
                if counted:
                    total += weight * counted
                    keywords.setdefault(rule.reason, []).append(" ".join(self._phrases[pid]))
            if total:
                scores[rule.reason] = round(scores.get(rule.reason, 0.0) + total, 3)
        best = max(scores.items(), key=lambda kv: kv[1], default=(config.fallback, 0.0))  # first max wins
        if best[1] < config.min_score:
            return ContactReason(reason=config.fallback, score=best[1], scores=scores, keywords=[])
        return ContactReason(reason=best[0], score=best[1], scores=scores, keywords=keywords.get(best[0], []))


# --- defaults -------------------------------------------------------------------------------------


def default_categories() -> list[CategoryRule]:
    customer = Speaker.CUSTOMER
    return [
        CategoryRule(
            name="cancellation_risk",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "cancel my account", "cancel my subscription", "cancel my service", "cancel the service",
                        "cancel my contract", "close my account", "i want to cancel", "going to cancel",
                        "terminate my contract", "switch to another provider", "switching providers",
                        "take my business elsewhere", "i'm leaving", "port my number",
                    ],
                )
            ],
            absent=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=["don't want to cancel", "do not want to cancel", "not going to cancel", "won't cancel"],
                )
            ],
        ),
        CategoryRule(
            name="complaint",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "ridiculous", "unacceptable", "file a complaint", "make a complaint", "formal complaint",
                        "terrible service", "worst service", "not happy", "very disappointed", "fed up",
                        "waste of time", "this is a joke", "sick and tired",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="legal_threat",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "lawyer", "attorney", "sue you", "sue your company", "legal action", "take you to court",
                        "small claims", "class action", "better business bureau", "ombudsman",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="escalation_request",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "speak to a manager", "speak to your manager", "talk to a manager", "talk to your manager",
                        "speak to a supervisor", "speak to your supervisor", "talk to a supervisor",
                        "talk to your supervisor", "someone more senior", "escalate this",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="payment_issue",
            matchers=[
                PhraseMatcher(
                    phrases=[
                        "charged twice", "charged me twice", "charged us twice", "charged my card twice", "billed twice",
                        "billed me twice", "billed us twice", "double charged", "double billed", "overcharged",
                        "payment failed", "payment declined", "card was declined", "card declined", "wrong amount",
                        "billing error", "late fee", "refund",
                    ],
                )
            ],
        ),
    ]  # fmt: skip


# FDCPA: what signals a debt-collection contact (the mini-Miranda is owed only there), and what counts
# as asking for payment (the mini-Miranda must come first).
_COLLECTION_SIGNALS = [
    "debt", "debt collector", "collection agency", "collections department", "past due", "overdue balance",
    "amount owed", "balance due", "outstanding balance", "you owe", "delinquent account",
]
_PAYMENT_REQUESTS = [
    "amount owed", "balance due", "past due", "outstanding balance", "you owe", "make a payment",
    "take a payment", "pay today", "payment today", "pay the balance", "pay the full balance",
    "how would you like to pay", "can you pay", "set up a payment", "payment arrangement", "payment plan",
]


def default_compliance() -> list[AnyComplianceRule]:
    """The default library: TCPA (recording notice on voice, consent on automated calls), FDCPA
    (mini-Miranda, threats, false representation, profanity), PCI (no card data read back) and
    general prohibited language. Phrases are written once in their plain form: contractions and
    inflections of them match (see the module docstring)."""
    return [
        RequiredDisclosure(
            name="recording_disclosure",  # TCPA / state two-party consent: the call is recorded
            phrases=[
                "this call may be recorded", "this call is being recorded", "this call will be recorded",
                "call may be monitored or recorded", "calls are recorded", "recorded for quality",
                "recorded for training", "this call is recorded", "on a recorded line",
            ],
            within_ms=30_000,
            channels=[Channel.VOICE],
        ),
        RequiredDisclosure(
            name="tcpa_automated_consent",  # an automated / prerecorded call or text says how to opt out
            phrases=[
                "to opt out", "reply stop", "text stop", "to stop receiving", "to be removed from our list",
                "do not call list", "to unsubscribe",
            ],
            applies_if_phrases=[
                "this is an automated call", "this is an automated message", "automated call",
                "automated message", "prerecorded message", "pre recorded message", "automated reminder",
            ],
            speaker=Speaker.AGENT,
            within_ms=60_000,
        ),
        RequiredDisclosure(
            name="mini_miranda",  # FDCPA 807(11): within a minute, and before any payment request
            phrases=[
                "this is an attempt to collect a debt", "attempt to collect a debt",
                "communication is from a debt collector", "this call is from a debt collector",
            ],
            within_ms=60_000,
            before_phrases=_PAYMENT_REQUESTS,
            before_speaker=Speaker.AGENT,  # the collector asking: a debtor saying "past due" requests nothing
            applies_if_phrases=_COLLECTION_SIGNALS,
        ),
        ProhibitedPhrase(
            name="fdcpa_threats",  # FDCPA 807(4)-(5): arrest, jail, seizure, suit or employer contact as pressure
            phrases=[
                "have you arrested", "you will be arrested", "you could be arrested", "you could get arrested",
                "get arrested", "arrest you", "go to jail", "put you in jail", "send you to jail",
                "throw you in jail", "garnish your wages", "garnish your paycheck", "seize your property",
                "take your house", "repossess your car", "call your employer", "contact your employer",
                "tell your employer", "sue you", "take legal action against you", "file a lawsuit against you",
                "ruin your credit",
            ],
            applies_if_phrases=_COLLECTION_SIGNALS,
        ),
        ProhibitedPhrase(
            name="fdcpa_false_representation",  # FDCPA 807(1)-(3): posing as lawyer, police or government
            phrases=[
                "i am an attorney", "i am a lawyer", "from the police", "police department", "law enforcement",
                "government agency", "from the government", "federal agency", "from the irs",
                "from the sheriff", "sheriff's office", "court officer", "from the courthouse",
            ],
            applies_if_phrases=_COLLECTION_SIGNALS,
        ),
        ProhibitedPhrase(
            name="fdcpa_profanity",  # FDCPA 806(2): obscene or profane language
            phrases=["fuck", "fucking", "shit", "bullshit", "asshole", "bitch", "bastard", "goddamn", "damn you"],
            applies_if_phrases=_COLLECTION_SIGNALS,
        ),
        # PCI DSS: the card number and the security code never go back out (add CARD_EXPIRY if wanted)
        NoReadBack(name="pci_card_read_back", kinds=["CARD", "CARD_SECURITY_CODE"]),
        ProhibitedPhrase(
            name="prohibited_language",
            phrases=["shut up", "not my problem", "i don't care", "you're stupid", "guaranteed approval"],
        ),
    ]  # fmt: skip


def default_reasons() -> ReasonConfig:
    return ReasonConfig(
        rules=[
            ReasonRule(reason="billing", keywords={
                "bill": 2, "billing": 2, "invoice": 2, "charge": 1.5, "charged": 1.5, "statement": 1,
                "overcharged": 2, "charged twice": 2, "double charged": 2, "refund": 1.5, "late fee": 2, "payment": 1, "balance": 1,
            }),
            ReasonRule(reason="technical_support", keywords={
                "not working": 2, "doesn't work": 2, "internet": 1.5, "router": 2, "modem": 2, "error": 1.5,
                "outage": 2, "no signal": 2, "connection": 1, "slow": 1, "crash": 1.5, "crashes": 1.5,
                "restart": 1, "reboot": 1.5, "technical": 2, "broken": 1,
            }),
            ReasonRule(reason="cancellation", keywords={
                "cancel": 3, "cancellation": 3, "close my account": 3, "terminate": 2,
                "switch provider": 2, "switching providers": 2,
            }),
            ReasonRule(reason="sales", keywords={
                "upgrade": 2, "new plan": 2, "pricing": 1.5, "price": 1, "quote": 2, "buy": 1.5,
                "purchase": 1.5, "offer": 1, "discount": 1, "sign up": 2, "add a line": 2,
            }),
            ReasonRule(reason="account_access", keywords={
                "password": 3, "log in": 2, "login": 2, "locked out": 3, "username": 2,
                "verification code": 2, "two factor": 2, "can't access": 2, "access my account": 2,
            }),
            ReasonRule(reason="delivery", keywords={
                "delivery": 3, "delivered": 2, "package": 2, "parcel": 2, "tracking": 2, "shipment": 2,
                "shipping": 2, "courier": 2, "hasn't arrived": 3, "where is my order": 3,
            }),
        ]
    )  # fmt: skip
