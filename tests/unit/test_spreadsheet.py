"""CSV exports never hand a spreadsheet a formula (ccaas.domain.spreadsheet), and keep numbers numbers."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccaas.domain.spreadsheet import safe_cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("text", [
    '=HYPERLINK("https://evil.example","Open")', "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
    "\t=1+1", "\r=1+1", "-", "+", "=", "@", "+1 (415) 555-0101", "-1.5.2", "- billing", "-\u0663",
])
def test_text_a_spreadsheet_would_evaluate_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", [
    "billing", "", "42", "-1.5", "+14155550101", "-3e-07", "1e309", "2026-11-20T10:00:00-05:00", "ana", "'=already",
    " =leading space", "＝fullwidth",
])
def test_plain_text_and_numbers_are_left_as_they_are(text):
    assert safe_cell(text) == text


@given(st.text(max_size=40))
def test_no_cell_starts_a_formula_and_only_an_apostrophe_is_ever_added(text):
    cell = safe_cell(text)
    assert cell in (text, "'" + text)
    if cell.startswith(FORMULA_STARTS):  # only a plain number may (a sign, digits, a decimal point, an exponent)
        float(cell)
    # read back by a CSV reader, the cell is what was written
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell])
    assert next(csv.reader(io.StringIO(buffer.getvalue()), strict=True)) == [cell]
