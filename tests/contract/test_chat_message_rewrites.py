"""The Transcript store's reads and rewrites the chat-message redaction window needs (P27 finding 1): the
newest messages of a chat, and an all-or-nothing conditional rewrite. In memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.history import ChatMessage
from ccaas.domain.models import Conflict
from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Messages"))
    return tenant_id


def _add(deps, tenant, cid, n, at, content=None) -> ChatMessage:
    message = ChatMessage(message_id=f"m{n}", participant_role="CUSTOMER", content=content or f"message {n}",
                          absolute_time=at)
    deps.transcripts.add_message(tenant, cid, message)
    return message


def test_the_latest_messages_come_newest_last_up_to_a_cursor(deps, tenant):
    for n, at in ((1, T0 + 30), (2, T0 + 10), (3, T0 + 20), (4, T0 + 40)):
        _add(deps, tenant, "c1", n, at)
    _add(deps, tenant, "c2", 9, T0 + 50)  # another chat's
    latest = deps.transcripts.latest_messages(tenant, "c1", 3)
    assert [m.message_id for m in latest] == ["m3", "m1", "m4"]
    third = latest[1]  # m1: through its own cursor, itself included
    assert [m.message_id for m in deps.transcripts.latest_messages(tenant, "c1", 2, through=third.cursor)] == ["m3", "m1"]
    assert [m.message_id for m in deps.transcripts.latest_messages(tenant, "c1", 9)] == ["m2", "m3", "m1", "m4"]
    assert deps.transcripts.latest_messages(tenant, "nobody", 3) == []
    assert deps.transcripts.latest_messages(f"{tenant}x", "c1", 3) == []


def test_messages_are_rewritten_all_at_once_only_while_unchanged(deps, tenant):
    a = _add(deps, tenant, "c1", 1, T0, "5555 5555")
    b = _add(deps, tenant, "c1", 2, T0 + 1, "5555 4444")
    a2, b2 = (m.model_copy(update={"content": "[CARD]"}) for m in (a, b))
    stale = b.model_copy(update={"content": "not what is stored"})
    with pytest.raises(Conflict):  # one pair is stale: neither is rewritten
        deps.transcripts.replace_messages(tenant, "c1", [(a, a2), (stale, b2)])
    assert [m.content for m in deps.transcripts.messages(tenant, "c1")] == ["5555 5555", "5555 4444"]
    deps.transcripts.replace_messages(tenant, "c1", [(a, a2), (b, b2)])
    assert [m.content for m in deps.transcripts.messages(tenant, "c1")] == ["[CARD]", "[CARD]"]
    with pytest.raises(Conflict):  # a second writer working from what it read before
        deps.transcripts.replace_messages(tenant, "c1", [(a, a.model_copy(update={"content": "[X]"}))])
    with pytest.raises(Conflict):  # a message never stored (or another chat's) is not created
        deps.transcripts.replace_messages(tenant, "c2", [(a, a2)])
    assert deps.transcripts.messages(tenant, "c2") == []
    deps.transcripts.replace_messages(tenant, "c1", [])
    assert [m.content for m in deps.transcripts.messages(tenant, "c1")] == ["[CARD]", "[CARD]"]
