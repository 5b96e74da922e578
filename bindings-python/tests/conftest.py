"""Fixtures: the example shop database on SQLite, PostgreSQL and MariaDB (servers started by
scripts/test.sh), and a DatabaseConsultant with its own store."""

from __future__ import annotations

import os
import pathlib
import sqlite3
import subprocess
import urllib.parse
import uuid

import pytest

import dbconsultant

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MIGRATIONS = EXAMPLES / "migrations"


@pytest.fixture
def agent(tmp_path: pathlib.Path) -> dbconsultant.DatabaseConsultant:
    return dbconsultant.DatabaseConsultant(store=tmp_path / "store.db")


@pytest.fixture
def sqlite_shop(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript((EXAMPLES / "sqlite" / "shop.sql").read_text())
    return f"sqlite://{path}"


def server_url(var: str) -> str:
    url = os.environ.get(var)
    if url:
        return url
    if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS"):
        pytest.skip(f"{var} unset and DBCONSULTANT_SKIP_SERVER_TESTS set")
    pytest.fail(f"{var} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)")


def _fresh_database(admin: str, dialect: str) -> str:
    """A new database on the server, filled with the example shop; returns its URL."""
    name = f"dbc_py_{uuid.uuid4().hex[:10]}"
    parts = urllib.parse.urlsplit(admin)
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    sql = (EXAMPLES / dialect / "shop.sql").read_text()
    if dialect == "postgres":
        subprocess.run(["psql", admin, "-qtAc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=sql, text=True, check=True, capture_output=True)
    else:
        args = ["mariadb", "--no-defaults", "-h", parts.hostname, "-P", str(parts.port), "-u", parts.username, f"-p{parts.password}"]
        subprocess.run(args + ["-e", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        subprocess.run(args + [name], input=sql, text=True, check=True, capture_output=True)
    return url


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """The example shop on each dialect."""
    if request.param == "sqlite":
        path = tmp_path / "shop.db"
        with sqlite3.connect(path) as db:
            db.executescript((EXAMPLES / "sqlite" / "shop.sql").read_text())
        return f"sqlite://{path}"
    var = "DBCONSULTANT_TEST_POSTGRES_URL" if request.param == "postgres" else "DBCONSULTANT_TEST_MYSQL_URL"
    return _fresh_database(server_url(var), request.param)


def validate_kwargs(url: str) -> dict:
    """MySQL/MariaDB need a scratch database for the sandbox."""
    return {"config": {"sandbox": {"allow_scratch_on_target": True}}} if url.startswith("mysql") else {}
