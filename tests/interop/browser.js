#!/usr/bin/env node
// browser.js — Chromium (Debian's, headless, driven by playwright-core; no
// browser is downloaded) against a running `pushwire serve`.
//
//   node browser.js all|SCENARIO PORT
//   SCENARIO: page | page-channel | page-token | page-drop | page-gap | page-metrics |
//             page-event | page-publish | page-hidden |
//             websocket | eventsource-drop | eventsource-restart | longpoll |
//             page-gap-named | page-tls | page-plain | page-refused | ws-too-big |
//             eventsource-quiet (these five only by name)
//   env MAX_MESSAGE: the serve's --max-message, for ws-too-big
//   env PAGE_CHANNEL: the serve's --channel (the page's default channel)
//   env GAP_PORT: a second serve with a tiny --backlog, for page-gap
//   env TLS_PORT, TLS_SPKI: page-tls opens the page from this tls:// listener of
//     the same serve, the certificate accepted by its SPKI hash (base64 SHA-256)
//   env PLAIN_MODE: echo or exec, for page-plain (a serve --echo or --exec cat)
//   env PW: the pushwire binary, for eventsource-restart (it runs its own serve)
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
const PAGE_CHANNEL = process.env.PAGE_CHANNEL || '';
const GAP_PORT = Number(process.env.GAP_PORT || 0);
const TLS_PORT = Number(process.env.TLS_PORT || 0);

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
function publish(channel, body, port = PORT, token = '') {
  return new Promise((ok, ko) => {
    const headers = { 'Content-Type': 'text/plain', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/pub/${channel}`,
                               headers, timeout: 5000 }, (res) => {
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
           '--disable-sync', '--no-first-run',
           ...(process.env.TLS_SPKI ? [`--ignore-certificate-errors-spki-list=${process.env.TLS_SPKI}`] : [])],
  });
  return { ctx, dir };
}

// --- scenarios ---------------------------------------------------------------

// --- the page at / ----------------------------------------------------------

const PANELS = ['ws', 'sse', 'poll'];

// opens URL in a new page and records what it asks for: errors, requests to
// other hosts, every request and WebSocket URL (path + query)
async function openPage(ctx, url, port = PORT) {
  const p = await ctx.newPage();
  const seen = { errors: [], foreign: [], urls: [], sockets: [] };
  p.on('pageerror', (e) => seen.errors.push(String(e)));
  // a 404 for /favicon.ico is the browser asking, not the page failing
  p.on('response', (r) => { if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') seen.errors.push(`${r.status()} for ${r.url()}`); });
  p.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.host !== `127.0.0.1:${port}`) seen.foreign.push(r.url());
    seen.urls.push(u.pathname + u.search);
  });
  p.on('websocket', (w) => { const u = new URL(w.url()); seen.urls.push(u.pathname + u.search); seen.sockets.push(w.url()); });
  const res = await p.goto(url, { timeout: WAIT_MS });
  check(res.status() === 200, `GET ${url} answered ${res.status()}`);
  check(/text\/html/.test(res.headers()['content-type'] || ''), `GET / is ${res.headers()['content-type']}, not text/html`);
  return { p, seen };
}

// every panel's lines: {cls, id, text} (messages have an id; gap and note lines a class)
function panelLines(p) {
  return p.evaluate((ids) => Object.fromEntries(ids.map((id) => [id,
    Array.from(document.querySelectorAll(`#${id} ol li`)).map((li) => ({
      cls: li.className, id: li.dataset.id || '', after: li.dataset.after, first: li.dataset.first,
      text: li.textContent, shown: li.offsetHeight > 0 })),
  ])), PANELS);
}
// the data of a panel's message lines ("ID data" → "data")
const msgData = (lines) => lines.filter((l) => l.id).map((l) => l.text.slice(l.text.indexOf(' ') + 1));

// waits until every panel in `which` satisfies fn(lines of that panel)
async function untilPanels(p, which, fn, what) {
  return until(async () => { const all = await panelLines(p); return which.every((id) => fn(all[id])) && all; }, what);
}

// the panels' transports are open (or polling) for the first time
async function panelsOpen(p) {
  await until(() => p.evaluate((ids) => ids.every((id) => /^(open|polling)/.test(document.querySelector(`#${id} .state`).textContent)), PANELS),
              'the three panels to connect');
}

async function clickDrop(p, id, want) {
  await p.click(`#${id} .drop`);
  await until(() => p.evaluate(({ id, want }) => document.querySelector(`#${id} .drop`).textContent.startsWith(want), { id, want }),
              `the ${id} button to read '${want}…'`);
}

// GET / without ?channel=: no external asset, no script error, it watches
// the serve's --channel over the three transports from the start of its
// backlog, and a message published over POST shows up once in each panel.
async function page(ctx) {
  const pre = [];
  if (PAGE_CHANNEL)
    for (let i = 0; i < 2; i++) { const b = `backlog-${uniq}-${i}`; await publish(PAGE_CHANNEL, b); pre.push(b); }
  const { p, seen } = await openPage(ctx, `${HTTP}/`);
  const paths = seen.urls;
  await until(() => ['/ws/', '/sse/', '/poll/'].every((t) => paths.some((x) => x.startsWith(t))),
              `the page to open /ws/, /sse/ and /poll/ (it opened ${[...new Set(paths)].join(' ')})`);
  const ch = paths.find((x) => x.startsWith('/sse/')).slice(5).replace(/\?.*/, '');
  if (PAGE_CHANNEL) check(ch === PAGE_CHANNEL, `the page watches '${ch}', not the serve's --channel '${PAGE_CHANNEL}'`);
  check(seen.foreign.length === 0, `the page loads assets from elsewhere: ${seen.foreign.join(' ')}`);
  await panelsOpen(p);
  const token = `tok-${uniq}`;
  await publish(ch, token);
  const count = (t) => p.evaluate((t) => document.body.innerText.split(t).length - 1, t);
  await until(async () => (await count(token)) >= 3, `'${token}' to appear in the three panes`);
  await sleep(300);
  const n = await count(token);
  check(n === 3, `'${token}' appears ${n} times on the page, expected 3 (one per transport)`);
  for (const b of pre) { const k = await count(b); check(k === 3, `backlog message '${b}' appears ${k} times, expected 3`); }
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page: GET / is HTML with no external asset; with no ?channel= it watches the serve's --channel '${decodeURIComponent(ch)}' over ws, sse, poll; its backlog (${pre.length}) and a POSTed message showed once in each pane`);
}

// GET /?channel=X watches X and shows its backlog on load: each transport
// resumes after 0 (since=0, lastEventId=0, cursor=0).
async function pageChannel(ctx) {
  const ch = `bq-${uniq}`;
  const want = [];
  for (let i = 0; i < 3; i++) { want.push(`q-${i}`); await publish(ch, `q-${i}`); }
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  await untilPanels(p, PANELS, (l) => msgData(l).length >= 3, 'the backlog in the three panels');
  await sleep(300);
  const all = await panelLines(p);
  for (const id of PANELS)
    check(JSON.stringify(msgData(all[id])) === JSON.stringify(want), `${id} panel shows ${JSON.stringify(msgData(all[id]))}, expected the backlog ${JSON.stringify(want)}`);
  for (const u of [`/ws/${ch}?since=0`, `/sse/${ch}?lastEventId=0`, `/poll/${ch}?timeout=25&cursor=0`])
    check(seen.urls.includes(u), `the page never asked for ${u} (it asked for ${[...new Set(seen.urls)].join(' ')})`);
  check(!seen.urls.some((u) => /^\/(ws|sse|poll)\//.test(u) && !u.includes(`/${ch}`)), `the page also watched another channel: ${seen.urls.join(' ')}`);
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-channel: /?channel=${ch} watched ${ch} only, from the start (since=0, lastEventId=0, cursor=0), and showed its 3 backlog messages once per panel`);
}

// a message published with ?event=gap is a message in every panel, not a
// gap: the server's gaps have no id (PROTOCOL), the message has one
async function pageGapNamed(ctx) {
  const ch = `bg-${uniq}`;
  const a = await publish(`${ch}?event=gap`, '{"after":"x","first":"y"}');
  const b = await publish(ch, 'after-it');
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  await untilPanels(p, PANELS, (l) => l.some((x) => x.id === b.id), `${b.id} in the three panels`);
  await sleep(300);
  const all = await panelLines(p);
  for (const id of PANELS) {
    check(!all[id].some((l) => l.cls === 'gap'), `${id} panel shows a gap: ${JSON.stringify(all[id])}`);
    check(all[id].filter((l) => l.id).map((l) => l.id).join(' ') === `${a.id} ${b.id}`,
          `${id} panel shows ${JSON.stringify(all[id])}, expected ${a.id} then ${b.id}`);
  }
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-gap-named: a message published with ?event=gap (${a.id}) shows as a message in the three panels, no gap line`);
}

// drop and resume: messages published while a panel is dropped arrive once,
// in order, when it resumes after the last id it saw; the other panels go on.
async function pageDrop(ctx) {
  const ch = `bd-${uniq}`;
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  await panelsOpen(p);
  const sent = [], ids = [];
  const pub = async (d) => { sent.push(d); ids.push((await publish(ch, d)).id); };
  for (let i = 1; i <= 3; i++) await pub(`d-${i}`);
  await untilPanels(p, PANELS, (l) => msgData(l).length >= 3, 'd-1..d-3 in the three panels');
  // 1: all three dropped at once
  for (const id of PANELS) await clickDrop(p, id, 'resume');
  for (let i = 4; i <= 8; i++) await pub(`d-${i}`);
  await sleep(400);
  let all = await panelLines(p);
  for (const id of PANELS) check(msgData(all[id]).length === 3, `${id} panel got messages while dropped: ${msgData(all[id])}`);
  for (const id of PANELS) await clickDrop(p, id, 'drop');
  await untilPanels(p, PANELS, (l) => msgData(l).length >= 8, 'd-1..d-8 in the three panels after resuming');
  // ids are EPOCH:SEQ; the page sends them percent-encoded (encodeURIComponent)
  check(ids.every((id, i) => new RegExp(`^[a-z0-9]{12}:${i + 1}$`).test(id)), `ids ${ids.join(' ')}`);
  const resumeAt = encodeURIComponent(ids[2]);
  for (const u of [`/ws/${ch}?since=${resumeAt}`, `/sse/${ch}?lastEventId=${resumeAt}`, `/poll/${ch}?timeout=25&cursor=${resumeAt}`])
    check(seen.urls.includes(u), `no resume request ${u} (the page asked for ${[...new Set(seen.urls)].join(' ')})`);
  // 2: one panel dropped while the other two stay live
  await clickDrop(p, 'sse', 'resume');
  await pub('d-9');
  await untilPanels(p, ['ws', 'poll'], (l) => msgData(l).length >= 9, 'd-9 in the live panels');
  all = await panelLines(p);
  check(msgData(all.sse).length === 8, `the dropped sse panel got ${msgData(all.sse).length} messages`);
  await clickDrop(p, 'sse', 'drop');
  await untilPanels(p, ['sse'], (l) => msgData(l).length >= 9, 'd-9 in the sse panel after resuming');
  await sleep(500);   // a duplicate would arrive now
  all = await panelLines(p);
  for (const id of PANELS) {
    const lines = all[id].filter((l) => l.id);
    check(JSON.stringify(msgData(all[id])) === JSON.stringify(sent), `${id} panel: lost or repeated: ${JSON.stringify(msgData(all[id]))}`);
    check(JSON.stringify(lines.map((l) => l.id)) === JSON.stringify(ids), `${id} panel ids ${lines.map((l) => l.id)} are not the POST ids ${ids}`);
    check(!all[id].some((l) => l.cls === 'gap'), `${id} panel shows a gap`);
  }
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-drop: 5 messages published while the three panels were dropped, 1 while only sse was; after resume each panel shows all ${sent.length} once, in order, with the POST ids (resumed with since=, lastEventId=, cursor= ${resumeAt})`);
}

// drop and resume past a tiny backlog (GAP_PORT: serve --backlog 2): each
// panel shows the gap signal, visibly, then what is still held.
async function pageGap(ctx) {
  check(GAP_PORT, 'GAP_PORT (a serve with --backlog 2) is not set');
  const ch = `bg-${uniq}`;
  const { p, seen } = await openPage(ctx, `http://127.0.0.1:${GAP_PORT}/?channel=${ch}`, GAP_PORT);
  await panelsOpen(p);
  const ids = [];
  ids.push((await publish(ch, 'g-1', GAP_PORT)).id);
  await untilPanels(p, PANELS, (l) => msgData(l).length >= 1, 'g-1 in the three panels');
  for (const id of PANELS) await clickDrop(p, id, 'resume');
  for (let i = 2; i <= 6; i++) ids.push((await publish(ch, `g-${i}`, GAP_PORT)).id);
  for (const id of PANELS) await clickDrop(p, id, 'drop');
  await untilPanels(p, PANELS, (l) => msgData(l).length >= 3, 'the gap and g-5, g-6 in the three panels');
  await sleep(500);
  const all = await panelLines(p);
  for (const id of PANELS) {
    check(JSON.stringify(msgData(all[id])) === JSON.stringify(['g-1', 'g-5', 'g-6']), `${id} panel: ${JSON.stringify(msgData(all[id]))}, expected g-1, g-5, g-6`);
    const gaps = all[id].filter((l) => l.cls === 'gap');
    check(gaps.length === 1, `${id} panel shows ${gaps.length} gap lines, expected 1: ${JSON.stringify(all[id])}`);
    check(gaps[0].after === ids[0] && gaps[0].first === ids[4], `${id} gap says after ${gaps[0].after}, first ${gaps[0].first}; expected after ${ids[0]}, first ${ids[4]}`);
    check(gaps[0].shown, `${id} gap line is not visible`);
    const at = all[id].findIndex((l) => l.cls === 'gap');
    check(all[id][at + 1] && all[id][at + 1].id === ids[4], `${id} panel: the gap does not come right before g-5`);
  }
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-gap: with --backlog 2, resuming after ${ids[0]} showed the gap (first held ${ids[4]}) in each panel, then g-5 and g-6`);
}

// the metrics panel: sparklines with non-zero numbers once there is traffic
async function pageMetrics(ctx) {
  const ch = `bm-${uniq}`;
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  await panelsOpen(p);
  const peak = (id) => p.evaluate((id) => Number(document.querySelector(`#m-${id}`).dataset.peak), id);
  const end = Date.now() + WAIT_MS;
  let i = 0;
  // publish until a one-second sample has caught messages in and out
  while (!((await peak('in')) > 0 && (await peak('out')) > 0)) {
    check(Date.now() < end, `messages in/out per second stayed 0 (in ${await peak('in')}, out ${await peak('out')})`);
    await publish(ch, `m-${i++}`);
    await sleep(100);
  }
  await until(async () => (await peak('ws')) >= 1 && (await peak('sse')) >= 1 && (await peak('poll')) >= 1,
              'WebSocket, SSE and held-poll connections to show at least 1');
  const sparks = () => p.evaluate(() => Array.from(document.querySelectorAll('#metrics .spark')).map((d) => ({
    id: d.id, label: d.querySelector('span').textContent, text: d.querySelector('b').textContent,
    points: d.querySelector('polyline').getAttribute('points').split(' ').filter(Boolean).length })));
  const r = await sparks();
  for (const id of ['m-ws', 'm-sse', 'm-poll', 'm-in', 'm-out', 'm-slow'])
    check(r.some((x) => x.id === id), `no ${id} sparkline`);
  // a line needs two samples (a rate's first comes one second after the first fetch)
  await until(async () => (await sparks()).every((x) => x.points >= 2 && /^[0-9.]+$/.test(x.text)),
              'every sparkline to have a line and a number');
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-metrics: after ${i} messages the sparklines showed ws/sse/poll connections >= 1 and messages in (peak ${(await peak('in')).toFixed(1)}/s) and out (peak ${(await peak('out')).toFixed(1)}/s) above 0`);
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

// The page over https: its WebSocket goes to wss://, its event stream and
// long poll to https:// on the same listener; a message POSTed on the plain
// listener of the same serve shows once in each panel.
async function pageTls(ctx) {
  check(TLS_PORT, 'TLS_PORT is not set');
  const ch = `tls-${uniq}`;
  const { p, seen } = await openPage(ctx, `https://127.0.0.1:${TLS_PORT}/?channel=${ch}`, TLS_PORT);
  await panelsOpen(p);
  const scheme = await p.evaluate(() => location.protocol);
  check(scheme === 'https:', `the page is on ${scheme}`);
  await publish(ch, `over-tls-${uniq}`);
  await untilPanels(p, PANELS, (l) => msgData(l).includes(`over-tls-${uniq}`), 'the message in the three panels');
  await sleep(300);
  const all = await panelLines(p);
  for (const id of PANELS) check(msgData(all[id]).length === 1, `${id} panel shows ${JSON.stringify(msgData(all[id]))}`);
  check(seen.sockets.length && seen.sockets.every((u) => u.startsWith(`wss://127.0.0.1:${TLS_PORT}/ws/${ch}`)),
        `the page's WebSockets: ${seen.sockets.join(' ')}`);
  const fetched = await p.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  check(!fetched.some((u) => u.startsWith('http:')), `the page fetched over plain http: ${fetched.join(' ')}`);
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-tls: the page over https with the test's certificate (SPKI), ws over wss://, sse and poll over https://, a POST shown once per panel`);
}

// A serve of our own, for the restart scenario: SERVE(port) resolves to
// { proc, port } once it listens (port 0: a free one); stop() waits for its exit.
function spawnServe(port, args = []) {
  const { spawn } = require('child_process');
  return new Promise((ok, ko) => {
    const proc = spawn(process.env.PW, ['serve', '--listen', `127.0.0.1:${port}`, '--retry', '250', '--ping', '0', ...args],
                       { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const t = setTimeout(() => { proc.kill('SIGKILL'); ko(new Error(`serve did not listen: ${err}`)); }, 10000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) { clearTimeout(t); ok({ proc, port: Number(m[1]) }); }
    });
    proc.on('exit', (code) => { clearTimeout(t); ko(new Error(`serve exited ${code}: ${err}`)); });
  });
}
function stopServe(s) {
  return new Promise((ok) => {
    if (s.proc.exitCode !== null) return ok();
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
    s.proc.removeAllListeners('exit');
    s.proc.on('exit', () => { clearTimeout(t); ok(); });
    s.proc.kill('SIGTERM');
  });
}

// The issue's restart: 5 messages, serve restarted on the same port (a new
// epoch), 10 more.  The browser's EventSource reconnects by itself with the
// old Last-Event-ID; the new server cannot place it, so it answers 200 with
// the gap event (a non-200 would end the EventSource for good), then the new
// messages: never the new 4, 5, … passed off as the old ones.
async function eventsourceRestart(ctx) {
  check(process.env.PW, 'PW (the pushwire binary) is not set');
  let a = await spawnServe(0), b = null;
  const port = a.port;
  try {
    const p = await ctx.newPage();
    await p.goto(`http://127.0.0.1:${port}/healthz`, { timeout: WAIT_MS });
    const ch = `brst-${uniq}`;
    await p.evaluate(({ ch }) => {
      window.got = []; window.opens = 0; window.errors = 0; window.log = [];
      const es = new EventSource(`/sse/${ch}`);
      es.onopen = () => { window.opens++; };
      es.onerror = () => { window.errors++; };
      es.onmessage = (e) => { window.got.push({ id: e.lastEventId, data: e.data }); window.log.push(`m ${e.data}`); };
      es.addEventListener('gap', (e) => window.log.push(`gap ${e.data} ${e.lastEventId}`));
      window.es = es;
    }, { ch });
    await until(() => p.evaluate(() => window.opens >= 1), 'EventSource to open');
    const old = [];
    for (let i = 1; i <= 5; i++) old.push((await publish(ch, `old-${i}`, port)).id);
    await until(() => p.evaluate(() => window.got.length >= 5), 'the 5 old messages');
    await stopServe(a);
    b = await spawnServe(port);
    const fresh = [];
    for (let i = 1; i <= 10; i++) fresh.push((await publish(ch, `new-${i}`, port)).id);
    const epA = old[0].split(':')[0], epB = fresh[0].split(':')[0];
    check(/^[a-z0-9]{12}$/.test(epA) && /^[a-z0-9]{12}$/.test(epB) && epA !== epB, `epochs ${epA} then ${epB}`);
    await until(() => p.evaluate(() => window.got.length >= 15), 'the 10 new messages after the restart', 30000);
    await sleep(500); // a duplicate would arrive now
    const r = await p.evaluate(() => ({ got: window.got, log: window.log, opens: window.opens, state: window.es.readyState }));
    const want = [...Array.from({ length: 5 }, (_, i) => `old-${i + 1}`), ...Array.from({ length: 10 }, (_, i) => `new-${i + 1}`)];
    check(JSON.stringify(r.got.map((m) => m.data)) === JSON.stringify(want), `lost, repeated or mis-resumed: ${r.log.join(' | ')}`);
    check(JSON.stringify(r.got.map((m) => m.id)) === JSON.stringify([...old, ...fresh]), `lastEventId values ${r.got.map((m) => m.id)} are not the POST ids`);
    const gaps = r.log.filter((l) => l.startsWith('gap '));
    check(gaps.length === 1, `${gaps.length} gap events: ${r.log.join(' | ')}`);
    const at = r.log.indexOf(gaps[0]);
    check(at === 5 && r.log[6] === 'm new-1', `the gap is not between old-5 and new-1: ${r.log.join(' | ')}`);
    const g = JSON.parse(gaps[0].slice(4, gaps[0].lastIndexOf('}') + 1));
    // the browser may be back before or after the first new message
    check(g.after === old[4] && (g.first === '' || g.first === fresh[0]), `gap ${JSON.stringify(g)}: expected after ${old[4]}, first "" or ${fresh[0]}`);
    check(r.state !== 2 && r.opens >= 2, `the EventSource gave up (readyState ${r.state}, opens ${r.opens})`);
    console.log(`ok eventsource-restart: serve restarted on its port (epoch ${epA} then ${epB}); the browser reconnected with Last-Event-ID ${old[4]}, got 200, the gap event (first ${JSON.stringify(g.first)}), then the 10 new messages once, in order, and kept its stream`);
  } finally {
    await stopServe(a).catch(() => {});
    if (b) await stopServe(b).catch(() => {});
  }
}

// The page on a server that wants a token (--token-file): /?channel=X&token=T
// passes T on to each transport (?token= for the WebSocket and the
// EventSource, a Bearer header on its fetches: the long poll, /metrics, the
// publish form), so the three panels show the backlog and what is published,
// and nothing it asks for is refused.
async function pageToken(ctx) {
  check(process.env.PW, 'PW (the pushwire binary) is not set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-token-'));
  const tok = `s3cret-${uniq}`;
  fs.writeFileSync(path.join(dir, 'tok'), `${tok}\n`, { mode: 0o600 });
  const a = await spawnServe(0, ['--token-file', path.join(dir, 'tok')]);
  try {
    const ch = `btok-${uniq}`;
    await publish(ch, 'before', a.port, tok);
    const { p, seen } = await openPage(ctx, `http://127.0.0.1:${a.port}/?channel=${ch}&token=${tok}`, a.port);
    await untilPanels(p, PANELS, (l) => msgData(l).length >= 1, 'the backlog in the three panels');
    await p.fill('#msg', 'from-the-form');
    await p.press('#msg', 'Enter'); // the form's submit: POST /pub with the Bearer header
    await untilPanels(p, PANELS, (l) => msgData(l).length >= 2, 'the form\'s message in the three panels');
    await until(() => seen.urls.some((u) => u.startsWith('/metrics')), 'the page to fetch /metrics');
    await sleep(1200); // one more /metrics turn: a refusal would show in seen.errors
    const all = await panelLines(p);
    for (const id of PANELS)
      check(JSON.stringify(msgData(all[id])) === JSON.stringify(['before', 'from-the-form']), `${id} panel shows ${JSON.stringify(msgData(all[id]))}`);
    check(seen.urls.some((u) => u.startsWith(`/ws/${ch}?`) && u.includes(`token=${tok}`)), `the WebSocket URL has no token: ${seen.urls.join(' ')}`);
    check(seen.urls.some((u) => u.startsWith(`/sse/${ch}?`) && u.includes(`token=${tok}`)), `the EventSource URL has no token: ${seen.urls.join(' ')}`);
    check(seen.errors.length === 0, `refused or failed: ${seen.errors.join(' | ')}`);
    console.log(`ok page-token: /?channel=${ch}&token=… against --token-file: ws and sse with ?token=, poll, /metrics and the form with a Bearer header; backlog and the form's message once per panel, nothing refused`);
  } finally {
    await stopServe(a).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The page against serve --echo or --exec cat (env PLAIN_MODE): the server
// selects no subprotocol there, so the WebSocket panel must not offer
// pushwire.v1 (Chromium fails a handshake whose offered protocol is not
// selected) and shows the plain messages: what the page sends comes back, a
// binary one as its base64.
async function pagePlain(ctx) {
  const mode = process.env.PLAIN_MODE || 'echo';
  const { p, seen } = await openPage(ctx, `${HTTP}/`);
  await until(() => p.evaluate(() => /^open/.test(document.querySelector('#ws .state').textContent)),
              'the WebSocket panel to open', 10000)
    .catch(async (e) => fail(`${e.message}; its state: ${await p.evaluate(() => document.querySelector('#ws .state').textContent)}`));
  const text = `plain-${uniq}`;
  await p.fill('#msg', text);
  await p.click('#wssend');
  const plain = () => p.evaluate(() => Array.from(document.querySelectorAll('#ws ol li.plain')).map((li) => li.textContent));
  await until(async () => (await plain()).includes(text), `'${text}' back in the WebSocket panel`);
  const want = [text];
  if (mode === 'echo') {
    // a binary message is echoed as binary: the panel shows its base64
    await p.evaluate(() => panels.ws.conn.send(new Uint8Array([0, 1, 255])));
    want.push('AAH/ (base64)');
    await until(async () => (await plain()).length >= 2, 'the binary echo in the WebSocket panel');
  }
  await sleep(300);
  const got = await plain();
  check(JSON.stringify(got) === JSON.stringify(want), `the WebSocket panel shows ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  const st = await p.evaluate(() => document.querySelector('#ws .state').textContent);
  check(/^open/.test(st), `the WebSocket panel's state is '${st}'`);
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-plain: against serve --${mode} the WebSocket panel opened without pushwire.v1 and showed ${JSON.stringify(got)}`);
}

// The page's EventSource panel after a refusal: against serve --exec cat
// --max-procs 2 whose two programs are taken by event streams held here, the
// page's WebSocket and EventSource are answered 503.  The browser's
// EventSource gives up for good on a non-200 answer; once the slots are free
// both panels must open again by themselves (the WebSocket one always did).
async function pageRefused(ctx) {
  const held = [];
  for (let i = 0; i < 2; i++)
    held.push(await new Promise((ok, ko) => {
      const req = http.get({ host: '127.0.0.1', port: PORT, path: `/sse/held${i}`, timeout: 5000 }, (res) => {
        if (res.statusCode !== 200) ko(new Error(`held stream ${i}: ${res.statusCode}`)); else ok(req);
      });
      req.on('error', ko);
    }));
  const { p } = await openPage(ctx, `${HTTP}/`);
  const refused = new Set();
  p.on('response', (r) => { const u = new URL(r.url()); if (r.status() === 503) refused.add(u.pathname.split('/')[1]); });
  p.on('websocket', (w) => w.on('socketerror', () => refused.add('ws')));
  await until(() => refused.has('sse'), 'the page\'s event stream to be answered 503');
  await until(() => p.evaluate(() => !/^open/.test(document.querySelector('#ws .state').textContent)), 'the WebSocket panel to be refused');
  for (const req of held) req.destroy();
  const states = () => p.evaluate(() => ['ws', 'sse'].map((id) => document.querySelector(`#${id} .state`).textContent));
  await until(async () => (await states()).every((s) => /^open/.test(s)), 'the WebSocket and EventSource panels to open again', 15000)
    .catch(async (e) => fail(`${e.message}; their states: ${JSON.stringify(await states())}`));
  console.log(`ok page-refused: the page's WebSocket and EventSource were refused with 503 (--max-procs), and both panels opened again once the programs were gone`);
}

// A page's WebSocket message over --max-message (env MAX_MESSAGE): closed
// with 1009 and a reason that names the limit, as a POST's 413 does, whether
// Chromium sent it compressed (text) or not (random bytes); one at the limit
// is published.
async function wsTooBig(ctx) {
  const { p } = await blank(ctx);
  const max = Number(process.env.MAX_MESSAGE);
  const r = await p.evaluate(async ({ port, max, WAIT_MS }) => {
    const close = (payload) => new Promise((ok) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/ws/too-big`);
      const t = setTimeout(() => { w.close(); ok({ code: 0, reason: 'not closed' }); }, WAIT_MS);
      w.onopen = () => w.send(payload);
      w.onclose = (e) => { clearTimeout(t); ok({ code: e.code, reason: e.reason }); };
    });
    const rnd = new Uint8Array(max + 1);
    crypto.getRandomValues(rnd);
    const at = await new Promise((ok) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/ws/too-big`);
      const t = setTimeout(() => ok('not echoed'), WAIT_MS);
      w.onopen = () => w.send('z'.repeat(max));
      w.onmessage = (e) => { clearTimeout(t); w.close(); ok(e.data.length); };
    });
    return { text: await close('x'.repeat(max + 1)), binary: await close(rnd), at };
  }, { port: PORT, max, WAIT_MS });
  const want = `message larger than --max-message (${max} bytes)`;
  for (const k of ['text', 'binary'])
    check(r[k].code === 1009 && r[k].reason === want, `a ${k} message of ${max + 1} bytes: close ${r[k].code} '${r[k].reason}', expected 1009 '${want}'`);
  check(r.at === max, `a message of ${max} bytes: ${r.at}`);
  console.log(`ok ws-too-big: a page's text and binary messages over --max-message ${max} closed 1009 '${want}'; one of ${max} bytes went through`);
}

// An EventSource on a quiet channel whose stream ends before its first
// message (serve --idle-timeout 1 --retry 3000): a message published while the
// browser waits to reconnect must come after it reconnects by itself.  The
// stream starts with the channel's position as an id-only event, so the
// browser has a Last-Event-ID to resume from even before any message.
async function eventsourceQuiet(ctx) {
  const { p } = await blank(ctx);
  const ch = `bquiet-${uniq}`;
  const r = await p.evaluate(async ({ ch, WAIT_MS }) => {
    const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
    const log = [];
    const es = new EventSource(`/sse/${ch}`);
    let opens = 0, ends = 0;
    es.onopen = () => { opens++; log.push('open'); };
    es.onerror = () => { if (es.readyState === 0) ends++; log.push(`error ${es.readyState}`); };
    es.onmessage = (e) => log.push(`m ${e.data} ${e.lastEventId}`);
    es.addEventListener('gap', (e) => log.push(`gap ${e.data}`));
    const end = Date.now() + WAIT_MS;
    while (ends < 1 && Date.now() < end) await sleep(20);
    if (ends < 1) return { log, why: 'the stream did not end (--idle-timeout)' };
    // the browser waits --retry (3 s) before it reconnects: publish now
    const pub = await fetch(`/pub/${ch}`, { method: 'POST', body: 'while-away' });
    log.push(`published ${pub.status} reconnected ${opens > 1}`);
    while (!log.some((l) => l.startsWith('m ')) && opens < 3 && Date.now() < end) await sleep(20);
    await sleep(300);
    es.close();
    return { log, lastEventId: null };
  }, { ch, WAIT_MS });
  check(!r.why, `${r.why}: ${r.log.join(' | ')}`);
  check(r.log.includes('published 200 reconnected false'), `the publish did not fall in the reconnect wait: ${r.log.join(' | ')}`);
  const msgs = r.log.filter((l) => l.startsWith('m ') || l.startsWith('gap '));
  check(msgs.length === 1 && /^m while-away [a-z0-9]{12}:\d+$/.test(msgs[0]),
        `the message published while the browser was away: ${r.log.join(' | ')}`);
  console.log(`ok eventsource-quiet: a stream ended before its first message; what was published before the browser reconnected came once (${msgs[0]})`);
}

// Messages published with ?event=NAME: an EventSource hands a named event
// only to a listener for that name.  The page learns the names from its
// WebSocket and long-poll panels; its EventSource panel must show them too,
// in order, whether they were in the backlog when it opened or came live.
async function pageEvent(ctx) {
  const ch = `bev-${uniq}`;
  await publish(ch, 'm1');
  await publish(`${ch}?event=tick`, 'n0');
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  const want = ['m1', '[tick] n0']; // a panel shows the name of an event that is not 'message'
  const same = (l, w) => JSON.stringify(msgData(l)) === JSON.stringify(w);
  await untilPanels(p, PANELS, (l) => same(l, want), `the backlog ${want} in the three panels`)
    .catch(async (e) => fail(`${e.message}: ${JSON.stringify(Object.fromEntries(Object.entries(await panelLines(p)).map(([k, v]) => [k, msgData(v)])))}`));
  await publish(`${ch}?event=tock`, 'n1');
  await publish(ch, 'm2');
  want.push('[tock] n1', 'm2');
  await untilPanels(p, PANELS, (l) => same(l, want), `${want} in the three panels`)
    .catch(async (e) => fail(`${e.message}: ${JSON.stringify(Object.fromEntries(Object.entries(await panelLines(p)).map(([k, v]) => [k, msgData(v)])))}`));
  const sse = msgData((await panelLines(p)).sse);
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log(`ok page-event: messages published with ?event=tick (in the backlog) and ?event=tock (live) show in order in every panel, the EventSource one included: ${sse.join(' | ')}`);
}

// The form says what became of a publish: the id, or the status and the
// server's reason (401 without a token, 403 with a subscribe-only token, 413
// over --max-message).
async function pagePublish(ctx) {
  check(process.env.PW, 'PW (the pushwire binary) is not set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-pub-'));
  const sub = `sub-${uniq}`, pub = `pub-${uniq}`;
  fs.writeFileSync(path.join(dir, 'sub'), `${sub}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'pub'), `${pub}\n`, { mode: 0o600 });
  const a = await spawnServe(0, ['--token-file', path.join(dir, 'sub'), '--publish-token-file', path.join(dir, 'pub'),
                                 '--max-message', '100']);
  const said = [];
  try {
    const ch = `bpub-${uniq}`;
    const form = async (token, msg, want, what) => {
      const p = await ctx.newPage();
      await p.goto(`http://127.0.0.1:${a.port}/?channel=${ch}${token ? `&token=${token}` : ''}`, { timeout: WAIT_MS });
      await p.fill('#msg', msg);
      await p.press('#msg', 'Enter');
      const st = await until(async () => {
        const t = await p.evaluate(() => { const e = document.querySelector('#pubstate'); return e ? e.textContent : '(no #pubstate)'; });
        return /^(published|refused|not sent)/.test(t) && t;
      }, `the form to say what became of the publish (${what})`)
        .catch(async (e) => fail(`${e.message}: ${await p.evaluate(() => { const e = document.querySelector('#pubstate'); return e ? e.textContent : '(no #pubstate)'; })}`));
      check(want.test(st), `${what}: the form says '${st}'`);
      said.push(st);
      await p.close();
    };
    await form('', 'x', /^refused: 401 a token is needed/, 'no token');
    await form(sub, 'x', /^refused: 403 the token does not allow publishing/, 'a subscribe-only token');
    await form(pub, 'y'.repeat(200), /^refused: 413 /, 'a body over --max-message');
    await form(pub, 'fits', /^published as [a-z0-9]+:1$/, 'the publish token');
    console.log(`ok page-publish: the form showed ${said.map((t) => `'${t}'`).join(', ')}`);
  } finally {
    await stopServe(a).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A hidden tab gives back its event stream and long poll (Chromium allows
// 6 connections per host for all its tabs: three tabs of the page held
// them all) and resumes after its last id when shown again, losing nothing.
// Headless Chromium never hides a tab: visibilityState is set in the page.
async function pageHidden(ctx) {
  const ch = `bhid-${uniq}`;
  await publish(ch, 'h1');
  const { p, seen } = await openPage(ctx, `${HTTP}/?channel=${ch}`);
  await panelsOpen(p);
  await untilPanels(p, PANELS, (l) => msgData(l).length === 1, 'h1 in the three panels');
  const held = async () => {
    const r = await fetch(`${HTTP}/metrics`).then((x) => x.text());
    const v = (t) => Number((new RegExp(`^pushwire_connections\\{transport="${t}"\\} (\\d+)$`, 'm').exec(r) || [])[1]);
    return { sse: v('sse'), poll: v('poll') };
  };
  await until(async () => { const h = await held(); return h.sse >= 1 && h.poll >= 1; }, 'the event stream and the long poll on the server');
  const show = (state) => p.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
  await show('hidden');
  await until(async () => { const h = await held(); return h.sse === 0 && h.poll === 0; }, 'the hidden tab to close its event stream and long poll')
    .catch(async (e) => fail(`${e.message}: ${JSON.stringify(await held())}`));
  await publish(ch, 'h2');
  await publish(ch, 'h3');
  await show('visible');
  const want = JSON.stringify(['h1', 'h2', 'h3']);
  await untilPanels(p, PANELS, (l) => JSON.stringify(msgData(l)) === want, 'h1 h2 h3 once in each panel')
    .catch(async (e) => fail(`${e.message}: ${JSON.stringify(Object.fromEntries(Object.entries(await panelLines(p)).map(([k, v]) => [k, msgData(v)])))}`));
  check(seen.errors.length === 0, `page errors: ${seen.errors.join(' | ')}`);
  console.log('ok page-hidden: hidden, the tab closed its event stream and long poll (0 of each on the server); shown again, both resumed: h2 and h3 published meanwhile came once, in order, in every panel');
}

const SCENARIOS = { page, 'page-channel': pageChannel, 'page-token': pageToken, 'page-drop': pageDrop, 'page-gap': pageGap, 'page-metrics': pageMetrics,
                    'page-event': pageEvent, 'page-publish': pagePublish, 'page-hidden': pageHidden,
                    websocket, 'eventsource-drop': eventsourceDrop, 'eventsource-restart': eventsourceRestart, longpoll,
                    'page-tls': pageTls, 'page-plain': pagePlain,
                    'page-refused': pageRefused, 'ws-too-big': wsTooBig,
                    'eventsource-quiet': eventsourceQuiet, 'page-gap-named': pageGapNamed };

const T0 = Date.now();
const trace = (what) => { if (process.env.BROWSER_TRACE) console.error(`browser.js: ${what} at ${Date.now() - T0} ms`); };

(async () => {
  const names = scenario === 'all' ? Object.keys(SCENARIOS).filter((n) => !['page-tls', 'page-plain', 'page-refused', 'ws-too-big', 'eventsource-quiet'].includes(n)) : [scenario];
  if (!names.every((n) => SCENARIOS[n]) || !PORT) {
    console.error(`usage: node browser.js all|${Object.keys(SCENARIOS).join('|')} PORT`);
    process.exit(2);
  }
  const { ctx, dir } = await launch();
  trace('launched');
  let rc = 0;
  try {
    for (const n of names) {   // one browser for all: its start-up is the slow part
      const before = new Set(ctx.pages());
      try {
        await SCENARIOS[n](ctx);
        trace(`${n} done`);
      } catch (e) {
        console.log(`FAIL ${n}: ${e.check ? e.message : e.stack}`);
        rc = 1;
      }
      // a page left open keeps its event stream and long poll: Chromium's 6
      // connections per host would run out for the next scenarios
      for (const pg of ctx.pages()) if (!before.has(pg)) await pg.close().catch(() => {});
    }
  } finally {
    await ctx.close().catch(() => {});
    trace('closed');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
