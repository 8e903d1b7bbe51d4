#!/usr/bin/env bats
# pushwire serve behind nginx as a reverse proxy, as serve(1)'s "behind
# nginx" example runs it (--trusted-proxy) and with README.md's nginx lines: X-Forwarded-For from the proxy,
# WebSocket upgrades and event streams through it.  nginx runs in the
# foreground in a temp dir on a free 127.0.0.1 port and is stopped by its
# pid.  Clients connect from 127.0.0.2 and 127.0.0.3 (loopback, not the
# trusted 127.0.0.1), so nginx names them as it would an address on the
# internet.
load helper

# readme_nginx http|location — README.md's nginx lines for the proxy, with
# the server's port: the map and upstream lines (http), or the location block
readme_nginx() {
    awk '/^```nginx$/ { f = 1; next } /^```$/ { f = 0 } f' "$BATS_TEST_DIRNAME/../../README.md" |
        sed "s/127\.0\.0\.1:8080/127.0.0.1:$SERVE_PORT/" |
        if [ "$1" = http ]; then grep -E '^(map|upstream) '; else sed -n '/^    location \/ {$/,/^    }$/p'; fi
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_both [SERVE ARGS...] — serve with --trusted-proxy 127.0.0.1 and ARGS,
# nginx in front of it on $NPORT ($BASE)
start_both() {
    command -v nginx >/dev/null || { missing "nginx is not installed"; return 1; }
    serve_start --trusted-proxy 127.0.0.1 -v "$@"
    NPORT=$(free_port)
    nginx_start "$BATS_TEST_TMPDIR/nginx" /healthz <<CONF
$(readme_nginx http)
    server {
        listen 127.0.0.1:$NPORT;
$(readme_nginx location)
    }
CONF
}

teardown() {
    nginx_stop
    serve_teardown
}

# conns_are TRANSPORT N — /metrics counts N connections of TRANSPORT
conns_are() {
    curl -sS --max-time 5 "$SERVE_HTTP/metrics" | grep -qxF "pushwire_connections{transport=\"$1\"} $2"
}

# polls SRC N XFF — N long polls through nginx from address SRC, each with
# X-Forwarded-For XFF (N replaced by its number; '' for none); prints how
# many are held and how many were answered with each status, within 5 s
polls() {
    "$PY" - "$NPORT" "$@" <<'EOF'
import socket, sys, time
port, src, n, xff = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    h = "GET /poll/p%d?timeout=20 HTTP/1.1\r\nHost: x\r\n" % i
    if xff:
        h += "X-Forwarded-For: %s\r\n" % xff.replace("N", str(i))
    s.sendall((h + "\r\n").encode())
    socks.append(s)
res = {}
end = time.time() + 5
for s in socks:
    s.settimeout(max(0.1, min(1.0, end - time.time())))
    try:
        d = s.recv(200).split(b"\r\n")[0].decode() or "closed"
    except socket.timeout:
        d = "held"
    res[d] = res.get(d, 0) + 1
print(", ".join("%s: %d" % kv for kv in sorted(res.items())))
EOF
}

@test "behind nginx with --trusted-proxy: each client is counted under its own address, whatever X-Forwarded-For it sends" {
    start_both --limit-exempt none --max-conn-rate 0 --max-conns-per-ip 2
    run polls 127.0.0.2 3 '198.51.100.N, 127.0.0.1'
    assert_output 'HTTP/1.1 429 Too Many Requests: 1, held: 2'
    grep -q 'reject 429: too many connections from this address (--max-conns-per-ip) (client 127.0.0.2)' "$SERVE_LOG"
    # another address has its own count
    run polls 127.0.0.3 2 ''
    assert_output 'held: 2'
}

@test "through nginx: a WebSocket and an event stream get what is published" {
    start_both
    local ch
    ch=$(chan)
    timeout 20 "$PW" connect -q --no-stdin --count 1 "ws://$BASE/ws/$ch" >"$BATS_TEST_TMPDIR/ws" 3>&- &
    local wpid=$!
    timeout 20 curl -sN --max-time 15 "http://$BASE/sse/$ch" >"$BATS_TEST_TMPDIR/sse" 3>&- &
    local spid=$!
    # both subscribed before the publish
    wait_for conns_are ws 1
    wait_for conns_are sse 1
    curl -sS --fail --max-time 5 --data-binary 'through the proxy' "http://$BASE/pub/$ch"
    wait $wpid
    run cat "$BATS_TEST_TMPDIR/ws"
    assert_output 'through the proxy'
    wait_for grep -q '^data: through the proxy$' "$BATS_TEST_TMPDIR/sse"
    kill "$spid" 2>/dev/null || true
}
