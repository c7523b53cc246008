"""A StateStore that serves, once, the contact the API's access check read in the same request.

Why: an agent's request on a contact (accept, complete, end-acw, hold, transfers...) is checked first
(ccaas.api.access: is the contact the agent's?), which reads the contact consistently; the use-case then read
it again milliseconds later. On the busy-day bench that second GetItem was 4.7 per completed contact, ~5.5 % of
all AWS calls and ~9 % of the read units.

Safe because the use-cases write on the version they read (a Conflict makes them retry), and the contact is
served at most once, only within the request that read it:
- `request_scope()` (the API app, around each request's check and handler) starts and ends it with nothing kept:
  a Lambda environment, like the local runtime's, serves many requests with one store;
- `serve_once(contact)` (the access check) keeps the contact it read;
- the next `get_contact` of that contact takes it, so a retry after a Conflict reads afresh; `get_agent` leaves it
  kept (the use-cases read the agent first); any other call (a write above all, or a read of another contact)
  forgets it, so no read after a write is served from it.
It is kept in a ContextVar: the local runtime serves requests from several threads with one store.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccaas.domain.models import Agent, Contact
    from ccaas.ports import StateStore

_kept: ContextVar[Contact | None] = ContextVar("ccaas_prefetched_contact", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """One request: whatever a request kept is gone when the next starts, however the last one ended."""
    _kept.set(None)
    try:
        yield
    finally:
        _kept.set(None)


def serve_once(contact: Contact) -> None:
    """Keep `contact`, just read consistently, for this request's next read of it."""
    _kept.set(contact)


def _forget() -> Contact | None:
    kept = _kept.get()
    if kept is not None:
        _kept.set(None)
    return kept


class PrefetchedContactStore:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    def get_contact(self, tenant_id: str, contact_id: str) -> Contact:
        kept = _forget()
        if kept is not None and (kept.tenant_id, kept.contact_id) == (tenant_id, contact_id):
            return kept
        return self._store.get_contact(tenant_id, contact_id)

    def get_agent(self, tenant_id: str, agent_id: str) -> Agent:
        return self._store.get_agent(tenant_id, agent_id)

    def __getattr__(self, name: str) -> Any:
        # Every other call (save, record_decision, the queries) forgets the kept contact first.
        if name == "_store":  # not set yet (a copy being made)
            raise AttributeError(name)
        _forget()
        return getattr(self._store, name)
