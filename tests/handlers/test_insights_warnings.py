"""GET /insights/reasons, /insights/repeat-drivers and /insights/lowest say what the range lacks, through
the real API handler on moto: the bare list as before with an X-Warnings header, or with envelope=true
{items, coverage, warnings} as GET /metrics/historical has its warnings; and the OpenAPI says so."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.history import AnalysisSummary
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from tests.lambda_harness import api_response as api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
HOUR = 3_600_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _seed(tenant_id: str, now_ms: int, count: int) -> None:
    deps = dependencies()
    for n in range(count):
        at = now_ms - HOUR + n * 60_000
        cid = f"w{n}"
        deps.history.put_record(ContactRecord(
            tenant_id=tenant_id, contact_id=cid, channel=Channel.VOICE, queue_id="sales", agent_id="ana",
            reason="billing", customer_id=f"c-{cid}", initiated_at=at, enqueued_at=at, connected_at=at + 5_000,
            disconnected_at=at + 125_000, acw_ended_at=at + 155_000, final_state=FinalState.COMPLETED,
            last_updated_at=at + 155_000,
        ))  # fmt: skip
        deps.history.update_flags(tenant_id, {cid: {"followed_by_repeat": n % 2 == 0, "is_repeat": False}})
        deps.transcripts.put_analysis(tenant_id, cid, {"segments": []}, AnalysisSummary(qa_score=70, reason="billing"))


VIEWS = [("/insights/reasons", {}), ("/insights/repeat-drivers", {}),
         ("/insights/lowest", {"dimension": "agent", "metric": "qa"}),
         ("/insights/lowest", {"dimension": "queue", "metric": "fcr"})]


def test_an_empty_range_says_so_in_the_header_and_the_envelope(tenant):
    window = {"from": "2025-01-06T00:00:00Z", "to": "2025-01-13T00:00:00Z"}
    for path, query in VIEWS:
        status, body, headers = api("GET", path, tenant.id, query={**window, **query})
        assert status == 200 and body == [], path  # the bare list, as before
        assert headers["X-Warnings"] == ["no contacts in this range"], path
        status, report, headers = api("GET", path, tenant.id, query={**window, **query, "envelope": "true"})
        assert status == 200 and "X-Warnings" not in headers
        assert report["items"] == [] and report["warnings"] == ["no contacts in this range"]
        assert report["coverage"]["contacts"] == 0 and report["coverage"]["min_sample"] == 30


def test_a_small_sample_and_a_range_before_the_data_are_named(tenant):
    now = int(datetime.now(UTC).timestamp() * 1000)
    _seed(tenant.id, now, 4)
    window = {"from": _iso(now - 2 * HOUR), "to": _iso(now)}
    status, reasons, headers = api("GET", "/insights/reasons", tenant.id, query=window)
    assert status == 200 and [(r["reason"], r["contacts"]) for r in reasons] == [("billing", 4)]
    assert headers["X-Warnings"] == ["only 4 contacts in this range (fewer than 30): shares and rates are not reliable"]
    status, report, _ = api("GET", "/insights/lowest", tenant.id,
                            query={"from": _iso(now - 5 * 24 * HOUR), "to": _iso(now), "metric": "fcr",
                                   "envelope": "true"})
    assert status == 200 and [p["value"] for p in report["items"]] == ["ana"]
    assert report["coverage"]["sample"] == 4 and len(report["warnings"]) == 2
    assert report["warnings"][1].startswith("the range starts ") and "the data begins there" in report["warnings"][1]


def test_the_openapi_documents_the_envelope_and_the_header(tenant):
    status, spec, _ = api("GET", "/openapi.json", None)
    assert status == 200
    for path in ("/insights/reasons", "/insights/repeat-drivers", "/insights/lowest"):
        get = spec["paths"][path]["get"]
        assert "envelope" in [p["name"] for p in get["parameters"]]
        assert "X-Warnings" in get["responses"]["200"]["headers"]
