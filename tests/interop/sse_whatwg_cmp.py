#!/usr/bin/python3
"""sse_whatwg_cmp.py — compares what Chromium's EventSource and `pushwire
connect --json` did with one scenario of sse_whatwg.py.

  sse_whatwg_cmp.py compare PORT SCENARIO BROWSER.jsonl BRUN PW.jsonl PWRUN
      events (type, lastEventId, data) and requests (path, host,
      Last-Event-ID) must be the same, in order; prints them, or both sides
      and where they differ (exit 1)
  sse_whatwg_cmp.py requests PORT RUN SCENARIO
      one line per request: PATH HOST LAST-EVENT-ID ("-" when none)

Data longer than 1000 characters is compared as its length and SHA-256.
"""
import hashlib
import json
import sys
import urllib.request


def log(port, run, scenario):
    with urllib.request.urlopen("http://127.0.0.1:%s/log?run=%s" % (port, run), timeout=10) as r:
        reqs = json.load(r)
    return [(q["path"], q["host"].replace(":%s" % port, ":PORT"), q["lei"]) for q in reqs if q["scenario"] == scenario]


def big(data):
    if isinstance(data, str) and len(data) > 1000:
        b = data.encode()
        return {"len": len(b), "sha256": hashlib.sha256(b).hexdigest()}
    return data


def browser_events(path, scenario):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["scenario"] == scenario:
                if "error" in r:
                    sys.exit("the browser failed on %s: %s" % (scenario, r["error"]))
                return [(e["type"], e["id"], e["data"]) for e in r["events"]]
    sys.exit("the browser did not run scenario %s (see %s)" % (scenario, path))


def pushwire_events(path):
    out = []
    with open(path) as f:
        for line in f:
            m = json.loads(line)
            out.append((m["event"], m["id"] or "", big(m["data"])))
    return out


def show(title, rows):
    print("%s (%d):" % (title, len(rows)))
    for r in rows:
        print("   ", json.dumps(r, ensure_ascii=False))


def compare(port, scenario, bfile, brun, pfile, prun):
    be, pe = browser_events(bfile, scenario), pushwire_events(pfile)
    br, pr = log(port, brun, scenario), log(port, prun, scenario)
    ok = be == pe and br == pr
    if ok:
        show("events, Chromium = pushwire", be)
        show("requests, Chromium = pushwire", br)
        return 0
    for what, b, p in (("events", be, pe), ("requests", br, pr)):
        if b != p:
            show("%s, Chromium" % what, b)
            show("%s, pushwire" % what, p)
            n = next((i for i in range(min(len(b), len(p))) if b[i] != p[i]), min(len(b), len(p)))
            print("%s differ from #%d on" % (what, n))
    return 1


def main(a):
    if len(a) == 7 and a[0] == "compare":
        return compare(*a[1:])
    if len(a) == 4 and a[0] == "requests":
        for path, host, lei in log(a[1], a[2], a[3]):
            print(path, host, "-" if lei is None else lei)
        return 0
    sys.exit(__doc__)


sys.exit(main(sys.argv[1:]))
