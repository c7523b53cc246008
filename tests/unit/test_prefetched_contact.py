"""ccaas.adapters.prefetched_contact: the contact an access check read is served once, to the next read of it in
the same request, and to nothing after a write, another call or the request's end."""
from __future__ import annotations

import threading

import pytest

from ccaas.adapters import prefetched_contact
from ccaas.adapters.memory import MemoryStateStore
from ccaas.adapters.prefetched_contact import PrefetchedContactStore, request_scope, serve_once
from ccaas.domain.models import Agent, Channel, Contact, ContactState


class CountingStore(MemoryStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.contact_reads = 0

    def get_contact(self, tenant_id: str, contact_id: str) -> Contact:
        self.contact_reads += 1
        return super().get_contact(tenant_id, contact_id)


def _contact(contact_id: str = "c1", version: int = 0) -> Contact:
    return Contact(tenant_id="t1", contact_id=contact_id, channel=Channel.CHAT, queue_id="sales",
                   state=ContactState.OFFERED, agent_id="ana", initiated_at=1, version=version)


@pytest.fixture
def stores() -> tuple[PrefetchedContactStore, CountingStore]:
    inner = CountingStore()
    inner.save(contacts=[_contact(), _contact("c2")], agents=[Agent(tenant_id="t1", agent_id="ana", name="Ana")])
    inner.contact_reads = 0
    return PrefetchedContactStore(inner), inner


def _checked(store: PrefetchedContactStore, contact_id: str = "c1") -> Contact:
    """What ccaas.api.app's access check does: read, then keep for the use-case."""
    contact = store.get_contact("t1", contact_id)
    serve_once(contact)
    return contact


def test_the_next_read_of_the_checked_contact_is_served_once(stores):
    store, inner = stores
    with request_scope():
        checked = _checked(store)
        store.get_agent("t1", "ana")  # the use-cases read the agent first: the contact stays kept
        assert store.get_contact("t1", "c1") is checked and inner.contact_reads == 1
        store.get_contact("t1", "c1")  # a retry's read: afresh
    assert inner.contact_reads == 2


def test_a_write_or_any_other_call_forgets_it(stores):
    store, inner = stores
    with request_scope():
        checked = _checked(store)
        store.save(contacts=[checked.model_copy(update={"version": 1})])
        assert store.get_contact("t1", "c1").version == 1
        _checked(store)
        store.waiting_contacts("t1", "sales", 5)
        store.get_contact("t1", "c1")
        _checked(store)
        store.get_contact("t1", "c2")  # another contact's read: forgets it too
        store.get_contact("t1", "c1")
    assert inner.contact_reads == 7  # every read above reached the store


def test_nothing_kept_outlives_its_request_even_one_that_failed(stores):
    store, inner = stores
    with pytest.raises(RuntimeError), request_scope():
        _checked(store)
        raise RuntimeError("the handler failed")
    store.get_contact("t1", "c1")
    with request_scope():
        _checked(store)
    with request_scope():
        store.get_contact("t1", "c1")
    assert inner.contact_reads == 4


def test_each_thread_keeps_its_own(stores):
    store, inner = stores
    kept, other_thread_read = threading.Event(), threading.Event()
    with request_scope():
        checked = _checked(store)

        def another_request() -> None:
            kept.wait()
            with request_scope():
                store.get_contact("t1", "c1")  # not the first thread's contact
            other_thread_read.set()

        worker = threading.Thread(target=another_request)
        worker.start()
        kept.set()
        other_thread_read.wait()
        worker.join()
        assert store.get_contact("t1", "c1") is checked  # the other thread's request neither took nor cleared it
    assert inner.contact_reads == 2  # the check's and the other thread's: this thread's last read was served
    assert prefetched_contact._kept.get() is None  # noqa: SLF001
