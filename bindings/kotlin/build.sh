#!/usr/bin/env bash
# Builds rehome.jar, the Kotlin/JVM library: the sources the workspace's own uniffi-bindgen
# generates from the release librehome_ffi.so, compiled by kotlinc, with the native library
# inside the jar (JNA loads it from the classpath, under its platform folder).
#
#   bindings/kotlin/build.sh     # -> $CARGO_TARGET_DIR/kotlin/rehome.jar (default: target/)
#
# Needs kotlinc 2.x (KOTLINC, else on PATH, else npm's global kotlin-compiler), JNA (JNA_JAR,
# default Debian's /usr/share/java/jna.jar from libjna-java), and kotlinc's own
# lib/kotlinx-coroutines-core-jvm.jar (the async calls are suspend functions). Running it
# again recompiles only when the generated sources changed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/kotlin"
# npm's kotlin-compiler puts only kotlinc-js on PATH: look in its global install too.
KOTLINC="${KOTLINC:-$(command -v kotlinc || true)}"
if [ -z "$KOTLINC" ] && command -v npm >/dev/null; then
    KOTLINC="$(npm root -g)/kotlin-compiler/bin/kotlinc"
fi
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
[ -x "$KOTLINC" ] || { echo "kotlinc not found: set KOTLINC or put it on PATH" >&2; exit 1; }
[ -f "$JNA_JAR" ] || { echo "JNA not found at $JNA_JAR: apt-get install libjna-java" >&2; exit 1; }
KOTLIN_LIB="$(cd "$(dirname "$(readlink -f "$KOTLINC")")/../lib" && pwd)"
COROUTINES_JAR="$KOTLIN_LIB/kotlinx-coroutines-core-jvm.jar"

cd "$ROOT"
# REHOME_FFI_LIB: a library built already (scripts/bindings-test.sh passes maturin's, so the
# release library is compiled once).
LIB="${REHOME_FFI_LIB:-}"
if [ -z "$LIB" ]; then
    cargo build --release --quiet -p rehome-ffi --target-dir "$TARGET"
    LIB="$TARGET/release/librehome_ffi.so"
fi
# The generator must be the uniffi version the library was built with: the workspace's own,
# in its own workspace (kept out of `cargo build --workspace`), built into the same target dir.
cargo build --quiet --manifest-path bindings/uniffi-bindgen/Cargo.toml --target-dir "$TARGET"
BINDGEN="$TARGET/debug/uniffi-bindgen"

case "$(uname -m)" in
    x86_64) PLATFORM=linux-x86-64 ;;
    aarch64) PLATFORM=linux-aarch64 ;;
    *) PLATFORM="linux-$(uname -m)" ;;
esac

mkdir -p "$OUT"
rm -rf "$OUT/generated.new"
"$BINDGEN" generate --library "$LIB" --language kotlin \
    --out-dir "$OUT/generated.new" --no-format >/dev/null
if [ -f "$OUT/rehome.jar" ] && diff -rq "$OUT/generated.new" "$OUT/generated" >/dev/null 2>&1; then
    rm -rf "$OUT/generated.new"
else
    rm -rf "$OUT/generated" "$OUT/classes"
    mv "$OUT/generated.new" "$OUT/generated"
    echo "   kotlinc: compiling the generated bindings"
    if ! "$KOTLINC" -nowarn -jvm-target 17 -cp "$JNA_JAR:$COROUTINES_JAR" \
        -d "$OUT/classes" $(find "$OUT/generated" -name '*.kt') >"$OUT/kotlinc.log" 2>&1; then
        cat "$OUT/kotlinc.log" >&2
        rm -rf "$OUT/generated"
        exit 1
    fi
fi
# The library changes more often than its interface: always package the current one.
mkdir -p "$OUT/classes/$PLATFORM"
cp "$LIB" "$OUT/classes/$PLATFORM/librehome_ffi.so"
rm -f "$OUT/rehome.jar"
(cd "$OUT/classes" && jar cf "$OUT/rehome.jar" .)
echo "$OUT/rehome.jar"
