#!/usr/bin/python3
"""serve_peer.py — small clients for tests/cli/serve.bats.

Raw sockets for what a friendly client library will not send (bad frames,
dribbled heads), Debian's python3-websockets for ordinary WebSocket use.
Every operation is bounded in time.  Usage: serve_peer.py SCENARIO PORT [ARGS]
"""
import asyncio
import base64
import json
import os
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def connect(port, rcvbuf=None, tls=False):
    """TCP to the server (TLS without verifying the certificate if tls)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((HOST, port))
    if tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    return s


def read_until_close(s, limit=5.0):
    out = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            out += b"<RESET>"
            break
        if not d:
            out += b"<EOF>"
            break
        out += d
    return out


def recv_to(s, marker, what):
    """bytes from s until they hold marker; exits naming what if s closes"""
    buf = b""
    while marker not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit(f"{what}: closed before {marker!r}")
        buf += d
    return buf


def ws_open(port, path="/ws/t", extra="", rcvbuf=None, tls=False):
    s = connect(port, rcvbuf, tls)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            raise SystemExit("closed during handshake: " + head.decode())
        head += d
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: " + head.decode())
    return s


def frame(op, payload, mask=True, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    if n < 126:
        h = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        h = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return h + payload
    k = os.urandom(4)
    return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))


def read_frames(s, limit=5.0):
    """Server frames until close/EOF: list of (opcode, payload)."""
    data = read_until_close(s, limit)
    frames = []
    i = 0
    while i + 2 <= len(data):
        op = data[i] & 0x0F
        n = data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if j + n > len(data):
            break
        frames.append((op, data[j:j + n]))
        i = j + n
    return frames


def close_code(frames):
    for op, p in frames:
        if op == 8:
            return struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
    return None


# ---- scenarios ----

def sc_raw(port, text, secs="2"):
    """send TEXT (with \\r\\n escapes) and print what comes back"""
    s = connect(port)
    s.sendall(text.encode().decode("unicode_escape").encode("latin-1"))
    sys.stdout.write(read_until_close(s, float(secs)).decode("latin-1"))


def sc_dribble(port, secs="8"):
    """send a head one byte a second; print when the server drops us"""
    s = connect(port)
    t0 = time.time()
    for c in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
        try:
            s.sendall(bytes([c]))
        except OSError:
            break
        s.settimeout(1)
        try:
            d = s.recv(100)
            if not d:
                print("dropped")
                return
        except socket.timeout:
            pass
        if time.time() - t0 > float(secs):
            break
    print("still open")


def sc_trickle(port, pieces, gap, stall="0"):
    """POST /pub/slow with a body of PIECES bytes, one byte every GAP s
    (then, with STALL, stop after half of it for up to STALL s); print the
    answer's status line, or 'dropped after N bytes' when the server closes
    first"""
    n = int(pieces)
    s = connect(port)
    s.sendall(b"POST /pub/slow HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n)
    stop = n // 2 if float(stall) > 0 else n
    for i in range(stop):
        time.sleep(float(gap))
        try:
            s.sendall(b"b")
        except OSError:
            print("dropped after %d bytes" % i)
            return
    d = read_until_close(s, float(stall) if stop < n else 10)
    if not d.startswith(b"HTTP/"):
        print("dropped after %d bytes" % stop)
    else:
        print(d.split(b"\r\n", 1)[0].decode("latin-1"))


def sc_ws_bad(port, kind):
    """a WebSocket that breaks a rule; prints the close code the server sent"""
    s = ws_open(port, "/ws/bad")
    if kind == "unmasked":
        s.sendall(frame(1, b"hi", mask=False))
    elif kind == "utf8":
        s.sendall(frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
    elif kind == "rsv":
        s.sendall(frame(1, b"hi", rsv=2))
    elif kind == "opcode":
        s.sendall(frame(3, b""))
    elif kind == "bigping":
        s.sendall(frame(9, b"x" * 126))
    elif kind == "fragping":
        s.sendall(frame(9, b"x", fin=False))
    elif kind == "cont":
        s.sendall(frame(0, b"x"))
    elif kind == "closecode":
        s.sendall(frame(8, struct.pack("!H", 1005)))
    elif kind == "big":
        s.sendall(frame(2, b"x" * 2000))
    print(close_code(read_frames(s)))


def sc_ws_frag(port):
    """fragmented text with a ping in between, on --echo: one message back"""
    s = ws_open(port, "/ws/e")
    s.sendall(frame(1, b"Hel", fin=False) + frame(9, b"p") + frame(0, b"lo ", fin=False)
              + frame(0, "wörld".encode()) + frame(8, struct.pack("!H", 1000)))
    for op, p in read_frames(s):
        print(op, p.decode("utf-8", "replace") if op != 8 else struct.unpack("!H", p[:2])[0])


def sc_ws_silent(port, secs="6"):
    """never answer pings; print how the connection ended"""
    s = ws_open(port, "/ws/silent")
    fr = read_frames(s, float(secs))
    ops = [op for op, _ in fr]
    print("pings" if 9 in ops else "no-ping", "closed" if fr is not None else "")


def sc_ws_slow_sub(port):
    """subscribe and never read (tiny receive buffer); hold for a while"""
    s = connect(port, rcvbuf=4096)
    s.sendall(b"GET /sse/slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(float(os.environ.get("HOLD", "4")))
    print("held")


async def _ws(port, path, proto=None, compression=None):
    import websockets
    return await websockets.connect(f"ws://{HOST}:{port}{path}",
                                    subprotocols=[proto] if proto else None,
                                    compression=compression, open_timeout=5)


def sc_ws_recv(port, path, n, proto=""):
    """connect, print the first N messages (binary as b64:...)"""
    async def run():
        ws = await _ws(port, path, proto or None)
        print("subprotocol", ws.subprotocol)
        sys.stdout.flush()
        for _ in range(int(n)):
            m = await asyncio.wait_for(ws.recv(), 5)
            print(m if isinstance(m, str) else "b64:" + base64.b64encode(m).decode())
            sys.stdout.flush()
        await ws.close()
    asyncio.run(run())


def sc_ws_send(port, path, *msgs):
    """send each message (b64:... for binary), close normally"""
    async def run():
        ws = await _ws(port, path)
        for m in msgs:
            await ws.send(base64.b64decode(m[4:]) if m.startswith("b64:") else m)
        await ws.close()
        print("closed", ws.close_code)
    asyncio.run(run())


def read_acks(s, n):
    """Reads publish answers from s until n are 200 or the server closes;
    returns how many were"""
    got = b""
    while got.count(b"HTTP/1.1 200") < n:
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got.count(b"HTTP/1.1 200")


def sc_pub_flood(port, channel, n, size):
    """POST N messages of SIZE bytes, pipelined on one keep-alive connection"""
    import threading
    n = int(n)
    s = connect(port)
    s.settimeout(30)
    req = (f"POST /pub/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n"
           + "z" * int(size)).encode()
    t = threading.Thread(target=lambda: [s.sendall(req) for _ in range(n)])
    t.start()
    got = read_acks(s, n)
    t.join()
    print("published", got)


def sc_sse_fan(port, channel, subs, n, drop):
    """SUBS event streams on CHANNEL; N messages POSTed pipelined on one
    connection, in 4 bursts; the last DROP streams (the last the server
    writes) reset (SO_LINGER 0) after the first burst, while the server is writing to
    them; prints how many of the others got all N data lines, in order"""
    import selectors
    import threading
    subs, n, drop = int(subs), int(n), int(drop)
    ss = []
    for _ in range(subs):
        s = connect(port)
        s.sendall(f"GET /sse/{channel} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        ss.append(s)
    bufs = {s: b"" for s in ss}
    for s in ss:  # the head, and so the subscription, before publishing
        while b"\r\n\r\n" not in bufs[s]:
            d = s.recv(65536)
            if not d:
                raise SystemExit("stream closed before its head")
            bufs[s] += d
    p = connect(port)
    p.settimeout(30)
    reqs = [f"POST /pub/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(str(i))}"
            f"\r\n\r\n{i}".encode() for i in range(n)]
    half = threading.Event()

    def publish():  # in 4 bursts: the resets come between them
        for k in range(4):
            p.sendall(b"".join(reqs[k * n // 4:(k + 1) * n // 4]))
            if k == 0:
                half.set()
        half.set()
    t = threading.Thread(target=publish)
    t.start()
    keep = ss[:subs - drop]
    if drop:
        half.wait(10)
        for s in ss[subs - drop:]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
    sel = selectors.DefaultSelector()
    for s in keep:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    want = [f"data: {i}".encode() for i in range(n)]
    done, end = set(), time.time() + 30
    while len(done) < len(keep) and time.time() < end:
        for k, _ in sel.select(1):
            d = k.fileobj.recv(65536)
            if not d:
                sel.unregister(k.fileobj)
                continue
            bufs[k.fileobj] += d
            got = [ln for ln in bufs[k.fileobj].split(b"\n") if ln.startswith(b"data: ")]
            if len(got) >= n:
                if got[:n] == want:
                    done.add(k.fileobj)
                sel.unregister(k.fileobj)
    t.join()
    print("published", read_acks(p, n))
    print("in order", len(done), "of", len(keep))


def _pub_ka(p, channel, data):
    """POST data on keep-alive socket p; waits for its answer"""
    p.sendall(f"POST /pub/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}"
              f"\r\n\r\n{data}".encode())
    if read_acks(p, 1) != 1:
        raise SystemExit("publish failed")


def _stream_writes(port):
    m = connect(port)
    m.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    for ln in read_until_close(m).split(b"\n"):
        if ln.startswith(b"pushwire_stream_writes_total "):
            return int(ln.split()[1])
    raise SystemExit("no pushwire_stream_writes_total")


def sc_sse_delay(port, pid):
    """an event stream gets m1, then m2..m4 are published (each answered);
    prints what the stream read first, how many writes the server made to
    streams meanwhile, then stops the server (SIGTERM, pid) and prints the
    data lines the stream got until it ended"""
    import signal
    s = connect(port)
    s.sendall(b"GET /sse/d HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"retry:" not in buf:
        buf += s.recv(65536)
    p = connect(port)
    _pub_ka(p, "d", "m1")
    first = recv_to(s, b"data: m1\n\n", "stream")
    print("first", [ln.decode() for ln in first.split(b"\n") if ln.startswith(b"data: ")])
    w0 = _stream_writes(port)
    for m in ("m2", "m3", "m4"):
        _pub_ka(p, "d", m)
    print("writes meanwhile", _stream_writes(port) - w0)
    os.kill(int(pid), signal.SIGTERM)
    rest = read_until_close(s)
    print("then", [ln.decode() for ln in rest.split(b"\n") if ln.startswith(b"data: ")],
          "end" if rest.endswith(b"<EOF>") else "no end")


def ws_frames_until(s, data, op_end):
    """short server frames from s (data: bytes read before) up to the first
    of opcode op_end: returns (["OP:payload", ...], what was read past it)"""
    got = []
    while True:
        while len(data) >= 2 and len(data) >= 2 + (data[1] & 0x7F):
            n = data[1] & 0x7F  # the tests' frames are short
            op, pl, data = data[0] & 0x0F, data[2:2 + n], data[2 + n:]
            got.append(f"{op}:{pl.decode()}")
            if op == op_end:
                return got, data
        d = s.recv(65536)
        if not d:
            raise SystemExit("closed: " + " ".join(got))
        data += d


def sc_ws_delay(port):
    """a WebSocket subscriber gets m1; m2 is published (held with a long
    --write-delay); then it pings: prints the frames up to the pong"""
    s = ws_open(port, "/ws/wd")
    p = connect(port)
    _pub_ka(p, "wd", "m1")
    got, data = ws_frames_until(s, b"", 1)
    _pub_ka(p, "wd", "m2")
    s.sendall(frame(9, b"p"))
    more, _ = ws_frames_until(s, data, 10)
    print(" ".join(got + more))


def _stopped(pid, stop):
    """SIGSTOP (stop) or SIGCONT pid; a stop waits (5 s at most) until it
    has taken effect (state T in /proc/PID/stat)"""
    import signal
    os.kill(pid, signal.SIGSTOP if stop else signal.SIGCONT)
    end = time.time() + 5
    while stop and time.time() < end:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
        time.sleep(0.01)
    if stop:
        raise SystemExit("the server did not stop")


def _data_lines(b):
    return [ln.decode() for ln in b.split(b"\n") if ln.startswith(b"data: ")]


def _recv_now(s):
    """what s has received already (no wait)"""
    s.setblocking(False)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except BlockingIOError:
        pass
    s.settimeout(5)
    return got


def _sse_streams(port, channel, n):
    """n event streams on channel, each subscribed (its head read)"""
    ss = []
    for _ in range(n):
        t = connect(port)
        t.sendall(f"GET /sse/{channel} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        ss.append(t)
    for t in ss:
        recv_to(t, b"retry:", "stream")
    return ss


def _post(channel, body, pad=0):
    """a POST of body to channel, its head padded with pad bytes"""
    x = f"X-Pad: {'x' * pad}\r\n" if pad else ""
    return (f"POST /pub/{channel} HTTP/1.1\r\nHost: x\r\n{x}Content-Length: {len(body)}"
            f"\r\n\r\n{body}").encode()


def _burst(port, pid, reqs):
    """reqs sent on one connection while the server (pid) is stopped, so
    that all of it is there when it reads again; waits for their answers"""
    p = connect(port)
    _stopped(pid, True)
    try:
        p.sendall(b"".join(reqs))  # (the socket's buffer takes 100 KiB and more)
    finally:
        _stopped(pid, False)
    p.settimeout(30)
    if read_acks(p, len(reqs)) != len(reqs):
        raise SystemExit("burst not answered")
    return p


# --max-message 64 --send-buffer 16384 (made max-message + 16 KiB = 16448):
# a read takes 8224 bytes (half of it), SRV_READ_ROUNDS = 4 reads a turn
BURST_TURN = 4 * 8224


def sc_behind(port, pid, pause="0"):
    """--write-delay-adaptive with the loop behind, then (PAUSE > 0) not.
    An event stream S and a WebSocket W on channel q; 200 event streams on
    wide (more than one check phase writes: SRV_FLUSH_SLICE) get a burst of
    28 messages, each POST's head padded to 2 KiB: 58 KiB, which the server
    reads over two loop turns (_burst, BURST_TURN), so a wide stream the
    first check phase did not reach gets the next turn's message while
    still waiting with the first, and its write marks the loop behind.
    Then S and W get m1 (written at once: they were not held), two more
    messages go to wide (each answered: two loop turns, while the wide
    streams are held), PAUSE seconds pass, m2 and m3 are published (each
    answered); prints what S and W read first, the server's stream writes
    meanwhile, W's frames up to the pong of a ping it sends then, and,
    after SIGTERM (pid), the data lines S got until it ended"""
    import signal
    pid = int(pid)
    s, = _sse_streams(port, "q", 1)
    w = ws_open(port, "/ws/q")
    wide = _sse_streams(port, "wide", 200)  # (kept open till the end)
    p = _burst(port, pid, [_post("wide", f"w{i}", 2048) for i in range(28)])
    q = connect(port)
    _pub_ka(q, "q", "m1")
    first = recv_to(s, b"data: m1\n\n", "stream")
    got, data = ws_frames_until(w, b"", 1)
    print("first", _data_lines(first), " ".join(got))
    for m in ("x1", "x2"):
        _pub_ka(p, "wide", m)
    time.sleep(float(pause))
    w0 = _stream_writes(port)
    for m in ("m2", "m3"):
        _pub_ka(q, "q", m)
    print("writes meanwhile", _stream_writes(port) - w0)
    w.sendall(frame(9, b"p"))
    got, _ = ws_frames_until(w, data, 10)
    print("ws", " ".join(got))
    os.kill(pid, signal.SIGTERM)
    rest = read_until_close(s)
    print("then", _data_lines(rest), "end" if rest.endswith(b"<EOF>") else "no end")
    del wide


def sc_behind_release(port, pid):
    """--write-delay-adaptive: a stream held in the loop turn the loop was
    last behind, let go when its delay ends, is not held again.
    An event stream S on q and 200 on wide (more than one check phase
    writes: SRV_FLUSH_SLICE); a burst the server reads over three loop
    turns (_burst, BURST_TURN; POSTs to channel none with a 2 KiB head fill
    the turns): w0 (wide) and q0 (q) in the first, w1 and q1 in the second,
    q2 in the third.  The first check phase writes 127 wide streams; the
    second the other 73 and S, each still waiting with the first turn's
    message: the loop is behind, and they are held; q2 comes while S is.
    Prints what S read first, what it has once the burst is answered and a
    later request too (nothing: its delay is not over), what it gets when
    the delay ends (q2), then what it has once m2 is published (answered)
    and a later request answered"""
    pid = int(pid)
    s, = _sse_streams(port, "q", 1)
    wide = _sse_streams(port, "wide", 200)  # (kept open till the end)
    fill = _post("none", "f", 2048)
    burst = [_post("wide", "w0"), _post("q", "q0")]
    for k, msgs in ((1, [("wide", "w1"), ("q", "q1")]), (2, [("q", "q2")])):
        while sum(map(len, burst)) < k * BURST_TURN + 64:  # the next turn's
            burst.append(fill)
        burst += [_post(ch, m) for ch, m in msgs]
    p = _burst(port, pid, burst)
    first = recv_to(s, b"data: q1\n\n", "stream")
    print("first", _data_lines(first))
    _stream_writes(port)  # a request read after q2's turn's check phase
    print("held", _data_lines(first.split(b"data: q1\n\n", 1)[1] + _recv_now(s)))
    print("released", _data_lines(recv_to(s, b"data: q2\n\n", "stream")))
    _pub_ka(p, "q", "m2")
    _stream_writes(port)
    print("then", _data_lines(_recv_now(s)))
    del wide


def sc_ws_echo(port, compression=""):
    """--echo: send and get it back; a second client hears nothing"""
    async def run():
        a = await _ws(port, "/ws/e", compression="deflate" if compression else None)
        b = await _ws(port, "/ws/e")
        if compression:
            print("ext", a.response_headers.get("Sec-WebSocket-Extensions", "none"))
        await a.send("ping me " * 20)
        print(await asyncio.wait_for(a.recv(), 5) == "ping me " * 20)
        await a.send(b"\x00\xff")
        print(await asyncio.wait_for(a.recv(), 5) == b"\x00\xff")
        pong = await a.ping(b"x")
        await asyncio.wait_for(pong, 5)
        print("pong")
        try:
            await asyncio.wait_for(b.recv(), 0.5)
            print("b heard something")
        except asyncio.TimeoutError:
            print("b heard nothing")
        await a.close()
        await b.close()
    asyncio.run(run())


def sc_ws_wait_close(port, path):
    """connect, print the close code when the server closes"""
    async def run():
        import websockets
        ws = await _ws(port, path)
        print("open")
        sys.stdout.flush()
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as e:
            print("close", e.rcvd.code if e.rcvd else None)
    asyncio.run(run())


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for " + pid)


def _ws_burst(port, n, path):
    """N WebSockets opened at once: every connect, then every handshake
    sent, then every 101 read (as a crowd of clients arrives)"""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(10)
        s.connect((HOST, port))
        socks.append(s)
    req = (f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    for s in socks:
        s.sendall(req)
    for s in socks:
        head = recv_to(s, b"\r\n\r\n", "handshake")
        if not head.startswith(b"HTTP/1.1 101"):
            raise SystemExit("no 101: " + head.decode(errors="replace"))
    return socks


def sc_ws_hold(port, n, pid, path="/ws/idle"):
    """after a warm-up of 200, N idle WebSockets opened at once; prints the
    server's RSS growth per connection 1.5 s later (its tick has run), then
    holds them until stdin closes"""
    n = int(n)
    for s in _ws_burst(port, 200, path):
        s.close()
    time.sleep(1.0)
    base = _rss_kib(pid)
    socks = _ws_burst(port, n, path)
    time.sleep(1.5)
    grown = _rss_kib(pid) - base
    print(f"open {len(socks)} rss_per_conn {grown * 1024 // n}", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    name, port, *args = sys.argv[1:]
    globals()["sc_" + name.replace("-", "_")](int(port), *args)
