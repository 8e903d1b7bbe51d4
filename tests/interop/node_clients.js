#!/usr/bin/env node
// node_clients.js — Node clients from npm against a running `pushwire serve`:
// `ws` (with and without permessage-deflate) and `eventsource`.
//
//   node node_clients.js SCENARIO PORT
//   ws-echo [deflate]      against `serve --echo`: text, binary, sizes up to 1 MiB
//   ws-pubsub [deflate]    two clients on one channel, POST delivery, close 1000
//   ws-resume-gap          ?since= past the newest id: close 4410 without pushwire.v1
//   eventsource            messages, named events, multi-line data
//
// Prints `ok SCENARIO: what was checked` and exits 0, or `FAIL …` and exits 1.
'use strict';
const http = require('http');
const WebSocket = require('ws');

const WAIT_MS = 20000;
const [scenario, portArg, flag] = process.argv.slice(2);
const PORT = Number(portArg);
const deflate = flag === 'deflate';
const uniq = `${process.pid}`;

function fail(msg) { const e = new Error(msg); e.check = true; throw e; }
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
async function until(fn, what) {
  const end = Date.now() + WAIT_MS;
  while (!fn()) {
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function publish(channel, body, event) {
  return new Promise((ok, ko) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, method: 'POST', timeout: 5000,
                               path: `/pub/${channel}${event ? `?event=${event}` : ''}` }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => (res.statusCode === 200 ? ok(JSON.parse(b)) : ko(new Error(`POST ${res.statusCode} ${b}`))));
    });
    req.on('error', ko);
    req.end(body);
  });
}

function open(path, opts = {}) {
  return new Promise((ok, ko) => {
    const ws = new WebSocket(`ws://127.0.0.1:${PORT}${path}`, opts.protocol || [],
                             { perMessageDeflate: deflate ? { threshold: 0 } : false, handshakeTimeout: WAIT_MS });
    ws.got = [];
    ws.closedWith = null;
    ws.on('message', (data, isBinary) => ws.got.push({ binary: isBinary, data: Buffer.from(data) }));
    ws.on('close', (code, reason) => { ws.closedWith = `${code} '${reason}'`; });
    ws.once('open', () => ok(ws));
    ws.once('error', ko);
    ws.once('unexpected-response', (req, res) => ko(new Error(`handshake answered ${res.statusCode}`)));
  });
}

function closed(ws) {
  return new Promise((ok) => ws.once('close', (code, reason) => ok({ code, reason: reason.toString() })));
}

function checkExtension(ws) {
  if (deflate) check(/permessage-deflate/.test(ws.extensions), `permessage-deflate offered but not agreed ('${ws.extensions}')`);
  else check(ws.extensions === '', `no extension offered, yet '${ws.extensions}' agreed`);
}

async function wsEcho() {
  const ws = await open(`/ws/echo-${uniq}`);
  checkExtension(ws);
  const sent = [];
  const sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20];
  for (const n of sizes) {
    const text = n < 1000 ? 'abcdefghij✓'.repeat(n).slice(0, n) : 'abcdefghij'.repeat(n / 10 + 1).slice(0, n);
    sent.push({ binary: false, data: Buffer.from(text) });
    ws.send(text);
    const bin = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bin[i] = (i * 7) & 0xff;
    sent.push({ binary: true, data: bin });
    ws.send(bin);
  }
  for (let i = 0; i < 200; i++) { const s = `small ${i}`; sent.push({ binary: false, data: Buffer.from(s) }); ws.send(s); }
  await until(() => ws.got.length >= sent.length || ws.closedWith, `${sent.length} echoes`);
  check(!ws.closedWith, `the server closed with ${ws.closedWith} after ${ws.got.length} echoes (next: ${sent[ws.got.length] ? `${sent[ws.got.length].binary ? 'binary' : 'text'} of ${sent[ws.got.length].data.length} bytes` : 'none'})`);
  for (let i = 0; i < sent.length; i++) {
    check(ws.got[i].binary === sent[i].binary && ws.got[i].data.equals(sent[i].data),
          `echo ${i}: ${ws.got[i].binary ? 'binary' : 'text'} of ${ws.got[i].data.length} bytes for ${sent[i].binary ? 'binary' : 'text'} of ${sent[i].data.length}`);
  }
  const pong = new Promise((ok) => ws.once('pong', (d) => ok(d.toString())));
  ws.ping('are you there');
  check(await pong === 'are you there', 'pong payload differs');
  const c = closed(ws);
  ws.close(1000, 'bye');
  const r = await c;
  check(r.code === 1000, `close answered ${r.code}`);
  // one byte over --max-message (the suite runs serve with 1 MiB): close 1009
  const big = await open(`/ws/echo-${uniq}`);
  const c2 = closed(big);
  big.send(Buffer.alloc((1 << 20) + 1, 0x41), { binary: true });
  const r2 = await c2;
  check(r2.code === 1009, `a message over --max-message was closed with ${r2.code}, expected 1009`);
  console.log(`ok ws-echo${deflate ? ' deflate' : ''}: ${sent.length} echoes (text and binary, 0 B to 1 MiB) identical and in order, ping/pong, close 1000; 1 MiB + 1 closed with 1009`);
}

async function wsPubsub() {
  const ch = `nps-${uniq}-${deflate ? 'z' : 'p'}`;
  const a = await open(`/ws/${ch}`), b = await open(`/ws/${ch}`);
  checkExtension(a);
  const sent = [];
  for (let i = 0; i < 100; i++) {
    if (i % 10 === 0) { const bin = Buffer.from([i, 0, 0xff, 0xfe]); sent.push({ binary: true, data: bin }); a.send(bin); }
    else { const s = `msg ${i} ${'x'.repeat(i * 10)}`; sent.push({ binary: false, data: Buffer.from(s) }); a.send(s); }
  }
  await until(() => b.got.length >= 100, 'subscriber B to get 100 messages');
  for (let i = 0; i < 100; i++) {
    check(b.got[i].binary === sent[i].binary && b.got[i].data.equals(sent[i].data), `message ${i} differs at the subscriber`);
  }
  await publish(ch, 'from POST');
  await until(() => b.got.length >= 101, 'the POSTed message');
  check(b.got[100].data.toString() === 'from POST' && !b.got[100].binary, 'POSTed message differs');
  await sleep(200);
  check(b.got.length === 101, `subscriber got ${b.got.length} messages, expected 101`);
  const c = closed(a);
  a.close(1000);
  check((await c).code === 1000, 'close 1000 not answered with 1000');
  b.close();
  console.log(`ok ws-pubsub${deflate ? ' deflate' : ''}: 100 messages from one ws client to another in order, text and binary kept, a POST delivered once, close 1000`);
}

async function eventsource() {
  const { EventSource } = require('eventsource');
  const ch = `nes-${uniq}`;
  const es = new EventSource(`http://127.0.0.1:${PORT}/sse/${ch}`);
  const got = [], named = [];
  es.onmessage = (e) => got.push(e.data);
  es.addEventListener('named', (e) => named.push(e.data));
  let opened = false;
  es.onopen = () => { opened = true; };
  await until(() => opened, 'EventSource open');
  for (let i = 0; i < 20; i++) await publish(ch, `e${i}`);
  await publish(ch, 'line 1\nline 2', null);
  await publish(ch, 'x', 'named');
  await publish(ch, 'last');
  await until(() => got.length >= 22 && named.length >= 1, 'all events');
  es.close();
  const want = Array.from({ length: 20 }, (_, i) => `e${i}`).concat(['line 1\nline 2', 'last']);
  check(JSON.stringify(got) === JSON.stringify(want), `messages: ${JSON.stringify(got)}`);
  check(JSON.stringify(named) === '["x"]', `named events: ${JSON.stringify(named)}`);
  // eventsource 4.x mishandles lastEventId, so ids are not judged here: the
  // browser (browser.bats) is the reference for resume
  console.log('ok eventsource: 22 messages in order (one of two lines), a named event to its listener');
}

// A ?since= the server cannot honour (newer than the newest id, as after a
// restart): without pushwire.v1 the handshake completes, nothing is sent,
// close 4410 names the gap; with pushwire.v1 the gap envelope and the backlog
// come instead; without ?since= the client goes on from now.
async function wsResumeGap() {
  const ch = `ngap-${uniq}`;
  const ep = (await publish(ch, 'm1')).id.split(':')[0];
  check(/^[a-z0-9]{12}$/.test(ep), `an id of the form EPOCH:SEQ, got epoch '${ep}'`);
  await publish(ch, 'm2');
  const plain = await open(`/ws/${ch}?since=${ep}:99`);
  const r = await closed(plain);
  check(r.code === 4410, `a resume past the newest id closed with ${r.code} '${r.reason}', expected 4410`);
  check(r.reason === `gap: after ${ep}:99, first held ${ep}:1`, `close reason '${r.reason}'`);
  check(plain.got.length === 0, `${plain.got.length} messages came before the 4410`);
  const v1 = await open(`/ws/${ch}?since=${ep}:99`, { protocol: 'pushwire.v1' });
  check(v1.protocol === 'pushwire.v1', `subprotocol '${v1.protocol}'`);
  await until(() => v1.got.length >= 3, 'the gap envelope and 2 messages');
  const env = v1.got.map((m) => JSON.parse(m.data.toString()));
  check(env[0].event === 'gap' && env[0].after === `${ep}:99` && env[0].first === `${ep}:1`, `first envelope ${JSON.stringify(env[0])}`);
  check(env[1].id === `${ep}:1` && env[1].data === 'm1' && env[2].id === `${ep}:2` && env[2].data === 'm2', `backlog ${JSON.stringify(env.slice(1))}`);
  v1.close(1000);
  const live = await open(`/ws/${ch}`);
  await publish(ch, 'm3');
  await until(() => live.got.length >= 1, 'a live message');
  check(live.got[0].data.toString() === 'm3', `live message '${live.got[0].data}'`);
  live.close(1000);
  console.log('ok ws-resume-gap: ?since= past the newest id without pushwire.v1 is close 4410 "gap: after EPOCH:99, first held EPOCH:1" and no message; with pushwire.v1 the gap envelope then the backlog; without ?since= live messages');
}

const SCENARIOS = { 'ws-echo': wsEcho, 'ws-pubsub': wsPubsub, 'ws-resume-gap': wsResumeGap, eventsource };
(async () => {
  if (!SCENARIOS[scenario] || !PORT) { console.error(`usage: node node_clients.js ${Object.keys(SCENARIOS).join('|')} PORT [deflate]`); process.exit(2); }
  const t = setTimeout(() => { console.log(`FAIL ${scenario}: took over 60 s`); process.exit(1); }, 60000);
  try {
    await SCENARIOS[scenario]();
    clearTimeout(t);
    process.exit(0);
  } catch (e) {
    console.log(`FAIL ${scenario}${deflate ? ' deflate' : ''}: ${e.check ? e.message : e.stack}`);
    process.exit(1);
  }
})();
