#!/usr/bin/env bats
# pushwire connect against pushwire serve: resume after an id over each
# transport (no loss, no duplicate), the gap signal, and reconnecting to a
# restarted server.
load connect_helper

# srv_start [PORT] [ARGS...] — serve on PORT (0: a free one); sets SRV_PORT, SRV_PID
srv_start() {
    local port=$1 i
    shift
    SRV_LOG=$BATS_TEST_TMPDIR/serve.$RANDOM.log
    "$PW" serve --listen "127.0.0.1:$port" "$@" </dev/null >/dev/null 2>"$SRV_LOG" 3>&- &
    SRV_PID=$!
    for i in $(seq 200); do
        SRV_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$SRV_LOG" | head -n1 | cut -d: -f2)
        [ -n "$SRV_PORT" ] && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$SRV_LOG" >&2
    return 1
}

srv_stop() {
    [ -n "${SRV_PID:-}" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
}

teardown() { srv_stop; peers_stop; }

pub() { curl -sf -X POST --data-binary "$1" "http://127.0.0.1:$SRV_PORT/pub/${2:-c}" >/dev/null; }
# pub_epoch MSG — publishes MSG on c and prints the epoch of its id
pub_epoch() { id_epoch "$(curl -sf -X POST --data-binary "$1" "http://127.0.0.1:$SRV_PORT/pub/c")"; }

url_for() { # transport -> args
    case $1 in
    ws) echo "ws://127.0.0.1:$SRV_PORT/ws/c" ;;
    sse) echo "http://127.0.0.1:$SRV_PORT/sse/c" ;;
    poll) echo "--poll http://127.0.0.1:$SRV_PORT/poll/c" ;;
    esac
}

resume_after_id() {
    srv_start 0
    ep=$(pub_epoch m1)
    for m in m2 m3 m4 m5; do pub "$m"; done
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --since "$ep:2" --count 3 $(url_for "$1")
    assert_success
    assert_output $'m3\nm4\nm5'
}

@test "ws: --since resumes after the id (pushwire.v1 envelopes)" { resume_after_id ws; }
@test "sse: --since resumes after the id (Last-Event-ID)" { resume_after_id sse; }
@test "poll: --since resumes after the id (cursor)" { resume_after_id poll; }

gap_reported() {
    srv_start 0 --backlog 2
    ep=$(pub_epoch m1)
    for m in m2 m3 m4 m5; do pub "$m"; done
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --json --since "$ep:1" --count 2 $(url_for "$1")
    assert_success
    assert_line --regexp "^\\{\"id\":null,\"event\":\"gap\",.*\"after\":\"$ep:1\",\"first\":\"$ep:4\"\\}\$"
    assert_line "{\"id\":\"$ep:4\",\"event\":\"message\",\"data\":\"m4\",\"type\":\"text\"}"
    assert_line "{\"id\":\"$ep:5\",\"event\":\"message\",\"data\":\"m5\",\"type\":\"text\"}"
    assert_line "pushwire connect: gap: messages after '$ep:1' are gone; the first one still held is '$ep:4'"
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --fail-on-gap --since "$ep:1" $(url_for "$1")
    assert_failure 9
    # an id of another run (epoch) is a gap too, whatever its number
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --fail-on-gap --since zzzzzzzzzzzz:4 $(url_for "$1")
    assert_failure 9
    assert_output --partial "gap: messages after 'zzzzzzzzzzzz:4' are gone"
}

@test "ws: a gap is reported, and is exit 9 with --fail-on-gap" { gap_reported ws; }
@test "sse: a gap is reported, and is exit 9 with --fail-on-gap" { gap_reported sse; }
@test "poll: a gap is reported, and is exit 9 with --fail-on-gap" { gap_reported poll; }

@test "ws -v: both ends show a compressed frame's message bytes, inflated" {
    # 83 bytes: the server sends messages under 64 bytes uncompressed
    srv_start 0 --echo -v
    m=$(printf 'hello %.0s' $(seq 14))
    m=${m% }
    run bash -c 'echo "$1" | timeout 10 "$PW" connect -v --compress --wait --count 1 "$0" 2>&1 >/dev/null' "ws://127.0.0.1:$SRV_PORT/ws/c" "$m"
    assert_success
    assert_output --regexp "< text rsv len=[0-9]+ compressed, inflated to 83: \"$m\""
    run grep -E 'wire: < frame text fin=1 len=[0-9]+ compressed, inflated to 83$' "$SRV_LOG"
    assert_success
}

@test "ws -v: a message under 64 bytes comes back uncompressed (RSV1 clear) though deflate was agreed" {
    srv_start 0 --echo -v
    run bash -c 'echo "hello hello hello hello" | timeout 10 "$PW" connect -v --compress --wait --count 1 "$0" 2>&1 >/dev/null' "ws://127.0.0.1:$SRV_PORT/ws/c"
    assert_success
    assert_output --partial '> text rsv len=11 masked compressed, from 23'
    assert_output --partial '< text len=23 "hello hello hello hello"'
}

# A message of 600 000 '"' is a JSON text of 1.2 MB: past the JSON reader's
# default 1 MiB, which once made connect print the whole envelope or poll
# body as one plain message.
big_json() {
    srv_start 0 --send-buffer 4194304   # one envelope is more than the default
    head -c 600000 /dev/zero | tr '\0' '"' >"$BATS_TEST_TMPDIR/q"
    curl -sf -X POST --data-binary @"$BATS_TEST_TMPDIR/q" "http://127.0.0.1:$SRV_PORT/pub/c" >/dev/null
    pub small
    # shellcheck disable=SC2046
    timeout 10 "$PW" connect --no-stdin --since 0 --count 2 $(url_for "$1") >"$BATS_TEST_TMPDIR/out"
    run awk '{ print length($0) }' "$BATS_TEST_TMPDIR/out"
    assert_output $'600000\n5'
}

@test "ws: a pushwire.v1 envelope over 1 MiB of JSON is still one message" { big_json ws; }
@test "poll: an answer over 1 MiB of JSON is still read message by message" { big_json poll; }

@test "--cursor-file resumes a later run where the last one stopped (ws)" {
    srv_start 0
    ep=$(pub_epoch m1)
    for m in m2 m3; do pub "$m"; done
    run timeout 10 "$PW" connect --no-stdin --since 0 --count 2 --cursor-file "$BATS_TEST_TMPDIR/cur" "ws://127.0.0.1:$SRV_PORT/ws/c"
    assert_success
    assert_output $'m1\nm2'
    run cat "$BATS_TEST_TMPDIR/cur"
    assert_output "$ep:2"
    run timeout 10 "$PW" connect --no-stdin --count 1 --cursor-file "$BATS_TEST_TMPDIR/cur" "ws://127.0.0.1:$SRV_PORT/ws/c"
    assert_success
    assert_output m3
}

# wait (bounded) until the server log shows a subscriber on channel c
wait_sub() {
    for _ in $(seq 300); do
        grep -qE "(ws|sse) 'c' (upgrade|response)|http open" "$SRV_LOG" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

restart_mid_stream() {
    srv_start 0
    local port=$SRV_PORT
    # shellcheck disable=SC2046
    timeout 30 "$PW" connect --no-stdin --reconnect --count 4 $(url_for "$1") \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    local cpid=$!
    wait_sub
    pub a
    pub b
    for _ in $(seq 100); do [ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -ge 2 ] && break; sleep 0.05; done
    srv_stop
    srv_start "$port"
    wait_sub   # the client is back (after its backoff, or SSE retry:)
    sleep 0.2
    pub c
    pub d
    wait "$cpid"
    local rc=$?
    cat "$BATS_TEST_TMPDIR/err" >&2
    [ "$rc" -eq 0 ]
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output $'a\nb\nc\nd'
    # the restarted server is a new epoch: the resume after b is reported as
    # a gap (the old server may have had messages after b), never hidden
    run grep -c "gap: messages after '[a-z0-9]*:2' are gone" "$BATS_TEST_TMPDIR/err"
    assert_output 1
}

@test "ws: --reconnect survives a server restart" { restart_mid_stream ws; }
@test "sse: --reconnect survives a server restart" { restart_mid_stream sse; }
@test "poll: --reconnect survives a server restart" { restart_mid_stream poll; }

# --max-message bounds each message: a poll answer holds a batch of them
# (about 1 MiB from a pushwire server), as an SSE stream does; a pushwire.v1
# WebSocket frame holds one message in its JSON envelope (id, channel,
# event: larger than the data).
max_message_each() {
    srv_start 0
    m=$(head -c 1000 /dev/zero | tr '\0' m)
    for _ in $(seq 100); do pub "$m"; done
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --since 0 --count 100 --max-message 1000 $(url_for "$1")
    assert_success
    assert_equal "${#lines[@]}" 100
    # shellcheck disable=SC2046
    run timeout 10 "$PW" connect --no-stdin --since 0 --count 100 --max-message 999 $(url_for "$1")
    assert_failure 1
    assert_output --partial 'larger than --max-message (999 bytes)'
}

@test "sse: --max-message bounds each message, not the batch" { max_message_each sse; }
@test "poll: --max-message bounds each message, not the answer" { max_message_each poll; }
@test "ws: --max-message bounds each message's data, not its pushwire.v1 envelope" { max_message_each ws; }
