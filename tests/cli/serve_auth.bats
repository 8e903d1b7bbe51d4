#!/usr/bin/env bats
# serve_auth.bats — who may subscribe and publish, and the abuse limits
# (pushwire-serve(1) SECURITY, docs/PROTOCOL.md#access): the attack table,
# one test per row, with curl, raw sockets (auth_peer.py) and JWTs made by
# jwt.py (hmac and the openssl command line; no PyPI).  The browser rows and
# the 10 000-connection row are in tests/interop/auth.bats.
load helper

PEER="/usr/bin/python3 $BATS_TEST_DIRNAME/auth_peer.py"
JWT="/usr/bin/python3 $BATS_TEST_DIRNAME/jwt.py"
SUB=sub-token-0123456789
PUB=pub-token-9876543210

setup_file() {
    local k=$BATS_FILE_TMPDIR
    printf '%s\n' "$SUB" >"$k/tok"
    printf '%s\n' "$PUB" >"$k/ptok"
    printf '%s' 'hs256-secret-of-more-than-32-bytes!!' >"$k/hs.key"
    chmod 600 "$k/tok" "$k/ptok" "$k/hs.key"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/rsa.pem" 2>/dev/null
    openssl pkey -in "$k/rsa.pem" -pubout -out "$k/rsa.pub"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/ec.pem" 2>/dev/null
    openssl pkey -in "$k/ec.pem" -pubout -out "$k/ec.pub"
}

setup() { K=$BATS_FILE_TMPDIR; }
teardown() { stop_serve_clean; } # a sanitizer report in the log fails the test

# status URL [curl args…] — the HTTP status only
status() { C -o /dev/null -w '%{http_code}' "$@"; }
# hs PAYLOAD — an HS256 token with the test secret
hs() { $JWT HS256 "$K/hs.key" "$1"; }
SUBNEWS='{"pushwire":{"subscribe":["news.*"]}}'

# ---- tokens ----

@test "no token: SSE, poll, publish and the WebSocket upgrade are 401 with WWW-Authenticate: Bearer" {
    start_serve --token-file "$K/tok"
    run C -i "$SERVE_URL/sse/a"
    assert_line --partial 'HTTP/1.1 401 Unauthorized'
    assert_line --partial 'WWW-Authenticate: Bearer realm="pushwire"'
    refute_output --partial 'error='
    assert_output --partial '"status":401'
    [ "$(status "$SERVE_URL/poll/a?timeout=0")" = 401 ]
    [ "$(status -d x "$SERVE_URL/pub/a")" = 401 ]
    run $PEER ws-status "$SERVE_PORT" /ws/a
    assert_line --index 0 --partial '401 Unauthorized'
    assert_output --partial 'WWW-Authenticate: Bearer realm="pushwire"'
    [ "$(status "$SERVE_URL/healthz")" = 200 ] # not a channel
}

@test "wrong token: 401 error=invalid_token, and the body does not repeat it" {
    start_serve --token-file "$K/tok"
    run C -i -H 'Authorization: Bearer not-the-token' "$SERVE_URL/sse/a"
    assert_line --partial 'HTTP/1.1 401'
    assert_line --partial 'WWW-Authenticate: Bearer realm="pushwire", error="invalid_token"'
    refute_output --partial 'not-the-token'
    run C -i "$SERVE_URL/sse/a?token=also-wrong"
    assert_line --partial 'HTTP/1.1 401'
    refute_output --partial 'also-wrong'
}

@test "the token in the Authorization header or in ?token= subscribes and publishes; both at once is 400" {
    start_serve --token-file "$K/tok"
    run C -H "Authorization: Bearer $SUB" -d hello "$SERVE_URL/pub/a"
    assert_output --regexp '^\{"id":"[a-z0-9]+:1"\}$'
    run C -H "Authorization: bearer $SUB" "$SERVE_URL/poll/a?cursor=0&timeout=0"
    assert_output --partial '"data":"hello"'
    run C "$SERVE_URL/poll/a?cursor=0&timeout=0&token=$SUB"
    assert_output --partial '"data":"hello"'
    run C -N --max-time 1 "$SERVE_URL/sse/a?token=$SUB&lastEventId=0"
    assert_output --partial 'data: hello'
    run $PEER ws-status "$SERVE_PORT" "/ws/a?token=$SUB"
    assert_line --index 0 --partial '101 Switching Protocols'
    run C -i -H "Authorization: Bearer $SUB" "$SERVE_URL/sse/a?token=$SUB"
    assert_line --partial 'HTTP/1.1 400'
    assert_line --partial 'error="invalid_request"'
}

@test "--publish-token-file: anyone subscribes, publishing needs that token; the subscribe token does not publish" {
    start_serve --publish-token-file "$K/ptok"
    [ "$(status "$SERVE_URL/poll/a?timeout=0")" = 200 ]
    [ "$(status -d x "$SERVE_URL/pub/a")" = 401 ]
    [ "$(status -H "Authorization: Bearer $PUB" -d x "$SERVE_URL/pub/a")" = 200 ]
    stop_serve
    start_serve --token-file "$K/tok" --publish-token-file "$K/ptok"
    [ "$(status "$SERVE_URL/poll/a?timeout=0")" = 401 ]
    [ "$(status "$SERVE_URL/poll/a?timeout=0&token=$SUB")" = 200 ]
    [ "$(status "$SERVE_URL/poll/a?timeout=0&token=$PUB")" = 200 ]
    run C -i -H "Authorization: Bearer $SUB" -d x "$SERVE_URL/pub/a"
    assert_line --partial 'HTTP/1.1 403'
    assert_line --partial 'error="insufficient_scope"'
    [ "$(status -H "Authorization: Bearer $PUB" -d x "$SERVE_URL/pub/a")" = 200 ]
    # a WebSocket with the subscribe token may listen, not send
    run $PEER ws-send "$SERVE_PORT" "/ws/a?token=$SUB" hello
    assert_output 'close 1008 the token does not allow publishing on this channel'
}

@test "token files: a file other users may read, one that is not one token, and the same token twice are usage errors" {
    printf 'x\n' >"$BATS_TEST_TMPDIR/open"
    chmod 644 "$BATS_TEST_TMPDIR/open"
    run "$PW" serve --token-file "$BATS_TEST_TMPDIR/open"
    assert_failure 2
    assert_output --partial 'open to every user (mode 0644)'
    assert_output --partial 'chmod o='
    printf 'two words\n' >"$BATS_TEST_TMPDIR/bad"
    chmod 600 "$BATS_TEST_TMPDIR/bad"
    run "$PW" serve --token-file "$BATS_TEST_TMPDIR/bad"
    assert_failure 2
    assert_output --partial 'not a token'
    run "$PW" serve --token-file "$BATS_TEST_TMPDIR/missing"
    assert_failure 2
    assert_output --partial 'not readable'
    run "$PW" serve --token-file "$K/tok" --publish-token-file "$K/tok"
    assert_failure 2
    assert_output --partial 'the same token'
    run "$PW" serve --jwt-key "$K/rsa.pem"
    assert_failure 2
    assert_output --partial 'a private key'
    run "$PW" serve --jwt-aud x
    assert_failure 2
    assert_output --partial '--jwt-aud needs --jwt-key'
}

@test "/metrics needs the publish token when one is set; /healthz never does" {
    start_serve --token-file "$K/tok" --publish-token-file "$K/ptok"
    [ "$(status "$SERVE_URL/metrics")" = 401 ]
    [ "$(status -H "Authorization: Bearer $SUB" "$SERVE_URL/metrics")" = 401 ]
    run C -H "Authorization: Bearer $PUB" "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_refused_total{reason="token"} 2'
    [ "$(status "$SERVE_URL/healthz")" = 200 ]
}

# ---- JWT ----

@test "JWT: HS256, RS256 and ES256 tokens with the right claim subscribe" {
    for alg in HS256:hs.key:hs.key RS256:rsa.pem:rsa.pub ES256:ec.pem:ec.pub; do
        IFS=: read -r a priv pub <<<"$alg"
        start_serve --jwt-key "$K/$pub"
        t=$($JWT "$a" "$K/$priv" "$SUBNEWS")
        run status "$SERVE_URL/poll/news.eu?timeout=0&token=$t"
        [ "$output" = 200 ] || { echo "$a: $output"; return 1; }
        stop_serve
    done
}

@test "JWT expired: 401 token expired" {
    start_serve --jwt-key "$K/hs.key"
    t=$(hs '{"exp":@-10,"pushwire":{"subscribe":["*"]}}')
    run C -i "$SERVE_URL/sse/news.a?token=$t"
    assert_line --partial 'HTTP/1.1 401'
    assert_line --partial 'error="invalid_token", error_description="token expired"'
    assert_output --partial '"rule":"RFC 7519 §4.1.4"'
}

@test "JWT not yet valid (nbf in the future): 401" {
    start_serve --jwt-key "$K/hs.key"
    t=$(hs '{"nbf":@+3600,"pushwire":{"subscribe":["*"]}}')
    run C "$SERVE_URL/poll/news.a?timeout=0&token=$t"
    assert_output --partial '"error":"token not valid yet"'
    assert_output --partial '"status":401'
}

@test "JWT for another channel: 403 insufficient_scope" {
    start_serve --jwt-key "$K/hs.key"
    t=$(hs "$SUBNEWS")
    run C -i "$SERVE_URL/sse/chat.1?token=$t"
    assert_line --partial 'HTTP/1.1 403'
    assert_line --partial 'error="insufficient_scope"'
    assert_output --partial 'the token does not allow subscribing to this channel'
    run $PEER ws-status "$SERVE_PORT" "/ws/chat.1?token=$t"
    assert_line --index 0 --partial '403'
}

@test "JWT that may subscribe but not publish: POST 403, WebSocket messages close 1008; publish claim publishes" {
    start_serve --jwt-key "$K/hs.key"
    t=$(hs "$SUBNEWS")
    run C -i -H "Authorization: Bearer $t" -d x "$SERVE_URL/pub/news.a"
    assert_line --partial 'HTTP/1.1 403'
    assert_output --partial 'the token does not allow publishing on this channel'
    run $PEER ws-send "$SERVE_PORT" "/ws/news.a?token=$t" hello
    assert_output 'close 1008 the token does not allow publishing on this channel'
    p=$(hs '{"pushwire":{"publish":["news.a"]}}')
    [ "$(status -H "Authorization: Bearer $p" -d x "$SERVE_URL/pub/news.a")" = 200 ]
    [ "$(status "$SERVE_URL/poll/news.a?timeout=0&token=$p")" = 403 ] # publish does not subscribe
}

@test "JWT with a bad signature: 401" {
    start_serve --jwt-key "$K/hs.key"
    printf '%s' 'another-secret-of-more-than-32-bytes' >"$BATS_TEST_TMPDIR/other"
    t=$($JWT HS256 "$BATS_TEST_TMPDIR/other" "$SUBNEWS")
    run C "$SERVE_URL/poll/news.a?timeout=0&token=$t"
    assert_output --partial '"error":"bad signature"'
    # the payload changed under a good signature
    good=$(hs "$SUBNEWS")
    evil=$(hs '{"pushwire":{"subscribe":["*"]}}')
    forged="${good%%.*}.$(cut -d. -f2 <<<"$evil").${good##*.}"
    run C "$SERVE_URL/poll/secret?timeout=0&token=$forged"
    assert_output --partial '"error":"bad signature"'
}

@test "JWT with alg none: 401" {
    start_serve --jwt-key "$K/hs.key"
    for h in '{"alg":"none","typ":"JWT"}' '{"alg":"None"}' '{"alg":"NONE"}'; do
        t=$($JWT none - "$SUBNEWS" "$h")
        run C "$SERVE_URL/poll/news.a?timeout=0&token=$t"
        assert_output --partial '"status":401'
        assert_output --partial "the token's alg is not the key's algorithm"
    done
}

@test "JWT: HS256 signed with the RS256 public key as the secret is 401 (algorithm confusion)" {
    start_serve --jwt-key "$K/rsa.pub"
    t=$($JWT HS256-raw "$K/rsa.pub" '{"pushwire":{"subscribe":["*"],"publish":["*"]}}')
    run C -i -H "Authorization: Bearer $t" -d x "$SERVE_URL/pub/any"
    assert_line --partial 'HTTP/1.1 401'
    assert_output --partial "the token's alg is not the key's algorithm"
    t=$($JWT RS256 "$K/rsa.pem" '{"pushwire":{"publish":["*"]}}')
    [ "$(status -H "Authorization: Bearer $t" -d x "$SERVE_URL/pub/any")" = 200 ]
}

@test "JWT audience: --jwt-aud refuses other audiences and tokens without one" {
    start_serve --jwt-key "$K/hs.key" --jwt-aud push.example
    ok=$(hs '{"aud":["x","push.example"],"pushwire":{"subscribe":["*"]}}')
    [ "$(status "$SERVE_URL/poll/a?timeout=0&token=$ok")" = 200 ]
    run C "$SERVE_URL/poll/a?timeout=0&token=$(hs '{"aud":"other","pushwire":{"subscribe":["*"]}}')"
    assert_output --partial '"error":"token for another audience"'
    run C "$SERVE_URL/poll/a?timeout=0&token=$(hs '{"pushwire":{"subscribe":["*"]}}')"
    assert_output --partial '"error":"token for another audience"'
}

@test "a 1 MB token is refused early (431) in the header and in the query, and the server stays small" {
    start_serve --token-file "$K/tok"
    run $PEER big "$SERVE_PORT" /sse/a header 1048576
    assert_output --partial ' 431 '
    run $PEER big "$SERVE_PORT" /sse/a query 1048576
    assert_output --partial ' 431 '
    rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status")
    [ "$rss" -lt 65536 ] || { echo "peak RSS $rss KiB"; return 1; }
    # a server that takes heads that large still refuses a token over 8 KiB
    stop_serve
    start_serve --token-file "$K/tok" --max-header-size 1M
    t=$(head -c 20000 /dev/zero | tr '\0' a)
    run C -H "Authorization: Bearer $t" "$SERVE_URL/poll/a?timeout=0"
    assert_output --partial '"status":401'
    assert_output --partial 'malformed token'
}

@test "a token in the URL never reaches the log: text, --log json, -v" {
    start_serve --token-file "$K/tok" -v
    C "$SERVE_URL/poll/a?timeout=0&token=$SUB" >/dev/null
    C "$SERVE_URL/poll/a?timeout=0&x=1&token=$SUB&y=2" >/dev/null
    C "$SERVE_URL/poll/a?timeout=0&token=wrong-$SUB" >/dev/null
    $PEER ws-status "$SERVE_PORT" "/ws/a?token=$SUB" >/dev/null
    stop_serve
    run grep -c 'token=REDACTED' "$SERVE_LOG"
    [ "$output" -ge 4 ]
    run grep -F "$SUB" "$SERVE_LOG"
    assert_failure
    start_serve --token-file "$K/tok" --log json -v
    C "$SERVE_URL/sse/a?token=$SUB" --max-time 0.5 >/dev/null || true
    C -H "Authorization: Bearer $SUB" "$SERVE_URL/poll/a?timeout=0&token=$SUB" >/dev/null
    stop_serve
    run grep -c 'token=REDACTED' "$SERVE_LOG"
    [ "$output" -ge 2 ]
    run grep -F "$SUB" "$SERVE_LOG"
    assert_failure
}

# ---- origins ----

@test "a disallowed Origin is 403 on every endpoint: ws, sse, poll, pub, OPTIONS preflight" {
    start_serve --origin 'https://app.example.com,https://*.example.org'
    evil='Origin: https://evil.example'
    run $PEER ws-status "$SERVE_PORT" /ws/a "$evil"
    assert_line --index 0 --partial '403 Forbidden'
    assert_output --partial '"error":"origin not allowed (--origin)"'
    [ "$(status -H "$evil" "$SERVE_URL/sse/a")" = 403 ]
    [ "$(status -H "$evil" "$SERVE_URL/poll/a?timeout=0")" = 403 ]
    [ "$(status -H "$evil" -d x "$SERVE_URL/pub/a")" = 403 ]
    [ "$(status -H "$evil" -X OPTIONS -H 'Access-Control-Request-Method: POST' "$SERVE_URL/pub/a")" = 403 ]
    [ "$(status -H 'Origin: https://app.example.com.evil.example' "$SERVE_URL/sse/a")" = 403 ]
    [ "$(status -H 'Origin: https://example.org' "$SERVE_URL/sse/a")" = 403 ]
    [ "$(status -H 'Origin: null' "$SERVE_URL/poll/a?timeout=0")" = 403 ]
    run C -H 'Origin: https://evil.example' "$SERVE_URL/metrics"
    assert_output --partial 'origin not allowed'
}

@test "an allowed Origin may send credentials (EventSource withCredentials, fetch credentials: include): Access-Control-Allow-Credentials: true; never with *" {
    # without the header Chromium fails such an EventSource (onerror) and
    # such a fetch (TypeError) although the origin is allowed
    start_serve --origin 'https://app.example.com'
    run C -i -H 'Origin: https://app.example.com' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 200'
    assert_line --partial 'Access-Control-Allow-Credentials: true'
    run C -i -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' "$SERVE_URL/pub/a"
    assert_line --partial 'HTTP/1.1 204'
    assert_line --partial 'Access-Control-Allow-Credentials: true'
    run sse_upto 'retry:' -i -H 'Origin: https://app.example.com' "$SERVE_URL/sse/a"
    assert_line --partial 'Access-Control-Allow-Credentials: true'
    run C -i "$SERVE_URL/poll/a?timeout=0"
    refute_output --partial 'Access-Control-Allow-Credentials'
    stop_serve
    start_serve
    run C -i -H 'Origin: https://anything.example' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'Access-Control-Allow-Origin: *'
    refute_output --partial 'Access-Control-Allow-Credentials'
}

@test "an allowed Origin is echoed with Vary: Origin; no Origin (not a browser) is allowed; without --origin it is *" {
    start_serve --origin 'https://app.example.com,https://*.example.org'
    run C -i -H 'Origin: https://app.example.com' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 200'
    assert_line --partial 'Access-Control-Allow-Origin: https://app.example.com'
    assert_line --partial 'Vary: Origin'
    run C -i -X OPTIONS -H 'Origin: https://a.b.example.org' "$SERVE_URL/pub/a"
    assert_line --partial 'HTTP/1.1 204'
    assert_line --partial 'Access-Control-Allow-Origin: https://a.b.example.org'
    assert_line --partial 'Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID, Cache-Control'
    run C -i -N --max-time 1 -H 'Origin: https://x.example.org' "$SERVE_URL/sse/a"
    assert_line --partial 'Access-Control-Allow-Origin: https://x.example.org'
    run $PEER ws-status "$SERVE_PORT" /ws/a 'Origin: https://app.example.com'
    assert_line --index 0 --partial '101'
    run C -i "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 200'
    refute_output --partial 'Access-Control-Allow-Origin'
    assert_line --partial 'Vary: Origin'
    stop_serve
    start_serve
    run C -i -H 'Origin: https://anything.example' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'Access-Control-Allow-Origin: *'
    run "$PW" serve --origin 'example.com'
    assert_failure 2
    assert_output --partial 'bad value for --origin'
}

# ---- names ----

@test "CR LF in channel and event names is 400 and nothing is injected into headers or the event stream" {
    start_serve
    run $PEER ws-status "$SERVE_PORT" '/ws/a%0d%0aSet-Cookie:x=1'
    assert_line --index 0 --partial '400'
    refute_output --partial 'Set-Cookie: x'
    run C -i "$SERVE_URL/sse/a%0D%0AX-Injected:%201"
    assert_line --partial 'HTTP/1.1 400'
    refute_line --partial 'X-Injected'
    run C -i -d x "$SERVE_URL/pub/a?event=tick%0D%0Adata:%20forged"
    assert_line --partial 'HTTP/1.1 400'
    assert_output --partial 'bad event name'
    run C -i -d x "$SERVE_URL/pub/a?event=tick%0Aid:%20999"
    assert_line --partial 'HTTP/1.1 400'
    # a raw CR LF in the target never gets past the request parser
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/serve_peer.py" raw "$SERVE_PORT" \
        'GET /sse/a\rX-Evil: 1 HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_output --partial 'HTTP/1.1 400'
    # nothing reached the channel
    run C "$SERVE_URL/poll/a?cursor=0&timeout=0"
    assert_output '{"cursor":"0","messages":[],"gap":false}'
}

# ---- abuse limits ----

@test "--max-conns-per-ip: the connection over the limit gets 429 with Retry-After, counted in /metrics" {
    start_serve --max-conns-per-ip 3 --limit-exempt none
    run $PEER hold "$SERVE_PORT" 5 /sse/a 10
    assert_line '200 3'
    assert_line '429 2'
    run C -i "$SERVE_URL/healthz"
    assert_line --partial 'HTTP/1.1 200' # the held ones are gone again
    run C -s "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_refused_total{reason="conns_per_ip"} 2'
    run $PEER ws-status "$SERVE_PORT" /ws/a
    assert_line --index 0 --partial '101'
}

@test "--max-conns-per-ip: 429 answers carry Retry-After and the reason" {
    start_serve --max-conns-per-ip 1 --limit-exempt none
    $PEER ws-wait "$SERVE_PORT" /ws/a 3 >"$BATS_TEST_TMPDIR/held" 3>&- &
    local held=$!
    for _ in $(seq 50); do grep -q open "$BATS_TEST_TMPDIR/held" && break; sleep 0.1; done
    run C -i "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 429 Too Many Requests'
    assert_line --partial 'Retry-After: 1'
    assert_output --partial 'too many connections from this address (--max-conns-per-ip)'
    wait "$held" # not a bare wait: that would wait for the server too
}

# held_ws FILE PATH [HEADER...] — a WebSocket held open 3 s in the
# background (HELD its pid), once it is open (5 s at most)
held_ws() {
    local f=$1 path=$2 i
    shift 2
    $PEER ws-wait "$SERVE_PORT" "$path" 3 "$@" >"$f" 3>&- &
    HELD=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^open' "$f" && return 0
        sleep 0.05
    done
    cat "$f" >&2
    return 1
}

@test "--origin: a connection refused before its request is read (--max-conns-per-ip, --max-conns) is readable by a page: the one --origin with credentials, or * for several; behind a --trusted-proxy the 429 names the allowed Origin" {
    start_serve --origin http://app.example --max-conns-per-ip 1 --limit-exempt none --max-conn-rate 0
    held_ws "$BATS_TEST_TMPDIR/held" /ws/a 'Origin: http://app.example'
    run C -i -H 'Origin: http://app.example' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 429'
    assert_line $'Access-Control-Allow-Origin: http://app.example\r'
    assert_line $'Access-Control-Allow-Credentials: true\r'
    assert_line $'Access-Control-Expose-Headers: Retry-After, WWW-Authenticate\r'
    assert_line $'Retry-After: 1\r'
    wait "$HELD"
    stop_serve
    # several origins: which one asks is not known before the request; *, no credentials
    start_serve --origin 'http://app.example,https://*.example.org' --max-conns 1
    held_ws "$BATS_TEST_TMPDIR/held" /ws/a
    run C -i -H 'Origin: http://app.example' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 503'
    assert_line $'Access-Control-Allow-Origin: *\r'
    refute_line --partial 'Access-Control-Allow-Credentials'
    assert_output --partial 'too many connections (--max-conns)'
    wait "$HELD"
    stop_serve
    # behind a proxy the limit is applied once the request is read: its Origin
    start_serve --origin 'http://app.example,https://*.example.org' --max-conns-per-ip 1 --limit-exempt none \
        --trusted-proxy 127.0.0.1 --max-conn-rate 0
    held_ws "$BATS_TEST_TMPDIR/held" /ws/a 'X-Forwarded-For: 198.51.100.7'
    run C -i -H 'X-Forwarded-For: 198.51.100.7' -H 'Origin: https://a.example.org' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 429'
    assert_line $'Access-Control-Allow-Origin: https://a.example.org\r'
    assert_line $'Access-Control-Allow-Credentials: true\r'
    run C -i -H 'X-Forwarded-For: 198.51.100.7' -H 'Origin: https://evil.example' "$SERVE_URL/poll/a?timeout=0"
    assert_line --partial 'HTTP/1.1 429'
    refute_line --partial 'Access-Control-Allow-Origin'
    wait "$HELD"
}

@test "--max-conn-rate: a new connection over the rate is 429 with Retry-After" {
    start_serve --max-conn-rate 0.01 --limit-exempt none
    [ "$(status "$SERVE_URL/healthz")" = 200 ]
    run C -i "$SERVE_URL/healthz"
    assert_line --partial 'HTTP/1.1 429'
    assert_line --partial 'Retry-After: 100'
    assert_output --partial '(--max-conn-rate)'
    run C "$SERVE_URL/metrics" --max-time 2
    # the metrics request is a new connection too: refused as well
    assert_output --partial '"status":429'
}

@test "--max-pub-rate: POST over the rate is 429 with Retry-After; a WebSocket publishing too fast gets close 1008" {
    start_serve --max-pub-rate 0.01 --limit-exempt none --max-conn-rate 0
    run C -i -d one "$SERVE_URL/pub/a" --next -s -i -d two "$SERVE_URL/pub/a"
    assert_line --partial 'HTTP/1.1 200'
    assert_line --partial 'HTTP/1.1 429'
    assert_line --partial 'Retry-After: 100'
    run $PEER ws-send "$SERVE_PORT" /ws/b one two
    assert_output 'close 1008 publishing too fast (--max-pub-rate)'
    run C "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_refused_total{reason="pub_rate"} 2'
}

@test "loopback clients are spared the limits unless --limit-exempt says otherwise" {
    start_serve --max-conns-per-ip 1 --max-conn-rate 0.01 --max-pub-rate 0.01
    run $PEER hold "$SERVE_PORT" 4 /sse/a 10
    assert_output '200 4'
    run C -d one "$SERVE_URL/pub/a" --next -d two "$SERVE_URL/pub/a"
    assert_line --index 0 --regexp '^\{"id":"[a-z0-9]+:1"\}$'
    assert_line --index 1 --regexp '^\{"id":"[a-z0-9]+:2"\}$'
    run "$PW" serve --limit-exempt 10.0.0.0/33
    assert_failure 2
}

@test "X-Forwarded-For counts the client behind a --trusted-proxy, and is ignored from anyone else" {
    start_serve --max-conns-per-ip 1 --limit-exempt none --trusted-proxy 127.0.0.1 --max-conn-rate 0
    run $PEER hold "$SERVE_PORT" 1 /sse/a 10 'X-Forwarded-For: 198.51.100.7'
    assert_output '200 1'
    # two clients behind the proxy: one connection each is fine, held at once
    $PEER hold "$SERVE_PORT" 1 /sse/a 3 'X-Forwarded-For: 198.51.100.7' >"$BATS_TEST_TMPDIR/a" 3>&- &
    local first=$!
    run $PEER hold "$SERVE_PORT" 1 /sse/a 10 'X-Forwarded-For: 6.6.6.6, 198.51.100.8'
    assert_output '200 1'
    # the same client twice at once: 429; what the client wrote left of it is not believed
    run $PEER hold "$SERVE_PORT" 2 /sse/a 10 'X-Forwarded-For: 198.51.100.9'
    assert_line '200 1'
    assert_line '429 1'
    wait "$first"
    stop_serve
    # without --trusted-proxy the header is the client's word: the peer counts
    start_serve --max-conns-per-ip 1 --limit-exempt none --max-conn-rate 0
    run $PEER hold "$SERVE_PORT" 2 /sse/a 10 'X-Forwarded-For: 198.51.100.10'
    assert_line '200 1'
    assert_line '429 1'
}

@test "behind a --trusted-proxy, a pooled connection waiting for its next request counts for no client: its last client may hold a poll on another; the limit still holds for the pooled one's next request" {
    start_serve --max-conns-per-ip 1 --limit-exempt none --trusted-proxy 127.0.0.1 --max-conn-rate 0
    # as nginx's upstream keepalive does: one connection carries a client's
    # /healthz and stays open; the same client's poll comes on another
    run timeout 15 /usr/bin/python3 - "$SERVE_PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
def req(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.20\r\n\r\n" % path).encode())
def status(s):
    s.settimeout(2)
    try:
        return s.recv(4096).split(b"\r\n")[0].decode()
    except socket.timeout:
        return "held"
pooled = socket.create_connection(("127.0.0.1", port))
req(pooled, "/healthz")
print(status(pooled))
poll = socket.create_connection(("127.0.0.1", port))
req(poll, "/poll/pooled?timeout=10")
print(status(poll))
req(pooled, "/healthz")
print(status(pooled))
EOF
    assert_line --index 0 'HTTP/1.1 200 OK'
    assert_line --index 1 'held'
    assert_line --index 2 'HTTP/1.1 429 Too Many Requests'
}

@test "behind a --trusted-proxy, --max-pub-rate is each client's on a connection the proxy shares: another client's publish on it is not refused for the first one's" {
    start_serve --max-pub-rate 1 --limit-exempt none --trusted-proxy 127.0.0.1 --max-conn-rate 0
    run timeout 15 /usr/bin/python3 - "$SERVE_PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
for xff in ("198.51.100.30", "198.51.100.31", "198.51.100.31"):
    s.sendall(("POST /pub/pr HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: %s\r\nContent-Length: 1\r\n\r\nm" % xff).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while n:
        n -= len(s.recv(n))
    print(xff, head.split(b"\r\n")[0].decode())
EOF
    assert_line --index 0 '198.51.100.30 HTTP/1.1 200 OK'
    assert_line --index 1 '198.51.100.31 HTTP/1.1 200 OK'
    assert_line --index 2 '198.51.100.31 HTTP/1.1 429 Too Many Requests'
}

# ---- expiry during a connection ----

@test "a WebSocket whose JWT expires mid-stream is closed with 1008 token expired" {
    start_serve --jwt-key "$K/hs.key" --ping 0
    t=$(hs '{"exp":@+2,"pushwire":{"subscribe":["*"]}}')
    run $PEER ws-wait "$SERVE_PORT" "/ws/news.a?token=$t" 10
    assert_line open
    assert_line 'close 1008 token expired'
    run C "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_expired_total 1'
}

@test "--exec: a WebSocket and an event stream whose JWT expires end as without --exec (1008; the expired event)" {
    start_serve --jwt-key "$K/hs.key" --ping 0 --heartbeat 0 --exec cat
    t=$(hs '{"exp":@+2,"pushwire":{"subscribe":["*"]}}')
    run $PEER ws-wait "$SERVE_PORT" "/ws/news.a?token=$t" 10
    assert_line open
    assert_line 'close 1008 token expired'
    t=$(hs '{"exp":@+2,"pushwire":{"subscribe":["*"]}}')
    run C -N --max-time 10 "$SERVE_URL/sse/news.a?token=$t"
    assert_success # the server ended it, not curl's timeout
    assert_line 'event: expired'
    run C "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_expired_total 2'
}

@test "an event stream whose JWT expires gets an expired event, then ends; a held poll is answered" {
    start_serve --jwt-key "$K/hs.key" --heartbeat 0
    t=$(hs '{"exp":@+2,"pushwire":{"subscribe":["*"]}}')
    run C -N --max-time 10 "$SERVE_URL/sse/news.a?token=$t"
    assert_success # the server ended it, not curl's timeout
    # as docs/PROTOCOL.md shows it: one data: line, no empty one after it
    # (the body's newline made one: the page's event.data ended in '\n')
    [ "$(sed -n '/^event: expired$/,$p' <<<"$output")" = "$(printf '%s\n' 'event: expired' \
        'data: {"error":"token expired","status":401,"rule":"RFC 7519 §4.1.4"}')" ]
    t=$(hs '{"exp":@+2,"pushwire":{"subscribe":["*"]}}')
    run C -i --max-time 10 "$SERVE_URL/poll/news.a?timeout=60&token=$t"
    assert_line --partial 'HTTP/1.1 200'
    assert_output --partial '"messages":[]'
    run C "$SERVE_URL/poll/news.a?timeout=0&token=$t"
    assert_output --partial '"error":"token expired"'
}

@test "a JWT whose exp is far beyond any clock (1e20, 1e400) keeps its WebSocket and event stream open" {
    # the milliseconds left overflowed uint64_t: the stream was expired at once
    start_serve --jwt-key "$K/hs.key" --ping 0 --heartbeat 0
    t=$(hs '{"exp":1e20,"pushwire":{"subscribe":["*"]}}')
    run $PEER ws-wait "$SERVE_PORT" "/ws/news.a?token=$t" 1.5
    assert_line open
    assert_line 'still open'
    t=$(hs '{"exp":1e400,"pushwire":{"subscribe":["*"]}}')
    run C -N --max-time 1.5 "$SERVE_URL/sse/news.a?token=$t"
    assert_failure 28 # curl's timeout: the stream was still open
    refute_line 'event: expired'
    run C "$SERVE_URL/metrics"
    assert_output --partial 'pushwire_tokens_expired_total 0'
}

