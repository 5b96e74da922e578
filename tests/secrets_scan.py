"""No password or private key in anything the test run produced.

Run by scripts/test.sh at its end: the secrets are the test servers' passwords (from the
DBCONSULTANT_TEST_*_URL variables scripts/servers.sh exports) and the body of every private
key it made ($DBCONSULTANT_TEST_TLS_DIR/*.key). They are looked for in the whole run's
output (every test suite in every language, logs included), in every file the run left
under the given directories (SQLite stores with their WAL files, reports), and in every
artifact store left on the PostgreSQL test server (pg_dump of the databases that hold one).

usage: secrets_scan.py LOG DIR...
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.parse


def secrets() -> dict[str, str]:
    found = {}
    for var, url in os.environ.items():
        if var.startswith("DBCONSULTANT_TEST_") and var.endswith("_URL") and "://" in url:
            password = urllib.parse.unquote(urllib.parse.urlsplit(url).password or "")
            if len(password) >= 8:
                found[f"the password in ${var}"] = password
    tls = os.environ.get("DBCONSULTANT_TEST_TLS_DIR")
    if tls:
        for key in sorted(pathlib.Path(tls).glob("*.key")):
            body = "".join(line for line in key.read_text().splitlines() if line and not line.startswith("-----"))
            # Lines of base64 wrap anywhere a printer chooses: look for 32-character pieces.
            for i in range(0, max(len(body) - 32, 1), 16):
                found[f"private key {key.name} (from offset {i})"] = body[i:i + 32]
    return found


def scan_bytes(data: bytes, where: str, wanted: dict[str, str]) -> list[str]:
    return [f"{where}: {name}" for name, value in wanted.items() if value.encode() in data]


def store_dumps(admin: str) -> list[tuple[str, bytes]]:
    """Each database on the PostgreSQL test server that holds an artifact store, dumped."""
    names = subprocess.run(["psql", admin, "-XAtc", "SELECT datname FROM pg_database WHERE NOT datistemplate"],
                           capture_output=True, text=True, check=True).stdout.split()
    base = admin.rsplit("/", 1)[0]
    out = []
    for name in names:
        url = f"{base}/{name}"
        holds = subprocess.run(["psql", url, "-XAtc", "SELECT count(*) FROM pg_tables WHERE tablename = 'database_test_runs'"],
                               capture_output=True, text=True)
        if holds.returncode == 0 and holds.stdout.strip() not in ("", "0"):
            dump = subprocess.run(["pg_dump", "--data-only", url], capture_output=True, check=True)
            out.append((f"PostgreSQL store {name}", dump.stdout))
    return out


def scan(log: pathlib.Path, dirs: list[pathlib.Path], wanted: dict[str, str]) -> tuple[list[str], int]:
    leaks = scan_bytes(log.read_bytes(), str(log), wanted)
    files = 0
    for d in dirs:
        for path in d.rglob("*"):
            # Installed packages and servers' own files are not ours; the run's files are.
            if not path.is_file() or path == log or any(p in path.parts for p in ("node_modules", "py-venv", "squawk-venv", "site-packages")):
                continue
            if path.suffix not in (".db", ".db-wal", ".json", ".xml", ".sarif", ".md", ".txt", ".log", ".html"):
                continue
            files += 1
            leaks += scan_bytes(path.read_bytes(), str(path), wanted)
    admin = os.environ.get("DBCONSULTANT_TEST_POSTGRES_URL")
    if admin:
        for where, data in store_dumps(admin):
            files += 1
            leaks += scan_bytes(data, where, wanted)
    return leaks, files


def main() -> int:
    log, dirs = pathlib.Path(sys.argv[1]), [pathlib.Path(d) for d in sys.argv[2:]]
    wanted = secrets()
    if not any(n.startswith("the password") for n in wanted):
        print("no DBCONSULTANT_TEST_*_URL passwords to look for: run through scripts/test.sh")
        return 1
    # The scan itself must be able to fail: a planted secret is found.
    with tempfile.TemporaryDirectory() as tmp:
        planted = pathlib.Path(tmp) / "planted.json"
        name, value = next(iter(wanted.items()))
        planted.write_text(f'{{"leak": "{value}"}}')
        if not scan_bytes(planted.read_bytes(), "planted", {name: value}):
            print("the scanner missed a planted secret")
            return 1
    leaks, files = scan(log, dirs, wanted)
    for leak in leaks:
        print(f"LEAK {leak}")
    print(f"{len(wanted)} secret pieces looked for in the run's output and {files} files and stores: {len(leaks)} found")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
