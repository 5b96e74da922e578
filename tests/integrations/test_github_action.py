"""The GitHub Action (action.yml, composite) run step by step as a runner runs it: each
step's `${{ ... }}` expressions expanded from the inputs (defaults from action.yml), its
`env` set, its `run` executed with `bash --noprofile --norc -eo pipefail`, with the files a
runner provides (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH, RUNNER_TEMP). The CLI is
installed from the release artifacts in dist/ through a file:// release URL."""
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from conftest import ROOT, TARBALL, VERSION, clean_path

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRun:
    code: int
    log: str
    outputs: dict = field(default_factory=dict)
    summary: str = ""


def expand(text: str, context: dict) -> str:
    def value(match):
        name = match.group(1)
        assert name in context, f"action.yml uses ${{{{ {name} }}}}, which a runner would not provide here"
        return context[name]

    return EXPRESSION.sub(value, text)


def run_action(work: Path, **inputs) -> ActionRun:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    declared = action["inputs"]
    unknown = {k.replace("_", "-") for k in inputs} - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    context = {f"inputs.{k}": str(inputs.get(k.replace("-", "_"), v.get("default", ""))) for k, v in declared.items()}
    context["github.action_path"] = str(ROOT)
    context["github.action_repository"] = "example/dbconsultant"
    temp = work.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    files = {name: temp / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH")}
    for f in files.values():
        f.write_text("")
    env = {
        "HOME": os.environ.get("HOME", str(temp)),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(work),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(temp),
        **{k: str(v) for k, v in files.items()},
    }
    log = ""
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash", step
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        step_env = {**env, "PATH": os.pathsep.join([*reversed(added), clean_path()])}
        step_env.update({k: expand(str(v), context) for k, v in step.get("env", {}).items()})
        script = temp / f"step-{step['id']}.sh"
        script.write_text(expand(step["run"], context))
        files["GITHUB_OUTPUT"].write_text("")
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=work, env=step_env, capture_output=True, text=True)
        log += p.stdout + p.stderr
        for line in files["GITHUB_OUTPUT"].read_text().splitlines():
            name, _, value = line.partition("=")
            context[f"steps.{step['id']}.outputs.{name}"] = value
        if p.returncode != 0:
            break
    # An output no step set is empty, as on a runner.
    outputs = {name: EXPRESSION.sub(lambda m: context.get(m.group(1), ""), o["value"]) for name, o in action["outputs"].items()}
    return ActionRun(p.returncode, log, outputs, files["GITHUB_STEP_SUMMARY"].read_text())


def test_lint_installs_the_release_annotates_and_summarises(dist, migrations):
    run = run_action(migrations, files="migrations", release_url=f"file://{dist}", fail_above="50")
    assert run.code == 1, run.log
    assert f"installed dbconsultant {VERSION}" in run.log
    # Annotations point at the file and line of each finding, paths relative to the checkout.
    assert "::error file=migrations/003_cleanup_legacy.sql,line=2,col=1,title=dbconsultant ban-drop-table (critical)::" in run.log
    assert "::warning file=migrations/001_index_order_status.sql,line=2" in run.log
    assert "delete-without-where" in run.summary and run.summary.lstrip().startswith("#"), run.summary
    assert "legacy_coupons" in run.summary


def test_a_safe_migration_passes_and_sets_the_outputs(dist, tmp_path):
    work = tmp_path / "project"
    (work / "db").mkdir(parents=True)
    (work / "db" / "001_create.sql").write_text("CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n")
    run = run_action(work, files="db", release_url=f"file://{dist}")
    assert run.code == 0, run.log
    assert run.outputs["status"] == "passed", run.outputs
    assert run.outputs["risk-score"].isdigit() and int(run.outputs["risk-score"]) <= 20, run.outputs
    assert run.outputs["run-id"] == "", "a lint run is not stored"
    assert "dbconsultant schema: passed" in run.summary, run.summary


def test_validate_runs_the_migrations_against_the_database(dist, tmp_path):
    work = tmp_path / "project"
    (work / "migrations").mkdir(parents=True)
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as c:
        c.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@x'), ('a@x');")
    (work / "migrations" / "001_unique_email.sql").write_text("CREATE UNIQUE INDEX users_email ON users (email);\n")
    run = run_action(work, command="validate", files="migrations", database_url=f"sqlite://{db}", release_url=f"file://{dist}")
    # The existing rows hold a duplicate e-mail: the unique index fails on this database.
    assert run.code == 1, run.log
    assert "migration-fails" in run.log, run.log
    assert "::add-mask::" in run.log, "the database URL is masked in the log"
    assert "::error file=migrations/001_unique_email.sql" in run.log, run.log
    assert run.outputs["status"] == "failed" and re.fullmatch(r"[0-9a-f-]{36}", run.outputs["run-id"]), run.outputs
    assert run.outputs["run-id"] in run.summary, run.summary


def test_a_tampered_download_is_refused(dist, migrations, tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    (release / TARBALL).write_bytes((dist / TARBALL).read_bytes())
    (release / "SHA256SUMS").write_text(f"{'0' * 64}  {TARBALL}\n")
    run = run_action(migrations, release_url=f"file://{release}")
    assert run.code == 3, run.log
    assert f"checksum mismatch for {TARBALL}" in run.log, run.log
    assert not list((tmp_path / "runner-temp" / "dbconsultant-install").glob("*/dbconsultant")), "nothing unpacked"


def test_bad_inputs_are_clear_errors(dist, migrations):
    run = run_action(migrations, command="deploy", release_url=f"file://{dist}")
    assert run.code == 3 and "unknown command 'deploy': use lint or validate" in run.log, run.log
    run = run_action(migrations, command="validate", release_url=f"file://{dist}")
    assert run.code == 3 and "command validate needs the database-url input" in run.log, run.log
    run = run_action(migrations, files="no/such/dir", release_url=f"file://{dist}")
    assert run.code == 3 and "no/such/dir" in run.log, run.log
    run = run_action(migrations, release_url=f"file://{dist}/missing")
    assert run.code == 3 and f"cannot download file://{dist}/missing/{TARBALL}" in run.log, run.log
