#!/usr/bin/env bats
# exec.bats — `serve --exec`: one program per WebSocket or event stream,
# lines in and out, websocketd-style; the same scripts and the same client
# against websocketd itself; the program's end and the client's; limits.
load helper

EX=$BATS_TEST_DIRNAME/exec
PEER=$BATS_TEST_DIRNAME/exec_peer.py

setup() { cd "$BATS_TEST_TMPDIR"; }
teardown() {
    serve_teardown
    [ -z "${WSD_PID:-}" ] || { kill "$WSD_PID" 2>/dev/null; wait "$WSD_PID" 2>/dev/null; } || true
}

# wsd_start SCRIPT — websocketd on a free port running SCRIPT; sets WSD_WS
wsd_start() {
    command -v websocketd >/dev/null || { missing "websocketd (tools/deps.sh)"; return 1; }
    local port i
    port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    websocketd --address=127.0.0.1 --port="$port" "$@" >"$BATS_TEST_TMPDIR/wsd.log" 2>&1 &
    WSD_PID=$!
    for ((i = 0; i < 100; i++)); do
        $PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.05
    done
    WSD_WS=ws://127.0.0.1:$port
}

# the messages a client gets, without the close line (websocketd sends no
# close frame when the program exits)
messages() { grep -v '^close ' <<<"$1"; }

# children PID — the processes whose parent is PID, with their state
children() { ps --ppid "$1" -o pid=,stat= 2>/dev/null; }

# wait_no_children PID — every child reaped within 10 s (a zombie stays: fails)
wait_no_children() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ -z "$(children "$1")" ] && return 0
        sleep 0.05
    done
    echo "children of $1 left:" >&2
    children "$1" >&2
    return 1
}

asan() { grep -qa __asan_init "$PW"; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

@test "exec: lines in, lines out, the same as websocketd" {
    serve_start --exec "$EX/greet.sh"
    run $PY "$PEER" talk "$SERVE_WS/ws/room" --lines 4 one two "three four"
    assert_success
    ours=$output
    assert_equal "$ours" "$(printf 'hello\ngot: one\ngot: two\ngot: three four')"
    wsd_start "$EX/greet.sh" || return
    run $PY "$PEER" talk "$WSD_WS/ws/room" --lines 4 one two "three four"
    assert_success
    assert_equal "$ours" "$output"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: the program exits 0 -> close 1000 after its last line, as websocketd's lines" {
    serve_start --exec "$EX/count.sh"
    run $PY "$PEER" talk "$SERVE_WS/ws/c"
    assert_success
    assert_equal "$output" "$(printf '1\n2\n3\n4\n5\nclose 1000')"
    ours=$(messages "$output")
    wsd_start "$EX/count.sh" || return
    run $PY "$PEER" talk "$WSD_WS/ws/c"
    assert_success
    assert_equal "$(messages "$output")" "$ours"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a non-zero exit -> close 1011; its stderr is logged with the connection" {
    serve_start --exec "$EX/fail.sh"
    run $PY "$PEER" talk "$SERVE_WS/ws/c"
    assert_success
    assert_equal "$output" "$(printf 'about to fail\nclose 1011')"
    for ((i = 0; i < 100; i++)); do grep -q 'stderr.*something went wrong' "$SERVE_LOG" && break; sleep 0.05; done
    run grep -E "#[0-9]+ .*stderr: something went wrong|stderr: conn [0-9]+: something went wrong" "$SERVE_LOG"
    assert_success
    run grep "exited with status 3" "$SERVE_LOG"
    assert_success
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: the CGI environment matches websocketd's, plus HTTP_HOST and PUSHWIRE_CHANNEL" {
    serve_start --exec "$EX/env.sh"
    run $PY "$PEER" talk "$SERVE_WS/ws/chan.1?x=1&y=2"
    assert_success
    ours=$(messages "$output")
    wsd_start "$EX/env.sh" || return
    run $PY "$PEER" talk "$WSD_WS/ws/chan.1?x=1&y=2"
    assert_success
    theirs=$(messages "$output")
    # the same names, but for what websocketd cannot know or leaves out
    diff <(cut -d= -f1 <<<"$ours" | grep -vxE 'HTTP_HOST|PUSHWIRE_CHANNEL') \
         <(cut -d= -f1 <<<"$theirs")
    # the same values where they do not depend on the server
    for v in QUERY_STRING PATH_INFO PATH_TRANSLATED SCRIPT_NAME REQUEST_URI REQUEST_METHOD \
             SERVER_PROTOCOL SERVER_NAME REMOTE_ADDR REMOTE_HOST HTTP_X_TEST HTTP_UPGRADE \
             HTTP_SEC_WEBSOCKET_VERSION AUTH_TYPE CONTENT_LENGTH REMOTE_USER PATH; do
        assert_equal "$(grep "^$v=" <<<"$ours")" "$(grep "^$v=" <<<"$theirs")"
    done
    grep -qx 'PUSHWIRE_CHANNEL=chan.1' <<<"$ours"
    grep -qx 'QUERY_STRING=x=1&y=2' <<<"$ours"
    grep -qx "SERVER_PORT=$SERVE_PORT" <<<"$ours"
    grep -qE '^REMOTE_PORT=[0-9]+$' <<<"$ours"
    grep -qx 'GATEWAY_INTERFACE=CGI/1.1' <<<"$ours"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a header name with '_' is left out of the environment" {
    serve_start --exec "$EX/env.sh"
    run $PY - "$SERVE_WS/ws/c" <<'PYEOF'
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], extra_headers={"X-Token": "good", "X_Token": "evil"}) as ws:
        try:
            while True:
                print(await asyncio.wait_for(ws.recv(), 10))
        except websockets.ConnectionClosed:
            pass
asyncio.run(main())
PYEOF
    assert_success
    assert_line 'HTTP_X_TOKEN=good'
    refute_line 'HTTP_X_TOKEN=evil'
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: on /sse/ each stdout line is an event, and the stream ends with the program" {
    serve_start --exec "$EX/count.sh"
    run curl -sN --max-time 10 "$SERVE_HTTP/sse/news"
    assert_success
    assert_equal "$(grep '^data:' <<<"$output")" "$(printf 'data: 1\ndata: 2\ndata: 3\ndata: 4\ndata: 5')"
    serve_stop
    serve_start --exec "$EX/env.sh"
    run curl -sN --max-time 10 "$SERVE_HTTP/sse/news?a=b"
    assert_success
    assert_line 'data: PUSHWIRE_CHANNEL=news'
    assert_line 'data: QUERY_STRING=a=b'
    assert_line 'data: REQUEST_METHOD=GET'
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: the command is split like sh splits words, without a shell" {
    serve_start --exec "sh -c 'echo \"\$1 and \$2\"; echo \$PUSHWIRE_CHANNEL' sh 'a b' \"c'd\""
    run $PY "$PEER" talk "$SERVE_WS/ws/words"
    assert_success
    assert_equal "$output" "$(printf "a b and c'd\nwords\nclose 1000")"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a bad --exec is a usage error; a missing program answers 500" {
    run pw serve --exec "sh -c 'unclosed"
    assert_failure 2
    assert_output --partial "'sh -c 'unclosed' is not a command: a quote is not closed; want"
    run pw serve --exec "   "
    assert_failure 2
    assert_output --partial "is not a command: empty or only spaces"
    # a long value is shown by its start
    run pw serve --exec "$(printf 'x%.0s' {1..300})'"
    assert_failure 2
    assert_output --regexp "'x{200}\.\.\.' is not a command: a quote is not closed"
    serve_start --exec /nonexistent/program
    run curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$SERVE_HTTP/sse/x"
    assert_output 500
    run $PY "$PEER" talk "$SERVE_WS/ws/x"
    assert_failure
    assert_output --partial 500
    [ "$(metric pushwire_exec_failed_total)" = 2 ]
    [ "$(metric pushwire_exec_started_total)" = 0 ]
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: --max-procs: one more gets 503 with Retry-After, on /ws/ and /sse/" {
    serve_start --exec "$EX/deaf.sh" --max-procs 1
    $PY "$PEER" hold "$SERVE_WS/ws/a" 30 >"$BATS_TEST_TMPDIR/hold.out" &
    holder=$!
    for ((i = 0; i < 200; i++)); do grep -q open "$BATS_TEST_TMPDIR/hold.out" && break; sleep 0.05; done
    run curl -s -D - -o /dev/null --max-time 10 "$SERVE_HTTP/sse/b"
    assert_line --partial "HTTP/1.1 503"
    assert_line --partial "Retry-After: 1"
    run $PY "$PEER" talk "$SERVE_WS/ws/c"
    assert_failure
    assert_output --partial 503
    # /metrics: one running of one allowed, two refused
    [ "$(metric pushwire_exec_programs)" = 1 ]
    [ "$(metric pushwire_exec_programs_limit)" = 1 ]
    [ "$(metric pushwire_exec_refused_total)" = 2 ]
    kill "$holder"; wait "$holder" || true
    # once the first program is gone there is room again
    for ((i = 0; i < 200; i++)); do [ -z "$(children "$SERVE_PID")" ] && break; sleep 0.05; done
    run $PY "$PEER" talk "$SERVE_WS/ws/d" --lines 1
    assert_success
    assert_output ready
    [ "$(metric pushwire_exec_started_total)" = 2 ]
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a program that ignores SIGTERM is killed after --exec-grace; no zombie" {
    serve_start --exec "$EX/stubborn.sh" --exec-grace 0.3
    run $PY "$PEER" talk "$SERVE_WS/ws/s" --lines 1
    assert_success
    assert_output ready
    for ((i = 0; i < 200; i++)); do grep -q 'killed by signal 9' "$SERVE_LOG" && break; sleep 0.05; done
    run grep -c -E 'SIGTERM|SIGKILL' "$SERVE_LOG"
    assert_output 2
    grep -q 'killed by signal 9' "$SERVE_LOG"
    wait_no_children "$SERVE_PID"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a program that floods stdout to a client that does not read: memory stays bounded" {
    serve_start --exec "yes 0123456789abcdef0123456789abcdef"
    base=$(rss_kb "$SERVE_PID")
    $PY "$PEER" hold "$SERVE_WS/ws/f" 30 >/dev/null &
    holder=$!
    sleep 1
    a=$(rss_kb "$SERVE_PID")
    sleep 2
    b=$(rss_kb "$SERVE_PID")
    kill "$holder"; wait "$holder" || true
    echo "rss: base $base KiB, after 1 s $a, after 3 s $b" >&3
    # the send queue pauses the reading at --send-buffer / 2 (~0.5 MiB)
    [ "$b" -lt $((base + 16384)) ]
    [ "$b" -lt $((a + 4096)) ]
    wait_no_children "$SERVE_PID"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a program that never reads stdin pauses the client: what the client can push is bounded" {
    serve_start --exec "$EX/deaf.sh"
    base=$(rss_kb "$SERVE_PID")
    run $PY "$PEER" push "$SERVE_WS/ws/d" 2
    assert_success
    sent=${output#sent=}
    b=$(rss_kb "$SERVE_PID")
    echo "client sent $sent bytes; rss base $base KiB, after $b" >&3
    [ "$sent" -lt $((64 * 1024 * 1024)) ]
    [ "$b" -lt $((base + 16384)) ]
    wait_no_children "$SERVE_PID"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: 200 clients leave at once: every program reaped, memory back to the baseline" {
    # the baseline is taken after a first wave: the allocator and the
    # output chunk pool keep what one wave needed; a second wave must not
    # add to it (a leak of 1 KiB a connection would show as 200 KiB)
    # programs start one after the other on the loop: on a loaded machine
    # the last of 200 requests may wait longer than the default 10 s
    serve_start --exec "$EX/greet.sh" --max-procs 400 --handshake-timeout 120
    run $PY "$PEER" many "$SERVE_WS/ws/m" 200
    assert_success
    assert_output open=200
    wait_no_children "$SERVE_PID"
    base=$(rss_kb "$SERVE_PID")
    for wave in 2 3; do
        run $PY "$PEER" many "$SERVE_WS/ws/m" 200
        assert_success
        wait_no_children "$SERVE_PID"
    done
    after=$(rss_kb "$SERVE_PID")
    echo "rss: after the first 200 clients $base KiB, after two more waves $after KiB" >&3
    # ASan's quarantine keeps freed blocks: there the leak check at the
    # server's exit (serve_stop) stands in for the RSS
    asan || [ "$after" -lt $((base + 1024)) ]
    run curl -s "$SERVE_HTTP/metrics"
    assert_line 'pushwire_connections{transport="ws"} 0'
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: SIGTERM to the server ends every program and exits 0" {
    serve_start --exec "$EX/deaf.sh" --exec-grace 0.2
    $PY "$PEER" hold "$SERVE_WS/ws/a" 30 >"$BATS_TEST_TMPDIR/hold.out" &
    holder=$!
    for ((i = 0; i < 200; i++)); do grep -q open "$BATS_TEST_TMPDIR/hold.out" && break; sleep 0.05; done
    pid=$SERVE_PID
    run serve_stop
    kill "$holder" 2>/dev/null; wait "$holder" || true
    assert_success
    [ -z "$(children "$pid")" ]
}

@test "exec: messages sent right before the client's close still reach the program, then EOF" {
    serve_start --exec "sh -c 'cat > \"\$0\"; echo done >> \"\$0\"' $BATS_TEST_TMPDIR/got"
    run $PY "$PEER" talk "$SERVE_WS/ws/last" --lines 0 one two three
    assert_success
    for ((i = 0; i < 200; i++)); do grep -q done "$BATS_TEST_TMPDIR/got" 2>/dev/null && break; sleep 0.05; done
    run cat "$BATS_TEST_TMPDIR/got"
    assert_output "$(printf 'one\ntwo\nthree\ndone')"
    wait_no_children "$SERVE_PID"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: a program that exits while the client is not reading: every line it wrote is sent, then 1000" {
    # fill.py writes until the pipe stays full (the server has paused its
    # reading for the client), then exits: what waits in the pipe is still
    # the program's output (the wait for stdout's end ran while paused: lost)
    serve_start --exec "$EX/fill.py" --send-buffer 64K
    run $PY "$PEER" late "$SERVE_WS/ws/fill" "$SERVE_LOG" 1
    assert_success
    wrote=$(sed -n 's/.*fill: wrote \([0-9]*\) lines.*/\1/p' "$SERVE_LOG")
    [ -n "$wrote" ]
    assert_output "lines=$wrote close=1000"
    wait_no_children "$SERVE_PID"
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: SERVER_NAME is the Host without its port, an IPv6 literal too (in its brackets)" {
    serve_start --exec "$EX/env.sh"
    for pair in "[::1]:8080 [::1]" "[::1] [::1]" "example.com:81 example.com"; do
        run $PY - "$SERVE_PORT" ${pair% *} <<'PYEOF'
import base64, os, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(("GET /ws/c HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (sys.argv[2], base64.b64encode(os.urandom(16)).decode())).encode())
f = s.makefile("rb")
while f.readline() not in (b"\r\n", b""):
    pass
while True:  # each text message on a line, until the close
    h = f.read(2)
    if len(h) < 2:
        break
    n = h[1] & 127
    if n == 126:
        n = struct.unpack(">H", f.read(2))[0]
    p = f.read(n)
    if h[0] & 15 == 8:
        break
    print(p.decode())
PYEOF
        assert_success
        assert_line "SERVER_NAME=${pair#* }"
        assert_line "HTTP_HOST=${pair% *}"
    done
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: pushwire.v1 offered is not selected: a program's JSON line reaches the client as it is" {
    # connect --since offers pushwire.v1 and, when it is selected, reads each
    # text message as an envelope: the second line would print as "x"
    serve_start --exec "printf '%s\n' '{\"temp\":3}' '{\"data\":\"x\",\"id\":\"7\"}'"
    run timeout 10 "$PW" connect --since 0 "$SERVE_WS/ws/j" </dev/null
    assert_success
    assert_output "$(printf '%s\n' '{"temp":3}' '{"data":"x","id":"7"}')"
    run grep -c 'upgrade 101: websocket' "$SERVE_LOG"
    assert_output 1
    serve_stop # exits 0: under ASan, no leak and no error
}

@test "exec: --max-message counts a line without the CR before its LF" {
    serve_start --exec "printf '0123456789\r\n0123456789A\r\nok\r\n'" --max-message 10
    run $PY "$PEER" talk "$SERVE_WS/ws/crlf"
    assert_success
    assert_output "$(printf '0123456789\nok\nclose 1000')"
    run grep -c 'longer than 10 bytes' "$SERVE_LOG"
    assert_output 1
    serve_stop # exits 0: under ASan, no leak and no error
}

# env_with_repeats URL — what an `env` program at URL prints, for a client
# that sends X-Foo three times (in two cases) and X-Bar once
env_with_repeats() {
    $PY - "$1" <<'PYEOF'
import asyncio, sys, websockets
async def main():
    hdrs = [("X-Foo", "a"), ("X-Foo", "b"), ("x-foo", "c"), ("X-Bar", "1")]
    async with websockets.connect(sys.argv[1], extra_headers=hdrs) as ws:
        try:
            while True:
                print(await asyncio.wait_for(ws.recv(), 10))
        except websockets.ConnectionClosed:
            pass
asyncio.run(main())
PYEOF
}

@test "exec: a header sent several times is one variable, its values joined with ', ' as websocketd does" {
    serve_start --exec env
    run env_with_repeats "$SERVE_WS/ws/c"
    assert_success
    ours=$(grep -E '^HTTP_X_(FOO|BAR)=' <<<"$output" | LC_ALL=C sort)
    assert_equal "$ours" "$(printf 'HTTP_X_BAR=1\nHTTP_X_FOO=a, b, c')"
    wsd_start env || return
    run env_with_repeats "$WSD_WS/ws/c"
    assert_equal "$ours" "$(grep -E '^HTTP_X_(FOO|BAR)=' <<<"$output" | LC_ALL=C sort)"
    serve_stop # exits 0: under ASan, no leak and no error
}
