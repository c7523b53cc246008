"""The benches' plain-text tables: numbers right-aligned whatever their sign or unit, text left-aligned."""
from __future__ import annotations

from bench.table import _numeric, print_table


def test_signed_and_suffixed_numbers_are_numbers_and_words_are_not():
    for text in ("+16.6", "-3", "1,234", "12 %", "3.1x", "1.5e-05", "$0.35", "0"):
        assert _numeric(text), text
    for text in ("abc", "x", "-", "e", "", "predictive", "n/a"):
        assert not _numeric(text), text


def test_a_gain_column_lines_up_on_the_right(capsys):
    print_table("t", ["mode", "gain"], [["predictive", "+16.6"], ["progressive", "0"]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].endswith("+16.6") and lines[-1].endswith("    0")
    assert lines[-2].startswith("predictive ") and lines[-1].startswith("progressive")
