#!/usr/bin/env node
// tls_node.js — Node's `ws` and https against `pushwire serve` on a TLS
// listener, trusting the test's CA through the `ca:` option.
//
//   node tls_node.js SCENARIO PORT CA_FILE [HOST]
//   wss       a message sent by one socket reaches another on the channel, a POST over
//             https reaches both, 1 MiB binary both ways, close 1000
//   untrusted without `ca:` the handshake is refused (self-signed chain)
//
// Prints `ok SCENARIO: what was checked` and exits 0, or `FAIL …` and exits 1.
'use strict';
const fs = require('fs');
const https = require('https');
const WebSocket = require('ws');

const WAIT_MS = 20000;
const [scenario, portArg, caFile, hostArg] = process.argv.slice(2);
const PORT = Number(portArg);
const HOST = hostArg || 'localhost';
const ca = fs.readFileSync(caFile);
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

function publish(channel, body) {
  return new Promise((ok, ko) => {
    const req = https.request({ host: HOST, port: PORT, method: 'POST', path: `/pub/${channel}`, ca, timeout: 5000 }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => (res.statusCode === 200 ? ok(JSON.parse(b)) : ko(new Error(`POST ${res.statusCode} ${b}`))));
    });
    req.on('error', ko);
    req.end(body);
  });
}

function open(path, opts) {
  return new Promise((ok, ko) => {
    const ws = new WebSocket(`wss://${HOST}:${PORT}${path}`, { handshakeTimeout: WAIT_MS, ...opts });
    ws.got = [];
    ws.on('message', (data, isBinary) => ws.got.push({ binary: isBinary, data: Buffer.from(data) }));
    ws.on('close', (code) => { ws.closedWith = code; });
    ws.once('open', () => ok(ws));
    ws.once('error', ko);
  });
}

async function wss() {
  const ch = `tls-${uniq}`;
  const a = await open(`/ws/${ch}`, { ca });
  const b = await open(`/ws/${ch}`, { ca });
  a.send('from a');
  await until(() => b.got.length >= 1 && a.got.length >= 1, "'from a' on both sockets");
  check(b.got[0].data.toString() === 'from a' && !b.got[0].binary, `b got ${b.got[0].data}`);
  await publish(ch, 'from https');
  await until(() => b.got.length >= 2 && a.got.length >= 2, 'the POST on both sockets');
  check(a.got[1].data.toString() === 'from https', `a got ${a.got[1].data}`);
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  b.send(big);
  await until(() => a.got.length >= 3 && b.got.length >= 3, 'the 1 MiB message on both sockets');
  check(a.got[2].binary && a.got[2].data.equals(big), '1 MiB binary differs on a');
  check(b.got[2].data.equals(big), '1 MiB binary differs on b (its own message)');
  a.close(1000);
  b.close(1000);
  await until(() => a.closedWith && b.closedWith, 'the closes');
  check(a.closedWith === 1000, `a closed with ${a.closedWith}`);
  console.log('ok wss: ws with ca: text between two sockets, a POST over https, 1 MiB binary, close 1000');
}

async function untrusted() {
  try {
    const ws = await open('/ws/x', {});
    ws.terminate();
  } catch (e) {
    check(/self[- ]signed|unable to (get|verify)/i.test(e.message), `refused, but for: ${e.message}`);
    console.log(`ok untrusted: without ca: the handshake is refused (${e.message})`);
    return;
  }
  fail('connected without the CA');
}

const SCENARIOS = { wss, untrusted };
(async () => {
  if (!SCENARIOS[scenario] || !PORT) {
    console.error(`usage: node tls_node.js ${Object.keys(SCENARIOS).join('|')} PORT CA_FILE [HOST]`);
    process.exit(2);
  }
  try {
    await SCENARIOS[scenario]();
    process.exit(0);
  } catch (e) {
    console.log(`FAIL ${scenario}: ${e.check ? e.message : e.stack}`);
    process.exit(1);
  }
})();
