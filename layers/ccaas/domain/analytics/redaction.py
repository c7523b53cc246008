"""PII redaction, applied to a transcript before anything else touches it.

Numbers are found as *runs* (spoken.py): digit groups ("4111 1111-1111 1111") and spoken numbers
("four one one one, um, one one one one", "five five double zero", "forty one eleven") separated
only by separators, hesitations or a segment boundary — also when the other speaker reads part of
the number back. Each run keeps a map from its digit stream back to the original characters, so a
detector that finds a number in the stream replaces the original span. On runs:

- CARD: every window of whole items holding 13-19 digits that passes the Luhn check (all valid
  windows unioned, so no part of a card is left when other digits are said next to it); a
  Luhn-invalid order number is left alone. Typed groups with an issued prefix are a card wherever
  they sit in the run, whatever keyword comes before it: card numbers are never stored.
- CARD_SECURITY_CODE: 3-4 digits near "cvv", "security code", "digits on the back", or said
  right after a card number (PCI DSS: never stored after authorisation).
- CARD_EXPIRY: MM/YY, "oh four twenty seven", "April 2027" near expiry or card words, or right
  after a card ("4111111111111111 1227 737": what follows a card is read item by item; after a card
  typed with other keyboards' marks, "4111－1111－1111－1111 12／28 123", as if typed with ASCII ones).
- SSN (also typed 3-2-4, see below), ROUTING_NUMBER (ABA checksum), BANK_ACCOUNT (6-17 digits):
  near their words ("social security", "routing", "account number").

Context is the nearest keyword within a few words before (or just after) the number, else the
last keyword of the other speaker's question just before ("and the code on the back?" / a
digression / "568"); words that name something else ("order", "tracking", "dollars", "phone") are
keywords too, so "order number 123456789" stays, and "last four" / "ending in" keep a number said
alone (PCI DSS lets a card's last four be shown) without vetoing a card read out in groups. A keyword joined to
its number, or inside an id, by what joins an id's words (`_ @ + : . ~ / ·`, a dash: "ssn_078051120", "cust.ssn.…")
is read as one written before a blank.
Amounts ("$1,234.56") and times ("10:30") are kept. A card is also found when read with what was
said twice or taken back left out (the agent repeating each group, "no wait, ..." inside it), in
halves parted by an aside, and from its first groups said again around it.

Every detector reads a superscript, subscript or circled digit ("⁴", "₄", "④": what NFKC makes one ASCII digit
of) as that digit, in a copy of the text of the same length (_reading): the original characters are replaced.

The typed identifiers (SSN in 3-2-4 layout, NINO, phone, email) are regexes, run only on the
segments that can hold a match (those with a digit or an "@"); number words are found with
str.find and only short regions around them are tokenised, so a long transcript costs a few C-speed
scans, not a regex pass per pattern. Results carry counts per type and a receipt (kind, segment,
offsets), never the values.

Tenants' own patterns are compiled with RE2 (patterns.py): linear time whatever the pattern, so a
pattern like `(a+)+$` cannot stall redaction. Our fixed patterns below stay on Python's `re`.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from itertools import accumulate, chain
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ccaas.domain.vocabulary import Bool, DomainError, SortedSet, is_stored

from .limits import MAX_CUSTOM_PATTERNS, MAX_PATTERN, MAX_PATTERN_NAME
from .patterns import MAX_TOTAL_PROGRAM_SIZE, compile_tenant_pattern, lazy_regex
from .spoken import (
    HOMOPHONES,
    HUNDRED,
    MULTIPLIERS,
    SEPARATOR_WORDS,
    SEPARATORS,
    TEENS,
    TENS,
    THOUSAND,
    UNITS,
    DigitItem,
    NumberRun,
    ascii_digits,
    candidate_regions,
    number_word_hits,
    runs_in_regions,
)


class PiiType(StrEnum):
    CARD = "CARD"
    SSN = "SSN"  # US social security number
    NINO = "NINO"  # UK national insurance number
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD_EXPIRY = "CARD_EXPIRY"
    CARD_SECURITY_CODE = "CARD_SECURITY_CODE"  # CVV / CVC / CID
    BANK_ACCOUNT = "BANK_ACCOUNT"
    ROUTING_NUMBER = "ROUTING_NUMBER"  # US ABA routing transit number


_CUSTOM_NAME = lazy_regex(r"[A-Za-z][A-Za-z0-9_]{0,39}")  # MAX_PATTERN_NAME characters
MAX_RECEIPT = 1_000  # receipt entries kept per contact; the rest are counted


ALWAYS_DETECTED = frozenset({PiiType.CARD, PiiType.CARD_SECURITY_CODE})


class RedactionConfig(BaseModel):
    """What to redact; tenants add their own patterns (name -> regex), e.g. account or policy numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # CARD is never off and brings CARD_SECURITY_CODE with it: PCI DSS forbids storing a card number in the clear
    # and its code at all. A list without CARD is refused; a stored one (written before this rule: an outside
    # probe turned both off with ["EMAIL"] and then stored a card and its code) loads with both.
    detect: SortedSet[PiiType] = Field(default=frozenset(PiiType), max_length=len(PiiType))  # answered sorted

    @field_validator("detect")
    @classmethod
    def _cards_always(cls, detect: frozenset[PiiType], info: ValidationInfo) -> frozenset[PiiType]:
        if PiiType.CARD not in detect and not is_stored(info.context):
            raise ValueError("CARD is always detected (PCI DSS: card numbers are never stored, their security codes "
                             "never at all): list it (CARD_SECURITY_CODE comes with it)")
        return detect | ALWAYS_DETECTED
    # RE2 syntax, ^ and $ at segment edges (multi-line); replaced by "[NAME]" (upper-cased) and
    # counted under the name.
    custom_patterns: dict[
        Annotated[str, Field(max_length=MAX_PATTERN_NAME)],
        Annotated[str, Field(min_length=1, max_length=MAX_PATTERN)],
    ] = Field(default_factory=dict, max_length=MAX_CUSTOM_PATTERNS)
    # A contact's attribute values that hold a card or social security number are stored redacted. Never off, for
    # the same reason as CARD: false is refused; a stored false (from before this rule) loads as true.
    contact_attributes: Bool = True

    @field_validator("contact_attributes")
    @classmethod
    def _attributes_always(cls, on: bool, info: ValidationInfo) -> bool:
        if not on and not is_stored(info.context):
            raise ValueError("attributes are always read by the card and social security number detectors (PCI DSS: "
                             "card numbers are never stored); they keep phone numbers and addresses")
        return True

    @field_validator("custom_patterns")
    @classmethod
    def _valid_patterns(cls, patterns: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        bounded = not is_stored(info.context)  # the size bounds came in session 25: stored patterns still load
        program_size = 0  # every pattern runs over every redacted text: their costs add up
        for name, pattern in patterns.items():
            if not _CUSTOM_NAME.fullmatch(name):
                raise ValueError(f"custom pattern name {name!r}: letters, digits, _ (max 40)")
            if name.upper() in PiiType.__members__:
                raise ValueError(f"custom pattern name {name!r} clashes with a built-in type")
            compiled = compile_tenant_pattern(pattern, what=f"custom pattern {name!r}", bounded=bounded)
            if compiled.match("") is not None:
                raise ValueError(f"custom pattern {name!r} matches the empty string")
            program_size += compiled.programsize
        if bounded and program_size > MAX_TOTAL_PROGRAM_SIZE:
            raise ValueError(
                f"custom patterns compile to {program_size} RE2 instructions together (at most {MAX_TOTAL_PROGRAM_SIZE})"
            )
        return patterns


class RedactionMark(BaseModel):
    """One replaced span: what kind and where, never the value. `start`/`end` are character offsets
    in the ORIGINAL segment text; `redacted_start`/`redacted_end` locate the placeholder in the
    redacted segment text. A number split over segments gives one mark per segment, sharing `redaction`."""

    model_config = ConfigDict(frozen=True)

    kind: str
    segment: int
    start: int
    end: int
    redacted_start: int
    redacted_end: int
    redaction: int  # ordinal of the redaction within the contact (0-based)


class RedactionResult(BaseModel):
    text: str
    counts: dict[str, int] = Field(default_factory=dict)


class RedactedTexts(BaseModel):
    texts: list[str]
    counts: dict[str, int] = Field(default_factory=dict)
    changed_segments: int = 0
    receipt: list[RedactionMark] = Field(default_factory=list)  # at most MAX_RECEIPT entries
    receipt_dropped: int = 0  # entries beyond MAX_RECEIPT, counted only


# --- numbers: cards, security codes, expiry dates, SSN, bank numbers ---------------------------

_DIGIT_GROUP = lazy_regex(r"\d+")
_ANY_DIGIT = lazy_regex(r"\d")
_SPEAKER_CHANGE = "\x1e"  # boundary between segments of different speakers
_CARD_MIN, _CARD_MAX = 13, 19


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by every card brand."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if position & 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def aba_valid(digits: str) -> bool:
    """The ABA routing number checksum: 3, 7, 1 weights, sum divisible by 10 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    d = [ord(c) - 48 for c in digits]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def ssn_plausible(digits: str) -> bool:
    """Nine digits that could be an issued SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    return (
        len(digits) == 9
        and digits[:3] not in ("000", "666")
        and digits[0] != "9"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
    )


@cache
def _lookalike_digit(char: str) -> str:
    """The ASCII digit NFKC makes of a character that is no decimal digit itself: a superscript, subscript or
    circled digit ("⁴", "₄", "④": "4"); "" for any other character (other scripts' decimal digits, "４", "٤", are
    read as digits already)."""
    if char.isdecimal():
        return ""
    folded = unicodedata.normalize("NFKC", char)
    return str(unicodedata.decimal(folded)) if len(folded) == 1 and folded.isdecimal() else ""


@cache
def _spells_digits(char: str) -> bool:
    """Whether NFKC writes the character as several characters holding a digit ("⑩" "10", "⒈" "1.", "⑴" "(1)")."""
    folded = unicodedata.normalize("NFKC", char)
    return len(folded) > 1 and any(c.isdecimal() for c in folded)


def _reading(text: str) -> tuple[str, str, list[str]]:
    """How the detectors read `text`, each the same length as it, so every offset holds and the original characters
    are what is replaced: `text` with each character NFKC reads as one decimal digit written as that ASCII digit
    ("card ⁴¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹", "ssn ⁰⁷⁸-⁰⁵-¹¹²⁰": every detector reads them as the digits they are); that lower-cased
    with compatibility letters as theirs, where the words (and the number runs) are read; and the characters NFKC
    writes as several holding a digit ("⑩", "⒈"), which only the NFKC pass for cards reads (_obscured_cards). Every
    such character changes under NFKC: a text in NFKC (nearly all) is read as it is, after one C-speed check."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, _lowered(text), []
    distinct = [c for c in set(text) if not c.isascii()]  # per distinct character: a long text is C-speed passes
    digits = {ord(c): digit for c in distinct if (digit := _lookalike_digit(c))}
    letters = {ord(c): letter for c in distinct if (letter := _as_letter(c)) != c}
    read = text.translate(digits) if digits else text
    return read, _lowered(read.translate(letters)), [c for c in distinct if _spells_digits(c)]


def _numeric_tokens(text: str, windows: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, digits) of digit groups, optionally only inside the given (start, end) windows."""
    if windows is None:
        tokens = [(m.start(), m.end(), m.group()) for m in _DIGIT_GROUP.finditer(text)]
    else:
        tokens = [(m.start(), m.end(), m.group()) for s, e in windows for m in _DIGIT_GROUP.finditer(text, s, e)]
    if not text.isascii():  # \d also matches other scripts' digits ("４１１１"): Luhn needs 0-9
        tokens = [(s, e, d if d.isascii() else "".join(str(int(c)) for c in d)) for s, e, d in tokens]
    return tokens


def _card_item_ranges(run: NumberRun, strict: Callable[[], bool] | None = None) -> list[tuple[int, int]]:
    """Index ranges [first, last] of the run's items that are card numbers: Luhn-valid windows of
    13-19 digits.

    Windows start and end on item boundaries (ASR and people group digits, they do not split a
    group). Windows that start and end where the speaker paused (a comma, "um", a segment
    boundary, the run's edges) are preferred: a number runs on into the next segment's card, and a
    window taking the end of one and the start of the other is Luhn-valid one time in ten. When no
    valid window is aligned so, windows aligned on one side are taken ("press 7 4111 1111 1111
    1111"), unless `strict()` says the number was introduced as an order or tracking number (a
    window inside it is Luhn-valid by chance). Overlapping windows are resolved to the set covering
    the most digits.

    Typed digit groups are no chance windows: whole groups with an issued prefix ("order 7781 4111
    1111 1111 1111", "ref 123 4111111111111111 999") are a card wherever they sit and whatever the
    run was introduced as, and no other window may leave part of them in clear.
    """
    items = run.items
    size = len(items)
    aligned: list[tuple[int, int]] = []
    loose: list[tuple[int, int]] = []
    issued: list[tuple[int, int]] = []
    stream = run.digits
    # many windows (digits said one by one): O(1) checks on prefix sums; few: check each directly
    check = _LuhnWindows(stream).valid if size > 6 else lambda a, b: luhn_valid(stream[a:b])
    offsets, said = [0], [0]  # digits and spoken items before each item
    for item in items:
        offsets.append(offsets[-1] + len(item.digits))
        said.append(said[-1] + item.spoken)
    for first in range(size):
        starts_aligned = first == 0 or items[first].pause
        begin = offsets[first]
        for last in range(first, size):
            length = offsets[last + 1] - begin
            if length > _CARD_MAX:
                break
            if length >= _CARD_MIN and check(begin, offsets[last + 1]):
                ends_aligned = last == size - 1 or items[last + 1].pause
                if said[last + 1] == said[first] and _card_prefix(stream[begin : begin + 4]):
                    issued.append((first, last))
                if starts_aligned and ends_aligned:
                    aligned.append((first, last))
                elif starts_aligned or ends_aligned:
                    loose.append((first, last))
    if issued:
        # over a typed card, a chance window loses: one touching a pause or the run's edge beats one
        # that does not ("+1 555 123 4567 4111 1111 1111 1111"), any beats an unprefixed one ("55 4111 ...")
        edged = set(aligned).union(loose).intersection(issued)
        near = {k for first, last in edged for k in range(first, last + 1)}
        issued = [w for w in issued if w in edged or near.isdisjoint(range(w[0], w[1] + 1))]
        near = {k for first, last in issued for k in range(first, last + 1)}
        windows = [*issued, *(w for w in aligned if near.isdisjoint(range(w[0], w[1] + 1)))]
    else:
        windows = aligned or (loose if not loose or strict is None or not strict() else [])
    if len(windows) > 1:
        starting: dict[int, list[tuple[int, int]]] = {}
        for window in windows:
            starting.setdefault(window[0], []).append(window)
        best = _best_cover(windows, [len(i.digits) for i in items])
        windows = [_shorter_card(items, w, starting[w[0]]) for w in best]
        covered = {k for first, last in windows for k in range(first, last + 1)}
        windows += [w for w in issued if not covered.issuperset(range(w[0], w[1] + 1))]  # no card part left
    ranges: list[tuple[int, int]] = []
    for first, last in sorted(windows):  # overlapping windows merge; adjacent ones are two cards
        if ranges and first <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
        else:
            ranges.append((first, last))
    return ranges


class _LuhnWindows:
    """The Luhn check of any slice of one digit string in O(1): prefix sums of the digits and of
    their Luhn doubles, by position parity (a digit is doubled when an odd number of digits of the
    slice follow it)."""

    __slots__ = ("plain", "doubled")

    def __init__(self, digits: str) -> None:
        plain = [[0], [0]]  # [parity] -> prefix sums of digits at positions of that parity
        doubled = [[0], [0]]
        for position, char in enumerate(digits):
            d = ord(char) - 48
            for parity in (0, 1):
                hit = position & 1 == parity
                plain[parity].append(plain[parity][-1] + (d if hit else 0))
                doubled[parity].append(doubled[parity][-1] + (_DOUBLED[d] if hit else 0))
        self.plain, self.doubled = plain, doubled

    def valid(self, start: int, end: int) -> bool:
        """Luhn check of digits[start:end]."""
        kept = (end - 1) & 1  # positions with the last digit's parity are not doubled
        plain, doubled = self.plain[kept], self.doubled[kept ^ 1]
        return (plain[end] - plain[start] + doubled[end] - doubled[start]) % 10 == 0


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def _shorter_card(items: list, window: tuple[int, int], windows: list[tuple[int, int]]) -> tuple[int, int]:
    """A valid window starting where `window` does but ending at a longer pause than any inside
    it ("4111 1111 1111 1111, 737": the card, then its security code) rather than the longer one
    ("6011, 4833, 8014, 1269, 061": a 19-digit card read in groups)."""
    first, last = window
    for other in sorted(windows):
        if other[0] == first and other[1] < last:
            inside = max((items[k].pause for k in range(first + 1, other[1] + 1)), default=0)
            if items[other[1] + 1].pause > inside:
                return other
    return window


def _best_cover(windows: list[tuple[int, int]], sizes: list[int]) -> list[tuple[int, int]]:
    """Non-overlapping windows covering the most digits: two cards said one after the other stay
    two cards even when a window across their junction is Luhn-valid too."""
    windows = sorted(set(windows), key=lambda w: (w[1], w[0]))
    weight = []
    for first, last in windows:
        digits = sum(sizes[first : last + 1])
        weight.append(digits)
    best = [0] * (len(windows) + 1)  # best[j]: the most weight using the first j windows
    take = [False] * len(windows)
    for j, (first, _last) in enumerate(windows):
        p = j  # windows[:p] end before this one starts
        while p > 0 and windows[p - 1][1] >= first:
            p -= 1
        with_it = best[p] + weight[j]
        take[j] = with_it > best[j]
        best[j + 1] = max(best[j], with_it)
    chosen: list[tuple[int, int]] = []
    j = len(windows)
    while j > 0:
        if take[j - 1]:
            first = windows[j - 1][0]
            chosen.append(windows[j - 1])
            while j > 0 and windows[j - 1][1] >= first:
                j -= 1
        else:
            j -= 1
    return chosen


def _outside(run: NumberRun, taken: list[tuple[int, int]]) -> list[NumberRun]:
    """The run split around items that lie inside `taken` (start, end) spans."""
    if not any(s < run.end and run.start < e for s, e in taken):
        return [run]
    pieces: list[NumberRun] = []
    current: list = []
    for item in run.items:
        if any(s < item.end and item.start < e for s, e in taken):
            if current:
                pieces.append(NumberRun(current, run.marks))
            current = []
        else:
            current.append(item)
    if current:
        pieces.append(NumberRun(current, run.marks))
    return pieces


def _number_runs(lowered: str, numeric: list[tuple[int, int, str]]) -> list[NumberRun]:
    return runs_in_regions(lowered, candidate_regions(lowered, numeric), min_digits=2)


def contains_luhn_valid_card(text: str) -> bool:
    """True when `text` still holds something the redactor would replace as a card number."""
    text, lowered, _ = _reading(text)
    return any(
        _card_item_ranges(run, lambda run=run: _context(lowered, run.start, run.end) in _KEEPS)
        for run in _number_runs(lowered, _numeric_tokens(text))
        if len(run.digits) >= _CARD_MIN
    )


def _lower_same_length(text: str) -> str:
    """Lower-cased text with positions unchanged (a few letters, e.g. "\u0130", grow when lowered), in which
    the words are read: a compatibility letter is its NFKC letter ("ＣＶＶ", "𝐜𝐯𝐯": "cvv"), so a keyword typed
    in full-width or styled letters names its number as the ASCII one does, and a superscript, subscript or circled
    digit is its ASCII digit (_reading). Other digits and marks stay as typed: the number runs read those themselves."""
    return _reading(text)[1]


def _lowered(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered


def _as_letter(char: str) -> str:
    """A compatibility letter's one-letter NFKC form, else the character ("ﬁ" stays: two letters)."""
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 and folded.isalpha() else char


# Context: the nearest of these keywords before a number (or just after it) says what it is.
# Looked up word by word (a dict per phrase length), longest phrase first.
_KEYWORDS: dict[str, str] = {
    **dict.fromkeys("cvv cvv2 cvc cvc2 csc cvn cid".split(), "cvv"),
    **dict.fromkeys("expiry expires expire expired expiration expiring exp".split(), "exp"),
    **dict.fromkeys(
        "order orders tracking reference ref invoice confirmation ticket case claim policy zip zipcode postcode "
        "postal dollar dollars bucks pound pounds euro euros cents pence quid price total amount balance "
        "minute minutes hour hours seconds day days week weeks month months year years o'clock oclock room "
        "flight model serial pin item items quantity percent apartment suite street avenue road member "
        "membership employee badge seat gate page version extension ext".split(),
        "keep",
    ),
    "ending": "tail",
    **dict.fromkeys("card cards credit debit visa mastercard amex discover maestro".split(), "card"),
    **dict.fromkeys("ssn s.s.n social socials".split(), "ssn"),
    **dict.fromkeys("routing aba rtn".split(), "routing"),
    **dict.fromkeys("acct account's checking savings chequing iban".split(), "account"),
    **dict.fromkeys("phone mobile cell telephone landline callback cellphone".split(), "phone"),
}
_KEY_PAIRS: dict[str, str] = {
    **dict.fromkeys(
        ["security code", "security number", "security digits", "verification code", "verification number",
         "verification value", "card code", "sec code", "the back", "the front", "three digits", "3 digits",
         "digit code"],
        "cvv",
    ),
    **dict.fromkeys(["valid thru", "valid through", "valid until", "valid till", "good thru", "good through",
                     "end date"], "exp"),
    **dict.fromkeys(["customer number", "payment of", "order number"], "keep"),
    # the tail of a card (PCI DSS lets the last four be shown) or an SSN: kept when said alone, no veto
    # on a card read out in groups ("and the last four?" / "6457")
    **dict.fromkeys(["last four", "last 4", "last digits", "ends in", "ends with"], "tail"),
    **dict.fromkeys(["master card", "american express", "long number", "card number"], "card"),
    **dict.fromkeys(["social security", "ss number", "taxpayer id", "s n"], "ssn"),
    **dict.fromkeys(["transit number"], "routing"),
    **dict.fromkeys(["account number", "account no", "account num", "account #", "bank account", "account is"],
                    "account"),
    **dict.fromkeys(["call me", "call back", "reach me", "contact number", "phone number", "my number", "text me"],
                    "phone"),
}  # fmt: skip
_KEY_TRIPLES: dict[str, str] = {"social security number": "ssn", "social security no": "ssn"}
_STRIP = ".,?!;:()\"'[]-#=*\u2026"  # typed notes: "cvv#123", "cvv=123"
_STRIP += "".join(chr(ord(c) + 0xFEE0) for c in _STRIP[:-1]) + "\u3001\u3002\u300c\u300d"  # "ＣＶＶ：", "ＣＶＶ、"
# What joins the words of an id, a handle or a note ("ssn_078051120", "SSN@…", "cust+ssn+…", "card/4111…",
# "ssn–078051120", "ssn·…"): a keyword joined so to its number, or inside an id, is read as a word, as one before a
# blank is (the separators an SSN's groups take, what an id holds, and their full-width forms; "." in _words).
_JOINERS = "_@+~/:*#=-\u00b7\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_AS_BLANKS = str.maketrans(dict.fromkeys(_JOINERS + "".join(chr(ord(c) + 0xFEE0) for c in _JOINERS if c < "\x7f"), " "))
_KEEPS = ("keep", "tail")  # contexts that keep a number said alone
_BEFORE_WORDS, _AFTER_WORDS = 14, 7  # words of context searched before / after a number
_BEFORE_CHARS = 110


_PHRASE_ENDS = frozenset(p.rsplit(" ", 1)[1] for p in (*_KEY_PAIRS, *_KEY_TRIPLES))


def _keyword(words: list[str], k: int) -> str | None:
    """The kind of a keyword phrase ending at words[k]."""
    word = words[k]
    if word in _PHRASE_ENDS:
        if k >= 2:
            kind = _KEY_TRIPLES.get(f"{words[k - 2]} {words[k - 1]} {word}")
            if kind is not None:
                return kind
        if k >= 1:
            kind = _KEY_PAIRS.get(f"{words[k - 1]} {word}")
            if kind is not None:
                return kind
    return _KEYWORDS.get(word)


def _words(text: str) -> list[str]:
    """The words of `text` as keywords are looked for in them: split at blanks and at what joins an id's words, and
    at a full stop inside a word that is no keyword ("cust.ssn.…", not "s.s.n")."""
    words = text.translate(_AS_BLANKS).split()
    if "." not in text and "\uff0e" not in text:
        return words
    split: list[str] = []
    for word in words:
        inner = word.strip(_STRIP)
        if ("." in inner or "\uff0e" in inner) and inner not in _KEYWORDS:
            split += word.replace("\uff0e", " ").replace(".", " ").split()
        else:
            split.append(word)
    return split


def _context_words(words: list[str]) -> list[str]:
    """Words as keywords are looked up: punctuation stripped, a possessive or "is" contraction cut
    ("my social's 078...", "routing's", "card’s")."""
    out = []
    for word in words:
        word = word.strip(_STRIP)
        if word.endswith(("'s", "’s")) and word[:-2] not in ("it", "that", "what", "here", "there"):
            word = word[:-2]
        out.append(word)
    return out


def _context(lowered: str, start: int, end: int) -> str | None:
    """The kind of the nearest keyword before (or, at double the distance, after) a number."""
    before = _context_words(_words(lowered[max(0, start - _BEFORE_CHARS) : start])[-_BEFORE_WORDS:])
    kind, distance = None, _BEFORE_WORDS + 1
    for k in range(len(before) - 1, -1, -1):
        found = _keyword(before, k)
        if found is not None:
            kind, distance = found, len(before) - k
            break
    after = _context_words(_words(lowered[end : end + 60])[:_AFTER_WORDS])
    for k in range(len(after)):
        if 2 * (k + 1) >= distance:
            break
        found = _keyword(after, k)
        if found is not None:
            return found
    return kind if kind is not None else _question(lowered, start)


_QUESTION_REACH = 240  # characters of the answering turn before the number ("hang on, my dog..., it's 568")


def _question(lowered: str, start: int) -> str | None:
    """The kind of the last keyword of the other speaker's turn just before this one: the answer to
    "and the code on the back?" may come after a digression longer than the context window."""
    turn = lowered.rfind(_SPEAKER_CHANGE, max(0, start - _QUESTION_REACH), start)
    if turn == -1:
        return None
    asked = max(lowered.rfind("\n", 0, turn), lowered.rfind(_SPEAKER_CHANGE, 0, turn)) + 1
    words = _context_words(_words(lowered[max(asked, turn - _BEFORE_CHARS) : turn]))
    for k in range(len(words) - 1, -1, -1):
        found = _keyword(words, k)
        if found is not None:
            return found
    return None


def _mentions(lowered: str, start: int, kind: str) -> bool:
    """Whether any keyword of `kind` (not only the nearest) is among the words before `start`."""
    before = _context_words(_words(lowered[max(0, start - _BEFORE_CHARS) : start])[-_BEFORE_WORDS:])
    return any(_keyword(before, k) == kind for k in range(len(before)))


# Words that may stand between a card number and its security code or expiry date.
_BRIDGE = frozenset(
    "and then the code is its it s security cvv cvc csc expiry expires exp expiration date on back "
    "with my card number that it's valid thru through um uh er erm ah hmm so okay ok yeah yes sorry "
    "like you know let me see oh thanks thank great perfect got what what's whats please can i have need".split()
)  # "thanks, and the code?" / "123": a chat's pleasantries between a card and its code bridge them too
_WORD = lazy_regex(r"[a-z']+")
_MONTH_BEFORE = lazy_regex(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,? (?:of )?$"
)
_AMOUNT_AFTER = lazy_regex(r"\s?(?:%|percent\b|dollars?\b|bucks\b|pounds?\b|euros?\b|cents\b|pence\b|quid\b|k\b)")


def _bridged(lowered: str, anchor: int, start: int) -> bool:
    """Only a few bridging words ("and the code is") between a card-related number and `start`."""
    gap = lowered[anchor:start]
    if len(gap) > 60:
        return False
    return all(w in _BRIDGE for w in _WORD.findall(gap))


def _is_amount_or_time(lowered: str, run: NumberRun) -> bool:
    before = lowered[max(0, run.start - 2) : run.start]
    if "$" in before or "\u00a3" in before or "\u20ac" in before:
        return True
    if _AMOUNT_AFTER.match(lowered, run.end):
        return True
    return ":" in run.marks and len(run.digits) <= 4


def _expiry_shape(digits: str) -> bool:
    """MYY, MMYY, MYYYY or MMYYYY with a real month and a plausible year (20..49)."""
    n = len(digits)
    if n in (3, 5):
        month, year = digits[:1], digits[1:]
    elif n in (4, 6):
        month, year = digits[:2], digits[2:]
    else:
        return False
    if not 1 <= int(month) <= 12:
        return False
    if len(year) == 4:
        return year[:2] == "20" and 20 <= int(year[2:]) <= 49
    return 20 <= int(year) <= 49


def _month_start(lowered: str, run: NumberRun) -> int | None:
    """Start of a month name just before a year ("april 2027", "april of twenty seven")."""
    digits = run.digits
    year = digits if len(digits) == 2 else digits[2:] if len(digits) == 4 and digits[:2] == "20" else ""
    if not year or not 20 <= int(year) <= 49:
        return None
    m = _MONTH_BEFORE.search(lowered, max(0, run.start - 16), run.start)
    return m.start() if m is not None else None


# A card split over segments with talk between its parts ("6011 1111" / "sorry, and then?" /
# "1111 1117"): parts at most this many characters and runs apart are joined and Luhn-checked.
_SPLIT_CARD_GAP, _SPLIT_CARD_RUNS = 200, 3
# Two halves of a card in one segment with an aside between them: at most this many characters apart.
_ASIDE_GAP = 60
# Fragments of a card's start said or read back around it: at most this many characters away.
_FRAGMENT_GAP = 250
# An SSN or routing number said in 2-3 groups over segments: gaps of at most this many characters.
_SPLIT_ID_GAP, _SSN_SPLITS = 120, {(3, 2, 4), (3, 6), (5, 4)}
_SPLIT_CARD_PARTS = 6  # groups said one per segment ("4111" / "yep" / "1111" / ...): at most this many
# A group said and taken back just before a card ("four one one two, no sorry, four one one one, ...")
# is part of the card read-out: these words may bridge it, one of _CORRECTIONS must be among them.
_CORRECTIONS = frozenset("not no sorry actually mean wait again scratch oops correction rather".split())
_CORRECTION_BRIDGE = _CORRECTIONS | frozenset("so i i'm it's its it is that that's let me start um uh er okay ok "
                                              "the first one".split())  # fmt: skip
_CORRECTED_MAX_DIGITS, _CORRECTED_GAP = 8, 40
# ASR writes a leading digit as its homophone ("for one one one, ..."); tried only when the run
# alone is no card and the homophone makes it a Luhn-valid one.
_HOMOPHONE_BEFORE = lazy_regex(r"(?:^|[^a-z'])(for|to|too|ate)[ ,]{1,2}$")
_HOMOPHONES = {"for": "4", "to": "2", "too": "2", "ate": "8"}


def _segment_pieces(lowered: str, run: NumberRun) -> list[NumberRun]:
    """The run cut where it crosses a segment boundary."""
    return [run.sub(first, end - 1) for first, end in _piece_bounds(lowered, run)]


def _reread_card_ranges(lowered: str, run: NumberRun, strict: Callable[[], bool]) -> list[list[tuple[int, int]]]:
    """Card ranges of the run read without what was said twice or taken back, which is redacted with
    the card around it: a group corrected ("oh three four six, no wait, oh three four three"), the
    segments the other speaker reads back as they come ("3782" / "3782" / "822463" / "822463" / ...)."""
    items = run.items
    readings: list[set[int]] = []  # item indexes left out of each reading
    for k, item in enumerate(items):
        if item.corrects:  # the group said before the "sorry"
            readings.append(set(range(max((j for j in range(k) if items[j].pause), default=0), k)))
    if _SPEAKER_CHANGE in lowered[run.start : run.end]:
        readback: set[int] = set()
        pieces = _piece_bounds(lowered, run)
        for (a, b), (c, d) in zip(pieces, pieces[1:]):
            gap = lowered[items[b - 1].end : items[c].start]
            if _SPEAKER_CHANGE in gap and run.sub(a, b - 1).digits == run.sub(c, d - 1).digits:
                readback.update(range(c, d))
        if readback:
            readings.append(readback)
    found = []
    for gone in readings:
        kept = [k for k in range(len(items)) if k not in gone]
        if not kept:
            continue
        ranges = []
        for a, b in _card_item_ranges(NumberRun([items[k] for k in kept], run.marks), strict):
            first, last = kept[a], kept[b]
            while last + 1 in gone:  # a read-back right after the card is the card again
                last += 1
            ranges.append((first, last))
        if any(first <= k <= last for first, last in ranges for k in gone):  # the card goes through them
            found.append(ranges)
    return found


def _piece_bounds(lowered: str, run: NumberRun) -> list[tuple[int, int]]:
    """[first, end) item indexes of the run's pieces in each segment."""
    items, bounds, first = run.items, [], 0
    for k in range(1, len(items)):
        gap = lowered[items[k - 1].end : items[k].start]
        if "\n" in gap or _SPEAKER_CHANGE in gap:
            bounds.append((first, k))
            first = k
    bounds.append((first, len(items)))
    return bounds


def _is_amex(digits: str) -> bool:
    """An American Express number: its security code has 4 digits."""
    return len(digits) == 15 and digits[:2] in ("34", "37")


def _card_prefix(digits: str) -> bool:
    """Digits an issued card number can start with: 3 (Amex, Diners, JCB), 4 (Visa), 5 and
    2221-2720 (Mastercard), 6 (Discover, Maestro, UnionPay)."""
    return digits[:1] in ("3", "4", "5", "6") or "2221" <= digits[:4] <= "2720"


class _Numbers:
    """Classifies the number runs of one text; `spans` gets (start, end, kind)."""

    def __init__(self, lowered: str, typed_cards: Sequence[tuple[int, int, str]] = (),
                 hidden_cards: Sequence[tuple[int, int]] = ()) -> None:
        self.lowered = lowered
        # cards redacted before, read as stand-ins (Redactor.redact_many's `hidden_cards`), (start, end) in order
        self.hidden_ends = sorted(end for _, end in hidden_cards)
        self.spans: list[tuple[int, int, PiiType]] = []
        self.anchor: int | None = None  # end of the last card / expiry / security code
        self.anchor_amex = False
        # cards no run reads (_obscured_cards: "4111－1111－1111－1111", "visa4111..."), (start, end, digits) in
        # order and apart: what follows them is read as what follows a card the runs found
        self.typed_ends = [end for _, end, _ in typed_cards]
        self.typed_amex = [_is_amex(digits) for _, _, digits in typed_cards]
        self.loose: list[NumberRun] = []  # runs nothing claimed, in order: parts of split cards?
        # runs read as a card's expiry or code: the last group of a card typed over two messages ("4111 1111 1111" /
        # "1111 cvv 123") is read as a code until the split card is found (_split_cards)
        self.details: list[NumberRun] = []
        self.cards: list[tuple[int, int]] = []
        self.card_runs: list[NumberRun] = []

    def finish(self) -> None:
        """Second look at what no detector claimed, once every run has been seen."""
        self._split_cards()
        self._corrected_groups()
        self._card_fragments()
        self._split_identifiers()
        self._card_remainders()

    def _card_remainders(self) -> None:
        """Digits typed or said after a card redacted before (a stand-in: its digits are gone), in a later segment
        with only bridging words between, that no detector claimed: the rest of a card whose first digits went into
        that placeholder. A card said over two chat messages after another card ("my card is 4111 1111 1111 1111" /
        "four one one one one one one one" / "one one one one one one one one"): the second message is redacted as
        part of what follows the first card, and the third's 8 digits could only be joined with digits now gone. No
        Luhn check can clear them, so they are a card's (its last four alone are kept: PCI DSS lets them be shown)."""
        if not self.hidden_ends:
            return
        lowered = self.lowered
        claimed: set[tuple[int, int]] = set()  # what follows a remainder, read as what follows a card (below)
        for run in self._unclaimed():
            if not 4 <= len(run.digits) <= _CARD_MAX - 4 or (run.start, run.end) in claimed:
                continue
            k = bisect.bisect_right(self.hidden_ends, run.start)
            if not k:
                continue
            hidden_end = self.hidden_ends[k - 1]
            gap = lowered[hidden_end : run.start]
            if "\n" not in gap and _SPEAKER_CHANGE not in gap:
                continue  # the digits right after a placeholder, in its own message, were read with it
            # bridged from the nearest card before it: the hidden one, or one read after it
            anchor = max((e for s, e, kind in self.spans if kind is PiiType.CARD and hidden_end <= e <= run.start),
                         default=hidden_end)
            if _bridged(lowered, anchor, run.start) and _context(lowered, run.start, run.end) not in _KEEPS:
                self.spans.append((run.start, run.end, PiiType.CARD))
                self._details_after(run.end)
                claimed = {(s, e) for s, e, _ in self.spans}

    def _unclaimed(self) -> list[NumberRun]:
        claimed = {(s, e) for s, e, _ in self.spans}
        return [run for run in self.loose if (run.start, run.end) not in claimed]

    def _card_fragments(self) -> None:
        """The start of a card said, or read back, in the segments around it ("six oh one one" / "sorry
        you cut out, six oh one one and then?" / the whole number): part of the card read-out. Only
        starts: the last four alone is what PCI DSS lets anyone see."""
        if not self.card_runs:
            return
        lowered = self.lowered
        cards = sorted(self.card_runs, key=lambda card: card.start)
        starts = [card.start for card in cards]
        for run in self._unclaimed():
            if len(run.digits) < 4:
                continue
            # cards near the run only (a card run spans at most a few hundred characters)
            low = bisect.bisect_left(starts, run.start - 4 * _FRAGMENT_GAP)
            for card in cards[low : bisect.bisect_right(starts, run.end + _FRAGMENT_GAP)]:
                gap = lowered[run.end : card.start] if run.end <= card.start else lowered[card.end : run.start]
                if (
                    len(gap) <= _FRAGMENT_GAP
                    and ("\n" in gap or _SPEAKER_CHANGE in gap)
                    and len(run.digits) < len(card.digits)
                    and card.digits.startswith(run.digits)
                    and _context(lowered, run.start, run.end) != "keep"
                ):
                    self.spans.append((run.start, run.end, PiiType.CARD))
                    break

    def _split_identifiers(self) -> None:
        """An SSN or a routing number said in groups over segments, with "okay" / "mhm" between them
        ("two eight seven" / "okay" / "six five" / "mhm" / "four four three one")."""
        lowered = self.lowered
        loose = self._unclaimed()
        i = 0
        while i < len(loose):
            found = None
            digits, sizes = loose[i].digits, [len(loose[i].digits)]
            for j in range(i + 1, min(len(loose), i + 3)):
                gap = lowered[loose[j - 1].end : loose[j].start]
                if len(gap) > _SPLIT_ID_GAP or ("\n" not in gap and _SPEAKER_CHANGE not in gap):
                    break
                digits += loose[j].digits
                sizes.append(len(loose[j].digits))
                if len(digits) > 9:
                    break
                if len(digits) < 9:
                    continue
                context = _context(lowered, loose[i].start, loose[i].end)
                if context == "ssn" and tuple(sizes) in _SSN_SPLITS and ssn_plausible(digits):
                    found = (j, PiiType.SSN)
                elif context == "routing" and aba_valid(digits):
                    found = (j, PiiType.ROUTING_NUMBER)
                break
            if found is None:
                i += 1
                continue
            last, kind = found
            self.spans += [(run.start, run.end, kind) for run in loose[i : last + 1]]
            i = last + 1

    def _split_cards(self) -> None:
        """Card parts in different segments with other talk between them: an agent's "go on", a
        read-back of the first half, a question. Both parts are redacted when together they make a
        Luhn-valid card number that nothing names an order or a reference."""
        lowered = self.lowered
        # parts found already: the segments' pieces of cards said over consecutive segments ("4111
        # 1111" / "1111 1111?" read back, then "no, 1111 1111": the correction pairs with the start)
        parts = [
            (piece, True)
            for run in self.loose
            for piece in (_segment_pieces(lowered, run) if len(run.digits) > 8 else (run,))
            if 4 <= len(piece.digits) <= _CARD_MAX - 4
        ]  # a run over segments is its segments' pieces: "5555" / "5555" read back / ...
        for card in self.card_runs:
            parts += [(piece, False) for piece in _segment_pieces(lowered, card) if len(piece.digits) >= 4]
        parts += [(run, True) for run in self.details if len(run.digits) == 4]  # a card's last group read as a code
        parts.sort(key=lambda part: part[0].start)
        loose = [run for run, _ in parts]
        claimed: set[int] = set()
        for i in range(len(loose)):
            # three or more groups in a row, each in its own segment ("4111" / "yep" / "1111" / "okay" ...);
            # the agent may repeat each group as it comes ("4111" / "4111" / "1111" / "1111, yep" ...)
            digits, last, said, repeats = loose[i].digits, i, 1, []
            for j in range(i + 1, min(len(loose), i + 1 + 2 * _SPLIT_CARD_PARTS)):
                gap = lowered[loose[last].end : loose[j].start]
                if len(gap) > _SPLIT_CARD_GAP or ("\n" not in gap and _SPEAKER_CHANGE not in gap):
                    break
                last = j
                if (
                    loose[j].digits == loose[j - 1].digits
                    and gap.count(_SPEAKER_CHANGE) == 1
                    and "\n" not in gap
                    and j - 1 not in repeats
                ):
                    if _context(lowered, loose[j].start, loose[j].end) not in _KEEPS:
                        repeats.append(j)  # the other speaker reads the group back: no new digits
                    continue
                digits, said = digits + loose[j].digits, said + 1
                if len(digits) > _CARD_MAX or said > _SPLIT_CARD_PARTS:
                    break
                group = [k for k in range(i, j + 1) if k not in repeats]
                if (
                    said >= 3
                    and len(digits) >= _CARD_MIN
                    and any(parts[k][1] for k in range(i, j + 1))
                    and _card_prefix(digits)
                    and luhn_valid(digits)
                    and all(_context(lowered, loose[k].start, loose[k].end) != "keep" for k in group)
                ):
                    claimed.update(k for k in range(i, j + 1) if parts[k][1] and (k in group or k in repeats))
        for i, first in enumerate(loose):
            for j in range(i + 1, min(len(loose), i + 1 + _SPLIT_CARD_RUNS)):
                second = loose[j]
                if not (parts[i][1] or parts[j][1]):
                    continue
                gap = lowered[first.end : second.start]
                if len(gap) > _SPLIT_CARD_GAP:
                    break
                digits = first.digits + second.digits
                if "\n" not in gap and _SPEAKER_CHANGE not in gap and not (
                    len(gap) <= _ASIDE_GAP and len(digits) >= 15 and min(len(first.digits), len(second.digits)) >= 4
                    and not _ANY_DIGIT.search(gap) and not number_word_hits(gap)
                ):
                    continue  # same segment: one run unless an aside ("let me grab my glasses") parts them
                if (
                    _CARD_MIN <= len(digits) <= _CARD_MAX
                    and _card_prefix(digits)
                    and luhn_valid(digits)
                    and _context(lowered, first.start, first.end) != "keep"
                    and _context(lowered, second.start, second.end) != "keep"
                ):
                    claimed.update(k for k in (i, j) if parts[k][1])
        found = [loose[k] for k in sorted(claimed)]
        if not found:
            return
        taken = {(run.start, run.end) for run in found}
        # a group read as a code that turned out to end a card: a card's (no longer its code), and what follows the
        # split card ("1111 and the code is 123") is read as what follows a card
        self.spans = [span for span in self.spans if (span[0], span[1]) not in taken]
        self.spans += [(run.start, run.end, PiiType.CARD) for run in found]
        self._details_after(max(run.end for run in found))

    def _details_after(self, card_end: int) -> None:
        """A split card's expiry and code, read once the card is found (the runs after it were read before)."""
        claimed = {(s, e) for s, e, _ in self.spans}
        self.anchor, self.anchor_amex = card_end, False
        for run in [r for r in self.loose if r.start >= card_end and (r.start, r.end) not in claimed]:
            if not self._after_card(run.start):
                break
            if not self._classify(run) and not (len(run.items) > 1 and self._card_details(run)):
                break

    def _corrected_groups(self) -> None:
        """Groups said and corrected just before a card join the card's redaction."""
        claimed = {(s, e) for s, e, _ in self.spans}
        loose = [run for run in self.loose if (run.start, run.end) not in claimed]
        ends = [run.end for run in loose]  # in text order: runs are classified as they come
        for card_start, card_end in self.cards:
            start, corrected = card_start, False
            for run in reversed(loose[: bisect.bisect_right(ends, card_start)]):
                gap = self.lowered[run.end : start]
                if len(gap) > _CORRECTED_GAP:  # before splitting it: the last loose run may be far back
                    break
                words = {w.strip(_STRIP) for w in gap.split()} - {""}
                if (
                    "\n" in gap
                    or _SPEAKER_CHANGE in gap
                    or not 3 <= len(run.digits) <= _CORRECTED_MAX_DIGITS
                    or not words <= _CORRECTION_BRIDGE
                ):
                    break
                corrected = corrected or bool(words & _CORRECTIONS)
                start = run.start
            if corrected:
                self.spans.append((start, card_end, PiiType.CARD))

    def guessed(self, run: NumberRun) -> None:
        """A run read with homophones as digits ("four to four to ...", "the CVV?" / "to for six"):
        only a card number or a security code named so counts, one that needs a homophone (the rest
        the plain reading found)."""
        if 3 <= len(run.digits) <= 4 and any(item.guess for item in run.items):
            if not all(item.guess for item in run.items) and _context(self.lowered, run.start, run.end) == "cvv":
                self.spans.append((run.start, run.end, PiiType.CARD_SECURITY_CODE))
            return
        if len(run.digits) < _CARD_MIN:
            return
        strict = lambda: _context(self.lowered, run.start, run.end) in _KEEPS  # noqa: E731
        for first, last in _card_item_ranges(run, strict):
            card = run.sub(first, last)
            if any(item.guess for item in card.items) and _card_prefix(card.digits):
                self.spans.append((card.start, card.end, PiiType.CARD))
                self.cards.append((card.start, card.end))
                self.card_runs.append(card)

    def _homophone_card(self, run: NumberRun) -> bool:
        """ "for one one one, one one one one, ...": the first digit written as a word."""
        if not _CARD_MIN - 1 <= len(run.digits) <= _CARD_MAX - 1 or not run.items[0].spoken:
            return False
        m = _HOMOPHONE_BEFORE.search(self.lowered, max(0, run.start - 8), run.start)
        if m is None:
            return False
        digits = _HOMOPHONES[m.group(1)] + run.digits
        if not (_card_prefix(digits) and luhn_valid(digits)):
            return False
        if _context(self.lowered, m.start(1), run.end) in _KEEPS:
            return False
        self.spans.append((m.start(1), run.end, PiiType.CARD))
        self.cards.append((m.start(1), run.end))
        self.anchor = run.end
        return True

    def run(self, run: NumberRun) -> None:
        if not self.typed_ends:
            self._run(run)
            return
        for piece in self._cut_after_typed_cards(run):
            k = bisect.bisect_right(self.typed_ends, piece.start)
            if k and (self.anchor is None or self.anchor < self.typed_ends[k - 1]):
                self.anchor, self.anchor_amex = self.typed_ends[k - 1], self.typed_amex[k - 1]
            self._run(piece)

    def _cut_after_typed_cards(self, run: NumberRun) -> list[NumberRun]:
        """The run cut where a typed card ends between two of its items ("4111－1111－1111－1111 12/28 123" is
        read as "4111", "1111", "1111", "1111 12/28 123": the last group, then what follows the card)."""
        ends, items = self.typed_ends, run.items
        at = bisect.bisect_left(ends, run.start)
        if at == len(ends) or ends[at] >= run.end:
            return [run]
        pieces, first = [], 0
        for k in range(1, len(items)):
            j = bisect.bisect_left(ends, items[k - 1].end, at)
            if j < len(ends) and ends[j] <= items[k].start:
                pieces.append(run.sub(first, k - 1))
                first = k
        pieces.append(run.sub(first, len(items) - 1))
        return pieces

    def _run(self, run: NumberRun) -> None:
        if len(run.digits) >= _CARD_MIN:
            strict = lambda: _context(self.lowered, run.start, run.end) in _KEEPS  # noqa: E731
            ranges = max(
                (_card_item_ranges(run, strict), *_reread_card_ranges(self.lowered, run, strict)),
                key=lambda found: sum(last - first + 1 for first, last in found),
            )  # the reading whose cards cover the most of what was said
            if ranges:
                cursor = 0
                for first, last in ranges:
                    if first > cursor:
                        self.other(run.sub(cursor, first - 1))
                    card = run.sub(first, last)
                    self.spans.append((card.start, card.end, PiiType.CARD))
                    self.cards.append((card.start, card.end))
                    self.card_runs.append(card)
                    self.anchor = card.end
                    self.anchor_amex = _is_amex(card.digits)
                    cursor = last + 1
                if cursor < len(run.items):
                    self.other(run.sub(cursor, len(run.items) - 1))
                return
        if self._homophone_card(run):
            return
        self.other(run)

    def other(self, run: NumberRun) -> None:
        if not self._classify(run):
            # "oh four twenty seven, seven three seven": try the pieces between pauses
            items = run.items
            cuts = [k for k in range(1, len(items)) if items[k].pause]
            found = False
            if cuts and len(run.digits) > 4:
                bounds = [0, *cuts, len(items)]
                for a, b in zip(bounds, bounds[1:]):
                    # each piece with its own marks: the "/" of "12/28, 737" makes no date of the code
                    piece = items[a:b]
                    found = self._classify(NumberRun(piece, _marks_between(self.lowered, piece))) or found
            if not found and len(items) > 1 and self._after_card(run.start):
                found = self._card_details(run)
            if not found:
                self.loose.append(run)

    def _after_card(self, start: int) -> bool:
        """Only bridging words between the last card (or its expiry or code) and `start`."""
        return self.anchor is not None and self.anchor <= start and _bridged(self.lowered, self.anchor, start)

    def _card_details(self, run: NumberRun) -> bool:
        """What follows a card with only blanks between its items ("4111111111111111 1227 737", "... 12 27
        737"): read item by item (month and year as a pair too), at most an expiry and a code, up to the
        first item that is neither."""
        items, lowered = run.items, self.lowered
        k = taken = 0
        while k < len(items) and taken < 2:
            for size in (2, 1):
                piece = items[k : k + size]
                if len(piece) < size or size == 2 and not (len(piece[0].digits) <= 2 and len(piece[1].digits) == 2):
                    continue
                gap = lowered[piece[0].end : piece[-1].start]
                found = self._kind(NumberRun(piece, "".join(c for c in gap if c in SEPARATORS)))
                if found is not None and found[0] in (PiiType.CARD_EXPIRY, PiiType.CARD_SECURITY_CODE):
                    self._record(found, piece[-1].end)
                    k, taken = k + size, taken + 1
                    break
            else:
                break
        return taken > 0

    def _classify(self, run: NumberRun) -> bool:
        found = self._kind(run)
        if found is None:
            return False
        self._record(found, run.end)
        if found[0] in (PiiType.CARD_EXPIRY, PiiType.CARD_SECURITY_CODE) and found[1] == run.start:
            self.details.append(run)
        return True

    def _record(self, found: tuple[PiiType, int], end: int) -> None:
        kind, start = found
        self.spans.append((start, end, kind))
        if kind in (PiiType.CARD_EXPIRY, PiiType.CARD_SECURITY_CODE):
            self.anchor = end

    def _kind(self, run: NumberRun) -> tuple[PiiType, int] | None:
        """What the run is, and where its redaction starts ("april" of "april 2027"); None when nothing."""
        lowered = self.lowered
        digits = run.digits
        n = len(digits)
        month = _month_start(lowered, run) if n in (2, 4) else None
        if n < 3 and month is None or n > 17:
            return None
        if _is_amount_or_time(lowered, run):
            return None
        context = _context(lowered, month if month is not None else run.start, run.end)
        after_card = self._after_card(run.start)
        slash = "/" in run.marks
        kind: PiiType | None = None
        start = run.start
        if month is not None and (context in ("exp", "card") or after_card):
            kind, start = PiiType.CARD_EXPIRY, month
        elif n in (3, 4) and not slash and (context == "cvv" or context == "card" and _mentions(lowered, start, "cvv")):
            kind = PiiType.CARD_SECURITY_CODE
        elif after_card and n == 3 and not slash:
            kind = PiiType.CARD_SECURITY_CODE
        elif (context == "exp" or context == "card" and _mentions(lowered, start, "exp")) and _expiry_shape(digits):
            kind = PiiType.CARD_EXPIRY  # "the expiration date on the card?": the nearer word names the card
        elif after_card and n == 4 and not slash and self.anchor_amex:
            kind = PiiType.CARD_SECURITY_CODE
        elif (after_card or context == "card" and slash) and _expiry_shape(digits):
            kind = PiiType.CARD_EXPIRY
        elif after_card and n == 4:
            kind = PiiType.CARD_SECURITY_CODE
        elif (
            n == 9
            and (
                context == "ssn"
                and (run.spoken or len(run.items) in (1, 9) or _grouped(run, (3, 2, 4), typed=True))
                or _grouped(run, (3, 2, 4))
            )
            and ssn_plausible(digits)
        ):  # typed with separators: the 3-2-4 regex below decides; "6 0 4 1 2 ..." is said digit by digit
            kind = PiiType.SSN
        elif n == 9 and context == "routing" and aba_valid(digits):
            kind = PiiType.ROUTING_NUMBER
        elif (context == "account" or _word_before(lowered, start) in ("account", "acct")) and 6 <= n <= 17:
            kind = PiiType.BANK_ACCOUNT  # "routing 021000021 account 000123456789"
        elif context == "phone" and all(item.spoken for item in run.items) and 7 <= n <= 15:  # typed: the regexes
            kind = PiiType.PHONE
        return None if kind is None else (kind, start)


def _marks_between(lowered: str, items: Sequence[DigitItem]) -> str:
    """The separators typed or said ("slash") between the items, as NumberRun.marks."""
    marks: list[str] = []
    for before, after in zip(items, items[1:]):
        gap = lowered[before.end : after.start]
        marks += [c for c in gap if c in SEPARATORS]
        marks += [SEPARATOR_WORDS[word] for word in gap.split() if word in SEPARATOR_WORDS]
    return "".join(marks)


def _word_before(lowered: str, start: int) -> str:
    words = _words(lowered[max(0, start - 20) : start])
    return words[-1].strip(_STRIP) if words else ""


def _grouped(run: NumberRun, sizes: tuple[int, ...], typed: bool = False) -> bool:
    """The run's digits are said in groups of these sizes, with pauses between the groups
    ("zero seven eight, zero five, one one two zero"); `typed` accepts digit groups too ("123, uh,
    45, uh, 6789": hesitations the 3-2-4 regex cannot see through)."""
    groups: list[int] = []
    for k, item in enumerate(run.items):
        # typed, each digit group is a group ("078 05" / "1120" over two chat messages); said, the pauses part them
        if item.pause or not groups or typed and not item.spoken and not run.items[k - 1].spoken:
            groups.append(len(item.digits))
        else:
            groups[-1] += len(item.digits)
    return tuple(groups) == sizes and (run.spoken or typed)


# --- other detectors -----------------------------------------------------------------------------
_DASHES = "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"  # for a regex character class: the hyphen and every dash

# Patterns for identifiers that contain digits, as named alternatives of one regex so each candidate
# place is scanned once. Leading/trailing assertions keep them from matching inside longer numbers.
_DIGIT_PATTERNS = {
    # SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; one separator used consistently: a hyphen or
    # any dash a keyboard, a word processor or an IME types (‐ ‑ ‒ – — ― − ﹘ ﹣ －), a blank (space, no-break,
    # thin), or . / _ ~ · * (an outside probe stored "078–05–1120" and "078/05/1120" whole)
    # Not inside a longer dashed number ("1-078-05-1120", "078-05-1120-4"), but a dash after or before a word is only
    # a joiner: "cust-078-05-1120" and "078-05-1120-x" hold an SSN (an outside probe stored both whole).
    PiiType.SSN: rf"(?<!\d)(?<!\d[{_DASHES}])(?!000|666|9\d\d)\d{{3}}(?P<ssn_sep>[{_DASHES} \u00a0\u2009\u202f./_~\u00b7*])"
                 rf"(?!00)\d\d(?P=ssn_sep)(?!0000)\d{{4}}(?!\d)(?![{_DASHES}]\d)",
    # UK NINO: allowed prefix letters minus never-issued pairs, six digits, suffix A-D
    PiiType.NINO: r"(?i:(?<![a-z0-9])(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]"
    r" ?\d\d ?\d\d ?\d\d ?[a-d](?![a-z0-9]))",
    PiiType.PHONE: "|".join(
        (
            # E.164 / international: + then 8-15 digits with optional separators
            r"(?<![\w+])\+\d(?:[ .()-]{0,2}\d){7,14}(?!\d)",
            # North American: (555) 123-4567, 555-123-4567, 1 555 123 4567, 5551234567
            r"(?<![\w+])(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?![\w-])",
            # UK national: 020 7946 0018, 07700 900123, 0161-496-0000
            r"(?<![\w+])0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?![\w-])",
        )
    ),
}
# How far an identifier may extend beyond its digits: "+", "(" and NINO letters before, the NINO
# suffix letter and ")" after.
_CLUSTER_LEAD, _CLUSTER_TRAIL, _CLUSTER_GAP = 4, 3, 3
# A security code typed against its keyword ("cvv123", "…1111cvc0421"): the number runs read a word glued to
# digits as an identifier ("user838"), which these words never are. Not "cid" (a customer id too).
_GLUED_CODE_WORDS = tuple(w for w, kind in _KEYWORDS.items() if kind == "cvv" and w.isalpha() and w != "cid")
_GLUED_SSN_WORDS = tuple(w for w, kind in _KEYWORDS.items() if kind == "ssn" and w.isalpha() and len(w) >= 3)


def _glued_codes(lowered: str, numeric: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The digit groups (of those already found) typed right after a word that starts a word and names them: 3-4
    digits after a code's word (`cvv123`), nine that could be an SSN after an SSN's (`SSN078051120`)."""
    found = []
    for start, end, digits in numeric:
        if len(digits) in (3, 4):
            words, kind = _GLUED_CODE_WORDS, PiiType.CARD_SECURITY_CODE
        elif len(digits) == 9 and ssn_plausible(digits):
            words, kind = _GLUED_SSN_WORDS, PiiType.SSN
        else:
            continue
        word = next((w for w in words if lowered.endswith(w, 0, start)), None)
        if word is not None and (start == len(word) or not lowered[start - len(word) - 1].isalpha()):
            found.append((start, end, kind))
    return found


_EMAIL = lazy_regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Spoken form ASR produces: "john dot smith at example dot com", "j o h n underscore d o e at ...",
# "kate seventy two at ...": the domain is matched from " at ", the local part read back from there.
_SPOKEN_DOMAIN = lazy_regex(
    r" at [a-z0-9]+(?: (?:dot|point) [a-z0-9]+)* (?:dot|point) (?:com|net|org|edu|gov|co|uk|io|info|biz|us|ca|de|fr)\b"
)
_EMAIL_JOINERS = frozenset("dot point underscore hyphen dash".split())
_EMAIL_NOT_NAMES = frozenset(
    "is it's its email e-mail mail address me at to my the and or send reach use try on it was be".split()
)
_EMAIL_NAME = lazy_regex(r"[a-z0-9][a-z0-9._-]*")
_LOCAL_REACH = 120  # characters before " at " searched for the local part
_NON_BLANK = lazy_regex(r"\S+")

# Overlapping matches merge into one placeholder labelled by the earliest type in this order.
_PRIORITY = {
    kind: rank
    for rank, kind in enumerate(
        (
            PiiType.CARD,
            PiiType.CARD_SECURITY_CODE,
            PiiType.CARD_EXPIRY,
            PiiType.SSN,
            PiiType.ROUTING_NUMBER,
            PiiType.BANK_ACCOUNT,
            PiiType.NINO,
            PiiType.EMAIL,
            PiiType.PHONE,
        )
    )
}
_CARD_KINDS = frozenset({PiiType.CARD, PiiType.CARD_EXPIRY, PiiType.CARD_SECURITY_CODE})
# Kinds found on number runs (spoken.py) rather than by the typed-layout regexes.
_RUN_KINDS = frozenset(
    {
        PiiType.CARD,
        PiiType.CARD_SECURITY_CODE,
        PiiType.CARD_EXPIRY,
        PiiType.SSN,
        PiiType.ROUTING_NUMBER,
        PiiType.BANK_ACCOUNT,
        PiiType.PHONE,
    }
)


class Redactor:
    """Compiled redaction for one tenant configuration; reuse it across transcripts."""

    def __init__(self, config: RedactionConfig | None = None) -> None:
        self.config = config or RedactionConfig()
        detect = self.config.detect
        self._run_kinds = detect & _RUN_KINDS
        enabled = [(kind, pattern) for kind, pattern in _DIGIT_PATTERNS.items() if kind in detect]
        self._digit_kinds = [kind for kind, _ in enabled]
        self._digit_regex = (
            re.compile("|".join(f"(?P<{kind.value}>{pattern})" for kind, pattern in enabled)) if enabled else None
        )
        self._emails = PiiType.EMAIL in detect
        self._custom = [(name, compile_tenant_pattern(p, bounded=False))  # validated when the config was
                        for name, p in self.config.custom_patterns.items()]

    def redact(self, text: str) -> RedactionResult:
        """One text, every character outside a redaction kept: its lines go in as consecutive texts, since
        redact_many would flatten a line break inside one text (it marks where texts meet)."""
        result = self.redact_many(text.split("\n"))
        return RedactionResult(text="\n".join(result.texts), counts=result.counts)

    def redact_many(self, texts: Sequence[str], speakers: Sequence[object] | None = None, *,
                    hidden_cards: Sequence[tuple[int, int, int]] = ()) -> RedactedTexts:
        """Redact consecutive texts together: ASR splits a card number over segments, and the other
        speaker may read part of it back, so numbers run on across segments whoever speaks.

        `speakers` marks where the speaker changes (kept for callers; a number may cross it). The
        result's `receipt` says what was replaced where (kind, segment, offsets), never the value.
        `hidden_cards`: (segment, start, end) of cards redacted before and given as stand-in digits (a chat's stored
        "[CARD]"): what follows one is what follows a card, and digits after it in a later segment that nothing
        else claims are the rest of a card (their partner may be in the placeholder: _Numbers._card_remainders).
        """
        joined = lines = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1 or _SPEAKER_CHANGE in joined:  # would look like boundaries
            texts = [t.replace("\n", " ").replace(_SPEAKER_CHANGE, " ") for t in texts]
            joined = lines = "\n".join(texts)
        if speakers is not None and len(texts) > 1:
            # segment, boundary, segment, ...: the boundaries list interleaved at C speed
            boundaries = ["\n" if a == b else _SPEAKER_CHANGE for a, b in zip(speakers, speakers[1:])]
            joined = "".join(chain.from_iterable(zip(texts, [*boundaries, ""])))
        starts = list(accumulate([len(t) + 1 for t in texts[:-1]], initial=0))
        # The detectors read `joined` with superscript, subscript and circled digits as ASCII ones (the same length):
        # the original texts are what _apply cuts placeholders into.
        original = joined
        joined, lowered, spelled = _reading(joined)
        if joined is not original:  # the tenant's patterns read the digits so too, one segment per line
            lines = joined.replace(_SPEAKER_CHANGE, "\n")

        spans: list[tuple[int, int, str]] = []
        # Digits are rare in speech: find the segments holding any with str.find, scan only those.
        if joined.isascii():
            digit_segments = _segments_containing(joined, starts, "0123456789")
        else:  # digits of other scripts too, and "⑩", "⒈" (the NFKC pass reads them); str.find cannot enumerate those
            digit_segments = sorted({bisect.bisect_right(starts, m.start()) - 1 for m in _ANY_DIGIT.finditer(joined)}
                                    .union(_segments_containing(joined, starts, spelled)))
        numeric = _numeric_tokens(joined, [(starts[k], starts[k] + len(texts[k])) for k in digit_segments])
        typed = self._digit_identifiers(joined, numeric) if self._digit_regex is not None else []
        # cards in digit groups, whatever marks join them (the runs judge those they can read)
        group_cards: list[tuple[int, int, str, bool]] = []
        if self._run_kinds & _CARD_KINDS and digit_segments:
            obscured = _obscured_cards(joined, group_cards)
            if PiiType.CARD in self._run_kinds:
                spans += obscured
        if self._run_kinds:
            # what follows a card typed with other keyboards' marks is read as if typed with ASCII ones
            read = _details_as_typed(lowered, group_cards) if group_cards else lowered
            numbers = _Numbers(read, _joined_spans([(s, e, d) for s, e, d, unread in group_cards if unread]),
                               [(starts[k] + s, starts[k] + e) for k, s, e in hidden_cards])
            # a typed SSN ("078-05-1120") is no part of a card said next to it
            ssns = [(s, e) for s, e, kind in typed if kind is PiiType.SSN]
            regions = candidate_regions(read, numeric)
            for run in runs_in_regions(read, regions, min_digits=2):
                for piece in _outside(run, ssns) if ssns else (run,):
                    numbers.run(piece)
            if PiiType.CARD in self._run_kinds:
                for run in runs_in_regions(read, regions, min_digits=2, homophones=True):
                    numbers.guessed(run)
            numbers.finish()
            spans += [span for span in numbers.spans if span[2] in self._run_kinds]
        spans += typed
        if PiiType.CARD_SECURITY_CODE in self._run_kinds and digit_segments:
            spans += _glued_codes(lowered, numeric)
        if PiiType.NINO in self.config.detect and any(word in lowered for word in _NINO_WORDS):
            spans += _spoken_ninos(lowered)
        if self._emails:
            for k in _segments_containing(joined, starts, "@"):
                base, segment = starts[k], joined[starts[k] : starts[k] + len(texts[k])]
                spans += [(base + m.start(), base + m.end(), PiiType.EMAIL) for m in _EMAIL.finditer(segment)]
            if " dot " in lowered or " point " in lowered:
                spans += _spoken_emails(lowered)
        for name, rx in self._custom:
            # one segment per line, whoever speaks, so a tenant's ^ and $ anchor at segment edges;
            # RE2: linear in the text whatever the pattern
            spans += [(m.start(), m.end(), name) for m in rx.finditer(lines) if m.end() > m.start()]
        if not spans:
            return RedactedTexts(texts=list(texts))
        return _apply(original, starts, texts, spans)

    def _digit_identifiers(self, joined: str, numeric: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """SSN / NINO / phone matches, searched only in small windows around clusters of digit groups."""
        assert self._digit_regex is not None
        spans: list[tuple[int, int, str]] = []
        size = len(joined)
        k = 0
        while k < len(numeric):
            first = last = k
            while last + 1 < len(numeric) and numeric[last + 1][0] - numeric[last][1] <= _CLUSTER_GAP:
                last += 1
            k = last + 1
            low = max(0, numeric[first][0] - _CLUSTER_LEAD)
            high = min(size, numeric[last][1] + _CLUSTER_TRAIL)
            # lookbehinds still see the text before `low`; `high` leaves room for the lookaheads
            for m in self._digit_regex.finditer(joined, low, high):
                kind = next(kind for kind in self._digit_kinds if m.group(kind.value) is not None)
                if kind is PiiType.PHONE and (
                    m.group()[0] == "0" and not 10 <= _count_digits(m.group()) <= 11
                    or _MORE_DIGITS_BEFORE.search(joined, max(0, m.start() - 3), m.start())
                    or _MORE_DIGITS_AFTER.match(joined, m.end())
                ):
                    # UK national numbers have 10-11 digits; "0900 5474 9950" is something else, and so
                    # are the last groups of a longer number ("3502 6052 0436 9893 740")
                    continue
                spans.append((m.start(), m.end(), kind))
        return spans


# Cards the number runs do not read (they read speech and typed groups, and keep a number that is part of a
# word): digits glued to letters ("visa4111…", "…1111cvv123") and groups split by marks no speaker says.
# Groups are joined by 1-5 characters that are neither letters nor digits (IME and web marks: full-width and
# ideographic commas and stops, middle dots, bullets, Arabic separators, zero-widths, IME spaces), and by the
# fillers Unicode files as letters (tatweel, Hangul fillers); not by signs of amounts and sums ("$1,234.56 +").
_GROUP_JOINER = r"(?:[^\w$%+<=>\u00a2-\u00a5\u20a0-\u20cf]|[_\u0640\u115f\u1160\u3164\uffa0])"
_DIGIT_GROUPS = lazy_regex(r"\d+(?:" + _GROUP_JOINER + r"{1,5}\d+)*")
# A mark the number runs do not read as a blank or separator: such a card is no run's to judge.
_UNREAD_MARK = lazy_regex("[^\\d" + re.escape(" \t\r\n\x1e\u00a0\u2009\u202f" + "".join(sorted(SEPARATORS))) + "]")
# A blank or hyphen as text that went through a web form, an HTML page or a mail encoder carries it: HTML
# entities, percent-encoding, quoted-printable, a form's `+` between digits. Read as one mark each.
_ENCODED_SEPARATOR = lazy_regex(
    r"(?i)&(?:nbsp|ensp|emsp|thinsp|#0*(?:32|45|160|8201)|#x0*(?:20|2d|a0|2009));"
    r"|%(?:20|2d|c2%a0|e3%80%80)|=(?:20|2d|c2=a0)(?=\d)|(?<=\d)\+(?=\d)")


def _encodings_as_marks(text: str) -> tuple[str, list[int]] | None:
    """`text` with each encoded blank or hyphen as one `_` mark, and the index in `text` of each character of
    it (one past the end last); None when it holds none."""
    if not any(c in text for c in "&%=+") or not _ENCODED_SEPARATOR.search(text):
        return None
    parts: list[str] = []
    where: list[int] = []
    last = 0
    for m in _ENCODED_SEPARATOR.finditer(text):
        parts += [text[last:m.start()], "_"]
        where += [*range(last, m.start()), m.start()]
        last = m.end()
    parts.append(text[last:])
    where += [*range(last, len(text)), len(text)]
    return "".join(parts), where


def _nfkc_with_offsets(text: str) -> tuple[str, list[int]] | None:
    """`text` in NFKC ("４１１１－１１１１" -> "4111-1111"), character by character, and the index in `text` of
    each character of it (one past the end last); None when NFKC changes nothing."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return None
    parts = [unicodedata.normalize("NFKC", c) for c in text]
    where = [k for k, part in enumerate(parts) for _ in part]
    where.append(len(text))
    return "".join(parts), where


def _obscured_cards(
    joined: str, every: list[tuple[int, int, str, bool]] | None = None
) -> list[tuple[int, int, PiiType]]:
    """Card numbers (13-19 digits, an issued prefix, Luhn) made of whole digit groups joined by at most 5 blanks
    or marks, that either touch a letter or hold a mark the number runs do not read: the plain ones are the
    number runs' to judge (a phone number next to another keeps its digits). Groups are found in an NFKC copy
    (full-width digits and marks), judged on the original. Encoded blanks (`%20`, `&nbsp;`, `=20`) are such
    marks. `every` gets (start, end, digits, obscured) of every such card, the plain ones too."""
    normalised = _nfkc_with_offsets(joined)
    if normalised is None:
        spans = _cards_in_groups(joined, joined, every=every)
    else:
        text, where = normalised
        cards = _cards_in_groups(text, joined, where, every)
        spans = [(where[start], where[end - 1] + 1, kind) for start, end, kind in cards]
    decoded = _encodings_as_marks(joined)
    if decoded is not None:
        text, where = decoded
        found: list[tuple[int, int, str, bool]] | None = None if every is None else []
        cards = _cards_in_groups(text, text, every=found)
        spans += [(where[start], where[end - 1] + 1, kind) for start, end, kind in cards]
        if every is not None and found:
            every += [(where[start], where[end - 1] + 1, digits, unread) for start, end, digits, unread in found]
    return spans


def _cards_in_groups(
    joined: str, source: str, where: list[int] | None = None, every: list[tuple[int, int, str, bool]] | None = None
) -> list[tuple[int, int, PiiType]]:
    """Cards in `joined`, judged on `source`, the text it was made from (`where`: the index in `source` of each
    character of `joined`, one past the end last; None when they are the same). `every` gets (start, end, digits,
    obscured) of each card, in `source`, whether or not the number runs can read it."""
    spans: list[tuple[int, int, PiiType]] = []
    for run in _DIGIT_GROUPS.finditer(joined):
        groups = [(run.start() + m.start(), run.start() + m.end(), ascii_digits(m.group()))
                  for m in _DIGIT_GROUP.finditer(run.group())]
        for i, (start, _, _) in enumerate(groups):
            digits = ""
            for j in range(i, min(len(groups), i + _CARD_MAX)):  # a card is at most that many groups: no copy of the rest
                _, end, group = groups[j]
                digits += group
                if len(digits) > _CARD_MAX:
                    break
                if len(digits) >= _CARD_MIN and _card_prefix(digits) and luhn_valid(digits):
                    low, high = (start, end) if where is None else (where[start], where[end - 1] + 1)
                    unread = _touches_a_letter(source, low, high) or _UNREAD_MARK.search(source, low, high) is not None
                    if unread:
                        spans.append((start, end, PiiType.CARD))
                    if every is not None:
                        every.append((low, high, digits, unread))
    return spans


def _touches_a_letter(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())


def _joined_spans(cards: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping (start, end, digits) cards as one, with the digits of the one that ends last (the longest)."""
    joined: list[tuple[int, int, str]] = []
    for start, end, digits in sorted(cards, key=lambda card: (card[0], -card[1])):
        if joined and start < joined[-1][1]:
            if end > joined[-1][1]:
                joined[-1] = (joined[-1][0], end, digits)
        else:
            joined.append((start, end, digits))
    return joined


# What follows a card is read as typed with ASCII marks ("4111－1111－1111－1111 12／28 123", "４１１１ ... １２／２８
# １２３"): its expiry and security code are found as after an ASCII card. Only there, up to the first word that
# bridges nothing (_BRIDGE): a date typed so elsewhere stays as it was.
_SLASHES = frozenset("\u2215\u2044\u29f8")  # division and fraction slash, big solidus: NFKC keeps them ("／" is "/")
_PAUSE_MARKS = {**dict.fromkeys("\u3001\u060c\ufe50\ufe51", ","), **dict.fromkeys("\u3002\u06d4\ufe52", ".")}
_DETAILS_REACH = 160  # characters after a card: an expiry and a code, and up to 60 of bridge before each (_bridged)
_GROUP_MARK = lazy_regex(_GROUP_JOINER)


@cache
def _as_typed(char: str) -> str:
    """The ASCII mark the number runs read for another keyboard's mark; any other character as it is."""
    if char.isascii() or char in SEPARATORS:
        return char
    typed = unicodedata.normalize("NFKC", char)
    if len(typed) == 1 and typed.isascii() and not typed.isalnum():
        return " " if typed == "_" else typed  # "／" "－" "，" ideographic space; "＄" stays an amount's sign
    if char in _SLASHES:
        return "/"
    if not _GROUP_MARK.fullmatch(char):  # letters, digits, currency signs
        return char
    return _PAUSE_MARKS.get(char) or ("-" if unicodedata.category(char) == "Pd" else " ")


def _details_as_typed(lowered: str, cards: Sequence[tuple[int, int, str, bool]]) -> str:
    """`lowered` with what follows each card (up to the first word that is no bridge, at most _DETAILS_REACH
    characters) in ASCII marks (_as_typed), the same length: every offset holds."""
    if lowered.isascii():
        return lowered
    parts: list[str] = []
    cursor = 0
    for end in sorted({card[1] for card in cards}):
        start, stop = max(end, cursor), min(len(lowered), end + _DETAILS_REACH)
        for word in _WORD.finditer(lowered, start, stop):
            if word.group() not in _BRIDGE:
                stop = word.start()
                break
        if stop <= start or lowered[start:stop].isascii():
            continue
        parts += [lowered[cursor:start], "".join(map(_as_typed, lowered[start:stop]))]
        cursor = stop
    if not parts:
        return lowered
    parts.append(lowered[cursor:])
    return "".join(parts)


def _spoken_emails(lowered: str) -> list[tuple[int, int, str]]:
    """E-mail addresses said aloud: a domain said after " at ", and before it the local part: atoms
    (a name, spelled letters, number words) joined by "dot", "underscore", "hyphen"."""
    spans: list[tuple[int, int, str]] = []
    for m in _SPOKEN_DOMAIN.finditer(lowered):
        base = max(0, m.start() - _LOCAL_REACH)
        words = [(w.start(), w.group()) for w in _NON_BLANK.finditer(lowered, base, m.start())]
        k, start = len(words) - 1, None
        while k >= 0:
            atom_end = k
            while k >= 0 and (len(words[k][1]) == 1 and words[k][1].isalnum() or _is_number_word(words[k][1])):
                k -= 1  # spelled letters and digits: "j o h n", "seventy two"
            letters_only = k < atom_end and all(len(words[j][1]) == 1 for j in range(k + 1, atom_end + 1))
            word = words[k][1] if k >= 0 else ""
            if word and not letters_only and word not in _EMAIL_NOT_NAMES and _EMAIL_NAME.fullmatch(word):
                k -= 1  # the name the atom starts with: "kate seventy two", "smith"
            if k == atom_end:
                break
            start = words[k + 1][0]
            if k >= 1 and words[k][1] in _EMAIL_JOINERS:
                k -= 1
                continue
            break
        if start is not None:
            spans.append((start, m.end(), PiiType.EMAIL))
    return spans


# "a b one two three four five six c": a NINO spelled out, read only near "national insurance".
_DIGIT_WORD = "(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9])"
_SPOKEN_NINO = lazy_regex(
    r"(?<![a-z0-9])(?!b[ .]*g\b|g[ .]*b\b|k[ .]*n\b|n[ .]*k\b|n[ .]*t\b|t[ .]*n\b|z[ .]*z\b)"
    r"[a-ceghj-pr-tw-z][ .]{0,2}[a-ceghj-npr-tw-z][ ,.]{1,3}"
    rf"{_DIGIT_WORD}(?:[ ,.-]{{1,3}}{_DIGIT_WORD}){{5}}[ ,.]{{1,3}}[a-d](?![a-z0-9])"
)
_NINO_REACH = 110  # characters before the number searched for its name
_NINO_WORDS = ("national insurance", "ni number", "nino")


def _spoken_ninos(lowered: str) -> list[tuple[int, int, str]]:
    return [
        (m.start(), m.end(), PiiType.NINO)
        for m in _SPOKEN_NINO.finditer(lowered)
        if any(word in lowered[max(0, m.start() - _NINO_REACH) : m.start()] for word in _NINO_WORDS)
    ]


def _is_number_word(word: str) -> bool:
    return word.isdecimal() or word in _SPOKEN_NUMBER_WORDS


_SPOKEN_NUMBER_WORDS = frozenset({*UNITS, *TEENS, *TENS})
_MORE_DIGITS_BEFORE = lazy_regex(r"\d[ .-]{1,2}$")
_MORE_DIGITS_AFTER = lazy_regex(r"[ .-]{1,2}\d")


def _count_digits(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def _segments_containing(joined: str, starts: list[int], needles: Sequence[str]) -> list[int]:
    """Indexes of segments containing any needle, found with str.find (C speed) rather than a regex
    scan of the whole transcript; one hit per segment is enough, so each search resumes at the next
    segment."""
    found: set[int] = set()
    for needle in needles:
        at = joined.find(needle)
        while at != -1:
            k = bisect.bisect_right(starts, at) - 1
            found.add(k)
            at = joined.find(needle, starts[k + 1]) if k + 1 < len(starts) else -1
    return sorted(found)


def _holds_number(text: str) -> bool:
    """Whether a segment says any digit, in figures (superscript ones too) or in words."""
    text, lowered, _ = _reading(text)
    return _ANY_DIGIT.search(text) is not None or bool(number_word_hits(lowered))


def _label_rank(label: str) -> int:
    return _PRIORITY.get(label, len(_PRIORITY))  # type: ignore[call-overload]


def _apply(joined: str, starts: list[int], texts: Sequence[str], spans: list[tuple[int, int, str]]) -> RedactedTexts:
    spans.sort()
    merged: list[list] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if _label_rank(label) < _label_rank(last[2]):
                last[2] = label
        else:
            merged.append([start, end, label])
    counts: dict[str, int] = {}
    out = list(texts)
    pieces: dict[int, list[tuple[int, int, str, int]]] = {}
    for ordinal, (start, end, label) in enumerate(merged):
        counts[str(label)] = counts.get(str(label), 0) + 1
        # A span may cross segment boundaries (card split over two segments): one placeholder each.
        k = bisect.bisect_right(starts, start) - 1
        while k < len(texts) and starts[k] < end:
            seg_start, seg_end = starts[k], starts[k] + len(texts[k])
            lo, hi = max(start, seg_start), min(end, seg_end)
            if start < seg_start and seg_end < end and label in _RUN_KINDS and not _holds_number(texts[k]):
                k += 1  # "mm-hmm" from the other speaker between two halves of a card: nothing to hide
                continue
            if hi > lo:
                pieces.setdefault(k, []).append((lo - seg_start, hi - seg_start, str(label), ordinal))
            k += 1
    receipt: list[RedactionMark] = []
    dropped = 0
    for k in sorted(pieces):
        text = joined[starts[k] : starts[k] + len(texts[k])]
        parts, cursor, length = [], 0, 0
        for lo, hi, label, ordinal in pieces[k]:
            kept = text[cursor:lo]
            placeholder = f"[{label.upper()}]"
            parts.append(kept)
            parts.append(placeholder)
            length += len(kept)
            if len(receipt) < MAX_RECEIPT:
                receipt.append(
                    RedactionMark(
                        kind=label,
                        segment=k,
                        start=lo,
                        end=hi,
                        redacted_start=length,
                        redacted_end=length + len(placeholder),
                        redaction=ordinal,
                    )
                )
            else:
                dropped += 1
            length += len(placeholder)
            cursor = hi
        parts.append(text[cursor:])
        out[k] = "".join(parts)
    return RedactedTexts.model_construct(  # built here from checked parts: no validation pass over every text
        texts=out, counts=counts, changed_segments=len(pieces), receipt=receipt, receipt_dropped=dropped
    )


def redact_text(text: str, config: RedactionConfig | None = None) -> RedactionResult:
    """Convenience for one string (builds a Redactor; reuse a Redactor in loops)."""
    return Redactor(config).redact(text)


# --- free-form attributes ----------------------------------------------------------------------------
# What a free-form string map (a contact's attributes, a customer's profile, a campaign list row's extra
# columns) must never store: card numbers (with their security codes) and social security numbers. Narrower
# than a transcript's redactor on purpose: such maps legitimately carry phone numbers and e-mail addresses.
ATTRIBUTE_DETECTORS = frozenset({PiiType.CARD, PiiType.SSN})


@cache
def _attribute_redactor() -> Redactor:
    return Redactor(RedactionConfig(detect=ATTRIBUTE_DETECTORS))


def redact_attribute(text: str) -> str:
    """One free-form value (or a profile's name) as it may be stored."""
    return _attribute_redactor().redact(text).text if _may_spell_a_number(text) else text


def check_id(field: str, value: str | None) -> None:
    """An id is a key, never redacted: one that holds a card or social security number is refused naming its field,
    never its value (DomainError; a customer's, a contact's customer_id or segment)."""
    if value and redact_attribute(value) != value:
        raise DomainError(f"{field} holds a card or social security number: use a surrogate value", field=field)


def redact_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """Keys and values redacted, each pair on its own (a number never runs on from one value into the next),
    a value read after its key as a number is read after the words before it: {"cvv": "123"} and {"ssn":
    "078051120"} are a code and an SSN, as "cvv 123" is. A key is text a caller chose too: an integration that
    files data under its value as the key would otherwise store it there. Two keys that redact to the same text
    are both kept, the later one with " (2)", " (3)", ... appended, so redaction never drops a value."""
    out: dict[str, str] = {}
    for key, value in attributes.items():
        base, redacted = _redact_pair(key, value)
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base} ({n})"
        out[name] = redacted
    return out


def _redact_pair(key: str, value: str) -> tuple[str, str]:
    """A key and its value as consecutive texts of one redaction (the key's words are the value's context),
    each line a text, as `Redactor.redact` keeps a value's line breaks."""
    if not _may_spell_a_number(f"{key}\n{value}"):
        return key, value
    key_lines, value_lines = key.split("\n"), value.split("\n")
    texts = _attribute_redactor().redact_many([*key_lines, *value_lines]).texts
    return "\n".join(texts[: len(key_lines)]), "\n".join(texts[len(key_lines) :])


_FEWEST_DIGITS = 3  # a card security code's (PCI DSS: never stored); an SSN has 9, a card 13 or more
_SSN_DIGITS = 9  # fewer than this: nothing the attribute redactor replaces but a security code beside its words
_HOMOPHONE_WORD = lazy_regex(r"\b(?:" + "|".join(HOMOPHONES) + r")\b")
# one word that stands for several digits ("triple 4", "one hundred"): such a text goes to the redactor
_MANY_DIGITS_WORD = lazy_regex(r"\b(?:" + "|".join((*MULTIPLIERS, HUNDRED, THOUSAND)) + r")\b")
# The keywords near which a few digits may be a security code ("cvv", "card", "exp": "123 exp 123" is an expiry
# and its code) or part of an SSN, and the last word of each such phrase ("the back", "card code": a phrase is
# looked up where its last word is). Found as substrings of the text's NFKC form, so glued ("x1111cvv123"), cased
# and other keyboards' spellings count too. The other kinds (an account, a phone, an order) only keep digits here.
_CODE_KINDS = ("cvv", "card", "exp", "ssn")
_CODE_LAST_WORDS = {phrase.split()[-1] for phrase, kind in (*_KEYWORDS.items(), *_KEY_PAIRS.items(),
                                                            *_KEY_TRIPLES.items()) if kind in _CODE_KINDS}
_CODE_WORDS = lazy_regex("|".join(sorted((re.escape(w) for w in _CODE_LAST_WORDS if len(w) >= 3), key=len, reverse=True)))
# Shorter last words ("taxpayer id", "s n", "social security no") end a phrase, and the redactor reads a phrase's
# words as whole words (_keyword over _context_words): as substrings "n", "id" and "no" were in nearly every text
# ("account_id"), which sent every id of a list upload to the redactor. Looked up as whole words, as it does.
_SHORT_CODE_WORDS = frozenset(w for w in _CODE_LAST_WORDS if len(w) < 3)
assert all(" " not in phrase for phrase in _KEYWORDS) and not _SHORT_CODE_WORDS & set(_KEYWORDS), "singles may glue"


def _may_spell_a_number(text: str) -> bool:
    """Whether `text` holds enough digits, number words and their homophones to spell the shortest thing
    the attribute redactor replaces. Many attribute values (names, plans, short codes) do not, and skip it:
    10,000 list rows with a name, an address and a plan column load in 1.3 s instead of 1.7 s (0.7 s with no
    redaction at all). Nor do ids and references of fewer digits than an SSN with no word that names a security
    code, a card, an expiry or an SSN ("acct-00017", "r00042": a list upload checks two such ids a row, half of
    its parse). Digits are counted as NFKC reads them: "⁴¹¹¹…", "④①①①…" and "⒋⒈⒈⒈…" are digits too."""
    digits = len(_ANY_DIGIT.findall(text if text.isascii() else unicodedata.normalize("NFKC", text)))
    if digits < _SSN_DIGITS:
        lowered = text.lower()
        if _MANY_DIGITS_WORD.search(lowered):
            return True
        digits += sum(weight for _, _, weight in number_word_hits(lowered)) + len(_HOMOPHONE_WORD.findall(lowered))
    if digits >= _SSN_DIGITS:
        return True
    if digits < _FEWEST_DIGITS:
        return False
    lowered = unicodedata.normalize("NFKC", text).lower()
    return _CODE_WORDS.search(lowered) is not None or not _SHORT_CODE_WORDS.isdisjoint(_context_words(lowered.split()))
