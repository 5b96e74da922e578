#!/usr/bin/env python3
"""CI gate: validate migrations against a database and fail the build on high risk.

    python examples/python/ci_validate.py sqlite://examples/shop.db examples/migrations/002_unique_customer_email.sql

Exit code: 0 passed, 1 failed or risk above --max-risk, 2 pending approval, 3 error.
Writes a Markdown summary to $GITHUB_STEP_SUMMARY when it is set.
"""

from __future__ import annotations

import argparse
import os
import sys

import dbconsultant


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Validate migrations and fail the build on high risk.")
    parser.add_argument("database_url")
    parser.add_argument("migrations", nargs="+")
    parser.add_argument("--max-risk", type=int, default=50)
    parser.add_argument("--store", default=None)
    args = parser.parse_args(argv)

    db_agent = dbconsultant.DatabaseConsultant(store=args.store)
    try:
        run = db_agent.validate_schema(args.database_url, args.migrations, trigger_type="pr", fail_above=args.max_risk)
    except dbconsultant.DatabaseConsultantError as error:
        print(f"error ({error.kind}): {error}", file=sys.stderr)
        return 3

    print(f"{run.status.upper()}  risk {run.risk_score}/100  {run.summary}")
    for finding in run.findings:
        where = f"{finding.file}:{finding.line}" if finding.file else "database"
        print(f"  {finding.severity:<8} {finding.rule:<40} {where}")
        print(f"           {finding.message}")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(f"### dbconsultant: {run.status} (risk {run.risk_score})\n\n{run.summary}\n")
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
