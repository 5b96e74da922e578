"""validate_schema / lint_schema / reports / approvals, on every dialect."""

from __future__ import annotations

import json

import pytest

import dbconsultant
from conftest import MIGRATIONS, _fresh_database, server_url, validate_kwargs


def _postgres_shop() -> str:
    return _fresh_database(server_url("DBCONSULTANT_TEST_POSTGRES_URL"), "postgres")


def test_safe_migration_passes(agent, shop):
    run = agent.validate_schema(shop, MIGRATIONS / "001_index_order_status.sql", **validate_kwargs(shop))
    assert run.status == "passed", run.to_json(indent=2)
    assert run.summary.startswith("Index addition detected, no breaking change")
    assert run.schema_changes[0].name == "idx_orders_status"
    assert run.schema_changes[0].compatibility_status == "compatible"
    assert run.exit_code == 0


def test_unique_email_on_duplicates_fails_with_masked_rows(agent, shop):
    run = agent.validate_schema(shop, MIGRATIONS / "002_unique_customer_email.sql", **validate_kwargs(shop))
    assert run.status == "failed"
    failure = next(f for f in run.findings if f.rule == "migration-fails")
    assert failure.severity == "critical"
    assert [r["id"] for r in failure.sample_records] == [1, 4, 3, 7]
    assert all(r["email"] == "<masked>" for r in failure.sample_records)
    assert "@example.com" not in run.to_json()
    if shop.startswith("postgres"):
        # Never the target: a copy on a throwaway server of the target's version.
        assert run.sandbox is not None and "throwaway PostgreSQL" in run.sandbox, run.sandbox
        assert all(f.rule != "sandbox-on-target" for f in run.findings)


def test_postgres_without_any_sandbox_is_a_clear_error_and_on_target_needs_leave(agent, tmp_path):
    url = _postgres_shop()
    # No server binaries (an empty bindir), no sandbox server, no leave to use the target.
    no_binaries = {"sandbox": {"server_bindir": str(tmp_path)}}
    with pytest.raises(dbconsultant.SandboxError, match="--sandbox-on-target") as err:
        agent.validate_schema(url, MIGRATIONS / "001_index_order_status.sql", config=no_binaries)
    assert "--sandbox-url" in str(err.value) and "server binaries" in str(err.value)
    leave = {"sandbox": {"server_bindir": str(tmp_path), "allow_scratch_on_target": True}}
    run = agent.validate_schema(url, MIGRATIONS / "001_index_order_status.sql", config=leave)
    warning = next(f for f in run.findings if f.rule == "sandbox-on-target")
    assert warning.severity == "medium"


def test_result_is_the_run_document(agent, sqlite_shop):
    run = agent.validate_schema(sqlite_shop, [MIGRATIONS / "003_cleanup_legacy.sql"], environment="stage", trigger_type="pr")
    doc = run.to_dict()
    for key in ("test_run_id", "kind", "environment", "trigger_type", "status", "risk_score", "risk_breakdown",
                "summary", "created_at", "approved_by", "findings", "schema_changes", "integrity_results",
                "etl_results", "performance_metrics"):
        assert key in doc
    assert doc["environment"] == "stage" and doc["trigger_type"] == "pr"
    assert json.loads(run.to_json()) == doc
    assert agent.get_test_report(run.test_run_id) == run
    assert {f.rule for f in run.findings} >= {"ban-drop-table", "ban-drop-column", "renaming-column", "delete-without-where"}
    assert run.risk_breakdown[0].points >= run.risk_breakdown[-1].points


def test_inline_sql_config_and_threshold(agent, sqlite_shop):
    sql = "ALTER TABLE customers RENAME COLUMN phone TO phone_number;"
    assert agent.validate_schema(sqlite_shop, migration_sql=sql).status == "passed"
    assert agent.validate_schema(sqlite_shop, migration_sql=sql, fail_above=10).status == "failed"
    quiet = agent.validate_schema(sqlite_shop, migration_sql=sql, config={"rules": {"disable": ["renaming-column"]}})
    assert all(f.rule != "renaming-column" for f in quiet.findings)


def test_lint_postgres_lock_hazards(agent):
    run = agent.lint_schema(migration_sql="CREATE INDEX ix ON users (email);\nALTER TABLE users ALTER COLUMN email SET NOT NULL;")
    rules = [f.rule for f in run.findings]
    assert "require-concurrent-index-creation" in rules and "setting-not-null" in rules
    assert run.findings[0].line == 1


def test_approval_gate(agent, sqlite_shop):
    run = agent.validate_schema(sqlite_shop, MIGRATIONS / "001_index_order_status.sql", require_human_approval=True)
    assert run.status == "pending_approval" and run.exit_code == 2
    pending = agent.list_test_runs(status="pending_approval")
    assert [r.test_run_id for r in pending] == [run.test_run_id]
    approved = agent.approve_test_run(run.test_run_id, "alice", comment="looks good")
    assert approved.status == "approved" and approved.approved_by == "alice"
    with pytest.raises(dbconsultant.ApprovalStateError, match="is approved by alice"):
        agent.reject_test_run(run.test_run_id, "bob")
    assert [e.event for e in agent.audit_trail(run.test_run_id)] == ["created", "approved"]
