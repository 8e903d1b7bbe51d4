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

@test "a pushwire.v1 WebSocket publishing to its own channel faster than its queue drains is paused, not dropped as slow" {
    # 20 000 short messages in one burst, each back as an envelope ~8x its
    # size: one read (32 KiB, half of --send-buffer) brings the answers to
    # ~240 KiB; the server must stop taking that read's input at its pause
    # point and go on as the queue drains
    start_serve --send-buffer 64K --max-message 1K
    run timeout 90 $IO self-flood "$SERVE_PORT" "$SERVE_PID" 20000
    assert_output "$(printf 'back in order 20000 of 20000\nclose None')"
    run C "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_slow_disconnects_total 0'
}

@test "the same over TLS: input decrypted past the pause point waits, nothing lost" {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$BATS_TEST_TMPDIR/k.pem" -out "$BATS_TEST_TMPDIR/c.pem" 2>/dev/null
    SERVE_LOG=$(mktemp "$BATS_TEST_TMPDIR/serve.XXXXXX")
    "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$BATS_TEST_TMPDIR/c.pem" --tls-key "$BATS_TEST_TMPDIR/k.pem" \
        --send-buffer 64K --max-message 1K </dev/null 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    SERVE_PORT=
    for _ in $(seq 100); do
        SERVE_PORT=$(sed -n 's|^pushwire serve: listening on tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$SERVE_LOG")
        [ -n "$SERVE_PORT" ] && break
        sleep 0.05
    done
    [ -n "$SERVE_PORT" ] || { cat "$SERVE_LOG"; false; }
    run timeout 90 $IO self-flood "$SERVE_PORT" "$SERVE_PID" 20000 tls
    assert_output "$(printf 'back in order 20000 of 20000\nclose None')"
    run grep -c ' slow: ' "$SERVE_LOG"
    assert_output 0
}

@test "--echo: 2 000 000 tiny messages from a client that reads nothing for a while all come back, in order, byte for byte" {
    # thousands of echoes queued at once, from several reads: the queue's
    # segment array must not run out (it did: echoes lost, and a header
    # queued without its payload corrupted the stream)
    start_serve --echo --send-buffer 1G
    run timeout 150 $IO echo-tiny "$SERVE_PORT" 2000000
    assert_output "echoed in order 2000000 of 2000000"
}
