"""The simulated campaign day (local/campaign_simulation.py): every dial was allowed by the checks, drops
played the message, DNC and opted-out numbers were never dialed after the opt-out, calls stayed in hours."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ccaas.domain.outbound.models import CampaignMode, CheckName, Disposition
from local.campaign_simulation import DayConfig, simulate_day

SMALL = DayConfig(agents=6, hours=1.5, records=1500, seed=3)


@pytest.fixture(scope="module")
def days():
    return {mode: simulate_day(replace(SMALL, mode=mode)) for mode in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)}


def test_every_attempt_carries_the_passed_checks_and_stays_in_hours(days):
    for report in days.values():
        assert report.attempts and len(report.attempts) == report.dials
        for attempt in report.attempts:
            assert attempt.checks and all(c.passed for c in attempt.checks)
            hours = next(c for c in attempt.checks if c.name is CheckName.CALLING_HOURS)
            for zone in hours.facts["zones"]:
                local = attempt.started_at.astimezone(ZoneInfo(zone))
                assert 8 <= local.hour < 21


def test_drops_play_the_message_and_progressive_drops_only_on_amd_errors(days):
    for report in days.values():
        dropped = [a for a in report.attempts if a.disposition is Disposition.ABANDONED]
        assert len(dropped) == report.abandoned == report.messages_played
        assert all(a.abandon_message_played for a in dropped)
    progressive, predictive = days[CampaignMode.PROGRESSIVE], days[CampaignMode.PREDICTIVE]
    assert progressive.abandonment_rate < 0.02
    assert predictive.dials > progressive.dials  # it dials ahead of free agents


def test_opted_out_numbers_are_never_dialed_again_and_blocks_are_counted(days):
    for report in days.values():
        opted = {a.number: a.started_at for a in report.attempts if a.disposition is Disposition.OPTED_OUT}
        assert not any(a.number in opted and a.started_at > opted[a.number] for a in report.attempts)
        assert report.blocks["suppression"] > 0 and report.blocks["consent"] > 0
        last = max(a.started_at for a in report.attempts)
        assert last <= SMALL.start + timedelta(hours=SMALL.hours)


def test_only_attended_modes_are_simulated():
    with pytest.raises(ValueError):
        DayConfig(mode=CampaignMode.AGENTLESS)
