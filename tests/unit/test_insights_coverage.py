"""The insights views say what they lack (domain.insights.coverage): no contacts, no analysed contacts,
a sample under MIN_SAMPLE, a range that starts before the data; and the use-cases' reports carry it."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from ccaas.domain.history import AnalysisSummary, HistoryEntry
from ccaas.domain.insights import DATA_GAP_DAYS, MIN_SAMPLE, NO_CONTACTS, coverage
from ccaas.domain.kpis import Channel, ContactRecord, FinalState

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
MIN, DAY = 60_000, 86_400_000


def _entry(n: int, at: int, *, analysed: bool = True, followed: bool | None = True, agent: str | None = "ana",
           **kw) -> HistoryEntry:
    record = ContactRecord(
        tenant_id="acme", contact_id=f"c{n}", channel=Channel.CHAT, queue_id="sales", agent_id=agent, reason="billing",
        customer_id=f"cust-{n}", initiated_at=at, enqueued_at=at, connected_at=at + 10_000,
        disconnected_at=at + 130_000, acw_ended_at=at + 160_000, final_state=FinalState.COMPLETED,
        last_updated_at=at + 160_000, **kw)
    analysis = AnalysisSummary(qa_score=80, reason="billing") if analysed else None
    return HistoryEntry(tenant_id="acme", contact_id=record.contact_id, record=record, analysis=analysis,
                        followed_by_repeat=followed, is_repeat=None if followed is None else False)


def _many(count: int, start: int = T0, **kw) -> list[HistoryEntry]:
    return [_entry(n, start + n * MIN, **kw) for n in range(count)]


def test_an_empty_range_says_no_contacts_and_nothing_else():
    for view in ("reasons", "repeat_drivers", "qa", "fcr"):
        c = coverage([], view=view, from_ms=T0, to_ms=T0 + DAY)
        assert c.warnings == [NO_CONTACTS] and (c.contacts, c.sample, c.first_contact_at) == (0, 0, None)
    # contacts outside the range do not count
    c = coverage(_many(40, start=T0 - 2 * DAY), view="reasons", from_ms=T0, to_ms=T0 + DAY)
    assert c.warnings == [NO_CONTACTS]


def test_enough_analysed_contacts_from_the_start_of_the_range_warn_of_nothing():
    entries = _many(MIN_SAMPLE)
    for view in ("reasons", "repeat_drivers", "qa", "fcr"):
        c = coverage(entries, view=view, from_ms=T0, to_ms=T0 + DAY, dimension="agent")
        assert c.warnings == [], view
        assert (c.contacts, c.analysed, c.sample, c.min_sample) == (MIN_SAMPLE, MIN_SAMPLE, MIN_SAMPLE, MIN_SAMPLE)
    assert coverage(entries, view="qa", from_ms=T0, to_ms=T0 + DAY, tz=ZoneInfo("America/New_York")
                    ).first_contact_at == "2025-11-24T11:00:00-05:00"


def test_a_small_sample_is_flagged_with_its_size():
    c = coverage(_many(MIN_SAMPLE - 1), view="reasons", from_ms=T0, to_ms=T0 + DAY)
    assert c.warnings == [f"only {MIN_SAMPLE - 1} contacts in this range (fewer than {MIN_SAMPLE}): "
                          "shares and rates are not reliable"]
    # the FCR population is the sample of the repeat views: 40 contacts, 5 of them with a known outcome
    entries = _many(35, followed=None) + [_entry(100 + n, T0 + n * MIN) for n in range(5)]
    c = coverage(entries, view="repeat_drivers", from_ms=T0, to_ms=T0 + DAY)
    assert c.sample == 5 and c.contacts == 40
    assert c.warnings == ["only 5 contacts in the FCR population (customer and reason known) in this range "
                          f"(fewer than {MIN_SAMPLE}): shares and rates are not reliable"]
    # per queue/agent: contacts without the dimension are not in the sample
    c = coverage(_many(MIN_SAMPLE, agent=None), view="qa", from_ms=T0, to_ms=T0 + DAY, dimension="agent")
    assert c.sample == 0 and c.warnings == ["no analysed contacts in this range"]


def test_no_analysed_contacts_is_said_for_the_views_that_need_them():
    entries = _many(MIN_SAMPLE, analysed=False)
    reasons = coverage(entries, view="reasons", from_ms=T0, to_ms=T0 + DAY)
    assert reasons.warnings == ["no analysed contacts in this range: reasons are only those the contact records "
                                "carry, the rest is unclassified"]
    qa = coverage(entries, view="qa", from_ms=T0, to_ms=T0 + DAY)
    assert qa.warnings == ["no analysed contacts in this range: there are no QA scores to rank"]
    assert coverage(entries, view="fcr", from_ms=T0, to_ms=T0 + DAY).warnings == []  # FCR needs no transcript


def test_a_range_that_starts_before_the_data_says_where_the_data_begins():
    start = T0 - 10 * DAY
    c = coverage(_many(MIN_SAMPLE), view="reasons", from_ms=start, to_ms=T0 + DAY)
    assert c.warnings == ["the range starts 2025-11-14 but its first contact is on 2025-11-24: the data begins "
                          "there, so the figures cover 1 of the 11 days asked"]
    # a quiet weekend at the start of the range is not the start of the data
    quiet = coverage(_many(MIN_SAMPLE), view="reasons", from_ms=T0 - (DATA_GAP_DAYS * DAY - MIN), to_ms=T0 + DAY)
    assert quiet.warnings == []


def test_the_use_case_reports_carry_coverage_and_the_list_functions_stay_lists():
    from datetime import UTC, datetime

    from ccaas.usecases import analytics
    from tests.unit.demo import TENANT, demo_deps

    deps = demo_deps()
    start, end = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 8, tzinfo=UTC)
    report = analytics.reasons_insight(deps, TENANT, start=start, end=end)
    assert report.items == [] and report.warnings == [NO_CONTACTS] and report.coverage.contacts == 0
    assert analytics.reasons_report(deps, TENANT, start=start, end=end) == []
    lowest = analytics.lowest_performers_insight(deps, TENANT, dimension="queue", metric="fcr", start=start, end=end)
    assert lowest.warnings == [NO_CONTACTS] and lowest.items == []
    drivers = analytics.repeat_drivers_insight(deps, TENANT, start=start, end=end)
    assert drivers.model_dump()["warnings"] == [NO_CONTACTS]
