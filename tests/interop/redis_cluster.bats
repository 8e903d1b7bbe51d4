#!/usr/bin/env bats
# serve --redis against a Redis Cluster of 3 primaries started here: two
# nodes, channels on all three primaries, the same ids in the same order on
# both, resumes across nodes, and a command sent to the wrong primary
# (MOVED) followed.
load redis_helper

teardown() { redis_teardown; }

@test "cluster of 3 primaries: 12 channels on all three; published on A, read on B over SSE and long poll with A's ids, in order" {
    cluster_start
    node A
    node B
    base=$(chan)
    for i in $(seq 12); do chs[$i]="$base-$i"; done
    for i in $(seq 12); do
        "$PW" connect --json -q --no-stdin --timeout 30 -n 3 --since 0 "$B_HTTP/sse/${chs[$i]}" \
            >"$BATS_TEST_TMPDIR/sse-$i" 2>&1 3>&- &
        BG_PIDS="${BG_PIDS:-} $!"
        pids[$i]=$!
    done
    for k in 1 2 3; do
        for i in $(seq 12); do
            pub_to "$A_HTTP" "${chs[$i]}" "m-$i-$k" >>"$BATS_TEST_TMPDIR/ids-$i"
        done
    done
    for i in $(seq 12); do
        wait "${pids[$i]}" || { cat "$BATS_TEST_TMPDIR/sse-$i"; false; }
        [ "$(ids "$BATS_TEST_TMPDIR/sse-$i")" = "$(cat "$BATS_TEST_TMPDIR/ids-$i")" ]
        [ "$(datas "$BATS_TEST_TMPDIR/sse-$i")" = "$(printf 'm-%s-1\nm-%s-2\nm-%s-3\n' $i $i $i)" ]
        [ "$(curl -s --max-time 5 "$B_HTTP/poll/${chs[$i]}?cursor=0" | jq -r '.messages[].id')" = "$(cat "$BATS_TEST_TMPDIR/ids-$i")" ]
    done
    # every primary holds some of the channels
    for p in $CLUSTER_PORTS; do
        n=$(redis-cli -p "$p" dbsize)
        echo "# primary $p: $n keys" >&3
        [ "$n" -ge 2 ]
    done
    run curl -s --max-time 5 "$A_HTTP/metrics"
    assert_line "pushwire_redis_up 1"
    node_stop A
    node_stop B
}

@test "cluster: a slot moved to another primary while serving: MOVED is followed, publishing and reading go on" {
    cluster_start
    node A
    ch=$(chan)
    id1=$(pub_to "$A_HTTP" "$ch" one)
    slot_move_begin "$ch"
    keys=$(redis-cli -p "$FROM_PORT" cluster getkeysinslot "$SLOT" 100)
    # shellcheck disable=SC2086
    redis-cli -p "$FROM_PORT" migrate 127.0.0.1 "$TO_PORT" "" 0 5000 keys $keys >/dev/null
    slot_move_end
    id2=$(pub_to "$A_HTTP" "$ch" two)
    [ -n "$id2" ] && [ "$id2" != null ]
    run curl -s --max-time 5 "$A_HTTP/poll/$ch?cursor=$id1"
    assert_output --partial "\"id\":\"$id2\""
    assert_output --partial '"gap":false'
    [ "$(redis-cli -p "$TO_PORT" dbsize)" -ge 2 ]
    node_stop A
}

@test "cluster: a channel catching up while its slot is half-migrated is answered TRYAGAIN; it is read again, and once the slot has moved its subscriber gets what follows" {
    cluster_start
    node A
    node B
    ch=$(chan)
    "$PW" connect --json -q --no-stdin --timeout 30 --until '^two$' "$A_HTTP/sse/$ch" >"$BATS_TEST_TMPDIR/sse" 2>&1 3>&- &
    BG_PIDS="${BG_PIDS:-} $!"
    spid=$!
    wait_for sh -c "curl -s --max-time 2 '$A_HTTP/metrics' | grep -q '^pushwire_connections{transport=\"sse\"} 1'"
    pub_to "$B_HTTP" "$ch" one >/dev/null
    wait_for grep -q '"data":"one"' "$BATS_TEST_TMPDIR/sse"
    slot_move_begin "$ch"
    # half of the channel's keys moved: a command naming both is TRYAGAIN
    redis-cli -p "$FROM_PORT" migrate 127.0.0.1 "$TO_PORT" "pw:{$ch}:e" 0 5000 >/dev/null
    # A's subscriber link (to the URL's primary) lost: A reads the channel again
    redis-cli -p "${CLUSTER_PORTS%% *}" CLIENT KILL TYPE pubsub >/dev/null
    wait_for sh -c "curl -s --max-time 2 '$A_HTTP/metrics' | grep -q '^pushwire_redis_errors_total [1-9]'"
    redis-cli -p "$FROM_PORT" migrate 127.0.0.1 "$TO_PORT" "pw:{$ch}:s" 0 5000 >/dev/null
    slot_move_end
    pub_to "$B_HTTP" "$ch" two >/dev/null
    wait "$spid" || { cat "$BATS_TEST_TMPDIR/sse" "$A_LOG" >&3; false; }
    [ "$(datas "$BATS_TEST_TMPDIR/sse")" = "$(printf 'one\ntwo')" ]
    node_stop A
    node_stop B
}

@test "cluster: a slot left without a primary (CLUSTERDOWN on every node): POST and /healthz 503 with Redis's answer; the slot served again, publishing goes on on all three primaries and /healthz is 200" {
    cluster_start
    node A
    base=$(chan)
    for i in $(seq 12); do pub_to "$A_HTTP" "$base-$i" one >/dev/null; done
    slot_owner "$base-1"
    for p in $CLUSTER_PORTS; do redis-cli -p "$p" cluster delslots "$SLOT" >/dev/null; done
    for p in $CLUSTER_PORTS; do
        wait_for sh -c "redis-cli -p $p cluster info | grep -q cluster_state:fail"
    done
    for i in 1 2 3 4; do
        run curl -s --max-time 5 -w ' %{http_code}' --data two "$A_HTTP/pub/$base-$i"
        assert_output --partial 'refuses: CLUSTERDOWN '
        assert_output --partial ' 503'
    done
    refusing "$A_HTTP" 'refuses: CLUSTERDOWN .*'
    redis-cli -p "$FROM_PORT" cluster addslots "$SLOT" >/dev/null
    for p in $CLUSTER_PORTS; do
        wait_for sh -c "redis-cli -p $p cluster info | grep -q cluster_state:ok" || { redis-cli -p "$p" cluster info >&3; false; }
    done
    # a publish taken on each primary's link clears what it refused
    for i in $(seq 12); do
        for ((k = 0; k < 50; k++)); do
            [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' --data three "$A_HTTP/pub/$base-$i")" = 200 ] && break
            sleep 0.1
        done
        [ "$k" -lt 50 ]
    done
    run curl -s --max-time 5 -w ' %{http_code}' "$A_HTTP/healthz"
    assert_output "ok
 200"
    grep -q "refuses: CLUSTERDOWN" "$A_LOG"
    grep -q "takes commands again" "$A_LOG"
    node_stop A
}
