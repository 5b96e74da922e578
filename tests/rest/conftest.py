"""Fixtures of the REST tests: `dbconsultant serve` as its users run it (a store, a
targets.toml, API keys from `dbconsultant keys create`), the shop database on SQLite and on the
test PostgreSQL server as named targets, and a client that checks every request and every
answer against the served OpenAPI document with an independent validator (openapi-core).

PostgreSQL comes from scripts/servers.sh (DBCONSULTANT_TEST_POSTGRES_URL); without it the
tests fail, and DBCONSULTANT_SKIP_SERVER_TESTS=1 skips them on a developer machine.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary() -> str:
    path = os.environ.get("DBCONSULTANT_BIN") or str(ROOT / "target" / "debug" / "dbconsultant")
    assert os.path.exists(path), f"{path} is missing: cargo build -p dbconsultant-cli"
    return path


def postgres_url() -> str:
    url = os.environ.get("DBCONSULTANT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS") == "1":
            pytest.skip("DBCONSULTANT_TEST_POSTGRES_URL not set and DBCONSULTANT_SKIP_SERVER_TESTS=1")
        pytest.fail("DBCONSULTANT_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts the servers")
    return url


@dataclass
class Server:
    base: str
    store: str
    keys: dict[str, str] = field(repr=False)
    spec: dict[str, Any] = field(repr=False)
    openapi: OpenAPI = field(repr=False)
    process: subprocess.Popen[str] = field(repr=False)
    env: dict[str, str] = field(repr=False)
    # operationIds answered with 200 and checked against the document
    exercised: set[str] = field(default_factory=set)

    def cli(self, *args: str) -> str:
        done = subprocess.run([binary(), "--store", self.store, *args], capture_output=True, text=True, env=self.env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def call(self, method: str, path: str, key: str | None = None, *, check: bool = True, **kwargs: Any) -> requests.Response:
        """One request; with `check`, the request and the answer are validated against the
        OpenAPI document (problem answers included)."""
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        request = requests.Request(method, self.base + path, headers=headers, **kwargs)
        prepared = request.prepare()
        response = requests.Session().send(prepared, timeout=120)
        if check:
            wrapped = RequestsOpenAPIRequest(prepared)
            if response.status_code < 400:
                self.openapi.validate_request(wrapped)
            self.openapi.validate_response(wrapped, RequestsOpenAPIResponse(response))
            if response.status_code == 200:
                self.exercised.add(operation_id(self.spec, method, path))
        return response


def operation_id(spec: dict[str, Any], method: str, path: str) -> str:
    """The operationId of the document's path template that `path` matches."""
    path = path.split("?", 1)[0]
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return str(item[method.lower()]["operationId"])
    raise AssertionError(f"{method} {path} is not in the document")


def start(tmp: pathlib.Path, *extra: str, store: str | None = None, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    store = store or str(tmp / "store.db")
    process = subprocess.Popen(
        [binary(), "--store", store, "serve", "--listen", "127.0.0.1:0", "--targets", str(tmp / "targets.toml"), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"listening on (https?://[^/]+)", line)
        if found:
            return process, found.group(1)
    raise AssertionError(f"dbconsultant serve did not start (exit {process.wait()})")


def shop(tmp: pathlib.Path) -> pathlib.Path:
    path = tmp / "shop.db"
    with sqlite3.connect(path) as con:
        con.executescript((ROOT / "examples/sqlite/shop.sql").read_text())
    return path


def postgres_shop() -> tuple[str, str]:
    """A fresh database with the shop schema on the test server: its URL without the password,
    and the password (given to the server through password_env, as in production)."""
    admin = postgres_url()
    name = f"dbc_rest_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    parts = urlparse(admin)
    url = urlunparse(parts._replace(path=f"/{name}"))
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", str(ROOT / "examples/postgres/shop.sql")], check=True, capture_output=True)
    password = parts.password or ""
    netloc = f"{parts.username}@{parts.hostname}:{parts.port}"
    return urlunparse(parts._replace(netloc=netloc, path=f"/{name}")), password


# openapi-core reads application/json only; problem details are JSON too.
PROBLEM_JSON = Config(extra_media_type_deserializers={"application/problem+json": json.loads})

KEYS = {
    "ci": ["runner:qa"],
    "deployer": ["runner:*"],
    "alice": ["approver:qa,stage,prod"],
    "both": ["runner:qa", "approver:qa"],
    "vera": ["viewer"],
    "root": ["admin"],
}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("rest")
    db = shop(tmp)
    pg_url, pg_password = postgres_shop()
    (tmp / "targets.toml").write_text(
        f"""
[targets.shop_qa]
url = "sqlite://{db}"
environment = "qa"

[targets.shop_prod]
url = "sqlite://{db}"
environment = "prod"

[targets.shop_pg]
url = "{pg_url}"
environment = "stage"
password_env = "SHOP_PG_PASSWORD"
"""
    )
    env = {**os.environ, "SHOP_PG_PASSWORD": pg_password}
    env.pop("PGPASSWORD", None)
    store = str(tmp / "store.db")
    keys: dict[str, str] = {}
    for name, grants in KEYS.items():
        args = [binary(), "--store", store, "keys", "create", name] + [f"--grant={g}" for g in grants]
        keys[name] = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    process, base = start(tmp, store=store, env=env)
    spec = requests.get(base + "/api/v1/openapi.json", timeout=30).json()
    srv = Server(base=base, store=store, keys=keys, spec=spec, openapi=OpenAPI.from_dict(spec, config=PROBLEM_JSON), process=process, env=env)
    srv.tmp = tmp  # type: ignore[attr-defined]
    yield srv
    process.terminate()
    process.wait(timeout=30)


def problem(response: requests.Response, status: int, kind: str) -> dict[str, Any]:
    """The answer is problem details (RFC 9457) with this status and kind."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["kind"] == kind and body["type"] == f"urn:dbconsultant:problem:{kind}", body
    assert body["detail"] and body["title"], body
    return body


def dump(value: Any) -> str:
    return json.dumps(value, indent=1)[:2000]
