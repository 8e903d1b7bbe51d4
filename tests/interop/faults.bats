#!/usr/bin/env bats
# faults.bats — fault drills against `pushwire serve` (faults.py): clients
# vanishing at every stage, a subscriber that stops reading, publishing while
# clients drop and resume.  Every test asserts no loss, no duplicate, no
# crash (serve alive, exit 0 on SIGTERM; under ASan no leak), no connection
# left behind in /metrics, and the server's RSS (from /proc) back near its
# baseline.
load helper

# ASan keeps freed memory in a quarantine (256 MB by default): keep it small
# so that RSS means something in the sanitizer run too
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"

teardown() {
    serve_stop || true
}

# RSS margin over the baseline, KiB: allocator slack (bigger under ASan)
margin() { [ "${PW_VARIANT:-rel}" = asan ] && echo 49152 || echo 6144; }

drill() {
    run timeout 240 "$PY" "$INTEROP/faults.py" "$@"
    echo "$output"
    [ "$status" -eq 0 ]
}

no_conns_left() {
    local t n
    for t in ws sse poll; do
        n=$(curl -sS --max-time 5 "$SERVE_HTTP/metrics" | sed -n "s/^pushwire_connections{transport=\"$t\"} //p")
        [ "$n" = 0 ] || { echo "$t connections still open: $n"; return 1; }
    done
}

rss_near() { # BASELINE_KIB [EXTRA_KIB]
    local now limit
    now=$(serve_rss)
    limit=$(($1 + ${2:-0} + $(margin)))
    echo "rss: baseline $1 KiB, now $now KiB, limit $limit KiB"
    [ "$now" -le "$limit" ]
}

backlog_kib() {
    curl -sS --max-time 5 "$SERVE_HTTP/metrics" |
        awk '/^pushwire_backlog_bytes/ { s += $NF } END { printf "%d\n", s * 1.5 / 1024 }'
}

@test "faults: 1 000 clients vanish mid-request, mid-frame, mid-stream; the live subscriber loses nothing" {
    serve_start --ping 0 --metrics-per-channel
    drill vanish "$SERVE_PORT" 100                # warm-up: the allocator's arenas
    base=$(serve_rss)
    drill vanish "$SERVE_PORT" 1000
    serve_alive
    wait_for no_conns_left
    rss_near "$base" "$(backlog_kib)"
    serve_stop
}

@test "faults: a subscriber that stops reading while 10 000 messages are published is cut and counted; the others get all" {
    # run twice on one channel: the first run fills the backlog (10 000), so
    # the second must leave memory where the first left it
    serve_start --ping 0 --send-buffer 1048576 --backlog 10000
    [ "$(metric pushwire_slow_disconnects_total)" = 0 ]
    drill slow "$SERVE_PORT" 10000 slowch
    base=$(serve_rss)
    drill slow "$SERVE_PORT" 10000 slowch
    serve_alive
    n=$(metric pushwire_slow_disconnects_total)
    [ "$n" -ge 2 ] || { echo "slow_disconnects_total is $n after two stalled subscribers"; false; }
    wait_for no_conns_left
    rss_near "$base"
    serve_stop
}

@test "faults: publishing while 12 clients keep dropping and resuming (ws ?since=, SSE Last-Event-ID, poll cursor)" {
    serve_start --ping 0 --backlog 4096 --metrics-per-channel
    drill resume "$SERVE_PORT" 300                # warm-up
    base=$(serve_rss)
    drill resume "$SERVE_PORT" 2000
    serve_alive
    wait_for no_conns_left
    rss_near "$base" "$(backlog_kib)"
    serve_stop
}
