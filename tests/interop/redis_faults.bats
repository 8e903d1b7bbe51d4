#!/usr/bin/env bats
# serve --redis, restarts lose nothing (docs/REDIS.md): of two nodes behind
# one Redis, kill -9 of one while publishing goes on, its clients resuming
# on the other (--cursor-file), counted: 0 lost, 0 twice; SIGTERM while
# publishing: every acknowledged message is in Redis.
load redis_helper

teardown() { redis_teardown; }

# publisher BASE CHANNEL PREFIX N OUT — POSTs PREFIX-1..N in the background,
# one after the other; OUT gets the data of each one acknowledged (200); it
# stops at the first refusal
publisher() {
    (
        for ((i = 1; i <= $4; i++)); do
            curl -sf --max-time 5 --data-binary "$3-$i" "$1/pub/$2" >/dev/null || break
            echo "$3-$i" >>"$5"
        done
    ) 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    LAST_BG=$!
}

# client NAME URL [ARGS] — connect --json with a cursor file of its own
client() {
    local n=$1 url=$2
    shift 2
    "$PW" connect --json -q --no-stdin --timeout 60 --cursor-file "$BATS_TEST_TMPDIR/$n.cursor" "$@" "$url" \
        >>"$BATS_TEST_TMPDIR/$n.out" 2>>"$BATS_TEST_TMPDIR/$n.err" 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    eval "${n}_CPID=$!"
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

@test "kill -9 of node A while publishing on A and B goes on: its WebSocket, SSE and long-poll clients resume on B: 0 lost, 0 twice" {
    redis_start
    ch=$(chan)
    node A
    node B
    for c in ws sse poll; do echo 0 >"$BATS_TEST_TMPDIR/$c.cursor"; done
    client ws "$A_WS/ws/$ch" --subprotocol pushwire.v1
    client sse "$A_HTTP/sse/$ch"
    client poll "$A_HTTP/poll/$ch" --poll
    publisher "$B_HTTP" "$ch" b 120 "$BATS_TEST_TMPDIR/acked-b"; pb=$LAST_BG
    publisher "$A_HTTP" "$ch" a 120 "$BATS_TEST_TMPDIR/acked-a"
    wait_for sh -c "[ \$(cat '$BATS_TEST_TMPDIR/acked-b' 2>/dev/null | wc -l) -ge 40 ]"
    kill -9 "$A_PID"
    A_PID=
    for c in ws sse poll; do eval "wait \$${c}_CPID" || true; done
    # every client goes on from its cursor on B, until the last of B's 120
    client ws "$B_WS/ws/$ch" --subprotocol pushwire.v1 --until '^b-120$'
    client sse "$B_HTTP/sse/$ch" --until '^b-120$'
    client poll "$B_HTTP/poll/$ch" --poll --until '^b-120$'
    wait "$pb"
    [ "$(lines "$BATS_TEST_TMPDIR/acked-b")" -eq 120 ]
    for c in ws sse poll; do eval "wait \$${c}_CPID" || { cat "$BATS_TEST_TMPDIR/$c.err"; false; }; done
    # what Redis holds, in order: every acknowledged message is there
    curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=0" | jq -r '.messages[] | .id + " " + .data' >"$BATS_TEST_TMPDIR/held"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/held")" -lt 1000 ] # one page: the whole channel
    cat "$BATS_TEST_TMPDIR"/acked-* | awk 'NR == FNR { h[$2] = 1; next } !($0 in h) { print "acknowledged, not held: " $0; bad = 1 } END { exit bad }' "$BATS_TEST_TMPDIR/held" -
    # each client: exactly what is held up to b-120, in order, none twice
    sed '/ b-120$/q' "$BATS_TEST_TMPDIR/held" >"$BATS_TEST_TMPDIR/want"
    for c in ws sse poll; do
        jq -r 'select(.id != null) | .id + " " + .data' "$BATS_TEST_TMPDIR/$c.out" >"$BATS_TEST_TMPDIR/$c.got"
        dups=$(sort "$BATS_TEST_TMPDIR/$c.got" | uniq -d | wc -l)
        echo "# $c: $(wc -l <"$BATS_TEST_TMPDIR/$c.got") received, $dups twice, want $(wc -l <"$BATS_TEST_TMPDIR/want")" >&3
        [ "$dups" -eq 0 ]
        diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/$c.got"
    done
    node_stop B
}

@test "SIGTERM to a node while it publishes: every acknowledged message is held, and B serves them" {
    redis_start
    ch=$(chan)
    node A
    node B
    publisher "$A_HTTP" "$ch" a 100000 "$BATS_TEST_TMPDIR/acked"; pa=$LAST_BG
    wait_for sh -c "[ \$(cat '$BATS_TEST_TMPDIR/acked' 2>/dev/null | wc -l) -ge 20 ]"
    node_stop A
    wait "$pa" || true
    n=$(lines "$BATS_TEST_TMPDIR/acked")
    [ "$n" -ge 20 ]
    [ "$n" -lt 100000 ]
    curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].data' >"$BATS_TEST_TMPDIR/held"
    # held in the order acknowledged; at most one more (sent, its answer cut)
    head -n "$n" "$BATS_TEST_TMPDIR/held" | diff "$BATS_TEST_TMPDIR/acked" -
    [ "$(wc -l <"$BATS_TEST_TMPDIR/held")" -le $((n + 1)) ]
    node_stop B
}

@test "Redis frozen (SIGSTOP): publishes waiting on it are answered 503 within the 3 s command timeout, memory stays bounded; SIGCONT: back, nothing lost" {
    redis_start
    ch=$(chan)
    node A
    pub_to "$A_HTTP" "$ch" before >/dev/null
    kill -STOP "$REDIS_PID"
    rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$A_PID/status")
    for i in $(seq 20); do
        curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' --data-binary "frozen-$i" "$A_HTTP/pub/$ch" \
            >>"$BATS_TEST_TMPDIR/codes" 3>&- &
        BG_PIDS="${BG_PIDS:-} $!"
    done
    wait_for sh -c "[ \$(wc -l <'$BATS_TEST_TMPDIR/codes' 2>/dev/null || echo 0) -eq 20 ]"
    [ "$(sort -u "$BATS_TEST_TMPDIR/codes")" = 503 ]
    run curl -s --max-time 5 "$A_HTTP/healthz"
    assert_output --partial "no answer within 3 s"
    rss1=$(awk '/^VmRSS:/ {print $2}' "/proc/$A_PID/status")
    echo "# RSS ${rss0} KiB before, ${rss1} KiB after 20 publishes into a frozen Redis" >&3
    [ "$rss1" -lt $((rss0 + 8192)) ]
    kill -CONT "$REDIS_PID"
    wait_for curl -sf -o /dev/null --max-time 2 "$A_HTTP/healthz"
    pub_to "$A_HTTP" "$ch" after >/dev/null
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0"
    assert_output --partial '"data":"before"'
    assert_output --partial '"data":"after"'
    node_stop A
}

@test "trimmed while cut off: node A frozen, its Redis subscriber link killed, B publishes past --backlog; A's SSE and WebSocket (pushwire.v1) subscribers get a gap after the last id they had, then what is held; a plain WebSocket is closed 4410; a parked long poll answers the gap" {
    # one entry per stream node: MAXLEN ~ trims exactly
    redis_start --stream-node-max-entries 1
    ch=$(chan)
    node A --backlog 3
    node B --backlog 3
    for i in 1 2 3; do pub_to "$B_HTTP" "$ch" "m-$i" >/dev/null; done
    client sse "$A_HTTP/sse/$ch" --since 0
    client ws "$A_WS/ws/$ch" --subprotocol pushwire.v1 --since 0
    # no --since, no --cursor-file: either asks for pushwire.v1
    "$PW" connect --json --no-stdin --timeout 60 "$A_WS/ws/$ch?since=0" \
        >"$BATS_TEST_TMPDIR/plain.out" 2>"$BATS_TEST_TMPDIR/plain.err" 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    plain_CPID=$!
    wait_for sh -c "grep -q '\"data\":\"m-3\"' '$BATS_TEST_TMPDIR/sse.out' && grep -q '\"data\":\"m-3\"' '$BATS_TEST_TMPDIR/ws.out' && grep -q '\"data\":\"m-3\"' '$BATS_TEST_TMPDIR/plain.out'"
    id3=$(jq -r 'select(.data == "m-3") | .id' "$BATS_TEST_TMPDIR/sse.out")
    curl -s --max-time 60 "$A_HTTP/poll/$ch?cursor=$id3&timeout=50" >"$BATS_TEST_TMPDIR/poll" 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    pollpid=$!
    wait_for sh -c "curl -s --max-time 2 '$A_HTTP/metrics' | grep -q '^pushwire_connections{transport=\"poll\"} 1'"
    # A cannot notice its subscriber link going: frozen until B is done
    kill -STOP "$A_PID"
    redis-cli -p "$REDIS_PORT" CLIENT KILL TYPE pubsub >/dev/null
    for i in $(seq 4 13); do pub_to "$B_HTTP" "$ch" "m-$i" >/dev/null; done
    [ "$(redis-cli -p "$REDIS_PORT" XLEN "pw:{$ch}:s")" -le 4 ] # m-4 is gone
    kill -CONT "$A_PID"
    wait_for grep -q "trimmed past the last id delivered" "$A_LOG" || { cat "$A_LOG" >&3; false; }
    pub_to "$B_HTTP" "$ch" m-14 >/dev/null
    wait_for sh -c "grep -q '\"data\":\"m-14\"' '$BATS_TEST_TMPDIR/sse.out' && grep -q '\"data\":\"m-14\"' '$BATS_TEST_TMPDIR/ws.out'"
    wait "$pollpid"
    for n in sse ws; do
        f=$BATS_TEST_TMPDIR/$n.out
        echo "# $n: $(jq -r 'if .id then .data else "gap after \(.after) first \(.first)" end' "$f" | tr '\n' ' ')" >&3
        # m-1..m-3, one gap (no id) after m-3's id, then m-K..m-14 in order, K > 4
        [ "$(datas "$f" | head -3)" = "$(printf 'm-1\nm-2\nm-3')" ]
        [ "$(jq -c 'select(.id == null)' "$f" | wc -l)" -eq 1 ]
        [ "$(jq -r 'select(.id == null) | .after' "$f")" = "$id3" ]
        k=$(datas "$f" | sed -n 4p | sed 's/^m-//')
        [ "$k" -gt 4 ]
        [ "$(datas "$f" | tail -n +4)" = "$(seq "$k" 14 | sed 's/^/m-/')" ]
        [ "$(jq -r 'select(.id == null) | .first' "$f")" = "$(ids "$f" | sed -n 4p)" ]
        [ "$(jq -r 'select(.id == null) | input_line_number' "$f")" -eq 4 ] # between m-3 and m-K
    done
    # a WebSocket without pushwire.v1 has nowhere to put the gap: closed 4410, nothing after m-3
    rc=0
    wait "$plain_CPID" || rc=$?
    [ "$rc" -eq 8 ] || { echo "# plain: exit $rc: $(cat "$BATS_TEST_TMPDIR/plain.err")" >&3; false; }
    grep -q "closed the connection with 4410 .*gap: after $id3, first held " "$BATS_TEST_TMPDIR/plain.err"
    # (the client prints the close's gap as a gap line)
    [ "$(jq -r '.event + " " + (.after // .data)' "$BATS_TEST_TMPDIR/plain.out")" = "$(printf 'message m-1\nmessage m-2\nmessage m-3\ngap %s' "$id3")" ]
    echo "# poll: $(cat "$BATS_TEST_TMPDIR/poll")" >&3
    run jq -r '[.gap, .after, .first == .messages[0].id, (.messages[0].data | ltrimstr("m-") | tonumber > 4)] | @tsv' "$BATS_TEST_TMPDIR/poll"
    assert_output "$(printf 'true\t%s\ttrue\ttrue' "$id3")"
    run curl -s --max-time 5 "$A_HTTP/metrics"
    assert_line 'pushwire_redis_live_gaps_total 1'
    node_stop A
    node_stop B
}

@test "SCRIPT FLUSH, then the subscriber link lost: the channel's catch-up read is answered NOSCRIPT; the scripts are loaded again and it is read again: its SSE subscriber gets what follows, and publishing goes on" {
    redis_start
    ch=$(chan)
    node A
    client sse "$A_HTTP/sse/$ch" --since 0
    pub_to "$A_HTTP" "$ch" one >/dev/null
    wait_for grep -q '"data":"one"' "$BATS_TEST_TMPDIR/sse.out"
    redis-cli -p "$REDIS_PORT" SCRIPT FLUSH >/dev/null
    # the subscriber link goes: A reads the channel's stream again (EVALSHA)
    redis-cli -p "$REDIS_PORT" CLIENT KILL TYPE pubsub >/dev/null
    wait_for sh -c "[ \$(grep -c 'redis: connected to' '$A_LOG') -ge 2 ]"
    # a refused publish is allowed (NOSCRIPT), the next ones go through
    for i in 1 2 3; do curl -s --max-time 5 -o /dev/null --data-binary "refused-or-not-$i" "$A_HTTP/pub/$ch"; done
    pub_to "$A_HTTP" "$ch" two >/dev/null
    wait_for grep -q '"data":"two"' "$BATS_TEST_TMPDIR/sse.out" || { cat "$BATS_TEST_TMPDIR/sse.out" "$A_LOG" >&3; false; }
    # in order, none twice: what is held
    curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].id' >"$BATS_TEST_TMPDIR/held"
    ids "$BATS_TEST_TMPDIR/sse.out" | diff "$BATS_TEST_TMPDIR/held" -
    node_stop A
}

@test "rolling restart with --drain: node A, stopped with SIGTERM, ends its 6 SSE clients over 2 s while B publishes; each got what Redis carried until its turn, and resumed on B from its cursor: 0 lost, 0 twice; exit 0" {
    redis_start
    ch=$(chan)
    node A --drain 2
    node B
    for i in 1 2 3 4 5 6; do
        echo 0 >"$BATS_TEST_TMPDIR/s$i.cursor"
        client "s$i" "$A_HTTP/sse/$ch"
        wait_for sh -c "[ \$(grep -c \"sse '$ch'\" '$A_LOG') -ge $i ]"
    done
    publisher "$B_HTTP" "$ch" b 150 "$BATS_TEST_TMPDIR/acked-b"; pb=$LAST_BG
    wait_for sh -c "[ \$(cat '$BATS_TEST_TMPDIR/acked-b' 2>/dev/null | wc -l) -ge 10 ]"
    node_stop A # SIGTERM, exit 0
    for i in 1 2 3 4 5 6; do eval "wait \$s${i}_CPID" || true; done
    grep -q 'draining (--drain)' "$A_LOG"
    first=$(datas "$BATS_TEST_TMPDIR/s1.out" | wc -l)
    last=$(datas "$BATS_TEST_TMPDIR/s6.out" | wc -l)
    echo "on A: the first told got $first, the last $last" >&3
    [ "$last" -gt "$first" ]
    wait "$pb"
    [ "$(lines "$BATS_TEST_TMPDIR/acked-b")" -eq 150 ]
    # each resumes on B from its cursor, up to what B publishes next
    for i in 1 2 3 4 5 6; do client "s$i" "$B_HTTP/sse/$ch" --until '^c-20$'; done
    publisher "$B_HTTP" "$ch" c 20 "$BATS_TEST_TMPDIR/acked-c"
    for i in 1 2 3 4 5 6; do eval "wait \$s${i}_CPID" || { cat "$BATS_TEST_TMPDIR/s$i.err"; false; }; done
    curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].id' >"$BATS_TEST_TMPDIR/held"
    for i in 1 2 3 4 5 6; do ids "$BATS_TEST_TMPDIR/s$i.out" | diff "$BATS_TEST_TMPDIR/held" -; done
    node_stop B
}

@test "Redis busy with a script (BUSY) when a channel's first subscriber comes: its SUBSCRIBE and catch-up are refused, and tried again (/healthz 503 with BUSY meanwhile); once the script is killed, the subscriber goes live: it gets what is published, once, in order" {
    redis_start --busy-reply-threshold 50
    ch=$(chan)
    node A
    pub_to "$A_HTTP" "$ch" before >/dev/null
    timeout 20 redis-cli -p "$REDIS_PORT" EVAL 'while true do end' 0 >/dev/null 2>&1 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    wait_for sh -c "redis-cli -p $REDIS_PORT PING 2>&1 | grep -q BUSY"
    client sse "$A_HTTP/sse/$ch" # live only: a resume would be refused (503) now
    # its SUBSCRIBE is answered BUSY
    wait_for sh -c "curl -s --max-time 2 '$A_HTTP/metrics' | grep -q '^pushwire_redis_errors_total [1-9]'"
    # the link is up, but Redis takes nothing: /healthz says so, with its answer
    run curl -s --max-time 5 -w ' %{http_code}' "$A_HTTP/healthz"
    assert_output --regexp "redis 127.0.0.1:$REDIS_PORT refuses: BUSY .* 503$"
    redis-cli -p "$REDIS_PORT" SCRIPT KILL >/dev/null
    # the channel's catch-up, tried again, is taken: ok again
    wait_for curl -sf -o /dev/null --max-time 2 "$A_HTTP/healthz"
    # live-only: its tail is read once Redis answers (a retry of the tick's),
    # so what is published before that is not for it; publish until it is live
    for ((i = 1; i <= 50; i++)); do
        pub_to "$A_HTTP" "$ch" "after-$i" >/dev/null
        grep -q '"data":"after-' "$BATS_TEST_TMPDIR/sse.out" && break
        sleep 0.2
    done
    wait_for grep -q "\"data\":\"after-$i\"" "$BATS_TEST_TMPDIR/sse.out" || { cat "$BATS_TEST_TMPDIR/sse.out" "$A_LOG" >&3; false; }
    # from the first it got to the last published: each once, in order
    k=$(datas "$BATS_TEST_TMPDIR/sse.out" | head -1 | sed 's/^after-//')
    [ "$(datas "$BATS_TEST_TMPDIR/sse.out")" = "$(seq "$k" "$i" | sed 's/^/after-/')" ]
    node_stop A
}

@test "Redis busy (BUSY) while 20 channels get their first subscriber: their commands are retried with a backoff and one probe a tick, not each channel every 250 ms; once the script is killed every channel is subscribed" {
    redis_start --busy-reply-threshold 50
    node A
    timeout 20 redis-cli -p "$REDIS_PORT" EVAL 'while true do end' 0 >/dev/null 2>&1 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    wait_for sh -c "redis-cli -p $REDIS_PORT PING 2>&1 | grep -q BUSY"
    for ((i = 1; i <= 20; i++)); do
        curl -sN --max-time 30 "$A_HTTP/sse/busy-$i" >/dev/null 2>&1 3>&- &
        BG_PIDS="${BG_PIDS:-} $!"
    done
    sleep 4
    redis-cli -p "$REDIS_PORT" SCRIPT KILL >/dev/null
    # each channel's SUBSCRIBE and catch-up, refused: retried every 250 ms
    # that is ~32 refusals a channel in 4 s; backing off, ~8 and the probes
    wait_for sh -c "redis-cli -p $REDIS_PORT INFO commandstats | grep -q '^cmdstat_subscribe:calls=20,'"
    refused=$(redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\(subscribe\|evalsha\):.*rejected_calls=\([0-9]*\).*/\2/p' | awk '{ n += $1 } END { print n + 0 }')
    echo "refused: $refused" >&3
    [ "$refused" -gt 0 ]
    [ "$refused" -lt 400 ]
    node_stop A
}

@test "Redis out of memory (maxmemory, noeviction) refuses writes on a link that works: POST 503 and /healthz 503 say Redis's OOM, one log line; reading goes on; once it takes writes, a publish is 200 and /healthz 200" {
    redis_start
    ch=$(chan)
    node A
    pub_to "$A_HTTP" "$ch" before >/dev/null
    redis-cli -p "$REDIS_PORT" CONFIG SET maxmemory 1 >/dev/null
    for i in 1 2 3; do
        run curl -s --max-time 5 -w ' %{http_code}' --data "x-$i" "$A_HTTP/pub/$ch"
        assert_output --partial "refuses writes: OOM command not allowed when used memory > 'maxmemory'. (for "
        assert_output --partial ' 503'
        refute_output --partial 'script:' # Redis names our script after its answer: not shown
    done
    refusing "$A_HTTP" "redis 127.0.0.1:$REDIS_PORT refuses writes: OOM .*"
    # what is held can still be read
    [ "$(curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0&timeout=0" | jq -r '.messages[].data')" = before ]
    redis-cli -p "$REDIS_PORT" CONFIG SET maxmemory 0 >/dev/null
    run curl -s --max-time 5 -w ' %{http_code}' --data after "$A_HTTP/pub/$ch"
    assert_output --partial ' 200'
    run curl -s --max-time 5 -w ' %{http_code}' "$A_HTTP/healthz"
    assert_output "ok
 200"
    [ "$(grep -c "redis: 127.0.0.1:$REDIS_PORT refuses: OOM" "$A_LOG")" -eq 1 ]
    grep -q "redis: 127.0.0.1:$REDIS_PORT takes commands again" "$A_LOG"
    [ "$(curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0&timeout=0" | jq -r '.messages[].data')" = "$(printf 'before\nafter')" ]
    node_stop A
}
