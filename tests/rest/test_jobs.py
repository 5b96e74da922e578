"""Asynchronous runs: `Prefer: respond-async` queues a run as a job (202, Location), its
progress streams as Server-Sent Events, DELETE cancels it; workers lease jobs from the store,
and on a PostgreSQL store two servers and three worker processes share the queue — a worker
killed with SIGKILL mid-run has its job taken over, and the run is stored once."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import time
import uuid
from typing import Any, Iterator
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from conftest import ROOT, Server, binary, postgres_url, problem, start

MIGRATION = (ROOT / "examples/migrations/001_index_order_status.sql").read_text()
ASYNC = {"Prefer": "respond-async"}


def wait_for(base: str, key: str, location: str, states: tuple[str, ...], seconds: float = 90) -> dict[str, Any]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        job: dict[str, Any] = requests.get(base + location, headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {location} not {states} within {seconds} s: {job}")


def sse_states(base: str, key: str, location: str) -> list[dict[str, Any]]:
    """Every `state` event of a job's stream, until the stream ends."""
    out = []
    with requests.get(base + location + "/events", headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream"), response.headers
        event = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "state":
                out.append(json.loads(line.split(":", 1)[1]))
    return out


def test_a_queued_run_is_accepted_streams_its_progress_and_stores_its_run_under_the_job_id(server: Server) -> None:
    accepted = server.call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "migration_sql": MIGRATION}, headers=ASYNC)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["location"] == job["location"] == f"/api/v1/db/jobs/{job['job_id']}"
    assert accepted.headers["preference-applied"] == "respond-async"
    assert job["requested_by"] == "ci" and job["state"] in ("queued", "running"), job
    states = sse_states(server.base, server.keys["vera"], job["location"])
    assert states[-1]["state"] == "succeeded" and [s["state"] for s in states].count("succeeded") == 1, states
    done = server.call("GET", job["location"], "vera").json()
    assert done["test_run_id"] == job["job_id"] and done["run_location"] == f"/api/v1/db/test-runs/{job['job_id']}", done
    run = server.call("GET", done["run_location"], "vera").json()
    assert run["requested_by"] == "ci" and run["kind"] == "schema", run
    problem(server.call("GET", "/api/v1/db/jobs/no-such-job", "vera"), 404, "not_found")
    log = server.call("GET", "/api/v1/db/audit?event=rest_request&limit=50", "root").json()
    assert any(e["actor"] == "vera" and e["details"] == f"GET {job['location']}/events -> 200 (event stream)" for e in log), log


def test_a_bad_or_forbidden_async_request_is_refused_at_once_not_queued(server: Server) -> None:
    problem(server.call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_prod", "migration_sql": MIGRATION}, headers=ASYNC), 403, "forbidden")
    problem(server.call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "nowhere", "migration_sql": MIGRATION}, headers=ASYNC), 404, "not_found")
    problem(server.call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "colour": 1}, headers=ASYNC), 400, "invalid_input")


def test_a_queued_job_is_cancelled_by_its_requester_and_never_runs(server: Server) -> None:
    tmp = server.tmp  # type: ignore[attr-defined]
    store = str(tmp / "cancel-store.db")
    keys = {}
    for name, grant in [("ci", "runner:qa"), ("vera", "viewer")]:
        keys[name] = subprocess.run([binary(), "--store", store, "keys", "create", name, "--grant", grant], capture_output=True, text=True, check=True).stdout.strip()
    process, base = start(tmp, "--workers", "0", store=store, env=server.env)
    try:
        as_ci = {"Authorization": f"Bearer {keys['ci']}"}
        job = requests.post(base + "/api/v1/db/schema/validate", json={"database": "shop_qa", "migration_sql": MIGRATION}, headers={**as_ci, **ASYNC}, timeout=30).json()
        time.sleep(1)
        assert requests.get(base + job["location"], headers=as_ci, timeout=30).json()["state"] == "queued", "no worker in this server"
        other = requests.delete(base + job["location"], headers={"Authorization": f"Bearer {keys['vera']}"}, timeout=30)
        problem(other, 403, "forbidden")
        cancelled = requests.delete(base + job["location"], headers=as_ci, timeout=30)
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
        for answer in (other, cancelled):
            server.openapi.validate_response(RequestsOpenAPIRequest(answer.request), RequestsOpenAPIResponse(answer))
        worker = subprocess.Popen([binary(), "--store", store, "worker", "--targets", str(tmp / "targets.toml")], stderr=subprocess.DEVNULL, env=server.env)
        time.sleep(2)
        worker.kill()
        worker.wait()
        after = requests.get(base + job["location"], headers=as_ci, timeout=30).json()
        assert after["state"] == "cancelled" and after["attempts"] == 0 and after["test_run_id"] is None, after
        assert requests.get(base + f"/api/v1/db/test-runs/{job['job_id']}", headers=as_ci, timeout=30).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture()
def postgres_store() -> Iterator[str]:
    admin = postgres_url()
    name = f"dbc_store_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    yield urlunparse(urlparse(admin)._replace(path=f"/{name}"))
    subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def test_two_servers_and_three_workers_share_a_postgres_queue_and_survive_a_killed_worker(server: Server, postgres_store: str) -> None:
    tmp: pathlib.Path = server.tmp  # type: ignore[attr-defined]
    key = subprocess.run([binary(), "--store", postgres_store, "keys", "create", "deployer", "--grant", "runner:*"], capture_output=True, text=True, check=True).stdout.strip()
    auth = {"Authorization": f"Bearer {key}"}
    servers = [start(tmp, "--workers", "0", store=postgres_store, env=server.env) for _ in range(2)]
    workers = [
        subprocess.Popen([binary(), "--store", postgres_store, "worker", "--workers", "1", "--lease-seconds", "3", "--targets", str(tmp / "targets.toml")], stderr=subprocess.DEVNULL, env=server.env)
        for _ in range(3)
    ]
    try:
        jobs = []
        for i in range(6):
            base = servers[i % 2][1]
            body = {"database": "shop_qa" if i % 3 else "shop_pg", "migration_sql": MIGRATION}
            accepted = requests.post(base + "/api/v1/db/schema/validate", json=body, headers={**auth, **ASYNC}, timeout=30)
            assert accepted.status_code == 202, accepted.text
            jobs.append((base, accepted.json()))
        finished = [wait_for(base, key, job["location"], ("succeeded", "failed")) for base, job in jobs]
        assert all(j["state"] == "succeeded" and j["attempts"] == 1 for j in finished), finished
        owners = {j["job_id"]: j for j in finished}
        assert len(owners) == 6

        # A slow job (three timed runs of a 1.5 s query on PostgreSQL), its worker killed mid-run.
        base = servers[0][1]
        body = {"database": "shop_pg", "queries": ["SELECT pg_sleep(1.5)"], "runs": 3}
        slow = requests.post(base + "/api/v1/db/performance/profile", json=body, headers={**auth, **ASYNC}, timeout=30).json()
        running = wait_for(base, key, slow["location"], ("running",), 30)
        pid = int(running["lease_owner"].split(":")[1])
        victim = next(w for w in workers if w.pid == pid)
        os.kill(pid, signal.SIGKILL)
        victim.wait()
        done = wait_for(servers[1][1], key, slow["location"], ("succeeded", "failed"), 120)
        assert done["state"] == "succeeded" and done["attempts"] == 2 and done["lease_owner"] is None, done
        assert done["test_run_id"] == slow["job_id"], done
        count = subprocess.run(["psql", "-tAq", postgres_store, "-c", f"SELECT count(*) FROM database_test_runs WHERE id = '{slow['job_id']}'"], capture_output=True, text=True, check=True).stdout.strip()
        assert count == "1", "the run is stored once"
        total = subprocess.run(["psql", "-tAq", postgres_store, "-c", "SELECT count(*) FROM database_test_runs"], capture_output=True, text=True, check=True).stdout.strip()
        assert total == "7", f"7 jobs, 7 runs, got {total}"
    finally:
        for w in workers:
            w.kill()
            w.wait()
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)


def test_a_queued_integrity_check_reports_its_progress_in_tables(server: Server) -> None:
    accepted = server.call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa"}, headers=ASYNC)
    assert accepted.status_code == 202, accepted.text
    states = sse_states(server.base, server.keys["vera"], accepted.json()["location"])
    final = states[-1]
    assert final["state"] == "succeeded", states
    progress = final["progress"]
    assert progress["total"] >= 5 and progress["done"] == progress["total"], progress
    server.call("GET", accepted.json()["location"], "vera")  # the document with progress, checked against the schema
