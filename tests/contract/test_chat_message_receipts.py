"""A chat message keeps its redaction receipt in the Transcript store, and a message written before receipts (its
item as the store wrote it then) still reads back and can be rewritten. In memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.history import ChatMessage, MessageRedaction
from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
T0 = 1_795_737_000_000


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Receipts"))
    return tenant_id


def test_a_receipt_is_stored_with_its_message_and_rewritten_with_it(deps, tenant):
    card = MessageRedaction(kind="CARD", start=5, end=11, redaction="m1@5/m1")
    message = ChatMessage(message_id="m1", participant_role="CUSTOMER", content="card [CARD]", absolute_time=T0,
                          redactions=(card,))
    deps.transcripts.add_message(tenant, "c1", message)
    [read] = deps.transcripts.messages(tenant, "c1")
    assert read == message and read.redactions == (card,)
    code = MessageRedaction(kind="CARD_SECURITY_CODE", start=16, end=36, redaction="m2@0/m2")
    rewritten = read.model_copy(update={"content": "card [CARD] cvv [CARD_SECURITY_CODE]", "redactions": (card, code)})
    deps.transcripts.replace_messages(tenant, "c1", [(read, rewritten)])
    assert deps.transcripts.latest_messages(tenant, "c1", 1) == [rewritten]


def test_a_message_stored_before_receipts_reads_back_and_is_rewritten(deps, tenant, stack):
    legacy = ChatMessage(message_id="m0", participant_role="AGENT", content="mail [EMAIL]", absolute_time=T0)
    if hasattr(deps.transcripts, "_db"):  # the item exactly as the store wrote it before receipts
        from ccaas.adapters.aws.history import _key  # noqa: PLC0415

        deps.transcripts._db.put_item(TableName=deps.transcripts._table, Item={  # noqa: SLF001
            **_key(tenant, "c1", f"MSG#{legacy.cursor}"),
            "message": {"S": '{"message_id":"m0","participant_role":"AGENT","content":"mail [EMAIL]",'
                             f'"absolute_time":{T0}}}'}})
    else:
        deps.transcripts.add_message(tenant, "c1", legacy)
    [read] = deps.transcripts.messages(tenant, "c1")
    assert read == legacy and read.redactions is None
    assert read.model_dump(mode="json")["absolute_time"] == "2026-11-26T23:50:00.000Z"
    redacted = read.model_copy(update={"content": "mail [EMAIL] [CARD]", "redactions": ()})
    deps.transcripts.replace_messages(tenant, "c1", [(read, redacted)])  # the condition matches the old item
    assert deps.transcripts.messages(tenant, "c1") == [redacted]
