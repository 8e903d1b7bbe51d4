#!/usr/bin/env bats
# frame.bats — `pushwire frame`: encode, decode, SSE (SPEC §6).
load helper
bats_require_minimum_version 1.5.0
export PW  # for the pipelines run through bash -c

VEC="$BATS_TEST_DIRNAME/../vectors/ws"

# bytes on stdin as "xx xx xx" (independent of --hex)
hexof() { od -An -v -tx1 | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'; }
# N bytes of 'a'
bytes() { head -c "$1" /dev/zero | tr '\0' a; }

# ---------- encoding: bytes ----------

@test "encode: unmasked text frame, byte-exact" {
    run --separate-stderr "$PW" frame --no-mask Hello --hex
    assert_success
    assert_output "81 05 48 65 6c 6c 6f"
}

@test "encode: masked text frame with a given key (RFC 6455 §5.7)" {
    run --separate-stderr "$PW" frame --mask 37fa213d Hello --hex
    assert_success
    assert_output "81 85 37 fa 21 3d 7f 9f 4d 51 58"
}

@test "encode: raw output is the same bytes as --hex" {
    run bash -c '"$PW" frame --mask 37fa213d Hello | od -An -v -tx1'
    assert_success
    assert_output --regexp "^ *81 85 37 fa 21 3d 7f 9f 4d 51 58$"
}

@test "encode: a client frame is masked with a random key by default" {
    run --separate-stderr "$PW" frame Hello --hex
    assert_success
    first=$output
    [[ $first =~ ^81\ 85\ ([0-9a-f]{2}\ ){4}([0-9a-f]{2}\ ){4}[0-9a-f]{2}$ ]]
    run --separate-stderr "$PW" frame Hello --hex
    [ "$output" != "$first" ]
    run bash -c '"$PW" frame Hello | "$PW" frame --decode --json --role client'
    assert_success
    assert_output --partial '"masked":true'
    assert_output --partial '"payload":"Hello"'
}

@test "encode: --mask random masks with a fresh key" {
    run bash -c '"$PW" frame --mask random --no-mask x'
    assert_failure 2
    run --separate-stderr "$PW" frame --mask random Hi --hex
    assert_success
    [[ $output =~ ^81\ 82\  ]]
}

@test "encode: --role server writes an unmasked frame" {
    run --separate-stderr "$PW" frame --role server Hello --hex
    assert_success
    assert_output "81 05 48 65 6c 6c 6f"
}

@test "encode: --role client with --no-mask warns (RFC 6455 §5.1) and writes it" {
    run --separate-stderr "$PW" frame --role client --no-mask Hi --hex
    assert_success
    assert_output "81 02 48 69"
    [[ $stderr == *"warning: RFC 6455 §5.1: client frame is not masked"* ]]
}

@test "encode: --role server with --mask warns (RFC 6455 §5.1)" {
    run --separate-stderr "$PW" frame --role server --mask 01020304 Hi --hex
    assert_success
    assert_output "81 82 01 02 03 04 49 6b"
    [[ $stderr == *"RFC 6455 §5.1: server frame is masked"* ]]
}

@test "encode: every opcode by name" {
    for pair in text:81 binary:82 continuation:80 close:88 ping:89 pong:8a; do
        run --separate-stderr "$PW" frame --no-mask --opcode "${pair%%:*}" --hex
        assert_success
        assert_output "${pair##*:} 00"
    done
}

@test "encode: opcode as a number, decimal or hex" {
    run --separate-stderr "$PW" frame --no-mask -o 2 --hex
    assert_output "82 00"
    run --separate-stderr "$PW" frame --no-mask -o 0xA --hex
    assert_output "8a 00"
    run --separate-stderr "$PW" frame --no-mask -o 15 --hex
    assert_success
    assert_output "8f 00"
}

@test "encode: a reserved opcode is written with a warning naming RFC 6455 §5.2" {
    run --separate-stderr "$PW" frame --no-mask -o 3 x --hex
    assert_success
    assert_output "83 01 78"
    [[ $stderr == *"RFC 6455 §5.2: reserved opcode"* ]]
}

@test "encode: opcode outside 0-15 or unknown name is a usage error" {
    run "$PW" frame -o 16 x
    assert_failure 2
    assert_output --partial "bad value for --opcode"
    run "$PW" frame -o txt x
    assert_failure 2
    assert_output --partial "'txt' is not an opcode"
    run "$PW" frame -o -1 x
    assert_failure 2
}

@test "encode: --no-fin clears FIN" {
    run --separate-stderr "$PW" frame --no-mask --no-fin Hel --hex
    assert_success
    assert_output "01 03 48 65 6c"
    [ -z "$stderr" ]
}

@test "encode: a lone continuation fragment gets no warning" {
    run --separate-stderr "$PW" frame --no-mask -o continuation lo --hex
    assert_success
    assert_output "80 02 6c 6f"
    [ -z "$stderr" ]
}

@test "encode: --rsv1, --rsv2, --rsv3 set their bits, with a warning" {
    run --separate-stderr "$PW" frame --no-mask --rsv1 --hex
    assert_output "c1 00"
    [[ $stderr == *"RFC 6455 §5.2: RSV bit set without a negotiated extension"* ]]
    run --separate-stderr "$PW" frame --no-mask --rsv2 --hex
    assert_output "a1 00"
    run --separate-stderr "$PW" frame --no-mask --rsv3 --hex
    assert_output "91 00"
    run --separate-stderr "$PW" frame --no-mask --rsv1 --rsv2 --rsv3 --hex
    assert_success
    assert_output "f1 00"
}

@test "encode: empty payload" {
    run --separate-stderr "$PW" frame --no-mask --hex
    assert_success
    assert_output "81 00"
    run --separate-stderr "$PW" frame --mask 01020304 -o ping --hex
    assert_output "89 80 01 02 03 04"
}

# ---------- encoding: length forms ----------

@test "encode: 125 bytes use the 7-bit form" {
    run --separate-stderr "$PW" frame --no-mask "$(bytes 125)" --hex
    assert_success
    [[ $output == "81 7d 61 61 "* ]]
    [ "${#output}" -eq $(( (2 + 125) * 3 - 1 )) ]
}

@test "encode: 126 bytes use the 16-bit form" {
    run --separate-stderr "$PW" frame --no-mask "$(bytes 126)" --hex
    assert_success
    [[ $output == "81 7e 00 7e 61 "* ]]
    [ "${#output}" -eq $(( (4 + 126) * 3 - 1 )) ]
}

@test "encode: 65535 bytes use the 16-bit form, 65536 the 64-bit form" {
    run bash -c 'head -c 65535 /dev/zero | "$PW" frame --no-mask -o binary - | head -c 4 | od -An -tx1'
    assert_output --regexp "^ *82 7e ff ff$"
    run bash -c 'head -c 65536 /dev/zero | "$PW" frame --no-mask -o binary - | head -c 10 | od -An -tx1'
    assert_output --regexp "^ *82 7f 00 00 00 00 00 01 00 00$"
    run bash -c 'head -c 65536 /dev/zero | "$PW" frame --no-mask -o binary - | wc -c'
    assert_output --regexp "^ *65546$"
}

@test "encode: --len-form 16 and 64 force a longer form, with a warning" {
    run --separate-stderr "$PW" frame --no-mask --len-form 16 Hi --hex
    assert_success
    assert_output "81 7e 00 02 48 69"
    [[ $stderr == *"RFC 6455 §5.2: payload length not in its minimal encoding"* ]]
    run --separate-stderr "$PW" frame --no-mask --len-form 64 Hi --hex
    assert_output "81 7f 00 00 00 00 00 00 00 02 48 69"
    run --separate-stderr "$PW" frame --mask 37fa213d --len-form 16 Hello --hex
    assert_output "81 fe 00 05 37 fa 21 3d 7f 9f 4d 51 58"
}

@test "encode: --len-form 7 is the short form; 126 bytes do not fit it" {
    run --separate-stderr "$PW" frame --no-mask --len-form 7 Hi --hex
    assert_success
    assert_output "81 02 48 69"
    [ -z "$stderr" ]
    run "$PW" frame --no-mask --len-form 7 "$(bytes 126)"
    assert_failure 2
    assert_output --partial "does not fit the 7-bit length form"
}

@test "encode: --len-form 16 cannot hold 65536 bytes" {
    run bash -c 'head -c 65536 /dev/zero | "$PW" frame --no-mask --len-form 16 - >/dev/null'
    assert_failure 2
    assert_output --partial "use --len-form 64"
}

@test "encode: --len-form other than 7, 16, 64 is a usage error" {
    run "$PW" frame --len-form 32 x
    assert_failure 2
    assert_output --partial "bad value for --len-form"
}

# ---------- encoding: close and control frames ----------

@test "encode: close frame with code and reason" {
    run --separate-stderr "$PW" frame --no-mask --opcode close --close-code 1000 bye --hex
    assert_success
    assert_output "88 05 03 e8 62 79 65"
    [ -z "$stderr" ]
}

@test "encode: --close-code alone makes a close frame" {
    run --separate-stderr "$PW" frame --no-mask --close-code 1001 --hex
    assert_success
    assert_output "88 02 03 e9"
}

@test "encode: close frame masked" {
    run --separate-stderr "$PW" frame --mask 37fa213d --close-code 1000 --hex
    assert_output "88 82 37 fa 21 3d 34 12"
}

@test "encode: --close-code with another opcode is a usage error" {
    run "$PW" frame -o text --close-code 1000 x
    assert_failure 2
    assert_output --partial "--close-code needs a close frame"
}

@test "encode: close code out of range is a usage error" {
    run "$PW" frame --close-code 65536
    assert_failure 2
    assert_output --partial "bad value for --close-code"
    run "$PW" frame --close-code abc
    assert_failure 2
}

@test "encode: a close code not allowed on the wire is written with a warning (RFC 6455 §7.4)" {
    run --separate-stderr "$PW" frame --no-mask --close-code 1005 --hex
    assert_success
    assert_output "88 02 03 ed"
    [[ $stderr == *"RFC 6455 §7.4: close code not allowed on the wire"* ]]
}

@test "encode: close without --close-code: DATA is the whole payload; one byte warns (§5.5.1)" {
    run --separate-stderr "$PW" frame --no-mask -o close x --hex
    assert_success
    assert_output "88 01 78"
    [[ $stderr == *"RFC 6455 §5.5.1"* ]]
}

@test "encode: control payload over 125 bytes is written with a warning (RFC 6455 §5.5)" {
    run --separate-stderr "$PW" frame --no-mask -o ping "$(bytes 126)" --hex
    assert_success
    [[ $output == "89 7e 00 7e 61 "* ]]
    [[ $stderr == *"RFC 6455 §5.5: control frame payload longer than 125 bytes"* ]]
}

@test "encode: a fragmented control frame is written with a warning (RFC 6455 §5.5)" {
    run --separate-stderr "$PW" frame --no-mask -o pong --no-fin --hex
    assert_success
    assert_output "0a 00"
    [[ $stderr == *"RFC 6455 §5.5: control frame is fragmented"* ]]
}

@test "encode: invalid UTF-8 in a text frame warns (RFC 6455 §8.1)" {
    run --separate-stderr bash -c 'printf "\xff" | "$PW" frame --no-mask - --hex'
    assert_success
    assert_output "81 01 ff"
    [[ $stderr == *"RFC 6455 §8.1"* ]]
    run --separate-stderr bash -c 'printf "\xff" | "$PW" frame --no-mask -o binary - --hex'
    assert_output "82 01 ff"
    [ -z "$stderr" ]
}

@test "encode: -q silences warnings" {
    run --separate-stderr "$PW" frame -q --no-mask --rsv1 x --hex
    assert_success
    assert_output "c1 01 78"
    [ -z "$stderr" ]
}

@test "encode: -v shows the frame's anatomy on stderr" {
    run --separate-stderr "$PW" frame -v --mask 37fa213d Hello --hex
    assert_success
    assert_output "81 85 37 fa 21 3d 7f 9f 4d 51 58"
    [[ $stderr == *"MASK 1, key: 37fa213d"* ]]
    [[ $stderr == *'payload (text): "Hello"'* ]]
}

# ---------- encoding: input ----------

@test "encode: payload from --file" {
    printf 'from a file' >"$BATS_TEST_TMPDIR/p"
    run --separate-stderr "$PW" frame --no-mask --file "$BATS_TEST_TMPDIR/p" --hex
    assert_success
    assert_output "81 0b 66 72 6f 6d 20 61 20 66 69 6c 65"
}

@test "encode: payload from stdin with '-', binary-safe" {
    run --separate-stderr bash -c 'printf "\x00\x01\xff" | "$PW" frame --no-mask -o binary - --hex'
    assert_success
    assert_output "82 03 00 01 ff"
}

@test "encode: '--' lets DATA start with a dash" {
    run --separate-stderr "$PW" frame --no-mask --hex -- -x
    assert_success
    assert_output "81 02 2d 78"
}

@test "encode: a missing file is a failure that names it" {
    run "$PW" frame --file /nonexistent/x
    assert_failure 1
    assert_output --partial "cannot open '/nonexistent/x'"
}

@test "encode: two inputs are a usage error" {
    run "$PW" frame a b
    assert_failure 2
    assert_output --partial "give one input"
    printf x >"$BATS_TEST_TMPDIR/p"
    run "$PW" frame --file "$BATS_TEST_TMPDIR/p" a
    assert_failure 2
}

@test "encode: input over the 64 MiB limit is refused" {
    run bash -c 'head -c $((64 * 1024 * 1024 + 1)) /dev/zero | "$PW" frame --no-mask -o binary - >/dev/null'
    assert_failure 1
    assert_output --partial "64 MiB limit"
}

# ---------- options ----------

@test "options: bad masking keys are usage errors" {
    run "$PW" frame --mask 37fa21 x
    assert_failure 2
    assert_output --partial "bad value for --mask"
    run "$PW" frame --mask 37fa213g x
    assert_failure 2
    run "$PW" frame --mask 37fa213d --no-mask x
    assert_failure 2
    assert_output --partial "contradict"
}

@test "options: bad role is a usage error" {
    run "$PW" frame --role browser x
    assert_failure 2
    assert_output --partial "bad value for --role"
}

@test "options: unknown option suggests the closest one" {
    run "$PW" frame --deocde
    assert_failure 2
    assert_output --partial "unknown option '--deocde'; did you mean '--decode'?"
    run "$PW" frame --opcdoe text
    assert_failure 2
    assert_output --partial "did you mean '--opcode'?"
}

@test "options: a missing option argument is a usage error" {
    run "$PW" frame --opcode
    assert_failure 2
    assert_output --partial "needs an argument"
}

@test "options: options that do not apply to the mode are usage errors" {
    run "$PW" frame --json x
    assert_failure 2
    assert_output --partial "--json does not apply to encoding a frame"
    run "$PW" frame --decode --opcode text
    assert_failure 2
    assert_output --partial "--opcode does not apply to --decode"
    run "$PW" frame --id 1 x
    assert_failure 2
    assert_output --partial "--id does not apply"
    run "$PW" frame --sse --role client x
    assert_failure 2
    run "$PW" frame --sse --decode --id 1
    assert_failure 2
}

@test "options: --help lists every option" {
    run "$PW" frame --help
    assert_success
    for o in decode hex json role opcode no-fin rsv1 rsv2 rsv3 deflate mask no-mask close-code \
             len-form file sse id event retry; do
        assert_output --partial -- "--$o"
    done
}

# ---------- decoding: RFC 6455 §5.7 examples ----------

@test "decode: §5.7 single-frame unmasked text" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-unmasked-text.hex"
    assert_success
    assert_output "frame 1: offset 0, 7 bytes
  FIN 1, RSV1 0, RSV2 0, RSV3 0
  opcode: 0x1 (text)
  MASK 0
  payload length: 5 (7-bit form, minimal)
  payload (text): \"Hello\""
}

@test "decode: §5.7 single-frame masked text" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-masked-text.hex"
    assert_success
    assert_output "frame 1: offset 0, 11 bytes
  FIN 1, RSV1 0, RSV2 0, RSV3 0
  opcode: 0x1 (text)
  MASK 1, key: 37fa213d
  payload length: 5 (7-bit form, minimal)
  payload (text): \"Hello\""
}

@test "decode: §5.7 fragmented unmasked text" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-fragmented-text.hex"
    assert_success
    assert_output "frame 1: offset 0, 5 bytes
  FIN 0, RSV1 0, RSV2 0, RSV3 0
  opcode: 0x1 (text)
  MASK 0
  payload length: 3 (7-bit form, minimal)
  payload (text): \"Hel\"
frame 2: offset 5, 4 bytes
  FIN 1, RSV1 0, RSV2 0, RSV3 0
  opcode: 0x0 (continuation)
  MASK 0
  payload length: 2 (7-bit form, minimal)
  payload (text): \"lo\""
}

@test "decode: §5.7 unmasked ping" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-unmasked-ping.hex"
    assert_success
    assert_line --index 2 "  opcode: 0x9 (ping)"
    assert_line --index 3 "  MASK 0"
    assert_line --index 5 '  payload (text): "Hello"'
}

@test "decode: §5.7 masked pong" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-masked-pong.hex"
    assert_success
    assert_line --index 2 "  opcode: 0xa (pong)"
    assert_line --index 3 "  MASK 1, key: 37fa213d"
    assert_line --index 5 '  payload (text): "Hello"'
}

@test "decode: §5.7 256 bytes binary, 16-bit length" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-binary-256.hex"
    assert_success
    assert_line --index 0 "frame 1: offset 0, 260 bytes"
    assert_line --index 2 "  opcode: 0x2 (binary)"
    assert_line --index 4 "  payload length: 256 (16-bit form, minimal)"
    assert_line --index 5 --regexp "^  payload \(hex\): 00 01 02 .* fe ff$"
}

@test "decode: §5.7 64 KiB binary, 64-bit length" {
    run "$PW" frame --decode --hex "$VEC/rfc6455-5.7-binary-64k.hex"
    assert_success
    assert_line --index 0 "frame 1: offset 0, 65546 bytes"
    assert_line --index 4 "  payload length: 65536 (64-bit form, minimal)"
    assert_line --index 5 --partial "(64512 more bytes; -v shows all)"
    run bash -c '"$PW" frame --decode --hex --json "$0" | grep -o "\"payload\":\"[^\"]*\"" | cut -d\" -f4 | base64 -d | wc -c' "$VEC/rfc6455-5.7-binary-64k.hex"
    assert_output 65536
}

@test "decode: -v shows header bytes and the whole payload" {
    run "$PW" frame --decode --hex -v "$VEC/rfc6455-5.7-binary-64k.hex"
    assert_success
    assert_line --index 5 "  header bytes: 82 7f 00 00 00 00 00 01 00 00"
    refute_output --partial "more bytes"
    assert_line --index 6 --regexp " fe ff$"
}

# ---------- decoding: input forms ----------

@test "decode: raw and hex input give the same anatomy" {
    raw=$("$PW" frame --mask 37fa213d Hello | "$PW" frame --decode)
    hex=$("$PW" frame --mask 37fa213d Hello --hex | "$PW" frame --decode --hex)
    [ -n "$raw" ]
    [ "$raw" = "$hex" ]
}

@test "decode: hex input allows any whitespace and # comments" {
    run bash -c 'printf "# a comment\n81\t05 4865\r\n6c6c6f # trailing\n" | "$PW" frame -d -x --json'
    assert_success
    assert_output --partial '"payload":"Hello"'
}

@test "decode: a non-hex character is an input error" {
    run bash -c 'echo "81 0g" | "$PW" frame -d -x'
    assert_failure 1
    assert_output --partial "byte 4 is not a hex digit ('g')"
}

@test "decode: an odd number of hex digits is an input error" {
    run bash -c 'echo "81 0" | "$PW" frame -d -x'
    assert_failure 1
    assert_output --partial "odd number of hex digits"
}

@test "decode: input from --file, a FILE operand and '-'" {
    "$PW" frame --no-mask Hi >"$BATS_TEST_TMPDIR/f"
    run "$PW" frame -d --file "$BATS_TEST_TMPDIR/f"
    assert_success
    assert_line --index 5 '  payload (text): "Hi"'
    run "$PW" frame -d "$BATS_TEST_TMPDIR/f"
    assert_line --index 5 '  payload (text): "Hi"'
    run bash -c '"$PW" frame -d - <"$0"' "$BATS_TEST_TMPDIR/f"
    assert_line --index 5 '  payload (text): "Hi"'
}

@test "decode: empty input prints nothing and succeeds" {
    run "$PW" frame --decode </dev/null
    assert_success
    assert_output ""
}

@test "decode: a stream of several frames with offsets" {
    run bash -c '{ "$PW" frame --no-mask a; "$PW" frame --no-mask -o ping; "$PW" frame --no-mask bc; } | "$PW" frame -d'
    assert_success
    assert_line "frame 1: offset 0, 3 bytes"
    assert_line "frame 2: offset 3, 2 bytes"
    assert_line "frame 3: offset 5, 4 bytes"
}

# ---------- decoding: round trips ----------

@test "round trip: every opcode, masked and unmasked" {
    for op in text binary continuation close ping pong; do
        for m in --no-mask "--mask 0badf00d"; do
            run bash -c '"$PW" frame -q $2 -o "$1" pq | "$PW" frame -d --json' _ "$op" "$m"
            assert_output --partial "\"opcode_name\":\"$op\""
            if [ "$op" = binary ]; then
                assert_output --partial '"payload":"cHE=","encoding":"base64"'
            else
                assert_output --partial '"payload":"pq","encoding":"text"'
            fi
        done
    done
}

@test "round trip: numeric reserved opcode" {
    run bash -c '"$PW" frame -q --no-mask -o 11 z | "$PW" frame -d --json'
    assert_failure 3
    assert_output --partial '"opcode":11,"opcode_name":"reserved"'
}

@test "round trip: close code and reason" {
    run bash -c '"$PW" frame --close-code 4001 "going, bye" | "$PW" frame -d'
    assert_success
    assert_line "  close code: 4001 (private use)"
    assert_line '  close reason: "going, bye"'
}

@test "round trip: all three length forms" {
    for n in 5 300 70000; do
        run bash -c 'head -c "$1" /dev/zero | "$PW" frame -o binary - | "$PW" frame -d --json --role client' _ "$n"
        assert_success
        assert_output --partial "\"length\":$n,"
    done
}

# ---------- decoding: JSON ----------

@test "json: one object per frame with stable keys" {
    run "$PW" frame --decode --hex --json "$VEC/rfc6455-5.7-masked-text.hex"
    assert_success
    assert_output '{"frame":1,"offset":0,"size":11,"fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"opcode":1,"opcode_name":"text","masked":true,"mask_key":"37fa213d","length":5,"length_form":7,"length_minimal":true,"payload":"Hello","encoding":"text","close_code":null,"close_meaning":null,"close_reason":null,"truncated":false,"violations":[],"inflated":null,"inflated_encoding":null}'
}

@test "json: the keys come in the order pushwire-frame(1) lists them" {
    man=$BATS_TEST_DIRNAME/../../man/pushwire-frame.1
    # the ".It Li a , b" items of the --json key list, joined with commas
    listed=$(sed -n '/these keys in this/,/^\.El/p' "$man" | sed -n 's/^\.It Li //p' |
        sed 's/ , /,/g' | paste -sd, -)
    run bash -c '"$PW" frame --decode --hex --json "$0" | jq -r "keys_unsorted | join(\",\")"' \
        "$VEC/rfc6455-5.7-masked-text.hex"
    assert_success
    assert_output "$listed"
}

@test "json: close frame fields" {
    run bash -c '"$PW" frame --no-mask --close-code 1000 bye | "$PW" frame -d --json'
    assert_success
    assert_output --partial '"close_code":1000,"close_meaning":"normal closure","close_reason":"bye"'
}

@test "json: violations carry the rule" {
    run bash -c '"$PW" frame -q --no-mask --rsv2 x | "$PW" frame -d --json'
    assert_failure 3
    assert_output --partial '"violations":[{"rule":"RFC 6455 §5.2","message":"RSV bit set without a negotiated extension"}]'
}

@test "json: every line parses as JSON" {
    run bash -c 'cat "$0"/*.hex | "$PW" frame -d -x --json | python3 -c "
import json, sys
n = 0
for line in sys.stdin:
    o = json.loads(line); n += 1
    assert list(o)[:3] == [\"frame\", \"offset\", \"size\"]
print(n)"' "$VEC"
    assert_success
    assert_output 8
}

# ---------- permessage-deflate (RFC 7692) ----------

# deflate_peer MODE [MSG...] — a python3-websockets server with compression,
# through tests/cli/deflate_peer.py: the raw bytes it sent after the 101
deflate_peer() { timeout 20 /usr/bin/python3 "$BATS_TEST_DIRNAME/deflate_peer.py" "$@"; }

@test "deflate: a real server's compressed messages are inflated, context taken over" {
    # python3-websockets compresses with context takeover and a 12-bit
    # window: the second "Hello" refers to the first
    deflate_peer send Hello Hello "$(bytes 3000)" 'héllo wörld' >"$BATS_TEST_TMPDIR/cap.bin"
    run --separate-stderr "$PW" frame --decode --deflate --role server --json "$BATS_TEST_TMPDIR/cap.bin"
    assert_success
    run jq -c '[.opcode_name, .rsv1, .inflated_encoding, .violations]' <<<"$output"
    assert_line --index 0 '["text",true,"text",[]]'
    assert_line --index 3 '["text",true,"text",[]]'
    assert_line --index 4 '["close",false,null,[]]'
    run bash -c '"$PW" frame --decode --deflate --role server --json "$0" | jq -r .inflated' "$BATS_TEST_TMPDIR/cap.bin"
    assert_line --index 0 Hello
    assert_line --index 1 Hello
    assert_line --index 2 "$(bytes 3000)"
    assert_line --index 3 'héllo wörld'
    # without --deflate the same capture breaks RFC 6455 (no extension)
    run --separate-stderr "$PW" frame --decode --role server "$BATS_TEST_TMPDIR/cap.bin"
    assert_failure 3
    assert_output --partial 'RSV bit set without a negotiated extension'
}

@test "deflate: frames built with --deflate are inflated by a real peer, which echoes them" {
    { "$PW" frame --deflate 'Hello, deflate'
      "$PW" frame --deflate --no-fin 'in two '
      "$PW" frame -o continuation ''
      "$PW" frame --deflate -o binary --file "$TOP/README.md"; } >"$BATS_TEST_TMPDIR/out.bin"
    deflate_peer echo <"$BATS_TEST_TMPDIR/out.bin" >"$BATS_TEST_TMPDIR/echo.bin"
    run bash -c '"$PW" frame --decode --deflate --role server --json "$0" | jq -r ".inflated // empty"' \
        "$BATS_TEST_TMPDIR/echo.bin"
    assert_success
    assert_line --index 0 'Hello, deflate'
    assert_line --index 1 'in two '
    assert_line --index 2 "$(base64 -w0 "$TOP/README.md")"
    # and our own decoder inflates what we built
    run bash -c '"$PW" frame --decode --deflate --json "$0" | jq -r ".inflated // empty"' \
        "$BATS_TEST_TMPDIR/out.bin"
    assert_line --index 0 'Hello, deflate'
}

@test "deflate: the examples of RFC 7692 §7.2.3 inflate with no violation" {
    # one frame, two fragments, a second message that refers to the first,
    # and a message in a stored (uncompressed) block
    run --separate-stderr "$PW" frame --decode --hex --deflate <<<'c1 07 f2 48 cd c9 c9 07 00
        41 03 f2 48 cd 80 04 c9 c9 07 00  c1 05 f2 00 11 00 00
        c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'
    assert_success
    run bash -c 'grep -c "message inflated (5 bytes, text): \"Hello\"" <<<"$0"' "$output"
    assert_output 4
}

@test "deflate: RSV1 where RFC 7692 forbids it and bad DEFLATE data are named, and decoding goes on" {
    run --separate-stderr "$PW" frame --decode --hex --deflate <<<'41 03 f2 48 cd c0 04 c9 c9 07 00
        c9 00  c1 02 ff ff  e1 02 48 69  81 02 48 69'
    assert_failure 3
    assert_output --partial 'violation: RFC 7692 §6.1: RSV1 on a continuation frame'
    assert_output --partial 'violation: RFC 7692 §6.1: RSV1 on a control frame'
    assert_output --partial 'violation: RFC 7692 §7.2.2: compressed message is not valid DEFLATE data'
    # RSV2 is still no extension's
    assert_output --partial 'violation: RFC 6455 §5.2: RSV bit set without a negotiated extension'
    assert_output --partial 'payload (text): "Hi"'
    [[ $stderr == *"(5 violations in all)"* ]] || fail "stderr: $stderr"
}

@test "deflate: text that is not UTF-8 once inflated is named (§8.1)" {
    # raw DEFLATE of the two bytes ff fe, final 00 00 ff ff cut
    z=$(python3 -c 'import zlib; c = zlib.compressobj(6, zlib.DEFLATED, -15); print((c.compress(b"\xff\xfe") + c.flush(zlib.Z_SYNC_FLUSH))[:-4].hex())')
    run --separate-stderr "$PW" frame --decode --hex --deflate <<<"c1 $(printf '%02x' $((${#z} / 2))) $z"
    assert_failure 3
    assert_output --partial 'message inflated (2 bytes, hex): ff fe'
    assert_output --partial 'violation: RFC 6455 §8.1: inflated text is not valid UTF-8'
}

@test "deflate: encoding a continuation frame with --deflate is a usage error naming RFC 7692 §6.1" {
    run --separate-stderr "$PW" frame --deflate -o continuation x
    assert_failure 2
    [[ $stderr == *"RFC 7692 §6.1"* ]] || fail "stderr: $stderr"
    run --separate-stderr "$PW" frame --deflate --role server --hex Hello
    assert_success
    assert_output 'c1 07 f2 48 cd c9 c9 07 00'
}

# ---------- decoding: violations (exit 3, rule named) ----------

@test "violation: RSV bit without an extension (RFC 6455 §5.2)" {
    run bash -c '"$PW" frame -q --no-mask --rsv1 x | "$PW" frame -d'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.2: RSV bit set without a negotiated extension"
    assert_line "pushwire frame: frame 1: RFC 6455 §5.2: RSV bit set without a negotiated extension (1 violation in all)"
}

@test "violation: reserved opcode (RFC 6455 §5.2), and decoding goes on" {
    run bash -c '{ "$PW" frame -q --no-mask -o 3 x; "$PW" frame --no-mask ok; } | "$PW" frame -d'
    assert_failure 3
    assert_line "  opcode: 0x3 (reserved)"
    assert_line "  violation: RFC 6455 §5.2: reserved opcode"
    assert_line "frame 2: offset 3, 4 bytes"
    assert_line '  payload (text): "ok"'
}

@test "violation: fragmented control frame (RFC 6455 §5.5)" {
    run bash -c 'echo "09 00" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.5: control frame is fragmented (FIN=0)"
}

@test "violation: control frame over 125 bytes (RFC 6455 §5.5)" {
    run bash -c 'head -c 126 /dev/zero | "$PW" frame -q --no-mask -o pong - | "$PW" frame -d'
    assert_failure 3
    assert_line "  payload length: 126 (16-bit form, minimal)"
    assert_line "  violation: RFC 6455 §5.5: control frame payload longer than 125 bytes"
}

@test "violation: unmasked frame with --role client (RFC 6455 §5.1)" {
    run bash -c '"$PW" frame --no-mask x | "$PW" frame -d --role client'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.1: client frame is not masked"
    run bash -c '"$PW" frame x | "$PW" frame -d --role client'
    assert_success
}

@test "violation: masked frame with --role server (RFC 6455 §5.1)" {
    run bash -c '"$PW" frame x | "$PW" frame -d --role server'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.1: server frame is masked"
    run bash -c '"$PW" frame --role server x | "$PW" frame -d --role server'
    assert_success
}

@test "decode: without --role masking is not checked" {
    run bash -c '{ "$PW" frame x; "$PW" frame --no-mask y; } | "$PW" frame -d'
    assert_success
}

@test "violation: input ends inside the payload (truncated)" {
    run bash -c 'echo "81 05 48 65" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "frame 1: offset 0, 4 bytes (truncated)"
    assert_line "  truncated: 2 of 5 payload bytes"
    assert_line "  violation: RFC 6455 §5.2: input ends inside a frame"
}

@test "violation: input ends inside the header (truncated)" {
    run bash -c 'echo "81 7e 01" | "$PW" frame -d -x --json'
    assert_failure 3
    assert_output --partial '"size":3,"fin":null'
    assert_output --partial '"truncated":true'
    assert_output --partial '"message":"input ends inside a frame"'
}

@test "violation: invalid UTF-8 in a text frame (RFC 6455 §8.1)" {
    run bash -c 'echo "81 02 c0 af" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "  payload (hex): c0 af"
    assert_line "  violation: RFC 6455 §8.1: text is not valid UTF-8"
}

@test "violation: invalid UTF-8 across fragments (RFC 6455 §8.1)" {
    # "κ" then a lone continuation byte in the second fragment
    run bash -c 'echo "01 02 ce ba  80 02 ba 61" | "$PW" frame -d -x'
    assert_failure 3
    assert_line '  payload (text): "κ"'
    assert_line "pushwire frame: frame 2: RFC 6455 §8.1: text is not valid UTF-8 (1 violation in all)"
}

@test "violation: a text message ending inside a code point (RFC 6455 §8.1)" {
    run bash -c 'echo "01 01 ce  80 01 ce" | "$PW" frame -d -x'
    assert_failure 3
    assert_output --partial "frame 2: RFC 6455 §8.1"
}

@test "decode: a code point split across fragments is valid" {
    run bash -c 'echo "01 01 ce  80 01 ba" | "$PW" frame -d -x'
    assert_success
}

@test "violation: close code not allowed (RFC 6455 §7.4)" {
    run bash -c '"$PW" frame -q --no-mask --close-code 1006 x | "$PW" frame -d'
    assert_failure 3
    assert_line "  close code: 1006 (abnormal closure)"
    assert_line "  violation: RFC 6455 §7.4: close code not allowed on the wire"
}

@test "violation: close payload of one byte (RFC 6455 §5.5.1)" {
    run bash -c 'echo "88 01 03" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.5.1: close payload of 1 byte (a code needs 2)"
}

@test "violation: close reason not UTF-8 (RFC 6455 §5.5.1)" {
    run bash -c 'echo "88 03 03 e8 ff" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.5.1: close reason is not valid UTF-8"
}

@test "violation: continuation with no message (RFC 6455 §5.4)" {
    run bash -c 'echo "80 01 61" | "$PW" frame -d -x'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.4: continuation frame with no message in progress"
}

@test "violation: new message inside a fragmented one (RFC 6455 §5.4)" {
    run bash -c 'echo "01 01 61  81 01 62" | "$PW" frame -d -x'
    assert_failure 3
    assert_output --partial "frame 2: RFC 6455 §5.4: new data frame while a fragmented message is in progress"
}

@test "decode: a control frame between fragments is allowed" {
    run bash -c 'echo "01 01 61  89 00  80 01 62" | "$PW" frame -d -x'
    assert_success
    assert_line "frame 3: offset 5, 3 bytes"
}

@test "decode: a broken control frame inside a message does not break the message" {
    run bash -c 'echo "01 01 61  88 01 03  80 01 62" | "$PW" frame -d -x'
    assert_failure 3
    assert_output --partial "frame 2: RFC 6455 §5.5.1: close payload of 1 byte"
    assert_output --partial "frame 3: offset 6, 3 bytes"
    refute_output --partial "§5.4"
}

@test "violation: length not in its minimal form (RFC 6455 §5.2)" {
    run bash -c '"$PW" frame -q --no-mask --len-form 64 x | "$PW" frame -d'
    assert_failure 3
    assert_line "  payload length: 1 (64-bit form, not minimal)"
    assert_line "  violation: RFC 6455 §5.2: payload length not in its minimal encoding"
}

@test "violation: 64-bit length with the top bit set (RFC 6455 §5.2)" {
    run bash -c 'echo "82 7f 80 00 00 00 00 00 00 01" | "$PW" frame -d -x'
    assert_failure 3
    assert_output --partial "RFC 6455 §5.2: 64-bit payload length has its most significant bit set"
}

@test "violation: data frame after a close frame (RFC 6455 §5.5.1)" {
    run bash -c 'echo "88 00  81 01 61" | "$PW" frame -d -x'
    assert_failure 3
    assert_output --partial "frame 2: RFC 6455 §5.5.1: data frame after a close frame"
}

@test "violation: several in one frame are all listed, and counted" {
    run bash -c '"$PW" frame -q --no-mask --rsv3 -o 0xB --no-fin | "$PW" frame -d --role client'
    assert_failure 3
    assert_line "  violation: RFC 6455 §5.2: RSV bit set without a negotiated extension"
    assert_line "  violation: RFC 6455 §5.2: reserved opcode"
    assert_line "  violation: RFC 6455 §5.5: control frame is fragmented (FIN=0)"
    assert_line "  violation: RFC 6455 §5.1: client frame is not masked"
    assert_output --partial "(4 violations in all)"
}

@test "decode: -q silences the summary, the exit status stays 3" {
    run --separate-stderr bash -c 'echo "80 00" | "$PW" frame -d -x -q'
    assert_failure 3
    [ -z "$stderr" ]
}

@test "decode: a stream ending inside a fragmented message is only noted" {
    run --separate-stderr bash -c 'echo "01 01 61" | "$PW" frame -d -x'
    assert_success
    [[ $stderr == *"note: the input ends inside a fragmented text message"* ]]
}

# ---------- Server-Sent Events ----------

@test "sse: encode data" {
    run "$PW" frame --sse hello
    assert_success
    assert_output "data: hello"
    run bash -c '"$PW" frame --sse hello | od -An -c | tr -s " "'
    assert_output --partial 'o \n \n'
}

@test "sse: encode multi-line data as one data line each" {
    run bash -c '"$PW" frame --sse "$(printf "one\ntwo\n\nfour")"'
    assert_success
    assert_output "data: one
data: two
data:
data: four"
}

@test "sse: encode id, event and retry" {
    run bash -c '"$PW" frame --sse --id 42 --event tick --retry 3000 x | "$PW" frame --sse --decode --json'
    assert_success
    assert_line '{"retry":3000}'
    assert_line '{"id":"42","event":"tick","data":"x"}'
}

@test "sse: --hex output" {
    run "$PW" frame --sse x --hex
    assert_success
    assert_output "64 61 74 61 3a 20 78 0a 0a"
}

@test "sse: a line break in --id or --event is a usage error" {
    run "$PW" frame --sse --id "$(printf 'a\nb')" x
    assert_failure 2
    assert_output --partial "bad value for --id"
    run "$PW" frame --sse --event "$(printf 'a\rb')" x
    assert_failure 2
}

@test "sse: --retry must be a number" {
    run "$PW" frame --sse --retry soon x
    assert_failure 2
    assert_output --partial "bad value for --retry"
}

@test "sse: round trip of multi-line data from stdin" {
    run bash -c 'printf "a\nb\r\nc" | "$PW" frame --sse - | "$PW" frame --sse --decode --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"a\nb\nc"}'
}

@test "sse decode: readable output" {
    run bash -c 'printf "id: 7\nevent: up\ndata: x\ndata: y\n\n" | "$PW" frame --sse --decode'
    assert_success
    assert_output 'event 1
  id "7"
  event "up"
  data "x\ny"'
}

@test "sse decode: CR, LF and CRLF line ends" {
    run bash -c 'printf "data: a\r\rdata: b\n\ndata: c\r\n\r\n" | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"a"}
{"id":"","event":"message","data":"b"}
{"id":"","event":"message","data":"c"}'
}

@test "sse decode: a UTF-8 BOM at the start is skipped" {
    run bash -c 'printf "\xef\xbb\xbfdata: a\n\n" | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"a"}'
}

@test "sse decode: comments are ignored (-v shows them)" {
    run --separate-stderr bash -c 'printf ": hi\ndata: a\n\n" | "$PW" frame --sse -d --json -v'
    assert_success
    assert_output '{"id":"","event":"message","data":"a"}'
    [[ $stderr == *"comment"* ]]
}

@test "sse decode: a field without a colon has an empty value" {
    run bash -c 'printf "data\n\ndata\ndata\n\n" | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"","event":"message","data":""}
{"id":"","event":"message","data":"\n"}'
}

@test "sse decode: only one space after the colon is removed" {
    run bash -c 'printf "data:a\n\ndata:  b\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"","event":"message","data":"a"}
{"id":"","event":"message","data":" b"}'
}

@test "sse decode: an id containing NULL is ignored" {
    run bash -c 'printf "id: 1\ndata: a\n\nid: 2\x00x\ndata: b\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"1","event":"message","data":"a"}
{"id":"1","event":"message","data":"b"}'
}

@test "sse decode: the last event id carries over, and an empty id resets it" {
    run bash -c 'printf "id: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"5","event":"message","data":"a"}
{"id":"5","event":"message","data":"b"}
{"id":"","event":"message","data":"c"}'
}

@test "sse decode: retry with non-digits is ignored, valid retry is reported" {
    run bash -c 'printf "retry: 1x\nretry: 2500\ndata: a\n\n" | "$PW" frame --sse -d'
    assert_success
    assert_output 'retry 2500
event 1
  id ""
  event "message"
  data "a"'
}

@test "sse decode: event type resets after each dispatch" {
    run bash -c 'printf "event: e\ndata: a\n\ndata: b\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"","event":"e","data":"a"}
{"id":"","event":"message","data":"b"}'
}

@test "sse decode: an event with no data is not dispatched" {
    run bash -c 'printf "event: e\n\nid: 3\n\ndata: x\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"3","event":"message","data":"x"}'
}

@test "sse decode: an unterminated last event is discarded" {
    run bash -c 'printf "data: a\n\ndata: b\n" | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"a"}'
}

@test "sse decode: unknown fields are ignored" {
    run bash -c 'printf "foo: bar\ndata: a\n\n" | "$PW" frame --sse -d --json'
    assert_output '{"id":"","event":"message","data":"a"}'
}

@test "sse decode: --hex input" {
    run bash -c '"$PW" frame --sse hi --hex | "$PW" frame --sse -d --hex --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"hi"}'
}

@test "sse decode: a line over the limit is exit 3 naming the rule" {
    run bash -c 'head -c 1100000 /dev/zero | tr "\0" a | "$PW" frame --sse -d'
    assert_failure 3
    assert_output --partial "WHATWG HTML §9.2.6"
}

@test "sse: no DATA is one empty data line, which browsers dispatch" {
    run "$PW" frame --sse --hex
    assert_success
    assert_output "64 61 74 61 3a 0a 0a"
    run bash -c '"$PW" frame --sse | "$PW" frame --sse -d --json'
    assert_output '{"id":"","event":"message","data":""}'
}

@test "sse: an empty --id writes 'id:', which resets the last event id" {
    run bash -c '{ "$PW" frame --sse --id 9 a; "$PW" frame --sse --id "" b; } | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"9","event":"message","data":"a"}
{"id":"","event":"message","data":"b"}'
}

@test "sse decode: bytes that are not UTF-8 become U+FFFD, as in a browser" {
    run bash -c 'printf "data: a\xffb\n\n" | "$PW" frame --sse -d --json'
    assert_success
    assert_output '{"id":"","event":"message","data":"a�b"}'
}
