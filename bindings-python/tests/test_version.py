"""One version everywhere: the native core's, the installed distribution's and the workspace's."""
import importlib.metadata
import pathlib
import re

import dbconsultant

WORKSPACE = pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml"


def workspace_version() -> str:
    match = re.search(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', WORKSPACE.read_text(), re.M | re.S)
    assert match, "no [workspace.package] version in Cargo.toml"
    return match.group(1)


def test_version_is_the_workspace_version() -> None:
    assert dbconsultant.__version__ == workspace_version()


def test_installed_distribution_has_the_same_version() -> None:
    assert importlib.metadata.version("dbconsultant") == dbconsultant.__version__
