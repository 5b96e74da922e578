"""The pre-commit hook (.pre-commit-hooks.yaml) run by the real pre-commit tool on a
throwaway git repository, through `pre-commit try-repo` on this repository's working tree:
pre-commit builds and installs the CLI itself (pyproject.toml at the root, `language:
python`), passes the staged .sql files and fails the commit on a dangerous migration.
The build reuses the workspace's debug build (CARGO_TARGET_DIR, MATURIN_PEP517_ARGS), so the
test costs one link, not a release build."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, clean_path


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def try_repo(repo: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), clean_path()]),
        "HOME": os.environ.get("HOME", str(cache)),
        "PRE_COMMIT_HOME": str(cache),
        "CARGO_TARGET_DIR": str(ROOT / "target"),
        "MATURIN_PEP517_ARGS": "--profile dev",
        "DBCONSULTANT_STORE": str(cache / "store.db"),
    }
    for name in ("CARGO_HOME", "RUSTUP_HOME", "PIP_INDEX_URL"):
        if name in os.environ:
            env[name] = os.environ[name]
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "dbconsultant-lint", "--verbose"]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)


def test_hook_fails_a_dangerous_migration_and_passes_a_safe_one(tmp_path):
    repo, cache = tmp_path / "app", tmp_path / "pre-commit-cache"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "dev")
    (repo / "db").mkdir()
    (repo / "db" / "001_accounts.sql").write_text("CREATE TABLE accounts (id bigint PRIMARY KEY, legacy text);\n")
    (repo / "notes.txt").write_text("DROP TABLE accounts; -- not SQL, not linted\n")
    git(repo, "add", ".")
    p = try_repo(repo, cache)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "dbconsultant schema lint" in out and "Passed" in out, out

    git(repo, "commit", "-qm", "accounts")
    (repo / "db" / "002_drop_legacy.sql").write_text("ALTER TABLE accounts DROP COLUMN legacy;\nDELETE FROM accounts;\n")
    git(repo, "add", ".")
    p = try_repo(repo, cache)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "Failed" in out, out
    assert "delete-without-where" in out and "db/002_drop_legacy.sql" in out, out
    # Only the staged migration was passed to the hook, not the committed one nor notes.txt.
    assert "001_accounts.sql" not in out.split("dbconsultant schema lint", 1)[1], out
