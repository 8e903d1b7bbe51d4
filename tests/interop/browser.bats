#!/usr/bin/env bats
# browser.bats — Chromium headless (Debian's /usr/bin/chromium, driven by
# playwright-core from npm; no browser download) against `pushwire serve`:
# the embedded page, WebSocket, EventSource with a server-side drop and the
# browser's own reconnect with Last-Event-ID, and a fetch long-poll loop.
# The browser is the reference client.  browser.js holds the scenarios; one
# browser runs them all in setup_file (its start-up is the slow part) and
# each test below checks its scenario's verdict.
load helper

setup_file() {
    # --retry: the browser's reconnect delay after the drop (SSE retry:, ms)
    serve_start --retry 250 --ping 0
    export RESULTS=$BATS_FILE_TMPDIR/browser.out
    timeout 240 "$NODE" "$INTEROP/browser.js" all "$SERVE_PORT" >"$RESULTS" 2>&1 || true
}

teardown_file() {
    serve_stop || true
}

scenario() {
    grep -E "^(ok|FAIL) $1:" "$RESULTS" || { echo "scenario $1 did not run; browser.js said:"; cat "$RESULTS"; return 1; }
    grep -q "^ok $1:" "$RESULTS"
}

@test "browser: the embedded page loads with no external asset and shows a message on all three transports" {
    scenario page
}

@test "browser: WebSocket text and binary between two browser sockets, POST delivery, pushwire.v1 resume, close 1000" {
    scenario websocket
}

@test "browser: EventSource cut by the server side reconnects by itself with Last-Event-ID, nothing lost or repeated" {
    scenario eventsource-drop
}

@test "browser: a fetch long-poll loop with cursors gets every message once, in order" {
    scenario longpoll
}

@test "browser: serve survived the browser sessions and exits 0 on SIGTERM" {
    serve_alive
    serve_stop
}
