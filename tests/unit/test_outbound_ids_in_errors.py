"""Path ids are the client's text and an id may be card-shaped (the Id pattern takes 16 digits): the outbound stores'
errors name the kind and never quote such an id (README: errors never show a value of 13 or more digits)."""
from __future__ import annotations

import pytest

from ccaas.domain.models import NotFound
from tests.unit.test_outbound_usecases import T, deps  # noqa: F401 - deps: fixture

CARD = "4111111111111111"


def test_an_unknown_card_shaped_campaign_row_or_attempt_id_is_never_quoted(deps):
    for lookup in (lambda: deps.outbound.get_campaign(T, CARD), lambda: deps.outbound.get_row(T, CARD, CARD),
                   lambda: deps.outbound.get_attempt(T, CARD, CARD, CARD)):
        with pytest.raises(NotFound) as missing:
            lookup()
        assert CARD not in str(missing.value)
