#!/usr/bin/env bash
# bench_exec.sh — `pushwire serve --exec cat` beside `websocketd cat`, the
# same program behind each, the same load generator, in the same run (run by
# bench/run after `make bench`).  Message round trips per second: N
# WebSocket connections (each its own cat), one 32-byte text message in
# flight on each, then 16 in flight.  Each figure is the median of REPS runs,
# the two servers taking turns.
# Env: BENCH_SECS (default 3) per run, BENCH_REPS (3), BENCH_EXEC_CONNS (10).
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
BENCH_SECS=${BENCH_SECS:-3}
bench_init bench_exec
CONNS=${BENCH_EXEC_CONNS:-10}
bench_need "$B/loadgen" "$PW"
command -v websocketd >/dev/null || { echo "bench_exec: websocketd is missing: run 'make deps'" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench_exec: nothing listens on $1" >&2
    exit 1
}

pw_port=$(free_port)
"$PW" serve -q --listen "127.0.0.1:$pw_port" --exec cat --max-procs 1000 </dev/null 2>"$tmp/pw.err" &
pids+=($!)
wsd_port=$(free_port)
websocketd --address=127.0.0.1 --port="$wsd_port" --loglevel=error cat >"$tmp/wsd.err" 2>&1 &
pids+=($!)
wait_port "$pw_port"
wait_port "$wsd_port"

echo "exec echo: $CONNS connections, each its own 'cat', 32 B text messages; ${SECS} s a run, median of $REPS; load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in 1 16; do
    pa=() wa=()
    for ((r = 0; r < REPS; r++)); do
        out=$("$B/loadgen" echo --port "$pw_port" --path /ws/bench -c "$CONNS" -k "$k" -s 32 -d "$SECS" 2>&1)
        pa+=("$(field rate "$out" | cut -d. -f1)")
        out=$("$B/loadgen" echo --port "$wsd_port" --path /ws/bench -c "$CONNS" -k "$k" -s 32 -d "$SECS" 2>&1)
        wa+=("$(field rate "$out" | cut -d. -f1)")
    done
    p=$(median "${pa[@]}") w=$(median "${wa[@]}")
    printf '  %2d in flight: pushwire --exec %8s msg/s   websocketd %8s msg/s   ratio %s\n' "$k" "$p" "$w" "$(ratiox "$p" "$w")"
done
