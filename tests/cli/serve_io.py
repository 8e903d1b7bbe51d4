#!/usr/bin/python3
"""serve_io.py — raw clients for tests/cli/serve_io.bats: what the server's
own socket I/O (one epoll per loop, src/server/srv_io.c) must do that libuv
did before: slow readers that need many writable events, many connections
ending in one batch of events, accepting while out of file descriptors.

Every operation is bounded in time.  Usage: serve_io.py SCENARIO PORT [ARGS]
"""
import hashlib
import os
import signal
import socket
import struct
import sys
import time

# the raw WebSocket pieces are serve_peer.py's (same directory)
from serve_peer import HOST, connect, frame, recv_to, ws_open


def recv_exact(s, n, deadline, pace=0.0):
    out = bytearray()
    while len(out) < n:
        if time.time() > deadline:
            raise SystemExit(f"timed out after {len(out)} of {n} bytes")
        d = s.recv(min(16384, n - len(out)))
        if not d:
            raise SystemExit(f"closed after {len(out)} of {n} bytes")
        out += d
        if pace:
            time.sleep(pace)
    return bytes(out)


def ws_payload(s, deadline, pace=0.0):
    """One unmasked server frame: (opcode, payload)."""
    b0, b1 = recv_exact(s, 2, deadline)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2, deadline))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8, deadline))[0]
    return b0 & 0x0F, recv_exact(s, n, deadline, pace)


def sc_slow_big(port, size, count="3"):
    """A WebSocket subscriber with a 4 KiB receive buffer reads COUNT messages
    of SIZE bytes (POSTed at once: more than the server's socket can hold)
    16 KiB at a time: each takes the server many writable events.  Prints
    how many came back byte for byte."""
    size, count = int(size), int(count)
    sub = ws_open(port, "/ws/big", rcvbuf=4096)
    pub = connect(port)
    pub.settimeout(30)
    want = []
    for i in range(count):
        body = hashlib.sha256(str(i).encode()).digest() * (size // 32)
        want.append(body)
        pub.sendall(f"POST /pub/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream"
                    f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    ok = 0
    deadline = time.time() + 60
    for i in range(count):
        while True:
            op, p = ws_payload(sub, deadline, pace=0.0005)
            if op in (1, 2):
                break
        ok += p == want[i]
    print("intact", ok, "of", count)


def sc_batch_end(port, pid, n):
    """N SSE subscribers, N WebSockets and a publisher; the server is
    stopped (SIGSTOP) while the publisher sends a message for the
    subscribers and then every subscriber resets and every WebSocket sends
    its close: on SIGCONT one batch of events holds them all (the message
    queued for connections the same batch then closes)."""
    pid, n = int(pid), int(n)
    subs = []
    for _ in range(n):
        s = connect(port)
        s.sendall(b"GET /sse/batch HTTP/1.1\r\nHost: x\r\n\r\n")
        subs.append(s)
    for s in subs:  # the head, and so the subscription
        recv_to(s, b"\r\n\r\n", "stream")
    wss = [ws_open(port, "/ws/batch-ws") for _ in range(n)]
    pub = connect(port)
    os.kill(pid, signal.SIGSTOP)
    try:
        pub.sendall(b"POST /pub/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        time.sleep(0.05)  # after the publisher's bytes (epoll reports in order of readiness)
        for s in subs:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        for w in wss:
            w.sendall(frame(8, struct.pack("!H", 1000)))
    finally:
        os.kill(pid, signal.SIGCONT)
    pub.settimeout(10)
    ack = b""
    while b"}" not in ack:
        d = pub.recv(4096)
        if not d:
            break
        ack += d
    print("published", b'"id"' in ack)
    closed = 0
    for w in wss:
        w.settimeout(10)
        data = b""
        try:
            while True:
                d = w.recv(4096)
                if not d:
                    break
                data += d
        except (ConnectionResetError, socket.timeout):
            pass
        closed += data.startswith(b"\x88")
    print("ws closes answered", closed, "of", n)


def sc_fd_flood(port, n):
    """N connections at once, each asking for an event stream, held open:
    prints how many were served (a 200) and how many the server ended
    unserved; then closes them all."""
    n = int(n)
    ss = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(10)
        s.connect((HOST, port))
        s.sendall(b"GET /sse/fd HTTP/1.1\r\nHost: x\r\n\r\n")
        ss.append(s)
    served = ended = 0
    for s in ss:
        try:
            d = s.recv(64)
        except (ConnectionResetError, socket.timeout):
            d = b""
        if d.startswith(b"HTTP/1.1 200"):
            served += 1
        elif not d:
            ended += 1
    print("served", "some" if served else "none")
    print("ended unserved", "some" if ended else "none")
    print("total", served + ended == n)
    for s in ss:
        s.close()


def sc_self_flood(port, pid, n, tls=""):
    """A pushwire.v1 WebSocket that publishes N short messages to the channel
    it reads, as many as the kernel takes sent while the server is stopped
    (SIGSTOP), so one read brings thousands; each comes back as an envelope
    ~8x its size.  The client (a 4 KiB receive buffer) starts reading a
    second after SIGCONT, then sends the rest as it reads: the server must
    stop taking input when its queue passes its pause point and go on once
    it drains, not queue one read's answers past --send-buffer.  TLS if
    "tls" is given.  Prints how many came back in order, and the close code
    if one came."""
    import json
    import select
    import ssl
    pid, n = int(pid), int(n)
    s = ws_open(port, "/ws/self", extra="Sec-WebSocket-Protocol: pushwire.v1\r\n", rcvbuf=4096,
                tls=bool(tls))
    s.setblocking(False)
    burst = b"".join(frame(1, str(i).encode()) for i in range(n))
    sent = 0

    def send_some():
        nonlocal sent
        while sent < len(burst):
            try:
                sent += s.send(burst[sent:sent + 16384])
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return

    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.time() + 0.5  # the kernel holds what it can
        while time.time() < deadline and sent < len(burst):
            send_some()
            time.sleep(0.01)
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(1.0)  # the server takes in what it read meanwhile
    buf = bytearray()
    got, close = 0, None
    deadline = time.time() + 60
    while got < n and close is None:
        if time.time() > deadline:
            raise SystemExit(f"timed out after {got} of {n} messages")
        send_some()
        if not (tls and s.pending()):
            select.select([s], [s] if sent < len(burst) else [], [], 0.5)
        try:
            d = s.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            continue
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
        while len(buf) >= 2:  # whole server frames (unmasked) off the front
            k, h = buf[1] & 0x7F, 2
            if k == 126:
                if len(buf) < 4:
                    break
                k, h = struct.unpack("!H", buf[2:4])[0], 4
            elif k == 127:
                if len(buf) < 10:
                    break
                k, h = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < h + k:
                break
            op, p = buf[0] & 0x0F, bytes(buf[h:h + k])
            del buf[:h + k]
            if op == 8:
                close = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                break
            if op == 1:
                if got == 0 and b'"event":"position"' in p and b'"data"' not in p:
                    continue  # the channel's position comes first (no ?since=)
                if json.loads(p)["data"] != str(got):
                    raise SystemExit(f"message {got} expected, got {p[:80]!r}")
                got += 1
    print("back in order", got, "of", n)
    print("close", close)

def sc_echo_tiny(port, n):
    """--echo: N tiny text messages (251 different ones in turn) sent in one
    go by a client that reads nothing for two seconds (a 4 KiB receive
    buffer): far more echoes than the socket holds wait in the server's
    queue, thousands from each read.  Then every echo must come back, in
    order, byte for byte.  Prints how many did, and the first that differed."""
    import threading
    n = int(n)
    k = 251
    msgs = [f"{i:03d}-tiny-echo".encode() for i in range(k)]
    s = ws_open(port, "/ws/tiny", rcvbuf=4096)
    cycle = b"".join(frame(1, m) for m in msgs)
    burst = cycle * (n // k) + b"".join(frame(1, m) for m in msgs[:n % k])
    t = threading.Thread(target=s.sendall, args=(burst,), daemon=True)
    t.start()
    time.sleep(2.0)
    deadline = time.time() + 120
    want = b"".join(b"\x81" + bytes([len(m)]) + m for m in msgs)  # the echoes of one turn
    total = len(want) * (n // k) + sum(2 + len(m) for m in msgs[:n % k])
    got = 0
    bad = None
    while got < total:
        if time.time() > deadline:
            bad = f"timed out after {got} of {total} bytes"
            break
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            bad = f"nothing more for 5 s after {got} of {total} bytes"
            break
        if not d:
            bad = f"closed after {got} of {total} bytes"
            break
        at = got % len(want)
        exp = (want * (len(d) // len(want) + 2))[at:at + len(d)]
        if d != exp[:len(d)]:
            i = next(j for j in range(len(d)) if d[j] != exp[j])
            bad = f"byte {got + i} (echo {(got + i) // (2 + len(msgs[0]))}): {d[max(0, i - 8):i + 24]!r}"
            break
        got += len(d)
    t.join(30)
    print("echoed in order", got // (2 + len(msgs[0])), "of", n)
    if bad:
        print("first wrong:", bad)

if __name__ == "__main__":
    name, port, *args = sys.argv[1:]
    globals()["sc_" + name.replace("-", "_")](int(port), *args)
