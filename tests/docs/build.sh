#!/usr/bin/env bash
# Builds the documentation site into target/docs-site/book and checks it: the mdBook book
# (docs/), then the API references under api/ — rustdoc (core crate), pdoc (the installed
# Python package), TypeDoc (bindings-node/index.d.ts) and Javadoc (the javadoc jar of
# `cargo xtask dist`, built by Maven with doclint on and warnings failing the build) — each
# with warnings as errors, then every link of the book (check_links.py).
# Environment: MDBOOK (default: mdbook on the PATH); PYTHON, a Python with pdoc and the
# dbconsultant wheel installed (default: python3); JAVADOC_JAR (default:
# dist/java/dbconsultant-<version>-javadoc.jar). bindings-node needs its `npm install` done.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
site=$root/target/docs-site/book
api=$site/api
rm -rf "$root/target/docs-site"
mkdir -p "$root/target/docs-site"

fail_on_warnings() { # $1 = tool name, $2 = its log: any warning or error line fails the build
  if grep -Eiq '^\s*(\S+\s+)?(warn(ing)?|error)\b|\[(warn(ing)?|error)\]' "$2"; then
    echo "$1 printed warnings (errors here):"; grep -Ei 'warn|error' "$2"; exit 1
  fi
}

echo "mdbook: the book"
"${MDBOOK:-mdbook}" build docs > "$root/target/docs-site/mdbook.log" 2>&1 || { cat "$root/target/docs-site/mdbook.log"; exit 1; }
fail_on_warnings mdbook "$root/target/docs-site/mdbook.log"

echo "rustdoc: the dbconsultant crate"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --quiet -p dbconsultant --no-deps
mkdir -p "$api"
cp -r target/doc "$api/rust"

echo "pdoc: the dbconsultant Python package"
"${PYTHON:-python3}" -W error -m pdoc --docformat markdown -o "$api/python" dbconsultant

echo "TypeDoc: the Node package's declarations"
(cd bindings-node && npx --no-install typedoc --treatWarningsAsErrors --disableSources --tsconfig tsconfig.json \
  --entryPoints index.d.ts --out "$api/node" --logLevel Warn)

echo "Javadoc: the Java SDK"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
jar=${JAVADOC_JAR:-$root/dist/java/dbconsultant-$version-javadoc.jar}
[ -f "$jar" ] || { echo "no javadoc jar at $jar: run cargo xtask dist first"; exit 1; }
mkdir -p "$api/java"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$jar" "$api/java"

python3 tests/docs/check_links.py "$site"
echo "documentation site: $site"
