"""Where the business may place a call on its own account (pure).

A callback number comes from the caller (digits typed into a flow, a web form's field), a quick connect from
an administrator, a campaign's numbers from a list a lead form may have filled: each is a number the contact
center dials and pays for. International revenue share fraud (IRSF) feeds such features numbers whose
operator shares the call's price with the fraudster, so every such number is checked before it is stored:

- it is a number some carrier routes (`phonenumbers.is_valid_number`: a country code nobody has, `+1 000…`
  and reserved fiction ranges are not);
- it is no premium-rate line (`+1 900`, `09xx` in Europe, `+979`) and no personal number (`+44 70`,
  `+1 500`: forwarded anywhere at the caller's rate, a favourite of the same fraud);
- it is no non-geographic international number (country code `+881` satellite phones, `+882`/`+883`
  international networks), apart from international freephone (`+800`).

Suppressing or consenting a number is no call: those lists keep any valid number.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import phonenumbers

from ccaas.domain.vocabulary import DomainError

__all__ = ["refused_destination", "check_destination", "require_destination"]


def refused_destination(parsed: phonenumbers.PhoneNumber, *, validated: bool = False) -> str | None:
    """Why the business must not dial `parsed` (a sentence without the number), None when it may.
    `validated`: the caller checked `is_valid_number` already (a list's 10,000 rows: not twice)."""
    import phonenumbers  # noqa: PLC0415 - its metadata loads on first use (the callers' cold start)

    if not validated and not phonenumbers.is_valid_number(parsed):
        return "not a valid phone number"
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.PREMIUM_RATE:
        return "a premium-rate number (the caller pays per minute): not a number the business dials"
    if kind == phonenumbers.PhoneNumberType.PERSONAL_NUMBER:
        return "a personal (follow-me) number charged at a premium: not a number the business dials"
    # the international country codes (satellite, networks, freephone, premium): a set, no region lookup
    if (parsed.country_code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
            and kind != phonenumbers.PhoneNumberType.TOLL_FREE):
        return "a non-geographic international number (satellite or international network): not a number the business dials"
    return None


def check_destination(number: str) -> str:
    """The E.164 form of the number checked (what to store and dial: "+44 020 …" is +4420…, the trunk 0 is not
    dialled after a country code), or ValueError (with the reason, never the number) unless the business may dial it."""
    import phonenumbers  # noqa: PLC0415 - see refused_destination

    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:  # a country code nobody has
        raise ValueError("not a valid phone number") from None
    reason = refused_destination(parsed)
    if reason is not None:
        raise ValueError(reason)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def require_destination(number: str, field: str, what: str) -> None:
    """check_destination as the API's DomainError naming `field`, its message `what: reason` (`what` never the
    number where it is personal data: a caller's callback number)."""
    try:
        check_destination(number)
    except ValueError as error:
        raise DomainError(f"{what}: {error}", field=field) from None
