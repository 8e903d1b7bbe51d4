#!/usr/bin/python3
"""exec_peer.py — the WebSocket client of tests/interop/exec.bats, the same
against `serve --exec` and websocketd (python3-websockets).  Every wait is
bounded.

  exec_peer.py talk URL [--lines N] [MSG...]
      sends each MSG, prints each message received on a line (binary ones
      as "binary:HEX"), then "close CODE" when the server closes ("close
      none" without a close frame); with --lines N the client closes (1000)
      after N messages instead and prints nothing more.
  exec_peer.py many URL N
      opens N connections (no permessage-deflate: its zlib windows, freed,
      leave the heap fragmented, which would hide what this measures),
      waits for each one's first message, prints "open=N", then drops
      every connection at once (no close frame).
  exec_peer.py hold URL SECS
      connects with a raw socket, sends the upgrade and then reads nothing
      for SECS (a client that does not read).
  exec_peer.py push URL SECS
      raw socket: sends 64 KiB masked text messages for SECS without
      blocking, prints "sent=BYTES" (a server that stops reading bounds it).
  exec_peer.py late URL LOG SECS
      raw socket with a small receive buffer: reads nothing until LOG holds
      "exit:" (the program ended), then SECS more, then reads to the end;
      prints "lines=N close=CODE" ("close=none": no close frame, or a frame
      cut short).
"""
import asyncio
import base64
import os
import socket
import struct
import sys
import time
import urllib.parse

import websockets

TIMEOUT = 10
MANY_TIMEOUT = 120  # 200 programs started one after the other on a loaded machine


async def talk(url, lines, msgs):
    async with websockets.connect(url, extra_headers={"X-Test": "yes"}, open_timeout=TIMEOUT,
                                  max_size=None) as ws:
        for m in msgs:
            await ws.send(m)
        got = 0
        try:
            while lines is None or got < lines:
                m = await asyncio.wait_for(ws.recv(), TIMEOUT)
                print("binary:" + m.hex() if isinstance(m, bytes) else m, flush=True)
                got += 1
        except websockets.ConnectionClosed as e:
            print("close", e.rcvd.code if e.rcvd else "none", flush=True)
            return
        await ws.close()


async def many(url, n):
    conns = await asyncio.gather(*[websockets.connect(url, open_timeout=MANY_TIMEOUT, compression=None) for _ in range(n)])
    await asyncio.gather(*[asyncio.wait_for(c.recv(), MANY_TIMEOUT) for c in conns])
    print("open=%d" % n, flush=True)
    for c in conns:
        c.transport.abort()


def raw_upgrade(url):
    u = urllib.parse.urlparse(url)
    s = socket.create_connection((u.hostname, u.port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    path = u.path + ("?" + u.query if u.query else "")
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, u.hostname, u.port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            sys.exit("no answer to the upgrade")
        head += b
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit("upgrade refused: %r" % head.split(b"\r\n")[0])
    return s


def frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x81]) + (bytes([0x80 | 127]) + struct.pack(">Q", n) if n > 65535
                           else bytes([0x80 | 126]) + struct.pack(">H", n))
    m = (mask * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")
    return hdr + mask + body


def hold(url, secs):
    s = raw_upgrade(url)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    print("open", flush=True)
    time.sleep(secs)
    s.close()


def push(url, secs):
    s = raw_upgrade(url)
    s.setblocking(False)
    f = frame(b"x" * 65535)
    sent, off, end = 0, 0, time.time() + secs
    while time.time() < end:
        try:
            k = s.send(f[off:])
            sent += k
            off = (off + k) % len(f)
        except BlockingIOError:
            time.sleep(0.01)
    print("sent=%d" % sent, flush=True)
    s.close()


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def late(url, log, secs):
    u = urllib.parse.urlparse(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    s.settimeout(TIMEOUT)
    s.connect((u.hostname, u.port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (u.path, u.hostname, u.port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += recv_exact(s, 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit("upgrade refused: %r" % head.split(b"\r\n")[0])
    for _ in range(600):
        with open(log, errors="replace") as f:
            if "exit:" in f.read():
                break
        time.sleep(0.05)
    time.sleep(secs)
    lines, code = 0, "none"
    try:
        while True:
            h = recv_exact(s, 2)
            n = h[1] & 127
            if n == 126:
                n = struct.unpack(">H", recv_exact(s, 2))[0]
            elif n == 127:
                n = struct.unpack(">Q", recv_exact(s, 8))[0]
            p = recv_exact(s, n)
            if h[0] & 15 == 8:
                code = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else "none"
                break
            lines += 1
    except (EOFError, OSError):
        pass
    print("lines=%d close=%s" % (lines, code), flush=True)
    s.close()


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "talk":
        args = sys.argv[3:]
        lines = None
        if args[:1] == ["--lines"]:
            lines, args = int(args[1]), args[2:]
        asyncio.run(talk(url, lines, args))
    elif cmd == "many":
        asyncio.run(many(url, int(sys.argv[3])))
    elif cmd == "hold":
        hold(url, float(sys.argv[3]))
    elif cmd == "push":
        push(url, float(sys.argv[3]))
    elif cmd == "late":
        late(url, sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
