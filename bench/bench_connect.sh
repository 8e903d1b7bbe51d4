#!/usr/bin/env bash
# bench_connect.sh — `pushwire connect` piping lines through a WebSocket echo
# server and back, beside a wscat-style Node `ws` client (bench/node_ws_pipe.js)
# against the same server in the same run (issue 4: target >= 10x).
#   N lines of 32 bytes (BENCH_CONNECT_LINES, default 1 000 000) are piped in;
#   the run ends when all N echoes are out.  Prints lines/s, the ratio, and
#   each client's CPU time (user+sys), so a server-bound run shows as such.
# The echo server is `pushwire serve --echo` when this build has serve, else
# the Node ws echo server (bench/node_ws_echo.js).
set -u
cd "$(dirname "$0")/.."
top=$PWD
PW=${PW:-$top/pushwire}
N=${BENCH_CONNECT_LINES:-1000000}
tmp=$(mktemp -d /tmp/pw-bench-connect.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -d tests/interop/node_modules/ws ]; then
    echo "bench_connect: tests/interop/node_modules is missing: run 'make deps'" >&2
    exit 1
fi

/usr/bin/python3 -c '
import sys
sys.stdout.buffer.write(b"0123456789abcdef0123456789abcde\n" * int(sys.argv[1]))' "$N" >"$tmp/lines"

if "$PW" help --gen=applets | grep -qx serve; then
    server="pushwire serve --echo"
    # a large send buffer: a client that writes everything before reading
    # (the Node reference does) must not be dropped as a slow subscriber
    "$PW" serve --echo --send-buffer 1073741824 --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$tmp/server.log" &
else
    server="node ws echo"
    node bench/node_ws_echo.js 2>"$tmp/server.log" &
fi
pids+=($!)
port=
for _ in $(seq 200); do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$tmp/server.log" | head -n1 | cut -d: -f2)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "bench_connect: the echo server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
url=ws://127.0.0.1:$port/ws/bench


time_one() { # name cmd...
    local name=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    cat "$tmp/lines" | /usr/bin/time -f '%U %S' -o "$tmp/$name.cpu" "$@" | wc -l >"$tmp/$name.got"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$tmp/$name.secs"
}

time_one pushwire "$PW" connect --wait --count "$N" "$url"
time_one node node bench/node_ws_pipe.js "$url" "$N"

report() { # name
    local secs got cpu
    secs=$(cat "$tmp/$1.secs"); got=$(cat "$tmp/$1.got"); cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/$1.cpu")
    if [ "$got" -ne "$N" ]; then echo "bench_connect: $1 returned $got of $N lines" >&2; return 1; fi
    awk -v n="$N" -v s="$secs" -v c="$cpu" -v name="$1" \
        'BEGIN { printf "  %-9s %9.0f lines/s  (%d lines in %.2f s, client CPU %.2f s)\n", name, n / s, n, s, c }'
}
echo "connect pipe: $N lines of 32 bytes through $server and back"
report pushwire || exit 1
report node || exit 1
awk -v a="$(cat "$tmp/pushwire.secs")" -v b="$(cat "$tmp/node.secs")" \
    -v ca="$(awk '{ print $1 + $2 }' "$tmp/pushwire.cpu")" -v cb="$(awk '{ print $1 + $2 }' "$tmp/node.cpu")" \
    'BEGIN { printf "  ratio     %.1fx lines/s, %.1fx less client CPU (target >= 10x)\n", b / a, (ca > 0 ? cb / ca : 0) }'
