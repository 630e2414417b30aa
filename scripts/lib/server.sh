# A scratch `rehome serve` for scripts: sourced (not run) from the repository root by
# scripts/quickstart-check.sh, scripts/schemathesis.sh and examples/rest-walkthrough.sh.
#
#   SERVER_LABEL="quick start"   # names the script in failure messages
#   source scripts/lib/server.sh
#   server_binary                # sets BIN: $REHOME_BIN, else builds target/debug/rehome
#   server_scratch               # sets tmp (a temporary directory) and REHOME_STORE (a SQLite
#                                # file in it); removes both and stops the server on exit
#   ... createsuperuser, mock-data ...
#   server_start [flags...]      # `rehome serve` on a free loopback port; sets pid and BASE
#   fail "what went wrong"       # prints it with the server log's last lines, exits 1
#
# The server binds port 0 and logs its address; server_start reads it from the log.

SERVER_LABEL="${SERVER_LABEL:-server}"
SERVER_LOG_LINES="${SERVER_LOG_LINES:-20}"
pid=""
tmp=""

server_binary() {
    if [[ -n "${REHOME_BIN:-}" ]]; then
        BIN="$REHOME_BIN"
    else
        cargo build --quiet -p rehome-http --bin rehome
        BIN="${CARGO_TARGET_DIR:-target}/debug/rehome"
    fi
}

server_cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    [[ -z "$tmp" ]] || rm -rf "$tmp"
}

fail() {
    echo "$SERVER_LABEL FAILED: $*" >&2
    if [[ -n "$tmp" && -f "$tmp/serve.log" ]]; then
        echo "--- server log (last $SERVER_LOG_LINES lines)" >&2
        tail -n "$SERVER_LOG_LINES" "$tmp/serve.log" >&2 || true
    fi
    exit 1
}

server_scratch() {
    tmp="$(mktemp -d)"
    trap server_cleanup EXIT
    export REHOME_STORE="sqlite://$tmp/rehome.db"
}

server_start() {
    "$BIN" serve --bind 127.0.0.1:0 --log-format json "$@" 2>"$tmp/serve.log" &
    pid=$!
    BASE=""
    for _ in $(seq 1 300); do
        BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/serve.log" | head -n 1 || true)"
        [[ -n "$BASE" ]] && break
        kill -0 "$pid" 2>/dev/null || fail "the server exited early"
        sleep 0.1
    done
    [[ -n "$BASE" ]] || fail "the server did not say where it listens"
}
