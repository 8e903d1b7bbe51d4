#!/usr/bin/env bats
# replay_browser.bats — Chromium's EventSource (Debian's /usr/bin/chromium,
# driven by playwright-core; no browser download) as the client of
# `pushwire replay FILE --serve 127.0.0.1:0`: the page, on the server's
# origin, receives exactly the transcript's `in` messages, in order, each
# with an id.  replay_browser.js drives the browser.
load helper

setup() {
    D=$BATS_TEST_TMPDIR
    RS_PID=
}

teardown() {
    [ -n "${RS_PID:-}" ] || return 0
    kill -TERM "$RS_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$RS_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$RS_PID" 2>/dev/null || true
}

# start_replay_serve FILE [ARGS…] — replay --serve on a free port; sets RS_PORT
start_replay_serve() {
    RS_LOG=$D/rs.log
    "$PW" replay "$@" --serve 127.0.0.1:0 </dev/null 2>"$RS_LOG" >/dev/null 3>&- &
    RS_PID=$!
    local i
    RS_PORT=
    for ((i = 0; i < SERVE_START_SECS * 20; i++)); do
        RS_PORT=$(sed -n 's/^pushwire replay: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$RS_LOG" | head -n 1)
        [ -n "$RS_PORT" ] && break
        kill -0 "$RS_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$RS_PORT" ] || { echo "replay --serve did not start:"; cat "$RS_LOG"; return 1; }
}

@test "replay --serve: Chromium's EventSource gets exactly the transcript's in messages, in order, with ids" {
    # out messages (hello, bye) must not be served; a named event with two
    # lines, text with a quote and non-ASCII text must arrive as recorded
    cat >"$D/feed.jsonl" <<'JSONL'
{"t":0,"dir":"out","type":"text","data":"hello"}
{"t":0.01,"dir":"in","type":"text","data":"one"}
{"t":0.02,"dir":"in","type":"event","event":"tick","data":"two\nlines"}
{"t":0.03,"dir":"out","type":"text","data":"bye"}
{"t":0.04,"dir":"in","type":"text","data":"say \"three\""}
{"t":0.05,"dir":"in","type":"text","data":"vier – ü"}
JSONL
    start_replay_serve "$D/feed.jsonl" --channel room
    run timeout 120 "$NODE" "$INTEROP/replay_browser.js" "$RS_PORT" room 4 tick
    echo "$output"
    assert_success
    # the ids the browser saw: present, distinct, increasing
    local ids
    ids=$(printf '%s\n' "$output" | grep '^{' | jq -r .id)
    [ "$(printf '%s\n' "$ids" | grep -c .)" = 4 ]
    [ "$(printf '%s\n' "$ids" | sort -n | uniq | tr '\n' ' ')" = "$(printf '%s\n' "$ids" | tr '\n' ' ')" ]
    # type and data, in order, nothing else
    run bash -c "printf '%s\n' \"\$1\" | grep '^{' | jq -c '{type, data}'" _ "$output"
    assert_output "$(cat <<'EOF2'
{"type":"message","data":"one"}
{"type":"tick","data":"two\nlines"}
{"type":"message","data":"say \"three\""}
{"type":"message","data":"vier – ü"}
EOF2
)"
    kill -0 "$RS_PID"   # replay --serve is still there
}
