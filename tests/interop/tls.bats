#!/usr/bin/env bats
# tls.bats — `pushwire serve` on a TLS listener (--listen tls://…) against
# real TLS peers: curl, pushwire connect, Node ws, openssl s_client and
# Chromium.  The test makes its own throwaway CA: a root, an intermediate
# that signs an ECDSA P-256 certificate for localhost/127.0.0.1 (served as a
# full chain), and an RSA 2048 certificate for rsa.test signed by the root.
# One server for the file (a plain and a TLS listener, both certificates);
# the reload and start-up tests run their own.
load helper

# mkcert NAME KEYALG SUBJECT SAN ISSUER [EXT] — NAME.key, NAME.pem signed by ISSUER(.pem/.key)
mkcert() {
    local d=$BATS_FILE_TMPDIR n=$1 alg=$2 subj=$3 san=$4 iss=$5 ext=${6:-}
    if [ "$alg" = ec ]; then
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$n.key" -out "$d/$n.csr" -subj "$subj" 2>/dev/null
    else
        openssl req -newkey rsa:2048 -nodes -keyout "$d/$n.key" -out "$d/$n.csr" -subj "$subj" 2>/dev/null
    fi
    printf '%s\n' "${ext:-subjectAltName=$san}" >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/$iss.pem" -CAkey "$d/$iss.key" -CAcreateserial \
        -out "$d/$n.pem" -days 2 -extfile "$d/$n.ext" 2>/dev/null
}

setup_file() {
    d=$BATS_FILE_TMPDIR
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
        -subj "/CN=pushwire test root" 2>/dev/null
    mkcert inter ec "/CN=pushwire test intermediate" "" ca \
        "$(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign')"
    mkcert ec ec "/CN=localhost" "DNS:localhost,IP:127.0.0.1" inter
    cat "$d/ec.pem" "$d/inter.pem" >"$d/ec-chain.pem"
    mkcert rsa rsa "/CN=rsa.test" "DNS:rsa.test" ca
    mkcert renewed ec "/CN=localhost renewed" "DNS:localhost,IP:127.0.0.1" inter
    cat "$d/renewed.pem" "$d/inter.pem" >"$d/renewed-chain.pem"
    export CA=$d/ca.pem
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$d/ec-chain.pem" --tls-key "$d/ec.key" \
        --tls-cert "$d/rsa.pem" --tls-key "$d/rsa.key" --handshake-timeout 2 --ping 0
    TLS_PORT=$(tls_port)
    export TLS_PORT TLS=https://localhost:$TLS_PORT
}

teardown_file() { serve_stop || true; }
teardown() {
    [ -z "${PRIV_DIR:-}" ] || rm -rf "$PRIV_DIR"
    serve_teardown
}

# tls_port — the port of serve's tls:// listener, from its log
tls_port() {
    local i line
    for ((i = 0; i < 100; i++)); do
        line=$(grep -m1 -o 'listening on tls://127\.0\.0\.1:[0-9]*' "$SERVE_LOG") && break
        sleep 0.05
    done
    echo "${line##*:}"
}

# sc ARGS — openssl s_client against the TLS listener, bounded, stdin closed
sc() { timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" "$@" </dev/null 2>&1; }

@test "https: curl --cacert publishes, long-polls and streams SSE over TLS; the chain (leaf + intermediate) verifies against the root" {
    ch=$(chan)
    run curl -sS --fail --max-time 5 --cacert "$CA" --data-binary one "$TLS/pub/$ch"
    assert_success
    assert_output --regexp '^\{"id":"[a-z0-9]{12}:1"\}$'
    id=${output#*\"id\":\"}
    id=${id%%\"*}
    run curl -sS --fail --max-time 5 --cacert "$CA" "$TLS/poll/$ch?cursor=0&timeout=0"
    assert_success
    assert_output --partial '"data":"one"'
    run sse_upto 'data: one' -S --cacert "$CA" -H 'Last-Event-ID: 0' "$TLS/sse/$ch"
    assert_output --partial $"id: $id"$'\ndata: one'
}

@test "a resume over TLS: 1 100 messages of 1 000 bytes, the backlog (1 024) comes back in order, once each, paged through the TLS layer" {
    ch=$(chan)
    head -c 1000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/m"
    urls=()
    for ((i = 0; i < 1100; i++)); do urls+=("$TLS/pub/$ch"); done
    # one keep-alive TLS connection for all of them
    curl -sS --fail --max-time 60 --cacert "$CA" --data-binary @"$BATS_TEST_TMPDIR/m" "${urls[@]}" >/dev/null
    sse_upto ':1100' -S --cacert "$CA" -H 'Last-Event-ID: 0' "$TLS/sse/$ch" >"$BATS_TEST_TMPDIR/sse"
    run grep -c '^data: x' "$BATS_TEST_TMPDIR/sse"
    assert_output 1024
    # ids EPOCH:77 … EPOCH:1100, consecutive
    run bash -c "sed -n 's/^id: [a-z0-9]*://p' '$BATS_TEST_TMPDIR/sse' | awk 'NR == 1 { f = \$1 } \$1 != f + NR - 1 { bad = 1 } END { print f, NR, bad + 0 }'"
    assert_output '77 1024 0'
}

@test "https: /healthz, /metrics and the page at / over TLS, keep-alive across requests" {
    run curl -sS --fail --max-time 5 --cacert "$CA" "$TLS/healthz" "$TLS/metrics" "$TLS/"
    assert_success
    assert_output --partial 'ok'
    assert_output --partial 'pushwire_connections{transport="http"}'
    assert_output --partial '<html'
}

@test "a plain listener beside the TLS one answers /healthz in clear (a load balancer's probe); TLS on it fails" {
    run curl -sS --fail --max-time 5 "$SERVE_HTTP/healthz"
    assert_success
    assert_output ok
    run curl -sS --max-time 5 --cacert "$CA" "https://127.0.0.1:$SERVE_PORT/healthz"
    assert_failure
}

@test "connect wss:// with --cacert: a message out and back, resume with --since" {
    ch=$(chan)
    curl -sS --fail --max-time 5 --cacert "$CA" -d before "$TLS/pub/$ch" >/dev/null
    run bash -c 'echo mine | timeout 10 "$PW" connect --cacert "$1" --since 0 --count 2 --wait "$0"' \
        "wss://localhost:$TLS_PORT/ws/$ch" "$CA"
    assert_success
    assert_output $'before\nmine'
}

@test "connect https:// (SSE) with --cacert resumes with --last-event-id" {
    ch=$(chan)
    for m in a b; do curl -sS --fail --max-time 5 --cacert "$CA" -d "$m" "$TLS/pub/$ch" >/dev/null; done
    run timeout 10 "$PW" connect --cacert "$CA" --last-event-id 0 --count 2 "$TLS/sse/$ch"
    assert_success
    assert_output $'a\nb'
}

@test "connect https:// --poll with --cacert" {
    ch=$(chan)
    for m in p1 p2; do curl -sS --fail --max-time 5 --cacert "$CA" -d "$m" "$TLS/pub/$ch" >/dev/null; done
    run timeout 10 "$PW" connect --cacert "$CA" --poll --since 0 --count 2 "$TLS/poll/$ch"
    assert_success
    assert_output $'p1\np2'
}

@test "connect without the CA is refused: exit 5, the reason printed" {
    run timeout 10 "$PW" connect --no-stdin "wss://localhost:$TLS_PORT/ws/x"
    assert_failure 5
    assert_output --partial "certificate verification failed for 'localhost'"
}

@test "Node ws with the CA (ca:): text between two sockets, a POST over https, 1 MiB binary, close 1000" {
    [ -d "$INTEROP/node_modules/ws" ] || missing "Node ws (tests/interop/node_modules)"
    run timeout 60 "$NODE" "$INTEROP/tls_node.js" wss "$TLS_PORT" "$CA"
    assert_success
    assert_output --partial "ok wss"
}

@test "Node ws without the CA is refused (self-signed chain)" {
    [ -d "$INTEROP/node_modules/ws" ] || missing "Node ws (tests/interop/node_modules)"
    run timeout 60 "$NODE" "$INTEROP/tls_node.js" untrusted "$TLS_PORT" "$CA"
    assert_success
    assert_output --partial "ok untrusted"
}

@test "openssl s_client: TLS 1.0 and 1.1 are refused (protocol_version alert)" {
    for v in -tls1 -tls1_1; do
        run sc "$v" -cipher 'DEFAULT@SECLEVEL=0'
        assert_output --partial "alert protocol version"
        refute_output --partial "BEGIN CERTIFICATE"
    done
}

@test "openssl s_client: TLS 1.2 and 1.3 are accepted, ALPN http/1.1" {
    run sc -tls1_2 -alpn http/1.1 -CAfile "$CA" -servername localhost
    assert_output --partial "Protocol  : TLSv1.2"
    assert_output --partial "ALPN protocol: http/1.1"
    assert_output --partial "Verify return code: 0 (ok)"
    run sc -tls1_3 -alpn http/1.1 -CAfile "$CA" -servername localhost
    assert_output --partial "TLSv1.3"
    assert_output --partial "ALPN protocol: http/1.1"
}

@test "ALPN: a client that offers only h2 gets no_application_protocol" {
    run sc -alpn h2
    assert_output --partial "no application protocol"
}

@test "ALPN http/1.0 (curl --http1.0) is served as on a plain listener; http/1.1 is preferred when both are offered" {
    # only http/1.1 was taken: curl --http1.0 got no_application_protocol
    ch=$(chan)
    run curl -sS --fail --max-time 5 --http1.0 --cacert "$CA" --data-binary one "$TLS/pub/$ch"
    assert_success
    assert_output --regexp '^\{"id":"[a-z0-9]{12}:1"\}$'
    run curl -sS --fail --max-time 5 --http1.0 --cacert "$CA" "$TLS/poll/$ch?cursor=0&timeout=0"
    assert_output --partial '"data":"one"'
    grep -q ' tls: TLSv1\.3 .* alpn=http/1\.0' "$SERVE_LOG"
    run sc -alpn http/1.0,http/1.1 -CAfile "$CA" -servername localhost
    assert_output --partial "ALPN protocol: http/1.1"
    run sc -alpn h2,http/1.0 -CAfile "$CA" -servername localhost
    assert_output --partial "ALPN protocol: http/1.0"
}

@test "TLS 1.2 ciphers are Mozilla intermediate: AES-GCM with ECDHE yes, CBC or static RSA no" {
    run sc -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -servername localhost
    assert_output --partial "ECDHE-ECDSA-AES128-GCM-SHA256"
    refute_output --partial "handshake failure"
    for c in ECDHE-ECDSA-AES128-SHA AES128-GCM-SHA256; do
        run sc -tls1_2 -cipher "$c"
        assert_output --partial "handshake failure"
    done
}

@test "SNI picks the certificate: rsa.test gets the RSA one; localhost and no SNI the first (ECDSA, full chain)" {
    run sc -servername rsa.test -CAfile "$CA"
    assert_output --partial "subject=CN = rsa.test"
    assert_output --partial "Verify return code: 0 (ok)"
    run sc -servername localhost -CAfile "$CA"
    assert_output --partial "subject=CN = localhost"
    assert_output --partial "issuer=CN = pushwire test intermediate"
    assert_output --partial "Verify return code: 0 (ok)"
    run sc -noservername
    assert_output --partial "subject=CN = localhost"
    run curl -sS --fail --max-time 5 --cacert "$CA" --resolve "rsa.test:$TLS_PORT:127.0.0.1" "https://rsa.test:$TLS_PORT/healthz"
    assert_success
    assert_output ok
}

@test "sessions resume by ticket: TLS 1.2 (-reconnect) and TLS 1.3 (-sess_out, -sess_in), logged as resumed" {
    run sc -tls1_2 -reconnect
    assert_output --partial "Reused, TLSv1.2"
    # -ign_eof: read on until the server closes (--handshake-timeout), so the
    # ticket, sent after the handshake, is in
    run sc -tls1_3 -sess_out "$BATS_TEST_TMPDIR/sess.pem" -ign_eof
    assert_output --partial "New, TLSv1.3"
    run sc -tls1_3 -sess_in "$BATS_TEST_TMPDIR/sess.pem"
    assert_output --partial "Reused, TLSv1.3"
    grep -q ' tls: TLSv1\.3 .* resumed$' "$SERVE_LOG"
}

@test "the handshake is logged: version, cipher, SNI and ALPN" {
    curl -sS --fail --max-time 5 --cacert "$CA" "$TLS/healthz" >/dev/null
    run grep -E ' tls: TLSv1\.3 TLS_[A-Z0-9_]+ sni=localhost alpn=http/1\.1' "$SERVE_LOG"
    assert_success
}

@test "a stalled TLS handshake is closed after --handshake-timeout (2 s here)" {
    run timeout 30 "$PY" "$INTEROP/tls_raw.py" stall "$TLS_PORT"
    assert_success
    assert_output --regexp '^closed bytes=0'
    grep -q 'handshake timeout' "$SERVE_LOG"
}

@test "plain HTTP on the TLS port is closed with no HTTP answer, and a TLS stream opened before is unaffected" {
    ch=$(chan)
    out=$BATS_TEST_TMPDIR/sse.out
    curl -sS -N --max-time 20 --cacert "$CA" "$TLS/sse/$ch" >"$out" 2>&1 &
    cpid=$!
    wait_for grep -q '^retry:' "$out"
    run timeout 30 "$PY" "$INTEROP/tls_raw.py" plain "$TLS_PORT"
    assert_success
    assert_output --regexp '^closed bytes=[0-9]+ alert=(yes|no)'
    [[ "$output" == "closed bytes=0 "* || "$output" == *"alert=yes"* ]]
    run timeout 30 "$PY" "$INTEROP/tls_raw.py" garbage "$TLS_PORT"
    assert_output --regexp '^closed'
    curl -sS --fail --max-time 5 --cacert "$CA" -d still-here "$TLS/pub/$ch" >/dev/null
    wait_for grep -q '^data: still-here' "$out"
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    grep -q 'TLS handshake failed: http request' "$SERVE_LOG"
    run curl -sS --fail --max-time 5 "$SERVE_HTTP/metrics"
    assert_output --regexp $'\npushwire_tls_handshake_failures_total [1-9]'
    assert_output --regexp $'\npushwire_tls_handshakes_total [1-9]'
    serve_alive
}

@test "SIGHUP: new handshakes get the new certificate while an SSE stream opened before keeps streaming" {
    d=$BATS_TEST_TMPDIR
    cp "$BATS_FILE_TMPDIR/ec-chain.pem" "$d/cur.pem"
    cp "$BATS_FILE_TMPDIR/ec.key" "$d/cur.key"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$d/cur.pem" --tls-key "$d/cur.key" --ping 0
    TLS_PORT=$(tls_port)
    TLS=https://localhost:$TLS_PORT
    ch=$(chan)
    curl -sS -N --max-time 30 --cacert "$CA" "$TLS/sse/$ch" >"$d/sse.out" 2>&1 &
    cpid=$!
    wait_for grep -q '^retry:' "$d/sse.out"
    curl -sS --fail --max-time 5 --cacert "$CA" -d before "$TLS/pub/$ch" >/dev/null
    wait_for grep -q '^data: before' "$d/sse.out"
    cp "$BATS_FILE_TMPDIR/renewed-chain.pem" "$d/cur.pem"
    cp "$BATS_FILE_TMPDIR/renewed.key" "$d/cur.key"
    kill -HUP "$SERVE_PID"
    wait_for grep -q 'reload: SIGHUP: 1 TLS certificate reloaded' "$SERVE_LOG"
    run sc -servername localhost -CAfile "$CA"
    assert_output --partial "subject=CN = localhost renewed"
    assert_output --partial "Verify return code: 0 (ok)"
    curl -sS --fail --max-time 5 --cacert "$CA" -d after "$TLS/pub/$ch" >/dev/null
    wait_for grep -q '^data: after' "$d/sse.out"
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    serve_stop
}

@test "SIGHUP with --workers 2: every worker hands out the new certificate, and the reload is logged once" {
    d=$BATS_TEST_TMPDIR
    cp "$BATS_FILE_TMPDIR/ec-chain.pem" "$d/cur.pem"
    cp "$BATS_FILE_TMPDIR/ec.key" "$d/cur.key"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$d/cur.pem" --tls-key "$d/cur.key" --ping 0 --workers 2
    TLS_PORT=$(tls_port)
    cp "$BATS_FILE_TMPDIR/renewed-chain.pem" "$d/cur.pem"
    cp "$BATS_FILE_TMPDIR/renewed.key" "$d/cur.key"
    kill -HUP "$SERVE_PID"
    wait_for grep -q 'reload: SIGHUP: 1 TLS certificate reloaded' "$SERVE_LOG"
    # new connections land on either worker: 20 in a row get the new one
    # once both have reloaded (bounded: 100 tries)
    n=0
    for i in $(seq 100); do
        if sc -servername localhost -CAfile "$CA" 2>/dev/null | grep -q "subject=CN = localhost renewed"; then
            n=$((n + 1))
            [ "$n" -ge 20 ] && break
        else
            n=0
        fi
    done
    [ "$n" -ge 20 ]
    [ "$(grep -c 'TLS certificate reloaded' "$SERVE_LOG")" -eq 1 ]
    serve_stop
}

@test "tokens over TLS: 401 without, Bearer on https SSE and publish, ?token= on wss, the subscribe token cannot publish, no token in the log" {
    d=$BATS_TEST_TMPDIR sub=sub-tls-token-0123456789 pub=pub-tls-token-9876543210
    printf '%s\n' "$sub" >"$d/tok"
    printf '%s\n' "$pub" >"$d/ptok"
    chmod 600 "$d/tok" "$d/ptok"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$BATS_FILE_TMPDIR/ec-chain.pem" \
        --tls-key "$BATS_FILE_TMPDIR/ec.key" --token-file "$d/tok" --publish-token-file "$d/ptok" -v --ping 0
    TLS_PORT=$(tls_port)
    TLS=https://localhost:$TLS_PORT
    ch=$(chan)
    st() { curl -sS --max-time 5 --cacert "$CA" -o /dev/null -w '%{http_code}' "$@"; }
    [ "$(st "$TLS/poll/$ch?timeout=0")" = 401 ]
    [ "$(st -d x "$TLS/pub/$ch")" = 401 ]
    [ "$(st -H "Authorization: Bearer $sub" -d x "$TLS/pub/$ch")" = 403 ]
    curl -sS -N --max-time 30 --cacert "$CA" -H "Authorization: Bearer $sub" "$TLS/sse/$ch" >"$d/sse.out" 2>&1 &
    cpid=$!
    wait_for grep -q '^retry:' "$d/sse.out"
    [ "$(st -H "Authorization: Bearer $pub" --data-binary one "$TLS/pub/$ch")" = 200 ]
    wait_for grep -q '^data: one' "$d/sse.out"
    run bash -c 'timeout 10 "$PW" connect --no-stdin --cacert "$1" --since 0 --count 1 "$0"' \
        "wss://localhost:$TLS_PORT/ws/$ch?token=$sub" "$CA"
    assert_success
    assert_output one
    run timeout 10 "$PW" connect --no-stdin --cacert "$CA" --count 1 "wss://localhost:$TLS_PORT/ws/$ch"
    assert_failure
    assert_output --partial 401
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    serve_stop
    grep -q 'token=REDACTED' "$SERVE_LOG"
    run grep -F -e "$sub" -e "$pub" "$SERVE_LOG"
    assert_failure
}

@test "SIGHUP with a broken certificate keeps the loaded ones and logs why" {
    d=$BATS_TEST_TMPDIR
    cp "$BATS_FILE_TMPDIR/ec-chain.pem" "$d/cur.pem"
    cp "$BATS_FILE_TMPDIR/ec.key" "$d/cur.key"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$d/cur.pem" --tls-key "$d/cur.key"
    TLS_PORT=$(tls_port)
    echo 'not a certificate' >"$d/cur.pem"
    kill -HUP "$SERVE_PID"
    wait_for grep -q 'keeping the certificates loaded before' "$SERVE_LOG"
    run grep "cannot load TLS certificate '$d/cur.pem'" "$SERVE_LOG"
    assert_success
    run sc -servername localhost -CAfile "$CA"
    assert_output --partial "subject=CN = localhost"
    assert_output --partial "Verify return code: 0 (ok)"
    cp "$BATS_FILE_TMPDIR/rsa.pem" "$d/cur.pem" # a key that does not belong to it
    kill -HUP "$SERVE_PID"
    wait_for grep -q "TLS key '$d/cur.key' does not belong to certificate '$d/cur.pem'" "$SERVE_LOG"
    serve_stop
}

# mkdated NAME START END — NAME.key, NAME.pem for localhost signed by the
# root, valid from START to END (YYYYMMDDHHMMSSZ), in BATS_TEST_TMPDIR
mkdated() {
    local d=$BATS_TEST_TMPDIR f=$BATS_FILE_TMPDIR
    mkdir -p "$d/ca-$1" && touch "$d/ca-$1/index.txt" && echo 01 >"$d/ca-$1/serial"
    printf '[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\nserial = $dir/serial\nnew_certs_dir = $dir\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
        "$d/ca-$1" >"$d/ca-$1/ca.cnf"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$1.key" -out "$d/$1.csr" -subj /CN=localhost 2>/dev/null
    openssl ca -batch -config "$d/ca-$1/ca.cnf" -cert "$f/ca.pem" -keyfile "$f/ca.key" -in "$d/$1.csr" -out "$d/$1.pem" \
        -startdate "$2" -enddate "$3" >/dev/null 2>&1
}

@test "a certificate out of its dates loads (the client judges) but is logged: expired, not yet valid, ending within 14 days; at start and on SIGHUP, once with --workers 2" {
    d=$BATS_TEST_TMPDIR
    mkdated old 20200101000000Z 20200102000000Z
    mkdated future 20990101000000Z 20991231000000Z
    mkdated soon "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" "$(date -u -d '+3 days +1 hour' +%Y%m%d%H%M%SZ)"
    mkdated good "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" "$(date -u -d '+90 days' +%Y%m%d%H%M%SZ)"
    cp "$d/old.pem" "$d/cur.pem"
    cp "$d/old.key" "$d/cur.key"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$d/cur.pem" --tls-key "$d/cur.key" \
        --tls-cert "$d/future.pem" --tls-key "$d/future.key" --workers 2
    TLS_PORT=$(tls_port)
    run grep -c "TLS certificate '$d/cur.pem' expired on 2020-01-02 00:00:00 UTC: clients will refuse it" "$SERVE_LOG"
    assert_output 1
    run grep -c "TLS certificate '$d/future.pem' is not valid before 2099-01-01 00:00:00 UTC: clients will refuse it" "$SERVE_LOG"
    assert_output 1
    # it is served: the client is the one to refuse it
    run sc -servername localhost -CAfile "$CA"
    assert_output --partial "certificate has expired"
    cp "$d/soon.pem" "$d/cur.pem"
    cp "$d/soon.key" "$d/cur.key"
    kill -HUP "$SERVE_PID"
    wait_for grep -q "TLS certificate '$d/cur.pem' expires on" "$SERVE_LOG"
    run grep -c "TLS certificate '$d/cur.pem' expires on .*, in 3 days$" "$SERVE_LOG"
    assert_output 1
    cp "$d/good.pem" "$d/cur.pem"
    cp "$d/good.key" "$d/cur.key"
    kill -HUP "$SERVE_PID"
    wait_for sh -c "[ \$(grep -c 'reloaded for new connections' '$SERVE_LOG') = 2 ]"
    sleep 0.2
    [ "$(grep -c "TLS certificate '$d/cur.pem'" "$SERVE_LOG")" = 2 ] # the old and the soon ones, nothing for the good one
    serve_stop
}

@test "start-up: TLS options are checked (pairs, a TLS listener, files that load)" {
    d=$BATS_FILE_TMPDIR
    run "$PW" serve --listen tls://127.0.0.1:0
    assert_failure 2
    assert_output --partial "a tls:// listener needs --tls-cert FILE --tls-key FILE"
    run "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$d/ec.pem"
    assert_failure 2
    assert_output --partial "--tls-cert and --tls-key come in pairs (1 certificate, 0 keys)"
    run "$PW" serve --listen 127.0.0.1:0 --tls-cert "$d/ec.pem" --tls-key "$d/ec.key"
    assert_failure 2
    assert_output --partial "add --listen tls://ADDR:PORT"
    run "$PW" serve --listen tls://127.0.0.1:0 --tls-cert /nonexistent.pem --tls-key "$d/ec.key"
    assert_failure 1
    assert_output --partial "pushwire serve: cannot load TLS certificate '/nonexistent.pem'"
    run "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$d/ec.pem" --tls-key "$d/rsa.key"
    assert_failure 1
    assert_output --partial "TLS key '$d/rsa.key' does not belong to certificate '$d/ec.pem'"
    run "$PW" serve --listen tls://nowhere:0 --tls-cert "$d/ec.pem" --tls-key "$d/ec.key"
    assert_failure 2
    assert_output --partial "tls://HOST:PORT"
}

@test "a certificate or key that does not load says why: missing, unreadable (a unit's user), DER, the wrong file" {
    # the reason was OpenSSL's last error: 'system lib' or 'PEM lib'
    d=$BATS_TEST_TMPDIR f=$BATS_FILE_TMPDIR
    openssl x509 -in "$f/ec.pem" -outform der -out "$d/ec.der"
    openssl pkey -in "$f/ec.key" -outform der -out "$d/ec-der.key"
    tls() { run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$1" --tls-key "$2"; assert_failure 1; }
    tls "$d/none.pem" "$f/ec.key"
    assert_output --partial "cannot load TLS certificate '$d/none.pem': No such file or directory"
    tls "$f/ec.pem" "$d/none.key"
    assert_output --partial "cannot load TLS key '$d/none.key': No such file or directory"
    tls "$d/ec.der" "$f/ec.key"
    assert_output --partial "cannot load TLS certificate '$d/ec.der': no certificate in it"
    tls "$f/ec.key" "$f/ec.key"
    assert_output --partial "cannot load TLS certificate '$f/ec.key': no certificate in it"
    tls "$f/ec.pem" "$d/ec-der.key"
    assert_output --partial "cannot load TLS key '$d/ec-der.key': no private key in it"
    tls "$f/ec.pem" "$f/ec.pem"
    assert_output --partial "cannot load TLS key '$f/ec.pem': no private key in it"
    # a key only root may read, as the service's own user sees it (in a
    # directory that user may enter: the bats directories are private)
    PRIV_DIR=$(mktemp -d /tmp/pw-tls-priv.XXXXXX)
    chmod 755 "$PRIV_DIR"
    cp "$f/ec.pem" "$PRIV_DIR/ec.pem"
    cp "$f/ec.key" "$PRIV_DIR/root.key"
    chmod 644 "$PRIV_DIR/ec.pem"
    chmod 600 "$PRIV_DIR/root.key"
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "setpriv (util-linux)"
        run timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" serve --listen tls://127.0.0.1:0 \
            --tls-cert "$PRIV_DIR/ec.pem" --tls-key "$PRIV_DIR/root.key"
    else
        chmod 000 "$PRIV_DIR/root.key"
        run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$PRIV_DIR/ec.pem" --tls-key "$PRIV_DIR/root.key"
    fi
    assert_failure 1
    assert_output --partial "cannot load TLS key '$PRIV_DIR/root.key': Permission denied"
}

@test "a key that is not the certificate's is named so: one of the same type (was 'key values mismatch'), a chain written intermediate first" {
    d=$BATS_TEST_TMPDIR f=$BATS_FILE_TMPDIR
    run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$f/rsa.pem" --tls-key "$f/ca.key"
    assert_failure 1
    assert_output --partial "TLS key '$f/ca.key' does not belong to certificate '$f/rsa.pem'"
    cat "$f/inter.pem" "$f/ec.pem" >"$d/reversed.pem"
    run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$d/reversed.pem" --tls-key "$f/ec.key"
    assert_failure 1
    assert_output --partial "TLS key '$f/ec.key' belongs to certificate 2 of '$d/reversed.pem', not to the first: put the server's certificate first"
    cat "$f/ca.pem" "$f/rsa.pem" >"$d/reversed-rsa.pem"
    run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$d/reversed-rsa.pem" --tls-key "$f/rsa.key"
    assert_failure 1
    assert_output --partial "TLS key '$f/rsa.key' belongs to certificate 2 of '$d/reversed-rsa.pem'"
}

@test "an encrypted key (PKCS#8 or traditional) is refused with the reason, never a passphrase prompt, at start and on SIGHUP" {
    d=$BATS_TEST_TMPDIR
    openssl pkcs8 -topk8 -in "$BATS_FILE_TMPDIR/ec.key" -out "$d/p8.key" -passout pass:secret
    openssl ec -in "$BATS_FILE_TMPDIR/ec.key" -aes256 -passout pass:secret -out "$d/trad.key" 2>/dev/null
    for k in p8 trad; do
        run timeout 10 "$PW" serve --listen tls://127.0.0.1:0 --tls-cert "$BATS_FILE_TMPDIR/ec-chain.pem" --tls-key "$d/$k.key"
        assert_failure 1
        assert_output --partial "cannot load TLS key '$d/$k.key': it is encrypted"
        refute_output --partial "pass phrase"
    done
    # on a terminal OpenSSL's default prompt waited for a passphrase (the
    # server hung at start, and in the middle of a SIGHUP reload)
    if command -v script >/dev/null; then
        run timeout 10 script -qec "'$PW' serve --listen tls://127.0.0.1:0 --tls-cert '$BATS_FILE_TMPDIR/ec-chain.pem' --tls-key '$d/p8.key'" /dev/null </dev/null
        refute [ "$status" -eq 124 ]
        assert_output --partial "it is encrypted"
    fi
    cp "$BATS_FILE_TMPDIR/ec.key" "$d/cur.key"
    serve_start --listen tls://127.0.0.1:0 --tls-cert "$BATS_FILE_TMPDIR/ec-chain.pem" --tls-key "$d/cur.key"
    TLS_PORT=$(tls_port)
    cp "$d/p8.key" "$d/cur.key"
    kill -HUP "$SERVE_PID"
    wait_for grep -q 'keeping the certificates loaded before' "$SERVE_LOG"
    run grep -c "cannot load TLS key '$d/cur.key': it is encrypted" "$SERVE_LOG"
    assert_output 1
    run sc -servername localhost -CAfile "$CA"
    assert_output --partial "Verify return code: 0 (ok)"
    serve_stop
}

@test "Chromium runs the page over https and wss with the test's certificate accepted (SPKI pin)" {
    [ -x /usr/bin/chromium ] || missing "chromium"
    [ -d "$INTEROP/node_modules/playwright-core" ] || missing "playwright-core (tests/interop/node_modules)"
    spki=$(openssl x509 -in "$BATS_FILE_TMPDIR/ec.pem" -pubkey -noout |
        openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
    run env TLS_PORT="$TLS_PORT" TLS_SPKI="$spki" timeout 180 "$NODE" "$INTEROP/browser.js" page-tls "$SERVE_PORT"
    assert_success
    assert_output --partial "ok page-tls"
}

@test "serve with TLS listeners survived the file's clients and exits 0 on SIGTERM (no leak under ASan)" {
    serve_alive
    serve_stop
}
