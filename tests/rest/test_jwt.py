"""OIDC / JWT bearer tokens: signed by the identity provider's key (here an RSA key made for
the test, published as a JWKS file), checked for signature, issuer, audience and expiry; the
caller's name and grants come from the token's claims."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from conftest import ROOT, Server, problem, start

MIGRATION = (ROOT / "examples/migrations/001_index_order_status.sql").read_text()
ISSUER, AUDIENCE = "https://idp.example.test/realms/db", "dbconsultant"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def provider(server: Server) -> Iterator[dict[str, Any]]:
    key = rsa_key()
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    tmp = server.tmp  # type: ignore[attr-defined]
    (tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    process, base = start(tmp, "--jwks", str(tmp / "jwks.json"), "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE, store=server.store, env=server.env)
    yield {"key": key, "base": base}
    process.terminate()
    process.wait(timeout=30)


def token(provider: dict[str, Any], key: Any = None, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "dana", "exp": int(time.time()) + 300, "dbconsultant_grants": ["runner:qa"], **claims}
    return jwt.encode(body, key if key is not None else provider["key"], algorithm=alg, headers={"kid": kid})


def post(provider: dict[str, Any], bearer: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(provider["base"] + "/api/v1/db/schema/validate", json=body, headers={"Authorization": f"Bearer {bearer}"}, timeout=60)


def test_a_provider_token_runs_as_its_subject_with_its_grants(provider: dict[str, Any]) -> None:
    run = post(provider, token(provider), {"database": "shop_qa", "migration_sql": MIGRATION})
    assert run.status_code == 200, run.text
    assert run.json()["requested_by"] == "dana"
    detail = problem(post(provider, token(provider), {"database": "shop_prod", "migration_sql": MIGRATION}), 403, "forbidden")["detail"]
    assert "dana" in detail, detail
    problem(post(provider, token(provider, dbconsultant_grants=[]), {"database": "shop_qa", "migration_sql": MIGRATION}), 403, "forbidden")


@pytest.mark.parametrize(
    "case,needle",
    [
        ("expired", "expired"),
        ("audience", "audience"),
        ("issuer", "issuer"),
        ("other key", "signature"),
        ("unknown kid", "no key with kid"),
        ("hs256", "not accepted"),
        ("bad grant", "unknown role"),
    ],
)
def test_tokens_that_do_not_check_out_are_refused_saying_why(provider: dict[str, Any], case: str, needle: str) -> None:
    bearer = {
        "expired": lambda: token(provider, exp=int(time.time()) - 3600),
        "audience": lambda: token(provider, aud="someone-else"),
        "issuer": lambda: token(provider, iss="https://evil.example.test"),
        "other key": lambda: token(provider, key=rsa_key()),
        "unknown kid": lambda: token(provider, kid="k2"),
        "hs256": lambda: token(provider, key="a-shared-secret-of-enough-length-0123456789", alg="HS256"),
        "bad grant": lambda: token(provider, dbconsultant_grants=["superuser"]),
    }[case]()
    body = problem(post(provider, bearer, {"database": "shop_qa", "migration_sql": MIGRATION}), 401, "unauthenticated")
    assert needle in body["detail"].lower(), body


def test_servers_without_a_key_set_refuse_tokens(server: Server, provider: dict[str, Any]) -> None:
    response = requests.get(server.base + "/api/v1/db/test-runs", headers={"Authorization": f"Bearer {token(provider)}"}, timeout=30)
    assert "not enabled" in problem(response, 401, "unauthenticated")["detail"]
