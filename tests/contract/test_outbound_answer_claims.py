"""The outbound store's rules for an answered call, in memory and on (moto) AWS: only an agent's disposition refines
ANSWERED, an answer's hand-out is stored with its disposition only over the version read, a contact is linked
once, and counts may go to the day of the answer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ccaas.adapters.aws.outbound import DynamoOutboundStore
from ccaas.domain.models import Conflict
from ccaas.domain.outbound.models import AGENT_DISPOSITIONS, Disposition
from ccaas.ports_outbound import AnswerHandout
from tests.contract.test_outbound_store import T0, _campaign, _record, _rows, _start, store, tenant  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
DAY = T0.date().isoformat()


def _started(store, tenant, n=1):
    _campaign(store, tenant)
    rows = _rows(store, tenant, n=n)
    records = []
    for i, row in enumerate(rows):
        record = _record(tenant, row, T0, n=i)
        _start(store, record, store.get_row(tenant, "c1", row.row_id), next_due_at=T0)
        records.append(record)
    return records


@pytest.mark.parametrize("second", sorted(set(Disposition) - AGENT_DISPOSITIONS))
def test_only_an_agents_disposition_refines_answered(store, tenant, second):
    """A second carrier outcome (an overlapping tick's ABANDONED) never rewrites a call that reached an agent."""
    (record,) = _started(store, tenant)
    store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ANSWERED, at=T0,
                         counts={"outcome.answered": 1})
    with pytest.raises(Conflict):
        store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=second, at=T0,
                             counts={f"outcome.{second}": 1})
    assert store.get_attempt(tenant, "c1", "r0", record.attempt_id).attempt.disposition is Disposition.ANSWERED
    assert store.day_counts(tenant, "c1", DAY, DAY) == {DAY: {"outcome.answered": 1}}
    assert store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.VOICEMAIL,
                                at=T0).attempt.disposition is Disposition.VOICEMAIL


def test_an_answers_hand_out_is_stored_with_its_disposition_only_over_the_version_read(store, tenant):
    first, second = _started(store, tenant, n=2)
    held = store.handouts(tenant, "sales")
    assert (held.version, held.handouts) == (0, ())
    one = held.adding([], AnswerHandout(campaign_id="c1", row_id="r0", attempt_id=first.attempt_id, at=T0))
    store.finish_attempt(tenant, "c1", "r0", first.attempt_id, disposition=Disposition.ANSWERED, at=T0,
                         counts={"outcome.answered": 1}, handouts=one)
    assert store.handouts(tenant, "sales") == one and store.handouts(f"{tenant}x", "sales").version == 0
    stale = held.adding([], AnswerHandout(campaign_id="c1", row_id="r1", attempt_id=second.attempt_id, at=T0))
    with pytest.raises(Conflict):  # another answer took a free agent since the read: nothing written
        store.finish_attempt(tenant, "c1", "r1", second.attempt_id, disposition=Disposition.ANSWERED, at=T0,
                             counts={"outcome.answered": 1}, handouts=stale)
    assert store.get_attempt(tenant, "c1", "r1", second.attempt_id).attempt.disposition is None
    assert store.day_counts(tenant, "c1", DAY, DAY) == {DAY: {"outcome.answered": 1}}
    two = one.adding(one.handouts, AnswerHandout(campaign_id="c1", row_id="r1", attempt_id=second.attempt_id, at=T0))
    store.finish_attempt(tenant, "c1", "r1", second.attempt_id, disposition=Disposition.ANSWERED, at=T0,
                         counts={"outcome.answered": 1}, handouts=two)
    assert store.handouts(tenant, "sales").version == 2 and len(store.handouts(tenant, "sales").handouts) == 2


def test_a_contact_is_linked_once_and_an_agents_disposition_keeps_it(store, tenant):
    (record,) = _started(store, tenant)
    store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ANSWERED, at=T0,
                         counts={"outcome.answered": 1})
    linked = store.link_contact(tenant, "c1", "r0", record.attempt_id, contact_id="k1", at=T0, counts={"connects": 1})
    assert linked.contact_id == "k1" and linked.attempt.disposition is Disposition.ANSWERED
    with pytest.raises(Conflict):
        store.link_contact(tenant, "c1", "r0", record.attempt_id, contact_id="k2", at=T0, counts={"connects": 1})
    assert store.day_counts(tenant, "c1", DAY, DAY) == {DAY: {"outcome.answered": 1, "connects": 1}}
    later = T0 + timedelta(days=1)
    done = store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ANSWERING_MACHINE,
                                at=later, count_day=DAY,  # the answer's day, not the disposition's
                                counts={"agent.answering_machine": 1, "outcome.answered": -1,
                                        "outcome.answering_machine": 1, "connects": -1})
    assert done.contact_id == "k1" and store.get_attempt(tenant, "c1", "r0", record.attempt_id) == done
    assert store.day_counts(tenant, "c1", DAY, later.date().isoformat()) == {DAY: {
        "outcome.answered": 0, "connects": 0, "agent.answering_machine": 1, "outcome.answering_machine": 1}}


def test_an_agents_disposition_read_before_the_link_never_drops_the_contact(store, tenant, monkeypatch):
    """DynamoDB writes the whole attempt document: one read before link_contact must not write it back without the
    contact (the memory twin writes under one lock: no read can be stale)."""
    (record,) = _started(store, tenant)
    answered = store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ANSWERED, at=T0)
    store.link_contact(tenant, "c1", "r0", record.attempt_id, contact_id="k1", at=T0)
    if isinstance(store, DynamoOutboundStore):
        monkeypatch.setattr(store, "get_attempt", lambda *_: answered)  # what a disposition read before the link
        with pytest.raises(Conflict):
            store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.WRONG_PARTY, at=T0)
        monkeypatch.undo()
    done = store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.WRONG_PARTY, at=T0)
    assert done.contact_id == "k1" == store.get_attempt(tenant, "c1", "r0", record.attempt_id).contact_id
