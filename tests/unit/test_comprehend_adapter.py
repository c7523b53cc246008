"""adapters/aws/comprehend.py: Amazon Comprehend behind the sentiment port, on a stubbed client
(botocore's Stubber: moto does not implement BatchDetectSentiment). No network."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ccaas.adapters.aws.comprehend import (
    MAX_BATCH,
    MAX_TEXT_BYTES,
    ComprehendSentiment,
    billed_units,
    score_of,
    sentiment_analyzer,
    truncate_utf8,
)
from ccaas.domain.analytics import AnalyticsRules, LocalLexiconSentiment, SentimentAnalyzer, analyze_transcript, parse_segments


@pytest.fixture
def client():
    return boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _result(index: int, sentiment: str, positive: float, negative: float, neutral: float = 0.0, mixed: float = 0.0) -> dict:
    return {
        "Index": index,
        "Sentiment": sentiment,
        "SentimentScore": {"Positive": positive, "Negative": negative, "Neutral": neutral, "Mixed": mixed},
    }


def test_scores_map_comprehend_confidences_to_minus_five_plus_five():
    assert score_of({"Positive": 0.98, "Negative": 0.01, "Neutral": 0.01, "Mixed": 0.0}) == pytest.approx(4.85)
    assert score_of({"Positive": 0.02, "Negative": 0.9, "Neutral": 0.08, "Mixed": 0.0}) == pytest.approx(-4.4)
    assert score_of({"Positive": 0.05, "Negative": 0.05, "Neutral": 0.9, "Mixed": 0.0}) == 0
    assert score_of({"Positive": 0.45, "Negative": 0.45, "Neutral": 0.0, "Mixed": 0.1}) == 0  # MIXED: near 0
    assert score_of({"Positive": 1.5}) == 5.0  # clamped


def test_truncation_counts_utf8_bytes_and_never_splits_a_character():
    assert truncate_utf8("short") == "short"
    text = "é" * 3000  # 6,000 bytes
    cut = truncate_utf8(text)
    assert len(cut.encode()) <= MAX_TEXT_BYTES and cut == "é" * 2500
    odd = "a" + "€" * 2000  # 1 + 6,000 bytes: 5,000 falls inside a 3-byte character
    cut = truncate_utf8(odd)
    assert cut == "a" + "€" * 1666 and len(cut.encode()) == 4999


def test_billing_units_are_100_characters_with_a_minimum_of_three():
    assert billed_units("hi") == 3
    assert billed_units("x" * 300) == 3
    assert billed_units("x" * 301) == 4
    assert billed_units("x" * 1000) == 10


def test_batches_of_25_keep_order_and_skip_blank_texts(client):
    texts = [f"text {i}" for i in range(30)]
    texts.insert(3, "   ")  # blank: not sent, scores 0
    sent = [t for t in texts if t.strip()]
    with Stubber(client) as stub:
        stub.add_response(
            "batch_detect_sentiment",
            {"ResultList": [_result(k, "POSITIVE", 0.9, 0.1) for k in range(MAX_BATCH)], "ErrorList": []},
            {"TextList": sent[:MAX_BATCH], "LanguageCode": "en"},
        )
        stub.add_response(
            "batch_detect_sentiment",
            {"ResultList": [_result(k, "NEGATIVE", 0.0, 0.8, 0.2) for k in range(5)], "ErrorList": []},
            {"TextList": sent[MAX_BATCH:], "LanguageCode": "en"},
        )
        analyzer = ComprehendSentiment(client)
        scores = analyzer.analyze(texts)
        stub.assert_no_pending_responses()
    assert len(scores) == 31
    assert scores[3] == 0.0
    assert [s for k, s in enumerate(scores) if k != 3] == [4.0] * 25 + [-4.0] * 5
    assert analyzer.usage.calls == 2 and analyzer.usage.documents == 30
    assert analyzer.usage.units == 30 * 3 and analyzer.usage.fallbacks == 0


def test_long_texts_are_sent_truncated_and_billed_as_sent(client):
    long = "ok " * 2000  # 6,000 bytes
    with Stubber(client) as stub:
        stub.add_response(
            "batch_detect_sentiment",
            {"ResultList": [_result(0, "NEUTRAL", 0.1, 0.1, 0.8)], "ErrorList": []},
            {"TextList": [long[:MAX_TEXT_BYTES]], "LanguageCode": "es"},
        )
        analyzer = ComprehendSentiment(client, language="es")
        assert analyzer.analyze([long]) == [0.0]
    assert analyzer.usage.units == 50


def test_an_error_list_entry_falls_back_to_the_local_lexicon_and_is_counted(client):
    texts = ["Thank you so much!", "This is ridiculous", "fine"]
    with Stubber(client) as stub:
        stub.add_response(
            "batch_detect_sentiment",
            {
                "ResultList": [_result(0, "POSITIVE", 0.99, 0.0, 0.01), _result(2, "NEUTRAL", 0.2, 0.0, 0.8)],
                "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"}],
            },
        )
        analyzer = ComprehendSentiment(client)
        scores = analyzer.analyze(texts)
    local = LocalLexiconSentiment().analyze(["This is ridiculous"])[0]
    assert local < 0
    assert scores == [pytest.approx(4.95), local, pytest.approx(1.0)]
    assert analyzer.usage.fallbacks == 1 and analyzer.usage.failed_calls == 0


def test_a_failed_call_scores_its_batch_locally_and_later_batches_still_go_to_comprehend(client):
    texts = ["awful"] * MAX_BATCH + ["great"]
    with Stubber(client) as stub:
        stub.add_client_error("batch_detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
        stub.add_response("batch_detect_sentiment", {"ResultList": [_result(0, "POSITIVE", 0.7, 0.1)], "ErrorList": []})
        analyzer = ComprehendSentiment(client)
        scores = analyzer.analyze(texts)
        stub.assert_no_pending_responses()
    assert all(s < 0 for s in scores[:MAX_BATCH])  # the local lexicon's "awful"
    assert scores[-1] == pytest.approx(3.0)
    assert analyzer.usage.failed_calls == 1 and analyzer.usage.fallbacks == MAX_BATCH and analyzer.usage.calls == 2


def test_no_texts_no_calls(client):
    with Stubber(client) as stub:
        analyzer = ComprehendSentiment(client)
        assert analyzer.analyze([]) == [] and analyzer.analyze(["", " "]) == [0.0, 0.0]
        stub.assert_no_pending_responses()
    assert analyzer.usage.calls == 0


def test_unsupported_language_is_refused(client):
    with pytest.raises(ValueError):
        ComprehendSentiment(client, language="xx")


def test_factory_local_by_default_comprehend_on_request(client):
    local = sentiment_analyzer("local")
    assert isinstance(local, LocalLexiconSentiment) and sentiment_analyzer() is local
    made = []
    comprehend = sentiment_analyzer("comprehend", lambda: made.append(1) or client, language="fr")
    assert isinstance(comprehend, ComprehendSentiment) and isinstance(comprehend, SentimentAnalyzer)
    assert comprehend.language == "fr" and made == [1]
    with pytest.raises(ValueError):
        sentiment_analyzer("vader")


def test_plugged_into_the_transcript_analyzer(client):
    transcript = parse_segments(
        [
            {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "my card 4111 1111 1111 1111 was declined"},
            {"speaker": "AGENT", "begin_ms": 2000, "end_ms": 3000, "text": "I can help with that"},
        ],
        "c1",
    )
    with Stubber(client) as stub:
        stub.add_response(
            "batch_detect_sentiment",
            {"ResultList": [_result(0, "NEGATIVE", 0.0, 0.6, 0.4), _result(1, "POSITIVE", 0.5, 0.0, 0.5)], "ErrorList": []},
            {"TextList": ["my card [CARD] was declined", "I can help with that"], "LanguageCode": "en"},  # redacted first
        )
        analysis = analyze_transcript(transcript, AnalyticsRules.default(), ComprehendSentiment(client))
    assert [s.sentiment for s in analysis.segments] == [-3.0, 2.5]


def test_engines_build_one_analyzer_per_engine_and_language_on_one_client():
    from ccaas.adapters.aws.comprehend import ComprehendEngines, ComprehendSentiment
    from ccaas.domain.analytics.sentiment import LocalLexiconSentiment

    made = []
    engines = ComprehendEngines(lambda: made.append(object()) or made[-1])
    assert isinstance(engines.analyzer("local", "en"), LocalLexiconSentiment) and made == []  # no client for local
    spanish = engines.analyzer("comprehend", "es")
    assert isinstance(spanish, ComprehendSentiment) and spanish.language == "es"
    assert engines.analyzer("comprehend", "es") is spanish and engines.analyzer("comprehend", "de") is not spanish
    assert len(made) == 1  # one client shared


def test_the_tenant_setting_picks_the_engine_of_its_analyses():
    from ccaas.bootstrap import memory_dependencies
    from ccaas.domain.analytics import AnalyticsRules
    from ccaas.usecases import analytics

    deps = memory_dependencies()
    rules = AnalyticsRules.model_validate({"sentiment": {"engine": "comprehend", "language": "fr"}})
    analytics.put_analytics_rules(deps, "t1", rules)
    segments = [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1000, "text": "bonjour"}]
    analytics._analyze(deps, "t1", analytics.parse_segments(segments, "c1"))  # noqa: SLF001
    assert deps.sentiment.requested == [("comprehend", "fr")]
    with pytest.raises(ValueError):
        AnalyticsRules.model_validate({"sentiment": {"engine": "watson"}})
