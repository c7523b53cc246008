"""The entry point: redaction first, only redacted text in the result, defaults, edge cases."""
from __future__ import annotations

from ccaas.domain.analytics import (
    AnalyticsRules,
    Channel,
    RedactionConfig,
    Transcript,
    analyze_transcript,
    contains_luhn_valid_card,
    parse_segments,
    redact_transcript,
)

RAW = [
    {"speaker": "AGENT", "begin_ms": 0, "end_ms": 3_000, "text": "This call may be recorded. Can I take your card?"},
    {"speaker": "CUSTOMER", "begin_ms": 3_500, "end_ms": 9_000,
     "text": "Sure, it's 5555 5555 5555 4444, email ann@example.com, policy POL-778812."},
    {"speaker": "AGENT", "begin_ms": 9_500, "end_ms": 12_000, "text": "Thanks, and your phone is +44 7700 900123?"},
]  # fmt: skip
SECRETS = ["5555 5555 5555 4444", "4444", "ann@example.com", "POL-778812", "7700 900123"]


def rules_with_policy() -> AnalyticsRules:
    return AnalyticsRules.default().extend(redaction=RedactionConfig(custom_patterns={"policy": r"POL-\d{6}"}))


def test_result_holds_only_redacted_text():
    analysis = analyze_transcript(parse_segments(RAW, "c-1"), rules_with_policy())
    dumped = analysis.model_dump_json()
    for secret in SECRETS:
        assert secret not in dumped
    assert analysis.segments[1].text == "Sure, it's [CARD], email [EMAIL], policy [POLICY]."
    assert analysis.segments[2].text == "Thanks, and your phone is [PHONE]?"
    assert analysis.redaction.counts == {"CARD": 1, "EMAIL": 1, "policy": 1, "PHONE": 1}
    assert analysis.redaction.segments_redacted == 2


def test_redacted_transcript_is_what_later_stages_receive():
    rules = rules_with_policy()
    redacted = redact_transcript(parse_segments(RAW, "c-1"), rules.compiled().redactor)
    assert not any(secret in text for text in redacted.texts for secret in SECRETS)
    assert redacted.word_counts == (10, 10, 8)  # words of the original speech (the card is 4)
    assert redacted.redaction_counts["CARD"] == 1


def test_default_rules_when_none_given_and_compiled_once():
    analysis = analyze_transcript(parse_segments(RAW, "c-1"))
    assert [r.rule for r in analysis.compliance] == [
        "recording_disclosure", "tcpa_automated_consent", "mini_miranda", "fdcpa_threats",
        "fdcpa_false_representation", "fdcpa_profanity", "pci_card_read_back", "prohibited_language",
    ]
    rules = AnalyticsRules.default()
    assert rules.compiled() is rules.compiled()
    assert rules == AnalyticsRules.default()


def test_empty_transcript():
    analysis = analyze_transcript(Transcript(contact_id="empty"))
    assert analysis.segments == [] and analysis.categories == []
    assert analysis.reason.reason == "other"
    assert analysis.sentiment.customer.overall is None
    assert analysis.conversation is not None and analysis.conversation.duration_ms == 0
    recording = next(r for r in analysis.compliance if r.rule == "recording_disclosure")
    assert not recording.passed
    assert 0 <= analysis.qa.score <= 100


def test_non_ascii_text_normalises_like_ascii():
    transcript = parse_segments(
        [
            {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 2_000, "text": "I\u2019m \u201cnot happy\u201d \U0001F621 \u2014 it\u2019s ridiculous"},
            {"speaker": "CUSTOMER", "begin_ms": 3_000, "end_ms": 5_000, "text": "Caf\u00e9 card 4111\u20111111 1111 1111?"},
        ],
        "utf",
    )
    analysis = analyze_transcript(transcript)
    assert analysis.segments[0].sentiment < 0
    assert {c.name for c in analysis.categories} >= {"complaint"}
    assert analysis.segments[0].text.startswith("I\u2019m")  # stored text keeps its characters


def test_chat_has_no_conversation_timing():
    transcript = Transcript.model_validate(
        {
            "contact_id": "chat",
            "channel": Channel.CHAT,
            "segments": [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 0, "text": "my bill is wrong"}],
        }
    )
    analysis = analyze_transcript(transcript)
    assert analysis.conversation is None
    assert analysis.reason.reason == "billing"


def test_the_analysis_counts_what_the_parser_had_to_drop():
    transcript = parse_segments([*RAW, {"speaker": "SYSTEM", "begin_ms": 1_000, "end_ms": 1_200, "text": "beep"},
                                 {"speaker": "AGENT", "end_ms": 1_200, "text": "no begin"}], "dropping")
    analysis = analyze_transcript(transcript)
    assert len(analysis.segments) == 3 and analysis.dropped_segments == 2
    assert analyze_transcript(parse_segments(RAW, "whole")).dropped_segments == 0


def test_long_transcript_end_to_end():
    from bench.bench_transcripts import synthetic_transcript

    transcript = synthetic_transcript(seed=1, segments=1_000)
    analysis = analyze_transcript(transcript)
    assert len(analysis.segments) == 1_000
    assert analysis.redaction.counts.get("CARD", 0) > 0
    assert analysis.conversation is not None and analysis.conversation.interruptions
    assert 0 <= analysis.qa.score <= 100
    assert contains_luhn_valid_card(transcript.model_dump_json())
    assert not contains_luhn_valid_card(analysis.model_dump_json())
