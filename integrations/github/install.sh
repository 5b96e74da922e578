#!/usr/bin/env bash
# Installs the dbconsultant CLI for the GitHub Action (action.yml, step "install"): the release
# tarball for this runner's platform, checked against the release's SHA256SUMS, unpacked under
# $RUNNER_TEMP and put on $GITHUB_PATH. A CLI of the requested version already on the PATH is
# used as is.
# Inputs (environment): INPUT_VERSION, INPUT_RELEASE_URL (empty: this action's repository's
# release v<version>), ACTION_REPOSITORY, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH.
set -euo pipefail
version=${INPUT_VERSION:?the version input is empty}
fail() { echo "::error title=dbconsultant install::$*"; exit 3; }

if command -v dbconsultant >/dev/null && [ "$(dbconsultant --version)" = "dbconsultant $version" ]; then
  echo "dbconsultant $version is already on the PATH: $(command -v dbconsultant)"
  exit 0
fi

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  *) fail "no dbconsultant release for runner ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} (Linux X64/ARM64, macOS X64/ARM64, Windows X64)" ;;
esac

base=${INPUT_RELEASE_URL:-}
if [ -z "$base" ]; then
  [ -n "${ACTION_REPOSITORY:-}" ] || fail "release-url is empty and the action's repository is unknown"
  base="https://github.com/$ACTION_REPOSITORY/releases/download/v$version"
fi
base=${base%/}
name="dbconsultant-$version-$target"
dir="${RUNNER_TEMP:?}/dbconsultant-install"
rm -rf "$dir" && mkdir -p "$dir"

fetch() { # $1 = file name under the release; saved under $dir
  curl --fail --silent --show-error --location --retry 3 --output "$dir/$1" "$base/$1" || fail "cannot download $base/$1"
}
fetch "$name.tar.gz"
fetch SHA256SUMS
# SHA256SUMS lists artifacts by their path in dist/; the tarball is at its top level.
expected=$(awk -v f="$name.tar.gz" '$2 == f || $2 == "*" f { print $1 }' "$dir/SHA256SUMS")
[ -n "$expected" ] || fail "$name.tar.gz is not listed in $base/SHA256SUMS"
if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$dir/$name.tar.gz" | cut -d' ' -f1)
else
  actual=$(shasum -a 256 "$dir/$name.tar.gz" | cut -d' ' -f1)
fi
[ "$actual" = "$expected" ] || fail "checksum mismatch for $name.tar.gz: SHA256SUMS says $expected, the download is $actual"

tar -xzf "$dir/$name.tar.gz" -C "$dir"
bin="$dir/$name"
installed=$("$bin/dbconsultant" --version) || fail "the downloaded CLI does not run on this runner"
[ "$installed" = "dbconsultant $version" ] || fail "the tarball holds '$installed', expected dbconsultant $version"
echo "$bin" >> "${GITHUB_PATH:?}"
echo "installed $installed from $base into $bin"
