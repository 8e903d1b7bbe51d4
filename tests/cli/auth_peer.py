#!/usr/bin/python3
"""auth_peer.py — WebSocket and connection-count clients for serve_auth.bats
and interop/auth.bats, on raw sockets so that every header (Origin,
Authorization, X-Forwarded-For) is the test's.  Every wait is bounded.

  auth_peer.py ws-status PORT PATH [HEADER...]
      the upgrade: prints the status line; for a refusal the rest of the
      answer (headers and body) too
  auth_peer.py ws-send PORT PATH MSG... [-- HEADER...]
      opens (101 required), sends each text message, prints
      `close CODE REASON` when the server closes (or `no close`)
  auth_peer.py ws-wait PORT PATH SECS [HEADER...]
      opens and prints `close CODE REASON` when the server closes within
      SECS, else `still open`
  auth_peer.py ws-flood PORT PATH SECS [HEADER...]
      opens, prints `open`, then sends a text message every 5 ms until the
      server closes (`close CODE REASON`) or SECS pass (`no close`)
  auth_peer.py ws-mute PORT PATH SECS [MSG...]
      opens, sends each MSG, prints the server's `close CODE REASON` but
      does not answer it, holding the connection SECS
  auth_peer.py post-split PORT PATH GOFILE FIRST REST [HEADER...]
      POSTs FIRST + REST: the head and FIRST at once (prints `sent`), REST
      once GOFILE exists; prints the answer's status line and body
  auth_peer.py big PORT PATH header|query SIZE
      a request whose token is SIZE bytes of 'a', in the Authorization
      header or in ?token=, sent while the answer is read; prints the
      answer's status line
  auth_peer.py hold PORT N PATH SECS [HEADER...]
      opens N connections at once (non-blocking, epoll), sends GET PATH on
      each, and counts the status codes of the answers while holding every
      connection open; prints one `STATUS COUNT` line per status (`none`
      for connections that got no answer in SECS, `refused` for failed
      connects) once all are answered or SECS have passed
"""
import base64
import os
import selectors
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def request(path, headers, upgrade=False):
    h = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if upgrade:
        key = base64.b64encode(os.urandom(16)).decode()
        h += (f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
              "Sec-WebSocket-Version: 13\r\n")
    for x in headers:
        h += x + "\r\n"
    return (h + "\r\n").encode()


def read_head(s, limit=5.0):
    s.settimeout(limit)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            break
        head += d
    return head


def ws_open(port, path, headers):
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(request(path, headers, upgrade=True))
    head = read_head(s)
    return s, head


def frame(op, payload):
    k = os.urandom(4)
    n = len(payload)
    h = struct.pack("!BB", 0x80 | op, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x80 | op, 0xFE, n)
    return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))


def take_frame(buf):
    """The first whole frame of the bytearray buf, taken out of it:
    (opcode, payload), or None while it is not all there."""
    if len(buf) < 2:
        return None
    op, n, j = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, j = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, j = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < j + n:
        return None
    p = bytes(buf[j:j + n])
    del buf[:j + n]
    return op, p


def close_of(p):
    """A close frame's payload as (code, reason)."""
    return (struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005, p[2:].decode("utf-8", "replace"))


def recv_into(s, buf):
    """One recv into buf; False once the peer is gone (a timeout is not)."""
    try:
        d = s.recv(65536)
    except socket.timeout:
        return True
    except OSError:
        return False
    buf += d
    return bool(d)


def close_in(buf):
    """Takes the whole frames out of buf up to a close frame: its (code,
    reason), or None when none is there yet."""
    f = take_frame(buf)
    while f and f[0] != 8:
        f = take_frame(buf)
    return close_of(f[1]) if f else None


def wait_close(s, buf, secs):
    """Reads frames until a close frame: (code, reason) or None."""
    end = time.time() + secs
    while time.time() < end:
        f = take_frame(buf)
        while f:
            op, p = f
            if op == 8:
                try:
                    s.sendall(frame(8, p[:2]))
                except OSError:
                    pass
                return close_of(p)
            f = take_frame(buf)
        s.settimeout(max(0.05, end - time.time()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return None
        if not d:
            return None
        buf += d
    return "open"


def sc_ws_status(port, path, *headers):
    s, head = ws_open(int(port), path, headers)
    text = head.decode("latin-1")
    status = text.split("\r\n", 1)[0]
    print(status)
    if " 101 " not in status + " ":
        s.settimeout(2)
        rest = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                rest += d
        except OSError:
            pass
        sys.stdout.write(text.split("\r\n", 1)[1] + rest.decode("latin-1"))
        print()


def report(r):
    if r is None:
        print("no close")
    elif r == "open":
        print("still open")
    else:
        print("close", r[0], r[1])


def sc_ws_send(port, path, *args):
    msgs, headers = list(args), []
    if "--" in msgs:
        i = msgs.index("--")
        msgs, headers = msgs[:i], msgs[i + 1:]
    s, head = ws_open(int(port), path, headers)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: " + head.decode("latin-1"))
    rest = head.split(b"\r\n\r\n", 1)[1]
    for m in msgs:
        s.sendall(frame(1, m.encode()))
    report(wait_close(s, bytearray(rest), 5))


def sc_ws_wait(port, path, secs, *headers):
    s, head = ws_open(int(port), path, headers)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: " + head.decode("latin-1"))
    print("open")
    sys.stdout.flush()
    report(wait_close(s, bytearray(head.split(b"\r\n\r\n", 1)[1]), float(secs)))


def sc_ws_flood(port, path, secs, *headers):
    """Opens, prints `open`, then sends a text message (`m1`, `m2`, ...)
    every 5 ms until the server's close frame (or SECS): `close CODE
    REASON` (or `no close`), and how many it sent."""
    s, head = ws_open(int(port), path, headers)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: " + head.decode("latin-1"))
    print("open")
    sys.stdout.flush()
    buf, sent, r = bytearray(head.split(b"\r\n\r\n", 1)[1]), 0, None
    s.settimeout(0.005)
    end = time.time() + float(secs)
    while r is None and time.time() < end:
        sent += 1
        try:
            s.sendall(frame(1, b"m%d" % sent))
        except OSError:
            break
        if not recv_into(s, buf):
            break
        r = close_in(buf)
    report(r)
    print("sent", sent)


def sc_ws_mute(port, path, secs, *msgs):
    """Opens, sends each MSG, then reads until the server's close frame:
    prints `close CODE REASON` and does not answer it, holding the
    connection open SECS (or until the server drops it)."""
    s, head = ws_open(int(port), path, [])
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: " + head.decode("latin-1"))
    for m in msgs:
        s.sendall(frame(1, m.encode()))
    buf, end = bytearray(head.split(b"\r\n\r\n", 1)[1]), time.time() + float(secs)
    s.settimeout(0.05)
    said = False
    while time.time() < end:
        c = None if said else close_in(buf)
        if c:
            print("close", *c)
            sys.stdout.flush()
            said = True
        if not recv_into(s, buf):
            break
    if not said:
        print("no close")


def sc_post_split(port, path, gofile, first, rest, *headers):
    """POSTs FIRST + REST to PATH: the head and FIRST at once (prints
    `sent`), REST once GOFILE exists (10 s at most); prints the answer's
    status line and body."""
    body = (first + rest).encode()
    h = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
    for x in headers:
        h += x + "\r\n"
    s = socket.create_connection((HOST, int(port)), timeout=5)
    s.sendall((h + "\r\n").encode() + first.encode())
    print("sent")
    sys.stdout.flush()
    end = time.time() + 10
    while not os.path.exists(gofile) and time.time() < end:
        time.sleep(0.01)
    s.sendall(rest.encode())
    head = read_head(s)
    text = head.decode("latin-1")
    print(text.split("\r\n", 1)[0])
    print(text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else "")


def sc_big(port, path, where, size):
    import threading
    tok = "a" * int(size)
    if where == "query":
        req = f"GET {path}?token={tok} HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
    else:
        req = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {tok}\r\n\r\n"
    s = socket.create_connection((HOST, int(port)), timeout=5)

    def send():
        try:
            s.sendall(req.encode())
        except OSError:
            pass  # the server may stop reading once it has answered
    t = threading.Thread(target=send)
    t.start()
    head = read_head(s)
    print(head.split(b"\r\n", 1)[0].decode("latin-1") or "no answer")
    t.join(5)


def sc_hold(port, n, path, secs, *headers):
    n, end = int(n), time.time() + float(secs)
    req = request(path, headers)
    sel = selectors.DefaultSelector()
    socks, got, counts = {}, {}, {}
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex((HOST, int(port)))
        except OSError:
            counts["refused"] = counts.get("refused", 0) + 1
            s.close()
            continue
        socks[s.fileno()] = s
        got[s.fileno()] = b""
        sel.register(s, selectors.EVENT_WRITE)
    pending = len(socks)
    while pending and time.time() < end:
        for key, ev in sel.select(timeout=max(0.01, min(1, end - time.time()))):
            s = key.fileobj
            fd = s.fileno()
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    counts["refused"] = counts.get("refused", 0) + 1
                    sel.unregister(s)
                    pending -= 1
                    continue
                s.send(req)
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            got[fd] += d
            if b"\r\n" in got[fd] or not d:
                line = got[fd].split(b"\r\n", 1)[0].split(b" ")
                st = line[1].decode() if len(line) > 1 and got[fd] else "eof"
                counts[st] = counts.get(st, 0) + 1
                sel.unregister(s)
                pending -= 1
    if pending:
        counts["none"] = pending
    for k in sorted(counts):
        print(k, counts[k])
    sys.stdout.flush()
    for s in socks.values():
        s.close()


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    globals()["sc_" + name.replace("-", "_")](*args)
