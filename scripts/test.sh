#!/usr/bin/env bash
# Runs every test in every language, installing what the tests need first.
# Everything it fetches goes under target/test-deps inside this clone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deps=$root/target/test-deps
mkdir -p "$deps"
# Incremental caches roughly double the target directory; CI builds once, from clean.
export CARGO_INCREMENTAL=0
start=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }
# Everything the run prints is also kept, to be searched for secrets at the end.
log=$deps/test-run.log
exec > >(tee "$log") 2>&1

step "system packages"
missing=()
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v python3 >/dev/null || missing+=(python3)
# pg_query (the PostgreSQL grammar) generates its bindings with bindgen, which needs libclang.
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || ls /usr/lib/*/libclang*.so >/dev/null 2>&1 || missing+=(libclang-dev)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "report schemas (SARIF 2.1.0 from npm, JUnit junit-10.xsd from the pytest sdist on PyPI)"
sarif=$deps/sarif/package/lib/schemas/sarif-2.1.0-rtm.5.json
if [ ! -f "$sarif" ]; then
  mkdir -p "$deps/sarif"
  (cd "$deps/sarif" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null && tar -xzf microsoft-jest-sarif-1.0.0-beta.0.tgz)
fi
junit=$deps/junit/pytest-9.2.0/testing/example_scripts/junit-10.xsd
if [ ! -f "$junit" ]; then
  mkdir -p "$deps/junit"
  python3 -m pip download --quiet --no-binary :all: --no-deps pytest==9.2.0 -d "$deps/junit"
  tar -xzf "$deps/junit/pytest-9.2.0.tar.gz" -C "$deps/junit" pytest-9.2.0/testing/example_scripts/junit-10.xsd
fi
export DBCONSULTANT_SARIF_SCHEMA=$sarif DBCONSULTANT_JUNIT_XSD=$junit

step "database servers (PostgreSQL, MariaDB)"
# shellcheck source=scripts/servers.sh
source scripts/servers.sh
start_servers

step "house rules: generated files current, cargo fmt --check, cargo clippy -D warnings (every crate, every target)"
cargo xtask codegen --check
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings

step "squawk-cli 2.70.0 from PyPI (the parity test runs the real squawk)"
[ -x "$deps/squawk-venv/bin/squawk" ] || { python3 -m venv "$deps/squawk-venv" && "$deps/squawk-venv/bin/python" -m pip install --quiet squawk-cli==2.70.0; }
export DBCONSULTANT_SQUAWK=$deps/squawk-venv/bin/squawk

step "Rust: core and CLI"
cargo test --locked   # default members: core and cli (bindings are tested by their own runners)

step "fault injection: parallel first use and runs, kill -9 / SIGTERM / Ctrl-C mid-run, server restart, target stopped mid-run, store and sandbox disks full (tests/faults)"
cargo build --locked -p dbconsultant-cli
DBCONSULTANT_BIN=$root/target/debug/dbconsultant python3 tests/faults/run.py

step "release artifacts: cargo xtask dist (CLI tarball, wheel and sdist, npm packages, jar, core crate via cargo publish --dry-run)"
venv=$deps/py-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet pytest mypy "maturin>=1.5,<2"
MATURIN=$venv/bin/maturin cargo xtask dist

step "clean-room install of every artifact, no Rust on the PATH (tests/install/run.sh); cargo install --path cli"
tests/install/run.sh "$root/dist"
rm -rf "$deps/cargo-install"
# --debug: the debug build of the CLI above is reused (a release build of the CLI alone would
# resolve other features than dist's and rebuild everything for minutes).
CARGO_TARGET_DIR=$root/target cargo install --quiet --debug --locked --path cli --root "$deps/cargo-install"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
installed=$("$deps/cargo-install/bin/dbconsultant" --version)
[ "$installed" = "dbconsultant $version" ] || { echo "cargo install --path cli: '$installed', expected 'dbconsultant $version'"; exit 1; }

step "Python SDK: the wheel from dist/, pytest, mypy"
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps dist/python/dbconsultant-*.whl
(cd bindings-python && "$venv/bin/python" -m pytest -q tests)
"$venv/bin/python" -m mypy --strict --no-error-summary examples/python
(cd bindings-python/python && "$venv/bin/python" -m mypy --strict --no-error-summary dbconsultant)
python3 examples/make_shop_db.py "$deps/example-shop.db" >/dev/null
set +e
DBCONSULTANT_STORE="$deps/example-store.db" "$venv/bin/python" examples/python/ci_validate.py "sqlite://$deps/example-shop.db" examples/migrations/001_index_order_status.sql
safe=$?
DBCONSULTANT_STORE="$deps/example-store.db" "$venv/bin/python" examples/python/ci_validate.py "sqlite://$deps/example-shop.db" examples/migrations/002_unique_customer_email.sql >/dev/null
unsafe=$?
set -e
[ "$safe" = 0 ] && [ "$unsafe" = 1 ] || { echo "examples/python/ci_validate.py: expected exit 0 then 1, got $safe then $unsafe"; exit 1; }

step "MCP server: the official Python MCP client (pinned) against SQLite, PostgreSQL, MariaDB"
"$venv/bin/python" -m pip install --quiet "mcp==2.3.0"
(cd tests/mcp && DBCONSULTANT_BIN="$root/target/debug/dbconsultant" "$venv/bin/python" -m pytest -q -s .)

step "REST service: dbconsultant serve with API keys, roles and named targets (SQLite, PostgreSQL); the OpenAPI 3.1 document checked by openapi-spec-validator, and every request and answer by openapi-core (tests/rest)"
"$venv/bin/python" -m pip install --quiet "openapi-spec-validator==0.7.2" "openapi-core==0.19.5" "requests==2.34.2" "PyJWT[crypto]==2.10.1"
(cd tests/rest && DBCONSULTANT_BIN="$root/target/debug/dbconsultant" "$venv/bin/python" -m pytest -q .)

step "CI integrations: the pre-commit hook under the real pre-commit, the GitHub Action's steps as a runner runs them, the GitLab template's job (tests/integrations)"
"$venv/bin/python" -m pip install --quiet "pre-commit==4.7.0" pyyaml
DBCONSULTANT_DIST="$root/dist" "$venv/bin/python" -m pytest -q tests/integrations

step "Node SDK: cargo build of the addon, node --test, tsc --strict"
(
  cd bindings-node
  npm install --silent --no-audit --no-fund
  node scripts/build.js
  node --test test/
  npx tsc -p tsconfig.json
)

step "Java SDK: cargo build of the JNI library, JUnit 5 (mvn -B install), the example project"
python3 examples/make_shop_db.py "$deps/java-shop.db" >/dev/null
(cd bindings-java && mvn -B -q -ntp install)
(cd examples/java && mvn -B -q -ntp test -Dshop.db="$deps/java-shop.db")
cat bindings-java/target/surefire-reports/*.txt examples/java/target/surefire-reports/*.txt | grep "Tests run"

step "documentation site: mdBook, with rustdoc, pdoc, TypeDoc and Javadoc API references, warnings as errors, every link checked (tests/docs)"
[ -x "$deps/mdbook/bin/mdbook" ] || cargo install --quiet --locked mdbook@0.5.4 --root "$deps/mdbook"
"$venv/bin/python" -m pip install --quiet "pdoc==16.0.0"
"$venv/bin/python" -m pytest -q tests/docs
MDBOOK="$deps/mdbook/bin/mdbook" PYTHON="$venv/bin/python" bash tests/docs/build.sh

step "Python sdist: builds from source (pip wheel, maturin, cargo)"
# The shared target directory lets the build reuse compiled crates.io dependencies.
rm -rf "$deps/sdist-wheel"
CARGO_TARGET_DIR="$root/target" "$venv/bin/python" -m pip wheel --quiet --no-deps dist/python/dbconsultant-*.tar.gz -w "$deps/sdist-wheel"
ls "$deps"/sdist-wheel/dbconsultant-*-abi3-*.whl

step "no password or private key in the run's output, its files or the stores it left (tests/secrets_scan.py)"
python3 tests/secrets_scan.py "$log" "$deps" "$root/bindings-java/target/surefire-reports" "$root/examples/java/target"

step "done in $(( $(date +%s) - start ))s"
