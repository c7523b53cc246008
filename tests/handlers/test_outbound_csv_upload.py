"""POST /campaigns/{id}/lists with a raw CSV body (Content-Type: text/csv) through the real serve_api handler on
the stack deployed into moto: a spreadsheet's export loads its good rows and names the bad ones by line and
field; a body that is not UTF-8, empty, or too large is a clear 4xx, never a 5xx; JSON uploads still work; the
row audit route shows a row's state and attempts."""
from __future__ import annotations

import base64

import pytest

from ccaas.api import request_body
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CAMPAIGN = {"campaign_id": "csv", "name": "CSV", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199"}
CSV = ("\ufeffrow_id,Phone,time_zone,account_id,consent_automated_voice,notes\r\n"
       'r1,"+1 (212) 555-0101",America/New_York,acct-1,true,"a, b\r\nc"\r\n'
       "\r\n"
       "r2,1.21255E+10,America/New_York,acct-2,true,\r\n"
       "r3,+12125550103,Mars/Olympus,acct-3,true,\r\n"
       "r4,+12125550104,America/Chicago,acct-4,true,,,\r\n")


@pytest.fixture
def campaign(tenant):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated"})[0] == 200
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    return tenant


def _post(tenant_id: str, body: str | None, content_type: str = "text/csv", **kw):
    return api_response("POST", "/campaigns/csv/lists", tenant_id, raw_body=body, content_type=content_type, **kw)


def test_a_raw_csv_body_loads_good_rows_and_reports_bad_ones_by_line_and_field(campaign):
    status, body, _ = _post(campaign.id, CSV, content_type="text/csv; charset=utf-8")
    assert status == 200, body
    assert body["accepted"] == 2 and body["rejected"] == 2 and body["total"] == 4
    assert {(e["line"], e["field"]) for e in body["errors"]} == {(5, "phone"), (6, "time_zone")}
    status, audit = api("GET", "/campaigns/csv/rows/r1", campaign.id)
    assert status == 200 and audit["state"] == "due" and audit["attempts"] == [] and audit["blocked_checks"] == []
    assert api("GET", "/campaigns/csv/rows/nope", campaign.id)[0] == 404
    status, body, _ = _post(campaign.id, "phone\n020 7946 0018\n")  # a national number: the region decides
    assert status == 200 and body["accepted"] == 0 and body["errors"][0]["field"] == "phone"
    status, body, _ = _post(campaign.id, "phone\n020 7946 0018\n", query={"region": "GB"})
    assert status == 200 and body["accepted"] == 1
    assert _post(campaign.id, "phone\n+12125550101\n", query={"region": "gb"})[0] == 422


def test_json_uploads_still_work_and_an_unknown_media_type_is_a_415(campaign):
    status, body = api("POST", "/campaigns/csv/lists", campaign.id,
                       {"format": "json", "rows": [{"row_id": "j1", "phone": "+12125550111", "time_zone": "America/New_York"}]})
    assert status == 200 and body["accepted"] == 1
    status, body = api("POST", "/campaigns/csv/lists", campaign.id, {"format": "json", "rows": "no"})
    assert status == 422
    status, body, _ = _post(campaign.id, "phone\n+12125550101\n", content_type="application/vnd.ms-excel")
    assert status == 415


@pytest.mark.parametrize(("raw", "b64", "status"), [
    ("row_id,phone\nr1,+12125550101,Caf\xe9\n".encode("latin-1"), True, 400),  # latin-1, not UTF-8
    (b"", False, 422),                                                          # nothing to load
    (b" \r\n\r\n", False, 422),
    (b"x" * (request_body.LIST_UPLOAD_MAX_BODY_BYTES + 1), True, 413),         # the list route takes 4 MiB, not more
    (b"phone,a\x00csv\n\x00\x00\n", False, 200),                                 # unreadable cells: per-row errors
    (b"not,a\x00csv\n\x00\x00\n", False, 422),                                   # no phone column: nothing can load
])
def test_a_bad_body_is_a_clear_client_error_never_a_server_error(campaign, raw, b64, status):
    body = base64.b64encode(raw).decode() if b64 else raw.decode("utf-8")
    got, answer, _ = _post(campaign.id, body, base64_body=b64)
    assert got == status, answer
    if status != 200:
        assert answer["field"] == "body"


def test_junk_items_duplicates_and_an_unknown_region_through_the_handler(campaign):
    """Issue #15: junk items are row errors by index (not a 422 of the upload), a number an earlier row named
    is a warning with that row's line, and a region phonenumbers does not support is one 422 at `region`."""
    row = {"phone": "+1 212 555 0121", "time_zone": "America/New_York"}
    status, body = api("POST", "/campaigns/csv/lists", campaign.id,
                       {"format": "json", "rows": [None, row, "x", [1], dict(row), {"phone": {"n": "2125550122"}}]})
    assert status == 200, body
    assert body["accepted"] == 2 and body["total"] == 6
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(1, "row"), (3, "row"), (4, "row"), (6, "phone")]
    assert [(w["line"], w["field"]) for w in body["warnings"]] == [(5, "phone")]
    assert body["warnings"][0]["message"].startswith("duplicate of line 2: +12125550121")
    status, body = api("POST", "/campaigns/csv/lists", campaign.id, {"format": "json", "rows": [row], "region": "XX"})
    assert status == 422 and body["field"] == "region", body
    status, body, _ = _post(campaign.id, "phone\n+12125550101\n", query={"region": "XX"})
    assert status == 422 and body["field"] == "region", body


def test_an_upload_report_too_large_to_keep_is_answered_and_its_key_runs_again(campaign):
    """The report of 1,000 errors and 1,000 warnings (~390 KB) did not fit the idempotency record: the record's write
    failed after the rows were stored (a 5xx), and every retry of the key was a 409 for good (outside review)."""
    column = "x" * 64  # errors name it: "attribute names ≤ 64 and values ≤ 256 characters …"
    rows = [f"bad{i},+1212555{i:04d},America/New_York,{'v' * 257}" for i in range(1_000)]  # 1,000 errors
    rows += [f"ok{i},+12125559999,America/New_York," for i in range(1_001)]  # 1,000 "duplicate of line N" warnings
    text = f"row_id,phone,time_zone,{column}\n" + "\n".join(rows) + "\n"
    key = {"Idempotency-Key": "upload-1"}
    status, body, headers = _post(campaign.id, text, headers=key)
    assert status == 200 and len(body["errors"]) == 1_000 and len(body["warnings"]) == 1_000, status
    status, again, headers = _post(campaign.id, text, headers=key)
    assert status == 200 and "Idempotent-Replayed" not in headers and again["accepted"] == body["accepted"] == 1_001
