#!/usr/bin/env python3
"""Nightly data check: run the integrity rules and print the failing checks.

    python examples/python/integrity_report.py sqlite://examples/shop.db tests/fixtures/shop_rules.toml
"""

from __future__ import annotations

import sys

import dbconsultant


def main(database_url: str, rules: str) -> int:
    db_agent = dbconsultant.DatabaseConsultant()
    run = db_agent.check_integrity(database_url, rules=rules)
    print(run.summary)
    for result in run.integrity_results:
        if result.failure_count or result.error:
            print(f"  {result.table_name}: {result.constraint}: {result.error or result.failure_count}")
            for row in result.sample_records[:2]:
                print(f"      {row}")
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
