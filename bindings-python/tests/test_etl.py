"""validate_etl: the shop's tables reconciled across dialects, planted differences found
exactly, tolerances, aggregates and bad input."""

from __future__ import annotations

import json
import pathlib
import sqlite3

import pytest

import dbconsultant


def make_sqlite(path: pathlib.Path, sql: str) -> str:
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    return f"sqlite://{path}"


TABLE = "CREATE TABLE loads (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(10,2));"


@pytest.fixture
def pair(tmp_path: pathlib.Path) -> tuple[str, str]:
    rows = ", ".join(f"({i}, 'n{i}', {i}.50)" for i in range(1, 2001))
    source = make_sqlite(tmp_path / "source.db", f"{TABLE} INSERT INTO loads VALUES {rows};")
    target = make_sqlite(tmp_path / "target.db", f"{TABLE} INSERT INTO loads VALUES {rows};"
                         "DELETE FROM loads WHERE id IN (7, 1500); UPDATE loads SET amount = amount + 0.01 WHERE id = 42;"
                         "INSERT INTO loads VALUES (9001, 'new', 1);")
    return source, target


def test_differences_are_found_exactly(agent, pair):
    source, target = pair
    run = agent.validate_etl(source, "loads", target, key="id", bisection_threshold=50, jobs=4)
    assert run.kind == "etl" and run.status == "failed" and run.exit_code == 1
    r = run.etl_results[0]
    assert (r.source_count, r.target_count) == (2000, 1999)
    assert r.missing_in_target == [{"id": 7}, {"id": 1500}]
    assert r.extra_in_target == [{"id": 9001}]
    assert (r.missing_count, r.extra_count, r.changed_count) == (2, 1, 1)
    assert r.changed == [{"key": {"id": 42}, "columns": {"amount": {"source": "42.5", "target": "42.51"}}}]
    assert r.changed_columns == {"amount": 1}
    assert not r.checksum_match and r.strategy == "bisection"
    assert agent.get_test_report(run.test_run_id) == run


def test_tolerance_filter_and_aggregates(agent, pair):
    source, target = pair
    run = agent.validate_etl(source, "loads", target, key=["id"], where="id BETWEEN 40 AND 50", column_tolerance={"amount": 0.02})
    assert run.status == "passed", run.etl_results
    assert run.etl_results[0].within_tolerance == 1
    run = agent.validate_etl(source, "loads", target, key="id", aggregates=["count:*", "sum:amount"], tolerance=0.5)
    aggregates = {a.function: a for a in run.etl_results[0].aggregates}
    assert (aggregates["count"].source, aggregates["count"].target, aggregates["count"].matches) == ("2000", "1999", False)
    assert isinstance(aggregates["sum"], dbconsultant.EtlAggregate)


def test_same_tables_across_dialects(agent, shop, tmp_path):
    """The example shop holds the same rows on every dialect: each table matches SQLite's."""
    from conftest import EXAMPLES

    (tmp_path / "source").mkdir()
    source = make_sqlite(tmp_path / "source" / "shop.db", (EXAMPLES / "sqlite" / "shop.sql").read_text())
    for table, key in (("orders", "id"), ("customers", "id"), ("order_items", ["order_id", "product_id"])):
        run = agent.validate_etl(source, table, shop, key=key)
        r = run.etl_results[0]
        assert run.status == "passed" and r.checksum_match, (table, r)
        assert r.source_count == r.target_count > 0


def test_async_validate_etl(tmp_path, pair):
    import asyncio

    source, target = pair
    agent = dbconsultant.AsyncDatabaseConsultant(store=tmp_path / "async.db")
    run = asyncio.run(agent.validate_etl(source, "loads", target, key="id"))
    assert run.etl_results[0].missing_count == 2


def test_bad_input(agent, pair):
    source, target = pair
    with pytest.raises(dbconsultant.InvalidInputError, match="key column 'nope' not found"):
        agent.validate_etl(source, "loads", target, key="nope")
    with pytest.raises(dbconsultant.InvalidInputError, match="unknown strategy"):
        agent.validate_etl(source, "loads", target, key="id", strategy="fast")
    with pytest.raises(dbconsultant.InvalidInputError, match="jobs must be between 1 and 16, got 0"):
        agent.validate_etl(source, "loads", target, key="id", jobs=0)
    with pytest.raises(TypeError, match="argument 'key'"):
        agent.validate_etl(source, "loads", target, key=5)  # type: ignore[arg-type]
    with pytest.raises(dbconsultant.DatabaseConnectionError):
        agent.validate_etl(source, "loads", "postgres://u:pw@127.0.0.1:1/x", key="id")


def test_keys_out_has_every_key_and_runs_wait_for_escalated_approval(agent, pair, tmp_path):
    source, target = pair
    keys = tmp_path / "keys.jsonl"
    run = agent.validate_etl(source, "loads", target, key="id", keys_out=str(keys), sample_limit=1)
    r = run.etl_results[0]
    assert len(r.missing_in_target) == 1 and r.missing_count == 2
    assert r.keys_out is not None and r.keys_out.lines == 4 and r.keys_out.path == str(keys)
    lines = [json.loads(line) for line in keys.read_text().splitlines()]
    assert sorted((line["kind"], line["key"]["id"]) for line in lines) == [
        ("changed", 42), ("extra", 9001), ("missing", 7), ("missing", 1500)]

    held = agent.validate_etl(source, "loads", source, key="id", require_human_approval=True)
    assert held.status == "pending_approval" and held.exit_code == 2
    escalated = agent.escalate_test_run(held.test_run_id, "alice", "data-governance", comment="PII")
    assert escalated.status == "escalated" and escalated.escalated_to == "data-governance" and escalated.exit_code == 2
    assert agent.approve_test_run(held.test_run_id, "bob").status == "approved"
    assert [e.event for e in agent.audit_trail(held.test_run_id)] == ["created", "escalated", "approved"]
    integrity = agent.check_integrity(source, require_human_approval=True)
    assert integrity.status == "pending_approval"
