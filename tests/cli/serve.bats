#!/usr/bin/env bats
# pushwire serve (SPEC §2, §3): endpoints, options and error paths, with curl
# and a small peer (tests/cli/serve_peer.py; python3-websockets for
# ordinary WebSocket use, raw sockets for rule breaking).  The third-party
# interop, conformance and load suites live in tests/interop and bench/.
load helper

PEER="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_peer.py"
pub() { C -d "$2" "$SERVE_URL/pub/$1"; }

teardown() { stop_serve; }

# ---- the listener ----

@test "port 0 prints one 'listening on' line per listener, IPv4 and IPv6" {
    start_serve --listen '[::1]:0'
    run grep -c '^pushwire serve: listening on ' "$SERVE_LOG"
    assert_output 2
    run grep -E '^pushwire serve: listening on \[::1\]:[0-9]+$' "$SERVE_LOG"
    assert_success
    p6=$(sed -n 's/^pushwire serve: listening on \[::1\]:\([0-9]*\)$/\1/p' "$SERVE_LOG")
    run C -g "http://[::1]:$p6/healthz"
    assert_output ok
}

@test "a port in use is exit 1 naming the address" {
    start_serve
    run timeout 5 "$PW" serve --listen "127.0.0.1:$SERVE_PORT" </dev/null
    assert_failure 1
    assert_output --partial "pushwire serve: cannot listen on '127.0.0.1:$SERVE_PORT'"
}

@test "bad option values are usage errors that name the option" {
    run "$PW" serve --listen nonsense
    assert_failure 2
    assert_output --partial 'bad value for --listen'
    run "$PW" serve --backlog 0
    assert_failure 2
    assert_output --partial 'bad value for --backlog'
    run "$PW" serve --log xml
    assert_failure 2
    assert_output --partial 'bad value for --log'
    run "$PW" serve --channel 'a b'
    assert_failure 2
    run "$PW" serve extra
    assert_failure 2
}

@test "--help lists the options" {
    run "$PW" serve --help
    assert_success
    for o in listen channel echo read-only backlog heartbeat poll-timeout ping max-message \
             max-conns handshake-timeout idle-timeout log log-file; do
        assert_output --partial -- "--$o"
    done
}

# ---- plain endpoints ----

@test "GET /healthz answers ok" {
    start_serve
    run C -i "$SERVE_URL/healthz"
    assert_line --partial 'HTTP/1.1 200 OK'
    assert_line ok
}

@test "GET / is the embedded page with all three transports and no external assets" {
    start_serve
    run C "$SERVE_URL/"
    assert_output --partial '<!doctype html>'
    assert_output --partial 'new WebSocket('
    assert_output --partial 'new EventSource('
    assert_output --partial '/poll/'
    refute_output --regexp '(src|href)="(https?:)?//'
}

@test "GET / names serve's --channel as the page's default channel; HEAD has the same length" {
    start_serve --channel news
    run C "$SERVE_URL/"
    assert_output --partial '<meta name="pushwire-channel" content="news">'
    refute_output --partial '{{channel}}'
    len=$(C "$SERVE_URL/" | wc -c)
    run C -I "$SERVE_URL/"
    assert_line --partial "Content-Length: $len"
    stop_serve
    start_serve
    run C "$SERVE_URL/index.html"
    assert_output --partial '<meta name="pushwire-channel" content="default">'
}

@test "src/server/page.c is generated from src/server/page.html" {
    "$TOP/tools/page2c.sh" "$BATS_TEST_TMPDIR/page.c"
    run diff "$TOP/src/server/page.c" "$BATS_TEST_TMPDIR/page.c"
    assert_success
}

@test "POST /pub answers the id EPOCH:SEQ; ids count per channel, one epoch per run" {
    start_serve
    run pub a one
    ep=$(id_epoch "$output")
    assert_output "{\"id\":\"$ep:1\"}"
    run pub a two
    assert_output "{\"id\":\"$ep:2\"}"
    run pub b other
    assert_output "{\"id\":\"$ep:1\"}"
    stop_serve
    start_serve
    run pub a again
    ep2=$(id_epoch "$output")
    assert_output "{\"id\":\"$ep2:1\"}"
    [ "$ep2" != "$ep" ] || { echo "a restart kept the epoch $ep"; false; }
}

@test "a bad channel name is 400 with a JSON error" {
    start_serve
    run C -i "$SERVE_URL/sse/bad%20name"
    assert_line --partial 'HTTP/1.1 400'
    assert_line --partial 'Content-Type: application/json'
    assert_output --partial '"error":"channel name must be 1-128 characters'
    long=$(printf 'x%.0s' $(seq 129))
    run C -o /dev/null -w '%{http_code}' -d x "$SERVE_URL/pub/$long"
    assert_output 400
}

@test "HEAD on /sse and /poll: the head a GET gets (type, no-cache, CORS), at once, no content, nothing subscribed or parked; the connection goes on; tokens are checked as for GET; HEAD on /pub is 405" {
    start_serve
    # two HEADs and a GET on one connection; the poll's HEAD does not wait for ?timeout
    run C -I "$SERVE_URL/sse/h" --next -I "$SERVE_URL/poll/h?timeout=30" --next -w '%{num_connects} %{http_code}\n' -o /dev/null "$SERVE_URL/healthz"
    assert_success
    assert_line --index 0 --partial 'HTTP/1.1 200'
    assert_line --partial 'Content-Type: text/event-stream'
    assert_line --partial 'Content-Type: application/json'
    assert_line --partial 'X-Accel-Buffering: no'
    refute_output --partial 'Content-Length'
    refute_output --partial 'retry:'
    assert_line '0 200'
    [ "$(grep -c '^HTTP/1.1 200' <<<"$output")" -eq 2 ]
    [ "$(grep -c 'Connection: keep-alive' <<<"$output")" -eq 2 ]
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_connections{transport="sse"} 0'
    assert_line 'pushwire_connections{transport="poll"} 0'
    run C -i -X HEAD -m 2 "$SERVE_URL/pub/h"
    assert_line --partial 'HTTP/1.1 405'
    assert_line --partial 'Allow: POST, OPTIONS'
    stop_serve
    echo tok >"$BATS_TEST_TMPDIR/sub.tok"
    chmod 600 "$BATS_TEST_TMPDIR/sub.tok"
    start_serve --token-file "$BATS_TEST_TMPDIR/sub.tok"
    run C -o /dev/null -w '%{http_code}' -I "$SERVE_URL/sse/h"
    assert_output 401
    run C -o /dev/null -w '%{http_code}' -I -H 'Authorization: Bearer tok' "$SERVE_URL/poll/h"
    assert_output 200
}

@test "unknown path 404, wrong method 405 with Allow" {
    start_serve
    run C -o /dev/null -w '%{http_code}' "$SERVE_URL/nowhere"
    assert_output 404
    run C -i "$SERVE_URL/pub/x"
    assert_line --partial 'HTTP/1.1 405'
    assert_line --partial 'Allow: POST'
    run C -o /dev/null -w '%{http_code}' -X DELETE "$SERVE_URL/sse/x"
    assert_output 405
}

@test "OPTIONS * (the server as a whole, RFC 9110 §9.3.7) is 200 with Allow and no body, the connection kept; other targets that are not origin-form answer as before" {
    start_serve
    run $PEER raw "$SERVE_PORT" 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    out=$(printf '%s' "$output" | tr -d '\r')
    # the first answer is all head; the second request is answered on the same connection
    assert_equal "$(printf '%s' "$out" | sed -n '1,/^$/p')" "$(printf '%s\n' 'HTTP/1.1 200 OK' 'Content-Length: 0' \
        'Access-Control-Allow-Origin: *' 'Cache-Control: no-cache' 'Connection: keep-alive' \
        'Allow: GET, HEAD, POST, OPTIONS' '')"
    [ "$(printf '%s\n' "$out" | sed -n '/^$/{n;p;q}')" = 'HTTP/1.1 200 OK' ] || fail "$out"
    assert_line ok
    run C -i -X OPTIONS --request-target '*' "$SERVE_URL/"
    assert_line --index 0 --partial 'HTTP/1.1 200'
    assert_line --partial 'Allow: GET, HEAD, POST, OPTIONS'
    # absolute-form keeps routing by its path; "*" with another method is a bad request
    run $PEER raw "$SERVE_PORT" 'OPTIONS http://x/nowhere HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --partial 'HTTP/1.1 404'
    run $PEER raw "$SERVE_PORT" 'OPTIONS http://x/pub/x HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --partial 'HTTP/1.1 204'
    run $PEER raw "$SERVE_PORT" 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --partial 'HTTP/1.1 400'
}

@test "a body over --max-message is 413" {
    start_serve --max-message 10
    run C -o /dev/null -w '%{http_code}' -d 0123456789 "$SERVE_URL/pub/x"
    assert_output 200
    run C -o /dev/null -w '%{http_code}' -d 0123456789A "$SERVE_URL/pub/x"
    assert_output 413
}

@test "POST without Content-Length is 411" {
    start_serve
    run $PEER raw "$SERVE_PORT" 'POST /pub/x HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --partial 'HTTP/1.1 411'
}

@test "POST with Expect: 100-continue gets 100 Continue before its body is sent (RFC 9110 §10.1.1)" {
    # curl sends it for bodies over 1 MiB and waits a second for the 100
    start_serve
    run timeout 20 /usr/bin/python3 "$BATS_TEST_DIRNAME/serve_edge.py" expect "$SERVE_PORT" \
        'POST /pub/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n' 'hello'
    assert_line --index 0 '100'
    assert_line --index 1 --regexp '^200 \{"id":"[a-z0-9]{12}:1"\}$'
    # a body sent with the head is read at once: no 100 among the answers
    run timeout 20 /usr/bin/python3 "$BATS_TEST_DIRNAME/serve_edge.py" pipe "$SERVE_PORT" 2 \
        'POST /pub/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello' \
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_line --index 0 --regexp '^200 \{"id":"[a-z0-9]{12}:2"\}$'
    assert_line --index 1 '200 ok'
    # too large is the final answer at once, no 100, no body read
    run timeout 20 /usr/bin/python3 "$BATS_TEST_DIRNAME/serve_edge.py" expect "$SERVE_PORT" \
        'POST /pub/x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nExpect: 100-continue\r\n\r\n' ''
    assert_line --index 0 'final first'
    assert_line --index 1 --partial '413 '
}

@test "a malformed request is 400 and names the rule" {
    start_serve
    run $PEER raw "$SERVE_PORT" 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n'
    assert_line --partial 'HTTP/1.1 400'
    assert_output --partial '"rule":"RFC 9112'
}

@test "a head over --max-header-size or --max-headers is 431" {
    start_serve --max-header-size 300 --max-headers 3
    run C -o /dev/null -w '%{http_code}' -H "X-Big: $(printf 'y%.0s' $(seq 400))" "$SERVE_URL/healthz"
    assert_output 431
    run C -o /dev/null -w '%{http_code}' -H 'A: 1' -H 'B: 2' -H 'C: 3' "$SERVE_URL/healthz"
    assert_output 431
    run C -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz"
    assert_output 200
}

@test "--max-conns: one connection too many is 503" {
    start_serve --max-conns 1
    C -N "$SERVE_URL/sse/x" >/dev/null &
    cpid=$!
    for i in $(seq 50); do grep -q 'sse.*response 200' "$SERVE_LOG" && break; sleep 0.1; done
    run C -i "$SERVE_URL/healthz"
    assert_line --partial 'HTTP/1.1 503'
    assert_line --partial 'Retry-After:'
    kill $cpid
}

@test "a client dribbling its request head is dropped after --handshake-timeout" {
    start_serve --handshake-timeout 1
    run timeout 20 $PEER dribble "$SERVE_PORT" 8
    assert_output dropped
    run C "$SERVE_URL/metrics"
    assert_line --regexp '^pushwire_timeouts_total [1-9]'
}

@test "a POST body may take longer than --handshake-timeout while it keeps coming; a stalled one is dropped" {
    start_serve --handshake-timeout 2
    # 12 bytes, one every 0.25 s: 3 s in all, never 2 s without one
    run timeout 30 $PEER trickle "$SERVE_PORT" 12 0.25
    assert_output 'HTTP/1.1 200 OK'
    run C "$SERVE_URL/poll/slow?cursor=0&timeout=0"
    assert_output --partial '"data":"bbbbbbbbbbbb"'
    # half of it, then nothing: dropped, and the log says it was the body
    run timeout 30 $PEER trickle "$SERVE_PORT" 12 0 15
    assert_output 'dropped after 6 bytes'
    run grep -c 'no more of the request body for 2s (--handshake-timeout)' "$SERVE_LOG"
    assert_output 1
}

@test "CORS: preflight allows Last-Event-ID; responses carry Allow-Origin *" {
    start_serve
    run C -i -X OPTIONS -H 'Origin: http://elsewhere' -H 'Access-Control-Request-Method: POST' "$SERVE_URL/pub/x"
    assert_line --partial 'HTTP/1.1 204'
    assert_line --partial 'Access-Control-Allow-Origin: *'
    assert_line --regexp 'Access-Control-Allow-Headers: .*Last-Event-ID'
    assert_line --regexp 'Access-Control-Allow-Methods: .*POST'
    run C -i -d x "$SERVE_URL/pub/x"
    assert_line --partial 'Access-Control-Allow-Origin: *'
    run C -i "$SERVE_URL/poll/x?cursor=0&timeout=0"
    assert_line --partial 'Access-Control-Allow-Origin: *'
}

@test "/metrics is Prometheus text: connections, messages, bytes, drops, backlog" {
    start_serve --metrics-per-channel
    pub m hello >/dev/null
    run C -i "$SERVE_URL/metrics"
    assert_line --partial 'Content-Type: text/plain; version=0.0.4'
    assert_line '# TYPE pushwire_connections gauge'
    assert_line --regexp '^pushwire_connections\{transport="http"\} [0-9]+'
    assert_line --regexp '^pushwire_connections\{transport="sse"\} 0'
    assert_line 'pushwire_messages_in_total 1'
    assert_line --regexp '^pushwire_bytes_in_total [1-9]'
    assert_line --regexp '^pushwire_slow_disconnects_total 0'
    assert_line 'pushwire_backlog_messages{channel="m"} 1'
    assert_line 'pushwire_channels 1'
    assert_line 'pushwire_history_messages 1'
}

# ---- Server-Sent Events ----

@test "SSE: headers, retry first, id/event/data lines, multi-line data" {
    start_serve
    ep=$(id_epoch "$(pub s 'one')")
    C -d $'two\nlines' "$SERVE_URL/pub/s?event=price" >/dev/null
    run sse_upto 'data: lines' -i -H 'Last-Event-ID: 0' "$SERVE_URL/sse/s"
    assert_line --partial 'Content-Type: text/event-stream'
    assert_line --partial 'Cache-Control: no-cache'
    assert_line --partial 'X-Accel-Buffering: no'
    body=$(printf '%s\n' "$output" | tr -d '\r' | sed '1,/^$/d')
    expected=$(printf 'retry: 3000\n\nid: %s:1\ndata: one\n\nid: %s:2\nevent: price\ndata: two\ndata: lines\n' "$ep" "$ep")
    [ "$body" = "$expected" ] || { echo "got: $body"; false; }
}

@test "SSE: Accept: text/event-stream on a channel URL is SSE" {
    start_serve
    run sse_upto 'retry: 3000' -i -H 'Accept: text/event-stream' "$SERVE_URL/poll/s"
    assert_line --partial 'Content-Type: text/event-stream'
    assert_line 'retry: 3000'
}

@test "SSE: live messages arrive; ?lastEventId= resumes" {
    start_serve --retry 1500
    ep=$(id_epoch "$(pub r m1)")
    for i in 2 3; do pub r "m$i" >/dev/null; done
    C -N --max-time 5 "$SERVE_URL/sse/r?lastEventId=$ep:2" >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    # m4 is published once the stream has caught up (m3 came), read until
    # it arrives: no fixed wait on either side
    for i in $(seq 200); do grep -qx 'data: m3' "$BATS_TEST_TMPDIR/out" && break; sleep 0.025; done
    pub r m4 >/dev/null
    for i in $(seq 200); do grep -qx 'data: m4' "$BATS_TEST_TMPDIR/out" && break; sleep 0.025; done
    kill $cpid 2>/dev/null || true
    wait $cpid || true
    run cat "$BATS_TEST_TMPDIR/out"
    assert_line 'retry: 1500'
    refute_line 'data: m2'
    refute_line 'event: gap'
    assert_line 'data: m3'
    assert_line 'data: m4'
    assert_line "id: $ep:4"
}

@test "SSE: resume older than the backlog sends the gap event first" {
    start_serve --backlog 2
    ep=$(id_epoch "$(pub g m1)")
    for i in 2 3 4 5; do pub g "m$i" >/dev/null; done
    run sse_upto 'data: m5' -H "Last-Event-ID: $ep:1" "$SERVE_URL/sse/g"
    body=$(printf '%s\n' "$output" | sed '/^retry/,+1d')
    expected=$(printf 'event: gap\ndata: {"after":"%s:1","first":"%s:4"}\n\nid: %s:4\ndata: m4\n\nid: %s:5\ndata: m5\n' "$ep" "$ep" "$ep" "$ep")
    [ "$body" = "$expected" ] || { echo "got: $body"; false; }
}

@test "SSE: a heartbeat comment every --heartbeat seconds while idle" {
    start_serve --heartbeat 0.3
    run sse_upto ': heartbeat' --max-time 1.5 "$SERVE_URL/sse/h" # (the bound: within 1.5 s)
    assert_line ': heartbeat'
}

@test "SSE: a Last-Event-ID that is no id is a gap, never an error (EventSource would give up)" {
    start_serve
    ep=$(id_epoch "$(pub x m1)")
    for id in abc 1 "zzzzzzzzzzzz:1" "$ep:99" "$ep:01"; do
        run sse_upto 'data: m1' -i -H "Last-Event-ID: $id" "$SERVE_URL/sse/x"
        assert_line --partial 'HTTP/1.1 200 OK'
        body=$(printf '%s\n' "$output" | tr -d '\r' | sed '1,/^$/d' | sed '/^retry/,+1d')
        expected=$(printf 'event: gap\ndata: {"after":"%s","first":"%s:1"}\n\nid: %s:1\ndata: m1\n' "$id" "$ep" "$ep")
        [ "$body" = "$expected" ] || { echo "Last-Event-ID $id got: $body"; false; }
    done
    # one longer than any id, or a query value that cannot be decoded: "after":null
    long=$(printf 'x%.0s' $(seq 60))
    for q in "-H Last-Event-ID:$long" "$SERVE_URL/sse/x?lastEventId=%zz"; do
        run sse_upto 'data: m1' $q "$SERVE_URL/sse/x"
        assert_line "data: {\"after\":null,\"first\":\"$ep:1\"}"
        assert_line "id: $ep:1"
    done
}

# ---- long polling ----

@test "poll: answers at once with every message after the cursor" {
    start_serve
    ep=$(id_epoch "$(pub p m1)")
    for i in 2 3; do pub p "m$i" >/dev/null; done
    run C "$SERVE_URL/poll/p?cursor=$ep:1"
    assert_output "{\"cursor\":\"$ep:3\",\"messages\":[{\"id\":\"$ep:2\",\"event\":\"message\",\"data\":\"m2\"},{\"id\":\"$ep:3\",\"event\":\"message\",\"data\":\"m3\"}],\"gap\":false}"
    # the colon percent-encoded, as URLSearchParams writes it
    run C "$SERVE_URL/poll/p?cursor=$ep%3A2"
    assert_output "{\"cursor\":\"$ep:3\",\"messages\":[{\"id\":\"$ep:3\",\"event\":\"message\",\"data\":\"m3\"}],\"gap\":false}"
}

@test "poll: parks until a message arrives" {
    start_serve
    ep=$(id_epoch "$(pub p m1)")
    C "$SERVE_URL/poll/p?cursor=$ep:1&timeout=10" >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    sleep 0.5
    kill -0 $cpid    # still waiting
    pub p m2 >/dev/null
    wait $cpid
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "{\"cursor\":\"$ep:2\",\"messages\":[{\"id\":\"$ep:2\",\"event\":\"message\",\"data\":\"m2\"}],\"gap\":false}"
}

@test "poll: timeout answers an empty list and keeps the cursor" {
    start_serve
    ep=$(id_epoch "$(pub p m1)")
    run C "$SERVE_URL/poll/p?cursor=$ep:1&timeout=0.3"
    assert_output "{\"cursor\":\"$ep:1\",\"messages\":[],\"gap\":false}"
}

@test "poll: no cursor waits for the next new message, not old ones" {
    start_serve
    ep=$(id_epoch "$(pub p old)")
    C "$SERVE_URL/poll/p?timeout=10" >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    sleep 0.5
    pub p new >/dev/null
    wait $cpid
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "{\"cursor\":\"$ep:2\",\"messages\":[{\"id\":\"$ep:2\",\"event\":\"message\",\"data\":\"new\"}],\"gap\":false}"
    run C "$SERVE_URL/poll/p?timeout=0"
    assert_output "{\"cursor\":\"$ep:2\",\"messages\":[],\"gap\":false}"
    # an empty cursor is no cursor
    run C "$SERVE_URL/poll/p?cursor=&timeout=0"
    assert_output "{\"cursor\":\"$ep:2\",\"messages\":[],\"gap\":false}"
    # an empty channel's cursor is the start of this run's epoch: after a
    # restart it is a gap, never mistaken for the new run's start
    run C "$SERVE_URL/poll/none?timeout=0"
    assert_output "{\"cursor\":\"$ep:0\",\"messages\":[],\"gap\":false}"
}

@test "poll: a message published between two polls comes with the next one" {
    start_serve
    ep=$(id_epoch "$(pub p m1)")
    cursor=$(C "$SERVE_URL/poll/p?cursor=0" | sed 's/.*"cursor":"\([^"]*\)".*/\1/')
    [ "$cursor" = "$ep:1" ]
    pub p between >/dev/null
    run C "$SERVE_URL/poll/p?cursor=$cursor&timeout=5"
    assert_output --partial '"data":"between"'
}

@test "poll: a cursor older than the backlog reports the gap" {
    start_serve --backlog 1
    ep=$(id_epoch "$(pub p m1)")
    for i in 2 3; do pub p "m$i" >/dev/null; done
    run C "$SERVE_URL/poll/p?cursor=$ep:1"
    assert_output "{\"cursor\":\"$ep:3\",\"messages\":[{\"id\":\"$ep:3\",\"event\":\"message\",\"data\":\"m3\"}],\"gap\":true,\"after\":\"$ep:1\",\"first\":\"$ep:3\"}"
}

@test "poll: a cursor that is no id here (garbage, another epoch, never issued) is a gap with what is held" {
    start_serve
    ep=$(id_epoch "$(pub p m1)")
    for cur in x 1 "zzzzzzzzzzzz:1" "$ep:5"; do
        run C -w '%{http_code}\n' "$SERVE_URL/poll/p?cursor=$cur"
        assert_line --index 0 "{\"cursor\":\"$ep:1\",\"messages\":[{\"id\":\"$ep:1\",\"event\":\"message\",\"data\":\"m1\"}],\"gap\":true,\"after\":\"$cur\",\"first\":\"$ep:1\"}"
        assert_line --index 1 200
    done
    run C "$SERVE_URL/poll/p?cursor=%zz"
    assert_output --partial '"gap":true,"after":null,'
    # nothing held: the gap, no message, the cursor jumps to the newest
    run C "$SERVE_URL/poll/none?cursor=zzzzzzzzzzzz:7"
    assert_output "{\"cursor\":\"$ep:0\",\"messages\":[],\"gap\":true,\"after\":\"zzzzzzzzzzzz:7\",\"first\":\"\"}"
}

@test "poll: a bad timeout is 400; timeout is capped by --poll-timeout" {
    start_serve --poll-timeout 0.5
    run C -o /dev/null -w '%{http_code}' "$SERVE_URL/poll/p?cursor=0&timeout=-1"
    assert_output 400
    run C --max-time 4 "$SERVE_URL/poll/p?cursor=0&timeout=60"
    assert_output '{"cursor":"0","messages":[],"gap":false}'
}

@test "poll: binary messages come base64 with encoding" {
    start_serve
    printf '\xff\x00\x01' | C --data-binary @- -H 'Content-Type: application/octet-stream' "$SERVE_URL/pub/b" >/dev/null
    run C "$SERVE_URL/poll/b?cursor=0"
    assert_output --partial '"data":"/wAB","encoding":"base64"'
}

# ---- publishing sources and modes ----

@test "stdin lines are published to --channel" {
    SERVE_LOG=$BATS_TEST_TMPDIR/log
    # stdin stays open: the server must not wait for its end (a FIFO serve
    # holds read-write never ends; a writer that sleeps kept bats 3 s)
    mkfifo "$BATS_TEST_TMPDIR/in"
    "$PW" serve --listen 127.0.0.1:0 --channel news <>"$BATS_TEST_TMPDIR/in" 2>"$SERVE_LOG" 3>&- &
    SERVE_PID=$!
    printf 'first\nsecond\n' >"$BATS_TEST_TMPDIR/in"
    for i in $(seq 50); do grep -q 'listening on' "$SERVE_LOG" && break; sleep 0.1; done
    SERVE_PORT=$(sed -n 's/^pushwire serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG")
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    run C "$SERVE_URL/poll/news?cursor=0&timeout=3"
    assert_output --partial '"data":"first"'
    assert_output --partial '"data":"second"'
}

@test "stdin from a file: CRLF lines, a line over --max-message dropped, the last line without LF" {
    SERVE_LOG=$BATS_TEST_TMPDIR/log
    printf 'a\r\n%s\nb\nlast' "$(head -c 100 /dev/zero | tr '\0' x)" >"$BATS_TEST_TMPDIR/in"
    "$PW" serve --listen 127.0.0.1:0 --channel news --max-message 50 <"$BATS_TEST_TMPDIR/in" 2>"$SERVE_LOG" 3>&- &
    SERVE_PID=$!
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID")
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    for i in $(seq 50); do C "$SERVE_URL/poll/news?cursor=0&timeout=0" | grep -q last && break; sleep 0.1; done
    run C "$SERVE_URL/poll/news?cursor=0&timeout=0"
    assert_output --regexp '"data":"a".*"data":"b".*"data":"last"'
    refute_output --partial 'xxx'
    run grep -c 'line longer than --max-message: dropped' "$SERVE_LOG"
    assert_output 1
}

@test "--read-only: POST is 403 and WebSocket messages are not published" {
    start_serve --read-only
    run C -o /dev/null -w '%{http_code}' -d x "$SERVE_URL/pub/ro"
    assert_output 403
    run timeout 10 $PEER ws-send "$SERVE_PORT" /ws/ro hello
    assert_output 'closed 1000'
    run C "$SERVE_URL/poll/ro?cursor=0&timeout=0"
    assert_output '{"cursor":"0","messages":[],"gap":false}'
}

# ---- WebSocket ----

@test "WebSocket: client messages are published, channel messages delivered" {
    start_serve
    $PEER ws-recv "$SERVE_PORT" /ws/w 2 >"$BATS_TEST_TMPDIR/out" &
    cpid=$!
    for i in $(seq 50); do grep -q subprotocol "$BATS_TEST_TMPDIR/out" 2>/dev/null && break; sleep 0.1; done
    pub w 'from http' >/dev/null
    run timeout 10 $PEER ws-send "$SERVE_PORT" /ws/w 'from ws' 'b64:AAEC'
    assert_output 'closed 1000'
    wait $cpid
    run cat "$BATS_TEST_TMPDIR/out"
    assert_line --index 0 'subprotocol None'
    assert_line --index 1 'from http'
    assert_line --index 2 'from ws'
    run C "$SERVE_URL/poll/w?cursor=1"
    assert_output --partial '"data":"from ws"'
    assert_output --partial '"data":"AAEC","encoding":"base64"'
}

@test "WebSocket: pushwire.v1 envelopes, ?since= resume and the gap envelope" {
    start_serve --backlog 2
    ep=$(id_epoch "$(pub v m1)")
    for i in 2 3; do pub v "m$i" >/dev/null; done
    run timeout 10 $PEER ws-recv "$SERVE_PORT" '/ws/v?since=0' 3 pushwire.v1
    assert_line --index 0 'subprotocol pushwire.v1'
    assert_line --index 1 "{\"event\":\"gap\",\"channel\":\"v\",\"after\":\"0\",\"first\":\"$ep:2\"}"
    assert_line --index 2 "{\"id\":\"$ep:2\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"m2\"}"
    assert_line --index 3 "{\"id\":\"$ep:3\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"m3\"}"
    run timeout 10 $PEER ws-recv "$SERVE_PORT" "/ws/v?since=$ep:2" 1 pushwire.v1
    assert_line --index 1 "{\"id\":\"$ep:3\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"m3\"}"
    # garbage, another epoch, never issued: the gap envelope, then what is held
    for since in x 3 zzzzzzzzzzzz:2 "$ep:9"; do
        run timeout 10 $PEER ws-recv "$SERVE_PORT" "/ws/v?since=$since" 3 pushwire.v1
        assert_line --index 1 "{\"event\":\"gap\",\"channel\":\"v\",\"after\":\"$since\",\"first\":\"$ep:2\"}"
        assert_line --index 2 "{\"id\":\"$ep:2\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"m2\"}"
    done
}

@test "WebSocket --echo: echo to the sender only, text and binary, ping answered" {
    start_serve --echo
    run timeout 10 $PEER ws-echo "$SERVE_PORT"
    assert_output "$(printf 'True\nTrue\npong\nb heard nothing')"
}

@test "a binary message of --max-message reaches a pushwire.v1 and an SSE subscriber (its base64 is larger): not dropped as slow" {
    start_serve
    head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/m"
    timeout 20 "$PW" connect --since 0 --count 1 "ws://127.0.0.1:$SERVE_PORT/ws/b" >"$BATS_TEST_TMPDIR/ws.out" 2>&1 &
    ws=$!
    timeout 20 "$PW" connect --count 1 "http://127.0.0.1:$SERVE_PORT/sse/b" >"$BATS_TEST_TMPDIR/sse.out" 2>&1 &
    sse=$!
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -c -E "ws 'b' upgrade|sse 'b' response 200" "$SERVE_LOG")" -ge 2 ] && break
        sleep 0.05
    done
    curl -sf -X POST -H 'Content-Type: application/octet-stream' --data-binary @"$BATS_TEST_TMPDIR/m" \
        "http://127.0.0.1:$SERVE_PORT/pub/b" >/dev/null
    wait "$ws"
    wait "$sse"
    head -c 1048576 "$BATS_TEST_TMPDIR/ws.out" | cmp - "$BATS_TEST_TMPDIR/m"
    [ "$(stat -c %s "$BATS_TEST_TMPDIR/sse.out")" -gt 1048576 ]
    run grep -c slow "$SERVE_LOG"
    assert_output 0
}

@test "WebSocket --echo: pushwire.v1 offered is not selected (echoes are not envelopes)" {
    start_serve --echo
    # connect --since offers pushwire.v1 and, when it is selected, reads each
    # text message as an envelope: this echo would print as "x"
    run bash -c 'echo "{\"data\":\"x\",\"id\":\"7\"}" |
        timeout 10 "$PW" connect --since 0 --wait --count 1 "ws://127.0.0.1:$0/ws/e"' "$SERVE_PORT"
    assert_success
    assert_output '{"data":"x","id":"7"}'
    run grep -c 'upgrade 101: websocket' "$SERVE_LOG"
    assert_output 1
}

@test "WebSocket: permessage-deflate when the client offers it" {
    start_serve --echo
    run timeout 10 $PEER ws-echo "$SERVE_PORT" deflate
    assert_line --index 0 --partial 'ext permessage-deflate'
    assert_line --index 1 True
    assert_line --index 2 True
}

@test "WebSocket: fragments with a ping between them make one message" {
    start_serve --echo
    run timeout 10 $PEER ws-frag "$SERVE_PORT"
    assert_output "$(printf '10 p\n1 Hello wörld\n8 1000')"
}

@test "WebSocket: a client quiet for a few ticks (its message reader given back) is read as before, with and without permessage-deflate" {
    start_serve --echo
    # the pause lets the server's tick free the idle reader; whatever the
    # timing, every line must come back, in order (deflate: the context
    # the client keeps across messages is the connection's, not the reader's)
    for z in "" --compress; do
        run bash -c "{ echo one; sleep 0.8; echo two; sleep 0.8; echo three; } |
            timeout 15 \"$PW\" connect $z --count 3 ws://127.0.0.1:$SERVE_PORT/ws/q"
        assert_success
        assert_output "$(printf 'one\ntwo\nthree')"
    done
}

@test "WebSocket handshake: 400 for a broken request, 426 for another version" {
    start_serve
    run $PEER raw "$SERVE_PORT" 'GET /ws/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n'
    assert_line --partial 'HTTP/1.1 400'
    assert_output --partial 'RFC 6455'
    run $PEER raw "$SERVE_PORT" 'GET /ws/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n'
    assert_line --partial 'HTTP/1.1 426'
    assert_line --partial 'Sec-WebSocket-Version: 13'
    run $PEER raw "$SERVE_PORT" 'GET /ws/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' 1
    assert_line --partial 'HTTP/1.1 101'
    assert_line --partial 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='
}

@test "WebSocket: protocol violations close with 1002" {
    start_serve
    for k in unmasked rsv opcode bigping fragping cont closecode; do
        run timeout 10 $PEER ws-bad "$SERVE_PORT" $k
        [ "$output" = 1002 ] || { echo "$k: $output"; false; }
    done
}

@test "WebSocket: invalid UTF-8 closes 1007, over --max-message 1009" {
    start_serve --max-message 1000
    run timeout 10 $PEER ws-bad "$SERVE_PORT" utf8
    assert_output 1007
    run timeout 10 $PEER ws-bad "$SERVE_PORT" big
    assert_output 1009
    # the log names the option, as the close reason does
    grep -q 'error code 1009: message larger than --max-message (1000 bytes) (RFC 6455' "$SERVE_LOG" || { cat "$SERVE_LOG"; false; }
}

@test "WebSocket: --ping pings, and a peer that never answers is closed" {
    start_serve --ping 0.5
    run timeout 15 $PEER ws-silent "$SERVE_PORT" 6
    assert_output --partial pings
    run grep -c 'no pong within' "$SERVE_LOG"
    assert_output 1
}

@test "--idle-timeout closes an idle WebSocket with 1001" {
    start_serve --idle-timeout 0.5 --ping 0
    run timeout 10 $PEER ws-wait-close "$SERVE_PORT" /ws/idle
    assert_output "$(printf 'open\nclose 1001')"
}

@test "a subscriber that does not read is dropped and counted" {
    start_serve --send-buffer 65536 --max-message 2000 --metrics-per-channel
    HOLD=30 $PEER ws-slow-sub "$SERVE_PORT" >/dev/null 3>&- &
    cpid=$!
    for i in $(seq 50); do grep -q "sse 'slow' response 200" "$SERVE_LOG" && break; sleep 0.1; done
    # more than the kernel's socket buffers can absorb
    run timeout 60 $PEER pub-flood "$SERVE_PORT" slow 8000 1500
    assert_output 'published 8000'
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_slow_disconnects_total 1'
    assert_line 'pushwire_messages_in_total 8000'
    assert_line 'pushwire_subscribers{channel="slow"} 0'
    kill $cpid 2>/dev/null || true
    run grep -c 'slow: subscriber cannot keep up' "$SERVE_LOG"
    assert_output 1
}

@test "a fan-out wider than one write slice reaches every subscriber, in order" {
    start_serve --max-conns 1000 --metrics-per-channel
    # 300 streams: the writes take several loop turns (128 connections each)
    run timeout 60 $PEER sse-fan "$SERVE_PORT" wide 300 50 0
    assert_output "$(printf 'published 50\nin order 300 of 300')"
}

@test "subscribers that reset while a fan-out is being written are let go" {
    start_serve --max-conns 1000 --metrics-per-channel
    run timeout 60 $PEER sse-fan "$SERVE_PORT" reset 400 2000 200
    assert_output "$(printf 'published 2000\nin order 200 of 200')"
    wait_metric 'pushwire_subscribers{channel="reset"} 0'
    run C "$SERVE_URL/healthz"
    assert_output ok
}

@test "--write-delay: a lone message leaves at once, the next ones wait for the delay" {
    start_serve --write-delay 60000
    run timeout 20 $PEER sse-delay "$SERVE_PORT" "$SERVE_PID"
    # m2..m4 are held (no write in 60 s); the shutdown ends the stream with them
    assert_output "$(printf "first ['data: m1']\nwrites meanwhile 0\nthen ['data: m2', 'data: m3', 'data: m4'] end")"
}

@test "--write-delay 0 writes each message in its own loop turn" {
    start_serve --write-delay 0
    run timeout 20 $PEER sse-delay "$SERVE_PORT" "$SERVE_PID"
    assert_output "$(printf "first ['data: m1']\nwrites meanwhile 3\nthen ['data: m2', 'data: m3', 'data: m4'] end")"
}

@test "--write-delay holds no answer: a held WebSocket's pong comes at once, after what was held" {
    start_serve --write-delay 60000 --ping 0
    run timeout 20 $PEER ws-delay "$SERVE_PORT"
    assert_output "1:m1 1:m2 10:p"
}

# wide_fan SERVE-OPTIONS... — 300 streams get 50 messages whole and in
# order; 200 of 400 reset during 2 000 messages and are let go
wide_fan() {
    start_serve --max-conns 1000 --metrics-per-channel "$@"
    run timeout 60 $PEER sse-fan "$SERVE_PORT" wide 300 50 0
    assert_output "$(printf 'published 50\nin order 300 of 300')"
    run timeout 60 $PEER sse-fan "$SERVE_PORT" reset 400 2000 200
    assert_output "$(printf 'published 2000\nin order 200 of 200')"
    wait_metric 'pushwire_subscribers{channel="reset"} 0'
    wait_metric 'pushwire_subscribers{channel="wide"} 0'
}

@test "--write-delay: a wide fan-out arrives whole and in order, and resets while held are let go" {
    wide_fan --write-delay 5
}

@test "--write-delay-adaptive: a stream the loop keeps up with is not held" {
    # one message at a time, each answered before the next: every write
    # carries one message, the loop is never behind, nothing waits 60 s
    start_serve --write-delay 60000 --write-delay-adaptive
    run timeout 20 $PEER sse-delay "$SERVE_PORT" "$SERVE_PID"
    assert_output "$(printf "first ['data: m1']\nwrites meanwhile 3\nthen ['data: m2', 'data: m3', 'data: m4'] end")"
}

@test "--write-delay-adaptive: a wide fan-out arrives whole and in order, and resets are let go" {
    wide_fan --write-delay 5 --write-delay-adaptive
}

# (serve_peer.py behind: a burst to 200 streams, read over several loop
# turns, puts the loop behind; then a quiet stream and a WebSocket get m1,
# m2, m3)
@test "--write-delay-adaptive: while the loop is behind a stream is held, a pong is not" {
    start_serve --max-conns 1000 --max-message 64 --send-buffer 16384 --write-delay 60000 --write-delay-adaptive --ping 0
    run timeout 60 $PEER behind "$SERVE_PORT" "$SERVE_PID" 0
    # m1 is written at once, then the streams are held: m2, m3 make no
    # write (60 s); the ping's pong comes at once, after what W held; the
    # shutdown ends S with what it held
    assert_output "$(printf "first ['data: m1'] 1:m1\nwrites meanwhile 0\nws 1:m2 1:m3 10:p\nthen ['data: m2', 'data: m3'] end")"
    stop_serve_clean
}

@test "--write-delay-adaptive: once the loop has caught up, a stream is not held again" {
    start_serve --max-conns 1000 --max-message 64 --send-buffer 16384 --write-delay 1000 --write-delay-adaptive --ping 0
    # 1.2 s after m1, more than the 1 s the loop stays behind after its last
    # late write (before m1's) and S is held: m2 and m3 are each written at
    # once to S and to W.  The wide streams were let go meanwhile with the
    # two messages that came in two turns while they were held: those do
    # not put the loop behind again.
    run timeout 60 $PEER behind "$SERVE_PORT" "$SERVE_PID" 1.2
    assert_output "$(printf "first ['data: m1'] 1:m1\nwrites meanwhile 4\nws 1:m2 1:m3 10:p\nthen ['data: m2', 'data: m3'] end")"
    stop_serve_clean
}

@test "--write-delay-adaptive: a stream let go as the loop stops being behind is not held again" {
    # S is written (q0 q1) and held in the loop turn the loop was last
    # behind, T; q2 comes while it is held (nothing before its release, 2 s
    # later); the loop is behind for 2 s from T: from the release on, m2 is
    # written at once.  (When it was behind one ms longer, a release at
    # T + 2000 exactly, the usual case, held S again: then [].)
    start_serve --max-conns 1000 --max-message 64 --send-buffer 16384 --write-delay 2000 --write-delay-adaptive
    run timeout 60 $PEER behind-release "$SERVE_PORT" "$SERVE_PID"
    assert_output "$(printf "first ['data: q0', 'data: q1']\nheld []\nreleased ['data: q2']\nthen ['data: m2']")"
    stop_serve_clean
}

@test "--write-delay: a subscriber that does not read is still dropped at --send-buffer" {
    start_serve --send-buffer 65536 --max-message 2000 --write-delay 1000
    HOLD=30 $PEER ws-slow-sub "$SERVE_PORT" >/dev/null 3>&- &
    cpid=$!
    for i in $(seq 50); do grep -q "sse 'slow' response 200" "$SERVE_LOG" && break; sleep 0.1; done
    run timeout 60 $PEER pub-flood "$SERVE_PORT" slow 8000 1500
    assert_output 'published 8000'
    run C "$SERVE_URL/metrics"
    assert_line 'pushwire_slow_disconnects_total 1'
    kill $cpid 2>/dev/null || true
}

# ---- logs and signals ----

@test "--log json writes one JSON object per line" {
    start_serve --log json
    C "$SERVE_URL/healthz" >/dev/null
    stop_serve
    run grep -c '^{"time":"[0-9T:.-]*Z","event":"' "$SERVE_LOG"
    [ "$output" -ge 3 ]
    run grep '"event":"response"' "$SERVE_LOG"
    assert_output --partial '"status":200'
    assert_output --partial '"detail":"GET /healthz"'
}

@test "--log-file is reopened on SIGHUP" {
    start_serve --log-file "$BATS_TEST_TMPDIR/a.log"
    C "$SERVE_URL/healthz" >/dev/null
    mv "$BATS_TEST_TMPDIR/a.log" "$BATS_TEST_TMPDIR/a.log.1"
    kill -HUP "$SERVE_PID"
    for i in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/a.log" ] && break; sleep 0.1; done
    C "$SERVE_URL/healthz" >/dev/null
    sleep 0.2
    run grep -c 'response 200' "$BATS_TEST_TMPDIR/a.log"
    assert_output 1
    run grep -c 'response 200' "$BATS_TEST_TMPDIR/a.log.1"
    assert_output 1
}

# exits_clean SECS — the server (SERVE_PID), signalled, is gone within SECS
# with exit status 0
exits_clean() {
    timeout "$1" sh -c "while kill -0 $SERVE_PID 2>/dev/null; do sleep 0.1; done" || { echo "serve still running after $1 s" >&2; return 1; }
    local rc=0
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    [ "$rc" -eq 0 ] || { echo "serve exited $rc" >&2; return 1; }
}

@test "SIGTERM with --drain 2: the streams are ended spread over the drain, each served until its turn (a subscriber told later got more of what a WebSocket went on publishing); a second signal ends the rest at once; exit 0" {
    start_serve --drain 2
    for i in 1 2 3 4 5 6 7 8; do
        C -N --max-time 20 "$SERVE_URL/sse/dr" >"$BATS_TEST_TMPDIR/sse$i" &
        eval "spid$i=\$!"
        for j in $(seq 50); do [ "$(grep -c "sse 'dr'" "$SERVE_LOG")" -ge "$i" ] && break; sleep 0.1; done
    done
    # the publisher connects last: it is told last, and publishes until then
    (for i in $(seq 80); do echo "m$i"; sleep 0.1; done) | "$PW" connect -q "ws://127.0.0.1:$SERVE_PORT/ws/dr" >/dev/null 2>&1 &
    for j in $(seq 50); do grep -q '^data: m3$' "$BATS_TEST_TMPDIR/sse8" 2>/dev/null && break; sleep 0.1; done
    kill -TERM "$SERVE_PID"
    wait $spid1 $spid8
    grep -q 'SIGTERM: draining (--drain)' "$SERVE_LOG"
    first=$(grep -c '^data: m' "$BATS_TEST_TMPDIR/sse1")
    last=$(grep -c '^data: m' "$BATS_TEST_TMPDIR/sse8")
    echo "first told got $first, the last $last" >&3
    [ "$last" -gt "$first" ]
    exits_clean 8
    # a second SIGTERM while draining: the rest at once, then the usual grace
    start_serve --drain 600
    C -N --max-time 20 "$SERVE_URL/sse/dr" >/dev/null &
    spid=$!
    for j in $(seq 50); do grep -q "sse 'dr'" "$SERVE_LOG" && break; sleep 0.1; done
    kill -TERM "$SERVE_PID"
    sleep 0.5
    kill -0 "$SERVE_PID" # still draining
    kill -TERM "$SERVE_PID"
    exits_clean 8
    wait $spid
}

@test "SIGTERM with --drain: a publish whose body is still coming is answered and delivered, then its connection ends; an idle keep-alive ends at once" {
    start_serve --drain 3
    C -N --max-time 20 "$SERVE_URL/sse/dp" >"$BATS_TEST_TMPDIR/sse" &
    spid=$!
    for j in $(seq 50); do grep -q "sse 'dp'" "$SERVE_LOG" && break; sleep 0.1; done
    /usr/bin/python3 - "$SERVE_PORT" "$SERVE_PID" >"$BATS_TEST_TMPDIR/pub" <<'EOF' &
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
idle = socket.create_connection(("127.0.0.1", port))
idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
idle.settimeout(5)
idle.recv(4096)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /pub/dp HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf-")
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
s.sendall(b"done.")
s.settimeout(5)
print(s.recv(4096).split(b"\r\n")[0].decode())
print("idle:", "closed" if idle.recv(4096) == b"" else "open")
EOF
    ppid=$!
    wait $ppid
    run cat "$BATS_TEST_TMPDIR/pub"
    assert_line --index 0 'HTTP/1.1 200 OK'
    assert_line --index 1 'idle: closed'
    wait $spid
    grep -q '^data: half-done.$' "$BATS_TEST_TMPDIR/sse"
    exits_clean 8
}

@test "SIGTERM: WebSocket clients get 1001, SSE ends, exit 0" {
    start_serve
    $PEER ws-wait-close "$SERVE_PORT" /ws/bye >"$BATS_TEST_TMPDIR/ws" &
    wpid=$!
    C -N --max-time 10 "$SERVE_URL/sse/bye" >"$BATS_TEST_TMPDIR/sse" &
    spid=$!
    for i in $(seq 50); do grep -q open "$BATS_TEST_TMPDIR/ws" 2>/dev/null && grep -q "sse 'bye'" "$SERVE_LOG" && break; sleep 0.1; done
    kill -TERM "$SERVE_PID"
    exits_clean 6
    wait $wpid
    run cat "$BATS_TEST_TMPDIR/ws"
    assert_line 'close 1001'
    wait $spid   # curl sees a clean end of the stream
}
