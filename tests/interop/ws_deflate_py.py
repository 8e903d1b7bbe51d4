"""ws_deflate_py.py PORT MAX — python3-websockets (Debian's) with
permessage-deflate against `pushwire serve`: one client publishes text and
binary messages (0 B to MAX bytes, compressed by websockets), a second one
subscribed to the same channel must receive each intact and in order.
Prints `ok python: ...` or `FAIL python: ...` (exit 1).  Bounded waits."""
import asyncio
import os
import random
import sys

import websockets

PORT, MAX = int(sys.argv[1]), int(sys.argv[2])


def corpus():
    rnd = random.Random(7)
    words = ["alpha", "beta", "pushwire", "κόσμε", "✓", '{"id":']
    out = []
    for n in [0, 1, 63, 64, 65, 300, 4096, 65536, MAX]:
        # (words joined once: re-encoding the growing string each time was
        # quadratic, seconds of CPU for MAX under load)
        parts, size = [], 0
        while size < n:
            w = rnd.choice(words) + " "
            parts.append(w)
            size += len(w.encode())
        s = "".join(parts).encode()[:n].decode("utf-8", "ignore")
        out.append(s)
        out.append(bytes(rnd.getrandbits(8) if rnd.random() < 0.25 else 65 for _ in range(n)))
    out.append(os.urandom(2000))  # does not shrink: sent plain by the server
    for i in range(1000):
        out.append(f"{i} " + "message text " * (i % 9))
    return out


async def main():
    url = f"ws://127.0.0.1:{PORT}/ws/zpy-{os.getpid()}"
    a = await websockets.connect(url, compression="deflate", max_size=MAX + 1024, open_timeout=10)
    b = await websockets.connect(url, compression="deflate", max_size=MAX + 1024, open_timeout=10)
    ext = a.response_headers.get("Sec-WebSocket-Extensions", "")
    if "permessage-deflate" not in ext or "server_max_window_bits=10" not in ext:
        raise AssertionError(f"answer '{ext}' (deflate with server_max_window_bits=10 expected)")
    sent = corpus()

    async def send_all():
        for m in sent:
            await a.send(m)

    async def recv_all(who, w):
        # read while the publisher writes: websockets stops reading at 32
        # queued messages, and a server pauses a client that does not read
        for i, m in enumerate(sent):
            got = await asyncio.wait_for(w.recv(), 60)
            if got != m:
                raise AssertionError(f"{who}, message {i}: got {type(got).__name__} of {len(got)}, "
                                     f"sent {type(m).__name__} of {len(m)}")

    await asyncio.gather(send_all(), recv_all("subscriber", b), recv_all("publisher", a))
    await a.close()
    await b.close()
    print(f"ok python: {len(sent)} messages (0 B to {MAX} B, text and binary) compressed both ways, "
          f"received intact and in order by both clients; answer '{ext}'")


try:
    asyncio.run(asyncio.wait_for(main(), 170))
except Exception as e:  # noqa: BLE001 - the verdict line names any failure
    print(f"FAIL python: {type(e).__name__}: {e}")
    sys.exit(1)
