#!/usr/bin/python3
"""Peers for `pushwire connect`'s client-side options (tests/interop):
mutual TLS, Unix sockets, long ids, a peer that stops answering.

usage: client_peer.py MODE [--unix PATH] [--tls CERT KEY] [--client-ca CA]
                           [--id-len N]
Prints its TCP port (or, with --unix, the socket path) on stdout once
listening.

modes:
  ws      WebSocket echo (python3-websockets); with --client-ca, the first
          message says which client certificate came: "client CN".
  sse     one event stream per request, then the end:
            id: ID (N times 'i' with --id-len N, else 1)
            data: lei=LEN client=CN   (LEN: bytes of Last-Event-ID, or none)
  poll    one long-poll answer per request: "polled client=CN", ETag "e".
  silent  a WebSocket peer that completes the opening handshake, then
          never reads nor writes again (no pong, ever).
With --tls the peer speaks TLS; with --client-ca it requires a client
certificate signed by CA.
"""
import argparse
import asyncio
import base64
import hashlib
import ssl
import sys

import websockets

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["ws", "sse", "poll", "silent"])
ap.add_argument("--unix")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--client-ca")
ap.add_argument("--id-len", type=int, default=0)
a = ap.parse_args()

ctx = None
if a.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls[0], a.tls[1])
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED


def client_cn(transport):
    cert = transport.get_extra_info("peercert") if transport else None
    for rdn in (cert or {}).get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return "-"


async def ws_handler(ws, path=None):
    if a.client_ca:
        await ws.send("client " + client_cn(ws.transport))
    async for m in ws:
        await ws.send(m)


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return lines[0], hdrs


async def http_handler(reader, writer):
    try:
        _, hdrs = await read_head(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    cn = client_cn(writer.transport)
    if a.mode == "sse":
        lei = hdrs.get("last-event-id")
        ident = "i" * a.id_len if a.id_len else "1"
        body = ("id: %s\ndata: lei=%s client=%s\n\n" % (ident, len(lei) if lei is not None else "none", cn)).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    else:
        body = ("polled client=%s" % cn).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"e\"\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    await writer.drain()
    writer.close()


async def silent_handler(reader, writer):
    try:
        _, hdrs = await read_head(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    key = hdrs.get("sec-websocket-key", "")
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(3600)  # never read, never answer


async def main():
    if a.mode == "ws":
        kw = dict(ssl=ctx, compression=None)
        srv = (websockets.unix_serve(ws_handler, a.unix, **kw) if a.unix
               else websockets.serve(ws_handler, "127.0.0.1", 0, **kw))
        async with srv as s:
            print(a.unix or s.sockets[0].getsockname()[1], flush=True)
            await asyncio.Future()
    handler = silent_handler if a.mode == "silent" else http_handler
    if a.unix:
        s = await asyncio.start_unix_server(handler, a.unix, ssl=ctx)
    else:
        s = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
    print(a.unix or s.sockets[0].getsockname()[1], flush=True)
    async with s:
        await s.serve_forever()


try:
    asyncio.run(main())
except KeyboardInterrupt:
    sys.exit(0)
