"""Through the real serve_api handler, what an outside probe of `make run` found in query parameters, 422 messages
and answers:

- boolean query parameters took "yes", "1", "off", "0", "no" (`GET /metrics/historical?compact=yes` was a 200);
- `from`/`to` took epoch numbers (`from=1796083200000&to=1796090400`, ms and s mixed, was a 200) and read ISO 8601's
  basic form `20261201` as epoch seconds ("year must be 2000-2100");
- a Literal of enum members listed Python reprs: `Input should be <InitiationMethod.INBOUND: 'INBOUND'> or ...`;
- `GET /customers?email=` (empty) blamed `phone`;
- routing decisions carried `"at": <epoch ms>`, against README "Times in answers" (`at` ISO 8601, `at_ms` epoch ms)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccaas.bootstrap import dependencies
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _refused(status: int, body: dict, field: str) -> str:
    assert status == 422 and body["error"] == "validation_error" and body["field"] == field, body
    return body["message"]


# ---- booleans in the query -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sent", ["yes", "1", "off", "0", "no", "on", "True", ""])
def test_a_boolean_query_parameter_takes_true_or_false_only(tenant, sent):
    for path in ("/metrics/historical", "/metrics/historical/queries/abc.def"):
        message = _refused(*api("GET", path, tenant.id, query={"compact": sent}), "compact")
        assert "true or false" in message, message


def test_compact_true_and_false_still_work(tenant):
    for sent in ("true", "false"):
        status, report = api("GET", "/metrics/historical", tenant.id, query={"compact": sent})
        assert status == 200 and "rows" in report, report


# ---- times in the query ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "end"), [("1796083200000", "1796090400"), ("1796083200", "1796090400"),
                                            ("20261201", "20261202"), ("20261201T000000Z", "20261202T000000Z")])
def test_a_range_given_as_epoch_numbers_or_in_the_basic_form_is_a_422_naming_from(tenant, start, end):
    for path in ("/metrics/historical", "/metrics/historical/summary", "/insights/reasons", "/contacts"):
        status, body = api("GET", path, tenant.id, query={"from": start, "to": end})
        message = _refused(status, body, "from")
        assert "ISO 8601" in message and "extended form" in message, message
        shown = message.replace("the basic form (20261201)", "")  # the message's own example aside
        assert start not in shown and end not in shown, message  # the values are not echoed
        assert {tuple(d["loc"]) for d in body["detail"]} == {("query", "from"), ("query", "to")}, body


def test_a_range_in_the_extended_form_still_answers(tenant):
    today = datetime.now(UTC).date()
    query = {"from": (today - timedelta(days=1)).isoformat(), "to": f"{today.isoformat()}T00:00:00Z"}
    status, report = api("GET", "/metrics/historical", tenant.id, query=query)
    assert status == 200 and "rows" in report, report


# ---- messages that list allowed values ------------------------------------------------------------------------
def test_an_enum_literal_lists_the_values_a_client_sends(tenant):
    status, body = api("POST", "/contacts", tenant.id,
                       {"channel": "VOICE", "queue_id": "sales", "initiation_method": "TRANSFER"})
    message = _refused(status, body, "initiation_method")
    assert "'INBOUND' or 'API'" in message and "<" not in message and "InitiationMethod" not in message, message
    assert "<" not in body["detail"][0]["msg"], body


# ---- the customer lookup --------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["email", "phone"])
def test_an_empty_lookup_value_is_a_422_naming_it(tenant, field):
    _refused(*api("GET", "/customers", tenant.id, query={field: ""}), field)


def test_an_empty_email_beside_a_phone_names_the_email(tenant):
    _refused(*api("GET", "/customers", tenant.id, query={"phone": "+14155550101", "email": ""}), "email")


# ---- times in answers -----------------------------------------------------------------------------------------
def test_a_routing_decision_shows_its_time_in_iso_8601_and_in_epoch_ms(tenant):
    cid = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[1]["contact_id"]
    at_ms = 1_796_538_448_451
    dependencies().store.record_decision(tenant.id, cid, {"kind": "select_agent", "outcome": "wait", "at": at_ms,
                                                          "subject": cid, "winner": None, "why": "nobody"})
    status, decisions = api("GET", f"/contacts/{cid}/routing", tenant.id)
    assert status == 200, decisions
    recorded = [d for d in decisions if d.get("at_ms") == at_ms]
    assert [d["at"] for d in recorded] == ["2026-12-06T06:27:28.451Z"], decisions
    assert all(isinstance(d["at"], str) and isinstance(d["at_ms"], int) for d in decisions), decisions
