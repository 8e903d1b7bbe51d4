#!/usr/bin/env bats
# pushwire connect: what needs only the binary and local tools.
load helper

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

@test "connect with no URL is a usage error" {
    run pw connect
    assert_failure 2
    assert_output --partial "a URL is needed"
}

@test "connect with two URLs is a usage error naming the extra one" {
    run pw connect ws://a/ ws://b/
    assert_failure 2
    assert_output --partial "'ws://b/' is extra"
}

@test "an unsupported scheme is a usage error" {
    run pw connect ftp://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad URL 'ftp://127.0.0.1/'"
}

@test "a bad port is a usage error" {
    run pw connect ws://127.0.0.1:99999/
    assert_failure 2
    assert_output --partial "port out of range"
}

@test "WebSocket-only options with an http:// URL are a usage error, not ignored" {
    run pw connect --send hi http://127.0.0.1:1/sse/x
    assert_failure 2
    assert_output --partial "--send is for WebSocket (ws:// or wss://); with 'http://127.0.0.1:1/sse/x' (Server-Sent Events) pushwire only receives"
    for opt in --binary --compress "--subprotocol pushwire.v1"; do
        run pw connect $opt --poll https://127.0.0.1:1/poll/x
        assert_failure 2
        assert_output --partial "${opt%% *} is for WebSocket"
        assert_output --partial "(long polling)"
    done
}

@test "--poll with a ws URL is a usage error" {
    run pw connect --poll ws://127.0.0.1/
    assert_failure 2
}

@test "bad option values name the option" {
    run pw connect --count 0 ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --count"
    run pw connect --timeout abc ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --timeout"
    run pw connect --until '(' ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --until"
    run pw connect -H novalue ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --header"
    run pw connect --subprotocol 'a b' ws://127.0.0.1/
    assert_failure 2
    run pw connect --proxy ftp://p:1 ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --proxy: 'ftp://p:1' is not a proxy URL"
}

@test "connection refused is exit 4 and names the address" {
    p=$(free_port)
    run timeout 10 "$PW" connect --no-stdin "ws://127.0.0.1:$p/"
    assert_failure 4
    assert_output --partial "cannot connect to '127.0.0.1' port $p"
}

@test "a name that does not resolve is exit 4" {
    run timeout 20 "$PW" connect --no-stdin "ws://no-such-host.invalid/"
    assert_failure 4
    assert_output --partial "cannot resolve 'no-such-host.invalid'"
}

@test "a refused proxy is exit 4" {
    p=$(free_port)
    run timeout 10 "$PW" connect --no-stdin --proxy "http://127.0.0.1:$p" "ws://127.0.0.1:1/"
    assert_failure 4
    assert_output --partial "cannot connect to proxy '127.0.0.1'"
}

@test "--reconnect=2 gives up after two failed attempts" {
    p=$(free_port)
    run timeout 20 "$PW" connect --no-stdin --reconnect=2 "ws://127.0.0.1:$p/"
    assert_failure 4
    assert_output --partial "giving up after 2 reconnect attempts"
}

@test "--timeout bounds a connection that never answers (exit 7)" {
    # a listening socket that never accepts: the handshake never completes
    /usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$BATS_TEST_TMPDIR/port" 3>&- &
    pid=$!
    for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.05; done
    run timeout 10 "$PW" connect --no-stdin --timeout 0.5 "ws://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")/"
    kill $pid
    assert_failure 7
    assert_output --partial "timed out after 0.5 s"
}

@test "connect --help lists the options" {
    run pw connect --help
    assert_success
    assert_output --partial "--reconnect[=MAX]"
    assert_output --partial "--cursor-file FILE"
}

@test "--key without --cert, and --unix-socket with --proxy, are usage errors" {
    run pw connect --key k.pem wss://127.0.0.1/
    assert_failure 2
    assert_output --partial "--key goes with --cert"
    run pw connect --unix-socket /tmp/x.sock --proxy http://127.0.0.1:1 ws://localhost/
    assert_failure 2
    assert_output --partial "--unix-socket and --proxy exclude each other"
}

@test "a Unix socket path longer than the kernel takes is a usage error" {
    run pw connect --unix-socket "/tmp/$(printf 'x%.0s' $(seq 120))" ws://localhost/
    assert_failure 2
    assert_output --partial "bad value for --unix-socket"
    assert_output --partial "is not a Unix socket path; want 1 to 107 bytes"
}

@test "--linger takes seconds, 0 included" {
    run pw connect --linger abc ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --linger"
    run pw connect --help
    assert_output --partial "--linger SECS"
}

@test "a --cert that cannot be read is exit 5 at the TLS handshake, and not retried" {
    /usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$BATS_TEST_TMPDIR/port" 3>&- &
    pid=$!
    for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.05; done
    run timeout 10 "$PW" connect --no-stdin --reconnect --cert "$BATS_TEST_TMPDIR/none.pem" "wss://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")/"
    kill $pid
    assert_failure 5
    assert_output --partial "cannot use the client certificate '$BATS_TEST_TMPDIR/none.pem'"
    refute_output --partial reconnecting
}

@test "a write error on stdout is exit 1, reported once" {
    [ -w /dev/full ] || skip "no /dev/full"
    start_serve --echo
    run bash -c 'seq 20000 | timeout 10 "$PW" connect "ws://127.0.0.1:$0/ws/echo" >/dev/full' "$SERVE_PORT"
    stop_serve
    assert_failure 1
    assert_output 'pushwire connect: write error on stdout: No space left on device'
}

teardown() {
    stop_stall
    stop_serve
}

@test "--connect-timeout: a peer that never answers is given up, naming the step, for every transport (exit 7)" {
    stall silent
    u=127.0.0.1:$STALL_PORT
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 "ws://$u/"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) waiting for the server's answer to the WebSocket upgrade from '127.0.0.1' port $STALL_PORT"
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 "wss://$u/"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) in the TLS handshake with '127.0.0.1' port $STALL_PORT"
    run timeout 10 "$PW" connect --connect-timeout 0.2 "http://$u/sse/x"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) waiting for the server's answer (HTTP head) from '127.0.0.1' port $STALL_PORT"
    run timeout 10 "$PW" connect --connect-timeout 0.2 "https://$u/sse/x"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) in the TLS handshake with '127.0.0.1' port $STALL_PORT"
    run timeout 10 "$PW" connect --poll --connect-timeout 0.2 "https://$u/poll/x"
    assert_failure 7
    assert_output --partial "(--connect-timeout) in the TLS handshake with '127.0.0.1' port $STALL_PORT"
    # a long poll being held is its answer's wait, not a handshake
    run timeout 10 "$PW" connect --poll --connect-timeout 0.2 --timeout 1 "http://$u/poll/x"
    kill "$STALL_PID"
    assert_failure 7
    assert_output "pushwire connect: timed out after 1 s (--timeout)"
}

@test "--connect-timeout bounds the TCP handshake, and the default is 30 s" {
    stall backlog
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 "ws://127.0.0.1:$STALL_PORT/"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) connecting to '127.0.0.1' port $STALL_PORT (TCP)"
    run timeout 10 "$PW" connect --connect-timeout 0.2 "http://127.0.0.1:$STALL_PORT/sse/x"
    kill "$STALL_PID"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) connecting to '127.0.0.1' port $STALL_PORT (TCP)"
    run pw connect --help
    assert_output --partial "--connect-timeout SECS"
    assert_output --partial "(0..365d; default 30)"
    run pw connect --connect-timeout soon ws://127.0.0.1/
    assert_failure 2
    assert_output --partial "bad value for --connect-timeout"
}

@test "--connect-timeout: a refusal whose body never comes is bounded too; with --reconnect each attempt counts" {
    stall short
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 "ws://127.0.0.1:$STALL_PORT/"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) reading the body of the server's 403 answer"
    kill "$STALL_PID"
    stall silent
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 --reconnect=1 "ws://127.0.0.1:$STALL_PORT/"
    assert_failure 7
    assert_line --index 0 --partial "gave up after 0.2 s (--connect-timeout)"
    assert_line --index 1 --partial "reconnecting in"
    assert_line --index 2 --partial "gave up after 0.2 s (--connect-timeout)"
    assert_line --index 3 "pushwire connect: giving up after 1 reconnect attempts"
    run timeout 10 "$PW" connect --connect-timeout 0.2 --reconnect=1 "http://127.0.0.1:$STALL_PORT/sse/x"
    assert_failure 7
    assert_line --index 3 "pushwire connect: giving up after 1 reconnect attempts"
    # a proxy that never opens the tunnel, over both stacks
    run timeout 10 "$PW" connect --no-stdin --connect-timeout 0.2 --proxy "http://u:secret@127.0.0.1:$STALL_PORT" ws://127.0.0.1:1/
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) waiting for the proxy '127.0.0.1' port $STALL_PORT to open the tunnel"
    run timeout 10 "$PW" connect --connect-timeout 0.2 --proxy "socks5h://127.0.0.1:$STALL_PORT" http://127.0.0.1:1/sse/x
    kill "$STALL_PID"
    assert_failure 7
    assert_output "pushwire connect: gave up after 0.2 s (--connect-timeout) waiting for the proxy '127.0.0.1' port $STALL_PORT to open the tunnel"
}

@test "a closed stdin, stdout or stderr is not taken by a socket: no abort, stdout's write error said" {
    start_serve --echo
    u=ws://127.0.0.1:$SERVE_PORT/ws/echo
    # stdout closed: the first message is a write error (EBADF), as for frame
    run bash -c 'echo hi | timeout 10 "$PW" connect "$0" >&-' "$u"
    assert_failure 1
    assert_output 'pushwire connect: write error on stdout: Bad file descriptor'
    # stderr closed: -v has nowhere to go, the echo still comes
    run bash -c 'echo hi | timeout 10 "$PW" connect -v "$0" 2>&-' "$u"
    assert_success
    assert_output hi
    # stdin closed: read as empty
    run bash -c 'timeout 10 "$PW" connect --linger 0 -w "%{close_code}" "$0" <&-' "$u"
    stop_serve_clean
    assert_success
    assert_output 1000
}

# ends PID — sends SIGTERM every 0.1 s (50 at most) until PID is gone; its
# exit status in ENDED (SIGKILL and 255 when it never went)
ends() {
    local i
    for i in $(seq 50); do
        kill -TERM "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1"
        wait "$1" 2>/dev/null || true
        ENDED=255
        return 0
    fi
    ENDED=0
    wait "$1" || ENDED=$?
}

@test "SIGTERM closes with 1000 (exit 0); a second one ends the run with 128+15, also while stdout is stuck" {
    start_serve
    "$PW" connect --no-stdin -w '%{close_code}' "ws://127.0.0.1:$SERVE_PORT/ws/sig0" >"$BATS_TEST_TMPDIR/out" 2>&1 &
    pid=$!
    wait_metric 'pushwire_connections{transport="ws"} 1'
    kill -TERM "$pid"
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    st=0
    wait "$pid" || st=$?
    [ "$st" = 0 ] || fail "one SIGTERM: exit $st"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = 1000 ] || fail "one SIGTERM: $(cat "$BATS_TEST_TMPDIR/out")"
    # stdout a FIFO that a reader holds open and never reads: the loop is
    # stuck in a write once the pipe is full, and no callback of it runs
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    exec 7<>"$BATS_TEST_TMPDIR/fifo"
    "$PW" connect --no-stdin "ws://127.0.0.1:$SERVE_PORT/ws/sig0" >"$BATS_TEST_TMPDIR/fifo" 2>/dev/null &
    pid=$!
    wait_metric 'pushwire_connections{transport="ws"} 1'
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/pub_many.py" "$SERVE_PORT" sig 400 1000 1
    assert_output '200 400'
    for i in $(seq 100); do grep -q pipe_write "/proc/$pid/wchan" 2>/dev/null && break; sleep 0.05; done
    ends "$pid"
    exec 7<&-
    stop_serve_clean
    [ "$ENDED" = 143 ] || fail "SIGTERM again and again with stdout stuck: exit $ENDED (255: never ended)"
}

@test "SIGINT (Ctrl-C) closes with 1000, then connect dies of SIGINT (130), so a shell loop around it stops too" {
    start_serve
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/sigint_loop.py" "$SERVE_PORT" \
        "$PW" connect --no-stdin -w '%{exitcode} %{close_code}\n' "ws://127.0.0.1:$SERVE_PORT/ws/int"
    stop_serve_clean
    assert_output $'130 1000\nbash: killed by SIGINT'
}

@test "a read error on stdin is exit 1, after a polite close" {
    start_serve --echo
    # a directory: read(2) fails with EISDIR
    run bash -c 'timeout 10 "$PW" connect --linger 0 -w "%{close_code}\n" "ws://127.0.0.1:$0/ws/echo" </' "$SERVE_PORT"
    stop_serve_clean
    assert_failure 1
    assert_line --index 0 'pushwire connect: reading stdin: illegal operation on a directory'
    assert_line --index 1 1000
}

# --binary: stdin and stdout are byte streams.  Sizes around the 64 KiB read
# chunk (one message each) and a few MiB; "$PW" serve --echo sends each
# message back as it came.
@test "--binary: random data through serve --echo comes back byte for byte (0, 1, 64 KiB, 64 KiB + 1, 3 MiB)" {
    start_serve --echo
    binary_roundtrip "ws://127.0.0.1:$SERVE_PORT/ws/echo" pipes
    stop_serve_clean
}

@test "--binary: small writes and text messages come out back to back; --json keeps its lines; -0 is refused" {
    start_serve --echo
    u=ws://127.0.0.1:$SERVE_PORT/ws/echo
    # three writes (three messages, or fewer: any split is the same stream);
    # --send's text message comes back first and is written as it came too
    run bash -c '{ printf a; sleep 0.2; printf "b\n"; sleep 0.2; printf c; } | timeout 10 "$PW" connect --binary --send "é" "$0"' "$u"
    assert_success
    assert_output $'éab\nc'
    run bash -c 'printf ab | timeout 10 "$PW" connect --binary --json --send t "$0"' "$u"
    assert_success
    assert_line --index 0 '{"id":null,"event":"message","data":"t","type":"text"}'
    assert_line --index 1 '{"id":null,"event":"message","data":"YWI=","type":"binary","encoding":"base64"}'
    run bash -c 'printf ab | timeout 10 "$PW" connect --binary --json -0 "$0" | tr "\0" "#"' "$u"
    assert_success
    assert_output '{"id":null,"event":"message","data":"YWI=","type":"binary","encoding":"base64"}#'
    stop_serve_clean
    run pw connect --binary -0 ws://127.0.0.1:1/
    assert_failure 2
    assert_output "pushwire connect: -0/--null and --binary exclude each other: --binary reads stdin and writes stdout as byte streams, with no separator (with --json, -0 ends each JSON line with NUL)"
}

@test "connect | head -1 ends when head does, also when no other message comes" {
    start_serve
    # the pipeline's statuses once it is over (the shell waits for both)
    bash -c 'timeout 10 "$PW" connect --no-stdin "$0" | head -1 >"$1"; echo "${PIPESTATUS[*]}" >"$2"' \
        "ws://127.0.0.1:$SERVE_PORT/ws/quiet" "$BATS_TEST_TMPDIR/line" "$BATS_TEST_TMPDIR/st" &
    pid=$!
    wait_metric 'pushwire_connections{transport="ws"} 1'
    C -d one "$SERVE_URL/pub/quiet" >/dev/null
    for i in $(seq 300); do [ -s "$BATS_TEST_TMPDIR/st" ] && break; sleep 0.05; done
    wait "$pid" || true
    stop_serve_clean
    assert_equal "$(cat "$BATS_TEST_TMPDIR/line")" one
    # 124: connect stayed until timeout 10 (the channel said nothing more)
    assert_equal "$(cat "$BATS_TEST_TMPDIR/st")" "1 0"
}
