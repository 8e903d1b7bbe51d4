#!/usr/bin/env bats
# serve --workers: N event loops behind one address sharing channels and one
# id sequence.  The clients are tests/cli/serve_workers.py (raw SSE, POST,
# python3-websockets); per-worker counts come from /metrics.

load helper

PEER="/usr/bin/python3 $BATS_TEST_DIRNAME/serve_workers.py"

setup() {
    /usr/bin/python3 -c 'import websockets' 2>/dev/null || missing "python3-websockets"
}

teardown() {
    stop_serve
}

@test "workers: 1000 SSE subscribers over 2 workers get every message once, in order, same ids; resumes on any worker" {
    start_serve --workers 2 -q --max-conns 2000
    run $PEER fanout "$SERVE_PORT" 1000 30 30
    echo "$output"
    assert_success
    assert_output --partial "ok msgs=60 subs=1000"
    stop_serve_clean
}

@test "workers: /metrics sums the workers' counters" {
    start_serve --workers 2 -q
    for i in $(seq 20); do C -d "m$i" "$SERVE_URL/pub/s" >/dev/null; done
    wait_metric "pushwire_messages_in_total 20"
    wait_metric 'pushwire_history_messages 20'
    run C "$SERVE_URL/metrics"
    # accepted: 20 publishes, the wait_metric probes and this one, over both workers
    acc=$(echo "$output" | sed -n 's/^pushwire_connections_accepted_total //p')
    [ "$acc" -ge 22 ]
    assert_output --partial 'pushwire_worker_messages_in_total{worker="0"}'
    assert_output --partial 'pushwire_worker_messages_in_total{worker="1"}'
    stop_serve_clean
}

@test "workers: /metrics counts a channel's subscribers on every worker, whichever worker answers" {
    # each worker's replica knows only its own subscribers, and holds a
    # channel with no history only while its worker has some
    start_serve --workers 2 -q --metrics-per-channel
    C -d x "$SERVE_URL/pub/h" >/dev/null
    pids=()
    for i in $(seq 20); do # 20 connections: the kernel puts some on each worker
        curl -s -N --max-time 20 "$SERVE_URL/sse/z" >/dev/null & pids+=($!)
    done
    wait_metric 'pushwire_connections{transport="sse"} 20'
    for i in $(seq 10); do # each answer from either worker
        run C "$SERVE_URL/metrics"
        assert_line 'pushwire_subscribers{channel="z"} 20'
        assert_line 'pushwire_subscribers{channel="h"} 0'
        assert_line 'pushwire_backlog_messages{channel="z"} 0'
        assert_line 'pushwire_channels 2'
    done
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
    wait_metric 'pushwire_connections{transport="sse"} 0'
    for i in $(seq 10); do
        run C "$SERVE_URL/metrics"
        assert_line 'pushwire_channels 1'
        refute_line --partial 'channel="z"'
    done
    stop_serve_clean
}

@test "workers: /metrics gives the same history bytes whichever worker answers" {
    # one subscriber, on one worker, makes encodings there only: a copy
    # charges none (a replica), so every copy's bytes are the same
    start_serve --workers 2 -q
    curl -s -N --max-time 20 "$SERVE_URL/sse/one" >"$BATS_TEST_TMPDIR/one" & pid=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    for i in 1 2 3; do C -d "message $i" "$SERVE_URL/pub/one" >/dev/null; done
    for i in $(seq 100); do # delivered: its worker has made the encodings
        grep -q 'message 3' "$BATS_TEST_TMPDIR/one" && break
        sleep 0.05
    done
    grep -q 'message 3' "$BATS_TEST_TMPDIR/one"
    first=$(C "$SERVE_URL/metrics" | sed -n 's/^pushwire_history_bytes //p')
    [ -n "$first" ]
    for i in $(seq 20); do # each answer from either worker
        run C "$SERVE_URL/metrics"
        assert_line "pushwire_history_bytes $first"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    stop_serve_clean
}

@test "workers: /metrics sums every worker's access refusals and TLS handshakes, whichever answers" {
    local d=$BATS_TEST_TMPDIR
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$d/k.pem" -out "$d/c.pem" 2>/dev/null
    printf 'workers-token-0123456789\n' >"$d/tok"
    chmod 600 "$d/tok"
    start_serve --workers 2 -q --token-file "$d/tok" \
        --listen tls://127.0.0.1:0 --tls-cert "$d/c.pem" --tls-key "$d/k.pem"
    tport=$(sed -n 's|^pushwire serve: listening on tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$SERVE_LOG")
    [ -n "$tport" ]
    for i in $(seq 20); do # 20 connections with no token: the kernel puts some on each worker
        code=$(C -k -o /dev/null -w '%{http_code}' "https://127.0.0.1:$tport/sse/x")
        [ "$code" = 401 ]
    done
    m() { C -H 'Authorization: Bearer workers-token-0123456789' "$SERVE_URL/metrics"; }
    for i in $(seq 50); do # each worker puts its counts after its loop turn
        m | grep -qxF 'pushwire_refused_total{reason="token"} 20' && break
        sleep 0.1
    done
    for i in $(seq 10); do # each answer from either worker
        run m
        assert_line 'pushwire_refused_total{reason="token"} 20'
        assert_line 'pushwire_tls_handshakes_total 20'
    done
    stop_serve_clean
}

@test "workers: --max-conns counts the connections of every worker" {
    start_serve --workers 2 --max-conns 4
    pids=()
    for i in 1 2 3; do
        curl -s -N --max-time 20 "$SERVE_URL/sse/m" >/dev/null & pids+=($!)
    done
    wait_metric 'pushwire_connections{transport="sse"} 3' 20
    curl -s -N --max-time 20 "$SERVE_URL/sse/m" >/dev/null & pids+=($!)
    # once the fourth is in, whichever worker takes a fifth refuses it
    for i in $(seq 300); do
        code=$(C -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz")
        [ "$code" = 503 ] && break
        sleep 0.05
    done
    [ "$code" = 503 ]
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
    wait_metric 'pushwire_connections{transport="sse"} 0'
    stop_serve_clean
}

@test "workers: stdin lines are published once, log lines are whole, SIGTERM ends every worker with exit 0" {
    SERVE_LOG=$(mktemp "$BATS_TEST_TMPDIR/serve.XXXXXX")
    mkfifo "$BATS_TEST_TMPDIR/in"
    "$PW" serve --listen 127.0.0.1:0 --workers 2 --stdin -c s <"$BATS_TEST_TMPDIR/in" 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    exec 7>"$BATS_TEST_TMPDIR/in"
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID")
    SERVE_URL=http://127.0.0.1:$SERVE_PORT
    printf 'one\ntwo\n' >&7
    wait_metric "pushwire_messages_in_total 2"
    for i in $(seq 10); do C -o /dev/null "$SERVE_URL/healthz"; done
    kill -TERM "$SERVE_PID"
    exec 7>&-
    rc=0
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    [ "$rc" -eq 0 ]
    # one listen line, one shutdown line; every line starts with the applet
    [ "$(grep -c 'listening on' "$SERVE_LOG")" -eq 1 ]
    [ "$(grep -c 'shutdown' "$SERVE_LOG")" -eq 1 ]
    run grep -vc '^pushwire serve: ' "$SERVE_LOG"
    assert_output 0
    ! grep -E 'Sanitizer|runtime error' "$SERVE_LOG"
}

@test "workers: bad counts are refused; --redis with --workers is refused" {
    run pw serve --workers 0
    assert_failure
    assert_output --partial "1-256 or auto"
    run pw serve --workers many
    assert_failure
    run pw serve --workers 2 --redis redis://127.0.0.1:1
    assert_failure
    assert_output --partial "--workers with --redis"
}

# polls_alike CHANNEL QUERY N — N long polls answered at once (timeout=0),
# each on a new connection (the kernel spreads them over the workers): one
# answer, whichever worker gave it; prints it
polls_alike() {
    local i
    for i in $(seq "$3"); do C "$SERVE_URL/poll/$1?timeout=0&$2"; echo; done | grep . | sort | uniq -c >"$BATS_TEST_TMPDIR/polls"
    cut -c1-160 "$BATS_TEST_TMPDIR/polls" >&3
    [ "$(wc -l <"$BATS_TEST_TMPDIR/polls")" -eq 1 ]
    sed 's/^ *[0-9]* //' "$BATS_TEST_TMPDIR/polls"
}

@test "workers: --message-ttl holds, and every worker numbers and answers alike (a subscriber on one worker keeps its channel there, not on the other)" {
    start_serve --workers 2 -q --message-ttl 3
    curl -sN --max-time 30 "$SERVE_URL/sse/a" >"$BATS_TEST_TMPDIR/sub" 3>&- &
    sub=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    C -d a1 "$SERVE_URL/pub/a" >/dev/null
    for i in 1 2 3; do C -d "b$i" "$SERVE_URL/pub/b" >/dev/null; done
    # the age limit, cut by the time the hub carries: the same four leave every copy
    wait_metric 'pushwire_evictions_total{cause="ttl"} 4' 10
    run polls_alike a cursor=0 40
    assert_output --partial '"messages":[]'
    # a (kept by its subscriber on one worker) and b (forgotten) are both
    # forgotten channels now: the next ids come from the same floor everywhere
    id=$(C -d a2 "$SERVE_URL/pub/a" | jq -r .id)
    [ "${id##*:}" = 4 ]
    for i in $(seq 50); do grep -q "data: a2" "$BATS_TEST_TMPDIR/sub" && break; sleep 0.1; done
    grep -q "^id: $id\$" "$BATS_TEST_TMPDIR/sub"
    run polls_alike a "cursor=${id%:*}:3" 20
    assert_output --partial "\"id\":\"$id\""
    kill "$sub" 2>/dev/null || true
    stop_serve_clean
}

@test "workers: --max-channels counts channels with history, alike on every worker; one with only a subscriber is not counted" {
    start_serve --workers 2 -q --max-channels 2
    curl -sN --max-time 30 "$SERVE_URL/sse/q" >/dev/null 3>&- &
    sub=$!
    wait_metric 'pushwire_connections{transport="sse"} 1'
    for ch in a b; do [ "$(C -o /dev/null -w '%{http_code}' -d 1 "$SERVE_URL/pub/$ch")" = 200 ]; done
    for i in $(seq 20); do C -o /dev/null -w '%{http_code}\n' -d 1 "$SERVE_URL/pub/q"; done | sort -u >"$BATS_TEST_TMPDIR/codes"
    [ "$(cat "$BATS_TEST_TMPDIR/codes")" = 503 ]
    wait_metric 'pushwire_channels_refused_total 20'
    [ "$(C -o /dev/null -w '%{http_code}' -d 2 "$SERVE_URL/pub/a")" = 200 ]
    kill "$sub" 2>/dev/null || true
    stop_serve_clean
}

@test "workers: --history-bytes evicts the same messages on every worker, whichever worker's subscribers cached what" {
    start_serve --workers 2 -q --history-bytes 64K
    for ch in x y; do
        curl -sN --max-time 30 "$SERVE_URL/sse/$ch" >/dev/null 3>&- &
        BGS="${BGS:-} $!"
    done
    curl -sN --max-time 30 "$SERVE_URL/sse/z?since=0" >/dev/null 3>&- &
    BGS="$BGS $!"
    wait_metric 'pushwire_connections{transport="sse"} 3'
    data=$(head -c 3000 /dev/zero | tr '\0' x)
    for i in $(seq 40); do
        for ch in x y z w; do C -d "$ch$i$data" "$SERVE_URL/pub/$ch" >/dev/null; done
    done
    run C "$SERVE_URL/metrics"
    ev=$(echo "$output" | sed -n 's/^pushwire_evictions_total{cause="history_bytes"} //p')
    [ "$ev" -gt 100 ]
    for ch in x y z w; do
        polls_alike "$ch" cursor=0 30 >/dev/null
    done
    kill $BGS 2>/dev/null || true
    stop_serve_clean
}

@test "workers: the fan-out under ThreadSanitizer (make build-tsan): no race reported, exit 0" {
    [ -x "$TOP/build/tsan/pushwire" ] || missing "build/tsan/pushwire (make build-tsan)"
    PW="$TOP/build/tsan/pushwire" TSAN_OPTIONS="halt_on_error=0 exitcode=66" start_serve --workers 2 -q --max-conns 2000
    run $PEER fanout "$SERVE_PORT" 200 10 10
    echo "$output"
    assert_success
    kill -TERM "$SERVE_PID"
    rc=0
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    cat "$SERVE_LOG"
    ! grep -q 'ThreadSanitizer' "$SERVE_LOG"
    [ "$rc" -eq 0 ]
}
