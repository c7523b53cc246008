"""Synthetic contacts (journey tests) and test agents: who may take what (pure).

A contact is **synthetic** when it carries the reserved attribute `ccaas:synthetic` (the journey's name,
set by the journey runner; ccaas.domain.journeys). It may name the one agent allowed to take it in
`ccaas:test_agent`. An agent is a **test agent** when it has the reserved skill `ccaas:test_agent`
(any proficiency): a flag the existing profile (PUT /agents/{id}) carries, with no new field.

The rule, applied by both routing decisions (selection.eligibility, selection.select_contact):
a synthetic contact goes only to a test agent (the one it names, when it names one); a real contact never
goes to a test agent. Live metrics, history records and alerts leave synthetic contacts and test agents out
(their events carry `synthetic` / `test_agent`: ccaas.domain.events).

Synthetic contacts are removed after a while: their items in the Contacts table (the contact and its routing
decisions) carry the table's TTL (`synthetic_expiry`: SYNTHETIC_TTL_S after the contact began), real contacts' never
do. Nothing of theirs is written to the History table, which has no TTL: no record, survey, flow milestone, chat
message or transcript analysis (each is answered as for any contact, and not kept).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SYNTHETIC_ATTRIBUTE", "SYNTHETIC_TTL_S", "TEST_AGENT_ATTRIBUTE", "TEST_AGENT_SKILL", "is_synthetic",
           "is_test_agent", "marked_synthetic", "synthetic_expiry", "synthetic_refusal"]

SYNTHETIC_ATTRIBUTE = "ccaas:synthetic"
TEST_AGENT_ATTRIBUTE = "ccaas:test_agent"
TEST_AGENT_SKILL = "ccaas:test_agent"
SYNTHETIC_TTL_S = 86_400  # a journey's contact is kept a day (its run's results are kept apart)


def _attributes(contact: Any) -> Mapping[str, str]:
    return getattr(contact, "attributes", None) or {}


def marked_synthetic(attributes: Mapping[str, str] | None) -> bool:
    """Whether contact attributes carry the journey mark (ours, or an Amazon Connect contact's `Attributes`)."""
    return bool((attributes or {}).get(SYNTHETIC_ATTRIBUTE))


def is_synthetic(contact: Any) -> bool:
    return marked_synthetic(_attributes(contact))


def synthetic_expiry(contact: Any) -> int | None:
    """Epoch seconds at which a synthetic contact's stored items may be removed (the table's TTL); None for
    a real contact (kept)."""
    if not is_synthetic(contact):
        return None
    return int(getattr(contact, "initiated_at", 0) or 0) // 1000 + SYNTHETIC_TTL_S


def is_test_agent(agent: Any) -> bool:
    return TEST_AGENT_SKILL in (getattr(agent, "skills", None) or {})


def synthetic_refusal(agent: Any, contact: Any) -> str | None:
    """None when the agent may take the contact as far as journey tests go, else the reason
    (a key of Decision.skipped): `synthetic` (a journey's contact, not this agent's) or `test_agent`."""
    attributes = _attributes(contact)
    if attributes.get(SYNTHETIC_ATTRIBUTE):
        # Only ever a test agent, even when the contact names one: the marks are attributes any integration
        # key can send, and a real agent serving a "synthetic" contact would be real work that KPIs, history
        # and the SL never count (and that expires after a day). Test agents are the admin's to make.
        named = attributes.get(TEST_AGENT_ATTRIBUTE)
        return None if is_test_agent(agent) and (not named or agent.agent_id == named) else "synthetic"
    return "test_agent" if is_test_agent(agent) else None
