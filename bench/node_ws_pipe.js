#!/usr/bin/env node
// node_ws_pipe.js — the wscat-style reference client for bench_connect.sh:
// stdin lines → text messages over Node `ws`, every message received → a
// line on stdout; exits after N messages have come back.
// Usage: node bench/node_ws_pipe.js URL N
'use strict';
const path = require('path');
const readline = require('readline');
const WebSocket = require(path.join(__dirname, '../tests/interop/node_modules/ws'));

const [url, nstr] = process.argv.slice(2);
const want = Number(nstr);
let got = 0;
const out = [];
const ws = new WebSocket(url, { perMessageDeflate: false });
ws.on('open', () => {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => ws.send(line));
});
ws.on('message', (data) => {
  out.push(data.toString());
  got++;
  if (out.length >= 4096 || got === want) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
  if (got === want) ws.close(1000);
});
// exit once stdout has drained (process.exit would drop pending writes)
ws.on('close', () => process.stdout.write('', () => process.exit(0)));
ws.on('error', (e) => { console.error('node_ws_pipe: ' + e.message); process.exit(1); });
