"""The customer directory (pure): who a caller is, their segment tier and how to reach them.

A `Customer` belongs to one tenant. Its phone numbers are kept in E.164 (`+` and 8-15 digits) and its
e-mail addresses lower-cased, so a lookup by the number Amazon Connect reports (`CustomerEndpoint`)
or by an address typed in any case finds the same customer. Within a tenant a phone number or an
e-mail address names at most one customer (the store enforces it atomically).

Phone numbers, e-mail addresses and names are personal data: they never appear in log lines or in
error messages (`normalise_phone` / `normalise_email` say what is wrong, never the value).
"""
from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator, ValidationInfo

from ccaas.domain.vocabulary import CUSTOMER_ID_PATTERN, DEFAULT_TIER

__all__ = [
    "MAX_ALIASES",
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

_ID = CUSTOMER_ID_PATTERN
_PHONE_NOISE = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_NOT_E164 = "not an E.164 phone number (+ and 8-15 digits, country code first)"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
TIER_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
_LANGUAGE = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3}$"  # BCP 47 / Connect LanguageCode, e.g. en-US, es


def normalise_phone(raw: str) -> str:
    """E.164 as phonenumbers formats it: separators removed, a leading international `00` read as `+`, and a
    national trunk prefix written after the country code ("+44 020 …", "+44 (0)20 …", "+1 1 202 …") dropped
    the way phonenumbers drops it (Italy's 0, part of the number, is kept): the form Amazon Connect reports and
    a callback dials. No guessing of a country: a national number (no `+`/`00`) is refused. Raises ValueError
    without the value."""
    import phonenumbers  # noqa: PLC0415 - its metadata loads on first use (every importer's cold start)

    # Any script's decimal digits as ASCII (full-width from an IME, Arabic-Indic): one number, one key.
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in _PHONE_NOISE.sub("", str(raw).strip()))
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _E164.match(text):
        raise ValueError(_NOT_E164)
    try:
        text = phonenumbers.format_number(phonenumbers.parse(text), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return text  # a country code nobody has: kept as written (accepted before; it names no caller Connect reports)
    if not _E164.match(text):
        raise ValueError(_NOT_E164)
    return text


def legacy_phone_keys(number: str) -> tuple[str, ...]:
    """Keys an earlier release may have stored the E.164 `number` under: written with its national trunk prefix
    after the country code ("+44 020 …"), it was kept as +44020… (the stores still find and then re-key it)."""
    import phonenumbers  # noqa: PLC0415 - see normalise_phone

    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ()
    region = phonenumbers.region_code_for_country_code(parsed.country_code)
    prefix = phonenumbers.ndd_prefix_for_region(region, True)
    old = f"+{parsed.country_code}{prefix}{phonenumbers.national_significant_number(parsed)}" if prefix else number
    return (old,) if old != number and _E164.match(old) else ()


def normalise_email(raw: str) -> str:
    """Unicode NFKC (a composed and a decomposed "é", full-width letters: one address), trimmed and lower-cased;
    an invisible or control character refused. Raises ValueError without the value."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if any(unicodedata.category(c) in ("Cf", "Cc") for c in text):
        raise ValueError("an e-mail address holds no invisible or control characters")
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError("not an e-mail address")
    return text


def alias_key(kind: str, value: str) -> str:
    """The normalised form of a lookup value, by kind ("phone" or "email")."""
    if kind == "phone":
        return normalise_phone(value)
    if kind == "email":
        return normalise_email(value)
    raise ValueError(f"unknown alias kind {kind!r}")


def lookup(phone: str | None, email: str | None) -> tuple[str, str]:
    """(kind, normalised value) of a directory lookup by exactly one of phone, email."""
    if (phone is None) == (email is None):
        raise ValueError("look up by exactly one of phone, email")
    return ("phone", normalise_phone(phone)) if phone is not None else ("email", normalise_email(email or ""))


MAX_ATTRIBUTE_VALUE = 1024  # what the API takes (usecases.customers.CustomerProfile) is what is kept


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    tenant_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(pattern=_ID)
    tier: str | None = Field(default=None, pattern=TIER_PATTERN, description="segment, e.g. platinum, gold, standard, self_service")
    vip: bool = False
    preferred_language: str | None = Field(default=None, pattern=_LANGUAGE, description="e.g. en-US, es")
    phones: tuple[str, ...] = Field(default=(), max_length=MAX_ALIASES, description="E.164, normalised on input")
    emails: tuple[str, ...] = Field(default=(), max_length=MAX_ALIASES, description="lower-cased on input")
    name: str | None = Field(default=None, max_length=200, repr=False)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)
    updated_at: int = 0

    @field_validator("phones", "emails", mode="before")
    @classmethod
    def _normalised(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str | bytes):
            raise ValueError(f"{info.field_name} is a list")
        normalise = normalise_phone if info.field_name == "phones" else normalise_email
        return tuple(dict.fromkeys(normalise(v) for v in value)) if isinstance(value, list | tuple) else value

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not 1 <= len(key) <= 64 or len(text) > MAX_ATTRIBUTE_VALUE:
                raise ValueError(f"attribute keys are 1-64 characters, values at most {MAX_ATTRIBUTE_VALUE:,} (a card number "
                                 "or code counts as the placeholder it is stored as, e.g. [CARD_SECURITY_CODE])")
        return value

    def aliases(self) -> set[tuple[str, str]]:
        """(kind, normalised value) pairs this customer is found by."""
        return {("phone", p) for p in self.phones} | {("email", e) for e in self.emails}
