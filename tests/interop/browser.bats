#!/usr/bin/env bats
# browser.bats — Chromium headless (Debian's /usr/bin/chromium, driven by
# playwright-core from npm; no browser download) against `pushwire serve`:
# the embedded page (its channel, backlog, drop and resume, the gap signal,
# the metrics sparklines), WebSocket, EventSource with a server-side drop and
# the browser's own reconnect with Last-Event-ID, and a fetch long-poll loop.
# The browser is the reference client.  browser.js holds the scenarios; one
# browser runs them all in setup_file (its start-up is the slow part) and
# each test below checks its scenario's verdict.
load helper

setup_file() {
    # a second server whose backlog is 2 messages, for the page's gap signal
    serve_start --retry 250 --ping 0 --backlog 2
    export GAP_PID=$SERVE_PID GAP_PORT=$SERVE_PORT GAP_LOG=$SERVE_LOG
    # --retry: the browser's reconnect delay after the drop (SSE retry:, ms);
    # --channel: the channel the page watches without ?channel=
    export PAGE_CHANNEL=pagedemo
    serve_start --retry 250 --ping 0 --channel "$PAGE_CHANNEL"
    export RESULTS=${BROWSER_RESULTS:-$BATS_FILE_TMPDIR/browser.out}
    timeout 300 "$NODE" "$INTEROP/browser.js" all "$SERVE_PORT" >"$RESULTS" 2>&1 || true
}

# gap_serve CMD — runs a serve_* helper on the --backlog 2 server
gap_serve() {
    local pid=$SERVE_PID log=$SERVE_LOG rc=0
    SERVE_PID=$GAP_PID SERVE_LOG=$GAP_LOG
    "$@" || rc=$?
    GAP_PID=$SERVE_PID
    SERVE_PID=$pid SERVE_LOG=$log
    return $rc
}

teardown_file() {
    serve_stop || true
    gap_serve serve_stop || true
}

scenario() {
    grep -E "^(ok|FAIL) $1:" "$RESULTS" || { echo "scenario $1 did not run; browser.js said:"; cat "$RESULTS"; return 1; }
    grep -q "^ok $1:" "$RESULTS"
}

@test "browser: the embedded page loads with no external asset, watches serve's --channel with its backlog, and shows a message on all three transports" {
    scenario page
}

@test "browser: the page with ?channel= watches that channel and shows its backlog on load" {
    scenario page-channel
}

@test "browser: the page with ?token= works against --token-file: ws and sse carry ?token=, the poll, /metrics and the form a Bearer header; nothing refused" {
    scenario page-token
}

@test "browser: the page's drop and resume: what was published meanwhile arrives once, in order, in each panel" {
    scenario page-drop
}

@test "browser: the page's drop and resume past a tiny --backlog shows the gap signal in each panel" {
    scenario page-gap
}

@test "browser: the page's metrics sparklines show connections and messages per second after traffic" {
    scenario page-metrics
}

@test "browser: the page's EventSource panel shows messages published with ?event=NAME, in order, as the other panels do" {
    scenario page-event
}

@test "browser: the page's publish form says the id, or the status and the server's reason (401, 403, 413)" {
    scenario page-publish
}

@test "browser: a hidden tab of the page closes its event stream and long poll, and resumes them after the last id when shown" {
    scenario page-hidden
}

@test "browser: WebSocket text and binary between two browser sockets, POST delivery, pushwire.v1 resume, close 1000" {
    scenario websocket
}

@test "browser: EventSource cut by the server side reconnects by itself with Last-Event-ID, nothing lost or repeated" {
    scenario eventsource-drop
}

@test "browser: EventSource keeps its stream across a serve restart: the gap event, then the new messages (never a mis-resume, never a non-200)" {
    scenario eventsource-restart
}

@test "browser: a fetch long-poll loop with cursors gets every message once, in order" {
    scenario longpoll
}

# a test that starts its own serve stops it (not setup_file's)
teardown() {
    serve_teardown
}

@test "browser: the page against serve --echo: the WebSocket panel connects without pushwire.v1 and shows plain text and binary echoes" {
    serve_start --echo --ping 0
    run env PLAIN_MODE=echo timeout 180 "$NODE" "$INTEROP/browser.js" page-plain "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_output --partial "ok page-plain"
    grep -q 'name="pushwire-ws" content=""' <(curl -s "$SERVE_HTTP/")
    serve_stop
}

@test "browser: the page against serve --exec cat: the WebSocket panel connects without pushwire.v1 and shows the program's lines" {
    serve_start --exec cat --ping 0
    run env PLAIN_MODE=exec timeout 180 "$NODE" "$INTEROP/browser.js" page-plain "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_output --partial "ok page-plain"
    serve_stop
}

@test "browser: the page's EventSource panel, refused with 503 (--max-procs), opens again by itself as the WebSocket panel does" {
    serve_start --exec cat --max-procs 2 --ping 0
    run timeout 180 "$NODE" "$INTEROP/browser.js" page-refused "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_output --partial "ok page-refused"
    serve_stop
}

@test "browser: a page's WebSocket message over --max-message is closed 1009 with a reason naming --max-message, compressed or not" {
    serve_start --max-message 1000 --ping 0
    run env MAX_MESSAGE=1000 timeout 180 "$NODE" "$INTEROP/browser.js" ws-too-big "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_output --partial "ok ws-too-big"
    serve_stop
}

@test "browser: an EventSource whose stream ends before its first message gets what was published before it reconnected (no silent loss)" {
    serve_start --idle-timeout 1 --retry 3000 --ping 0
    run timeout 180 "$NODE" "$INTEROP/browser.js" eventsource-quiet "$SERVE_PORT"
    echo "$output"
    assert_success
    assert_output --partial "ok eventsource-quiet"
    serve_stop
}

@test "browser: a message published with ?event=gap is a message in the page's three panels, not a gap (the server's gaps have no id)" {
    scenario page-gap-named
}

@test "browser: serve survived the browser sessions and exits 0 on SIGTERM" {
    serve_alive
    gap_serve serve_alive
    serve_stop
    gap_serve serve_stop
}
