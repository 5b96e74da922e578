#!/usr/bin/env bash
# What the Java SDK (JNI) adds to a call: validateSchema on the example database through the
# Rust API in-process and through the Java client, in one run; then 8 threads x 8 calls.
# Usage: tests/bench/jni_overhead.sh [N]   (after `mvn install` in bindings-java)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 examples/make_shop_db.py "$work/shop.db" >/dev/null
migration=$PWD/examples/migrations/002_unique_customer_email.sql
cargo build -q --release -p dbconsultant --example validate_loop
rust=$(target/release/examples/validate_loop "sqlite://$work/shop.db" "$migration" "$n" "$work/rust.db")
(cd bindings-java && mvn -B -q -ntp dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null)
out=$(java -cp "bindings-java/target/classes:$(cat "$work/cp.txt")" tests/bench/JniOverhead.java "sqlite://$work/shop.db" "$migration" "$n" "$work/java.db")
java_ms=$(echo "$out" | sed -n 1p)
ok=$(echo "$out" | sed -n 2p)
python3 - "$rust" "$java_ms" "$n" "$ok" <<'PY'
import sys
rust, java, n, ok = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"| validateSchema, example 002 on shop.db | median ms ({n} calls) |")
print("|---|---:|")
print(f"| Rust API (in-process) | {rust:.2f} |")
print(f"| Java SDK (JNI) | {java:.2f} |")
print(f"\nbinding overhead: {java - rust:+.2f} ms per call ({(java - rust) / rust * 100:+.1f}%); target < 2 ms or < 5%")
print(f"8 threads x 8 concurrent calls: {ok}/64 correct")
PY
