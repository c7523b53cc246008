"""Real-time guidance: the tenant's rules over a live transcript, and the prompts they give the agent.

Four kinds of rule, each with the tenant's own prompt text:
- `disclosure_due`: a required disclosure the agent has not said `due_s` after connect ("read the
  recording disclosure now"); once per contact, and never once the agent said it;
- `escalation`: a trigger phrase said by the customer ("speak to a manager") -> suggested
  de-escalation text; once per contact unless `repeat_after_s`;
- `sentiment_drop`: the customer's mean sentiment over the last N segments below a threshold, or
  fallen by X against the N before; repeats after a cooldown;
- `silence`: a gap of at least N s between segments; repeats after a cooldown. Dead air still going on is
  prompted by the minute sweep (`ongoing_silence`), once per silence: a post ending a gap prompted during it
  does not prompt again.

Phrases match as the compliance rules match them (ccaas.domain.analytics.rules): whole words, case-
and punctuation-insensitive, through the same `normalize_phrase` / `segment_words` / `PhraseIndex`.
Times are the segments' own (ms from when the contact was connected); segments are evaluated in
spoken order, so a post holding many segments prompts where the rule would have fired live.

Followed (documented in the README): a `disclosure_due` prompt is followed once the agent says one of
its phrases in a later segment; an `escalation` prompt once the agent says one of the rule's
`follow_phrases` (the suggested text's key phrases) in a later segment within `follow_within_s`.
Sentiment and silence prompts are not judged (`followed` stays None).

Pure: no clock, no environment, no AWS. The state keeps prompts (the tenant's texts), rule names,
scores and times, never transcript text.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ccaas.domain.analytics.limits import Name, Phrase
from ccaas.domain.analytics.text import PhraseIndex, normalize_phrase, segment_words
from ccaas.domain.analytics.transcript import Speaker
from ccaas.domain.vocabulary import Bool, Float, Int, STORED_DOCUMENT, is_stored

if TYPE_CHECKING:  # ccaas.domain.alerts imports this module (its live state carries the guidance state)
    from ccaas.domain.alerts import LiveSegment

MAX_RULES = 50
MAX_TEXT = 500  # characters of a prompt text
MAX_PHRASES = 50  # per list
# Every post is searched for every phrase of the tenant's rules (one PhraseIndex), so the phrases of all
# rules share one budget, as analytics' do (limits.MAX_TOTAL_PHRASES), and a phrase is a few words: a post
# costs its words plus its matches, and up to MAX_PHRASE_WORDS phrases can match at each word.
MAX_TOTAL_PHRASES = 500  # phrases and follow phrases of all rules together
MAX_PHRASE_WORDS = 12
MAX_SECONDS = 86_400  # a day
MAX_WINDOW = 10  # customer segments a sentiment rule averages
MAX_PROMPTS = 50  # per contact: beyond, no more prompts (the state is one bounded item)

_FROZEN = ConfigDict(frozen=True, extra="forbid")
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Seconds = Annotated[Float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
Phrases = Annotated[list[Phrase], Field(min_length=1, max_length=MAX_PHRASES)]


class GuidanceKind(StrEnum):
    DISCLOSURE_DUE = "disclosure_due"
    ESCALATION = "escalation"
    SENTIMENT_DROP = "sentiment_drop"
    SILENCE = "silence"


def _check_phrases(phrases: list[str], info: ValidationInfo) -> list[str]:
    """Each phrase a few words (a phrase with no words, or one holding an unseen character, limits.Phrase, is
    refused); named by position, never echoed."""
    for position, phrase in enumerate(phrases):
        words = len(normalize_phrase(phrase))  # raises on a phrase with no words
        if words > MAX_PHRASE_WORDS and not is_stored(info.context):  # a bound of session 25: stored rules load
            raise ValueError(f"phrase {position} has {words} words (at most {MAX_PHRASE_WORDS})")
    return phrases


class _Rule(BaseModel):
    model_config = _FROZEN

    name: Name
    enabled: Bool = True
    text: Text = Field(description="what the agent is shown")
    repeat_after_s: Annotated[Float, Field(ge=1, le=MAX_SECONDS, allow_inf_nan=False)] | None = Field(
        default=None, description="null: once per contact; else again after this many seconds"
    )


class DisclosureDueRule(_Rule):
    kind: Literal["disclosure_due"] = "disclosure_due"
    phrases: Phrases = Field(description="any of these said by the agent counts as the disclosure")
    due_s: Seconds = 15

    _check = field_validator("phrases")(_check_phrases)


class EscalationRule(_Rule):
    kind: Literal["escalation"] = "escalation"
    phrases: Phrases = Field(description="triggers, said by the customer")
    follow_phrases: list[Phrase] = Field(
        default_factory=list, max_length=MAX_PHRASES, description="the suggested text's key phrases: followed when the agent says one"
    )
    follow_within_s: Seconds = 60

    _check = field_validator("phrases", "follow_phrases")(_check_phrases)


class SentimentDropRule(_Rule):
    kind: Literal["sentiment_drop"] = "sentiment_drop"
    segments: Int = Field(default=3, ge=1, le=MAX_WINDOW, description="the last N customer segments are averaged")
    below: Float | None = Field(default=-1.5, ge=-5, le=5, allow_inf_nan=False, description="mean below this prompts")
    drop: Float | None = Field(
        default=2.0, gt=0, le=10, allow_inf_nan=False, description="mean fallen by this against the N segments before prompts"
    )
    repeat_after_s: Annotated[Float, Field(ge=1, le=MAX_SECONDS, allow_inf_nan=False)] | None = 120

    @model_validator(mode="after")
    def _one_condition(self) -> SentimentDropRule:
        if self.below is None and self.drop is None:
            raise ValueError("set below, drop or both")
        return self


class SilenceRule(_Rule):
    kind: Literal["silence"] = "silence"
    min_gap_s: Annotated[Float, Field(ge=1, le=MAX_SECONDS, allow_inf_nan=False)] = 20
    repeat_after_s: Annotated[Float, Field(ge=1, le=MAX_SECONDS, allow_inf_nan=False)] | None = 60


GuidanceRule = Annotated[DisclosureDueRule | EscalationRule | SentimentDropRule | SilenceRule, Field(discriminator="kind")]


def _recording_phrases() -> list[str]:
    """The default recording disclosure's phrases, as the default compliance rule checks them."""
    from ccaas.domain.analytics.rules import default_compliance  # the rule sets: only when defaults are built

    return next(list(r.phrases) for r in default_compliance() if r.name == "recording_disclosure")


def default_rules() -> list[DisclosureDueRule | EscalationRule | SentimentDropRule | SilenceRule]:
    return [
        DisclosureDueRule(
            name="recording_disclosure", phrases=_recording_phrases(), due_s=15,
            text='Read the recording disclosure now: "This call may be recorded for quality and training purposes."',
        ),
        EscalationRule(
            name="escalation",
            phrases=[
                "speak to a manager", "speak to your manager", "talk to a manager", "speak to a supervisor",
                "talk to a supervisor", "cancel my account", "cancel my subscription", "close my account",
                "this is ridiculous", "this is unacceptable", "file a complaint", "waste of my time", "fed up",
            ],
            text="Acknowledge it before solving it: \"I understand how frustrating this is, and I'm going to help "
                 "you sort it out right now.\"",
            follow_phrases=["i understand", "i'm sorry", "i apologize", "i apologise", "let me help", "i can help",
                            "help you sort"],
        ),
        SentimentDropRule(
            name="customer_upset",
            text="The customer sounds upset: slow down, sum up what you heard, and say what you will do next.",
        ),
        SilenceRule(
            name="long_silence",
            text="Long silence: tell the customer what you are doing (\"I'm just checking that for you, one moment\").",
        ),
    ]  # fmt: skip


class GuidanceRules(BaseModel):
    """A tenant's guidance rules (the defaults until set); `enabled: false` switches guidance off."""

    model_config = _FROZEN

    enabled: Bool = True
    rules: list[GuidanceRule] = Field(default_factory=default_rules, max_length=MAX_RULES)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[_Rule], info: ValidationInfo) -> list[_Rule]:
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        total = sum(len(getattr(r, "phrases", ())) + len(getattr(r, "follow_phrases", ())) for r in rules)
        if total > MAX_TOTAL_PHRASES and not is_stored(info.context):
            raise ValueError(
                f"the rules hold {total} phrases and follow phrases together (at most {MAX_TOTAL_PHRASES})"
            )
        return rules


# --- prompts and the per-contact state ----------------------------------------------------------------


class Prompt(BaseModel):
    model_config = _FROZEN

    rule: str
    kind: GuidanceKind
    text: str
    at_ms: int = Field(description="ms from connect (the segment time it fired at)")
    segment_index: int = Field(description="the segment (in the contact's whole live transcript) it fired on")
    followed: bool | None = Field(default=None, description="disclosure/escalation: said after the prompt; None: not judged")
    followed_at_ms: int | None = None
    gap_from_ms: int | None = Field(default=None, description="silence: ms from connect where the gap it was for began")


class GuidanceState(BaseModel):
    """Kept with the contact's live transcript state (one item, one optimistic write)."""

    model_config = _FROZEN

    prompts: tuple[Prompt, ...] = ()
    said: tuple[str, ...] = ()  # disclosure rules the agent has said
    scores: tuple[float, ...] = ()  # the customer's last 2 x MAX_WINDOW segment scores
    spoken_until_ms: int | None = None
    segments: int = 0

    def counts(self) -> tuple[dict[str, int], int]:
        """(prompts shown by kind, prompts followed)."""
        shown: dict[str, int] = {}
        for p in self.prompts:
            shown[p.kind.value] = shown.get(p.kind.value, 0) + 1
        return shown, sum(1 for p in self.prompts if p.followed)


@dataclass(frozen=True)
class GuidanceEvaluation:
    state: GuidanceState
    prompts: list[Prompt]  # new ones, in spoken order


@lru_cache(maxsize=256)
def _compiled(rules_json: str) -> tuple[GuidanceRules, PhraseIndex, dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """One index over every phrase of every rule; per rule, the ids of its phrases and follow phrases."""
    rules = GuidanceRules.model_validate_json(rules_json, context=STORED_DOCUMENT)  # rules saved (validated) before
    phrases: dict[tuple[str, ...], None] = {}
    for rule in rules.rules:
        for p in [*getattr(rule, "phrases", ()), *getattr(rule, "follow_phrases", ())]:
            phrases[normalize_phrase(p)] = None
    index = PhraseIndex(phrases)
    ids = {r.name: tuple(index.id_of(normalize_phrase(p)) for p in getattr(r, "phrases", ())) for r in rules.rules}
    follow = {r.name: tuple(index.id_of(normalize_phrase(p)) for p in getattr(r, "follow_phrases", ())) for r in rules.rules}
    return rules, index, ids, follow


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _last_at(prompts: Sequence[Prompt], rule_name: str) -> int | None:
    return next((p.at_ms for p in reversed(prompts) if p.rule == rule_name), None)


def _may_prompt(prompts: Sequence[Prompt], rule: _Rule, at_ms: int) -> bool:
    """Within the contact's bound, and the rule's first prompt or past its cooldown."""
    if len(prompts) >= MAX_PROMPTS:
        return False
    last = _last_at(prompts, rule.name)
    return last is None or (rule.repeat_after_s is not None and at_ms - last >= rule.repeat_after_s * 1000)


def _prompted_since(prompts: Sequence[Prompt], rule_name: str, gap_from: int) -> bool:
    """The rule's last prompt was for the gap that began `gap_from`: not again for it. Judged by the gap recorded
    with the prompt, not its time: a sweep's prompt is stamped with the sweep's time, which can be past the end of
    speech not posted yet, so past the start of the next gap too. Prompts stored without their gap: by time."""
    last = next((p for p in reversed(prompts) if p.rule == rule_name), None)
    if last is None:
        return False
    return last.gap_from_ms == gap_from if last.gap_from_ms is not None else last.at_ms > gap_from


def ongoing_silence(rules: GuidanceRules, state: GuidanceState, at_ms: int, quiet_ms: int) -> GuidanceEvaluation:
    """Silence prompts for dead air still going on `at_ms` after connect, nothing having been posted for `quiet_ms`
    (speech not posted yet is no silence). The silence runs from the state's last spoken end; once per silence,
    honouring each rule's cooldown. `segment_index` is the segment to come, the one that will end the silence."""
    if state.spoken_until_ms is None or not rules.enabled:
        return GuidanceEvaluation(state, [])  # nothing posted yet: no silence measured (as between posts' segments)
    silent_ms = min(at_ms - state.spoken_until_ms, quiet_ms)
    prompts = list(state.prompts)
    new: list[Prompt] = []
    for rule in rules.rules:
        if (isinstance(rule, SilenceRule) and rule.enabled and silent_ms >= rule.min_gap_s * 1000
                and not _prompted_since(prompts, rule.name, state.spoken_until_ms) and _may_prompt(prompts, rule, at_ms)):
            p = Prompt(
                rule=rule.name, kind=GuidanceKind.SILENCE, text=rule.text, at_ms=at_ms, segment_index=state.segments,
                gap_from_ms=state.spoken_until_ms,
            )
            prompts.append(p)
            new.append(p)
    return GuidanceEvaluation(state.model_copy(update={"prompts": tuple(prompts)}) if new else state, new)


def evaluate_guidance(rules: GuidanceRules, state: GuidanceState, segments: Sequence[LiveSegment]) -> GuidanceEvaluation:
    """New prompts for `segments` (redacted, scored, time-ordered; times from connect) and the state after."""
    if not segments:
        return GuidanceEvaluation(state, [])
    compiled, index, ids, follow = _compiled(rules.model_dump_json())
    found = index.find(segment_words([s.text for s in segments]))
    in_segment: list[set[int]] = [set() for _ in segments]
    for pid, hits in found.items():
        for seg, _ in hits:
            in_segment[seg].add(pid)

    prompts = list(state.prompts)
    said = set(state.said)
    scores = list(state.scores)
    spoken_until = state.spoken_until_ms
    new: list[Prompt] = []
    by_name = {r.name: r for r in compiled.rules}
    active = [r for r in compiled.rules if r.enabled] if compiled.enabled else []

    def may_prompt(rule: _Rule, at_ms: int) -> bool:
        return _may_prompt(prompts, rule, at_ms)

    def prompt(rule: _Rule, kind: GuidanceKind, at_ms: int, index_: int, gap_from_ms: int | None = None) -> None:
        p = Prompt(rule=rule.name, kind=kind, text=rule.text, at_ms=at_ms, segment_index=index_, gap_from_ms=gap_from_ms)
        prompts.append(p)
        new.append(p)

    for i, s in enumerate(segments):
        position = state.segments + i
        heard = in_segment[i]
        agent, customer = s.speaker == Speaker.AGENT, s.speaker == Speaker.CUSTOMER

        # Followed: earlier prompts the agent acts on in this segment.
        if agent and heard:
            for k, p in enumerate(prompts):
                if p.followed or p.segment_index >= position or p.kind not in (GuidanceKind.DISCLOSURE_DUE, GuidanceKind.ESCALATION):
                    continue
                rule = by_name.get(p.rule)
                if rule is None or rule.kind != p.kind.value:
                    continue  # the rule was removed or changed kind since
                if p.kind == GuidanceKind.DISCLOSURE_DUE:
                    hit = not heard.isdisjoint(ids[p.rule])
                else:
                    hit = not heard.isdisjoint(follow[p.rule]) and s.begin_ms - p.at_ms <= rule.follow_within_s * 1000
                if hit:
                    prompts[k] = p.model_copy(update={"followed": True, "followed_at_ms": s.begin_ms})
                    new[:] = [prompts[k] if q is p else q for q in new]

        # Silence: the gap this segment ends.
        gap_from = spoken_until
        spoken_until = s.end_ms if spoken_until is None else max(spoken_until, s.end_ms)
        if customer:
            scores = [*scores, s.sentiment][-2 * MAX_WINDOW :]

        for rule in active:
            if isinstance(rule, DisclosureDueRule):
                if agent and not heard.isdisjoint(ids[rule.name]) and rule.name not in said:
                    said.add(rule.name)
                if rule.name not in said and s.end_ms >= rule.due_s * 1000 and may_prompt(rule, s.end_ms):
                    prompt(rule, GuidanceKind.DISCLOSURE_DUE, max(s.begin_ms, int(rule.due_s * 1000)), position)
            elif isinstance(rule, EscalationRule):
                if customer and not heard.isdisjoint(ids[rule.name]) and may_prompt(rule, s.begin_ms):
                    prompt(rule, GuidanceKind.ESCALATION, s.begin_ms, position)
            elif isinstance(rule, SentimentDropRule):
                if not customer or len(scores) < rule.segments:
                    continue
                recent = _mean(scores[-rule.segments :])
                before = scores[-2 * rule.segments : -rule.segments]
                low = rule.below is not None and recent < rule.below
                fell = rule.drop is not None and len(before) == rule.segments and _mean(before) - recent >= rule.drop
                if (low or fell) and may_prompt(rule, s.begin_ms):
                    prompt(rule, GuidanceKind.SENTIMENT_DROP, s.begin_ms, position)
            elif isinstance(rule, SilenceRule):
                if (gap_from is not None and s.begin_ms - gap_from >= rule.min_gap_s * 1000
                        and not _prompted_since(prompts, rule.name, gap_from) and may_prompt(rule, s.begin_ms)):
                    prompt(rule, GuidanceKind.SILENCE, s.begin_ms, position, gap_from)

    new_state = state.model_copy(
        update={
            "prompts": tuple(prompts),
            "said": tuple(sorted(said)),
            "scores": tuple(scores),
            "spoken_until_ms": spoken_until,
            "segments": state.segments + len(segments),
        }
    )
    return GuidanceEvaluation(new_state, new)
