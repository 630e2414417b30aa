#!/usr/bin/env bash
# Checks that the OpenAPI document describes the server exactly: schemathesis (property-based,
# every check) against a real `rehome serve` on a fresh SQLite store with mock data.
#
#   1. schemathesis, pinned, in a venv under the cargo target dir (installed when missing);
#   2. the `rehome` binary: $REHOME_BIN, else `cargo build -p rehome-http --bin rehome`;
#   3. a fresh store: `rehome mock-data --seed 1`, `rehome createsuperuser` (REHOME_PASSWORD);
#      `rehome serve` on a free loopback port (it binds port 0 and logs its address);
#   4. `schemathesis run .../openapi.json --checks all` with a fixed seed, a bounded number of
#      examples per operation and a time budget, in four runs over the same server:
#        main     every operation but those below, as the superuser;
#        session  logout, logout-all, me, TOTP setup, as a fresh user (the hooks sign in again
#                 when a route revoked the token);
#        reauth   password change, TOTP confirm and disable, recovery codes: failed
#                 re-authentications count like failed logins (they lock that user and, at 50,
#                 the loopback address), so a fresh user of their own, after the session run;
#        login    /authen/login/ and /authen/mfa/verify/, last: their failures throttle every
#                 later login from this address.
#      scripts/schemathesis/hooks.py signs in and drops exactly the failures listed, each with
#      its reason, in scripts/schemathesis/exceptions.toml.
# Exits non-zero when any run reports a failure; prints each run's summary line. The server is
# stopped on exit.
#
# Environment: REHOME_BIN (a built binary), SCHEMATHESIS_SEED (default 20261203),
# SCHEMATHESIS_MAX_EXAMPLES (per operation and cycle, default 25), SCHEMATHESIS_MAX_TIME
# (seconds for all four runs, default 210: main gets 60 %, the others the rest),
# SCHEMATHESIS_REPORT_DIR (keep the NDJSON/JUnit reports there), SCHEMATHESIS_PHASES (only
# these runs, comma-separated). Extra arguments go to every `schemathesis run`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TARGET_DIR="$TARGET"

SCHEMATHESIS_VERSION="4.32.5"
SEED="${SCHEMATHESIS_SEED:-20261203}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-210}"
RUNS="${SCHEMATHESIS_PHASES:-main,session,reauth,login}"

VENV="$TARGET/schemathesis-tools/venv-$SCHEMATHESIS_VERSION"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/schemathesis" ]; then
    echo "   installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

SERVER_LABEL="schemathesis"
source scripts/lib/server.sh
server_binary
server_scratch
ADMIN_USER="st-admin"
# Passes the password policy; never sent to a route that could change it (see hooks.py).
export REHOME_PASSWORD="Quartz-Meridian-Lantern-47"
"$BIN" mock-data --seed 1 >/dev/null || fail "mock-data"
ADMIN_ID="$("$BIN" createsuperuser --username "$ADMIN_USER" --email st-admin@example.org \
    | sed -n 's/.*(id \([0-9]*\)).*/\1/p')"
[[ -n "$ADMIN_ID" ]] || fail "createsuperuser said no id"

server_start
curl -fsS "$BASE/healthz" >/dev/null || fail "healthz"
# The superuser signs in once here, so a broken login fails early and plainly.
curl -fsS -X POST "$BASE/authen/login/" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$ADMIN_USER\",\"password\":\"$REHOME_PASSWORD\"}" >/dev/null \
    || fail "the superuser cannot sign in"

export REHOME_ST_BASE="$BASE" REHOME_ST_ADMIN_USER="$ADMIN_USER" REHOME_ST_ADMIN_ID="$ADMIN_ID"
export REHOME_ST_PASSWORD="$REHOME_PASSWORD"
export SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis/hooks.py"
export REHOME_ST_CACHE="$tmp/cache"
REPORTS="${SCHEMATHESIS_REPORT_DIR:-$tmp/reports}"
mkdir -p "$REPORTS"

SESSION_PATHS='^/authen/(logout|logout-all|me)/$|^/authen/mfa/totp/setup/$'
REAUTH_PATHS='^/users/password/$|^/authen/mfa/(totp/confirm|totp/disable|recovery-codes)/$'
LOGIN_PATHS='^/authen/(login|mfa/verify)/$'

status=0
summaries=()
run() {
    local name="$1" seconds="$2"
    shift 2
    [[ ",$RUNS," == *",$name,"* ]] || return 0
    echo "== schemathesis: $name (${seconds}s budget)"
    local rc=0
    REHOME_ST_PHASE="$name" "$VENV/bin/schemathesis" --no-color \
        --config-file "$ROOT/scripts/schemathesis/schemathesis.toml" run "$BASE/openapi.json" \
        --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --max-time "$seconds" \
        --workers 1 --request-timeout 30 --output-truncate false \
        --report junit,ndjson --report-dir "$REPORTS/$name" \
        "$@" "${EXTRA[@]}" | tee "$tmp/$name.log" || rc=$?
    kill -0 "$pid" 2>/dev/null || fail "the server died during the $name run"
    # The closing line, e.g. "=== 3 failures, 60 passed in 120.50s ===".
    local line
    line="$(grep -E '^=+ .* in [0-9.]+s =+$' "$tmp/$name.log" | tail -n 1 | sed -E 's/^=+ (.*) =+$/\1/' || true)"
    summaries+=("$name: ${line:-no summary line}")
    [[ "$rc" == 0 ]] || status=1
}
EXTRA=("$@")
main_time=$((MAX_TIME * 60 / 100))
rest=$(((MAX_TIME - main_time) / 3))
run main "$main_time" --exclude-path-regex "$SESSION_PATHS|$REAUTH_PATHS|$LOGIN_PATHS"
run session "$rest" --include-path-regex "$SESSION_PATHS"
run reauth "$rest" --include-path-regex "$REAUTH_PATHS"
run login "$rest" --include-path-regex "$LOGIN_PATHS"

echo "== schemathesis summary (seed $SEED, $MAX_EXAMPLES examples per operation, ${MAX_TIME}s)"
printf '%s\n' "${summaries[@]}"
if [[ "$status" != 0 ]]; then
    echo "schemathesis: FAILED (the reports are in $REPORTS)" >&2
    [[ -n "${SCHEMATHESIS_REPORT_DIR:-}" ]] || echo "   (set SCHEMATHESIS_REPORT_DIR to keep them)" >&2
    exit 1
fi
echo "schemathesis: OK"
