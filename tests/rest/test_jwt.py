"""OIDC / JWT bearer tokens: signed by the identity provider's key (here an RSA key made for
the test, published as a JWKS file), checked for signature, issuer, audience and expiry; the
caller's name and grants come from the token's claims."""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from typing import Any, Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from conftest import ROOT, Server, binary, problem, start

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


def test_the_key_set_is_fetched_from_the_provider_s_url_and_a_rotated_key_is_picked_up(server: Server) -> None:
    """The provider publishes its keys over HTTPS (the test CA's certificate for localhost); a
    token signed with a key published after the service started is accepted once the service
    fetches the set again (a token names a key it lacks)."""
    tls = os.environ.get("DBCONSULTANT_TEST_TLS_DIR")
    if not tls:
        if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS") == "1":
            pytest.skip("DBCONSULTANT_TEST_TLS_DIR not set")
        pytest.fail("DBCONSULTANT_TEST_TLS_DIR is not set: run scripts/test.sh, which makes the test certificates")
    first, second = rsa_key(), rsa_key()

    def jwk(key: Any, kid: str) -> dict[str, Any]:
        out = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        out.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return out

    published = {"keys": [jwk(first, "old")]}
    fetches = []

    class Certs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            fetches.append(self.path)
            body = json.dumps(published).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{tls}/server.crt", f"{tls}/server.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://localhost:{httpd.server_address[1]}/realms/db/protocol/openid-connect/certs"
    tmp = server.tmp  # type: ignore[attr-defined]
    process, base = start(tmp, "--jwks", url, "--jwks-ca", f"{tls}/ca.crt", "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE, store=server.store, env=server.env)
    try:
        provider = {"key": first, "base": base}
        assert post(provider, token(provider, kid="old"), {"database": "shop_qa", "migration_sql": MIGRATION}).status_code == 200
        assert fetches == ["/realms/db/protocol/openid-connect/certs"], fetches
        published["keys"].append(jwk(second, "new"))
        time.sleep(31)  # the service refetches for an unknown key at most every 30 s
        rotated = post(provider, token(provider, key=second, kid="new"), {"database": "shop_qa", "migration_sql": MIGRATION})
        assert rotated.status_code == 200, rotated.text
        assert len(fetches) == 2, fetches
        problem(post(provider, token(provider, key=second, kid="unknown"), {"database": "shop_qa", "migration_sql": MIGRATION}), 401, "unauthenticated")
        assert len(fetches) == 2, "a made-up kid right after a fetch does not fetch again"
    finally:
        process.terminate()
        process.wait(timeout=30)
        httpd.shutdown()


def test_a_key_set_url_that_does_not_answer_stops_the_service(server: Server) -> None:
    tmp = server.tmp  # type: ignore[attr-defined]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [binary(), "--store", server.store, "serve", "--listen", "127.0.0.1:0", "--targets", str(tmp / "targets.toml"), "--jwks", f"http://127.0.0.1:{port}/certs", "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE],
        capture_output=True, text=True, env=server.env, timeout=60,
    )
    assert done.returncode == 3 and f"127.0.0.1:{port}/certs" in done.stderr and "listening" not in done.stderr, done.stderr
