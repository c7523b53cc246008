"""Amazon Connect's channel (and chat subtype) as our Channel: one table, read by the contact-flow adapter
(domain/connect_flow.py, which routes the contact) and CTR ingestion (domain/kpis/ctr.py, which reports it),
so a contact is reported as the channel it was routed as.

Connect carries SMS and messaging apps as CHAT with a `connect:Subtype` segment attribute. Both names are
matched without regard to case (`connect:SMS`, `connect:sms`); an unknown subtype stays CHAT.
"""
from __future__ import annotations

from ccaas.domain.vocabulary import Channel

__all__ = ["connect_channel"]

# Connect's channels (VOICE, CHAT, TASK, EMAIL) and ours by name (a record or a test may carry SMS/VIDEO/...).
_CHANNELS = {c.value: c for c in Channel}
_CHAT_SUBTYPES = {
    "connect:sms": Channel.SMS,
    "connect:whatsapp": Channel.SOCIAL,
    "connect:apple": Channel.SOCIAL,
    "connect:facebook": Channel.SOCIAL,
    "connect:webrtc": Channel.VIDEO,
}


def connect_channel(channel: str | None, subtype: str | None = None) -> Channel | None:
    """Our channel for Connect's `Channel` and chat `connect:Subtype`; None for a channel we do not know."""
    ours = _CHANNELS.get((channel or "").strip().upper())
    if ours is Channel.CHAT and subtype:
        return _CHAT_SUBTYPES.get(subtype.strip().lower(), Channel.CHAT)
    return ours
