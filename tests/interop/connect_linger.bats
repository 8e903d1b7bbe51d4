#!/usr/bin/env bats
# pushwire connect never drops a reply: after stdin ends it keeps receiving
# until the server has been quiet for --linger (default 1 s), and --count N
# waits for N messages.  `echo hi | pushwire connect URL` must print `hi`
# every time against every echo server: Debian's python3-websockets (which
# drops messages it has not answered once a close arrives), Node `ws`,
# websocketd running cat, and `pushwire serve --echo`.
load connect_helper

teardown() { peers_stop; }

# echo_hi_20 URL — 20 runs of `echo hi | connect URL`, four at a time; each
# must print exactly "hi" and exit 0.  Fails naming the runs that did not.
echo_hi_20() {
    local url=$1 out=$BATS_TEST_TMPDIR/runs
    mkdir -p "$out"
    seq 20 | xargs -P 4 -I{} bash -c \
        'echo hi | timeout 20 "$PW" connect "$0" >"$1/{}.out" 2>"$1/{}.err"; echo $? >"$1/{}.rc"' \
        "$url" "$out"
    local bad=0 i
    for i in $(seq 20); do
        if [ "$(cat "$out/$i.rc")" != 0 ] || [ "$(cat "$out/$i.out")" != hi ]; then
            echo "run $i: exit $(cat "$out/$i.rc"), stdout '$(cat "$out/$i.out")', stderr '$(cat "$out/$i.err")'" >&2
            bad=$((bad + 1))
        fi
    done
    [ "$bad" -eq 0 ]
}

node_echo() {
    local log=$BATS_TEST_TMPDIR/node.log i
    [ -d "$INTEROP/node_modules/ws" ] || missing "npm packages missing: run 'make deps'"
    node "$TOP/bench/node_ws_echo.js" 2>"$log" 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 200); do
        NODE_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | cut -d: -f2) && [ -n "$NODE_PORT" ] && break
        sleep 0.05
    done
    [ -n "$NODE_PORT" ]
}

websocketd_cat() {
    local i
    command -v websocketd >/dev/null || missing "websocketd is not installed"
    WSD_PORT=$(free_port)
    websocketd --address=127.0.0.1 --port="$WSD_PORT" /bin/cat >"$BATS_TEST_TMPDIR/wsd.log" 2>&1 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$WSD_PORT") 2>/dev/null && break; sleep 0.05; done
}

serve_echo() {
    local log=$BATS_TEST_TMPDIR/serve.log
    "$PW" serve --echo --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$log" 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    SRV_PORT=$(wait_listen "$log" serve "$!")
}

@test "echo hi | connect prints hi, 20 times out of 20: python3-websockets" {
    ws_py echo
    echo_hi_20 "$WS_URL/"
}

@test "echo hi | connect prints hi, 20 times out of 20: Node ws" {
    node_echo
    echo_hi_20 "ws://127.0.0.1:$NODE_PORT/"
}

@test "echo hi | connect prints hi, 20 times out of 20: websocketd running cat" {
    websocketd_cat
    echo_hi_20 "ws://127.0.0.1:$WSD_PORT/"
}

@test "echo hi | connect prints hi, 20 times out of 20: pushwire serve --echo" {
    serve_echo
    echo_hi_20 "ws://127.0.0.1:$SRV_PORT/ws/c"
}

@test "seq 5000 | connect --count 5000 prints exactly 5000 lines, 5 times out of 5 (python3-websockets)" {
    ws_py echo
    local i
    for i in 1 2 3 4 5; do
        run bash -c 'seq 5000 | timeout 30 "$PW" connect --count 5000 "$0" | wc -l' "$WS_URL/"
        assert_success
        assert_output 5000
    done
}

@test "seq 5000 | connect --count 5000 prints 1..5000 in order (serve --echo)" {
    serve_echo
    run bash -c 'seq 5000 | timeout 30 "$PW" connect --count 5000 "$0" | cmp - <(seq 5000) && echo same' "ws://127.0.0.1:$SRV_PORT/ws/c"
    assert_success
    assert_output same
}

@test "after stdin ends, the close waits for --linger of quiet (-v says so); --linger 0 closes at once" {
    ws_py echo
    run bash -c 'echo hi | timeout 20 "$PW" connect -v --linger 0.2 "$0" 2>&1' "$WS_URL/"
    assert_success
    assert_line hi
    assert_line '* nothing arrived for 0.2 s after the end of stdin (--linger): closing'
    assert_line --regexp '^> close len=2 masked code=1000'
    run bash -c 'echo hi | timeout 20 "$PW" connect -v --linger 0 "$0" 2>&1' "$WS_URL/"
    assert_success
    refute_output --partial '(--linger)'
    assert_line --regexp '^> close len=2 masked code=1000'
}

@test "--wait: after stdin ends, connect reads until the server closes" {
    ws_py close 1000 bye
    run bash -c 'echo hi | timeout 20 "$PW" connect --wait -w "%{close_code} %{close_reason}\n" "$0"' "$WS_URL/"
    assert_success
    assert_output '1000 bye'
}

@test "--count N: a server that closes after K < N messages is exit 1, 'ended after K of N messages' and the close" {
    ws_py count 3
    run timeout 20 "$PW" connect --no-stdin --count 5 "$WS_URL/"
    assert_failure 1
    assert_line 'message 3'
    assert_line 'pushwire connect: ended after 3 of 5 messages (close 1000: done)'
}

@test "--count N: stdin's end does not close before N arrived" {
    ws_py count 3
    run bash -c 'echo x | timeout 20 "$PW" connect --count 3 "$0"' "$WS_URL/"
    assert_success
    assert_output $'message 1\nmessage 2\nmessage 3'
}

@test "--count N: an abnormal end before N stays exit 8, with the count" {
    ws_py close 1011 boom now
    run timeout 20 "$PW" connect --no-stdin --count 2 "$WS_URL/"
    assert_failure 8
    assert_line --partial 'server closed the connection with 1011'
    assert_line 'pushwire connect: ended after 0 of 2 messages (close 1011: boom)'
}

@test "--count N over SSE: a stream that ends for good before N is exit 1 with the HTTP status" {
    # sse_server.py edge: 4 events and a cut, 1 event and an end, then 204
    peer_start SSE "$PY" "$INTEROP/sse_server.py" edge
    run bash -c 'timeout 20 "$PW" connect --reconnect --count 10 "$0" 2>&1 >/dev/null' "http://127.0.0.1:$SSE_PORT/"
    assert_failure 1
    assert_line 'pushwire connect: ended after 5 of 10 messages (HTTP 204)'
}

@test "--count N over SSE: a cut stream before N stays exit 8, with the count" {
    peer_start SSE "$PY" "$INTEROP/sse_server.py" edge
    run bash -c 'timeout 20 "$PW" connect --count 10 "$0" 2>&1 >/dev/null' "http://127.0.0.1:$SSE_PORT/"
    assert_failure 8
    assert_line 'pushwire connect: the event stream was cut'
    assert_line 'pushwire connect: ended after 4 of 10 messages (HTTP 200)'
}
