#!/usr/bin/env bats
# ws_deflate.bats — permessage-deflate (RFC 7692) with real peers: Node `ws`
# (perMessageDeflate on), Chromium (playwright-core; it offers deflate on every
# WebSocket) and python3-websockets, each sending and receiving text and binary
# messages below and above the compression threshold, 1 000 of them and one of
# --max-message; a raw socket checks the frames themselves (RSV1 only on
# compressed ones, each inflating alone).  Once with serve's default (no
# context takeover either way, the compressed frame shared by subscribers) and
# once with --deflate-context.  The scenarios are in ws_deflate.js.
load helper

MAXMSG=262144

teardown() {
    serve_teardown
}

peer() {
    run timeout 240 "$NODE" "$INTEROP/ws_deflate.js" "$@"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == ok* ]]
}

@test "deflate, no context takeover: Node ws sends and receives every message intact" {
    serve_start --ping 0 --max-message $MAXMSG
    peer node "$SERVE_PORT" $MAXMSG
    serve_stop
}

@test "deflate, no context takeover: the frames (RSV1 only when compressed, each inflates alone, small ones plain)" {
    serve_start --ping 0 --max-message $MAXMSG
    peer raw "$SERVE_PORT" $MAXMSG
    serve_stop
}

@test "deflate, no context takeover: Chromium sends and receives every message intact" {
    [ -x /usr/bin/chromium ] || missing "Debian's chromium is not installed"
    serve_start --ping 0 --max-message $MAXMSG
    peer browser "$SERVE_PORT" $MAXMSG
    serve_stop
}

@test "deflate, --deflate-context: Node ws sends and receives every message intact" {
    serve_start --ping 0 --max-message $MAXMSG --deflate-context
    peer node "$SERVE_PORT" $MAXMSG context
    serve_stop
}

@test "deflate, --deflate-context: the answer keeps context takeover; compressed frames are smaller" {
    serve_start --ping 0 --max-message $MAXMSG --deflate-context
    peer raw "$SERVE_PORT" $MAXMSG context
    serve_stop
}

@test "deflate, --deflate-context --deflate-window 9: Chromium sends and receives every message intact" {
    [ -x /usr/bin/chromium ] || missing "Debian's chromium is not installed"
    serve_start --ping 0 --max-message $MAXMSG --deflate-context --deflate-window 9
    peer browser "$SERVE_PORT" $MAXMSG context
    serve_stop
}

@test "deflate, --deflate-window 10: python3-websockets echo and publish, compressed, both ways" {
    serve_start --ping 0 --max-message $MAXMSG --deflate-window 10
    run timeout 200 $PY "$INTEROP/ws_deflate_py.py" "$SERVE_PORT" $MAXMSG
    echo "$output"
    [ "$status" -eq 0 ]
    assert_output --partial "ok python"
    serve_stop
}
