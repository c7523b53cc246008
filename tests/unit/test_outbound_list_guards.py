"""The outside tester's outbound defects (issue #15), one focused test per rule:
- a number is a cell that holds a number and nothing else (no number picked out of text, an object, a bool);
- a number an earlier row named is a warning ("duplicate of line N") and the dialer never has two calls in
  flight to one number (this campaign's calls, this tick's, another campaign's; preview dials too);
- junk items of a JSON upload are row errors, not a 422 of the whole upload;
- only zones of places (no `localtime`, `Factory`, `posixrules`); only regions phonenumbers supports;
- the list route takes 4 MiB bodies, every other route 1 MiB;
- the calling window holds in the row's zones AND the zones of a geographic number."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydantic import ValidationError

from ccaas.adapters.memory.outbound import RecordingDialer
from ccaas.api import request_body
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Agent, AgentStatus, Channel, Conflict, Queue, QueueAssignment
from ccaas.domain.outbound.compliance import InMemoryHistory, SuppressionSet, check_attempt
from ccaas.domain.outbound.lists import number_zones, parse_csv, parse_json, parse_number
from ccaas.domain.outbound.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    Disposition,
    valid_zone,
)
from ccaas.domain.tenants import Tenant
from ccaas.ports_outbound import CarrierOutcome, DialerSettings
from ccaas.usecases import outbound
from ccaas.usecases.outbound import CampaignRequest, ListUpload
from local.testing import examples

T = "t1"
UTC = timezone.utc
NOW = datetime.fromtimestamp(1_764_000_000, tz=UTC)  # FixedClock: 2025-11-24 16:00 UTC = 11:00 in New York
NY, LA, LONDON = "America/New_York", "America/Los_Angeles", "Europe/London"


# --- a number is a number and nothing else ---------------------------------------------------------------

@pytest.mark.parametrize(("cell", "number"), [
    ("+1 212 555 0143", "+12125550143"),
    ("(212) 555-0143", "+12125550143"),
    ("212.555.0143", "+12125550143"),
    ("212/555-0143", "+12125550143"),
    ("+1 (212) 555-0143 ext. 7", "+12125550143"),   # the extension is dropped: the dialer calls the number
    ("+1 212 555 0143 extension 12", "+12125550143"),
    ("212-555-0143 x7", "+12125550143"),
    ("212-555-0143 X 7", "+12125550143"),
    ("2125550143#9", "+12125550143"),
    ("212 555 0143, ext: 4", "+12125550143"),
    (12125550143, "+12125550143"),                   # a JSON number
    (12125550143.0, "+12125550143"),                 # a spreadsheet's float, no digit lost
])
def test_a_number_with_only_phone_characters_is_taken(cell, number):
    assert parse_number(cell)[0] == number
    parsed = parse_json([{"phone": cell}])
    assert not parsed.errors and parsed.rows[0].numbers == (number,)


@pytest.mark.parametrize("cell", [
    "not 2125550143", "fax: 2125550143", "ask for bob 2125550143", "2125550143 (mobile)", "tel:+12125550143",
    "+1 212 555 0143 ext", "2125550143 ext. seven", "1-800-FLOWERS", "2125550143!", "+1 212 555 0143\n2",
    "{'number': '+1 212 555 0143'}", "['+12125550143']", "٢١٢٥٥٥٠١٤٣",
])
def test_a_cell_with_anything_else_is_refused_at_its_field(cell):
    with pytest.raises(ValueError, match="not a phone number"):
        parse_number(cell)
    parsed = parse_json([{"row_id": "r1", "phone": "+13125550100", "phone2": cell}])
    assert parsed.accepted == 0 and [(e.line, e.field) for e in parsed.errors] == [(1, "phone2")]
    assert len(parsed.errors[0].message) <= 300


@pytest.mark.parametrize(("cell", "said"), [
    ({"number": "+1 212 555 0143"}, "a JSON object"), (True, "bool"), (False, "bool"),
    ([["+12125550143"]], "a list"), ([{"n": 1}], "a JSON object"),
])
def test_a_json_value_that_is_no_text_is_refused(cell, said):
    parsed = parse_json([{"phone": cell}])
    assert parsed.accepted == 0 and [e.field for e in parsed.errors] == ["phone"]
    assert parsed.errors[0].message == f"must be text, not {said}"
    with pytest.raises(ValueError, match="must be text"):
        parse_number(cell)  # type: ignore[arg-type]


# --- junk items of a JSON upload ---------------------------------------------------------------------------

def test_junk_items_pass_the_request_model_and_are_row_errors_by_index():
    upload = ListUpload.model_validate({"format": "json", "rows": [None, 3, {"phone": "+12125550101"}, True, "x"]})
    parsed = parse_json(upload.rows)
    assert [(e.line, e.field, e.message) for e in parsed.errors] == [
        (i, "row", "must be an object") for i in (1, 2, 4, 5)]
    assert [r.line for r in parsed.rows] == [3] and parsed.total == 5
    with pytest.raises(ValidationError):  # still a list, still bounded
        ListUpload.model_validate({"format": "json", "rows": [None] * (outbound.MAX_UPLOAD_ROWS + 1)})


# --- zones and regions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "posix/America/New_York", "right/UTC",
                                  "Etc/Unknown", "America/New_York/", "/etc/localtime", "America/../UTC", " UTC",
                                  "america/new_york", "Mars/Olympus_Mons", ""])
def test_only_zones_of_places_are_zones(name):
    with pytest.raises(ValueError, match="not an IANA time zone"):
        valid_zone(name)
    cell = name.strip() or "x/"  # a list cell is read without its surrounding blanks
    parsed = parse_json([{"phone": "+12125550101", "time_zone": cell if cell != "UTC" else "localtime"}])
    assert [(e.line, e.field) for e in parsed.errors] == [(1, "time_zone")]


@pytest.mark.parametrize("name", ["America/New_York", "UTC", "Etc/UTC", "Etc/GMT+5", "US/Eastern",
                                  "America/Argentina/Buenos_Aires", "America/Port-au-Prince"])
def test_iana_names_are_zones(name):
    assert valid_zone(name) == name


@pytest.mark.parametrize("region", ["XX", "ZZ", "AA", "UK", "EU"])
def test_a_region_phonenumbers_does_not_support_is_refused_at_region(region):
    with pytest.raises(ValidationError) as info:
        ListUpload.model_validate({"format": "json", "rows": [], "region": region})
    assert [e["loc"] for e in info.value.errors()] == [("region",)]


@pytest.mark.parametrize("region", ["US", "GB", "DE", "CA", "IN"])
def test_supported_regions_are_taken(region):
    assert region in phonenumbers.SUPPORTED_REGIONS
    assert ListUpload.model_validate({"format": "json", "rows": [], "region": region}).region == region


# --- the list route's body limit ---------------------------------------------------------------------------

def _event(method: str, path: str, body: str) -> dict:
    return {"httpMethod": method, "path": path, "resource": "/{proxy+}", "body": body, "isBase64Encoded": False,
            "headers": {"content-type": "application/json"}}


def _rows(n: int) -> list[dict]:
    return [{"row_id": f"r{i:05d}", "phone": f"+1212555{i % 10_000:04d}", "time_zone": NY, "account_id": f"acct-{i:05d}",
             "consent_automated_voice": True, "email": f"customer{i}@example.com"} for i in range(n)]


def test_ten_thousand_rows_fit_the_list_route_and_only_it():
    body = json.dumps({"format": "json", "rows": _rows(10_000)})
    assert request_body.MAX_BODY_BYTES < len(body) < request_body.LIST_UPLOAD_MAX_BODY_BYTES
    assert request_body.normalise(_event("POST", "/campaigns/c1/lists", body))["body"] == body
    for method, path in [("POST", "/campaigns/c1"), ("PUT", "/campaigns/c1/lists"), ("POST", "/campaigns/c1/lists/x"),
                         ("POST", "/contacts/c1/transcript")]:
        with pytest.raises(request_body.BodyProblem) as info:
            request_body.normalise(_event(method, path, body))
        assert info.value.status == 413 and str(request_body.MAX_BODY_BYTES) in info.value.message
    too_big = "x" * (request_body.LIST_UPLOAD_MAX_BODY_BYTES + 1)
    for event in (_event("POST", "/campaigns/c1/lists", too_big),
                  {**_event("POST", "/campaigns/c1/lists", base64.b64encode(too_big.encode()).decode()),
                   "isBase64Encoded": True}):
        with pytest.raises(request_body.BodyProblem) as info:
            request_body.normalise(event)
        assert info.value.status == 413 and str(request_body.LIST_UPLOAD_MAX_BODY_BYTES) in info.value.message


# --- every zone the person may be in -----------------------------------------------------------------------

@pytest.mark.parametrize(("row", "zones", "source"), [
    ({"phone": "+44 20 7946 0000", "postal_code": "90210"}, (LA, LONDON), "postal_code"),   # the outside report
    ({"phone": "+44 20 7946 0000", "time_zone": LA}, (LA, LONDON), "row"),
    ({"phone": "+1 212 555 0143", "time_zone": LA}, (LA, NY), "row"),                      # moved, kept the number
    ({"phone": "+1 212 555 0143", "time_zone": NY}, (NY,), "row"),
    ({"phone": "+1 212 555 0143", "state": "FL"}, (NY, "America/Chicago"), "state"),
    ({"phone": "+1 312 555 0143", "state": "FL"}, (NY, "America/Chicago"), "state"),
    ({"phone": "+1 800 555 1234", "time_zone": LA}, (LA,), "row"),                         # toll-free: nowhere
    ({"phone": "+44 7911 123456", "time_zone": "Europe/Madrid"}, ("Europe/Madrid",), "row"),  # a UK mobile roams
    ({"phone": "+1 212 555 0143"}, (NY,), "number"),
    ({"phone": "+44 7911 123456"}, ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", LONDON), "number"),
])
def test_a_row_keeps_its_zones_and_a_geographic_numbers_own(row, zones, source):
    parsed = parse_json([row])
    assert not parsed.errors, parsed.errors
    [phone] = parsed.rows[0].phones
    assert phone.zones == zones and phone.zone_source == source
    assert number_zones((), phonenumbers.parse(phone.number)) == parse_number(phone.number)[1]


def _campaign_model() -> Campaign:
    return Campaign(campaign_id="c1", name="C", mode=CampaignMode.PROGRESSIVE, queue_id="q1", caller_id="+12125550100",
                    status=CampaignStatus.RUNNING)


def _open(at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    return 8 <= local.hour < 21


@settings(max_examples=examples(150), deadline=None)
@given(at=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
       case=st.sampled_from([("+44 20 7946 0000", {"postal_code": "90210"}, (LA, LONDON)),
                             ("+1 212 555 0143", {"time_zone": LA}, (LA, NY)),
                             ("+1 808 555 0143", {"state": "NY"}, (NY, "Pacific/Honolulu")),
                             ("+1 800 555 1234", {"time_zone": LA}, (LA,))]))
def test_calling_hours_hold_in_the_rows_zone_and_the_numbers(at, case):
    phone, where, zones = case
    [row] = parse_json([{"phone": phone, "consent_automated_voice": True, **where}]).rows
    decision = check_attempt(_campaign_model(), row, row.numbers[0], at, InMemoryHistory(), SuppressionSet())
    hours = next(c for c in decision.checks if c.name is CheckName.CALLING_HOURS)
    assert hours.passed == all(_open(at, z) for z in zones)
    if decision.next_allowed_at is not None:  # waits for a time that is open everywhere
        assert all(_open(decision.next_allowed_at, z) for z in zones)


def test_the_london_number_with_a_beverly_hills_zip_is_not_called_at_9_in_los_angeles():
    [row] = parse_json([{"phone": "+44 20 7946 0000", "postal_code": "90210", "consent_automated_voice": True}]).rows
    at = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles, 17:00 in London
    assert check_attempt(_campaign_model(), row, row.numbers[0], at, InMemoryHistory(), SuppressionSet()).allowed
    late = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 13:30 in Los Angeles, 21:30 in London: too late there
    decision = check_attempt(_campaign_model(), row, row.numbers[0], late, InMemoryHistory(), SuppressionSet())
    assert CheckName.CALLING_HOURS in decision.failed
    assert decision.next_allowed_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles


# --- duplicates: reported on upload, never two calls in flight to one number -------------------------------

def test_a_number_an_earlier_row_named_is_a_warning_with_its_line_and_the_row_loads():
    parsed = parse_json([{"phone": "+12125550101", "account_id": "a1"}, {"phone": "+1 212 555 0101", "account_id": "a1"},
                         {"phone": "+13125550100", "phone2": "(212) 555-0101", "account_id": "a2"},
                         {"phone": "+13125550100", "account_id": "a2", "row_id": "x"}])
    assert parsed.accepted == 4 and not parsed.errors
    assert [(w.line, w.field) for w in parsed.warnings] == [(2, "phone"), (3, "phone2"), (4, "phone")]
    assert parsed.warnings[0].message.startswith("duplicate of line 1: +12125550101 again (the same account)")
    assert "duplicate of line 1" in parsed.warnings[1].message and "(another account)" in parsed.warnings[1].message
    assert parsed.warnings[2].message.startswith("duplicate of line 3: +13125550100")
    csv = parse_csv("row_id,phone\na,+12125550101\n\nb,+12125550101\n")
    assert [(w.line, w.field) for w in csv.warnings] == [(4, "phone")] and "line 2" in csv.warnings[0].message


class _Dialers:
    def __init__(self) -> None:
        self.dialer = RecordingDialer()

    def __call__(self, settings: DialerSettings) -> RecordingDialer:
        return self.dialer


def _deps(agents: int = 3, campaigns: tuple[str, ...] = ("c1",)):
    deps = memory_dependencies(dialers=_Dialers())
    deps.config.put_tenant(Tenant(tenant_id=T, name="Outbound"))
    deps.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    for i in range(agents):
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=f"a{i}", name=f"a{i}", status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
    outbound.put_dialer_settings(deps, T, DialerSettings(kind="simulated"))
    for campaign_id in campaigns:
        outbound.create_campaign(deps, T, CampaignRequest(campaign_id=campaign_id, name="Dup", mode="progressive",
                                                          queue_id="sales", caller_id="+12125550199"))
        outbound.change_status(deps, T, campaign_id, "start")
    return deps


def _row(phone: str, **more) -> dict:
    return {"phone": phone, "time_zone": NY, "consent_automated_voice": True, **more}


def _row_at(deps, line: int):
    """The stored row of the upload's `line` (default row ids carry the upload's tag)."""
    (row,) = [r for (_, campaign, _), r in deps.outbound.rows.items() if campaign == "c1" and r.row.line == line]
    return row


def _dialed(deps) -> list[str]:
    return [call.number for call in deps.dialers.dialer.dialed]


def test_identical_rows_are_dialed_one_at_a_time_never_at_once():
    deps = _deps()
    upload = outbound.upload_list(deps, T, "c1", ListUpload(rows=[_row("+12125550101")] * 3 + [_row("+12125550102")]))
    assert upload.accepted == 4 and [w.line for w in upload.warnings] == [2, 3]
    tick = outbound.dial_tick(deps, T, "c1", NOW)
    assert sorted(_dialed(deps)) == ["+12125550101", "+12125550102"] and tick.number_busy == 2
    for line in (2, 3):  # waiting a little, neither held back nor ended
        row = _row_at(deps, line)
        assert row.state == "due" and row.next_due_at == NOW + outbound.BUSY_NUMBER_WAIT and not row.blocked_checks
    later = NOW + outbound.BUSY_NUMBER_WAIT
    again = outbound.dial_tick(deps, T, "c1", later)  # the first call is still in flight
    assert again.dialed == 0 and again.number_busy == 2 and len(_dialed(deps)) == 2
    [first] = [r for r in outbound.attempts_export(deps, T, "c1") if r.attempt.number == "+12125550101"]
    deps.dialers.dialer.outcomes[first.attempt_id] = CarrierOutcome(disposition=Disposition.NO_ANSWER, at=later)
    then = later + outbound.BUSY_NUMBER_WAIT
    third = outbound.dial_tick(deps, T, "c1", then)  # its outcome is in: the next duplicate may ring, one only
    assert third.dialed == 1 and third.number_busy == 1 and _dialed(deps)[-1] == "+12125550101"


def test_a_row_whose_first_number_is_in_a_call_is_dialed_on_its_other_number():
    deps = _deps()
    outbound.upload_list(deps, T, "c1", ListUpload(rows=[_row("+12125550101", row_id="a"),
                                                         _row("+12125550101", phone2="+12125550109", row_id="b")]))
    tick = outbound.dial_tick(deps, T, "c1", NOW)
    assert tick.dialed == 2 and sorted(_dialed(deps)) == ["+12125550101", "+12125550109"]


def test_a_call_in_flight_from_another_campaign_holds_the_number():
    deps = _deps(campaigns=("c1", "c2"))
    outbound.upload_list(deps, T, "c1", ListUpload(rows=[_row("+12125550101", account_id="debt-1")]))
    outbound.upload_list(deps, T, "c2", ListUpload(rows=[_row("+12125550101", account_id="debt-2"),
                                                         _row("+12125550102")]))
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 1
    tick = outbound.dial_tick(deps, T, "c2", NOW + timedelta(seconds=5))
    assert tick.dialed == 1 and tick.number_busy == 1 and _dialed(deps) == ["+12125550101", "+12125550102"]
    assert outbound.dial_tick(deps, T, "c2", NOW + timedelta(minutes=11)).dialed == 1  # no outcome in 10 min: over


def test_a_preview_dial_to_a_number_in_a_call_of_another_campaign_is_a_409_at_number():
    from ccaas.domain.models import ContactState

    deps = _deps(agents=1, campaigns=("c1",))
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="p1", name="Preview", mode="preview",
                                                      queue_id="sales", caller_id="+12125550199"))
    outbound.change_status(deps, T, "p1", "start")
    outbound.upload_list(deps, T, "c1", ListUpload(rows=[_row("+12125550101", account_id="debt-1")]))
    outbound.upload_list(deps, T, "p1", ListUpload(rows=[_row("+12125550101", account_id="debt-2", row_id="p")]))
    assert outbound.dial_tick(deps, T, "p1", NOW).previews == 1
    [contact] = [c for c in deps.store.contacts.values() if c.attributes.get("preview") == "1"]
    deps.store.save(contacts=[contact.model_copy(update={"state": ContactState.CONNECTED, "agent_id": "a0",
                                                         "version": contact.version + 1})])
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 1  # c1 rings the number meanwhile
    for request in (outbound.PreviewDialRequest(), outbound.PreviewDialRequest(number="+12125550101")):
        with pytest.raises(Conflict) as busy:
            outbound.dial_preview(deps, T, contact.contact_id, request)
        assert busy.value.field == "number"
    assert _dialed(deps) == ["+12125550101"] and outbound.attempts_export(deps, T, "p1") == []
    [call] = outbound.attempts_export(deps, T, "c1")
    deps.dialers.dialer.outcomes[call.attempt_id] = CarrierOutcome(disposition=Disposition.BUSY, at=NOW)
    outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=1))  # its outcome is recorded: the line is free
    assert outbound.dial_preview(deps, T, contact.contact_id, outbound.PreviewDialRequest()).number == "+12125550101"


def test_a_deferred_row_has_no_attempt_and_no_failed_check():
    """The guard defers, it is no compliance block: the row's audit shows no attempt and no failed check."""
    deps = _deps(agents=2)
    outbound.upload_list(deps, T, "c1", ListUpload(rows=[_row("+12125550101"), _row("+12125550101")]))
    outbound.dial_tick(deps, T, "c1", NOW)
    audit = outbound.row_audit(deps, T, "c1", _row_at(deps, 2).row.row_id)
    assert audit.attempts == [] and audit.blocked_checks == [] and audit.blocked_by == []
