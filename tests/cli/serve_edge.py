#!/usr/bin/python3
"""serve_edge.py — raw clients for tests/cli/serve_pipeline.bats and
serve_ws_edge.bats: HTTP/1.1 pipelining behind a parked long poll,
Expect: 100-continue on a POST, WebSocket resume without the pushwire.v1
subprotocol, and peers that answer
--ping late or not at all.

Every operation is bounded in time.  Usage: serve_edge.py SCENARIO PORT [ARGS]
"""
import os
import select
import socket
import struct
import sys
import threading
import time

# the raw WebSocket pieces are serve_peer.py's (same directory)
from serve_peer import HOST, connect, frame, ws_open as peer_ws_open


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def read_response(s, buf, deadline):
    """One HTTP/1.1 response with a Content-Length body: (status, body, rest)
    or (None, what arrived, b"") when the peer closes or time runs out."""
    while b"\r\n\r\n" not in buf:
        d = recv_until(s, deadline)
        if not d:
            return None, buf, b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1]
    n = 0
    for h in lines[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            n = int(v)
    while len(rest) < n:
        d = recv_until(s, deadline)
        if not d:
            return None, buf, b""
        rest += d
    return status, rest[:n], rest[n:]


def recv_until(s, deadline):
    """bytes, b"" at EOF (or reset), None when time runs out"""
    left = deadline - time.time()
    if left <= 0:
        return None
    s.settimeout(left)
    try:
        return s.recv(65536)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""


def sc_pipe(port, n, *reqs):
    """send every request in one write; print each of the first N responses
    as 'STATUS BODY' (body's last newline dropped), then 'eof' or 'open'"""
    s = connect(port)
    data = b"".join(unescape(r) for r in reqs)
    # the server may stop reading while a poll is parked: write from a thread
    t = threading.Thread(target=lambda: s.sendall(data), daemon=True)
    t.start()
    deadline = time.time() + 10
    buf = b""
    for _ in range(int(n)):
        status, body, buf = read_response(s, buf, deadline)
        if status is None:
            print("incomplete", repr(body[:200]))
            sys.stdout.flush()
            return
        print(status, body.decode("utf-8", "replace").rstrip("\n"))
        sys.stdout.flush()
    d = buf or recv_until(s, time.time() + 0.5)
    print("eof" if d == b"" else "open" if d is None else "more " + repr(d[:80]))


def sc_expect(port, head, body):
    """send HEAD (with its Expect: 100-continue) alone, print what comes
    first within 5 s ('STATUS', or 'nothing'), then send BODY and print the
    final answer as 'STATUS BODY'"""
    s = connect(port)
    s.sendall(unescape(head))
    buf = b""
    deadline = time.time() + 5
    while b"\r\n\r\n" not in buf:
        d = recv_until(s, deadline)
        if not d:
            break
        buf += d
    if b"\r\n\r\n" not in buf:
        print("nothing")
    elif buf.startswith(b"HTTP/1.1 100 "):
        print("100")
        buf = buf.split(b"\r\n\r\n", 1)[1]
    else:
        print("final first")
    sys.stdout.flush()
    s.sendall(unescape(body))
    status, got, _ = read_response(s, buf, time.time() + 5)
    print(status, got.decode("utf-8", "replace").rstrip("\n"))


def sc_park_close(port, path, hold="0.5"):
    """park a request (a second one pipelined behind it), close after HOLD s,
    or once the file HOLD exists (20 s at most): a test that must see the
    poll parked first says when, whatever the machine's load"""
    s = connect(port)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    try:
        time.sleep(float(hold))
    except ValueError:
        end = time.time() + 20
        while not os.path.exists(hold) and time.time() < end:
            time.sleep(0.05)
    s.close()
    print("closed")


def sc_sse_pipe(port, channel):
    """an event stream with a request pipelined behind it; print the stream
    (up to the first message) and whether a second response ever came"""
    s = connect(port)
    s.sendall(f"GET /sse/{channel} HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    deadline = time.time() + 10
    buf = b""
    while b"data: " not in buf or not buf.endswith(b"\n\n"):
        d = recv_until(s, deadline)
        if not d:
            break
        buf += d
    print("responses", buf.count(b"HTTP/1.1 "))
    print("data" if b"data: hello" in buf else "no data")


# ---- WebSocket ----

def sc_ws_lib_close(port, path):
    """python3-websockets: connect, print the server's close code and reason"""
    import asyncio
    import websockets

    async def run():
        ws = await websockets.connect(f"ws://{HOST}:{port}{path}", open_timeout=5)
        try:
            m = await asyncio.wait_for(ws.recv(), 5)
            print("message", m)
        except websockets.ConnectionClosed as e:
            print("close", e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else "")
    asyncio.run(run())

def ws_open(port, path, proto=None):
    return peer_ws_open(port, path, f"Sec-WebSocket-Protocol: {proto}\r\n" if proto else "")


def parse_frames(buf):
    """complete server frames at the front of buf: ([(op, payload)], rest)"""
    out = []
    while len(buf) >= 2:
        n = buf[1] & 0x7F
        j = 2
        if n == 126:
            if len(buf) < 4:
                break
            n = struct.unpack("!H", buf[2:4])[0]
            j = 4
        elif n == 127:
            if len(buf) < 10:
                break
            n = struct.unpack("!Q", buf[2:10])[0]
            j = 10
        if len(buf) < j + n:
            break
        out.append((buf[0] & 0x0F, buf[j:j + n]))
        buf = buf[j + n:]
    return out, buf


def sc_ws_frames(port, path, n, proto=""):
    """open, print server frames (a close as 'close CODE REASON', answered)
    until the close, N data frames or 5 s ('timeout')"""
    s = ws_open(port, path, proto or None)
    deadline = time.time() + 5
    buf = b""
    seen = 0
    while seen < int(n):
        d = recv_until(s, deadline)
        if not d:
            print("eof" if d == b"" else "timeout")
            return
        frames, buf = parse_frames(buf + d)
        for op, p in frames:
            if op == 8:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                print("close", code, p[2:].decode("utf-8", "replace"))
                s.sendall(frame(8, p[:2]))
                return
            print("text" if op == 1 else "op%d" % op, p.decode("utf-8", "replace"))
            sys.stdout.flush()
            seen += 1
            if seen == int(n):
                break


def sc_ws_pinged(port, secs, pong_delay="", chat="", want=""):
    """stay SECS seconds, or until WANT pings have come ('' = the whole
    time: a count, not a wall-clock window, is what a loaded machine cannot
    skew); answer each ping after PONG_DELAY seconds ('' = never), send a
    text message every CHAT seconds ('' = never); print 'open N' (pings
    seen) at the end, or 'dropped N' when the server closes"""
    s = ws_open(port, "/ws/keep")
    s.setblocking(False)
    end = time.time() + float(secs)
    pongs = []  # (when, payload)
    next_chat = time.time() + float(chat) if chat else None
    buf = b""
    pings = answered = 0
    # with pongs, done once the WANT-th is answered (and the server kept us)
    while time.time() < end and not (want and (answered if pong_delay else pings) >= int(want)):
        now = time.time()
        wake = [end]
        if pongs:
            wake.append(pongs[0][0])
        if next_chat:
            wake.append(next_chat)
        r, _, _ = select.select([s], [], [], max(0, min(wake) - now))
        if r:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                d = b""
            if not d:
                print("dropped", pings)
                return
            frames, buf = parse_frames(buf + d)
            for op, p in frames:
                if op == 9:
                    pings += 1
                    if pong_delay:
                        pongs.append((time.time() + float(pong_delay), p))
                elif op == 8:
                    print("dropped", pings, "close", struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005)
                    return
        now = time.time()
        while pongs and pongs[0][0] <= now:
            s.setblocking(True)
            s.sendall(frame(10, pongs.pop(0)[1]))
            answered += 1
            s.setblocking(False)
        if next_chat and next_chat <= now:
            s.setblocking(True)
            s.sendall(frame(1, b"still here"))
            s.setblocking(False)
            next_chat = now + float(chat)
    print("open", pings)


def sc_ws_echo_flood(port, n="300", delay="0.5"):
    """--echo: N messages of mixed sizes (0 B to 70 000 B: the 7-, 16- and
    64-bit length forms, below and above the size echoed from the read
    buffer), text (ASCII and not) and binary, sent in one go while nothing
    is read for DELAY seconds, so the server's socket fills and part of its
    answers wait in its queue; then every echo must come back, in order and
    byte for byte.  Prints 'echoed K of N, M differ'."""
    s = ws_open(port, "/ws/flood")
    sizes = [0, 1, 31, 125, 126, 1023, 1024, 1500, 4096, 4100, 65535, 65536, 70000]
    sent = []
    for i in range(int(n)):
        size = sizes[i % len(sizes)]
        kind = i % 3
        if kind == 0:
            body = bytes((i + j) % 95 + 32 for j in range(size))          # ASCII text
        elif kind == 1:
            unit = "wörld€😀-".encode()                                      # UTF-8 text
            body = (unit * (size // len(unit) + 1))[:size]
            while body:   # cut on a character boundary
                try:
                    body.decode("utf-8")
                    break
                except UnicodeDecodeError:
                    body = body[:-1]
        else:
            body = bytes((i * 7 + j * 13) % 256 for j in range(size))       # binary
        sent.append((2 if kind == 2 else 1, body))
    wire = b"".join(frame(op, b) for op, b in sent)
    got, box = [], {"buf": b""}

    def reader():
        time.sleep(float(delay))
        deadline = time.time() + 20
        while len(got) < len(sent):
            d = recv_until(s, deadline)
            if not d:
                return
            frames, box["buf"] = parse_frames(box["buf"] + d)
            got.extend(frames)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(wire)
    t.join(25)
    differ = sum(1 for a, b in zip(sent, got) if a != b)
    print("echoed %d of %d, %d differ" % (len(got), len(sent), differ))


if __name__ == "__main__":
    name, port, *args = sys.argv[1:]
    globals()["sc_" + name.replace("-", "_")](int(port), *args)
