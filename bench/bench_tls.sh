#!/usr/bin/env bash
# bench_tls.sh — `pushwire serve` over TLS (run by bench/run, after `make
# bench` built bench/*.c into build/rel/bench/).  Certificates are made here
# (a throwaway CA: ECDSA P-256 for localhost, RSA 2048 for rsa.test).
#
#   echo        one serve --echo with a plain and a tls:// listener; 100
#               connections, 32 B and 4 KiB, 1 and 16 in flight, plain and TLS
#               taking turns in the same run; TLS / plain is the figure
#   handshakes  full TLS handshakes per second (no resumption), ECDSA P-256
#               and RSA 2048 (picked by SNI), 8 clients at a time; beside
#               nginx serving the same certificates when nginx is installed
#   idle        RSS growth per idle TLS WebSocket (BENCH_TLS_IDLE_CONNS, 5 000),
#               beside a plain one in the same run; target <= 8 KiB; then the
#               heap OpenSSL keeps per idle connection by what holds it
#               (tls_heap.c: TLS 1.3 AES-GCM and ChaCha20, TLS 1.2), and the
#               floor no OpenSSL API goes under
#
# Server CPU is reported as work per second of the server's own CPU time
# (k/cpu-s), which stays meaningful when the load generator shares the two
# cores.  Env: BENCH_SECS (5), BENCH_REPS (3: the median is shown),
# BENCH_TLS_IDLE_CONNS (5000), BENCH_TLS_ONLY="echo handshakes idle".
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench_tls
IDLE_CONNS=${BENCH_TLS_IDLE_CONNS:-5000}
ONLY=${BENCH_TLS_ONLY:-"echo handshakes idle"}
bench_need "$B/loadgen" "$B/tls_heap" "$PW"

# --- certificates -------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
    -subj "/CN=bench CA" 2>/dev/null
leaf() { # NAME KEYARGS CN
    openssl req -newkey $2 -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "/CN=$3" 2>/dev/null
    printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$3" >"$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
        -out "$tmp/$1.pem" -days 2 -extfile "$tmp/$1.ext" 2>/dev/null
}
leaf ec "ec -pkeyopt ec_paramgen_curve:P-256" localhost
leaf rsa "rsa:2048" rsa.test
[ -s "$tmp/ec.pem" ] && [ -s "$tmp/rsa.pem" ] || { echo "bench_tls: openssl could not make the certificates" >&2; exit 1; }
TLSOPTS=(--tls-cert "$tmp/ec.pem" --tls-key "$tmp/ec.key" --tls-cert "$tmp/rsa.pem" --tls-key "$tmp/rsa.key")

# run LOADGEN-ARGS... against PID: prints "RATE <loadgen line> eff=K/cpu-s"
run() {
    local pid=$1 c0 t0 out; shift
    c0=$(cpu_of "$pid"); t0=$(now_ns)
    out=$("$B/loadgen" "$@" 2>&1)
    echo "$(field rate "$out") $out eff=$(per_cpu "$(field rate "$out")" $(($(now_ns) - t0)) $(($(cpu_of "$pid") - c0)) 1)"
}

echo "bench_tls: $(nproc) cores, $SECS s per run, $(openssl version | cut -d' ' -f1-2), $(date -u +%FT%TZ)"

# --- echo --------------------------------------------------------------------
if [[ " $ONLY " == *" echo "* ]]; then
    start echo "$PW" serve --listen 127.0.0.1:0 --listen tls://127.0.0.1:0 "${TLSOPTS[@]}" --echo --max-conns 20000 -q
    echo
    echo "echo: 100 connections to one serve --echo, plain and TLS listeners taking turns (median of $REPS)"
    printf '%-13s %10s %8s %9s %10s %8s %9s %8s %9s\n' case plain p99_us k/cpu-s tls p99_us k/cpu-s tls/plain cpu-ratio
    for spec in "32 1" "32 16" "4096 1" "4096 16"; do
        read -r size k <<<"$spec"
        pa=() ta=()
        for ((rep = 0; rep < REPS; rep++)); do
            pa+=("$(run "$PID" echo --port "$PORT" -c 100 -k "$k" -s "$size" -d "$SECS")")
            ta+=("$(run "$PID" echo --port "$TPORT" --tls -c 100 -k "$k" -s "$size" -d "$SECS")")
        done
        p=$(median "${pa[@]}") t=$(median "${ta[@]}")
        ep=$(field eff "$p") et=$(field eff "$t")
        printf '%-13s %10s %8s %9s %10s %8s %9s %8sx %8sx\n' "${size}B k=$k" "$(field rate "$p")" "$(field p99_us "$p")" "$ep" \
            "$(field rate "$t")" "$(field p99_us "$t")" "$et" "$(ratio "$(field rate "$t")" "$(field rate "$p")")" \
            "$(ratio "${et%k}" "${ep%k}")"
        [ "$(field failed "$t")" = 0 ] || echo "  tls run: ${t:-no output}"
    done
    stop "$PID"
fi

# --- handshakes ----------------------------------------------------------------
nginx_start() {
    command -v nginx >/dev/null || return 1
    mkdir -p "$tmp/nginx"
    local port
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log crit;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off;
  server { listen 127.0.0.1:$port ssl default_server; server_name localhost;
           ssl_certificate $tmp/ec.pem; ssl_certificate_key $tmp/ec.key; keepalive_timeout 120s;
           location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$port ssl; server_name rsa.test;
           ssl_certificate $tmp/rsa.pem; ssl_certificate_key $tmp/rsa.key; keepalive_timeout 120s;
           location / { return 200 "ok\n"; } }
}
EOF
    nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" 2>"$tmp/nginx.err" &
    NPID=$!
    pids+=("$NPID")
    NPORT=$port
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp/nginx.pid" ] && curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    return 1
}
# the nginx worker (the process that does the handshakes)
nginx_worker() { pgrep -P "$(cat "$tmp/nginx.pid")" | head -1; }

if [[ " $ONLY " == *" handshakes "* ]]; then
    start hs "$PW" serve --listen 127.0.0.1:0 --listen tls://127.0.0.1:0 "${TLSOPTS[@]}" -q
    have_nginx=0
    nginx_start && have_nginx=1
    echo
    echo "handshakes: full TLS handshakes per second (8 clients at a time, no resumption; median of $REPS)"
    printf '%-22s %10s %10s %10s %10s %8s\n' certificate pushwire hs/cpu-s nginx hs/cpu-s ratio
    for spec in "ECDSA-P-256 localhost" "RSA-2048 rsa.test"; do
        read -r name sni <<<"$spec"
        pa=() na=()
        for ((rep = 0; rep < REPS; rep++)); do
            pa+=("$(run "$PID" handshakes --port "$TPORT" --tls --sni "$sni" -c 8 -d "$SECS")")
            [ "$have_nginx" = 1 ] && na+=("$(run "$(nginx_worker)" handshakes --port "$NPORT" --tls --sni "$sni" -c 8 -d "$SECS")")
        done
        p=$(median "${pa[@]}")
        n=$([ "$have_nginx" = 1 ] && median "${na[@]}")
        printf '%-22s %10s %10s %10s %10s %7sx\n' "$name" "$(field rate "$p")" "$(field eff "$p")" \
            "${n:+$(field rate "$n")}" "${n:+$(field eff "$n")}" "$(ratio "$(field rate "$p")" "$(field rate "${n:-}")")"
        [ "$(field failed "$p")" = 0 ] || echo "  pushwire run: $p"
    done
    [ "$have_nginx" = 1 ] || echo "(nginx is not installed: no reference)"
    stop "$PID"
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null && rm -f "$tmp/nginx.pid"
fi

# --- idle ----------------------------------------------------------------------
# idle_cost PID PORT [--tls] -> "KiB_per_conn growth_KiB open"; a 200-connection
# warm-up first, so pages touched once (code, the first handshake) are not counted
idle_cost() {
    local pid=$1 port=$2 before after out lg i; shift 2
    timeout 30 "$B/loadgen" idle --port "$port" "$@" -c 200 -d 1 >/dev/null 2>&1
    sleep 0.5
    before=$(rss_kib "$pid")
    "$B/loadgen" idle --port "$port" "$@" -c "$IDLE_CONNS" -d 120 >"$tmp/idle.out" 2>&1 &
    lg=$!
    for ((i = 0; i < 1200; i++)); do grep -q '^open=' "$tmp/idle.out" && break; kill -0 "$lg" 2>/dev/null || break; sleep 0.1; done
    sleep 1
    after=$(rss_kib "$pid")
    out=$(head -1 "$tmp/idle.out")
    kill "$lg" 2>/dev/null; wait "$lg" 2>/dev/null
    awk -v a="$after" -v b="$before" -v n="$(field open "$out")" \
        'BEGIN { if (n > 0) printf "%.2f %d %d\n", (a - b) / n, a - b, n; else print "? ? 0" }'
}
if [[ " $ONLY " == *" idle "* ]]; then
    echo
    echo "idle: $IDLE_CONNS open WebSockets, server RSS growth per connection (after a 200-connection warm-up)"
    start idle "$PW" serve --listen 127.0.0.1:0 --listen tls://127.0.0.1:0 "${TLSOPTS[@]}" --max-conns 20000 -q
    # plain first: the TLS run frees more than the plain one would then need
    read -r pk pg pn <<<"$(idle_cost "$PID" "$PORT")"
    read -r tk tg tn <<<"$(idle_cost "$PID" "$TPORT" --tls)"
    stop "$PID"
    echo "pushwire TLS: $tk KiB/conn ($tg KiB for $tn) | plain: $pk KiB/conn ($pg KiB for $pn) | TLS costs $(awk -v a="$tk" -v b="$pk" 'BEGIN { printf "%.2f", a - b }') KiB more | target <= 8 KiB: $(verdict "$tk" 8 le)"
    # the heap OpenSSL itself keeps per connection (RSS adds malloc's
    # overhead), by what holds it: none of it has an API that releases it
    # while the connection lives (docs/SERVER.md, "An idle TLS connection")
    echo "OpenSSL $(openssl version | cut -d' ' -f2) heap per idle server connection (bench/tls_heap.c), by what holds it:"
    least= ssl=
    for spec in "1.3 aes256" "1.3 chacha" "1.2 aes128"; do
        read -r v c <<<"$spec"
        if heap=$("$B/tls_heap" -n 50 -v "$v" -c "$c" 2>&1); then
            parts=$(sed -n 's/^parts: //p' <<<"$heap")
            h=$(field heap_per_conn "$heap")
            printf '  TLS %s %-29s %5s B in %s blocks: %s\n' "$v" "$(field cipher "$heap")" \
                "$h" "$(field allocs_per_conn "$heap")" "$parts"
            ssl=$(field ssl "$parts")
            [ -z "$least" ] || [ "$h" -lt "$least" ] && least=$h
        else
            echo "  tls_heap -v $v -c $c failed: $heap"
        fi
    done
    [ -n "$least" ] && awk -v h="$least" -v s="$ssl" -v p="${pk:-0}" 'BEGIN {
        f = h / 1024 + p
        printf "  floor: %d B that no OpenSSL API releases while the connection lives (the SSL object alone %d B) + a plain connection %s KiB = %.2f KiB: 8 KiB is %s\n",
            h, s, p, f, (f > 8 ? "out of reach with this OpenSSL (docs/SERVER.md)" : "within reach")
    }'
fi
