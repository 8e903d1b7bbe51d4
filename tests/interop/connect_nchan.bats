#!/usr/bin/env bats
# pushwire connect against nginx + nchan (libnginx-mod-nchan): the WebSocket,
# EventSource and long-poll subscribers, messages published with curl.
# nginx runs in the foreground in a temp dir (own config, logs, temp paths)
# on a free 127.0.0.1 port and is stopped by its pid.
load connect_helper

NCHAN_SO=/usr/lib/nginx/modules/ngx_nchan_module.so

setup() {
    [ -r "$NCHAN_SO" ] || missing "libnginx-mod-nchan is not installed"
    command -v nginx >/dev/null || missing "nginx is not installed"
    NPORT=$(free_port)
    nginx_start "$BATS_TEST_TMPDIR/nginx" / "load_module $NCHAN_SO;" <<CONF
    server {
        listen 127.0.0.1:$NPORT;
        location ~ ^/pub/(\w+)$ {
            nchan_publisher;
            nchan_channel_id \$1;
        }
        location ~ ^/ws/(\w+)$ {
            nchan_subscriber websocket;
            nchan_channel_id \$1;
            nchan_subscriber_first_message oldest;
        }
        location ~ ^/sse/(\w+)$ {
            nchan_subscriber eventsource;
            nchan_channel_id \$1;
            nchan_subscriber_first_message oldest;
        }
        location ~ ^/lp/(\w+)$ {
            nchan_subscriber longpoll;
            nchan_channel_id \$1;
            nchan_subscriber_first_message oldest;
        }
    }
CONF
}

teardown() {
    nginx_stop
}

# publish CHANNEL MESSAGE — one message through the publisher location
publish() {
    curl -sf --max-time 5 -o /dev/null -X POST -H 'Content-Type: text/plain' \
        --data-binary "$2" "http://$BASE/pub/$1"
}

# subscribers CHANNEL — how many subscribers nchan reports on CHANNEL
subscribers() {
    curl -s --max-time 5 -H 'Accept: text/json' "http://$BASE/pub/$1" |
        sed -n 's/.*"subscribers": *\([0-9]*\).*/\1/p'
}

@test "nchan WebSocket subscriber: buffered messages in order" {
    publish wsa 'hello nchan'
    publish wsa 'second one'
    run timeout 20 "$PW" connect -q --no-stdin --count 2 "ws://$BASE/ws/wsa"
    assert_success
    assert_output $'hello nchan\nsecond one'
}

@test "nchan WebSocket subscriber: a message published while connected" {
    publish wsb 'before'
    timeout 20 "$PW" connect -q --no-stdin --count 2 "ws://$BASE/ws/wsb" >"$BATS_TEST_TMPDIR/out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        [ "$(subscribers wsb)" = 1 ] && break
        sleep 0.05
    done
    publish wsb 'live'
    wait "$pid"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output $'before\nlive'
}

@test "nchan EventSource subscriber over http://" {
    publish ssea 'one'
    publish ssea 'two words'
    publish ssea 'three'
    run timeout 20 "$PW" connect -q --count 3 "http://$BASE/sse/ssea"
    assert_success
    assert_output $'one\ntwo words\nthree'
}

@test "nchan long-poll subscriber with --poll (Last-Modified/ETag resume)" {
    publish lpa 'first'
    publish lpa 'second'
    publish lpa 'third'
    run timeout 20 "$PW" connect -q --poll --count 3 "http://$BASE/lp/lpa"
    assert_success
    assert_output $'first\nsecond\nthird'
}

@test "nchan long-poll subscriber waits for a message published later" {
    publish lpb 'early'
    timeout 20 "$PW" connect -q --poll --count 2 "http://$BASE/lp/lpb" >"$BATS_TEST_TMPDIR/out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        [ "$(subscribers lpb)" = 1 ] && break
        sleep 0.05
    done
    publish lpb 'late'
    wait "$pid"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output $'early\nlate'
}
