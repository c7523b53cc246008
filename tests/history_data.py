"""Test data for the history tiers: synthetic contact records from forecast.synthetic_history, a
redaction corpus, and a Kinesis event builder for the CTR consumer."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, tzinfo

from ccaas.domain import forecast as fc
from ccaas.domain.analytics import luhn_valid
from ccaas.domain.kpis import Channel, ContactRecord, FinalState

WAIT_MS = 5_000
ACW_MS = 30_000


def synthetic_records(
    tenant_id: str, first_day: date, days: int, *, tz: tzinfo, queue_id: str = "sales", seed: int = 0,
    shape: fc.SyntheticShape = fc.SyntheticShape(weekday_volume=120.0, aht_seconds=240.0),
) -> tuple[list[ContactRecord], list[fc.HistoryPoint]]:
    """Contacts whose per-interval arrivals and AHT are exactly forecast.synthetic_history's points:
    each interval's n contacts arrive spread over it, wait 5 s, and take the point's AHT (30 s of it ACW)."""
    points = fc.synthetic_history(first_day, days, seed=seed, shape=shape, tz=tz)
    records = []
    for point in points:
        start = int(point.interval_start.timestamp() * 1000)
        for k in range(point.offered):
            enqueued = start + k * (fc.INTERVAL_SECONDS * 1000 // point.offered)
            handle_ms = int(round(point.aht_seconds * 1000))
            connected = enqueued + WAIT_MS
            disconnected = connected + handle_ms - ACW_MS
            records.append(
                ContactRecord(
                    tenant_id=tenant_id, contact_id=f"syn-{start}-{k}", channel=Channel.VOICE, queue_id=queue_id,
                    agent_id=f"agent-{k % 7}", initiated_at=enqueued, enqueued_at=enqueued, connected_at=connected,
                    disconnected_at=disconnected, acw_ended_at=disconnected + ACW_MS, final_state=FinalState.COMPLETED,
                    last_updated_at=disconnected + ACW_MS,
                )
            )
    return records, points


# Luhn-valid test numbers (public test PANs) in the shapes people type and ASR produces.
CARDS = ("4111111111111111", "5500005555555559", "378282246310005", "6011111111111117")
CORPUS = (
    "my card number is 4111 1111 1111 1111 expiring 09/29",
    "it's 5500-0055-5555-5559, the mastercard",
    "amex three seven eight two eight two two four six three one zero zero zero five",
    "card 6011111111111117 please charge it",
    "my order number 1234 5678 9012 3456 is late",  # Luhn-invalid: kept
    "call me back on 555 0143, my email is pat@example.com",
    "my social is 123-45-6789",
)


_SPOKEN = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9"}


def card_leaks(text: str, cards: Iterable[str] = CARDS) -> list[str]:
    """The card numbers (the corpus's by default) found in `text`, however they were written (groups, dashes,
    spoken digits)."""
    digits = re.sub(r"\b(" + "|".join(_SPOKEN) + r")\b", lambda m: _SPOKEN[m.group(1)], text.lower())
    joined = re.sub(r"(?<=\d)[\s\-.,]+(?=\d)", "", digits)
    return [card for card in cards if card in joined]


def strings_in(value: object) -> Iterable[str]:
    """Every string inside a DynamoDB item / JSON value, JSON-encoded strings opened up too."""
    if isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, str):
        yield value
        if value[:1] in "{[":
            try:
                yield from strings_in(json.loads(value))
            except ValueError:
                pass


def ctr_bytes(ctr: dict) -> bytes:
    return json.dumps(ctr).encode()


assert all(luhn_valid(c) for c in CARDS)


def record_handled_contact(tenant_id: str, contact_id: str, agent_id: str = "ana") -> None:
    """A contact the agent handled ten minutes ago, in the History store as the post-contact workflow would
    record it (a minute of talk): what transcript uploads and evaluations attach to."""
    import time

    from ccaas.bootstrap import dependencies

    at = int(time.time() * 1000) - 600_000
    dependencies().history.put_record(ContactRecord(
        tenant_id=tenant_id, contact_id=contact_id, channel=Channel.VOICE, queue_id="sales", agent_id=agent_id,
        customer_id="cust-1", initiated_at=at, enqueued_at=at, connected_at=at + 5_000, disconnected_at=at + 65_000,
        final_state=FinalState.COMPLETED, last_updated_at=at + 65_000,
    ))  # fmt: skip
