#!/usr/bin/env bats
# python.bats — Debian's python3-websockets (under /usr/bin/python3) as a
# client of `pushwire serve`.  The scenarios are in py_client.py.
load helper

setup_file() {
    serve_start --ping 0
}

teardown_file() {
    serve_stop || true
}

teardown() {
    serve_teardown
}

client() {
    run timeout 120 "$PY" "$INTEROP/py_client.py" "$@"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "python websockets: echo of text and binary, ping, close 1000" {
    serve_start --echo
    client echo "$SERVE_PORT"
    serve_stop
}

@test "python websockets + permessage-deflate: echo" {
    serve_start --echo
    client echo "$SERVE_PORT" deflate
    serve_stop
}

@test "python websockets: publish/subscribe between two clients, close code echoed" {
    client pubsub "$SERVE_PORT"
}

@test "python websockets: pushwire.v1 envelopes and ?since= resume" {
    client resume "$SERVE_PORT"
}

@test "python websockets: SIGTERM closes open WebSockets with 1001 and serve exits 0" {
    serve_start
    "$PY" "$INTEROP/py_client.py" wait-close "$SERVE_PORT" >"$BATS_TEST_TMPDIR/wc.out" 2>&1 3>&- &
    cpid=$!
    wait_for grep -q '^open' "$BATS_TEST_TMPDIR/wc.out"
    serve_stop
    wait "$cpid" || true
    run cat "$BATS_TEST_TMPDIR/wc.out"
    assert_line 'close 1001'
}
