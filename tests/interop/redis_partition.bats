#!/usr/bin/env bats
# serve --redis across a network partition: node A runs in a network
# namespace made here (a veth pair, a private /30), cut off from Redis by
# taking its link down while node B goes on publishing, then healed: A's
# subscriber gets everything, in order, once.  Needs root (CI is) and
# iproute2.
load redis_helper

teardown() {
    redis_teardown
    [ -z "${NS:-}" ] || ip netns del "$NS" 2>/dev/null || true
    [ -z "${VH:-}" ] || ip link del "$VH" 2>/dev/null || true
}

# in_ns CMD... — CMD inside the namespace
in_ns() { ip netns exec "$NS" "$@"; }

@test "partition: node A cut off from Redis while B publishes, then healed: A's SSE subscriber gets all 30, in order, once" {
    command -v ip >/dev/null || { missing "ip (iproute2)"; return; }
    NS=pwr$$x$RANDOM
    ip netns add "$NS" 2>"$BATS_TEST_TMPDIR/ns.err" || { missing "network namespaces: $(cat "$BATS_TEST_TMPDIR/ns.err")"; return; }
    VH=pwh$((RANDOM % 100000))
    local vn=pwn$((RANDOM % 100000)) x=$((RANDOM % 250 + 1))
    ip link add "$VH" type veth peer name "$vn"
    ip link set "$vn" netns "$NS"
    ip addr add "10.213.$x.1/30" dev "$VH"
    ip link set "$VH" up
    in_ns ip addr add "10.213.$x.2/30" dev "$vn"
    in_ns ip link set "$vn" up
    in_ns ip link set lo up
    redis_start --bind "127.0.0.1 10.213.$x.1" --protected-mode no
    ch=$(chan)
    # A, in the namespace, reaches Redis over the veth
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$PW" >"$BATS_TEST_TMPDIR/pw-ns"
    chmod +x "$BATS_TEST_TMPDIR/pw-ns"
    PW="$BATS_TEST_TMPDIR/pw-ns" serve_start --redis "redis://10.213.$x.1:$REDIS_PORT"
    A_PID=$SERVE_PID A_HTTP=$SERVE_HTTP A_LOG=$SERVE_LOG
    NODE_PIDS="${NODE_PIDS:-} $A_PID"
    SERVE_PID=
    wait_for in_ns curl -sf --max-time 2 -o /dev/null "$A_HTTP/healthz"
    node B
    in_ns "$PW" connect --json -q --no-stdin --timeout 60 -n 30 --since 0 "$A_HTTP/sse/$ch" \
        >"$BATS_TEST_TMPDIR/a" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    sub=$!
    for i in $(seq 10); do pub_to "$B_HTTP" "$ch" "m-$i" >/dev/null; done
    wait_for sh -c "[ \$(wc -l <'$BATS_TEST_TMPDIR/a') -ge 10 ]"
    # the partition: nothing passes the veth; A sees it by a command unanswered
    ip link set "$VH" down
    for i in $(seq 11 20); do pub_to "$B_HTTP" "$ch" "m-$i" >/dev/null; done
    wait_for sh -c "! ip netns exec $NS curl -sf --max-time 2 -o /dev/null '$A_HTTP/healthz'"
    run in_ns curl -s --max-time 5 "$A_HTTP/healthz"
    assert_output --partial "redis 10.213.$x.1:$REDIS_PORT"
    kill -0 "$sub" # still connected to A
    [ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -eq 10 ]
    # healed: A reconnects and reads the stream from the last id it delivered
    ip link set "$VH" up
    for i in $(seq 21 30); do pub_to "$B_HTTP" "$ch" "m-$i" >/dev/null; done
    wait "$sub" || { cat "$BATS_TEST_TMPDIR/a.err" "$A_LOG"; false; }
    [ "$(datas "$BATS_TEST_TMPDIR/a")" = "$(seq 30 | sed 's/^/m-/')" ]
    [ "$(curl -s --max-time 5 "$B_HTTP/poll/$ch?cursor=0" | jq -r '.messages[].id')" = "$(ids "$BATS_TEST_TMPDIR/a")" ]
    grep -q "redis: connected to" "$A_LOG"
    grep -q "no answer within 3 s\|connection timed out" "$A_LOG"
    wait_for in_ns curl -sf --max-time 2 -o /dev/null "$A_HTTP/healthz"
    node_stop B
}
