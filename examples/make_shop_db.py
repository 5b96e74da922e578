#!/usr/bin/env python3
"""Build examples/shop.db from examples/sqlite/shop.sql (standard library only)."""
import pathlib
import sqlite3
import sys

here = pathlib.Path(__file__).resolve().parent
target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / "shop.db"
target.unlink(missing_ok=True)
with sqlite3.connect(target) as db:
    db.executescript((here / "sqlite" / "shop.sql").read_text())
print(f"built {target}")
