"""Search over analysed contacts and root-cause views (pure): entries in, ranked answers out.

Every view reads the entries whose contact time lies in the asked range. Rates come from the same
additive counters as the KPIs (accumulators.KpiAccumulator), so "repeat rate by reason" here is the
KPI repeat rate grouped by reason, never a second definition.

A view also says what it lacks (coverage): no contacts in the range, no analysed contacts, a sample
under MIN_SAMPLE (its rates are noise), or a range that starts before the data does (its first
contact comes DATA_GAP_DAYS or more after the range's start: a closed weekend is not a gap).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ccaas.domain.history import HistoryEntry
from ccaas.domain.kpis.accumulators import KpiAccumulator, derive_kpis
from ccaas.domain.kpis.records import ContactRecord
from ccaas.domain.kpis.settings import KpiSettings

UNCLASSIFIED = "unclassified"


# --- search -----------------------------------------------------------------------------------------
def reason_label(reason: str | None) -> str:
    """A contact's reason as the insights views name it: the reason, else UNCLASSIFIED (only the
    tenant's fallback reason, e.g. "other", matched: history stores no reason for those)."""
    return reason or UNCLASSIFIED


class ContactSearch(BaseModel):
    """Filters of GET /contacts; all optional and combined with AND. Only analysed contacts match.

    `category` and `reason` are names and match whatever their case; `reason="unclassified"` finds
    the contacts the reason views list as unclassified. `agent` and `queue` are ids: exact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_ms: int
    to_ms: int
    category: str | None = None
    agent: str | None = None
    queue: str | None = None
    reason: str | None = None
    min_sentiment: float | None = Field(default=None, ge=-5, le=5)  # customer's overall sentiment
    qa_below: float | None = Field(default=None, ge=0, le=100)
    limit: int = Field(default=100, ge=1, le=1000)


def matches(entry: HistoryEntry, search: ContactSearch) -> bool:
    analysis, record = entry.analysis, entry.record
    if analysis is None:
        return False
    when = entry.contact_time
    if when is None or not search.from_ms <= when < search.to_ms:
        return False
    if search.category is not None:
        category = search.category.casefold()
        if not any(c.casefold() == category for c in analysis.categories):
            return False
    if search.agent is not None and (record is None or record.agent_id != search.agent):
        return False
    if search.queue is not None and (record is None or record.queue_id != search.queue):
        return False
    if search.reason is not None and reason_label(entry.reason).casefold() != search.reason.casefold():
        return False
    if search.min_sentiment is not None and (
        analysis.customer_sentiment is None or analysis.customer_sentiment < search.min_sentiment
    ):
        return False
    # an evaluation with nothing answered has no score to be below anything (its 100 is a placeholder)
    return search.qa_below is None or (analysis.scored and analysis.qa_score < search.qa_below)


def search_entries(entries: Iterable[HistoryEntry], search: ContactSearch) -> list[HistoryEntry]:
    """Matching entries, newest first, at most `limit`."""
    found = [e for e in entries if matches(e, search)]
    found.sort(key=lambda e: (-(e.contact_time or 0), e.contact_id))
    return found[: search.limit]


# --- root causes ------------------------------------------------------------------------------------
def _in_range(entries: Iterable[HistoryEntry], from_ms: int, to_ms: int) -> list[tuple[HistoryEntry, ContactRecord]]:
    out = []
    for entry in entries:
        record = entry.kpi_record()
        when = entry.contact_time
        if record is not None and when is not None and from_ms <= when < to_ms:
            out.append((entry, record))
    return out


def _accumulate(records: Iterable[ContactRecord], settings: KpiSettings) -> KpiAccumulator:
    acc = KpiAccumulator()
    short_ms, sl_ms = settings.short_abandon_s * 1000, settings.default_sl_threshold_s * 1000
    for record in records:
        if record.enqueued_at is not None:
            acc.add_arrival(record, 1, short_ms, sl_ms)
        if record.completed_at is not None:
            acc.add_completion(record, 1)
    return acc


class ReasonStat(BaseModel):
    reason: str
    contacts: int
    share: float
    handled: int
    aht_s: float | None
    fcr_contacts: int
    repeat_rate: float | None
    csat: float | None


def top_reasons(
    entries: Iterable[HistoryEntry], *, from_ms: int, to_ms: int, settings: KpiSettings, limit: int = 10
) -> list[ReasonStat]:
    """Contact reasons by volume (reason of the record, else the classified one). Volume counts customer
    contacts, not their segments: a transferred segment adds its handling to the reason's KPIs but is not
    another contact, and a cancelled consult leg is not a customer's contact at all."""
    groups: dict[str, list[ContactRecord]] = defaultdict(list)
    for entry, record in _in_range(entries, from_ms, to_ms):
        if not record.consult_leg:
            groups[reason_label(entry.reason)].append(record)
    volumes = {reason: sum(1 for r in records if r.initiation_method != "TRANSFER") for reason, records in groups.items()}
    total = sum(volumes.values()) or 1
    stats = []
    for reason, records in groups.items():
        acc = _accumulate(records, settings)
        kpis = derive_kpis(acc, settings, agent_time=False)
        stats.append(
            ReasonStat(
                reason=reason, contacts=volumes[reason], share=volumes[reason] / total, handled=acc.handled,
                aht_s=kpis["aht_s"], fcr_contacts=acc.fcr_contacts, repeat_rate=kpis["repeat_rate"], csat=kpis["csat"],
            )
        )
    stats.sort(key=lambda s: (-s.contacts, s.reason))
    return stats[:limit]


class RepeatDriver(BaseModel):
    reason: str
    fcr_contacts: int  # contacts in the FCR population (customer and reason known, first leg)
    repeat_drivers: int  # ...followed by the same customer about the same reason within W days
    repeat_rate: float
    fcr: float


def repeat_drivers(
    entries: Iterable[HistoryEntry], *, from_ms: int, to_ms: int, settings: KpiSettings, min_contacts: int = 1,
    limit: int = 10,
) -> list[RepeatDriver]:
    """Reasons ranked by repeat rate (highest first; larger samples first on ties)."""
    groups: dict[str, list[ContactRecord]] = defaultdict(list)
    for entry, record in _in_range(entries, from_ms, to_ms):
        if record.followed_by_repeat is not None:
            groups[reason_label(entry.reason)].append(record)
    out = []
    for reason, records in groups.items():
        acc = _accumulate(records, settings)
        kpis = derive_kpis(acc, settings, agent_time=False)
        if acc.fcr_contacts < min_contacts or kpis["repeat_rate"] is None:
            continue
        out.append(
            RepeatDriver(
                reason=reason, fcr_contacts=acc.fcr_contacts, repeat_drivers=acc.fcr_repeat_drivers,
                repeat_rate=kpis["repeat_rate"], fcr=kpis["fcr"],  # type: ignore[arg-type]
            )
        )
    out.sort(key=lambda d: (-d.repeat_rate, -d.fcr_contacts, d.reason))
    return out[:limit]


Dimension = Literal["agent", "queue"]
Metric = Literal["qa", "fcr"]


class Performer(BaseModel):
    dimension: Dimension
    value: str
    metric: Metric
    score: float  # mean evaluation (QA) score 0–100 (an auto-failed contact counts 0), or FCR 0–1
    contacts: int  # sample behind the score
    auto_failed: int | None = None  # qa: contacts whose evaluation failed an automatic-fail question


def lowest_performers(
    entries: Iterable[HistoryEntry], *, dimension: Dimension, metric: Metric, from_ms: int, to_ms: int,
    settings: KpiSettings, min_contacts: int = 1, limit: int = 10,
) -> list[Performer]:
    """Agents or queues with the lowest mean evaluation score or FCR, lowest first (smaller samples last);
    for the evaluation score, how many of their contacts were auto-failed."""
    attribute = "agent_id" if dimension == "agent" else "queue_id"
    qa: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    fcr_records: dict[str, list[ContactRecord]] = defaultdict(list)
    for entry, record in _in_range(entries, from_ms, to_ms):
        key = getattr(record, attribute)
        if key is None:
            continue
        if metric == "qa" and entry.analysis is not None and entry.analysis.scored:
            qa[key].append(entry.analysis.qa_score)
            failed[key] += entry.analysis.auto_failed
        elif metric == "fcr" and record.followed_by_repeat is not None:
            fcr_records[key].append(record)
    out: list[Performer] = []
    if metric == "qa":
        for key, scores in qa.items():
            if len(scores) >= min_contacts:
                out.append(Performer(dimension=dimension, value=key, metric=metric,
                                     score=round(sum(scores) / len(scores), 3), contacts=len(scores),
                                     auto_failed=failed[key]))
    else:
        for key, records in fcr_records.items():
            acc = _accumulate(records, settings)
            value = derive_kpis(acc, settings, agent_time=False)["fcr"]
            if value is not None and acc.fcr_contacts >= min_contacts:
                out.append(Performer(dimension=dimension, value=key, metric=metric, score=value, contacts=acc.fcr_contacts))
    out.sort(key=lambda p: (p.score, -p.contacts, p.value))
    return out[:limit]


# --- coverage: what a view lacks -------------------------------------------------------------------
MIN_SAMPLE = 30  # contacts behind a view below which its shares and rates are flagged as unreliable
DATA_GAP_DAYS = 3  # a range whose first contact comes this long after its start starts before the data
NO_CONTACTS = "no contacts in this range"  # the words of GET /metrics/historical (usecases.history)

View = Literal["reasons", "repeat_drivers", "qa", "fcr"]
_SAMPLE_NAME: dict[str, str] = {
    "reasons": "contacts",
    "repeat_drivers": "contacts in the FCR population (customer and reason known)",
    "qa": "analysed contacts",
    "fcr": "contacts in the FCR population (customer and reason known)",
}


class Coverage(BaseModel):
    """What an insights view was computed on, and the warnings that follow (empty: nothing lacking)."""

    contacts: int = Field(description="customer contacts whose contact time lies in the range")
    analysed: int = Field(description="of them, contacts with an analysed transcript")
    sample: int = Field(description="the contacts the view's figures are computed on (its population)")
    min_sample: int = Field(description="below this sample the view's shares and rates are flagged")
    first_contact_at: str | None = Field(default=None, description="ISO 8601 time of the range's first contact")
    warnings: list[str] = Field(default_factory=list,
                                description="what the view lacks: no contacts, no analysed contacts, a small "
                                "sample, or a range starting before the data")


def coverage(entries: Sequence[HistoryEntry], *, view: View, from_ms: int, to_ms: int, tz: tzinfo = UTC,
             min_sample: int = MIN_SAMPLE, dimension: Dimension | None = None) -> Coverage:
    """The Coverage of a view over the same entries it read (module docstring for the warnings)."""
    contacts = analysed = sample = 0
    first: int | None = None
    attribute = None if dimension is None else ("agent_id" if dimension == "agent" else "queue_id")
    for entry, record in _in_range(entries, from_ms, to_ms):
        when = entry.contact_time
        first = when if first is None or when < first else first  # type: ignore[operator]
        customer = not record.consult_leg and record.initiation_method != "TRANSFER"
        contacts += customer
        analysed += entry.analysis is not None
        if attribute is not None and getattr(record, attribute) is None:
            continue
        if view == "reasons":
            sample += customer
        elif view == "qa":
            sample += entry.analysis is not None
        else:
            sample += record.followed_by_repeat is not None
    shown_first = None if first is None else datetime.fromtimestamp(first / 1000, tz).isoformat()
    out = Coverage(contacts=contacts, analysed=analysed, sample=sample, min_sample=min_sample,
                   first_contact_at=shown_first)
    if first is None:
        out.warnings.append(NO_CONTACTS)
        return out
    if analysed == 0 and view != "fcr":
        out.warnings.append("no analysed contacts in this range: " + (
            "there are no QA scores to rank" if view == "qa"
            else "reasons are only those the contact records carry, the rest is unclassified"))
    name = _SAMPLE_NAME[view]
    if sample == 0:
        if not (view == "qa" and analysed == 0):  # said above
            out.warnings.append(f"no {name} in this range")
    elif sample < min_sample:
        out.warnings.append(f"only {sample} {name} in this range (fewer than {min_sample}): "
                            "shares and rates are not reliable")
    if first - from_ms >= DATA_GAP_DAYS * 86_400_000:
        start = datetime.fromtimestamp(from_ms / 1000, tz).date()
        begins = datetime.fromtimestamp(first / 1000, tz).date()
        asked = max(1, -(-(to_ms - from_ms) // 86_400_000))
        covered = max(1, -(-(to_ms - first) // 86_400_000))
        out.warnings.append(f"the range starts {start} but its first contact is on {begins}: the data begins "
                            f"there, so the figures cover {covered} of the {asked} days asked")
    return out


class ReasonsReport(BaseModel):
    """GET /insights/reasons?envelope=true: the reasons with what they lack."""

    items: list[ReasonStat]
    coverage: Coverage
    warnings: list[str] = Field(default_factory=list, description="coverage.warnings, as GET /metrics/historical has them")


class RepeatDriversReport(BaseModel):
    """GET /insights/repeat-drivers?envelope=true."""

    items: list[RepeatDriver]
    coverage: Coverage
    warnings: list[str] = Field(default_factory=list, description="coverage.warnings, as GET /metrics/historical has them")


class PerformersReport(BaseModel):
    """GET /insights/lowest?envelope=true."""

    items: list[Performer]
    coverage: Coverage
    warnings: list[str] = Field(default_factory=list, description="coverage.warnings, as GET /metrics/historical has them")
