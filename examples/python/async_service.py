#!/usr/bin/env python3
"""An asyncio service endpoint: validate a migration without blocking the event loop.

    python examples/python/async_service.py sqlite://examples/shop.db examples/migrations/001_index_order_status.sql
"""

from __future__ import annotations

import asyncio
import sys

import dbconsultant
from dbconsultant import TestRun


async def handle_validation(agent: dbconsultant.AsyncDatabaseConsultant, url: str, migration: str) -> dict[str, object]:
    run: TestRun = await agent.validate_schema(url, migration, require_human_approval=True)
    return {"test_run_id": run.test_run_id, "status": run.status, "risk_score": run.risk_score, "summary": run.summary}


async def main(url: str, migration: str) -> int:
    agent = dbconsultant.AsyncDatabaseConsultant()
    heartbeat = 0

    async def beat() -> None:
        nonlocal heartbeat
        while True:
            heartbeat += 1
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(beat())
    response = await handle_validation(agent, url, migration)
    ticker.cancel()
    print(response, f"(event loop ticked {heartbeat} times meanwhile)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
