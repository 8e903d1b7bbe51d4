#!/usr/bin/env bats
# serve_auth_reload.bats — rotating tokens and JWT keys without a restart
# (pushwire-serve(1) Tokens): SIGHUP rereads --token-file,
# --publish-token-file and every --jwt-key, all or nothing; a token file
# holds several tokens; --jwt-key repeats; open streams let in by a token
# the reload took away end (WebSocket 1008 "token revoked", a `revoked`
# event, a held poll answered).  Peers: curl, auth_peer.py (raw sockets),
# JWTs from jwt.py; --workers 2 as well.
load helper

PEER="/usr/bin/python3 $BATS_TEST_DIRNAME/auth_peer.py"
JWT="/usr/bin/python3 $BATS_TEST_DIRNAME/jwt.py"
A=token-aaaa-0123456789
B=token-bbbb-0123456789
N=token-new-0123456789
P=publish-pppp-0123456789
ALL='{"pushwire":{"subscribe":["*"],"publish":["*"]}}'

setup_file() {
    local k=$BATS_FILE_TMPDIR
    printf '%s' 'hs256-secret-number-one-of-32-bytes-or-more' >"$k/hs1.key"
    printf '%s' 'hs256-secret-number-two-of-32-bytes-or-more' >"$k/hs2.key"
    chmod 600 "$k/hs1.key" "$k/hs2.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/ec.pem" 2>/dev/null
    openssl pkey -in "$k/ec.pem" -pubout -out "$k/ec.pub"
}

setup() {
    K=$BATS_FILE_TMPDIR
    T=$BATS_TEST_TMPDIR
}
teardown() {
    [ -z "${CAT_PID:-}" ] || kill "$CAT_PID" 2>/dev/null || true # a FIFO's reader
    stop_serve_clean
}

# status URL [curl args…] — the HTTP status only
status() { C -o /dev/null -w '%{http_code}' "$@"; }
# sub TOKEN — the status of a subscribe with TOKEN
sub() { status "$SERVE_URL/poll/a?timeout=0&token=$1"; }
# in_not_out YES NO — token YES subscribes (200), token NO is refused (401)
in_not_out() { [ "$(sub "$1")" = 200 ] && [ "$(sub "$2")" = 401 ]; }
# tokfile FILE LINE… — a private token file of these lines
tokfile() {
    local f=$1
    shift
    : >"$f"
    chmod 600 "$f"
    printf '%s\n' "$@" >"$f"
}
# lines — the reload and error lines about the tokens so far
lines() { grep -c 'SIGHUP: tokens reread\|keeping the tokens loaded before' "$SERVE_LOG" || true; }
# hup — SIGHUP, then wait (5 s at most) for the reload or error line it makes
hup() {
    local n i
    n=$(lines)
    kill -HUP "$SERVE_PID"
    for ((i = 0; i < 100; i++)); do
        [ "$(lines)" -gt "$n" ] && return 0
        sleep 0.05
    done
    echo "no reload line after SIGHUP" >&2
    cat "$SERVE_LOG" >&2
    return 1
}
# opened FILE — wait (5 s at most) for a peer to print `open` into FILE
opened() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^open' "$1" && return 0
        sleep 0.05
    done
    cat "$1" >&2
    return 1
}

# ---- 1. SIGHUP rereads ----

@test "SIGHUP rereads --token-file: the new token works, the old one is 401, one reload line with counts and no secret" {
    tokfile "$T/tok" "$A"
    start_serve --token-file "$T/tok"
    in_not_out "$A" "$N"
    tokfile "$T/tok" "$N"
    hup
    in_not_out "$N" "$A"
    run grep -c 'reload: SIGHUP: tokens reread: 1 subscribe token$' "$SERVE_LOG"
    assert_output 1
    run grep -F -e "$A" -e "$N" "$SERVE_LOG"
    assert_failure
}

@test "a broken token file on SIGHUP: one error line naming the file and the rule, the old tokens stay, the new ones do not work" {
    tokfile "$T/tok" "$A"
    start_serve --token-file "$T/tok"
    tokfile "$T/tok" "$N" 'two words'
    hup
    run grep 'error: SIGHUP' "$SERVE_LOG"
    assert_output --partial "--token-file '$T/tok' is a file whose line 2 is not a token"
    assert_output --partial 'keeping the tokens loaded before'
    [ "${#lines[@]}" = 1 ]
    in_not_out "$A" "$N"
    # a line over the bound, and more tokens than the bound
    { printf '%s\n' "$N"; head -c 4097 /dev/zero | tr '\0' a; echo; } >"$T/tok"
    hup
    run grep -c 'line 2 is longer than 4096 bytes; want' "$SERVE_LOG"
    assert_output 1
    tokfile "$T/tok" $(seq -f 'token-%02g-0123456789' 17)
    hup
    run grep -c 'a file of more than 16 tokens (line 17)' "$SERVE_LOG"
    assert_output 1
    tokfile "$T/tok" '# nothing but a comment' ''
    hup
    run grep -c 'a file holding no token' "$SERVE_LOG"
    assert_output 1
    # a file that grew past 64 KiB (comment lines: only the size is wrong)
    tokfile "$T/tok" "$N" $(seq -f '#%01000g' 66)
    hup
    run grep -c "error: SIGHUP: --token-file '$T/tok' is larger than 64 KiB; want" "$SERVE_LOG"
    assert_output 1
    rm "$T/tok"
    hup
    run grep -c "is not readable (No such file or directory)" "$SERVE_LOG"
    assert_output 1
    in_not_out "$A" "$N"
    # fixed: the next SIGHUP takes it
    tokfile "$T/tok" "$N"
    hup
    in_not_out "$N" "$A"
}

@test "a token file made world-readable before SIGHUP is refused and the tokens before it are kept" {
    tokfile "$T/tok" "$A"
    start_serve --token-file "$T/tok"
    tokfile "$T/tok" "$N"
    chmod 644 "$T/tok"
    hup
    run grep 'error: SIGHUP' "$SERVE_LOG"
    assert_output --partial "is open to every user (mode 0644); want a file only its owner and group may use (chmod o= FILE)"
    in_not_out "$A" "$N"
}

@test "a FIFO put where a token file or JWT key was is refused as not a file, at start and on SIGHUP: the server does not wait for a writer" {
    mkfifo -m 600 "$T/fifo"
    run timeout 5 "$PW" serve --token-file "$T/fifo"
    assert_failure 2
    assert_output --partial "'$T/fifo' is not a file; want a regular file (not a directory, FIFO or device)"
    run timeout 5 "$PW" serve --jwt-key "$T/fifo"
    assert_failure 2
    assert_output --partial "'$T/fifo' is not a file"
    tokfile "$T/tok" "$A"
    cp "$K/hs1.key" "$T/jwt.key"
    start_serve --token-file "$T/tok" --jwt-key "$T/jwt.key"
    rm "$T/tok"
    mkfifo -m 600 "$T/tok"
    hup
    run grep -c "error: SIGHUP: --token-file '$T/tok' is not a file; .*keeping the tokens loaded before" "$SERVE_LOG"
    assert_output 1
    [ "$(sub "$A")" = 200 ]
    tokfile "$T/tok.new" "$N"
    mv "$T/tok.new" "$T/tok"
    rm "$T/jwt.key"
    mkfifo -m 600 "$T/jwt.key"
    hup
    run grep -c "error: SIGHUP: --jwt-key '$T/jwt.key' is not a file; " "$SERVE_LOG"
    assert_output 1
    [ "$(sub "$A")" = 200 ]
    [ "$(sub "$N")" = 401 ]
}

@test "SIGHUP is all or nothing: a good token file and a bad JWT key keep both as they were; the same token in both files is refused" {
    tokfile "$T/tok" "$A"
    tokfile "$T/ptok" "$P"
    cp "$K/hs1.key" "$T/jwt.key"
    start_serve --token-file "$T/tok" --publish-token-file "$T/ptok" --jwt-key "$T/jwt.key"
    tokfile "$T/tok" "$N"
    printf '%s' short >"$T/jwt.key"
    hup
    run grep 'error: SIGHUP' "$SERVE_LOG"
    assert_output --partial "--jwt-key '$T/jwt.key' is an HS256 secret shorter than 32 bytes"
    in_not_out "$A" "$N"
    [ "$(sub "$($JWT HS256 "$K/hs1.key" "$ALL")")" = 200 ]
    # the publish file now holds the subscribe token: refused, as at start
    cp "$K/hs1.key" "$T/jwt.key"
    tokfile "$T/ptok" "$P" "$N"
    hup
    run grep -c 'hold the same token: everyone who may subscribe could publish; use two tokens; keeping the tokens loaded before' "$SERVE_LOG"
    assert_output 1
    [ "$(sub "$A")" = 200 ]
    [ "$(status -H "Authorization: Bearer $N" -d x "$SERVE_URL/pub/a")" = 401 ]
    tokfile "$T/ptok" "$P" "$B"
    hup
    run grep -c 'reload: SIGHUP: tokens reread: 1 subscribe token, 2 publish tokens, 1 JWT key (HS256)$' "$SERVE_LOG"
    assert_output 1
    [ "$(status -H "Authorization: Bearer $B" -d x "$SERVE_URL/pub/a")" = 200 ]
    [ "$(sub "$N")" = 200 ]
}

# ---- 2. rotation overlap ----

@test "a token file holds several tokens: any of them subscribes; comments, blank lines and CR LF are skipped" {
    printf '# rotated on Monday\n\n%s\r\n  \n' "$A" >"$T/bad"
    chmod 600 "$T/bad"
    run "$PW" serve --token-file "$T/bad"
    assert_failure 2
    assert_output --partial 'a file whose line 4 is not a token'
    printf '# rotated on Monday\n\n%s\r\n%s\n# the old one, until Friday\n' "$A" "$B" >"$T/tok"
    chmod 600 "$T/tok"
    start_serve --token-file "$T/tok"
    [ "$(sub "$A")" = 200 ]
    [ "$(sub "$B")" = 200 ]
    [ "$(sub "$N")" = 401 ]
    [ "$(sub '%23')" = 401 ] # not the comment
    run C -H "Authorization: Bearer $B" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_revoked_total 0'
}

@test "at start, a token file over the bounds (17 tokens, a 4097-byte line) or with no token is a usage error that says which" {
    tokfile "$T/tok" $(seq -f 'token-%02g-0123456789' 17)
    run "$PW" serve --token-file "$T/tok"
    assert_failure 2
    assert_output --partial 'a file of more than 16 tokens (line 17)'
    { head -c 4097 /dev/zero | tr '\0' a; echo; } >"$T/tok"
    run "$PW" serve --publish-token-file "$T/tok"
    assert_failure 2
    assert_output --partial 'a file whose line 1 is longer than 4096 bytes'
    tokfile "$T/tok" '# none yet'
    run "$PW" serve --token-file "$T/tok"
    assert_failure 2
    assert_output --partial 'a file holding no token'
    tokfile "$T/tok" "$A" "$B"
    tokfile "$T/ptok" "$P" "$B"
    run "$PW" serve --token-file "$T/tok" --publish-token-file "$T/ptok"
    assert_failure 2
    assert_output --partial 'the same token'
}

@test "two JWT keys, HS256 and ES256: tokens of either verify; HS256 signed with the ES256 public key is still refused" {
    start_serve --jwt-key "$K/hs1.key" --jwt-key "$K/ec.pub"
    [ "$(sub "$($JWT HS256 "$K/hs1.key" "$ALL")")" = 200 ]
    [ "$(sub "$($JWT ES256 "$K/ec.pem" "$ALL")")" = 200 ]
    t=$($JWT HS256-raw "$K/ec.pub" "$ALL")
    run C -i -H "Authorization: Bearer $t" -d x "$SERVE_URL/pub/any"
    assert_line --partial 'HTTP/1.1 401'
    assert_output --partial '"error":"bad signature"'
    t=$($JWT HS256 "$K/hs2.key" "$ALL")
    run C "$SERVE_URL/poll/a?timeout=0&token=$t"
    assert_output --partial '"error":"bad signature"'
}

@test "two HS256 keys: tokens of either verify; an expired one says expired whichever key signed it; a ninth --jwt-key is a usage error" {
    start_serve --jwt-key "$K/hs1.key" --jwt-key "$K/hs2.key"
    [ "$(sub "$($JWT HS256 "$K/hs1.key" "$ALL")")" = 200 ]
    [ "$(sub "$($JWT HS256 "$K/hs2.key" "$ALL")")" = 200 ]
    t=$($JWT HS256 "$K/hs2.key" '{"exp":@-10,"pushwire":{"subscribe":["*"]}}')
    run C "$SERVE_URL/poll/a?timeout=0&token=$t"
    assert_output --partial '"error":"token expired"'
    run "$PW" serve $(for i in $(seq 9); do printf -- '--jwt-key %s ' "$K/hs1.key"; done)
    assert_failure 2
    assert_output --partial "bad value for --jwt-key: '$K/hs1.key' is one key too many; want at most 8 --jwt-key"
}

@test "JWT keys rotate on SIGHUP: add the new key, then drop the old; a world-readable HS256 key is refused and the keys are kept" {
    cp "$K/hs1.key" "$T/old.key"
    cp "$K/hs2.key" "$T/new.key"
    chmod 600 "$T/old.key" "$T/new.key"
    printf '%s' 'hs256-placeholder-secret-32-bytes-long!!' >"$T/slot.key"
    chmod 600 "$T/slot.key"
    start_serve --jwt-key "$T/old.key" --jwt-key "$T/slot.key"
    old=$($JWT HS256 "$K/hs1.key" "$ALL")
    new=$($JWT HS256 "$K/hs2.key" "$ALL")
    [ "$(sub "$new")" = 401 ]
    cp "$T/new.key" "$T/slot.key"
    hup
    [ "$(sub "$old")" = 200 ]
    [ "$(sub "$new")" = 200 ]
    cp "$K/ec.pub" "$T/old.key"
    chmod 644 "$T/slot.key"
    hup
    run grep -c "error: SIGHUP: --jwt-key '$T/slot.key' is an HS256 secret open to every user (mode 0644)" "$SERVE_LOG"
    assert_output 1
    [ "$(sub "$old")" = 200 ]
    chmod 600 "$T/slot.key"
    hup
    run grep -c 'reload: SIGHUP: tokens reread: 2 JWT keys (ES256, HS256)$' "$SERVE_LOG"
    assert_output 1
    [ "$(sub "$old")" = 401 ]
    [ "$(sub "$new")" = 200 ]
    [ "$(sub "$($JWT ES256 "$K/ec.pem" "$ALL")")" = 200 ]
}

# ---- 3. revocation of open connections ----

@test "a WebSocket let in by a token the reload removed is closed 1008 token revoked; one with a token kept stays open" {
    tokfile "$T/tok" "$A" "$B"
    start_serve --token-file "$T/tok" --ping 0
    $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$A" 10 >"$T/a" 3>&- &
    local pa=$!
    $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$B" 3 >"$T/b" 3>&- &
    local pb=$!
    opened "$T/a"
    opened "$T/b"
    tokfile "$T/tok" "$B" "$N"
    hup
    wait "$pa"
    wait "$pb"
    run cat "$T/a"
    assert_line 'close 1008 token revoked'
    run cat "$T/b"
    assert_line 'still open'
    run C -H "Authorization: Bearer $B" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_revoked_total 1'
    assert_output --partial 'pushwire_tokens_expired_total 0'
    run grep -c ' revoked: its token is no longer in the token files' "$SERVE_LOG"
    assert_output 1
}

@test "a revoked WebSocket publishes nothing after the reload line: it is closed in the reload, not at the next tick" {
    tokfile "$T/tok" "$A" "$B"
    start_serve --token-file "$T/tok" --ping 0 --verbose
    $PEER ws-flood "$SERVE_PORT" "/ws/a?token=$A" 10 >"$T/a" 3>&- &
    local pa=$!
    opened "$T/a"
    tokfile "$T/tok" "$B"
    hup
    wait "$pa"
    run cat "$T/a"
    assert_line 'close 1008 token revoked'
    # the peer sends every 5 ms: none of its messages is taken (logged as
    # read, then published) between the reload line and its close
    run awk '/SIGHUP: tokens reread/ { r = 1; next } r && / ws .a. close-sent/ { exit } r && /< text message/ { n++ } END { print n + 0 }' "$SERVE_LOG"
    assert_output 0
    run grep -c ' ws .a. close-sent code 1008: token revoked' "$SERVE_LOG"
    assert_output 1
}

@test "an event stream let in by a removed token gets a revoked event and ends; a held long poll is answered and the next is 401" {
    tokfile "$T/tok" "$A"
    tokfile "$T/ptok" "$P"
    start_serve --token-file "$T/tok" --publish-token-file "$T/ptok" --heartbeat 0
    curl -s -N --max-time 10 "$SERVE_URL/sse/a?token=$A" >"$T/sse" 2>&1 &
    local ps=$!
    curl -s -i --max-time 10 "$SERVE_URL/poll/a?timeout=60&token=$A" >"$T/poll" 2>&1 &
    local pp=$!
    for ((i = 0; i < 100; i++)); do
        [ "$(C -H "Authorization: Bearer $P" "$SERVE_URL/metrics" | grep -c '^pushwire_connections{transport="\(sse\|poll\)"} 1$')" = 2 ] && break
        sleep 0.05
    done
    tokfile "$T/tok" "$N"
    hup
    wait "$ps" # the server ended it, not curl's timeout (28)
    wait "$pp"
    run cat "$T/sse"
    assert_line 'event: revoked'
    assert_line 'data: {"error":"token revoked","status":401,"rule":"docs/PROTOCOL.md#access"}'
    run cat "$T/poll"
    assert_line --partial 'HTTP/1.1 200'
    assert_output --partial '"messages":[]'
    [ "$(sub "$A")" = 401 ]
    [ "$(sub "$N")" = 200 ]
    run C -H "Authorization: Bearer $P" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_revoked_total 2'
}

@test "a WebSocket already closing (its close sent, the peer's awaited) when a reload removes its token is not counted nor logged as revoked" {
    tokfile "$T/tok" "$A" "$B"
    tokfile "$T/ptok" "$P"
    start_serve --token-file "$T/tok" --publish-token-file "$T/ptok" --ping 0
    # a subscribe token may not publish: the message closes it (1008)
    $PEER ws-mute "$SERVE_PORT" "/ws/a?token=$A" 4 hello >"$T/a" 3>&- &
    local pa=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^close' "$T/a" && break
        sleep 0.05
    done
    run cat "$T/a"
    assert_line 'close 1008 the token does not allow publishing on this channel'
    tokfile "$T/tok" "$B"
    hup
    # until the server gives up waiting for the peer's close (2 s)
    for ((i = 0; i < 100; i++)); do
        grep -q ' ws .a. close: close handshake timed out' "$SERVE_LOG" && break
        sleep 0.05
    done
    run grep -c ' ws .a. close: close handshake timed out' "$SERVE_LOG"
    assert_output 1
    run C -H "Authorization: Bearer $P" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_revoked_total 0'
    run grep -c ' revoked: ' "$SERVE_LOG"
    assert_output 0
    wait "$pa"
}

@test "a publish whose body was still arriving when the reload removed its token is refused 401 token revoked; one with a kept token goes through" {
    tokfile "$T/ptok" "$P" "$B"
    start_serve --publish-token-file "$T/ptok"
    $PEER post-split "$SERVE_PORT" /pub/a "$T/go" 'half of ' 'the message' "Authorization: Bearer $P" >"$T/p" 3>&- &
    local pp=$!
    $PEER post-split "$SERVE_PORT" /pub/a "$T/go" 'half of ' 'the other' "Authorization: Bearer $B" >"$T/b" 3>&- &
    local pb=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^sent' "$T/p" && grep -q '^sent' "$T/b" &&
            C -H "Authorization: Bearer $B" "$SERVE_URL/metrics" | grep -qx 'pushwire_connections{transport="http"} 3' && break
        sleep 0.05
    done
    tokfile "$T/ptok" "$B"
    hup
    touch "$T/go"
    wait "$pp"
    wait "$pb"
    run cat "$T/p"
    assert_line 'HTTP/1.1 401 Unauthorized'
    assert_output --partial '"error":"token revoked"'
    run cat "$T/b"
    assert_line 'HTTP/1.1 200 OK'
    run C "$SERVE_URL/poll/a?cursor=0&timeout=0"
    assert_output --partial 'half of the other'
    refute_output --partial 'half of the message'
    run C -H "Authorization: Bearer $B" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_revoked_total 1'
    run grep -c ' revoked: a publish whose token is no longer in the token files' "$SERVE_LOG"
    assert_output 1
}

@test "a JWT stream whose key the reload removed ends (1008 token revoked); one whose key stayed is kept" {
    cp "$K/hs1.key" "$T/one.key"
    chmod 600 "$T/one.key"
    start_serve --jwt-key "$T/one.key" --jwt-key "$K/ec.pub" --ping 0 --heartbeat 0
    t1=$($JWT HS256 "$K/hs1.key" "$ALL")
    t2=$($JWT ES256 "$K/ec.pem" "$ALL")
    $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$t1" 10 >"$T/one" 3>&- &
    local p1=$!
    $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$t2" 3 >"$T/two" 3>&- &
    local p2=$!
    opened "$T/one"
    opened "$T/two"
    cp "$K/hs2.key" "$T/one.key"
    hup
    wait "$p1"
    wait "$p2"
    run cat "$T/one"
    assert_line 'close 1008 token revoked'
    run cat "$T/two"
    assert_line 'still open'
}

@test "a reload that changes nothing, or fails, ends no stream" {
    tokfile "$T/tok" "$A"
    start_serve --token-file "$T/tok" --ping 0
    $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$A" 2 >"$T/a" 3>&- &
    local pa=$!
    opened "$T/a"
    tokfile "$T/tok" '# the same token, reformatted' '' "$A" ''
    hup
    chmod 644 "$T/tok"
    hup
    wait "$pa"
    run cat "$T/a"
    assert_line 'still open'
    run grep -c 'error: SIGHUP' "$SERVE_LOG"
    assert_output 1
}

# ---- --workers ----

@test "--workers 2: every worker takes the reload (the new token publishes on both, the old is refused on both) and revokes its streams; one reload line" {
    tokfile "$T/tok" "$A"
    start_serve --workers 2 --token-file "$T/tok" --ping 0
    local -a peers=()
    for ((i = 0; i < 24; i++)); do
        $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$A" 10 >"$T/ws$i" 3>&- &
        peers+=($!)
        opened "$T/ws$i"
        m=$(C -H "Authorization: Bearer $A" "$SERVE_URL/metrics")
        w0=$(sed -n 's/^pushwire_worker_connections{worker="0"} //p' <<<"$m")
        w1=$(sed -n 's/^pushwire_worker_connections{worker="1"} //p' <<<"$m")
        [ "$w0" -ge 2 ] && [ "$w1" -ge 2 ] && break # a WebSocket on each, beside this request
    done
    [ "$w0" -ge 2 ] && [ "$w1" -ge 2 ] || { echo "the WebSockets did not spread: $w0 $w1"; return 1; }
    tokfile "$T/tok" "$N"
    hup
    for p in "${peers[@]}"; do wait "$p"; done
    for f in "$T"/ws*; do
        run cat "$f"
        assert_line 'close 1008 token revoked'
    done
    for i in $(seq 30); do
        [ "$(status -H "Authorization: Bearer $A" -d "old$i" "$SERVE_URL/pub/a")" = 401 ]
        [ "$(status -H "Authorization: Bearer $N" -d "new$i" "$SERVE_URL/pub/a")" = 200 ]
    done
    run C -H "Authorization: Bearer $N" "$SERVE_URL/metrics"
    w0=$(sed -n 's/^pushwire_worker_messages_in_total{worker="0"} //p' <<<"$output")
    w1=$(sed -n 's/^pushwire_worker_messages_in_total{worker="1"} //p' <<<"$output")
    [ "$w0" -ge 1 ] && [ "$w1" -ge 1 ] && [ $((w0 + w1)) = 30 ] || { echo "publishes per worker: $w0 $w1"; return 1; }
    assert_output --partial "pushwire_tokens_revoked_total ${#peers[@]}"
    run grep -c 'SIGHUP: tokens reread' "$SERVE_LOG"
    assert_output 1
}

# holding PID — 0 once PID, exec'd (no longer the shell that forked it),
# blocks or catches SIGHUP (serve from its start holds it until every
# worker has its handler), 1 after 5 s
holding() {
    local i k v blk cgt sh comm
    read -r sh <"/proc/$$/comm"
    for ((i = 0; i < 5000; i++)); do
        comm= blk=0 cgt=0
        read -r comm <"/proc/$1/comm" 2>/dev/null || return 1
        if [ "$comm" != "$sh" ]; then
            while read -r k v; do
                case $k in SigBlk:) blk=$v ;; SigCgt:) cgt=$v ;; esac
            done <"/proc/$1/status" 2>/dev/null || return 1
            (((0x$blk | 0x$cgt) & 1)) && return 0
        fi
        ((i < 1000)) || sleep 0.004
    done
    return 1
}
# all_new PORT — 16 fresh connections (spread over the workers): the old
# token is 401 and the new one 200 on each
all_new() {
    local i
    for ((i = 0; i < 16; i++)); do
        [ "$(status "http://127.0.0.1:$1/poll/a?timeout=0&token=$A")" = 401 ] || return 1
        [ "$(status "http://127.0.0.1:$1/poll/a?timeout=0&token=$N")" = 200 ] || return 1
    done
}

@test "--workers 2: a SIGHUP while serve starts waits until every worker has its handler: the process lives, one reload, every worker on the new tokens" {
    # serve waits in the open of a --log-file FIFO until it has a reader:
    # its token file is read by then, no worker listens for SIGHUP yet
    tokfile "$T/tok" "$A"
    mkfifo "$T/log"
    SERVE_LOG=$T/err
    "$PW" serve --listen 127.0.0.1:0 --workers 2 --token-file "$T/tok" --log-file "$T/log" </dev/null 2>"$SERVE_LOG" >/dev/null &
    SERVE_PID=$!
    local i w=
    for ((i = 0; i < 100; i++)); do
        w=$(cat "/proc/$SERVE_PID/wchan" 2>/dev/null || true)
        [ "$w" = wait_for_partner ] || [ "$(cut -d' ' -f1 "/proc/$SERVE_PID/syscall" 2>/dev/null)" = 257 ] && break
        sleep 0.05
    done
    [ $i -lt 100 ] || { echo "serve never waited in the log's open ($w)"; return 1; }
    tokfile "$T/tok" "$N"
    kill -HUP "$SERVE_PID"
    timeout 30 cat "$T/log" >"$T/log.out" 3>&- &
    CAT_PID=$!
    SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID") || { echo "serve ended on the SIGHUP"; return 1; }
    for ((i = 0; i < 100; i++)); do
        grep -q 'SIGHUP: tokens reread' "$T/log.out" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SERVE_PID" || { echo "serve ended on the SIGHUP"; return 1; }
    run grep -c 'SIGHUP: tokens reread: 1 subscribe token$' "$T/log.out"
    assert_output 1
    all_new "$SERVE_PORT"
    stop_serve
    wait "$CAT_PID" || true
    CAT_PID=
    # and a SIGHUP as soon as the process holds (or, before, catches) it,
    # a few times: the race with the second worker's handler
    for ((r = 0; r < 3; r++)); do
        tokfile "$T/tok" "$A"
        SERVE_LOG=$T/err$r
        "$PW" serve --listen 127.0.0.1:0 --workers 2 --token-file "$T/tok" </dev/null 2>"$SERVE_LOG" >/dev/null &
        SERVE_PID=$!
        holding "$SERVE_PID"
        tokfile "$T/tok.new" "$N"
        mv "$T/tok.new" "$T/tok"
        kill -HUP "$SERVE_PID"
        SERVE_PORT=$(wait_listen "$SERVE_LOG" serve "$SERVE_PID")
        for ((i = 0; i < 100; i++)); do
            grep -q 'SIGHUP: tokens reread' "$SERVE_LOG" && break
            sleep 0.05
        done
        run grep -c 'SIGHUP: tokens reread' "$SERVE_LOG"
        assert_output 1
        all_new "$SERVE_PORT"
        stop_serve
    done
}

@test "--workers 2 under ThreadSanitizer (make build-tsan): reloads while both workers serve, check tokens and revoke: no race reported, exit 0" {
    local tsan=${PW_TSAN:-$TOP/build/tsan/pushwire} # PW_TSAN: another build's, to compare
    [ -x "$tsan" ] || missing "build/tsan/pushwire (make build-tsan)"
    tokfile "$T/tok" "$A"
    PW="$tsan" TSAN_OPTIONS="halt_on_error=0 exitcode=66" \
        start_serve --workers 2 --token-file "$T/tok" --ping 0
    local -a peers=()
    for ((i = 0; i < 6; i++)); do
        $PEER ws-wait "$SERVE_PORT" "/ws/a?token=$A" 20 >"$T/ws$i" 3>&- &
        peers+=($!)
    done
    for ((i = 0; i < 6; i++)); do opened "$T/ws$i"; done
    (for i in $(seq 40); do C -o /dev/null "$SERVE_URL/poll/a?timeout=0&token=$A"; done) &
    local load=$!
    tokfile "$T/tok" "$A" "$B"
    hup
    tokfile "$T/tok" "$B"
    hup
    tokfile "$T/tok" "$N" "$B"
    hup
    wait "$load"
    for p in "${peers[@]}"; do wait "$p"; done
    for ((i = 0; i < 6; i++)); do
        run cat "$T/ws$i"
        assert_line 'close 1008 token revoked'
    done
    [ "$(sub "$N")" = 200 ]
    kill -TERM "$SERVE_PID"
    rc=0
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    ! grep -q 'ThreadSanitizer' "$SERVE_LOG" || { cat "$SERVE_LOG"; return 1; }
    [ "$rc" -eq 0 ]
}
