#!/usr/bin/env bats
# pushwire connect: what curl, wscat and websocat users reach for — client
# certificates (mutual TLS) over wss:// and https://, --unix-socket for
# every transport, -0/--null — plus ids kept whole and --ping's two
# intervals, against small python peers (tests/interop/client_peer.py).
load connect_helper

setup_file() {
    d=$BATS_FILE_TMPDIR
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" \
        -days 2 -subj "/CN=pushwire test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/srv.key" -out "$d/srv.csr" \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/ext"
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/srv.pem" -days 2 -extfile "$d/ext" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/cli.key" -out "$d/cli.csr" \
        -subj "/CN=pushwire test client" 2>/dev/null
    openssl x509 -req -in "$d/cli.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/cli.pem" -days 2 2>/dev/null
    cat "$d/cli.pem" "$d/cli.key" >"$d/cli-both.pem"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/other.key" -out /dev/null \
        -subj "/CN=other" 2>/dev/null
}

teardown() { peers_stop; }

# peer MODE [ARGS] — client_peer.py on a free port (or --unix PATH)
peer() { peer_start P "$PY" "$INTEROP/client_peer.py" "$@"; }

# peer_mtls MODE — TLS, a client certificate signed by the test CA required
peer_mtls() {
    local d=$BATS_FILE_TMPDIR
    peer "$1" --tls "$d/srv.pem" "$d/srv.key" --client-ca "$d/ca.pem"
}

cli() { echo "--cacert $BATS_FILE_TMPDIR/ca.pem --cert $BATS_FILE_TMPDIR/cli.pem --key $BATS_FILE_TMPDIR/cli.key"; }

# ---- mutual TLS ----

@test "wss with --cert and --key: the server sees the client certificate" {
    peer_mtls ws
    # shellcheck disable=SC2046
    run bash -c 'echo hi | timeout 10 "$PW" connect $1 --count 2 "$0"' "wss://127.0.0.1:$P_PORT/" "$(cli)"
    assert_success
    assert_output $'client pushwire test client\nhi'
}

@test "wss: --cert alone reads the key from the same file" {
    peer_mtls ws
    run timeout 10 "$PW" connect --no-stdin --count 1 --cacert "$BATS_FILE_TMPDIR/ca.pem" \
        --cert "$BATS_FILE_TMPDIR/cli-both.pem" "wss://localhost:$P_PORT/"
    assert_success
    assert_output 'client pushwire test client'
}

@test "wss: without a client certificate the server hangs up: exit 5, and what to do" {
    peer_mtls ws
    run timeout 10 "$PW" connect --no-stdin --reconnect --count 1 --cacert "$BATS_FILE_TMPDIR/ca.pem" "wss://127.0.0.1:$P_PORT/"
    assert_failure 5
    assert_output --partial "'127.0.0.1' asked for a client certificate and closed the connection without an answer (give one with --cert)"
    refute_output --partial 'reconnecting'
}

@test "wss: a key that does not belong to the certificate is exit 5, named" {
    peer_mtls ws
    run timeout 10 "$PW" connect --no-stdin --reconnect --cacert "$BATS_FILE_TMPDIR/ca.pem" \
        --cert "$BATS_FILE_TMPDIR/cli.pem" --key "$BATS_FILE_TMPDIR/other.key" "wss://127.0.0.1:$P_PORT/"
    assert_failure 5
    assert_output --partial "cannot use the client key '$BATS_FILE_TMPDIR/other.key'"
    refute_output --partial 'reconnecting'
}

@test "https SSE with --cert and --key: the server sees the client certificate" {
    peer_mtls sse
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --count 1 $(cli) "https://127.0.0.1:$P_PORT/"
    assert_success
    assert_output 'lei=none client=pushwire test client'
}

@test "https SSE: without a client certificate the server hangs up: exit 5, and what to do" {
    peer_mtls sse
    run timeout 10 "$PW" connect --reconnect --count 1 --cacert "$BATS_FILE_TMPDIR/ca.pem" "https://127.0.0.1:$P_PORT/"
    assert_failure 5
    assert_output --partial 'the server asked for a client certificate and closed the connection without an answer (give one with --cert)'
    refute_output --partial 'reconnecting'
}

@test "https SSE: a key that does not belong to the certificate is exit 5" {
    peer_mtls sse
    run timeout 10 "$PW" connect --count 1 --cacert "$BATS_FILE_TMPDIR/ca.pem" \
        --cert "$BATS_FILE_TMPDIR/cli.pem" --key "$BATS_FILE_TMPDIR/other.key" "https://127.0.0.1:$P_PORT/"
    assert_failure 5
}

@test "https --poll with --cert and --key" {
    peer_mtls poll
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --poll --count 1 $(cli) "https://127.0.0.1:$P_PORT/"
    assert_success
    assert_output 'polled client=pushwire test client'
}

# ---- --unix-socket ----

@test "--unix-socket: WebSocket over a Unix socket" {
    peer ws --unix "$BATS_TEST_TMPDIR/ws.sock"
    run bash -c 'echo hi | timeout 10 "$PW" connect -v --unix-socket "$0" ws://localhost/chat 2>&1' "$BATS_TEST_TMPDIR/ws.sock"
    assert_success
    assert_line hi
    assert_line '> GET /chat HTTP/1.1'
    assert_line '> Host: localhost'
}

@test "--unix-socket: SSE and --poll over a Unix socket" {
    peer sse --unix "$BATS_TEST_TMPDIR/sse.sock"
    run timeout 10 "$PW" connect --count 1 --unix-socket "$BATS_TEST_TMPDIR/sse.sock" http://localhost/events
    assert_success
    assert_output 'lei=none client=-'
    peers_stop
    peer poll --unix "$BATS_TEST_TMPDIR/poll.sock"
    run timeout 10 "$PW" connect --poll --count 1 --unix-socket "$BATS_TEST_TMPDIR/poll.sock" http://localhost/poll
    assert_success
    assert_output 'polled client=-'
}

@test "--unix-socket: wss:// over a Unix socket checks the URL's host name" {
    peer ws --unix "$BATS_TEST_TMPDIR/wss.sock" --tls "$BATS_FILE_TMPDIR/srv.pem" "$BATS_FILE_TMPDIR/srv.key"
    run bash -c 'echo secure | timeout 10 "$PW" connect --unix-socket "$0" --cacert "$1" wss://localhost/' \
        "$BATS_TEST_TMPDIR/wss.sock" "$BATS_FILE_TMPDIR/ca.pem"
    assert_success
    assert_output secure
    run timeout 10 "$PW" connect --no-stdin --unix-socket "$BATS_TEST_TMPDIR/wss.sock" \
        --cacert "$BATS_FILE_TMPDIR/ca.pem" wss://example.org/
    assert_failure 5
}

@test "--unix-socket ignores proxies from the environment, as curl does" {
    peer ws --unix "$BATS_TEST_TMPDIR/ws.sock"
    run bash -c 'echo hi | http_proxy=http://127.0.0.1:1 timeout 10 "$PW" connect --unix-socket "$0" ws://localhost/' "$BATS_TEST_TMPDIR/ws.sock"
    assert_success
    assert_output hi
}

@test "--unix-socket: no such socket is exit 4, naming it" {
    run timeout 10 "$PW" connect --no-stdin --unix-socket "$BATS_TEST_TMPDIR/none.sock" ws://localhost/
    assert_failure 4
    assert_output --partial "cannot connect to Unix socket '$BATS_TEST_TMPDIR/none.sock'"
}

# ---- -0 / --null ----

@test "-0: NUL-delimited messages in and out, so they may hold newlines" {
    ws_py echo
    run bash -c 'printf "a\nb\0c\r\0" | timeout 10 "$PW" connect -0 --count 2 "$0" | od -An -c | tr -s " "' "$WS_URL/"
    assert_success
    assert_output ' a \n b \0 c \r \0'
}

@test "--null --json: each JSON object ends with NUL" {
    ws_py echo
    run bash -c 'printf "x\ny" | timeout 10 "$PW" connect --null --json --count 1 "$0" | tr "\0" "|"' "$WS_URL/"
    assert_success
    assert_output '{"id":null,"event":"message","data":"x\ny","type":"text"}|'
}

# ---- ids, --ping ----

@test "a 5000-byte SSE id is kept whole: Last-Event-ID, --cursor-file and %{last_id}" {
    peer sse --id-len 5000
    run bash -c 'timeout 20 "$PW" connect --reconnect --count 2 --cursor-file "$1" -w "%{last_id}" "$0" 2>/dev/null' \
        "http://127.0.0.1:$P_PORT/" "$BATS_TEST_TMPDIR/cur"
    assert_success
    assert_line --index 0 'lei=none client=-'
    assert_line --index 1 'lei=5000 client=-'
    [ "${#lines[2]}" -eq 5000 ]
    run awk '{ print length($0) }' "$BATS_TEST_TMPDIR/cur"
    assert_output 5000
}

@test "--ping: a peer that stops answering is dead after two intervals (exit 8)" {
    peer silent
    run timeout 10 "$PW" connect --no-stdin --ping 0.2 "ws://127.0.0.1:$P_PORT/"
    assert_failure 8
    assert_output --partial 'no pong within 0.4 s; the connection is dead'
}
