#!/usr/bin/python3
# tcp_hold.py [PEERS_FILE] — a TCP listener for the portcheck tests: binds
# 127.0.0.1:0, prints its port, accepts every connection and holds it open
# without answering; with PEERS_FILE, appends each peer's address to it.
# It exits after 300 seconds at most; the tests kill it sooner.
import os, resource, select, socket, sys, time

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4096)
print(s.getsockname()[1], flush=True)
peers = open(sys.argv[1], "a") if len(sys.argv) > 1 else None
held = []
deadline = time.monotonic() + 300
s.setblocking(False)
while time.monotonic() < deadline:
    r, _, _ = select.select([s], [], [], 1.0)
    while r:
        try:
            c, addr = s.accept()
        except BlockingIOError:
            break
        except OSError:
            time.sleep(0.01)  # out of descriptors: the test will say so
            break
        held.append(c)
        if peers:
            peers.write(addr[0] + "\n")
            peers.flush()
