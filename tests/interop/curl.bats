#!/usr/bin/env bats
# curl.bats — curl as the client: `curl -N` on the SSE stream (headers,
# retry:, ids, events, multi-line data, resume by Last-Event-ID and
# ?lastEventId=, the gap event) and on long polling (cursors, held requests,
# timeouts).  curl is the reference for what goes over the wire.
load helper

setup_file() {
    serve_start --retry 1500 --backlog 8 --heartbeat 1 --ping 0
}

teardown_file() {
    serve_stop || true
}

# sse_open PATH [CURL ARGS...] — curl -N in the background into $BATS_TEST_TMPDIR/sse.out;
# returns once the response head has arrived
sse_open() {
    local p=$1; shift
    : >"$BATS_TEST_TMPDIR/sse.out"
    curl -sS -N --max-time 20 -D "$BATS_TEST_TMPDIR/sse.head" "$@" "$SERVE_HTTP$p" \
        >"$BATS_TEST_TMPDIR/sse.out" 2>"$BATS_TEST_TMPDIR/sse.err" 3>&- &
    SSE_PID=$!
    wait_for grep -qs $'^\r$' "$BATS_TEST_TMPDIR/sse.head"
}

sse_close() { kill "$SSE_PID" 2>/dev/null || true; wait "$SSE_PID" 2>/dev/null || true; }

# sse_wait N — until N `data:` lines have arrived
sse_wait() {
    wait_for eval '[ "$(grep -c "^data:" "$BATS_TEST_TMPDIR/sse.out")" -ge '"$1"' ]' ||
        { echo "got only:"; cat "$BATS_TEST_TMPDIR/sse.out"; return 1; }
}

teardown() { [ -z "${SSE_PID:-}" ] || sse_close; }

id_of() { sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' <<<"$1"; }

@test "curl sse: text/event-stream, no-cache, no proxy buffering; retry: comes first" {
    c=$(chan)
    sse_open "/sse/$c"
    run cat "$BATS_TEST_TMPDIR/sse.head"
    assert_line --regexp $'^HTTP/1.1 200'
    assert_line --regexp $'^[Cc]ontent-[Tt]ype: text/event-stream'
    assert_line --regexp $'^[Cc]ache-[Cc]ontrol: no-cache'
    assert_line --regexp $'^[Xx]-[Aa]ccel-[Bb]uffering: no'
    wait_for grep -q '^retry:' "$BATS_TEST_TMPDIR/sse.out"
    run grep -v '^$' "$BATS_TEST_TMPDIR/sse.out"
    assert_line --index 0 'retry: 1500'
}

@test "curl sse: each POSTed message arrives as id: and data:, event: only for named events" {
    c=$(chan)
    sse_open "/sse/$c"
    a=$(id_of "$(publish "$c" hello)")
    b=$(id_of "$(publish "$c" second kind)")
    sse_wait 2
    sse_close
    # drop retry:, comments and the blank lines before the first event; a
    # stream without Last-Event-ID starts with the channel's position, an id
    # with no data (here EPOCH:0: the channel held nothing)
    run sh -c "grep -v -e '^retry:' -e '^:' '$BATS_TEST_TMPDIR/sse.out' | sed '/./,\$!d'"
    assert_output "id: ${a%:*}:0

id: $a
data: hello

id: $b
event: kind
data: second"
}

@test "curl sse: a message with newlines is one data: line per line" {
    c=$(chan)
    sse_open "/sse/$c"
    publish "$c" $'line one\nline two\n\nline four' >/dev/null
    sse_wait 4
    sse_close
    # an empty line is `data:` or `data: ` (the space is optional, WHATWG)
    run sh -c "grep '^data:' '$BATS_TEST_TMPDIR/sse.out' | sed 's/^data: \$/data:/'"
    assert_output $'data: line one\ndata: line two\ndata:\ndata: line four'
}

@test "curl sse: Last-Event-ID resumes after that id, nothing before, nothing twice" {
    c=$(chan)
    for i in 1 2 3 4 5; do ids[$i]=$(id_of "$(publish "$c" "m$i")"); done
    sse_open "/sse/$c" -H "Last-Event-ID: ${ids[2]}"
    sse_wait 3
    publish "$c" m6 >/dev/null
    sse_wait 4
    sleep 0.3
    sse_close
    run grep '^data:' "$BATS_TEST_TMPDIR/sse.out"
    assert_output $'data: m3\ndata: m4\ndata: m5\ndata: m6'
}

@test "curl sse: ?lastEventId= resumes like the header" {
    c=$(chan)
    for i in 1 2 3; do ids[$i]=$(id_of "$(publish "$c" "q$i")"); done
    sse_open "/sse/$c?lastEventId=${ids[1]}"
    sse_wait 2
    sleep 0.3
    sse_close
    run grep '^data:' "$BATS_TEST_TMPDIR/sse.out"
    assert_output $'data: q2\ndata: q3'
}

@test "curl sse: resuming from an id older than the backlog sends the gap event first" {
    c=$(chan)
    for i in $(seq 1 12); do ids[$i]=$(id_of "$(publish "$c" "g$i")"); done
    # --backlog 8 keeps g5..g12
    sse_open "/sse/$c" -H "Last-Event-ID: ${ids[1]}"
    sse_wait 9
    sse_close
    run grep -v -e '^retry:' -e '^:' -e '^$' -e '^id:' "$BATS_TEST_TMPDIR/sse.out"
    assert_line --index 0 'event: gap'
    assert_line --index 1 "data: {\"after\":\"${ids[1]}\",\"first\":\"${ids[5]}\"}"
    assert_line --index 2 'data: g5'
    assert_line --index 9 'data: g12'
}

@test "curl sse: Accept: text/event-stream on a channel URL gets the event stream" {
    c=$(chan)
    sse_open "/ws/$c" -H 'Accept: text/event-stream'
    grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/sse.head"
    publish "$c" via-accept >/dev/null
    sse_wait 1
    grep -q '^data: via-accept' "$BATS_TEST_TMPDIR/sse.out"
}

@test "curl sse: heartbeat comment lines while idle" {
    c=$(chan)
    sse_open "/sse/$c"
    wait_for grep -q '^:' "$BATS_TEST_TMPDIR/sse.out"
}

@test "curl poll: messages after the cursor at once, as JSON with the last cursor" {
    c=$(chan)
    for i in 1 2 3; do ids[$i]=$(id_of "$(publish "$c" "p$i")"); done
    run curl -sS --max-time 10 "$SERVE_HTTP/poll/$c?cursor=${ids[1]}&timeout=5"
    assert_success
    run /usr/bin/python3 -c 'import json,sys; b=json.loads(sys.argv[1]); print(b["cursor"], b["gap"], [(m["id"], m["event"], m["data"]) for m in b["messages"]])' "$output"
    assert_output "${ids[3]} False [('${ids[2]}', 'message', 'p2'), ('${ids[3]}', 'message', 'p3')]"
}

@test "curl poll: a request with nothing new is held until a message is published" {
    c=$(chan)
    last=$(id_of "$(publish "$c" before)")
    curl -sS -N --max-time 15 "$SERVE_HTTP/poll/$c?cursor=$last&timeout=10" >"$BATS_TEST_TMPDIR/poll.out" 3>&- &
    cpid=$!
    sleep 0.5
    [ ! -s "$BATS_TEST_TMPDIR/poll.out" ]      # still held
    publish "$c" after >/dev/null
    wait_for grep -q '"after"' "$BATS_TEST_TMPDIR/poll.out"
    wait "$cpid"
    grep -q '"messages":\[{' "$BATS_TEST_TMPDIR/poll.out"
}

@test "curl poll: timeout=1 with nothing new answers an empty list and the same cursor" {
    c=$(chan)
    last=$(id_of "$(publish "$c" only)")
    run curl -sS --max-time 10 "$SERVE_HTTP/poll/$c?cursor=$last&timeout=1"
    assert_success
    run /usr/bin/python3 -c 'import json,sys; b=json.loads(sys.argv[1]); print(b["cursor"], b["messages"])' "$output"
    assert_output "$last []"
}

@test "curl poll: a cursor older than the backlog says gap:true and sends what is kept" {
    c=$(chan)
    for i in $(seq 1 12); do ids[$i]=$(id_of "$(publish "$c" "k$i")"); done
    run curl -sS --max-time 10 "$SERVE_HTTP/poll/$c?cursor=${ids[1]}&timeout=1"
    run /usr/bin/python3 -c 'import json,sys; b=json.loads(sys.argv[1]); print(b["gap"], [m["data"] for m in b["messages"]])' "$output"
    assert_output "True ['k5', 'k6', 'k7', 'k8', 'k9', 'k10', 'k11', 'k12']"
}

@test "curl poll: every message exactly once across a cursor loop while publishing" {
    c=$(chan)
    cur=$(id_of "$(publish "$c" start)")
    ( for i in $(seq 1 30); do publish "$c" "n$i" >/dev/null; [ $((i % 7)) -ne 0 ] || sleep 0.2; done ) 3>&- &
    ppid_=$!
    got=()
    for ((r = 0; r < 60 && ${#got[@]} < 30; r++)); do
        body=$(curl -sS --max-time 10 "$SERVE_HTTP/poll/$c?cursor=$cur&timeout=3")
        mapfile -t lines < <(/usr/bin/python3 -c 'import json,sys; b=json.loads(sys.argv[1]); print(b["cursor"]); [print(m["data"]) for m in b["messages"]]' "$body")
        cur=${lines[0]}
        got+=("${lines[@]:1}")
    done
    wait "$ppid_"
    [ "${got[*]}" = "$(echo n{1..30})" ] || { echo "got: ${got[*]}"; false; }
}

@test "curl: serve exits 0 on SIGTERM while an SSE stream and a poll are open" {
    c=$(chan)
    sse_open "/sse/$c"
    curl -sS --max-time 15 "$SERVE_HTTP/poll/$c?timeout=10" >/dev/null 3>&- &
    cpid=$!
    sleep 0.3
    serve_stop
    wait "$cpid" || true
    wait "$SSE_PID"    # the stream was ended, curl exits (not killed by --max-time)
}
