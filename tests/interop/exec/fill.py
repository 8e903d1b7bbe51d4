#!/usr/bin/python3
"""fill.py — writes numbered lines to stdout without blocking until the
pipe stays full for half a second (its reader, the server, has paused: its
client does not read), says on stderr how many, and exits 0 with the pipe
still full.  Every wait is bounded."""
import fcntl
import os
import sys
import time

fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)
n = 0
full_since = None
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    line = b"%08d %s\n" % (n, b"x" * 55)  # under PIPE_BUF: written whole or not at all
    try:
        os.write(1, line)
        n += 1
        full_since = None
    except BlockingIOError:
        full_since = full_since or time.monotonic()
        if time.monotonic() - full_since > 0.5:
            break
        time.sleep(0.01)
print("fill: wrote %d lines" % n, file=sys.stderr, flush=True)
