#!/usr/bin/env bats
# pushwire handshake: KEY, --gen-key, --request, --response (SPEC §5).
load helper
bats_require_minimum_version 1.5.0

V=$BATS_TEST_DIRNAME/../vectors/handshake
KEY=dGhlIHNhbXBsZSBub25jZQ==
ACCEPT=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
GUID=258EAFA5-E914-47DA-95CA-C5AB0DC85B11

setup() { T=$(mktemp -d); }
teardown() { [ -z "${PEER_PID:-}" ] || stop_peer; rm -rf "$T"; }

# the accept value computed by openssl(1), independently of pushwire
accept_of() { printf '%s%s' "$1" "$GUID" | openssl sha1 -binary | base64; }
# a field of the JSON object on stdin, printed as JSON
jget() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1]]))' "$1"; }
# the RFC 6455 example request with field $1 replaced by line $2 (empty: dropped)
rfc_req_with() {
    local line
    while IFS= read -r line; do
        line=${line%$'\r'}
        [ -n "$line" ] || continue
        case $line in
        "$1"*) [ -z "$2" ] || printf '%s\r\n' "$2" ;;
        *) printf '%s\r\n' "$line" ;;
        esac
    done <"$V/rfc6455.req"
    printf '\r\n'
}
# --request on stdin must refuse with exit 3, status $1 and a message matching $2
refused() {
    run --separate-stderr "$PW" handshake --request
    assert_failure 3
    assert_line --index 0 "HTTP/1.1 $1"$'\r'
    [[ $stderr == *"$2"* ]] || fail "stderr '$stderr' lacks '$2'"
}

# ---- KEY ----

@test "KEY: the RFC 6455 example key gives its accept value" {
    run pw handshake "$KEY"
    assert_success
    assert_output "$ACCEPT"
}

@test "KEY: accept values agree with openssl for generated keys" {
    for i in 1 2 3; do
        k=$("$PW" handshake --gen-key)
        run pw handshake "$k"
        assert_success
        assert_output "$(accept_of "$k")"
    done
}

@test "KEY: -v shows what is hashed" {
    run --separate-stderr "$PW" handshake -v "$KEY"
    assert_success
    assert_output "$ACCEPT"
    [[ $stderr == *"\"$KEY\" \"$GUID\""* ]]
}

@test "KEY: a key of 15 bytes is exit 3 with the reason and the rule" {
    run --separate-stderr "$PW" handshake AAAAAAAAAAAAAAAAAAAA
    assert_failure 3
    assert_output ''
    [[ $stderr == *"pushwire handshake: key 'AAAAAAAAAAAAAAAAAAAA'"*"16 bytes"*"4.2.1 item 5"*"--lenient"* ]]
}

@test "KEY: a key that is not base64 is exit 3" {
    run --separate-stderr "$PW" handshake 'dGhlIHNhbXBsZSBub25jZQ!!'
    assert_failure 3
    [[ $stderr == *"not valid base64"* ]]
}

@test "KEY: unpadded base64 is refused" {
    run pw handshake dGhlIHNhbXBsZSBub25jZQ
    assert_failure 3
}

@test "KEY: the refusal says what is wrong with a key that is almost right" {
    run --separate-stderr "$PW" handshake dGhlIHNhbXBsZSBub25jZQ
    assert_failure 3
    [[ $stderr == *"not valid base64: the '=' padding is missing (16 bytes are 24 characters ending in '==') (RFC 6455 §4.2.1 item 5)"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake dGhlIHNhbXBsZSBub25jZQ=
    [[ $stderr == *"the '=' padding is missing"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake 'dGhlIHNhbXBsZSBub25jZQ== '
    [[ $stderr == *"not valid base64: it contains whitespace"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake dGhlIHNhbXBsZSBub25jZQ-_
    [[ $stderr == *"'-' and '_' are base64url"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake dGhlIHNhbXBsZSBub25jZR==
    [[ $stderr == *"sets bits past the 16 bytes"* ]] || fail "stderr: $stderr"
    # --response checks its KEY the same way
    run --separate-stderr "$PW" handshake --response dGhlIHNhbXBsZSBub25jZQ </dev/null
    assert_failure 3
    [[ $stderr == *"the '=' padding is missing"* ]] || fail "stderr: $stderr"
}

@test "KEY --lenient: computes anyway, warns, exit 0" {
    run --separate-stderr "$PW" handshake --lenient hello
    assert_success
    assert_output "$(accept_of hello)"
    [[ $stderr == *"warning: key 'hello'"* ]]
}

@test "KEY --lenient -q: no warning" {
    run --separate-stderr "$PW" handshake --lenient -q hello
    assert_success
    assert_equal "$stderr" ''
}

@test "KEY --json: valid key" {
    run pw handshake --json "$KEY"
    assert_success
    assert_output "{\"valid\":true,\"key\":\"$KEY\",\"accept\":\"$ACCEPT\"}"
}

@test "KEY --json: bad key names the error, the rule and the code" {
    run --separate-stderr "$PW" handshake --json AAAA
    assert_failure 3
    assert_equal "$(jget valid <<<"$output")" false
    assert_equal "$(jget rule <<<"$output")" '"RFC 6455 \u00a74.2.1 item 5"'
    assert_equal "$(jget code <<<"$output")" '"PW_EHS_KEY_LEN"'
    run jget accept <<<"$output"
    assert_failure
}

@test "KEY --json --lenient: accept present, valid false" {
    run --separate-stderr "$PW" handshake --json --lenient AAAA
    assert_success
    assert_equal "$(jget valid <<<"$output")" false
    assert_equal "$(jget accept <<<"$output")" "\"$(accept_of AAAA)\""
}

# ---- --gen-key ----

@test "--gen-key: 24 characters of base64 that decode to 16 bytes" {
    run pw handshake --gen-key
    assert_success
    assert_output --regexp '^[A-Za-z0-9+/]{22}==$'
    assert_equal "$(printf '%s' "$output" | base64 -d | wc -c)" 16
    run pw handshake "$output"
    assert_success
}

@test "--gen-key: differs between runs" {
    a=$("$PW" handshake --gen-key)
    b=$("$PW" handshake -g)
    [ "$a" != "$b" ]
}

@test "--gen-key --json: the key and its accept value" {
    run pw handshake --gen-key --json
    assert_success
    k=$(jget key <<<"$output" | tr -d '"')
    assert_equal "$(jget accept <<<"$output")" "\"$(accept_of "$k")\""
}

@test "--gen-key takes no operand" {
    run --separate-stderr "$PW" handshake --gen-key "$KEY"
    assert_failure 2
    [[ $stderr == *"--gen-key takes no operand"* ]]
}

# ---- --request ----

@test "--request FILE: the RFC example gets the exact 101 response" {
    "$PW" handshake --request "$V/rfc6455.req" >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
}

@test "--request from stdin: a browser request, byte-exact answer" {
    "$PW" handshake --request <"$V/chromium.req" >"$T/out"
    printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' \
        "$(accept_of x3JJHMbDL1EzLkh9GBhXDw==)" >"$T/want"
    cmp "$T/out" "$T/want"
}

@test "--request -: dash is stdin" {
    "$PW" handshake --request - <"$V/rfc6455.req" >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
}

@test "--request: bare LF line endings are accepted" {
    tr -d '\r' <"$V/rfc6455.req" >"$T/lf.req"
    "$PW" handshake --request "$T/lf.req" >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
}

@test "--request: a head without its final empty line is complete at EOF" {
    head -c -2 "$V/rfc6455.req" >"$T/short.req"
    "$PW" handshake --request "$T/short.req" >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
    tr -d '\r' <"$V/rfc6455.req" | head -c -2 | "$PW" handshake --request >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
}

@test "--request --subprotocol: picks the server's first choice the client offered" {
    run pw handshake -p superchat -p chat --request "$V/rfc6455.req"
    assert_success
    assert_line --index 4 $'Sec-WebSocket-Protocol: superchat\r'
    run pw handshake -p other -p chat --request "$V/rfc6455.req"
    assert_line --index 4 $'Sec-WebSocket-Protocol: chat\r'
}

@test "--request --subprotocol: none offered, none named" {
    "$PW" handshake -p other --request "$V/rfc6455.req" >"$T/out"
    cmp "$T/out" "$V/rfc6455.101"
}

@test "--request -v: the request fields and the offers on stderr" {
    run --separate-stderr "$PW" handshake -v --request "$V/chromium.req"
    assert_success
    [[ $stderr == *"> GET /ws/news HTTP/1.1"* ]]
    [[ $stderr == *"> Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw=="* ]]
    [[ $stderr == *"* extension offered: permessage-deflate; client_max_window_bits"* ]]
    [[ $stderr == *"* origin: http://127.0.0.1:8080"* ]]
}

@test "--request --json: valid request" {
    run pw handshake --json -p chat --request "$V/rfc6455.req"
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_equal "$(jget valid <<<"$output")" true
    assert_equal "$(jget status <<<"$output")" 101
    assert_equal "$(jget accept <<<"$output")" "\"$ACCEPT\""
    assert_equal "$(jget origin <<<"$output")" '"http://example.com"'
    assert_equal "$(jget protocols <<<"$output")" '["chat", "superchat"]'
    assert_equal "$(jget protocol <<<"$output")" '"chat"'
    assert_equal "$(jget extensions <<<"$output")" '[]'
    assert_equal "$(jget response <<<"$output")" \
        "\"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: $ACCEPT\\r\\nSec-WebSocket-Protocol: chat\\r\\n\\r\\n\""
}

@test "--request --json: extensions with parameters" {
    run pw handshake --json --request "$V/chromium.req"
    assert_success
    assert_equal "$(jget extensions <<<"$output")" \
        '[{"name": "permessage-deflate", "params": [{"name": "client_max_window_bits", "value": null}]}]'
    assert_equal "$(jget origin <<<"$output")" '"http://127.0.0.1:8080"'
    assert_equal "$(jget protocol <<<"$output")" null
}

@test "--request --json: refused request" {
    run --separate-stderr "$PW" handshake --json --request < <(rfc_req_with 'Sec-WebSocket-Version' 'Sec-WebSocket-Version: 8')
    assert_failure 3
    assert_equal "$(jget valid <<<"$output")" false
    assert_equal "$(jget status <<<"$output")" 426
    assert_equal "$(jget rule <<<"$output")" '"RFC 6455 \u00a74.2.1 item 6"'
    assert_equal "$(jget code <<<"$output")" '"PW_EHS_WS_VERSION"'
}

@test "rule: method POST is 400, item 1" {
    refused '400 Bad Request' '§4.2.1 item 1: method is not GET' < <(rfc_req_with 'GET' 'POST /chat HTTP/1.1')
}

@test "rule: HTTP/1.0 is 400, item 1" {
    refused '400 Bad Request' '§4.2.1 item 1' < <(rfc_req_with 'GET' 'GET /chat HTTP/1.0')
}

@test "rule: asterisk-form target is 400" {
    refused '400 Bad Request' 'request breaks' < <(rfc_req_with 'GET' 'GET * HTTP/1.1')
}

@test "rule: Host missing is 400" {
    refused '400 Bad Request' 'Host' < <(rfc_req_with 'Host' '')
}

@test "rule: Upgrade missing is 400, item 3" {
    refused '400 Bad Request' '§4.2.1 item 3' < <(rfc_req_with 'Upgrade' '')
}

@test "rule: Upgrade other than websocket is 400, item 3" {
    refused '400 Bad Request' '§4.2.1 item 3' < <(rfc_req_with 'Upgrade' 'Upgrade: h2c')
}

@test "rule: Connection without Upgrade is 400, item 4" {
    refused '400 Bad Request' '§4.2.1 item 4' < <(rfc_req_with 'Connection' 'Connection: keep-alive')
}

@test "rule: key missing is 400, item 5" {
    refused '400 Bad Request' '§4.2.1 item 5: Sec-WebSocket-Key missing' < <(rfc_req_with 'Sec-WebSocket-Key' '')
}

@test "rule: key too short is 400, item 5" {
    refused '400 Bad Request' 'does not decode to 16 bytes' < <(rfc_req_with 'Sec-WebSocket-Key' 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA')
}

@test "rule: key not base64 is 400, item 5" {
    refused '400 Bad Request' 'not valid base64' < <(rfc_req_with 'Sec-WebSocket-Key' 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ**')
}

@test "rule: version 8 is 426 with Sec-WebSocket-Version: 13, item 6" {
    rfc_req_with 'Sec-WebSocket-Version' 'Sec-WebSocket-Version: 8' >"$T/v8.req"
    run --separate-stderr "$PW" handshake --request "$T/v8.req"
    assert_failure 3
    printf 'HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n' >"$T/want"
    "$PW" handshake -q --request "$T/v8.req" >"$T/out" || true
    cmp "$T/out" "$T/want"
    [[ $stderr == *"request breaks RFC 6455 §4.2.1 item 6: Sec-WebSocket-Version is not 13"* ]]
}

@test "rule: version missing is 426" {
    refused '426 Upgrade Required' 'item 6' < <(rfc_req_with 'Sec-WebSocket-Version' '')
}

@test "rule: a repeated subprotocol is 400" {
    refused '400 Bad Request' 'Sec-WebSocket-Protocol' < <(rfc_req_with 'Sec-WebSocket-Protocol' 'Sec-WebSocket-Protocol: chat, chat')
}

@test "rule: a malformed extension header is 400, §9.1" {
    refused '400 Bad Request' '§9.1' < <(rfc_req_with 'Origin' 'Sec-WebSocket-Extensions: permessage-deflate; x="a b"')
}

@test "--request: a 400 refusal is exact" {
    rfc_req_with 'GET' 'PUT /chat HTTP/1.1' >"$T/put.req"
    "$PW" handshake -q --request "$T/put.req" >"$T/out" || true
    printf 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' >"$T/want"
    cmp "$T/out" "$T/want"
}

@test "--request: empty input is exit 3" {
    run --separate-stderr "$PW" handshake --request </dev/null
    assert_failure 3
    [[ $stderr == *"empty input"* ]]
}

@test "--request: a head beyond 64 KiB is 431" {
    { printf 'GET / HTTP/1.1\r\n'; for i in $(seq 1 3000); do printf 'X-Filler-%d: %s\r\n' "$i" aaaaaaaaaaaaaaaaaaaaaaa; done; } >"$T/big.req"
    run --separate-stderr "$PW" handshake --request "$T/big.req"
    assert_failure 3
    assert_line --index 0 $'HTTP/1.1 431 Request Header Fields Too Large\r'
}

@test "--request: a bare CR is refused" {
    printf 'GET / HTTP/1.1\rHost: a\r\n\r\n' >"$T/cr.req"
    run --separate-stderr "$PW" handshake --request "$T/cr.req"
    assert_failure 3
    assert_line --index 0 $'HTTP/1.1 400 Bad Request\r'
}

# ---- --response ----

@test "--response: the RFC example response is valid" {
    run pw handshake --response "$KEY" "$V/rfc6455.resp"
    assert_success
    assert_line --index 0 'valid response: Sec-WebSocket-Accept matches the key'
    assert_line --index 1 'subprotocol: chat'
}

@test "--response from stdin, bare LF" {
    run pw handshake --response "$KEY" < <(tr -d '\r' <"$V/rfc6455.101")
    assert_success
    assert_output 'valid response: Sec-WebSocket-Accept matches the key'
}

@test "--response: wrong accept is exit 3 with the expected value" {
    run --separate-stderr "$PW" handshake --response AAAAAAAAAAAAAAAAAAAAAA== "$V/rfc6455.101"
    assert_failure 3
    [[ $stderr == *"RFC 6455 §4.1: Sec-WebSocket-Accept does not match the key (expected '$(accept_of AAAAAAAAAAAAAAAAAAAAAA==)')"* ]]
}

@test "--response: a missing or repeated Sec-WebSocket-Accept is named as such, not as a mismatch" {
    grep -v '^Sec-WebSocket-Accept' "$V/rfc6455.101" >"$T/noacc"
    run --separate-stderr "$PW" handshake --response "$KEY" "$T/noacc"
    assert_failure 3
    [[ $stderr == *"RFC 6455 §4.1: Sec-WebSocket-Accept missing or repeated"* ]] || fail "$stderr"
    [[ $stderr != *"does not match"* ]] || fail "$stderr"
    { head -c -2 "$V/rfc6455.101"; printf 'Sec-WebSocket-Accept: %s\r\n\r\n' "$ACCEPT"; } >"$T/twoacc"
    run --separate-stderr "$PW" handshake --json --response "$KEY" "$T/twoacc"
    assert_failure 3
    assert_equal "$(jget code <<<"$output")" '"PW_EHS_ACCEPT_MISSING"'
    assert_equal "$(jget error <<<"$output")" '"Sec-WebSocket-Accept missing or repeated"'
}

@test "--response: a status other than 101 is exit 6 with the body" {
    printf 'HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden' >"$T/403"
    run --separate-stderr "$PW" handshake --response "$KEY" "$T/403"
    assert_failure 6
    assert_output 'forbidden'
    [[ $stderr == *"server answered 403 Forbidden, not 101 Switching Protocols"* ]]
}

@test "--response: missing Upgrade is exit 3" {
    grep -v '^Upgrade' "$V/rfc6455.101" >"$T/noupg"
    run --separate-stderr "$PW" handshake --response "$KEY" "$T/noupg"
    assert_failure 3
    [[ $stderr == *"§4.1: Upgrade header"* ]]
}

@test "--response: missing Connection is exit 3" {
    grep -v '^Connection' "$V/rfc6455.101" >"$T/noconn"
    run pw handshake --response "$KEY" "$T/noconn"
    assert_failure 3
}

@test "--response --subprotocol: a subprotocol the client did not offer" {
    run pw handshake -p chat --response "$KEY" "$V/rfc6455.resp"
    assert_success
    run --separate-stderr "$PW" handshake -p superchat --response "$KEY" "$V/rfc6455.resp"
    assert_failure 3
    [[ $stderr == *"subprotocol the client did not offer"* ]]
}

@test "--response --extension: an extension the client did not offer" {
    { head -c -2 "$V/rfc6455.101"; printf 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n'; } >"$T/ext"
    run pw handshake -e permessage-deflate --response "$KEY" "$T/ext"
    assert_success
    assert_line --index 1 'extension: permessage-deflate; server_no_context_takeover'
    run --separate-stderr "$PW" handshake -e x-webkit-deflate-frame --response "$KEY" "$T/ext"
    assert_failure 3
    [[ $stderr == *"extension the client did not offer"* ]]
}

@test "--response -v: the response fields on stderr" {
    run --separate-stderr "$PW" handshake -v --response "$KEY" "$V/rfc6455.101"
    assert_success
    [[ $stderr == *"< HTTP/1.1 101 Switching Protocols"* ]]
    [[ $stderr == *"< Sec-WebSocket-Accept: $ACCEPT"* ]]
}

@test "--response --json: valid and invalid shapes" {
    run pw handshake --json --response "$KEY" "$V/rfc6455.resp"
    assert_success
    assert_output "{\"valid\":true,\"status\":101,\"key\":\"$KEY\",\"accept\":\"$ACCEPT\",\"protocol\":\"chat\",\"extensions\":[]}"
    printf 'HTTP/1.1 404 Not Found\r\n\r\n' >"$T/404"
    run --separate-stderr "$PW" handshake --json --response "$KEY" "$T/404"
    assert_failure 6
    assert_equal "$(jget status <<<"$output")" 404
    assert_equal "$(jget code <<<"$output")" '"PW_EHS_STATUS"'
    printf 'nonsense\r\n\r\n' >"$T/junk"
    run --separate-stderr "$PW" handshake --json --response "$KEY" "$T/junk"
    assert_failure 3
    assert_equal "$(jget status <<<"$output")" null
    assert_equal "$(jget valid <<<"$output")" false
}

@test "--response: a bad KEY is exit 3 unless --lenient" {
    run --separate-stderr "$PW" handshake --response short "$V/rfc6455.101"
    assert_failure 3
    [[ $stderr == *"key 'short'"* ]]
    run --separate-stderr "$PW" handshake --lenient --response short "$V/rfc6455.101"
    assert_failure 3
    [[ $stderr == *"does not match"* ]]
}

@test "--response --json: a refused KEY still prints the verdict object" {
    run --separate-stderr "$PW" handshake --json --response short "$V/rfc6455.101"
    assert_failure 3
    assert_output '{"valid":false,"status":null,"key":"short","error":"Sec-WebSocket-Key is not valid base64","rule":"RFC 6455 §4.2.1 item 5","code":"PW_EHS_KEY_B64"}'
    [[ $stderr == *"key 'short'"* ]]
    run --separate-stderr "$PW" handshake -q --json --response AAAA "$V/rfc6455.101"
    assert_failure 3
    assert_equal "$(jget code <<<"$output")" '"PW_EHS_KEY_LEN"'
    assert_equal "$(jget key <<<"$output")" '"AAAA"'
}

@test "URL --json: with no response, status and rule are null as in the offline modes" {
    run --separate-stderr "$PW" handshake --json ws://127.0.0.1:1/x
    assert_failure 4
    assert_equal "$(jget status <<<"$output")" null
    assert_equal "$(jget rule <<<"$output")" null
    assert_equal "$(jget exit <<<"$output")" 4
    [[ $(jget error <<<"$output") == *"connection refused"* ]]
}

# reply_peer HEX [MODE] — starts tests/cli/reply_peer.py, sets PEER_PID, PEER_PORT
reply_peer() {
    coproc PEER { exec /usr/bin/python3 "$BATS_TEST_DIRNAME/reply_peer.py" "$@"; }
    PEER_PID=$PEER_PID
    read -r -t 5 PEER_PORT <&"${PEER[0]}" || fail "reply_peer did not start"
}
stop_peer() { kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null || true; }

@test "URL: an answer that is not HTTP is shown as it came, and --json keeps it" {
    # an SSH server behind the port: the user must see what it said
    reply_peer "$(printf 'SSH-2.0-OpenSSH_9.6\r\n' | od -An -tx1)"
    run --separate-stderr "$PW" handshake "ws://127.0.0.1:$PEER_PORT/"
    assert_failure 3
    assert_line '< SSH-2.0-OpenSSH_9.6'
    [[ $stderr == *"malformed handshake response"*"(RFC 9112 §2.3)"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake --json "ws://127.0.0.1:$PEER_PORT/"
    stop_peer
    assert_failure 3
    assert_equal "$(jget response <<<"$output")" '"SSH-2.0-OpenSSH_9.6\r\n"'
    assert_equal "$(jget status <<<"$output")" null
}

@test "URL: a TLS server behind ws:// is shown escaped, with a hint to use wss://" {
    # a TLS alert record, then a byte that is not UTF-8 and one that is
    reply_peer '15 03 01 00 02 02 28 ff c3 a9'
    run --separate-stderr "$PW" handshake "ws://127.0.0.1:$PEER_PORT/"
    stop_peer
    assert_failure 3
    assert_line '< \x15\x03\x01\x00\x02\x02(\xffé'
    [[ $stderr == *"the answer is a TLS record: try wss://"* ]] || fail "stderr: $stderr"
}

@test "URL: a redirect is exit 6 and the error names where it leads" {
    reply_peer "$(printf 'HTTP/1.1 301 Moved Permanently\r\nlocation:  wss://example.com/ws \r\nContent-Length: 0\r\n\r\n' | od -An -tx1)"
    run --separate-stderr "$PW" handshake "ws://127.0.0.1:$PEER_PORT/"
    assert_failure 6
    assert_line '< location:  wss://example.com/ws '
    [[ $stderr == *"server answered 301 instead of 101; it redirects to 'wss://example.com/ws', which is not followed"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" handshake --json "ws://127.0.0.1:$PEER_PORT/"
    stop_peer
    assert_failure 6
    [[ $(jget error <<<"$output") == *"redirects to 'wss://example.com/ws'"* ]] || fail "$output"
}

@test "--response: empty input is exit 3" {
    run --separate-stderr "$PW" handshake --response "$KEY" </dev/null
    assert_failure 3
}

# ---- usage and files ----

@test "unknown option: exit 2 with a suggestion" {
    run --separate-stderr "$PW" handshake --requst
    assert_failure 2
    [[ $stderr == *"unknown option '--requst'; did you mean '--request'?"* ]]
}

@test "missing argument to --response: exit 2" {
    run --separate-stderr "$PW" handshake --response
    assert_failure 2
    [[ $stderr == *"'--response' needs an argument"* ]]
}

@test "nothing to do: exit 2" {
    run --separate-stderr "$PW" handshake
    assert_failure 2
    [[ $stderr == *"nothing to do"* ]]
}

@test "two KEYs: exit 2" {
    run pw handshake "$KEY" "$KEY"
    assert_failure 2
}

@test "--request and --response together: exit 2" {
    run pw handshake --request --response "$KEY"
    assert_failure 2
}

@test "--request with two files: exit 2" {
    run pw handshake --request "$V/rfc6455.req" "$V/rfc6455.req"
    assert_failure 2
}

@test "--subprotocol with a bad name: exit 2 naming the option" {
    run --separate-stderr "$PW" handshake --subprotocol='a b' --request "$V/rfc6455.req"
    assert_failure 2
    [[ $stderr == *"bad value for --subprotocol: 'a b' is not a subprotocol name"* ]]
}

@test "--extension without --response, --lenient with --request: exit 2" {
    run pw handshake -e x --request "$V/rfc6455.req"
    assert_failure 2
    run pw handshake --lenient --request "$V/rfc6455.req"
    assert_failure 2
    run pw handshake -p chat "$KEY"
    assert_failure 2
}

@test "nonexistent file: exit 1 naming the file" {
    run --separate-stderr "$PW" handshake --request "$T/nope.req"
    assert_failure 1
    [[ $stderr == *"cannot open '$T/nope.req': No such file or directory"* ]]
    run --separate-stderr "$PW" handshake --response "$KEY" "$T/nope"
    assert_failure 1
    [[ $stderr == *"'$T/nope'"* ]]
}

@test "a directory as FILE: exit 1 naming it" {
    run --separate-stderr "$PW" handshake --request "$T"
    assert_failure 1
    [[ $stderr == *"'$T'"* ]]
}

@test "--help: usage and every mode" {
    run pw handshake --help
    assert_success
    assert_output --partial 'usage: pushwire handshake'
    assert_output --partial '--gen-key'
    assert_output --partial '--response KEY'
}
