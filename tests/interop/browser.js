#!/usr/bin/env node
// browser.js — Chromium (Debian's, headless, driven by playwright-core; no
// browser is downloaded) against a running `pushwire serve`.
//
//   node browser.js all|SCENARIO PORT
//   SCENARIO: page | websocket | eventsource-drop | longpoll
//
// One browser runs the scenarios in turn; each prints `ok NAME: what was
// checked` or `FAIL NAME: why`; exit 1 if any failed.
// Every wait is bounded (WAIT_MS); the whole run is bounded by the caller.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const http = require('http');
const { chromium } = require('playwright-core');

const WAIT_MS = 20000;
const [scenario, portArg] = process.argv.slice(2);
const PORT = Number(portArg);
const HTTP = `http://127.0.0.1:${PORT}`;
const uniq = `${process.pid}-${Date.now() % 100000}`;

function fail(msg) { const e = new Error(msg); e.check = true; throw e; }
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

async function until(fn, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timed out after ${ms / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

// POST /pub/CHANNEL straight to serve; resolves to the parsed answer
function publish(channel, body, port = PORT) {
  return new Promise((ok, ko) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/pub/${channel}`,
                               headers: { 'Content-Type': 'text/plain' }, timeout: 5000 }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) return ko(new Error(`POST /pub/${channel}: ${res.statusCode} ${b}`));
        try { ok(JSON.parse(b)); } catch (e) { ko(new Error(`POST answer is not JSON: ${b}`)); }
      });
    });
    req.on('error', ko);
    req.on('timeout', () => req.destroy(new Error('POST timed out')));
    req.end(body);
  });
}

async function launch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
  return { ctx, dir };
}

// --- scenarios ---------------------------------------------------------------

// GET / : no external asset, no script error, the three transports open, and a
// message published over POST shows up once in each of the three panes.
async function page(ctx) {
  const p = await ctx.newPage();
  const errors = [], foreign = [], paths = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  // a 404 for /favicon.ico is the browser asking, not the page failing
  p.on('response', (r) => { if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') errors.push(`${r.status()} for ${r.url()}`); });
  p.on('request', (r) => {
    const u = new URL(r.url());
    if (u.host !== `127.0.0.1:${PORT}`) foreign.push(r.url());
    paths.push(u.pathname);
  });
  p.on('websocket', (w) => paths.push(new URL(w.url()).pathname));
  const res = await p.goto(`${HTTP}/`, { timeout: WAIT_MS });
  check(res.status() === 200, `GET / answered ${res.status()}`);
  check(/text\/html/.test(res.headers()['content-type'] || ''), `GET / is ${res.headers()['content-type']}, not text/html`);
  await until(() => ['/ws/', '/sse/', '/poll/'].every((t) => paths.some((x) => x.startsWith(t))),
              `the page to open /ws/, /sse/ and /poll/ (it opened ${[...new Set(paths)].join(' ')})`);
  const ch = paths.find((x) => x.startsWith('/sse/')).slice(5);
  check(foreign.length === 0, `the page loads assets from elsewhere: ${foreign.join(' ')}`);
  // the WebSocket must be open before publishing (it does not resume by itself)
  await sleep(300);
  const token = `tok-${uniq}`;
  await publish(ch, token);
  const count = () => p.evaluate((t) => document.body.innerText.split(t).length - 1, token);
  await until(async () => (await count()) >= 3, `'${token}' to appear in the three panes`);
  await sleep(300);
  const n = await count();
  check(n === 3, `'${token}' appears ${n} times on the page, expected 3 (one per transport)`);
  check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  console.log(`ok page: GET / is HTML with no external asset; it subscribed to '${decodeURIComponent(ch)}' over ws, sse, poll; a POSTed message showed in all three panes`);
}

// same-origin blank context for API-level tests
async function blank(ctx) {
  const p = await ctx.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(`${HTTP}/healthz`, { timeout: WAIT_MS });
  return { p, errors };
}

// WebSocket: text stays text, binary stays binary, order kept, POSTed messages
// reach WebSocket subscribers, pushwire.v1 envelopes resume from ?since=, close 1000.
async function websocket(ctx) {
  const { p } = await blank(ctx);
  const ch = `bws-${uniq}`;
  const r = await p.evaluate(async ({ ch, port, WAIT_MS }) => {
    const url = `ws://127.0.0.1:${port}/ws/${ch}`;
    const open = (u, proto) => new Promise((ok, ko) => {
      const w = proto ? new WebSocket(u, proto) : new WebSocket(u);
      w.binaryType = 'arraybuffer';
      w.got = [];
      w.onmessage = (e) => w.got.push(typeof e.data === 'string' ? { t: 'text', d: e.data }
                                                                   : { t: 'binary', d: Array.from(new Uint8Array(e.data)) });
      w.onopen = () => ok(w);
      w.onerror = () => ko(new Error('WebSocket error on ' + u));
      setTimeout(() => ko(new Error('WebSocket open timed out: ' + u)), WAIT_MS);
    });
    const wait = (fn, what) => new Promise((ok, ko) => {
      const t0 = Date.now();
      const i = setInterval(() => {
        if (fn()) { clearInterval(i); ok(); } else if (Date.now() - t0 > WAIT_MS) { clearInterval(i); ko(new Error('timed out: ' + what)); }
      }, 20);
    });
    const a = await open(url), b = await open(url);
    const sent = [];
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 9) { const bin = new Uint8Array([i, 0, 255, 128, 1]); a.send(bin.buffer); sent.push({ t: 'binary', d: Array.from(bin) }); }
      else { const s = `text ${i} ✓ κόσμε`; a.send(s); sent.push({ t: 'text', d: s }); }
    }
    await wait(() => b.got.length >= 50, 'subscriber B to get 50 messages');
    const closed = new Promise((ok) => { a.onclose = (e) => ok({ code: e.code, clean: e.wasClean }); });
    a.close(1000, 'done');
    const close = await closed;
    return { sent, got: b.got, close, proto: b.protocol };
  }, { ch, port: PORT, WAIT_MS });
  check(r.got.length === 50, `subscriber got ${r.got.length} messages, expected 50`);
  for (let i = 0; i < 50; i++) {
    check(JSON.stringify(r.got[i]) === JSON.stringify(r.sent[i]),
          `message ${i}: got ${JSON.stringify(r.got[i])}, sent ${JSON.stringify(r.sent[i])}`);
  }
  check(r.close.code === 1000 && r.close.clean, `close: code ${r.close.code}, clean ${r.close.clean}`);

  // POST reaches a WebSocket subscriber; pushwire.v1 resume from ?since=
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await publish(ch, `posted ${i}`)).id);
  const v1 = await p.evaluate(async ({ ch, port, WAIT_MS }) => {
    const w = new WebSocket(`ws://127.0.0.1:${port}/ws/${ch}?since=0`, 'pushwire.v1');
    const got = [];
    w.onmessage = (e) => got.push(e.data);
    await new Promise((ok, ko) => { w.onopen = ok; w.onerror = () => ko(new Error('pushwire.v1 open failed')); setTimeout(ko, WAIT_MS); });
    const t0 = Date.now();
    while (got.length < 55 && Date.now() - t0 < WAIT_MS) await new Promise((ok) => setTimeout(ok, 20));
    const proto = w.protocol;
    w.close();
    return { got, proto };
  }, { ch, port: PORT, WAIT_MS });
  check(v1.proto === 'pushwire.v1', `subprotocol '${v1.proto}' negotiated, expected pushwire.v1`);
  check(v1.got.length === 55, `?since=0 replayed ${v1.got.length} messages, expected 55`);
  const env = v1.got.map((s) => JSON.parse(s));
  for (let i = 0; i < 50; i++) {
    const want = r.sent[i];
    const e = env[i];
    check(e.channel === ch, `envelope ${i} channel '${e.channel}'`);
    if (want.t === 'text') check(e.data === want.d && !e.encoding, `envelope ${i}: ${JSON.stringify(e)}`);
    else check(e.encoding === 'base64' && Buffer.from(e.data, 'base64').equals(Buffer.from(want.d)), `binary envelope ${i}: ${JSON.stringify(e)}`);
  }
  for (let i = 0; i < 5; i++) {
    check(env[50 + i].data === `posted ${i}` && env[50 + i].id === ids[i], `envelope ${50 + i}: ${JSON.stringify(env[50 + i])} (POST said id ${ids[i]})`);
  }
  const idset = new Set(env.map((e) => e.id));
  check(idset.size === 55, 'envelope ids are not unique');
  console.log('ok websocket: 50 messages (text and binary) from one browser WebSocket to another in order, close 1000 clean; 5 POSTs; pushwire.v1 ?since=0 replayed all 55 as envelopes with the POST ids');
}

// EventSource: the connection is cut server-side (by a TCP proxy between the
// browser and serve, at a message boundary the browser cannot see) while
// messages keep being published; the browser reconnects by itself with
// Last-Event-ID and must end with every message exactly once, in order.
async function eventsourceDrop(ctx) {
  const conns = [];
  const heads = [];
  const proxy = net.createServer((down) => {
    const up = net.connect(PORT, '127.0.0.1');
    const pair = { down, up };
    conns.push(pair);
    let head = '';
    down.on('data', (d) => { if (head.length < 8192) { head += d.toString('latin1'); if (head.includes('\r\n\r\n')) heads.push(head); } });
    down.pipe(up); up.pipe(down);
    const end = () => { down.destroy(); up.destroy(); };
    down.on('error', end); up.on('error', end); down.on('close', end); up.on('close', end);
  });
  await new Promise((ok) => proxy.listen(0, '127.0.0.1', ok));
  const pport = proxy.address().port;
  try {
    const p = await ctx.newPage();
    await p.goto(`http://127.0.0.1:${pport}/healthz`, { timeout: WAIT_MS });
    const ch = `bsse-${uniq}`;
    await p.evaluate(({ ch }) => {
      window.got = []; window.opens = 0; window.errors = 0;
      const es = new EventSource(`/sse/${ch}`);
      es.onopen = () => { window.opens++; };
      es.onerror = () => { window.errors++; };
      es.onmessage = (e) => window.got.push({ id: e.lastEventId, data: e.data });
      window.es = es;
    }, { ch });
    await until(() => p.evaluate(() => window.opens >= 1), 'EventSource to open');
    const N = 40, DROP_AT = 15;
    const ids = [];
    for (let i = 1; i <= N; i++) {
      ids.push((await publish(ch, `m-${i}`)).id);
      if (i === DROP_AT) {
        await until(() => p.evaluate((n) => window.got.length >= n, DROP_AT), `the browser to have ${DROP_AT} messages`);
        for (const c of conns) { c.down.destroy(); c.up.destroy(); }   // the drop
      }
      await sleep(25);   // keep publishing through the outage and the reconnect
    }
    await until(() => p.evaluate((n) => window.got.length >= n, N), `all ${N} messages after the reconnect`);
    await sleep(500);   // a duplicate would arrive now
    const r = await p.evaluate(() => ({ got: window.got, opens: window.opens, errors: window.errors, state: window.es.readyState }));
    const data = r.got.map((m) => m.data);
    const want = Array.from({ length: N }, (_, i) => `m-${i + 1}`);
    check(JSON.stringify(data) === JSON.stringify(want),
          `lost or duplicated: got [${data.join(',')}]`);
    check(JSON.stringify(r.got.map((m) => m.id)) === JSON.stringify(ids), `lastEventId values ${r.got.map((m) => m.id)} are not the POST ids ${ids}`);
    check(r.opens >= 2 && r.errors >= 1, `the browser did not reconnect (opens ${r.opens}, errors ${r.errors})`);
    const resumed = heads.filter((h) => /^GET \/sse\//.test(h) && /\r\nlast-event-id: *[^\r]+/i.test(h));
    check(resumed.length >= 1, 'no reconnect carried a Last-Event-ID header');
    const lei = /\r\nlast-event-id: *([^\r]+)/i.exec(resumed[0])[1];
    check(ids.indexOf(lei) >= DROP_AT - 1, `the reconnect sent Last-Event-ID '${lei}', expected the id of message ${DROP_AT} or later`);
    console.log(`ok eventsource-drop: cut after message ${DROP_AT}; the browser reconnected by itself (${r.opens} opens) with Last-Event-ID ${lei}; all ${N} messages once, in order`);
  } finally {
    proxy.close();
    for (const c of conns) { c.down.destroy(); c.up.destroy(); }
  }
}

// fetch long-poll loop: cursors carry the client across bursts; a message
// published between two requests is delivered by the next one.
async function longpoll(ctx) {
  const { p } = await blank(ctx);
  const ch = `bpoll-${uniq}`;
  const first = (await publish(ch, 'before')).id;
  await p.evaluate(({ ch, first }) => {
    window.got = []; window.requests = 0; window.failed = null;
    (async () => {
      let cursor = first;
      while (window.got.length < 60 && !window.failed) {
        window.requests++;
        try {
          const r = await fetch(`/poll/${ch}?cursor=${encodeURIComponent(cursor)}&timeout=5`);
          if (!r.ok) { window.failed = `HTTP ${r.status}`; break; }
          const b = await r.json();
          if (b.gap) { window.failed = 'unexpected gap: ' + JSON.stringify(b); break; }
          for (const m of b.messages) window.got.push({ id: m.id, data: m.data });
          cursor = b.cursor;
        } catch (e) { window.failed = String(e); }
      }
    })();
  }, { ch, first });
  const ids = [];
  for (let burst = 0; burst < 6; burst++) {
    for (let i = 0; i < 10; i++) ids.push((await publish(ch, `p-${burst * 10 + i}`)).id);
    await sleep(burst % 2 ? 300 : 0);   // sometimes while a poll is held, sometimes between two
  }
  await until(() => p.evaluate(() => window.got.length >= 60 || window.failed), 'the poll loop to get 60 messages');
  const r = await p.evaluate(() => ({ got: window.got, requests: window.requests, failed: window.failed }));
  check(!r.failed, `poll loop failed: ${r.failed}`);
  const want = Array.from({ length: 60 }, (_, i) => `p-${i}`);
  check(JSON.stringify(r.got.map((m) => m.data)) === JSON.stringify(want), `lost or duplicated: ${r.got.map((m) => m.data)}`);
  check(JSON.stringify(r.got.map((m) => m.id)) === JSON.stringify(ids), 'message ids differ from the POST answers');
  console.log(`ok longpoll: 60 messages in 6 bursts over ${r.requests} fetch requests, in order, none lost or repeated`);
}

const SCENARIOS = { page, websocket, 'eventsource-drop': eventsourceDrop, longpoll };

const T0 = Date.now();
const trace = (what) => { if (process.env.BROWSER_TRACE) console.error(`browser.js: ${what} at ${Date.now() - T0} ms`); };

(async () => {
  const names = scenario === 'all' ? Object.keys(SCENARIOS) : [scenario];
  if (!names.every((n) => SCENARIOS[n]) || !PORT) {
    console.error(`usage: node browser.js all|${Object.keys(SCENARIOS).join('|')} PORT`);
    process.exit(2);
  }
  const { ctx, dir } = await launch();
  trace('launched');
  let rc = 0;
  try {
    for (const n of names) {   // one browser for all: its start-up is the slow part
      try {
        await SCENARIOS[n](ctx);
        trace(`${n} done`);
      } catch (e) {
        console.log(`FAIL ${n}: ${e.check ? e.message : e.stack}`);
        rc = 1;
      }
    }
  } finally {
    await ctx.close().catch(() => {});
    trace('closed');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
