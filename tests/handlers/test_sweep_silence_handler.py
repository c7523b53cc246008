"""The minute sweep's silence prompt and a hand-resolved silence alert through the real handlers on moto: the
sweep_alerts function may write the contact's live state and publish the prompt to the contact events stream, and
the dismissed silence round-trips through DynamoDB."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from tests.lambda_harness import api, connected_contact, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
SCHEDULED = {"source": "ccaas.schedule", "schedule": "sweep_alerts", "scheduled_time": "2026-11-25T10:00:00Z"}


def _backdate(tenant_id: str, cid: str, by_s: int) -> None:
    """The call connected, and its last post came, `by_s` seconds earlier: dead air since, without a sleep."""
    deps = dependencies()
    contact = deps.store.get_contact(tenant_id, cid)
    deps.store.save(contacts=[contact.model_copy(update={"connected_at": contact.connected_at - by_s * 1000, "version": contact.version + 1})])
    state = deps.alerts.transcript_state(tenant_id, cid)
    deps.alerts.save_transcript_state(state.model_copy(update={"updated_at": state.updated_at - by_s * 1000, "version": state.version + 1}))


def _sweep(env) -> None:
    env("sweep_alerts")
    load_handler("sweep_alerts")(SCHEDULED, context("sweep_alerts"))
    env("serve_api")


def test_the_sweep_prompts_dead_air_and_a_hand_resolved_silence_stays_resolved(tenant, env):
    cid = connected_contact(tenant, env)
    status, body = api("POST", f"/contacts/{cid}/transcript/live", tenant.id,
                       {"segments": [{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "hello"}]})
    assert status == 200, body
    _backdate(tenant.id, cid, 90)
    _sweep(env)
    status, listed = api("GET", f"/contacts/{cid}/guidance", tenant.id, role="agent", agent_id="ana")
    assert status == 200 and [(p["kind"], p["rule"]) for p in listed] == [("silence", "long_silence")]
    _, (alert,) = api("GET", "/alerts", tenant.id)
    assert (alert["rule"], alert["details"]["at_ms"]) == ("silence", 1000)
    assert api("POST", f"/alerts/{alert['alert_id']}/resolve", tenant.id)[0] == 200
    _sweep(env)
    assert api("GET", "/alerts", tenant.id) == (200, [])  # the same silence: not reopened
    assert len(api("GET", f"/contacts/{cid}/guidance", tenant.id)[1]) == 1  # nor prompted again
