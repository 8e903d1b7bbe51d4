#!/usr/bin/env bats
# pushwire connect: wss:// with a throwaway CA, and ws/wss through tinyproxy
# (HTTP CONNECT) and microsocks (SOCKS5 with user and password).
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
}

teardown() { peers_stop; }

wss_py() {
    WS_CERT=$BATS_FILE_TMPDIR/srv.pem WS_KEY=$BATS_FILE_TMPDIR/srv.key ws_py "$@"
    WSS_URL=wss://127.0.0.1:$WS_PORT/
}

# tinyproxy on a free port, allowing CONNECT to any port
tinyproxy_start() {
    local port i
    port=$(free_port)
    cat >"$BATS_TEST_TMPDIR/tp.conf" <<EOC
Port $port
Listen 127.0.0.1
Timeout 30
MaxClients 10
Allow 127.0.0.1
LogLevel Info
EOC
    tinyproxy -d -c "$BATS_TEST_TMPDIR/tp.conf" >"$BATS_TEST_TMPDIR/tp.log" 2>&1 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    HTTP_PROXY_URL=http://127.0.0.1:$port
}

microsocks_start() {
    local port i
    port=$(free_port)
    microsocks -i 127.0.0.1 -p "$port" -u alice -P s3cret >"$BATS_TEST_TMPDIR/ms.log" 2>&1 3>&- &
    PEER_PIDS="${PEER_PIDS:-} $!"
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    SOCKS_PORT=$port
}

@test "wss: verification fails without the CA (exit 5, reason printed)" {
    wss_py echo
    run timeout 10 "$PW" connect --no-stdin "$WSS_URL"
    assert_failure 5
    assert_output --partial "certificate verification failed for '127.0.0.1'"
    assert_output --partial "unable to get local issuer certificate"
    assert_output --partial "give its CA with --cacert FILE; -k (--insecure) skips the check"
}

@test "wss: verification passes with --cacert" {
    wss_py echo
    run bash -c 'echo secure | timeout 10 "$PW" connect --wait --count 1 --cacert "$1" "$0"' "$WSS_URL" "$BATS_FILE_TMPDIR/ca.pem"
    assert_success
    assert_output secure
}

@test "wss: the host name is checked (SNI + name): localhost passes too" {
    wss_py echo
    run bash -c 'echo named | timeout 10 "$PW" connect --wait --count 1 --cacert "$1" "$0"' "wss://localhost:$WS_PORT/" "$BATS_FILE_TMPDIR/ca.pem"
    assert_success
    assert_output named
}

@test "wss: --insecure skips verification" {
    wss_py echo
    run bash -c 'echo unsafe | timeout 10 "$PW" connect --wait --count 1 -k "$0"' "$WSS_URL"
    assert_success
    assert_output unsafe
}

@test "wss: a plain-text server is a TLS failure (exit 5)" {
    ws_py echo
    run timeout 10 "$PW" connect --no-stdin -k "wss://127.0.0.1:$WS_PORT/"
    assert_failure 5
}

@test "--cacert with a missing file is exit 5 naming it" {
    wss_py echo
    run timeout 10 "$PW" connect --no-stdin --cacert /nonexistent.pem "$WSS_URL"
    assert_failure 5
    assert_output --partial "cannot load CA file '/nonexistent.pem'"
}

@test "ws:// through tinyproxy (HTTP CONNECT) with --proxy" {
    ws_py echo
    tinyproxy_start
    run bash -c 'echo proxied | timeout 10 "$PW" connect --wait --count 1 --proxy "$1" "$0"' "$WS_URL/" "$HTTP_PROXY_URL"
    assert_success
    assert_output proxied
    grep -q CONNECT "$BATS_TEST_TMPDIR/tp.log"
}

@test "wss:// through tinyproxy from https_proxy in the environment" {
    wss_py echo
    tinyproxy_start
    run bash -c 'echo envproxy | https_proxy="$1" timeout 10 "$PW" connect --wait --count 1 --cacert "$2" "$0"' "$WSS_URL" "$HTTP_PROXY_URL" "$BATS_FILE_TMPDIR/ca.pem"
    assert_success
    assert_output envproxy
    grep -q CONNECT "$BATS_TEST_TMPDIR/tp.log"
}

@test "no_proxy bypasses the environment proxy" {
    ws_py echo
    p=$(free_port)
    run bash -c 'echo direct | http_proxy="http://127.0.0.1:$1" no_proxy=127.0.0.1 timeout 10 "$PW" connect --wait --count 1 "$0"' "$WS_URL/" "$p"
    assert_success
    assert_output direct
}

@test "ws:// through microsocks (SOCKS5, user and password)" {
    ws_py echo
    microsocks_start
    run bash -c 'echo socks | timeout 10 "$PW" connect --wait --count 1 --proxy "socks5://alice:s3cret@127.0.0.1:$1" "$0"' "$WS_URL/" "$SOCKS_PORT"
    assert_success
    assert_output socks
}

@test "wss:// through microsocks from all_proxy" {
    wss_py echo
    microsocks_start
    run bash -c 'echo socks-tls | all_proxy="socks5h://alice:s3cret@127.0.0.1:$1" timeout 10 "$PW" connect --wait --count 1 --cacert "$2" "$0"' "$WSS_URL" "$SOCKS_PORT" "$BATS_FILE_TMPDIR/ca.pem"
    assert_success
    assert_output socks-tls
}

@test "a wrong SOCKS5 password is exit 4 with the reason" {
    ws_py echo
    microsocks_start
    run timeout 10 "$PW" connect --no-stdin --proxy "socks5://alice:wrong@127.0.0.1:$SOCKS_PORT" "$WS_URL/"
    assert_failure 4
    assert_output --partial "rejected the user and password"
}

# SSE goes through libcurl, which takes the same --proxy and environment
sse_serve() {
    start_serve
    curl -s -d 'one' "$SERVE_URL/pub/px" >/dev/null
    curl -s -d 'two' "$SERVE_URL/pub/px" >/dev/null
}

@test "SSE through tinyproxy with --proxy" {
    sse_serve
    tinyproxy_start
    run timeout 10 "$PW" connect --count 2 --last-event-id 0 --proxy "$HTTP_PROXY_URL" "$SERVE_URL/sse/px"
    stop_serve
    assert_success
    assert_output $'one\ntwo'
    grep -q 'sse/px' "$BATS_TEST_TMPDIR/tp.log"
}

@test "SSE through microsocks (SOCKS5, user and password) from all_proxy" {
    sse_serve
    microsocks_start
    run env all_proxy="socks5://alice:s3cret@127.0.0.1:$SOCKS_PORT" no_proxy= \
        timeout 10 "$PW" connect --count 2 --last-event-id 0 "$SERVE_URL/sse/px"
    assert_success
    assert_output $'one\ntwo'
    # the same with a wrong password fails: the stream really went through the proxy
    run env all_proxy="socks5://alice:wrong@127.0.0.1:$SOCKS_PORT" no_proxy= \
        timeout 10 "$PW" connect --count 2 --last-event-id 0 "$SERVE_URL/sse/px"
    stop_serve
    assert_failure
}
