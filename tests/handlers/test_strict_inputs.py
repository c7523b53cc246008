"""Through the real serve_api handler on moto (outside review of session 32): inputs the API took though the rest
of the product could not use them are 422s naming the field, with nothing written."""
from __future__ import annotations

import pytest

from tests.lambda_harness import api, connected_contact

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.mark.parametrize("customer_id", ["../x", "a b", "tab\there", "\u202egold", "x#CUST#y", "%2F", "-lead"])
def test_a_customer_id_the_directory_cannot_key_is_refused_by_post_contacts(tenant, customer_id):
    status, answer = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "customer_id": customer_id})
    assert status == 422 and answer["field"] == "customer_id", answer
    assert api("GET", "/contacts", tenant.id)[1] == []


def test_every_customer_id_the_directory_takes_is_taken_by_post_contacts(tenant):
    for customer_id in ("cust-gold", "ana@example.com", "crm:42", "A.b_c+d"):
        assert api("PUT", f"/customers/{customer_id}", tenant.id, {"tier": "gold"})[0] == 200
        status, contact = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales", "customer_id": customer_id})
        assert status == 201 and contact["customer_id"] == customer_id, contact


@pytest.mark.parametrize("shown", ["RESERVED", "ON_CONTACT", "ACW", "AVAILABLE_IDLE"])
def test_an_activity_the_product_shows_is_not_a_status_an_agent_sets(tenant, shown):
    status, answer = api("PUT", "/agents/ana/status", tenant.id, {"status": shown})
    assert status == 422 and answer["field"] == "status" and shown in answer["message"], answer
    assert api("GET", "/agents/ana", tenant.id)[1]["status"] == "OFFLINE"
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "BREAK"})[1]["status"] == "BREAK"


def test_exclude_me_is_a_json_boolean_like_every_other_field(tenant, env):
    cid = connected_contact(tenant, env)
    for lax in ("off", "no", 0, "1", "false"):
        status, answer = api("POST", f"/agents/ana/contacts/{cid}/transfer", tenant.id,
                             {"to": {"queue_id": "sales"}, "exclude_me": lax})
        assert status == 422 and answer["field"] == "exclude_me", (lax, answer)
    assert api("GET", f"/contacts/{cid}", tenant.id)[1]["state"] == "CONNECTED"
    status, moved = api("POST", f"/agents/ana/contacts/{cid}/transfer", tenant.id, {"to": {"queue_id": "sales"}, "exclude_me": True})
    assert status == 200, moved


def test_every_boolean_a_client_sends_is_a_json_boolean(tenant):
    """The class of the exclude_me finding: vocabulary.Bool on every boolean the API and the journey specs take."""
    from ccaas.domain.guidance import GuidanceRules
    from ccaas.domain.journeys import parse_journey
    from pydantic import ValidationError

    status, answer = api("PUT", "/customers/cust-1", tenant.id, {"tier": "gold", "vip": "yes"})
    assert status == 422 and answer["field"] == "vip", answer
    assert api("GET", "/customers/cust-1", tenant.id)[0] == 404
    assert api("PUT", "/customers/cust-1", tenant.id, {"tier": "gold", "vip": True})[1]["vip"] is True
    for lax in ("true", 1, "on"):
        with pytest.raises(ValidationError):
            GuidanceRules.model_validate({"enabled": lax})
        with pytest.raises(ValueError, match="end_acw"):
            parse_journey({"name": "j", "steps": [{"action": "complete", "end_acw": lax}]})
    assert GuidanceRules.model_validate({"enabled": False}).enabled is False
    status, answer = api("PUT", "/alerts/rules", tenant.id, {"long_wait": {"enabled": "off"}})
    assert status == 422 and "enabled" in answer["field"], answer
    assert api("GET", "/alerts/rules", tenant.id)[1]["long_wait"]["enabled"] is True
    assert api("PUT", "/alerts/rules", tenant.id, {"long_wait": {"enabled": False}})[0] == 200


@pytest.mark.parametrize(("path", "document", "field"), [
    ("/alerts/rules", {"long_wait": {"threshold_s": True}}, "threshold_s"),
    ("/alerts/rules", {"service_level": {"target": "0.9"}}, "target"),
    ("/settings/kpis", {"short_abandon_s": True}, "short_abandon_s"),
    ("/settings/kpis", {"fcr_window_days": "7"}, "fcr_window_days"),
])
def test_a_setting_that_is_not_a_json_number_is_refused_and_nothing_changes(tenant, path, document, field):
    """An outside probe stored `threshold_s: true` as a 1-second long-wait alert (test_strict_numbers guards every
    model; this is the same through the handler)."""
    before = api("GET", path, tenant.id)[1]
    status, answer = api("PUT", path, tenant.id, document)
    assert status == 422 and field in answer["field"], answer
    assert api("GET", path, tenant.id)[1] == before
