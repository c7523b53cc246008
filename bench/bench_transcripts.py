"""Transcript analytics throughput: 1,000-segment synthetic contacts, whole pipeline and per stage.

Transcripts are generated deterministically (fixed seed): alternating speakers with realistic
turn lengths, occasional overlaps and silences, and a sprinkling of card numbers, emails, phone
numbers, sentiment words and category / compliance phrases so every stage has work to do.
"""
from __future__ import annotations

import random
import time

from bench.table import print_table
from ccaas.domain.analytics import (
    AnalyticsRules,
    LocalLexiconSentiment,
    Speaker,
    Transcript,
    analyze_transcript,
    parse_segments,
    redact_transcript,
)
from ccaas.domain.analytics.rules import SegmentTimes
from ccaas.domain.analytics.text import segment_words

# CPU time of this process: the figure that matters for "per core", and steadier than wall time
# on a shared machine where other processes take turns on the same cores.
_clock = time.process_time

SEGMENTS = 1_000
SHORT_SEGMENTS = 150
TRANSCRIPTS = 12
ROUNDS = 3

_FILLER = (
    "okay so let me check that for you one moment please yes I can see the account here "
    "the order was placed last week and the invoice shows the monthly plan with the usual charges "
    "could you confirm the address on file and the last payment date thanks for waiting"
).split()
_CUSTOMER_LINES = [
    "this is ridiculous I have been on hold forever",
    "I am not happy with the service at all",
    "I want to cancel my account today",
    "my internet is still not working after the reboot",
    "I was charged twice on my last bill",
    "thank you so much that is really helpful",
    "I will speak to a lawyer about this",
    "can I speak to a manager please",
    "my password reset email never arrived",
    "where is my order the tracking has not moved",
]
_AGENT_LINES = [
    "this call may be recorded for quality and training",
    "I am very sorry about the trouble",
    "no problem at all happy to help",
    "I understand how frustrating that must be",
    "let me escalate this to the right team",
    "is there anything else I can help with today",
]


def _luhn_card(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d for i, d in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _pii(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        card = _luhn_card(rng, rng.choice(["4", "51", "37", "6011"]), rng.choice([15, 16]))
        return "my card number is " + " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    if kind == 1:
        return f"you can email me at user{rng.randrange(1000)}@example.com"
    if kind == 2:
        return f"call me back on ({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
    return f"the order number is {rng.randrange(10**15, 10**16)}"


def synthetic_transcript(seed: int, segments: int = SEGMENTS) -> Transcript:
    rng = random.Random(seed)
    items = []
    clock = 0
    for index in range(segments):
        speaker = Speaker.AGENT if index % 2 == 0 else Speaker.CUSTOMER
        words = rng.sample(_FILLER, rng.randint(4, 14))
        roll = rng.random()
        if roll < 0.15:
            words += (rng.choice(_CUSTOMER_LINES) if speaker == Speaker.CUSTOMER else rng.choice(_AGENT_LINES)).split()
        elif roll < 0.19:
            words += _pii(rng).split()
        text = " ".join(words).capitalize() + "."
        duration = 350 * len(words) + rng.randrange(400)
        gap = rng.choice([-600, 200, 300, 500, 800, 1200]) if rng.random() > 0.02 else rng.randrange(6_000, 15_000)
        begin = max(0, clock + gap)
        items.append({"speaker": speaker.value, "begin_ms": begin, "end_ms": begin + duration, "text": text})
        clock = begin + duration
    return parse_segments(items, f"bench-{seed}")


def main() -> None:
    rules = AnalyticsRules.default()
    compiled = rules.compiled()
    sentiment = LocalLexiconSentiment()
    transcripts = [synthetic_transcript(seed) for seed in range(TRANSCRIPTS)]
    analyze_transcript(transcripts[0], rules, sentiment)  # warm caches (compiled rules, regexes)

    best_total = _best_seconds(transcripts, rules, sentiment)
    # typical contacts are far shorter than 1,000 segments; show how throughput scales
    short = [synthetic_transcript(seed, SHORT_SEGMENTS) for seed in range(TRANSCRIPTS * 5)]
    best_short = _best_seconds(short, rules, sentiment)

    # Per-stage split: the stage functions the entry point composes, timed one by one (best round
    # per stage, like the total); "rest" is the total minus them: conversation timing, sentiment
    # summary, QA and building the result model.
    stage = dict.fromkeys(("redaction", "word split (shared)", "sentiment", "rules"), float("inf"))
    for _ in range(ROUNDS):
        spent = dict.fromkeys(stage, 0.0)
        for transcript in transcripts:
            t0 = _clock()
            redacted = redact_transcript(transcript, compiled.redactor)
            t1 = _clock()
            words = segment_words(list(redacted.texts), clause_breaks=True, placeholders=True)  # as analyze_redacted
            t2 = _clock()
            sentiment.score_words(words)
            t3 = _clock()
            occurrences = compiled.rules.index.find(words)
            times = SegmentTimes(
                speakers=redacted.speakers, begins=redacted.begins, origin_ms=redacted.connected_at_ms or 0,
                channel=redacted.channel, ends=redacted.ends,
            )
            compiled.rules.categories(occurrences, times)
            compiled.rules.compliance(occurrences, times)
            compiled.rules.reason(occurrences, times)
            t4 = _clock()
            for name, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                spent[name] += seconds
        stage = {name: min(stage[name], spent[name]) for name in stage}

    n = len(transcripts)
    print_table(
        "Transcript analytics throughput (one core, default rules, local sentiment)",
        ["segments/contact", "contacts", "ms/contact", "contacts/s", "segments/s"],
        [
            [size, count, round(seconds / count * 1000, 2), round(count / seconds, 1), round(count * size / seconds)]
            for size, count, seconds in ((SEGMENTS, n, best_total), (SHORT_SEGMENTS, len(short), best_short))
        ],
    )
    rest = max(best_total - sum(stage.values()), 0.0)
    rows = [[name, round(t / n * 1000, 3), f"{t / best_total:.0%}"] for name, t in stage.items()]
    rows.append(["rest (conversation, summaries, QA, result)", round(rest / n * 1000, 3), f"{rest / best_total:.0%}"])
    print_table("Per-stage split (ms per 1,000-segment contact)", ["stage", "ms", "share"], rows)
    print_table("Worst accepted rule sets (compliance phrases), one 20,000-word transcript",
                ["rule set", "s of CPU"], _worst_rule_sets())
    print_table(
        "Machine reference (scale the figures above by this when comparing machines)",
        ["measure", "CPU s"],
        [["10M iterations of an empty Python loop", round(_empty_loop_seconds(), 3)]],
    )


def _best_seconds(transcripts: list[Transcript], rules: AnalyticsRules, sentiment: LocalLexiconSentiment) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = _clock()
        for transcript in transcripts:
            analyze_transcript(transcript, rules, sentiment)
        best = min(best, _clock() - started)
    return best


def _worst_rule_sets() -> list[list[object]]:
    """What PUT /settings/analytics accepts at its worst, on one transcript of repeated words: 44 rules of 180
    synonym variants each sharing a first word ("you … now", two edits); 50 rules of "zz" phrases that match at
    every word (exact and with edits). Before the scan's bounds: 15 s on 1,000 words, 17 s (70 MB) on 2,000."""
    synonyms = [{"kind": "prohibited_phrase", "name": f"r{r}", "phrases": [f"you k{r}a k{r}b k{r}c now"], "max_edits": 2,
                 "synonyms": {f"k{r}a": [f"a{r}x{e}" for e in range(5)], f"k{r}b": [f"b{r}x{e}" for e in range(5)],
                              f"k{r}c": [f"c{r}x{e}" for e in range(4)]}} for r in range(44)]
    words = [w for rule in synonyms for key, equal in rule["synonyms"].items() for w in (key, *equal)]
    everywhere = [{"kind": "prohibited_phrase", "name": f"r{r}", "max_edits": r % 3,
                   "phrases": [" ".join(["zz"] * n) for n in range(1 + r % 50, 17 + r % 50)]} for r in range(50)]
    rows: list[list[object]] = []
    # The phrase index alone at the largest guidance rules a tenant could store before session 25: 1,800 phrases of
    # 100 words sharing their first 99 ("a a … a z<k>"); the phrase-by-phrase scan took ~17 s on these words.
    from ccaas.domain.analytics.text import PhraseIndex

    index = PhraseIndex([("a",) * 99 + (f"z{k}",) for k in range(1_800)])
    started = _clock()
    index.find([["a"] * 20_000])
    rows.append(["phrase index: 1,800 phrases of 100 words sharing 99", round(_clock() - started, 2)])
    for name, compliance, text in (("synonym variants sharing a first word", synonyms, [*words, "now", *["you"] * 20_000]),
                                   ("phrases matching at every word", everywhere, ["zz"] * 20_000)):
        rules = AnalyticsRules.model_validate({"compliance": compliance, "categories": [], "reasons": {"rules": []}})
        transcript = parse_segments([{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1_000, "text": " ".join(text)}], "worst")
        started = _clock()
        analyze_transcript(transcript, rules)
        rows.append([name, round(_clock() - started, 2)])
    return rows


def _empty_loop_seconds() -> float:
    started = _clock()
    for _ in range(10_000_000):
        pass
    return _clock() - started


if __name__ == "__main__":
    main()
