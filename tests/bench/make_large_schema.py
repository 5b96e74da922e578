#!/usr/bin/env python3
"""Generate the large-schema benchmark database: N tables (default 10,000), each with a
primary key, a unique constraint, a CHECK and a foreign key to its parent in a 10-ary tree
(t00000 is the root); the first 100 hold 10,000-100,000 rows, the rest are empty. Twenty of
the populated tables carry planted violations of three kinds, with counts known in advance:
orphaned foreign keys (t00001-t00007), CHECK violations (t00008-t00014) and duplicates under a
user `unique` rule (t00015-t00020).

Usage: make_large_schema.py postgres|mariadb TABLES OUT_DIR
Writes OUT_DIR/schema.sql (the whole load, for psql or the mariadb client), OUT_DIR/rules.toml
(the unique rules) and OUT_DIR/expected.json ({"table|constraint": failing rows}).
"""
import json
import os
import sys

dialect, tables, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
assert dialect in ("postgres", "mariadb"), dialect
os.makedirs(out, exist_ok=True)
POPULATED = min(100, tables)
ORPHANS, CHECKS, DUPLICATES = range(1, 8), range(8, 15), range(15, 21)


def name(i):
    return f"t{i:05d}"


def rows(i):
    # The root holds the most rows so every child's ref_id (1..10,000) has a parent.
    return 100_000 if i == 0 else 10_000 + i * 900


def parent(i):
    return i // 10


expected = {}
lines = []
if dialect == "postgres":
    lines.append("SET client_min_messages = warning;")
else:
    # Planted violations are loaded past the checks a server would make.
    lines.append("SET SESSION foreign_key_checks = 0;")
    lines.append("SET SESSION check_constraint_checks = 0;")
    lines.append("SET SESSION unique_checks = 0;")

for i in range(tables):
    t = name(i)
    populated = i < POPULATED
    columns = [
        "id bigint PRIMARY KEY",
        "code varchar(40) NOT NULL",
        "ref_id bigint",
        "qty integer NOT NULL",
        "ext_ref varchar(40)",
        "note varchar(100)",
        f"CONSTRAINT {t}_code_key UNIQUE (code)",
    ]
    inline = dialect == "mariadb" or not populated
    if inline:
        columns.append(f"CONSTRAINT {t}_qty_check CHECK (qty >= 0)")
        if i > 0:
            columns.append(f"CONSTRAINT {t}_ref_fk FOREIGN KEY (ref_id) REFERENCES {name(parent(i))} (id)")
    engine = " ENGINE=InnoDB" if dialect == "mariadb" else ""
    lines.append(f"CREATE TABLE {t} ({', '.join(columns)}){engine};")
    if not populated:
        continue
    n = rows(i)
    ref = "1 + (g % 10000)"
    qty = "g % 1000"
    ext = "g"
    if i in ORPHANS:
        ref = "CASE WHEN g % 97 = 0 THEN 200000 + g ELSE 1 + (g % 10000) END"
        expected[f"{t}|{t}_ref_fk"] = n // 97
    if i in CHECKS:
        qty = "CASE WHEN g % 89 = 0 THEN -1 ELSE g % 1000 END"
        expected[f"{t}|{t}_qty_check"] = n // 89
    if i in DUPLICATES:
        ext = "CASE WHEN g % 83 = 0 THEN g - 1 ELSE g END"
        expected[f"{t}|unique {t}(ext_ref)"] = 2 * (n // 83)
    if dialect == "postgres":
        lines.append(
            f"INSERT INTO {t} SELECT g, 'c' || g, {ref}, {qty}, 'x' || ({ext}), 'n' || (g % 50) FROM generate_series(1, {n}) g;"
        )
        lines.append(f"ALTER TABLE {t} ADD CONSTRAINT {t}_qty_check CHECK (qty >= 0) NOT VALID;")
        if i > 0:
            lines.append(
                f"ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref_id) REFERENCES {name(parent(i))} (id) NOT VALID;"
            )
    else:
        lines.append(
            f"INSERT INTO {t} SELECT g, CONCAT('c', g), {ref}, {qty}, CONCAT('x', {ext}), CONCAT('n', g % 50) "
            f"FROM (SELECT seq AS g FROM seq_1_to_{n}) s;"
        )

if dialect == "postgres":
    lines.append("VACUUM ANALYZE;")
else:
    lines.append("SET SESSION foreign_key_checks = 1;")
    lines.append("SET SESSION check_constraint_checks = 1;")
    lines.append(f"ANALYZE TABLE {', '.join(name(i) for i in range(POPULATED))};")

with open(os.path.join(out, "schema.sql"), "w") as f:
    f.write("\n".join(lines) + "\n")
with open(os.path.join(out, "rules.toml"), "w") as f:
    for i in DUPLICATES:
        if i < tables:
            f.write(f'[[rule]]\ntable = "{name(i)}"\ntype = "unique"\ncolumns = ["ext_ref"]\n\n')
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
