"""Interaction (transcript) analytics: pure domain code, no AWS, no clock, no network.

Entry point: `analyze_transcript(transcript, rules, analyzer)`; see analyzer.py for the flow
(redaction first, then sentiment, conversation timing, rules, QA).
"""
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
from .qa import QAItem, QAItemResult, QARubric, QAScore, score_contact
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

__all__ = [name for name in dir() if not name.startswith("_")]
