# helper.bash — loaded by every interop suite: the CLI helper ($PW, bats-assert)
# plus a `pushwire serve` in the background on a free port, and the paths of
# the third-party peers.  Every wait here is bounded.
load ../cli/helper

INTEROP=$TOP/tests/interop
PY=/usr/bin/python3                 # Debian's python3 (python3-websockets), never PATH's
NODE=${NODE:-node}
export NODE_PATH=$INTEROP/node_modules

# How long serve may take to say it listens (the ASan build starts slower).
SERVE_START_SECS=${SERVE_START_SECS:-20}

# serve_start [ARGS...] — runs "$PW serve --listen 127.0.0.1:PORT ARGS" with
# PORT=${SERVE_PORT_WANT:-0}; waits for `listening on 127.0.0.1:N` on stderr.
# Sets SERVE_PID, SERVE_PORT, SERVE_HTTP (http://127.0.0.1:N), SERVE_WS,
# SERVE_LOG.  Usable from setup_file (files go to BATS_FILE_TMPDIR then).
serve_start() {
    local dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR} i line
    SERVE_LOG=$dir/serve.$$.${RANDOM}.log
    # stdin: a FIFO that serve itself holds open read-write, so it neither
    # gets lines nor sees EOF (stdin lines are published, SPEC §3);
    # fd 3 closed so bats does not wait for the server
    mkfifo "$SERVE_LOG.in"
    # a watcher subshell keeps serve's exit status in $SERVE_LOG.rc, so that
    # serve_stop can judge it from any test (setup_file's children are not ours)
    (
        "$PW" serve --listen "127.0.0.1:${SERVE_PORT_WANT:-0}" "$@" \
            <>"$SERVE_LOG.in" >"$SERVE_LOG.out" 2>"$SERVE_LOG" &
        echo $! >"$SERVE_LOG.pid"
        wait $!
        echo $? >"$SERVE_LOG.rc"
    ) 3>&- </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 100; i++)); do [ -s "$SERVE_LOG.pid" ] && break; sleep 0.02; done
    SERVE_PID=$(cat "$SERVE_LOG.pid")
    for ((i = 0; i < SERVE_START_SECS * 20; i++)); do
        line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9]*' "$SERVE_LOG" 2>/dev/null) && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "${line:-}" ]; then
        echo "serve did not start (args: $*); its stderr:" >&2
        cat "$SERVE_LOG" >&2
        kill -9 "$SERVE_PID" 2>/dev/null
        return 1
    fi
    SERVE_OWNER=${BATS_TEST_NAME:-file}
    SERVE_PORT=${line##*:}
    SERVE_HTTP=http://127.0.0.1:$SERVE_PORT
    SERVE_WS=ws://127.0.0.1:$SERVE_PORT
    export SERVE_PID SERVE_PORT SERVE_HTTP SERVE_WS SERVE_LOG SERVE_OWNER
}

# serve_teardown — for teardown(): stops the server a test started itself
# (not the one setup_file started for the whole file), even when it failed
serve_teardown() {
    [ "${SERVE_OWNER:-}" = "${BATS_TEST_NAME:-}" ] || return 0
    serve_stop >/dev/null 2>&1 || true
}

# serve_stop — SIGTERM, wait up to 10 s (then SIGKILL and fail).  Returns
# serve's exit status: 0 is required after SIGTERM (SPEC §3), and under ASan a
# leak or an error makes it non-zero.
serve_stop() {
    local pid=${SERVE_PID:-} i rc
    [ -n "$pid" ] || return 0
    SERVE_PID=
    kill -TERM "$pid" 2>/dev/null || { echo "serve (pid $pid) was already gone" >&2; tail -40 "$SERVE_LOG" >&2; return 1; }
    for ((i = 0; i < 200; i++)); do
        [ -s "$SERVE_LOG.rc" ] && break
        sleep 0.05
    done
    if [ ! -s "$SERVE_LOG.rc" ]; then
        echo "serve (pid $pid) still running 10 s after SIGTERM: killed" >&2
        kill -9 "$pid" 2>/dev/null
        return 1
    fi
    rc=$(cat "$SERVE_LOG.rc")
    if [ "$rc" -ne 0 ]; then
        echo "serve exited $rc after SIGTERM; its stderr (tail):" >&2
        tail -40 "$SERVE_LOG" >&2
    fi
    return "$rc"
}

# serve_alive — the server process is still there (no crash).
serve_alive() {
    kill -0 "$SERVE_PID" 2>/dev/null || { echo "serve died; stderr:" >&2; tail -40 "$SERVE_LOG" >&2; return 1; }
}

# serve_rss — resident set of the server in KiB (from /proc).
serve_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status"; }

# metric NAME — sum of the values of every sample of the Prometheus metric NAME.
metric() {
    curl -sS --max-time 5 "$SERVE_HTTP/metrics" |
        awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF; f = 1 } END { if (f) printf "%d\n", s; else print "missing" }'
}

# publish CHANNEL DATA [EVENT] — POST /pub/CHANNEL; prints the answer.
publish() {
    local q=
    [ -z "${3:-}" ] || q="?event=$3"
    curl -sS --fail --max-time 5 --data-binary "$2" "$SERVE_HTTP/pub/$1$q"
}

# a channel name of our own per test, so tests never see each other's messages
chan() { echo "t${BATS_TEST_NUMBER:-0}-${1:-c}-$$"; }

# wait_for CMD... — retry CMD every 0.1 s for up to 10 s
wait_for() {
    local i
    for ((i = 0; i < 100; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
