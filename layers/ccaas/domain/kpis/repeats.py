"""Repeat contacts and first-contact resolution (DOMAIN.md "FCR").

A contact is a *repeat driver* (not resolved at first contact) when the same customer contacts again
about the same reason within W days after it, boundary included: a follow-up exactly W days later
still counts. The follow-up is a *repeat contact*.

Who is in the FCR population (flag not None):
- the contact has a customer_id and a reason (otherwise "same customer, same reason" is unknowable);
- it starts a chain: no previous_contact_id and initial_contact_id absent or its own id. Transfer and
  callback legs continue the same request (DOMAIN.md: they are new contacts linked to the previous
  one); counting them would make every transfer look like an unresolved contact;
- it was not initiated by us (OUTBOUND and Connect's variants) nor a supervisor's MONITOR leg: neither
  is the customer coming back.

A contact's flag depends on contacts up to W days later: mark over history reaching W days past the
reporting range, and in a stream re-apply an earlier record once a follow-up marks it (with a newer
last_updated_at, so a KpiLedger replaces its old contribution).
"""
from __future__ import annotations

from collections.abc import Iterable

from ccaas.domain.kpis.records import ContactRecord

__all__ = ["is_fcr_eligible", "mark_repeat_contacts", "repeat_flags"]

_DAY_MS = 86_400_000
_NOT_CUSTOMER_INITIATED = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND", "CAMPAIGN", "AGENT_REPLY", "MONITOR"})


def is_fcr_eligible(rec: ContactRecord) -> bool:
    return (
        rec.customer_id is not None
        and rec.reason is not None
        and rec.previous_contact_id is None
        and (rec.initial_contact_id is None or rec.initial_contact_id == rec.contact_id)
        and rec.initiation_method not in _NOT_CUSTOMER_INITIATED
        and rec.contact_time is not None
    )


def repeat_flags(
    records: Iterable[ContactRecord], *, window_days: int = 7
) -> dict[str, tuple[bool | None, bool | None]]:
    """(followed_by_repeat, is_repeat) per contact_id; (None, None) outside the FCR population.

    One pass in time order with a last-seen map per (tenant, customer, reason): "followed within W
    days" is decided by the next contact of the same key alone (if it is further than W days, so are
    all later ones). Input in any order is accepted (sorted first; ties by contact_id).
    """
    window_ms = window_days * _DAY_MS
    flags: dict[str, tuple[bool | None, bool | None]] = {}
    last_seen: dict[tuple[str, str, str], tuple[str, int]] = {}
    for rec in sorted(records, key=_time_order):
        if not is_fcr_eligible(rec):
            flags[rec.contact_id] = (None, None)
            continue
        contact_time: int = rec.contact_time  # type: ignore[assignment]  # eligible → known
        key = (rec.tenant_id, rec.customer_id, rec.reason)  # type: ignore[assignment]
        previous = last_seen.get(key)
        if previous is not None and previous[0] == rec.contact_id:
            continue  # another copy of the same contact is not the customer coming back
        is_repeat = previous is not None and contact_time - previous[1] <= window_ms
        if is_repeat:
            flags[previous[0]] = (True, flags[previous[0]][1])  # type: ignore[index]
        flags[rec.contact_id] = (False, is_repeat)
        last_seen[key] = (rec.contact_id, contact_time)
    return flags


def mark_repeat_contacts(records: Iterable[ContactRecord], *, window_days: int = 7) -> list[ContactRecord]:
    """Copies of `records`, in time order, with `followed_by_repeat` and `is_repeat` set (records
    whose flags are already right are returned as they are)."""
    ordered = sorted(records, key=_time_order)
    flags = repeat_flags(ordered, window_days=window_days)
    marked = []
    for rec in ordered:
        followed, repeat = flags[rec.contact_id]
        if rec.followed_by_repeat is not followed or rec.is_repeat is not repeat:
            rec = rec.model_copy(update={"followed_by_repeat": followed, "is_repeat": repeat})
        marked.append(rec)
    return marked


def _time_order(rec: ContactRecord) -> tuple[int, str]:
    return (rec.contact_time or 0, rec.contact_id)
