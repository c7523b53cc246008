"""A calling window that is never open is refused (it would end every row for good and complete the campaign:
O27 finding 10), and agentless pacing dials its calls per second over the dialing loop's real tick (finding 11)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Channel, Queue
from ccaas.domain.outbound.models import CallingWindow, CampaignStatus
from ccaas.domain.outbound.pacing import TICK_S
from ccaas.domain.tenants import Tenant
from ccaas.ports_outbound import DialerSettings
from ccaas.usecases import outbound
from ccaas.usecases.outbound import CampaignPatch, CampaignRequest, ListUpload
from tests.lambda_harness import context, load_module
from tests.outbound_builders import Dialers

T = "t1"
UTC = timezone.utc
NOW = datetime.fromtimestamp(1_764_000_000, tz=UTC)  # FixedClock's: 11:00 in New York


@pytest.fixture
def deps():
    d = memory_dependencies(dialers=Dialers())
    d.config.put_tenant(Tenant(tenant_id=T, name="Outbound"))
    d.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    outbound.put_dialer_settings(d, T, DialerSettings(kind="simulated"))
    return d


def _start(deps, mode="progressive", **kw):
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="c1", name="Renewals", mode=mode, queue_id="sales",
                                                      caller_id="+12125550199", **kw))
    return outbound.change_status(deps, T, "c1", "start")


def _rows(n: int) -> str:
    return "row_id,phone,time_zone,consent_automated_voice\n" + "".join(
        f"r{i},+1212555{i:04d},America/New_York,true\n" for i in range(n))


def _locs(error: ValidationError) -> list[tuple]:
    return [tuple(e["loc"]) for e in error.errors()]


# --- finding 10: a window needs a weekday -------------------------------------------------------------------

def test_a_calling_window_without_weekdays_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        CampaignRequest(campaign_id="c1", name="x", mode="progressive", queue_id="sales", caller_id="+12125550199",
                        window={"start": "09:00", "end": "20:00", "weekdays": []})
    assert _locs(refused.value) == [("window", "weekdays")]
    with pytest.raises(ValidationError) as refused:
        CampaignPatch(state_windows={"TX": {"weekdays": []}})
    assert _locs(refused.value) == [("state_windows", "TX", "weekdays")]
    assert CallingWindow(weekdays=[6]).weekdays == {6}


def test_a_running_campaign_patched_to_no_weekdays_keeps_its_rows(deps):
    _start(deps)
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=_rows(5)))
    with pytest.raises(ValidationError):
        outbound.update_campaign(deps, T, "c1", CampaignPatch(window={"start": "09:00", "end": "20:00", "weekdays": []}))
    camp = outbound.get_campaign(deps, T, "c1")
    assert camp.status is CampaignStatus.RUNNING and camp.window is None and camp.version == 2
    tick = outbound.dial_tick(deps, T, "c1", NOW)
    assert tick.ended == 0 and not tick.completed
    assert deps.outbound.get_row(T, "c1", "r4").state == "due"


@pytest.mark.parametrize("state_window", [
    {"weekdays": [6, 7]},                      # the campaign calls Monday to Friday only
    {"start": "15:00", "end": "20:00"},        # the campaign calls 09:00-12:00 only
])
def test_a_state_window_that_leaves_no_time_with_the_campaigns_is_refused(deps, state_window):
    window = {"start": "09:00", "end": "12:00", "weekdays": [1, 2, 3, 4, 5]}
    with pytest.raises(ValidationError) as refused:
        _start(deps, window=window, state_windows={"NY": state_window, "TX": {"start": "10:00", "end": "11:00"}})
    assert _locs(refused.value) == [("state_windows",)] and "['NY']" in str(refused.value)
    assert outbound.list_campaigns(deps, T) == []  # nothing stored


# --- finding 11: agentless calls per second over the real tick -----------------------------------------------

def _agentless(deps, rows=200):
    _start(deps, mode="agentless", agentless_message="Your appointment is tomorrow at 10.")
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=_rows(rows)))


def test_agentless_dials_five_calls_a_second_over_the_tick(deps):
    _agentless(deps)
    assert outbound.dial_tick(deps, T, "c1", NOW, tick_s=2.0).dialed == 10  # 5/s × 2 s
    assert outbound.dial_tick(deps, T, "c1", NOW + timedelta(seconds=2)).dialed == 5 * TICK_S  # the loop's default
    assert outbound.dial_sweep(deps, NOW + timedelta(seconds=7), tick_s=1.0).dialed == 5


@pytest.mark.parametrize(("event", "dialed"), [({"loop_s": 0, "tick_s": 2}, 10), ({"loop_s": 0}, 5 * TICK_S)])
def test_the_dial_campaign_handler_passes_its_tick_to_the_pacer(deps, monkeypatch, event, dialed):
    for name, value in {"POWERTOOLS_SERVICE_NAME": "dial_campaign", "POWERTOOLS_METRICS_NAMESPACE": "CcaasTest",
                        "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    handler = load_module("dial_campaign", prefix="rate")
    monkeypatch.setattr(handler, "dependencies", lambda: deps)
    _agentless(deps)
    assert handler.lambda_handler(event, context("dial_campaign", remaining_ms=60_000)) == {
        "ticks": 1, "dialed": dialed, "failed": 0}
