"""No credential comes back through `run_query` from the Python SDK, with a privileged login:
catalogs that hold credentials are refused, and a password hash that reaches a result anyway
(through a view, renamed, concatenated, aggregated, as JSON) is masked by its value."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.parse

import pytest

import dbconsultant

REFUSED = {
    "postgres": [
        "SELECT rolname, rolpassword FROM pg_authid",
        "SELECT string_agg(rolname || ':' || rolpassword, ',') FROM pg_catalog.pg_authid",
        "SELECT passwd FROM pg_shadow",
        "SELECT (SELECT rolpassword FROM pg_authid LIMIT 1) AS x",
    ],
    "mysql": [
        "SELECT User, authentication_string FROM mysql.user",
        "SELECT CONCAT(User, ':', authentication_string) AS x FROM `mysql`.`user`",
        "SELECT Priv FROM mysql.global_priv",
    ],
}
# A copy in an ordinary table hides where the values came from (masking by value catches
# them); a view is looked into and refused.
COPY = {
    "postgres": "CREATE TABLE accounts AS SELECT rolname AS who, rolpassword AS x FROM pg_authid WHERE rolpassword IS NOT NULL;"
    " CREATE VIEW account_view AS SELECT rolname AS who, rolpassword AS x FROM pg_authid",
    "mysql": "CREATE TABLE accounts AS SELECT User AS who, authentication_string AS x FROM mysql.user WHERE authentication_string LIKE '*%';"
    " CREATE VIEW account_view AS SELECT User AS who, authentication_string AS x FROM mysql.user",
}
MASKED = {
    "postgres": [
        "SELECT who, x FROM accounts",
        "SELECT who || ':' || x AS line FROM accounts",
        "SELECT json_agg(x) AS arr FROM accounts",
    ],
    "mysql": [
        "SELECT who, x FROM accounts",
        "SELECT CONCAT(who, ':', x) AS line FROM accounts",
        "SELECT JSON_ARRAYAGG(x) AS arr FROM accounts",
    ],
}
PLANTED = {
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "aws": "AKIAQWERTYUIOPASDFGH",
    "bcrypt": "$2b$12$KIXQJZ0N6a5Qv8p6aQ0ZEeF1YgV7o8sEwqR9m1qZ3P2u4hYcJtO1e",
}


def admin_sql(url: str, sql: str) -> str:
    """Run SQL on the test database with the test login (a privileged one)."""
    if url.startswith("postgres"):
        return subprocess.run(["psql", url, "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()
    parts = urllib.parse.urlsplit(url)
    args = ["mariadb", "--no-defaults", "-N", "-B", "-h", parts.hostname or "", "-P", str(parts.port), "-u", parts.username or "", f"-p{parts.password}", parts.path.lstrip("/")]
    return subprocess.run(args + ["-e", sql], check=True, capture_output=True, text=True).stdout.strip()


def test_credentials_never_come_back(agent, shop):
    dialect = shop.split(":")[0]
    if dialect == "sqlite":
        path = shop.removeprefix("sqlite://")
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE settings (name TEXT, value TEXT)")
            db.executemany("INSERT INTO settings VALUES (?, ?)", list(PLANTED.items()))
        secrets = list(PLANTED.values())
        queries = ["SELECT * FROM settings", "SELECT group_concat(name || ':' || value, ',') AS all_of_them FROM settings", "SELECT 'k=' || value AS note FROM settings"]
    else:
        admin_sql(shop, COPY[dialect])
        column = "rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL" if dialect == "postgres" else "authentication_string FROM mysql.user WHERE authentication_string LIKE '*%'"
        secrets = [s for s in admin_sql(shop, f"SELECT {column}").split() if s]
        assert secrets, "the test server has password hashes"
        for sql in REFUSED[dialect] + ["SELECT who, x FROM account_view"]:
            with pytest.raises(dbconsultant.InvalidInputError, match="holds credentials"):
                agent.run_query(shop, sql)
        queries = MASKED[dialect]
    for sql in queries:
        result = agent.run_query(shop, sql)
        assert result.rows, sql
        text = json.dumps(result.rows)
        assert "<masked" in text, f"{sql}: {text}"
        for secret in secrets:
            assert secret not in text, f"{sql} leaked {secret}"
