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

@test "workers: /metrics gives the history bytes of every worker's copy, whichever answers" {
    # a copy's bytes include the encodings its worker's subscribers made:
    # one subscriber, on one worker, makes the copies differ
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
    wait_metric 'pushwire_connections{transport="sse"} 3'
    curl -s -N --max-time 20 "$SERVE_URL/sse/m" >/dev/null & pids+=($!)
    # once the fourth is in, whichever worker takes a fifth refuses it
    for i in $(seq 100); do
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
    run pw serve --workers 2 --message-ttl 10
    assert_failure
    assert_output --partial "--backlog per channel"
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
