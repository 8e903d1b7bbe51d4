#!/usr/bin/env bats
# sse_whatwg.bats — `pushwire connect` against Chromium's EventSource, rule by
# rule of the WHATWG "server-sent events" processing model and event-stream
# interpretation.  sse_whatwg.py serves scripted streams and records every
# request (path, host, Last-Event-ID); setup_file runs them all once through
# Chromium (sse_whatwg.js, the reference), and each test runs the same
# scenario through `connect --json` and compares, event by event and request
# by request (sse_whatwg_cmp.py), then checks the rule itself.
load connect_helper

SCENARIOS="emptyid idcarry r301 r302 r303 r307 r308 loop noanswer cross big lines st204 st201 st206 st300
           st404 st500 st503 html notype upper utf8cs latin1"

setup_file() {
    local out=$BATS_FILE_TMPDIR/server.port i
    "$PY" "$INTEROP/sse_whatwg.py" >"$out" 2>"$BATS_FILE_TMPDIR/server.err" 3>&- &
    echo $! >"$BATS_FILE_TMPDIR/server.pid"
    for ((i = 0; i < 100; i++)); do [ -s "$out" ] && break; sleep 0.05; done
    export SSE_PORT
    SSE_PORT=$(head -n1 "$out")
    [ -n "$SSE_PORT" ] || { cat "$BATS_FILE_TMPDIR/server.err" >&2; return 1; }
    export BROWSER=$BATS_FILE_TMPDIR/browser.jsonl
    # shellcheck disable=SC2086
    timeout 240 "$NODE" "$INTEROP/sse_whatwg.js" "$SSE_PORT" b $SCENARIOS >"$BROWSER" 2>"$BROWSER.err" || true
}

teardown_file() {
    kill "$(cat "$BATS_FILE_TMPDIR/server.pid")" 2>/dev/null || true
}

NODE=${NODE:-node}
export NODE_PATH=$INTEROP/node_modules

# pw_sse SCENARIO [ARGS...] — pushwire connect --json ARGS on the scenario, as
# run of its own; sets PW_RC, PW_OUT (stdout), PW_ERR (stderr), PWRUN
pw_sse() {
    local sc=$1
    shift
    PWRUN=p$BATS_TEST_NUMBER-$sc-$((++PW_N))
    PW_OUT=$BATS_TEST_TMPDIR/$sc.out PW_ERR=$BATS_TEST_TMPDIR/$sc.err PW_RC=0
    timeout 60 "$PW" connect --json "$@" "http://127.0.0.1:$SSE_PORT/s/$sc/start?run=$PWRUN" \
        >"$PW_OUT" 2>"$PW_ERR" || PW_RC=$?
}

# same_as_browser SCENARIO — events and requests of the last pw_sse equal Chromium's
same_as_browser() {
    run "$PY" "$INTEROP/sse_whatwg_cmp.py" compare "$SSE_PORT" "$1" "$BROWSER" b "$PW_OUT" "$PWRUN"
    [ "$status" -eq 0 ] || { echo "$output"; echo "connect exited $PW_RC; its stderr:"; cat "$PW_ERR"; \
                             echo "browser stderr:"; cat "$BROWSER.err"; return 1; }
}

# requests SCENARIO — "PATH HOST LAST-EVENT-ID" per request of the last pw_sse
requests() { "$PY" "$INTEROP/sse_whatwg_cmp.py" requests "$SSE_PORT" "$PWRUN" "$1"; }

@test "empty id: lastEventId empties and the next reconnection has no Last-Event-ID; an id with NUL is ignored; an id with no data still counts; an unterminated event's id does not; a UTF-8 id goes out as UTF-8" {
    pw_sse emptyid --reconnect
    same_as_browser emptyid
    [ "$PW_RC" -eq 0 ]
    run requests emptyid
    assert_output "$(printf '%s\n' '/s/emptyid/start 127.0.0.1:PORT -' '/s/emptyid/start 127.0.0.1:PORT -' \
        '/s/emptyid/start 127.0.0.1:PORT 2' '/s/emptyid/start 127.0.0.1:PORT é✓' '/s/emptyid/start 127.0.0.1:PORT -')"
}

@test "empty id: --cursor-file follows the last event ID, emptied too" {
    pw_sse emptyid --reconnect=1 --cursor-file "$BATS_TEST_TMPDIR/cur"
    [ "$PW_RC" -eq 0 ]
    run cat "$BATS_TEST_TMPDIR/cur"
    assert_output ''
}

@test "the last id of one connection is the lastEventId of the next one's events (the buffer carries over)" {
    pw_sse idcarry --reconnect
    same_as_browser idcarry
    run jq -r .id "$PW_OUT"
    assert_output $'7\n7\n8'
}

@test "--last-event-id is the last event ID to begin with: sent, and carried by events without an id" {
    pw_sse rempty --last-event-id 5 --count 1
    [ "$PW_RC" -eq 0 ]
    run requests rempty
    assert_output '/s/rempty/start 127.0.0.1:PORT 5'
    run jq -r .id "$PW_OUT"
    assert_output 5
}

redirect_case() {
    pw_sse "r$1" --reconnect
    same_as_browser "r$1"
    [ "$PW_RC" -eq 0 ]
    run requests "r$1"
    assert_output "$(printf '%s\n' "/s/r$1/start 127.0.0.1:PORT -" "/s/r$1/hop 127.0.0.1:PORT -" \
        "/s/r$1/final 127.0.0.1:PORT -" "/s/r$1/final 127.0.0.1:PORT r1" "/s/r$1/moved 127.0.0.1:PORT r1" \
        "/s/r$1/moved 127.0.0.1:PORT m1")"
}

@test "redirect 301: followed; Last-Event-ID on every hop; the reconnection goes where the redirects led, as Chromium" { redirect_case 301; }
@test "redirect 302: followed; Last-Event-ID on every hop; the reconnection goes where the redirects led, as Chromium" { redirect_case 302; }
@test "redirect 303: followed; Last-Event-ID on every hop; the reconnection goes where the redirects led, as Chromium" { redirect_case 303; }
@test "redirect 307: followed; Last-Event-ID on every hop; the reconnection goes where the redirects led, as Chromium" { redirect_case 307; }
@test "redirect 308: followed; Last-Event-ID on every hop; the reconnection goes where the redirects led, as Chromium" { redirect_case 308; }

@test "a redirect loop: 20 redirects are followed, the 21st is a network error; the reconnection starts from the first URL" {
    pw_sse loop --reconnect
    same_as_browser loop
    [ "$PW_RC" -eq 0 ]
    run requests loop
    [ "${#lines[@]}" -eq 22 ]
    assert_line --index 20 '/s/loop/20 127.0.0.1:PORT -'
    assert_line --index 21 '/s/loop/start 127.0.0.1:PORT -'
}

@test "a redirect loop without --reconnect: exit 1, saying so" {
    pw_sse loop
    [ "$PW_RC" -eq 1 ]
    run cat "$PW_ERR"
    assert_output --partial 'redirects'
}

@test "a connection closed without an answer is a network error: reconnected with --reconnect (as EventSource), exit 8 without" {
    pw_sse noanswer --reconnect
    same_as_browser noanswer
    [ "$PW_RC" -eq 0 ]
    pw_sse noanswer
    [ "$PW_RC" -eq 8 ]
}

@test "a redirect to another origin: followed, and the reconnection goes there with Last-Event-ID" {
    pw_sse cross --reconnect
    same_as_browser cross
    run requests cross
    assert_output "$(printf '%s\n' '/s/cross/start 127.0.0.1:PORT -' '/s/cross/final localhost:PORT -' \
        '/s/cross/final localhost:PORT x1')"
}

# auth RUN — the Authorization and Cookie headers of each request of RUN
auth() {
    "$PY" -c 'import json,sys,urllib.request as u
for q in json.load(u.urlopen(sys.argv[1])): print(q["auth"], q["cookie"])' "http://127.0.0.1:$SSE_PORT/log?run=$1"
}

@test "-H Authorization and Cookie go along same-origin redirects and are dropped when a hop leaves the origin, as fetch drops Authorization" {
    pw_sse r307 --count 1 -H 'Authorization: Bearer t0k' -H 'Cookie: c=1'
    run auth "$PWRUN"
    assert_output $'Bearer t0k c=1\nBearer t0k c=1\nBearer t0k c=1'
    pw_sse cross --count 1 -H 'Authorization: Bearer t0k' -H 'Cookie: c=1'
    run auth "$PWRUN"
    assert_output $'Bearer t0k c=1\nNone None'
}

@test "events over 1 MiB, on one line and on 2098 data: lines, arrive whole" {
    pw_sse big --reconnect
    same_as_browser big
    [ "$PW_RC" -eq 0 ]
}

@test "--max-message is the one limit: an event of exactly that size on one line arrives, a bigger one on many lines is exit 1" {
    pw_sse big --max-message 2097169
    [ "$PW_RC" -eq 1 ]
    run jq -r '.data | length' "$PW_OUT"
    assert_output 2097169
    run cat "$PW_ERR"
    assert_output --partial 'larger than --max-message (2097169 bytes)'
}

@test "line ends CR, LF and CRLF split across reads, BOM (and a second one), comments, field edge cases, invalid UTF-8; a new connection's BOM is stripped again" {
    pw_sse lines --reconnect
    same_as_browser lines
    run jq -c . "$PW_OUT"
    assert_line --index 1 '{"id":"1","event":"tick","data":"two\n","type":"text"}'
    assert_line --index 8 '{"id":"3","event":"message","data":"again","type":"text"}'
}

@test "204 ends the stream for good: exit 0 and no reconnection, even with --reconnect" {
    pw_sse st204 --reconnect
    same_as_browser st204
    [ "$PW_RC" -eq 0 ]
}

@test "a status other than 200 fails the connection for good: 201, 206, a 300 with a Location (not followed), 404 are exit 6 even with --reconnect" {
    for sc in st201 st206 st300 st404; do
        pw_sse $sc --reconnect
        same_as_browser $sc
        [ "$PW_RC" -eq 6 ] || { echo "$sc: exit $PW_RC"; cat "$PW_ERR"; return 1; }
    done
    run cat "$PW_ERR"
    assert_output --partial 'server answered 404'
}

@test "5xx: EventSource fails for good, and so does connect (exit 6); --reconnect retries it, the documented difference" {
    for sc in st500 st503; do
        pw_sse $sc
        same_as_browser $sc
        [ "$PW_RC" -eq 6 ] || { echo "$sc: exit $PW_RC"; cat "$PW_ERR"; return 1; }
        pw_sse $sc --reconnect
        [ "$PW_RC" -eq 0 ]
        run requests $sc
        [ "${#lines[@]}" -eq 2 ]
    done
}

@test "Content-Type: not text/event-stream, or none, fails for good (exit 6); any case and a UTF-8 charset are fine; another charset fails, as Chromium" {
    for sc in html notype latin1; do
        pw_sse $sc --reconnect
        same_as_browser $sc
        [ "$PW_RC" -eq 6 ] || { echo "$sc: exit $PW_RC"; cat "$PW_ERR"; return 1; }
    done
    run cat "$PW_ERR"
    assert_output --partial "charset is not UTF-8; the stream ends for good"
    for sc in upper utf8cs; do
        pw_sse $sc --reconnect
        same_as_browser $sc
        [ "$PW_RC" -eq 0 ]
    done
}

@test "retry: an empty value goes back to the default delay (as Chromium), one past 64 bits is ignored" {
    pw_sse rempty -v --reconnect
    [ "$PW_RC" -eq 0 ]
    run cat "$PW_ERR"
    assert_line '* retry: 50 ms'
    assert_line '* retry: default (our backoff from 0.5 s)'
    assert_output --regexp 'reconnecting in 0\.[2-5] s'
    pw_sse rhuge -v --reconnect
    run grep -c '^\* retry:' "$PW_ERR"
    assert_output 1
    run cat "$PW_ERR"
    assert_output --partial 'reconnecting in 0.1 s'
}
