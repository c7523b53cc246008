"""Every part of a tenant's analytics rules is bounded, and a rule set with every limit at its maximum
is still one storable item (DynamoDB stops at 400 KB)."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import AnalyticsRules, analyze_transcript, parse_segments
from ccaas.domain.analytics import limits as L

WEIGHT = -1.2345678901234567e-05  # the longest float JSON spelling


def _phrase(i: int) -> str:
    return (f"w{i} " + "x" * L.MAX_PHRASE)[: L.MAX_PHRASE]


def _name(prefix: str, i: int) -> str:
    return (f"{prefix}{i}_" + "n" * L.MAX_NAME)[: L.MAX_NAME]


def maximal_rules() -> dict:
    """Every list at its maximum length, every string at its maximum length, the phrase budget spent
    where it costs the most JSON (one phrase per matcher), the longest numbers; custom patterns
    made of backslashes (each doubled in JSON)."""
    counter = iter(range(10**6))
    compliance = [
        {
            "kind": "required_disclosure", "name": _name("c", i), "phrases": [_phrase(next(counter))],
            "speaker": "CUSTOMER", "within_ms": L.MAX_OFFSET_MS, "before_phrases": [_phrase(next(counter))],
            "before_speaker": "CUSTOMER", "channels": ["VOICE", "CHAT"],
        }
        for i in range(L.MAX_COMPLIANCE_RULES)
    ]  # fmt: skip
    reasons = [
        {"reason": _name("r", i), "keywords": {_phrase(next(counter)): WEIGHT}, "speaker": "CUSTOMER"}
        for i in range(L.MAX_REASONS)
    ]
    left = L.MAX_TOTAL_PHRASES - 2 * L.MAX_COMPLIANCE_RULES - L.MAX_REASONS
    categories = []
    for i in range(L.MAX_CATEGORIES):
        count = left // L.MAX_CATEGORIES + (1 if i < left % L.MAX_CATEGORIES else 0)
        matchers = [
            {"phrases": [_phrase(next(counter))], "speaker": "CUSTOMER", "from_ms": L.MAX_OFFSET_MS, "to_ms": L.MAX_OFFSET_MS}
            for _ in range(count)
        ]
        assert len(matchers) <= 2 * L.MAX_MATCHERS
        categories.append({"name": _name("k", i), "match": "all", "matchers": matchers[: L.MAX_MATCHERS], "absent": matchers[L.MAX_MATCHERS :]})
    qa = [
        {"name": _name("q", i), "kind": "sentiment_trend", "weight": -WEIGHT, "speaker": "CUSTOMER", "good_at": WEIGHT, "bad_at": -WEIGHT}
        for i in range(L.MAX_QA_ITEMS)
    ]
    # 500 characters, all but two escaped in JSON, compiling to a handful of RE2 instructions (a class of
    # one backslash): the patterns' program sizes are bounded together as well
    pattern = "[" + "\\\\" * (L.MAX_PATTERN // 2 - 1) + "]"
    patterns = {(f"p{i}_" + "z" * L.MAX_PATTERN_NAME)[: L.MAX_PATTERN_NAME]: pattern for i in range(L.MAX_CUSTOM_PATTERNS)}
    return {
        "categories": categories,
        "compliance": compliance,
        "reasons": {"rules": reasons, "min_score": L.MAX_SCORE, "fallback": _name("f", 0), "agent_weight": WEIGHT + 1, "max_hits_per_keyword": 100},
        "qa": {"items": qa},
        "redaction": {"detect": ["CARD", "SSN", "NINO", "EMAIL", "PHONE"], "custom_patterns": patterns},
        "conversation": {"non_talk_threshold_ms": 3_600_000, "interruption_min_overlap_ms": 60_000},
    }


def test_maximal_rules_fit_one_dynamodb_item():
    rules = AnalyticsRules.model_validate(maximal_rules())
    assert sum(len(m.phrases) for c in rules.categories for m in (*c.matchers, *c.absent)) > 0
    stored = json.dumps(rules.model_dump(mode="json"), separators=(",", ":"))  # as the config store writes it
    assert len(stored) < 350_000
    assert len(json.dumps(rules.model_dump(mode="json"))) < 350_000  # even with spaces
    assert len(rules.model_dump_json().encode()) < 350_000
    # and it compiles and runs
    transcript = parse_segments([{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": _phrase(0)}], "c1")
    assert analyze_transcript(transcript, rules).qa.score >= 0


def test_escaped_text_cannot_push_the_document_past_the_limit():
    """Within every per-field limit, non-ASCII text is 6-12 characters each as stored JSON: the
    document check refuses what would not fit."""
    doc = maximal_rules()
    for category in doc["categories"]:
        for matcher in (*category["matchers"], *category["absent"]):
            matcher["phrases"] = ["\U0001F600" * L.MAX_PHRASE]
    with pytest.raises(ValidationError, match=r"characters as JSON \(at most 340,000\)"):
        AnalyticsRules.model_validate(doc)


def _rules(**sections) -> dict:
    return {"categories": [], "compliance": [], "reasons": {"rules": []}, "qa": {"items": [{"name": "c", "kind": "compliance", "weight": 1}]}, **sections}


def _category(i: int = 0, phrases: int = 1, matchers: int = 1, phrase_length: int = 10, **extra) -> dict:
    matcher = {"phrases": [(f"p{i}{j} " + "y" * phrase_length)[:phrase_length] for j in range(phrases)], **extra}
    return {"name": f"cat{i}", "matchers": [matcher] * matchers}


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"categories": [_category(i) for i in range(L.MAX_CATEGORIES + 1)]}, "categories"),
        ({"categories": [_category(phrases=L.MAX_PHRASES + 1)]}, "phrases"),
        ({"categories": [_category(phrase_length=L.MAX_PHRASE + 1)]}, "phrases.0"),
        ({"categories": [_category(matchers=L.MAX_MATCHERS + 1)]}, "matchers"),
        ({"categories": [{**_category(), "name": "n" * (L.MAX_NAME + 1)}]}, "name"),
        ({"categories": [_category(from_ms=L.MAX_OFFSET_MS + 1)]}, "from_ms"),
        ({"compliance": [{"kind": "prohibited_phrase", "name": f"r{i}", "phrases": ["x"]} for i in range(L.MAX_COMPLIANCE_RULES + 1)]}, "compliance"),
        ({"compliance": [{"kind": "required_disclosure", "name": "r", "phrases": ["x"], "within_ms": L.MAX_OFFSET_MS + 1}]}, "within_ms"),
        ({"reasons": {"rules": [{"reason": "r", "keywords": {"x": float("nan")}}]}}, "keywords.x"),
        ({"reasons": {"rules": [{"reason": "r", "keywords": {"x": L.MAX_WEIGHT + 1}}]}}, "keywords.x"),
        ({"reasons": {"rules": [{"reason": "r", "keywords": {f"k{i}": 1 for i in range(L.MAX_KEYWORDS + 1)}}]}}, "keywords"),
        ({"reasons": {"rules": [{"reason": f"r{i}", "keywords": {"x": 1}} for i in range(L.MAX_REASONS + 1)]}}, "rules"),
        ({"reasons": {"rules": [], "min_score": float("inf")}}, "min_score"),
        ({"qa": {"items": [{"name": f"q{i}", "kind": "compliance", "weight": 1} for i in range(L.MAX_QA_ITEMS + 1)]}}, "items"),
        ({"qa": {"items": [{"name": "q", "kind": "non_talk_share", "weight": float("inf")}]}}, "weight"),
        ({"qa": {"items": [{"name": "q", "kind": "non_talk_share", "weight": 1, "bad_at": L.MAX_QA_SCALE + 1}]}}, "bad_at"),
        ({"redaction": {"custom_patterns": {f"p{i}": "x" for i in range(L.MAX_CUSTOM_PATTERNS + 1)}}}, "custom_patterns"),
        ({"redaction": {"custom_patterns": {"p": "x" * (L.MAX_PATTERN + 1)}}}, "custom_patterns.p"),
        ({"conversation": {"non_talk_threshold_ms": 3_600_001}}, "non_talk_threshold_ms"),
    ],
)
def test_each_limit_is_enforced(sections, field):
    with pytest.raises(ValidationError) as err:
        AnalyticsRules.model_validate(_rules(**sections))
    locations = [".".join(str(part) for part in e["loc"]) for e in err.value.errors()]
    assert any(loc.endswith(field) for loc in locations), locations


def test_the_phrase_budget_is_shared_by_all_rules():
    per_category = L.MAX_PHRASES
    categories = [_category(i, phrases=per_category) for i in range(L.MAX_TOTAL_PHRASES // per_category)]
    AnalyticsRules.model_validate(_rules(categories=categories))  # exactly the budget
    reasons = {"rules": [{"reason": "r", "keywords": {"one more": 1}}]}
    with pytest.raises(ValidationError, match=r"801 phrases and keywords .* \(at most 800\)"):
        AnalyticsRules.model_validate(_rules(categories=categories, reasons=reasons))


def test_the_defaults_are_well_inside_the_limits():
    rules = AnalyticsRules.default()
    assert len(json.dumps(rules.model_dump(mode="json"))) < L.MAX_DOCUMENT_CHARS // 20
