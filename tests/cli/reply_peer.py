#!/usr/bin/python3
# reply_peer.py HEX [MODE] — a TCP peer on 127.0.0.1:0 for the live
# `handshake URL` tests: prints its port, then for each connection reads
# what the client sends (the upgrade request) and answers with the bytes
# HEX (hex digits, whitespace ignored), as a server that does not speak
# HTTP would.
#   close   (default) closes the connection after the answer
#   hold    keeps it open, saying nothing more
# It serves 8 connections and exits after 60 seconds at most; the tests
# kill it sooner.
import select, socket, sys, time

data = bytes.fromhex("".join(sys.argv[1].split()))
mode = sys.argv[2] if len(sys.argv) > 2 else "close"
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
deadline = time.monotonic() + 60
served = 0
while served < 8 and time.monotonic() < deadline:
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
        continue
    c, _ = s.accept()
    served += 1
    c.settimeout(2)
    try:
        c.recv(65536)
        c.sendall(data)
    except OSError:
        pass
    if mode == "hold":
        held.append(c)
    else:
        c.close()
while held and time.monotonic() < deadline:
    time.sleep(0.5)
