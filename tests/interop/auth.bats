#!/usr/bin/env bats
# auth.bats — the attack-table rows that need a real browser or many
# sockets (the rest are in tests/cli/serve_auth.bats): Chromium on another
# origin trying a WebSocket, an EventSource and a POST against
# `serve --origin`, and 10 000 connections from one address against
# --max-conns-per-ip.
load helper

PEER="$PY $TOP/tests/cli/auth_peer.py"

teardown() {
    [ -z "${PAGE_PID:-}" ] || kill "$PAGE_PID" 2>/dev/null || true
    serve_teardown
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

@test "browser: a page on another origin cannot open a WebSocket, an EventSource or POST to serve --origin; a page on the allowed origin can" {
    [ -x /usr/bin/chromium ] || missing "/usr/bin/chromium"
    [ -d "$INTEROP/node_modules/playwright-core" ] || missing "playwright-core in tests/interop/node_modules"
    # the allowed origin names the port, so the port is chosen first
    local p
    p=$(free_port)
    SERVE_PORT_WANT=$p serve_start --origin "http://127.0.0.1:$p"
    run timeout 180 "$NODE" "$INTEROP/auth_browser.js" "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_line --partial 'ok allowed: page at http://127.0.0.1'
    assert_line --partial 'ok other-origin: page at http://localhost'
    # the server refused them for their Origin, and the POST published nothing
    [ "$(metric pushwire_refused_total)" = 3 ]
    grep -c 'http reject 403: origin not allowed' "$SERVE_LOG" | grep -qx 3
    run curl -sS --max-time 5 "$SERVE_HTTP/poll/browser-origin?cursor=0&timeout=0"
    assert_output --partial '"data":"x"'
    assert_output --regexp '"cursor":"[a-z0-9]+:1"'
    serve_stop
}

@test "browser: a page on another origin reads WWW-Authenticate of a 401 and Retry-After of a 429 (Access-Control-Expose-Headers)" {
    [ -x /usr/bin/chromium ] || missing "/usr/bin/chromium"
    [ -d "$INTEROP/node_modules/playwright-core" ] || missing "playwright-core in tests/interop/node_modules"
    # without the header fetch's r.headers.get() gave null for both
    local tok=tok-expose-0123456789 pp
    printf '%s\n' "$tok" >"$BATS_TEST_TMPDIR/tok"
    chmod 600 "$BATS_TEST_TMPDIR/tok"
    serve_start --token-file "$BATS_TEST_TMPDIR/tok" --max-conns-per-ip 1 --limit-exempt none
    # the page's origin: another server (its connections are not counted here)
    pp=$(free_port)
    "$PW" serve --listen "127.0.0.1:$pp" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/page.log" 3>&- &
    PAGE_PID=$!
    wait_for grep -q "listening on 127.0.0.1:$pp" "$BATS_TEST_TMPDIR/page.log"
    run timeout 180 "$NODE" "$INTEROP/auth_expose.js" "$pp" "$SERVE_PORT" "$tok"
    kill "$PAGE_PID"
    wait "$PAGE_PID" || true
    echo "$output"
    assert_success
    assert_line --partial 'ok www-authenticate'
    assert_line --partial 'ok retry-after'
    run curl -sSi --max-time 5 "$SERVE_HTTP/sse/x"
    assert_line --partial 'Access-Control-Expose-Headers: Retry-After, WWW-Authenticate'
    serve_stop
}

@test "browser: a page of the one --origin reads a refusal given before any request was read (--max-conns-per-ip: 429, Retry-After), plain and with credentials" {
    [ -x /usr/bin/chromium ] || missing "/usr/bin/chromium"
    [ -d "$INTEROP/node_modules/playwright-core" ] || missing "playwright-core in tests/interop/node_modules"
    # without CORS on it fetch saw a network error: nothing to back off by
    local pp
    pp=$(free_port)
    serve_start --origin "http://127.0.0.1:$pp" --max-conns-per-ip 1 --limit-exempt none --max-conn-rate 0
    "$PW" serve --listen "127.0.0.1:$pp" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/page.log" 3>&- &
    PAGE_PID=$!
    wait_for grep -q "listening on 127.0.0.1:$pp" "$BATS_TEST_TMPDIR/page.log"
    run timeout 180 "$NODE" "$INTEROP/auth_full.js" "$pp" "$SERVE_PORT"
    kill "$PAGE_PID"
    wait "$PAGE_PID" || true
    echo "$output"
    assert_success
    assert_line --partial 'ok fetch:'
    assert_line --partial 'ok fetch-credentials:'
    serve_stop
}

@test "10 000 connections from one address: --max-conns-per-ip (256 by default) lets 256 in and answers the rest 429; serve stays up and small" {
    [ "$(ulimit -n)" -ge 10300 ] || missing "an open-files limit of 10300 (ulimit -n is $(ulimit -n))"
    serve_start --limit-exempt none --max-conn-rate 0
    # one process holds all 10 000 (the limit is 20 000 open files each);
    # the 256 streams that got 200 stay open until every socket is answered
    run $PEER hold "$SERVE_PORT" 10000 /sse/flood 120
    assert_line '200 256'
    assert_line '429 9744'
    [ "${#lines[@]}" = 2 ]
    [ "$(metric 'pushwire_refused_total{reason="conns_per_ip"}')" = 9744 ]
    serve_alive
    rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status")
    [ "$rss" -lt 262144 ] || { echo "peak RSS $rss KiB"; return 1; }
    # all gone again: a new client is let in
    run $PEER ws-status "$SERVE_PORT" /ws/flood
    assert_line --index 0 --partial '101'
    serve_stop
}
