#!/usr/bin/env bats
# serve --redis (docs/REDIS.md): two nodes on one redis-server share
# channels — the same ids in the same order on every node and transport, a
# resume on one node with an id from the other — and what Redis going away
# does: 503 to publishers, /healthz 503 with the reason, subscribers kept
# and caught up when it returns; a node killed while publishing goes on,
# its clients resuming on the other: nothing lost, nothing twice.
load redis_helper

teardown() { redis_teardown; }

sub() { # sub OUT URL [connect args...]: a background `connect --json`
    local out=$1 url=$2
    shift 2
    "$PW" connect --json -q --no-stdin --timeout 30 "$@" "$url" >"$out" 2>"$out.err" 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    LAST_BG=$!
}

@test "two nodes: POST, stdin and WebSocket on A; WebSocket (pushwire.v1), SSE and long poll on B: the same 9 ids in the same order" {
    redis_start
    ch=$(chan)
    node A --channel "$ch"
    node B
    sub "$BATS_TEST_TMPDIR/ws" "$B_WS/ws/$ch" -n 9 --since 0 --subprotocol pushwire.v1; p1=$LAST_BG
    sub "$BATS_TEST_TMPDIR/sse" "$B_HTTP/sse/$ch" -n 9 --since 0; p2=$LAST_BG
    sub "$BATS_TEST_TMPDIR/poll" "$B_HTTP/poll/$ch" -n 9 --since 0 --poll; p3=$LAST_BG
    for i in 1 2 3; do pub_to "$A_HTTP" "$ch" "post-$i" >/dev/null; done
    printf 'stdin-1\nstdin-2\nstdin-3\n' >"$A_IN"
    wait_for sh -c "curl -s '$A_HTTP/poll/$ch?cursor=0' | jq -e '.messages | length == 6' >/dev/null"
    printf 'ws-1\nws-2\nws-3\n' | timeout 10 "$PW" connect -q "$A_WS/ws/$ch"
    for p in $p1 $p2 $p3; do wait "$p"; done
    want=$(printf '%s\n' post-1 post-2 post-3 stdin-1 stdin-2 stdin-3 ws-1 ws-2 ws-3)
    for f in ws sse poll; do
        [ "$(datas "$BATS_TEST_TMPDIR/$f")" = "$want" ] || { echo "$f got:"; cat "$BATS_TEST_TMPDIR/$f"; false; }
    done
    ids "$BATS_TEST_TMPDIR/ws" >"$BATS_TEST_TMPDIR/ids"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/ids")" -eq 9 ]
    [ "$(sort -u "$BATS_TEST_TMPDIR/ids" | wc -l)" -eq 9 ]
    [ "$(ids "$BATS_TEST_TMPDIR/sse")" = "$(cat "$BATS_TEST_TMPDIR/ids")" ]
    [ "$(ids "$BATS_TEST_TMPDIR/poll")" = "$(cat "$BATS_TEST_TMPDIR/ids")" ]
    # A's own history holds the same ids: EPOCH:MS-SEQ
    [ "$(curl -s "$A_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].id')" = "$(cat "$BATS_TEST_TMPDIR/ids")" ]
    grep -Eqx '[a-z0-9]{12}:[0-9]+-[0-9]+' "$BATS_TEST_TMPDIR/ids"
    node_stop A
    node_stop B
}

@test "two nodes: live deliveries reach subscribers of both nodes with the same ids" {
    redis_start
    ch=$(chan)
    node A
    node B
    sub "$BATS_TEST_TMPDIR/a" "$A_HTTP/sse/$ch" -n 20; pa=$LAST_BG
    sub "$BATS_TEST_TMPDIR/b" "$B_WS/ws/$ch" -n 20 --subprotocol pushwire.v1; pb=$LAST_BG
    # live: subscribed once both nodes list the subscriber in /metrics
    wait_for sh -c "curl -s '$A_HTTP/metrics' | grep -q '^pushwire_subscribers{channel=\"$ch\"} 1'"
    wait_for sh -c "curl -s '$B_HTTP/metrics' | grep -q '^pushwire_subscribers{channel=\"$ch\"} 1'"
    sleep 0.5 # the channel goes live after its first page: not part of what is checked
    for i in $(seq 10); do pub_to "$A_HTTP" "$ch" "a-$i" >/dev/null; pub_to "$B_HTTP" "$ch" "b-$i" >/dev/null; done
    wait "$pa"; wait "$pb"
    [ "$(ids "$BATS_TEST_TMPDIR/a")" = "$(ids "$BATS_TEST_TMPDIR/b")" ]
    [ "$(datas "$BATS_TEST_TMPDIR/a")" = "$(for i in $(seq 10); do echo "a-$i"; echo "b-$i"; done)" ]
    node_stop A
    node_stop B
}

@test "resume on B with an id A gave: SSE, long poll and WebSocket get the 3 after it, same ids" {
    redis_start
    ch=$(chan)
    node A
    node B
    for i in 1 2 3 4 5; do id[$i]=$(pub_to "$A_HTTP" "$ch" "m-$i"); done
    run curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=${id[2]}"
    assert_output "$(printf '{"cursor":"%s","messages":[{"id":"%s","event":"message","data":"m-3"},{"id":"%s","event":"message","data":"m-4"},{"id":"%s","event":"message","data":"m-5"}],"gap":false}' "${id[5]}" "${id[3]}" "${id[4]}" "${id[5]}")"
    run sse_upto "id: ${id[5]}" -H "Last-Event-ID: ${id[2]}" "$B_HTTP/sse/$ch"
    assert_line "id: ${id[3]}"
    assert_line "id: ${id[5]}"
    refute_line "id: ${id[2]}"
    refute_line --partial "event: gap"
    run timeout 10 "$PW" connect --json -q --no-stdin -n 3 --since "${id[2]}" --subprotocol pushwire.v1 "$B_WS/ws/$ch"
    assert_success
    [ "$(printf '%s\n' "$output" | jq -r .id)" = "$(printf '%s\n' "${id[3]}" "${id[4]}" "${id[5]}")" ]
    # an id of another epoch is a gap, whichever node answers
    run curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=zzzz:1-0"
    assert_output --partial '"gap":true,"after":"zzzz:1-0","first":"'"${id[1]}"'"'
    node_stop A
    node_stop B
}

@test "pushwire.v1 without ?since= starts with the channel's position, the same id on every node (0 for a channel never used); connect --reconnect on B, whose node stops before the first message while A publishes, gets those messages once B is back: once each, no gap" {
    redis_start
    ch=$(chan)
    node A
    node B
    run timeout 10 "$PW" connect -v --no-stdin --subprotocol pushwire.v1 --idle 0.5 "$B_WS/ws/$ch"
    assert_line '* position: 0'
    last=$(pub_to "$A_HTTP" "$ch" m0)
    for n in A B; do
        eval "ws=\$${n}_WS"
        run timeout 10 "$PW" connect -v --no-stdin --subprotocol pushwire.v1 --idle 0.5 "$ws/ws/$ch"
        assert_line "* position: $last"
        refute_line --partial 'm0'
    done
    cur=$BATS_TEST_TMPDIR/cur
    port=${B_HTTP##*:}
    "$PW" connect --reconnect --no-stdin -n 2 --timeout 30 --cursor-file "$cur" "$B_WS/ws/$ch" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    p=$!
    BG_PIDS="${BG_PIDS:-} $p"
    wait_for test -s "$cur"
    [ "$(cat "$cur")" = "$last" ]
    node_stop B
    pub_to "$A_HTTP" "$ch" m1 >/dev/null
    pub_to "$A_HTTP" "$ch" m2 >/dev/null
    SERVE_PORT_WANT=$port node B
    wait "$p"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(printf 'm1\nm2')" ] || { cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"; false; }
    run grep -c gap "$BATS_TEST_TMPDIR/err"
    assert_output 0
    node_stop A
    node_stop B
}

@test "resume after an id --backlog trimmed: long poll, SSE and WebSocket get a gap after it, first the oldest held; the id just before the oldest held is one too (Redis keeps no trace of a trim); one still held is not" {
    # one entry per stream node: MAXLEN ~ trims exactly
    redis_start --stream-node-max-entries 1
    ch=$(chan)
    node A --backlog 3
    for i in 1 2 3 4 5 6; do id[$i]=$(pub_to "$A_HTTP" "$ch" "m-$i"); done
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=${id[1]}"
    assert_output "$(printf '{"cursor":"%s","messages":[{"id":"%s","event":"message","data":"m-4"},{"id":"%s","event":"message","data":"m-5"},{"id":"%s","event":"message","data":"m-6"}],"gap":true,"after":"%s","first":"%s"}' "${id[6]}" "${id[4]}" "${id[5]}" "${id[6]}" "${id[1]}" "${id[4]}")"
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=${id[3]}"
    assert_output --partial '"gap":true,"after":"'"${id[3]}"'","first":"'"${id[4]}"'"'
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=${id[4]}"
    assert_output --partial '"gap":false'
    run sse_upto "id: ${id[6]}" -H "Last-Event-ID: ${id[2]}" "$A_HTTP/sse/$ch"
    assert_line "event: gap"
    assert_line --partial "\"after\":\"${id[2]}\""
    assert_line "id: ${id[4]}"
    run timeout 10 "$PW" connect --json -q --no-stdin -n 3 --since "${id[2]}" --subprotocol pushwire.v1 "$A_WS/ws/$ch"
    assert_success
    [ "$(printf '%s\n' "$output" | jq -r '.event + " " + (.id // .after)')" = "$(printf 'gap %s\nmessage %s\nmessage %s\nmessage %s' "${id[2]}" "${id[4]}" "${id[5]}" "${id[6]}")" ]
    node_stop A
}

@test "a resume after 0 once --backlog trimmed the stream is a gap, as without Redis; so 0, the position of a channel never published to, cannot hide a trim (long poll, SSE, WebSocket)" {
    redis_start --stream-node-max-entries 1
    ch=$(chan)
    node A --backlog 3
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?timeout=0"
    assert_output '{"cursor":"0","messages":[],"gap":false}'
    for i in 1 2 3; do id[$i]=$(pub_to "$A_HTTP" "$ch" "m-$i"); done
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0&timeout=0"
    assert_output --partial '"gap":false'
    for i in 4 5 6 7; do id[$i]=$(pub_to "$A_HTTP" "$ch" "m-$i"); done
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0&timeout=0"
    assert_output --partial '"gap":true,"after":"0","first":"'"${id[5]}"'"'
    run sse_upto "id: ${id[7]}" -H "Last-Event-ID: 0" "$A_HTTP/sse/$ch"
    assert_line "event: gap"
    assert_line "data: {\"after\":\"0\",\"first\":\"${id[5]}\"}"
    run timeout 10 "$PW" connect --json -q --no-stdin -n 3 --since 0 "$A_WS/ws/$ch"
    assert_success
    [ "$(printf '%s\n' "$output" | jq -r '.event + " " + (.id // .after)')" = "$(printf 'gap 0\nmessage %s\nmessage %s\nmessage %s' "${id[5]}" "${id[6]}" "${id[7]}")" ]
    node_stop A
}

@test "Redis stopped and left down: POST 503, WebSocket publisher closed 1013, /healthz 503 with the reason; subscribers stay and catch up when it is back (AOF)" {
    redis_start --appendonly yes --appendfsync always
    ch=$(chan)
    node A
    node B
    sub "$BATS_TEST_TMPDIR/sub" "$B_HTTP/sse/$ch" -n 6 --since 0 --timeout 60; ps=$LAST_BG
    for i in 1 2 3; do pub_to "$A_HTTP" "$ch" "before-$i" >/dev/null; done
    redis_stop
    wait_for sh -c "! curl -sf -o /dev/null '$A_HTTP/healthz'"
    run curl -s --max-time 5 -w ' %{http_code}' --data x "$A_HTTP/pub/$ch"
    assert_output --partial ' 503'
    run curl -s --max-time 5 "$A_HTTP/healthz"
    assert_output --partial 'the message backend is unavailable: redis 127.0.0.1:'"$REDIS_PORT"
    run timeout 10 "$PW" connect -q -w '%{close_code}' --send oops --wait "$A_WS/ws/$ch"
    assert_output --partial 1013
    grep -q "redis: 127.0.0.1:$REDIS_PORT: " "$A_LOG"
    run curl -s --max-time 5 "$A_HTTP/metrics"
    assert_line "pushwire_backend_up 0"
    assert_line "pushwire_redis_up 0"
    assert_line --regexp '^pushwire_redis_reconnects_total [1-9][0-9]*$'
    assert_line --regexp '^pushwire_redis_commands_in_flight [0-9]+$'
    kill -0 "$ps" # the subscriber is still connected
    sleep 1
    kill -0 "$ps"
    redis_start --appendonly yes --appendfsync always
    wait_for curl -sf -o /dev/null "$A_HTTP/healthz"
    wait_for curl -sf -o /dev/null "$B_HTTP/healthz"
    for i in 1 2 3; do pub_to "$A_HTTP" "$ch" "after-$i" >/dev/null; done
    wait "$ps"
    [ "$(datas "$BATS_TEST_TMPDIR/sub")" = "$(printf '%s\n' before-1 before-2 before-3 after-1 after-2 after-3)" ]
    ! grep -q gap "$BATS_TEST_TMPDIR/sub"
    [ "$(grep -c "redis: connected to 127.0.0.1:$REDIS_PORT" "$A_LOG")" -eq 2 ]
    # one line per state change, not one per try
    [ "$(grep -c "redis: 127.0.0.1:$REDIS_PORT: " "$A_LOG")" -eq 1 ]
    run curl -s --max-time 5 "$A_HTTP/metrics"
    assert_line "pushwire_redis_up 1"
    node_stop A
    node_stop B
}

@test "unix:// socket; a password in the URL (AUTH); none when Redis wants one is /healthz 503 with Redis's answer" {
    REDIS_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/r.XXXXXX")
    redis_start --unixsocket "$REDIS_DIR/r.sock"
    ch=$(chan)
    REDIS_URL="unix://$REDIS_DIR/r.sock"
    node A
    id=$(pub_to "$A_HTTP" "$ch" hello)
    [ "$(redis-cli -p "$REDIS_PORT" xlen "pw:{$ch}:s")" = 1 ]
    [ "$(redis-cli -p "$REDIS_PORT" get "pw:{$ch}:e")" = "${id%%:*}" ]
    redis-cli -p "$REDIS_PORT" config set requirepass 's3cr@t' >/dev/null
    REDIS_URL="redis://:s3cr%40t@127.0.0.1:$REDIS_PORT"
    node B
    run curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=0"
    assert_output --partial "\"id\":\"$id\""
    # no password: refused by Redis, and /healthz says so
    serve_start --redis "unix://$REDIS_DIR/r.sock"
    NODE_PIDS="${NODE_PIDS:-} $SERVE_PID"
    wait_for sh -c "curl -s --max-time 2 '$SERVE_HTTP/healthz' | grep -q 'setup refused: NOAUTH'"
    serve_stop
    node_stop A
    node_stop B
}

@test "an ACL user without pub/sub channels (Redis 7 makes them so) is /healthz 503 and a log line with Redis's NOPERM, not a 503 on every publish beside a 200 /healthz; with &pw:* the commands docs/REDIS.md lists are enough" {
    redis_start
    ch=$(chan)
    redis-cli -p "$REDIS_PORT" ACL SETUSER pw on '>s3cret' '~pw:*' resetchannels -@all +evalsha +script\|load \
        +publish +subscribe +unsubscribe +ping +cluster\|slots +asking +select \
        +get +set +exists +xadd +xrange +xinfo\|stream +role >/dev/null
    REDIS_URL="redis://pw:s3cret@127.0.0.1:$REDIS_PORT"
    serve_start --redis "$REDIS_URL"
    NODE_PIDS="${NODE_PIDS:-} $SERVE_PID"
    wait_for sh -c "curl -s --max-time 2 '$SERVE_HTTP/healthz' | grep -q 'setup refused: NOPERM'"
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary x "$SERVE_HTTP/pub/$ch"
    assert_output 503
    grep -q 'redis: .*setup refused: NOPERM' "$SERVE_LOG"
    [ "$(grep -c 'setup refused' "$SERVE_LOG")" -eq 1 ] # once, not once per try
    # the channels given: it comes up, publishes and delivers
    redis-cli -p "$REDIS_PORT" ACL SETUSER pw '&pw:*' >/dev/null
    wait_for curl -sf --max-time 2 -o /dev/null "$SERVE_HTTP/healthz"
    sub "$BATS_TEST_TMPDIR/sse" "$SERVE_HTTP/sse/$ch" -n 2 --since 0; p=$LAST_BG
    pub_to "$SERVE_HTTP" "$ch" one >/dev/null
    pub_to "$SERVE_HTTP" "$ch" two >/dev/null
    wait "$p"
    [ "$(datas "$BATS_TEST_TMPDIR/sse")" = "$(printf 'one\ntwo')" ]
    serve_stop
}

@test "the ACL SETUSER of docs/REDIS.md, run as written, is enough: the server comes up, publishes, delivers and resumes" {
    # Redis applies ACL rules left to right: a resetchannels written after
    # &pw:* took the channels away again (NOPERM at setup, every publish 503)
    redis_start
    ch=$(chan)
    acl=$(sed -n '/^ACL SETUSER/,/^```/p' "$TOP/docs/REDIS.md" | sed '$d' | tr -s ' \n' '  ')
    [[ $acl == "ACL SETUSER pushwire on >PASS "* ]] || fail "no ACL SETUSER in docs/REDIS.md: $acl"
    read -r -a words <<<"${acl//>PASS/>s3cret}"
    run redis-cli -p "$REDIS_PORT" "${words[@]}"
    assert_output OK
    REDIS_URL="redis://pushwire:s3cret@127.0.0.1:$REDIS_PORT"
    node A
    sub "$BATS_TEST_TMPDIR/sse" "$A_HTTP/sse/$ch" -n 2 --since 0; p=$LAST_BG
    pub_to "$A_HTTP" "$ch" one >/dev/null
    pub_to "$A_HTTP" "$ch" two >/dev/null
    wait "$p"
    [ "$(datas "$BATS_TEST_TMPDIR/sse")" = "$(printf 'one\ntwo')" ]
    first=$(ids "$BATS_TEST_TMPDIR/sse" | head -n 1)
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=$first"
    assert_output --partial '"data":"two"'
    assert_output --partial '"gap":false'
    refute grep -q NOPERM "$A_LOG"
    node_stop A
}

@test "a read-only replica given is refused at setup (/healthz 503 says so), not a 503 on every publish beside a 200 /healthz; a primary made a replica while serving (READONLY) is the same; made a primary again, publishing goes on" {
    redis_start
    prim=$REDIS_PORT
    REDIS_PORT= REDIS_DIR=
    redis_start --replicaof 127.0.0.1 "$prim"
    repl=$REDIS_PORT
    ch=$(chan)
    # the replica given
    REDIS_URL=redis://127.0.0.1:$repl
    serve_start --redis "$REDIS_URL"
    NODE_PIDS="${NODE_PIDS:-} $SERVE_PID"
    wait_for sh -c "curl -s --max-time 2 '$SERVE_HTTP/healthz' | grep -q 'setup refused: Redis is a replica'"
    grep -q 'redis: .*setup refused: Redis is a replica' "$SERVE_LOG"
    serve_stop
    # the primary given, then made a replica of the other (a failover)
    REDIS_URL=redis://127.0.0.1:$prim
    node A
    pub_to "$A_HTTP" "$ch" one >/dev/null
    redis-cli -p "$repl" REPLICAOF NO ONE >/dev/null
    redis-cli -p "$prim" REPLICAOF 127.0.0.1 "$repl" >/dev/null
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary two "$A_HTTP/pub/$ch"
    assert_output 503 # READONLY
    wait_for sh -c "curl -s --max-time 2 '$A_HTTP/healthz' | grep -q 'setup refused: Redis is a replica'"
    redis-cli -p "$prim" REPLICAOF NO ONE >/dev/null
    wait_for curl -sf --max-time 2 -o /dev/null "$A_HTTP/healthz"
    pub_to "$A_HTTP" "$ch" three >/dev/null
    [ "$(curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].data' | tail -1)" = three ]
    node_stop A
}

@test "tokens with --redis: each node checks the same token files; a subscriber on B with the subscribe token gets what A's publisher sent; no token 401, the subscribe token cannot publish" {
    local d=$BATS_TEST_TMPDIR sub=sub-redis-token-0123456789 pub=pub-redis-token-9876543210
    printf '%s\n' "$sub" >"$d/tok"
    printf '%s\n' "$pub" >"$d/ptok"
    chmod 600 "$d/tok" "$d/ptok"
    redis_start
    ch=$(chan)
    node A --token-file "$d/tok" --publish-token-file "$d/ptok"
    node B --token-file "$d/tok" --publish-token-file "$d/ptok"
    st() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
    [ "$(st "$B_HTTP/poll/$ch?timeout=0")" = 401 ]
    [ "$(st -H "Authorization: Bearer $sub" -d x "$B_HTTP/pub/$ch")" = 403 ]
    [ "$(st -d x "$A_HTTP/pub/$ch")" = 401 ]
    sub "$d/b" "$B_WS/ws/$ch" -n 3 --since 0 -H "Authorization: Bearer $sub"; pb=$LAST_BG
    for i in 1 2 3; do
        [ "$(st -H "Authorization: Bearer $pub" --data-binary "m-$i" "$A_HTTP/pub/$ch")" = 200 ]
    done
    wait "$pb"
    [ "$(datas "$d/b")" = "$(printf 'm-%d\n' 1 2 3)" ] || { cat "$d/b" "$d/b.err"; false; }
    [ "$(curl -s -H "Authorization: Bearer $sub" "$B_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].data' | tr '\n' ' ')" = "m-1 m-2 m-3 " ]
    node_stop A
    node_stop B
}

@test "a WebSocket publisher faster than Redis acknowledges is slowed, not closed: 20 000 lines piped in at once are all held and all come back" {
    redis_start
    ch=$(chan)
    node A --backlog 30000
    # more than the 8192 commands a node keeps in flight: its input waits
    # for acks instead of the publisher being closed 1013
    seq 1 20000 | timeout 60 "$PW" connect -q "$A_WS/ws/$ch" >"$BATS_TEST_TMPDIR/back" 2>"$BATS_TEST_TMPDIR/back.err"
    [ "$(redis-cli -p "$REDIS_PORT" XLEN "pw:{$ch}:s")" = 20000 ]
    [ "$(cat "$BATS_TEST_TMPDIR/back")" = "$(seq 1 20000)" ]
    ! grep -q "backend unavailable" "$A_LOG"
    node_stop A
}

@test "--redis refuses rediss:// and a malformed URL, naming what it takes" {
    run "$PW" serve --redis rediss://h:6380
    assert_failure 2
    assert_output --partial "rediss:// (TLS to Redis) is not supported"
    run "$PW" serve --redis redis://h:99999
    assert_failure 2
    assert_output --partial "redis://[USER:PASS@]HOST[:PORT][/DB] or unix:///PATH[?db=N]"
}
