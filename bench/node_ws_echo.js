#!/usr/bin/env node
// node_ws_echo.js — the Node `ws` echo server: the reference peer for the
// benchmarks and the yardstick that validates tests/interop/conformance.py.
// Usage: node bench/node_ws_echo.js [--port N] [--deflate] [--max-payload BYTES]
// Binds 127.0.0.1 (port 0 = a free one) and prints `listening on 127.0.0.1:PORT`
// on stderr, the same line shape as `pushwire serve`.
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '../tests/interop/node_modules/ws'));

const args = process.argv.slice(2);
let port = 0, deflate = false, maxPayload = 16 * 1024 * 1024;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--deflate') deflate = true;
  else if (args[i] === '--max-payload') maxPayload = Number(args[++i]);
  else { console.error(`node_ws_echo: unknown argument '${args[i]}'`); process.exit(2); }
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload,
                                  perMessageDeflate: deflate });
wss.on('listening', () => {
  console.error(`node_ws_echo: listening on 127.0.0.1:${wss.address().port}`);
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
