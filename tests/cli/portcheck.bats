#!/usr/bin/env bats
# pushwire portcheck: the limits report (cross-checked against /proc and
# ulimit), --target, --json, and live probes on loopback only.
load helper

PY=/usr/bin/python3

setup() {
    LISTEN_PID=
}

teardown() {
    [ -z "$LISTEN_PID" ] || { kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null; } || true
    stop_serve
}

# start_listener [PEERS_FILE] — a TCP listener that accepts and holds; sets LPORT
start_listener() {
    local pf="$BATS_TEST_TMPDIR/lport"
    : >"$pf" # before the listener's shell opens it: head must find a file
    timeout 300 "$PY" "$TOP/tests/cli/tcp_hold.py" "$@" >"$pf" 2>/dev/null 3>&- &
    LISTEN_PID=$!
    local i
    for i in $(seq 100); do
        LPORT=$(head -n 1 "$pf")
        [ -n "$LPORT" ] && return 0
        sleep 0.05
    done
    fail "the test listener did not start"
}

# a port nothing listens on: bound and closed again by the kernel's choice
closed_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve is used for live probes once it is built into the binary
have_serve() { "$PW" help --gen=applets | grep -qx serve; }

sysval() { cut -f"${2:-1}" "/proc/sys/$1"; }

@test "portcheck --help lists the options" {
    run "$PW" portcheck --help
    assert_success
    assert_output --partial '--connections'
    assert_output --partial '--target'
    assert_output --partial '--source'
}

@test "the report's values are those of /proc and ulimit" {
    run "$PW" portcheck --json
    assert_success
    j=$output
    [ "$(jq -r .nofile_soft <<<"$j")" = "$(ulimit -n)" ]
    [ "$(jq -r .nofile_hard <<<"$j")" = "$(ulimit -Hn)" ]
    [ "$(jq -r .file_max <<<"$j")" = "$(cat /proc/sys/fs/file-max)" ]
    [ "$(jq -r .nr_open <<<"$j")" = "$(cat /proc/sys/fs/nr_open)" ]
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    [ "$(jq -c .port_range <<<"$j")" = "[$lo,$hi]" ]
    [ "$(jq -r .somaxconn <<<"$j")" = "$(cat /proc/sys/net/core/somaxconn)" ]
    [ "$(jq -r .tcp_max_syn_backlog <<<"$j")" = "$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog)" ]
    [ "$(jq -r .tcp_tw_reuse <<<"$j")" = "$(cat /proc/sys/net/ipv4/tcp_tw_reuse)" ]
    if [ -r /proc/sys/net/netfilter/nf_conntrack_max ]; then
        [ "$(jq -r .conntrack_max <<<"$j")" = "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" ]
    else
        [ "$(jq -r .conntrack_max <<<"$j")" = null ]
    fi
    # files in use and available memory move; they must be close
    inuse=$(cut -f1 /proc/sys/fs/file-nr)
    got=$(jq -r .files_in_use <<<"$j")
    [ $((got - inuse)) -lt 5000 ] && [ $((inuse - got)) -lt 5000 ]
    avail=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024))
    got=$(jq -r .mem_available <<<"$j")
    [ $((got / 1048576 - avail / 1048576)) -lt 512 ] && [ $((avail / 1048576 - got / 1048576)) -lt 512 ]
}

@test "the plain report names the limits with their values" {
    run "$PW" portcheck
    assert_success
    assert_line --partial "open files: soft $(ulimit -n), hard $(ulimit -Hn)"
    assert_line --partial "fs.file-max: $(cat /proc/sys/fs/file-max) "
    assert_line "fs.nr_open: $(cat /proc/sys/fs/nr_open)"
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    assert_line --partial "ephemeral ports: $lo-$hi: "
    assert_line --partial "net.core.somaxconn: $(cat /proc/sys/net/core/somaxconn) "
    assert_line --regexp '^binds first: '
    refute_output --partial $'\r'
}

@test "a lowered open-files limit is what the report sees, and what binds first" {
    run bash -c "ulimit -n 300 && exec '$PW' portcheck --json"
    assert_success
    [ "$(jq -r .nofile_soft <<<"$output")" = 300 ]
    [ "$(jq -r .nofile_hard <<<"$output")" = 300 ]
    cap=$(jq -r .capacity.open_files <<<"$output")
    [ "$cap" -le 300 ] && [ "$cap" -ge 250 ]
    [ "$(jq -r .binds_first <<<"$output")" = open_files ]
    [ "$(jq -r .max_connections <<<"$output")" = "$cap" ]
    jq -r '.commands[]' <<<"$output" | grep -q '^ulimit -Hn '
}

@test "a soft limit below the hard one can be raised: the command is ulimit -n" {
    run bash -c "ulimit -Sn 300 && exec '$PW' portcheck --json"
    assert_success
    [ "$(jq -r .nofile_raise <<<"$output")" = hard ]
    jq -r '.commands[]' <<<"$output" | grep -qx 'ulimit -n [0-9]*'
}

@test "--target above the open-files limit exits 1 and names the limit" {
    run bash -c "ulimit -n 300 && exec '$PW' portcheck --target 1000"
    assert_failure 1
    assert_output --partial 'target 1000: blocked by open files (RLIMIT_NOFILE soft) (open_files)'
    assert_output --partial 'pushwire portcheck: target 1000 is not reachable: open files'
    run bash -c "ulimit -n 300 && exec '$PW' portcheck --target 1000 --json"
    assert_failure 1
    [ "$(jq -r .target_ok <<<"$output")" = false ]
    [ "$(jq -r '.blocked_by[0]' <<<"$output")" = open_files ]
}

@test "--target below every limit exits 0" {
    run "$PW" portcheck --target 100
    assert_success
    assert_output --partial 'target 100: reachable'
    run "$PW" portcheck --target 100 --json
    assert_success
    [ "$(jq -r .target_ok <<<"$output")" = true ]
}

@test "--target past the ephemeral ports names them, and --source or --server lifts them" {
    ports=$(jq -r .port_range_size < <("$PW" portcheck --json))
    run "$PW" portcheck --target $((ports + 10)) --json
    assert_failure 1
    jq -r '.blocked_by[]' <<<"$output" | grep -qx ports
    jq -r '.commands[]' <<<"$output" | grep -q -- '--source 127.0.0.2-127.0.0.'
    run "$PW" portcheck --json --source 127.0.0.2-127.0.0.3
    [ "$(jq -r .capacity.ports <<<"$output")" = $((ports * 2)) ]
    [ "$(jq -r .sources <<<"$output")" = 2 ]
    run "$PW" portcheck --json --server
    [ "$(jq -r .capacity.ports <<<"$output")" = null ]
    [ "$(jq -r .binds_first <<<"$output")" != ports ]
}

@test "--json prints one object with every documented key" {
    run "$PW" portcheck --json
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    keys=$(jq -r 'keys_unsorted | join(" ")' <<<"$output")
    assert_equal "$keys" "nofile_soft nofile_hard nofile_raise cap_sys_resource fds_open file_max nr_open files_in_use port_range port_range_size sources somaxconn tcp_max_syn_backlog tcp_tw_reuse conntrack_max conntrack_count mem_available per_conn_bytes per_conn server capacity binds_first max_connections next_limit target target_ok blocked_by commands"
    ckeys=$(jq -r '.capacity | keys_unsorted | join(" ")' <<<"$output")
    assert_equal "$ckeys" "open_files file_max nr_open ports conntrack tcp_mem memory"
    for k in nofile_soft file_max somaxconn; do
        grep -q "Li $k" "$TOP/man/pushwire-portcheck.1" || fail "$k is not documented"
    done
}

@test "a probe to a closed port reports ECONNREFUSED and exits 4" {
    p=$(closed_port)
    run "$PW" portcheck "127.0.0.1:$p" --connections 20
    assert_failure 4
    assert_output --partial 'first error: ECONNREFUSED at attempt 1 (connect'
    assert_output --partial 'connection refused'
    run "$PW" portcheck "127.0.0.1:$p" --connections 20 --json
    assert_failure 4
    [ "$(jq -r .first_error.error <<<"$output")" = ECONNREFUSED ]
    [ "$(jq -r .errors.econnrefused <<<"$output")" = 20 ]
    [ "$(jq -r .connected <<<"$output")" = 0 ]
}

@test "a probe to a closed IPv6 port reports ECONNREFUSED too" {
    [ -e /proc/net/if_inet6 ] || missing "no IPv6"
    p=$(closed_port)
    run "$PW" portcheck "[::1]:$p" --connections 3 --json
    [ "$status" -eq 4 ] || missing "no IPv6 loopback here (exit $status)"
    [ "$(jq -r .first_error.error <<<"$output")" = ECONNREFUSED ]
    [ "$(jq -r .destination <<<"$output")" = "[::1]:$p" ]
}

@test "--rate and --parallel pace the probe, and every connection still opens" {
    start_listener
    run "$PW" portcheck "127.0.0.1:$LPORT" --connections 100 --rate 400 --parallel 4 --json
    assert_success
    [ "$(jq -r .held <<<"$output")" = 100 ]
    [ "$(jq -r .connect_ms.p50 <<<"$output")" != null ]
}

@test "--json without --ws has every key of the man page: upgraded and upgrade_ms are null" {
    start_listener
    run "$PW" portcheck "127.0.0.1:$LPORT" --connections 3 --json
    assert_success
    run jq -c '[has("upgraded"), .upgraded, has("upgrade_ms"), .upgrade_ms, (keys_unsorted | join(","))]' <<<"$output"
    assert_output '[true,null,true,null,"destination,connections,ws,sources,nofile_soft,nofile_hard,attempted,connected,upgraded,held,failed,dropped,hold,open_secs,rate,connect_ms,upgrade_ms,errors,first_error,interrupted,exit"]'
}

@test "a probe past its own open-files limit reports EMFILE as the cause" {
    start_listener
    run bash -c "ulimit -n 200 && exec '$PW' portcheck 127.0.0.1:$LPORT --connections 500"
    assert_failure 1
    assert_output --partial 'first error: EMFILE'
    assert_output --partial 'open-files limit (RLIMIT_NOFILE): soft 200, hard 200'
    assert_line 'limit hit: open_files'
    assert_output --partial 'expect EMFILE'
    run bash -c "ulimit -n 200 && exec '$PW' portcheck 127.0.0.1:$LPORT --connections 500 --json 2>/dev/null"
    assert_failure 1
    [ "$(jq -r .first_error.error <<<"$output")" = EMFILE ]
    [ "$(jq -r .first_error.limit <<<"$output")" = open_files ]
    held=$(jq -r .held <<<"$output")
    [ "$held" -gt 150 ] && [ "$held" -lt 200 ]
}

@test "the probe raises its soft open-files limit to the hard limit and says so" {
    start_listener
    run bash -c "ulimit -Sn 100 && exec '$PW' portcheck 127.0.0.1:$LPORT --connections 150 --json"
    assert_success
    assert_line --partial 'raised the open-files soft limit from 100 to '
    j=$(grep '^{' <<<"$output")
    [ "$(jq -r .held <<<"$j")" = 150 ]
    [ "$(jq -r .nofile_soft <<<"$j")" = "$(ulimit -Hn)" ]
}

@test "--source spreads connections over the source addresses" {
    start_listener "$BATS_TEST_TMPDIR/peers"
    run "$PW" portcheck "127.0.0.1:$LPORT" --connections 300 --source 127.0.0.2-127.0.0.4,127.0.0.9
    assert_success
    for i in $(seq 50); do [ "$(wc -l <"$BATS_TEST_TMPDIR/peers")" -ge 300 ] && break; sleep 0.1; done
    run sort -u "$BATS_TEST_TMPDIR/peers"
    assert_output $'127.0.0.2\n127.0.0.3\n127.0.0.4\n127.0.0.9'
    [ "$(grep -c '^127.0.0.9$' "$BATS_TEST_TMPDIR/peers")" = 75 ]
}

# ns_probe ARGS… — in a fresh network namespace whose ephemeral port range is
# 100 ports, start a listener and probe it with ARGS
ns_probe() {
    unshare -n true 2>/dev/null || missing "cannot create a network namespace here"
    run timeout 60 unshare -n bash -c '
        ip link set lo up && sysctl -qw net.ipv4.ip_local_port_range="40000 40099" || exit 99
        pf=$(mktemp); /usr/bin/python3 "$2/tests/cli/tcp_hold.py" >"$pf" 2>/dev/null &
        l=$!; for i in $(seq 100); do p=$(head -n 1 "$pf"); [ -n "$p" ] && break; sleep 0.05; done
        pw=$1; shift 2
        "$pw" portcheck "127.0.0.1:$p" "$@"; rc=$?
        kill $l; rm -f "$pf"; exit $rc' _ "$PW" "$TOP" "$@"
    [ "$status" -ne 99 ] || missing "cannot set the port range in a namespace here"
}

@test "past the ephemeral ports of one source address the probe reports EADDRNOTAVAIL" {
    ns_probe --connections 150 --json
    assert_failure 1
    j=$(grep '^{' <<<"$output")
    [ "$(jq -r .first_error.error <<<"$j")" = EADDRNOTAVAIL ]
    [ "$(jq -r .first_error.limit <<<"$j")" = ports ]
    [ "$(jq -r .held <<<"$j")" -le 100 ]
    assert_output --partial 'expect EADDRNOTAVAIL (add --source)'
}

@test "more source addresses go past the ephemeral ports of one" {
    ns_probe --connections 150 --source 127.0.0.2-127.0.0.3 --json
    assert_success
    [ "$(jq -r .held <<<"$output")" = 150 ]
    ns_probe --connections 250 --source 127.0.0.2-127.0.0.3
    assert_failure 1
    assert_output --regexp 'first error: EADDRNOTAVAIL at attempt [0-9]+ \(connect, from 127\.0\.0\.[23]'
    assert_line 'limit hit: ports'
}

@test "on a terminal: a table, and a progress line rewritten in place" {
    command -v script >/dev/null || missing "script(1) (bsdutils) is not installed"
    start_listener
    run timeout 60 script -qec "'$PW' portcheck 127.0.0.1:$LPORT --connections 300 --hold 0.3" /dev/null
    assert_success
    assert_output --partial $'\r'
    assert_output --regexp 'opening|holding|done'
    assert_output --partial 'probe 127.0.0.1:'
    run timeout 30 script -qec "'$PW' portcheck" /dev/null
    assert_success
    assert_output --partial '<- binds first'
}

@test "--ws against a server that is not WebSocket reports the refusal and exits 6" {
    timeout 60 "$PY" -m http.server --bind 127.0.0.1 0 >"$BATS_TEST_TMPDIR/http" 2>&1 3>&- &
    LISTEN_PID=$!
    for i in $(seq 100); do
        p=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/http" | head -n 1)
        [ -n "$p" ] && break; sleep 0.05
    done
    [ -n "$p" ]
    run "$PW" portcheck "127.0.0.1:$p" --connections 3 --parallel 1 --ws /nowhere
    assert_failure 6
    assert_output --partial 'first error: HTTP 404'
    assert_output --partial 'refused the WebSocket upgrade with status 404'
}

@test "failures of several causes are all counted in the text report, not only the first" {
    # the first upgrade gets a 503, the next two a reset: three causes of
    # failure a user must see, where the first error names only one
    local pf="$BATS_TEST_TMPDIR/mport"
    : >"$pf"
    timeout 60 "$PY" -c '
import socket, struct
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16); print(s.getsockname()[1], flush=True)
s.settimeout(30)
for i in range(3):
    c, _ = s.accept(); c.settimeout(5); c.recv(65536)
    if i == 0:
        c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
    else:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
' >"$pf" 2>/dev/null 3>&- &
    LISTEN_PID=$!
    for i in $(seq 100); do
        p=$(head -n 1 "$pf"); [ -n "$p" ] && break; sleep 0.05
    done
    [ -n "$p" ] || fail "the test peer did not start"
    run "$PW" portcheck "127.0.0.1:$p" --connections 3 --parallel 1 --ws /x
    assert_failure 6
    assert_line 'failed: 3'
    assert_line 'failed by cause: reset 2, upgrade 1'
    assert_output --partial 'first error: HTTP 503'
}

@test "an upgrade that is never answered times out and exits 7" {
    start_listener
    run "$PW" portcheck "127.0.0.1:$LPORT" --connections 5 --ws /ws/x --timeout 0.5
    assert_failure 7
    assert_output --partial 'first error: ETIMEDOUT'
    assert_output --partial '(upgrade'
}

@test "a live probe holds 15000 connections (server in another process)" {
    if have_serve; then
        start_serve --max-conns 20000
        port=$SERVE_PORT
        ws=()
        # WebSocket upgrades on every connection once serve speaks WebSocket
        if "$PW" portcheck "127.0.0.1:$port" --connections 1 --ws /ws/test >/dev/null 2>&1; then
            ws=(--ws /ws/test)
        fi
    else
        start_listener
        port=$LPORT
        ws=()
    fi
    run timeout 150 "$PW" portcheck "127.0.0.1:$port" --connections 15000 "${ws[@]}" --hold 1 \
        --timeout 60 --json
    assert_success
    [ "$(jq -r .attempted <<<"$output")" = 15000 ]
    [ "$(jq -r .held <<<"$output")" = 15000 ]
    [ "${#ws[@]}" -eq 0 ] || [ "$(jq -r .upgraded <<<"$output")" = 15000 ]
    [ "$(jq -r .failed <<<"$output")" = 0 ]
    [ "$(jq -r .dropped <<<"$output")" = 0 ]
    [ "$(jq -r .first_error <<<"$output")" = null ]
}

@test "bad arguments exit 2 and name the problem" {
    run "$PW" portcheck --bogus
    assert_failure 2
    run "$PW" portcheck --target abc
    assert_failure 2
    assert_output --partial 'bad value for --target'
    run "$PW" portcheck 127.0.0.1:1 --connections 0
    assert_failure 2
    assert_output --partial 'bad value for --connections'
    run "$PW" portcheck --source 127.0.0.9-127.0.0.2
    assert_failure 2
    assert_output --partial 'the range ends before it starts'
    run "$PW" portcheck --source not-an-address
    assert_failure 2
    run "$PW" portcheck 127.0.0.1:1
    assert_failure 2
    assert_output --partial 'needs --connections N'
    run "$PW" portcheck --connections 5
    assert_failure 2
    assert_output --partial 'need HOST:PORT'
    run "$PW" portcheck 127.0.0.1 --connections 5
    assert_failure 2
    assert_output --partial 'expected HOST:PORT'
    run "$PW" portcheck 127.0.0.1:70000 --connections 5
    assert_failure 2
    run "$PW" portcheck 127.0.0.1:1 127.0.0.1:2 --connections 5
    assert_failure 2
    run "$PW" portcheck 127.0.0.1:1 --connections 5 --ws nopath
    assert_failure 2
    run "$PW" portcheck 127.0.0.1:1 --connections 5 --timeout 0
    assert_failure 2
    run "$PW" portcheck 127.0.0.1:1 --connections 5 --source ::1
    assert_failure 2
    assert_output --partial 'different families'
}
