"""The customer directory (pure): who a caller is, their segment tier and how to reach them.

A `Customer` belongs to one tenant. Its phone numbers are kept in E.164 (`+` and 8-15 digits) and its
e-mail addresses lower-cased, so a lookup by the number Amazon Connect reports (`CustomerEndpoint`)
or by an address typed in any case finds the same customer. Within a tenant a phone number or an
e-mail address names at most one customer (the store enforces it atomically).

A number or an address is normalised once, where a caller gives it: a `Customer` built from input (a PUT), or a
lookup's value (`normalise_phone` / `normalise_email`, both idempotent). The stores key by the values they are
given, and a customer read back (`vocabulary.STORED_DOCUMENT`) is the document as it was written: normalising on
every read re-read numbers that phonenumbers changes again on a second pass (a trunk prefix dropped per pass),
so a stored customer failed to load, or showed another customer's number.

Phone numbers, e-mail addresses and names are personal data: they never appear in log lines or in
error messages (`normalise_phone` / `normalise_email` say what is wrong, never the value).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from ccaas.domain.vocabulary import CUSTOMER_ID_PATTERN, DEFAULT_TIER, is_stored

__all__ = [
    "MAX_ALIASES",
    "MAX_EMAIL_CHARS",
    "MAX_PHONE_CHARS",
    "DEFAULT_TIER",
    "TIERS",
    "TIER_PATTERN",
    "Customer",
    "alias_key",
    "legacy_phone_keys",
    "lookup",
    "normalise_email",
    "normalise_phone",
]

# The tiers the default routing policy knows (RoutingPolicy.segments); a tenant may use others.
TIERS = ("platinum", "gold", "standard", "self_service")
MAX_ALIASES = 10  # phone numbers, and e-mail addresses, per customer (bounds one transaction's size)
# A number as a caller writes it, separators included ("00 44 (0) 20 7946 0958" is 22): one bound for PUT
# /customers, GET /customers?phone= and the flow's parameters (the lookup took 32 characters, the others any).
MAX_PHONE_CHARS = 64
MAX_EMAIL_CHARS = 254  # RFC 5321's limit of a path

_ID = CUSTOMER_ID_PATTERN
# Separators between digits once NFKC made a full-width ＋, （ or － ASCII: white space, Unicode's dash punctuation
# (the en dash and non-breaking hyphen word processors type), the minus sign, brackets, dots and slashes.
_PHONE_SEPARATORS = frozenset("()[]./\u2212")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_NOT_E164 = "not an E.164 phone number (+ and 8-15 digits, country code first)"
_NOT_POSSIBLE = "not a phone number of its country code (too short or too long, or a trunk prefix given twice)"
TIER_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
_LANGUAGE = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3}$"  # BCP 47 / Connect LanguageCode, e.g. en-US, es
# What an address's local part and domain labels are made of: RFC 5322's atext (dot-atoms only, no quoted local
# part) and, beyond ASCII, letters, marks and digits (RFC 6531 addresses, IDN domains as NFKC leaves them).
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_LABEL_TEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def normalise_phone(raw: str) -> str:
    """E.164 as phonenumbers formats it: NFKC first (full-width digits and ＋ from an IME), separators removed
    (white space, dashes of any kind, brackets, dots, slashes), any script's digits read as ASCII, a leading
    international `00` read as `+`, and a national trunk prefix written after the country code ("+44 020 …",
    "+44 (0)20 …", "+1 1 202 …") dropped the way phonenumbers drops it (Italy's 0, part of the number, is kept):
    the form Amazon Connect reports and a callback dials. No guessing of a country: a national number (no
    `+`/`00`) is refused, as is a number of a length its country never has, and one phonenumbers would read
    differently again (a trunk prefix given twice: "+44 (0) 020 …"), so normalise(normalise(x)) == normalise(x).
    Raises ValueError without the value."""
    text = _digits_of(raw)
    number = _formatted(text)
    if number != text and _formatted(number) != number:
        raise ValueError(_NOT_POSSIBLE)
    return number


def _digits_of(raw: str) -> str:
    """`+` and ASCII digits, as written (no trunk prefix dropped), or ValueError."""
    if len(str(raw)) > MAX_PHONE_CHARS:
        raise ValueError(f"a phone number is at most {MAX_PHONE_CHARS} characters, separators included")
    text = "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in unicodedata.normalize("NFKC", str(raw)).strip()
        if not (c.isspace() or c in _PHONE_SEPARATORS or unicodedata.category(c) == "Pd")
    )
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _E164.match(text):
        raise ValueError(_NOT_E164)
    return text


def _formatted(text: str) -> str:
    """phonenumbers' E.164 of `+digits` (one pass: a trunk prefix after the country code dropped), or ValueError."""
    import phonenumbers  # noqa: PLC0415 - its metadata loads on first use (every importer's cold start)

    try:
        parsed = phonenumbers.parse(text)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return text  # a country code nobody has: kept as written (accepted before; no caller Connect reports has it)
        raise ValueError(_NOT_E164) from None
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.match(number) or not phonenumbers.is_possible_number(parsed):
        raise ValueError(_NOT_POSSIBLE)
    return number


def legacy_phone_keys(number: str) -> tuple[str, ...]:
    """Keys an earlier release may have stored the E.164 `number` under: written with its national trunk prefix
    after the country code ("+44 020 …"), it was kept as +44020… (the stores still find and then re-key it).
    Only a spelling that normalises to `number` is one: where phonenumbers keeps the prefix ("+57 0321 …"),
    "+57 0 …" is another number, and its holder another customer."""
    import phonenumbers  # noqa: PLC0415 - see normalise_phone

    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ()
    region = phonenumbers.region_code_for_country_code(parsed.country_code)
    prefix = phonenumbers.ndd_prefix_for_region(region, True)
    if not prefix:
        return ()
    old = f"+{parsed.country_code}{prefix}{phonenumbers.national_significant_number(parsed)}"
    try:
        return (old,) if old != number and normalise_phone(old) == number else ()
    except ValueError:
        return ()


def normalise_email(raw: str) -> str:
    """Unicode NFKC (a composed and a decomposed "é", full-width letters: one address), trimmed and lower-cased;
    an invisible or control character refused, and so is anything but an address: a dot-atom local part (at most
    64 characters) and a domain of at least two labels (letters, digits, inner hyphens; at most 63 characters
    each) whose last is no number ("<a@b.com>", "mailto:a@b.com", "a@..com", ".a@b.com", "a@b.12" are refused).
    Raises ValueError without the value."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if any(unicodedata.category(c) in ("Cf", "Cc") for c in text):
        raise ValueError("an e-mail address holds no invisible or control characters")
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (len(text) > MAX_EMAIL_CHARS or not at or not 1 <= len(local) <= 64
            or not all(atom and all(_in_local(c) for c in atom) for atom in local.split("."))
            or len(labels) < 2 or not all(_label(label) for label in labels)
            or len(labels[-1]) < 2 or labels[-1].isdigit()):
        raise ValueError("not an e-mail address (local-part@domain.tld)")
    return text


def _in_local(char: str) -> bool:
    """A local part's character: dot-atom text, or any non-ASCII character but a space, separator or control (RFC
    6531's UTF8-non-ascii: an address "😀@example.com" is one a list or a customer may hold)."""
    return char in _ATEXT if char.isascii() else unicodedata.category(char)[0] not in "ZC"


def _in(char: str, ascii_allowed: frozenset[str]) -> bool:
    return char in ascii_allowed if char.isascii() else unicodedata.category(char)[0] in "LMN"


def _label(label: str) -> bool:
    return 1 <= len(label) <= 63 and label[0] != "-" and label[-1] != "-" and all(_in(c, _LABEL_TEXT) for c in label)


def alias_key(kind: str, value: str) -> str:
    """The normalised form of a lookup value, by kind ("phone" or "email")."""
    if kind == "phone":
        return normalise_phone(value)
    if kind == "email":
        return normalise_email(value)
    raise ValueError(f"unknown alias kind {kind!r}")


def lookup(phone: str | None, email: str | None) -> tuple[str, str]:
    """(kind, value) of a directory lookup by exactly one of phone, email, the value as given: the stores key by
    normalised values, and the caller normalised it (once: a second pass could read it as another number)."""
    if (phone is None) == (email is None):
        raise ValueError("look up by exactly one of phone, email")
    return ("phone", phone) if phone is not None else ("email", email or "")


MAX_ATTRIBUTE_VALUE = 1024  # what the API takes (usecases.customers.CustomerProfile) is what is kept


def _on_input(normalise: Callable[[str], str]) -> Callable[[object, ValidationInfo], object]:
    """A list item normalised where a caller gives it; a stored document's item as it was written."""
    def item(value: object, info: ValidationInfo) -> object:
        return value if is_stored(info.context) or not isinstance(value, str) else normalise(value)
    return item


Phone = Annotated[str, BeforeValidator(_on_input(normalise_phone))]
Email = Annotated[str, BeforeValidator(_on_input(normalise_email))]


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    tenant_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(pattern=_ID)
    tier: str | None = Field(default=None, pattern=TIER_PATTERN, description="segment, e.g. platinum, gold, standard, self_service")
    vip: bool = False
    preferred_language: str | None = Field(default=None, pattern=_LANGUAGE, description="e.g. en-US, es")
    phones: tuple[Phone, ...] = Field(default=(), max_length=MAX_ALIASES, description="E.164, normalised on input")
    emails: tuple[Email, ...] = Field(default=(), max_length=MAX_ALIASES, description="lower-cased on input")
    name: str | None = Field(default=None, max_length=200, repr=False)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)
    updated_at: int = 0

    @field_validator("phones", "emails", mode="before")
    @classmethod
    def _a_list(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str | bytes):
            raise ValueError(f"{info.field_name} is a list")
        return value

    @field_validator("phones", "emails")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))  # two spellings of one number: one alias

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if is_stored(info.context):
            return value  # bounded when it was written
        for key, text in value.items():
            if not 1 <= len(key) <= 64 or len(text) > MAX_ATTRIBUTE_VALUE:
                raise ValueError(f"attribute keys are 1-64 characters, values at most {MAX_ATTRIBUTE_VALUE:,} (a card number "
                                 "or code counts as the placeholder it is stored as, e.g. [CARD_SECURITY_CODE])")
        return value

    def aliases(self) -> set[tuple[str, str]]:
        """(kind, normalised value) pairs this customer is found by."""
        return {("phone", p) for p in self.phones} | {("email", e) for e in self.emails}
