#!/usr/bin/python3
# stall_peer.py MODE — a TCP peer on 127.0.0.1:0 that never completes an
# opening handshake, for the --connect-timeout tests of connect and replay;
# prints its port.
#   silent   accepts, reads what comes (a request, a TLS ClientHello) and
#            never answers
#   backlog  never accepts, and its accept queue is full: a connect() stays
#            in the TCP handshake (the kernel drops the SYNs)
#   short    answers each request's head with a 403 whose body never comes
#   stream   answers a GET with an event stream's head (and keeps it open,
#            saying nothing more); any other request (a POST) never answered
# It exits after 60 seconds at most; the tests kill it sooner.
import select, socket, sys, time

mode = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(0 if mode == "backlog" else 16)
port = s.getsockname()[1]
held = []
if mode == "backlog":  # the queue holds one more than the backlog: fill it
    for _ in range(3):
        c = socket.socket()
        c.settimeout(0.5)
        try:
            c.connect(("127.0.0.1", port))
        except OSError:
            pass
        held.append(c)
print(port, flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if mode == "backlog":
        time.sleep(0.5)
        continue
    r, _, _ = select.select([s] + held, [], [], 0.5)
    for x in r:
        if x is s:
            held.append(s.accept()[0])
            continue
        try:
            data = x.recv(65536)
        except OSError:
            data = b""
        if not data:
            held.remove(x)
            x.close()
        elif mode == "short" and b"\r\n\r\n" in data:
            x.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nnot all")
        elif mode == "stream" and data.startswith(b"GET "):
            x.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
