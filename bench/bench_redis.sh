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
. bench/lib.sh
bench_init bench_redis
SUBS=${BENCH_FANOUT_SUBS:-1000}
RATE=${BENCH_REDIS_RATE:-1000}
bench_need "$B/loadgen" "$PW"
command -v redis-server >/dev/null || { echo "bench_redis: redis-server is missing: run 'make deps'" >&2; exit 1; }

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
t0=$(cpu_of "$RPID")
r=$("$B/loadgen" fanout --port "$A" --port2 "$RB" --sse /sse/fr --pub /pub/fr -c "$SUBS" --rate "$RATE" -d "$SECS" 2>&1)
t1=$(cpu_of "$RPID")
for x in "memory:$m" "redis:$r"; do
    n=${x%%:*} l=${x#*:}
    printf '  %-7s delivered %s/%s, lost %s, dup %s, p50 %s us, p99 %s us, published %s (%s/s)\n' "$n" \
        "$(field delivered "$l")" "$(field expected "$l")" "$(field lost "$l")" "$(field dup "$l")" "$(field p50_us "$l")" \
        "$(field p99_us "$l")" "$(field published "$l")" "$(field pub_rate "$l")"
done
pub=$(field published "$r")
[ "${pub:-0}" -gt 0 ] && echo "  redis-server CPU: $(((t1 - t0) * 1000000 / TCK / pub)) us per message ($((t1 - t0)) ticks for $pub messages, 2 nodes subscribed)"

echo "publish: acknowledged POSTs per second (16 connections, 1 subscriber, ${SECS}s)"
for x in "memory:$MEM" "redis:$A"; do
    n=${x%%:*} p=${x#*:}
    l=$("$B/loadgen" fanout --port "$p" --sse "/sse/p$n" --pub "/pub/p$n" -c 1 --rate 200000 --pubconns 16 -d "$SECS" 2>&1)
    printf '  %-7s %s/s acknowledged (delivered %s/%s, lost %s)\n' "$n" "$(field pub_rate "$l")" \
        "$(field delivered "$l")" "$(field expected "$l")" "$(field lost "$l")"
done
