"""Amazon Comprehend behind the `SentimentAnalyzer` port (domain/analytics/sentiment.py), for tenants
whose analytics settings ask for it: `sentiment: {"engine": "comprehend", "language": "en"}`. The
local lexicon stays the default and needs no network.

- BatchDetectSentiment, at most 25 texts per call; each text is cut to 5,000 bytes of UTF-8 on a
  character boundary (Comprehend's limit; its real-time sentiment reads the first 500 characters).
- A score is 5 * (Positive - Negative) of Comprehend's confidences, so -5..+5 like Contact Lens and
  the local scorer: NEUTRAL lands near 0, MIXED (both high) near 0 too.
- Blank texts are not sent (Comprehend rejects empty documents) and score 0, as locally.
- A text in the response's ErrorList, or every text of a call that fails with a ClientError after
  botocore's own retries, gets the local lexicon's score instead; `usage.fallbacks` counts them, so
  the caller can log or emit a metric. Anything else (a malformed request) raises.
- `usage` also counts calls, documents and billed units (units of 100 characters, at least 3 per
  document) for the cost bench: price line "comprehend.sentiment_units" in bench/prices.json.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ccaas.domain.analytics.sentiment import LocalLexiconSentiment, SentimentAnalyzer

MAX_BATCH = 25
MAX_TEXT_BYTES = 5_000
CHARS_PER_UNIT = 100
MIN_UNITS_PER_DOCUMENT = 3
# Languages Comprehend's sentiment supports (the "language" of a tenant's setting).
LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
ENGINES = ("local", "comprehend")

_LOCAL = LocalLexiconSentiment()  # shared: the analyzer recognises it and reuses its word split


def truncate_utf8(text: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The longest prefix of `text` within `max_bytes` of UTF-8, never cutting a character in two."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")  # drops only a trailing partial character


def billed_units(text: str) -> int:
    """Comprehend's billing units for one document: 100 characters each, at least 3."""
    return max(MIN_UNITS_PER_DOCUMENT, math.ceil(len(text) / CHARS_PER_UNIT))


def score_of(sentiment_score: Mapping[str, float]) -> float:
    """Comprehend's confidences (Positive, Negative, Neutral, Mixed; each 0..1) -> -5..+5."""
    value = 5.0 * (float(sentiment_score.get("Positive", 0.0)) - float(sentiment_score.get("Negative", 0.0)))
    return round(min(5.0, max(-5.0, value)), 3)


@dataclass
class ComprehendUsage:
    calls: int = 0  # BatchDetectSentiment requests made
    documents: int = 0  # texts sent
    units: int = 0  # billed units of the texts sent
    fallbacks: int = 0  # texts scored by the local lexicon after an error
    failed_calls: int = 0  # requests that failed as a whole (their texts are in `fallbacks`)


class ComprehendSentiment:
    """`SentimentAnalyzer` on Amazon Comprehend's BatchDetectSentiment; `client` is a boto3 Comprehend
    client (injected, so tests stub it)."""

    def __init__(self, client: Any, language: str = "en", fallback: SentimentAnalyzer = _LOCAL) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"Comprehend sentiment does not support language {language!r}")
        self._client = client
        self.language = language
        self._fallback = fallback
        self.usage = ComprehendUsage()

    def analyze(self, texts: list[str]) -> list[float]:
        scores = [0.0] * len(texts)
        sent = [(i, truncate_utf8(t)) for i, t in enumerate(texts) if t.strip()]
        for start in range(0, len(sent), MAX_BATCH):
            batch = sent[start : start + MAX_BATCH]
            for i, score in zip((i for i, _ in batch), self._batch([t for _, t in batch]), strict=True):
                scores[i] = score
        return scores

    def _batch(self, texts: Sequence[str]) -> list[float]:
        usage = self.usage
        usage.calls += 1
        usage.documents += len(texts)
        usage.units += sum(billed_units(t) for t in texts)
        try:
            response = self._client.batch_detect_sentiment(TextList=list(texts), LanguageCode=self.language)
        except ClientError:
            usage.failed_calls += 1
            usage.fallbacks += len(texts)
            return self._fallback.analyze(list(texts))
        scores: list[float | None] = [None] * len(texts)
        for result in response.get("ResultList", []):
            scores[result["Index"]] = score_of(result.get("SentimentScore", {}))
        # Errored texts, and any the response leaves out, are scored locally.
        missing = [k for k, s in enumerate(scores) if s is None]
        if missing:
            usage.fallbacks += len(missing)
            for k, score in zip(missing, self._fallback.analyze([texts[k] for k in missing]), strict=True):
                scores[k] = score
        return [s for s in scores if s is not None]


def _default_client() -> Any:
    import boto3

    return boto3.session.Session().client("comprehend")


def sentiment_analyzer(
    engine: str = "local", client_factory: Callable[[], Any] | None = None, *, language: str = "en"
) -> SentimentAnalyzer:
    """The analyzer a tenant's `sentiment` setting names: "local" (the offline lexicon, shared) or
    "comprehend" (a client from `client_factory`, boto3's default when None; built only then)."""
    if engine == "local":
        return _LOCAL
    if engine == "comprehend":
        return ComprehendSentiment((client_factory or _default_client)(), language)
    raise ValueError(f"unknown sentiment engine {engine!r} (expected one of {', '.join(ENGINES)})")


class ComprehendEngines:
    """`SentimentEngines` on AWS: "comprehend" analyzers share one client (made on first use); "local" is
    the lexicon. One analyzer per (engine, language), kept for the execution environment."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._analyzers: dict[tuple[str, str], SentimentAnalyzer] = {}

    def _shared_client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def analyzer(self, engine: str, language: str) -> SentimentAnalyzer:
        key = (engine, language)
        if key not in self._analyzers:
            self._analyzers[key] = sentiment_analyzer(engine, self._shared_client, language=language)
        return self._analyzers[key]
