#!/usr/bin/env bats
# pushwire serve (SPEC §2): resuming across a restart (ids carry an epoch:
# an id of another run is a gap, never a message of this one) and resuming
# from far back (200 000 messages, one connection, paced by the client's
# reading, memory bounded by --send-buffer).  curl, python3-websockets
# (serve_peer.py), raw sockets (serve_edge.py) and `pushwire connect`.
load helper

PEER="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_peer.py"
EDGE="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_edge.py"
pub() { C -d "$2" "$SERVE_URL/pub/$1"; }

teardown() {
    [ -z "${CONNECT_PID:-}" ] || { kill "$CONNECT_PID" 2>/dev/null; wait "$CONNECT_PID" 2>/dev/null; } || true
    [ -z "${RELAY_PID:-}" ] || { kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; } || true
    [ -z "${CURL_PID:-}" ] || { kill "$CURL_PID" 2>/dev/null; wait "$CURL_PID" 2>/dev/null; } || true
    [ -z "${RSS_PID:-}" ] || { kill "$RSS_PID" 2>/dev/null; wait "$RSS_PID" 2>/dev/null; } || true
    stop_serve_clean
}

# ---- the restart: publish 5, restart, publish 10, resume after old id 3 ----

# restarted — runs the scenario; sets OLD and NEW (the two runs' epochs)
restarted() {
    start_serve "$@"
    OLD=$(id_epoch "$(pub c old-1)")
    for i in 2 3 4 5; do pub c "old-$i" >/dev/null; done
    stop_serve
    start_serve "$@"
    NEW=$(id_epoch "$(pub c new-1)")
    for i in $(seq 2 10); do pub c "new-$i" >/dev/null; done
    [ "$OLD" != "$NEW" ] || { echo "a restart kept the epoch $OLD"; false; }
}

@test "restart, SSE: Last-Event-ID of the old run is 200, the gap event, then the 10 new messages (never new 4, 5, … as old ids)" {
    restarted
    expected=$(printf 'event: gap\ndata: {"after":"%s:3","first":"%s:1"}\n\n' "$OLD" "$NEW"
               for i in $(seq 10); do printf 'id: %s:%d\ndata: new-%d\n\n' "$NEW" "$i" "$i"; done)
    run sse_upto 'data: new-10' -i -H "Last-Event-ID: $OLD:3" "$SERVE_URL/sse/c"
    assert_line --partial 'HTTP/1.1 200 OK'
    body=$(printf '%s\n' "$output" | tr -d '\r' | sed '1,/^$/d' | sed '/^retry/,+1d')
    [ "$body" = "$expected" ] || { echo "got: $body"; false; }
    # an id from before ids had epochs ("3") is a gap as well
    run sse_upto 'data: new-10' "$SERVE_URL/sse/c?lastEventId=3"
    assert_line "data: {\"after\":\"3\",\"first\":\"$NEW:1\"}"
    assert_line "id: $NEW:10"
}

@test "restart, long poll: a cursor of the old run is a gap with the 10 new messages" {
    restarted
    items=$(for i in $(seq 10); do printf '{"id":"%s:%d","event":"message","data":"new-%d"},' "$NEW" "$i" "$i"; done)
    run C "$SERVE_URL/poll/c?cursor=$OLD:3"
    assert_output "{\"cursor\":\"$NEW:10\",\"messages\":[${items%,}],\"gap\":true,\"after\":\"$OLD:3\",\"first\":\"$NEW:1\"}"
}

@test "restart, WebSocket: pushwire.v1 gets the gap envelope then the 10 new; without it, close 4410" {
    restarted
    run timeout 10 $PEER ws-recv "$SERVE_PORT" "/ws/c?since=$OLD:3" 11 pushwire.v1
    assert_line --index 1 "{\"event\":\"gap\",\"channel\":\"c\",\"after\":\"$OLD:3\",\"first\":\"$NEW:1\"}"
    for i in $(seq 10); do
        assert_line --index $((i + 1)) "{\"id\":\"$NEW:$i\",\"channel\":\"c\",\"event\":\"message\",\"data\":\"new-$i\"}"
    done
    run timeout 10 $EDGE ws-frames "$SERVE_PORT" "/ws/c?since=$OLD:3" 5
    assert_output "close 4410 gap: after $OLD:3, first held $NEW:1"
}

@test "restart, an empty channel: its old cursor EPOCH:0 is a gap after the restart, not a silent start" {
    start_serve
    run C "$SERVE_URL/poll/quiet?timeout=0"
    cur=$(printf '%s' "$output" | sed 's/.*"cursor":"\([^"]*\)".*/\1/')
    [[ $cur =~ ^[a-z0-9]{12}:0$ ]] || { echo "cursor $cur"; false; }
    run C "$SERVE_URL/poll/quiet?cursor=$cur&timeout=0"
    assert_output "{\"cursor\":\"$cur\",\"messages\":[],\"gap\":false}"
    stop_serve
    start_serve
    new=$(id_epoch "$(pub quiet m1)")
    run C "$SERVE_URL/poll/quiet?cursor=$cur&timeout=0"
    assert_output "{\"cursor\":\"$new:1\",\"messages\":[{\"id\":\"$new:1\",\"event\":\"message\",\"data\":\"m1\"}],\"gap\":true,\"after\":\"$cur\",\"first\":\"$new:1\"}"
}

@test "connect --json: a gap on an empty channel says \"first\":\"\" as the server did (nothing held), over WebSocket (pushwire.v1 and close 4410), SSE and long poll" {
    start_serve
    cur=$(C "$SERVE_URL/poll/quiet?timeout=0" | sed 's/.*"cursor":"\([^"]*\)".*/\1/')
    stop_serve
    start_serve
    for u in "ws://127.0.0.1:$SERVE_PORT/ws/quiet" "ws://127.0.0.1:$SERVE_PORT/ws/quiet --subprotocol x" \
             "$SERVE_URL/sse/quiet" "$SERVE_URL/poll/quiet --poll"; do
        run timeout 10 "$PW" connect --no-stdin --json --fail-on-gap --since "$cur" $u
        [ "$status" = 9 ] || { echo "$u: exit $status"; echo "$output"; false; }
        line=$(printf '%s\n' "$output" | grep '"type":"gap"')
        [ "$(printf '%s' "$line" | jq -c '[.after, .first]')" = "[\"$cur\",\"\"]" ] || { echo "$u: $line"; false; }
        assert_output --partial "gap: messages after '$cur' are gone; nothing is held"
    done
}

@test "a message published with ?event=gap is a message to connect (PROTOCOL: the server's gaps have no id): printed, counted, its id kept, no gap reported, over WebSocket (pushwire.v1), SSE and long poll" {
    start_serve
    ep=$(id_epoch "$(C -d '{"after":"x","first":"y"}' "$SERVE_URL/pub/c?event=gap")")
    pub c after >/dev/null
    for u in "ws://127.0.0.1:$SERVE_PORT/ws/c" "$SERVE_URL/sse/c" "$SERVE_URL/poll/c --poll"; do
        run timeout 10 "$PW" connect --no-stdin --json --fail-on-gap --since 0 -n 2 -w '%{last_id}\n' $u
        [ "$status" = 0 ] || { echo "$u: exit $status"; echo "$output"; false; }
        assert_line "{\"id\":\"$ep:1\",\"event\":\"gap\",\"data\":\"{\\\"after\\\":\\\"x\\\",\\\"first\\\":\\\"y\\\"}\",\"type\":\"text\"}"
        assert_line "{\"id\":\"$ep:2\",\"event\":\"message\",\"data\":\"after\",\"type\":\"text\"}"
        assert_line "$ep:2"
        refute_output --partial 'gap: messages after'
    done
}

# ---- away before the first message: the cursor a client starts with ----

# relay_start — tests/cli/tcp_relay.py in front of the server: RELAY_PID,
# RELAY_PORT (SIGUSR1 cuts its connections and refuses, SIGUSR2 relays)
relay_start() {
    local out=$BATS_TEST_TMPDIR/relay.port i
    /usr/bin/python3 "$BATS_TEST_DIRNAME/tcp_relay.py" "$SERVE_PORT" >"$out" &
    RELAY_PID=$!
    for i in $(seq 100); do
        RELAY_PORT=$(head -n 1 "$out")
        [ -n "$RELAY_PORT" ] && return 0
        sleep 0.05
    done
    echo "the relay never said its port" >&2
    return 1
}

# away_and_back TRANSPORT URL_PATH [CONNECT_ARGS…] — connect --reconnect
# (through the relay, --cursor-file) to a channel holding one message; once
# its cursor file holds the channel's position (5 s at most) the relay cuts
# it, before any message; m1 and m2 are published while it is away, then it
# may come back.  It must print m1 and m2 (--count 2), nothing else: the
# messages of its absence are not lost, and the position is no message.
away_and_back() {
    local t=$1 path=$2 cur=$BATS_TEST_TMPDIR/cur.$1 i
    shift 2
    start_serve
    ep=$(id_epoch "$(pub c m0)")
    relay_start
    local scheme=http
    [ "$t" != ws ] || scheme=ws
    timeout 30 "$PW" connect --reconnect --no-stdin --count 2 --cursor-file "$cur" "$@" \
        "$scheme://127.0.0.1:$RELAY_PORT$path" >"$BATS_TEST_TMPDIR/out.$t" 2>"$BATS_TEST_TMPDIR/err.$t" &
    CONNECT_PID=$!
    for i in $(seq 50); do
        [ -s "$cur" ] && break
        sleep 0.1
    done
    run cat "$cur"
    assert_output "$ep:1"
    kill -USR1 "$RELAY_PID"
    wait_metric "pushwire_connections{transport=\"$t\"} 0"
    pub c m1 >/dev/null
    pub c m2 >/dev/null
    kill -USR2 "$RELAY_PID"
    local st=0
    wait "$CONNECT_PID" || st=$?
    CONNECT_PID=
    [ "$st" = 0 ] || { echo "connect exited $st"; cat "$BATS_TEST_TMPDIR/err.$t"; false; }
    run cat "$BATS_TEST_TMPDIR/out.$t"
    assert_output "$(printf 'm1\nm2')"
    run cat "$cur"
    assert_output "$ep:3"
}

@test "connect --reconnect over WebSocket, cut before its first message: what was published while it was away comes when it is back (pushwire.v1's position envelope is its cursor)" {
    away_and_back ws /ws/c
    run grep -c gap "$BATS_TEST_TMPDIR/err.ws"
    assert_output 0
}

@test "connect --reconnect over SSE, cut before its first message: what was published while it was away comes when it is back" {
    away_and_back sse /sse/c
}

@test "connect --reconnect --poll, cut before its first message: what was published while it was away comes when it is back (its first request asks where the channel is)" {
    away_and_back poll /poll/c --poll
}

# ---- a resume of any size, in one connection ----

N=200000
# NR: the resumes over one connection (SSE with curl, connect over SSE, WS and
# poll) take a tenth of N under ASan: 20 000 messages are still ~15 times the
# --send-buffer and many backlog pages, the same paths at a tenth of the time.
# The replay with live messages keeps N: it needs the replay far from done.
NR=$N
[ "${PW_VARIANT:-rel}" != asan ] || NR=20000

# start_filled N [ARGS…] — serve with N messages on channel big (its stdin
# lines "message 000001" …), waits (30 s at most) until all are held
start_filled() {
    local n=$1 i
    shift
    SERVE_LOG=$(mktemp "$BATS_TEST_TMPDIR/serve.XXXXXX")
    seq -f 'message %06g' "$n" | "$PW" serve --listen 127.0.0.1:0 --channel big --backlog "$n" --metrics-per-channel "$@" \
        2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID") || return 1
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    for i in $(seq 300); do
        C "$SERVE_URL/metrics" | grep -qxF "pushwire_backlog_messages{channel=\"big\"} $n" && return 0
        sleep 0.1
    done
    echo "the backlog never held $n messages" >&2
    return 1
}

# in_order FILE FIELD N — FILE's lines hold ids EPOCH:1 … EPOCH:N, each once,
# in this order, as the FIELD-th "-separated field (--json) or after "id: "
in_order() {
    awk -F'"' -v f="$2" -v n="$3" '
        f == 0 && !/^id: / { next }
        { id = f ? $f : substr($0, 5); split(id, a, ":")
          if (k == 0) ep = a[1]
          if (a[1] != ep || a[2] != k + 1) { print "line " NR ": id " id " after " k " of epoch " ep; bad = 1; exit 1 }
          k++ }
        END { if (!bad && k != n) { print k " ids, expected " n; exit 1 } }' "$1"
}

# rss_watch — samples the server's VmRSS (KiB) into $BATS_TEST_TMPDIR/rss
# every 20 ms until killed
rss_watch() {
    while kill -0 "$SERVE_PID" 2>/dev/null; do
        awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status" 2>/dev/null
        sleep 0.02
    done >"$BATS_TEST_TMPDIR/rss" &
    RSS_PID=$!
}

@test "a resume of 200 000 messages (20 000 under ASan) over SSE (curl, reading at 4 MB/s): one connection, in order, no gap, memory bounded by --send-buffer" {
    start_filled $NR --send-buffer 64K --max-message 1K
    base=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status")
    rss_watch
    curl -s -N --max-time 60 --limit-rate 4M -H 'Last-Event-ID: 0' "$SERVE_URL/sse/big" >"$BATS_TEST_TMPDIR/out" &
    CURL_PID=$!
    for i in $(seq 600); do
        grep -q "^id: [a-z0-9]*:$NR\$" "$BATS_TEST_TMPDIR/out" && break
        kill -0 $CURL_PID 2>/dev/null || break
        sleep 0.1
    done
    kill $CURL_PID; wait $CURL_PID || true; CURL_PID=
    kill $RSS_PID; wait $RSS_PID || true; RSS_PID=
    run in_order "$BATS_TEST_TMPDIR/out" 0 $NR
    assert_success
    run grep -c '^event: gap' "$BATS_TEST_TMPDIR/out"
    assert_output 0
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_slow_disconnects_total 0'
    peak=$(sort -n "$BATS_TEST_TMPDIR/rss" | tail -n 1)
    echo "# server RSS: $base KiB with $NR messages held, at most $peak KiB while replaying them to one client (+$((peak - base)) KiB; --send-buffer 64 KiB)" >&3
    # under ASan freed memory is held back (its quarantine): no bound to judge
    if [ "${PW_VARIANT:-rel}" != asan ]; then
        [ "$peak" -le $((base + 64 + 2048)) ] || { echo "RSS grew from $base to $peak KiB"; false; }
    fi
}

@test "a resume of 200 000 messages (20 000 under ASan): connect over SSE and over WebSocket (pushwire.v1, --since): one connection each, in order, no gap" {
    start_filled $NR --send-buffer 64K --max-message 1K
    timeout 120 "$PW" connect --no-stdin --since 0 --count $NR --json "$SERVE_URL/sse/big" \
        >"$BATS_TEST_TMPDIR/sse" 2>"$BATS_TEST_TMPDIR/err"
    run in_order "$BATS_TEST_TMPDIR/sse" 4 $NR
    assert_success
    timeout 120 "$PW" connect --no-stdin --since 0 --count $NR --json "ws://127.0.0.1:$SERVE_PORT/ws/big" \
        >"$BATS_TEST_TMPDIR/ws" 2>>"$BATS_TEST_TMPDIR/err"
    run in_order "$BATS_TEST_TMPDIR/ws" 4 $NR
    assert_success
    timeout 120 "$PW" connect --no-stdin --poll --since 0 --count $NR --json "$SERVE_URL/poll/big" \
        >"$BATS_TEST_TMPDIR/poll" 2>>"$BATS_TEST_TMPDIR/err"
    run in_order "$BATS_TEST_TMPDIR/poll" 4 $NR
    assert_success
    run cat "$BATS_TEST_TMPDIR/err"
    refute_output --partial gap
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_slow_disconnects_total 0'
}

@test "messages published during a long replay come after it, each exactly once, in order (SSE and WebSocket)" {
    # room for what is published meanwhile, so nothing is trimmed
    start_filled $N --send-buffer 64K --max-message 1K --backlog $((N + 2000))
    # the subscribers stall a second before reading: the replay is under
    # way, far from done, while 1 000 messages are published
    ( timeout 120 "$PW" connect --no-stdin --since 0 --count $((N + 1000)) --json "$SERVE_URL/sse/big" \
          2>"$BATS_TEST_TMPDIR/err.sse" | { sleep 1; cat; } >"$BATS_TEST_TMPDIR/sse" ) &
    sse=$!
    ( timeout 120 "$PW" connect --no-stdin --since 0 --count $((N + 1000)) --json "ws://127.0.0.1:$SERVE_PORT/ws/big" \
          2>"$BATS_TEST_TMPDIR/err.ws" | { sleep 1; cat; } >"$BATS_TEST_TMPDIR/ws" ) &
    ws=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    wait_metric 'pushwire_connections{transport="ws"} 1'
    seq -f 'live %04g' 1000 | timeout 30 "$PW" connect --wait --count 1000 "ws://127.0.0.1:$SERVE_PORT/ws/big" >/dev/null
    wait $sse
    wait $ws
    for t in sse ws; do
        run in_order "$BATS_TEST_TMPDIR/$t" 4 $((N + 1000))
        assert_success
        run tail -n 1 "$BATS_TEST_TMPDIR/$t"
        assert_output --partial '"data":"live 1000"'
        run cat "$BATS_TEST_TMPDIR/err.$t"
        refute_output --partial gap
    done
}

@test "history trimmed past a slow resume: one gap event where the lost messages were, then the rest, none repeated" {
    # 50 000 messages of 200 bytes (10 MB, more than the socket buffers
    # hold); the reader stalls until 50 000 more have pushed all of them
    # out of the backlog
    SERVE_LOG=$(mktemp "$BATS_TEST_TMPDIR/serve.XXXXXX")
    # (--metrics-per-channel: without it the backlog line this waits for is
    # never shown, and the wait ran its full 30 s and more)
    seq -f "%0200g" 50000 | "$PW" serve --listen 127.0.0.1:0 --channel big --backlog 50000 \
        --send-buffer 64K --max-message 1K --metrics-per-channel 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID")
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    wait_metric 'pushwire_backlog_messages{channel="big"} 50000' 30
    ( timeout 120 "$PW" connect --no-stdin --since 0 --until "^new 50000$" --json "$SERVE_URL/sse/big" \
          2>"$BATS_TEST_TMPDIR/err" |
      { for i in $(seq 1200); do [ -e "$BATS_TEST_TMPDIR/done" ] && break; sleep 0.05; done; cat; } \
          >"$BATS_TEST_TMPDIR/out" ) &
    sub=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    seq -f 'new %05g' 50000 | timeout 60 "$PW" connect --wait --count 50000 "ws://127.0.0.1:$SERVE_PORT/ws/big" >/dev/null
    touch "$BATS_TEST_TMPDIR/done"
    wait $sub
    # ids in order; one gap line, after the last id before it, and its
    # first is the id right after it; the last message is the last published
    run awk -F'"' '
        /"event":"gap"/ { gaps++; if ($(NF-5) != last) { print "gap after " $(NF-5) ", last id was " last; exit 1 }
                          gapfirst = $(NF-1); next }
        { split($4, a, ":"); if (prev && a[2] <= prev) { print "id " $4 " after " prev; exit 1 }
          if (gapfirst != "" ) { if ($4 != gapfirst) { print "after the gap " $4 ", gap said " gapfirst; exit 1 } gapfirst = "" }
          else if (prev && a[2] != prev + 1) { print "hole before " $4; exit 1 }
          prev = a[2]; last = $4; n++ }
        END { if (gaps != 1) { print gaps " gap lines"; exit 1 } print n, last }' "$BATS_TEST_TMPDIR/out"
    assert_success
    assert_output --regexp '^[0-9]+ [a-z0-9]{12}:100000$'
    run grep -c 'gap: messages after' "$BATS_TEST_TMPDIR/err"
    assert_output 1
}
