"""No credential reaches the model through `run_query`, driven by the official MCP client with a
privileged login on PostgreSQL and MariaDB, and on SQLite with credentials planted in ordinary
columns: catalogs that hold credentials are refused however they are named, and credentials
that reach a result anyway (through a view the guard cannot see into, renamed, concatenated,
aggregated, inside free text) are masked by their value. Every answer, the audit log and the
stored runs are then searched for the planted secrets."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import subprocess
from typing import Any

from conftest import Db, binary, call, mariadb_db, postgres_db, run, server, session

# Credentials planted in an ordinary SQLite table, each in a column with a harmless name.
PLANTED = {
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "aws": "AKIAQWERTYUIOPASDFGH",
    "bcrypt": "$2b$12$KIXQJZ0N6a5Qv8p6aQ0ZEeF1YgV7o8sEwqR9m1qZ3P2u4hYcJtO1e",
    "github": "ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbAz",
    "dsn_password": "Tr0ub4dor&3",
    "pem_body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
}

SQLITE_QUERIES = [
    "SELECT * FROM settings",
    "SELECT value AS v FROM settings",
    "SELECT group_concat(name || ':' || value, ',') AS everything FROM settings",
    "SELECT 'token is ' || value AS note FROM settings WHERE name = 'jwt'",
    "SELECT upper(value) AS loud FROM settings WHERE name = 'aws'",
    "SELECT value FROM settings WHERE name = 'dsn'",
    "SELECT value FROM settings WHERE name = 'pem'",
    "SELECT json_group_array(value) AS arr FROM settings",
]

PG_REFUSED = [
    "SELECT rolname, rolpassword FROM pg_authid",
    "SELECT rolpassword AS x FROM pg_catalog.pg_authid",
    "SELECT usename, passwd FROM pg_shadow",
    "SELECT string_agg(rolname || ':' || rolpassword, ',') FROM pg_authid",
    "WITH a AS (SELECT rolpassword FROM pg_authid) SELECT upper(rolpassword) FROM a",
    "SELECT (SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres')",
    "SELECT to_json(a) FROM pg_authid a",
    "SELECT * FROM pg_user_mappings",
    "SELECT subconninfo FROM pg_subscription",
    "SELECT length(x) FROM (SELECT rolpassword AS x FROM pg_authid) s",
    # A view is looked into (its definition, from the database), and so is a view of it.
    "SELECT who, x FROM account_view",
    "SELECT count(*) AS n FROM nested_view",
]
PG_MASKED = [
    "SELECT who, x FROM accounts",
    "SELECT x AS harmless FROM accounts WHERE x IS NOT NULL",
    "SELECT who || ':' || x AS line FROM accounts WHERE x IS NOT NULL",
    "SELECT string_agg(who || ':' || x, ',') AS all_of_them FROM accounts WHERE x IS NOT NULL",
    "SELECT 'stored as ' || x AS note FROM accounts WHERE x IS NOT NULL",
    "SELECT json_agg(x) AS arr FROM accounts WHERE x IS NOT NULL",
]

MY_REFUSED = [
    "SELECT User, authentication_string FROM mysql.user",
    "SELECT CONCAT(User, ':', authentication_string) FROM `mysql`.`user`",
    "SELECT Priv FROM mysql.global_priv",
    "SELECT * FROM (SELECT authentication_string AS a FROM mysql.user) t",
    "SELECT GROUP_CONCAT(authentication_string) FROM mysql.user",
    "SELECT Password FROM mysql.servers",
    "SELECT who, x FROM account_view",
    "SELECT COUNT(*) AS n FROM nested_view",
]
MY_MASKED = [
    "SELECT who, x FROM accounts",
    "SELECT CONCAT(who, ':', x) AS line FROM accounts",
    "SELECT GROUP_CONCAT(CONCAT(who, ':', x)) AS all_of_them FROM accounts",
    "SELECT LOWER(x) AS quiet FROM accounts",
    "SELECT JSON_ARRAYAGG(x) AS arr FROM accounts",
]


def planted_sqlite(tmp: pathlib.Path) -> Db:
    path = tmp / "vault.db"
    pem = "-----BEGIN PRIVATE KEY-----\n" + PLANTED["pem_body"] + "\n-----END PRIVATE KEY-----"
    rows = [
        ("jwt", PLANTED["jwt"]),
        ("aws", PLANTED["aws"]),
        ("bcrypt", PLANTED["bcrypt"]),
        ("github", PLANTED["github"]),
        ("dsn", f"postgres://app:{PLANTED['dsn_password']}@db.internal:5432/shop"),
        ("pem", pem),
        ("city", "Paris"),
    ]
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT)")
        con.executemany("INSERT INTO settings VALUES (?, ?)", rows)
    return Db("vault", "sqlite", f"sqlite://{path}", lambda: None, lambda q: "")


def stored_runs(store: pathlib.Path) -> str:
    out = subprocess.run([binary(), "--store", str(store), "runs", "list", "--format", "json"], capture_output=True, text=True)
    return out.stdout + out.stderr


def audit_log(store: pathlib.Path) -> str:
    out = subprocess.run([binary(), "--store", str(store), "audit", "list", "--limit", "1000", "--format", "json"], capture_output=True, text=True, check=True)
    return out.stdout


def exercise(db: Db, store: pathlib.Path, refused: list[str], masked: list[str]) -> str:
    """Run the queries; return everything the model saw."""
    seen: list[Any] = []

    async def go() -> None:
        async with session(server([db], store, "--calls-per-minute", "0")) as s:
            for sql in refused:
                err, out = await call(s, "run_query", {"sql": sql, "database": db.name})
                assert err and out.startswith("refused:") and "holds credentials" in out, f"{db.dialect}: {sql} -> {out}"
                seen.append(out)
            for sql in masked:
                err, out = await call(s, "run_query", {"sql": sql, "database": db.name})
                assert not err, f"{db.dialect}: {sql} -> {out}"
                assert out["rows"], f"{db.dialect}: {sql} returned nothing"
                assert "<masked:" in json.dumps(out), f"{db.dialect}: {sql} -> {out}"
                seen.append(out)

    run(go())
    return json.dumps(seen)


def assert_nowhere(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text and secret.lower() not in text.lower(), f"{secret} leaked"


def test_credentials_planted_in_ordinary_columns_are_masked(tmp_path: pathlib.Path, store: pathlib.Path) -> None:
    db = planted_sqlite(tmp_path)
    seen = exercise(db, store, [], SQLITE_QUERIES)
    assert "Paris" in seen, "ordinary values are not masked"
    assert_nowhere(list(PLANTED.values()), seen, audit_log(store), stored_runs(store))


def test_postgres_password_verifiers_never_reach_the_model(store: pathlib.Path) -> None:
    db = postgres_db()
    # A copy in an ordinary table hides where the values came from: masking by value catches them.
    db.sql("CREATE TABLE accounts AS SELECT rolname AS who, rolpassword AS x FROM pg_authid")
    db.sql("CREATE VIEW account_view AS SELECT rolname AS who, rolpassword AS x FROM pg_authid")
    db.sql("CREATE VIEW nested_view AS SELECT who FROM account_view")
    verifier = db.sql("SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
    assert verifier.startswith("SCRAM-SHA-256$")
    parts = verifier.replace(":", "$").split("$")[2:]
    seen = exercise(db, store, PG_REFUSED, PG_MASKED)
    assert_nowhere([verifier, *parts], seen, audit_log(store), stored_runs(store))


def test_mariadb_password_hashes_never_reach_the_model(store: pathlib.Path) -> None:
    db = mariadb_db()
    db.sql("CREATE TABLE accounts AS SELECT User AS who, authentication_string AS x FROM mysql.user WHERE authentication_string <> ''")
    db.sql("CREATE VIEW account_view AS SELECT User AS who, authentication_string AS x FROM mysql.user")
    db.sql("CREATE VIEW nested_view AS SELECT who FROM account_view")
    hashes = [h for h in db.sql("SELECT authentication_string FROM mysql.user WHERE authentication_string LIKE '*%'").split() if h]
    assert hashes, "the test server has native password hashes"
    seen = exercise(db, store, MY_REFUSED, MY_MASKED)
    assert_nowhere(hashes + [h[1:] for h in hashes], seen, audit_log(store), stored_runs(store))
    assert len(SQLITE_QUERIES) + len(PG_REFUSED) + len(PG_MASKED) + len(MY_REFUSED) + len(MY_MASKED) >= 35
