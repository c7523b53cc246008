"""Transcript analytics use-cases: chat messages, transcript uploads, the post-contact analysis step,
search and root-cause views.

Redaction comes first everywhere: a chat message or survey comment is redacted before it is stored,
an uploaded transcript is redacted by `analyze_transcript` before anything else reads it, and only
the redacted analysis is stored. Raw text lives in this process's memory for one request and is
never logged (the transcript models hide it from repr and validation errors).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from ccaas.adapters.item_size import json_size  # the stores' own measure (compact UTF-8 JSON)
from ccaas.bootstrap import Dependencies
from ccaas.domain.analytics import (
    AnalyticsRules,
    QAScore,
    RedactionSummary,
    Transcript,
    TranscriptAnalysis,
    TranscriptFormatError,
    analyze_transcript,
    parse_chat_messages,
    parse_segments,  # noqa: F401 - tests reach the parser through this module
    parse_transcript,
)
from ccaas.domain.analytics.forms import MAX_COMMENT, EvaluationResult, Override, rescore
from ccaas.domain.analytics.redaction import MAX_RECEIPT, RedactionMark
from ccaas.domain.history import AnalysisSummary, ChatMessage, HistoryEntry, MessageRedaction, ParticipantRole
from ccaas.domain.vocabulary import (
    STORED_DOCUMENT, Channel, Conflict, ContactState, DomainError, NotFound, TooLarge, iso_8601_date_time_text,
    shown_name, within_calendar,
)

# ccaas.usecases.guidance and ccaas.usecases.history are imported by the functions that call them (as the lake's
# use-cases are): the analysis step's import does not build real-time guidance's models or the history use-cases'.

if TYPE_CHECKING:  # the reports' types; ccaas.domain.insights is imported by the reports (API only)
    from ccaas.domain.models import Contact
    from ccaas.domain.analytics import Redactor
    from ccaas.domain.insights import (
        Dimension,
        Metric,
        Performer,
        PerformersReport,
        ReasonsReport,
        ReasonStat,
        RepeatDriver,
        RepeatDriversReport,
    )

CHAT_CHANNELS = frozenset({Channel.CHAT, Channel.SMS, Channel.SOCIAL})
_MAX_ANALYSIS_BYTES = 300_000  # DynamoDB items stop at 400 KB
_WRITE_ATTEMPTS = 3  # conditional writes of an analysis retried on a concurrent writer, then 409


# --- tenant rules ---------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _compiled_rules(document: str) -> AnalyticsRules:
    stored = json.loads(document)
    rules = AnalyticsRules.model_validate(stored, context=STORED_DOCUMENT) if stored else AnalyticsRules.default()
    rules.compiled()
    return rules


def analytics_rules(deps: Dependencies, tenant_id: str) -> AnalyticsRules:
    """The tenant's rules (categories, compliance, reasons, QA, redaction), compiled once per content:
    the document is read through the config store (cached per container), its compiled form is kept by
    what it says, so a store or tenant can never see another's rules."""
    return _compiled_rules(json.dumps(deps.config.get_settings(tenant_id, "analytics"), sort_keys=True))


def put_analytics_rules(deps: Dependencies, tenant_id: str, rules: AnalyticsRules) -> AnalyticsRules:
    deps.config.put_settings(tenant_id, "analytics", rules.model_dump(mode="json"))
    return rules


def redact(deps: Dependencies, tenant_id: str, text: str) -> str:
    return analytics_rules(deps, tenant_id).compiled().redactor.redact(text).text


# --- journey tests' contacts ----------------------------------------------------------------------
def is_synthetic_contact(deps: Dependencies, tenant_id: str, contact_id: str, entry: HistoryEntry | None,
                         contact: Contact | None = None) -> bool:
    """Whether the contact is a journey test's (ccaas.domain.routing_engine.synthetic): it never becomes history, and
    the History table has no TTL, so nothing of it is written there (its messages, analysis, survey are answered and
    not kept). A contact whose record is in history is not one (record_from_contact leaves them out): only one
    without is read (unless the caller read it: `contact`, history.known_contact's), and one that is not ours (an
    Amazon Connect contact) is not one either."""
    if entry is not None and entry.record is not None:
        return False
    from ccaas.domain.routing_engine.synthetic import is_synthetic  # noqa: PLC0415 - a tiny module, on first use

    try:
        return is_synthetic(contact or deps.store.get_contact(tenant_id, contact_id))
    except NotFound:
        return False


# --- chat messages --------------------------------------------------------------------------------
# The API's models here are built by their first use (pydantic's defer_build), not by the import the analysis
# step's cold start pays for.
class NewMessage(BaseModel):
    """POST /contacts/{id}/messages: one message of a chat participant."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    participant_role: ParticipantRole
    content: str = Field(min_length=1, max_length=4096, repr=False)
    # vocabulary.IsoDateTime's reading (ISO 8601 text only: a number or "1796538600000" was read as an epoch; years
    # 2000-2100), on AwareDatetime: a send time without its UTC offset names no instant, and is refused.
    absolute_time: Annotated[AwareDatetime, BeforeValidator(iso_8601_date_time_text),
                             AfterValidator(within_calendar)] | None = Field(
        default=None, description="when it was sent: ISO 8601 with a UTC offset (default: now)")


def add_chat_message(deps: Dependencies, tenant_id: str, contact_id: str, message: NewMessage) -> ChatMessage:
    contact = deps.store.get_contact(tenant_id, contact_id)
    if contact.channel not in CHAT_CHANNELS:
        raise DomainError(f"contact {contact_id} is a {contact.channel} contact, not a chat", field="contact_id")
    if message.participant_role == ParticipantRole.CUSTOMER:
        # a consult leg is the agents' own: the customer's words there would steer its analysis and opt-outs
        from ccaas.domain import lifecycle  # noqa: PLC0415 - as the other customer-side verbs

        lifecycle.require_customer_side(contact, "sent the customer's messages")
    if message.participant_role == ParticipantRole.AGENT and contact.state != ContactState.CONNECTED:
        # An agent speaks in the conversation only: not into an offer it has not accepted, nor into the closed
        # transcript its QA and compliance timing are read from (the customer's side may still arrive: a chat
        # service delivers what the customer typed while waiting, or as the agent left).
        raise Conflict(f"contact {contact_id} is {contact.state}: an agent's message needs it CONNECTED",
                       field="contact_id")
    sent = message.absolute_time
    if sent is not None and sent.tzinfo is None:  # a Python caller's naive time (the API's always has an offset)
        raise DomainError("absolute_time needs a UTC offset", field="absolute_time")
    unredacted = ChatMessage(
        message_id=deps.ids.new_id(),
        participant_role=message.participant_role,
        content=message.content,
        absolute_time=int(sent.timestamp() * 1000) if sent is not None else deps.clock.now_ms(),
        redactions=(),
    )
    # Redacted alone first (what is stored at once), with its receipt: what was replaced where, never the value.
    redactor = analytics_rules(deps, tenant_id).compiled().redactor
    [stored] = _redact_together(redactor, [unredacted], pass_id=unredacted.message_id, stand_in=False)
    from ccaas.domain.routing_engine.synthetic import is_synthetic  # noqa: PLC0415 - a tiny module, on first use

    if not is_synthetic(contact):  # a journey test's chat keeps no transcript (is_synthetic_contact)
        deps.transcripts.add_message(tenant_id, contact_id, stored)
        stored = _redact_with_recent(deps, tenant_id, contact_id, stored, message.content)
    from ccaas.usecases.outbound import inbound_message  # noqa: PLC0415 - outbound campaigns: an opt-out text (STOP)
    inbound_message(deps, tenant_id, contact, message.participant_role, message.content)
    return stored


# A card typed over several messages ("5555 5555", "5555 4444", "12/28", "123") is no card in any one of them:
# each new message is redacted again together with the chat's messages just before it (all stored, so already
# redacted one by one), and any of them that gains a placeholder is rewritten. The look-back is bounded: per
# message one more Query (at most _LOOK_BACK items, consistent), redacting at most _LOOK_BACK_CHARS more text
# (~1 ms for a usual chat; see _bounded) and a conditional write (one transaction) only when a message changed
# (a split card: its pieces, once).
_LOOK_BACK = 8  # messages, the new one included: a card in groups, its expiry and code, the agent's questions
_LOOK_BACK_MS = 15 * 60_000  # ... typed within this long of the new message
_LOOK_BACK_CHARS = 4096  # ... and the other messages' texts within this (one longest message)
_CARD_PLACEHOLDER = "[CARD]"
# A stored [CARD] is handed back to the redactor as a card (a Luhn-valid test number) so that an expiry or a
# code typed after it, in this message or the next, is still "right after a card number".
_CARD_STAND_IN = "4111111111111111"
_PLACEHOLDERS = re.compile(r"\[[A-Z][A-Z0-9_]*\]")


def _redact_with_recent(deps: Dependencies, tenant_id: str, contact_id: str, posted: ChatMessage,
                        sent: str) -> ChatMessage:
    """`posted` (stored already) redacted with the chat's last messages, as stored. It is written before the
    window is read, so of two messages posted at once the later read sees both. The rewrite is conditional on
    the messages read; on a Conflict (a concurrent post rewrote one) the window is read and redacted again.
    The posted message is read as `sent` (its text before redaction, never stored): alone, the last group of a
    card typed over two messages ("4111 1111 1111" / "1111 cvv 123") is a code, and its placeholder would hide
    the card's end from the window. Its stored form is never less redacted than `posted`'s. (The text as sent is
    only read here, to be redacted, as add_chat_message read it: it is never stored nor returned.) Each message
    rewritten keeps its receipt: what it held before, and what this pass replaced in it."""
    redactor = analytics_rules(deps, tenant_id).compiled().redactor
    for attempt in range(_WRITE_ATTEMPTS):
        recent = deps.transcripts.latest_messages(tenant_id, contact_id, _LOOK_BACK)
        if all(m.message_id != posted.message_id for m in recent):  # given an older send time
            recent = deps.transcripts.latest_messages(tenant_id, contact_id, _LOOK_BACK, through=posted.cursor)
        window = _bounded([m for m in recent if abs(m.absolute_time - posted.absolute_time) <= _LOOK_BACK_MS], posted)
        # as sent (nothing redacted in it yet), unless a concurrent post rewrote it since (reading the window with
        # it): that reading stands
        reading = [m.model_copy(update={"content": sent, "redactions": ()})
                   if m.message_id == posted.message_id and m.content == posted.content else m for m in window]
        redacted = [after if after.message_id != posted.message_id or _digits(after.content) <= _digits(posted.content)
                    else posted for after in _redact_together(redactor, reading, pass_id=posted.message_id)]
        changed = [(before, after) for before, after in zip(window, redacted) if _rewritten(before, after)]
        try:  # all at once: a card's first half rewritten alone would leave the second half unfindable
            deps.transcripts.replace_messages(tenant_id, contact_id, changed)
            break
        except Conflict:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
    return next((m for m in redacted if m.message_id == posted.message_id), posted)


def _rewritten(before: ChatMessage, after: ChatMessage) -> bool:
    """Whether the window pass changed a stored message: its text, or (the same text) its receipt, e.g. the card
    it holds now continues the previous message's. One stored before receipts keeps none until its text changes."""
    return after.content != before.content or (before.redactions is not None and after.redactions != before.redactions)


def _bounded(window: list[ChatMessage], posted: ChatMessage) -> list[ChatMessage]:
    """The window cut, oldest first (then newest, when `posted` was given an older send time), until the other
    messages' texts fit _LOOK_BACK_CHARS: a post after long pastes redacts one more paste's worth, not eight."""
    size = sum(len(m.content) for m in window if m.message_id != posted.message_id)
    start, end = 0, len(window)
    while size > _LOOK_BACK_CHARS and start < end and window[start].message_id != posted.message_id:
        size -= len(window[start].content)
        start += 1
    while size > _LOOK_BACK_CHARS and end > start and window[end - 1].message_id != posted.message_id:
        end -= 1
        size -= len(window[end].content)
    return window[start:end]


def _redact_together(redactor: Redactor, window: list[ChatMessage], *, pass_id: str,
                     stand_in: bool = True) -> list[ChatMessage]:
    """The window's messages redacted as one conversation, each with its receipt: the redactions it held (moved by
    what this pass replaced before them), and this pass's. A stored [CARD] read again as a card (the stand-in)
    keeps its identity, so a card is one redaction however many passes re-read it; a new redaction is named by
    where its first piece is and the pass (`pass_id`: the posted message), the same whether a message is redacted
    alone or in its window."""
    results = _redacted_contents(redactor, window, stand_in=stand_in)
    if stand_in and any(_digits(after) > _digits(m.content) for m, (after, _) in zip(window, results)):
        stand_in = False  # (part of) a stand-in was kept: never store it
        results = _redacted_contents(redactor, window, stand_in=False)
    names: dict[int, str] = {}  # this pass's redactions (ordinals) that continue one held before
    held: list[list[MessageRedaction]] = []  # per message: the redactions it held that this pass left alone
    for message, (_, found) in zip(window, results):
        kept: list[MessageRedaction] = []
        for old in _receipt(message) if found is not None else ():
            start, end = _read_offset(message.content, old.start, stand_in), _read_offset(message.content, old.end, stand_in)
            over = next((f for f in found if f.read_start < end and start < f.read_end), None)
            if over is not None:
                names.setdefault(over.ordinal, old.redaction)
                continue
            moved = sum((f.end - f.start) - (f.read_end - f.read_start) for f in found if f.read_end <= start)
            kept.append(old.model_copy(update={"start": start + moved, "end": end + moved}))
        held.append(kept)
    for message, (_, found) in zip(window, results):
        for f in found or ():
            names.setdefault(f.ordinal, f"{message.message_id}@{f.start}/{pass_id}")
    redacted = []
    for message, (content, found), kept in zip(window, results, held):
        if found is None:  # the pass listed too many redactions to place: its placeholders are its receipt
            receipt = _receipt(message.model_copy(update={"content": content, "redactions": None}))
        else:
            new = [MessageRedaction(kind=f.kind, start=f.start, end=f.end, redaction=names[f.ordinal]) for f in found]
            receipt = tuple(sorted([*kept, *new], key=lambda r: r.start))
        redacted.append(message.model_copy(update={"content": content, "redactions": receipt}))
    return redacted


@dataclass(frozen=True)
class _Found:
    """A placeholder a redaction pass put in one message: the span of the text it read that it replaced, and where
    the placeholder is in the new content. `ordinal`: the pass's redaction it is a piece of (a card split over
    lines or messages has one piece in each)."""

    kind: str
    ordinal: int
    read_start: int
    read_end: int
    start: int
    end: int


def _redacted_contents(redactor: Redactor, window: list[ChatMessage], *,
                       stand_in: bool) -> list[tuple[str, list[_Found] | None]]:
    """Each message's new content and what this pass put in it (None: the pass's receipt was cut at MAX_RECEIPT).
    Each line a segment (redact_many would flatten a line break inside one text), speakers marked."""
    lines: list[str] = []
    speakers: list[ParticipantRole] = []
    sizes: list[int] = []
    hidden: list[tuple[int, int, int]] = []  # (line, start, end) of each stand-in: a card whose digits are gone
    for message in window:
        parts = message.content.split("\n")
        for part in parts:
            if stand_in:
                part, at = _with_stand_ins(part)
                hidden += [(len(lines), start, end) for start, end in at]
            lines.append(part)
        speakers += [message.participant_role] * len(parts)
        sizes.append(len(parts))
    result = redactor.redact_many(lines, speakers, hidden_cards=hidden) if lines else None
    texts = result.texts if result is not None else []
    marks: dict[int, list[RedactionMark]] = {}
    for mark in result.receipt if result is not None else ():
        marks.setdefault(mark.segment, []).append(mark)
    complete = result is None or not result.receipt_dropped
    bounds = [0, *accumulate(sizes)]
    contents: list[tuple[str, list[_Found] | None]] = []
    for a, b in zip(bounds, bounds[1:]):
        found: list[_Found] = []
        read_at = new_at = 0  # where line k starts in the message as read / as redacted
        for k in range(a, b):
            found += [_Found(m.kind, m.redaction, read_at + m.start, read_at + m.end, new_at + m.redacted_start,
                             new_at + m.redacted_end) for m in marks.get(k, ())]
            read_at += len(lines[k]) + 1
            new_at += len(texts[k]) + 1
        contents.append(("\n".join(texts[a:b]), found if complete else None))
    return contents


def _with_stand_ins(line: str) -> tuple[str, list[tuple[int, int]]]:
    """The line with each [CARD] read as the stand-in, and where each stand-in is in it: the redactor reads what
    follows one as what follows a card, and digits after it in a later message as the rest of a card that may have
    begun in the placeholder (a card spoken over two messages whose first half was redacted with the card before)."""
    pieces = line.split(_CARD_PLACEHOLDER)
    spans, at = [], len(pieces[0])
    for piece in pieces[1:]:
        spans.append((at, at + len(_CARD_STAND_IN)))
        at += len(_CARD_STAND_IN) + len(piece)
    return _CARD_STAND_IN.join(pieces), spans


def _read_offset(content: str, offset: int, stand_in: bool) -> int:
    """Where `offset` of a stored content is in the text the redactor read (each [CARD] before it a stand-in)."""
    if not stand_in:
        return offset
    return offset + (len(_CARD_STAND_IN) - len(_CARD_PLACEHOLDER)) * content.count(_CARD_PLACEHOLDER, 0, offset)


def _receipt(message: ChatMessage) -> tuple[MessageRedaction, ...]:
    """What redaction replaced in a stored message. One stored before messages kept it is read from its
    placeholders, each its own redaction: its text is all that is left of what it held."""
    if message.redactions is not None:
        return message.redactions
    return tuple(MessageRedaction(kind=m.group()[1:-1], start=m.start(), end=m.end(),
                                  redaction=f"{message.message_id}@{m.start()}")
                 for m in _PLACEHOLDERS.finditer(message.content))


def _digits(text: str) -> int:
    """Digits outside placeholders: redaction only ever removes them."""
    return sum(c.isdigit() for c in _PLACEHOLDERS.sub("", text))


MESSAGES_PAGE = 500  # GET /contacts/{id}/messages: messages a page holds at most (and by default); ~4 MB too


def chat_messages(deps: Dependencies, tenant_id: str, contact_id: str, *, after: str | None = None,
                  limit: int = MESSAGES_PAGE) -> tuple[list[ChatMessage], str | None]:
    """A page of the chat's messages in time order after the cursor `after`, and the cursor the next page
    starts after (None: this was the last). A page holds at most `limit` messages and ~4 MB: one read of a long
    chat answered every message at once, 8 MB for 140 messages of emoji, over Lambda's 6 MB (a 502)."""
    deps.store.get_contact(tenant_id, contact_id)
    from ccaas.domain.paging import fitting_page  # noqa: PLC0415 - reading messages only

    found = deps.transcripts.messages(tenant_id, contact_id, after=after, limit=limit + 1)
    page = fitting_page(found, limit, lambda message: message.model_dump(mode="json"))
    more = len(page) < len(found)
    return page, page[-1].cursor if more else None


# --- analysis -------------------------------------------------------------------------------------
def _fit(document: dict[str, Any]) -> dict[str, Any]:
    """The stored analysis document (overrides included) within _MAX_ANALYSIS_BYTES, cut in this order: the
    trailing segments' texts (scores, categories and evidence are kept; `segment_texts_dropped` counts them),
    the evaluation evidence's text snippets (offsets are kept), then the trailing segments themselves
    (`segments_dropped`: a transcript of thousands of tiny segments is ~90 bytes a segment without any text).
    An item DynamoDB refused had failed the upload with a 502 and the analysis step on every retry."""
    size = json_size(document)
    segments = document.get("segments") or []
    dropped = int(document.get("segment_texts_dropped") or 0)
    while size > _MAX_ANALYSIS_BYTES and dropped < len(segments):
        segment = segments[len(segments) - 1 - dropped]
        size -= json_size(segment.get("text") or "") - 2  # the text's JSON string, "" left
        segment["text"] = ""
        dropped += 1
    document["segment_texts_dropped"] = dropped
    if size > _MAX_ANALYSIS_BYTES:  # still too large (a very large form): the evidence keeps its offsets only
        for section in (document.get("evaluation") or {}).get("sections", []):
            for question in section["questions"]:
                for evidence in (question.get("automatic") or {}).get("evidence", []):
                    evidence["snippet"] = None
        document["evidence_snippets_dropped"] = True
        size = json_size(document)
    kept, cut = len(segments), int(document.get("segments_dropped") or 0)
    while size > _MAX_ANALYSIS_BYTES and kept:
        kept -= 1
        size -= json_size(segments[kept]) + 1  # and its comma
        if size <= _MAX_ANALYSIS_BYTES:  # exact, with the count the cut adds
            document["segments"], document["segments_dropped"] = segments[:kept], cut + len(segments) - kept
            size = json_size(document)
    return document


def _version(stored: dict[str, Any] | None) -> int:
    """The stored analysis document's version (0: none, or one written before versions)."""
    version = (stored or {}).get("version", 0)
    return version if isinstance(version, int) else 0


def _overrides(stored: dict[str, Any] | None) -> dict[str, Override]:
    """Supervisor overrides kept with the analysis, by question id (also those the current form lacks)."""
    held = (stored or {}).get("overrides")
    if not isinstance(held, dict):
        return {}
    return {question: Override.model_validate(value) for question, value in held.items()}


def _with_evaluation(analysis: TranscriptAnalysis, evaluation: EvaluationResult) -> TranscriptAnalysis:
    qa = QAScore(score=evaluation.score, auto_failed=evaluation.auto_failed)
    return analysis.model_copy(update={"evaluation": evaluation, "qa": qa})


def _store_analysis(deps: Dependencies, tenant_id: str, contact_id: str, analysis: TranscriptAnalysis,
                    contact: Contact | None = None) -> AnalysisSummary:
    """Store a (re-)analysis. Supervisor overrides already stored are kept and win over the new
    automatic answers; the write is conditional on the version read, so an override saved meanwhile is
    never lost (the read-merge-write is retried)."""
    from ccaas.usecases.guidance import guidance_counts  # noqa: PLC0415 - see the imports above

    rules = analytics_rules(deps, tenant_id)
    before = deps.history.get_entry(tenant_id, contact_id)
    shown, followed = guidance_counts(deps, tenant_id, contact_id)
    if is_synthetic_contact(deps, tenant_id, contact_id, before, contact):  # analysed, not kept (nor sent to the lake)
        summary = AnalysisSummary.of(analysis, analyzed_at=deps.clock.now_ms(), fallback_reason=rules.reasons.fallback)
        return summary.model_copy(update={"guidance_prompts": shown, "guidance_followed": followed})
    for attempt in range(_WRITE_ATTEMPTS):
        stored = deps.transcripts.get_analysis(tenant_id, contact_id)
        version, overrides = _version(stored), _overrides(stored)
        current = _with_evaluation(analysis, rescore(analysis.evaluation, overrides)) if overrides else analysis
        summary = AnalysisSummary.of(current, analyzed_at=deps.clock.now_ms(), fallback_reason=rules.reasons.fallback)
        summary = summary.model_copy(update={"guidance_prompts": shown, "guidance_followed": followed})
        document = current.model_dump(mode="json")
        document["overrides"] = {q: o.model_dump(mode="json") for q, o in overrides.items()}
        document["version"] = version + 1
        _fit(document)
        try:
            deps.transcripts.put_analysis(tenant_id, contact_id, document, summary, expected_version=version)
            break
        except Conflict:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
    also: list[str] = []
    # The classified reason changes who repeats. A re-run (a retried step, a re-analysis) refreshes too: the run
    # before may have stored the analysis and then failed to store the flags, or to export the neighbours they
    # moved (no change any more, so the whole window goes to the lake again).
    rerun = before is not None and before.analysis is not None
    if before is not None and (rerun or before.reason != _effective_reason(before, summary)):
        from ccaas.usecases.history import refresh_repeat_flags  # noqa: PLC0415 - see the imports above

        refreshed = refresh_repeat_flags(deps, tenant_id, contact_id)
        also = list(refreshed.window if rerun else refreshed.changed)
    from ccaas.usecases.lake import export_analysis  # noqa: PLC0415 - the lake's use-cases, only when writing

    export_analysis(deps, tenant_id, contact_id, also=also)  # the new summary and evaluation, to the lake
    return summary


def _effective_reason(entry: HistoryEntry, summary: AnalysisSummary) -> str | None:
    return entry.model_copy(update={"analysis": summary}).reason


def _analyze(deps: Dependencies, tenant_id: str, transcript: Transcript) -> TranscriptAnalysis:
    """The tenant's rules, with the sentiment engine its setting names."""
    rules = analytics_rules(deps, tenant_id)
    return analyze_transcript(transcript, rules, deps.sentiment.analyzer(rules.sentiment.engine, rules.sentiment.language))


def analyze_contact(deps: Dependencies, tenant_id: str, contact_id: str) -> AnalysisSummary | None:
    """Post-contact step AnalyzeTranscript: analyse a chat from its (already redacted) messages."""
    messages = deps.transcripts.messages(tenant_id, contact_id)
    if not messages:
        return None
    entry = deps.history.get_entry(tenant_id, contact_id)
    record = entry.record if entry is not None else None
    connected_at = record.connected_at if record is not None else None
    # the chat's own messages, each checked when posted: one past a week is kept at the last offset, not refused;
    # analysed as the contact's channel says (messages are posted to chat-like contacts only: CHAT without a record)
    transcript = parse_chat_messages([m.as_transcript_item() for m in messages], contact_id, connected_at=connected_at,
                                     clamp_offsets=True, contact_channel=record.channel if record is not None else None)
    analysis = _analyze(deps, tenant_id, transcript)
    # The messages were redacted when posted, so this analysis redacts (almost) nothing: what was redacted is in
    # each message's receipt.
    redaction = _chat_redaction(messages, transcript, analysis.redaction)
    return _store_analysis(deps, tenant_id, contact_id, analysis.model_copy(update={"redaction": redaction}))


def _chat_redaction(messages: list[ChatMessage], transcript: Transcript, found: RedactionSummary) -> RedactionSummary:
    """A chat analysis' redaction: what was redacted when its messages were posted (their receipts; a value split
    over messages counted once) and what this analysis redacted in them (`found`: a rule added since). Offsets are
    in each segment's text: `start`/`end` where the placeholder was in the message as stored (the text as sent is
    never stored), `redacted_*` where it is in the analysed text."""
    marks: list[tuple[int, int, int, str, str]] = []  # segment, start, end, kind, redaction
    for index, segment in enumerate(transcript.segments):
        message = messages[segment.source] if segment.source is not None else None
        for held in _receipt(message) if message is not None else ():
            start = _collapsed_offset(message.content, held.start)  # the segment's text is whitespace-collapsed
            marks.append((index, start, start + held.end - held.start, held.kind, held.redaction))
    by_segment: dict[int, list[RedactionMark]] = {}
    for mark in found.receipt:
        by_segment.setdefault(mark.segment, []).append(mark)
    ordinals: dict[str, int] = {}
    kinds: dict[str, str] = {}
    receipt: list[RedactionMark] = []
    for index, start, end, kind, redaction in marks:
        theirs = by_segment.get(index, [])
        if any(m.start < end and start < m.end for m in theirs):
            continue  # redacted again by this analysis: its own mark says so
        moved = sum((m.redacted_end - m.redacted_start) - (m.end - m.start) for m in theirs if m.end <= start)
        ordinal = ordinals.setdefault(redaction, len(ordinals))
        kinds.setdefault(redaction, kind)
        receipt.append(RedactionMark(kind=kind, segment=index, start=start, end=end, redacted_start=start + moved,
                                     redacted_end=end + moved, redaction=ordinal))
    counts = dict(found.counts)
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    receipt += [m.model_copy(update={"redaction": m.redaction + len(ordinals)}) for m in found.receipt]
    receipt.sort(key=lambda m: (m.segment, m.redacted_start))
    segments = {m.segment for m in receipt}
    return RedactionSummary(counts=counts, segments_redacted=max(len(segments), found.segments_redacted),
                            receipt=receipt[:MAX_RECEIPT],
                            receipt_dropped=max(0, len(receipt) - MAX_RECEIPT) + found.receipt_dropped)


def _collapsed_offset(text: str, offset: int) -> int:
    """Where `offset` of `text` is once its whitespace is collapsed (Segment.text: one space between words)."""
    before = text[:offset].split()
    at = len(" ".join(before))
    return at + 1 if before and text[offset - 1].isspace() else at


def upload_transcript(deps: Dependencies, tenant_id: str, contact_id: str, document: Any) -> AnalysisSummary:
    """A transcript in our segment format, chat messages, Contact Lens or Transcribe JSON: redacted,
    analysed and stored (the raw document is dropped when this returns)."""
    from ccaas.usecases.history import known_contact  # noqa: PLC0415 - see the imports above

    entry, contact = known_contact(deps, tenant_id, contact_id)
    # The contact's channel decides how it is analysed (a chat uploaded as our segments is no call: no recording
    # notice owed), its record's where history has one (an Amazon Connect contact we do not hold), else ours.
    record = entry.record if entry is not None else None
    channel = record.channel if record is not None else contact.channel if contact is not None else None
    try:  # our segments (a list, or {"segments": [...], "connected_at_ms": n}) or a vendor's format
        transcript = parse_transcript(document, contact_id, contact_channel=channel)
    except TranscriptFormatError as error:  # the path of what is wrong (`results.items[0].alternatives`)
        raise DomainError(f"transcript not understood: {error}", field=error.field or "body") from None
    except ValidationError as error:  # what the models refused, by field and reason; never the text itself
        problems = "; ".join(f"{'.'.join(map(shown_name, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False)[:5])
        raise DomainError(f"transcript has an invalid segment ({problems})", field="body") from None
    except ValueError:  # a segment the parser refused; the message may quote text, so it is not echoed
        raise DomainError("transcript has an invalid segment", field="body") from None
    if transcript.contact_id != contact_id:
        transcript = transcript.model_copy(update={"contact_id": contact_id})
    if not transcript.segments:
        raise DomainError("transcript has no usable segments", field="body")
    analysis = _analyze(deps, tenant_id, transcript)
    return _store_analysis(deps, tenant_id, contact_id, analysis, contact)


def get_analysis(deps: Dependencies, tenant_id: str, contact_id: str) -> dict[str, Any]:
    analysis = deps.transcripts.get_analysis(tenant_id, contact_id)
    if analysis is None:
        raise NotFound(f"contact {contact_id} has no transcript analysis", field="contact_id")
    return analysis


# --- evaluation ------------------------------------------------------------------------------------
def _one_answer_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error at `answer` (not one per member of the union, at `answer.bool`, `answer.int`, ...)."""
    try:
        return handler(value)
    except ValidationError:
        raise ValueError('"yes", "no", "na", an integer or an option value') from None


class AnswerOverrideRequest(BaseModel):
    """PUT /contacts/{id}/evaluation/answers/{question_id}: a supervisor's answer to one question."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    # strict: JSON 1.0 is not `true` ("yes"), "1" is not 1; the question's own check does the rest
    answer: Annotated[StrictBool | StrictInt | StrictStr, WrapValidator(_one_answer_error)] = Field(
        description='yes_no: "yes" or "no"; scale: an integer min..max; choice: an option value; "na" where allowed')
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


class ContactEvaluation(BaseModel):
    """A contact's evaluation: the form as scored, automatic answers with their evidence, overrides."""

    model_config = ConfigDict(defer_build=True)

    contact_id: str
    version: int  # of the stored analysis (every override or re-analysis adds one)
    evaluation: EvaluationResult
    # overrides of questions the form the contact was last scored with does not have (kept, not scored)
    unmatched_overrides: dict[str, Override] = Field(default_factory=dict)


def _evaluation_of(contact_id: str, stored: dict[str, Any]) -> EvaluationResult:
    held = stored.get("evaluation")
    if not isinstance(held, dict):
        raise NotFound(f"contact {contact_id} was analysed before evaluation forms: upload its transcript again",
                       field="contact_id")
    return EvaluationResult.model_validate(held)


def get_evaluation(deps: Dependencies, tenant_id: str, contact_id: str) -> ContactEvaluation:
    stored = get_analysis(deps, tenant_id, contact_id)
    evaluation = _evaluation_of(contact_id, stored)
    unmatched = {q: o for q, o in _overrides(stored).items() if evaluation.form.question(q) is None}
    return ContactEvaluation(contact_id=contact_id, version=_version(stored), evaluation=evaluation,
                             unmatched_overrides=unmatched)


def override_answer(deps: Dependencies, tenant_id: str, contact_id: str, question_id: str,
                    request: AnswerOverrideRequest, *, by: str) -> ContactEvaluation:
    """Keep a supervisor's answer beside the automatic one and re-score (overrides win). Conditional
    on the version read: two supervisors overriding at once both land (the loser re-reads and merges). The
    comment is redacted like a survey comment: an evaluator quoting what the agent read back stores no card."""
    comment = redact(deps, tenant_id, request.comment) if request.comment else request.comment
    for attempt in range(_WRITE_ATTEMPTS):
        stored = get_analysis(deps, tenant_id, contact_id)
        evaluation = _evaluation_of(contact_id, stored)
        question = evaluation.form.question(question_id)
        if question is None:
            raise NotFound(f"the evaluation of contact {contact_id} has no question {question_id}", field="question_id")
        try:
            value = question.check(request.answer)
        except ValueError as error:
            raise DomainError(str(error), field="answer") from None
        version = _version(stored)
        overrides = _overrides(stored)
        overrides[question_id] = Override(value=value, comment=comment, by=by, at=deps.clock.now_ms())
        rescored = rescore(evaluation, overrides)
        document = dict(stored)
        document["evaluation"] = rescored.model_dump(mode="json")
        document["qa"] = QAScore(score=rescored.score, auto_failed=rescored.auto_failed).model_dump(mode="json")
        document["overrides"] = {q: o.model_dump(mode="json") for q, o in overrides.items()}
        document["version"] = version + 1
        if json_size(_fit(document)) > _MAX_ANALYSIS_BYTES:  # the overrides alone outgrow the item
            raise TooLarge(f"the evaluation's overrides would take the analysis over {_MAX_ANALYSIS_BYTES} bytes: "
                           "a shorter comment", field="comment")
        entry = deps.history.get_entry(tenant_id, contact_id)
        held = entry.analysis if entry is not None and entry.analysis is not None else AnalysisSummary(qa_score=0.0)
        summary = held.model_copy(update={"qa_score": rescored.score, "auto_failed": rescored.auto_failed,
                                          "answered": rescored.answered})
        try:
            deps.transcripts.put_analysis(tenant_id, contact_id, document, summary, expected_version=version)
        except Conflict:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
            continue
        from ccaas.usecases.lake import export_analysis  # noqa: PLC0415 - the lake's use-cases, only when writing

        export_analysis(deps, tenant_id, contact_id)  # the re-scored evaluation: a new snapshot in the lake
        unmatched = {q: o for q, o in overrides.items() if rescored.form.question(q) is None}
        return ContactEvaluation(contact_id=contact_id, version=version + 1, evaluation=rescored,
                                 unmatched_overrides=unmatched)
    raise Conflict(f"the analysis of contact {contact_id} keeps changing; retry", field="contact_id")  # not reached


# --- search and root causes -------------------------------------------------------------------------
class ContactInsight(BaseModel):
    model_config = ConfigDict(defer_build=True)

    contact_id: str
    contact_time_ms: int | None
    channel: str | None
    queue_id: str | None
    agent_id: str | None
    reason: str  # as the insights views name it ("unclassified": only the fallback reason matched)
    qa_score: float
    auto_failed: bool = False
    categories: tuple[str, ...]
    compliance_failed: tuple[str, ...]
    customer_sentiment: float | None
    agent_sentiment: float | None
    guidance_prompts: dict[str, int] = {}  # real-time guidance prompts shown, by kind
    guidance_followed: int = 0

    @classmethod
    def of(cls, entry: HistoryEntry) -> ContactInsight:
        from ccaas.domain.insights import reason_label

        record, analysis = entry.record, entry.analysis
        assert analysis is not None
        return cls(
            contact_id=entry.contact_id,
            contact_time_ms=entry.contact_time,
            channel=None if record is None else record.channel.value,
            queue_id=None if record is None else record.queue_id,
            agent_id=None if record is None else record.agent_id,
            reason=reason_label(entry.reason),
            qa_score=analysis.qa_score,
            auto_failed=analysis.auto_failed,
            categories=analysis.categories,
            compliance_failed=analysis.compliance_failed,
            customer_sentiment=analysis.customer_sentiment,
            agent_sentiment=analysis.agent_sentiment,
            guidance_prompts=analysis.guidance_prompts,
            guidance_followed=analysis.guidance_followed,
        )


def search_contacts(
    deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None, **filters: Any
) -> list[ContactInsight]:
    from ccaas.domain.insights import ContactSearch, search_entries
    from ccaas.usecases.history import time_range  # noqa: PLC0415 - see the imports above

    _, span = time_range(deps, tenant_id, start, end, default_days=7)
    search = ContactSearch(from_ms=span.from_ms, to_ms=span.to_ms, **filters)
    entries = deps.history.entries_between(tenant_id, span.from_ms, span.to_ms)
    return [ContactInsight.of(e) for e in search_entries(entries, search)]


def _entries(deps: Dependencies, tenant_id: str, start: datetime | None, end: datetime | None) -> tuple[list[HistoryEntry], int, int]:
    from ccaas.usecases.history import time_range  # noqa: PLC0415 - see the imports above

    _, span = time_range(deps, tenant_id, start, end, default_days=7)
    entries = list(deps.history.entries_between(tenant_id, span.from_ms, span.to_ms))
    return entries, span.from_ms, span.to_ms


def reasons_report(deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None,
                   limit: int = 10) -> list[ReasonStat]:
    return reasons_insight(deps, tenant_id, start=start, end=end, limit=limit).items


def repeat_drivers_report(deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None,
                          min_contacts: int = 1, limit: int = 10) -> list[RepeatDriver]:
    return repeat_drivers_insight(deps, tenant_id, start=start, end=end, min_contacts=min_contacts, limit=limit).items


def lowest_performers_report(deps: Dependencies, tenant_id: str, *, dimension: Dimension, metric: Metric,
                             start: datetime | None, end: datetime | None, min_contacts: int = 1,
                             limit: int = 10) -> list[Performer]:
    return lowest_performers_insight(deps, tenant_id, dimension=dimension, metric=metric, start=start, end=end,
                                     min_contacts=min_contacts, limit=limit).items


# The same views with what they lack (domain.insights.coverage): GET /insights/...?envelope=true, and the
# X-Warnings header of the bare lists.
def _insight_context(deps: Dependencies, tenant_id: str, start: datetime | None, end: datetime | None):  # noqa: ANN202
    from zoneinfo import ZoneInfo

    from ccaas.usecases.history import tenant_context  # noqa: PLC0415 - see the imports above

    entries, from_ms, to_ms = _entries(deps, tenant_id, start, end)
    time_zone, settings = tenant_context(deps, tenant_id)
    return entries, from_ms, to_ms, ZoneInfo(time_zone), settings


def reasons_insight(deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None,
                    limit: int = 10) -> ReasonsReport:
    from ccaas.domain.insights import ReasonsReport, coverage, top_reasons

    entries, from_ms, to_ms, tz, settings = _insight_context(deps, tenant_id, start, end)
    cover = coverage(entries, view="reasons", from_ms=from_ms, to_ms=to_ms, tz=tz)
    return ReasonsReport(items=top_reasons(entries, from_ms=from_ms, to_ms=to_ms, settings=settings, limit=limit),
                         coverage=cover, warnings=cover.warnings)


def repeat_drivers_insight(deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None,
                           min_contacts: int = 1, limit: int = 10) -> RepeatDriversReport:
    from ccaas.domain.insights import RepeatDriversReport, coverage, repeat_drivers

    entries, from_ms, to_ms, tz, settings = _insight_context(deps, tenant_id, start, end)
    cover = coverage(entries, view="repeat_drivers", from_ms=from_ms, to_ms=to_ms, tz=tz)
    items = repeat_drivers(entries, from_ms=from_ms, to_ms=to_ms, settings=settings, min_contacts=min_contacts,
                           limit=limit)
    return RepeatDriversReport(items=items, coverage=cover, warnings=cover.warnings)


def lowest_performers_insight(deps: Dependencies, tenant_id: str, *, dimension: Dimension, metric: Metric,
                              start: datetime | None, end: datetime | None, min_contacts: int = 1,
                              limit: int = 10) -> PerformersReport:
    from ccaas.domain.insights import PerformersReport, coverage, lowest_performers

    entries, from_ms, to_ms, tz, settings = _insight_context(deps, tenant_id, start, end)
    cover = coverage(entries, view=metric, from_ms=from_ms, to_ms=to_ms, tz=tz, dimension=dimension)
    items = lowest_performers(entries, dimension=dimension, metric=metric, from_ms=from_ms, to_ms=to_ms,
                              settings=settings, min_contacts=min_contacts, limit=limit)
    return PerformersReport(items=items, coverage=cover, warnings=cover.warnings)
