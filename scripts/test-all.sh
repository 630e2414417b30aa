#!/usr/bin/env bash
# Runs every test of the workspace, with the database servers the SQL backends' tests use.
# Then the README's quick start against a real server. .ci/run calls it after fmt and clippy.
#
# The SQL tests read REHOME_TEST_POSTGRES_URL and REHOME_TEST_MYSQL_URL (defaults below). When
# nothing listens on a URL's port, this script starts a server there itself: PostgreSQL from
# the installed binaries (initdb + pg_ctl as the postgres user, trust auth, data under
# $REHOME_TEST_SERVERS), MariaDB from Debian's packages (installed with apt-get if missing).
# Running it again reuses what is running or what it made before.
set -euo pipefail
cd "$(dirname "$0")/.."

export REHOME_TEST_POSTGRES_URL="${REHOME_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REHOME_TEST_MYSQL_URL="${REHOME_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
SERVERS="${REHOME_TEST_SERVERS:-/tmp/rehome-test-servers}"

# host, port and database of a URL like scheme://user@host:port/db?params
url_host() { local r="${1#*://}"; r="${r#*@}"; r="${r%%/*}"; echo "${r%%:*}"; }
url_port() { local r="${1#*://}"; r="${r#*@}"; r="${r%%/*}"; [[ "$r" == *:* ]] && echo "${r##*:}" || echo "$2"; }
url_db() { local r="${1#*://}"; r="${r#*/}"; echo "${r%%\?*}"; }

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {
    for _ in $(seq 1 60); do
        listening "$1" "$2" && return 0
        sleep 1
    done
    echo "nothing listens on $1:$2 after 60 s" >&2
    return 1
}

apt_install() {
    echo "   installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
    local url="$REHOME_TEST_POSTGRES_URL" host port db bin data
    host=$(url_host "$url"); port=$(url_port "$url" 5432); db=$(url_db "$url")
    if ! listening "$host" "$port"; then
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
        if [ -z "$bin" ]; then
            apt_install postgresql
            bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        fi
        data="$SERVERS/postgres-$port"
        echo "   starting PostgreSQL on $host:$port ($data)"
        mkdir -p "$SERVERS"
        if [ ! -s "$data/PG_VERSION" ]; then
            install -d -o postgres -g postgres -m 700 "$data"
            su postgres -c "$bin/initdb -D '$data' -A trust -U postgres" >/dev/null
        fi
        su postgres -c "$bin/pg_ctl -D '$data' -l '$data/server.log' -w \
            -o \"-c listen_addresses=$host -p $port -k '$data'\" start" >/dev/null
        wait_for "$host" "$port"
    fi
    if ! psql -h "$host" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        psql -h "$host" -p "$port" -U postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
    fi
}

start_mariadb() {
    local url="$REHOME_TEST_MYSQL_URL" host port db data
    host=$(url_host "$url"); port=$(url_port "$url" 3306); db=$(url_db "$url")
    if ! listening "$host" "$port"; then
        command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
        data="$SERVERS/mariadb-$port"
        echo "   starting MariaDB on $host:$port ($data)"
        mkdir -p "$data"
        chown mysql:mysql "$data"
        if [ ! -d "$data/mysql" ]; then
            mariadb-install-db --user=mysql --datadir="$data" \
                --auth-root-authentication-method=normal >/dev/null 2>&1
        fi
        nohup /usr/sbin/mariadbd --user=mysql --datadir="$data" --bind-address="$host" \
            --port="$port" --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" \
            --log-error="$data/server.log" >/dev/null 2>&1 &
        wait_for "$host" "$port"
    fi
    mariadb -h "$host" -P "$port" -u root -e "CREATE DATABASE IF NOT EXISTS \`$db\`"
}

echo "== database servers"
start_postgres
start_mariadb

# core's PDF documents are read back with poppler (pdftotext, pdfinfo, pdffonts, pdftoppm).
command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || apt_install poppler-utils

echo "== cargo test --workspace --all-features"
# Not --all-targets: that would also run the benchmark binaries (harness = false).
# --all-features: the PostgreSQL and MySQL dialects are cargo features of rehome-sql.
# The proof tests run on their own below, so that their figures are printed.
cargo test --workspace --all-features -- \
    --skip kill9_crash --skip scale_out_ --skip hostile_requests_never_5xx \
    --skip full_disk --skip start_on_read_only

echo "== proof under faults and load (docs/guarantees.md); each test prints its figures"
# Hostile input: >= 10,000 generated malformed requests through the real router
# (REHOME_FUZZ_CASES, REHOME_FUZZ_SEED).
cargo test -p rehome-tests --all-features --test hostile -- --nocapture hostile_requests_never_5xx
# kill -9 under load on SQLite and sled (REHOME_CRASH_ROUNDS per store, default 20); a full
# disk and a read-only data directory (a tmpfs of their own; they need root and skip
# otherwise); two servers over one PostgreSQL and over one MariaDB.
cargo test -p rehome-http --all-features --test crash --test disk --test scaleout -- --nocapture

echo "== the web console in a real browser (Debian's chromium and chromedriver, headless)"
# Screenshots of every screen at 360 and 1280 px go to target/console-screenshots/.
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    apt_install chromium chromium-driver
fi
REHOME_TEST_BROWSER=1 cargo test -p rehome-http --all-features --test console_browser -- --nocapture --test-threads=2

echo "== schemathesis"
# The OpenAPI document against a real server (every check, fixed seed, a few minutes).
bash scripts/schemathesis.sh

bash scripts/quickstart-check.sh

# The examples (Rust, REST), then the Python and Kotlin bindings with theirs.
bash scripts/examples-test.sh
bash scripts/bindings-test.sh
