#!/usr/bin/python3
"""pub_many.py PORT PREFIX COUNT SIZE [CHANNELS] — publishes COUNT messages of
SIZE bytes over one keep-alive connection, pipelined in batches: to channel
PREFIX0 … PREFIX(CHANNELS-1) in turn (CHANNELS defaults to COUNT: one name
each).  Prints the HTTP statuses seen and how often ("200 99999\\n503 1");
exits 1 on a connection error.  Bounded: 120 s in all."""
import socket
import sys
import time

port, prefix, count, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
nch = int(sys.argv[5]) if len(sys.argv) > 5 else count
body = b"x" * size
deadline = time.monotonic() + 120
s = socket.create_connection(("127.0.0.1", port), timeout=30)
statuses = {}
buf = b""
# a batch is at most 200 requests or about 4 MiB: 60 pipelined POSTs of 1 MB
# sent in one go ended once in a broken pipe on a loaded machine (cause not
# found; the test is about memory, not about deep pipelining)
BATCH = max(1, min(200, (4 << 20) // max(size, 1)))


def read_answers(n):
    """Reads n responses (each with a Content-Length body)."""
    global buf
    for _ in range(n):
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline:
                sys.exit("pub_many: timed out")
            chunk = s.recv(1 << 16)
            if not chunk:
                sys.exit("pub_many: connection closed")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split()[1].decode()
        length = 0
        for h in lines[1:]:
            k, _, v = h.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            chunk = s.recv(1 << 16)
            if not chunk:
                sys.exit("pub_many: connection closed")
            rest += chunk
        buf = rest[length:]
        statuses[status] = statuses.get(status, 0) + 1


i = 0
while i < count:
    n = min(BATCH, count - i)
    reqs = []
    for k in range(i, i + n):
        reqs.append(b"POST /pub/%s%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                    % (prefix.encode(), k % nch, size) + body)
    s.sendall(b"".join(reqs))
    read_answers(n)
    i += n
for k in sorted(statuses):
    print(k, statuses[k])
