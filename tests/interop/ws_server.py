#!/usr/bin/python3
"""A python3-websockets test server for `pushwire connect` (tests/interop).

usage: ws_server.py MODE [ARG]   prints "PORT" on stdout once listening.
modes: echo; close CODE [REASON] (closes after the first message, or at
once with ARG 'now'); ping (sends a ping, echoes, reports pongs as
messages); proto (answers with the chosen subprotocol); count N (sends
N messages, then closes 1000); reject (HTTP 403 with a body); drop (cuts
TCP after the first message); reset (echoes the first message, then
cuts TCP with a RST: SO_LINGER 0); badutf8 / badframe (protocol violations);
basicauth USER PASS (HTTP Basic authentication, RFC 7617: 401 with a body
unless the request's Authorization decodes to USER:PASS; then sends the
user name it saw and closes 1000); redirect URL (HTTP 302 to URL, with a
body).
"""
import asyncio
import http
import socket
import struct
import sys

import websockets

mode = sys.argv[1] if len(sys.argv) > 1 else "echo"
args = sys.argv[2:]


async def handler(ws, path=None):
    if mode == "echo":
        async for m in ws:
            await ws.send(m)
    elif mode == "close":
        code = int(args[0])
        reason = args[1] if len(args) > 1 else ""
        if len(args) > 2 and args[2] == "now":
            await ws.close(code, reason)
            return
        async for m in ws:
            await ws.close(code, reason)
            return
    elif mode == "basicauth":
        await ws.send("welcome " + args[0])
        await ws.close(1000, "")
    elif mode == "ping":
        pong = await ws.ping(b"abc")
        await asyncio.wait_for(pong, 5)
        await ws.send("pong received")
        async for m in ws:
            await ws.send(m)
    elif mode == "proto":
        await ws.send("subprotocol=" + str(ws.subprotocol))
        async for m in ws:
            await ws.send(m)
    elif mode == "count":
        for i in range(int(args[0])):
            await ws.send("message %d" % (i + 1))
        await ws.close(1000, "done")
    elif mode == "drop":
        async for m in ws:
            ws.transport.abort()
            return
    elif mode == "reset":
        async for m in ws:
            await ws.send(m)
            await asyncio.sleep(0.2)
            sock = ws.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
            return
    elif mode == "badutf8":
        # a text frame whose payload is not UTF-8, written raw
        ws.transport.write(b"\x81\x02\xc3\x28")
        await asyncio.sleep(2)
    elif mode == "badframe":
        # reserved opcode 0x3
        ws.transport.write(b"\x83\x00")
        await asyncio.sleep(2)
    elif mode == "masked":
        # a server frame must not be masked (RFC 6455 §5.1)
        ws.transport.write(b"\x81\x82\x00\x00\x00\x00hi")
        await asyncio.sleep(2)


async def process_request(path, headers):
    if mode == "reject":
        return (http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"go away: no token\n")
    if mode == "redirect":
        return (http.HTTPStatus.FOUND, [("Location", args[0]), ("Content-Type", "text/plain")],
                b"moved elsewhere\n")
    if mode == "basicauth":
        import base64
        auth = headers.get("Authorization", "")
        scheme, _, cred = auth.partition(" ")
        try:
            ok = scheme.lower() == "basic" and base64.b64decode(cred, validate=True) == \
                (args[0] + ":" + args[1]).encode()
        except ValueError:
            ok = False
        if not ok:
            return (http.HTTPStatus.UNAUTHORIZED, [("WWW-Authenticate", 'Basic realm="t"')],
                    ("bad credentials: %r\n" % auth).encode())
    return None


async def main():
    kw = {}
    if mode == "proto":
        kw["subprotocols"] = ["chat.v2", "chat.v1"]
    if mode == "deflate":
        kw["compression"] = "deflate"
    else:
        kw["compression"] = None
    ssl_ctx = None
    import os
    if os.environ.get("WS_CERT"):
        import ssl
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(os.environ["WS_CERT"], os.environ["WS_KEY"])
    h = handler
    if mode == "deflate":
        async def h(ws, path=None):
            async for m in ws:
                await ws.send(m)
    async with websockets.serve(h, "127.0.0.1", 0, process_request=process_request,
                                ssl=ssl_ctx, max_size=2**24, **kw) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
