#!/usr/bin/env node
// ws_deflate.js — permessage-deflate (RFC 7692) against a running
// `pushwire serve`, with real peers: Node `ws` (perMessageDeflate on),
// Chromium (playwright-core, Debian's /usr/bin/chromium; it offers deflate on
// every WebSocket), and a raw socket that looks at the frames themselves.
//
//   node ws_deflate.js node|browser|raw PORT MAX_MESSAGE [context]
//
// `context`: serve runs with --deflate-context (the answer keeps context
// takeover); otherwise the default, server_no_context_takeover and
// client_no_context_takeover in the answer.
// The corpus: text and binary messages of 0 B to MAX_MESSAGE bytes (below
// and above the 64-byte compression threshold, compressible and not), then
// 1 000 more.  Every peer must receive exactly what was sent, in order.
// Prints `ok MODE: what was checked` or `FAIL MODE: why` (exit 1).
// Every wait is bounded (WAIT_MS); the whole run is bounded by the caller.
'use strict';
const http = require('http');
const net = require('net');
const zlib = require('zlib');

const WAIT_MS = 60000;
const [mode, portArg, maxArg, ctxArg] = process.argv.slice(2);
const PORT = Number(portArg);
const MAX = Number(maxArg);
const CONTEXT = ctxArg === 'context';
const uniq = `${process.pid}-${Date.now() % 100000}`;

function fail(msg) { const e = new Error(msg); e.check = true; throw e; }
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// The corpus, the same in Node and in the page (this function's source is
// evaluated there too): [{ t: 'text'|'binary', d: string|Uint8Array }]
function corpus(max) {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const words = ['alpha', 'beta', 'gamma', 'pushwire', 'deflate', 'κόσμε', '✓', '{"id":', '}'];
  const text = (n) => {
    let s = '';
    while (s.length < n) s += words[rnd() % words.length] + ' ';
    // cut to n UTF-16 units, never inside a surrogate pair (none here)
    return s.slice(0, n);
  };
  const bin = (n, random) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = random || rnd() % 4 === 0 ? rnd() & 255 : 65 + (i % 7);
    return b;
  };
  const out = [];
  for (const n of [0, 1, 40, 63, 64, 65, 100, 300, 1000, 4096, 16384, 65536]) {
    out.push({ t: 'text', d: text(n) });
    out.push({ t: 'binary', d: bin(n, false) });
  }
  out.push({ t: 'binary', d: bin(1000, true) });   // does not shrink: sent plain
  out.push({ t: 'binary', d: bin(4096, true) });
  out.push({ t: 'binary', d: bin(max, false) });    // exactly --max-message
  out.push({ t: 'text', d: 'x'.repeat(max) });
  for (let i = 0; i < 1000; i++) {
    const n = [10, 70, 300, 1500][i % 4];
    out.push(i % 5 === 4 ? { t: 'binary', d: bin(n, false) } : { t: 'text', d: `${i} ` + text(n) });
  }
  return out;
}

function same(a, b) {
  if (a.t !== b.t) return false;
  if (a.t === 'text') return a.d === b.d;
  if (a.d.length !== b.d.length) return false;
  for (let i = 0; i < a.d.length; i++) if (a.d[i] !== b.d[i]) return false;
  return true;
}
const describe = (m) => `${m.t} of ${m.d.length}`;

// --- Node ws ------------------------------------------------------------------
async function nodeWs() {
  const WebSocket = require('ws');
  const url = `ws://127.0.0.1:${PORT}/ws/zn-${uniq}`;
  const open = () => new Promise((ok, ko) => {
    const w = new WebSocket(url, { perMessageDeflate: { threshold: 0 }, maxPayload: MAX + 1024,
                                   handshakeTimeout: WAIT_MS });
    w.got = [];
    w.on('message', (data, isBinary) => w.got.push(isBinary ? { t: 'binary', d: new Uint8Array(data) }
                                                            : { t: 'text', d: data.toString('utf8') }));
    w.on('upgrade', (res) => { w.ext = res.headers['sec-websocket-extensions'] || ''; });
    w.on('open', () => ok(w));
    w.on('error', ko);
  });
  const a = await open(), b = await open();
  check(/permessage-deflate/.test(a.ext), `no permessage-deflate in the answer: '${a.ext}'`);
  const want = !CONTEXT;
  check(/server_no_context_takeover/.test(a.ext) === want && /client_no_context_takeover/.test(a.ext) === want,
        `answer '${a.ext}' (context takeover ${CONTEXT ? 'kept' : 'off'} expected)`);
  const sent = corpus(MAX);
  for (const m of sent) {
    await new Promise((ok, ko) => a.send(m.d, { binary: m.t === 'binary', compress: true }, (e) => (e ? ko(e) : ok())));
  }
  const end = Date.now() + WAIT_MS;
  while ((b.got.length < sent.length || a.got.length < sent.length) && Date.now() < end) await sleep(20);
  for (const [who, w] of [['subscriber', b], ['publisher', a]]) {
    check(w.got.length === sent.length, `${who} got ${w.got.length} of ${sent.length} messages`);
    for (let i = 0; i < sent.length; i++) {
      check(same(w.got[i], sent[i]), `${who}, message ${i}: got ${describe(w.got[i])}, sent ${describe(sent[i])}`);
    }
  }
  const closed = new Promise((ok) => a.on('close', (code) => ok(code)));
  a.close(1000, 'done');
  check((await closed) === 1000, 'close 1000 expected');
  b.terminate();
  console.log(`ok node: ${sent.length} messages (0 B to ${MAX} B, text and binary) sent compressed by a Node ws client ` +
              `and received, identical and in order, by it and by a second Node ws client; answer '${a.ext}'`);
}

// --- Chromium -----------------------------------------------------------------
async function browser() {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { chromium } = require('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const p = await ctx.newPage();
    await p.goto(`http://127.0.0.1:${PORT}/healthz`);
    const r = await p.evaluate(async ({ url, max, WAIT_MS, src }) => {
      const corpus = eval(`(${src})`);   // the same corpus as in Node
      const open = () => new Promise((ok, ko) => {
        const w = new WebSocket(url);
        w.binaryType = 'arraybuffer';
        w.got = [];
        w.onmessage = (e) => w.got.push(typeof e.data === 'string' ? { t: 'text', d: e.data }
                                                                     : { t: 'binary', d: new Uint8Array(e.data) });
        w.onopen = () => ok(w);
        w.onerror = () => ko(new Error('WebSocket error'));
        setTimeout(() => ko(new Error('WebSocket open timed out')), WAIT_MS);
      });
      const a = await open(), b = await open();
      const sent = corpus(max);
      for (const m of sent) {
        a.send(m.d);
        while (a.bufferedAmount > 1 << 20) await new Promise((ok) => setTimeout(ok, 5));
      }
      const t0 = Date.now();
      while ((b.got.length < sent.length || a.got.length < sent.length) && Date.now() - t0 < WAIT_MS)
        await new Promise((ok) => setTimeout(ok, 20));
      const bad = [];
      const same = (x, y) => x && x.t === y.t && (x.t === 'text' ? x.d === y.d
        : x.d.length === y.d.length && x.d.every((v, i) => v === y.d[i]));
      for (const [who, w] of [['subscriber', b], ['publisher', a]]) {
        if (w.got.length !== sent.length) bad.push(`${who} got ${w.got.length} of ${sent.length}`);
        for (let i = 0; i < sent.length && bad.length < 5; i++)
          if (!same(w.got[i], sent[i])) bad.push(`${who}, message ${i} (${sent[i].t} of ${sent[i].d.length}) differs`);
      }
      const closed = new Promise((ok) => { a.onclose = (e) => ok({ code: e.code, clean: e.wasClean }); });
      a.close(1000, 'done');
      const close = await closed;
      b.close();
      return { n: sent.length, bad, close, ext: a.extensions };
    }, { url: `ws://127.0.0.1:${PORT}/ws/zb-${uniq}`, max: MAX, WAIT_MS, src: corpus.toString() });
    check(r.bad.length === 0, r.bad.join('; '));
    check(/permessage-deflate/.test(r.ext), `Chromium did not agree permessage-deflate: '${r.ext}'`);
    check(r.close.code === 1000 && r.close.clean, `close: code ${r.close.code}, clean ${r.close.clean}`);
    const answer = r.ext;   // WebSocket.extensions: the server's answer
    check(/server_no_context_takeover/.test(answer) === !CONTEXT, `answer '${answer}'`);
    console.log(`ok browser: ${r.n} messages (0 B to ${MAX} B, text and binary) sent by Chromium (compressed) and received, ` +
                `identical and in order, by it and by a second Chromium WebSocket; answer '${answer}'`);
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- raw frames -----------------------------------------------------------------
// POST /pub/CHANNEL; resolves when answered 200
function publish(ch, m) {
  return new Promise((ok, ko) => {
    const body = m.t === 'text' ? Buffer.from(m.d, 'utf8') : Buffer.from(m.d);
    const req = http.request({ host: '127.0.0.1', port: PORT, method: 'POST', path: `/pub/${ch}`, timeout: WAIT_MS,
                               headers: { 'Content-Type': m.t === 'text' ? 'text/plain' : 'application/octet-stream' } },
                             (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? ok() : ko(new Error(`POST: ${res.statusCode}`)))); });
    req.on('error', ko);
    req.end(body);
  });
}

// A WebSocket with the browsers' offer on a plain socket: the frames as sent.
async function raw() {
  const ch = `zr-${uniq}`;
  const s = net.connect(PORT, '127.0.0.1');
  let buf = Buffer.alloc(0), head = null;
  const frames = [];
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (!head) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) return;
      head = buf.slice(0, e).toString();
      buf = buf.slice(e + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 127, hl = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); hl = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); hl = 10; }
      if (buf.length < hl + len) return;
      frames.push({ fin: buf[0] >> 7, rsv1: (buf[0] >> 6) & 1, op: buf[0] & 15, p: buf.slice(hl, hl + len) });
      buf = buf.slice(hl + len);
    }
  });
  await new Promise((ok, ko) => { s.on('connect', ok); s.on('error', ko); });
  s.write(`GET /ws/${ch} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n');
  const t0 = Date.now();
  while (!head && Date.now() - t0 < WAIT_MS) await sleep(10);
  check(head && / 101 /.test(head.split('\r\n')[0]), `no 101: ${head}`);
  const ext = (head.match(/^sec-websocket-extensions: *(.*)$/im) || [])[1] || '';
  check(/^permessage-deflate/.test(ext), `answer '${ext}'`);
  check(/server_no_context_takeover/.test(ext) === !CONTEXT && /client_no_context_takeover/.test(ext) === !CONTEXT,
        `answer '${ext}' (context takeover ${CONTEXT ? 'kept' : 'off'} expected)`);
  check(/client_max_window_bits=1[0-5]|client_max_window_bits=9/.test(ext), `no client_max_window_bits=N in '${ext}'`);
  const sent = corpus(Math.min(MAX, 1 << 20)).slice(0, 40);
  for (const m of sent) await publish(ch, m);
  while (frames.length < sent.length && Date.now() - t0 < WAIT_MS) await sleep(10);
  check(frames.length === sent.length, `${frames.length} frames of ${sent.length}`);
  let zipped = 0;
  for (let i = 0; i < sent.length; i++) {
    const f = frames[i], m = sent[i];
    const bytes = m.t === 'text' ? Buffer.from(m.d, 'utf8') : Buffer.from(m.d);
    check(f.fin === 1 && f.op === (m.t === 'text' ? 1 : 2), `frame ${i}: fin ${f.fin} opcode ${f.op}`);
    if (bytes.length < 64) check(!f.rsv1, `frame ${i}: a ${bytes.length}-byte message was compressed`);
    if (!f.rsv1) { check(f.p.equals(bytes), `frame ${i}: plain payload differs`); continue; }
    zipped++;
    check(f.p.length < bytes.length, `frame ${i}: compressed ${f.p.length} B is not smaller than ${bytes.length} B`);
    if (CONTEXT) continue;   // context takeover: Node ws checks the content
    // no context takeover: each payload inflates alone (RFC 7692 §7.2.2)
    const out = zlib.inflateRawSync(Buffer.concat([f.p, Buffer.from([0, 0, 255, 255])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    check(out.equals(bytes), `frame ${i}: inflates to ${out.length} B, sent ${bytes.length} B`);
  }
  check(zipped >= 15, `only ${zipped} of ${sent.length} messages were compressed`);
  s.destroy();
  console.log(`ok raw: answer '${ext}'; ${sent.length} POSTed messages: under 64 B and incompressible ones plain, ` +
              `${zipped} compressed (RSV1, smaller${CONTEXT ? '' : ', each inflating alone'})`);
}

(async () => {
  const fns = { node: nodeWs, browser, raw };
  if (!fns[mode] || !PORT || !MAX) {
    console.error('usage: node ws_deflate.js node|browser|raw PORT MAX_MESSAGE [context]');
    process.exit(2);
  }
  try {
    await fns[mode]();
  } catch (e) {
    console.log(`FAIL ${mode}: ${e.check ? e.message : e.stack}`);
    process.exit(1);
  }
  process.exit(0);
})();
