"""profile_performance: fingerprints, plans, timings, verified index recommendations, N+1."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

import dbconsultant


@pytest.fixture
def events(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "events.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER, kind INTEGER); CREATE INDEX idx_events_kind ON events (kind);")
        db.executemany("INSERT INTO events VALUES (?, ?, ?)", ((i, i % 2000, i % 5) for i in range(1, 30001)))
    return f"sqlite://{path}"


def test_recommendation_verified_in_the_sandbox(agent, events, tmp_path):
    workload = tmp_path / "workload.sql"
    workload.write_text("SELECT * FROM events WHERE user_id = 7;\n" + "".join(f"SELECT * FROM events WHERE id = {i};\n" for i in range(6)))
    run = agent.profile_performance(events, ["SELECT count(*) FROM events WHERE kind = 2"], query_file=workload, runs=2)
    assert run.kind == "performance" and run.status == "failed"
    by_query = {m.fingerprint: m for m in run.performance_metrics}
    scan = by_query["SELECT * FROM events WHERE user_id = ?"]
    assert scan.recommendation == 'CREATE INDEX "idx_events_user_id" ON "events" ("user_id")'
    assert scan.recommendations[0]["verification"]["method"] == "sandbox-copy" and scan.recommendations[0]["verification"]["used"] is True
    assert not scan.index_used and isinstance(scan.timing, dbconsultant.Timing) and scan.timing.runs == 2
    assert by_query["SELECT count(*) FROM events WHERE kind = ?"].index_used
    repeated = by_query["SELECT * FROM events WHERE id = ?"]
    assert repeated.occurrences == 6 and "n-plus-one" in repeated.findings
    assert agent.get_test_report(run.test_run_id) == run


def test_bad_input(agent, events):
    with pytest.raises(dbconsultant.InvalidInputError, match="give queries to profile"):
        agent.profile_performance(events)
    with pytest.raises(dbconsultant.InvalidInputError, match="keeps no statement statistics"):
        agent.profile_performance(events, from_stats=True)
    with pytest.raises(TypeError, match="argument 'queries'"):
        agent.profile_performance(events, "SELECT 1")  # type: ignore[arg-type]
