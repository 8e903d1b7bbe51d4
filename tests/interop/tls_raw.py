#!/usr/bin/python3
# tls_raw.py MODE PORT — raw TCP peers for a TLS listener (tls.bats):
#   stall    connect, send half a ClientHello record header, then nothing
#   plain    send a plain HTTP/1.1 request
#   garbage  send 4 KiB of bytes that are no TLS record
# then read until the server closes (20 s at most) and print one line:
#   "closed bytes=N alert=yes|no"  or  "open after 20s bytes=N"
import socket, sys

mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
if mode == "stall":
    s.sendall(b"\x16\x03\x01")
elif mode == "plain":
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
elif mode == "garbage":
    s.sendall(bytes((i * 37 + 11) & 0xFF for i in range(4096)))
else:
    sys.exit("usage: tls_raw.py stall|plain|garbage PORT")
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print("closed bytes=%d alert=%s" % (len(got), "yes" if got[:1] == b"\x15" else "no"))
except socket.timeout:
    print("open after 20s bytes=%d" % len(got))
except ConnectionResetError:
    print("closed bytes=%d alert=%s reset" % (len(got), "yes" if got[:1] == b"\x15" else "no"))
