#!/usr/bin/env bash
# bench_redis.sh — `serve --redis` beside the embedded backlog, in one run
# (run by bench/run after `make bench`):
#
#   fan-out   BENCH_FANOUT_SUBS (1000) SSE subscribers, publisher POSTing at
#             BENCH_REDIS_RATE (1000) msg/s: one server with the memory
#             backlog; then two servers on one redis-server, half the
#             subscribers on each, the publisher on the first: delivered /
#             expected, latency p50/p99, and the redis-server's CPU per
#             message (utime+stime from /proc/PID/stat)
#   publish   acknowledged publishes per second (16 POST connections as fast
#             as answers come, one subscriber), memory vs Redis
#
# Env: BENCH_SECS (5), BENCH_FANOUT_SUBS (1000), BENCH_REDIS_RATE (1000).
set -u
cd "$(dirname "$0")/.."
top=$PWD
B=${PW_BENCH_BIN:-$top/build/rel/bench}
PW=${PW:-$top/pushwire}
SECS=${BENCH_SECS:-5}
SUBS=${BENCH_FANOUT_SUBS:-1000}
RATE=${BENCH_REDIS_RATE:-1000}
tmp=$(mktemp -d /tmp/pw-bench-redis.XXXXXX)
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.2
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$B/loadgen" "$PW"; do
    [ -x "$f" ] || { echo "bench_redis: '$f' is missing: run 'make bench'" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "bench_redis: redis-server is missing: run 'make deps'" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

start() { # start NAME CMD...: sets PORT and PID once it listens
    local name=$1 i line; shift
    "$@" 2>"$tmp/$name.err" >/dev/null </dev/null &
    PID=$!
    pids+=("$PID")
    for ((i = 0; i < 200; i++)); do
        line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9]*' "$tmp/$name.err" 2>/dev/null) && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "${line:-}" ] || { echo "bench_redis: $name did not start:" >&2; cat "$tmp/$name.err" >&2; exit 1; }
    PORT=${line##*:}
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >/dev/null 2>&1 </dev/null &
RPID=$!
pids+=("$RPID")
for ((i = 0; i < 100; i++)); do redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
url=redis://127.0.0.1:$rport

start mem "$PW" serve --listen 127.0.0.1:0 -q --max-conns 20000
MEM=$PORT
start a "$PW" serve --listen 127.0.0.1:0 -q --max-conns 20000 --redis "$url"
A=$PORT
start b "$PW" serve --listen 127.0.0.1:0 -q --max-conns 20000 --redis "$url"
RB=$PORT
for p in $A $RB; do
    for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$p/healthz" && break; sleep 0.05; done
done

echo "fan-out: $SUBS SSE subscribers, $RATE msg/s for ${SECS}s (memory: one server; redis: two servers, half on each)"
m=$("$B/loadgen" fanout --port "$MEM" --sse /sse/fm --pub /pub/fm -c "$SUBS" --rate "$RATE" -d "$SECS" 2>&1)
t0=$(ticks "$RPID")
r=$("$B/loadgen" fanout --port "$A" --port2 "$RB" --sse /sse/fr --pub /pub/fr -c "$SUBS" --rate "$RATE" -d "$SECS" 2>&1)
t1=$(ticks "$RPID")
for x in "memory:$m" "redis:$r"; do
    n=${x%%:*} l=${x#*:}
    printf '  %-7s delivered %s/%s, lost %s, dup %s, p50 %s us, p99 %s us, published %s (%s/s)\n' "$n" \
        "$(kv "$l" delivered)" "$(kv "$l" expected)" "$(kv "$l" lost)" "$(kv "$l" dup)" "$(kv "$l" p50_us)" \
        "$(kv "$l" p99_us)" "$(kv "$l" published)" "$(kv "$l" pub_rate)"
done
pub=$(kv "$r" published)
hz=$(getconf CLK_TCK)
[ "${pub:-0}" -gt 0 ] && echo "  redis-server CPU: $(((t1 - t0) * 1000000 / hz / pub)) us per message ($((t1 - t0)) ticks for $pub messages, 2 nodes subscribed)"

echo "publish: acknowledged POSTs per second (16 connections, 1 subscriber, ${SECS}s)"
for x in "memory:$MEM" "redis:$A"; do
    n=${x%%:*} p=${x#*:}
    l=$("$B/loadgen" fanout --port "$p" --sse "/sse/p$n" --pub "/pub/p$n" -c 1 --rate 200000 --pubconns 16 -d "$SECS" 2>&1)
    printf '  %-7s %s/s acknowledged (delivered %s/%s, lost %s)\n' "$n" "$(kv "$l" pub_rate)" \
        "$(kv "$l" delivered)" "$(kv "$l" expected)" "$(kv "$l" lost)"
done
