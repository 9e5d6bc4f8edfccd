#!/usr/bin/env bash
# Runs the pocketbase JS SDK compatibility suite against a freshly built Plinth
# binary, once with SQLite and once with PostgreSQL.
#
# Environment (all optional):
#   PLINTH_BACKENDS          backends to run, default "sqlite postgres"
#   PLINTH_BIN               use this binary instead of building one
#   PLINTH_REQUIRE_SERVICES  1 = fail (instead of skip) when PostgreSQL is unreachable
#   PLINTH_PG_HOST / PLINTH_PG_PORT / PLINTH_PG_USER   default 127.0.0.1 / 5432 / postgres
#   PLINTH_SU_EMAIL / PLINTH_SU_PASS                   superuser to create and log in with
#   PLINTH_REALTIME_IDLE_TIMEOUT                       server's SSE idle timeout, default 4s (reconnect test)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$SCRIPT_DIR"

BACKENDS="${PLINTH_BACKENDS:-sqlite postgres}"
PG_HOST="${PLINTH_PG_HOST:-127.0.0.1}"
PG_PORT="${PLINTH_PG_PORT:-5432}"
PG_USER="${PLINTH_PG_USER:-postgres}"
SU_EMAIL="${PLINTH_SU_EMAIL:-sdk-test@example.com}"
SU_PASS="${PLINTH_SU_PASS:-sdk-test-password-1234}"
# A short realtime idle timeout: the server then drops idle SSE streams
# quickly, which is how the realtime test sees the SDK reconnect. The
# server and the tests both read it.
export PLINTH_REALTIME_IDLE_TIMEOUT="${PLINTH_REALTIME_IDLE_TIMEOUT:-4s}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/plinth-sdk-js.XXXXXX")"
SERVER_PID=""
PG_DBS=()

log() { printf '[sdk/js] %s\n' "$*" >&2; }

cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    for db in "${PG_DBS[@]+"${PG_DBS[@]}"}"; do
        psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
            || log "warning: could not drop database $db"
    done
    if [[ -n "${OIDC_PID:-}" ]]; then
        kill "$OIDC_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- dependencies -----------------------------------------------------------
if [[ ! -d node_modules/pocketbase || ! -d node_modules/eventsource || ! -d node_modules/typescript || ! -d node_modules/graphql-ws ]]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund >&2
fi

# --- binary -----------------------------------------------------------------
if [[ -n "${PLINTH_BIN:-}" ]]; then
    BIN="$PLINTH_BIN"
else
    BIN="$WORK/plinth"
    log "building $REPO_DIR/cmd/plinth"
    (cd "$REPO_DIR" && go build -o "$BIN" ./cmd/plinth)
fi
[[ -x "$BIN" ]] || { log "binary $BIN is missing or not executable"; exit 1; }

# --- OpenID Connect provider --------------------------------------------------
# A real provider process (mockoidc, the one the Go end-to-end tests use) for
# the OAuth2 test; it exits when its stdin closes, i.e. with this script.
OIDC_PID=""
start_oidc() {
    (cd "$REPO_DIR" && go build -o "$WORK/testprovider" ./oauth2/internal/testprovider) || return 1
    mkfifo "$WORK/oidc.in"
    "$WORK/testprovider" <"$WORK/oidc.in" >"$WORK/oidc.json" 2>"$WORK/oidc.log" &
    OIDC_PID=$!
    exec {OIDC_FD}>"$WORK/oidc.in" # held open until the script exits
    for _ in $(seq 100); do
        [[ -s "$WORK/oidc.json" ]] && break
        sleep 0.1
    done
    [[ -s "$WORK/oidc.json" ]] || { log "OIDC test provider did not start: $(cat "$WORK/oidc.log")"; return 1; }
    PLINTH_TEST_OIDC="$(head -n1 "$WORK/oidc.json")"
    export PLINTH_TEST_OIDC
    log "OIDC test provider: $PLINTH_TEST_OIDC"
}
if ! start_oidc; then
    log "could not start the OIDC test provider; the OAuth2 test will skip"
fi

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

pg_reachable() {
    command -v psql >/dev/null 2>&1 &&
        psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}

# run_backend NAME -> 0 when the suite passed, 1 otherwise
run_backend() {
    local backend="$1"
    local dir="$WORK/$backend"
    local logf="$WORK/$backend-server.log"
    local port db_args=() url

    mkdir -p "$dir/data"
    if [[ "$backend" == postgres ]]; then
        local db="plinth_sdkjs_$(date +%s)_$$_$RANDOM"
        PG_DBS+=("$db")
        psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -q -v ON_ERROR_STOP=1 \
            -c "CREATE DATABASE \"$db\"" >/dev/null || {
            log "[$backend] could not create database $db"
            return 1
        }
        db_args=(--db "postgres://$PG_USER@$PG_HOST:$PG_PORT/$db?sslmode=disable")
        log "postgres database: $db"
    fi

    "$BIN" superuser upsert "$SU_EMAIL" "$SU_PASS" --dir "$dir/data" "${db_args[@]+"${db_args[@]}"}" \
        >"$WORK/$backend-upsert.log" 2>&1 || {
        log "[$backend] superuser upsert failed:"
        cat "$WORK/$backend-upsert.log" >&2
        return 1
    }

    port="$(free_port)"
    url="http://127.0.0.1:$port"
    # Rate limits off: the suite logs in far more often than the default
    # rules allow from one IP (rate limits have their own Go tests).
    PLINTH_RATE_LIMITS=off "$BIN" serve --http "127.0.0.1:$port" --dir "$dir/data" "${db_args[@]+"${db_args[@]}"}" >"$logf" 2>&1 &
    SERVER_PID=$!
    log "[$backend] server pid $SERVER_PID on $url"

    local deadline=$((SECONDS + 30)) healthy=0
    while ((SECONDS < deadline)); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            break
        fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/health" 2>/dev/null)" == 200 ]]; then
            healthy=1
            break
        fi
        sleep 0.25
    done
    if ((healthy == 0)); then
        log "[$backend] server did not become healthy within 30 s; server log:"
        cat "$logf" >&2
        stop_server
        return 1
    fi

    local rc=0
    PLINTH_URL="$url" PLINTH_SU_EMAIL="$SU_EMAIL" PLINTH_SU_PASS="$SU_PASS" PLINTH_BACKEND="$backend" \
        node --test test/ || rc=$?

    stop_server
    if ((rc != 0)); then
        log "[$backend] tests failed (exit $rc); server log:"
        cat "$logf" >&2
        return 1
    fi
    # The types `plinth typegen` writes for the collections the suite made
    # must compile with the SDK, and type its records.
    if ! "$BIN" typegen --out typecheck/types.ts --dir "$dir/data" "${db_args[@]+"${db_args[@]}"}" 2>"$WORK/$backend-typegen.log" ||
        ! npx tsc -p typecheck >&2; then
        log "[$backend] typegen output does not type-check"
        cat "$WORK/$backend-typegen.log" >&2
        rm -f typecheck/types.ts
        return 1
    fi
    rm -f typecheck/types.ts
    log "[$backend] passed (typegen output type-checks)"
    return 0
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

failed=()
passed=()
skipped=()
for backend in $BACKENDS; do
    case "$backend" in
    sqlite) ;;
    postgres)
        if ! pg_reachable; then
            if [[ "${PLINTH_REQUIRE_SERVICES:-}" == 1 ]]; then
                log "PostgreSQL at $PG_HOST:$PG_PORT (user $PG_USER) is unreachable and PLINTH_REQUIRE_SERVICES=1"
                failed+=("$backend")
                continue
            fi
            log "SKIP postgres pass: PostgreSQL at $PG_HOST:$PG_PORT (user $PG_USER) is unreachable (set PLINTH_REQUIRE_SERVICES=1 to make this an error)"
            skipped+=("$backend")
            continue
        fi
        ;;
    *)
        log "unknown backend '$backend'"
        failed+=("$backend")
        continue
        ;;
    esac
    log "===== $backend ====="
    if run_backend "$backend"; then
        passed+=("$backend")
    else
        failed+=("$backend")
    fi
done

log "summary: passed: ${passed[*]:-none}; failed: ${failed[*]:-none}; skipped: ${skipped[*]:-none}"
((${#failed[@]} == 0))
