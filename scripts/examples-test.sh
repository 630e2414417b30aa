#!/usr/bin/env bash
# Runs the Rust and REST examples under examples/ (the Python and Kotlin ones run in
# scripts/bindings-test.sh; the custom backend's conformance suite runs in
# `cargo test --workspace`, as its own crate's tests):
#   - examples/embed-sqlite: a Rust program on a SQLite file, run twice on the same file;
#   - examples/rest-walkthrough.sh: curl against a real `rehome serve`, from a newcomer's
#     first login to a shipped device.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== examples: embed-sqlite"
cargo run --quiet -p rehome-example-embed-sqlite -- "sqlite://$tmp/embed.db"
# Again on the same file: users and role exist, a second laptop comes in.
cargo run --quiet -p rehome-example-embed-sqlite -- "sqlite://$tmp/embed.db" >"$tmp/again.log"
grep -q 'SN-0002' "$tmp/again.log" || { cat "$tmp/again.log"; exit 1; }

echo "== examples: REST walkthrough"
bash examples/rest-walkthrough.sh
