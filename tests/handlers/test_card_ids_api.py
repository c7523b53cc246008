"""Through the real serve_api handler on moto (outside review P27, findings 5-7): a card number as a contact's
customer_id or segment is a 422 naming the field, nothing stored; as a list row's account_id or row_id a row
error naming the column; and no answer quotes the number."""
from __future__ import annotations

import json

import pytest

from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

PAN, OTHER_PAN = "4111111111111111", "6011000990139424"


def test_a_card_number_as_an_id_is_refused_by_field_and_never_echoed(tenant):
    for body, field in (({"customer_id": PAN}, "customer_id"), ({"segment": OTHER_PAN}, "segment"),
                        ({"queue_id": PAN}, "queue_id")):
        status, answer = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", **body})
        assert status == 422 and answer["field"] == field, answer
        assert PAN not in json.dumps(answer) and OTHER_PAN not in json.dumps(answer)
    assert api("GET", "/contacts", tenant.id)[1] == []  # nothing stored
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", tenant.id, {"campaign_id": "debt", "name": "Debt", "mode": "preview",
                                                 "queue_id": "sales", "caller_id": "+12125550199"})[0] == 201
    csv = (f"row_id,phone,account_id,state\nr1,+12125550101,{PAN},\n{OTHER_PAN},+12125550102,acct-2,\n"
           f"r3,+12125550103,acct-3,{PAN}\nr4,+12125550104,acct-4,\n")
    status, answer, _ = api_response("POST", "/campaigns/debt/lists", tenant.id, raw_body=csv, content_type="text/csv")
    assert status == 200 and answer["accepted"] == 1, answer
    assert {(e["line"], e["field"]) for e in answer["errors"]} == {(2, "account_id"), (3, "row_id"), (4, "state")}
    assert PAN not in json.dumps(answer) and OTHER_PAN not in json.dumps(answer)
    assert api("GET", f"/campaigns/debt/rows/{OTHER_PAN}", tenant.id)[0] == 404
