#!/usr/bin/python3
"""An SSE test server (stdlib only) for `pushwire connect`.

usage: sse_server.py MODE   prints its port on stdout.
edge: connection 1 sends the WHATWG edge cases (BOM, CR/LF/CRLF line ends,
  comments, a field without colon, an id with NULL, a bad and a good retry,
  an unterminated last event) one byte at a time, then drops the
  connection; connection 2 echoes the Last-Event-ID it got and ends;
  connection 3 answers 204 (the client must stop for good).
html: answers 200 text/html.   e404: answers 404 with a body.
poll: a plain long-poll resource with ETag (nchan-like): each request with
  If-None-Match of the current tag waits, then a new body + tag.
bytes: answers every request with a body that is not UTF-8 (and an ETag).
nocontent: a long poll that answers 204 No Content at once to requests 1
  and 2, then 200 "hello after N requests", then 204 again; each request
  is a line "request N" on stderr.
"""
import http.server
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "edge"
count = 0
EDGE = (b"\xef\xbb\xbf"
        b"data: one\r\nid: 1\r\n\r\n"
        b": a comment\n"
        b"event: tick\rdata:two\rdata\r\r"
        b"id: 2\x00x\n"
        b"retry: abc\n"
        b"retry: 100\n"
        b"data: three\n\n"
        b"id: 3\r\ndata: four\r\n\r\n"
        b"data: never dispatched")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        global count
        count += 1
        if mode == "html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<p>not a stream</p>")
            return
        if mode == "e404":
            body = b"no such channel\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "bytes":
            body = b"\xff\xfe ok"
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", '"b%d"' % count)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "nocontent":
            sys.stderr.write("request %d\n" % count)
            sys.stderr.flush()
            body = ("hello after %d requests" % count).encode()
            self.send_response(200 if count == 3 else 204)
            if count == 3:
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if count == 3:
                self.wfile.write(body)
            return
        if mode == "poll":
            tag = '"v%d"' % count
            if self.headers.get("If-None-Match") is None and count > 1:
                self.send_response(500)
                self.end_headers()
                return
            time.sleep(0.05)
            body = ("update %d (if-none-match=%s)" % (count, self.headers.get("If-None-Match"))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("ETag", tag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if count >= 3:
            self.send_response(204)
            self.end_headers()
            return
        if count == 1:
            # chunked, so that cutting it is visibly a broken response
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(len(EDGE)):
                self.wfile.write(b"1\r\n" + EDGE[i:i + 1] + b"\r\n")
                self.wfile.flush()
                time.sleep(0.001)
            self.close_connection = True
            self.connection.shutdown(2)  # drop, mid-event
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        lid = self.headers.get("Last-Event-ID")
        self.wfile.write(("data: resumed lid=%s\n\n" % lid).encode())

    def log_message(self, *a):
        pass


s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
