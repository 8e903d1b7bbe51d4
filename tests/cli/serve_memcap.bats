#!/usr/bin/env bats
# pushwire serve: memory has a ceiling — the history budget
# (--history-bytes), the age limit (--message-ttl), forgotten channels,
# --max-channels, and /metrics that stays bounded whatever the channel count.
# Publishers in pub_many.py (one pipelined keep-alive connection).
load helper

PUBMANY="/usr/bin/python3 $BATS_TEST_DIRNAME/pub_many.py"
OVERHEAD_KIB=3072   # besides the budget: the channel table, the allocator's slack
pub() { C -d "$2" "$SERVE_URL/pub/$1"; }

teardown() { stop_serve_clean; }

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status"; }
metric() { C "$SERVE_URL/metrics" | sed -n "s/^$1 //p"; }

# wait_metric NAME VALUE — up to 5 s for /metrics to show NAME VALUE
wait_metric() {
    local i
    for i in $(seq 50); do
        [ "$(metric "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "metrics: $1 is $(metric "$1"), not $2" >&2
    return 1
}

# rss_within BASE_KIB BUDGET_KIB — RSS under the budget plus the overhead
# (not judged under ASan: its quarantine holds freed memory back)
rss_within() {
    local now
    now=$(rss)
    echo "# RSS $1 KiB at start, $now KiB after (+$((now - $1)) KiB; budget $2 KiB + overhead $OVERHEAD_KIB KiB)" >&3
    [ "${PW_VARIANT:-rel}" = asan ] && return 0
    [ "$now" -le $(($1 + $2 + OVERHEAD_KIB)) ] || { echo "RSS $now KiB over $1 + $2 + $OVERHEAD_KIB" >&2; return 1; }
}

@test "100 000 POSTs to 100 000 channel names: RSS stays under --history-bytes plus a fixed overhead, the oldest channels are forgotten" {
    start_serve --history-bytes 8M
    pub warm x >/dev/null
    base=$(rss)
    run timeout 150 $PUBMANY "$SERVE_PORT" ch 100000 100
    assert_success
    assert_output '200 100000'
    rss_within "$base" 8192
    [ "$(metric pushwire_history_bytes)" -le $((8 * 1024 * 1024)) ]
    channels=$(metric pushwire_channels)
    echo "# $channels channels held of 100 000 published to, $(metric pushwire_history_messages) messages" >&3
    [ "$channels" -lt 100000 ] && [ "$channels" -gt 1000 ]
    [ "$(metric 'pushwire_evictions_total{cause="history_bytes"}')" -gt 0 ]
    [ "$(metric pushwire_channels_expired_total)" -gt 0 ]
    # the newest are held, the oldest are not
    run C "$SERVE_URL/poll/ch99999?cursor=0&timeout=0"
    assert_output --regexp '"messages":\[\{"id":"[a-z0-9]+:[0-9]+","event":"message","data":"x{100}"\}\],"gap":false'
    run C "$SERVE_URL/poll/ch0?cursor=0&timeout=0"
    assert_output --partial '"messages":[]'
}

@test "one channel with 1 MB messages: RSS stays under --history-bytes plus a fixed overhead (and the send buffer a POST body needs)" {
    start_serve --history-bytes 8M --max-message 1M
    pub warm x >/dev/null
    base=$(rss)
    run timeout 150 $PUBMANY "$SERVE_PORT" big 60 1000000 1
    assert_success
    assert_output '200 60'
    # a POST body of up to --max-message is buffered while it comes in
    rss_within "$base" $((8192 + 1024))
    run metric pushwire_history_messages
    assert_output 9   # 8 of 1 MB, and warm's
    [ "$(metric 'pushwire_evictions_total{cause="history_bytes"}')" -eq 52 ]
}

@test "the budget evicts the oldest messages of the channel over its share; small channels keep theirs; a resume into the evicted range gets the gap" {
    start_serve --history-bytes 64K
    pub small hello >/dev/null
    first=$(pub big "$(head -c 8000 /dev/zero | tr '\0' a)" | sed 's/.*"id":"\([^"]*\)".*/\1/')
    for i in $(seq 2 20); do pub big "$(head -c 8000 /dev/zero | tr '\0' a)" >/dev/null; done
    [ "$(metric 'pushwire_evictions_total{cause="history_bytes"}')" -gt 0 ]
    run C "$SERVE_URL/poll/small?cursor=0&timeout=0"
    assert_output --regexp '"data":"hello"\}\],"gap":false'
    # SSE: the gap event names the first held, then what is held
    run sse_upto "data: {\"after\":\"$first\"" -H "Last-Event-ID: $first" "$SERVE_URL/sse/big"
    assert_output --regexp "event: gap
data: \{\"after\":\"$first\",\"first\":\"[a-z0-9]+:[0-9]+\"\}"
    # long polling: gap true
    run C "$SERVE_URL/poll/big?cursor=$first&timeout=0"
    assert_output --partial "\"gap\":true,\"after\":\"$first\""
}

@test "--message-ttl: expired messages leave, the channel count in /metrics goes down, a resume into them gets the gap" {
    start_serve --message-ttl 3 # long enough for three POSTs on a loaded machine
    id1=$(pub a one | sed 's/.*"id":"\([^"]*\)".*/\1/')
    pub a two >/dev/null
    pub b one >/dev/null
    run metric pushwire_channels
    assert_output 2
    wait_metric pushwire_channels 0
    run metric pushwire_history_messages
    assert_output 0
    run metric 'pushwire_evictions_total{cause="ttl"}'
    assert_output 3
    run metric pushwire_channels_expired_total
    assert_output 2
    run sse_upto "data: {\"after\":\"$id1\"" -H "Last-Event-ID: $id1" "$SERVE_URL/sse/a"
    assert_output --partial "event: gap
data: {\"after\":\"$id1\",\"first\":\"\"}"
    # a channel made again continues its ids: the old ones name nothing new
    id3=$(pub a three | sed 's/.*"id":"\([^"]*\)".*/\1/')
    [ "${id3##*:}" -gt 2 ]
}

@test "--message-ttl on a server nobody talks to: the expired messages' memory is returned on the tick, without a request" {
    [ "${PW_VARIANT:-rel}" = asan ] && { echo "# RSS not judged under ASan (its quarantine keeps freed memory)" >&3; }
    start_serve --message-ttl 5 --max-message 2M --backlog 100
    head -c 1048576 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/m"
    base=$(rss)
    # one curl, one keep-alive connection, 40 POSTs of 1 MiB
    C --data-binary @"$BATS_TEST_TMPDIR/m" $(for i in $(seq 40); do echo "$SERVE_URL/pub/big"; done) >/dev/null
    full=$(rss)
    sleep 6.5 # nothing talks to the server: only its tick can expire the messages
    idle=$(rss)
    echo "# RSS: $base KiB before, $full KiB holding 40 MiB, $idle KiB after they expired" >&3
    run metric pushwire_history_messages
    assert_output 0
    [ "${PW_VARIANT:-rel}" = asan ] && return 0
    [ "$full" -gt $((base + 30000)) ]
    [ "$idle" -lt $((base + 10000)) ]
}

@test "--max-channels 2: a publish that would create a third channel gets 503 with a clear body; existing ones still take publishes" {
    start_serve --max-channels 2
    pub a 1 >/dev/null
    pub b 1 >/dev/null
    run curl -s --max-time 5 -w ' %{http_code}' -d 1 "$SERVE_URL/pub/c"
    assert_output --regexp 'too many channels \(--max-channels\).* 503$'
    run curl -s --max-time 5 -o /dev/null -w '%{http_code}' -d 2 "$SERVE_URL/pub/a"
    assert_output 200
    run curl -s --max-time 5 -o /dev/null -w '%{http_code}' -d 1 "$SERVE_URL/pub/d"
    assert_output 503
    run metric pushwire_channels_refused_total
    assert_output 2
    run metric pushwire_channels
    assert_output 2
}

@test "/metrics: totals only by default, whatever the channel count; --metrics-per-channel lists at most 1000 channels" {
    start_serve
    run timeout 60 $PUBMANY "$SERVE_PORT" m 1500 10
    assert_output '200 1500'
    C "$SERVE_URL/metrics" >"$BATS_TEST_TMPDIR/m"
    run grep -c 'channel="' "$BATS_TEST_TMPDIR/m"
    assert_output 0
    run grep -c '^pushwire_' "$BATS_TEST_TMPDIR/m"
    [ "$output" -lt 40 ]
    run grep -x 'pushwire_channels 1500' "$BATS_TEST_TMPDIR/m"
    assert_success
    run grep -x 'pushwire_history_messages 1500' "$BATS_TEST_TMPDIR/m"
    assert_success
    stop_serve
    start_serve --metrics-per-channel
    run timeout 60 $PUBMANY "$SERVE_PORT" m 1500 10
    C "$SERVE_URL/metrics" >"$BATS_TEST_TMPDIR/m"
    run grep -c '^pushwire_backlog_messages{channel="' "$BATS_TEST_TMPDIR/m"
    assert_output 1000
    run grep -c 'channel="' "$BATS_TEST_TMPDIR/m"
    assert_output 3000
}

@test "the limits' values are checked: --history-bytes below 64K, --max-channels 0 are usage errors" {
    run pw serve --history-bytes 1K
    assert_failure 2
    assert_output --partial 'history-bytes'
    run pw serve --max-channels 0
    assert_failure 2
    run pw serve --message-ttl soon
    assert_failure 2
}

# Idle connections: what each keeps lives in slabs of its own, and the heap
# the burst's handshakes used goes back on the tick.  A crowd opened at once
# left 530-640 B of RSS per WebSocket before (freed handshake buffers pinned
# between live connection structs); ~360 B since.
@test "10 000 WebSockets opened at once: at most 512 B of server RSS each once open; what they keep is gone when they close" {
    [ "${PW_VARIANT:-rel}" = asan ] && echo "# RSS not judged under ASan (its quarantine keeps freed memory)" >&3
    start_serve --max-conns 12000
    mkfifo "$BATS_TEST_TMPDIR/hold"
    timeout 120 /usr/bin/python3 "$BATS_TEST_DIRNAME/serve_peer.py" ws-hold "$SERVE_PORT" 10000 "$SERVE_PID" \
        <"$BATS_TEST_TMPDIR/hold" >"$BATS_TEST_TMPDIR/out" 2>&1 &
    peer=$!
    exec 5>"$BATS_TEST_TMPDIR/hold"
    for i in $(seq 900); do
        grep -q '^open ' "$BATS_TEST_TMPDIR/out" && break
        kill -0 "$peer" 2>/dev/null || break
        sleep 0.1
    done
    cat "$BATS_TEST_TMPDIR/out" >&3
    read -r _ open _ per <"$BATS_TEST_TMPDIR/out"
    [ "$open" = 10000 ]
    # the struct, the feed and the channel name of each (~400 B), counted
    mem=$(metric pushwire_connection_memory_bytes)
    echo "# pushwire_connection_memory_bytes $mem" >&3
    [ "$mem" -ge $((10000 * 300)) ] && [ "$mem" -le $((10000 * 512)) ]
    exec 5>&-
    wait "$peer"
    wait_metric 'pushwire_connections{transport="ws"}' 0
    # only the connection asking is left
    [ "$(metric pushwire_connection_memory_bytes)" -lt 1024 ]
    [ "${PW_VARIANT:-rel}" = asan ] && return 0
    [ "$per" -le 512 ]
}
