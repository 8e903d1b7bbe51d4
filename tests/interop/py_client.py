#!/usr/bin/python3
"""py_client.py — Debian's python3-websockets as a client of `pushwire serve`
(run with /usr/bin/python3).

  py_client.py SCENARIO PORT
  echo [deflate]   against `serve --echo`: text, binary, sizes, ping, close 1000
  pubsub           two clients on a channel; messages in order; close codes
  resume           pushwire.v1 subprotocol: JSON envelopes, ?since= resume, gap
  wait-close       connects, prints `close CODE` when the server closes (SIGTERM test)

Prints `ok SCENARIO: …` and exits 0, or `FAIL …` and exits 1.
"""
import asyncio
import json
import os
import sys
import urllib.request

import websockets

WAIT = 20


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def publish(port, ch, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/pub/{ch}", data=body.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


async def echo(port, deflate):
    comp = "deflate" if deflate else None
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/py-echo", compression=comp,
                                  max_size=2 << 20, open_timeout=WAIT) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check(("permessage-deflate" in ext) == deflate, f"extensions answered: '{ext}'")
        sent = []
        for n in (0, 1, 125, 126, 127, 65535, 65536, 500000):
            t = ("κόσμε-" * (n // 11 + 1)).encode()[:n].decode("utf-8", "ignore")
            b = bytes((i * 31) & 0xFF for i in range(n))
            sent += [t, b]
            await ws.send(t)
            await ws.send(b)
        for i, want in enumerate(sent):
            got = await asyncio.wait_for(ws.recv(), WAIT)
            check(type(got) is type(want), f"echo {i}: {type(got).__name__} for {type(want).__name__}")
            check(got == want, f"echo {i}: {len(got)} bytes differ from the {len(want)} sent")
        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, WAIT)
        await ws.close(1000, "done")
        check(ws.close_code == 1000, f"close answered {ws.close_code}")
    print(f"ok echo{' deflate' if deflate else ''}: {len(sent)} echoes of text and binary up to 500 kB identical, ping answered, close 1000")


async def pubsub(port):
    ch = f"pyps-{os.getpid()}"
    url = f"ws://127.0.0.1:{port}/ws/{ch}"
    async with websockets.connect(url, open_timeout=WAIT) as a, websockets.connect(url, open_timeout=WAIT) as b:
        msgs = [f"py {i}" if i % 5 else bytes([i, 0, 255]) for i in range(50)]
        for m in msgs:
            await a.send(m)
        for i, want in enumerate(msgs):
            got = await asyncio.wait_for(b.recv(), WAIT)
            check(got == want, f"message {i}: {got!r} for {want!r}")
        # the sender is a subscriber too (SPEC §3: every message on CHANNEL is
        # sent to the client); reading them also keeps the library's queue
        # (max_queue) from stalling its read of the close answer
        for i, want in enumerate(msgs):
            got = await asyncio.wait_for(a.recv(), WAIT)
            check(got == want, f"own message {i}: {got!r} for {want!r}")
        await a.close(4000, "app close")
        check(a.close_code == 4000, f"close 4000 answered with {a.close_code}")
    print("ok pubsub: 50 messages from one python client to another (and back to itself) in order, text and binary kept; close 4000 echoed")


async def resume(port):
    ch = f"pyrs-{os.getpid()}"
    ids = [publish(port, ch, f"r{i}")["id"] for i in range(5)]
    url = f"ws://127.0.0.1:{port}/ws/{ch}?since={ids[1]}"
    async with websockets.connect(url, subprotocols=["pushwire.v1"], open_timeout=WAIT) as ws:
        check(ws.subprotocol == "pushwire.v1", f"subprotocol {ws.subprotocol!r}")
        env = [json.loads(await asyncio.wait_for(ws.recv(), WAIT)) for _ in range(3)]
        check([e["data"] for e in env] == ["r2", "r3", "r4"], f"resumed: {env}")
        check([e["id"] for e in env] == ids[2:], f"ids {[e['id'] for e in env]} for {ids[2:]}")
        check(all(e["channel"] == ch and e["event"] == "message" for e in env), f"envelopes: {env}")
        publish(port, ch, "live")
        live = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        check(live["data"] == "live", f"live message: {live}")
        await ws.send(b"\x00\xffbin")
        echo = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        check(echo.get("encoding") == "base64" and echo["data"] == "AP9iaW4=", f"binary envelope: {echo}")
    print("ok resume: pushwire.v1 negotiated; ?since= replayed the 3 later messages as envelopes with their ids, then live ones; binary as base64")


async def wait_close(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/py-wait", open_timeout=WAIT, ping_interval=None) as ws:
        print("open", flush=True)
        try:
            await asyncio.wait_for(ws.recv(), 60)
        except websockets.ConnectionClosed:
            pass
        print(f"close {ws.close_code}", flush=True)


def main():
    scen, port = sys.argv[1], int(sys.argv[2])
    deflate = len(sys.argv) > 3 and sys.argv[3] == "deflate"
    fn = {"echo": lambda: echo(port, deflate), "pubsub": lambda: pubsub(port),
          "resume": lambda: resume(port), "wait-close": lambda: wait_close(port)}[scen]
    try:
        asyncio.run(asyncio.wait_for(fn(), 90))
    except Fail as e:
        print(f"FAIL {scen}: {e}")
        return 1
    except Exception as e:  # a crash of the client or the connection is a failure too
        print(f"FAIL {scen}: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
