"""Outside probe 37, finding 2: a phone cell with invisible characters was a row error — a no-break space from an
Excel or web export ('+1\u00a0212\u00a0555\u00a00143') or a direction mark from copy-paste ('(212)\u200f555-0144'). Unicode
space separators (Zs) read as blanks and format characters (Cf: direction marks, zero-width) are dropped before the
number is parsed; anything else that is not part of a number still refuses the cell."""
from __future__ import annotations

import json

import pytest

from ccaas.domain.outbound.lists import parse_csv, parse_json, parse_number
from ccaas.usecases import outbound
from ccaas.usecases.outbound import ListUpload, SuppressionRequest
from tests.unit.test_outbound_usecases import T, _campaign, deps  # noqa: F401 - deps: fixture

INVISIBLE = [
    ("+1\u00a0212\u00a0555\u00a00143", "+12125550143"),        # no-break space (Excel, web pages)
    ("(212)\u200f555-0144", "+12125550144"),                   # right-to-left mark
    ("\u200e+1 212 555 0145\u200e", "+12125550145"),           # left-to-right marks around it
    ("\u202a212-555-0146\u202c", "+12125550146"),              # embedding ... pop directional formatting
    ("\u2066212\u2009555\u20090147\u2069", "+12125550147"),    # isolates, thin spaces
    ("212\u202f555\u202f0148", "+12125550148"),                # narrow no-break space (French exports)
    ("212\u200b555\u200b0149", "+12125550149"),                # zero-width spaces
    ("\ufeff212\u3000555\u30000150 ext.\u00a07", "+12125550150"),  # a BOM, ideographic spaces, an extension
]


@pytest.mark.parametrize(("cell", "e164"), INVISIBLE)
def test_a_number_with_invisible_characters_is_the_number(cell, e164):
    assert parse_number(cell)[0] == e164


@pytest.mark.parametrize(("cell", "e164"), INVISIBLE)
def test_csv_and_json_rows_load_it(cell, e164):
    quoted = '"' + cell.replace('"', '""') + '"'
    csv_rows = parse_csv(f"row_id,phone\nr1,{quoted}\n").rows
    json_rows = parse_json(json.loads(json.dumps([{"row_id": "r1", "phone": cell}]))).rows
    assert [r.numbers for r in csv_rows] == [r.numbers for r in json_rows] == [(e164,)]


@pytest.mark.parametrize("cell", [
    "1-800-FLOWERS", "fax:\u00a0212 555 0143", "212\u00a0555\u00a0O143", "+1 212 555 0143\u00a0(home)",
    "\u200f", "\u00a0\u00a0", "212\u2028555 0143",  # nothing but invisible characters; a line separator is no blank
])
def test_letters_vanity_numbers_and_other_text_stay_errors(cell):
    with pytest.raises(ValueError):
        parse_number(cell)
    parsed = parse_csv(f'row_id,phone\nr1,"{cell}"\n')
    assert parsed.rows == () and [(e.line, e.field) for e in parsed.errors] == [(2, "phone")]


def test_an_upload_and_a_suppression_read_such_numbers_as_the_same_number(deps):
    _campaign(deps)
    loaded = outbound.upload_list(deps, T, "c1", ListUpload(format="json", rows=[
        {"row_id": "r1", "phone": "+1\u00a0212\u00a0555\u00a00143", "consent_automated_voice": True}]))
    assert loaded.accepted == 1 and loaded.errors == []
    stored = outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number",
                                                                            "value": "(212)\u200f555-0143"}]))
    assert stored.numbers == ["+12125550143"]


def test_a_second_phone_cell_that_only_looks_empty_is_empty():
    parsed = parse_csv('row_id,phone,phone2\nr1,212 555 0143,"\u200e\u00a0"\n')
    assert parsed.errors == () and [r.numbers for r in parsed.rows] == [("+12125550143",)]
