"""Numbers as people say them: a digit stream with a map back to the original characters.

A transcript of speech is not typed text. A card number arrives as "four one one one, um, one one
one one", "five five double zero ...", "forty one eleven"; ASR puts full stops and commas between
groups, splits a number over two segments, and the agent reads part of it back; ASR without number
formatting writes "four thousand one hundred eleven", and may write a digit as the word it sounds
like ("four to four to", "ate", "won"; read only when asked, see HOMOPHONES). The detectors in
redaction.py work on *runs*: sequences of number tokens — digit groups ("4111"), digit words
("four", "oh", "o"), teens and tens ("eleven", "twenty one"), "double X" / "triple X" — separated
only by separator punctuation, whitespace, segment boundaries and hesitations ("um", "uh", "you
know", "sorry", "let me see"). Each run keeps its items with their character spans, so a detector
that finds a number in the digit stream replaces the ORIGINAL text span ("four one one one, um,
one one one one ..." becomes one "[CARD]").

Finding the candidates is cheap: number words are located with str.find (C speed, whole words
only) and only the short regions where enough of them (or digit groups) sit close together are
tokenised. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from .patterns import lazy_regex

__all__ = [
    "DigitItem",
    "NumberRun",
    "digit_stream",
    "number_runs",
    "number_word_hits",
    "runs_in_regions",
    "candidate_regions",
]

UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "nil": 0,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "niner": 9,  # radio/ASR spelling, never a word of its own
}  # fmt: skip
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 2, "thirty": 3, "forty": 4, "fourty": 4, "fifty": 5, "sixty": 6, "seventy": 7,
    "eighty": 8, "ninety": 9,
}  # fmt: skip
MULTIPLIERS = {"double": 2, "triple": 3, "treble": 3}
# "fifty-five hundred", "oh one hundred": the number before it times a hundred (ASR writes it in words).
HUNDRED = "hundred"
# "four thousand one hundred eleven": ASR without number formatting writes a group as a compound.
THOUSAND = "thousand"
# Words ASR writes for a digit it heard ("for one one one", "four to four to", "ate ate one").
# Common words: read as digits only on request (homophones=True), for a card (the Luhn digit
# guards it) or a code right after its question; never for the other detectors.
HOMOPHONES = {"for": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
# Hesitations that take back what was just said ("oh three four six, no wait, oh three four three").
CORRECTIONS = frozenset("sorry wait oops pardon".split())
# Hesitations and fillers that may sit between the digits of one number without ending it.
# Not "and", "so", "yes": those more often join two different numbers than pause inside one.
FILLERS = frozenset("um umm ummm uh uhh uhm er erm ah ahh eh hmm hm mm mmm mhm like sorry wait oops pardon".split())
# Multi-word hesitations, matched token by token.
FILLER_PHRASES = (  # those starting with "no" or "i mean" are corrections too
    ("you", "know"),
    ("let", "me", "see"),
    ("let", "me", "think"),
    ("let", "me", "check"),
    ("i", "mean"),
    ("hang", "on"),
    ("hold", "on"),
    ("bear", "with", "me"),
    ("no", "wait"),
    ("just", "a", "sec"),
)
_PHRASE_STARTS = frozenset(p[0] for p in FILLER_PHRASES)
_COUNTING = ("last ", "first ")  # "the last four": a count of digits, not one of them
# Punctuation that may separate the groups of one number; a pause ("soft" break) for some of them.
SEPARATORS = frozenset(",.-/:;?!()\u2010\u2011\u2012\u2013\u2014\u2212\u2026")
_PAUSES = frozenset(",.;?!\u2026")
# Separators said as words: "four one one one dash ...", "oh four slash twenty seven".
SEPARATOR_WORDS = {"dash": "-", "hyphen": "-", "slash": "/", "space": " ", "stroke": "/"}
MAX_FILLERS = 4  # hesitations in a row before a number is considered finished
_CLUSTER_GAP = 24  # characters between number tokens that may still belong to one number ("1111, um, you know, 1111")
_MIN_DIGITS = 3  # the shortest number any detector wants (a card security code)

# Words located with str.find to decide where to tokenise, and the digits each may stand for.
# Teens and tens are found by their endings ("teen", "ty": two passes, not seventeen). "o",
# "double", "triple" are not searched (a pass each over the whole transcript): a region found from
# its neighbours is widened over them ("o four", "double five").
_SEARCH_WORDS: dict[str, int] = {
    **{w: 1 for w in ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")},
    "ten": 2,
    "eleven": 2,
    "twelve": 2,
}
_SEARCH_ENDINGS: dict[str, dict[str, int]] = {
    "teen": {w: 2 for w in TEENS if w.endswith("teen")},
    "ty": {w: 2 for w in TENS},
}
_LONGEST_ENDING_WORD = max(len(w) for words in _SEARCH_ENDINGS.values() for w in words)
_TOKEN = lazy_regex(r"\w+|[^\w\s]")


class DigitItem:
    """One number token's digits and its character span. `pause` says what separates it from the
    previous item of the run: 0 nothing but spaces or dashes, 1 a pause mark (comma, full stop) or a
    segment boundary, 2 a hesitation ("um", "you know") or an ellipsis. `corrects` says the
    hesitation took back what came before ("sorry", "no wait"); `guess` that the item is a
    homophone read as a digit ("to" for 2)."""

    __slots__ = ("digits", "start", "end", "spoken", "pause", "corrects", "guess")

    def __init__(self, digits: str, start: int, end: int, spoken: bool, pause: int = 0) -> None:
        self.digits, self.start, self.end, self.spoken, self.pause = digits, start, end, spoken, pause
        self.corrects = self.guess = False

    def __repr__(self) -> str:
        return f"DigitItem({self.digits!r}, {self.start}, {self.end}, spoken={self.spoken}, pause={self.pause})"


class NumberRun:
    """Consecutive number items read as one number: `digits` is the stream, `items` map it back."""

    __slots__ = ("items", "marks", "digits")

    def __init__(self, items: list[DigitItem], marks: str = "") -> None:
        self.items = items
        self.marks = marks  # separator punctuation seen between the items (":" of a time, "/" of a date)
        self.digits = "".join([item.digits for item in items])

    @property
    def start(self) -> int:
        return self.items[0].start

    @property
    def end(self) -> int:
        return self.items[-1].end

    @property
    def spoken(self) -> bool:
        return any(item.spoken for item in self.items)

    def sub(self, first: int, last: int) -> NumberRun:
        """The items first..last (inclusive) as a run of their own."""
        return NumberRun(self.items[first : last + 1], self.marks)

    def __repr__(self) -> str:
        return f"NumberRun({self.digits!r}, {self.start}, {self.end})"


def ascii_digits(token: str) -> str:
    return token if token.isascii() else "".join(str(int(c)) for c in token)


def number_word_hits(lowered: str) -> list[tuple[int, int, int]]:
    """(start, end, weight) of whole number words in lower-cased text; weight = digits it may stand for."""
    hits: list[tuple[int, int, int]] = []
    size = len(lowered)
    for word, weight in _SEARCH_WORDS.items():
        at = lowered.find(word)
        while at != -1:
            end = at + len(word)
            # whole words only: "phone" and "money" contain "one", "often" contains "ten"
            if (at == 0 or not lowered[at - 1].isalpha()) and (end == size or not lowered[end].isalpha()):
                hits.append((at, end, weight))
            at = lowered.find(word, end)
    for ending, words in _SEARCH_ENDINGS.items():
        at = lowered.find(ending)
        while at != -1:
            end = at + len(ending)
            if end == size or not lowered[end].isalpha():
                start = at
                while start > 0 and end - start < _LONGEST_ENDING_WORD and lowered[start - 1].isalpha():
                    start -= 1
                weight = words.get(lowered[start:end])
                if weight is not None and (start == 0 or not lowered[start - 1].isalpha()):
                    hits.append((start, end, weight))
            at = lowered.find(ending, end)
    return hits


def candidate_regions(
    lowered: str, numeric: Iterable[tuple[int, int, str]], hits: Iterable[tuple[int, int, int]] | None = None
) -> list[tuple[int, int]]:
    """Regions (start, end) worth tokenising: number tokens (digit groups from `numeric`, number
    words) at most a few words apart, together able to hold at least three digits."""
    tokens = [(s, e, len(d)) for s, e, d in numeric]
    tokens += number_word_hits(lowered) if hits is None else hits
    if not tokens:
        return []
    tokens.sort()
    regions: list[tuple[int, int]] = []
    start, end, weight = tokens[0]
    for s, e, w in tokens[1:]:
        if s - end <= _CLUSTER_GAP:
            end = max(end, e)
            weight += w
            continue
        if _long_enough(lowered, start, end, weight):
            regions.append((start, end))
        start, end, weight = s, e, w
    if _long_enough(lowered, start, end, weight):
        regions.append((start, end))
    return [_widen(lowered, s, e) for s, e in regions]


def _long_enough(lowered: str, start: int, end: int, weight: int) -> bool:
    return weight >= _MIN_DIGITS or _multiplied(lowered, start, end, weight) or _homophones_lead(lowered, start, weight)


def _multiplied(lowered: str, start: int, end: int, weight: int) -> bool:
    """A short cluster that a "double"/"triple" just before or inside it makes long enough ("triple
    seven", "six double one")."""
    said = lowered[max(0, start - _MULTIPLIER_LOOKBACK) : end]
    return any(weight + times - 1 >= _MIN_DIGITS and f"{word} " in said for word, times in MULTIPLIERS.items())


def _homophones_lead(lowered: str, start: int, weight: int) -> bool:
    """A short cluster that homophones just before it may make a code ("to for six"): a region for
    the homophone reading (the plain one finds too few digits in it and keeps it)."""
    before = lowered[max(0, start - _HOMOPHONE_LOOKBACK) : start]
    if not before.endswith(_HOMOPHONE_ENDINGS):  # most clusters: one C-speed check
        return False
    words = before.split()
    lead = 0
    for word in reversed(words):
        if word not in HOMOPHONES:
            break
        lead += 1
    return lead > 0 and weight + lead >= _MIN_DIGITS


_HOMOPHONE_LOOKBACK = 8  # "to for ", "won to "
_HOMOPHONE_ENDINGS = tuple(f"{word} " for word in HOMOPHONES)
_NUMBER_WORDS = frozenset({*UNITS, *TEENS, *TENS, *MULTIPLIERS})
_WIDEN_WORDS = _NUMBER_WORDS | {HUNDRED, THOUSAND, *HOMOPHONES}
_WIDEN_GAP = " ,.-"
# "triple seven", "double one four": the multiplier is not searched for, so a region found from its
# digit words alone looks too short; these many characters before it are checked for one.
_MULTIPLIER_LOOKBACK = 8


def _widen(lowered: str, start: int, end: int) -> tuple[int, int]:
    """A region grown to whole words ("user838" is no number) and over the number words next to it
    that are not searched for ("o four", "double five", "twelve twenty six", "ten")."""
    while start > 0 and lowered[start - 1].isalnum():
        start -= 1
    while True:
        at = start
        while at > 0 and start - at < 3 and lowered[at - 1] in _WIDEN_GAP:
            at -= 1
        word_end = at
        while at > 0 and word_end - at < 9 and lowered[at - 1].isalpha():
            at -= 1
        if at == word_end or (at > 0 and lowered[at - 1].isalnum()) or lowered[at:word_end] not in _WIDEN_WORDS:
            break
        start = at
    size = len(lowered)
    while end < size and lowered[end].isalnum():
        end += 1
    while True:
        at = end
        while at < size and at - end < 3 and lowered[at] in _WIDEN_GAP:
            at += 1
        word_start = at
        while at < size and at - word_start < 9 and lowered[at].isalpha():
            at += 1
        if at == word_start or (at < size and lowered[at].isalnum()) or lowered[word_start:at] not in _WIDEN_WORDS:
            break
        end = at
    return start, end


def runs_in_regions(
    lowered: str, regions: Sequence[tuple[int, int]], min_digits: int = _MIN_DIGITS, homophones: bool = False
) -> list[NumberRun]:
    """The number runs inside the given regions of lower-cased text, in order. With `homophones`,
    only the regions holding one are read, and "for", "to", "won", "ate" next to number words are
    digits (items marked `guess`)."""
    runs: list[NumberRun] = []
    for start, end in regions:
        if homophones:  # only cards and codes are looked for
            if _HOMOPHONE.search(lowered, start, end) is not None:
                runs += _parse(lowered, start, end, min_digits, homophones=True)
        elif _LETTER.search(lowered, start, end) is None:  # typed digits only: no words to read
            runs += _parse_typed(lowered, start, end, min_digits)
        else:
            runs += _parse(lowered, start, end, min_digits)
    return runs


_HOMOPHONE = lazy_regex(r"\b(?:" + "|".join(HOMOPHONES) + r")\b")


_LETTER = lazy_regex(r"[^\W\d_]")
_DIGITS = lazy_regex(r"\d+")
_BLANKS = frozenset(" \t\r\n\x1e\u00a0\u2009\u202f")


def _parse_typed(lowered: str, start: int, end: int, min_digits: int) -> list[NumberRun]:
    """_parse for a region without letters: digit groups and what lies between them."""
    runs: list[NumberRun] = []
    items: list[DigitItem] = []
    marks: list[str] = []
    digits = 0
    previous = start
    for m in _DIGITS.finditer(lowered, start, end):
        s, e = m.span()
        pause = 0
        if items:
            gap = lowered[previous:s]
            stripped = gap.strip(" ")
            if stripped:
                if any(c not in _BLANKS and c not in SEPARATORS for c in stripped):
                    if digits >= min_digits:
                        runs.append(NumberRun(items, "".join(marks)))
                    items, marks, digits = [], [], 0
                else:
                    marks.append(stripped)
                    # as _parse: "...", "…" 2; a comma, a full stop or a segment boundary 1
                    pauses = sum(1 for c in stripped if c in _PAUSES)
                    boundary = "\n" in stripped or "\x1e" in stripped
                    pause = 2 if pauses > 1 or "\u2026" in stripped else 1 if pauses or boundary else 0
        token = m.group()
        items.append(DigitItem(ascii_digits(token), s, e, False, pause if items else 0))
        digits += len(token)
        previous = e
    if items and digits >= min_digits:
        runs.append(NumberRun(items, "".join(marks)))
    return runs


def number_runs(text: str, min_digits: int = 1) -> list[NumberRun]:
    """Every number run of `text` (whole text tokenised; for tests and small texts)."""
    return _parse(text.lower() if len(text.lower()) == len(text) else text, 0, len(text), min_digits)


def digit_stream(text: str) -> str:
    """The digits `text` says, runs joined with spaces: "four one, um, double two" -> "4122"."""
    return " ".join(run.digits for run in number_runs(text))


def _parse(lowered: str, start: int, end: int, min_digits: int, homophones: bool = False) -> list[NumberRun]:
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(lowered, start, end)]
    runs: list[NumberRun] = []
    items: list[DigitItem] = []
    marks: list[str] = []
    fillers = 0
    pause = 0
    open_tens = False  # the last item is a bare "twenty" that a unit may complete ("twenty one")
    multiplier = 0
    multiplier_start = 0
    corrects = False  # a correction ("sorry", "no wait") since the last item

    def flush() -> None:
        nonlocal items, marks, fillers, pause, open_tens, multiplier, corrects
        if items and (len(items) >= min_digits or sum(len(i.digits) for i in items) >= min_digits):
            runs.append(NumberRun(items, "".join(marks)))
        items, marks, fillers, pause, open_tens, multiplier, corrects = [], [], 0, 0, False, 0, False

    def add(digits: str, s: int, e: int, spoken: bool) -> None:
        nonlocal fillers, pause, multiplier, corrects
        if multiplier:
            if len(digits) == 1:
                digits, s = digits * multiplier, multiplier_start
            multiplier = 0
        if items and not pause:  # a segment boundary is a pause too
            gap = lowered[items[-1].end : s]
            pause = 1 if "\n" in gap or "\x1e" in gap else 0
        items.append(DigitItem(digits, s, e, spoken, pause if items else 0))
        items[-1].corrects = corrects and len(items) > 1
        fillers, pause, corrects = 0, 0, False

    k = 0
    n = len(tokens)
    while k < n:
        s, e, tok = tokens[k]
        k += 1
        if items and (tok.isdecimal() or tok in _NUMBER_WORDS) and not _continues(lowered, items[-1].end, tokens, k - 1):
            flush()  # "... 1381.\nOne let me check": the next segment's "one" is a word, not more digits
        if tok.isdecimal():
            open_tens = False
            add(ascii_digits(tok), s, e, False)
            continue
        unit = UNITS.get(tok)
        if unit is not None and lowered[max(0, s - 7) : s].endswith(_COUNTING):
            unit = None  # "the last four", "first six": how many digits, not one of them
        if unit is not None:
            if open_tens and unit and not fillers and not pause and not multiplier:
                last = items[-1]
                last.digits, last.end = str(int(last.digits) + unit), e
                open_tens = False
                continue
            open_tens = False
            add(str(unit), s, e, True)
            continue
        teen = TEENS.get(tok)
        if teen is not None:
            open_tens = False
            multiplier = 0
            add(str(teen), s, e, True)
            continue
        tens = TENS.get(tok)
        if tens is not None:
            multiplier = 0
            add(str(tens * 10), s, e, True)
            open_tens = True
            continue
        times = MULTIPLIERS.get(tok)
        if times is not None and k < n:
            following = tokens[k][2]
            if following in UNITS or (following.isdecimal() and len(following) == 1):
                open_tens = False
                multiplier, multiplier_start = times, s
                continue
        if tok == THOUSAND and items and items[-1].spoken and not fillers and not pause and not multiplier:
            value = int(items[-1].digits)
            if 1 <= value <= 99:
                value, k = _compound_after_thousand(tokens, k, value * 1000)
                last = items[-1]
                last.digits, last.end = str(value), tokens[k - 1][1]
                open_tens = False
                continue
        if homophones and tok in HOMOPHONES and not multiplier and (items or _number_token_at(tokens, k)):
            open_tens = False
            add(HOMOPHONES[tok], s, e, True)
            items[-1].guess = True
            continue
        if tok == HUNDRED and items and not fillers and not pause and not multiplier:
            last = items[-1]
            last.digits, last.end = last.digits + "00", e
            open_tens = False
            continue
        if not items:
            continue
        if tok in FILLERS:
            fillers += 1
            pause = 2
            open_tens = False
            corrects = corrects or tok in CORRECTIONS
            if fillers > MAX_FILLERS:
                flush()
            continue
        if tok in _PHRASE_STARTS:
            matched = _phrase_at(tokens, k - 1)
            if matched:
                k += matched - 1
                fillers += 1
                pause = 2
                open_tens = False
                corrects = corrects or tok in ("no", "i")
                if fillers > MAX_FILLERS:
                    flush()
                continue
        said = SEPARATOR_WORDS.get(tok)
        if said is not None:
            marks.append(said)
            continue
        if len(tok) == 1 and tok in SEPARATORS:
            marks.append(tok)
            if tok in _PAUSES:
                # "...", "…": a longer pause than a comma
                pause = 2 if pause or tok == "\u2026" else 1
                open_tens = False
            continue
        flush()
    flush()
    return runs


def _number_token_at(tokens: list[tuple[int, int, str]], k: int) -> bool:
    return k < len(tokens) and (tokens[k][2].isdecimal() or tokens[k][2] in UNITS or tokens[k][2] in HOMOPHONES)


def _compound_after_thousand(tokens: list[tuple[int, int, str]], k: int, value: int) -> tuple[int, int]:
    """The rest of "four thousand [one hundred] [and] [eleven | twenty seven | five]" from tokens[k]:
    the whole value and the index after it."""
    n = len(tokens)
    word = lambda j: tokens[j][2] if j < n else ""  # noqa: E731
    if UNITS.get(word(k)) and word(k + 1) == HUNDRED:
        value, k = value + UNITS[word(k)] * 100, k + 2
    if word(k) == "and" and (word(k + 1) in UNITS or word(k + 1) in TEENS or word(k + 1) in TENS):
        k += 1
    if word(k) in TEENS:
        value, k = value + TEENS[word(k)], k + 1
    elif word(k) in TENS:
        value, k = value + TENS[word(k)] * 10, k + 1
        if UNITS.get(word(k)):
            value, k = value + UNITS[word(k)], k + 1
    elif UNITS.get(word(k)):
        value, k = value + UNITS[word(k)], k + 1
    return value, k


def _continues(lowered: str, previous_end: int, tokens: list[tuple[int, int, str]], k: int) -> bool:
    """Whether tokens[k], a number token, continues the number before it. Across a segment
    boundary only when more of the number follows it (or the segment holds nothing else)."""
    s = tokens[k][0]
    gap = lowered[previous_end:s]
    if "\n" not in gap and "\x1e" not in gap:
        return True
    if tokens[k][2].isdecimal() and lowered[previous_end - 1 : previous_end].isdecimal() and not gap.strip():
        return True  # typed digits on at the next message's start ("4111 1111 1111 111" / "1 and the code is 123")
    after = _TOKEN.search(lowered, tokens[k][1])  # the text goes on beyond the region
    if after is None:
        return True
    between = lowered[tokens[k][1] : after.start()]
    if "\n" in between or "\x1e" in between:
        return True
    following = after.group()
    return following.isdecimal() or following in _NUMBER_WORDS or following in FILLERS or following in (",", "-")


def _phrase_at(tokens: list[tuple[int, int, str]], k: int) -> int:
    """Number of tokens of the filler phrase starting at tokens[k], 0 when none does."""
    for phrase in FILLER_PHRASES:
        if k + len(phrase) <= len(tokens) and all(tokens[k + j][2] == w for j, w in enumerate(phrase)):
            return len(phrase)
    return 0
