#!/usr/bin/env bash
# ab_echo.sh — two echo servers measured side by side AT THE SAME TIME (after
# `make bench` built build/rel/bench/*): each has its own loadgen, both pairs
# run together, so whatever else the machine is doing disturbs both alike.
# On a shared 2-core machine the CPU per echo of one server measured alone
# swings ±10-20 % from run to run; the ratio of two measured together
# swings a few percent (docs/PERF_ECHO.md, "Third round").
#
#   bench/ab_echo.sh A B [SIZE [K]]
#     A, B   a pushwire binary (run as `serve --echo`), `tcp` for the raw
#            TCP echo (bench/tcp_echo.c) driven with bare bytes, `tcpf` for
#            the same driven by `loadgen tcp --framed` (the client's work of
#            a WebSocket echo: the fair reference), or `ws` for the least a WebSocket
#            echo can do (bench/ws_echo_min.c); SIZE bytes per message (4096),
#            K messages in flight per connection (16), 100 connections
# Env: BENCH_SECS (3) per round, BENCH_REPS (9) rounds.
# Prints each round (server CPU-microseconds per echo, user and system,
# from /proc/PID/stat; echoes per second) and the medians of B/A.
set -u
cd "$(dirname "$0")/.."
: "${BENCH_SECS:=3}" "${BENCH_REPS:=9}"
. bench/lib.sh
bench_init ab_echo
[ $# -ge 2 ] || { echo "usage: bench/ab_echo.sh A B [SIZE [K]]  (A, B: a pushwire binary, tcp, tcpf or ws)" >&2; exit 2; }
SIZE=${3:-4096} K=${4:-16}
bench_need "$B/loadgen" "$B/tcp_echo" "$B/ws_echo_min"

# serve NAME BIN -> PID, PORT, MODE (loadgen's)
serve() {
    FLAG=
    if [ "$2" = tcp ] || [ "$2" = tcpf ]; then
        start "$1" "$B/tcp_echo" 0
        MODE=tcp
        [ "$2" = tcpf ] && FLAG=--framed
    elif [ "$2" = ws ]; then
        start "$1" "$B/ws_echo_min" 0
        MODE="echo"
    else
        bench_need "$2"
        start "$1" "$2" serve --listen 127.0.0.1:0 --echo --max-conns 20000 -q
        MODE="echo"
    fi
}
serve a "$1"; APID=$PID APORT=$PORT AMODE=$MODE AFLAG=$FLAG
serve b "$2"; BPID=$PID BPORT=$PORT BMODE=$MODE BFLAG=$FLAG
ut() { awk '{print $14, $15}' "/proc/$1/stat"; }

echo "ab_echo: A=$1 B=$2, $SIZE B x$K in flight, 100 connections, $SECS s x $REPS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
rc=() rs=() rr=()
for ((i = 1; i <= REPS; i++)); do
    read -r au0 as0 < <(ut "$APID")
    read -r bu0 bs0 < <(ut "$BPID")
    "$B/loadgen" "$AMODE" $AFLAG --port "$APORT" -c 100 -k "$K" -s "$SIZE" -d "$SECS" >"$tmp/la" 2>&1 &
    la=$!
    "$B/loadgen" "$BMODE" $BFLAG --port "$BPORT" -c 100 -k "$K" -s "$SIZE" -d "$SECS" >"$tmp/lb" 2>&1 &
    lb=$!
    wait "$la" "$lb"
    read -r au1 as1 < <(ut "$APID")
    read -r bu1 bs1 < <(ut "$BPID")
    na=$(field msgs "$(cat "$tmp/la")") nb=$(field msgs "$(cat "$tmp/lb")")
    [ -n "$na" ] && [ -n "$nb" ] && [ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || { echo "  round $i: a loadgen failed: $(cat "$tmp/la" "$tmp/lb")"; continue; }
    line=$(awk -v au=$((au1 - au0)) -v as=$((as1 - as0)) -v bu=$((bu1 - bu0)) -v bs=$((bs1 - bs0)) \
        -v na="$na" -v nb="$nb" -v hz="$TCK" -v s="$SECS" 'BEGIN {
        k = 1e6 / hz; a = (au + as) * k / na; b = (bu + bs) * k / nb
        printf "%.3f %.3f %.3f A %.3f us (u %.3f s %.3f) %dk/s | B %.3f us (u %.3f s %.3f) %dk/s | B/A cpu %.3f sys %.3f rate %.3f",
            b / a, (as > 0 ? (bs / nb) / (as / na) : 0), nb / na,
            a, au * k / na, as * k / na, na / s / 1000, b, bu * k / nb, bs * k / nb, nb / s / 1000,
            b / a, (as > 0 ? (bs / nb) / (as / na) : 0), nb / na }')
    read -r c sy r rest <<<"$line"
    rc+=("$c") rs+=("$sy") rr+=("$r")
    echo "  round $i: $rest (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "ab_echo: B/A medians of ${#rc[@]} rounds: CPU per echo $(median_of "${rc[@]}")x, system part $(median_of "${rs[@]}")x, echoes/s $(median_of "${rr[@]}")x"
stop "$APID"
stop "$BPID"
