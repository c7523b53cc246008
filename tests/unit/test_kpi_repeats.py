"""Repeat-contact marking for FCR: the W-day window, who is in the population, ordering."""
from __future__ import annotations

import random

from ccaas.domain.kpis import Channel, ContactRecord, FinalState, is_fcr_eligible, mark_repeat_contacts, repeat_flags

DAY = 86_400_000
T0 = 1_795_186_800_000  # 2026-11-20T15:00Z


def rec(cid: str, t: int, customer: str | None = "c1", reason: str | None = "billing", **extra) -> ContactRecord:
    return ContactRecord(tenant_id=extra.pop("tenant_id", "t1"), contact_id=cid, channel=Channel.VOICE,
                         customer_id=customer, reason=reason, initiated_at=t, enqueued_at=t, connected_at=t + 5_000,
                         disconnected_at=t + 60_000, final_state=FinalState.COMPLETED, **extra)


def flags(records: list[ContactRecord], **kwargs) -> dict[str, tuple[bool | None, bool | None]]:
    return {r.contact_id: (r.followed_by_repeat, r.is_repeat) for r in mark_repeat_contacts(records, **kwargs)}


def test_follow_up_exactly_w_days_later_is_a_repeat():
    assert flags([rec("a", T0), rec("b", T0 + 7 * DAY)]) == {"a": (True, False), "b": (False, True)}


def test_follow_up_one_ms_after_w_days_is_not_a_repeat():
    assert flags([rec("a", T0), rec("b", T0 + 7 * DAY + 1)]) == {"a": (False, False), "b": (False, False)}


def test_window_is_configurable():
    records = [rec("a", T0), rec("b", T0 + 2 * DAY)]
    assert flags(records, window_days=1)["a"] == (False, False)
    assert flags(records, window_days=2)["a"] == (True, False)


def test_window_runs_from_each_contact_to_the_next():
    # a → b 5 days, b → c 5 days: both a and b drove a repeat although c is 10 days after a.
    records = [rec("a", T0), rec("b", T0 + 5 * DAY), rec("c", T0 + 10 * DAY)]
    assert flags(records) == {"a": (True, False), "b": (True, True), "c": (False, True)}


def test_other_reason_other_customer_or_other_tenant_is_not_a_repeat():
    records = [
        rec("a", T0),
        rec("other_reason", T0 + DAY, reason="tech"),
        rec("other_customer", T0 + DAY, customer="c2"),
        rec("other_tenant", T0 + DAY, tenant_id="t2"),
    ]
    assert all(value == (False, False) for value in flags(records).values())


def test_transfer_and_callback_legs_outbound_and_unknowns_are_outside_the_population():
    records = [
        rec("a", T0),
        rec("transfer_leg", T0 + 1_000, initiation_method="TRANSFER", previous_contact_id="a", initial_contact_id="a"),
        rec("callback", T0 + 2_000, initiation_method="CALLBACK", previous_contact_id="a", initial_contact_id="a"),
        rec("outbound", T0 + 3_000, initiation_method="OUTBOUND"),
        rec("anonymous", T0 + 4_000, customer=None),
        rec("unclassified", T0 + 5_000, reason=None),
    ]
    result = flags(records)
    assert result["a"] == (False, False)  # none of those is the customer coming back
    assert all(result[c] == (None, None) for c in ("transfer_leg", "callback", "outbound", "anonymous", "unclassified"))
    # a root contact may name itself as its initial contact (Connect does for some channels)
    assert is_fcr_eligible(rec("self", T0, initial_contact_id="self"))


def test_input_order_does_not_matter_and_output_is_in_time_order():
    records = [rec(f"c{i}", T0 + i * 3 * DAY) for i in range(6)]
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    marked = mark_repeat_contacts(shuffled)
    assert [r.contact_id for r in marked] == [r.contact_id for r in records]
    assert flags(shuffled) == flags(records)
    assert flags(records)["c5"] == (False, True)


def test_many_contacts_in_one_pass():
    # 8,000 contacts, 400 customers × 2 reasons, each pair seen every 10 days (10 rounds) → no repeats at
    # W = 7, all repeats at W = 10 (boundary included) except each pair's last contact.
    records = [rec(f"x{i}", T0 + (i // 800) * 10 * DAY + i % 800, customer=f"c{i % 400}",
                   reason="billing" if i % 800 < 400 else "tech") for i in range(8_000)]
    assert not any(r.followed_by_repeat for r in mark_repeat_contacts(records, window_days=7))
    drivers = sum(bool(r.followed_by_repeat) for r in mark_repeat_contacts(records, window_days=10))
    assert drivers == 8_000 - 800


def test_repeat_flags_without_copies_and_duplicates_are_not_their_own_repeats():
    records = [rec("a", T0), rec("a", T0), rec("b", T0 + DAY)]
    assert repeat_flags(records) == {"a": (True, False), "b": (False, True)}
    assert repeat_flags([rec("m", T0, initiation_method="MONITOR")]) == {"m": (None, None)}
