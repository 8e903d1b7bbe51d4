# helper.bash — loaded by every CLI suite: bats-assert, $PW, temp dirs.
# bats runs this file again for every test, so the two libraries are sourced
# file by file: their load.bash forks a `dirname` per file, ~0.2 s of CPU per
# test (a third of a codec test's time).  Their src/*.bash only define
# functions, so the order does not matter.
pw_load_lib() { # NAME
    local d f
    for d in ${BATS_LIB_PATH//:/ } /usr/lib/bats; do
        [ -f "$d/$1/load.bash" ] || continue
        for f in "$d/$1"/src/*.bash; do source "$f" || return 1; done
        return 0
    done
    bats_load_library "$1"
}
pw_load_lib bats-support
pw_load_lib bats-assert

: "${PW:=$BATS_TEST_DIRNAME/../../pushwire}"
export PW
# (without a fork where it can: this runs for every test)
case $BATS_TEST_DIRNAME in
/*/tests/cli | /*/tests/interop) TOP=${BATS_TEST_DIRNAME%/tests/*} ;;
*) TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd) ;;
esac

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
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID") || return 1
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
}

stop_serve() {
    stop_pid "${SERVE_PID:-}"
    SERVE_PID=
}

# wait_listen LOG APPLET PID — prints PORT once LOG shows `pushwire APPLET:
# listening on 127.0.0.1:PORT` (5 s at most, or until PID is gone; then the
# log goes to stderr and it fails)
wait_listen() {
    local i port
    for i in $(seq 100); do
        port=$(sed -n "s/^pushwire $2: listening on 127\.0\.0\.1:\([0-9]*\)\$/\1/p" "$1" | head -n 1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    cat "$1" >&2
    return 1
}

# stop_pid PID — SIGTERM, up to 5 s to exit, then SIGKILL; reaps it
stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    local i
    for i in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# stall MODE — tests/cli/stall_peer.py MODE in the background (a peer that
# never completes an opening handshake): STALL_PORT, STALL_PID.  stop_stall
# ends the last one (teardown).
stall() {
    /usr/bin/python3 "$BATS_TEST_DIRNAME/stall_peer.py" "$1" >"$BATS_TEST_TMPDIR/stall.port" 3>&- &
    STALL_PID=$!
    local i
    for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/stall.port" ] && break; sleep 0.05; done
    STALL_PORT=$(cat "$BATS_TEST_TMPDIR/stall.port")
    [ -n "$STALL_PORT" ]
}

stop_stall() {
    [ -z "${STALL_PID:-}" ] || { kill "$STALL_PID" 2>/dev/null; wait "$STALL_PID" 2>/dev/null; } || true
    STALL_PID=
}

# C ARGS — curl, quiet, bounded to 5 s
C() { curl -s --max-time 5 "$@"; }

# sse_upto TEXT CURL_ARGS… — an event stream read until a line holding TEXT
# (a fixed string) has arrived, then closed: prints what came.  A stream
# never ends by itself, and a fixed `--max-time` costs its full time in every
# test; this one stops as soon as the test has what it checks (5 s at most).
sse_upto() {
    local want=$1 f p i
    shift
    f=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/sse.XXXXXX")
    curl -s -N --max-time 5 "$@" >"$f" 2>/dev/null &
    p=$!
    for ((i = 0; i < 200; i++)); do
        grep -qF -- "$want" "$f" && break
        kill -0 "$p" 2>/dev/null || break
        sleep 0.025
    done
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true # (killed: 143, expected)
    cat "$f"
}

# stop_serve_clean — stop_serve, then fail if the server's log holds a
# sanitizer report (ASan build)
stop_serve_clean() {
    stop_serve
    ! grep -E 'Sanitizer|runtime error' "${SERVE_LOG:-/dev/null}" >&2
}

# wait_metric LINE [SECS] — up to SECS (5) s for $SERVE_URL/metrics to show
# LINE exactly
wait_metric() {
    local i
    for i in $(seq $((${2:-5} * 10))); do
        C "$SERVE_URL/metrics" | grep -qxF "$1" && return 0
        sleep 0.1
    done
    echo "metrics never showed: $1" >&2
    C "$SERVE_URL/metrics" | grep -v '^#' >&2
    return 1
}

# missing WHAT — this test cannot run here because WHAT (a peer, a tool, a
# kernel feature) is absent: a skip on a developer's machine, a failure in CI
# (CI set; .ci/run sets it), where tools/deps.sh has installed every peer and
# a skip would only hide that a suite did not run.
missing() {
    if [ -n "${CI:-}" ]; then
        fail "$1 (CI: tools/deps.sh installs every peer, so this is a failure, not a skip)"
        return 1
    fi
    skip "$1"
}

# id_epoch ID — prints the epoch of a server id EPOCH:SEQ (also given as a
# publish answer {"id":"EPOCH:SEQ"}); fails unless EPOCH is 12 characters of
# [a-z0-9] (what `serve` makes) and SEQ a number from 1
id_epoch() {
    local e
    e=$(printf '%s' "$1" | sed -n 's/^\({"id":"\)\{0,1\}\([a-z0-9]\{12\}\):[1-9][0-9]*\("}\)\{0,1\}$/\2/p')
    [ -n "$e" ] || { echo "not an id EPOCH:SEQ: $1" >&2; return 1; }
    echo "$e"
}

# nginx_start DIR PATH [TOP] — nginx in the foreground, prefix DIR, with a
# DIR/nginx.conf of its own: TOP (e.g. a load_module line), then an http
# block with its logs and temp paths under DIR and, inside it, what comes on
# standard input (the servers, listening on 127.0.0.1:$NPORT).  Waits (5 s at
# most) until PATH answers; sets NGINX_PID and BASE (127.0.0.1:$NPORT).
# nginx_stop in teardown.
nginx_start() {
    local d=$1 i t
    mkdir -p "$d/tmp"
    {
        printf '%s\n' "${3:-}" 'daemon off;' 'master_process off;' 'worker_processes 1;' "pid $d/nginx.pid;" \
            "error_log $d/error.log warn;" 'events { worker_connections 64; }' 'http {' \
            "    access_log $d/access.log;"
        for t in body proxy fastcgi uwsgi scgi; do printf '    %s_temp_path %s;\n' "${t/body/client_body}" "$d/tmp/$t"; done
        cat
        printf '}\n'
    } >"$d/nginx.conf"
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 3>&- &
    NGINX_PID=$!
    for i in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$NPORT$2" && break
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.05
    done
    curl -s -o /dev/null "http://127.0.0.1:$NPORT$2" || { cat "$d/error.log" >&2; return 1; }
    BASE=127.0.0.1:$NPORT
}

nginx_stop() {
    if [ -n "${NGINX_PID:-}" ]; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
}

# binary_roundtrip URL [pipes] — `connect --binary` sends random data of 0,
# 1, 64 KiB, 64 KiB + 1 and 3 MiB (around its 64 KiB read chunk) to the echo
# at URL, which must send back the very bytes; with "pipes", the 3 MiB also
# from a pipe into a pipe (reads of any size).
binary_roundtrip() {
    local u=$1 d=$BATS_TEST_TMPDIR n
    for n in 0 1 65536 65537 3145731; do
        head -c "$n" /dev/urandom >"$d/in"
        timeout 20 "$PW" connect --binary "$u" <"$d/in" >"$d/out" || fail "$n bytes from a file: exit $?"
        cmp "$d/in" "$d/out" || fail "$n bytes from a file came back as $(wc -c <"$d/out") bytes"
    done
    [ "${2:-}" = pipes ] || return 0
    cat "$d/in" | timeout 20 "$PW" connect --binary "$u" | cat >"$d/out"
    cmp "$d/in" "$d/out" || fail "3 MiB through pipes came back as $(wc -c <"$d/out") bytes"
}
