#!/usr/bin/env bats
# node.bats — Node clients from npm against `pushwire serve`: `ws` without
# and with permessage-deflate (echo and publish/subscribe, resume past the
# backlog) and `eventsource`.
# The scenarios are in node_clients.js.
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
    run timeout 90 "$NODE" "$INTEROP/node_clients.js" "$@"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "node ws: echo of text and binary from 0 B to 1 MiB, ping, close 1000, 1009 past --max-message" {
    serve_start --echo --max-message 1048576
    client ws-echo "$SERVE_PORT"
    serve_stop
}

@test "node ws + permessage-deflate: the same echo run, compressed" {
    serve_start --echo --max-message 1048576
    client ws-echo "$SERVE_PORT" deflate
    serve_stop
}

@test "node ws: publish/subscribe between two clients and from POST" {
    client ws-pubsub "$SERVE_PORT"
}

@test "node ws + permessage-deflate: publish/subscribe between two clients and from POST" {
    client ws-pubsub "$SERVE_PORT" deflate
}

@test "node ws: a ?since= resume past the newest id without pushwire.v1 is close 4410 with the gap; with it, the gap envelope" {
    client ws-resume-gap "$SERVE_PORT"
}

@test "node eventsource: messages in order, multi-line data, named events" {
    client eventsource "$SERVE_PORT"
}

@test "node: serve survived the clients and exits 0 on SIGTERM" {
    serve_alive
    serve_stop
}
