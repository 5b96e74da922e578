"""Errors map to exception classes with the CLI's messages; the GIL is released; asyncio
works; a panic is an exception, not a crash."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

import dbconsultant
from dbconsultant import _native
from conftest import MIGRATIONS


def test_every_error_kind_has_its_class(agent, sqlite_shop, tmp_path):
    with pytest.raises(dbconsultant.InvalidInputError, match="cannot read migration") as missing:
        agent.validate_schema(sqlite_shop, tmp_path / "missing.sql")
    assert isinstance(missing.value, ValueError) and missing.value.kind == "invalid_input"
    with pytest.raises(dbconsultant.InvalidInputError, match="malformed database URL"):
        agent.validate_schema("shop.db", migration_sql="SELECT 1;")
    with pytest.raises(dbconsultant.InvalidInputError, match="unknown dialect"):
        agent.lint_schema(migration_sql="SELECT 1;", dialect="oracle")
    with pytest.raises(dbconsultant.DatabaseConnectionError) as conn:
        agent.validate_schema("postgres://admin:hunter2@127.0.0.1:1/db", migration_sql="SELECT 1;")
    assert "hunter2" not in str(conn.value) and ":***@" in str(conn.value)
    with pytest.raises(dbconsultant.SandboxError, match="--sandbox-url"):
        url = os.environ.get("DBCONSULTANT_TEST_MYSQL_URL")
        if not url:
            pytest.skip("no MySQL server") if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS") else pytest.fail("DBCONSULTANT_TEST_MYSQL_URL unset")
        # No sandbox server, no leave to use the target's, no server binaries (an empty bindir).
        agent.validate_schema(url, migration_sql="CREATE TABLE t (id INT PRIMARY KEY);", config={"sandbox": {"server_bindir": str(tmp_path)}})
    with pytest.raises(dbconsultant.NotFoundError):
        agent.get_test_report("00000000-0000-0000-0000-000000000000")
    for cls in (dbconsultant.InvalidInputError, dbconsultant.NotFoundError, dbconsultant.SandboxError):
        assert issubclass(cls, dbconsultant.DatabaseConsultantError)


def test_type_errors_name_the_argument(agent, sqlite_shop):
    with pytest.raises(TypeError, match="'database_url' must be str, not int"):
        agent.validate_schema(42, migration_sql="SELECT 1;")
    with pytest.raises(TypeError, match="'require_human_approval' must be bool"):
        agent.validate_schema(sqlite_shop, migration_sql="SELECT 1;", require_human_approval="yes")
    with pytest.raises(TypeError, match="migration_script"):
        agent.validate_schema(sqlite_shop, 3.14)
    with pytest.raises(TypeError, match="unexpected keyword argument 'migraton_sql'"):
        agent.validate_schema(sqlite_shop, migraton_sql="SELECT 1;")


def test_a_panic_is_an_exception_not_a_crash():
    with pytest.raises(_native.NativeError, match="deliberate panic"):
        _native._panic_for_tests()
    # The runtime still works afterwards.
    assert dbconsultant.DatabaseConsultant(store=":memory:" if False else None) is not None


def test_gil_is_released_while_rust_works(agent, sqlite_shop):
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    thread = threading.Thread(target=count)
    thread.start()
    started = time.perf_counter()
    for _ in range(5):
        agent.validate_schema(sqlite_shop, MIGRATIONS / "004_orders_foreign_key.sql")
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    # The counting thread kept running during the calls (it would be starved if the GIL
    # were held for the whole call).
    assert ticks > elapsed * 1000 * 0.3, (ticks, elapsed)


def test_async_variant_runs_concurrently(tmp_path, sqlite_shop):
    async def main() -> list:
        agent = dbconsultant.AsyncDatabaseConsultant(store=tmp_path / "async.db")
        runs = await asyncio.gather(
            agent.validate_schema(sqlite_shop, MIGRATIONS / "001_index_order_status.sql"),
            agent.validate_schema(sqlite_shop, MIGRATIONS / "002_unique_customer_email.sql"),
            agent.check_integrity(sqlite_shop),
        )
        listed = await agent.list_test_runs()
        assert len(listed) == 3
        return runs

    runs = asyncio.run(main())
    assert [r.status for r in runs] == ["passed", "failed", "passed"]
