"""Numbers the business may dial on its account (ccaas.domain.destinations): ordinary lines everywhere pass,
the revenue-share fraud's favourites are refused with a reason that never holds the number."""
from __future__ import annotations

import phonenumbers
import pytest

from ccaas.domain.destinations import check_destination

ORDINARY = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE, phonenumbers.PhoneNumberType.TOLL_FREE)


def test_every_countrys_example_fixed_line_mobile_and_freephone_numbers_may_be_called():
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in ORDINARY:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None or phonenumbers.number_type(example) not in ORDINARY:
                continue
            check_destination(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
            checked += 1
    assert checked > 400  # ~240 regions, most with a fixed-line and a mobile example


@pytest.mark.parametrize("region", ["US", "GB", "DE", "FR", "IT", "ES", "AU", "AT", "CH"])
def test_every_countrys_example_premium_rate_number_is_refused(region):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.PREMIUM_RATE)
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    with pytest.raises(ValueError, match="premium-rate") as refused:
        check_destination(number)
    assert number[1:] not in str(refused.value)


@pytest.mark.parametrize("number, why", [
    ("+15005550000", "personal"), ("+447012345678", "personal"), ("+881612345678", "non-geographic"),
    ("+979123456789", "premium-rate"), ("+999123456789", "not a valid"), ("+10005550100", "not a valid"),
])
def test_personal_satellite_and_unrouted_numbers_are_refused(number, why):
    with pytest.raises(ValueError, match=why):
        check_destination(number)


def test_international_freephone_may_be_called():
    check_destination("+80012345678")
