#!/usr/bin/env bash
# HTTP load benchmark of `rehome serve` on loopback, with wrk (Debian's package).
#
#   scripts/bench-http.sh [STORE_KIND] [DEVICES] [SECONDS]
#   STORE_KIND: sqlite (default) or sled; DEVICES: mock devices to seed (default 100000);
#   SECONDS: duration of each wrk run (default 10).
#
# Measures: GET /inventory/devices/?page_size=10, GET one device, POST a device (durable),
# POST /authen/login/, GET p99 while 8 clients log in in a loop, and the console's device list
# page (/devices, signed in through its sign-in form; 4 clients, target p95 <= 50 ms on 100k
# devices, only 200 answers counted). Prints one line each.
# REHOME_BENCH_BIN=path uses that rehome binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND="${1:-sqlite}"; DEVICES="${2:-100000}"; SECS="${3:-10}"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [[ -n "${REHOME_BENCH_BIN:-}" ]]; then BIN="$REHOME_BENCH_BIN"; else
  cargo build -q --release -p rehome-http --bin rehome
  BIN="${CARGO_TARGET_DIR:-target}/release/rehome"
fi
tmp="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
case "$KIND" in
  sqlite) export REHOME_STORE="sqlite://$tmp/rehome.db" ;;
  sled) export REHOME_STORE="sled://$tmp/rehome.sled" ;;
  *) echo "store kind: sqlite or sled" >&2; exit 2 ;;
esac
PASSWORD='Tessellated-Harbor-2024!'
REHOME_PASSWORD="$PASSWORD" "$BIN" createsuperuser --username loadtest --email loadtest@example.org >/dev/null
echo "seeding $DEVICES mock devices into $KIND..."
start=$(date +%s)
"$BIN" mock-data --devices "$DEVICES" --locations 20 --donors 200 --shipments 100 --seed 1 >/dev/null 2>&1
echo "seeded in $(( $(date +%s) - start )) s"
"$BIN" serve --bind 127.0.0.1:0 --log-format json 2>"$tmp/serve.log" &
pid=$!
BASE=""
for _ in $(seq 1 300); do
  BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/serve.log" | head -n 1 || true)"
  [[ -n "$BASE" ]] && break; sleep 0.1
done
[[ -n "$BASE" ]] || { cat "$tmp/serve.log"; exit 1; }
LOGIN="{\"username\":\"loadtest\",\"password\":\"$PASSWORD\"}"
TOKEN=$(curl -sS -X POST -H 'Content-Type: application/json' -d "$LOGIN" "$BASE/authen/login/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
ID=$(curl -fsS -H "$AUTH" "$BASE/inventory/devices/?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["device_id"])')
run() { # label, wrk args...
  local label="$1"; shift
  local out; out=$(wrk --latency "$@" 2>&1)
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-34s %10s req/s   p99 %-8s %s\n' "$label" "$rps" "$p99" "${non2xx:+non-2xx: $non2xx}"
}
echo "== $KIND, $DEVICES devices, wrk ${SECS}s runs (loopback, same machine)"
run "GET list page_size=10 (c16)" -t2 -c16 -d"${SECS}s" -H "$AUTH" "$BASE/inventory/devices/?page_size=10"
run "GET one device (c16)" -t2 -c16 -d"${SECS}s" -H "$AUTH" "$BASE/inventory/devices/$ID/"
run "POST device, durable (c16)" -t2 -c16 -d"${SECS}s" -H "$AUTH" -s scripts/bench/post-device.lua "$BASE/inventory/devices/"
export REHOME_BENCH_LOGIN_BODY="$LOGIN"
run "POST login (c8)" -t2 -c8 -d"${SECS}s" -s scripts/bench/login.lua "$BASE/authen/login/"
# GET latency while 8 clients log in in a loop.
wrk -t1 -c8 -d"$((SECS + 2))s" -s scripts/bench/login.lua "$BASE/authen/login/" >/dev/null 2>&1 &
lp=$!
sleep 1
run "GET one device during logins (c4)" -t1 -c4 -d"${SECS}s" -H "$AUTH" "$BASE/inventory/devices/$ID/"
wait "$lp" || true
# The console's device list page: sign in through the form (GET /sign-in for its cookie and
# CSRF field, POST it), then 4 clients GET /devices with the session cookie.
curl -sS -D "$tmp/sign-in.h" -o "$tmp/sign-in.html" "$BASE/sign-in"
cookie_of() { grep -i "^set-cookie: $1=" "$2" | head -n 1 | sed 's/^[^:]*: *//; s/;.*//' | tr -d '\r'; }
PRE=$(cookie_of rehome_sign_in "$tmp/sign-in.h")
CSRF=$(grep -o 'name="csrf" value="[^"]*"' "$tmp/sign-in.html" | head -n 1 | sed 's/.*value="//; s/"$//')
curl -sS -D "$tmp/signed-in.h" -o /dev/null -H "Cookie: $PRE" --data-urlencode "csrf=$CSRF" \
  --data-urlencode "username=loadtest" --data-urlencode "password=$PASSWORD" "$BASE/sign-in"
SESSION=$(cookie_of rehome_session "$tmp/signed-in.h")
[[ -n "$SESSION" ]] || { echo "console sign-in failed"; cat "$tmp/signed-in.h"; exit 1; }
[[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $SESSION" "$BASE/devices")" == 200 ]] \
  || { echo "console /devices is not 200 with the session"; exit 1; }
out=$(wrk --latency -t2 -c4 -d"${SECS}s" -H "Cookie: $SESSION" -s scripts/bench/console-list.lua "$BASE/devices" 2>&1)
line=$(echo "$out" | grep '^CONSOLE ' || true)
[[ -n "$line" ]] || { echo "$out"; exit 1; }
ok=$(echo "$line" | sed 's/.* ok=\([0-9]*\).*/\1/'); other=$(echo "$line" | sed 's/.* other=\([0-9]*\).*/\1/')
rps=$(echo "$line" | sed 's/.* rps=\([0-9.]*\).*/\1/'); p95=$(echo "$line" | sed 's/.* p95=\([0-9.]*ms\).*/\1/')
printf '%-34s %10s req/s   p95 %-8s %s\n' "console GET /devices (c4, 200s)" "$rps" "$p95" \
  "(target p95 <= 50ms; $ok x 200$([[ "$other" == 0 ]] || echo ", $other NOT 200"))"
