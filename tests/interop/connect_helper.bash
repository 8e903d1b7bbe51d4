# connect_helper.bash — for the connect_*.bats suites: the CLI helper plus
# background peers on free ports, each wait bounded.
load ../cli/helper
export PW

INTEROP=$TOP/tests/interop
PY=/usr/bin/python3   # Debian's, with python3-websockets

# peer_start NAME CMD... — runs CMD in the background; CMD prints its port as
# the first line of stdout (within 20 s: a python3 peer importing websockets
# and ssl took over 5 s once with the machine at load 4).  Sets ${NAME}_PORT
# and ${NAME}_PID.
peer_start() {
    local name=$1 out i port
    shift
    out=$BATS_TEST_TMPDIR/$name.port
    "$@" >"$out" 2>"$BATS_TEST_TMPDIR/$name.err" 3>&- &
    local pid=$!
    for i in $(seq 400); do
        port=$(head -n1 "$out" 2>/dev/null)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "$name: no port after $((i / 20)) s: $*" >&2; cat "$BATS_TEST_TMPDIR/$name.err" >&2; return 1; }
    printf -v "${name}_PORT" %s "$port"
    printf -v "${name}_PID" %s "$pid"
    PEER_PIDS="${PEER_PIDS:-} $pid"
}

peers_stop() {
    local p
    for p in ${PEER_PIDS:-}; do kill "$p" 2>/dev/null || true; done
    for p in ${PEER_PIDS:-}; do wait "$p" 2>/dev/null || true; done
    PEER_PIDS=
}

# ws_py MODE [ARGS] — a python3-websockets server (tests/interop/ws_server.py)
ws_py() { peer_start WS "$PY" "$INTEROP/ws_server.py" "$@"; WS_URL=ws://127.0.0.1:$WS_PORT; }

# a free TCP port nobody listens on (bound then released by the kernel)
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
