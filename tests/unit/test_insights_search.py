"""domain/insights.py search: finds what the reason views show (unclassified), names match whatever
their case, ids stay exact."""
from __future__ import annotations

import pytest

from ccaas.domain.analytics import AnalyticsRules, analyze_transcript, parse_segments
from ccaas.domain.history import AnalysisSummary, HistoryEntry
from ccaas.domain.insights import UNCLASSIFIED, ContactSearch, reason_label, search_entries, top_reasons
from ccaas.domain.kpis import Channel, ContactRecord, FinalState, KpiSettings

T0 = 1_764_000_000_000
MIN = 60_000


def _record(cid: str, at: int, *, agent: str = "Ana", queue: str = "Sales", reason: str | None = None) -> ContactRecord:
    return ContactRecord(
        tenant_id="acme", contact_id=cid, channel=Channel.CHAT, queue_id=queue, agent_id=agent, reason=reason,
        customer_id=f"cust-{cid}", initiated_at=at, enqueued_at=at, connected_at=at + 10_000,
        disconnected_at=at + 130_000, acw_ended_at=at + 160_000, final_state=FinalState.COMPLETED,
        last_updated_at=at + 160_000,
    )


def _entry(cid: str, at: int, *, categories=(), analysed_reason=None, **record) -> HistoryEntry:
    analysis = AnalysisSummary(qa_score=80, categories=tuple(categories), customer_sentiment=0.0, reason=analysed_reason)
    return HistoryEntry(tenant_id="acme", contact_id=cid, record=_record(cid, at, **record), analysis=analysis)


ENTRIES = [
    _entry("c1", T0, categories=["Payment_Issue"], reason="Billing"),
    _entry("c2", T0 + MIN, categories=["complaint"]),  # no reason anywhere: unclassified
    _entry("c3", T0 + 2 * MIN, analysed_reason="delivery"),  # classified by the transcript
    _entry("c4", T0 + 3 * MIN, agent="ana", queue="sales"),  # unclassified too; ids differ only by case
]


def _found(**filters) -> list[str]:
    search = ContactSearch(from_ms=T0, to_ms=T0 + 60 * MIN, **filters)
    return [e.contact_id for e in search_entries(ENTRIES, search)]


def test_unclassified_finds_the_contacts_the_reason_view_lists_as_unclassified():
    assert _found(reason="unclassified") == ["c4", "c2"]
    assert _found(reason="UNCLASSIFIED") == ["c4", "c2"]
    shown = {s.reason: s.contacts for s in top_reasons(ENTRIES, from_ms=T0, to_ms=T0 + 60 * MIN, settings=KpiSettings())}
    assert shown[UNCLASSIFIED] == len(_found(reason=UNCLASSIFIED))
    for reason, contacts in shown.items():  # every reason the view shows is searchable, with the same count
        assert len(_found(reason=reason)) == contacts


def test_a_fallback_classification_is_unclassified():
    # The analysis of a transcript that no reason rule matches ends in the fallback ("other"); history keeps no reason.
    transcript = parse_segments([{"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 1000, "text": "hello there"}], "c9")
    analysis = analyze_transcript(transcript, AnalyticsRules.default())
    assert analysis.reason.reason == "other"
    summary = AnalysisSummary.of(analysis, analyzed_at=T0)
    entry = HistoryEntry(tenant_id="acme", contact_id="c9", record=_record("c9", T0), analysis=summary)
    assert reason_label(entry.reason) == UNCLASSIFIED
    assert [e.contact_id for e in search_entries([entry], ContactSearch(from_ms=T0, to_ms=T0 + MIN, reason="unclassified"))] == ["c9"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"reason": "billing"}, ["c1"]),
        ({"reason": "BILLING"}, ["c1"]),
        ({"reason": "Delivery"}, ["c3"]),  # the transcript's classification, any case
        ({"reason": "other"}, []),
        ({"category": "payment_issue"}, ["c1"]),
        ({"category": "PAYMENT_ISSUE"}, ["c1"]),
        ({"category": "Complaint"}, ["c2"]),
        ({"category": "complain"}, []),  # whole names only
    ],
)
def test_names_match_whatever_their_case(filters, expected):
    assert _found(**filters) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"agent": "Ana"}, ["c3", "c2", "c1"]),
        ({"agent": "ana"}, ["c4"]),
        ({"queue": "sales"}, ["c4"]),
        ({"queue": "SALES"}, []),
    ],
)
def test_ids_stay_exact(filters, expected):
    assert _found(**filters) == expected


def test_filters_still_combine_with_and():
    assert _found(reason="unclassified", category="COMPLAINT") == ["c2"]
    assert _found(reason="unclassified", agent="ana") == ["c4"]
