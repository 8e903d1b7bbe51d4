#!/usr/bin/env bats
# pushwire connect: the slash commands typed at a terminal (/ping, /close
# CODE REASON, /binary HEX, // for a literal slash), run under script(1) so
# stdin is a pty, against "$PW serve --echo".  stdout and stderr of connect
# go to files, so the pty's echo of the typed lines does not matter.
load helper

setup() {
    command -v script >/dev/null || missing "script(1) (bsdutils) is not installed"
    start_serve --echo
    export URL=ws://127.0.0.1:$SERVE_PORT/ws/c OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
}

teardown() { stop_serve; }

# tty_connect INPUT [CONNECT ARGS...] — connect on a pty fed INPUT
tty_connect() {
    local input=$1
    shift
    export ARGS="$*"
    printf '%s' "$input" | timeout 20 script -q -e \
        -c 'exec "$PW" connect --json -w "close %{close_code}\n" $ARGS "$URL" >"$OUT" 2>"$ERR"' /dev/null >/dev/null
}

@test "tty: // sends a literal slash, /binary sends bytes, /close CODE ends with it" {
    tty_connect $'plain\n//slash\n/binary 00ff41\n/binary 2f 78\n/close 4001 bye now\n'
    run cat "$OUT"
    assert_output '{"id":null,"event":"message","data":"plain","type":"text"}
{"id":null,"event":"message","data":"/slash","type":"text"}
{"id":null,"event":"message","data":"AP9B","type":"binary","encoding":"base64"}
{"id":null,"event":"message","data":"L3g=","type":"binary","encoding":"base64"}
close 4001'
}

@test "tty: /ping gets a pong and its round-trip time" {
    tty_connect $'/ping hello\nafter\n/close\n'
    run cat "$OUT"
    assert_output '{"id":null,"event":"message","data":"after","type":"text"}
close 1000'
    run cat "$ERR"
    assert_output --regexp '^pushwire connect: pong after [0-9]+\.[0-9]{3} ms$'
}

@test "tty: an unknown command or a bad argument is reported and nothing is sent" {
    tty_connect $'/bogus x\n/binary 0g\n/close 1005\nok\n/close 4000\n'
    run cat "$OUT"
    assert_output '{"id":null,"event":"message","data":"ok","type":"text"}
close 4000'
    run cat "$ERR"
    assert_line --index 0 "pushwire connect: unknown command '/bogus' (/ping [DATA], /close [CODE [REASON]], /binary HEX, // for a literal /)"
    assert_line --index 1 'pushwire connect: /binary: want pairs of hex digits'
    assert_line --index 2 'pushwire connect: /close: 1005 is not a close code that may be sent'
    [ "${#lines[@]}" -eq 3 ]
}

@test "no tty: slash lines are plain messages" {
    run bash -c 'printf "/ping x\n//y\n" | timeout 20 "$PW" connect --json -w "close %{close_code}\n" "$URL" 2>/dev/null'
    assert_success
    assert_output '{"id":null,"event":"message","data":"/ping x","type":"text"}
{"id":null,"event":"message","data":"//y","type":"text"}
close 1000'
}
