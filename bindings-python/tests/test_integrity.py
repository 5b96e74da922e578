"""check_integrity with rules given as a file or as dicts, on every dialect."""

from __future__ import annotations

import pytest

import dbconsultant
from conftest import ROOT


def test_rules_file_on_every_dialect(agent, shop):
    run = agent.check_integrity(shop, rules=ROOT / "tests" / "fixtures" / "shop_rules.toml")
    assert run.kind == "integrity" and run.status == "failed"
    failing = {r.constraint: r.failure_count for r in run.integrity_results if r.failure_count}
    assert failing == {
        "accepted_values orders.status": 1,
        "range orders.total": 1,
        "max_null_fraction customers.phone": 2,
        "freshness orders.placed_at": 1,
        "one account per e-mail": 4,
        "orders belong to customers": 2,
    }


def test_rules_as_dicts_and_chosen_tables(agent, sqlite_shop):
    run = agent.check_integrity(sqlite_shop, ["orders"], rules=[
        {"table": "orders", "type": "implied_fk", "columns": ["customer_id"], "references": "customers", "referenced_columns": ["id"]},
    ])
    orphans = next(r for r in run.integrity_results if r.integrity_type == "fk")
    assert orphans.failure_count == 2
    assert [r["customer_id"] for r in orphans.sample_records] == [42, 99]
    assert {r.table_name for r in run.integrity_results} == {"orders"}


def test_bad_rules_are_invalid_input(agent, sqlite_shop):
    with pytest.raises(dbconsultant.InvalidInputError, match="unknown column 'stat'"):
        agent.check_integrity(sqlite_shop, rules=[{"table": "orders", "column": "stat", "type": "regex", "pattern": "x"}])
    with pytest.raises(dbconsultant.InvalidInputError, match="invalid regex"):
        agent.check_integrity(sqlite_shop, rules=[{"table": "orders", "column": "status", "type": "regex", "pattern": "("}])


def test_jobs_change_how_many_queries_run_at_once_not_the_answers(agent, shop):
    rules = ROOT / "tests" / "fixtures" / "shop_rules.toml"
    counts = lambda run: {(r.table_name, r.constraint): (r.failure_count, r.error) for r in run.integrity_results}
    one = agent.check_integrity(shop, rules=rules, jobs=1)
    four = agent.check_integrity(shop, rules=rules, jobs=4)
    assert counts(one) == counts(four) and len(counts(one)) > 10
    with pytest.raises(dbconsultant.InvalidInputError, match="jobs must be between 1 and 16, got 0"):
        agent.check_integrity(shop, jobs=0)
