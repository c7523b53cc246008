"""Supervisor alert evaluation speed (pure domain, deterministic, seeded).

Run: `make bench` or `python -m bench alerts`. CPU time of this process.
Targets: a large tenant (200 queues, 2,000 agents) evaluates in <= 25 ms, so the one-minute sweep's
time goes to I/O, not to rules; a 100-segment live-transcript post (redaction, sentiment, rules) in
<= 15 ms, well inside an API call.
"""
from __future__ import annotations

import random
import time

from bench.table import print_table
from ccaas.domain.alerts import (
    AgentSnapshot,
    Alert,
    AlertRule,
    AlertRules,
    LiveTranscriptState,
    QueueSnapshot,
    Severity,
    evaluate,
    evaluate_transcript,
    redact_and_score,
)
from ccaas.domain.analytics import LocalLexiconSentiment, Redactor, Segment
from ccaas.domain.live_metrics import MINUTE_SLOTS, epoch_minute

SEED = 20261125
NOW = 1_764_072_000_000
QUEUES, AGENTS, ACTIVE = 200, 2000, 50
TARGET_TENANT_MS, TARGET_POST_MS = 25.0, 15.0
_LINES = [
    "thanks for calling how can I help you today",
    "I was charged twice on my card 4111 1111 1111 1111 and this is ridiculous",
    "let me check that for you one moment please",
    "I have been waiting forever, I want to cancel my account",
    "I understand, I am sorry for the trouble",
    "my email is jane.doe@example.com if you need it",
    "great, thank you so much, that is perfect",
    "is there anything else I can help with",
]


def _tenant(rng: random.Random) -> tuple[list[QueueSnapshot], list[AgentSnapshot], list[Alert]]:
    now_minute = epoch_minute(NOW)
    queues = []
    for q in range(QUEUES):
        item: dict[str, int] = {}
        for minute in range(now_minute - MINUTE_SLOTS + 1, now_minute + 1):
            prefix = f"m{minute % MINUTE_SLOTS}"
            answered = rng.randint(0, 12)
            item.update({f"{prefix}_at": minute, f"{prefix}_answered": answered,
                         f"{prefix}_answered_within_sl": rng.randint(0, answered),
                         f"{prefix}_abandoned": rng.randint(0, 3), f"{prefix}_abandoned_within_sl": 0})  # fmt: skip
        depth = rng.randint(0, 15)
        queues.append(QueueSnapshot(f"q{q:03d}", 0.8, depth, NOW - rng.randint(0, 300_000) if depth else None, "c", item))
    statuses = ["AVAILABLE", "BREAK", "LUNCH", "OFFLINE"]
    agents = [
        AgentSnapshot(f"a{a:04d}", s := rng.choice(statuses), {"AVAILABLE": "AVAILABLE", "OFFLINE": "OFFLINE"}.get(s, "NOT_READY"),
                      NOW - rng.randint(0, 1_800_000))
        for a in range(AGENTS)
    ]  # fmt: skip
    active = [
        Alert(tenant_id="t", alert_id=f"{NOW:013d}-{i:012x}", rule=AlertRule.QUEUE_DEPTH, subject=f"queue/q{i:03d}",
              severity=Severity.WARNING, message="m", opened_at=NOW)
        for i in range(ACTIVE)
    ]  # fmt: skip
    return queues, agents, active


def _cpu(fn, repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - started) / repeat * 1000


def main() -> None:
    rng = random.Random(SEED)
    rules = AlertRules()
    queues, agents, active = _tenant(rng)
    decisions = evaluate(rules, queues=queues, agents=agents, active=active, now_ms=NOW, whole_tenant=True)
    tenant_ms = _cpu(lambda: evaluate(rules, queues=queues, agents=agents, active=active, now_ms=NOW, whole_tenant=True), 20)

    redactor, sentiment = Redactor(), LocalLexiconSentiment()
    segments = [
        Segment(speaker="AGENT" if i % 2 == 0 else "CUSTOMER", begin_ms=i * 4000, end_ms=i * 4000 + 3000, text=rng.choice(_LINES))
        for i in range(100)
    ]
    state = LiveTranscriptState(tenant_id="t", contact_id="c")

    def post() -> None:
        evaluate_transcript(rules, state, redact_and_score(segments, redactor, sentiment).segments, now_ms=NOW)

    post_ms = _cpu(post, 30)
    print_table(
        "Alert evaluation (CPU ms)",
        ["what", "size", "ms", "target ms", "ok"],
        [
            ["tenant (sweep)", f"{QUEUES} queues, {AGENTS} agents, {ACTIVE} open", round(tenant_ms, 2), TARGET_TENANT_MS, tenant_ms <= TARGET_TENANT_MS],
            ["live transcript post", "100 segments", round(post_ms, 2), TARGET_POST_MS, post_ms <= TARGET_POST_MS],
        ],
    )  # fmt: skip
    print_table(
        "What the large tenant's sweep decided",
        ["opened", "resolved", "tenants per CPU second"],
        [[len(decisions.open), len(decisions.resolve), round(1000 / tenant_ms, 1)]],
    )


if __name__ == "__main__":
    main()
