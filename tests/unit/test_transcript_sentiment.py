"""Local lexicon sentiment: sign, negation, intensifiers, contact-center phrases; per-speaker summary
and trend; the analyzer protocol."""
from __future__ import annotations

import math

import pytest

from ccaas.domain.analytics import (
    AnalyticsRules,
    LocalLexiconSentiment,
    SentimentAnalyzer,
    Speaker,
    analyze_transcript,
    parse_segments,
    summarise_sentiment,
)

LOCAL = LocalLexiconSentiment()
A, C = Speaker.AGENT, Speaker.CUSTOMER


def score(text: str) -> float:
    return LOCAL.analyze([text])[0]


@pytest.mark.parametrize(
    "text",
    ["I am happy with this", "Thank you so much!", "That was excellent, really helpful", "No problem at all", "It works now."],
)
def test_positive(text: str):
    assert score(text) > 0


@pytest.mark.parametrize(
    "text",
    [
        "This is ridiculous",
        "I want to cancel my account",
        "I am not happy",
        "It is still not working",
        "What a waste of time",
        "I've been charged twice and I'm frustrated",
    ],
)
def test_negative(text: str):
    assert score(text) < 0


@pytest.mark.parametrize("text", ["", "I would like to check my balance", "The order was placed on Monday", "[CARD]"])
def test_neutral(text: str):
    assert score(text) == 0


def test_negation_flips_and_damps():
    happy, not_happy = score("I am happy"), score("I am not happy")
    assert happy > 0 > not_happy
    assert abs(not_happy) < abs(happy)
    assert score("this is not bad") > 0
    assert score("I don't think that's good") < 0  # within three words
    assert score("I don't think that it was ever good") > 0  # too far back


def test_negation_stops_at_clause_punctuation_and_but():
    assert score("No, I'm happy to help") > 0
    assert score("not the fastest but happy") > 0


def test_intensifiers_scale():
    assert score("very happy") > score("happy") > score("slightly happy") > 0
    assert score("really very happy") > score("very happy")
    assert score("extremely frustrated") < score("frustrated") < 0


def test_phrase_scored_once_not_as_its_words():
    # "thank you so much" is +4 on its own, not "thank you" (+2) boosted by "so"
    assert score("thank you so much") == pytest.approx(round(5 * 4 / math.sqrt(16 + 15), 3))
    assert score("no thank you") == 0


def test_scores_stay_within_range():
    assert score("terrible awful horrible worst useless " * 20) == pytest.approx(-5, abs=0.05)
    assert score("great excellent amazing wonderful " * 20) == pytest.approx(5, abs=0.05)


def test_tenant_lexicon_extension():
    custom = LocalLexiconSentiment({"kaput": -3, "ridiculous": 0})
    assert custom.analyze(["the router is kaput"])[0] < 0
    assert custom.analyze(["ridiculous"])[0] == 0
    with pytest.raises(ValueError):
        LocalLexiconSentiment({"meh": -9})


def test_batch_keeps_order_and_length():
    texts = ["great", "", "awful", "okay"]
    scores = LOCAL.analyze(texts)
    assert len(scores) == 4 and scores[0] > 0 and scores[1] == 0 and scores[2] < 0 and scores[3] == 0


def test_summary_overall_quarters_and_trend():
    # contact spans 0..40 s: first quarter <= 10 s, last quarter >= 30 s (by segment midpoint)
    speakers = [C, A, C, C]
    begins = [0, 5_000, 20_000, 34_000]
    ends = [4_000, 8_000, 24_000, 40_000]
    words = [2, 5, 4, 4]
    scores = [-4.0, 1.0, 0.0, 3.0]
    summary = summarise_sentiment(speakers, begins, ends, words, scores)
    assert summary.customer.first_quarter == -4.0
    assert summary.customer.last_quarter == 3.0
    assert summary.customer.trend == 7.0
    assert summary.customer.overall == pytest.approx((-8 + 0 + 12) / 10)
    assert summary.customer.segments == 3
    assert summary.agent.first_quarter == 1.0 and summary.agent.last_quarter is None and summary.agent.trend is None


def test_summary_of_empty_transcript():
    summary = summarise_sentiment([], [], [], [], [])
    assert summary.customer.overall is None and summary.agent.segments == 0


class FixedAnalyzer:
    """Stands in for Amazon Comprehend behind the protocol."""

    def __init__(self, values: list[float]) -> None:
        self.values = values
        self.seen: list[str] = []

    def analyze(self, texts: list[str]) -> list[float]:
        self.seen = list(texts)
        return self.values[: len(texts)]


def _two_segments():
    return parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 0, "end_ms": 1000, "text": "card 4111 1111 1111 1111?"},
            {"speaker": "CUSTOMER", "begin_ms": 2000, "end_ms": 3000, "text": "yes"},
        ],
        "p",
    )


def test_pluggable_analyzer_receives_redacted_text_and_out_of_range_scores_are_clamped():
    assert isinstance(LOCAL, SentimentAnalyzer)
    plugged = FixedAnalyzer([9.0, -2.5])
    assert isinstance(plugged, SentimentAnalyzer)
    analysis = analyze_transcript(_two_segments(), AnalyticsRules.default(), plugged)
    assert plugged.seen == ["card [CARD]?", "yes"]
    assert [s.sentiment for s in analysis.segments] == [5.0, -2.5]


def test_analyzer_returning_the_wrong_number_of_scores_fails_loudly():
    with pytest.raises(ValueError):
        analyze_transcript(_two_segments(), AnalyticsRules.default(), FixedAnalyzer([1.0]))


def test_no_texts_no_scores():
    assert LOCAL.analyze([]) == []
