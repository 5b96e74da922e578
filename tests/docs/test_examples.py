"""Every code block of README.md and docs/ (the generated rule pages excepted: their examples
are checked against the rules in core) is executed or explicitly marked as not runnable with
the reason. A marker is an HTML comment on the line before the block, invisible on GitHub and
in the book:

    <!-- example: not run: REASON -->     the reason is required
    <!-- example: exit N -->              a shell block that must exit with N (default 0)
    <!-- example: output of COMMAND -->   the block is COMMAND's output; `...` matches anything

Unmarked blocks run by language: `sh` with bash in a scratch project (the example migrations
under migrations/ and db/migrations/, the example shop database as shop.db and app.db, the
CLI on the PATH); `toml` through the CLI as a rules file (`[[rule]]`) or a config file; `sql`
linted (no syntax error); `json` parsed (or JSON lines); `yaml` parsed; `rust` compiled as
doctests of the core crate (`cargo test`). Any other unmarked block fails the test."""
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MARK = re.compile(r"^<!-- example: (.*) -->$")


@dataclass
class Block:
    file: Path
    line: int
    lang: str
    text: str
    mark: str | None

    def __str__(self):
        return f"{self.file.relative_to(ROOT)}:{self.line} [{self.lang or 'no language'}]"


def blocks() -> list[Block]:
    files = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md") if "rules" not in p.relative_to(ROOT / "docs").parts)
    found = []
    for f in files:
        lines = f.read_text().split("\n")
        i = 0
        while i < len(lines):
            if lines[i].startswith("```"):
                lang = lines[i][3:].strip().split(",")[0]
                mark = MARK.match(lines[i - 1]) if i else None
                end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
                found.append(Block(f, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", mark.group(1) if mark else None))
                i = end
            i += 1
    return found


BLOCKS = blocks()


def cli() -> Path:
    path = Path(os.environ.get("DBCONSULTANT_BIN", ROOT / "target" / "debug" / "dbconsultant"))
    if not path.is_file():
        pytest.fail(f"no CLI at {path}: build it (cargo build -p dbconsultant-cli) or set DBCONSULTANT_BIN")
    return path


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict]:
    work = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "migrations", work / "migrations")
    shutil.copytree(ROOT / "examples" / "migrations", work / "db" / "migrations")
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_shop_db.py"), str(work / "shop.db")], check=True, capture_output=True)
    shutil.copy(work / "shop.db", work / "app.db")
    env = {**os.environ, "PATH": f"{cli().parent}{os.pathsep}{os.environ['PATH']}", "DBCONSULTANT_STORE": str(tmp_path / "store.db"), "NO_COLOR": "1"}
    return work, env


def matches(expected: str, actual: str) -> bool:
    """Every expected line, in order, on consecutive output lines; `...` inside a line matches
    any text, a line that is only `...` any number of lines."""
    want = [line.rstrip() for line in expected.strip("\n").split("\n")]
    got = [line.rstrip() for line in actual.split("\n")]

    def at(w: int, g: int) -> bool:
        if w == len(want):
            return True
        if want[w].strip() == "...":
            return any(at(w + 1, k) for k in range(g, len(got) + 1))
        pattern = ".*".join(re.escape(part) for part in want[w].split("...")) + "$"
        return g < len(got) and re.match(pattern, got[g]) is not None and at(w + 1, g + 1)

    return any(at(0, start) for start in range(len(got)))


def test_every_block_is_run_or_marked_with_a_reason():
    runnable = {"sh", "toml", "sql", "json", "yaml", "rust"}
    unmarked = [str(b) for b in BLOCKS if b.mark is None and b.lang not in runnable]
    assert not unmarked, f"blocks neither runnable nor marked '<!-- example: not run: REASON -->': {unmarked}"
    empty = [str(b) for b in BLOCKS if b.mark and b.mark.startswith("not run") and not b.mark.partition(":")[2].strip()]
    assert not empty, f"'not run' without a reason: {empty}"


def test_rust_blocks_are_doctests_of_the_core_crate():
    lib = (ROOT / "core" / "src" / "lib.rs").read_text()
    for b in BLOCKS:
        if b.lang == "rust" and b.mark is None:
            rel = os.path.relpath(b.file, ROOT / "core" / "src")
            assert f'include_str!("{rel}")' in lib, f"{b}: not included as a doctest in core/src/lib.rs"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.mark is None and b.lang != "rust"], ids=str)
def test_block_runs(block: Block, project):
    work, env = project
    if block.lang == "sh":
        expected = 0
        p = subprocess.run(["bash", "-eo", "pipefail", "-c", block.text], cwd=work, env=env, capture_output=True, text=True)
        assert p.returncode == expected, f"{block}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    elif block.lang == "toml":
        f = work / "example.toml"
        f.write_text(block.text)
        if "[targets." in block.text:
            # A targets file: the REST service starts with it (the passwords it names set).
            passwords = {var: "example" for var in re.findall(r'password_env = "(\w+)"', block.text)}
            server = subprocess.Popen([str(cli()), "serve", "--listen", "127.0.0.1:0", "--targets", str(f)], cwd=work, env={**env, **passwords}, stderr=subprocess.PIPE, text=True)
            first = server.stderr.readline()
            server.terminate()
            server.wait(timeout=30)
            assert "listening on" in first, f"{block}: the service refused it: {first}{server.stderr.read()}"
            return
        if "[[rule]]" in block.text:
            args = ["integrity", "check", "--db", f"sqlite://{work / 'shop.db'}", "--rules", str(f)]
        else:
            args = ["schema", "lint", "--config", str(f), "migrations/001_index_order_status.sql"]
        p = subprocess.run([str(cli()), *args], cwd=work, env=env, capture_output=True, text=True)
        assert p.returncode in (0, 1), f"{block}: the CLI refused it (exit {p.returncode}): {p.stderr}"
    elif block.lang == "sql":
        f = work / "example.sql"
        f.write_text(block.text)
        p = subprocess.run([str(cli()), "schema", "lint", "--dialect", "postgres", "--format", "json", str(f)], cwd=work, env=env, capture_output=True, text=True)
        assert p.returncode in (0, 1), f"{block}: {p.stderr}"
        assert not [x for x in json.loads(p.stdout)["findings"] if x["rule"] == "syntax-error"], f"{block}: syntax error"
    elif block.lang == "json":
        try:
            json.loads(block.text)
        except json.JSONDecodeError:
            for line in filter(None, block.text.split("\n")):
                json.loads(line)
    elif block.lang == "yaml":
        assert yaml.safe_load(block.text) is not None, block


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.mark and b.mark.startswith(("exit ", "output of "))], ids=str)
def test_marked_block_behaves_as_shown(block: Block, project):
    work, env = project
    if block.mark.startswith("exit "):
        code = int(block.mark.split()[1])
        p = subprocess.run(["bash", "-o", "pipefail", "-c", block.text], cwd=work, env=env, capture_output=True, text=True)
        assert p.returncode == code, f"{block}: exit {p.returncode}, the page says {code}\n{p.stdout}\n{p.stderr}"
    else:
        command = block.mark.removeprefix("output of ").strip()
        p = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True)
        assert matches(block.text, p.stdout), f"{block}: the page shows\n{block.text}\nbut `{command}` printed\n{p.stdout}{p.stderr}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.mark and b.mark.startswith("not run") and b.lang in ("python", "js")], ids=str)
def test_blocks_not_run_still_parse(block: Block, tmp_path: Path):
    """A block that cannot run here is still valid code in its language: Python compiles, and
    JavaScript passes `node --check` as the module kind it says it is (an ES module when it
    imports; CommonJS otherwise, where a top-level `await` is a syntax error)."""
    if block.lang == "python":
        compile(block.text, str(block), "exec")
    else:
        module = re.search(r"^import\s", block.text, re.M) is not None
        f = tmp_path / ("example.mjs" if module else "example.cjs")
        f.write_text(block.text)
        p = subprocess.run(["node", "--check", str(f)], capture_output=True, text=True)
        assert p.returncode == 0, f"{block}: {p.stderr}"
