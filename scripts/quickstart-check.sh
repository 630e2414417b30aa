#!/usr/bin/env bash
# Runs the README's quick start against a real `rehome serve`: a fresh store in a
# temporary directory, a free loopback port (the server binds port 0 and logs the address),
# createsuperuser, login, create a device, list devices, then SIGTERM and a clean exit.
# Keep the steps in step with the "Quick start" section of README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== quick start against a real server"
cargo build --quiet -p rehome-http --bin rehome
BIN="${CARGO_TARGET_DIR:-target}/debug/rehome"

tmp="$(mktemp -d)"
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "quick start FAILED: $*" >&2
    echo "--- server log" >&2
    cat "$tmp/serve.log" >&2 || true
    exit 1
}

# The embedded default, a SQLite file (here in a temporary directory).
export REHOME_STORE="sqlite://$tmp/rehome.db"
PASSWORD='Change-Me-Now-2024'

REHOME_PASSWORD="$PASSWORD" "$BIN" createsuperuser --username admin --email admin@example.org \
    || fail "createsuperuser"

"$BIN" serve --bind 127.0.0.1:0 --log-format json 2>"$tmp/serve.log" &
pid=$!

BASE=""
for _ in $(seq 1 300); do
    BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/serve.log" | head -n 1 || true)"
    [[ -n "$BASE" ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the server exited early"
    sleep 0.1
done
[[ -n "$BASE" ]] || fail "the server did not say where it listens"

curl -fsS "$BASE/healthz" >/dev/null || fail "healthz"

TOKEN=$(curl -s -X POST "$BASE/authen/login/" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n "$TOKEN" ]] || fail "login gave no token"

status=$(curl -s -o "$tmp/created.json" -w '%{http_code}' -X POST "$BASE/inventory/devices/" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"type":"Laptop","make":"Dell","model":"Latitude 5490","serial_number":"SN-0001"}')
[[ "$status" == 201 ]] || fail "create device answered $status: $(cat "$tmp/created.json")"

list=$(curl -s "$BASE/inventory/devices/" -H "Authorization: Bearer $TOKEN")
grep -q '"count":1' <<<"$list" || fail "list: $list"
grep -q '"serial_number":"SN-0001"' <<<"$list" || fail "list: $list"

kill -TERM "$pid"
if ! wait "$pid"; then
    pid=""
    fail "the server did not stop cleanly on SIGTERM"
fi
pid=""
grep -q 'store closed' "$tmp/serve.log" || fail "no clean shutdown in the log"
echo "quick start: OK"
