"""Outside tests: real-world junk in campaign lists. Every bad row is reported with its line and the field
at fault, the other rows load, and a number that cannot be parsed never reaches a stored row (so it is
never dialed). Pure: the list parser the upload route calls."""
from __future__ import annotations

import phonenumbers
import pytest

from ccaas.domain.outbound.lists import parse_csv, parse_json
from ccaas.usecases.outbound import ListUpload

OK = "+1 212 555 0143"
LONG = "x" * 10_000

# (row, the field reported when the row must be rejected, else None)
JUNK: list[tuple[dict, str | None]] = [
    ({"phone": "+1 (555) 010-2030 ext. 7"}, "phone"),          # 555-01xx: fictional, not a valid number
    ({"phone": "+1 (212) 555-0143 ext. 7"}, None),             # a valid number with an extension
    ({"phone": "0044 20 7946 0000"}, "phone"),                 # a UK IDD prefix on a US list (011 there)
    ({"phone": "5550102030"}, "phone"),
    ({"phone": "1.55501E+10"}, "phone"),                       # a spreadsheet's rounding: digits are lost
    ({"phone": "😀📞😀"}, "phone"),
    ({"phone": LONG}, "phone"),
    ({"phone": None, "email": None, "time_zone": None, "postal_code": None, "state": None}, "phone"),
    ({"phone": OK, "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"phone": OK, "time_zone": LONG}, "time_zone"),
    ({"phone": OK, "postal_code": "SW1A 1AA"}, "postal_code"),  # a UK postcode on a US list
    ({"phone": OK, "postal_code": "M5V 3L9"}, "postal_code"),   # a Canadian one
    ({"phone": OK, "consent_automated_voice": "yes"}, None),
    ({"phone": OK, "consent_automated_voice": "Y"}, None),
    ({"phone": OK, "consent_automated_voice": 1}, None),
    ({"phone": OK, "consent_automated_voice": "oui"}, "consent_automated_voice"),
    ({"phone": OK, "row_id": LONG}, "row_id"),
    ({"phone": OK, "notes": LONG}, "notes"),
    ({"phone": OK, "email": LONG + "@example.com"}, "email"),
    ({"phone": OK, "email": "😀@example.com", "notes": "called 😀 twice"}, None),
    ({"phone": [OK, None, "12"]}, "phone"),
    ({"phone": 12125550143}, None),                            # a JSON number
    ({"phone": OK, "state": "XX"}, "state"),
    ({"phone": OK, "consent_automated_voice": True, "consent_automated_voice_at": "2026-01-01T10:00:00"}, "consent_automated_voice_at"),
    ({"PHONE ": OK, " Email": "a@example.com"}, None),         # header case and blanks
]


def test_every_bad_json_row_is_reported_by_line_and_field_and_the_rest_load():
    parsed = parse_json([row for row, _ in JUNK])
    reported: dict[int, set[str]] = {}
    for error in parsed.errors:
        reported.setdefault(error.line, set()).add(error.field)
        assert error.message and len(error.message) <= 300  # readable, bounded (never the 10k-char value)
    expected_bad = {line: field for line, (_, field) in enumerate(JUNK, start=1) if field}
    assert set(reported) == set(expected_bad), {line: JUNK[line - 1][0] for line in set(reported) ^ set(expected_bad)}
    for line, field in expected_bad.items():
        assert field in reported[line], (line, reported[line])
    assert sorted(row.line for row in parsed.rows) == [line for line, (_, f) in enumerate(JUNK, start=1) if not f]
    assert parsed.total == len(JUNK) and parsed.error_count >= len(expected_bad)


def test_consent_flags_as_people_write_them():
    parsed = parse_json([{"phone": OK, "row_id": f"r{i}", "consent_automated_voice": v}
                         for i, v in enumerate(["yes", "Y", 1, "TRUE", " no ", "N", 0, False, True])])
    assert not parsed.errors
    assert [r.consent_automated_voice.granted for r in parsed.rows] == [True] * 4 + [False] * 4 + [True]


def test_no_unparseable_or_invalid_number_is_ever_stored():
    rows = [row for row, _ in JUNK] + [{"phone": p} for p in ("+1", "+999 123", "000", "911", "+1 212 555 014",
                                                               "tel:", "+1-212-555-0143;ext=1", "\x00", "٠١٢٣")]
    for region in ("US", "GB", "DE"):
        for row in parse_json(rows, region=region).rows:
            for phone in row.phones:
                parsed = phonenumbers.parse(phone.number)
                assert phonenumbers.is_valid_number(parsed) and phone.number.startswith("+") and phone.zones


def test_the_same_rows_as_csv_name_the_file_lines():
    text = ("row_id,phone,time_zone,consent_automated_voice\n"
            f"a,{OK},America/New_York,yes\n"
            "b,1.55501E+10,,\n"
            "\n"
            f'c,"{OK}",Not/AZone,Y\n'
            f"d,{OK},,1\n")
    parsed = parse_csv(text)
    assert {(e.line, e.field) for e in parsed.errors} == {(3, "phone"), (5, "time_zone")}
    assert [r.row_id for r in parsed.rows] == ["a", "d"]


def test_a_uk_list_reads_uk_numbers_in_their_own_zone():
    parsed = parse_json([{"phone": "0044 20 7946 0000"}, {"phone": "020 7946 0001"}, {"phone": "+1 212 555 0143"}],
                        region="GB")
    assert not parsed.errors
    assert [(r.numbers, r.phones[0].zones) for r in parsed.rows] == [
        (("+442079460000",), ("Europe/London",)), (("+442079460001",), ("Europe/London",)),
        (("+12125550143",), ("America/New_York",))]


def test_an_upload_with_junk_items_reports_them_by_index_and_keeps_the_others():
    """null, a string and a list among the rows: each is one row error ("must be an object") at its index,
    the other rows load (the request model must not refuse the whole upload for them)."""
    upload = ListUpload.model_validate({"format": "json", "rows": [None, {"phone": OK}, "x", [OK], {"phone": OK, "row_id": "b"}]})
    parsed = parse_json(upload.rows)
    assert {(e.line, e.field) for e in parsed.errors} == {(1, "row"), (3, "row"), (4, "row")}
    assert parsed.accepted == 2


@pytest.mark.parametrize("cell", [{"number": OK}, "not 2125550143", "fax: 2125550143", "ask for bob 2125550143"])
def test_a_cell_that_is_not_just_a_number_is_refused(cell):
    parsed = parse_json([{"phone": cell}])
    assert parsed.accepted == 0 and [(e.line, e.field) for e in parsed.errors] == [(1, "phone")]


def test_duplicated_rows_never_ring_one_person_several_times_at_once():
    from ccaas.adapters.memory.outbound import RecordingDialer
    from ccaas.bootstrap import memory_dependencies
    from ccaas.domain.models import Agent, AgentStatus, Channel, Queue, QueueAssignment
    from ccaas.domain.tenants import Tenant
    from ccaas.ports_outbound import DialerSettings
    from ccaas.usecases import outbound
    from ccaas.usecases.outbound import CampaignRequest

    dialer = RecordingDialer()
    deps = memory_dependencies(dialers=lambda settings: dialer)
    deps.config.put_tenant(Tenant(tenant_id="t1", name="Outbound"))
    deps.config.put_queue(Queue(tenant_id="t1", queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    for agent_id in ("ana", "ben", "cy"):
        deps.store.save(agents=[Agent(tenant_id="t1", agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
    outbound.put_dialer_settings(deps, "t1", DialerSettings(kind="simulated"))
    outbound.create_campaign(deps, "t1", CampaignRequest(campaign_id="c1", name="Dup", mode="progressive",
                                                         queue_id="sales", caller_id="+12125550199"))
    outbound.change_status(deps, "t1", "c1", "start")
    # FixedClock's instant is 11:00 in New York: inside the window
    row = {"phone": "+12125550101", "time_zone": "America/New_York", "consent_automated_voice": True}
    outbound.upload_list(deps, "t1", "c1", ListUpload(format="json", rows=[row, dict(row), dict(row)]))
    outbound.dial_tick(deps, "t1", "c1")
    numbers = [call.number for call in dialer.dialed]
    assert numbers and len(numbers) == len(set(numbers))
