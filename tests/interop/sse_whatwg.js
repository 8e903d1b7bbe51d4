#!/usr/bin/env node
// sse_whatwg.js — Chromium's EventSource (Debian's /usr/bin/chromium,
// headless, driven by playwright-core) against tests/interop/sse_whatwg.py:
// the reference that `pushwire connect` is compared with, event by event.
//
//   node sse_whatwg.js PORT RUN SCENARIO...
//
// For each scenario: new EventSource(`/s/SCENARIO/start?run=RUN`) on a page of
// the server's origin, every event recorded ({type, id: lastEventId, data};
// data over 1000 characters as {len, sha256} of its UTF-8), until the
// EventSource is CLOSED (every scenario ends with a 204 or a failed
// connection).  Prints one JSON line per scenario:
//   {"scenario","events":[...],"opens":N,"closed":true|false}
// The requests the browser made are in the server's /log?run=RUN.
// Every wait is bounded (WAIT_MS per scenario); the caller bounds the run.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const WAIT_MS = 20000;
const [portArg, run, ...names] = process.argv.slice(2);
const HTTP = `http://127.0.0.1:${Number(portArg)}`;
// events whose type is not "message" (EventSource only reports the types it listens to)
const TYPES = ['message', 'tick'];

async function scenario(p, name) {
  return p.evaluate(async ({ name, run, TYPES, WAIT_MS }) => {
    const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
    const events = [];
    let opens = 0;
    const es = new EventSource(`/s/${name}/start?run=${run}`);
    const pending = [];
    for (const t of TYPES) {
      es.addEventListener(t, (e) => {
        const ev = { type: e.type, id: e.lastEventId, data: e.data };
        events.push(ev);
        if (e.data.length > 1000) {
          const bytes = new TextEncoder().encode(e.data);
          ev.data = { len: bytes.length };
          pending.push(crypto.subtle.digest('SHA-256', bytes).then((d) => { ev.data.sha256 = hex(d); }));
        }
      });
    }
    es.onopen = () => { opens++; };
    const end = Date.now() + WAIT_MS;
    while (es.readyState !== EventSource.CLOSED && Date.now() < end) await new Promise((ok) => setTimeout(ok, 20));
    const closed = es.readyState === EventSource.CLOSED;
    es.close();
    await Promise.all(pending);
    return { scenario: name, events, opens, closed };
  }, { name, run, TYPES, WAIT_MS });
}

(async () => {
  if (!portArg || !run || !names.length) {
    console.error('usage: node sse_whatwg.js PORT RUN SCENARIO...');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
  let rc = 0;
  try {
    const p = await ctx.newPage();
    await p.goto(`${HTTP}/blank`, { timeout: WAIT_MS });
    for (const n of names) {
      try {
        console.log(JSON.stringify(await scenario(p, n)));
      } catch (e) {
        console.log(JSON.stringify({ scenario: n, error: String(e.stack || e) }));
        rc = 1;
      }
    }
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
