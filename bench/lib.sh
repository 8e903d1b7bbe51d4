# bench/lib.sh — what the bench/bench_*.sh scripts share (sourced, not run):
# the set-up and clean-up, starting a server and waiting for it, and the
# arithmetic of the reports.  Each script says `. bench/lib.sh` then
# `bench_init NAME`.

# bench_init NAME — from the repository root: sets top, B (the bench
# programs), PW, SECS, REPS, TCK and tmp (a directory removed at exit); every
# PID in pids, and nginx if $tmp/nginx.pid exists, is killed at exit
bench_init() {
    BENCH_NAME=$1
    top=$PWD
    B=${PW_BENCH_BIN:-$top/build/rel/bench}
    PW=${PW:-$top/pushwire}
    SECS=${BENCH_SECS:-5}
    REPS=${BENCH_REPS:-3}
    TCK=$(getconf CLK_TCK)
    tmp=$(mktemp -d "/tmp/pw-$1.XXXXXX")
    pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
}

bench_cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}

# bench_need FILE... — every FILE executable, or exit naming `make bench`
bench_need() {
    local f
    for f in "$@"; do
        [ -x "$f" ] || { echo "$BENCH_NAME: '$f' is missing: run 'make bench'" >&2; exit 1; }
    done
}

# start NAME CMD... — a server in the background; waits (10 s at most) for
# its `listening on 127.0.0.1:PORT` line, and for its `listening on
# tls://127.0.0.1:PORT` line too when CMD has a tls:// listener; sets PID,
# PORT and TPORT (empty without TLS)
start() {
    local name=$1 i tls=; shift
    [[ " $* " == *" tls://"* ]] && tls=1
    : >"$tmp/$name.err" # before the child opens it: the first check below reads it
    "$@" 2>"$tmp/$name.err" >/dev/null </dev/null &
    PID=$!
    pids+=("$PID")
    PORT= TPORT=
    for ((i = 0; i < 200; i++)); do
        PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err" | head -1)
        TPORT=$(sed -n 's/.*listening on tls:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err" | head -1)
        [ -n "$PORT" ] && { [ -z "$tls" ] || [ -n "$TPORT" ]; } && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "$BENCH_NAME: $name did not start:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# cpu_of PID — CPU ticks (utime + stime) of PID and its child processes
cpu_of() {
    local t=0 p
    for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
now_ns() { date +%s%N; }
# the machine's idle CPU share over a run: cpu_mark before, cpu_idle after (NN%)
cpu_mark() { local u n s i w q sq st; read -r _ u n s i w q sq st _ </proc/stat; CPU0=$((u + n + s + i + w + q + sq + st)); IDLE0=$((i + w)); }
cpu_idle() {
    local u n s i w q sq st t
    read -r _ u n s i w q sq st _ </proc/stat
    t=$((u + n + s + i + w + q + sq + st - CPU0))
    [ "$t" -gt 0 ] || { echo "?"; return; }
    echo "$(((i + w - IDLE0) * 100 / t))%"
}
# per_cpu RATE WALL_NS TICKS [DECIMALS] — work per second of CPU time, "N k"
per_cpu() { awk -v r="$1" -v w="$2" -v t="$3" -v hz="$TCK" -v d="${4:-0}" 'BEGIN { if (t > 0) printf "%.*fk", d, r * w / 1e9 / (t / hz) / 1000; else print "?" }'; }
# server CPU-seconds per million messages: cpu_per_m MSGS TICKS -> "N.NNN"
cpu_per_m() { awk -v m="$1" -v t="$2" -v hz="$TCK" 'BEGIN { if (m > 0) printf "%.3f", t / hz / m * 1e6; else print "?" }'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# field NAME LINE — the value of NAME=VALUE in a loadgen line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# ratiox A B — "2.50x", or "n/a (reference 0)"
ratiox() { local r; r=$(ratio "$1" "$2"); [ "$r" = n/a ] && echo "n/a (reference 0)" || echo "${r}x"; }
# verdict VALUE TARGET [ge|le] — MET, MISSED, or ? when VALUE is not a number
verdict() { awk -v r="$1" -v t="$2" -v dir="${3:-ge}" 'BEGIN { if (r == "n/a" || r == "?" || r == "") print "?"; else if ((dir == "ge" && r + 0 >= t + 0) || (dir == "le" && r + 0 <= t + 0)) print "MET"; else print "MISSED" }'; }
# median "KEY rest"... — the rest of the line whose numeric KEY is the median
# (a line of one field prints itself)
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p" | cut -d' ' -f2-; }
# the median of numbers (one per argument; "?" ignored)
median_of() { printf '%s\n' "$@" | grep -v '^?$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "?" }'; }
