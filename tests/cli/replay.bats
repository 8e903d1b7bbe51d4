#!/usr/bin/env bats
# replay.bats — pushwire replay: transcripts played to serve (with --expect),
# served with --serve to connect/curl over each transport, malformed
# transcripts refused with the line number, a large transcript streamed.

load helper
bats_require_minimum_version 1.5.0

need_serve() {
    "$PW" serve --help >/dev/null 2>&1 || fail "the serve applet is not built in"
}

setup() {
    D=$BATS_TEST_TMPDIR
}

teardown() {
    stop_stall
    stop_serve
    stop_replay_serve
}

# start_replay_serve FILE [ARGS…] — like start_serve, for replay --serve.
start_replay_serve() {
    RS_LOG=$(mktemp "$D/rs.XXXXXX")
    "$PW" replay "$@" --serve 127.0.0.1:0 </dev/null 2>"$RS_LOG" >/dev/null &
    RS_PID=$!
    RS_PORT=$(wait_listen "$RS_LOG" replay "$RS_PID") || return 1
    RS_URL=127.0.0.1:$RS_PORT
}

stop_replay_serve() {
    stop_pid "${RS_PID:-}"
    RS_PID=
}

# a session recorded by connect against serve: a, b, c out and back in
record_session() {
    printf 'a\nb\nc\n' | timeout 10 "$PW" connect --wait --count 3 --record "$D/s.jsonl" \
        "ws://127.0.0.1:$SERVE_PORT/ws/room" >/dev/null
    [ "$(grep -c '"dir":"out"' "$D/s.jsonl")" = 3 ]
    [ "$(grep -c '"dir":"in"' "$D/s.jsonl")" = 3 ]
}

feed() { # a small feed: text, an event with two lines, binary, text
    cat >"$D/feed.jsonl" <<'EOF'
{"t":0,"dir":"out","type":"text","data":"hello"}
{"t":0.01,"dir":"in","type":"text","data":"one"}
{"t":0.02,"dir":"in","type":"event","event":"tick","data":"two\nlines"}
{"t":0.03,"dir":"in","type":"binary","data":"AAEC","encoding":"base64"}
{"t":0.04,"dir":"in","type":"text","data":"four"}
EOF
}

# ---- usage ----

@test "replay: no FILE is a usage error" {
    run "$PW" replay
    assert_failure 2
    assert_output --partial "a transcript FILE is needed"
}

@test "replay: FILE without URL or --serve is a usage error" {
    feed
    run "$PW" replay "$D/feed.jsonl"
    assert_failure 2
    assert_output --partial "a URL to play to is needed"
}

@test "replay: --speed must be above 0" {
    feed
    run "$PW" replay --speed 0 "$D/feed.jsonl" ws://127.0.0.1:1/
    assert_failure 2
    assert_output --partial "--speed"
}

@test "replay: --expect needs a file, not stdin" {
    run "$PW" replay --expect - ws://127.0.0.1:1/
    assert_failure 2
    assert_output --partial "give a file"
}

@test "replay: --expect does not go with --serve" {
    feed
    run "$PW" replay --expect "$D/feed.jsonl" --serve 127.0.0.1:0
    assert_failure 2
}

@test "replay: a missing transcript file exits 1 and names it" {
    run "$PW" replay "$D/nope.jsonl" ws://127.0.0.1:1/
    assert_failure 1
    assert_output --partial "cannot open '$D/nope.jsonl'"
}

# ---- malformed transcripts: exit 3, line number and rule, before connecting ----

mkbad() { # a transcript whose line 1 is good and line 2 is $1
    printf '%s\n%s\n' '{"t":1,"dir":"out","type":"text","data":"ok"}' "$1" >"$D/bad.jsonl"
}

bad() { # bad LINE2 EXPECTED-TEXT
    mkbad "$1"
    # port 1: nothing listens, so exit 3 (not 4) shows the file was refused first
    run "$PW" replay "$D/bad.jsonl" ws://127.0.0.1:1/ws/x
    assert_failure 3
    assert_output --partial "'$D/bad.jsonl' line 2: $2"
}

@test "replay: a line that is not JSON is refused with its number" {
    bad 'not json' 'not JSON'
}

@test "replay: a line that is not an object is refused" {
    bad '[1,2]' 'the line is an array, not a JSON object'
}

@test "replay: a missing required field is refused" {
    bad '{"t":1,"dir":"in","data":"x"}' 'required field "type" is missing'
}

@test "replay: a field of the wrong type is refused" {
    bad '{"t":"1","dir":"in","type":"text","data":"x"}' '"t" must be a number, not a string'
}

@test "replay: a negative t is refused" {
    printf '%s\n' '{"t":-0.5,"dir":"in","type":"text","data":"x"}' >"$D/bad.jsonl"
    run "$PW" replay "$D/bad.jsonl" ws://127.0.0.1:1/ws/x
    assert_failure 3
    assert_output --partial "line 1: \"t\" is -0.5: it must be 0 or more"
}

@test "replay: t going backwards is refused" {
    bad '{"t":0.5,"dir":"in","type":"text","data":"x"}' '"t" goes backwards: 0.5 after 1'
}

@test "replay: an unknown dir is refused" {
    bad '{"t":1,"dir":"both","type":"text","data":"x"}' '"dir" is "both": want "in" or "out"'
}

@test "replay: an unknown type is refused" {
    bad '{"t":1,"dir":"in","type":"ping","data":"x"}' '"type" is "ping"'
}

@test "replay: an unknown encoding is refused" {
    bad '{"t":1,"dir":"in","type":"binary","data":"00","encoding":"hex"}' '"encoding" is "hex"'
}

@test "replay: bad base64 is refused" {
    bad '{"t":1,"dir":"in","type":"binary","data":"AA=A","encoding":"base64"}' '"data" is not valid base64'
}

@test "replay: an event name with a newline is refused" {
    bad '{"t":1,"dir":"in","type":"event","event":"a\nb","data":"x"}' '"event" must be 1-128 bytes'
}

@test "replay: a line over --max-line is refused" {
    mkbad "{\"t\":1,\"dir\":\"in\",\"type\":\"text\",\"data\":\"$(head -c 300 /dev/zero | tr '\0' x)\"}"
    run "$PW" replay --max-line 200 "$D/bad.jsonl" ws://127.0.0.1:1/ws/x
    assert_failure 3
    assert_output --partial "line 2: line longer than 200 bytes"
}

@test "replay: --serve refuses a malformed transcript before listening" {
    mkbad '{"t":1,"dir":"in","type":"text"}'
    run "$PW" replay "$D/bad.jsonl" --serve 127.0.0.1:0
    assert_failure 3
    assert_output --partial "line 2: required field \"data\" is missing"
    refute_output --partial "listening"
}

# ---- playing to serve ----

@test "replay: cannot connect exits 4" {
    feed
    run "$PW" replay "$D/feed.jsonl" ws://127.0.0.1:1/ws/x
    assert_failure 4
}

@test "connect --record: each message's line is in the file while connect runs, whole (a kill -9 loses none); a write that fails (a full disk) is said and exits 1" {
    need_serve
    start_serve
    "$PW" connect --no-stdin --record "$D/live.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/room" >/dev/null 2>&1 3>&- &
    local cp=$! i
    wait_metric 'pushwire_connections{transport="ws"} 1'
    for i in 1 2 3; do C -d "m$i" "http://127.0.0.1:$SERVE_PORT/pub/room" >/dev/null; done
    # stdio kept them (4 KiB of buffer) until exit: the file stayed empty
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '"dir":"in"' "$D/live.jsonl")" = 3 ] && break
        sleep 0.1
    done
    [ "$i" -lt 100 ] || { kill "$cp"; cat "$D/live.jsonl"; false; }
    kill -KILL "$cp"
    wait "$cp" || true
    [ "$(jq -r .data "$D/live.jsonl")" = "$(printf 'm1\nm2\nm3')" ]
    # a full disk: said once, exit 1 (was exit 0 with nothing written)
    run -1 bash -c "echo hi | timeout 10 '$PW' connect --count 1 --record /dev/full 'ws://127.0.0.1:$SERVE_PORT/ws/room' 3>&-"
    assert_output --partial "write error on --record '/dev/full': No space left on device"
    [ "$(grep -c 'write error' <<<"$output")" = 1 ]
}

@test "replay: a session recorded by connect replays to serve with --expect" {
    need_serve
    start_serve
    record_session
    run timeout 20 "$PW" replay --expect "$D/s.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/room2"
    assert_success
    assert_output ""
}

@test "replay: the out messages reach the server's subscribers in order" {
    need_serve
    start_serve --metrics-per-channel
    record_session
    timeout 10 "$PW" connect --no-stdin --count 3 "ws://127.0.0.1:$SERVE_PORT/ws/room3" >"$D/sub.out" &
    local sub=$!
    # the subscriber is in once the channel has it; the metrics say so
    for i in $(seq 100); do
        curl -s "$SERVE_URL/metrics" | grep -q 'room3' && break
        sleep 0.05
    done
    run timeout 20 "$PW" replay --no-delay "$D/s.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/room3"
    assert_success
    wait $sub
    run cat "$D/sub.out"
    assert_output "$(printf 'a\nb\nc')"
}

@test "replay: --expect with a changed transcript exits 1 with the diff" {
    need_serve
    start_serve
    record_session
    # change the second message that came in
    awk '/"dir":"in"/ && ++n == 2 { sub(/"data":"b"/, "\"data\":\"B\"") } { print }' \
        "$D/s.jsonl" >"$D/changed.jsonl"
    run timeout 20 "$PW" replay --expect "$D/changed.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/room4"
    assert_failure 1
    assert_line --partial "message 2 (line"
    assert_line '- expected: text "B"'
    assert_line '+ got:      text "b"'
    assert_output --partial "1 of the expected messages differ"
}

@test "replay: --expect reports a message that never arrives" {
    need_serve
    start_serve
    record_session
    echo '{"t":1000,"dir":"in","type":"text","data":"never"}' >>"$D/s.jsonl"
    run timeout 20 "$PW" replay --expect --no-delay --wait 0.5 "$D/s.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/room5"
    assert_failure 1
    assert_line '- expected: text "never"'
    assert_line '+ got:      nothing'
}

# ---- http(s):// URLs: the in side subscribes over SSE, out messages are POSTed ----

@test "replay: a session recorded over ws replays to http://.../sse/CHANNEL with --expect" {
    need_serve
    start_serve
    record_session
    run timeout 20 "$PW" replay --expect "$D/s.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/room6"
    assert_success
    assert_output ""
}

@test "replay: over http, a changed transcript exits 1 with the diff" {
    need_serve
    start_serve
    record_session
    awk '/"dir":"in"/ && ++n == 3 { sub(/"data":"c"/, "\"data\":\"C\"") } { print }' \
        "$D/s.jsonl" >"$D/changed.jsonl"
    run timeout 20 "$PW" replay --expect "$D/changed.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/room7"
    assert_failure 1
    assert_line --partial "message 3 (line"
    assert_line '- expected: text "C"'
    assert_line '+ got:      text "c"'
    assert_output --partial "1 of the expected messages differ"
}

@test "replay: over http, POSTed messages reach a WebSocket subscriber in order" {
    need_serve
    start_serve --metrics-per-channel
    record_session
    timeout 10 "$PW" connect --no-stdin --count 3 "ws://127.0.0.1:$SERVE_PORT/ws/room8" >"$D/sub.out" &
    local sub=$!
    for i in $(seq 100); do
        curl -s "http://127.0.0.1:$SERVE_PORT/metrics" | grep -q 'room8' && break
        sleep 0.05
    done
    run timeout 20 "$PW" replay --no-delay "$D/s.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/room8"
    assert_success
    wait $sub
    run cat "$D/sub.out"
    assert_output "$(printf 'a\nb\nc')"
}

@test "replay: over http, a binary message is POSTed as binary and expected as its base64" {
    need_serve
    start_serve
    cat >"$D/bin.jsonl" <<'EOF'
{"t":0,"dir":"out","type":"binary","data":"AAEC/w==","encoding":"base64"}
{"t":0,"dir":"in","type":"binary","data":"AAEC/w==","encoding":"base64"}
EOF
    run timeout 20 "$PW" replay --expect "$D/bin.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/hbin"
    assert_success
}

@test "replay: over http, a refused POST names its own line, not the one read after it" {
    need_serve
    start_serve --max-message 100
    {
        echo '{"t":0,"dir":"out","type":"text","data":"fits"}'
        printf '{"t":0,"dir":"out","type":"text","data":"%s"}\n' "$(printf 'y%.0s' $(seq 200))"
        echo '{"t":0,"dir":"out","type":"text","data":"fits too"}'
    } >"$D/big.jsonl"
    run timeout 20 "$PW" replay --no-delay "$D/big.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/big"
    assert_failure 6
    assert_output --partial "server answered HTTP 413 to POST 'http://127.0.0.1:$SERVE_PORT/pub/big' (line 2)"
}

@test "replay: over http, expected text with CR or CRLF matches the LF an event stream delivers" {
    need_serve
    start_serve
    cat >"$D/crlf.jsonl" <<'EOF'
{"t":0,"dir":"out","type":"text","data":"a\r\nb\rc"}
{"t":0,"dir":"in","type":"text","data":"a\r\nb\rc"}
{"t":0,"dir":"out","type":"text","data":"d\r\ne"}
{"t":0,"dir":"in","type":"text","data":"d\r\nX"}
EOF
    run timeout 20 "$PW" replay --expect "$D/crlf.jsonl" "http://127.0.0.1:$SERVE_PORT/sse/crlf"
    assert_failure 1
    # the first matches; the second differs in its data, not in its line break
    refute_output --partial 'message 1 '
    assert_output --partial 'message 2 (line 4, t=0):'
    assert_output --partial '+ got:      text "d\ne"'
}

@test "replay --expect: a connection that never opens prints no diff; one cut short counts the transcript's in messages as expected" {
    need_serve
    feed
    run --separate-stderr timeout 10 "$PW" replay --expect "$D/feed.jsonl" ws://127.0.0.1:1/ws/x
    assert_failure 4
    assert_output ''
    [[ $stderr != *"differ"* ]] || fail "$stderr"
    run --separate-stderr timeout 10 "$PW" replay --expect "$D/feed.jsonl" http://127.0.0.1:1/sse/x
    assert_failure 4
    assert_output ''
    start_serve --max-message 100
    {
        for d in one "$(printf 'y%.0s' $(seq 200))" three four; do
            printf '{"t":0,"dir":"out","type":"text","data":"%s"}\n{"t":0,"dir":"in","type":"text","data":"%s"}\n' "$d" "$d"
        done
    } >"$D/cut.jsonl"
    run --separate-stderr timeout 10 "$PW" replay --expect "$D/cut.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/cut"
    assert_failure 8
    # how many were sent before the close depends on when it came; 4 are expected
    [[ $stderr =~ "3 of the expected messages differ ("[0-9]" sent, 4 expected, 1 arrived)" ]] || fail "$stderr"
}

@test "replay: an http URL that is not /sse/CHANNEL is refused with exit 2 naming the rule" {
    feed
    run "$PW" replay "$D/feed.jsonl" "http://127.0.0.1:1/poll/x"
    assert_failure 2
    assert_output --partial "must be a pushwire /sse/CHANNEL URL"
    assert_output --partial "/pub/CHANNEL"
}

@test "replay: over http, cannot connect exits 4" {
    feed
    run "$PW" replay "$D/feed.jsonl" "http://127.0.0.1:1/sse/x"
    assert_failure 4
}

@test "replay --connect-timeout: a peer that accepts and never answers is given up, naming the step, for every transport (exit 7, no diff)" {
    feed
    stall silent
    u=127.0.0.1:$STALL_PORT
    for t in "ws://$u/ws/x|waiting for the server's answer to the WebSocket upgrade from" \
        "wss://$u/ws/x|in the TLS handshake with" \
        "http://$u/sse/x|waiting for the server's answer (HTTP head) from" \
        "https://$u/sse/x|in the TLS handshake with"; do
        run --separate-stderr timeout 10 "$PW" replay --expect --connect-timeout 0.5 "$D/feed.jsonl" "${t%%|*}"
        assert_failure 7
        assert_output '' # nothing was played: no diff
        [ "$stderr" = "pushwire replay: gave up after 0.5 s (--connect-timeout) ${t#*|} '127.0.0.1' port $STALL_PORT" ] ||
            fail "${t%%|*}: $stderr"
    done
}

@test "replay --connect-timeout: over http, a POST never answered is given up with its line (exit 7)" {
    feed
    stall stream # the event stream opens; the POST of line 1 gets nothing
    run --separate-stderr timeout 10 "$PW" replay --connect-timeout 0.5 "$D/feed.jsonl" "http://127.0.0.1:$STALL_PORT/sse/x"
    assert_failure 7
    [ "$stderr" = "pushwire replay: POST 'http://127.0.0.1:$STALL_PORT/pub/x' (line 1): gave up after 0.5 s (--connect-timeout) waiting for the server's answer (HTTP head) from '127.0.0.1' port $STALL_PORT" ] || fail "$stderr"
}

@test "replay --connect-timeout 0 waits on for a peer that never answers; the default is 30 s as connect's" {
    feed
    stall silent
    # still waiting when timeout(1) ends it: its status is 124, not replay's
    run --separate-stderr timeout 1.5 "$PW" replay --connect-timeout 0 "$D/feed.jsonl" "ws://127.0.0.1:$STALL_PORT/ws/x"
    assert_failure 124
    [ "$stderr" = "pushwire replay: interrupted (SIGTERM)" ] || fail "$stderr"
    run pw replay --help
    assert_output --partial "--connect-timeout SECS"
    assert_output --partial "(0..365d; default 30)"
    run pw replay --connect-timeout soon "$D/feed.jsonl" ws://127.0.0.1:1/
    assert_failure 2
    assert_output --partial "bad value for --connect-timeout"
}

@test "replay: binary messages are sent as binary and compared as binary" {
    need_serve
    start_serve
    cat >"$D/bin.jsonl" <<'EOF'
{"t":0,"dir":"out","type":"binary","data":"AAEC/w==","encoding":"base64"}
{"t":0,"dir":"in","type":"binary","data":"AAEC/w==","encoding":"base64"}
EOF
    run timeout 20 "$PW" replay --expect "$D/bin.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/bin"
    assert_success
    sed 's/"in","type":"binary"/"in","type":"text"/' "$D/bin.jsonl" >"$D/bin2.jsonl"
    run timeout 20 "$PW" replay --expect "$D/bin2.jsonl" "ws://127.0.0.1:$SERVE_PORT/ws/bin"
    assert_failure 1
    assert_line '+ got:      binary 4 bytes "AAEC/w=="'
}

@test "replay: a 200000-line transcript streams with --no-delay in small memory" {
    need_serve
    start_serve --max-message 65536
    awk 'BEGIN { for (i = 0; i < 100000; i++) {
        printf "{\"t\":%.3f,\"dir\":\"out\",\"type\":\"text\",\"data\":\"message %d\"}\n", i / 1000, i
        printf "{\"t\":%.3f,\"dir\":\"in\",\"type\":\"text\",\"data\":\"message %d\"}\n", i / 1000, i } }' \
        >"$D/big.jsonl"
    [ "$(wc -l <"$D/big.jsonl")" = 200000 ]
    # ASan keeps freed memory in quarantine: keep that small to measure ours
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4 \
    run timeout 300 /usr/bin/time -f 'maxrss_kb=%M' "$PW" replay --no-delay --expect "$D/big.jsonl" \
        "ws://127.0.0.1:$SERVE_PORT/ws/big"
    assert_success
    local kb
    kb=$(sed -n 's/^maxrss_kb=//p' <<<"$output")
    echo "max RSS ${kb} KB for a $(wc -c <"$D/big.jsonl")-byte transcript" >&3
    # the file is ~11 MB; loaded whole (plus a parsed tree) it would be far more.
    # ASan's shadow memory inflates the figure, hence the generous bound.
    [ "$kb" -lt 64000 ]
}

# ---- --serve ----

need_embedded() {
    need_serve
    feed
    start_replay_serve "$D/feed.jsonl" || fail "replay --serve did not start"
}

# rs_epoch — the epoch of the ids replay --serve gives the feed (from the
# first message held on the default channel)
rs_epoch() {
    id_epoch "$(curl -s -m 5 "http://$RS_URL/poll/default?cursor=0&timeout=5" |
                sed -n 's/.*"messages":\[{"id":"\([^"]*\)".*/\1/p')"
}

@test "replay --serve: prints the listening line for port 0" {
    need_embedded
    [ "$RS_PORT" -gt 0 ]
}

@test "replay --serve: OPTIONS * is answered as serve answers it (200, Allow, no body)" {
    need_embedded
    run C -i -X OPTIONS --request-target '*' "http://$RS_URL/"
    assert_line --index 0 --partial 'HTTP/1.1 200'
    assert_line --partial 'Content-Length: 0'
    assert_line --partial 'Allow: GET, HEAD, POST, OPTIONS'
}

@test "replay --serve: a WebSocket client gets the in messages in order, text and binary" {
    need_embedded
    run timeout 10 "$PW" connect --no-stdin --count 4 --json "ws://$RS_URL/ws/default"
    assert_success
    assert_line --index 0 '{"id":null,"event":"message","data":"one","type":"text"}'
    assert_line --index 1 '{"id":null,"event":"message","data":"two\nlines","type":"text"}'
    assert_line --index 2 '{"id":null,"event":"message","data":"AAEC","type":"binary","encoding":"base64"}'
    assert_line --index 3 '{"id":null,"event":"message","data":"four","type":"text"}'
}

@test "replay --serve: WebSocket resume with --last-event-id gets what follows" {
    need_embedded
    run timeout 10 "$PW" connect --no-stdin --count 4 "ws://$RS_URL/ws/default"
    assert_success
    ep=$(rs_epoch)
    run timeout 10 "$PW" connect --no-stdin --count 2 --json --last-event-id "$ep:2" "ws://$RS_URL/ws/default"
    assert_success
    assert_line --index 0 --partial "\"id\":\"$ep:3\""
    assert_line --index 1 "{\"id\":\"$ep:4\",\"event\":\"message\",\"data\":\"four\",\"type\":\"text\"}"
}

@test "replay --serve: SSE with ids and event names (curl)" {
    need_embedded
    run timeout 10 "$PW" connect --no-stdin --count 4 "ws://$RS_URL/ws/default"
    assert_success
    ep=$(rs_epoch)
    run curl -s -N -m 2 -H "Last-Event-ID: $ep:1" "http://$RS_URL/sse/default"
    assert_line "id: $ep:2"
    assert_line 'event: tick'
    assert_line 'data: two'
    assert_line 'data: lines'
    assert_line "id: $ep:4"
    assert_line 'data: four'
    refute_line 'data: one'
    refute_line 'event: gap'
}

@test "replay --serve: long polling with a cursor (curl)" {
    need_embedded
    run timeout 10 "$PW" connect --no-stdin --count 4 "ws://$RS_URL/ws/default"
    assert_success
    ep=$(rs_epoch)
    run curl -s -m 5 "http://$RS_URL/poll/default?cursor=$ep:2"
    assert_success
    assert_output --partial "\"cursor\":\"$ep:4\""
    assert_output --partial "{\"id\":\"$ep:4\",\"event\":\"message\",\"data\":\"four\"}"
    assert_output --partial '"gap":false'
    refute_output --partial '"data":"one"'
}

@test "replay --serve: connect over SSE and long polling, resuming" {
    need_embedded
    run timeout 10 "$PW" connect --no-stdin --count 4 "ws://$RS_URL/ws/default"
    assert_success
    ep=$(rs_epoch)
    run timeout 10 "$PW" connect --count 2 --json --last-event-id "$ep:2" "http://$RS_URL/sse/default"
    assert_success
    assert_line --index 0 --partial "{\"id\":\"$ep:3\","
    assert_line --index 1 "{\"id\":\"$ep:4\",\"event\":\"message\",\"data\":\"four\",\"type\":\"text\"}"
    run timeout 10 "$PW" connect --poll --count 2 --json --last-event-id "$ep:2" "http://$RS_URL/poll/default"
    assert_success
    assert_line --index 0 "{\"id\":\"$ep:3\",\"event\":\"message\",\"data\":\"AAEC\",\"type\":\"binary\",\"encoding\":\"base64\"}"
    assert_line --index 1 "{\"id\":\"$ep:4\",\"event\":\"message\",\"data\":\"four\",\"type\":\"text\"}"
}

@test "replay --serve: the feed keeps its timing with --speed" {
    need_serve
    cat >"$D/slow.jsonl" <<'EOF'
{"t":0,"dir":"in","type":"text","data":"first"}
{"t":1,"dir":"in","type":"text","data":"second"}
EOF
    start_replay_serve "$D/slow.jsonl" --speed 4
    # with --json ids; the second message is due 0.25 s after the first
    run timeout 10 "$PW" connect --no-stdin --count 2 "ws://$RS_URL/ws/default"
    assert_success
    assert_output "$(printf 'first\nsecond')"
}

@test "replay --serve: --channel names the feed's channel" {
    need_serve
    feed
    start_replay_serve "$D/feed.jsonl" --channel news
    run timeout 10 "$PW" connect --no-stdin --count 1 "ws://$RS_URL/ws/news"
    assert_success
    assert_output "one"
}

@test "replay --serve: a channel that is not a channel name is refused with its line, not put on another" {
    need_serve
    printf '%s\n' '{"t":0,"dir":"in","type":"text","channel":"news","data":"one"}' \
        '{"t":0.01,"dir":"in","type":"text","channel":"room/1","data":"two"}' >"$D/chan.jsonl"
    run timeout 10 "$PW" replay "$D/chan.jsonl" --serve 127.0.0.1:0
    assert_failure 3
    assert_output --partial "'$D/chan.jsonl' line 2: \"channel\" is \"room/1\": not a channel name"
    assert_output --partial "--channel NAME puts the whole feed on one"
    refute_output --partial "listening"
    # --channel puts every record on one channel: the file is fine then
    start_replay_serve "$D/chan.jsonl" --channel all
    run timeout 10 "$PW" connect --no-stdin --count 2 "ws://$RS_URL/ws/all"
    assert_success
    assert_output "$(printf 'one\ntwo')"
}

# replay --serve reading standard input from the FIFO $D/in, held open on fd 5
# by the test (so the input does not end): one line on channel news written,
# and a client has it (RS_PORT, RS_LOG)
replay_fifo_one() {
    RS_LOG=$D/fifo.log
    mkfifo "$D/in"
    "$PW" replay - --serve 127.0.0.1:0 <"$D/in" 2>"$RS_LOG" >/dev/null &
    RS_PID=$!
    exec 5>"$D/in"
    printf '%s\n' '{"t":0,"dir":"in","type":"text","channel":"news","data":"one"}' >&5
    RS_PORT=$(wait_listen "$RS_LOG" replay "$RS_PID")
    run timeout 10 "$PW" connect --no-stdin --count 1 "ws://127.0.0.1:$RS_PORT/ws/news"
    assert_success
    assert_output "one"
}

log_waits() { # PATTERN FILE: until FILE has PATTERN, 10 s at most
    local i
    for ((i = 0; i < 100; i++)); do
        grep -qF -- "$1" "$2" && return 0
        sleep 0.1
    done
}

@test "replay --serve: from standard input, a bad channel stops the feed at its line" {
    need_serve
    replay_fifo_one
    printf '%s\n' '{"t":0.01,"dir":"in","type":"text","channel":"a b","data":"two"}' >&5
    log_waits 'feed stopped' "$RS_LOG"
    run cat "$RS_LOG"
    assert_output --partial "'-' line 2: \"channel\" is \"a b\": not a channel name"
    assert_output --partial "the feed stopped at that line"
    # nothing was put on the default channel instead
    run timeout 2 "$PW" connect --no-stdin --count 1 "ws://127.0.0.1:$RS_PORT/ws/default"
    refute_output --partial "two"
    exec 5>&-
    local rc=0
    kill -TERM "$RS_PID"
    wait "$RS_PID" || rc=$?
    RS_PID=
    [ "$rc" = 3 ]
}

@test "replay --serve: standard input is played as it is written (a pipe that pauses does not stop the server)" {
    need_serve
    replay_fifo_one
    run curl -s --max-time 5 "http://127.0.0.1:$RS_PORT/healthz"
    assert_success
    # a line written in two pieces is one message
    printf '%s' '{"t":0.01,"dir":"in","type":"text",' >&5
    run curl -s --max-time 5 "http://127.0.0.1:$RS_PORT/healthz"
    assert_success
    printf '%s\n' '"channel":"news","data":"two"}' >&5
    run timeout 10 "$PW" connect --no-stdin --count 1 --last-event-id 0 --json "http://127.0.0.1:$RS_PORT/sse/news"
    assert_success
    exec 5>&-
    log_waits 'transcript ended' "$RS_LOG"
    run cat "$RS_LOG"
    assert_output --partial "the transcript ended: 2 messages published"
}

@test "replay: standard input is sent as it is written, each reply before the next line comes" {
    need_serve
    "$PW" serve --listen 127.0.0.1:0 --echo 2>"$D/echo.log" &
    local echo_pid=$! port
    port=$(wait_listen "$D/echo.log" serve "$echo_pid")
    mkfifo "$D/in"
    "$PW" replay - "ws://127.0.0.1:$port/ws/x" -v <"$D/in" >"$D/out" 2>"$D/err" &
    local rp=$!
    exec 5>"$D/in"
    printf '%s\n' '{"t":0,"dir":"out","type":"text","data":"a"}' >&5
    log_waits '< text "a"' "$D/err"
    run cat "$D/err"
    assert_output --partial '< text "a"'
    printf '%s\n' '{"t":0.01,"dir":"out","type":"text","data":"b"}' >&5
    exec 5>&-
    local rc=0
    wait "$rp" || rc=$?
    stop_pid "$echo_pid"
    [ "$rc" = 0 ]
    run cat "$D/err"
    assert_output --partial '< text "b"'
    assert_output --partial "2 sent, 2 arrived"
}

@test "replay --serve: SIGTERM ends it with status 0" {
    need_embedded
    kill -TERM "$RS_PID"
    local rc=0
    wait "$RS_PID" || rc=$?
    RS_PID=
    [ "$rc" = 0 ]
}

# every "t" of a transcript: microseconds at most, no float noise
# (0.0266, not 0.026599999999999999)
t_reads_well() {
    local t bad=0
    [ "$(grep -c '"t":' "$1")" -gt 0 ] || { echo "no t in $1" >&2; return 1; }
    for t in $(grep -o '^{"t":[^,]*' "$1" | cut -d: -f2); do
        [[ $t =~ ^[0-9]+(\.[0-9]{1,6})?$ ]] || { echo "t $t in $1 does not read well" >&2; bad=1; }
    done
    return $bad
}

@test "connect --record and serve --record write t in microseconds at most, without float noise" {
    need_serve
    start_serve --record "$D/srec.jsonl"
    for i in 1 2 3; do
        seq 20 | timeout 10 "$PW" connect --wait --count 20 --record "$D/c$i.jsonl" \
            "ws://127.0.0.1:$SERVE_PORT/ws/room" >/dev/null
        [ "$(grep -c '"dir":"in"' "$D/c$i.jsonl")" = 20 ]
        t_reads_well "$D/c$i.jsonl"
    done
    stop_serve
    [ "$(grep -c '"dir":"in"' "$D/srec.jsonl")" = 60 ]
    t_reads_well "$D/srec.jsonl"
}

@test "serve --record writes each published message; replay --serve plays it back" {
    need_serve
    start_serve --record "$D/srec.jsonl"
    printf 'x\ny\n' | timeout 10 "$PW" connect --wait --count 2 "ws://127.0.0.1:$SERVE_PORT/ws/room" >/dev/null
    curl -s -d 'posted' "$SERVE_URL/pub/room?event=tick" >/dev/null
    stop_serve
    run cat "$D/srec.jsonl"
    assert_line --index 0 --regexp '^\{"t":[0-9.]+,"dir":"in","type":"event","id":"[a-z0-9]{12}:1","event":"message","channel":"room","data":"x"\}$'
    ep=$(printf '%s\n' "${lines[0]}" | sed 's/.*"id":"\([a-z0-9]*\):1".*/\1/')
    assert_line --index 2 --regexp "\"id\":\"$ep:3\",\"event\":\"tick\",\"channel\":\"room\",\"data\":\"posted\""
    start_replay_serve "$D/srec.jsonl" --no-delay
    run timeout 10 "$PW" connect --count 3 --json "http://$RS_URL/sse/room"
    assert_success
    # played back, the messages get the new server's ids: its own epoch
    assert_line --index 0 --regexp '^\{"id":"[a-z0-9]{12}:1","event":"message","data":"x","type":"text"\}$'
    ep2=$(id_epoch "$(printf '%s' "${lines[0]}" | sed 's/.*"id":"\([^"]*\)".*/\1/')")
    [ "$ep2" != "$ep" ]
    assert_line --index 2 "{\"id\":\"$ep2:3\",\"event\":\"tick\",\"data\":\"posted\",\"type\":\"text\"}"
}
