"""Defects an outside tester found in outbound campaigns, each pinned: a row's ZIP counts beside its state, a state's
stricter window applies when the state follows from the number (or only from the zone), an account suppression holding
a card or SSN is refused, a tenant cannot make a terminal outcome retryable, a premium-rate caller id and a blackout
date outside 2000-2100 are refused, an upload with nothing to load is a 422, and a CSV body as large as the route takes
is no 422."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from ccaas.domain.outbound.compliance import InMemoryHistory, SuppressionSet, check_attempt, row_states
from ccaas.domain.outbound.lists import SENSITIVE_ID, NothingToLoad, parse_csv, parse_json
from ccaas.domain.outbound.models import (
    NEVER_RETRIED,
    US_STATES,
    Attempt,
    AttemptPolicy,
    CallingWindow,
    CheckName,
    Disposition,
    RetryRule,
)
from ccaas.domain.outbound.zones import AREA_CODE_STATES, states_for_number
from ccaas.domain.vocabulary import DomainError
from ccaas.usecases import outbound
from ccaas.usecases.outbound import (
    MAX_UPLOAD_CSV_CHARS,
    CampaignPatch,
    CampaignRequest,
    ListUpload,
    SuppressionRequest,
)
from tests.outbound_builders import T, campaign, outbound_deps

UTC = timezone.utc
NY, LA = "America/New_York", "America/Los_Angeles"
SF = "+14155550171"


def _row(record: dict):
    parsed = parse_json([{"row_id": "r1", "consent_automated_voice": True, **record}])
    assert not parsed.errors, parsed.errors
    return parsed.rows[0]


def _check(c, r, at: datetime, number: str = SF):
    decision = check_attempt(c, r, number, at, InMemoryHistory(), SuppressionSet())
    return decision, {check.name: check for check in decision.checks}


# --- 1. a ZIP counts beside a state ----------------------------------------------------------------------------
def test_a_zip_in_another_zone_than_the_state_holds_the_call_to_both_zones():
    r = _row({"phone": SF, "state": "CA", "postal_code": "10001"})
    assert set(r.phones[0].zones) == {LA, NY} and r.state == "CA"
    decision, checks = _check(campaign(), r, datetime(2026, 6, 11, 2, 29, tzinfo=UTC))  # 22:29 New York, 19:29 SF
    assert not decision.allowed and not checks[CheckName.CALLING_HOURS].passed
    assert set(checks[CheckName.CALLING_HOURS].facts["zones"]) == {LA, NY}
    # a time_zone, a state and a ZIP: every zone of all three
    tz = _row({"phone": SF, "time_zone": "America/Chicago", "state": "CA", "postal_code": "10001"})
    assert set(tz.phones[0].zones) == {"America/Chicago", LA, NY}


@pytest.mark.parametrize("record", [
    {"phone": SF, "state": "CA", "postal_code": "00000"},
    {"phone": SF, "state": "CA", "time_zone": LA, "postal_code": "00000"},
    {"phone": SF, "postal_code": "00000"},
])
def test_a_zip_nobody_has_is_a_row_error_whatever_else_the_row_says(record):
    parsed = parse_json([record])
    assert parsed.accepted == 0 and [e.field for e in parsed.errors] == ["postal_code"]


# --- 2. a state's window applies to the states the row may be in -----------------------------------------------
CA_WINDOW = {"CA": CallingWindow(start="09:00", end="19:00")}
AT_1938_PACIFIC = datetime(2026, 6, 11, 2, 38, tzinfo=UTC)  # 19:38 in California, inside 08:00-21:00


@pytest.mark.parametrize("record", [
    {"phone": SF},                                             # the state from the number (+1 415: California)
    {"phone": SF, "time_zone": LA},
    {"phone": "+17025550143", "postal_code": "94103"},         # a Las Vegas number, a San Francisco ZIP
    {"phone": "+18005550100", "time_zone": LA},                # toll-free: the zone alone, every state of it
])
def test_a_state_window_applies_when_the_state_follows_from_the_number_zip_or_zone(record):
    r = _row(record)
    assert "CA" in row_states(r, r.phones[0].number)
    decision, checks = _check(campaign(state_windows=CA_WINDOW), r, AT_1938_PACIFIC, r.phones[0].number)
    assert checks[CheckName.CALLING_HOURS].passed
    assert not decision.allowed and not checks[CheckName.TENANT_WINDOW].passed
    assert "state CA 09:00-19:00" in checks[CheckName.TENANT_WINDOW].detail
    assert "CA" in checks[CheckName.TENANT_WINDOW].facts["states"]
    assert decision.next_allowed_at is not None


def test_the_strictest_window_of_every_state_applies_and_unrelated_states_do_not():
    r = _row({"phone": SF, "state": "NY"})  # named New York, a California number: both windows
    c = campaign(state_windows={"CA": CallingWindow(start="09:00", end="20:00"),
                                "NY": CallingWindow(start="10:00", end="20:30"),
                                "TX": CallingWindow(start="12:00", end="13:00")})
    assert set(row_states(r, SF)) == {"CA", "NY"}
    _, checks = _check(c, r, datetime(2026, 6, 10, 17, 30, tzinfo=UTC))  # 10:30 SF, 13:30 NY: CA and NY open
    assert checks[CheckName.TENANT_WINDOW].passed
    _, checks = _check(c, r, datetime(2026, 6, 10, 16, 30, tzinfo=UTC))  # 09:30 SF: CA open, NY's 10:00 not in SF
    assert not checks[CheckName.TENANT_WINDOW].passed
    london = _row({"phone": "+442079460958"})
    assert row_states(london, london.phones[0].number) == ()


def test_the_area_code_table_agrees_with_the_geocoding_data_of_phonenumbers():
    """AREA_CODE_STATES is built from libphonenumber's geocoder: every state its descriptions name for a US area code
    is in the table (regenerate the table when a phonenumbers upgrade fails this)."""
    from phonenumbers.geodata import GEOCODE_DATA

    names = {"Washington D.C.": "DC", "Washington State": "WA", "U.S. Virgin Islands": "VI", "Puerto Rico": "PR"}
    full = {"Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
            "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
            "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
            "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
            "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
            "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
            "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
            "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
            "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY"}
    names |= full
    seen: dict[str, set[str]] = {}
    for prefix, descriptions in GEOCODE_DATA.items():
        text = descriptions.get("en", "")
        if not prefix.startswith("1") or len(prefix) < 4 or not text:
            continue
        suffix = re.search(r", ([A-Z]{2})$", text)
        state = suffix.group(1) if suffix and suffix.group(1) in US_STATES else names.get(text)
        if state is not None:
            seen.setdefault(prefix[1:4], set()).add(state)
    assert len(seen) > 300
    missing = {code: states for code, states in seen.items() if not states <= set(AREA_CODE_STATES.get(code, ()))}
    assert not missing
    assert states_for_number(SF) == ("CA",) and states_for_number("+18005550100") == ()
    assert states_for_number("+17875550100") == ("PR",) and states_for_number("+442079460958") == ()


# --- 3. an account suppression is a key: no card or SSN ----------------------------------------------------------
@pytest.mark.parametrize("value", ["4111111111111111", "078-05-1120"])
def test_an_account_suppression_holding_a_card_or_ssn_is_refused_and_nothing_is_stored(value):
    deps = outbound_deps()
    request = SuppressionRequest(entries=[{"kind": "number", "value": "+12125550143"},
                                          {"kind": "account", "value": value}])
    with pytest.raises(DomainError) as refused:
        outbound.add_suppressions(deps, T, request)
    assert refused.value.field == "entries.1.value" and SENSITIVE_ID in str(refused.value)
    assert value not in str(refused.value)
    assert deps.outbound.match_suppression(T, "+12125550143", None, value) is None  # the number neither
    stored = outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "account", "value": "acct-7"}]))
    assert stored.stored == 1


# --- 4. a terminal outcome is never retried ---------------------------------------------------------------------
BODY = {"campaign_id": "c1", "name": "Renewals", "mode": "progressive", "queue_id": "sales", "caller_id": "+12125550199"}


@pytest.mark.parametrize("disposition", sorted(NEVER_RETRIED))
def test_a_retry_after_a_terminal_outcome_is_refused_naming_the_field(disposition):
    deps = outbound_deps()
    policy = {"retry": {disposition: {"after_minutes": 0}}}
    with pytest.raises(DomainError) as refused:
        outbound.create_campaign(deps, T, CampaignRequest.model_validate({**BODY, "policy": policy}))
    assert refused.value.field == f"policy.retry.{disposition}"
    outbound.create_campaign(deps, T, CampaignRequest.model_validate(
        {**BODY, "policy": {"retry": {disposition: {"after_minutes": None}, "busy": {"after_minutes": 5}}}}))
    with pytest.raises(DomainError) as patched:
        outbound.update_campaign(deps, T, "c1", CampaignPatch.model_validate({"policy": policy}))
    assert patched.value.field == f"policy.retry.{disposition}"
    assert outbound.get_campaign(deps, T, "c1").version == 1


def test_a_stored_override_of_a_terminal_outcome_is_ignored_by_the_check():
    policy = AttemptPolicy(retry={Disposition.RIGHT_PARTY_CONTACT: RetryRule(after_minutes=0)})
    assert policy.rule_for(Disposition.RIGHT_PARTY_CONTACT).after_minutes is None
    r = _row({"phone": SF})  # no account: only the retry rule stands between the two calls
    first = Attempt(attempt_id="a1", campaign_id="c1", row_id="r1", number=SF, disposition=Disposition.RIGHT_PARTY_CONTACT,
                    started_at=datetime(2026, 6, 10, 17, tzinfo=UTC))
    decision = check_attempt(campaign(policy=policy), r, SF, datetime(2026, 6, 10, 19, tzinfo=UTC),
                             InMemoryHistory([first]), SuppressionSet())
    assert not decision.allowed and CheckName.RETRY_RULE in decision.failed


# --- 5, 6. caller id and blackout dates -----------------------------------------------------------------------
def test_a_premium_rate_caller_id_is_refused_on_create_and_patch():
    deps = outbound_deps()
    with pytest.raises(DomainError) as refused:
        outbound.create_campaign(deps, T, CampaignRequest.model_validate({**BODY, "caller_id": "+19005550143"}))
    assert refused.value.field == "caller_id" and "premium" in str(refused.value)
    outbound.create_campaign(deps, T, CampaignRequest.model_validate(BODY))
    with pytest.raises(DomainError) as patched:
        outbound.update_campaign(deps, T, "c1", CampaignPatch.model_validate({"caller_id": "+19005550143"}))
    assert patched.value.field == "caller_id"


@pytest.mark.parametrize("dates", [["0001-01-01"], ["9999-12-31"], ["2026-12-25", "2101-01-01"]])
def test_a_blackout_date_outside_2000_2100_is_refused(dates):
    deps = outbound_deps()
    with pytest.raises(DomainError) as refused:
        outbound.create_campaign(deps, T, CampaignRequest.model_validate({**BODY, "blackout_dates": dates}))
    assert refused.value.field == "blackout_dates" and "2000-2100" in str(refused.value)
    outbound.create_campaign(deps, T, CampaignRequest.model_validate({**BODY, "blackout_dates": ["2026-12-25"]}))
    with pytest.raises(DomainError):
        outbound.update_campaign(deps, T, "c1", CampaignPatch.model_validate({"blackout_dates": dates}))


# --- 7. nothing to load -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "said"), [
    ("name,email\n", "no phone column"),
    ('{"format": "json", "rows": [{"phone": "+12125550143"}]}', "no phone column"),
    ("phone,account_id\n\n\n", "no rows"),
])
def test_an_upload_with_nothing_to_load_is_a_client_error_naming_it(text, said):
    with pytest.raises(NothingToLoad, match=said) as nothing:
        parse_csv(text)
    assert nothing.value.field == "content"
    deps = outbound_deps()
    outbound.create_campaign(deps, T, CampaignRequest.model_validate(BODY))
    with pytest.raises(DomainError, match=said) as raw:
        outbound.upload_csv_text(deps, T, "c1", text)
    assert raw.value.field == "body"
    with pytest.raises(DomainError, match=said):
        outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=text))
    with pytest.raises(DomainError, match="no rows") as empty:
        outbound.upload_list(deps, T, "c1", ListUpload(format="json", rows=[]))
    assert empty.value.field == "rows"


# --- 9. the CSV bound is the body's -----------------------------------------------------------------------------
def test_a_csv_as_large_as_the_route_takes_is_no_validation_error():
    from ccaas.api.request_body import LIST_UPLOAD_MAX_BODY_BYTES

    assert MAX_UPLOAD_CSV_CHARS >= LIST_UPLOAD_MAX_BODY_BYTES  # a character is at least one byte
    line = "+12125550143,acct-0000001,America/New_York,true,some notes about the account " + "x" * 330 + "\n"
    text = "phone,account_id,time_zone,consent_automated_voice,notes\n" + line * 10_000
    assert 4_000_000 < len(text.encode()) < LIST_UPLOAD_MAX_BODY_BYTES
    assert ListUpload(format="csv", content=text).content == text
