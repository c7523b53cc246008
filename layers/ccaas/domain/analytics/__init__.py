"""Interaction (transcript) analytics: pure domain code, no AWS, no clock, no network.

Entry point: `analyze_transcript(transcript, rules, analyzer)`; see analyzer.py for the flow
(redaction first, then sentiment, conversation timing, rules, QA).

Names are imported lazily (PEP 562), each from its own module on first use: a function that needs one
part (the redactor, the sentiment lexicon, the transcript model) never pays for the analyzer, the QA rubric or
the rule sets at its cold start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ccaas.domain.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "AnalyticsRules": "analyzer",
    "AnalyzedSegment": "analyzer",
    "RedactedTranscript": "analyzer",
    "RedactionSummary": "analyzer",
    "TranscriptAnalysis": "analyzer",
    "analyze_redacted": "analyzer",
    "analyze_transcript": "analyzer",
    "redact_transcript": "analyzer",
    "ConversationCharacteristics": "conversation",
    "ConversationConfig": "conversation",
    "Interruption": "conversation",
    "NonTalk": "conversation",
    "NonTalkSpan": "conversation",
    "SpeakerTalk": "conversation",
    "conversation_characteristics": "conversation",
    "QAItem": "qa",
    "QAItemResult": "qa",
    "QARubric": "qa",
    "QAScore": "qa",
    "score_contact": "qa",
    "PiiType": "redaction",
    "RedactedTexts": "redaction",
    "RedactionConfig": "redaction",
    "RedactionResult": "redaction",
    "Redactor": "redaction",
    "contains_luhn_valid_card": "redaction",
    "luhn_valid": "redaction",
    "redact_text": "redaction",
    "CategoryMatch": "rules",
    "CategoryRule": "rules",
    "CompiledRules": "rules",
    "ComplianceResult": "rules",
    "ComplianceRule": "rules",
    "ComplianceStatus": "rules",
    "ContactReason": "rules",
    "Evidence": "rules",
    "PhraseMatcher": "rules",
    "ProhibitedPhrase": "rules",
    "ReasonConfig": "rules",
    "ReasonRule": "rules",
    "RequiredDisclosure": "rules",
    "default_categories": "rules",
    "default_compliance": "rules",
    "default_reasons": "rules",
    "LocalLexiconSentiment": "sentiment",
    "SentimentAnalyzer": "sentiment",
    "SentimentSummary": "sentiment",
    "SpeakerSentiment": "sentiment",
    "summarise_sentiment": "sentiment",
    "Channel": "transcript",
    "Segment": "transcript",
    "Speaker": "transcript",
    "Transcript": "transcript",
    "TranscriptFormatError": "transcript",
    "detect_format": "transcript",
    "parse_chat_messages": "transcript",
    "parse_contact_lens": "transcript",
    "parse_segments": "transcript",
    "parse_transcribe_call_analytics": "transcript",
    "parse_transcribe_standard": "transcript",
    "parse_transcript": "transcript",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from .analyzer import (
        AnalyticsRules,
        AnalyzedSegment,
        RedactedTranscript,
        RedactionSummary,
        TranscriptAnalysis,
        analyze_redacted,
        analyze_transcript,
        redact_transcript,
    )
    from .conversation import (
        ConversationCharacteristics,
        ConversationConfig,
        Interruption,
        NonTalk,
        NonTalkSpan,
        SpeakerTalk,
        conversation_characteristics,
    )
    from .qa import (
        QAItem,
        QAItemResult,
        QARubric,
        QAScore,
        score_contact,
    )
    from .redaction import (
        PiiType,
        RedactedTexts,
        RedactionConfig,
        RedactionResult,
        Redactor,
        contains_luhn_valid_card,
        luhn_valid,
        redact_text,
    )
    from .rules import (
        CategoryMatch,
        CategoryRule,
        CompiledRules,
        ComplianceResult,
        ComplianceRule,
        ComplianceStatus,
        ContactReason,
        Evidence,
        PhraseMatcher,
        ProhibitedPhrase,
        ReasonConfig,
        ReasonRule,
        RequiredDisclosure,
        default_categories,
        default_compliance,
        default_reasons,
    )
    from .sentiment import (
        LocalLexiconSentiment,
        SentimentAnalyzer,
        SentimentSummary,
        SpeakerSentiment,
        summarise_sentiment,
    )
    from .transcript import (
        Channel,
        Segment,
        Speaker,
        Transcript,
        TranscriptFormatError,
        detect_format,
        parse_chat_messages,
        parse_contact_lens,
        parse_segments,
        parse_transcribe_call_analytics,
        parse_transcribe_standard,
        parse_transcript,
    )
