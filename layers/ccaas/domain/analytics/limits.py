"""Size limits of a tenant's analytics rules, in one place.

A tenant's rules are one stored item (a DynamoDB item stops at 400 KB) and are compiled in every
Lambda that analyses its contacts, so every string, number, list and map in them is bounded. Counts
multiply (categories x matchers x phrases), so the phrases of the whole rule set also share one
budget, and the document as stored is checked last (escaped non-ASCII text is longer than it looks).
tests/unit/test_transcript_limits.py builds a rule set with every limit at its maximum and checks it
stays under the item limit with room to spare.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, ValidationInfo

from ccaas.domain.vocabulary import is_stored

from .patterns import MAX_PATTERN_LENGTH
from .text import unseen_characters

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


# --- phrases a tenant writes, matched against redacted text -----------------------------------------------
# Analytics rules, guidance rules and alert rules (ccaas.domain.guidance and ccaas.domain.alerts import these)
# all check them here, one way.
def visible_phrase(phrase: str, info: ValidationInfo) -> str:
    """A phrase someone can read and say (text.unseen_characters). The message names neither the phrase nor the
    character; the error's location names the phrase's place (`rules.3.phrases.0`). Rules stored before this
    check load as they are (vocabulary.STORED_DOCUMENT): such a phrase never matched anything."""
    reason = None if is_stored(info.context) else unseen_characters(phrase)
    if reason:
        raise ValueError(reason)
    return phrase


def check_visible_in_map(placed: Iterable[tuple[str, str]], info: ValidationInfo) -> None:
    """`visible_phrase` for the phrases of a map (keywords, synonyms), run by the map's own validator: pydantic
    locates an error in a map by its key, which would echo the key. `placed`: (where, phrase), `where` naming the
    phrase by position ("keyword 2")."""
    if is_stored(info.context):
        return
    for where, phrase in placed:
        reason = unseen_characters(phrase)
        if reason:
            raise ValueError(f"{where} (counting from 0, in the order written): {reason}")


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Phrase = Annotated[str, Field(min_length=1, max_length=MAX_PHRASE), AfterValidator(visible_phrase)]
# A phrase or a word in a map (a key, or a value of a keyed list): the map checks it (check_visible_in_map).
MappedPhrase = Annotated[str, Field(min_length=1, max_length=MAX_PHRASE)]
MappedWord = Annotated[str, Field(min_length=1, max_length=MAX_WORD)]
OffsetMs = Annotated[int, Strict(), Field(ge=0, le=MAX_OFFSET_MS)]
