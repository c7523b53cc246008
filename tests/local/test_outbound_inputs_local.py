"""Outbound inputs on the whole local backend, over real HTTP: a raw CSV list (Content-Type: text/csv) loads
its good rows and names the bad ones; a customer texting STOP on an SMS contact opts the number out before
the campaign ever dials it (functions/dial_campaign, invoked through moto's Lambda as the schedule does),
the row's audit shows the block and its source; a campaign whose rows are all final completes by itself."""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import pytest

from local.testing import api
from tests.calling_hours import DaytimeZone, zone_in_hours

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]
CAMPAIGN = {"campaign_id": "stop-test", "name": "STOP test", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+14155550150"}


def _csv(daytime: DaytimeZone) -> str:
    """x1 and x2 in a zone where it is daytime now, so suppression and consent are their only blocks."""
    return ("\ufeffrow_id,Phone,time_zone,consent_automated_voice,notes\r\n"
            f'x1,"{daytime.written(81)}",{daytime.zone},true,"called twice, no answer"\r\n'
            f"x2,{daytime.number(82)},{daytime.zone},false,\r\n"
            "\r\n"
            "x3,1.21255E+10,America/New_York,true,\r\n")


def _post_raw(runtime, path: str, data: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(runtime.api_url + path, method="POST", data=data, headers={
        "Authorization": f"Bearer {runtime.key('demo', 'admin')}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback only
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _dial(runtime) -> dict:
    arn = runtime.deployment.function_by_folder("dial_campaign").arn
    answer = runtime.client("lambda").invoke(FunctionName=arn, Payload=json.dumps(
        {"source": "test", "loop_s": 0, "tick_s": 1.0}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_a_raw_csv_list_and_a_stop_text_before_the_first_dial(runtime) -> None:
    client = api(runtime, "demo")
    assert client.call("POST", "/campaigns", CAMPAIGN)[0] == 201
    daytime = zone_in_hours()
    status, loaded = _post_raw(runtime, "/campaigns/stop-test/lists", _csv(daytime).encode(), "text/csv")
    assert status == 200 and loaded["accepted"] == 2 and loaded["rejected"] == 1
    assert [(e["line"], e["field"]) for e in loaded["errors"]] == [(5, "phone")]
    status, problem = _post_raw(runtime, "/campaigns/stop-test/lists", "phone\nCaf\xe9\n".encode("latin-1"), "text/csv")
    assert status == 400 and problem["field"] == "body"

    status, contact = client.call("POST", "/contacts", {"channel": "SMS", "queue_id": "support",
                                                        "initiation_method": "INBOUND",
                                                        "attributes": {"customer_endpoint": daytime.number(81)}})
    assert status == 201, contact
    status, _ = client.call("POST", f"/contacts/{contact['contact_id']}/messages",
                            {"participant_role": "CUSTOMER", "content": "Stop."})
    assert status in (200, 201)

    for agent_id in ("ana", "ben"):
        assert api(runtime, "demo", agent_id=agent_id).call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})[0] == 200
    assert client.call("POST", "/campaigns/stop-test/start")[1]["status"] == "running"
    _dial(runtime)

    status, audit = client.call("GET", "/campaigns/stop-test/rows/x1")
    assert status == 200 and audit["state"] == "done" and audit["attempts"] == []
    [block] = audit["blocked_checks"]
    assert block["name"] == "suppression" and "sms_stop" in block["detail"]
    assert client.call("GET", "/campaigns/stop-test/rows/x2")[1]["blocked_by"] == ["consent"]
    assert client.call("GET", "/campaigns/stop-test/attempts")[1] == []  # nothing was dialed
    assert client.call("GET", "/campaigns/stop-test")[1]["status"] == "completed"  # every row was final


def test_a_stop_reply_published_to_the_inbound_texts_topic_reaches_the_dialer(runtime) -> None:
    """End to end on the local backend: the stack's inbound-texts topic (output InboundTextsTopicArn) as End User
    Messaging publishes a reply, SNS invoking receive_texts through moto's Lambda; the number is suppressed for the
    tenant the receiving number is registered to, and its campaign row is blocked with the STOP's source."""
    from infra import admin

    assert admin.main(["--endpoint", runtime.moto_endpoint, "register-sms-sender", "demo", "origination", "+14155550151"],
                      out=io.StringIO(), err=io.StringIO()) == 0
    daytime = zone_in_hours()
    topic = runtime.deployment.outputs["InboundTextsTopicArn"]
    reply = {"originationNumber": daytime.number(91), "destinationNumber": "+14155550151", "messageKeyword": "K",
             "messageBody": "stop", "inboundMessageId": "in-91"}
    runtime.client("sns").publish(TopicArn=topic, Message=json.dumps(reply))
    client = api(runtime, "demo")
    campaign = {**CAMPAIGN, "campaign_id": "stop-reply"}
    assert client.call("POST", "/campaigns", campaign)[0] == 201
    rows = [{"row_id": "r91", "phone": daytime.number(91), "time_zone": daytime.zone, "consent_automated_voice": True}]
    assert client.call("POST", "/campaigns/stop-reply/lists", {"format": "json", "rows": rows})[1]["accepted"] == 1
    assert client.call("POST", "/campaigns/stop-reply/start")[1]["status"] == "running"
    _dial(runtime)
    status, audit = client.call("GET", "/campaigns/stop-reply/rows/r91")
    assert status == 200 and audit["attempts"] == [] and audit["blocked_by"] == ["suppression"]
    assert "sms_stop" in audit["blocked_checks"][0]["detail"]
