"""Size limits of a tenant's analytics rules, in one place.

A tenant's rules are one stored item (a DynamoDB item stops at 400 KB) and are compiled in every
Lambda that analyses its contacts, so every string, number, list and map in them is bounded. Counts
multiply (categories x matchers x phrases), so the phrases of the whole rule set also share one
budget, and the document as stored is checked last (escaped non-ASCII text is longer than it looks).
tests/unit/test_transcript_limits.py builds a rule set with every limit at its maximum and checks it
stays under the item limit with room to spare.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from .patterns import MAX_PATTERN_LENGTH

MAX_NAME = 64  # category, compliance rule, reason, QA item names; QA targets; the fallback reason
MAX_PHRASE = 200  # characters of one phrase or keyword
MAX_PHRASES = 50  # phrases in one list (a matcher, a disclosure, its triggers, a prohibited list)
MAX_MATCHERS = 10  # per category, for `matchers` and for `absent` each
MAX_CATEGORIES = 100
MAX_COMPLIANCE_RULES = 50
MAX_REASONS = 50
MAX_KEYWORDS = 100  # per reason
MAX_TOTAL_PHRASES = 800  # phrases and keywords of all categories, compliance rules and reasons together
MAX_QA_ITEMS = 50
MAX_CUSTOM_PATTERNS = 50
MAX_PATTERN_NAME = 40
MAX_PATTERN = MAX_PATTERN_LENGTH  # 500 characters
MAX_OFFSET_MS = 86_400_000  # rule times from connection: a day
MAX_EDITS = 2  # words a compliance phrase may be off by (extra, missing or replaced words)
MAX_GAP_MS = 60_000  # silence a compliance phrase may span between two segments of its speaker
MAX_WORD = 40  # characters of a synonym key (one word)
MAX_SYNONYM_KEYS = 20  # words with synonyms, per compliance rule
MAX_SYNONYMS = 5  # equivalents per word
MAX_VARIANTS = 200  # phrases a compliance rule expands to once synonyms are applied (all its lists)
MAX_PLACEHOLDER_KINDS = 10  # redaction kinds one no_read_back rule watches
MAX_WEIGHT = 100.0  # |keyword weight|
MAX_SCORE = 10_000.0  # a reason's min_score
MAX_QA_WEIGHT = 1_000.0  # a QA item's share weight; a penalty is at most -100 points (the whole score)
MAX_QA_SCALE = 1_000.0  # |good_at|, |bad_at| (sentiment -5..5, shares 0..1, interruption counts)
# The rules as stored: compact JSON with non-ASCII escaped (never shorter than its UTF-8 form), under
# DynamoDB's 400 KB item limit with room for the key and attribute names.
MAX_DOCUMENT_CHARS = 340_000

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Phrase = Annotated[str, Field(min_length=1, max_length=MAX_PHRASE)]
OffsetMs = Annotated[int, Strict(), Field(ge=0, le=MAX_OFFSET_MS)]
Word = Annotated[str, Field(min_length=1, max_length=MAX_WORD)]
