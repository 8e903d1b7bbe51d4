# helper.bash — loaded by every CLI suite: bats-assert, $PW, temp dirs.
bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load

: "${PW:=$BATS_TEST_DIRNAME/../../pushwire}"
export PW
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# run the binary; under ASan the suite sets PW to the sanitizer build
pw() { "$PW" "$@"; }

# start_serve [ARGS…] — runs "$PW serve --listen 127.0.0.1:0 ARGS…" in the
# background and waits (5 s at most) for its "listening on" line.  Sets
# SERVE_PID, SERVE_PORT, SERVE_URL (http://127.0.0.1:PORT) and SERVE_LOG.
# stop_serve sends SIGTERM and waits (5 s at most), then SIGKILL.
start_serve() {
    SERVE_LOG=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/serve.XXXXXX")
    "$PW" serve --listen 127.0.0.1:0 "$@" </dev/null 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    local i
    for i in $(seq 100); do
        SERVE_PORT=$(sed -n 's/^pushwire serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG" | head -n 1)
        [ -n "$SERVE_PORT" ] && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$SERVE_PORT" ] || { cat "$SERVE_LOG" >&2; return 1; }
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
}

stop_serve() {
    [ -n "${SERVE_PID:-}" ] || return 0
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    local i
    for i in $(seq 100); do
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
    SERVE_PID=
}
