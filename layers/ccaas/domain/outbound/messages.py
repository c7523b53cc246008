"""Text messages and outbound compliance (pure): opt-out keywords in what a customer writes, and the text an
agentless SMS campaign sends.

- `is_opt_out(text)`: the whole message is a carrier-standard opt-out keyword (CTIA / the US carriers' short
  code and 10DLC rules: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT), and every word the FCC's
  2024 revocation rule names (47 CFR 64.1200(a)(10), FCC 24-24, in force 2025-04-11: stop, quit, end,
  revoke, opt out, cancel, unsubscribe). Case, blanks, punctuation and symbols do not matter ("Stop.", " stop all ", "OPT-OUT",
  "ＳＴＯＰ" after NFKC); a keyword inside a sentence does not count ("please don't stop my service" is a
  message for an agent, not an opt-out): the same reading carriers apply to a whole-message keyword.
- `sms_text(message)`: the agentless message with the opt-out notice ("Reply STOP to opt out.") appended,
  unless the message already tells how to opt out: one of its clauses (the text between . ! ? ; , : and line
  breaks, after NFKC) IS an opt-out instruction — "reply", "text", "txt" or "send" (optionally "please" before,
  "with" or "back" after), then the keyword STOP (quotes allowed), then nothing, or "to <number>", and/or "to opt
  out / unsubscribe / stop / end / cancel / quit" followed by anything ("Reply STOP to opt out.", "Text STOP to
  55555 to end alerts", "To opt out, reply STOP."). A clause that only mentions the keyword is no instruction
  ("Do not reply STOP to this number", "we will never ask you to reply STOP", "Reply STOP to this number"):
  the notice is appended. A notice appended to an instruction the rule does not read ("Reply STOP or QUIT to
  opt out") only repeats it; a missing one is a message sent without a way out.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["OPT_OUT_KEYWORDS", "OPT_OUT_NOTICE", "MAX_KEYWORD_MESSAGE", "is_opt_out", "sms_text", "tells_how_to_opt_out"]

OPT_OUT_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"})
OPT_OUT_NOTICE = "Reply STOP to opt out."
MAX_KEYWORD_MESSAGE = 64  # a longer message is never a bare keyword (and is not normalised at all)
_NOT_LETTERS = re.compile(r"[\W_]+", re.UNICODE)
_CLAUSE_BREAKS = re.compile(r"[.!?;,:\n\r]+")
_QUOTE = "[\"'‘’“”«»]?"
# A whole clause (see the module docstring): the keyword as what to send, not a word a sentence mentions.
_OPT_OUT_INSTRUCTION = re.compile(
    rf"(?:please\s+)?(?:reply|text|txt|send)(?:\s+(?:with|back))?\s+{_QUOTE}stop{_QUOTE}"
    r"(?:\s+to\s+\+?[0-9][0-9 -]*[0-9])?"  # "Text STOP to 55555": where to send it
    r"(?:\s+to\s+(?:opt[\s-]?out|unsubscribe|stop|end|cancel|quit)\b.*)?",
    re.IGNORECASE)


def _letters(text: str) -> str:
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", text)).casefold()


def is_opt_out(text: str | None) -> bool:
    """True when the whole message is an opt-out keyword (see the module docstring)."""
    if not text or len(text) > MAX_KEYWORD_MESSAGE:
        return False
    return _letters(text) in OPT_OUT_KEYWORDS


def tells_how_to_opt_out(message: str) -> bool:
    """True when a clause of the message is an opt-out instruction (see the module docstring)."""
    clauses = _CLAUSE_BREAKS.split(unicodedata.normalize("NFKC", message))
    return any(_OPT_OUT_INSTRUCTION.fullmatch(c.strip(" \t\"'‘’“”()[]")) for c in clauses)


def sms_text(message: str) -> str:
    """The text an agentless SMS sends: the message, then the opt-out notice unless it already holds one (once)."""
    body = message.strip()
    if tells_how_to_opt_out(body):
        return body
    return f"{body} {OPT_OUT_NOTICE}" if body else OPT_OUT_NOTICE
