"""A card number typed where a key goes is never echoed by an error: not by the duplicate-key 400 nor by a 422
naming an unknown key (outside probe against make run, session 28: the 400 quoted "4111111111111111")."""
from __future__ import annotations

import json

import pytest

from tests.lambda_harness import api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CARD = "4111111111111111"


def test_a_duplicate_card_shaped_key_is_refused_without_quoting_it(tenant):
    raw = f'{{"channel": "VOICE", "queue_id": "sales", "{CARD}": 1, "{CARD}": 2}}'
    status, body, _ = api_response("POST", "/contacts", tenant.id, raw_body=raw)
    assert status == 400 and body["error"] == "duplicate_key", body
    assert "4111" not in json.dumps(body) and "13 or more digits" in body["message"], body


def test_an_unknown_card_shaped_key_is_named_without_quoting_it(tenant):
    status, body, _ = api_response("POST", "/contacts", tenant.id,
                                   raw_body=json.dumps({"channel": "VOICE", "queue_id": "sales", f"x{CARD}": 1}))
    assert status == 422, body
    assert "4111" not in json.dumps(body) and "13 or more digits" in json.dumps(body), body


def test_a_short_key_is_still_named(tenant):
    status, body, _ = api_response("POST", "/contacts", tenant.id,
                                   raw_body='{"channel": "VOICE", "queue_id": "sales", "tier": 1, "tier": 2}')
    assert status == 400 and '"tier"' in body["message"] and "(at tier)" in body["message"], body
