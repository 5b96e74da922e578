"""Shared setup for the integration tests: the repository, the release artifacts built by
`cargo xtask dist` (DBCONSULTANT_DIST; the test command sets it), a PATH without any
dbconsultant on it (each test installs its own, as a fresh CI runner would)."""
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = next(line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines() if line.startswith("version = "))
TARBALL = f"dbconsultant-{VERSION}-x86_64-unknown-linux-gnu.tar.gz"


@pytest.fixture(scope="session")
def dist() -> Path:
    value = os.environ.get("DBCONSULTANT_DIST")
    if not value:
        pytest.fail("DBCONSULTANT_DIST is not set: run `cargo xtask dist` and point it at dist/")
    path = Path(value)
    if not (path / TARBALL).is_file() or not (path / "SHA256SUMS").is_file():
        pytest.fail(f"{path} holds no {TARBALL} and SHA256SUMS: run `cargo xtask dist` first")
    return path


def clean_path() -> str:
    """The PATH with every directory holding a dbconsultant executable left out."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "dbconsultant").exists()]
    return os.pathsep.join(dirs)


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A project checkout: the example migrations under migrations/."""
    work = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "migrations", work / "migrations")
    return work
