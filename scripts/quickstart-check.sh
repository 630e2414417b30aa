#!/usr/bin/env bash
# Runs the README's quick start against a real `rehome serve`: a fresh store in a
# temporary directory, a free loopback port (the server binds port 0 and logs the address),
# createsuperuser, login, create a device, list devices, then SIGTERM and a clean exit.
# Keep the steps in step with the "Quick start" section of README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== quick start against a real server"
SERVER_LABEL="quick start" SERVER_LOG_LINES=200
source scripts/lib/server.sh
server_binary
server_scratch

# The embedded default, a SQLite file (here in a temporary directory): server_scratch sets
# REHOME_STORE.
PASSWORD='Change-Me-Now-2024'

REHOME_PASSWORD="$PASSWORD" "$BIN" createsuperuser --username admin --email admin@example.org \
    || fail "createsuperuser"

server_start

curl -fsS "$BASE/healthz" >/dev/null || fail "healthz"

# The console: / leads a browser that is not signed in to the sign-in page.
page=$(curl -fsSL "$BASE/") || fail "the console's / did not answer"
grep -q 'Username' <<<"$page" || fail "the console's / did not lead to a sign-in form"

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
