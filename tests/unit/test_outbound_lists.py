"""Contact lists (ccaas.domain.outbound.lists): CSV and JSON rows, per-line/field errors, numbers parsed
with phonenumbers, time zones from the row, the postal code or the number."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ccaas.domain.outbound.lists import (
    MAX_COLUMNS, MAX_ERRORS, ListTooLarge, NothingToLoad, parse_csv, parse_json, parse_number, upload_tag,
)
from ccaas.domain.outbound.zones import STATE_ZONES, state_for_postal_code, zones_for_state

CSV = """row_id,phone,email,time_zone,postal_code,account_id,consent_automated_voice,consent_automated_voice_source,consent_automated_voice_at,tier
r1,(212) 555-0134,pat@example.com,,,A1,yes,web_form,2026-01-02T10:00:00Z,gold
r2,555-0000,,,,A2,yes,,,
r3,+1 602 555 0100;310-555-0101,,,33101,A3,no,,,
r4,415 555 0100,,Mars/Olympus,,A4,maybe,,,
r5,303-555-0100,,America/Denver,,A5,,,,
r6,808-555-0100,not-an-email,,,A6,,,,
r7,212 555 0177,,,,A7,true,,2026-01-02T10:00:00,
"""


def test_valid_rows_load_and_bad_rows_are_reported_by_line_and_field():
    parsed = parse_csv(CSV)
    assert [r.row_id for r in parsed.rows] == ["r1", "r3", "r5"]
    assert parsed.total == 7 and parsed.accepted == 3
    errors = {(e.line, e.field) for e in parsed.errors}
    assert (3, "phone") in errors                       # 555-0000 is not a US number
    assert {(5, "time_zone"), (5, "consent_automated_voice")} <= errors
    assert (6 + 1, "email") in errors                   # r6 is on line 7
    assert (8, "consent_automated_voice_at") in errors  # no UTC offset
    bad = next(e for e in parsed.errors if e.line == 3)
    assert bad.message.startswith("not a valid number for region US")
    assert parsed.error_count == len(parsed.errors)


def test_row_fields_are_normalised():
    r1, r3, r5 = parse_csv(CSV).rows
    assert r1.numbers == ("+12125550134",) and r1.phones[0].zones == ("America/New_York",)
    assert r1.phones[0].zone_source == "number"
    assert r1.consent_automated_voice.granted and r1.consent_automated_voice.source == "web_form"
    assert r1.consent_automated_voice.at == datetime(2026, 1, 2, 10, tzinfo=timezone.utc)
    assert r1.attributes == {"tier": "gold"} and r1.line == 2 and r1.account_id == "A1"
    # a Miami ZIP: Florida spans two zones, both kept; the numbers are geographic (Phoenix, Los Angeles), so
    # their own zones are kept too: the calling window must hold wherever the person may be
    assert r3.state == "FL" and r3.numbers == ("+16025550100", "+13105550101")
    assert [p.zones for p in r3.phones] == [("America/New_York", "America/Chicago", "America/Phoenix"),
                                            ("America/New_York", "America/Chicago", "America/Los_Angeles")]
    assert all(p.zone_source == "postal_code" for p in r3.phones)
    assert not r3.consent_automated_voice.granted
    assert r5.phones[0].zones == ("America/Denver",) and r5.phones[0].zone_source == "row"
    assert r5.consent_automated_voice is None


def test_numbers_spanning_zones_keep_all_of_them():
    number, zones = parse_number("907 555 0100")  # Alaska: Anchorage and Adak
    assert number == "+19075550100" and set(zones) == {"America/Anchorage", "America/Adak"}
    parsed = parse_json([{"phone": "907-555-0100", "account_id": "A"}])
    assert set(parsed.rows[0].phones[0].zones) == {"America/Anchorage", "America/Adak"}


def test_a_time_zone_column_adds_to_the_address_zones_never_replaces_them():
    """A New York number and zone on a row whose address is in California: calling hours must hold in both
    (it was checked in New York's zone only, and dialed at 05:30 in Los Angeles)."""
    parsed = parse_json([{"row_id": "z", "phone": "212-555-0100", "time_zone": "America/New_York", "postal_code": "90210"},
                         {"row_id": "s", "phone": "212-555-0101", "time_zone": "America/New_York", "state": "CA"},
                         {"row_id": "n", "phone": "212-555-0102", "time_zone": "America/New_York", "state": "NY"}])
    zones = {r.row_id: r.phones[0].zones for r in parsed.rows}
    assert zones == {"z": ("America/New_York", "America/Los_Angeles"), "s": ("America/New_York", "America/Los_Angeles"),
                     "n": ("America/New_York",)}
    assert all(r.phones[0].zone_source == "row" for r in parsed.rows)


def test_json_lists_with_phone_lists_attributes_and_errors():
    parsed = parse_json([
        {"row_id": "a", "phones": ["212-555-0134", "+44 20 7946 0958"], "attributes": {"plan": "x"},
         "consent_automated_voice": True, "debt_id": "D-1"},
        "not an object",
        {"row_id": "c", "phone": "12"},
        {"row_id": "a", "phone": "212-555-0135"},
        {"row_id": "e", "phone": "212-555-0136", "attributes": {"nested": {"no": 1}}},
    ])
    assert [r.row_id for r in parsed.rows] == ["a"]
    row = parsed.rows[0]
    assert row.numbers == ("+12125550134", "+442079460958") and row.account_id == "D-1"
    assert row.phones[1].zones == ("Europe/London",) and row.attributes == {"plan": "x"}
    assert [(e.line, e.field) for e in parsed.errors] == [(2, "row"), (3, "phone"), (4, "row_id"), (5, "nested")]


def test_duplicate_numbers_in_a_row_are_kept_once_and_extra_phone_columns_are_read():
    text = "phone,phone2,phone_3\n212-555-0134,+12125550134,646-555-0100\n"
    parsed = parse_csv(text)
    assert parsed.rows[0].numbers == ("+12125550134", "+16465550100")
    assert parsed.rows[0].row_id == f"line-2.{upload_tag(text)}"


def test_default_row_ids_are_the_same_for_the_same_upload_and_differ_between_uploads():
    """A retried upload replaces its own rows; a second file's line 2 never replaces the first file's."""
    first = "phone\n+12125550134\n"
    second = "phone\n+12125550135\n"
    assert parse_csv(first).rows[0].row_id == parse_csv(first).rows[0].row_id
    assert parse_csv(first).rows[0].row_id != parse_csv(second).rows[0].row_id
    rows = [{"phone": "+12125550134"}]
    assert parse_json(rows).rows[0].row_id == parse_json([dict(rows[0])]).rows[0].row_id
    assert parse_json(rows).rows[0].row_id != parse_json([{"phone": "+12125550135"}]).rows[0].row_id
    assert parse_json([{"phone": "+12125550134", "row_id": "crm-7"}]).rows[0].row_id == "crm-7"


def test_an_invalid_number_rejects_the_whole_row_and_is_never_accepted():
    parsed = parse_csv("phone\n212-555-0134;999\n")
    assert parsed.rows == () and parsed.errors[0].field == "phone"


def test_numbers_that_bill_the_business_reject_their_row_and_suppressions_still_take_them():
    """A lead form's premium-rate, personal or satellite number would be dialed on the tenant's account."""
    parsed = parse_csv("row_id,phone,time_zone\np,+1 900 555 0100,America/New_York\nq,+1 500 555 0000,America/New_York\n"
                       "s,+881 612 345 678,UTC\nok,212-555-0134;+1 800 555 0100,\n")
    assert [r.row_id for r in parsed.rows] == ["ok"] and len(parsed.rows[0].numbers) == 2
    reasons = {e.line: e.message for e in parsed.errors}
    assert "premium-rate" in reasons[2] and "personal" in reasons[3] and "non-geographic" in reasons[4], reasons
    assert parse_number("+1 900 555 0100")[0] == "+19005550100"  # suppressing or consenting a number is no call


def test_csv_line_numbers_count_quoted_newlines_and_blank_lines():
    text = 'row_id,phone,note\nr1,212-555-0134,"two\nlines"\n\nr2,bad,\n'
    parsed = parse_csv(text)
    assert [r.row_id for r in parsed.rows] == ["r1"]
    assert parsed.errors[0].line == 5


def test_other_region_lists_and_error_caps():
    uk = parse_csv("phone\n020 7946 0958\n", region="GB")
    assert uk.rows[0].numbers == ("+442079460958",)
    many = parse_csv("phone\n" + "x\n" * (MAX_ERRORS + 10))
    assert len(many.errors) == MAX_ERRORS and many.error_count == MAX_ERRORS + 10
    with pytest.raises(NothingToLoad) as empty:
        parse_csv("")
    assert empty.value.field == "content"
    assert parse_json({"phone": "1"}).errors[0].field == "body"
    # past the cap nothing loads (a first 10,000 stored, then the file sent again in parts, stored them twice)
    with pytest.raises(ListTooLarge, match="more than 2 rows"):
        parse_csv("phone\n" + "212-555-0134\n" * 3, max_rows=2)
    with pytest.raises(ListTooLarge, match="more than 2 rows"):
        parse_json([{"phone": "212-555-0134"}] * 3, max_rows=2)
    assert len(parse_csv("phone\n" + "212-555-0134\n" * 2, max_rows=2).rows) == 2


def test_an_upload_is_bounded_by_its_numbers_before_any_is_parsed():
    """Ten numbers a row on 10,000 rows were ~90 s of a 512 MB Lambda's CPU: the numbers are the cost."""
    text = "phone,phone_2\n212-555-0134,212-555-0135\n212-555-0136,212-555-0137\n"
    with pytest.raises(ListTooLarge, match="4 phone numbers: at most 3"):
        parse_csv(text, max_numbers=3)
    assert len(parse_csv(text, max_numbers=4).rows) == 2


def test_a_quote_never_closed_is_an_error_at_its_line_and_nothing_after_it_loads():
    """The rest of the file was read as one cell: rows lost, their numbers stored in the attributes of the row."""
    parsed = parse_csv('row_id,phone,nickname\nr0,+12125550100,Al\nr1,+12125550101,"Bob\nr2,+12125550102,Cy\n'
                       'r3,+12125550103,Di\n')
    assert [r.row_id for r in parsed.rows] == ["r0"] and all("Bob" not in str(r.attributes) for r in parsed.rows)
    assert [(e.line, e.field) for e in parsed.errors] == [(3, "row")] and "unreadable CSV" in parsed.errors[0].message


def test_a_header_too_wide_is_refused_before_any_row_and_wide_rows_before_the_redactor():
    with pytest.raises(ListTooLarge, match="columns"):
        parse_csv(",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n")
    seen = []
    wide = parse_json([{"phone": "212-555-0134", "attributes": {f"k{i}": "v" for i in range(1_000)}}],
                      redact=lambda given: seen.append(len(given)) or dict(given))
    assert wide.rows == () and wide.errors[0].field == "attributes" and seen == []


def test_zip_prefixes_map_to_states_and_every_state_has_zones():
    assert state_for_postal_code("10001") == "NY"
    assert state_for_postal_code("90210-1234") == "CA"
    assert state_for_postal_code("96813") == "HI"
    assert state_for_postal_code("85001") == "AZ"
    assert state_for_postal_code("abcde") is None and state_for_postal_code("00000") is None
    assert len([s for s in STATE_ZONES if s not in {"PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW"}]) == 51
    assert zones_for_state("tx") == ("America/Chicago", "America/Denver")
