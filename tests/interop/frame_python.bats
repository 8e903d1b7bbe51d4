#!/usr/bin/env bats
# pushwire frame against Debian's python3-websockets frame codec: each side
# parses what the other builds, and both refuse the same broken frames.
load ../cli/helper
export PW
WSPY="/usr/bin/python3 $BATS_TEST_DIRNAME/frame_python.py"
export WSPY

@test "websockets parses what pushwire builds: every opcode, masked and unmasked" {
    for op in text binary ping pong; do
        run bash -c '"$PW" frame -o "$0" --mask 0badf00d "héllo" | $WSPY parse 1' "$op"
        assert_success
        assert_output "${op^^} 1 68c3a96c6c6f"
        run bash -c '"$PW" frame -o "$0" --role server "héllo" | $WSPY parse 0' "$op"
        assert_success
        assert_output "${op^^} 1 68c3a96c6c6f"
    done
    run bash -c '"$PW" frame --close-code 1000 bye | $WSPY parse 1'
    assert_success
    assert_output "CLOSE 1 03e8627965"
}

@test "websockets parses what pushwire builds: a fragmented message" {
    run bash -c '{ "$PW" frame --role server --no-fin Hel; "$PW" frame --role server -o continuation lo; } | $WSPY parse 0'
    assert_success
    assert_output "TEXT 0 48656c
CONT 1 6c6f"
}

@test "websockets parses what pushwire builds: all three length forms" {
    for n in 125 126 65535 65536; do
        run bash -c 'head -c "$0" /dev/zero | "$PW" frame -o binary - | $WSPY parse 1 | cut -d" " -f3 | tr -d "\n" | wc -c' "$n"
        assert_output "$((2 * n))"
    done
}

@test "pushwire decodes what websockets builds, client and server side" {
    run bash -c '$WSPY build TEXT 1 68c3a96c6c6f | "$PW" frame -d --role client --json'
    assert_success
    assert_output --partial '"opcode_name":"text","masked":true'
    assert_output --partial '"payload":"héllo","encoding":"text"'
    run bash -c '$WSPY build BINARY 0 00ff | "$PW" frame -d --role server --json'
    assert_success
    assert_output --partial '"payload":"AP8=","encoding":"base64"'
    run bash -c '$WSPY build CLOSE 1 0fa06279 | "$PW" frame -d --role client'
    assert_success
    assert_line "  close code: 4000 (private use)"
    run bash -c '{ $WSPY build TEXT 0 61 0; $WSPY build PING 0 ""; $WSPY build CONT 0 62 1; } | "$PW" frame -d --role server'
    assert_success
    assert_line "  opcode: 0x9 (ping)"
    assert_line "frame 3: offset 5, 3 bytes"
}

@test "pushwire decodes what websockets builds at every length form" {
    for n in 125 126 65536; do
        run bash -c '$WSPY build BINARY 1 "zeros:$0" | "$PW" frame -d --role client --json' "$n"
        assert_success
        assert_output --partial "\"length\":$n,"
        assert_output --partial '"length_minimal":true'
    done
}

@test "both refuse the same broken frames, pushwire naming the rule" {
    while IFS='|' read -r args rule; do
        run bash -c '"$PW" frame -q --no-mask $0 | $WSPY parse 0' "$args"
        assert_failure 1
        assert_output --partial "error:"
        run bash -c '"$PW" frame -q --no-mask $0 | "$PW" frame -d' "$args"
        assert_failure 3
        assert_output --partial "$rule"
    done <<'LIST'
--rsv1 x|RFC 6455 §5.2: RSV bit set
-o 3 x|RFC 6455 §5.2: reserved opcode
-o ping --no-fin|RFC 6455 §5.5: control frame is fragmented
-o pong aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|RFC 6455 §5.5: control frame payload longer
--close-code 1005|RFC 6455 §7.4
-o close x|RFC 6455 §5.5.1
LIST
}

@test "both refuse invalid UTF-8 in a text frame and a truncated frame" {
    run bash -c 'printf "\xc0\xaf" | "$PW" frame -q --no-mask - | $WSPY parse 0'
    assert_failure 1
    run bash -c 'printf "\xc0\xaf" | "$PW" frame -q --no-mask - | "$PW" frame -d'
    assert_failure 3
    assert_output --partial "RFC 6455 §8.1"
    run bash -c '"$PW" frame --no-mask Hello | head -c 4 | $WSPY parse 0'
    assert_failure 1
    assert_output "error: truncated"
    run bash -c '"$PW" frame --no-mask Hello | head -c 4 | "$PW" frame -d'
    assert_failure 3
    assert_output --partial "input ends inside a frame"
}
