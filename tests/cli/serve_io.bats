#!/usr/bin/env bats
# pushwire serve: the server's own socket I/O (src/server/srv_io.c: one
# epoll per loop instead of a libuv stream per connection) does what
# libuv's streams did: writes that wait for the socket many times,
# connections that end together in one batch of events, accepting while out
# of file descriptors.  Raw clients in serve_io.py.
load helper

IO="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_io.py"

# the server's log must show no sanitizer report (ASan build)
teardown() { stop_serve_clean; }

@test "three 2 MB messages reach a subscriber that reads through a 4 KiB window, byte for byte" {
    start_serve --max-message 3M --send-buffer 16M
    run timeout 90 $IO slow-big "$SERVE_PORT" 2000000 3
    assert_output 'intact 3 of 3'
    run C "$SERVE_URL/healthz"
    assert_output ok
}

@test "a message queued for 200 streams that reset in the same batch of events, and 200 WebSockets closing in it too" {
    start_serve --max-conns 1000 --metrics-per-channel
    run timeout 60 $IO batch-end "$SERVE_PORT" "$SERVE_PID" 200
    assert_output "$(printf 'published True\nws closes answered 200 of 200')"
    wait_metric 'pushwire_subscribers{channel="batch"} 0'
    wait_metric 'pushwire_connections{transport="sse"} 0'
    wait_metric 'pushwire_connections{transport="ws"} 0'
    run C "$SERVE_URL/healthz"
    assert_output ok
}

@test "out of file descriptors: connections past the limit are closed unserved and logged, the rest served, and it recovers" {
    SERVE_LOG=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/serve.XXXXXX")
    bash -c 'ulimit -n 64 && exec "$0" serve --listen 127.0.0.1:0' "$PW" </dev/null 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID")
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    run timeout 60 $IO fd-flood "$SERVE_PORT" 120
    assert_output "$(printf 'served some\nended unserved some\ntotal True')"
    grep -q 'accept: too many open files: [0-9]* connection(s) closed unserved' "$SERVE_LOG"
    wait_metric 'pushwire_connections{transport="sse"} 0'
    run C "$SERVE_URL/healthz"
    assert_output ok
}
