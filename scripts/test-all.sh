#!/usr/bin/env bash
# Runs every test of the workspace, then the README's quick start against a real server.
# Later this script also starts the database servers, Python and Kotlin toolchains the tests
# need; .ci/run calls it after fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
# Not --all-targets: that would also run the benchmark binaries (harness = false).
cargo test --workspace

bash scripts/quickstart-check.sh
