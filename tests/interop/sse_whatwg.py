#!/usr/bin/python3
"""sse_whatwg.py — scripted event streams for tests/interop/sse_whatwg.bats
(stdlib only).  The same streams go to Chromium's EventSource and to
`pushwire connect`; the server records every request each of them made, so
the two can be compared request by request (path, host, Last-Event-ID).

usage: sse_whatwg.py     prints its port on stdout, serves until killed.

  GET /blank                    an empty HTML page (the browser's origin)
  GET /log?run=R                the requests of run R, in order, as JSON:
                                [{"scenario","conn","path","host","lei","auth","cookie"}]
                                (lei: the Last-Event-ID header, or null)
  GET /s/NAME/LEAF?run=R        scenario NAME.  r.conn counts the requests of
                                (R, NAME) from 1, redirect hops included;
                                r.visit counts those of (R, NAME, LEAF).

A scenario answers with the responses it scripts, then 204, which ends
Chromium's EventSource and `connect --reconnect` for good.  Streams start
with `retry: 50` so that Chromium reconnects quickly, and end by closing the
connection (HTTP/1.0), which both clients answer by reconnecting.
"""
import http.server
import json
import threading
import time
import urllib.parse

LOCK = threading.Lock()
COUNT = {}
LOG = {}

ES = "text/event-stream"
R50 = b"retry: 50\n"
BIG = 2 * 1024 * 1024 + 17  # one event over 1 MiB


class Resp:
    def __init__(self, status=200, ctype=ES, body=(), headers=(), bytewise=False):
        self.status, self.ctype, self.body = status, ctype, list(body)
        self.headers, self.bytewise = list(headers), bytewise


NOTHING = Resp(0)  # close the connection without an answer


class Req:
    def __init__(self, leaf, conn, visit, query):
        self.leaf, self.conn, self.visit, self.query = leaf, conn, visit, query


def stop():
    return Resp(204, None)


def stream(*pieces, then_stop_after=1):
    """a scenario of one stream, then 204"""
    def s(r):
        return Resp(body=[R50 + pieces[0]] + list(pieces[1:])) if r.conn <= then_stop_after else stop()
    return s


def big_payload(n, tag):
    """n printable bytes in which a lost or moved piece shows"""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += b"%08d" % i + tag * 56
        i += 1
    return bytes(out[:n])


# ---- scenarios -----------------------------------------------------------------

def s_emptyid(r):
    """the last event ID buffer: an empty id, an id with NUL, an id with no
    data, an id in an unterminated event, a UTF-8 id"""
    if r.conn == 1:
        return Resp(body=[R50 + b"id: 1\ndata: a\n\n", b"id\ndata: b\n\n"])
    if r.conn == 2:   # comes without Last-Event-ID
        return Resp(body=[R50 + b"data: c\n\n", b"id: 2\n\n"])
    if r.conn == 3:   # Last-Event-ID: 2
        return Resp(body=[R50 + b"data: d\n\n", b"id: x\x00y\ndata: e\n\n",
                          "id: \u00e9\u2713\ndata: f\n\n".encode(), b"id: 4\ndata: never"])
    if r.conn == 4:   # Last-Event-ID: é✓ (UTF-8), not 4
        return Resp(body=[R50 + b"id:\n\n"])
    return stop()     # no Last-Event-ID again


def s_idcarry(r):
    """the last id of one connection is the lastEventId of the next one's
    events until the server sends another"""
    if r.conn == 1:
        return Resp(body=[R50 + b"id: 7\ndata: a\n\n"])
    if r.conn == 2:
        return Resp(body=[R50 + b"data: b\n\n", b"id: 8\ndata: c\n\n"])
    return stop()


def redirect(code):
    def s(r):
        nxt = {"start": "hop", "hop": "final"}.get(r.leaf)
        if nxt:
            return Resp(code, "text/plain", [b"moved\n"], [("Location", nxt + "?" + r.query)])
        if r.leaf == "final" and r.visit == 1:
            return Resp(body=[R50 + b"id: r1\ndata: via %d\n\n" % code])
        if r.leaf == "final":   # the reconnection came here: send it on
            return Resp(code, "text/plain", [b"moved on\n"], [("Location", "moved?" + r.query)])
        if r.leaf == "moved" and r.visit == 1:
            return Resp(body=[R50 + b"id: m1\ndata: moved on\n\n"])
        return stop()
    s.__doc__ = ("%d from start to hop to final, which streams; the reconnection goes "
                 "to final, which sends it on to moved; the next one to moved" % code)
    return s


def s_loop(r):
    """redirects without end: 21 requests (20 redirects followed), then the
    reconnection starts again from the first URL and gets a 204"""
    if r.conn > 21:
        return stop()
    n = int(r.leaf) if r.leaf.isdigit() else 0
    return Resp(307, "text/plain", [b"again\n"], [("Location", "%d?%s" % (n + 1, r.query))])


def s_cross(r):
    """a redirect to another origin (the same port under another host name)"""
    if r.leaf == "start":
        return Resp(302, "text/plain", [b""],
                    [("Location", "http://localhost:%d/s/cross/final?%s" % (PORT, r.query))])
    if r.visit == 1:
        return Resp(body=[R50 + b"id: x1\ndata: crossed\n\n"])
    return stop()


def s_big(r):
    """events over 1 MiB: one on a single line, one on many data: lines"""
    if r.conn > 1:
        return stop()
    one = big_payload(BIG, b"A")
    many = big_payload(BIG, b"B")
    lines = b"".join(b"data: " + many[i:i + 1000] + b"\n" for i in range(0, len(many), 1000))
    return Resp(body=[R50 + b"data: " + one + b"\n\n", lines + b"\n", b"data: small\n\n"])


EDGE = (b"\xef\xbb\xbf" + R50 +
        b"data: one\r\nid: 1\r\n\r\n"
        b": a comment\n"
        b"event: tick\rdata:two\rdata\r\r"
        b"retry: abc\n"
        b"retry: 99999999999999999999999\n"
        b"data:  two spaces\n\n"
        b"Data: case\n\n"
        b"data\n\n"
        b"data:\ndata:\n\n"
        b"\xef\xbb\xbfdata: second BOM\n\n"
        b"data: bad \xff\xfe utf-8 \xe2\x82\n\n"
        b"event\ndata: no type\n\n"
        b"id: 3\r\ndata: four\r\n\r")


def s_lines(r):
    """BOM, CR/LF/CRLF, comments, field edge cases, one byte a write"""
    if r.conn == 1:
        return Resp(body=[EDGE], bytewise=True)
    if r.conn == 2:   # a new stream: its own BOM is stripped again
        return Resp(body=[b"\xef\xbb\xbfdata: again\n\n"])
    return stop()


def s_noanswer(r):
    """a connection closed before any answer is a network error: reconnect"""
    if r.conn == 1:
        return NOTHING
    if r.conn == 2:
        return Resp(body=[R50 + b"data: after no answer\n\n"])
    return stop()


def status(code, ctype=ES, headers=()):
    def s(r):
        if r.conn > 1:
            return stop()
        return Resp(code, ctype, [R50 + b"data: should not be seen\n\n"], headers)
    s.__doc__ = "answers %d %s, then 204" % (code, ctype)
    return s


SCENARIOS = {
    "emptyid": s_emptyid,
    "idcarry": s_idcarry,
    "r301": redirect(301), "r302": redirect(302), "r303": redirect(303),
    "r307": redirect(307), "r308": redirect(308),
    "loop": s_loop,
    "noanswer": s_noanswer,
    "cross": s_cross,
    "big": s_big,
    "lines": s_lines,
    "st204": status(204, None),
    "st201": status(201),
    "st206": status(206),
    "st300": status(300, headers=[("Location", "elsewhere")]),  # fetch does not follow a 300
    "st404": status(404),
    "st500": status(500),
    "st503": status(503),
    "html": status(200, "text/html"),
    "notype": status(200, None),
    "upper": status(200, "Text/Event-Stream"),
    "utf8cs": status(200, "text/event-stream; charset=UTF-8"),
    "latin1": status(200, "text/event-stream; charset=iso-8859-1"),
    # pushwire only (Chromium's reconnection delay can only be seen by timing it)
    "rempty": stream(b"retry:\ndata: x\n\n"),
    "rhuge": stream(b"retry: 99999999999999999999999\ndata: x\n\n"),
}


def utf8(v):
    # http.server decodes header bytes as Latin-1; the id went out as UTF-8
    return None if v is None else v.encode("latin-1").decode("utf-8", "replace")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        run = urllib.parse.parse_qs(u.query).get("run", [""])[0]
        if u.path == "/blank":
            return self.send(Resp(200, "text/html", [b"<!doctype html><title>sse</title>"]))
        if u.path == "/log":
            with LOCK:
                b = json.dumps(LOG.get(run, [])).encode()
            return self.send(Resp(200, "application/json", [b]))
        parts = u.path.split("/")
        if len(parts) != 4 or parts[1] != "s" or parts[2] not in SCENARIOS:
            return self.send(Resp(404, "text/plain", [b"no such scenario\n"]))
        name, leaf = parts[2], parts[3]
        with LOCK:
            conn = COUNT[(run, name)] = COUNT.get((run, name), 0) + 1
            visit = COUNT[(run, name, leaf)] = COUNT.get((run, name, leaf), 0) + 1
            LOG.setdefault(run, []).append({
                "scenario": name, "conn": conn, "path": u.path,
                "host": self.headers.get("Host"),
                "lei": utf8(self.headers.get("Last-Event-ID")),
                "auth": self.headers.get("Authorization"),
                "cookie": self.headers.get("Cookie"),
            })
        self.send(SCENARIOS[name](Req(leaf, conn, visit, u.query)))

    def send(self, r):
        if r is NOTHING:
            self.close_connection = True
            return
        self.send_response(r.status)
        if r.ctype:
            self.send_header("Content-Type", r.ctype)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Access-Control-Allow-Origin", "*")  # the cross-origin hop
        for k, v in r.headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            for piece in r.body:
                if r.bytewise:  # each byte its own write: splits land everywhere
                    for i in range(len(piece)):
                        self.wfile.write(piece[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.0005)
                else:
                    self.wfile.write(piece)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), H)
PORT = srv.server_address[1]
print(PORT, flush=True)
srv.serve_forever()
