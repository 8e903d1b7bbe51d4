#!/usr/bin/env node
// replay_browser.js — Chromium (Debian's, headless, driven by playwright-core;
// no browser is downloaded) as the EventSource client of a running
// `pushwire replay FILE --serve`.
//
//   node replay_browser.js PORT CHANNEL N [EVENT...]
//
// Opens a page on the server's origin, subscribes with
// `new EventSource('/sse/CHANNEL')` (listening to `message` and to each
// EVENT name), waits for N events (bounded by WAIT_MS) and prints one JSON
// line per event: {"type":…, "id":…, "data":…}.  Exit 1 on a page error or
// when fewer than N arrive.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const WAIT_MS = 20000;
const [portArg, channel, nArg, ...events] = process.argv.slice(2);
const HTTP = `http://127.0.0.1:${Number(portArg)}`;
const N = Number(nArg);

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  let ctx, rc = 1;
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      timeout: 60000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run'],
    });
    const p = await ctx.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${HTTP}/healthz`, { timeout: WAIT_MS });
    const got = await p.evaluate(({ channel, N, events, WAIT_MS }) => new Promise((ok) => {
      const out = [];
      const es = new EventSource(`/sse/${encodeURIComponent(channel)}`);
      const done = () => { es.close(); ok(out); };
      const on = (e) => {
        out.push({ type: e.type, id: e.lastEventId, data: e.data });
        if (out.length >= N) done();
      };
      es.addEventListener('message', on);
      for (const ev of events) es.addEventListener(ev, on);
      setTimeout(done, WAIT_MS);
    }), { channel, N, events, WAIT_MS });
    for (const m of got) console.log(JSON.stringify(m));
    if (errors.length) console.error(`page errors: ${errors.join(' | ')}`);
    else if (got.length < N) console.error(`only ${got.length} of ${N} events arrived in ${WAIT_MS / 1000}s`);
    else rc = 0;
  } catch (e) {
    console.error(`replay_browser.js: ${e.stack || e}`);
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
