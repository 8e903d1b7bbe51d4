#!/usr/bin/python3
"""serve_workers.py — `serve --workers N` from outside (tests/cli/serve_workers.bats).

Usage: serve_workers.py fanout PORT SUBS NPOST NWS

Opens SUBS SSE subscribers on channel "w" (each a new connection: the
kernel spreads them over the workers), waits until /metrics shows them all,
then publishes NPOST messages by POST and NWS by WebSocket (python3-websockets),
one at a time, each on a new connection, alternating; checks that every
subscriber got every message once, in publish order, with the id the
publisher was given; then resumes (SSE Last-Event-ID) from every other id
on 20 new connections and checks each gets exactly the rest.  Prints
`ok msgs=N subs=S` or exits 1 naming what went wrong.  Every wait is bounded.
"""
import asyncio
import json
import sys

import websockets

HOST = "127.0.0.1"
DEADLINE = 60.0


async def sse_open(port, path, last=None):
    r, w = await asyncio.open_connection(HOST, port)
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
    if last:
        head += f"Last-Event-ID: {last}\r\n"
    w.write((head + "\r\n").encode())
    await w.drain()
    status = await r.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"SSE answered {status!r}")
    while (await r.readline()) not in (b"\r\n", b""):
        pass
    return r, w


async def sse_events(r, want, out):
    """Reads events (id, data) into out until `want` of them (chunked body)."""
    ev = {}
    while len(out) < want:
        line = await r.readline()
        if not line:
            raise RuntimeError("stream ended")
        line = line.rstrip(b"\r\n")
        # chunk-size lines are hex; an SSE line always has a colon or is empty
        if line and b":" not in line:
            continue
        if line == b"":
            if "data" in ev and ev.get("event", "message") == "message":
                out.append((ev.get("id"), ev["data"]))
            ev = {}
        elif line.startswith(b"id: "):
            ev["id"] = line[4:].decode()
        elif line.startswith(b"data: "):
            ev["data"] = line[6:].decode()
        elif line.startswith(b"event: "):
            ev["event"] = line[7:].decode()


async def http(port, method, path, body=b""):
    r, w = await asyncio.open_connection(HOST, port)
    w.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await w.drain()
    data = await r.read()
    w.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


async def metric(port, name):
    _, body = await http(port, "GET", "/metrics")
    vals = {}
    for line in body.decode().splitlines():
        if line.startswith(name):
            k, v = line.rsplit(" ", 1)
            vals[k] = int(v)
    return vals


async def publish_ws(port, data):
    """Sends data on a new WebSocket (pushwire.v1): the id is the one its
    own copy comes back with (every message on the channel is sent to it)."""
    async with websockets.connect(f"ws://{HOST}:{port}/ws/w", subprotocols=["pushwire.v1"]) as ws:
        await ws.send(data)
        while True:
            m = json.loads(await ws.recv())
            if m.get("data") == data:
                return m["id"]


async def fanout(port, nsubs, npost, nws):
    subs = []
    for _ in range(nsubs):
        subs.append(await sse_open(port, "/sse/w"))
    for _ in range(100):
        per = await metric(port, "pushwire_worker_connections")
        total = await metric(port, 'pushwire_connections{transport="sse"}')
        if sum(total.values()) == nsubs:
            break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError(f"subscribers never all counted: {total}")
    if len(per) < 2 or min(per.values()) < 10:
        raise RuntimeError(f"subscribers not spread over the workers: {per}")
    sent = []  # (id, data) in publish order
    for i in range(max(npost, nws)):
        if i < npost:
            head, body = await http(port, "POST", "/pub/w", f"p{i}".encode())
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise RuntimeError(f"POST answered {head!r}")
            sent.append((json.loads(body)["id"], f"p{i}"))
        if i < nws:
            sent.append((await publish_ws(port, f"s{i}"), f"s{i}"))
    seqs = [int(i.split(":")[1]) for i, _ in sent]
    if seqs != list(range(1, len(sent) + 1)) or len({i.split(":")[0] for i, _ in sent}) != 1:
        raise RuntimeError(f"publish ids not one sequence: {[i for i, _ in sent][:10]}…")
    per_in = await metric(port, "pushwire_worker_messages_in_total")
    if len(per_in) < 2 or min(per_in.values()) == 0:
        raise RuntimeError(f"publishes did not go through every worker: {per_in}")
    outs = [[] for _ in subs]
    await asyncio.gather(*(sse_events(r, len(sent), o) for (r, _), o in zip(subs, outs)))
    for k, o in enumerate(outs):
        if o != sent:
            raise RuntimeError(f"subscriber {k} got {o[:5]}… want {sent[:5]}…")
    for _, w in subs:
        w.close()
    # resumes: new connections, spread over the workers like the rest
    for k in range(20):
        after = sent[(k * 7) % len(sent)][0]
        r, w = await sse_open(port, "/sse/w", last=after)
        want = sent[(k * 7) % len(sent) + 1:]
        got = []
        if want:
            await sse_events(r, len(want), got)
        w.close()
        if got != want:
            raise RuntimeError(f"resume after {after}: got {got[:3]}… want {want[:3]}…")
    tot = await metric(port, "pushwire_messages_in_total")
    if tot.get("pushwire_messages_in_total") != len(sent):
        raise RuntimeError(f"/metrics messages_in_total {tot}, want {len(sent)}")
    print(f"ok msgs={len(sent)} subs={nsubs} per_worker={sorted(per.values())}")


def main():
    port, nsubs, npost, nws = (int(a) for a in sys.argv[2:6])
    try:
        asyncio.run(asyncio.wait_for(fanout(port, nsubs, npost, nws), DEADLINE))
    except Exception as e:  # noqa: BLE001 — the test prints why
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
