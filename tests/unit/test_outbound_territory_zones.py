"""ZIP codes of the Pacific territories and freely associated states that share a 3-digit prefix with Hawaii (967)
or Guam (969) get their own time zones, so calling hours hold where the person is (O27 finding 3)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ccaas.domain.outbound.compliance import InMemoryHistory, SuppressionSet, check_attempt
from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import US_STATES, Campaign, CampaignStatus, CheckName
from ccaas.domain.outbound.zones import STATE_ZONES, state_for_postal_code, zones_for_state

UTC = timezone.utc
NOW = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(("zip_code", "state", "zones"), [
    ("96799", "AS", ("Pacific/Pago_Pago",)),                                 # American Samoa (UTC-11), not Hawaii
    ("96939", "PW", ("Pacific/Palau",)),                                     # Palau (UTC+9), not Guam
    ("96940", "PW", ("Pacific/Palau",)),
    ("96941", "FM", ("Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae")),  # Micronesia (UTC+10/+11)
    ("96944", "FM", ("Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae")),
    ("96960", "MH", ("Pacific/Majuro", "Pacific/Kwajalein")),                 # Marshall Islands (UTC+12)
    ("96970-1234", "MH", ("Pacific/Majuro", "Pacific/Kwajalein")),
    ("96950", "MP", ("Pacific/Saipan",)),                                    # Northern Mariana Islands
    ("96910", "GU", ("Pacific/Guam",)),                                      # the prefixes still hold around them
    ("96798", "HI", ("Pacific/Honolulu",)),
    ("96813", "HI", ("Pacific/Honolulu",)),
])
def test_a_territory_zip_maps_to_its_own_zones_before_the_prefix(zip_code, state, zones):
    assert state_for_postal_code(zip_code) == state
    assert zones_for_state(state) == zones


def _row(postal_code: str, phone: str):
    text = f"row_id,phone,postal_code,consent_automated_voice\nr1,{phone},{postal_code},true\n"
    parsed = parse_csv(text, region="US", max_rows=10, max_numbers=10, redact=None, received_at=NOW)
    assert not parsed.errors
    return parsed.rows[0]


NEW_YORK, GUAM = "+12125550101", "+16714771234"  # the person's mobile: its own zone applies as well


@pytest.mark.parametrize(("zip_code", "phone", "at", "local"), [
    ("96799", NEW_YORK, datetime(2025, 11, 24, 18, 30, tzinfo=UTC), "07:30 in Pago Pago (08:30 in Honolulu)"),
    ("96939", GUAM, datetime(2025, 11, 24, 22, 30, tzinfo=UTC), "07:30 in Palau (08:30 in Guam)"),
    ("96941", GUAM, datetime(2025, 11, 24, 10, 30, tzinfo=UTC), "21:30 in Pohnpei (20:30 in Guam)"),
    ("96960", GUAM, datetime(2025, 11, 24, 9, 30, tzinfo=UTC), "21:30 in Majuro (19:30 in Guam)"),
])
def test_a_call_outside_the_territorys_calling_hours_is_refused(zip_code, phone, at, local):
    row = _row(zip_code, phone)
    assert row.phones[0].zone_source == "postal_code"
    campaign = Campaign(campaign_id="c1", name="x", mode="progressive", queue_id="q", caller_id="+12125550199",
                        status=CampaignStatus.RUNNING)
    decision = check_attempt(campaign, row, phone, at, InMemoryHistory(), SuppressionSet(), dial_mode=campaign.mode)
    hours = [c for c in decision.checks if c.name == CheckName.CALLING_HOURS]
    assert hours and not hours[0].passed and not decision.allowed, local


def test_the_territory_row_keeps_the_numbers_own_zone_too():
    assert _row("96799", NEW_YORK).phones[0].zones == ("Pacific/Pago_Pago", "America/New_York")


def test_every_zoned_state_code_is_accepted_in_a_state_column():
    assert set(STATE_ZONES) == US_STATES
    text = "row_id,phone,state,consent_automated_voice\nr1,+16714771234,PW,true\n"
    parsed = parse_csv(text, region="US", max_rows=10, max_numbers=10, redact=None, received_at=NOW)
    assert not parsed.errors and parsed.rows[0].phones[0].zones == ("Pacific/Palau", "Pacific/Guam")
