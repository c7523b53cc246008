"""People's tokens: Cognito user-pool JWTs verified with PyJWT (RS256) against the pool's key set.

`SigningKeys` is the port (a key set by `kid`); `PoolSigningKeys` fetches the user pool's JWKS
(`<issuer>/.well-known/jwks.json`) once per cold start and keeps it; an unknown `kid` (Cognito
rotated its keys) refetches at most every REFETCH_AFTER_S, so tokens with made-up kids cannot make
every call fetch. The memory twin (ccaas.adapters.memory.jwks) holds a key set given to it.

`TokenVerifier.claims` checks the signature (RS256 only), `exp` and `iat` (LEEWAY_S of skew), the issuer, `token_use` (`id` or
`access`) and the app client (`aud` of an ID token, `client_id` of an access token), and returns the
claims; InvalidToken otherwise (never saying more to the caller than "Unauthorized").
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jwt

ALGORITHMS = ["RS256"]  # what Cognito signs with; "none" and HMAC are never accepted
FETCH_TIMEOUT_S = 2.0
REFETCH_AFTER_S = 300.0
LEEWAY_S = 5  # clock skew between Cognito and Lambda: a token issued "in a second" is valid now
TOKEN_USES = ("id", "access")


class InvalidToken(Exception):
    """The token is not one of this user pool's valid tokens for this app client."""


class SigningKeys(Protocol):
    def key(self, kid: str) -> Any | None:
        """The public key with this key id (something PyJWT verifies with), or None."""
        ...


def keys_of(jwk_set: Mapping[str, Any]) -> dict[str, Any]:
    """{kid: public key} of a JWKS document's RSA signing keys."""
    keys = {}
    for jwk in jwk_set.get("keys") or []:
        if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig" and jwk.get("kid"):
            keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
    return keys


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 - an https URL we built
        return json.loads(response.read())


class PoolSigningKeys:
    """The user pool's JWKS over HTTPS, fetched on first use and cached for the life of the process."""

    def __init__(self, issuer: str, fetch: Callable[[str], Mapping[str, Any]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not issuer.startswith("https://"):
            raise ValueError("the issuer is an https URL")
        self.url = issuer.rstrip("/") + "/.well-known/jwks.json"
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any | None:
        with self._lock:
            stale = self._keys is not None and kid not in self._keys and self._clock() - self._fetched_at >= REFETCH_AFTER_S
            if self._keys is None or stale:
                self._keys = keys_of((self._fetch or _fetch_json)(self.url))
                self._fetched_at = self._clock()
            return self._keys.get(kid)


class TokenVerifier:
    def __init__(self, keys: SigningKeys, *, issuer: str, client_id: str, leeway_s: float = LEEWAY_S) -> None:
        self._keys = keys
        self.issuer = issuer
        self.client_id = client_id
        self._leeway = leeway_s

    def claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS or not isinstance(header.get("kid"), str):
                raise InvalidToken("unexpected algorithm or no key id")
            key = self._keys.key(header["kid"])
            if key is None:
                raise InvalidToken("unknown key id")
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, issuer=self.issuer, leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        use = claims.get("token_use")
        if use not in TOKEN_USES:
            raise InvalidToken("token_use is neither id nor access")
        # An ID token names the app client in `aud`, an access token in `client_id`.
        client = claims.get("aud") if use == "id" else claims.get("client_id")
        if client != self.client_id:
            raise InvalidToken("another app client's token")
        return claims
