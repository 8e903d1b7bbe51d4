#!/usr/bin/env bats
# Options as data: each value is parsed by its type's parser against the
# bounds in the option table and refused with one message; sizes take units;
# defaults come from the table, and --help shows what the code uses.
load helper

teardown() {
    stop_pid "${CONNECT_PID:-}"
    stop_serve
}

# bad APPLET OPTION VALUE [ARG…] — exit 2 and one line:
#   pushwire APPLET: bad value for --OPTION: 'VALUE' is WHAT; want WANT
# (the WHAT and WANT the caller expects, when given as $WHAT and $WANT)
bad() {
    local applet=$1 opt=$2 val=$3
    shift 3
    run "$PW" "$applet" "--$opt=$val" "$@"
    assert_failure 2
    [ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
    assert_output --regexp "^pushwire $applet: bad value for --$opt: '.*' is [^;]+; want .+\$"
    assert_output --partial "bad value for --$opt: '$val' is ${WHAT:-}"
    [ -z "${WANT:-}" ] || assert_output --partial "; want $WANT"
}

# ---- one message per type, in every applet ----

@test "serve: bad counts, sizes, durations, words and names, one message each" {
    WHAT='not a whole number' WANT='1..10000000' bad serve backlog many
    WHAT='too small' WANT='1..10000000' bad serve backlog 0
    WHAT='not a byte size' WANT='1..1G' bad serve max-message 1Q
    WHAT='too large' WANT='1..1G' bad serve max-message 2G
    WHAT='not a byte size' bad serve max-message 1.5M
    WHAT='too small' WANT='1K..4G' bad serve send-buffer 1023
    WHAT='not a duration' WANT='0..365d' bad serve ping soon
    WHAT='too small' WANT='1ms..365d' bad serve poll-timeout 0
    WHAT='too large' WANT='0..365d' bad serve heartbeat 366d
    WHAT='not one of the choices' WANT='text or json' bad serve log xml
    WHAT='not a whole number' WANT='1..100' bad serve max-headers 1e2
    WHAT='not a channel name' bad serve channel 'a b'
    WHAT='not an address' bad serve listen nowhere
}

@test "connect: bad sizes, durations, counts and applet checks, one message each" {
    u=ws://127.0.0.1:1/
    WHAT='too large' WANT='1..4G' bad connect max-message 5G "$u"
    WHAT='too small' WANT='1ms..365d' bad connect timeout 0 "$u"
    WHAT='not a duration' bad connect idle 1x "$u"
    WHAT='too small' WANT='1 or more' bad connect count 0 "$u"
    WHAT='not a whole number' WANT='0..1000000' bad connect reconnect many "$u"
    WHAT='not a header' bad connect header novalue "$u"
    WHAT='not a regular expression' WANT='a POSIX extended regular expression' \
        bad connect until '(' "$u"
    WHAT='not a subprotocol name' bad connect subprotocol 'a b' "$u"
    WHAT='not a proxy URL' bad connect proxy ftp://p:1 "$u"
}

@test "frame: bad counts, words and applet checks, one message each" {
    WHAT='too large' WANT='0..65535' bad frame close-code 70000
    WHAT='not one of the choices' WANT='7, 16 or 64' bad frame len-form 8
    WHAT='not one of the choices' WANT='client or server' bad frame role peer
    WHAT='not an opcode' bad frame opcode txt
    WHAT='not a masking key' bad frame mask zz
    WHAT='not a whole number' bad frame retry 1.5 --sse
}

@test "handshake: applet checks report in the same form" {
    WHAT='not a subprotocol name' WANT='an HTTP token' bad handshake subprotocol 'a b' --request
    WHAT='not a header' bad handshake header novalue
}

@test "replay: bad decimals, durations, counts, sizes and names, one message each" {
    WHAT='too small' WANT='1e-6..1e6' bad replay speed 0 /dev/null ws://127.0.0.1:1/
    WHAT='not a duration' WANT='0..1d' bad replay wait 2days /dev/null ws://127.0.0.1:1/
    WHAT='too small' WANT='1..1000000' bad replay max-diffs 0 /dev/null ws://127.0.0.1:1/
    WHAT='too small' WANT='64..1G' bad replay max-line 1 /dev/null ws://127.0.0.1:1/
    WHAT='not a channel name' bad replay channel 'a b' /dev/null --serve 127.0.0.1:0
}

@test "portcheck: bad counts, durations, decimals and applet checks, one message each" {
    WHAT='too small' WANT='1..1000000000' bad portcheck target 0
    WHAT='not a duration' WANT='0..7d' bad portcheck hold -1 127.0.0.1:1 -n 1
    WHAT='too small' WANT='0.001..1e6' bad portcheck rate 0 127.0.0.1:1 -n 1
    WHAT='not a path' bad portcheck ws nopath 127.0.0.1:1 -n 1
    WHAT='not a source list' bad portcheck source 1.2.3.x
}

@test "a value given as a separate word or after a short option is checked the same way" {
    run "$PW" connect -n 0 ws://127.0.0.1:1/
    assert_failure 2
    assert_output "pushwire connect: bad value for --count: '0' is too small; want 1 or more"
    run "$PW" serve --backlog 0
    assert_failure 2
    assert_output "pushwire serve: bad value for --backlog: '0' is too small; want 1..10000000"
}

@test "-q does not silence a bad value" {
    run "$PW" serve -q --log xml
    assert_failure 2
    assert_output --partial "bad value for --log"
}

# ---- sizes with units do what they say ----

@test "serve --max-message 1K takes 1024 bytes and refuses 1025 with 413" {
    start_serve --max-message 1K
    run C -o /dev/null -w '%{http_code}' --data-binary "$(head -c 1024 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/x"
    assert_output 200
    run C -o /dev/null -w '%{http_code}' --data-binary "$(head -c 1025 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/x"
    assert_output 413
}

@test "serve --max-message 1KB is 1000 bytes: KB counts in powers of 1000" {
    start_serve --max-message 1KB
    run C -o /dev/null -w '%{http_code}' --data-binary "$(head -c 1000 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/x"
    assert_output 200
    run C -o /dev/null -w '%{http_code}' --data-binary "$(head -c 1001 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/x"
    assert_output 413
}

@test "serve without --max-message uses the table's 1M: 1048576 bytes pass, 1048577 are 413" {
    run "$PW" serve --help
    assert_line --regexp '^ +--max-message BYTES +.*\(1\.\.1G; default 1M\)$'
    start_serve
    head -c 1048576 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/m"
    run C -o /dev/null -w '%{http_code}' --data-binary "@$BATS_TEST_TMPDIR/m" "$SERVE_URL/pub/x"
    assert_output 200
    printf b >>"$BATS_TEST_TMPDIR/m"
    run C -o /dev/null -w '%{http_code}' --data-binary "@$BATS_TEST_TMPDIR/m" "$SERVE_URL/pub/x"
    assert_output 413
}

# subscribe CHANNEL ARG… — connect to /ws/CHANNEL in the background (stdout
# and stderr in $BATS_TEST_TMPDIR/out, exit status in …/rc) once subscribed
subscribe() {
    local ch=$1
    shift
    ( rc=0; timeout 10 "$PW" connect --no-stdin --count 1 "$@" "ws://127.0.0.1:$SERVE_PORT/ws/$ch" \
        >"$BATS_TEST_TMPDIR/out" 2>&1 || rc=$?; echo $rc >"$BATS_TEST_TMPDIR/rc" ) &
    CONNECT_PID=$!
    wait_metric "pushwire_subscribers{channel=\"$ch\"} 1"
}

# finished — waits (12 s at most: connect has 10) for the background connect;
# prints its exit status
finished() {
    local i
    for i in $(seq 120); do
        [ -s "$BATS_TEST_TMPDIR/rc" ] && { cat "$BATS_TEST_TMPDIR/rc"; return 0; }
        sleep 0.1
    done
    echo "connect did not finish: $(cat "$BATS_TEST_TMPDIR/out")" >&2
    return 1
}

@test "connect --max-message 1K takes a 1024-byte WebSocket message" {
    start_serve --metrics-per-channel
    subscribe k1 --max-message 1K
    C -o /dev/null --data-binary "$(head -c 1024 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/k1"
    run finished
    assert_output 0
    [ "$(head -n 1 "$BATS_TEST_TMPDIR/out" | tr -d '\n' | wc -c)" -eq 1024 ]
}

@test "connect --max-message 1K refuses a 1025-byte WebSocket message with 1009, exit 1" {
    start_serve --metrics-per-channel
    subscribe k2 --max-message 1K
    C -o /dev/null --data-binary "$(head -c 1025 /dev/zero | tr '\0' a)" "$SERVE_URL/pub/k2"
    run finished
    assert_output 1
    grep -q 1009 "$BATS_TEST_TMPDIR/out" || fail "no 1009: $(cat "$BATS_TEST_TMPDIR/out")"
}

# ---- durations and defaults ----

@test "connect --idle 300ms gives up after 0.3 s (exit 7)" {
    start_serve
    run timeout 10 "$PW" connect --no-stdin --idle 300ms "$SERVE_URL/sse/quiet"
    assert_failure 7
    assert_output --partial 'nothing arrived for 0.3 s'
}

@test "--help shows each default and range from the table" {
    run "$PW" connect --help
    assert_line --regexp '^ +--max-message BYTES +largest message accepted \(1\.\.4G; default 16M\)$'
    assert_output --partial 'BYTES is a whole number of bytes'
    assert_output --partial 'SECS is a number of seconds'
    run "$PW" serve --help
    assert_line --regexp '^ +--log FORMAT +log format \(text or json; default text\)$'
    assert_line --regexp '^ +--heartbeat SECS +.*\(0\.\.365d; default 15\)$'
    run "$PW" handshake --help
    refute_output --partial 'BYTES is'
}

@test "the man page and the completions show the same text as --help" {
    doc=$("$PW" connect --help | sed -n 's/^ *--max-message BYTES *//p')
    [ "$doc" = 'largest message accepted (1..4G; default 16M)' ]
    mandoc -Tascii "$TOP/man/pushwire-connect.1" | col -b | tr -s ' \n' ' ' | grep -qF "$doc"
    grep -qF "$doc" "$TOP/completions/pushwire.fish"
    grep -qF -- "--max-message=[largest message accepted (1..4G; default 16M)]" "$TOP/completions/_pushwire"
}

@test "a default is used only when the option is not given: one --listen replaces it" {
    start_serve
    [ "$(grep -c 'listening on' "$SERVE_LOG")" -eq 1 ]
    grep -q "listening on 127.0.0.1:$SERVE_PORT" "$SERVE_LOG"
}
