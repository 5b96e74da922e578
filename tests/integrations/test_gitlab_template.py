"""The GitLab CI template's job run as a GitLab runner runs a job: `before_script` and
`script` lines in one bash (`set -eo pipefail`), the job's variables (with the overrides a
project sets) and CI_PROJECT_DIR in the environment, the working directory the checkout. The
report it leaves must be in GitLab's code quality format."""
import json
import os
import subprocess
from pathlib import Path

import yaml

from conftest import ROOT, clean_path

TEMPLATE = ROOT / "integrations" / "gitlab" / "dbconsultant.gitlab-ci.yml"
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def run_job(work: Path, **variables) -> subprocess.CompletedProcess:
    job = yaml.safe_load(TEMPLATE.read_text())[".dbconsultant-lint"]
    assert set(variables) <= set(job["variables"]), f"not variables of the template: {set(variables) - set(job['variables'])}"
    env = {
        "PATH": clean_path(),
        "HOME": os.environ.get("HOME", str(work)),
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(work),
        "CI_BUILDS_DIR": str(work.parent / "builds"),
        **{k: str(v) for k, v in job["variables"].items()},
        **variables,
    }
    script = "set -eo pipefail\n" + "\n".join([*job["before_script"], *job["script"]]) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True)


def code_quality_report(path: Path) -> list:
    report = json.loads(path.read_text())
    assert isinstance(report, list)
    for issue in report:
        assert isinstance(issue["description"], str) and issue["description"], issue
        assert isinstance(issue["check_name"], str) and issue["check_name"], issue
        assert issue["severity"] in SEVERITIES, issue
        assert isinstance(issue["location"]["path"], str) and not issue["location"]["path"].startswith("/"), issue
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1, issue
    fingerprints = [i["fingerprint"] for i in report]
    assert len(set(fingerprints)) == len(fingerprints), "fingerprints are unique"
    return report


def test_job_lints_and_leaves_a_code_quality_report(dist, migrations):
    p = run_job(migrations, DBCONSULTANT_RELEASE_URL=f"file://{dist}")
    assert p.returncode == 1, p.stdout + p.stderr
    report = code_quality_report(migrations / "gl-code-quality-report.json")
    drops = [i for i in report if i["check_name"] == "dbconsultant/ban-drop-table" and i["severity"] == "blocker"]
    assert drops and drops[0]["location"] == {"path": "migrations/003_cleanup_legacy.sql", "lines": {"begin": 2}}, drops
    artifacts = yaml.safe_load(TEMPLATE.read_text())[".dbconsultant-lint"]["artifacts"]
    assert artifacts["reports"]["codequality"] == "gl-code-quality-report.json" and artifacts["when"] == "always"


def test_job_passes_a_safe_migration_with_an_empty_report(dist, tmp_path):
    work = tmp_path / "project"
    (work / "migrations").mkdir(parents=True)
    (work / "migrations" / "001.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    p = run_job(work, DBCONSULTANT_RELEASE_URL=f"file://{dist}", DBCONSULTANT_FAIL_ABOVE="50")
    assert p.returncode == 0, p.stdout + p.stderr
    assert code_quality_report(work / "gl-code-quality-report.json") == []


def test_job_without_a_release_url_says_so(migrations):
    p = run_job(migrations)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "set DBCONSULTANT_RELEASE_URL" in p.stdout
