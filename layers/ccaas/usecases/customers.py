"""The customer directory: create/replace, read, and look up by phone number or e-mail address.

Phone numbers and e-mail addresses are normalised here, once, as a caller gives them (domain.customers: a PUT's
through the `Customer` it builds, a lookup's before the store is asked), so every caller — the API, a contact
flow, contact intake — finds the same customer whatever the input's spelling, and the stores key by what they
are given. Errors name the field (`phone`, `phones[1]`), never the value (the values are personal data).
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ccaas.bootstrap import Dependencies
from ccaas.domain.customers import (
    MAX_ALIASES,
    MAX_ATTRIBUTE_VALUE,
    MAX_EMAIL_CHARS,
    MAX_PHONE_CHARS,
    Customer,
    normalise_email,
    normalise_phone,
)
from ccaas.domain.models import DomainError, NotFound
from ccaas.domain.vocabulary import Bool


class CustomerProfile(BaseModel):
    """PUT /customers/{id}: everything but the id (path) and the tenant (the caller's)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    tier: str | None = Field(default=None, max_length=32, description="segment: platinum, gold, standard, self_service, ...")
    vip: Bool = False
    preferred_language: str | None = Field(default=None, max_length=35, description="BCP 47, e.g. en-US, es")
    phones: list[Annotated[str, Field(max_length=MAX_PHONE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_ALIASES, description="E.164 (+ and country code); separators are ignored")
    emails: list[Annotated[str, Field(max_length=MAX_EMAIL_CHARS)]] = Field(default_factory=list, max_length=MAX_ALIASES)
    name: str | None = Field(default=None, max_length=200)
    attributes: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[str, Field(max_length=MAX_ATTRIBUTE_VALUE)]] = Field(
        default_factory=dict, max_length=20)


def _invalid(error: ValidationError) -> DomainError:
    """The first problem, naming the profile's field and a list item by its position (`phones[1]`); never a
    caller's key (an attribute key may hold personal data) nor the value."""
    first = error.errors(include_input=False)[0]
    field, *below = first.get("loc") or (None,)
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return DomainError(message, field=None if field is None else f"{field}" + "".join(f"[{p}]" for p in below if isinstance(p, int)))


def put_customer(deps: Dependencies, tenant_id: str, customer_id: str, profile: CustomerProfile) -> Customer:
    from ccaas.domain.analytics.redaction import check_id  # noqa: PLC0415 - the flow's lookups never need it

    # The id keys the profile and every contact's link to it: a card or SSN is refused, as POST /contacts refuses it
    # (an outside probe stored /customers/4111111111111111 in clear, a profile no intake could then name).
    check_id("customer_id", customer_id)
    # Redacted first: the bounds hold for what is stored (and read back), placeholders included.
    if profile.name or profile.attributes:
        profile = _redacted(profile)
    try:
        customer = Customer(tenant_id=tenant_id, customer_id=customer_id, updated_at=deps.clock.now_ms(), **profile.model_dump())
    except ValidationError as error:
        raise _invalid(error) from None
    return deps.customers.put(customer)


def _redacted(profile: CustomerProfile) -> CustomerProfile:
    """The free text of a profile (name, attribute keys and values) as it may be stored: never a card or
    social security number (a CRM export's "card on file" column would otherwise land here)."""
    from ccaas.domain.analytics.redaction import redact_attribute, redact_attributes  # noqa: PLC0415

    name = redact_attribute(profile.name) if profile.name else profile.name
    return profile.model_copy(update={"name": name, "attributes": redact_attributes(profile.attributes)})


def get_customer(deps: Dependencies, tenant_id: str, customer_id: str) -> Customer:
    customer = deps.customers.get(tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", field="customer_id")
    return customer


def lookup_customer(
    deps: Dependencies, tenant_id: str, *, customer_id: str | None = None, phone: str | None = None, email: str | None = None
) -> Customer | None:
    """The first of customer id, phone, e-mail that is given decides; None when nobody matches.
    DomainError (field phone / email) for a value that is not a phone number / an address."""
    if customer_id:
        return deps.customers.get(tenant_id, customer_id)
    if phone:
        try:
            number = normalise_phone(phone)
        except ValueError as error:
            raise DomainError(str(error), field="phone") from None
        return deps.customers.find(tenant_id, phone=number)
    if email:
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise DomainError(str(error), field="email") from None
        return deps.customers.find(tenant_id, email=address)
    raise DomainError("give a customer id, a phone number or an e-mail address", field="phone")


def find_customer(deps: Dependencies, tenant_id: str, *, phone: str | None = None, email: str | None = None) -> Customer:
    if (phone is None) == (email is None):
        raise DomainError("give exactly one of phone, email", field="phone")
    found = lookup_customer(deps, tenant_id, phone=phone, email=email)
    if found is None:
        raise NotFound("no customer with that " + ("phone number" if phone else "e-mail address"), field="phone" if phone else "email")
    return found
