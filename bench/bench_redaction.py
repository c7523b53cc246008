"""Redaction recall and precision on a labelled corpus of typed and spoken PII (bench/data/).

A true positive is an expected value whose characters are all replaced, by redactions of the
expected kind (read from the redaction receipt, which gives the original offsets of every replaced
span); a false positive is a redaction that overlaps no expected span, counted under its placeholder.
Goals (issue 18): recall 100 % on CARD and CARD_SECURITY_CODE, >= 99 % overall, precision >= 98 %.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.table import print_table
from ccaas.domain.analytics.redaction import Redactor

CORPUS = Path(__file__).parent / "data" / "redaction_corpus.jsonl"
# Written without looking at the detectors (issue 18 review): the outside measure, never tuned against.
HOLDOUT = Path(__file__).parent / "data" / "redaction_holdout.jsonl"
# A second outside set (issue 18, round 3): invented by someone who had read neither the detectors nor the
# other sets (ASR styles, homophones, read-backs, last fours, splits over speakers), scored before any fix.
BLIND = Path(__file__).parent / "data" / "redaction_blind.jsonl"
GOAL_FULL_RECALL = ("CARD", "CARD_SECURITY_CODE")
GOAL_RECALL, GOAL_PRECISION = 0.99, 0.98


@dataclass
class KindScore:
    expected: int = 0
    found: int = 0  # expected values fully replaced by this kind
    redactions: int = 0  # receipt entries of this kind
    false_positives: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return (self.redactions - self.false_positives) / self.redactions if self.redactions else 1.0


@dataclass
class Score:
    kinds: dict[str, KindScore] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)  # notes + values of missed expectations
    false_positives: list[str] = field(default_factory=list)
    lines: int = 0

    def kind(self, name: str) -> KindScore:
        return self.kinds.setdefault(name, KindScore())

    @property
    def total(self) -> KindScore:
        t = KindScore()
        for k in self.kinds.values():
            t.expected += k.expected
            t.found += k.found
            t.redactions += k.redactions
            t.false_positives += k.false_positives
        return t

    def goals_met(self) -> bool:
        total = self.total
        return (
            all(self.kind(k).recall == 1.0 for k in GOAL_FULL_RECALL)
            and total.recall >= GOAL_RECALL
            and total.precision >= GOAL_PRECISION
        )


def load_corpus(path: Path = CORPUS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _locate(text: str, value: str, occurrence: int) -> tuple[int, int]:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(value, at + 1)
    return at, at + len(value)


def score_corpus(entries: list[dict], redactor: Redactor | None = None) -> Score:
    redactor = redactor or Redactor()
    score = Score()
    for entry in entries:
        score.lines += 1
        if "segments" in entry:
            texts = [s["text"] for s in entry["segments"]]
            speakers = [s["speaker"] for s in entry["segments"]]
        else:
            texts, speakers = [entry["text"]], None
        result = redactor.redact_many(texts, speakers)
        expected = []
        for e in entry["expect"]:
            segment = e.get("segment", 0)
            start, end = _locate(texts[segment], e["value"], e.get("occurrence", 0))
            expected.append((e["kind"], segment, start, end))
        for kind, segment, start, end in expected:
            stats = score.kind(kind)
            stats.expected += 1
            covered = set()
            for mark in result.receipt:
                if mark.segment == segment and mark.kind == kind:
                    covered.update(range(max(start, mark.start), min(end, mark.end)))
            if len(covered) == end - start:
                stats.found += 1
            else:
                got = [m.kind for m in result.receipt if m.segment == segment and m.start < end and start < m.end]
                score.misses.append(f"{kind} {texts[segment][start:end]!r} got {got or 'nothing'} ({entry['note']})")
        for mark in result.receipt:
            stats = score.kind(mark.kind)
            stats.redactions += 1
            if not any(s == mark.segment and mark.start < e and b < mark.end for _, s, b, e in expected):
                stats.false_positives += 1
                text = texts[mark.segment]
                score.false_positives.append(
                    f"{mark.kind} {text[mark.start:mark.end]!r} in {text!r} ({entry['note']})"
                )
    return score


def report(title: str, path: Path) -> Score:
    score = score_corpus(load_corpus(path))
    t = score.total
    rows = [
        [name, k.expected, k.found, f"{k.recall:.1%}", k.redactions, k.false_positives, f"{k.precision:.1%}"]
        for name, k in [*sorted(score.kinds.items()), ("overall", t)]
    ]
    print_table(
        f"Redaction on the {title} ({score.lines} utterances, {path.name})",
        ["kind", "expected", "found", "recall", "redactions", "false pos.", "precision"],
        rows,
    )
    goals = [
        *[[f"recall {k}", "100%", score.kind(k).recall, score.kind(k).recall == 1.0] for k in GOAL_FULL_RECALL],
        ["recall overall", f">= {GOAL_RECALL:.0%}", t.recall, t.recall >= GOAL_RECALL],
        ["precision overall", f">= {GOAL_PRECISION:.0%}", t.precision, t.precision >= GOAL_PRECISION],
    ]
    print_table(
        f"Goals (issue 18) on the {title}",
        ["goal", "target", "measured", "met"],
        [[goal, target, f"{value:.1%}", "yes" if met else "NO"] for goal, target, value, met in goals],
    )
    for miss in score.misses[:20]:
        print("  missed:", miss)
    for fp in score.false_positives[:20]:
        print("  false positive:", fp)
    return score


def worst_typed_text() -> None:
    """The typed-card pass over text made to be its worst case: one long run of one-digit groups (every group
    starts a candidate card). Quadratic before session 25 (each group copied the rest of the run): 100,000 groups
    took 10.1 s; linear since (a card is at most 19 groups)."""
    import time

    from ccaas.domain.analytics.redaction import redact_text

    rows = []
    for groups in (25_000, 50_000, 100_000, 200_000):
        text = "1 " * groups
        started = time.process_time()
        redact_text(text)
        seconds = time.process_time() - started
        rows.append([f"{groups:,}", f"{len(text):,}", round(seconds, 2), round(seconds / groups * 1e6, 1)])
    print_table("Redaction of one run of one-digit groups (the typed-card pass's worst case)",
                ["groups", "characters", "CPU s", "µs per group"], rows)


def main() -> None:
    report("dev corpus", CORPUS)
    report("held-out set", HOLDOUT)
    report("blind set", BLIND)
    worst_typed_text()


if __name__ == "__main__":
    main()
