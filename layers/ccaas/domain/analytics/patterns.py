"""Tenant-supplied regular expressions, compiled with RE2 (google-re2): matching is linear in the text.

Python's `re` backtracks: a tenant pattern such as `(a+)+$` takes seconds on a 30-character message
(catastrophic backtracking, ReDoS), and one such pattern in a tenant's redaction rules would stall
every transcript of that tenant. RE2 guarantees time linear in pattern x text, at the price of
refusing what needs backtracking: backreferences (`\\1`) and look-arounds (`(?=`, `(?<!`). Those are
refused when the rule is saved, with the pattern named in the error (the API answers 422).

Our own fixed patterns (redaction's built-in detectors, ids, phone numbers) stay on Python's `re`:
they are reviewed, need look-arounds, and are exercised by tests. They are declared with `lazy_regex`
and compiled on first use, not at import (a cold start compiled ~20 of them; tests/unit/test_cold_start_analysis.py
keeps it so); RE2 itself is imported with the first tenant pattern.

RE2 syntax differences a tenant may notice: `\\d`, `\\w`, `\\s`, `\\b` are ASCII-only (use `\\pN`,
`\\pL` for other scripts), `\\Z` is spelled `\\z`, and possessive / atomic groups do not exist (nor
are they needed). Named groups `(?P<name>...)` and inline flags `(?i)`, `(?m)`, `(?s)` work.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

MAX_PATTERN_LENGTH = 500  # characters of one tenant pattern
# RE2's memory budget per compiled pattern (program + DFA cache). A pattern whose program does not fit
# is refused at validation; at match time a DFA that runs out of it falls back to RE2's NFA, which is
# slower but still linear. 1 MiB x 50 patterns bounds one tenant's worst case at ~50 MiB.
RE2_MAX_MEM = 1 << 20
# RE2 is linear in pattern x text, and the pattern's factor is its compiled program: while the DFA's
# states fit RE2_MAX_MEM a search reads each character once, but a pattern whose states do not (nested
# counted repetitions: `(?:.{0,20}){0,40}z` compiles to 7,244 instructions, a card pattern to ~20) makes
# RE2 simulate the program, ~0.5 ms per 100 KB per instruction. Every redacted post or transcript runs
# all of a tenant's patterns, so each is bounded, and so is their sum (MAX_TOTAL_PROGRAM_SIZE x a 200 KB
# post is ~3 s at worst, where 50 such patterns took two minutes).
MAX_PROGRAM_SIZE = 300  # RE2 instructions of one tenant pattern
MAX_TOTAL_PROGRAM_SIZE = 3_000  # of all of a tenant's patterns together


@cache
def _re2() -> tuple[Any, Any]:
    """(the re2 module, our options): imported with the first tenant pattern, never by default rules."""
    import re2  # noqa: PLC0415 - see above

    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False  # the reason is in the exception; RE2 would also print it to stderr
    return re2, options


def compile_tenant_pattern(pattern: str, *, multiline: bool = True, what: str = "pattern", bounded: bool = True) -> Any:
    """The pattern compiled by RE2 (`finditer`, `search`, `match`, `sub` as in `re`), with `^`/`$` at
    line edges when `multiline` (Python's re.MULTILINE).

    Raises ValueError naming `what` and quoting the pattern when it is too long, RE2 cannot compile it,
    or its program is larger than MAX_PROGRAM_SIZE (`programsize` of the result gives the size, for the
    MAX_TOTAL_PROGRAM_SIZE check of a set of patterns); `bounded` False: a stored pattern, compiled whatever its
    size (the bound came after some were stored)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"{what} is {len(pattern)} characters long (at most {MAX_PATTERN_LENGTH})")
    re2, options = _re2()
    try:
        # (?m) in front applies to the whole pattern, like re.MULTILINE; RE2 has no option for it
        regex = re2.compile(f"(?m){pattern}" if multiline else pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"{what} {pattern!r} does not compile with RE2: {reason} (no backreferences or look-arounds)"
        ) from None
    if bounded and regex.programsize > MAX_PROGRAM_SIZE:
        raise ValueError(
            f"{what} {pattern!r} is too complex: RE2 compiles it to {regex.programsize} instructions (at most "
            f"{MAX_PROGRAM_SIZE}); nested or large counted repetitions such as (?:.{{0,20}}){{0,40}} multiply them"
        )
    return regex


_PATTERN_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class _LazyRegex:
    """A fixed pattern compiled by its first use. That use copies the compiled pattern's methods and
    attributes onto the instance, so every later call is a plain attribute lookup, as fast as on the
    `re.Pattern` itself (a warm analysis pays nothing for the laziness)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # called only for attributes not yet copied: the first use
        if name.startswith("_"):
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attribute in (*_PATTERN_METHODS, "pattern", "flags", "groups", "groupindex"):
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_regex({self._source[0]!r})"


def lazy_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done on the pattern's first use instead of at import."""
    return _LazyRegex(pattern, flags)  # type: ignore[return-value] - behaves as the Pattern it compiles to
