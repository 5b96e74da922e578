#!/usr/bin/env python3
"""Write a deterministic PostgreSQL migration of N statements (default 5000) mixing the
statement kinds real migrations contain: tables, indexes, columns, constraints, backfills."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
out = open(sys.argv[2], "w") if len(sys.argv) > 2 else sys.stdout
rng = random.Random(42)
# Most statements alter tables that already exist in production (e0..e49); some create new ones.
existing = [f"e{i}" for i in range(50)]
tables = []
written = 0

def emit(sql):
    global written
    out.write(sql + ";\n")
    written += 1

emit("SET lock_timeout = '2s'")
while written < n:
    kind = rng.random()
    if kind < 0.05:
        t = f"t{len(tables)}"
        tables.append(t)
        emit(f"CREATE TABLE {t} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
             f"    owner_id bigint NOT NULL,\n    name text NOT NULL,\n    amount numeric(12, 2),\n"
             f"    created_at timestamptz NOT NULL DEFAULT now()\n)")
        continue
    t = rng.choice(tables) if tables and rng.random() < 0.2 else rng.choice(existing)
    c = f"c{written}"
    if kind < 0.30:
        emit(f"CREATE INDEX CONCURRENTLY idx_{t}_{c} ON {t} (owner_id, created_at) WHERE amount > {rng.randint(0, 99)}")
    elif kind < 0.45:
        emit(f"CREATE INDEX idx_{t}_{c} ON {t} (name)")
    elif kind < 0.60:
        emit(f"ALTER TABLE {t} ADD COLUMN {c} text DEFAULT 'x'")
    elif kind < 0.68:
        emit(f"ALTER TABLE {t} ADD COLUMN {c} integer NOT NULL")
    elif kind < 0.76:
        other = rng.choice(existing + tables)
        emit(f"ALTER TABLE {t} ADD CONSTRAINT fk_{t}_{c} FOREIGN KEY (owner_id) REFERENCES {other} (id)")
    elif kind < 0.82:
        emit(f"ALTER TABLE {t} ALTER COLUMN name SET NOT NULL")
    elif kind < 0.88:
        emit(f"UPDATE {t} SET amount = 0 WHERE amount IS NULL AND id < {rng.randint(1000, 99999)}")
    elif kind < 0.93:
        emit(f"ALTER TABLE {t} ALTER COLUMN amount TYPE numeric(14, 2)")
    elif kind < 0.97:
        emit(f"COMMENT ON TABLE {t} IS 'table {t}, statement {written}'")
    else:
        emit(f"DROP INDEX IF EXISTS idx_{t}_old_{written}")
