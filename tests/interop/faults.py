#!/usr/bin/python3
"""faults.py — fault drills against `pushwire serve` (stdlib only; run with
/usr/bin/python3).  Each prints `ok …` lines and exits 0, or `FAIL …` and 1.

  faults.py vanish PORT N       N clients connect and vanish at every stage:
                                mid request head, mid frame header, mid
                                payload, mid SSE stream, mid long poll; half
                                by RST, half by FIN.  Meanwhile a WebSocket
                                subscriber must receive every published message.
  faults.py slow PORT N [CH]    a WebSocket subscriber that never reads, while
                                N messages are published (POST, keep-alive);
                                WS, SSE and poll subscribers must get all N in order
                                and the stalled one must be disconnected.
  faults.py resume PORT N       N messages published at a steady pace while
                                12 clients (WS pushwire.v1 ?since=, SSE
                                Last-Event-ID, poll cursors) keep dropping and
                                resuming; each must end with all N exactly once.
Every wait is bounded.
"""
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conformance import Conn, Fail, frame, OP_TEXT, OP_CLOSE, close_payload  # noqa: E402,F401

WAIT = 30.0
HOST = "127.0.0.1"


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def http_json(port, method, path, body=None, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        b = body.encode() if isinstance(body, str) else (body or b"")
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(b)}\r\nConnection: close\r\n\r\n".encode() + b)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), f"{method} {path}: {head[:60]!r}")
    if b"chunked" in head.lower():
        out, rest = b"", body
        while rest:
            ln, _, rest = rest.partition(b"\r\n")
            n = int(ln, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return json.loads(body)


class Publisher:
    """POST /pub/CHANNEL over one keep-alive connection (a WebSocket publisher
    would itself be a subscriber that must keep reading)."""

    def __init__(self, port, ch):
        self.h = http.client.HTTPConnection(HOST, port, timeout=WAIT)
        self.ch = ch

    def send(self, text):
        self.h.request("POST", f"/pub/{self.ch}", body=text.encode(), headers={"Content-Type": "text/plain"})
        r = self.h.getresponse()
        body = r.read()
        check(r.status == 200, f"POST answered {r.status}: {body[:80]!r}")

    def close(self):
        self.h.close()


class WsPublisher:
    """Publishes over a WebSocket, 100 frames a write; being a subscriber of
    its own channel too, it drains what it is sent in a thread."""

    def __init__(self, port, ch):
        self.c = Conn(HOST, port, f"/ws/{ch}")
        self.c.sock.settimeout(None)
        self.stop = False
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        while not self.stop:
            try:
                if not self.c.sock.recv(1 << 20):
                    return
            except OSError:
                return

    def send_all(self, msgs, pause=0.0):
        for i in range(0, len(msgs), 50):
            self.c.send(b"".join(frame(OP_TEXT, m) for m in msgs[i:i + 50]))
            time.sleep(pause)

    def close(self):
        self.stop = True
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.c.close()


class Reader(threading.Thread):
    """A WebSocket subscriber that records every message text (raw frames)."""

    def __init__(self, port, path, want, proto=None):
        super().__init__(daemon=True)
        self.port, self.path, self.want, self.proto = port, path, want, proto
        self.got, self.err = [], None
        self.ready = threading.Event()

    def run(self):
        try:
            c = Conn(HOST, self.port, self.path)
            self.ready.set()
            while len(self.got) < self.want:
                r = c.recv_message()
                if r[0] == "close":
                    raise Fail(f"subscriber closed by the server with {r[1]} {r[2][:80]!r} after {len(self.got)} messages")
                self.got.append(r[1].decode())
            c.send(frame(OP_CLOSE, close_payload(1000)))
            c.close()
        except Exception as e:  # noqa: BLE001 — reported by the caller
            self.err = f"{type(e).__name__}: {e}"
            self.ready.set()


def expect_all(name, got, want):
    if got == want:
        return
    missing = [m for m in want if m not in set(got)]
    dups = len(got) - len(set(got))
    raise Fail(f"{name}: {len(got)} messages, {len(missing)} missing (first {missing[:3]}), {dups} duplicated, "
               f"order {'kept' if sorted(got, key=want.index) == got else 'broken'}")


# -------------------------------------------------------------- vanish

def vanisher(port, i, ch):
    """One client that goes away at stage i % 8; RST for odd i, FIN for even."""
    s = socket.socket()
    s.settimeout(5)
    s.connect((HOST, port))
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    stage = (i // 2) % 8
    up = (f"GET /ws/{ch} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          + ("Sec-WebSocket-Extensions: permessage-deflate\r\n" if i % 3 == 0 else "") + "\r\n").encode()
    try:
        if stage == 0:                       # nothing at all
            pass
        elif stage == 1:                     # mid request head
            s.sendall(up[: 10 + i % 60])
        elif stage in (2, 3, 4, 5):          # upgraded, then mid frame
            s.sendall(up)
            head = b""
            while b"\r\n\r\n" not in head:
                d = s.recv(4096)
                if not d:
                    return
                head += d
            f = frame(OP_TEXT, f"vanish {i} " + "x" * (i % 300))
            cut = {2: 1, 3: 2 + i % 5, 4: len(f) // 2, 5: len(f) - 1}[stage]
            if stage == 5:
                s.sendall(frame(OP_TEXT, "x" * 200000, fin=False)[:150000])  # mid large fragment
            else:
                s.sendall(f[:cut])
        elif stage == 6:                     # SSE stream open, reading some
            s.sendall(f"GET /sse/{ch} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            s.recv(100)
        else:                                # long poll held
            s.sendall(f"GET /poll/{ch}?timeout=20 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            time.sleep(0.001)
    except OSError:
        pass
    finally:
        s.close()


def vanish(port, n, ch=None):
    ch = f"vanish-{os.getpid()}"
    total = 200
    reader = Reader(port, f"/ws/{ch}-live", total)
    reader.start()
    check(reader.ready.wait(WAIT), "live subscriber did not connect")
    pub = Publisher(port, f"{ch}-live")
    sent = []
    errors = 0
    for i in range(n):
        try:
            vanisher(port, i, ch)
        except OSError:
            errors += 1
        if i % (n // total or 1) == 0 and len(sent) < total:
            m = f"live {len(sent)}"
            pub.send(m)
            sent.append(m)
    while len(sent) < total:
        m = f"live {len(sent)}"
        pub.send(m)
        sent.append(m)
    reader.join(WAIT)
    pub.close()
    check(reader.err is None, f"live subscriber: {reader.err}")
    check(not reader.is_alive(), f"live subscriber got only {len(reader.got)} of {total}")
    expect_all("live subscriber", reader.got, sent)
    check(errors < n // 10, f"{errors} of {n} vanishing clients could not even connect")
    print(f"ok vanish: {n} clients vanished at 8 stages (half RST, half FIN); the live subscriber got all {total} messages in order")


# -------------------------------------------------------------- slow

def slow(port, n, ch=None):
    # subscribers start from "now", so the drill can be run twice on one
    # channel (the second run then finds the backlog full: steady state)
    ch = ch or f"slow-{os.getpid()}"
    # the stalled subscriber: tiny receive buffer, never reads
    st = socket.socket()
    st.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    st.settimeout(10)
    st.connect((HOST, port))
    st.sendall((f"GET /ws/{ch} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = st.recv(1)   # read the answer head only, byte by byte, then stop reading
        check(d, "stalled subscriber: no handshake answer")
        head += d
    check(head.startswith(b"HTTP/1.1 101"), f"stalled subscriber handshake: {head[:40]!r}")

    ws = Reader(port, f"/ws/{ch}", n)
    ws.start()
    check(ws.ready.wait(WAIT), "ws subscriber did not connect")
    sse_got, sse_err = [], []

    def sse():
        try:
            s = socket.create_connection((HOST, port), timeout=WAIT)
            s.sendall(f"GET /sse/{ch} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            buf = b""
            while len(sse_got) < n:
                d = s.recv(65536)
                if not d:
                    raise Fail("SSE stream ended")
                buf += d
                *lines, buf = buf.split(b"\n")
                sse_got.extend(ln[6:].decode() for ln in lines if ln.startswith(b"data: "))
            s.close()
        except Exception as e:  # noqa: BLE001
            sse_err.append(f"{type(e).__name__}: {e}")

    poll_got, poll_err = [], []

    def poll():
        try:
            cursor = None      # no cursor: the next new message (SPEC §3)
            deadline = time.monotonic() + 120
            while len(poll_got) < n and time.monotonic() < deadline:
                b = http_json(port, "GET", f"/poll/{ch}?timeout=5" + (f"&cursor={cursor}" if cursor else ""))
                check(not b["gap"], "poll subscriber saw a gap (backlog too small for the test?)")
                poll_got.extend(m["data"] for m in b["messages"])
                cursor = b["cursor"]
        except Exception as e:  # noqa: BLE001
            poll_err.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=sse, daemon=True), threading.Thread(target=poll, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    pub = WsPublisher(port, ch)
    # 1.5 kB each: 10 000 of them are more than the kernel's socket buffers
    # can hide, so the server's own per-connection bound must act
    sent = [f"msg {i:05d} " + "p" * 1500 for i in range(n)]
    # paced, so that readers that do read keep up on a busy machine (the
    # server is right to cut any subscriber that falls --send-buffer behind)
    pub.send_all(sent, pause=0.003)
    ws.join(120)
    for t in threads:
        t.join(120)
    check(ws.err is None, f"ws subscriber: {ws.err}")
    check(not sse_err, f"sse subscriber: {sse_err}")
    check(not poll_err, f"poll subscriber: {poll_err}")
    expect_all("ws subscriber", ws.got, sent)
    expect_all("sse subscriber", sse_got[:n], sent)
    expect_all("poll subscriber", poll_got[:n], sent)
    # the stalled one: now read what it was sent; the server must have ended it
    st.settimeout(15)
    got, closed_by = b"", None
    try:
        while True:
            d = st.recv(1 << 20)
            if not d:
                closed_by = "EOF"
                break
            got += d
    except ConnectionResetError:
        closed_by = "RST"
    except socket.timeout:
        pass
    pub.close()
    check(closed_by is not None, f"the stalled subscriber is still connected after {len(got)} bytes")
    # a close frame, if any, carries 1008 or 1013
    idx = got.rfind(b"\x88\x02")
    code = struct.unpack("!H", got[idx + 2: idx + 4])[0] if idx >= 0 and len(got) >= idx + 4 else None
    check(code in (None, 1008, 1013), f"stalled subscriber closed with {code}")
    print(f"ok slow: {n} messages reached the ws, sse and poll subscribers in order; the stalled one was cut "
          f"({closed_by}{', close ' + str(code) if code else ''}) after {len(got)} bytes")


# -------------------------------------------------------------- resume

class Resumer(threading.Thread):
    def __init__(self, port, ch, kind, n, seed):
        super().__init__(daemon=True)
        self.port, self.ch, self.kind, self.n = port, ch, kind, n
        self.rnd = random.Random(seed)
        self.got, self.ids, self.err, self.reconnects = [], [], None, 0
        self.last = None

    def take(self, mid, data):
        self.got.append(data)
        self.ids.append(mid)
        self.last = mid

    def run(self):
        try:
            deadline = time.monotonic() + 120
            while len(self.got) < self.n and time.monotonic() < deadline:
                getattr(self, self.kind)(self.rnd.randint(5, 60))
                self.reconnects += 1
        except Exception as e:  # noqa: BLE001
            self.err = f"{type(e).__name__}: {e}"

    def ws(self, budget):
        since = f"?since={self.last}" if self.last else "?since=0"
        s = socket.create_connection((HOST, self.port), timeout=WAIT)
        s.sendall((f"GET /ws/{self.ch}{since} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: pushwire.v1\r\n\r\n").encode())
        c = Conn.__new__(Conn)
        c.sock, c.buf, c.deflate = s, b"", None
        while b"\r\n\r\n" not in c.buf:
            c._fill()
        head, c.buf = c.buf.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101"), f"ws resume: {head[:50]!r}")
        for _ in range(budget):
            if len(self.got) >= self.n:
                break
            op, data = c.recv_message()
            check(op != "close", f"ws resume closed: {data}")
            e = json.loads(data)
            check(e.get("event") != "gap", f"gap signal: {e}")
            self.take(e["id"], e["data"])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()   # vanish (RST), mid-stream

    def sse(self, budget):
        s = socket.create_connection((HOST, self.port), timeout=WAIT)
        hdr = f"Last-Event-ID: {self.last}\r\n" if self.last else "Last-Event-ID: 0\r\n"
        s.sendall(f"GET /sse/{self.ch} HTTP/1.1\r\nHost: x\r\n{hdr}\r\n".encode())
        buf, ev, count = b"", {}, 0
        while count < budget and len(self.got) < self.n:
            d = s.recv(4096)
            check(d, "sse stream ended")
            buf += d
            while b"\n" in buf and count < budget:
                ln, buf = buf.split(b"\n", 1)
                ln = ln.rstrip(b"\r").decode()
                if ln == "":
                    if "data" in ev:
                        check(ev.get("event", "message") == "message", f"unexpected event {ev}")
                        self.take(ev.get("id"), ev["data"])
                        count += 1
                    ev = {}
                elif ln.startswith("id:"):
                    ev["id"] = ln[3:].lstrip(" ")
                elif ln.startswith("data:"):
                    ev["data"] = ln[5:].lstrip(" ")
                elif ln.startswith("event:"):
                    ev["event"] = ln[6:].lstrip(" ")
        s.close()   # vanish (FIN) at an arbitrary byte

    def poll(self, budget):
        for _ in range(max(1, budget // 10)):
            b = http_json(self.port, "GET", f"/poll/{self.ch}?cursor={self.last or '0'}&timeout=3")
            check(not b["gap"], f"gap signal: {b}")
            for m in b["messages"]:
                if len(self.got) < self.n:
                    self.take(m["id"], m["data"])
            if len(self.got) >= self.n:
                break


def resume(port, n, ch=None):
    ch = f"resume-{os.getpid()}"
    clients = [Resumer(port, ch, kind, n, seed=k * 7 + j)
               for k, kind in enumerate(["ws", "sse", "poll"]) for j in range(4)]
    for c in clients:
        c.start()
    pub = Publisher(port, ch)
    sent = [f"r{i:05d}" for i in range(n)]
    for i, m in enumerate(sent):
        pub.send(m)
        if i % 20 == 19:
            time.sleep(0.01)   # a steady pace, so reconnects happen mid-stream
    for c in clients:
        c.join(150)
    pub.close()
    for c in clients:
        check(c.err is None, f"{c.kind} client: {c.err}")
        check(not c.is_alive(), f"{c.kind} client still running with {len(c.got)} of {n}")
        expect_all(f"{c.kind} client ({c.reconnects} reconnects)", c.got, sent)
        check(len(set(c.ids)) == n, f"{c.kind} client: ids repeat")
    r = {k: sum(c.reconnects for c in clients if c.kind == k) for k in ("ws", "sse", "poll")}
    print(f"ok resume: {n} messages; 12 clients dropped and resumed (ws {r['ws']}, sse {r['sse']}, "
          f"poll {r['poll']} requests/reconnects); each got every message once, in order")


def main():
    cmd, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        {"vanish": vanish, "slow": slow, "resume": resume}[cmd](port, n, *sys.argv[4:])
    except Fail as e:
        print(f"FAIL {cmd}: {e}")
        return 1
    except Exception as e:  # noqa: BLE001
        print(f"FAIL {cmd}: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
