"""People's Cognito tokens -> the same credential as API keys: signature, expiry, issuer, app client and
token_use checked (ccaas.adapters.aws.jwks), claims mapped (ccaas.domain.tenants.credential_from_claims).
Tokens are signed here with generated RSA keys; the key set is injected through the SigningKeys port."""
from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ccaas.adapters.aws.jwks import REFETCH_AFTER_S, InvalidToken, PoolSigningKeys, TokenVerifier
from ccaas.adapters.memory.jwks import StaticSigningKeys
from ccaas.domain.models import DomainError
from ccaas.domain.tenants import Credential, Role, credential_from_claims
from ccaas.usecases.admin import credential_for_user_token

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
CLIENT = "3n4b5urk1ft4fl3mg5e62d9ado"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def jwks(*pairs) -> dict:
    keys = []
    for kid, private in pairs:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


JWKS = jwks(("k1", KEY))


def token(*, key=KEY, kid="k1", alg="RS256", use="id", exp_in=3600, drop=(), **claims) -> str:
    now = int(time.time())
    body = {
        "sub": "5f1c-77aa", "iss": ISSUER, "token_use": use, "iat": now - 10, "exp": now + exp_in,
        "auth_time": now - 10, "cognito:groups": ["supervisor"], "custom:tenant_id": "acme",
        **({"aud": CLIENT} if use == "id" else {"client_id": CLIENT}),
    }
    body.update(claims)
    for name in drop:
        body.pop(name, None)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(StaticSigningKeys(JWKS), issuer=ISSUER, client_id=CLIENT)


def test_a_valid_id_token_is_the_supervisor_of_its_tenant(verifier):
    credential = credential_for_user_token(verifier, token(exp_in=900))
    assert credential == Credential(tenant_id="acme", role=Role.SUPERVISOR, agent_id=None, key_id="jwt:5f1c-77aa",
                                    expires_at=credential.expires_at)
    # when the token stops being valid: what a WebSocket opened with it lasts
    assert abs(credential.expires_at - (int(time.time()) + 900)) <= 2


def test_an_agent_token_carries_its_agent_id_and_other_roles_drop_theirs(verifier):
    agent = credential_for_user_token(verifier, token(**{"cognito:groups": ["agent"], "custom:agent_id": "ana"}))
    assert (agent.role, agent.agent_id) == (Role.AGENT, "ana")
    admin = credential_for_user_token(verifier, token(**{"cognito:groups": ["admin", "wallboards"], "custom:agent_id": "ana"}))
    assert (admin.role, admin.agent_id) == (Role.ADMIN, None)  # a non-role group is ignored


def test_an_access_token_of_this_client_is_verified_but_carries_no_tenant(verifier):
    # Cognito puts custom attributes in ID tokens only: an access token verifies, then makes no credential.
    assert verifier.claims(token(use="access"))["client_id"] == CLIENT
    assert credential_for_user_token(verifier, token(use="access", drop=("custom:tenant_id",))) is None
    with pytest.raises(InvalidToken):
        verifier.claims(token(use="access", client_id="another-client"))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: token(exp_in=-60), id="expired"),
        pytest.param(lambda: token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), id="wrong issuer"),
        pytest.param(lambda: token(aud="another-client"), id="wrong audience"),
        pytest.param(lambda: token(key=OTHER_KEY), id="bad signature"),
        pytest.param(lambda: token(kid="unknown"), id="unknown key id"),
        pytest.param(lambda: token(use="refresh"), id="wrong token_use"),
        pytest.param(lambda: token(drop=("exp",)), id="no expiry"),
        pytest.param(lambda: token(alg="HS256", key="k" * 32), id="hmac"),
        pytest.param(lambda: token()[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", id="alg none"),
    ],
)
def test_invalid_tokens_are_refused(verifier, bad):
    with pytest.raises(InvalidToken):
        verifier.claims(bad())
    assert credential_for_user_token(verifier, bad()) is None


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"custom:tenant_id": None}, id="missing tenant"),
        pytest.param({"custom:tenant_id": "Not A Tenant!"}, id="malformed tenant"),
        pytest.param({"cognito:groups": ["admin", "supervisor"]}, id="two roles"),
        pytest.param({"cognito:groups": []}, id="no role"),
        pytest.param({"cognito:groups": ["wallboards"]}, id="no role group"),
        pytest.param({"cognito:groups": ["agent"]}, id="agent without agent_id"),
        pytest.param({"cognito:groups": ["agent"], "custom:agent_id": "bad id!"}, id="malformed agent_id"),
    ],
)
def test_claims_that_make_no_credential_are_refused(verifier, claims):
    with pytest.raises(DomainError):
        credential_from_claims({"sub": "s", "token_use": "id", "exp": 2**31, "custom:tenant_id": "acme",
                                "cognito:groups": ["supervisor"], **claims})
    assert credential_for_user_token(verifier, token(**claims)) is None


def test_a_few_seconds_of_clock_skew_are_tolerated_not_more(verifier):
    now = int(time.time())
    assert verifier.claims(token(iat=now + 2))["sub"]  # Cognito's clock a little ahead of ours
    with pytest.raises(InvalidToken):
        verifier.claims(token(iat=now + 120))


def test_without_a_user_pool_every_token_is_refused():
    assert credential_for_user_token(None, token()) is None


def test_the_pool_key_set_is_fetched_once_and_refetched_only_for_a_new_kid_after_a_while():
    fetched: list[str] = []
    now = [1000.0]
    documents = [JWKS, jwks(("k1", KEY), ("k2", OTHER_KEY))]

    def fetch(url: str) -> dict:
        fetched.append(url)
        return documents[min(len(fetched) - 1, 1)]

    keys = PoolSigningKeys(ISSUER, fetch=fetch, clock=lambda: now[0])
    verifier = TokenVerifier(keys, issuer=ISSUER, client_id=CLIENT)
    for _ in range(3):
        verifier.claims(token())
    assert fetched == [ISSUER + "/.well-known/jwks.json"]
    rotated = token(key=OTHER_KEY, kid="k2")
    with pytest.raises(InvalidToken):  # an unknown kid does not refetch at once (no fetch per forged kid)
        verifier.claims(rotated)
    assert len(fetched) == 1
    now[0] += REFETCH_AFTER_S
    assert verifier.claims(rotated)["sub"] == "5f1c-77aa"  # Cognito rotated its keys: picked up
    assert len(fetched) == 2
    with pytest.raises(ValueError):
        PoolSigningKeys("http://cognito-idp.local/pool")
