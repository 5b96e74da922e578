#!/bin/sh
# Maven's generate-resources step: builds the JNI library with cargo for this platform and
# puts it under the jar's native/<os>-<arch>/, together with any libraries of other platforms
# a CI build matrix left in bindings-java/natives/<os>-<arch>/; writes native/platforms.txt,
# the list the loader names when the jar holds no library for the platform it runs on.
# Usage: scripts/native.sh OUTPUT_DIR
set -eu
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$(uname -s)" in
  Linux) os=linux lib=libdbconsultant_java.so ;;
  Darwin) os=darwin lib=libdbconsultant_java.dylib ;;
  MINGW* | MSYS* | CYGWIN*) os=windows lib=dbconsultant_java.dll ;;
  *) echo "native.sh: no build for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) echo "native.sh: no build for $(uname -m)" >&2; exit 1 ;;
esac
# The same packages as `cargo xtask dist` and the Node build: one feature set for the shared
# dependencies, so whichever runs first builds them and the others reuse it.
(cd "$root" && cargo build --release --locked -p dbconsultant-cli -p dbconsultant-node -p dbconsultant-java)
mkdir -p "$out/native/$os-$arch"
cp "$root/target/release/$lib" "$out/native/$os-$arch/"
if [ -d "$root/bindings-java/natives" ]; then
  cp -R "$root/bindings-java/natives/." "$out/native/"
fi
(cd "$out/native" && for d in */; do echo "${d%/}"; done) > "$out/native/platforms.txt"
