"""The fields tests/unit/test_strict_times.py and test_strict_numbers.py listed as still to move onto the shared
strict types (vocabulary.IsoDateTime, IsoDate, QueryBool), sent what pydantic's lax reading took: an epoch number or
digit string as a time (`from=1796538600000` on a campaign's attempts, a what-if `date` of 1798156800, a consent's
`at`, a callback's `callback_at`, a chat message's `absolute_time`, a campaign's blackout date), `envelope=yes` as
true. Each is now a 422 naming the field, through the real API app on the in-memory dependencies (or, for a
routing policy's holiday, its model), with the shared message and never the value sent. The authorizer reads the
key by the one definition $connect reads it back with (ccaas.domain.push.presented_secret)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

import ccaas.api.common as common
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Queue
from ccaas.domain.routing_engine.hours import STORED_DOCUMENT, Holiday
from ccaas.domain.tenants import Tenant
from ccaas.usecases.analytics import NewMessage
from ccaas.usecases.outbound import ConsentRequest, DispositionRequest
from tests.lambda_harness import api, load_module

# 2026-12-05T05:00:00Z (ms, s) and 2026-12-25 at midnight UTC (s): the values the lax reading took as times or days.
TIMES_SENT = (1796446800000, "1796446800000", 1796446800, "1796446800")
DAYS_SENT = (1798156800, "1798156800", "20261225")


@pytest.fixture
def deps(monkeypatch):
    deps = memory_dependencies()
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    deps.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="America/New_York"))
    deps.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20))
    return deps


def call(method: str, path: str, *, body: Any = None, query: dict | None = None, role: str = "auto"):
    return api(method, path, "acme", body, query, role=role)  # serve_api as API Gateway invokes it


def _refused_as_iso_text(status: int, body: dict, field: str, sent: object) -> None:
    assert status == 422 and body["field"] == field, body
    message = body["message"]
    assert "ISO 8601" in message and "extended form" in message, message
    assert str(sent) not in message.replace("(20261201)", ""), message  # never the value sent


# ---- times and days in the query ------------------------------------------------------------------------------
@pytest.mark.parametrize("sent", [str(s) for s in TIMES_SENT if isinstance(s, int)])
@pytest.mark.parametrize("path", ["/campaigns/c1/attempts", "/campaigns/c1/metrics/historical"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_a_campaign_range_given_as_an_epoch_number_is_a_422_naming_it(deps, path, name, sent):
    _refused_as_iso_text(*call("GET", path, query={name: sent}), name, sent)


@pytest.mark.parametrize("sent", [str(s) for s in DAYS_SENT])
def test_the_staffing_day_given_as_an_epoch_number_or_the_basic_form_is_a_422_naming_date(deps, sent):
    _refused_as_iso_text(*call("GET", "/forecast/staffing", query={"queue": "sales", "date": sent}), "date", sent)


def test_the_staffing_day_in_the_extended_form_still_plans(deps):
    status, plan = call("GET", "/forecast/staffing", query={"queue": "sales", "date": "2026-11-16"})
    assert status == 200 and plan["date"] == "2026-11-16", plan
    status, body = call("GET", "/forecast/staffing", query={"queue": "sales", "date": "2101-01-01"})
    assert status == 422 and body["field"] == "date" and "2000-2100" in body["message"], body


# ---- booleans in the query ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sent", ["yes", "1", "off", "0", "True"])
@pytest.mark.parametrize("path", ["/insights/reasons", "/insights/repeat-drivers", "/insights/lowest"])
def test_the_insights_envelope_takes_true_or_false_only(deps, path, sent):
    status, body = call("GET", path, query={"envelope": sent})
    assert status == 422 and body["field"] == "envelope" and "true or false" in body["message"], body


@pytest.mark.parametrize("path", ["/insights/reasons", "/insights/repeat-drivers", "/insights/lowest"])
def test_the_insights_envelope_true_and_false_still_answer(deps, path):
    status, report = call("GET", path, query={"envelope": "true"})
    assert status == 200 and isinstance(report, dict) and "items" in report, report
    status, items = call("GET", path, query={"envelope": "false"})
    assert status == 200 and isinstance(items, list), items


# ---- times and days in bodies ---------------------------------------------------------------------------------
CAMPAIGN = {"campaign_id": "c1", "name": "Renewals", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}


@pytest.mark.parametrize("sent", TIMES_SENT)
@pytest.mark.parametrize(("method", "path", "body", "field", "role"), [
    ("POST", "/consents", {"number": "+12125550101", "granted": True}, "at", "admin"),
    ("POST", "/contacts/k1/disposition", {"disposition": "callback_requested"}, "callback_at", "supervisor"),
    ("POST", "/contacts/k1/messages", {"participant_role": "CUSTOMER", "content": "hello"}, "absolute_time",
     "integration"),
])
def test_a_body_time_given_as_an_epoch_number_is_a_422_naming_it(deps, method, path, body, field, role, sent):
    _refused_as_iso_text(*call(method, path, body={**body, field: sent}, role=role), field, sent)


@pytest.mark.parametrize("sent", DAYS_SENT)
@pytest.mark.parametrize(("method", "path", "body", "field", "where"), [
    ("POST", "/forecast/what-if", {"queue": "sales", "agents": 5}, "date", "date"),
    ("POST", "/campaigns", CAMPAIGN, "blackout_dates", "blackout_dates[0]"),
    ("PATCH", "/campaigns/c1", {}, "blackout_dates", "blackout_dates[0]"),
])
def test_a_body_day_given_as_an_epoch_number_or_the_basic_form_is_a_422_naming_it(deps, method, path, body, field,
                                                                                   where, sent):
    value = [sent] if field == "blackout_dates" else sent
    _refused_as_iso_text(*call(method, path, body={**body, field: value}), where, sent)


def test_what_each_body_time_kept():
    # a consent's `at` and a blackout's years: still 2000-2100, once (a consent's as a 422 naming `at`)
    with pytest.raises(ValidationError, match="year must be 2000-2100") as refused:
        ConsentRequest.model_validate({"number": "+12125550101", "granted": True, "at": "1999-12-31T23:00:00Z"})
    assert refused.value.errors()[0]["loc"] == ("at",)
    assert ConsentRequest.model_validate({"number": "+12125550101", "granted": True}).at is None
    # the callback and the chat message keep their rule: a time without its UTC offset names no instant
    for model, document, field in (
            (DispositionRequest, {"disposition": "callback_requested"}, "callback_at"),
            (NewMessage, {"participant_role": "CUSTOMER", "content": "hi"}, "absolute_time")):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**document, field: "2026-12-05T05:00:00"})
        assert refused.value.errors()[0]["type"] == "timezone_aware" and refused.value.errors()[0]["loc"] == (field,)
        assert getattr(model.model_validate({**document, field: "2026-12-05T05:00:00Z"}), field).year == 2026
    with pytest.raises(ValidationError, match="required with the disposition"):
        DispositionRequest.model_validate({"disposition": "callback_requested"})
    with pytest.raises(ValidationError, match="year must be 2000-2100"):
        NewMessage.model_validate({"participant_role": "CUSTOMER", "content": "hi", "absolute_time": "2101-01-01T00:00Z"})


# ---- a routing policy's holiday -------------------------------------------------------------------------------
@pytest.mark.parametrize("sent", (*DAYS_SENT, "2026-12-25T00:00"))
@pytest.mark.parametrize("field", ["start", "end"])
def test_a_holiday_date_is_read_by_the_shared_check(field, sent):
    document = {"start": "2026-12-24", field: sent}
    with pytest.raises(ValidationError) as refused:
        Holiday.model_validate(document)
    [error] = refused.value.errors()
    assert error["loc"] == (field,) and error["type"] == "iso_8601" and "extended form" in error["msg"], error


def test_a_holiday_keeps_its_years_and_a_stored_one_still_loads():
    assert Holiday.model_validate({"start": "2026-12-25"}).start == date(2026, 12, 25)
    with pytest.raises(ValidationError, match="year must be 2000-2100"):
        Holiday.model_validate({"start": "1999-12-25"})
    stored = Holiday.model_validate({"start": "1999-12-25", "end": "1999-12-26"}, context=STORED_DOCUMENT)
    assert (stored.start, stored.end) == (date(1999, 12, 25), date(1999, 12, 26))


# ---- the authorizer's key -------------------------------------------------------------------------------------
def test_the_authorizer_reads_the_key_by_the_definition_connect_reads_it_back_with(monkeypatch):
    authorizer = load_module("authorize_request")
    read: list[tuple] = []

    def presented(headers, query):  # noqa: ANN001, ANN202
        read.append((headers, query))
        return "ck_read"

    monkeypatch.setattr(authorizer, "presented_secret", presented)
    assert authorizer.api_key_of({"type": "REQUEST", "headers": {"Authorization": "x"},
                                  "queryStringParameters": {"token": "y"}}) == "ck_read"
    assert authorizer.api_key_of({"type": "TOKEN", "authorizationToken": "Bearer ck_a"}) == "ck_read"
    assert read == [({"Authorization": "x"}, {"token": "y"}), ({"authorization": "Bearer ck_a"}, None)]


@pytest.mark.parametrize(("headers", "query"), [
    ({"Authorization": "Bearer ck_a", "authorization": "ck_b"}, None),  # a header twice: the same one is read
    ({"authorization": "", "Authorization": "ck_b"}, {"token": "ck_c"}),
    ({"AUTHORIZATION": "bearer  ck_a "}, {"token": "ck_b"}),
    ({"Authorization": "Bearer "}, {"token": "Bearer ck_c"}),
])
def test_the_authorizer_and_connect_read_the_same_secret(headers, query):
    from ccaas.domain.push import SocketEvent, presented_secret

    authorizer = load_module("authorize_request")
    expected = authorizer.api_key_of({"type": "REQUEST", "headers": headers, "queryStringParameters": query})
    assert expected == presented_secret(headers, query)
    socket_event = SocketEvent.model_validate({
        "requestContext": {"routeKey": "$connect", "connectionId": "c1=", "authorizer": {"tenant_id": "t1",
                                                                                          "role": "agent"}},
        "headers": headers, "queryStringParameters": query})
    assert socket_event.secret() == expected
