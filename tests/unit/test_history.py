"""domain/history.py: our contacts as history records, entry parts joined for KPIs, repeat-flag windows."""
from __future__ import annotations

import pytest

from ccaas.domain.history import (
    DAY_MS,
    AnalysisSummary,
    HistoryEntry,
    Survey,
    record_from_contact,
    repeat_flag_changes,
)
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.models import Contact, ContactState, InitiationMethod

T0 = 1_764_000_000_000


def _contact(**kw) -> Contact:
    values = dict(tenant_id="acme", contact_id="c1", channel=Channel.VOICE, queue_id="sales", initiated_at=T0,
                  customer_id="cust-1", reason="billing", attributes={"segment": "gold", "skill": "billing_en"})
    values.update(kw)
    return Contact(**values)


def test_a_completed_contact_becomes_a_record_with_its_times_and_dimensions():
    done = _contact(state=ContactState.COMPLETED, agent_id="ana", enqueued_at=T0 + 2_000, connected_at=T0 + 14_000,
                    disconnected_at=T0 + 194_000, acw_ended_at=T0 + 224_000, ended_at=T0 + 224_000, sl_threshold_s=15)
    record = record_from_contact(done)
    assert record.final_state is FinalState.COMPLETED and record.agent_id == "ana"
    assert (record.queue_wait_ms, record.talk_ms, record.acw_ms, record.handle_ms) == (12_000, 180_000, 30_000, 210_000)
    assert (record.segment, record.skill, record.team) == ("gold", "billing_en", None)
    assert record.sl_threshold_s == 15 and record.last_updated_at == T0 + 224_000
    assert record.initiation_method == InitiationMethod.API.value


def test_an_abandoned_contact_keeps_no_agent_and_an_open_one_is_not_recorded():
    offered_then_gone = _contact(state=ContactState.ABANDONED, agent_id="ana", enqueued_at=T0, offered_at=T0 + 1_000,
                                 disconnected_at=T0 + 40_000, ended_at=T0 + 40_000)
    record = record_from_contact(offered_then_gone)
    assert record.abandoned and record.agent_id is None and record.queue_wait_ms == 40_000
    assert record_from_contact(_contact(state=ContactState.CONNECTED, connected_at=T0)) is None
    assert record_from_contact(_contact(state=ContactState.QUEUED, enqueued_at=T0)) is None


@pytest.mark.parametrize(("reason", "timed_out"), [("QUEUE_TIMEOUT", True), ("CALLBACK_EXPIRED", True),
                                                   ("CUSTOMER_LEFT", False), (None, False)])
def test_a_wait_the_system_ended_is_timed_out_not_abandoned(reason, timed_out):
    """The queue gave up (max_wait_s, callback.max_wait_s): the customer did not leave (DOMAIN.md "Abandoned")."""
    gone = _contact(state=ContactState.ABANDONED, enqueued_at=T0, disconnected_at=T0 + 61_000, ended_at=T0 + 61_000,
                    abandon_reason=reason)
    record = record_from_contact(gone)
    assert record.final_state is FinalState.ABANDONED and record.offered and not record.answered
    assert (record.timed_out, record.abandoned) == (timed_out, not timed_out)
    # A record stored before the flag existed reads as it was counted then.
    stored = record.model_dump(exclude={"timed_out"})
    assert ContactRecord.model_validate(stored).abandoned


def _record(cid: str, at: int, **kw) -> ContactRecord:
    values = dict(tenant_id="acme", contact_id=cid, channel=Channel.VOICE, customer_id="cust-1", reason="billing",
                  initiated_at=at, enqueued_at=at, connected_at=at + 5_000, disconnected_at=at + 65_000,
                  final_state=FinalState.COMPLETED, last_updated_at=at + 65_000)
    values.update(kw)
    return ContactRecord(**values)


def _entry(record: ContactRecord | None, **kw) -> HistoryEntry:
    cid = record.contact_id if record else kw.pop("contact_id")
    return HistoryEntry(tenant_id="acme", contact_id=cid, record=record, **kw)


def test_kpi_record_joins_the_evaluation_of_the_analysis():
    entry = _entry(_record("c1", T0))
    assert entry.kpi_record().evaluation_score is None  # not analysed (yet): not in the evaluated count
    analysed = entry.model_copy(update={"analysis": AnalysisSummary(qa_score=0.0, auto_failed=True)})
    joined = analysed.kpi_record()
    assert (joined.evaluation_score, joined.evaluation_auto_failed) == (0.0, True)


def test_kpi_record_joins_survey_flags_and_the_classified_reason():
    ctr_answers = _record("c1", T0, csat=2, nps=3, reason=None)
    summary = AnalysisSummary(qa_score=80, reason="delivery")
    joined = _entry(ctr_answers, csat=5, followed_by_repeat=True, is_repeat=False, analysis=summary).kpi_record()
    assert (joined.csat, joined.ces, joined.nps) == (5, None, None)  # the API survey replaces the CTR's answers
    assert (joined.followed_by_repeat, joined.is_repeat, joined.reason) == (True, False, "delivery")
    untouched = _entry(ctr_answers).kpi_record()
    assert (untouched.csat, untouched.nps, untouched.reason) == (2, 3, None)  # no API survey: the CTR's stay
    stated = _entry(_record("c2", T0, reason="billing"), analysis=summary)
    assert stated.reason == "billing"  # what the contact said it was about wins over the classifier
    assert _entry(None, contact_id="c3", csat=4).kpi_record() is None  # a survey that beat its record


def test_survey_needs_an_answer_and_ranges_hold():
    with pytest.raises(ValueError):
        Survey(comment="nothing else")
    with pytest.raises(ValueError):
        Survey(csat=6)
    assert Survey(nps=0).nps == 0


W = 7


def test_flags_around_a_new_contact_mark_its_predecessor_and_itself():
    first = _entry(_record("a", T0), followed_by_repeat=False, is_repeat=False)
    second = _entry(_record("b", T0 + 3 * DAY_MS))
    changes = repeat_flag_changes([first], second, window_days=W)
    assert changes == {"a": {"followed_by_repeat": True}, "b": {"followed_by_repeat": False, "is_repeat": True}}


def test_flags_respect_the_window_boundary_inclusive():
    first = _entry(_record("a", T0), followed_by_repeat=False, is_repeat=False)
    exactly_w = _entry(_record("b", T0 + W * DAY_MS))
    assert repeat_flag_changes([first], exactly_w, window_days=W)["a"] == {"followed_by_repeat": True}
    later = _entry(_record("c", T0 + W * DAY_MS + 1))
    assert "a" not in repeat_flag_changes([first], later, window_days=W)
    assert repeat_flag_changes([first], later, window_days=W)["c"] == {"followed_by_repeat": False, "is_repeat": False}


def test_only_decidable_flags_change_and_unchanged_ones_are_not_rewritten():
    # A contact before the anchor's window start may have its own predecessor outside the window:
    # its is_repeat must not be touched from this window, only its followed_by_repeat.
    older = _entry(_record("a", T0 - 2 * DAY_MS), followed_by_repeat=False, is_repeat=True)
    anchor = _entry(_record("b", T0 + 4 * DAY_MS))
    changes = repeat_flag_changes([older], anchor, window_days=W)
    assert changes["a"] == {"followed_by_repeat": True}  # is_repeat=True (from outside) is kept
    settled = _entry(_record("b", T0 + 4 * DAY_MS), followed_by_repeat=False, is_repeat=True)
    assert "b" not in repeat_flag_changes([older.model_copy(update={"followed_by_repeat": True}), settled], settled,
                                          window_days=W)


def test_other_reasons_outbound_and_transfer_legs_are_not_repeats():
    first = _entry(_record("a", T0), followed_by_repeat=False, is_repeat=False)
    other_reason = _entry(_record("b", T0 + DAY_MS, reason="delivery"))
    assert "a" not in repeat_flag_changes([first], other_reason, window_days=W)
    outbound = _entry(_record("c", T0 + DAY_MS, initiation_method="OUTBOUND"))
    assert repeat_flag_changes([first], outbound, window_days=W) == {}  # not the customer coming back
    leg = _entry(_record("d", T0 + DAY_MS, previous_contact_id="a"))
    assert "a" not in repeat_flag_changes([first], leg, window_days=W)


def test_a_late_classified_reason_makes_a_repeat():
    first = _entry(_record("a", T0), followed_by_repeat=False, is_repeat=False)
    unknown = _entry(_record("b", T0 + DAY_MS, reason=None))
    assert "a" not in repeat_flag_changes([first], unknown, window_days=W)  # no reason: not in the FCR population
    classified = unknown.model_copy(update={"analysis": AnalysisSummary(qa_score=50, reason="billing")})
    assert repeat_flag_changes([first], classified, window_days=W)["a"] == {"followed_by_repeat": True}


def test_an_evaluation_with_nothing_answered_is_not_an_evaluated_contact():
    entry = _entry(_record("c1", T0))
    unanswered = entry.model_copy(update={"analysis": AnalysisSummary(qa_score=100.0, answered=0)})
    assert not unanswered.analysis.scored
    assert unanswered.kpi_record().evaluation_score is None  # its 100 is no score: not in `evaluated`
    answered = entry.model_copy(update={"analysis": AnalysisSummary(qa_score=100.0, answered=3)})
    assert answered.kpi_record().evaluation_score == 100.0
    # a summary stored before `answered` was kept loads and counts as before
    stored = AnalysisSummary.model_validate({"qa_score": 100.0, "auto_failed": False, "segments": 4})
    assert stored.answered is None and stored.scored
    assert entry.model_copy(update={"analysis": stored}).kpi_record().evaluation_score == 100.0
