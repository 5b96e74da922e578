#!/usr/bin/env bash
# Clean-room install test of the release artifacts in dist/ (built by `cargo xtask dist`): in a
# fresh temporary directory, with a PATH holding neither cargo nor rustc and nothing of the
# repository but the example database and migrations, install each artifact the way a user
# would and run its used-by line:
#   CLI     the tarball unpacked onto the PATH: --version, man pages, completions, validations
#   Python  pip install of the wheel into a new venv (no index): db_agent.validate_schema()
#   Node    npm install --offline of the two tarballs into a new project: getReport() from
#           CommonJS and from an ES module
#   Java    a new Maven project depending on the jar installed into a fresh local repository
#           (mvn install:install-file): DatabaseConsultantClient.validateSchema() in JUnit 5
# Usage: tests/install/run.sh [DIST_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(cd "${1:-$root/dist}" && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
target=x86_64-unknown-linux-gnu
room=$(mktemp -d /tmp/dbconsultant-install.XXXXXX)
trap 'rm -rf "$room"' EXIT
python3 "$root/examples/make_shop_db.py" "$room/shop.db" >/dev/null
cp -R "$root/examples/migrations" "$room/migrations"
cp -R "$here/." "$room/tests"
python=$(python3 -c 'import sys; print(sys.executable)')
cd "$room"
# What a user of the artifacts has: system tools, Python, Node, Java and Maven; no Rust.
export PATH="$room/bin:/usr/local/bin:/usr/bin:/bin"
mkdir -p "$room/bin"
ln -s "$python" "$room/bin/python3"
unset CARGO_TARGET_DIR RUSTUP_HOME CARGO_HOME
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "install test: cargo or rustc is on the clean-room PATH ($PATH)" >&2
  exit 1
fi
ok() { printf '  ok  %s\n' "$*"; }

echo "CLI: $dist/dbconsultant-$version-$target.tar.gz"
mkdir cli
tar -xzf "$dist/dbconsultant-$version-$target.tar.gz" -C cli
cli=$room/cli/dbconsultant-$version-$target
export PATH="$cli:$PATH"
[ "$(command -v dbconsultant)" = "$cli/dbconsultant" ]
[ "$(dbconsultant --version)" = "dbconsultant $version" ] || { echo "dbconsultant --version: $(dbconsultant --version)"; exit 1; }
ok "dbconsultant --version = $version"
for doc in README.md LICENSE CHANGELOG.md; do [ -s "$cli/$doc" ]; done
grep -q "^\.TH dbconsultant 1" "$cli/man/man1/dbconsultant.1"
[ -s "$cli/man/man1/dbconsultant-schema-validate.1" ]
ok "README, LICENSE, CHANGELOG, man pages ($(ls "$cli/man/man1" | wc -l) pages)"
bash -c "source '$cli/completions/dbconsultant.bash' && complete -p dbconsultant >/dev/null"
grep -q "#compdef dbconsultant" "$cli/completions/_dbconsultant"
grep -q "complete -c dbconsultant" "$cli/completions/dbconsultant.fish"
ok "bash, zsh and fish completions"
export DBCONSULTANT_STORE=$room/cli-store.db
dbconsultant schema validate --db "sqlite://$room/shop.db" migrations/001_index_order_status.sql >/dev/null
set +e
dbconsultant schema validate --db "sqlite://$room/shop.db" migrations/002_unique_customer_email.sql >cli-002.txt
status=$?
set -e
[ "$status" = 1 ] && grep -q "migration-fails" cli-002.txt || { echo "002 gave exit $status:"; cat cli-002.txt; exit 1; }
ok "schema validate: 001 passes (exit 0), 002 fails (exit 1, migration-fails)"
unset DBCONSULTANT_STORE

echo "Python: $(cd "$dist/python" && ls *.whl)"
python3 -m venv py
py/bin/python -m pip install --quiet --no-index "$dist"/python/dbconsultant-"$version"-*.whl
py/bin/python tests/used_by.py "$version" "$room/shop.db" "$room/migrations"
ok "wheel installed without an index or Rust"

echo "Node: $(cd "$dist/npm" && ls)"
mkdir node && cd node
npm init -y >/dev/null
npm install --offline --silent --no-audit --no-fund "$dist/npm/dbconsultant-$version.tgz" "$dist/npm/dbconsultant-linux-x64-gnu-$version.tgz"
[ ! -e node_modules/dbconsultant/dbconsultant.node ]
# Inside the project, as its own files: modules resolve from the file's directory.
cp ../tests/node/used_by.cjs ../tests/node/used_by.mjs .
node used_by.cjs "$version" "$room/shop.db" "$room/migrations"
node used_by.mjs "$version" "$room/shop.db" "$room/migrations"
cd "$room"
ok "npm packages installed offline, CommonJS and ESM"

echo "Java: $(cd "$dist/java" && ls)"
m2=$room/m2
j=$dist/java/dbconsultant-$version
mvn -B -q -ntp -Dmaven.repo.local="$m2" install:install-file -Dfile="$j.jar" -DpomFile="$j.pom" -Dsources="$j-sources.jar" -Djavadoc="$j-javadoc.jar"
cp -R tests/java java
(cd java && mvn -B -q -ntp -Dmaven.repo.local="$m2" test -Ddbconsultant.version="$version" -Dshop.db="$room/shop.db" -Dmigrations.dir="$room/migrations")
grep -h "Tests run" java/target/surefire-reports/*.txt
ok "jar from a fresh local repository, JUnit 5"
echo "clean-room install: every artifact installed and ran"
