#!/usr/bin/python3
# deflate_peer.py MODE [MSG...] — a real permessage-deflate peer for the
# `frame --deflate` tests: a python3-websockets server (compression on, its
# defaults: context takeover, a 12-bit server window) on 127.0.0.1:0, and a
# raw-socket client in the same process that offers permessage-deflate,
# checks the 101 and writes to stdout the raw bytes the server sent after it.
#   send MSG...  the server sends each MSG as a text message, then closes
#   echo         the server echoes each message; the client sends the bytes
#                of its stdin (frames, masked, as a client must) and then a
#                close frame
# Every step is bounded: 10 s for the whole run.
import asyncio, base64, os, socket, sys, threading

import websockets

mode, msgs = sys.argv[1], sys.argv[2:]
frames = sys.stdin.buffer.read() if mode == "echo" else b""


async def handler(ws, path=None):
    if mode == "send":
        for m in msgs:
            await ws.send(m)
        await ws.close()
    else:
        async for m in ws:
            await ws.send(m)


def client(port, out):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n" % key).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("no handshake response")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101") or b"permessage-deflate" not in head.lower():
        raise SystemExit("handshake: %r" % head)
    if mode == "echo":
        s.sendall(frames)
        s.sendall(bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]))  # close 1000
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        rest += d
    out.append(rest)


async def main():
    server = await websockets.serve(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    out = []
    t = threading.Thread(target=client, args=(port, out), daemon=True)
    t.start()
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.run_in_executor(None, t.join, 8), 9)
    server.close()
    if not out:
        raise SystemExit("the client failed")
    sys.stdout.buffer.write(out[0])


asyncio.run(asyncio.wait_for(main(), 10))
