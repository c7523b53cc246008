"""Contact lists (pure): parse CSV text or a JSON list of objects into ContactListRow, reporting every bad
row with its line and field while the good rows load.

Columns / keys (case-insensitive, surrounding blanks ignored):
- `row_id` (optional; default `line-<n>`), `phone` / `phones` (several separated by `;` or `|`, or a JSON
  list) and any `phone2`, `phone_3`… column, `email`, `time_zone` (IANA), `postal_code`, `state`,
  `account_id` (or `debt_id`), `consent_automated_voice` / `consent_automated_sms` (true/false/yes/no/1/0)
  with optional `..._source` and `..._at` (ISO 8601 with offset); every other column is a custom attribute
  (at most MAX_ATTRIBUTES, values of 256 characters; JSON may also give an `attributes` object).
- Numbers are parsed with `phonenumbers` in the list's default region and must be VALID numbers (not just
  possible ones); a row with any bad field is rejected whole (reported), so nothing half-parsed is dialed.
- Time zones of each number, in order: the row's `time_zone`; else the zones of its state (`state`, or the
  state of `postal_code` by ZIP prefix; a multi-zone state keeps every zone); else the zones
  `phonenumbers.timezone` gives the number (several for some area codes: all are kept, the most
  restrictive window applies). A number with no known zone is rejected.
Lines: CSV errors name the physical line of the file (the header is line 1); JSON errors name the
1-based index of the object in the list.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import phonenumbers
from phonenumbers import timezone as pn_timezone
from pydantic import ValidationError

from ccaas.domain.models import Frozen, Int
from ccaas.domain.outbound.models import (
    MAX_ATTRIBUTES,
    MAX_ROW_NUMBERS,
    US_STATES,
    ConsentFlag,
    ContactListRow,
    PhoneEntry,
    valid_zone,
)
from ccaas.domain.outbound.zones import state_for_postal_code, zones_for_state

__all__ = ["ListError", "ParsedList", "parse_csv", "parse_json", "parse_number", "MAX_LIST_ROWS", "MAX_ERRORS"]

MAX_LIST_ROWS = 100_000  # rows per parse call; a million-row list is uploaded and parsed in chunks
MAX_ERRORS = 1_000       # errors listed per parse call (the count is always exact)
_UNKNOWN_ZONE = "Etc/Unknown"
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_KNOWN = {"row_id", "phone", "phones", "email", "time_zone", "postal_code", "state", "account_id", "debt_id",
          "attributes", *(f"consent_automated_{k}{s}" for k in ("voice", "sms") for s in ("", "_source", "_at"))}
_PHONE_COLUMN = re.compile(r"^phone_?\d+$")


class ListError(Frozen):
    line: Int
    field: str
    message: str


class ParsedList(Frozen):
    rows: tuple[ContactListRow, ...]
    errors: tuple[ListError, ...]
    error_count: Int = 0
    total: Int = 0

    @property
    def accepted(self) -> int:
        return len(self.rows)


class _RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.errors = errors


def parse_number(raw: str, region: str = "US") -> tuple[str, tuple[str, ...]]:
    """(E.164, the number's own time zones) of a valid number; ValueError with a readable reason."""
    text = raw.strip()
    if not text or len(text) > 32:
        raise ValueError("empty or too long")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid number for region {region}" if not text.startswith("+")
                         else "not a valid number")
    zones = tuple(z for z in pn_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), zones


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _consent(record: Mapping[str, Any], kind: str, errors: list[tuple[str, str]]) -> ConsentFlag | None:
    key = f"consent_automated_{kind}"
    if key not in record:
        return None
    raw = record[key]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None  # an empty cell: no consent on record (treated as not given)
    flag = raw if isinstance(raw, bool) else _text(raw).lower()
    if isinstance(flag, str):
        if flag not in _TRUE | _FALSE:
            errors.append((key, "must be true or false"))
            return None
        flag = flag in _TRUE
    at = None
    raw_at = _text(record.get(f"{key}_at"))
    if raw_at:
        try:
            at = datetime.fromisoformat(raw_at.replace("Z", "+00:00"))
        except ValueError:
            errors.append((f"{key}_at", "not an ISO 8601 time"))
            return None
        if at.tzinfo is None:
            errors.append((f"{key}_at", "needs a UTC offset"))
            return None
    source = _text(record.get(f"{key}_source")) or "list"
    try:
        return ConsentFlag(granted=flag, source=source[:128], at=at)
    except ValidationError as exc:
        errors.append((f"{key}_source", exc.errors()[0]["msg"]))
        return None


def _phones(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, raw) of every number the row names, in column order."""
    found: list[tuple[str, str]] = []
    for key, value in record.items():
        if key in ("phone", "phones") or _PHONE_COLUMN.match(key):
            values = value if isinstance(value, list) else re.split(r"[;|]", _text(value))
            found += [(key, _text(v)) for v in values if _text(v)]
    return found


def _row(record: Mapping[str, Any], line: int, region: str) -> ContactListRow:
    errors: list[tuple[str, str]] = []
    zone = _text(record.get("time_zone")) or None
    if zone:
        try:
            valid_zone(zone)
        except ValueError as exc:
            errors.append(("time_zone", str(exc)))
            zone = None
    state = _text(record.get("state")).upper() or None
    if state and state not in US_STATES:
        errors.append(("state", f"unknown state code {state!r}"))
        state = None
    postal = _text(record.get("postal_code")) or None
    if postal:
        if len(postal) > 10:
            errors.append(("postal_code", "too long"))
            postal = None
        elif region == "US" and state is None:
            state = state_for_postal_code(postal)
            if state is None:
                errors.append(("postal_code", f"not a known US ZIP code: {postal!r}"))
    raw_phones = _phones(record)
    if not raw_phones:
        errors.append(("phone", "no phone number"))
    if len(raw_phones) > MAX_ROW_NUMBERS:
        errors.append(("phone", f"at most {MAX_ROW_NUMBERS} numbers per row"))
        raw_phones = raw_phones[:MAX_ROW_NUMBERS]
    phones: list[PhoneEntry] = []
    for field, raw in raw_phones:
        try:
            number, own_zones = parse_number(raw, region)
        except ValueError as exc:
            errors.append((field, f"{exc}: {raw[:32]!r}"))
            continue
        if zone:
            zones, source = (zone,), "row"
        elif state and zones_for_state(state):
            zones, source = zones_for_state(state), ("postal_code" if not record.get("state") else "state")
        elif own_zones:
            zones, source = own_zones, "number"
        else:
            errors.append((field, f"no time zone known for {number}: give time_zone or postal_code"))
            continue
        if number not in (p.number for p in phones):
            phones.append(PhoneEntry(number=number, zones=zones, zone_source=source))  # type: ignore[arg-type]
    email = _text(record.get("email")) or None
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors.append(("email", "not an e-mail address"))
    voice = _consent(record, "voice", errors)
    sms = _consent(record, "sms", errors)
    attributes: dict[str, str] = {}
    extra = record.get("attributes")
    if extra is not None and not isinstance(extra, Mapping):
        errors.append(("attributes", "must be an object"))
    for key, value in [*((k, v) for k, v in record.items() if k not in _KNOWN and not _PHONE_COLUMN.match(k)),
                       *((extra or {}).items() if isinstance(extra, Mapping) else ())]:
        if value is None or _text(value) == "":
            continue
        if isinstance(value, (dict, list)):
            errors.append((str(key)[:64], "an attribute is a plain value"))
        elif len(str(key)) > 64 or len(_text(value)) > 256:
            errors.append((str(key)[:64], "attribute names ≤ 64 and values ≤ 256 characters"))
        else:
            attributes[str(key)] = _text(value)
    if len(attributes) > MAX_ATTRIBUTES:
        errors.append(("attributes", f"at most {MAX_ATTRIBUTES} custom attributes"))
    if errors:
        raise _RowErrors(errors)
    account = _text(record.get("account_id")) or _text(record.get("debt_id")) or None
    try:
        return ContactListRow(
            row_id=_text(record.get("row_id")) or f"line-{line}", line=line, phones=tuple(phones), email=email,
            time_zone=zone, postal_code=postal, state=state, account_id=account, consent_automated_voice=voice,
            consent_automated_sms=sms, attributes=attributes)
    except ValidationError as exc:
        raise _RowErrors([(".".join(str(p) for p in e["loc"][:1]) or "row", e["msg"]) for e in exc.errors()]) from None


def _parse(records: Sequence[tuple[int, Mapping[str, Any]]], region: str, total: int) -> ParsedList:
    rows: list[ContactListRow] = []
    errors: list[ListError] = []
    count = 0
    seen: set[str] = set()
    for line, record in records:
        try:
            row = _row(record, line, region)
            if row.row_id in seen:
                raise _RowErrors([("row_id", f"duplicate row_id {row.row_id!r}")])
        except _RowErrors as exc:
            for field, message in exc.errors:
                count += 1
                if len(errors) < MAX_ERRORS:
                    errors.append(ListError(line=line, field=field, message=message[:300]))
            continue
        seen.add(row.row_id)
        rows.append(row)
    return ParsedList(rows=tuple(rows), errors=tuple(errors), error_count=count, total=total)


def _normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in record.items() if k is not None}


def parse_csv(text: str, *, region: str = "US", max_rows: int = MAX_LIST_ROWS) -> ParsedList:
    """Parse CSV text with a header line. Line numbers are the file's physical lines (header = 1)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return ParsedList(rows=(), errors=(ListError(line=1, field="header", message="no header line"),),
                          error_count=1)
    records: list[tuple[int, Mapping[str, Any]]] = []
    errors: list[ListError] = []
    for raw in reader:
        # the record's first physical line: its last line minus the line breaks inside quoted cells
        start = reader.line_num - sum(v.count("\n") for v in raw.values() if isinstance(v, str))
        if len(records) >= max_rows:
            errors.append(ListError(line=start, field="row", message=f"more than {max_rows} rows: upload in parts"))
            break
        if None in raw:  # more cells than header columns
            errors.append(ListError(line=start, field="row", message="more cells than header columns"))
        elif all(v is None or not v.strip() for v in raw.values()):
            pass  # a blank line
        else:
            records.append((start, _normalise(raw)))
    parsed = _parse(records, region, total=len(records) + len(errors))
    return parsed.model_copy(update={"errors": tuple(errors) + parsed.errors,
                                     "error_count": parsed.error_count + len(errors)})


def parse_json(items: Any, *, region: str = "US", max_rows: int = MAX_LIST_ROWS) -> ParsedList:
    """Parse a JSON list of objects (already decoded). Lines are 1-based indexes in the list."""
    if not isinstance(items, list):
        return ParsedList(rows=(), errors=(ListError(line=0, field="body", message="must be a list of objects"),),
                          error_count=1)
    records: list[tuple[int, Mapping[str, Any]]] = []
    errors: list[ListError] = []
    for index, item in enumerate(items[:max_rows], start=1):
        if isinstance(item, Mapping):
            records.append((index, _normalise(item)))
        else:
            errors.append(ListError(line=index, field="row", message="must be an object"))
    if len(items) > max_rows:
        errors.append(ListError(line=max_rows + 1, field="row", message=f"more than {max_rows} rows: upload in parts"))
    parsed = _parse(records, region, total=len(items))
    merged = sorted(errors + list(parsed.errors), key=lambda e: e.line)[:MAX_ERRORS]
    return parsed.model_copy(update={"errors": tuple(merged), "error_count": parsed.error_count + len(errors)})
