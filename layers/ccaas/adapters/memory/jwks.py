"""The signing-keys port in memory: a JWKS document given to it (tests sign tokens with its keys)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ccaas.adapters.aws.jwks import keys_of


class StaticSigningKeys:
    def __init__(self, jwk_set: Mapping[str, Any]) -> None:
        self._keys = keys_of(jwk_set)
        self.lookups = 0

    def key(self, kid: str) -> Any | None:
        self.lookups += 1
        return self._keys.get(kid)
