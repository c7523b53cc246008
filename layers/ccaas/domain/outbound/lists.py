"""Contact lists (pure): parse CSV text or a JSON list of objects into ContactListRow, reporting every bad
row with its line and field while the good rows load.

Columns / keys (case-insensitive, surrounding blanks ignored):
- `row_id` (optional; default `line-<n>.<upload>`: the line and the first 10 hex digits of the upload's
  SHA-256, so sending the same upload again replaces its own rows — a retry duplicates nothing — and
  another upload never replaces them; an explicit `row_id` a list already holds replaces that row, its
  attempts kept), `phone` / `phones` (several separated by `;` or `|`, or a JSON
  list) and any `phone2`, `phone_3`… column, `email`, `time_zone` (IANA), `postal_code`, `state`,
  `account_id` (or `debt_id`), `consent_automated_voice` / `consent_automated_sms` (true/false/yes/no/1/0)
  with optional `..._source` and `..._at` (ISO 8601 with offset); every other column is a custom attribute
  (at most MAX_ATTRIBUTES, values of 256 characters; JSON may also give an `attributes` object).
- Custom attributes are stored redacted (`redact`: the tenant's attribute redaction); a `row_id`, `account_id`
  or `debt_id` it would change (a card or social security number) rejects the row: an id is a key, never
  stored redacted or in clear (use a surrogate id). An error quotes no cell of 13 or more digits.
- Numbers are parsed with `phonenumbers` in the list's default region and must be VALID numbers (not just
  possible ones); a row with any bad field is rejected whole (reported), so nothing half-parsed is dialed.
  A cell is a number only when it holds nothing else: digits, blanks (a no-break or other Unicode space is one),
  `+ ( ) - . /` and a trailing extension (`ext. 7`, `x7`: dropped), invisible format characters (direction marks,
  zero-width spaces: dropped); letters or other text refuse it ("fax: …", a stringified object),
  and so does a JSON object, list item or boolean where a number belongs (a JSON number is fine).
- Time zones of each number (the calling window must hold in EVERY one, `number_zones`): the row's zones
  — its `time_zone`, the zones of its `state` and those of its `postal_code`'s state (by ZIP prefix; a ZIP no one
  has is a row error whatever else the row gives), all together; a multi-zone state keeps every zone — together with the number's own zones (`phonenumbers.timezone`)
  when the number is geographic (a fixed line; a mobile where mobiles are geographic); a row without
  zones takes the number's own zones, geographic or not (several for some area codes: all are kept). A
  number with no known zone is rejected.
- Duplicates: a row naming a number an earlier row of the upload named is reported as a warning on that
  row ("duplicate of line N"), and still loaded (two debts of one person are two rows); the dialer never
  has two calls in flight to one number (usecases.outbound.dial_tick).
- Nothing to load (no rows; a CSV header naming no phone column, e.g. a JSON body sent as CSV) is `NothingToLoad`, a
  422 of the upload, never a 200 that accepted nothing.
Lines: CSV errors name the physical line of the file (the header is line 1); JSON errors name the
1-based index of the object in the list.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from phonenumbers import timezone as pn_timezone
from pydantic import ValidationError

from ccaas.domain.customers import normalise_email
from ccaas.domain.destinations import refused_destination
from ccaas.domain.vocabulary import CARD_SHAPED_DIGITS, DomainError, Frozen, Int, shown_value
from ccaas.domain.outbound.models import (
    MAX_ATTRIBUTES,
    MAX_ROW_NUMBERS,
    US_STATES,
    ConsentFlag,
    ContactListRow,
    ListError,
    PhoneEntry,
    valid_zone,
)
from ccaas.domain.outbound.zones import state_for_postal_code, zones_for_state

__all__ = ["ListError", "ParsedList", "parse_csv", "parse_json", "parse_number", "number_zones", "MAX_LIST_ROWS",
           "MAX_ERRORS", "NothingToLoad", "SENSITIVE_ID", "holds_card_or_ssn"]

MAX_LIST_ROWS = 100_000  # rows per parse call; a million-row list is uploaded and parsed in chunks
MAX_ERRORS = 1_000       # errors listed per parse call (the count is always exact)
# Columns a list may have: the known ones, ten phone columns and 50 custom attributes fit many times over (a
# 2,000,000-column header fit in the body and cost hours of CPU before a row was read).
MAX_COLUMNS = 256
_UNKNOWN_ZONE = "Etc/Unknown"
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
# What the tenant stores of a row's extra columns (its attribute redaction, ccaas.domain.analytics.redaction.
# redact_attributes): applied before their bounds are checked.
Redact = Callable[[Mapping[str, str]], dict[str, str]]
_KNOWN = {"row_id", "phone", "phones", "email", "time_zone", "postal_code", "state", "account_id", "debt_id",
          "attributes", *(f"consent_automated_{k}{s}" for k in ("voice", "sms") for s in ("", "_source", "_at"))}
_PHONE_COLUMN = re.compile(r"^phone_?\d+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+([.,]\d+)?[eE][+-]?\d+$")
_EXCEL_FLOAT = re.compile(r"^\+?\d{7,15}\.0+$")


class ParsedList(Frozen):
    rows: tuple[ContactListRow, ...]
    errors: tuple[ListError, ...]
    error_count: Int = 0
    total: Int = 0
    warnings: tuple[ListError, ...] = ()  # loaded rows worth a look: a number an earlier row named (≤ MAX_ERRORS)
    upload: str = ""  # the upload's tag in default row ids (line-<n>.<upload>)

    @property
    def accepted(self) -> int:
        return len(self.rows)


class ListTooLarge(DomainError):
    """More rows or columns than one upload may hold: nothing of it is stored (upload it in parts)."""


class NothingToLoad(DomainError):
    """An upload that cannot load a row: no rows at all, or a CSV header naming no phone column (a JSON body sent as
    text/csv, an export of the wrong sheet). A 422 naming the problem, not a 200 that accepted nothing."""


class _RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.errors = errors


_EXTENSION = re.compile(r"\s*[,;]?\s*(?:ext(?:ension)?|x|#)\s*[.:=]?\s*[0-9]{1,7}$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")  # digits, blanks, + ( ) - . / (after the extension is cut)


def _as_seen(text: str) -> str:
    """The cell as a person sees it: a Unicode space separator (category Zs: the no-break space of Excel and web
    exports, thin and ideographic spaces) is a blank, and a format character (Cf: the direction marks copy-paste
    brings, U+200E/F, U+202A–E, U+2066–9, zero-width spaces, a BOM) is dropped. Nothing else changes: a letter or
    any other character still refuses the cell."""
    if text.isascii():
        return text
    return "".join(" " if unicodedata.category(c) == "Zs" else c for c in text
                   if unicodedata.category(c) != "Cf").strip()


def _parse_phone(raw: object, region: str) -> phonenumbers.PhoneNumber:
    """The phonenumbers parse of a cell that is a phone number and nothing else; ValueError otherwise.

    Only text (or a JSON number) is a number: an object, a list or a boolean is refused. The text may hold
    digits, blanks (any Unicode space), `+ ( ) - . /` and a trailing extension (`ext. 7`, `extension 7`, `ext: 7`,
    `x7`, `#7`, dropped: the dialer calls the number), invisible format characters aside (`_as_seen`); a letter or
    any other character anywhere else refuses the cell, so a number is never picked out of surrounding text
    ("fax: …", "not …", a stringified object)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValueError("must be text, not " + ("null" if raw is None else "a JSON object" if isinstance(raw, Mapping)
                                                  else "a list" if isinstance(raw, list) else type(raw).__name__))
    text = _as_seen(_text(raw))
    if not text or len(text) > 32:
        raise ValueError("empty or too long")
    if _SCIENTIFIC.match(text):
        raise ValueError("a number in scientific notation (a spreadsheet rounded it): export the column as text")
    if _EXCEL_FLOAT.match(text):
        text = text.split(".")[0]  # 15550102030.0: a spreadsheet's float, no digit lost
    digits = _EXTENSION.sub("", text).strip()
    if not _PHONE_CHARS.match(digits) or not any(c.isdigit() for c in digits):
        raise ValueError("not a phone number (only digits, blanks, + ( ) - . / and an extension)")
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid number for region {region}" if not digits.startswith("+")
                         else "not a valid number")
    return parsed


def _own_zones(parsed: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    return tuple(z for z in pn_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)


def parse_number(raw: str, region: str = "US") -> tuple[str, tuple[str, ...]]:
    """(E.164, the number's own time zones) of a valid number; ValueError with a readable reason (a cell
    with anything but a number in it, or a value that is no text or JSON number, is refused)."""
    parsed = _parse_phone(raw, region)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), _own_zones(parsed)


def number_zones(explicit: Sequence[str], parsed: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """Every zone the called party may be in (the calling window must hold in all of them): the row's zones
    (its `time_zone` and its state's or ZIP's) AND, for a geographic number (a fixed line, or a mobile
    in a country whose mobile numbers are geographic: phonenumbers' `is_number_geographical`), the zones
    of the number itself. A non-geographic number (toll-free, a UK or Russian mobile …) says nothing of
    where the person is: its zones are used only when the row gives none. Order: the row's first."""
    own = _own_zones(parsed)
    if not explicit:
        return own
    if own and not set(own) <= set(explicit) and phonenumbers.is_number_geographical(parsed):
        return tuple(dict.fromkeys((*explicit, *own)))
    return tuple(explicit)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


SENSITIVE_ID = "a card or social security number: use a surrogate id (your own reference for it)"


def holds_card_or_ssn(field: str, value: str, redact: Redact) -> bool:
    """Whether the id `value` (of `field`: its name decides how digits are read, as for an attribute) holds a card or
    social security number the tenant's redactor would change. An id is a key (of a row, an attempt, a suppression,
    an export): such a value is refused, never stored redacted or in clear (SENSITIVE_ID says what to do)."""
    return bool(value) and redact({field: value}) != {field: value}




def _refused(reason: object, raw: object) -> str:
    """The reason a cell was refused, with a bounded echo of a text or number cell (never the 10,000
    characters it may hold; an object is named by its type in the reason already), and none of a cell of
    13 or more digits."""
    if isinstance(raw, str) or (isinstance(raw, (int, float)) and not isinstance(raw, bool)):
        if sum(c.isdigit() for c in str(raw)) < CARD_SHAPED_DIGITS:
            return f"{reason}: {repr(raw)[:34]}"
    return str(reason)


# A consent's time may be this far ahead of the upload (clocks drift); later is a mislabelled zone, and a grant dated
# in the future would beat the revocation the person makes before that time (the newest time wins).
CONSENT_CLOCK_SKEW = timedelta(minutes=5)


def _consent(record: Mapping[str, Any], kind: str, errors: list[tuple[str, str]],
             received_at: datetime | None = None) -> ConsentFlag | None:
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
        if received_at is not None and at > received_at + CONSENT_CLOCK_SKEW:
            errors.append((f"{key}_at", "in the future (is the UTC offset right?)"))
            return None
    source = _text(record.get(f"{key}_source")) or "list"
    try:
        return ConsentFlag(granted=flag, source=source[:128], at=at)
    except ValidationError as exc:
        errors.append((f"{key}_source", exc.errors()[0]["msg"]))
        return None


def _phones(record: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(field, raw) of every number the row names, in column order (raw: the cell's text, or what JSON gave:
    a number, or an object / a boolean that `_parse_phone` refuses)."""
    found: list[tuple[str, str]] = []
    for key, value in record.items():
        if key in ("phone", "phones") or _PHONE_COLUMN.match(key):
            if isinstance(value, str):
                values: list[Any] = re.split(r"[;|]", value)
            else:
                values = value if isinstance(value, list) else [value]
            found += [(key, v) for v in values if _as_seen(_text(v))]  # a cell that looks empty is empty
    return found


def _row(record: Mapping[str, Any], line: int, region: str, upload: str,
         redact: Redact | None = None, received_at: datetime | None = None) -> tuple[ContactListRow, dict[str, str]]:
    """The row, and the field each of its numbers came from."""
    errors: list[tuple[str, str]] = []
    zone = _text(record.get("time_zone")) or None
    if zone:
        try:
            valid_zone(zone)
        except ValueError:
            errors.append(("time_zone", _refused("not an IANA time zone", zone)))
            zone = None
    state = _text(record.get("state")).upper() or None
    if state and state not in US_STATES:
        errors.append(("state", _refused("unknown state code", state)))
        state = None
    postal = _text(record.get("postal_code")) or None
    postal_state = None
    if postal:
        if len(postal) > 10:
            errors.append(("postal_code", "too long"))
            postal = None
        elif region == "US":  # read whatever else the row says: a state does not excuse a ZIP nobody has
            postal_state = state_for_postal_code(postal)
            if postal_state is None:
                errors.append(("postal_code", _refused("not a known US ZIP code", postal)))
    raw_phones = _phones(record)
    if not raw_phones:
        errors.append(("phone", "no phone number"))
    if len(raw_phones) > MAX_ROW_NUMBERS:
        errors.append(("phone", f"at most {MAX_ROW_NUMBERS} numbers per row"))
        raw_phones = raw_phones[:MAX_ROW_NUMBERS]
    phones: list[PhoneEntry] = []
    fields: dict[str, str] = {}
    # The row's zone AND its state's AND its ZIP's: calling hours hold wherever the person may be, and a zone column
    # or a state that disagrees with the address (New York's zone, a California ZIP; CA with a New York ZIP) must not
    # open a 5:30 call in California or a 22:30 one in New York.
    address_zones = tuple(dict.fromkeys(z for s in (state, postal_state) if s for z in zones_for_state(s)))
    explicit: tuple[str, ...] = ()
    if zone:
        explicit, source = tuple(dict.fromkeys((zone, *address_zones))), "row"
    elif address_zones:
        explicit, source = address_zones, ("state" if state else "postal_code")
    else:
        source = "number"
    for field, raw in raw_phones:
        try:
            parsed = _parse_phone(raw, region)
        except ValueError as exc:
            errors.append((field, _refused(exc, raw)))
            continue
        refused = refused_destination(parsed, validated=True)  # a lead form's premium-rate number: never dialed
        if refused is not None:
            errors.append((field, _refused(refused, raw)))
            continue
        number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        zones = number_zones(explicit, parsed)
        if not zones:
            # the number only with fewer than 13 digits (README "Errors"): the field names it already
            errors.append((field, f"no time zone known for {shown_value(number)}: give time_zone or postal_code"))
            continue
        if len(zones) > 64:
            zones = zones[:64]  # the row's zones come first: the model bounds the list
        if number not in (p.number for p in phones):
            phones.append(PhoneEntry(number=number, zones=zones, zone_source=source))  # type: ignore[arg-type]
            fields[number] = field
    email = _text(record.get("email")) or None
    if email:
        try:  # as the customer directory reads one: "<a@b.com>" or "mailto:a@b.com" would never match a suppression
            email = normalise_email(email)
        except ValueError:
            errors.append(("email", "not an e-mail address"))
    voice = _consent(record, "voice", errors, received_at)
    sms = _consent(record, "sms", errors, received_at)
    given: dict[str, str] = {}
    extra = record.get("attributes")
    if extra is not None and not isinstance(extra, Mapping):
        errors.append(("attributes", "must be an object"))
    for key, value in [*((k, v) for k, v in record.items() if k not in _KNOWN and not _PHONE_COLUMN.match(k)),
                       *((extra or {}).items() if isinstance(extra, Mapping) else ())]:
        if value is None or _text(value) == "":
            continue
        if isinstance(value, (dict, list)):
            errors.append((str(key)[:64], "an attribute is a plain value"))
        else:
            given[str(key)] = _text(value)
    if len(given) > MAX_ATTRIBUTES:  # before the redactor reads them all (20,000 columns of a row: seconds)
        raise _RowErrors([*errors, ("attributes", f"at most {MAX_ATTRIBUTES} custom attributes")])
    # Redacted before the bounds: they hold for what is stored and read back (placeholders included).
    attributes: dict[str, str] = {}
    for key, value in (redact(given) if redact is not None and given else given).items():
        if len(key) > 64 or len(value) > 256:
            errors.append((key[:64], "attribute names ≤ 64 and values ≤ 256 characters (a card number or code "
                                     "counts as its placeholder, e.g. [CARD_SECURITY_CODE])"))
        else:
            attributes[key] = value
    if len(attributes) > MAX_ATTRIBUTES:
        errors.append(("attributes", f"at most {MAX_ATTRIBUTES} custom attributes"))
    if redact is not None:  # ids are keys (of the row, attempts, suppressions, exports): refused, never redacted
        errors += [(field, SENSITIVE_ID) for field in ("row_id", "account_id", "debt_id")
                   if holds_card_or_ssn(field, _text(record.get(field)), redact)]
    if errors:
        raise _RowErrors(errors)
    account = _text(record.get("account_id")) or _text(record.get("debt_id")) or None
    try:
        return ContactListRow(
            row_id=_text(record.get("row_id")) or f"line-{line}.{upload}", line=line, phones=tuple(phones), email=email,
            time_zone=zone, postal_code=postal, state=state or postal_state, account_id=account, consent_automated_voice=voice,
            consent_automated_sms=sms, attributes=attributes), fields
    except ValidationError as exc:
        raise _RowErrors([(".".join(str(p) for p in e["loc"][:1]) or "row", e["msg"]) for e in exc.errors()]) from None


def _duplicates(row: ContactListRow, fields: Mapping[str, str], seen: dict[str, ContactListRow]) -> list[ListError]:
    """A warning per number of `row` an earlier loaded row named ("duplicate of line N"): the row still
    loads — one person's two debts are two rows — and the dialer never rings a number twice at once."""
    warnings = []
    for number in row.numbers:
        first = seen.get(number)
        if first is None:
            seen[number] = row
            continue
        same = "the same account" if first.account_id == row.account_id else "another account"
        warnings.append(ListError(line=row.line, field=fields.get(number, "phone"), message=(
            f"duplicate of line {first.line}: {shown_value(number)} again ({same}); loaded, never called while a "
            "call to it is in flight")[:300]))
    return warnings


def _parse(records: Sequence[tuple[int, Mapping[str, Any]]], region: str, total: int, upload: str,
           redact: Redact | None = None, received_at: datetime | None = None,
           max_numbers: int | None = None) -> ParsedList:
    if max_numbers is not None:
        # the cost of an upload is its numbers (each parsed, validated, zoned): counted before any is parsed
        numbers = sum(min(len(_phones(record)), MAX_ROW_NUMBERS) for _, record in records)
        if numbers > max_numbers:
            raise ListTooLarge(f"{numbers} phone numbers: at most {max_numbers} per upload (upload in parts); "
                               "nothing was stored", field="content")
    rows: list[ContactListRow] = []
    errors: list[ListError] = []
    warnings: list[ListError] = []
    count = 0
    seen: set[str] = set()
    numbers: dict[str, ContactListRow] = {}
    for line, record in records:
        try:
            row, fields = _row(record, line, region, upload, redact, received_at)
            if row.row_id in seen:
                raise _RowErrors([("row_id", _refused("duplicate row_id", row.row_id))])
        except _RowErrors as exc:
            for field, message in exc.errors:
                count += 1
                if len(errors) < MAX_ERRORS:
                    errors.append(ListError(line=line, field=field, message=message[:300]))
            continue
        seen.add(row.row_id)
        rows.append(row)
        warnings += _duplicates(row, fields, numbers)
    return ParsedList(rows=tuple(rows), errors=tuple(errors), error_count=count, total=total, upload=upload,
                      warnings=tuple(warnings[:MAX_ERRORS]))


def upload_tag(content: str) -> str:
    """The upload's part of a default row id: the same content always gives the same tag."""
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in record.items() if k is not None}


def _header(cells: Sequence[str]) -> tuple[list[str], list[ListError]]:
    """Normalised column names (BOM, blanks, case) and the header's problems (line 1); ListTooLarge past
    MAX_COLUMNS."""
    if len(cells) > MAX_COLUMNS:
        raise ListTooLarge(f"{len(cells)} columns: at most {MAX_COLUMNS}", field="header")
    names = [c.replace("\ufeff", "").strip().strip('"').strip().lower() for c in cells]
    errors = []
    for index, name in enumerate(names):
        if not name:
            errors.append(ListError(line=1, field=f"column {index + 1}", message="a column without a name: ignored"))
    counts = Counter(names)
    for name in sorted(n for n, k in counts.items() if n and k > 1):
        errors.append(ListError(line=1, field=name[:64], message="a duplicate column: a row whose copies disagree "
                                                                 "is rejected"))
    return names, errors


def _record(names: Sequence[str], cells: Sequence[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    record: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, value in zip(names, cells, strict=False):
        if not name:
            continue
        held = record.get(name)
        if held is None or not held.strip():
            record[name] = value
        elif value.strip() and value.strip() != held.strip():
            problems.append((name[:64], "duplicate columns disagree"))
    for name in names[len(cells):]:  # a short row: the missing cells are empty
        if name:
            record.setdefault(name, "")
    return record, problems


def parse_csv(text: str, *, region: str = "US", max_rows: int = MAX_LIST_ROWS, redact: Redact | None = None,
              received_at: datetime | None = None, max_numbers: int | None = None) -> ParsedList:
    """Parse CSV text with a header line. Line numbers are the file's physical lines (header = 1).

    Real-world files: a byte-order mark, CRLF or CR line ends, quoted cells with commas and line breaks,
    blank lines (skipped), trailing empty cells (ignored), duplicate columns (used when their copies agree;
    a row whose copies disagree is rejected), unnamed columns (ignored, reported on the header), more cells
    than columns (the row is rejected), and a file the csv module cannot read from some line on (a NUL byte,
    a cell over the size limit): the rows before it load, the error names the line."""
    text = text.removeprefix("\ufeff")
    # strict: a quote never closed (`"Bob` in a nickname) is an error at its line, not the rest of the file
    # read as that one cell (the rows after it gone, their numbers stored in its attributes)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, Mapping[str, Any]]] = []
    errors: list[ListError] = []
    row_problems: list[tuple[int, list[tuple[str, str]]]] = []
    names: list[str] | None = None
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # a blank line (or only separators)
            if names is None:
                names, header_errors = _header(cells)
                errors += header_errors
                if not any(names):
                    raise NothingToLoad("content: no header line (the first line names the columns: phone, ...)",
                                        field="content")
                if not any(n in ("phone", "phones") or _PHONE_COLUMN.match(n) for n in names):
                    raise NothingToLoad("content: the header names no phone column (phone, phones, phone2, ...): "
                                        "nothing can load; is it a CSV file?", field="content")
                continue
            if len(records) + len(row_problems) >= max_rows:
                raise ListTooLarge(f"more than {max_rows} rows (line {start} is one too many): upload in parts; "
                                   "nothing was stored", field="content")
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names):]):
                errors.append(ListError(line=start, field="row", message=f"{len(cells)} cells for {len(names)} columns"))
                continue
            record, problems = _record(names, cells)
            if problems:
                row_problems.append((start, problems))
            else:
                records.append((start, _normalise(record)))
    except csv.Error as exc:
        errors.append(ListError(line=previous + 1, field="row",
                                message=f"unreadable CSV from this line on ({str(exc)[:120]}): the rows before it load"))
    if names is None:
        raise NothingToLoad("content: no header line and no rows", field="content")
    if not records and not row_problems and not any(e.field == "row" for e in errors):
        raise NothingToLoad("content: a header and no rows: nothing to load", field="content")
    errors += [ListError(line=line, field=field, message=message) for line, problems in row_problems
               for field, message in problems]
    parsed = _parse(records, region, total=len(records) + len(row_problems) + sum(1 for e in errors if e.field == "row"),
                    upload=upload_tag(text), redact=redact, received_at=received_at, max_numbers=max_numbers)
    merged = sorted(errors + list(parsed.errors), key=lambda e: e.line)
    return parsed.model_copy(update={"errors": tuple(merged[:MAX_ERRORS]),
                                     "error_count": parsed.error_count + len(errors)})


def parse_json(items: Any, *, region: str = "US", max_rows: int = MAX_LIST_ROWS, redact: Redact | None = None,
               received_at: datetime | None = None, max_numbers: int | None = None) -> ParsedList:
    """Parse a JSON list of objects (already decoded). Lines are 1-based indexes in the list."""
    if not isinstance(items, list):
        return ParsedList(rows=(), errors=(ListError(line=0, field="body", message="must be a list of objects"),),
                          error_count=1)
    if not items:
        raise NothingToLoad("rows: no rows: nothing to load", field="rows")
    records: list[tuple[int, Mapping[str, Any]]] = []
    errors: list[ListError] = []
    for index, item in enumerate(items[:max_rows], start=1):
        if isinstance(item, Mapping):
            records.append((index, _normalise(item)))
        else:
            errors.append(ListError(line=index, field="row", message="must be an object"))
    if len(items) > max_rows:
        raise ListTooLarge(f"more than {max_rows} rows: upload in parts; nothing was stored", field="rows")
    parsed = _parse(records, region, total=len(items),
                    upload=upload_tag(json.dumps(items, sort_keys=True, default=str)), redact=redact,
                    received_at=received_at, max_numbers=max_numbers)
    merged = sorted(errors + list(parsed.errors), key=lambda e: e.line)[:MAX_ERRORS]
    return parsed.model_copy(update={"errors": tuple(merged), "error_count": parsed.error_count + len(errors)})
