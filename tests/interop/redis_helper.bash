# redis_helper.bash — Redis for the --redis suites: a redis-server of the
# test's own on a free loopback port (Redis takes no port 0), nodes of
# `pushwire serve --redis` on it, clients that count what they got.  Every
# wait is bounded; every process started here is stopped by redis_teardown.
load helper

# free_port — a loopback TCP port nobody listens on now
free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# redis_start [ARGS...] — redis-server on a free port, no persistence unless
# ARGS say so (--appendonly yes); sets REDIS_PORT, REDIS_PID, REDIS_DIR,
# REDIS_URL.  REDIS_PORT set beforehand: that port (a restart).
redis_start() {
    command -v redis-server >/dev/null || { missing "redis-server (Debian redis-server)"; return 1; }
    REDIS_PORT=${REDIS_PORT:-$(free_port)}
    REDIS_DIR=${REDIS_DIR:-$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/redis.XXXXXX")}
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
        --logfile "$REDIS_DIR/redis.log" "$@" </dev/null >/dev/null 2>&1 3>&- &
    REDIS_PID=$!
    REDIS_PIDS="${REDIS_PIDS:-} $REDIS_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -qE 'PONG|NOAUTH' && break
        sleep 0.05
    done
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -qE 'PONG|NOAUTH' || { cat "$REDIS_DIR/redis.log" >&2; return 1; }
    REDIS_URL=redis://127.0.0.1:$REDIS_PORT
}

# redis_stop — SIGTERM to our redis-server, waits for it (5 s at most)
redis_stop() {
    stop_pid "${REDIS_PID:-}"
    REDIS_PID=
}

# node NAME [ARGS...] — `pushwire serve --redis $REDIS_URL ARGS` as NAME_PID,
# NAME_HTTP, NAME_WS, NAME_LOG, NAME_IN (its stdin FIFO: lines written there
# are published on --channel); waits until Redis answers it (/healthz 200)
node() {
    local n=$1
    shift
    serve_start --redis "$REDIS_URL" --metrics-per-channel "$@" || return 1
    eval "${n}_PID=$SERVE_PID ${n}_HTTP=$SERVE_HTTP ${n}_WS=$SERVE_WS ${n}_LOG=$SERVE_LOG ${n}_IN=$SERVE_LOG.in"
    NODE_PIDS="${NODE_PIDS:-} $SERVE_PID"
    SERVE_PID=
    local h=$SERVE_HTTP
    wait_for curl -sf --max-time 2 -o /dev/null "$h/healthz" || { echo "node $n: /healthz never 200" >&2; tail "$SERVE_LOG" >&2; return 1; }
}

# node_stop NAME — SIGTERM, exit 0 required (ASan: no leak)
node_stop() {
    local pid log
    eval "pid=\${${1}_PID:-} log=\${${1}_LOG:-}"
    [ -n "$pid" ] || return 0
    eval "${1}_PID="
    SERVE_PID=$pid SERVE_LOG=$log serve_stop
}

# redis_teardown — for teardown(): every node and redis-server still running
redis_teardown() {
    local p
    for p in ${NODE_PIDS:-} ${REDIS_PIDS:-} ${BG_PIDS:-}; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    for p in ${NODE_PIDS:-} ${REDIS_PIDS:-} ${BG_PIDS:-}; do wait "$p" 2>/dev/null || true; done
    return 0
}

# ids FILE — the ids of `connect --json` lines, one a line
ids() { jq -r 'select(.id != null) | .id' "$1"; }
# datas FILE — their data
datas() { jq -r 'select(.id != null) | .data' "$1"; }

# pub_to BASE CHANNEL DATA — POST, prints the id it was given
pub_to() {
    curl -sS --fail --max-time 5 --data-binary "$3" "$1/pub/$2" | jq -r .id
}

# refusing BASE REGEXP — node BASE's /healthz is 503 saying REGEXP (Redis's
# refusal) while its links are up: backend_up 0, redis_up 1
refusing() {
    run curl -s --max-time 5 -w ' %{http_code}' "$1/healthz"
    assert_output --regexp "$2 503\$"
    run curl -s --max-time 5 "$1/metrics"
    assert_line "pushwire_backend_up 0"
    assert_line "pushwire_redis_up 1"
}

# cluster_start — three redis-servers with --cluster-enabled yes joined by
# `redis-cli --cluster create` (3 primaries, no replicas); sets CLUSTER_PORTS
# and REDIS_URL (the first); waits for cluster_state:ok (20 s at most)
cluster_start() {
    command -v redis-server >/dev/null || { missing "redis-server (Debian redis-server)"; return 1; }
    # the cluster bus listens on PORT+10000: both must be free
    CLUSTER_PORTS=$($PY -c '
import socket
got = []
while len(got) < 3:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p > 55000 or p in got:
        s.close(); continue
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 10000)); got.append(p)
    except OSError:
        pass
    t.close(); s.close()
print(" ".join(map(str, got)))')
    local p i addrs=
    for p in $CLUSTER_PORTS; do
        mkdir -p "$BATS_TEST_TMPDIR/cluster-$p"
        redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --cluster-enabled yes \
            --cluster-config-file nodes.conf --dir "$BATS_TEST_TMPDIR/cluster-$p" \
            --logfile "$BATS_TEST_TMPDIR/cluster-$p/redis.log" </dev/null >/dev/null 2>&1 3>&- &
        REDIS_PIDS="${REDIS_PIDS:-} $!"
        addrs="$addrs 127.0.0.1:$p"
    done
    for p in $CLUSTER_PORTS; do
        for ((i = 0; i < 100; i++)); do redis-cli -p "$p" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
    done
    # shellcheck disable=SC2086
    timeout 30 redis-cli --cluster create $addrs --cluster-replicas 0 --cluster-yes >"$BATS_TEST_TMPDIR/cluster-create.log" 2>&1 ||
        { cat "$BATS_TEST_TMPDIR/cluster-create.log" >&2; return 1; }
    for p in $CLUSTER_PORTS; do
        for ((i = 0; i < 200; i++)); do
            redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
            sleep 0.1
        done
        redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || { echo "cluster not ok on $p" >&2; return 1; }
    done
    REDIS_URL=redis://127.0.0.1:${CLUSTER_PORTS%% *}
}

# slot_owner CHANNEL — the channel's slot and the port of the primary that
# has it: sets SLOT, FROM_PORT
slot_owner() {
    local first=${CLUSTER_PORTS%% *} owner
    SLOT=$(redis-cli -p "$first" cluster keyslot "$1")
    owner=$(redis-cli -p "$first" cluster nodes | awk -v s="$SLOT" '{ for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1]; if (s >= r[1] && s <= r[2]) print $2 } }' | head -1)
    FROM_PORT=${owner##*:}
    FROM_PORT=${FROM_PORT%%@*}
}

# slot_move_begin CHANNEL — the channel's slot set migrating from the primary
# that has it to another one (the keys stay where they are: MIGRATE them);
# sets SLOT, FROM_PORT, TO_PORT, TO_ID
slot_move_begin() {
    local from_id p
    slot_owner "$1"
    for p in $CLUSTER_PORTS; do [ "$p" != "$FROM_PORT" ] && { TO_PORT=$p; break; }; done
    TO_ID=$(redis-cli -p "$TO_PORT" cluster myid)
    from_id=$(redis-cli -p "$FROM_PORT" cluster myid)
    redis-cli -p "$TO_PORT" cluster setslot "$SLOT" importing "$from_id" >/dev/null
    redis-cli -p "$FROM_PORT" cluster setslot "$SLOT" migrating "$TO_ID" >/dev/null
}

# slot_move_end — every primary told that SLOT is TO_PORT's now
slot_move_end() {
    local p
    for p in $CLUSTER_PORTS; do redis-cli -p "$p" cluster setslot "$SLOT" node "$TO_ID" >/dev/null; done
}
