#!/usr/bin/env bats
# pushwire connect against Debian's python3-websockets servers.
load connect_helper

teardown() { peers_stop; }

@test "stdin lines are sent and the echoes printed one per line" {
    ws_py echo
    run bash -c 'printf "hello\nwörld\n" | timeout 10 "$PW" connect --wait --count 2 "$0"' "$WS_URL"
    assert_success
    assert_output $'hello\nwörld'
}

@test "a last line without a newline is still sent" {
    ws_py echo
    run bash -c 'printf "one\ntwo" | timeout 10 "$PW" connect --wait --count 2 "$0"' "$WS_URL"
    assert_success
    assert_output $'one\ntwo'
}

@test "--json prints id, event, data and type" {
    ws_py echo
    run bash -c 'echo "a \"q\"" | timeout 10 "$PW" connect --wait --count 1 --json "$0"' "$WS_URL"
    assert_success
    assert_output '{"id":null,"event":"message","data":"a \"q\"","type":"text"}'
}

@test "--binary sends binary messages, --json shows them as base64" {
    ws_py echo
    run bash -c 'printf "\x00\x01\xff" | timeout 10 "$PW" connect --wait --count 1 --binary --json "$0"' "$WS_URL"
    assert_success
    assert_output '{"id":null,"event":"message","data":"AAH/","type":"binary","encoding":"base64"}'
}

# python3-websockets drops what it has not echoed once a close arrives: the
# last replies must be in before --linger closes
@test "--binary is a byte stream both ways: random data comes back byte for byte (0, 1, 64 KiB, 64 KiB + 1, 3 MiB)" {
    ws_py echo
    binary_roundtrip "$WS_URL"
}

@test "a server close 1000 after N messages: --count-free run exits 0 with everything printed" {
    ws_py count 3
    run timeout 10 "$PW" connect --no-stdin -w '%{close_code} %{close_reason} %{messages_in}\n' "$WS_URL"
    assert_success
    assert_output $'message 1\nmessage 2\nmessage 3\n1000 done 3'
}

@test "--count N exits 0 after N messages" {
    ws_py count 5
    run timeout 10 "$PW" connect --no-stdin --count 2 "$WS_URL"
    assert_success
    assert_output $'message 1\nmessage 2'
}

@test "--until REGEX exits 0 after the first match" {
    ws_py count 5
    run timeout 10 "$PW" connect --no-stdin --until 'e 3$' "$WS_URL"
    assert_success
    assert_output $'message 1\nmessage 2\nmessage 3'
}

@test "server close 1011 is exit 8 with the code and reason" {
    ws_py close 1011 boom now
    run timeout 10 "$PW" connect --no-stdin "$WS_URL"
    assert_failure 8
    assert_output --partial '1011'
    assert_output --partial 'boom'
}

@test "server close 1001 is a normal end (exit 0)" {
    ws_py close 1001 bye now
    run timeout 10 "$PW" connect --no-stdin -w '%{close_code}\n' "$WS_URL"
    assert_success
    assert_output '1001'
}

@test "a dropped TCP connection is 1006, exit 8" {
    ws_py drop
    run bash -c 'echo x | timeout 10 "$PW" connect --wait -w "%{close_code}\n" "$0"' "$WS_URL"
    assert_failure 8
    assert_output --partial '1006'
}

@test "a connection reset by the server is 1006, exit 8, like a drop" {
    ws_py reset
    run bash -c 'echo x | timeout 10 "$PW" connect --wait -w "[%{close_code}]\n" "$0" 2>&1' "$WS_URL"
    assert_failure 8
    assert_line x
    assert_line '[1006]'
    assert_output --partial 'connection closed without a close frame (1006): read: connection reset by peer'
}

@test "a 403 refusal is exit 6 with status and body" {
    ws_py reject
    run timeout 10 "$PW" connect --no-stdin "$WS_URL"
    assert_failure 6
    assert_output --partial '403 Forbidden'
    assert_output --partial 'go away: no token'
}

@test "a 302 refusal is exit 6, naming where it points: redirects are not followed" {
    ws_py redirect ws://127.0.0.1:9/elsewhere
    run timeout 10 "$PW" connect --no-stdin "$WS_URL"
    assert_failure 6
    assert_line --index 0 'pushwire connect: server refused the WebSocket upgrade: 302 Found (Location: ws://127.0.0.1:9/elsewhere; redirects are not followed)'
    assert_line --index 1 'moved elsewhere'
}

@test "invalid UTF-8 from the server: exit 3, close 1007, rule named" {
    ws_py badutf8
    run timeout 10 "$PW" connect --no-stdin -v "$WS_URL"
    assert_failure 3
    assert_output --partial 'RFC 6455 §8.1'
    assert_output --partial 'code=1007'
}

@test "a reserved opcode from the server: exit 3, close 1002" {
    ws_py badframe
    run timeout 10 "$PW" connect --no-stdin -v "$WS_URL"
    assert_failure 3
    assert_output --partial 'reserved opcode'
    assert_output --partial 'code=1002'
}

@test "a masked server frame: exit 3 (RFC 6455 §5.1)" {
    ws_py masked
    run timeout 10 "$PW" connect --no-stdin "$WS_URL"
    assert_failure 3
    assert_output --partial '§5.1'
}

@test "--subprotocol is offered and the server's choice is accepted" {
    ws_py proto
    run timeout 10 "$PW" connect --no-stdin --count 1 --subprotocol chat.v1 --subprotocol x "$WS_URL"
    assert_success
    assert_output 'subprotocol=chat.v1'
}

@test "server pings are answered" {
    ws_py ping
    run timeout 10 "$PW" connect --no-stdin --count 1 "$WS_URL"
    assert_success
    assert_output 'pong received'
}

@test "--ping sends pings and %{rtt_ms} reports the round trip" {
    ws_py echo
    run timeout 10 "$PW" connect --no-stdin --ping 0.2 --timeout 1 -w '%{rtt_ms}\n' "$WS_URL"
    assert_failure 7
    assert_output --regexp '^pushwire connect: timed out.*[0-9]+\.[0-9]+$'
}

@test "-v shows the request, the response and frames on stderr" {
    ws_py echo
    run bash -c 'echo hi | timeout 10 "$PW" connect --wait --count 1 -v "$0" 2>&1 >/dev/null' "$WS_URL"
    assert_success
    assert_output --partial '> GET / HTTP/1.1'
    assert_output --partial '> Sec-WebSocket-Version: 13'
    assert_output --partial '< HTTP/1.1 101'
    assert_output --partial '> text len=2 masked "hi"'
    assert_output --partial '< text len=2'
}

@test "-H and --origin are sent" {
    ws_py echo
    run bash -c 'timeout 10 "$PW" connect -v --no-stdin --timeout 0.5 -H "X-A: b" --origin http://o.example "$0" 2>&1' "$WS_URL"
    assert_output --partial '> X-A: b'
    assert_output --partial '> Origin: http://o.example'
}

@test "user:pass@ in a ws:// URL is sent as Basic authentication (percent-decoded); -H Authorization wins" {
    ws_py basicauth 'm e' 'p@ss:w'
    url=ws://m%20e:p%40ss%3Aw@127.0.0.1:$WS_PORT/
    run timeout 10 "$PW" connect --no-stdin "$url"
    assert_success
    assert_output 'welcome m e'
    run timeout 10 "$PW" connect --no-stdin "ws://m%20e:wrong@127.0.0.1:$WS_PORT/"
    assert_failure 6
    assert_output --partial '401 Unauthorized'
    run timeout 10 "$PW" connect --no-stdin -H 'Authorization: Bearer x' "$url"
    assert_failure 6
    assert_output --partial "bad credentials: 'Bearer x'"
}

@test "--send messages go first" {
    ws_py echo
    run timeout 10 "$PW" connect --no-stdin --send one --send two --count 2 "$WS_URL"
    assert_success
    assert_output $'one\ntwo'
}

@test "--record writes a transcript with both directions" {
    ws_py echo
    run bash -c 'echo hi | timeout 10 "$PW" connect --wait --count 1 --record "$1" "$0"' "$WS_URL" "$BATS_TEST_TMPDIR/t.jsonl"
    assert_success
    run cat "$BATS_TEST_TMPDIR/t.jsonl"
    assert_line --regexp '^\{"t":[0-9.e-]+,"dir":"out","type":"text","id":null,"event":"message","data":"hi"\}$'
    assert_line --regexp '^\{"t":[0-9.e-]+,"dir":"in","type":"text","id":null,"event":"message","data":"hi"\}$'
}

@test "--max-message: a larger message is refused with close 1009" {
    ws_py echo
    run bash -c '(head -c 3000 /dev/zero | tr "\0" a; echo) | timeout 10 "$PW" connect --wait -v --max-message 1000 "$0" 2>&1' "$WS_URL"
    assert_failure 1
    assert_output --partial 'code=1009'
    # a local limit, not a protocol violation: say which option
    assert_output --partial 'a message from the server is larger than --max-message (1000 bytes); closing with 1009'
    refute_output --partial 'server broke'
}

@test "--idle gives up when nothing arrives (exit 7)" {
    ws_py echo
    run timeout 10 "$PW" connect --no-stdin --idle 0.3 "$WS_URL"
    assert_failure 7
    assert_output --partial 'idle'
}

@test "--reconnect resumes after a server close until --count" {
    ws_py count 2
    # stdout and stderr apart: the "reconnecting" line may land between two
    # messages of the same connection when both go to one pipe
    run bash -c 'timeout 20 "$PW" connect --no-stdin --reconnect=3 --count 4 "$0" 2>"$1"' "$WS_URL" "$BATS_TEST_TMPDIR/err"
    assert_success
    assert_output $'message 1\nmessage 2\nmessage 1\nmessage 2'
    run grep -c 'reconnecting' "$BATS_TEST_TMPDIR/err"
    assert_output 1
}

@test "--compress negotiates permessage-deflate and round-trips" {
    ws_py deflate
    run bash -c '(echo "hello hello hello hello"; echo wörld) | timeout 10 "$PW" connect -v --compress --wait --count 2 "$0" 2>&1' "$WS_URL"
    assert_success
    assert_output --partial '< Sec-WebSocket-Extensions: permessage-deflate'
    assert_output --partial '> text rsv len=11 masked'
    assert_line 'hello hello hello hello'
    assert_line 'wörld'
}

@test "-v shows a compressed frame's message bytes and says it was compressed" {
    ws_py deflate
    run bash -c '(echo "hello hello hello hello"; echo wörld) | timeout 10 "$PW" connect -v --compress --wait --count 2 "$0" 2>&1 >/dev/null' "$WS_URL"
    assert_success
    assert_output --regexp '> text rsv len=[0-9]+ masked compressed, from 23: "hello hello hello hello"'
    assert_output --regexp '< text rsv len=[0-9]+ compressed, inflated to 23: "hello hello hello hello"'
    assert_output --regexp '< text rsv len=[0-9]+ compressed, inflated to 6: "w\\xc3\\xb6rld"'
}

@test "without --compress no extension is offered" {
    ws_py deflate
    run bash -c 'echo plain | timeout 10 "$PW" connect -v --wait --count 1 "$0" 2>&1' "$WS_URL"
    assert_success
    refute_output --partial 'Sec-WebSocket-Extensions'
    assert_line 'plain'
}

@test "handshake URL: prints request and response and the verdict" {
    ws_py proto
    run timeout 10 "$PW" handshake -p chat.v1 "$WS_URL/"
    assert_success
    assert_line '> GET / HTTP/1.1'
    assert_line '> Sec-WebSocket-Protocol: chat.v1'
    assert_line '< HTTP/1.1 101 Switching Protocols'
    assert_line --partial 'ok: 101 Switching Protocols'
    assert_line 'subprotocol: chat.v1'
}

@test "handshake URL --json: a verdict object" {
    ws_py echo
    run timeout 10 "$PW" handshake --json "$WS_URL/x"
    assert_success
    assert_output --regexp '^\{"url":"ws://127\.0\.0\.1:[0-9]+/x","ok":true,"status":101,"request":"GET /x HTTP/1\.1\\r\\n.*"exit":0\}$'
}

@test "handshake URL: a refusal is exit 6, with permessage-deflate offered" {
    ws_py reject
    run timeout 10 "$PW" handshake -e permessage-deflate "$WS_URL/"
    assert_failure 6
    assert_line '> Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'
    assert_line '< HTTP/1.1 403 Forbidden'
    assert_output --partial 'go away: no token'
}
