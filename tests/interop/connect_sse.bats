#!/usr/bin/env bats
# pushwire connect over Server-Sent Events and long polling (libcurl),
# against a stdlib python test server.
load connect_helper

teardown() { peers_stop; }

sse_py() { peer_start SSE "$PY" "$INTEROP/sse_server.py" "$@"; SSE_URL=http://127.0.0.1:$SSE_PORT/; }

@test "SSE WHATWG edge cases split at every byte, a drop, resume with Last-Event-ID, 204 ends" {
    sse_py edge
    run bash -c 'timeout 20 "$PW" connect --json --reconnect "$0" 2>"$1"' "$SSE_URL" "$BATS_TEST_TMPDIR/err"
    assert_success
    assert_line --index 0 '{"id":"1","event":"message","data":"one","type":"text"}'
    assert_line --index 1 '{"id":"1","event":"tick","data":"two\n","type":"text"}'
    assert_line --index 2 '{"id":"1","event":"message","data":"three","type":"text"}'
    assert_line --index 3 '{"id":"3","event":"message","data":"four","type":"text"}'
    assert_line --index 4 '{"id":"3","event":"message","data":"resumed lid=3","type":"text"}'
    [ "${#lines[@]}" -eq 5 ]
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --partial "reconnecting in 0.1 s (resuming after '3')"
}

@test "SSE plain output: data as is, one message per line" {
    sse_py edge
    run timeout 20 "$PW" connect -q --count 2 "$SSE_URL"
    assert_success
    assert_output $'one\ntwo'
}

@test "SSE without --reconnect: a dropped stream is exit 8" {
    sse_py edge
    run timeout 20 "$PW" connect -q "$SSE_URL"
    assert_failure 8
    assert_output $'one\ntwo\n\nthree\nfour'
}

@test "SSE: 204 No Content ends for good with exit 0" {
    sse_py edge
    timeout 20 "$PW" connect -q --reconnect "$SSE_URL" >/dev/null  # uses connections 1 and 2
    run timeout 10 "$PW" connect --reconnect "$SSE_URL"
    assert_success
    assert_output ''
}

@test "SSE: a response that is not text/event-stream ends for good (exit 6)" {
    sse_py html
    run timeout 10 "$PW" connect --reconnect "$SSE_URL"
    assert_failure 6
    assert_output --partial "text/html"
    assert_output --partial "ends for good"
}

@test "SSE: a 404 is exit 6 with status and body" {
    sse_py e404
    run timeout 10 "$PW" connect "$SSE_URL"
    assert_failure 6
    assert_output --partial "404"
    assert_output --partial "no such channel"
}

@test "SSE: --last-event-id is sent on the first request" {
    sse_py edge
    timeout 20 "$PW" connect -q "$SSE_URL" >/dev/null || true   # connection 1
    run timeout 10 "$PW" connect --count 1 --last-event-id 42 "$SSE_URL"
    assert_success
    assert_output 'resumed lid=42'
}

@test "SSE: --cursor-file keeps the last id and the next run resumes from it" {
    sse_py edge
    run timeout 20 "$PW" connect -q --cursor-file "$BATS_TEST_TMPDIR/cur" "$SSE_URL"
    assert_failure 8
    run cat "$BATS_TEST_TMPDIR/cur"
    assert_output 3
    run timeout 10 "$PW" connect --count 1 --cursor-file "$BATS_TEST_TMPDIR/cur" "$SSE_URL"
    assert_success
    assert_output 'resumed lid=3'
}

@test "SSE: -v shows the request and response headers" {
    sse_py edge
    run bash -c 'timeout 10 "$PW" connect -v --count 1 "$0" 2>&1 >/dev/null' "$SSE_URL"
    assert_output --partial '> GET / HTTP/1.1'
    assert_output --partial '> Accept: text/event-stream'
    assert_output --partial '< Content-Type: text/event-stream'
}

@test "long polling another server: each body is a message, ETag resumes" {
    sse_py poll
    run timeout 10 "$PW" connect --poll --json --count 3 "$SSE_URL"
    assert_success
    assert_line --index 0 '{"id":"\"v1\"","event":"message","data":"update 1 (if-none-match=None)","type":"text"}'
    assert_line --index 1 '{"id":"\"v2\"","event":"message","data":"update 2 (if-none-match=\"v1\")","type":"text"}'
    assert_line --index 2 '{"id":"\"v3\"","event":"message","data":"update 3 (if-none-match=\"v2\")","type":"text"}'
}

@test "long polling: a 204 answer is no message, the poll is asked again, at most once a second" {
    sse_py nocontent
    run timeout 10 "$PW" connect --poll --count 1 "$SSE_URL"
    assert_success
    assert_output 'hello after 3 requests'
    # a server that has nothing, at once, every time: not a busy loop (on
    # a slow machine there are fewer requests, never more)
    run timeout 10 "$PW" connect --poll --timeout 2.5 -w '%{messages_in}\n' "$SSE_URL"
    assert_failure 7
    assert_line '0'
    n=$(grep -c '^request' "$BATS_TEST_TMPDIR/SSE.err")
    [ "$n" -le 7 ] || fail "$n requests in all, 3 before and at most 4 in 2.5 s"
}

@test "--record keeps a message that is not UTF-8 as base64 (the transcript's rule)" {
    sse_py bytes
    run timeout 10 "$PW" connect -q --poll --count 1 --record "$BATS_TEST_TMPDIR/t.jsonl" "$SSE_URL"
    assert_success
    run cat "$BATS_TEST_TMPDIR/t.jsonl"
    assert_output --regexp '^\{"t":[0-9.]+,"dir":"in","type":"text","id":"\\"b1\\"","event":"message","data":"//4gb2s=","encoding":"base64"\}$'
}

@test "SSE through tinyproxy-free env: a refused connection is exit 4" {
    p=$(free_port)
    run timeout 10 "$PW" connect --no-proxy "http://127.0.0.1:$p/"
    assert_failure 4
}
