#!/usr/bin/env bash
# ab_fanout.sh — two pushwire binaries in the 1 000 msg/s SSE fan-out, each
# its own server, taking turns in the same rounds (after `make bench` built
# build/rel/bench/*).  A fan-out at 1 000 msg/s to 1 000 subscribers needs
# both cores, so the two do not run at once: A then B in odd rounds, B then
# A in even ones, and the ratio B/A of each round is what is compared.
#
#   bench/ab_fanout.sh A B [SERVE_ARGS...]
#     A, B        pushwire binaries, each run as `serve --listen 127.0.0.1:0
#                 --max-conns 20000 -q SERVE_ARGS` (default: --write-delay 20)
# Env: BENCH_SECS (4) per run, BENCH_REPS (5) rounds, BENCH_FANOUT_SUBS
# (1000) subscribers, BENCH_RATE (1000) msg/s; BENCH_TOGETHER=1: A and B
# (each with its own load generator) at the same time instead of in turn —
# the machine is then overloaded (both fan-outs' p99 is meaningless) but
# whatever else runs on it disturbs both alike, as in bench/ab_echo.sh.
# Prints each round (deliveries per server CPU-second, user CPU-microseconds
# per delivery, system CPU-microseconds per write, writes per delivery, p99)
# and the medians.  With the delay the writes per delivery move from run to
# run with the machine's load (each write carries what came in its delay),
# and most of the system time is per write: user us per delivery tells a
# change to the delivery path, system us per write one to the write.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${BENCH_SECS:=4}" "${BENCH_REPS:=5}"
. bench/lib.sh
bench_init ab_fanout
[ $# -ge 2 ] || { echo "usage: bench/ab_fanout.sh A B [SERVE_ARGS...]" >&2; exit 2; }
A=$1 BB=$2
shift 2
[ $# -gt 0 ] || set -- --write-delay 20
SUBS=${BENCH_FANOUT_SUBS:-1000} RATE=${BENCH_RATE:-1000}
bench_need "$B/loadgen" "$A" "$BB"

start a "$A" serve --listen 127.0.0.1:0 --max-conns 20000 -q "$@"
APID=$PID APORT=$PORT
start b "$BB" serve --listen 127.0.0.1:0 --max-conns 20000 -q "$@"
BPID=$PID BPORT=$PORT
ut() { awk '{print $14, $15}' "/proc/$1/stat"; }
writes() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | sed -n 's/^pushwire_stream_writes_total //p'; }

# one PORT PID TAG -> RES: "eff us_user/delivery us_sys/write wpd p99_us"
one() {
    local u0 s0 u1 s1 w0 w1 out d
    read -r u0 s0 < <(ut "$2")
    w0=$(writes "$1")
    out=$("$B/loadgen" fanout --port "$1" --sse "/sse/ab$3" --pub "/pub/ab$3" -c "$SUBS" --rate "$RATE" -d "$SECS" 2>&1)
    read -r u1 s1 < <(ut "$2")
    w1=$(writes "$1")
    d=$(field delivered "$out")
    [ -n "$d" ] && [ "$d" -gt 0 ] && [ "$(field lost "$out")" = 0 ] || { RES=; echo "  run failed: $out" >&2; return; }
    RES=$(awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v d="$d" -v w=$((w1 - w0)) -v hz="$TCK" -v p="$(field p99_us "$out")" 'BEGIN {
        k = 1e6 / hz; printf "%.0f %.3f %.2f %.4f %s", d / ((u + s) / hz) / 1000, u * k / d, (w > 0 ? s * k / w : 0), w / d, p }')
    if [ "${BENCH_TOGETHER:-0}" = 1 ]; then echo "$RES"; fi
}

echo "ab_fanout: A=$A B=$BB, serve $*, $SUBS SSE subscribers at $RATE msg/s, $SECS s x $BENCH_REPS rounds$([ "${BENCH_TOGETHER:-0}" = 1 ] && echo ", A and B at the same time"), load $(cut -d' ' -f1-3 /proc/loadavg)"
ae=() be=() re=() au=() bu=() as=() bs=()
for ((i = 1; i <= REPS; i++)); do
    if [ "${BENCH_TOGETHER:-0}" = 1 ]; then
        one "$APORT" "$APID" "a$i" >"$tmp/ra" &
        ja=$!
        one "$BPORT" "$BPID" "b$i" >"$tmp/rb" &
        wait "$ja" "$!"
        ra=$(cat "$tmp/ra") rb=$(cat "$tmp/rb")
    elif ((i % 2)); then
        one "$APORT" "$APID" "a$i"; ra=$RES
        one "$BPORT" "$BPID" "b$i"; rb=$RES
    else
        one "$BPORT" "$BPID" "b$i"; rb=$RES
        one "$APORT" "$APID" "a$i"; ra=$RES
    fi
    [ -n "$ra" ] && [ -n "$rb" ] || continue
    read -r ea ua sa wa pa <<<"$ra"
    read -r eb ub sb wb pb <<<"$rb"
    r=$(awk -v a="$ea" -v b="$eb" 'BEGIN { printf "%.3f", b / a }')
    ae+=("$ea") be+=("$eb") re+=("$r") au+=("$ua") bu+=("$ub") as+=("$sa") bs+=("$sb")
    printf '  round %d: A %sk/cpu-s (user us/delivery %s, sys us/write %s, w/d %s, p99 %s us) | B %sk/cpu-s (user %s, sys %s, w/d %s, p99 %s us) | B/A %s (load %s)\n' \
        "$i" "$ea" "$ua" "$sa" "$wa" "$pa" "$eb" "$ub" "$sb" "$wb" "$pb" "$r" "$(cut -d' ' -f1 /proc/loadavg)"
done
echo "ab_fanout: medians of ${#re[@]} rounds: A $(median_of "${ae[@]}")k, B $(median_of "${be[@]}")k deliveries/cpu-s; B/A $(median_of "${re[@]}")x"
echo "  user us/delivery A $(median_of "${au[@]}") B $(median_of "${bu[@]}"); sys us/write A $(median_of "${as[@]}") B $(median_of "${bs[@]}")"
stop "$APID"
stop "$BPID"
