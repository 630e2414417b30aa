#!/usr/bin/env bash
# Builds the Python and Kotlin bindings and runs their tests and examples:
#
#   1. tools, installed when missing: maturin and pytest in a venv under the cargo target dir,
#      kotlinc from npm's kotlin-compiler (a local install there too), JNA from Debian's
#      libjna-java, a JDK from Debian when there is no java/jar;
#   2. the workspace's own uniffi-bindgen (bindings/uniffi-bindgen, its own workspace);
#   3. the wheel (maturin, release, not stripped), installed into a fresh venv: pytest over
#      bindings/python/tests, then examples/python/intake.py;
#   4. rehome.jar from the same library (bindings/kotlin/build.sh): the Kotlin test program,
#      then examples/kotlin/Intake.kt.
#
# The release library is built once, by maturin, and reused for the jar. Running the script
# again reuses the tools, the target dir and the compiled jar when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TARGET_DIR="$TARGET"
TOOLS="$TARGET/bindings-tools"
mkdir -p "$TOOLS/bin"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

apt_install() {
    echo "   installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

echo "== bindings: tools (${SECONDS}s)"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$TOOLS/venv/bin/maturin" ] || [ ! -x "$TOOLS/venv/bin/pytest" ]; then
    echo "   installing maturin and pytest into $TOOLS/venv"
    "$PYTHON" -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2" "pytest>=7"
fi
# kotlinc 2.x: on PATH, else npm's global kotlin-compiler (whose package puts only kotlinc-js
# on PATH), else a local install of it here.
NPM_KOTLINC="$(npm root -g 2>/dev/null || true)/kotlin-compiler/bin/kotlinc"
if command -v kotlinc >/dev/null && kotlinc -version 2>&1 | grep -q 'kotlinc-jvm 2\.'; then
    KOTLINC="$(command -v kotlinc)"
elif [ -x "$NPM_KOTLINC" ]; then
    KOTLINC="$NPM_KOTLINC"
else
    KOTLINC="$TOOLS/kotlin/node_modules/kotlin-compiler/bin/kotlinc"
    if [ ! -x "$KOTLINC" ]; then
        echo "   installing kotlin-compiler from npm into $TOOLS/kotlin"
        npm install --silent --no-audit --no-fund --prefix "$TOOLS/kotlin" kotlin-compiler@2 >/dev/null
    fi
fi
export KOTLINC
KOTLIN_LIB="$(cd "$(dirname "$(readlink -f "$KOTLINC")")/../lib" && pwd)"
command -v java >/dev/null && command -v jar >/dev/null || apt_install default-jdk-headless
export JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
[ -f "$JNA_JAR" ] || apt_install libjna-java

echo "== bindings: uniffi-bindgen (${SECONDS}s)"
# Its own workspace, so `cargo build --workspace` never compiles it; a debug build suffices.
cargo build --quiet --manifest-path bindings/uniffi-bindgen/Cargo.toml --target-dir "$TARGET"
cp "$TARGET/debug/uniffi-bindgen" "$TOOLS/bin/uniffi-bindgen"
export PATH="$TOOLS/bin:$PATH"

echo "== bindings: Python wheel (${SECONDS}s)"
rm -f "$TARGET"/wheels/rehome-*.whl
(cd bindings/python && "$TOOLS/venv/bin/maturin" build --quiet --release --out "$TARGET/wheels")
WHEEL="$(ls "$TARGET"/wheels/rehome-*.whl)"
LIB="$TARGET/release/librehome_ffi.so"

echo "== bindings: pytest (the wheel in a fresh venv) (${SECONDS}s)"
"$PYTHON" -m venv "$SCRATCH/venv"
"$SCRATCH/venv/bin/pip" install -q --disable-pip-version-check "$WHEEL" "pytest>=7"
(cd bindings/python && "$SCRATCH/venv/bin/python" -m pytest -q -p no:cacheprovider tests)

echo "== bindings: Python example (${SECONDS}s)"
"$SCRATCH/venv/bin/python" examples/python/intake.py "sqlite://$SCRATCH/python-example.db"

echo "== bindings: Kotlin jar (${SECONDS}s)"
REHOME_FFI_LIB="$LIB" bindings/kotlin/build.sh
JAR="$TARGET/kotlin/rehome.jar"
CP="$JAR:$JNA_JAR:$KOTLIN_LIB/kotlinx-coroutines-core-jvm.jar"
RUN_CP="$CP:$KOTLIN_LIB/kotlin-stdlib.jar"

echo "== bindings: Kotlin test program (${SECONDS}s)"
"$KOTLINC" -nowarn -jvm-target 17 -cp "$CP" -d "$SCRATCH/kotlin-test.jar" \
    bindings/kotlin/test/RehomeTest.kt 2>"$SCRATCH/kotlinc.log" || { cat "$SCRATCH/kotlinc.log"; exit 1; }
java -cp "$SCRATCH/kotlin-test.jar:$RUN_CP" org.rehome.test.RehomeTestKt

echo "== bindings: Kotlin example (${SECONDS}s)"
"$KOTLINC" -nowarn -jvm-target 17 -cp "$CP" -d "$SCRATCH/intake.jar" \
    examples/kotlin/Intake.kt 2>"$SCRATCH/kotlinc.log" || { cat "$SCRATCH/kotlinc.log"; exit 1; }
java -cp "$SCRATCH/intake.jar:$RUN_CP" IntakeKt "sqlite://$SCRATCH/kotlin-example.db"
