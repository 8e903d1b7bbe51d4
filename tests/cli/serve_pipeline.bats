#!/usr/bin/env bats
# pushwire serve (SPEC §3): HTTP/1.1 requests pipelined behind a parked long
# poll or an event stream (RFC 9112 §9.3.2: answered in order, a POST only
# run after the answers before it).  Raw clients in serve_edge.py.
load helper

EDGE="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_edge.py"
pub() { C -d "$2" "$SERVE_URL/pub/$1"; }

# the server's log must show no sanitizer report (ASan build)
teardown() { stop_serve_clean; }

# wait_metric_gone LINE — up to 5 s for /metrics to stop showing LINE
wait_metric_gone() {
    local i
    for i in $(seq 50); do
        C "$SERVE_URL/metrics" | grep -qxF "$1" || return 0
        sleep 0.1
    done
    echo "metrics still show: $1" >&2
    return 1
}

# ---- a body the server does not read ----

@test "a GET with a body (Content-Length or chunked) is answered, then the connection closes: its body is never a request" {
    start_serve
    # the chunked body holds a whole request; read as the next one it was
    # answered 400 (RFC 9112 §3.1, its chunk-size line), an answer a proxy
    # in front never asked for
    run timeout 20 $EDGE pipe "$SERVE_PORT" 1 \
        'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' \
        '22\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n'
    assert_output $'200 ok\neof'
    run timeout 20 $EDGE pipe "$SERVE_PORT" 1 \
        'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 34\r\n\r\n' \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_output $'200 ok\neof'
    # a long poll's body waits behind it as a pipelined request would
    run timeout 20 $EDGE pipe "$SERVE_PORT" 1 \
        'GET /poll/te?timeout=0.2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' \
        '22\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"cursor":'
    assert_line --index 1 eof
}

# ---- pipelining behind a parked long poll ----

@test "pipelining: a request behind a parked poll is answered after it, in order" {
    start_serve
    run timeout 20 $EDGE pipe "$SERVE_PORT" 2 \
        'GET /poll/x?timeout=1 HTTP/1.1\r\nHost: x\r\n\r\n' \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    # no cursor on an empty channel: the start of this run's epoch
    assert_line --index 0 --regexp '^200 \{"cursor":"[a-z0-9]{12}:0","messages":\[\],"gap":false\}$'
    assert_line --index 1 '200 ok'
    assert_line --index 2 'open'
}

@test "pipelining: a POST behind a parked poll runs only after the poll is answered" {
    start_serve
    run timeout 20 $EDGE pipe "$SERVE_PORT" 3 \
        'GET /poll/p?timeout=1 HTTP/1.1\r\nHost: x\r\n\r\n' \
        'POST /pub/p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' \
        'GET /poll/p?cursor=0 HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"cursor":"[a-z0-9]{12}:0","messages":\[\],"gap":false\}$'
    ep=$(id_epoch "${lines[1]#200 }")
    assert_line --index 1 "200 {\"id\":\"$ep:1\"}"
    assert_line --index 2 "200 {\"cursor\":\"$ep:1\",\"messages\":[{\"id\":\"$ep:1\",\"event\":\"message\",\"data\":\"hello\"}],\"gap\":false}"
}

@test "pipelining: a parked poll woken by another client's message, then the next request" {
    start_serve
    ep=$(id_epoch "$(pub w m1)")
    $EDGE pipe "$SERVE_PORT" 2 \
        "GET /poll/w?cursor=$ep:1&timeout=10 HTTP/1.1\r\nHost: x\r\n\r\n" \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    wait_metric 'pushwire_connections{transport="poll"} 1'
    pub w m2 >/dev/null
    timeout 15 tail --pid=$cpid -f /dev/null
    run cat "$BATS_TEST_TMPDIR/out"
    assert_line --index 0 "200 {\"cursor\":\"$ep:2\",\"messages\":[{\"id\":\"$ep:2\",\"event\":\"message\",\"data\":\"m2\"}],\"gap\":false}"
    assert_line --index 1 '200 ok'
}

@test "pipelining: two polls that park in turn, then a request" {
    start_serve
    run timeout 20 $EDGE pipe "$SERVE_PORT" 3 \
        'GET /poll/t?timeout=0.3 HTTP/1.1\r\nHost: x\r\n\r\n' \
        'GET /poll/t?cursor=0&timeout=0.3 HTTP/1.1\r\nHost: x\r\n\r\n' \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"cursor":"[a-z0-9]{12}:0","messages":\[\],"gap":false\}$'
    assert_line --index 1 '200 {"cursor":"0","messages":[],"gap":false}'
    assert_line --index 2 '200 ok'
}

@test "pipelining: more than the head limit behind a parked poll waits, then is read" {
    start_serve --max-header-size 1024 --metrics-per-channel
    body=$(head -c 100000 /dev/zero | tr '\0' z)
    run timeout 20 $EDGE pipe "$SERVE_PORT" 3 \
        'GET /poll/big?timeout=1 HTTP/1.1\r\nHost: x\r\n\r\n' \
        "POST /pub/big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n$body" \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"cursor":"[a-z0-9]{12}:0","messages":\[\],"gap":false\}$'
    assert_line --index 1 --regexp '^200 \{"id":"[a-z0-9]{12}:1"\}$'
    assert_line --index 2 '200 ok'
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_backlog_bytes{channel="big"} 100000'
}

@test "pipelining: Connection: close on the poll ends the connection after its answer" {
    start_serve
    run timeout 20 $EDGE pipe "$SERVE_PORT" 1 \
        'GET /poll/c?timeout=0.3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"cursor":"[a-z0-9]{12}:0","messages":\[\],"gap":false\}$'
    assert_line --index 1 eof
    assert_equal "${#lines[@]}" 2
}

@test "a parked poll whose client goes away is cleaned up" {
    start_serve --metrics-per-channel
    $EDGE park-close "$SERVE_PORT" '/poll/gone?timeout=30' "$BATS_TEST_TMPDIR/go" >/dev/null &
    cpid=$!
    wait_metric 'pushwire_connections{transport="poll"} 1'
    wait_metric 'pushwire_subscribers{channel="gone"} 1'
    touch "$BATS_TEST_TMPDIR/go" # now the client goes
    timeout 10 tail --pid=$cpid -f /dev/null
    wait_metric 'pushwire_connections{transport="poll"} 0'
    wait_metric_gone 'pushwire_subscribers{channel="gone"} 1'
}

@test "an event stream ignores requests pipelined behind it and keeps streaming" {
    start_serve
    $EDGE sse-pipe "$SERVE_PORT" s >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    pub s hello >/dev/null
    timeout 15 tail --pid=$cpid -f /dev/null
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$(printf 'responses 1\ndata')"
}
