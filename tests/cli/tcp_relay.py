#!/usr/bin/python3
# tcp_relay.py PORT — a TCP relay to 127.0.0.1:PORT for the resume tests:
# binds 127.0.0.1:0, prints its port, and relays every connection both ways.
# SIGUSR1 cuts every relayed connection (both sides closed, as a network
# that drops them) and refuses from then on (each new connection is closed
# at once); SIGUSR2 relays again.  So a test takes a client away from the
# server for as long as it likes, without a restart (which would be a new
# epoch).  It exits after 120 seconds at most; the tests kill it sooner.
import select, signal, socket, sys, time

target = ("127.0.0.1", int(sys.argv[1]))
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
print(ls.getsockname()[1], flush=True)

pairs = {}  # socket -> its other end
state = {"cut": False, "cut_now": False}


def on_usr1(*_):
    state["cut"] = True
    state["cut_now"] = True


def on_usr2(*_):
    state["cut"] = False


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)


def drop(s):
    o = pairs.pop(s, None)
    s.close()
    if o is not None:
        pairs.pop(o, None)
        o.close()


deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if state["cut_now"]:
        state["cut_now"] = False
        for s in list(pairs):
            if s in pairs:
                drop(s)
    try:
        r, _, _ = select.select([ls] + list(pairs), [], [], 0.2)
    except InterruptedError:
        continue
    for s in r:
        if s is ls:
            c, _ = ls.accept()
            if state["cut"]:
                c.close()
                continue
            try:
                u = socket.create_connection(target, timeout=5)
            except OSError:
                c.close()
                continue
            pairs[c] = u
            pairs[u] = c
            continue
        if s not in pairs:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            drop(s)
            continue
        try:
            pairs[s].sendall(data)
        except OSError:
            drop(s)
