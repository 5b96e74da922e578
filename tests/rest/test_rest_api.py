"""The REST service as its callers meet it: every endpoint of the registry answers as the
served OpenAPI 3.1 document says (checked by openapi-spec-validator and, request by request,
by openapi-core), keys and roles decide who may do what, errors are problem details, and every
request lands in the audit log."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import time
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from conftest import ROOT, Server, binary, dump, problem, start

MIGRATION = (ROOT / "examples/migrations/001_index_order_status.sql").read_text()
UNSAFE = (ROOT / "examples/migrations/002_unique_customer_email.sql").read_text()


def test_the_document_is_valid_openapi_3_1_and_the_validator_would_say_otherwise(server: Server) -> None:
    assert server.spec["openapi"] == "3.1.0"
    validate(server.spec)
    broken = copy.deepcopy(server.spec)
    broken["paths"]["/api/v1/db/schema/validate"]["post"]["responses"] = "none"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)
    # openapi-spec-validator checks the document's structure; every schema in it is also
    # checked against the JSON Schema 2020-12 meta-schema (the document's dialect).
    for name, schema in server.spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    broken = copy.deepcopy(server.spec["components"]["schemas"]["Problem"])
    broken["properties"]["status"]["type"] = "int16"
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(broken)


def test_every_operation_of_the_registry_is_an_endpoint_of_the_document(server: Server) -> None:
    registry = json.loads(subprocess.run([binary(), "registry"], capture_output=True, text=True, check=True).stdout)
    for op in registry["operations"]:
        rest = op["rest"]
        assert "path" in rest, f"{op['name']}: no endpoint ({rest.get('absent')})"
        item = server.spec["paths"][f"/api/v1/db/{rest['path']}"][rest["method"]]
        assert item["operationId"] == op["name"] and item["summary"] == op["summary"], item
        assert item.get("requestBody") or rest["method"] == "get", op["name"]


def test_every_endpoint_answers_as_the_document_says(server: Server) -> None:
    call = server.call
    lint = call("POST", "/api/v1/db/schema/lint", "vera", json={"migration_sql": UNSAFE, "dialect": "postgres"}).json()
    assert lint["kind"] == "schema" and lint["findings"], dump(lint)

    run = call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "migration_sql": MIGRATION, "migration_name": "001.sql", "require_human_approval": True}).json()
    assert run["status"] == "pending_approval" and run["requested_by"] == "ci" and run["environment"] == "qa", dump(run)
    got = call("GET", f"/api/v1/db/test-runs/{run['test_run_id']}", "vera").json()
    assert got == run
    listed = call("GET", "/api/v1/db/test-runs?status=pending_approval&kind=schema&limit=5", "vera").json()
    assert run["test_run_id"] in [r["test_run_id"] for r in listed] and all(r["status"] == "pending_approval" for r in listed)
    pages = [call("GET", f"/api/v1/db/test-runs?requested_by=ci&environment=qa&limit=1&offset={n}", "vera").json() for n in (0, 1)]
    assert len(pages[0]) == 1 and pages[0] != pages[1], pages
    approved = call("POST", f"/api/v1/db/test-runs/{run['test_run_id']}/approve", "alice", json={"comment": "index is concurrent-safe"}).json()
    assert approved["status"] == "approved" and approved["decided_by"] == "alice" and approved["approved_by"] == "alice", dump(approved)
    trail = call("GET", f"/api/v1/db/test-runs/{run['test_run_id']}/audit", "vera").json()
    assert [(e["event"], e["actor"]) for e in trail] == [("created", "ci"), ("approved", "alice")], trail

    # Against PostgreSQL, a target whose password the server holds (password_env).
    pg = call("POST", "/api/v1/db/schema/validate", "deployer", json={"database": "shop_pg", "migration_sql": UNSAFE, "require_human_approval": True}).json()
    assert pg["dialect"] == "postgres" and pg["environment"] == "stage" and pg["status"] in ("pending_approval", "failed"), dump(pg)
    assert "SHOP_PG" not in json.dumps(pg)
    second = call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "migration_sql": MIGRATION, "require_human_approval": True}).json()
    escalated = call("POST", f"/api/v1/db/test-runs/{second['test_run_id']}/escalate", "alice", json={"to": "dba-team"}).json()
    assert escalated["status"] == "escalated" and escalated["escalated_to"] == "dba-team"
    rejected = call("POST", f"/api/v1/db/test-runs/{second['test_run_id']}/reject", "alice", json={"comment": "not this week"}).json()
    assert rejected["status"] == "rejected"
    third = call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "migration_sql": MIGRATION, "require_human_approval": True}).json()
    decided = call("POST", "/api/v1/db/human-approval", "alice", json={"test_run_id": third["test_run_id"], "decision": "reject", "comment": "seed endpoint"}).json()
    assert decided["status"] == "rejected" and decided["decision_comment"] == "seed endpoint"

    integrity = call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa", "rules": [{"table": "orders", "column": "status", "type": "accepted_values", "values": ["new", "paid", "shipped"]}]}).json()
    assert integrity["kind"] == "integrity" and integrity["integrity_results"], dump(integrity)
    etl = call("POST", "/api/v1/db/etl/validate", "ci", json={"source": "shop_qa", "source_table": "orders", "target": "shop_qa", "target_table": "orders"}).json()
    assert etl["kind"] == "etl" and etl["status"] == "passed", dump(etl)
    perf = call("POST", "/api/v1/db/performance/profile", "ci", json={"database": "shop_qa", "queries": ["SELECT * FROM orders WHERE status = 'paid'"], "runs": 2}).json()
    assert perf["kind"] == "performance" and perf["performance_metrics"], dump(perf)

    schemas = call("GET", "/api/v1/db/inspect/schemas?database=shop_qa", "ci").json()
    assert schemas[0]["tables"] >= 5, schemas
    tables = call("GET", "/api/v1/db/inspect/tables?database=shop_pg", "deployer").json()
    assert {"customers", "orders"} <= {t["name"] for t in tables}, tables
    described = call("GET", "/api/v1/db/inspect/describe?database=shop_qa&table=customers", "ci").json()
    assert described["name"] == "customers" and described["columns"], dump(described)
    rows = call("POST", "/api/v1/db/inspect/query", "ci", json={"database": "shop_qa", "sql": "SELECT id, email FROM customers ORDER BY id", "max_rows": 2}).json()
    assert len(rows["rows"]) == 2 and rows["truncated"] and "email" in rows["masked_columns"], rows
    plan = call("POST", "/api/v1/db/inspect/explain", "ci", json={"database": "shop_qa", "sql": "SELECT * FROM orders WHERE customer_id = 1"}).json()
    assert plan, plan
    log = call("GET", "/api/v1/db/audit?limit=500", "root").json()
    assert any(e["event"] == "rest_request" for e in log)

    # Every operation of the registry and the seed's decision endpoint answered 200 as documented
    # (the job endpoints are test_jobs.py's).
    registry = json.loads(subprocess.run([binary(), "registry"], capture_output=True, text=True, check=True).stdout)
    wanted = {op["name"] for op in registry["operations"]} | {"human_approval"}
    assert wanted <= server.exercised, f"not exercised: {wanted - server.exercised}"


def test_roles_decide_who_may_do_what(server: Server) -> None:
    call = server.call
    body = {"database": "shop_prod", "migration_sql": MIGRATION}
    detail = problem(call("POST", "/api/v1/db/schema/validate", "ci", json=body), 403, "forbidden")["detail"]
    assert "shop_prod" in detail and "prod" in detail, detail
    problem(call("POST", "/api/v1/db/schema/validate", "vera", json={"database": "shop_qa", "migration_sql": MIGRATION}), 403, "forbidden")
    problem(call("GET", "/api/v1/db/inspect/tables?database=shop_prod", "ci"), 403, "forbidden")
    problem(call("GET", "/api/v1/db/audit", "alice"), 403, "forbidden")
    assert call("POST", "/api/v1/db/schema/validate", "deployer", json=body).status_code == 200

    run = call("POST", "/api/v1/db/schema/validate", "both", json={"database": "shop_qa", "migration_sql": MIGRATION, "require_human_approval": True}).json()
    detail = problem(call("POST", f"/api/v1/db/test-runs/{run['test_run_id']}/approve", "both", json={}), 409, "approval_state")["detail"]
    assert "requested by both" in detail, detail
    problem(call("POST", f"/api/v1/db/test-runs/{run['test_run_id']}/approve", "ci", json={}), 403, "forbidden")
    problem(call("POST", "/api/v1/db/human-approval", "alice", json={"test_run_id": run["test_run_id"], "decision": "approve", "approver": "mallory"}), 400, "invalid_input")
    assert call("POST", "/api/v1/db/human-approval", "alice", json={"test_run_id": run["test_run_id"], "decision": "approve"}).json()["approved_by"] == "alice"


def test_keys_are_checked_and_revoked_keys_stop_working(server: Server) -> None:
    response = server.call("GET", "/api/v1/db/test-runs", None)
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    good = server.keys["vera"]
    for wrong in [good[:-1] + ("0" if good[-1] != "0" else "1"), "dbc_nothex______", "Basic abc", good.replace("dbc_", "dbx_")]:
        problem(server.call("GET", "/api/v1/db/test-runs", wrong), 401, "unauthenticated")
    fresh = server.cli("keys", "create", "temp", "--grant", "viewer").strip()
    key_id = fresh.split("_")[1]
    assert "temp" in server.cli("keys", "list") and fresh not in server.cli("keys", "list", "--format", "json")
    server.cli("keys", "revoke", key_id)
    problem(server.call("GET", "/api/v1/db/test-runs", fresh), 401, "unauthenticated")
    with sqlite3.connect(server.store) as con:
        hashes = [row[0] for row in con.execute("SELECT secret_hash FROM api_keys")]
    assert all(h.startswith("$argon2id$") for h in hashes) and not any(fresh.split("_")[2] in h for h in hashes), hashes


def test_bad_requests_are_problem_details_naming_what_was_wrong(server: Server) -> None:
    call = server.call
    cases: list[tuple[requests.Response, int, str, str]] = [
        (call("POST", "/api/v1/db/schema/validate", "ci", json={"database_url": "sqlite:///etc/passwd", "migration_sql": "SELECT 1"}), 400, "invalid_input", "database_url"),
        (call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_qa", "migration_script": ["/etc/passwd"]}), 400, "invalid_input", "migration_script"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa", "rules": "/etc/rules.toml"}), 400, "invalid_input", "rules"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa", "config": {}}), 400, "invalid_input", "config"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa", "environment": "dev"}), 400, "invalid_input", "environment"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "shop_qa", "colour": "red"}), 400, "invalid_input", "colour"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", json={"database": "nowhere"}), 404, "not_found", "nowhere"),
        (call("POST", "/api/v1/db/data/integrity-check", "ci", data="{not json", headers={"content-type": "application/json"}), 400, "invalid_input", "not JSON"),
        (call("POST", "/api/v1/db/inspect/query", "ci", json={"database": "shop_qa", "sql": "DELETE FROM orders"}), 400, "invalid_input", "DELETE"),
        (call("POST", "/api/v1/db/inspect/query", "ci", json={"database": "shop_qa", "sql": "SELECT * FROM no_such_table"}), 400, "invalid_input", "no_such_table"),
        (call("GET", "/api/v1/db/test-runs/does-not-exist", "vera"), 404, "not_found", "does-not-exist"),
        (call("GET", "/api/v1/db/test-runs?limit=many", "vera", check=False), 400, "invalid_input", "limit"),
        (call("GET", "/api/v1/db/nothing-here", "vera", check=False), 404, "no_such_endpoint", "nothing-here"),
        (call("POST", "/api/v1/db/schema/lint", "vera", data=b"x" * (3 * 1024 * 1024), check=False), 413, "too_large", "bytes"),
        (call("POST", "/api/v1/db/human-approval", "alice", json={"test_run_id": "x", "decision": "maybe"}, check=False), 400, "invalid_input", "maybe"),
    ]
    for response, status, kind, needle in cases:
        body = problem(response, status, kind)
        assert needle.lower() in body["detail"].lower(), body
        assert body["instance"] == requests.utils.urlparse(response.url).path, body


def test_cors_is_off(server: Server) -> None:
    response = server.call("OPTIONS", "/api/v1/db/test-runs", None, check=False, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in {h.lower() for h in response.headers}, response.headers
    response = server.call("GET", "/api/v1/db/test-runs", "vera", check=False, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200 and "access-control-allow-origin" not in {h.lower() for h in response.headers}


def test_every_request_is_audited_with_who_what_target_and_outcome(server: Server) -> None:
    marker = server.call("GET", "/api/v1/db/inspect/tables?database=shop_qa", "ci")
    assert marker.status_code == 200
    problem(server.call("POST", "/api/v1/db/schema/validate", "ci", json={"database": "shop_prod", "migration_sql": "SELECT 1"}), 403, "forbidden")
    problem(server.call("GET", "/api/v1/db/test-runs", None), 401, "unauthenticated")
    assert requests.get(server.base + "/api/v1/openapi.json", timeout=30).status_code == 200
    assert requests.get(server.base + "/api/v1/nothing-at-all", timeout=30).status_code == 404
    log = server.call("GET", "/api/v1/db/audit?event=rest_request&limit=10", "root").json()
    lines = [(e["actor"], e["details"]) for e in log]
    assert any(a == "anonymous" and "GET /api/v1/db/test-runs -> 401" in d for a, d in lines), lines
    assert any(a == "ci" and "POST /api/v1/db/schema/validate -> 403 forbidden" in d for a, d in lines), lines
    assert any(a == "ci" and "GET /api/v1/db/inspect/tables [shop_qa] -> 200" in d for a, d in lines), lines
    assert any(a == "anonymous" and d == "GET /api/v1/openapi.json -> 200" for a, d in lines), lines
    assert any(a == "anonymous" and d == "GET /api/v1/nothing-at-all -> 404 no_such_endpoint" for a, d in lines), lines


def test_a_key_over_its_rate_limit_is_told_when_to_retry(server: Server) -> None:
    tmp = server.tmp  # type: ignore[attr-defined]
    process, base = start(tmp, "--rate-limit", "3", store=server.store, env=server.env)
    try:
        headers = {"Authorization": f"Bearer {server.keys['vera']}"}
        codes = [requests.get(base + "/api/v1/db/test-runs?limit=1", headers=headers, timeout=30).status_code for _ in range(3)]
        assert codes == [200, 200, 200], codes
        limited = requests.get(base + "/api/v1/db/test-runs?limit=1", headers=headers, timeout=30)
        problem(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 20, limited.headers
        other = requests.get(base + "/api/v1/db/test-runs?limit=1", headers={"Authorization": f"Bearer {server.keys['ci']}"}, timeout=30)
        assert other.status_code == 200, "the limit is per key"
        log = server.call("GET", "/api/v1/db/audit?event=rest_request&limit=20", "root").json()
        assert any(e["actor"] == "vera" and e["details"].endswith("-> 429 rate_limited") for e in log), log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_https_with_the_given_certificate(server: Server) -> None:
    tls = os.environ.get("DBCONSULTANT_TEST_TLS_DIR")
    if not tls:
        if os.environ.get("DBCONSULTANT_SKIP_SERVER_TESTS") == "1":
            pytest.skip("DBCONSULTANT_TEST_TLS_DIR not set")
        pytest.fail("DBCONSULTANT_TEST_TLS_DIR is not set: run scripts/test.sh, which makes the test certificates")
    tmp = server.tmp  # type: ignore[attr-defined]
    process, base = start(tmp, "--tls-cert", f"{tls}/server.crt", "--tls-key", f"{tls}/server.key", store=server.store, env=server.env)
    try:
        assert base.startswith("https://"), base
        url = base.replace("127.0.0.1", "localhost")  # the test certificate names localhost
        headers = {"Authorization": f"Bearer {server.keys['vera']}"}
        ok = requests.get(url + "/api/v1/db/test-runs?limit=1", headers=headers, verify=f"{tls}/ca.crt", timeout=30)
        assert ok.status_code == 200, ok.text
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/api/v1/openapi.json", verify=f"{tls}/other-ca.crt", timeout=30)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url.replace("https://", "http://") + "/api/v1/openapi.json", timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_admins_manage_keys_over_http_and_a_revoked_key_stops_at_once(server: Server) -> None:
    call = server.call
    problem(call("POST", "/api/v1/admin/keys", "ci", json={"name": "x", "grants": ["viewer"]}), 403, "forbidden")
    created = call("POST", "/api/v1/admin/keys", "root", json={"name": "dashboard", "grants": ["viewer"]})
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith("dbc_") and key["grants"] == ["viewer"] and "secret_hash" not in key, key
    assert call("GET", "/api/v1/db/test-runs?limit=1", key["key"]).status_code == 200
    listed = call("GET", "/api/v1/admin/keys", "root").json()
    assert key["id"] in [k["id"] for k in listed] and key["key"] not in json.dumps(listed)
    problem(call("POST", "/api/v1/admin/keys", "root", json={"name": "dashboard", "grants": ["viewer"]}), 400, "invalid_input")
    problem(call("POST", "/api/v1/admin/keys", "root", json={"name": "y", "grants": ["superuser"]}), 400, "invalid_input")
    revoked = call("DELETE", f"/api/v1/admin/keys/{key['id']}", "root").json()
    assert revoked["revoked_at"], revoked
    problem(call("GET", "/api/v1/db/test-runs?limit=1", key["key"]), 401, "unauthenticated")
    log = call("GET", "/api/v1/db/audit?event=rest_request&limit=20", "root").json()
    assert not any(key["key"] in e["details"] for e in log), "a key's text is never in the audit log"


def test_a_request_running_past_the_timeout_is_answered_504(server: Server) -> None:
    tmp = server.tmp  # type: ignore[attr-defined]
    process, base = start(tmp, "--request-timeout", "1", store=server.store, env=server.env)
    try:
        started = time.monotonic()
        slow = requests.post(
            base + "/api/v1/db/performance/profile",
            json={"database": "shop_pg", "queries": ["SELECT pg_sleep(5)"], "runs": 1, "analyze": False},
            headers={"Authorization": f"Bearer {server.keys['deployer']}"},
            timeout=60,
        )
        elapsed = time.monotonic() - started
        body = problem(slow, 504, "timeout")
        assert "1 s" in body["detail"] and elapsed < 4, (elapsed, body)
    finally:
        process.terminate()
        process.wait(timeout=30)
