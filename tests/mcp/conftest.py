"""Shared fixtures of the MCP tests: the dbconsultant binary, the shop database on SQLite,
PostgreSQL and MariaDB (fresh databases on the test servers), and an independent view of
each one (objects and a checksum of every table, read with sqlite3 / psql / mariadb, not
through dbconsultant) to prove nothing changed.

The servers come from scripts/servers.sh (DBCONSULTANT_TEST_POSTGRES_URL /
DBCONSULTANT_TEST_MYSQL_URL). Without them the tests fail; DBCONSULTANT_SKIP_SERVER_TESTS=1
skips them on a developer machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import pathlib
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlparse

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary() -> str:
    path = os.environ.get("DBCONSULTANT_BIN") or str(ROOT / "target" / "debug" / "dbconsultant")
    assert os.path.exists(path), f"{path} is missing: cargo build -p dbconsultant-cli"
    return path


@dataclass
class Db:
    name: str
    dialect: str
    url: str
    snapshot: Callable[[], Any]
    sql: Callable[[str], str]


def server_url(var: str) -> str | None:
    url = os.environ.get(var)
    if not url:
        if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS") == "1":
            pytest.skip(f"{var} not set and DBCONSULTANT_SKIP_SERVER_TESTS=1")
        pytest.fail(f"{var} is not set: run scripts/test.sh, which starts the servers")
    return url


def sqlite_db(tmp: pathlib.Path) -> Db:
    path = tmp / "shop.db"
    with sqlite3.connect(path) as con:
        con.executescript((ROOT / "examples/sqlite/shop.sql").read_text())

    def snapshot() -> Any:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            objects = sorted(con.execute("SELECT type, name, sql FROM sqlite_schema").fetchall(), key=repr)
            tables = [r[1] for r in objects if r[0] == "table" and not r[1].startswith("sqlite_")]
            digests = {t: hashlib.md5(repr(sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)).encode()).hexdigest() for t in tables}
        return objects, digests, hashlib.md5(path.read_bytes()).hexdigest()

    def sql(q: str) -> str:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            return "\n".join("|".join(str(v) for v in row) for row in con.execute(q).fetchall())

    return Db("lite", "sqlite", f"sqlite://{path}", snapshot, sql)


def psql(url: str, q: str) -> str:
    out = subprocess.run(["psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", q], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def postgres_db() -> Db:
    admin = server_url("DBCONSULTANT_TEST_POSTGRES_URL")
    assert admin
    name = f"mcp_{uuid.uuid4().hex[:8]}"
    psql(admin, f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    out = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(ROOT / "examples/postgres/shop.sql")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr

    def snapshot() -> Any:
        objects = psql(url, "SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')")
        functions = psql(url, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'")
        roles = psql(url, "SELECT string_agg(rolname || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles")
        tables = psql(url, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'").split(",")
        digests = {t: psql(url, f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x") for t in tables}
        return objects, functions, roles, digests

    return Db("pg", "postgres", url, snapshot, lambda q: psql(url, q))


def mariadb_args(url: str) -> list[str]:
    u = urlparse(url)
    return ["mariadb", "-h", u.hostname or "127.0.0.1", "-P", str(u.port), "-u", u.username or "root", f"-p{u.password}", "-N", "-B"]


def mariadb(url: str, q: str, database: str | None = None) -> str:
    args = mariadb_args(url) + ([database] if database else []) + ["-e", q]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def mariadb_db() -> Db:
    admin = server_url("DBCONSULTANT_TEST_MYSQL_URL")
    assert admin
    name = f"mcp_{uuid.uuid4().hex[:8]}"
    mariadb(admin, f"CREATE DATABASE {name}")
    out = subprocess.run(mariadb_args(admin) + [name], input=(ROOT / "examples/mysql/shop.sql").read_text(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    url = admin.rsplit("/", 1)[0] + "/" + name

    def snapshot() -> Any:
        objects = mariadb(admin, f"SELECT GROUP_CONCAT(CONCAT(table_name, ':', table_type) ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{name}'")
        indexes = mariadb(admin, f"SELECT GROUP_CONCAT(CONCAT(table_name, '.', index_name, '.', column_name) ORDER BY 1) FROM information_schema.statistics WHERE table_schema = '{name}'")
        routines = mariadb(admin, f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '{name}'")
        databases = mariadb(admin, "SELECT GROUP_CONCAT(schema_name ORDER BY 1) FROM information_schema.schemata")
        tables = mariadb(admin, f"SELECT GROUP_CONCAT(table_name ORDER BY 1) FROM information_schema.tables WHERE table_schema = '{name}' AND table_type = 'BASE TABLE'").split(",")
        digests = mariadb(admin, "CHECKSUM TABLE " + ", ".join(f"`{name}`.`{t}`" for t in tables) + " EXTENDED")
        return objects, indexes, routines, databases, digests

    return Db("maria", "mysql", url, snapshot, lambda q: mariadb(admin, q, name))


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> list[Db]:
    return [sqlite_db(tmp_path_factory.mktemp("lite")), postgres_db(), mariadb_db()]


@pytest.fixture
def store(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "store.db"


def server(dbs: list[Db], store: pathlib.Path, *extra: str) -> StdioServerParameters:
    args = ["--store", str(store), "mcp"]
    for d in dbs:
        args += ["--db", f"{d.name}={d.url}"]
    return StdioServerParameters(command=binary(), args=[*args, *extra], env={**os.environ, "RUST_LOG": "warn"})


@contextlib.asynccontextmanager
async def session(params: StdioServerParameters) -> AsyncIterator[ClientSession]:
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            yield s


async def call(s: ClientSession, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """(is_error, structured result or error text)."""
    result = await s.call_tool(tool, args)
    text = result.content[0].text if result.content else ""
    if result.is_error:
        return True, text
    return False, result.structured_content if result.structured_content is not None else json.loads(text)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
