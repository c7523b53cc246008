"""A list row's e-mail is read as the customer directory reads one (domain.customers.normalise_email): NFKC and lower
case, so an e-mail suppression matches it; what is no address (`<a@b.com>`, `mailto:a@b.com`) is a row error, where a
loose pattern stored it as given and no suppression of the address could ever match that row."""
from __future__ import annotations

import pytest

from ccaas.domain.outbound.lists import parse_csv


@pytest.mark.parametrize("cell", ["<jo@example.com>", "mailto:jo@example.com", "jo@example.com>", "a@..com", "a@b.12"])
def test_what_is_no_address_is_a_row_error(cell):
    parsed = parse_csv(f"row_id,phone,email\nr1,+12125550143,{cell}\n")
    assert parsed.rows == () and [e.field for e in parsed.errors] == ["email"]
    assert cell not in parsed.errors[0].message


def test_an_address_is_stored_as_the_directory_keys_it():
    parsed = parse_csv("row_id,phone,email\nr1,+12125550143,Jo@ＥＸＡＭＰＬＥ.Com\n")
    assert [r.email for r in parsed.rows] == ["jo@example.com"]


def test_an_address_with_any_non_ascii_local_part_is_one():
    """RFC 6531: a local part may hold any non-ASCII character but spaces and controls (the outside tier's list row)."""
    from ccaas.domain.customers import normalise_email

    parsed = parse_csv("row_id,phone,email\nr1,+12125550143,😀@example.com\n")
    assert [r.email for r in parsed.rows] == ["😀@example.com"] == [normalise_email("😀@Example.com")]
