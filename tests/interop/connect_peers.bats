#!/usr/bin/env bats
# pushwire connect against Node `ws` (npm) and websocketd.
load connect_helper

teardown() { peers_stop; }

node_echo() { # [--deflate]
    local log=$BATS_TEST_TMPDIR/node.log i
    [ -d "$INTEROP/node_modules/ws" ] || missing "npm packages missing: run 'make deps'"
    node "$TOP/bench/node_ws_echo.js" "$@" 2>"$log" 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 200); do
        NODE_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$log" | cut -d: -f2) && [ -n "$NODE_PORT" ] && break
        sleep 0.05
    done
    [ -n "$NODE_PORT" ]
    NODE_URL=ws://127.0.0.1:$NODE_PORT/
}

@test "node ws: text lines echo back" {
    node_echo
    run bash -c 'printf "a\nbé\nc\n" | timeout 10 "$PW" connect --wait --count 3 "$0"' "$NODE_URL"
    assert_success
    assert_output $'a\nbé\nc'
}

@test "node ws: binary stays binary" {
    node_echo
    run bash -c 'printf "\x01\x02" | timeout 10 "$PW" connect --binary --json --wait --count 1 "$0"' "$NODE_URL"
    assert_success
    assert_output '{"id":null,"event":"message","data":"AQI=","type":"binary","encoding":"base64"}'
}

@test "node ws: --binary is a byte stream both ways (0, 1, 64 KiB, 64 KiB + 1, 3 MiB of random data)" {
    node_echo
    binary_roundtrip "$NODE_URL" pipes
}

@test "node ws: permessage-deflate with --compress" {
    node_echo --deflate
    run bash -c 'seq 1 200 | timeout 10 "$PW" connect --compress --wait --count 200 -w "%{messages_in}\n" "$0"' "$NODE_URL"
    assert_success
    assert_line --index 0 1
    assert_line --index 199 200
    assert_line --index 200 200
}

@test "node ws: a 1 MiB message round-trips" {
    node_echo
    run bash -c 'head -c 1048576 /dev/zero | tr "\0" x | { cat; echo; } | timeout 20 "$PW" connect --wait --count 1 "$0" | wc -c' "$NODE_URL"
    assert_success
    assert_output 1048577
}

node_peer() { # MODE [ARGS]
    [ -d "$INTEROP/node_modules/ws" ] || missing "npm packages missing: run 'make deps'"
    peer_start NODEP node "$INTEROP/node_ws_peer.js" "$@"
    NODEP_URL=ws://127.0.0.1:$NODEP_PORT/
}

@test "node ws: the subprotocol the server picks is the one used" {
    node_peer proto
    run timeout 10 "$PW" connect --no-stdin --count 1 --subprotocol x --subprotocol chat "$NODEP_URL"
    assert_success
    assert_output 'proto=chat'
}

@test "node ws: a server close 4001 is exit 8 with code and reason" {
    node_peer close 4001 'go away'
    run bash -c 'echo hi | timeout 10 "$PW" connect --wait "$0"' "$NODEP_URL"
    assert_failure 8
    assert_output --partial '4001'
    assert_output --partial 'go away'
}

@test "node ws: a server close 1000 is exit 0" {
    node_peer close 1000 done
    run bash -c 'echo hi | timeout 10 "$PW" connect --wait -w "%{close_code}\n" "$0"' "$NODEP_URL"
    assert_success
    assert_output --partial '1000'
}

@test "node ws: a server ping is answered with a pong carrying its data" {
    node_peer ping
    run timeout 10 "$PW" connect --no-stdin --count 1 "$NODEP_URL"
    assert_success
    assert_output 'pong:hi'
}

@test "websocketd: each line goes to the program and its output comes back" {
    local port i
    port=$(free_port)
    websocketd --address=127.0.0.1 --port="$port" /bin/sed -u "s/.*/\\U&/" >"$BATS_TEST_TMPDIR/wsd.log" 2>&1 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    run bash -c 'printf "hello\nworld\n" | timeout 10 "$PW" connect --wait --count 2 "$0"' "ws://127.0.0.1:$port/"
    assert_success
    assert_output $'HELLO\nWORLD'
}
