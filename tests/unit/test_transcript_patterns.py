"""Tenant redaction patterns run on RE2: linear time whatever the pattern (no ReDoS), and what RE2
cannot compile (backreferences, look-arounds) is refused when the rules are saved, naming the pattern."""
from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import AnalyticsRules, RedactionConfig, Redactor, redact_text
from ccaas.domain.analytics.patterns import (
    MAX_PATTERN_LENGTH,
    MAX_PROGRAM_SIZE,
    MAX_TOTAL_PROGRAM_SIZE,
    compile_tenant_pattern,
)


def test_catastrophic_backtracking_pattern_is_linear_on_re2():
    """`(a+)+$` on "aaa...!" backtracks 2^n times in Python's re (28 characters: ~15 s); RE2 finds
    no match at once. The redaction result is what is asserted; benchmark it, don't time it here."""
    config = RedactionConfig(custom_patterns={"burst": "(a+)+$"})
    redactor = Redactor(config)
    long_text = "a" * 50_000 + "!"
    result = redactor.redact(long_text)
    assert result.text == long_text and result.counts == {}
    assert redactor.redact("a" * 28 + "!").counts == {}
    # it still matches what it should: a line of a's, ended (multi-line: a segment's end)
    many = redactor.redact_many(["say aaaa", "aaaa!"])
    assert many.texts == ["say [BURST]", "aaaa!"] and many.counts == {"burst": 1}


@pytest.mark.parametrize(
    "pattern",
    [
        r"(\d{3})-\1",  # backreference
        r"(?P<n>ab)(?P=n)",  # named backreference
        r"POL-(?=\d)",  # look-ahead
        r"(?<!X)\d{6}",  # look-behind
        r"\d+\Z",  # Python's \Z (RE2 spells it \z)
        r"(",  # not a pattern at all
    ],
)
def test_patterns_re2_cannot_compile_are_refused_naming_the_pattern(pattern):
    with pytest.raises(ValidationError) as err:
        RedactionConfig(custom_patterns={"policy_ref": pattern})
    message = str(err.value)
    assert "policy_ref" in message and repr(pattern) in message and "RE2" in message
    assert err.value.errors()[0]["type"] == "value_error"  # pydantic: the API answers 422


def test_the_refusal_reaches_the_whole_rule_set_as_a_value_error():
    document = '{"redaction": {"custom_patterns": {"claim": "(CLM)-\\\\1"}}}'
    with pytest.raises(ValidationError, match=r"claim.*\(CLM\)-\\\\1.*does not compile with RE2"):
        AnalyticsRules.model_validate_json(document)


def test_re2_keeps_what_the_redactor_relies_on():
    config = RedactionConfig(
        custom_patterns={
            "member": r"^M\d{5}$",  # anchors at segment edges (multi-line)
            "policy": r"(?i)\bpol-(?P<number>\d{6})\b",  # inline flag, named group, word boundaries
            "ticket": r"[Tt]icket #\d+",
        }
    )
    result = Redactor(config).redact_many(["M12345", "not M34567 here", "café pol-123456 and Ticket #42 ok"])
    assert result.texts == ["[MEMBER]", "not M34567 here", "café [POLICY] and [TICKET] ok"]  # offsets after "é"
    assert result.counts == {"member": 1, "policy": 1, "ticket": 1}


def test_compiled_tenant_patterns_offer_the_re_api():
    rx = compile_tenant_pattern(r"(?P<id>AC\d{4})")
    assert [m.span() for m in rx.finditer("AC1234 and é AC5678")] == [(0, 6), (13, 19)]
    assert rx.search("x AC0001").group("id") == "AC0001"
    assert rx.sub(lambda m: "[" + m.group("id")[:2] + "]", "AC1234!") == "[AC]!"
    assert compile_tenant_pattern("^x$").search("a\nx\nb").span() == (2, 3)  # multi-line by default
    assert compile_tenant_pattern("^x$", multiline=False).search("a\nx\nb") is None


def test_empty_matches_and_long_patterns_are_still_refused():
    for pattern in (r"\d*", "^", "(?m)$", "a?"):
        with pytest.raises(ValidationError, match="matches the empty string"):
            RedactionConfig(custom_patterns={"x": pattern})
    with pytest.raises(ValidationError, match="at most 500 characters"):
        RedactionConfig(custom_patterns={"x": "a" * (MAX_PATTERN_LENGTH + 1)})
    with pytest.raises(ValueError, match="at most 500"):
        compile_tenant_pattern("a" * (MAX_PATTERN_LENGTH + 1))
    RedactionConfig(custom_patterns={"x": "\\d" * (MAX_PATTERN_LENGTH // 2)})  # 500 characters, 254 RE2 instructions


def test_patterns_re2_runs_slowly_are_refused_naming_the_pattern():
    """`(?:.{0,20}){0,40}z` compiles to ~7,200 RE2 instructions (a card pattern: ~20) whose DFA does not fit
    its memory: RE2 then simulates the program, and 50 such patterns made a 10,000-character live post
    take 6 s. The program's size is bounded per pattern and across the tenant's patterns."""
    for pattern in (r"(?:.{0,20}){0,40}z", r"(?:.{0,40}){0,10}z", r".{0,100}z", "a" * MAX_PATTERN_LENGTH):
        with pytest.raises(ValidationError) as err:
            RedactionConfig(custom_patterns={"slow": pattern})
        message = str(err.value)
        assert "slow" in message and repr(pattern) in message and f"(at most {MAX_PROGRAM_SIZE})" in message
        assert err.value.errors()[0]["loc"] == ("custom_patterns",)  # the API answers 422 naming it
    # what tenants write stays far below the bound
    for pattern in (r"(?i)\bpol-(?P<number>\d{6})\b", r"^M\d{5}$", r"[Tt]icket #\d+", r"(a+)+$", r"CLM\d{4}",
                    r"(?i)\b(?:alpha|bravo|charlie|delta|echo|foxtrot)-\d{4}\b", r"\bPOL-\d{6}\b", r"(?i)\bmem\d{5}\b"):
        assert compile_tenant_pattern(pattern).programsize <= MAX_PROGRAM_SIZE // 4

    below = r"\d" * 240  # 244 instructions
    per_pattern = compile_tenant_pattern(below).programsize
    assert per_pattern <= MAX_PROGRAM_SIZE
    fits = MAX_TOTAL_PROGRAM_SIZE // per_pattern
    RedactionConfig(custom_patterns={f"p{i}": below for i in range(fits)})
    too_many = rf"compile to {(fits + 1) * per_pattern} RE2 instructions together \(at most {MAX_TOTAL_PROGRAM_SIZE}\)"
    with pytest.raises(ValidationError, match=too_many):
        RedactionConfig(custom_patterns={f"p{i}": below for i in range(fits + 1)})


def test_built_in_detectors_stay_on_python_re():
    """Our fixed patterns need look-arounds and a backreference (SSN separators): Python's re."""
    result = redact_text("id 078-05-1120, not 078-05 1120")  # no SSN word: the regex's layout alone decides
    assert result.text == "id [SSN], not 078-05 1120" and result.counts == {"SSN": 1}
    assert isinstance(Redactor()._digit_regex, re.Pattern)
