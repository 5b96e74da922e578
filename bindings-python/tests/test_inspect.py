"""Inspection (the MCP server's read tools, as SDK calls): schemas, tables, one table, a
guarded read-only query with an exact truncation flag and masking, plans; the audit log."""

from __future__ import annotations

import json
import os
import urllib.parse

import pytest

import dbconsultant


def test_inspect_the_shop(agent, shop):
    schemas = {s.name: s for s in agent.list_schemas(shop)}
    default = {"sqlite": "main", "postgres": "public"}.get(shop.split(":")[0], shop.rsplit("/", 1)[1])
    assert (schemas[default].tables, schemas[default].views) == (5, 1)
    tables = {t.name: t for t in agent.list_tables(shop)}
    assert tables["orders"].kind == "table" and tables["orders"].columns == 5
    assert tables["paid_orders"].kind == "view"
    orders = agent.describe_table(shop, "orders")
    assert isinstance(orders, dbconsultant.TableDescription)
    assert orders.primary_key == ["id"] and "order_items(order_id)" in orders.referenced_by
    assert [c.name for c in orders.columns] == ["id", "customer_id", "status", "total", "placed_at"]
    assert isinstance(orders.columns[0], dbconsultant.Column) and orders.columns[0].data_type
    with pytest.raises(dbconsultant.NotFoundError, match="no table named 'ordrs'"):
        agent.describe_table(shop, "ordrs")


def test_run_query_is_capped_exactly_and_masked(agent, shop):
    four = agent.run_query(shop, "SELECT id FROM orders ORDER BY id", max_rows=4)
    assert isinstance(four, dbconsultant.QueryResult)
    assert [r["id"] for r in four.rows] == [1, 2, 3, 4] and four.truncated and four.row_count == 4
    five = agent.run_query(shop, "SELECT id FROM orders ORDER BY id", max_rows=5)
    assert not five.truncated and five.row_count == 5
    customers = agent.run_query(shop, "SELECT id, email, full_name FROM customers ORDER BY id")
    assert customers.masked_columns == ["email"] and customers.rows[0]["email"] != "ada@example.com"
    assert customers.rows[0]["full_name"] == "Ada Lovelace"
    for hostile in ("DELETE FROM orders", "COMMIT; DROP TABLE customers", "SELECT * FROM orders FOR UPDATE"):
        with pytest.raises(dbconsultant.InvalidInputError, match="refused"):
            agent.run_query(shop, hostile)
    assert agent.run_query(shop, "SELECT count(*) AS n FROM orders").rows == [{"n": 5}]


def test_explain_query_plans_writes_without_running_them(agent, shop):
    plan = agent.explain_query(shop, "SELECT * FROM orders WHERE customer_id = 3")
    assert isinstance(plan, dbconsultant.Plan) and isinstance(plan.root, dbconsultant.PlanNode) and plan.root.node_type
    assert plan.to_dict()["root"]["node_type"] == plan.root.node_type
    agent.explain_query(shop, "DELETE FROM orders WHERE id = 1")
    assert agent.run_query(shop, "SELECT count(*) AS n FROM orders").rows == [{"n": 5}]
    with pytest.raises(dbconsultant.InvalidInputError, match="refused"):
        agent.explain_query(shop, "DELETE FROM orders WHERE id = 1", analyze=True)


def test_audit_log_lists_events_newest_first(agent, sqlite_shop):
    run = agent.validate_schema(sqlite_shop, migration_sql="CREATE INDEX ix ON orders (status);", require_human_approval=True)
    agent.approve_test_run(run.test_run_id, "alice")
    log = agent.audit_log()
    assert [(e.event, e.actor) for e in log[:2]] == [("approved", "alice"), ("created", "dbconsultant")]
    assert [e.event for e in agent.audit_log(event="approved")] == ["approved"]
    assert len(agent.audit_log(limit=1)) == 1


def test_async_inspection(tmp_path, sqlite_shop):
    import asyncio

    agent = dbconsultant.AsyncDatabaseConsultant(store=tmp_path / "s.db")
    result = asyncio.run(agent.run_query(sqlite_shop, "SELECT 1 AS one"))
    assert result.rows == [{"one": 1}]


TLS_IN_USE = {
    "postgres": "SELECT ssl AS tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    "mysql": "SELECT VARIABLE_VALUE <> '' AS tls FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
}


def test_password_apart_from_the_url(agent, shop, tmp_path):
    """`database_password` instead of a password in the URL: the calls work (once over
    verify-full), and neither the run document nor the store holds it; a second, different
    password is refused."""
    if shop.startswith("sqlite"):
        with pytest.raises(dbconsultant.InvalidInputError, match="SQLite databases have none"):
            agent.list_tables(shop, database_password="x")
        return
    parts = urllib.parse.urlsplit(shop)
    password = urllib.parse.unquote(parts.password or "")
    bare = parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl()
    assert {t.name for t in agent.list_tables(bare, database_password=password)} >= {"orders", "customers"}
    run = agent.check_integrity(bare, ["orders"], database_password=password)
    assert run.test_run_id and password not in json.dumps(agent.get_test_run(run.test_run_id).to_dict())
    assert password.encode() not in (tmp_path / "store.db").read_bytes()
    # Once over verify-full: the test CA, and the host name its certificate lists.
    ca = os.path.join(os.environ["DBCONSULTANT_TEST_TLS_DIR"], "ca.crt")
    verified = parts._replace(netloc=f"{parts.username}@localhost:{parts.port}", query=f"sslmode=verify-full&sslrootcert={ca}").geturl()
    tls = TLS_IN_USE[shop.split(":")[0]]
    assert agent.run_query(verified, tls, database_password=password).rows[0]["tls"], "not encrypted"
    with pytest.raises(dbconsultant.InvalidInputError, match="two passwords") as refused:
        agent.list_tables(shop, database_password="not-" + password)
    assert password not in str(refused.value)
