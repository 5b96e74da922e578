"""`dbconsultant mcp` driven by the official Python MCP client (ClientSession + stdio_client)
against the shop database on SQLite, PostgreSQL and MariaDB at once: every tool, its
annotations, limits, the audit log, and the hostile-input suite."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest

from conftest import ROOT, Db, binary, call, run, server, server_url, session
from mcp import ClientSession
from mcp.client.stdio import stdio_client

# The tools come from the operation registry: every operation it declares as an assistant tool.
REGISTRY = json.loads(subprocess.run([binary(), "registry"], check=True, capture_output=True, text=True).stdout)
TOOL_OPS = {op["assistant"]["tool"]: op for op in REGISTRY["operations"] if "tool" in op["assistant"]}
READ_ONLY_TOOLS = {name for name, op in TOOL_OPS.items() if op["assistant"]["read_only"]}
WRITING_TOOLS = set(TOOL_OPS) - READ_ONLY_TOOLS
ARGUMENT = {"database_url": "database", "source_url": "source", "target_url": "target"}


def test_tools_are_listed_with_schemas_and_hints(databases: list[Db], store: pathlib.Path) -> None:
    async def go() -> None:
        async with session(server(databases, store)) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == READ_ONLY_TOOLS, "read-only mode offers no validate_migration"
            assert not any("approve" in n or "reject" in n for n in tools), "approval stays with humans"
            for name in ("list_schemas", "list_tables", "describe_table", "run_query", "explain_query", "get_test_run", "list_test_runs"):
                assert tools[name].annotations.read_only_hint is True, name
            for t in tools.values():
                assert t.annotations.destructive_hint is False, t.name
                assert t.description and len(t.description) > 60, t.name
                assert t.input_schema["additionalProperties"] is False
            rq = tools["run_query"].input_schema
            assert rq["required"] == ["database", "sql"]  # three databases: name one
            assert rq["properties"]["database"]["enum"] == ["lite", "pg", "maria"]
            for name, op in TOOL_OPS.items():
                if name in tools:
                    expected = {ARGUMENT.get(f, f) for f in op["assistant"]["fields"]}
                    assert set(tools[name].input_schema["properties"]) == expected, name
                    assert tools[name].description == op["description"], name
            assert {"validate_migration"} <= WRITING_TOOLS
            absent = {op["name"] for op in REGISTRY["operations"] if "absent" in op["assistant"]}
            assert {"approve_test_run", "reject_test_run"} <= absent
        async with session(server(databases, store, "--mode", "sandbox")) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert names == READ_ONLY_TOOLS | WRITING_TOOLS

    run(go())


@pytest.mark.parametrize("db_index", [0, 1, 2], ids=["sqlite", "postgres", "mariadb"])
def test_every_tool_on_each_database(databases: list[Db], store: pathlib.Path, db_index: int) -> None:
    db = databases[db_index]
    before = db.snapshot()

    async def go() -> None:
        async with session(server(databases, store, "--mode", "sandbox", "--sandbox-on-target", "--max-rows", "100")) as s:
            d = {"database": db.name}
            err, schemas = await call(s, "list_schemas", d)
            assert not err, schemas
            default = {"sqlite": "main", "postgres": "public"}.get(db.dialect, db.url.rsplit("/", 1)[1])
            assert {"name": default, "tables": 5, "views": 1} in schemas["schemas"], schemas

            err, tables = await call(s, "list_tables", d)
            assert not err, tables
            by_name = {t["name"]: t for t in tables["tables"]}
            assert {"customers", "orders", "order_items", "products", "legacy_coupons", "paid_orders"} <= set(by_name)
            assert by_name["paid_orders"]["kind"] == "view" and by_name["orders"]["columns"] == 5

            err, orders = await call(s, "describe_table", {**d, "table": "orders"})
            assert not err, orders
            assert orders["primary_key"] == ["id"]
            assert [c["name"] for c in orders["columns"]] == ["id", "customer_id", "status", "total", "placed_at"]
            assert any(i["columns"] == ["customer_id"] for i in orders["indexes"]), orders["indexes"]
            assert "order_items(order_id)" in orders["referenced_by"]
            assert any("status" in c["expression"] for c in orders["check_constraints"]), orders["check_constraints"]
            err, missing = await call(s, "describe_table", {**d, "table": "ordrs"})
            assert err and "no table named 'ordrs'" in missing and "orders" in missing

            # Row cap: `truncated` is exact — true with one row fewer than the query has.
            total = int(db.sql("SELECT count(*) FROM orders"))
            err, capped = await call(s, "run_query", {**d, "sql": "SELECT id FROM orders ORDER BY id", "max_rows": total - 1})
            assert not err and capped["truncated"] is True and capped["row_count"] == total - 1
            assert [r["id"] for r in capped["rows"]] == list(range(1, total))
            err, exact = await call(s, "run_query", {**d, "sql": "SELECT id FROM orders ORDER BY id", "max_rows": total})
            assert not err and exact["truncated"] is False and exact["row_count"] == total

            # Sensitive columns come back masked.
            err, customers = await call(s, "run_query", {**d, "sql": "SELECT id, email, phone, full_name FROM customers ORDER BY id"})
            assert not err, customers
            assert "email" in customers["masked_columns"] and "phone" in customers["masked_columns"]
            assert "ada@example.com" not in json.dumps(customers)
            assert customers["rows"][0]["full_name"] == "Ada Lovelace"

            err, refused = await call(s, "run_query", {**d, "sql": "DELETE FROM orders"})
            assert err and refused.startswith("refused:"), refused

            err, plan = await call(s, "explain_query", {**d, "sql": "SELECT * FROM orders WHERE customer_id = 3"})
            assert not err and plan["root"]["node_type"], plan
            err, write_plan = await call(s, "explain_query", {**d, "sql": "UPDATE orders SET total = 0 WHERE id = 1"})
            assert not err, write_plan
            err, analyzed_write = await call(s, "explain_query", {**d, "sql": "UPDATE orders SET total = 0 WHERE id = 1", "analyze": True})
            assert err and "refused" in analyzed_write

            err, migration = await call(s, "validate_migration", {**d, "migration_sql": "CREATE INDEX idx_orders_status ON orders (status);", "migration_name": "001_status.sql"})
            assert not err, migration
            assert migration["kind"] == "schema" and migration["status"] in ("passed", "pending_approval"), migration["status"]
            err, unsafe = await call(s, "validate_migration", {**d, "migration_sql": "DROP TABLE legacy_coupons;"})
            assert not err and unsafe["risk_score"] > migration["risk_score"], unsafe["risk_score"]

            rule = {"table": "orders", "column": "customer_id", "type": "implied_fk", "references": "customers", "referenced_columns": ["id"]}
            err, integrity = await call(s, "check_integrity", {**d, "tables": ["orders"], "rules": [rule]})
            assert not err, integrity
            implied = [r for r in integrity["integrity_results"] if r["integrity_type"] == "user_rule" or "customer_id" in json.dumps(r)]
            assert any(r["failure_count"] == 2 for r in implied), integrity["integrity_results"]

            err, etl = await call(s, "validate_etl", {"source": db.name, "target": db.name, "source_table": "products", "target_table": "products"})
            assert not err, etl
            assert etl["etl_results"][0]["checksum_match"] is True and etl["status"] == "passed"

            err, perf = await call(s, "profile_performance", {**d, "queries": ["SELECT * FROM orders WHERE status = 'paid'"] * 6, "runs": 1})
            assert not err, perf
            assert perf["kind"] == "performance"
            assert any(f["rule"] == "n-plus-one" for f in perf["findings"]), perf["findings"]
            err, perf_refused = await call(s, "profile_performance", {**d, "queries": ["SELECT pg_sleep(10)"]})
            assert err and "refused" in perf_refused

            err, got = await call(s, "get_test_run", {"test_run_id": migration["test_run_id"]})
            assert not err and got["test_run_id"] == migration["test_run_id"]
            err, runs = await call(s, "list_test_runs", {"kind": "schema"})
            assert not err and {migration["test_run_id"], unsafe["test_run_id"]} <= {r["test_run_id"] for r in runs["runs"]}
            err, approve = await call(s, "approve_test_run", {"test_run_id": migration["test_run_id"]})
            assert err and "no tool named" in approve

    run(go())
    assert db.snapshot() == before, f"{db.dialect}: objects or rows changed"


def test_reconcile_across_dialects(databases: list[Db], store: pathlib.Path) -> None:
    async def go() -> None:
        async with session(server(databases, store)) as s:
            for source, target in (("lite", "pg"), ("pg", "maria"), ("maria", "lite")):
                err, etl = await call(s, "validate_etl", {"source": source, "target": target, "source_table": "products"})
                assert not err, etl
                assert etl["etl_results"][0]["checksum_match"] is True, (source, target, etl["etl_results"][0])
            err, refused = await call(s, "validate_etl", {"source": "pg", "target": "lite", "source_table": "orders", "where": "1=1) OR (pg_sleep(10) IS NULL"})
            assert err and "refused" in refused, refused
            err, url = await call(s, "validate_etl", {"source": "postgres://evil@example.com/x", "target": "lite", "source_table": "orders"})
            assert err and "no database named" in url

    run(go())


def test_limits_come_back_as_tool_errors(databases: list[Db], store: pathlib.Path) -> None:
    pg = [databases[1]]

    async def go() -> None:
        async with session(server(pg, store, "--timeout-ms", "1500", "--calls-per-minute", "0", "--max-response-bytes", "2048")) as s:
            started = time.monotonic()
            err, slow = await call(s, "run_query", {"sql": "SELECT count(*) FROM generate_series(1, 2000000000)"})
            assert err and ("1500 ms" in slow or "statement timeout" in slow), slow
            assert time.monotonic() - started < 10
            err, wide = await call(s, "run_query", {"sql": "SELECT g AS n, repeat('x', 100) AS pad FROM generate_series(1, 200) g"})
            assert not err and wide["truncated"] is True and 0 < wide["row_count"] < 200, wide.get("row_count")
            assert "truncated_reason" in wide
            err, bad = await call(s, "run_query", {"sql": 42})
            assert err and "run_query" in bad
            err, ok = await call(s, "run_query", {"sql": "SELECT 1 AS one"})
            assert not err and ok["rows"] == [{"one": 1}], "the server survives every error"
        # SQLite has no server to stop a runaway query: the driver interrupts it, so the
        # connections are free again for the next calls.
        async with session(server([databases[0]], store, "--timeout-ms", "1000", "--calls-per-minute", "0")) as s:
            endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
            for _ in range(3):  # more than the pool's connections
                err, out = await call(s, "run_query", {"sql": endless})
                assert err and "1000 ms" in out, out
            started = time.monotonic()
            err, ok = await call(s, "run_query", {"sql": "SELECT 1 AS one"})
            assert not err and time.monotonic() - started < 0.5, "a connection is free again"
        async with session(server(pg, store, "--calls-per-minute", "3")) as s:
            results = [await call(s, "list_schemas", {}) for _ in range(4)]
            assert [e for e, _ in results] == [False, False, False, True]
            assert "rate limit" in results[3][1]

    run(go())


def audit_events(store: pathlib.Path) -> list[dict[str, Any]]:
    out = subprocess.run([binary(), "--store", str(store), "audit", "list", "--event", "tool_call", "--limit", "1000", "--format", "json"], capture_output=True, text=True, check=True)
    return [{**e, "details": json.loads(e["details"])} for e in json.loads(out.stdout)]


def test_every_call_is_audited_with_redacted_arguments(databases: list[Db], store: pathlib.Path) -> None:
    lite = [databases[0]]

    async def go() -> None:
        async with session(server(lite, store)) as s:
            await call(s, "run_query", {"sql": "SELECT * FROM customers WHERE email = 'ada@example.com'"})
            await call(s, "run_query", {"sql": "DROP TABLE customers"})
            await call(s, "check_integrity", {"rules": [{"table": "orders", "column": "status", "type": "accepted_values", "values": ["paid", "top-secret-status"]}]})
            await call(s, "describe_table", {"table": "nope"})

    run(go())
    events = audit_events(store)
    assert len(events) == 4
    by_tool = [(e["details"]["tool"], e["details"]["outcome"]) for e in reversed(events)]
    assert by_tool == [("run_query", "ok"), ("run_query", "refused"), ("check_integrity", "ok"), ("describe_table", "error")]
    text = json.dumps(events)
    assert "ada@example.com" not in text and "top-secret-status" not in text, text
    first = events[-1]
    assert first["actor"].startswith("mcp:") and first["test_run_id"] is None
    assert "customers" in first["details"]["arguments"]["sql"] and first["details"]["duration_ms"] >= 0
    assert "no table named" in events[0]["details"]["error"]
    out = subprocess.run([binary(), "--store", str(store), "audit", "list"], capture_output=True, text=True, check=True)
    assert "tool_call" in out.stdout and "describe_table" in out.stdout


# Escapes known to have broken other servers (shared with core/tests/guard.rs).
MUST_REFUSE: list[str] = json.loads((ROOT / "tests/fixtures/must_refuse.json").read_text())


def hostile_inputs() -> list[str]:
    inputs: list[str] = json.loads((ROOT / "tests/fixtures/hostile_queries.json").read_text())
    inputs.append("SELECT " + "(" * 5000 + "1" + ")" * 5000)
    inputs.append("SELECT 1" + " + 1" * 20000)
    inputs.append("SELECT 1" + " + 1" * 16000)  # just under the 64 KB limit: parsed, a 16,000-deep tree
    inputs.append("SELECT " + "-" * 60000 + "1")
    inputs.append("SELECT * FROM orders WHERE id IN (" + ",".join(str(i) for i in range(30000)) + ")")
    return inputs


@pytest.mark.parametrize("db_index", [0, 1, 2], ids=["sqlite", "postgres", "mariadb"])
def test_hostile_inputs_are_refused_or_harmless(databases: list[Db], store: pathlib.Path, db_index: int) -> None:
    db = databases[db_index]
    before = db.snapshot()
    inputs = hostile_inputs()
    counts = {"refused": 0, "error": 0, "ran": 0}

    async def go() -> None:
        async with session(server([db], store, "--calls-per-minute", "0", "--timeout-ms", "5000")) as s:
            for sql in inputs:
                err, out = await call(s, "run_query", {"sql": sql, "max_rows": 5})
                counts["refused" if err and out.startswith("refused:") else "error" if err else "ran"] += 1
            for sql in MUST_REFUSE:
                err, out = await call(s, "run_query", {"sql": sql})
                assert err and out.startswith("refused:"), f"{db.dialect}: {sql} -> {out}"
            err, ok = await call(s, "run_query", {"sql": "SELECT count(*) AS n FROM orders"})
            assert not err and ok["rows"][0]["n"] == 5, "the server still answers"

    run(go())
    print(f"\n{db.dialect}: {len(inputs)} hostile inputs tried through run_query: {counts['refused']} refused, "
          f"{counts['error']} failed in the database, {counts['ran']} ran harmlessly")
    assert len(inputs) >= 100
    assert counts["refused"] >= 120, counts
    assert db.snapshot() == before, f"{db.dialect}: objects or rows changed"
    assert not pathlib.Path("/tmp/pwn.db").exists()


def test_raw_invalid_utf8_does_not_crash_the_server(databases: list[Db], store: pathlib.Path) -> None:
    """Bytes no client library would send: the server drops the line and keeps serving."""
    db = databases[0]
    proc = subprocess.Popen([binary(), "--store", str(store), "mcp", "--db", db.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin and proc.stdout

    def send(raw: bytes) -> None:
        assert proc.stdin
        proc.stdin.write(raw + b"\n")
        proc.stdin.flush()

    def reply(expected_id: int) -> dict[str, Any]:
        assert proc.stdout
        while True:
            line = proc.stdout.readline()
            assert line, "the server exited"
            msg = json.loads(line)
            if msg.get("id") == expected_id:
                return msg

    try:
        send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}).encode())
        reply(1)
        send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        send(b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_query","arguments":{"sql":"SELECT \'\xff\xfe\' AS x"}}}')
        send(b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"run_query","arguments":{"sql":"SELECT \'\\udcff\' AS x"}}}')
        send(json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "run_query", "arguments": {"sql": "SELECT 7 AS seven"}}}).encode())
        answer = reply(4)
        assert answer["result"]["structuredContent"]["rows"] == [{"seven": 7}]
    finally:
        proc.kill()
        proc.wait()


def test_urls_and_passwords_never_reach_the_model(databases: list[Db], store: pathlib.Path) -> None:
    params = server(databases[:1], store, "--db", "down=postgres://app:S3cretPw@127.0.0.1:1/shop")

    async def go() -> None:
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as s:
                init = await s.initialize()
                tools = await s.list_tools()
                seen = json.dumps(init.model_dump(mode="json")) + json.dumps([t.model_dump(mode="json") for t in tools.tools])
                assert "S3cretPw" not in seen and "127.0.0.1:1" not in seen and "down (postgres)" in (init.instructions or "")
                err, message = await call(s, "list_tables", {"database": "down"})
                assert err and "S3cretPw" not in message and "cannot connect" in message, message

    run(go())
    assert "S3cretPw" not in json.dumps(audit_events(store))


def test_a_database_over_verified_tls_with_the_password_in_the_environment(databases: list[Db], store: pathlib.Path) -> None:
    """The MCP server reaches PostgreSQL over verify-full (the test CA, the host name the
    certificate lists) with the password from PGPASSWORD, not its configuration."""
    pg = urlparse(databases[1].url)
    password = pg.password or ""
    ca = pathlib.Path(server_url("DBCONSULTANT_TEST_TLS_DIR") or "") / "ca.crt"
    url = f"postgres://{pg.username}@localhost:{pg.port}{pg.path}?sslmode=verify-full&sslrootcert={ca}"
    params = server([], store, "--db", f"tls={url}")
    params.env = {**(params.env or {}), "PGPASSWORD": password}

    async def go() -> None:
        async with session(params) as s:
            err, result = await call(s, "run_query", {"database": "tls", "sql": "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"})
            assert not err, result
            assert result["rows"][0]["ssl"] is True and result["rows"][0]["version"].startswith("TLS"), result
            err, tables = await call(s, "list_tables", {"database": "tls"})
            assert not err and any(t["name"] == "orders" for t in tables["tables"]), tables

    run(go())
    assert password not in json.dumps(audit_events(store))


def test_streamable_http_on_loopback_with_a_token(databases: list[Db], store: pathlib.Path) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    db = databases[0]
    proc = subprocess.Popen([binary(), "--store", str(store), "mcp", "--db", f"lite={db.url}", "--http", "127.0.0.1:0"],
                            env={**os.environ, "DBCONSULTANT_MCP_TOKEN": "t0ken"}, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr
        line = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].strip()

        async def go() -> None:
            async with httpx2.AsyncClient(headers={"Authorization": "Bearer t0ken"}) as http:
                async with streamable_http_client(url, http_client=http) as streams:
                    async with ClientSession(streams[0], streams[1]) as s:
                        await s.initialize()
                        assert {t.name for t in (await s.list_tools()).tools} == READ_ONLY_TOOLS
                        err, rows = await call(s, "run_query", {"sql": "SELECT count(*) AS n FROM orders"})
                        assert not err and rows["rows"] == [{"n": 5}]
                        err, refused = await call(s, "run_query", {"sql": "DELETE FROM orders"})
                        assert err and refused.startswith("refused:")
            async with httpx2.AsyncClient() as http:
                assert (await http.post(url, json={})).status_code == 401, "no token"
                wrong = {"Authorization": "Bearer nope"}
                assert (await http.post(url, json={}, headers=wrong)).status_code == 401
                assert (await http.post(url.replace("/mcp", "/other"), json={}, headers={"Authorization": "Bearer t0ken"})).status_code == 404
                rebinding = {"Authorization": "Bearer t0ken", "Host": "evil.example.com"}
                assert (await http.post(url, json={}, headers=rebinding)).status_code in (400, 403), "Host must be loopback"

        run(go())
    finally:
        proc.kill()
        proc.wait()
    out = subprocess.run([binary(), "mcp", "--db", db.url, "--http", "0.0.0.0:0"], capture_output=True, text=True)
    assert out.returncode == 3 and "loopback" in out.stderr


def test_table_schemas_are_resources(databases: list[Db], store: pathlib.Path) -> None:
    async def go() -> None:
        async with session(server(databases, store)) as s:
            uris = {str(r.uri) for r in (await s.list_resources()).resources}
            for db in ("lite", "pg", "maria"):
                assert f"dbconsultant://{db}/tables/orders" in uris, uris
            assert not any(u.endswith("/paid_orders") for u in uris), "views are not table resources"
            read = await s.read_resource("dbconsultant://pg/tables/orders")
            doc = json.loads(read.contents[0].text)
            assert doc["primary_key"] == ["id"] and read.contents[0].mime_type == "application/json"
            with pytest.raises(Exception, match="no table named"):
                await s.read_resource("dbconsultant://pg/tables/nope")

    run(go())
    assert any(e["details"]["tool"] == "describe_table" for e in audit_events(store)), "resource reads are audited"


def test_the_recommended_least_privilege_roles_are_enough(databases: list[Db], store: pathlib.Path) -> None:
    """The README recommends SELECT-only logins; every read tool must work with them."""
    from urllib.parse import urlparse

    from conftest import mariadb, psql

    pg, maria = databases[1], databases[2]
    role = f"assistant_{uuid.uuid4().hex[:6]}"
    pg_db = pg.url.rsplit("/", 1)[1]
    psql(pg.url, f"CREATE ROLE {role} LOGIN PASSWORD 'pw'; GRANT CONNECT ON DATABASE {pg_db} TO {role}; "
                 f"GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};")
    u = urlparse(pg.url)
    pg_ro = f"postgres://{role}:pw@{u.hostname}:{u.port}/{pg_db}"
    admin = os.environ["DBCONSULTANT_TEST_MYSQL_URL"]
    my_db = maria.url.rsplit("/", 1)[1]
    mariadb(admin, f"CREATE USER '{role}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON `{my_db}`.* TO '{role}'@'%';")
    m = urlparse(maria.url)
    my_ro = f"mysql://{role}:pw@{m.hostname}:{m.port}/{my_db}"
    ro = [Db("pg_ro", "postgres", pg_ro, pg.snapshot, pg.sql), Db("maria_ro", "mysql", my_ro, maria.snapshot, maria.sql)]

    async def go() -> None:
        async with session(server(ro, store)) as s:
            for db in ro:
                d = {"database": db.name}
                err, tables = await call(s, "list_tables", d)
                assert not err and "orders" in {t["name"] for t in tables["tables"]}, tables
                err, orders = await call(s, "describe_table", {**d, "table": "orders"})
                assert not err and orders["primary_key"] == ["id"] and "order_items(order_id)" in orders["referenced_by"], orders
                err, rows = await call(s, "run_query", {**d, "sql": "SELECT count(*) AS n FROM orders"})
                assert not err and rows["rows"] == [{"n": 5}]
                err, plan = await call(s, "explain_query", {**d, "sql": "SELECT * FROM orders WHERE customer_id = 3", "analyze": True})
                assert not err, plan
                err, integrity = await call(s, "check_integrity", d)
                assert not err and integrity["kind"] == "integrity", integrity
            err, etl = await call(s, "validate_etl", {"source": "pg_ro", "target": "maria_ro", "source_table": "products"})
            assert not err and etl["etl_results"][0]["checksum_match"] is True, etl

    run(go())


def test_other_schemas_are_listed_and_described(databases: list[Db], store: pathlib.Path) -> None:
    from conftest import mariadb, psql

    pg, maria = databases[1], databases[2]
    schema = f"audit_{uuid.uuid4().hex[:6]}"
    psql(pg.url, f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.events (id int PRIMARY KEY, kind text NOT NULL); "
                 f"CREATE TABLE {schema}.notes (id int PRIMARY KEY, event_id int REFERENCES {schema}.events (id)); "
                 f"INSERT INTO {schema}.events VALUES (1, 'login'), (2, 'logout');")
    admin = os.environ["DBCONSULTANT_TEST_MYSQL_URL"]
    mariadb(admin, f"CREATE DATABASE {schema}; CREATE TABLE {schema}.events (id INT PRIMARY KEY, kind VARCHAR(20) NOT NULL);")

    async def go() -> None:
        async with session(server([pg, maria], store)) as s:
            for db, default in ((pg, "public"), (maria, maria.url.rsplit("/", 1)[1])):
                d = {"database": db.name}
                err, schemas = await call(s, "list_schemas", d)
                names = {x["name"]: x for x in schemas["schemas"]}
                assert names[default]["tables"] == 5 and schema in names, names
                err, tables = await call(s, "list_tables", {**d, "schema": schema})
                assert not err and f"{schema}.events" in [t["name"] for t in tables["tables"]], tables
                assert all(t["schema"] == schema for t in tables["tables"])
                err, events = await call(s, "describe_table", {**d, "table": f"{schema}.events"})
                assert not err and events["name"] == f"{schema}.events" and events["primary_key"] == ["id"], events
                err, missing = await call(s, "list_tables", {**d, "schema": "no_such_schema"})
                assert err and "no schema named 'no_such_schema'" in missing, missing
            err, notes = await call(s, "describe_table", {"database": "pg", "table": f"{schema}.events"})
            assert notes["referenced_by"] == [f"{schema}.notes(event_id)"], notes
            err, rows = await call(s, "run_query", {"database": "pg", "sql": f"SELECT kind FROM {schema}.events ORDER BY id"})
            assert rows["rows"] == [{"kind": "login"}, {"kind": "logout"}]

    run(go())
